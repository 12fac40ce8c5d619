/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  test_ratelimit.c — include/mu_ratelimit.h: exact token bucket and
    sliding window behaviour on an injected clock, every MU_EINVAL, the
    pollable fd, and a blocking acquire on the real clock (generous
    bounds). */
#include "mu_test.h"
#include "mutil.h"

#define MS INT64_C(1000000)

/* The fake clock the tests move by hand. */
static int64_t fake_now = 1000 * MS;

static int64_t
fake_clock(void *arg)
{
    (void) arg;
    return fake_now;
}

static mu_ratelimit_t *
fake_limiter(mu_ratelimit_kind_t kind, uint32_t limit, int64_t period_ms, uint32_t burst)
{
    mu_ratelimit_opts_t o = { .kind = kind,
                              .limit = limit,
                              .period_ms = period_ms,
                              .burst = burst,
                              .clock = fake_clock };
    return mu_ratelimit_new(&o);
}

/* 10 per second, burst 3: three at once, then one every 100 ms to the
   nanosecond. */
static void
test_bucket_exact(void)
{
    mu_ratelimit_t *rl = fake_limiter(MU_RATELIMIT_TOKEN_BUCKET, 10, 1000, 3);
    MU_CHECK(rl);
    for (int i = 0; i < 3; i++)
        MU_CHECK_EQ(mu_ratelimit_try(rl, 1), 0);
    MU_CHECK_EQ(mu_ratelimit_try(rl, 1), MU_EAGAIN);
    MU_CHECK_EQ(mu_ratelimit_delay_ns(rl, 1), 100 * MS);
    MU_CHECK_EQ(mu_ratelimit_delay_ns(rl, 3), 300 * MS);
    fake_now += 100 * MS - 1;
    MU_CHECK_EQ(mu_ratelimit_try(rl, 1), MU_EAGAIN);
    MU_CHECK_EQ(mu_ratelimit_delay_ns(rl, 1), 1);
    fake_now += 1;
    MU_CHECK_EQ(mu_ratelimit_try(rl, 1), 0);
    MU_CHECK_EQ(mu_ratelimit_try(rl, 1), MU_EAGAIN);
    /* a long idle spell refills to the burst, no more */
    fake_now += 3600 * 1000 * MS;
    MU_CHECK_EQ(mu_ratelimit_delay_ns(rl, 3), 0);
    MU_CHECK_EQ(mu_ratelimit_try(rl, 3), 0);
    MU_CHECK_EQ(mu_ratelimit_try(rl, 1), MU_EAGAIN);
    /* n tokens at once wait for all of them; a failed try takes none */
    fake_now += 150 * MS;
    MU_CHECK_EQ(mu_ratelimit_try(rl, 2), MU_EAGAIN);
    MU_CHECK_EQ(mu_ratelimit_delay_ns(rl, 2), 50 * MS);
    MU_CHECK_EQ(mu_ratelimit_try(rl, 1), 0);
    MU_CHECK_EQ(mu_ratelimit_delay_ns(rl, 1), 50 * MS);
    /* a clock that goes back accrues nothing and breaks nothing */
    fake_now -= 10 * MS;
    MU_CHECK_EQ(mu_ratelimit_try(rl, 1), MU_EAGAIN);
    fake_now += 10 * MS;
    mu_ratelimit_destroy(&rl);
    MU_CHECK(rl == NULL);
}

/* A rate that does not divide the period: 3 per 1000 ms accrues a token
   each 333.333… ms, with no drift over many tokens (burst 2: the bucket
   never fills, so no accrual is clipped). */
static void
test_bucket_no_drift(void)
{
    mu_ratelimit_t *rl = fake_limiter(MU_RATELIMIT_TOKEN_BUCKET, 3, 1000, 2);
    MU_CHECK(rl);
    MU_CHECK_EQ(mu_ratelimit_try(rl, 2), 0);
    MU_CHECK_EQ(mu_ratelimit_delay_ns(rl, 1), 333333334); /* rounded up */
    int64_t start = fake_now;
    int taken = 0;
    /* step 1 µs at a time through 10 s: exactly 30 tokens */
    for (int64_t t = 1; t <= 10000000; t += 1) {
        fake_now = start + t * 1000;
        if (mu_ratelimit_try(rl, 1) == 0)
            taken++;
    }
    MU_CHECK_EQ(taken, 30);
    mu_ratelimit_destroy(&rl);
}

/* 3 per 1000 ms window: the 4th event waits until the 1st is a full
   period old, to the nanosecond. */
