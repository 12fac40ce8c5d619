/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_pool.h — a thread pool with a bounded queue and pollable results.

    mu_pool_t runs jobs on N threads. Submitted jobs wait in a bounded
    queue; when it is full, mu_pool_submit waits for room (back-pressure).
    Each result is queued with its job id until taken: mu_pool_fd() is
    readable exactly while results are waiting, mu_pool_result() takes one.

    Timeouts are in milliseconds: -1 waits without limit, 0 does not wait
    (MU_EAGAIN when it would have to), > 0 waits at most that long
    (MU_ETIMEDOUT when it expires). Failures are recorded for the calling
    thread (mu_last_error). Threads: submit and result may be called from
    any threads at once; destroy must not race with them. */
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

/*  A job: runs once on a pool thread; its return value is the job's
    result. */
typedef void *(mu_job_fn) (void *arg);

/*  Returns the default pool size, min(max(ncpu, 4), 32). */
MU_EXPORT int mu_pool_default_size(void);

/*  Creates a pool of size threads (0 = mu_pool_default_size()) with room
    for queue_cap waiting jobs (0 = 4 × size); both must be >= 0. Returns
    NULL with errno EINVAL (size above 1024), ENOMEM, EMFILE, or EAGAIN
    (threads could not be made). */
MU_EXPORT MU_NODISCARD mu_pool_t *mu_pool_new(int size, int queue_cap);

/*  Stops accepting jobs, discards jobs that have not started, waits for the
    running ones, and frees the pool. Results not taken are dropped (their
    memory is the caller's: take them first when they own memory). NULL-safe;
    sets *self_p to NULL. */
MU_EXPORT void mu_pool_destroy(mu_pool_t **self_p);

/*  Returns the number of threads. */
MU_EXPORT int mu_pool_size(const mu_pool_t *self);

/*  Queues fn(arg) (fn not NULL), waiting up to timeout_ms for room in the
    queue; on success stores the job id (1, 2, … in submission order) in
    *id_p when id_p is not NULL. Returns 0, MU_EAGAIN (queue full and
    timeout_ms 0), MU_ETIMEDOUT (still full after timeout_ms) or
    MU_ENOMEM. */
MU_EXPORT MU_NODISCARD int mu_pool_submit(mu_pool_t *self, mu_job_fn *fn, void *arg, int timeout_ms,
                                          uint64_t *id_p);

/*  Returns an fd that polls readable while results are waiting (level
    triggered; do not read it). Valid until the pool is destroyed. */
MU_EXPORT int mu_pool_fd(const mu_pool_t *self);

/*  Takes the oldest finished result, waiting up to timeout_ms for one:
    stores the job id in *id_p and fn's return value in *result_p (each may
    be NULL). Returns 0, MU_EAGAIN (none and timeout_ms 0) or MU_ETIMEDOUT
    (none within timeout_ms). */
MU_EXPORT MU_NODISCARD int mu_pool_result(mu_pool_t *self, uint64_t *id_p, void **result_p,
                                          int timeout_ms);

#ifdef __cplusplus
}
#endif
#endif
