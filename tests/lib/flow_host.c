/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  flow_host — runs one host's part of a two-stage multi-host flow, for
    tests and shell-driven test beds (network namespaces):

      source "src" (1 runner, on the first host) emits -n N messages
      (8-byte little-endian sequence numbers 0..N-1), then ends;
      worker stage "work" (the last stage) is spread with -w HOST:RUNNERS;
      each handled message is appended to the -o file as a 16-byte record
      (u64 sequence, u32 host index, u32 runner index on that host).

    Options:
      -H NAME            this host (mu_flow_set_self)
      -h NAME=ADDR:PORT  a host (repeat; the first runs the source)
      -w HOST:RUNNERS    runners of "work" on HOST (repeat)
      -n N               messages (default 1000)
      -o FILE            records file (appended with O_APPEND)
      -D HOST:MS         handler delay on HOST's workers, milliseconds (repeat;
                         after -H)
      -r                 at-least-once into "work"
      -k                 keyed link into "work" (key: sequence % 64)
      -b IVL:TIMEOUT     heartbeat (mu_flow_set_heartbeat)
      -t MS:fail|wait    stage deadline (mu_flow_set_stage_deadline)
      -P HOST:PASS       per-host keys derived from PASS (repeat; every host)
      -c PASS            shared CURVE keys from PASS (mu_flow_set_curve)
      -S                 a third stage "sink" (1 runner, first host) writes the
                         records "work" emits (at-least-once too with -r);
                         give -S before -r
      -E IN:HOST:OUT     edges instead: "src" is an inbound TCP edge listening
                         on 127.0.0.1:IN (first host; each client frame, an
                         8-byte sequence, goes to "work"), and a third stage
                         "out", an outbound TCP edge on HOST listening on
                         127.0.0.1:OUT, sends the records "work" emits to its
                         clients. Such a flow runs until SIGTERM, which
                         drains it (mu_flow_stop); the -o file is not written

    Prints "ready" once started, then at the end "rc N" (mu_flow_run's
    result; the error text after it) and one line per statistics row:
    "row STAGE INDEX in out redelivered duplicates hosts_lost hosts_joined
    auth_failures live_runners errors". Exit status 0 when rc is 0. */
#define _DEFAULT_SOURCE
#include "mutil.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int n_messages = 1000;
static int out_fd = -1;
static int self_index;
static int delay_ms; /* this host's (-D) */
static int worker_index;
static bool with_sink; /* -S or -E: "work" emits its records downstream */
static volatile sig_atomic_t stop_asked;

static void
on_term(int sig)
{
    (void) sig;
    stop_asked = 1;
}

/*  -E IN:HOST:OUT, looked for before the stages are added: the edges'
    ports and the outbound edge's host (NULL: no -E). */
static const char *
edges_option(int argc, char **argv, int *in_p, int *out_p, char *host, size_t cap)
{
    for (int i = 1; i + 1 < argc; i++)
        if (strcmp(argv[i], "-E") == 0) {
            const char *a = argv[i + 1], *c1 = strchr(a, ':'),
                       *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
            if (!c2 || (size_t) (c2 - c1 - 1) >= cap)
                return NULL;
            *in_p = atoi(a);
            memcpy(host, c1 + 1, (size_t) (c2 - c1 - 1));
            host[c2 - c1 - 1] = '\0';
            *out_p = atoi(c2 + 1);
            return host;
        }
    return NULL;
}

static void add_stages(mu_flow_t *flow, int argc, char **argv, char *out_host, size_t cap);
static void check(int rc, const char *what);

/*  Waits for the flow's end; on SIGTERM drains it (mu_flow_stop). */
static int
wait_end(mu_flow_t *flow)
{
    for (;;) {
        int rc = mu_flow_wait(flow, 200);
        int code = 0;
        mu_flow_state_t state = mu_flow_state(flow, &code);
        if (state == MU_FLOW_FINISHED || state == MU_FLOW_FAILED)
            return code;
        if (rc != MU_ETIMEDOUT)
            return rc;
        if (stop_asked)
            return mu_flow_stop(flow, -1);
    }
}

static int
source(void *arg, int index, mu_flow_emit_t *out)
{
    (void) arg;
    (void) index;
    static uint64_t seq;
    if (seq >= (uint64_t) n_messages)
        return 0;
    uint8_t b[8];
    for (int k = 0; k < 8; k++)
        b[k] = (uint8_t) (seq >> (8 * k));
    seq++;
    int rc = mu_flow_emit(out, b, sizeof b);
    return rc == 0 ? MU_FLOW_MORE : rc;
}

