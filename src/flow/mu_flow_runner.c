/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_flow_runner.c — a runner process: its sockets, the routing of what it
    emits (balance, broadcast, keyed), end-of-stream handling, and the loops
    of worker, source and fd-source runners (edges are in mu_flow_edge.c).

    Internal messages are ZeroMQ messages whose first byte is the type:
    'M' data (the payload follows), 'E' end of stream (the sender's runner
    index follows as a little-endian uint32), 'R' at-least-once data
    (mu_flow_reliable.c). Byte layouts: doc/wire-flow.md. */
#include "flow/mu_flow_int.h"

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

#define RECV_BATCH 256
#define HWM 1000

static int64_t
now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ---- control ------------------------------------------------------------------ */

void
mu__runner_tick(mu__runner_t *r)
{
    int64_t now = mu__now_ms();
    if (now - r->last_stats_ms < MU__FLOW_STATS_MS)
        return;
    r->last_stats_ms = now;
    r->stats.errors += mu__curve_refused(r) + mu__inproc_take_errors(r);
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
        else if (buf[0] == 'e')
            mark_eos(r, idx);
        else if (buf[0] == 'x' && idx >= 0 && idx < r->npush) {
            r->dead_down[idx] = true;
            mu__rel_dead(r, idx);
        } else if (buf[0] == 'r')
            mu__rel_dead(r, idx);
    }
}

bool
mu__runner_input_done(const mu__runner_t *r)
{
    return r->n_up > 0 && r->neos >= r->n_up;
}

/* ---- sending ------------------------------------------------------------------------ */

/*  Waits until push socket j (or any live one for j < 0) can take a
    message, or a control message arrives. MU_EINTR when told to exit. */
static int
wait_out(mu__runner_t *r, int j)
{
    mu__runner_flush_acks(r); /* nothing waits on us while we wait */
    zmq_pollitem_t items[MU__FLOW_MAX_RUNNERS + 2]; /* pushes, control, acks */
    int n = 0;
    for (int k = 0; k < r->npush; k++)
        if ((j < 0 || k == j) && !r->dead_down[k])
            items[n++] = (zmq_pollitem_t) { .socket = r->push[k], .events = ZMQ_POLLOUT };
    items[n++] = (zmq_pollitem_t) { .fd = r->ctl, .events = ZMQ_POLLIN };
    void *acks = mu__rel_ack_socket(r);
    if (acks)
        items[n++] = (zmq_pollitem_t) { .socket = acks, .events = ZMQ_POLLIN };
    zmq_poll(items, n, MU__FLOW_STATS_MS);
    mu__runner_ctl(r);
    mu__rel_take_acks(r);
    mu__runner_tick(r);
    return r->exit_req ? MU_EINTR : 0;
}

int
mu__runner_wait_acks(mu__runner_t *r)
{
    zmq_pollitem_t items[2] = {
        { .fd = r->ctl, .events = ZMQ_POLLIN },
        { .socket = mu__rel_ack_socket(r), .events = ZMQ_POLLIN },
    };
    zmq_poll(items, items[1].socket ? 2 : 1, MU__FLOW_STATS_MS);
    mu__runner_ctl(r);
    mu__rel_take_acks(r);
    mu__runner_tick(r);
    return r->exit_req ? MU_EINTR : 0;
}

static int
build(zmq_msg_t *m, char type, const void *data, size_t size)
{
    if (zmq_msg_init_size(m, size + 1) != 0)
        return MU_ENOMEM;
    char *p = zmq_msg_data(m);
    p[0] = type;
    if (size)
        memcpy(p + 1, data, size);
    return 0;
}

/*  Sends m (consumed) to runner j, waiting for room. */
static int
send_to(mu__runner_t *r, int j, zmq_msg_t *m, bool may_drop)
{
    for (;;) {
        if (r->dead_down[j]) {
            zmq_msg_close(m);
            r->stats.drops++;
            return 0;
        }
        if (zmq_msg_send(m, r->push[j], ZMQ_DONTWAIT) >= 0)
            return 0;
        if (errno != EAGAIN && errno != EINTR) {
            zmq_msg_close(m);
            return -errno;
        }
        if (may_drop && r->st->drop) {
            zmq_msg_close(m);
            r->stats.drops++;
            return 0;
        }
        int rc = wait_out(r, j);
        if (rc != 0) {
            zmq_msg_close(m);
            return rc;
        }
    }
}

