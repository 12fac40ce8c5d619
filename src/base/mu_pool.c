/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_pool.c — the thread pool. The contract is in include/mu_pool.h. */
#include "base/mu_internal.h"
#include "base/mu_sync.h"
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#define POOL_MAX_SIZE 1024

typedef struct job_t {
    uint64_t id;
    mu_job_fn *fn;
    void *arg;
    void *result;
    struct job_t *next;
} job_t;

typedef struct {
    job_t *head, *tail;
    int count;
} job_list_t;

struct mu_pool_t {
    pthread_mutex_t mutex;
    pthread_cond_t work_cv;     /* a job is waiting, or stopping */
    pthread_cond_t space_cv;    /* room in the pending queue */
    pthread_cond_t result_cv;   /* a result is waiting */
    pthread_t *threads;
    int size, started;
    int cap;
    job_list_t pending, results;
    uint64_t last_id;
    bool stopping;
    int efd;
    bool raised;
};

static void
list_push(job_list_t *list, job_t *job)
{
    job->next = NULL;
    if (list->tail)
        list->tail->next = job;
    else
        list->head = job;
    list->tail = job;
    list->count++;
}

static job_t *
list_pop(job_list_t *list)
{
    job_t *job = list->head;
    if (job) {
        list->head = job->next;
        if (!list->head)
            list->tail = NULL;
        list->count--;
    }
    return job;
}

static void
list_free(job_list_t *list)
{
    job_t *job;
    while ((job = list_pop(list)))
        free(job);
}

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
    pthread_mutex_lock(&self->mutex);
    for (;;) {
        while (!self->stopping && self->pending.count == 0)
            pthread_cond_wait(&self->work_cv, &self->mutex);
        if (self->stopping)
            break;
        job_t *job = list_pop(&self->pending);
        pthread_cond_signal(&self->space_cv);
        pthread_mutex_unlock(&self->mutex);
        job->result = job->fn(job->arg);
        pthread_mutex_lock(&self->mutex);
        list_push(&self->results, job);
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
    list_free(&self->pending);
    list_free(&self->results);
    if (self->efd >= 0)
        close(self->efd);
    pthread_cond_destroy(&self->work_cv);
    pthread_cond_destroy(&self->space_cv);
    pthread_cond_destroy(&self->result_cv);
    pthread_mutex_destroy(&self->mutex);
    free(self->threads);
    free(self);
}

mu_pool_t *
mu_pool_new(int size, int queue_cap)
{
    if (size < 0 || size > POOL_MAX_SIZE || queue_cap < 0) {
        errno = EINVAL;
        return NULL;
    }
    mu_pool_t *self = calloc(1, sizeof *self);
    if (!self) {
        errno = ENOMEM;
        return NULL;
    }
    self->size = size ? size : mu_pool_default_size();
    self->cap = queue_cap ? queue_cap : 4 * self->size;
    pthread_mutex_init(&self->mutex, NULL);
    mu__cond_init(&self->work_cv);
    mu__cond_init(&self->space_cv);
    mu__cond_init(&self->result_cv);
    self->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    self->threads = calloc((size_t) self->size, sizeof *self->threads);
    int err = self->efd < 0 ? errno : self->threads ? 0 : ENOMEM;
    for (int i = 0; !err && i < self->size; i++) {
        err = pthread_create(&self->threads[i], NULL, pool_worker, self);
        if (!err)
            self->started++;
    }
    if (err) {
        pool_join(self);
        pool_free(self);
        errno = err;
        return NULL;
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

int
mu_pool_submit(mu_pool_t *self, mu_job_fn *fn, void *arg, int timeout_ms, uint64_t *id_p)
{
    assert(self);
    if (!fn)
        return MU_EINVAL;
    job_t *job = calloc(1, sizeof *job);
    if (!job)
        return MU_ENOMEM;
    job->fn = fn;
    job->arg = arg;
    int64_t deadline = mu__deadline_ms(timeout_ms);
    pthread_mutex_lock(&self->mutex);
    while (self->pending.count >= self->cap) {
        if (!mu__cond_wait_until(&self->space_cv, &self->mutex, deadline)) {
            pthread_mutex_unlock(&self->mutex);
            free(job);
            return MU_EAGAIN;
        }
    }
    job->id = ++self->last_id;
    if (id_p)
        *id_p = job->id;
    list_push(&self->pending, job);
    pthread_cond_signal(&self->work_cv);
    pthread_mutex_unlock(&self->mutex);
    return 0;
}

int
mu_pool_result(mu_pool_t *self, uint64_t *id_p, void **result_p, int timeout_ms)
{
    assert(self);
    int64_t deadline = mu__deadline_ms(timeout_ms);
    pthread_mutex_lock(&self->mutex);
    while (self->results.count == 0) {
        if (!mu__cond_wait_until(&self->result_cv, &self->mutex, deadline)) {
            pthread_mutex_unlock(&self->mutex);
            return MU_EAGAIN;
        }
    }
    job_t *job = list_pop(&self->results);
    mu__level_fd_sync(self->efd, &self->raised, self->results.count > 0);
    pthread_mutex_unlock(&self->mutex);
    if (id_p)
        *id_p = job->id;
    if (result_p)
        *result_p = job->result;
    free(job);
    return 0;
}

