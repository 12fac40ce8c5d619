/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_service_int.h — the entrypoint's and services' private state, shared
    by mu_service.c (services, set-up, signals) and mu_service_run.c (the
    run phases). */
#ifndef MU_SERVICE_INT_H_INCLUDED
#define MU_SERVICE_INT_H_INCLUDED

#include "base/mu_internal.h"
#include "mu_pool.h"
#include "mu_service.h"
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>

#define MU__SVC_ERROR_CAP 512

typedef enum {
    SVC_NEW,      /* start() not called */
    SVC_STARTING, /* start() called, not ready yet */
    SVC_READY,
    SVC_FAILED,
    SVC_STOPPING /* stop asked: readiness and failures are ignored */
} mu__svc_state_t;

struct mu_service_t {
    mu_entrypoint_t *ep;
    char *name;
    mu_service_ops_t ops;
    void *arg;
    int stop_fd;             /* eventfd, readable once the stop is asked */
    atomic_bool stop_raised; /* the stop was asked */
    mu__svc_state_t state;   /* under ep->mutex */
    int fail_code;           /* under ep->mutex */
    char *fail_message;      /* under ep->mutex */
    bool start_called;       /* its start thread was made (run thread) */
    pthread_t start_thread;  /* runs start() */
    bool start_live;         /* not joined nor detached yet (run thread) */
    bool start_done;         /* start() returned, under ep->mutex */
    int start_rc;            /* its return value, under ep->mutex */
    int stop_timeout;        /* given to stop() */
    pthread_t stop_thread;   /* runs stop() */
    bool stop_thread_live;   /* not joined yet (run thread, destroy) */
    bool stop_done;          /* stop() returned, under ep->mutex */
    int stop_rc;             /* its return value, under ep->mutex */
    char *stop_detail;       /* the detail stop() recorded, under ep->mutex */
};

typedef struct {
    mu_hook_fn *fn;
    void *arg;
} mu__svc_hook_t;

struct mu_entrypoint_t {
    atomic_int refs; /* the owner's and each running start thread's */
    pthread_mutex_t mutex;
    pthread_cond_t stop_cv; /* a start() or stop() returned */
    mu_service_t **services;
    size_t count, cap;
    int wake[2]; /* self-pipe: [0] polled by run, [1] written */
    mu__svc_hook_t hooks[MU_HOOK_POST_STOP + 1];
    int start_timeout, shutdown_timeout;
    char *ident;
    mu_log_level_t level;
    int pool_size;   /* < 0: no pool of its own */
    mu_pool_t *pool; /* while run() runs */
    atomic_bool stop_requested;
    mu_service_t *failed; /* first failed service, under mutex */
    bool ran;
    int signal;                    /* signal that stopped run */
    int rc;                        /* first error recorded */
    char error[MU__SVC_ERROR_CAP]; /* its detail */
};

/*  Wakes run() through the self-pipe (async-signal-safe). */
void mu__svc_wake(mu_entrypoint_t *ep);

/*  Empties the self-pipe's read end. */
void mu__svc_drain(int fd);

/*  Logs a line at level when the entrypoint's level lets it through. */
void mu__svc_log(mu_entrypoint_t *ep, mu_log_level_t level, const char *fmt, ...) MU_PRINTF(3, 4);

/*  Records the first error of a run (code and detail), logs every one. */
void mu__svc_error(mu_entrypoint_t *ep, int code, const char *fmt, ...) MU_PRINTF(3, 4);

/*  Marks svc failed unless it already failed or is stopping; under mutex. */
void mu__svc_mark_failed(mu_service_t *svc, int code, const char *message);

/*  Raises svc's stop event (mu_service_stopping, its stop fd). */
void mu__svc_raise_stop(mu_service_t *svc);

/*  Takes one more reference to ep; drops one, freeing ep with the last. */
void mu__svc_ref(mu_entrypoint_t *ep);
void mu__svc_unref(mu_entrypoint_t *ep);

/*  The signal caught while run() runs (0: none), for stop_asked. */
int mu__svc_caught(void);

/*  Takes SIGINT and SIGTERM for ep (saving the old dispositions in the
    module); gives them back. */
void mu__svc_signals_take(mu_entrypoint_t *ep);
void mu__svc_signals_give_back(void);

/*  Claims the process-wide "an entrypoint runs" flag (false: taken);
    releases it. */
bool mu__svc_claim(void);
void mu__svc_release(void);

#endif
