/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  test_flow_edge.c — mu_flow's TCP edges: a foreign (Python) client,
    malformed frames, hooks on a connecting edge, and clients that try to
    hold an edge up: idle connections filling the client table, idle
    clients timed out, outbound clients that never read (disconnected, or
    losing their oldest messages) while the others get everything. */
#include "mu_test.h"
#include "mutil.h"
#include "flow_test.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/wait.h>

/* ---- TCP helpers and the echo flow --------------------------------------------------- */

/*  True when the peer of fd closes within timeout_ms (scaled): EOF or a
    reset, after whatever it had sent (read and discarded). */
static bool
peer_closed(int fd, int timeout_ms)
{
    int64_t until = mu_test_now_ms() + mu_test_ms(timeout_ms);
    char buf[65536];
    for (;;) {
        int64_t left = until - mu_test_now_ms();
        struct pollfd p = { .fd = fd, .events = POLLIN };
        if (left < 0 || poll(&p, 1, (int) left) != 1)
            return false;
        ssize_t n = read(fd, buf, sizeof buf);
        if (n == 0 || (n < 0 && errno == ECONNRESET))
            return true;
        if (n < 0 && errno != EINTR && errno != EAGAIN)
            return false;
    }
}

/*  An echo flow: in edge → workers → out edge. */
static mu_flow_t *
echo_flow(void)
{
    mu_flow_t *f = mu_flow_new("echo");
    mu_flow_edge_t in = { .host = "127.0.0.1", .port = 0, .listen = true, .max_frame = 1024 };
    mu_flow_edge_t out = { .host = "127.0.0.1", .port = 0, .listen = true };
    if (mu_flow_add_edge(f, "in", &in) != 0
        || mu_flow_add_worker_stage(f, "work", 2, NULL, pass_through, NULL) != 0
        || mu_flow_add_edge(f, "out", &out) != 0 || mu_flow_start(f) != 0)
        mu_flow_destroy(&f);
    return f;
}

static void
test_python_client(void)
{
    mu_flow_t *f = echo_flow();
    MU_CHECK(f);
    int pin = mu_flow_edge_port(f, "in", 0), pout = mu_flow_edge_port(f, "out", 0);
    MU_CHECK(pin > 0 && pout > 0);
    MU_CHECK_EQ(mu_flow_edge_port(f, "in", 1), MU_EINVAL);
    const char *py = getenv("PYTHON3");
    if (!py || !py[0])
        py = "python3";
    static const char script[] = "import socket, struct, sys\n"
                                 "pin, pout = int(sys.argv[1]), int(sys.argv[2])\n"
                                 "o = socket.create_connection(('127.0.0.1', pout))\n"
                                 "i = socket.create_connection(('127.0.0.1', pin))\n"
                                 "n = 500\n"
                                 "for k in range(n):\n"
                                 "    b = str(k).encode()\n"
                                 "    i.sendall(struct.pack('<I', len(b)) + b)\n"
                                 "def exact(s, m):\n"
                                 "    buf = b''\n"
                                 "    while len(buf) < m:\n"
                                 "        c = s.recv(m - len(buf))\n"
                                 "        if not c: raise SystemExit('closed')\n"
                                 "        buf += c\n"
                                 "    return buf\n"
                                 "seen = set()\n"
                                 "for k in range(n):\n"
                                 "    (m,) = struct.unpack('<I', exact(o, 4))\n"
                                 "    seen.add(int(exact(o, m)))\n"
                                 "sys.exit(0 if seen == set(range(n)) else 3)\n";
    char a1[16], a2[16];
    snprintf(a1, sizeof a1, "%d", pin);
    snprintf(a2, sizeof a2, "%d", pout);
    pid_t pid = fork();
    MU_CHECK(pid >= 0);
    if (pid == 0) {
        alarm((unsigned) mu_test_ms(60000) / 1000);
        execlp(py, py, "-c", script, a1, a2, (char *) NULL);
        _exit(127);
    }
    int status = -1;
    MU_CHECK_EQ(waitpid(pid, &status, 0), pid);
    if (!WIFEXITED(status))
        printf("# python client killed by signal %d\n", WTERMSIG(status));
    MU_CHECK(WIFEXITED(status));
    MU_CHECK_EQ(WEXITSTATUS(status), 0);
    mu_flow_stats_t row;
    MU_CHECK(wait_row(f, "in", 500, 0, &row));
    MU_CHECK_EQ(mu_flow_stop(f, mu_test_ms(30000)), 0);
    MU_CHECK(stage_row(f, "out", -1, &row));
    MU_CHECK_EQ(row.out, 500);
    mu_flow_destroy(&f);
}

