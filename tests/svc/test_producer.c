/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  test_producer.c — the producer queue (include/mu_producer.h):
    back-pressure, the end of the stream, the generator's error and its
    detail, destroy while the generator waits, timeouts, constructor
    failures. */
#include "mu_test.h"
#include "mutil.h"
#include <poll.h>
#include <pthread.h>
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

/*  What a counting generator does and has done; the test waits on puts. */
typedef struct {
    int limit;    /* items to produce */
    int end_code; /* returned at the end */
    pthread_mutex_t mutex;
    pthread_cond_t cv; /* put_ok changed */
    int put_ok;        /* puts that returned 0 */
    bool closed_seen;  /* a put returned MU_ECLOSED */
} gen_t;

static void
gen_init(gen_t *g, int limit, int end_code)
{
    *g = (gen_t) { .limit = limit, .end_code = end_code };
    pthread_mutex_init(&g->mutex, NULL);
    mu_test_cond_init(&g->cv);
}

static void
gen_fini(gen_t *g)
{
    pthread_cond_destroy(&g->cv);
    pthread_mutex_destroy(&g->mutex);
}

/*  Waits up to 5 s (scaled) until want puts have succeeded. */
static bool
gen_wait_puts(gen_t *g, int want)
{
    return mu_test_wait_count(&g->mutex, &g->cv, &g->put_ok, want, 5000);
}

static int
gen_puts(gen_t *g)
{
    pthread_mutex_lock(&g->mutex);
    int n = g->put_ok;
    pthread_mutex_unlock(&g->mutex);
    return n;
}

static int
counting_generator(void *arg, mu_producer_t *p)
{
    gen_t *g = arg;
    for (intptr_t i = 1; i <= g->limit; i++) {
        int *item = malloc(sizeof *item);
        if (!item)
            return MU_ENOMEM;
        *item = (int) i;
        int rc = mu_producer_put(p, item);
        pthread_mutex_lock(&g->mutex);
        if (rc == 0)
            g->put_ok++;
        else
            g->closed_seen = rc == MU_ECLOSED;
        pthread_cond_broadcast(&g->cv);
        pthread_mutex_unlock(&g->mutex);
        if (rc != 0) {
            free(item);
            return 0;
        }
    }
    if (g->end_code == MU_ENOENT) /* an error with a detail, as a failing mutil call records */
        return mu_pool_new(5000, 0) ? 0 : mu_last_code();
    return g->end_code;
}

static void
test_backpressure_and_end(void)
{
    gen_t g;
    gen_init(&g, 20, 0);
    mu_producer_t *p = mu_producer_new(counting_generator, &g, 4, free);
    MU_CHECK(p);
    MU_CHECK(gen_wait_puts(&g, 4));
    mu_test_sleep_ms(200); /* a window in which nothing may happen */
    /* the consumer has not read: the generator is blocked on item 5 */
    MU_CHECK_EQ(gen_puts(&g), 4);
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
    MU_CHECK(fd_readable(mu_producer_fd(p), 0)); /* the end stays readable */
    MU_CHECK_EQ(mu_producer_next(p, &item, 0), MU_ECLOSED);
    mu_producer_destroy(&p);
    MU_CHECK(p == NULL);
    mu_producer_destroy(&p);
    gen_fini(&g);
}

static void
test_error_end(void)
{
    gen_t g;
    gen_init(&g, 2, MU_EIO);
    mu_producer_t *p = mu_producer_new(counting_generator, &g, 8, free);
    MU_CHECK(p);
    void *item = NULL;
    MU_CHECK_EQ(mu_producer_next(p, &item, mu_test_ms(5000)), 0);
    free(item);
    MU_CHECK_EQ(mu_producer_next(p, &item, mu_test_ms(5000)), 0);
    free(item);
    MU_CHECK_EQ(mu_producer_next(p, &item, mu_test_ms(5000)), MU_EIO);
    MU_CHECK_EQ(strcmp(mu_last_error(), "input/output error"), 0);
    MU_CHECK_EQ(mu_producer_next(p, &item, mu_test_ms(5000)), MU_ECLOSED);
    mu_producer_destroy(&p);
    gen_fini(&g);
}

/*  The detail the generator's failing call recorded (on the producer's
    thread) reaches the consumer's thread with the code. */
