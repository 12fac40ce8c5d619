/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  bench/hist.c — percentiles of latency samples: mu_hist (record each
    sample, then mu_hist_summary) against what the benches did before it
    (store each sample in an array of doubles, then qsort and index).

    Cases (values: samples per second, the whole job from the first record
    to the p50/p99 in hand, per thread CPU time not counted separately):
      p50-10k   10,000 samples per job (a short latency run)
      p50-1M    1,000,000 samples per job
    Samples are log-uniform from 1 ns to 1 ms (xorshift), the same stream
    for both sides. The histogram's memory is fixed (58 KiB); the array's
    is 8 bytes a sample. */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "mutil.h"
#include "bench.h"

static uint64_t
rnd(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static uint64_t
sample(uint64_t *s)
{
    uint64_t r = rnd(s);
    return 1 + ((r >> 24) >> (r % 20)); /* up to 2^20 ns, spread over magnitudes */
}

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;
    return x < y ? -1 : x > y;
}

static volatile uint64_t sink; /* keeps the results alive */

/*  One job with mu_hist: samples/s. */
static double
job_hist(mu_hist_t *h, size_t n)
{
    uint64_t seed = 88172645463325252ULL;
    int64_t t0 = bench_now_ns();
    mu_hist_reset(h);
    for (size_t i = 0; i < n; i++)
        mu_hist_record(h, sample(&seed));
    mu_hist_summary_t s = { .size = sizeof s };
    if (mu_hist_summary(h, &s) != 0)
        return NAN;
    sink = s.p50 + s.p99;
    return (double) n / ((double) (bench_now_ns() - t0) / 1e9);
}

/*  One job with an array and qsort: samples/s. */
static double
job_sort(double *v, size_t n)
{
    uint64_t seed = 88172645463325252ULL;
    int64_t t0 = bench_now_ns();
    for (size_t i = 0; i < n; i++)
        v[i] = (double) sample(&seed);
    qsort(v, n, sizeof *v, cmp_double);
    sink = (uint64_t) (v[n / 2] + v[n * 99 / 100]);
    return (double) n / ((double) (bench_now_ns() - t0) / 1e9);
}

static void
run_case(const bench_opts_t *opts, const char *name, size_t n)
{
    mu_hist_t *h = mu_hist_new();
    double *v = malloc(n * sizeof *v);
    if (!h || !v) {
        fprintf(stderr, "bench/hist: out of memory\n");
        exit(3);
    }
    double ours[BENCH_MAX_REPS], base[BENCH_MAX_REPS];
    for (int rep = 0; rep < opts->reps; rep++) {
        /* repeat the job until the measurement lasts about target_s */
        int jobs = 0;
        double o = 0, b = 0;
        int64_t t0 = bench_now_ns();
        do {
            o += job_hist(h, n);
            b += job_sort(v, n);
            jobs++;
        } while ((double) (bench_now_ns() - t0) / 1e9 < opts->target_s);
        ours[rep] = o / jobs;
        base[rep] = b / jobs;
        if (opts->verbose)
            fprintf(stderr, "%s rep %d: hist %.3g/s, sort %.3g/s (%d jobs)\n", name, rep, ours[rep],
                    base[rep], jobs);
    }
    bench_report("hist", name, "samples/s", bench_median(ours, opts->reps), "array-qsort",
                 bench_median(base, opts->reps), bench_paired_ratio(ours, base, opts->reps), 0,
                 BENCH_BAR_NONE, 0);
    free(v);
    mu_hist_destroy(&h);
}

int
main(int argc, char **argv)
{
    bench_opts_t opts;
    bench_parse_args(argc, argv, &opts);
    fprintf(stderr, "# bench/hist: %s mode, %d repetitions of ~%.2f s, medians\n",
            opts.quick ? "quick" : "full", opts.reps, opts.target_s);
    if (bench_selected(&opts, "p50-10k"))
        run_case(&opts, "p50-10k", 10000);
    if (bench_selected(&opts, "p50-1M"))
        run_case(&opts, "p50-1M", 1000000);
    bench_print_table();
    printf("\nsamples/s = samples recorded and summarised (p50, p99) per second; "
           "ratio > 1: mu_hist is faster\n");
    return 0;
}
