/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_socket.c — the smart socket on one ZeroMQ ROUTER per mu_socket_t:
    construction, options, bind/connect, receiving. The contract and the
    wire format are in include/mu_socket.h; the socket options and why,
    in doc/socket.md. Everything runs on the caller's thread (or,
    with mu_socket_set_background, under the socket's mutex). */
#include "net/mu_socket_int.h"
#include "net/mu_zsocket.h"
#include <sodium.h>
#include <stdlib.h>

/* ------------------------------------------------------------------ */
/* Construction and options                                            */

/* Hands the heartbeat settings to libzmq (ZMTP heartbeats) and restarts
   the ping timer. */
static void
apply_heartbeat(mu_socket_t *self)
{
    mu__socket_set_int(self, ZMQ_HEARTBEAT_IVL, self->hb_ivl);
    mu__socket_set_int(self, ZMQ_HEARTBEAT_TIMEOUT, self->hb_timeout);
    mu__socket_set_int(self, ZMQ_HEARTBEAT_TTL, self->hb_timeout);
    self->next_ping = self->next_due = mu__socket_now();
}

mu_socket_t *
mu_socket_new(const uint8_t *identity)
{
    if (sodium_init() < 0)
        return mu__fail_null(MU_EIO, "mu_socket_new: libsodium cannot initialize");
    mu_socket_t *self = calloc(1, sizeof *self);
    if (!self)
        return mu__fail_null(MU_ENOMEM, "mu_socket_new");
    if (identity)
        memcpy(self->id, identity, ID_BYTES);
    else
        randombytes_buf(self->id, ID_BYTES);
    randombytes_buf(&self->session, sizeof self->session);
    self->mode = MU_SOCKET_PUBLISH;
    self->hb_ivl = 1000;
    self->hb_timeout = 3000;
    self->queue_limit = 1000;
    self->policy = MU_SOCKET_BLOCK;
    self->send_timeout = -1;
    self->sndtimeo_set = self->rcvtimeo_set = -1;
    self->rcvhwm = 1000;
    pthread_mutex_init(&self->mu, NULL);
    self->pbase = self->pnext = 1;
    self->peers = mu__socket_peers_new();
    self->queue = calloc(self->queue_limit, sizeof *self->queue);
    bool allocated = self->peers && self->queue;
    self->handle = allocated ? mu__zsocket_open(ZMQ_ROUTER, "mu_socket_new") : NULL;
    if (!self->handle) {
        zhashx_destroy(&self->peers);
        free(self->queue);
        pthread_mutex_destroy(&self->mu);
        free(self);
        if (allocated) {
            errno = mu_error_errno(mu_last_code()); /* a refused socket is recorded */
            return NULL;
        }
        return mu__fail_null(MU_ENOMEM, "mu_socket_new");
    }
    zmq_setsockopt(self->handle, ZMQ_ROUTING_ID, self->id, ID_BYTES);
    mu__socket_set_int(self, ZMQ_ROUTER_MANDATORY, 1);
    mu__socket_set_int(self, ZMQ_ROUTER_HANDOVER, 1);
    mu__socket_set_int(self, ZMQ_PROBE_ROUTER, 1);
    mu__socket_set_int(self, ZMQ_IMMEDIATE, 1);
    mu__socket_set_int(self, ZMQ_LINGER, 200);
    mu__socket_set_int(self, ZMQ_RECONNECT_IVL, 100);
    mu__socket_set_int(self, ZMQ_RECONNECT_IVL_MAX, 5000);
    int64_t max = MU_SOCKET_MAX_MESSAGE + 16;
    zmq_setsockopt(self->handle, ZMQ_MAXMSGSIZE, &max, sizeof max);
    apply_heartbeat(self);
    zmq_msg_init(&self->route);
    zmq_msg_init(&self->body);
    zmq_msg_init(&self->scratch);
    zmq_msg_init(&self->cur.body);
    self->next_ping = self->next_due = mu__socket_now();
    return self;
}

static void
release_current(mu_socket_t *self)
{
    if (self->cur_inbox) {
        zmq_msg_close(&self->cur.body);
        zmq_msg_init(&self->cur.body);
        self->cur_inbox = false;
    }
}

void
mu_socket_destroy(mu_socket_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    mu_socket_t *self = *self_p;
    *self_p = NULL;
    mu__socket_background_stop(self);
    for (size_t i = 0; i < self->nring; i++) {
        mu__socket_flush_acks(self, self->ring[i]);
        (void) mu__socket_send_now(self, self->ring[i]->id, "B", 1);
    }
    mu__zsocket_close(&self->handle);
    mu__curve_side_fini(&self->side);
    release_current(self);
    zmq_msg_close(&self->cur.body);
    zmq_msg_close(&self->route);
    zmq_msg_close(&self->body);
    zmq_msg_close(&self->scratch);
    for (size_t i = 0; i < self->in_len; i++)
        zmq_msg_close(&self->inbox[(self->in_head + i) % self->in_cap].body);
    free(self->inbox);
    for (size_t i = 0; i < self->q_len; i++)
        free(self->queue[(self->q_head + i) % self->queue_limit].data);
    free(self->queue);
    mu__socket_pending_free(self);
    zhashx_destroy(&self->peers);
    free(self->ring);
    pthread_mutex_destroy(&self->mu);
    free(self);
}

