/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  conn_cases.c — see conn_cases.h. */
#include "conn_cases.h"

static char tmpdir[64];

static int endpoint_seq;

const char *self_exe;

const char *
ipc_endpoint(char *buf, size_t cap)
{
    snprintf(buf, cap, "ipc://%s/ep%d", tmpdir, endpoint_seq++);
    return buf;
}

mu_server_t *
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

mu_client_t *
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

mu_event_t *
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

/*  A push retried while the peer's pipe is full: mu_server offers no
    event for room in a peer's pipe, so the push is retried
    (mu_test_poll_until). */
typedef struct {
    mu_server_t *server;
    uint64_t peer;
    const char *text;
    int rc;
} push_t;

static bool
pushed(void *arg)
{
    push_t *p = arg;
    p->rc = mu_server_push(p->server, p->peer, p->text, strlen(p->text));
    return p->rc != MU_EAGAIN;
}

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
            push_t push = { echo->server, mu_event_peer(event), text, 0 };
            mu_test_poll_until(pushed, &push, 30000); /* until the client's pipe has room */
            rc = push.rc;
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
        } else if (mu_event_kind(event) == MU_SERVER_LEAVE) {
            echo->leaves++;
            mu_test_counter_add(&echo->left);
        } else if (mu_event_kind(event) == MU_SERVER_REQUEST)
            echo_request(echo, event);
        mu_event_destroy(&event);
    }
    return NULL;
}

void
echo_start(echo_t *echo, mu_server_t *server)
{
    memset(echo, 0, sizeof *echo);
    echo->server = server;
    mu_test_counter_init(&echo->left);
    pthread_create(&echo->thread, NULL, echo_main, echo);
}

void
echo_stop(echo_t *echo)
{
    atomic_store(&echo->stop, 1);
    pthread_join(echo->thread, NULL);
    mu_test_counter_fini(&echo->left);
}

bool
echo_wait_leaves(echo_t *echo, int want, int ms)
{
    return mu_test_counter_wait(&echo->left, want, ms);
}

int
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

int
conn_suite_begin(int argc, char **argv)
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
    return -1;
}

void
conn_suite_end(void)
{
    mu_test_remove_scratch_dir(tmpdir);
}
