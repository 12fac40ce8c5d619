/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  test_flow_hosts_api.c — the documented errors of the multi-host
    settings of mu_flow.h (mu_flow_add_host, mu_flow_set_self,
    mu_flow_set_runners_on, mu_flow_set_heartbeat,
    mu_flow_set_stage_deadline, mu_flow_set_host_keys) and of
    mu_flow_start with hosts; and one small flow of two hosts in this
    process (two flow objects) that ends by itself on both. The flows over
    several processes, lost hosts, keys and joins: test_flow_hosts.sh.
    The wire protocol version of the hello (doc/wire.md): a test peer of
    another version is refused on both sides. The message an outbound edge
    without client reads ahead is never lost (doc/flow.md, Edge stages). */
#include "mu_test.h"
#include "mutil.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

static int
src_fn(void *arg, int index, mu_flow_emit_t *out)
{
    (void) arg;
    (void) index;
    static int n;
    if (n == 50)
        return 0;
    n++;
    return mu_flow_emit(out, &n, sizeof n) == 0 ? MU_FLOW_MORE : -1;
}

static int
work_fn(void *state, const void *data, size_t size, mu_flow_emit_t *out)
{
    (void) state;
    (void) data;
    (void) size;
    (void) out;
    return 0;
}

/*  The hosts' ports: a block of 800 below the kernel's ephemeral range
    (32768 up), picked by pid so that parallel runs rarely meet; fixed
    ports in the ephemeral range could be taken by any outgoing connection. */
static int port_base;
#define PORT(off) (port_base + (off))

/*  "tcp://127.0.0.1:" and PORT(off), in a static buffer. */
static const char *
endpoint(int off)
{
    static char buf[64];
    snprintf(buf, sizeof buf, "tcp://127.0.0.1:%d", PORT(off));
    return buf;
}

/*  A source and a worker stage, hosts a and b (ports from base). */
static mu_flow_t *
two_hosts(int base)
{
    mu_flow_t *f = mu_flow_new("h");
    if (!f || mu_flow_add_source(f, "src", 1, src_fn, NULL) != 0
        || mu_flow_add_worker_stage(f, "work", 1, NULL, work_fn, NULL) != 0
        || mu_flow_add_host(f, "a", "127.0.0.1", base) != 0
        || mu_flow_add_host(f, "b", "127.0.0.1", base + 10) != 0)
        mu_flow_destroy(&f);
    return f;
}

static void
test_add_host_errors(void)
{
    mu_flow_t *f = mu_flow_new("h");
    MU_CHECK(f);
    char long_name[80];
    memset(long_name, 'x', sizeof long_name - 1);
    long_name[sizeof long_name - 1] = '\0';
    MU_CHECK_EQ(mu_flow_add_host(f, "", "127.0.0.1", 1000), MU_EINVAL);
    MU_CHECK_EQ(mu_flow_add_host(f, long_name, "127.0.0.1", 1000), MU_EINVAL);
    MU_CHECK_EQ(mu_flow_add_host(f, "a", "", 1000), MU_EINVAL);
    MU_CHECK_EQ(mu_flow_add_host(f, "a", long_name, 1000), MU_EINVAL);
    MU_CHECK_EQ(mu_flow_add_host(f, "a", "127.0.0.1", 0), MU_EINVAL);
    MU_CHECK_EQ(mu_flow_add_host(f, "a", "127.0.0.1", 65536), MU_EINVAL);
    MU_CHECK_EQ(mu_flow_add_host(f, "a", "127.0.0.1", 1000), 0);
    MU_CHECK_EQ(mu_flow_add_host(f, "a", "127.0.0.2", 2000), MU_EINVAL); /* taken */
    MU_CHECK(strstr(mu_last_error(), "twice"));
    for (int h = 1; h < 64; h++) {
        char name[16];
        snprintf(name, sizeof name, "h%d", h);
        MU_CHECK_EQ(mu_flow_add_host(f, name, "127.0.0.1", 1000 + h), 0);
    }
    MU_CHECK_EQ(mu_flow_add_host(f, "one-more", "127.0.0.1", 3000), MU_EINVAL);
    mu_flow_destroy(&f);
}

