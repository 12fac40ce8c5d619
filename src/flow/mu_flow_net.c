/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_flow_net.c — the links of a multi-host flow (mu_flow_add_host).

    Every runner with an input binds a ROUTER on its host's address (its
    port: mu__flow_port_of); every runner with an output has one ROUTER
    connected to every runner of the next stage on every host, which it
    addresses by the routing id 'D' + u32 global index (ZMQ_CONNECT_ROUTING_ID);
    it is known there as 'U' + u32 its own global index. Upstream sends
    'H' (hello, heartbeat) until a downstream runner answers with 'C'
    (credit: its incarnation, ours, the window and how many of our
    messages it consumed, acknowledged ids); it then sends data while
    window - (sent - consumed) > 0: balanced to the live peer with the most
    credit, keyed by rendezvous hashing over the live peers, or to every
    live peer (broadcast). Heartbeats both ways (each side sends after an
    interval without traffic); a peer silent past the timeout, whose
    connection dropped (socket monitor) or whose incarnation changed is
    lost: on an at-least-once link its unacknowledged messages go to the
    other peers. Wire layouts: doc/wire.md; design: doc/flow.md. */
#include "flow/mu_flow_int.h"
#include "flow/mu_flow_net.h"
#include "flow/mu_flow_net_int.h"
#include "flow/mu_flow_hosts.h"
#include "flow/mu_flow_curve.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

/* ---- helpers ------------------------------------------------------------------ */

static void
set_rid(uint8_t *rid, char kind, int g)
{
    rid[0] = (uint8_t) kind;
    mu__put_le32(rid + 1, (uint32_t) g);
}


static int64_t
credit(const peer_t *p)
{
    if (!p->alive)
        return 0;
    int64_t out = (int64_t) (p->sent - p->consumed);
    return out < 0 ? WINDOW : WINDOW - out;
}

static int
live_down(const mu__net_t *n)
{
    int live = 0;
    for (int j = 0; j < n->ndown; j++)
        live += n->down[j].alive;
    return live;
}

/* ---- downstream peers: loss, join ------------------------------------------------- */

static void
down_lost(mu__runner_t *r, int j, const char *why)
{
    mu__net_t *n = r->net;
    peer_t *p = &n->down[j];
    if (p->alive && p->eos_acked) { /* it ended after our end of stream */
        p->alive = false;
        return;
    }
    if (p->alive) {
        p->alive = false;
        n->lost++;
        mu__rlog(warning, r, "downstream runner %s/%d on host '%s' lost (%s)", r->next->name, j,
                 r->flow->hosts[p->host].name, why);
        if (!n->ent && p->sent > p->consumed)
            n->drops += p->sent - p->consumed;
        if (live_down(n) == 0)
            n->none_down_since = mu__now_ms();
    }
    for (int k = 0; n->ent && k < MU__REL_WINDOW; k++)
        if (n->ent[k].data && n->ent[k].peer == j) {
            n->ent[k].peer = REDO;
            n->nredo++;
            n->redo_note = true;
        }
    p->sent = p->consumed; /* what it did not consume is gone with the connection */
    p->eos_sent = p->eos_acked = false;
}

static void
down_join(mu__runner_t *r, int j, uint64_t inc)
{
    mu__net_t *n = r->net;
    peer_t *p = &n->down[j];
    if (p->inc != inc) {
        if (p->inc != 0)
            down_lost(r, j, "restarted");
        p->inc = inc;
        p->sent = p->consumed = 0;
    }
    if (!p->alive) {
        p->alive = true;
        n->joined++;
        if (p->ever) /* first joins are the normal start: counted only */
            mu__rlog(info, r, "downstream runner %s/%d on host '%s' rejoined", r->next->name, j,
                     r->flow->hosts[p->host].name);
        p->ever = true;
    }
}

/* ---- at-least-once: the sender's copies ------------------------------------------- */

static void
remember_redone(mu__net_t *n, uint64_t id)
{
    n->redone[n->nredone++ % REDONE] = id;
}

