/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  test_ws.c — the private WebSocket endpoint (src/net/mu_ws.h): a
    connecting mu__ws talking to a listening one over 127.0.0.1, and raw
    TCP peers for what an lws client cannot be made to do (stay silent to
    pings, send a handshake with a chosen Origin). Every wait is on
    mu__ws_fd (poll) with a bound scaled by MU_TEST_SCALE. */
#include "mu_test.h"
#include "net/mu_ws.h"
#include <czmq.h>
#include <fcntl.h>

/*  The next event of ws within timeout_ms (scaled); false on timeout. */
static bool
next_event(mu__ws_t *ws, mu__ws_event_t *ev, int timeout_ms)
{
    int64_t deadline = mu_test_now_ms() + mu_test_ms(timeout_ms);
    for (;;) {
        if (mu__ws_recv(ws, ev) == 0)
            return true;
        int64_t left = deadline - mu_test_now_ms();
        if (left <= 0)
            return false;
        struct pollfd p = { .fd = mu__ws_fd(ws), .events = POLLIN };
        poll(&p, 1, (int) left);
    }
}

/*  Waits for an event of kind; returns its client id, 0 on timeout or
    another kind (printed). */
static uint64_t
expect(mu__ws_t *ws, mu__ws_kind_t kind, mu__ws_event_t *ev)
{
    mu__ws_event_t local;
    if (!ev)
        ev = &local;
    if (!next_event(ws, ev, 10000)) {
        printf("# no event (wanted kind %d)\n", (int) kind);
        return 0;
    }
    if (ev->kind != kind) {
        printf("# event kind %d (client %llu, %zu bytes), wanted %d\n", (int) ev->kind,
               (unsigned long long) ev->client, ev->size, (int) kind);
        return 0;
    }
    return ev->client;
}


#define CERT MU_WS_TEST_DATA "/ws_test_cert.pem"
#define KEY MU_WS_TEST_DATA "/ws_test_key.pem"

static mu__ws_stats_t
stats_of(const mu__ws_t *ws)
{
    mu__ws_stats_t st = { .size = sizeof st };
    if (mu__ws_stats(ws, &st) != 0)
        printf("# mu__ws_stats failed\n");
    return st;
}

/*  Whether ws has no event for ms (a window in which nothing may happen). */
static bool
quiet_for(mu__ws_t *ws, int ms)
{
    struct pollfd p = { .fd = mu__ws_fd(ws), .events = POLLIN };
    return poll(&p, 1, ms) == 0;
}

/* ---- raw TCP peers ------------------------------------------------------ */

static int
raw_connect(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons((uint16_t) port) };
    inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
    if (fd >= 0 && connect(fd, (struct sockaddr *) &sin, sizeof sin) != 0) {
        close(fd);
        fd = -1;
    }
    return fd;
}

/*  Reads up to size bytes from fd within timeout_ms (scaled) until the
    buffer holds the string end (NULL: after the first read) or EOF;
    returns the bytes read. */
static size_t
raw_read_until(int fd, char *buf, size_t size, const char *end, int timeout_ms)
{
    size_t got = 0;
    int64_t deadline = mu_test_now_ms() + mu_test_ms(timeout_ms);
    buf[0] = 0;
    while (got + 1 < size && !(end && strstr(buf, end))) {
        int64_t left = deadline - mu_test_now_ms();
        struct pollfd p = { .fd = fd, .events = POLLIN };
        if (left <= 0 || poll(&p, 1, (int) left) <= 0)
            break;
        ssize_t n = read(fd, buf + got, size - 1 - got);
        if (n <= 0)
            break;
        got += (size_t) n;
        buf[got] = 0;
        if (!end)
            break;
    }
    return got;
}

/*  Sends a WebSocket handshake (with an Origin header unless NULL) on a
    new connection to port; returns the fd and the HTTP status in
    *status_p (0: no answer). */
static int
raw_handshake(int port, const char *origin, int *status_p)
{
    *status_p = 0;
    int fd = raw_connect(port);
    if (fd < 0)
        return -1;
    char req[512];
    int n = snprintf(req, sizeof req,
                     "GET / HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\n"
                     "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                     "Sec-WebSocket-Version: 13\r\n%s%s%s\r\n",
                     port, origin ? "Origin: " : "", origin ? origin : "", origin ? "\r\n" : "");
    if (write(fd, req, (size_t) n) != n) {
        close(fd);
        return -1;
    }
    char reply[2048];
    raw_read_until(fd, reply, sizeof reply, "\r\n\r\n", 10000);
    if (strncmp(reply, "HTTP/1.", 7) == 0 && reply[8] == ' ')
        *status_p = atoi(reply + 9);
    else
        printf("# handshake answer: '%.60s'\n", reply);
    return fd;
}

static mu__ws_t *
listen_ws(mu__ws_config_t config)
{
    config.listen = true;
    mu__ws_t *ws = mu__ws_new(&config);
    if (!ws)
        printf("# listen: %s\n", mu_last_error());
    return ws;
}

