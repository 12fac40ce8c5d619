/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_proxy_ws.c — the proxy's WebSocket front: a thread of its own polls
    the WebSocket endpoint (net/mu_ws.h), a SUB connected over inproc to
    the proxy's XPUB (downstream side) and a publisher (mu_pub) connected
    over inproc to the proxy's XSUB (upstream side). A client's subscribe
    becomes a subscribe of the SUB, which libzmq counts: the XPUB passes
    every subscribe up (verbose) and the SUB's last unsubscribe of a prefix
    (when no client holds it any more) frees it upstream like any ZeroMQ
    subscriber's. A message from upstream is formatted once, the first
    time a client matches, into one shared message queued to every
    matching client. Client publishes go through the publisher, so the
    proxy forwards them to ZeroMQ subscribers and to the front alike.
    Contract: include/mu_pubsub.h; design: doc/pubsub.md ("WebSocket"). */
#include "net/mu_proxy_ws_int.h"
#include "net/mu_pubsub_int.h"
#include "net/mu_ws.h"
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#define BATCH 256 /* events or messages handled before looking at the others */

struct mu__pws_t {
    mu__ws_t *ws;
    bool allow_publish;
    int max_prefixes;
    size_t max_message;
    zsock_t *sub;        /* SUB on the proxy's XPUB */
    mu_pub_t *pub;       /* into the proxy's XSUB */
    zsock_t *ctl_owner;  /* PAIR: the owner's end (stop) */
    zsock_t *ctl_thread; /* PAIR: the thread's end */
    pthread_t thread;
    bool started;
    mu__pws_index_t *index; /* thread */
    mu__pws_buf_t out;      /* thread: the frame being made */
    mu__ws_msg_t *msg;      /* thread: the current upstream message, once made */
    bool unsendable;        /* thread: the current one cannot be sent */
    const void *topic, *payload;
    size_t topic_size, size;
    /* counters (atomic) */
    uint64_t forwarded, too_large, subscribes, unsubscribes, publishes, errors, malformed, denied;
};

static void
add(uint64_t *counter)
{
    __atomic_add_fetch(counter, 1, __ATOMIC_RELAXED);
}

static uint64_t
load(const uint64_t *counter)
{
    return __atomic_load_n(counter, __ATOMIC_RELAXED);
}

/* ---- life --------------------------------------------------------------- */

static int
check_settings(const mu_proxy_ws_t *s)
{
    if (s->max_message > MU_PUBSUB_MAX_MESSAGE)
        return mu__fail(MU_EINVAL, "WebSocket max_message %zu over %u", s->max_message,
                        MU_PUBSUB_MAX_MESSAGE);
    if (s->port < 0 || s->port > 65535)
        return mu__fail(MU_EINVAL, "WebSocket port %d", s->port);
    if (s->max_clients < 0 || s->max_prefixes < 0)
        return mu__fail(MU_EINVAL, "WebSocket max_clients %d / max_prefixes %d", s->max_clients,
                        s->max_prefixes);
    if (s->ping_interval_ms < -1 || s->ping_timeout_ms < 0)
        return mu__fail(MU_EINVAL, "WebSocket ping interval %d / timeout %d ms",
                        s->ping_interval_ms, s->ping_timeout_ms);
    if (s->overflow != MU_PROXY_WS_DISCONNECT && s->overflow != MU_PROXY_WS_DROP_OLDEST)
        return mu__fail(MU_EINVAL, "WebSocket overflow %d", (int) s->overflow);
    return 0;
}

static mu__ws_t *
listen_ws(const mu_proxy_ws_t *s)
{
    mu__ws_config_t c = {
        .listen = true,
        .host = s->host,
        .port = s->port,
        .cert_file = s->cert_file,
        .key_file = s->key_file,
        .origin = s->origin,
        .max_message = s->max_message,
        .max_clients = s->max_clients,
        .queue_max = s->queue_max,
        .overflow = s->overflow == MU_PROXY_WS_DROP_OLDEST ? MU__WS_DROP_OLDEST : MU__WS_DISCONNECT,
        .ping_interval_ms = s->ping_interval_ms,
        .ping_timeout_ms = s->ping_timeout_ms,
    };
    return mu__ws_new(&c);
}