static int
startup(void *arg, int index, void **state_p)
{
    (void) arg;
    worker_index = index;
    *state_p = NULL;
    return 0;
}

static int
work(void *state, const void *data, size_t size, mu_flow_emit_t *out)
{
    (void) state;
    (void) out;
    if (size != 8)
        return MU_EINVAL;
    if (delay_ms > 0)
        usleep((useconds_t) delay_ms * 1000); /* simulated work, not a wait */
    uint8_t rec[16] = { 0 };
    memcpy(rec, data, 8);
    rec[8] = (uint8_t) self_index;
    rec[12] = (uint8_t) worker_index;
    if (with_sink)
        return mu_flow_emit(out, rec, sizeof rec);
    if (out_fd >= 0 && write(out_fd, rec, sizeof rec) != (ssize_t) sizeof rec)
        return MU_EIO;
    return 0;
}

static int
sink(void *state, const void *data, size_t size, mu_flow_emit_t *out)
{
    (void) state;
    (void) out;
    if (size != 16)
        return MU_EINVAL;
    if (out_fd >= 0 && write(out_fd, data, size) != (ssize_t) size)
        return MU_EIO;
    return 0;
}

/*  The first stage (a source, or with -E an inbound edge) and "work"; with
    -E also the outbound edge "out" (its host into out_host). */
static void
add_stages(mu_flow_t *flow, int argc, char **argv, char *out_host, size_t cap)
{
    int in_port = 0, out_port = 0;
    if (!edges_option(argc, argv, &in_port, &out_port, out_host, cap)) {
        out_host[0] = '\0';
        check(mu_flow_add_source(flow, "src", 1, source, NULL), "source");
        check(mu_flow_add_worker_stage(flow, "work", 1, startup, work, NULL), "work");
        return;
    }
    with_sink = true;
    mu_flow_edge_t in = { .host = "127.0.0.1", .port = in_port, .listen = true };
    mu_flow_edge_t out = { .host = "127.0.0.1", .port = out_port, .listen = true };
    check(mu_flow_add_edge(flow, "src", &in), "inbound edge");
    check(mu_flow_add_worker_stage(flow, "work", 1, startup, work, NULL), "work");
    check(mu_flow_add_edge(flow, "out", &out), "outbound edge");
}

static uint64_t
key_of(void *arg, const void *data, size_t size)
{
    (void) arg;
    return size == 8 ? ((const uint8_t *) data)[0] % 64 : 0;
}

/*  "A:B" → a (copied into a_buf) and b. */
static bool
split(const char *text, char sep, char *a_buf, size_t cap, const char **b_p)
{
    const char *c = strrchr(text, sep);
    if (!c || (size_t) (c - text) >= cap)
        return false;
    memcpy(a_buf, text, (size_t) (c - text));
    a_buf[c - text] = '\0';
    *b_p = c + 1;
    return true;
}

static void
usage(void)
{
    fprintf(stderr, "usage: flow_host -H NAME -h NAME=ADDR:PORT... -w HOST:N... [options]\n");
    exit(2);
}

static void
check(int rc, const char *what)
{
    if (rc != 0) {
        fprintf(stderr, "flow_host: %s: %s\n", what, mu_last_error());
        exit(2);
    }
}

static void
print_stats(mu_flow_t *flow)
{
    mu_flow_stats_t rows[64];
    rows[0].size = sizeof rows[0];
    size_t n = 0;
    if (mu_flow_stats(flow, rows, 64, &n) != 0)
        return;
    for (size_t i = 0; i < n && i < 64; i++)
        printf("row %s %d %llu %llu %llu %llu %llu %llu %llu %lld %llu\n", rows[i].stage,
               rows[i].index, (unsigned long long) rows[i].in, (unsigned long long) rows[i].out,
               (unsigned long long) rows[i].redelivered, (unsigned long long) rows[i].duplicates,
               (unsigned long long) rows[i].hosts_lost, (unsigned long long) rows[i].hosts_joined,
               (unsigned long long) rows[i].auth_failures, (long long) rows[i].live_runners,
               (unsigned long long) rows[i].errors);
}

