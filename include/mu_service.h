/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_service.h — services, the entrypoint that runs them, and mu_run.

    A service is a name, a table of functions (start, optional stop) and a
    user argument. The entrypoint calls each start() on a thread of its own,
    all at once, in the order the services were added (without waiting for
    one before making the next thread). start() either launches the service
    and returns 0, or runs it ("forever" service) until the service's stop
    event is raised (mu_service_stopping, mu_service_wait_stop,
    mu_service_stop_fd) and then returns. Either way the service calls
    mu_service_ready() once it serves, or mu_service_fail() if it cannot,
    from any thread, at any time (inside start() too). stop(), when given,
    asks it to finish within a time limit.

    mu_entrypoint_run() waits until all services are ready, within the
    start timeout, which covers all the start() calls together. If one
    fails — start() returns an error, mu_service_fail() is called, the
    start timeout expires, or SIGINT/SIGTERM/mu_entrypoint_stop() arrives —
    no further start thread is made and the services whose start() was
    called are stopped in reverse order. Once all are ready, run() waits for
    SIGINT, SIGTERM, mu_entrypoint_stop() or a later mu_service_fail() (or,
    with mu_entrypoint_run_main, for main to return), then stops every
    service in reverse order within the shutdown timeout. Hooks run before
    and after the start and the stop phases.

    Stopping one service: its stop event is raised; the entrypoint waits
    (within the shutdown deadline) for its start() to return; then, if
    start() returned 0 and the service has a stop(), calls stop(). So a
    service whose start() returned 0 always gets its stop() call, even if
    it failed later, and one whose start() returned an error does not.
    stop() is never called while the service's start() still runs.

    A start() that does not return: a start thread cannot be killed. If a
    start() is still running when its turn to stop comes and it does not
    return by the shutdown deadline (plus MU_ENTRYPOINT_STOP_GRACE once the
    deadline has passed), its thread is detached and abandoned: run()
    reports MU_ETIMEDOUT ("start() still running ... abandoned") and goes
    on; that service's stop() is not called, ever. The abandoned thread
    keeps the entrypoint's memory alive (mu_entrypoint_destroy does not
    wait for it); when start() finally returns, the thread frees what is
    left and ends; mu_service_ready/fail from it are then ignored. The
    service's arg must stay valid as long as its start() runs: a start()
    that may block should watch its stop event.

    Signals: while run() runs, the entrypoint owns SIGINT and SIGTERM. It
    calls zsys_init() first, then installs its own handler (saving the
    previous dispositions, restored when run() returns). The handler only
    wakes run(); it does not set zsys_interrupted, so the services' zloops
    keep running until they are stopped. A signal during the start phase
    aborts it at once (run() returns 0 after the stop phase, like a stop
    request). A second signal during the stop phase is absorbed. If
    zsys_interrupted is already set when run() begins, run() stops at once,
    as after mu_entrypoint_stop(). start() and stop() run on threads with
    the signal mask of run()'s thread (so processes they start get the
    mask a process started from run()'s thread would), and the kernel may
    run the handler on any thread that does not block the signal: a
    start() blocked in poll() or another call that a signal interrupts
    even with SA_RESTART may return EINTR there, and should then check
    its stop event. Only one entrypoint may run at a time in a process.

    Stop timeout: stop(arg, svc, timeout_ms) gets the time left of the
    shutdown timeout and should return within it. Each stop() runs on a
    thread of its own; one that overruns is reported as a stop timeout
    naming the service, run() goes on with the next service, and
    mu_entrypoint_destroy() joins the late stop(). Once the deadline has
    passed, each remaining service is still stopped, with timeout_ms 0 and
    MU_ENTRYPOINT_STOP_GRACE ms to return. So run() returns within the
    start timeout plus the shutdown timeout plus that grace per remaining
    service, whatever the services do.

    Logging: through the process-wide logger (mu_log.h, module "svc"), with
    the identity and level set by mu_entrypoint_set_logging.

    Timeouts are in milliseconds: -1 without limit. Failures are recorded
    for the calling thread (mu_last_code, mu_last_error). doc/service.md
    explains the design and how to run reactor loops under an entrypoint. */
#ifndef MU_SERVICE_H_INCLUDED
#define MU_SERVICE_H_INCLUDED

#include <stdbool.h>
#include <stdint.h>
#include "mu_defs.h"
#include "mu_error.h"
#include "mu_log.h"
#include "mu_pool.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct mu_service_t mu_service_t;
typedef struct mu_entrypoint_t mu_entrypoint_t;

/* ------------------------------------------------------------------ */
/* Services                                                            */

