/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  test_service.c — services, the entrypoint (failure, timeout and signal
    paths), the thread pool and the producer queue. */
#include "mu_test.h"
#include "mutil.h"
#include <czmq.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>

static void
sleep_ms(int ms)
{
    struct timespec ts = { ms / 1000, (long) (ms % 1000) * 1000000 };
    while (nanosleep(&ts, &ts) < 0) {
    }
}

/*  Waits up to 5 s (scaled) for *counter to reach want, checking it every
    few milliseconds. */
static bool
wait_for_count(atomic_int *counter, int want)
{
    int64_t deadline = mu_test_now_ms() + mu_test_ms(5000);
    while (atomic_load(counter) < want && mu_test_now_ms() < deadline)
        sleep_ms(5);
    return atomic_load(counter) >= want;
}

static bool
fd_readable(int fd, int timeout_ms)
{
    struct pollfd item = { .fd = fd, .events = POLLIN };
    return poll(&item, 1, timeout_ms) == 1 && (item.revents & POLLIN);
}

/* ------------------------------------------------------------------ */
/* An event log shared by the fake services and the hooks              */

static pthread_mutex_t events_mutex = PTHREAD_MUTEX_INITIALIZER;
static char events[1024];

static void
event(const char *what, const char *name)
{
    pthread_mutex_lock(&events_mutex);
    size_t len = strlen(events);
    snprintf(events + len, sizeof events - len, "%s%s:%s", len ? " " : "", what, name);
    pthread_mutex_unlock(&events_mutex);
}

static void
events_reset(void)
{
    pthread_mutex_lock(&events_mutex);
    events[0] = 0;
    pthread_mutex_unlock(&events_mutex);
}

/* ------------------------------------------------------------------ */
/* A configurable fake service                                          */

static atomic_int s_starts;     /* fake start() calls since make_entrypoint */

typedef struct {
    const char *name;
    int start_rc;           /* start() returns this when non-zero */
    int wait_starts;        /* > 0: become ready (or fail) only once this many
                               services have started */
    int ready_after_ms;     /* 0: ready inside start(); < 0: never */
    int fail_code;          /* fail instead of becoming ready */
    const int *fail_gate;   /* non-NULL: fail with MU_EIO after ready, once a
                               byte arrives on *fail_gate */
    const int *stop_gate;   /* non-NULL: stop() returns only once a byte
                               arrives on *stop_gate */
    atomic_bool stop_done;  /* stop() returned */
    int stop_rc;
    int stop_timeout_seen;
    pthread_t thread;
    bool has_thread;
    mu_service_t *svc;
} fake_t;

static void *
fake_thread(void *arg)
{
    fake_t *f = arg;
    if (f->wait_starts > 0 && !wait_for_count(&s_starts, f->wait_starts)) {
        mu_service_fail(f->svc, MU_ETIMEDOUT, "the other services never started");
        return NULL;
    }
    sleep_ms(f->ready_after_ms);
    if (f->fail_code) {
        mu_service_fail(f->svc, f->fail_code, "disk gone");
        return NULL;
    }
    mu_service_ready(f->svc);
    if (f->fail_gate) {
        mu_test_wait_byte(*f->fail_gate, 10000);
        mu_service_fail(f->svc, MU_EIO, "lost the database");
    }
    return NULL;
}

static bool
fake_needs_thread(const fake_t *f)
{
    return f->ready_after_ms != 0 || f->fail_code || f->fail_gate || f->wait_starts;
}

static int
fake_start(mu_service_t *svc, void *arg)
{
    fake_t *f = arg;
    event("start", f->name);
    atomic_fetch_add(&s_starts, 1);
    if (f->start_rc)
        return f->start_rc;
    f->svc = svc;
    if (!fake_needs_thread(f)) {
        mu_service_ready(svc);
        return 0;
    }
    if (f->ready_after_ms < 0)
        return 0;
    f->has_thread = pthread_create(&f->thread, NULL, fake_thread, f) == 0;
    return f->has_thread ? 0 : MU_ENOMEM;
}

static int
fake_stop(mu_service_t *svc, void *arg, int timeout_ms)
{
    fake_t *f = arg;
    (void) svc;
    event("stop", f->name);
    f->stop_timeout_seen = timeout_ms;
    if (f->has_thread)
        pthread_join(f->thread, NULL);
    f->has_thread = false;
    if (f->stop_gate)
        mu_test_wait_byte(*f->stop_gate, 10000);
    atomic_store(&f->stop_done, true);
    return f->stop_rc;
}

static const mu_service_ops_t fake_ops = { fake_start, fake_stop };

static int s_ready_fd = -1;     /* post_start writes 'R' here when >= 0 */
static int s_hook_rc[4];        /* what each hook returns */

static int
log_hook(mu_entrypoint_t *ep, void *arg)
{
    (void) ep;
    const char *name = arg;
    event("hook", name);
    if (!strcmp(name, "post_start") && s_ready_fd >= 0 && write(s_ready_fd, "R", 1) != 1)
        return MU_EIO;
    if (!strcmp(name, "pre_start"))
        return s_hook_rc[MU_HOOK_PRE_START];
    if (!strcmp(name, "post_start"))
        return s_hook_rc[MU_HOOK_POST_START];
    return 0;
}

