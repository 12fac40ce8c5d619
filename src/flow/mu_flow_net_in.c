/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_flow_net_in.c — the input half of the multi-host links
    (mu_flow_net.c has the output half and the set-up, and calls this
    file, never the reverse): hellos from
    upstream runners, credit and acknowledgements back, their heartbeats
    and silences, data and end of stream in, and when the input ended. */
#include "flow/mu_flow_int.h"
#include "flow/mu_flow_net.h"
#include "flow/mu_flow_net_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

/* ---- upstream peers ------------------------------------------------------------------- */

int
mu__net_xmit(void *s, const uint8_t *rid, const void *hdr, size_t hlen, const void *data,
             size_t size)
{
    zmq_msg_t m;
    if (zmq_msg_init_size(&m, hlen + size) != 0)
        return MU_ENOMEM;
    memcpy(zmq_msg_data(&m), hdr, hlen);
    if (size)
        memcpy((char *) zmq_msg_data(&m) + hlen, data, size);
    if (zmq_send(s, rid, 5, ZMQ_SNDMORE | ZMQ_DONTWAIT) != 5) {
        int e = errno;
        zmq_msg_close(&m);
        return -e;
    }
    if (zmq_msg_send(&m, s, ZMQ_DONTWAIT) < 0) {
        int e = errno;
        zmq_msg_close(&m);
        return -e;
    }
    return 0;
}

static void
send_credit(mu__net_t *n, peer_t *p, int64_t now)
{
    uint8_t b[C_HDR + 8 * MAX_ACKS] = { 'C' };
    mu__put_le64(b + 1, n->inc);
    mu__put_le64(b + 9, p->inc);
    mu__put_le32(b + 17, WINDOW);
    mu__put_le64(b + 21, p->used);
    b[29] = p->eos ? 1 : 0;
    for (int k = 0; k < p->nacks; k++)
        mu__put_le64(b + C_HDR + 8 * k, p->acks[k]);
    (void) mu__net_xmit(n->in, p->rid, b, C_HDR + 8 * (size_t) p->nacks, NULL, 0);
    p->nacks = 0;
    p->reported = p->used;
    p->last_tx = now;
}

static void
up_seen(mu__runner_t *r, int g, int64_t now)
{
    mu__net_t *n = r->net;
    peer_t *p = &n->up[g];
    p->last_rx = now;
    n->up_alive_at = now;
    if (!p->alive) {
        p->alive = true;
        n->joined++;
        if (p->ever) /* first joins are the normal start: counted only */
            mu__rlog(info, r, "upstream runner %d rejoined", g);
        p->ever = true;
    }
}

/*  A hello of another protocol version from upstream runner g: refused
    (answered 'V' with ours, counted with the refused handshakes); the peer
    is not live (lost if it was: a restart on another release), gets no
    credit, and what it sends is dropped until it says hello with our
    version. Logged at most once a second per peer. */
static void
refuse_version(mu__runner_t *r, int g, unsigned ver, int64_t now)
{
    mu__net_t *n = r->net;
    peer_t *p = &n->up[g];
    uint8_t v[V_LEN] = { 'V' };
    v[1] = (uint8_t) (MU__NET_PROTO & 0xff);
    v[2] = (uint8_t) (MU__NET_PROTO >> 8);
    (void) mu__net_xmit(n->in, p->rid, v, sizeof v, NULL, 0);
    n->auth++;
    if (p->alive) {
        p->alive = false;
        n->lost++;
        mu__rlog(warning, r, "upstream runner %d lost (it restarted on another protocol version)",
                 g);
    }
    if (mu__net_version_refused(p, ver, now))
        mu__rlog(error, r,
                 "upstream runner %d speaks multi-host wire protocol version %u, this runner "
                 "version %u: refused (%llu so far; run the same mutil release on every host)",
                 g, ver, (unsigned) MU__NET_PROTO, (unsigned long long) p->ver_refused);
}

/*  The protocol version a hello of len bytes carries into *ver (1: the
    9-byte hello of the builds before versions; 0 is a version too, refused
    like any other); false when malformed. */
static bool
hello_version(const uint8_t *b, size_t len, unsigned *ver)
{
    *ver = len == 9 ? 1u : len == H_LEN ? (unsigned) (b[9] | b[10] << 8) : 0u;
    return len == 9 || len == H_LEN;
}

/*  A hello from upstream runner g: a new incarnation starts afresh. seen:
    it came now (not read ahead, which saw the peer when it came). */
static void
on_hello(mu__runner_t *r, int g, const uint8_t *b, size_t len, int64_t now, bool seen)
{
    mu__net_t *n = r->net;
    peer_t *p = &n->up[g];
    unsigned ver;
    if (!hello_version(b, len, &ver)) {
        r->stats.errors++;
        return;
    }
    if (ver != MU__NET_PROTO) {
        refuse_version(r, g, ver, now);
        return;
    }
    p->ver_refused_now = false;
    uint64_t inc = mu__get_le64(b + 1);
    if (inc != p->inc) {
        p->inc = inc;
        p->eos = false;
        p->used = p->reported = 0;
        p->nacks = 0;
    }
    if (seen)
        up_seen(r, g, now);
    send_credit(n, p, now);
}