const uint8_t *
mu_socket_identity(const mu_socket_t *self)
{
    assert(self);
    return self->id;
}

void
mu_socket_set_mode(mu_socket_t *self, mu_socket_mode_t mode)
{
    assert(self);
    assert(mode == MU_SOCKET_PUBLISH || mode == MU_SOCKET_ROUNDROBIN);
    mu__socket_lock(self);
    self->mode = mode;
    mu__socket_unlock(self);
}

static int
set_heartbeat_locked(mu_socket_t *self, int interval_ms, int timeout_ms)
{
    assert(self);
    if (interval_ms <= 0 || timeout_ms <= interval_ms)
        return mu__fail(MU_EINVAL,
                        "heartbeat interval %d ms, timeout %d ms: "
                        "need 0 < interval < timeout",
                        interval_ms, timeout_ms);
    self->hb_ivl = interval_ms;
    self->hb_timeout = timeout_ms;
    apply_heartbeat(self);
    return 0;
}

static int
set_queue_locked(mu_socket_t *self, size_t limit, mu_socket_policy_t policy, int timeout_ms)
{
    assert(self);
    assert(policy == MU_SOCKET_BLOCK || policy == MU_SOCKET_DROP);
    if (limit < 1 || limit > (1u << 24) || timeout_ms < -1)
        return mu__fail(MU_EINVAL, "socket queue limit %zu (1..2^24) or timeout %d ms", limit,
                        timeout_ms);
    if (limit != self->queue_limit) {
        if (limit < self->q_len)
            return mu__fail(MU_EINVAL, "socket queue limit %zu below the %zu messages queued",
                            limit, self->q_len);
        queued_t *queue = calloc(limit, sizeof *queue);
        if (!queue)
            return mu__fail(MU_ENOMEM, "socket queue of %zu messages", limit);
        for (size_t i = 0; i < self->q_len; i++)
            queue[i] = self->queue[(self->q_head + i) % self->queue_limit];
        free(self->queue);
        self->queue = queue;
        self->q_head = 0;
        self->queue_limit = limit;
    }
    self->policy = policy;
    self->send_timeout = timeout_ms;
    return 0;
}

void
mu_socket_set_drop_unroutable(mu_socket_t *self, int drop)
{
    assert(self);
    mu__socket_lock(self);
    self->drop_unroutable = drop != 0;
    mu__socket_unlock(self);
}

void
mu_socket_set_events(mu_socket_t *self, int on)
{
    assert(self);
    mu__socket_lock(self);
    self->events = on != 0;
    mu__socket_unlock(self);
}

int
mu_socket_set_curve(mu_socket_t *self, const mu_keys_t *server_keys, const mu_allow_t *allow,
                    const mu_keys_t *client_keys, const uint8_t *server_public)
{
    assert(self);
    mu__socket_lock(self);
    int rc = mu__curve_side_set(&self->side, server_keys, allow, client_keys, server_public);
    mu__socket_unlock(self);
    return rc;
}

int
mu_socket_set_curve_secret(mu_socket_t *self, const void *secret, size_t size)
{
    assert(self);
    mu__socket_lock(self);
    int rc = mu__curve_side_set_secret(&self->side, secret, size);
    mu__socket_unlock(self);
    return rc;
}

static int
bind_locked(mu_socket_t *self, const char *endpoint)
{
    assert(self && endpoint);
    return mu__curve_bind(self->handle, &self->side, endpoint);
}

static int
connect_locked(mu_socket_t *self, const char *endpoint)
{
    assert(self && endpoint);
    return mu__curve_connect(self->handle, &self->side, endpoint);
}

const char *
mu_socket_endpoint(const mu_socket_t *self)
{
    assert(self);
    return self->side.endpoint;
}

size_t
mu_socket_peers(const mu_socket_t *self)
{
    assert(self);
    mu__socket_lock(self);
    size_t n = self->nring;
    mu__socket_unlock(self);
    return n;
}

static int
has_peer_locked(const mu_socket_t *self, const uint8_t *identity)
{
    assert(self && identity);
    peer_t *peer = zhashx_lookup(self->peers, identity);
    return peer && peer->joined;
}

static int
stats_locked(const mu_socket_t *self, mu_socket_stats_t *stats)
{
    assert(self && stats);
    mu_socket_stats_t all = self->stats;
    all.size = sizeof all;
    all.auth_failures = mu__curve_side_failures(&self->side);
    return mu__stats_fill(stats, &all, sizeof all, sizeof all);
}

