/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  test_flow_hooks.c — mu_flow's timer hook on worker stages (called with
    no input, emits time-based aggregates, nothing after the teardown), the
    startup hook of TCP edges, and mu_flow_wait_ready (startup hooks that
    return when told). Runners report through a pipe they
    inherit; the test waits on its bytes and on TCP frames, never on time. */
#include "mu_test.h"
#include "mutil.h"
#include "flow_test.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

static int hook_pipe[2] = { -1, -1 }; /* runners write one byte per hook call */
static int go_pipe[2] = { -1, -1 };   /* the test tells the source to finish */

static void
hook_byte(char c)
{
    ssize_t n = write(hook_pipe[1], &c, 1);
    (void) n;
}

/* One frame (4-byte prefix) into buf (cap bytes, NUL-terminated). */
static bool
read_frame(int fd, char *buf, size_t cap, int timeout_ms)
{
    uint8_t hdr[4];
    if (!read_full(fd, hdr, 4, timeout_ms))
        return false;
    uint32_t size = hdr[0] | hdr[1] << 8 | hdr[2] << 16 | (uint32_t) hdr[3] << 24;
    if (size >= cap || !read_full(fd, buf, size, timeout_ms))
        return false;
    buf[size] = 0;
    return true;
}

/* ---- timer hook: aggregates over time --------------------------------------------- */

typedef struct {
    unsigned count;
    bool in_handler, torn;
} agg_t;

static agg_t agg; /* one per runner process (each is a fork) */

static int
agg_startup(void *arg, int index, void **state_p)
{
    (void) arg;
    (void) index;
    agg = (agg_t) { 0 };
    *state_p = &agg;
    return 0;
}

static int
agg_handler(void *state, const void *data, size_t size, mu_flow_emit_t *out)
{
    (void) data;
    (void) size;
    (void) out;
    agg_t *a = state;
    a->in_handler = true;
    a->count++;
    a->in_handler = false;
    return 0;
}

/* Emits "T<count>" (or "BAD" when called inside the handler) and resets. */
static int
agg_timer(void *state, mu_flow_emit_t *out)
{
    agg_t *a = state;
    char text[32];
    int n = snprintf(text, sizeof text, a->in_handler ? "BAD" : "T%u", a->count);
    a->count = 0;
    return mu_flow_emit(out, text, (size_t) n);
}

static void
test_timer_aggregates(void)
{
    mu_flow_t *f = mu_flow_new("tmr");
    MU_CHECK(f);
    mu_flow_edge_t in = { .host = "127.0.0.1", .listen = true, .max_frame = 1024 };
    mu_flow_edge_t out = { .host = "127.0.0.1", .listen = true };
    MU_CHECK_EQ(mu_flow_add_edge(f, "in", &in), 0);
    MU_CHECK_EQ(mu_flow_add_worker_stage(f, "agg", 1, agg_startup, agg_handler, NULL), 0);
    MU_CHECK_EQ(mu_flow_add_edge(f, "out", &out), 0);
    /* every documented refusal */
    MU_CHECK_EQ(mu_flow_set_timer(f, "nope", 20, agg_timer), MU_EINVAL);
    MU_CHECK_EQ(mu_flow_set_timer(f, "in", 20, agg_timer), MU_EINVAL); /* not a worker */
    MU_CHECK_EQ(mu_flow_set_timer(f, "agg", 0, agg_timer), MU_EINVAL);
    MU_CHECK_EQ(mu_flow_set_timer(f, "agg", 3600001, agg_timer), MU_EINVAL);
    MU_CHECK_EQ(mu_flow_set_timer(f, "agg", 20, NULL), 0);
    MU_CHECK_EQ(mu_flow_set_timer(f, "agg", 20, agg_timer), 0);
    MU_CHECK_EQ(mu_flow_start(f), 0);
    MU_CHECK_EQ(mu_flow_set_timer(f, "agg", 20, agg_timer), MU_EINVAL); /* started */
    int o = mu_test_tcp_connect(mu_flow_edge_port(f, "out", 0), 0);
    MU_CHECK(o >= 0);
    /* with no input at all, the timer's aggregates arrive */
    char buf[64];
    MU_CHECK(read_frame(o, buf, sizeof buf, 5000));
    MU_CHECK_EQ(strcmp(buf, "T0"), 0);
    int i = mu_test_tcp_connect(mu_flow_edge_port(f, "in", 0), 0);
    MU_CHECK(i >= 0);
    for (int k = 0; k < 10; k++)
        MU_CHECK(send_frame(i, "x", 1));
    unsigned sum = 0;
    int64_t until = mu_test_now_ms() + mu_test_ms(10000);
    while (sum < 10 && mu_test_now_ms() < until) {
        MU_CHECK(read_frame(o, buf, sizeof buf, 5000));
        MU_CHECK(buf[0] == 'T');
        sum += (unsigned) strtoul(buf + 1, NULL, 10);
    }
    MU_CHECK_EQ(sum, 10);
    close(i);
    close(o);
    MU_CHECK_EQ(mu_flow_stop(f, mu_test_ms(10000)), 0);
    mu_flow_destroy(&f);
}