static void
test_setter_errors(void)
{
    mu_flow_t *f = two_hosts(PORT(0));
    MU_CHECK(f);
    mu_flow_edge_t edge = { .host = "127.0.0.1", .port = 0, .listen = true };
    MU_CHECK_EQ(mu_flow_add_edge(f, "out", &edge), 0);
    MU_CHECK_EQ(mu_flow_set_self(f, "nobody"), MU_EINVAL);
    MU_CHECK_EQ(mu_flow_set_runners_on(f, "nostage", "a", 1), MU_EINVAL);
    MU_CHECK_EQ(mu_flow_set_runners_on(f, "work", "nohost", 1), MU_EINVAL);
    MU_CHECK_EQ(mu_flow_set_runners_on(f, "work", "a", -1), MU_EINVAL);
    MU_CHECK_EQ(mu_flow_set_runners_on(f, "work", "a", 257), MU_EINVAL);
    MU_CHECK_EQ(mu_flow_set_runners_on(f, "out", "a", 2), MU_EINVAL); /* an edge: 1 or 0 */
    MU_CHECK_EQ(mu_flow_set_runners_on(f, "out", "a", 1), 0);
    MU_CHECK_EQ(mu_flow_set_heartbeat(f, 9, 100), MU_EINVAL);
    MU_CHECK_EQ(mu_flow_set_heartbeat(f, 60001, 70000), MU_EINVAL);
    MU_CHECK_EQ(mu_flow_set_heartbeat(f, 100, 100), MU_EINVAL);
    MU_CHECK_EQ(mu_flow_set_heartbeat(f, 100, 3600001), MU_EINVAL);
    MU_CHECK_EQ(mu_flow_set_heartbeat(f, 100, 300), 0);
    MU_CHECK_EQ(mu_flow_set_stage_deadline(f, 0, true), MU_EINVAL);
    MU_CHECK_EQ(mu_flow_set_stage_deadline(f, 1000, false), 0);
    mu_keys_t *keys = mu_keys_new();
    MU_CHECK(keys);
    MU_CHECK_EQ(mu_flow_set_host_keys(f, "nohost", keys), MU_EINVAL);
    mu_keys_destroy(&keys);
    mu_flow_destroy(&f);
}

/*  mu_flow_start refuses a bad multi-host definition, naming why. */
static void
expect_start_fails(mu_flow_t *f, const char *why)
{
    MU_CHECK(f);
    MU_CHECK_EQ(mu_flow_start(f), MU_EINVAL);
    if (!strstr(mu_last_error(), why))
        printf("# detail: %s\n", mu_last_error());
    MU_CHECK(strstr(mu_last_error(), why));
}

static void
test_start_errors(void)
{
    mu_flow_t *f = two_hosts(PORT(100)); /* no mu_flow_set_self */
    expect_start_fails(f, "mu_flow_set_self");
    mu_flow_destroy(&f);

    f = two_hosts(PORT(100)); /* a host with nothing to run */
    MU_CHECK_EQ(mu_flow_set_self(f, "b"), 0);
    expect_start_fails(f, "runs no runner");
    mu_flow_destroy(&f);

    f = two_hosts(PORT(100)); /* pinned endpoints do not mix */
    MU_CHECK_EQ(mu_flow_set_self(f, "a"), 0);
    MU_CHECK_EQ(mu_flow_set_endpoint(f, "work", "127.0.0.1", PORT(150)), 0);
    expect_start_fails(f, "do not mix");
    mu_flow_destroy(&f);

    f = two_hosts(PORT(100)); /* a stage with no runner on any host */
    MU_CHECK_EQ(mu_flow_set_self(f, "a"), 0);
    MU_CHECK_EQ(mu_flow_set_runners_on(f, "work", "a", 0), 0);
    expect_start_fails(f, "0 runners");
    mu_flow_destroy(&f);

    f = two_hosts(PORT(100)); /* over 256 runners in all */
    MU_CHECK_EQ(mu_flow_set_self(f, "a"), 0);
    MU_CHECK_EQ(mu_flow_set_runners_on(f, "work", "a", 200), 0);
    MU_CHECK_EQ(mu_flow_set_runners_on(f, "work", "b", 100), 0);
    expect_start_fails(f, "300 runners");
    mu_flow_destroy(&f);

    f = two_hosts(65520); /* b's ports past 65535 */
    MU_CHECK_EQ(mu_flow_set_self(f, "a"), 0);
    MU_CHECK_EQ(mu_flow_set_runners_on(f, "work", "b", 10), 0);
    expect_start_fails(f, "over 65535");
    mu_flow_destroy(&f);

    f = two_hosts(PORT(100)); /* an edge on two hosts */
    mu_flow_edge_t edge = { .host = "127.0.0.1", .port = 0, .listen = true };
    MU_CHECK_EQ(mu_flow_add_edge(f, "out", &edge), 0);
    MU_CHECK_EQ(mu_flow_set_runners_on(f, "out", "a", 1), 0);
    MU_CHECK_EQ(mu_flow_set_runners_on(f, "out", "b", 1), 0);
    MU_CHECK_EQ(mu_flow_set_self(f, "a"), 0);
    expect_start_fails(f, "on 2 hosts");
    mu_flow_destroy(&f);

    mu_keys_t *own = mu_keys_new();
    mu_keys_t *other = mu_keys_new();
    MU_CHECK(own && other);
    mu_keys_t *pub = mu_keys_new_public_txt(mu_keys_public_txt(other));
    MU_CHECK(pub);

    f = two_hosts(PORT(100)); /* a host without a key */
    MU_CHECK_EQ(mu_flow_set_self(f, "a"), 0);
    MU_CHECK_EQ(mu_flow_set_host_keys(f, "a", own), 0);
    expect_start_fails(f, "host 'b' has no key");
    mu_flow_destroy(&f);

    f = two_hosts(PORT(100)); /* this host's key without its secret */
    MU_CHECK_EQ(mu_flow_set_self(f, "b"), 0);
    MU_CHECK_EQ(mu_flow_set_runners_on(f, "work", "b", 1), 0);
    MU_CHECK_EQ(mu_flow_set_host_keys(f, "a", own), 0);
    MU_CHECK_EQ(mu_flow_set_host_keys(f, "b", pub), 0);
    expect_start_fails(f, "no secret key");
    mu_flow_destroy(&f);

    f = two_hosts(PORT(100)); /* per-host keys and the shared pair */
    MU_CHECK_EQ(mu_flow_set_self(f, "a"), 0);
    MU_CHECK_EQ(mu_flow_set_host_keys(f, "a", own), 0);
    MU_CHECK_EQ(mu_flow_set_host_keys(f, "b", pub), 0);
    MU_CHECK_EQ(mu_flow_set_curve(f, own, other), 0);
    expect_start_fails(f, "both per-host keys");
    mu_flow_destroy(&f);

    mu_keys_destroy(&own);
    mu_keys_destroy(&other);
    mu_keys_destroy(&pub);
}

