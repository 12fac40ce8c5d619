/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  test_ws_flow.c — flow control of the private WebSocket endpoint
    (src/net/mu_ws.h): inbound flow control, slow clients disconnected or
    losing their oldest messages, many clients, destroying with messages
    queued. */
#include "ws_cases.h"

/*  A 16 KiB binary message carrying seq in its first bytes. */
static mu__ws_msg_t *
seq_msg(uint32_t seq)
{
    static unsigned char buf[16384];
    memset(buf, (int) (seq & 0xff), sizeof buf);
    memcpy(buf, &seq, sizeof seq);
    return mu__ws_msg_new(buf, sizeof buf, true);
}

static uint32_t
seq_of(const mu__ws_event_t *ev)
{
    uint32_t seq = UINT32_MAX;
    if (ev->size == 16384)
        memcpy(&seq, ev->data, sizeof seq);
    return seq;
}

/*  The server sends the same messages to a fast client (read at once) and
    a slow one whose owner reads nothing (its small event_max stops lws
    reading, so the server's queue to it grows) until the policy acts.
    Returns how many were sent (to both), 0 on failure. */
static uint32_t
flood_until_overflow(mu__ws_t *server, uint64_t fast_sid, mu__ws_t *fast, uint64_t fast_cid,
                     uint64_t slow_sid)
{
    for (uint32_t seq = 0; seq < 8000; seq++) {
        mu__ws_msg_t *msg = seq_msg(seq);
        int rc_fast = mu__ws_send_msg(server, fast_sid, msg);
        int rc_slow = mu__ws_send_msg(server, slow_sid, msg);
        mu__ws_msg_unref(&msg);
        mu__ws_event_t ev;
        if (rc_fast != 0 || expect(fast, MU__WS_BINARY, &ev) != fast_cid || seq_of(&ev) != seq) {
            printf("# fast client: message %u lost (send %d)\n", seq, rc_fast);
            return 0;
        }
        mu__ws_stats_t st = stats_of(server);
        if (rc_slow == MU_EPIPE || st.dropped > 0)
            return seq + 1;
        if (rc_slow != 0) {
            printf("# slow client: send %u: %d\n", seq, rc_slow);
            return 0;
        }
    }
    printf("# the slow client's queue never overflowed\n");
    return 0;
}

/*  A server with a 64 KiB queue per client and overflow policy, a fast
    client and a slow one (event_max 4 KiB) paired up with it, flooded
    until the policy acts (b->sent: the messages sent to the slow one). */
typedef struct {
    mu__ws_t *server, *fast, *slow;
    uint64_t fsid, fcid, ssid, scid;
    uint32_t sent;
} slow_bed_t;

static void
slow_bed(slow_bed_t *b, mu__ws_overflow_t overflow)
{
    *b = (slow_bed_t) { 0 };
    b->server = listen_ws((mu__ws_config_t) { .queue_max = 65536, .overflow = overflow });
    MU_CHECK(b->server);
    int port = mu__ws_port(b->server);
    b->fast = connect_ws((mu__ws_config_t) { 0 }, port);
    MU_CHECK(b->fast && pair_up(b->server, b->fast, &b->fsid, &b->fcid));
    b->slow = connect_ws((mu__ws_config_t) { .event_max = 4096 }, port);
    MU_CHECK(b->slow && pair_up(b->server, b->slow, &b->ssid, &b->scid));
    b->sent = flood_until_overflow(b->server, b->fsid, b->fast, b->fcid, b->ssid);
    MU_CHECK(b->sent > 0);
}