/*  What a service does; arg is the one given to mu_entrypoint_add. start
    (not NULL) runs on a thread of its own; it returns 0 once launched, or
    runs until the service's stop event is raised and then returns 0
    (readiness follows through mu_service_ready or mu_service_fail, also
    from inside start), or returns a negative code when it could not start
    (a detail it recorded with a failing mutil call is kept in the
    entrypoint's). stop (may be NULL) runs after start returned 0, on a
    thread of its own; it returns 0 when stopped, MU_ETIMEDOUT when it could
    not stop within timeout_ms (-1: no limit; 0: past the deadline, do not
    wait), or another negative code. */
typedef struct {
    int (*start)(void *arg, mu_service_t *svc);
    int (*stop)(void *arg, mu_service_t *svc, int timeout_ms);
} mu_service_ops_t;

/*  Signals that the service serves. Thread-safe, from any thread, inside
    start() too; ignored after a failure or once stopping. */
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

/*  Returns the entrypoint that owns svc. */
MU_EXPORT mu_entrypoint_t *mu_service_entrypoint(const mu_service_t *svc);

/*  True once the service's stop event is raised: its turn to stop came (or
    run() aborted the start). Thread-safe. */
MU_EXPORT bool mu_service_stopping(const mu_service_t *svc);

/*  Returns an fd that polls readable once the stop event is raised (do not
    read or close it); for a forever service's zloop or poll loop. Valid
    while the entrypoint exists. */
MU_EXPORT int mu_service_stop_fd(const mu_service_t *svc);

/*  Waits up to timeout_ms for the stop event. Returns 0 when it is raised,
    MU_EAGAIN (not raised, timeout_ms 0) or MU_ETIMEDOUT (not raised within
    timeout_ms). Thread-safe; the usual loop of a forever service is
    "while (mu_service_wait_stop(svc, period) == MU_ETIMEDOUT) work();". */
MU_EXPORT MU_NODISCARD int mu_service_wait_stop(mu_service_t *svc, int timeout_ms);

/* ------------------------------------------------------------------ */
/* Entrypoint                                                          */

#define MU_ENTRYPOINT_START_TIMEOUT_DEFAULT 30000    /* ms */
#define MU_ENTRYPOINT_SHUTDOWN_TIMEOUT_DEFAULT 10000 /* ms */
#define MU_ENTRYPOINT_STOP_GRACE 100                 /* ms per stop past the deadline */

typedef enum {
    MU_HOOK_PRE_START = 0, /* before the first start(); an error aborts run() */
    MU_HOOK_POST_START,    /* once all are ready; an error stops everything */
    MU_HOOK_PRE_STOP,      /* before the first stop() */
    MU_HOOK_POST_STOP      /* after the last stop() */
} mu_hook_t;

/*  A hook, run on run()'s thread: returns 0 or a negative code (see
    mu_hook_t for its effect). */
typedef int(mu_hook_fn)(void *arg, mu_entrypoint_t *ep);


/*  Creates an entrypoint without services. Returns NULL with errno ENOMEM
    or EMFILE (its self-pipe could not be made). */
MU_EXPORT MU_NODISCARD mu_entrypoint_t *mu_entrypoint_new(void);

/*  Destroys the entrypoint and its services (it does not stop them: run()
    has done that), first waiting for any stop() call that overran the
    shutdown timeout. Must not be called while run() runs. NULL-safe; sets
    *self_p to NULL. */
MU_EXPORT void mu_entrypoint_destroy(mu_entrypoint_t **self_p);

/*  Adds a service named name (copied) doing ops (copied; start not NULL,
    stop may be NULL) with arg. Returns the service, owned by the
    entrypoint, or NULL with errno EINVAL (empty name, or run() already
    called), ENOMEM, or EMFILE (no fd for its stop event). */
MU_EXPORT MU_NODISCARD mu_service_t *mu_entrypoint_add(mu_entrypoint_t *self, const char *name,
                                                       const mu_service_ops_t *ops, void *arg);

/*  Sets a hook: fn(arg, ep) runs at that point of run() (fn NULL removes
    it). */
MU_EXPORT void mu_entrypoint_set_hook(mu_entrypoint_t *self, mu_hook_t hook, mu_hook_fn *fn,
                                      void *arg);

/*  Sets how long all services may take to become ready (default 30 s; -1
    no limit). Returns 0 or MU_EINVAL (below -1). */
MU_EXPORT MU_NODISCARD int mu_entrypoint_set_start_timeout(mu_entrypoint_t *self, int timeout_ms);

