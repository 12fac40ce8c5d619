/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_service.c — services and the entrypoint that runs them.
    The contract, including the SIGINT/SIGTERM policy, is in
    include/mu_service.h; the design in doc/service.md. */
#include "base/mu_internal.h"
#include "base/mu_sync.h"
#include <czmq.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ERROR_CAP 512
#define STOP_GRACE_MS MU_ENTRYPOINT_STOP_GRACE

typedef enum {
    SVC_NEW,      /* start() not called */
    SVC_STARTING, /* start() called, not ready yet */
    SVC_READY,
    SVC_FAILED,
    SVC_STOPPING /* stop() called or about to be: readiness is ignored */
} svc_state_t;

struct mu_service_t {
    mu_entrypoint_t *ep;
    char *name;
    mu_service_ops_t ops;
    void *arg;
    bool started;          /* start() returned 0 (run thread only) */
    svc_state_t state;     /* under ep->mutex */
    int fail_code;         /* under ep->mutex */
    char *fail_message;    /* under ep->mutex */
    int stop_timeout;      /* given to stop() */
    pthread_t stop_thread; /* runs stop() */
    bool stop_thread_live; /* not joined yet (run thread, destroy) */
    bool stop_done;        /* stop() returned, under ep->mutex */
    int stop_rc;           /* its return value, under ep->mutex */
    char *stop_detail;     /* the detail stop() recorded, under ep->mutex */
};

typedef struct {
    mu_hook_fn *fn;
    void *arg;
} hook_t;

struct mu_entrypoint_t {
    pthread_mutex_t mutex;
    pthread_cond_t stop_cv; /* a stop() returned */
    mu_service_t **services;
    size_t count, cap;
    int wake[2]; /* self-pipe: [0] polled by run, [1] written */
    hook_t hooks[MU_HOOK_POST_STOP + 1];
    int start_timeout, shutdown_timeout;
    char *ident;
    mu_log_level_t level;
    atomic_bool stop_requested;
    mu_service_t *failed; /* first failed service, under mutex */
    bool ran;
    int signal;            /* signal that stopped run */
    int rc;                /* first error recorded */
    char error[ERROR_CAP]; /* its detail */
};

/*  The running entrypoint's view for the signal handler. */
static volatile sig_atomic_t s_wake_fd = -1;
static volatile sig_atomic_t s_caught;
static atomic_bool s_running;

/* ------------------------------------------------------------------ */
/* Small helpers                                                       */

static void
wake(mu_entrypoint_t *ep)
{
    if (write(ep->wake[1], "w", 1) < 0) {
        /* full pipe: a wake-up is already pending, which is all we need */
    }
}

static void
drain(int fd)
{
    char buf[64];
    while (read(fd, buf, sizeof buf) > 0) {
    }
}

static void log_at(mu_entrypoint_t *ep, mu_log_level_t level, const char *fmt, ...) MU_PRINTF(3, 4);

static void
log_at(mu_entrypoint_t *ep, mu_log_level_t level, const char *fmt, ...)
{
    if (level > ep->level)
        return;
    char line[ERROR_CAP];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (level == MU_LOG_ERROR)
        zsys_error("%s", line);
    else if (level == MU_LOG_WARNING)
        zsys_warning("%s", line);
    else if (level == MU_LOG_INFO)
        zsys_info("%s", line);
    else
        zsys_debug("%s", line);
}

/*  Records the first error of a run: its code and detail (run() reports
    them with mu__fail when it returns); logs every error. */
static void record_error(mu_entrypoint_t *ep, int code, const char *fmt, ...) MU_PRINTF(3, 4);

static void
record_error(mu_entrypoint_t *ep, int code, const char *fmt, ...)
{
    char detail[ERROR_CAP];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    log_at(ep, MU_LOG_ERROR, "%s: %s", mu_strerror(code), detail);
    if (ep->rc < 0)
        return;
    ep->rc = code;
    snprintf(ep->error, sizeof ep->error, "%s", detail);
}

