/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  test_pubsub.c — mu_pub, mu_sub, mu_proxy: prefix matching,
    unsubscribe, counted subscriptions, either side binding, the
    subscription union through three levels of proxies, the last-value
    cache (also through proxies), a slow subscriber's drops counted while
    the others get everything, CURVE by keys and by shared secret (wrong
    keys refused and counted), a publisher restart, plain two-frame
    messages (trailer off), errors.

    Every wait is on an event: a subscription reaching the publisher
    (mu_pub_handle), a message reaching a subscriber. */
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

static mu_pub_stats_t
pub_stats(const mu_pub_t *p)
{
    mu_pub_stats_t st = { .size = sizeof st };
    int rc = mu_pub_stats(p, &st);
    assert(rc == 0);
    (void) rc;
    return st;
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

/* Reads subscriptions until prefix's state is want (1 subscribed, 0 not).
   Returns whether it got there within WAIT_MS (scaled). When drive is
   not NULL (a bound subscriber), it is driven too: libzmq attaches a
   bound socket's connections only within calls on that socket. */
static bool
wait_driving(mu_pub_t *pub, mu_sub_t *drive, const char *prefix, int want)
{
    int64_t deadline = mu_test_now_ms() + mu_test_ms(WAIT_MS);
    while (mu_pub_is_subscribed(pub, prefix, strlen(prefix)) != want) {
        int64_t left = deadline - mu_test_now_ms();
        if (left <= 0)
            return false;
        mu_sub_msg_t m;
        if (drive && mu_sub_recv(drive, &m, 0) != MU_EAGAIN)
            return false;
        int rc = mu_pub_handle(pub, drive ? 10 : (int) left);
        if (rc < 0 && rc != MU_ETIMEDOUT)
            return false;
    }
    return true;
}

static bool
wait_subscribed(mu_pub_t *pub, const char *prefix, int want)
{
    return wait_driving(pub, NULL, prefix, want);
}

/* Reads subscriptions until the publisher has seen `want` subscribe
   messages in all. */
static bool
wait_subscribes(mu_pub_t *pub, uint64_t want)
{
    int64_t deadline = mu_test_now_ms() + mu_test_ms(WAIT_MS);
    while (pub_stats(pub).subscribes < want) {
        int64_t left = deadline - mu_test_now_ms();
        if (left <= 0 || mu_pub_handle(pub, (int) left) < 0)
            return false;
    }
    return true;
}

/* Receives one message as "topic=data" into buf (or "" on failure);
   returns mu_sub_recv's code. */
static int
recv_text(mu_sub_t *sub, char *buf, size_t cap, int *replay)
{
    mu_sub_msg_t m;
    buf[0] = 0;
    int rc = mu_sub_recv(sub, &m, mu_test_ms(WAIT_MS));
    if (rc == 0) {
        snprintf(buf, cap, "%.*s=%.*s", (int) m.topic_size, (const char *) m.topic, (int) m.size,
                 (const char *) m.data);
        if (replay)
            *replay = m.replay;
    }
    return rc;
}

static int
pub_text(mu_pub_t *pub, const char *topic, const char *data)
{
    return mu_pub_send(pub, topic, strlen(topic), data, strlen(data));
}

#define SUBSCRIBE(sub, prefix) MU_CHECK_EQ(mu_sub_subscribe(sub, prefix, strlen(prefix)), 0)
#define UNSUBSCRIBE(sub, prefix) MU_CHECK_EQ(mu_sub_unsubscribe(sub, prefix, strlen(prefix)), 0)
#define EXPECT(sub, text)                                        \
    do {                                                         \
        char got_[512];                                          \
        MU_CHECK_EQ(recv_text(sub, got_, sizeof got_, NULL), 0); \
        if (strcmp(got_, text) != 0)                             \
            printf("# got '%s', expected '%s'\n", got_, text);   \
        MU_CHECK(strcmp(got_, text) == 0);                       \
    } while (0)

static void
test_prefix_matching(void)
{
    char ep[128];
    mu_pub_t *pub = mu_pub_new();
    mu_sub_t *sub = mu_sub_new();
    MU_CHECK(pub && sub);
    MU_CHECK_EQ(mu_pub_bind(pub, ipc_endpoint(ep, sizeof ep)), 0);
    MU_CHECK_EQ(mu_sub_connect(sub, ep), 0);
    SUBSCRIBE(sub, "a.");
    MU_CHECK(wait_subscribed(pub, "a.", 1));
    MU_CHECK_EQ(mu_pub_subscriptions(pub), 1);
    MU_CHECK_EQ(pub_text(pub, "a.x", "1"), 0);
    MU_CHECK_EQ(pub_text(pub, "b.x", "2"), 0);
    MU_CHECK_EQ(pub_text(pub, "a", "3"), 0);
    MU_CHECK_EQ(pub_text(pub, "a.y.z", "4"), 0);
    MU_CHECK_EQ(mu_pub_send(pub, "a.\0bin", 6, "5", 1), 0);
    EXPECT(sub, "a.x=1");
    EXPECT(sub, "a.y.z=4");
    mu_sub_msg_t m;
    MU_CHECK_EQ(mu_sub_recv(sub, &m, mu_test_ms(WAIT_MS)), 0);
    MU_CHECK(m.topic_size == 6 && memcmp(m.topic, "a.\0bin", 6) == 0 && !m.replay);
    MU_CHECK_EQ(mu_sub_recv(sub, &m, 0), MU_EAGAIN);
    mu_pub_stats_t ps = pub_stats(pub);
    MU_CHECK_EQ(ps.sent, 3);
    MU_CHECK_EQ(ps.filtered, 2);
    MU_CHECK_EQ(ps.bytes_sent, 3);
    mu_sub_stats_t ss = sub_stats(sub);
    MU_CHECK_EQ(ss.received, 3);
    MU_CHECK_EQ(ss.missed, 0);
    mu_sub_destroy(&sub);
    mu_pub_destroy(&pub);
}

static void
test_unsubscribe(void)
{
    char ep[128];
    mu_pub_t *pub = mu_pub_new();
    mu_sub_t *sub = mu_sub_new();
    MU_CHECK(pub && sub);
    /* the subscriber binds, the publisher connects, over tcp */
    int port = mu_sub_bind(sub, "tcp://127.0.0.1:*");
    MU_CHECK(port > 0);
    snprintf(ep, sizeof ep, "tcp://127.0.0.1:%d", port);
    MU_CHECK(strcmp(mu_sub_endpoint(sub), ep) == 0);
    MU_CHECK_EQ(mu_pub_connect(pub, ep), 0);
    SUBSCRIBE(sub, "a");
    SUBSCRIBE(sub, "b");
    SUBSCRIBE(sub, "b"); /* counted: two unsubscribes needed */
    MU_CHECK(wait_driving(pub, sub, "a", 1) && wait_driving(pub, sub, "b", 1));
    UNSUBSCRIBE(sub, "a");
    MU_CHECK(wait_driving(pub, sub, "a", 0));
    UNSUBSCRIBE(sub, "b");
    SUBSCRIBE(sub, "c"); /* after the unsubscribe of b, on the same pipe */
    MU_CHECK(wait_driving(pub, sub, "c", 1));
    MU_CHECK(mu_pub_is_subscribed(pub, "b", 1));
    MU_CHECK_EQ(pub_text(pub, "a1", "x"), 0);
    MU_CHECK_EQ(pub_text(pub, "b1", "y"), 0);
    EXPECT(sub, "b1=y");
    UNSUBSCRIBE(sub, "b");
    MU_CHECK(wait_driving(pub, sub, "b", 0));
    MU_CHECK_EQ(mu_sub_unsubscribe(sub, "b", 1), MU_ENOENT);
    MU_CHECK_EQ(pub_text(pub, "b2", "z"), 0);
    MU_CHECK_EQ(pub_text(pub, "c2", "w"), 0);
    EXPECT(sub, "c2=w");
    MU_CHECK_EQ(pub_stats(pub).filtered, 2);
    mu_sub_destroy(&sub);
    mu_pub_destroy(&pub);
}

/* A proxy whose upstream connects to up and whose downstream binds a new
   ipc endpoint (into ep). */
static mu_proxy_t *
proxy_after(const char *up, char *ep, size_t cap)
{
    mu_proxy_t *p = mu_proxy_new();
    if (p
        && (mu_proxy_connect(p, MU_PROXY_UPSTREAM, up) != 0
            || mu_proxy_bind(p, MU_PROXY_DOWNSTREAM, ipc_endpoint(ep, cap)) != 0
            || mu_proxy_start(p) != 0))
        mu_proxy_destroy(&p);
    return p;
}

static void
test_proxies_refcount(void)
{
    char ep0[128], ep1[128], ep2[128], ep3[128], got[256];
    mu_pub_t *pub = mu_pub_new();
    MU_CHECK(pub);
    MU_CHECK_EQ(mu_pub_set_cache(pub, 100), 0);
    MU_CHECK_EQ(mu_pub_bind(pub, ipc_endpoint(ep0, sizeof ep0)), 0);
    mu_proxy_t *p1 = proxy_after(ep0, ep1, sizeof ep1);
    mu_proxy_t *p2 = p1 ? proxy_after(ep1, ep2, sizeof ep2) : NULL;
    mu_proxy_t *p3 = p2 ? proxy_after(ep2, ep3, sizeof ep3) : NULL;
    MU_CHECK(p3);
    mu_sub_t *s1 = mu_sub_new(), *s2 = mu_sub_new();
    MU_CHECK(s1 && s2);
    MU_CHECK_EQ(mu_sub_connect(s1, ep3), 0);
    MU_CHECK_EQ(mu_sub_connect(s2, ep3), 0);
    SUBSCRIBE(s1, "t");
    MU_CHECK(wait_subscribed(pub, "t", 1));
    MU_CHECK_EQ(pub_text(pub, "t.v", "1"), 0);
    EXPECT(s1, "t.v=1");
    /* s2's subscribe reaches the publisher too (every proxy forwards it),
       which replays the cached t.v to s2; s1 drops its copy */
    uint64_t subs = pub_stats(pub).subscribes;
    SUBSCRIBE(s2, "t");
    MU_CHECK(wait_subscribes(pub, subs + 1));
    int replay = 0;
    MU_CHECK_EQ(recv_text(s2, got, sizeof got, &replay), 0);
    MU_CHECK(strcmp(got, "t.v=1") == 0 && replay == 1);
    /* s1 leaves t; a later subscribe on its pipe marks the point where
       its unsubscribe has gone through all three proxies */
    UNSUBSCRIBE(s1, "t");
    SUBSCRIBE(s1, "mark");
    MU_CHECK(wait_subscribed(pub, "mark", 1));
    MU_CHECK(mu_pub_is_subscribed(pub, "t", 1)); /* s2 still holds it */
    MU_CHECK_EQ(pub_text(pub, "t.v", "2"), 0);
    MU_CHECK_EQ(pub_text(pub, "mark", "m"), 0);
    EXPECT(s2, "t.v=2");
    EXPECT(s1, "mark=m"); /* not t.v=2 */
    /* the last unsubscribe of t goes up all the way */
    UNSUBSCRIBE(s2, "t");
    MU_CHECK(wait_subscribed(pub, "t", 0));
    MU_CHECK_EQ(mu_pub_subscriptions(pub), 1);
    mu_proxy_stats_t st = { .size = sizeof st };
    MU_CHECK_EQ(mu_proxy_stats(p3, &st), 0);
    MU_CHECK(st.messages >= 3);
    MU_CHECK_EQ(st.subscribes, 3);   /* t, t, mark */
    MU_CHECK_EQ(st.unsubscribes, 1); /* only the last of t, from libzmq */
    MU_CHECK_EQ(mu_proxy_stats(p1, &st), 0);
    MU_CHECK_EQ(st.subscribes, 3);
    MU_CHECK_EQ(st.unsubscribes, 1);
    mu_sub_destroy(&s1);
    mu_sub_destroy(&s2);
    mu_proxy_destroy(&p3);
    mu_proxy_destroy(&p2);
    mu_proxy_destroy(&p1);
    mu_pub_destroy(&pub);
}

/* The proxy binds upstream (the publisher connects) and connects
   downstream (to a bound subscriber). */
static void
test_proxy_reversed(void)
{
    char up[128], down[128];
    mu_proxy_t *proxy = mu_proxy_new();
    mu_pub_t *pub = mu_pub_new();
    mu_sub_t *sub = mu_sub_new();
    MU_CHECK(proxy && pub && sub);
    MU_CHECK_EQ(mu_proxy_set_hwm(proxy, 5000), 0);
    MU_CHECK_EQ(mu_proxy_set_hwm(proxy, -1), MU_EINVAL);
    MU_CHECK_EQ(mu_proxy_bind(proxy, MU_PROXY_UPSTREAM, ipc_endpoint(up, sizeof up)), 0);
    MU_CHECK(strcmp(mu_proxy_endpoint(proxy, MU_PROXY_UPSTREAM), up) == 0);
    MU_CHECK(strcmp(mu_proxy_endpoint(proxy, MU_PROXY_DOWNSTREAM), "") == 0);
    MU_CHECK_EQ(mu_sub_bind(sub, ipc_endpoint(down, sizeof down)), 0);
    MU_CHECK_EQ(mu_proxy_connect(proxy, MU_PROXY_DOWNSTREAM, down), 0);
    MU_CHECK_EQ(mu_proxy_start(proxy), 0);
    MU_CHECK_EQ(mu_pub_connect(pub, up), 0);
    SUBSCRIBE(sub, "z");
    MU_CHECK(wait_driving(pub, sub, "z", 1));
    MU_CHECK_EQ(pub_text(pub, "z1", "via"), 0);
    EXPECT(sub, "z1=via");
    MU_CHECK(mu_pub_zsock(pub) && mu_pub_fd(pub) >= 0 && mu_sub_zsock(sub) && mu_sub_fd(sub) >= 0);
    mu_sub_destroy(&sub);
    mu_pub_destroy(&pub);
    mu_proxy_destroy(&proxy);
}

static void
test_last_value_cache(void)
{
    char ep[128], got[256];
    mu_pub_t *pub = mu_pub_new();
    MU_CHECK(pub);
    MU_CHECK_EQ(mu_pub_set_cache(pub, 2), 0);
    MU_CHECK_EQ(mu_pub_bind(pub, ipc_endpoint(ep, sizeof ep)), 0);
    MU_CHECK_EQ(pub_text(pub, "k.a", "1"), 0); /* nobody listens yet */
    MU_CHECK_EQ(pub_text(pub, "k.b", "2"), 0);
    MU_CHECK_EQ(pub_text(pub, "k.a", "3"), 0);
    MU_CHECK_EQ(pub_text(pub, "x", "9"), 0); /* evicts k.b, the least recent */
    MU_CHECK_EQ(mu_pub_set_cache(pub, 5), MU_EINVAL);
    MU_CHECK_EQ(pub_stats(pub).evicted, 1);
    MU_CHECK_EQ(pub_stats(pub).filtered, 4);
    mu_sub_t *sub = mu_sub_new();
    MU_CHECK(sub);
    MU_CHECK_EQ(mu_sub_connect(sub, ep), 0);
    SUBSCRIBE(sub, "k");
    MU_CHECK(wait_subscribed(pub, "k", 1));
    int replay = 0;
    MU_CHECK_EQ(recv_text(sub, got, sizeof got, &replay), 0);
    MU_CHECK(strcmp(got, "k.a=3") == 0 && replay);
    MU_CHECK_EQ(pub_stats(pub).replays, 1);
    MU_CHECK_EQ(pub_text(pub, "k.a", "4"), 0);
    MU_CHECK_EQ(recv_text(sub, got, sizeof got, &replay), 0);
    MU_CHECK(strcmp(got, "k.a=4") == 0 && !replay);
    MU_CHECK_EQ(sub_stats(sub).missed, 0); /* a replay then the next: no gap */
    /* a second subscriber of k: the replay goes to both (XPUB cannot
       address one); the first drops it as already seen */
    mu_sub_t *late = mu_sub_new();
    MU_CHECK(late);
    MU_CHECK_EQ(mu_sub_connect(late, ep), 0);
    SUBSCRIBE(late, "k.");
    MU_CHECK(wait_subscribed(pub, "k.", 1));
    MU_CHECK_EQ(recv_text(late, got, sizeof got, &replay), 0);
    MU_CHECK(strcmp(got, "k.a=4") == 0 && replay);
    MU_CHECK_EQ(pub_text(pub, "k.z", "5"), 0);
    EXPECT(sub, "k.z=5");
    MU_CHECK_EQ(sub_stats(sub).duplicates, 1);
    EXPECT(late, "k.z=5");
    mu_sub_destroy(&late);
    mu_sub_destroy(&sub);
    mu_pub_destroy(&pub);
}

/* ---- a slow subscriber ---- */

#define SLOW_N 4000
#define SLOW_SIZE 1024
/*  The fast subscriber is sent at most SLOW_BATCH messages it has not yet
    read: below half the high-water mark of 100, as libzmq learns what a
    reader took only every hwm / 2 messages. */
#define SLOW_BATCH 20

typedef struct {
    mu_sub_t *sub;
    mu_test_counter_t got;
    int bad;
} fast_t;

static void *
fast_reader(void *arg)
{
    fast_t *f = arg;
    for (int i = 0; i < SLOW_N; i++) {
        mu_sub_msg_t m;
        int rc = mu_sub_recv(f->sub, &m, mu_test_ms(WAIT_MS));
        if (rc != 0 || m.size != SLOW_SIZE) {
            printf("# fast subscriber: %s (%zu bytes)\n", rc ? mu_errname(rc) : "a message",
                   rc ? 0 : m.size);
            f->bad = 1;
            break;
        }
        mu_test_counter_add(&f->got);
    }
    return NULL;
}

static void
test_slow_subscriber(void)
{
    char ep[128];
    static char payload[SLOW_SIZE];
    mu_pub_t *pub = mu_pub_new();
    mu_sub_t *slow = mu_sub_new();
    fast_t f = { .sub = mu_sub_new() };
    MU_CHECK(pub && slow && f.sub);
    mu_test_counter_init(&f.got);
    MU_CHECK_EQ(mu_pub_set_hwm(pub, 100), 0);
    MU_CHECK_EQ(mu_sub_set_hwm(slow, 100), 0);
    MU_CHECK_EQ(mu_pub_bind(pub, ipc_endpoint(ep, sizeof ep)), 0);
    MU_CHECK_EQ(mu_sub_connect(slow, ep), 0);
    MU_CHECK_EQ(mu_sub_connect(f.sub, ep), 0);
    SUBSCRIBE(slow, "s");
    MU_CHECK(wait_subscribes(pub, 1));
    SUBSCRIBE(f.sub, "s");
    MU_CHECK(wait_subscribes(pub, 2));
    pthread_t reader;
    MU_CHECK(pthread_create(&reader, NULL, fast_reader, &f) == 0);
    int64_t start = mu_test_now_ms();
    bool paced = true;
    for (int i = 0; i < SLOW_N && paced; i++) {
        if (mu_pub_send(pub, "s", 1, payload, sizeof payload) != 0)
            break;
        if ((i + 1) % SLOW_BATCH == 0) { /* the fast one keeps up: never over its HWM */
            paced = mu_test_counter_wait(&f.got, i + 1, WAIT_MS);
            /* and libzmq learns it: mu_pub_handle makes the XPUB take its
               pipes' news of what readers took, which sends process at most
               once a millisecond (doc/pubsub.md, "High-water marks") */
            int handled = mu_pub_handle(pub, 0);
            MU_CHECK(handled >= 0 || handled == MU_EAGAIN);
        }
    }
    pthread_join(reader, NULL);
    int64_t took = mu_test_now_ms() - start;
    if (!paced || f.bad)
        printf("# fast subscriber: %s after %llu of %d\n", f.bad ? "bad receive" : "stalled",
               (unsigned long long) f.got.value, SLOW_N);
    MU_CHECK(paced && !f.bad);
    MU_CHECK_EQ(f.got.value, SLOW_N);
    MU_CHECK_EQ(sub_stats(f.sub).missed, 0);
    printf("# %d x %d B to a fast and a stalled subscriber in %lld ms\n", SLOW_N, SLOW_SIZE,
           (long long) took);
    /* the stalled one now reads what it kept; end markers "eK" follow
       until one gets through (its queue may still be full for the first) */
    int end = 0, ends = 0;
    int64_t deadline = mu_test_now_ms() + mu_test_ms(WAIT_MS);
    while (!end && mu_test_now_ms() < deadline) {
        char marker[16];
        snprintf(marker, sizeof marker, "e%d", ++ends);
        MU_CHECK_EQ(pub_text(pub, "s", marker), 0);
        mu_sub_msg_t m;
        while (!end && mu_sub_recv(slow, &m, 10) == 0)
            if (m.size < 16)
                end = atoi((const char *) m.data + 1);
    }
    MU_CHECK(end > 0);
    mu_sub_stats_t ss = sub_stats(slow);
    printf("# the stalled subscriber got %llu, missed %llu\n", (unsigned long long) ss.received,
           (unsigned long long) ss.missed);
    MU_CHECK(ss.missed > 0);
    /* every payload is received or counted missed; the end markers lost
       before the one that got through are not always all counted (one
       optimised run: 26 of 27 uncounted; not understood yet, see
       doc/pubsub.md), so they are not part of the check */
    uint64_t accounted = ss.received + ss.missed;
    MU_CHECK(accounted >= SLOW_N && accounted <= (uint64_t) (SLOW_N + end));
    MU_CHECK_EQ(pub_stats(pub).dropped, 0); /* lossy: the publisher never knew */
    mu_test_counter_fini(&f.got);
    mu_sub_destroy(&f.sub);
    mu_sub_destroy(&slow);
    mu_pub_destroy(&pub);
}

static void
test_nodrop(void)
{
    char ep[128];
    static char payload[65536];
    mu_pub_t *pub = mu_pub_new();
    mu_sub_t *sub = mu_sub_new();
    MU_CHECK(pub && sub);
    MU_CHECK_EQ(mu_pub_set_hwm(pub, 10), 0);
    MU_CHECK_EQ(mu_sub_set_hwm(sub, 10), 0);
    MU_CHECK_EQ(mu_pub_set_nodrop(pub, 1, 0), 0);
    MU_CHECK_EQ(mu_pub_set_nodrop(pub, 1, -2), MU_EINVAL);
    MU_CHECK_EQ(mu_pub_bind(pub, ipc_endpoint(ep, sizeof ep)), 0);
    MU_CHECK_EQ(mu_sub_connect(sub, ep), 0);
    SUBSCRIBE(sub, "");
    MU_CHECK(wait_subscribed(pub, "", 1));
    int rc = 0, sent = 0;
    while (sent < 10000 && (rc = mu_pub_send(pub, "t", 1, payload, sizeof payload)) == 0)
        sent++;
    MU_CHECK_EQ(rc, MU_EAGAIN);
    MU_CHECK_EQ(pub_stats(pub).dropped, 1);
    printf("# nodrop: %d messages of 64 KiB before MU_EAGAIN\n", sent);
    mu_sub_destroy(&sub);
    mu_pub_destroy(&pub);
}

/* ---- CURVE ---- */

static bool
wait_auth_failure(mu_pub_t *pub)
{
    int64_t deadline = mu_test_now_ms() + mu_test_ms(WAIT_MS);
    while (pub_stats(pub).auth_failures == 0) {
        if (mu_test_now_ms() >= deadline)
            return false;
        int rc = mu_pub_handle(pub, 20); /* wakes on subscriptions only */
        (void) rc;
    }
    return true;
}

static void
test_curve_keys(void)
{
    char ep[128];
    mu_keys_t *srv = mu_keys_new(), *good = mu_keys_new(), *bad = mu_keys_new();
    mu_allow_t *allow = mu_allow_new();
    MU_CHECK(srv && good && bad && allow);
    MU_CHECK_EQ(mu_allow_add(allow, mu_keys_public(good)), 0);
    mu_pub_t *pub = mu_pub_new();
    mu_sub_t *ok = mu_sub_new(), *stranger = mu_sub_new();
    MU_CHECK(pub && ok && stranger);
    MU_CHECK_EQ(mu_pub_set_curve(pub, srv, NULL, NULL, NULL), MU_EINVAL);
    MU_CHECK_EQ(mu_pub_set_curve(pub, srv, allow, NULL, NULL), 0);
    MU_CHECK_EQ(mu_sub_set_curve(ok, NULL, NULL, good, mu_keys_public(srv)), 0);
    MU_CHECK_EQ(mu_sub_set_curve(stranger, NULL, NULL, bad, mu_keys_public(srv)), 0);
    MU_CHECK(mu_pub_bind(pub, "tcp://127.0.0.1:0") > 0);
    snprintf(ep, sizeof ep, "%s", mu_pub_endpoint(pub));
    MU_CHECK_EQ(mu_pub_set_curve(pub, srv, allow, NULL, NULL), MU_EINVAL); /* after the bind */
    MU_CHECK_EQ(mu_sub_connect(stranger, ep), 0);
    SUBSCRIBE(stranger, "");
    MU_CHECK(wait_auth_failure(pub));
    MU_CHECK_EQ(mu_sub_connect(ok, ep), 0);
    SUBSCRIBE(ok, "c");
    MU_CHECK(wait_subscribed(pub, "c", 1));
    MU_CHECK(!mu_pub_is_subscribed(pub, "", 0)); /* the stranger's never came */
    MU_CHECK_EQ(pub_text(pub, "c", "secret"), 0);
    EXPECT(ok, "c=secret");
    mu_sub_msg_t m;
    MU_CHECK_EQ(mu_sub_recv(stranger, &m, 0), MU_EAGAIN);
    mu_sub_destroy(&ok);
    mu_sub_destroy(&stranger);
    mu_pub_destroy(&pub);
    mu_allow_destroy(&allow);
    mu_keys_destroy(&srv);
    mu_keys_destroy(&good);
    mu_keys_destroy(&bad);
}

static void
test_curve_secret_proxy(void)
{
    /* publisher --secret A--> proxy --secret B--> subscribers; the
       subscriber with the wrong secret is refused on the proxy's side */
    const char *a = "upstream-pass", *b = "downstream-pass", *wrong = "wrong-passphrase";
    char ep0[128], ep1[128];
    mu_pub_t *pub = mu_pub_new();
    mu_proxy_t *proxy = mu_proxy_new();
    mu_sub_t *sub = mu_sub_new(), *intruder = mu_sub_new(), *guesser = mu_sub_new();
    MU_CHECK(pub && proxy && sub && intruder && guesser);
    MU_CHECK_EQ(mu_pub_set_curve_secret(pub, a, strlen(a)), 0);
    MU_CHECK_EQ(mu_pub_set_curve_secret(pub, "short", 5), MU_EINVAL);
    MU_CHECK_EQ(mu_proxy_set_curve_secret(proxy, MU_PROXY_UPSTREAM, a, strlen(a)), 0);
    MU_CHECK_EQ(mu_proxy_set_curve_secret(proxy, MU_PROXY_DOWNSTREAM, b, strlen(b)), 0);
    MU_CHECK_EQ(mu_sub_set_curve_secret(sub, b, strlen(b)), 0);
    /* guesser: a wrong secret, so a wrong server key: the handshake fails
       before ZAP is asked (not counted). intruder: the server key of b
       (public) with a key of its own: refused by ZAP, counted. */
    MU_CHECK_EQ(mu_sub_set_curve_secret(guesser, wrong, strlen(wrong)), 0);
    mu_keys_t *srv_b = mu_keys_from_secret(b, strlen(b), MU_KEYS_SERVER), *own = mu_keys_new();
    MU_CHECK(srv_b && own);
    MU_CHECK_EQ(mu_sub_set_curve(intruder, NULL, NULL, own, mu_keys_public(srv_b)), 0);
    mu_keys_destroy(&srv_b);
    mu_keys_destroy(&own);
    MU_CHECK_EQ(mu_pub_bind(pub, ipc_endpoint(ep0, sizeof ep0)), 0);
    MU_CHECK_EQ(mu_proxy_connect(proxy, MU_PROXY_UPSTREAM, ep0), 0);
    MU_CHECK(mu_proxy_bind(proxy, MU_PROXY_DOWNSTREAM, "tcp://127.0.0.1:*") > 0);
    snprintf(ep1, sizeof ep1, "%s", mu_proxy_endpoint(proxy, MU_PROXY_DOWNSTREAM));
    MU_CHECK_EQ(mu_proxy_start(proxy), 0);
    MU_CHECK_EQ(mu_proxy_start(proxy), MU_EINVAL);
    MU_CHECK_EQ(mu_proxy_bind(proxy, MU_PROXY_DOWNSTREAM, "tcp://127.0.0.1:*"), MU_EINVAL);
    MU_CHECK_EQ(mu_sub_connect(guesser, ep1), 0);
    MU_CHECK_EQ(mu_sub_connect(intruder, ep1), 0);
    MU_CHECK_EQ(mu_sub_connect(sub, ep1), 0);
    SUBSCRIBE(guesser, "");
    SUBSCRIBE(intruder, "");
    SUBSCRIBE(sub, "q");
    MU_CHECK(wait_subscribed(pub, "q", 1));
    MU_CHECK_EQ(pub_text(pub, "q", "hello"), 0);
    EXPECT(sub, "q=hello");
    mu_proxy_stats_t st = { .size = sizeof st };
    int64_t deadline = mu_test_now_ms() + mu_test_ms(WAIT_MS);
    do {
        MU_CHECK_EQ(mu_proxy_stats(proxy, &st), 0);
        if (st.auth_failures > 0 || mu_test_now_ms() > deadline)
            break;
        mu_sub_msg_t m;
        int rc = mu_sub_recv(intruder, &m, 20); /* never gets anything */
        MU_CHECK(rc == MU_ETIMEDOUT);
    } while (true);
    MU_CHECK(st.auth_failures > 0);
    MU_CHECK(!mu_pub_is_subscribed(pub, "", 0));
    mu_sub_destroy(&sub);
    mu_sub_destroy(&intruder);
    mu_sub_destroy(&guesser);
    mu_proxy_destroy(&proxy);
    mu_pub_destroy(&pub);
}

/*  mu_pub_bind again until the address is free (rc then the port). */
typedef struct {
    mu_pub_t *pub;
    const char *ep;
    int rc;
} rebind_t;

static bool
rebound(void *arg)
{
    rebind_t *rb = arg;
    rb->rc = mu_pub_bind(rb->pub, rb->ep);
    return rb->rc != MU_EADDRINUSE;
}

static void
test_publisher_restart(void)
{
    char ep[128];
    mu_pub_t *pub = mu_pub_new();
    mu_sub_t *sub = mu_sub_new();
    MU_CHECK(pub && sub);
    int port = mu_pub_bind(pub, "tcp://127.0.0.1:0");
    MU_CHECK(port > 0);
    snprintf(ep, sizeof ep, "tcp://127.0.0.1:%d", port);
    MU_CHECK_EQ(mu_sub_connect(sub, ep), 0);
    SUBSCRIBE(sub, "r");
    MU_CHECK(wait_subscribed(pub, "r", 1));
    MU_CHECK_EQ(pub_text(pub, "r", "before"), 0);
    EXPECT(sub, "r=before");
    mu_pub_destroy(&pub);
    pub = mu_pub_new();
    MU_CHECK(pub);
    /* libzmq closes the old listener in its I/O thread, and nothing tells
       when: retry the bind for a bounded time (mu_test_poll_until) */
    rebind_t rb = { pub, ep, 0 };
    mu_test_poll_until(rebound, &rb, WAIT_MS);
    MU_CHECK_EQ(rb.rc, port);
    MU_CHECK(wait_driving(pub, sub, "r", 1)); /* the subscriber reconnected */
    MU_CHECK_EQ(pub_text(pub, "r", "after"), 0);
    EXPECT(sub, "r=after");
    mu_sub_stats_t ss = sub_stats(sub);
    MU_CHECK_EQ(ss.missed, 0);
    MU_CHECK_EQ(ss.duplicates, 0); /* a new session: sequence 1 is news */
    mu_sub_destroy(&sub);
    mu_pub_destroy(&pub);
}

/* Trailer off: [topic][payload] only, to a plain libzmq SUB and to mu_sub,
   through a proxy that forwards and counts them; the setting is refused
   after a send, and together with the cache. */
static void
test_plain_messages(void)
{
    char ep0[128], ep1[128];
    mu_pub_t *pub = mu_pub_new(), *cached = mu_pub_new();
    MU_CHECK(pub && cached);
    MU_CHECK_EQ(mu_pub_set_trailer(pub, 1), 0);
    MU_CHECK_EQ(mu_pub_set_trailer(pub, 0), 0);
    MU_CHECK_EQ(mu_pub_set_cache(pub, 10), MU_EINVAL); /* replays need the trailer */
    MU_CHECK_EQ(mu_pub_set_cache(cached, 10), 0);
    MU_CHECK_EQ(mu_pub_set_trailer(cached, 0), MU_EINVAL);
    MU_CHECK_EQ(mu_pub_set_trailer(cached, 1), 0);
    mu_pub_destroy(&cached);
    MU_CHECK_EQ(mu_pub_bind(pub, ipc_endpoint(ep0, sizeof ep0)), 0);
    mu_proxy_t *proxy = proxy_after(ep0, ep1, sizeof ep1);
    mu_sub_t *sub = mu_sub_new();
    zsock_t *raw = zsock_new_sub(ep1, "a.");
    MU_CHECK(proxy && sub && raw);
    zsock_set_rcvtimeo(raw, mu_test_ms(WAIT_MS));
    MU_CHECK_EQ(mu_sub_connect(sub, ep1), 0);
    SUBSCRIBE(sub, "a.");
    MU_CHECK(wait_subscribes(pub, 2));
    MU_CHECK_EQ(pub_text(pub, "a.x", "hello"), 0);
    zmsg_t *msg = zmsg_recv(raw);
    MU_CHECK(msg && zmsg_size(msg) == 2);
    char *topic = msg ? zmsg_popstr(msg) : NULL, *payload = msg ? zmsg_popstr(msg) : NULL;
    MU_CHECK(topic && strcmp(topic, "a.x") == 0 && payload && strcmp(payload, "hello") == 0);
    zstr_free(&topic);
    zstr_free(&payload);
    zmsg_destroy(&msg);
    int replay = 1;
    char got[64];
    MU_CHECK_EQ(recv_text(sub, got, sizeof got, &replay), 0);
    MU_CHECK(strcmp(got, "a.x=hello") == 0 && replay == 0);
    mu_sub_stats_t ss = sub_stats(sub);
    MU_CHECK(ss.received == 1 && ss.missed == 0 && ss.malformed == 0);
    mu_proxy_stats_t ps = { .size = sizeof ps };
    MU_CHECK_EQ(mu_proxy_stats(proxy, &ps), 0); /* counted before forwarded */
    MU_CHECK_EQ(ps.messages, 1);
    MU_CHECK_EQ(ps.bytes, 8);                           /* "a.x" + "hello": no trailer */
    MU_CHECK_EQ(mu_pub_set_trailer(pub, 1), MU_EINVAL); /* after a send */
    MU_CHECK_EQ(mu_pub_set_trailer(pub, 0), MU_EINVAL);
    zsock_destroy(&raw);
    mu_sub_destroy(&sub);
    mu_proxy_destroy(&proxy);
    mu_pub_destroy(&pub);
}

static void
test_errors(void)
{
    char ep[128], big[MU_PUBSUB_MAX_TOPIC + 1];
    memset(big, 't', sizeof big);
    mu_pub_t *pub = mu_pub_new(), *other = mu_pub_new();
    mu_sub_t *sub = mu_sub_new();
    MU_CHECK(pub && other && sub);
    MU_CHECK_EQ(mu_pub_send(pub, big, sizeof big, "x", 1), MU_EINVAL);
    MU_CHECK_EQ(mu_sub_subscribe(sub, big, sizeof big), MU_EINVAL);
    MU_CHECK_EQ(mu_pub_bind(pub, "udp://127.0.0.1:1"), MU_EINVAL);
    MU_CHECK_EQ(mu_pub_bind(pub, "tcp://127.0.0.1:70000"), MU_EINVAL);
    MU_CHECK_EQ(mu_sub_connect(sub, "tcp://:5"), MU_EINVAL);
    MU_CHECK_EQ(mu_pub_set_hwm(pub, -1), MU_EINVAL);
    MU_CHECK(mu_pub_bind(pub, "tcp://127.0.0.1:0") > 0);
    snprintf(ep, sizeof ep, "%s", mu_pub_endpoint(pub));
    MU_CHECK_EQ(mu_pub_bind(other, ep), MU_EADDRINUSE);
    MU_CHECK(strstr(mu_last_error(), ep) != NULL);
    MU_CHECK_EQ(mu_pub_handle(pub, 0), MU_EAGAIN);
    MU_CHECK_EQ(mu_pub_handle(pub, 10), MU_ETIMEDOUT);
    mu_sub_msg_t m;
    MU_CHECK_EQ(mu_sub_recv(sub, &m, 0), MU_EAGAIN);
    MU_CHECK_EQ(mu_sub_recv(sub, &m, 10), MU_ETIMEDOUT);
    mu_pub_stats_t small = { .size = 8 };
    MU_CHECK_EQ(mu_pub_stats(pub, &small), MU_EINVAL);
    mu_pub_destroy(&pub);
    mu_pub_destroy(&pub); /* NULL is accepted */
    mu_pub_destroy(&other);
    mu_sub_destroy(&sub);
    mu_proxy_destroy(NULL);
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
    mu_test_start(60);
    if (!mu_test_scratch_dir(tmpdir, sizeof tmpdir, "mu-pubsub"))
        return 1;
    RUN(test_prefix_matching);
    RUN(test_unsubscribe);
    RUN(test_proxies_refcount);
    RUN(test_proxy_reversed);
    RUN(test_last_value_cache);
    RUN(test_slow_subscriber);
    RUN(test_nodrop);
    RUN(test_curve_keys);
    RUN(test_curve_secret_proxy);
    RUN(test_publisher_restart);
    RUN(test_plain_messages);
    RUN(test_errors);
    mu_test_remove_scratch_dir(tmpdir);
    MU_DONE();
}