static void
ack(mu__net_t *n, uint64_t id)
{
    entry_t *e = &n->ent[id % MU__REL_WINDOW];
    if (e->data && e->id == id) {
        if (e->peer == REDO)
            n->nredo--;
        if (e->redelivered)
            remember_redone(n, id);
        free(e->data);
        e->data = NULL;
        n->unacked--;
        return;
    }
    int have = n->nredone < REDONE ? n->nredone : REDONE;
    for (int k = 0; k < have; k++)
        if (n->redone[k] == id) {
            n->duplicates++; /* handled by two runners */
            n->redone[k] = 0;
            return;
        }
}

/*  Picks the live downstream peer with the most credit; -1 when none has. */
static int
pick_balanced(mu__net_t *n)
{
    int best = -1;
    int64_t best_c = 0;
    for (int k = 0; k < n->ndown; k++) {
        int j = (n->rr + k) % n->ndown;
        int64_t c = credit(&n->down[j]);
        if (c > best_c) {
            best = j;
            best_c = c;
        }
    }
    if (best >= 0)
        n->rr = best + 1;
    return best;
}

/*  Sends (or sends again) entry e to peer j. 0, or -errno. */
static int
send_entry(mu__runner_t *r, entry_t *e, int j)
{
    mu__net_t *n = r->net;
    peer_t *p = &n->down[j];
    int rc = mu__net_xmit(n->out, p->rid, e->data, e->size, NULL, 0);
    if (rc == 0) {
        p->sent++;
        p->last_tx = mu__now_ms();
        e->peer = j;
    } else if (rc == -EHOSTUNREACH)
        down_lost(r, j, "connection gone");
    return rc;
}

/*  Sends the lost peers' messages again where there is credit. */
static void
redeliver(mu__runner_t *r)
{
    mu__net_t *n = r->net;
    for (int k = 0; n->nredo > 0 && k < MU__REL_WINDOW; k++) {
        entry_t *e = &n->ent[k];
        if (!e->data || e->peer != REDO) /* not NEW: send_reliable sends it */
            continue;
        int j = pick_balanced(n);
        if (j < 0)
            return;
        uint8_t *hdr = e->data;
        hdr[9] |= R_REDONE;
        if (send_entry(r, e, j) == 0) {
            n->nredo--;
            e->redelivered = true;
            n->redelivered++;
            if (n->redo_note) { /* once per loss: an event for operators (and tests) */
                n->redo_note = false;
                mu__rlog(info, r,
                         "redelivering the unacknowledged messages of lost runners "
                         "(%d more to go)",
                         n->nredo);
            }
        }
    }
}

/* ---- heartbeats and messages from downstream --------------------------------------- */

static void
send_hello(mu__net_t *n, peer_t *p, int64_t now)
{
    uint8_t h[H_LEN] = { 'H' };
    mu__put_le64(h + 1, n->inc);
    h[9] = (uint8_t) (MU__NET_PROTO & 0xff);
    h[10] = (uint8_t) (MU__NET_PROTO >> 8);
    (void) mu__net_xmit(n->out, p->rid, h, sizeof h, NULL, 0);
    p->last_tx = now;
}

/*  A 'C' from downstream runner j. */
static void
on_credit(mu__runner_t *r, int j, const uint8_t *b, size_t len)
{
    mu__net_t *n = r->net;
    if (len < C_HDR || (len - C_HDR) % 8 != 0 || mu__get_le64(b + 9) != n->inc) {
        n->errors += len < C_HDR || (len - C_HDR) % 8 != 0;
        return; /* stale: for an earlier incarnation of ours */
    }
    peer_t *p = &n->down[j];
    p->last_rx = mu__now_ms();
    p->ver_refused_now = false;
    down_join(r, j, mu__get_le64(b + 1));
    uint64_t consumed = mu__get_le64(b + 21);
    if (consumed > p->consumed)
        p->consumed = consumed;
    if ((b[29] & 1) && p->eos_sent)
        p->eos_acked = true;
    for (size_t k = C_HDR; n->ent && k < len; k += 8)
        ack(n, mu__get_le64(b + k));
}

