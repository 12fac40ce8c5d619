/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  flow_test.h — what the mu_flow test programs share: a pass-through
    worker, a sink that reports (runner index, id) records into a results
    pipe, reading that pipe up to its end of stream, waiting for a stage's
    statistics to reach a value, length-prefixed frames over a socket, and
    running the cases named on the command line. Include after mu_test.h and mutil.h. */
#ifndef FLOW_TEST_H_INCLUDED
#define FLOW_TEST_H_INCLUDED

#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

static int result_fd = -1; /* write end the sinks report into */
static int worker_delay_us;
static int sink_delay_us;

static inline int
pass_through(void *state, const void *data, size_t size, mu_flow_emit_t *out)
{
    (void) state;
    if (worker_delay_us)
        usleep((useconds_t) worker_delay_us); /* simulated work, not a wait */
    return mu_flow_emit(out, data, size);
}

typedef struct {
    int32_t index;
    uint64_t id;
} record_t;

static inline int
sink_startup(void *arg, int index, void **state_p)
{
    (void) arg;
    *state_p = (void *) (intptr_t) index;
    return 0;
}

/*  Waits up to 20 s (scaled) on fd, a pipe of start records (index: a
    runner's code, id: its pid, each written at once), for the record of
    runner code, skipping the others'; returns its pid, or 0. */
static inline pid_t
flow_wait_start(int fd, int code)
{
    int64_t until = mu_test_now_ms() + mu_test_ms(20000);
    for (;;) {
        int64_t left = until - mu_test_now_ms();
        struct pollfd p = { .fd = fd, .events = POLLIN };
        record_t rec;
        if (left < 0 || poll(&p, 1, (int) left) <= 0
            || read(fd, &rec, sizeof rec) != (ssize_t) sizeof rec)
            return 0;
        if (rec.index == code)
            return (pid_t) rec.id;
    }
}

/*  Writes (index, id) to result_fd (atomic: far below PIPE_BUF). */
static inline int
sink(void *state, const void *data, size_t size, mu_flow_emit_t *out)
{
    (void) out;
    record_t rec = { .index = (int32_t) (intptr_t) state };
    if (sink_delay_us)
        usleep((useconds_t) sink_delay_us); /* a slow sink, not a wait */
    if (size != sizeof rec.id)
        return MU_EINVAL;
    memcpy(&rec.id, data, sizeof rec.id);
    return write(result_fd, &rec, sizeof rec) == (ssize_t) sizeof rec ? 0 : -errno;
}

/*  The results pipe: the flow's processes (forked children) write records
    into it. Once the flow is started, results_started() closes the test's
    own write end, so the pipe reports end-of-stream when the last of the
    flow's processes is gone: "nothing more" is an event, not a silence. */
static int results[2] = { -1, -1 };

static inline void
open_results(void)
{
    if (pipe2(results, O_CLOEXEC) != 0)
        abort();
    fcntl(results[0], F_SETPIPE_SZ, 1024 * 1024);
    result_fd = results[1];
}

/*  After mu_flow_start (or mu_flow_run, or forking the writers): only the
    writers hold the write end from now on. */
static inline void
results_started(void)
{
    if (results[1] >= 0)
        close(results[1]);
    results[1] = -1;
}

/*  Reads records until want of them came, the stream ended (every writer
    gone, see results_started) or timeout_ms (scaled) passed. */
static inline size_t
read_records(record_t *recs, size_t want, int timeout_ms)
{
    size_t n = 0, partial = 0;
    char *buf = (char *) recs;
    int64_t until = mu_test_now_ms() + mu_test_ms(timeout_ms);
    while (n < want) {
        int64_t left = until - mu_test_now_ms();
        struct pollfd p = { .fd = results[0], .events = POLLIN };
        if (left < 0 || poll(&p, 1, (int) left) <= 0)
            break;
        ssize_t len = read(results[0], buf + n * sizeof *recs + partial,
                           (want - n) * sizeof *recs - partial);
        if (len <= 0)
            break;
        partial += (size_t) len;
        n += partial / sizeof *recs;
        partial %= sizeof *recs;
    }
    return n;
}

/*  After the flow ended: the records still in the pipe up to cap (the
    stream has ended: this never waits for a silence). */
static inline size_t
read_rest(record_t *recs, size_t cap)
{
    results_started();
    return read_records(recs, cap, 60000);
}

static inline void
close_results(void)
{
    close(results[0]);
    results_started();
}