/* ---- timer hook and the drain ----------------------------------------------------- */

static int
one_then_wait(void *arg, int index, mu_flow_emit_t *out)
{
    (void) arg;
    (void) index;
    int rc = mu_flow_emit(out, "m", 1);
    char c;
    while (read(go_pipe[0], &c, 1) < 0 && errno == EINTR) {
    }
    return rc; /* 0: done, the flow drains */
}

static int
marking_timer(void *state, mu_flow_emit_t *out)
{
    (void) out;
    agg_t *a = state;
    hook_byte(a->torn ? 'X' : 't');
    static bool failed; /* per runner process */
    if (failed)
        return 0;
    failed = true;
    return MU_EPROTO; /* counted, once per runner */
}

static int
marking_teardown(void *state, mu_flow_emit_t *out)
{
    (void) out;
    agg_t *a = state;
    a->torn = true;
    hook_byte('D');
    return 0;
}

static void
test_timer_drain(void)
{
    MU_CHECK(pipe(hook_pipe) == 0 && pipe(go_pipe) == 0);
    mu_flow_t *f = mu_flow_new("tdr");
    MU_CHECK(f);
    MU_CHECK_EQ(mu_flow_add_source(f, "src", 1, one_then_wait, NULL), 0);
    MU_CHECK_EQ(mu_flow_add_worker_stage(f, "agg", 2, agg_startup, agg_handler, NULL), 0);
    MU_CHECK_EQ(mu_flow_set_timer(f, "agg", 10, marking_timer), 0);
    MU_CHECK_EQ(mu_flow_set_teardown(f, "agg", marking_teardown), 0);
    MU_CHECK_EQ(mu_flow_start(f), 0);
    close(hook_pipe[1]);
    close(go_pipe[0]);
    MU_CHECK_EQ(mu_test_wait_byte(hook_pipe[0], 10000), 't'); /* the timer runs */
    mu_test_signal_byte(go_pipe[1], 'g');                     /* the source ends */
    MU_CHECK_EQ(mu_flow_wait(f, mu_test_ms(20000)), 0);
    /* every runner has exited: the pipe holds all their calls (the
       supervisor may still hold a write end: read without waiting) */
    (void) fcntl(hook_pipe[0], F_SETFL, O_NONBLOCK);
    char seq[4096];
    size_t n = 0;
    for (;;) {
        ssize_t len = read(hook_pipe[0], seq + n, sizeof seq - n);
        if (len <= 0)
            break;
        n += (size_t) len;
        if (n == sizeof seq)
            n = 0; /* keep the tail only */
    }
    size_t d = 0;
    for (size_t k = 0; k < n; k++) {
        MU_CHECK(seq[k] != 'X'); /* no timer call after a teardown */
        d += seq[k] == 'D';
    }
    MU_CHECK_EQ(d, 2); /* one teardown per runner */
    mu_flow_stats_t row;
    MU_CHECK(stage_row(f, "agg", -1, &row));
    MU_CHECK(row.errors >= 1); /* the timer's MU_EPROTO */
    mu_flow_destroy(&f);
    close(hook_pipe[0]);
    close(go_pipe[1]);
}

