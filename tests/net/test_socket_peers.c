/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  test_socket_peers.c — mu_socket with peers in other processes that die:
    dead peer detection by heartbeats, a killed and restarted peer with a
    queue, a killed and restarted binder. */
#include "socket_cases.h"

/* SIGKILLs the peer, reaps it and drops its unread reports. */
static void
kill_peer(child_t *c)
{
    stop_peer(c, NULL, NULL);
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

int
main(int argc, char **argv)
{
    int rc = socket_suite_begin(argc, argv);
    if (rc >= 0)
        return rc;
    RUN(test_dead_peer_detection);
    RUN(test_kill_restart_queue);
    RUN(test_kill_restart_binder);
    return socket_suite_end();
}