int
main(int argc, char **argv)
{
    mu_flow_t *flow = mu_flow_new("hosts");
    if (!flow)
        return 2;
    const char *self = NULL, *out_path = NULL;
    char hosts[16][64], a[64];
    int nhosts = 0, opt;
    const char *b;
    char out_host[64] = "";
    add_stages(flow, argc, argv, out_host, sizeof out_host);
    while ((opt = getopt(argc, argv, "H:h:w:n:o:D:rkb:t:P:c:SE:")) != -1) {
        switch (opt) {
        case 'E': /* read before (edges_option) */
            break;
        case 'S':
            with_sink = true;
            check(mu_flow_add_worker_stage(flow, "sink", 1, NULL, sink, NULL), "sink");
            break;
        case 'H':
            self = optarg;
            break;
        case 'h': {
            char name[64], addr[64];
            const char *port;
            if (nhosts == 16 || !split(optarg, '=', name, sizeof name, &b)
                || !split(b, ':', addr, sizeof addr, &port))
                usage();
            check(mu_flow_add_host(flow, name, addr, atoi(port)), "host");
            snprintf(hosts[nhosts++], sizeof hosts[0], "%s", name);
            break;
        }
        case 'w':
            if (!split(optarg, ':', a, sizeof a, &b))
                usage();
            check(mu_flow_set_runners_on(flow, "work", a, atoi(b)), "runners");
            break;
        case 'n':
            n_messages = atoi(optarg);
            break;
        case 'o':
            out_path = optarg;
            break;
        case 'D': /* after -H */
            if (!split(optarg, ':', a, sizeof a, &b))
                usage();
            if (self && strcmp(a, self) == 0)
                delay_ms = atoi(b);
            break;
        case 'r':
            check(mu_flow_set_at_least_once(flow, "work", true), "at-least-once");
            if (with_sink)
                check(mu_flow_set_at_least_once(flow, "sink", true), "at-least-once");
            break;
        case 'k':
            check(mu_flow_set_link(flow, "work", MU_FLOW_KEYED, NULL, key_of, NULL), "keyed");
            break;
        case 'b':
            if (!split(optarg, ':', a, sizeof a, &b))
                usage();
            check(mu_flow_set_heartbeat(flow, atoi(a), atoi(b)), "heartbeat");
            break;
        case 't':
            if (!split(optarg, ':', a, sizeof a, &b))
                usage();
            check(mu_flow_set_stage_deadline(flow, atoi(a), strcmp(b, "fail") == 0), "deadline");
            break;
        case 'P': {
            if (!split(optarg, ':', a, sizeof a, &b))
                usage();
            mu_keys_t *keys = mu_keys_from_secret(b, strlen(b), MU_KEYS_SERVER);
            if (!keys)
                check(-1, "keys");
            check(mu_flow_set_host_keys(flow, a, keys), "host keys");
            mu_keys_destroy(&keys);
            break;
        }
        case 'c': {
            mu_keys_t *server = mu_keys_from_secret(optarg, strlen(optarg), MU_KEYS_SERVER);
            mu_keys_t *client = mu_keys_from_secret(optarg, strlen(optarg), MU_KEYS_CLIENT);
            if (!server || !client)
                check(-1, "keys");
            check(mu_flow_set_curve(flow, server, client), "curve");
            mu_keys_destroy(&server);
            mu_keys_destroy(&client);
            break;
        }
        default:
            usage();
        }
    }
    if (!self || nhosts == 0)
        usage();
    check(mu_flow_set_runners_on(flow, "src", hosts[0], 1), "source placement");
    if (with_sink && !out_host[0])
        check(mu_flow_set_runners_on(flow, "sink", hosts[0], 1), "sink placement");
    if (out_host[0])
        check(mu_flow_set_runners_on(flow, "out", out_host, 1), "out placement");
    for (int h = 0; h < nhosts; h++)
        if (strcmp(hosts[h], self) == 0)
            self_index = h;
    check(mu_flow_set_self(flow, self), "self");
    if (out_path) {
        out_fd = open(out_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (out_fd < 0) {
            perror(out_path);
            return 2;
        }
    }
    int rc = mu_flow_start(flow);
    check(rc, "start");
    printf("ready\n");
    fflush(stdout);
    signal(SIGTERM, on_term);
    rc = wait_end(flow);
    printf("rc %d %s\n", rc, rc ? mu_last_error() : "");
    print_stats(flow);
    fflush(stdout);
    mu_flow_destroy(&flow);
    return rc == 0 ? 0 : 1;
}
