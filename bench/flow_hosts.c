/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  bench/flow_hosts.c — a flow over 1, 2 and 3 worker hosts with I/O-like
    work (a 3 ms sleep per message), mu_flow against a hand-written plain
    ZeroMQ fan-out of the same shape.

    Run it through bench/flow_hosts.sh (`make bench-flow-hosts`), which
    makes a network-namespace test bed (tests/lib/netns.sh: host i is
    10.77.0.i) and passes its namespace prefix in MU_BENCH_NETNS; each
    host's processes then enter their namespace (setns) after the fork.
    Without MU_BENCH_NETNS every "host" runs in this namespace on
    127.0.0.1 (figures still comparable, but not over a network).
    MU_BENCH_WORKERS sets the workers per worker host (default 4).

    Shape: host 1 runs the source and the sink; hosts 2..H+1 run the
    workers, the same number on each. Messages are 16 bytes (a number and
    the send time). Throughput is counted from the source's first send
    until the sink has every number (set-up excluded: the source starts
    300 ms after every host is up).
      raw    plain ZeroMQ: the source's PUSH (bound) → PULL of every worker
             (connected) → sleep → PUSH (connected) → the sink's PULL (bound);
      chain  mu_flow with the API before multi-host flows: one worker stage
             per worker host (a pinned split flow, mu_flow_set_local and
             mu_flow_set_endpoint), chained src → w1 → ... → wH → sink; stage
             k sleeps on the numbers with n % H == k - 1 and passes the others
             on (the only way to use H hosts for one kind of work there: a
             static share, not balanced by the workers' speed);
      spread mu_flow with one worker stage spread over the worker hosts
             (mu_flow_add_host, mu_flow_set_runners_on);
      -curve the same with CURVE (the raw path: CURVE on every socket, the
             bound ones servers, without ZAP);
      alo    spread with at-least-once on the link into the workers, against
             spread with the default delivery.
    Each repetition runs every path back to back; ratios are medians of
    per-repetition ratios. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "mutil.h"
#include "bench.h"
#include "bench_flow.h"

#define MAX_HOSTS 3 /* worker hosts */
#define MAX_PROCS 300
#define WORK_NS 3000000L
#define SETTLE_US 300000
#define SECRET "bench flow_hosts shared passphrase"

typedef enum { PATH_RAW, PATH_CHAIN, PATH_SPREAD } path_t;

static const char *ns_prefix; /* MU_BENCH_NETNS; NULL: loopback */
static int per_host = 4;      /* workers per worker host */
static int hosts;             /* worker hosts of this run */
static uint64_t n_msgs;
static bool curve, alo;
static int port_base;
static int report_fd = -1, ready_fd = -1, go_fd = -1;
static mu_keys_t *srv_keys, *cli_keys;
static volatile sig_atomic_t stop_flag;

/* ---- hosts ------------------------------------------------------------------ */

static void
host_addr(int h, char *buf, size_t cap)
{
    if (ns_prefix)
        snprintf(buf, cap, "10.77.0.%d", h);
    else
        snprintf(buf, cap, "127.0.0.1");
}

static void
enter_host(int h)
{
    if (!ns_prefix)
        return;
    char path[256];
    snprintf(path, sizeof path, "/run/netns/%s%d", ns_prefix, h);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || setns(fd, CLONE_NEWNET) != 0) {
        fprintf(stderr, "flow_hosts: cannot enter %s: %s\n", path, strerror(errno));
        _exit(3);
    }
    close(fd);
}

/*  Host h's ports: 64 from port_base + 64 * h (distinct on loopback too). */
static int
host_port(int h, int i)
{
    return port_base + 64 * h + i;
}

static void
say(int fd, char c)
{
    if (write(fd, &c, 1) != 1)
        _exit(9);
}

static void
wait_go(void)
{
    char c;
    if (read(go_fd, &c, 1) != 1)
        _exit(9);
    usleep(SETTLE_US);
    report_t r = { .start_ns = bench_now_ns(), .who = 0 };
    bench_flow_report(report_fd, &r);
}

