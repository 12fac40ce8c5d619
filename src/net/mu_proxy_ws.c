/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_proxy_ws.c — the proxy's WebSocket front: a thread of its own polls
    the WebSocket endpoint (net/mu_ws.h), a SUB connected over inproc to
    the proxy's XPUB (downstream side) and a publisher (mu_pub) connected
    over inproc to the proxy's XSUB (upstream side). The SUB is a mu_sub,
    which counts: a prefix's first subscribe (the first client to hold
    it) goes upstream through the verbose XPUB, its last unsubscribe (no
    client holds it any more) frees it upstream like any ZeroMQ
    subscriber's. The mu_sub reads the trailer: it counts gaps (missed)
    and drops last-value replays already delivered (duplicates); the
    front keeps the last frame of each topic it received as a replay
    (bounded) for clients that add a prefix the front holds already,
    which the publisher does not replay. A message from upstream is
    formatted once, the first time a client matches, into one shared
    message queued to every matching client. Client publishes go through
    the publisher, so the proxy forwards them to ZeroMQ subscribers and to
    the front alike.
    Contract: include/mu_pubsub.h; design: doc/pubsub.md ("WebSocket"). */
#include "net/mu_proxy_ws_int.h"
#include "net/mu_pubsub_int.h"
#include "net/mu_ws.h"
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#define BATCH 256         /* events or messages handled before looking at the others */
#define CACHE_TOPICS 4096 /* topics whose last replayed frame is kept */
#define CACHE_BYTES (16u * 1024 * 1024) /* frame bytes kept at most */

/* The last frame of a topic that the publisher caches (seen as a replay). */
typedef struct {
    bool binary;
    size_t size;
    size_t topic_size;
    uint8_t topic[MU_PUBSUB_MAX_TOPIC];
    char frame[];
} cached_t;

struct mu__pws_t {
    mu__ws_t *ws;
    bool allow_publish;
    int max_prefixes;
    size_t max_message;
    mu_sub_t *sub;      /* SUB on the proxy's XPUB */
    zhashx_t *cache;    /* thread: topic -> cached_t */
    size_t cache_bytes; /* thread: frame bytes in cache */
    mu_pub_t *pub;      /* into the proxy's XSUB */
    void *ctl_owner;    /* PAIR: the owner's end (stop) */
    void *ctl_thread;   /* PAIR: the thread's end */
    pthread_t thread;
    bool started;
    mu__pws_index_t *index; /* thread */
    mu__pws_buf_t out;      /* thread: the frame being made */
    mu__ws_msg_t *msg;      /* thread: the current upstream message, once made */
    bool unsendable;        /* thread: the current one cannot be sent */
    bool binary;            /* thread: the current one's frame is binary */
    const void *topic, *payload;
    size_t topic_size, size;
    /* counters (atomic) */
    uint64_t forwarded, too_large, subscribes, unsubscribes, publishes, errors, malformed, denied;
    uint64_t missed, duplicates; /* copied from the SUB's counters by the thread */
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
    self->index = mu__pws_index_new((size_t) self->max_prefixes, MU_PROXY_WS_MAX_PREFIX_BYTES);
    self->cache = mu__ps_map_new();
    if (!self->index || !self->cache) {
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
    mu_sub_destroy(&self->sub);
    zhashx_destroy(&self->cache);
    mu_pub_destroy(&self->pub);
    mu__zsocket_close(&self->ctl_thread);
    mu__zsocket_close(&self->ctl_owner);
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
        all->accept_failures = ws.accept_failures;
    }
    all->forwarded = load(&self->forwarded);
    all->too_large = load(&self->too_large);
    all->subscribes = load(&self->subscribes);
    all->unsubscribes = load(&self->unsubscribes);
    all->publishes = load(&self->publishes);
    all->errors = load(&self->errors);
    all->malformed = load(&self->malformed);
    all->denied = load(&self->denied);
    all->missed = load(&self->missed);
    all->duplicates = load(&self->duplicates);
}

/* ---- the last-value frames ---------------------------------------------- */

static void
cache_delete(mu__pws_t *self, const void *topic, size_t size)
{
    MU__PS_KEY_BUF(key);
    mu__ps_key_set(key, topic, size, NULL, 0);
    cached_t *c = zhashx_lookup(self->cache, key);
    if (c) {
        self->cache_bytes -= c->size;
        zhashx_delete(self->cache, key);
    }
}

/* Keeps the frame just made (self->out) for the current message's topic
   when it is a replay or its topic is kept already, within the bounds;
   else forgets the topic (its kept frame would be stale). */
