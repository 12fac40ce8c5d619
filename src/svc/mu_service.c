/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_service.c — services, the entrypoint's set-up, its signal handling
    and logging. The run phases are in mu_service_run.c. The contract,
    including the SIGINT/SIGTERM policy, is in include/mu_service.h; the
    design in doc/service.md. */
#include "svc/mu_service_int.h"
#include "base/mu_sync.h"
#include <czmq.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

/*  The running entrypoint's view for the signal handler. */
static volatile sig_atomic_t s_wake_fd = -1;
static volatile sig_atomic_t s_caught;
static atomic_bool s_running;
static struct sigaction s_old_int, s_old_term;

/* ------------------------------------------------------------------ */
/* Small helpers                                                       */

void
mu__svc_wake(mu_entrypoint_t *ep)
{
    if (write(ep->wake[1], "w", 1) < 0) {
        /* full pipe: a wake-up is already pending, which is all we need */
    }
}

void
mu__svc_drain(int fd)
{
    char buf[64];
    while (read(fd, buf, sizeof buf) > 0) {
    }
}

void
mu__svc_log(mu_entrypoint_t *ep, mu_log_level_t level, const char *fmt, ...)
{
    if (level > ep->level)
        return;
    char line[MU__SVC_ERROR_CAP];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    mu_log(level, "svc", "%s", line);
}

void
mu__svc_error(mu_entrypoint_t *ep, int code, const char *fmt, ...)
{
    char detail[MU__SVC_ERROR_CAP];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    mu__svc_log(ep, MU_LOG_ERROR, "%s: %s", mu_strerror(code), detail);
    if (ep->rc < 0)
        return;
    ep->rc = code;
    snprintf(ep->error, sizeof ep->error, "%s", detail);
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
    mu__svc_wake(ep);
}

void
mu__svc_mark_failed(mu_service_t *svc, int code, const char *message)
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
    mu__svc_mark_failed(svc, code, message);
    pthread_mutex_unlock(&ep->mutex);
    mu__svc_wake(ep);
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

void
mu__svc_raise_stop(mu_service_t *svc)
{
    if (atomic_exchange(&svc->stop_raised, true))
        return;
    uint64_t one = 1;
    if (write(svc->stop_fd, &one, sizeof one) < 0) {
        /* cannot overflow: written once */
    }
}

bool
mu_service_stopping(const mu_service_t *svc)
{
    assert(svc);
    return atomic_load(&svc->stop_raised);
}

int
mu_service_stop_fd(const mu_service_t *svc)
{
    assert(svc);
    return svc->stop_fd;
}

int
mu_service_wait_stop(mu_service_t *svc, int timeout_ms)
{
    assert(svc);
    int64_t deadline = mu__deadline_ms(timeout_ms);
    for (;;) {
        if (atomic_load(&svc->stop_raised))
            return 0;
        int left = mu__remaining_ms(deadline);
        if (left == 0)
            return timeout_ms == 0 ? MU_EAGAIN : MU_ETIMEDOUT;
        struct pollfd item = { .fd = svc->stop_fd, .events = POLLIN };
        if (poll(&item, 1, left) < 0 && errno != EINTR)
            return mu__fail(-errno, "service '%s': poll", svc->name);
    }
}

mu_entrypoint_t *
mu_service_entrypoint(const mu_service_t *svc)
{
    assert(svc);
    return svc->ep;
}

static void
service_free(mu_service_t *svc)
{
    if (svc->stop_thread_live)
        pthread_join(svc->stop_thread, NULL); /* a stop() that overran */
    if (svc->stop_fd >= 0)
        close(svc->stop_fd);
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
    atomic_init(&ep->refs, 1);
    pthread_mutex_init(&ep->mutex, NULL);
    mu__cond_init(&ep->stop_cv);
    ep->start_timeout = MU_ENTRYPOINT_START_TIMEOUT_DEFAULT;
    ep->shutdown_timeout = MU_ENTRYPOINT_SHUTDOWN_TIMEOUT_DEFAULT;
    ep->level = MU_LOG_INFO;
    ep->pool_size = -1;
    atomic_init(&ep->stop_requested, false);
    return ep;
}

void
mu__svc_ref(mu_entrypoint_t *ep)
{
    atomic_fetch_add(&ep->refs, 1);
}

void
mu__svc_unref(mu_entrypoint_t *ep)
{
    if (atomic_fetch_sub(&ep->refs, 1) != 1)
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
}

void
mu_entrypoint_destroy(mu_entrypoint_t **self_p)
{
    assert(self_p);
    if (*self_p)
        mu__svc_unref(*self_p); /* an abandoned start() keeps it until it returns */
    *self_p = NULL;
}

mu_service_t *
mu_entrypoint_add(mu_entrypoint_t *self, const char *name, const mu_service_ops_t *ops, void *arg)
{
    assert(self && name && ops && ops->start);
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
    svc->stop_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (svc->stop_fd < 0) {
        int err = -errno;
        free(svc->name);
        free(svc);
        return mu__fail_null(err, "service '%s': eventfd", name);
    }
    atomic_init(&svc->stop_raised, false);
    svc->ep = self;
    svc->ops = *ops;
    svc->arg = arg;
    svc->state = SVC_NEW;
    self->services[self->count++] = svc;
    return svc;
}

mu_service_t *
mu_entrypoint_add_def(mu_entrypoint_t *self, const mu_service_def_t *def)
{
    assert(def);
    return mu_entrypoint_add(self, def->name, def->ops, def->arg);
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
mu_entrypoint_set_pool(mu_entrypoint_t *self, int size)
{
    assert(self);
    if (size < -1 || size > 1024)
        return mu__fail(MU_EINVAL, "pool size %d (-1, 0 or 1..1024)", size);
    if (self->ran)
        return mu__fail(MU_EINVAL, "pool set after run()");
    self->pool_size = size;
    return 0;
}

mu_pool_t *
mu_entrypoint_pool(const mu_entrypoint_t *self)
{
    assert(self);
    return self->pool;
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
    return 0; /* the identity becomes the process's when run() starts */
}

void
mu_entrypoint_stop(mu_entrypoint_t *self)
{
    assert(self);
    atomic_store(&self->stop_requested, true);
    mu__svc_wake(self);
}

int
mu_entrypoint_signal(const mu_entrypoint_t *self)
{
    assert(self);
    return self->signal;
}

bool
mu_entrypoint_stopping(mu_entrypoint_t *self)
{
    assert(self);
    if (atomic_load(&self->stop_requested) || self->signal || (atomic_load(&s_running) && s_caught))
        return true;
    pthread_mutex_lock(&self->mutex);
    bool failed = self->failed != NULL;
    pthread_mutex_unlock(&self->mutex);
    return failed;
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

int
mu__svc_caught(void)
{
    return s_caught;
}

void
mu__svc_signals_take(mu_entrypoint_t *ep)
{
    s_caught = 0;
    s_wake_fd = ep->wake[1];
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = on_signal;
    action.sa_flags = SA_RESTART;
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, &s_old_int);
    sigaction(SIGTERM, &action, &s_old_term);
}

void
mu__svc_signals_give_back(void)
{
    sigaction(SIGINT, &s_old_int, NULL);
    sigaction(SIGTERM, &s_old_term, NULL);
    s_wake_fd = -1;
}

bool
mu__svc_claim(void)
{
    return !atomic_exchange(&s_running, true);
}

void
mu__svc_release(void)
{
    atomic_store(&s_running, false);
}
