/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  test_service.c — services and the entrypoint (failure, timeout and
    signal paths). */
#include "mu_test.h"
#include "mutil.h"
#include <assert.h>
#include <czmq.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>

/* ------------------------------------------------------------------ */
/* An event log shared by the fake services and the hooks              */

static pthread_mutex_t events_mutex = PTHREAD_MUTEX_INITIALIZER;
static char events[1024];

/*  start() calls run concurrently, in no set order: they are counted
    (s_starts), not logged. */
static void
event(const char *what, const char *name)
{
    if (!strcmp(what, "start"))
        return;
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

static mu_test_counter_t s_starts; /* fake start() calls since make_entrypoint */

typedef struct {
    const char *name;
    int start_rc;          /* start() returns this when non-zero */
    int wait_starts;       /* > 0: become ready (or fail) only once this many
                               services have started */
    int ready_after_ms;    /* 0: ready inside start(); < 0: never */
    int fail_code;         /* fail instead of becoming ready */
    const int *fail_gate;  /* non-NULL: fail with MU_EIO after ready, once a
                               byte arrives on *fail_gate */
    const int *stop_gate;  /* non-NULL: stop() returns only once a byte
                               arrives on *stop_gate */
    atomic_bool stop_done; /* stop() returned */
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
    if (f->wait_starts > 0 && !mu_test_counter_wait(&s_starts, f->wait_starts, 5000)) {
        mu_service_fail(f->svc, MU_ETIMEDOUT, "the other services never started");
        return NULL;
    }
    mu_test_sleep_ms(f->ready_after_ms);
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
fake_start(void *arg, mu_service_t *svc)
{
    fake_t *f = arg;
    event("start", f->name);
    mu_test_counter_add(&s_starts);
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
fake_stop(void *arg, mu_service_t *svc, int timeout_ms)
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

static int s_ready_fd = -1; /* post_start writes 'R' here when >= 0 */
static int s_hook_rc[4];    /* what each hook returns */

static int
log_hook(void *arg, mu_entrypoint_t *ep)
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
stop_hook(void *arg, mu_entrypoint_t *ep)
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
    mu_test_counter_set(&s_starts, 0);
    memset(s_hook_rc, 0, sizeof s_hook_rc);
    mu_entrypoint_t *ep = mu_entrypoint_new();
    if (!ep)
        return NULL;
    if (mu_entrypoint_set_logging(ep, "test_service", MU_LOG_QUIET) != 0)
        mu_entrypoint_destroy(&ep);
    for (size_t i = 0; ep && i < n; i++)
        if (!mu_entrypoint_add(ep, fakes[i].name, &fake_ops, &fakes[i]))
            mu_entrypoint_destroy(&ep);
    if (ep) {
        mu_entrypoint_set_hook(ep, MU_HOOK_PRE_START, log_hook, "pre_start");
        mu_entrypoint_set_hook(ep, MU_HOOK_POST_START, stop_when_ready ? stop_hook : log_hook,
                               "post_start");
        mu_entrypoint_set_hook(ep, MU_HOOK_PRE_STOP, log_hook, "pre_stop");
        mu_entrypoint_set_hook(ep, MU_HOOK_POST_STOP, log_hook, "post_stop");
    }
    return ep;
}

/* ------------------------------------------------------------------ */
/* A service running a zloop: the "forever loop" under an entrypoint    */

typedef struct {
    int wake[2]; /* stop() writes here; the loop watches [0] */
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
    ls->loop_rc = zloop_start(loop); /* -1: ended by our handler */
    zloop_destroy(&loop);
    return NULL;
}

static int
loop_start(void *arg, mu_service_t *svc)
{
    loop_svc_t *ls = arg;
    event("start", "loop");
    ls->svc = svc;
    if (pipe(ls->wake) < 0)
        return -errno;
    return pthread_create(&ls->thread, NULL, loop_main, ls) == 0 ? 0 : MU_ENOMEM;
}

static int
loop_stop(void *arg, mu_service_t *svc, int timeout_ms)
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
    fake_t fakes[3] = { { .name = "a" }, { .name = "b", .ready_after_ms = 50 }, { .name = "c" } };
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
        status = 102; /* the entrypoint's handler leaves czmq's flag alone */
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
    if (strcmp(log, "hook:pre_start hook:post_start "
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
    MU_CHECK_EQ(strcmp(events, "hook:pre_start hook:post_start "
                               "hook:pre_stop stop:c stop:b stop:a hook:post_stop"),
                0);
}

static void
test_async_failure_stops_started(void)
{
    /* db fails once all four have started, so that d is started too */
    fake_t fakes[4] = {
        { .name = "a" },
        { .name = "b", .ready_after_ms = 20 },
        { .name = "db", .wait_starts = 4, .ready_after_ms = 50, .fail_code = MU_EIO },
        { .name = "d", .ready_after_ms = -1 }
    };
    mu_entrypoint_t *ep = make_entrypoint(fakes, 4, true);
    MU_CHECK(ep);
    MU_CHECK_EQ(mu_entrypoint_run(ep), MU_EIO);
    MU_CHECK_EQ(mu_last_code(), MU_EIO);
    MU_CHECK_EQ(strcmp(mu_last_error(), "input/output error: service 'db' failed to start: "
                                        "disk gone"),
                0);
    mu_entrypoint_destroy(&ep);
    MU_CHECK_EQ(strcmp(events, "hook:pre_start "
                               "hook:pre_stop stop:d stop:db stop:b stop:a hook:post_stop"),
                0);
}

static void
test_start_error_stops_earlier_ones(void)
{
    fake_t fakes[3] = { { .name = "a" },
                        { .name = "b", .ready_after_ms = 30 },
                        { .name = "web", .start_rc = MU_EACCES } };
    mu_entrypoint_t *ep = make_entrypoint(fakes, 3, true);
    MU_CHECK(ep);
    MU_CHECK_EQ(mu_entrypoint_run(ep), MU_EACCES);
    MU_CHECK_EQ(strcmp(mu_last_error(), "access denied: service 'web' failed to start"), 0);
    mu_entrypoint_destroy(&ep);
    /* web (start failed) is not stopped */
    MU_CHECK_EQ(strcmp(events, "hook:pre_start "
                               "hook:pre_stop stop:b stop:a hook:post_stop"),
                0);
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
    MU_CHECK(strstr(mu_last_error(), "service 'slow' not ready within the start timeout"));
    mu_entrypoint_destroy(&ep);
    MU_CHECK(elapsed >= 200 && elapsed < mu_test_ms(5000));
    MU_CHECK_EQ(strcmp(events, "hook:pre_start "
                               "hook:pre_stop stop:slow stop:a hook:post_stop"),
                0);
}

/*  sticky's stop() returns only when released: run() gives up on it after
    the shutdown timeout, and destroy waits for it. */
static void
test_stop_timeout_reported(void)
{
    int release[2];
    MU_CHECK_EQ(pipe(release), 0);
    fake_t fakes[3] = { { .name = "a" },
                        { .name = "sticky", .stop_gate = &release[0] },
                        { .name = "c" } };
    mu_entrypoint_t *ep = make_entrypoint(fakes, 3, true);
    MU_CHECK(ep);
    MU_CHECK_EQ(mu_entrypoint_set_shutdown_timeout(ep, 150), 0);
    MU_CHECK_EQ(mu_entrypoint_run(ep), MU_ETIMEDOUT);
    MU_CHECK(strstr(mu_last_error(), "service 'sticky' did not stop within the shutdown timeout"));
    MU_CHECK(!atomic_load(&fakes[1].stop_done)); /* run() did not wait for it */
    mu_test_signal_byte(release[1], 'x');
    mu_entrypoint_destroy(&ep);
    MU_CHECK(atomic_load(&fakes[1].stop_done)); /* destroy did */
    close(release[0]);
    close(release[1]);
    /* a is still stopped, told not to wait */
    MU_CHECK_EQ(strcmp(events, "hook:pre_start hook:post_start "
                               "hook:pre_stop stop:c stop:sticky stop:a hook:post_stop"),
                0);
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
    MU_CHECK(strstr(mu_last_error(), "service 'b' did not stop"));
    mu_entrypoint_destroy(&ep);

    fake_t fakes2[1] = { { .name = "a", .stop_rc = MU_EIO } };
    ep = make_entrypoint(fakes2, 1, true);
    MU_CHECK(ep);
    MU_CHECK_EQ(mu_entrypoint_run(ep), MU_EIO);
    MU_CHECK(strstr(mu_last_error(), "service 'a' failed to stop"));
    mu_entrypoint_destroy(&ep);
}

/*  -1: no start limit, and stop() is given -1 (no limit) too. */
static void
test_timeouts_without_limit(void)
{
    fake_t fakes[2] = { { .name = "a", .ready_after_ms = 20 }, { .name = "b" } };
    mu_entrypoint_t *ep = make_entrypoint(fakes, 2, true);
    MU_CHECK(ep);
    MU_CHECK_EQ(mu_entrypoint_set_start_timeout(ep, -1), 0);
    MU_CHECK_EQ(mu_entrypoint_set_shutdown_timeout(ep, -1), 0);
    MU_CHECK_EQ(mu_entrypoint_run(ep), 0);
    mu_entrypoint_destroy(&ep);
    MU_CHECK_EQ(fakes[0].stop_timeout_seen, -1);
    MU_CHECK_EQ(fakes[1].stop_timeout_seen, -1);
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
    MU_CHECK(strstr(mu_last_error(), "service 'db' failed: lost the database"));
    mu_entrypoint_destroy(&ep);
    MU_CHECK_EQ(strcmp(events, "hook:pre_start hook:post_start "
                               "hook:pre_stop stop:db stop:a hook:post_stop"),
                0);
}

static void
test_hook_errors(void)
{
    fake_t fakes[2] = { { .name = "a" }, { .name = "b" } };
    mu_entrypoint_t *ep = make_entrypoint(fakes, 2, false);
    MU_CHECK(ep);
    s_hook_rc[MU_HOOK_PRE_START] = MU_EACCES;
    MU_CHECK_EQ(mu_entrypoint_run(ep), MU_EACCES);
    MU_CHECK(strstr(mu_last_error(), "pre_start hook failed"));
    mu_entrypoint_destroy(&ep);
    MU_CHECK_EQ(strcmp(events, "hook:pre_start"), 0);

    ep = make_entrypoint(fakes, 2, false);
    MU_CHECK(ep);
    s_hook_rc[MU_HOOK_POST_START] = MU_ENOSPC;
    MU_CHECK_EQ(mu_entrypoint_run(ep), MU_ENOSPC);
    MU_CHECK(strstr(mu_last_error(), "post_start hook failed"));
    mu_entrypoint_destroy(&ep);
    MU_CHECK_EQ(strcmp(events, "hook:pre_start hook:post_start "
                               "hook:pre_stop stop:b stop:a hook:post_stop"),
                0);
}

typedef struct {
    mu_entrypoint_t *ep;
    int started_fd; /* the post_start hook writes a byte here */
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
    MU_CHECK_EQ(strcmp(events, "hook:pre_start hook:post_start "
                               "hook:pre_stop stop:b stop:a hook:post_stop"),
                0);
}

static void *
run_thread(void *arg)
{
    return (void *) (intptr_t) mu_entrypoint_run(arg);
}

static int
noop_start(void *arg, mu_service_t *svc)
{
    mu_test_counter_t *started = arg;
    mu_service_ready(svc);
    mu_test_counter_add(started);
    return 0;
}

static int
noop_stop(void *arg, mu_service_t *svc, int timeout_ms)
{
    (void) svc, (void) arg, (void) timeout_ms;
    return 0;
}

static void
test_entrypoint_invalid(void)
{
    static const mu_service_ops_t noop_ops = { noop_start, noop_stop };
    mu_entrypoint_t *ep = mu_entrypoint_new();
    MU_CHECK(ep);
    MU_CHECK_EQ(mu_entrypoint_set_logging(ep, NULL, MU_LOG_QUIET), 0);
    errno = 0;
    MU_CHECK(mu_entrypoint_add(ep, "", &noop_ops, NULL) == NULL && errno == EINVAL);
    MU_CHECK_EQ(strcmp(mu_last_error(), "invalid argument: a service needs a name"), 0);
    MU_CHECK_EQ(mu_entrypoint_set_start_timeout(ep, -2), MU_EINVAL);
    MU_CHECK_EQ(strcmp(mu_last_error(), "invalid argument: start timeout -2 ms"), 0);
    MU_CHECK_EQ(mu_entrypoint_set_shutdown_timeout(ep, -5), MU_EINVAL);
    MU_CHECK_EQ(mu_entrypoint_set_start_timeout(ep, -1), 0); /* no limit */
    MU_CHECK_EQ(mu_entrypoint_set_shutdown_timeout(ep, -1), 0);

    mu_test_counter_t started;
    mu_test_counter_init(&started);
    mu_service_t *svc = mu_entrypoint_add(ep, "n", &noop_ops, &started);
    MU_CHECK(svc);
    MU_CHECK_EQ(strcmp(mu_service_name(svc), "n"), 0);
    MU_CHECK(mu_service_arg(svc) == &started);

    /* a second entrypoint may not run while one runs */
    pthread_t thread;
    MU_CHECK_EQ(pthread_create(&thread, NULL, run_thread, ep), 0);
    MU_CHECK(mu_test_counter_wait(&started, 1, 5000));
    mu_entrypoint_t *other = mu_entrypoint_new();
    MU_CHECK(other);
    MU_CHECK_EQ(mu_entrypoint_run(other), MU_EINVAL);
    MU_CHECK(strstr(mu_last_error(), "another entrypoint is running"));
    mu_entrypoint_destroy(&other);
    mu_entrypoint_stop(ep);
    void *ret = NULL;
    pthread_join(thread, &ret);
    MU_CHECK_EQ((intptr_t) ret, 0);

    /* run only once; no services added afterwards */
    MU_CHECK_EQ(mu_entrypoint_run(ep), MU_EINVAL);
    MU_CHECK(strstr(mu_last_error(), "run() was already called"));
    MU_CHECK(mu_entrypoint_add(ep, "late", &noop_ops, NULL) == NULL && errno == EINVAL);
    MU_CHECK_EQ(strcmp(mu_last_error(), "invalid argument: service 'late' added after run()"), 0);
    mu_entrypoint_destroy(&ep);
    mu_entrypoint_destroy(&ep); /* NULL-safe */
    mu_test_counter_fini(&started);
}


/* ------------------------------------------------------------------ */
/* Concurrent, bounded start; forever services; mu_run                  */

static int
counter_get(mu_test_counter_t *c)
{
    pthread_mutex_lock(&c->mutex);
    int value = c->value;
    pthread_mutex_unlock(&c->mutex);
    return value;
}

typedef struct {
    int gate;               /* start() blocks until a byte arrives here */
    int block_ms;           /* or this long (unscaled) */
    bool watch_stop;        /* also end when the stop event is raised */
    int announce_fd;        /* > 0: start() writes 'R' here first */
    mu_test_counter_t *in;  /* counts start() calls */
    mu_test_counter_t *out; /* counts start() returns */
} blocker_t;

static int
blocker_start(void *arg, mu_service_t *svc)
{
    blocker_t *b = arg;
    mu_test_counter_add(b->in);
    if (b->announce_fd > 0)
        mu_test_signal_byte(b->announce_fd, 'R');
    struct pollfd items[2] = { { .fd = b->gate, .events = POLLIN },
                               { .fd = mu_service_stop_fd(svc), .events = POLLIN } };
    if (poll(items, b->watch_stop ? 2 : 1, b->block_ms) < 0) {
        /* EINTR: return early, the test only counts */
    }
    mu_test_counter_add(b->out);
    return 0;
}

static const mu_service_ops_t blocker_ops = { blocker_start, NULL };

/*  Two start() calls that block 3 s each, with a 500 ms start timeout:
    run() fails after about 500 ms (plus the shutdown bound), not 6 s, and
    does not wait for the hanging start() calls (their threads are
    abandoned). */
static void
test_blocking_starts_bounded(void)
{
    int gate[2];
    MU_CHECK_EQ(pipe(gate), 0);
    mu_test_counter_t in, out;
    mu_test_counter_init(&in);
    mu_test_counter_init(&out);
    blocker_t b = { .gate = gate[0], .block_ms = 3000, .in = &in, .out = &out };
    mu_entrypoint_t *ep = mu_entrypoint_new();
    MU_CHECK(ep);
    MU_CHECK_EQ(mu_entrypoint_set_logging(ep, NULL, MU_LOG_QUIET), 0);
    MU_CHECK(mu_entrypoint_add(ep, "slow1", &blocker_ops, &b));
    MU_CHECK(mu_entrypoint_add(ep, "slow2", &blocker_ops, &b));
    MU_CHECK_EQ(mu_entrypoint_set_start_timeout(ep, 500), 0);
    MU_CHECK_EQ(mu_entrypoint_set_shutdown_timeout(ep, 200), 0);
    int64_t t0 = mu_test_now_ms();
    MU_CHECK_EQ(mu_entrypoint_run(ep), MU_ETIMEDOUT);
    int64_t elapsed = mu_test_now_ms() - t0;
    MU_CHECK(strstr(mu_last_error(), "not ready within the start timeout (500 ms)"));
    mu_entrypoint_destroy(&ep); /* does not wait for the abandoned starts */
    int64_t after_destroy = mu_test_now_ms() - t0;
    MU_CHECK_EQ(counter_get(&in), 2); /* both ran at once */
    MU_CHECK(elapsed >= 500);
    MU_CHECK(after_destroy < 2900); /* one 3 s start would already be longer */
    printf("# run() returned after %lld ms\n", (long long) elapsed);
    MU_CHECK(counter_get(&out) < 2);
    /* release the abandoned start() calls: they end and free the rest */
    mu_test_signal_byte(gate[1], 'x');
    MU_CHECK(mu_test_counter_wait(&out, 2, 5000));
    close(gate[0]);
    close(gate[1]);
    mu_test_counter_fini(&in);
    mu_test_counter_fini(&out);
}

/*  A blocking start() that watches its stop event ends in the stop phase:
    nothing is abandoned, the run fails with the start timeout. */
static void
test_blocking_start_watching_stop(void)
{
    int gate[2];
    MU_CHECK_EQ(pipe(gate), 0);
    mu_test_counter_t in, out;
    mu_test_counter_init(&in);
    mu_test_counter_init(&out);
    blocker_t b = { .gate = gate[0], .block_ms = -1, .watch_stop = true, .in = &in, .out = &out };
    mu_entrypoint_t *ep = mu_entrypoint_new();
    MU_CHECK(ep);
    MU_CHECK_EQ(mu_entrypoint_set_logging(ep, NULL, MU_LOG_QUIET), 0);
    MU_CHECK(mu_entrypoint_add(ep, "waits", &blocker_ops, &b));
    MU_CHECK_EQ(mu_entrypoint_set_start_timeout(ep, 100), 0);
    MU_CHECK_EQ(mu_entrypoint_run(ep), MU_ETIMEDOUT);
    MU_CHECK(strstr(mu_last_error(), "service 'waits' not ready within the start timeout"));
    MU_CHECK_EQ(counter_get(&out), 1); /* joined by run() */
    mu_entrypoint_destroy(&ep);
    close(gate[0]);
    close(gate[1]);
    mu_test_counter_fini(&in);
    mu_test_counter_fini(&out);
}

typedef struct {
    const char *name;
    bool with_stop;
    atomic_int start_returned; /* start() returned, before stop() */
    atomic_int stopped;        /* stop() saw start() returned */
} forever_t;

/*  A forever service: ready, then runs until its stop event. */
static int
forever_start(void *arg, mu_service_t *svc)
{
    forever_t *f = arg;
    mu_service_ready(svc);
    while (mu_service_wait_stop(svc, 1000) == MU_ETIMEDOUT) {
    }
    if (!mu_service_stopping(svc) || mu_service_wait_stop(svc, 0) != 0)
        event("bad", f->name);
    event("end", f->name);
    atomic_store(&f->start_returned, 1);
    return 0;
}

static int
forever_stop(void *arg, mu_service_t *svc, int timeout_ms)
{
    (void) svc, (void) timeout_ms;
    forever_t *f = arg;
    atomic_store(&f->stopped, atomic_load(&f->start_returned));
    event("stop", f->name);
    return 0;
}

static void
test_forever_services(void)
{
    static const mu_service_ops_t forever_ops = { forever_start, NULL };
    static const mu_service_ops_t forever_stop_ops = { forever_start, forever_stop };
    forever_t f1 = { .name = "f1" }, f2 = { .name = "f2", .with_stop = true };
    events_reset();
    mu_entrypoint_t *ep = mu_entrypoint_new();
    MU_CHECK(ep);
    MU_CHECK_EQ(mu_entrypoint_set_logging(ep, NULL, MU_LOG_QUIET), 0);
    mu_service_t *s1 = mu_entrypoint_add(ep, "f1", &forever_ops, &f1);
    MU_CHECK(s1 && mu_entrypoint_add(ep, "f2", &forever_stop_ops, &f2));
    MU_CHECK(mu_service_entrypoint(s1) == ep);
    MU_CHECK(!mu_service_stopping(s1));
    MU_CHECK_EQ(mu_service_wait_stop(s1, 0), MU_EAGAIN);
    MU_CHECK_EQ(mu_service_wait_stop(s1, 10), MU_ETIMEDOUT);
    mu_entrypoint_set_hook(ep, MU_HOOK_POST_START, stop_hook, NULL);
    MU_CHECK_EQ(mu_entrypoint_run(ep), 0);
    mu_entrypoint_destroy(&ep);
    MU_CHECK_EQ(strcmp(events, "hook:post_start end:f2 stop:f2 end:f1"), 0);
    MU_CHECK_EQ(atomic_load(&f2.stopped), 1); /* stop() only after start() returned */
}

typedef struct {
    int result;
    bool use_pool;
    bool wait_stopping; /* return only once the entrypoint is stopping */
    atomic_int ran;
} main_arg_t;

static void *
double_it(void *arg)
{
    return (void *) ((intptr_t) arg * 2);
}

static int
test_main(void *arg, mu_entrypoint_t *ep)
{
    main_arg_t *m = arg;
    event("main", "run");
    atomic_store(&m->ran, 1);
    if (m->use_pool) {
        mu_pool_t *pool = mu_entrypoint_pool(ep);
        void *result = NULL;
        if (!pool || mu_pool_submit(pool, double_it, (void *) 21, -1, NULL) != 0
            || mu_pool_result(pool, NULL, &result, 5000) != 0 || (intptr_t) result != 42)
            return MU_EIO;
    }
    if (m->wait_stopping)
        while (!mu_entrypoint_stopping(ep))
            mu_test_sleep_ms(5); /* polling a flag: what main would do between work */
    return m->result;
}

static void
test_mu_run(void)
{
    fake_t fakes[2] = { { .name = "a" }, { .name = "b", .ready_after_ms = 10 } };
    mu_service_def_t defs[2] = { { "a", &fake_ops, &fakes[0] }, { "b", &fake_ops, &fakes[1] } };
    main_arg_t m = { .result = 7 };
    events_reset();
    MU_CHECK_EQ(mu_run(test_main, &m, defs, 2), 7);
    MU_CHECK_EQ(strcmp(events, "main:run stop:b stop:a"), 0);

    /* main's own failure */
    fake_t fakes2[1] = { { .name = "a" } };
    mu_service_def_t defs2[1] = { { "a", &fake_ops, &fakes2[0] } };
    main_arg_t bad = { .result = MU_ENOSPC };
    events_reset();
    MU_CHECK_EQ(mu_run(test_main, &bad, defs2, 1), MU_ENOSPC);
    MU_CHECK(strstr(mu_last_error(), "main failed"));
    MU_CHECK_EQ(strcmp(events, "main:run stop:a"), 0);

    /* a start failure: main is not called */
    fake_t fakes3[2] = { { .name = "a" }, { .name = "web", .start_rc = MU_EACCES } };
    mu_service_def_t defs3[2] = { { "a", &fake_ops, &fakes3[0] },
                                  { "web", &fake_ops, &fakes3[1] } };
    main_arg_t unused = { .result = 0 };
    events_reset();
    MU_CHECK_EQ(mu_run(test_main, &unused, defs3, 2), MU_EACCES);
    MU_CHECK_EQ(atomic_load(&unused.ran), 0);
    MU_CHECK_EQ(strcmp(events, "stop:a"), 0);

    /* no services; an invalid one */
    main_arg_t plain = { .result = 0 };
    MU_CHECK_EQ(mu_run(test_main, &plain, NULL, 0), 0);
    mu_service_def_t bad_def[1] = { { "", &fake_ops, NULL } };
    MU_CHECK_EQ(mu_run(test_main, &plain, bad_def, 1), MU_EINVAL);
}

/*  main with the entrypoint's pool; a service failing while main runs
    makes mu_entrypoint_stopping() true, and run() returns its code. */
static void
test_run_main_pool_and_failure(void)
{
    int post_start[2];
    MU_CHECK_EQ(pipe(post_start), 0);
    fake_t fakes[2] = { { .name = "a" }, { .name = "db", .fail_gate = &post_start[0] } };
    mu_entrypoint_t *ep = make_entrypoint(fakes, 2, false);
    MU_CHECK(ep);
    MU_CHECK_EQ(mu_entrypoint_set_pool(ep, -2), MU_EINVAL);
    MU_CHECK_EQ(mu_entrypoint_set_pool(ep, 2), 0);
    MU_CHECK(mu_entrypoint_pool(ep) == NULL);
    s_ready_fd = post_start[1];
    main_arg_t m = { .result = 0, .use_pool = true, .wait_stopping = true };
    int rc = mu_entrypoint_run_main(ep, test_main, &m);
    s_ready_fd = -1;
    MU_CHECK_EQ(rc, MU_EIO);
    MU_CHECK(strstr(mu_last_error(), "service 'db' failed: lost the database"));
    MU_CHECK(mu_entrypoint_pool(ep) == NULL); /* destroyed with the run */
    MU_CHECK_EQ(mu_entrypoint_set_pool(ep, 2), MU_EINVAL);
    mu_entrypoint_destroy(&ep);
    close(post_start[0]);
    close(post_start[1]);
    MU_CHECK_EQ(strcmp(events, "hook:pre_start hook:post_start main:run "
                               "hook:pre_stop stop:db stop:a hook:post_stop"),
                0);
}

/*  Child: a start() that hangs (ignores its stop event) and one that is
    fine; SIGINT during the start phase aborts it within the shutdown
    timeout. Exits 0 when run() returned MU_ETIMEDOUT for SIGINT, having
    stopped the fine one. */
static void
hanging_child(int ready_fd)
{
    int gate[2];
    mu_test_counter_t in, out;
    mu_test_counter_init(&in);
    mu_test_counter_init(&out);
    if (pipe(gate) < 0)
        _exit(103);
    blocker_t b = { .gate = gate[0],
                    .block_ms = -1,
                    .announce_fd = ready_fd,
                    .in = &in,
                    .out = &out };
    fake_t ok = { .name = "ok" };
    mu_entrypoint_t *ep = mu_entrypoint_new();
    if (!ep || mu_entrypoint_set_logging(ep, NULL, MU_LOG_QUIET) != 0
        || !mu_entrypoint_add(ep, "ok", &fake_ops, &ok)
        || !mu_entrypoint_add(ep, "hangs", &blocker_ops, &b)
        || mu_entrypoint_set_shutdown_timeout(ep, 300) != 0)
        _exit(104);
    int rc = mu_entrypoint_run(ep);
    int sig = mu_entrypoint_signal(ep);
    bool abandoned = strstr(mu_last_error(), "'hangs' start() still running") != NULL;
    mu_entrypoint_destroy(&ep);
    _exit(rc == MU_ETIMEDOUT && sig == SIGINT && atomic_load(&ok.stop_done) && abandoned ? 0 : 105);
}

static void
test_sigint_during_hanging_start(void)
{
    int ready[2];
    MU_CHECK_EQ(pipe(ready), 0);
    pid_t pid = fork();
    MU_CHECK(pid >= 0);
    if (pid == 0) {
        close(ready[0]);
        hanging_child(ready[1]);
    }
    close(ready[1]);
    MU_CHECK_EQ(mu_test_wait_byte(ready[0], 10000), 'R');
    int64_t t0 = mu_test_now_ms();
    MU_CHECK_EQ(kill(pid, SIGINT), 0);
    int status = 0;
    MU_CHECK_EQ(waitpid(pid, &status, 0), pid);
    int64_t elapsed = mu_test_now_ms() - t0;
    close(ready[0]);
    MU_CHECK(WIFEXITED(status));
    MU_CHECK_EQ(WEXITSTATUS(status), 0);
    MU_CHECK(elapsed < mu_test_ms(3000)); /* 300 ms shutdown + grace, not forever */
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
/* Error detail passed on from the services' and hooks' own failures    */

/*  A start() that fails through a mutil call which recorded a detail. */
static int
detail_start(void *arg, mu_service_t *svc)
{
    (void) arg, (void) svc;
    mu_pool_t *pool = mu_pool_new(5000, 0); /* above the maximum */
    assert(!pool);
    return mu_last_code();
}

/*  A stop() (on a thread of its own) that fails the same way. */
static int
detail_stop(void *arg, mu_service_t *svc, int timeout_ms)
{
    (void) timeout_ms;
    return detail_start(arg, svc);
}

static int
ready_start(void *arg, mu_service_t *svc)
{
    (void) arg;
    mu_service_ready(svc);
    return 0;
}

static int
detail_hook(void *arg, mu_entrypoint_t *ep)
{
    (void) ep;
    return detail_start(arg, NULL);
}

static int
run_one(const mu_service_ops_t *ops, mu_hook_fn *post_start)
{
    mu_entrypoint_t *ep = mu_entrypoint_new();
    if (!ep)
        return MU_ENOMEM;
    int rc = mu_entrypoint_set_logging(ep, NULL, MU_LOG_QUIET);
    if (rc == 0 && !mu_entrypoint_add(ep, "x", ops, NULL))
        rc = mu_last_code();
    mu_entrypoint_set_hook(ep, MU_HOOK_POST_START, post_start ? post_start : stop_hook, NULL);
    if (rc == 0)
        rc = mu_entrypoint_run(ep);
    mu_entrypoint_destroy(&ep);
    return rc;
}

static void
test_failure_detail_passed_on(void)
{
    static const mu_service_ops_t bad_start = { detail_start, noop_stop };
    static const mu_service_ops_t bad_stop = { ready_start, detail_stop };
    static const mu_service_ops_t good = { ready_start, noop_stop };
    MU_CHECK_EQ(run_one(&bad_start, NULL), MU_EINVAL);
    MU_CHECK_EQ(strcmp(mu_last_error(), "invalid argument: service 'x' failed to start: "
                                        "pool size 5000 above 1024"),
                0);
    MU_CHECK_EQ(run_one(&bad_stop, NULL), MU_EINVAL);
    MU_CHECK_EQ(strcmp(mu_last_error(), "invalid argument: service 'x' failed to stop: "
                                        "pool size 5000 above 1024"),
                0);
    MU_CHECK_EQ(run_one(&good, detail_hook), MU_EINVAL);
    MU_CHECK_EQ(strcmp(mu_last_error(), "invalid argument: post_start hook failed: "
                                        "pool size 5000 above 1024"),
                0);
}

/*  A caller bug (an invalid hook) is an assertion, not an error code. */
static void
test_caller_bug_asserts(void)
{
    pid_t pid = fork();
    MU_CHECK(pid >= 0);
    if (pid == 0) {
        signal(SIGABRT, SIG_DFL);
        close(STDERR_FILENO); /* the assertion's message */
        mu_entrypoint_t *ep = mu_entrypoint_new();
        if (ep)
            mu_entrypoint_set_hook(ep, (mu_hook_t) 9, log_hook, NULL);
        _exit(0);
    }
    int status = 0;
    MU_CHECK_EQ(waitpid(pid, &status, 0), pid);
    MU_CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT);
}

/*  With no file descriptor left, mu_entrypoint_new fails with EMFILE. */
static void
test_new_without_fds(void)
{
    struct rlimit old;
    MU_CHECK(mu_test_limit_fds(&old));
    errno = 0;
    mu_entrypoint_t *ep = mu_entrypoint_new();
    int ep_errno = errno;
    MU_CHECK_EQ(setrlimit(RLIMIT_NOFILE, &old), 0);
    mu_entrypoint_destroy(&ep);
    MU_CHECK_EQ(ep_errno, EMFILE);
    MU_CHECK_EQ(mu_last_code(), -EMFILE);
    MU_CHECK(strstr(mu_last_error(), "entrypoint: self-pipe"));
}

int
main(void)
{
    mu_test_start(50);
    mu_test_counter_init(&s_starts);
    /* forked children first, before this process touches czmq */
    MU_RUN(test_sigint_stops_in_reverse);
    MU_RUN(test_sigterm_stops_in_reverse);
    MU_RUN(test_sigint_during_hanging_start);
    zsys_init();
    zsys_set_logstream(stderr);
    MU_RUN(test_previous_handler_restored);
    MU_RUN(test_ready_concurrently);
    MU_RUN(test_async_failure_stops_started);
    MU_RUN(test_start_error_stops_earlier_ones);
    MU_RUN(test_start_timeout);
    MU_RUN(test_stop_timeout_reported);
    MU_RUN(test_stop_errors);
    MU_RUN(test_timeouts_without_limit);
    MU_RUN(test_failure_after_ready);
    MU_RUN(test_hook_errors);
    MU_RUN(test_stop_from_thread_and_logging);
    MU_RUN(test_entrypoint_invalid);
    MU_RUN(test_stop_before_run);
    MU_RUN(test_czmq_interrupt_before_run);
    MU_RUN(test_failure_detail_passed_on);
    MU_RUN(test_caller_bug_asserts);
    MU_RUN(test_new_without_fds);
    MU_RUN(test_blocking_starts_bounded);
    MU_RUN(test_blocking_start_watching_stop);
    MU_RUN(test_forever_services);
    MU_RUN(test_mu_run);
    MU_RUN(test_run_main_pool_and_failure);
    zsys_shutdown();
    MU_DONE();
}
