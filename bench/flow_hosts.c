/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  flow_hosts — a stage spread over 1, 2 and 3 "hosts" (each its own flow
    process tree on 127.0.0.1 with its own port range, as with separate
    machines), 4 workers per host, I/O-like work (a 3 ms sleep per
    message), against a hand-written plain ZeroMQ fan-out of the same shape
    (one PUSH source, the same number of PULL workers sleeping 3 ms, a
    PULL collector), measured in the same run. Also at-least-once against
    the default, and shared CURVE keys. One JSON line per case, in the form
    of bench.h:

      {"bench":"flow_hosts","case":"3-hosts","unit":"msg/s","value":...,
       "baseline":"zmq-fan-out","baseline_value":...,"ratio":...}

    Usage: flow_hosts [--quick]. Runs on one machine: the figures show the
    protocol's overhead and scaling, not a network's. */
#include "config.h"
#include "mutil.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#define WORKERS 4
#define WORK_US 3000

static int n_messages = 6000;
static int reps = 3;
static volatile double *first_s; /* shared: when the source emitted its first message */

static double
now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static int
source(void *arg, int index, mu_flow_emit_t *out)
{
    (void) arg;
    (void) index;
    static int n;
    if (n == n_messages)
        return 0;
    if (n == 0)
        *first_s = now_s();
    n++;
    return mu_flow_emit(out, &n, sizeof n) == 0 ? MU_FLOW_MORE : -1;
}

static int
work(void *state, const void *data, size_t size, mu_flow_emit_t *out)
{
    (void) state;
    (void) data;
    (void) size;
    (void) out;
    usleep(WORK_US);
    return 0;
}

static const char *names[] = { "src", "w1", "w2", "w3" };

/*  Host `self` of a flow: the source on "src", WORKERS workers on each of
    the first `hosts` worker hosts. */
static mu_flow_t *
define(int hosts, int self, int base, bool reliable, mu_keys_t *server, mu_keys_t *client)
{
    mu_flow_t *f = mu_flow_new("bench");
    bool ok = f && mu_flow_add_source(f, "src", 1, source, NULL) == 0
              && mu_flow_add_worker_stage(f, "work", 1, NULL, work, NULL) == 0;
    for (int h = 0; ok && h <= hosts; h++)
        ok = mu_flow_add_host(f, names[h], "127.0.0.1", base + 20 * h) == 0
             && mu_flow_set_runners_on(f, "work", names[h], h == 0 ? 0 : WORKERS) == 0;
    ok = ok && mu_flow_set_runners_on(f, "src", "src", 1) == 0
         && mu_flow_set_self(f, names[self]) == 0;
    if (ok && reliable)
        ok = mu_flow_set_at_least_once(f, "work", true) == 0;
    if (ok && server)
        ok = mu_flow_set_curve(f, server, client) == 0;
    if (!ok) {
        fprintf(stderr, "flow_hosts: %s\n", mu_last_error());
        exit(1);
    }
    return f;
}

/*  Messages per second through the flow over `hosts` worker hosts. */
static int next_base = 30000; /* fresh ports for every run */

static double
run_flow(int hosts, int base, bool reliable, mu_keys_t *server, mu_keys_t *client)
{
    (void) base;
    base = next_base;
    next_base += 100;
    mu_flow_t *part[4];
    for (int h = hosts; h >= 1; h--) {
        part[h] = define(hosts, h, base, reliable, server, client);
        if (mu_flow_start(part[h]) != 0)
            return 0;
    }
    part[0] = define(hosts, 0, base, reliable, server, client);
    *first_s = 0;
    int rc = mu_flow_start(part[0]);
    rc = rc ? rc : mu_flow_wait(part[0], -1);
    double t = now_s() - *first_s; /* from the first message (joins done) to the end */
    for (int h = 1; h <= hosts; h++)
        rc = rc ? rc : mu_flow_wait(part[h], -1);
    if (rc != 0)
        fprintf(stderr, "flow_hosts: %d hosts: %s\n", hosts, mu_last_error());
    for (int h = 0; h <= hosts; h++)
        mu_flow_destroy(&part[h]);
    return rc == 0 ? n_messages / t : 0;
}

/*  The same shape by hand: PUSH source, workers * hosts PULL workers that
    sleep and report to a PULL collector. */
