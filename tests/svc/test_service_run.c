/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  test_service_run.c — services whose start() blocks (bounded by the start
    timeout, watching for stop), services that run until stopped, mu_run
    and its main with a pool, failure details passed on, entrypoints
    without fds, and caller bugs that assert. */
#include "service_cases.h"

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

static bool
entrypoint_stopping(void *ep)
{
    return mu_entrypoint_stopping(ep);
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
    if (m->wait_stopping) /* a flag with no event: mu_test_poll_until */
        mu_test_poll_until(entrypoint_stopping, ep, 60000);
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
    zsys_init();
    zsys_set_logstream(stderr);
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
