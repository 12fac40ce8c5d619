/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_producer.c — the producer queue. The contract is in
    include/mu_producer.h. */
#include "base/mu_internal.h"
#include "base/mu_sync.h"
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

struct mu_producer_t {
    pthread_mutex_t mutex;
    pthread_cond_t not_full, not_empty;
    mu__ring_t queue; /* of void * */
    bool stopping, ended, code_told;
    int end_code;
    char *end_detail; /* the generator's detail of end_code, or NULL */
    int efd;
    bool raised;
    pthread_t thread;
    mu_generator_fn *fn;
    void *arg;
    mu_item_free_fn *free_item;
};

/*  Under mutex: readable while an item or the end is waiting. */
static void
producer_sync_fd(mu_producer_t *self)
{
    mu__level_fd_sync(self->efd, &self->raised, !mu__ring_empty(&self->queue) || self->ended);
}

static void *
producer_main(void *arg)
{
    mu_producer_t *self = arg;
    unsigned long fails = mu__fail_count();
    int rc = self->fn(self->arg, self);
    const char *said = mu__detail_since(fails, rc); /* what the generator recorded */
    char *detail = said ? strdup(said) : NULL;
    pthread_mutex_lock(&self->mutex);
    self->ended = true;
    self->end_code = rc < 0 ? rc : 0;
    self->end_detail = detail;
    producer_sync_fd(self);
    pthread_cond_broadcast(&self->not_empty);
    pthread_mutex_unlock(&self->mutex);
    return NULL;
}

static void
producer_free(mu_producer_t *self)
{
    void *item;
    while (mu__ring_pop(&self->queue, &item))
        if (self->free_item)
            self->free_item(item);
    mu__ring_free(&self->queue);
    free(self->end_detail);
    if (self->efd >= 0)
        close(self->efd);
    pthread_cond_destroy(&self->not_full);
    pthread_cond_destroy(&self->not_empty);
    pthread_mutex_destroy(&self->mutex);
    free(self);
}

mu_producer_t *
mu_producer_new(mu_generator_fn *fn, void *arg, int capacity, mu_item_free_fn *free_item)
{
    assert(fn && capacity >= 0);
    if (capacity == 0)
        return mu__fail_null(MU_EINVAL, "producer capacity 0");
    mu_producer_t *self = calloc(1, sizeof *self);
    if (!self)
        return mu__fail_null(MU_ENOMEM, "producer");
    pthread_mutex_init(&self->mutex, NULL);
    mu__cond_init(&self->not_full);
    mu__cond_init(&self->not_empty);
    self->fn = fn;
    self->arg = arg;
    self->free_item = free_item;
    self->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    int rc = self->efd < 0 ? mu__fail(-errno, "producer: eventfd") : 0;
    if (rc == 0 && mu__ring_init(&self->queue, (size_t) capacity, sizeof(void *)) != 0)
        rc = mu__fail(MU_ENOMEM, "producer queue of %d items", capacity);
    int err = rc == 0 ? pthread_create(&self->thread, NULL, producer_main, self) : 0;
    if (err)
        rc = mu__fail(-err, "producer: thread");
    if (rc < 0) {
        producer_free(self);
        return mu__fail_null(rc, "%s", mu__last_detail());
    }
    return self;
}

void
mu_producer_destroy(mu_producer_t **self_p)
{
    assert(self_p);
    mu_producer_t *self = *self_p;
    if (!self)
        return;
    pthread_mutex_lock(&self->mutex);
    self->stopping = true;
    pthread_cond_broadcast(&self->not_full);
    pthread_mutex_unlock(&self->mutex);
    pthread_join(self->thread, NULL);
    producer_free(self);
    *self_p = NULL;
}

int
mu_producer_put(mu_producer_t *self, void *item)
{
    assert(self);
    pthread_mutex_lock(&self->mutex);
    while (mu__ring_full(&self->queue) && !self->stopping)
        pthread_cond_wait(&self->not_full, &self->mutex);
    int rc = self->stopping ? mu__fail(MU_ECLOSED, "the producer is being destroyed") : 0;
    if (rc == 0) {
        mu__ring_push(&self->queue, &item);
        producer_sync_fd(self);
        pthread_cond_signal(&self->not_empty);
    }
    pthread_mutex_unlock(&self->mutex);
    return rc;
}

bool
mu_producer_stopping(mu_producer_t *self)
{
    assert(self);
    pthread_mutex_lock(&self->mutex);
    bool stopping = self->stopping;
    pthread_mutex_unlock(&self->mutex);
    return stopping;
}

int
mu_producer_fd(const mu_producer_t *self)
{
    assert(self);
    return self->efd;
}

int
mu_producer_next(mu_producer_t *self, void **item_p, int timeout_ms)
{
    assert(self && item_p);
    int64_t deadline = mu__deadline_ms(timeout_ms);
    int rc = 0;
    pthread_mutex_lock(&self->mutex);
    while (mu__ring_empty(&self->queue) && !self->ended && rc == 0)
        if (!mu__cond_wait_until(&self->not_empty, &self->mutex, deadline))
            rc = mu__expired(timeout_ms);
    if (rc == 0 && mu__ring_pop(&self->queue, item_p)) {
        producer_sync_fd(self);
        pthread_cond_signal(&self->not_full);
    } else if (rc == 0 && self->end_code < 0 && !self->code_told) {
        self->code_told = true;
        rc = mu__fail(self->end_code, "%s", self->end_detail ? self->end_detail : "");
    } else if (rc == 0)
        rc = mu__fail(MU_ECLOSED, NULL);
    else
        mu__fail(rc, NULL);
    pthread_mutex_unlock(&self->mutex);
    return rc;
}
