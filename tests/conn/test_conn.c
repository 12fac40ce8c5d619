/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  test_conn.c — mu_server / mu_client: argument errors, binding and the
    stats size, caller bugs, requests over tcp and ipc, concurrent replies
    out of order, timeouts and late replies, error replies and drops, the
    client's queue limit, pushes with joins and leaves, streams. Dead,
    frozen and restarted peers, malformed input, back-pressure and EINTR
    are in test_conn_peers.c, CURVE in test_conn_curve.c. Some cases run
    the server on a thread of its own (the echo server); others drive
    server and client from one thread, which works because all the work
    happens inside their calls. */
#include "conn_cases.h"

/* ------------------------------------------------------------------ */
/* Cases                                                               */

static void
test_einval_server(void)
{
    mu_server_t *server = mu_server_new();
    MU_CHECK(server);
    MU_CHECK_EQ(mu_server_bind(server, "tcp://127.0.0.1:*"), MU_EINVAL); /* no security */
    mu_event_t *event = NULL;
    MU_CHECK_EQ(mu_server_recv(server, &event, 0), MU_EINVAL); /* not bound */
    MU_CHECK_EQ(mu_server_set_heartbeat(server, 5, 100), MU_EINVAL);
    MU_CHECK_EQ(mu_server_set_heartbeat(server, 100, 50), MU_EINVAL);
    MU_CHECK_EQ(mu_server_set_heartbeat(server, 100, 7000000), MU_EINVAL);
    MU_CHECK_EQ(mu_server_set_max_message(server, 0), MU_EINVAL);
    MU_CHECK_EQ(mu_server_set_secret(server, "short", 5), MU_EINVAL);
    mu_keys_t *keys = mu_keys_new();
    MU_CHECK(keys);
    mu_keys_t *public_only = mu_keys_new_from(mu_keys_public(keys), NULL);
    mu_allow_t *allow = mu_allow_new();
    MU_CHECK(public_only && allow);
    MU_CHECK_EQ(mu_server_set_curve(server, public_only, allow), MU_EINVAL);
    MU_CHECK_EQ(mu_server_set_root(server, "/nonexistent/mu"), MU_ENOENT);
    MU_CHECK_EQ(mu_server_set_root(server, "/etc/passwd"), MU_ENOTDIR);
    MU_CHECK_EQ(mu_server_set_insecure(server), 0);
    MU_CHECK_EQ(mu_server_bind(server, "bogus://x"), MU_EINVAL);
    MU_CHECK(mu_server_bind(server, "tcp://127.0.0.1:*") > 0);
    MU_CHECK(mu_server_endpoint(server, 0) != NULL);
    MU_CHECK(strncmp(mu_server_endpoint(server, 0), "tcp://127.0.0.1:", 16) == 0);
    MU_CHECK(mu_server_endpoint(server, 1) == NULL);
    MU_CHECK_EQ(mu_server_bind(server, mu_server_endpoint(server, 0)), MU_EADDRINUSE);
    MU_CHECK(strstr(mu_last_error(), mu_server_endpoint(server, 0)) != NULL);
    MU_CHECK_EQ(mu_server_set_insecure(server), MU_EINVAL); /* after bind */
    MU_CHECK_EQ(mu_server_set_curve(server, keys, allow), MU_EINVAL);
    MU_CHECK_EQ(mu_server_set_secret(server, "long enough secret", 18), MU_EINVAL);
    MU_CHECK_EQ(mu_server_set_heartbeat(server, 100, 1000), MU_EINVAL);
    MU_CHECK_EQ(mu_server_set_max_message(server, 1000), MU_EINVAL);
    MU_CHECK_EQ(mu_server_recv(server, &event, 0), MU_EAGAIN);
    MU_CHECK_EQ(mu_server_push(server, 12345, "x", 1), MU_EHOSTUNREACH);
    MU_CHECK_EQ(mu_server_stream_send(server, 12345, 1, "x", 1, 0), MU_EHOSTUNREACH);
    uint8_t key[MU_KEY_BYTES];
    MU_CHECK_EQ(mu_server_peer_key(server, 12345, key), MU_EHOSTUNREACH);
    mu_server_peer_stats_t stats = { .size = sizeof stats };
    MU_CHECK_EQ(mu_server_peer_stats(server, 12345, &stats), MU_EHOSTUNREACH);
    mu_server_stats_t small = { .size = sizeof(size_t) };
    MU_CHECK_EQ(mu_server_stats(server, &small), MU_EINVAL); /* size too small */
    MU_CHECK_EQ(mu_server_push_all(server, "x", 1), 0);
    MU_CHECK(mu_server_fd(server) >= 0);
    MU_CHECK(mu_server_zsock(server) != NULL);
    mu_keys_destroy(&keys);
    mu_keys_destroy(&public_only);
    mu_allow_destroy(&allow);
    mu_server_destroy(&server);
    mu_server_destroy(&server);
    MU_CHECK(server == NULL);
}