int
mu__runner_send_balanced(mu__runner_t *r, zmq_msg_t *m, int *target_p)
{
    for (;;) {
        for (int k = 0; k < r->npush; k++) {
            int j = (r->rr + k) % r->npush;
            if (r->dead_down[j])
                continue;
            if (zmq_msg_send(m, r->push[j], ZMQ_DONTWAIT) >= 0) {
                r->rr = j + 1;
                if (target_p)
                    *target_p = j;
                return 0;
            }
        }
        if (r->st->drop) {
            zmq_msg_close(m);
            r->stats.drops++;
            return 1;
        }
        int rc = wait_out(r, -1);
        if (rc != 0) {
            zmq_msg_close(m);
            return rc;
        }
    }
}

/*  True when runner j of the next stage takes data on a broadcast link. */
static bool
accepts(const mu__runner_t *r, int j, const void *data, size_t size)
{
    const mu__stage_t *nx = r->next;
    if (nx->filter)
        return nx->filter(nx->link_arg, j, data, size);
    if (nx->kind == MU__ST_EDGE && nx->edges[j].filter)
        return nx->edges[j].filter(nx->edges[j].arg, data, size);
    return true;
}

int
mu__runner_send(mu__runner_t *r, const void *data, size_t size)
{
    if (r->npush == 0)
        return MU_EPIPE;
    zmq_msg_t m;
    int rc;
    if (r->next->link == MU_FLOW_BROADCAST) {
        for (int j = 0; j < r->npush; j++) {
            if (!accepts(r, j, data, size))
                continue;
            if ((rc = build(&m, 'M', data, size)) != 0)
                return rc;
            uint64_t drops = r->stats.drops;
            if ((rc = send_to(r, j, &m, true)) != 0)
                return rc;
            if (r->stats.drops == drops)
                r->stats.out++;
        }
        return 0;
    }
    if (r->rel) {
        rc = mu__rel_send(r, data, size);
        if (rc == 0)
            r->stats.out++;
        return rc < 0 ? rc : 0;
    }
    if ((rc = build(&m, 'M', data, size)) != 0)
        return rc;
    if (r->next->link == MU_FLOW_KEYED) {
        uint64_t key = r->next->key(r->next->link_arg, data, size);
        uint64_t drops = r->stats.drops;
        rc = send_to(r, (int) (key % (uint64_t) r->npush), &m, true);
        if (rc == 0 && r->stats.drops == drops)
            r->stats.out++;
        return rc;
    }
    rc = mu__runner_send_balanced(r, &m, NULL);
    if (rc == 0)
        r->stats.out++;
    return rc < 0 ? rc : 0;
}

int
mu_flow_emit(mu_flow_emit_t *out, const void *data, size_t size)
{
    assert(out);
    if (data == NULL && size > 0)
        return MU_EINVAL;
    if (out->outbox)
        return mu__outbox_put(out->outbox, data, size);
    if (out->to_clients)
        return mu__flow_edge_emit(out->edge, data, size);
    return mu__runner_send(out->runner, data, size);
}

/* ---- receiving ------------------------------------------------------------------------ */

