/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_pub.c — the publisher: one XPUB socket (ZMQ_XPUB_VERBOSE: every
    subscribe message reaches us, the unsubscribe only when no subscriber
    holds the prefix any more), a table of topics (sequence number and,
    with the cache on, the last payload), and the set of subscribed
    prefixes. Contract: include/mu_pubsub.h; design: doc/pubsub.md. */
#include "net/mu_pubsub_int.h"
#include <sodium.h>
#include <stdlib.h>

#define DEFAULT_TOPICS 65536

/* One topic's state: an item of self->topics, in self->order. */
typedef struct {
    uint64_t seq;  /* of the last message published */
    void *handle;  /* in self->order */
    uint8_t *data; /* cached payload (cache on), malloc'd */
    size_t size;
    size_t topic_size;
    uint8_t topic[]; /* the key again, for eviction */
} topic_t;

struct mu_pub_t {
    void *handle; /* XPUB (net/mu_zsocket.h) */
    mu__curve_side_t side;
    uint64_t session;
    zhashx_t *topics; /* key topic -> topic_t */
    zlistx_t *order;  /* topic_t, least recently published first */
    size_t topic_limit;
    bool cache;
    bool trailer; /* send the 17-byte third frame (default) */
    bool sent_any;
    zhashx_t *subs;                              /* key prefix -> (int) 1 */
    uint32_t len_count[MU_PUBSUB_MAX_TOPIC + 1]; /* subscribed prefixes by length */
    bool nodrop;
    int nodrop_timeout;
    int64_t drained_ms; /* when mu_pub_send last read subscriptions */
    topic_t *last;      /* the topic of the last send (last in order), or NULL */
    int last_matches;   /* matches() of last: 1, 0, or -1 not known */
    mu_pub_stats_t st;
};

static void
topic_free(void **item)
{
    topic_t *t = *item;
    if (t) {
        free(t->data);
        free(t);
    }
    *item = NULL;
}

mu_pub_t *
mu_pub_new(void)
{
    if (sodium_init() < 0)
        return mu__fail_null(MU_EIO, "mu_pub_new: libsodium cannot initialize");
    mu_pub_t *self = calloc(1, sizeof *self);
    if (!self)
        return mu__fail_null(MU_ENOMEM, "mu_pub_new");
    randombytes_buf(&self->session, sizeof self->session);
    self->topic_limit = DEFAULT_TOPICS;
    self->trailer = true;
    self->topics = mu__ps_map_new();
    self->subs = mu__ps_map_new();
    self->order = zlistx_new();
    if (!self->topics || !self->subs || !self->order) {
        mu_pub_destroy(&self);
        return mu__fail_null(MU_ENOMEM, "mu_pub_new");
    }
    zhashx_set_destructor(self->topics, topic_free);
    zhashx_set_destructor(self->subs, NULL);
    self->handle = mu__ps_socket(ZMQ_XPUB, "mu_pub_new");
    if (!self->handle) {
        mu_pub_destroy(&self);
        errno = mu_error_errno(mu_last_code()); /* the failure is recorded */
        return NULL;
    }
    mu__ps_set_int(self->handle, ZMQ_XPUB_VERBOSE, 1);
    int64_t max = MU__PS_MAX_SUBSCRIPTION; /* it receives subscriptions only */
    zmq_setsockopt(self->handle, ZMQ_MAXMSGSIZE, &max, sizeof max);
    return self;
}

void
mu_pub_destroy(mu_pub_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    mu_pub_t *self = *self_p;
    *self_p = NULL;
    mu__zsocket_close(&self->handle);
    mu__curve_side_fini(&self->side);
    zlistx_destroy(&self->order);
    zhashx_destroy(&self->topics);
    zhashx_destroy(&self->subs);
    free(self);
}

int
mu_pub_set_hwm(mu_pub_t *self, int hwm)
{
    assert(self);
    if (hwm < 0)
        return mu__fail(MU_EINVAL, "publisher high-water mark %d", hwm);
    mu__ps_set_int(self->handle, ZMQ_SNDHWM, hwm);
    return 0;
}

