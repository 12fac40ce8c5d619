/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_flow_net_hb.c — heartbeats of the multi-host links while the
    runner's thread is in user code (a handler, a source), and the runner's
    exit with a bounded linger.

    The links' state and sockets belong to whoever holds n->mu: the
    runner's thread at all times, except while it runs user code, when it
    lets go (mu__net_user_begin / _end). A thread per runner wakes every
    quarter interval (at most 100 ms) and, when the runner has been in user
    code for that long, takes the state and runs the links' service: it
    sends the heartbeats both ways (hello downstream, credit upstream) and
    reads the credit and monitor events, so a handler slower than the
    heartbeat timeout does not make its runner look lost. An emit from the
    user code takes the state back for the time of the send. Why a thread
    and not ZMTP heartbeats alone: doc/flow.md (Heartbeats). */
#include "base/mu_sync.h"
#include "flow/mu_flow_int.h"
#include "flow/mu_flow_net.h"
#include "flow/mu_flow_net_int.h"

#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

static int
period_ms(const mu__runner_t *r)
{
    int ms = r->flow->hb_interval_ms / 4;
    return ms < 5 ? 5 : ms > 100 ? 100 : ms;
}

static void *
hb_main(void *arg)
{
    mu__runner_t *r = arg;
    mu__net_t *n = r->net;
    int ms = period_ms(r);
    struct timespec ts = { ms / 1000, (long) (ms % 1000) * 1000000L };
    for (;;) {
        nanosleep(&ts, NULL);
        int64_t since = __atomic_load_n(&n->user_since, __ATOMIC_ACQUIRE);
        if (since == 0 || mu__now_ms() - since < ms || pthread_mutex_trylock(&n->mu) != 0)
            continue;
        if (__atomic_load_n(&n->user_since, __ATOMIC_ACQUIRE) != 0 && !n->closed)
            n->service(r);
        pthread_mutex_unlock(&n->mu);
    }
    return NULL;
}

void
mu__net_hb_start(mu__runner_t *r, void (*service)(mu__runner_t *r))
{
    mu__net_t *n = r->net;
    n->service = service;
    pthread_t t;
    if (pthread_mutex_init(&n->mu, NULL) != 0 || pthread_mutex_lock(&n->mu) != 0)
        _exit(2);
    /* signals stay with the runner's thread */
    int rc = mu__thread_create_blocking(&t, hb_main, r);
    if (rc != 0) {
        mu__rlog(error, r, "cannot start the heartbeat thread");
        _exit(2);
    }
    pthread_detach(t);
    n->hb = true;
}

void
mu__net_user_begin(mu__runner_t *r)
{
    mu__net_t *n = r->net;
    if (!n || !n->hb)
        return;
    __atomic_store_n(&n->user_since, mu__now_ms(), __ATOMIC_RELEASE);
    pthread_mutex_unlock(&n->mu);
}

void
mu__net_user_end(mu__runner_t *r)
{
    mu__net_t *n = r->net;
    if (!n || !n->hb)
        return;
    pthread_mutex_lock(&n->mu);
    __atomic_store_n(&n->user_since, 0, __ATOMIC_RELEASE);
}

int64_t
mu__net_take(mu__runner_t *r)
{
    mu__net_t *n = r->net;
    int64_t since = n->hb ? __atomic_load_n(&n->user_since, __ATOMIC_ACQUIRE) : 0;
    if (since != 0) {
        pthread_mutex_lock(&n->mu);
        __atomic_store_n(&n->user_since, 0, __ATOMIC_RELEASE);
    }
    return since;
}

void
mu__net_give(mu__runner_t *r, int64_t since)
{
    mu__net_t *n = r->net;
    if (since != 0) {
        __atomic_store_n(&n->user_since, mu__now_ms(), __ATOMIC_RELEASE);
        pthread_mutex_unlock(&n->mu);
    }
}

/* ---- exit ---------------------------------------------------------------------------- */

static void *
term_ctx(void *arg)
{
    void **a = arg;
    zmq_ctx_term(a[0]);
    char done = 1;
    (void) !write((int) (intptr_t) a[1], &done, 1);
    return NULL;
}

/*  Closes a socket, letting what is queued on it leave for up to ms. */
static void
close_lingering(void *s, int ms)
{
    if (s) {
        zmq_setsockopt(s, ZMQ_LINGER, &ms, sizeof ms);
        zmq_close(s);
    }
}

void
mu__net_close(mu__runner_t *r)
{
    mu__net_t *n = r->net;
    if (!n)
        return;
    n->closed = true;
    if (n->in)
        mu__net_flush_final(r);
    int ms = r->flow->hb_interval_ms < CLOSE_MS ? r->flow->hb_interval_ms : CLOSE_MS;
    mu__net_drop_ahead(n); /* unconsumed, as if left on the socket */
    close_lingering(n->in, ms);
    close_lingering(n->out, ms);
    close_lingering(n->mon, 0);
    close_lingering(n->in_mon, 0);
    n->in = n->out = n->mon = n->in_mon = NULL;
    r->pull = NULL;
    /* zmq_ctx_term returns once the queued messages left or the linger
       passed; in a thread, so that a socket left open elsewhere cannot
       hold the exit past the bound. */
    int fds[2];
    if (pipe(fds) != 0)
        return;
    static void *arg[2]; /* outlives this call if the bound passes first */
    arg[0] = r->zctx;
    arg[1] = (void *) (intptr_t) fds[1];
    pthread_t t;
    if (pthread_create(&t, NULL, term_ctx, arg) == 0) {
        struct pollfd p = { .fd = fds[0], .events = POLLIN };
        if (poll(&p, 1, ms + 250) == 1)
            pthread_join(t, NULL);
    }
}
