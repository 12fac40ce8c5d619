/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  test_conn.c — mu_server / mu_client: requests, pushes, streams, peers,
    heartbeats, restarts, malformed input and CURVE security.

    Some cases run the server on a thread of its own (the echo server);
    others drive server and client from one thread, which works because all
    the work happens inside their calls. Child processes are started with
    fork + exec of this program (modes --serve and --idle-client), so they
    never inherit the parent's ZeroMQ state. */
#include "mu_test.h"
#include "mutil.h"
#include <assert.h>
#include <czmq.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>

#define HB_IVL 100
#define HB_TIMEOUT 500
#define FLOOD 100005 /* client queue limit + 5 */

static char tmpdir[64];
static int endpoint_seq;
static const char *self_exe;

static const char *
ipc_endpoint(char *buf, size_t cap)
{
    snprintf(buf, cap, "ipc://%s/ep%d", tmpdir, endpoint_seq++);
    return buf;
}

/* ------------------------------------------------------------------ */
/* Helpers                                                             */

static mu_server_t *
insecure_server(const char *endpoint)
{
    mu_server_t *server = mu_server_new();
    if (!server)
        return NULL;
    if (mu_server_set_insecure(server) != 0
        || mu_server_set_heartbeat(server, HB_IVL, HB_TIMEOUT) != 0
        || mu_server_bind(server, endpoint) < 0)
        mu_server_destroy(&server);
    return server;
}

static mu_client_t *
insecure_client(const char *endpoint, const char *name)
{
    mu_client_t *client = mu_client_new();
    if (!client)
        return NULL;
    if (mu_client_set_insecure(client) != 0
        || mu_client_set_heartbeat(client, HB_IVL, HB_TIMEOUT) != 0
        || mu_client_set_reconnect(client, 20, 200) != 0
        || (name && mu_client_set_name(client, name) != 0)
        || mu_client_connect(client, endpoint) != 0)
        mu_client_destroy(&client);
    return client;
}

/* Waits up to timeout_ms (scaled) for the next event of kind (others are
   destroyed). */
static mu_event_t *
expect_event(mu_server_t *server, mu_event_kind_t kind, int timeout_ms)
{
    int64_t deadline = mu_test_now_ms() + mu_test_ms(timeout_ms);
    while (mu_test_now_ms() < deadline) {
        mu_event_t *event = NULL;
        if (mu_server_recv(server, &event, (int) (deadline - mu_test_now_ms())) != 0)
            continue;
        if (mu_event_kind(event) == kind)
            return event;
        mu_event_destroy(&event);
    }
    return NULL;
}

/* The echo server, on its own thread: answers requests with their data,
   except "err:" (an error), "drop" (destroyed unanswered), "slow" (answered
   after 300 ms), "bogus" (an unknown error code). */
typedef struct {
    mu_server_t *server;
    pthread_t thread;
    atomic_int stop;
    atomic_int joins, leaves, requests; /* read by the test thread too */
    uint8_t join_key[MU_KEY_BYTES];
    char join_name[64];
} echo_t;

static void
echo_request(echo_t *echo, mu_event_t *event)
{
    size_t size;
    const char *data = mu_event_data(event, &size);
    int rc = 0;
    echo->requests++;
    if (strcmp(data, "err") == 0)
        rc = mu_server_reply_error(echo->server, event, MU_ENOENT, "nothing here");
    else if (strcmp(data, "bogus") == 0)
        rc = mu_server_reply_error(echo->server, event, -2000, "strange");
    else if (strcmp(data, "drop") == 0)
        rc = 0;
    else if (strcmp(data, "flood") == 0) { /* FLOOD pushes, then the reply */
        for (int i = 0; i < FLOOD && rc == 0; i++) {
            char text[16];
            snprintf(text, sizeof text, "%d", i);
            while ((rc = mu_server_push(echo->server, mu_event_peer(event), text, strlen(text)))
                   == MU_EAGAIN)
                usleep(100); /* polls until the client's pipe has room */
        }
        if (rc == 0)
            rc = mu_server_reply(echo->server, event, "flooded", 7);
    } else {
        if (strcmp(data, "slow") == 0)
            usleep(300 * 1000); /* the subject: later than a 100 ms timeout */
        rc = mu_server_reply(echo->server, event, data, size);
    }
    if (rc != 0)
        printf("# echo reply failed: %s\n", mu_errname(rc));
}

