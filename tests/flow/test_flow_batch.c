/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  test_flow_batch.c — the batches of the links between runners
    (doc/flow.md, "Latency"): order kept when small (batched) and large
    (sent alone) messages mix; a slow handler call sends what it emitted
    before the runner's next call; a source's message leaves at once. A
    runner waiting for its own output to arrive downstream (a pipe the
    sink writes) would wait forever if the output stayed in an open batch:
    each wait has a generous bound and reports a miss instead. Framed
    parts written by hand: whole ones taken, each kind of bad one (and any
    into an input that carries no batches) one error, dropped whole. An
    outbound edge whose client leaves in the middle of a part keeps its rest
    for the next client, and a worker's sender writes a batch as one 'M'
    part and one 'B' part (both at the function level). */
#include "mu_test.h"
#include "mutil.h"
#include "flow_test.h"
#include "flow/mu_flow_int.h"
#include "flow/mu_flow_edge_core.h"
#include "flow/mu_flow_links.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#define MIXED_COUNT 3000
#define LARGE_SIZE 2000 /* over the 1 KiB batch limit */
#define MISSED 99       /* the id a runner emits when its wait timed out */

static int seen_pipe[2] = { -1, -1 }; /* the sink writes each id it took */

/*  Waits up to 20 s (scaled) until the sink reports id. */
static bool
wait_seen(uint64_t id)
{
    uint64_t got;
    while (read_full(seen_pipe[0], &got, sizeof got, 20000))
        if (got == id)
            return true;
    return false;
}

/*  Reports the id (first 8 bytes) into the results and the seen pipe. */
static int
seen_sink(void *state, const void *data, size_t size, mu_flow_emit_t *out)
{
    (void) out;
    record_t rec = { .index = (int32_t) (intptr_t) state };
    if (size == 0) /* an empty message (a framed part's): taken, not reported */
        return 0;
    if (size < sizeof rec.id)
        return MU_EINVAL;
    memcpy(&rec.id, data, sizeof rec.id);
    if (write(seen_pipe[1], &rec.id, sizeof rec.id) != (ssize_t) sizeof rec.id)
        return -errno;
    return write(result_fd, &rec, sizeof rec) == (ssize_t) sizeof rec ? 0 : -errno;
}

static void
open_pipes(void)
{
    open_results();
    MU_CHECK_EQ(pipe(seen_pipe), 0);
    fcntl(seen_pipe[0], F_SETPIPE_SZ, 1024 * 1024);
}

static void
close_pipes(void)
{
    close_results();
    close(seen_pipe[0]);
    close(seen_pipe[1]);
}

/*  Runs src -> w (1 runner, handler) -> snk (1 runner) to its end; checks
    that the records are the ids 0..n-1 in order. */
static void
run_chain(const char *name, mu_flow_source_fn *src, mu_flow_handler_fn *handler, size_t n)
{
    open_pipes();
    mu_flow_t *f = mu_flow_new(name);
    MU_CHECK(f);
    MU_CHECK_EQ(mu_flow_add_source(f, "src", 1, src, NULL), 0);
    MU_CHECK_EQ(mu_flow_add_worker_stage(f, "w", 1, NULL, handler, NULL), 0);
    MU_CHECK_EQ(mu_flow_add_worker_stage(f, "snk", 1, sink_startup, seen_sink, NULL), 0);
    MU_CHECK_EQ(mu_flow_run(f), 0);
    static record_t recs[MIXED_COUNT + 1];
    size_t got = read_rest(recs, n + 1);
    MU_CHECK_EQ(got, n);
    for (size_t i = 0; i < got && i < n; i++)
        if (recs[i].id != i) {
            printf("# record %zu: id %llu\n", i, (unsigned long long) recs[i].id);
            MU_CHECK_EQ(recs[i].id, i);
            break;
        }
    mu_flow_destroy(&f);
    close_pipes();
}

/* ---- small and large messages in one stream ------------------------------------------- */

static uint64_t mixed_next;

/*  Emits ids 0..MIXED_COUNT-1; every 7th message is LARGE_SIZE bytes. */
static int
mixed_source(void *arg, int index, mu_flow_emit_t *out)
{
    (void) arg;
    (void) index;
    static uint8_t buf[LARGE_SIZE];
    uint64_t id = mixed_next++;
    memcpy(buf, &id, sizeof id);
    int rc = mu_flow_emit(out, buf, id % 7 == 3 ? LARGE_SIZE : sizeof id);
    if (rc != 0)
        return rc;
    return mixed_next < MIXED_COUNT ? MU_FLOW_MORE : 0;
}