static int
tag_from_client(void *arg, const void *data, size_t size, mu_flow_emit_t *out)
{
    (void) arg;
    if (size == 3 && memcmp(data, "bad", 3) == 0)
        return MU_EPROTO;
    char buf[64];
    int n = snprintf(buf, sizeof buf, "c:%.*s", (int) size, (const char *) data);
    return mu_flow_emit(out, buf, (size_t) n);
}

static int
bang_from_internal(void *arg, const void *data, size_t size, mu_flow_emit_t *out)
{
    (void) arg;
    char buf[64];
    int n = snprintf(buf, sizeof buf, "%.*s!", (int) size, (const char *) data);
    return mu_flow_emit(out, buf, (size_t) n);
}

/*  Hooks on both edges; the outbound edge connects to a listener of ours. */
static void
test_edge_hooks_connect(void)
{
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof sa;
    MU_CHECK(bind(lfd, (struct sockaddr *) &sa, sizeof sa) == 0 && listen(lfd, 4) == 0);
    MU_CHECK(getsockname(lfd, (struct sockaddr *) &sa, &len) == 0);
    mu_flow_t *f = mu_flow_new("hooks");
    mu_flow_edge_t in = { .host = "127.0.0.1", .listen = true, .from_client = tag_from_client };
    mu_flow_edge_t out = { .host = "127.0.0.1",
                           .port = ntohs(sa.sin_port),
                           .listen = false,
                           .from_internal = bang_from_internal };
    MU_CHECK_EQ(mu_flow_add_edge(f, "in", &in), 0);
    MU_CHECK_EQ(mu_flow_add_worker_stage(f, "work", 2, NULL, pass_through, NULL), 0);
    MU_CHECK_EQ(mu_flow_add_edge(f, "out", &out), 0);
    MU_CHECK_EQ(mu_flow_start(f), 0);
    MU_CHECK_EQ(mu_flow_edge_port(f, "out", 0), MU_EINVAL); /* a connecting edge */
    struct pollfd p = { .fd = lfd, .events = POLLIN };
    MU_CHECK(poll(&p, 1, mu_test_ms(20000)) == 1);
    int conn = accept(lfd, NULL, NULL); /* the outbound edge came to us */
    MU_CHECK(conn >= 0);
    int c = mu_test_tcp_connect(mu_flow_edge_port(f, "in", 0), 0);
    MU_CHECK(c >= 0);
    MU_CHECK(send_frame(c, "bad", 3));
    const char *words[] = { "a", "bb", "ccc" };
    for (int i = 0; i < 3; i++)
        MU_CHECK(send_frame(c, words[i], (uint32_t) strlen(words[i])));
    int seen = 0;
    for (int i = 0; i < 3; i++) {
        uint8_t hdr[4];
        char buf[64] = "";
        MU_CHECK(read_full(conn, hdr, 4, 20000));
        MU_CHECK(hdr[0] < sizeof buf && hdr[1] == 0);
        MU_CHECK(read_full(conn, buf, hdr[0], 20000));
        for (int k = 0; k < 3; k++) {
            char want[16];
            snprintf(want, sizeof want, "c:%s!", words[k]);
            if (strcmp(buf, want) == 0)
                seen |= 1 << k;
        }
    }
    MU_CHECK_EQ(seen, 7);
    mu_flow_stats_t row;
    MU_CHECK(wait_row(f, "in", 4, 1, &row)); /* "bad" refused by the hook: an error */
    close(c);
    MU_CHECK_EQ(mu_flow_stop(f, mu_test_ms(30000)), 0);
    close(conn);
    close(lfd);
    mu_flow_destroy(&f);
}

