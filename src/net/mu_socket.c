/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_socket.c — the smart socket on one ZeroMQ ROUTER per mu_socket_t.
    The contract and the wire format are in include/mu_socket.h.

    Sockets options: ROUTING_ID = our identity, PROBE_ROUTER (an empty
    message on every new connection tells the far side we exist, so both
    ends send HELLO without ROUTER_NOTIFY), IMMEDIATE (a connecting pipe
    lives exactly as long as its connection, so a send to a gone peer fails
    with EHOSTUNREACH under ROUTER_MANDATORY, and the far side's routing id
    is its real identity), ROUTER_HANDOVER (a reconnecting identity takes
    over), ZMTP heartbeats. Everything runs on the caller's thread. */
#include "base/mu_internal.h"
#include "net/mu_socket_hello.h"
#include "net/mu_zap.h"
#include <czmq.h>
#include <limits.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ID_BYTES MU_SOCKET_ID_BYTES
#define HELLO_ANSWER MU__HELLO_ANSWER
#define ACK_BATCH 128                 /* ids per ACK message */
#define DEDUP_BITS (1u << 20)         /* receiver de-duplication window */
#define INBOX_LIMIT 10000             /* messages read ahead while sending */
#define SLICE_MS 10                   /* blocking-send slice */

typedef struct {
    uint8_t id[ID_BYTES];
    bool joined, ever_joined;
    uint64_t session;                 /* the peer's session (from HELLO) */
    int64_t last_recv;
    size_t ring_idx;
    /* de-duplication of the peer's RDATA ids, for dd_session */
    uint64_t dd_session, dd_base;     /* ids < dd_base were delivered */
    uint64_t *dd_bits;                /* DEDUP_BITS bits, id & (DEDUP_BITS-1) */
    /* acks owed to the peer */
    uint64_t acks[ACK_BATCH];
    size_t nacks;
} peer_t;

typedef struct {                      /* an AT_LEAST_ONCE copy in flight */
    bool live;
    uint8_t peer[ID_BYTES];
    uint8_t *body;                    /* 'R' id payload */
    size_t len;
    int retries;
    int64_t due;
} pending_t;

typedef struct {                      /* a message or event waiting for recv */
    mu_socket_event_t event;
    uint8_t peer[ID_BYTES];
    zmq_msg_t body;                   /* events: empty */
    size_t offset;                    /* payload offset in body */
    uint64_t rel_id;                  /* RDATA id to ack on hand-out, 0 none */
} inbox_t;

typedef struct {                      /* a payload waiting for a peer */
    uint8_t *data;
    size_t size;
} queued_t;

struct mu_socket_t {
    zsock_t *sock;
    void *handle;
    uint8_t id[ID_BYTES];
    uint64_t session;
    mu_socket_mode_t mode;
    int hb_ivl, hb_timeout;
    size_t queue_limit;
    mu_socket_policy_t policy;
    int send_timeout;
    bool drop_unroutable, events;
    char endpoint[256];
    int sndtimeo_set, rcvtimeo_set;   /* SNDTIMEO, RCVTIMEO on the socket now */

    zhashx_t *peers;                  /* id -> peer_t (owned; kept after leave) */
    peer_t *last_peer;                /* lookup cache */
    peer_t **ring;                    /* joined peers in join order */
    size_t nring, ring_cap, cursor;

    /* receive */
    zmq_msg_t route, body;            /* the last message read directly */
    const uint8_t *route_data;        /* zmq_msg_data of route and data and */
    const uint8_t *body_data;         /* size of body, kept by process_one */
    size_t body_size;                 /* for the direct hand-out */
    zmq_msg_t scratch;                /* bodies read ahead (while sending) */
    bool cur_inbox;                   /* handed out an inbox item */
    inbox_t cur;                      /* that item */
    inbox_t *inbox;                   /* ring */
    size_t in_head, in_len, in_cap;

    /* local queue while no peer is joined */
    queued_t *queue;
    size_t q_head, q_len;

    /* AT_LEAST_ONCE */
    bool reliable;
    int retries, resend_ms;
    size_t window;
    pending_t *pend;
    size_t pend_mask;
    uint64_t pbase, pnext;            /* ids [pbase, pnext) may be live */
    int64_t next_resend;

    /* timers */
    int64_t now;                      /* clock read by the last maybe_tick */
    int64_t next_ping, next_due;
    bool in_tick, sending;            /* re-entry guards */
    bool acks_owed;                   /* some peer has acks to send */
    bool sent_any;                    /* a send was made (queued or not) */
    unsigned sends;                   /* mu_socket_send calls, for read-ahead */
    int64_t drained_at;               /* clock of the last read-ahead in send */

