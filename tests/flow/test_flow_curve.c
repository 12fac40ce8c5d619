/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  test_flow_curve.c — the ZAP handler of a flow runner's CURVE server
    (src/flow/mu_flow_curve.c over net/mu_zap.c's handler of one context,
    linked from libmutil_internal.la): it refuses keys other than the
    flow's client key and counts them; it belongs to one context and one
    process, and mu__curve_server fails closed (MU_EINVAL) for a socket of
    another context or in a forked child, where libzmq 4.3.4 would let
    every CURVE client in; it ends with its context. The whole flow case
    (a CURVE flow started inside a runner) is test_flow_split's
    test_curve_nested_flow. */
#include "mu_test.h"
#include "mutil.h"
#include "flow/mu_flow_int.h"
#include "flow/mu_flow_curve.h"

#include <stdio.h>
#include <sys/wait.h>
#include <zmq.h>

static mu_flow_t flow = { .name = "curve" };
static mu__stage_t stage = { .name = "sink" };
static mu__runner_t runner = { .flow = &flow, .st = &stage };
static mu__runner_t forked_runner = { .flow = &flow, .st = &stage };

/*  Fills the flow's CURVE keys. */
static void
make_keys(void)
{
    char pub[41], sec[41];
    zmq_curve_keypair(pub, sec);
    zmq_z85_decode(flow.curve_server_pub, pub);
    zmq_z85_decode(flow.curve_server_sec, sec);
    zmq_curve_keypair(pub, sec);
    zmq_z85_decode(flow.curve_client_pub, pub);
    zmq_z85_decode(flow.curve_client_sec, sec);
    flow.curve = true;
}

static void *
socket_of(void *ctx, int type)
{
    void *s = zmq_socket(ctx, type);
    int linger = 0, timeout = mu_test_ms(20000);
    zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(s, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
    return s;
}

/*  A client with keys of its own sends a message to endpoint; returns
    true once libzmq reports its handshake refused. */
static bool
intruder_refused(void *ctx, const char *endpoint)
{
    void *push = socket_of(ctx, ZMQ_PUSH), *mon = socket_of(ctx, ZMQ_PAIR);
    char pub[41], sec[41], server[41];
    zmq_curve_keypair(pub, sec);
    zmq_z85_encode(server, flow.curve_server_pub, 32);
    zmq_setsockopt(push, ZMQ_CURVE_SERVERKEY, server, 40);
    zmq_setsockopt(push, ZMQ_CURVE_PUBLICKEY, pub, 40);
    zmq_setsockopt(push, ZMQ_CURVE_SECRETKEY, sec, 40);
    zmq_socket_monitor(push, "inproc://intruder", ZMQ_EVENT_HANDSHAKE_FAILED_AUTH);
    zmq_connect(mon, "inproc://intruder");
    zmq_connect(push, endpoint);
    zmq_send(push, "forged", 6, ZMQ_DONTWAIT);
    uint8_t event[6];
    bool refused = zmq_recv(mon, event, sizeof event, 0) >= 2;
    zmq_close(mon);
    zmq_close(push);
    return refused;
}

/*  The handler of the runner's context: the flow's client key gets in,
    another is refused and counted, and delivers nothing; the handler
    ends with its context (zmq_ctx_term returns). A second context of the
    same runner gets no CURVE server: MU_EINVAL. */
static void
test_handler_of_its_context(void)
{
    make_keys();
    void *ctx = zmq_ctx_new(), *client_ctx = zmq_ctx_new();
    runner.zctx = ctx;
    void *pull = socket_of(ctx, ZMQ_PULL);
    MU_CHECK_EQ(mu__curve_server(&runner, pull), 0);
    MU_CHECK(runner.zap != NULL);
    MU_CHECK_EQ(zmq_bind(pull, "tcp://127.0.0.1:*"), 0);
    char endpoint[64];
    size_t len = sizeof endpoint;
    MU_CHECK_EQ(zmq_getsockopt(pull, ZMQ_LAST_ENDPOINT, endpoint, &len), 0);

    MU_CHECK(intruder_refused(client_ctx, endpoint));
    MU_CHECK_EQ(mu__curve_refused(&runner), 1);
    MU_CHECK_EQ(mu__curve_refused(&runner), 0); /* taken */

    mu__runner_t sender = { .flow = &flow, .st = &stage, .zctx = client_ctx };
    void *push = socket_of(client_ctx, ZMQ_PUSH);
    MU_CHECK_EQ(mu__curve_client(&sender, push), 0);
    MU_CHECK_EQ(zmq_connect(push, endpoint), 0);
    MU_CHECK_EQ(zmq_send(push, "real", 4, 0), 4);
    char buf[16];
    MU_CHECK_EQ(zmq_recv(pull, buf, sizeof buf, 0), 4);
    MU_CHECK(memcmp(buf, "real", 4) == 0);
    MU_CHECK_EQ(zmq_recv(pull, buf, sizeof buf, ZMQ_DONTWAIT), -1); /* nothing forged */
    MU_CHECK_EQ(mu__curve_refused(&runner), 0);
    zmq_close(push);

    /* Another context: the handler does not serve it. */
    void *other = zmq_ctx_new();
    void *pull2 = socket_of(other, ZMQ_PULL);
    runner.zctx = other;
    MU_CHECK_EQ(mu__curve_server(&runner, pull2), MU_EINVAL);
    runner.zctx = ctx;
    zmq_close(pull2);
    zmq_ctx_term(other);

    zmq_close(pull);
    MU_CHECK_EQ(zmq_ctx_term(ctx), 0); /* the handler let go of its socket */
    zmq_ctx_term(client_ctx);
}

/*  A forked child has no handler thread: a CURVE server there fails
    closed, before touching the socket. */
static void
test_forked_child_fails_closed(void)
{
    make_keys();
    mu__runner_t *r = &forked_runner;
    r->zctx = zmq_ctx_new();
    void *pull = socket_of(r->zctx, ZMQ_PULL);
    MU_CHECK_EQ(mu__curve_server(r, pull), 0);
    pid_t pid = fork();
    if (pid == 0) /* the same context pointer, no thread: refused */
        _exit(mu__curve_server(r, pull) == MU_EINVAL ? 0 : 1);
    int status = -1;
    MU_CHECK_EQ(waitpid(pid, &status, 0), pid);
    MU_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    MU_CHECK_EQ(mu__curve_server(r, pull), 0); /* here it still runs */
    zmq_close(pull);
    MU_CHECK_EQ(zmq_ctx_term(r->zctx), 0);
}

int
main(void)
{
    mu_test_start(120);
    MU_RUN(test_handler_of_its_context);
    MU_RUN(test_forked_child_fails_closed);
    MU_DONE();
}