/*  post_start hook that stops the entrypoint at once (services ran). */
static int
stop_hook(mu_entrypoint_t *ep, void *arg)
{
    (void) arg;
    event("hook", "post_start");
    mu_entrypoint_stop(ep);
    return 0;
}

static mu_entrypoint_t *
make_entrypoint(fake_t *fakes, size_t n, bool stop_when_ready)
{
    events_reset();
    atomic_store(&s_starts, 0);
    memset(s_hook_rc, 0, sizeof s_hook_rc);
    mu_entrypoint_t *ep = mu_entrypoint_new();
    if (!ep)
        return NULL;
    mu_entrypoint_set_logging(ep, "test_service", MU_LOG_QUIET);
    for (size_t i = 0; i < n; i++)
        if (!mu_entrypoint_add(ep, fakes[i].name, &fake_ops, &fakes[i]))
            mu_entrypoint_destroy(&ep);
    if (ep) {
        mu_entrypoint_set_hook(ep, MU_HOOK_PRE_START, log_hook, "pre_start");
        mu_entrypoint_set_hook(ep, MU_HOOK_POST_START,
                               stop_when_ready ? stop_hook : log_hook, "post_start");
        mu_entrypoint_set_hook(ep, MU_HOOK_PRE_STOP, log_hook, "pre_stop");
        mu_entrypoint_set_hook(ep, MU_HOOK_POST_STOP, log_hook, "post_stop");
    }
    return ep;
}

/* ------------------------------------------------------------------ */
/* A service running a zloop: the "forever loop" under an entrypoint    */

typedef struct {
    int wake[2];            /* stop() writes here; the loop watches [0] */
    pthread_t thread;
    mu_service_t *svc;
    int ticks;
    int loop_rc;
} loop_svc_t;

/*  Re-armed after every tick (returns 0): the forever loop. */
static int
on_tick(zloop_t *loop, int timer_id, void *arg)
{
    (void) loop, (void) timer_id;
    loop_svc_t *ls = arg;
    if (ls->ticks++ == 0)
        mu_service_ready(ls->svc);
    return 0;
}

static int
on_stop_byte(zloop_t *loop, zmq_pollitem_t *item, void *arg)
{
    (void) loop, (void) item, (void) arg;
    return -1;
}

static void *
loop_main(void *arg)
{
    loop_svc_t *ls = arg;
    zloop_t *loop = zloop_new();
    if (!loop) {
        mu_service_fail(ls->svc, MU_ENOMEM, "zloop_new");
        return NULL;
    }
    zmq_pollitem_t item = { NULL, ls->wake[0], ZMQ_POLLIN, 0 };
    zloop_poller(loop, &item, on_stop_byte, ls);
    zloop_timer(loop, 10, 0, on_tick, ls);
    ls->loop_rc = zloop_start(loop);    /* -1: ended by our handler */
    zloop_destroy(&loop);
    return NULL;
}

static int
loop_start(mu_service_t *svc, void *arg)
{
    loop_svc_t *ls = arg;
    event("start", "loop");
    ls->svc = svc;
    if (pipe(ls->wake) < 0)
        return -errno;
    return pthread_create(&ls->thread, NULL, loop_main, ls) == 0 ? 0 : MU_ENOMEM;
}

static int
loop_stop(mu_service_t *svc, void *arg, int timeout_ms)
{
    (void) svc, (void) timeout_ms;
    loop_svc_t *ls = arg;
    if (write(ls->wake[1], "x", 1) != 1)
        return MU_EIO;
    pthread_join(ls->thread, NULL);
    close(ls->wake[0]);
    close(ls->wake[1]);
    /* the loop ran until told to stop, not ended by czmq's interrupt flag */
    event(ls->loop_rc == -1 && ls->ticks > 0 ? "stop" : "interrupted", "loop");
    return 0;
}

static const mu_service_ops_t loop_ops = { loop_start, loop_stop };

/* ------------------------------------------------------------------ */
/* Signal paths: an entrypoint in a forked child                        */

/*  Child: runs three services until a signal; writes its event log to
    out_fd and exits with the signal that stopped it (or 100 + error). */
static void
signal_child(int ready_fd, int out_fd)
{
    fake_t fakes[3] = { { .name = "a" }, { .name = "b", .ready_after_ms = 50 },
                        { .name = "c" } };
    s_ready_fd = ready_fd;
    loop_svc_t ls = { .loop_rc = 0 };
    mu_entrypoint_t *ep = make_entrypoint(fakes, 3, false);
    if (ep && !mu_entrypoint_add(ep, "loop", &loop_ops, &ls))
        mu_entrypoint_destroy(&ep);
    int rc = ep ? mu_entrypoint_run(ep) : MU_ENOMEM;
    int sig = ep ? mu_entrypoint_signal(ep) : 0;
    mu_entrypoint_destroy(&ep);
    size_t len = strlen(events);
    int status = rc == 0 ? sig : 100;
    if (zsys_interrupted)
        status = 102;       /* the entrypoint's handler leaves czmq's flag alone */
    if (write(out_fd, events, len) != (ssize_t) len)
        status = 101;
    zsys_shutdown();
    _exit(status);
}

/*  Forks a signal_child, sends sig once it is ready, checks its exit
    status and the order of its hooks and stops. */