/*  Sets how long the whole stop phase may take (default 10 s; -1 no
    limit). Returns 0 or MU_EINVAL (below -1). */
MU_EXPORT MU_NODISCARD int mu_entrypoint_set_shutdown_timeout(mu_entrypoint_t *self,
                                                              int timeout_ms);

/*  Makes run() own a thread pool (mu_pool.h) of size threads (0: the
    default size; -1: none, the default): created before the pre_start
    hook, destroyed after the post_stop hook, reachable meanwhile through
    mu_entrypoint_pool(). Returns 0 or MU_EINVAL (size below -1 or above
    1024, or run() already called). */
MU_EXPORT MU_NODISCARD int mu_entrypoint_set_pool(mu_entrypoint_t *self, int size);

/*  Returns the entrypoint's pool while run() runs (from hooks, services,
    main), else NULL. */
MU_EXPORT mu_pool_t *mu_entrypoint_pool(const mu_entrypoint_t *self);

/*  Sets up logging for run(): ident (copied; NULL keeps the process's)
    becomes the process's log identity (mu_log_set_ident) when run()
    starts; level filters the entrypoint's own messages (the process-wide
    mu_log level filters them too). Returns 0 or MU_ENOMEM. */
MU_EXPORT MU_NODISCARD int mu_entrypoint_set_logging(mu_entrypoint_t *self, const char *ident,
                                                     mu_log_level_t level);

/*  Runs the services as described at the top of this header and returns 0
    after a clean stop (signal, mu_entrypoint_stop), or the first failure:
    a start() error, a mu_service_fail code, a hook error; MU_ETIMEDOUT when
    the start timeout expired or, with no earlier error, a stop() did not
    finish in time; another stop() error; MU_EINVAL when run() was already
    called on this entrypoint or another entrypoint is running. On failure
    mu_last_error() names the service and gives its detail ("input/output
    error: service 'db' failed: disk full"). */
MU_EXPORT MU_NODISCARD int mu_entrypoint_run(mu_entrypoint_t *self);

/*  The main of mu_entrypoint_run_main and mu_run: runs on run()'s thread
    once every service is ready; returns its result (>= 0, or a negative
    code). It should watch mu_entrypoint_stopping() and return soon once it
    is true: run() waits for main without limit. */
typedef int(mu_main_fn)(void *arg, mu_entrypoint_t *ep);

/*  Like mu_entrypoint_run, but once all services are ready (and the
    post_start hook succeeded) calls main_fn(arg, ep) on this thread instead
    of waiting for a signal, then stops the services when it returns.
    Returns the first error (as mu_entrypoint_run: a start failure, a
    service failure while main ran, main's own negative result, a stop
    error) or else main's result. A signal or a service failure while main
    runs only makes mu_entrypoint_stopping() true. */
MU_EXPORT MU_NODISCARD int mu_entrypoint_run_main(mu_entrypoint_t *self, mu_main_fn *main_fn,
                                                  void *arg);

/*  A service for mu_run: name, ops (both not NULL) and arg, as for
    mu_entrypoint_add. */
typedef struct {
    const char *name;
    const mu_service_ops_t *ops;
    void *arg;
} mu_service_def_t;

/*  Adds the service def describes (mu_entrypoint_add with its name, ops
    and arg). Same returns. */
MU_EXPORT MU_NODISCARD mu_service_t *mu_entrypoint_add_def(mu_entrypoint_t *self,
                                                           const mu_service_def_t *def);

/*  Runs main_fn(arg, ep) with the count services around it: creates an
    entrypoint with the default timeouts, adds the services, calls
    mu_entrypoint_run_main and destroys the entrypoint. Returns what
    mu_entrypoint_run_main returns, or an error of mu_entrypoint_new /
    mu_entrypoint_add. */
MU_EXPORT MU_NODISCARD int mu_run(mu_main_fn *main_fn, void *arg, const mu_service_def_t *services,
                                  size_t count);

/*  True once the entrypoint is asked to stop: a signal, mu_entrypoint_stop
    or a service failure. Thread-safe; for main and for services. */
MU_EXPORT bool mu_entrypoint_stopping(mu_entrypoint_t *self);

/*  Asks a running (or about to run) entrypoint to stop its services and
    return. Thread-safe and async-signal-safe. */
MU_EXPORT void mu_entrypoint_stop(mu_entrypoint_t *self);

/*  Returns the signal that stopped run() (SIGINT, SIGTERM) or 0. */
MU_EXPORT int mu_entrypoint_signal(const mu_entrypoint_t *self);

#ifdef __cplusplus
}
#endif
#endif
