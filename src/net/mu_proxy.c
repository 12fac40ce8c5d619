/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_proxy.c — XSUB upstream, XPUB downstream, forwarded by a thread of
    the proxy's own. The downstream XPUB is ZMQ_XPUB_VERBOSE: every
    subscribe of every subscriber comes up (and goes on upstream, so that
    the publisher's last-value cache sees each new subscriber), but an
    unsubscribe only when no downstream peer holds the prefix any more
    (libzmq keeps the set of peers per prefix). The upstream XSUB counts
    the subscribes it was given per prefix and sends the unsubscribe
    upstream only when as many unsubscribes came; so the thread remembers
    how many subscribes it forwarded per prefix and, on the downstream
    unsubscribe, sends that many: the last unsubscribe of a topic leaves
    every level of proxies at once. The sockets are made and bound in the
    owner's thread, then used only by the forwarding thread until it
    ends. A WebSocket front (mu_proxy_set_ws, net/mu_proxy_ws.c) joins
    both sides over inproc as one more subscriber and publisher.
    Contract: include/mu_pubsub.h; design: doc/pubsub.md. */
#include "net/mu_proxy_ws_int.h"
#include "net/mu_pubsub_int.h"
#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <unistd.h>

struct mu_proxy_t {
    void *up, *down;           /* XSUB, XPUB (net/mu_zsocket.h) */
    void *ctl_owner;           /* PAIR: the owner's end */
    void *ctl_thread;          /* PAIR: the thread's end */
    mu__curve_side_t sides[2]; /* [0] upstream, [1] downstream */
    pthread_t thread;
    bool started;
    zhashx_t *forwarded; /* thread: prefix -> subscribes sent upstream */
    mu__pws_t *ws;       /* the WebSocket front, or NULL */
    uint64_t messages, bytes, subscribes, unsubscribes; /* atomic */
};

static mu__curve_side_t *
side_of(mu_proxy_t *self, mu_proxy_side_t side)
{
    assert(side == MU_PROXY_UPSTREAM || side == MU_PROXY_DOWNSTREAM);
    return &self->sides[side == MU_PROXY_DOWNSTREAM];
}

static void *
handle_of(mu_proxy_t *self, mu_proxy_side_t side)
{
    assert(side == MU_PROXY_UPSTREAM || side == MU_PROXY_DOWNSTREAM);
    return side == MU_PROXY_UPSTREAM ? self->up : self->down;
}

mu_proxy_t *
mu_proxy_new(void)
{
    if (sodium_init() < 0)
        return mu__fail_null(MU_EIO, "mu_proxy_new: libsodium cannot initialize");
    mu_proxy_t *self = calloc(1, sizeof *self);
    if (!self)
        return mu__fail_null(MU_ENOMEM, "mu_proxy_new");
    self->up = mu__ps_socket(ZMQ_XSUB, "mu_proxy_new");
    self->down = self->up ? mu__ps_socket(ZMQ_XPUB, "mu_proxy_new") : NULL;
    if (!self->down || mu__zsocket_pair(&self->ctl_owner, &self->ctl_thread, "mu_proxy_new") != 0) {
        mu_proxy_destroy(&self);
        errno = mu_error_errno(mu_last_code()); /* the failure is recorded */
        return NULL;
    }
    void *down = self->down;
    mu__ps_set_int(down, ZMQ_XPUB_VERBOSE, 1);
    int64_t max = MU__PS_MAX_SUBSCRIPTION; /* it receives subscriptions only */
    zmq_setsockopt(down, ZMQ_MAXMSGSIZE, &max, sizeof max);
    self->forwarded = mu__ps_map_new();
    if (!self->forwarded) {
        mu_proxy_destroy(&self);
        return mu__fail_null(MU_ENOMEM, "mu_proxy_new");
    }
    return self;
}

void
mu_proxy_destroy(mu_proxy_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    mu_proxy_t *self = *self_p;
    *self_p = NULL;
    mu__pws_destroy(&self->ws); /* its sockets before ours */
    if (self->started) {
        zsock_signal(self->ctl_owner, 0);
        pthread_join(self->thread, NULL);
    }
    mu__zsocket_close(&self->up);
    mu__zsocket_close(&self->down);
    mu__zsocket_close(&self->ctl_thread);
    mu__zsocket_close(&self->ctl_owner);
    mu__curve_side_fini(&self->sides[0]);
    mu__curve_side_fini(&self->sides[1]);
    zhashx_destroy(&self->forwarded);
    free(self);
}

int
mu_proxy_set_hwm(mu_proxy_t *self, int hwm)
{
    assert(self);
    if (hwm < 0)
        return mu__fail(MU_EINVAL, "proxy high-water mark %d", hwm);
    for (int i = 0; i < 2; i++) {
        void *h = i ? self->down : self->up;
        mu__ps_set_int(h, ZMQ_SNDHWM, hwm);
        mu__ps_set_int(h, ZMQ_RCVHWM, hwm);
    }
    return 0;
}

int
mu_proxy_set_curve(mu_proxy_t *self, mu_proxy_side_t side, const mu_keys_t *server_keys,
                   const mu_allow_t *allow, const mu_keys_t *client_keys,
                   const uint8_t *server_public)
{
    assert(self);
    if (self->started)
        return mu__fail(MU_EINVAL, "mu_proxy_set_curve after start");
    return mu__curve_side_set(side_of(self, side), server_keys, allow, client_keys, server_public);
}

int
mu_proxy_set_curve_secret(mu_proxy_t *self, mu_proxy_side_t side, const void *secret, size_t size)
{
    assert(self && secret);
    if (self->started)
        return mu__fail(MU_EINVAL, "mu_proxy_set_curve_secret after start");
    return mu__curve_side_set_secret(side_of(self, side), secret, size);
}

int
mu_proxy_bind(mu_proxy_t *self, mu_proxy_side_t side, const char *endpoint)
{
    assert(self && endpoint);
    if (self->started)
        return mu__fail(MU_EINVAL, "mu_proxy_bind '%s' after start", endpoint);
    return mu__curve_bind(handle_of(self, side), side_of(self, side), endpoint);
}

int
mu_proxy_connect(mu_proxy_t *self, mu_proxy_side_t side, const char *endpoint)
{
    assert(self && endpoint);
    if (self->started)
        return mu__fail(MU_EINVAL, "mu_proxy_connect '%s' after start", endpoint);
    return mu__curve_connect(handle_of(self, side), side_of(self, side), endpoint);
}

const char *
mu_proxy_endpoint(const mu_proxy_t *self, mu_proxy_side_t side)
{
    assert(self);
    assert(side == MU_PROXY_UPSTREAM || side == MU_PROXY_DOWNSTREAM);
    return self->sides[side == MU_PROXY_DOWNSTREAM].endpoint;
}

static void
add(uint64_t *counter, uint64_t n)
{
    __atomic_add_fetch(counter, n, __ATOMIC_RELAXED);
}

/* Moves one whole message from `from` to `to`, if one is queued, counting
   it before its last frame goes (so a receiver never sees a message the
   counters do not hold yet). Returns the bytes moved, MOVE_NONE when
   nothing was queued, or MOVE_END when libzmq fails (the context ends). */
#define MOVE_NONE (-1)
#define MOVE_END (-2)
static long
forward(mu_proxy_t *self, void *from, void *to)
{
    long bytes = 0;
    int flags = ZMQ_DONTWAIT; /* the first frame; the others are there */
    bool dropping = false;
    while (true) {
        zmq_msg_t m;
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, from, flags) < 0) {
            zmq_msg_close(&m);
            return flags && errno == EAGAIN ? MOVE_NONE : MOVE_END;
        }
        flags = 0;
        bytes += (long) zmq_msg_size(&m);
        bool more = zmq_msg_more(&m);
        if (!more) {
            add(&self->messages, 1);
            add(&self->bytes, (uint64_t) bytes);
        }
        if (dropping || zmq_msg_send(&m, to, more ? ZMQ_SNDMORE : 0) < 0) {
            zmq_msg_close(&m);
            if (!dropping && errno == ETERM)
                return MOVE_END;
            dropping = true; /* a lossy XPUB never refuses; else drop the rest */
        }
        if (!more)
            return bytes;
    }
}