static mu__ws_t *
connect_ws(mu__ws_config_t config, int port)
{
    config.listen = false;
    config.port = port;
    mu__ws_t *ws = mu__ws_new(&config);
    if (!ws)
        printf("# connect: %s\n", mu_last_error());
    return ws;
}

/*  A server and a client connected to it: *server_id is the client's id
    on the server, *client_id the connection's id on the client. */
static bool
pair_up(mu__ws_t *server, mu__ws_t *client, uint64_t *server_id, uint64_t *client_id)
{
    *client_id = expect(client, MU__WS_OPEN, NULL);
    *server_id = expect(server, MU__WS_OPEN, NULL);
    return *client_id && *server_id;
}

static void
test_text_round_trip(void)
{
    mu__ws_t *server = listen_ws((mu__ws_config_t) { 0 });
    MU_CHECK(server);
    MU_CHECK(mu__ws_port(server) > 0);
    mu__ws_t *client = connect_ws((mu__ws_config_t) { 0 }, mu__ws_port(server));
    MU_CHECK(client);
    uint64_t sid, cid;
    MU_CHECK(pair_up(server, client, &sid, &cid));
    MU_CHECK_EQ(mu__ws_clients(server), 1);

    MU_CHECK_EQ(mu__ws_send(client, cid, "hello", 5, false), 0);
    mu__ws_event_t ev;
    MU_CHECK_EQ(expect(server, MU__WS_TEXT, &ev), sid);
    MU_CHECK_EQ(ev.size, 5);
    MU_CHECK(memcmp(ev.data, "hello", 6) == 0); /* NUL-terminated */

    const unsigned char bin[] = { 0, 1, 2, 255 };
    MU_CHECK_EQ(mu__ws_send(server, sid, bin, sizeof bin, true), 0);
    MU_CHECK_EQ(expect(client, MU__WS_BINARY, &ev), cid);
    MU_CHECK_EQ(ev.size, sizeof bin);
    MU_CHECK(memcmp(ev.data, bin, sizeof bin) == 0);

    mu__ws_destroy(&client);
    MU_CHECK(!client);
    MU_CHECK_EQ(expect(server, MU__WS_CLOSED, NULL), sid);
    mu__ws_stats_t st = { .size = sizeof st };
    MU_CHECK_EQ(mu__ws_stats(server, &st), 0);
    MU_CHECK_EQ(st.accepted, 1);
    MU_CHECK_EQ(st.clients, 0);
    MU_CHECK_EQ(st.messages_in, 1);
    MU_CHECK_EQ(st.messages_out, 1);
    MU_CHECK_EQ(st.bytes_out, sizeof bin);
    mu__ws_destroy(&server);
    mu__ws_destroy(&server); /* NULL accepted */
}


/*  A message of exactly max_message passes; one byte more closes the
    sender with 1009 (counted); a send over max_message is MU_EMSGSIZE. */
static void
test_max_message(void)
{
    mu__ws_t *server = listen_ws((mu__ws_config_t) { .max_message = 1000 });
    MU_CHECK(server);
    mu__ws_t *client = connect_ws((mu__ws_config_t) { .max_message = 4000 }, mu__ws_port(server));
    MU_CHECK(client);
    uint64_t sid, cid;
    MU_CHECK(pair_up(server, client, &sid, &cid));
    char big[1001];
    memset(big, 'x', sizeof big);
    MU_CHECK_EQ(mu__ws_send(server, sid, big, 1001, false), MU_EMSGSIZE);
    MU_CHECK_EQ(mu__ws_send(client, cid, big, 1000, false), 0);
    mu__ws_event_t ev;
    MU_CHECK_EQ(expect(server, MU__WS_TEXT, &ev), sid);
    MU_CHECK_EQ(ev.size, 1000);
    MU_CHECK_EQ(mu__ws_send(client, cid, big, 1001, true), 0);
    MU_CHECK_EQ(expect(server, MU__WS_CLOSED, NULL), sid);
    MU_CHECK_EQ(expect(client, MU__WS_CLOSED, NULL), cid);
    MU_CHECK_EQ(stats_of(server).oversized, 1);
    MU_CHECK_EQ(stats_of(server).messages_in, 1);
    mu__ws_destroy(&client);
    mu__ws_destroy(&server);
}

static bool
same_back(mu__ws_t *from, uint64_t from_id, mu__ws_t *to, uint64_t to_id, size_t size, bool binary)
{
    unsigned char *data = malloc(size + 1);
    for (size_t i = 0; i < size; i++)
        data[i] = binary ? (unsigned char) (i * 7 + (i >> 8)) : (unsigned char) ('a' + i % 26);
    bool ok = mu__ws_send(from, from_id, data, size, binary) == 0;
    mu__ws_event_t ev;
    ok = ok && expect(to, binary ? MU__WS_BINARY : MU__WS_TEXT, &ev) == to_id;
    ok = ok && ev.size == size && memcmp(ev.data, data, size) == 0;
    if (!ok)
        printf("# message of %zu bytes (%s) not received intact\n", size,
               binary ? "binary" : "text");
    free(data);
    return ok;
}