/*  Two hosts in this process; after start, every setter says MU_EINVAL;
    both parts end by themselves with 0, the 50 messages handled on b. */
static void
test_two_hosts_end_by_themselves(void)
{
    mu_flow_t *a = two_hosts(PORT(200)), *b = two_hosts(PORT(200));
    MU_CHECK(a && b);
    MU_CHECK_EQ(mu_flow_set_runners_on(a, "work", "b", 2), 0);
    MU_CHECK_EQ(mu_flow_set_runners_on(b, "work", "b", 2), 0);
    MU_CHECK_EQ(mu_flow_set_runners_on(a, "work", "a", 0), 0);
    MU_CHECK_EQ(mu_flow_set_runners_on(b, "work", "a", 0), 0);
    MU_CHECK_EQ(mu_flow_set_self(a, "a"), 0);
    MU_CHECK_EQ(mu_flow_set_self(b, "b"), 0);
    MU_CHECK_EQ(mu_flow_start(b), 0);
    MU_CHECK_EQ(mu_flow_start(a), 0);
    MU_CHECK_EQ(mu_flow_add_host(a, "c", "127.0.0.1", PORT(300)), MU_EINVAL);
    MU_CHECK_EQ(mu_flow_set_self(a, "b"), MU_EINVAL);
    MU_CHECK_EQ(mu_flow_set_runners_on(a, "work", "a", 1), MU_EINVAL);
    MU_CHECK_EQ(mu_flow_set_heartbeat(a, 100, 300), MU_EINVAL);
    MU_CHECK_EQ(mu_flow_set_stage_deadline(a, 100, true), MU_EINVAL);
    mu_keys_t *keys = mu_keys_new();
    MU_CHECK(keys);
    MU_CHECK_EQ(mu_flow_set_host_keys(a, "a", keys), MU_EINVAL);
    mu_keys_destroy(&keys);
    MU_CHECK_EQ(mu_flow_wait(a, mu_test_ms(30000)), 0);
    MU_CHECK_EQ(mu_flow_wait(b, mu_test_ms(30000)), 0);
    mu_flow_stats_t rows[8];
    rows[0].size = sizeof rows[0];
    size_t n = 0;
    MU_CHECK_EQ(mu_flow_stats(b, rows, 8, &n), 0);
    MU_CHECK_EQ(n, 4); /* src total (no runner here), work total, 2 runners */
    MU_CHECK_EQ(rows[1].in, 50);
    MU_CHECK_EQ(rows[1].hosts_joined, 2);
    MU_CHECK_EQ(mu_flow_stats(a, rows, 8, &n), 0);
    MU_CHECK_EQ(rows[0].out, 50);
    MU_CHECK_EQ(rows[0].hosts_lost, 0);
    mu_flow_destroy(&a);
    mu_flow_destroy(&b);
}


