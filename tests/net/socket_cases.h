/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  socket_cases.h — what the test_socket* programs (test_socket,
    test_socket_peers, test_socket_alo) share: endpoints and identities,
    pumping and settling sockets, peers in other processes (the program
    re-executed with --peer: a fresh process, so no ZeroMQ state crosses a
    fork), and running every case in a process of its own (the program
    re-executed with --case NAME), with the program's start and end. */
#ifndef SOCKET_CASES_H_INCLUDED
#define SOCKET_CASES_H_INCLUDED

#include "mu_test.h"
#include "mutil.h"
#include <czmq.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <assert.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>

/* Heartbeats: a peer not heard from for HB_TIMEOUT ms leaves. The timeout
   is scaled (MU_TEST_SCALE) so that a loaded machine does not expire peers
   that are alive; peer processes read the same environment. */
#define HB_IVL 100

#define HB_TIMEOUT mu_test_ms(400)

const char *ipc_endpoint(char *buf, size_t cap);

void make_id(uint8_t *id, int n);

/* Drives a socket once, discarding what it returns. */
void pump(mu_socket_t *s, mu_socket_msg_t *m, int ms);

/* The socket's counters (asserts that the call succeeds). */
mu_socket_stats_t stats_of(const mu_socket_t *s);

mu_socket_t *new_socket(int n);

/* Waits up to ms (not scaled; at most 10) until one of the n sockets has
   input, so that drive loops sleep on events instead of spinning. */
void wait_input(mu_socket_t **socks, int n, int ms);

/* Drives every socket (recv with timeout 0, discarding) until each has at
   least want[i] peers or ms (scaled) pass. Returns true when all got there. */
bool settle(mu_socket_t **socks, const size_t *want, int n, int ms);

bool settle_pair(mu_socket_t *a, mu_socket_t *b);

/* Receives one message (skipping events) within ms (scaled); returns rc. */
int recv_msg(mu_socket_t *s, mu_socket_msg_t *m, int ms);
/* ------------------------------------------------------------------ */


typedef struct {
    pid_t pid;
    int fd; /* read end of the child's reports */
} child_t;

bool spawn_peer(child_t *c, const char *how, const char *endpoint, int n);

/* Reads every report available now; calls fn for each value. */
void read_reports(child_t *c, void (*fn)(uint64_t v, void *arg), void *arg);

/* SIGKILLs the peer and reaps it, then hands every report it wrote before
   dying to fn (unless fn is NULL) and closes the pipe. The reports left in
   the pipe are real deliveries: the peer acknowledged those messages after
   writing them, so the sender has forgotten them and they are never sent
   again; a tally that skipped them would count them as lost. */
void stop_peer(child_t *c, void (*fn)(uint64_t v, void *arg), void *arg);

/* Waits up to ms (scaled) for an event of kind about identity id. */
bool wait_event(mu_socket_t *s, mu_socket_event_t kind, const uint8_t *id, int ms);

/* binder binds a fresh ipc endpoint, connector connects to it, and both
   wait until each has joined the other. */
bool join_over_ipc(mu_socket_t *binder, mu_socket_t *connector);

typedef struct {
    uint8_t *seen; /* per value: times reported this incarnation */
    uint8_t *ever; /* per value: reported by any incarnation */
    size_t max;
    size_t distinct, dups, bad;
} tally_t;

void tally(uint64_t v, void *arg);

bool tally_init(tally_t *t, size_t max);

void tally_free(tally_t *t);

/* Drives a and tallies the child's reports until want distinct values came
   or ms (scaled) passed, waiting on the socket and the report pipe. */
void collect_reports(mu_socket_t *a, child_t *c, tally_t *t, size_t want, int ms);

/*  Runs case name in a process of its own (this program exec'd with
    --case name). libzmq 4.3.4 can abort with "Assertion failed: !_io_error
    (src/stream_engine_base.cpp:331)": while CURVE clients it refuses keep
    reconnecting (about once in ten runs of test_curve), and, rarely, when
    peers leave (seen once in test_events in an optimised build). That is a
    libzmq bug no caller can prevent, so when the child dies of SIGABRT and
    its stderr holds that assertion, the case is reported as a TAP comment
    and run again, up to three times. Any other abort, and any failed check
    of ours, fails at once. */
void run_isolated(const char *name);

/*  The case a child runs (--case NAME), NULL in the parent; the one case
    the parent runs (named as argv[1]), NULL for all. Set by
    socket_suite_begin. */
extern const char *socket_child_case, *socket_only;

/*  In the parent (socket_child_case NULL): runs case fn in a child process
    unless a case name was given as argv[1] and it is another. In a child
    (--case name): runs fn itself when it is the case named. */
#define RUN(fn)                                                   \
    do {                                                          \
        if (socket_child_case) {                                  \
            if (strcmp(socket_child_case, #fn) == 0)              \
                fn();                                             \
        } else if (!socket_only || strcmp(socket_only, #fn) == 0) \
            MU_RUN_AS(run_isolated(#fn), #fn);                    \
    } while (0)

/*  Starts a test program: as a peer (--peer ...) it runs the peer and
    returns its exit status; else it bounds the run time, finds this
    program's path for re-executing it, makes the scratch directory, sets
    socket_child_case and socket_only, and returns -1 (1 when the scratch
    directory cannot be made). */
int socket_suite_begin(int argc, char **argv);

/*  Ends a test program: shuts ZeroMQ down, removes the scratch directory,
    and returns the exit status: in a child running one case, whether that
    case failed; else, after the TAP plan, whether any case failed. */
int socket_suite_end(void);

#endif
