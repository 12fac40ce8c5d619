/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_flow_runner.c — the core of a runner process, shared by every kind
    (worker loops: mu_flow_worker.c; edges: mu_flow_edge.c): its sockets,
    control messages from the supervisor, statistics, taking input
    messages, end-of-stream handling and the end. Routing is in
    mu_flow_links.c (below it), at-least-once in mu_flow_reliable.c.

    Internal messages are ZeroMQ messages, or the records of a local link
    (mu_flow_ulink.c, the same bytes), whose first byte is the type:
    'M' data (the payload follows), 'E' end of stream (the sender's runner
    index follows as a little-endian uint32), 'R' at-least-once data
    (mu_flow_reliable.c), 'B' the framed data messages of a batch
    (mu_flow_links.c). Byte layouts: doc/wire.md. */
#include "flow/mu_flow_int.h"
#include "flow/mu_flow_runner.h"
#include "flow/mu_flow_links.h"
#include "flow/mu_flow_reliable.h"
#include "flow/mu_flow_curve.h"
#include "flow/mu_flow_inproc.h"
#include "flow/mu_flow_net.h"
#include "flow/mu_flow_ulink.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

/*  The queue of a link between two runners (doc/flow.md, "Delivery"):
    each side, the sender's ZeroMQ pipe and the receiver's, holds at most
    LINK_QUEUE messages. ZeroMQ's high-water mark counts multipart
    messages, and a batch (mu_flow_links.h) carries up to
    MU__LINK_BATCH_PARTS data messages: a socket that may carry batches
    gets LINK_QUEUE / MU__LINK_BATCH_PARTS (sources and at-least-once
    links send every message alone: theirs keep LINK_QUEUE on both sides).
    Acknowledgements: ACK_HWM. */
#define LINK_QUEUE 1000
#define ACK_HWM 1000

/*  A local link (mu_flow_ulink.c; doc/flow.md, "Local links") holds at
    most LINK_QUEUE_BYTES queued in the sender (plus one batch over it),
    then the kernel's socket buffer; its receiver takes at most
    LINK_CONNS_SPARE connections beyond two per upstream runner (an old
    and a new one across a restart). */
#define LINK_QUEUE_BYTES 65536
#define LINK_CONNS_SPARE 8
#define LINK_CONNECT_MS 1000 /* waiting for the downstream runners at the start */

/* ---- control ------------------------------------------------------------------ */

void
mu__runner_log_due(mu__runner_t *r, int64_t now, bool all)
{
    bool waiting;
    uint64_t n = mu__log_limit_due(&r->bad_input_log, now, &waiting);
    if (all && n == 0) {
        n = r->bad_input_log.suppressed;
        r->bad_input_log.suppressed = 0;
    }
    if (n > 0)
        mu__rlog(warning, r, "%llu more malformed inputs dropped, not logged",
                 (unsigned long long) n);
}

void
mu__runner_tick(mu__runner_t *r)
{
    mu__net_service(r);
    int64_t now = mu__now_ms();
    if (now - r->last_stats_ms < MU__FLOW_STATS_MS)
        return;
    r->last_stats_ms = now;
    mu__runner_log_due(r, now, false);
    uint64_t refused = mu__curve_refused(r);
    r->stats.errors += refused + mu__inproc_take_errors(r) + mu__links_take_lost(r);
    r->stats.auth_failures += refused;
    r->stats.live_down = -1;
    mu__net_stats(r);
    r->stats.type = 'S';
    (void) send(r->ctl, &r->stats, sizeof r->stats, MSG_NOSIGNAL | MSG_DONTWAIT);
}

static void
mark_eos(mu__runner_t *r, int index)
{
    if (index >= 0 && index < r->n_up && !r->eos[index]) {
        r->eos[index] = true;
        r->neos++;
    }
}