static void
test_einval_client(void)
{
    mu_client_t *client = mu_client_new();
    MU_CHECK(client);
    MU_CHECK_EQ(mu_client_connect(client, "tcp://127.0.0.1:5555"), MU_EINVAL); /* no security */
    MU_CHECK_EQ(mu_client_set_heartbeat(client, 5, 100), MU_EINVAL);
    MU_CHECK_EQ(mu_client_set_heartbeat(client, 100, 50), MU_EINVAL);
    MU_CHECK_EQ(mu_client_set_heartbeat(client, 100, 7000000), MU_EINVAL);
    MU_CHECK_EQ(mu_client_set_reconnect(client, 0, 100), MU_EINVAL);
    MU_CHECK_EQ(mu_client_set_reconnect(client, 200, 100), MU_EINVAL);
    char long_name[300];
    memset(long_name, 'n', sizeof long_name - 1);
    long_name[sizeof long_name - 1] = 0;
    MU_CHECK_EQ(mu_client_set_name(client, long_name), MU_EINVAL);
    MU_CHECK_EQ(mu_client_set_secret(client, "short", 5), MU_EINVAL);
    void *reply = NULL;
    MU_CHECK_EQ(mu_client_request(client, "x", 1, &reply, NULL, 10), MU_EINVAL); /* unconnected */
    MU_CHECK_EQ(mu_client_wait_ready(client, 10), MU_EINVAL);
    MU_CHECK_EQ(mu_client_send(client, "x", 1, 10), MU_EINVAL);
    MU_CHECK_EQ(mu_client_stream_send(client, 1, "x", 1, 0, 10), MU_EINVAL);
    MU_CHECK_EQ(mu_client_recv(client, NULL, NULL, NULL, &reply, NULL, 10), MU_EINVAL);
    mu_keys_t *public_only = mu_keys_new_public_txt("rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7");
    MU_CHECK(public_only);
    MU_CHECK_EQ(mu_client_set_curve(client, mu_keys_public(public_only), public_only), MU_EINVAL);
    mu_keys_destroy(&public_only);
    MU_CHECK_EQ(mu_client_set_insecure(client), 0);
    MU_CHECK_EQ(mu_client_connect(client, "bogus://x"), MU_EINVAL);
    char silent[64]; /* a server that never answers: calls time out */
    int silent_fd = mu_test_tcp_port(silent, sizeof silent, 1);
    MU_CHECK(silent_fd >= 0);
    MU_CHECK_EQ(mu_client_connect(client, silent), 0);
    MU_CHECK_EQ(mu_client_connect(client, silent), MU_EINVAL); /* twice */
    MU_CHECK_EQ(mu_client_set_insecure(client), MU_EINVAL);    /* after */
    MU_CHECK_EQ(mu_client_set_name(client, "late"), MU_EINVAL);
    MU_CHECK_EQ(mu_client_set_heartbeat(client, 100, 1000), MU_EINVAL);
    MU_CHECK_EQ(mu_client_set_reconnect(client, 100, 1000), MU_EINVAL);
    MU_CHECK_EQ(mu_client_wait_ready(client, 50), MU_ETIMEDOUT);
    MU_CHECK_EQ(mu_client_request(client, "x", 1, &reply, NULL, 50), MU_ETIMEDOUT);
    MU_CHECK_EQ(mu_client_recv(client, NULL, NULL, NULL, &reply, NULL, 20), MU_ETIMEDOUT);
    MU_CHECK(mu_client_fd(client) >= 0);
    MU_CHECK(mu_client_zsock(client) != NULL);
    mu_client_stats_t stats = { .size = sizeof stats };
    MU_CHECK_EQ(mu_client_stats(client, &stats), 0);
    MU_CHECK_EQ(stats.timeouts, 1);
    MU_CHECK_EQ(stats.requests, 1);
    mu_client_destroy(&client);
    mu_client_destroy(&client);
    MU_CHECK(client == NULL);
    close(silent_fd);
}