/* ---- the protocol version of the hello (doc/wire.md, Multi-host links) ---- */

static int64_t
now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*  Sends body to routing id rid on ROUTER s; true when it left. */
static bool
send_to(void *s, const uint8_t rid[5], const void *body, size_t len)
{
    return zmq_send(s, rid, 5, ZMQ_SNDMORE | ZMQ_DONTWAIT) == 5
           && zmq_send(s, body, len, ZMQ_DONTWAIT) == (int) len;
}

/*  Receives one two-frame message within ms: its body into buf; its size,
    or -1. */
static int
recv_body(void *s, uint8_t *buf, size_t cap, int ms)
{
    zmq_pollitem_t it = { .socket = s, .events = ZMQ_POLLIN };
    if (zmq_poll(&it, 1, ms) <= 0)
        return -1;
    uint8_t rid[16];
    if (zmq_recv(s, rid, sizeof rid, 0) < 0)
        return -1;
    return zmq_recv(s, buf, cap, 0);
}

/*  A hello to send through ROUTER socket s to routing id rid. */
typedef struct {
    void *s;
    const uint8_t *rid, *body;
    size_t len;
} hello_t;

/*  Sends x's hello; false while the peer is not routable yet. */
static bool
hello_sent(void *arg)
{
    hello_t *x = arg;
    return send_to(x->s, x->rid, x->body, x->len);
}

/*  A hello of version ver (9 bytes: the layout without a version) until
    the runner answers; true when the answer is 'V' with version 2. */
static bool
hello_refused(void *s, const uint8_t rid[5], unsigned ver, bool old_layout)
{
    uint8_t h[11] = { 'H', 1, 2, 3, 4, 5, 6, 7, 8, (uint8_t) ver, (uint8_t) (ver >> 8) };
    hello_t x = { s, rid, h, old_layout ? 9 : 11 };
    int64_t end = now_ms() + mu_test_ms(10000);
    while (now_ms() < end) {
        /* ROUTER_MANDATORY refuses until the handshake is done, which
           nothing signals to this socket: polled */
        if (!mu_test_poll_until(hello_sent, &x, 10000))
            return false;
        uint8_t b[64];
        int len = recv_body(s, b, sizeof b, 100);
        if (len >= 0)
            return len == 3 && b[0] == 'V' && b[1] == 2 && b[2] == 0;
    }
    return false;
}

/*  two_hosts(base) with the work stage's one runner on b, none on a,
    heartbeats every 100 ms (200 with a long timeout) lost after
    timeout_ms, a failing 1500 ms stage deadline when deadline, seen from
    host self. NULL on any error. */
static mu_flow_t *
worker_on_b(int base, const char *self, int timeout_ms, bool deadline)
{
    mu_flow_t *f = two_hosts(base);
    if (!f || mu_flow_set_runners_on(f, "work", "b", 1) != 0
        || mu_flow_set_runners_on(f, "work", "a", 0) != 0
        || mu_flow_set_heartbeat(f, timeout_ms > 1000 ? 200 : 100, timeout_ms) != 0
        || (deadline && mu_flow_set_stage_deadline(f, 1500, true) != 0)
        || mu_flow_set_self(f, self) != 0)
        mu_flow_destroy(&f);
    return f;
}

/*  The receiving side: a runner refuses a hello of another version (and
    the 9-byte hello of the builds before versions) with 'V' and its own,
    counts it in auth_failures, takes nothing from that peer, and its
    host, fed by nobody, ends by itself at the stage deadline. */