static int
forward(void *state, const void *data, size_t size, mu_flow_emit_t *out)
{
    (void) state;
    return mu_flow_emit(out, data, size);
}

static void
test_mixed_sizes_keep_order(void)
{
    run_chain("bmix", mixed_source, forward, MIXED_COUNT);
}

/* ---- a slow call sends what it emitted -------------------------------------------------- */

static uint64_t two_next;

/*  Emits ids 0 and 1, then ends. */
static int
two_source(void *arg, int index, mu_flow_emit_t *out)
{
    (void) arg;
    (void) index;
    uint64_t id = two_next++;
    int rc = mu_flow_emit(out, &id, sizeof id);
    if (rc != 0)
        return rc;
    return two_next < 2 ? MU_FLOW_MORE : 0;
}

/*  Id 0: emitted, then 2 ms of work (a slow call). Id 1: waits until the
    sink has id 0 before emitting it. */
static int
slow_then_wait(void *state, const void *data, size_t size, mu_flow_emit_t *out)
{
    (void) state;
    uint64_t id;
    if (size != sizeof id)
        return MU_EINVAL;
    memcpy(&id, data, sizeof id);
    if (id == 0) {
        int rc = mu_flow_emit(out, &id, sizeof id);
        usleep(2000); /* work, not a wait for an event */
        return rc;
    }
    if (!wait_seen(0))
        id = MISSED;
    return mu_flow_emit(out, &id, sizeof id);
}

static void
test_slow_call_sends_its_output(void)
{
    run_chain("bslow", two_source, slow_then_wait, 2);
}

/* ---- a source's message leaves at once ------------------------------------------------------ */

/*  Emits id 0, then (in the same call) waits until the sink has it before
    emitting id 1; then ends. */
static int
waiting_source(void *arg, int index, mu_flow_emit_t *out)
{
    (void) arg;
    (void) index;
    uint64_t id = 0;
    int rc = mu_flow_emit(out, &id, sizeof id);
    if (rc != 0)
        return rc;
    id = wait_seen(0) ? 1 : MISSED;
    rc = mu_flow_emit(out, &id, sizeof id);
    return rc;
}

/*  A source straight into the sink. */
static void
test_source_sends_at_once(void)
{
    open_pipes();
    mu_flow_t *f = mu_flow_new("bsrc");
    MU_CHECK(f);
    MU_CHECK_EQ(mu_flow_add_source(f, "src", 1, waiting_source, NULL), 0);
    MU_CHECK_EQ(mu_flow_add_worker_stage(f, "snk", 1, sink_startup, seen_sink, NULL), 0);
    MU_CHECK_EQ(mu_flow_run(f), 0);
    record_t recs[3];
    size_t got = read_rest(recs, 3);
    MU_CHECK_EQ(got, 2);
    MU_CHECK_EQ(recs[0].id, 0);
    MU_CHECK_EQ(recs[1].id, 1);
    mu_flow_destroy(&f);
    close_pipes();
}

/* ---- the queue of a link in messages (doc/flow.md, "Delivery") ---- */

#define BOUND_TOTAL 40000
#define BOUND_SIZE 1000 /* batched (at most 1 KiB), few in the kernel's socket buffer */
#define LINK_QUEUE 2000 /* mu_flow.h, mu_flow_set_drop: 1000 queued on each side */

static int release_pipe[2] = { -1, -1 }; /* the stuck sink waits on it */
static uint64_t bound_next;

static int
bound_source(void *arg, int index, mu_flow_emit_t *out)
{
    (void) index;
    uint64_t *next = arg;
    if (*next == BOUND_TOTAL)
        return 0;
    char msg[BOUND_SIZE] = { 0 };
    uint64_t id = (*next)++;
    memcpy(msg, &id, sizeof id);
    return mu_flow_emit(out, msg, sizeof msg) == 0 ? MU_FLOW_MORE : -1;
}

/*  What the kernel's buffer of one ipc socket may add to a link's queue,
    in messages of size bytes: its send buffer (the receiver's side is
    charged to it), counted twice for slack, plus a batch in the stuck
    runner's hands. */
static uint64_t
kernel_allowance(size_t size)
{
    long wmem = 212992;
    FILE *fp = fopen("/proc/sys/net/core/wmem_default", "r");
    if (fp) {
        if (fscanf(fp, "%ld", &wmem) != 1)
            wmem = 212992;
        fclose(fp);
    }
    return (uint64_t) (2 * wmem) / size + 16;
}

