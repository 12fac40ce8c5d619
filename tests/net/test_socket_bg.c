/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  test_socket_bg.c — mu_socket's background heartbeats (no calls by the
    owner), PINGs only on idle links, reconnect backoff and high-water
    marks. Waits are on counters read back from the sockets (peers, stats)
    or on connections seen by a listener, never on elapsed time. */
#include "mu_test.h"
#include "mutil.h"
#include <arpa/inet.h>
#include <czmq.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#define HB_IVL 100

static int hb_timeout;

static mu_socket_stats_t
stats_of(const mu_socket_t *s)
{
    mu_socket_stats_t st = { .size = sizeof st };
    int rc = mu_socket_stats(s, &st);
    (void) rc;
    return st;
}

static mu_socket_t *
new_socket(char tag)
{
    uint8_t id[MU_SOCKET_ID_BYTES];
    memset(id, tag, sizeof id);
    mu_socket_t *s = mu_socket_new(id);
    if (s && mu_socket_set_heartbeat(s, HB_IVL, hb_timeout) != 0)
        mu_socket_destroy(&s);
    return s;
}

typedef struct {
    mu_socket_t *s;
    uint64_t want;
} count_wait_t;

static bool
peers_reached(void *arg)
{
    count_wait_t *w = arg;
    return mu_socket_peers(w->s) == w->want;
}

static bool
pings_reached(void *arg)
{
    count_wait_t *w = arg;
    return stats_of(w->s).pings >= w->want;
}

/* Waits (up to ms, scaled) until s has want peers, looking only: the
   socket is driven by its background thread, and the subject is that
   nobody calls it, so its JOIN and LEAVE events (read with
   mu_socket_recv) are not an option: the counter is polled
   (mu_test_poll_until). */
static bool
wait_peers(mu_socket_t *s, size_t want, int ms)
{
    count_wait_t w = { s, want };
    return mu_test_poll_until(peers_reached, &w, ms);
}

/* Waits (up to ms, scaled) until s has sent at least want PINGs (a
   counter of the background thread; polled as in wait_peers). */
static bool
wait_pings(mu_socket_t *s, uint64_t want, int ms)
{
    count_wait_t w = { s, want };
    return mu_test_poll_until(pings_reached, &w, ms);
}

/* a binds tcp, b connects; both joined. */
static bool
pair(mu_socket_t *a, mu_socket_t *b)
{
    int port = mu_socket_bind(a, "tcp://127.0.0.1:*");
    if (port <= 0)
        return false;
    char ep[64];
    snprintf(ep, sizeof ep, "tcp://127.0.0.1:%d", port);
    return mu_socket_connect(b, ep) == 0;
}

static void
test_errors(void)
{
    mu_socket_t *s = mu_socket_new(NULL);
    MU_CHECK(s);
    MU_CHECK_EQ(mu_socket_set_reconnect(s, 0, 100), MU_EINVAL);
    MU_CHECK_EQ(mu_socket_set_reconnect(s, 200, 100), MU_EINVAL);
    MU_CHECK_EQ(mu_socket_set_reconnect(s, 100, 3600001), MU_EINVAL);
    MU_CHECK_EQ(mu_socket_set_reconnect(s, 100, 100), 0);
    MU_CHECK_EQ(mu_socket_set_hwm(s, 0, 10), MU_EINVAL);
    MU_CHECK_EQ(mu_socket_set_hwm(s, 10, 0), MU_EINVAL);
    MU_CHECK_EQ(mu_socket_set_hwm(s, (1 << 24) + 1, 10), MU_EINVAL);
    MU_CHECK_EQ(mu_socket_set_hwm(s, 10, 20), 0);
    int v = 0;
    size_t len = sizeof v;
    zmq_getsockopt(zsock_resolve(mu_socket_zsock(s)), ZMQ_SNDHWM, &v, &len);
    MU_CHECK_EQ(v, 10);
    zmq_getsockopt(zsock_resolve(mu_socket_zsock(s)), ZMQ_RCVHWM, &v, &len);
    MU_CHECK_EQ(v, 20);
    /* AT_LEAST_ONCE keeps its receive mark above a smaller one */
    MU_CHECK_EQ(mu_socket_set_at_least_once(s, 3, 100, 100), 0);
    MU_CHECK_EQ(mu_socket_set_hwm(s, 10, 20), 0);
    zmq_getsockopt(zsock_resolve(mu_socket_zsock(s)), ZMQ_RCVHWM, &v, &len);
    MU_CHECK_EQ(v, 1200);
    /* on twice, off twice, on again: destroy stops it */
    MU_CHECK_EQ(mu_socket_set_background(s, 1), 0);
    MU_CHECK_EQ(mu_socket_set_background(s, 1), 0);
    MU_CHECK_EQ(mu_socket_set_background(s, 0), 0);
    MU_CHECK_EQ(mu_socket_set_background(s, 0), 0);
    MU_CHECK_EQ(mu_socket_set_background(s, 1), 0);
    MU_CHECK(mu_socket_tick(s) >= 0); /* still works */
    mu_socket_destroy(&s);
    MU_CHECK(s == NULL);
}

