/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  test_pubsub_hostile.c — mu_sub, mu_pub and mu_proxy against hostile
    peers: a raw libzmq publisher sending frames mu_pub never would
    (1, 4, 5 frames, trailers of the wrong length, sequence numbers that
    repeat, jump by 2^64 - 2, restart; a new session every message; a
    flood of messages mu_sub drops; an unsubscribe forgetting its topics
    only), a raw subscriber sending a subscription far over any topic,
    messages that are not subscriptions and a subscribe/unsubscribe storm,
    a subscriber holding a prefix longer than a topic twice through a
    proxy.

    The hostile publisher is an XPUB on inproc:// that the test's mu_sub
    connects to through its own socket (mu_sub_connect takes tcp and ipc
    only): every message is in the subscriber's queue once zmq_send has
    returned, so nothing waits on time. Other waits are on events: a
    subscription reaching a publisher, a connection's end in a socket
    monitor, a message reaching a subscriber. */
#include "mu_test.h"
#include "mutil.h"
#include <czmq.h>
#include <assert.h>

#define WAIT_MS 5000

static char tmpdir[64];
static int endpoint_seq;

static const char *
ipc_endpoint(char *buf, size_t cap)
{
    snprintf(buf, cap, "ipc://%s/ep%d", tmpdir, endpoint_seq++);
    return buf;
}

static mu_sub_stats_t
sub_stats(const mu_sub_t *s)
{
    mu_sub_stats_t st = { .size = sizeof st };
    int rc = mu_sub_stats(s, &st);
    assert(rc == 0);
    (void) rc;
    return st;
}

/* ---- a hostile publisher on inproc -------------------------------------- */

typedef struct {
    zsock_t *xpub;
    void *h;
    mu_sub_t *sub;
} bed_t;

/* A raw XPUB and a mu_sub subscribed to everything, both without a
   high-water mark; returns once the subscription reached the XPUB. */
static bool
bed_open(bed_t *b)
{
    char ep[64];
    snprintf(ep, sizeof ep, "inproc://hostile-%d-%d", (int) getpid(), endpoint_seq++);
    b->xpub = zsock_new(ZMQ_XPUB);
    b->sub = mu_sub_new();
    if (!b->xpub || !b->sub)
        return false;
    b->h = zsock_resolve(b->xpub);
    zsock_set_sndhwm(b->xpub, 0);
    zsock_set_rcvtimeo(b->xpub, mu_test_ms(WAIT_MS));
    if (zmq_bind(b->h, ep) != 0 || mu_sub_set_hwm(b->sub, 0) != 0
        || zmq_connect(zsock_resolve(mu_sub_zsock(b->sub)), ep) != 0
        || mu_sub_subscribe(b->sub, "", 0) != 0)
        return false;
    uint8_t got[8];
    return zmq_recv(b->h, got, sizeof got, 0) == 1 && got[0] == 1;
}

static void
bed_close(bed_t *b)
{
    mu_sub_destroy(&b->sub);
    zsock_destroy(&b->xpub);
}

/* Sends n frames (data[i], size[i]) as one message. */
static bool
send_frames(void *h, int n, const void *const *data, const size_t *size)
{
    for (int i = 0; i < n; i++)
        if (zmq_send(h, data[i], size[i], i + 1 < n ? ZMQ_SNDMORE : 0) < 0)
            return false;
    return true;
}

/* Sends [topic][payload][trailer(session, seq, flags)]. */
static bool
send_seq(void *h, const char *topic, uint64_t session, uint64_t seq, uint8_t flags)
{
    uint8_t t[17];
    for (int i = 0; i < 8; i++) {
        t[i] = (uint8_t) (session >> (8 * i));
        t[8 + i] = (uint8_t) (seq >> (8 * i));
    }
    t[16] = flags;
    const void *data[3] = { topic, "p", t };
    size_t size[3] = { strlen(topic), 1, sizeof t };
    return send_frames(h, 3, data, size);
}

/* Receives one message and checks its topic (NULL: do not check). */
static int
recv_topic(mu_sub_t *sub, const char *topic, int timeout_ms)
{
    mu_sub_msg_t m;
    int rc = mu_sub_recv(sub, &m, timeout_ms);
    if (rc == 0 && topic
        && (m.topic_size != strlen(topic) || memcmp(m.topic, topic, m.topic_size) != 0))
        return MU_EPROTO;
    return rc;
}

