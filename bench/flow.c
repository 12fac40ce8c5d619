/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  bench/flow.c — the echo dataflow's internal pipeline, mu_flow against a
    hand-written raw libzmq equivalent with the same hops and processes.

    Shape (both paths): one source process → W worker processes (W = twice
    the cores) → two sink processes, the odd and the even numbers (the two
    outbound edges of the echo demo, without the TCP part). Messages are 16
    bytes: a number and the send time (CLOCK_MONOTONIC, system-wide).
      ours  mu_flow: a source stage, a worker stage passing messages on, a
            sink stage of two runners on a broadcast link whose filter picks
            the parity (mu_flow's own routing: one PUSH per downstream runner,
            balancing by trying them in turn);
      raw   libzmq: the source's one PUSH socket connected to every worker,
            each worker's PULL and two PUSH sockets (one per sink), the
            sinks' PULL sockets; all over ipc://.
    Cases:
      echo-16B    messages/s from the source's first send until both sinks
                  have every message (set-up and connection excluded: the
                  source starts 200 ms after the processes are up);
      hop-latency one-way source → sink latency, median over paced messages
                  (one every 200 us), divided by the 2 hops, in us;
      alo-16B     echo-16B with at-least-once on the source → workers link,
                  against mu_flow's default delivery (its overhead).
    Each repetition runs ours and raw back to back; the ratio is the median
    of per-repetition ratios. */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zmq.h>

#include "mutil.h"
#include "bench.h"
#include "bench_flow.h"

#define MAX_WORKERS 64
#define PACE_NS 200000
#define SETTLE_US 200000

static int report_fd = -1;
static uint64_t n_msgs;
static bool paced;
static int workers;
static bool reliable; /* ours: at-least-once on the link into the workers */

/*  Sink bookkeeping shared by both paths. */
typedef struct {
    uint64_t got, want;
    mu_hist_t *lat; /* one-way latencies in ns (paced runs) */
} sink_t;

/*  The sink stage's handler, which the raw sinks call as well (out NULL). */
static int
our_sink(void *state, const void *data, size_t size, mu_flow_emit_t *out)
{
    (void) out;
    sink_t *s = state;
    msg_t m;
    if (!bench_flow_msg(data, size, &m))
        return MU_EPROTO;
    int64_t now = bench_now_ns();
    if (s->lat)
        mu_hist_record(s->lat, (uint64_t) (now - m.sent_ns));
    if (++s->got == s->want) {
        report_t r = { .end_ns = now, .who = 1 };
        if (s->lat)
            r.p50_us = bench_hist_us(s->lat, 0.5);
        bench_flow_report(report_fd, &r);
    }
    return 0;
}

/* ---- ours ------------------------------------------------------------------ */

static int
our_source(void *arg, int index, mu_flow_emit_t *out)
{
    (void) index;
    uint64_t *next = arg;
    static int64_t due;
    if (*next == 0) {
        usleep(SETTLE_US);
        report_t r = { .start_ns = bench_now_ns(), .who = 0 };
        bench_flow_report(report_fd, &r);
        due = r.start_ns;
    }
    return bench_flow_emit_some(out, next, n_msgs, paced ? &due : NULL, PACE_NS);
}

static int
our_worker(void *state, const void *data, size_t size, mu_flow_emit_t *out)
{
    (void) state;
    return mu_flow_emit(out, data, size);
}

static bool
our_filter(void *arg, int index, const void *data, size_t size)
{
    (void) arg;
    (void) size;
    uint64_t v;
    memcpy(&v, data, sizeof v);
    return (int) (v % 2) == index;
}

static int
our_sink_startup(void *arg, int index, void **state_p)
{
    (void) arg;
    sink_t *s = calloc(1, sizeof *s);
    if (!s)
        return -1;
    s->want = n_msgs / 2 + (index == 0 ? n_msgs % 2 : 0);
    if (paced && !(s->lat = mu_hist_new()))
        return -1;
    *state_p = s;
    return 0;
}

