/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_client.c — the DEALER side of the connection core. The contract is
    in include/mu_client.h, the wire format in doc/wire.md, the design
    (handshake monitoring, why calls fail fast, reconnects) in doc/conn.md.

    All work happens inside the client's calls, on the caller's thread. A
    socket monitor reports handshakes: every success after the first is a
    reconnect, after which the client says HELLO again and tells a running
    file transfer (once, MU_EPIPE from mu__client_recv_file; a transfer id
    from mu__client_next_id forgets older reconnects). Until a handshake
    succeeds, calls fail fast with the monitor's verdict (link_error). A
    server that does not know us answers "hello first": the client says
    hello and repeats that request once. */
#include "conn/mu_conn.h"
#include "net/mu_zap.h"
#include "net/mu_zsocket.h"
#include <czmq.h>
#include <poll.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define QUEUE_LIMIT 100000
#define QUEUE_BYTES_LIMIT (64u * 1024 * 1024) /* payload bytes queued */
#define MAX_NAME 255
#define HELLO_FIRST "hello first"
#define MONITOR_EVERY_MS 20 /* while busy; always before waiting */
#define PUMP_CHECK 256      /* messages read between looks at the deadline */

typedef enum { SEC_NONE, SEC_INSECURE, SEC_CURVE } security_t;

/* A push or stream chunk waiting for mu_client_recv. */
typedef struct item_t {
    mu_client_kind_t kind;
    uint64_t id;
    int last;
    void *data;
    size_t size;
    struct item_t *next;
} item_t;

struct mu_client_t {
    security_t security;
    uint8_t server_public[MU_KEY_BYTES];
    mu_keys_t *keys;
    int hb_ivl, hb_timeout, reconnect_ivl, reconnect_max;
    char *name;
    void *handle, *monitor;  /* DEALER, the monitor's PAIR (net/mu_zsocket.h) */
    uint64_t handshakes;     /* successful handshakes so far */
    int64_t monitor_read_ms; /* when the monitor was last drained */
    bool monitor_quiet;      /* drained to EAGAIN, its fd silent since */
    int link_error;          /* why the connection fails (0: it does not) */
    bool socket_closed;      /* a CLOSED event since the last retry */
    bool ready, files_reconnected;
    uint64_t next_id, peer_id;
    item_t *head, *tail;
    size_t queued, queued_bytes;
    mu_client_stats_t stats;
};

/* What a call waits for while messages are pumped. */
typedef struct {
    uint64_t request_id; /* a reply to this id (0: none) */
    bool want_file;      /* file-kind messages (mu__client_recv_file) */
    bool done;
    int rc; /* 0 or the error answered */
    int kind;
    uint64_t id;
    void *data; /* a reply (malloc'd) */
    size_t size;
    zmq_msg_t frame; /* file mode: the message handed over */
    const uint8_t *file_data;
    size_t file_size;
    bool hello_first;  /* the server did not know us */
    bool wait_refused; /* a refusing endpoint may yet come up */
    bool reconnected;  /* file mode: the connection changed */
    bool drain;        /* timeout 0: read everything (an event loop waits on ZMQ_FD next) */
} waiter_t;

/* ------------------------------------------------------------------ */
/* Construction and settings                                           */

mu_client_t *
mu_client_new(void)
{
    mu_client_t *self = calloc(1, sizeof *self);
    if (!self)
        return mu__fail_null(MU_ENOMEM, "client");
    self->hb_ivl = 1000;
    self->hb_timeout = 5000;
    self->reconnect_ivl = 100;
    self->reconnect_max = 5000;
    self->next_id = 1;
    return self;
}

static bool
is_connected(const mu_client_t *self)
{
    return self->handle != NULL;
}

int
mu_client_set_curve(mu_client_t *self, const uint8_t *server_public, const mu_keys_t *client_keys)
{
    assert(self && server_public);
    if (is_connected(self))
        return mu__fail(MU_EINVAL, "security is set before connect");
    if (client_keys && !mu_keys_secret(client_keys))
        return mu__fail(MU_EINVAL, "the client's keys have no secret key");
    mu_keys_t *keys = client_keys ? mu_keys_dup(client_keys) : mu_keys_new();
    if (!keys)
        return mu__fail(MU_ENOMEM, "client keys");
    mu_keys_destroy(&self->keys);
    self->keys = keys;
    memcpy(self->server_public, server_public, MU_KEY_BYTES);
    self->security = SEC_CURVE;
    return 0;
}

