/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_server.c — the ROUTER side of the connection core. The contract is in
    include/mu_server.h, the wire format in src/conn/mu_conn.h.

    Everything runs on the caller's thread inside mu_server_recv: no relay
    thread on the data path. Leave detection: a peer leaves on BYE, or when
    libzmq drops its connection — a zmq_socket_monitor reports
    ZMQ_EVENT_DISCONNECTED with the connection's fd, and each peer remembers
    the fd its HELLO came on (ZMQ_SRCFD). ZeroMQ heartbeats
    (ZMQ_HEARTBEAT_IVL/TIMEOUT/TTL) turn a silent dead peer into a dropped
    connection within the heartbeat timeout, so no application-level expiry
    is needed (an idle but live client is never expired). The monitor is
    drained before every ROUTER read: libzmq queues the DISCONNECTED event
    before it closes the fd, so a new connection that reuses the fd number
    is never confused with the old one. */
#include "conn/mu_conn.h"
#include "net/mu_zap.h"
#include "conn/mu_server_events.h"
#include "conn/mu_budget.h"
#include <czmq.h>
#include <poll.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define MAX_MESSAGE_DEFAULT (16u * 1024 * 1024 + 64 * 1024)
#define MAX_NAME 255
#define MAX_RID 255
#define MONITOR_EVERY_MS 20
#define PEER_BUDGET_DEFAULT ((size_t) 64 * 1024 * 1024)
#define SERVER_BUDGET_DEFAULT ((size_t) 512 * 1024 * 1024)

typedef enum { SEC_NONE, SEC_INSECURE, SEC_CURVE } security_t;

typedef struct {
    uint64_t id;
    uint8_t rid[MAX_RID];
    size_t rid_len;
    char rid_key[2 * MAX_RID + 1];
    char id_key[17];
    uint8_t key[MU_KEY_BYTES];
    char *name;
    int fd;
    mu_server_stats_t stats;
    mu__budget_peer_t *account;   /* its file data queued in libzmq */
} peer_t;

struct mu_server_t {
    security_t security;
    mu_keys_t *keys;
    mu_allow_t *allow;
    mu__zap_domain_t *zap;
    int hb_ivl, hb_timeout;
    size_t max_message;
    zsock_t *router, *monitor;
    void *handle, *monitor_handle;
    zlistx_t *endpoints;          /* char * */
    zhashx_t *by_rid, *by_id;     /* peer_t *; by_id owns them */
    peer_t *last_peer;            /* cache of the last lookup by rid */
    uint64_t next_peer_id;
    mu_server_stats_t totals;
    mu__events_t events;          /* events ready for the application */
    int64_t monitor_read_ms;      /* when the monitor was last drained */
    bool monitor_quiet;           /* drained to EAGAIN, its fd silent since */
    bool files_touched;           /* a file message was handled */
    mu__files_server_t *files;
    mu__budget_t *budget;         /* file data queued, all peers */
};

/* ------------------------------------------------------------------ */
/* Construction and settings                                           */

static void
peer_destroy(void **item_p)
{
    peer_t *peer = *item_p;
    if (peer) {
        free(peer->name);
        mu__budget_peer_release(&peer->account);
        free(peer);
        *item_p = NULL;
    }
}

mu_server_t *
mu_server_new(void)
{
    mu_server_t *self = calloc(1, sizeof *self);
    if (!self) {
        errno = ENOMEM;
        return NULL;
    }
    self->hb_ivl = 1000;
    self->hb_timeout = 5000;
    self->max_message = MAX_MESSAGE_DEFAULT;
    self->next_peer_id = 1;
    self->endpoints = zlistx_new();
    self->by_rid = zhashx_new();
    self->by_id = zhashx_new();
    self->budget = mu__budget_new(PEER_BUDGET_DEFAULT, SERVER_BUDGET_DEFAULT);
    if (!self->endpoints || !self->by_rid || !self->by_id || !self->budget) {
        mu_server_destroy(&self);
        errno = ENOMEM;
        return NULL;
    }
    zlistx_set_destructor(self->endpoints, (czmq_destructor *) zstr_free);
    zhashx_set_destructor(self->by_id, peer_destroy);
    return self;
}

static bool
is_bound(const mu_server_t *self)
{
    return self->router != NULL;
}