int
mu_pub_set_nodrop(mu_pub_t *self, int on, int timeout_ms)
{
    assert(self);
    if (timeout_ms < -1)
        return mu__fail(MU_EINVAL, "publisher nodrop timeout %d ms", timeout_ms);
    self->nodrop = on != 0;
    self->nodrop_timeout = timeout_ms;
    mu__ps_set_int(self->handle, ZMQ_XPUB_NODROP, self->nodrop);
    mu__ps_set_int(self->handle, ZMQ_SNDTIMEO, self->nodrop ? timeout_ms : -1);
    return 0;
}

int
mu_pub_set_cache(mu_pub_t *self, size_t topics)
{
    assert(self);
    if (topics > (1u << 24) || self->sent_any)
        return mu__fail(MU_EINVAL,
                        self->sent_any ? "mu_pub_set_cache after a send"
                                       : "cache of %zu topics (at most 2^24)",
                        topics);
    if (topics > 0 && !self->trailer)
        return mu__fail(MU_EINVAL, "mu_pub_set_cache with the trailer off (replays need it)");
    self->cache = topics > 0;
    self->topic_limit = topics > 0 ? topics : DEFAULT_TOPICS;
    return 0;
}

int
mu_pub_set_trailer(mu_pub_t *self, int on)
{
    assert(self);
    if (self->sent_any)
        return mu__fail(MU_EINVAL, "mu_pub_set_trailer after a send");
    if (!on && self->cache)
        return mu__fail(MU_EINVAL, "mu_pub_set_trailer off with the cache on (replays need it)");
    self->trailer = on != 0;
    return 0;
}

int
mu_pub_set_curve(mu_pub_t *self, const mu_keys_t *server_keys, const mu_allow_t *allow,
                 const mu_keys_t *client_keys, const uint8_t *server_public)
{
    assert(self);
    return mu__curve_side_set(&self->side, server_keys, allow, client_keys, server_public);
}

int
mu_pub_set_curve_secret(mu_pub_t *self, const void *secret, size_t size)
{
    assert(self && secret);
    return mu__curve_side_set_secret(&self->side, secret, size);
}

int
mu_pub_bind(mu_pub_t *self, const char *endpoint)
{
    assert(self && endpoint);
    return mu__curve_bind(self->handle, &self->side, endpoint);
}

int
mu_pub_connect(mu_pub_t *self, const char *endpoint)
{
    assert(self && endpoint);
    return mu__curve_connect(self->handle, &self->side, endpoint);
}

const char *
mu_pub_endpoint(const mu_pub_t *self)
{
    assert(self);
    return self->side.endpoint;
}

/* ------------------------------------------------------------------ */
/* Sending                                                             */

/* Sends [topic][data][trailer], or [topic][data] with the trailer off;
   flags for the first frame. Returns 0 or the libzmq failure as a code. */
static int
send_frames(mu_pub_t *self, const void *topic, size_t topic_size, const void *data, size_t size,
            uint64_t seq, uint8_t tflags, int flags)
{
    uint8_t trailer[MU__PS_TRAILER];
    mu__put_le64(trailer, self->session);
    mu__put_le64(trailer + 8, seq);
    trailer[16] = tflags;
    if (zmq_send(self->handle, topic, topic_size, flags | ZMQ_SNDMORE) < 0)
        return mu__ps_zmq_error();
    /* The first frame got through: libzmq takes the rest of the message. */
    if (!self->trailer)
        return zmq_send(self->handle, data, size, 0) < 0 ? mu__ps_zmq_error() : 0;
    if (zmq_send(self->handle, data, size, ZMQ_SNDMORE) < 0
        || zmq_send(self->handle, trailer, sizeof trailer, 0) < 0)
        return mu__ps_zmq_error();
    return 0;
}