int
mu_client_set_secret(mu_client_t *self, const void *secret, size_t size)
{
    assert(self);
    if (is_connected(self))
        return mu__fail(MU_EINVAL, "security is set before connect");
    mu_keys_t *server_keys = mu_keys_from_secret(secret, size, MU_KEYS_SERVER);
    mu_keys_t *client_keys = mu_keys_from_secret(secret, size, MU_KEYS_CLIENT);
    int rc = (!server_keys || !client_keys) ? -errno : 0;
    if (rc == 0)
        rc = mu_client_set_curve(self, mu_keys_public(server_keys), client_keys);
    mu_keys_destroy(&server_keys);
    mu_keys_destroy(&client_keys);
    return rc;
}

int
mu_client_set_insecure(mu_client_t *self)
{
    assert(self);
    if (is_connected(self))
        return mu__fail(MU_EINVAL, "security is set before connect");
    mu_keys_destroy(&self->keys);
    self->security = SEC_INSECURE;
    return 0;
}

int
mu_client_set_heartbeat(mu_client_t *self, int interval_ms, int timeout_ms)
{
    assert(self);
    if (is_connected(self) || !mu__conn_heartbeat_valid(interval_ms, timeout_ms))
        return mu__fail(MU_EINVAL, "heartbeat %d/%d ms (before connect)", interval_ms, timeout_ms);
    self->hb_ivl = interval_ms;
    self->hb_timeout = timeout_ms;
    return 0;
}

int
mu_client_set_reconnect(mu_client_t *self, int initial_ms, int max_ms)
{
    assert(self);
    if (is_connected(self) || initial_ms < 1 || max_ms < initial_ms)
        return mu__fail(MU_EINVAL, "reconnect %d/%d ms (before connect)", initial_ms, max_ms);
    self->reconnect_ivl = initial_ms;
    self->reconnect_max = max_ms;
    return 0;
}

int
mu_client_set_name(mu_client_t *self, const char *name)
{
    assert(self);
    assert(name);
    if (is_connected(self) || strlen(name) > MAX_NAME)
        return mu__fail(MU_EINVAL, "name of %zu bytes (at most %d, before connect)", strlen(name),
                        MAX_NAME);
    char *copy = strdup(name);
    if (!copy)
        return mu__fail(MU_ENOMEM, "client name");
    free(self->name);
    self->name = copy;
    return 0;
}

/* ------------------------------------------------------------------ */
/* Sending                                                             */

static int drain_monitor(mu_client_t *self);

/* Waits up to wait_ms for room to send, or for a monitor event; then
   reads the monitor. Returns 0, MU_EINTR or the link error (a connection
   that failed has no room to wait for). */
static int
wait_writable(mu_client_t *self, int wait_ms)
{
    if (zsys_interrupted)
        return MU_EINTR;
    zmq_pollitem_t items[] = {
        { self->handle, 0, ZMQ_POLLOUT, 0 },
        { self->monitor, 0, ZMQ_POLLIN, 0 },
    };
    if (zmq_poll(items, 2, wait_ms) < 0)
        return errno == EINTR ? MU_EINTR : -errno;
    drain_monitor(self);
    return self->link_error;
}

/* Sends one frame (header + payload) without waiting. Returns 0,
   MU_EAGAIN. */
static int
send_now(mu_client_t *self, int kind, uint64_t id, const void *data, size_t size)
{
    zmq_msg_t msg;
    if (mu__frame_copy(&msg, kind, id, data, size) != 0)
        return MU_ENOMEM;
    int rc = zmq_msg_send(&msg, self->handle, ZMQ_DONTWAIT) < 0 ? -errno : 0;
    zmq_msg_close(&msg);
    if (rc != 0)
        return rc == -EAGAIN ? MU_EAGAIN : rc;
    self->stats.msgs_out++;
    self->stats.bytes_out += size;
    return 0;
}