void
mu__runner_ctl(mu__runner_t *r)
{
    char buf[64];
    for (;;) {
        ssize_t len = recv(r->ctl, buf, sizeof buf, MSG_DONTWAIT);
        if (len == 0) { /* the supervisor is gone */
            r->exit_req = true;
            return;
        }
        if (len < 0)
            return;
        int idx = -1;
        if (len == 1 + (ssize_t) sizeof idx)
            memcpy(&idx, buf + 1, sizeof idx);
        if (buf[0] == 'D')
            r->drain_req = true;
        else if (buf[0] == 'X')
            r->exit_req = true;
        else if (r->net) /* multi-host links see their peers themselves */
            continue;
        else if (buf[0] == 'e')
            mark_eos(r, idx);
        else if (buf[0] == 'x' && idx >= 0 && idx < r->npush) {
            r->dead_down[idx] = true;
            mu__rel_dead(r, idx);
        } else if (buf[0] == 'r')
            mu__rel_dead(r, idx);
    }
}

int
mu__runner_wait_acks(mu__runner_t *r)
{
    mu__runner_flush_batches(r);
    zmq_pollitem_t items[2] = {
        { .fd = r->ctl, .events = ZMQ_POLLIN },
        { .socket = mu__rel_ack_socket(r), .events = ZMQ_POLLIN },
    };
    zmq_poll(items, items[1].socket ? 2 : 1, MU__FLOW_STATS_MS);
    return mu__runner_service(r);
}

int
mu__runner_service(mu__runner_t *r)
{
    mu__runner_ctl(r);
    mu__rel_take_acks(r);
    mu__runner_tick(r);
    return r->exit_req ? MU_EINTR : 0;
}

bool
mu__runner_input_done(const mu__runner_t *r)
{
    if (r->net)
        return mu__net_input_done((mu__runner_t *) r);
    return r->n_up > 0 && r->neos >= r->n_up;
}

/*  A record of the local link input into m, pointing into the link's
    read buffer (valid until the next receive: mu_flow_runner.h). */
static int
recv_local(mu__runner_t *r, zmq_msg_t *m)
{
    const void *data;
    size_t size;
    r->pull_idle = mu__ulink_recv(r->uin, &data, &size) != 0;
    zmq_msg_close(m); /* a record it held may have moved meanwhile */
    if (r->pull_idle) {
        zmq_msg_init(m);
        return -1;
    }
    if (zmq_msg_init_data(m, (void *) data, size, NULL, NULL) != 0) {
        zmq_msg_init(m);
        r->stats.errors++;
        return -1;
    }
    return 0;
}

int
mu__runner_recv(mu__runner_t *r, zmq_msg_t *m)
{
    if (r->net)
        return mu__net_recv(r, m);
    if (r->uin)
        return recv_local(r, m);
    int rc = zmq_msg_recv(m, r->pull, ZMQ_DONTWAIT) >= 0 ? 0 : -1;
    r->pull_idle = rc != 0 && errno == EAGAIN;
    return rc;
}

/*  True when poll(2) can stand for zmq_poll on items: the one ZeroMQ
    socket among them, if any, is the input socket, whose last receive
    found nothing. That receive processed the socket's pending commands,
    so its ZMQ_FD (edge-triggered) becomes readable when the next batch
    arrives. */
static bool
plain_poll_ok(mu__runner_t *r, const zmq_pollitem_t *items, int n)
{
    bool input = false;
    for (int i = 0; i < n; i++) {
        if (items[i].socket && (items[i].socket != r->pull || !r->pull_idle))
            return false;
        input = input || items[i].socket;
    }
    if (input && !r->pull_fd_ok) {
        size_t len = sizeof r->pull_fd;
        r->pull_fd_ok = r->pull && zmq_getsockopt(r->pull, ZMQ_FD, &r->pull_fd, &len) == 0;
    }
    return !input || r->pull_fd_ok;
}

