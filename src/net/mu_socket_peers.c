/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_socket_peers.c — the peer table of a smart socket: identities,
    join and leave, JOIN/LEAVE events, heartbeats, control messages. */
#include "net/mu_socket_int.h"
#include <stdlib.h>

/* ------------------------------------------------------------------ */
/* The table: zhashx key functions for 16-byte binary identities       */

static size_t
id_hash(const void *key)
{
    const uint8_t *p = key;
    uint64_t h = 1469598103934665603ull;
    for (int i = 0; i < ID_BYTES; i++)
        h = (h ^ p[i]) * 1099511628211ull;
    return (size_t) h;
}

static int
id_cmp(const void *a, const void *b)
{
    return memcmp(a, b, ID_BYTES);
}

static void *
id_dup(const void *key)
{
    void *copy = malloc(ID_BYTES);
    if (copy)
        memcpy(copy, key, ID_BYTES);
    return copy;
}

static void
id_free(void **key_p)
{
    free(*key_p);
    *key_p = NULL;
}

static void
peer_free(void **item_p)
{
    peer_t *peer = *item_p;
    if (peer) {
        free(peer->dd_bits);
        free(peer);
    }
    *item_p = NULL;
}


bool
mu__socket_inbox_full(const mu_socket_t *self)
{
    return self->in_len >= INBOX_LIMIT;
}

inbox_t *
mu__socket_inbox_push(mu_socket_t *self)
{
    if (self->in_len == self->in_cap) {
        size_t cap = self->in_cap ? self->in_cap * 2 : 64;
        inbox_t *ring = malloc(cap * sizeof *ring);
        if (!ring)
            return NULL;
        for (size_t i = 0; i < self->in_len; i++) {
            inbox_t *from = &self->inbox[(self->in_head + i) % self->in_cap];
            ring[i] = *from;
            zmq_msg_init(&ring[i].body);
            zmq_msg_move(&ring[i].body, &from->body);
            zmq_msg_close(&from->body);
        }
        free(self->inbox);
        self->inbox = ring;
        self->in_cap = cap;
        self->in_head = 0;
    }
    inbox_t *item = &self->inbox[(self->in_head + self->in_len++) % self->in_cap];
    memset(item, 0, sizeof *item);
    zmq_msg_init(&item->body);
    return item;
}

static void
push_event(mu_socket_t *self, mu_socket_event_t event, const uint8_t *id)
{
    if (!self->events)
        return;
    inbox_t *item = mu__socket_inbox_push(self);
    if (item) {
        item->event = event;
        memcpy(item->peer, id, ID_BYTES);
    }
}

/* ------------------------------------------------------------------ */
/* Peers: join order (the ring), join and leave                        */

peer_t *
mu__socket_peer_get(mu_socket_t *self, const uint8_t *id)
{
    peer_t *peer = mu__socket_peer_find(self, id);
    if (peer)
        return peer;
    peer = calloc(1, sizeof *peer);
    if (!peer)
        return NULL;
    memcpy(peer->id, id, ID_BYTES);
    if (zhashx_insert(self->peers, id, peer) != 0) {
        free(peer);
        return NULL;
    }
    return peer;
}

static bool
ring_add(mu_socket_t *self, peer_t *peer)
{
    if (self->nring == self->ring_cap) {
        size_t cap = self->ring_cap ? self->ring_cap * 2 : 16;
        peer_t **ring = realloc(self->ring, cap * sizeof *ring);
        if (!ring)
            return false;
        self->ring = ring;
        self->ring_cap = cap;
    }
    peer->ring_idx = self->nring;
    self->ring[self->nring++] = peer;
    return true;
}

static void
ring_remove(mu_socket_t *self, peer_t *peer)
{
    size_t i = peer->ring_idx;
    assert(i < self->nring && self->ring[i] == peer);
    memmove(&self->ring[i], &self->ring[i + 1], (self->nring - i - 1) * sizeof *self->ring);
    self->nring--;
    for (size_t k = i; k < self->nring; k++)
        self->ring[k]->ring_idx = k;
    if (self->cursor > i)
        self->cursor--; /* the cycle goes on with the same next peer */
    if (self->cursor >= self->nring)
        self->cursor = 0;
}

