/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  bench_flow.h — what the dataflow benchmarks (bench/flow.c,
    bench/flow_hosts.c, bench/flow_demo.c) share: the 16-byte message, the
    report a measuring process writes to the parent through a pipe, the
    mu_flow source's batch of sends, the parent's read of one report, and
    the raw libzmq baselines' ipc endpoint names and sockets.

    Include it after "config.h", "mutil.h" and "bench.h". Static inline, as
    bench.h. */
#ifndef MU_BENCH_FLOW_H_INCLUDED
#define MU_BENCH_FLOW_H_INCLUDED

#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

/*  A message: its number and its send time (CLOCK_MONOTONIC, system-wide). */
typedef struct {
    uint64_t value;
    int64_t sent_ns;
} msg_t;

/*  What a source or a sink process tells the parent (one write, well under
    PIPE_BUF, so reports of several processes never interleave). */
typedef struct {
    int64_t start_ns; /* source: first send */
    int64_t end_ns;   /* sink: last message */
    double p50_us;    /* sink: median one-way latency (bench/flow, paced) */
    uint64_t dups;    /* sink: numbers received more than once (flow_hosts) */
    int who;          /* 0 source, 1 sink */
} report_t;

/*  The message a frame holds into *m; false when the frame is no message. */
static inline bool
bench_flow_msg(const void *data, size_t size, msg_t *m)
{
    if (size != sizeof *m)
        return false;
    memcpy(m, data, sizeof *m);
    return true;
}

/*  Writes r to fd; a process that cannot report ends with status 9. */
static inline void
bench_flow_report(int fd, const report_t *r)
{
    if (write(fd, r, sizeof *r) != (ssize_t) sizeof *r)
        _exit(9);
}

/*  Reads one report from fd into r, waiting up to timeout_ms; false on
    timeout or a short read. */
static inline bool
bench_flow_read_report(int fd, int timeout_ms, report_t *r)
{
    struct pollfd p = { .fd = fd, .events = POLLIN };
    return poll(&p, 1, timeout_ms) == 1 && read(fd, r, sizeof *r) == (ssize_t) sizeof *r;
}

/*  Busy-waits until *due (bench_now_ns), then moves it step_ns on: pacing
    finer than the scheduler's sleeps. */
static inline void
bench_flow_pace(int64_t *due, int64_t step_ns)
{
    while (bench_now_ns() < *due)
        ;
    *due += step_ns;
}

/*  One call of a mu_flow source: emits up to 64 messages numbered from
    *next (advanced), each paced by bench_flow_pace(due, step_ns) when due is
    not NULL. Returns MU_FLOW_MORE while fewer than n have gone, 0 after the
    last, MU_EINTR when the flow stops the source. */
static inline int
bench_flow_emit_some(mu_flow_emit_t *out, uint64_t *next, uint64_t n, int64_t *due, int64_t step_ns)
{
    for (int k = 0; k < 64 && *next < n; k++) {
        if (due)
            bench_flow_pace(due, step_ns);
        msg_t m = { .value = (*next)++, .sent_ns = bench_now_ns() };
        if (mu_flow_emit(out, &m, sizeof m) != 0)
            return MU_EINTR;
    }
    return *next < n ? MU_FLOW_MORE : 0;
}

/*  A raw baseline's ipc endpoint: "ipc://DIR/KIND-I" into buf. */
static inline void
bench_flow_raw_ep(char *buf, size_t cap, const char *dir, const char *kind, int i)
{
    snprintf(buf, cap, "ipc://%s/%s-%d", dir, kind, i);
}

/*  A raw baseline's ZeroMQ socket of type (ZMQ_PUSH: SNDHWM hwm, else
    RCVHWM hwm) with linger 0; NULL when zmq_socket failed. */
static inline void *
bench_flow_raw_socket(void *ctx, int type, int hwm)
{
    void *s = zmq_socket(ctx, type);
    int linger = 0;
    if (s) {
        zmq_setsockopt(s, type == ZMQ_PUSH ? ZMQ_SNDHWM : ZMQ_RCVHWM, &hwm, sizeof hwm);
        zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger);
    }
    return s;
}

#endif
