/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_socket_reliable.c — AT_LEAST_ONCE for the smart socket: the
    sender keeps each copy until acknowledged and resends it; the
    receiver removes duplicates and acknowledges in batches. */
#include "net/mu_socket_int.h"
#include <stdlib.h>

static int
at_least_once_locked(mu_socket_t *self, int retries, int resend_ms, size_t window)
{
    assert(self);
    if (retries < 1 || retries > 1000 || resend_ms < 1 || window < 1 || window > DEDUP_BITS
        || self->sent_any)
        return mu__fail(
            MU_EINVAL,
            self->sent_any ? "mu_socket_set_at_least_once after a send"
                           : "at least once: retries %d (1..1000), resend %d ms (>= 1), window %zu "
                             "(1..2^20)",
            retries, resend_ms, window);
    size_t cap = 1;
    while (cap < window)
        cap <<= 1;
    pending_t *pend = calloc(cap, sizeof *pend);
    if (!pend)
        return mu__fail(MU_ENOMEM, "at least once: a window of %zu", window);
    free(self->pend);
    self->pend = pend;
    self->pend_mask = cap - 1;
    self->reliable = true;
    self->retries = retries;
    self->resend_ms = resend_ms;
    self->window = window;
    int rcv = (int) (2 * window + 1000);
    mu__socket_set_int(self, ZMQ_RCVHWM, rcv > self->rcvhwm ? rcv : self->rcvhwm);
    return 0;
}

/* ------------------------------------------------------------------ */
/* AT_LEAST_ONCE: the sender side                                      */

pending_t *
mu__socket_pending_add(mu_socket_t *self, const uint8_t *peer_id, const void *data, size_t size,
                       uint64_t *id_p)
{
    pending_t *p = &self->pend[self->pnext & self->pend_mask];
    assert(!p->live);
    p->body = malloc(size + 9);
    if (!p->body)
        return NULL;
    uint64_t id = self->pnext++;
    p->body[0] = 'R';
    mu__put_le64(p->body + 1, id);
    memcpy(p->body + 9, data, size);
    p->len = size + 9;
    p->live = true;
    p->retries = 0;
    p->due = mu__socket_now() + self->resend_ms;
    memcpy(p->peer, peer_id, ID_BYTES);
    *id_p = id;
    return p;
}

void
mu__socket_pending_done(mu_socket_t *self, uint64_t id)
{
    if (id < self->pbase || id >= self->pnext)
        return;
    pending_t *p = &self->pend[id & self->pend_mask];
    if (!p->live)
        return;
    p->live = false;
    free(p->body);
    p->body = NULL;
    while (self->pbase < self->pnext && !self->pend[self->pbase & self->pend_mask].live)
        self->pbase++;
}

/* The peer a resend goes to, or NULL to wait. */
static peer_t *
resend_target(mu_socket_t *self, pending_t *p)
{
    peer_t *peer = mu__socket_peer_find(self, p->peer);
    if (peer && peer->joined)
        return peer;
    if (self->mode != MU_SOCKET_ROUNDROBIN || self->nring == 0)
        return NULL;
    peer = self->ring[self->cursor];
    self->cursor = (self->cursor + 1) % self->nring;
    memcpy(p->peer, peer->id, ID_BYTES);
    return peer;
}

void
mu__socket_resend_due(mu_socket_t *self, int64_t now)
{
    for (uint64_t id = self->pbase; id < self->pnext; id++) {
        pending_t *p = &self->pend[id & self->pend_mask];
        if (!p->live || p->due > now)
            continue;
        if (p->retries >= self->retries) {
            self->stats.dropped++;
            mu__socket_pending_done(self, id);
            continue;
        }
        peer_t *peer = resend_target(self, p);
        int rc = peer ? mu__socket_send_now(self, peer->id, p->body, p->len) : MU_EHOSTUNREACH;
        if (rc == MU_EAGAIN)
            continue; /* pipe full: try at the next scan */
        if (rc == MU_EHOSTUNREACH && peer)
            mu__socket_peer_leave(self, peer);
        if (rc == 0)
            self->stats.resent++;
        p->retries++;
        int shift = p->retries < 5 ? p->retries : 5;
        p->due = now + ((int64_t) self->resend_ms << shift);
    }
    int scan = self->resend_ms / 2;
    self->next_resend = now + (scan > 0 ? scan : 1);
}

/* A peer joined again: its waiting copies are due now. */
void
mu__socket_resend_to_joined(mu_socket_t *self, const peer_t *peer)
{
    if (!self->reliable)
        return;
    int64_t now = mu__socket_now();
    for (uint64_t id = self->pbase; id < self->pnext; id++) {
        pending_t *p = &self->pend[id & self->pend_mask];
        if (p->live && memcmp(p->peer, peer->id, ID_BYTES) == 0)
            p->due = now;
    }
    self->next_resend = now;
    self->next_due = now;
}