/*  Stuck in its first call until the test writes to release_pipe. */
static int
stuck_sink(void *state, const void *data, size_t size, mu_flow_emit_t *out)
{
    (void) state;
    (void) data;
    (void) size;
    (void) out;
    static bool released;
    char c;
    if (!released && read(release_pipe[0], &c, 1) != 1)
        return MU_EIO;
    released = true;
    return 0;
}

/*  A relay (batching: a worker) set to drop feeds a sink stuck in its
    first call with messages of 1000 bytes (batched): the link into the
    sink holds at most the documented number of messages, 2 x 1000 plus
    what the kernel's socket buffer holds (before: ZeroMQ's high-water
    mark counted batches of 16, so about 16 times as many), the relay
    drops and counts the rest, and the sink, released, handles exactly
    what the link held. */
static void
test_link_queue_bound_in_messages(void)
{
    MU_CHECK_EQ(pipe(release_pipe), 0);
    bound_next = 0;
    mu_flow_t *f = mu_flow_new("bound");
    MU_CHECK(f);
    MU_CHECK_EQ(mu_flow_add_source(f, "src", 1, bound_source, &bound_next), 0);
    MU_CHECK_EQ(mu_flow_add_worker_stage(f, "relay", 1, NULL, pass_through, NULL), 0);
    MU_CHECK_EQ(mu_flow_add_worker_stage(f, "snk", 1, NULL, stuck_sink, NULL), 0);
    MU_CHECK_EQ(mu_flow_set_drop(f, "relay", true), 0);
    MU_CHECK_EQ(mu_flow_start(f), 0);
    mu_flow_stats_t relay, snk;
    MU_CHECK(wait_stat(f, "relay", STAT(in), BOUND_TOTAL, &relay));
    MU_CHECK(wait_stat(f, "relay", STAT(out), BOUND_TOTAL - relay.drops, &relay));
    uint64_t bound = LINK_QUEUE + kernel_allowance(BOUND_SIZE);
    printf("# the link into the stuck sink took %llu of %d messages of %d bytes (%llu dropped; "
           "bound %llu)\n",
           (unsigned long long) relay.out, BOUND_TOTAL, BOUND_SIZE,
           (unsigned long long) relay.drops, (unsigned long long) bound);
    MU_CHECK(relay.drops > 0);
    MU_CHECK(relay.out <= bound);
    MU_CHECK_EQ(write(release_pipe[1], "x", 1), 1);
    MU_CHECK_EQ(mu_flow_wait(f, mu_test_ms(60000)), 0);
    MU_CHECK(stage_row(f, "relay", -1, &relay));
    MU_CHECK(stage_row(f, "snk", -1, &snk));
    MU_CHECK_EQ(relay.out + relay.drops, BOUND_TOTAL);
    MU_CHECK_EQ(snk.in, relay.out);
    mu_flow_destroy(&f);
    close(release_pipe[0]);
    close(release_pipe[1]);
}

/* ---- framed parts from the wire --------------------------------------------------------- */

/*  Emits nothing until the flow drains: the sink's input stays open. */
static int
idle_source(void *arg, int index, mu_flow_emit_t *out)
{
    (void) arg;
    (void) index;
    (void) out;
    usleep(1000); /* the source's pace, not a wait */
    return MU_FLOW_MORE;
}

/*  A free TCP port on 127.0.0.1 (the kernel's pick; another program could
    take it before the flow binds it). */
static int
free_port(void)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof sa;
    int port = -1;
    if (s >= 0 && bind(s, (struct sockaddr *) &sa, sizeof sa) == 0
        && getsockname(s, (struct sockaddr *) &sa, &len) == 0)
        port = ntohs(sa.sin_port);
    close(s);
    return port;
}

/*  The bounds of a framed part (doc/wire.md): at most 15 records, each
    payload at most 1023 bytes; a part at most 1 + 15 * (4 + 1024) bytes. */
#define FRAME_RECORDS 15
#define FRAME_PAYLOAD 1023
#define FRAME_CAP (1 + FRAME_RECORDS * (4 + FRAME_PAYLOAD + 1))

/*  Appends a record's size (u32 LE) to a framed part. */
static size_t
frame_len(uint8_t *b, size_t n, uint32_t size)
{
    for (int i = 0; i < 4; i++)
        b[n + (size_t) i] = (uint8_t) (size >> (8 * i));
    return n + 4;
}

/*  Appends one record of size bytes (at least 8), the id first, to a
    framed part. */
static size_t
frame_rec(uint8_t *b, size_t n, uint64_t id, uint32_t size)
{
    n = frame_len(b, n, size);
    memset(b + n, 0, size);
    memcpy(b + n, &id, sizeof id);
    return n + size;
}