/*  A 'V' from downstream runner j: it refused our hello, speaking
    another protocol version. Counted with the refused handshakes, logged
    at most once a second per peer; the peer is not live (lost if it was:
    it restarted on another release; the stage deadline applies when no
    runner of the stage is) and is asked again at the heartbeat interval. */
static void
on_version(mu__runner_t *r, int j, const uint8_t *b, size_t len)
{
    mu__net_t *n = r->net;
    peer_t *p = &n->down[j];
    if (len != V_LEN) {
        n->errors++;
        return;
    }
    unsigned ver = (unsigned) (b[1] | b[2] << 8);
    n->auth++;
    if (p->alive)
        down_lost(r, j, "it speaks another protocol version");
    if (mu__net_version_refused(p, ver, mu__now_ms()))
        mu__rlog(error, r,
                 "downstream runner %s/%d on host '%s' speaks multi-host wire protocol version "
                 "%u, this runner version %u: refused (%llu so far; run the same mutil release "
                 "on every host)",
                 r->next->name, j, r->flow->hosts[p->host].name, p->ver, (unsigned) MU__NET_PROTO,
                 (unsigned long long) p->ver_refused);
}

static void
read_out(mu__runner_t *r)
{
    mu__net_t *n = r->net;
    uint8_t rid[16], buf[C_HDR + 8 * MAX_ACKS];
    for (;;) {
        int rl = zmq_recv(n->out, rid, sizeof rid, ZMQ_DONTWAIT);
        if (rl < 0)
            return;
        int more = 0;
        size_t ms = sizeof more;
        zmq_getsockopt(n->out, ZMQ_RCVMORE, &more, &ms);
        if (!more)
            continue;
        int len = zmq_recv(n->out, buf, sizeof buf, ZMQ_DONTWAIT);
        uint32_t g = rl == 5 ? mu__get_le32(rid + 1) : UINT32_MAX;
        if (len < 1 || len > (int) sizeof buf || rid[0] != 'D' || g >= (uint32_t) n->ndown
            || (buf[0] != 'C' && buf[0] != 'V')) {
            n->errors++;
            continue;
        }
        if (buf[0] == 'V')
            on_version(r, (int) g, buf, (size_t) len);
        else
            on_credit(r, (int) g, buf, (size_t) len);
    }
}

static bool
secure(const mu_flow_t *f)
{
    return f->curve || f->hosts[0].has_key;
}

/*  Reads one monitor event without waiting: its 6-byte head into ev and the
    endpoint address, NUL-terminated (cut to cap - 1 bytes), into addr.
    Returns false when no event is waiting. */
static bool
next_monitor_event(void *mon, uint8_t ev[6], char *addr, size_t cap)
{
    if (zmq_recv(mon, ev, 6, ZMQ_DONTWAIT) < 0)
        return false;
    int len = zmq_recv(mon, addr, cap - 1, 0);
    addr[len < 0 ? 0 : (len > (int) cap - 1 ? (int) cap - 1 : len)] = '\0';
    return true;
}

/*  Handshakes our input refused (a sender with wrong keys, or keys we
    do not allow: those the ZAP handler counts, mu__curve_refused). */
static void
read_in_monitor(mu__runner_t *r)
{
    mu__net_t *n = r->net;
    uint8_t ev[6];
    char addr[128];
    while (next_monitor_event(n->in_mon, ev, addr, sizeof addr)) {
        n->auth++;
        if (++n->in_refused == 1 || n->in_refused % 100 == 0)
            mu__rlog(warning, r,
                     "CURVE handshake refused on %s (%llu so far): a sender with wrong keys?", addr,
                     (unsigned long long) n->in_refused);
    }
}