static void
reqrep_on(const char *endpoint)
{
    mu_server_t *server = insecure_server(endpoint);
    MU_CHECK(server);
    const char *bound = mu_server_endpoint(server, 0);
    echo_t echo;
    echo_start(&echo, server);
    mu_client_t *client = insecure_client(bound, "bob");
    MU_CHECK(client);
    MU_CHECK_EQ(mu_client_wait_ready(client, 3000), 0);
    for (int i = 0; i < 50; i++) {
        char text[32], *reply = NULL;
        snprintf(text, sizeof text, "hello %d", i);
        MU_CHECK_EQ(request_str(client, text, 3000, &reply), 0);
        MU_CHECK(strcmp(reply, text) == 0);
        free(reply);
    }
    void *reply = NULL;
    size_t size = 99;
    MU_CHECK_EQ(mu_client_request(client, NULL, 0, &reply, &size, 3000), 0); /* empty */
    MU_CHECK_EQ(size, 0);
    MU_CHECK(reply && ((char *) reply)[0] == 0);
    free(reply);
    mu_client_stats_t cstats = { .size = sizeof cstats };
    MU_CHECK_EQ(mu_client_stats(client, &cstats), 0);
    MU_CHECK_EQ(cstats.requests, 51);
    MU_CHECK_EQ(cstats.replies, 51);
    MU_CHECK(cstats.msgs_out >= 52 && cstats.msgs_in >= 52);
    mu_client_destroy(&client);
    MU_CHECK(echo_wait_leaves(&echo, 1, 5000));
    echo_stop(&echo);
    MU_CHECK_EQ(echo.joins, 1);
    MU_CHECK_EQ(echo.leaves, 1);
    MU_CHECK(strcmp(echo.join_name, "bob") == 0);
    mu_server_stats_t stats = { .size = sizeof stats };
    MU_CHECK_EQ(mu_server_stats(server, &stats), 0);
    MU_CHECK_EQ(stats.peers_joined, 1);
    MU_CHECK_EQ(stats.peers_left, 1);
    MU_CHECK(stats.msgs_in >= 53); /* hello + 51 requests + bye */
    MU_CHECK(stats.msgs_out >= 52);
    MU_CHECK_EQ(stats.protocol_errors, 0);
    mu_server_destroy(&server);
}

static void
test_reqrep_tcp(void)
{
    reqrep_on("tcp://127.0.0.1:*");
}

static void
test_reqrep_ipc(void)
{
    char ep[256];
    reqrep_on(ipc_endpoint(ep, sizeof ep));
}

/* Many clients on threads; the server (this thread) collects every request
   and answers them in reverse order. */
#define CONCURRENT 8

typedef struct {
    const char *endpoint;
    int index;
    int rc;
    bool matched;
} worker_t;

static void *
worker_main(void *arg)
{
    worker_t *w = arg;
    mu_client_t *client = insecure_client(w->endpoint, NULL);
    char text[32], *reply = NULL;
    snprintf(text, sizeof text, "req-%d", w->index);
    w->rc = client ? request_str(client, text, 5000, &reply) : MU_ENOMEM;
    if (w->rc == 0) {
        char want[40];
        snprintf(want, sizeof want, "rep-req-%d", w->index);
        w->matched = strcmp(reply, want) == 0;
        free(reply);
    }
    mu_client_destroy(&client);
    return NULL;
}