static void
test_error_detail_passed_on(void)
{
    gen_t g;
    gen_init(&g, 0, MU_ENOENT);
    mu_producer_t *p = mu_producer_new(counting_generator, &g, 1, free);
    MU_CHECK(p);
    void *item = NULL;
    MU_CHECK_EQ(mu_producer_next(p, &item, mu_test_ms(5000)), MU_EINVAL);
    MU_CHECK_EQ(mu_last_code(), MU_EINVAL);
    MU_CHECK_EQ(strcmp(mu_last_error(), "invalid argument: pool size 5000 above 1024"), 0);
    mu_producer_destroy(&p);
    gen_fini(&g);
}

static void
test_destroy_while_blocked(void)
{
    gen_t g;
    gen_init(&g, 1000000, 0);
    mu_producer_t *p = mu_producer_new(counting_generator, &g, 3, free);
    MU_CHECK(p);
    MU_CHECK(gen_wait_puts(&g, 3));
    int64_t t0 = mu_test_now_ms();
    mu_producer_destroy(&p);                            /* frees the 3 queued items (ASan checks) */
    MU_CHECK(mu_test_now_ms() - t0 < mu_test_ms(5000)); /* woken, not waited for */
    MU_CHECK_EQ(gen_puts(&g), 3);
    MU_CHECK(g.closed_seen);
    gen_fini(&g);
}

static bool
producer_stopping(void *p)
{
    return mu_producer_stopping(p);
}

/*  Waits politely until told to stop: produces nothing. A generator that
    puts nothing has only the mu_producer_stopping flag, no event: it
    polls it (mu_test_poll_until). */
static int
idle_generator(void *arg, mu_producer_t *p)
{
    (void) arg;
    mu_test_poll_until(producer_stopping, p, 60000);
    return 0;
}

static void
test_timeouts_and_capacity(void)
{
    errno = 0;
    MU_CHECK(mu_producer_new(idle_generator, NULL, 0, NULL) == NULL && errno == EINVAL);
    MU_CHECK_EQ(strcmp(mu_last_error(), "invalid argument: producer capacity 0"), 0);
    mu_producer_t *p = mu_producer_new(idle_generator, NULL, 4, NULL);
    MU_CHECK(p);
    void *item = NULL;
    MU_CHECK(!fd_readable(mu_producer_fd(p), 0));
    int64_t t0 = mu_test_now_ms();
    MU_CHECK_EQ(mu_producer_next(p, &item, 100), MU_ETIMEDOUT);
    MU_CHECK(mu_test_now_ms() - t0 >= 100);
    MU_CHECK_EQ(mu_producer_next(p, &item, 0), MU_EAGAIN);
    MU_CHECK_EQ(mu_last_code(), MU_EAGAIN);
    mu_producer_destroy(&p);
}

/*  With no file descriptor left, mu_producer_new fails with EMFILE. */
static void
test_new_without_fds(void)
{
    struct rlimit old;
    MU_CHECK(mu_test_limit_fds(&old));
    errno = 0;
    mu_producer_t *producer = mu_producer_new(idle_generator, NULL, 1, NULL);
    int producer_errno = errno;
    MU_CHECK_EQ(setrlimit(RLIMIT_NOFILE, &old), 0);
    mu_producer_destroy(&producer);
    MU_CHECK_EQ(producer_errno, EMFILE);
    MU_CHECK(strstr(mu_last_error(), "producer: eventfd"));
}

/*  A caller bug (no generator) is an assertion, not an error code. */
static void
test_caller_bug_asserts(void)
{
    pid_t pid = fork();
    MU_CHECK(pid >= 0);
    if (pid == 0) {
        close(STDERR_FILENO); /* the assertion's message */
        mu_producer_t *p = mu_producer_new(NULL, NULL, 1, NULL);
        _exit(p ? 2 : 0);
    }
    int status = 0;
    MU_CHECK_EQ(waitpid(pid, &status, 0), pid);
    MU_CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT);
}

int
main(void)
{
    mu_test_start(30);
    MU_RUN(test_caller_bug_asserts);
    MU_RUN(test_backpressure_and_end);
    MU_RUN(test_error_end);
    MU_RUN(test_error_detail_passed_on);
    MU_RUN(test_destroy_while_blocked);
    MU_RUN(test_timeouts_and_capacity);
    MU_RUN(test_new_without_fds);
    MU_DONE();
}
