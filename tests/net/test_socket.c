/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  test_socket.c — mu_socket: send modes, identities, queueing, events,
    dead peers, restarts, AT_LEAST_ONCE, bad input, CURVE.

    Peers in other processes are this program re-executed with --peer (a
    fresh process, so no ZeroMQ state crosses a fork). */
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

static char tmpdir[64];
static int endpoint_seq;
static const char *self_exe;

static const char *
ipc_endpoint(char *buf, size_t cap)
{
    snprintf(buf, cap, "ipc://%s/ep%d", tmpdir, endpoint_seq++);
    return buf;
}

static void
make_id(uint8_t *id, int n)
{
    char text[32] = { 0 };
    snprintf(text, sizeof text, "peer-%d", n % 100000);
    memcpy(id, text, MU_SOCKET_ID_BYTES);
}

/* Drives a socket once, discarding what it returns. */
static void
pump(mu_socket_t *s, mu_socket_msg_t *m, int ms)
{
    int rc = mu_socket_recv(s, m, ms);
    (void) rc;
}

/* The socket's counters (asserts that the call succeeds). */
static mu_socket_stats_t
stats_of(const mu_socket_t *s)
{
    mu_socket_stats_t st = { .size = sizeof st };
    int rc = mu_socket_stats(s, &st);
    assert(rc == 0);
    (void) rc;
    return st;
}

static mu_socket_t *
new_socket(int n)
{
    uint8_t id[MU_SOCKET_ID_BYTES];
    make_id(id, n);
    mu_socket_t *s = mu_socket_new(id);
    if (s && mu_socket_set_heartbeat(s, HB_IVL, HB_TIMEOUT) != 0)
        mu_socket_destroy(&s);
    return s;
}

/* Waits up to ms (not scaled; at most 10) until one of the n sockets has
   input, so that drive loops sleep on events instead of spinning. */
static void
wait_input(mu_socket_t **socks, int n, int ms)
{
    zmq_pollitem_t items[16];
    if (n > 16)
        n = 16;
    for (int i = 0; i < n; i++)
        items[i] = (zmq_pollitem_t) { zsock_resolve(mu_socket_zsock(socks[i])), 0, ZMQ_POLLIN, 0 };
    int rc = zmq_poll(items, n, ms < 10 ? ms : 10);
    (void) rc;
}

/* Drives every socket (recv with timeout 0, discarding) until each has at
   least want[i] peers or ms (scaled) pass. Returns true when all got there. */
static bool
settle(mu_socket_t **socks, const size_t *want, int n, int ms)
{
    int64_t deadline = mu_test_now_ms() + mu_test_ms(ms);
    while (mu_test_now_ms() < deadline) {
        bool done = true;
        for (int i = 0; i < n; i++) {
            mu_socket_msg_t m;
            while (mu_socket_recv(socks[i], &m, 0) == 0)
                ;
            if (mu_socket_peers(socks[i]) < want[i])
                done = false;
        }
        if (done)
            return true;
        wait_input(socks, n, 10);
    }
    return false;
}

static bool
settle_pair(mu_socket_t *a, mu_socket_t *b)
{
    mu_socket_t *s[2] = { a, b };
    size_t want[2] = { 1, 1 };
    return settle(s, want, 2, 5000);
}

/* Receives one message (skipping events) within ms (scaled); returns rc. */
static int
recv_msg(mu_socket_t *s, mu_socket_msg_t *m, int ms)
{
    int64_t deadline = mu_test_now_ms() + mu_test_ms(ms);
    for (;;) {
        int left = (int) (deadline - mu_test_now_ms());
        int rc = mu_socket_recv(s, m, left > 0 ? left : 0);
        if (rc != 0 || m->event == MU_SOCKET_MESSAGE)
            return rc;
    }
}

/* ------------------------------------------------------------------ */
/* The peer process: connects (or binds) with a given identity and
   reports every message's first 8 bytes on fd 1 (stdout redirected to a
   pipe by the parent). */

static int
peer_main(int argc, char **argv)
{
    /* --peer connect|bind ENDPOINT N */
    if (argc < 5)
        return 2;
    zsys_handler_set(NULL);
    uint8_t id[MU_SOCKET_ID_BYTES];
    make_id(id, atoi(argv[4]));
    mu_socket_t *s = mu_socket_new(id);
    if (!s || mu_socket_set_heartbeat(s, HB_IVL, HB_TIMEOUT) != 0)
        return 3;
    int rc = strcmp(argv[2], "bind") == 0 ? mu_socket_bind(s, argv[3])
                                          : mu_socket_connect(s, argv[3]);
    if (rc < 0)
        return 4;
    for (;;) {
        mu_socket_msg_t m;
        if (mu_socket_recv(s, &m, 1000) != 0 || m.event != MU_SOCKET_MESSAGE)
            continue;
        uint64_t v = 0;
        memcpy(&v, m.data, m.size < 8 ? m.size : 8);
        if (write(1, &v, 8) != 8)
            break;
    }
    mu_socket_destroy(&s);
    zsys_shutdown();
    return 0;
}

typedef struct {
    pid_t pid;
    int fd; /* read end of the child's reports */
} child_t;

static bool
spawn_peer(child_t *c, const char *how, const char *endpoint, int n)
{
    int fds[2];
    if (pipe(fds) != 0)
        return false;
    char num[16];
    snprintf(num, sizeof num, "%d", n);
    c->pid = fork();
    if (c->pid < 0)
        return false;
    if (c->pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlive the test */
        dup2(fds[1], 1);
        close(fds[0]);
        close(fds[1]);
        execl(self_exe, self_exe, "--peer", how, endpoint, num, (char *) NULL);
        _exit(127);
    }
    close(fds[1]);
    c->fd = fds[0];
    fcntl(c->fd, F_SETFL, O_NONBLOCK);
    return true;
}

/* Reads every report available now; calls fn for each value. */
static void
read_reports(child_t *c, void (*fn)(uint64_t v, void *arg), void *arg)
{
    uint64_t buf[512];
    ssize_t n;
    static uint8_t partial[8];
    static size_t npartial;
    while ((n = read(c->fd, (uint8_t *) buf, sizeof buf)) > 0) {
        uint8_t *p = (uint8_t *) buf;
        size_t len = (size_t) n;
        while (len > 0) {
            size_t take = 8 - npartial < len ? 8 - npartial : len;
            memcpy(partial + npartial, p, take);
            npartial += take;
            p += take;
            len -= take;
            if (npartial == 8) {
                uint64_t v;
                memcpy(&v, partial, 8);
                fn(v, arg);
                npartial = 0;
            }
        }
    }
}

/* SIGKILLs the peer and reaps it, then hands every report it wrote before
   dying to fn (unless fn is NULL) and closes the pipe. The reports left in
   the pipe are real deliveries: the peer acknowledged those messages after
   writing them, so the sender has forgotten them and they are never sent
   again; a tally that skipped them would count them as lost. */
static void
stop_peer(child_t *c, void (*fn)(uint64_t v, void *arg), void *arg)
{
    if (c->pid > 0) {
        kill(c->pid, SIGKILL);
        waitpid(c->pid, NULL, 0);
        c->pid = 0;
    }
    if (c->fd >= 0 && fn)
        read_reports(c, fn, arg); /* to EOF: the writer is gone */
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
}

/* SIGKILLs the peer, reaps it and drops its unread reports. */
static void
kill_peer(child_t *c)
{
    stop_peer(c, NULL, NULL);
}

/* Waits up to ms (scaled) for an event of kind about identity id. */
static bool
wait_event(mu_socket_t *s, mu_socket_event_t kind, const uint8_t *id, int ms)
{
    int64_t deadline = mu_test_now_ms() + mu_test_ms(ms);
    while (mu_test_now_ms() < deadline) {
        mu_socket_msg_t m;
        if (mu_socket_recv(s, &m, (int) (deadline - mu_test_now_ms())) != 0)
            continue;
        if (m.event == kind && (!id || memcmp(m.peer, id, MU_SOCKET_ID_BYTES) == 0))
            return true;
    }
    return false;
}

/* ------------------------------------------------------------------ */
/* Cases                                                               */

/* binder binds a fresh ipc endpoint, connector connects to it, and both
   wait until each has joined the other. */
static bool
join_over_ipc(mu_socket_t *binder, mu_socket_t *connector)
{
    char ep[256];
    return mu_socket_bind(binder, ipc_endpoint(ep, sizeof ep)) == 0
           && mu_socket_connect(connector, ep) == 0 && settle_pair(binder, connector);
}