static void
read_monitor(mu__runner_t *r)
{
    mu__net_t *n = r->net;
    uint8_t ev[6];
    char addr[128];
    while (next_monitor_event(n->mon, ev, addr, sizeof addr)) {
        uint16_t event = (uint16_t) (ev[0] | ev[1] << 8);
        if (getenv("MU_FLOW_NET_DEBUG"))
            mu__rlog(info, r, "monitor event %u on %s", event, addr);
        for (int j = 0; j < n->ndown; j++) {
            peer_t *p = &n->down[j];
            if (strcmp(addr, p->endpoint) != 0)
                continue;
            if (event == ZMQ_EVENT_CONNECTED)
                p->shaking = true;
            if (event == ZMQ_EVENT_HANDSHAKE_SUCCEEDED)
                p->shaking = false;
            /* A connection closed before its handshake completed: the
               server refused us (wrong keys), or we refused it. */
            bool refused = (event == ZMQ_EVENT_DISCONNECTED && p->shaking)
                           || event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH
                           || event == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL
                           || event == ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL;
            if (refused && p->shaking) {
                p->shaking = false;
                n->auth++;
                if (++p->refused == 1 || p->refused % 100 == 0)
                    mu__rlog(warning, r,
                             "CURVE handshake with %s (host '%s') failed (%llu so far): wrong "
                             "keys on one side?",
                             addr, r->flow->hosts[p->host].name, (unsigned long long) p->refused);
            }
            if (event == ZMQ_EVENT_HANDSHAKE_SUCCEEDED
                || (event == ZMQ_EVENT_CONNECTED && !secure(r->flow)))
                p->connected = true;
            if (event == ZMQ_EVENT_DISCONNECTED) {
                read_out(r); /* what it sent before it closed comes first */
                p->connected = false;
                /* Not an acknowledgement of our end of stream, even after
                   it: a runner closes its sockets with a linger on exit
                   (mu__net_close), so its acknowledgement came first. */
                down_lost(r, j, "connection closed");
            } else if (event == ZMQ_EVENT_HANDSHAKE_SUCCEEDED
                       || (event == ZMQ_EVENT_CONNECTED && !secure(r->flow)))
                send_hello(n, p, mu__now_ms());
        }
    }
}

static void
down_timers(mu__runner_t *r, int64_t now)
{
    mu__net_t *n = r->net;
    const mu_flow_t *f = r->flow;
    for (int j = 0; j < n->ndown; j++) {
        peer_t *p = &n->down[j];
        if (p->alive && now - p->last_rx > f->hb_timeout_ms)
            down_lost(r, j, "heartbeat timeout");
        int every = p->alive || p->ver_refused_now ? f->hb_interval_ms : PROBE_MS;
        if (now - p->last_tx >= every)
            send_hello(n, p, now);
    }
}


void
mu__net_service(mu__runner_t *r)
{
    mu__net_t *n = r->net;
    if (!n)
        return;
    if (n->out) {
        read_out(r);
        read_monitor(r);
    }
    int64_t now = mu__now_ms();
    if (now - n->last_scan < 10)
        return;
    n->last_scan = now;
    if (n->out) {
        down_timers(r, now);
        if (n->nredo > 0)
            redeliver(r);
    }
    if (n->in)
        mu__net_up_timers(r, now);
    if (n->in_mon)
        read_in_monitor(r);
}

/* ---- sending ------------------------------------------------------------------------- */

/*  No credit anywhere (or at the peer wanted): waits a little, servicing;
    reports a stage without live runner past the deadline. */
