/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_server.c — the ROUTER side of the connection core: construction,
    settings, binds, answers and queries. The contract is in
    include/mu_server.h, the wire format in doc/wire.md, the design in
    doc/conn.md; the parts are listed in src/conn/mu_server_priv.h. */
#include "conn/mu_server_priv.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_MESSAGE_DEFAULT (16u * 1024 * 1024 + 64 * 1024)
#define PEER_BUDGET_DEFAULT ((size_t) 64 * 1024 * 1024)
#define SERVER_BUDGET_DEFAULT ((size_t) 512 * 1024 * 1024)

/* ------------------------------------------------------------------ */
/* Construction and settings                                           */

mu_server_t *
mu_server_new(void)
{
    mu_server_t *self = calloc(1, sizeof *self);
    if (!self)
        return mu__fail_null(MU_ENOMEM, "server");
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
        return mu__fail_null(MU_ENOMEM, "server");
    }
    zlistx_set_destructor(self->endpoints, (czmq_destructor *) zstr_free);
    zhashx_set_destructor(self->by_id, mu__peer_destroy);
    return self;
}

static bool
is_bound(const mu_server_t *self)
{
    return self->handle != NULL;
}

int
mu_server_set_curve(mu_server_t *self, const mu_keys_t *keys, const mu_allow_t *allow)
{
    assert(self && keys && allow);
    if (is_bound(self))
        return mu__fail(MU_EINVAL, "security is set before the first bind");
    if (!mu_keys_secret(keys))
        return mu__fail(MU_EINVAL, "the server's keys have no secret key");
    mu_keys_t *keys_copy = mu_keys_dup(keys);
    mu_allow_t *allow_copy = mu_allow_dup(allow);
    if (!keys_copy || !allow_copy) {
        mu_keys_destroy(&keys_copy);
        mu_allow_destroy(&allow_copy);
        return mu__fail(MU_ENOMEM, "server keys");
    }
    mu_keys_destroy(&self->keys);
    mu_allow_destroy(&self->allow);
    self->keys = keys_copy;
    self->allow = allow_copy;
    self->security = MU__SEC_CURVE;
    return 0;
}

int
mu_server_set_secret(mu_server_t *self, const void *secret, size_t size)
{
    assert(self);
    if (is_bound(self))
        return mu__fail(MU_EINVAL, "security is set before the first bind");
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
        return mu__fail(MU_EINVAL, "security is set before the first bind");
    mu_keys_destroy(&self->keys);
    mu_allow_destroy(&self->allow);
    self->security = MU__SEC_INSECURE;
    return 0;
}

int
mu_server_set_root(mu_server_t *self, const char *dir)
{
    assert(self && dir);
    mu__files_port_t port;
    mu__server_files_port(self, &port);
    mu__files_server_t *files = mu__files_server_new(dir, &port);
    if (!files)
        return mu__fail(-errno, "file root '%s'", dir);
    mu__files_server_destroy(&self->files);
    self->files = files;
    return 0;
}

int
mu_server_set_heartbeat(mu_server_t *self, int interval_ms, int timeout_ms)
{
    assert(self);
    if (is_bound(self) || !mu__conn_heartbeat_valid(interval_ms, timeout_ms))
        return mu__fail(MU_EINVAL, "heartbeat %d/%d ms (before the first bind)", interval_ms,
                        timeout_ms);
    self->hb_ivl = interval_ms;
    self->hb_timeout = timeout_ms;
    return 0;
}

int
mu_server_set_max_message(mu_server_t *self, size_t bytes)
{
    assert(self);
    if (is_bound(self) || bytes == 0 || bytes > (size_t) INT64_MAX - MU__HDR_SIZE)
        return mu__fail(MU_EINVAL, "max message %zu (before the first bind)", bytes);
    self->max_message = bytes;
    return 0;
}

int
mu_server_set_transfer_budget(mu_server_t *self, size_t per_peer_bytes, size_t per_server_bytes)
{
    assert(self);
    if (per_peer_bytes == 0 || per_server_bytes == 0 || per_peer_bytes > per_server_bytes)
        return mu__fail(MU_EINVAL, "transfer budget %zu per peer, %zu per server", per_peer_bytes,
                        per_server_bytes);
    mu__budget_set(self->budget, per_peer_bytes, per_server_bytes);
    return 0;
}

/* ------------------------------------------------------------------ */
/* Sockets                                                             */

