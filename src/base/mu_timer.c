/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_timer.c — begin/end timers of include/mu_timer.h and the one
    function they log through (swap it with mu_timer_set_log). */
#include "base/mu_internal.h"
#include <pthread.h>
#include <stdio.h>
#include <time.h>

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static mu_timer_log_fn *log_fn; /* NULL: log_stderr */
static void *log_arg;

/* The default: one line on stderr, in ms with µs precision. */
static void
log_stderr(void *arg, const char *label, int64_t elapsed_ns)
{
    (void) arg;
    fprintf(stderr, "%s: %.3f ms\n", label, (double) elapsed_ns / 1e6);
}

int64_t
mu_timer_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

mu_timer_t
mu_timer_begin(const char *label)
{
    return (mu_timer_t) { .label = label, .start_ns = mu_timer_now_ns() };
}

int64_t
mu_timer_elapsed_ns(const mu_timer_t *timer)
{
    assert(timer);
    return mu_timer_now_ns() - timer->start_ns;
}

int64_t
mu_timer_end(const mu_timer_t *timer)
{
    int64_t elapsed = mu_timer_elapsed_ns(timer);
    pthread_mutex_lock(&log_lock);
    mu_timer_log_fn *fn = log_fn ? log_fn : log_stderr;
    void *arg = log_arg;
    pthread_mutex_unlock(&log_lock);
    fn(arg, timer->label ? timer->label : "timer", elapsed);
    return elapsed;
}

void
mu_timer_set_log(mu_timer_log_fn *fn, void *arg)
{
    pthread_mutex_lock(&log_lock);
    log_fn = fn;
    log_arg = fn ? arg : NULL;
    pthread_mutex_unlock(&log_lock);
}