static int
wait_out(mu__runner_t *r)
{
    mu__net_t *n = r->net;
    const mu_flow_t *f = r->flow;
    int64_t now = mu__now_ms();
    if (live_down(n) == 0 && now - n->none_down_since > f->stage_deadline_ms) {
        if (f->stage_deadline_fail && !n->failed_sent) {
            char msg[1 + sizeof(int)] = { 'F' };
            int s = r->stage + 1;
            memcpy(msg + 1, &s, sizeof s);
            (void) send(r->ctl, msg, sizeof msg, MSG_NOSIGNAL);
            n->failed_sent = true;
        } else if (!f->stage_deadline_fail && now - n->last_warn >= WARN_MS) {
            n->last_warn = now;
            mu__rlog(warning, r, "stage '%s' has had no live runner on any host for %lld ms",
                     r->next->name, (long long) (now - n->none_down_since));
        }
    }
    zmq_pollitem_t items[3] = {
        { .socket = n->out, .events = ZMQ_POLLIN },
        { .fd = r->ctl, .events = ZMQ_POLLIN },
        { .socket = n->mon, .events = ZMQ_POLLIN },
    };
    int ms = f->hb_interval_ms / 2 < PROBE_MS ? f->hb_interval_ms / 2 : PROBE_MS;
    zmq_poll(items, 3, ms < 5 ? 5 : ms);
    return r->service(r);
}

static uint64_t
mix(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb3f97a4fe63bULL;
    x ^= x >> 33;
    return x;
}

/*  Rendezvous: the live peer with the highest score for key; -1: none. */
static int
pick_keyed(const mu__net_t *n, uint64_t key)
{
    int best = -1;
    uint64_t best_s = 0;
    for (int j = 0; j < n->ndown; j++) {
        if (!n->down[j].alive)
            continue;
        uint64_t s = mix(key ^ mix(((uint64_t) (uint32_t) n->down[j].host << 32) | (uint32_t) j));
        if (best < 0 || s > best_s) {
            best = j;
            best_s = s;
        }
    }
    return best;
}

static bool
accepts(const mu__runner_t *r, int j, const void *data, size_t size)
{
    const mu__stage_t *nx = r->next;
    if (nx->filter)
        return nx->filter(nx->link_arg, j, data, size);
    return true;
}

/*  Sends one message to downstream runner j: 0 (sent, counted),
    -EHOSTUNREACH (its connection is gone: declared lost), -EAGAIN (no room
    now), or another negative code. */
static int
xmit_to(mu__runner_t *r, int j, const void *data, size_t size)
{
    mu__net_t *n = r->net;
    uint8_t t = 'M';
    int rc = mu__net_xmit(n->out, n->down[j].rid, &t, 1, data, size);
    if (rc == 0) {
        n->down[j].sent++;
        n->down[j].last_tx = mu__now_ms();
    } else if (rc == -EHOSTUNREACH)
        down_lost(r, j, "connection gone");
    return rc;
}

/*  Sends 'M' + data to peer j once it has credit (or is lost: dropped). */
static int
send_plain_to(mu__runner_t *r, int j, const void *data, size_t size, bool keyed, uint64_t key)
{
    mu__net_t *n = r->net;
    for (;;) {
        if (keyed) {
            j = pick_keyed(n, key);
            if (j < 0 && r->st->drop) {
                n->drops++;
                return 0;
            }
        }
        if (j >= 0 && !keyed && !n->down[j].alive)
            return 0; /* broadcast: gone */
        if (j >= 0 && credit(&n->down[j]) > 0) {
            int rc = xmit_to(r, j, data, size);
            if (rc == 0 || (rc != -EAGAIN && rc != -EHOSTUNREACH))
                return rc;
        }
        if (r->st->drop && j >= 0) {
            n->drops++;
            return 0;
        }
        int rc = wait_out(r);
        if (rc != 0)
            return rc;
    }
}

/*  The origin and flags of a new 'R' message (header h): emitted while
    handling an at-least-once message, its origin derives from that
    message's origin and its rank among what the handler emitted, so a
    runner that handles a redelivered copy emits the same origins as the
    lost runner did (a stage further down sees the copies); otherwise its
    own id. */
static void
origin(mu__net_t *n, uint64_t id, uint8_t *h)
{
    uint64_t o = id;
    h[9] = 0;
    if (n->deriving) {
        o = mix(n->cur_origin ^ mix(0x6f726967696e0000ULL + ++n->emits));
        h[9] = n->cur_flags ? R_DERIVED : 0;
    }
    mu__put_le64(h + 10, o);
}