/* True when a subscribed prefix matches topic. */
static bool
matches(const mu_pub_t *self, const uint8_t *topic, size_t topic_size)
{
    MU__PS_KEY_BUF(key);
    for (size_t n = 0; n <= topic_size; n++) {
        if (!self->len_count[n])
            continue;
        mu__ps_key_set(key, topic, n, NULL, 0);
        if (zhashx_lookup(self->subs, key))
            return true;
    }
    return false;
}

/* Publishes again the cached topics that prefix matches. */
static void
replay(mu_pub_t *self, const uint8_t *prefix, size_t size)
{
    for (topic_t *t = zhashx_first(self->topics); t; t = zhashx_next(self->topics)) {
        if (!t->data || t->topic_size < size || memcmp(t->topic, prefix, size) != 0)
            continue;
        if (send_frames(self, t->topic, t->topic_size, t->data, t->size, t->seq, MU__PS_REPLAY,
                        ZMQ_DONTWAIT)
            == 0)
            self->st.replays++;
    }
}

/* Applies one subscription message (1|prefix or 0|prefix). */
static void
on_subscription(mu_pub_t *self, const uint8_t *msg, size_t size)
{
    if (size == 0 || msg[0] > 1)
        return; /* not a subscription: XPUB gives us nothing else */
    const uint8_t *prefix = msg + 1;
    size_t n = size - 1;
    self->last_matches = -1; /* the subscribed set may change */
    MU__PS_KEY_BUF(key);
    bool fits = n <= MU_PUBSUB_MAX_TOPIC; /* longer prefixes match no topic */
    if (fits)
        mu__ps_key_set(key, prefix, n, NULL, 0);
    if (msg[0] == 1) {
        self->st.subscribes++;
        if (fits && !zhashx_lookup(self->subs, key)
            && zhashx_insert(self->subs, key, (void *) (uintptr_t) 1) == 0)
            self->len_count[n]++;
        if (fits && self->cache)
            replay(self, prefix, n);
    } else {
        self->st.unsubscribes++;
        if (fits && zhashx_lookup(self->subs, key)) {
            zhashx_delete(self->subs, key);
            self->len_count[n]--;
        }
    }
}

/* Reads every subscription message queued. Returns how many. */
static int
drain(mu_pub_t *self)
{
    int count = 0;
    while (true) {
        zmq_msg_t msg;
        zmq_msg_init(&msg);
        if (zmq_msg_recv(&msg, self->handle, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&msg);
            return count;
        }
        on_subscription(self, zmq_msg_data(&msg), zmq_msg_size(&msg));
        zmq_msg_close(&msg);
        count++;
    }
}

int
mu_pub_handle(mu_pub_t *self, int timeout_ms)
{
    assert(self);
    int64_t deadline = mu__deadline_ms(timeout_ms);
    while (true) {
        int n = drain(self);
        if (n > 0)
            return n;
        int rc = mu__ps_wait_readable(self->handle, mu__remaining_ms(deadline));
        if (rc == MU_EAGAIN || rc == MU_ETIMEDOUT)
            return mu__expired(timeout_ms);
        if (rc != 0)
            return rc;
    }
}

/* The state of topic, made (evicting the least recently published topic
   when the table is full) when new. NULL when out of memory. */
static topic_t *
topic_state(mu_pub_t *self, const void *topic, size_t topic_size, bool *first)
{
    topic_t *t = self->last;
    *first = false;
    if (t && t->topic_size == topic_size && memcmp(t->topic, topic, topic_size) == 0)
        return t; /* the same topic again: already last in order */
    self->last = NULL;
    self->last_matches = -1;
    MU__PS_KEY_BUF(key);
    mu__ps_key_set(key, topic, topic_size, NULL, 0);
    t = zhashx_lookup(self->topics, key);
    *first = t == NULL;
    if (t) {
        zlistx_move_end(self->order, t->handle);
        self->last = t;
        return t;
    }
    if (zhashx_size(self->topics) >= self->topic_limit) {
        topic_t *old = zlistx_first(self->order);
        MU__PS_KEY_BUF(old_key);
        mu__ps_key_set(old_key, old->topic, old->topic_size, NULL, 0);
        zlistx_delete(self->order, old->handle);
        zhashx_delete(self->topics, old_key);
        self->st.evicted++;
    }
    t = calloc(1, sizeof *t + topic_size);
    if (!t)
        return NULL;
    t->topic_size = topic_size;
    memcpy(t->topic, topic, topic_size);
    t->handle = zlistx_add_end(self->order, t);
    if (!t->handle || zhashx_insert(self->topics, key, t) != 0) {
        if (t->handle)
            zlistx_delete(self->order, t->handle);
        free(t);
        return NULL;
    }
    self->last = t;
    return t;
}

