/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  bench/socket.c — mu_socket distribution throughput against raw libzmq.

    Cases (SPEC.md: anything on ZeroMQ >= 85 % of raw libzmq):
      publish-64B, publish-1KiB        one mu_socket (binds, PUBLISH) sends
                                       every message to NPEERS mu_sockets
                                       (connect), against a raw ROUTER
                                       (ROUTER_MANDATORY) sending a copy to
                                       each of NPEERS raw DEALERs;
      roundrobin-64B, roundrobin-1KiB  the same with ROUNDROBIN, against the
                                       raw ROUTER sending to DEALER i % N;
      alo-64B, alo-1KiB                mu_socket PUBLISH to one peer with
                                       AT_LEAST_ONCE against mu_socket
                                       without it (the overhead);
      publish-*-nng, roundrobin-*-nng  the same mu_socket runs against nng 1.5
                                       (bench/nng_cases.h) in the same
                                       repetitions: PUB → NPEERS SUB, PUSH →
                                       NPEERS PULL, ipc://, one thread per
                                       receiver. nng's PUB drops when a SUB
                                       queue is full: its figure counts what
                                       arrived, and a note line gives the loss.
                                       Without nng a skip line is printed.

    All sockets live in one process on czmq's context (ipc:// endpoints);
    each receiver runs on its own thread. Connections are made and joined
    before the clock starts; the time ends when every receiver holds its
    last message. The unit is messages delivered per second (a PUBLISH of
    one message to N peers counts N). After one short warm-up run of each
    side that is not counted, a repetition is ROUNDS runs of each side,
    each of 1/ROUNDS of the messages, ours and the baseline alternating
    in ABBA order (the baseline first in odd repetitions), so that both
    see the same load; a side's figure is its messages over its summed
    times, and the ratio is the median of the per-repetition ratios. Both
    sides send the same number of messages with the same high-water marks
    (libzmq's default 1000 each way).

    stderr also gets the same figures per CPU second of the whole process
    (CLOCK_PROCESS_CPUTIME_ID from the first send until every receiver
    joined: sender, receivers and libzmq's I/O thread), which a loaded
    machine disturbs far less than the wall clock; the JSON line on stdout
    keeps the wall-clock figures. */
#include "config.h"

#include <czmq.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "mutil.h"
#include "bench.h"
#include "nng_cases.h"

#define NPEERS 4
#define ROUNDS 4 /* alternating runs per side and repetition */
#define MAX_SIZE 1024

static char tmpdir[] = "/tmp/mu_bench_socket.XXXXXX";
static int seq;
static double last_cpu_s, last_user_s; /* process CPU (all, user) seconds of the last run */

static int64_t
process_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (int64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* User CPU time of the process (getrusage: the kernel's user/system split
   is sampled, so it is a coarser view than process_cpu_ns). */
static int64_t
process_user_ns(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (int64_t) ru.ru_utime.tv_sec * 1000000000 + (int64_t) ru.ru_utime.tv_usec * 1000;
}

typedef enum { K_PUBLISH, K_ROUNDROBIN } kind_t;

typedef struct {
    mu_socket_t *ours;
    void *raw;
    int raw_router; /* raw receiver is a ROUTER: a routing-id frame first */
    long expect;
    long got;
    uint64_t sum;
    int64_t end_ns;
} receiver_t;

static void *
recv_ours(void *arg)
{
    receiver_t *r = arg;
    mu_socket_msg_t m;
    while (r->got < r->expect) {
        if (mu_socket_recv(r->ours, &m, 10000) != 0)
            break;
        if (m.event != MU_SOCKET_MESSAGE)
            continue;
        r->sum += ((const uint8_t *) m.data)[0];
        r->got++;
    }
    r->end_ns = bench_now_ns();
    return NULL;
}

static void *
recv_raw(void *arg)
{
    receiver_t *r = arg;
    uint8_t buf[MAX_SIZE];
    while (r->got < r->expect) {
        if (r->raw_router && zmq_recv(r->raw, buf, sizeof buf, 0) < 0)
            break;
        if (zmq_recv(r->raw, buf, sizeof buf, 0) < 0)
            break;
        r->sum += buf[0];
        r->got++;
    }
    r->end_ns = bench_now_ns();
    return NULL;
}

static void
ipc_endpoint(char *buf, size_t cap)
{
    snprintf(buf, cap, "ipc://%s/ep%d", tmpdir, seq++);
}

/* Drives sockets until hub has n peers and each peer has one. */
static int
settle(mu_socket_t *hub, mu_socket_t **peers, int n)
{
    int64_t deadline = bench_now_ns() + 5000000000LL;
    while (bench_now_ns() < deadline) {
        mu_socket_msg_t m;
        int ready = 1;
        while (mu_socket_recv(hub, &m, 0) == 0)
            ;
        for (int i = 0; i < n; i++) {
            while (mu_socket_recv(peers[i], &m, 0) == 0)
                ;
            ready &= mu_socket_peers(peers[i]) == 1;
        }
        if (ready && mu_socket_peers(hub) == (size_t) n)
            return 0;
        usleep(1000);
    }
    return -1;
}

/* Joins the receivers; returns delivered msg/s (NaN when one fell
   short) and sets last_cpu_s and last_user_s from cpu0 and user0, the
   process CPU clocks at t0. */
static double
finish(receiver_t *rx, pthread_t *th, int n, int64_t t0, int64_t cpu0, int64_t user0)
{
    int64_t end = t0;
    long total = 0;
    int short_run = 0;
    for (int i = 0; i < n; i++) {
        pthread_join(th[i], NULL);
        end = rx[i].end_ns > end ? rx[i].end_ns : end;
        total += rx[i].got;
        short_run |= rx[i].got != rx[i].expect;
    }
    last_cpu_s = (double) (process_cpu_ns() - cpu0) / 1e9;
    last_user_s = (double) (process_user_ns() - user0) / 1e9;
    return short_run ? NAN : (double) total / ((double) (end - t0) / 1e9);
}

/* mu_socket hub to n peers; returns delivered msg/s or NaN. */
static double
run_ours(kind_t kind, size_t size, long per_peer, int n, int reliable)
{
    char ep[256];
    ipc_endpoint(ep, sizeof ep);
    mu_socket_t *hub = mu_socket_new(NULL), *peers[NPEERS] = { 0 };
    if (!hub || mu_socket_set_queue(hub, 1000, MU_SOCKET_BLOCK, 5000) != 0)
        return NAN; /* a send never waits forever: a stuck run gives NaN */
    if (reliable && mu_socket_set_at_least_once(hub, 10, 1000, 65536) != 0)
        return NAN;
    mu_socket_set_mode(hub, kind == K_PUBLISH ? MU_SOCKET_PUBLISH : MU_SOCKET_ROUNDROBIN);
    if (mu_socket_bind(hub, ep) != 0)
        return NAN;
    for (int i = 0; i < n; i++)
        if (!(peers[i] = mu_socket_new(NULL)) || mu_socket_connect(peers[i], ep) != 0)
            return NAN;
    double rate = NAN;
    if (settle(hub, peers, n) == 0) {
        receiver_t rx[NPEERS];
        pthread_t th[NPEERS];
        memset(rx, 0, sizeof rx);
        for (int i = 0; i < n; i++) {
            rx[i].ours = peers[i];
            rx[i].expect = per_peer;
            pthread_create(&th[i], NULL, recv_ours, &rx[i]);
        }
        uint8_t buf[MAX_SIZE];
        memset(buf, 1, sizeof buf);
        long total = kind == K_PUBLISH ? per_peer : per_peer * n;
        int64_t user0 = process_user_ns(), cpu0 = process_cpu_ns(), t0 = bench_now_ns();
        for (long k = 0; k < total; k++)
            if (mu_socket_send(hub, buf, size) != 0)
                break;
        rate = finish(rx, th, n, t0, cpu0, user0);
        /* drain acks so the hub ends clean */
        mu_socket_msg_t m;
        while (mu_socket_recv(hub, &m, 0) == 0)
            ;
    }
    for (int i = 0; i < n; i++)
        mu_socket_destroy(&peers[i]);
    mu_socket_destroy(&hub);
    return rate;
}

/* Raw ROUTER to n DEALERs (or n ROUTERs: the same socket types as ours)
   doing the same distribution. */
static double
run_raw(kind_t kind, size_t size, long per_peer, int n, int routers)
{
    char ep[256];
    ipc_endpoint(ep, sizeof ep);
    zsock_t *hub = zsock_new(ZMQ_ROUTER);
    zsock_t *peers[NPEERS] = { 0 };
    if (!hub)
        return NAN;
    void *h = zsock_resolve(hub);
    int on = 1;
    zmq_setsockopt(h, ZMQ_ROUTER_MANDATORY, &on, sizeof on);
    zmq_setsockopt(h, ZMQ_ROUTING_ID, "hub", 3);
    if (zsock_bind(hub, "%s", ep) != 0)
        return NAN;
    char ids[NPEERS][8];
    for (int i = 0; i < n; i++) {
        snprintf(ids[i], sizeof ids[i], "d%d", i);
        peers[i] = zsock_new(routers ? ZMQ_ROUTER : ZMQ_DEALER);
        if (!peers[i])
            return NAN;
        void *p = zsock_resolve(peers[i]);
        zmq_setsockopt(p, ZMQ_ROUTING_ID, ids[i], strlen(ids[i]));
        if (routers)
            zmq_setsockopt(p, ZMQ_CONNECT_ROUTING_ID, "hub", 3);
        if (zsock_connect(peers[i], "%s", ep) != 0)
            return NAN;
        if (routers)
            zmq_send(p, "hub", 3, ZMQ_SNDMORE);
        zmq_send(p, "ready", 5, 0);
    }
    for (int i = 0; i < n; i++) { /* the hub knows every dealer */
        char id[16], body[16];
        if (zmq_recv(h, id, sizeof id, 0) < 0 || zmq_recv(h, body, sizeof body, 0) < 0)
            return NAN;
    }
    receiver_t rx[NPEERS];
    pthread_t th[NPEERS];
    memset(rx, 0, sizeof rx);
    for (int i = 0; i < n; i++) {
        rx[i].raw = zsock_resolve(peers[i]);
        rx[i].raw_router = routers;
        rx[i].expect = per_peer;
        pthread_create(&th[i], NULL, recv_raw, &rx[i]);
    }
    uint8_t buf[MAX_SIZE];
    memset(buf, 1, sizeof buf);
    int64_t user0 = process_user_ns(), cpu0 = process_cpu_ns(), t0 = bench_now_ns();
    if (kind == K_PUBLISH) {
        for (long k = 0; k < per_peer; k++)
            for (int i = 0; i < n; i++) {
                zmq_send(h, ids[i], strlen(ids[i]), ZMQ_SNDMORE);
                zmq_send(h, buf, size, 0);
            }
    } else {
        for (long k = 0; k < per_peer * n; k++) {
            int i = (int) (k % n);
            zmq_send(h, ids[i], strlen(ids[i]), ZMQ_SNDMORE);
            zmq_send(h, buf, size, 0);
        }
    }
    double rate = finish(rx, th, n, t0, cpu0, user0);
    for (int i = 0; i < n; i++)
        zsock_destroy(&peers[i]);
    zsock_destroy(&hub);
    return rate;
}

typedef struct {
    const char *name;
    kind_t kind;
    size_t size;
    int alo;     /* 1: ours = AT_LEAST_ONCE, baseline = mu_socket default */
    int routers; /* raw receivers are ROUTERs (same socket types as ours) */
    const char *baseline;
    int nng; /* also against nng (PUB/SUB or PUSH/PULL) */
} case_t;

/*  Ours against nng (g: nng's figures, lost: its loss fractions), or a
    skip line when nng is not built in. */
static void
report_nng(const bench_opts_t *o, const case_t *c, const double *ours, const double *g,
           const double *lost)
{
    char name[64];
    snprintf(name, sizeof name, "%s-nng", c->name);
#ifdef HAVE_NNG
    bench_report("socket", name, "msg/s", bench_median(ours, o->reps),
                 c->kind == K_PUBLISH ? "nng-pub-4-sub" : "nng-push-4-pull",
                 bench_median(g, o->reps), bench_paired_ratio(ours, g, o->reps), (double) c->size,
                 BENCH_BAR_NONE, 0);
    if (c->kind == K_PUBLISH)
        printf("{\"bench\":\"socket\",\"case\":\"%s\",\"note\":\"nng PUB lost a median "
               "%.3g %% of the messages (it drops when a SUB queue is full); mu_socket lost "
               "none\"}\n",
               name, 100 * bench_median(lost, o->reps));
#else
    (void) o;
    (void) ours;
    (void) g;
    (void) lost;
    printf("{\"bench\":\"socket\",\"case\":\"%s\",\"skipped\":\"built without nng "
           "(apt-get install libnng-dev, then configure again)\"}\n",
           name);
#endif
}

/*  nng's delivered msg/s for the case (NaN without nng). */
static double
run_nng(const case_t *c, long per_peer, int n, double *lost_p)
{
    *lost_p = NAN;
#ifdef HAVE_NNG
    char ep[256];
    ipc_endpoint(ep, sizeof ep);
    return nngb_fanout(c->kind == K_PUBLISH, c->size, per_peer, n, ep, lost_p);
#else
    (void) c;
    (void) per_peer;
    (void) n;
    return NAN;
#endif
}

/* The case's baseline run: raw libzmq, or mu_socket without
   AT_LEAST_ONCE for the alo cases. */
static double
run_base(const case_t *c, long per_peer, int n)
{
    return c->alo ? run_ours(c->kind, c->size, per_peer, n, 0)
                  : run_raw(c->kind, c->size, per_peer, n, c->routers);
}

static void
run_case(const bench_opts_t *o, const case_t *c)
{
    long per_peer = o->quick ? 20000 : 200000;
    if (c->size >= 1024)
        per_peer /= 2;
    int n = c->alo ? 1 : NPEERS;
    if (c->alo)
        per_peer *= 2;
    double ours[BENCH_MAX_REPS], base[BENCH_MAX_REPS], g[BENCH_MAX_REPS], lost[BENCH_MAX_REPS];
    double cpu_o[BENCH_MAX_REPS], cpu_b[BENCH_MAX_REPS], user_o[BENCH_MAX_REPS],
        user_b[BENCH_MAX_REPS];
    (void) run_ours(c->kind, c->size, per_peer / 10, n, c->alo); /* warm-up, not counted */
    (void) run_base(c, per_peer / 10, n);
    for (int r = 0; r < o->reps; r++) {
        /* ROUNDS runs of each side, ours and the baseline alternating
           (ABBA...; odd repetitions start with the baseline), each of
           1/ROUNDS of the messages: both sides see the same load */
        long part = per_peer / ROUNDS, total = part * n * ROUNDS;
        double t[2] = { 0, 0 }, cpu[2] = { 0, 0 }, user[2] = { 0, 0 };
        for (int k = 0; k < 2 * ROUNDS; k++) {
            int side = (k % 2) ^ ((k / 2) % 2) ^ (r % 2); /* 0 ours, 1 baseline */
            double rate = side == 0 ? run_ours(c->kind, c->size, part, n, c->alo)
                                    : run_base(c, part, n);
            t[side] += (double) (part * n) / rate; /* NaN (a short run) stays NaN */
            cpu[side] += last_cpu_s;
            user[side] += last_user_s;
        }
        ours[r] = (double) total / t[0];
        base[r] = (double) total / t[1];
        cpu_o[r] = (double) total / cpu[0];
        cpu_b[r] = (double) total / cpu[1];
        user_o[r] = (double) total / user[0];
        user_b[r] = (double) total / user[1];
        g[r] = c->nng ? run_nng(c, per_peer, n, &lost[r]) : NAN;
        if (o->verbose)
            fprintf(stderr,
                    "%s rep %d: ours %.0f base %.0f nng %.0f msg/s; per CPU s %.0f vs %.0f\n",
                    c->name, r, ours[r], base[r], g[r], cpu_o[r], cpu_b[r]);
    }
    fprintf(stderr, "# %-18s cpu time: median %.4g vs %.4g msg per CPU second, ratio %.3g\n",
            c->name, bench_median(cpu_o, o->reps), bench_median(cpu_b, o->reps),
            bench_paired_ratio(cpu_o, cpu_b, o->reps));
    fprintf(stderr, "# %-18s user cpu: median %.4g vs %.4g msg per user CPU second, ratio %.3g\n",
            c->name, bench_median(user_o, o->reps), bench_median(user_b, o->reps),
            bench_paired_ratio(user_o, user_b, o->reps));
    bench_report("socket", c->name, "msg/s", bench_median(ours, o->reps), c->baseline,
                 bench_median(base, o->reps), bench_paired_ratio(ours, base, o->reps),
                 (double) c->size, c->alo || c->routers ? BENCH_BAR_NONE : BENCH_BAR_MIN_RATIO,
                 0.85);
    if (c->nng)
        report_nng(o, c, ours, g, lost);
}

int
main(int argc, char **argv)
{
    bench_opts_t o;
    bench_parse_args(argc, argv, &o);
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    zsys_handler_set(NULL);
    static const case_t cases[] = {
        { "publish-64B", K_PUBLISH, 64, 0, 0, "raw-router-4-dealers", 1 },
        { "publish-1KiB", K_PUBLISH, 1024, 0, 0, "raw-router-4-dealers", 1 },
        { "roundrobin-64B", K_ROUNDROBIN, 64, 0, 0, "raw-router-rr-dealers", 1 },
        { "roundrobin-1KiB", K_ROUNDROBIN, 1024, 0, 0, "raw-router-rr-dealers", 1 },
        { "publish-64B-rr", K_PUBLISH, 64, 0, 1, "raw-router-4-routers", 0 },
        { "roundrobin-64B-rr", K_ROUNDROBIN, 64, 0, 1, "raw-router-rr-routers", 0 },
        { "alo-64B", K_PUBLISH, 64, 1, 0, "mu-socket-default", 0 },
        { "alo-1KiB", K_PUBLISH, 1024, 1, 0, "mu-socket-default", 0 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        if (bench_selected(&o, cases[i].name))
            run_case(&o, &cases[i]);
    int missed = bench_print_table();
    if (missed)
        printf("\n%d bar(s) missed\n", missed);
    zsys_shutdown();
    bench_remove_tree(tmpdir);
    return 0;
}