mu__pws_t *
mu__pws_new(const mu_proxy_ws_t *settings)
{
    assert(settings);
    if (check_settings(settings) != 0)
        return NULL;
    mu__pws_t *self = calloc(1, sizeof *self);
    if (!self)
        return mu__fail_null(MU_ENOMEM, "WebSocket front");
    self->allow_publish = settings->allow_publish;
    self->max_prefixes = settings->max_prefixes ? settings->max_prefixes : MU_PROXY_WS_MAX_PREFIXES;
    self->max_message = settings->max_message ? settings->max_message : MU_PROXY_WS_MAX_MESSAGE;
    self->index = mu__pws_index_new((size_t) self->max_prefixes);
    if (!self->index) {
        mu__pws_destroy(&self);
        return mu__fail_null(MU_ENOMEM, "WebSocket front");
    }
    self->ws = listen_ws(settings);
    if (!self->ws) {
        int code = mu_last_code() ? mu_last_code() : MU_EIO;
        mu__pws_destroy(&self);
        errno = mu_error_errno(code);
        return NULL; /* mu__ws_new recorded why */
    }
    return self;
}

void
mu__pws_destroy(mu__pws_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    mu__pws_t *self = *self_p;
    *self_p = NULL;
    if (self->started) {
        zsock_signal(self->ctl_owner, 0);
        pthread_join(self->thread, NULL);
    }
    mu__ws_destroy(&self->ws);
    zsock_destroy(&self->sub);
    mu_pub_destroy(&self->pub);
    zsock_destroy(&self->ctl_thread);
    zsock_destroy(&self->ctl_owner);
    mu__pws_index_destroy(&self->index);
    mu__pws_buf_free(&self->out);
    free(self);
}

int
mu__pws_port(const mu__pws_t *self)
{
    return mu__ws_port(self->ws);
}

void
mu__pws_stats(const mu__pws_t *self, mu_proxy_ws_stats_t *all)
{
    mu__ws_stats_t ws = { .size = sizeof ws };
    if (mu__ws_stats(self->ws, &ws) == 0) {
        all->clients = ws.clients;
        all->accepted = ws.accepted;
        all->refused = ws.refused;
        all->refused_origin = ws.refused_origin;
        all->messages_in = ws.messages_in;
        all->messages_out = ws.messages_out;
        all->bytes_out = ws.bytes_out;
        all->dropped = ws.dropped;
        all->slow = ws.slow;
        all->oversized = ws.oversized;
        all->ping_timeouts = ws.ping_timeouts;
    }
    all->forwarded = load(&self->forwarded);
    all->too_large = load(&self->too_large);
    all->subscribes = load(&self->subscribes);
    all->unsubscribes = load(&self->unsubscribes);
    all->publishes = load(&self->publishes);
    all->errors = load(&self->errors);
    all->malformed = load(&self->malformed);
    all->denied = load(&self->denied);
}

/* ---- from clients ------------------------------------------------------- */

static void
send_error(mu__pws_t *self, uint64_t client, int code, const char *message)
{
    add(&self->errors);
    if (mu__pws_format_error(&self->out, message, code) == 0)
        (void) mu__ws_send(self->ws, client, self->out.data, self->out.size, false);
}

static void
send_reply(mu__pws_t *self, uint64_t client, const char *key, const mu__pws_command_t *c)
{
    if (mu__pws_format_reply(&self->out, key, c->topic, c->topic_size) == 0)
        (void) mu__ws_send(self->ws, client, self->out.data, self->out.size, false);
}

static void
subscribe(mu__pws_t *self, uint64_t client, const mu__pws_command_t *c)
{
    int rc = mu__pws_index_subscribe(self->index, client, c->topic, c->topic_size);
    if (rc == MU_ENOSPC) {
        char message[120];
        snprintf(message, sizeof message, "subscribe: a client holds at most %d prefixes",
                 self->max_prefixes);
        send_error(self, client, rc, message);
        return;
    }
    if (rc < 0) {
        send_error(self, client, rc, "subscribe: no memory");
        return;
    }
    if (rc == 1)
        zmq_setsockopt(zsock_resolve(self->sub), ZMQ_SUBSCRIBE, c->topic, c->topic_size);
    add(&self->subscribes);
    send_reply(self, client, "subscribed", c);
}