/* Keeps a copy of the payload as the topic's last value. */
static int
cache_value(topic_t *t, const void *data, size_t size)
{
    uint8_t *copy = malloc(size ? size : 1);
    if (!copy)
        return MU_ENOMEM;
    if (size)
        memcpy(copy, data, size);
    free(t->data);
    t->data = copy;
    t->size = size;
    return 0;
}

int
mu_pub_send(mu_pub_t *self, const void *topic, size_t topic_size, const void *data, size_t size)
{
    assert(self && (topic || !topic_size) && (data || !size));
    if (topic_size > MU_PUBSUB_MAX_TOPIC)
        return mu__fail(MU_EINVAL, "topic of %zu bytes (at most %d)", topic_size,
                        MU_PUBSUB_MAX_TOPIC);
    if (size > MU_PUBSUB_MAX_MESSAGE)
        return mu__fail(MU_EMSGSIZE, "message of %zu bytes", size);
    self->sent_any = true;
    int64_t now = mu__now_ms();
    if (now != self->drained_ms) { /* a recv costs a poll(2): at most once a ms */
        self->drained_ms = now;
        (void) drain(self);
    }
    bool first;
    topic_t *t = topic_state(self, topic, topic_size, &first);
    if (!t)
        return mu__fail(MU_ENOMEM, "topic table");
    if (self->last_matches < 0)
        self->last_matches = matches(self, topic, topic_size);
    bool matched = self->last_matches == 1;
    int rc = send_frames(self, topic, topic_size, data, size, t->seq + 1, first ? MU__PS_FIRST : 0,
                         self->nodrop && self->nodrop_timeout == 0 ? ZMQ_DONTWAIT : 0);
    if (rc == MU_EAGAIN) {
        self->st.dropped++;
        return mu__fail(mu__expired(self->nodrop_timeout), "a subscriber's queue is full");
    }
    if (rc != 0)
        return rc;
    t->seq++;
    if (self->cache && cache_value(t, data, size) != 0)
        return mu__fail(MU_ENOMEM, "cached value of %zu bytes", size);
    if (matched) {
        self->st.sent++;
        self->st.bytes_sent += size;
    } else
        self->st.filtered++;
    return 0;
}

size_t
mu_pub_subscriptions(const mu_pub_t *self)
{
    assert(self);
    return zhashx_size(self->subs);
}

int
mu_pub_is_subscribed(const mu_pub_t *self, const void *prefix, size_t size)
{
    assert(self && (prefix || !size));
    if (size > MU_PUBSUB_MAX_TOPIC)
        return 0;
    MU__PS_KEY_BUF(key);
    mu__ps_key_set(key, prefix, size, NULL, 0);
    return zhashx_lookup(self->subs, key) != NULL;
}

int
mu_pub_stats(const mu_pub_t *self, mu_pub_stats_t *stats)
{
    assert(self && stats);
    mu_pub_stats_t all = self->st;
    all.size = sizeof all;
    all.auth_failures = mu__curve_side_failures(&self->side);
    return mu__stats_fill(stats, &all, sizeof all, sizeof all);
}

void *
mu_pub_zsock(mu_pub_t *self)
{
    assert(self);
    return self->handle;
}

int
mu_pub_fd(mu_pub_t *self)
{
    assert(self);
    return mu__zsocket_fd(self->handle);
}