static void
test_malformed_frames(void)
{
    mu_flow_t *f = echo_flow();
    MU_CHECK(f);
    int pin = mu_flow_edge_port(f, "in", 0), pout = mu_flow_edge_port(f, "out", 0);
    int out = mu_test_tcp_connect(pout, 0), good = mu_test_tcp_connect(pin, 0),
        bad = mu_test_tcp_connect(pin, 0);
    MU_CHECK(out >= 0 && good >= 0 && bad >= 0);
    uint8_t evil[8] = { 0xff, 0xff, 0xff, 0x7f, 'x', 'y', 'z', 0 };
    MU_CHECK_EQ(write(bad, evil, sizeof evil), sizeof evil); /* 2 GiB announced */
    MU_CHECK(peer_closed(bad, 20000));                       /* dropped */
    for (uint32_t k = 0; k < 100; k++)
        MU_CHECK(send_frame(good, &k, sizeof k));
    uint8_t seen[100] = { 0 };
    for (int k = 0; k < 100; k++) {
        uint8_t hdr[4];
        uint32_t v;
        MU_CHECK(read_full(out, hdr, 4, 20000));
        MU_CHECK_EQ(hdr[0], 4);
        MU_CHECK(read_full(out, &v, 4, 20000));
        MU_CHECK(v < 100);
        MU_CHECK_EQ(seen[v]++, 0);
    }
    mu_flow_stats_t row;
    MU_CHECK(wait_row(f, "in", 100, 1, &row));
    close(bad);
    close(good);
    close(out);
    MU_CHECK_EQ(mu_flow_stop(f, mu_test_ms(30000)), 0);
    mu_flow_destroy(&f);
}

/* ---- edge settings ---------------------------------------------------------------------- */

static void
test_edge_settings_errors(void)
{
    mu_flow_t *f = mu_flow_new("settings");
    MU_CHECK(f);
    mu_flow_edge_t e = { .host = "127.0.0.1", .listen = true, .max_clients = -1 };
    MU_CHECK_EQ(mu_flow_add_edge(f, "in", &e), MU_EINVAL);
    e.max_clients = 65537;
    MU_CHECK_EQ(mu_flow_add_edge(f, "in", &e), MU_EINVAL);
    e.max_clients = 65536;
    e.idle_timeout_ms = -2;
    MU_CHECK_EQ(mu_flow_add_edge(f, "in", &e), MU_EINVAL);
    e.idle_timeout_ms = -1;
    e.overflow = (mu_flow_edge_overflow_t) 7;
    MU_CHECK_EQ(mu_flow_add_edge(f, "in", &e), MU_EINVAL);
    e.overflow = MU_FLOW_EDGE_DROP_OLDEST;
    MU_CHECK_EQ(mu_flow_add_edge(f, "in", &e), 0);
    /* WebSocket settings: the transport, the values Python cannot
       express (the rest: bindings/python/tests/test_flow_ws.py). */
    e.transport = (mu_flow_edge_transport_t) 2;
    MU_CHECK_EQ(mu_flow_add_edge(f, "in", &e), MU_EINVAL);
    e.transport = MU_FLOW_EDGE_TCP;
    e.ws_ping_interval_ms = 1000; /* a ws_ setting on a TCP edge */
    MU_CHECK_EQ(mu_flow_add_edge(f, "in", &e), MU_EINVAL);
    e.transport = MU_FLOW_EDGE_WS;
    e.ws_ping_interval_ms = -2;
    MU_CHECK_EQ(mu_flow_add_edge(f, "in", &e), MU_EINVAL);
    e.ws_ping_interval_ms = -1;
    e.ws_key_file = "key.pem"; /* a key without a certificate */
    MU_CHECK_EQ(mu_flow_add_edge(f, "in", &e), MU_EINVAL);
    e.ws_key_file = NULL;
    MU_CHECK_EQ(mu_flow_add_edge(f, "in", &e), 0);
    mu_flow_destroy(&f);
}

/* ---- idle clients on an inbound edge --------------------------------------------------- */

/*  in (edge) → sink: the sink reports the 8-byte ids clients send. */
static mu_flow_t *
inbound_flow(const mu_flow_edge_t *in)
{
    mu_flow_t *f = mu_flow_new("inbound");
    if (mu_flow_add_edge(f, "in", in) != 0
        || mu_flow_add_worker_stage(f, "sink", 1, sink_startup, sink, NULL) != 0
        || mu_flow_start(f) != 0)
        mu_flow_destroy(&f);
    return f;
}

static bool
send_id(int fd, uint64_t id)
{
    return send_frame(fd, &id, sizeof id);
}

/*  True when nothing (data, EOF, reset) is waiting on fd right now. */
static bool
quiet_now(int fd)
{
    struct pollfd p = { .fd = fd, .events = POLLIN };
    return poll(&p, 1, 0) == 0;
}