/* ---- edge startup hook ------------------------------------------------------------ */

typedef struct {
    char tag[16];
} edge_state_t;

static edge_state_t edge_state;

static int
edge_startup(void *arg, int index, void **state_p)
{
    snprintf(edge_state.tag, sizeof edge_state.tag, "%s%d", (const char *) arg, index);
    *state_p = &edge_state;
    hook_byte('S');
    return 0;
}

static int
edge_fail_startup(void *arg, int index, void **state_p)
{
    (void) arg;
    (void) index;
    (void) state_p;
    hook_byte('F');
    return -1;
}

/* Prefixes each frame with the state's tag. */
static int
tag_frame(void *state, const void *data, size_t size, mu_flow_emit_t *out)
{
    const edge_state_t *s = state;
    char buf[128];
    size_t t = strlen(s->tag);
    if (t + size > sizeof buf)
        return MU_EMSGSIZE;
    memcpy(buf, s->tag, t);
    memcpy(buf + t, data, size);
    return mu_flow_emit(out, buf, t + size);
}

static void
test_edge_startup(void)
{
    MU_CHECK(pipe(hook_pipe) == 0);
    mu_flow_t *f = mu_flow_new("est");
    MU_CHECK(f);
    mu_flow_edge_t in = { .host = "127.0.0.1",
                          .listen = true,
                          .startup = edge_startup,
                          .from_client = tag_frame,
                          .arg = "in" };
    mu_flow_edge_t out = { .host = "127.0.0.1",
                           .listen = true,
                           .startup = edge_startup,
                           .from_internal = tag_frame,
                           .arg = "out" };
    MU_CHECK_EQ(mu_flow_add_edge(f, "in", &in), 0);
    MU_CHECK_EQ(mu_flow_add_worker_stage(f, "work", 1, NULL, pass_through, NULL), 0);
    MU_CHECK_EQ(mu_flow_add_edge(f, "out", &out), 0);
    MU_CHECK_EQ(mu_flow_start(f), 0);
    close(hook_pipe[1]);
    MU_CHECK_EQ(mu_test_wait_byte(hook_pipe[0], 10000), 'S');
    MU_CHECK_EQ(mu_test_wait_byte(hook_pipe[0], 10000), 'S'); /* once per edge runner */
    int o = mu_test_tcp_connect(mu_flow_edge_port(f, "out", 0), 0);
    int i = mu_test_tcp_connect(mu_flow_edge_port(f, "in", 0), 0);
    MU_CHECK(o >= 0 && i >= 0);
    /* an outbound edge drops while no client: resend until one arrives */
    char buf[64];
    bool got = false;
    for (int k = 0; k < 100 && !got; k++) {
        MU_CHECK(send_frame(i, "x", 1));
        struct pollfd p = { .fd = o, .events = POLLIN };
        got = poll(&p, 1, mu_test_ms(100)) == 1;
    }
    MU_CHECK(got && read_frame(o, buf, sizeof buf, 5000));
    MU_CHECK_EQ(strcmp(buf, "out0in0x"), 0); /* both hooks saw their state */
    close(i);
    close(o);
    MU_CHECK_EQ(mu_flow_stop(f, mu_test_ms(10000)), 0);
    mu_flow_destroy(&f);
    /* a failing startup hook: the runner exits, counted as a crash and
       restarted (so it is called again) */
    close(hook_pipe[0]);
    MU_CHECK(pipe(hook_pipe) == 0);
    mu_flow_t *g = mu_flow_new("esf");
    MU_CHECK(g);
    mu_flow_edge_t bad = { .host = "127.0.0.1", .listen = true, .startup = edge_fail_startup };
    MU_CHECK_EQ(mu_flow_add_edge(g, "in", &bad), 0);
    MU_CHECK_EQ(mu_flow_add_worker_stage(g, "work", 1, NULL, pass_through, NULL), 0);
    MU_CHECK_EQ(mu_flow_set_restart_limit(g, 100, 60000), 0);
    MU_CHECK_EQ(mu_flow_start(g), 0);
    close(hook_pipe[1]);
    MU_CHECK_EQ(mu_test_wait_byte(hook_pipe[0], 10000), 'F');
    MU_CHECK_EQ(mu_test_wait_byte(hook_pipe[0], 10000), 'F');
    int rc = mu_flow_stop(g, mu_test_ms(10000));
    (void) rc; /* a flow whose runner keeps failing may end failed */
    mu_flow_destroy(&g);
    close(hook_pipe[0]);
}