static void
test_identity(void)
{
    uint8_t id[MU_SOCKET_ID_BYTES];
    make_id(id, 7);
    mu_socket_t *a = mu_socket_new(id);
    mu_socket_t *b = mu_socket_new(NULL);
    mu_socket_t *c = mu_socket_new(NULL);
    MU_CHECK(a && b && c);
    MU_CHECK(memcmp(mu_socket_identity(a), id, MU_SOCKET_ID_BYTES) == 0);
    MU_CHECK(memcmp(mu_socket_identity(b), mu_socket_identity(c), MU_SOCKET_ID_BYTES) != 0);
    MU_CHECK(mu_socket_zsock(a) != NULL);
    MU_CHECK(mu_socket_fd(a) >= 0);
    MU_CHECK_EQ(mu_socket_peers(a), 0);
    MU_CHECK(strcmp(mu_socket_endpoint(a), "") == 0);
    mu_socket_destroy(&a);
    mu_socket_destroy(&b);
    mu_socket_destroy(&c);
    MU_CHECK(a == NULL);
    mu_socket_destroy(&a);
    mu_socket_destroy(NULL);
}

static void
test_errors(void)
{
    mu_socket_t *s = new_socket(1);
    MU_CHECK(s);
    MU_CHECK_EQ(mu_socket_set_heartbeat(s, 0, 100), MU_EINVAL);
    MU_CHECK_EQ(mu_socket_set_heartbeat(s, 100, 100), MU_EINVAL);
    MU_CHECK_EQ(mu_socket_set_queue(s, 0, MU_SOCKET_BLOCK, -1), MU_EINVAL);
    MU_CHECK_EQ(mu_socket_set_queue(s, 10, MU_SOCKET_BLOCK, -2), MU_EINVAL);
    MU_CHECK_EQ(mu_socket_set_at_least_once(s, 0, 10, 10), MU_EINVAL);
    MU_CHECK_EQ(mu_socket_set_at_least_once(s, 3, 0, 10), MU_EINVAL);
    MU_CHECK_EQ(mu_socket_set_at_least_once(s, 3, 10, 0), MU_EINVAL);
    MU_CHECK_EQ(mu_socket_bind(s, "bogus://x"), MU_EINVAL);
    MU_CHECK_EQ(mu_socket_bind(s, "tcp://256.1.1.1:1"), MU_EINVAL);
    MU_CHECK_EQ(mu_socket_connect(s, "nonsense"), MU_EINVAL);
    /* a busy address is MU_EADDRINUSE, with the endpoint in the detail */
    int port = mu_socket_bind(s, "tcp://127.0.0.1:*");
    MU_CHECK(port > 0 && port <= 65535);
    mu_socket_t *t = new_socket(3);
    MU_CHECK(t);
    char busy[64];
    snprintf(busy, sizeof busy, "tcp://127.0.0.1:%d", port);
    MU_CHECK_EQ(mu_socket_bind(t, busy), MU_EADDRINUSE);
    MU_CHECK_EQ(mu_last_code(), MU_EADDRINUSE);
    MU_CHECK(strstr(mu_last_error(), busy) != NULL);
    mu_socket_destroy(&t);
    /* stats: a size below the first version is refused */
    mu_socket_stats_t st = { .size = sizeof st - 1 };
    MU_CHECK_EQ(mu_socket_stats(s, &st), MU_EINVAL);
    st.size = sizeof st;
    MU_CHECK_EQ(mu_socket_stats(s, &st), 0);
    MU_CHECK_EQ(st.size, sizeof st);
    char small[4] = "abc";
    MU_CHECK_EQ(mu_socket_send(s, small, (size_t) MU_SOCKET_MAX_MESSAGE + 1), MU_EMSGSIZE);
    uint8_t other[MU_SOCKET_ID_BYTES];
    make_id(other, 99);
    MU_CHECK_EQ(mu_socket_send_to(s, other, small, (size_t) MU_SOCKET_MAX_MESSAGE + 1),
                MU_EMSGSIZE);
    /* CURVE: a keypair without allow-list, a client without server key */
    mu_keys_t *keys = mu_keys_new();
    if (keys) {
        MU_CHECK_EQ(mu_socket_set_curve(s, keys, NULL, NULL, NULL), MU_EINVAL);
        MU_CHECK_EQ(mu_socket_set_curve(s, NULL, NULL, keys, NULL), MU_EINVAL);
        mu_keys_t *pub = mu_keys_new_from(mu_keys_public(keys), NULL);
        mu_allow_t *allow = mu_allow_new();
        MU_CHECK(pub && allow);
        MU_CHECK_EQ(mu_socket_set_curve(s, pub, allow, NULL, NULL), MU_EINVAL);
        mu_allow_destroy(&allow);
        mu_keys_destroy(&pub);
        mu_keys_destroy(&keys);
    }
    MU_CHECK_EQ(mu_socket_set_curve_secret(s, "short", 5), MU_EINVAL);
    mu_socket_msg_t m;
    MU_CHECK_EQ(mu_socket_recv(s, &m, 0), MU_EAGAIN);
    MU_CHECK_EQ(mu_socket_recv(s, &m, 30), MU_ETIMEDOUT);
    /* AT_LEAST_ONCE only before the first send */
    MU_CHECK_EQ(mu_socket_set_queue(s, 10, MU_SOCKET_DROP, 0), 0);
    MU_CHECK_EQ(mu_socket_send(s, "x", 1), 0); /* queued: no peer */
    MU_CHECK_EQ(mu_socket_set_at_least_once(s, 3, 10, 16), MU_EINVAL);
    mu_socket_destroy(&s);
    s = new_socket(2);
    MU_CHECK(s);
    MU_CHECK_EQ(mu_socket_set_at_least_once(s, 3, 10, 16), 0);
    MU_CHECK_EQ(mu_socket_set_at_least_once(s, 3, 10, (size_t) 1 << 21), MU_EINVAL);
    mu_socket_destroy(&s);
}

/* A binds, B connects; then B binds and C connects to it: both
   directions, tcp and ipc, send_to and replies by identity. */
static void
test_pair_both_directions(void)
{
    mu_socket_t *a = new_socket(1), *b = new_socket(2), *c = new_socket(3);
    MU_CHECK(a && b && c);
    int port = mu_socket_bind(a, "tcp://127.0.0.1:*");
    MU_CHECK(port > 0);
    MU_CHECK(strstr(mu_socket_endpoint(a), "tcp://127.0.0.1:") != NULL);
    MU_CHECK_EQ(mu_socket_connect(b, mu_socket_endpoint(a)), 0);
    MU_CHECK(settle_pair(a, b));
    MU_CHECK(mu_socket_has_peer(a, mu_socket_identity(b)));
    MU_CHECK(mu_socket_has_peer(b, mu_socket_identity(a)));

    /* connector -> binder, then the binder answers the sender by identity */
    MU_CHECK_EQ(mu_socket_send(b, "ping", 4), 0);
    mu_socket_msg_t m;
    MU_CHECK_EQ(recv_msg(a, &m, 2000), 0);
    MU_CHECK_EQ(m.size, 4);
    MU_CHECK(memcmp(m.data, "ping", 4) == 0);
    MU_CHECK(memcmp(m.peer, mu_socket_identity(b), MU_SOCKET_ID_BYTES) == 0);
    uint8_t from[MU_SOCKET_ID_BYTES];
    memcpy(from, m.peer, sizeof from);
    MU_CHECK_EQ(mu_socket_send_to(a, from, "pong", 4), 0);
    MU_CHECK_EQ(recv_msg(b, &m, 2000), 0);
    MU_CHECK(m.size == 4 && memcmp(m.data, "pong", 4) == 0);
    MU_CHECK(memcmp(m.peer, mu_socket_identity(a), MU_SOCKET_ID_BYTES) == 0);

    /* the other direction over ipc: B binds, C connects */
    char ep[256];
    MU_CHECK_EQ(mu_socket_bind(b, ipc_endpoint(ep, sizeof ep)), 0);
    MU_CHECK_EQ(mu_socket_connect(c, ep), 0);
    mu_socket_t *s[2] = { b, c };
    size_t want[2] = { 2, 1 };
    MU_CHECK(settle(s, want, 2, 5000));
    MU_CHECK_EQ(mu_socket_send_to(c, mu_socket_identity(b), "hi", 2), 0);
    MU_CHECK_EQ(recv_msg(b, &m, 2000), 0);
    MU_CHECK(m.size == 2 && memcmp(m.peer, mu_socket_identity(c), MU_SOCKET_ID_BYTES) == 0);
    /* an empty message is a message */
    MU_CHECK_EQ(mu_socket_send_to(b, mu_socket_identity(c), "", 0), 0);
    MU_CHECK_EQ(recv_msg(c, &m, 2000), 0);
    MU_CHECK_EQ(m.size, 0);
    mu_socket_stats_t st;
    st = stats_of(b);
    MU_CHECK_EQ(st.joins, 2);
    MU_CHECK(st.sent >= 2 && st.received >= 2);
    mu_socket_destroy(&a);
    mu_socket_destroy(&b);
    mu_socket_destroy(&c);
}