static int
poll_items(mu__runner_t *r, zmq_pollitem_t *items, int n, long timeout_ms)
{
    static struct pollfd *p;
    static int cap;
    if (n > cap) {
        struct pollfd *grown = realloc(p, (size_t) n * sizeof *p);
        if (!grown)
            return zmq_poll(items, n, timeout_ms);
        p = grown;
        cap = n;
    }
    if (!plain_poll_ok(r, items, n))
        return zmq_poll(items, n, timeout_ms);
    for (int i = 0; i < n; i++) {
        short ev = items[i].events;
        p[i] = (struct pollfd) { .fd = items[i].socket ? r->pull_fd : items[i].fd,
                                 .events = (short) ((ev & ZMQ_POLLIN ? POLLIN : 0)
                                                    | (ev & ZMQ_POLLOUT ? POLLOUT : 0)) };
    }
    int rc = poll(p, (nfds_t) n, (int) timeout_ms);
    int ready = 0;
    for (int i = 0; i < n; i++) {
        short re = p[i].revents, out = 0;
        if (items[i].socket) /* commands came: a receive tells whether input did */
            out = re ? ZMQ_POLLIN : 0;
        else
            out = (short) ((re & POLLIN ? ZMQ_POLLIN : 0) | (re & POLLOUT ? ZMQ_POLLOUT : 0)
                           | (re & ~(POLLIN | POLLOUT) ? ZMQ_POLLERR : 0));
        items[i].revents = out;
        ready += out != 0;
    }
    return rc < 0 ? rc : ready;
}

/*  mu__runner_poll with local links: the input item stands for the
    receiver's descriptor (ready at once when the last receive left
    records), the outputs' sockets are polled for room and then written. */
static int
poll_local(mu__runner_t *r, zmq_pollitem_t *items, int n, long timeout_ms)
{
    static zmq_pollitem_t *ext;
    static int cap;
    int max = n + r->npush;
    if (max > cap) {
        zmq_pollitem_t *grown = realloc(ext, (size_t) max * sizeof *ext);
        if (!grown)
            return -1;
        ext = grown;
        cap = max;
    }
    int in_pos = -1;
    for (int i = 0; i < n; i++) {
        ext[i] = items[i];
        if (r->uin && items[i].socket == r->pull) {
            in_pos = i;
            ext[i] = (zmq_pollitem_t) { .fd = mu__ulink_in_fd(r->uin), .events = ZMQ_POLLIN };
        }
    }
    bool in_ready = in_pos >= 0 && !r->pull_idle;
    int m = mu__links_poll_items(r, ext, n, &timeout_ms);
    int rc = poll_items(r, ext, m, in_ready ? 0 : timeout_ms);
    mu__runner_flush_links(r);
    int ready = 0;
    for (int i = 0; i < n; i++) {
        items[i].revents = ext[i].revents;
        if (i == in_pos)
            items[i].revents = (in_ready || ext[i].revents) ? ZMQ_POLLIN : 0;
        ready += items[i].revents != 0;
    }
    return rc < 0 ? rc : ready;
}

int
mu__runner_poll(mu__runner_t *r, zmq_pollitem_t *items, int n, long timeout_ms)
{
    if (r->uin || r->uout)
        return poll_local(r, items, n, timeout_ms);
    return poll_items(r, items, n, timeout_ms);
}

void *
mu__runner_aux_socket(const mu__runner_t *r)
{
    return r->net ? mu__net_out_socket(r) : mu__rel_ack_socket(r);
}

/*  Counts a malformed input message (what: its kind) as an error and logs
    it, at most one line a second per runner: a peer sending nothing but
    bad input cannot flood the log (those not logged are reported by
    mu__runner_log_due, or counted in the next line). */
static void
bad_input(mu__runner_t *r, const char *what, size_t size)
{
    r->stats.errors++;
    uint64_t before = 0;
    if (!mu__log_limit_admit(&r->bad_input_log, mu__now_ms(), &before))
        return;
    if (before > 0)
        mu__rlog(warning, r,
                 "malformed %s of %zu bytes dropped (%llu more malformed inputs before it not "
                 "logged)",
                 what, size, (unsigned long long) before);
    else
        mu__rlog(warning, r, "malformed %s of %zu bytes dropped", what, size);
}

