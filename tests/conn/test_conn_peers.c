/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  test_conn_peers.c — mu_server / mu_client with peers that misbehave:
    SIGKILLed and frozen clients leave (heartbeats), a restarted server,
    malformed input on a raw socket, back-pressure on pushes, a full client
    queue, and signals interrupting calls (EINTR). */
#include "conn_cases.h"

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

/*  A server with an idle client process (tests/conn helper "--idle-client",
    which says "doomed" when it joins) joined to it: the server, or NULL
    (the child killed) after a failed check; *pid_p and *peer_p set. */
static mu_server_t *
server_with_idle_client(pid_t *pid_p, uint64_t *peer_p)
{
    mu_server_t *server = insecure_server("tcp://127.0.0.1:*");
    if (!server)
        return NULL;
    *pid_p = spawn("--idle-client", mu_server_endpoint(server, 0));
    mu_event_t *join = *pid_p > 0 ? expect_event(server, MU_SERVER_JOIN, 5000) : NULL;
    bool joined = join && strcmp(mu_event_data(join, NULL), "doomed") == 0;
    if (joined)
        *peer_p = mu_event_peer(join);
    mu_event_destroy(&join);
    if (!joined) {
        if (*pid_p > 0)
            kill_child(*pid_p);
        mu_server_destroy(&server);
    }
    return server;
}

static void
test_sigkill_leave(void)
{
    pid_t pid;
    uint64_t peer;
    mu_server_t *server = server_with_idle_client(&pid, &peer);
    MU_CHECK(server);
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
    pid_t pid;
    uint64_t peer;
    mu_server_t *server = server_with_idle_client(&pid, &peer);
    MU_CHECK(server);
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

/* The client outlives its server: a new server process on the same
   endpoint answers it. The new process (exec'd, under the sanitizers) may
   take long to bind on a loaded machine: requests are retried until one is
   answered, within a generous scaled bound; every wait is scaled. */
static void
test_server_restart(void)
{
    char ep[256];
    ipc_endpoint(ep, sizeof ep);
    pid_t pid = spawn("--serve", ep);
    MU_CHECK(pid > 0);
    mu_client_t *client = insecure_client(ep, NULL);
    MU_CHECK(client);
    int rc = mu_client_wait_ready(client, mu_test_ms(5000));
    if (rc == 0)
        rc = request_str(client, "one", mu_test_ms(5000), NULL);
    kill_child(pid);
    MU_CHECK_EQ(rc, 0);
    pid = spawn("--serve", ep);
    MU_CHECK(pid > 0);
    rc = MU_ETIMEDOUT;
    int64_t deadline = mu_test_now_ms() + mu_test_ms(30000);
    while (rc != 0 && mu_test_now_ms() < deadline)
        rc = request_str(client, "two", mu_test_ms(1000), NULL);
    int rc2 = request_str(client, "three", mu_test_ms(5000), NULL);
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
    zsock_set_rcvtimeo(raw, mu_test_ms(5000));
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

/* The server's answer to what raw just sent, which must cause no event.
   The server works only inside its calls: it is pumped (mu_server_recv,
   which must time out) until the answer is there, up to a scaled bound;
   a loaded machine may deliver raw's message after any fixed window.
   Returns the kind as raw_recv, or -1 (an event, or no answer). */
static int
pump_recv(mu_server_t *server, zsock_t *raw, uint64_t *id_p, int *code_p)
{
    int64_t deadline = mu_test_now_ms() + mu_test_ms(5000);
    do {
        mu_event_t *event = NULL;
        if (mu_server_recv(server, &event, 20) != MU_ETIMEDOUT) {
            mu_event_destroy(&event);
            return -1;
        }
        if (zsock_events(raw) & ZMQ_POLLIN)
            return raw_recv(raw, id_p, code_p);
    } while (mu_test_now_ms() < deadline);
    return -1;
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
    /* before hello */
    MU_CHECK_EQ(raw_send(raw, WIRE, 0x04, 5, "early", 1), 0);
    MU_CHECK_EQ(pump_recv(server, raw, &id, &code), 0x24);
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
        code = 0;
        MU_CHECK_EQ(pump_recv(server, raw, &id, &code), 0x24);
        MU_CHECK_EQ(id, bad[i].id);
        MU_CHECK_EQ(code, MU_EPROTO);
    }
    /* a short header: answered with id 0 */
    zstr_send(raw, "abc");
    MU_CHECK_EQ(pump_recv(server, raw, &id, &code), 0x24);
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
    MU_CHECK_EQ(pump_recv(server, raw, &id, NULL), 0x22);
    /* a file kind on a server without a root: MU_ENOTSUP, not a protocol error */
    MU_CHECK_EQ(raw_send(raw, WIRE, 0x40, 44, "x", 1), 0);
    MU_CHECK_EQ(pump_recv(server, raw, &id, &code), 0x24);
    MU_CHECK_EQ(code, MU_ENOTSUP);
    zsock_destroy(&raw);
    mu_server_destroy(&server);
}

/* Pushes again while the push fails with MU_EAGAIN, for up to ms (scaled):
   a pipe that libzmq is still flushing to the socket soon has room again,
   a peer that reads nothing never. Returns the last push's result. */
typedef struct {
    mu_server_t *server;
    uint64_t peer;
    const void *data;
    size_t size;
    int rc;
} retry_t;

static bool
push_done(void *arg)
{
    retry_t *r = arg;
    r->rc = mu_server_push(r->server, r->peer, r->data, r->size);
    return r->rc != MU_EAGAIN;
}

/* (mu_server has no event for room in a peer's pipe: mu_test_poll_until.) */
static int
push_retry(mu_server_t *server, uint64_t peer, const void *data, size_t size, int ms)
{
    retry_t r = { server, peer, data, size, 0 };
    mu_test_poll_until(push_done, &r, ms);
    return r.rc;
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
        usleep(10 * 1000); /* the pokes' pace, not a wait */
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

int
main(int argc, char **argv)
{
    int rc = conn_suite_begin(argc, argv);
    if (rc >= 0)
        return rc;
    MU_RUN(test_sigkill_leave);
    MU_RUN(test_frozen_client_leaves);
    MU_RUN(test_server_restart);
    MU_RUN(test_malformed);
    MU_RUN(test_backpressure);
    MU_RUN(test_client_queue_full);
    MU_RUN(test_eintr);
    conn_suite_end();
    MU_DONE();
}