int
mu_server_set_curve(mu_server_t *self, const mu_keys_t *keys, const mu_allow_t *allow)
{
    assert(self);
    if (is_bound(self) || !keys || !allow || !mu_keys_secret(keys))
        return MU_EINVAL;
    mu_keys_t *keys_copy = mu_keys_dup(keys);
    mu_allow_t *allow_copy = mu_allow_dup(allow);
    if (!keys_copy || !allow_copy) {
        mu_keys_destroy(&keys_copy);
        mu_allow_destroy(&allow_copy);
        return MU_ENOMEM;
    }
    mu_keys_destroy(&self->keys);
    mu_allow_destroy(&self->allow);
    self->keys = keys_copy;
    self->allow = allow_copy;
    self->security = SEC_CURVE;
    return 0;
}

int
mu_server_set_secret(mu_server_t *self, const void *secret, size_t size)
{
    assert(self);
    if (is_bound(self))
        return MU_EINVAL;
    mu_keys_t *server_keys = mu_keys_from_secret(secret, size, MU_KEYS_SERVER);
    mu_keys_t *client_keys = mu_keys_from_secret(secret, size, MU_KEYS_CLIENT);
    mu_allow_t *allow = mu_allow_new();
    int rc = (!server_keys || !client_keys) ? -errno : allow ? 0 : MU_ENOMEM;
    if (rc == 0 && mu_allow_add(allow, mu_keys_public(client_keys)) != 0)
        rc = MU_ENOMEM;
    if (rc == 0)
        rc = mu_server_set_curve(self, server_keys, allow);
    mu_keys_destroy(&server_keys);
    mu_keys_destroy(&client_keys);
    mu_allow_destroy(&allow);
    return rc;
}

int
mu_server_set_insecure(mu_server_t *self)
{
    assert(self);
    if (is_bound(self))
        return MU_EINVAL;
    mu_keys_destroy(&self->keys);
    mu_allow_destroy(&self->allow);
    self->security = SEC_INSECURE;
    return 0;
}

int
mu_server_set_root(mu_server_t *self, const char *dir)
{
    assert(self);
    if (!dir)
        return MU_EINVAL;
    mu__files_server_t *files = mu__files_server_new(dir);
    if (!files)
        return -errno;
    mu__files_server_destroy(&self->files);
    self->files = files;
    return 0;
}

int
mu_server_set_heartbeat(mu_server_t *self, int interval_ms, int timeout_ms)
{
    assert(self);
    /* ZMQ_HEARTBEAT_TTL is sent in deciseconds in a 16-bit field */
    if (is_bound(self) || interval_ms < 10 || timeout_ms < interval_ms
        || timeout_ms > 6553500)
        return MU_EINVAL;
    self->hb_ivl = interval_ms;
    self->hb_timeout = timeout_ms;
    return 0;
}

int
mu_server_set_max_message(mu_server_t *self, size_t bytes)
{
    assert(self);
    if (is_bound(self) || bytes == 0 || bytes > (size_t) INT64_MAX - MU__HDR_SIZE)
        return MU_EINVAL;
    self->max_message = bytes;
    return 0;
}

int
mu_server_set_transfer_budget(mu_server_t *self, size_t per_peer_bytes, size_t per_server_bytes)
{
    assert(self);
    if (per_peer_bytes == 0 || per_server_bytes == 0 || per_peer_bytes > per_server_bytes)
        return MU_EINVAL;
    mu__budget_set(self->budget, per_peer_bytes, per_server_bytes);
    return 0;
}

/* ------------------------------------------------------------------ */
/* Sockets                                                             */

/* libzmq starts its heartbeat timeout when it sends a PING, up to one
   interval after the peer was last heard: ask for the rest, so a silent
   peer is dropped within timeout_ms in all (but never below half an
   interval, which would drop live peers on a busy machine). */
static int
zmtp_timeout(int interval_ms, int timeout_ms)
{
    int floor = interval_ms / 2 > 10 ? interval_ms / 2 : 10;
    return timeout_ms - interval_ms > floor ? timeout_ms - interval_ms : floor;
}

static int
set_int(void *handle, int option, int value)
{
    return zmq_setsockopt(handle, option, &value, sizeof value) == 0 ? 0 : -errno;
}

static int
configure_router(mu_server_t *self)
{
    /* the limit is on the payload: the frame holds the header too */
    int64_t max = (int64_t) (self->max_message + MU__HDR_SIZE);
    int rc = set_int(self->handle, ZMQ_ROUTER_MANDATORY, 1);
    if (rc == 0)
        rc = set_int(self->handle, ZMQ_HEARTBEAT_IVL, self->hb_ivl);
    if (rc == 0)
        rc = set_int(self->handle, ZMQ_HEARTBEAT_TIMEOUT, zmtp_timeout(self->hb_ivl,
                                                                       self->hb_timeout));
    if (rc == 0)
        rc = set_int(self->handle, ZMQ_HEARTBEAT_TTL, self->hb_timeout);
    if (rc == 0)
        rc = set_int(self->handle, ZMQ_LINGER, 200);
    if (rc == 0 && zmq_setsockopt(self->handle, ZMQ_MAXMSGSIZE, &max, sizeof max) != 0)
        rc = -errno;
    return rc;
}

