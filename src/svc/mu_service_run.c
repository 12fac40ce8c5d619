/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_service_run.c — the entrypoint's run phases: concurrent start() calls
    on threads of their own under one start timeout, the wait, the stop in
    reverse order under one shutdown timeout, the main of
    mu_entrypoint_run_main and mu_run. The contract is in
    include/mu_service.h; the design in doc/service.md. */
#include "svc/mu_service_int.h"
#include "base/mu_sync.h"
#include <czmq.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define STOP_GRACE_MS MU_ENTRYPOINT_STOP_GRACE

/*  ": detail" when detail is not NULL, else "". */
static const char *
sep(const char *detail)
{
    return detail ? ": " : "";
}

/*  True when a signal or mu_entrypoint_stop asks run to stop. */
static bool
stop_asked(mu_entrypoint_t *ep)
{
    int caught = mu__svc_caught();
    if (caught && !ep->signal)
        ep->signal = caught;
    return ep->signal || atomic_load(&ep->stop_requested);
}

static int
run_hook(mu_entrypoint_t *ep, mu_hook_t hook, const char *name)
{
    if (!ep->hooks[hook].fn)
        return 0;
    unsigned long fails = mu__fail_count();
    int rc = ep->hooks[hook].fn(ep->hooks[hook].arg, ep);
    if (rc < 0) {
        const char *detail = mu__detail_since(fails, rc);
        mu__svc_error(ep, rc, "%s hook failed%s%s", name, sep(detail), detail ? detail : "");
    }
    return rc;
}

/*  Records the failure of ep->failed as the run's error. */
static int
report_failure(mu_entrypoint_t *ep, const char *when)
{
    pthread_mutex_lock(&ep->mutex);
    mu_service_t *svc = ep->failed;
    int code = svc->fail_code;
    const char *message = svc->fail_message;
    mu__svc_error(ep, code, "service '%s' failed%s%s%s", svc->name, when, sep(message),
                  message ? message : "");
    pthread_mutex_unlock(&ep->mutex);
    return code;
}

static bool
has_failure(mu_entrypoint_t *ep)
{
    pthread_mutex_lock(&ep->mutex);
    bool failed = ep->failed != NULL;
    pthread_mutex_unlock(&ep->mutex);
    return failed;
}

/* ------------------------------------------------------------------ */
/* Start phase                                                         */

/*  A service's start thread: calls start(), records its result, wakes
    run(). Holds a reference to the entrypoint, so that a start() abandoned
    past the shutdown timeout may return after mu_entrypoint_destroy. */
static void *
start_main(void *arg)
{
    mu_service_t *svc = arg;
    mu_entrypoint_t *ep = svc->ep;
    unsigned long fails = mu__fail_count();
    int rc = svc->ops.start(svc->arg, svc);
    const char *detail = rc < 0 ? mu__detail_since(fails, rc) : NULL;
    pthread_mutex_lock(&ep->mutex);
    svc->start_done = true;
    svc->start_rc = rc;
    if (rc < 0)
        mu__svc_mark_failed(svc, rc, detail);
    pthread_cond_broadcast(&ep->stop_cv);
    pthread_mutex_unlock(&ep->mutex);
    mu__svc_wake(ep);
    mu__svc_unref(ep);
    return NULL;
}

/*  Makes every service's start thread, in order, without waiting for
    readiness; stops making them at the first failure or stop request. */
static void
start_all(mu_entrypoint_t *ep)
{
    for (size_t i = 0; i < ep->count; i++) {
        if (has_failure(ep) || stop_asked(ep))
            return;
        mu_service_t *svc = ep->services[i];
        pthread_mutex_lock(&ep->mutex);
        svc->state = SVC_STARTING;
        pthread_mutex_unlock(&ep->mutex);
        mu__svc_log(ep, MU_LOG_DEBUG, "starting service '%s'", svc->name);
        mu__svc_ref(ep);
        int err = pthread_create(&svc->start_thread, NULL, start_main, svc);
        if (err != 0) {
            mu__svc_unref(ep);
            pthread_mutex_lock(&ep->mutex);
            mu__svc_mark_failed(svc, -err, "no thread for start()");
            pthread_mutex_unlock(&ep->mutex);
            return;
        }
        svc->start_called = true;
        svc->start_live = true;
    }
}

/*  Names the first service not ready in the error message. */
static int
report_start_timeout(mu_entrypoint_t *ep)
{
    const char *name = "?";
    pthread_mutex_lock(&ep->mutex);
    for (size_t i = 0; i < ep->count; i++)
        if (ep->services[i]->state != SVC_READY) {
            name = ep->services[i]->name;
            break;
        }
    mu__svc_error(ep, MU_ETIMEDOUT, "service '%s' not ready within the start timeout (%d ms)", name,
                  ep->start_timeout);
    pthread_mutex_unlock(&ep->mutex);
    return MU_ETIMEDOUT;
}

static bool
all_ready(mu_entrypoint_t *ep)
{
    bool ready = true;
    pthread_mutex_lock(&ep->mutex);
    for (size_t i = 0; i < ep->count && ready; i++)
        ready = ep->services[i]->state == SVC_READY;
    pthread_mutex_unlock(&ep->mutex);
    return ready;
}