/*  Appends one record (u32 LE size, then the 8-byte id) to a framed part. */
static size_t
frame_id(uint8_t *b, size_t n, uint64_t id)
{
    return frame_rec(b, n, id, sizeof id);
}

/*  Sends a part to push (MORE when more); false when it was not taken. */
static bool
send_part(void *push, const void *data, size_t size, bool more)
{
    return zmq_send(push, data, size, more ? ZMQ_SNDMORE : 0) == (int) size;
}

/*  Sends data message id alone ('M', the id). */
static bool
send_id(void *push, uint64_t id)
{
    uint8_t data[9] = { 'M' };
    memcpy(data + 1, &id, sizeof id);
    return send_part(push, data, sizeof data, false);
}

/*  Sends data message id alone as an at-least-once sender writes it ('R',
    sender 0, message id 1, then the 8-byte id as its payload). */
static bool
send_rel_id(void *push, uint64_t id)
{
    uint8_t data[13 + 8] = { 'R', 0, 0, 0, 0, 1 };
    memcpy(data + 13, &id, sizeof id);
    return send_part(push, data, sizeof data, false);
}

/*  Whether the sink's next reports are exactly want[0..n-1], in order. */
static bool
seen_exactly(const uint64_t *want, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint64_t got = 0;
        if (!read_full(seen_pipe[0], &got, sizeof got, 20000) || got != want[i]) {
            printf("# report %zu: id %llu, want %llu\n", i, (unsigned long long) got,
                   (unsigned long long) want[i]);
            return false;
        }
    }
    return true;
}

/*  A flow src -> fwd -> snk (snk pinned on a free port; at-least-once when
    reliable) in *f_p, and a PUSH socket (linger 0) connected to snk in
    *push_p, for parts written by hand. */
static void
framed_flow(const char *name, bool reliable, mu_flow_t **f_p, void **ctx_p, void **push_p)
{
    int port = free_port();
    MU_CHECK(port > 0);
    mu_flow_t *f = *f_p = mu_flow_new(name);
    MU_CHECK(f);
    MU_CHECK_EQ(mu_flow_add_source(f, "src", 1, idle_source, NULL), 0);
    MU_CHECK_EQ(mu_flow_add_worker_stage(f, "fwd", 1, NULL, forward, NULL), 0);
    MU_CHECK_EQ(mu_flow_add_worker_stage(f, "snk", 1, sink_startup, seen_sink, NULL), 0);
    MU_CHECK_EQ(mu_flow_set_endpoint(f, "snk", "127.0.0.1", port), 0);
    if (reliable)
        MU_CHECK_EQ(mu_flow_set_at_least_once(f, "snk", true), 0);
    MU_CHECK_EQ(mu_flow_start(f), 0);
    *ctx_p = zmq_ctx_new();
    MU_CHECK(*ctx_p);
    *push_p = zmq_socket(*ctx_p, ZMQ_PUSH);
    MU_CHECK(*push_p);
    int linger = 0;
    MU_CHECK_EQ(zmq_setsockopt(*push_p, ZMQ_LINGER, &linger, sizeof linger), 0);
    char ep[64];
    snprintf(ep, sizeof ep, "tcp://127.0.0.1:%d", port);
    MU_CHECK_EQ(zmq_connect(*push_p, ep), 0);
}

/*  Stops the flow, reads snk's final row into *row, frees all. */
static bool
framed_flow_end(mu_flow_t **f, void *ctx, void *push, mu_flow_stats_t *row)
{
    bool ok = *f && mu_flow_stop(*f, mu_test_ms(20000)) == 0 && stage_row(*f, "snk", -1, row);
    if (push)
        zmq_close(push);
    if (ctx)
        zmq_ctx_term(ctx);
    mu_flow_destroy(f);
    return ok;
}

/*  The parts no sender writes (doc/wire.md), each into b, n: its size. */
static size_t
bad_part(uint8_t *b, int which)
{
    size_t n = 1;
    b[0] = 'B';
    switch (which) {
    case 0: /* over the cap (a thousand records) */
        while (n <= FRAME_CAP)
            n = frame_id(b, n, 100);
        return n;
    case 1: /* 16 records */
        for (int k = 0; k < FRAME_RECORDS + 1; k++)
            n = frame_id(b, n, 101);
        return n;
    case 2: /* a 1024-byte record */
        return frame_rec(b, n, 102, FRAME_PAYLOAD + 1);
    case 3: /* no record */
        return 1;
    case 4: /* 3 bytes left for a size */
        return frame_id(b, n, 103) + 3;
    case 5: /* a size of 0xFFFFFFFF */
        return frame_len(b, frame_id(b, n, 104), 0xFFFFFFFFu) + 8;
    default: /* the last record cut short */
        return frame_id(b, frame_id(b, n, 105), 106) - 1;
    }
}
#define BAD_PARTS 7