static void
test_concurrent_out_of_order(void)
{
    mu_server_t *server = insecure_server("tcp://127.0.0.1:*");
    MU_CHECK(server);
    worker_t workers[CONCURRENT];
    pthread_t threads[CONCURRENT];
    for (int i = 0; i < CONCURRENT; i++) {
        workers[i] = (worker_t) { mu_server_endpoint(server, 0), i, -1, false };
        pthread_create(&threads[i], NULL, worker_main, &workers[i]);
    }
    mu_event_t *requests[CONCURRENT];
    int got = 0;
    while (got < CONCURRENT) {
        mu_event_t *event = expect_event(server, MU_SERVER_REQUEST, 5000);
        if (!event)
            break;
        requests[got++] = event;
    }
    for (int i = got - 1; i >= 0; i--) {
        char text[48];
        snprintf(text, sizeof text, "rep-%s", (const char *) mu_event_data(requests[i], NULL));
        if (mu_server_reply(server, requests[i], text, strlen(text)) != 0)
            printf("# reply %d failed\n", i);
        MU_CHECK_EQ(mu_server_reply(server, requests[i], "x", 1), MU_EINVAL); /* twice */
        mu_event_destroy(&requests[i]);
    }
    for (int i = 0; i < CONCURRENT; i++)
        pthread_join(threads[i], NULL);
    MU_CHECK_EQ(got, CONCURRENT);
    for (int i = 0; i < CONCURRENT; i++) {
        MU_CHECK_EQ(workers[i].rc, 0);
        MU_CHECK(workers[i].matched);
    }
    mu_server_destroy(&server);
}

/*  A server on a free TCP port answered by an echo thread, and a client
    connected to it: what most request tests start from. */
typedef struct {
    mu_server_t *server;
    echo_t echo;
    mu_client_t *client;
} echo_fixture_t;

/*  Starts the server, its echo thread and the client. Returns false (the
    case is failed by the caller's check) when the server or the client
    could not be made; what was made is left for echo_fixture_stop. */
static bool
echo_fixture_start(echo_fixture_t *fx)
{
    fx->client = NULL;
    fx->server = insecure_server("tcp://127.0.0.1:*");
    if (fx->server == NULL)
        return false;
    echo_start(&fx->echo, fx->server);
    fx->client = insecure_client(mu_server_endpoint(fx->server, 0), NULL);
    return fx->client != NULL;
}

/*  Destroys the client, stops the echo thread and destroys the server. */
static void
echo_fixture_stop(echo_fixture_t *fx)
{
    mu_client_destroy(&fx->client);
    if (fx->server != NULL)
        echo_stop(&fx->echo);
    mu_server_destroy(&fx->server);
}

static void
test_timeout_and_late_reply(void)
{
    echo_fixture_t fx;
    MU_CHECK(echo_fixture_start(&fx));
    mu_client_t *client = fx.client;
    int64_t start = mu_test_now_ms();
    MU_CHECK_EQ(request_str(client, "slow", 100, NULL), MU_ETIMEDOUT);
    MU_CHECK(mu_test_now_ms() - start < mu_test_ms(1000));
    /* the echo thread answers in order: the late reply to "slow" comes
       before the answer to "after", so this request meets it */
    char *reply = NULL;
    MU_CHECK_EQ(request_str(client, "after", mu_test_ms(3000), &reply), 0);
    MU_CHECK(strcmp(reply, "after") == 0);
    free(reply);
    mu_client_stats_t stats = { .size = sizeof stats };
    MU_CHECK_EQ(mu_client_stats(client, &stats), 0);
    MU_CHECK_EQ(stats.timeouts, 1);
    MU_CHECK_EQ(stats.late_replies, 1);
    MU_CHECK_EQ(stats.replies, 1);
    echo_fixture_stop(&fx);
}

static void
test_reply_error_and_drop(void)
{
    echo_fixture_t fx;
    MU_CHECK(echo_fixture_start(&fx));
    mu_client_t *client = fx.client;
    MU_CHECK_EQ(request_str(client, "err", 3000, NULL), MU_ENOENT);
    MU_CHECK(strstr(mu_last_error(), ": server: nothing here") != NULL);
    MU_CHECK_EQ(request_str(client, "bogus", 3000, NULL), MU_EREMOTE);
    MU_CHECK(strstr(mu_last_error(), ": server: strange") != NULL);
    int64_t start = mu_test_now_ms();
    MU_CHECK_EQ(request_str(client, "drop", 5000, NULL), MU_EREMOTE);
    MU_CHECK(mu_test_now_ms() - start < 2000);
    MU_CHECK(strstr(mu_last_error(), "server: request dropped") != NULL);
    MU_CHECK_EQ(request_str(client, "fine", 3000, NULL), 0);
    echo_fixture_stop(&fx);
}

