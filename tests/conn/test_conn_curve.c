/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  test_conn_curve.c — mu_server / mu_client with CURVE security: allowed
    and refused clients, and keys from a shared secret. */
#include "conn_cases.h"

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

int
main(int argc, char **argv)
{
    int rc = conn_suite_begin(argc, argv);
    if (rc >= 0)
        return rc;
    MU_RUN(test_curve_allowed);
    MU_RUN(test_curve_refused);
    MU_RUN(test_shared_secret);
    conn_suite_end();
    MU_DONE();
}