static void
check_signal_path(int sig)
{
    int ready[2], out[2];
    MU_CHECK(pipe(ready) == 0 && pipe(out) == 0);
    pid_t pid = fork();
    MU_CHECK(pid >= 0);
    if (pid == 0) {
        close(ready[0]);
        close(out[0]);
        signal_child(ready[1], out[1]);
    }
    close(ready[1]);
    close(out[1]);
    char byte = 0;
    MU_CHECK_EQ(read(ready[0], &byte, 1), 1);
    MU_CHECK_EQ(byte, 'R');
    MU_CHECK_EQ(kill(pid, sig), 0);
    char log[1024] = "";
    size_t len = 0;
    ssize_t n;
    while ((n = read(out[0], log + len, sizeof log - 1 - len)) > 0)
        len += (size_t) n;
    log[len] = 0;
    int status = 0;
    MU_CHECK_EQ(waitpid(pid, &status, 0), pid);
    close(ready[0]);
    close(out[0]);
    MU_CHECK(WIFEXITED(status));
    MU_CHECK_EQ(WEXITSTATUS(status), sig);
    if (strcmp(log, "hook:pre_start start:a start:b start:c start:loop hook:post_start "
                    "hook:pre_stop stop:loop stop:c stop:b stop:a hook:post_stop")) {
        printf("# child log: %s\n", log);
        MU_CHECK(!"stop order");
    }
}

static void
test_sigint_stops_in_reverse(void)
{
    check_signal_path(SIGINT);
}

static void
test_sigterm_stops_in_reverse(void)
{
    check_signal_path(SIGTERM);
}

/* ------------------------------------------------------------------ */
/* Entrypoint, in process                                              */

static void
test_previous_handler_restored(void)
{
    zsys_init();
    struct sigaction before_int, before_term, after_int, after_term;
    sigaction(SIGINT, NULL, &before_int);
    sigaction(SIGTERM, NULL, &before_term);
    fake_t fakes[1] = { { .name = "a" } };
    mu_entrypoint_t *ep = make_entrypoint(fakes, 1, true);
    MU_CHECK(ep);
    MU_CHECK_EQ(mu_entrypoint_run(ep), 0);
    MU_CHECK_EQ(mu_entrypoint_signal(ep), 0);
    MU_CHECK_EQ(strcmp(mu_entrypoint_error(ep), ""), 0);
    mu_entrypoint_destroy(&ep);
    MU_CHECK(ep == NULL);
    sigaction(SIGINT, NULL, &after_int);
    sigaction(SIGTERM, NULL, &after_term);
    MU_CHECK(before_int.sa_handler == after_int.sa_handler);
    MU_CHECK(before_term.sa_handler == after_term.sa_handler);
}

/*  Each service becomes ready only once all three have started: an
    entrypoint that waited for one to be ready before starting the next
    would never get there. */
static void
test_ready_concurrently(void)
{
    fake_t fakes[3] = { { .name = "a", .wait_starts = 3 },
                        { .name = "b", .wait_starts = 3 },
                        { .name = "c", .wait_starts = 3 } };
    mu_entrypoint_t *ep = make_entrypoint(fakes, 3, true);
    MU_CHECK(ep);
    MU_CHECK_EQ(mu_entrypoint_run(ep), 0);
    mu_entrypoint_destroy(&ep);
    MU_CHECK_EQ(strcmp(events, "hook:pre_start start:a start:b start:c hook:post_start "
                               "hook:pre_stop stop:c stop:b stop:a hook:post_stop"), 0);
}

static void
test_async_failure_stops_started(void)
{
    /* db fails once all four have started, so that d is started too */
    fake_t fakes[4] = { { .name = "a" }, { .name = "b", .ready_after_ms = 20 },
                        { .name = "db", .wait_starts = 4, .ready_after_ms = 50,
                          .fail_code = MU_EIO },
                        { .name = "d", .ready_after_ms = -1 } };
    mu_entrypoint_t *ep = make_entrypoint(fakes, 4, true);
    MU_CHECK(ep);
    MU_CHECK_EQ(mu_entrypoint_run(ep), MU_EIO);
    const char *error = mu_entrypoint_error(ep);
    MU_CHECK(strstr(error, "'db'"));
    MU_CHECK(strstr(error, "disk gone"));
    MU_CHECK(strstr(error, "MU_EIO"));
    mu_entrypoint_destroy(&ep);
    MU_CHECK_EQ(strcmp(events, "hook:pre_start start:a start:b start:db start:d "
                               "hook:pre_stop stop:d stop:db stop:b stop:a hook:post_stop"), 0);
}

static void
test_start_error_stops_earlier_ones(void)
{
    fake_t fakes[4] = { { .name = "a" }, { .name = "b", .ready_after_ms = 30 },
                        { .name = "web", .start_rc = MU_EACCES }, { .name = "d" } };
    mu_entrypoint_t *ep = make_entrypoint(fakes, 4, true);
    MU_CHECK(ep);
    MU_CHECK_EQ(mu_entrypoint_run(ep), MU_EACCES);
    MU_CHECK(strstr(mu_entrypoint_error(ep), "service 'web' failed to start"));
    MU_CHECK(strstr(mu_entrypoint_error(ep), "MU_EACCES"));
    mu_entrypoint_destroy(&ep);
    /* d is never started, web (start failed) is not stopped */
    MU_CHECK_EQ(strcmp(events, "hook:pre_start start:a start:b start:web "
                               "hook:pre_stop stop:b stop:a hook:post_stop"), 0);
}

