/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  test_endpoint.c — every API that takes an endpoint string refuses a
    tcp:// port outside 0..65535 (libzmq would bind 99999 wrapped, as
    34463), a missing or non-numeric port, and (to connect) port 0 or "*",
    with MU_EINVAL: mu_server_bind, mu_client_connect, mu_socket_bind and
    mu_socket_connect, mu_pipe_new_zmq (errno EINVAL). Valid endpoints still
    work. */
#include "mu_test.h"
#include "mutil.h"

static const char *const bad_everywhere[] = {
    "tcp://127.0.0.1:99999",
    "tcp://127.0.0.1:65536",
    "tcp://127.0.0.1:4294967297",
    "tcp://127.0.0.1:-1",
    "tcp://127.0.0.1:",
    "tcp://127.0.0.1",
    "tcp://127.0.0.1:5x",
    "tcp://127.0.0.1: 80",
    "tcp://:5555",
    "tcp://",
    "ipc://",
    "bogus://x",
};
#define N_BAD (sizeof bad_everywhere / sizeof *bad_everywhere)

/* Bind-only forms: a connect needs a real port. */
static const char *const bind_only[] = { "tcp://127.0.0.1:0", "tcp://127.0.0.1:*" };
#define N_BIND_ONLY (sizeof bind_only / sizeof *bind_only)

static void
test_server_bind(void)
{
    for (size_t i = 0; i < N_BAD; i++) {
        mu_server_t *server = mu_server_new();
        MU_CHECK(server);
        MU_CHECK_EQ(mu_server_set_insecure(server), 0);
        int rc = mu_server_bind(server, bad_everywhere[i]);
        if (rc != MU_EINVAL)
            printf("# mu_server_bind(%s) = %s\n", bad_everywhere[i], mu_errname(rc));
        mu_server_destroy(&server);
        MU_CHECK_EQ(rc, MU_EINVAL);
    }
    mu_server_t *server = mu_server_new();
    MU_CHECK(server);
    MU_CHECK_EQ(mu_server_set_insecure(server), 0);
    MU_CHECK(mu_server_bind(server, "tcp://127.0.0.1:*") > 0);
    MU_CHECK(mu_server_bind(server, "tcp://127.0.0.1:0") > 0);
    mu_server_destroy(&server);
}

static void
test_client_connect(void)
{
    for (size_t i = 0; i < N_BAD + N_BIND_ONLY; i++) {
        const char *endpoint = i < N_BAD ? bad_everywhere[i] : bind_only[i - N_BAD];
        mu_client_t *client = mu_client_new();
        MU_CHECK(client);
        MU_CHECK_EQ(mu_client_set_insecure(client), 0);
        int rc = mu_client_connect(client, endpoint);
        if (rc != MU_EINVAL)
            printf("# mu_client_connect(%s) = %s\n", endpoint, mu_errname(rc));
        mu_client_destroy(&client);
        MU_CHECK_EQ(rc, MU_EINVAL);
    }
    mu_client_t *client = mu_client_new();
    MU_CHECK(client);
    MU_CHECK_EQ(mu_client_set_insecure(client), 0);
    MU_CHECK_EQ(mu_client_connect(client, "tcp://127.0.0.1:65535"), 0);
    mu_client_destroy(&client);
}

static void
test_socket_bind_connect(void)
{
    mu_socket_t *sock = mu_socket_new(NULL);
    MU_CHECK(sock);
    int bad = 0;
    for (size_t i = 0; i < N_BAD + N_BIND_ONLY; i++) {
        const char *endpoint = i < N_BAD ? bad_everywhere[i] : bind_only[i - N_BAD];
        int rc = mu_socket_connect(sock, endpoint);
        if (rc != MU_EINVAL) {
            printf("# mu_socket_connect(%s) = %s\n", endpoint, mu_errname(rc));
            bad++;
        }
        if (i < N_BAD && (rc = mu_socket_bind(sock, endpoint)) != MU_EINVAL) {
            printf("# mu_socket_bind(%s) = %d\n", endpoint, rc);
            bad++;
        }
    }
    int port = mu_socket_bind(sock, "tcp://127.0.0.1:*");
    mu_socket_destroy(&sock);
    MU_CHECK_EQ(bad, 0);
    MU_CHECK(port > 0 && port <= 65535);
}

static void
test_pipe_zmq(void)
{
    char bound[64];
    for (size_t i = 0; i < N_BAD; i++) {
        if (strncmp(bad_everywhere[i], "tcp://", 6) != 0)
            continue; /* the list may hold any czmq transport */
        snprintf(bound, sizeof bound, "@%s", bad_everywhere[i]);
        errno = 0;
        mu_pipe_t *pipe = mu_pipe_new_zmq(bound, MU_PIPE_WRITER);
        if (pipe)
            printf("# mu_pipe_new_zmq(%s) bound\n", bound);
        mu_pipe_destroy(&pipe);
        MU_CHECK_EQ(errno, EINVAL);
    }
    /* one bad element in a list; a connect to port 0 */
    errno = 0;
    MU_CHECK(mu_pipe_new_zmq("inproc://fine,tcp://127.0.0.1:99999", MU_PIPE_READER) == NULL);
    MU_CHECK_EQ(errno, EINVAL);
    errno = 0;
    MU_CHECK(mu_pipe_new_zmq(">tcp://127.0.0.1:0", MU_PIPE_READER) == NULL);
    MU_CHECK_EQ(errno, EINVAL);
    mu_pipe_t *pipe = mu_pipe_new_zmq("@tcp://127.0.0.1:*", MU_PIPE_READER);
    MU_CHECK(pipe);
    mu_pipe_destroy(&pipe);
}

int
main(void)
{
    mu_test_start(30);
    MU_RUN(test_server_bind);
    MU_RUN(test_client_connect);
    MU_RUN(test_socket_bind_connect);
    MU_RUN(test_pipe_zmq);
    MU_DONE();
}
