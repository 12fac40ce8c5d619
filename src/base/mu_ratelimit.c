/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_ratelimit.c — the token bucket and sliding window of
    include/mu_ratelimit.h, with the blocking wait and the timerfd that
    tells an event loop when a token is available. */
#include "base/mu_internal.h"
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define NS_PER_MS INT64_C(1000000)

struct mu_ratelimit_t {
    pthread_mutex_t lock;
    mu_ratelimit_opts_t opts;
    int64_t period_ns;
    int fd; /* timerfd, -1 until mu_ratelimit_fd */
    /* token bucket: credit in units of 1/period_ns token, at most cap */
    int64_t credit;
    int64_t cap;
    int64_t last; /* clock time credit was computed for */
    /* sliding window: times of the last events, oldest first (ring) */
    int64_t *times;
    uint32_t head;
    uint32_t count;
};

static int64_t
real_clock_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t
clock_ns(const mu_ratelimit_t *self)
{
    if (self->opts.clock)
        return self->opts.clock(self->opts.clock_arg);
    return real_clock_ns();
}

static int
check_opts(const mu_ratelimit_opts_t *o)
{
    if (o->kind != MU_RATELIMIT_TOKEN_BUCKET && o->kind != MU_RATELIMIT_SLIDING_WINDOW)
        return mu__fail(MU_EINVAL, "rate limit kind %d", (int) o->kind);
    if (o->limit == 0 || o->limit > MU_RATELIMIT_MAX_LIMIT)
        return mu__fail(MU_EINVAL, "rate limit %u not in 1..%u", o->limit, MU_RATELIMIT_MAX_LIMIT);
    if (o->period_ms < 1 || o->period_ms > MU_RATELIMIT_MAX_PERIOD_MS)
        return mu__fail(MU_EINVAL, "rate limit period %lld ms not in 1..%d",
                        (long long) o->period_ms, MU_RATELIMIT_MAX_PERIOD_MS);
    if (o->kind == MU_RATELIMIT_SLIDING_WINDOW && o->burst != 0)
        return mu__fail(MU_EINVAL, "a sliding window has no burst");
    uint32_t burst = o->burst ? o->burst : o->limit;
    if (burst > MU_RATELIMIT_MAX_LIMIT)
        return mu__fail(MU_EINVAL, "rate limit burst %u above %u", burst, MU_RATELIMIT_MAX_LIMIT);
    if ((int64_t) burst * o->period_ms > MU_RATELIMIT_MAX_BURST_MS)
        return mu__fail(MU_EINVAL, "rate limit burst x period above %lld",
                        (long long) MU_RATELIMIT_MAX_BURST_MS);
    return 0;
}

mu_ratelimit_t *
mu_ratelimit_new(const mu_ratelimit_opts_t *opts)
{
    assert(opts);
    if (check_opts(opts) < 0) {
        errno = EINVAL; /* recorded by check_opts */
        return NULL;
    }
    mu_ratelimit_t *self = calloc(1, sizeof *self);
    if (!self)
        return mu__fail_null(MU_ENOMEM, "rate limiter");
    self->opts = *opts;
    self->period_ns = opts->period_ms * NS_PER_MS;
    self->fd = -1;
    if (opts->kind == MU_RATELIMIT_SLIDING_WINDOW) {
        self->times = calloc(opts->limit, sizeof *self->times);
        if (!self->times) {
            free(self);
            return mu__fail_null(MU_ENOMEM, "rate limit window of %u", opts->limit);
        }
    } else {
        if (!self->opts.burst)
            self->opts.burst = opts->limit;
        self->cap = (int64_t) self->opts.burst * self->period_ns;
        self->credit = self->cap;
    }
    pthread_mutex_init(&self->lock, NULL);
    self->last = clock_ns(self);
    return self;
}

void
mu_ratelimit_destroy(mu_ratelimit_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    mu_ratelimit_t *self = *self_p;
    if (self->fd >= 0)
        close(self->fd);
    pthread_mutex_destroy(&self->lock);
    free(self->times);
    free(self);
    *self_p = NULL;
}

/* The most tokens one call may ask for. */
static uint32_t
capacity(const mu_ratelimit_t *self)
{
    return self->opts.kind == MU_RATELIMIT_TOKEN_BUCKET ? self->opts.burst : self->opts.limit;
}

/* Brings the state up to now: accrues a bucket's credit, drops the
   window's events older than one period. */
static void
advance(mu_ratelimit_t *self, int64_t now)
{
    if (self->opts.kind == MU_RATELIMIT_SLIDING_WINDOW) {
        while (self->count > 0 && self->times[self->head] + self->period_ns <= now) {
            self->head = (self->head + 1) % self->opts.limit;
            self->count--;
        }
        return;
    }
    if (now <= self->last)
        return; /* a clock that went back accrues nothing */
    int64_t elapsed = now - self->last;
    int64_t room = self->cap - self->credit;
    int64_t limit = self->opts.limit;
    /* elapsed * limit fills the room: compare without multiplying */
    if (elapsed >= (room + limit - 1) / limit)
        self->credit = self->cap;
    else
        self->credit += elapsed * limit;
    self->last = now;
}