static int
send_wait(mu_client_t *self, int kind, uint64_t id, const void *data, size_t size, int timeout_ms)
{
    int rc = send_now(self, kind, id, data, size);
    if (rc != MU_EAGAIN)
        return rc; /* the usual case: no clock read */
    drain_monitor(self);
    if (self->link_error)
        return self->link_error;
    int64_t deadline = mu__deadline_ms(timeout_ms);
    for (;;) {
        int left = mu__remaining_ms(deadline);
        if (left == 0)
            return timeout_ms == 0 ? MU_EAGAIN : MU_ETIMEDOUT;
        rc = wait_writable(self, left);
        if (rc != 0)
            return rc;
        rc = send_now(self, kind, id, data, size);
        if (rc != MU_EAGAIN)
            return rc;
    }
}

static void
send_hello(mu_client_t *self)
{
    const char *name = self->name ? self->name : "";
    (void) send_now(self, MU__K_HELLO, 0, name, strlen(name));
}

int
mu__client_send(mu_client_t *client, int kind, uint64_t id, const void *data, size_t size,
                int timeout_ms)
{
    if (!is_connected(client))
        return MU_EAGAIN;
    return send_wait(client, kind, id, data, size, timeout_ms);
}

uint64_t
mu__client_next_id(mu_client_t *client)
{
    client->files_reconnected = false;
    return client->next_id++;
}

/* ------------------------------------------------------------------ */
/* Connecting                                                          */

static int
configure_dealer(mu_client_t *self)
{
    int rc = mu__conn_set_heartbeat(self->handle, self->hb_ivl, self->hb_timeout);
    if (rc == 0)
        rc = mu__conn_set_int(self->handle, ZMQ_RECONNECT_IVL, self->reconnect_ivl);
    if (rc == 0)
        rc = mu__conn_set_int(self->handle, ZMQ_RECONNECT_IVL_MAX, self->reconnect_max);
    if (rc == 0 && self->security == SEC_CURVE)
        rc = mu__zap_setup_client(self->handle, self->keys, self->server_public);
    return rc;
}

static int
setup_monitor(mu_client_t *self)
{
    int events = ZMQ_EVENT_DISCONNECTED | ZMQ_EVENT_HANDSHAKE_SUCCEEDED
                 | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL
                 | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL | ZMQ_EVENT_CLOSED
                 | ZMQ_EVENT_CONNECT_RETRIED;
    int rc = mu__conn_monitor_open(self->handle, "client", self, events, &self->monitor);
    self->monitor_quiet = false;
    return rc;
}

static void
close_sockets(mu_client_t *self)
{
    mu__conn_monitor_close(self->handle, &self->monitor);
    mu__zsocket_close(&self->handle);
}

int
mu_client_connect(mu_client_t *self, const char *endpoint)
{
    assert(self && endpoint);
    if (self->security == SEC_NONE)
        return mu__fail(MU_EINVAL, "connect '%s': choose the security first", endpoint);
    if (is_connected(self))
        return mu__fail(MU_EINVAL, "connect '%s': already connected", endpoint);
    if (mu__endpoint_check(endpoint, false) != 0)
        return mu__fail(MU_EINVAL, "connect '%s': not a tcp:// or ipc:// endpoint", endpoint);
    self->handle = mu__zsocket_open(ZMQ_DEALER, "mu_client_connect");
    if (!self->handle)
        return mu_last_code(); /* recorded */
    int rc = configure_dealer(self);
    if (rc == 0)
        rc = setup_monitor(self);
    if (rc == 0 && zmq_connect(self->handle, endpoint) != 0)
        rc = MU_EINVAL;
    if (rc != 0) {
        close_sockets(self);
        return mu__fail(rc, "connect '%s'%s", endpoint, mu__zsocket_why(rc));
    }
    send_hello(self);
    return 0;
}

/* ------------------------------------------------------------------ */
/* Receiving                                                           */

static void
on_handshake(mu_client_t *self)
{
    self->link_error = 0;
    if (self->handshakes++ > 0) {
        self->stats.reconnects++;
        self->files_reconnected = true;
        send_hello(self);
    }
}

/* A connect attempt failed: before the first handshake, that is why the
   connection fails (see the top of this file). One whose socket was never
   opened (no CLOSED event) failed on the name, unless the process has no
   descriptor left to open it with. */
static void
on_retry(mu_client_t *self)
{
    if (self->handshakes == 0 && self->link_error == 0)
        self->link_error = self->socket_closed ? MU_ECONNREFUSED
                           : !mu__fd_room()    ? -EMFILE
                                               : MU_ENOHOST;
    self->socket_closed = false;
}

