/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_server_recv.c — mu_server_recv: everything runs on the caller's
    thread inside it (no relay thread on the data path). Leave detection:
    a peer leaves on BYE, or when libzmq drops its connection — a
    zmq_socket_monitor reports ZMQ_EVENT_DISCONNECTED with the
    connection's fd, and each peer remembers the fd its HELLO came on
    (ZMQ_SRCFD). ZeroMQ heartbeats turn a silent dead peer into a dropped
    connection within the heartbeat timeout. The monitor is drained before
    every new peer's hello: libzmq queues the DISCONNECTED event before it
    closes the fd, so a new connection that reuses the fd number is never
    confused with the old one. */
#include "conn/mu_server_priv.h"
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#define MONITOR_EVERY_MS 20

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

/* ------------------------------------------------------------------ */
/* Receiving                                                           */

/* One received protocol message: the routing id and the frame, still
   owned by libzmq. */
typedef struct {
    zmq_msg_t frames[2];
    int count; /* frames kept (at most 2) */
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
        if (in->count == 2) { /* more than routing id + frame: drop the rest */
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
count_in(mu_server_t *self, mu__peer_t *peer, size_t size)
{
    peer->stats.msgs_in++;
    peer->stats.bytes_in += size;
    self->totals.msgs_in++;
    self->totals.bytes_in += size;
}

static void
send_welcome(mu_server_t *self, mu__peer_t *peer)
{
    uint8_t id_bytes[8];
    for (int i = 0; i < 8; i++)
        id_bytes[i] = (uint8_t) (peer->id >> (8 * i));
    mu__server_send_peer(self, peer, MU__K_WELCOME, 0, id_bytes, sizeof id_bytes);
}

static int drain_monitor(mu_server_t *self);

/* A HELLO from a routing id we do not know: a new peer. */
static void
on_new_hello(mu_server_t *self, incoming_t *in, uint64_t id, const uint8_t *rid, size_t rid_len,
             const char *name, size_t name_len)
{
    if (name_len > MU__SERVER_MAX_NAME || rid_len > MU__SERVER_MAX_RID) {
        mu__server_protocol_error(self, NULL, rid, rid_len, id, "bad hello");
        return;
    }
    /* the old connection that had this fd, if any, must be seen to go
       first: libzmq queued its DISCONNECTED before closing the fd */
    drain_monitor(self);
    int fd = zmq_msg_get(&in->frames[1], ZMQ_SRCFD);
    mu__peer_t *peer = mu__peer_new(self, rid, rid_len, name, name_len);
    if (!peer)
        return; /* out of memory: the client will say hello again */
    read_peer_key(&in->frames[1], peer->key);
    /* a live connection owns its fd: a peer still holding this number
       belongs to a connection that is gone */
    for (mu__peer_t *other = zhashx_first(self->by_id); other && fd >= 0;
         other = zhashx_next(self->by_id))
        if (other != peer && other->fd == fd) {
            mu__peer_leave(self, other); /* at most one: stop iterating */
            break;
        }
    peer->fd = fd;
    self->totals.peers_joined++;
    count_in(self, peer, name_len);
    mu__server_event(self, MU_SERVER_JOIN, peer->id, 0, name, name_len, 0);
    send_welcome(self, peer);
}

static bool
payload_forbidden(int kind)
{
    return kind == MU__K_BYE || kind == MU__K_PING;
}

static void
dispatch_known(mu_server_t *self, mu__peer_t *peer, int kind, uint64_t id, const void *data,
               size_t size)
{
    count_in(self, peer, size);
    switch (kind) {
    case MU__K_HELLO:
        if (size > MU__SERVER_MAX_NAME)
            mu__server_protocol_error(self, peer, peer->rid, peer->rid_len, id, "bad hello");
        else
            send_welcome(self, peer);
        break;
    case MU__K_BYE:
        mu__peer_leave(self, peer);
        break;
    case MU__K_PING:
        mu__server_send_peer(self, peer, MU__K_PONG, id, NULL, 0);
        break;
    case MU__K_REQ:
        mu__server_event(self, MU_SERVER_REQUEST, peer->id, id, data, size, 0);
        break;
    case MU__K_MSG:
        mu__server_event(self, MU_SERVER_MESSAGE, peer->id, 0, data, size, 0);
        break;
    case MU__K_STREAM:
    case MU__K_STREAM_END:
        mu__server_event(self, MU_SERVER_STREAM, peer->id, id, data, size,
                         kind == MU__K_STREAM_END);
        break;
    default:
        mu__server_protocol_error(self, peer, peer->rid, peer->rid_len, id, "unknown message kind");
        break;
    }
}

static void
dispatch_file(mu_server_t *self, mu__peer_t *peer, int kind, uint64_t id, const void *data,
              size_t size)
{
    count_in(self, peer, size);
    self->files_touched = true;
    if (!self->files) {
        if (mu__server_send_error_rid(self, peer->rid, peer->rid_len, id, MU_ENOTSUP,
                                      "this server serves no files")
            == 0)
            mu__server_count_out(self, peer, 0);
        return;
    }
    if (mu__files_server_on_msg(self->files, peer->id, kind, id, data, size) < 0) {
        self->totals.protocol_errors++;
        peer->stats.protocol_errors++;
    }
}

static void
handle_message(mu_server_t *self, incoming_t *in)
{
    const uint8_t *rid = zmq_msg_data(&in->frames[0]);
    size_t rid_len = zmq_msg_size(&in->frames[0]);
    mu__peer_t *peer = mu__peer_by_rid(self, rid, rid_len);
    int kind = 0;
    uint64_t id = 0;
    const uint8_t *data = NULL;
    size_t size = 0;
    bool header_ok = in->count == 2
                     && mu__frame_decode(zmq_msg_data(&in->frames[1]), zmq_msg_size(&in->frames[1]),
                                         &kind, &id, &data, &size)
                            == 0;
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
        mu__server_protocol_error(self, peer, rid, rid_len, id, "malformed message");
        return;
    }
    if (!peer) {
        if (kind == MU__K_HELLO)
            on_new_hello(self, in, id, rid, rid_len, (const char *) data, size);
        else if (kind != MU__K_BYE)
            mu__server_send_error_rid(self, rid, rid_len, id, MU_EPROTO, "hello first");
        return;
    }
    if (size && payload_forbidden(kind)) {
        count_in(self, peer, size);
        mu__server_protocol_error(self, peer, rid, rid_len, id, "unexpected payload");
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
    uint16_t what;
    uint32_t value;
    int count = 0;
    for (; mu__conn_monitor_read(self->monitor, &what, &value) == 0; count++) {
        if (what != ZMQ_EVENT_DISCONNECTED)
            continue;
        for (mu__peer_t *peer = zhashx_first(self->by_id); peer; peer = zhashx_next(self->by_id))
            if (peer->fd == (int) value) {
                mu__peer_leave(self, peer);
                break;
            }
    }
    self->monitor_quiet = true;
    return count;
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
    struct pollfd fds[] = {
        { mu__zsocket_fd(self->handle), POLLIN, 0 },
        { mu__zsocket_fd(self->monitor), POLLIN, 0 },
        { mu__budget_fd(self->budget), POLLIN, 0 },
    };
    int rc = mu__conn_poll(fds, 3, wait_ms);
    if (rc != 0)
        return rc;
    if (fds[1].revents)
        self->monitor_quiet = false;
    if (fds[2].revents)
        mu__budget_woken(self->budget); /* file data drained: work again */
    return 0;
}

/* Runs the file service; returns the ms it wants to run again in (-1:
   nothing pending). */
static int
files_work(mu_server_t *self)
{
    self->files_touched = false;
    return self->files ? mu__files_server_work(self->files) : -1;
}

int
mu_server_recv(mu_server_t *self, mu_event_t **event_p, int timeout_ms)
{
    assert(self && event_p);
    if (!self->handle)
        return mu__fail(MU_EINVAL, "server not bound");
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
            continue; /* new credit or a peer gone: work again first */
        int wait = mu__remaining_ms(deadline);
        if (wait == 0)
            return timeout_ms == 0 ? MU_EAGAIN
                                   : mu__fail(MU_ETIMEDOUT, "no event in %d ms", timeout_ms);
        if (files_hint >= 0 && (wait < 0 || files_hint < wait))
            wait = files_hint;
        int rc = wait_input(self, wait);
        if (rc != 0)
            return mu__fail(rc, "waiting for events");
    }
}