void *
mu_socket_zsock(mu_socket_t *self)
{
    assert(self);
    return self->handle;
}

int
mu_socket_fd(mu_socket_t *self)
{
    assert(self);
    return mu__zsocket_fd(self->handle);
}

/* Fills msg from item; body and size: the whole message body. */
static inline void
hand_out(mu_socket_t *self, mu_socket_msg_t *msg, const uint8_t *peer_id, inbox_t *item,
         const uint8_t *body, size_t size)
{
    msg->event = item->event;
    memcpy(msg->peer, peer_id, ID_BYTES);
    if (item->event != MU_SOCKET_MESSAGE) {
        msg->data = NULL;
        msg->size = 0;
        return;
    }
    msg->data = body + item->offset;
    msg->size = size - item->offset;
    self->stats.received++;
    if (item->rel_id) {
        peer_t *peer = mu__socket_peer_find(self, peer_id);
        if (peer && peer->joined)
            mu__socket_owe_ack(self, peer, item->rel_id);
    }
}

static int
recv_locked(mu_socket_t *self, mu_socket_msg_t *msg, int timeout_ms)
{
    assert(self && msg);
    release_current(self);
    int64_t deadline = -2; /* computed when first needed */
    for (;;) {
        mu__socket_maybe_tick(self);
        if (self->in_len > 0) {
            inbox_t *item = &self->inbox[self->in_head];
            self->in_head = (self->in_head + 1) % self->in_cap;
            self->in_len--;
            self->cur = *item;
            zmq_msg_init(&self->cur.body);
            zmq_msg_move(&self->cur.body, &item->body);
            zmq_msg_close(&item->body);
            self->cur_inbox = true;
            hand_out(self, msg, self->cur.peer, &self->cur, zmq_msg_data(&self->cur.body),
                     zmq_msg_size(&self->cur.body));
            return 0;
        }
        if (self->acks_owed)
            mu__socket_flush_all_acks(self);
        /* block in libzmq until a message, the deadline or the next tick
           (rounded up to 16 ms, so RCVTIMEO rarely needs setting again) */
        int wait = 0;
        if (timeout_ms != 0) {
            if (deadline == -2)
                deadline = mu__socket_deadline(self->now, timeout_ms);
            int left = mu__socket_remaining_at(deadline, self->now); /* read by maybe_tick */
            if (left == 0)
                return MU_ETIMEDOUT;
            int64_t until_tick = self->next_due - self->now;
            int next = until_tick > 0 ? (int) until_tick : 1;
            wait = left > 0 && left < next ? left : (next | 15) + 1;
        }
        int rc = mu__socket_process_one(self, true, wait);
        if (rc == 1) { /* stays in self->body until the next recv */
            self->cur.event = MU_SOCKET_MESSAGE;
            hand_out(self, msg, self->route_data, &self->cur, self->body_data, self->body_size);
            return 0;
        }
        if (rc == MU_EAGAIN && timeout_ms == 0)
            return MU_EAGAIN;
        if (rc != 0 && rc != MU_EAGAIN)
            return rc;
    }
}

int
mu_socket_recv(mu_socket_t *self, mu_socket_msg_t *msg, int timeout_ms)
{
    mu__socket_lock(self);
    int rc = recv_locked(self, msg, timeout_ms);
    mu__socket_unlock(self);
    return rc;
}

int
mu_socket_set_heartbeat(mu_socket_t *self, int interval_ms, int timeout_ms)
{
    mu__socket_lock(self);
    int rc = set_heartbeat_locked(self, interval_ms, timeout_ms);
    mu__socket_unlock(self);
    return rc;
}

int
mu_socket_set_queue(mu_socket_t *self, size_t limit, mu_socket_policy_t policy, int timeout_ms)
{
    mu__socket_lock(self);
    int rc = set_queue_locked(self, limit, policy, timeout_ms);
    mu__socket_unlock(self);
    return rc;
}

int
mu_socket_bind(mu_socket_t *self, const char *endpoint)
{
    mu__socket_lock(self);
    int rc = bind_locked(self, endpoint);
    mu__socket_unlock(self);
    return rc;
}

int
mu_socket_connect(mu_socket_t *self, const char *endpoint)
{
    mu__socket_lock(self);
    int rc = connect_locked(self, endpoint);
    mu__socket_unlock(self);
    return rc;
}

int
mu_socket_stats(const mu_socket_t *self, mu_socket_stats_t *stats)
{
    mu__socket_lock(self);
    int rc = stats_locked(self, stats);
    mu__socket_unlock(self);
    return rc;
}

int
mu_socket_has_peer(const mu_socket_t *self, const uint8_t *identity)
{
    mu__socket_lock(self);
    int rc = has_peer_locked(self, identity);
    mu__socket_unlock(self);
    return rc;
}