void
mu__runner_take(mu__runner_t *r, const void *msg, size_t size, mu__runner_deliver_fn *fn, void *ctx)
{
    const char *p = msg;
    if (size >= 1 && p[0] == 'M') {
        r->stats.in++;
        int64_t t0 = now_ns();
        int rc = fn(r, p + 1, size - 1, ctx);
        r->stats.hist[mu__flow_bucket((uint64_t) (now_ns() - t0))]++;
        if (rc < 0)
            r->stats.errors++;
    } else if (size >= 1 && p[0] == 'R' && r->ack_push) {
        int sender;
        uint64_t id;
        size_t hdr = mu__rel_header();
        if (!mu__rel_parse(msg, size, &sender, &id) || sender < 0 || sender >= r->n_up) {
            r->stats.errors++;
            return;
        }
        r->stats.in++;
        int64_t t0 = now_ns();
        int rc = fn(r, p + hdr, size - hdr, ctx);
        r->stats.hist[mu__flow_bucket((uint64_t) (now_ns() - t0))]++;
        if (rc < 0)
            r->stats.errors++;
        if (!r->exit_req) { /* handled (or failed for good): acknowledge */
            r->acks[sender][r->nacks[sender]++] = id;
            if (r->nacks[sender] == MU__ACK_BATCH)
                mu__runner_flush_acks(r);
        }
    } else if (size == 5 && p[0] == 'E') {
        uint32_t idx = mu__get_le32((const uint8_t *) p + 1);
        mark_eos(r, idx < MU__FLOW_MAX_RUNNERS ? (int) idx : -1);
    } else {
        r->stats.errors++;
        mu__rlog(warning, r, "malformed internal message of %zu bytes dropped", size);
    }
}

void
mu__runner_flush_acks(mu__runner_t *r)
{
    for (int i = 0; r->ack_push && i < r->n_up; i++)
        if (r->nacks[i] > 0) {
            uint8_t buf[MU__ACK_BATCH * 8];
            for (int k = 0; k < r->nacks[i]; k++)
                mu__put_le64(buf + 8 * k, r->acks[i][k]);
            (void) zmq_send(r->ack_push[i], buf, (size_t) r->nacks[i] * 8, 0);
            r->nacks[i] = 0;
        }
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
    for (int j = 0; j < r->npush && !r->exit_req; j++) {
        zmq_msg_t m;
        uint8_t idx[4];
        mu__put_le32(idx, (uint32_t) r->index);
        if (build(&m, 'E', idx, sizeof idx) == 0)
            (void) send_to(r, j, &m, false);
    }
    char d = 'd';
    (void) send(r->ctl, &d, 1, MSG_NOSIGNAL);
    r->last_stats_ms = 0;
    mu__runner_tick(r);
    while (!r->exit_req) {
        struct pollfd p = { .fd = r->ctl, .events = POLLIN };
        poll(&p, 1, MU__FLOW_STATS_MS);
        mu__runner_ctl(r);
    }
    r->last_stats_ms = 0;
    mu__runner_tick(r);
    _exit(0);
}

/* ---- set-up ------------------------------------------------------------------------------------ */

static void *
make_socket(mu__runner_t *r, int type)
{
    void *s = zmq_socket(r->zctx, type);
    if (!s) {
        mu__rlog(error, r, "zmq_socket: %s", zmq_strerror(errno));
        _exit(2);
    }
    int hwm = HWM, ivl = 10, linger = 0;
    zmq_setsockopt(s, type == ZMQ_PUSH ? ZMQ_SNDHWM : ZMQ_RCVHWM, &hwm, sizeof hwm);
    zmq_setsockopt(s, ZMQ_RECONNECT_IVL, &ivl, sizeof ivl);
    zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger);
    return s;
}

