/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  conn_cases.h — what the test_conn* programs (test_conn, test_conn_peers,
    test_conn_curve) share: endpoints, insecure servers and clients, the echo
    server on a thread of its own, child processes (fork + exec of the
    program in modes --serve and --idle-client, so they never inherit the
    parent's ZeroMQ state), and the program's start and end. */
#ifndef CONN_CASES_H_INCLUDED
#define CONN_CASES_H_INCLUDED

#include "mu_test.h"
#include "mutil.h"
#include <assert.h>
#include <czmq.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>

#define HB_IVL 100

#define HB_TIMEOUT 500

#define FLOOD 100005 /* client queue limit + 5 */

extern const char *self_exe;

const char *ipc_endpoint(char *buf, size_t cap);

/* ------------------------------------------------------------------ */
/* Helpers                                                             */

mu_server_t *insecure_server(const char *endpoint);

mu_client_t *insecure_client(const char *endpoint, const char *name);

/* Waits up to timeout_ms (scaled) for the next event of kind (others are
   destroyed). */
mu_event_t *expect_event(mu_server_t *server, mu_event_kind_t kind, int timeout_ms);

/* The echo server, on its own thread: answers requests with their data,
   except "err:" (an error), "drop" (destroyed unanswered), "slow" (answered
   after 300 ms), "bogus" (an unknown error code). */
typedef struct {
    mu_server_t *server;
    pthread_t thread;
    atomic_int stop;
    atomic_int joins, leaves, requests; /* read by the test thread too */
    mu_test_counter_t left;             /* leaves again, to wait on */
    uint8_t join_key[MU_KEY_BYTES];
    char join_name[64];
} echo_t;

void echo_start(echo_t *echo, mu_server_t *server);

void echo_stop(echo_t *echo);

/* Waits up to ms (scaled) until the echo thread has counted want leaves. */
bool echo_wait_leaves(echo_t *echo, int want, int ms);

/* One request; returns its result and checks an echo. */
int request_str(mu_client_t *client, const char *text, int timeout_ms, char **reply_p);

/*  Starts a test program: in mode --serve or --idle-client it runs that
    child and returns its exit status; else it bounds the run time, makes
    the scratch directory and returns -1 (1 when it cannot). */
int conn_suite_begin(int argc, char **argv);

/*  Ends a test program: removes the scratch directory. */
void conn_suite_end(void);

#endif