/*  Fills an inbound edge (max_clients as given, 0: the default) with
    nidle connections that never send, then a real client sends 10 ids:
    they arrive, and the oldest idle connections were closed to make
    room, one per connection over the limit, counted in clients_idle. */
static bool
run_crowd(int max_clients, int nidle)
{
    int limit = max_clients ? max_clients : MU_FLOW_EDGE_MAX_CLIENTS;
    int evicted = nidle - limit + 1; /* the real client makes room too */
    mu_flow_edge_t in = { .host = "127.0.0.1", .listen = true, .max_clients = max_clients };
    open_results();
    mu_flow_t *f = inbound_flow(&in);
    results_started();
    int port = f ? mu_flow_edge_port(f, "in", 0) : -1;
    int *idle = calloc((size_t) nidle, sizeof *idle);
    bool ok = f && idle && port > 0;
    for (int i = 0; ok && i < nidle; i++)
        ok = (idle[i] = mu_test_tcp_connect(port, 0)) >= 0;
    mu_flow_stats_t row;
    ok = ok && wait_stat(f, "in", STAT(clients), (uint64_t) limit, &row);
    bool made_room = ok && wait_stat(f, "in", STAT(clients_idle), (uint64_t) evicted - 1, &row);
    int real = ok ? mu_test_tcp_connect(port, 0) : -1;
    for (uint64_t id = 0; real >= 0 && id < 10; id++)
        ok = ok && send_id(real, id);
    record_t recs[11];
    size_t got = ok ? read_records(recs, 10, 20000) : 0;
    if (got != 10) {
        printf("# the real client's ids: %zu of 10 arrived\n", got);
        ok = false;
    }
    ok = ok && made_room && wait_stat(f, "in", STAT(clients_idle), (uint64_t) evicted, &row);
    for (int i = 0; ok && i < nidle; i++) /* the oldest went first */
        if (i < evicted ? !peer_closed(idle[i], 20000) : !quiet_now(idle[i])) {
            printf("# idle connection %d: %s\n", i, i < evicted ? "still open" : "closed");
            ok = false;
        }
    for (int i = 0; idle && i < nidle; i++)
        if (idle[i] > 0)
            close(idle[i]);
    if (real >= 0)
        close(real);
    ok = f && mu_flow_stop(f, mu_test_ms(30000)) == 0 && ok;
    free(idle);
    mu_flow_destroy(&f);
    close_results();
    return ok;
}

static void
test_edge_idle_clients_make_room(void)
{
    MU_CHECK(run_crowd(0, MU_FLOW_EDGE_MAX_CLIENTS + 44)); /* the default limit */
    MU_CHECK(run_crowd(16, 40));
}

/*  Idle connections are closed after idle_timeout_ms while a client that
    keeps sending stays, and everything it sent arrives. */
static void
test_edge_idle_timeout(void)
{
    enum { NIDLE = 5 };
    mu_flow_edge_t in = { .host = "127.0.0.1",
                          .listen = true,
                          .idle_timeout_ms = mu_test_ms(1500) };
    open_results();
    mu_flow_t *f = inbound_flow(&in);
    results_started();
    MU_CHECK(f);
    int port = mu_flow_edge_port(f, "in", 0);
    int idle[NIDLE], active = mu_test_tcp_connect(port, 0);
    for (int i = 0; i < NIDLE; i++)
        idle[i] = mu_test_tcp_connect(port, 0);
    bool closed[NIDLE] = { false };
    int nclosed = 0;
    uint64_t sent = 0;
    bool ok = active >= 0;
    int64_t until = mu_test_now_ms() + mu_test_ms(30000);
    while (ok && nclosed < NIDLE && mu_test_now_ms() < until) {
        ok = send_id(active, sent++); /* a frame each round keeps it active */
        struct pollfd p[NIDLE];
        for (int i = 0; i < NIDLE; i++)
            p[i] = (struct pollfd) { .fd = closed[i] ? -1 : idle[i], .events = POLLIN };
        if (poll(p, NIDLE, 20) <= 0)
            continue;
        for (int i = 0; i < NIDLE; i++)
            if (p[i].revents && peer_closed(idle[i], 20000)) {
                closed[i] = true;
                nclosed++;
            }
    }
    ok = ok && send_id(active, sent++); /* still served after the idle ones went */
    static record_t recs[100000];
    size_t got = ok ? read_records(recs, sent, 20000) : 0;
    mu_flow_stats_t row;
    bool counted = wait_stat(f, "in", STAT(clients_idle), NIDLE, &row);
    close(active);
    for (int i = 0; i < NIDLE; i++)
        close(idle[i]);
    MU_CHECK_EQ(mu_flow_stop(f, mu_test_ms(30000)), 0);
    mu_flow_destroy(&f);
    close_results();
    MU_CHECK(ok);
    MU_CHECK_EQ(nclosed, NIDLE);
    MU_CHECK_EQ(got, sent);
    for (size_t i = 0; i < got; i++)
        MU_CHECK_EQ(recs[i].id, i);
    MU_CHECK(counted);
}