/* Frame layouts mu_pub never sends are dropped and counted as
   malformed; what mu_sub accepts (two frames from a plain publisher,
   whatever the topic's size; three with a 17-byte trailer and a topic
   of at most 255 bytes, the empty one included) is delivered. */
static void
test_frame_layouts(void)
{
    bed_t b = { 0 };
    MU_CHECK(bed_open(&b));
    uint8_t t[17] = { 1 }, long_t[18] = { 1 };
    char topic256[256];
    memset(topic256, 'x', sizeof topic256);
    size_t big = 1024 * 1024;
    char *megatopic = malloc(big);
    MU_CHECK(megatopic);
    memset(megatopic, 'm', big);
    const void *one[1] = { "a" };
    const void *four[4] = { "a", "p", t, "x" };
    const void *five[5] = { "a", "p", t, "x", "y" };
    const void *short_tr[3] = { "a", "p", t };
    const void *long_tr[3] = { "a", "p", long_t };
    const void *long_topic[3] = { topic256, "p", t };
    const void *mega[2] = { megatopic, "p" };
    const void *empty_topic[3] = { "", "p", t };
    size_t s1[1] = { 1 }, s4[4] = { 1, 1, 17, 1 }, s5[5] = { 1, 1, 17, 1, 1 };
    size_t s_short[3] = { 1, 1, 16 }, s_long[3] = { 1, 1, 18 }, s_lt[3] = { 256, 1, 17 };
    size_t s_mega[2] = { big, 1 }, s_empty[3] = { 0, 1, 17 };
    MU_CHECK(send_frames(b.h, 1, one, s1));
    MU_CHECK(send_frames(b.h, 4, four, s4));
    MU_CHECK(send_frames(b.h, 5, five, s5));
    MU_CHECK(send_frames(b.h, 3, short_tr, s_short));
    MU_CHECK(send_frames(b.h, 3, long_tr, s_long));
    MU_CHECK(send_frames(b.h, 3, long_topic, s_lt));
    MU_CHECK(send_frames(b.h, 2, mega, s_mega));
    MU_CHECK(send_frames(b.h, 3, empty_topic, s_empty));
    mu_sub_msg_t m;
    MU_CHECK_EQ(mu_sub_recv(b.sub, &m, mu_test_ms(WAIT_MS)), 0);
    MU_CHECK(m.topic_size == big && m.size == 1);
    MU_CHECK_EQ(mu_sub_recv(b.sub, &m, mu_test_ms(WAIT_MS)), 0);
    MU_CHECK(m.topic_size == 0 && m.size == 1 && m.replay == 0);
    MU_CHECK_EQ(mu_sub_recv(b.sub, &m, 0), MU_EAGAIN);
    mu_sub_stats_t st = sub_stats(b.sub);
    MU_CHECK_EQ(st.malformed, 6);
    MU_CHECK_EQ(st.received, 2);
    free(megatopic);
    bed_close(&b);
}

/* Sequence numbers as a hostile publisher may send them: a repeat and a
   step back are duplicates (dropped), a jump counts its gap, and the
   missed counter saturates at UINT64_MAX rather than wrapping (two jumps
   of almost 2^64 each wrapped it to 2^64 - 16 before). */
static void
test_sequence_jumps(void)
{
    bed_t b = { 0 };
    MU_CHECK(bed_open(&b));
    uint64_t s = 0x5e55;
    MU_CHECK(send_seq(b.h, "t", s, 10, 0));         /* first: delivered */
    MU_CHECK(send_seq(b.h, "t", s, 10, 0));         /* repeat: duplicate */
    MU_CHECK(send_seq(b.h, "t", s, 3, 0));          /* back: duplicate */
    MU_CHECK(send_seq(b.h, "t", s, 13, 0));         /* 2 missed */
    MU_CHECK(send_seq(b.h, "t", s, 12, 2));         /* an old replay: duplicate */
    MU_CHECK(send_seq(b.h, "t", s, UINT64_MAX, 0)); /* 2^64 - 15 missed */
    MU_CHECK(send_seq(b.h, "t", s, 0, 0));          /* wrapped: duplicate */
    MU_CHECK(send_seq(b.h, "t", s, 1, 1));          /* FIRST: starts over */
    MU_CHECK(send_seq(b.h, "t", s, UINT64_MAX, 0)); /* saturates */
    MU_CHECK(send_seq(b.h, "end", s, 1, 0));
    for (int i = 0; i < 4; i++)
        MU_CHECK_EQ(recv_topic(b.sub, "t", mu_test_ms(WAIT_MS)), 0);
    MU_CHECK_EQ(recv_topic(b.sub, "t", mu_test_ms(WAIT_MS)), 0);
    MU_CHECK_EQ(recv_topic(b.sub, "end", mu_test_ms(WAIT_MS)), 0);
    mu_sub_stats_t st = sub_stats(b.sub);
    MU_CHECK_EQ(st.received, 6);
    MU_CHECK_EQ(st.duplicates, 4);
    MU_CHECK(st.missed == UINT64_MAX);
    bed_close(&b);
}