/*  Messages around the frame size (16 KiB), and 1 MiB ones, both ways:
    written as fragmented messages, assembled whole. */
static void
test_fragments(void)
{
    mu__ws_t *server = listen_ws((mu__ws_config_t) { 0 });
    MU_CHECK(server);
    mu__ws_t *client = connect_ws((mu__ws_config_t) { 0 }, mu__ws_port(server));
    MU_CHECK(client);
    uint64_t sid, cid;
    MU_CHECK(pair_up(server, client, &sid, &cid));
    const size_t sizes[] = { 0, 1, 16383, 16384, 16385, 100000, MU__WS_MAX_MESSAGE };
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        MU_CHECK(same_back(client, cid, server, sid, sizes[i], i % 2));
        MU_CHECK(same_back(server, sid, client, cid, sizes[i], !(i % 2)));
    }
    MU_CHECK_EQ(stats_of(server).messages_in, 7);
    mu__ws_destroy(&client);
    mu__ws_destroy(&server);
}

/*  mu__ws_close writes what is queued first, then closes with the code;
    the client reconnects with a new id on both sides; sends and closes to
    a client that is gone are MU_ENOENT. */
static void
test_close_and_enoent(void)
{
    mu__ws_t *server = listen_ws((mu__ws_config_t) { 0 });
    MU_CHECK(server);
    mu__ws_t *client = connect_ws((mu__ws_config_t) { .reconnect_ms = 10 }, mu__ws_port(server));
    MU_CHECK(client);
    uint64_t sid, cid;
    MU_CHECK(pair_up(server, client, &sid, &cid));
    MU_CHECK_EQ(mu__ws_send(server, 999, "x", 1, false), MU_ENOENT);
    MU_CHECK_EQ(mu__ws_close(server, 999, 1000, NULL), MU_ENOENT);
    for (int i = 0; i < 3; i++)
        MU_CHECK_EQ(mu__ws_send(server, sid, "abc", 3, false), 0);
    MU_CHECK_EQ(mu__ws_close(server, sid, 4000, "bye"), 0);
    MU_CHECK_EQ(mu__ws_send(server, sid, "late", 4, false), MU_ENOENT); /* closing */
    for (int i = 0; i < 3; i++)
        MU_CHECK_EQ(expect(client, MU__WS_TEXT, NULL), cid);
    MU_CHECK_EQ(expect(client, MU__WS_CLOSED, NULL), cid);
    MU_CHECK_EQ(expect(server, MU__WS_CLOSED, NULL), sid);
    MU_CHECK_EQ(mu__ws_send(server, sid, "x", 1, false), MU_ENOENT);
    MU_CHECK_EQ(mu__ws_send(client, cid, "x", 1, false), MU_ENOENT);
    uint64_t sid2, cid2;
    MU_CHECK(pair_up(server, client, &sid2, &cid2));
    MU_CHECK(sid2 > sid && cid2 > cid);
    MU_CHECK_EQ(stats_of(client).reconnects, 1);
    MU_CHECK(same_back(client, cid2, server, sid2, 10, false));
    mu__ws_destroy(&client);
    mu__ws_destroy(&server);
}

static void
expect_einval(mu__ws_config_t config, const char *what)
{
    errno = 0;
    mu__ws_t *ws = mu__ws_new(&config);
    if (ws || errno != EINVAL)
        printf("# %s: %s, errno %d\n", what, ws ? "created" : "NULL", errno);
    else
        printf("# %s: %s\n", what, mu_last_error());
    mu__ws_destroy(&ws);
    if (errno != EINVAL)
        mu_test_case_failed = 1;
}

static void
test_bad_settings(void)
{
    char junk[] = "/tmp/test_ws_junk.XXXXXX";
    int fd = mkstemp(junk);
    MU_CHECK(fd >= 0);
    MU_CHECK(write(fd, "not a certificate\n", 18) == 18);
    close(fd);
    expect_einval((mu__ws_config_t) { .listen = true, .key_file = KEY }, "key without certificate");
    expect_einval((mu__ws_config_t) { .listen = true, .cert_file = CERT },
                  "certificate without key");
    expect_einval(
        (mu__ws_config_t) { .listen = true, .cert_file = "/nonexistent/cert.pem", .key_file = KEY },
        "unreadable certificate");
    expect_einval((mu__ws_config_t) { .listen = true, .cert_file = CERT, .key_file = "/" },
                  "key is a directory");
    expect_einval((mu__ws_config_t) { .listen = true, .cert_file = junk, .key_file = KEY },
                  "certificate file of junk");
    expect_einval((mu__ws_config_t) { .listen = true, .tls = true }, "tls without certificate");
    expect_einval((mu__ws_config_t) { .listen = false, .port = 0 }, "connect to port 0");
    expect_einval((mu__ws_config_t) { .listen = true, .port = 70000 }, "port 70000");
    expect_einval((mu__ws_config_t) { .listen = true, .overflow = 7 }, "overflow 7");
    expect_einval((mu__ws_config_t) { .listen = true, .ping_interval_ms = -2 }, "ping -2");
    expect_einval((mu__ws_config_t) { .listen = false,
                                      .port = 1,
                                      .tls = true,
                                      .ca_file = "/nonexistent/ca.pem" },
                  "unreadable CA file");
    expect_einval((mu__ws_config_t) { .listen = false, .port = 1, .path = "no-slash" },
                  "path without /");
    unlink(junk);
    MU_CHECK(!mu_test_case_failed);

    mu__ws_t *first = listen_ws((mu__ws_config_t) { 0 });
    MU_CHECK(first);
    errno = 0;
    mu__ws_t *second = mu__ws_new(
        &(mu__ws_config_t) { .listen = true, .port = mu__ws_port(first) });
    int err = errno;
    mu__ws_destroy(&second);
    mu__ws_destroy(&first);
    MU_CHECK_EQ(err, EADDRINUSE);
}