/* ---- frame header size ------------------------------------------------------------ */

static bool
send_frame1(int fd, const void *data, uint8_t size)
{
    return write(fd, &size, 1) == 1 && (size == 0 || write(fd, data, size) == (ssize_t) size);
}

static bool
read_frame1(int fd, char *buf, int timeout_ms)
{
    uint8_t size;
    if (!read_full(fd, &size, 1, timeout_ms) || !read_full(fd, buf, size, timeout_ms))
        return false;
    buf[size] = 0;
    return true;
}

/* Passes frames through; "big" becomes 300 bytes. */
static int
maybe_big(void *state, const void *data, size_t size, mu_flow_emit_t *out)
{
    (void) state;
    static char big[300];
    if (size == 3 && memcmp(data, "big", 3) == 0)
        return mu_flow_emit(out, big, sizeof big);
    return mu_flow_emit(out, data, size);
}

/* Reports each frame: its bytes, or 'L' for a long one. */
static int
report_frame(void *state, const void *data, size_t size, mu_flow_emit_t *out)
{
    (void) state;
    (void) out;
    if (size > 16)
        hook_byte('L');
    else
        for (size_t k = 0; k < size; k++)
            hook_byte(((const char *) data)[k]);
    return 0;
}

static void
test_frame_header_edges(void)
{
    mu_flow_t *f = mu_flow_new("fh");
    MU_CHECK(f);
    mu_flow_edge_t in = { .host = "127.0.0.1", .listen = true, .max_frame = 100 };
    mu_flow_edge_t out = { .host = "127.0.0.1", .listen = true };
    MU_CHECK_EQ(mu_flow_add_edge(f, "in", &in), 0);
    MU_CHECK_EQ(mu_flow_add_worker_stage(f, "work", 1, NULL, maybe_big, NULL), 0);
    MU_CHECK_EQ(mu_flow_add_edge(f, "out", &out), 0);
    MU_CHECK_EQ(mu_flow_set_frame_header(f, "nope", 1), MU_EINVAL);
    MU_CHECK_EQ(mu_flow_set_frame_header(f, "work", 1), MU_EINVAL); /* a worker */
    MU_CHECK_EQ(mu_flow_set_frame_header(f, "in", 0), MU_EINVAL);
    MU_CHECK_EQ(mu_flow_set_frame_header(f, "in", 9), MU_EINVAL);
    MU_CHECK_EQ(mu_flow_set_frame_header(f, "in", 1), 0);
    MU_CHECK_EQ(mu_flow_set_frame_header(f, "out", 1), 0);
    MU_CHECK_EQ(mu_flow_start(f), 0);
    MU_CHECK_EQ(mu_flow_set_frame_header(f, "in", 2), MU_EINVAL); /* started */
    int o = mu_test_tcp_connect(mu_flow_edge_port(f, "out", 0), 0);
    int i = mu_test_tcp_connect(mu_flow_edge_port(f, "in", 0), 0);
    MU_CHECK(o >= 0 && i >= 0);
    char buf[256];
    MU_CHECK(send_frame1(i, "a", 1));
    MU_CHECK(read_frame1(o, buf, 5000));
    MU_CHECK_EQ(strcmp(buf, "a"), 0);
    /* 300 bytes cannot go out with a 1-byte prefix: refused, counted */
    MU_CHECK(send_frame1(i, "big", 3));
    MU_CHECK(send_frame1(i, "b", 1));
    MU_CHECK(read_frame1(o, buf, 5000));
    MU_CHECK_EQ(strcmp(buf, "b"), 0);
    mu_flow_stats_t row;
    MU_CHECK(wait_stat(f, "out", STAT(errors), 1, &row));
    /* a client announcing more than max_frame (200 > 100): a bad frame,
       the client is closed and counted */
    uint8_t too_long = 200;
    MU_CHECK(write(i, &too_long, 1) == 1);
    MU_CHECK(wait_stat(f, "in", STAT(errors), 1, &row));
    close(i);
    close(o);
    MU_CHECK_EQ(mu_flow_stop(f, mu_test_ms(10000)), 0);
    mu_flow_destroy(&f);
}