/* A new session every message: each is a first message (no gap, no
   duplicate), over more sessions than the table holds (65,536: it starts
   over, so memory stays bounded). */
static void
test_session_per_message(void)
{
    bed_t b = { 0 };
    MU_CHECK(bed_open(&b));
    enum { N = 70000 };
    for (uint64_t i = 0; i < N; i++)
        MU_CHECK(send_seq(b.h, "t", i * 0x9e3779b97f4a7c15ull, i, 0));
    for (int i = 0; i < N; i++)
        MU_CHECK_EQ(recv_topic(b.sub, "t", mu_test_ms(WAIT_MS)), 0);
    mu_sub_stats_t st = sub_stats(b.sub);
    MU_CHECK_EQ(st.received, N);
    MU_CHECK_EQ(st.missed, 0);
    MU_CHECK_EQ(st.duplicates, 0);
    bed_close(&b);
}

/* A flood of messages mu_sub drops (malformed, then duplicates) does not
   hold mu_sub_recv past its timeout: with 1 ms it returns MU_ETIMEDOUT
   long before the 100,000 queued malformed messages are all read (it
   read every one of them before, and returned the message after them:
   the drops looped without looking at the clock).
   The message after the flood is still delivered. */
static void
test_flood_honours_timeout(void)
{
    bed_t b = { 0 };
    MU_CHECK(bed_open(&b));
    enum { N = 100000 };
    for (int i = 0; i < N; i++)
        MU_CHECK(zmq_send(b.h, "junk", 4, 0) == 4);
    MU_CHECK(send_seq(b.h, "t", 7, 5, 0));
    for (int i = 0; i < N; i++)
        MU_CHECK(send_seq(b.h, "t", 7, 5, 0));
    MU_CHECK(send_seq(b.h, "t", 7, 6, 0));
    mu_sub_msg_t m;
    MU_CHECK_EQ(mu_sub_recv(b.sub, &m, 1), MU_ETIMEDOUT);
    mu_sub_stats_t st = sub_stats(b.sub);
    printf("# after a 1 ms receive: %llu of %d malformed read\n", (unsigned long long) st.malformed,
           N);
    MU_CHECK(st.malformed < N);
    MU_CHECK_EQ(st.received, 0);
    int rc;
    while ((rc = recv_topic(b.sub, "t", 1)) == MU_ETIMEDOUT)
        continue;
    MU_CHECK_EQ(rc, 0); /* seq 5 */
    while ((rc = recv_topic(b.sub, "t", 1)) == MU_ETIMEDOUT)
        continue;
    MU_CHECK_EQ(rc, 0); /* seq 6, after the duplicates */
    st = sub_stats(b.sub);
    MU_CHECK_EQ(st.malformed, N);
    MU_CHECK_EQ(st.duplicates, N);
    MU_CHECK_EQ(st.received, 2);
    MU_CHECK_EQ(st.missed, 0);
    bed_close(&b);
}

/* An unsubscribe forgets the sequences of the topics its prefix covers
   and only those (mu_sub walks its table in place now, instead of
   copying every key: 114 ms per unsubscribe with 65,000 sequences held,
   under ASan, down to 2.8 ms; not timed here): after dropping "a", a
   jump on a.1 counts nothing, one on b.1 counts its gap. */