    /* CURVE */
    mu_keys_t *srv_keys, *cli_keys;
    uint8_t server_public[MU_KEY_BYTES];
    mu__zap_domain_t *zap;            /* CURVE binds */
    mu_allow_t *allow;

    mu_socket_stats_t stats;
};

static int process_one(mu_socket_t *self, bool direct, int wait_ms);
static void do_tick(mu_socket_t *self, int64_t now);

/* ------------------------------------------------------------------ */
/* Small helpers                                                       */

static int64_t
now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
zmq_error(void)
{
    if (errno == EAGAIN)
        return MU_EAGAIN;
    if (errno == EHOSTUNREACH)
        return MU_EHOSTUNREACH;
    if (errno == EINTR || errno == ETERM)
        return MU_EINTR;
    return -errno;
}

/* zhashx key functions for 16-byte binary identities. */
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

/* ------------------------------------------------------------------ */
/* Peers                                                               */

static peer_t *
peer_find(mu_socket_t *self, const uint8_t *id)
{
    if (self->last_peer && memcmp(self->last_peer->id, id, ID_BYTES) == 0)
        return self->last_peer;
    peer_t *peer = zhashx_lookup(self->peers, id);
    if (peer)
        self->last_peer = peer;
    return peer;
}

static peer_t *
peer_get(mu_socket_t *self, const uint8_t *id)
{
    peer_t *peer = peer_find(self, id);
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

static void
push_event(mu_socket_t *self, mu_socket_event_t event, const uint8_t *id);

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
        self->cursor--;     /* the cycle goes on with the same next peer */
    if (self->cursor >= self->nring)
        self->cursor = 0;
}

static void
peer_leave(mu_socket_t *self, peer_t *peer)
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
static int
send_now(mu_socket_t *self, const uint8_t *id, const void *body, size_t len)
{
    if (zmq_send(self->handle, id, ID_BYTES, ZMQ_SNDMORE | ZMQ_DONTWAIT) != ID_BYTES)
        return zmq_error();
    if (zmq_send(self->handle, body, len, ZMQ_DONTWAIT) != (int) len)
        return zmq_error();
    return 0;
}

/* Sends a control message; a gone peer leaves. Errors are otherwise
   ignored: control messages are repeated or recovered by their protocol. */
static void
send_control(mu_socket_t *self, peer_t *peer, const void *body, size_t len)
{
    if (send_now(self, peer->id, body, len) == MU_EHOSTUNREACH)
        peer_leave(self, peer);
}

static void
send_hello(mu_socket_t *self, const uint8_t *id, int flags)
{
    mu__hello_t hello = { .session = self->session, .flags = (uint8_t) flags };
    memcpy(hello.id, self->id, ID_BYTES);
    uint8_t bytes[MU__HELLO_BYTES];
    mu__hello_encode(bytes, &hello);
    (void) send_now(self, id, bytes, sizeof bytes);
}

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
    int rc = send_now(self, peer->id, buf, len);
    if (rc == MU_EAGAIN && !full_ok)
        return;                         /* the pipe is full: keep them for later */
    peer->nacks = 0;                    /* sent, or given up (resends recover) */
    if (rc == MU_EHOSTUNREACH)
        peer_leave(self, peer);
}

/* Sends the acks owed to peer; if its pipe is full they stay owed. */
static void
flush_acks(mu_socket_t *self, peer_t *peer)
{
    flush_acks_if(self, peer, false);
}

static void
flush_all_acks(mu_socket_t *self)
{
    for (size_t i = 0; i < self->nring; i++)
        flush_acks(self, self->ring[i]);
    self->acks_owed = false;
}

static void
owe_ack(mu_socket_t *self, peer_t *peer, uint64_t id)
{
    if (peer->nacks == ACK_BATCH)
        flush_acks_if(self, peer, true);    /* no room: the batch must go */
    peer->acks[peer->nacks++] = id;
    self->acks_owed = true;
}

/* ------------------------------------------------------------------ */
/* Inbox (messages read ahead, events)                                 */

static bool
inbox_full(const mu_socket_t *self)
{
    return self->in_len >= INBOX_LIMIT;
}

static inbox_t *
inbox_push(mu_socket_t *self)
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
    inbox_t *item = inbox_push(self);
    if (item) {
        item->event = event;
        memcpy(item->peer, id, ID_BYTES);
    }
}

/* ------------------------------------------------------------------ */
/* Construction and options                                            */

