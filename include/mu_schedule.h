/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_schedule.h — ready-made services that call a function on a schedule:
    periodic (every interval, with jitter, never overlapping) and cron-like
    (minute, hour, day of month, month, day of week), plus the cron
    expression itself (parse, next fire time).

    Both services are forever services (mu_service.h): their start() marks
    them ready, then calls the function on its own thread until the
    service's stop event, and returns. One thread per service, so a call
    never overlaps the previous one: a slow call delays the next. They are
    added with mu_entrypoint_add_def (or listed for mu_run) from the
    mu_service_def_t that mu_periodic_service / mu_cron_service return.
    doc/service.md explains the timing rules. */
#ifndef MU_SCHEDULE_H_INCLUDED
#define MU_SCHEDULE_H_INCLUDED

#include <stdbool.h>
#include <stdint.h>
#include "mu_defs.h"
#include "mu_error.h"
#include "mu_service.h"

#ifdef __cplusplus
extern "C" {
#endif

/*  A scheduled call: returns 0, or a negative code (counted in the stats'
    errors and logged; the schedule goes on). Runs on the service's
    thread. */
typedef int(mu_tick_fn)(void *arg);

/* ------------------------------------------------------------------ */
/* Periodic                                                            */

typedef struct mu_periodic_t mu_periodic_t;

/*  Creates a schedule calling fn(arg) every interval_ms (> 0), each call
    delayed by a random 0..jitter_ms (>= 0, below interval_ms). The first
    call comes one interval (plus jitter) after the start, unless
    mu_periodic_set_first sets another delay. Returns NULL with errno EINVAL
    (a bad interval or jitter) or ENOMEM. */
MU_EXPORT MU_NODISCARD mu_periodic_t *mu_periodic_new(int interval_ms, int jitter_ms,
                                                      mu_tick_fn *fn, void *arg);

/*  Frees the schedule. Its service must not run (stopped or never added).
    NULL-safe; sets *self_p to NULL. */
MU_EXPORT void mu_periodic_destroy(mu_periodic_t **self_p);

/*  Sets the delay of the first call after the start (0: at once; default
    interval_ms). Returns 0 or MU_EINVAL (below 0). Before the start. */
MU_EXPORT MU_NODISCARD int mu_periodic_set_first(mu_periodic_t *self, int delay_ms);

/*  Returns a service definition named name (not copied: keep it alive)
    whose start runs the schedule. For mu_entrypoint_add_def or mu_run. */
MU_EXPORT mu_service_def_t mu_periodic_service(mu_periodic_t *self, const char *name);

/*  Totals since creation. Ticks are on a grid (start + k × interval);
    a call that ends after the next grid point makes that tick late (it
    runs at once, without jitter) and every whole interval beyond it
    skipped (never run). Set size first: `mu_periodic_stats_t st = {
    .size = sizeof st };`. */
typedef struct {
    size_t size;      /* set by the caller: sizeof (mu_periodic_stats_t) */
    uint64_t calls;   /* fn calls made */
    uint64_t errors;  /* calls that returned a negative code */
    uint64_t late;    /* calls made after their grid point had passed */
    uint64_t skipped; /* grid points passed over by a slow call */
} mu_periodic_stats_t;

/*  Copies the totals into *stats (thread-safe). Returns 0, or MU_EINVAL
    when stats->size is smaller than the first version of the struct. */
MU_EXPORT MU_NODISCARD int mu_periodic_stats(const mu_periodic_t *self, mu_periodic_stats_t *stats);

/* ------------------------------------------------------------------ */
/* Cron                                                                */

typedef struct mu_cron_t mu_cron_t;

#define MU_CRON_UTC 1 /* evaluate the fields in UTC instead of local time */

/*  Parses a cron expression of five fields separated by blanks: minute
    (0-59), hour (0-23), day of month (1-31), month (1-12 or jan-dec), day
    of week (0-7 or sun-sat; 0 and 7 are Sunday). Each field is "*" or a
    comma list of N, N-M, with an optional "/step" after "*", N-M or N
    (N/step: N to the field's maximum). As in Vixie cron, when both day
    fields are restricted (neither starts with "*") a day matches if
    either does. "@yearly", "@monthly", "@weekly", "@daily", "@hourly" are
    accepted. flags: 0 (local time, the TZ of the process) or MU_CRON_UTC.
    Returns NULL with errno EINVAL (mu_last_error names the field and the
    fault) or ENOMEM. */
MU_EXPORT MU_NODISCARD mu_cron_t *mu_cron_new(const char *expr, int flags);

/*  Frees the expression. Its service must not run. NULL-safe; sets
    *self_p to NULL. */
MU_EXPORT void mu_cron_destroy(mu_cron_t **self_p);

/*  Stores in *next_p the first time (seconds since the epoch, whole
    minute) strictly after `after` that matches. Local time: a matching
    time that does not exist (skipped by a DST change) does not fire; one
    that occurs twice (clocks set back) fires at its first occurrence only
    when minute and hour are fixed (no "*"), in both when either is a
    wildcard (an hourly job keeps to real time).
    Returns 0, MU_ENOENT when nothing matches within 8 years or before
    the year 10000 (such as "0 0 30 2 *"), or MU_EINVAL when `after` is outside the years 1 to
    9999 (UTC: -62135596800 to 253402300799). Thread-safe. */
MU_EXPORT MU_NODISCARD int mu_cron_next(const mu_cron_t *self, int64_t after, int64_t *next_p);

/*  Replaces the clock the cron service reads (seconds since the epoch;
    default time(NULL)); for tests. The service re-reads it at least every
    check_ms (> 0; default 1000), so that a clock step is noticed. Before
    the start. */
MU_EXPORT void mu_cron_set_clock(mu_cron_t *self, int64_t (*now_fn)(void *arg), void *arg,
                                 int check_ms);

/*  Returns a service definition named name (not copied) whose start calls
    fn(arg) at every fire time of the expression (times passed while a call
    ran, or while the process slept, are skipped and counted). */
MU_EXPORT mu_service_def_t mu_cron_service(mu_cron_t *self, const char *name, mu_tick_fn *fn,
                                           void *arg);

/*  The cron service's totals: calls, errors and skipped fire times (late
    is always 0). Same rules as mu_periodic_stats. */
MU_EXPORT MU_NODISCARD int mu_cron_stats(const mu_cron_t *self, mu_periodic_stats_t *stats);

#ifdef __cplusplus
}
#endif
#endif
