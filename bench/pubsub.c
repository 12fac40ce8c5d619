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
    memory. Every subscriber counts what it received (mu_sub also its
    `missed`, reported at the end); a burst that has not reached every
    subscriber whole within 60 s is reported on stderr (subscribers
    complete, messages missing) and its bed gives no more figures (NaN).

    Timing. Each case sets up the three beds (ours, raw, raw3) once, side
    by side; in each, the publisher sends warm-up messages once a
    millisecond until each subscriber has received one (subscriptions have
    arrived, through the proxy too), then N / 10 more and a last warm-up
    message that every subscriber must see. Then each repetition sends a
    burst of N messages through each bed in turn (the order rotating):
    the clock runs from the first send until the last subscriber holds
    the burst's N-th message. Short bursts back to back pair ours and the
    baselines within about a second, which matters on a shared machine
    (single runs there swing 3x). The unit is messages per second received
    by each subscriber (N / time; all NSUBS receive all N). The process's
    CPU time over the same span gives messages per CPU second (every
    thread: publisher, subscribers, proxy, libzmq's I/O thread). Ratios
    are medians of per-repetition ratios.

    Cases direct-64B, direct-1KiB (bar 0.90 x raw), proxy-64B, proxy-1KiB
    (bar 0.80 x raw); each prints four lines: CASE (ours / raw, msg/s),
    CASE-cpu (ours / raw, messages per CPU second), CASE-raw3 (raw3 / raw:
    what the third frame costs libzmq alone), CASE-vs-raw3 (ours / raw3:
    what libmutil adds besides that frame).

    Cases direct-64B-plain, direct-1KiB-plain, proxy-64B-plain,
    proxy-1KiB-plain: ours with the trailer off (mu_pub_set_trailer: a
    message is [topic][payload], as raw's) against raw, the two beds
    alternating in each repetition; two lines each, CASE and CASE-cpu,
    with the same bars. */
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
#define RECV_TIMEOUT_MS 200 /* subscribers look at `quit` this often */
#define READY_TIMEOUT_NS 10000000000LL
#define BURST_TIMEOUT_NS 60000000000LL
#define TRAILER_SIZE 17

static const char TOPIC[] = "ticks.bench";
static const char PREFIX[] = "ticks";

typedef enum { IMPL_OURS, IMPL_RAW, IMPL_RAW3 } impl_t;
static const char *const impl_names[] = { "ours", "raw", "raw3" };

enum { KIND_WARM = 'W', KIND_LAST = 'L', KIND_MEASURE = 'M' };

typedef struct {
    mu_sub_t *ours;
    void *raw;
    long expect;        /* messages per burst */
    atomic_int *ready;  /* subscribers that received a warm-up message */
    atomic_int *warmed; /* subscribers that received the last warm-up */
    atomic_int *done;   /* subscribers that received the whole burst */
    atomic_int *quit;   /* set by the publisher: leave */
    long got;           /* of this burst */
    int64_t end_ns;     /* when the last burst was complete */
    uint64_t missed;    /* ours: mu_sub's gap count at the end */
} sub_t;

static void *raw_ctx;

/* ---- subscribers ---------------------------------------------------------- */

/* Takes one received message of the given kind into the subscriber's
   counts. */
static void
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
        s->got = 0;
        atomic_fetch_add(s->done, 1); /* publishes end_ns to the publisher */
    }
}

static void *
recv_ours(void *arg)
{
    sub_t *s = arg;
    int seen_warm = 0;
    mu_sub_msg_t m;
    while (!atomic_load(s->quit)) {
        int rc = mu_sub_recv(s->ours, &m, RECV_TIMEOUT_MS);
        if (rc == 0 && m.size > 0)
            on_message(s, ((const uint8_t *) m.data)[0], &seen_warm);
        else if (rc != 0 && rc != MU_ETIMEDOUT)
            break;
    }
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
    while (!atomic_load(s->quit)) {
        int n = 0, more = 1;
        while (more) { /* the whole message: topic, payload (, trailer) */
            zmq_msg_t *f = &frames[n < 2 ? n : 2];
            if (zmq_msg_recv(f, s->raw, 0) < 0) {
                if (n == 0 && errno == EAGAIN)
                    break; /* RCVTIMEO: look at quit */
                goto out;
            }
            more = zmq_msg_more(f);
            n++;
        }
        if (n >= 2 && zmq_msg_size(&frames[1]) > 0)
            on_message(s, ((const uint8_t *) zmq_msg_data(&frames[1]))[0], &seen_warm);
    }
out:
    for (int i = 0; i < 3; i++)
        zmq_msg_close(&frames[i]);
    return NULL;
}

/* ---- one run ---------------------------------------------------------------- */

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

/* mu_pub (nodrop; without the trailer when plain), optionally mu_proxy,
   NSUBS mu_subs. Returns 0 or -1. */