static void
set_int(mu_socket_t *self, int option, int value)
{
    (void) zmq_setsockopt(self->handle, option, &value, sizeof value);
}

mu_socket_t *
mu_socket_new(const uint8_t *identity)
{
    if (sodium_init() < 0) {
        errno = ENOMEM;
        return NULL;
    }
    mu_socket_t *self = calloc(1, sizeof *self);
    if (!self) {
        errno = ENOMEM;
        return NULL;
    }
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
    self->pbase = self->pnext = 1;
    self->peers = zhashx_new();
    self->queue = calloc(self->queue_limit, sizeof *self->queue);
    self->sock = zsock_new(ZMQ_ROUTER);
    if (!self->peers || !self->queue || !self->sock) {
        int err = self->sock || !self->peers || !self->queue ? ENOMEM : EINVAL;
        zhashx_destroy(&self->peers);
        free(self->queue);
        zsock_destroy(&self->sock);
        free(self);
        errno = err;
        return NULL;
    }
    zhashx_set_key_hasher(self->peers, id_hash);
    zhashx_set_key_comparator(self->peers, id_cmp);
    zhashx_set_key_duplicator(self->peers, id_dup);
    zhashx_set_key_destructor(self->peers, id_free);
    zhashx_set_destructor(self->peers, peer_free);
    self->handle = zsock_resolve(self->sock);
    zmq_setsockopt(self->handle, ZMQ_ROUTING_ID, self->id, ID_BYTES);
    set_int(self, ZMQ_ROUTER_MANDATORY, 1);
    set_int(self, ZMQ_ROUTER_HANDOVER, 1);
    set_int(self, ZMQ_PROBE_ROUTER, 1);
    set_int(self, ZMQ_IMMEDIATE, 1);
    set_int(self, ZMQ_LINGER, 200);
    set_int(self, ZMQ_RECONNECT_IVL, 100);
    set_int(self, ZMQ_RECONNECT_IVL_MAX, 5000);
    int64_t max = MU_SOCKET_MAX_MESSAGE + 16;
    zmq_setsockopt(self->handle, ZMQ_MAXMSGSIZE, &max, sizeof max);
    (void) mu_socket_set_heartbeat(self, self->hb_ivl, self->hb_timeout);
    zmq_msg_init(&self->route);
    zmq_msg_init(&self->body);
    zmq_msg_init(&self->scratch);
    zmq_msg_init(&self->cur.body);
    self->next_ping = self->next_due = now_ms();
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
    for (size_t i = 0; i < self->nring; i++) {
        flush_acks(self, self->ring[i]);
        (void) send_now(self, self->ring[i]->id, "B", 1);
    }
    zsock_destroy(&self->sock);
    mu__zap_unregister(&self->zap);
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
    if (self->pend) {
        for (size_t i = 0; i <= self->pend_mask; i++)
            free(self->pend[i].body);
        free(self->pend);
    }
    zhashx_destroy(&self->peers);
    free(self->ring);
    mu_keys_destroy(&self->srv_keys);
    mu_keys_destroy(&self->cli_keys);
    mu_allow_destroy(&self->allow);
    free(self);
}

const uint8_t *
mu_socket_identity(const mu_socket_t *self)
{
    assert(self);
    return self->id;
}

int
mu_socket_set_mode(mu_socket_t *self, mu_socket_mode_t mode)
{
    assert(self);
    if (mode != MU_SOCKET_PUBLISH && mode != MU_SOCKET_ROUNDROBIN)
        return MU_EINVAL;
    self->mode = mode;
    return 0;
}

int
mu_socket_set_heartbeat(mu_socket_t *self, int interval_ms, int timeout_ms)
{
    assert(self);
    if (interval_ms <= 0 || timeout_ms <= interval_ms)
        return MU_EINVAL;
    self->hb_ivl = interval_ms;
    self->hb_timeout = timeout_ms;
    set_int(self, ZMQ_HEARTBEAT_IVL, interval_ms);
    set_int(self, ZMQ_HEARTBEAT_TIMEOUT, timeout_ms);
    set_int(self, ZMQ_HEARTBEAT_TTL, timeout_ms);
    self->next_ping = self->next_due = now_ms();
    return 0;
}