static void
on_monitor_event(mu_client_t *self, uint16_t what)
{
    switch (what) {
    case ZMQ_EVENT_HANDSHAKE_SUCCEEDED:
        on_handshake(self);
        break;
    case ZMQ_EVENT_HANDSHAKE_FAILED_AUTH:
        self->link_error = MU_EAUTH;
        break;
    case ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL:
        self->link_error = MU_EHANDSHAKE;
        break;
    case ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL:
        if (self->handshakes == 0)
            self->link_error = MU_EHANDSHAKE;
        break;
    case ZMQ_EVENT_CLOSED:
        self->socket_closed = true;
        break;
    case ZMQ_EVENT_CONNECT_RETRIED:
        on_retry(self);
        break;
    case ZMQ_EVENT_DISCONNECTED:
        self->ready = false;
        break;
    default:
        break;
    }
}

/* Reads the monitor: handshakes, failures and drops. Returns the number
   of monitor events read. */
static int
drain_monitor(mu_client_t *self)
{
    self->monitor_read_ms = mu__now_ms();
    uint16_t what;
    uint32_t value;
    int count = 0;
    for (; mu__conn_monitor_read(self->monitor, &what, &value) == 0; count++)
        on_monitor_event(self, what);
    self->monitor_quiet = true;
    return count;
}

/* Drops the oldest queued item (counted). */
static void
drop_oldest(mu_client_t *self)
{
    item_t *oldest = self->head;
    self->head = oldest->next;
    if (!self->head)
        self->tail = NULL;
    self->queued--;
    self->queued_bytes -= oldest->size;
    free(oldest->data);
    free(oldest);
    self->stats.dropped_events++;
}

/* Queues a push or stream chunk for mu_client_recv, dropping the oldest
   while the queue would pass QUEUE_LIMIT items or QUEUE_BYTES_LIMIT bytes
   (a larger item alone is kept): a server that floods a client whose
   caller does not read costs bounded memory. */
static void
queue_item(mu_client_t *self, mu_client_kind_t kind, uint64_t id, int last, const void *data,
           size_t size)
{
    while (self->head
           && (self->queued == QUEUE_LIMIT || self->queued_bytes + size > QUEUE_BYTES_LIMIT))
        drop_oldest(self);
    item_t *item = calloc(1, sizeof *item);
    void *copy = item ? mu__conn_copy(data, size) : NULL;
    if (!copy) {
        free(item);
        self->stats.dropped_events++;
        return;
    }
    *item = (item_t) { kind, id, last, copy, size, NULL };
    if (self->tail)
        self->tail->next = item;
    else
        self->head = item;
    self->tail = item;
    self->queued++;
    self->queued_bytes += size;
}

static int
error_code(int code)
{
    return strcmp(mu_errname(code), "MU_E?") == 0 ? MU_EREMOTE : code;
}

/* File mode: hands the received frame to the waiter (no copy). */
static void
take_frame(waiter_t *w, int kind, uint64_t id, zmq_msg_t *frame)
{
    w->done = true;
    w->kind = kind;
    w->id = id;
    zmq_msg_move(&w->frame, frame);
}

static void
on_error(mu_client_t *self, waiter_t *w, uint64_t id, const void *data, size_t size,
         zmq_msg_t *frame)
{
    int code;
    const char *msg;
    size_t msg_len;
    mu__err_read(data, size, MU_EREMOTE, &code, &msg, &msg_len);
    bool hello_first = code == MU_EPROTO && msg_len == strlen(HELLO_FIRST)
                       && memcmp(msg, HELLO_FIRST, msg_len) == 0;
    if (hello_first) {
        self->ready = false;
        send_hello(self);
    }
    if (w->request_id && id == w->request_id) {
        w->done = true;
        w->hello_first = hello_first;
        w->rc = mu__fail(error_code(code), "server: %.*s", (int) msg_len, msg);
    } else if (w->want_file && hello_first) {
        w->done = true;
        w->reconnected = true;
    } else if (w->want_file && id != 0)
        take_frame(w, MU__K_ERR, id, frame);
    else if (id != 0 && !hello_first)
        self->stats.late_replies++;
}