static void
test_unknown_identity(void)
{
    mu_socket_t *a = new_socket(1);
    MU_CHECK(a);
    uint8_t nobody[MU_SOCKET_ID_BYTES];
    make_id(nobody, 42);
    MU_CHECK_EQ(mu_socket_send_to(a, nobody, "x", 1), MU_EHOSTUNREACH);
    mu_socket_set_drop_unroutable(a, 1);
    MU_CHECK_EQ(mu_socket_send_to(a, nobody, "x", 1), 0);
    mu_socket_stats_t st;
    st = stats_of(a);
    MU_CHECK_EQ(st.dropped, 1);
    MU_CHECK_EQ(st.sent, 0);
    mu_socket_destroy(&a);
}

#define NPEERS 10

/* Makes a binder (mode) with NPEERS connectors, or NPEERS binders and one
   connector when flipped. */
static bool
make_star(mu_socket_t **hub, mu_socket_t **peers, bool flipped)
{
    char ep[256];
    *hub = new_socket(100);
    if (!*hub)
        return false;
    if (!flipped && mu_socket_bind(*hub, ipc_endpoint(ep, sizeof ep)) != 0)
        return false;
    for (int i = 0; i < NPEERS; i++) {
        if (!(peers[i] = new_socket(i)))
            return false;
        if (flipped) {
            if (mu_socket_bind(peers[i], ipc_endpoint(ep, sizeof ep)) != 0
                || mu_socket_connect(*hub, ep) != 0)
                return false;
        } else if (mu_socket_connect(peers[i], mu_socket_endpoint(*hub)) != 0)
            return false;
    }
    mu_socket_t *all[NPEERS + 1];
    size_t want[NPEERS + 1];
    all[0] = *hub;
    want[0] = NPEERS;
    for (int i = 0; i < NPEERS; i++) {
        all[i + 1] = peers[i];
        want[i + 1] = 1;
    }
    return settle(all, want, NPEERS + 1, 10000);
}

static void
destroy_star(mu_socket_t **hub, mu_socket_t **peers)
{
    mu_socket_destroy(hub);
    for (int i = 0; i < NPEERS; i++)
        mu_socket_destroy(&peers[i]);
}

static void
publish_case(bool flipped)
{
    mu_socket_t *hub, *peers[NPEERS] = { 0 };
    MU_CHECK(make_star(&hub, peers, flipped));
    mu_socket_set_mode(hub, MU_SOCKET_PUBLISH);
    for (uint32_t i = 0; i < 200; i++)
        MU_CHECK_EQ(mu_socket_send(hub, &i, sizeof i), 0);
    for (int p = 0; p < NPEERS; p++)
        for (uint32_t i = 0; i < 200; i++) {
            mu_socket_msg_t m;
            MU_CHECK_EQ(recv_msg(peers[p], &m, 3000), 0);
            MU_CHECK_EQ(m.size, 4);
            uint32_t v;
            memcpy(&v, m.data, 4);
            MU_CHECK_EQ(v, i);
            MU_CHECK(memcmp(m.peer, mu_socket_identity(hub), MU_SOCKET_ID_BYTES) == 0);
        }
    mu_socket_stats_t st;
    st = stats_of(hub);
    MU_CHECK_EQ(st.sent, 200 * NPEERS);
    destroy_star(&hub, peers);
}

static void
test_publish_10(void)
{
    publish_case(false);
}

static void
test_publish_10_flipped(void)
{
    publish_case(true);
}

/* Counts per peer what the peers receive until want messages arrived in
   all or 5 s (scaled) passed; returns the total. */
static int
collect_counts(mu_socket_t **peers, int n, int *counts, int want)
{
    int total = 0;
    int64_t deadline = mu_test_now_ms() + mu_test_ms(5000);
    while (total < want && mu_test_now_ms() < deadline) {
        for (int p = 0; p < n; p++) {
            mu_socket_msg_t m;
            while (mu_socket_recv(peers[p], &m, 0) == 0)
                if (m.event == MU_SOCKET_MESSAGE) {
                    counts[p]++;
                    total++;
                }
        }
        wait_input(peers, n, 10);
    }
    return total;
}

static void
roundrobin_case(bool flipped)
{
    mu_socket_t *hub, *peers[NPEERS] = { 0 };
    MU_CHECK(make_star(&hub, peers, flipped));
    mu_socket_set_mode(hub, MU_SOCKET_ROUNDROBIN);
    for (uint32_t i = 0; i < 1003; i++)
        MU_CHECK_EQ(mu_socket_send(hub, &i, sizeof i), 0);
    int counts[NPEERS] = { 0 };
    MU_CHECK_EQ(collect_counts(peers, NPEERS, counts, 1003), 1003);
    int lo = counts[0], hi = counts[0];
    for (int p = 0; p < NPEERS; p++) {
        lo = counts[p] < lo ? counts[p] : lo;
        hi = counts[p] > hi ? counts[p] : hi;
    }
    MU_CHECK(hi - lo <= 1);
    destroy_star(&hub, peers);
}

static void
test_roundrobin_10(void)
{
    roundrobin_case(false);
}

static void
test_roundrobin_10_flipped(void)
{
    roundrobin_case(true);
}

/* Which of peers got the next message (after one send): index or -1. */
static int
who_got(mu_socket_t **peers, int n)
{
    mu_socket_t *live[8];
    int nlive = 0;
    for (int p = 0; p < n && nlive < 8; p++)
        if (peers[p])
            live[nlive++] = peers[p];
    int64_t deadline = mu_test_now_ms() + mu_test_ms(2000);
    while (mu_test_now_ms() < deadline) {
        for (int p = 0; p < n; p++) {
            if (!peers[p])
                continue;
            mu_socket_msg_t m;
            if (mu_socket_recv(peers[p], &m, 0) == 0 && m.event == MU_SOCKET_MESSAGE)
                return p;
        }
        wait_input(live, nlive, 10);
    }
    return -1;
}

/* Joining or leaving peers do not restart the cycle. */
static void
test_roundrobin_churn(void)
{
    char ep[256];
    mu_socket_t *hub = new_socket(100), *peers[4] = { 0 };
    MU_CHECK(hub);
    MU_CHECK_EQ(mu_socket_bind(hub, ipc_endpoint(ep, sizeof ep)), 0);
    mu_socket_set_mode(hub, MU_SOCKET_ROUNDROBIN);
    for (int i = 0; i < 3; i++) { /* join one by one: order p0 p1 p2 */
        peers[i] = new_socket(i);
        MU_CHECK(peers[i]);
        MU_CHECK_EQ(mu_socket_connect(peers[i], ep), 0);
        mu_socket_t *s[2] = { hub, peers[i] };
        size_t want[2] = { (size_t) i + 1, 1 };
        MU_CHECK(settle(s, want, 2, 5000));
    }
    int expect1[] = { 0, 1, 2, 0 };
    for (int k = 0; k < 4; k++) {
        MU_CHECK_EQ(mu_socket_send(hub, "m", 1), 0);
        MU_CHECK_EQ(who_got(peers, 4), expect1[k]);
    }
    /* p3 joins: the cycle goes on with p1, p2, then the newcomer */
    peers[3] = new_socket(3);
    MU_CHECK(peers[3]);
    MU_CHECK_EQ(mu_socket_connect(peers[3], ep), 0);
    mu_socket_t *s[2] = { hub, peers[3] };
    size_t want[2] = { 4, 1 };
    MU_CHECK(settle(s, want, 2, 5000));
    int expect2[] = { 1, 2, 3 };
    for (int k = 0; k < 3; k++) {
        MU_CHECK_EQ(mu_socket_send(hub, "m", 1), 0);
        MU_CHECK_EQ(who_got(peers, 4), expect2[k]);
    }
    MU_CHECK_EQ(mu_socket_send(hub, "m", 1), 0); /* p0; next would be p1 */
    MU_CHECK_EQ(who_got(peers, 4), 0);
    /* p1 leaves: the next is p2, not p0 */
    mu_socket_destroy(&peers[1]);
    int64_t deadline = mu_test_now_ms() + mu_test_ms(3000);
    while (mu_socket_peers(hub) != 3 && mu_test_now_ms() < deadline) {
        mu_socket_msg_t m;
        pump(hub, &m, 10);
    }
    MU_CHECK_EQ(mu_socket_peers(hub), 3);
    int expect3[] = { 2, 3, 0, 2 };
    for (int k = 0; k < 4; k++) {
        MU_CHECK_EQ(mu_socket_send(hub, "m", 1), 0);
        MU_CHECK_EQ(who_got(peers, 4), expect3[k]);
    }
    mu_socket_destroy(&hub);
    for (int i = 0; i < 4; i++)
        mu_socket_destroy(&peers[i]);
}