/* Two idle sockets with background threads stay joined past several
   timeouts with no calls; when one goes silent (thread stopped, no calls)
   the other sees it leave, still with no calls. */
static void
test_silent_peer_no_calls(void)
{
    mu_socket_t *a = new_socket('a'), *b = new_socket('b');
    MU_CHECK(a && b);
    MU_CHECK_EQ(mu_socket_set_background(a, 1), 0);
    MU_CHECK_EQ(mu_socket_set_background(b, 1), 0);
    MU_CHECK(pair(a, b));
    MU_CHECK(wait_peers(a, 1, 5000));
    MU_CHECK(wait_peers(b, 1, 5000));
    /* each PING is sent after an idle interval: 3 timeouts' worth of them
       from b means 3 timeouts passed, and a kept b throughout */
    uint64_t want = stats_of(b).pings + 3 * (uint64_t) hb_timeout / HB_IVL;
    MU_CHECK(wait_pings(b, want, 20 * hb_timeout));
    MU_CHECK_EQ(mu_socket_peers(a), 1);
    MU_CHECK_EQ(stats_of(a).leaves, 0);
    /* b falls silent: a notices by itself */
    MU_CHECK_EQ(mu_socket_set_background(b, 0), 0);
    MU_CHECK(wait_peers(a, 0, 20 * hb_timeout));
    MU_CHECK_EQ(stats_of(a).leaves, 1);
    mu_socket_destroy(&b);
    mu_socket_destroy(&a);
}

/* The most PINGs a may owe to a window of w ms in which it sent nothing
   (as the test saw it): a PING goes out only after an interval without a
   send, so floor(w / ivl), plus a margin for the socket's coarse clock
   (CLOCK_MONOTONIC_COARSE lags the test's clock by up to a jiffy). */
static unsigned
idle_pings(int64_t w, int ivl)
{
    return w + 20 < ivl ? 0 : (unsigned) ((w + 20) / ivl);
}

/* a sends steadily to b for several intervals: a sends no PING; b, which
   sends nothing else, PINGs a.
   On a loaded machine this process can be descheduled between two sends
   (or after the last one) for an interval or more, and then a's link is
   idle and a PING is right. The test cannot prevent that, but it sees it:
   it notes the clock before and after each send, and a PING after send i
   can only come before the end of send i+1 (or the final reading of the
   counter) and at least an interval after the start of send i. So a may
   send at most idle_pings() of each such window; on a machine that is
   not starved every window is a few ms and the bound is 0. */