static void
cache_update(mu__pws_t *self, bool replay, bool binary)
{
    MU__PS_KEY_BUF(key);
    mu__ps_key_set(key, self->topic, self->topic_size, NULL, 0);
    bool kept = zhashx_lookup(self->cache, key) != NULL;
    cache_delete(self, self->topic, self->topic_size);
    if ((!replay && !kept) || !self->msg || zhashx_size(self->cache) >= CACHE_TOPICS
        || self->cache_bytes + self->out.size > CACHE_BYTES)
        return;
    cached_t *c = malloc(sizeof *c + self->out.size);
    if (!c)
        return;
    c->binary = binary;
    c->size = self->out.size;
    c->topic_size = self->topic_size;
    memcpy(c->topic, self->topic, self->topic_size);
    memcpy(c->frame, self->out.data, self->out.size);
    if (zhashx_insert(self->cache, key, c) != 0) {
        free(c);
        return;
    }
    self->cache_bytes += c->size;
}

/* Forgets the topics prefix matches, as the SUB forgets their sequences
   when the last holder of prefix unsubscribes (their replays come again). */
static void
cache_forget(mu__pws_t *self, const void *prefix, size_t size)
{
    /* The matching entries only, not a copy of every key (as mu_sub does) */
    zlistx_t *doomed = zlistx_new();
    if (!doomed)
        return;
    for (cached_t *c = zhashx_first(self->cache); c; c = zhashx_next(self->cache))
        if (c->topic_size >= size && memcmp(c->topic, prefix, size) == 0
            && !zlistx_add_end(doomed, c))
            break;
    for (cached_t *c = zlistx_first(doomed); c; c = zlistx_next(doomed))
        cache_delete(self, c->topic, c->topic_size);
    zlistx_destroy(&doomed);
}

/* Sends a new holder of prefix the kept frames of the topics it matches. */
static void
cache_send(mu__pws_t *self, uint64_t client, const void *prefix, size_t size)
{
    for (cached_t *c = zhashx_first(self->cache); c; c = zhashx_next(self->cache))
        if (c->topic_size >= size && memcmp(c->topic, prefix, size) == 0) {
            mu__ws_msg_t *m = mu__ws_msg_new(c->frame, c->size, c->binary);
            if (m)
                (void) mu__ws_send_msg(self->ws, client, m);
            mu__ws_msg_unref(&m);
        }
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
    if (rc == MU_ELIMIT) { /* libzmq keeps a trie node per prefix byte, on 3 sockets here */
        char message[160];
        snprintf(message, sizeof message,
                 "subscribe: the clients of this proxy hold at most %u bytes of distinct prefixes",
                 MU_PROXY_WS_MAX_PREFIX_BYTES);
        send_error(self, client, MU_ENOSPC, message);
        return;
    }
    if (rc < 0) {
        send_error(self, client, rc, "subscribe: no memory");
        return;
    }
    if (rc == 1 && mu_sub_subscribe(self->sub, c->topic, c->topic_size) != 0) {
        (void) mu__pws_index_unsubscribe(self->index, client, c->topic, c->topic_size);
        send_error(self, client, MU_ENOMEM, "subscribe: no memory");
        return;
    }
    add(&self->subscribes);
    send_reply(self, client, "subscribed", c);
    if (rc == 1)
        cache_send(self, client, c->topic, c->topic_size);
}

/* Called for each prefix a client gave up (after the index forgot it). */
static void
release_prefix(void *arg, const void *prefix, size_t size)
{
    mu__pws_t *self = arg;
    int rc = mu_sub_unsubscribe(self->sub, prefix, size);
    assert(rc == 0); /* the SUB holds what the index held */
    (void) rc;
    if (!mu__pws_index_held(self->index, prefix, size))
        cache_forget(self, prefix, size);
}