/*  Origin: the configured one passes (raw and lws clients), another or
    none is refused with 403 and counted. */
static void
test_origin(void)
{
    const char *good = "http://good.example:8080";
    mu__ws_t *server = listen_ws((mu__ws_config_t) { .origin = good });
    MU_CHECK(server);
    int port = mu__ws_port(server);
    int status;
    int fd = raw_handshake(port, good, &status);
    MU_CHECK(fd >= 0);
    MU_CHECK_EQ(status, 101);
    uint64_t sid = expect(server, MU__WS_OPEN, NULL);
    MU_CHECK(sid);
    close(fd);
    MU_CHECK_EQ(expect(server, MU__WS_CLOSED, NULL), sid);

    fd = raw_handshake(port, "http://evil.example", &status);
    MU_CHECK(fd >= 0);
    close(fd);
    MU_CHECK_EQ(status, 403);
    fd = raw_handshake(port, NULL, &status);
    MU_CHECK(fd >= 0);
    close(fd);
    MU_CHECK_EQ(status, 403);
    MU_CHECK_EQ(stats_of(server).refused_origin, 2);

    mu__ws_t *client = connect_ws((mu__ws_config_t) { .origin = good }, port);
    MU_CHECK(client);
    uint64_t cid;
    MU_CHECK(pair_up(server, client, &sid, &cid));
    mu__ws_destroy(&client);
    MU_CHECK_EQ(stats_of(server).accepted, 2);
    mu__ws_destroy(&server);
}

/*  Refusals with 503: over max_clients, and while the owner lets the event
    queue grow over event_max (OPEN events count too). */
static void
test_max_clients(void)
{
    mu__ws_t *server = listen_ws((mu__ws_config_t) { .max_clients = 2 });
    MU_CHECK(server);
    int port = mu__ws_port(server);
    int status, fds[4];
    for (int i = 0; i < 2; i++) {
        fds[i] = raw_handshake(port, NULL, &status);
        MU_CHECK_EQ(status, 101);
        MU_CHECK(expect(server, MU__WS_OPEN, NULL));
    }
    fds[2] = raw_handshake(port, NULL, &status);
    MU_CHECK_EQ(status, 503);
    MU_CHECK_EQ(stats_of(server).refused, 1);
    MU_CHECK_EQ(mu__ws_clients(server), 2);
    close(fds[0]);
    MU_CHECK(expect(server, MU__WS_CLOSED, NULL));
    fds[3] = raw_handshake(port, NULL, &status);
    MU_CHECK_EQ(status, 101); /* room again */
    for (int i = 1; i < 4; i++)
        close(fds[i]);
    mu__ws_destroy(&server);

    server = listen_ws((mu__ws_config_t) { .event_max = 100 }); /* under two events */
    MU_CHECK(server);
    port = mu__ws_port(server);
    for (int i = 0; i < 3; i++) {
        fds[i] = raw_handshake(port, NULL, &status);
        MU_CHECK_EQ(status, i < 2 ? 101 : 503);
    }
    MU_CHECK(expect(server, MU__WS_OPEN, NULL) && expect(server, MU__WS_OPEN, NULL));
    fds[3] = raw_handshake(port, NULL, &status);
    MU_CHECK_EQ(status, 101); /* read: room again */
    for (int i = 0; i < 4; i++)
        close(fds[i]);
    mu__ws_destroy(&server);
}

/*  wss: a client that accepts any certificate, and one that verifies it
    against the certificate itself as its CA (by name: localhost). */
static void
test_tls(void)
{
    mu__ws_t *server = listen_ws((mu__ws_config_t) { .cert_file = CERT, .key_file = KEY });
    MU_CHECK(server);
    int port = mu__ws_port(server);
    mu__ws_t *insecure = connect_ws((mu__ws_config_t) { .tls = true, .tls_insecure = true }, port);
    MU_CHECK(insecure);
    uint64_t sid, cid;
    MU_CHECK(pair_up(server, insecure, &sid, &cid));
    MU_CHECK(same_back(insecure, cid, server, sid, 70000, true));
    MU_CHECK(same_back(server, sid, insecure, cid, 5, false));
    mu__ws_destroy(&insecure);
    MU_CHECK_EQ(expect(server, MU__WS_CLOSED, NULL), sid);

    mu__ws_t *verified = connect_ws(
        (mu__ws_config_t) { .tls = true, .ca_file = CERT, .host = "localhost" }, port);
    MU_CHECK(verified);
    MU_CHECK(pair_up(server, verified, &sid, &cid));
    MU_CHECK(same_back(verified, cid, server, sid, 5, false));
    mu__ws_destroy(&verified);
    mu__ws_destroy(&server);
}