static void
test_start_timeout(void)
{
    fake_t fakes[2] = { { .name = "a" }, { .name = "slow", .ready_after_ms = -1 } };
    mu_entrypoint_t *ep = make_entrypoint(fakes, 2, true);
    MU_CHECK(ep);
    MU_CHECK_EQ(mu_entrypoint_set_start_timeout(ep, 200), 0);
    int64_t t0 = mu_test_now_ms();
    MU_CHECK_EQ(mu_entrypoint_run(ep), MU_ETIMEDOUT);
    int64_t elapsed = mu_test_now_ms() - t0;
    MU_CHECK(strstr(mu_entrypoint_error(ep), "service 'slow' not ready within the start timeout"));
    mu_entrypoint_destroy(&ep);
    MU_CHECK(elapsed >= 200 && elapsed < mu_test_ms(5000));
    MU_CHECK_EQ(strcmp(events, "hook:pre_start start:a start:slow "
                               "hook:pre_stop stop:slow stop:a hook:post_stop"), 0);
}

/*  sticky's stop() returns only when released: run() gives up on it after
    the shutdown timeout, and destroy waits for it. */
static void
test_stop_timeout_reported(void)
{
    int release[2];
    MU_CHECK_EQ(pipe(release), 0);
    fake_t fakes[3] = { { .name = "a" }, { .name = "sticky", .stop_gate = &release[0] },
                        { .name = "c" } };
    mu_entrypoint_t *ep = make_entrypoint(fakes, 3, true);
    MU_CHECK(ep);
    MU_CHECK_EQ(mu_entrypoint_set_shutdown_timeout(ep, 150), 0);
    MU_CHECK_EQ(mu_entrypoint_run(ep), MU_ETIMEDOUT);
    MU_CHECK(strstr(mu_entrypoint_error(ep),
                    "service 'sticky' did not stop within the shutdown timeout"));
    MU_CHECK(!atomic_load(&fakes[1].stop_done));   /* run() did not wait for it */
    mu_test_signal_byte(release[1], 'x');
    mu_entrypoint_destroy(&ep);
    MU_CHECK(atomic_load(&fakes[1].stop_done));    /* destroy did */
    close(release[0]);
    close(release[1]);
    /* a is still stopped, told not to wait */
    MU_CHECK_EQ(strcmp(events, "hook:pre_start start:a start:sticky start:c hook:post_start "
                               "hook:pre_stop stop:c stop:sticky stop:a hook:post_stop"), 0);
    MU_CHECK(fakes[2].stop_timeout_seen > 0 && fakes[2].stop_timeout_seen <= 150);
    MU_CHECK_EQ(fakes[0].stop_timeout_seen, 0);
}

static void
test_stop_errors(void)
{
    /* stop() saying MU_ETIMEDOUT itself, and stop() failing otherwise */
    fake_t fakes[2] = { { .name = "a", .stop_rc = MU_EIO },
                        { .name = "b", .stop_rc = MU_ETIMEDOUT } };
    mu_entrypoint_t *ep = make_entrypoint(fakes, 2, true);
    MU_CHECK(ep);
    MU_CHECK_EQ(mu_entrypoint_run(ep), MU_ETIMEDOUT);
    MU_CHECK(strstr(mu_entrypoint_error(ep), "service 'b' did not stop"));
    mu_entrypoint_destroy(&ep);

    fake_t fakes2[1] = { { .name = "a", .stop_rc = MU_EIO } };
    ep = make_entrypoint(fakes2, 1, true);
    MU_CHECK(ep);
    MU_CHECK_EQ(mu_entrypoint_run(ep), MU_EIO);
    MU_CHECK(strstr(mu_entrypoint_error(ep), "service 'a' failed to stop"));
    mu_entrypoint_destroy(&ep);
}

/*  db fails once the post_start hook has run (the hook writes a byte to
    s_ready_fd). */
static void
test_failure_after_ready(void)
{
    int post_start[2];
    MU_CHECK_EQ(pipe(post_start), 0);
    fake_t fakes[2] = { { .name = "a" }, { .name = "db", .fail_gate = &post_start[0] } };
    mu_entrypoint_t *ep = make_entrypoint(fakes, 2, false);
    MU_CHECK(ep);
    s_ready_fd = post_start[1];
    int rc = mu_entrypoint_run(ep);
    s_ready_fd = -1;
    close(post_start[0]);
    close(post_start[1]);
    MU_CHECK_EQ(rc, MU_EIO);
    MU_CHECK(strstr(mu_entrypoint_error(ep), "service 'db' failed: lost the database"));
    mu_entrypoint_destroy(&ep);
    MU_CHECK_EQ(strcmp(events, "hook:pre_start start:a start:db hook:post_start "
                               "hook:pre_stop stop:db stop:a hook:post_stop"), 0);
}

static void
test_hook_errors(void)
{
    fake_t fakes[2] = { { .name = "a" }, { .name = "b" } };
    mu_entrypoint_t *ep = make_entrypoint(fakes, 2, false);
    MU_CHECK(ep);
    s_hook_rc[MU_HOOK_PRE_START] = MU_EACCES;
    MU_CHECK_EQ(mu_entrypoint_run(ep), MU_EACCES);
    MU_CHECK(strstr(mu_entrypoint_error(ep), "pre_start hook failed"));
    mu_entrypoint_destroy(&ep);
    MU_CHECK_EQ(strcmp(events, "hook:pre_start"), 0);

    ep = make_entrypoint(fakes, 2, false);
    MU_CHECK(ep);
    s_hook_rc[MU_HOOK_POST_START] = MU_ENOSPC;
    MU_CHECK_EQ(mu_entrypoint_run(ep), MU_ENOSPC);
    MU_CHECK(strstr(mu_entrypoint_error(ep), "post_start hook failed"));
    mu_entrypoint_destroy(&ep);
    MU_CHECK_EQ(strcmp(events, "hook:pre_start start:a start:b hook:post_start "
                               "hook:pre_stop stop:b stop:a hook:post_stop"), 0);
}

