/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_schedule.c — the periodic and the cron services. The contract is in
    include/mu_schedule.h; the timing rules in doc/service.md. */
#include "svc/mu_schedule_int.h"
#include "mu_log.h"
#include <czmq.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CRON_CHECK_MS 1000

typedef struct {
    atomic_uint_fast64_t calls, errors, late, skipped;
} counts_t;

struct mu_periodic_t {
    int interval_ms, jitter_ms, first_ms;
    mu_tick_fn *fn;
    void *arg;
    uint64_t rand_state;
    counts_t counts;
};

struct mu_cron_t {
    mu__cron_expr_t expr;
    mu_tick_fn *fn;
    void *arg;
    int64_t (*now_fn)(void *arg);
    void *now_arg;
    int check_ms;
    counts_t counts;
};

static void
counts_init(counts_t *c)
{
    atomic_init(&c->calls, 0);
    atomic_init(&c->errors, 0);
    atomic_init(&c->late, 0);
    atomic_init(&c->skipped, 0);
}

static int
counts_copy(const counts_t *c, mu_periodic_stats_t *stats)
{
    mu_periodic_stats_t all = { .size = sizeof all,
                                .calls = atomic_load(&c->calls),
                                .errors = atomic_load(&c->errors),
                                .late = atomic_load(&c->late),
                                .skipped = atomic_load(&c->skipped) };
    return mu__stats_fill(stats, &all, sizeof all, sizeof all);
}

/*  Calls fn, counting the call and its failure (logged). */
static void
call(mu_service_t *svc, mu_tick_fn *fn, void *arg, counts_t *c)
{
    int rc = fn(arg);
    atomic_fetch_add(&c->calls, 1);
    if (rc < 0) {
        atomic_fetch_add(&c->errors, 1);
        mu_log(MU_LOG_WARNING, "svc", "service '%s': scheduled call failed: %s",
               mu_service_name(svc), mu_strerror(rc));
    }
}

/* ------------------------------------------------------------------ */
/* Periodic                                                            */

mu_periodic_t *
mu_periodic_new(int interval_ms, int jitter_ms, mu_tick_fn *fn, void *arg)
{
    assert(fn);
    if (interval_ms <= 0)
        return mu__fail_null(MU_EINVAL, "periodic: interval %d ms (must be > 0)", interval_ms);
    if (jitter_ms < 0 || jitter_ms >= interval_ms)
        return mu__fail_null(MU_EINVAL, "periodic: jitter %d ms (0 to below the interval)",
                             jitter_ms);
    mu_periodic_t *self = calloc(1, sizeof *self);
    if (!self)
        return mu__fail_null(MU_ENOMEM, "periodic");
    self->interval_ms = interval_ms;
    self->jitter_ms = jitter_ms;
    self->first_ms = interval_ms;
    self->fn = fn;
    self->arg = arg;
    self->rand_state = (uint64_t) (uintptr_t) self ^ (uint64_t) mu__now_ms()
                       ^ 0x9e3779b97f4a7c15ULL;
    counts_init(&self->counts);
    return self;
}

void
mu_periodic_destroy(mu_periodic_t **self_p)
{
    assert(self_p);
    free(*self_p);
    *self_p = NULL;
}

int
mu_periodic_set_first(mu_periodic_t *self, int delay_ms)
{
    assert(self);
    if (delay_ms < 0)
        return mu__fail(MU_EINVAL, "periodic: first delay %d ms", delay_ms);
    self->first_ms = delay_ms;
    return 0;
}

/*  A random 0..jitter_ms (xorshift64; the start thread only). */
static int
jitter(mu_periodic_t *self)
{
    if (self->jitter_ms == 0)
        return 0;
    uint64_t x = self->rand_state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    self->rand_state = x;
    return (int) (x % (uint64_t) (self->jitter_ms + 1));
}

/*  After a call that ended at now: moves the grid point *grid_p to the
    next tick due, counting skipped and late ticks; returns when to call. */
static int64_t
next_tick(mu_periodic_t *self, int64_t *grid_p, int64_t now)
{
    int64_t grid = *grid_p + self->interval_ms;
    if (now < grid) {
        *grid_p = grid;
        return grid + jitter(self);
    }
    int64_t passed = (now - grid) / self->interval_ms; /* whole ticks missed */
    atomic_fetch_add(&self->counts.skipped, (uint64_t) passed);
    atomic_fetch_add(&self->counts.late, 1);
    *grid_p = grid + passed * self->interval_ms;
    return now;
}