/* ---- outbound clients that never read ------------------------------------------------- */

static int go_pipe[2] = { -1, -1 };   /* readable: the gated source starts */
static int stop_pipe[2] = { -1, -1 }; /* readable: the gated source ends early */
static uint64_t gated_count;          /* messages it emits at most */
static size_t gated_size;             /* bytes per message, >= 8 (the id first) */

static bool
readable_within(int fd, int timeout_ms)
{
    struct pollfd p = { .fd = fd, .events = POLLIN };
    return poll(&p, 1, timeout_ms) == 1;
}

/*  Waits (a call at a time) until go_pipe is readable, then emits ids
    0..gated_count-1 in messages of gated_size bytes, or fewer when
    stop_pipe becomes readable (checked every 64 messages). */
static int
gated_source(void *arg, int index, mu_flow_emit_t *out)
{
    (void) index;
    uint64_t *next = arg;
    if (*next == 0 && !readable_within(go_pipe[0], 100))
        return MU_FLOW_MORE; /* not yet (a drain ends the loop) */
    if (*next >= gated_count || (*next % 64 == 0 && readable_within(stop_pipe[0], 0)))
        return 0;
    static uint8_t msg[65536];
    memcpy(msg, next, sizeof *next);
    (*next)++;
    int rc = mu_flow_emit(out, msg, gated_size);
    return rc == 0 ? MU_FLOW_MORE : rc;
}

/*  A started src → out flow with two clients of out connected before the
    source starts: one that reads, one that never does (a small receive
    buffer). */
typedef struct {
    mu_flow_t *f;
    int reader, stuck;
} fan_t;

static bool
fan_start(fan_t *t, const mu_flow_edge_t *out, uint64_t count, size_t size)
{
    static uint64_t next;
    next = 0;
    gated_count = count;
    gated_size = size;
    *t = (fan_t) { .reader = -1, .stuck = -1 };
    if (pipe(go_pipe) != 0 || pipe(stop_pipe) != 0)
        return false;
    t->f = mu_flow_new("fan");
    if (mu_flow_add_source(t->f, "src", 1, gated_source, &next) != 0
        || mu_flow_add_edge(t->f, "out", out) != 0
        || mu_flow_set_drain_timeout(t->f, mu_test_ms(60000)) != 0 || mu_flow_start(t->f) != 0)
        return false;
    int port = mu_flow_edge_port(t->f, "out", 0);
    t->stuck = mu_test_tcp_connect(port, 4096);
    t->reader = mu_test_tcp_connect(port, 0);
    mu_flow_stats_t row;
    bool ok = t->stuck >= 0 && t->reader >= 0 && wait_stat(t->f, "out", STAT(clients), 2, &row);
    mu_test_signal_byte(go_pipe[1], 'g');
    return ok;
}

static void
fan_end(fan_t *t)
{
    if (t->reader >= 0)
        close(t->reader);
    if (t->stuck >= 0)
        close(t->stuck);
    mu_flow_destroy(&t->f);
    close(go_pipe[0]);
    close(go_pipe[1]);
    close(stop_pipe[0]);
    close(stop_pipe[1]);
}

/*  Reads one frame of size bytes from fd; its id into *id_p. 1, 0 at the
    end of the stream, -1 on a bad frame or after timeout_ms (scaled). */
