/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_producer.h — a blocking generator on its own thread, consumed through
    a bounded queue.

    mu_producer_t runs a generator on a thread of its own and hands its
    items to the consumer through a bounded queue: mu_producer_put() blocks
    the generator while the queue is full (back-pressure), mu_producer_fd()
    is readable while an item or the end of the stream is waiting, and
    mu_producer_next() takes it.

    Timeouts are in milliseconds: -1 waits without limit, 0 does not wait
    (MU_EAGAIN when it would have to), > 0 waits at most that long
    (MU_ETIMEDOUT when it expires). Failures are recorded for the calling
    thread (mu_last_error). Threads: put and stopping belong to the
    generator's thread; next and fd to one consumer thread at a time. */
#ifndef MU_PRODUCER_H_INCLUDED
#define MU_PRODUCER_H_INCLUDED

#include <stdbool.h>
#include <stdint.h>
#include "mu_defs.h"
#include "mu_error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct mu_producer_t mu_producer_t;

/*  A generator: runs once on the producer's thread, hands items over with
    mu_producer_put, and returns 0 at the end of its stream or a negative
    code on failure (a detail it recorded with a failing mutil call is
    passed on to the consumer). It must return soon after mu_producer_put
    returns MU_ECLOSED or mu_producer_stopping becomes true. */
typedef int(mu_generator_fn)(void *arg, mu_producer_t *producer);

/*  Destructor of items left in the queue at destroy (may be NULL). */
typedef void(mu_item_free_fn)(void *item);

/*  Starts fn(arg, producer) (fn not NULL) on a new thread with a queue of
    capacity items (capacity >= 0). Returns NULL with errno EINVAL
    (capacity 0), ENOMEM, EMFILE or EAGAIN (no thread). */
MU_EXPORT MU_NODISCARD mu_producer_t *mu_producer_new(mu_generator_fn *fn, void *arg, int capacity,
                                                      mu_item_free_fn *free_item);

/*  Tells the generator to stop, wakes it if it waits in mu_producer_put,
    waits for it to return, frees the items still queued with free_item and
    frees the producer. A generator blocked outside mu_producer_put delays
    this until it checks mu_producer_stopping. NULL-safe; sets *self_p to
    NULL. */
MU_EXPORT void mu_producer_destroy(mu_producer_t **self_p);

/*  For the generator: queues item, blocking while the queue is full.
    Returns 0, or MU_ECLOSED when the producer is being destroyed (the item
    was not taken: the generator still owns it). */
MU_EXPORT MU_NODISCARD int mu_producer_put(mu_producer_t *self, void *item);

/*  For the generator: true once destroy has begun. */
MU_EXPORT bool mu_producer_stopping(mu_producer_t *self);

/*  Returns an fd that polls readable while an item or the end of the
    stream is waiting (level triggered; do not read it). */
MU_EXPORT int mu_producer_fd(const mu_producer_t *self);

/*  Takes the next item (item_p not NULL), waiting up to timeout_ms.
    Returns 0 (*item_p set, now the caller's), MU_EAGAIN (none and
    timeout_ms 0), MU_ETIMEDOUT (none within timeout_ms), the generator's
    negative return code once after its last item (with the generator's
    detail in mu_last_error), then MU_ECLOSED (end of stream; also after a
    clean end). */
MU_EXPORT MU_NODISCARD int mu_producer_next(mu_producer_t *self, void **item_p, int timeout_ms);

#ifdef __cplusplus
}
#endif
#endif
