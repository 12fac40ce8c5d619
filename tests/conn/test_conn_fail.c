/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  test_conn_fail.c — a mu_client that cannot reach its server says why,
    and says it fast: a refused port or ipc path (MU_ECONNREFUSED), a host
    name that does not resolve (MU_ENOHOST), a wrong server key, a wrong
    shared secret or mismatched security modes (MU_EHANDSHAKE), a client
    key the server does not allow (MU_EAUTH) — each well before the call's
    timeout, for requests and file transfers alike (wait_ready waits for a
    refusing server that may be starting). A server that accepts TCP but
    never speaks still times out, and a client that was connected once
    waits for a restarted server instead of failing. */
#include "mu_test.h"
#include "mutil.h"
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#define SECRET "correct horse battery staple"

static char tmpdir[256];

/* The call timeout of the fail-fast cases, and the bound they must beat
   (a quarter of it: failing fast means not waiting for the timeout). */
static int
long_timeout(void)
{
    return mu_test_ms(60000); /* a slow resolver must still beat a quarter of it */
}

static int
fast_bound(void)
{
    return long_timeout() / 4;
}

/* A server answering requests with their bytes, on a thread of its own. */
typedef struct {
    mu_server_t *server;
    pthread_t thread;
    atomic_int stop;
} echo_t;

static void *
echo_main(void *arg)
{
    echo_t *echo = arg;
    while (!atomic_load(&echo->stop)) {
        mu_event_t *event = NULL;
        if (mu_server_recv(echo->server, &event, 20) != 0)
            continue;
        if (mu_event_kind(event) == MU_SERVER_REQUEST) {
            size_t size;
            const void *data = mu_event_data(event, &size);
            (void) !mu_server_reply(echo->server, event, data, size);
        }
        mu_event_destroy(&event);
    }
    return NULL;
}

static void
echo_start(echo_t *echo, mu_server_t *server)
{
    echo->server = server;
    atomic_store(&echo->stop, 0);
    if (pthread_create(&echo->thread, NULL, echo_main, echo) != 0)
        abort();
}

static void
echo_stop(echo_t *echo)
{
    atomic_store(&echo->stop, 1);
    pthread_join(echo->thread, NULL);
    mu_server_destroy(&echo->server);
}

/* How one failing client call went. */
typedef struct {
    int rc;
    int64_t took_ms;
} outcome_t;

static outcome_t
timed_request(mu_client_t *client, int timeout_ms)
{
    void *reply = NULL;
    int64_t start = mu_test_now_ms();
    outcome_t out = { mu_client_request(client, "hi", 2, &reply, NULL, timeout_ms), 0 };
    out.took_ms = mu_test_now_ms() - start;
    free(reply);
    return out;
}

static void
report(const char *what, outcome_t out)
{
    printf("# %s: %s after %lld ms\n", what, mu_errname(out.rc), (long long) out.took_ms);
}

static mu_client_t *
insecure_client(const char *endpoint)
{
    mu_client_t *client = mu_client_new();
    if (client && (mu_client_set_insecure(client) != 0 || mu_client_connect(client, endpoint) != 0))
        mu_client_destroy(&client);
    return client;
}

static mu_client_t *
secret_client(const char *endpoint, const char *secret)
{
    mu_client_t *client = mu_client_new();
    if (client
        && (mu_client_set_secret(client, secret, strlen(secret)) != 0
            || mu_client_connect(client, endpoint) != 0))
        mu_client_destroy(&client);
    return client;
}

static mu_server_t *
secret_server(const char *secret)
{
    mu_server_t *server = mu_server_new();
    if (server
        && (mu_server_set_secret(server, secret, strlen(secret)) != 0
            || mu_server_bind(server, "tcp://127.0.0.1:*") < 0))
        mu_server_destroy(&server);
    return server;
}

/* Checks that a fresh client fails a request and a download with want,
   each well before the timeout, leaving no local file; and that
   mu_client_wait_ready gives want too (for MU_ECONNREFUSED only at the end
   of its timeout: a refusing server may be starting up). Returns 0 when
   all of that holds. */
static int
expect_fast_failure(const char *what, mu_client_t *client, int want)
{
    outcome_t out = timed_request(client, long_timeout());
    report(what, out);
    if (out.rc != want || out.took_ms > fast_bound())
        return -1;
    int64_t start = mu_test_now_ms();
    mu_file_options_t options = { .timeout_ms = long_timeout() };
    char local[300];
    snprintf(local, sizeof local, "%s/never", tmpdir);
    int got = mu_client_get(client, "remote", local, &options);
    int64_t took = mu_test_now_ms() - start;
    int ready_timeout = want == MU_ECONNREFUSED ? 300 : long_timeout();
    start = mu_test_now_ms();
    int ready = mu_client_wait_ready(client, ready_timeout);
    int64_t ready_took = mu_test_now_ms() - start;
    printf("# %s: get %s after %lld ms, wait_ready %s after %lld ms\n", what, mu_errname(got),
           (long long) took, mu_errname(ready), (long long) ready_took);
    bool ready_ok = ready == want
                    && (want == MU_ECONNREFUSED ? ready_took >= ready_timeout
                                                : ready_took <= fast_bound());
    return got == want && took <= fast_bound() && ready_ok && access(local, F_OK) != 0 ? 0 : -1;
}

