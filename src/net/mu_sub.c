/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_sub.c — the subscriber: one SUB socket, the subscriptions counted
    per prefix, and the last sequence number seen per (publisher session,
    topic) to count gaps and drop replays already seen. Contract:
    include/mu_pubsub.h; design: doc/pubsub.md. */
#include "net/mu_pubsub_int.h"
#include <sodium.h>
#include <stdlib.h>

/* Sequences remembered at most; beyond, the table starts over (gap
   counting restarts for every topic). */
#define MAX_SEQS 65536

typedef struct {
    uint64_t last;
} seq_t;

struct mu_sub_t {
    void *handle; /* SUB (net/mu_zsocket.h) */
    mu__curve_side_t side;
    zhashx_t *prefixes; /* key prefix -> size_t count (malloc'd) */
    zhashx_t *seqs;     /* key session(8) + topic -> seq_t */
    zmq_msg_t frames[3];
    int rcvtimeo; /* ZMQ_RCVTIMEO as set now */
    bool flowing; /* the last read found a message: try the next without waiting */
    /* The entry of the last message's (session, topic), so that a stream
       on one topic skips the hash lookup; NULL when unknown. */
    seq_t *last_seq;
    uint8_t last_session[8];
    size_t last_topic_size;
    uint8_t last_topic[MU_PUBSUB_MAX_TOPIC];
    mu_sub_stats_t st;
};

mu_sub_t *
mu_sub_new(void)
{
    if (sodium_init() < 0)
        return mu__fail_null(MU_EIO, "mu_sub_new: libsodium cannot initialize");
    mu_sub_t *self = calloc(1, sizeof *self);
    if (!self)
        return mu__fail_null(MU_ENOMEM, "mu_sub_new");
    for (int i = 0; i < 3; i++)
        zmq_msg_init(&self->frames[i]);
    self->prefixes = mu__ps_map_new();
    self->seqs = mu__ps_map_new();
    if (!self->prefixes || !self->seqs) {
        mu_sub_destroy(&self);
        return mu__fail_null(MU_ENOMEM, "mu_sub_new");
    }
    self->handle = mu__ps_socket(ZMQ_SUB, "mu_sub_new");
    if (!self->handle) {
        mu_sub_destroy(&self);
        errno = mu_error_errno(mu_last_code()); /* the failure is recorded */
        return NULL;
    }
    self->rcvtimeo = -1; /* libzmq's default */
    return self;
}

void
mu_sub_destroy(mu_sub_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    mu_sub_t *self = *self_p;
    *self_p = NULL;
    mu__zsocket_close(&self->handle);
    mu__curve_side_fini(&self->side);
    for (int i = 0; i < 3; i++)
        zmq_msg_close(&self->frames[i]);
    zhashx_destroy(&self->prefixes);
    zhashx_destroy(&self->seqs);
    free(self);
}

int
mu_sub_set_hwm(mu_sub_t *self, int hwm)
{
    assert(self);
    if (hwm < 0)
        return mu__fail(MU_EINVAL, "subscriber high-water mark %d", hwm);
    mu__ps_set_int(self->handle, ZMQ_RCVHWM, hwm);
    return 0;
}

int
mu_sub_set_curve(mu_sub_t *self, const mu_keys_t *server_keys, const mu_allow_t *allow,
                 const mu_keys_t *client_keys, const uint8_t *server_public)
{
    assert(self);
    return mu__curve_side_set(&self->side, server_keys, allow, client_keys, server_public);
}

int
mu_sub_set_curve_secret(mu_sub_t *self, const void *secret, size_t size)
{
    assert(self && secret);
    return mu__curve_side_set_secret(&self->side, secret, size);
}

int
mu_sub_bind(mu_sub_t *self, const char *endpoint)
{
    assert(self && endpoint);
    return mu__curve_bind(self->handle, &self->side, endpoint);
}

int
mu_sub_connect(mu_sub_t *self, const char *endpoint)
{
    assert(self && endpoint);
    return mu__curve_connect(self->handle, &self->side, endpoint);
}

const char *
mu_sub_endpoint(const mu_sub_t *self)
{
    assert(self);
    return self->side.endpoint;
}

/* Lets libzmq attach the connections made so far (a bound socket's new
   connections are taken on only within calls on the socket), so that the
   subscription goes out now to every peer connected. */
static void
process_commands(mu_sub_t *self)
{
    int events = 0;
    size_t len = sizeof events;
    (void) zmq_getsockopt(self->handle, ZMQ_EVENTS, &events, &len);
}