static void
work(void)
{
    struct timespec ts = { 0, WORK_NS };
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* ---- the sink's bookkeeping ---------------------------------------------------- */

typedef struct {
    uint8_t *seen;
    uint64_t got, dups;
} sink_t;

/*  The sink stage's handler (the sink's end time once it has every
    number), which the raw sink calls as well (out NULL). */
static int
our_sink(void *state, const void *data, size_t size, mu_flow_emit_t *out)
{
    (void) out;
    sink_t *s = state;
    msg_t m;
    if (!bench_flow_msg(data, size, &m) || m.value >= n_msgs)
        return MU_EPROTO;
    if (s->seen[m.value / 8] & (1u << (m.value % 8))) {
        s->dups++;
        return 0;
    }
    s->seen[m.value / 8] |= (uint8_t) (1u << (m.value % 8));
    if (++s->got == n_msgs) {
        report_t r = { .end_ns = bench_now_ns(), .dups = s->dups, .who = 1 };
        bench_flow_report(report_fd, &r);
    }
    return 0;
}

/* ---- plain ZeroMQ ------------------------------------------------------------------ */

static void *
raw_socket(void *ctx, int type, bool server)
{
    void *s = zmq_socket(ctx, type);
    int linger = 0;
    zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger);
    if (curve && server) {
        int one = 1;
        zmq_setsockopt(s, ZMQ_CURVE_SERVER, &one, sizeof one);
        zmq_setsockopt(s, ZMQ_CURVE_SECRETKEY, mu_keys_secret(srv_keys), MU_KEY_BYTES);
    } else if (curve) {
        zmq_setsockopt(s, ZMQ_CURVE_SERVERKEY, mu_keys_public(srv_keys), MU_KEY_BYTES);
        zmq_setsockopt(s, ZMQ_CURVE_PUBLICKEY, mu_keys_public(cli_keys), MU_KEY_BYTES);
        zmq_setsockopt(s, ZMQ_CURVE_SECRETKEY, mu_keys_secret(cli_keys), MU_KEY_BYTES);
    }
    return s;
}

static void
raw_ep(char *buf, size_t cap, int h, int i)
{
    char a[32];
    host_addr(h, a, sizeof a);
    snprintf(buf, cap, "tcp://%s:%d", a, host_port(h, i));
}

static void
raw_source(int unused)
{
    (void) unused;
    enter_host(1);
    void *ctx = zmq_ctx_new(), *push = raw_socket(ctx, ZMQ_PUSH, true);
    char ep[64];
    raw_ep(ep, sizeof ep, 1, 0);
    if (zmq_bind(push, ep) != 0)
        _exit(2);
    say(ready_fd, 'r');
    wait_go();
    for (uint64_t v = 0; v < n_msgs; v++) {
        msg_t m = { .value = v, .sent_ns = bench_now_ns() };
        zmq_send(push, &m, sizeof m, 0);
    }
    pause();
}

static void
raw_sink(int unused)
{
    (void) unused;
    enter_host(1);
    void *ctx = zmq_ctx_new(), *pull = raw_socket(ctx, ZMQ_PULL, true);
    char ep[64];
    raw_ep(ep, sizeof ep, 1, 1);
    if (zmq_bind(pull, ep) != 0)
        _exit(2);
    say(ready_fd, 'r');
    sink_t s = { .seen = calloc(n_msgs / 8 + 1, 1) };
    msg_t m;
    while (s.got < n_msgs)
        if (zmq_recv(pull, &m, sizeof m, 0) == (int) sizeof m)
            our_sink(&s, &m, sizeof m, NULL);
    pause();
}

/*  Worker w of host 2 + w / per_host. */
static void
raw_worker(int w)
{
    enter_host(2 + w / per_host);
    void *ctx = zmq_ctx_new();
    void *pull = raw_socket(ctx, ZMQ_PULL, false), *push = raw_socket(ctx, ZMQ_PUSH, false);
    char ep[64];
    raw_ep(ep, sizeof ep, 1, 0);
    zmq_connect(pull, ep);
    raw_ep(ep, sizeof ep, 1, 1);
    zmq_connect(push, ep);
    say(ready_fd, 'r');
    msg_t m;
    for (;;)
        if (zmq_recv(pull, &m, sizeof m, 0) == (int) sizeof m) {
            work();
            zmq_send(push, &m, sizeof m, 0);
        }
}

/* ---- mu_flow ------------------------------------------------------------------ */

static int
our_source(void *arg, int index, mu_flow_emit_t *out)
{
    (void) index;
    uint64_t *next = arg;
    if (*next == 0)
        wait_go();
    return bench_flow_emit_some(out, next, n_msgs, NULL, 0);
}

/*  Chain stage k (its arg): works on the numbers whose hash % hosts is
    k - 1 (a hash, not n % hosts, which would give some runners only work
    and others none when the balanced link deals numbers round-robin). */