/* With no peer, sends queue up to the limit; DROP counts, BLOCK times out;
   a joining peer gets the queue in order. */
static void
test_queue_without_peer(void)
{
    char ep[256];
    mu_socket_t *a = new_socket(1), *b = new_socket(2);
    MU_CHECK(a && b);
    MU_CHECK_EQ(mu_socket_set_queue(a, 5, MU_SOCKET_DROP, 0), 0);
    for (uint32_t i = 0; i < 5; i++)
        MU_CHECK_EQ(mu_socket_send(a, &i, 4), 0);
    uint32_t extra = 99;
    MU_CHECK_EQ(mu_socket_send(a, &extra, 4), MU_EAGAIN);
    mu_socket_stats_t st;
    st = stats_of(a);
    MU_CHECK_EQ(st.dropped, 1);
    MU_CHECK_EQ(mu_socket_set_queue(a, 5, MU_SOCKET_BLOCK, 50), 0);
    int64_t t0 = mu_test_now_ms();
    MU_CHECK_EQ(mu_socket_send(a, &extra, 4), MU_ETIMEDOUT);
    MU_CHECK(mu_test_now_ms() - t0 >= 45);
    MU_CHECK_EQ(mu_socket_set_queue(a, 4, MU_SOCKET_BLOCK, 50), MU_EINVAL); /* holds 5 */
    MU_CHECK_EQ(mu_socket_bind(b, ipc_endpoint(ep, sizeof ep)), 0);
    MU_CHECK_EQ(mu_socket_connect(a, ep), 0);
    /* drive both until a sees b; the queue goes out when b joins */
    uint32_t got[8];
    int ngot = 0;
    int64_t deadline = mu_test_now_ms() + mu_test_ms(5000);
    mu_socket_msg_t m;
    while (mu_socket_peers(a) == 0 && mu_test_now_ms() < deadline) {
        pump(a, &m, 1);
        if (mu_socket_recv(b, &m, 0) == 0 && m.event == MU_SOCKET_MESSAGE && ngot < 8)
            memcpy(&got[ngot++], m.data, 4);
    }
    MU_CHECK_EQ(mu_socket_peers(a), 1);
    uint32_t last = 5;
    MU_CHECK_EQ(mu_socket_send(a, &last, 4), 0); /* after the queue */
    while (ngot < 6 && recv_msg(b, &m, 2000) == 0)
        memcpy(&got[ngot++], m.data, 4);
    MU_CHECK_EQ(ngot, 6);
    for (uint32_t i = 0; i <= 5; i++)
        MU_CHECK_EQ(got[i], i);
    mu_socket_destroy(&a);
    mu_socket_destroy(&b);
}

static void
test_events(void)
{
    char ep[256];
    mu_socket_t *a = new_socket(1), *b = new_socket(2);
    MU_CHECK(a && b);
    mu_socket_set_events(a, 1);
    MU_CHECK_EQ(mu_socket_bind(a, ipc_endpoint(ep, sizeof ep)), 0);
    MU_CHECK_EQ(mu_socket_connect(b, ep), 0);
    int64_t deadline = mu_test_now_ms() + mu_test_ms(3000);
    mu_socket_msg_t m;
    bool joined = false;
    while (!joined && mu_test_now_ms() < deadline) {
        pump(b, &m, 0);
        joined = mu_socket_recv(a, &m, 10) == 0 && m.event == MU_SOCKET_JOIN;
    }
    MU_CHECK(joined);
    MU_CHECK(memcmp(m.peer, mu_socket_identity(b), MU_SOCKET_ID_BYTES) == 0);
    MU_CHECK(m.data == NULL && m.size == 0);
    mu_socket_destroy(&b); /* BYE */
    MU_CHECK(wait_event(a, MU_SOCKET_LEAVE, NULL, 2000));
    MU_CHECK_EQ(mu_socket_peers(a), 0);
    mu_socket_stats_t st;
    st = stats_of(a);
    MU_CHECK_EQ(st.leaves, 1);
    mu_socket_destroy(&a);
}

static void
test_poll(void)
{
    mu_socket_t *a = new_socket(1), *b = new_socket(2);
    MU_CHECK(a && b);
    MU_CHECK(join_over_ipc(a, b));
    MU_CHECK_EQ(mu_socket_send(b, "poll", 4), 0);
    /* Readable may also mean a control message (a heartbeat, the join's
       hello): recv with timeout 0 handles it and says MU_EAGAIN, and the
       owner polls again, as the header says. */
    zpoller_t *poller = zpoller_new(mu_socket_zsock(a), NULL);
    MU_CHECK(poller);
    mu_socket_msg_t m;
    int rc = MU_EAGAIN;
    int64_t deadline = mu_test_now_ms() + mu_test_ms(2000);
    while (rc == MU_EAGAIN && mu_test_now_ms() < deadline) {
        void *which = zpoller_wait(poller, (int) (deadline - mu_test_now_ms()));
        if (which != mu_socket_zsock(a))
            break;
        rc = mu_socket_recv(a, &m, 0);
    }
    zpoller_destroy(&poller);
    MU_CHECK_EQ(rc, 0);
    MU_CHECK(m.size == 4 && memcmp(m.data, "poll", 4) == 0);
    int next = mu_socket_tick(a);
    MU_CHECK(next >= 0 && next <= HB_IVL);
    mu_socket_destroy(&a);
    mu_socket_destroy(&b);
}

/* A stopped peer (SIGSTOP) and a killed peer (SIGKILL) are noticed within
   a few heartbeat timeouts (the bound is generous and scaled: what counts is
   that they are noticed at all, which no TCP or ipc event would do for a
   stopped peer). */
#define DEAD_PEER_BOUND_MS (5 * HB_TIMEOUT + 2 * HB_IVL)
static void
test_dead_peer_detection(void)
{
    char ep[256];
    mu_socket_t *a = new_socket(100);
    MU_CHECK(a);
    mu_socket_set_events(a, 1);
    MU_CHECK_EQ(mu_socket_bind(a, ipc_endpoint(ep, sizeof ep)), 0);
    child_t c = { 0, -1 };
    MU_CHECK(spawn_peer(&c, "connect", ep, 5));
    uint8_t id[MU_SOCKET_ID_BYTES];
    make_id(id, 5);
    MU_CHECK(wait_event(a, MU_SOCKET_JOIN, id, 5000));
    kill(c.pid, SIGSTOP);
    int64_t t0 = mu_test_now_ms();
    bool left = wait_event(a, MU_SOCKET_LEAVE, id, 5000);
    int64_t stop_ms = mu_test_now_ms() - t0;
    kill(c.pid, SIGCONT);
    printf("# stopped peer noticed after %lld ms (timeout %d)\n", (long long) stop_ms, HB_TIMEOUT);
    MU_CHECK(left);
    MU_CHECK(stop_ms <= DEAD_PEER_BOUND_MS);
    /* it wakes up and joins again (same identity) */
    MU_CHECK(wait_event(a, MU_SOCKET_JOIN, id, 5000));
    kill(c.pid, SIGKILL);
    t0 = mu_test_now_ms();
    left = wait_event(a, MU_SOCKET_LEAVE, id, 5000);
    int64_t kill_ms = mu_test_now_ms() - t0;
    printf("# killed peer noticed after %lld ms\n", (long long) kill_ms);
    kill_peer(&c);
    MU_CHECK(left);
    MU_CHECK(kill_ms <= DEAD_PEER_BOUND_MS);
    mu_socket_stats_t st;
    st = stats_of(a);
    MU_CHECK(st.reconnects >= 1);
    mu_socket_destroy(&a);
}

typedef struct {
    uint8_t *seen; /* per value: times reported this incarnation */
    uint8_t *ever; /* per value: reported by any incarnation */
    size_t max;
    size_t distinct, dups, bad;
} tally_t;

static void
tally(uint64_t v, void *arg)
{
    tally_t *t = arg;
    if (v >= t->max) {
        t->bad++;
        return;
    }
    if (t->seen[v]++)
        t->dups++;
    if (!t->ever[v]++)
        t->distinct++;
}

