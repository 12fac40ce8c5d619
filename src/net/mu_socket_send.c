/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_socket_send.c — the sending side of the smart socket: dispatch in
    PUBLISH/ROUNDROBIN mode, the local queue while no peer is joined,
    waiting per the policy, and the periodic tick that drives the rest. */
#include "net/mu_socket_int.h"
#include <stdlib.h>

/* ------------------------------------------------------------------ */
/* Sending                                                             */

static int
remaining(int64_t deadline)
{
    return deadline <= 0 ? (int) deadline : mu__socket_remaining_at(deadline, mu__socket_now());
}

/* Sends proto as the body frame after a routing frame went out: a copy
   (reference-counted by libzmq), or proto itself when take (then proto is
   left empty, and closing it is optional). */
static inline int
send_part(mu_socket_t *self, zmq_msg_t *proto, bool take)
{
    zmq_msg_t copy, *m = proto;
    if (!take) {
        zmq_msg_init(&copy);
        zmq_msg_copy(&copy, proto);
        m = &copy;
    }
    if (zmq_msg_send(m, self->handle, ZMQ_DONTWAIT) < 0) {
        int rc = mu__socket_zmq_error();
        if (!take)
            zmq_msg_close(&copy);
        return rc;
    }
    return 0;
}

/* The waiting part of send_body, entered when the first attempt to send
   the routing frame failed (errno tells why). */
static int
send_body_wait(mu_socket_t *self, peer_t *peer, zmq_msg_t *proto, bool take, int64_t deadline)
{
    for (;;) {
        int rc = mu__socket_zmq_error();
        if (rc != MU_EAGAIN)
            return rc;
        int left = remaining(deadline);
        if (self->policy == MU_SOCKET_DROP || left == 0)
            return self->policy == MU_SOCKET_DROP ? MU_EAGAIN : MU_ETIMEDOUT;
        int slice = left < 0 || left > SLICE_MS ? SLICE_MS : left;
        if (slice != self->sndtimeo_set) {
            mu__socket_set_int(self, ZMQ_SNDTIMEO, slice);
            self->sndtimeo_set = slice;
        }
        if (zmq_send(self->handle, peer->id, ID_BYTES, ZMQ_SNDMORE) == ID_BYTES)
            return send_part(self, proto, take);
        rc = mu__socket_zmq_error();
        if (rc != MU_EAGAIN)
            return rc;
        mu__socket_drain_incoming(self); /* acks, pings, hellos meanwhile */
        mu__socket_maybe_tick(self);
        if (!peer->joined)
            return MU_EHOSTUNREACH;
        if (zmq_send(self->handle, peer->id, ID_BYTES, ZMQ_SNDMORE | ZMQ_DONTWAIT) == ID_BYTES)
            return send_part(self, proto, take);
    }
}

/* Sends route + body to a peer, waiting per the policy until deadline.
   The first attempt is inline: it is the whole cost when the pipe has room. */
static inline int
send_body(mu_socket_t *self, peer_t *peer, zmq_msg_t *proto, bool take, int64_t deadline)
{
    if (zmq_send(self->handle, peer->id, ID_BYTES, ZMQ_SNDMORE | ZMQ_DONTWAIT) == ID_BYTES)
        return send_part(self, proto, take);
    return send_body_wait(self, peer, proto, take, deadline);
}

/* Builds a DATA body ('D' + payload). Returns 0 or MU_ENOMEM. */
static int
data_msg(zmq_msg_t *m, const void *data, size_t size)
{
    if (zmq_msg_init_size(m, size + 1) != 0)
        return MU_ENOMEM;
    uint8_t *p = zmq_msg_data(m);
    p[0] = 'D';
    memcpy(p + 1, data, size);
    return 0;
}

/* One copy of a payload to one peer: proto is the DATA body, or NULL when
   reliable (RDATA, registered for resends). */