/*  A batch written by hand into a pinned sink behind a worker (doc/wire.md):
    a data part and framed parts of two messages and a zero-length one and
    of the most a sender writes (15 records, the last 1023 bytes) are taken
    in order. Then every part no sender writes, each alone (bad_part): each
    is one error, dropped whole (none of its records arrives), and the
    message sent after them arrives. */
static void
test_framed_parts_and_malformed_ones(void)
{
    open_pipes();
    mu_flow_t *f = NULL;
    void *ctx = NULL, *push = NULL;
    static uint8_t b[FRAME_CAP + 64];
    mu_flow_stats_t row = { 0 };
    framed_flow("bframe", false, &f, &ctx, &push);
    bool ok = !mu_test_case_failed;
    uint8_t data[9] = { 'M' };
    uint64_t id = 1;
    memcpy(data + 1, &id, sizeof id);
    ok = ok && send_part(push, data, sizeof data, true);
    b[0] = 'B';
    size_t n = frame_len(b, frame_id(b, frame_id(b, 1, 2), 3), 0); /* 2, 3, empty */
    ok = ok && send_part(push, b, n, true);
    n = 1;
    for (uint64_t k = 10; k < 10 + FRAME_RECORDS - 1; k++)
        n = frame_id(b, n, k);
    n = frame_rec(b, n, 10 + FRAME_RECORDS - 1, FRAME_PAYLOAD);
    ok = ok && send_part(push, b, n, false);
    for (int k = 0; k < BAD_PARTS; k++)
        ok = ok && send_part(push, b, bad_part(b, k), false);
    ok = ok && send_id(push, 30);
    uint64_t want[] = { 1, 2, 3, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 30 };
    ok = ok && seen_exactly(want, sizeof want / sizeof want[0]);
    ok = ok && wait_row(f, "snk", 20, BAD_PARTS, &row); /* 19 reported + the empty one */
    bool ended = framed_flow_end(&f, ctx, push, &row);
    close_pipes();
    MU_CHECK(ok);
    MU_CHECK(ended);
    MU_CHECK_EQ(row.in, 20);
    MU_CHECK_EQ(row.errors, BAD_PARTS);
}

/*  An at-least-once input carries no batches and no plain 'M' messages
    (every message goes alone as 'R' with its id for the acknowledgement):
    a framed part into it, valid as it is, and an 'M' message are one error
    each and dropped; the 'R' message after them arrives. */
static void
test_framed_part_into_at_least_once(void)
{
    open_pipes();
    mu_flow_t *f = NULL;
    void *ctx = NULL, *push = NULL;
    mu_flow_stats_t row = { 0 };
    framed_flow("bframerel", true, &f, &ctx, &push);
    bool ok = !mu_test_case_failed;
    uint8_t b[64] = { 'B' };
    size_t n = frame_id(b, 1, 40);
    ok = ok && send_part(push, b, n, false) && send_id(push, 42) && send_rel_id(push, 41);
    uint64_t want[] = { 41 };
    ok = ok && seen_exactly(want, 1) && wait_row(f, "snk", 1, 2, &row);
    bool ended = framed_flow_end(&f, ctx, push, &row);
    close_pipes();
    MU_CHECK(ok);
    MU_CHECK(ended);
    MU_CHECK_EQ(row.in, 1);
    MU_CHECK_EQ(row.errors, 2);
}

/* ---- an outbound edge stopping in the middle of a framed part ----------------------------- */

/*  The fake transport of the edge below: nclients clients; the one there
    leaves after taking leave_after messages (a write that failed). */
static int fake_nclients, fake_leave_after;
static uint64_t fake_got[16];
static int fake_ngot;

static int
fake_clients(const mu__edge_core_t *core)
{
    (void) core;
    return fake_nclients;
}

static void
fake_broadcast(mu__edge_core_t *core, const void *data, size_t size)
{
    (void) core;
    if (size >= sizeof fake_got[0] && fake_ngot < 16)
        memcpy(&fake_got[fake_ngot++], data, sizeof fake_got[0]);
    if (--fake_leave_after == 0)
        fake_nclients = 0;
}