static int
setup_security(mu_server_t *self)
{
    self->zap = mu__zap_register(self->security == SEC_CURVE ? self->allow : NULL);
    if (!self->zap)
        return -errno;
    return mu__zap_setup_server(self->handle,
                                self->security == SEC_CURVE ? self->keys : NULL, self->zap);
}

static int
setup_monitor(mu_server_t *self)
{
    static unsigned sequence;
    char endpoint[96];
    snprintf(endpoint, sizeof endpoint, "inproc://mu-server-monitor-%p-%u", (void *) self,
             __atomic_fetch_add(&sequence, 1, __ATOMIC_RELAXED));
    if (zmq_socket_monitor(self->handle, endpoint, ZMQ_EVENT_DISCONNECTED) != 0)
        return -errno;
    self->monitor = zsock_new_pair(NULL);
    if (!self->monitor)
        return MU_ENOMEM;
    self->monitor_handle = zsock_resolve(self->monitor);
    self->monitor_quiet = false;
    return zsock_connect(self->monitor, "%s", endpoint) == 0 ? 0 : MU_EINVAL;
}

static int
create_router(mu_server_t *self)
{
    self->router = zsock_new(ZMQ_ROUTER);
    if (!self->router)
        return MU_ENOMEM;
    self->handle = zsock_resolve(self->router);
    int rc = configure_router(self);
    if (rc == 0)
        rc = setup_security(self);
    if (rc == 0)
        rc = setup_monitor(self);
    if (rc != 0) {
        if (self->monitor_handle)
            zmq_socket_monitor(self->handle, NULL, 0);
        zsock_destroy(&self->monitor);
        self->monitor_handle = NULL;
        zsock_destroy(&self->router);
        self->handle = NULL;
        mu__zap_unregister(&self->zap);
    }
    return rc;
}

int
mu_server_bind(mu_server_t *self, const char *endpoint)
{
    assert(self);
    if (self->security == SEC_NONE || mu__endpoint_check(endpoint, true) != 0)
        return MU_EINVAL;
    if (!is_bound(self)) {
        int rc = create_router(self);
        if (rc != 0)
            return rc;
    }
    if (zmq_bind(self->handle, endpoint) != 0)
        return errno == ENOENT || errno == EPROTONOSUPPORT ? MU_EINVAL : -errno;
    char last[256];
    size_t size = sizeof last;
    if (zmq_getsockopt(self->handle, ZMQ_LAST_ENDPOINT, last, &size) != 0)
        snprintf(last, sizeof last, "%s", endpoint);
    char *copy = strdup(last);
    if (!copy || !zlistx_add_end(self->endpoints, copy)) {
        free(copy);
        return MU_ENOMEM;
    }
    return 0;
}

const char *
mu_server_endpoint(const mu_server_t *self, size_t index)
{
    assert(self);
    if (index >= zlistx_size(self->endpoints))
        return NULL;
    const char *endpoint = zlistx_first(self->endpoints);
    while (index--)
        endpoint = zlistx_next(self->endpoints);
    return endpoint;
}

/* ------------------------------------------------------------------ */
/* Peers                                                               */

static void
rid_to_key(const uint8_t *rid, size_t rid_len, char *key)
{
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < rid_len; i++) {
        key[2 * i] = hex[rid[i] >> 4];
        key[2 * i + 1] = hex[rid[i] & 15];
    }
    key[2 * rid_len] = 0;
}

static peer_t *
peer_by_rid(mu_server_t *self, const uint8_t *rid, size_t rid_len)
{
    peer_t *cached = self->last_peer;
    if (cached && cached->rid_len == rid_len && memcmp(cached->rid, rid, rid_len) == 0)
        return cached;
    if (rid_len > MAX_RID)
        return NULL;
    char key[2 * MAX_RID + 1];
    rid_to_key(rid, rid_len, key);
    peer_t *peer = zhashx_lookup(self->by_rid, key);
    if (peer)
        self->last_peer = peer;
    return peer;
}

static peer_t *
peer_by_id(const mu_server_t *self, uint64_t id)
{
    char key[17];
    snprintf(key, sizeof key, "%" PRIx64, id);
    return zhashx_lookup(self->by_id, key);
}

/* The peer's CURVE key from the User-Id property (Z85) that the ZAP
   handler set; zeros when there is none (insecure). */