static double
run_zmq(int hosts, int base)
{
    int nw = WORKERS * hosts;
    pid_t pids[16];
    char src_ep[64], col_ep[64];
    snprintf(src_ep, sizeof src_ep, "tcp://127.0.0.1:%d", base);
    snprintf(col_ep, sizeof col_ep, "tcp://127.0.0.1:%d", base + 1);
    for (int w = 0; w < nw; w++) {
        fflush(NULL);
        pids[w] = fork();
        if (pids[w] == 0) {
            void *ctx = zmq_ctx_new();
            void *in = zmq_socket(ctx, ZMQ_PULL), *out = zmq_socket(ctx, ZMQ_PUSH);
            int hwm = 32;
            zmq_setsockopt(in, ZMQ_RCVHWM, &hwm, sizeof hwm);
            zmq_connect(in, src_ep);
            zmq_connect(out, col_ep);
            char buf[16];
            for (;;) {
                int len = zmq_recv(in, buf, sizeof buf, 0);
                if (len == 0)
                    break; /* the end */
                usleep(WORK_US);
                zmq_send(out, buf, 4, 0);
            }
            _exit(0);
        }
    }
    void *ctx = zmq_ctx_new();
    void *push = zmq_socket(ctx, ZMQ_PUSH), *col = zmq_socket(ctx, ZMQ_PULL);
    int hwm = 32;
    zmq_setsockopt(push, ZMQ_SNDHWM, &hwm, sizeof hwm);
    if (zmq_bind(push, src_ep) != 0 || zmq_bind(col, col_ep) != 0) {
        fprintf(stderr, "flow_hosts: cannot bind %s or %s\n", src_ep, col_ep);
        for (int w = 0; w < nw; w++)
            kill(pids[w], SIGKILL);
        return 0;
    }
    usleep(300000); /* let the workers connect (the flow waits for joins too) */
    double t0 = now_s();
    for (int n = 0; n < n_messages; n++)
        zmq_send(push, &n, sizeof n, 0);
    char buf[16];
    for (int n = 0; n < n_messages; n++)
        zmq_recv(col, buf, sizeof buf, 0);
    double t = now_s() - t0;
    for (int w = 0; w < nw; w++)
        zmq_send(push, "", 0, 0);
    for (int w = 0; w < nw; w++)
        waitpid(pids[w], NULL, 0);
    int zero = 0;
    zmq_setsockopt(push, ZMQ_LINGER, &zero, sizeof zero);
    zmq_close(push);
    zmq_close(col);
    zmq_ctx_term(ctx);
    return n_messages / t;
}

static void
line(const char *name, double v, const char *baseline, double b)
{
    printf("{\"bench\":\"flow_hosts\",\"case\":\"%s\",\"unit\":\"msg/s\",\"value\":%.1f,"
           "\"baseline\":\"%s\",\"baseline_value\":%.1f,\"ratio\":%.3f}\n",
           name, v, baseline, b, b > 0 ? v / b : 0.0);
    fflush(stdout);
}

static int
cmp(const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;
    return x < y ? -1 : x > y;
}

typedef double(measure_fn)(int hosts, int base, bool reliable, mu_keys_t *server,
                           mu_keys_t *client);

static double
zmq_as_flow(int hosts, int base, bool reliable, mu_keys_t *server, mu_keys_t *client)
{
    (void) reliable;
    (void) server;
    (void) client;
    return run_zmq(hosts, base);
}

/*  Median of reps runs (ports moved on each time). */
static double
median(measure_fn *fn, int hosts, int base, bool reliable, mu_keys_t *server, mu_keys_t *client)
{
    double v[9];
    for (int k = 0; k < reps; k++)
        v[k] = fn(hosts, base + 3 * k, reliable, server, client);
    qsort(v, (size_t) reps, sizeof v[0], cmp);
    return v[reps / 2];
}

int
main(int argc, char **argv)
{
    first_s = mmap(NULL, sizeof *first_s, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1,
                   0);
    if (first_s == MAP_FAILED)
        return 1;
    if (argc > 1 && strcmp(argv[1], "--quick") == 0) {
        n_messages = 600;
        reps = 1;
    }
    setenv("ZSYS_LOGSYSTEM", "false", 0);
    /* Below the usual ephemeral range (32768..): the baseline's ports, then
       fresh ones for every flow run. */
    int base = 29000 + (int) (getpid() % 10) * 100;
    next_base = 19000 + (int) (getpid() % 4) * 2500;
    double one = 0;
    for (int hosts = 1; hosts <= 3; hosts++) {
        double z = median(zmq_as_flow, hosts, base + 150, false, NULL, NULL);
        double f = median(run_flow, hosts, base, false, NULL, NULL);
        char name[32];
        snprintf(name, sizeof name, "%d-host%s", hosts, hosts > 1 ? "s" : "");
        line(name, f, "zmq-fan-out", z);
        if (hosts == 1)
            one = f;
        else if (hosts == 3)
            line("scaling-3-over-1", f, "1-host", one);
        base += 10;
    }
    double d = median(run_flow, 3, base, false, NULL, NULL);
    double r = median(run_flow, 3, base + 1, true, NULL, NULL);
    line("3-hosts-at-least-once", r, "3-hosts-default", d);
    mu_keys_t *server = mu_keys_from_secret("bench-passphrase", 16, MU_KEYS_SERVER);
    mu_keys_t *client = mu_keys_from_secret("bench-passphrase", 16, MU_KEYS_CLIENT);
    if (server && client) {
        double c = median(run_flow, 3, base + 2, false, server, client);
        line("3-hosts-curve", c, "3-hosts-default", d);
    }
    mu_keys_destroy(&server);
    mu_keys_destroy(&client);
    return 0;
}
