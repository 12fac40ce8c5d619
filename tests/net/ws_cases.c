/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  ws_cases.c — see ws_cases.h. */
#include "ws_cases.h"

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

uint64_t
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

mu__ws_stats_t
stats_of(const mu__ws_t *ws)
{
    mu__ws_stats_t st = { .size = sizeof st };
    if (mu__ws_stats(ws, &st) != 0)
        printf("# mu__ws_stats failed\n");
    return st;
}

mu__ws_t *
listen_ws(mu__ws_config_t config)
{
    config.listen = true;
    mu__ws_t *ws = mu__ws_new(&config);
    if (!ws)
        printf("# listen: %s\n", mu_last_error());
    return ws;
}

mu__ws_t *
connect_ws(mu__ws_config_t config, int port)
{
    config.listen = false;
    config.port = port;
    mu__ws_t *ws = mu__ws_new(&config);
    if (!ws)
        printf("# connect: %s\n", mu_last_error());
    return ws;
}

bool
pair_up(mu__ws_t *server, mu__ws_t *client, uint64_t *server_id, uint64_t *client_id)
{
    *client_id = expect(client, MU__WS_OPEN, NULL);
    *server_id = expect(server, MU__WS_OPEN, NULL);
    return *client_id && *server_id;
}

bool
same_back(mu__ws_t *from, uint64_t from_id, mu__ws_t *to, uint64_t to_id, size_t size, bool binary)
{
    unsigned char *data = malloc(size + 1);
    for (size_t i = 0; i < size; i++)
        data[i] = binary ? (unsigned char) (i * 7 + (i >> 8)) : (unsigned char) ('a' + i % 26);
    bool ok = mu__ws_send(from, from_id, data, size, binary) == 0;
    mu__ws_event_t ev;
    ok = ok && expect(to, binary ? MU__WS_BINARY : MU__WS_TEXT, &ev) == to_id;
    ok = ok && ev.size == size && memcmp(ev.data, data, size) == 0;
    if (!ok)
        printf("# message of %zu bytes (%s) not received intact\n", size,
               binary ? "binary" : "text");
    free(data);
    return ok;
}