static void
read_peer_key(zmq_msg_t *msg, uint8_t *key)
{
    memset(key, 0, MU_KEY_BYTES);
    const char *user = zmq_msg_gets(msg, "User-Id");
    uint8_t decoded[MU_KEY_BYTES];
    if (user && strlen(user) == 40 && zmq_z85_decode(decoded, user))
        memcpy(key, decoded, MU_KEY_BYTES);
}

static peer_t *
peer_new(mu_server_t *self, const uint8_t *rid, size_t rid_len, const char *name,
         size_t name_len)
{
    peer_t *peer = calloc(1, sizeof *peer);
    if (!peer)
        return NULL;
    peer->name = malloc(name_len + 1);
    peer->account = mu__budget_peer_new(self->budget);
    if (!peer->name || !peer->account) {
        void *item = peer;
        peer_destroy(&item);
        return NULL;
    }
    if (name_len)
        memcpy(peer->name, name, name_len);
    peer->name[name_len] = 0;
    peer->id = self->next_peer_id++;
    memcpy(peer->rid, rid, rid_len);
    peer->rid_len = rid_len;
    rid_to_key(rid, rid_len, peer->rid_key);
    snprintf(peer->id_key, sizeof peer->id_key, "%" PRIx64, peer->id);
    peer->fd = -1;
    if (zhashx_insert(self->by_id, peer->id_key, peer) != 0) {
        void *item = peer;
        peer_destroy(&item);
        return NULL;
    }
    zhashx_insert(self->by_rid, peer->rid_key, peer);
    return peer;
}

/* Removes a peer and queues its LEAVE. */
static void
peer_leave(mu_server_t *self, peer_t *peer)
{
    mu__events_push(&self->events, mu__event_new(self, MU_SERVER_LEAVE, peer->id, 0, peer->name,
                                                  strlen(peer->name), 0));
    if (self->files)
        mu__files_server_peer_gone(self->files, peer->id);
    self->totals.peers_left++;
    if (self->last_peer == peer)
        self->last_peer = NULL;
    zhashx_delete(self->by_rid, peer->rid_key);
    zhashx_delete(self->by_id, peer->id_key);
}

/* ------------------------------------------------------------------ */
/* Sending                                                             */

/* Sends a frame made with mu__frame_init to a routing id. On success msg
   is left empty; on failure it stays the caller's. */
