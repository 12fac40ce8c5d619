/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  service_cases.h — what the test_service* programs (test_service,
    test_service_run) share: an event log shared by fake services and
    hooks, the fake services and an entrypoint over them, and a service
    whose start() blocks. */
#ifndef SERVICE_CASES_H_INCLUDED
#define SERVICE_CASES_H_INCLUDED

#include "mu_test.h"
#include "mutil.h"
#include <assert.h>
#include <czmq.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
/* ------------------------------------------------------------------ */
/* An event log shared by the fake services and the hooks              */


extern char events[1024];

/*  start() calls run concurrently, in no set order: they are counted
    (s_starts), not logged. */
void event(const char *what, const char *name);

void events_reset(void);

/* ------------------------------------------------------------------ */
/* A configurable fake service                                          */

extern mu_test_counter_t s_starts;

typedef struct {
    const char *name;
    int start_rc;          /* start() returns this when non-zero */
    int wait_starts;       /* > 0: become ready (or fail) only once this many
                               services have started */
    int ready_after_ms;    /* 0: ready inside start(); < 0: never */
    int fail_code;         /* fail instead of becoming ready */
    const int *fail_gate;  /* non-NULL: fail with MU_EIO after ready, once a
                               byte arrives on *fail_gate */
    const int *stop_gate;  /* non-NULL: stop() returns only once a byte
                               arrives on *stop_gate */
    atomic_bool stop_done; /* stop() returned */
    int stop_rc;
    int stop_timeout_seen;
    pthread_t thread;
    bool has_thread;
    mu_service_t *svc;
} fake_t;

extern const mu_service_ops_t fake_ops;

extern int s_ready_fd;

extern int s_hook_rc[4];

int log_hook(void *arg, mu_entrypoint_t *ep);

/*  post_start hook that stops the entrypoint at once (services ran). */
int stop_hook(void *arg, mu_entrypoint_t *ep);

mu_entrypoint_t *make_entrypoint(fake_t *fakes, size_t n, bool stop_when_ready);

int noop_stop(void *arg, mu_service_t *svc, int timeout_ms);

typedef struct {
    int gate;                 /* start() blocks until a byte arrives here */
    int block_ms;             /* or this long (unscaled) */
    bool watch_stop;          /* also end when the stop event is raised */
    int announce_fd;          /* > 0: start() writes 'R' here first */
    mu_test_counter_t *after; /* non-NULL: announce once it reaches after_n */
    int after_n;
    mu_test_counter_t *in;  /* counts start() calls */
    mu_test_counter_t *out; /* counts start() returns */
} blocker_t;

extern const mu_service_ops_t blocker_ops;

#endif