static void
setup_sockets(mu__runner_t *r)
{
    mu_flow_t *f = r->flow;
    char ep[160];
    r->zctx = zmq_ctx_new();
    if (!r->zctx)
        _exit(2);
    if (r->stage > 0) {
        r->n_up = f->stages[r->stage - 1].n;
        r->eos = calloc((size_t) r->n_up, sizeof *r->eos);
        r->pull = make_socket(r, ZMQ_PULL);
        mu__flow_endpoint(f, r->stage, r->index, ep, sizeof ep);
        if (strncmp(ep, "ipc://", 6) == 0)
            unlink(ep + 6);
        else if (f->curve && mu__curve_server(r, r->pull) != 0) {
            mu__rlog(error, r, "cannot set up CURVE on %s", ep);
            _exit(2);
        }
        if (!r->eos || zmq_bind(r->pull, ep) != 0) {
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
                r->ack_push[i] = make_socket(r, ZMQ_PUSH);
                zmq_setsockopt(r->ack_push[i], ZMQ_SNDTIMEO, &timeout, sizeof timeout);
                snprintf(ep, sizeof ep, "ipc://%s/a%d-%d", f->dir, r->stage - 1, i);
                zmq_connect(r->ack_push[i], ep);
            }
        }
    }
    if (r->stage + 1 < f->nstages) {
        r->next = &f->stages[r->stage + 1];
        r->npush = r->next->n;
        r->push = calloc((size_t) r->npush, sizeof *r->push);
        r->dead_down = calloc((size_t) r->npush, sizeof *r->dead_down);
        if (!r->push || !r->dead_down)
            _exit(2);
        if (r->next->reliable) {
            void *acks = make_socket(r, ZMQ_PULL);
            snprintf(ep, sizeof ep, "ipc://%s/a%d-%d", f->dir, r->stage, r->index);
            unlink(ep + 6);
            if (zmq_bind(acks, ep) != 0 || mu__rel_setup(r, acks) != 0) {
                mu__rlog(error, r, "cannot bind %s: %s", ep, zmq_strerror(errno));
                _exit(2);
            }
        }
        for (int j = 0; j < r->npush; j++) {
            r->push[j] = make_socket(r, ZMQ_PUSH);
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

/* ---- worker loop ------------------------------------------------------------------------------- */

static int
deliver_handler(mu__runner_t *r, const void *data, size_t size, void *ctx)
{
    mu_flow_emit_t *out = ctx;
    return r->st->handler(r->state, data, size, out);
}

/*  Receives and handles what is queued on the pull socket (up to a batch).
    Returns the number of messages taken. */
static int
drain_input(mu__runner_t *r, mu__runner_deliver_fn *fn, void *ctx)
{
    zmq_msg_t m;
    zmq_msg_init(&m);
    int k = 0;
    while (k < RECV_BATCH && !r->exit_req && zmq_msg_recv(&m, r->pull, ZMQ_DONTWAIT) >= 0) {
        mu__runner_take(r, zmq_msg_data(&m), zmq_msg_size(&m), fn, ctx);
        k++;
    }
    zmq_msg_close(&m);
    mu__runner_flush_acks(r);
    return k;
}

/*  The end of a drained worker: its in-process handlers finish, then the
    teardown hook runs and what it caused is sent too (all before the
    end-of-stream marker). Exits at once when told to. */
static void
worker_teardown(mu__runner_t *r, mu_flow_emit_t *out)
{
    if (mu__inproc_drain(r) != 0)
        _exit(0);
    if (r->st->teardown) {
        int64_t t0 = now_ns();
        int rc = r->st->teardown(r->state, out);
        r->stats.hist[mu__flow_bucket((uint64_t) (now_ns() - t0))]++;
        if (rc < 0) {
            r->stats.errors++;
            mu__rlog(warning, r, "teardown hook failed: %s", mu_strerror(rc));
        }
        if (r->exit_req || mu__inproc_drain(r) != 0)
            _exit(0);
    }
    mu__inproc_stop(r);
}

static void __attribute__((noreturn))
worker_main(mu__runner_t *r)
{
    int rc = mu__inproc_start(r);
    if (rc != 0) {
        mu__rlog(error, r, "cannot start in-process handlers: %s", mu_strerror(rc));
        _exit(2);
    }
    if (r->st->startup && r->st->startup(r->st->arg, r->index, &r->state) != 0) {
        mu__rlog(error, r, "startup hook failed");
        _exit(3);
    }
    if (!r->st->startup)
        r->state = r->st->arg;
    mu_flow_emit_t out = { .runner = r };
    int efd = mu__inproc_fd(r);
    void *acks = mu__rel_ack_socket(r);
    while (!r->exit_req && !mu__runner_input_done(r)) {
        zmq_pollitem_t items[4] = {
            { .socket = r->pull, .events = ZMQ_POLLIN },
            { .fd = r->ctl, .events = ZMQ_POLLIN },
        };
        int n = 2;
        if (efd >= 0)
            items[n++] = (zmq_pollitem_t) { .fd = efd, .events = ZMQ_POLLIN };
        if (acks)
            items[n++] = (zmq_pollitem_t) { .socket = acks, .events = ZMQ_POLLIN };
        zmq_poll(items, n, MU__FLOW_STATS_MS);
        if (items[1].revents)
            mu__runner_ctl(r);
        mu__rel_take_acks(r);
        if (mu__rel_redeliver(r) != 0)
            break;
        if (items[0].revents)
            while (drain_input(r, deliver_handler, &out) == RECV_BATCH) {
                mu__runner_tick(r);
                (void) mu__inproc_flush(r);
            }
        (void) mu__inproc_flush(r); /* MU_EINTR: exit_req ends the loop */
        mu__runner_tick(r);
    }
    if (r->exit_req)
        _exit(0);
    worker_teardown(r, &out);
    mu__runner_finish(r);
}

/* ---- sources ----------------------------------------------------------------------------------- */

static void __attribute__((noreturn))
source_main(mu__runner_t *r)
{
    mu_flow_emit_t out = { .runner = r };
    unsigned calls = 0;
    for (;;) {
        if ((++calls & 63) == 0 || r->last_stats_ms == 0) {
            mu__runner_ctl(r);
            mu__rel_take_acks(r);
            mu__runner_tick(r);
        }
        if (r->drain_req || r->exit_req)
            break;
        int64_t t0 = now_ns();
        uint64_t before = r->stats.out;
        int rc = r->st->source(r->st->arg, r->index, &out);
        r->stats.hist[mu__flow_bucket((uint64_t) (now_ns() - t0))]++;
        r->stats.in += r->stats.out - before;
        if (rc < 0) {
            r->stats.errors++;
            mu__rlog(warning, r, "source failed: %s", mu_strerror(rc));
        }
        if (rc != MU_FLOW_MORE)
            break;
    }
    if (r->exit_req)
        _exit(0);
    mu__runner_finish(r);
}

static void __attribute__((noreturn))
fd_source_main(mu__runner_t *r)
{
    int fd = r->st->fds[r->index];
    mu_pipe_t *p = mu_pipe_new_fd(fd, -1);
    if (!p) {
        mu__rlog(error, r, "descriptor %d unusable", fd);
        _exit(2);
    }
    mu_pipe_set_recv_timeout(p, 0);
    bool done = false;
    while (!done && !r->drain_req && !r->exit_req) {
        zmq_pollitem_t items[2] = {
            { .fd = fd, .events = ZMQ_POLLIN },
            { .fd = r->ctl, .events = ZMQ_POLLIN },
        };
        zmq_poll(items, 2, MU__FLOW_STATS_MS);
        mu__runner_ctl(r);
        /* Until MU_EAGAIN: frames already buffered by the pipe wake no poll. */
        while (!r->exit_req) {
            const void *data;
            size_t size;
            int rc = mu_pipe_recv(p, &data, &size);
            if (rc == MU_EAGAIN)
                break;
            if (rc != 0) {
                if (rc != MU_ECLOSED) {
                    r->stats.errors++;
                    mu__rlog(warning, r, "input descriptor %d: %s", fd, mu_strerror(rc));
                }
                done = true;
                break;
            }
            r->stats.in++;
            (void) mu__runner_send(r, data, size); /* fails only when told to exit */
            mu__runner_tick(r);
        }
        mu__runner_tick(r);
    }
    if (r->exit_req)
        _exit(0);
    mu__runner_finish(r);
}

/* ---- entry ------------------------------------------------------------------------------------------ */

void
mu__flow_runner_main(mu_flow_t *flow, int stage, int index, int ctl)
{
    static mu__runner_t runner;
    mu__runner_t *r = &runner;
    /* This process may be a fork of another flow's runner (a flow started
       by a handler): nothing of that runner (its sockets and ZAP handler,
       which belong to a context this process cannot use, its requests,
       its counters) carries over. */
    *r = (mu__runner_t) { 0 };
    r->flow = flow;
    r->st = &flow->stages[stage];
    r->stage = stage;
    r->index = index;
    r->ctl = ctl;
    char title[128];
    snprintf(title, sizeof title, "%s/%s/%d", flow->name, r->st->name, index);
    mu__flow_set_title(title);
    setup_sockets(r);
    switch (r->st->kind) {
    case MU__ST_WORKER:
        worker_main(r);
    case MU__ST_SOURCE:
        source_main(r);
    case MU__ST_FD_SOURCE:
        fd_source_main(r);
    case MU__ST_EDGE:
        mu__flow_edge_main(r);
    }
    _exit(2);
}