static mu_flow_t *
start_ours(void)
{
    static uint64_t next;
    next = 0;
    mu_flow_t *f = mu_flow_new("bench");
    if (!f || mu_flow_add_source(f, "src", 1, our_source, &next) != 0
        || mu_flow_add_worker_stage(f, "work", workers, NULL, our_worker, NULL) != 0
        || mu_flow_add_worker_stage(f, "sink", 2, our_sink_startup, our_sink, NULL) != 0
        || mu_flow_set_link(f, "sink", MU_FLOW_BROADCAST, our_filter, NULL, NULL) != 0
        || mu_flow_set_at_least_once(f, "work", reliable) != 0 || mu_flow_start(f) != 0) {
        mu_flow_destroy(&f);
        return NULL;
    }
    return f;
}

/* ---- raw libzmq ------------------------------------------------------------------ */

static char raw_dir[64];

static void __attribute__((noreturn)) raw_sink(int k)
{
    void *ctx = zmq_ctx_new(), *pull = bench_flow_raw_socket(ctx, ZMQ_PULL, 1000);
    char ep[128];
    bench_flow_raw_ep(ep, sizeof ep, raw_dir, "sink", k);
    if (zmq_bind(pull, ep) != 0)
        _exit(2);
    sink_t s = { .want = n_msgs / 2 + (k == 0 ? n_msgs % 2 : 0) };
    if (paced)
        s.lat = mu_hist_new();
    msg_t m;
    while (s.got < s.want) {
        int n = zmq_recv(pull, &m, sizeof m, 0);
        if (n == (int) sizeof m)
            our_sink(&s, &m, sizeof m, NULL);
    }
    pause();
    _exit(0);
}

static void __attribute__((noreturn)) raw_worker(int i)
{
    void *ctx = zmq_ctx_new(), *pull = bench_flow_raw_socket(ctx, ZMQ_PULL, 1000);
    void *out[2] = { bench_flow_raw_socket(ctx, ZMQ_PUSH, 1000),
                     bench_flow_raw_socket(ctx, ZMQ_PUSH, 1000) };
    char ep[128];
    bench_flow_raw_ep(ep, sizeof ep, raw_dir, "work", i);
    if (zmq_bind(pull, ep) != 0)
        _exit(2);
    for (int k = 0; k < 2; k++) {
        bench_flow_raw_ep(ep, sizeof ep, raw_dir, "sink", k);
        zmq_connect(out[k], ep);
    }
    msg_t m;
    for (;;) {
        int n = zmq_recv(pull, &m, sizeof m, 0);
        if (n == (int) sizeof m)
            zmq_send(out[m.value % 2], &m, sizeof m, 0);
    }
}

static void __attribute__((noreturn)) raw_source(void)
{
    void *ctx = zmq_ctx_new(), *push = bench_flow_raw_socket(ctx, ZMQ_PUSH, 1000);
    char ep[128];
    for (int i = 0; i < workers; i++) {
        bench_flow_raw_ep(ep, sizeof ep, raw_dir, "work", i);
        zmq_connect(push, ep);
    }
    usleep(SETTLE_US);
    report_t r = { .start_ns = bench_now_ns(), .who = 0 };
    bench_flow_report(report_fd, &r);
    int64_t due = r.start_ns;
    for (uint64_t v = 0; v < n_msgs; v++) {
        if (paced)
            bench_flow_pace(&due, PACE_NS);
        msg_t m = { .value = v, .sent_ns = bench_now_ns() };
        zmq_send(push, &m, sizeof m, 0);
    }
    pause();
    _exit(0);
}

static void
raw_source_fn(int unused)
{
    (void) unused;
    raw_source();
}

/* ---- one measurement ----------------------------------------------------------------- */

/*  Reads the source's and both sinks' reports; false on timeout. */
static bool
collect(int fd, int64_t *start, int64_t *end, double *p50)
{
    int got = 0;
    *start = *end = 0;
    *p50 = 0;
    while (got < 3) {
        report_t r;
        if (!bench_flow_read_report(fd, 30000, &r))
            return false;
        if (r.who == 0)
            *start = r.start_ns;
        else {
            if (r.end_ns > *end)
                *end = r.end_ns;
            if (r.p50_us > *p50)
                *p50 = r.p50_us;
        }
        got++;
    }
    return true;
}

