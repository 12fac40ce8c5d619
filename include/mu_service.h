/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_service.h — services and the entrypoint that runs them.

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
    zsock pair or a pipe registered with the loop); the pool (mu_pool.h) and the producer
    (mu_producer.h) expose plain fds, which zloop takes as zmq_pollitem_t {.fd = fd,
    .events = ZMQ_POLLIN} with zloop_poller, and epoll/poll take directly
    (czmq 4.2's zpoller accepts sockets only, not fds).

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

#ifdef __cplusplus
}
#endif
#endif
