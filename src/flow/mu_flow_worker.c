/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_flow_worker.c — a runner process's entry and the loops of worker,
    source and fd-source runners (edges: mu_flow_edge.c), and mu_flow_emit,
    which sends a handler's output where its emitter points (downstream,
    an edge's clients, or a thread handler's outbox). */
#include "flow/mu_flow_int.h"
#include "flow/mu_flow_net.h"
#include "flow/mu_flow_worker.h"
#include "flow/mu_flow_edge.h"
#include "flow/mu_flow_edge_core.h"
#include "flow/mu_flow_inproc.h"
#include "flow/mu_flow_runner.h"
#include "flow/mu_flow_links.h"
#include "flow/mu_flow_reliable.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#define RECV_BATCH 256
#define SOURCE_SERVE_NS 10000000 /* a source loop serves its links at least this often */

int
mu_flow_emit(mu_flow_emit_t *out, const void *data, size_t size)
{
    assert(out);
    assert(data || size == 0);
    if (out->outbox)
        return mu__outbox_put(out->outbox, data, size);
    if (out->to_clients)
        return mu__flow_edge_emit(out->edge, data, size);
    return mu__runner_send(out->runner, data, size);
}

/* ---- worker loop ---------------------------------------------------------------------- */

static int
deliver_handler(mu__runner_t *r, const void *data, size_t size, void *ctx)
{
    mu_flow_emit_t *out = ctx;
    return r->st->handler(r->state, data, size, out);
}

/*  Receives and handles what is queued on the pull socket (up to a batch,
    RECV_BATCH messages or a little over: a framed part is taken whole).
    Returns the number of messages taken. */
static int
drain_input(mu__runner_t *r, mu__runner_deliver_fn *fn, void *ctx)
{
    zmq_msg_t m;
    zmq_msg_init(&m);
    int k = 0;
    while (k < RECV_BATCH && !r->exit_req && mu__runner_recv(r, &m) == 0)
        k += mu__runner_take(r, zmq_msg_data(&m), zmq_msg_size(&m), fn, ctx);
    zmq_msg_close(&m);
    mu__runner_flush_acks(r);
    return k;
}

/*  Calls the stage's timer hook when due (*next_ms: when, 0 before the
    first call; a late call does not repeat the intervals missed). Returns
    the ms until it is next due, or MU__FLOW_STATS_MS without a timer. */
static int
run_timer(mu__runner_t *r, mu_flow_emit_t *out, int64_t *next_ms)
{
    if (!r->st->timer)
        return MU__FLOW_STATS_MS;
    int64_t now = mu__flow_now_ns() / 1000000;
    if (*next_ms == 0)
        *next_ms = now + r->st->timer_ms;
    if (now >= *next_ms) {
        int64_t t0 = mu__flow_now_ns();
        mu__net_user_begin(r);
        int rc = r->st->timer(r->state, out);
        mu__net_user_end(r);
        int64_t t1 = mu__flow_now_ns();
        r->stats.hist[mu__flow_bucket((uint64_t) (t1 - t0))]++;
        mu__runner_batch_due(r, t0, t1);
        if (rc < 0) {
            r->stats.errors++;
            mu__rlog(warning, r, "timer hook failed: %s", mu_strerror(rc));
        }
        *next_ms += r->st->timer_ms;
        now = mu__flow_now_ns() / 1000000;
        if (*next_ms <= now)
            *next_ms = now + r->st->timer_ms;
    }
    int64_t left = *next_ms - now;
    return left < MU__FLOW_STATS_MS ? (int) left : MU__FLOW_STATS_MS;
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
        int64_t t0 = mu__flow_now_ns();
        int rc = r->st->teardown(r->state, out);
        r->stats.hist[mu__flow_bucket((uint64_t) (mu__flow_now_ns() - t0))]++;
        if (rc < 0) {
            r->stats.errors++;
            mu__rlog(warning, r, "teardown hook failed: %s", mu_strerror(rc));
        }
        if (r->exit_req || mu__inproc_drain(r) != 0)
            _exit(0);
    }
    mu__inproc_stop(r);
}

