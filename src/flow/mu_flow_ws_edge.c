/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_flow_ws_edge.c — a WebSocket edge runner: one message per WebSocket
    message. Messages from clients (text or binary) go downstream through
    the from_client hook; messages from upstream go to every connected
    client through from_internal, each as a text message when it is valid
    UTF-8, else binary (or always binary: ws_binary).

    The clients are served by the private endpoint mu__ws (net/mu_ws.h) on
    a thread of its own, made here, in the runner process: a thread does
    not survive the fork that made the runner. This runner's loop polls its
    control socket, the endpoint's event fd and upstream; the hooks,
    reading upstream and the end are the TCP edge's (mu_flow_edge_core.c).

    Client limits as the TCP edge (mu_flow.h, "Edge clients"), mapped onto
    the endpoint: max_frame is its max_message (a larger message from a
    client closes that client, counted in errors); queue_max and overflow
    are its per-client queue (a client over it is disconnected, counted in
    clients_slow, or loses its oldest messages, counted in drops); a client
    that answers no ping is closed (counted in clients_idle). A listening
    edge keeps max_clients, making room by closing the client idle the
    longest, and, as a first stage, closes a client that sent nothing for
    idle_timeout_ms. The endpoint's queue sizes are its own: an outbound
    WebSocket edge never waits for a slow client (only for none). */
#include "flow/mu_flow_int.h"
#include "flow/mu_flow_edge.h"
#include "flow/mu_flow_edge_core.h"
#include "flow/mu_flow_runner.h"
#include "flow/mu_flow_links.h"
#include "net/mu_ws.h"
#include "base/mu_utf8.h"

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zmq.h>

#define EVENT_BATCH 256
#define CLOSE_GOING_AWAY 1001 /* idle, room for another, the flow ends */

typedef struct {
    uint64_t id;       /* the endpoint's; ids only grow */
    int64_t active_ms; /* connected, or sent its last message */
} ws_client_t;

typedef struct {
    mu__edge_core_t core; /* first: the core's functions get the ws_edge_t */
    mu__ws_t *ws;
    ws_client_t *c; /* cap slots, nc used, in id order (oldest first) */
    int nc, cap;
    bool inbound;        /* a first stage: clients send, nothing goes to them */
    bool closing;        /* the end: every client is being closed */
    mu__ws_stats_t seen; /* the endpoint's counters already counted */
} ws_edge_t;

/* ---- the client table ------------------------------------------------------------- */

/*  The slot of client id, or -1 (closed by this edge, or never known). */
static int
find_client(const ws_edge_t *w, uint64_t id)
{
    int lo = 0, hi = w->nc - 1;
    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2;
        if (w->c[mid].id == id)
            return mid;
        if (w->c[mid].id < id)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return -1;
}

static void
forget_client(ws_edge_t *w, int k)
{
    memmove(&w->c[k], &w->c[k + 1], (size_t) (w->nc - k - 1) * sizeof *w->c);
    w->nc--;
    w->core.r->stats.clients = (uint64_t) w->nc;
}

/*  Closes client k (once what is queued to it is written) and forgets it;
    counted in *counter unless NULL. */
static void
close_client(ws_edge_t *w, int k, uint64_t *counter, const char *why)
{
    if (counter)
        (*counter)++;
    (void) mu__ws_close(w->ws, w->c[k].id, CLOSE_GOING_AWAY, why);
    forget_client(w, k);
}

/*  The slot of the client idle the longest (the table is not empty); on a
    tie the older one. */
static int
idlest(const ws_edge_t *w)
{
    int best = 0;
    for (int k = 1; k < w->nc; k++)
        if (w->c[k].active_ms < w->c[best].active_ms)
            best = k;
    return best;
}

static void
add_client(ws_edge_t *w, uint64_t id)
{
    if (w->closing) {
        (void) mu__ws_close(w->ws, id, CLOSE_GOING_AWAY, "the flow ends");
        return;
    }
    if (w->nc == w->cap) /* make room: idle connections never lock clients out */
        close_client(w, idlest(w), &w->core.r->stats.clients_idle, "room for another client");
    w->c[w->nc++] = (ws_client_t) { .id = id, .active_ms = mu__now_ms() };
    w->core.r->stats.clients = (uint64_t) w->nc;
}

