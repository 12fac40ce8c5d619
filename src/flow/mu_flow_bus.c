/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_flow_bus.c — in-process stages: named events that processors emit
    and handlers subscribe to, run inline (synchronously, in the emitter's
    thread) or on a thread of their own fed by a bounded queue. The
    contract is in include/mu_flow.h. */
#include "flow/mu_flow_int.h"

#include <errno.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define QUEUE_DEFAULT 1024

typedef struct {
    char *event;
    void *data;
    size_t size;
} item_t;

typedef struct sub_t {
    char name[64];
    mu_flow_mode_t mode;
    mu_flow_event_fn *fn;
    void *arg;
    /* thread mode */
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t not_empty, not_full, idle;
    item_t *ring;
    size_t cap, head, count;
    bool busy, stop;
    struct sub_t *next;
} sub_t;

struct mu_flow_bus_t {
    sub_t *subs;
    int (*wait_fn)(void *arg);     /* flow runners: run while an emit waits */
    void *wait_arg;
    atomic_bool emitting;
    atomic_uint_fast64_t delivered, errors;
};

mu_flow_bus_t *
mu_flow_bus_new(void)
{
    mu_flow_bus_t *self = calloc(1, sizeof *self);
    if (!self)
        errno = ENOMEM;
    return self;
}

static void
run_handler(mu_flow_bus_t *bus, sub_t *s, const char *event, const void *data, size_t size)
{
    int rc = s->fn(s->arg, event, data, size);
    atomic_fetch_add(&bus->delivered, 1);
    if (rc < 0)
        atomic_fetch_add(&bus->errors, 1);
}

typedef struct {
    mu_flow_bus_t *bus;
    sub_t *sub;
} thread_arg_t;

