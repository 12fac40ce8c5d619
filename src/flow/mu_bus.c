/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_bus.c — the in-process event bus: named events that processors emit
    and handlers subscribe to, run inline (synchronously, in the emitter's
    thread) or on a thread of their own fed by a bounded queue. The
    contract is in include/mu_bus.h. */
#include "flow/mu_bus_int.h"
#include "base/mu_internal.h"
#include "base/mu_sync.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define QUEUE_DEFAULT 1024
#define EVENT_MAX 64

typedef struct {
    char *event;
    void *data;
    size_t size;
} item_t;

typedef struct sub_t {
    char name[EVENT_MAX];
    mu_flow_mode_t mode;
    mu_flow_event_fn *fn;
    void *arg;
    /* thread mode */
    mu_flow_bus_t *bus;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t not_empty, not_full, idle;
    mu__ring_t queue; /* of item_t */
    bool busy, stop;
    struct sub_t *next;
} sub_t;

struct mu_flow_bus_t {
    sub_t *subs;
    mu__bus_wait_fn *wait_fn; /* flow runners: run while an emit waits */
    void *wait_arg;
    atomic_bool emitting;
    atomic_uint_fast64_t delivered, errors;
};

mu_flow_bus_t *
mu_flow_bus_new(void)
{
    mu_flow_bus_t *self = calloc(1, sizeof *self);
    if (!self)
        return mu__fail_null(MU_ENOMEM, "bus: out of memory");
    return self;
}

void
mu__bus_set_wait_hook(mu_flow_bus_t *bus, mu__bus_wait_fn *fn, void *arg)
{
    assert(bus);
    bus->wait_fn = fn;
    bus->wait_arg = arg;
}

/*  Runs one handler and counts it; returns its result. */
static int
run_handler(mu_flow_bus_t *bus, sub_t *s, const char *event, const void *data, size_t size)
{
    int rc = s->fn(s->arg, event, data, size);
    atomic_fetch_add(&bus->delivered, 1);
    if (rc < 0)
        atomic_fetch_add(&bus->errors, 1);
    return rc;
}

static void
item_free(item_t *it)
{
    free(it->event);
    free(it->data);
}