static void *
echo_main(void *arg)
{
    echo_t *echo = arg;
    while (!atomic_load(&echo->stop)) {
        mu_event_t *event = NULL;
        if (mu_server_recv(echo->server, &event, 50) != 0)
            continue;
        if (mu_event_kind(event) == MU_SERVER_JOIN) {
            echo->joins++;
            if (mu_server_peer_key(echo->server, mu_event_peer(event), echo->join_key) != 0)
                memset(echo->join_key, 0xff, sizeof echo->join_key);
            snprintf(echo->join_name, sizeof echo->join_name, "%s",
                     (const char *) mu_event_data(event, NULL));
        } else if (mu_event_kind(event) == MU_SERVER_LEAVE)
            echo->leaves++;
        else if (mu_event_kind(event) == MU_SERVER_REQUEST)
            echo_request(echo, event);
        mu_event_destroy(&event);
    }
    return NULL;
}

static void
echo_start(echo_t *echo, mu_server_t *server)
{
    memset(echo, 0, sizeof *echo);
    echo->server = server;
    pthread_create(&echo->thread, NULL, echo_main, echo);
}

static void
echo_stop(echo_t *echo)
{
    atomic_store(&echo->stop, 1);
    pthread_join(echo->thread, NULL);
}

/* Waits up to ms (scaled) until the echo thread has counted want leaves. */
static bool
echo_wait_leaves(echo_t *echo, int want, int ms)
{
    int64_t deadline = mu_test_now_ms() + mu_test_ms(ms);
    while (atomic_load(&echo->leaves) < want) {
        if (mu_test_now_ms() > deadline)
            return false;
        usleep(1000); /* a poll for the event, bounded above */
    }
    return true;
}