/*  Runs one path; returns msg/s (throughput) or per-hop us (paced). */
static double
run_once(bool ours)
{
    int p[2];
    if (pipe(p) != 0)
        return NAN;
    report_fd = p[1];
    int64_t start, end;
    double p50;
    bool ok;
    if (ours) {
        mu_flow_t *f = start_ours();
        ok = f && collect(p[0], &start, &end, &p50);
        mu_flow_destroy(&f);
    } else {
        snprintf(raw_dir, sizeof raw_dir, "/tmp/muflowraw-XXXXXX");
        if (!mkdtemp(raw_dir))
            return NAN;
        pid_t pids[MAX_WORKERS + 3];
        int n = 0; /* only pids > 0: a failed fork fails the run */
        ok = bench_spawn_into(pids, &n, raw_sink, 0) && bench_spawn_into(pids, &n, raw_sink, 1);
        for (int i = 0; ok && i < workers; i++)
            ok = bench_spawn_into(pids, &n, raw_worker, i);
        ok = ok && bench_spawn_into(pids, &n, raw_source_fn, 0)
             && collect(p[0], &start, &end, &p50);
        for (int i = 0; i < n; i++) {
            kill(pids[i], SIGKILL);
            waitpid(pids[i], NULL, 0);
        }
        char ep[128];
        for (int i = 0; i < workers + 2; i++) {
            bench_flow_raw_ep(ep, sizeof ep, raw_dir, i < 2 ? "sink" : "work", i < 2 ? i : i - 2);
            unlink(ep + 6);
        }
        rmdir(raw_dir);
    }
    close(p[0]);
    close(p[1]);
    if (!ok || end <= start)
        return NAN;
    return paced ? p50 / 2 : (double) n_msgs / ((double) (end - start) / 1e9);
}

static void
run_case(const bench_opts_t *o, const char *name, bool pace_it, uint64_t n)
{
    if (!bench_selected(o, name))
        return;
    paced = pace_it;
    n_msgs = n;
    double ours[BENCH_MAX_REPS], raw[BENCH_MAX_REPS];
    for (int r = 0; r < o->reps; r++) {
        ours[r] = run_once(true);
        raw[r] = run_once(false);
        if (o->verbose)
            fprintf(stderr, "%s rep %d: ours %.4g raw %.4g\n", name, r, ours[r], raw[r]);
    }
    double ratio = bench_paired_ratio(ours, raw, o->reps);
    if (pace_it)
        bench_report("flow", name, "us", bench_median(ours, o->reps), "raw-zmq-same-hops",
                     bench_median(raw, o->reps), ratio, 0, BENCH_BAR_NONE, 0);
    else
        bench_report("flow", name, "msg/s", bench_median(ours, o->reps), "raw-zmq-same-hops",
                     bench_median(raw, o->reps), ratio, sizeof(msg_t), BENCH_BAR_MIN_RATIO, 0.8);
}

int
main(int argc, char **argv)
{
    bench_opts_t o;
    bench_parse_args(argc, argv, &o);
    signal(SIGPIPE, SIG_IGN);
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    workers = (int) (cores > 0 ? cores * 2 : 2);
    if (workers > MAX_WORKERS)
        workers = MAX_WORKERS;
    run_case(&o, "echo-16B", false, o.quick ? 100000 : 1000000);
    run_case(&o, "hop-latency", true, o.quick ? 1000 : 5000);
    if (bench_selected(&o, "alo-16B")) {
        /* At-least-once on the source → workers link against the default,
           both ours. */
        paced = false;
        n_msgs = o.quick ? 100000 : 1000000;
        double alo[BENCH_MAX_REPS], plain[BENCH_MAX_REPS];
        for (int r = 0; r < o.reps; r++) {
            reliable = true;
            alo[r] = run_once(true);
            reliable = false;
            plain[r] = run_once(true);
            if (o.verbose)
                fprintf(stderr, "alo-16B rep %d: alo %.4g default %.4g\n", r, alo[r], plain[r]);
        }
        bench_report("flow", "alo-16B", "msg/s", bench_median(alo, o.reps), "mu_flow-default",
                     bench_median(plain, o.reps), bench_paired_ratio(alo, plain, o.reps),
                     sizeof(msg_t), BENCH_BAR_NONE, 0);
    }
    bench_print_table();
    printf("(%d workers; alo-16B: at-least-once on the link into the workers, against "
           "mu_flow's default delivery)\n",
           workers);
    return 0;
}