/* Forwards the messages queued upstream, at most BURST of them (then the
   loop looks at the other sockets again): one zmq_poll per burst, not per
   message. Returns 0, or -1 when the context ends. */
#define BURST 1000
static int
forward_burst(mu_proxy_t *self, void *up, void *down)
{
    for (int messages = 0; messages < BURST; messages++) {
        long n = forward(self, up, down);
        if (n < 0)
            return n == MOVE_END ? -1 : 0;
    }
    return 0;
}

/* prefix as a key of self->forwarded: in space when it fits a key
   buffer, else in a new allocation (*heap set; NULL when out of memory).
   Prefixes longer than a topic are counted too: libzmq's XSUB counts
   them like any, and a count lost here would leave them subscribed
   upstream for ever. */
static mu__ps_key_t *
forwarded_key(mu__ps_key_t *space, const uint8_t *prefix, size_t size, bool *heap)
{
    *heap = size > MU__PS_KEY_MAX;
    mu__ps_key_t *key = *heap ? malloc(sizeof *key + size) : space;
    if (!key)
        return NULL;
    key->size = size;
    if (size)
        memcpy(key->bytes, prefix, size);
    return key;
}

/* Counts one more subscribe of prefix forwarded upstream. */
static void
count_subscribe(mu_proxy_t *self, const uint8_t *prefix, size_t size)
{
    MU__PS_KEY_BUF(space);
    bool heap;
    mu__ps_key_t *key = forwarded_key(space, prefix, size, &heap);
    if (!key)
        return;
    uint64_t *n = zhashx_lookup(self->forwarded, key);
    if (!n) {
        n = calloc(1, sizeof *n);
        if (n && zhashx_insert(self->forwarded, key, n) != 0) {
            free(n);
            n = NULL;
        }
    }
    if (n)
        ++*n;
    if (heap)
        free(key);
}