static inline int
send_copy(mu_socket_t *self, peer_t *peer, const void *data, size_t size, zmq_msg_t *proto,
          bool take, int64_t deadline)
{
    int rc;
    if (self->reliable) {
        uint64_t id;
        pending_t *p = mu__socket_pending_add(self, peer->id, data, size, &id);
        zmq_msg_t m;
        if (!p || zmq_msg_init_size(&m, p ? p->len : 0) != 0) {
            if (p)
                mu__socket_pending_done(self, id);
            return MU_ENOMEM;
        }
        memcpy(zmq_msg_data(&m), p->body, p->len);
        rc = send_body(self, peer, &m, true, deadline);
        zmq_msg_close(&m);
        if (rc == 0)
            peer->last_send = self->now;
        if (rc == MU_EHOSTUNREACH)
            mu__socket_peer_leave(self, peer);
        else if (self->in_tick && (rc == MU_EAGAIN || rc == MU_ETIMEDOUT))
            rc = 0;                             /* a full pipe in a tick's queue flush: no caller to
                           fail, and the message was accepted: resent later */
        if (rc == MU_EHOSTUNREACH || rc == 0) { /* a gone peer: resent later */
            self->stats.sent++;
            return rc;
        }
        mu__socket_pending_done(self, id);
        return rc;
    }
    rc = send_body(self, peer, proto, take, deadline);
    if (rc == 0) {
        self->stats.sent++;
        peer->last_send = self->now;
    } else if (rc == MU_EHOSTUNREACH)
        mu__socket_peer_leave(self, peer);
    return rc;
}

/* The waiting part of wait_window, entered when the window is full. */
static int
wait_window_full(mu_socket_t *self, int64_t deadline)
{
    while (self->reliable && mu__socket_in_flight(self) >= self->window) {
        mu__socket_drain_incoming(self);
        mu__socket_maybe_tick(self);
        if (mu__socket_in_flight(self) < self->window)
            break;
        int left = remaining(deadline);
        if (self->policy == MU_SOCKET_DROP || left == 0)
            return self->policy == MU_SOCKET_DROP ? MU_EAGAIN : MU_ETIMEDOUT;
        int wait = self->resend_ms;
        if (left >= 0 && left < wait)
            wait = left;
        zmq_pollitem_t item = { self->handle, 0, ZMQ_POLLIN, 0 };
        if (zmq_poll(&item, 1, wait) < 0 && errno != EINTR)
            return mu__socket_zmq_error();
    }
    return 0;
}

/* Waits until the AT_LEAST_ONCE window has room (inline: without
   AT_LEAST_ONCE, or with room, it is one test). */
static inline int
wait_window(mu_socket_t *self, int64_t deadline)
{
    if (!self->reliable || mu__socket_in_flight(self) < self->window)
        return 0;
    return wait_window_full(self, deadline);
}

/* One copy to one peer (mu_socket_send_to). */
static int
send_one(mu_socket_t *self, peer_t *peer, const void *data, size_t size, int64_t deadline)
{
    if (self->reliable)
        return send_copy(self, peer, data, size, NULL, true, deadline);
    zmq_msg_t m;
    if (data_msg(&m, data, size) != 0)
        return MU_ENOMEM;
    int rc = send_copy(self, peer, data, size, &m, true, deadline);
    zmq_msg_close(&m);
    return rc;
}

static int
dispatch_roundrobin(mu_socket_t *self, const void *data, size_t size, zmq_msg_t *proto,
                    int64_t deadline)
{
    while (self->nring > 0) {
        int rc = wait_window(self, deadline);
        if (rc != 0)
            return rc;
        if (self->nring == 0)
            break;
        if (self->cursor >= self->nring)
            self->cursor = 0;
        peer_t *peer = self->ring[self->cursor];
        if (++self->cursor == self->nring)
            self->cursor = 0;
        rc = send_copy(self, peer, data, size, proto, true, deadline);
        if (rc != MU_EHOSTUNREACH)
            return rc;
        if (self->reliable)
            return 0; /* registered; resent to the next peer */
    }
    return MU_EHOSTUNREACH;
}

static int
dispatch_publish(mu_socket_t *self, const void *data, size_t size, zmq_msg_t *proto,
                 int64_t deadline)
{
    size_t n = self->nring;
    if (n == 0)
        return MU_EHOSTUNREACH;
    peer_t *snapshot_small[16]; /* the ring may change while we wait */
    peer_t **snap = n <= 16 ? snapshot_small : malloc(n * sizeof *snap);
    if (!snap)
        return MU_ENOMEM;
    memcpy(snap, self->ring, n * sizeof *snap);
    int result = MU_EHOSTUNREACH, failure = 0;
    for (size_t i = 0; i < n; i++) {
        if (!snap[i]->joined)
            continue;
        int rc = wait_window(self, deadline);
        if (rc == 0)
            rc = send_copy(self, snap[i], data, size, proto, false, deadline);
        if (rc == 0 || (rc == MU_EHOSTUNREACH && self->reliable))
            result = 0;
        else if (rc != MU_EHOSTUNREACH) {
            self->stats.dropped++;
            failure = rc;
        }
    }
    if (snap != snapshot_small)
        free(snap);
    return failure ? failure : result;
}

