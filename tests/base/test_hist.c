/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  test_hist.c — include/mu_hist.h (exact small values, the documented
    relative error against sorted samples, merge, edges, every error) and
    include/mu_timer.h (MU_TIMED, begin/end, the log function). */
#include "mu_test.h"
#include "mutil.h"
#include <math.h>

static uint64_t
rnd(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static int
cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;
    return x < y ? -1 : x > y;
}

static void
test_empty_and_errors(void)
{
    mu_hist_t *h = mu_hist_new();
    MU_CHECK(h);
    uint64_t v = 7;
    MU_CHECK_EQ(mu_hist_quantile(h, 0.5, &v), MU_ENOENT);
    MU_CHECK_EQ(v, 0);
    MU_CHECK_EQ(mu_hist_quantile(h, -0.01, &v), MU_EINVAL);
    MU_CHECK_EQ(mu_hist_quantile(h, 1.01, &v), MU_EINVAL);
    MU_CHECK_EQ(mu_hist_quantile(h, NAN, &v), MU_EINVAL);
    mu_hist_summary_t s = { .size = sizeof s, .p50 = 9 };
    MU_CHECK_EQ(mu_hist_summary(h, &s), 0);
    MU_CHECK(s.count == 0 && s.p50 == 0 && s.max == 0 && s.mean == 0);
    mu_hist_summary_t small = { .size = sizeof(size_t) + 8 };
    MU_CHECK_EQ(mu_hist_summary(h, &small), MU_EINVAL);
    mu_hist_destroy(&h);
    MU_CHECK(h == NULL);
    mu_hist_destroy(&h);
    mu_hist_destroy(NULL);
}

/* 1..100: every value below 256 is exact. */
static void
test_exact_small(void)
{
    mu_hist_t *h = mu_hist_new();
    MU_CHECK(h);
    for (uint64_t v = 100; v >= 1; v--)
        mu_hist_record(h, v);
    mu_hist_summary_t s = { .size = sizeof s };
    MU_CHECK_EQ(mu_hist_summary(h, &s), 0);
    MU_CHECK_EQ(s.count, 100);
    MU_CHECK_EQ(s.min, 1);
    MU_CHECK_EQ(s.max, 100);
    MU_CHECK(s.mean == 50.5);
    MU_CHECK_EQ(s.p50, 50);
    MU_CHECK_EQ(s.p90, 90);
    MU_CHECK_EQ(s.p99, 99);
    MU_CHECK_EQ(s.p999, 100);
    uint64_t v;
    MU_CHECK_EQ(mu_hist_quantile(h, 0, &v), 0);
    MU_CHECK_EQ(v, 1);
    MU_CHECK_EQ(mu_hist_quantile(h, 0.011, &v), 0);
    MU_CHECK_EQ(v, 2);
    MU_CHECK_EQ(mu_hist_quantile(h, 1, &v), 0);
    MU_CHECK_EQ(v, 100);
    mu_hist_reset(h);
    MU_CHECK_EQ(mu_hist_count(h), 0);
    MU_CHECK_EQ(mu_hist_quantile(h, 0.5, &v), MU_ENOENT);
    mu_hist_destroy(&h);
}

/* Log-uniform values from 1 to 2^50: every percentile is within 1/256 of
   the exact value of its rank. */
static void
test_relative_error(void)
{
    enum { N = 20000 };
    uint64_t *vals = malloc(N * sizeof *vals);
    mu_hist_t *h = mu_hist_new();
    MU_CHECK(vals && h);
    uint64_t seed = 88172645463325252ULL;
    for (int i = 0; i < N; i++) {
        uint64_t r = rnd(&seed);
        vals[i] = (r >> 14) >> (r % 50); /* up to 2^50, spread over magnitudes */
        mu_hist_record(h, vals[i]);
    }
    qsort(vals, N, sizeof *vals, cmp_u64);
    double worst = 0;
    for (int k = 1; k <= 1000; k++) {
        double q = k / 1000.0;
        uint64_t got;
        MU_CHECK_EQ(mu_hist_quantile(h, q, &got), 0);
        uint64_t rank = (uint64_t) ceil(q * N);
        uint64_t want = vals[(rank < 1 ? 1 : rank) - 1];
        double err = want ? fabs((double) got - (double) want) / (double) want : (double) got;
        if (err > worst)
            worst = err;
        if (err > MU_HIST_REL_ERROR)
            printf("# q %.3f: got %llu, exact %llu\n", q, (unsigned long long) got,
                   (unsigned long long) want);
        MU_CHECK(err <= MU_HIST_REL_ERROR);
    }
    printf("# worst relative error %.5f (bound %.5f)\n", worst, MU_HIST_REL_ERROR);
    free(vals);
    mu_hist_destroy(&h);
}