static void
test_frame_header_fd_source(void)
{
    int in[2];
    MU_CHECK(pipe(in) == 0 && pipe(hook_pipe) == 0);
    /* frames with a 2-byte prefix: "hi", 300 bytes (over what 1 byte could
       say), "yo"; then EOF */
    static uint8_t bytes[2 + 2 + 2 + 300 + 2 + 2];
    size_t n = 0;
    bytes[n++] = 2, bytes[n++] = 0, bytes[n++] = 'h', bytes[n++] = 'i';
    bytes[n++] = 300 & 0xff, bytes[n++] = 300 >> 8, n += 300;
    bytes[n++] = 2, bytes[n++] = 0, bytes[n++] = 'y', bytes[n++] = 'o';
    MU_CHECK(write(in[1], bytes, n) == (ssize_t) n);
    close(in[1]);
    mu_flow_t *f = mu_flow_new("fhs");
    MU_CHECK(f);
    MU_CHECK_EQ(mu_flow_add_fd_source(f, "src", &in[0], 1), 0);
    MU_CHECK_EQ(mu_flow_add_worker_stage(f, "rep", 1, NULL, report_frame, NULL), 0);
    MU_CHECK_EQ(mu_flow_set_frame_header(f, "src", 2), 0);
    MU_CHECK_EQ(mu_flow_run(f), 0);
    close(hook_pipe[1]);
    (void) fcntl(hook_pipe[0], F_SETFL, O_NONBLOCK);
    char got[16] = { 0 };
    ssize_t len = read(hook_pipe[0], got, sizeof got - 1);
    MU_CHECK_EQ(len, 5);
    MU_CHECK_EQ(strcmp(got, "hiLyo"), 0);
    mu_flow_destroy(&f);
    close(hook_pipe[0]);
}

/* ---- mu_flow_wait_ready ------------------------------------------------------------ */

static int ready_go[2] = { -1, -1 }; /* the test lets the runners' startup return */

/*  A startup hook that returns once the test writes 'g' (one per runner). */
static int
startup_when_told(void *arg, int index, void **state_p)
{
    (void) index;
    *state_p = arg;
    char c = 0;
    return read(ready_go[0], &c, 1) == 1 && c == 'g' ? 0 : 1;
}

static int
startup_fails(void *arg, int index, void **state_p)
{
    (void) arg, (void) index, (void) state_p;
    return 1;
}

/*  A flow whose first stage is a listening TCP edge (it runs until
    stopped) and whose second has two runners with startup hook `startup`;
    NULL on failure. */