/*  ": detail" when detail is not NULL, else "". */
static const char *
sep(const char *detail)
{
    return detail ? ": " : "";
}

/* ------------------------------------------------------------------ */
/* Services                                                            */

void
mu_service_ready(mu_service_t *svc)
{
    assert(svc);
    mu_entrypoint_t *ep = svc->ep;
    pthread_mutex_lock(&ep->mutex);
    if (svc->state == SVC_STARTING)
        svc->state = SVC_READY;
    pthread_mutex_unlock(&ep->mutex);
    wake(ep);
}

/*  Marks svc failed unless it already failed or is stopping; under mutex. */
static void
mark_failed(mu_service_t *svc, int code, const char *message)
{
    if (svc->state == SVC_FAILED || svc->state == SVC_STOPPING)
        return;
    svc->state = SVC_FAILED;
    svc->fail_code = code;
    svc->fail_message = message ? strdup(message) : NULL;
    if (!svc->ep->failed)
        svc->ep->failed = svc;
}

void
mu_service_fail(mu_service_t *svc, int code, const char *message)
{
    assert(svc);
    assert(code < 0);
    mu_entrypoint_t *ep = svc->ep;
    pthread_mutex_lock(&ep->mutex);
    mark_failed(svc, code, message);
    pthread_mutex_unlock(&ep->mutex);
    wake(ep);
}

const char *
mu_service_name(const mu_service_t *svc)
{
    assert(svc);
    return svc->name;
}

void *
mu_service_arg(const mu_service_t *svc)
{
    assert(svc);
    return svc->arg;
}

static void
service_free(mu_service_t *svc)
{
    if (svc->stop_thread_live)
        pthread_join(svc->stop_thread, NULL); /* a stop() that overran */
    free(svc->name);
    free(svc->fail_message);
    free(svc->stop_detail);
    free(svc);
}

/* ------------------------------------------------------------------ */
/* Entrypoint set-up                                                   */

mu_entrypoint_t *
mu_entrypoint_new(void)
{
    mu_entrypoint_t *ep = calloc(1, sizeof *ep);
    if (!ep)
        return mu__fail_null(MU_ENOMEM, "entrypoint");
    if (pipe2(ep->wake, O_NONBLOCK | O_CLOEXEC) < 0) {
        int err = -errno;
        free(ep);
        return mu__fail_null(err, "entrypoint: self-pipe");
    }
    pthread_mutex_init(&ep->mutex, NULL);
    mu__cond_init(&ep->stop_cv);
    ep->start_timeout = MU_ENTRYPOINT_START_TIMEOUT_DEFAULT;
    ep->shutdown_timeout = MU_ENTRYPOINT_SHUTDOWN_TIMEOUT_DEFAULT;
    ep->level = MU_LOG_INFO;
    atomic_init(&ep->stop_requested, false);
    return ep;
}

void
mu_entrypoint_destroy(mu_entrypoint_t **self_p)
{
    assert(self_p);
    mu_entrypoint_t *ep = *self_p;
    if (!ep)
        return;
    for (size_t i = 0; i < ep->count; i++)
        service_free(ep->services[i]);
    free(ep->services);
    free(ep->ident);
    close(ep->wake[0]);
    close(ep->wake[1]);
    pthread_cond_destroy(&ep->stop_cv);
    pthread_mutex_destroy(&ep->mutex);
    free(ep);
    *self_p = NULL;
}

mu_service_t *
mu_entrypoint_add(mu_entrypoint_t *self, const char *name, const mu_service_ops_t *ops, void *arg)
{
    assert(self && name && ops && ops->start && ops->stop);
    if (!*name)
        return mu__fail_null(MU_EINVAL, "a service needs a name");
    if (self->ran)
        return mu__fail_null(MU_EINVAL, "service '%s' added after run()", name);
    if (self->count == self->cap) {
        size_t cap = self->cap ? self->cap * 2 : 8;
        mu_service_t **grown = realloc(self->services, cap * sizeof *grown);
        if (!grown)
            return mu__fail_null(MU_ENOMEM, "service '%s'", name);
        self->services = grown;
        self->cap = cap;
    }
    mu_service_t *svc = calloc(1, sizeof *svc);
    if (!svc || !(svc->name = strdup(name))) {
        free(svc);
        return mu__fail_null(MU_ENOMEM, "service '%s'", name);
    }
    svc->ep = self;
    svc->ops = *ops;
    svc->arg = arg;
    svc->state = SVC_NEW;
    self->services[self->count++] = svc;
    return svc;
}

