/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_sync.h — the library's threading primitives: condition variables on
    the monotonic clock and a bounded ring queue. Never installed. */
#ifndef MU_SYNC_H_INCLUDED
#define MU_SYNC_H_INCLUDED

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*  Initialises cond on CLOCK_MONOTONIC, the clock of mu__now_ms. Returns 0
    or -errno. */
int mu__cond_init(pthread_cond_t *cond);

/*  Waits on cond (mutex held) until signalled or until deadline (a
    mu__now_ms time; -1 = none). Returns false, without waiting, once the
    deadline has passed; true after a wake-up, which may be spurious: the
    caller re-checks its condition. */
bool mu__cond_wait_until(pthread_cond_t *cond, pthread_mutex_t *mutex, int64_t deadline);

/*  pthread_create for a thread of the library's own (no user code), with
    every asynchronous signal blocked in it: a process's signals go to the
    application's threads and never interrupt the new thread's system
    calls. The signals of a fault (SIGSEGV, SIGBUS, SIGFPE, SIGILL,
    SIGTRAP, SIGSYS) stay unblocked, so a crash there still reaches the
    process's handlers (sanitizer reports, crash handlers). The caller's
    mask is unchanged. Returns 0 or pthread_create's error number. */
int mu__thread_create_blocking(pthread_t *thread, void *(*fn)(void *), void *arg);

/*  Keeps an eventfd readable exactly while want holds; *raised tracks
    its state. Called under the owner's lock. */
void mu__level_fd_sync(int fd, bool *raised, bool want);

/*  A bounded FIFO of fixed-size items. Not thread-safe: its owner holds
    its own lock around every call. */
typedef struct {
    unsigned char *items;
    size_t item_size;
    size_t cap;
    size_t head; /* index of the oldest item */
    size_t count;
} mu__ring_t;

/*  Allocates room for cap items of item_size bytes (cap, item_size > 0).
    Returns 0 or MU_ENOMEM. */
int mu__ring_init(mu__ring_t *ring, size_t cap, size_t item_size);

/*  Makes room for cap items (cap >= the ring's count), keeping the items
    in order. Returns 0 or MU_ENOMEM (the ring is unchanged). */
int mu__ring_resize(mu__ring_t *ring, size_t cap);

/*  Frees the ring's storage (not what items point to); safe on a ring
    that init failed or never ran on, if zeroed. */
void mu__ring_free(mu__ring_t *ring);

/*  Appends a copy of *item; returns false, copying nothing, when full. */
bool mu__ring_push(mu__ring_t *ring, const void *item);

/*  Removes the oldest item into *item (may be NULL: drop it); returns
    false when empty. */
bool mu__ring_pop(mu__ring_t *ring, void *item);

/*  The i-th oldest item (i < count), in place. */
void *mu__ring_at(const mu__ring_t *ring, size_t i);

static inline bool
mu__ring_full(const mu__ring_t *ring)
{
    return ring->count == ring->cap;
}

static inline bool
mu__ring_empty(const mu__ring_t *ring)
{
    return ring->count == 0;
}

#endif
