/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  ws_cases.h — what the test_ws and test_ws_flow programs share: waiting
    for events of the private WebSocket endpoint (src/net/mu_ws.h) on
    mu__ws_fd (poll) with a bound scaled by MU_TEST_SCALE, its statistics,
    a listening and a connecting endpoint over 127.0.0.1 paired up, and
    running one case alone (MU_WS_ONLY=name, for debugging). */
#ifndef WS_CASES_H_INCLUDED
#define WS_CASES_H_INCLUDED

#include "mu_test.h"
#include "net/mu_ws.h"
#include <czmq.h>
#include <fcntl.h>

/*  Waits for an event of kind; returns its client id, 0 on timeout or
    another kind (printed). */
uint64_t expect(mu__ws_t *ws, mu__ws_kind_t kind, mu__ws_event_t *ev);

mu__ws_stats_t stats_of(const mu__ws_t *ws);

mu__ws_t *listen_ws(mu__ws_config_t config);

mu__ws_t *connect_ws(mu__ws_config_t config, int port);

/*  A server and a client connected to it: *server_id is the client's id
    on the server, *client_id the connection's id on the client. */
bool pair_up(mu__ws_t *server, mu__ws_t *client, uint64_t *server_id, uint64_t *client_id);

bool same_back(mu__ws_t *from, uint64_t from_id, mu__ws_t *to, uint64_t to_id, size_t size,
               bool binary);

/*  MU_WS_ONLY=name runs that case alone (debugging). */
#define RUN(fn)                                   \
    do {                                          \
        const char *only_ = getenv("MU_WS_ONLY"); \
        if (!only_ || strcmp(only_, #fn) == 0)    \
            MU_RUN(fn);                           \
    } while (0)

#endif