/*  Sends a framed part of ids first..first+count-1 to push. */
static bool
send_framed_ids(void *push, uint64_t first, int count)
{
    uint8_t b[1 + 15 * 12] = { 'B' };
    size_t n = 1;
    for (int k = 0; k < count; k++)
        n = frame_id(b, n, first + (uint64_t) k);
    return send_part(push, b, n, false);
}

/*  At the function level (an edge runner's core with a fake transport,
    reading a real PULL socket; a client leaving in the middle of a part
    cannot be timed from outside without sleeps): an outbound edge whose
    only client leaves after 2 records of a 5-record part takes no more
    (nothing counted dropped), reads nothing while no client is there, and
    gives the next client the other 3 in order; when the flow drains with
    the rest of a part held, the rest is taken and counted dropped (as a
    held message is). */
static void
test_edge_stops_in_a_part(void)
{
    mu_flow_t flow = { .name = "bedge" };
    mu__stage_t stage = { .name = "out" };
    mu__runner_t r = { .flow = &flow, .st = &stage, .in_batches = true };
    mu_flow_edge_t e = { .max_frame = 1u << 20 };
    mu__edge_core_t core = { .r = &r,
                             .e = &e,
                             .clients = fake_clients,
                             .broadcast = fake_broadcast };
    void *ctx = zmq_ctx_new();
    r.pull = zmq_socket(ctx, ZMQ_PULL);
    void *push = zmq_socket(ctx, ZMQ_PUSH);
    MU_CHECK(r.pull && push);
    MU_CHECK_EQ(zmq_bind(r.pull, "inproc://bedge"), 0);
    MU_CHECK_EQ(zmq_connect(push, "inproc://bedge"), 0);
    MU_CHECK(send_framed_ids(push, 1, 5) && send_id(push, 6));
    fake_nclients = 1;
    fake_leave_after = 2;
    mu__edge_read_upstream(&core);
    MU_CHECK_EQ(fake_ngot, 2);
    MU_CHECK(core.has_held);
    MU_CHECK_EQ(r.stats.in, 2);
    MU_CHECK_EQ(r.stats.drops, 0);
    mu__edge_read_upstream(&core); /* still no client: nothing read */
    MU_CHECK_EQ(fake_ngot, 2);
    MU_CHECK(mu__edge_blocked(&core) && !mu__edge_wants_upstream(&core));
    fake_nclients = 1;
    fake_leave_after = 10;
    mu__edge_read_upstream(&core); /* the next client: the rest, then 6 */
    MU_CHECK(!core.has_held);
    MU_CHECK_EQ(fake_ngot, 6);
    for (int k = 0; k < 6; k++)
        MU_CHECK_EQ(fake_got[k], k + 1);
    MU_CHECK_EQ(r.stats.out, 6);
    /* the drain with a part's rest held */
    MU_CHECK(send_framed_ids(push, 7, 4));
    fake_leave_after = 1;
    mu__edge_read_upstream(&core);
    MU_CHECK_EQ(fake_ngot, 7);
    MU_CHECK(core.has_held);
    r.drain_req = true;
    mu__edge_read_upstream(&core);
    MU_CHECK(!core.has_held);
    MU_CHECK_EQ(r.stats.in, 10);
    MU_CHECK_EQ(r.stats.out, 7);
    MU_CHECK_EQ(r.stats.drops, 3);
    zmq_msg_close(&core.held);
    int linger = 0;
    zmq_setsockopt(push, ZMQ_LINGER, &linger, sizeof linger);
    zmq_close(push);
    zmq_close(r.pull);
    zmq_ctx_term(ctx);
}

/* ---- what a sender writes ------------------------------------------------------------------ */

/*  Receives the next part from pull into b (at most cap bytes): its size,
    -1 on none within 20 s; *more: whether more parts follow. */
static int
recv_part(void *pull, uint8_t *b, size_t cap, bool *more)
{
    zmq_pollitem_t it = { .socket = pull, .events = ZMQ_POLLIN };
    if (zmq_poll(&it, 1, mu_test_ms(20000)) != 1)
        return -1;
    int n = zmq_recv(pull, b, cap, ZMQ_DONTWAIT);
    int m = 0;
    size_t len = sizeof m;
    zmq_getsockopt(pull, ZMQ_RCVMORE, &m, &len);
    *more = m != 0;
    return n;
}

/*  Whether a batch arrives as a sender writes it (doc/wire.md): 'M' id
    first (more follows), then one 'B' part (the last) of the ids
    first+1..first+records, each an 8-byte record. */