typedef struct {
    mu_entrypoint_t *ep;
    int started_fd;         /* the post_start hook writes a byte here */
} stopper_t;

/*  Stops the entrypoint from another thread once its services run. */
static void *
stop_when_started(void *arg)
{
    stopper_t *st = arg;
    mu_test_wait_byte(st->started_fd, 10000);
    mu_entrypoint_stop(st->ep);
    return NULL;
}

static void
test_stop_from_thread_and_logging(void)
{
    fake_t fakes[2] = { { .name = "a" }, { .name = "b" } };
    mu_entrypoint_t *ep = make_entrypoint(fakes, 2, false);
    MU_CHECK(ep);
    MU_CHECK_EQ(mu_entrypoint_set_logging(ep, "svc-test", MU_LOG_DEBUG), 0);
    int started[2];
    MU_CHECK_EQ(pipe(started), 0);
    stopper_t st = { ep, started[0] };
    pthread_t thread;
    MU_CHECK_EQ(pthread_create(&thread, NULL, stop_when_started, &st), 0);
    s_ready_fd = started[1];
    int rc = mu_entrypoint_run(ep);
    s_ready_fd = -1;
    pthread_join(thread, NULL);
    close(started[0]);
    close(started[1]);
    MU_CHECK_EQ(rc, 0);
    MU_CHECK_EQ(mu_entrypoint_signal(ep), 0);
    mu_entrypoint_destroy(&ep);
    MU_CHECK_EQ(strcmp(events, "hook:pre_start start:a start:b hook:post_start "
                               "hook:pre_stop stop:b stop:a hook:post_stop"), 0);
}

static void *
run_thread(void *arg)
{
    return (void *) (intptr_t) mu_entrypoint_run(arg);
}

static int
noop_start(mu_service_t *svc, void *arg)
{
    atomic_int *started = arg;
    mu_service_ready(svc);
    atomic_store(started, 1);
    return 0;
}

static int
noop_stop(mu_service_t *svc, void *arg, int timeout_ms)
{
    (void) svc, (void) arg, (void) timeout_ms;
    return 0;
}

static void
test_entrypoint_invalid(void)
{
    static const mu_service_ops_t no_stop = { noop_start, NULL };
    static const mu_service_ops_t noop_ops = { noop_start, noop_stop };
    mu_entrypoint_t *ep = mu_entrypoint_new();
    MU_CHECK(ep);
    mu_entrypoint_set_logging(ep, NULL, MU_LOG_QUIET);
    errno = 0;
    MU_CHECK(mu_entrypoint_add(ep, NULL, &noop_ops, NULL) == NULL && errno == EINVAL);
    MU_CHECK(mu_entrypoint_add(ep, "", &noop_ops, NULL) == NULL && errno == EINVAL);
    MU_CHECK(mu_entrypoint_add(ep, "x", &no_stop, NULL) == NULL && errno == EINVAL);
    MU_CHECK(mu_entrypoint_add(ep, "x", NULL, NULL) == NULL && errno == EINVAL);
    MU_CHECK_EQ(mu_entrypoint_set_hook(ep, (mu_hook_t) 9, log_hook, NULL), MU_EINVAL);
    MU_CHECK_EQ(mu_entrypoint_set_start_timeout(ep, -1), MU_EINVAL);
    MU_CHECK_EQ(mu_entrypoint_set_shutdown_timeout(ep, -5), MU_EINVAL);
    MU_CHECK_EQ(mu_entrypoint_set_logging(ep, "x", (mu_log_level_t) 42), MU_EINVAL);

    atomic_int started = 0;
    mu_service_t *svc = mu_entrypoint_add(ep, "n", &noop_ops, &started);
    MU_CHECK(svc);
    MU_CHECK_EQ(strcmp(mu_service_name(svc), "n"), 0);
    MU_CHECK(mu_service_arg(svc) == &started);

    /* a second entrypoint may not run while one runs */
    pthread_t thread;
    MU_CHECK_EQ(pthread_create(&thread, NULL, run_thread, ep), 0);
    MU_CHECK(wait_for_count(&started, 1));
    mu_entrypoint_t *other = mu_entrypoint_new();
    MU_CHECK(other);
    MU_CHECK_EQ(mu_entrypoint_run(other), MU_EINVAL);
    MU_CHECK(strstr(mu_entrypoint_error(other), "another entrypoint is running"));
    mu_entrypoint_destroy(&other);
    mu_entrypoint_stop(ep);
    void *ret = NULL;
    pthread_join(thread, &ret);
    MU_CHECK_EQ((intptr_t) ret, 0);

    /* run only once; no services added afterwards */
    MU_CHECK_EQ(mu_entrypoint_run(ep), MU_EINVAL);
    MU_CHECK(mu_entrypoint_add(ep, "late", &noop_ops, NULL) == NULL && errno == EINVAL);
    mu_entrypoint_destroy(&ep);
    mu_entrypoint_destroy(&ep);     /* NULL-safe */
}

