/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_pool.h — a thread pool with a bounded queue and pollable results.

    Thread pool. mu_pool_t runs jobs on N threads (default
    min(max(ncpu, 4), 32)). Submitted jobs wait in a bounded queue; when it
    is full, submit waits up to its timeout, then returns MU_EAGAIN
    (back-pressure). Each result is queued with its job id; mu_pool_fd() is
    readable exactly while results are waiting; mu_pool_result() takes one.

    Every function that waits takes a timeout in milliseconds: -1 waits
    without limit, 0 does not wait. */
#ifndef MU_POOL_H_INCLUDED
#define MU_POOL_H_INCLUDED

#include <stdbool.h>
#include <stdint.h>
#include "mu_defs.h"
#include "mu_error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct mu_pool_t mu_pool_t;


/*  A job: runs on a pool thread; its return value is the job's result. */
typedef void *(mu_job_fn)(void *arg);

/*  Returns the default pool size, min(max(ncpu, 4), 32). */
MU_EXPORT int mu_pool_default_size(void);

/*  Creates a pool of size threads (0 = default) with room for queue_cap
    waiting jobs (0 = 4 × size). NULL + errno EINVAL (negative argument,
    size above 1024), ENOMEM, EMFILE, or EAGAIN (threads could not be made). */
MU_EXPORT mu_pool_t *mu_pool_new(int size, int queue_cap);

/*  Stops accepting jobs, discards jobs that have not started, waits for the
    running ones, and frees the pool. Results not taken are dropped (their
    memory is the caller's: take them first when they own memory). NULL-safe;
    sets *self_p to NULL. */
MU_EXPORT void mu_pool_destroy(mu_pool_t **self_p);

/*  Returns the number of threads. */
MU_EXPORT int mu_pool_size(const mu_pool_t *self);

/*  Queues fn(arg); on success stores the job id (1, 2, … in submission
    order) in *id_p when id_p is not NULL. Waits up to timeout_ms for room in
    the queue. Returns 0, MU_EAGAIN (queue still full: back-pressure),
    MU_EINVAL (fn NULL) or MU_ENOMEM. */
MU_EXPORT int mu_pool_submit(mu_pool_t *self, mu_job_fn *fn, void *arg,
                             int timeout_ms, uint64_t *id_p);

/*  Returns an fd that polls readable while results are waiting (level
    triggered; do not read it). Valid until the pool is destroyed. */
MU_EXPORT int mu_pool_fd(const mu_pool_t *self);

/*  Takes the oldest finished result, waiting up to timeout_ms: stores the
    job id and fn's return value. Returns 0 or MU_EAGAIN (none in time). */
MU_EXPORT int mu_pool_result(mu_pool_t *self, uint64_t *id_p, void **result_p,
                             int timeout_ms);

#ifdef __cplusplus
}
#endif
#endif
