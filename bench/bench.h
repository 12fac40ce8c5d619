/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  bench.h — helpers shared by libmutil's benchmark programs (bench/).

    Include "config.h" before any system header (it defines _GNU_SOURCE),
    then this file. Everything here is static inline, so a program uses what
    it needs and no unused-function warning fires.

    Output contract (DESIGN.md, "Benchmarks"): one JSON object per line and
    per compared pair, in exactly this form,

      {"bench":"pipe","case":"fd-64B","unit":"msg/s","value":5.1e6,
       "baseline":"raw-write-read","baseline_value":5.9e6,"ratio":0.86}

    (on one line), printed as each case finishes. value and baseline_value
    are medians over the repetitions; ratio is ours / baseline (throughput;
    for latency too, so lower is better there), taken as the median of the
    per-repetition ratios of back-to-back runs (bench_paired_ratio), which
    stays steady when the machine drifts. After all the lines, a blank
    line and a human-readable table with the same figures plus MB/s and
    whether the SPEC.md bar was met. Numbers that could not be measured are
    printed as null. A benchmark exits 0 whether or not a bar is met.

    Usage of a program: prog [--quick] [--verbose] [--reps=N] [--time=SECONDS]
    [FILTER...]
    --quick runs a short version (the whole program in well under 20 s);
    FILTERs are substrings, and only cases whose name contains one run. */
#ifndef MU_BENCH_H_INCLUDED
#define MU_BENCH_H_INCLUDED

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <dirent.h>
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>
#include "mu_hist.h"

#define BENCH_MAX_REPS 101
#define BENCH_MAX_RESULTS 128
#define BENCH_MAX_FILTERS 16

/* ---- options ------------------------------------------------------------ */

typedef struct {
    int quick;       /* --quick: short run */
    int reps;        /* repetitions per measurement (medians are reported) */
    double target_s; /* wanted duration of one measurement, seconds */
    double min_s;    /* a shorter measurement is redone with a larger N */
    int verbose;     /* -v: every run on stderr */
    int nfilters;
    const char *filters[BENCH_MAX_FILTERS];
} bench_opts_t;

/*  bench_parse_args, with help (NULL: none) printed after the common
    options' usage for --help: the program's own options, a line each. */
static inline void
bench_parse_args_help(int argc, char **argv, bench_opts_t *opts, const char *help)
{
    memset(opts, 0, sizeof *opts);
    int reps = 0;
    double target = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--quick") == 0 || strcmp(a, "-q") == 0)
            opts->quick = 1;
        else if (strcmp(a, "--verbose") == 0 || strcmp(a, "-v") == 0)
            opts->verbose = 1;
        else if (strncmp(a, "--reps=", 7) == 0 && atoi(a + 7) > 0)
            reps = atoi(a + 7);
        else if (strncmp(a, "--time=", 7) == 0 && atof(a + 7) > 0)
            target = atof(a + 7);
        else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            printf("usage: %s [--quick] [--verbose] [--reps=N] [--time=SECONDS] [FILTER...]\n"
                   "  --quick       short run (whole program well under 20 s)\n"
                   "  --verbose     print every run on stderr\n"
                   "  --reps=N      repetitions per measurement; medians are reported\n"
                   "  --time=S      wanted duration of one measurement in seconds\n"
                   "  FILTER        run only the cases whose name contains FILTER\n",
                   argv[0]);
            if (help)
                fputs(help, stdout);
            exit(0);
        } else if (a[0] != '-' && opts->nfilters < BENCH_MAX_FILTERS)
            opts->filters[opts->nfilters++] = a;
        else {
            fprintf(stderr, "%s: bad argument '%s' (try --help)\n", argv[0], a);
            exit(2);
        }
    }
    opts->reps = reps ? reps : 5;
    if (opts->reps > BENCH_MAX_REPS)
        opts->reps = BENCH_MAX_REPS;
    opts->target_s = target > 0 ? target : (opts->quick ? 0.05 : 0.7);
    opts->min_s = opts->quick ? 0 : opts->target_s * 5 / 7;
}

/*  Parses the common options; prints usage and exits 0 for --help, 2 for a
    bad argument. Defaults: full mode 5 repetitions aiming at 0.7 s and never
    under 0.5 s; quick mode 5 repetitions of about 0.05 s. */
static inline void
bench_parse_args(int argc, char **argv, bench_opts_t *opts)
{
    bench_parse_args_help(argc, argv, opts, NULL);
}

/*  True when the case should run under the given filters. */
static inline int
bench_selected(const bench_opts_t *opts, const char *case_name)
{
    if (opts->nfilters == 0)
        return 1;
    for (int i = 0; i < opts->nfilters; i++)
        if (strstr(case_name, opts->filters[i]))
            return 1;
    return 0;
}

/* ---- time and statistics -------------------------------------------------- */