static int
read_msg(int fd, size_t size, uint64_t *id_p, int timeout_ms)
{
    static uint8_t msg[65536];
    uint8_t hdr[4];
    struct pollfd p = { .fd = fd, .events = POLLIN };
    if (poll(&p, 1, mu_test_ms(timeout_ms)) != 1)
        return -1;
    ssize_t n = recv(fd, hdr, 1, MSG_PEEK);
    if (n == 0 || (n < 0 && errno == ECONNRESET))
        return 0;
    uint32_t len = 0;
    if (!read_full(fd, hdr, 4, timeout_ms))
        return -1;
    len = hdr[0] | (uint32_t) hdr[1] << 8 | (uint32_t) hdr[2] << 16 | (uint32_t) hdr[3] << 24;
    if (len != size || !read_full(fd, msg, size, timeout_ms))
        return -1;
    memcpy(id_p, msg, sizeof *id_p);
    return 1;
}

/*  Messages of size bytes that fill, four times over, more than what the
    kernel can hold for a client that never reads (the largest send buffer
    TCP grows to, net.ipv4.tcp_wmem, at least 4 MiB, and a small receive
    buffer), and then queue bytes. */
static uint64_t
beyond_buffers(size_t size, size_t queue)
{
    long wmem_max = 4 * 1024 * 1024;
    FILE *fp = fopen("/proc/sys/net/ipv4/tcp_wmem", "r");
    if (fp) {
        long lo, mid, hi;
        if (fscanf(fp, "%ld %ld %ld", &lo, &mid, &hi) == 3 && hi > wmem_max)
            wmem_max = hi;
        fclose(fp);
    }
    return (4 * (uint64_t) wmem_max + queue + 2 * 1024 * 1024) / size;
}

/*  The reading client gets ids 0..count-1, in order. */
static bool
reads_everything(int fd, uint64_t count, size_t size)
{
    for (uint64_t want = 0; want < count; want++) {
        uint64_t id;
        if (read_msg(fd, size, &id, 20000) != 1 || id != want) {
            printf("# the reading client stopped at %llu of %llu\n", (unsigned long long) want,
                   (unsigned long long) count);
            return false;
        }
    }
    return true;
}

/*  The counter at offset of out's statistics now (0 when unknown). */
static uint64_t
out_counter(mu_flow_t *f, size_t offset)
{
    mu_flow_stats_t row;
    uint64_t got = 0;
    if (stage_row(f, "out", -1, &row))
        memcpy(&got, (const char *) &row + offset, sizeof got);
    return got;
}

/*  Reads the reading client's messages, ids in order, to the end of the
    stream (the flow's end); *n gets how many. Once the counter at offset
    shows the stuck client closed, its connection must be closed, and the
    source is told to stop. */
static bool
read_to_end(fan_t *t, size_t size, size_t offset, uint64_t *n)
{
    bool counted = false;
    for (uint64_t want = 0;; want++) {
        uint64_t id;
        int rc = read_msg(t->reader, size, &id, 20000);
        if (rc == 0) {
            *n = want;
            return true;
        }
        if (rc < 0 || id != want) {
            printf("# the reading client stopped at %llu\n", (unsigned long long) want);
            return false;
        }
        if (counted || want % 256 != 255 || out_counter(t->f, offset) == 0)
            continue;
        counted = true;
        if (!peer_closed(t->stuck, 20000)) {
            printf("# the stuck client's connection is still open\n");
            return false;
        }
        mu_test_signal_byte(stop_pipe[1], 's');
    }
}

/*  Runs the fan flow (at most cap messages of size bytes) with out's
    settings where the client that never reads must be closed, counted in
    the counter at offset: the source stops once it is; the reader gets
    every message emitted and the flow ends; *row gets out's final total,
    whose out must be what the reader got. */
static bool
stuck_reader_closed(const mu_flow_edge_t *out, uint64_t cap, size_t size, size_t offset,
                    const char *name, mu_flow_stats_t *row)
{
    fan_t t;
    uint64_t n = 0;
    bool ok = fan_start(&t, out, cap, size) && read_to_end(&t, size, offset, &n)
              && wait_stat(t.f, "out", offset, name, 1, row);
    int rc = t.f ? mu_flow_wait(t.f, mu_test_ms(60000)) : MU_EINVAL;
    if (rc != 0)
        printf("# the flow ended with %s\n", mu_strerror(rc));
    ok = t.f && stage_row(t.f, "out", -1, row) && rc == 0 && ok;
    if (ok && row->out != n) {
        printf("# out counted %llu, the reader got %llu\n", (unsigned long long) row->out,
               (unsigned long long) n);
        ok = false;
    }
    fan_end(&t);
    return ok;
}

/*  Default settings: the client that never reads outgrows its queue and
    is disconnected (counted in clients_slow) however much the kernel
    buffers for it (the source emits until it is); the other gets
    everything and the flow ends. */