static void
test_receiver_refuses_other_version(void)
{
    mu_flow_t *b = worker_on_b(PORT(400), "b", 300, true);
    MU_CHECK(b);
    MU_CHECK_EQ(mu_flow_start(b), 0);
    void *ctx = zmq_ctx_new();
    void *s = zmq_socket(ctx, ZMQ_ROUTER);
    const uint8_t me[5] = { 'U', 0, 0, 0, 0 }, peer[5] = { 'D', 0, 0, 0, 0 };
    int one = 1, zero = 0;
    zmq_setsockopt(s, ZMQ_ROUTING_ID, me, sizeof me);
    zmq_setsockopt(s, ZMQ_CONNECT_ROUTING_ID, peer, sizeof peer);
    zmq_setsockopt(s, ZMQ_ROUTER_MANDATORY, &one, sizeof one);
    zmq_setsockopt(s, ZMQ_LINGER, &zero, sizeof zero);
    MU_CHECK_EQ(zmq_connect(s, endpoint(410)), 0); /* b's base: work/0 */
    MU_CHECK(hello_refused(s, peer, 99, false));
    MU_CHECK(hello_refused(s, peer, 1, true));
    MU_CHECK(hello_refused(s, peer, 0, false)); /* version 0 is refused like any other */
    uint8_t m[5] = { 'M', 1, 2, 3, 4 };         /* from a refused peer: dropped */
    MU_CHECK(send_to(s, peer, m, sizeof m));
    MU_CHECK_EQ(mu_flow_wait(b, mu_test_ms(30000)), 0);
    mu_flow_stats_t rows[4];
    rows[0].size = sizeof rows[0];
    size_t n = 0;
    MU_CHECK_EQ(mu_flow_stats(b, rows, 4, &n), 0);
    MU_CHECK_EQ(n, 3); /* src total, work total, work/0 */
    MU_CHECK(rows[1].auth_failures >= 3);
    MU_CHECK_EQ(rows[1].in, 0);
    MU_CHECK_EQ(rows[1].hosts_joined, 0);
    zmq_close(s);
    zmq_ctx_term(ctx);
    mu_flow_destroy(&b);
}

/*  The sending side: its hello carries version 2 (11 bytes); a 'V' answer
    (another version) is counted in auth_failures, the peer never becomes
    live, nothing is sent to it, and with a failing stage deadline the
    flow fails (MU_ECANCELED, naming the stage). */
static void
test_sender_refused_by_other_version(void)
{
    mu_flow_t *a = worker_on_b(PORT(500), "a", 300, true);
    MU_CHECK(a);
    void *ctx = zmq_ctx_new();
    void *s = zmq_socket(ctx, ZMQ_ROUTER);
    int zero = 0;
    zmq_setsockopt(s, ZMQ_LINGER, &zero, sizeof zero);
    MU_CHECK_EQ(zmq_bind(s, endpoint(510)), 0); /* b's work/0 */
    MU_CHECK_EQ(mu_flow_start(a), 0);
    uint8_t b[64];
    int len = recv_body(s, b, sizeof b, mu_test_ms(10000));
    MU_CHECK_EQ(len, 11);
    MU_CHECK(len == 11 && b[0] == 'H' && b[9] == 2 && b[10] == 0);
    const uint8_t up[5] = { 'U', 0, 0, 0, 0 }, v[3] = { 'V', 99, 0 };
    MU_CHECK(send_to(s, up, v, sizeof v));
    MU_CHECK_EQ(mu_flow_wait(a, mu_test_ms(30000)), MU_ECANCELED);
    MU_CHECK(strstr(mu_last_error(), "work"));
    for (;;) { /* only hellos came, never data */
        len = recv_body(s, b, sizeof b, 0);
        if (len < 0)
            break;
        MU_CHECK_EQ(b[0], 'H');
    }
    mu_flow_stats_t rows[4];
    rows[0].size = sizeof rows[0];
    size_t n = 0;
    MU_CHECK_EQ(mu_flow_stats(a, rows, 4, &n), 0);
    MU_CHECK(n >= 1 && rows[0].auth_failures >= 1);
    MU_CHECK_EQ(rows[0].hosts_joined, 0);
    zmq_close(s);
    zmq_ctx_term(ctx);
    mu_flow_destroy(&a);
}

/*  The work stage's live runners in a flow's statistics, compared. */
typedef struct {
    mu_flow_t *f;
    int64_t live; /* live_runners wanted */
} live_wait_t;

static bool
work_live_is(void *arg)
{
    live_wait_t *w = arg;
    mu_flow_stats_t rows[4];
    rows[0].size = sizeof rows[0];
    size_t n = 0;
    if (mu_flow_stats(w->f, rows, 4, &n) != 0)
        return false;
    for (size_t k = 0; k < n; k++) /* the stage's total comes first */
        if (strcmp(rows[k].stage, "work") == 0)
            return rows[k].live_runners == w->live;
    return false;
}

/*  A live downstream peer that answers 'V' (it restarted on another
    release) is lost at once: not live, no more data to it. */