static void
test_czmq_interrupt_before_run(void)
{
    fake_t fakes[1] = { { .name = "a" } };
    mu_entrypoint_t *ep = make_entrypoint(fakes, 1, false);
    MU_CHECK(ep);
    zsys_interrupted = 1;
    int rc = mu_entrypoint_run(ep);
    zsys_interrupted = 0;
    MU_CHECK_EQ(rc, 0);
    MU_CHECK_EQ(mu_entrypoint_signal(ep), 0);
    mu_entrypoint_destroy(&ep);
    MU_CHECK_EQ(strcmp(events, "hook:pre_start hook:pre_stop hook:post_stop"), 0);
}

static void
test_stop_before_run(void)
{
    fake_t fakes[1] = { { .name = "a" } };
    mu_entrypoint_t *ep = make_entrypoint(fakes, 1, false);
    MU_CHECK(ep);
    mu_entrypoint_stop(ep);
    MU_CHECK_EQ(mu_entrypoint_run(ep), 0);
    mu_entrypoint_destroy(&ep);
    MU_CHECK_EQ(strcmp(events, "hook:pre_start hook:pre_stop hook:post_stop"), 0);
}

/* ------------------------------------------------------------------ */
/* Thread pool                                                         */

static void *
square_job(void *arg)
{
    intptr_t x = (intptr_t) arg;
    return (void *) (x * x);
}

typedef struct {
    mu_pool_t *pool;
    int want, got;
    bool ok;
    intptr_t expected[64];   /* by job id */
} collect_t;

/*  The "forever loop": stays armed (returns 0) after each batch of results
    until all have arrived. */
static int
on_pool_ready(zloop_t *loop, zmq_pollitem_t *item, void *arg)
{
    (void) loop, (void) item;
    collect_t *c = arg;
    uint64_t id;
    void *result;
    while (mu_pool_result(c->pool, &id, &result, 0) == 0) {
        if (id < 1 || id > 64 || (intptr_t) result != c->expected[id])
            c->ok = false;
        c->got++;
    }
    return c->got == c->want ? -1 : 0;
}

static int
on_give_up(zloop_t *loop, int timer_id, void *arg)
{
    (void) loop, (void) timer_id, (void) arg;
    return -1;
}

static void
test_pool_results_via_poll(void)
{
    mu_pool_t *pool = mu_pool_new(3, 0);
    MU_CHECK(pool);
    MU_CHECK_EQ(mu_pool_size(pool), 3);
    MU_CHECK(!fd_readable(mu_pool_fd(pool), 0));
    collect_t c = { .pool = pool, .want = 40, .ok = true };
    for (intptr_t i = 0; i < c.want; i++) {
        uint64_t id = 0;
        MU_CHECK_EQ(mu_pool_submit(pool, square_job, (void *) i, -1, &id), 0);
        MU_CHECK_EQ(id, (uint64_t) i + 1);
        c.expected[id] = i * i;
    }
    zloop_t *loop = zloop_new();
    MU_CHECK(loop);
    zmq_pollitem_t item = { NULL, mu_pool_fd(pool), ZMQ_POLLIN, 0 };
    MU_CHECK_EQ(zloop_poller(loop, &item, on_pool_ready, &c), 0);
    zloop_timer(loop, mu_test_ms(10000), 1, on_give_up, NULL);
    zloop_start(loop);
    zloop_destroy(&loop);
    MU_CHECK_EQ(c.got, c.want);
    MU_CHECK(c.ok);
    MU_CHECK(!fd_readable(mu_pool_fd(pool), 0));
    uint64_t id;
    void *result;
    MU_CHECK_EQ(mu_pool_result(pool, &id, &result, 50), MU_EAGAIN);
    mu_pool_destroy(&pool);
    MU_CHECK(pool == NULL);
    mu_pool_destroy(&pool);
}

static void
test_pool_default_size(void)
{
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    int want = ncpu < 4 ? 4 : ncpu > 32 ? 32 : (int) ncpu;
    MU_CHECK_EQ(mu_pool_default_size(), want);
    mu_pool_t *pool = mu_pool_new(0, 0);
    MU_CHECK(pool);
    MU_CHECK_EQ(mu_pool_size(pool), want);
    mu_pool_destroy(&pool);
    errno = 0;
    MU_CHECK(mu_pool_new(-1, 0) == NULL && errno == EINVAL);
    MU_CHECK(mu_pool_new(1, -1) == NULL && errno == EINVAL);
    MU_CHECK(mu_pool_new(5000, 0) == NULL && errno == EINVAL);
}

static int gate[2] = { -1, -1 };
static atomic_int gated_started, gated_done;

/*  Blocks until a byte arrives on the gate pipe. */
static void *
gated_job(void *arg)
{
    atomic_fetch_add(&gated_started, 1);
    char byte;
    if (read(gate[0], &byte, 1) != 1)
        return NULL;
    atomic_fetch_add(&gated_done, 1);
    return arg;
}

