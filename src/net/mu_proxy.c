/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_proxy.c — XSUB upstream, XPUB downstream, forwarded by a thread of
    the proxy's own. The downstream XPUB is verbose both ways
    (ZMQ_XPUB_VERBOSE and ZMQ_XPUB_VERBOSER): every subscribe and every
    unsubscribe of every subscriber goes to the XSUB, which counts them per
    prefix and sends a prefix's unsubscribe upstream only when its count
    falls to zero, so the last unsubscribe of a topic unsubscribes
    upstream, and every subscribe reaches the publisher (for its
    last-value cache). The sockets are made and bound in the owner's
    thread, then used only by the forwarding thread until it ends.
    Contract: include/mu_pubsub.h; design: doc/pubsub.md. */
#include "net/mu_pubsub_int.h"
#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>

struct mu_proxy_t {
    zsock_t *up, *down;     /* XSUB, XPUB */
    zsock_t *ctl_owner;     /* PAIR: the owner's end */
    zsock_t *ctl_thread;    /* PAIR: the thread's end */
    mu__ps_side_t sides[2]; /* [0] upstream, [1] downstream */
    pthread_t thread;
    bool started;
    uint64_t messages, bytes, subscribes, unsubscribes; /* atomic */
};

static mu__ps_side_t *
side_of(mu_proxy_t *self, mu_proxy_side_t side)
{
    assert(side == MU_PROXY_UPSTREAM || side == MU_PROXY_DOWNSTREAM);
    return &self->sides[side == MU_PROXY_DOWNSTREAM];
}

static void *
handle_of(mu_proxy_t *self, mu_proxy_side_t side)
{
    assert(side == MU_PROXY_UPSTREAM || side == MU_PROXY_DOWNSTREAM);
    return zsock_resolve(side == MU_PROXY_UPSTREAM ? self->up : self->down);
}

mu_proxy_t *
mu_proxy_new(void)
{
    if (sodium_init() < 0)
        return mu__fail_null(MU_EIO, "mu_proxy_new: libsodium cannot initialize");
    mu_proxy_t *self = calloc(1, sizeof *self);
    if (!self)
        return mu__fail_null(MU_ENOMEM, "mu_proxy_new");
    self->up = mu__ps_socket(ZMQ_XSUB);
    self->down = mu__ps_socket(ZMQ_XPUB);
    char name[64];
    snprintf(name, sizeof name, "inproc://mu-proxy-%p", (void *) self);
    self->ctl_owner = zsock_new_pair(name);       /* '@' default: binds */
    char connect[70];
    snprintf(connect, sizeof connect, ">%s", name);
    self->ctl_thread = self->ctl_owner ? zsock_new_pair(connect) : NULL;
    if (!self->up || !self->down || !self->ctl_owner || !self->ctl_thread) {
        mu_proxy_destroy(&self);
        return mu__fail_null(MU_EINVAL, "mu_proxy_new: libzmq refused a socket");
    }
    void *down = zsock_resolve(self->down);
    mu__ps_set_int(down, ZMQ_XPUB_VERBOSE, 1);
    mu__ps_set_int(down, ZMQ_XPUB_VERBOSER, 1);
    return self;
}

void
mu_proxy_destroy(mu_proxy_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    mu_proxy_t *self = *self_p;
    *self_p = NULL;
    if (self->started) {
        zsock_signal(self->ctl_owner, 0);
        pthread_join(self->thread, NULL);
    }
    zsock_destroy(&self->up);
    zsock_destroy(&self->down);
    zsock_destroy(&self->ctl_thread);
    zsock_destroy(&self->ctl_owner);
    mu__ps_side_fini(&self->sides[0]);
    mu__ps_side_fini(&self->sides[1]);
    free(self);
}

int
mu_proxy_set_hwm(mu_proxy_t *self, int hwm)
{
    assert(self);
    if (hwm < 0)
        return mu__fail(MU_EINVAL, "proxy high-water mark %d", hwm);
    for (int i = 0; i < 2; i++) {
        void *h = zsock_resolve(i ? self->down : self->up);
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
    return mu__ps_side_set_curve(side_of(self, side), server_keys, allow, client_keys,
                                 server_public);
}

int
mu_proxy_set_curve_secret(mu_proxy_t *self, mu_proxy_side_t side, const void *secret, size_t size)
{
    assert(self && secret);
    if (self->started)
        return mu__fail(MU_EINVAL, "mu_proxy_set_curve_secret after start");
    return mu__ps_side_set_secret(side_of(self, side), secret, size);
}

int
mu_proxy_bind(mu_proxy_t *self, mu_proxy_side_t side, const char *endpoint)
{
    assert(self && endpoint);
    if (self->started)
        return mu__fail(MU_EINVAL, "mu_proxy_bind '%s' after start", endpoint);
    return mu__ps_bind(handle_of(self, side), side_of(self, side), endpoint);
}

int
mu_proxy_connect(mu_proxy_t *self, mu_proxy_side_t side, const char *endpoint)
{
    assert(self && endpoint);
    if (self->started)
        return mu__fail(MU_EINVAL, "mu_proxy_connect '%s' after start", endpoint);
    return mu__ps_connect(handle_of(self, side), side_of(self, side), endpoint);
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

/* Moves one whole message from `from` to `to`. Returns the bytes moved,
   or -1 when libzmq fails (the context ends). *first gets the first
   frame's first byte (for subscriptions), or -1 when empty. */
static long
forward(void *from, void *to, int *first)
{
    long bytes = 0;
    *first = -1;
    bool first_frame = true, dropping = false;
    while (true) {
        zmq_msg_t m;
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, from, 0) < 0) {
            zmq_msg_close(&m);
            return -1;
        }
        if (first_frame && zmq_msg_size(&m) > 0)
            *first = ((const uint8_t *) zmq_msg_data(&m))[0];
        first_frame = false;
        bytes += (long) zmq_msg_size(&m);
        bool more = zmq_msg_more(&m);
        if (dropping || zmq_msg_send(&m, to, more ? ZMQ_SNDMORE : 0) < 0) {
            zmq_msg_close(&m);
            if (!dropping && errno == ETERM)
                return -1;
            dropping = true; /* a lossy XPUB never refuses; else drop the rest */
        }
        if (!more)
            return bytes;
    }
}

static void *
run(void *arg)
{
    mu_proxy_t *self = arg;
    void *up = zsock_resolve(self->up), *down = zsock_resolve(self->down);
    void *ctl = zsock_resolve(self->ctl_thread);
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
        int first;
        if (items[1].revents & ZMQ_POLLIN) {
            long n = forward(up, down, &first);
            if (n < 0)
                break;
            add(&self->messages, 1);
            add(&self->bytes, (uint64_t) n);
        }
        if (items[2].revents & ZMQ_POLLIN) {
            if (forward(down, up, &first) < 0)
                break;
            if (first == 1)
                add(&self->subscribes, 1);
            else if (first == 0)
                add(&self->unsubscribes, 1);
        }
    }
    return NULL;
}

int
mu_proxy_start(mu_proxy_t *self)
{
    assert(self);
    if (self->started)
        return mu__fail(MU_EINVAL, "mu_proxy_start: already started");
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
    all.auth_failures = mu__ps_side_failures(&self->sides[0])
                        + mu__ps_side_failures(&self->sides[1]);
    return mu__stats_fill(stats, &all, sizeof all, sizeof all);
}
