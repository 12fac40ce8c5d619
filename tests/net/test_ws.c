/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  test_ws.c — the private WebSocket endpoint (src/net/mu_ws.h): a
    connecting mu__ws talking to a listening one over 127.0.0.1, and raw
    TCP peers for what an lws client cannot be made to do (stay silent to
    pings, send a handshake with a chosen Origin). Every wait is on
    mu__ws_fd (poll) with a bound scaled by MU_TEST_SCALE. */
#include "mu_test.h"
#include "net/mu_ws.h"
#include <czmq.h>

/*  The next event of ws within timeout_ms (scaled); false on timeout. */
static bool
next_event(mu__ws_t *ws, mu__ws_event_t *ev, int timeout_ms)
{
    int64_t deadline = mu_test_now_ms() + mu_test_ms(timeout_ms);
    for (;;) {
        if (mu__ws_recv(ws, ev) == 0)
            return true;
        int64_t left = deadline - mu_test_now_ms();
        if (left <= 0)
            return false;
        struct pollfd p = { .fd = mu__ws_fd(ws), .events = POLLIN };
        poll(&p, 1, (int) left);
    }
}

/*  Waits for an event of kind; returns its client id, 0 on timeout or
    another kind (printed). */
static uint64_t
expect(mu__ws_t *ws, mu__ws_kind_t kind, mu__ws_event_t *ev)
{
    mu__ws_event_t local;
    if (!ev)
        ev = &local;
    if (!next_event(ws, ev, 10000)) {
        printf("# no event (wanted kind %d)\n", (int) kind);
        return 0;
    }
    if (ev->kind != kind) {
        printf("# event kind %d (client %llu, %zu bytes), wanted %d\n", (int) ev->kind,
               (unsigned long long) ev->client, ev->size, (int) kind);
        return 0;
    }
    return ev->client;
}

static mu__ws_t *
listen_ws(mu__ws_config_t config)
{
    config.listen = true;
    mu__ws_t *ws = mu__ws_new(&config);
    if (!ws)
        printf("# listen: %s\n", mu_last_error());
    return ws;
}

static mu__ws_t *
connect_ws(mu__ws_config_t config, int port)
{
    config.listen = false;
    config.port = port;
    mu__ws_t *ws = mu__ws_new(&config);
    if (!ws)
        printf("# connect: %s\n", mu_last_error());
    return ws;
}

/*  A server and a client connected to it: *server_id is the client's id
    on the server, *client_id the connection's id on the client. */
static bool
pair_up(mu__ws_t *server, mu__ws_t *client, uint64_t *server_id, uint64_t *client_id)
{
    *client_id = expect(client, MU__WS_OPEN, NULL);
    *server_id = expect(server, MU__WS_OPEN, NULL);
    return *client_id && *server_id;
}

static void
test_text_round_trip(void)
{
    mu__ws_t *server = listen_ws((mu__ws_config_t) { 0 });
    MU_CHECK(server);
    MU_CHECK(mu__ws_port(server) > 0);
    mu__ws_t *client = connect_ws((mu__ws_config_t) { 0 }, mu__ws_port(server));
    MU_CHECK(client);
    uint64_t sid, cid;
    MU_CHECK(pair_up(server, client, &sid, &cid));
    MU_CHECK_EQ(mu__ws_clients(server), 1);

    MU_CHECK_EQ(mu__ws_send(client, cid, "hello", 5, false), 0);
    mu__ws_event_t ev;
    MU_CHECK_EQ(expect(server, MU__WS_TEXT, &ev), sid);
    MU_CHECK_EQ(ev.size, 5);
    MU_CHECK(memcmp(ev.data, "hello", 6) == 0); /* NUL-terminated */

    const unsigned char bin[] = { 0, 1, 2, 255 };
    MU_CHECK_EQ(mu__ws_send(server, sid, bin, sizeof bin, true), 0);
    MU_CHECK_EQ(expect(client, MU__WS_BINARY, &ev), cid);
    MU_CHECK_EQ(ev.size, sizeof bin);
    MU_CHECK(memcmp(ev.data, bin, sizeof bin) == 0);

    mu__ws_destroy(&client);
    MU_CHECK(!client);
    MU_CHECK_EQ(expect(server, MU__WS_CLOSED, NULL), sid);
    mu__ws_stats_t st = { .size = sizeof st };
    MU_CHECK_EQ(mu__ws_stats(server, &st), 0);
    MU_CHECK_EQ(st.accepted, 1);
    MU_CHECK_EQ(st.clients, 0);
    MU_CHECK_EQ(st.messages_in, 1);
    MU_CHECK_EQ(st.messages_out, 1);
    MU_CHECK_EQ(st.bytes_out, sizeof bin);
    mu__ws_destroy(&server);
    mu__ws_destroy(&server); /* NULL accepted */
}

int
main(void)
{
    mu_test_start(300);
    zsys_handler_set(NULL);
    MU_RUN(test_text_round_trip);
    MU_DONE();
}