static void
test_pool_backpressure(void)
{
    MU_CHECK(pipe(gate) == 0);
    atomic_store(&gated_started, 0);
    atomic_store(&gated_done, 0);
    mu_pool_t *pool = mu_pool_new(1, 2);
    MU_CHECK(pool);
    MU_CHECK_EQ(mu_pool_submit(pool, NULL, NULL, 0, NULL), MU_EINVAL);
    /* one running (blocked) + two queued fill it */
    MU_CHECK_EQ(mu_pool_submit(pool, gated_job, (void *) 1, -1, NULL), 0);
    MU_CHECK(wait_for_count(&gated_started, 1));
    MU_CHECK_EQ(mu_pool_submit(pool, gated_job, (void *) 2, -1, NULL), 0);
    MU_CHECK_EQ(mu_pool_submit(pool, gated_job, (void *) 3, -1, NULL), 0);
    int64_t t0 = mu_test_now_ms();
    MU_CHECK_EQ(mu_pool_submit(pool, gated_job, (void *) 4, 100, NULL), MU_EAGAIN);
    MU_CHECK(mu_test_now_ms() - t0 >= 100);
    MU_CHECK_EQ(mu_pool_submit(pool, gated_job, (void *) 4, 0, NULL), MU_EAGAIN);
    /* release one: room for one more */
    MU_CHECK_EQ(write(gate[1], "x", 1), 1);
    uint64_t id = 0;
    MU_CHECK_EQ(mu_pool_submit(pool, gated_job, (void *) 4, mu_test_ms(2000), &id), 0);
    MU_CHECK_EQ(id, 4);
    MU_CHECK_EQ(write(gate[1], "xxx", 3), 3);
    for (int i = 1; i <= 4; i++) {
        void *result = NULL;
        MU_CHECK(fd_readable(mu_pool_fd(pool), mu_test_ms(5000)));
        MU_CHECK_EQ(mu_pool_result(pool, &id, &result, 0), 0);
        MU_CHECK_EQ(id, (uint64_t) i);
        MU_CHECK_EQ((intptr_t) result, i);
    }
    mu_pool_destroy(&pool);
    close(gate[0]);
    close(gate[1]);
}

static atomic_int slow_started;

static void *
slow_job(void *arg)
{
    atomic_fetch_add(&slow_started, 1);
    sleep_ms(mu_test_ms(300));     /* a job that takes a while */
    atomic_store((atomic_int *) arg, 1);
    return NULL;
}

static void
test_pool_destroy_waits_for_running(void)
{
    atomic_int done = 0, never = 0;
    mu_pool_t *pool = mu_pool_new(1, 4);
    MU_CHECK(pool);
    atomic_store(&slow_started, 0);
    MU_CHECK_EQ(mu_pool_submit(pool, slow_job, &done, -1, NULL), 0);
    MU_CHECK(wait_for_count(&slow_started, 1));
    MU_CHECK_EQ(mu_pool_submit(pool, slow_job, &never, -1, NULL), 0);
    mu_pool_destroy(&pool);
    MU_CHECK_EQ(atomic_load(&done), 1);     /* the running job finished */
    MU_CHECK_EQ(atomic_load(&never), 0);    /* the waiting one was discarded */
}

/* ------------------------------------------------------------------ */
/* Producer queue                                                      */

typedef struct {
    int limit;              /* items to produce */
    int end_code;           /* returned at the end */
    atomic_int put_ok;      /* puts that returned 0 */
    atomic_int closed_seen; /* a put returned MU_ECLOSED */
} gen_t;

static int
counting_generator(mu_producer_t *p, void *arg)
{
    gen_t *g = arg;
    for (intptr_t i = 1; i <= g->limit; i++) {
        int *item = malloc(sizeof *item);
        if (!item)
            return MU_ENOMEM;
        *item = (int) i;
        if (mu_producer_put(p, item) == MU_ECLOSED) {
            free(item);
            atomic_store(&g->closed_seen, 1);
            return 0;
        }
        atomic_fetch_add(&g->put_ok, 1);
    }
    return g->end_code;
}

static void
test_producer_backpressure_and_end(void)
{
    gen_t g = { .limit = 20 };
    mu_producer_t *p = mu_producer_new(counting_generator, &g, 4, free);
    MU_CHECK(p);
    MU_CHECK(wait_for_count(&g.put_ok, 4));
    sleep_ms(200);          /* a window in which nothing may happen */
    /* the consumer has not read: the generator is blocked on item 5 */
    MU_CHECK_EQ(atomic_load(&g.put_ok), 4);
    MU_CHECK(fd_readable(mu_producer_fd(p), 0));
    for (int want = 1; want <= 20; want++) {
        void *item = NULL;
        MU_CHECK(fd_readable(mu_producer_fd(p), mu_test_ms(5000)));
        MU_CHECK_EQ(mu_producer_next(p, &item, mu_test_ms(5000)), 0);
        MU_CHECK_EQ(*(int *) item, want);
        free(item);
    }
    void *item = NULL;
    MU_CHECK_EQ(mu_producer_next(p, &item, mu_test_ms(5000)), MU_ECLOSED);
    MU_CHECK(fd_readable(mu_producer_fd(p), 0));   /* the end stays readable */
    MU_CHECK_EQ(mu_producer_next(p, &item, 0), MU_ECLOSED);
    mu_producer_destroy(&p);
    MU_CHECK(p == NULL);
    mu_producer_destroy(&p);
}