static void *
sub_thread(void *arg)
{
    sub_t *s = arg;
    pthread_mutex_lock(&s->mu);
    for (;;) {
        while (mu__ring_empty(&s->queue) && !s->stop)
            pthread_cond_wait(&s->not_empty, &s->mu);
        item_t it;
        if (!mu__ring_pop(&s->queue, &it))
            break; /* empty and told to stop */
        s->busy = true;
        pthread_cond_signal(&s->not_full);
        pthread_mutex_unlock(&s->mu);
        (void) run_handler(s->bus, s, it.event, it.data, it.size);
        item_free(&it);
        pthread_mutex_lock(&s->mu);
        s->busy = false;
        if (mu__ring_empty(&s->queue))
            pthread_cond_broadcast(&s->idle);
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

static void
sub_free(sub_t *s)
{
    if (s->mode == MU_FLOW_THREAD) {
        pthread_mutex_destroy(&s->mu);
        pthread_cond_destroy(&s->not_empty);
        pthread_cond_destroy(&s->not_full);
        pthread_cond_destroy(&s->idle);
        mu__ring_free(&s->queue);
    }
    free(s);
}

/*  Sets up a thread subscription's queue and thread. */
static int
sub_start_thread(mu_flow_bus_t *self, sub_t *s, size_t queue_max)
{
    if (mu__ring_init(&s->queue, queue_max ? queue_max : QUEUE_DEFAULT, sizeof(item_t)) != 0)
        return mu__fail(MU_ENOMEM, "bus: out of memory");
    s->bus = self;
    pthread_mutex_init(&s->mu, NULL);
    mu__cond_init(&s->not_empty);
    mu__cond_init(&s->not_full);
    mu__cond_init(&s->idle);
    int rc = pthread_create(&s->thread, NULL, sub_thread, s);
    if (rc != 0)
        return mu__fail(-rc, "bus: cannot start the thread of '%s': %s", s->name, strerror(rc));
    return 0;
}

int
mu_flow_bus_on(mu_flow_bus_t *self, const char *event, mu_flow_mode_t mode, mu_flow_event_fn *fn,
               void *arg, size_t queue_max)
{
    assert(self);
    assert(event);
    assert(fn);
    assert(mode == MU_FLOW_INLINE || mode == MU_FLOW_THREAD);
    if (!event[0] || strlen(event) >= EVENT_MAX)
        return mu__fail(MU_EINVAL, "bus: event name empty or over %d bytes", EVENT_MAX - 1);
    if (atomic_load(&self->emitting))
        return mu__fail(MU_EINVAL, "bus: subscription to '%s' after the first emit", event);
    sub_t *s = calloc(1, sizeof *s);
    if (!s)
        return mu__fail(MU_ENOMEM, "bus: out of memory");
    snprintf(s->name, sizeof s->name, "%s", event);
    s->mode = mode;
    s->fn = fn;
    s->arg = arg;
    if (mode == MU_FLOW_THREAD) {
        int rc = sub_start_thread(self, s, queue_max);
        if (rc != 0) {
            sub_free(s);
            return rc;
        }
    }
    s->next = self->subs;
    self->subs = s;
    return 0;
}

/*  Waits (s->mu held) while s's queue is full. With a wait hook (a flow
    runner's: it sends what thread handlers queued, which they may be
    waiting on), runs it about every millisecond and gives up with its
    code. */
static int
wait_room(mu_flow_bus_t *bus, sub_t *s)
{
    while (mu__ring_full(&s->queue)) {
        if (!bus->wait_fn) {
            pthread_cond_wait(&s->not_full, &s->mu);
            continue;
        }
        pthread_mutex_unlock(&s->mu);
        int rc = bus->wait_fn(bus->wait_arg);
        pthread_mutex_lock(&s->mu);
        if (rc != 0)
            return rc;
        if (mu__ring_full(&s->queue))
            (void) mu__cond_wait_until(&s->not_full, &s->mu, mu__now_ms() + 1);
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
        item_free(&it);
        return mu__fail(MU_ENOMEM, "bus: out of memory");
    }
    if (size)
        memcpy(it.data, data, size);
    pthread_mutex_lock(&s->mu);
    int rc = wait_room(bus, s);
    if (rc == 0) {
        (void) mu__ring_push(&s->queue, &it);
        pthread_cond_signal(&s->not_empty);
    }
    pthread_mutex_unlock(&s->mu);
    if (rc != 0)
        item_free(&it);
    return rc;
}

static bool
matches(const sub_t *s, const char *event)
{
    return strcmp(s->name, event) == 0 || strcmp(s->name, "*") == 0;
}

int
mu_flow_bus_emit(mu_flow_bus_t *self, const char *event, const void *data, size_t size)
{
    assert(self);
    assert(event);
    assert(data || size == 0);
    atomic_store(&self->emitting, true);
    int n = 0, first_err = 0;
    for (sub_t *s = self->subs; s; s = s->next) {
        if (!matches(s, event))
            continue;
        n++;
        int rc = s->mode == MU_FLOW_INLINE ? run_handler(self, s, event, data, size)
                                           : enqueue(self, s, event, data, size);
        if (rc < 0 && !first_err)
            first_err = rc;
    }
    return first_err ? first_err : n;
}

/*  Waits until s is idle or deadline; true when idle. */
static bool
sub_wait_idle(sub_t *s, int64_t deadline)
{
    pthread_mutex_lock(&s->mu);
    bool in_time = true;
    while ((!mu__ring_empty(&s->queue) || s->busy) && in_time)
        in_time = mu__cond_wait_until(&s->idle, &s->mu, deadline);
    bool idle = mu__ring_empty(&s->queue) && !s->busy;
    pthread_mutex_unlock(&s->mu);
    return idle;
}

int
mu_flow_bus_drain(mu_flow_bus_t *self, int timeout_ms)
{
    assert(self);
    int64_t deadline = timeout_ms == 0 ? mu__now_ms() : mu__deadline_ms(timeout_ms);
    for (sub_t *s = self->subs; s; s = s->next) {
        if (s->mode != MU_FLOW_THREAD || sub_wait_idle(s, deadline))
            continue;
        if (timeout_ms == 0)
            return mu__fail(MU_EAGAIN, "bus: handlers still busy");
        return mu__fail(MU_ETIMEDOUT, "bus: handlers still busy after %d ms", timeout_ms);
    }
    return 0;
}

int
mu_flow_bus_stats(const mu_flow_bus_t *self, mu_flow_bus_stats_t *stats)
{
    assert(self);
    assert(stats);
    mu_flow_bus_t *bus = (mu_flow_bus_t *) self;
    mu_flow_bus_stats_t all = {
        .size = sizeof all,
        .delivered = atomic_load(&bus->delivered),
        .errors = atomic_load(&bus->errors),
    };
    return mu__stats_fill(stats, &all, sizeof all, sizeof all);
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
        }
        sub_free(s);
        s = next;
    }
    free(self);
    *self_p = NULL;
}