static int
configure_router(mu_server_t *self)
{
    /* the limit is on the payload: the frame holds the header too */
    int64_t max = (int64_t) (self->max_message + MU__HDR_SIZE);
    int rc = mu__conn_set_int(self->handle, ZMQ_ROUTER_MANDATORY, 1);
    if (rc == 0)
        rc = mu__conn_set_heartbeat(self->handle, self->hb_ivl, self->hb_timeout);
    if (rc == 0 && zmq_setsockopt(self->handle, ZMQ_MAXMSGSIZE, &max, sizeof max) != 0)
        rc = -errno;
    return rc;
}

static int
setup_security(mu_server_t *self)
{
    self->zap = mu__zap_register(self->security == MU__SEC_CURVE ? self->allow : NULL);
    if (!self->zap)
        return -errno;
    return mu__zap_setup_server(self->handle, self->security == MU__SEC_CURVE ? self->keys : NULL,
                                self->zap);
}

static int
setup_monitor(mu_server_t *self)
{
    int rc = mu__conn_monitor_open(self->handle, "server", self, ZMQ_EVENT_DISCONNECTED,
                                   &self->monitor);
    self->monitor_quiet = false;
    return rc;
}

static int
create_router(mu_server_t *self)
{
    self->handle = mu__zsocket_open(ZMQ_ROUTER, "mu_server_bind");
    if (!self->handle)
        return mu_last_code(); /* recorded */
    int rc = configure_router(self);
    if (rc == 0)
        rc = setup_security(self);
    if (rc == 0)
        rc = setup_monitor(self);
    if (rc != 0) {
        mu__conn_monitor_close(self->handle, &self->monitor);
        mu__zsocket_close(&self->handle);
        mu__zap_unregister(&self->zap);
    }
    return rc;
}

/* The port of a bound "tcp://host:port" endpoint, 0 for ipc. */
static int
bound_port(const char *endpoint)
{
    if (strncmp(endpoint, "tcp://", 6) != 0)
        return 0;
    const char *colon = strrchr(endpoint, ':');
    return colon ? atoi(colon + 1) : 0;
}