/*  A message of a multi-host link: data is handled and then credited. */
static void
take_net(mu__runner_t *r, const void *msg, size_t size, mu__runner_deliver_fn *fn, void *ctx)
{
    const void *data;
    size_t len;
    int k = mu__net_open(r, msg, size, &data, &len);
    if (k < 0) {
        bad_input(r, "message from upstream", size);
    }
    if (k <= 0)
        return;
    r->stats.in++;
    int64_t t0 = mu__flow_now_ns();
    mu__net_user_begin(r);
    int rc = fn(r, data, len, ctx);
    mu__net_user_end(r);
    r->stats.hist[mu__flow_bucket((uint64_t) (mu__flow_now_ns() - t0))]++;
    if (rc < 0)
        r->stats.errors++;
    mu__net_handled(r);
}

/* ---- receiving ------------------------------------------------------------------------ */

/*  One data message: counted, handed to fn, timed from t0 (0: now).
    Returns when the call ended, for the next record of a framed part to
    start from (one clock read per message, not two: 30 ns each here), or
    0 when sending the due batches took time after it. */
static int64_t
take_data(mu__runner_t *r, const void *data, size_t size, mu__runner_deliver_fn *fn, void *ctx,
          int64_t t0)
{
    r->stats.in++;
    if (t0 == 0)
        t0 = mu__flow_now_ns();
    int rc = fn(r, data, size, ctx);
    int64_t t1 = mu__flow_now_ns();
    r->stats.hist[mu__flow_bucket((uint64_t) (t1 - t0))]++;
    if (rc < 0)
        r->stats.errors++;
    int open = r->nopen;
    mu__runner_batch_due(r, t0, t1);
    return r->nopen < open ? 0 : t1;
}

/*  Whether framed part p (size bytes, 'B' first) holds what a sender
    writes (mu_flow_links.c; doc/wire.md): at most MU__FRAME_CAP bytes,
    1 to MU__BATCH_PARTS - 1 records, each a size (u32 LE) below
    MU__BATCH_MAX_SIZE and that many bytes, ending at the part's end. */
static bool
framed_valid(const uint8_t *p, size_t size)
{
    if (size > MU__FRAME_CAP)
        return false;
    int records = 0;
    for (size_t off = 1; off < size; records++) {
        size_t left = size - off;
        if (left < 4 || records == MU__BATCH_PARTS - 1)
            return false;
        uint32_t len = mu__get_le32(p + off);
        if (len >= MU__BATCH_MAX_SIZE || len > left - 4)
            return false;
        off += 4 + (size_t) len;
    }
    return records > 0;
}

/*  A framed part of a batch (mu_flow_links.c; doc/wire.md): 'B', then per
    message its size (u32 LE) and payload. A part no sender writes (see
    framed_valid), or one into an input that carries no batches (from a
    source, or at-least-once: those messages go alone, and an
    at-least-once message needs its id), is one error and dropped whole;
    the parts around it are taken. From *resume (0: the start, checked
    first), up to where stop says to stop (*resume gets it). Returns the
    messages taken (at least 1: the caller's input bound counts the
    part). */
static int
take_framed(mu__runner_t *r, const uint8_t *p, size_t size, size_t *resume,
            mu__runner_stop_fn *stop, mu__runner_deliver_fn *fn, void *ctx)
{
    size_t off = *resume;
    *resume = 0;
    if (off == 0 && (!r->in_batches || !framed_valid(p, size))) {
        bad_input(r, "batch", size);
        return 1;
    }
    int n = 0;
    int64_t t = 0; /* when the previous record's call ended */
    for (off = off > 0 ? off : 1; off < size && !r->exit_req; n++) {
        if (stop && stop(ctx)) {
            *resume = off;
            break;
        }
        uint32_t len = mu__get_le32(p + off);
        t = take_data(r, p + off + 4, len, fn, ctx, t);
        off += 4 + (size_t) len;
    }
    return n > 0 ? n : 1;
}