void
mu_entrypoint_set_hook(mu_entrypoint_t *self, mu_hook_t hook, mu_hook_fn *fn, void *arg)
{
    assert(self);
    assert((int) hook >= MU_HOOK_PRE_START && hook <= MU_HOOK_POST_STOP);
    self->hooks[hook].fn = fn;
    self->hooks[hook].arg = arg;
}

/*  Checks a phase timeout (-1: no limit) before it is stored in *slot. */
static int
set_timeout(int *slot, int timeout_ms, const char *what)
{
    if (timeout_ms < -1)
        return mu__fail(MU_EINVAL, "%s timeout %d ms", what, timeout_ms);
    *slot = timeout_ms;
    return 0;
}

int
mu_entrypoint_set_start_timeout(mu_entrypoint_t *self, int timeout_ms)
{
    assert(self);
    return set_timeout(&self->start_timeout, timeout_ms, "start");
}

int
mu_entrypoint_set_shutdown_timeout(mu_entrypoint_t *self, int timeout_ms)
{
    assert(self);
    return set_timeout(&self->shutdown_timeout, timeout_ms, "shutdown");
}

int
mu_entrypoint_set_logging(mu_entrypoint_t *self, const char *ident, mu_log_level_t level)
{
    assert(self);
    assert((int) level >= MU_LOG_QUIET && level <= MU_LOG_DEBUG);
    char *copy = NULL;
    if (ident && !(copy = strdup(ident)))
        return mu__fail(MU_ENOMEM, "log identity");
    free(self->ident);
    self->ident = copy;
    self->level = level;
    return 0;
}

void
mu_entrypoint_stop(mu_entrypoint_t *self)
{
    assert(self);
    atomic_store(&self->stop_requested, true);
    wake(self);
}

int
mu_entrypoint_signal(const mu_entrypoint_t *self)
{
    assert(self);
    return self->signal;
}

/* ------------------------------------------------------------------ */
/* Signals                                                             */

static void
on_signal(int sig)
{
    int saved = errno;
    if (!s_caught)
        s_caught = sig;
    int fd = s_wake_fd;
    if (fd >= 0 && write(fd, "s", 1) < 0) {
        /* pipe full: a wake-up is pending already */
    }
    errno = saved;
}

typedef struct {
    struct sigaction old_int, old_term;
} saved_signals_t;

static void
signals_take(mu_entrypoint_t *ep, saved_signals_t *saved)
{
    s_caught = 0;
    s_wake_fd = ep->wake[1];
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = on_signal;
    action.sa_flags = SA_RESTART;
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, &saved->old_int);
    sigaction(SIGTERM, &action, &saved->old_term);
}

static void
signals_give_back(const saved_signals_t *saved)
{
    sigaction(SIGINT, &saved->old_int, NULL);
    sigaction(SIGTERM, &saved->old_term, NULL);
    s_wake_fd = -1;
}

/* ------------------------------------------------------------------ */
/* Run phases                                                          */