/*  Finds the stage total row of stage. */
static inline bool
stage_row(mu_flow_t *f, const char *stage, int index, mu_flow_stats_t *row)
{
    mu_flow_stats_t rows[64] = { [0].size = sizeof rows[0] };
    size_t n = 0;
    if (mu_flow_stats(f, rows, 64, &n) != 0)
        return false;
    for (size_t i = 0; i < n && i < 64; i++)
        if (strcmp(rows[i].stage, stage) == 0 && rows[i].index == index) {
            *row = rows[i];
            return true;
        }
    return false;
}

#define STAT(field) offsetof(mu_flow_stats_t, field), #field

/*  What wait_stat and wait_runner_pid look for: a field (offset, width 8
    for the counters or sizeof(pid_t) for pid) of a stage's row. */
typedef struct {
    mu_flow_t *f;
    const char *stage;
    int index;
    size_t offset, width;
    uint64_t want, got;
    mu_flow_stats_t *row;
} stat_wait_t;

static inline bool
stat_reached(void *arg)
{
    stat_wait_t *w = (stat_wait_t *) arg;
    if (!stage_row(w->f, w->stage, w->index, w->row))
        return false;
    if (w->width == sizeof(pid_t)) {
        pid_t pid;
        memcpy(&pid, (const char *) w->row + w->offset, sizeof pid);
        w->got = (uint64_t) pid;
    } else
        memcpy(&w->got, (const char *) w->row + w->offset, sizeof w->got);
    return w->got == w->want;
}

/*  Waits up to 20 s (scaled) for the counter at offset in stage's total
    row to reach want; *row gets the last row read. The statistics come
    from the flow's other processes, at most ~100 ms old, and nothing
    announces a change: mu_flow offers no event to wait on, so this polls
    (through mu_test_poll_until). Where a handler's own work is the event,
    a test waits on that first (results pipe) and polls only for the
    statistics it checks. */
static inline bool
wait_stat(mu_flow_t *f, const char *stage, size_t offset, const char *name, uint64_t want,
          mu_flow_stats_t *row)
{
    stat_wait_t w = { f, stage, -1, offset, sizeof(uint64_t), want, 0, row };
    if (mu_test_poll_until(stat_reached, &w, 20000))
        return true;
    printf("# stage %s: %s %llu, expected %llu\n", stage, name, (unsigned long long) w.got,
           (unsigned long long) want);
    return false;
}

/*  Waits (as wait_stat) until runner index of stage reports pid in its
    statistics row (*row). */
static inline bool
wait_runner_pid(mu_flow_t *f, const char *stage, int index, pid_t pid, mu_flow_stats_t *row)
{
    stat_wait_t w = {
        f, stage, index, offsetof(mu_flow_stats_t, pid), sizeof(pid_t), (uint64_t) pid, 0, row
    };
    if (mu_test_poll_until(stat_reached, &w, 20000))
        return true;
    printf("# stage %s runner %d: pid %lld, expected %d\n", stage, index, (long long) w.got,
           (int) pid);
    return false;
}

/*  Waits for the stage's in and errors to reach the wanted values. */
static inline bool
wait_row(mu_flow_t *f, const char *stage, uint64_t in, uint64_t errors, mu_flow_stats_t *row)
{
    return wait_stat(f, stage, STAT(in), in, row) && wait_stat(f, stage, STAT(errors), errors, row);
}

/*  Writes one frame with a 4-byte little-endian length prefix to fd. */
static inline bool
send_frame(int fd, const void *data, uint32_t size)
{
    uint8_t hdr[4] = { (uint8_t) size, (uint8_t) (size >> 8), (uint8_t) (size >> 16),
                       (uint8_t) (size >> 24) };
    return write(fd, hdr, 4) == 4 && (size == 0 || write(fd, data, size) == (ssize_t) size);
}

/*  Reads n bytes, waiting up to timeout_ms (scaled) each time. */
static inline bool
read_full(int fd, void *buf, size_t n, int timeout_ms)
{
    size_t got = 0;
    while (got < n) {
        struct pollfd p = { .fd = fd, .events = POLLIN };
        if (poll(&p, 1, mu_test_ms(timeout_ms)) != 1)
            return false;
        ssize_t len = read(fd, (char *) buf + got, n - got);
        if (len <= 0)
            return false;
        got += (size_t) len;
    }
    return true;
}

static const char *flow_test_only; /* argv[1]: run the cases whose name contains it */
#define RUN(fn)                                             \
    do {                                                    \
        if (!flow_test_only || strstr(#fn, flow_test_only)) \
            MU_RUN(fn);                                     \
    } while (0)

/*  Starts a flow test program: the cases to run, its timeout, SIGPIPE
    ignored (clients write to closed sockets). */
static inline void
flow_test_begin(int argc, char **argv)
{
    flow_test_only = argc > 1 ? argv[1] : NULL;
    mu_test_start(300);
    signal(SIGPIPE, SIG_IGN);
}

#endif