/*  A connecting endpoint reconnects when the server comes back on the
    same port. */
static void
test_reconnect(void)
{
    mu__ws_t *server = listen_ws((mu__ws_config_t) { 0 });
    MU_CHECK(server);
    int port = mu__ws_port(server);
    mu__ws_t *client = connect_ws((mu__ws_config_t) { .reconnect_ms = 20 }, port);
    MU_CHECK(client);
    uint64_t sid, cid;
    MU_CHECK(pair_up(server, client, &sid, &cid));
    mu__ws_destroy(&server);
    MU_CHECK_EQ(expect(client, MU__WS_CLOSED, NULL), cid);
    server = listen_ws((mu__ws_config_t) { .port = port });
    MU_CHECK(server);
    MU_CHECK(pair_up(server, client, &sid, &cid));
    MU_CHECK(same_back(client, cid, server, sid, 3, false));
    MU_CHECK_EQ(stats_of(client).reconnects, 1);
    mu__ws_destroy(&client);
    mu__ws_destroy(&server);
}

/*  A peer that answers no ping is closed after interval + timeout (whole
    seconds in lws), counted; the ping frame itself is seen on the wire. */
static void
test_ping_timeout(void)
{
    mu__ws_t *server = listen_ws(
        (mu__ws_config_t) { .ping_interval_ms = 1000, .ping_timeout_ms = 1000 });
    MU_CHECK(server);
    int status;
    int fd = raw_handshake(mu__ws_port(server), NULL, &status);
    MU_CHECK_EQ(status, 101);
    uint64_t sid = expect(server, MU__WS_OPEN, NULL);
    MU_CHECK(sid);
    unsigned char frame[64];
    size_t got = raw_read_until(fd, (char *) frame, sizeof frame, NULL, 10000);
    MU_CHECK(got >= 2);
    MU_CHECK_EQ(frame[0], 0x89); /* FIN + ping */
    int64_t t0 = mu_test_now_ms();
    MU_CHECK_EQ(expect(server, MU__WS_CLOSED, NULL), sid);
    MU_CHECK(mu_test_now_ms() - t0 >= 500); /* after the timeout, not at once */
    MU_CHECK_EQ(stats_of(server).ping_timeouts, 1);
    close(fd);
    mu__ws_destroy(&server);
}

/*  An lws peer answers pings: an idle connection outlives several ping
    intervals (1 s) and more than interval + timeout. */
static void
test_keepalive(void)
{
    int timeout = mu_test_ms(2000); /* a loaded machine may answer late */
    mu__ws_config_t ka = { .ping_interval_ms = 1000, .ping_timeout_ms = timeout };
    mu__ws_t *server = listen_ws(ka);
    MU_CHECK(server);
    mu__ws_t *client = connect_ws(ka, mu__ws_port(server));
    MU_CHECK(client);
    uint64_t sid, cid;
    MU_CHECK(pair_up(server, client, &sid, &cid));
    MU_CHECK(quiet_for(server, 1000 + timeout + 2000)); /* nothing may happen */
    MU_CHECK(quiet_for(client, 0));
    MU_CHECK(same_back(client, cid, server, sid, 4, false));
    MU_CHECK_EQ(stats_of(server).ping_timeouts, 0);
    MU_CHECK_EQ(stats_of(client).ping_timeouts, 0);
    mu__ws_destroy(&client);
    mu__ws_destroy(&server);
}

/*  A 16 KiB binary message carrying seq in its first bytes. */
static mu__ws_msg_t *
seq_msg(uint32_t seq)
{
    static unsigned char buf[16384];
    memset(buf, (int) (seq & 0xff), sizeof buf);
    memcpy(buf, &seq, sizeof seq);
    return mu__ws_msg_new(buf, sizeof buf, true);
}

static uint32_t
seq_of(const mu__ws_event_t *ev)
{
    uint32_t seq = UINT32_MAX;
    if (ev->size == 16384)
        memcpy(&seq, ev->data, sizeof seq);
    return seq;
}

/*  The server sends the same messages to a fast client (read at once) and
    a slow one whose owner reads nothing (its small event_max stops lws
    reading, so the server's queue to it grows) until the policy acts.
    Returns how many were sent (to both), 0 on failure. */
