/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  test_ws.c — the private WebSocket endpoint (src/net/mu_ws.h): a
    connecting mu__ws talking to a listening one over 127.0.0.1 (text,
    the maximum message, fragments, closing, settings, Origin, the client
    limit, a process out of descriptors, TLS, reconnecting, pings and
    keepalive, invalid UTF-8), a Python
    websockets client, and raw TCP peers for what an lws client cannot be
    made to do (stay silent to pings, send a handshake with a chosen
    Origin). Flow control and load are in test_ws_flow.c. */
#include "ws_cases.h"

#define CERT MU_WS_TEST_DATA "/ws_test_cert.pem"

#define KEY MU_WS_TEST_DATA "/ws_test_key.pem"

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
    /* an address of no interface here (TEST-NET-1): EIO, bind's reason */
    errno = 0;
    second = mu__ws_new(&(mu__ws_config_t) { .listen = true, .host = "192.0.2.1" });
    err = errno;
    MU_CHECK(!second);
    MU_CHECK_EQ(err, EIO);
    MU_CHECK(strstr(mu_last_error(), "192.0.2.1") && strstr(mu_last_error(), "assign"));
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

/* ---- out of descriptors ------------------------------------------------- */

#define FD_CLIENTS 4

/*  The child of test_accept_out_of_fds (its own open-file limit raised
    again): on 'g', connects FD_CLIENTS raw clients to port arg, each
    sending a handshake; says 'c' once all are connected (the kernel
    completed them: the server has them in its backlog), then reads their
    answers and sends the number of 101s as one byte. */
static void
clients_once_told(const char *arg, int fd)
{
    struct rlimit lim;
    if (getrlimit(RLIMIT_NOFILE, &lim) == 0) {
        lim.rlim_cur = lim.rlim_max < 4096 ? lim.rlim_max : 4096;
        (void) setrlimit(RLIMIT_NOFILE, &lim);
    }
    if (mu_test_wait_byte(fd, 30000) != 'g')
        _exit(1);
    int port = atoi(arg), c[FD_CLIENTS];
    char req[256];
    int n = snprintf(req, sizeof req,
                     "GET / HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\n"
                     "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                     "Sec-WebSocket-Version: 13\r\n\r\n",
                     port);
    for (int k = 0; k < FD_CLIENTS; k++)
        if ((c[k] = raw_connect(port)) < 0 || write(c[k], req, (size_t) n) != n)
            _exit(2);
    mu_test_signal_byte(fd, 'c');
    unsigned char upgraded = 0;
    for (int k = 0; k < FD_CLIENTS; k++) {
        char reply[2048];
        raw_read_until(c[k], reply, sizeof reply, "\r\n\r\n", 30000);
        upgraded += strncmp(reply, "HTTP/1.1 101", 12) == 0;
    }
    mu_test_signal_byte(fd, upgraded);
    _exit(0);
}

/*  For mu_test_poll_until: the endpoint counted a burst of failed accepts
    (the service thread counts it; nothing signals it). */
static bool
accept_failed(void *arg)
{
    return stats_of(arg).accept_failures > 0;
}

/*  CPU time of the whole process (every thread) so far, in ms. */
static int64_t
process_cpu_ms(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (int64_t) (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000
           + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1000;
}

/*  A listening endpoint in a process out of descriptors leaves the
    waiting connections in the backlog and rests its listener (before:
    libwebsockets retried the accept at once, a core's worth of CPU until a
    descriptor freed), counts one burst and logs it once; with descriptors
    again it accepts and upgrades every client that waited. */
static void
test_accept_out_of_fds(void)
{
    char dir[256], log[300], text[4096] = "";
    MU_CHECK(mu_test_scratch_dir(dir, sizeof dir, "wsfd"));
    snprintf(log, sizeof log, "%s/log", dir);
    MU_CHECK_EQ(mu_log_set_file(log), 0);
    mu__ws_t *server = listen_ws((mu__ws_config_t) { .ping_interval_ms = -1 });
    MU_CHECK(server);
    char port[16];
    snprintf(port, sizeof port, "%d", mu__ws_port(server));
    int sv[2];
    MU_CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    pid_t pid = fork();
    if (pid == 0) {
        close(sv[0]);
        clients_once_told(port, sv[1]);
    }
    MU_CHECK(pid > 0);
    close(sv[1]);
    struct rlimit old;
    MU_CHECK(mu_test_limit_fds(&old)); /* from here, no descriptor for anything */
    mu_test_signal_byte(sv[0], 'g');
    MU_CHECK_EQ(mu_test_wait_byte(sv[0], 30000), 'c');
    MU_CHECK(mu_test_poll_until(accept_failed, server, 30000));
    int64_t cpu0 = process_cpu_ms(), t0 = mu_test_now_ms();
    (void) poll(NULL, 0, 1000); /* a measuring window, not a wait for an event */
    int64_t cpu = process_cpu_ms() - cpu0, wall = mu_test_now_ms() - t0;
    printf("# CPU %lld ms in %lld ms with %d clients waiting\n", (long long) cpu, (long long) wall,
           FD_CLIENTS);
    MU_CHECK(cpu * 4 < wall);
    MU_CHECK_EQ(stats_of(server).accept_failures, 1);
    MU_CHECK_EQ(mu__ws_clients(server), 0);
    MU_CHECK_EQ(setrlimit(RLIMIT_NOFILE, &old), 0); /* descriptors again */
    for (int k = 0; k < FD_CLIENTS; k++)
        MU_CHECK(expect(server, MU__WS_OPEN, NULL));
    MU_CHECK_EQ(mu_test_wait_byte(sv[0], 30000), FD_CLIENTS);
    MU_CHECK_EQ(mu_test_child_status(pid), 0);
    close(sv[0]);
    mu__ws_stats_t st = stats_of(server);
    MU_CHECK_EQ(st.accepted, FD_CLIENTS);
    MU_CHECK_EQ(st.accept_failures, 1);
    mu__ws_destroy(&server);
    mu_log_reset();
    int fd = open(log, O_RDONLY | O_CLOEXEC);
    MU_CHECK(fd >= 0 && read(fd, text, sizeof text - 1) > 0);
    close(fd);
    printf("# log: %s", text);
    MU_CHECK(strstr(text, "cannot accept a client: Too many open files"));
    MU_CHECK(strstr(strstr(text, "cannot accept") + 1, "cannot accept") == NULL); /* once */
    mu_test_remove_scratch_dir(dir);
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
    RUN(test_accept_out_of_fds);
    RUN(test_tls);
    RUN(test_reconnect);
    RUN(test_ping_timeout);
    RUN(test_keepalive);
    RUN(test_invalid_utf8);
    if (python3())
        RUN(test_python_client);
    else
        MU_RUN_AS((void) 0, "test_python_client # SKIP python3 cannot import websockets");
    MU_DONE();
}