static void
unsubscribe(mu__pws_t *self, uint64_t client, const mu__pws_command_t *c)
{
    if (mu__pws_index_unsubscribe(self->index, client, c->topic, c->topic_size) != 0) {
        send_error(self, client, MU_ENOENT, "unsubscribe: not subscribed to that prefix");
        return;
    }
    zmq_setsockopt(zsock_resolve(self->sub), ZMQ_UNSUBSCRIBE, c->topic, c->topic_size);
    add(&self->unsubscribes);
    send_reply(self, client, "unsubscribed", c);
}

static void
publish(mu__pws_t *self, uint64_t client, const mu__pws_command_t *c)
{
    if (!self->allow_publish) {
        add(&self->denied);
        send_error(self, client, MU_EACCES, "publish: publishing is not allowed on this proxy");
        return;
    }
    int rc = mu_pub_send(self->pub, c->topic, c->topic_size, c->data, c->size);
    if (rc != 0) {
        char message[120];
        snprintf(message, sizeof message, "publish: %s", mu_strerror(rc));
        send_error(self, client, rc, message);
        return;
    }
    add(&self->publishes);
}

static void
execute(mu__pws_t *self, uint64_t client, int rc, mu__pws_command_t *c)
{
    if (rc != 0) {
        if (c && c->malformed)
            add(&self->malformed);
        send_error(self, client, rc, c ? c->error : "no memory for the command");
    } else if (c->verb == MU__PWS_SUBSCRIBE)
        subscribe(self, client, c);
    else if (c->verb == MU__PWS_UNSUBSCRIBE)
        unsubscribe(self, client, c);
    else
        publish(self, client, c);
}

/* Called for each prefix a closed client held. */
static void
release_prefix(void *arg, const void *prefix, size_t size)
{
    mu__pws_t *self = arg;
    zmq_setsockopt(zsock_resolve(self->sub), ZMQ_UNSUBSCRIBE, prefix, size);
}

static void
client_event(mu__pws_t *self, const mu__ws_event_t *ev)
{
    if (ev->kind == MU__WS_OPEN) {
        if (mu__pws_index_add(self->index, ev->client) != 0)
            (void) mu__ws_close(self->ws, ev->client, 1011, "no memory");
    } else if (ev->kind == MU__WS_CLOSED)
        mu__pws_index_remove(self->index, ev->client, release_prefix, self);
    else if (ev->kind == MU__WS_TEXT) {
        mu__pws_command_t *c = NULL;
        int rc = mu__pws_parse_text(ev->data, ev->size, &c);
        execute(self, ev->client, rc, c);
        mu__pws_command_free(&c);
    } else if (ev->kind == MU__WS_BINARY) {
        mu__pws_command_t c = { 0 };
        int rc = mu__pws_parse_binary(ev->data, ev->size, &c);
        execute(self, ev->client, rc, &c);
    }
}

/* ---- from upstream ------------------------------------------------------ */

/* Queues the current upstream message to client, making it first. */
static void
send_to(void *arg, uint64_t client)
{
    mu__pws_t *self = arg;
    if (!self->msg && !self->unsendable) {
        bool binary;
        int rc = mu__pws_format(&self->out, self->topic, self->topic_size, self->payload,
                                self->size, &binary);
        if (rc == 0 && self->out.size <= self->max_message)
            self->msg = mu__ws_msg_new(self->out.data, self->out.size, binary);
        if (self->msg)
            add(&self->forwarded); /* before any client can have it */
        if (!self->msg) {
            self->unsendable = true;
            if (rc != MU_ENOMEM)
                add(&self->too_large);
        }
    }
    if (self->msg)
        (void) mu__ws_send_msg(self->ws, client, self->msg); /* a closed one: CLOSED follows */
}

/* Receives one message from the SUB and sends it to its clients. Returns
   0, or -1 when none is waiting. */