/*  Waits on the self-pipe until a service failed (its code), a stop is
    asked (1), all are ready when until_ready (0) or the deadline passes
    (MU_ETIMEDOUT). */
static int
wait_event(mu_entrypoint_t *ep, bool until_ready, int64_t deadline)
{
    for (;;) {
        mu__svc_drain(ep->wake[0]);
        if (has_failure(ep)) /* before a stop request: a failure is never hidden */
            return report_failure(ep, until_ready ? " to start" : "");
        if (stop_asked(ep))
            return 1;
        if (until_ready && all_ready(ep))
            return 0;
        int left = mu__remaining_ms(deadline);
        if (left == 0)
            return report_start_timeout(ep);
        struct pollfd item = { .fd = ep->wake[0], .events = POLLIN };
        if (poll(&item, 1, left) < 0 && errno != EINTR) {
            int err = -errno;
            mu__svc_error(ep, err, "entrypoint: poll");
            return err;
        }
    }
}

/* ------------------------------------------------------------------ */
/* Stop phase                                                          */

/*  Calls svc's stop(); keeps a copy of the detail it recorded, if any. */
static int
stop_call(mu_service_t *svc, char **detail_p)
{
    unsigned long fails = mu__fail_count();
    int rc = svc->ops.stop(svc->arg, svc, svc->stop_timeout);
    const char *detail = mu__detail_since(fails, rc);
    *detail_p = detail ? strdup(detail) : NULL;
    return rc;
}

static void *
stop_main(void *arg)
{
    mu_service_t *svc = arg;
    char *detail;
    int rc = stop_call(svc, &detail);
    pthread_mutex_lock(&svc->ep->mutex);
    svc->stop_rc = rc;
    svc->stop_detail = detail;
    svc->stop_done = true;
    pthread_cond_broadcast(&svc->ep->stop_cv);
    pthread_mutex_unlock(&svc->ep->mutex);
    return NULL;
}

/*  Calls stop() on a thread of its own and waits for it until wait_until.
    Returns true and its return value in *rc_p when it returned in time; a
    stop() still running is joined by mu_entrypoint_destroy. */
static bool
call_stop(mu_entrypoint_t *ep, mu_service_t *svc, int64_t wait_until, int *rc_p)
{
    if (pthread_create(&svc->stop_thread, NULL, stop_main, svc) != 0) {
        *rc_p = stop_call(svc, &svc->stop_detail); /* no thread: inline */
        return true;
    }
    svc->stop_thread_live = true;
    pthread_mutex_lock(&ep->mutex);
    while (!svc->stop_done && mu__cond_wait_until(&ep->stop_cv, &ep->mutex, wait_until)) {
    }
    bool done = svc->stop_done;
    *rc_p = svc->stop_rc;
    pthread_mutex_unlock(&ep->mutex);
    if (done) {
        pthread_join(svc->stop_thread, NULL);
        svc->stop_thread_live = false;
    }
    return done;
}

/*  The deadline of one service's stop: the shutdown deadline, or a short
    grace once it has passed. */
static int64_t
wait_until_for(int64_t deadline)
{
    return mu__remaining_ms(deadline) != 0 ? deadline : mu__now_ms() + STOP_GRACE_MS;
}

/*  Waits until svc's start() has returned (true) or wait_until passed
    (false: the start thread is detached and abandoned). */
static bool
join_start(mu_entrypoint_t *ep, mu_service_t *svc, int64_t wait_until, int *rc_p)
{
    pthread_mutex_lock(&ep->mutex);
    while (!svc->start_done && mu__cond_wait_until(&ep->stop_cv, &ep->mutex, wait_until)) {
    }
    bool done = svc->start_done;
    *rc_p = svc->start_rc;
    pthread_mutex_unlock(&ep->mutex);
    if (done)
        pthread_join(svc->start_thread, NULL);
    else
        pthread_detach(svc->start_thread);
    svc->start_live = false;
    return done;
}

/*  Stops one service whose start() was called: raises its stop event,
    waits for its start() to return (a forever service's does now), then
    calls its stop() if it has one and its start() returned 0. */
static void
stop_one(mu_entrypoint_t *ep, mu_service_t *svc, int64_t deadline)
{
    pthread_mutex_lock(&ep->mutex);
    svc->state = SVC_STOPPING;
    pthread_mutex_unlock(&ep->mutex);
    mu__svc_raise_stop(svc);
    mu__svc_log(ep, MU_LOG_DEBUG, "stopping service '%s'", svc->name);
    int rc = 0;
    if (!join_start(ep, svc, wait_until_for(deadline), &rc)) {
        mu__svc_error(ep, MU_ETIMEDOUT,
                      "service '%s' start() still running after the shutdown timeout (%d ms): "
                      "abandoned",
                      svc->name, ep->shutdown_timeout);
        return;
    }
    if (rc < 0 || !svc->ops.stop)
        return; /* a failed start() holds nothing; no stop() to call */
    svc->stop_timeout = mu__remaining_ms(deadline);
    if (!call_stop(ep, svc, wait_until_for(deadline), &rc) || rc == MU_ETIMEDOUT)
        mu__svc_error(ep, MU_ETIMEDOUT,
                      "service '%s' did not stop within the shutdown timeout (%d ms)", svc->name,
                      ep->shutdown_timeout);
    else if (rc < 0)
        mu__svc_error(ep, rc, "service '%s' failed to stop%s%s", svc->name, sep(svc->stop_detail),
                      svc->stop_detail ? svc->stop_detail : "");
    else
        mu__svc_log(ep, MU_LOG_INFO, "service '%s' stopped", svc->name);
}