/* ------------------------------------------------------------------ */
/* AT_LEAST_ONCE: the receiver side                                    */

static bool
dd_get(const peer_t *peer, uint64_t id)
{
    uint64_t bit = id & (DEDUP_BITS - 1);
    return (peer->dd_bits[bit >> 6] >> (bit & 63)) & 1;
}

static void
dd_put(peer_t *peer, uint64_t id, bool on)
{
    uint64_t bit = id & (DEDUP_BITS - 1);
    if (on)
        peer->dd_bits[bit >> 6] |= UINT64_C(1) << (bit & 63);
    else
        peer->dd_bits[bit >> 6] &= ~(UINT64_C(1) << (bit & 63));
}

/* Records id as delivered. Returns 1 if new, 0 if a duplicate, MU_ENOMEM. */
int
mu__socket_dedup_check(peer_t *peer, uint64_t id)
{
    if (!peer->dd_bits || peer->dd_session != peer->session) {
        if (!peer->dd_bits && !(peer->dd_bits = calloc(DEDUP_BITS / 64, sizeof(uint64_t))))
            return MU_ENOMEM;
        memset(peer->dd_bits, 0, DEDUP_BITS / 8);
        peer->dd_session = peer->session;
        peer->dd_base = 1;
    }
    if (id < peer->dd_base)
        return 0;
    if (id >= peer->dd_base + DEDUP_BITS) { /* slide: forget the oldest */
        uint64_t new_base = id - DEDUP_BITS + 1;
        if (new_base - peer->dd_base >= DEDUP_BITS)
            memset(peer->dd_bits, 0, DEDUP_BITS / 8);
        else
            for (uint64_t k = peer->dd_base; k < new_base; k++)
                dd_put(peer, k, false);
        peer->dd_base = new_base;
    }
    if (dd_get(peer, id))
        return 0;
    dd_put(peer, id, true);
    while (dd_get(peer, peer->dd_base)) {
        dd_put(peer, peer->dd_base, false);
        peer->dd_base++;
    }
    return 1;
}

void
mu__socket_on_ack(mu_socket_t *self, const uint8_t *body, size_t len)
{
    if (len < 9 || (len - 1) % 8 != 0) {
        self->stats.malformed++;
        return;
    }
    if (!self->reliable)
        return;
    for (size_t off = 1; off < len; off += 8)
        mu__socket_pending_done(self, mu__get_le64(body + off));
}

/* ------------------------------------------------------------------ */
/* Acks owed to peers                                                  */

static void
flush_acks_if(mu_socket_t *self, peer_t *peer, bool full_ok)
{
    if (peer->nacks == 0 || !peer->joined)
        return;
    uint8_t buf[1 + 8 * ACK_BATCH];
    buf[0] = 'A';
    for (size_t i = 0; i < peer->nacks; i++)
        mu__put_le64(buf + 1 + 8 * i, peer->acks[i]);
    size_t len = 1 + 8 * peer->nacks;
    int rc = mu__socket_send_now(self, peer->id, buf, len);
    if (rc == MU_EAGAIN && !full_ok)
        return;      /* the pipe is full: keep them for later */
    peer->nacks = 0; /* sent, or given up (resends recover) */
    if (rc == MU_EHOSTUNREACH)
        mu__socket_peer_leave(self, peer);
}

/* Sends the acks owed to peer; if its pipe is full they stay owed. */
void
mu__socket_flush_acks(mu_socket_t *self, peer_t *peer)
{
    flush_acks_if(self, peer, false);
}

void
mu__socket_flush_all_acks(mu_socket_t *self)
{
    for (size_t i = 0; i < self->nring; i++)
        mu__socket_flush_acks(self, self->ring[i]);
    self->acks_owed = false;
}

void
mu__socket_owe_ack(mu_socket_t *self, peer_t *peer, uint64_t id)
{
    if (peer->nacks == ACK_BATCH)
        flush_acks_if(self, peer, true); /* no room: the batch must go */
    peer->acks[peer->nacks++] = id;
    self->acks_owed = true;
}

void
mu__socket_pending_free(mu_socket_t *self)
{
    if (!self->pend)
        return;
    for (size_t i = 0; i <= self->pend_mask; i++)
        free(self->pend[i].body);
    free(self->pend);
    self->pend = NULL;
}

int
mu_socket_set_at_least_once(mu_socket_t *self, int retries, int resend_ms, size_t window)
{
    mu__socket_lock(self);
    int rc = at_least_once_locked(self, retries, resend_ms, window);
    mu__socket_unlock(self);
    return rc;
}