/* Hands a payload to the joined peers per the mode. 0 when at least one
   copy went out (PUBLISH) or the one copy went out (ROUNDROBIN);
   MU_EHOSTUNREACH when no peer is joined. */
static int
dispatch(mu_socket_t *self, const void *data, size_t size, int64_t deadline)
{
    zmq_msg_t m, *proto = NULL;
    if (!self->reliable) {
        if (data_msg(&m, data, size) != 0)
            return MU_ENOMEM;
        proto = &m;
    }
    bool rr = self->mode == MU_SOCKET_ROUNDROBIN;
    int rc = rr ? dispatch_roundrobin(self, data, size, proto, deadline)
                : dispatch_publish(self, data, size, proto, deadline);
    /* a ROUNDROBIN send that succeeded handed proto itself to libzmq (no
       close is needed after a successful zmq_msg_send); else release it */
    if (proto && !(rr && rc == 0))
        zmq_msg_close(proto);
    return rc;
}

/* Whether the AT_LEAST_ONCE window has room now for the copies of one
   more message (one per joined peer when publishing, at most a window). */
static bool
window_has_room(const mu_socket_t *self)
{
    size_t copies = self->mode == MU_SOCKET_ROUNDROBIN ? 1 : self->nring;
    if (copies > self->window)
        copies = self->window;
    return !self->reliable || mu__socket_in_flight(self) + copies <= self->window;
}

/* Sends what waits in the local queue while peers are joined. In a tick
   (no caller waits, deadline now) a message the AT_LEAST_ONCE window has
   no room for stays queued for a later flush: it was accepted, so it must
   not be dropped for want of a wait. */
static int
flush_queue(mu_socket_t *self, int64_t deadline)
{
    while (self->q_len > 0 && self->nring > 0) {
        if (self->in_tick && !window_has_room(self))
            return MU_EAGAIN;
        queued_t *q = &self->queue[self->q_head];
        int rc = dispatch(self, q->data, q->size, deadline);
        if (rc == MU_EHOSTUNREACH)
            return rc;
        if (rc == MU_EAGAIN || rc == MU_ETIMEDOUT) {
            if (self->mode == MU_SOCKET_ROUNDROBIN)
                return rc; /* nobody took it: keep it queued */
        } else if (rc != 0)
            return rc;
        free(q->data);
        self->q_head = (self->q_head + 1) % self->queue_limit;
        self->q_len--;
    }
    return 0;
}

static int
enqueue(mu_socket_t *self, const void *data, size_t size, int64_t deadline)
{
    while (self->q_len == self->queue_limit) {
        if (self->policy == MU_SOCKET_DROP) {
            self->stats.dropped++;
            return MU_EAGAIN;
        }
        int left = remaining(deadline);
        if (left == 0)
            return MU_ETIMEDOUT;
        int next = mu_socket_tick(self);
        if (self->nring > 0) {
            int rc = flush_queue(self, deadline);
            if (rc != 0 && rc != MU_EHOSTUNREACH)
                return rc;
            continue;
        }
        zmq_pollitem_t item = { self->handle, 0, ZMQ_POLLIN, 0 };
        int wait = left >= 0 && left < next ? left : next;
        if (zmq_poll(&item, 1, wait) < 0 && errno != EINTR)
            return mu__socket_zmq_error();
        mu__socket_drain_incoming(self);
    }
    queued_t *q = &self->queue[(self->q_head + self->q_len) % self->queue_limit];
    q->data = malloc(size ? size : 1);
    if (!q->data)
        return MU_ENOMEM;
    memcpy(q->data, data, size);
    q->size = size;
    self->q_len++;
    return 0;
}

