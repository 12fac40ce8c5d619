/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_hist.h — a fixed-memory histogram of unsigned 64-bit values
    (latencies in nanoseconds, sizes) with percentiles.

    Values are counted in log-linear buckets (128 per power of two, 7424
    buckets, 58 KiB, whatever the number of values): values below 256 are
    exact, and any reported percentile is within 1/256 (0.39 %) of the
    true value of that rank. min, max and count are exact, mean is the
    exact sum divided by the count (in double). Histograms of different
    threads or runs merge exactly (bucket counts add up).

    Threads: a histogram is not locked; give each thread its own and merge
    them, or lock around it. */
#ifndef MU_HIST_H_INCLUDED
#define MU_HIST_H_INCLUDED

#include <stddef.h>
#include <stdint.h>
#include "mu_defs.h"
#include "mu_error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct mu_hist_t mu_hist_t;

/*  The largest relative error of a percentile: 1 / 256. */
#define MU_HIST_REL_ERROR (1.0 / 256)

/*  What mu_hist_summary fills. Percentiles are the value at rank
    ceil(q x count) (the smallest value with at least that fraction of
    the values at or below it), within MU_HIST_REL_ERROR and clamped to
    [min, max]. All fields are 0 when the histogram is empty. */
typedef struct {
    size_t size; /* set by the caller: sizeof the struct */
    uint64_t count;
    uint64_t min;
    uint64_t max;
    double mean;
    uint64_t p50;
    uint64_t p90;
    uint64_t p99;
    uint64_t p999;
} mu_hist_summary_t;

/*  Creates an empty histogram. Returns NULL with errno ENOMEM. */
MU_EXPORT MU_NODISCARD mu_hist_t *mu_hist_new(void);

/*  Frees the histogram. NULL-safe; sets *self_p to NULL. */
MU_EXPORT void mu_hist_destroy(mu_hist_t **self_p);

/*  Counts value once. Never fails; a few nanoseconds. */
MU_EXPORT void mu_hist_record(mu_hist_t *self, uint64_t value);

/*  Adds every value counted in from to self (from is unchanged; self and
    from may be the same histogram: its counts double). */
MU_EXPORT void mu_hist_merge(mu_hist_t *self, const mu_hist_t *from);

/*  Forgets every value. */
MU_EXPORT void mu_hist_reset(mu_hist_t *self);

/*  Returns the number of values counted. */
MU_EXPORT uint64_t mu_hist_count(const mu_hist_t *self);

/*  Stores in *value the q-quantile (0 <= q <= 1; 0.99 for p99): q 0 gives
    the exact min, 1 the exact max, others are within MU_HIST_REL_ERROR
    (see mu_hist_summary_t). Returns 0, MU_EINVAL (q NaN or outside
    [0, 1]; nothing stored) or MU_ENOENT (no value counted; *value = 0). */
MU_EXPORT MU_NODISCARD int mu_hist_quantile(const mu_hist_t *self, double q, uint64_t *value);

/*  Fills *out (out->size set by the caller) with count, min, max, mean,
    p50, p90, p99 and p999 in one pass. Returns 0, or MU_EINVAL when
    out->size is below the first version of the struct. */
MU_EXPORT MU_NODISCARD int mu_hist_summary(const mu_hist_t *self, mu_hist_summary_t *out);

#ifdef __cplusplus
}
#endif

#endif