void
mu__net_up_timers(mu__runner_t *r, int64_t now)
{
    mu__net_t *n = r->net;
    int events = 0;
    size_t es = sizeof events;
    /* Silence counts only while our input is read up: a runner busy with
       its backlog sees its peers' heartbeats late. */
    bool idle = zmq_getsockopt(n->in, ZMQ_EVENTS, &events, &es) == 0 && !(events & ZMQ_POLLIN);
    for (int g = 0; g < n->nup; g++) {
        peer_t *p = &n->up[g];
        if (p->alive && idle && now - p->last_rx > r->flow->hb_timeout_ms) {
            p->alive = false;
            n->lost++;
            mu__rlog(warning, r, "upstream runner %d lost (heartbeat timeout)", g);
        }
        if (p->alive && now - p->last_tx >= r->flow->hb_interval_ms)
            send_credit(n, p, now);
        if (p->alive)
            n->up_alive_at = now;
    }
}

/*  Takes the next well-formed message off the input socket into m, its
    upstream runner into *g; -1 when nothing is queued. */
static int
read_in(mu__runner_t *r, zmq_msg_t *m, int *g)
{
    mu__net_t *n = r->net;
    for (;;) {
        uint8_t rid[16];
        int rl = zmq_recv(n->in, rid, sizeof rid, ZMQ_DONTWAIT);
        if (rl < 0)
            return -1;
        int more = 0;
        size_t ms = sizeof more;
        zmq_getsockopt(n->in, ZMQ_RCVMORE, &more, &ms);
        if (!more || zmq_msg_recv(m, n->in, ZMQ_DONTWAIT) < 0)
            continue;
        uint32_t u = rl == 5 ? mu__get_le32(rid + 1) : UINT32_MAX;
        if (rid[0] != 'U' || u >= (uint32_t) n->nup || zmq_msg_size(m) < 1) {
            r->stats.errors++;
            continue;
        }
        *g = (int) u;
        return 0;
    }
}

/*  Moves the oldest message read ahead into m (its upstream runner into
    *g); false when none is. */
static bool
take_ahead(mu__net_t *n, zmq_msg_t *m, int *g)
{
    if (n->ahead_head == n->nahead)
        return false;
    zmq_msg_t *a = n->ahead[n->ahead_head];
    *g = n->ahead_g[n->ahead_head++];
    if (n->ahead_head == n->nahead)
        n->ahead_head = n->nahead = 0;
    zmq_msg_move(m, a);
    zmq_msg_close(a);
    free(a);
    if (--n->up[*g].nahead == 0)
        n->up[*g].ahead_hello_len = 0;
    return true;
}

int
mu__net_recv(mu__runner_t *r, zmq_msg_t *m)
{
    mu__net_t *n = r->net;
    for (;;) {
        int g;
        bool seen = !take_ahead(n, m, &g); /* read ahead: seen when it came */
        if (seen && read_in(r, m, &g) != 0)
            return -1;
        const uint8_t *b = zmq_msg_data(m);
        size_t len = zmq_msg_size(m);
        int64_t now = mu__now_ms();
        if (b[0] == 'H') {
            on_hello(r, g, b, len, now, seen);
            continue;
        }
        if (n->up[g].ver_refused_now) { /* refused for its version: not understood */
            r->stats.errors++;
            continue;
        }
        if (seen)
            up_seen(r, g, now);
        n->cur = g;
        return 0;
    }
}

/*  Room for one more message read ahead (the array grown if need be);
    false at the bound (AHEAD_PER_PEER times the upstream runners, in
    all) or without memory. */
static bool
ahead_room(mu__net_t *n)
{
    if (n->nahead - n->ahead_head >= (size_t) n->nup * AHEAD_PER_PEER)
        return false;
    if (n->nahead < n->ahead_cap)
        return true;
    if (n->ahead_head > 0) { /* the taken ones' slots first */
        size_t k = n->nahead - n->ahead_head;
        memmove(n->ahead, n->ahead + n->ahead_head, k * sizeof *n->ahead);
        memmove(n->ahead_g, n->ahead_g + n->ahead_head, k * sizeof *n->ahead_g);
        n->ahead_head = 0;
        n->nahead = k;
        return true;
    }
    size_t cap = n->ahead_cap ? 2 * n->ahead_cap : 16;
    zmq_msg_t **a = realloc(n->ahead, cap * sizeof *a);
    if (a)
        n->ahead = a;
    int *ag = a ? realloc(n->ahead_g, cap * sizeof *ag) : NULL;
    if (!ag)
        return false;
    n->ahead_g = ag;
    n->ahead_cap = cap;
    return true;
}