static int
send_reliable(mu__runner_t *r, const void *data, size_t size)
{
    mu__net_t *n = r->net;
    entry_t *e = &n->ent[n->seq % MU__REL_WINDOW];
    while (e->data) { /* the window is full */
        int rc = wait_out(r);
        if (rc != 0)
            return rc;
    }
    e->data = malloc(R_HDR + size);
    if (!e->data)
        return MU_ENOMEM;
    uint8_t *h = e->data;
    h[0] = 'R';
    e->id = ((n->inc & 0xffffffffu) << 32) | (n->seq & 0xffffffffu);
    mu__put_le64(h + 1, e->id);
    origin(n, e->id, h);
    if (size)
        memcpy(h + R_HDR, data, size);
    e->size = R_HDR + size;
    e->peer = NEW;
    e->redelivered = false;
    n->seq++;
    n->unacked++;
    for (;;) {
        int j = pick_balanced(n);
        if (j >= 0 && send_entry(r, e, j) == 0)
            return 0;
        int rc = wait_out(r);
        if (rc != 0) {
            e->peer = REDO; /* left for a later redelivery pass, never lost */
            n->nredo++;
            return rc;
        }
    }
}

/*  Before the first message: every listed downstream runner joined, or
    the heartbeat timeout passed since the start (hosts that start later
    join later), so that a flow does not start on whoever was quickest. */
static int
await_joins(mu__runner_t *r)
{
    mu__net_t *n = r->net;
    while (!n->joins_done) {
        n->joins_done = live_down(n) == n->ndown
                        || mu__now_ms() - n->started_ms > r->flow->hb_timeout_ms;
        int rc = n->joins_done ? 0 : wait_out(r);
        if (rc != 0)
            return rc;
    }
    return 0;
}

static int
send_one(mu__runner_t *r, const void *data, size_t size)
{
    mu__net_t *n = r->net;
    mu__net_service(r);
    int rc = await_joins(r);
    if (rc != 0)
        return rc;
    if (n->ent)
        return send_reliable(r, data, size);
    if (r->next->link == MU_FLOW_BROADCAST) {
        for (int j = 0; j < n->ndown; j++)
            if (n->down[j].alive && accepts(r, j, data, size)) {
                rc = send_plain_to(r, j, data, size, false, 0);
                if (rc != 0)
                    return rc;
            }
        return 0;
    }
    if (r->next->link == MU_FLOW_KEYED) {
        uint64_t key = r->next->key(r->next->link_arg, data, size);
        return send_plain_to(r, -1, data, size, true, key);
    }
    for (;;) {
        int j = pick_balanced(n);
        if (j >= 0) {
            rc = xmit_to(r, j, data, size);
            if (rc == 0 || (rc != -EAGAIN && rc != -EHOSTUNREACH))
                return rc;
            continue;
        }
        if (r->st->drop) {
            n->drops++;
            return 0;
        }
        rc = wait_out(r);
        if (rc != 0)
            return rc;
    }
}

int
mu__net_send(mu__runner_t *r, const void *data, size_t size)
{
    int64_t since = mu__net_take(r); /* from user code: the links are the heartbeat thread's */
    int rc = send_one(r, data, size);
    mu__net_give(r, since);
    return rc;
}

int
mu__net_finish_out(mu__runner_t *r)
{
    mu__net_t *n = r->net;
    if (!n->out)
        return 0;
    while (n->unacked > 0) {
        int rc = wait_out(r);
        if (rc != 0)
            return rc;
    }
    int64_t t0 = mu__now_ms();
    for (;;) {
        /* Done when every live runner acknowledged our end of stream (and
           one did): a runner connected but not yet live (its hello
           crossed our end) gets it too, unless it stays silent. */
        bool all = true, young = mu__now_ms() - t0 < r->flow->hb_timeout_ms;
        bool wait = !r->flow->stage_deadline_fail; /* a lost runner may come back */
        int acked = 0;
        for (int j = 0; j < n->ndown; j++) {
            peer_t *p = &n->down[j];
            if (p->eos_acked) {
                acked++;
                continue;
            }
            if (!p->alive) {
                /* Waiting mode: one that was live gets our end of stream
                   when it comes back (its input waits for it). */
                all = all && !(p->connected && young) && !(wait && p->ever);
                continue;
            }
            if (!p->eos_sent) {
                uint8_t t = 'E';
                p->eos_sent = mu__net_xmit(n->out, p->rid, &t, 1, NULL, 0) == 0;
            }
            all = false;
        }
        if (all && acked > 0)
            return 0;
        int rc = wait_out(r);
        if (rc != 0)
            return rc;
    }
}

