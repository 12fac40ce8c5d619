/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_flow_inproc.c — a worker runner's in-process handlers
    (mu_flow_add_inproc): the runner's bus (mu_bus.c) and the outbox that
    carries thread handlers' outputs to the runner's thread. */
#include "flow/mu_flow_int.h"
#include "flow/mu_flow_inproc.h"
#include "flow/mu_bus_int.h"
#include "base/mu_sync.h"

#include <errno.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    void *data;
    size_t size;
} item_t;

/* ---- a worker runner's in-process handlers (mu_flow_add_inproc) ---------------- */

#define OUTBOX_CAP 1024

/*  Outputs of thread handlers on their way to the runner's thread, which
    alone uses the runner's ZeroMQ sockets. */
struct mu__outbox_t {
    mu__runner_t *runner;
    pthread_mutex_t mu;
    pthread_cond_t not_full;
    mu__ring_t ring; /* of item_t, OUTBOX_CAP */
    int efd;         /* readable once outputs wait */
};

typedef struct {
    mu__inproc_t *ip;
    const mu__inproc_def_t *def;
} hsub_t;

struct mu__inproc_t {
    mu__inproc_send_fn *send; /* downstream (the links) */
    mu_flow_bus_t *bus;
    hsub_t *subs;
    uint64_t errors_seen;
    mu__outbox_t ob;
};

/*  Bus handler of every declared subscription: calls the user's handler
    with an emitter of the runner (inline) or of the outbox (thread). */
static int
inproc_call(void *arg, const char *event, const void *data, size_t size)
{
    const hsub_t *h = arg;
    mu_flow_emit_t out = { .runner = h->ip->ob.runner };
    if (h->def->mode == MU_FLOW_THREAD)
        out.outbox = &h->ip->ob;
    return h->def->fn(h->def->arg, event, data, size, &out);
}

int
mu__outbox_put(mu__outbox_t *ob, const void *data, size_t size)
{
    if (ob->runner->npush == 0)
        return MU_EPIPE;
    void *copy = malloc(size ? size : 1);
    if (!copy)
        return MU_ENOMEM;
    if (size)
        memcpy(copy, data, size);
    pthread_mutex_lock(&ob->mu);
    while (mu__ring_full(&ob->ring))
        pthread_cond_wait(&ob->not_full, &ob->mu);
    bool wake = mu__ring_empty(&ob->ring);
    (void) mu__ring_push(&ob->ring, &(item_t) { copy, size });
    pthread_mutex_unlock(&ob->mu);
    if (wake) {
        uint64_t one = 1;
        (void) !write(ob->efd, &one, sizeof one);
    }
    return 0;
}

/*  Sends up to max queued outputs downstream; re-arms the eventfd when some
    remain. 0 or MU_EINTR. */
static int
flush_n(mu__runner_t *r, size_t max)
{
    mu__outbox_t *ob = &r->inproc->ob;
    uint64_t v;
    (void) !read(ob->efd, &v, sizeof v);
    for (size_t k = 0;; k++) {
        pthread_mutex_lock(&ob->mu);
        if (mu__ring_empty(&ob->ring)) {
            pthread_mutex_unlock(&ob->mu);
            return 0;
        }
        if (k == max) {
            pthread_mutex_unlock(&ob->mu);
            uint64_t one = 1;
            (void) !write(ob->efd, &one, sizeof one);
            return 0;
        }
        item_t it;
        (void) mu__ring_pop(&ob->ring, &it);
        pthread_cond_signal(&ob->not_full);
        pthread_mutex_unlock(&ob->mu);
        int rc = r->inproc->send(r, it.data, it.size);
        free(it.data);
        if (rc == MU_EINTR)
            return rc;
        if (rc < 0)
            r->stats.errors++;
    }
}

int
mu__inproc_flush(mu__runner_t *r)
{
    return r->inproc ? flush_n(r, OUTBOX_CAP) : 0;
}

