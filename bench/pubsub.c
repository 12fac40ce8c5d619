/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  bench/pubsub.c — topic pub/sub throughput, mu_pub → mu_sub against raw
    libzmq PUB → SUB, directly and through one proxy hop.

    Shape (both sides alike): one process; the publisher sends from the
    main thread, each of NSUBS subscribers receives on a thread of its own,
    a proxy forwards on its own thread; every hop is tcp:// over loopback
    (127.0.0.1). Ours live on czmq's context, raw sockets on a context of
    their own; both have libzmq's default of one I/O thread.
      ours    mu_pub → NSUBS mu_sub, or mu_pub → mu_proxy → NSUBS mu_sub;
              a message is [topic][payload][trailer];
      raw     a libzmq PUB sending [topic][payload] → NSUBS SUBs, or
              PUB → zmq_proxy_steerable (XSUB upstream, XPUB downstream)
              → NSUBS SUBs;
      raw3    the raw program sending a third, 17-byte frame as our
              trailer (the price of the frame alone, ratio against raw).
    Every subscriber subscribes to the prefix "ticks"; messages are
    published on "ticks.bench".

    Losslessness. Direct: both publishers are in nodrop mode (libzmq's
    ZMQ_XPUB_NODROP, a blocking send) with a high-water mark of HWM on
    each side of every pipe, so the publisher runs at the pace of the
    slowest subscriber and nothing is dropped. Through a proxy: the
    publishers are in nodrop mode towards the proxy; the proxies (mu_proxy
    is lossy, zmq_proxy's XPUB too) and the subscribers have no high-water
    mark (0), so no queue is ever full; the number of messages bounds the
    memory. Every subscriber counts what it received (and mu_sub its
    `missed`); a repetition where one subscriber lacks a message is
    reported on stderr with the count and gives no figure (NaN).

    Timing. Before the clock: the publisher sends warm-up messages once a
    millisecond until each subscriber has received one (subscriptions have
    arrived, through the proxy too), then N / 10 more and a last warm-up
    message; when every subscriber has seen that one the clock starts, N
    messages are sent, and the clock stops when the last subscriber holds
    its N-th. The unit is messages per second received by each subscriber
    (N / time; all NSUBS receive all N). The process's CPU time over the
    same span gives messages per CPU second (every thread: publisher,
    subscribers, proxy, libzmq's I/O thread), steadier than the rate on a
    shared machine. Ours, raw and raw3 run back to back in each
    repetition, the order rotating; ratios are medians of per-repetition
    ratios.

    Cases direct-64B, direct-1KiB (bar 0.90 x raw), proxy-64B, proxy-1KiB
    (bar 0.80 x raw); each prints four lines: CASE (ours / raw, msg/s),
    CASE-cpu (ours / raw, messages per CPU second), CASE-raw3 (raw3 / raw:
    what the third frame costs libzmq alone), CASE-vs-raw3 (ours / raw3:
    what libmutil adds besides that frame). */
#include "config.h"

#include <czmq.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mutil.h"
#include "bench.h"

#define NSUBS 4
#define HWM 1000
#define MAX_SIZE 1024
#define RECV_TIMEOUT_MS 5000
#define READY_TIMEOUT_NS 10000000000LL
#define TRAILER_SIZE 17

static const char TOPIC[] = "ticks.bench";
static const char PREFIX[] = "ticks";

typedef enum { IMPL_OURS, IMPL_RAW, IMPL_RAW3 } impl_t;

enum { KIND_WARM = 'W', KIND_LAST = 'L', KIND_MEASURE = 'M' };

typedef struct {
    impl_t impl;
    mu_sub_t *ours;
    void *raw;
    long expect;
    atomic_int *ready;  /* subscribers that received a warm-up message */
    atomic_int *warmed; /* subscribers that received the last warm-up */
    long got;
    uint64_t missed; /* ours: mu_sub's gap count */
    int64_t end_ns;
} sub_t;

static void *raw_ctx;

/* ---- subscribers ---------------------------------------------------------- */

/* Takes one received message of the given kind into the subscriber's
   counts. Returns 1 when the subscriber has everything. */
static int
on_message(sub_t *s, int kind, int *seen_warm)
{
    if (!*seen_warm && (kind == KIND_WARM || kind == KIND_LAST)) {
        *seen_warm = 1;
        atomic_fetch_add(s->ready, 1);
    }
    if (kind == KIND_LAST)
        atomic_fetch_add(s->warmed, 1);
    if (kind == KIND_MEASURE && ++s->got == s->expect) {
        s->end_ns = bench_now_ns();
        return 1;
    }
    return 0;
}

static void *
recv_ours(void *arg)
{
    sub_t *s = arg;
    int seen_warm = 0;
    mu_sub_msg_t m;
    while (mu_sub_recv(s->ours, &m, RECV_TIMEOUT_MS) == 0)
        if (m.size > 0 && on_message(s, ((const uint8_t *) m.data)[0], &seen_warm))
            break;
    mu_sub_stats_t st = { .size = sizeof st };
    if (mu_sub_stats(s->ours, &st) == 0)
        s->missed = st.missed;
    return NULL;
}

static void *
recv_raw(void *arg)
{
    sub_t *s = arg;
    int seen_warm = 0;
    zmq_msg_t frames[3];
    for (int i = 0; i < 3; i++)
        zmq_msg_init(&frames[i]);
    while (true) {
        int n = 0, more = 1;
        while (more) { /* the whole message: topic, payload (, trailer) */
            zmq_msg_t *f = &frames[n < 2 ? n : 2];
            if (zmq_msg_recv(f, s->raw, 0) < 0)
                goto out;
            more = zmq_msg_more(f);
            n++;
        }
        if (n >= 2 && zmq_msg_size(&frames[1]) > 0
            && on_message(s, ((const uint8_t *) zmq_msg_data(&frames[1]))[0], &seen_warm))
            break;
    }
out:
    for (int i = 0; i < 3; i++)
        zmq_msg_close(&frames[i]);
    return NULL;
}

/* ---- one run ---------------------------------------------------------------- */

typedef struct {
    impl_t impl;
    int proxy;
    size_t size;
    long n;      /* measured messages */
    long warmup; /* warm-up messages after every subscriber is ready */
} run_t;

/* The sockets of one run, ours or raw. */
typedef struct {
    mu_pub_t *pub;
    mu_proxy_t *proxy;
    mu_sub_t *subs[NSUBS];
    void *rpub, *rsubs[NSUBS];
    void *xsub, *xpub, *ctl_owner, *ctl_thread;
    pthread_t proxy_thread;
    int proxy_running;
    char sub_endpoint[256]; /* where the subscribers connect */
} net_t;

static void
raw_set(void *s, int option, int value)
{
    zmq_setsockopt(s, option, &value, sizeof value);
}

static void *
raw_socket(int type, int hwm)
{
    void *s = zmq_socket(raw_ctx, type);
    if (s) {
        raw_set(s, ZMQ_LINGER, 0);
        raw_set(s, ZMQ_SNDHWM, hwm);
        raw_set(s, ZMQ_RCVHWM, hwm);
    }
    return s;
}

/* Binds s to tcp on loopback and copies the endpoint. Returns 0 or -1. */
static int
raw_bind(void *s, char *endpoint, size_t cap)
{
    if (zmq_bind(s, "tcp://127.0.0.1:*") != 0)
        return -1;
    size_t len = cap;
    return zmq_getsockopt(s, ZMQ_LAST_ENDPOINT, endpoint, &len);
}

static void *
raw_proxy_main(void *arg)
{
    net_t *net = arg;
    (void) zmq_proxy_steerable(net->xsub, net->xpub, NULL, net->ctl_thread);
    return NULL;
}

/* Raw PUB (nodrop), optionally zmq_proxy, NSUBS SUBs. Returns 0 or -1. */
static int
raw_setup(net_t *net, int proxy)
{
    static int serial;
    char ep[256];
    int sub_hwm = proxy ? 0 : HWM;
    net->rpub = raw_socket(ZMQ_PUB, HWM);
    if (!net->rpub)
        return -1;
    raw_set(net->rpub, ZMQ_XPUB_NODROP, 1);
    if (proxy) {
        net->xsub = raw_socket(ZMQ_XSUB, 0);
        net->xpub = raw_socket(ZMQ_XPUB, 0);
        net->ctl_owner = zmq_socket(raw_ctx, ZMQ_PAIR);
        net->ctl_thread = zmq_socket(raw_ctx, ZMQ_PAIR);
        char ctl[64];
        snprintf(ctl, sizeof ctl, "inproc://bench-proxy-%d", serial++);
        if (!net->xsub || !net->xpub || !net->ctl_owner || !net->ctl_thread
            || zmq_bind(net->ctl_owner, ctl) != 0 || zmq_connect(net->ctl_thread, ctl) != 0
            || raw_bind(net->xsub, ep, sizeof ep) != 0 || zmq_connect(net->rpub, ep) != 0
            || raw_bind(net->xpub, net->sub_endpoint, sizeof net->sub_endpoint) != 0)
            return -1;
        if (pthread_create(&net->proxy_thread, NULL, raw_proxy_main, net) != 0)
            return -1;
        net->proxy_running = 1;
    } else if (raw_bind(net->rpub, net->sub_endpoint, sizeof net->sub_endpoint) != 0)
        return -1;
    for (int i = 0; i < NSUBS; i++) {
        net->rsubs[i] = raw_socket(ZMQ_SUB, sub_hwm);
        if (!net->rsubs[i])
            return -1;
        raw_set(net->rsubs[i], ZMQ_RCVTIMEO, RECV_TIMEOUT_MS);
        zmq_setsockopt(net->rsubs[i], ZMQ_SUBSCRIBE, PREFIX, strlen(PREFIX));
        if (zmq_connect(net->rsubs[i], net->sub_endpoint) != 0)
            return -1;
    }
    return 0;
}

/* mu_pub (nodrop), optionally mu_proxy, NSUBS mu_subs. Returns 0 or -1. */
static int
ours_setup(net_t *net, int proxy)
{
    int sub_hwm = proxy ? 0 : HWM;
    net->pub = mu_pub_new();
    if (!net->pub || mu_pub_set_hwm(net->pub, HWM) != 0 || mu_pub_set_nodrop(net->pub, 1, -1) != 0)
        return -1;
    if (proxy) {
        net->proxy = mu_proxy_new();
        if (!net->proxy || mu_proxy_set_hwm(net->proxy, 0) != 0
            || mu_proxy_bind(net->proxy, MU_PROXY_UPSTREAM, "tcp://127.0.0.1:*") < 0
            || mu_proxy_bind(net->proxy, MU_PROXY_DOWNSTREAM, "tcp://127.0.0.1:*") < 0
            || mu_proxy_start(net->proxy) != 0
            || mu_pub_connect(net->pub, mu_proxy_endpoint(net->proxy, MU_PROXY_UPSTREAM)) != 0)
            return -1;
        snprintf(net->sub_endpoint, sizeof net->sub_endpoint, "%s",
                 mu_proxy_endpoint(net->proxy, MU_PROXY_DOWNSTREAM));
    } else {
        if (mu_pub_bind(net->pub, "tcp://127.0.0.1:*") < 0)
            return -1;
        snprintf(net->sub_endpoint, sizeof net->sub_endpoint, "%s", mu_pub_endpoint(net->pub));
    }
    for (int i = 0; i < NSUBS; i++) {
        net->subs[i] = mu_sub_new();
        if (!net->subs[i] || mu_sub_set_hwm(net->subs[i], sub_hwm) != 0
            || mu_sub_subscribe(net->subs[i], PREFIX, strlen(PREFIX)) != 0
            || mu_sub_connect(net->subs[i], net->sub_endpoint) != 0)
            return -1;
    }
    return 0;
}

static void
teardown(net_t *net)
{
    for (int i = 0; i < NSUBS; i++) {
        mu_sub_destroy(&net->subs[i]);
        if (net->rsubs[i])
            zmq_close(net->rsubs[i]);
    }
    mu_proxy_destroy(&net->proxy);
    mu_pub_destroy(&net->pub);
    if (net->proxy_running) {
        zmq_send(net->ctl_owner, "TERMINATE", 9, 0);
        pthread_join(net->proxy_thread, NULL);
    }
    void *raw[] = { net->rpub, net->xsub, net->xpub, net->ctl_owner, net->ctl_thread };
    for (size_t i = 0; i < sizeof raw / sizeof raw[0]; i++)
        if (raw[i])
            zmq_close(raw[i]);
}

/* Publishes one message whose payload starts with kind. Returns 0 or -1. */
static int
publish(net_t *net, impl_t impl, uint8_t *buf, size_t size, int kind)
{
    buf[0] = (uint8_t) kind;
    if (impl == IMPL_OURS)
        return mu_pub_send(net->pub, TOPIC, sizeof TOPIC - 1, buf, size) == 0 ? 0 : -1;
    static const uint8_t trailer[TRAILER_SIZE] = { 0 };
    if (zmq_send(net->rpub, TOPIC, sizeof TOPIC - 1, ZMQ_SNDMORE) < 0
        || zmq_send(net->rpub, buf, size, impl == IMPL_RAW3 ? ZMQ_SNDMORE : 0) < 0)
        return -1;
    if (impl == IMPL_RAW3 && zmq_send(net->rpub, trailer, sizeof trailer, 0) < 0)
        return -1;
    return 0;
}

/* Waits until *counter reaches NSUBS, publishing a warm-up message each
   millisecond when `poke`. Returns 0 or -1 (timeout). */
static int
await_subscribers(net_t *net, const run_t *run, uint8_t *buf, atomic_int *counter, int poke)
{
    int64_t deadline = bench_now_ns() + READY_TIMEOUT_NS;
    while (atomic_load(counter) < NSUBS) {
        if (bench_now_ns() > deadline)
            return -1;
        if (poke && publish(net, run->impl, buf, run->size, KIND_WARM) != 0)
            return -1;
        usleep(poke ? 1000 : 100);
    }
    return 0;
}

/* CPU time of the whole process (every thread), in nanoseconds. */
static int64_t
cpu_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (int64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* One measurement; returns messages/s per subscriber, or NaN (a failure
   or a loss, reported on stderr); *per_cpu gets the messages published
   per CPU second the process spent from the first to the last delivery
   (every thread: publisher, subscribers, proxy, libzmq's I/O thread). */
static double
run_once(const run_t *run, const char *case_name, double *per_cpu)
{
    *per_cpu = NAN;
    net_t net;
    memset(&net, 0, sizeof net);
    double rate = NAN;
    sub_t subs[NSUBS];
    pthread_t threads[NSUBS];
    int started = 0;
    atomic_int ready = 0, warmed = 0;
    int rc = run->impl == IMPL_OURS ? ours_setup(&net, run->proxy) : raw_setup(&net, run->proxy);
    if (rc != 0) {
        fprintf(stderr, "%s: set-up failed (%s)\n", case_name, mu_last_error());
        goto done;
    }
    memset(subs, 0, sizeof subs);
    for (; started < NSUBS; started++) {
        sub_t *s = &subs[started];
        s->impl = run->impl;
        s->ours = net.subs[started];
        s->raw = net.rsubs[started];
        s->expect = run->n;
        s->ready = &ready;
        s->warmed = &warmed;
        if (pthread_create(&threads[started], NULL, run->impl == IMPL_OURS ? recv_ours : recv_raw,
                           s)
            != 0)
            goto done;
    }
    uint8_t buf[MAX_SIZE];
    memset(buf, 0x5a, sizeof buf);
    if (await_subscribers(&net, run, buf, &ready, 1) != 0) {
        fprintf(stderr, "%s: subscribers not ready in time\n", case_name);
        goto done;
    }
    for (long i = 0; i < run->warmup; i++)
        if (publish(&net, run->impl, buf, run->size, KIND_WARM) != 0)
            goto done;
    if (publish(&net, run->impl, buf, run->size, KIND_LAST) != 0
        || await_subscribers(&net, run, buf, &warmed, 0) != 0)
        goto done;
    int64_t t0 = bench_now_ns(), cpu0 = cpu_now_ns();
    for (long i = 0; i < run->n; i++)
        if (publish(&net, run->impl, buf, run->size, KIND_MEASURE) != 0) {
            fprintf(stderr, "%s: publish failed (%s)\n", case_name, mu_last_error());
            break;
        }
    for (int i = 0; i < started; i++)
        pthread_join(threads[i], NULL);
    int64_t cpu = cpu_now_ns() - cpu0;
    int64_t end = t0;
    long lost = 0;
    uint64_t missed = 0;
    for (int i = 0; i < NSUBS; i++) {
        lost += run->n - subs[i].got;
        missed += subs[i].missed;
        end = subs[i].end_ns > end ? subs[i].end_ns : end;
    }
    started = 0;
    if (lost == 0 && missed == 0) {
        rate = (double) run->n / ((double) (end - t0) / 1e9);
        *per_cpu = (double) run->n / ((double) cpu / 1e9);
    } else
        fprintf(stderr, "%s: %s lost %ld of %ld messages (mu_sub missed: %llu)\n", case_name,
                run->impl == IMPL_OURS ? "ours" : "raw", lost, run->n * NSUBS,
                (unsigned long long) missed);
done:
    if (started) { /* a failure before the measurement: let the threads time out */
        for (int i = 0; i < started; i++)
            pthread_join(threads[i], NULL);
    }
    teardown(&net);
    return rate;
}

/* ---- cases ------------------------------------------------------------------- */

typedef struct {
    const char *name;
    int proxy;
    size_t size;
    const char *raw_name; /* the baseline's name in the output */
    double bar;           /* minimum ratio ours / raw */
} case_t;

static void
report(const case_t *c, const char *suffix, const char *unit, const double *v,
       const char *base_name, const double *b, int reps, double bar)
{
    char name[48];
    snprintf(name, sizeof name, "%s%s", c->name, suffix);
    bench_report("pubsub", name, unit, bench_median(v, reps), base_name, bench_median(b, reps),
                 bench_paired_ratio(v, b, reps), (double) c->size,
                 bar > 0 ? BENCH_BAR_MIN_RATIO : BENCH_BAR_NONE, bar);
}

/* Runs ours, raw and raw3 back to back in each repetition (the order
   rotating), then reports ours / raw (the bar), the same per CPU second,
   raw3 / raw (the third frame alone) and ours / raw3 (what we add besides
   it). */
static void
run_case(const bench_opts_t *o, const case_t *c)
{
    long n = c->size >= 1024 ? 100000 : 300000;
    n = (long) ((double) n * o->target_s / 0.7);
    if (n < 1000)
        n = 1000;
    double rate[3][BENCH_MAX_REPS], cpu[3][BENCH_MAX_REPS];
    for (int r = 0; r < o->reps; r++) {
        for (int k = 0; k < 3; k++) {
            impl_t impl = (impl_t) ((r + k) % 3);
            run_t run = { impl, c->proxy, c->size, n, n / 10 };
            rate[impl][r] = run_once(&run, c->name, &cpu[impl][r]);
        }
        if (o->verbose)
            fprintf(stderr,
                    "%s rep %d: ours %.0f raw %.0f raw3 %.0f msg/s, ours/raw %.3f raw3/raw %.3f; "
                    "per CPU s ours %.0f raw %.0f raw3 %.0f\n",
                    c->name, r, rate[IMPL_OURS][r], rate[IMPL_RAW][r], rate[IMPL_RAW3][r],
                    rate[IMPL_OURS][r] / rate[IMPL_RAW][r], rate[IMPL_RAW3][r] / rate[IMPL_RAW][r],
                    cpu[IMPL_OURS][r], cpu[IMPL_RAW][r], cpu[IMPL_RAW3][r]);
    }
    char raw3_name[48];
    snprintf(raw3_name, sizeof raw3_name, "%s-3-frames", c->raw_name);
    report(c, "", "msg/s", rate[IMPL_OURS], c->raw_name, rate[IMPL_RAW], o->reps, c->bar);
    report(c, "-cpu", "msg/cpus", cpu[IMPL_OURS], c->raw_name, cpu[IMPL_RAW], o->reps, 0);
    report(c, "-raw3", "msg/s", rate[IMPL_RAW3], c->raw_name, rate[IMPL_RAW], o->reps, 0);
    report(c, "-vs-raw3", "msg/s", rate[IMPL_OURS], raw3_name, rate[IMPL_RAW3], o->reps, 0);
}

int
main(int argc, char **argv)
{
    bench_opts_t o;
    bench_parse_args(argc, argv, &o);
    zsys_handler_set(NULL);
    raw_ctx = zmq_ctx_new();
    if (!raw_ctx) {
        fprintf(stderr, "zmq_ctx_new failed\n");
        return 1;
    }
    static const case_t cases[] = {
        { "direct-64B", 0, 64, "raw-pub-4-sub", 0.90 },
        { "direct-1KiB", 0, 1024, "raw-pub-4-sub", 0.90 },
        { "proxy-64B", 1, 64, "raw-zmq_proxy-4-sub", 0.80 },
        { "proxy-1KiB", 1, 1024, "raw-zmq_proxy-4-sub", 0.80 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        if (bench_selected(&o, cases[i].name))
            run_case(&o, &cases[i]);
    int missed = bench_print_table();
    if (missed)
        printf("\n%d bar(s) missed\n", missed);
    zsys_shutdown();
    zmq_ctx_term(raw_ctx);
    return 0;
}