static void
test_slow_disconnect(void)
{
    slow_bed_t b;
    slow_bed(&b, MU__WS_DISCONNECT);
    uint32_t sent = b.sent;
    printf("# slow client disconnected after %u messages of 16 KiB\n", sent);
    MU_CHECK_EQ(stats_of(b.server).slow, 1);
    int rc = mu__ws_send(b.server, b.ssid, "x", 1, false);
    MU_CHECK(rc == MU_EPIPE || rc == MU_ENOENT);
    MU_CHECK_EQ(expect(b.server, MU__WS_CLOSED, NULL), b.ssid);
    MU_CHECK_EQ(mu__ws_send(b.server, b.ssid, "x", 1, false), MU_ENOENT);
    MU_CHECK(same_back(b.server, b.fsid, b.fast, b.fcid, 100, false)); /* the fast one is fine */
    MU_CHECK_EQ(stats_of(b.server).dropped, 0);
    mu__ws_destroy(&b.slow);
    mu__ws_destroy(&b.fast);
    mu__ws_destroy(&b.server);
}

static void
test_slow_drop_oldest(void)
{
    slow_bed_t b;
    slow_bed(&b, MU__WS_DROP_OLDEST);
    uint32_t sent = b.sent;
    /* a few more, all queued (dropping older ones) */
    for (int i = 0; i < 8; i++, sent++) {
        mu__ws_msg_t *msg = seq_msg(sent);
        MU_CHECK_EQ(mu__ws_send_msg(b.server, b.ssid, msg), 0);
        mu__ws_msg_unref(&msg);
    }
    uint64_t dropped = stats_of(b.server).dropped;
    printf("# %u messages of 16 KiB sent to the slow client, %llu dropped\n", sent,
           (unsigned long long) dropped);
    MU_CHECK(dropped > 0);
    MU_CHECK_EQ(stats_of(b.server).slow, 0);
    /* The slow owner reads now: what was not dropped arrives in order,
       ending with the last one. */
    uint32_t got = 0, last = 0;
    bool first = true;
    while (first || last != sent - 1) {
        mu__ws_event_t ev;
        MU_CHECK_EQ(expect(b.slow, MU__WS_BINARY, &ev), b.scid);
        uint32_t seq = seq_of(&ev);
        MU_CHECK(seq < sent && (first || seq > last));
        last = seq;
        first = false;
        got++;
    }
    MU_CHECK_EQ(got + stats_of(b.server).dropped, sent);
    MU_CHECK(same_back(b.server, b.ssid, b.slow, b.scid, 10, false));
    mu__ws_destroy(&b.slow);
    mu__ws_destroy(&b.fast);
    mu__ws_destroy(&b.server);
}

/*  Inbound is bounded: a client sends far more than the server's event_max
    while the server's owner reads nothing; the server stops reading
    (bytes_in stays near event_max), then delivers everything once its
    owner reads. */
static void
test_inbound_flow_control(void)
{
    mu__ws_t *server = listen_ws((mu__ws_config_t) { .event_max = 65536 });
    MU_CHECK(server);
    mu__ws_t *client = connect_ws((mu__ws_config_t) { .queue_max = 16u << 20 },
                                  mu__ws_port(server));
    uint64_t sid, cid;
    MU_CHECK(client && pair_up(server, client, &sid, &cid));
    enum { COUNT = 300 };
    for (uint32_t i = 0; i < COUNT; i++) {
        mu__ws_msg_t *msg = seq_msg(i);
        MU_CHECK_EQ(mu__ws_send_msg(client, cid, msg), 0);
        mu__ws_msg_unref(&msg);
    }
    /* Wait until the server has paused (bytes_in stops growing), then
       check it stayed near the bound. */
    uint64_t before = 0, now = stats_of(server).bytes_in;
    while (now == 0 || now != before) {
        before = now;
        mu_test_sleep_ms(200); /* a window in which bytes_in must not move */
        now = stats_of(server).bytes_in;
    }
    printf("# %llu bytes read of %u (event_max 65536)\n", (unsigned long long) now, COUNT * 16384);
    MU_CHECK(now <= 65536 + 4 * 16384);
    for (uint32_t i = 0; i < COUNT; i++) {
        mu__ws_event_t ev;
        MU_CHECK_EQ(expect(server, MU__WS_BINARY, &ev), sid);
        MU_CHECK_EQ(seq_of(&ev), i);
    }
    MU_CHECK_EQ(stats_of(server).messages_in, COUNT);
    mu__ws_destroy(&client);
    mu__ws_destroy(&server);
}