bool
mu__net_skim(mu__runner_t *r)
{
    mu__net_t *n = r->net;
    for (;;) {
        zmq_msg_t *m = ahead_room(n) ? malloc(sizeof *m) : NULL;
        if (!m)
            return false;
        zmq_msg_init(m);
        int g;
        if (read_in(r, m, &g) != 0) {
            zmq_msg_close(m);
            free(m);
            return true;
        }
        peer_t *p = &n->up[g];
        const uint8_t *b = zmq_msg_data(m);
        size_t len = zmq_msg_size(m);
        bool hello = b[0] == 'H';
        unsigned ver;
        bool ours = hello && hello_version(b, len, &ver) && ver == MU__NET_PROTO;
        /* Seen now, as mu__net_recv would see it (the silence of a peer
           counts from here); handled in order when received. */
        if (hello ? ours : !p->ver_refused_now)
            up_seen(r, g, mu__now_ms());
        if (hello && p->ahead_hello_len == len && memcmp(p->ahead_hello, b, len) == 0) {
            zmq_msg_close(m); /* the same hello again, nothing between: no news */
            free(m);
            continue;
        }
        p->ahead_hello_len = hello && len <= H_LEN ? (uint8_t) len : 0;
        if (p->ahead_hello_len)
            memcpy(p->ahead_hello, b, len);
        p->nahead++;
        n->ahead_g[n->nahead] = g;
        n->ahead[n->nahead++] = m;
    }
}

void
mu__net_drop_ahead(mu__net_t *n)
{
    for (size_t k = n->ahead_head; k < n->nahead; k++) {
        zmq_msg_close(n->ahead[k]);
        free(n->ahead[k]);
    }
    free(n->ahead);
    free(n->ahead_g);
    n->ahead = NULL;
    n->ahead_g = NULL;
    n->ahead_head = n->nahead = n->ahead_cap = 0;
    for (int g = 0; g < n->nup; g++)
        n->up[g].nahead = n->up[g].ahead_hello_len = 0;
}

size_t
mu__net_ahead(const mu__runner_t *r)
{
    return r->net ? r->net->nahead - r->net->ahead_head : 0;
}

int
mu__net_open(mu__runner_t *r, const void *msg, size_t size, const void **data_p, size_t *size_p)
{
    mu__net_t *n = r->net;
    const uint8_t *b = msg;
    peer_t *p = &n->up[n->cur];
    n->cur_rel = false;
    if (size >= 1 && b[0] == 'M') {
        *data_p = b + 1;
        *size_p = size - 1;
        return 1;
    }
    if (size >= R_HDR && b[0] == 'R') {
        n->cur_rel = true;
        n->cur_id = mu__get_le64(b + 1);
        n->cur_flags = b[9] & (R_REDONE | R_DERIVED);
        n->cur_origin = mu__get_le64(b + 10);
        n->deriving = true;
        n->emits = 0;
        /* A copy (flagged) of an origin this runner handled already: the
           window tells, within its bound (doc/flow.md). Handled again
           all the same: at-least-once, the handler is idempotent. */
        if (n->seen && mu__seen_add(n->seen, n->cur_origin) && n->cur_flags)
            n->duplicates++;
        *data_p = b + R_HDR;
        *size_p = size - R_HDR;
        return 1;
    }
    if (size == 1 && b[0] == 'E') {
        p->eos = true;
        n->any_eos = true;
        send_credit(n, p, mu__now_ms());
        return 0;
    }
    return -1;
}

void
mu__net_handled(mu__runner_t *r)
{
    mu__net_t *n = r->net;
    peer_t *p = &n->up[n->cur];
    n->deriving = false;
    p->used++;
    if (n->cur_rel && !r->exit_req)
        p->acks[p->nacks++] = n->cur_id;
    if (p->nacks == MAX_ACKS || p->used - p->reported >= WINDOW / 2)
        send_credit(n, p, mu__now_ms());
}

void
mu__net_flush(mu__runner_t *r)
{
    mu__net_t *n = r->net;
    int64_t now = mu__now_ms();
    for (int g = 0; g < n->nup; g++)
        if (n->up[g].nacks > 0 || n->up[g].used != n->up[g].reported)
            send_credit(n, &n->up[g], now);
}

void
mu__net_flush_final(mu__runner_t *r)
{
    mu__net_t *n = r->net;
    int64_t now = mu__now_ms();
    for (int g = 0; g < n->nup; g++)
        if (n->up[g].eos || n->up[g].nacks > 0 || n->up[g].used != n->up[g].reported)
            send_credit(n, &n->up[g], now);
}

bool
mu__net_input_done(mu__runner_t *r)
{
    mu__net_t *n = r->net;
    if (n->nup == 0)
        return false;
    /* Waiting mode (stage deadline without fail): a lost upstream runner
       has not ended, it may come back; only its end of stream ends it. */
    bool wait = !r->flow->stage_deadline_fail;
    for (int g = 0; g < n->nup; g++)
        if (!n->up[g].eos && (n->up[g].alive || (wait && n->up[g].ever)))
            return false;
    if (n->any_eos)
        return true;
    /* Nothing ended and nobody is there: fed by nobody for the deadline. */
    return mu__now_ms() - n->up_alive_at > r->flow->stage_deadline_ms;
}