static void
test_window_exact(void)
{
    mu_ratelimit_t *rl = fake_limiter(MU_RATELIMIT_SLIDING_WINDOW, 3, 1000, 0);
    MU_CHECK(rl);
    int64_t t0 = fake_now;
    MU_CHECK_EQ(mu_ratelimit_try(rl, 1), 0);
    fake_now = t0 + 200 * MS;
    MU_CHECK_EQ(mu_ratelimit_try(rl, 2), 0);
    MU_CHECK_EQ(mu_ratelimit_try(rl, 1), MU_EAGAIN);
    MU_CHECK_EQ(mu_ratelimit_delay_ns(rl, 1), 800 * MS);
    MU_CHECK_EQ(mu_ratelimit_delay_ns(rl, 2), 1000 * MS);
    MU_CHECK_EQ(mu_ratelimit_delay_ns(rl, 3), 1000 * MS);
    fake_now = t0 + 1000 * MS - 1;
    MU_CHECK_EQ(mu_ratelimit_try(rl, 1), MU_EAGAIN);
    fake_now = t0 + 1000 * MS;
    MU_CHECK_EQ(mu_ratelimit_try(rl, 2), MU_EAGAIN);
    MU_CHECK_EQ(mu_ratelimit_try(rl, 1), 0);
    MU_CHECK_EQ(mu_ratelimit_delay_ns(rl, 1), 200 * MS);
    /* no window of 1000 ms ever holds more than 3 events */
    int64_t times[64];
    int n = 0;
    for (int64_t t = 0; t < 5000 && n < 64; t++) {
        fake_now = t0 + 2000 * MS + t * MS;
        if (mu_ratelimit_try(rl, 1) == 0)
            times[n++] = fake_now;
    }
    MU_CHECK(n >= 15);
    for (int i = 3; i < n; i++)
        MU_CHECK(times[i] - times[i - 3] >= 1000 * MS);
    mu_ratelimit_destroy(&rl);
}

/* Every MU_EINVAL of mu_ratelimit_new, try, acquire and delay. */
static void
test_invalid(void)
{
    mu_ratelimit_opts_t bad[] = {
        { .kind = 7, .limit = 1, .period_ms = 1 },
        { .limit = 0, .period_ms = 1 },
        { .limit = MU_RATELIMIT_MAX_LIMIT + 1, .period_ms = 1 },
        { .limit = 1, .period_ms = 0 },
        { .limit = 1, .period_ms = MU_RATELIMIT_MAX_PERIOD_MS + 1 },
        { .limit = 1, .period_ms = 1, .burst = MU_RATELIMIT_MAX_LIMIT + 1 },
        { .kind = MU_RATELIMIT_SLIDING_WINDOW, .limit = 1, .period_ms = 1, .burst = 1 },
        { .limit = MU_RATELIMIT_MAX_LIMIT, .period_ms = MU_RATELIMIT_MAX_PERIOD_MS },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        errno = 0;
        mu_ratelimit_t *rl = mu_ratelimit_new(&bad[i]);
        if (rl)
            printf("# options %zu accepted\n", i);
        MU_CHECK(rl == NULL);
        MU_CHECK_EQ(errno, EINVAL);
        MU_CHECK_EQ(mu_last_code(), MU_EINVAL);
    }
    mu_ratelimit_t *rl = fake_limiter(MU_RATELIMIT_TOKEN_BUCKET, 10, 1000, 4);
    MU_CHECK(rl);
    MU_CHECK_EQ(mu_ratelimit_try(rl, 0), MU_EINVAL);
    MU_CHECK_EQ(mu_ratelimit_try(rl, 5), MU_EINVAL);
    MU_CHECK_EQ(mu_ratelimit_acquire(rl, 5, -1), MU_EINVAL);
    MU_CHECK_EQ(mu_ratelimit_acquire(rl, 1, -2), MU_EINVAL);
    MU_CHECK_EQ(mu_ratelimit_delay_ns(rl, 0), MU_EINVAL);
    MU_CHECK_EQ(mu_ratelimit_delay_ns(rl, 5), MU_EINVAL);
    MU_CHECK_EQ(mu_ratelimit_try(rl, 4), 0);
    mu_ratelimit_destroy(&rl);
    rl = fake_limiter(MU_RATELIMIT_SLIDING_WINDOW, 2, 1000, 0);
    MU_CHECK(rl);
    MU_CHECK_EQ(mu_ratelimit_try(rl, 3), MU_EINVAL);
    MU_CHECK_EQ(mu_ratelimit_try(rl, 2), 0);
    mu_ratelimit_destroy(&rl);
    mu_ratelimit_destroy(&rl); /* NULL-safe */
    mu_ratelimit_destroy(NULL);
}

/* acquire on a clock that does not move: 0 → MU_EAGAIN, a timeout too
   short for the delay → MU_ETIMEDOUT at once. */