static void
unsubscribe(mu__pws_t *self, uint64_t client, const mu__pws_command_t *c)
{
    if (mu__pws_index_unsubscribe(self->index, client, c->topic, c->topic_size) != 0) {
        send_error(self, client, MU_ENOENT, "unsubscribe: not subscribed to that prefix");
        return;
    }
    release_prefix(self, c->topic, c->topic_size);
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
        bool binary = false;
        int rc = mu__pws_format(&self->out, self->topic, self->topic_size, self->payload,
                                self->size, &binary);
        self->binary = binary;
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

/* Copies the SUB's loss and duplicate counters for mu__pws_stats. */
static void
copy_sub_stats(mu__pws_t *self)
{
    mu_sub_stats_t st = { .size = sizeof st };
    if (mu_sub_stats(self->sub, &st) == 0) {
        __atomic_store_n(&self->missed, st.missed, __ATOMIC_RELAXED);
        __atomic_store_n(&self->duplicates, st.duplicates, __ATOMIC_RELAXED);
    }
}

/* Receives one message from the SUB and sends it to its clients. Returns
   0, or -1 when none is waiting. */
static int
from_upstream(mu__pws_t *self)
{
    mu_sub_msg_t m;
    int rc = mu_sub_recv(self->sub, &m, 0);
    copy_sub_stats(self); /* duplicates dropped count before what follows them */
    if (rc != 0)
        return -1;
    self->topic = m.topic;
    self->topic_size = m.topic_size;
    self->payload = m.data;
    self->size = m.size;
    self->unsendable = false;
    self->binary = false;
    mu__pws_index_match(self->index, self->topic, self->topic_size, send_to, self);
    cache_update(self, m.replay != 0, self->binary);
    mu__ws_msg_unref(&self->msg);
    return 0;
}

/* ---- the thread --------------------------------------------------------- */

static void *
run(void *arg)
{
    mu__pws_t *self = arg;
    zmq_pollitem_t items[4] = {
        { self->ctl_thread, 0, ZMQ_POLLIN, 0 },
        { mu_sub_zsock(self->sub), 0, ZMQ_POLLIN, 0 },
        { NULL, mu__ws_fd(self->ws), ZMQ_POLLIN, 0 },
        { mu_pub_zsock(self->pub), 0, ZMQ_POLLIN, 0 },
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
        if (items[1].revents & ZMQ_POLLIN) {
            for (int i = 0; i < BATCH && from_upstream(self) == 0; i++)
                ;
        }
        if (items[3].revents & ZMQ_POLLIN)
            while (mu_pub_handle(self->pub, 0) > 0) /* the proxy's subscriptions */
                ;
    }
    return NULL;
}

/* Binds handle to a new inproc name (in name) and connects other to it.
   Returns 0, or an error with handle left unbound and name "". */
static int
link_inproc(void *handle, void *other, const char *side, char *name, size_t size)
{
    static uint64_t serial; /* inproc names are never reused */
    uint64_t n = __atomic_add_fetch(&serial, 1, __ATOMIC_RELAXED);
    snprintf(name, size, "inproc://mu-proxy-ws-%d-%llu-%s", (int) getpid(), (unsigned long long) n,
             side);
    bool bound = zmq_bind(handle, name) == 0;
    if (bound && zmq_connect(other, name) == 0)
        return 0;
    int rc = mu__fail(mu__zsocket_attach_code(errno), "WebSocket front: inproc link '%s': %s", name,
                      zmq_strerror(errno));
    if (bound)
        (void) zmq_unbind(handle, name);
    name[0] = '\0';
    return rc;
}

/* Undoes what a failed mu__pws_start made (the proxy's inproc names, the
   SUB and PUB, the control pair), so that it may be tried again; returns
   rc. */
static int
start_failed(mu__pws_t *self, void *up, void *down, const char *up_name, const char *down_name,
             int rc)
{
    if (*down_name)
        (void) zmq_unbind(down, down_name);
    if (*up_name)
        (void) zmq_unbind(up, up_name);
    mu_sub_destroy(&self->sub);
    mu_pub_destroy(&self->pub);
    mu__zsocket_close(&self->ctl_thread);
    mu__zsocket_close(&self->ctl_owner);
    return rc;
}

int
mu__pws_start(mu__pws_t *self, void *up, void *down)
{
    assert(self && up && down && !self->started);
    char up_name[96] = "", down_name[96] = "";
    self->sub = mu_sub_new();
    self->pub = self->sub ? mu_pub_new() : NULL;
    int rc = self->pub ? 0 : mu_last_code() ? mu_last_code() : MU_ENOMEM;
    if (rc == 0)
        rc = link_inproc(down, mu_sub_zsock(self->sub), "down", down_name, sizeof down_name);
    if (rc == 0)
        rc = link_inproc(up, mu_pub_zsock(self->pub), "up", up_name, sizeof up_name);
    if (rc == 0)
        rc = mu__zsocket_pair(&self->ctl_owner, &self->ctl_thread, "WebSocket front");
    if (rc == 0 && pthread_create(&self->thread, NULL, run, self) != 0)
        rc = mu__fail(MU_ENOMEM, "WebSocket front: no thread");
    if (rc != 0)
        return start_failed(self, up, down, up_name, down_name, rc);
    self->started = true;
    return 0;
}