/* One request; returns its result and checks an echo. */
static int
request_str(mu_client_t *client, const char *text, int timeout_ms, char **reply_p)
{
    void *reply = NULL;
    size_t size = 0;
    int rc = mu_client_request(client, text, strlen(text), &reply, &size, timeout_ms);
    if (rc == 0 && reply_p)
        *reply_p = reply;
    else
        free(reply);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Child processes                                                     */

static pid_t
spawn(const char *mode, const char *endpoint)
{
    pid_t pid = fork();
    if (pid == 0) {
        execl(self_exe, self_exe, mode, endpoint, (char *) NULL);
        _exit(127);
    }
    return pid;
}

static void
kill_child(pid_t pid)
{
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
}

/* --serve ENDPOINT: an echo server until killed. */
static int
child_serve(const char *endpoint)
{
    zsys_handler_set(NULL);
    mu_server_t *server = insecure_server(endpoint);
    if (!server)
        return 1;
    echo_t echo;
    memset(&echo, 0, sizeof echo);
    echo.server = server;
    echo_main(&echo); /* never returns: stop is never set */
    return 0;
}

/* --idle-client ENDPOINT: connects, says hello, then idles until killed. */
static int
child_idle_client(const char *endpoint)
{
    zsys_handler_set(NULL);
    mu_client_t *client = insecure_client(endpoint, "doomed");
    if (!client || mu_client_wait_ready(client, 5000) != 0)
        return 1;
    for (;;)
        pause();
}

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

static void
test_sigkill_leave(void)
{
    mu_server_t *server = insecure_server("tcp://127.0.0.1:*");
    MU_CHECK(server);
    pid_t pid = spawn("--idle-client", mu_server_endpoint(server, 0));
    MU_CHECK(pid > 0);
    mu_event_t *join = expect_event(server, MU_SERVER_JOIN, 5000);
    if (!join)
        kill_child(pid);
    MU_CHECK(join);
    MU_CHECK(strcmp(mu_event_data(join, NULL), "doomed") == 0);
    uint64_t peer = mu_event_peer(join);
    mu_event_destroy(&join);
    /* the subject: idle for at least 3 heartbeat intervals (a lower bound;
       a slower machine only idles longer), yet heartbeats keep it joined */
    usleep(3 * HB_IVL * 1000);
    mu_event_t *event = NULL;
    MU_CHECK_EQ(mu_server_recv(server, &event, 0), MU_EAGAIN);
    MU_CHECK_EQ(mu_server_peers(server), 1);
    int64_t start = mu_test_now_ms();
    kill_child(pid);
    mu_event_t *leave = expect_event(server, MU_SERVER_LEAVE, 3000);
    MU_CHECK(leave);
    MU_CHECK(mu_test_now_ms() - start <= HB_TIMEOUT + mu_test_ms(1000));
    MU_CHECK_EQ(mu_event_peer(leave), peer);
    mu_event_destroy(&leave);
    MU_CHECK_EQ(mu_server_peers(server), 0);
    mu_server_destroy(&server);
}

/* A frozen client (SIGSTOP) keeps its TCP connection open but answers no
   ZeroMQ heartbeat: it leaves within the heartbeat timeout. */
static void
test_frozen_client_leaves(void)
{
    mu_server_t *server = insecure_server("tcp://127.0.0.1:*");
    MU_CHECK(server);
    pid_t pid = spawn("--idle-client", mu_server_endpoint(server, 0));
    MU_CHECK(pid > 0);
    mu_event_t *join = expect_event(server, MU_SERVER_JOIN, 5000);
    if (!join)
        kill_child(pid);
    MU_CHECK(join);
    uint64_t peer = mu_event_peer(join);
    mu_event_destroy(&join);
    int64_t start = mu_test_now_ms();
    kill(pid, SIGSTOP);
    mu_event_t *leave = expect_event(server, MU_SERVER_LEAVE, 3000);
    int64_t took = mu_test_now_ms() - start;
    kill_child(pid);
    MU_CHECK(leave);
    MU_CHECK_EQ(mu_event_peer(leave), peer);
    mu_event_destroy(&leave);
    printf("# frozen client left after %d ms (heartbeat timeout %d ms)\n", (int) took, HB_TIMEOUT);
    MU_CHECK(took >= HB_TIMEOUT - 2 * HB_IVL);
    MU_CHECK(took <= HB_TIMEOUT + mu_test_ms(1000)); /* scheduling slack, scaled */
    mu_server_destroy(&server);
}

static void
test_server_restart(void)
{
    char ep[256];
    ipc_endpoint(ep, sizeof ep);
    pid_t pid = spawn("--serve", ep);
    MU_CHECK(pid > 0);
    mu_client_t *client = insecure_client(ep, NULL);
    MU_CHECK(client);
    int rc = mu_client_wait_ready(client, 5000);
    if (rc == 0)
        rc = request_str(client, "one", 3000, NULL);
    kill_child(pid);
    MU_CHECK_EQ(rc, 0);
    pid = spawn("--serve", ep);
    MU_CHECK(pid > 0);
    rc = MU_ETIMEDOUT;
    for (int attempt = 0; attempt < 20 && rc != 0; attempt++)
        rc = request_str(client, "two", 500, NULL);
    int rc2 = request_str(client, "three", 3000, NULL);
    kill_child(pid);
    MU_CHECK_EQ(rc, 0);
    MU_CHECK_EQ(rc2, 0);
    mu_client_stats_t stats = { .size = sizeof stats };
    MU_CHECK_EQ(mu_client_stats(client, &stats), 0);
    MU_CHECK(stats.reconnects >= 1);
    mu_client_destroy(&client);
}

#define WIRE 2 /* protocol version (src/conn/mu_conn.h) */

/* A raw DEALER that speaks the wire format by hand: one frame of header
   and payload; frames > 1 adds frames (malformed). */
static int
raw_send(zsock_t *raw, int version, int kind, uint64_t id, const char *payload, int frames)
{
    size_t len = payload ? strlen(payload) : 0;
    uint8_t frame[10 + 64];
    assert(len <= 64);
    frame[0] = (uint8_t) version;
    frame[1] = (uint8_t) kind;
    for (int i = 0; i < 8; i++)
        frame[2 + i] = (uint8_t) (id >> (8 * i));
    memcpy(frame + 10, payload ? payload : "", len);
    zmsg_t *msg = zmsg_new();
    zmsg_addmem(msg, frame, 10 + len);
    for (int i = 1; i < frames; i++)
        zmsg_addstr(msg, "extra");
    return zmsg_send(&msg, raw);
}

/* Receives one message; returns its kind, sets *id_p and the error code of
   an ERR payload. */
static int
raw_recv(zsock_t *raw, uint64_t *id_p, int *code_p)
{
    zsock_set_rcvtimeo(raw, 2000);
    zmsg_t *msg = zmsg_recv(raw);
    if (!msg)
        return -1;
    zframe_t *frame = zmsg_first(msg);
    int kind = -1;
    if (zmsg_size(msg) == 1 && zframe_size(frame) >= 10) {
        const uint8_t *bytes = zframe_data(frame);
        kind = bytes[1];
        *id_p = 0;
        for (int i = 9; i >= 2; i--)
            *id_p = (*id_p << 8) | bytes[i];
        if (code_p && zframe_size(frame) >= 14) {
            int32_t code;
            memcpy(&code, bytes + 10, 4);
            *code_p = code;
        }
    }
    zmsg_destroy(&msg);
    return kind;
}

static void
test_malformed(void)
{
    mu_server_t *server = insecure_server("tcp://127.0.0.1:*");
    MU_CHECK(server);
    zsock_t *raw = zsock_new_dealer(mu_server_endpoint(server, 0));
    MU_CHECK(raw);
    uint64_t id = 0;
    int code = 0;
    mu_event_t *event = NULL;
    /* before hello */
    MU_CHECK_EQ(raw_send(raw, WIRE, 0x04, 5, "early", 1), 0);
    MU_CHECK_EQ(mu_server_recv(server, &event, 200), MU_ETIMEDOUT);
    MU_CHECK_EQ(raw_recv(raw, &id, &code), 0x24);
    MU_CHECK_EQ(id, 5);
    MU_CHECK_EQ(code, MU_EPROTO);
    /* hello */
    MU_CHECK_EQ(raw_send(raw, WIRE, 0x01, 0, "raw", 1), 0);
    mu_event_t *join = expect_event(server, MU_SERVER_JOIN, 2000);
    MU_CHECK(join);
    uint64_t peer = mu_event_peer(join);
    mu_event_destroy(&join);
    MU_CHECK_EQ(raw_recv(raw, &id, NULL), 0x21); /* welcome */
    /* four kinds of bad messages */
    struct {
        int version, kind, frames;
        uint64_t id;
        const char *payload;
    } bad[] = {
        { WIRE, 0x04, 2, 11, "x" },  /* too many frames */
        { 1, 0x04, 1, 12, "x" },     /* wrong version (the old two-frame one) */
        { WIRE, 0x30, 1, 13, "x" },  /* unknown kind */
        { WIRE, 0x03, 1, 14, "x" },  /* ping with a payload */
        { WIRE, 0x21, 1, 15, NULL }, /* a server kind */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        MU_CHECK_EQ(
            raw_send(raw, bad[i].version, bad[i].kind, bad[i].id, bad[i].payload, bad[i].frames),
            0);
        MU_CHECK_EQ(mu_server_recv(server, &event, 100), MU_ETIMEDOUT);
        code = 0;
        MU_CHECK_EQ(raw_recv(raw, &id, &code), 0x24);
        MU_CHECK_EQ(id, bad[i].id);
        MU_CHECK_EQ(code, MU_EPROTO);
    }
    /* a short header: answered with id 0 */
    zstr_send(raw, "abc");
    MU_CHECK_EQ(mu_server_recv(server, &event, 100), MU_ETIMEDOUT);
    MU_CHECK_EQ(raw_recv(raw, &id, &code), 0x24);
    MU_CHECK_EQ(id, 0);
    mu_server_peer_stats_t peer_stats = { .size = sizeof peer_stats };
    MU_CHECK_EQ(mu_server_peer_stats(server, peer, &peer_stats), 0);
    MU_CHECK_EQ(peer_stats.protocol_errors, 6);
    mu_server_stats_t stats = { .size = sizeof stats };
    MU_CHECK_EQ(mu_server_stats(server, &stats), 0);
    MU_CHECK_EQ(stats.protocol_errors, 6);
    /* the same connection still works */
    MU_CHECK_EQ(raw_send(raw, WIRE, 0x04, 42, "valid", 1), 0);
    mu_event_t *request = expect_event(server, MU_SERVER_REQUEST, 2000);
    MU_CHECK(request);
    MU_CHECK_EQ(mu_event_id(request), 42);
    MU_CHECK(strcmp(mu_event_data(request, NULL), "valid") == 0);
    MU_CHECK_EQ(mu_server_reply(server, request, "ok", 2), 0);
    mu_event_destroy(&request);
    MU_CHECK_EQ(raw_recv(raw, &id, NULL), 0x23);
    MU_CHECK_EQ(id, 42);
    /* ping -> pong */
    MU_CHECK_EQ(raw_send(raw, WIRE, 0x03, 43, NULL, 1), 0);
    MU_CHECK_EQ(mu_server_recv(server, &event, 100), MU_ETIMEDOUT);
    MU_CHECK_EQ(raw_recv(raw, &id, NULL), 0x22);
    /* a file kind on a server without a root: MU_ENOTSUP, not a protocol error */
    MU_CHECK_EQ(raw_send(raw, WIRE, 0x40, 44, "x", 1), 0);
    MU_CHECK_EQ(mu_server_recv(server, &event, 100), MU_ETIMEDOUT);
    MU_CHECK_EQ(raw_recv(raw, &id, &code), 0x24);
    MU_CHECK_EQ(code, MU_ENOTSUP);
    zsock_destroy(&raw);
    mu_server_destroy(&server);
}

/* Pushes again while the push fails with MU_EAGAIN, for up to ms (scaled):
   a pipe that libzmq is still flushing to the socket soon has room again,
   a peer that reads nothing never. Returns the last push's result. */
static int
push_retry(mu_server_t *server, uint64_t peer, const void *data, size_t size, int ms)
{
    int64_t deadline = mu_test_now_ms() + mu_test_ms(ms);
    int rc;
    while ((rc = mu_server_push(server, peer, data, size)) == MU_EAGAIN
           && mu_test_now_ms() < deadline)
        usleep(1000); /* a poll for room, bounded above */
    return rc;
}

/* Full queues: MU_EAGAIN from push, push_all, stream_send and reply; a
   reply to a peer that left: MU_EHOSTUNREACH. */
static void
test_backpressure(void)
{
    /* Long heartbeats: a reader that stops reading also stops answering
       ZeroMQ heartbeats, and with the suite's short timeout a slow machine
       could expire it (MU_EHOSTUNREACH) before the queue is seen full. */
    mu_server_t *server = mu_server_new();
    MU_CHECK(server);
    if (mu_server_set_insecure(server) != 0 || mu_server_set_heartbeat(server, 1000, 30000) != 0
        || mu_server_bind(server, "tcp://127.0.0.1:*") < 0)
        mu_server_destroy(&server);
    MU_CHECK(server);
    zsock_set_sndhwm(mu_server_zsock(server), 4); /* for connections from now on */
    zsock_t *raw = zsock_new(ZMQ_DEALER);
    MU_CHECK(raw);
    zsock_set_rcvhwm(raw, 4);
    zsock_set_rcvbuf(raw, 65536);
    MU_CHECK_EQ(zsock_connect(raw, "%s", mu_server_endpoint(server, 0)), 0);
    MU_CHECK_EQ(raw_send(raw, WIRE, 0x01, 0, "slow reader", 1), 0);
    mu_event_t *join = expect_event(server, MU_SERVER_JOIN, 2000);
    MU_CHECK(join);
    uint64_t peer = mu_event_peer(join);
    mu_event_destroy(&join);
    MU_CHECK_EQ(raw_send(raw, WIRE, 0x04, 3, "question", 1), 0);
    mu_event_t *request = expect_event(server, MU_SERVER_REQUEST, 2000);
    MU_CHECK(request);
    size_t big = 256 * 1024;
    char *blob = calloc(1, big);
    int rc = 0, pushed = 0;
    for (int i = 0; i < 4000 && rc == 0; i++) {
        rc = mu_server_push(server, peer, blob, big);
        if (rc == 0)
            pushed++;
        else if (rc == MU_EAGAIN) { /* maybe only the pipe: let libzmq flush */
            rc = push_retry(server, peer, blob, big, 200);
            pushed += rc == 0;
        }
    }
    free(blob);
    MU_CHECK_EQ(rc, MU_EAGAIN);
    MU_CHECK(pushed > 0);
    MU_CHECK_EQ(mu_server_push_all(server, "x", 1), 0);
    MU_CHECK_EQ(mu_server_stream_send(server, peer, 1, "x", 1, 0), MU_EAGAIN);
    MU_CHECK_EQ(mu_server_reply(server, request, "answer", 6), MU_EAGAIN);
    /* the peer goes: the request can no longer be answered */
    zsock_destroy(&raw);
    mu_event_t *leave = expect_event(server, MU_SERVER_LEAVE, 3000);
    MU_CHECK(leave);
    mu_event_destroy(&leave);
    MU_CHECK_EQ(mu_server_reply(server, request, "answer", 6), MU_EHOSTUNREACH);
    MU_CHECK_EQ(mu_server_reply(server, request, "answer", 6), MU_EINVAL); /* done with */
    mu_event_destroy(&request);
    mu_server_destroy(&server);
}

/* A client whose server never comes: sends queue up to the high-water
   mark, then MU_EAGAIN. */
static void
test_client_queue_full(void)
{
    char silent[64];
    int silent_fd = mu_test_tcp_port(silent, sizeof silent, 1);
    MU_CHECK(silent_fd >= 0);
    mu_client_t *client = insecure_client(silent, NULL);
    MU_CHECK(client);
    int rc = 0, sent = 0;
    for (int i = 0; i < 5000 && rc == 0; i++) {
        rc = mu_client_send(client, "m", 1, 0);
        sent += rc == 0;
    }
    MU_CHECK_EQ(rc, MU_EAGAIN);
    MU_CHECK(sent >= 100);
    int64_t start = mu_test_now_ms();
    MU_CHECK_EQ(mu_client_send(client, "m", 1, 100), MU_ETIMEDOUT);
    MU_CHECK(mu_test_now_ms() - start >= 90);
    MU_CHECK_EQ(mu_client_stream_send(client, 1, "s", 1, 0, 0), MU_EAGAIN);
    void *reply = NULL;
    MU_CHECK_EQ(mu_client_request(client, "r", 1, &reply, NULL, 50), MU_ETIMEDOUT);
    mu_client_destroy(&client);
    close(silent_fd);
}

static void
on_usr1(int sig)
{
    (void) sig;
}

typedef struct {
    pthread_t target;
    pthread_t thread;
    atomic_int done;
} poke_t;

/* Signals the target every 10 ms until told to stop: whenever the target
   blocks, a signal reaches it (no guess of when it starts waiting). */
static void *
poke_main(void *arg)
{
    poke_t *poke = arg;
    while (!atomic_load(&poke->done)) {
        pthread_kill(poke->target, SIGUSR1);
        usleep(10 * 1000);
    }
    return NULL;
}

static void
poke_start(poke_t *poke)
{
    poke->target = pthread_self();
    atomic_store(&poke->done, 0);
    pthread_create(&poke->thread, NULL, poke_main, poke);
}

static void
poke_stop(poke_t *poke)
{
    atomic_store(&poke->done, 1);
    pthread_join(poke->thread, NULL);
}

/* A signal while waiting: MU_EINTR, not a retry until the timeout. */
static void
test_eintr(void)
{
    struct sigaction sa = { .sa_handler = on_usr1 }, old;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGUSR1, &sa, &old); /* no SA_RESTART */
    mu_server_t *server = insecure_server("tcp://127.0.0.1:*");
    mu_client_t *client = server ? insecure_client(mu_server_endpoint(server, 0), NULL) : NULL;
    /* the waits are long (scaled 20 s); a return within half of that can
       only be the signal */
    int wait = mu_test_ms(20000);
    poke_t poke;
    poke_start(&poke);
    mu_event_t *event = NULL;
    int64_t start = mu_test_now_ms();
    int rc = MU_ETIMEDOUT;
    while (rc == 0 || (rc == MU_ETIMEDOUT && mu_test_now_ms() - start < wait)) {
        mu_event_destroy(&event);
        rc = mu_server_recv(server, &event, wait); /* the JOIN may come first */
    }
    int64_t took = mu_test_now_ms() - start;
    poke_stop(&poke);
    poke_start(&poke);
    int64_t start2 = mu_test_now_ms();
    int rc2 = request_str(client, "nobody answers", wait, NULL);
    int64_t took2 = mu_test_now_ms() - start2;
    poke_stop(&poke);
    sigaction(SIGUSR1, &old, NULL);
    mu_client_destroy(&client);
    mu_server_destroy(&server);
    MU_CHECK_EQ(rc, MU_EINTR);
    MU_CHECK(took < wait / 2);
    MU_CHECK_EQ(rc2, MU_EINTR);
    MU_CHECK(took2 < wait / 2);
}