int
mu__runner_take(mu__runner_t *r, const void *msg, size_t size, mu__runner_deliver_fn *fn, void *ctx)
{
    size_t resume = 0;
    return mu__runner_take_until(r, msg, size, &resume, NULL, fn, ctx);
}

int
mu__runner_take_until(mu__runner_t *r, const void *msg, size_t size, size_t *resume,
                      mu__runner_stop_fn *stop, mu__runner_deliver_fn *fn, void *ctx)
{
    if (*resume > 0 || (!r->net && size >= 1 && ((const char *) msg)[0] == 'B'))
        return take_framed(r, msg, size, resume, stop, fn, ctx);
    const char *p = msg;
    if (r->net)
        take_net(r, msg, size, fn, ctx);
    else if (size >= 1 && p[0] == 'M' && !r->ack_push)
        (void) take_data(r, p + 1, size - 1, fn, ctx, 0);
    else if (size == 0) {
        /* the end of a batch (mu_flow_links.c): nothing to do */
    } else if (size >= 1 && p[0] == 'R' && r->ack_push) {
        int sender;
        uint64_t id;
        size_t hdr = mu__rel_header();
        if (!mu__rel_parse(msg, size, &sender, &id) || sender < 0 || sender >= r->n_up) {
            r->stats.errors++;
            return 1;
        }
        (void) take_data(r, p + hdr, size - hdr, fn, ctx, 0);
        if (!r->exit_req) { /* handled (or failed for good): acknowledge */
            r->acks[sender][r->nacks[sender]++] = id;
            if (r->nacks[sender] == MU__ACK_BATCH)
                mu__runner_flush_acks(r);
        }
    } else if (size == 5 && p[0] == 'E') {
        uint32_t idx = mu__get_le32((const uint8_t *) p + 1);
        mark_eos(r, idx < MU__FLOW_MAX_RUNNERS ? (int) idx : -1);
    } else {
        bad_input(r, "internal message", size);
    }
    return 1;
}

/* ---- the end ------------------------------------------------------------------------------ */

void
mu__runner_finish(mu__runner_t *r)
{
    mu__runner_flush_acks(r);
    while (mu__rel_unacked(r) > 0 && !r->exit_req) {
        if (mu__runner_wait_acks(r) != 0 || mu__rel_redeliver(r) != 0)
            break;
    }
    (void) mu__links_send_eos(r);
    char d = 'd';
    (void) send(r->ctl, &d, 1, MSG_NOSIGNAL);
    mu__runner_log_due(r, mu__now_ms(), true);
    r->last_stats_ms = 0;
    mu__runner_tick(r);
    while (!r->exit_req) { /* the local links' queues are written meanwhile */
        zmq_pollitem_t item = { .fd = r->ctl, .events = ZMQ_POLLIN };
        mu__runner_poll(r, &item, 1, r->net ? 25 : MU__FLOW_STATS_MS);
        mu__runner_ctl(r);
        mu__net_linger(r);
    }
    r->last_stats_ms = 0;
    mu__runner_tick(r);
    mu__net_close(r);
    _exit(0);
}

/* ---- set-up ------------------------------------------------------------------------------------ */

static void *
make_socket(mu__runner_t *r, int type, int hwm)
{
    void *s = zmq_socket(r->zctx, type);
    if (!s) {
        mu__rlog(error, r, "zmq_socket: %s", zmq_strerror(errno));
        _exit(2);
    }
    int ivl = 10, linger = 0;
    zmq_setsockopt(s, type == ZMQ_PUSH ? ZMQ_SNDHWM : ZMQ_RCVHWM, &hwm, sizeof hwm);
    zmq_setsockopt(s, ZMQ_RECONNECT_IVL, &ivl, sizeof ivl);
    zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger);
    return s;
}

/*  Whether the link into stage s (not the first of its pipeline) is a
    local link (mu_flow_ulink.c): on the flow's directory (not pinned to a
    TCP endpoint), not at-least-once (those stay on ZeroMQ, with their
    acks), not out of a source stage (a source's messages leave at once
    even when its call then blocks in user code, so only a thread of its
    own can gather a flood of them into few writes: ZeroMQ's I/O thread;
    written one by one they cost a system call and a wake-up each,
    doc/flow.md, "Local links"). Multi-host flows never get here. */
