/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_flow_edge_core.c — what the TCP and the WebSocket edge runners share:
    the from_client and from_internal hooks, the emitter to the clients,
    reading upstream (only while some client can take it) and the end of
    the loop. Each transport keeps its clients (mu_flow_edge.c,
    mu_flow_ws_edge.c) and reaches them through the functions of its
    mu__edge_core_t. */
#include "flow/mu_flow_int.h"
#include "flow/mu_flow_edge_core.h"
#include "flow/mu_flow_runner.h"
#include "flow/mu_flow_links.h"
#include "flow/mu_flow_net.h"

#include <zmq.h>

#define UPSTREAM_BATCH 256

int
mu__flow_edge_emit(void *edge, const void *data, size_t size)
{
    mu__edge_core_t *core = edge;
    mu__runner_t *r = core->r;
    int hb = r->st->header_bytes;
    if (size > core->e->max_frame || (hb > 0 && hb < 8 && (uint64_t) size >> (8 * hb) != 0))
        return MU_EMSGSIZE;         /* over max_frame, or what the length prefix can express */
    if (core->clients(core) == 0) { /* only while draining: no client will come for it */
        r->stats.drops++;
        return 0;
    }
    core->broadcast(core, data, size);
    r->stats.out++;
    return 0;
}

/*  Whether sending a message on the link out of r runs user code: the
    keyed link's key function, or the broadcast link's filters (the
    stage's, or the next edge stage's per edge). */
static bool
link_runs_user_code(const mu__runner_t *r)
{
    const mu__stage_t *nx = r->next;
    if (!nx)
        return false;
    if ((nx->link == MU_FLOW_KEYED && nx->key) || nx->filter)
        return true;
    for (int j = 0; nx->kind == MU__ST_EDGE && j < nx->n; j++)
        if (nx->edges[j].filter)
            return true;
    return false;
}

void
mu__edge_startup(mu__edge_core_t *core)
{
    const mu_flow_edge_t *e = core->e;
    core->user_each = e->from_client || link_runs_user_code(core->r);
    core->state = e->arg;
    if (e->startup && e->startup(e->arg, core->r->index, &core->state) != 0) {
        mu__rlog(error, core->r, "startup hook failed");
        _exit(3);
    }
}

int
mu__edge_from_client(mu__edge_core_t *core, const void *data, size_t size)
{
    mu__runner_t *r = core->r;
    if (r->npush > 0) { /* else an outbound-only edge: what clients send goes nowhere */
        r->stats.in++;
        mu_flow_emit_t out = { .runner = r };
        const mu_flow_edge_t *e = core->e;
        int rc = e->from_client ? e->from_client(core->state, data, size, &out)
                                : mu__runner_send(r, data, size);
        if (rc < 0)
            r->stats.errors++;
        /* Without user code (a hook, or the link's key function or
           filters, which may take any time) a message costs well under a
           microsecond (or waits for room, which sends the batches): the
           age of the open batches is checked every 16th, not each time
           (a clock read). */
        unsigned taken = ++core->taken;
        if (core->user_each || (taken & 15) == 0)
            mu__runner_batch_due(r, 0, mu__flow_now_ns());
        if (r->net || (taken & 63) == 0) /* else the loop ticks */
            mu__runner_tick(r);
    }
    return r->exit_req ? MU_EINTR : 0;
}

bool
mu__edge_blocked(const mu__edge_core_t *core)
{
    if (core->clients(core) == 0)
        return !core->r->drain_req;
    return core->all_behind && core->all_behind(core);
}

static int
deliver_clients(mu__runner_t *r, const void *data, size_t size, void *ctx)
{
    mu__edge_core_t *core = ctx;
    if (core->e->from_internal) {
        mu_flow_emit_t out = { .runner = r, .to_clients = 1, .edge = core };
        return core->e->from_internal(core->state, data, size, &out);
    }
    return mu__flow_edge_emit(core, data, size);
}