static void
on_reply(mu_client_t *self, waiter_t *w, uint64_t id, const void *data, size_t size)
{
    if (!w->request_id || id != w->request_id) {
        self->stats.late_replies++;
        return;
    }
    w->done = true;
    w->rc = 0;
    w->data = mu__conn_copy(data, size);
    w->size = size;
    if (!w->data)
        w->rc = MU_ENOMEM;
}

static void
on_welcome(mu_client_t *self, const void *data, size_t size)
{
    self->ready = true;
    if (size == 8) {
        const uint8_t *bytes = data;
        self->peer_id = 0;
        for (int i = 7; i >= 0; i--)
            self->peer_id = (self->peer_id << 8) | bytes[i];
    }
}

/* Handles one message; data/size is the payload inside frame. */
static void
dispatch(mu_client_t *self, waiter_t *w, int kind, uint64_t id, const void *data, size_t size,
         zmq_msg_t *frame)
{
    switch (kind) {
    case MU__K_WELCOME:
        on_welcome(self, data, size);
        break;
    case MU__K_REP:
        on_reply(self, w, id, data, size);
        break;
    case MU__K_ERR:
        on_error(self, w, id, data, size, frame);
        break;
    case MU__K_PUSH:
        queue_item(self, MU_CLIENT_PUSH, 0, 0, data, size);
        break;
    case MU__K_SSTREAM:
    case MU__K_SSTREAM_END:
        queue_item(self, MU_CLIENT_STREAM, id, kind == MU__K_SSTREAM_END, data, size);
        break;
    case MU__K_GOODBYE:
        self->ready = false;
        break;
    default:
        if (MU__IS_FILE_KIND(kind) && w->want_file)
            take_frame(w, kind, id, frame);
        break; /* PONG, stale file messages, unknown kinds: ignored */
    }
}

/* Reads the monitor unless that was done in the last MONITOR_EVERY_MS (an
   empty read costs a system call). */
static void
check_monitor(mu_client_t *self)
{
    if (mu__now_ms() - self->monitor_read_ms >= MONITOR_EVERY_MS)
        drain_monitor(self);
}

/* Reads and handles one message. Returns 0 or MU_EAGAIN (none). */
static int
pump_one(mu_client_t *self, waiter_t *w)
{
    zmq_msg_t frame;
    zmq_msg_init(&frame);
    if (zmq_msg_recv(&frame, self->handle, ZMQ_DONTWAIT) < 0) {
        zmq_msg_close(&frame);
        return MU_EAGAIN;
    }
    bool extra = false;
    while (zmq_msg_more(&frame)) { /* malformed: skip the whole message */
        extra = true;
        if (zmq_msg_recv(&frame, self->handle, 0) < 0)
            break;
    }
    int kind;
    uint64_t id;
    const uint8_t *data;
    size_t size;
    if (!extra
        && mu__frame_decode(zmq_msg_data(&frame), zmq_msg_size(&frame), &kind, &id, &data, &size)
               == 0) {
        self->stats.msgs_in++;
        self->stats.bytes_in += size;
        dispatch(self, w, kind, id, data, size, &frame);
    }
    zmq_msg_close(&frame);
    return 0;
}

/* Waits up to wait_ms for the DEALER or the monitor. Their ZMQ_FDs are
   edge-triggered: the caller has read both until EAGAIN and sent nothing
   since. The monitor counts as read while it is quiet: once read to EAGAIN
   its fd stays readable from its next event until it is read again, so it
   is read only after this poll saw its fd (or every MONITOR_EVERY_MS),
   which saves a system call per wait. Returns 0 or MU_EINTR. */
static int
wait_input(mu_client_t *self, int wait_ms)
{
    struct pollfd fds[] = {
        { mu__zsocket_fd(self->handle), POLLIN, 0 },
        { mu__zsocket_fd(self->monitor), POLLIN, 0 },
    };
    int rc = mu__conn_poll(fds, 2, wait_ms);
    if (rc != 0)
        return rc;
    if (fds[1].revents)
        self->monitor_quiet = false;
    return 0;
}

/* Pumps messages until done(self, w) or the deadline. Returns 0 (done),
   MU_ETIMEDOUT, MU_EINTR or the link error (MU_EAUTH, MU_EHANDSHAKE,
   MU_ECONNREFUSED, MU_ENOHOST); with w->wait_refused, MU_ECONNREFUSED
   only at the deadline. */