static bool
local_link(const mu_flow_t *f, int s)
{
    const mu__stage_t *st = &f->stages[s];
    return st->base_port == 0 && !st->reliable && f->stages[s - 1].kind != MU__ST_SOURCE;
}

static void
ulink_bad(void *ctx, const char *what, size_t size)
{
    bad_input(ctx, what, size);
}

static void
setup_local_input(mu__runner_t *r)
{
    char ep[160];
    mu__flow_endpoint(r->flow, r->stage, r->index, ep, sizeof ep);
    r->uin = mu__ulink_in_new(ep + 6, r->flow->link_token, 2 * r->n_up + LINK_CONNS_SPARE,
                              ulink_bad, r);
    if (!r->uin) {
        mu__rlog(error, r, "cannot listen on %s: %s", ep + 6, strerror(errno));
        _exit(2);
    }
    r->pull = r->uin;
}

/*  Connects to every downstream runner, waiting (at most
    LINK_CONNECT_MS, reading control messages) for those that do not
    listen yet: they are being started with this one. Only this runner's
    own thread connects a local link, so one that then blocks in user code
    before its first wait (a key function, a handler) would otherwise hold
    what it sent meanwhile to a runner that was not there yet. A
    downstream runner that is down longer (restarting) is connected to
    later, every MU__ULINK_RECONNECT_MS while there is something to send. */
static void
wait_listening(mu__runner_t *r)
{
    int64_t until = mu__now_ms() + LINK_CONNECT_MS;
    for (;;) {
        int64_t now = mu__now_ms();
        bool all = true;
        for (int j = 0; j < r->npush; j++)
            all = mu__ulink_connect(r->uout[j], now) && all;
        if (all || now >= until || r->exit_req)
            break;
        struct pollfd p = { .fd = r->ctl, .events = POLLIN };
        (void) poll(&p, 1, 1); /* a retry in 1 ms: they start in a few */
        mu__runner_ctl(r);
    }
    mu__runner_flush_links(r); /* the hellos */
}

static void
setup_local_outputs(mu__runner_t *r)
{
    r->uout = calloc((size_t) r->npush, sizeof *r->uout);
    if (!r->uout)
        _exit(2);
    for (int j = 0; j < r->npush; j++) {
        char ep[160];
        mu__flow_endpoint(r->flow, r->stage + 1, j, ep, sizeof ep);
        r->uout[j] = mu__ulink_out_new(ep + 6, r->flow->link_token, (uint32_t) r->index,
                                       LINK_QUEUE_BYTES);
        if (!r->uout[j])
            _exit(2);
    }
    wait_listening(r);
}

/*  What the at-least-once layer calls above it. */
static const mu__rel_port_t rel_port = { mu__runner_send_balanced, mu__runner_wait_acks };

static void setup_outputs(mu__runner_t *r);