/* The subscribes of prefix forwarded upstream (forgotten now). */
static uint64_t
take_subscribes(mu_proxy_t *self, const uint8_t *prefix, size_t size)
{
    MU__PS_KEY_BUF(space);
    bool heap;
    mu__ps_key_t *key = forwarded_key(space, prefix, size, &heap);
    if (!key)
        return 1;
    uint64_t *n = zhashx_lookup(self->forwarded, key);
    uint64_t count = n ? *n : 1;
    zhashx_delete(self->forwarded, key);
    if (heap)
        free(key);
    return count;
}

/* Reads one subscription message from down and forwards it up: a
   subscribe once, an unsubscribe as many times as subscribes went up.
   Returns 0, or -1 when the context ends. */
static int
subscription(mu_proxy_t *self, void *down, void *up)
{
    zmq_msg_t m;
    zmq_msg_init(&m);
    if (zmq_msg_recv(&m, down, 0) < 0) {
        zmq_msg_close(&m);
        return -1;
    }
    const uint8_t *data = zmq_msg_data(&m);
    size_t size = zmq_msg_size(&m);
    uint64_t copies = 1;
    if (size > 0 && data[0] == 1) {
        count_subscribe(self, data + 1, size - 1);
        add(&self->subscribes, 1);
    } else if (size > 0 && data[0] == 0) {
        copies = take_subscribes(self, data + 1, size - 1);
        add(&self->unsubscribes, 1);
    }
    int rc = 0;
    for (uint64_t i = 0; i < copies && rc == 0; i++)
        if (zmq_send(up, data, size, 0) < 0 && errno == ETERM)
            rc = -1;
    zmq_msg_close(&m);
    return rc;
}

static void *
run(void *arg)
{
    mu_proxy_t *self = arg;
    void *up = self->up, *down = self->down;
    void *ctl = self->ctl_thread;
    zmq_pollitem_t items[3] = { { ctl, 0, ZMQ_POLLIN, 0 },
                                { up, 0, ZMQ_POLLIN, 0 },
                                { down, 0, ZMQ_POLLIN, 0 } };
    while (true) {
        if (zmq_poll(items, 3, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (items[0].revents & ZMQ_POLLIN)
            break; /* the owner says stop */
        if ((items[1].revents & ZMQ_POLLIN) && forward_burst(self, up, down) < 0)
            break;
        if ((items[2].revents & ZMQ_POLLIN) && subscription(self, down, up) < 0)
            break;
    }
    return NULL;
}

int
mu_proxy_start(mu_proxy_t *self)
{
    assert(self);
    if (self->started)
        return mu__fail(MU_EINVAL, "mu_proxy_start: already started");
    if (self->ws) {
        int rc = mu__pws_start(self->ws, self->up, self->down);
        if (rc != 0)
            return rc;
    }
    if (pthread_create(&self->thread, NULL, run, self) != 0)
        return mu__fail(MU_ENOMEM, "mu_proxy_start: no thread");
    self->started = true;
    return 0;
}

int
mu_proxy_stats(const mu_proxy_t *self, mu_proxy_stats_t *stats)
{
    assert(self && stats);
    mu_proxy_stats_t all = { .size = sizeof all };
    all.messages = __atomic_load_n(&self->messages, __ATOMIC_RELAXED);
    all.bytes = __atomic_load_n(&self->bytes, __ATOMIC_RELAXED);
    all.subscribes = __atomic_load_n(&self->subscribes, __ATOMIC_RELAXED);
    all.unsubscribes = __atomic_load_n(&self->unsubscribes, __ATOMIC_RELAXED);
    all.auth_failures = mu__curve_side_failures(&self->sides[0])
                        + mu__curve_side_failures(&self->sides[1]);
    return mu__stats_fill(stats, &all, sizeof all, sizeof all);
}

int
mu_proxy_set_ws(mu_proxy_t *self, const mu_proxy_ws_t *ws)
{
    assert(self && ws);
    if (self->started)
        return mu__fail(MU_EINVAL, "mu_proxy_set_ws after start");
    if (self->ws)
        return mu__fail(MU_EINVAL, "mu_proxy_set_ws: the proxy has a WebSocket front already");
    self->ws = mu__pws_new(ws);
    if (!self->ws)
        return mu_last_code() ? mu_last_code() : MU_ENOMEM;
    return mu__pws_port(self->ws);
}

int
mu_proxy_ws_port(const mu_proxy_t *self)
{
    assert(self);
    return self->ws ? mu__pws_port(self->ws) : 0;
}

int
mu_proxy_ws_stats(const mu_proxy_t *self, mu_proxy_ws_stats_t *stats)
{
    assert(self && stats);
    mu_proxy_ws_stats_t all = { .size = sizeof all };
    if (self->ws)
        mu__pws_stats(self->ws, &all);
    return mu__stats_fill(stats, &all, sizeof all, sizeof all);
}
