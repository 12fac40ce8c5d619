/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  test_services.c — mu_server and mu_socket as services under mu_run: the
    handler answers, the service stops with the run, a handler error fails
    the run. */
#include "mu_test.h"
#include "mutil.h"
#include <czmq.h>
#include <string.h>
#include <unistd.h>

/* ------------------------------------------------------------------ */
/* Server                                                              */

static int
echo_event(void *arg, mu_server_t *server, mu_event_t *event)
{
    (void) arg;
    if (mu_event_kind(event) != MU_SERVER_REQUEST)
        return 0;
    size_t size = 0;
    const void *data = mu_event_data(event, &size);
    if (size == 4 && !memcmp(data, "fail", 4))
        return MU_EPROTO;
    return mu_server_reply(server, event, data, size);
}

typedef struct {
    const char *endpoint;
    const char *request;
    int rc;
} client_main_t;

static bool
entrypoint_stopping(void *ep)
{
    return mu_entrypoint_stopping(ep);
}

/*  main: one request to the server service; records its result. */
static int
ask_server(void *arg, mu_entrypoint_t *ep)
{
    client_main_t *m = arg;
    mu_client_t *client = mu_client_new();
    if (!client)
        return MU_ENOMEM;
    void *reply = NULL;
    size_t size = 0;
    m->rc = mu_client_set_insecure(client);
    if (m->rc == 0)
        m->rc = mu_client_connect(client, m->endpoint);
    if (m->rc == 0)
        m->rc = mu_client_request(client, m->request, strlen(m->request), &reply, &size,
                                  mu_test_ms(5000));
    if (m->rc == 0 && (size != strlen(m->request) || memcmp(reply, m->request, size)))
        m->rc = MU_EPROTO;
    free(reply);
    mu_client_destroy(&client);
    /* a failing handler fails its service: wait until the entrypoint knows
       (mu_entrypoint_stopping is a flag with no event: mu_test_poll_until) */
    if (m->rc != 0)
        mu_test_poll_until(entrypoint_stopping, ep, 5000);
    return 0;
}

static mu_server_t *
bound_server(char *endpoint, size_t size)
{
    mu_server_t *server = mu_server_new();
    if (!server || mu_server_set_insecure(server) != 0
        || mu_server_bind(server, "tcp://127.0.0.1:*") <= 0) {
        mu_server_destroy(&server);
        return NULL;
    }
    snprintf(endpoint, size, "%s", mu_server_endpoint(server, 0));
    return server;
}

static void
test_server_service(void)
{
    char endpoint[128];
    mu_server_t *server = bound_server(endpoint, sizeof endpoint);
    MU_CHECK(server);
    mu_server_service_t cfg = { .server = server, .on_event = echo_event, .poll_ms = 20 };
    mu_service_def_t def = mu_server_service(&cfg, "echo");
    client_main_t m = { .endpoint = endpoint, .request = "hello" };
    MU_CHECK_EQ(mu_run(ask_server, &m, &def, 1), 0);
    MU_CHECK_EQ(m.rc, 0);

    /* the handler's error fails the service, and the run */
    client_main_t bad = { .endpoint = endpoint, .request = "fail" };
    MU_CHECK_EQ(mu_run(ask_server, &bad, &def, 1), MU_EPROTO);
    MU_CHECK(strstr(mu_last_error(), "service 'echo' failed"));
    MU_CHECK(bad.rc != 0); /* no answer came */
    mu_server_destroy(&server);
}

/* ------------------------------------------------------------------ */
/* Socket                                                              */

static int
pong(void *arg, mu_socket_t *socket, const mu_socket_msg_t *msg)
{
    (void) arg;
    if (msg->event != MU_SOCKET_MESSAGE)
        return 0;
    return mu_socket_send_to(socket, msg->peer, "pong", 4);
}

static int
ping(void *arg, mu_entrypoint_t *ep)
{
    (void) ep;
    const char *endpoint = arg;
    mu_socket_t *s = mu_socket_new(NULL);
    if (!s)
        return MU_ENOMEM;
    int rc = mu_socket_connect(s, endpoint);
    if (rc == 0)
        rc = mu_socket_send(s, "ping", 4);
    int64_t deadline = mu_test_now_ms() + mu_test_ms(5000);
    mu_socket_msg_t msg;
    while (rc == 0) {
        int left = (int) (deadline - mu_test_now_ms());
        rc = mu_socket_recv(s, &msg, left > 0 ? left : 0);
        if (rc == 0 && msg.event == MU_SOCKET_MESSAGE) {
            rc = msg.size == 4 && !memcmp(msg.data, "pong", 4) ? 42 : MU_EPROTO;
            break;
        }
    }
    mu_socket_destroy(&s);
    return rc;
}

static void
test_socket_service(void)
{
    mu_socket_t *s = mu_socket_new(NULL);
    MU_CHECK(s);
    MU_CHECK(mu_socket_bind(s, "tcp://127.0.0.1:*") > 0);
    char endpoint[128];
    snprintf(endpoint, sizeof endpoint, "%s", mu_socket_endpoint(s));
    mu_socket_service_t cfg = { .socket = s, .on_message = pong };
    mu_service_def_t def = mu_socket_service(&cfg, "pong");
    MU_CHECK_EQ(mu_run(ping, endpoint, &def, 1), 42);
    mu_socket_destroy(&s);
}

/* ------------------------------------------------------------------ */
/* Flow                                                                */

/*  Emits forever (nothing downstream: each emit is refused, harmlessly). */
static int
endless(void *arg, int index, mu_flow_emit_t *out)
{
    (void) arg, (void) index;
    uint64_t id = 1;
    if (mu_flow_emit(out, &id, sizeof id) != 0) {
        /* MU_EPIPE: no stage after this one */
    }
    usleep(1000); /* the source's pace, not a wait */
    return MU_FLOW_MORE;
}

static int
flow_main(void *arg, mu_entrypoint_t *ep)
{
    (void) ep;
    mu_flow_t *flow = arg;
    return mu_flow_pid(flow) > 0 ? 5 : MU_EIO; /* started before main */
}

static void
test_flow_service(void)
{
    mu_flow_t *flow = mu_flow_new("svc");
    MU_CHECK(flow);
    MU_CHECK_EQ(mu_flow_add_source(flow, "src", 1, endless, NULL), 0);
    MU_CHECK_EQ(mu_flow_set_drain_timeout(flow, mu_test_ms(5000)), 0);
    mu_service_def_t def = mu_flow_service(flow, "flow");
    MU_CHECK_EQ(mu_run(flow_main, flow, &def, 1), 5);
    MU_CHECK(mu_flow_wait(flow, 0) != MU_EAGAIN); /* drained and ended */
    mu_flow_destroy(&flow);
}

int
main(void)
{
    mu_test_start(60);
    zsys_init();
    zsys_set_logstream(stderr);
    MU_RUN(test_server_service);
    MU_RUN(test_socket_service);
    MU_RUN(test_flow_service);
    zsys_shutdown();
    MU_DONE();
}