static void
test_unsubscribe_forgets_its_topics_only(void)
{
    bed_t b = { 0 };
    MU_CHECK(bed_open(&b));
    MU_CHECK_EQ(mu_sub_subscribe(b.sub, "a", 1), 0);
    uint8_t got[8];
    MU_CHECK_EQ(zmq_recv(b.h, got, sizeof got, 0), 2);
    for (int i = 0; i < 1000; i++) {
        char topic[16];
        snprintf(topic, sizeof topic, "c.%d", i);
        MU_CHECK(send_seq(b.h, topic, 9, 1, 0));
    }
    MU_CHECK(send_seq(b.h, "a.1", 9, 1, 0));
    MU_CHECK(send_seq(b.h, "b.1", 9, 1, 0));
    for (int i = 0; i < 1002; i++)
        MU_CHECK_EQ(recv_topic(b.sub, NULL, mu_test_ms(WAIT_MS)), 0);
    MU_CHECK_EQ(mu_sub_unsubscribe(b.sub, "a", 1), 0);
    MU_CHECK(send_seq(b.h, "a.1", 9, 10, 0));  /* forgotten: a first message */
    MU_CHECK(send_seq(b.h, "b.1", 9, 10, 0));  /* 8 missed */
    MU_CHECK(send_seq(b.h, "c.999", 9, 3, 0)); /* 1 missed */
    MU_CHECK_EQ(recv_topic(b.sub, "a.1", mu_test_ms(WAIT_MS)), 0);
    MU_CHECK_EQ(recv_topic(b.sub, "b.1", mu_test_ms(WAIT_MS)), 0);
    MU_CHECK_EQ(recv_topic(b.sub, "c.999", mu_test_ms(WAIT_MS)), 0);
    mu_sub_stats_t st = sub_stats(b.sub);
    MU_CHECK_EQ(st.missed, 9);
    MU_CHECK_EQ(st.duplicates, 0);
    bed_close(&b);
}

/* ---- a hostile subscriber ------------------------------------------------ */

/* Waits for a ZMQ_EVENT_DISCONNECTED on monitor (a PAIR connected to a
   socket monitor). */
static bool
wait_disconnected(zsock_t *monitor)
{
    zsock_set_rcvtimeo(monitor, mu_test_ms(WAIT_MS));
    while (true) {
        zmsg_t *msg = zmsg_recv(monitor);
        if (!msg)
            return false;
        zframe_t *f = zmsg_first(msg);
        uint16_t event = 0;
        if (f && zframe_size(f) >= 2)
            memcpy(&event, zframe_data(f), 2);
        zmsg_destroy(&msg);
        if (event == ZMQ_EVENT_DISCONNECTED)
            return true;
    }
}

/* A raw SUB with a monitor on its disconnections, connected to ep. */
static zsock_t *
hostile_sub(const char *ep, zsock_t **monitor)
{
    char mon[64];
    snprintf(mon, sizeof mon, "inproc://hostile-mon-%d", endpoint_seq++);
    zsock_t *sub = zsock_new(ZMQ_SUB);
    if (!sub || zmq_socket_monitor(zsock_resolve(sub), mon, ZMQ_EVENT_DISCONNECTED) != 0)
        return sub;
    *monitor = zsock_new(ZMQ_PAIR);
    if (*monitor && zmq_connect(zsock_resolve(*monitor), mon) != 0)
        zsock_destroy(monitor);
    zmq_connect(zsock_resolve(sub), ep);
    return sub;
}

/* A subscriber's subscription of 64 KiB, far over any topic: the
   publisher and the proxy close that connection (they took it before:
   libzmq stores a prefix as a trie node per byte, so with the 64 MiB
   frame limit one subscription message could make a publisher, and both
   sides of a proxy, allocate gigabytes), and go on serving the others. */
