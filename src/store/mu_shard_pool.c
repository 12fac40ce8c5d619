/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_shard_pool.c — the fan-out of all-shard calls: threads - 1 workers
    and the calling thread take shards from one counter until none is left.
    Why not mu_pool: see doc/shard.md. */
#include "store/mu_shard_int.h"
#include "base/mu_sync.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- thread pool -------------------------------------------------------------------- */

/*  Runs items of the current job until none is left; called and returns
    with pool->mu held. */
static void
pool_work(mu_shard_t *self)
{
    pool_t *p = &self->pool;
    while (p->next < p->total) {
        size_t i = p->next++;
        pthread_mutex_unlock(&p->mu);
        p->fn(self, i, p->arg);
        pthread_mutex_lock(&p->mu);
        if (++p->finished == p->total)
            pthread_cond_broadcast(&p->done);
    }
}

static void *
pool_main(void *arg)
{
    mu_shard_t *self = arg;
    pool_t *p = &self->pool;
    uint64_t seen = 0;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (!p->stop && p->gen == seen)
            pthread_cond_wait(&p->wake, &p->mu);
        if (p->stop)
            break;
        seen = p->gen;
        pool_work(self);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

/*  Starts threads-1 workers with every asynchronous signal blocked. */
int
mu__shard_pool_start(mu_shard_t *self)
{
    pool_t *p = &self->pool;
    pthread_mutex_init(&p->mu, NULL);
    pthread_mutex_init(&p->call, NULL);
    pthread_cond_init(&p->wake, NULL);
    pthread_cond_init(&p->done, NULL);
    self->pool_up = true;
    size_t want = self->threads > 1 ? self->threads - 1 : 0;
    p->threads = want ? calloc(want, sizeof *p->threads) : NULL;
    if (want && p->threads == NULL)
        return mu__fail(MU_ENOMEM, "out of memory");
    int rc = 0;
    for (; p->nthreads < want && rc == 0; p->nthreads++)
        rc = mu__thread_create_blocking(&p->threads[p->nthreads], pool_main, self);
    if (rc != 0)
        p->nthreads--;
    return rc ? mu__fail(-rc, "starting the thread pool: %s", strerror(rc)) : 0;
}

void
mu__shard_pool_stop(mu_shard_t *self)
{
    pool_t *p = &self->pool;
    if (!self->pool_up)
        return;
    pthread_mutex_lock(&p->mu);
    p->stop = true;
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->mu);
    for (size_t i = 0; i < p->nthreads; i++)
        pthread_join(p->threads[i], NULL);
    free(p->threads);
    pthread_mutex_destroy(&p->mu);
    pthread_mutex_destroy(&p->call);
    pthread_cond_destroy(&p->wake);
    pthread_cond_destroy(&p->done);
    self->pool_up = false;
}

/*  Runs fn(self, i, arg) for every shard i, on the pool and the caller's
    thread, and returns when all are done. */
static void
pool_run(mu_shard_t *self, job_fn *fn, void *arg)
{
    pool_t *p = &self->pool;
    if (p->nthreads == 0) {
        for (size_t i = 0; i < self->meta.shards; i++)
            fn(self, i, arg);
        return;
    }
    pthread_mutex_lock(&p->call);
    pthread_mutex_lock(&p->mu);
    p->fn = fn;
    p->arg = arg;
    p->next = p->finished = 0;
    p->total = self->meta.shards;
    p->gen++;
    pthread_cond_broadcast(&p->wake);
    pool_work(self);
    while (p->finished < p->total)
        pthread_cond_wait(&p->done, &p->mu);
    pthread_mutex_unlock(&p->mu);
    pthread_mutex_unlock(&p->call);
}

void
mu__shard_job_fail(job_t *job, int rc)
{
    int expected = 0;
    if (atomic_compare_exchange_strong(&job->failed, &expected, 1)) {
        job->rc = rc;
        snprintf(job->msg, sizeof job->msg, "%s", mu_last_error());
    }
}

/*  Runs a job on all shards; returns its first error (copying its message
    into this thread's) or 0. */
int
mu__shard_run_job(mu_shard_t *self, job_fn *fn, job_t *job)
{
    atomic_init(&job->failed, 0);
    job->rc = 0;
    pool_run(self, fn, job);
    if (job->rc == 0)
        return 0;
    /* job->msg is a worker's mu_last_error(): "<strerror>: <detail>" */
    const char *prefix = mu_strerror(job->rc), *detail = job->msg;
    size_t n = strlen(prefix);
    if (strncmp(detail, prefix, n) == 0 && strncmp(detail + n, ": ", 2) == 0)
        detail += n + 2;
    return mu__fail(job->rc, "%s", detail);
}