static uint32_t
flood_until_overflow(mu__ws_t *server, uint64_t fast_sid, mu__ws_t *fast, uint64_t fast_cid,
                     uint64_t slow_sid)
{
    for (uint32_t seq = 0; seq < 8000; seq++) {
        mu__ws_msg_t *msg = seq_msg(seq);
        int rc_fast = mu__ws_send_msg(server, fast_sid, msg);
        int rc_slow = mu__ws_send_msg(server, slow_sid, msg);
        mu__ws_msg_unref(&msg);
        mu__ws_event_t ev;
        if (rc_fast != 0 || expect(fast, MU__WS_BINARY, &ev) != fast_cid || seq_of(&ev) != seq) {
            printf("# fast client: message %u lost (send %d)\n", seq, rc_fast);
            return 0;
        }
        mu__ws_stats_t st = stats_of(server);
        if (rc_slow == MU_EPIPE || st.dropped > 0)
            return seq + 1;
        if (rc_slow != 0) {
            printf("# slow client: send %u: %d\n", seq, rc_slow);
            return 0;
        }
    }
    printf("# the slow client's queue never overflowed\n");
    return 0;
}

/*  A server with a 64 KiB queue per client and overflow policy, a fast
    client and a slow one (event_max 4 KiB) paired up with it, flooded
    until the policy acts (b->sent: the messages sent to the slow one). */
typedef struct {
    mu__ws_t *server, *fast, *slow;
    uint64_t fsid, fcid, ssid, scid;
    uint32_t sent;
} slow_bed_t;

static void
slow_bed(slow_bed_t *b, mu__ws_overflow_t overflow)
{
    *b = (slow_bed_t) { 0 };
    b->server = listen_ws((mu__ws_config_t) { .queue_max = 65536, .overflow = overflow });
    MU_CHECK(b->server);
    int port = mu__ws_port(b->server);
    b->fast = connect_ws((mu__ws_config_t) { 0 }, port);
    MU_CHECK(b->fast && pair_up(b->server, b->fast, &b->fsid, &b->fcid));
    b->slow = connect_ws((mu__ws_config_t) { .event_max = 4096 }, port);
    MU_CHECK(b->slow && pair_up(b->server, b->slow, &b->ssid, &b->scid));
    b->sent = flood_until_overflow(b->server, b->fsid, b->fast, b->fcid, b->ssid);
    MU_CHECK(b->sent > 0);
}

static void
test_slow_disconnect(void)
{
    slow_bed_t b;
    slow_bed(&b, MU__WS_DISCONNECT);
    uint32_t sent = b.sent;
    printf("# slow client disconnected after %u messages of 16 KiB\n", sent);
    MU_CHECK_EQ(stats_of(b.server).slow, 1);
    int rc = mu__ws_send(b.server, b.ssid, "x", 1, false);
    MU_CHECK(rc == MU_EPIPE || rc == MU_ENOENT);
    MU_CHECK_EQ(expect(b.server, MU__WS_CLOSED, NULL), b.ssid);
    MU_CHECK_EQ(mu__ws_send(b.server, b.ssid, "x", 1, false), MU_ENOENT);
    MU_CHECK(same_back(b.server, b.fsid, b.fast, b.fcid, 100, false)); /* the fast one is fine */
    MU_CHECK_EQ(stats_of(b.server).dropped, 0);
    mu__ws_destroy(&b.slow);
    mu__ws_destroy(&b.fast);
    mu__ws_destroy(&b.server);
}

static void
test_slow_drop_oldest(void)
{
    slow_bed_t b;
    slow_bed(&b, MU__WS_DROP_OLDEST);
    uint32_t sent = b.sent;
    /* a few more, all queued (dropping older ones) */
    for (int i = 0; i < 8; i++, sent++) {
        mu__ws_msg_t *msg = seq_msg(sent);
        MU_CHECK_EQ(mu__ws_send_msg(b.server, b.ssid, msg), 0);
        mu__ws_msg_unref(&msg);
    }
    uint64_t dropped = stats_of(b.server).dropped;
    printf("# %u messages of 16 KiB sent to the slow client, %llu dropped\n", sent,
           (unsigned long long) dropped);
    MU_CHECK(dropped > 0);
    MU_CHECK_EQ(stats_of(b.server).slow, 0);
    /* The slow owner reads now: what was not dropped arrives in order,
       ending with the last one. */
    uint32_t got = 0, last = 0;
    bool first = true;
    while (first || last != sent - 1) {
        mu__ws_event_t ev;
        MU_CHECK_EQ(expect(b.slow, MU__WS_BINARY, &ev), b.scid);
        uint32_t seq = seq_of(&ev);
        MU_CHECK(seq < sent && (first || seq > last));
        last = seq;
        first = false;
        got++;
    }
    MU_CHECK_EQ(got + stats_of(b.server).dropped, sent);
    MU_CHECK(same_back(b.server, b.ssid, b.slow, b.scid, 10, false));
    mu__ws_destroy(&b.slow);
    mu__ws_destroy(&b.fast);
    mu__ws_destroy(&b.server);
}


/*  Inbound is bounded: a client sends far more than the server's event_max
    while the server's owner reads nothing; the server stops reading
    (bytes_in stays near event_max), then delivers everything once its
    owner reads. */