static void
test_oversized_subscription(void)
{
    char ep_pub[128], ep_down[128];
    mu_pub_t *pub = mu_pub_new();
    mu_proxy_t *proxy = mu_proxy_new();
    mu_sub_t *good = mu_sub_new();
    MU_CHECK(pub && proxy && good);
    MU_CHECK_EQ(mu_pub_bind(pub, ipc_endpoint(ep_pub, sizeof ep_pub)), 0);
    MU_CHECK_EQ(mu_proxy_connect(proxy, MU_PROXY_UPSTREAM, ep_pub), 0);
    MU_CHECK_EQ(mu_proxy_bind(proxy, MU_PROXY_DOWNSTREAM, ipc_endpoint(ep_down, sizeof ep_down)),
                0);
    MU_CHECK_EQ(mu_proxy_start(proxy), 0);
    size_t big = 64 * 1024;
    char *prefix = malloc(big);
    MU_CHECK(prefix);
    memset(prefix, 'h', big);
    const char *targets[2] = { ep_pub, ep_down };
    for (int i = 0; i < 2; i++) {
        zsock_t *monitor = NULL;
        zsock_t *hostile = hostile_sub(targets[i], &monitor);
        MU_CHECK(hostile && monitor);
        MU_CHECK_EQ(zmq_setsockopt(zsock_resolve(hostile), ZMQ_SUBSCRIBE, prefix, big), 0);
        bool closed = wait_disconnected(monitor);
        if (!closed)
            printf("# %s kept the connection of a 64 KiB subscription\n",
                   i ? "proxy" : "publisher");
        MU_CHECK(closed);
        zsock_destroy(&hostile);
        zsock_destroy(&monitor);
    }
    /* The others are served: a subscriber through the proxy. */
    MU_CHECK_EQ(mu_sub_connect(good, ep_down), 0);
    MU_CHECK_EQ(mu_sub_subscribe(good, "ok", 2), 0);
    int64_t deadline = mu_test_now_ms() + mu_test_ms(WAIT_MS);
    while (!mu_pub_is_subscribed(pub, "ok", 2) && mu_test_now_ms() < deadline)
        if (mu_pub_handle(pub, 100) == MU_EINTR)
            break;
    MU_CHECK(mu_pub_is_subscribed(pub, "ok", 2));
    MU_CHECK_EQ(mu_pub_send(pub, "ok", 2, "v", 1), 0);
    MU_CHECK_EQ(recv_topic(good, "ok", mu_test_ms(WAIT_MS)), 0);
    free(prefix);
    mu_sub_destroy(&good);
    mu_proxy_destroy(&proxy);
    mu_pub_destroy(&pub);
}

/* A prefix longer than a topic (300 bytes) subscribed twice through a
   proxy, then dropped: the unsubscribe reaches the upstream publisher
   (the proxy did not count such prefixes and sent one unsubscribe for
   the two subscribes, so upstream it stayed subscribed for ever: a
   subscriber could grow every upstream publisher's subscriptions by
   cycling through prefixes it no longer held). */
static void
test_proxy_long_prefix_unsubscribed(void)
{
    char ep_up[128], ep_down[128];
    zsock_t *up = zsock_new(ZMQ_XPUB);
    mu_proxy_t *proxy = mu_proxy_new();
    MU_CHECK(up && proxy);
    zsock_set_rcvtimeo(up, mu_test_ms(WAIT_MS));
    MU_CHECK_EQ(zmq_bind(zsock_resolve(up), ipc_endpoint(ep_up, sizeof ep_up)), 0);
    MU_CHECK_EQ(mu_proxy_connect(proxy, MU_PROXY_UPSTREAM, ep_up), 0);
    MU_CHECK_EQ(mu_proxy_bind(proxy, MU_PROXY_DOWNSTREAM, ipc_endpoint(ep_down, sizeof ep_down)),
                0);
    MU_CHECK_EQ(mu_proxy_start(proxy), 0);
    zsock_t *sub = zsock_new(ZMQ_SUB);
    MU_CHECK(sub);
    void *h = zsock_resolve(sub);
    MU_CHECK_EQ(zmq_connect(h, ep_down), 0);
    char prefix[300];
    memset(prefix, 'L', sizeof prefix);
    MU_CHECK_EQ(zmq_setsockopt(h, ZMQ_SUBSCRIBE, prefix, sizeof prefix), 0);
    MU_CHECK_EQ(zmq_setsockopt(h, ZMQ_SUBSCRIBE, prefix, sizeof prefix), 0);
    uint8_t got[512];
    MU_CHECK_EQ(zmq_recv(zsock_resolve(up), got, sizeof got, 0), 1 + (int) sizeof prefix);
    MU_CHECK(got[0] == 1);
    MU_CHECK_EQ(zmq_setsockopt(h, ZMQ_UNSUBSCRIBE, prefix, sizeof prefix), 0);
    MU_CHECK_EQ(zmq_setsockopt(h, ZMQ_UNSUBSCRIBE, prefix, sizeof prefix), 0);
    MU_CHECK_EQ(zmq_setsockopt(h, ZMQ_SUBSCRIBE, "z", 1), 0); /* after it, in order */
    int n = zmq_recv(zsock_resolve(up), got, sizeof got, 0);
    if (n == 2)
        printf("# the subscribe of \"z\" came first: the long prefix stayed subscribed\n");
    MU_CHECK_EQ(n, 1 + (int) sizeof prefix);
    MU_CHECK(got[0] == 0 && memcmp(got + 1, prefix, sizeof prefix) == 0);
    MU_CHECK_EQ(zmq_recv(zsock_resolve(up), got, sizeof got, 0), 2);
    MU_CHECK(got[0] == 1 && got[1] == 'z');
    zsock_destroy(&sub);
    mu_proxy_destroy(&proxy);
    zsock_destroy(&up);
}