static int
chain_worker(void *state, const void *data, size_t size, mu_flow_emit_t *out)
{
    msg_t m;
    if (!bench_flow_msg(data, size, &m))
        return MU_EPROTO;
    uint64_t hash = (m.value * 0x9E3779B97F4A7C15ull) >> 32;
    if ((int) (hash % (uint64_t) hosts) == (int) (intptr_t) state - 1)
        work();
    return mu_flow_emit(out, data, size);
}

static int
our_sink_startup(void *arg, int index, void **state_p)
{
    (void) arg;
    (void) index;
    sink_t *s = calloc(1, sizeof *s);
    if (!s || !(s->seen = calloc(n_msgs / 8 + 1, 1)))
        return -1;
    *state_p = s;
    return 0;
}

static uint64_t source_next;

static bool
define_chain(mu_flow_t *f, int self)
{
    char a[32], name[16];
    for (int k = 1; k <= hosts; k++) {
        snprintf(name, sizeof name, "w%d", k);
        host_addr(k + 1, a, sizeof a);
        if (mu_flow_add_worker_stage(f, name, per_host, NULL, chain_worker, (void *) (intptr_t) k)
                != 0
            || mu_flow_set_endpoint(f, name, a, host_port(k + 1, 0)) != 0
            || mu_flow_set_local(f, name, self == k + 1) != 0)
            return false;
    }
    host_addr(1, a, sizeof a);
    return mu_flow_add_worker_stage(f, "sink", 1, our_sink_startup, our_sink, NULL) == 0
           && mu_flow_set_endpoint(f, "sink", a, host_port(1, 0)) == 0
           && mu_flow_set_local(f, "sink", self == 1) == 0
           && mu_flow_set_local(f, "src", self == 1) == 0;
}

static int
spread_worker(void *state, const void *data, size_t size, mu_flow_emit_t *out)
{
    (void) state;
    work();
    return mu_flow_emit(out, data, size);
}

static bool
define_spread(mu_flow_t *f, int self)
{
    char a[32], name[16];
    for (int h = 1; h <= hosts + 1; h++) {
        snprintf(name, sizeof name, "h%d", h);
        host_addr(h, a, sizeof a);
        if (mu_flow_add_host(f, name, a, host_port(h, 0)) != 0)
            return false;
    }
    snprintf(name, sizeof name, "h%d", self);
    if (mu_flow_set_self(f, name) != 0
        || mu_flow_add_worker_stage(f, "work", per_host * hosts, NULL, spread_worker, NULL) != 0
        || mu_flow_set_runners_on(f, "work", "h1", 0) != 0
        || mu_flow_set_at_least_once(f, "work", alo) != 0
        || mu_flow_add_worker_stage(f, "sink", 1, our_sink_startup, our_sink, NULL) != 0)
        return false;
    for (int h = 2; h <= hosts + 1; h++) {
        snprintf(name, sizeof name, "h%d", h);
        if (mu_flow_set_runners_on(f, "work", name, per_host) != 0)
            return false;
    }
    return true;
}

static void
on_term(int sig)
{
    (void) sig;
    stop_flag = 1;
}

/*  Host h's part of the flow (path in the upper bits of arg). */
static void
flow_host(int arg)
{
    int h = arg & 0xff;
    path_t path = (path_t) (arg >> 8);
    enter_host(h);
    signal(SIGTERM, on_term);
    source_next = 0;
    mu_flow_t *f = mu_flow_new("hosts");
    bool ok = f && mu_flow_add_source(f, "src", 1, our_source, &source_next) == 0;
    if (ok)
        ok = path == PATH_SPREAD ? define_spread(f, h) : define_chain(f, h);
    if (ok && curve)
        ok = mu_flow_set_curve(f, srv_keys, cli_keys) == 0;
    int rc = ok ? mu_flow_start(f) : MU_EINVAL;
    if (rc != 0) {
        fprintf(stderr, "flow_hosts: host %d: %s\n", h, mu_last_error());
        say(ready_fd, 'F');
        mu_flow_destroy(&f);
        _exit(4);
    }
    say(ready_fd, 'r');
    while (!stop_flag) {
        rc = mu_flow_wait(f, 100);
        if (rc != MU_ETIMEDOUT && rc != MU_EAGAIN && rc != MU_EINTR)
            break;
    }
    mu_flow_destroy(&f);
    _exit(0);
}