static void
test_producer_error_end(void)
{
    gen_t g = { .limit = 2, .end_code = MU_EIO };
    mu_producer_t *p = mu_producer_new(counting_generator, &g, 8, free);
    MU_CHECK(p);
    void *item = NULL;
    MU_CHECK_EQ(mu_producer_next(p, &item, mu_test_ms(5000)), 0);
    free(item);
    MU_CHECK_EQ(mu_producer_next(p, &item, mu_test_ms(5000)), 0);
    free(item);
    MU_CHECK_EQ(mu_producer_next(p, &item, mu_test_ms(5000)), MU_EIO);
    MU_CHECK_EQ(mu_producer_next(p, &item, mu_test_ms(5000)), MU_ECLOSED);
    mu_producer_destroy(&p);
}

static void
test_producer_destroy_while_blocked(void)
{
    gen_t g = { .limit = 1000000 };
    mu_producer_t *p = mu_producer_new(counting_generator, &g, 3, free);
    MU_CHECK(p);
    MU_CHECK(wait_for_count(&g.put_ok, 3));
    sleep_ms(100);          /* a window in which nothing may happen */
    MU_CHECK_EQ(atomic_load(&g.put_ok), 3);
    int64_t t0 = mu_test_now_ms();
    mu_producer_destroy(&p);        /* frees the 3 queued items (ASan checks) */
    MU_CHECK(mu_test_now_ms() - t0 < mu_test_ms(5000));  /* woken, not waited for */
    MU_CHECK_EQ(atomic_load(&g.closed_seen), 1);
}

/*  Waits politely until told to stop: produces nothing. */
static int
idle_generator(mu_producer_t *p, void *arg)
{
    (void) arg;
    while (!mu_producer_stopping(p))
        sleep_ms(5);
    return 0;
}

static void
test_producer_timeout_and_invalid(void)
{
    errno = 0;
    MU_CHECK(mu_producer_new(NULL, NULL, 4, NULL) == NULL && errno == EINVAL);
    MU_CHECK(mu_producer_new(idle_generator, NULL, 0, NULL) == NULL && errno == EINVAL);
    mu_producer_t *p = mu_producer_new(idle_generator, NULL, 4, NULL);
    MU_CHECK(p);
    void *item = NULL;
    MU_CHECK(!fd_readable(mu_producer_fd(p), 0));
    int64_t t0 = mu_test_now_ms();
    MU_CHECK_EQ(mu_producer_next(p, &item, 100), MU_EAGAIN);
    MU_CHECK(mu_test_now_ms() - t0 >= 100);
    MU_CHECK_EQ(mu_producer_next(p, &item, 0), MU_EAGAIN);
    mu_producer_destroy(&p);
}

/*  With no file descriptor left, the constructors fail with EMFILE. */
static void
test_constructors_without_fds(void)
{
    struct rlimit old;
    MU_CHECK_EQ(getrlimit(RLIMIT_NOFILE, &old), 0);
    int probe = dup(0);
    MU_CHECK(probe >= 0);
    close(probe);
    struct rlimit tight = { (rlim_t) probe, old.rlim_max };   /* no fd >= probe */
    MU_CHECK_EQ(setrlimit(RLIMIT_NOFILE, &tight), 0);
    errno = 0;
    mu_entrypoint_t *ep = mu_entrypoint_new();
    int ep_errno = errno;
    errno = 0;
    mu_pool_t *pool = mu_pool_new(1, 1);
    int pool_errno = errno;
    errno = 0;
    mu_producer_t *producer = mu_producer_new(idle_generator, NULL, 1, NULL);
    int producer_errno = errno;
    MU_CHECK_EQ(setrlimit(RLIMIT_NOFILE, &old), 0);
    mu_entrypoint_destroy(&ep);
    mu_pool_destroy(&pool);
    mu_producer_destroy(&producer);
    MU_CHECK_EQ(ep_errno, EMFILE);
    MU_CHECK_EQ(pool_errno, EMFILE);
    MU_CHECK_EQ(producer_errno, EMFILE);
}

int
main(void)
{
    mu_test_start(50);
    /* forked children first, before this process touches czmq */
    MU_RUN(test_sigint_stops_in_reverse);
    MU_RUN(test_sigterm_stops_in_reverse);
    zsys_init();
    zsys_set_logstream(stderr);
    MU_RUN(test_previous_handler_restored);
    MU_RUN(test_ready_concurrently);
    MU_RUN(test_async_failure_stops_started);
    MU_RUN(test_start_error_stops_earlier_ones);
    MU_RUN(test_start_timeout);
    MU_RUN(test_stop_timeout_reported);
    MU_RUN(test_stop_errors);
    MU_RUN(test_failure_after_ready);
    MU_RUN(test_hook_errors);
    MU_RUN(test_stop_from_thread_and_logging);
    MU_RUN(test_entrypoint_invalid);
    MU_RUN(test_stop_before_run);
    MU_RUN(test_czmq_interrupt_before_run);
    MU_RUN(test_pool_results_via_poll);
    MU_RUN(test_pool_default_size);
    MU_RUN(test_pool_backpressure);
    MU_RUN(test_pool_destroy_waits_for_running);
    MU_RUN(test_producer_backpressure_and_end);
    MU_RUN(test_producer_error_end);
    MU_RUN(test_producer_destroy_while_blocked);
    MU_RUN(test_producer_timeout_and_invalid);
    MU_RUN(test_constructors_without_fds);
    zsys_shutdown();
    MU_DONE();
}