static int
pump_until(mu_client_t *self, waiter_t *w, int64_t deadline,
           bool (*done)(const mu_client_t *, const waiter_t *))
{
    for (;;) {
        if (zsys_interrupted) /* checked here too: input may never stop */
            return MU_EINTR;
        check_monitor(self);
        /* A server sending without pause must not hold a call past its
           deadline, nor past a signal: look every PUMP_CHECK messages (what
           is left unread is read first at the next call). A call with
           timeout 0 (w->drain) reads everything: an event loop waits on the
           edge-triggered ZMQ_FD next. */
        for (unsigned n = 1; !done(self, w) && pump_one(self, w) == 0; n++)
            if (n % PUMP_CHECK == 0
                && (zsys_interrupted || (!w->drain && mu__remaining_ms(deadline) == 0)))
                break;
        if (done(self, w))
            return 0;
        /* a handshake event may have sent a hello: then read again */
        if (!self->monitor_quiet && drain_monitor(self) > 0)
            continue;
        bool patient = w->wait_refused && self->link_error == MU_ECONNREFUSED;
        if (self->link_error && !patient)
            return self->link_error;
        int left = mu__remaining_ms(deadline);
        if (left == 0)
            return patient ? MU_ECONNREFUSED : MU_ETIMEDOUT;
        int rc = wait_input(self, left);
        if (rc != 0)
            return rc;
    }
}

static bool
waiter_done(const mu_client_t *self, const waiter_t *w)
{
    (void) self;
    return w->done;
}

static bool
ready_done(const mu_client_t *self, const waiter_t *w)
{
    (void) w;
    return self->ready;
}

static bool
item_done(const mu_client_t *self, const waiter_t *w)
{
    (void) w;
    return self->head != NULL;
}

static bool
file_done(const mu_client_t *self, const waiter_t *w)
{
    return w->done || self->files_reconnected;
}

/* ------------------------------------------------------------------ */
/* Calls                                                               */

int
mu_client_wait_ready(mu_client_t *self, int timeout_ms)
{
    assert(self);
    if (!is_connected(self))
        return mu__fail(MU_EINVAL, "not connected");
    waiter_t w = { .wait_refused = true, .drain = timeout_ms == 0 };
    int rc = pump_until(self, &w, mu__deadline_ms(timeout_ms), ready_done);
    if (rc == MU_ETIMEDOUT && timeout_ms == 0)
        return MU_EAGAIN; /* not ready yet; no wait asked for */
    return rc == 0 ? 0 : mu__fail(rc, "waiting for the server's welcome");
}

static int
request_once(mu_client_t *self, uint64_t id, const void *data, size_t size, waiter_t *w,
             int64_t deadline, bool drain)
{
    check_monitor(self);
    int rc = send_wait(self, MU__K_REQ, id, data, size, mu__remaining_ms(deadline));
    if (rc != 0)
        return rc;
    *w = (waiter_t) { .request_id = id, .drain = drain };
    return pump_until(self, w, deadline, waiter_done);
}

int
mu_client_request(mu_client_t *self, const void *data, size_t size, void **reply_p,
                  size_t *reply_size_p, int timeout_ms)
{
    assert(self && reply_p && (data || !size));
    if (!is_connected(self))
        return mu__fail(MU_EINVAL, "not connected");
    *reply_p = NULL;
    int64_t deadline = mu__deadline_ms(timeout_ms);
    uint64_t id = self->next_id++;
    waiter_t w;
    self->stats.requests++;
    int rc = request_once(self, id, data, size, &w, deadline, timeout_ms == 0);
    if (rc == 0 && w.hello_first) /* it reached a server that forgot us */
        rc = request_once(self, id, data, size, &w, deadline, timeout_ms == 0);
    if (rc == MU_ETIMEDOUT)
        self->stats.timeouts++;
    if (rc == MU_ETIMEDOUT && timeout_ms == 0)
        rc = MU_EAGAIN; /* no wait asked for */
    if (rc != 0)
        return mu__fail(rc, "request of %zu bytes", size);
    if (w.rc != 0)
        return w.rc; /* recorded with the server's message */
    self->stats.replies++;
    *reply_p = w.data;
    if (reply_size_p)
        *reply_size_p = w.size;
    return 0;
}