static bool
tally_init(tally_t *t, size_t max)
{
    memset(t, 0, sizeof *t);
    t->max = max;
    t->seen = calloc(max, 1);
    t->ever = calloc(max, 1);
    return t->seen && t->ever;
}

static void
tally_free(tally_t *t)
{
    free(t->seen);
    free(t->ever);
}

/* Drives a and tallies the child's reports until want distinct values came
   or ms (scaled) passed, waiting on the socket and the report pipe. */
static void
collect_reports(mu_socket_t *a, child_t *c, tally_t *t, size_t want, int ms)
{
    int64_t deadline = mu_test_now_ms() + mu_test_ms(ms);
    while (t->distinct < want && mu_test_now_ms() < deadline) {
        mu_socket_msg_t m;
        while (mu_socket_recv(a, &m, 0) == 0)
            ;
        zmq_pollitem_t items[2] = { { zsock_resolve(mu_socket_zsock(a)), 0, ZMQ_POLLIN, 0 },
                                    { NULL, c->fd, ZMQ_POLLIN, 0 } };
        int rc = zmq_poll(items, 2, 10);
        (void) rc;
        read_reports(c, tally, t);
    }
}

/* The peer is SIGKILLed and restarted with the same identity: it joins
   again; what was sent while it was away is delivered up to the queue
   limit, the rest dropped and counted. */
static void
test_kill_restart_queue(void)
{
    char ep[256];
    mu_socket_t *a = new_socket(100);
    MU_CHECK(a);
    mu_socket_set_events(a, 1);
    MU_CHECK_EQ(mu_socket_set_queue(a, 10, MU_SOCKET_DROP, 0), 0);
    MU_CHECK(mu_socket_bind(a, "tcp://127.0.0.1:*") > 0);
    snprintf(ep, sizeof ep, "%s", mu_socket_endpoint(a));
    child_t c = { 0, -1 };
    MU_CHECK(spawn_peer(&c, "connect", ep, 6));
    uint8_t id[MU_SOCKET_ID_BYTES];
    make_id(id, 6);
    MU_CHECK(wait_event(a, MU_SOCKET_JOIN, id, 5000));
    tally_t t;
    MU_CHECK(tally_init(&t, 100));
    for (uint64_t v = 0; v < 10; v++)
        MU_CHECK_EQ(mu_socket_send(a, &v, 8), 0);
    collect_reports(a, &c, &t, 10, 3000);
    MU_CHECK_EQ(t.distinct, 10);
    kill_peer(&c);
    MU_CHECK(wait_event(a, MU_SOCKET_LEAVE, id, 3000));
    int dropped = 0;
    for (uint64_t v = 10; v < 30; v++) {
        int rc = mu_socket_send(a, &v, 8);
        MU_CHECK(rc == 0 || rc == MU_EAGAIN);
        dropped += rc == MU_EAGAIN;
    }
    MU_CHECK_EQ(dropped, 10);
    MU_CHECK(spawn_peer(&c, "connect", ep, 6));
    MU_CHECK(wait_event(a, MU_SOCKET_JOIN, id, 5000));
    memset(t.seen, 0, t.max);
    collect_reports(a, &c, &t, 20, 3000);
    kill_peer(&c);
    MU_CHECK_EQ(t.distinct, 20);
    for (int v = 10; v < 20; v++)
        MU_CHECK(t.ever[v] == 1);
    MU_CHECK_EQ(t.dups, 0);
    mu_socket_stats_t st;
    st = stats_of(a);
    MU_CHECK_EQ(st.dropped, 10);
    MU_CHECK_EQ(st.reconnects, 1);
    tally_free(&t);
    mu_socket_destroy(&a);
}

/* The other direction: the peer process binds, we connect; it is killed
   and restarted on the same endpoint, and we reconnect by ourselves. */
static void
test_kill_restart_binder(void)
{
    char ep[256];
    ipc_endpoint(ep, sizeof ep);
    child_t c = { 0, -1 };
    MU_CHECK(spawn_peer(&c, "bind", ep, 8));
    mu_socket_t *a = new_socket(100);
    MU_CHECK(a);
    mu_socket_set_events(a, 1);
    MU_CHECK_EQ(mu_socket_connect(a, ep), 0);
    uint8_t id[MU_SOCKET_ID_BYTES];
    make_id(id, 8);
    MU_CHECK(wait_event(a, MU_SOCKET_JOIN, id, 5000));
    kill_peer(&c);
    MU_CHECK(wait_event(a, MU_SOCKET_LEAVE, id, 3000));
    MU_CHECK_EQ(mu_socket_send(a, "\x2a", 1), 0); /* queued while it is away */
    MU_CHECK(spawn_peer(&c, "bind", ep, 8));
    MU_CHECK(wait_event(a, MU_SOCKET_JOIN, id, 5000));
    tally_t t;
    MU_CHECK(tally_init(&t, 100));
    collect_reports(a, &c, &t, 1, 3000);
    kill_peer(&c);
    MU_CHECK_EQ(t.distinct, 1);
    MU_CHECK_EQ(t.ever[42], 1);
    mu_socket_stats_t st;
    st = stats_of(a);
    MU_CHECK_EQ(st.reconnects, 1);
    tally_free(&t);
    mu_socket_destroy(&a);
}

#define ALO_IDS 100000
#define ALO_KILL_UNREAD 2048 /* reports written by the receiver, not yet read */

/* How many whole reports wait unread in the child's pipe. */
static size_t
unread_reports(child_t *c)
{
    int bytes = 0;
    return ioctl(c->fd, FIONREAD, &bytes) == 0 && bytes > 0 ? (size_t) bytes / 8 : 0;
}

/* AT_LEAST_ONCE: the receiver is SIGKILLed and restarted mid-stream; every
   id arrives, and no incarnation sees an id twice. It is killed while at
   least ALO_KILL_UNREAD of its reports wait unread in the pipe (ids it
   handled and mostly acknowledged, which the sender never sends again), so
   the tally must take the dead incarnation's last reports too. */
static void
test_at_least_once_kill(void)
{
    char ep[256];
    mu_socket_t *a = new_socket(100);
    MU_CHECK(a);
    MU_CHECK_EQ(mu_socket_set_at_least_once(a, 100, 300, 4096), 0);
    MU_CHECK_EQ(mu_socket_set_queue(a, 1000, MU_SOCKET_BLOCK, 20000), 0);
    MU_CHECK_EQ(mu_socket_bind(a, ipc_endpoint(ep, sizeof ep)), 0);
    child_t c = { 0, -1 };
    MU_CHECK(spawn_peer(&c, "connect", ep, 7));
    tally_t t;
    MU_CHECK(tally_init(&t, ALO_IDS));
    bool killed = false;
    for (uint64_t v = 0; v < ALO_IDS; v++) {
        int rc = mu_socket_send(a, &v, 8);
        if (rc != 0) {
            printf("# send %llu: %s\n", (unsigned long long) v, mu_errname(rc));
            break;
        }
        bool armed = !killed && t.distinct > ALO_IDS / 3; /* its reports stay unread */
        if (!armed && (v & 255) == 0)
            read_reports(&c, tally, &t);
        if (armed && unread_reports(&c) >= ALO_KILL_UNREAD) {
            stop_peer(&c, tally, &t);
            memset(t.seen, 0, t.max);
            killed = true;
            if (!spawn_peer(&c, "connect", ep, 7))
                break;
        }
    }
    collect_reports(a, &c, &t, ALO_IDS, 30000);
    stop_peer(&c, tally, &t);
    mu_socket_stats_t st;
    st = stats_of(a);
    printf("# ids %zu/%d, dups within an incarnation %zu, resent %llu, dropped %llu, "
           "reconnects %llu\n",
           t.distinct, ALO_IDS, t.dups, (unsigned long long) st.resent,
           (unsigned long long) st.dropped, (unsigned long long) st.reconnects);
    MU_CHECK(killed);
    MU_CHECK_EQ(t.distinct, ALO_IDS);
    MU_CHECK_EQ(t.dups, 0);
    MU_CHECK_EQ(t.bad, 0);
    /* At least the restart; a loaded machine may add a heartbeat expiry
       and rejoin of the same incarnation (which de-duplicates as before). */
    MU_CHECK(st.reconnects >= 1);
    tally_free(&t);
    mu_socket_destroy(&a);
}

