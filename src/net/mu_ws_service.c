/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_ws_service.c — the WebSocket endpoint's libwebsockets protocol
    callback, run on the service thread: the handshake filter (max_clients,
    Origin), clients opening and closing, messages assembled from their
    frames into the event queue (rx flow control past event_max), queued
    messages written one frame per writable callback, and the wake-ups the
    owner sends (lws_cancel_service) for new data, closes and resumed
    reading. */
#include "base/mu_internal.h"
#include "net/mu_ws_int.h"
#include "mu_log.h"
#include <czmq.h>
#include <string.h>

static mu__ws_t *
endpoint_of(struct lws *wsi)
{
    return lws_context_user(lws_get_context(wsi));
}

/* ---- the owner's wake-ups ----------------------------------------------- */

/*  Under the lock: what a dirty client needs, a write or (slow) a close now
    (its socket is likely full, so no writable callback would come). lws
    calls made here only change poll state or timers. */
static void
serve_dirty(mu__ws_client_t *client)
{
    if (client->slow && !client->killing) {
        client->killing = true;
        lws_close_reason(client->wsi, LWS_CLOSE_STATUS_POLICY_VIOLATION,
                         (unsigned char *) client->reason, client->reason_len);
        lws_set_timeout(client->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
    } else if (!client->killing && lws_callback_on_writable(client->wsi) < 0)
        mu_log(MU_LOG_WARNING, "net", "mu_ws: client %llu: lws_callback_on_writable failed",
               (unsigned long long) client->id);
}

/*  Reads from client again if a full event queue paused it. */
static void
resume(mu__ws_client_t *client, void *unused)
{
    (void) unused;
    if (client->paused && lws_rx_flow_control(client->wsi, 1) == 0)
        client->paused = false;
}

static void
on_wake(mu__ws_t *self)
{
    /* Cleared first: a wake asked for after this line gets a cancel of
       its own, so nothing queued is left unseen. */
    atomic_store(&self->wake_pending, false);
    bool resume_rx = atomic_exchange(&self->resume_rx, false);
    pthread_mutex_lock(&self->lock);
    if (resume_rx)
        mu__ws_table_each(&self->table, resume, NULL);
    while (self->dirty) {
        mu__ws_client_t *client = self->dirty;
        mu__ws_dirty_remove(&self->dirty, client);
        serve_dirty(client);
    }
    pthread_mutex_unlock(&self->lock);
}

/* ---- handshake, open, close --------------------------------------------- */

/*  Refuses the handshake with an HTTP status (the connection is still
    HTTP then); lws closes it once we return nonzero. */
static int
refuse(struct lws *wsi, unsigned status)
{
    if (lws_return_http_status(wsi, status, NULL))
        mu_log(MU_LOG_DEBUG, "net", "mu_ws: the HTTP %u refusal could not be written", status);
    return 1;
}

static int
on_filter(mu__ws_t *self, struct lws *wsi)
{
    /* A full event queue refuses too: OPEN and CLOSED events cannot be
       held back like messages, so a peer connecting and leaving in a loop
       while the owner is stalled is stopped here. */
    bool stalled = mu__ws_events_full(&self->events);
    pthread_mutex_lock(&self->lock);
    bool full = stalled || self->stats.clients >= (uint64_t) self->config.max_clients;
    if (full)
        self->stats.refused++;
    pthread_mutex_unlock(&self->lock);
    if (full)
        return refuse(wsi, HTTP_STATUS_SERVICE_UNAVAILABLE);
    if (!self->config.origin)
        return 0;
    char origin[1024] = "";
    int n = lws_hdr_copy(wsi, origin, (int) sizeof origin, WSI_TOKEN_ORIGIN);
    if (n > 0 && strcmp(origin, self->config.origin) == 0)
        return 0;
    pthread_mutex_lock(&self->lock);
    self->stats.refused_origin++;
    pthread_mutex_unlock(&self->lock);
    return refuse(wsi, HTTP_STATUS_FORBIDDEN);
}

static int
on_open(mu__ws_t *self, struct lws *wsi, mu__ws_session_t *session)
{
    pthread_mutex_lock(&self->lock);
    mu__ws_client_t *client = mu__ws_client_new(self->last_id + 1);
    if (!client || mu__ws_table_add(&self->table, client) < 0) {
        pthread_mutex_unlock(&self->lock);
        mu__ws_client_free(client);
        mu_log(MU_LOG_ERROR, "net", "mu_ws: out of memory for a new client: closed");
        return -1;
    }
    client->id = ++self->last_id;
    client->wsi = wsi;
    client->valid_ms = mu__now_ms();
    self->stats.clients++;
    self->stats.accepted++;
    if (!self->config.listen) {
        if (self->connected_once)
            self->stats.reconnects++;
        self->connected_once = true;
        self->connect_failing = false;
    }
    pthread_mutex_unlock(&self->lock);
    session->client = client;
    mu__ws_events_note(&self->events, MU__WS_OPEN, client->id);
    return 0;
}

/*  Whether lws closed client for want of a pong: lws hangs up exactly
    hangup_ms after the last sign of life; we closed it for no other
    reason. */
static bool
timed_out(const mu__ws_t *self, const mu__ws_client_t *client)
{
    return self->hangup_ms > 0 && !client->closing && !client->oversized
           && mu__now_ms() - client->valid_ms >= self->hangup_ms - 250;
}

static void
on_closed(mu__ws_t *self, mu__ws_session_t *session)
{
    mu__ws_client_t *client = session ? session->client : NULL;
    if (!client)
        return;
    session->client = NULL;
    bool timeout = timed_out(self, client);
    pthread_mutex_lock(&self->lock);
    mu__ws_table_remove(&self->table, client);
    mu__ws_dirty_remove(&self->dirty, client);
    self->stats.clients--;
    if (timeout)
        self->stats.ping_timeouts++;
    pthread_mutex_unlock(&self->lock);
    mu__ws_events_note(&self->events, MU__WS_CLOSED, client->id);
    mu__ws_client_free(client);
}

/* ---- inbound ------------------------------------------------------------ */

static int
close_oversized(mu__ws_t *self, struct lws *wsi, mu__ws_client_t *client)
{
    free(client->rx);
    client->rx = NULL;
    client->rx_active = false;
    client->oversized = true;
    pthread_mutex_lock(&self->lock);
    self->stats.oversized++;
    pthread_mutex_unlock(&self->lock);
    char reason[64];
    int n = snprintf(reason, sizeof reason, "message over %zu bytes", self->config.max_message);
    lws_close_reason(wsi, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, (unsigned char *) reason, (size_t) n);
    return -1;
}

/*  Room in the message being assembled for len more bytes and, as a hint,
    the rest of the current frame. Returns false on ENOMEM. */
static bool
make_room(mu__ws_t *self, struct lws *wsi, mu__ws_client_t *client, size_t len)
{
    size_t max = self->config.max_message;
    size_t want = client->rx->size + len;
    size_t hint = want + lws_remaining_packet_payload(wsi); /* <= max: checked */
    if (want <= client->rx->cap)
        return true;
    size_t cap = client->rx->cap * 2;
    if (cap < hint)
        cap = hint;
    if (cap > max)
        cap = max;
    mu__ws_ev_t *grown = mu__ws_ev_grow(client->rx, cap);
    if (!grown)
        return false;
    client->rx = grown;
    return true;
}

static int
on_receive(mu__ws_t *self, struct lws *wsi, mu__ws_client_t *client, const void *in, size_t len)
{
    if (!client || client->oversized)
        return client ? -1 : 0;
    size_t max = self->config.max_message;
    if (!client->rx_active) {
        mu__ws_kind_t kind = lws_frame_is_binary(wsi) ? MU__WS_BINARY : MU__WS_TEXT;
        size_t rest = lws_remaining_packet_payload(wsi);
        size_t hint = len <= max && rest <= max - len ? len + rest : 0;
        client->rx = mu__ws_ev_new(kind, client->id, hint);
        if (!client->rx)
            goto nomem;
        client->rx_active = true;
    }
    /* Over max_message with this data, or bound to be by the rest of the
       frame as its header announced it: closed now. */
    size_t have = client->rx->size + len;
    if (have > max || lws_remaining_packet_payload(wsi) > max - have)
        return close_oversized(self, wsi, client);
    if (!make_room(self, wsi, client, len))
        goto nomem;
    if (len)
        memcpy(client->rx->data + client->rx->size, in, len);
    client->rx->size += len;
    if (!lws_is_final_fragment(wsi))
        return 0;
    mu__ws_ev_t *ev = client->rx;
    client->rx = NULL;
    client->rx_active = false;
    pthread_mutex_lock(&self->lock);
    self->stats.messages_in++;
    self->stats.bytes_in += ev->size;
    pthread_mutex_unlock(&self->lock);
    if (mu__ws_events_push(&self->events, ev) && !client->paused) {
        if (lws_rx_flow_control(wsi, 0) < 0)
            return -1;
        client->paused = true;
    }
    return 0;
nomem:
    mu_log(MU_LOG_ERROR, "net", "mu_ws: out of memory for a message of client %llu: closed",
           (unsigned long long) client->id);
    lws_close_reason(wsi, LWS_CLOSE_STATUS_UNEXPECTED_CONDITION, NULL, 0);
    return -1;
}

/* ---- outbound ----------------------------------------------------------- */

/*  Writes n bytes of msg from off as one frame of it. A whole message in
    one frame is written in place by the one endpoint that claims it (lws
    puts the frame header in its headroom); other frames are copied, and a
    connecting endpoint always copies (lws masks the payload in place). */
static int
write_frame(mu__ws_t *self, struct lws *wsi, mu__ws_msg_t *msg, size_t off, size_t n)
{
    bool first = off == 0, last = off + n == msg->size;
    int flags = lws_write_ws_flags(msg->binary ? LWS_WRITE_BINARY : LWS_WRITE_TEXT, first, last);
    unsigned char *p = mu__ws_msg_data(msg);
    const void *none = NULL;
    bool in_place = self->config.listen && first && last
                    && (atomic_load(&msg->writer) == self
                        || atomic_compare_exchange_strong(&msg->writer, &none, self));
    if (!in_place) {
        memcpy(self->scratch + LWS_PRE, p + off, n);
        p = self->scratch + LWS_PRE;
    }
    int w = lws_write(wsi, p, n, (enum lws_write_protocol) flags);
    return w < 0 || (size_t) w < n ? -1 : 0;
}

/*  Bytes written at most in one writable callback, in as many frames as
    the socket takes without blocking (lws_send_pipe_choked): small
    messages need not wait a poll round each. */
#define WRITE_BUDGET (4 * MU__WS_CHUNK)

/*  Writes one frame of the oldest queued message, or performs a pending
    close. Returns 1 when there is more to do, 0 when not, -1 to close. */
static int
write_next(mu__ws_t *self, struct lws *wsi, mu__ws_client_t *client, size_t *written)
{
    pthread_mutex_lock(&self->lock);
    if (client->queue.count == 0 || client->slow) {
        bool close = client->closing && !client->killing;
        client->killing = client->killing || close;
        pthread_mutex_unlock(&self->lock);
        if (close)
            lws_close_reason(wsi, (enum lws_close_status) client->close_code,
                             (unsigned char *) client->reason, client->reason_len);
        return close ? -1 : 0;
    }
    mu__ws_msg_t *msg = mu__ws_msg_ref(mu__ws_client_oldest(client));
    size_t off = client->head_sent;
    uint64_t seq = client->head_seq;
    client->head_busy = true;
    pthread_mutex_unlock(&self->lock);

    size_t n = msg->size - off < MU__WS_CHUNK ? msg->size - off : MU__WS_CHUNK;
    int rc = write_frame(self, wsi, msg, off, n);

    pthread_mutex_lock(&self->lock);
    client->head_busy = false;
    if (rc == 0 && client->head_seq == seq) {
        client->head_sent += n;
        self->stats.bytes_out += n;
        if (client->head_sent == msg->size) {
            mu__ws_client_pop(client);
            self->stats.messages_out++;
        }
    }
    bool more = client->queue.count > 0 || client->closing;
    pthread_mutex_unlock(&self->lock);
    mu__ws_msg_unref(&msg);
    *written += n + 14; /* a frame header at most */
    return rc < 0 ? -1 : more;
}

static int
on_writable(mu__ws_t *self, struct lws *wsi, mu__ws_client_t *client)
{
    if (!client)
        return 0;
    size_t written = 0;
    int more;
    do
        more = write_next(self, wsi, client, &written);
    while (more > 0 && written < WRITE_BUDGET && !lws_send_pipe_choked(wsi));
    if (more > 0 && lws_callback_on_writable(wsi) < 0)
        return -1;
    return more < 0 ? -1 : 0;
}

/* ---- the callback ------------------------------------------------------- */

static void
on_connect_error(mu__ws_t *self, const void *in, size_t len)
{
    if (!self->connect_failing)
        mu_log(MU_LOG_WARNING, "net", "mu_ws: connecting to %s:%d%s: %.*s (retrying every %d ms)",
               self->config.host, self->config.port, self->config.path, in ? (int) len : 0,
               in ? (const char *) in : "", self->config.reconnect_ms);
    self->connect_failing = true;
    mu__ws_reconnect_later(self);
}

int
mu__ws_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
    mu__ws_session_t *session = user;
    mu__ws_client_t *client = session ? session->client : NULL;
    switch (reason) {
    case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
        on_wake(endpoint_of(wsi));
        return 0;
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
        return on_filter(endpoint_of(wsi), wsi);
    case LWS_CALLBACK_ESTABLISHED:
    case LWS_CALLBACK_CLIENT_ESTABLISHED:
        return on_open(endpoint_of(wsi), wsi, session);
    case LWS_CALLBACK_RECEIVE:
    case LWS_CALLBACK_CLIENT_RECEIVE:
        return on_receive(endpoint_of(wsi), wsi, client, in, len);
    case LWS_CALLBACK_SERVER_WRITEABLE:
    case LWS_CALLBACK_CLIENT_WRITEABLE:
        return on_writable(endpoint_of(wsi), wsi, client);
    case LWS_CALLBACK_RECEIVE_PONG:
    case LWS_CALLBACK_CLIENT_RECEIVE_PONG:
        if (client)
            client->valid_ms = mu__now_ms();
        return 0;
    case LWS_CALLBACK_CLOSED:
        on_closed(endpoint_of(wsi), session);
        return 0;
    case LWS_CALLBACK_CLIENT_CLOSED:
        on_closed(endpoint_of(wsi), session);
        mu__ws_reconnect_later(endpoint_of(wsi));
        return 0;
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
        on_connect_error(endpoint_of(wsi), in, len);
        return 0;
    case LWS_CALLBACK_RAW_RX_FILE: /* the only raw descriptor: our listener */
        return mu__ws_listen_accept(endpoint_of(wsi));
    case LWS_CALLBACK_RAW_CLOSE_FILE:
        endpoint_of(wsi)->listener = NULL;
        return 0;
    default:
        return lws_callback_http_dummy(wsi, reason, user, in, len);
    }
}
