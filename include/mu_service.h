/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_service.h — services, the entrypoint, a thread pool, a producer queue.

    Services. A service is a name, a table of two functions (start, stop) and
    a user argument. start() launches the service (often its own thread, actor
    or zloop) and returns; the service then calls mu_service_ready() once it
    serves, or mu_service_fail() if it cannot, from any thread, at any time
    (even inside start()). stop() asks it to finish within a time limit.

    Entrypoint. mu_entrypoint_run() starts every service at once: it calls
    each start() in the order the services were added, without waiting in
    between, then waits until all are ready (services become ready
    concurrently, so the start phase lasts as long as the slowest service, not
    the sum). If one fails — start() returns an error, mu_service_fail() is
    called, or the start timeout expires — no further start() is called and
    the services already started are stopped in reverse order; run() returns
    the failure's code and mu_entrypoint_error() names the service. Once all
    are ready, run() waits for SIGINT, SIGTERM, mu_entrypoint_stop() or a
    later mu_service_fail(), then stops every started service in reverse order
    within the shutdown timeout. Hooks run before and after the start and the
    stop phases. Logging: the entrypoint sets czmq's log identity (zsys
    logging) and reports its progress through zsys_* at the chosen level.

    "Started" means start() returned 0; such a service is always given its
    stop() call, even if it failed later (so that it releases what it holds).
    A service whose start() returned an error is not stopped.

    SIGINT/SIGTERM policy. czmq installs its own handler on first use, which
    only sets zsys_interrupted (and makes every zloop/zpoller in the process
    quit on its own, in no order). While mu_entrypoint_run() runs, the
    entrypoint owns both signals: it first calls zsys_init() (so czmq's
    handler, if enabled, is installed now and cannot replace ours later), then
    installs its own handler with sigaction, saving the previous dispositions.
    Its handler is async-signal-safe: it records the signal and writes one
    byte to the entrypoint's self-pipe; it does NOT set zsys_interrupted, so
    the services' loops keep running until their stop() is called, in reverse
    order. A second signal during the stop phase is absorbed (the shutdown
    timeout bounds that phase). When run() returns, the previous dispositions
    (czmq's handler, or whatever was there) are restored. If zsys_interrupted
    is already set when run() begins (a signal reached czmq's handler first),
    run() stops at once, as after mu_entrypoint_stop(). Only one entrypoint
    may run at a time in a process.

    Stop timeout. stop(svc, arg, timeout_ms) gets the time left of the
    shutdown timeout and should return within it. Each stop() runs on a
    thread of its own while run() waits for it until the deadline, so a
    stop() that hangs cannot hold the process: it is reported as a stop
    timeout naming the service (as is a stop() returning MU_ETIMEDOUT), run()
    goes on with the next service, and mu_entrypoint_destroy() joins the
    late stop() (a process that exits after run() does not wait for it).
    Once the deadline has passed, each remaining service is still stopped,
    with timeout_ms 0 ("do not wait") and MU_ENTRYPOINT_STOP_GRACE ms to
    return. So run() returns within the shutdown timeout plus that grace per
    remaining service, whatever the services do.

    Reactor loops. The originals' "forever loop" (re-arm a handler after each
    result) is what zloop already does: a zloop_reader/zloop_poller handler
    that returns 0 stays armed, -1 ends the loop. Their "safe loop" (clean
    Ctrl-C) is zloop_start(), which returns when czmq's handler has set
    zsys_interrupted (unless zloop_set_nonstop). Under an entrypoint, run a
    zloop inside a service and end it from stop() (for instance through a
    zsock pair or a pipe registered with the loop); the pool and the producer
    below expose plain fds, which zloop takes as zmq_pollitem_t {.fd = fd,
    .events = ZMQ_POLLIN} with zloop_poller, and epoll/poll take directly
    (czmq 4.2's zpoller accepts sockets only, not fds).

    Thread pool. mu_pool_t runs jobs on N threads (default
    min(max(ncpu, 4), 32)). Submitted jobs wait in a bounded queue; when it
    is full, submit waits up to its timeout, then returns MU_EAGAIN
    (back-pressure). Each result is queued with its job id; mu_pool_fd() is
    readable exactly while results are waiting; mu_pool_result() takes one.

    Producer. mu_producer_t runs a blocking generator on its own thread and
    hands its items to the consumer through a bounded queue:
    mu_producer_put() blocks the generator while the queue is full
    (back-pressure), mu_producer_fd() is readable while an item or the end of
    the stream is waiting, and mu_producer_next() takes it.

    Every function that waits takes a timeout in milliseconds: -1 waits
    without limit, 0 does not wait. */
#ifndef MU_SERVICE_H_INCLUDED
#define MU_SERVICE_H_INCLUDED

#include <stdbool.h>
#include <stdint.h>
#include "mu_defs.h"
#include "mu_error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct mu_service_t mu_service_t;
typedef struct mu_entrypoint_t mu_entrypoint_t;
typedef struct mu_pool_t mu_pool_t;
typedef struct mu_producer_t mu_producer_t;

/* ------------------------------------------------------------------ */
/* Services                                                            */

/*  What a service does. start returns 0 once launched (readiness follows
    through mu_service_ready/mu_service_fail) or a negative code when it
    could not start. stop returns 0 when stopped, MU_ETIMEDOUT when it could
    not stop within timeout_ms, or another negative code. */
typedef struct {
    int (*start)(mu_service_t *svc, void *arg);
    int (*stop)(mu_service_t *svc, void *arg, int timeout_ms);
} mu_service_ops_t;

/*  Signals that the service serves. Thread-safe, may be called from any
    thread, inside start() too; ignored after a failure or once stopping. */
MU_EXPORT void mu_service_ready(mu_service_t *svc);

/*  Signals that the service failed with code (negative) and a message
    (copied, may be NULL). Thread-safe, from any thread. Before all services
    are ready this aborts the start; afterwards it stops the entrypoint, and
    run() returns code. Only the first failure of a service counts. */
MU_EXPORT void mu_service_fail(mu_service_t *svc, int code, const char *message);

/*  Returns the service's name. */
MU_EXPORT const char *mu_service_name(const mu_service_t *svc);

/*  Returns the user argument given to mu_entrypoint_add. */
MU_EXPORT void *mu_service_arg(const mu_service_t *svc);

/* ------------------------------------------------------------------ */
/* Entrypoint                                                          */

#define MU_ENTRYPOINT_START_TIMEOUT_DEFAULT 30000     /* ms */
#define MU_ENTRYPOINT_SHUTDOWN_TIMEOUT_DEFAULT 10000  /* ms */
#define MU_ENTRYPOINT_STOP_GRACE 100                  /* ms per stop past the deadline */

typedef enum {
    MU_HOOK_PRE_START = 0,  /* before the first start(); an error aborts run() */
    MU_HOOK_POST_START,     /* once all are ready; an error stops everything */
    MU_HOOK_PRE_STOP,       /* before the first stop() */
    MU_HOOK_POST_STOP       /* after the last stop() */
} mu_hook_t;

/*  A hook returns 0 or a negative code (see mu_hook_t for its effect). */
typedef int (mu_hook_fn)(mu_entrypoint_t *ep, void *arg);

/*  Levels of the entrypoint's own log messages (via czmq's zsys log). */
typedef enum {
    MU_LOG_QUIET = 0,
    MU_LOG_ERROR,
    MU_LOG_WARNING,
    MU_LOG_INFO,    /* default: service started/ready/stopped */
    MU_LOG_DEBUG
} mu_log_level_t;

/*  Creates an entrypoint without services. NULL + errno ENOMEM or EMFILE
    (its self-pipe could not be made). */
MU_EXPORT mu_entrypoint_t *mu_entrypoint_new(void);

/*  Destroys the entrypoint and its services (it does not stop them: run()
    has done that), first waiting for any stop() call that overran the
    shutdown timeout. Must not be called while run() runs. NULL-safe; sets
    *self_p to NULL. */
MU_EXPORT void mu_entrypoint_destroy(mu_entrypoint_t **self_p);

/*  Adds a service; ops is copied, name is copied. Returns the service,
    owned by the entrypoint, or NULL with errno EINVAL (missing name, start
    or stop; or run() already called) or ENOMEM. */
MU_EXPORT mu_service_t *mu_entrypoint_add(mu_entrypoint_t *self, const char *name,
                                          const mu_service_ops_t *ops, void *arg);

/*  Sets a hook (fn NULL removes it). Returns 0 or MU_EINVAL (unknown hook). */
MU_EXPORT int mu_entrypoint_set_hook(mu_entrypoint_t *self, mu_hook_t hook,
                                     mu_hook_fn *fn, void *arg);

/*  Sets how long all services may take to become ready (default 30 s).
    Returns 0 or MU_EINVAL (negative). */
MU_EXPORT int mu_entrypoint_set_start_timeout(mu_entrypoint_t *self, int timeout_ms);

/*  Sets how long the whole stop phase may take (default 10 s). Returns 0 or
    MU_EINVAL (negative). */
MU_EXPORT int mu_entrypoint_set_shutdown_timeout(mu_entrypoint_t *self, int timeout_ms);

/*  Sets up logging for run(): ident (copied; NULL keeps czmq's) becomes
    czmq's log identity, level filters the entrypoint's messages. Returns 0,
    MU_EINVAL (level out of range) or MU_ENOMEM. */
MU_EXPORT int mu_entrypoint_set_logging(mu_entrypoint_t *self, const char *ident,
                                        mu_log_level_t level);

/*  Runs the services as described at the top of this header and returns:
    0 after a clean stop (signal, mu_entrypoint_stop); the code of the first
    failure (start() error, mu_service_fail code, hook error); MU_ETIMEDOUT
    when the start timeout expired or, with no earlier error, a stop did not
    finish in time; another stop() error; MU_EINVAL when run() was already
    called on this entrypoint or another entrypoint is running in the
    process. mu_entrypoint_error() then describes the failure. */
MU_EXPORT int mu_entrypoint_run(mu_entrypoint_t *self);

/*  Asks a running (or about to run) entrypoint to stop its services and
    return. Thread-safe and async-signal-safe. */
MU_EXPORT void mu_entrypoint_stop(mu_entrypoint_t *self);

/*  Returns the signal that stopped run() (SIGINT, SIGTERM) or 0. */
MU_EXPORT int mu_entrypoint_signal(const mu_entrypoint_t *self);

/*  Returns a message describing why run() failed, naming the service (e.g.
    "service 'db' failed: disk full (MU_EIO)"), or "" when it did not fail.
    Valid until the entrypoint is destroyed. */
MU_EXPORT const char *mu_entrypoint_error(const mu_entrypoint_t *self);

/* ------------------------------------------------------------------ */
/* Thread pool                                                         */

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

/* ------------------------------------------------------------------ */
/* Producer queue                                                      */

/*  A generator: runs once on the producer's thread, hands items over with
    mu_producer_put, and returns 0 at the end of its stream or a negative
    code on failure. It must return soon after mu_producer_put returns
    MU_ECLOSED or mu_producer_stopping becomes true. */
typedef int (mu_generator_fn)(mu_producer_t *producer, void *arg);

/*  Destructor of items left in the queue at destroy (may be NULL). */
typedef void (mu_item_free_fn)(void *item);

/*  Starts fn(producer, arg) on a new thread with a queue of capacity items.
    NULL + errno EINVAL (fn NULL, capacity < 1), ENOMEM, EMFILE or EAGAIN. */
MU_EXPORT mu_producer_t *mu_producer_new(mu_generator_fn *fn, void *arg, int capacity,
                                         mu_item_free_fn *free_item);

/*  Tells the generator to stop, wakes it if it waits in mu_producer_put,
    waits for it to return, frees the items still queued with free_item and
    frees the producer. A generator blocked outside mu_producer_put delays
    this until it checks mu_producer_stopping. NULL-safe; sets *self_p to
    NULL. */
MU_EXPORT void mu_producer_destroy(mu_producer_t **self_p);

/*  For the generator: queues item, blocking while the queue is full. Returns
    0, or MU_ECLOSED when the producer is being destroyed (the item was not
    taken: the generator still owns it). */
MU_EXPORT int mu_producer_put(mu_producer_t *self, void *item);

/*  For the generator: true once destroy has begun. */
MU_EXPORT bool mu_producer_stopping(mu_producer_t *self);

/*  Returns an fd that polls readable while an item or the end of the
    stream is waiting (level triggered; do not read it). */
MU_EXPORT int mu_producer_fd(const mu_producer_t *self);

/*  Takes the next item, waiting up to timeout_ms. Returns 0 (*item_p set),
    MU_EAGAIN (nothing in time), the generator's negative return code once
    after its last item, then MU_ECLOSED (end of stream; also after a clean
    end). */
MU_EXPORT int mu_producer_next(mu_producer_t *self, void **item_p, int timeout_ms);

#ifdef __cplusplus
}
#endif
#endif
