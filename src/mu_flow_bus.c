/*  mu_flow_bus.c — in-process stages: named events that processors emit
    and handlers subscribe to, run inline (synchronously, in the emitter's
    thread) or on a thread of their own fed by a bounded queue. The
    contract is in include/mu_flow.h. */
#include "mu_flow_int.h"

#include <errno.h>
#include <pthread.h>
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

/*  Queues a copy for a thread subscription, waiting while its queue is
    full. */
static int
enqueue(sub_t *s, const char *event, const void *data, size_t size)
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
    while (s->count == s->cap)
        pthread_cond_wait(&s->not_full, &s->mu);
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
            int rc = enqueue(s, event, data, size);
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
                struct timespec ts;
                clock_gettime(CLOCK_REALTIME, &ts);
                ts.tv_sec += left / 1000;
                ts.tv_nsec += (long) (left % 1000) * 1000000;
                if (ts.tv_nsec >= 1000000000) {
                    ts.tv_sec++;
                    ts.tv_nsec -= 1000000000;
                }
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
