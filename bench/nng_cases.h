/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  bench/nng_cases.h — the nng (1.5) side of the peer comparison, shared by
    bench/socket.c and bench/conn.c (header-only, static functions).

    nngb_fanout   one PUSH (round-robin over ready pipes) or PUB socket to n
                 PULL / SUB sockets, each receiver on its own thread; the
                 unit is messages delivered per second. PUSH/PULL is
                 lossless (back-pressure); PUB/SUB drops when a
                 subscriber's queue is full, so the PUB case counts what
                 arrived and reports the loss through *lost_p.
    nngb_stream   one PUSH to one PULL, messages per second, lossless.
    nngb_rtt      REQ to a REP echoing on a thread, p50 of n round trips (µs).

    Without nng (configure found no libnng-dev) HAVE_NNG is undefined and
    the callers print a skip line instead. */
#ifndef MU_BENCH_NNG_CASES_H_INCLUDED
#define MU_BENCH_NNG_CASES_H_INCLUDED

#ifdef HAVE_NNG
#include <nng/nng.h>
#include <nng/protocol/pipeline0/pull.h>
#include <nng/protocol/pipeline0/push.h>
#include <nng/protocol/pubsub0/pub.h>
#include <nng/protocol/pubsub0/sub.h>
#include <nng/protocol/reqrep0/rep.h>
#include <nng/protocol/reqrep0/req.h>
#include <arpa/inet.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"

#define NNG_BENCH_MAX_PEERS 8
#define NNG_BENCH_BUF 1024

typedef struct {
    nng_socket sock;
    atomic_long *delivered; /* shared by the receivers */
    long total;             /* stop when delivered reaches it */
    atomic_bool *stop;
    int64_t end_ns; /* last message received */
} nng_rx_t;

static inline void
nng_bench_pipe_added(nng_pipe p, nng_pipe_ev ev, void *arg)
{
    (void) p;
    (void) ev;
    atomic_fetch_add((atomic_int *) arg, 1);
}

static inline void *
nng_bench_recv(void *arg)
{
    nng_rx_t *r = arg;
    uint8_t buf[NNG_BENCH_BUF];
    while (!atomic_load(r->stop)) {
        size_t sz = sizeof buf;
        int rc = nng_recv(r->sock, buf, &sz, 0);
        if (rc == NNG_ETIMEDOUT)
            continue; /* look at stop again */
        if (rc != 0)
            break; /* NNG_ECLOSED: the run is over */
        r->end_ns = bench_now_ns();
        if (atomic_fetch_add(r->delivered, 1) + 1 >= r->total)
            atomic_store(r->stop, true);
    }
    return NULL;
}

/* Waits until the listening socket has n pipes (5 s at most). */
static inline bool
nng_bench_wait_pipes(atomic_int *pipes, int n)
{
    int64_t deadline = bench_now_ns() + 5000000000LL;
    while (atomic_load(pipes) < n)
        if (bench_now_ns() > deadline)
            return false;
        else
            usleep(1000);
    return true;
}

/*  pub: PUB → n SUB (per_peer messages, each to every SUB); else PUSH → n
    PULL (per_peer * n messages in all). Delivered msg/s, or NaN. */
static inline double
nngb_fanout(bool pub, size_t size, long per_peer, int n, const char *url, double *lost_p)
{
    nng_socket hub, peers[NNG_BENCH_MAX_PEERS];
    atomic_int pipes = 0;
    if ((pub ? nng_pub0_open(&hub) : nng_push0_open(&hub)) != 0)
        return NAN;
    nng_socket_set_int(hub, NNG_OPT_SENDBUF, pub ? 8192 : 1000); /* mu_socket: 1000 */
    /* bounded waits: a PUSH whose messages stop arriving once hung this
       bench in nng_send and nng_recv (nng 1.5, stream-1KiB-null-nng) */
    nng_socket_set_ms(hub, NNG_OPT_SENDTIMEO, 10000);
    nng_pipe_notify(hub, NNG_PIPE_EV_ADD_POST, nng_bench_pipe_added, &pipes);
    nng_listener l;
    nng_sockaddr sa;
    char dial_url[256];
    if (nng_listen(hub, url, &l, 0) != 0) {
        nng_close(hub);
        return NAN;
    }
    snprintf(dial_url, sizeof dial_url, "%s", url);
    if (strncmp(url, "tcp://", 6) == 0 && nng_listener_get_addr(l, NNG_OPT_LOCADDR, &sa) == 0)
        snprintf(dial_url, sizeof dial_url, "tcp://127.0.0.1:%u",
                 (unsigned) ntohs(sa.s_in.sa_port));
    for (int i = 0; i < n; i++) {
        int rc = pub ? nng_sub0_open(&peers[i]) : nng_pull0_open(&peers[i]);
        if (rc == 0 && pub)
            rc = nng_socket_set(peers[i], NNG_OPT_SUB_SUBSCRIBE, "", 0);
        if (rc == 0) {
            nng_socket_set_int(peers[i], NNG_OPT_RECVBUF, pub ? 8192 : 1000); /* the max */
            nng_socket_set_ms(peers[i], NNG_OPT_RECVTIMEO, 1000);
            rc = nng_dial(peers[i], dial_url, NULL, 0);
        }
        if (rc != 0)
            return NAN;
    }
    double rate = NAN;
    atomic_long delivered = 0;
    atomic_bool stop = false;
    long total = per_peer * n;
    nng_rx_t rx[NNG_BENCH_MAX_PEERS];
    pthread_t th[NNG_BENCH_MAX_PEERS];
    if (nng_bench_wait_pipes(&pipes, n)) {
        usleep(50000); /* PUB: let the subscriptions settle on the pipes */
        for (int i = 0; i < n; i++) {
            rx[i] = (nng_rx_t) { .sock = peers[i],
                                 .delivered = &delivered,
                                 .total = total,
                                 .stop = &stop,
                                 .end_ns = 0 };
            pthread_create(&th[i], NULL, nng_bench_recv, &rx[i]);
        }
        uint8_t buf[NNG_BENCH_BUF];
        memset(buf, 1, sizeof buf);
        long sends = pub ? per_peer : total;
        int64_t t0 = bench_now_ns();
        for (long k = 0; k < sends; k++)
            if (nng_send(hub, buf, size, 0) != 0) {
                fprintf(stderr, "# nng: send %ld of %ld failed or timed out\n", k + 1, sends);
                break;
            }
        if (pub) { /* lossy: stop once nothing came for a while */
            long last = -1;
            while (!atomic_load(&stop) && atomic_load(&delivered) != last) {
                last = atomic_load(&delivered);
                usleep(600000);
            }
        } else { /* lossless: the receivers stop at the total (30 s at most) */
            int64_t deadline = bench_now_ns() + 30000000000LL;
            while (!atomic_load(&stop) && bench_now_ns() < deadline)
                usleep(1000);
        }
        atomic_store(&stop, true);
        for (int i = 0; i < n; i++) /* ends a receiver's nng_recv (NNG_ECLOSED) */
            nng_close(peers[i]);
        int64_t end = t0;
        for (int i = 0; i < n; i++) {
            pthread_join(th[i], NULL);
            end = rx[i].end_ns > end ? rx[i].end_ns : end;
        }
        long got = atomic_load(&delivered);
        if (lost_p)
            *lost_p = 1.0 - (double) got / (double) total;
        if (got > 0 && (pub || got == total))
            rate = (double) got / ((double) (end - t0) / 1e9);
    } else
        for (int i = 0; i < n; i++)
            nng_close(peers[i]);
    nng_close(hub);
    return rate;
}