/* Pushes that arrive while a request waits are queued, up to 100,000; the
   oldest beyond that are dropped and counted. */
static void
test_client_queue_limit(void)
{
    echo_fixture_t fx;
    MU_CHECK(echo_fixture_start(&fx));
    mu_client_t *client = fx.client;
    char *reply = NULL;
    int rc = request_str(client, "flood", 40000, &reply);
    MU_CHECK_EQ(rc, 0);
    MU_CHECK(strcmp(reply, "flooded") == 0);
    free(reply);
    mu_client_stats_t stats = { .size = sizeof stats };
    MU_CHECK_EQ(mu_client_stats(client, &stats), 0);
    MU_CHECK_EQ(stats.dropped_events, FLOOD - 100000);
    void *data;
    MU_CHECK_EQ(mu_client_recv(client, NULL, NULL, NULL, &data, NULL, 1000), 0);
    MU_CHECK(strcmp(data, "5") == 0); /* 0..4 were dropped */
    free(data);
    echo_fixture_stop(&fx);
}

/* Server and clients driven from this one thread. */
static void
test_push_and_join_leave(void)
{
    mu_server_t *server = insecure_server("tcp://127.0.0.1:*");
    MU_CHECK(server);
    const char *ep = mu_server_endpoint(server, 0);
    mu_client_t *a = insecure_client(ep, "alice");
    mu_client_t *b = insecure_client(ep, "bert");
    MU_CHECK(a && b);
    uint64_t peer_a = 0, peer_b = 0;
    for (int i = 0; i < 2; i++) {
        mu_event_t *join = expect_event(server, MU_SERVER_JOIN, 3000);
        MU_CHECK(join);
        const char *name = mu_event_data(join, NULL);
        MU_CHECK(strcmp(name, "alice") == 0 || strcmp(name, "bert") == 0);
        *(strcmp(name, "alice") == 0 ? &peer_a : &peer_b) = mu_event_peer(join);
        uint8_t key[MU_KEY_BYTES], zero[MU_KEY_BYTES] = { 0 };
        MU_CHECK_EQ(mu_server_peer_key(server, mu_event_peer(join), key), 0);
        MU_CHECK(memcmp(key, zero, sizeof key) == 0);
        mu_event_destroy(&join);
    }
    MU_CHECK(peer_a && peer_b && peer_a != peer_b);
    MU_CHECK_EQ(mu_server_peers(server), 2);
    MU_CHECK_EQ(mu_client_wait_ready(a, 2000), 0);
    MU_CHECK_EQ(mu_client_wait_ready(b, 2000), 0);
    MU_CHECK_EQ(mu_server_push_all(server, "all", 3), 2);
    MU_CHECK_EQ(mu_server_push(server, peer_a, "only a", 6), 0);
    MU_CHECK_EQ(mu_server_push(server, 999999, "none", 4), MU_EHOSTUNREACH);
    mu_client_kind_t kind;
    uint64_t id = 7;
    void *data;
    size_t size;
    MU_CHECK_EQ(mu_client_recv(a, &kind, &id, NULL, &data, &size, 2000), 0);
    MU_CHECK(kind == MU_CLIENT_PUSH && id == 0 && size == 3 && strcmp(data, "all") == 0);
    free(data);
    MU_CHECK_EQ(mu_client_recv(a, &kind, NULL, NULL, &data, &size, 2000), 0);
    MU_CHECK(strcmp(data, "only a") == 0);
    free(data);
    MU_CHECK_EQ(mu_client_recv(b, &kind, NULL, NULL, &data, &size, 2000), 0);
    MU_CHECK(strcmp(data, "all") == 0);
    free(data);
    MU_CHECK_EQ(mu_client_recv(b, &kind, NULL, NULL, &data, &size, 100), MU_ETIMEDOUT);
    /* one-way message */
    MU_CHECK_EQ(mu_client_send(a, "note", 4, 1000), 0);
    mu_event_t *msg = expect_event(server, MU_SERVER_MESSAGE, 2000);
    MU_CHECK(msg);
    MU_CHECK(mu_event_peer(msg) == peer_a && strcmp(mu_event_data(msg, NULL), "note") == 0);
    MU_CHECK_EQ(mu_server_reply(server, msg, "x", 1), MU_EINVAL); /* not a request */
    mu_event_destroy(&msg);
    /* bye -> leave with the name */
    mu_client_destroy(&a);
    mu_event_t *leave = expect_event(server, MU_SERVER_LEAVE, 2000);
    MU_CHECK(leave);
    MU_CHECK_EQ(mu_event_peer(leave), peer_a);
    MU_CHECK(strcmp(mu_event_data(leave, NULL), "alice") == 0);
    mu_event_destroy(&leave);
    MU_CHECK_EQ(mu_server_peers(server), 1);
    uint8_t key[MU_KEY_BYTES];
    MU_CHECK_EQ(mu_server_peer_key(server, peer_a, key), MU_EHOSTUNREACH);
    MU_CHECK_EQ(mu_server_push(server, peer_a, "gone", 4), MU_EHOSTUNREACH);
    mu_server_peer_stats_t peer_stats = { .size = sizeof peer_stats };
    MU_CHECK_EQ(mu_server_peer_stats(server, peer_b, &peer_stats), 0);
    MU_CHECK_EQ(peer_stats.msgs_out, 2); /* welcome + push */
    mu_server_stats_t stats = { .size = sizeof stats };
    MU_CHECK_EQ(mu_server_stats(server, &stats), 0);
    MU_CHECK_EQ(stats.peers_joined, 2);
    MU_CHECK_EQ(stats.peers_left, 1);
    mu_client_destroy(&b);
    mu_server_destroy(&server);
}