static bool
batch_is(void *pull, uint64_t first, int records)
{
    uint8_t b[2048], want[2048] = { 'B' };
    bool more = false;
    uint64_t id;
    if (recv_part(pull, b, sizeof b, &more) != 9 || b[0] != 'M' || !more)
        return false;
    memcpy(&id, b + 1, sizeof id);
    size_t n = 1;
    for (int k = 1; k <= records; k++)
        n = frame_id(want, n, first + (uint64_t) k);
    int got = recv_part(pull, b, sizeof b, &more);
    if (id != first || got != (int) n || more || memcmp(b, want, n) != 0) {
        printf("# batch from %llu: id %llu, 'B' part of %d bytes (want %zu), more %d\n",
               (unsigned long long) first, (unsigned long long) id, got, n, (int) more);
        return false;
    }
    return true;
}

/*  A worker's runner at the function level, sending on a balanced link
    to one runner: the test's PULL socket at inproc://<name>. */
typedef struct {
    mu_flow_t flow;
    mu__stage_t stage, next;
    void *ctx, *push, *pull;
    int parts;
    uint8_t *frame;
    size_t framed;
    bool dead;
    mu__runner_t r;
} fake_sender_t;

/*  Sets up s (not moved afterwards: r points into it); false when a
    ZeroMQ call failed (fake_sender_close then still cleans up). */
static bool
fake_sender_open(fake_sender_t *s, const char *name)
{
    memset(s, 0, sizeof *s);
    snprintf(s->flow.name, sizeof s->flow.name, "%s", name);
    snprintf(s->stage.name, sizeof s->stage.name, "w");
    s->stage.kind = MU__ST_WORKER;
    snprintf(s->next.name, sizeof s->next.name, "n");
    s->next.link = MU_FLOW_BALANCE;
    s->next.n = 1;
    s->r = (mu__runner_t) { .flow = &s->flow,
                            .st = &s->stage,
                            .next = &s->next,
                            .npush = 1,
                            .push = &s->push,
                            .parts = &s->parts,
                            .frame = &s->frame,
                            .framed = &s->framed,
                            .dead_down = &s->dead };
    char ep[64];
    snprintf(ep, sizeof ep, "inproc://%s", name);
    int linger = 0;
    s->ctx = zmq_ctx_new();
    s->push = s->ctx ? zmq_socket(s->ctx, ZMQ_PUSH) : NULL;
    s->pull = s->ctx ? zmq_socket(s->ctx, ZMQ_PULL) : NULL;
    return s->push && zmq_setsockopt(s->push, ZMQ_LINGER, &linger, sizeof linger) == 0 && s->pull
           && zmq_setsockopt(s->pull, ZMQ_LINGER, &linger, sizeof linger) == 0
           && zmq_bind(s->pull, ep) == 0 && zmq_connect(s->push, ep) == 0;
}

static void
fake_sender_close(fake_sender_t *s)
{
    if (s->push)
        zmq_close(s->push);
    if (s->pull)
        zmq_close(s->pull);
    if (s->ctx)
        zmq_ctx_term(s->ctx);
    free(s->frame);
    s->frame = NULL;
}

/*  At the function level (a worker's runner sending on a balanced link to
    a PULL socket of the test): 16 messages in a row are one 'M' part and
    one 'B' part of 15 records, and 3 more with the open batch then sent
    are one 'M' part and a 'B' part of 2: a sender going back to one part
    per message fails here. */
static void
test_sender_frames_batches(void)
{
    fake_sender_t s;
    bool ok = fake_sender_open(&s, "bsend");
    for (uint64_t id = 1; ok && id <= 19; id++)
        ok = mu__runner_send(&s.r, &id, sizeof id) == 0;
    mu__runner_flush_batches(&s.r);
    ok = ok && batch_is(s.pull, 1, 15) && batch_is(s.pull, 17, 2);
    fake_sender_close(&s);
    MU_CHECK(ok);
    MU_CHECK_EQ(s.r.stats.out, 19);
    MU_CHECK_EQ(s.r.nopen, 0);
}

/*  A batch that cannot be ended (its socket swapped for one on which
    every send fails, as to a pipe gone) counts its messages, already
    counted out, as errors: 5 (a framed part lost) and then 1 (an empty
    part). */
static void
test_lost_batch_counted(void)
{
    fake_sender_t s;
    bool ok = fake_sender_open(&s, "blost");
    for (uint64_t id = 1; ok && id <= 5; id++)
        ok = mu__runner_send(&s.r, &id, sizeof id) == 0;
    void *real = s.push;
    s.push = zmq_socket(s.ctx, ZMQ_SUB); /* every send on it fails */
    ok = ok && s.push;
    mu__runner_flush_batches(&s.r);
    uint64_t errors5 = s.r.stats.errors;
    s.framed = 0; /* a batch of one message: ended by an empty part */
    s.parts = 1;
    s.r.nopen = 1;
    mu__runner_flush_batches(&s.r);
    if (real)
        zmq_close(real);
    fake_sender_close(&s);
    MU_CHECK(ok);
    MU_CHECK_EQ(s.r.stats.out, 5);
    MU_CHECK_EQ(errors5, 5);
    MU_CHECK_EQ(s.r.stats.errors, 6);
    MU_CHECK_EQ(s.r.nopen, 0);
}