static void
test_live_peer_refusing_is_lost(void)
{
    mu_flow_t *a = worker_on_b(PORT(700), "a", 60000, false); /* no loss by silence */
    MU_CHECK(a);
    void *ctx = zmq_ctx_new();
    void *s = zmq_socket(ctx, ZMQ_ROUTER);
    int zero = 0;
    zmq_setsockopt(s, ZMQ_LINGER, &zero, sizeof zero);
    MU_CHECK_EQ(zmq_bind(s, endpoint(710)), 0); /* b's work/0 */
    MU_CHECK_EQ(mu_flow_start(a), 0);
    uint8_t b[256];
    int len = recv_body(s, b, sizeof b, mu_test_ms(10000));
    MU_CHECK_EQ(len, 11);
    uint8_t c[30] = { 'C', 7 }; /* our incarnation 7, theirs from the hello, window 32 */
    memcpy(c + 9, b + 1, 8);
    c[17] = 32;
    const uint8_t up[5] = { 'U', 0, 0, 0, 0 }, v[3] = { 'V', 3, 0 };
    MU_CHECK(send_to(s, up, c, sizeof c));
    live_wait_t w = { a, 1 };
    MU_CHECK(mu_test_poll_until(work_live_is, &w, 10000)); /* stats: no event */
    MU_CHECK(send_to(s, up, v, sizeof v));
    w.live = 0;
    MU_CHECK(mu_test_poll_until(work_live_is, &w, 10000));
    while (recv_body(s, b, sizeof b, 0) >= 0) /* what came before the 'V' */
        ;
    int data = 0; /* after it: hellos only (a heartbeat interval apart) */
    for (int k = 0; k < 3; k++) {
        len = recv_body(s, b, sizeof b, mu_test_ms(5000));
        MU_CHECK(len > 0);
        data += len > 0 && b[0] != 'H';
    }
    MU_CHECK_EQ(data, 0);
    int stopped = mu_flow_stop(a, mu_test_ms(2000)); /* the fake peer never drains */
    (void) stopped;
    mu_flow_destroy(&a);
    zmq_close(s);
    zmq_ctx_term(ctx);
}

/* ---- the message an outbound edge without client reads ahead ---- */

static int held_block_fd = -1; /* the source waits on it after its two messages */

/*  Two messages, then calls of 10 ms each (short: the runner's loop, not
    its heartbeat thread, keeps the links' heartbeats) until the test lets go. */
static int
two_then_wait(void *arg, int index, mu_flow_emit_t *out)
{
    (void) arg;
    (void) index;
    static int sent;
    if (sent < 2) {
        const char *m = sent++ == 0 ? "held" : "next";
        return mu_flow_emit(out, m, 4) == 0 ? MU_FLOW_MORE : -1;
    }
    struct pollfd p = { .fd = held_block_fd, .events = POLLIN };
    return poll(&p, 1, 10) == 0 ? MU_FLOW_MORE : 0;
}

/*  A source on a, an outbound TCP edge on c (port PORT(690)). */
static mu_flow_t *
source_to_edge(const char *self)
{
    mu_flow_t *f = mu_flow_new("h");
    mu_flow_edge_t edge = { .host = "127.0.0.1", .port = PORT(690), .listen = true };
    if (!f || mu_flow_add_source(f, "src", 1, two_then_wait, NULL) != 0
        || mu_flow_add_edge(f, "out", &edge) != 0
        || mu_flow_add_host(f, "a", "127.0.0.1", PORT(600)) != 0
        || mu_flow_add_host(f, "c", "127.0.0.1", PORT(610)) != 0
        || mu_flow_set_runners_on(f, "out", "a", 0) != 0
        || mu_flow_set_runners_on(f, "out", "c", 1) != 0 || mu_flow_set_heartbeat(f, 100, 300) != 0
        || mu_flow_set_stage_deadline(f, 1000, true) != 0 || mu_flow_set_self(f, self) != 0)
        mu_flow_destroy(&f);
    return f;
}

/*  Row `want` of f's statistics (stage total or runner) into *row. */
static bool
stats_row(mu_flow_t *f, size_t want, mu_flow_stats_t *row)
{
    mu_flow_stats_t rows[4];
    rows[0].size = sizeof rows[0];
    size_t n = 0;
    if (mu_flow_stats(f, rows, 4, &n) != 0 || n <= want)
        return false;
    *row = rows[want];
    return true;
}