/* ---- one measurement ----------------------------------------------------------------- */

static bool
read_ready(int fd, int n)
{
    for (int got = 0; got < n; got++) {
        struct pollfd p = { .fd = fd, .events = POLLIN };
        char c;
        if (poll(&p, 1, 30000) != 1 || read(fd, &c, 1) != 1 || c != 'r')
            return false;
    }
    return true;
}

static bool
collect(int fd, int64_t *start, int64_t *end, uint64_t *dups)
{
    *start = *end = 0;
    for (int got = 0; got < 2; got++) {
        report_t r;
        if (!bench_flow_read_report(fd, 120000, &r))
            return false;
        if (r.who == 0)
            *start = r.start_ns;
        else {
            *end = r.end_ns;
            *dups = r.dups;
        }
    }
    return true;
}

static int run_no;

/*  One run of path over nh worker hosts: msg/s, or NAN. */
static double
run_once(path_t path, int nh, bool with_curve, bool with_alo, uint64_t per_worker)
{
    hosts = nh;
    curve = with_curve;
    alo = with_alo;
    n_msgs = per_worker * (uint64_t) (per_host * nh);
    port_base = 10000 + (run_no++ % 22) * 1000; /* below the ephemeral range (32768 up) */
    int rep[2], rdy[2], go[2];
    if (pipe(rep) != 0 || pipe(rdy) != 0 || pipe(go) != 0)
        return NAN;
    report_fd = rep[1];
    ready_fd = rdy[1];
    go_fd = go[0];
    pid_t pids[MAX_PROCS];
    int n = 0, want;
    bool ok; /* only pids > 0 are stored: a failed fork fails the run */
    if (path == PATH_RAW) {
        ok = bench_spawn_into(pids, &n, raw_sink, 0);
        for (int w = 0; ok && w < per_host * nh; w++)
            ok = bench_spawn_into(pids, &n, raw_worker, w);
        ok = ok && bench_spawn_into(pids, &n, raw_source, 0);
        want = n;
    } else {
        ok = true;
        for (int h = nh + 1; ok && h >= 1; h--)
            ok = bench_spawn_into(pids, &n, flow_host, h | (int) path << 8);
        want = n;
    }
    int64_t start = 0, end = 0;
    uint64_t dups = 0;
    ok = ok && read_ready(rdy[0], want) && write(go[1], "g", 1) == 1
         && collect(rep[0], &start, &end, &dups);
    for (int i = 0; i < n; i++)
        kill(pids[i], path == PATH_RAW ? SIGKILL : SIGTERM);
    for (int i = 0; i < n; i++) {
        int64_t deadline = bench_now_ns() + 5000000000LL;
        while (waitpid(pids[i], NULL, WNOHANG) == 0) {
            if (bench_now_ns() > deadline) {
                kill(pids[i], SIGKILL);
                waitpid(pids[i], NULL, 0);
                break;
            }
            usleep(10000);
        }
    }
    close(rep[0]);
    close(rep[1]);
    close(rdy[0]);
    close(rdy[1]);
    close(go[0]);
    close(go[1]);
    if (!ok || end <= start)
        return NAN;
    if (dups)
        fprintf(stderr, "flow_hosts: %llu duplicates\n", (unsigned long long) dups);
    return (double) n_msgs / ((double) (end - start) / 1e9);
}

/* ---- cases ------------------------------------------------------------------------------ */

enum { C_RAW, C_CHAIN, C_SPREAD, C_RAW_CURVE, C_CHAIN_CURVE, C_SPREAD_CURVE, C_ALO, C_N };

static double results[C_N][MAX_HOSTS + 1][BENCH_MAX_REPS];

static double
ratio_of(int a, int ha, int b, int hb, int reps)
{
    return bench_paired_ratio(results[a][ha], results[b][hb], reps);
}

static void
row(const char *name, int a, int ha, const char *base, int b, int hb, int reps, double bar)
{
    bench_report("flow_hosts", name, "msg/s", bench_median(results[a][ha], reps), base,
                 bench_median(results[b][hb], reps), ratio_of(a, ha, b, hb, reps), sizeof(msg_t),
                 bar > 0 ? BENCH_BAR_MIN_RATIO : BENCH_BAR_NONE, bar);
}