/* ------------------------------------------------------------------ */
/* CURVE                                                               */

static mu_server_t *
curve_server(const mu_keys_t *keys, const mu_allow_t *allow)
{
    mu_server_t *server = mu_server_new();
    if (server
        && (mu_server_set_curve(server, keys, allow) != 0
            || mu_server_bind(server, "tcp://127.0.0.1:*") < 0))
        mu_server_destroy(&server);
    return server;
}

static mu_client_t *
curve_client(const char *endpoint, const uint8_t *server_public, const mu_keys_t *keys)
{
    mu_client_t *client = mu_client_new();
    if (client
        && (mu_client_set_curve(client, server_public, keys) != 0
            || mu_client_connect(client, endpoint) != 0))
        mu_client_destroy(&client);
    return client;
}

static void
test_curve_allowed(void)
{
    mu_keys_t *server_keys = mu_keys_new(), *client_keys = mu_keys_new();
    mu_allow_t *allow = mu_allow_new();
    MU_CHECK(server_keys && client_keys && allow);
    MU_CHECK_EQ(mu_allow_add(allow, mu_keys_public(client_keys)), 0);
    mu_server_t *server = curve_server(server_keys, allow);
    MU_CHECK(server);
    echo_t echo;
    echo_start(&echo, server);
    mu_client_t *client = curve_client(mu_server_endpoint(server, 0), mu_keys_public(server_keys),
                                       client_keys);
    MU_CHECK(client);
    char *reply = NULL;
    int rc = request_str(client, "secret stuff", 3000, &reply);
    mu_client_destroy(&client);
    MU_CHECK(echo_wait_leaves(&echo, 1, 5000));
    echo_stop(&echo);
    MU_CHECK_EQ(rc, 0);
    MU_CHECK(strcmp(reply, "secret stuff") == 0);
    free(reply);
    MU_CHECK_EQ(echo.joins, 1);
    MU_CHECK(memcmp(echo.join_key, mu_keys_public(client_keys), MU_KEY_BYTES) == 0);
    mu_server_stats_t stats = { .size = sizeof stats };
    MU_CHECK_EQ(mu_server_stats(server, &stats), 0);
    MU_CHECK_EQ(stats.auth_failures, 0);
    mu_server_destroy(&server);
    mu_keys_destroy(&server_keys);
    mu_keys_destroy(&client_keys);
    mu_allow_destroy(&allow);
}

