/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  test_pool.c — the thread pool (include/mu_pool.h): results through a
    pollable fd, back-pressure and timeouts, results kept while not taken,
    destroy, constructor failures. */
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

static bool
fd_readable(int fd, int timeout_ms)
{
    struct pollfd item = { .fd = fd, .events = POLLIN };
    return poll(&item, 1, timeout_ms) == 1 && (item.revents & POLLIN);
}

/*  Jobs that started (a job raises it, the test waits on it). */
static mu_test_counter_t started;

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
    intptr_t expected[64]; /* by job id */
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
test_results_via_poll(void)
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
    MU_CHECK_EQ(mu_pool_result(pool, &id, &result, 0), MU_EAGAIN);
    int64_t t0 = mu_test_now_ms();
    MU_CHECK_EQ(mu_pool_result(pool, &id, &result, 50), MU_ETIMEDOUT);
    MU_CHECK(mu_test_now_ms() - t0 >= 50);
    MU_CHECK_EQ(mu_last_code(), MU_ETIMEDOUT);
    mu_pool_destroy(&pool);
    MU_CHECK(pool == NULL);
    mu_pool_destroy(&pool);
}

/*  Results pile up while nobody takes them, far beyond the job queue's
    capacity, and come out in order. */
static void
test_results_kept_until_taken(void)
{
    mu_pool_t *pool = mu_pool_new(2, 2);
    MU_CHECK(pool);
    for (intptr_t i = 1; i <= 300; i++)
        MU_CHECK_EQ(mu_pool_submit(pool, square_job, (void *) i, -1, NULL), 0);
    int got = 0;
    bool seen[301] = { false };
    uint64_t id;
    void *result;
    while (got < 300 && mu_pool_result(pool, &id, &result, mu_test_ms(5000)) == 0) {
        MU_CHECK(id >= 1 && id <= 300 && !seen[id]);
        MU_CHECK_EQ((intptr_t) result, (intptr_t) (id * id));
        seen[id] = true;
        got++;
    }
    MU_CHECK_EQ(got, 300);
    mu_pool_destroy(&pool);
}

static void
test_default_size_and_limits(void)
{
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    int want = ncpu < 4 ? 4 : ncpu > 32 ? 32 : (int) ncpu;
    MU_CHECK_EQ(mu_pool_default_size(), want);
    mu_pool_t *pool = mu_pool_new(0, 0);
    MU_CHECK(pool);
    MU_CHECK_EQ(mu_pool_size(pool), want);
    mu_pool_destroy(&pool);
    errno = 0;
    MU_CHECK(mu_pool_new(5000, 0) == NULL && errno == EINVAL);
    MU_CHECK_EQ(mu_last_code(), MU_EINVAL);
    MU_CHECK_EQ(strcmp(mu_last_error(), "invalid argument: pool size 5000 above 1024"), 0);
}

static int gate[2] = { -1, -1 };

/*  Blocks until a byte arrives on the gate pipe. */
static void *
gated_job(void *arg)
{
    mu_test_counter_add(&started);
    char byte;
    if (read(gate[0], &byte, 1) != 1)
        return NULL;
    return arg;
}

static void
test_backpressure(void)
{
    MU_CHECK(pipe(gate) == 0);
    mu_test_counter_set(&started, 0);
    mu_pool_t *pool = mu_pool_new(1, 2);
    MU_CHECK(pool);
    /* one running (blocked) + two queued fill it */
    MU_CHECK_EQ(mu_pool_submit(pool, gated_job, (void *) 1, -1, NULL), 0);
    MU_CHECK(mu_test_counter_wait(&started, 1, 5000));
    MU_CHECK_EQ(mu_pool_submit(pool, gated_job, (void *) 2, -1, NULL), 0);
    MU_CHECK_EQ(mu_pool_submit(pool, gated_job, (void *) 3, -1, NULL), 0);
    int64_t t0 = mu_test_now_ms();
    MU_CHECK_EQ(mu_pool_submit(pool, gated_job, (void *) 4, 100, NULL), MU_ETIMEDOUT);
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

static void *
slow_job(void *arg)
{
    mu_test_counter_add(&started);
    mu_test_sleep_ms(mu_test_ms(300)); /* a job that takes a while */
    atomic_store((atomic_int *) arg, 1);
    return NULL;
}

static void
test_destroy_waits_for_running(void)
{
    atomic_int done = 0, never = 0;
    mu_pool_t *pool = mu_pool_new(1, 4);
    MU_CHECK(pool);
    mu_test_counter_set(&started, 0);
    MU_CHECK_EQ(mu_pool_submit(pool, slow_job, &done, -1, NULL), 0);
    MU_CHECK(mu_test_counter_wait(&started, 1, 5000));
    MU_CHECK_EQ(mu_pool_submit(pool, slow_job, &never, -1, NULL), 0);
    mu_pool_destroy(&pool);
    MU_CHECK_EQ(atomic_load(&done), 1);  /* the running job finished */
    MU_CHECK_EQ(atomic_load(&never), 0); /* the waiting one was discarded */
}

/*  With no file descriptor left, mu_pool_new fails with EMFILE. */
static void
test_new_without_fds(void)
{
    struct rlimit old;
    MU_CHECK(mu_test_limit_fds(&old));
    errno = 0;
    mu_pool_t *pool = mu_pool_new(1, 1);
    int pool_errno = errno;
    MU_CHECK_EQ(setrlimit(RLIMIT_NOFILE, &old), 0);
    mu_pool_destroy(&pool);
    MU_CHECK_EQ(pool_errno, EMFILE);
    MU_CHECK_EQ(mu_last_code(), -EMFILE);
    MU_CHECK(strstr(mu_last_error(), "pool: eventfd"));
}

/*  A caller bug (a NULL job) is an assertion, not an error code. */
static void
test_caller_bug_asserts(void)
{
    pid_t pid = fork();
    MU_CHECK(pid >= 0);
    if (pid == 0) {
        close(STDERR_FILENO); /* the assertion's message */
        mu_pool_t *pool = mu_pool_new(1, 1);
        if (pool && mu_pool_submit(pool, NULL, NULL, 0, NULL) == 0)
            _exit(2);
        _exit(0);
    }
    int status = 0;
    MU_CHECK_EQ(waitpid(pid, &status, 0), pid);
    MU_CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT);
}

int
main(void)
{
    mu_test_start(30);
    mu_test_counter_init(&started);
    MU_RUN(test_caller_bug_asserts); /* forks: before czmq runs */
    MU_RUN(test_results_via_poll);
    MU_RUN(test_results_kept_until_taken);
    MU_RUN(test_default_size_and_limits);
    MU_RUN(test_backpressure);
    MU_RUN(test_destroy_waits_for_running);
    MU_RUN(test_new_without_fds);
    zsys_shutdown();
    MU_DONE();
}
