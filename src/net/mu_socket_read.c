/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_socket_read.c — reads one message from the ROUTER socket and
    handles it: HELLO joins, DATA/RDATA go to the caller or the inbox,
    ACK/PING/BYE are protocol. */
#include "net/mu_socket_int.h"
#include <limits.h>

static void
on_hello(mu_socket_t *self, const uint8_t *route, const uint8_t *body, size_t len)
{
    mu__hello_t hello;
    if (mu__hello_parse(route, body, len, &hello) != 0) {
        self->stats.malformed++;
        return;
    }
    peer_t *peer = mu__socket_peer_get(self, route);
    if (!peer)
        return;
    if (mu__socket_peer_join(self, peer, hello.session)) {
        mu__socket_resend_to_joined(self, peer);
        self->next_due = mu__socket_now(); /* flush the local queue soon */
    }
    peer->last_recv = self->now = mu__socket_now();
    if (hello.flags & HELLO_ANSWER)
        mu__socket_send_hello(self, route, 0);
}

int
mu__socket_process_one(mu_socket_t *self, bool direct, int wait_ms)
{
    zmq_msg_t *msg = direct ? &self->body : &self->scratch;
    if (wait_ms > 0 && wait_ms != self->rcvtimeo_set) {
        mu__socket_set_int(self, ZMQ_RCVTIMEO, wait_ms);
        self->rcvtimeo_set = wait_ms;
    }
    /* zmq_msg_recv returns the frame size (capped at INT_MAX), which
       spares a zmq_msg_size call per frame */
    int route_size = zmq_msg_recv(&self->route, self->handle, wait_ms > 0 ? 0 : ZMQ_DONTWAIT);
    if (route_size < 0)
        return mu__socket_zmq_error();
    /* a ROUTER hands every message out as its routing-id frame (always
       flagged more) and then the frames sent: no zmq_msg_more here */
    int body_size = zmq_msg_recv(msg, self->handle, ZMQ_DONTWAIT);
    if (body_size < 0) {
        self->stats.malformed++;
        return 0;
    }
    if (zmq_msg_more(msg)) { /* not ours: drain the rest */
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
    if (len == 0) { /* connection probe */
        mu__socket_send_hello(self, route, HELLO_ANSWER);
        return 0;
    }
    if (body[0] == 'H') {
        on_hello(self, route, body, len);
        return 0;
    }
    peer_t *peer = mu__socket_peer_find(self, route);
    if (!peer || !peer->joined) {
        self->stats.malformed++;
        mu__socket_send_hello(self, route, HELLO_ANSWER);
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
        int fresh = mu__socket_dedup_check(peer, rel_id);
        if (fresh <= 0) {
            if (fresh == 0) {
                self->stats.duplicates++;
                mu__socket_owe_ack(self, peer, rel_id);
            }
            return 0;
        }
        break;
    case 'A':
        mu__socket_on_ack(self, body, len);
        return 0;
    case 'P':
        return 0;
    case 'B':
        mu__socket_peer_leave(self, peer);
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
    inbox_t *item = mu__socket_inbox_push(self);
    if (!item)
        return MU_ENOMEM;
    item->event = MU_SOCKET_MESSAGE;
    memcpy(item->peer, route, ID_BYTES);
    zmq_msg_move(&item->body, msg);
    item->offset = offset;
    item->rel_id = rel_id;
    return 0;
}

void
mu__socket_drain_incoming(mu_socket_t *self)
{
    while (!mu__socket_inbox_full(self) && mu__socket_process_one(self, false, 0) >= 0)
        ;
}