int
main(int argc, char **argv)
{
    bench_opts_t o;
    bench_parse_args(argc, argv, &o);
    signal(SIGPIPE, SIG_IGN);
    /* The runners' czmq logs (joins, losses) to stderr, not into the JSON lines. */
    setenv("ZSYS_LOGSTREAM", "stderr", 1);
    ns_prefix = getenv("MU_BENCH_NETNS");
    if (ns_prefix && !*ns_prefix)
        ns_prefix = NULL;
    const char *w = getenv("MU_BENCH_WORKERS");
    if (w && atoi(w) > 0 && atoi(w) <= 64)
        per_host = atoi(w);
    srv_keys = mu_keys_from_secret(SECRET, strlen(SECRET), MU_KEYS_SERVER);
    cli_keys = mu_keys_from_secret(SECRET, strlen(SECRET), MU_KEYS_CLIENT);
    if (!srv_keys || !cli_keys) {
        fprintf(stderr, "flow_hosts: keys: %s\n", mu_last_error());
        return 1;
    }
    uint64_t per_worker = o.quick ? 100 : 400;
    bool spread = true;
    bool do_scale = bench_selected(&o, "hosts") || bench_selected(&o, "scaling");
    bool do_curve = bench_selected(&o, "curve");
    bool do_alo = spread && bench_selected(&o, "alo");
    for (int r = 0; r < o.reps; r++) {
        for (int h = 1; h <= MAX_HOSTS && do_scale; h++) {
            results[C_RAW][h][r] = run_once(PATH_RAW, h, false, false, per_worker);
            results[C_CHAIN][h][r] = run_once(PATH_CHAIN, h, false, false, per_worker);
            if (spread)
                results[C_SPREAD][h][r] = run_once(PATH_SPREAD, h, false, false, per_worker);
        }
        if (do_curve) {
            results[C_RAW_CURVE][3][r] = run_once(PATH_RAW, 3, true, false, per_worker);
            results[C_CHAIN_CURVE][3][r] = run_once(PATH_CHAIN, 3, true, false, per_worker);
            if (spread)
                results[C_SPREAD_CURVE][3][r] = run_once(PATH_SPREAD, 3, true, false, per_worker);
        }
        if (do_alo) {
            results[C_ALO][3][r] = run_once(PATH_SPREAD, 3, false, true, per_worker);
            if (!do_scale)
                results[C_SPREAD][3][r] = run_once(PATH_SPREAD, 3, false, false, per_worker);
        }
        if (o.verbose)
            for (int c = 0; c < C_N; c++)
                for (int h = 1; h <= MAX_HOSTS; h++)
                    if (results[c][h][r] > 0)
                        fprintf(stderr, "rep %d case %d hosts %d: %.0f msg/s\n", r, c, h,
                                results[c][h][r]);
    }
    char name[48];
    for (int h = 1; h <= MAX_HOSTS && do_scale; h++) {
        snprintf(name, sizeof name, "chain-%dhosts", h);
        row(name, C_CHAIN, h, "raw-zmq-fanout", C_RAW, h, o.reps, 0.9);
        if (spread) {
            snprintf(name, sizeof name, "spread-%dhosts", h);
            row(name, C_SPREAD, h, "raw-zmq-fanout", C_RAW, h, o.reps, 0.9);
        }
    }
    if (do_scale) {
        row("scaling-raw-1to3", C_RAW, 3, "raw-zmq-1host", C_RAW, 1, o.reps, 0);
        row("scaling-chain-1to3", C_CHAIN, 3, "chain-1host", C_CHAIN, 1, o.reps, 2.5);
        if (spread)
            row("scaling-spread-1to3", C_SPREAD, 3, "spread-1host", C_SPREAD, 1, o.reps, 2.5);
    }
    if (do_curve) {
        row("chain-3hosts-curve", C_CHAIN_CURVE, 3, "raw-zmq-fanout-curve", C_RAW_CURVE, 3, o.reps,
            0.9);
        if (spread)
            row("spread-3hosts-curve", C_SPREAD_CURVE, 3, "raw-zmq-fanout-curve", C_RAW_CURVE, 3,
                o.reps, 0.9);
    }
    if (do_alo)
        row("alo-spread-3hosts", C_ALO, 3, "spread-3hosts-default", C_SPREAD, 3, o.reps, 0.5);
    bench_print_table();
    printf("(%d workers per worker host, 3 ms of sleep per message, %s)\n", per_host,
           ns_prefix ? "hosts in network namespaces" : "hosts on loopback, no namespaces");
    mu_keys_destroy(&srv_keys);
    mu_keys_destroy(&cli_keys);
    return 0;
}