/*  On a listening first-stage edge, closes the clients that sent nothing
    for idle_timeout_ms. */
static void
close_idle_clients(ws_edge_t *w)
{
    const mu_flow_edge_t *e = w->core.e;
    if (!e->listen || !w->inbound || e->idle_timeout_ms < 0)
        return;
    int64_t now = mu__now_ms();
    for (int k = w->nc - 1; k >= 0; k--)
        if (now - w->c[k].active_ms >= e->idle_timeout_ms)
            close_client(w, k, &w->core.r->stats.clients_idle, "idle");
}

/* ---- the core's functions --------------------------------------------------------- */

static int
count_clients(const mu__edge_core_t *core)
{
    return ((const ws_edge_t *) core)->nc;
}

/*  Queues one shared copy to every client; the endpoint applies each
    client's queue bound. */
static void
broadcast(mu__edge_core_t *core, const void *data, size_t size)
{
    ws_edge_t *w = (ws_edge_t *) core;
    bool binary = core->e->ws_binary || !mu__utf8_valid(data, size);
    mu__ws_msg_t *msg = mu__ws_msg_new(data, size, binary);
    if (!msg) {
        core->r->stats.drops++;
        return;
    }
    for (int k = w->nc - 1; k >= 0; k--) {
        int rc = mu__ws_send_msg(w->ws, w->c[k].id, msg);
        if (rc == MU_ENOENT || rc == MU_EPIPE) /* gone, or closed as slow (counted) */
            forget_client(w, k);
        else if (rc != 0)
            core->r->stats.drops++;
    }
    mu__ws_msg_unref(&msg);
}

/* ---- events ------------------------------------------------------------------------ */

static void
take_message(ws_edge_t *w, const mu__ws_event_t *ev)
{
    int k = find_client(w, ev->client);
    if (k < 0 || w->closing) /* being closed: what it still sends goes nowhere */
        return;
    w->c[k].active_ms = mu__now_ms();
    (void) mu__edge_from_client(&w->core, ev->data, ev->size);
}

/*  Handles up to a batch of the endpoint's events. Returns true when none
    is left. */
static bool
read_events(ws_edge_t *w)
{
    for (int n = 0; n < EVENT_BATCH && !w->core.r->exit_req; n++) {
        mu__ws_event_t ev;
        if (mu__ws_recv(w->ws, &ev) != 0)
            return true;
        int k;
        switch (ev.kind) {
        case MU__WS_OPEN:
            add_client(w, ev.client);
            break;
        case MU__WS_TEXT:
        case MU__WS_BINARY:
            take_message(w, &ev);
            break;
        case MU__WS_CLOSED:
            k = find_client(w, ev.client);
            if (k >= 0)
                forget_client(w, k);
            break;
        }
    }
    return false;
}

/*  Adds what the endpoint counted since last time to the runner's figures. */
static void
count_endpoint(ws_edge_t *w)
{
    mu__ws_stats_t now = { .size = sizeof now };
    if (mu__ws_stats(w->ws, &now) != 0)
        return;
    mu__runner_stats_t *s = &w->core.r->stats;
    s->drops += now.dropped - w->seen.dropped;
    s->clients_slow += now.slow - w->seen.slow;
    s->errors += now.oversized - w->seen.oversized;
    s->errors += now.accept_failures - w->seen.accept_failures;
    s->clients_idle += now.ping_timeouts - w->seen.ping_timeouts;
    w->seen = now;
}

/* ---- loop ------------------------------------------------------------------------ */