/*  Reads one mu_pipe frame (u32 length, payload) within ms; its length or -1. */
static int
read_frame(int fd, char *buf, size_t cap, int ms)
{
    size_t got = 0, need = 4;
    uint8_t hdr[4];
    int64_t end = now_ms() + ms;
    while (got < need) {
        struct pollfd p = { .fd = fd, .events = POLLIN };
        int left = (int) (end - now_ms());
        if (left <= 0 || poll(&p, 1, left) <= 0)
            return -1;
        char *into = got < 4 ? (char *) hdr + got : buf + got - 4;
        ssize_t k = read(fd, into, got < 4 ? 4 - got : need - got);
        if (k <= 0)
            return -1;
        got += (size_t) k;
        if (got == 4) {
            uint32_t len = (uint32_t) hdr[0] | (uint32_t) hdr[1] << 8 | (uint32_t) hdr[2] << 16
                           | (uint32_t) hdr[3] << 24;
            if (len > cap)
                return -1;
            need = 4 + len;
        }
    }
    return (int) (need - 4);
}

/*  A stats row of a flow to wait for (mu_test_poll_until). */
typedef struct {
    mu_flow_t *f;
    int index;
    mu_flow_stats_t row;
} row_wait_t;

/*  Row index of w's flow: a source runner that sent its two messages. */
static bool
source_sent_two(void *arg)
{
    row_wait_t *w = arg;
    return stats_row(w->f, w->index, &w->row) && w->row.out == 2 && w->row.pid > 0;
}

/*  Row index of w's flow counts a lost host. */
static bool
host_lost(void *arg)
{
    row_wait_t *w = arg;
    return stats_row(w->f, w->index, &w->row) && w->row.hosts_lost >= 1;
}

/*  The outbound edge on c has no client; it reads the first message ahead
    (to see an end of stream behind nothing) and holds it; the second, and
    its sender's heartbeats, are read ahead behind it in the links, nothing
    consumed. The sender then freezes (SIGSTOP): lost at the heartbeat
    timeout (before: the heartbeats left unread behind the held message hid
    its silence, and c never counted it lost), and with nothing else
    coming the edge's input ends at the stage deadline. The messages read
    ahead keep c's part running (before: it ended and the message was
    gone, neither delivered nor counted) until a client connects and gets
    both, in order; then c ends by itself. */
static void
test_edge_read_ahead_not_lost(void)
{
    int block[2];
    MU_CHECK_EQ(pipe(block), 0);
    held_block_fd = block[0];
    mu_flow_t *c = source_to_edge("c"), *a = source_to_edge("a");
    MU_CHECK(a && c);
    MU_CHECK_EQ(mu_flow_start(c), 0);
    MU_CHECK_EQ(mu_flow_start(a), 0);
    /* Stats rows change with no event to wait on: polled. */
    row_wait_t w = { .f = a, .index = 1 };
    bool sent = mu_test_poll_until(source_sent_two, &w, 20000); /* its stats come later */
    mu_flow_stats_t row = w.row;
    if (!sent)
        printf("# a's row 1: out %llu pid %d stage %s index %d\n", (unsigned long long) row.out,
               (int) row.pid, row.stage, row.index);
    MU_CHECK(sent);
    MU_CHECK_EQ(kill(row.pid, SIGSTOP), 0);
    pid_t src_pid = row.pid;
    w = (row_wait_t) { .f = c, .index = 2 };
    bool lost = mu_test_poll_until(host_lost, &w, 20000); /* c sees it lost */
    if (!lost)
        printf("# c's row 2: stage %s index %d pid %d in %llu hosts_lost %llu joined %llu\n",
               w.row.stage, w.row.index, (int) w.row.pid, (unsigned long long) w.row.in,
               (unsigned long long) w.row.hosts_lost, (unsigned long long) w.row.hosts_joined);
    MU_CHECK(lost);
    /* Past the stage deadline c still runs: the messages wait for a client. */
    MU_CHECK_EQ(mu_flow_wait(c, mu_test_ms(3000)), MU_ETIMEDOUT);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t) PORT(690)) };
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    MU_CHECK_EQ(connect(fd, (struct sockaddr *) &sa, sizeof sa), 0);
    char buf[16];
    int len = read_frame(fd, buf, sizeof buf, mu_test_ms(10000));
    MU_CHECK_EQ(len, 4);
    MU_CHECK(len == 4 && memcmp(buf, "held", 4) == 0);
    len = read_frame(fd, buf, sizeof buf, mu_test_ms(10000));
    MU_CHECK_EQ(len, 4);
    MU_CHECK(len == 4 && memcmp(buf, "next", 4) == 0);
    MU_CHECK_EQ(mu_flow_wait(c, mu_test_ms(30000)), 0);
    MU_CHECK(stats_row(c, 1, &row));
    MU_CHECK_EQ(row.in, 2);
    MU_CHECK_EQ(row.out, 2);
    MU_CHECK_EQ(row.drops, 0);
    close(fd);
    kill(src_pid, SIGCONT);
    close(block[1]);                             /* the source ends */
    int rc = mu_flow_stop(a, mu_test_ms(30000)); /* its edge is gone: drained or failed */
    (void) rc;
    close(block[0]);
    mu_flow_destroy(&a);
    mu_flow_destroy(&c);
}