static int
send_locked(mu_socket_t *self, const void *data, size_t size)
{
    assert(self && (data || size == 0));
    if (size > MU_SOCKET_MAX_MESSAGE)
        return MU_EMSGSIZE;
    int64_t deadline = mu__socket_deadline(mu__socket_maybe_tick(self), self->send_timeout);
    /* acks and pings keep flowing: read ahead every 16 sends when acks
       matter, else every 256 sends but at most once per clock step (a
       read-ahead costs a system call in libzmq even when nothing waits) */
    if ((++self->sends & (self->reliable ? 15 : 255)) == 0
        && (self->reliable || self->drained_at != self->now)) {
        self->drained_at = self->now;
        mu__socket_drain_incoming(self);
    }
    self->sent_any = true;
    self->sending = true;
    int rc = self->q_len > 0 ? flush_queue(self, deadline) : 0;
    if (rc == MU_ETIMEDOUT || rc == MU_EAGAIN || rc == MU_EHOSTUNREACH || self->q_len > 0)
        rc = enqueue(self, data, size, deadline);
    else if (rc == 0) {
        rc = dispatch(self, data, size, deadline);
        if (rc == MU_EHOSTUNREACH)
            rc = enqueue(self, data, size, deadline);
        else if (rc == MU_EAGAIN && self->mode == MU_SOCKET_ROUNDROBIN)
            self->stats.dropped++;
    }
    self->sending = false;
    return rc;
}

static int
send_to_locked(mu_socket_t *self, const uint8_t *identity, const void *data, size_t size)
{
    assert(self && identity && (data || size == 0));
    if (size > MU_SOCKET_MAX_MESSAGE)
        return MU_EMSGSIZE;
    int64_t deadline = mu__socket_deadline(mu__socket_maybe_tick(self), self->send_timeout);
    self->sent_any = true;
    peer_t *peer = mu__socket_peer_find(self, identity);
    int rc = peer && peer->joined ? wait_window(self, deadline) : MU_EHOSTUNREACH;
    if (rc == 0)
        rc = peer->joined ? send_one(self, peer, data, size, deadline) : MU_EHOSTUNREACH;
    if (rc == MU_EHOSTUNREACH && self->drop_unroutable) {
        self->stats.dropped++;
        return 0;
    }
    if (rc == MU_EAGAIN)
        self->stats.dropped++;
    return rc;
}

/* ------------------------------------------------------------------ */
/* Periodic work and receiving                                         */

void
mu__socket_do_tick(mu_socket_t *self, int64_t now)
{
    if (self->in_tick)
        return;
    self->in_tick = true;
    self->now = now;
    mu__socket_drain_incoming(self);
    mu__socket_heartbeat(self, now);
    mu__socket_flush_all_acks(self);
    if (self->reliable && now >= self->next_resend)
        mu__socket_resend_due(self, now);
    self->next_due = self->next_ping;
    if (self->reliable && self->next_resend < self->next_due)
        self->next_due = self->next_resend;
    if (self->q_len > 0 && self->nring > 0 && !self->sending) {
        self->sending = true;
        (void) flush_queue(self, now); /* without waiting */
        self->sending = false;
    }
    self->in_tick = false;
    self->now = mu__socket_now();
}

/* mu_socket_tick with the lock held (also the background thread's work). */
int mu__socket_tick_locked(mu_socket_t *self);

int
mu__socket_tick_locked(mu_socket_t *self)
{
    int64_t now = mu__socket_now();
    if (now >= self->next_due)
        mu__socket_do_tick(self, now);
    int64_t left = self->next_due - mu__socket_now();
    return left > 0 ? (int) left : 0;
}

int
mu_socket_send(mu_socket_t *self, const void *data, size_t size)
{
    mu__socket_lock(self);
    int rc = send_locked(self, data, size);
    mu__socket_unlock(self);
    return rc;
}

int
mu_socket_send_to(mu_socket_t *self, const uint8_t *identity, const void *data, size_t size)
{
    mu__socket_lock(self);
    int rc = send_to_locked(self, identity, data, size);
    mu__socket_unlock(self);
    return rc;
}

int
mu_socket_tick(mu_socket_t *self)
{
    assert(self);
    mu__socket_lock(self);
    int rc = mu__socket_tick_locked(self);
    mu__socket_unlock(self);
    return rc;
}
