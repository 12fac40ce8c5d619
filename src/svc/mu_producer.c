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
#include <time.h>
#include <unistd.h>

struct mu_producer_t {
    pthread_mutex_t mutex;
    pthread_cond_t not_full, not_empty;
    void **ring;
    int cap, head, count;
    bool stopping, ended, code_told;
    int end_code;
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
    mu__level_fd_sync(self->efd, &self->raised, self->count > 0 || self->ended);
}

static void *
producer_main(void *arg)
{
    mu_producer_t *self = arg;
    int rc = self->fn(self, self->arg);
    pthread_mutex_lock(&self->mutex);
    self->ended = true;
    self->end_code = rc < 0 ? rc : 0;
    producer_sync_fd(self);
    pthread_cond_broadcast(&self->not_empty);
    pthread_mutex_unlock(&self->mutex);
    return NULL;
}

static void
producer_free(mu_producer_t *self)
{
    for (int i = 0; i < self->count; i++) {
        void *item = self->ring[(self->head + i) % self->cap];
        if (self->free_item)
            self->free_item(item);
    }
    if (self->efd >= 0)
        close(self->efd);
    pthread_cond_destroy(&self->not_full);
    pthread_cond_destroy(&self->not_empty);
    pthread_mutex_destroy(&self->mutex);
    free(self->ring);
    free(self);
}

mu_producer_t *
mu_producer_new(mu_generator_fn *fn, void *arg, int capacity, mu_item_free_fn *free_item)
{
    if (!fn || capacity < 1) {
        errno = EINVAL;
        return NULL;
    }
    mu_producer_t *self = calloc(1, sizeof *self);
    if (!self) {
        errno = ENOMEM;
        return NULL;
    }
    pthread_mutex_init(&self->mutex, NULL);
    mu__cond_init(&self->not_full);
    mu__cond_init(&self->not_empty);
    self->cap = capacity;
    self->fn = fn;
    self->arg = arg;
    self->free_item = free_item;
    self->ring = calloc((size_t) capacity, sizeof *self->ring);
    self->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    int err = self->efd < 0 ? errno : self->ring ? 0 : ENOMEM;
    if (!err)
        err = pthread_create(&self->thread, NULL, producer_main, self);
    if (err) {
        producer_free(self);
        errno = err;
        return NULL;
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
    while (self->count == self->cap && !self->stopping)
        pthread_cond_wait(&self->not_full, &self->mutex);
    if (self->stopping) {
        pthread_mutex_unlock(&self->mutex);
        return MU_ECLOSED;
    }
    self->ring[(self->head + self->count) % self->cap] = item;
    self->count++;
    producer_sync_fd(self);
    pthread_cond_signal(&self->not_empty);
    pthread_mutex_unlock(&self->mutex);
    return 0;
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
    while (self->count == 0 && !self->ended) {
        if (!mu__cond_wait_until(&self->not_empty, &self->mutex, deadline)) {
            pthread_mutex_unlock(&self->mutex);
            return MU_EAGAIN;
        }
    }
    if (self->count > 0) {
        *item_p = self->ring[self->head];
        self->head = (self->head + 1) % self->cap;
        self->count--;
        producer_sync_fd(self);
        pthread_cond_signal(&self->not_full);
    }
    else if (self->end_code < 0 && !self->code_told) {
        self->code_told = true;
        rc = self->end_code;
    }
    else
        rc = MU_ECLOSED;
    pthread_mutex_unlock(&self->mutex);
    return rc;
}