/* Nanoseconds from now until n tokens are there (state advanced). */
static int64_t
delay_of(const mu_ratelimit_t *self, uint32_t n, int64_t now)
{
    if (self->opts.kind == MU_RATELIMIT_SLIDING_WINDOW) {
        if (self->count + n <= self->opts.limit)
            return 0;
        uint32_t k = self->count + n - self->opts.limit; /* events that must expire */
        int64_t expires = self->times[(self->head + k - 1) % self->opts.limit] + self->period_ns;
        return expires > now ? expires - now : 0;
    }
    int64_t need = (int64_t) n * self->period_ns;
    if (self->credit >= need)
        return 0;
    int64_t limit = self->opts.limit;
    return (need - self->credit + limit - 1) / limit;
}

static void
take(mu_ratelimit_t *self, uint32_t n, int64_t now)
{
    if (self->opts.kind == MU_RATELIMIT_TOKEN_BUCKET) {
        self->credit -= (int64_t) n * self->period_ns;
        return;
    }
    for (uint32_t i = 0; i < n; i++) {
        self->times[(self->head + self->count) % self->opts.limit] = now;
        self->count++;
    }
}

/* Arms the timerfd to fire when one token is there (at once when it is);
   under the lock, state advanced to now. */
static void
arm_fd(mu_ratelimit_t *self, int64_t now)
{
    if (self->fd < 0)
        return;
    int64_t d = delay_of(self, 1, now);
    if (d < 1)
        d = 1; /* an it_value of zero would disarm */
    struct itimerspec its = { .it_value = { .tv_sec = d / 1000000000, .tv_nsec = d % 1000000000 } };
    (void) timerfd_settime(self->fd, 0, &its, NULL);
}

static int
check_n(const mu_ratelimit_t *self, uint32_t n)
{
    if (n == 0 || n > capacity(self))
        return mu__fail(MU_EINVAL, "%u tokens: a rate limiter holds 1..%u", n, capacity(self));
    return 0;
}

/* One attempt under the lock: takes n tokens (returns 0) or returns the
   delay until they are there (> 0). */
static int64_t
attempt(mu_ratelimit_t *self, uint32_t n)
{
    int64_t now = clock_ns(self);
    advance(self, now);
    int64_t d = delay_of(self, n, now);
    if (d == 0)
        take(self, n, now);
    arm_fd(self, now);
    return d;
}

int
mu_ratelimit_try(mu_ratelimit_t *self, uint32_t n)
{
    assert(self);
    int rc = check_n(self, n);
    if (rc < 0)
        return rc;
    pthread_mutex_lock(&self->lock);
    int64_t d = attempt(self, n);
    pthread_mutex_unlock(&self->lock);
    return d == 0 ? 0 : MU_EAGAIN;
}

static void
sleep_until_ns(int64_t when)
{
    struct timespec ts = { .tv_sec = when / 1000000000, .tv_nsec = when % 1000000000 };
    (void) clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
}

int
mu_ratelimit_acquire(mu_ratelimit_t *self, uint32_t n, int timeout_ms)
{
    assert(self);
    if (timeout_ms < -1)
        return mu__fail(MU_EINVAL, "timeout %d ms", timeout_ms);
    int rc = check_n(self, n);
    if (rc < 0)
        return rc;
    int64_t deadline = timeout_ms < 0 ? -1 : real_clock_ns() + timeout_ms * NS_PER_MS;
    for (;;) {
        pthread_mutex_lock(&self->lock);
        int64_t d = attempt(self, n);
        pthread_mutex_unlock(&self->lock);
        if (d == 0)
            return 0;
        int64_t wake = real_clock_ns() + d;
        if (deadline >= 0 && wake > deadline)
            return mu__expired(timeout_ms);
        sleep_until_ns(wake);
    }
}

int64_t
mu_ratelimit_delay_ns(mu_ratelimit_t *self, uint32_t n)
{
    assert(self);
    int rc = check_n(self, n);
    if (rc < 0)
        return rc;
    pthread_mutex_lock(&self->lock);
    int64_t now = clock_ns(self);
    advance(self, now);
    int64_t d = delay_of(self, n, now);
    pthread_mutex_unlock(&self->lock);
    return d;
}

int
mu_ratelimit_fd(mu_ratelimit_t *self)
{
    assert(self);
    pthread_mutex_lock(&self->lock);
    int rc = self->fd;
    if (rc < 0) {
        int fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
        if (fd < 0)
            rc = mu__fail(-errno, "rate limiter timerfd");
        else
            rc = self->fd = fd;
    }
    if (rc >= 0) {
        int64_t now = clock_ns(self);
        advance(self, now);
        arm_fd(self, now);
    }
    pthread_mutex_unlock(&self->lock);
    return rc;
}