static void
test_edge_stuck_reader_disconnected(void)
{
    enum { SIZE = 4096 };
    const uint64_t CAP = 256 * 1024 * 1024 / SIZE;
    mu_flow_edge_t out = { .host = "127.0.0.1", .listen = true };
    mu_flow_stats_t row = { 0 };
    MU_CHECK(stuck_reader_closed(&out, CAP, SIZE, STAT(clients_slow), &row));
    MU_CHECK_EQ(row.clients_slow, 1);
    MU_CHECK_EQ(row.drops, 0);
    MU_CHECK_EQ(row.clients_idle, 0);
}

/*  MU_FLOW_EDGE_DROP_OLDEST: the client that never reads keeps its
    connection and loses its oldest messages (counted in drops); when it
    reads at last it gets the rest, in order: what it got plus what was
    dropped is everything. The other client gets everything. */
static void
test_edge_stuck_reader_drop_oldest(void)
{
    enum { SIZE = 1024 };
    const uint64_t N = beyond_buffers(SIZE, 1024 * 1024);
    mu_flow_edge_t out = { .host = "127.0.0.1",
                           .listen = true,
                           .queue_max = 64 * 1024,
                           .overflow = MU_FLOW_EDGE_DROP_OLDEST,
                           .idle_timeout_ms = -1 };
    fan_t t;
    bool started = fan_start(&t, &out, N, SIZE);
    bool all = started && reads_everything(t.reader, N, SIZE);
    mu_flow_stats_t row = { 0 };
    bool emitted = all && wait_stat(t.f, "out", STAT(out), N, &row); /* drops final too */
    uint64_t late = 0, last = 0;
    bool ordered = true;
    int more;
    uint64_t id;
    while (emitted && (more = read_msg(t.stuck, SIZE, &id, 20000)) == 1) {
        ordered = ordered && (late == 0 || id > last) && id < N;
        last = id;
        late++;
    }
    bool ended = emitted && more == 0; /* the flow ended once it read all */
    int rc = started ? mu_flow_wait(t.f, mu_test_ms(60000)) : -1;
    mu_flow_stats_t end = { 0 };
    if (started)
        (void) stage_row(t.f, "out", -1, &end);
    fan_end(&t);
    printf("# the late reader got %llu, %llu dropped\n", (unsigned long long) late,
           (unsigned long long) row.drops);
    MU_CHECK(started);
    MU_CHECK(all);
    MU_CHECK(emitted);
    MU_CHECK(ended);
    MU_CHECK(ordered);
    MU_CHECK(row.drops > 0);
    MU_CHECK_EQ(late + row.drops, N);
    MU_CHECK_EQ(rc, 0);
    MU_CHECK_EQ(end.drops, row.drops);
    MU_CHECK_EQ(end.clients_slow, 0);
    MU_CHECK_EQ(end.clients_idle, 0);
}

/*  A client that stops reading with less than its queue_max queued is
    closed after idle_timeout_ms (counted in clients_idle), so the drain
    does not wait for it; the other client gets everything. */
static void
test_edge_stalled_reader_times_out(void)
{
    enum { SIZE = 4096 };
    const uint64_t N = beyond_buffers(SIZE, 0); /* more than the buffers hold ... */
    mu_flow_edge_t out = { .host = "127.0.0.1",
                           .listen = true, /* ... less than the queue */
                           .queue_max = 4 * (size_t) N * SIZE,
                           .idle_timeout_ms = mu_test_ms(2000) };
    mu_flow_stats_t row = { 0 };
    MU_CHECK(stuck_reader_closed(&out, N, SIZE, STAT(clients_idle), &row));
    MU_CHECK_EQ(row.clients_idle, 1);
    MU_CHECK_EQ(row.clients_slow, 0);
    MU_CHECK_EQ(row.drops, 0);
}

int
main(int argc, char **argv)
{
    flow_test_begin(argc, argv);
    RUN(test_python_client);
    RUN(test_malformed_frames);
    RUN(test_edge_hooks_connect);
    RUN(test_edge_settings_errors);
    RUN(test_edge_idle_clients_make_room);
    RUN(test_edge_idle_timeout);
    RUN(test_edge_stuck_reader_disconnected);
    RUN(test_edge_stuck_reader_drop_oldest);
    RUN(test_edge_stalled_reader_times_out);
    MU_DONE();
}