/*  Stops the started services in reverse order, between the stop hooks. */
static void
stop_all(mu_entrypoint_t *ep)
{
    int64_t deadline = mu__deadline_ms(ep->shutdown_timeout);
    run_hook(ep, MU_HOOK_PRE_STOP, "pre_stop");
    for (size_t i = ep->count; i-- > 0;)
        if (ep->services[i]->start_called)
            stop_one(ep, ep->services[i], deadline);
    run_hook(ep, MU_HOOK_POST_STOP, "post_stop");
}

/* ------------------------------------------------------------------ */
/* Run                                                                 */

/*  Runs main on run()'s thread; a negative result is the run's error. */
static int
run_main_fn(mu_entrypoint_t *ep, mu_main_fn *main_fn, void *arg)
{
    unsigned long fails = mu__fail_count();
    int rc = main_fn(arg, ep);
    if (rc < 0) {
        const char *detail = mu__detail_since(fails, rc);
        mu__svc_error(ep, rc, "main failed%s%s", sep(detail), detail ? detail : "");
    }
    if (has_failure(ep))
        report_failure(ep, "");
    stop_asked(ep);
    return rc;
}

static int
run_phases(mu_entrypoint_t *ep, mu_main_fn *main_fn, void *arg)
{
    int main_rc = 0;
    if (run_hook(ep, MU_HOOK_PRE_START, "pre_start") < 0)
        return 0;
    start_all(ep);
    int rc = wait_event(ep, true, mu__deadline_ms(ep->start_timeout));
    if (rc == 0) {
        mu__svc_log(ep, MU_LOG_INFO, "all %zu services ready", ep->count);
        if (run_hook(ep, MU_HOOK_POST_START, "post_start") == 0) {
            if (main_fn)
                main_rc = run_main_fn(ep, main_fn, arg);
            else
                wait_event(ep, false, -1);
        }
    }
    if (ep->signal)
        mu__svc_log(ep, MU_LOG_INFO, "signal %d: stopping", ep->signal);
    stop_all(ep);
    return main_rc;
}

static int
make_pool(mu_entrypoint_t *ep)
{
    if (ep->pool_size < 0)
        return 0;
    ep->pool = mu_pool_new(ep->pool_size, 0);
    if (!ep->pool)
        mu__svc_error(ep, mu_last_code(), "entrypoint pool: %s", mu_last_error());
    return ep->pool ? 0 : ep->rc;
}

static int
run_with(mu_entrypoint_t *self, mu_main_fn *main_fn, void *arg)
{
    assert(self);
    if (self->ran)
        return mu__fail(MU_EINVAL, "run() was already called on this entrypoint");
    if (!mu__svc_claim())
        return mu__fail(MU_EINVAL, "another entrypoint is running");
    self->ran = true;
    zsys_init(); /* czmq's handler, if enabled, goes in now, under ours */
    if (self->ident && mu_log_set_ident(self->ident) != 0)
        mu__svc_log(self, MU_LOG_WARNING, "log identity not set: out of memory");
    mu__svc_signals_take(self);
    if (zsys_interrupted) /* a signal reached czmq's handler before ours */
        atomic_store(&self->stop_requested, true);
    int main_rc = 0;
    if (make_pool(self) == 0)
        main_rc = run_phases(self, main_fn, arg);
    mu_pool_destroy(&self->pool);
    mu__svc_signals_give_back();
    mu__svc_release();
    if (main_rc > 0 && self->rc == 0)
        return main_rc;
    return self->rc < 0 ? mu__fail(self->rc, "%s", self->error) : 0;
}

int
mu_entrypoint_run(mu_entrypoint_t *self)
{
    return run_with(self, NULL, NULL);
}

int
mu_entrypoint_run_main(mu_entrypoint_t *self, mu_main_fn *main_fn, void *arg)
{
    assert(main_fn);
    return run_with(self, main_fn, arg);
}

int
mu_run(mu_main_fn *main_fn, void *arg, const mu_service_def_t *services, size_t count)
{
    assert(main_fn && (services || count == 0));
    mu_entrypoint_t *ep = mu_entrypoint_new();
    if (!ep)
        return mu_last_code();
    int rc = 0;
    for (size_t i = 0; i < count && rc == 0; i++)
        if (!mu_entrypoint_add(ep, services[i].name, services[i].ops, services[i].arg))
            rc = mu_last_code();
    if (rc == 0)
        rc = mu_entrypoint_run_main(ep, main_fn, arg);
    mu_entrypoint_destroy(&ep);
    return rc;
}