/* Resends before the receiver reads: the receiver removes duplicates. */
static void
test_at_least_once_dedup(void)
{
    mu_socket_t *a = new_socket(1), *b = new_socket(2);
    MU_CHECK(a && b);
    MU_CHECK_EQ(mu_socket_set_at_least_once(a, 50, 5, 1000), 0);
    MU_CHECK(join_over_ipc(b, a));
    for (uint32_t i = 0; i < 100; i++)
        MU_CHECK_EQ(mu_socket_send(a, &i, 4), 0);
    /* b hands nothing out (its ticks only keep the heartbeats going): a
       resends every copy at least once */
    mu_socket_msg_t m;
    mu_socket_stats_t sa, sb;
    int64_t deadline = mu_test_now_ms() + mu_test_ms(3000);
    do {
        pump(a, &m, mu_socket_tick(a));
        (void) mu_socket_tick(b);
        sa = stats_of(a);
    } while (sa.resent < 100 && mu_test_now_ms() < deadline);
    MU_CHECK(sa.resent >= 100);
    for (uint32_t i = 0; i < 100; i++) {
        MU_CHECK_EQ(recv_msg(b, &m, 2000), 0);
        uint32_t v;
        memcpy(&v, m.data, 4);
        MU_CHECK_EQ(v, i);
    }
    /* acks flow and duplicates are removed until a has resent nothing for
       a while longer than its longest resend interval (32 x 5 ms) */
    uint64_t resent = sa.resent;
    int64_t quiet_until = mu_test_now_ms() + 400;
    deadline = mu_test_now_ms() + mu_test_ms(5000);
    while (mu_test_now_ms() < quiet_until && mu_test_now_ms() < deadline) {
        MU_CHECK(mu_socket_recv(b, &m, 5) != 0 || m.event != MU_SOCKET_MESSAGE);
        pump(a, &m, 0);
        sa = stats_of(a);
        if (sa.resent != resent) {
            resent = sa.resent;
            quiet_until = mu_test_now_ms() + 400;
        }
    }
    sb = stats_of(b);
    printf("# resent %llu, duplicates removed %llu\n", (unsigned long long) sa.resent,
           (unsigned long long) sb.duplicates);
    MU_CHECK(mu_test_now_ms() >= quiet_until); /* everything acknowledged */
    MU_CHECK_EQ(sa.dropped, 0);                /* not given up on */
    MU_CHECK(sb.duplicates > 0);
    MU_CHECK_EQ(sb.received, 100);
    mu_socket_destroy(&a);
    mu_socket_destroy(&b);
}

/* AT_LEAST_ONCE raises the receive limit per peer to 2 x window + 1000
   messages: the acks a window of copies can produce never fill it. (A full
   receive pipe stops libzmq 4.3.4's input from that peer, and a peer dying
   then aborts the process: "Assertion failed: !_io_error", seen in about one
   run in five of test_at_least_once_kill with the default limit of 1000.) */
static void
test_at_least_once_receive_limit(void)
{
    mu_socket_t *a = new_socket(100);
    MU_CHECK(a);
    MU_CHECK_EQ(zsock_rcvhwm(mu_socket_zsock(a)), 1000);
    MU_CHECK_EQ(mu_socket_set_at_least_once(a, 100, 300, 4096), 0);
    MU_CHECK_EQ(zsock_rcvhwm(mu_socket_zsock(a)), 2 * 4096 + 1000);
    MU_CHECK_EQ(mu_socket_set_at_least_once(a, 100, 300, 1u << 20), 0);
    MU_CHECK_EQ(zsock_rcvhwm(mu_socket_zsock(a)), 2 * (1 << 20) + 1000);
    mu_socket_destroy(&a);
}

/* Retries end: copies for a peer that never comes back are dropped and
   counted after the configured number of resends. */
static void
test_at_least_once_retries_end(void)
{
    mu_socket_t *a = new_socket(1), *b = new_socket(2);
    MU_CHECK(a && b);
    MU_CHECK_EQ(mu_socket_set_at_least_once(a, 3, 5, 100), 0);
    MU_CHECK(join_over_ipc(b, a));
    for (uint32_t i = 0; i < 5; i++)
        MU_CHECK_EQ(mu_socket_send(a, &i, 4), 0);
    mu_socket_destroy(&b);
    mu_socket_stats_t st;
    int64_t deadline = mu_test_now_ms() + mu_test_ms(3000);
    do {
        mu_socket_msg_t m;
        pump(a, &m, 10);
        st = stats_of(a);
    } while (st.dropped < 5 && mu_test_now_ms() < deadline);
    MU_CHECK_EQ(st.dropped, 5);
    MU_CHECK(st.resent <= 15);
    mu_socket_destroy(&a);
}

#define REJOIN_QUEUED 6

/* AT_LEAST_ONCE, the receiver restarting: a sends `before` messages of
   `size` bytes that b never reads (they stay unacknowledged), b leaves,
   REJOIN_QUEUED more are queued, and b restarts (a new session) on the same
   endpoint. Counts the distinct messages the new b got and
   what a dropped. */
static void
rejoin_case(size_t window, size_t size, uint32_t before, int *delivered, uint64_t *dropped)
{
    char ep[256];
    uint8_t *payload = calloc(1, size);
    mu_socket_t *a = new_socket(1), *b = new_socket(2);
    MU_CHECK(payload && a && b);
    MU_CHECK_EQ(mu_socket_set_at_least_once(a, 100, 100, window), 0);
    MU_CHECK_EQ(mu_socket_set_queue(a, 100, MU_SOCKET_BLOCK, mu_test_ms(2000)), 0);
    MU_CHECK_EQ(mu_socket_bind(b, ipc_endpoint(ep, sizeof ep)), 0); /* b rebinds it later */
    MU_CHECK_EQ(mu_socket_connect(a, ep), 0);
    MU_CHECK(settle_pair(a, b));
    for (uint32_t i = 0; i < before; i++) {
        memcpy(payload, &i, 4);
        MU_CHECK_EQ(mu_socket_send(a, payload, size), 0);
    }
    mu_socket_destroy(&b); /* BYE: b leaves */
    mu_socket_t *one[1] = { a };
    int64_t deadline = mu_test_now_ms() + mu_test_ms(3000);
    while (mu_socket_peers(a) > 0 && mu_test_now_ms() < deadline) {
        mu_socket_msg_t m;
        pump(a, &m, 0);
        wait_input(one, 1, 10);
    }
    MU_CHECK_EQ(mu_socket_peers(a), 0);
    for (uint32_t i = before; i < before + REJOIN_QUEUED; i++) {
        memcpy(payload, &i, 4);
        MU_CHECK_EQ(mu_socket_send(a, payload, size), 0); /* queued */
    }
    b = new_socket(2);
    MU_CHECK(b);
    MU_CHECK_EQ(mu_socket_bind(b, ep), 0);
    uint32_t total = before + REJOIN_QUEUED;
    uint8_t got[64] = { 0 };
    assert(total <= sizeof got);
    deadline = mu_test_now_ms() + mu_test_ms(5000);
    while (*delivered < (int) total && mu_test_now_ms() < deadline) {
        mu_socket_msg_t m;
        pump(a, &m, 0);
        if (mu_socket_recv(b, &m, 10) != 0 || m.event != MU_SOCKET_MESSAGE)
            continue;
        uint32_t v = 0;
        MU_CHECK_EQ(m.size, size);
        memcpy(&v, m.data, 4);
        MU_CHECK(v < total);
        *delivered += !got[v]++;
    }
    mu_socket_stats_t st;
    st = stats_of(a);
    *dropped = st.dropped;
    printf("# delivered %d/%u after the restart, dropped %llu\n", *delivered, total,
           (unsigned long long) st.dropped);
    mu_socket_destroy(&a);
    mu_socket_destroy(&b);
    free(payload);
}

/* The window full (4 copies unacknowledged) when the receiver restarts:
   the queued messages wait for room and are delivered, none dropped. (The
   tick that handles the rejoin flushes the queue without waiting; it used
   to drop every queued message it found no room for.) */
static void
test_at_least_once_queue_rejoin(void)
{
    int delivered = 0;
    uint64_t dropped = 0;
    rejoin_case(4, 4, 4, &delivered, &dropped);
    MU_CHECK_EQ(dropped, 0);
    MU_CHECK_EQ(delivered, 4 + REJOIN_QUEUED);
}

/* Sends a HELLO (asking for an answer) as identity n, session, from a raw
   DEALER: the wire format of include/mu_socket.h. */
