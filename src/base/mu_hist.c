/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_hist.c — the log-linear histogram of include/mu_hist.h: 128
    buckets per power of two above 256, one per value below. */
#include "base/mu_internal.h"
#include <errno.h>
#include <math.h>
#include <stdlib.h>

#define SUB_BITS 7                            /* 2^7 buckets per power of two */
#define SUB_COUNT (1u << SUB_BITS)            /* 128 */
#define BUCKETS ((65 - SUB_BITS) * SUB_COUNT) /* 7424 */

struct mu_hist_t {
    uint64_t count;
    uint64_t min;
    uint64_t max;
    double sum;
    uint64_t buckets[BUCKETS];
};

/* The bucket of v: v itself below 256, else (msb - 7) x 128 plus v's top
   8 bits. */
static unsigned
bucket_of(uint64_t v)
{
    if (v < 2 * SUB_COUNT)
        return (unsigned) v;
    unsigned shift = (unsigned) (63 - __builtin_clzll(v)) - SUB_BITS;
    return shift * SUB_COUNT + (unsigned) (v >> shift);
}

/* The value a bucket reports: its middle (its only value below 256). */
static uint64_t
bucket_mid(unsigned i)
{
    if (i < 2 * SUB_COUNT)
        return i;
    unsigned shift = i / SUB_COUNT - 1;
    uint64_t low = (uint64_t) (i - shift * SUB_COUNT) << shift;
    return low + ((UINT64_C(1) << shift) >> 1);
}

mu_hist_t *
mu_hist_new(void)
{
    mu_hist_t *self = calloc(1, sizeof *self);
    if (!self)
        return mu__fail_null(MU_ENOMEM, "histogram");
    return self;
}

void
mu_hist_destroy(mu_hist_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free(*self_p);
    *self_p = NULL;
}

void
mu_hist_record(mu_hist_t *self, uint64_t value)
{
    assert(self);
    if (self->count == 0 || value < self->min)
        self->min = value;
    if (value > self->max)
        self->max = value;
    self->count++;
    self->sum += (double) value;
    self->buckets[bucket_of(value)]++;
}

void
mu_hist_merge(mu_hist_t *self, const mu_hist_t *from)
{
    assert(self && from);
    if (from->count == 0)
        return;
    if (self->count == 0 || from->min < self->min)
        self->min = from->min;
    if (from->max > self->max)
        self->max = from->max;
    self->count += from->count;
    self->sum += from->sum;
    for (unsigned i = 0; i < BUCKETS; i++)
        self->buckets[i] += from->buckets[i];
}

void
mu_hist_reset(mu_hist_t *self)
{
    assert(self);
    memset(self, 0, sizeof *self);
}

uint64_t
mu_hist_count(const mu_hist_t *self)
{
    assert(self);
    return self->count;
}

/* The rank (1-based) of the q-quantile among count values. */
static uint64_t
rank_of(double q, uint64_t count)
{
    double r = ceil(q * (double) count);
    if (r < 1)
        return 1;
    return r >= (double) count ? count : (uint64_t) r;
}

/* Values at the ranks of q[0..n) (ascending): one pass over the buckets. */
static void
quantiles(const mu_hist_t *self, const double *q, uint64_t *out, int n)
{
    uint64_t seen = 0;
    unsigned i = 0;
    for (int k = 0; k < n; k++) {
        if (q[k] <= 0) {
            out[k] = self->min;
            continue;
        }
        if (q[k] >= 1) {
            out[k] = self->max;
            continue;
        }
        uint64_t rank = rank_of(q[k], self->count);
        while (seen + self->buckets[i] < rank)
            seen += self->buckets[i++];
        uint64_t v = bucket_mid(i);
        out[k] = v < self->min ? self->min : v > self->max ? self->max : v;
    }
}

int
mu_hist_quantile(const mu_hist_t *self, double q, uint64_t *value)
{
    assert(self && value);
    if (!(q >= 0 && q <= 1))
        return mu__fail(MU_EINVAL, "quantile %g not in [0, 1]", q);
    *value = 0;
    if (self->count == 0)
        return mu__fail(MU_ENOENT, "empty histogram");
    quantiles(self, &q, value, 1);
    return 0;
}

int
mu_hist_summary(const mu_hist_t *self, mu_hist_summary_t *out)
{
    assert(self && out);
    mu_hist_summary_t all = { .size = sizeof all };
    if (self->count > 0) {
        all.count = self->count;
        all.min = self->min;
        all.max = self->max;
        all.mean = self->sum / (double) self->count;
        static const double q[4] = { 0.5, 0.9, 0.99, 0.999 };
        uint64_t v[4];
        quantiles(self, q, v, 4);
        all.p50 = v[0];
        all.p90 = v[1];
        all.p99 = v[2];
        all.p999 = v[3];
    }
    return mu__stats_fill(out, &all, sizeof all, sizeof all);
}