static int
flush_hook(void *arg)
{
    return mu__inproc_flush(arg);
}

void
mu__inproc_stop(mu__runner_t *r)
{
    mu__inproc_t *ip = r->inproc;
    if (!ip)
        return;
    mu_flow_bus_destroy(&ip->bus);
    item_t it;
    while (mu__ring_pop(&ip->ob.ring, &it))
        free(it.data);
    mu__ring_free(&ip->ob.ring);
    if (ip->ob.efd >= 0)
        close(ip->ob.efd);
    pthread_mutex_destroy(&ip->ob.mu);
    pthread_cond_destroy(&ip->ob.not_full);
    free(ip->subs);
    free(ip);
    r->inproc = NULL;
}

int
mu__inproc_start(mu__runner_t *r, mu__inproc_send_fn *send)
{
    const mu__stage_t *st = r->st;
    if (st->ninproc == 0)
        return 0;
    mu__inproc_t *ip = calloc(1, sizeof *ip);
    if (!ip)
        return MU_ENOMEM;
    pthread_mutex_init(&ip->ob.mu, NULL);
    mu__cond_init(&ip->ob.not_full);
    ip->ob.runner = r;
    ip->send = send;
    ip->ob.efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    int efd_err = errno;
    r->inproc = ip;
    ip->bus = mu_flow_bus_new();
    ip->subs = calloc((size_t) st->ninproc, sizeof *ip->subs);
    bool ring_ok = mu__ring_init(&ip->ob.ring, OUTBOX_CAP, sizeof(item_t)) == 0;
    if (ip->ob.efd < 0 || !ip->bus || !ip->subs || !ring_ok) {
        int rc = ip->ob.efd < 0 ? -efd_err : MU_ENOMEM;
        mu__inproc_stop(r);
        return rc;
    }
    mu__bus_set_wait_hook(ip->bus, flush_hook, r);
    for (int i = 0; i < st->ninproc; i++) {
        const mu__inproc_def_t *d = &st->inproc[i];
        ip->subs[i] = (hsub_t) { ip, d };
        int rc = mu_flow_bus_on(ip->bus, d->event, d->mode, inproc_call, &ip->subs[i],
                                d->queue_max);
        if (rc != 0) {
            mu__inproc_stop(r);
            return rc;
        }
    }
    return 0;
}

int
mu__inproc_fd(const mu__runner_t *r)
{
    return r->inproc ? r->inproc->ob.efd : -1;
}

int
mu__inproc_drain(mu__runner_t *r)
{
    if (!r->inproc)
        return 0;
    for (;;) {
        if (flush_n(r, OUTBOX_CAP) != 0)
            return MU_EINTR;
        if (mu_flow_bus_drain(r->inproc->bus, 5) == 0) /* idle: outputs all queued */
            return flush_n(r, SIZE_MAX);
        if (r->service(r) != 0)
            return MU_EINTR;
    }
}

uint64_t
mu__inproc_take_errors(mu__runner_t *r)
{
    if (!r->inproc)
        return 0;
    mu_flow_bus_stats_t bs = { .size = sizeof bs };
    if (mu_flow_bus_stats(r->inproc->bus, &bs) != 0)
        return 0;
    uint64_t d = bs.errors - r->inproc->errors_seen;
    r->inproc->errors_seen = bs.errors;
    return d;
}

int
mu_flow_emit_event(mu_flow_emit_t *out, const char *event, const void *data, size_t size)
{
    assert(out);
    assert(event);
    assert(data || size == 0);
    if (out->outbox || out->to_clients || !out->runner || out->runner->st->kind != MU__ST_WORKER)
        return mu__fail(MU_EINVAL, "mu_flow_emit_event: not a worker's emitter, or a thread "
                                   "handler's");
    if (!out->runner->inproc)
        return 0;
    return mu_flow_bus_emit(out->runner->inproc->bus, event, data, size);
}