static void *
sub_thread(void *arg)
{
    thread_arg_t ta = *(thread_arg_t *) arg;
    free(arg);
    sub_t *s = ta.sub;
    pthread_mutex_lock(&s->mu);
    for (;;) {
        while (s->count == 0 && !s->stop)
            pthread_cond_wait(&s->not_empty, &s->mu);
        if (s->count == 0 && s->stop)
            break;
        item_t it = s->ring[s->head];
        s->head = (s->head + 1) % s->cap;
        s->count--;
        s->busy = true;
        pthread_cond_signal(&s->not_full);
        pthread_mutex_unlock(&s->mu);
        run_handler(ta.bus, s, it.event, it.data, it.size);
        free(it.event);
        free(it.data);
        pthread_mutex_lock(&s->mu);
        s->busy = false;
        if (s->count == 0)
            pthread_cond_broadcast(&s->idle);
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

int
mu_flow_bus_on(mu_flow_bus_t *self, const char *event, mu_flow_mode_t mode, mu_flow_event_fn *fn,
               void *arg, size_t queue_max)
{
    assert(self);
    if (!event || !event[0] || strlen(event) >= 64 || !fn || atomic_load(&self->emitting)
        || (mode != MU_FLOW_INLINE && mode != MU_FLOW_THREAD))
        return MU_EINVAL;
    sub_t *s = calloc(1, sizeof *s);
    if (!s)
        return MU_ENOMEM;
    snprintf(s->name, sizeof s->name, "%s", event);
    s->mode = mode;
    s->fn = fn;
    s->arg = arg;
    if (mode == MU_FLOW_THREAD) {
        s->cap = queue_max ? queue_max : QUEUE_DEFAULT;
        s->ring = calloc(s->cap, sizeof *s->ring);
        thread_arg_t *ta = malloc(sizeof *ta);
        if (!s->ring || !ta) {
            free(s->ring);
            free(ta);
            free(s);
            return MU_ENOMEM;
        }
        pthread_mutex_init(&s->mu, NULL);
        pthread_cond_init(&s->not_empty, NULL);
        pthread_cond_init(&s->not_full, NULL);
        pthread_cond_init(&s->idle, NULL);
        *ta = (thread_arg_t) { self, s };
        int rc = pthread_create(&s->thread, NULL, sub_thread, ta);
        if (rc != 0) {
            free(ta);
            free(s->ring);
            free(s);
            return -rc;
        }
    }
    s->next = self->subs;
    self->subs = s;
    return 0;
}

/*  The CLOCK_REALTIME time ms milliseconds from now. */
static struct timespec
abs_time(int ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (long) (ms % 1000) * 1000000;
    if (ts.tv_nsec >= 1000000000) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000;
    }
    return ts;
}

/*  Waits (s->mu held) while s's queue is full. With a wait hook (a flow
    runner's: it sends what thread handlers queued, which they may be
    waiting on), runs it every millisecond and gives up with its code. */
static int
wait_room(mu_flow_bus_t *bus, sub_t *s)
{
    while (s->count == s->cap) {
        if (!bus->wait_fn) {
            pthread_cond_wait(&s->not_full, &s->mu);
            continue;
        }
        pthread_mutex_unlock(&s->mu);
        int rc = bus->wait_fn(bus->wait_arg);
        pthread_mutex_lock(&s->mu);
        if (rc != 0)
            return rc;
        if (s->count == s->cap) {
            struct timespec ts = abs_time(1);
            pthread_cond_timedwait(&s->not_full, &s->mu, &ts);
        }
    }
    return 0;
}

/*  Queues a copy for a thread subscription, waiting while its queue is
    full. */
static int
enqueue(mu_flow_bus_t *bus, sub_t *s, const char *event, const void *data, size_t size)
{
    item_t it = { strdup(event), malloc(size ? size : 1), size };
    if (!it.event || !it.data) {
        free(it.event);
        free(it.data);
        return MU_ENOMEM;
    }
    if (size)
        memcpy(it.data, data, size);
    pthread_mutex_lock(&s->mu);
    int rc = wait_room(bus, s);
    if (rc != 0) {
        pthread_mutex_unlock(&s->mu);
        free(it.event);
        free(it.data);
        return rc;
    }
    s->ring[(s->head + s->count) % s->cap] = it;
    s->count++;
    pthread_cond_signal(&s->not_empty);
    pthread_mutex_unlock(&s->mu);
    return 0;
}

int
mu_flow_bus_emit(mu_flow_bus_t *self, const char *event, const void *data, size_t size)
{
    assert(self);
    if (!event || (data == NULL && size > 0))
        return MU_EINVAL;
    atomic_store(&self->emitting, true);
    int n = 0, first_err = 0;
    for (sub_t *s = self->subs; s; s = s->next) {
        if (strcmp(s->name, event) != 0 && strcmp(s->name, "*") != 0)
            continue;
        n++;
        if (s->mode == MU_FLOW_INLINE) {
            int rc = s->fn(s->arg, event, data, size);
            atomic_fetch_add(&self->delivered, 1);
            if (rc < 0) {
                atomic_fetch_add(&self->errors, 1);
                if (!first_err)
                    first_err = rc;
            }
        } else {
            int rc = enqueue(self, s, event, data, size);
            if (rc != 0 && !first_err)
                first_err = rc;
        }
    }
    return first_err ? first_err : n;
}

int
mu_flow_bus_drain(mu_flow_bus_t *self, int timeout_ms)
{
    assert(self);
    int64_t deadline = mu__deadline_ms(timeout_ms);
    for (sub_t *s = self->subs; s; s = s->next) {
        if (s->mode != MU_FLOW_THREAD)
            continue;
        pthread_mutex_lock(&s->mu);
        while (s->count > 0 || s->busy) {
            if (deadline < 0)
                pthread_cond_wait(&s->idle, &s->mu);
            else {
                int left = mu__remaining_ms(deadline);
                if (left == 0) {
                    pthread_mutex_unlock(&s->mu);
                    return MU_ETIMEDOUT;
                }
                struct timespec ts = abs_time(left);
                pthread_cond_timedwait(&s->idle, &s->mu, &ts);
            }
        }
        pthread_mutex_unlock(&s->mu);
    }
    return 0;
}

void
mu_flow_bus_counters(const mu_flow_bus_t *self, uint64_t *delivered, uint64_t *errors)
{
    assert(self);
    if (delivered)
        *delivered = atomic_load(&((mu_flow_bus_t *) self)->delivered);
    if (errors)
        *errors = atomic_load(&((mu_flow_bus_t *) self)->errors);
}

void
mu_flow_bus_destroy(mu_flow_bus_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    mu_flow_bus_t *self = *self_p;
    sub_t *s = self->subs;
    while (s) {
        sub_t *next = s->next;
        if (s->mode == MU_FLOW_THREAD) {
            pthread_mutex_lock(&s->mu);
            s->stop = true;
            pthread_cond_signal(&s->not_empty);
            pthread_mutex_unlock(&s->mu);
            pthread_join(s->thread, NULL);
            pthread_mutex_destroy(&s->mu);
            pthread_cond_destroy(&s->not_empty);
            pthread_cond_destroy(&s->not_full);
            pthread_cond_destroy(&s->idle);
            free(s->ring);
        }
        free(s);
        s = next;
    }
    free(self);
    *self_p = NULL;
}

/* ---- a worker runner's in-process handlers (mu_flow_add_inproc) ---------------- */

#define OUTBOX_CAP 1024

/*  Outputs of thread handlers on their way to the runner's thread, which
    alone uses the runner's ZeroMQ sockets. */
struct mu__outbox_t {
    mu__runner_t *runner;
    pthread_mutex_t mu;
    pthread_cond_t not_full;
    item_t ring[OUTBOX_CAP];        /* event unused */
    size_t head, count;
    int efd;                        /* readable once outputs wait */
};

typedef struct {
    mu__inproc_t *ip;
    const mu__inproc_def_t *def;
} hsub_t;

struct mu__inproc_t {
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
    while (ob->count == OUTBOX_CAP)
        pthread_cond_wait(&ob->not_full, &ob->mu);
    ob->ring[(ob->head + ob->count) % OUTBOX_CAP] = (item_t) { NULL, copy, size };
    bool wake = ob->count++ == 0;
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
        if (ob->count == 0) {
            pthread_mutex_unlock(&ob->mu);
            return 0;
        }
        if (k == max) {
            pthread_mutex_unlock(&ob->mu);
            uint64_t one = 1;
            (void) !write(ob->efd, &one, sizeof one);
            return 0;
        }
        item_t it = ob->ring[ob->head];
        ob->head = (ob->head + 1) % OUTBOX_CAP;
        ob->count--;
        pthread_cond_signal(&ob->not_full);
        pthread_mutex_unlock(&ob->mu);
        int rc = mu__runner_send(r, it.data, it.size);
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
    for (size_t k = 0; k < ip->ob.count; k++)
        free(ip->ob.ring[(ip->ob.head + k) % OUTBOX_CAP].data);
    if (ip->ob.efd >= 0)
        close(ip->ob.efd);
    pthread_mutex_destroy(&ip->ob.mu);
    pthread_cond_destroy(&ip->ob.not_full);
    free(ip->subs);
    free(ip);
    r->inproc = NULL;
}

int
mu__inproc_start(mu__runner_t *r)
{
    const mu__stage_t *st = r->st;
    if (st->ninproc == 0)
        return 0;
    mu__inproc_t *ip = calloc(1, sizeof *ip);
    if (!ip)
        return MU_ENOMEM;
    pthread_mutex_init(&ip->ob.mu, NULL);
    pthread_cond_init(&ip->ob.not_full, NULL);
    ip->ob.runner = r;
    ip->ob.efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    int efd_err = errno;
    r->inproc = ip;
    ip->bus = mu_flow_bus_new();
    ip->subs = calloc((size_t) st->ninproc, sizeof *ip->subs);
    if (ip->ob.efd < 0 || !ip->bus || !ip->subs) {
        int rc = ip->ob.efd < 0 ? -efd_err : MU_ENOMEM;
        mu__inproc_stop(r);
        return rc;
    }
    ip->bus->wait_fn = flush_hook;
    ip->bus->wait_arg = r;
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
        mu__runner_ctl(r);
        mu__rel_take_acks(r);
        mu__runner_tick(r);
        if (r->exit_req)
            return MU_EINTR;
    }
}

uint64_t
mu__inproc_take_errors(mu__runner_t *r)
{
    if (!r->inproc)
        return 0;
    uint64_t errors;
    mu_flow_bus_counters(r->inproc->bus, NULL, &errors);
    uint64_t d = errors - r->inproc->errors_seen;
    r->inproc->errors_seen = errors;
    return d;
}

int
mu_flow_emit_event(mu_flow_emit_t *out, const char *event, const void *data, size_t size)
{
    assert(out);
    if (!event || (data == NULL && size > 0) || out->outbox || out->to_clients || !out->runner
        || out->runner->st->kind != MU__ST_WORKER)
        return MU_EINVAL;
    if (!out->runner->inproc)
        return 0;
    return mu_flow_bus_emit(out->runner->inproc->bus, event, data, size);
}