static int
from_upstream(mu__pws_t *self)
{
    void *sub = zsock_resolve(self->sub);
    zmq_msg_t parts[2];
    zmq_msg_init(&parts[0]);
    zmq_msg_init(&parts[1]);
    int n = 0;
    bool more = true;
    while (more) {
        zmq_msg_t m;
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, sub, n == 0 ? ZMQ_DONTWAIT : 0) < 0) {
            zmq_msg_close(&m);
            break;
        }
        more = zmq_msg_more(&m);
        if (n < 2)
            zmq_msg_move(&parts[n], &m);
        zmq_msg_close(&m);
        n++; /* the trailer and anything after: dropped */
    }
    if (n >= 2) {
        self->topic = zmq_msg_data(&parts[0]);
        self->topic_size = zmq_msg_size(&parts[0]);
        self->payload = zmq_msg_data(&parts[1]);
        self->size = zmq_msg_size(&parts[1]);
        self->unsendable = false;
        mu__pws_index_match(self->index, self->topic, self->topic_size, send_to, self);
        mu__ws_msg_unref(&self->msg);
    }
    zmq_msg_close(&parts[0]);
    zmq_msg_close(&parts[1]);
    return n > 0 ? 0 : -1;
}

/* ---- the thread --------------------------------------------------------- */

static void *
run(void *arg)
{
    mu__pws_t *self = arg;
    zmq_pollitem_t items[4] = {
        { zsock_resolve(self->ctl_thread), 0, ZMQ_POLLIN, 0 },
        { zsock_resolve(self->sub), 0, ZMQ_POLLIN, 0 },
        { NULL, mu__ws_fd(self->ws), ZMQ_POLLIN, 0 },
        { zsock_resolve(mu_pub_zsock(self->pub)), 0, ZMQ_POLLIN, 0 },
    };
    while (true) {
        if (zmq_poll(items, 4, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (items[0].revents & ZMQ_POLLIN)
            break; /* the owner says stop */
        if (items[2].revents & ZMQ_POLLIN) {
            mu__ws_event_t ev;
            for (int i = 0; i < BATCH && mu__ws_recv(self->ws, &ev) == 0; i++)
                client_event(self, &ev);
        }
        if (items[1].revents & ZMQ_POLLIN)
            for (int i = 0; i < BATCH && from_upstream(self) == 0; i++)
                ;
        if (items[3].revents & ZMQ_POLLIN)
            while (mu_pub_handle(self->pub, 0) > 0) /* the proxy's subscriptions */
                ;
    }
    return NULL;
}

/* Binds handle to a new inproc name (in name); connects other to it. */
static int
link_inproc(void *handle, void *other, const char *side, char *name, size_t size)
{
    static uint64_t serial; /* inproc names are never reused */
    uint64_t n = __atomic_add_fetch(&serial, 1, __ATOMIC_RELAXED);
    snprintf(name, size, "inproc://mu-proxy-ws-%d-%llu-%s", (int) getpid(), (unsigned long long) n,
             side);
    if (zmq_bind(handle, name) != 0 || zmq_connect(other, name) != 0)
        return mu__fail(MU_EINVAL, "WebSocket front: inproc link '%s': %s", name,
                        zmq_strerror(errno));
    return 0;
}

int
mu__pws_start(mu__pws_t *self, void *up, void *down)
{
    assert(self && up && down && !self->started);
    self->sub = mu__ps_socket(ZMQ_SUB);
    self->pub = self->sub ? mu_pub_new() : NULL;
    if (!self->pub)
        return mu_last_code() ? mu_last_code() : MU_ENOMEM;
    char name[96];
    int rc = link_inproc(down, zsock_resolve(self->sub), "down", name, sizeof name);
    if (rc == 0)
        rc = link_inproc(up, zsock_resolve(mu_pub_zsock(self->pub)), "up", name, sizeof name);
    if (rc != 0)
        return rc;
    char bind[sizeof name + 8], connect[sizeof name + 8];
    snprintf(bind, sizeof bind, "@%s-ctl", name);
    snprintf(connect, sizeof connect, ">%s-ctl", name);
    self->ctl_owner = zsock_new_pair(bind);
    self->ctl_thread = self->ctl_owner ? zsock_new_pair(connect) : NULL;
    if (!self->ctl_thread)
        return mu__fail(MU_EINVAL, "WebSocket front: libzmq refused a socket");
    if (pthread_create(&self->thread, NULL, run, self) != 0)
        return mu__fail(MU_ENOMEM, "WebSocket front: no thread");
    self->started = true;
    return 0;
}
