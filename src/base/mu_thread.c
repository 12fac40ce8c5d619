/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_thread.c — a fresh thread per call (mu_thread_spawn/wait/call). The
    contract is in include/mu_pool.h. */
#include "base/mu_internal.h"
#include "base/mu_sync.h"
#include "mu_pool.h"
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

struct mu_thread_t {
    atomic_int refs; /* the handle's and the running thread's */
    pthread_mutex_t mutex;
    pthread_cond_t done_cv;
    bool done; /* fn returned, under mutex */
    void *result;
    int efd; /* readable once done */
    pthread_t thread;
    mu_job_fn *fn;
    void *arg;
};

static void
unref(mu_thread_t *t)
{
    if (atomic_fetch_sub(&t->refs, 1) != 1)
        return;
    close(t->efd);
    pthread_cond_destroy(&t->done_cv);
    pthread_mutex_destroy(&t->mutex);
    free(t);
}

static void *
thread_main(void *arg)
{
    mu_thread_t *t = arg;
    void *result = t->fn(t->arg);
    pthread_mutex_lock(&t->mutex);
    t->result = result;
    t->done = true;
    pthread_cond_broadcast(&t->done_cv);
    pthread_mutex_unlock(&t->mutex);
    uint64_t one = 1;
    if (write(t->efd, &one, sizeof one) < 0) {
        /* cannot overflow: written once */
    }
    unref(t);
    return NULL;
}

mu_thread_t *
mu_thread_spawn(mu_job_fn *fn, void *arg)
{
    assert(fn);
    mu_thread_t *t = calloc(1, sizeof *t);
    if (!t)
        return mu__fail_null(MU_ENOMEM, "thread");
    t->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (t->efd < 0) {
        int err = -errno;
        free(t);
        return mu__fail_null(err, "thread: eventfd");
    }
    atomic_init(&t->refs, 2);
    pthread_mutex_init(&t->mutex, NULL);
    mu__cond_init(&t->done_cv);
    t->fn = fn;
    t->arg = arg;
    int err = pthread_create(&t->thread, NULL, thread_main, t);
    if (err != 0) {
        atomic_store(&t->refs, 1);
        unref(t);
        return mu__fail_null(-err, "thread: pthread_create");
    }
    return t;
}

int
mu_thread_wait(mu_thread_t *self, int timeout_ms, void **result_p)
{
    assert(self);
    int64_t deadline = mu__deadline_ms(timeout_ms);
    pthread_mutex_lock(&self->mutex);
    while (!self->done && timeout_ms != 0
           && mu__cond_wait_until(&self->done_cv, &self->mutex, deadline)) {
    }
    bool done = self->done;
    if (done && result_p)
        *result_p = self->result;
    pthread_mutex_unlock(&self->mutex);
    if (done)
        return 0;
    return timeout_ms == 0 ? MU_EAGAIN : MU_ETIMEDOUT;
}

int
mu_thread_fd(const mu_thread_t *self)
{
    assert(self);
    return self->efd;
}

void
mu_thread_destroy(mu_thread_t **self_p)
{
    assert(self_p);
    mu_thread_t *t = *self_p;
    if (!t)
        return;
    pthread_mutex_lock(&t->mutex);
    bool done = t->done;
    pthread_mutex_unlock(&t->mutex);
    if (done)
        pthread_join(t->thread, NULL);
    else
        pthread_detach(t->thread); /* it frees the rest when fn returns */
    unref(t);
    *self_p = NULL;
}

int
mu_thread_call(mu_job_fn *fn, void *arg, int timeout_ms, void **result_p)
{
    mu_thread_t *t = mu_thread_spawn(fn, arg);
    if (!t)
        return mu_last_code();
    int rc = mu_thread_wait(t, timeout_ms, result_p);
    mu_thread_destroy(&t);
    if (rc < 0)
        return mu__fail(rc, "thread call: fn still running after %d ms (left to finish)",
                        timeout_ms);
    return 0;
}