static void __attribute__((noreturn)) worker_main(mu__runner_t *r)
{
    int rc = mu__inproc_start(r, mu__runner_send);
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
    mu__flow_say_ready(r->flow, r->stage, r->index);
    mu_flow_emit_t out = { .runner = r };
    int efd = mu__inproc_fd(r);
    void *acks = mu__runner_aux_socket(r);
    int64_t next_timer = 0;
    int wait_ms = run_timer(r, &out, &next_timer);
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
        mu__runner_batch_end(r);
        mu__runner_poll(r, items, n, wait_ms);
        if (items[1].revents)
            mu__runner_ctl(r);
        mu__rel_take_acks(r);
        if (mu__rel_redeliver(r) != 0)
            break;
        if (items[0].revents)
            while (drain_input(r, deliver_handler, &out) >= RECV_BATCH) {
                mu__runner_tick(r);
                (void) mu__inproc_flush(r);
                (void) run_timer(r, &out, &next_timer);
            }
        (void) mu__inproc_flush(r); /* MU_EINTR: exit_req ends the loop */
        mu__runner_tick(r);
        if (!r->exit_req && !mu__runner_input_done(r))
            wait_ms = run_timer(r, &out, &next_timer);
    }
    if (r->exit_req)
        _exit(0);
    worker_teardown(r, &out);
    mu__runner_finish(r);
}

/* ---- sources -------------------------------------------------------------------------- */

static void __attribute__((noreturn)) source_main(mu__runner_t *r)
{
    mu_flow_emit_t out = { .runner = r };
    free(r->parts); /* no batches: a source call may emit, then wait long */
    r->parts = NULL;
    mu__flow_say_ready(r->flow, r->stage, r->index);
    unsigned calls = 0;
    int64_t served = 0; /* when the loop last served control, links and stats (ns) */
    for (;;) {
        /* Every 64th call, and once SOURCE_SERVE_NS passed: short calls
           add up (64 of 10 ms would leave the links without heartbeats
           for 640 ms, past a short heartbeat timeout, and the heartbeat
           thread steps in only during one call longer than a quarter
           interval). The clock is read per call anyway (histogram). */
        int64_t t0 = mu__flow_now_ns();
        if ((++calls & 63) == 0 || r->last_stats_ms == 0 || t0 - served >= SOURCE_SERVE_NS) {
            mu__runner_ctl(r);
            mu__rel_take_acks(r);
            mu__runner_tick(r);
            served = t0 = mu__flow_now_ns();
        }
        if (r->drain_req || r->exit_req)
            break;
        uint64_t before = r->stats.out;
        mu__net_user_begin(r);
        int rc = r->st->source(r->st->arg, r->index, &out);
        mu__net_user_end(r);
        mu__runner_batch_end(r); /* a call's messages are its batch */
        r->stats.hist[mu__flow_bucket((uint64_t) (mu__flow_now_ns() - t0))]++;
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

static void __attribute__((noreturn)) fd_source_main(mu__runner_t *r)
{
    int fd = r->st->fds[r->index];
    mu_pipe_t *p = mu_pipe_new_fd(fd, -1);
    if (!p) {
        mu__rlog(error, r, "descriptor %d unusable", fd);
        _exit(2);
    }
    if (r->st->header_bytes > 0 && mu_pipe_set_header_size(p, r->st->header_bytes) != 0)
        _exit(2); /* 1..8, checked by mu_flow_set_frame_header */
    mu_pipe_set_recv_timeout(p, 0);
    mu__flow_say_ready(r->flow, r->stage, r->index);
    bool done = false;
    while (!done && !r->drain_req && !r->exit_req) {
        zmq_pollitem_t items[2] = {
            { .fd = fd, .events = ZMQ_POLLIN },
            { .fd = r->ctl, .events = ZMQ_POLLIN },
        };
        mu__runner_batch_end(r);
        mu__runner_poll(r, items, 2, MU__FLOW_STATS_MS); /* and the local links' queues */
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
            (void) mu__runner_send(r, data, size);         /* fails only when told to exit */
            mu__runner_batch_due(r, 0, mu__flow_now_ns()); /* a backlog's batches wait <= 50 us */
            mu__runner_tick(r);
        }
        mu__runner_tick(r);
    }
    if (r->exit_req)
        _exit(0);
    mu__runner_finish(r);
}

/* ---- entry ---------------------------------------------------------------------------- */

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
    mu__runner_setup(r);
    switch (r->st->kind) {
    case MU__ST_WORKER:
        worker_main(r);
    case MU__ST_SOURCE:
        source_main(r);
    case MU__ST_FD_SOURCE:
        fd_source_main(r);
    case MU__ST_EDGE:
        if (r->st->edges[r->index].transport == MU_FLOW_EDGE_WS)
            mu__flow_ws_edge_main(r);
        mu__flow_edge_main(r);
    }
    _exit(2);
}