/*  Nanoseconds on the monotonic clock (system-wide: comparable between the
    processes of one machine). */
/*  Forks a child that runs fn(arg) and exits; the child dies with this
    process (PR_SET_PDEATHSIG). Returns the child's pid, or -1 (fork). */
static inline pid_t
bench_spawn(void (*fn)(int), int arg)
{
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(1);
        fn(arg);
        _exit(0);
    }
    return pid;
}

/*  bench_spawn into pids[*n], counting it; 0 (nothing stored) when fork
    failed, so that a caller signalling its pids never signals -1 (every
    process it may signal) or 0 (its own group). 1 otherwise. */
static inline int
bench_spawn_into(pid_t *pids, int *n, void (*fn)(int), int arg)
{
    pid_t pid = bench_spawn(fn, arg);
    if (pid <= 0)
        return 0;
    pids[(*n)++] = pid;
    return 1;
}

static inline int64_t
bench_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/*  CPU time of the calling thread in nanoseconds: for single-threaded,
    CPU-bound operations CPU time measures them even when the 2-core machine
    is shared (wall time there mostly measures the others). */
static inline int64_t
bench_cpu_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (int64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/*  One operation of a CPU-rate measurement, on its context. */
typedef void (*bench_op_fn)(void *ctx);

/*  Runs op n times on ctx; returns operations per CPU second of the
    calling thread (NaN when no time could be measured). */
static inline double
bench_cpu_rate(bench_op_fn op, void *ctx, long n)
{
    int64_t t0 = bench_cpu_now_ns();
    for (long i = 0; i < n; i++)
        op(ctx);
    double s = (double) (bench_cpu_now_ns() - t0) / 1e9;
    return s > 0 ? (double) n / s : NAN;
}

/*  How many operations of op fill about target_s CPU seconds (short trials
    first, growing until one takes at least 1/20 s); at least 1. */
static inline long
bench_cpu_calibrate(bench_op_fn op, void *ctx, double target_s)
{
    long n = 8;
    double rate;
    while ((rate = bench_cpu_rate(op, ctx, n)) * 0.05 > (double) n && n < (1L << 30))
        n *= 4;
    long want = (long) (rate * target_s);
    return want > 1 ? want : 1;
}

/*  Median of n values, ignoring NaN (failed runs); NaN when none is left.
    The input is not modified. */
static inline double
bench_median(const double *values, int n)
{
    double v[BENCH_MAX_REPS];
    int m = 0;
    for (int i = 0; i < n && m < BENCH_MAX_REPS; i++)
        if (!isnan(values[i]))
            v[m++] = values[i];
    if (m == 0)
        return NAN;
    for (int i = 1; i < m; i++) { /* insertion sort: m is small */
        double x = v[i];
        int j = i - 1;
        while (j >= 0 && v[j] > x) {
            v[j + 1] = v[j];
            j--;
        }
        v[j + 1] = x;
    }
    return m % 2 ? v[m / 2] : (v[m / 2 - 1] + v[m / 2]) / 2;
}

/*  The q-quantile in µs of a histogram of nanoseconds (mu_hist.h: within
    0.4 %, all samples counted); NaN when it holds none. */
static inline double
bench_hist_us(const mu_hist_t *hist, double q)
{
    uint64_t ns;
    return mu_hist_quantile(hist, q, &ns) == 0 ? (double) ns / 1e3 : NAN;
}

static inline int
bench_cmp_double(const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;
    return x < y ? -1 : x > y;
}

/*  The q-quantile (0.5: p50, 0.99: p99; nearest rank) of n values of any
    number (bench_median keeps at most BENCH_MAX_REPS: use this for
    per-sample latencies), ignoring NaN; NaN when none is left. The input
    is not modified. */
static inline double
bench_percentile(const double *values, int n, double q)
{
    double *v = malloc(sizeof *v * (size_t) (n > 0 ? n : 1));
    int m = 0;
    for (int i = 0; v && i < n; i++)
        if (!isnan(values[i]))
            v[m++] = values[i];
    double out = NAN;
    if (m > 0) {
        qsort(v, (size_t) m, sizeof *v, bench_cmp_double);
        int k = (int) ceil(q * m) - 1;
        out = v[k < 0 ? 0 : k >= m ? m - 1 : k];
    }
    free(v);
    return out;
}

/* ---- results ---------------------------------------------------------------- */

typedef enum {
    BENCH_BAR_NONE = 0,  /* SPEC.md sets no bar for this case */
    BENCH_BAR_MIN_VALUE, /* value >= bar (absolute throughput) */
    BENCH_BAR_MIN_RATIO, /* ratio >= bar (throughput against the baseline) */
    BENCH_BAR_MAX_VALUE, /* value <= bar (absolute latency) */
    BENCH_BAR_MAX_RATIO  /* ratio <= bar (latency against the baseline) */
} bench_bar_t;

typedef struct {
    char bench[32];
    char case_name[48];
    char unit[16]; /* "msg/s", "us", ... */
    double value;  /* ours */
    char baseline[48];
    double baseline_value;
    double ratio;          /* ours / baseline */
    double bytes_per_unit; /* payload bytes per counted unit, for MB/s; 0: none */
    bench_bar_t bar_kind;
    double bar;
} bench_result_t;

typedef struct {
    int n;
    bench_result_t r[BENCH_MAX_RESULTS];
} bench_results_t;

static inline bench_results_t *
bench_results(void)
{
    static bench_results_t results;
    return &results;
}

/*  Formats a number for JSON the way DESIGN.md shows it: up to `digits`
    significant digits, exponents written "e6" (no '+', no leading zero),
    null for NaN or infinity. */
static inline const char *
bench_fmt_json(double v, int digits, char *buf, size_t cap)
{
    if (!isfinite(v)) {
        snprintf(buf, cap, "null");
        return buf;
    }
    char tmp[64];
    snprintf(tmp, sizeof tmp, "%.*g", digits, v);
    size_t o = 0;
    for (const char *p = tmp; *p && o + 1 < cap; p++) {
        buf[o++] = *p;
        if (*p == 'e') {
            p++;
            if (*p == '-' && o + 1 < cap)
                buf[o++] = '-';
            if (*p == '-' || *p == '+')
                p++;
            while (*p == '0' && p[1])
                p++;
            p--;
        }
    }
    buf[o] = 0;
    return buf;
}

/*  Formats with an SI prefix for the table: "6.12 M", "457 k", "12.3". */
static inline const char *
bench_fmt_si(double v, char *buf, size_t cap)
{
    if (!isfinite(v))
        snprintf(buf, cap, "-");
    else if (fabs(v) >= 1e9)
        snprintf(buf, cap, "%.3g G", v / 1e9);
    else if (fabs(v) >= 1e6)
        snprintf(buf, cap, "%.3g M", v / 1e6);
    else if (fabs(v) >= 1e3)
        snprintf(buf, cap, "%.3g k", v / 1e3);
    else
        snprintf(buf, cap, "%.3g", v);
    return buf;
}

/*  Formats with a fixed number of decimals for the table; "-" for NaN. */
static inline const char *
bench_fmt_fixed(double v, int decimals, char *buf, size_t cap)
{
    if (isfinite(v))
        snprintf(buf, cap, "%.*f", decimals, v);
    else
        snprintf(buf, cap, "-");
    return buf;
}

/*  "ok", "MISS", "-" (no bar) or "n/a" (not measured). */
static inline const char *
bench_bar_status(const bench_result_t *r)
{
    switch (r->bar_kind) {
    case BENCH_BAR_NONE:
        return "-";
    case BENCH_BAR_MIN_VALUE:
        return isnan(r->value) ? "n/a" : r->value >= r->bar ? "ok" : "MISS";
    case BENCH_BAR_MAX_VALUE:
        return isnan(r->value) ? "n/a" : r->value <= r->bar ? "ok" : "MISS";
    case BENCH_BAR_MIN_RATIO:
        return isnan(r->ratio) ? "n/a" : r->ratio >= r->bar ? "ok" : "MISS";
    case BENCH_BAR_MAX_RATIO:
        return isnan(r->ratio) ? "n/a" : r->ratio <= r->bar ? "ok" : "MISS";
    }
    return "-";
}

/*  What the bar asks, for the table: ">= 5 M msg/s", ">= 0.90 x". */
static inline const char *
bench_bar_text(const bench_result_t *r, char *buf, size_t cap)
{
    char num[32];
    switch (r->bar_kind) {
    case BENCH_BAR_NONE:
        snprintf(buf, cap, "(none)");
        break;
    case BENCH_BAR_MIN_VALUE:
    case BENCH_BAR_MAX_VALUE:
        snprintf(buf, cap, "%s %s %s", r->bar_kind == BENCH_BAR_MIN_VALUE ? ">=" : "<=",
                 bench_fmt_si(r->bar, num, sizeof num), r->unit);
        break;
    case BENCH_BAR_MIN_RATIO:
    case BENCH_BAR_MAX_RATIO:
        snprintf(buf, cap, "%s %.2f x", r->bar_kind == BENCH_BAR_MIN_RATIO ? ">=" : "<=", r->bar);
        break;
    }
    return buf;
}

/*  Median of the per-repetition ratios ours[i] / base[i], over the
    repetitions where both were measured; NaN when none. Ours and the
    baseline run back to back in each repetition, so drift of the machine
    (on a shared host, throughput can swing 3x for minutes) cancels in each
    pair; the ratio of the two medians does not have that property. */
static inline double
bench_paired_ratio(const double *ours, const double *base, int n)
{
    double q[BENCH_MAX_REPS];
    int m = 0;
    for (int i = 0; i < n && m < BENCH_MAX_REPS; i++)
        if (isfinite(ours[i]) && isfinite(base[i]) && base[i] > 0)
            q[m++] = ours[i] / base[i];
    return bench_median(q, m);
}

/*  Records one result and prints its JSON line at once. value and
    baseline_value are medians; ratio is normally bench_paired_ratio() of the
    same runs; NaN makes it value / baseline_value. */
static inline void
bench_report(const char *bench, const char *case_name, const char *unit, double value,
             const char *baseline, double baseline_value, double ratio, double bytes_per_unit,
             bench_bar_t bar_kind, double bar)
{
    bench_results_t *all = bench_results();
    bench_result_t tmp, *r = all->n < BENCH_MAX_RESULTS ? &all->r[all->n++] : &tmp;
    memset(r, 0, sizeof *r);
    snprintf(r->bench, sizeof r->bench, "%s", bench);
    snprintf(r->case_name, sizeof r->case_name, "%s", case_name);
    snprintf(r->unit, sizeof r->unit, "%s", unit);
    snprintf(r->baseline, sizeof r->baseline, "%s", baseline);
    r->value = value;
    r->baseline_value = baseline_value;
    if (isfinite(ratio))
        r->ratio = ratio;
    else
        r->ratio = (isfinite(value) && isfinite(baseline_value) && baseline_value > 0)
                       ? value / baseline_value
                       : NAN;
    r->bytes_per_unit = bytes_per_unit;
    r->bar_kind = bar_kind;
    r->bar = bar;

    char v[32], b[32], q[32], bar_json[128] = "", text[64];
    if (bar_kind != BENCH_BAR_NONE) /* the bar and its status, for tools/bench_tables.py */
        snprintf(bar_json, sizeof bar_json, ",\"bar\":\"%s\",\"status\":\"%s\"",
                 bench_bar_text(r, text, sizeof text), bench_bar_status(r));
    printf("{\"bench\":\"%s\",\"case\":\"%s\",\"unit\":\"%s\",\"value\":%s,"
           "\"baseline\":\"%s\",\"baseline_value\":%s,\"ratio\":%s%s}\n",
           r->bench, r->case_name, r->unit, bench_fmt_json(r->value, 4, v, sizeof v), r->baseline,
           bench_fmt_json(r->baseline_value, 4, b, sizeof b),
           bench_fmt_json(r->ratio, 3, q, sizeof q), bar_json);
    fflush(stdout);
}

/*  MB/s (10^6 payload bytes per second) of a throughput figure; NaN if none. */
static inline double
bench_mb_per_s(const bench_result_t *r, double value)
{
    return r->bytes_per_unit > 0 ? value * r->bytes_per_unit / 1e6 : NAN;
}

/*  Prints the table of everything reported so far; returns the number of
    missed bars (for the caller to mention; never a reason to fail). */
static inline int
bench_print_table(void)
{
    const bench_results_t *all = bench_results();
    int missed = 0;
    printf("\n%-16s %-6s %10s %10s  %-20s %10s %10s %7s  %-14s %s\n", "case", "unit", "ours",
           "ours MB/s", "baseline", "baseline", "base MB/s", "ratio", "bar (SPEC)", "bar");
    for (int i = 0; i < all->n; i++) {
        const bench_result_t *r = &all->r[i];
        char ov[32], bv[32], om[32], bm[32], rt[32], bt[48];
        double mo = bench_mb_per_s(r, r->value), mb = bench_mb_per_s(r, r->baseline_value);
        bench_fmt_fixed(mo, 1, om, sizeof om);
        bench_fmt_fixed(mb, 1, bm, sizeof bm);
        bench_fmt_fixed(r->ratio, 3, rt, sizeof rt);
        const char *status = bench_bar_status(r);
        if (strcmp(status, "MISS") == 0)
            missed++;
        printf("%-16s %-6s %10s %10s  %-20s %10s %10s %7s  %-14s %s\n", r->case_name, r->unit,
               bench_fmt_si(r->value, ov, sizeof ov), om, r->baseline,
               bench_fmt_si(r->baseline_value, bv, sizeof bv), bm, rt,
               bench_bar_text(r, bt, sizeof bt), status);
    }
    fflush(stdout);
    return missed;
}

/*  Removes path and, when it is a directory, everything below it (the
    benchmarks' temporary directories). Errors are ignored. */
static inline void
bench_remove_tree(const char *path)
{
    DIR *d = opendir(path);
    if (!d) {
        unlink(path);
        return;
    }
    struct dirent *e;
    char sub[512];
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
            snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
            bench_remove_tree(sub);
        }
    closedir(d);
    rmdir(path);
}

#endif