/* ---- a source of short calls keeps its heartbeats ---- */

/*  Calls of 20 ms each (a source polling something: in user code, but
    each call shorter than the heartbeat thread's quarter interval of 50
    ms); one message at the first call and one at the 100th (2 s), then
    the end. */
static int
short_calls(void *arg, int index, mu_flow_emit_t *out)
{
    (void) arg;
    (void) index;
    static int calls;
    if (++calls > 100)
        return 0;
    if (calls == 1 || calls == 100)
        return mu_flow_emit(out, &calls, sizeof calls) == 0 ? MU_FLOW_MORE : -1;
    mu_test_sleep_ms(mu_test_ms(20)); /* the source's pace, scaled with the heartbeats */
    return MU_FLOW_MORE;
}

/*  A source on a whose calls each last 20 ms, its worker on b, heartbeats
    every 200 ms, lost after 1000 (the three scaled alike by mu_test_ms, so
    64 calls still outlast the timeout): the source's loop keeps the heartbeats
    going between its calls, so b never counts it lost (before: its loop
    served the links every 64th call, 1.3 s apart here, and b lost it and
    saw it rejoin); both parts end by themselves, the two messages handled. */
static void
test_source_of_short_calls_not_lost(void)
{
    mu_flow_t *f[2] = { NULL, NULL };
    const char *self[2] = { "a", "b" };
    for (int k = 0; k < 2; k++) {
        f[k] = mu_flow_new("h");
        MU_CHECK(f[k]);
        MU_CHECK_EQ(mu_flow_add_source(f[k], "src", 1, short_calls, NULL), 0);
        MU_CHECK_EQ(mu_flow_add_worker_stage(f[k], "work", 1, NULL, work_fn, NULL), 0);
        MU_CHECK_EQ(mu_flow_add_host(f[k], "a", "127.0.0.1", PORT(720)), 0);
        MU_CHECK_EQ(mu_flow_add_host(f[k], "b", "127.0.0.1", PORT(730)), 0);
        MU_CHECK_EQ(mu_flow_set_runners_on(f[k], "work", "a", 0), 0);
        MU_CHECK_EQ(mu_flow_set_runners_on(f[k], "work", "b", 1), 0);
        MU_CHECK_EQ(mu_flow_set_heartbeat(f[k], mu_test_ms(200), mu_test_ms(1000)), 0);
        MU_CHECK_EQ(mu_flow_set_self(f[k], self[k]), 0);
    }
    MU_CHECK_EQ(mu_flow_start(f[1]), 0);
    MU_CHECK_EQ(mu_flow_start(f[0]), 0);
    MU_CHECK_EQ(mu_flow_wait(f[0], mu_test_ms(30000)), 0);
    MU_CHECK_EQ(mu_flow_wait(f[1], mu_test_ms(30000)), 0);
    mu_flow_stats_t rows[4];
    rows[0].size = sizeof rows[0];
    size_t n = 0;
    MU_CHECK_EQ(mu_flow_stats(f[1], rows, 4, &n), 0);
    MU_CHECK_EQ(n, 3); /* src total (no runner here), work total, work/0 */
    MU_CHECK_EQ(rows[2].in, 2);
    MU_CHECK_EQ(rows[2].hosts_lost, 0);
    MU_CHECK_EQ(rows[2].hosts_joined, 1);
    MU_CHECK_EQ(mu_flow_stats(f[0], rows, 4, &n), 0);
    MU_CHECK_EQ(rows[1].out, 2);
    MU_CHECK_EQ(rows[1].hosts_lost, 0);
    mu_flow_destroy(&f[0]);
    mu_flow_destroy(&f[1]);
}

int
main(void)
{
    mu_test_start(120);
    port_base = 10000 + (int) (getpid() % 12) * 800;
    MU_RUN(test_add_host_errors);
    MU_RUN(test_setter_errors);
    MU_RUN(test_start_errors);
    MU_RUN(test_two_hosts_end_by_themselves);
    MU_RUN(test_receiver_refuses_other_version);
    MU_RUN(test_sender_refused_by_other_version);
    MU_RUN(test_live_peer_refusing_is_lost);
    MU_RUN(test_edge_read_ahead_not_lost);
    MU_RUN(test_source_of_short_calls_not_lost);
    MU_DONE();
}
