/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  test_socket.c — mu_socket: identities, argument errors, a pair both
    ways, unknown identities, publishing and round robin to 10 peers (either
    side binding), churn, queueing without a peer, events, polling,
    malformed peers, CURVE. Dead and restarted peers are in
    test_socket_peers.c, AT_LEAST_ONCE in test_socket_alo.c. Every case runs
    in a process of its own (see socket_cases.h). */
#include "socket_cases.h"

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

int
main(int argc, char **argv)
{
    int rc = socket_suite_begin(argc, argv);
    if (rc >= 0)
        return rc;
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
    RUN(test_malformed_peers);
    RUN(test_curve);
    return socket_suite_end();
}