static void
test_refused_tcp_port(void)
{
    char endpoint[64];
    MU_CHECK_EQ(mu_test_tcp_port(endpoint, sizeof endpoint, 0), 0);
    mu_client_t *client = insecure_client(endpoint);
    MU_CHECK(client);
    int rc = expect_fast_failure("refused port", client, MU_ECONNREFUSED);
    mu_client_destroy(&client);
    MU_CHECK_EQ(rc, 0);
}

static void
test_refused_ipc_path(void)
{
    char endpoint[300];
    snprintf(endpoint, sizeof endpoint, "ipc://%s/nobody-here", tmpdir);
    mu_client_t *client = secret_client(endpoint, SECRET);
    MU_CHECK(client);
    int rc = expect_fast_failure("missing ipc path", client, MU_ECONNREFUSED);
    mu_client_destroy(&client);
    MU_CHECK_EQ(rc, 0);
}

static void
test_unknown_host(void)
{
    /* .invalid never resolves (RFC 6761) */
    mu_client_t *client = insecure_client("tcp://nonexistent.invalid:5555");
    MU_CHECK(client);
    int rc = expect_fast_failure("unknown host", client, MU_ENOHOST);
    mu_client_destroy(&client);
    MU_CHECK_EQ(rc, 0);
}

static void
test_wrong_secret(void)
{
    mu_server_t *server = secret_server(SECRET);
    MU_CHECK(server);
    echo_t echo;
    echo_start(&echo, server);
    mu_client_t *client = secret_client(mu_server_endpoint(server, 0), "another passphrase");
    int rc = client ? expect_fast_failure("wrong secret", client, MU_EHANDSHAKE) : -1;
    mu_client_destroy(&client);
    /* the right secret still gets through: a control for the case above */
    client = secret_client(mu_server_endpoint(server, 0), SECRET);
    outcome_t good = client ? timed_request(client, long_timeout()) : (outcome_t) { -1, 0 };
    mu_client_destroy(&client);
    echo_stop(&echo);
    MU_CHECK_EQ(rc, 0);
    MU_CHECK_EQ(good.rc, 0);
}

/* A CURVE server with one allowed client key. */
static mu_server_t *
curve_server(const mu_keys_t *server_keys, const mu_keys_t *allowed)
{
    mu_allow_t *allow = mu_allow_new();
    mu_server_t *server = allow ? mu_server_new() : NULL;
    if (server
        && (mu_allow_add(allow, mu_keys_public(allowed)) != 0
            || mu_server_set_curve(server, server_keys, allow) != 0
            || mu_server_bind(server, "tcp://127.0.0.1:*") < 0))
        mu_server_destroy(&server);
    mu_allow_destroy(&allow);
    return server;
}

static mu_client_t *
curve_client(const char *endpoint, const mu_keys_t *server_keys, const mu_keys_t *own)
{
    mu_client_t *client = mu_client_new();
    if (client
        && (mu_client_set_curve(client, mu_keys_public(server_keys), own) != 0
            || mu_client_connect(client, endpoint) != 0))
        mu_client_destroy(&client);
    return client;
}

static void
test_wrong_keys(void)
{
    mu_keys_t *server_keys = mu_keys_new(), *client_keys = mu_keys_new();
    mu_keys_t *stranger = mu_keys_new();
    MU_CHECK(server_keys && client_keys && stranger);
    mu_server_t *server = curve_server(server_keys, client_keys);
    MU_CHECK(server);
    echo_t echo;
    echo_start(&echo, server);
    const char *endpoint = mu_server_endpoint(server, 0);
    mu_client_t *client = curve_client(endpoint, stranger, client_keys);
    int wrong_server_key = client ? expect_fast_failure("wrong server key", client, MU_EHANDSHAKE)
                                  : -1;
    mu_client_destroy(&client);
    client = curve_client(endpoint, server_keys, stranger);
    int refused_key = client ? expect_fast_failure("client key not allowed", client, MU_EAUTH) : -1;
    mu_client_destroy(&client);
    client = insecure_client(endpoint);
    int insecure = client
                       ? expect_fast_failure("insecure client, CURVE server", client, MU_EHANDSHAKE)
                       : -1;
    mu_client_destroy(&client);
    echo_stop(&echo);
    mu_keys_destroy(&server_keys);
    mu_keys_destroy(&client_keys);
    mu_keys_destroy(&stranger);
    MU_CHECK_EQ(wrong_server_key, 0);
    MU_CHECK_EQ(refused_key, 0);
    MU_CHECK_EQ(insecure, 0);
}