void
mu__socket_peer_leave(mu_socket_t *self, peer_t *peer)
{
    if (!peer->joined)
        return;
    ring_remove(self, peer);
    peer->joined = false;
    peer->nacks = 0;
    self->stats.leaves++;
    push_event(self, MU_SOCKET_LEAVE, peer->id);
}

/* Sends a body to a peer without waiting. Returns 0 or a MU_E code. */
int
mu__socket_send_now(mu_socket_t *self, const uint8_t *id, const void *body, size_t len)
{
    if (zmq_send(self->handle, id, ID_BYTES, ZMQ_SNDMORE | ZMQ_DONTWAIT) != ID_BYTES)
        return mu__socket_zmq_error();
    if (zmq_send(self->handle, body, len, ZMQ_DONTWAIT) != (int) len)
        return mu__socket_zmq_error();
    return 0;
}

/* Sends a control message; a gone peer leaves. Errors are otherwise
   ignored: control messages are repeated or recovered by their protocol. */
static void
send_control(mu_socket_t *self, peer_t *peer, const void *body, size_t len)
{
    if (mu__socket_send_now(self, peer->id, body, len) == MU_EHOSTUNREACH)
        mu__socket_peer_leave(self, peer);
}

void
mu__socket_send_hello(mu_socket_t *self, const uint8_t *id, int flags)
{
    mu__hello_t hello = { .session = self->session, .flags = (uint8_t) flags };
    memcpy(hello.id, self->id, ID_BYTES);
    uint8_t bytes[MU__HELLO_BYTES];
    mu__hello_encode(bytes, &hello);
    (void) mu__socket_send_now(self, id, bytes, sizeof bytes);
}

zhashx_t *
mu__socket_peers_new(void)
{
    zhashx_t *peers = zhashx_new();
    if (!peers)
        return NULL;
    zhashx_set_key_hasher(peers, id_hash);
    zhashx_set_key_comparator(peers, id_cmp);
    zhashx_set_key_duplicator(peers, id_dup);
    zhashx_set_key_destructor(peers, id_free);
    zhashx_set_destructor(peers, peer_free);
    return peers;
}

bool
mu__socket_peer_join(mu_socket_t *self, peer_t *peer, uint64_t session)
{
    if (peer->joined && peer->session == session)
        return false;
    if (peer->joined) /* the peer restarted: leave, then join */
        mu__socket_peer_leave(self, peer);
    if (!ring_add(self, peer))
        return false;
    peer->session = session;
    peer->joined = true;
    peer->nacks = 0;
    self->stats.joins++;
    if (peer->ever_joined)
        self->stats.reconnects++;
    peer->ever_joined = true;
    push_event(self, MU_SOCKET_JOIN, peer->id);
    return true;
}

/* ------------------------------------------------------------------ */
/* Heartbeats                                                          */

void
mu__socket_heartbeat(mu_socket_t *self, int64_t now)
{
    if (now >= self->next_ping) { /* PING the peers idle for an interval */
        int64_t next = now + self->hb_ivl;
        for (size_t i = 0; i < self->nring;) {
            peer_t *peer = self->ring[i];
            if (now - peer->last_send >= self->hb_ivl) {
                send_control(self, peer, "P", 1);
                self->stats.pings++;
                peer->last_send = now;
            }
            if (!peer->joined)
                continue;
            if (peer->last_send + self->hb_ivl < next)
                next = peer->last_send + self->hb_ivl;
            i++;
        }
        self->next_ping = next;
    }
    if (!mu__socket_inbox_full(self)) {
        for (size_t i = 0; i < self->nring;) {
            peer_t *peer = self->ring[i];
            if (now - peer->last_recv > self->hb_timeout) {
                mu__socket_peer_leave(self, peer);
                mu__socket_send_hello(self, peer->id, HELLO_ANSWER); /* alive? rejoin */
            } else
                i++;
        }
    }
}
