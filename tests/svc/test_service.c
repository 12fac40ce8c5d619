/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  test_service.c — services and the entrypoint: SIGINT and SIGTERM stop
    services in reverse order (also during a hanging start), the previous
    signal handlers are restored, concurrent readiness, failure, timeout and
    error paths of start and stop, hooks, stopping from a thread, invalid
    entrypoints, stopping or interrupting before run. Blocking starts,
    mu_run, failure details and caller bugs are in test_service_run.c. */
#include "service_cases.h"

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

/*  What a service's start() and stop() see of their thread's signal mask:
    1 when it is the one the test gave run()'s thread (SIGUSR1 blocked,
    SIGINT and SIGTERM not). */
typedef struct {
    int start_mask_ok, stop_mask_ok;
} mask_seen_t;

static int
mask_is_runs(void)
{
    sigset_t now;
    pthread_sigmask(SIG_SETMASK, NULL, &now);
    return sigismember(&now, SIGUSR1) == 1 && sigismember(&now, SIGINT) == 0
           && sigismember(&now, SIGTERM) == 0;
}

static int
mask_start(void *arg, mu_service_t *svc)
{
    ((mask_seen_t *) arg)->start_mask_ok = mask_is_runs();
    mu_service_ready(svc);
    return 0;
}

static int
mask_stop(void *arg, mu_service_t *svc, int timeout_ms)
{
    (void) svc, (void) timeout_ms;
    ((mask_seen_t *) arg)->stop_mask_ok = mask_is_runs();
    return 0;
}

/*  start() and stop() run with the signal mask of run()'s thread: the
    entrypoint blocks nothing of its own in them, so a process a service
    starts can be stopped with SIGTERM. */
static void
test_service_threads_keep_signal_mask(void)
{
    static const mu_service_ops_t mask_ops = { mask_start, mask_stop };
    mask_seen_t seen = { -1, -1 };
    sigset_t usr1, before;
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &usr1, &before);
    mu_entrypoint_t *ep = mu_entrypoint_new();
    MU_CHECK(ep);
    MU_CHECK_EQ(mu_entrypoint_set_logging(ep, NULL, MU_LOG_QUIET), 0);
    MU_CHECK(mu_entrypoint_add(ep, "mask", &mask_ops, &seen));
    mu_entrypoint_set_hook(ep, MU_HOOK_POST_START, stop_hook, NULL);
    MU_CHECK_EQ(mu_entrypoint_run(ep), 0);
    mu_entrypoint_destroy(&ep);
    MU_CHECK(mask_is_runs());
    pthread_sigmask(SIG_SETMASK, &before, NULL);
    MU_CHECK_EQ(seen.start_mask_ok, 1);
    MU_CHECK_EQ(seen.stop_mask_ok, 1);
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

/*  Child: a start() that hangs (ignores its stop event) and one that is
    fine; SIGINT during the start phase (once both started: the hanging
    one announces only after the fine one's start) aborts it within the
    shutdown timeout. Exits 0 when run() returned MU_ETIMEDOUT for SIGINT,
    having stopped the fine one and abandoned the hanging one. */
static void
hanging_child(int ready_fd)
{
    int gate[2];
    mu_test_counter_t in, out;
    mu_test_counter_init(&in);
    mu_test_counter_init(&out);
    if (pipe(gate) < 0)
        _exit(103);
    mu_test_counter_set(&s_starts, 0);
    blocker_t b = { .gate = gate[0],
                    .block_ms = -1,
                    .announce_fd = ready_fd,
                    .after = &s_starts,
                    .after_n = 1,
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
    /* 0, or 32 + one bit per condition that failed (which one, in a CI log) */
    int failed = (rc != MU_ETIMEDOUT) | (sig != SIGINT) << 1 | !atomic_load(&ok.stop_done) << 2
                 | !abandoned << 3;
    _exit(failed ? 32 + failed : 0);
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
    MU_RUN(test_service_threads_keep_signal_mask);
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
    zsys_shutdown();
    MU_DONE();
}