int
mu_sub_subscribe(mu_sub_t *self, const void *prefix, size_t size)
{
    assert(self && (prefix || !size));
    if (size > MU_PUBSUB_MAX_TOPIC)
        return mu__fail(MU_EINVAL, "prefix of %zu bytes (at most %d)", size, MU_PUBSUB_MAX_TOPIC);
    MU__PS_KEY_BUF(key);
    mu__ps_key_set(key, prefix, size, NULL, 0);
    size_t *count = zhashx_lookup(self->prefixes, key);
    if (count) {
        ++*count;
        return 0;
    }
    count = malloc(sizeof *count);
    if (!count || zhashx_insert(self->prefixes, key, count) != 0) {
        free(count);
        return mu__fail(MU_ENOMEM, "subscription");
    }
    *count = 1;
    int rc = zmq_setsockopt(self->handle, ZMQ_SUBSCRIBE, prefix, size);
    assert(rc == 0);
    (void) rc;
    process_commands(self);
    return 0;
}

/* Forgets the sequences of the topics prefix matches: messages after a
   later subscribe are not gaps. Walks the table in place and collects
   only the matching keys (copying all of them, as zhashx_keys does, cost
   65,536 allocations per unsubscribe with a full table: 114 ms under
   ASan, for each unsubscribe a ws client could send); without memory for
   the list, forgets every sequence (also correct: no gap is counted for
   a topic seen anew). */
static void
forget_seqs(mu_sub_t *self, const uint8_t *prefix, size_t size)
{
    self->last_seq = NULL;
    zlistx_t *doomed = zlistx_new(); /* keys owned by the table */
    if (!doomed) {
        zhashx_purge(self->seqs);
        return;
    }
    for (void *item = zhashx_first(self->seqs); item; item = zhashx_next(self->seqs)) {
        const mu__ps_key_t *k = zhashx_cursor(self->seqs);
        if (k->size >= 8 + size && memcmp(k->bytes + 8, prefix, size) == 0
            && !zlistx_add_end(doomed, (void *) k)) {
            zhashx_purge(self->seqs);
            zlistx_destroy(&doomed);
            return;
        }
    }
    for (const mu__ps_key_t *k = zlistx_first(doomed); k; k = zlistx_next(doomed))
        zhashx_delete(self->seqs, k);
    zlistx_destroy(&doomed);
}

int
mu_sub_unsubscribe(mu_sub_t *self, const void *prefix, size_t size)
{
    assert(self && (prefix || !size));
    if (size > MU_PUBSUB_MAX_TOPIC)
        return mu__fail(MU_ENOENT, "not subscribed to a prefix of %zu bytes", size);
    MU__PS_KEY_BUF(key);
    mu__ps_key_set(key, prefix, size, NULL, 0);
    size_t *count = zhashx_lookup(self->prefixes, key);
    if (!count)
        return mu__fail(MU_ENOENT, "not subscribed to that prefix (%zu bytes)", size);
    if (--*count > 0)
        return 0;
    zhashx_delete(self->prefixes, key);
    int rc = zmq_setsockopt(self->handle, ZMQ_UNSUBSCRIBE, prefix, size);
    assert(rc == 0);
    (void) rc;
    forget_seqs(self, prefix, size);
    process_commands(self);
    return 0;
}

/* Reads one whole message into self->frames. Returns the number of frames
   (1..3; more are read and dropped, returned as 4), or a negative code. */
static int
read_frames(mu_sub_t *self, int flags)
{
    int n = 0;
    while (true) {
        zmq_msg_t *m = &self->frames[n < 3 ? n : 2];
        if (zmq_msg_recv(m, self->handle, flags) < 0)
            return mu__ps_zmq_error(); /* only the first part can fail */
        flags = 0;
        n++;
        if (!zmq_msg_more(m))
            return n > 3 ? 4 : n;
    }
}

/* The sequence entry of (session, topic): the last message's when it is
   the same, else looked up or made. *made: a new entry. NULL when out of
   memory. */
static seq_t *
seq_entry(mu_sub_t *self, const uint8_t *session, const void *topic, size_t topic_size, bool *made)
{
    *made = false;
    if (self->last_seq && self->last_topic_size == topic_size
        && memcmp(self->last_session, session, 8) == 0
        && memcmp(self->last_topic, topic, topic_size) == 0)
        return self->last_seq;
    MU__PS_KEY_BUF(key);
    mu__ps_key_set(key, session, 8, topic, topic_size);
    seq_t *s = zhashx_lookup(self->seqs, key);
    if (!s) {
        if (zhashx_size(self->seqs) >= MAX_SEQS)
            zhashx_purge(self->seqs);
        s = calloc(1, sizeof *s);
        if (!s || zhashx_insert(self->seqs, key, s) != 0) {
            free(s);
            self->last_seq = NULL; /* the purge may have freed it */
            return NULL;
        }
        *made = true;
    }
    self->last_seq = s;
    memcpy(self->last_session, session, 8);
    self->last_topic_size = topic_size;
    memcpy(self->last_topic, topic, topic_size);
    return s;
}