static void
test_no_ping_under_traffic(void)
{
    mu_socket_t *a = new_socket('c'), *b = new_socket('d');
    MU_CHECK(a && b);
    MU_CHECK_EQ(mu_socket_set_background(a, 1), 0);
    MU_CHECK_EQ(mu_socket_set_background(b, 1), 0);
    int ivl = mu_test_ms(300);
    MU_CHECK_EQ(mu_socket_set_heartbeat(a, ivl, 4 * ivl), 0);
    MU_CHECK_EQ(mu_socket_set_heartbeat(b, ivl, 4 * ivl), 0);
    MU_CHECK(pair(a, b));
    MU_CHECK(wait_peers(a, 1, 5000));
    MU_CHECK(wait_peers(b, 1, 5000));
    MU_CHECK(wait_pings(a, 1, 5000)); /* the first PING, right after the join */
    unsigned n = 0, allowed = 0;
    mu_socket_msg_t m;
    /* a first send, then the counters: any later PING of a is owed to a
       window that starts with this send */
    int64_t prev = mu_test_now_ms();
    MU_CHECK_EQ(mu_socket_send(a, &n, sizeof n), 0);
    MU_CHECK_EQ(mu_socket_recv(b, &m, mu_test_ms(5000)), 0);
    uint64_t a0 = stats_of(a).pings, b0 = stats_of(b).pings;
    int64_t end = mu_test_now_ms() + 5 * ivl;
    while (mu_test_now_ms() < end) {
        n++;
        int64_t t0 = mu_test_now_ms();
        MU_CHECK_EQ(mu_socket_send(a, &n, sizeof n), 0);
        allowed += idle_pings(mu_test_now_ms() - prev, ivl);
        prev = t0;
        MU_CHECK_EQ(mu_socket_recv(b, &m, mu_test_ms(5000)), 0);
        MU_CHECK_EQ(m.size, sizeof n);
    }
    uint64_t pings = stats_of(a).pings - a0;
    allowed += idle_pings(mu_test_now_ms() - prev, ivl);
    printf("# %u messages, a sent %llu pings, %u allowed by stalls of this process\n", n,
           (unsigned long long) pings, allowed);
    MU_CHECK(pings <= allowed);
    MU_CHECK(stats_of(b).pings - b0 >= 2);
    mu_socket_destroy(&b);
    mu_socket_destroy(&a);
}

/* Accepts connections on fd and closes them at once; returns the clock of
   each of the next n accepts in at[] (false when ms, scaled, pass first). */
static bool
accept_times(int fd, int64_t *at, int n, int ms)
{
    int64_t deadline = mu_test_now_ms() + mu_test_ms(ms);
    for (int i = 0; i < n; i++) {
        struct pollfd p = { .fd = fd, .events = POLLIN };
        int left = (int) (deadline - mu_test_now_ms());
        if (left <= 0 || poll(&p, 1, left) != 1)
            return false;
        int c = accept(fd, NULL, NULL);
        if (c < 0)
            return false;
        at[i] = mu_test_now_ms();
        close(c);
    }
    return true;
}

static int
listener(char *ep, size_t cap)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof sa;
    if (fd < 0 || bind(fd, (struct sockaddr *) &sa, sizeof sa) != 0 || listen(fd, 16) != 0
        || getsockname(fd, (struct sockaddr *) &sa, &len) != 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    snprintf(ep, cap, "tcp://127.0.0.1:%d", ntohs(sa.sin_port));
    return fd;
}

/* A connection refused by the far end is retried after the backoff: with
   10 ms many retries come quickly; with 800 ms fixed, never sooner. */
static void
test_reconnect_backoff(void)
{
    char ep[64];
    int64_t at[6];
    int fd = listener(ep, sizeof ep);
    MU_CHECK(fd >= 0);
    mu_socket_t *fast = mu_socket_new(NULL);
    MU_CHECK(fast);
    MU_CHECK_EQ(mu_socket_set_reconnect(fast, 10, 10), 0);
    MU_CHECK_EQ(mu_socket_connect(fast, ep), 0);
    MU_CHECK(accept_times(fd, at, 6, 5000));
    mu_socket_destroy(&fast);
    close(fd);

    fd = listener(ep, sizeof ep);
    MU_CHECK(fd >= 0);
    mu_socket_t *slow = mu_socket_new(NULL);
    MU_CHECK(slow);
    MU_CHECK_EQ(mu_socket_set_reconnect(slow, 800, 800), 0);
    MU_CHECK_EQ(mu_socket_connect(slow, ep), 0);
    MU_CHECK(accept_times(fd, at, 3, 20000));
    printf("# retries after %lld and %lld ms\n", (long long) (at[1] - at[0]),
           (long long) (at[2] - at[1]));
    MU_CHECK(at[1] - at[0] >= 790);
    MU_CHECK(at[2] - at[1] >= 790);
    mu_socket_destroy(&slow);
    close(fd);
}