int
mu_socket_set_queue(mu_socket_t *self, size_t limit, mu_socket_policy_t policy, int timeout_ms)
{
    assert(self);
    if (limit < 1 || limit > (1u << 24) || timeout_ms < -1
        || (policy != MU_SOCKET_BLOCK && policy != MU_SOCKET_DROP))
        return MU_EINVAL;
    if (limit != self->queue_limit) {
        if (limit < self->q_len)
            return MU_EINVAL;
        queued_t *queue = calloc(limit, sizeof *queue);
        if (!queue)
            return MU_ENOMEM;
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

int
mu_socket_set_drop_unroutable(mu_socket_t *self, int drop)
{
    assert(self);
    self->drop_unroutable = drop != 0;
    return 0;
}

void
mu_socket_set_events(mu_socket_t *self, int on)
{
    assert(self);
    self->events = on != 0;
}

int
mu_socket_set_at_least_once(mu_socket_t *self, int retries, int resend_ms, size_t window)
{
    assert(self);
    if (retries < 1 || retries > 1000 || resend_ms < 1 || window < 1 || window > DEDUP_BITS
        || self->sent_any)
        return MU_EINVAL;
    size_t cap = 1;
    while (cap < window)
        cap <<= 1;
    pending_t *pend = calloc(cap, sizeof *pend);
    if (!pend)
        return MU_ENOMEM;
    free(self->pend);
    self->pend = pend;
    self->pend_mask = cap - 1;
    self->reliable = true;
    self->retries = retries;
    self->resend_ms = resend_ms;
    self->window = window;
    set_int(self, ZMQ_RCVHWM, (int) (2 * window + 1000));
    return 0;
}

int
mu_socket_set_curve(mu_socket_t *self, const mu_keys_t *server_keys, const mu_allow_t *allow,
                    const mu_keys_t *client_keys, const uint8_t *server_public)
{
    assert(self);
    if ((server_keys && (!allow || !mu_keys_secret(server_keys)))
        || (client_keys && (!server_public || !mu_keys_secret(client_keys)))
        || (!server_keys && allow) || (!client_keys && server_public)
        || self->zap)               /* a CURVE bind uses the current list */
        return MU_EINVAL;
    mu_keys_t *srv = server_keys ? mu_keys_dup(server_keys) : NULL;
    mu_keys_t *cli = client_keys ? mu_keys_dup(client_keys) : NULL;
    mu_allow_t *al = allow ? mu_allow_dup(allow) : NULL;
    if ((server_keys && (!srv || !al)) || (client_keys && !cli)) {
        mu_keys_destroy(&srv);
        mu_keys_destroy(&cli);
        mu_allow_destroy(&al);
        return MU_ENOMEM;
    }
    mu_keys_destroy(&self->srv_keys);
    mu_keys_destroy(&self->cli_keys);
    mu_allow_destroy(&self->allow);
    self->srv_keys = srv;
    self->cli_keys = cli;
    self->allow = al;
    if (server_public)
        memcpy(self->server_public, server_public, MU_KEY_BYTES);
    return 0;
}

int
mu_socket_set_curve_secret(mu_socket_t *self, const void *secret, size_t size)
{
    assert(self);
    mu_keys_t *srv = mu_keys_from_secret(secret, size, MU_KEYS_SERVER);
    mu_keys_t *cli = srv ? mu_keys_from_secret(secret, size, MU_KEYS_CLIENT) : NULL;
    mu_allow_t *allow = cli ? mu_allow_new() : NULL;
    int rc = allow ? 0 : (errno == EINVAL ? MU_EINVAL : MU_ENOMEM);
    if (rc == 0)
        rc = mu_allow_add(allow, mu_keys_public(cli));
    if (rc == 0)
        rc = mu_socket_set_curve(self, srv, allow, cli, mu_keys_public(srv));
    mu_keys_destroy(&srv);
    mu_keys_destroy(&cli);
    mu_allow_destroy(&allow);
    return rc;
}

/* Back to the NULL mechanism (libzmq: an empty PLAIN user name does it). */
static void
set_plaintext(mu_socket_t *self)
{
    (void) zmq_setsockopt(self->handle, ZMQ_PLAIN_USERNAME, NULL, 0);
}

int
mu_socket_bind(mu_socket_t *self, const char *endpoint)
{
    assert(self);
    if (mu__endpoint_check(endpoint, true) != 0)
        return MU_EINVAL;
    if (self->srv_keys) {
        if (!self->zap && !(self->zap = mu__zap_register(self->allow)))
            return errno == ENOMEM ? MU_ENOMEM : MU_EINVAL;
        int rc = mu__zap_setup_server(self->handle, self->srv_keys, self->zap);
        if (rc != 0)
            return rc;
    } else
        set_plaintext(self);
    if (zmq_bind(self->handle, endpoint) != 0)
        return MU_EINVAL;
    size_t len = sizeof self->endpoint;
    if (zmq_getsockopt(self->handle, ZMQ_LAST_ENDPOINT, self->endpoint, &len) != 0)
        self->endpoint[0] = 0;
    const char *colon = strncmp(self->endpoint, "tcp://", 6) == 0
                            ? strrchr(self->endpoint, ':') : NULL;
    return colon ? atoi(colon + 1) : 0;
}

int
mu_socket_connect(mu_socket_t *self, const char *endpoint)
{
    assert(self);
    if (mu__endpoint_check(endpoint, false) != 0)
        return MU_EINVAL;
    if (self->cli_keys) {
        int rc = mu__zap_setup_client(self->handle, self->cli_keys, self->server_public);
        if (rc != 0)
            return rc;
    } else
        set_plaintext(self);
    return zmq_connect(self->handle, endpoint) == 0 ? 0 : MU_EINVAL;
}

const char *
mu_socket_endpoint(const mu_socket_t *self)
{
    assert(self);
    return self->endpoint;
}

size_t
mu_socket_peers(const mu_socket_t *self)
{
    assert(self);
    return self->nring;
}

int
mu_socket_has_peer(const mu_socket_t *self, const uint8_t *identity)
{
    assert(self && identity);
    peer_t *peer = zhashx_lookup(self->peers, identity);
    return peer && peer->joined;
}

void
mu_socket_stats(const mu_socket_t *self, mu_socket_stats_t *stats)
{
    assert(self && stats);
    *stats = self->stats;
    stats->auth_failures = self->zap ? mu__zap_failures(self->zap) : 0;
}

void *
mu_socket_zsock(mu_socket_t *self)
{
    assert(self);
    return self->sock;
}

int
mu_socket_fd(mu_socket_t *self)
{
    assert(self);
    return zsock_fd(self->sock);
}

/* ------------------------------------------------------------------ */
/* AT_LEAST_ONCE: the sender side                                      */

static size_t
in_flight(const mu_socket_t *self)
{
    return (size_t) (self->pnext - self->pbase);
}

static pending_t *
pending_add(mu_socket_t *self, const uint8_t *peer_id, const void *data, size_t size,
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
    p->due = now_ms() + self->resend_ms;
    memcpy(p->peer, peer_id, ID_BYTES);
    *id_p = id;
    return p;
}

static void
pending_done(mu_socket_t *self, uint64_t id)
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
    peer_t *peer = peer_find(self, p->peer);
    if (peer && peer->joined)
        return peer;
    if (self->mode != MU_SOCKET_ROUNDROBIN || self->nring == 0)
        return NULL;
    peer = self->ring[self->cursor];
    self->cursor = (self->cursor + 1) % self->nring;
    memcpy(p->peer, peer->id, ID_BYTES);
    return peer;
}

static void
resend_due(mu_socket_t *self, int64_t now)
{
    for (uint64_t id = self->pbase; id < self->pnext; id++) {
        pending_t *p = &self->pend[id & self->pend_mask];
        if (!p->live || p->due > now)
            continue;
        if (p->retries >= self->retries) {
            self->stats.dropped++;
            pending_done(self, id);
            continue;
        }
        peer_t *peer = resend_target(self, p);
        int rc = peer ? send_now(self, peer->id, p->body, p->len) : MU_EHOSTUNREACH;
        if (rc == MU_EAGAIN)
            continue;                   /* pipe full: try at the next scan */
        if (rc == MU_EHOSTUNREACH && peer)
            peer_leave(self, peer);
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
static void
resend_to_joined(mu_socket_t *self, const peer_t *peer)
{
    if (!self->reliable)
        return;
    int64_t now = now_ms();
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
static int
dd_check(peer_t *peer, uint64_t id)
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
    if (id >= peer->dd_base + DEDUP_BITS) {     /* slide: forget the oldest */
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

/* ------------------------------------------------------------------ */
/* Reading and processing                                              */

static void
peer_join(mu_socket_t *self, peer_t *peer, uint64_t session)
{
    if (peer->joined && peer->session == session)
        return;
    if (peer->joined)               /* the peer restarted: leave, then join */
        peer_leave(self, peer);
    if (!ring_add(self, peer))
        return;
    peer->session = session;
    peer->joined = true;
    peer->nacks = 0;
    self->stats.joins++;
    if (peer->ever_joined)
        self->stats.reconnects++;
    peer->ever_joined = true;
    push_event(self, MU_SOCKET_JOIN, peer->id);
    resend_to_joined(self, peer);
    self->next_due = now_ms();      /* flush the local queue soon */
}

static void
on_hello(mu_socket_t *self, const uint8_t *route, const uint8_t *body, size_t len)
{
    mu__hello_t hello;
    if (mu__hello_parse(route, body, len, &hello) != 0) {
        self->stats.malformed++;
        return;
    }
    peer_t *peer = peer_get(self, route);
    if (!peer)
        return;
    peer_join(self, peer, hello.session);
    peer->last_recv = self->now = now_ms();
    if (hello.flags & HELLO_ANSWER)
        send_hello(self, route, 0);
}

static void
on_ack(mu_socket_t *self, const uint8_t *body, size_t len)
{
    if (len < 9 || (len - 1) % 8 != 0) {
        self->stats.malformed++;
        return;
    }
    if (!self->reliable)
        return;
    for (size_t off = 1; off < len; off += 8)
        pending_done(self, mu__get_le64(body + off));
}

/* Reads and handles one message, waiting up to wait_ms for it. direct: a
   DATA message stays in self->body/route for the caller (returns 1);
   otherwise it is moved to the inbox. Returns 1 (data ready in self->body),
   0 (handled), MU_EAGAIN (nothing to read) or another MU_E code. */
static int
process_one(mu_socket_t *self, bool direct, int wait_ms)
{
    zmq_msg_t *msg = direct ? &self->body : &self->scratch;
    if (wait_ms > 0 && wait_ms != self->rcvtimeo_set) {
        set_int(self, ZMQ_RCVTIMEO, wait_ms);
        self->rcvtimeo_set = wait_ms;
    }
    /* zmq_msg_recv returns the frame size (capped at INT_MAX), which
       spares a zmq_msg_size call per frame */
    int route_size = zmq_msg_recv(&self->route, self->handle, wait_ms > 0 ? 0 : ZMQ_DONTWAIT);
    if (route_size < 0)
        return zmq_error();
    bool more = zmq_msg_more(&self->route);
    int body_size = more ? zmq_msg_recv(msg, self->handle, 0) : -1;
    if (body_size < 0) {
        self->stats.malformed++;
        return 0;
    }
    if (zmq_msg_more(msg)) {                /* not ours: drain the rest */
        while (zmq_msg_more(msg) && zmq_msg_recv(msg, self->handle, 0) >= 0)
            ;
        self->stats.malformed++;
        return 0;
    }
    if (route_size != ID_BYTES) {
        self->stats.malformed++;
        return 0;
    }
    const uint8_t *route = zmq_msg_data(&self->route);
    const uint8_t *body = zmq_msg_data(msg);
    size_t len = body_size < INT_MAX ? (size_t) body_size : zmq_msg_size(msg);
    if (len == 0) {                          /* connection probe */
        send_hello(self, route, HELLO_ANSWER);
        return 0;
    }
    if (body[0] == 'H') {
        on_hello(self, route, body, len);
        return 0;
    }
    peer_t *peer = peer_find(self, route);
    if (!peer || !peer->joined) {
        self->stats.malformed++;
        send_hello(self, route, HELLO_ANSWER);
        return 0;
    }
    peer->last_recv = self->now;
    uint64_t rel_id = 0;
    size_t offset = 1;
    switch (body[0]) {
    case 'D':
        break;
    case 'R':
        if (len < 9) {
            self->stats.malformed++;
            return 0;
        }
        rel_id = mu__get_le64(body + 1);
        offset = 9;
        int fresh = dd_check(peer, rel_id);
        if (fresh <= 0) {
            if (fresh == 0) {
                self->stats.duplicates++;
                owe_ack(self, peer, rel_id);
            }
            return 0;
        }
        break;
    case 'A':
        on_ack(self, body, len);
        return 0;
    case 'P':
        return 0;
    case 'B':
        peer_leave(self, peer);
        return 0;
    default:
        self->stats.malformed++;
        return 0;
    }
    if (direct && self->in_len == 0) {
        self->route_data = route;
        self->body_data = body;
        self->body_size = len;
        self->cur.offset = offset;
        self->cur.rel_id = rel_id;
        return 1;
    }
    inbox_t *item = inbox_push(self);
    if (!item)
        return MU_ENOMEM;
    item->event = MU_SOCKET_MESSAGE;
    memcpy(item->peer, route, ID_BYTES);
    zmq_msg_move(&item->body, msg);
    item->offset = offset;
    item->rel_id = rel_id;
    return 0;
}

/* Reads ahead into the inbox until nothing is left or it is full. */
static void
drain_incoming(mu_socket_t *self)
{
    while (!inbox_full(self) && process_one(self, false, 0) >= 0)
        ;
}

/* ------------------------------------------------------------------ */
/* Sending                                                             */

/* A deadline for a timeout counted from now (a clock reading already
   taken, so the hot paths read the clock once): -1 none, 0 already passed. */
static int64_t
deadline_of(int64_t now, int timeout_ms)
{
    return timeout_ms < 0 ? -1 : timeout_ms == 0 ? 0 : now + timeout_ms;
}

/* Milliseconds left until deadline at the clock reading now. */
static int
remaining_at(int64_t deadline, int64_t now)
{
    if (deadline <= 0)
        return (int) deadline;
    int64_t left = deadline - now;
    return left > 0 ? (int) left : 0;
}

static int
remaining(int64_t deadline)
{
    return deadline <= 0 ? (int) deadline : remaining_at(deadline, now_ms());
}

/* Reads the clock and does the periodic work if due. Returns the clock
   read on entry; self->now is the clock after the work (read again only
   when a tick ran). */
static int64_t
maybe_tick(mu_socket_t *self)
{
    int64_t now = self->now = now_ms();
    if (now >= self->next_due && !self->in_tick) {
        do_tick(self, now);
        self->now = now_ms();
    }
    return now;
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
        int rc = zmq_error();
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
        int rc = zmq_error();
        if (rc != MU_EAGAIN)
            return rc;
        int left = remaining(deadline);
        if (self->policy == MU_SOCKET_DROP || left == 0)
            return self->policy == MU_SOCKET_DROP ? MU_EAGAIN : MU_ETIMEDOUT;
        int slice = left < 0 || left > SLICE_MS ? SLICE_MS : left;
        if (slice != self->sndtimeo_set) {
            set_int(self, ZMQ_SNDTIMEO, slice);
            self->sndtimeo_set = slice;
        }
        if (zmq_send(self->handle, peer->id, ID_BYTES, ZMQ_SNDMORE) == ID_BYTES)
            return send_part(self, proto, take);
        rc = zmq_error();
        if (rc != MU_EAGAIN)
            return rc;
        drain_incoming(self);           /* acks, pings, hellos meanwhile */
        maybe_tick(self);
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
        pending_t *p = pending_add(self, peer->id, data, size, &id);
        zmq_msg_t m;
        if (!p || zmq_msg_init_size(&m, p ? p->len : 0) != 0) {
            if (p)
                pending_done(self, id);
            return MU_ENOMEM;
        }
        memcpy(zmq_msg_data(&m), p->body, p->len);
        rc = send_body(self, peer, &m, true, deadline);
        zmq_msg_close(&m);
        if (rc == MU_EHOSTUNREACH)
            peer_leave(self, peer);
        else if (self->in_tick && (rc == MU_EAGAIN || rc == MU_ETIMEDOUT))
            rc = 0;     /* a full pipe in a tick's queue flush: no caller to
                           fail, and the message was accepted: resent later */
        if (rc == MU_EHOSTUNREACH || rc == 0) {  /* a gone peer: resent later */
            self->stats.sent++;
            return rc;
        }
        pending_done(self, id);
        return rc;
    }
    rc = send_body(self, peer, proto, take, deadline);
    if (rc == 0)
        self->stats.sent++;
    else if (rc == MU_EHOSTUNREACH)
        peer_leave(self, peer);
    return rc;
}

/* The waiting part of wait_window, entered when the window is full. */
static int
wait_window_full(mu_socket_t *self, int64_t deadline)
{
    while (self->reliable && in_flight(self) >= self->window) {
        drain_incoming(self);
        maybe_tick(self);
        if (in_flight(self) < self->window)
            break;
        int left = remaining(deadline);
        if (self->policy == MU_SOCKET_DROP || left == 0)
            return self->policy == MU_SOCKET_DROP ? MU_EAGAIN : MU_ETIMEDOUT;
        int wait = self->resend_ms;
        if (left >= 0 && left < wait)
            wait = left;
        zmq_pollitem_t item = { self->handle, 0, ZMQ_POLLIN, 0 };
        if (zmq_poll(&item, 1, wait) < 0 && errno != EINTR)
            return zmq_error();
    }
    return 0;
}

/* Waits until the AT_LEAST_ONCE window has room (inline: without
   AT_LEAST_ONCE, or with room, it is one test). */
static inline int
wait_window(mu_socket_t *self, int64_t deadline)
{
    if (!self->reliable || in_flight(self) < self->window)
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
            return 0;           /* registered; resent to the next peer */
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
    peer_t *snapshot_small[16];     /* the ring may change while we wait */
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
    return !self->reliable || in_flight(self) + copies <= self->window;
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
                return rc;              /* nobody took it: keep it queued */
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
            return zmq_error();
        drain_incoming(self);
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

int
mu_socket_send(mu_socket_t *self, const void *data, size_t size)
{
    assert(self && (data || size == 0));
    if (size > MU_SOCKET_MAX_MESSAGE)
        return MU_EMSGSIZE;
    int64_t deadline = deadline_of(maybe_tick(self), self->send_timeout);
    /* acks and pings keep flowing: read ahead every 16 sends when acks
       matter, else every 256 sends but at most once per clock step (a
       read-ahead costs a system call in libzmq even when nothing waits) */
    if ((++self->sends & (self->reliable ? 15 : 255)) == 0
        && (self->reliable || self->drained_at != self->now)) {
        self->drained_at = self->now;
        drain_incoming(self);
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

int
mu_socket_send_to(mu_socket_t *self, const uint8_t *identity, const void *data, size_t size)
{
    assert(self && identity && (data || size == 0));
    if (size > MU_SOCKET_MAX_MESSAGE)
        return MU_EMSGSIZE;
    int64_t deadline = deadline_of(maybe_tick(self), self->send_timeout);
    self->sent_any = true;
    peer_t *peer = peer_find(self, identity);
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

static void
do_tick(mu_socket_t *self, int64_t now)
{
    if (self->in_tick)
        return;
    self->in_tick = true;
    self->now = now;
    drain_incoming(self);
    if (now >= self->next_ping) {
        for (size_t i = 0; i < self->nring;) {
            peer_t *peer = self->ring[i];
            send_control(self, peer, "P", 1);
            if (peer->joined)
                i++;
        }
        self->next_ping = now + self->hb_ivl;
    }
    if (!inbox_full(self)) {
        for (size_t i = 0; i < self->nring;) {
            peer_t *peer = self->ring[i];
            if (now - peer->last_recv > self->hb_timeout) {
                peer_leave(self, peer);
                send_hello(self, peer->id, HELLO_ANSWER);  /* alive? rejoin */
            } else
                i++;
        }
    }
    flush_all_acks(self);
    if (self->reliable && now >= self->next_resend)
        resend_due(self, now);
    self->next_due = self->next_ping;
    if (self->reliable && self->next_resend < self->next_due)
        self->next_due = self->next_resend;
    if (self->q_len > 0 && self->nring > 0 && !self->sending) {
        self->sending = true;
        (void) flush_queue(self, now);      /* without waiting */
        self->sending = false;
    }
    self->in_tick = false;
}

int
mu_socket_tick(mu_socket_t *self)
{
    assert(self);
    int64_t now = now_ms();
    if (now >= self->next_due)
        do_tick(self, now);
    int64_t left = self->next_due - now_ms();
    return left > 0 ? (int) left : 0;
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
        peer_t *peer = peer_find(self, peer_id);
        if (peer && peer->joined)
            owe_ack(self, peer, item->rel_id);
    }
}

int
mu_socket_recv(mu_socket_t *self, mu_socket_msg_t *msg, int timeout_ms)
{
    assert(self && msg);
    release_current(self);
    int64_t deadline = -2;              /* computed when first needed */
    for (;;) {
        maybe_tick(self);
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
            flush_all_acks(self);
        /* block in libzmq until a message, the deadline or the next tick
           (rounded up to 16 ms, so RCVTIMEO rarely needs setting again) */
        int wait = 0;
        if (timeout_ms != 0) {
            if (deadline == -2)
                deadline = deadline_of(self->now, timeout_ms);
            int left = remaining_at(deadline, self->now);  /* read by maybe_tick */
            if (left == 0)
                return MU_ETIMEDOUT;
            int64_t until_tick = self->next_due - self->now;
            int next = until_tick > 0 ? (int) until_tick : 1;
            wait = left > 0 && left < next ? left : (next | 15) + 1;
        }
        int rc = process_one(self, true, wait);
        if (rc == 1) {                  /* stays in self->body until the next recv */
            self->cur.event = MU_SOCKET_MESSAGE;
            hand_out(self, msg, self->route_data, &self->cur, self->body_data,
                     self->body_size);
            return 0;
        }
        if (rc == MU_EAGAIN && timeout_ms == 0)
            return MU_EAGAIN;
        if (rc != 0 && rc != MU_EAGAIN)
            return rc;
    }
}