/*  One PUSH → one PULL at url (tcp://127.0.0.1:0: a free port): n messages
    of size bytes; msg/s or NaN. */
static inline double
nngb_stream(size_t size, long n, const char *url)
{
    double lost;
    return nngb_fanout(false, size, n, 1, url, &lost);
}

typedef struct {
    nng_socket rep;
    atomic_bool stop;
} nng_echo_t;

static inline void *
nng_bench_echo(void *arg)
{
    nng_echo_t *e = arg;
    uint8_t buf[NNG_BENCH_BUF];
    while (!atomic_load(&e->stop)) {
        size_t sz = sizeof buf;
        int rc = nng_recv(e->rep, buf, &sz, 0);
        if (rc == NNG_ETIMEDOUT)
            continue;
        if (rc != 0 || nng_send(e->rep, buf, sz, 0) != 0)
            break;
    }
    return NULL;
}

/*  REQ → REP (echo on a thread) over tcp://127.0.0.1: p50 of n round
    trips of size bytes in µs (p99 into *p99_p), or NaN. */
static inline double
nngb_rtt(size_t size, int n, double *p99_p)
{
    nng_echo_t e = { .stop = false };
    nng_listener l;
    nng_socket req;
    nng_sockaddr sa;
    char url[64];
    if (nng_rep0_open(&e.rep) != 0)
        return NAN;
    nng_socket_set_ms(e.rep, NNG_OPT_RECVTIMEO, 100);
    if (nng_listen(e.rep, "tcp://127.0.0.1:0", &l, 0) != 0
        || nng_listener_get_addr(l, NNG_OPT_LOCADDR, &sa) != 0) {
        nng_close(e.rep);
        return NAN;
    }
    snprintf(url, sizeof url, "tcp://127.0.0.1:%u", (unsigned) ntohs(sa.s_in.sa_port));
    pthread_t th;
    pthread_create(&th, NULL, nng_bench_echo, &e);
    double p50 = NAN;
    if (nng_req0_open(&req) == 0) {
        nng_socket_set_ms(req, NNG_OPT_RECVTIMEO, 5000);
        if (nng_dial(req, url, NULL, 0) == 0) {
            uint8_t msg[NNG_BENCH_BUF], buf[NNG_BENCH_BUF];
            memset(msg, 'R', sizeof msg);
            double *lat = malloc(sizeof *lat * (size_t) n);
            size_t sz = sizeof buf;
            (void) (nng_send(req, msg, size, 0) == 0 && nng_recv(req, buf, &sz, 0) == 0);
            for (int i = 0; i < n; i++) {
                int64_t t0 = bench_now_ns();
                sz = sizeof buf;
                bool ok = nng_send(req, msg, size, 0) == 0 && nng_recv(req, buf, &sz, 0) == 0;
                lat[i] = ok ? (double) (bench_now_ns() - t0) / 1e3 : NAN;
            }
            p50 = bench_median(lat, n);
            if (p99_p)
                *p99_p = bench_percentile(lat, n, 0.99);
            free(lat);
        }
        nng_close(req);
    }
    atomic_store(&e.stop, true);
    pthread_join(th, NULL);
    nng_close(e.rep);
    return p50;
}

#endif /* HAVE_NNG */
#endif