static int
ours_setup(net_t *net, int proxy, int plain)
{
    int sub_hwm = proxy ? 0 : HWM;
    net->pub = mu_pub_new();
    if (!net->pub || mu_pub_set_hwm(net->pub, HWM) != 0 || mu_pub_set_nodrop(net->pub, 1, -1) != 0
        || mu_pub_set_trailer(net->pub, !plain) != 0)
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

/* CPU time of the whole process (every thread), in nanoseconds. */
static int64_t
cpu_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (int64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* One publisher, its proxy and NSUBS subscribers on their threads, set up
   once per case and measured in bursts. */
typedef struct {
    impl_t impl;
    size_t size;
    long n; /* messages per burst */
    net_t net;
    sub_t subs[NSUBS];
    pthread_t threads[NSUBS];
    int started;
    int broken; /* a burst did not arrive whole: no more figures */
    atomic_int ready, warmed, done, quit;
    uint8_t buf[MAX_SIZE];
} bed_t;

/* Waits until *counter reaches NSUBS, publishing a warm-up message each
   millisecond when `poke`. Returns 0 or -1 (timeout). */
static int
await_subscribers(bed_t *bed, atomic_int *counter, int poke, int64_t timeout_ns)
{
    int64_t deadline = bench_now_ns() + timeout_ns;
    while (atomic_load(counter) < NSUBS) {
        if (bench_now_ns() > deadline)
            return -1;
        if (poke && publish(&bed->net, bed->impl, bed->buf, bed->size, KIND_WARM) != 0)
            return -1;
        usleep(poke ? 1000 : 20);
    }
    return 0;
}

/* Sets up, starts the subscribers, waits for their subscriptions, warms
   up with n / 10 messages. Returns 0 or -1 (reported on stderr). */
static int
bed_open(bed_t *bed, impl_t impl, int proxy, int plain, size_t size, long n, const char *case_name)
{
    memset(bed, 0, sizeof *bed);
    bed->impl = impl;
    bed->size = size;
    bed->n = n;
    memset(bed->buf, 0x5a, sizeof bed->buf);
    int rc = impl == IMPL_OURS ? ours_setup(&bed->net, proxy, plain) : raw_setup(&bed->net, proxy);
    if (rc != 0) {
        fprintf(stderr, "%s: set-up failed (%s)\n", case_name, mu_last_error());
        return -1;
    }
    for (; bed->started < NSUBS; bed->started++) {
        sub_t *s = &bed->subs[bed->started];
        s->ours = bed->net.subs[bed->started];
        s->raw = bed->net.rsubs[bed->started];
        s->expect = n;
        s->ready = &bed->ready;
        s->warmed = &bed->warmed;
        s->done = &bed->done;
        s->quit = &bed->quit;
        if (pthread_create(&bed->threads[bed->started], NULL,
                           impl == IMPL_OURS ? recv_ours : recv_raw, s)
            != 0)
            return -1;
    }
    if (await_subscribers(bed, &bed->ready, 1, READY_TIMEOUT_NS) != 0) {
        fprintf(stderr, "%s: subscribers not ready in time\n", case_name);
        return -1;
    }
    for (long i = 0; i < n / 10; i++)
        if (publish(&bed->net, impl, bed->buf, size, KIND_WARM) != 0)
            return -1;
    if (publish(&bed->net, impl, bed->buf, size, KIND_LAST) != 0
        || await_subscribers(bed, &bed->warmed, 0, READY_TIMEOUT_NS) != 0)
        return -1;
    return 0;
}

/* One burst of n messages; returns messages/s per subscriber (from the
   first send until the last subscriber holds the n-th), or NaN when the
   bed is broken or the burst does not arrive whole within BURST_TIMEOUT
   (a loss; reported on stderr, the bed is then broken). *per_cpu gets
   the messages published per CPU second of the process over the same
   span (every thread: publisher, subscribers, proxy, libzmq's I/O
   thread). */
static double
bed_burst(bed_t *bed, const char *case_name, double *per_cpu)
{
    *per_cpu = NAN;
    if (bed->broken)
        return NAN;
    atomic_store(&bed->done, 0);
    int64_t t0 = bench_now_ns(), cpu0 = cpu_now_ns();
    for (long i = 0; i < bed->n; i++)
        if (publish(&bed->net, bed->impl, bed->buf, bed->size, KIND_MEASURE) != 0) {
            fprintf(stderr, "%s: publish failed (%s)\n", case_name, mu_last_error());
            bed->broken = 1;
            return NAN;
        }
    if (await_subscribers(bed, &bed->done, 0, BURST_TIMEOUT_NS) != 0) {
        long short_of = 0;
        for (int i = 0; i < NSUBS; i++)
            short_of += bed->subs[i].got ? bed->n - bed->subs[i].got : 0;
        fprintf(stderr,
                "%s: %s: a burst did not arrive whole (%d of %d subscribers "
                "complete, about %ld messages missing)\n",
                case_name, impl_names[bed->impl], atomic_load(&bed->done), NSUBS, short_of);
        bed->broken = 1;
        return NAN;
    }
    int64_t cpu = cpu_now_ns() - cpu0, end = t0;
    for (int i = 0; i < NSUBS; i++)
        end = bed->subs[i].end_ns > end ? bed->subs[i].end_ns : end;
    *per_cpu = (double) bed->n / ((double) cpu / 1e9);
    return (double) bed->n / ((double) (end - t0) / 1e9);
}

/* Stops the subscribers and closes everything; reports mu_sub's gap
   count if any. */
static void
bed_close(bed_t *bed, const char *case_name)
{
    atomic_store(&bed->quit, 1);
    uint64_t missed = 0;
    for (int i = 0; i < bed->started; i++) {
        pthread_join(bed->threads[i], NULL);
        missed += bed->subs[i].missed;
    }
    if (missed)
        fprintf(stderr, "%s: ours: mu_sub counted %llu missed\n", case_name,
                (unsigned long long) missed);
    teardown(&bed->net);
}

/* ---- cases ------------------------------------------------------------------- */

typedef struct {
    const char *name;
    int proxy;
    size_t size;
    const char *raw_name; /* the baseline's name in the output */
    double bar;           /* minimum ratio ours / raw */
    int plain;            /* ours without the trailer; no raw3 bed */
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

/* Runs ours, raw and raw3 (not for plain cases) back to back in each
   repetition (the order rotating), then reports ours / raw (the bar), the
   same per CPU second, and for three-frame cases raw3 / raw (the third
   frame alone) and ours / raw3 (what we add besides it). */
static void
run_case(const bench_opts_t *o, const case_t *c)
{
    long n = c->size >= 1024 ? 30000 : 100000; /* a burst: ~0.3-0.6 s here */
    n = (long) ((double) n * o->target_s / 0.7);
    if (n < 1000)
        n = 1000;
    double rate[3][BENCH_MAX_REPS], cpu[3][BENCH_MAX_REPS];
    static bed_t beds[3];
    int ok = 1, nbeds = c->plain ? 2 : 3;
    for (int r = 0; r < o->reps; r++)
        rate[IMPL_RAW3][r] = cpu[IMPL_RAW3][r] = NAN; /* when it does not run */
    for (int k = 0; k < nbeds; k++)
        ok &= bed_open(&beds[k], (impl_t) k, c->proxy, c->plain, c->size, n, c->name) == 0;
    for (int r = 0; r < o->reps; r++) {
        for (int k = 0; k < nbeds; k++) {
            impl_t impl = (impl_t) ((r + k) % nbeds);
            rate[impl][r] = ok ? bed_burst(&beds[impl], c->name, &cpu[impl][r]) : NAN;
            if (!ok)
                cpu[impl][r] = NAN;
        }
        if (o->verbose)
            fprintf(stderr,
                    "%s rep %d: ours %.0f raw %.0f raw3 %.0f msg/s, ours/raw %.3f raw3/raw %.3f; "
                    "per CPU s ours %.0f raw %.0f raw3 %.0f\n",
                    c->name, r, rate[IMPL_OURS][r], rate[IMPL_RAW][r], rate[IMPL_RAW3][r],
                    rate[IMPL_OURS][r] / rate[IMPL_RAW][r], rate[IMPL_RAW3][r] / rate[IMPL_RAW][r],
                    cpu[IMPL_OURS][r], cpu[IMPL_RAW][r], cpu[IMPL_RAW3][r]);
    }
    for (int k = 0; k < nbeds; k++)
        bed_close(&beds[k], c->name);
    char raw3_name[48];
    snprintf(raw3_name, sizeof raw3_name, "%s-3-frames", c->raw_name);
    report(c, "", "msg/s", rate[IMPL_OURS], c->raw_name, rate[IMPL_RAW], o->reps, c->bar);
    report(c, "-cpu", "msg/cpus", cpu[IMPL_OURS], c->raw_name, cpu[IMPL_RAW], o->reps, 0);
    if (c->plain)
        return;
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
        { "direct-64B", 0, 64, "raw-pub-4-sub", 0.90, 0 },
        { "direct-1KiB", 0, 1024, "raw-pub-4-sub", 0.90, 0 },
        { "proxy-64B", 1, 64, "raw-zmq_proxy-4-sub", 0.80, 0 },
        { "proxy-1KiB", 1, 1024, "raw-zmq_proxy-4-sub", 0.80, 0 },
        { "direct-64B-plain", 0, 64, "raw-pub-4-sub", 0.90, 1 },
        { "direct-1KiB-plain", 0, 1024, "raw-pub-4-sub", 0.90, 1 },
        { "proxy-64B-plain", 1, 64, "raw-zmq_proxy-4-sub", 0.80, 1 },
        { "proxy-1KiB-plain", 1, 1024, "raw-zmq_proxy-4-sub", 0.80, 1 },
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
