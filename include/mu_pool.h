/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_pool.h — a thread pool with a bounded queue and pollable results,
    and a fresh thread per call (mu_thread_*).

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

/* ------------------------------------------------------------------ */
/* A fresh thread per call                                             */

/*  For a call that blocks long or for ever, where taking a pool thread is
    the wrong trade: each call gets a thread of its own, ended when fn
    returns (no limit on how many run at once). */
typedef struct mu_thread_t mu_thread_t;

/*  Runs fn(arg) (fn not NULL) on a new thread. Returns the handle, or NULL
    with errno ENOMEM, EMFILE (no fd for its completion) or EAGAIN (no
    thread). */
MU_EXPORT MU_NODISCARD mu_thread_t *mu_thread_spawn(mu_job_fn *fn, void *arg);

/*  Waits up to timeout_ms for fn to return; then stores its return value
    in *result_p (may be NULL). Returns 0, MU_EAGAIN (still running,
    timeout_ms 0) or MU_ETIMEDOUT (still running after timeout_ms).
    Thread-safe; may be called again. */
MU_EXPORT MU_NODISCARD int mu_thread_wait(mu_thread_t *self, int timeout_ms, void **result_p);

/*  Returns an fd that polls readable once fn has returned (do not read or
    close it). Valid until mu_thread_destroy. */
MU_EXPORT int mu_thread_fd(const mu_thread_t *self);

/*  Frees the handle. A finished thread is joined; one whose fn still runs
    is detached and left to finish (a thread cannot be killed): its result
    is dropped and it frees what is left when fn returns, so fn's arg must
    stay valid until then. NULL-safe; sets *self_p to NULL. */
MU_EXPORT void mu_thread_destroy(mu_thread_t **self_p);

/*  mu_thread_spawn, mu_thread_wait(timeout_ms), mu_thread_destroy: runs
    fn(arg) on a new thread and waits for its result. Returns 0 with the
    result in *result_p (may be NULL), MU_ETIMEDOUT / MU_EAGAIN (fn still
    running: left to finish as in mu_thread_destroy) or a spawn error
    (MU_ENOMEM, MU_EAGAIN, -EMFILE). */
MU_EXPORT MU_NODISCARD int mu_thread_call(mu_job_fn *fn, void *arg, int timeout_ms,
                                          void **result_p);

#ifdef __cplusplus
}
#endif
#endif