static mu_flow_t *
edge_then_workers(const char *name, mu_flow_startup_fn *startup)
{
    mu_flow_t *f = mu_flow_new(name);
    mu_flow_edge_t in = { .host = "127.0.0.1", .port = 0, .listen = true };
    if (f
        && (mu_flow_add_edge(f, "in", &in) != 0
            || mu_flow_add_worker_stage(f, "work", 2, startup, pass_through, NULL) != 0))
        mu_flow_destroy(&f);
    return f;
}

/*  mu_flow_wait_ready: not started (EINVAL); not ready while a runner's
    startup hook runs (EAGAIN at 0, ETIMEDOUT after a bound), ready once
    every runner is set up; the failed end's code when the flow fails
    before. */
static void
test_wait_ready(void)
{
    MU_CHECK(pipe(ready_go) == 0);
    mu_flow_t *f = edge_then_workers("frdy", startup_when_told);
    MU_CHECK(f);
    MU_CHECK_EQ(mu_flow_wait_ready(f, 0), MU_EINVAL);
    MU_CHECK_EQ(mu_flow_start(f), 0);
    MU_CHECK_EQ(mu_flow_wait_ready(f, 0), MU_EAGAIN);
    MU_CHECK(strstr(mu_last_error(), "of 3 runners ready"));
    MU_CHECK_EQ(mu_flow_wait_ready(f, 100), MU_ETIMEDOUT); /* a bound, not a wait for an event */
    MU_CHECK(write(ready_go[1], "gg", 2) == 2);
    MU_CHECK_EQ(mu_flow_wait_ready(f, mu_test_ms(30000)), 0);
    MU_CHECK_EQ(mu_flow_wait_ready(f, 0), 0);
    MU_CHECK_EQ(mu_flow_stop(f, mu_test_ms(30000)), 0);
    MU_CHECK_EQ(mu_flow_wait_ready(f, 0), 0); /* finished */
    mu_flow_destroy(&f);
    close(ready_go[0]);
    close(ready_go[1]);

    f = edge_then_workers("frdyfail", startup_fails);
    MU_CHECK(f);
    MU_CHECK_EQ(mu_flow_set_restart_limit(f, 0, 60000), 0);
    MU_CHECK_EQ(mu_flow_start(f), 0);
    MU_CHECK_EQ(mu_flow_wait_ready(f, -1), MU_ELIMIT);
    MU_CHECK_EQ(mu_flow_wait(f, 0), MU_ELIMIT);
    mu_flow_destroy(&f);
}

static int many_pipe[2] = { -1, -1 }; /* a byte per runner whose startup ran */

static int
startup_says_so(void *arg, int index, void **state_p)
{
    (void) index;
    *state_p = arg;
    return write(many_pipe[1], "s", 1) == 1 ? 0 : 1;
}

/*  Reads n bytes from fd within mu_test_ms(60000); whether it did. */
static bool
read_bytes(int fd, size_t n)
{
    int64_t until = mu_timer_now_ns() + (int64_t) mu_test_ms(60000) * 1000000;
    char buf[256];
    while (n > 0) {
        struct pollfd p = { .fd = fd, .events = POLLIN };
        int left = (int) ((until - mu_timer_now_ns()) / 1000000);
        if (left <= 0 || poll(&p, 1, left) != 1)
            return false;
        ssize_t got = read(fd, buf, n < sizeof buf ? n : sizeof buf);
        if (got <= 0)
            return false;
        n -= (size_t) got;
    }
    return true;
}

/*  Many runners, all ready before the caller looks: none is lost (the
    earlier design queued a message per runner on one socket, whose
    buffer held 278: above that, wait_ready never returned 0). Two
    pipelines of a listening edge and 150 workers: 302 runners. */