/*  Many connecting endpoints on one server: a shared message broadcast to
    all, one message from each. */
#define MANY 200

static void
test_many_clients(void)
{
    mu__ws_t *server = listen_ws((mu__ws_config_t) { 0 });
    MU_CHECK(server);
    static mu__ws_t *clients[MANY];
    static uint64_t cids[MANY], sids[MANY];
    for (int i = 0; i < MANY; i++) {
        clients[i] = connect_ws((mu__ws_config_t) { 0 }, mu__ws_port(server));
        MU_CHECK(clients[i]);
    }
    for (int i = 0; i < MANY; i++) {
        sids[i] = expect(server, MU__WS_OPEN, NULL);
        cids[i] = expect(clients[i], MU__WS_OPEN, NULL);
        MU_CHECK(sids[i] && cids[i]);
    }
    MU_CHECK_EQ(mu__ws_clients(server), MANY);
    mu__ws_msg_t *msg = mu__ws_msg_new("{\"all\":1}", 9, false);
    MU_CHECK(msg);
    for (int i = 0; i < MANY; i++)
        MU_CHECK_EQ(mu__ws_send_msg(server, sids[i], msg), 0);
    mu__ws_msg_unref(&msg);
    MU_CHECK(!msg);
    for (int i = 0; i < MANY; i++) {
        mu__ws_event_t ev;
        MU_CHECK_EQ(expect(clients[i], MU__WS_TEXT, &ev), cids[i]);
        MU_CHECK(ev.size == 9 && memcmp(ev.data, "{\"all\":1}", 9) == 0);
        char text[32];
        int n = snprintf(text, sizeof text, "client %d", i);
        MU_CHECK_EQ(mu__ws_send(clients[i], cids[i], text, (size_t) n, false), 0);
    }
    for (int i = 0; i < MANY; i++)
        MU_CHECK(expect(server, MU__WS_TEXT, NULL));
    mu__ws_stats_t st = stats_of(server);
    MU_CHECK_EQ(st.messages_in, MANY);
    MU_CHECK_EQ(st.messages_out, MANY);
    for (int i = 0; i < MANY; i++)
        mu__ws_destroy(&clients[i]);
    for (int i = 0; i < MANY; i++)
        MU_CHECK(expect(server, MU__WS_CLOSED, NULL));
    MU_CHECK_EQ(mu__ws_clients(server), 0);
    mu__ws_destroy(&server);
}

/*  Destroying endpoints with messages queued to clients and events not
    taken frees them all (ASan's leak check at exit). */
static void
test_destroy_with_queued(void)
{
    mu__ws_t *server = listen_ws((mu__ws_config_t) { .queue_max = 64u << 20 });
    MU_CHECK(server);
    mu__ws_t *client = connect_ws((mu__ws_config_t) { .event_max = 4096 }, mu__ws_port(server));
    uint64_t sid, cid;
    MU_CHECK(client && pair_up(server, client, &sid, &cid));
    for (uint32_t i = 0; i < 400; i++) {
        mu__ws_msg_t *msg = seq_msg(i);
        MU_CHECK_EQ(mu__ws_send_msg(server, sid, msg), 0);
        mu__ws_msg_unref(&msg);
        MU_CHECK_EQ(mu__ws_send(client, cid, "unread", 6, false), 0);
    }
    MU_CHECK(expect(client, MU__WS_BINARY, NULL)); /* some arrived */
    mu__ws_destroy(&server);
    mu__ws_destroy(&client);
}

int
main(void)
{
    mu_test_start(300);
    zsys_handler_set(NULL);
    RUN(test_inbound_flow_control);
    RUN(test_slow_disconnect);
    RUN(test_slow_drop_oldest);
    RUN(test_many_clients);
    RUN(test_destroy_with_queued);
    MU_DONE();
}
