/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_ratelimit.h — rate limiting: a token bucket and a sliding window.

    A mu_ratelimit_t lets at most `limit` events through per `period_ms`:
    - MU_RATELIMIT_TOKEN_BUCKET: tokens accrue continuously at limit per
      period up to `burst` (default limit); an event takes one token. After
      an idle spell a burst of `burst` events passes at once, then events
      are spaced period / limit apart.
    - MU_RATELIMIT_SLIDING_WINDOW: no `period_ms`-long window holds more
      than `limit` events (the limiter keeps the last `limit` event times).
      Matches a server that counts requests over a moving window.
    Arithmetic is exact (integer nanoseconds, no rounding drift).

    Taking tokens: mu_ratelimit_try never waits; mu_ratelimit_acquire
    waits (timeout_ms -1 without limit, 0 not at all: MU_EAGAIN, > 0 at
    most that long: MU_ETIMEDOUT); mu_ratelimit_delay_ns tells how long
    until tokens are there; mu_ratelimit_fd gives an event loop an fd
    that polls readable when a token is available.

    The clock is CLOCK_MONOTONIC unless the options give another (tests
    inject a fake clock to check exact behaviour). Threads: every function
    may be called from any threads at once, except destroy, which must not
    race with the others. Failures are recorded for the calling thread
    (mu_last_error). */
#ifndef MU_RATELIMIT_H_INCLUDED
#define MU_RATELIMIT_H_INCLUDED

#include <stdint.h>
#include "mu_defs.h"
#include "mu_error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct mu_ratelimit_t mu_ratelimit_t;

/*  The algorithm of a limiter. */
typedef enum { MU_RATELIMIT_TOKEN_BUCKET = 0, MU_RATELIMIT_SLIDING_WINDOW = 1 } mu_ratelimit_kind_t;

/*  A clock: monotonic nanoseconds (any origin; never going backwards).
    Called with the limiter's lock held: it must not call the limiter. */
typedef int64_t(mu_ratelimit_clock_fn)(void *arg);

/*  The most events per period (and the largest burst) a limiter takes. */
#define MU_RATELIMIT_MAX_LIMIT 1000000u

/*  The longest period: one day. */
#define MU_RATELIMIT_MAX_PERIOD_MS 86400000

/*  The largest product burst x period_ms of a token bucket (its state is
    kept in 64-bit nanosecond units): e.g. a burst of 1e6 over at most 2.5
    hours, or 1000 over 104 days' worth (period still at most a day). */
#define MU_RATELIMIT_MAX_BURST_MS 9000000000000LL

/*  Options of mu_ratelimit_new; zero fields take the defaults. */
typedef struct {
    mu_ratelimit_kind_t kind;
    uint32_t limit;               /* events per period: 1..MU_RATELIMIT_MAX_LIMIT */
    int64_t period_ms;            /* 1..MU_RATELIMIT_MAX_PERIOD_MS */
    uint32_t burst;               /* token bucket only: capacity, 0 = limit, at
                                    most MU_RATELIMIT_MAX_LIMIT */
    mu_ratelimit_clock_fn *clock; /* NULL: CLOCK_MONOTONIC */
    void *clock_arg;              /* passed to clock */
} mu_ratelimit_opts_t;

/*  Creates a limiter from *opts (copied). A token bucket starts full
    (burst tokens), a sliding window empty (limit events may pass at
    once). Returns NULL with errno (mu_last_code) EINVAL (MU_EINVAL: kind
    unknown, limit 0 or above MU_RATELIMIT_MAX_LIMIT, period_ms out of
    1..MU_RATELIMIT_MAX_PERIOD_MS, burst above MU_RATELIMIT_MAX_LIMIT or
    set for a sliding window, burst x period_ms above
    MU_RATELIMIT_MAX_BURST_MS) or ENOMEM. A NULL opts is a caller bug
    (assert). */
MU_EXPORT MU_NODISCARD mu_ratelimit_t *mu_ratelimit_new(const mu_ratelimit_opts_t *opts);

/*  Frees the limiter and closes its fd. NULL-safe; sets *self_p to NULL.
    No call may be running on it (in particular no mu_ratelimit_acquire
    waiting). */
MU_EXPORT void mu_ratelimit_destroy(mu_ratelimit_t **self_p);

/*  Takes n tokens if they are all available now, without waiting.
    Returns 0 (taken), MU_EAGAIN (not enough yet: nothing taken), or
    MU_EINVAL when n is 0 or more than the limiter can ever hold (a token
    bucket's burst, a sliding window's limit). */
MU_EXPORT MU_NODISCARD int mu_ratelimit_try(mu_ratelimit_t *self, uint32_t n);

/*  Takes n tokens, waiting for them up to timeout_ms (-1: without limit,
    0: no wait). When they cannot be there before the timeout ends, it
    returns at once instead of sleeping in vain: MU_EAGAIN for timeout_ms
    0, MU_ETIMEDOUT otherwise (nothing taken). Waiters are not queued: of
    several threads waiting, the first to wake up after the tokens are
    there takes them. Returns 0, MU_EAGAIN, MU_ETIMEDOUT, or MU_EINVAL (n
    as for mu_ratelimit_try; timeout_ms below -1). With an injected clock
    the delays it computes on that clock are slept on the real one. */
MU_EXPORT MU_NODISCARD int mu_ratelimit_acquire(mu_ratelimit_t *self, uint32_t n, int timeout_ms);

/*  Returns how many nanoseconds from now (on the limiter's clock) until n
    tokens are available if nobody takes any meanwhile: 0 when they are
    available now. Takes nothing. Returns MU_EINVAL for a bad n (as for
    mu_ratelimit_try). */
MU_EXPORT int64_t mu_ratelimit_delay_ns(mu_ratelimit_t *self, uint32_t n);

/*  Returns an fd (a timerfd made on the first call) that polls readable
    when at least one token is available; an event loop polls it, then
    calls mu_ratelimit_try (and retries on MU_EAGAIN: another thread may
    have been first). The fd is re-armed by every call of mu_ratelimit_try,
    mu_ratelimit_acquire and mu_ratelimit_fd; do not read or close it. It
    stays valid until the limiter is destroyed. With an injected clock the
    delay computed on that clock is timed on CLOCK_MONOTONIC. Returns the
    fd, or a negative code: -EMFILE / -ENFILE / MU_ENOMEM when no timerfd
    could be made (a later call tries again). */
MU_EXPORT MU_NODISCARD int mu_ratelimit_fd(mu_ratelimit_t *self);

#ifdef __cplusplus
}
#endif

#endif