/* ---- an inbound edge with a key function ---------------------------------------------------- */

static int key_pipe[2] = { -1, -1 }; /* the key function reports into it */

/*  The key of the keyed link out of the inbound edge (user code per
    message, in the edge's process): message 2 takes a millisecond (the
    open batch is then older than its 50 us), message 3 waits (up to
    20 s) until the sink has reported message 1 and reports whether it
    came. */
static uint64_t
slow_key(void *arg, const void *data, size_t size)
{
    (void) arg;
    uint64_t id = 0;
    memcpy(&id, data, size < sizeof id ? size : sizeof id);
    if (id == 2) {
        struct timespec t0, t;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        do /* the call's own work, not a wait */
            clock_gettime(CLOCK_MONOTONIC, &t);
        while ((t.tv_sec - t0.tv_sec) * 1000000000L + (t.tv_nsec - t0.tv_nsec) < 1000000L);
    } else if (id == 3) {
        uint8_t came = wait_seen(1);
        if (write(key_pipe[1], &came, 1) != 1)
            return 0;
    }
    return 0;
}

/*  An inbound edge whose keyed link runs a key function checks its open
    batch's age after every message, as with a from_client hook: three
    messages from a client in one write, the second's key taking a
    millisecond, and the first reaches the sink while the third's key
    waits for it (checked every 16th message only, it stayed in the open
    batch until the read ended: the wait ran out). */
static void
test_edge_key_sends_batches_in_time(void)
{
    open_pipes();
    MU_CHECK_EQ(pipe(key_pipe), 0);
    mu_flow_t *f = mu_flow_new("bkey");
    MU_CHECK(f);
    mu_flow_edge_t in = { .host = "127.0.0.1", .listen = true };
    MU_CHECK_EQ(mu_flow_add_edge(f, "in", &in), 0);
    MU_CHECK_EQ(mu_flow_add_worker_stage(f, "snk", 1, sink_startup, seen_sink, NULL), 0);
    MU_CHECK_EQ(mu_flow_set_link(f, "snk", MU_FLOW_KEYED, NULL, slow_key, NULL), 0);
    MU_CHECK_EQ(mu_flow_start(f), 0);
    int port = mu_flow_edge_port(f, "in", 0);
    int c = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = { .sin_family = AF_INET,
                              .sin_port = htons((uint16_t) port),
                              .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    MU_CHECK(port > 0 && c >= 0 && connect(c, (struct sockaddr *) &sa, sizeof sa) == 0);
    uint8_t buf[3 * 12];
    for (uint64_t id = 1; id <= 3; id++) {
        buf[(id - 1) * 12] = 8;
        memset(buf + (id - 1) * 12 + 1, 0, 3);
        memcpy(buf + (id - 1) * 12 + 4, &id, sizeof id);
    }
    MU_CHECK_EQ(write(c, buf, sizeof buf), (ssize_t) sizeof buf);
    uint8_t came = 0;
    bool reported = read_full(key_pipe[0], &came, 1, 40000);
    mu_flow_stats_t row;
    bool all = wait_stat(f, "snk", STAT(in), 3, &row);
    close(c);
    MU_CHECK_EQ(mu_flow_stop(f, mu_test_ms(20000)), 0);
    mu_flow_destroy(&f);
    close_pipes();
    close(key_pipe[0]);
    close(key_pipe[1]);
    MU_CHECK(reported);
    MU_CHECK_EQ(came, 1);
    MU_CHECK(all);
}

int
main(int argc, char **argv)
{
    flow_test_begin(argc, argv);
    RUN(test_mixed_sizes_keep_order);
    RUN(test_slow_call_sends_its_output);
    RUN(test_source_sends_at_once);
    RUN(test_link_queue_bound_in_messages);
    RUN(test_framed_parts_and_malformed_ones);
    RUN(test_framed_part_into_at_least_once);
    RUN(test_edge_stops_in_a_part);
    RUN(test_sender_frames_batches);
    RUN(test_lost_batch_counted);
    RUN(test_edge_key_sends_batches_in_time);
    MU_DONE();
}