/* With send and receive marks of 1 message and a receiver that
   reads nothing, a sender of 1 MB messages is blocked after a few
   (kernel buffers hold some); DROP says MU_EAGAIN, BLOCK times out. */
static void
test_hwm(void)
{
    mu_socket_t *a = new_socket('e'), *b = new_socket('f');
    MU_CHECK(a && b);
    /* a's receive mark stays large: libzmq 4.3.4 aborts when a connection
       whose input is stalled on a full receive pipe breaks (see
       test_socket_alo's test_at_least_once_receive_limit) */
    MU_CHECK_EQ(mu_socket_set_hwm(a, 1, 1000), 0);
    MU_CHECK_EQ(mu_socket_set_hwm(b, 1, 1), 0);
    MU_CHECK_EQ(mu_socket_set_heartbeat(b, HB_IVL, 600000), 0);
    MU_CHECK_EQ(mu_socket_set_heartbeat(a, HB_IVL, 600000), 0);
    MU_CHECK(pair(a, b));
    int64_t deadline = mu_test_now_ms() + mu_test_ms(5000);
    mu_socket_msg_t m;
    while (mu_socket_peers(a) < 1 || mu_socket_peers(b) < 1) {
        MU_CHECK(mu_test_now_ms() < deadline);
        int rc = mu_socket_recv(a, &m, 5);
        rc = mu_socket_recv(b, &m, 5);
        (void) rc;
    }
    /* BLOCK: sends go until nothing moves for 200 ms (pipes and kernel
       buffers full); with the default marks (1000) that would take more
       than 1000 sends */
    MU_CHECK_EQ(mu_socket_set_queue(a, 10, MU_SOCKET_BLOCK, mu_test_ms(200)), 0);
    size_t size = 1 << 20;
    char *big = calloc(1, size);
    MU_CHECK(big);
    const uint8_t *bid = mu_socket_identity(b);
    int rc = 0, sent = 0;
    while (sent < 1000 && (rc = mu_socket_send_to(a, bid, big, size)) == 0)
        sent++;
    printf("# %d messages of 1 MB taken before the send blocked\n", sent);
    MU_CHECK_EQ(rc, MU_ETIMEDOUT);
    MU_CHECK(sent < 200);
    /* DROP: refused at once, counted */
    uint64_t dropped = stats_of(a).dropped;
    MU_CHECK_EQ(mu_socket_set_queue(a, 10, MU_SOCKET_DROP, 0), 0);
    MU_CHECK_EQ(mu_socket_send_to(a, bid, big, size), MU_EAGAIN);
    MU_CHECK_EQ(stats_of(a).dropped, dropped + 1);
    free(big);
    /* b reads everything taken (none lost), so that no input is stalled
       when the sockets close: until it has them all, within a generous
       scaled bound (not until a pause, which a loaded machine makes
       between any two of these 1 MB messages) */
    int got = 0;
    int64_t until = mu_test_now_ms() + mu_test_ms(30000);
    while (got < sent && mu_test_now_ms() < until)
        if (mu_socket_recv(b, &m, mu_test_ms(1000)) == 0)
            got += m.event == MU_SOCKET_MESSAGE;
    MU_CHECK_EQ(got, sent);
    mu_socket_destroy(&b);
    mu_socket_destroy(&a);
}

int
main(void)
{
    mu_test_start(120);
    signal(SIGPIPE, SIG_IGN);
    zsys_handler_set(NULL);
    hb_timeout = mu_test_ms(1000);
    MU_RUN(test_errors);
    MU_RUN(test_silent_peer_no_calls);
    MU_RUN(test_no_ping_under_traffic);
    MU_RUN(test_reconnect_backoff);
    MU_RUN(test_hwm);
    MU_DONE();
}