int
mu_client_send(mu_client_t *self, const void *data, size_t size, int timeout_ms)
{
    assert(self && (data || !size));
    if (!is_connected(self))
        return mu__fail(MU_EINVAL, "not connected");
    check_monitor(self);
    int rc = send_wait(self, MU__K_MSG, 0, data, size, timeout_ms);
    return rc == 0 ? 0 : mu__fail(rc, "message of %zu bytes", size);
}

int
mu_client_stream_send(mu_client_t *self, uint64_t stream_id, const void *data, size_t size,
                      int last, int timeout_ms)
{
    assert(self && (data || !size));
    if (!is_connected(self))
        return mu__fail(MU_EINVAL, "not connected");
    check_monitor(self);
    int rc = send_wait(self, last ? MU__K_STREAM_END : MU__K_STREAM, stream_id, data, size,
                       timeout_ms);
    return rc == 0 ? 0 : mu__fail(rc, "stream %" PRIu64 " chunk of %zu bytes", stream_id, size);
}

int
mu_client_recv(mu_client_t *self, mu_client_kind_t *kind_p, uint64_t *id_p, int *last_p,
               void **data_p, size_t *size_p, int timeout_ms)
{
    assert(self && data_p);
    if (!is_connected(self))
        return mu__fail(MU_EINVAL, "not connected");
    waiter_t w = { .drain = timeout_ms == 0 };
    int rc = pump_until(self, &w, mu__deadline_ms(timeout_ms), item_done);
    if (rc == MU_ETIMEDOUT && timeout_ms == 0)
        return MU_EAGAIN; /* nothing queued: the usual poll, no detail */
    if (rc != 0)
        return mu__fail(rc, "receiving");
    item_t *item = self->head;
    self->head = item->next;
    if (!self->head)
        self->tail = NULL;
    self->queued--;
    self->queued_bytes -= item->size;
    if (kind_p)
        *kind_p = item->kind;
    if (id_p)
        *id_p = item->id;
    if (last_p)
        *last_p = item->last;
    *data_p = item->data;
    if (size_p)
        *size_p = item->size;
    free(item);
    return 0;
}

int
mu__client_recv_file(mu_client_t *client, int *kind_p, uint64_t *id_p, zmq_msg_t *msg,
                     const uint8_t **data_p, size_t *size_p, int timeout_ms)
{
    if (!is_connected(client))
        return MU_EAGAIN;
    waiter_t w = { .want_file = true, .drain = timeout_ms == 0 };
    zmq_msg_init(&w.frame);
    int rc = pump_until(client, &w, mu__deadline_ms(timeout_ms), file_done);
    if (rc == 0 && (!w.done || w.reconnected)) {
        client->files_reconnected = false;
        rc = MU_EPIPE;
    }
    if (rc == 0) {
        zmq_msg_move(msg, &w.frame);
        *kind_p = w.kind;
        *id_p = w.id;
        *size_p = zmq_msg_size(msg) - MU__HDR_SIZE;
        *data_p = *size_p ? (const uint8_t *) zmq_msg_data(msg) + MU__HDR_SIZE : NULL;
    }
    zmq_msg_close(&w.frame);
    return rc == MU_ETIMEDOUT ? MU_EAGAIN : rc;
}

/* ------------------------------------------------------------------ */
/* Queries and destruction                                             */

int
mu_client_stats(const mu_client_t *self, mu_client_stats_t *stats)
{
    assert(self && stats);
    mu_client_stats_t all = self->stats;
    all.size = sizeof all;
    return mu__stats_fill(stats, &all, sizeof all, sizeof all);
}

int
mu_client_fd(const mu_client_t *self)
{
    assert(self);
    return self->handle ? mu__zsocket_fd(self->handle) : -1;
}

void *
mu_client_zsock(const mu_client_t *self)
{
    assert(self);
    return self->handle;
}

void
mu_client_destroy(mu_client_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    mu_client_t *self = *self_p;
    if (self->handle) {
        (void) send_now(self, MU__K_BYE, 0, NULL, 0);
        close_sockets(self);
    }
    while (self->head) {
        item_t *item = self->head;
        self->head = item->next;
        free(item->data);
        free(item);
    }
    mu_keys_destroy(&self->keys);
    free(self->name);
    free(self);
    *self_p = NULL;
}