/* Starts an insecure server bound to endpoint, answering on a thread of
   its own. Returns false when it cannot. */
static bool
start_insecure_server(echo_t *echo, const char *endpoint)
{
    mu_server_t *server = mu_server_new();
    if (!server || mu_server_set_insecure(server) != 0 || mu_server_bind(server, endpoint) < 0) {
        mu_server_destroy(&server);
        return false;
    }
    echo_start(echo, server);
    return true;
}

/* An insecure client that retries its connection every 20..100 ms. */
static mu_client_t *
fast_retry_client(const char *endpoint)
{
    mu_client_t *client = mu_client_new();
    if (client
        && (mu_client_set_insecure(client) != 0 || mu_client_set_reconnect(client, 20, 100) != 0
            || mu_client_connect(client, endpoint) != 0))
        mu_client_destroy(&client);
    return client;
}

static void
test_curve_client_insecure_server(void)
{
    echo_t echo;
    MU_CHECK(start_insecure_server(&echo, "tcp://127.0.0.1:*"));
    mu_client_t *client = secret_client(mu_server_endpoint(echo.server, 0), SECRET);
    int rc = client ? expect_fast_failure("CURVE client, insecure server", client, MU_EHANDSHAKE)
                    : -1;
    mu_client_destroy(&client);
    echo_stop(&echo);
    MU_CHECK_EQ(rc, 0);
}

/* A refused endpoint whose server comes up: wait_ready waits for it, and
   calls work from then on. */
static void
test_wait_ready_for_a_starting_server(void)
{
    char endpoint[300];
    snprintf(endpoint, sizeof endpoint, "ipc://%s/later", tmpdir);
    mu_client_t *client = fast_retry_client(endpoint);
    MU_CHECK(client);
    outcome_t before = timed_request(client, long_timeout());
    echo_t echo;
    bool started = start_insecure_server(&echo, endpoint);
    int ready = started ? mu_client_wait_ready(client, long_timeout()) : -1;
    outcome_t after = started ? timed_request(client, long_timeout()) : (outcome_t) { -1, 0 };
    mu_client_destroy(&client);
    if (started)
        echo_stop(&echo);
    MU_CHECK_EQ(before.rc, MU_ECONNREFUSED);
    MU_CHECK_EQ(ready, 0);
    MU_CHECK_EQ(after.rc, 0);
}

/* A listener that never speaks ZMTP is no refusal: the call times out. */
static void
test_silent_server_times_out(void)
{
    char endpoint[64];
    int fd = mu_test_tcp_port(endpoint, sizeof endpoint, 1);
    MU_CHECK(fd >= 0);
    mu_client_t *client = insecure_client(endpoint);
    outcome_t out = client ? timed_request(client, 300) : (outcome_t) { -1, 0 };
    report("silent listener", out);
    mu_client_destroy(&client);
    close(fd);
    MU_CHECK_EQ(out.rc, MU_ETIMEDOUT);
    MU_CHECK(out.took_ms >= 300);
}

/* Once connected, a refused reconnect is a restart to wait for. */
static void
test_restart_is_waited_for(void)
{
    char endpoint[300];
    snprintf(endpoint, sizeof endpoint, "ipc://%s/restart", tmpdir);
    echo_t echo;
    MU_CHECK(start_insecure_server(&echo, endpoint));
    mu_client_t *client = fast_retry_client(endpoint);
    outcome_t first = client ? timed_request(client, long_timeout()) : (outcome_t) { -1, 0 };
    echo_stop(&echo); /* the server goes away */
    outcome_t down = client ? timed_request(client, 500) : (outcome_t) { -1, 0 };
    report("server down after a first connection", down);
    bool restarted = start_insecure_server(&echo, endpoint);
    outcome_t back = client && restarted ? timed_request(client, long_timeout())
                                         : (outcome_t) { -1, 0 };
    mu_client_destroy(&client);
    if (restarted)
        echo_stop(&echo);
    MU_CHECK_EQ(first.rc, 0);
    MU_CHECK_EQ(down.rc, MU_ETIMEDOUT);
    MU_CHECK_EQ(back.rc, 0);
}

int
main(void)
{
    mu_test_start(120);
    if (!mu_test_scratch_dir(tmpdir, sizeof tmpdir, "mu_test_conn_fail"))
        return 1;
    MU_RUN(test_refused_tcp_port);
    MU_RUN(test_refused_ipc_path);
    MU_RUN(test_unknown_host);
    MU_RUN(test_wrong_secret);
    MU_RUN(test_wrong_keys);
    MU_RUN(test_curve_client_insecure_server);
    MU_RUN(test_wait_ready_for_a_starting_server);
    MU_RUN(test_silent_server_times_out);
    MU_RUN(test_restart_is_waited_for);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0)
        printf("# could not remove %s\n", tmpdir);
    MU_DONE();
}