static void
test_curve_refused(void)
{
    mu_keys_t *server_keys = mu_keys_new(), *client_keys = mu_keys_new();
    mu_keys_t *stranger = mu_keys_new();
    mu_allow_t *allow = mu_allow_new();
    MU_CHECK(server_keys && client_keys && stranger && allow);
    MU_CHECK_EQ(mu_allow_add(allow, mu_keys_public(client_keys)), 0);
    mu_server_t *server = curve_server(server_keys, allow);
    MU_CHECK(server);
    echo_t echo;
    echo_start(&echo, server);
    /* a key that is not on the list */
    mu_client_t *client = curve_client(mu_server_endpoint(server, 0), mu_keys_public(server_keys),
                                       stranger);
    MU_CHECK(client);
    int64_t start = mu_test_now_ms();
    int rc = request_str(client, "let me in", 1000, NULL);
    int64_t took = mu_test_now_ms() - start;
    int ready = mu_client_wait_ready(client, 300);
    printf("# refused key: request %s after %d ms, wait_ready %s\n", mu_errname(rc), (int) took,
           mu_errname(ready));
    mu_client_destroy(&client);
    /* the right client key but a wrong server key */
    client = curve_client(mu_server_endpoint(server, 0), mu_keys_public(stranger), client_keys);
    MU_CHECK(client);
    start = mu_test_now_ms();
    int rc2 = request_str(client, "hello?", 500, NULL);
    int64_t took2 = mu_test_now_ms() - start;
    mu_client_destroy(&client);
    echo_stop(&echo);
    MU_CHECK_EQ(rc, MU_EAUTH);
    MU_CHECK(took <= 1200);
    MU_CHECK_EQ(ready, MU_EAUTH);
    MU_CHECK_EQ(rc2, MU_EHANDSHAKE); /* tests/test_conn_fail.c has more */
    MU_CHECK(took2 <= 700);
    MU_CHECK_EQ(echo.joins, 0);
    MU_CHECK_EQ(echo.requests, 0);
    mu_server_stats_t stats = { .size = sizeof stats };
    MU_CHECK_EQ(mu_server_stats(server, &stats), 0);
    MU_CHECK(stats.auth_failures >= 1);
    mu_server_destroy(&server);
    mu_keys_destroy(&server_keys);
    mu_keys_destroy(&client_keys);
    mu_keys_destroy(&stranger);
    mu_allow_destroy(&allow);
}