static int
send_frame_to_rid(mu_server_t *self, const uint8_t *rid, size_t rid_len, zmq_msg_t *msg)
{
    if (zmq_send(self->handle, rid, rid_len, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0)
        return errno == EAGAIN ? MU_EAGAIN : MU_EHOSTUNREACH;
    /* the pipe took the first frame: the rest of the message goes too */
    return zmq_msg_send(msg, self->handle, ZMQ_DONTWAIT) < 0 ? -errno : 0;
}

static int
send_to_rid(mu_server_t *self, const uint8_t *rid, size_t rid_len, int kind, uint64_t id,
            const void *data, size_t size)
{
    zmq_msg_t msg;
    uint8_t *payload = mu__frame_init(&msg, kind, id, size);
    if (!payload)
        return MU_ENOMEM;
    if (size)
        memcpy(payload, data, size);
    int rc = send_frame_to_rid(self, rid, rid_len, &msg);
    zmq_msg_close(&msg);
    return rc;
}

static void
count_out(mu_server_t *self, peer_t *peer, size_t size)
{
    peer->stats.msgs_out++;
    peer->stats.bytes_out += size;
    self->totals.msgs_out++;
    self->totals.bytes_out += size;
}

static int
send_to_peer(mu_server_t *self, peer_t *peer, int kind, uint64_t id, const void *data,
             size_t size)
{
    int rc = send_to_rid(self, peer->rid, peer->rid_len, kind, id, data, size);
    if (rc == 0)
        count_out(self, peer, size);
    return rc;
}

int
mu__server_send(mu_server_t *server, uint64_t peer_id, int kind, uint64_t id,
                const void *data, size_t size)
{
    peer_t *peer = server->handle ? peer_by_id(server, peer_id) : NULL;
    if (!peer)
        return MU_EHOSTUNREACH;
    return send_to_peer(server, peer, kind, id, data, size);
}

int
mu__server_send_frame(mu_server_t *server, uint64_t peer_id, zmq_msg_t *msg)
{
    peer_t *peer = server->handle ? peer_by_id(server, peer_id) : NULL;
    if (!peer)
        return MU_EHOSTUNREACH;
    size_t size = zmq_msg_size(msg) - MU__HDR_SIZE;
    int rc = send_frame_to_rid(server, peer->rid, peer->rid_len, msg);
    if (rc == 0)
        count_out(server, peer, size);
    return rc;
}

uint8_t *
mu__server_data_frame(mu_server_t *server, uint64_t peer_id, zmq_msg_t *msg, int kind,
                      uint64_t id, size_t size, int *rc_p)
{
    peer_t *peer = server->handle ? peer_by_id(server, peer_id) : NULL;
    uint8_t *payload = NULL;
    if (!peer)
        *rc_p = MU_EHOSTUNREACH;
    else if (!mu__budget_admit(peer->account, MU__HDR_SIZE + size))
        *rc_p = MU_EAGAIN;
    else if (!(payload = mu__budget_frame_init(peer->account, msg, kind, id, size)))
        *rc_p = MU_ENOMEM;
    else
        *rc_p = 0;
    return payload;
}

void
mu__server_count_file(mu_server_t *server, uint64_t peer_id, int received)
{
    peer_t *peer = peer_by_id(server, peer_id);
    uint64_t *total = received ? &server->totals.files_received : &server->totals.files_sent;
    (*total)++;
    if (peer)
        (*(received ? &peer->stats.files_received : &peer->stats.files_sent))++;
}

static int
send_error_rid(mu_server_t *self, const uint8_t *rid, size_t rid_len, uint64_t id, int code,
               const char *message)
{
    size_t size;
    void *payload = mu__err_encode(code, message, &size);
    if (!payload)
        return MU_ENOMEM;
    int rc = send_to_rid(self, rid, rid_len, MU__K_ERR, id, payload, size);
    free(payload);
    return rc;
}

static void
protocol_error(mu_server_t *self, peer_t *peer, const uint8_t *rid, size_t rid_len,
               uint64_t id, const char *message)
{
    self->totals.protocol_errors++;
    if (peer)
        peer->stats.protocol_errors++;
    if (send_error_rid(self, rid, rid_len, id, MU_EPROTO, message) == 0 && peer)
        count_out(self, peer, 4 + strlen(message));
}

/* ------------------------------------------------------------------ */
/* Receiving                                                           */

/* One received protocol message: the routing id and the frame, still
   owned by libzmq. */
typedef struct {
    zmq_msg_t frames[2];
    int count;          /* frames kept (at most 2) */
    bool too_many;
} incoming_t;

static int
read_message(mu_server_t *self, incoming_t *in)
{
    in->count = 0;
    in->too_many = false;
    zmq_msg_init(&in->frames[0]);
    if (zmq_msg_recv(&in->frames[0], self->handle, ZMQ_DONTWAIT) < 0) {
        int rc = -errno;
        zmq_msg_close(&in->frames[0]);
        return rc;
    }
    in->count = 1;
    /* the rest of a message is there once its first frame is */
    while (zmq_msg_more(&in->frames[in->count - 1])) {
        if (in->count == 2) {   /* more than routing id + frame: drop the rest */
            zmq_msg_t extra;
            zmq_msg_init(&extra);
            bool more = zmq_msg_recv(&extra, self->handle, ZMQ_DONTWAIT) >= 0
                        && zmq_msg_more(&extra);
            zmq_msg_close(&extra);
            in->too_many = true;
            if (!more)
                break;
            continue;
        }
        zmq_msg_init(&in->frames[1]);
        if (zmq_msg_recv(&in->frames[1], self->handle, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&in->frames[1]);
            break;
        }
        in->count = 2;
    }
    return 0;
}

static void
incoming_close(incoming_t *in)
{
    for (int i = 0; i < in->count; i++)
        zmq_msg_close(&in->frames[i]);
}

static void
count_in(mu_server_t *self, peer_t *peer, size_t size)
{
    peer->stats.msgs_in++;
    peer->stats.bytes_in += size;
    self->totals.msgs_in++;
    self->totals.bytes_in += size;
}

static void
send_welcome(mu_server_t *self, peer_t *peer)
{
    uint8_t id_bytes[8];
    for (int i = 0; i < 8; i++)
        id_bytes[i] = (uint8_t) (peer->id >> (8 * i));
    send_to_peer(self, peer, MU__K_WELCOME, 0, id_bytes, sizeof id_bytes);
}

static int drain_monitor(mu_server_t *self);

/* A HELLO from a routing id we do not know: a new peer. */
static void
on_new_hello(mu_server_t *self, incoming_t *in, uint64_t id, const uint8_t *rid,
             size_t rid_len, const char *name, size_t name_len)
{
    if (name_len > MAX_NAME || rid_len > MAX_RID) {
        protocol_error(self, NULL, rid, rid_len, id, "bad hello");
        return;
    }
    /* the old connection that had this fd, if any, must be seen to go
       first: libzmq queued its DISCONNECTED before closing the fd */
    drain_monitor(self);
    int fd = zmq_msg_get(&in->frames[1], ZMQ_SRCFD);
    peer_t *peer = peer_new(self, rid, rid_len, name, name_len);
    if (!peer)
        return;   /* out of memory: the client will say hello again */
    read_peer_key(&in->frames[1], peer->key);
    /* a live connection owns its fd: a peer still holding this number
       belongs to a connection that is gone */
    for (peer_t *other = zhashx_first(self->by_id); other && fd >= 0;
         other = zhashx_next(self->by_id))
        if (other != peer && other->fd == fd) {
            peer_leave(self, other);   /* at most one: stop iterating */
            break;
        }
    peer->fd = fd;
    self->totals.peers_joined++;
    count_in(self, peer, name_len);
    mu__events_push(&self->events,
                    mu__event_new(self, MU_SERVER_JOIN, peer->id, 0, name, name_len, 0));
    send_welcome(self, peer);
}

static bool
payload_forbidden(int kind)
{
    return kind == MU__K_BYE || kind == MU__K_PING;
}

static void
dispatch_known(mu_server_t *self, peer_t *peer, int kind, uint64_t id, const void *data,
               size_t size)
{
    count_in(self, peer, size);
    switch (kind) {
    case MU__K_HELLO:
        if (size > MAX_NAME)
            protocol_error(self, peer, peer->rid, peer->rid_len, id, "bad hello");
        else
            send_welcome(self, peer);
        break;
    case MU__K_BYE:
        peer_leave(self, peer);
        break;
    case MU__K_PING:
        send_to_peer(self, peer, MU__K_PONG, id, NULL, 0);
        break;
    case MU__K_REQ:
        mu__events_push(&self->events,
                        mu__event_new(self, MU_SERVER_REQUEST, peer->id, id, data, size, 0));
        break;
    case MU__K_MSG:
        mu__events_push(&self->events,
                        mu__event_new(self, MU_SERVER_MESSAGE, peer->id, 0, data, size, 0));
        break;
    case MU__K_STREAM:
    case MU__K_STREAM_END:
        mu__events_push(&self->events, mu__event_new(self, MU_SERVER_STREAM, peer->id, id, data,
                                                      size, kind == MU__K_STREAM_END));
        break;
    default:
        protocol_error(self, peer, peer->rid, peer->rid_len, id, "unknown message kind");
        break;
    }
}

static void
dispatch_file(mu_server_t *self, peer_t *peer, int kind, uint64_t id, const void *data,
              size_t size)
{
    count_in(self, peer, size);
    self->files_touched = true;
    if (!self->files) {
        if (send_error_rid(self, peer->rid, peer->rid_len, id, MU_ENOTSUP,
                           "this server serves no files") == 0)
            count_out(self, peer, 0);
        return;
    }
    if (mu__files_server_on_msg(self->files, self, peer->id, kind, id, data, size) < 0) {
        self->totals.protocol_errors++;
        peer->stats.protocol_errors++;
    }
}

static void
handle_message(mu_server_t *self, incoming_t *in)
{
    const uint8_t *rid = zmq_msg_data(&in->frames[0]);
    size_t rid_len = zmq_msg_size(&in->frames[0]);
    peer_t *peer = peer_by_rid(self, rid, rid_len);
    int kind = 0;
    uint64_t id = 0;
    const uint8_t *data = NULL;
    size_t size = 0;
    bool header_ok = in->count == 2
                     && mu__frame_decode(zmq_msg_data(&in->frames[1]),
                                         zmq_msg_size(&in->frames[1]), &kind, &id, &data,
                                         &size) == 0;
    if (in->count == 2 && !header_ok && zmq_msg_size(&in->frames[1]) >= MU__HDR_SIZE) {
        /* a header of another version: answer with its id all the same */
        uint8_t copy[MU__HDR_SIZE];
        const uint8_t *unused;
        size_t unused_size;
        memcpy(copy, zmq_msg_data(&in->frames[1]), sizeof copy);
        copy[0] = MU__PROTO_VERSION;
        mu__frame_decode(copy, sizeof copy, &kind, &id, &unused, &unused_size);
    }
    if (!header_ok || in->too_many) {
        if (peer)
            count_in(self, peer, 0);
        protocol_error(self, peer, rid, rid_len, id, "malformed message");
        return;
    }
    if (!peer) {
        if (kind == MU__K_HELLO)
            on_new_hello(self, in, id, rid, rid_len, (const char *) data, size);
        else if (kind != MU__K_BYE)
            send_error_rid(self, rid, rid_len, id, MU_EPROTO, "hello first");
        return;
    }
    if (size && payload_forbidden(kind)) {
        count_in(self, peer, size);
        protocol_error(self, peer, rid, rid_len, id, "unexpected payload");
    } else if (MU__IS_FILE_KIND(kind))
        dispatch_file(self, peer, kind, id, data, size);
    else
        dispatch_known(self, peer, kind, id, data, size);
}

/* Reads the monitor: every DISCONNECTED connection's peer leaves. Returns
   the number of monitor events read. */
static int
drain_monitor(mu_server_t *self)
{
    self->monitor_read_ms = mu__now_ms();
    for (int count = 0;; count++) {
        zmq_msg_t event, address;
        zmq_msg_init(&event);
        if (zmq_msg_recv(&event, self->monitor_handle, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&event);
            self->monitor_quiet = true;
            return count;
        }
        zmq_msg_init(&address);
        if (zmq_msg_more(&event))
            zmq_msg_recv(&address, self->monitor_handle, 0);
        uint16_t what = 0;
        uint32_t value = 0;
        if (zmq_msg_size(&event) >= 6) {
            memcpy(&what, zmq_msg_data(&event), 2);
            memcpy(&value, (uint8_t *) zmq_msg_data(&event) + 2, 4);
        }
        zmq_msg_close(&event);
        zmq_msg_close(&address);
        if (what != ZMQ_EVENT_DISCONNECTED)
            continue;
        for (peer_t *peer = zhashx_first(self->by_id); peer; peer = zhashx_next(self->by_id))
            if (peer->fd == (int) value) {
                peer_leave(self, peer);
                break;
            }
    }
}

/* Reads and handles one ROUTER message. Returns 0 or MU_EAGAIN (none).
   While messages flow the monitor is read every MONITOR_EVERY_MS only (an
   empty read costs a system call); it is always read before waiting and
   before a new peer's hello. */
static int
pump_one(mu_server_t *self)
{
    if (mu__now_ms() - self->monitor_read_ms >= MONITOR_EVERY_MS)
        drain_monitor(self);
    incoming_t in;
    int rc = read_message(self, &in);
    if (rc != 0)
        return MU_EAGAIN;
    handle_message(self, &in);
    incoming_close(&in);
    return 0;
}

/* Waits up to wait_ms for the ROUTER or the monitor. Their ZMQ_FDs are
   edge-triggered: the caller has read both until EAGAIN and made no other
   call on them since. The monitor counts as read while it is quiet: once
   read to EAGAIN its fd stays readable from its next event until it is
   read again, so it is read only after this poll saw its fd (or every
   MONITOR_EVERY_MS), which saves a system call per wait. The budget's
   eventfd wakes the wait when file data drained while a transfer waited
   for room. Returns 0 or MU_EINTR. */
static int
wait_input(mu_server_t *self, int wait_ms)
{
    /* A signal that reached czmq's (or the application's) handler outside
       poll() is seen here; one inside poll() interrupts it. */
    if (zsys_interrupted)
        return MU_EINTR;
    struct pollfd fds[] = {
        { zsock_fd(self->router), POLLIN, 0 },
        { zsock_fd(self->monitor), POLLIN, 0 },
        { mu__budget_fd(self->budget), POLLIN, 0 },
    };
    if (poll(fds, 3, wait_ms) < 0)
        return errno == EINTR ? MU_EINTR : -errno;
    if (fds[1].revents)
        self->monitor_quiet = false;
    if (fds[2].revents)
        mu__budget_woken(self->budget);   /* file data drained: work again */
    return 0;
}

/* Runs the file service; returns the ms it wants to run again in (-1:
   nothing pending). */
static int
files_work(mu_server_t *self)
{
    self->files_touched = false;
    return self->files ? mu__files_server_work(self->files, self) : -1;
}

int
mu_server_recv(mu_server_t *self, mu_event_t **event_p, int timeout_ms)
{
    assert(self);
    if (!event_p || !is_bound(self))
        return MU_EINVAL;
    *event_p = NULL;
    int64_t deadline = mu__deadline_ms(timeout_ms);
    for (;;) {
        /* file chunks first (they get their turn even in a flood of
           events), then read until EAGAIN: nothing may touch the sockets
           between that and the wait */
        int files_hint = files_work(self);
        while (!self->events.head && pump_one(self) == 0)
            ;
        int monitor_events = self->events.head || self->monitor_quiet ? 0 : drain_monitor(self);
        if ((*event_p = mu__events_pop(&self->events)) != NULL)
            return 0;
        if (self->files_touched || monitor_events)
            continue;   /* new credit or a peer gone: work again first */
        int wait = mu__remaining_ms(deadline);
        if (wait == 0)
            return MU_EAGAIN;
        if (files_hint >= 0 && (wait < 0 || files_hint < wait))
            wait = files_hint;
        int rc = wait_input(self, wait);
        if (rc != 0)
            return rc;
    }
}

/* ------------------------------------------------------------------ */
/* Answers, pushes, streams                                            */

static int
answer(mu_server_t *self, mu_event_t *request, int kind, const void *data, size_t size)
{
    if (!request || !mu__event_answerable(request, self))
        return MU_EINVAL;
    int rc = mu__server_send(self, mu_event_peer(request), kind, mu_event_id(request), data,
                             size);
    if (rc == 0 || rc == MU_EHOSTUNREACH)
        mu__event_set_answered(request);
    return rc;
}

int
mu_server_reply(mu_server_t *self, mu_event_t *request, const void *data, size_t size)
{
    assert(self);
    if (size && !data)
        return MU_EINVAL;
    return answer(self, request, MU__K_REP, data, size);
}

int
mu_server_reply_error(mu_server_t *self, mu_event_t *request, int code, const char *message)
{
    assert(self);
    if (code >= 0)
        return MU_EINVAL;
    size_t size;
    void *payload = mu__err_encode(code, message, &size);
    if (!payload)
        return MU_ENOMEM;
    int rc = answer(self, request, MU__K_ERR, payload, size);
    free(payload);
    return rc;
}

int
mu_server_push(mu_server_t *self, uint64_t peer, const void *data, size_t size)
{
    assert(self);
    if (size && !data)
        return MU_EINVAL;
    return mu__server_send(self, peer, MU__K_PUSH, 0, data, size);
}

int
mu_server_push_all(mu_server_t *self, const void *data, size_t size)
{
    assert(self);
    if ((size && !data) || !is_bound(self))
        return 0;
    int queued = 0;
    for (peer_t *peer = zhashx_first(self->by_id); peer; peer = zhashx_next(self->by_id))
        if (send_to_peer(self, peer, MU__K_PUSH, 0, data, size) == 0)
            queued++;
    return queued;
}

int
mu_server_stream_send(mu_server_t *self, uint64_t peer, uint64_t stream_id, const void *data,
                      size_t size, int last)
{
    assert(self);
    if (size && !data)
        return MU_EINVAL;
    return mu__server_send(self, peer, last ? MU__K_SSTREAM_END : MU__K_SSTREAM, stream_id,
                           data, size);
}

/* ------------------------------------------------------------------ */
/* Queries                                                             */

int
mu_server_peer_key(const mu_server_t *self, uint64_t peer_id, uint8_t *public_key)
{
    assert(self && public_key);
    const peer_t *peer = peer_by_id(self, peer_id);
    if (!peer)
        return MU_EHOSTUNREACH;
    memcpy(public_key, peer->key, MU_KEY_BYTES);
    return 0;
}

int
mu_server_stats(const mu_server_t *self, uint64_t peer_id, mu_server_stats_t *stats)
{
    assert(self && stats);
    if (peer_id == 0) {
        *stats = self->totals;
        stats->auth_failures = self->zap ? mu__zap_failures(self->zap) : 0;
        return 0;
    }
    const peer_t *peer = peer_by_id(self, peer_id);
    if (!peer)
        return MU_EHOSTUNREACH;
    *stats = peer->stats;
    return 0;
}

size_t
mu_server_peers(const mu_server_t *self)
{
    assert(self);
    return zhashx_size(self->by_id);
}

int
mu_server_fd(const mu_server_t *self)
{
    assert(self);
    return self->router ? zsock_fd(self->router) : -1;
}

void *
mu_server_zsock(const mu_server_t *self)
{
    assert(self);
    return self->router;
}

/* ------------------------------------------------------------------ */
/* Destruction                                                         */

void
mu_server_destroy(mu_server_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    mu_server_t *self = *self_p;
    if (self->router)
        for (peer_t *peer = zhashx_first(self->by_id); peer; peer = zhashx_next(self->by_id))
            send_to_rid(self, peer->rid, peer->rid_len, MU__K_GOODBYE, 0, NULL, 0);
    mu__files_server_destroy(&self->files);
    mu__events_clear(&self->events);
    if (self->monitor_handle)
        zmq_socket_monitor(self->handle, NULL, 0);
    zsock_destroy(&self->monitor);
    zsock_destroy(&self->router);
    mu__zap_unregister(&self->zap);
    zhashx_destroy(&self->by_rid);
    zhashx_destroy(&self->by_id);
    zlistx_destroy(&self->endpoints);
    mu_keys_destroy(&self->keys);
    mu_allow_destroy(&self->allow);
    mu__budget_release(&self->budget);
    free(self);
    *self_p = NULL;
}