/*  Multi-host, no client, not draining: one message may be read ahead. */
static bool
peekable(const mu__edge_core_t *core)
{
    const mu__runner_t *r = core->r;
    return r->net && r->pull && !core->has_held && !r->drain_req && core->clients(core) == 0;
}

/*  Multi-host, no client, not draining, a message held: what comes
    behind it is read ahead (mu__net_skim), so that its senders' heartbeats
    are seen and a frozen sender is lost. */
static bool
skimming(const mu__edge_core_t *core)
{
    const mu__runner_t *r = core->r;
    return r->net && r->pull && core->has_held && !r->drain_req && core->clients(core) == 0;
}

bool
mu__edge_wants_upstream(const mu__edge_core_t *core)
{
    return core->r->pull
           && (!mu__edge_blocked(core) || peekable(core) || (skimming(core) && !core->ahead_full));
}

bool
mu__edge_holds(const mu__edge_core_t *core)
{
    return core->has_held || mu__net_ahead(core->r) > 0;
}

int
mu__edge_poll_ms(const mu__edge_core_t *core)
{
    return mu__edge_holds(core) && !mu__edge_blocked(core) ? 0 : MU__FLOW_STATS_MS;
}

/*  Reads one message ahead while no client is there: an end of stream is
    taken, data held. */
static void
peek_upstream(mu__edge_core_t *core)
{
    mu__runner_t *r = core->r;
    if (!core->held_init) {
        zmq_msg_init(&core->held);
        core->held_init = true;
    }
    if (mu__runner_recv(r, &core->held) != 0)
        return;
    const char *b = zmq_msg_data(&core->held);
    if (zmq_msg_size(&core->held) == 1 && b[0] == 'E')
        mu__runner_take(r, b, 1, deliver_clients, core);
    else
        core->has_held = true;
}

/*  Between the records of a framed part: stop while blocked. */
static bool
stop_blocked(void *ctx)
{
    return mu__edge_blocked(ctx);
}

/*  Takes m, or its rest from *off; when the edge became blocked in the
    middle of a framed part, holds it (m moved into core->held) with where
    its rest starts, and returns -1. Else the messages taken. */
static int
take_or_hold(mu__edge_core_t *core, zmq_msg_t *m, size_t off)
{
    int n = mu__runner_take_until(core->r, zmq_msg_data(m), zmq_msg_size(m), &off, stop_blocked,
                                  deliver_clients, core);
    if (off == 0)
        return n;
    if (m != &core->held) {
        if (!core->held_init) {
            zmq_msg_init(&core->held);
            core->held_init = true;
        }
        zmq_msg_move(&core->held, m);
    }
    core->held_off = off;
    core->has_held = true;
    return -1;
}

void
mu__edge_read_upstream(mu__edge_core_t *core)
{
    mu__runner_t *r = core->r;
    if (mu__edge_blocked(core)) {
        if (peekable(core))
            peek_upstream(core);
        else if (skimming(core))
            core->ahead_full = !mu__net_skim(r);
        return;
    }
    core->ahead_full = false;
    if (core->has_held) {
        size_t off = core->held_off;
        core->has_held = false;
        core->held_off = 0;
        if (take_or_hold(core, &core->held, off) < 0)
            return;
    }
    zmq_msg_t m;
    zmq_msg_init(&m);
    for (int n = 0, k; n < UPSTREAM_BATCH && !r->exit_req && !mu__edge_blocked(core)
                       && mu__runner_recv(r, &m) == 0;
         n += k)
        if ((k = take_or_hold(core, &m, 0)) < 0)
            break;
    zmq_msg_close(&m);
    mu__runner_flush_acks(r);
}

bool
mu__edge_finished(const mu__edge_core_t *core)
{
    const mu__runner_t *r = core->r;
    if (r->exit_req)
        return true;
    if (mu__flow_first(r->flow, r->stage))
        return r->drain_req;
    /* A message read ahead is not the end's to drop: it waits for a client
       (or the drain, which takes it, or the exit, which leaves it
       unconsumed upstream), even when its sender is gone. */
    if (mu__edge_holds(core))
        return false;
    return mu__runner_input_done(r);
}
