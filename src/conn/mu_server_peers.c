/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_server_peers.c — a server's peer table, its sending side, the
    answers to requests and the port its file service uses
    (src/conn/mu_server_priv.h). */
#include "conn/mu_server_priv.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
mu__peer_destroy(void **item_p)
{
    mu__peer_t *peer = *item_p;
    if (peer) {
        free(peer->name);
        mu__budget_peer_release(&peer->account);
        free(peer);
        *item_p = NULL;
    }
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

mu__peer_t *
mu__peer_by_rid(mu_server_t *self, const uint8_t *rid, size_t rid_len)
{
    mu__peer_t *cached = self->last_peer;
    if (cached && cached->rid_len == rid_len && memcmp(cached->rid, rid, rid_len) == 0)
        return cached;
    if (rid_len > MU__SERVER_MAX_RID)
        return NULL;
    char key[2 * MU__SERVER_MAX_RID + 1];
    rid_to_key(rid, rid_len, key);
    mu__peer_t *peer = zhashx_lookup(self->by_rid, key);
    if (peer)
        self->last_peer = peer;
    return peer;
}

mu__peer_t *
mu__peer_by_id(const mu_server_t *self, uint64_t id)
{
    char key[17];
    snprintf(key, sizeof key, "%" PRIx64, id);
    return zhashx_lookup(self->by_id, key);
}

mu__peer_t *
mu__peer_new(mu_server_t *self, const uint8_t *rid, size_t rid_len, const char *name,
             size_t name_len)
{
    mu__peer_t *peer = calloc(1, sizeof *peer);
    if (!peer)
        return NULL;
    peer->name = malloc(name_len + 1);
    peer->account = mu__budget_peer_new(self->budget);
    if (!peer->name || !peer->account) {
        void *item = peer;
        mu__peer_destroy(&item);
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
        mu__peer_destroy(&item);
        return NULL;
    }
    zhashx_insert(self->by_rid, peer->rid_key, peer);
    return peer;
}

/* Removes a peer and queues its LEAVE. */
void
mu__peer_leave(mu_server_t *self, mu__peer_t *peer)
{
    mu__server_event(self, MU_SERVER_LEAVE, peer->id, 0, peer->name, strlen(peer->name), 0);
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

int
mu__server_send_rid(mu_server_t *self, const uint8_t *rid, size_t rid_len, int kind, uint64_t id,
                    const void *data, size_t size)
{
    zmq_msg_t msg;
    if (mu__frame_copy(&msg, kind, id, data, size) != 0)
        return MU_ENOMEM;
    int rc = send_frame_to_rid(self, rid, rid_len, &msg);
    zmq_msg_close(&msg);
    return rc;
}

void
mu__server_count_out(mu_server_t *self, mu__peer_t *peer, size_t size)
{
    peer->stats.msgs_out++;
    peer->stats.bytes_out += size;
    self->totals.msgs_out++;
    self->totals.bytes_out += size;
}

int
mu__server_send_peer(mu_server_t *self, mu__peer_t *peer, int kind, uint64_t id, const void *data,
                     size_t size)
{
    int rc = mu__server_send_rid(self, peer->rid, peer->rid_len, kind, id, data, size);
    if (rc == 0)
        mu__server_count_out(self, peer, size);
    return rc;
}

int
mu__server_send(mu_server_t *server, uint64_t peer_id, int kind, uint64_t id, const void *data,
                size_t size)
{
    mu__peer_t *peer = server->handle ? mu__peer_by_id(server, peer_id) : NULL;
    if (!peer)
        return MU_EHOSTUNREACH;
    return mu__server_send_peer(server, peer, kind, id, data, size);
}

static int
port_send_frame(void *ctx, uint64_t peer_id, zmq_msg_t *msg)
{
    mu_server_t *server = ctx;
    mu__peer_t *peer = server->handle ? mu__peer_by_id(server, peer_id) : NULL;
    if (!peer)
        return MU_EHOSTUNREACH;
    size_t size = zmq_msg_size(msg) - MU__HDR_SIZE;
    int rc = send_frame_to_rid(server, peer->rid, peer->rid_len, msg);
    if (rc == 0)
        mu__server_count_out(server, peer, size);
    return rc;
}

static uint8_t *
port_data_frame(void *ctx, uint64_t peer_id, zmq_msg_t *msg, int kind, uint64_t id, size_t size,
                int *rc_p)
{
    mu_server_t *server = ctx;
    mu__peer_t *peer = server->handle ? mu__peer_by_id(server, peer_id) : NULL;
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

static void
port_count_file(void *ctx, uint64_t peer_id, int received)
{
    mu_server_t *server = ctx;
    mu__peer_t *peer = mu__peer_by_id(server, peer_id);
    uint64_t *total = received ? &server->totals.files_received : &server->totals.files_sent;
    (*total)++;
    if (peer)
        (*(received ? &peer->stats.files_received : &peer->stats.files_sent))++;
}

int
mu__server_send_error_rid(mu_server_t *self, const uint8_t *rid, size_t rid_len, uint64_t id,
                          int code, const char *message)
{
    size_t size;
    void *payload = mu__err_encode(code, message, &size);
    if (!payload)
        return MU_ENOMEM;
    int rc = mu__server_send_rid(self, rid, rid_len, MU__K_ERR, id, payload, size);
    free(payload);
    return rc;
}

void
mu__server_protocol_error(mu_server_t *self, mu__peer_t *peer, const uint8_t *rid, size_t rid_len,
                          uint64_t id, const char *message)
{
    self->totals.protocol_errors++;
    if (peer)
        peer->stats.protocol_errors++;
    if (mu__server_send_error_rid(self, rid, rid_len, id, MU_EPROTO, message) == 0 && peer)
        mu__server_count_out(self, peer, 4 + strlen(message));
}

static int
port_send(void *ctx, uint64_t peer, int kind, uint64_t id, const void *data, size_t size)
{
    return mu__server_send(ctx, peer, kind, id, data, size);
}

void
mu__server_files_port(mu_server_t *self, mu__files_port_t *port)
{
    *port = (mu__files_port_t) { .ctx = self,
                                 .send = port_send,
                                 .send_frame = port_send_frame,
                                 .data_frame = port_data_frame,
                                 .count_file = port_count_file };
}

/* ------------------------------------------------------------------ */
/* Events and answers                                                  */

int
mu__server_answer(mu_server_t *self, mu_event_t *request, int kind, const void *data, size_t size)
{
    if (!request || !mu__event_answerable(request, self))
        return MU_EINVAL;
    int rc = mu__server_send(self, mu_event_peer(request), kind, mu_event_id(request), data, size);
    if (rc == 0 || rc == MU_EHOSTUNREACH)
        mu__event_set_answered(request);
    return rc;
}

/* A request the application destroyed unanswered: MU_EREMOTE, so the
   client does not wait for its timeout (best effort: the peer may be gone
   or its queue full). */
static void
event_dropped(void *owner, mu_event_t *request)
{
    size_t size;
    void *payload = mu__err_encode(MU_EREMOTE, "request dropped by the application", &size);
    if (payload)
        (void) mu__server_answer(owner, request, MU__K_ERR, payload, size);
    free(payload);
}

void
mu__server_event(mu_server_t *self, mu_event_kind_t kind, uint64_t peer, uint64_t id,
                 const void *data, size_t size, int last)
{
    mu__events_push(&self->events,
                    mu__event_new(self, event_dropped, kind, peer, id, data, size, last));
}