int
mu_server_bind(mu_server_t *self, const char *endpoint)
{
    assert(self && endpoint);
    if (self->security == MU__SEC_NONE)
        return mu__fail(MU_EINVAL, "bind '%s': choose the security first", endpoint);
    if (mu__endpoint_check(endpoint, true) != 0)
        return mu__fail(MU_EINVAL, "bind '%s': not a tcp:// or ipc:// endpoint", endpoint);
    if (!is_bound(self)) {
        int rc = create_router(self);
        if (rc != 0)
            return mu__fail(rc, "bind '%s': socket setup%s", endpoint, mu__zsocket_why(rc));
    }
    if (mu__zsocket_bind(self->handle, endpoint) != 0) {
        int rc = errno == ENOENT || errno == EPROTONOSUPPORT ? MU_EINVAL : -errno;
        return mu__fail(rc, "bind '%s'", endpoint);
    }
    char last[256];
    size_t size = sizeof last;
    if (zmq_getsockopt(self->handle, ZMQ_LAST_ENDPOINT, last, &size) != 0)
        snprintf(last, sizeof last, "%s", endpoint);
    char *copy = strdup(last);
    if (!copy || !zlistx_add_end(self->endpoints, copy)) {
        free(copy);
        return mu__fail(MU_ENOMEM, "bind '%s'", endpoint);
    }
    return bound_port(last);
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
/* Answers, pushes, streams                                            */

/* Records the detail of a failed send to a peer. */
static int
sent(int rc, const char *what, uint64_t peer)
{
    if (rc == 0)
        return 0;
    const char *why = rc == MU_EAGAIN         ? " (its queue is full)"
                      : rc == MU_EHOSTUNREACH ? " (gone)"
                      : rc == MU_EINVAL       ? " (not an unanswered request)"
                                              : "";
    return mu__fail(rc, "%s %" PRIu64 "%s", what, peer, why);
}

int
mu_server_reply(mu_server_t *self, mu_event_t *request, const void *data, size_t size)
{
    assert(self && request && (data || !size));
    return sent(mu__server_answer(self, request, MU__K_REP, data, size), "reply to peer",
                mu_event_peer(request));
}

int
mu_server_reply_error(mu_server_t *self, mu_event_t *request, int code, const char *message)
{
    assert(self && request);
    if (code >= 0)
        return mu__fail(MU_EINVAL, "error reply with code %d (not negative)", code);
    size_t size;
    void *payload = mu__err_encode(code, message, &size);
    if (!payload)
        return mu__fail(MU_ENOMEM, "error reply");
    int rc = mu__server_answer(self, request, MU__K_ERR, payload, size);
    free(payload);
    return sent(rc, "error reply to peer", mu_event_peer(request));
}

int
mu_server_push(mu_server_t *self, uint64_t peer, const void *data, size_t size)
{
    assert(self && (data || !size));
    return sent(mu__server_send(self, peer, MU__K_PUSH, 0, data, size), "push to peer", peer);
}

int
mu_server_push_all(mu_server_t *self, const void *data, size_t size)
{
    assert(self && (data || !size));
    if (!is_bound(self))
        return 0;
    int queued = 0;
    for (mu__peer_t *peer = zhashx_first(self->by_id); peer; peer = zhashx_next(self->by_id))
        if (mu__server_send_peer(self, peer, MU__K_PUSH, 0, data, size) == 0)
            queued++;
    return queued;
}

int
mu_server_stream_send(mu_server_t *self, uint64_t peer, uint64_t stream_id, const void *data,
                      size_t size, int last)
{
    assert(self && (data || !size));
    int rc = mu__server_send(self, peer, last ? MU__K_SSTREAM_END : MU__K_SSTREAM, stream_id, data,
                             size);
    return sent(rc, "stream chunk to peer", peer);
}

/* ------------------------------------------------------------------ */
/* Queries                                                             */

int
mu_server_peer_key(const mu_server_t *self, uint64_t peer_id, uint8_t *public_key)
{
    assert(self && public_key);
    const mu__peer_t *peer = mu__peer_by_id(self, peer_id);
    if (!peer)
        return mu__fail(MU_EHOSTUNREACH, "no peer %" PRIu64, peer_id);
    memcpy(public_key, peer->key, MU_KEY_BYTES);
    return 0;
}

int
mu_server_stats(const mu_server_t *self, mu_server_stats_t *stats)
{
    assert(self && stats);
    const mu__server_counters_t *c = &self->totals;
    mu_server_stats_t all = {
        .size = sizeof all,
        .msgs_in = c->msgs_in,
        .msgs_out = c->msgs_out,
        .bytes_in = c->bytes_in,
        .bytes_out = c->bytes_out,
        .auth_failures = self->zap ? mu__zap_failures(self->zap) : 0,
        .protocol_errors = c->protocol_errors,
        .peers_joined = c->peers_joined,
        .peers_left = c->peers_left,
        .files_sent = c->files_sent,
        .files_received = c->files_received,
    };
    return mu__stats_fill(stats, &all, sizeof all, sizeof all);
}

int
mu_server_peer_stats(const mu_server_t *self, uint64_t peer_id, mu_server_peer_stats_t *stats)
{
    assert(self && stats);
    const mu__peer_t *peer = mu__peer_by_id(self, peer_id);
    if (!peer)
        return mu__fail(MU_EHOSTUNREACH, "no peer %" PRIu64, peer_id);
    const mu__server_counters_t *c = &peer->stats;
    mu_server_peer_stats_t all = {
        .size = sizeof all,
        .msgs_in = c->msgs_in,
        .msgs_out = c->msgs_out,
        .bytes_in = c->bytes_in,
        .bytes_out = c->bytes_out,
        .protocol_errors = c->protocol_errors,
        .files_sent = c->files_sent,
        .files_received = c->files_received,
    };
    return mu__stats_fill(stats, &all, sizeof all, sizeof all);
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
    return self->handle ? mu__zsocket_fd(self->handle) : -1;
}

void *
mu_server_zsock(const mu_server_t *self)
{
    assert(self);
    return self->handle;
}

/* ------------------------------------------------------------------ */
/* Destruction                                                         */

void
mu_server_destroy(mu_server_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    mu_server_t *self = *self_p;
    if (self->handle)
        for (mu__peer_t *peer = zhashx_first(self->by_id); peer; peer = zhashx_next(self->by_id))
            mu__server_send_rid(self, peer->rid, peer->rid_len, MU__K_GOODBYE, 0, NULL, 0);
    mu__files_server_destroy(&self->files);
    mu__events_clear(&self->events);
    if (self->handle)
        mu__conn_monitor_close(self->handle, &self->monitor);
    mu__zsocket_close(&self->handle);
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