static void
test_inbound_flow_control(void)
{
    mu__ws_t *server = listen_ws((mu__ws_config_t) { .event_max = 65536 });
    MU_CHECK(server);
    mu__ws_t *client = connect_ws((mu__ws_config_t) { .queue_max = 16u << 20 },
                                  mu__ws_port(server));
    uint64_t sid, cid;
    MU_CHECK(client && pair_up(server, client, &sid, &cid));
    enum { COUNT = 300 };
    for (uint32_t i = 0; i < COUNT; i++) {
        mu__ws_msg_t *msg = seq_msg(i);
        MU_CHECK_EQ(mu__ws_send_msg(client, cid, msg), 0);
        mu__ws_msg_unref(&msg);
    }
    /* Wait until the server has paused (bytes_in stops growing), then
       check it stayed near the bound. */
    uint64_t before = 0, now = stats_of(server).bytes_in;
    while (now == 0 || now != before) {
        before = now;
        mu_test_sleep_ms(200); /* a window in which bytes_in must not move */
        now = stats_of(server).bytes_in;
    }
    printf("# %llu bytes read of %u (event_max 65536)\n", (unsigned long long) now, COUNT * 16384);
    MU_CHECK(now <= 65536 + 4 * 16384);
    for (uint32_t i = 0; i < COUNT; i++) {
        mu__ws_event_t ev;
        MU_CHECK_EQ(expect(server, MU__WS_BINARY, &ev), sid);
        MU_CHECK_EQ(seq_of(&ev), i);
    }
    MU_CHECK_EQ(stats_of(server).messages_in, COUNT);
    mu__ws_destroy(&client);
    mu__ws_destroy(&server);
}

/*  A text frame that is not UTF-8 (from a raw peer, masked as a client's
    must be) is refused by lws: the client is closed, no message. */
static void
test_invalid_utf8(void)
{
    mu__ws_t *server = listen_ws((mu__ws_config_t) { 0 });
    MU_CHECK(server);
    int status;
    int fd = raw_handshake(mu__ws_port(server), NULL, &status);
    MU_CHECK_EQ(status, 101);
    uint64_t sid = expect(server, MU__WS_OPEN, NULL);
    MU_CHECK(sid);
    const unsigned char payload[] = { 'o', 'k', 0xff, 0xfe };
    unsigned char frame[2 + 4 + sizeof payload] = { 0x81, 0x80 | sizeof payload, 1, 2, 3, 4 };
    for (size_t i = 0; i < sizeof payload; i++)
        frame[6 + i] = payload[i] ^ frame[2 + i % 4];
    MU_CHECK(write(fd, frame, sizeof frame) == (ssize_t) sizeof frame);
    MU_CHECK_EQ(expect(server, MU__WS_CLOSED, NULL), sid);
    MU_CHECK_EQ(stats_of(server).messages_in, 0);
    close(fd);
    mu__ws_destroy(&server);
}

/*  Many connecting endpoints on one server: a shared message broadcast to
    all, one message from each. */
#define MANY 200
static void
test_many_clients(void)
{
    mu__ws_t *server = listen_ws((mu__ws_config_t) { 0 });
    MU_CHECK(server);
    static mu__ws_t *clients[MANY];
    static uint64_t cids[MANY], sids[MANY];
    for (int i = 0; i < MANY; i++) {
        clients[i] = connect_ws((mu__ws_config_t) { 0 }, mu__ws_port(server));
        MU_CHECK(clients[i]);
    }
    for (int i = 0; i < MANY; i++) {
        sids[i] = expect(server, MU__WS_OPEN, NULL);
        cids[i] = expect(clients[i], MU__WS_OPEN, NULL);
        MU_CHECK(sids[i] && cids[i]);
    }
    MU_CHECK_EQ(mu__ws_clients(server), MANY);
    mu__ws_msg_t *msg = mu__ws_msg_new("{\"all\":1}", 9, false);
    MU_CHECK(msg);
    for (int i = 0; i < MANY; i++)
        MU_CHECK_EQ(mu__ws_send_msg(server, sids[i], msg), 0);
    mu__ws_msg_unref(&msg);
    MU_CHECK(!msg);
    for (int i = 0; i < MANY; i++) {
        mu__ws_event_t ev;
        MU_CHECK_EQ(expect(clients[i], MU__WS_TEXT, &ev), cids[i]);
        MU_CHECK(ev.size == 9 && memcmp(ev.data, "{\"all\":1}", 9) == 0);
        char text[32];
        int n = snprintf(text, sizeof text, "client %d", i);
        MU_CHECK_EQ(mu__ws_send(clients[i], cids[i], text, (size_t) n, false), 0);
    }
    for (int i = 0; i < MANY; i++)
        MU_CHECK(expect(server, MU__WS_TEXT, NULL));
    mu__ws_stats_t st = stats_of(server);
    MU_CHECK_EQ(st.messages_in, MANY);
    MU_CHECK_EQ(st.messages_out, MANY);
    for (int i = 0; i < MANY; i++)
        mu__ws_destroy(&clients[i]);
    for (int i = 0; i < MANY; i++)
        MU_CHECK(expect(server, MU__WS_CLOSED, NULL));
    MU_CHECK_EQ(mu__ws_clients(server), 0);
    mu__ws_destroy(&server);
}