static void
test_acquire_timeouts(void)
{
    mu_ratelimit_t *rl = fake_limiter(MU_RATELIMIT_TOKEN_BUCKET, 1, 60000, 1);
    MU_CHECK(rl);
    MU_CHECK_EQ(mu_ratelimit_acquire(rl, 1, 0), 0);
    MU_CHECK_EQ(mu_ratelimit_acquire(rl, 1, 0), MU_EAGAIN);
    int64_t t0 = mu_test_now_ms();
    MU_CHECK_EQ(mu_ratelimit_acquire(rl, 1, 1000), MU_ETIMEDOUT);
    MU_CHECK(mu_test_now_ms() - t0 < mu_test_ms(5000)); /* did not sleep the 60 s in vain */
    mu_ratelimit_destroy(&rl);
}

static bool
fd_readable(int fd, int timeout_ms)
{
    struct pollfd p = { .fd = fd, .events = POLLIN };
    return poll(&p, 1, timeout_ms) == 1 && (p.revents & POLLIN);
}

/* The fd polls readable while a token is there and turns readable again
   when the next one comes (real clock, 20 per second). */
static void
test_fd(void)
{
    mu_ratelimit_opts_t o = { .limit = 20, .period_ms = 1000, .burst = 2 };
    int64_t t0 = mu_test_now_ms(); /* before: 6 tokens need 200 ms from here */
    mu_ratelimit_t *rl = mu_ratelimit_new(&o);
    MU_CHECK(rl);
    int fd = mu_ratelimit_fd(rl);
    MU_CHECK(fd >= 0);
    MU_CHECK_EQ(mu_ratelimit_fd(rl), fd); /* same fd every call */
    MU_CHECK(fd_readable(fd, mu_test_ms(2000)));
    int taken = 0;
    while (taken < 6 && mu_test_now_ms() - t0 < mu_test_ms(10000)) {
        if (!fd_readable(fd, mu_test_ms(2000)))
            break;
        int rc = mu_ratelimit_try(rl, 1);
        MU_CHECK(rc == 0 || rc == MU_EAGAIN);
        if (rc == 0)
            taken++;
    }
    MU_CHECK_EQ(taken, 6);
    /* 4 tokens after the 2 of the burst take at least 200 ms */
    MU_CHECK(mu_test_now_ms() - t0 >= 199);
    mu_ratelimit_destroy(&rl);
    /* a bucket emptied by a take: the fd is not readable (next token in
       60 s, so no scheduling delay can make it so) */
    mu_ratelimit_opts_t slow = { .limit = 1, .period_ms = 60000 };
    rl = mu_ratelimit_new(&slow);
    MU_CHECK(rl);
    fd = mu_ratelimit_fd(rl);
    MU_CHECK(fd >= 0);
    MU_CHECK(fd_readable(fd, mu_test_ms(2000)));
    MU_CHECK_EQ(mu_ratelimit_try(rl, 1), 0);
    MU_CHECK(!fd_readable(fd, 0));
    MU_CHECK_EQ(mu_ratelimit_try(rl, 1), MU_EAGAIN);
    MU_CHECK(!fd_readable(fd, 50));
    mu_ratelimit_destroy(&rl);
}

struct worker {
    mu_ratelimit_t *rl;
    int got;
};

static void *
acquire_many(void *arg)
{
    struct worker *w = arg;
    for (int i = 0; i < 5; i++)
        if (mu_ratelimit_acquire(w->rl, 1, mu_test_ms(20000)) == 0)
            w->got++;
    return NULL;
}

/* Four threads take 20 tokens at 100 per second with a burst of 1 (real
   clock): every acquire succeeds and it takes at least 190 ms. */
static void
test_acquire_threads(void)
{
    mu_ratelimit_opts_t o = { .limit = 100, .period_ms = 1000, .burst = 1 };
    int64_t t0 = mu_test_now_ms(); /* before: 20 tokens need 190 ms from here */
    mu_ratelimit_t *rl = mu_ratelimit_new(&o);
    MU_CHECK(rl);
    struct worker w[4];
    pthread_t th[4];
    for (int i = 0; i < 4; i++) {
        w[i] = (struct worker) { .rl = rl };
        MU_CHECK(pthread_create(&th[i], NULL, acquire_many, &w[i]) == 0);
    }
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    int64_t took = mu_test_now_ms() - t0;
    for (int i = 0; i < 4; i++)
        MU_CHECK_EQ(w[i].got, 5);
    printf("# 20 tokens at 100/s took %lld ms\n", (long long) took);
    MU_CHECK(took >= 189);
    MU_CHECK(took < mu_test_ms(20000));
    mu_ratelimit_destroy(&rl);
}

int
main(void)
{
    mu_test_start(120);
    MU_RUN(test_bucket_exact);
    MU_RUN(test_bucket_no_drift);
    MU_RUN(test_window_exact);
    MU_RUN(test_invalid);
    MU_RUN(test_acquire_timeouts);
    MU_RUN(test_fd);
    MU_RUN(test_acquire_threads);
    MU_DONE();
}