static void
test_streams(void)
{
    char ep[256];
    mu_server_t *server = insecure_server(ipc_endpoint(ep, sizeof ep));
    MU_CHECK(server);
    mu_client_t *client = insecure_client(ep, NULL);
    MU_CHECK(client);
    mu_event_t *join = expect_event(server, MU_SERVER_JOIN, 3000);
    MU_CHECK(join);
    uint64_t peer = mu_event_peer(join);
    mu_event_destroy(&join);
    enum { CHUNKS = 200 };
    char chunk[64];
    for (int i = 0; i < CHUNKS; i++) {
        snprintf(chunk, sizeof chunk, "up %d", i);
        int last = i == CHUNKS - 1;
        MU_CHECK_EQ(mu_client_stream_send(client, 7, chunk, strlen(chunk), last, 1000), 0);
    }
    for (int i = 0; i < CHUNKS; i++) {
        mu_event_t *event = expect_event(server, MU_SERVER_STREAM, 3000);
        MU_CHECK(event);
        snprintf(chunk, sizeof chunk, "up %d", i);
        MU_CHECK(strcmp(mu_event_data(event, NULL), chunk) == 0);
        MU_CHECK_EQ(mu_event_id(event), 7);
        MU_CHECK_EQ(mu_event_last(event), i == CHUNKS - 1);
        mu_event_destroy(&event);
    }
    for (int i = 0; i < CHUNKS; i++) {
        snprintf(chunk, sizeof chunk, "down %d", i);
        MU_CHECK_EQ(mu_server_stream_send(server, peer, 9, chunk, strlen(chunk), 0), 0);
    }
    MU_CHECK_EQ(mu_server_stream_send(server, peer, 9, NULL, 0, 1), 0);
    for (int i = 0; i <= CHUNKS; i++) {
        mu_client_kind_t kind;
        uint64_t id;
        int last;
        void *data;
        size_t size;
        MU_CHECK_EQ(mu_client_recv(client, &kind, &id, &last, &data, &size, 3000), 0);
        MU_CHECK(kind == MU_CLIENT_STREAM && id == 9);
        MU_CHECK_EQ(last, i == CHUNKS);
        snprintf(chunk, sizeof chunk, "down %d", i);
        MU_CHECK(i == CHUNKS ? size == 0 : strcmp(data, chunk) == 0);
        free(data);
    }
    mu_client_destroy(&client);
    mu_server_destroy(&server);
}