/*  Destroying endpoints with messages queued to clients and events not
    taken frees them all (ASan's leak check at exit). */
static void
test_destroy_with_queued(void)
{
    mu__ws_t *server = listen_ws((mu__ws_config_t) { .queue_max = 64u << 20 });
    MU_CHECK(server);
    mu__ws_t *client = connect_ws((mu__ws_config_t) { .event_max = 4096 }, mu__ws_port(server));
    uint64_t sid, cid;
    MU_CHECK(client && pair_up(server, client, &sid, &cid));
    for (uint32_t i = 0; i < 400; i++) {
        mu__ws_msg_t *msg = seq_msg(i);
        MU_CHECK_EQ(mu__ws_send_msg(server, sid, msg), 0);
        mu__ws_msg_unref(&msg);
        MU_CHECK_EQ(mu__ws_send(client, cid, "unread", 6, false), 0);
    }
    MU_CHECK(expect(client, MU__WS_BINARY, NULL)); /* some arrived */
    mu__ws_destroy(&server);
    mu__ws_destroy(&client);
}


/*  A python3-websockets client (what browsers' and the proxy's peers look
    like): a text message each way and a binary one back. */
static const char
    *python_client = "import asyncio, sys, websockets\n"
                     "async def main():\n"
                     "    async with websockets.connect('ws://127.0.0.1:%d/') as ws:\n"
                     "        await ws.send('hello from python')\n"
                     "        print('text', await ws.recv())\n"
                     "        print('binary', (await ws.recv()).hex())\n"
                     "asyncio.run(asyncio.wait_for(main(), 60))\n";

/*  A python3 that has websockets: $PYTHON3 (configure's) or Debian's
    /usr/bin/python3; NULL when neither has. */
static const char *
python3(void)
{
    static const char *found;
    static bool looked;
    const char *candidates[] = { getenv("PYTHON3"), "/usr/bin/python3" };
    for (size_t i = 0; !looked && i < 2; i++) {
        char cmd[512];
        if (!candidates[i] || !*candidates[i])
            continue;
        snprintf(cmd, sizeof cmd, "%s -c 'import websockets' >/dev/null 2>&1", candidates[i]);
        if (system(cmd) == 0)
            found = candidates[i];
        looked = found != NULL;
    }
    looked = true;
    return found;
}

static void
test_python_client(void)
{
    mu__ws_t *server = listen_ws((mu__ws_config_t) { 0 });
    MU_CHECK(server);
    char script[1024], path[] = "/tmp/test_ws_py.XXXXXX";
    int fd = mkstemp(path);
    MU_CHECK(fd >= 0);
    int n = snprintf(script, sizeof script, python_client, mu__ws_port(server));
    MU_CHECK(write(fd, script, (size_t) n) == n);
    close(fd);
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "%s %s", python3(), path);
    FILE *child = popen(cmd, "r");
    MU_CHECK(child);
    mu__ws_event_t ev;
    uint64_t sid = expect(server, MU__WS_OPEN, NULL);
    bool ok = sid && expect(server, MU__WS_TEXT, &ev) == sid && ev.size == 17
              && memcmp(ev.data, "hello from python", 17) == 0
              && mu__ws_send(server, sid, "hi python", 9, false) == 0
              && mu__ws_send(server, sid, "\x00\x01\xff", 3, true) == 0
              && expect(server, MU__WS_CLOSED, NULL) == sid;
    char out[256] = "";
    size_t got = fread(out, 1, sizeof out - 1, child);
    out[got] = 0;
    int status = pclose(child);
    unlink(path);
    mu__ws_destroy(&server);
    if (!ok || status != 0)
        printf("# python said (status %d): %s\n", status, out);
    MU_CHECK(ok);
    MU_CHECK_EQ(status, 0);
    MU_CHECK(strcmp(out, "text hi python\nbinary 0001ff\n") == 0);
}

/*  MU_WS_ONLY=name runs that case alone (debugging). */
#define RUN(fn)                                   \
    do {                                          \
        const char *only_ = getenv("MU_WS_ONLY"); \
        if (!only_ || strcmp(only_, #fn) == 0)    \
            MU_RUN(fn);                           \
    } while (0)

int
main(void)
{
    mu_test_start(300);
    zsys_handler_set(NULL);
    RUN(test_text_round_trip);
    RUN(test_max_message);
    RUN(test_fragments);
    RUN(test_close_and_enoent);
    RUN(test_bad_settings);
    RUN(test_origin);
    RUN(test_max_clients);
    RUN(test_tls);
    RUN(test_reconnect);
    RUN(test_ping_timeout);
    RUN(test_keepalive);
    RUN(test_inbound_flow_control);
    RUN(test_invalid_utf8);
    RUN(test_slow_disconnect);
    RUN(test_slow_drop_oldest);
    RUN(test_many_clients);
    RUN(test_destroy_with_queued);
    if (python3())
        RUN(test_python_client);
    else
        MU_RUN_AS((void) 0, "test_python_client # SKIP python3 cannot import websockets");
    MU_DONE();
}