static int
periodic_start(void *arg, mu_service_t *svc)
{
    mu_periodic_t *self = arg;
    mu_service_ready(svc);
    int64_t grid = mu__now_ms() + self->first_ms;
    int64_t when = grid + (self->first_ms ? jitter(self) : 0);
    for (;;) {
        int rc = mu_service_wait_stop(svc, mu__remaining_ms(when));
        if (rc == 0)
            return 0;
        if (rc != MU_ETIMEDOUT && rc != MU_EAGAIN)
            return rc;
        call(svc, self->fn, self->arg, &self->counts);
        when = next_tick(self, &grid, mu__now_ms());
    }
}

static const mu_service_ops_t s_periodic_ops = { periodic_start, NULL };

mu_service_def_t
mu_periodic_service(mu_periodic_t *self, const char *name)
{
    assert(self && name);
    return (mu_service_def_t) { name, &s_periodic_ops, self };
}

int
mu_periodic_stats(const mu_periodic_t *self, mu_periodic_stats_t *stats)
{
    assert(self && stats);
    return counts_copy(&self->counts, stats);
}

/* ------------------------------------------------------------------ */
/* Cron                                                                */

static int64_t
wall_clock(void *arg)
{
    (void) arg;
    return (int64_t) time(NULL);
}

mu_cron_t *
mu_cron_new(const char *expr, int flags)
{
    assert(expr);
    assert((flags & ~MU_CRON_UTC) == 0);
    mu_cron_t *self = calloc(1, sizeof *self);
    if (!self)
        return mu__fail_null(MU_ENOMEM, "cron");
    int rc = mu__cron_parse(&self->expr, expr);
    if (rc < 0) {
        free(self);
        return mu__fail_null(rc, "%s", mu__last_detail());
    }
    self->expr.utc = (flags & MU_CRON_UTC) != 0;
    self->now_fn = wall_clock;
    self->check_ms = CRON_CHECK_MS;
    counts_init(&self->counts);
    return self;
}

void
mu_cron_destroy(mu_cron_t **self_p)
{
    assert(self_p);
    free(*self_p);
    *self_p = NULL;
}

int
mu_cron_next(const mu_cron_t *self, int64_t after, int64_t *next_p)
{
    assert(self && next_p);
    return mu__cron_next(&self->expr, after, next_p);
}

void
mu_cron_set_clock(mu_cron_t *self, int64_t (*now_fn)(void *arg), void *arg, int check_ms)
{
    assert(self && check_ms > 0);
    self->now_fn = now_fn ? now_fn : wall_clock;
    self->now_arg = arg;
    self->check_ms = check_ms;
}

/*  Waits (re-reading the clock every check_ms) until `when` or the stop
    event. Returns 0 when it is time, 1 when stopped, or an error. */
static int
cron_wait(mu_cron_t *self, mu_service_t *svc, int64_t when)
{
    for (;;) {
        int64_t now = self->now_fn(self->now_arg);
        if (now >= when)
            return 0;
        int64_t left_ms = (when - now) * 1000;
        int wait_ms = left_ms < self->check_ms ? (int) left_ms : self->check_ms;
        int rc = mu_service_wait_stop(svc, wait_ms);
        if (rc == 0)
            return 1;
        if (rc != MU_ETIMEDOUT)
            return rc;
    }
}

/*  Fire times counted as skipped between two looks at the stop event. */
#define CATCH_UP_CHECK 4096

static int
cron_start(void *arg, mu_service_t *svc)
{
    mu_cron_t *self = arg;
    int64_t when;
    int rc = mu__cron_next(&self->expr, self->now_fn(self->now_arg), &when);
    mu_service_ready(svc); /* once the first fire time is known */
    while (rc == 0) {
        rc = cron_wait(self, svc, when);
        if (rc != 0)
            return rc > 0 ? 0 : rc;
        call(svc, self->fn, self->arg, &self->counts);
        int64_t now = self->now_fn(self->now_arg), next;
        rc = mu__cron_next(&self->expr, when, &next);
        for (uint64_t n = 1; rc == 0 && next <= now; n++) { /* passed while the call ran */
            atomic_fetch_add(&self->counts.skipped, 1);
            if (n % CATCH_UP_CHECK == 0 && mu_service_stopping(svc))
                return 0; /* a clock stepped years on: millions of fire times to count */
            rc = mu__cron_next(&self->expr, next, &next);
        }
        when = next;
    }
    /* no fire time left: idle until stopped */
    return mu_service_wait_stop(svc, -1);
}

static const mu_service_ops_t s_cron_ops = { cron_start, NULL };

mu_service_def_t
mu_cron_service(mu_cron_t *self, const char *name, mu_tick_fn *fn, void *arg)
{
    assert(self && name && fn);
    self->fn = fn;
    self->arg = arg;
    return (mu_service_def_t) { name, &s_cron_ops, self };
}

int
mu_cron_stats(const mu_cron_t *self, mu_periodic_stats_t *stats)
{
    assert(self && stats);
    return counts_copy(&self->counts, stats);
}