/* Powers of two and their neighbours up to UINT64_MAX: extremes exact. */
static void
test_edges(void)
{
    mu_hist_t *h = mu_hist_new();
    MU_CHECK(h);
    for (int k = 0; k < 64; k++) {
        uint64_t p = UINT64_C(1) << k;
        mu_hist_record(h, p - 1);
        mu_hist_record(h, p);
        mu_hist_record(h, p + 1);
    }
    mu_hist_record(h, UINT64_MAX);
    uint64_t v;
    MU_CHECK_EQ(mu_hist_quantile(h, 1, &v), 0);
    MU_CHECK(v == UINT64_MAX);
    MU_CHECK_EQ(mu_hist_quantile(h, 0, &v), 0);
    MU_CHECK_EQ(v, 0);
    MU_CHECK_EQ(mu_hist_quantile(h, 0.999, &v), 0);
    MU_CHECK(v >= (UINT64_C(1) << 63) - (UINT64_C(1) << 56));
    mu_hist_destroy(&h);
}

/* Two halves merged give the histogram of the whole. */
static void
test_merge(void)
{
    mu_hist_t *a = mu_hist_new(), *b = mu_hist_new(), *all = mu_hist_new();
    MU_CHECK(a && b && all);
    uint64_t seed = 12345;
    for (int i = 0; i < 5000; i++) {
        uint64_t v = rnd(&seed) % 1000000;
        mu_hist_record(i % 2 ? a : b, v);
        mu_hist_record(all, v);
    }
    mu_hist_merge(a, b);
    mu_hist_summary_t x = { .size = sizeof x }, y = { .size = sizeof y };
    MU_CHECK_EQ(mu_hist_summary(a, &x), 0);
    MU_CHECK_EQ(mu_hist_summary(all, &y), 0);
    MU_CHECK(memcmp(&x, &y, sizeof x) == 0
             || (x.count == y.count && x.p50 == y.p50 && x.p999 == y.p999 && x.min == y.min
                 && x.max == y.max));
    mu_hist_merge(a, a); /* counts double, percentiles stay */
    mu_hist_summary_t z = { .size = sizeof z };
    MU_CHECK_EQ(mu_hist_summary(a, &z), 0);
    MU_CHECK_EQ(z.count, 2 * y.count);
    MU_CHECK_EQ(z.p99, y.p99);
    mu_hist_reset(b);
    mu_hist_merge(all, b); /* an empty one changes nothing */
    MU_CHECK_EQ(mu_hist_count(all), 5000);
    mu_hist_destroy(&a);
    mu_hist_destroy(&b);
    mu_hist_destroy(&all);
}

struct capture {
    int calls;
    char label[64];
    int64_t elapsed;
};

static void
capture_log(void *arg, const char *label, int64_t elapsed_ns)
{
    struct capture *c = arg;
    c->calls++;
    snprintf(c->label, sizeof c->label, "%s", label);
    c->elapsed = elapsed_ns;
}

static void
spin_ns(int64_t ns)
{
    int64_t t0 = mu_timer_now_ns();
    while (mu_timer_now_ns() - t0 < ns) {
    }
}

static void
test_timed(void)
{
    struct capture c = { 0 };
    mu_timer_set_log(capture_log, &c);
    int runs = 0;
    MU_TIMED("outer")
    {
        runs++;
        MU_TIMED("inner") spin_ns(1000000);
        MU_CHECK_EQ(c.calls, 1);
        MU_CHECK(strcmp(c.label, "inner") == 0);
        MU_CHECK(c.elapsed >= 1000000);
    }
    MU_CHECK_EQ(runs, 1);
    MU_CHECK_EQ(c.calls, 2);
    MU_CHECK(strcmp(c.label, "outer") == 0);
    MU_CHECK(c.elapsed >= 1000000);
    mu_timer_t t = mu_timer_begin(NULL);
    spin_ns(200000);
    MU_CHECK(mu_timer_elapsed_ns(&t) >= 200000);
    MU_CHECK_EQ(c.calls, 2);
    int64_t e = mu_timer_end(&t);
    MU_CHECK(e >= 200000 && e == c.elapsed);
    MU_CHECK(strcmp(c.label, "timer") == 0);
    mu_timer_set_log(NULL, NULL);
}

/* The default log: "LABEL: N.NNN ms" on stderr. */
static void
test_default_log(void)
{
    char path[] = "/tmp/mu_timer_XXXXXX";
    int fd = mkstemp(path);
    MU_CHECK(fd >= 0);
    unlink(path);
    fflush(stderr);
    int saved = dup(2);
    dup2(fd, 2);
    mu_timer_t t = mu_timer_begin("default");
    (void) mu_timer_end(&t);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    char buf[128] = { 0 };
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    close(fd);
    MU_CHECK(n > 0);
    double ms = -1;
    MU_CHECK(sscanf(buf, "default: %lf ms\n", &ms) == 1);
    MU_CHECK(ms >= 0 && ms < 1000);
}

int
main(void)
{
    mu_test_start(60);
    MU_RUN(test_empty_and_errors);
    MU_RUN(test_exact_small);
    MU_RUN(test_relative_error);
    MU_RUN(test_edges);
    MU_RUN(test_merge);
    MU_RUN(test_timed);
    MU_RUN(test_default_log);
    MU_DONE();
}