/* Waits until pub holds prefix (the messages its sender sent before are
   read then: one pipe keeps order). */
static bool
wait_held(mu_pub_t *pub, const char *prefix)
{
    int64_t deadline = mu_test_now_ms() + mu_test_ms(WAIT_MS);
    while (!mu_pub_is_subscribed(pub, prefix, strlen(prefix))) {
        if (mu_test_now_ms() >= deadline)
            return false;
        int rc = mu_pub_handle(pub, 100);
        if (rc < 0 && rc != MU_ETIMEDOUT)
            return false;
    }
    return true;
}

/* A raw XSUB sending what is not a subscription (empty, first byte 2 or
   0xff) and a storm of 10,000 subscribe/unsubscribe pairs of distinct
   prefixes: mu_pub ignores the first, counts the storm, holds nothing of
   it afterwards (its map is empty again), and serves a good subscriber. */
static void
test_junk_and_storm_from_a_subscriber(void)
{
    char ep[128];
    mu_pub_t *pub = mu_pub_new();
    mu_sub_t *good = mu_sub_new();
    zsock_t *raw = zsock_new(ZMQ_XSUB);
    MU_CHECK(pub && good && raw);
    MU_CHECK_EQ(mu_pub_bind(pub, ipc_endpoint(ep, sizeof ep)), 0);
    zsock_set_sndhwm(raw, 0);
    MU_CHECK_EQ(zmq_connect(zsock_resolve(raw), ep), 0);
    void *h = zsock_resolve(raw);
    MU_CHECK(zmq_send(h, "", 0, 0) == 0);
    MU_CHECK(zmq_send(h,
                      "\x02"
                      "abc",
                      4, 0)
             == 4);
    MU_CHECK(zmq_send(h, "\xff", 1, 0) == 1);
    enum { N = 10000 };
    for (int i = 0; i < N; i++) {
        char m[32];
        int n = snprintf(m, sizeof m, "\x01storm.%d", i);
        MU_CHECK(zmq_send(h, m, (size_t) n, 0) == n);
        m[0] = 0;
        MU_CHECK(zmq_send(h, m, (size_t) n, 0) == n);
    }
    MU_CHECK(zmq_send(h, "\x01sync", 5, 0) == 5);
    MU_CHECK(wait_held(pub, "sync"));
    mu_pub_stats_t st = { .size = sizeof st };
    MU_CHECK_EQ(mu_pub_stats(pub, &st), 0);
    MU_CHECK_EQ(st.subscribes, N + 1);
    MU_CHECK_EQ(st.unsubscribes, N);
    MU_CHECK_EQ(mu_pub_subscriptions(pub), 1);
    MU_CHECK_EQ(mu_sub_connect(good, ep), 0);
    MU_CHECK_EQ(mu_sub_subscribe(good, "ok", 2), 0);
    MU_CHECK(wait_held(pub, "ok"));
    MU_CHECK_EQ(mu_pub_send(pub, "ok", 2, "v", 1), 0);
    MU_CHECK_EQ(recv_topic(good, "ok", mu_test_ms(WAIT_MS)), 0);
    zsock_destroy(&raw);
    mu_sub_destroy(&good);
    mu_pub_destroy(&pub);
}

/* With an argument, only the cases whose name contains it. */
#define RUN(fn)                                 \
    do {                                        \
        if (!only || strstr(#fn, only) != NULL) \
            MU_RUN(fn);                         \
    } while (0)

int
main(int argc, char **argv)
{
    const char *only = argc > 1 ? argv[1] : NULL;
    mu_test_start(120);
    if (!mu_test_scratch_dir(tmpdir, sizeof tmpdir, "mu-pubsub-hostile"))
        return 1;
    RUN(test_frame_layouts);
    RUN(test_sequence_jumps);
    RUN(test_session_per_message);
    RUN(test_flood_honours_timeout);
    RUN(test_unsubscribe_forgets_its_topics_only);
    RUN(test_oversized_subscription);
    RUN(test_junk_and_storm_from_a_subscriber);
    RUN(test_proxy_long_prefix_unsubscribed);
    mu_test_remove_scratch_dir(tmpdir);
    MU_DONE();
}