static int
raw_hello(zsock_t *raw, int n, uint64_t session)
{
    uint8_t body[1 + 1 + MU_SOCKET_ID_BYTES + 8 + 1];
    body[0] = 'H';
    body[1] = 1; /* version */
    make_id(body + 2, n);
    for (int i = 0; i < 8; i++)
        body[2 + MU_SOCKET_ID_BYTES + i] = (uint8_t) (session >> (8 * i));
    body[sizeof body - 1] = 1; /* answer me */
    return zmq_send(zsock_resolve(raw), body, sizeof body, 0) == (int) sizeof body ? 0 : -1;
}

/* Drives a until it has want peers or ms (scaled) pass. */
static bool
wait_peers(mu_socket_t *a, size_t want, int ms)
{
    mu_socket_t *one[1] = { a };
    int64_t deadline = mu_test_now_ms() + mu_test_ms(ms);
    while (mu_socket_peers(a) != want && mu_test_now_ms() < deadline) {
        mu_socket_msg_t m;
        pump(a, &m, 0);
        wait_input(one, 1, 10);
    }
    return mu_socket_peers(a) == want;
}

#define FULL_PIPE_QUEUED 5

/* AT_LEAST_ONCE, a receiver that rejoins while a's pipe to it is full (a
   raw peer that reads nothing): the queued messages flushed by the rejoin
   tick stay registered and are resent later, none dropped. (That flush
   does not wait; it used to drop a message whose copy met the full pipe:
   the loss behind a rare "ids 99999/100000, dropped 1".) */
static void
test_at_least_once_queue_full_pipe(void)
{
    char ep[256];
    mu_socket_t *a = new_socket(1);
    zsock_t *raw = zsock_new(ZMQ_DEALER);
    size_t big = 64 * 1024;
    uint8_t *blob = calloc(1, big);
    MU_CHECK(a && raw && blob);
    MU_CHECK_EQ(mu_socket_set_heartbeat(a, 1000, 600000), 0); /* no expiry */
    MU_CHECK_EQ(mu_socket_set_at_least_once(a, 100, 100, 1000), 0);
    MU_CHECK_EQ(mu_socket_set_queue(a, 100, MU_SOCKET_BLOCK, 0), 0);
    zsock_set_sndhwm(mu_socket_zsock(a), 2);
    MU_CHECK_EQ(mu_socket_bind(a, ipc_endpoint(ep, sizeof ep)), 0);
    uint8_t id[MU_SOCKET_ID_BYTES];
    make_id(id, 2);
    zmq_setsockopt(zsock_resolve(raw), ZMQ_ROUTING_ID, id, MU_SOCKET_ID_BYTES);
    zsock_set_rcvhwm(raw, 1);
    zsock_set_rcvbuf(raw, 4096);
    MU_CHECK_EQ(zsock_connect(raw, "%s", ep), 0);
    MU_CHECK_EQ(raw_hello(raw, 2, 1), 0);
    MU_CHECK(wait_peers(a, 1, 5000));
    int sent = 0, rc = 0; /* fill the pipe: nobody reads */
    while (sent < 500 && (rc = mu_socket_send(a, blob, big)) == 0)
        sent++;
    MU_CHECK_EQ(rc, MU_ETIMEDOUT);
    MU_CHECK(sent > 0);
    MU_CHECK_EQ(zmq_send(zsock_resolve(raw), "B", 1, 0), 1); /* BYE */
    MU_CHECK(wait_peers(a, 0, 5000));
    for (uint32_t i = 0; i < FULL_PIPE_QUEUED; i++)
        MU_CHECK_EQ(mu_socket_send(a, &i, 4), 0); /* queued */
    mu_socket_stats_t before, st;
    before = stats_of(a);                 /* the send that timed out */
    MU_CHECK_EQ(raw_hello(raw, 2, 2), 0); /* back: a new session */
    MU_CHECK(wait_peers(a, 1, 5000));
    mu_socket_msg_t m;
    pump(a, &m, 0); /* one more tick */
    st = stats_of(a);
    printf("# %d big copies fill the pipe; the rejoin dropped %llu\n", sent,
           (unsigned long long) (st.dropped - before.dropped));
    MU_CHECK_EQ(st.dropped - before.dropped, 0);
    MU_CHECK_EQ(st.sent, before.sent + FULL_PIPE_QUEUED); /* registered */
    zsock_destroy(&raw);
    mu_socket_destroy(&a);
    free(blob);
}

/* Garbage from raw ZeroMQ and raw TCP peers is dropped and counted; the
   socket keeps serving its real peer. */
static void
test_malformed_peers(void)
{
    mu_socket_t *a = new_socket(1), *b = new_socket(2);
    MU_CHECK(a && b);
    int port = mu_socket_bind(a, "tcp://127.0.0.1:*");
    MU_CHECK(port > 0);
    MU_CHECK_EQ(mu_socket_connect(b, mu_socket_endpoint(a)), 0);
    MU_CHECK(settle_pair(a, b));

    /* raw TCP: junk bytes instead of a ZMTP greeting */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    MU_CHECK(fd >= 0);
    struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons((uint16_t) port) };
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    MU_CHECK(connect(fd, (struct sockaddr *) &sin, sizeof sin) == 0);
    char junk[600];
    memset(junk, 0x5a, sizeof junk);
    MU_CHECK(write(fd, junk, sizeof junk) == (ssize_t) sizeof junk);
    mu_socket_stats_t st;
    int64_t deadline = mu_test_now_ms() + mu_test_ms(3000);
    do {
        mu_socket_msg_t m;
        int rc = mu_socket_recv(a, &m, 10);
        MU_CHECK(rc != 0 || m.event != MU_SOCKET_MESSAGE);
        st = stats_of(a);
    } while (st.malformed < 1 && mu_test_now_ms() < deadline);
    /* libzmq takes junk for a ZMTP/1.0 peer; what it decodes reaches us
       with a routing id that is not 16 bytes: dropped and counted */
    printf("# raw TCP junk counted: %llu\n", (unsigned long long) st.malformed);
    MU_CHECK(st.malformed >= 1);
    uint64_t after_junk = st.malformed;

    /* raw DEALER with a 16-byte identity: junk types, short frames, bad
       HELLOs, multi-part messages, data before any HELLO */
    zsock_t *raw = zsock_new(ZMQ_DEALER);
    MU_CHECK(raw);
    uint8_t rid[MU_SOCKET_ID_BYTES];
    make_id(rid, 77);
    zsock_set_identity(raw, (const char *) rid);
    zmq_setsockopt(zsock_resolve(raw), ZMQ_ROUTING_ID, rid, sizeof rid);
    MU_CHECK_EQ(zsock_connect(raw, "%s", mu_socket_endpoint(a)), 0);
    zsock_send(raw, "s", "Zjunk");
    zsock_send(raw, "s", "Dno hello");
    zsock_send(raw, "s", "H");
    uint8_t hello[27] = { 'H', 9 }; /* wrong version */
    zmq_send(zsock_resolve(raw), hello, sizeof hello, 0);
    hello[1] = 1; /* right version, wrong identity */
    memset(hello + 2, 'x', 16);
    zmq_send(zsock_resolve(raw), hello, sizeof hello, 0);
    zsock_send(raw, "ss", "two", "parts");
    /* raw DEALER without identity (5-byte routing id) */
    zsock_t *anon = zsock_new(ZMQ_DEALER);
    MU_CHECK(anon);
    MU_CHECK_EQ(zsock_connect(anon, "%s", mu_socket_endpoint(a)), 0);
    zsock_send(anon, "s", "D");
    deadline = mu_test_now_ms() + mu_test_ms(3000);
    do {
        mu_socket_msg_t m;
        int rc = mu_socket_recv(a, &m, 10);
        MU_CHECK(rc != 0 || m.event != MU_SOCKET_MESSAGE); /* nothing got through */
        st = stats_of(a);
    } while (st.malformed < after_junk + 7 && mu_test_now_ms() < deadline);
    printf("# malformed counted: %llu\n", (unsigned long long) st.malformed);
    MU_CHECK(st.malformed >= after_junk + 7);
    MU_CHECK_EQ(st.received, 0);
    MU_CHECK_EQ(mu_socket_has_peer(a, rid), 0);
    /* still working with the real peer */
    MU_CHECK_EQ(mu_socket_send(b, "fine", 4), 0);
    mu_socket_msg_t m;
    MU_CHECK_EQ(recv_msg(a, &m, 2000), 0);
    MU_CHECK(m.size == 4 && memcmp(m.data, "fine", 4) == 0);
    MU_CHECK_EQ(mu_socket_peers(a), 1);
    close(fd);
    zsock_destroy(&raw);
    zsock_destroy(&anon);
    mu_socket_destroy(&a);
    mu_socket_destroy(&b);
}