/*  Waits for control, events or (unless blocked) upstream, and serves them. */
static void
poll_once(ws_edge_t *w, bool with_upstream)
{
    mu__runner_t *r = w->core.r;
    zmq_pollitem_t items[3] = { { .fd = r->ctl, .events = ZMQ_POLLIN },
                                { .fd = mu__ws_fd(w->ws), .events = ZMQ_POLLIN } };
    int n = 2;
    if (with_upstream && mu__edge_wants_upstream(&w->core))
        items[n++] = (zmq_pollitem_t) { .socket = r->pull, .events = ZMQ_POLLIN };
    mu__runner_batch_end(r);
    mu__runner_poll(r, items, n, with_upstream ? mu__edge_poll_ms(&w->core) : MU__FLOW_STATS_MS);
    if (items[0].revents)
        mu__runner_ctl(r);
    /* Idle only after every event was read: a client whose message came
       while the edge waited for room downstream is not idle. */
    if (read_events(w) && !w->closing)
        close_idle_clients(w);
    if (with_upstream && ((n == 3 && items[2].revents) || mu__edge_holds(&w->core)))
        mu__edge_read_upstream(&w->core);
    count_endpoint(w);
    mu__runner_tick(r);
}

/*  The end: closes every client once what is queued to it is written and
    waits until they are gone (a client that reads nothing goes when its
    pings go unanswered, or at the flow's drain deadline). */
static void
close_clients(ws_edge_t *w)
{
    w->closing = true;
    for (int k = 0; k < w->nc; k++)
        (void) mu__ws_close(w->ws, w->c[k].id, CLOSE_GOING_AWAY, "the flow ends");
    while (w->nc > 0 && !w->core.r->exit_req)
        poll_once(w, false);
}

static mu__ws_config_t
endpoint_config(const mu__runner_t *r, const mu_flow_edge_t *e)
{
    return (mu__ws_config_t) {
        .listen = e->listen,
        .host = e->host,
        .port = e->listen ? r->st->ports[r->index] : e->port,
        .path = e->ws_path,
        .cert_file = e->ws_cert_file,
        .key_file = e->ws_key_file,
        .tls = e->ws_tls,
        .ca_file = e->ws_ca_file,
        .tls_insecure = e->ws_tls_insecure,
        .origin = e->ws_origin,
        .max_message = e->max_frame,
        /* one over: the edge itself makes room by closing the idlest */
        .max_clients = e->listen ? e->max_clients + 1 : 0,
        .queue_max = e->queue_max,
        .overflow = e->overflow == MU_FLOW_EDGE_DROP_OLDEST ? MU__WS_DROP_OLDEST
                                                            : MU__WS_DISCONNECT,
        .ping_interval_ms = e->ws_ping_interval_ms,
    };
}

void
mu__flow_ws_edge_main(mu__runner_t *r)
{
    static ws_edge_t w;
    const mu_flow_edge_t *e = &r->st->edges[r->index];
    w.core = (mu__edge_core_t) { .r = r, .e = e, .clients = count_clients, .broadcast = broadcast };
    w.inbound = r->pull == NULL;
    w.cap = e->listen ? e->max_clients : 1;
    w.c = calloc((size_t) w.cap, sizeof *w.c);
    if (!w.c) {
        mu__rlog(error, r, "no memory for %d clients", w.cap);
        _exit(1);
    }
    if (r->st->listen_fds[r->index] >= 0) { /* the supervisor's copy holds the port */
        close(r->st->listen_fds[r->index]);
        r->st->listen_fds[r->index] = -1;
    }
    mu__edge_startup(&w.core);
    mu__ws_config_t config = endpoint_config(r, e);
    w.ws = mu__ws_new(&config);
    if (!w.ws) {
        mu__rlog(error, r, "WebSocket endpoint on %s:%d: %s", e->host, config.port,
                 mu_last_error());
        _exit(1);
    }
    mu__flow_say_ready(r->flow, r->stage, r->index); /* listening, if it listens */
    while (!mu__edge_finished(&w.core))
        poll_once(&w, true);
    if (r->exit_req)
        _exit(0);
    close_clients(&w);
    if (r->exit_req)
        _exit(0);
    count_endpoint(&w);
    mu__ws_destroy(&w.ws);
    mu__runner_finish(r);
}
