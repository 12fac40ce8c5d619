/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_sync.c — monotonic condition waits and the ring queue (mu_sync.h). */
#include "base/mu_internal.h"
#include "base/mu_sync.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int
mu__thread_create_blocking(pthread_t *thread, void *(*fn)(void *), void *arg)
{
    static const int faults[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGSYS };
    sigset_t async, old;
    sigfillset(&async);
    for (size_t i = 0; i < sizeof faults / sizeof faults[0]; i++)
        sigdelset(&async, faults[i]);
    pthread_sigmask(SIG_BLOCK, &async, &old);
    int err = pthread_create(thread, NULL, fn, arg);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return err;
}

int
mu__cond_init(pthread_cond_t *cond)
{
    pthread_condattr_t attr;
    int err = pthread_condattr_init(&attr);
    if (err == 0)
        err = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    if (err == 0)
        err = pthread_cond_init(cond, &attr);
    pthread_condattr_destroy(&attr);
    return -err;
}

bool
mu__cond_wait_until(pthread_cond_t *cond, pthread_mutex_t *mutex, int64_t deadline)
{
    if (deadline < 0) {
        pthread_cond_wait(cond, mutex);
        return true;
    }
    if (mu__now_ms() >= deadline)
        return false;
    struct timespec ts = { .tv_sec = deadline / 1000,
                           .tv_nsec = (long) (deadline % 1000) * 1000000 };
    pthread_cond_timedwait(cond, mutex, &ts);
    return true;
}

int
mu__ring_init(mu__ring_t *ring, size_t cap, size_t item_size)
{
    assert(ring && cap > 0 && item_size > 0);
    *ring = (mu__ring_t) { .item_size = item_size, .cap = cap };
    ring->items = calloc(cap, item_size);
    return ring->items ? 0 : MU_ENOMEM;
}

int
mu__ring_resize(mu__ring_t *ring, size_t cap)
{
    assert(cap > 0 && cap >= ring->count);
    unsigned char *items = calloc(cap, ring->item_size);
    if (!items)
        return MU_ENOMEM;
    for (size_t i = 0; i < ring->count; i++)
        memcpy(items + i * ring->item_size, mu__ring_at(ring, i), ring->item_size);
    free(ring->items);
    ring->items = items;
    ring->cap = cap;
    ring->head = 0;
    return 0;
}

void
mu__ring_free(mu__ring_t *ring)
{
    free(ring->items);
    ring->items = NULL;
    ring->count = ring->head = 0;
}

void *
mu__ring_at(const mu__ring_t *ring, size_t i)
{
    assert(i < ring->count);
    return ring->items + ((ring->head + i) % ring->cap) * ring->item_size;
}

bool
mu__ring_push(mu__ring_t *ring, const void *item)
{
    if (ring->count == ring->cap)
        return false;
    size_t slot = (ring->head + ring->count) % ring->cap;
    memcpy(ring->items + slot * ring->item_size, item, ring->item_size);
    ring->count++;
    return true;
}

bool
mu__ring_pop(mu__ring_t *ring, void *item)
{
    if (ring->count == 0)
        return false;
    if (item)
        memcpy(item, ring->items + ring->head * ring->item_size, ring->item_size);
    ring->head = (ring->head + 1) % ring->cap;
    ring->count--;
    return true;
}

void
mu__level_fd_sync(int fd, bool *raised, bool want)
{
    uint64_t value = 1;
    if (want && !*raised) {
        if (write(fd, &value, sizeof value) == sizeof value)
            *raised = true;
    } else if (!want && *raised) {
        if (read(fd, &value, sizeof value) == sizeof value)
            *raised = false;
    }
}