/* mu_server_bind returns the bound TCP port (the one the system chose for
   *), 0 for ipc://, MU_EADDRINUSE with a detail for a taken address; stats
   structs are filled up to the size the caller set. */
static void
test_bind_port_and_stats_size(void)
{
    mu_server_t *server = mu_server_new();
    MU_CHECK(server);
    MU_CHECK_EQ(mu_server_set_insecure(server), 0);
    int port = mu_server_bind(server, "tcp://127.0.0.1:*");
    MU_CHECK(port > 0 && port <= 65535);
    char expected[64];
    snprintf(expected, sizeof expected, "tcp://127.0.0.1:%d", port);
    MU_CHECK(strcmp(mu_server_endpoint(server, 0), expected) == 0);
    char ipc[300];
    MU_CHECK_EQ(mu_server_bind(server, ipc_endpoint(ipc, sizeof ipc)), 0);
    MU_CHECK_EQ(mu_server_bind(server, expected), MU_EADDRINUSE);
    MU_CHECK_EQ(mu_last_code(), MU_EADDRINUSE);
    MU_CHECK(strstr(mu_last_error(), expected) != NULL);

    mu_server_stats_t st;
    memset(&st, 0xff, sizeof st);
    st.size = sizeof st;
    MU_CHECK_EQ(mu_server_stats(server, &st), 0);
    MU_CHECK_EQ(st.size, sizeof st);
    MU_CHECK_EQ(st.peers_joined, 0);
    MU_CHECK_EQ(st.files_received, 0);
    st.size = sizeof st - 1; /* smaller than the first version */
    MU_CHECK_EQ(mu_server_stats(server, &st), MU_EINVAL);
    /* a caller built against a bigger (later) struct gets what exists */
    struct {
        mu_server_stats_t known;
        uint64_t later;
    } big;
    memset(&big, 0xff, sizeof big);
    big.known.size = sizeof big;
    MU_CHECK_EQ(mu_server_stats(server, &big.known), 0);
    MU_CHECK_EQ(big.known.msgs_in, 0);
    MU_CHECK_EQ(big.later, UINT64_MAX); /* untouched */
    mu_server_destroy(&server);

    mu_client_t *client = mu_client_new();
    MU_CHECK(client);
    mu_client_stats_t cst = { .size = sizeof cst };
    MU_CHECK_EQ(mu_client_stats(client, &cst), 0);
    MU_CHECK_EQ(cst.requests, 0);
    cst.size = 0;
    MU_CHECK_EQ(mu_client_stats(client, &cst), MU_EINVAL);
    mu_client_destroy(&client);
}

/* A caller bug (NULL where a pointer is required) is an assert: the
   process aborts. */
static void
test_caller_bug_aborts(void)
{
#ifdef NDEBUG
    printf("# skipped: built with NDEBUG\n");
#else
    pid_t pid = fork();
    MU_CHECK(pid >= 0);
    if (pid == 0) {
        mu_server_t *server = mu_server_new();
        signal(SIGABRT, SIG_DFL);
        int rc = server ? mu_server_reply(server, NULL, "x", 1) : 0;
        _exit(rc == 0 ? 0 : 1);
    }
    int status;
    MU_CHECK(waitpid(pid, &status, 0) == pid);
    MU_CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT);
#endif
}

int
main(int argc, char **argv)
{
    int rc = conn_suite_begin(argc, argv);
    if (rc >= 0)
        return rc;
    MU_RUN(test_einval_server);
    MU_RUN(test_einval_client);
    MU_RUN(test_bind_port_and_stats_size);
    MU_RUN(test_caller_bug_aborts);
    MU_RUN(test_reqrep_tcp);
    MU_RUN(test_reqrep_ipc);
    MU_RUN(test_concurrent_out_of_order);
    MU_RUN(test_timeout_and_late_reply);
    MU_RUN(test_reply_error_and_drop);
    MU_RUN(test_client_queue_limit);
    MU_RUN(test_push_and_join_leave);
    MU_RUN(test_streams);
    conn_suite_end();
    MU_DONE();
}