void
mu__net_linger(mu__runner_t *r)
{
    mu__net_t *n = r->net;
    if (!n)
        return;
    mu__net_service(r);
    for (int j = 0; n->out && j < n->ndown; j++) {
        peer_t *p = &n->down[j];
        if (p->alive && !p->eos_sent) {
            uint8_t t = 'E';
            p->eos_sent = mu__net_xmit(n->out, p->rid, &t, 1, NULL, 0) == 0;
        }
    }
}

void *
mu__net_out_socket(const mu__runner_t *r)
{
    return r->net ? r->net->out : NULL;
}

void
mu__net_stats(mu__runner_t *r)
{
    mu__net_t *n = r->net;
    if (!n)
        return;
    r->stats.duplicates = n->duplicates;
    r->stats.peers_lost = n->lost;
    r->stats.peers_joined = n->joined;
    r->stats.auth_failures += n->auth;
    n->auth = 0;
    r->stats.redelivered = n->redelivered;
    r->stats.drops += n->drops;
    n->drops = 0;
    r->stats.errors += n->errors;
    n->errors = 0;
    r->stats.live_down = n->out ? live_down(n) : -1;
}

/* ---- set-up ----------------------------------------------------------------------------- */

static void *
make(mu__runner_t *r, int type)
{
    void *s = zmq_socket(r->zctx, type);
    if (!s) {
        mu__rlog(error, r, "zmq_socket: %s", zmq_strerror(errno));
        _exit(2);
    }
    const mu_flow_t *f = r->flow;
    int hwm = HWM, one = 1, zero = 0, ivl = 100;
    int hb = f->hb_interval_ms, hbt = f->hb_timeout_ms;
    zmq_setsockopt(s, ZMQ_SNDHWM, &hwm, sizeof hwm);
    zmq_setsockopt(s, ZMQ_RCVHWM, &hwm, sizeof hwm);
    zmq_setsockopt(s, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt(s, ZMQ_ROUTER_MANDATORY, &one, sizeof one);
    zmq_setsockopt(s, ZMQ_ROUTER_HANDOVER, &one, sizeof one);
    zmq_setsockopt(s, ZMQ_RECONNECT_IVL, &ivl, sizeof ivl);
    zmq_setsockopt(s, ZMQ_RECONNECT_IVL_MAX, &hb, sizeof hb);
    zmq_setsockopt(s, ZMQ_CONNECT_TIMEOUT, &hb, sizeof hb);
    zmq_setsockopt(s, ZMQ_HEARTBEAT_IVL, &hb, sizeof hb);
    zmq_setsockopt(s, ZMQ_HEARTBEAT_TIMEOUT, &hbt, sizeof hbt);
    return s;
}

static void
fail_setup(mu__runner_t *r, const char *what, const char *ep)
{
    mu__rlog(error, r, "%s %s: %s", what, ep, zmq_strerror(errno));
    _exit(2);
}

static void
setup_in(mu__runner_t *r, mu__net_t *n)
{
    mu_flow_t *f = r->flow;
    const mu__stage_t *prev = &f->stages[r->stage - 1];
    n->nup = prev->gn;
    n->up = calloc((size_t) n->nup, sizeof *n->up);
    if (!n->up)
        _exit(2);
    for (int g = 0; g < n->nup; g++)
        set_rid(n->up[g].rid, 'U', g);
    n->in = make(r, ZMQ_ROUTER);
    char ep[160];
    int h = f->self_host;
    snprintf(ep, sizeof ep, "tcp://%s:%d", f->hosts[h].address,
             mu__flow_port_of(f, r->stage, h, r->index));
    if (secure(f) && mu__curve_server(r, n->in) != 0)
        fail_setup(r, "cannot set up CURVE on", ep);
    char mon[96];
    snprintf(mon, sizeof mon, "inproc://mu-flow-net-in-%d", (int) getpid());
    n->in_mon = secure(f) ? zmq_socket(r->zctx, ZMQ_PAIR) : NULL;
    if (n->in_mon
        && (zmq_socket_monitor(n->in, mon,
                               ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL
                                   | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL)
                != 0
            || zmq_connect(n->in_mon, mon) != 0))
        fail_setup(r, "cannot monitor", mon);
    if (zmq_bind(n->in, ep) != 0)
        fail_setup(r, "cannot bind", ep);
    r->pull = n->in;
    r->n_up = n->nup;
}

static void
setup_out(mu__runner_t *r, mu__net_t *n)
{
    mu_flow_t *f = r->flow;
    int s = r->stage + 1;
    n->ndown = f->stages[s].gn;
    n->down = calloc((size_t) n->ndown, sizeof *n->down);
    if (!n->down)
        _exit(2);
    n->out = make(r, ZMQ_ROUTER);
    uint8_t me[5];
    set_rid(me, 'U', r->st->gfirst + r->index);
    zmq_setsockopt(n->out, ZMQ_ROUTING_ID, me, sizeof me);
    char mon[96];
    snprintf(mon, sizeof mon, "inproc://mu-flow-net-mon-%d", (int) getpid());
    int ev = ZMQ_EVENT_DISCONNECTED | ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_CONNECTED
             | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL
             | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL;
    n->mon = zmq_socket(r->zctx, ZMQ_PAIR);
    if (!n->mon || zmq_socket_monitor(n->out, mon, ev) != 0 || zmq_connect(n->mon, mon) != 0)
        fail_setup(r, "cannot monitor", mon);
    int g = 0;
    for (int h = 0; h < f->nhosts; h++)
        for (int k = 0; k < f->stages[s].on_host[h]; k++, g++) {
            peer_t *p = &n->down[g];
            p->host = h;
            set_rid(p->rid, 'D', g);
            snprintf(p->endpoint, sizeof p->endpoint, "tcp://%s:%d", f->hosts[h].address,
                     mu__flow_port_of(f, s, h, k));
            zmq_setsockopt(n->out, ZMQ_CONNECT_ROUTING_ID, p->rid, sizeof p->rid);
            const uint8_t *server = f->curve ? f->curve_server_pub : f->hosts[h].pub;
            if (secure(f) && mu__curve_client_to(r, n->out, server) != 0)
                fail_setup(r, "cannot set up CURVE towards", p->endpoint);
            if (zmq_connect(n->out, p->endpoint) != 0)
                fail_setup(r, "cannot connect", p->endpoint);
        }
    r->npush = n->ndown;
    if (f->stages[s].reliable) {
        n->ent = calloc(MU__REL_WINDOW, sizeof *n->ent);
        if (!n->ent)
            _exit(2);
    }
}

void
mu__net_setup(mu__runner_t *r)
{
    mu__net_t *n = calloc(1, sizeof *n);
    if (!n)
        _exit(2);
    r->net = n;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    n->inc = mix(((uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec)
                 ^ (uint64_t) getpid());
    if (n->inc == 0)
        n->inc = 1;
    n->cur = 0;
    int64_t now = mu__now_ms();
    n->up_alive_at = n->none_down_since = n->started_ms = now;
    if (r->stage > 0)
        setup_in(r, n);
    if (r->stage > 0 && r->st->reliable && !(n->seen = mu__seen_new()))
        _exit(2);
    if (r->stage + 1 < r->flow->nstages) {
        r->next = &r->flow->stages[r->stage + 1];
        setup_out(r, n);
    }
    mu__net_hb_start(r, mu__net_service);
}
