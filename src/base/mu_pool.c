/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_pool.c — the thread pool. The contract is in include/mu_pool.h.

    Jobs wait in a bounded ring (its capacity is the queue's); results in a
    second ring that submit grows before a job is queued, so that a worker
    always has room for its result and never allocates. */
#include "base/mu_internal.h"
#include "base/mu_sync.h"
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define POOL_MAX_SIZE 1024

typedef struct {
    uint64_t id;
    mu_job_fn *fn;
    void *arg; /* the job's argument, then its result */
} job_t;

struct mu_pool_t {
    pthread_mutex_t mutex;
    pthread_cond_t work_cv;   /* a job is waiting, or stopping */
    pthread_cond_t space_cv;  /* room in the pending queue */
    pthread_cond_t result_cv; /* a result is waiting */
    pthread_t *threads;
    int size, started;
    mu__ring_t pending, results;
    size_t running; /* jobs taken by a worker, result not queued */
    uint64_t last_id;
    bool stopping;
    int efd;
    bool raised;
};

int
mu_pool_default_size(void)
{
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    if (ncpu < 4)
        ncpu = 4;
    return ncpu > 32 ? 32 : (int) ncpu;
}

static void *
pool_worker(void *arg)
{
    mu_pool_t *self = arg;
    job_t job;
    pthread_mutex_lock(&self->mutex);
    for (;;) {
        while (!self->stopping && mu__ring_empty(&self->pending))
            pthread_cond_wait(&self->work_cv, &self->mutex);
        if (self->stopping)
            break;
        mu__ring_pop(&self->pending, &job);
        self->running++;
        pthread_cond_signal(&self->space_cv);
        pthread_mutex_unlock(&self->mutex);
        job.arg = job.fn(job.arg);
        pthread_mutex_lock(&self->mutex);
        self->running--;
        bool queued = mu__ring_push(&self->results, &job);
        assert(queued); /* submit made room */
        (void) queued;
        mu__level_fd_sync(self->efd, &self->raised, true);
        pthread_cond_signal(&self->result_cv);
    }
    pthread_mutex_unlock(&self->mutex);
    return NULL;
}

/*  Tells the workers to quit and joins those started. */
static void
pool_join(mu_pool_t *self)
{
    pthread_mutex_lock(&self->mutex);
    self->stopping = true;
    pthread_cond_broadcast(&self->work_cv);
    pthread_cond_broadcast(&self->space_cv);
    pthread_mutex_unlock(&self->mutex);
    for (int i = 0; i < self->started; i++)
        pthread_join(self->threads[i], NULL);
}

static void
pool_free(mu_pool_t *self)
{
    mu__ring_free(&self->pending);
    mu__ring_free(&self->results);
    if (self->efd >= 0)
        close(self->efd);
    pthread_cond_destroy(&self->work_cv);
    pthread_cond_destroy(&self->space_cv);
    pthread_cond_destroy(&self->result_cv);
    pthread_mutex_destroy(&self->mutex);
    free(self->threads);
    free(self);
}

/*  Allocates the pool's queues, its fd and its threads. Returns 0 or a
    negative code, with the failure recorded. */
static int
pool_start(mu_pool_t *self, int queue_cap)
{
    size_t cap = queue_cap ? (size_t) queue_cap : 4 * (size_t) self->size;
    if (mu__ring_init(&self->pending, cap, sizeof(job_t)) != 0
        || mu__ring_init(&self->results, cap, sizeof(job_t)) != 0
        || !(self->threads = calloc((size_t) self->size, sizeof *self->threads)))
        return mu__fail(MU_ENOMEM, "pool of %d threads, %zu jobs", self->size, cap);
    self->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (self->efd < 0)
        return mu__fail(-errno, "pool: eventfd");
    for (int i = 0; i < self->size; i++) {
        int err = pthread_create(&self->threads[i], NULL, pool_worker, self);
        if (err)
            return mu__fail(-err, "pool: thread %d of %d", i + 1, self->size);
        self->started++;
    }
    return 0;
}

mu_pool_t *
mu_pool_new(int size, int queue_cap)
{
    assert(size >= 0 && queue_cap >= 0);
    if (size > POOL_MAX_SIZE)
        return mu__fail_null(MU_EINVAL, "pool size %d above %d", size, POOL_MAX_SIZE);
    mu_pool_t *self = calloc(1, sizeof *self);
    if (!self)
        return mu__fail_null(MU_ENOMEM, "pool");
    self->size = size ? size : mu_pool_default_size();
    self->efd = -1;
    pthread_mutex_init(&self->mutex, NULL);
    mu__cond_init(&self->work_cv);
    mu__cond_init(&self->space_cv);
    mu__cond_init(&self->result_cv);
    int rc = pool_start(self, queue_cap);
    if (rc < 0) {
        pool_join(self);
        pool_free(self);
        return mu__fail_null(rc, "%s", mu__last_detail());
    }
    return self;
}

void
mu_pool_destroy(mu_pool_t **self_p)
{
    assert(self_p);
    mu_pool_t *self = *self_p;
    if (!self)
        return;
    pool_join(self);
    pool_free(self);
    *self_p = NULL;
}

int
mu_pool_size(const mu_pool_t *self)
{
    assert(self);
    return self->size;
}

int
mu_pool_fd(const mu_pool_t *self)
{
    assert(self);
    return self->efd;
}

/*  Under mutex: grows the results ring so that every job in flight, and
    one more, has room for its result. */
static int
reserve_result(mu_pool_t *self)
{
    size_t need = self->pending.count + self->running + self->results.count + 1;
    if (need <= self->results.cap)
        return 0;
    return mu__ring_resize(&self->results,
                           2 * self->results.cap < need ? need : 2 * self->results.cap);
}

int
mu_pool_submit(mu_pool_t *self, mu_job_fn *fn, void *arg, int timeout_ms, uint64_t *id_p)
{
    assert(self && fn);
    int64_t deadline = mu__deadline_ms(timeout_ms);
    int rc = 0;
    pthread_mutex_lock(&self->mutex);
    while (mu__ring_full(&self->pending) && rc == 0)
        if (!mu__cond_wait_until(&self->space_cv, &self->mutex, deadline))
            rc = mu__fail(mu__expired(timeout_ms), NULL);
    if (rc == 0 && reserve_result(self) != 0)
        rc = mu__fail(MU_ENOMEM, "pool: room for %zu results", 2 * self->results.cap);
    if (rc == 0) {
        job_t job = { .id = ++self->last_id, .fn = fn, .arg = arg };
        mu__ring_push(&self->pending, &job);
        if (id_p)
            *id_p = job.id;
        pthread_cond_signal(&self->work_cv);
    }
    pthread_mutex_unlock(&self->mutex);
    return rc;
}

int
mu_pool_result(mu_pool_t *self, uint64_t *id_p, void **result_p, int timeout_ms)
{
    assert(self);
    int64_t deadline = mu__deadline_ms(timeout_ms);
    job_t job;
    pthread_mutex_lock(&self->mutex);
    while (mu__ring_empty(&self->results)) {
        if (!mu__cond_wait_until(&self->result_cv, &self->mutex, deadline)) {
            pthread_mutex_unlock(&self->mutex);
            return mu__fail(mu__expired(timeout_ms), NULL);
        }
    }
    mu__ring_pop(&self->results, &job);
    mu__level_fd_sync(self->efd, &self->raised, !mu__ring_empty(&self->results));
    pthread_mutex_unlock(&self->mutex);
    if (id_p)
        *id_p = job.id;
    if (result_p)
        *result_p = job.arg;
    return 0;
}