/* Decides from the trailer of msg's topic whether to deliver: counts gaps
   and drops copies already seen. */
static bool
sequence_ok(mu_sub_t *self, const uint8_t *trailer, const mu_sub_msg_t *msg)
{
    uint64_t seq = mu__get_le64(trailer + 8);
    uint8_t flags = trailer[16];
    bool made;
    seq_t *s = seq_entry(self, trailer, msg->topic, msg->topic_size, &made);
    if (!s)
        return true; /* deliver without gap counting */
    if (made) {
        s->last = seq;
        return true;
    }
    if ((flags & MU__PS_FIRST) && !(flags & MU__PS_REPLAY)) {
        s->last = seq; /* the publisher started this topic over */
        return true;
    }
    if (seq <= s->last) {
        self->st.duplicates++;
        return false;
    }
    if (!(flags & MU__PS_REPLAY)) { /* saturates: a peer's numbers may jump by 2^63 */
        uint64_t gap = seq - s->last - 1;
        self->st.missed = gap > UINT64_MAX - self->st.missed ? UINT64_MAX : self->st.missed + gap;
    }
    s->last = seq;
    return true;
}

/* Sets ZMQ_RCVTIMEO when it changes (a blocking receive waits inside
   libzmq, without a poll(2) of ours per empty queue). */
static void
set_rcvtimeo(mu_sub_t *self, int timeout_ms)
{
    if (self->rcvtimeo != timeout_ms) {
        mu__ps_set_int(self->handle, ZMQ_RCVTIMEO, timeout_ms);
        self->rcvtimeo = timeout_ms;
    }
}

int
mu_sub_recv(mu_sub_t *self, mu_sub_msg_t *msg, int timeout_ms)
{
    assert(self && msg);
    int64_t deadline = -1;
    bool clocked = false; /* the deadline is taken before the first wait only */
    while (true) {
        int n = MU_EAGAIN;
        if (self->flowing || timeout_ms == 0)
            n = read_frames(self, ZMQ_DONTWAIT); /* queued: no clock, no wait */
        if (n == MU_EAGAIN && timeout_ms != 0) {
            if (!clocked) {
                deadline = mu__deadline_ms(timeout_ms);
                clocked = true;
            }
            int left = mu__remaining_ms(deadline);
            set_rcvtimeo(self, left);
            n = read_frames(self, left == 0 ? ZMQ_DONTWAIT : 0);
        }
        self->flowing = n > 0;
        if (n == MU_EAGAIN)
            return mu__expired(timeout_ms);
        if (n < 0)
            return n == MU_EINTR ? n : mu__fail(n, "subscriber receive");
        msg->topic_size = zmq_msg_size(&self->frames[0]);
        bool framed = n == 2
                      || (n == 3 && msg->topic_size <= MU_PUBSUB_MAX_TOPIC
                          && zmq_msg_size(&self->frames[2]) == MU__PS_TRAILER);
        if (!framed)
            self->st.malformed++;
        msg->topic = zmq_msg_data(&self->frames[0]);
        const uint8_t *trailer = n == 3 ? zmq_msg_data(&self->frames[2]) : NULL;
        if (!framed || (trailer && !sequence_ok(self, trailer, msg))) {
            /* Dropped: a peer flooding such messages must not hold the
               caller past its timeout. */
            if (timeout_ms > 0) {
                if (!clocked) {
                    deadline = mu__deadline_ms(timeout_ms);
                    clocked = true;
                }
                if (mu__remaining_ms(deadline) == 0)
                    return mu__expired(timeout_ms);
            }
            continue;
        }
        msg->data = zmq_msg_data(&self->frames[1]);
        msg->size = zmq_msg_size(&self->frames[1]);
        msg->replay = trailer && (trailer[16] & MU__PS_REPLAY) ? 1 : 0;
        self->st.received++;
        self->st.bytes_received += msg->size;
        return 0;
    }
}

int
mu_sub_stats(const mu_sub_t *self, mu_sub_stats_t *stats)
{
    assert(self && stats);
    mu_sub_stats_t all = self->st;
    all.size = sizeof all;
    all.auth_failures = mu__curve_side_failures(&self->side);
    return mu__stats_fill(stats, &all, sizeof all, sizeof all);
}

void *
mu_sub_zsock(mu_sub_t *self)
{
    assert(self);
    return self->handle;
}

int
mu_sub_fd(mu_sub_t *self)
{
    assert(self);
    return mu__zsocket_fd(self->handle);
}