/* CURVE from a shared secret: same secret joins; a wrong one never does. */
static void
test_curve(void)
{
    static const char secret[] = "correct horse battery staple";
    static const char wrong[] = "incorrect horse battery";
    mu_socket_t *a = new_socket(1), *b = new_socket(2), *c = new_socket(3);
    MU_CHECK(a && b && c);
    MU_CHECK_EQ(mu_socket_set_curve_secret(a, secret, strlen(secret)), 0);
    MU_CHECK_EQ(mu_socket_set_curve_secret(b, secret, strlen(secret)), 0);
    MU_CHECK_EQ(mu_socket_set_curve_secret(c, wrong, strlen(wrong)), 0);
    /* d: the right server key but a client key a does not allow. Keys are
       derived (slowly) now, before any peer must be driven in time. */
    mu_socket_t *d = new_socket(4);
    mu_keys_t *srv = mu_keys_from_secret(secret, strlen(secret), MU_KEYS_SERVER);
    mu_keys_t *stranger = mu_keys_new();
    MU_CHECK(d && srv && stranger);
    MU_CHECK_EQ(mu_socket_set_curve(d, NULL, NULL, stranger, mu_keys_public(srv)), 0);
    MU_CHECK(mu_socket_bind(a, "tcp://127.0.0.1:*") > 0);
    /* the allow-list of a CURVE bind cannot change any more */
    MU_CHECK_EQ(mu_socket_set_curve_secret(a, wrong, strlen(wrong)), MU_EINVAL);
    MU_CHECK_EQ(mu_socket_connect(b, mu_socket_endpoint(a)), 0);
    MU_CHECK(settle_pair(a, b));
    MU_CHECK_EQ(mu_socket_send(b, "secret", 6), 0);
    mu_socket_msg_t m;
    MU_CHECK_EQ(recv_msg(a, &m, 2000), 0);
    MU_CHECK(m.size == 6 && memcmp(m.data, "secret", 6) == 0);
    MU_CHECK_EQ(mu_socket_connect(c, mu_socket_endpoint(a)), 0);
    mu_socket_t *s[3] = { a, b, c };
    size_t want[3] = { 2, 1, 1 };
    MU_CHECK(!settle(s, want, 3, 1000));
    MU_CHECK_EQ(mu_socket_peers(c), 0);
    MU_CHECK_EQ(mu_socket_peers(a), 1);
    mu_socket_destroy(&c);
    /* d is refused by ZAP, and the refusal counted */
    MU_CHECK_EQ(mu_socket_connect(d, mu_socket_endpoint(a)), 0);
    /* drive a, b and d until a counts the refusal, then drop d at once (it
       retries every 100 ms; libzmq 4.3.4 can assert when a refused peer
       goes away while its ZAP request is in flight, so keep that short) */
    mu_socket_stats_t st;
    int64_t deadline = mu_test_now_ms() + mu_test_ms(3000);
    do {
        mu_socket_msg_t m2;
        pump(a, &m2, 5);
        pump(b, &m2, 0);
        pump(d, &m2, 0);
        st = stats_of(a);
    } while (st.auth_failures < 1 && mu_test_now_ms() < deadline);
    MU_CHECK_EQ(mu_socket_peers(d), 0);
    mu_socket_destroy(&d);
    MU_CHECK(st.auth_failures >= 1);
    MU_CHECK(settle_pair(a, b)); /* b is still (or again) a's only peer */
    MU_CHECK_EQ(mu_socket_peers(a), 1);
    mu_keys_destroy(&srv);
    mu_keys_destroy(&stranger);
    mu_socket_destroy(&a);
    mu_socket_destroy(&b);
    mu_socket_destroy(&c);
    mu_socket_destroy(&d);
}

/*  libzmq 4.3.4's known abort (libzmq's stream engine; see run_isolated). */
static const char libzmq_assertion[] = "Assertion failed: !_io_error";

/*  Runs this program with --case name, its stderr captured through a pipe
    (the last 64 KiB are kept in err, NUL-terminated, and copied to our
    stderr); returns the wait status, or -1 if it could not run. */
static int
run_case_child(const char *name, char *err, size_t cap)
{
    assert(cap > 4096);
    int fds[2];
    if (pipe(fds) != 0)
        return -1;
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        dup2(fds[1], 2);
        close(fds[0]);
        close(fds[1]);
        execl(self_exe, self_exe, "--case", name, (char *) NULL);
        _exit(127);
    }
    close(fds[1]);
    size_t len = 0;
    char buf[4096];
    ssize_t n;
    while ((n = read(fds[0], buf, sizeof buf)) != 0) {
        if (n < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        fwrite(buf, 1, (size_t) n, stderr);
        if ((size_t) n > cap - 1 - len) { /* keep the tail */
            size_t drop = (size_t) n - (cap - 1 - len);
            memmove(err, err + drop, len - drop);
            len -= drop;
        }
        memcpy(err + len, buf, (size_t) n);
        len += (size_t) n;
    }
    err[len] = 0;
    close(fds[0]);
    int status = 0;
    return waitpid(pid, &status, 0) == pid ? status : -1;
}

/*  Runs case name in a process of its own (this program exec'd with
    --case name). libzmq 4.3.4 can abort with "Assertion failed: !_io_error
    (src/stream_engine_base.cpp:331)": while CURVE clients it refuses keep
    reconnecting (about once in ten runs of test_curve), and, rarely, when
    peers leave (seen once in test_events in an optimised build). That is a
    libzmq bug no caller can prevent, so when the child dies of SIGABRT and
    its stderr holds that assertion, the case is reported as a TAP comment
    and run again, up to three times. Any other abort, and any failed check
    of ours, fails at once. */
static void
run_isolated(const char *name)
{
    static char err[65536];
    for (int attempt = 1; attempt <= 3; attempt++) {
        int status = run_case_child(name, err, sizeof err);
        MU_CHECK(status != -1);
        bool aborted = WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT;
        if (aborted && strstr(err, libzmq_assertion)) {
            printf("# attempt %d: %s aborted inside libzmq (\"%s\", the known 4.3.4 "
                   "assertion); running it again\n",
                   attempt, name, libzmq_assertion);
            continue;
        }
        MU_CHECK(!aborted);
        MU_CHECK(WIFEXITED(status));
        MU_CHECK_EQ(WEXITSTATUS(status), 0);
        return;
    }
    MU_CHECK(!"the case aborted three times");
}

/*  In the parent (child_case NULL): runs case fn in a child process unless
    a case name was given as argv[1] and it is another. In a child
    (--case name): runs fn itself when it is the case named. */
#define RUN(fn)                                     \
    do {                                            \
        if (child_case) {                           \
            if (strcmp(child_case, #fn) == 0)       \
                fn();                               \
        } else if (!only || strcmp(only, #fn) == 0) \
            MU_RUN_AS(run_isolated(#fn), #fn);      \
    } while (0)

int
main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--peer") == 0)
        return peer_main(argc, argv);
    const char *child_case = argc > 2 && strcmp(argv[1], "--case") == 0 ? argv[2] : NULL;
    mu_test_start(child_case ? 120 : 240);
    const char *only = argc > 1 && !child_case ? argv[1] : NULL; /* one case, by name */
    self_exe = "/proc/self/exe";
    static char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = 0;
        self_exe = exe;
    }
    signal(SIGPIPE, SIG_IGN);
    if (!mu_test_scratch_dir(tmpdir, sizeof tmpdir, "mu_test_socket")) {
        perror("mkdtemp");
        return 1;
    }
    zsys_handler_set(NULL);
    RUN(test_identity);
    RUN(test_errors);
    RUN(test_pair_both_directions);
    RUN(test_unknown_identity);
    RUN(test_publish_10);
    RUN(test_publish_10_flipped);
    RUN(test_roundrobin_10);
    RUN(test_roundrobin_10_flipped);
    RUN(test_roundrobin_churn);
    RUN(test_queue_without_peer);
    RUN(test_events);
    RUN(test_poll);
    RUN(test_dead_peer_detection);
    RUN(test_kill_restart_queue);
    RUN(test_kill_restart_binder);
    RUN(test_at_least_once_dedup);
    RUN(test_at_least_once_retries_end);
    RUN(test_at_least_once_receive_limit);
    RUN(test_at_least_once_kill);
    RUN(test_at_least_once_queue_rejoin);
    RUN(test_at_least_once_queue_full_pipe);
    RUN(test_malformed_peers);
    RUN(test_curve);
    zsys_shutdown();
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    if (system(cmd) != 0)
        printf("# could not remove %s\n", tmpdir);
    if (child_case)
        return mu_test_case_failed ? 1 : 0;
    MU_DONE();
}