static void
test_wait_ready_many(void)
{
    MU_CHECK(pipe(many_pipe) == 0);
    mu_flow_t *f = mu_flow_new("frdymany");
    MU_CHECK(f);
    const char *pipes[] = { "a", "b" };
    for (int p = 0; p < 2; p++) {
        char in[8], work[8];
        snprintf(in, sizeof in, "in%s", pipes[p]);
        snprintf(work, sizeof work, "work%s", pipes[p]);
        mu_flow_edge_t e = { .host = "127.0.0.1", .port = 0, .listen = true };
        MU_CHECK_EQ(mu_flow_add_pipeline(f, pipes[p]), 0);
        MU_CHECK_EQ(mu_flow_add_edge(f, in, &e), 0);
        MU_CHECK_EQ(mu_flow_add_worker_stage(f, work, 150, startup_says_so, pass_through, NULL), 0);
    }
    MU_CHECK_EQ(mu_flow_start(f), 0);
    MU_CHECK(read_bytes(many_pipe[0], 300)); /* every worker's startup hook ran */
    MU_CHECK_EQ(mu_flow_wait_ready(f, mu_test_ms(60000)), 0);
    MU_CHECK_EQ(mu_flow_stop(f, mu_test_ms(30000)), 0);
    mu_flow_destroy(&f);
    close(many_pipe[0]);
    close(many_pipe[1]);
}

/*  A named pipeline that fails before its runners are ready (isolated: the
    other goes on): mu_flow_wait_ready returns its code at once, and
    mu_flow_start does not wait for its listening WebSocket edge (it used
    to block for ever). */
static void
test_wait_ready_failed_pipeline(void)
{
    mu_flow_t *f = mu_flow_new("frdyiso");
    MU_CHECK(f);
    mu_flow_edge_t good = { .host = "127.0.0.1", .port = 0, .listen = true };
    mu_flow_edge_t bad = { .host = "127.0.0.1",
                           .port = 0,
                           .listen = true,
                           .transport = MU_FLOW_EDGE_WS,
                           .startup = startup_fails };
    MU_CHECK_EQ(mu_flow_add_pipeline(f, "good"), 0);
    MU_CHECK_EQ(mu_flow_add_edge(f, "ingood", &good), 0);
    MU_CHECK_EQ(mu_flow_add_worker_stage(f, "workgood", 1, NULL, pass_through, NULL), 0);
    MU_CHECK_EQ(mu_flow_add_pipeline(f, "bad"), 0);
    MU_CHECK_EQ(mu_flow_add_edge(f, "inbad", &bad), 0);
    MU_CHECK_EQ(mu_flow_add_worker_stage(f, "workbad", 1, NULL, pass_through, NULL), 0);
    MU_CHECK_EQ(mu_flow_set_restart_limit(f, 0, 60000), 0);
    MU_CHECK_EQ(mu_flow_start(f), 0);
    MU_CHECK_EQ(mu_flow_wait_ready(f, mu_test_ms(60000)), MU_ELIMIT);
    MU_CHECK(strstr(mu_last_error(), "pipeline 'bad' failed before its runners were ready"));
    int code = 0;
    mu_flow_state_t state = MU_FLOW_IDLE;
    MU_CHECK_EQ(mu_flow_pipeline_state(f, "bad", &state, &code), 0);
    MU_CHECK_EQ(state, MU_FLOW_FAILED);
    MU_CHECK_EQ(code, MU_ELIMIT);
    MU_CHECK_EQ(mu_flow_pipeline_state(f, "good", &state, &code), 0);
    MU_CHECK_EQ(state, MU_FLOW_RUNNING);
    MU_CHECK_EQ(mu_flow_stop(f, mu_test_ms(30000)), MU_ELIMIT); /* the first failure's code */
    mu_flow_destroy(&f);
}

int
main(int argc, char **argv)
{
    flow_test_begin(argc, argv);
    RUN(test_timer_aggregates);
    RUN(test_timer_drain);
    RUN(test_edge_startup);
    RUN(test_frame_header_edges);
    RUN(test_frame_header_fd_source);
    RUN(test_wait_ready);
    RUN(test_wait_ready_many);
    RUN(test_wait_ready_failed_pipeline);
    MU_DONE();
}