static void
test_shared_secret(void)
{
    const char *secret = "correct horse battery staple";
    mu_server_t *server = mu_server_new();
    MU_CHECK(server);
    MU_CHECK_EQ(mu_server_set_secret(server, secret, strlen(secret)), 0);
    MU_CHECK(mu_server_bind(server, "tcp://127.0.0.1:*") > 0);
    echo_t echo;
    echo_start(&echo, server);
    mu_client_t *good = mu_client_new(), *bad = mu_client_new();
    MU_CHECK(good && bad);
    MU_CHECK_EQ(mu_client_set_secret(good, secret, strlen(secret)), 0);
    MU_CHECK_EQ(mu_client_set_secret(bad, "another passphrase", 18), 0);
    MU_CHECK_EQ(mu_client_connect(good, mu_server_endpoint(server, 0)), 0);
    MU_CHECK_EQ(mu_client_connect(bad, mu_server_endpoint(server, 0)), 0);
    char *reply = NULL;
    int rc = request_str(good, "shh", 3000, &reply);
    int rc_bad = request_str(bad, "shh", 700, NULL);
    mu_client_destroy(&good);
    mu_client_destroy(&bad);
    echo_stop(&echo);
    MU_CHECK_EQ(rc, 0);
    MU_CHECK(strcmp(reply, "shh") == 0);
    free(reply);
    MU_CHECK_EQ(rc_bad, MU_EHANDSHAKE);
    MU_CHECK_EQ(echo.joins, 1);
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
    self_exe = argv[0];
    if (argc == 3 && strcmp(argv[1], "--serve") == 0)
        return child_serve(argv[2]);
    if (argc == 3 && strcmp(argv[1], "--idle-client") == 0)
        return child_idle_client(argv[2]);
    mu_test_start(240); /* about 15 s when idle; scaled by MU_TEST_SCALE */
    if (!mu_test_scratch_dir(tmpdir, sizeof tmpdir, "mu_test_conn")) {
        perror("mkdtemp");
        return 1;
    }
    zsys_handler_set(NULL);
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
    MU_RUN(test_sigkill_leave);
    MU_RUN(test_frozen_client_leaves);
    MU_RUN(test_server_restart);
    MU_RUN(test_malformed);
    MU_RUN(test_backpressure);
    MU_RUN(test_client_queue_full);
    MU_RUN(test_eintr);
    MU_RUN(test_curve_allowed);
    MU_RUN(test_curve_refused);
    MU_RUN(test_shared_secret);
    mu_test_remove_scratch_dir(tmpdir);
    MU_DONE();
}