/*  True when a signal or mu_entrypoint_stop asks run to stop. */
static bool
stop_asked(mu_entrypoint_t *ep)
{
    if (s_caught && !ep->signal)
        ep->signal = s_caught;
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
        record_error(ep, rc, "%s hook failed%s%s", name, sep(detail), detail ? detail : "");
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
    record_error(ep, code, "service '%s' failed%s%s%s", svc->name, when, sep(message),
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

/*  Calls every start() in order, without waiting for readiness; stops
    calling them at the first failure or stop request. */
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
        log_at(ep, MU_LOG_DEBUG, "starting service '%s'", svc->name);
        unsigned long fails = mu__fail_count();
        int rc = svc->ops.start(svc->arg, svc);
        if (rc < 0) {
            pthread_mutex_lock(&ep->mutex);
            mark_failed(svc, rc, mu__detail_since(fails, rc));
            pthread_mutex_unlock(&ep->mutex);
            return;
        }
        svc->started = true;
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
    record_error(ep, MU_ETIMEDOUT, "service '%s' not ready within the start timeout (%d ms)", name,
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
        drain(ep->wake[0]);
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
            record_error(ep, err, "entrypoint: poll");
            return err;
        }
    }
}

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

/*  Stops one service with what is left of the shutdown deadline; past the
    deadline, with 0 and a short grace. */
static void
stop_one(mu_entrypoint_t *ep, mu_service_t *svc, int64_t deadline)
{
    pthread_mutex_lock(&ep->mutex);
    svc->state = SVC_STOPPING;
    pthread_mutex_unlock(&ep->mutex);
    log_at(ep, MU_LOG_DEBUG, "stopping service '%s'", svc->name);
    svc->stop_timeout = mu__remaining_ms(deadline);
    int64_t wait_until = svc->stop_timeout != 0 ? deadline : mu__now_ms() + STOP_GRACE_MS;
    int rc = 0;
    if (!call_stop(ep, svc, wait_until, &rc) || rc == MU_ETIMEDOUT)
        record_error(ep, MU_ETIMEDOUT,
                     "service '%s' did not stop within the shutdown timeout (%d ms)", svc->name,
                     ep->shutdown_timeout);
    else if (rc < 0)
        record_error(ep, rc, "service '%s' failed to stop%s%s", svc->name, sep(svc->stop_detail),
                     svc->stop_detail ? svc->stop_detail : "");
    else
        log_at(ep, MU_LOG_INFO, "service '%s' stopped", svc->name);
}

/*  Stops the started services in reverse order, between the stop hooks. */
static void
stop_all(mu_entrypoint_t *ep)
{
    int64_t deadline = mu__deadline_ms(ep->shutdown_timeout);
    run_hook(ep, MU_HOOK_PRE_STOP, "pre_stop");
    for (size_t i = ep->count; i-- > 0;)
        if (ep->services[i]->started)
            stop_one(ep, ep->services[i], deadline);
    run_hook(ep, MU_HOOK_POST_STOP, "post_stop");
}

static void
run_phases(mu_entrypoint_t *ep)
{
    if (run_hook(ep, MU_HOOK_PRE_START, "pre_start") < 0)
        return;
    start_all(ep);
    int rc = wait_event(ep, true, mu__deadline_ms(ep->start_timeout));
    if (rc == 0) {
        log_at(ep, MU_LOG_INFO, "all %zu services ready", ep->count);
        if (run_hook(ep, MU_HOOK_POST_START, "post_start") == 0)
            rc = wait_event(ep, false, -1);
    }
    if (ep->signal)
        log_at(ep, MU_LOG_INFO, "signal %d: stopping", ep->signal);
    stop_all(ep);
}

int
mu_entrypoint_run(mu_entrypoint_t *self)
{
    assert(self);
    if (self->ran)
        return mu__fail(MU_EINVAL, "run() was already called on this entrypoint");
    if (atomic_exchange(&s_running, true))
        return mu__fail(MU_EINVAL, "another entrypoint is running");
    self->ran = true;
    zsys_init(); /* czmq's handler, if enabled, goes in now, under ours */
    if (self->ident)
        zsys_set_logident(self->ident);
    saved_signals_t saved;
    signals_take(self, &saved);
    if (zsys_interrupted) /* a signal reached czmq's handler before ours */
        atomic_store(&self->stop_requested, true);
    run_phases(self);
    signals_give_back(&saved);
    atomic_store(&s_running, false);
    return self->rc < 0 ? mu__fail(self->rc, "%s", self->error) : 0;
}