void
mu__runner_setup(mu__runner_t *r)
{
    r->service = mu__runner_service;
    mu_flow_t *f = r->flow;
    char ep[160];
    r->zctx = zmq_ctx_new();
    if (!r->zctx)
        _exit(2);
    if (f->nhosts > 0) {
        mu__net_setup(r);
        r->eos = calloc(1, 1);
        r->dead_down = calloc((size_t) r->npush + 1, sizeof *r->dead_down);
        if (!r->eos || !r->dead_down)
            _exit(2);
        return;
    }
    if (!mu__flow_first(f, r->stage)) {
        r->n_up = f->stages[r->stage - 1].n;
        r->eos = calloc((size_t) r->n_up, sizeof *r->eos);
        r->in_batches = f->stages[r->stage - 1].kind != MU__ST_SOURCE && !r->st->reliable;
        if (!r->eos)
            _exit(2);
        if (local_link(f, r->stage)) {
            setup_local_input(r);
            setup_outputs(r);
            return;
        }
        r->pull = make_socket(r, ZMQ_PULL,
                              r->in_batches ? LINK_QUEUE / MU__LINK_BATCH_PARTS : LINK_QUEUE);
        mu__flow_endpoint(f, r->stage, r->index, ep, sizeof ep);
        if (strncmp(ep, "ipc://", 6) == 0)
            unlink(ep + 6);
        else if (f->curve && mu__curve_server(r, r->pull) != 0) {
            mu__rlog(error, r, "cannot set up CURVE on %s", ep);
            _exit(2);
        }
        if (zmq_bind(r->pull, ep) != 0) {
            mu__rlog(error, r, "cannot bind %s: %s", ep, zmq_strerror(errno));
            _exit(2);
        }
        if (r->st->reliable) {
            r->ack_push = calloc((size_t) r->n_up, sizeof *r->ack_push);
            r->acks = calloc((size_t) r->n_up, sizeof *r->acks);
            r->nacks = calloc((size_t) r->n_up, sizeof *r->nacks);
            if (!r->ack_push || !r->acks || !r->nacks)
                _exit(2);
            int timeout = 1000;
            for (int i = 0; i < r->n_up; i++) {
                r->ack_push[i] = make_socket(r, ZMQ_PUSH, ACK_HWM);
                zmq_setsockopt(r->ack_push[i], ZMQ_SNDTIMEO, &timeout, sizeof timeout);
                snprintf(ep, sizeof ep, "ipc://%s/a%d-%d", f->dir, r->stage - 1, i);
                zmq_connect(r->ack_push[i], ep);
            }
        }
    }
    setup_outputs(r);
}

/*  The sockets (or local links) to the next stage's runners, if any. */
static void
setup_outputs(mu__runner_t *r)
{
    mu_flow_t *f = r->flow;
    char ep[160];
    if (!mu__flow_last(f, r->stage)) {
        r->next = &f->stages[r->stage + 1];
        r->npush = r->next->n;
        r->push = calloc((size_t) r->npush, sizeof *r->push);
        r->dead_down = calloc((size_t) r->npush, sizeof *r->dead_down);
        r->parts = calloc((size_t) r->npush, sizeof *r->parts);
        r->frame = calloc((size_t) r->npush, sizeof *r->frame);
        r->framed = calloc((size_t) r->npush, sizeof *r->framed);
        if (!r->push || !r->dead_down || !r->parts || !r->frame || !r->framed)
            _exit(2);
        if (r->next->reliable) {
            void *acks = make_socket(r, ZMQ_PULL, ACK_HWM);
            snprintf(ep, sizeof ep, "ipc://%s/a%d-%d", f->dir, r->stage, r->index);
            unlink(ep + 6);
            if (zmq_bind(acks, ep) != 0 || mu__rel_setup(r, acks, &rel_port) != 0) {
                mu__rlog(error, r, "cannot bind %s: %s", ep, zmq_strerror(errno));
                _exit(2);
            }
        }
        bool batches = r->st->kind != MU__ST_SOURCE && !r->next->reliable;
        int hwm = batches ? LINK_QUEUE / MU__LINK_BATCH_PARTS : LINK_QUEUE;
        if (local_link(f, r->stage + 1)) {
            setup_local_outputs(r);
            return;
        }
        for (int j = 0; j < r->npush; j++) {
            r->push[j] = make_socket(r, ZMQ_PUSH, hwm);
            mu__flow_endpoint(f, r->stage + 1, j, ep, sizeof ep);
            if (f->curve && r->next->base_port > 0 && mu__curve_client(r, r->push[j]) != 0) {
                mu__rlog(error, r, "cannot set up CURVE towards %s", ep);
                _exit(2);
            }
            if (zmq_connect(r->push[j], ep) != 0) {
                mu__rlog(error, r, "cannot connect %s: %s", ep, zmq_strerror(errno));
                _exit(2);
            }
        }
    } else
        r->dead_down = calloc(1, 1);
}
