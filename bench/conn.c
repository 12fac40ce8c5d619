/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  bench/conn.c — mu_server / mu_client against raw libzmq DEALER/ROUTER
    with the same security, in the same run.

    Cases, each with NULL (insecure) and CURVE security:
      rtt-64B-*       p50 of a 64-byte request/reply round trip: mu_client_request
                      to a mu_server answering with mu_server_reply, against a raw
                      DEALER sending to a raw ROUTER that echoes (bar: ratio <= 1.25);
      stream-1KiB-*   1 KiB chunks per second from client to server
                      (mu_client_stream_send → MU_SERVER_STREAM events), against a
                      raw DEALER sending 1 KiB messages to a ROUTER (bar >= 0.85);
                      the time ends when a request sent after the last chunk is
                      answered, so every chunk was received;
      file-*          a 256 MiB file (32 MiB with --quick) from page cache:
                      mu_client_get from a server's root, against a raw ROUTER
                      that preads the file in 256 KiB chunks and sends them to a
                      DEALER that writes them to a file and fsyncs it, as the
                      client does (bar >= 0.80). Ours also hashes the file on
                      both ends (XXH3-128, the default digest) and renames into
                      place; file-*-blake2b: the same with MU_FILE_DIGEST_BLAKE2B
                      (no bar: shows what the cryptographic digest costs);
      rtt-64B-*-p99   the p99 of the same round trips (no bar);
      rtt-64B-null-nng, stream-1KiB-null-nng
                      ours against nng 1.5 (REQ → REP echoing on a thread;
                      PUSH → PULL), over tcp://127.0.0.1 too, measured in the
                      same repetitions as ours and raw (no bar; nng has no
                      CURVE); without nng a skip line is printed;
      handshake-curve new connections per second: create, connect, wait for the
                      server's answer, close — against a raw DEALER doing a CURVE
                      handshake and one echo. (The raw ROUTER has no ZAP handler;
                      ours checks the client key against an allow-list.)

    Servers run on their own thread in this process (a server belongs to one
    thread); traffic goes over tcp://127.0.0.1. Each case alternates ours
    and raw --reps times; ratios are medians of per-repetition ratios. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <czmq.h>
#include <zmq.h>

#include "mutil.h"
#include "bench.h"
#include "nng_cases.h"

#define FILE_CHUNK (256 * 1024)
#define RAW_REQ 'R'  /* raw protocol: echo this message */
#define RAW_DATA 'S' /* a stream message: count it */
#define RAW_FILE 'F' /* send the file */

typedef struct {
    bool curve;
    int digest;    /* MU_FILE_DIGEST_* of the file cases (0: default) */
    char dir[256]; /* temp dir: root/ holds the file, out/ the copies */
    char file_name[64];
    size_t file_size;
    /* CURVE material, shared by ours and raw */
    mu_keys_t *server_keys, *client_keys;
} setup_t;

/* ---- servers on threads ----------------------------------------------------- */

typedef struct {
    const setup_t *setup;
    bool raw;
    char endpoint[128];
    atomic_bool stop;
    bool ready, failed;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    pthread_t thread;
} server_ctl_t;

static void
announce(server_ctl_t *ctl, const char *endpoint)
{
    pthread_mutex_lock(&ctl->lock);
    if (endpoint)
        snprintf(ctl->endpoint, sizeof ctl->endpoint, "%s", endpoint);
    else
        ctl->failed = true;
    ctl->ready = true;
    pthread_cond_signal(&ctl->cond);
    pthread_mutex_unlock(&ctl->lock);
}

/*  Our server: echoes requests, swallows stream chunks, serves files. */
static mu_server_t *
make_our_server(const setup_t *s)
{
    mu_server_t *server = mu_server_new();
    char root[300];
    snprintf(root, sizeof root, "%s/root", s->dir);
    int rc = mu_server_set_root(server, root);
    if (rc == 0 && s->curve) {
        mu_allow_t *allow = mu_allow_new();
        rc = mu_allow_add(allow, mu_keys_public(s->client_keys));
        if (rc == 0)
            rc = mu_server_set_curve(server, s->server_keys, allow);
        mu_allow_destroy(&allow);
    } else if (rc == 0)
        rc = mu_server_set_insecure(server);
    if (rc == 0 && (rc = mu_server_bind(server, "tcp://127.0.0.1:*")) > 0)
        rc = 0; /* the bound port */
    if (rc != 0) {
        fprintf(stderr, "bench/conn: server set-up: %s\n", mu_strerror(rc));
        mu_server_destroy(&server);
    }
    return server;
}

static void *
our_server_main(void *arg)
{
    server_ctl_t *ctl = arg;
    mu_server_t *server = make_our_server(ctl->setup);
    announce(ctl, server ? mu_server_endpoint(server, 0) : NULL);
    while (server && !atomic_load(&ctl->stop)) {
        mu_event_t *ev = NULL;
        if (mu_server_recv(server, &ev, 50) != 0)
            continue;
        if (mu_event_kind(ev) == MU_SERVER_REQUEST) {
            size_t size;
            const void *data = mu_event_data(ev, &size);
            if (mu_server_reply(server, ev, data, size) != 0)
                fprintf(stderr, "bench/conn: reply failed\n");
        }
        mu_event_destroy(&ev);
    }
    mu_server_destroy(&server);
    return NULL;
}

/*  Sends the whole file to a raw peer: chunks, then an empty end frame. */
static void
raw_send_file(void *router, zmq_msg_t *id, const setup_t *s)
{
    char path[400];
    snprintf(path, sizeof path, "%s/root/%s", s->dir, s->file_name);
    int fd = open(path, O_RDONLY);
    char *buf = malloc(FILE_CHUNK);
    off_t off = 0;
    ssize_t n;
    do {
        n = fd >= 0 ? pread(fd, buf, FILE_CHUNK, off) : 0;
        if (n < 0)
            n = 0;
        off += n;
        zmq_send(router, zmq_msg_data(id), zmq_msg_size(id), ZMQ_SNDMORE);
        zmq_send(router, buf, (size_t) n, 0);
    } while (n > 0);
    free(buf);
    if (fd >= 0)
        close(fd);
}

static void *
raw_server_main(void *arg)
{
    server_ctl_t *ctl = arg;
    const setup_t *s = ctl->setup;
    zsock_t *sock = zsock_new(ZMQ_ROUTER);
    void *router = zsock_resolve(sock);
    int one = 1, timeout = 50;
    zmq_setsockopt(router, ZMQ_ROUTER_MANDATORY, &one, sizeof one);
    zmq_setsockopt(router, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
    if (s->curve) {
        zmq_setsockopt(router, ZMQ_CURVE_SERVER, &one, sizeof one);
        zmq_setsockopt(router, ZMQ_CURVE_SECRETKEY, mu_keys_secret(s->server_keys), 32);
    }
    int port = zsock_bind(sock, "tcp://127.0.0.1:*");
    char ep[64];
    snprintf(ep, sizeof ep, "tcp://127.0.0.1:%d", port);
    announce(ctl, port > 0 ? ep : NULL);
    zmq_msg_t id, body;
    zmq_msg_init(&id);
    zmq_msg_init(&body);
    while (!atomic_load(&ctl->stop)) {
        if (zmq_msg_recv(&id, router, 0) < 0 || zmq_msg_recv(&body, router, 0) < 0)
            continue;
        const char *data = zmq_msg_data(&body);
        if (zmq_msg_size(&body) > 0 && data[0] == RAW_REQ) {
            zmq_msg_send(&id, router, ZMQ_SNDMORE);
            zmq_msg_send(&body, router, 0);
        } else if (zmq_msg_size(&body) > 0 && data[0] == RAW_FILE)
            raw_send_file(router, &id, s);
    }
    zmq_msg_close(&id);
    zmq_msg_close(&body);
    zsock_destroy(&sock);
    return NULL;
}

static bool
server_start(server_ctl_t *ctl, const setup_t *s, bool raw)
{
    memset(ctl, 0, sizeof *ctl);
    ctl->setup = s;
    ctl->raw = raw;
    pthread_mutex_init(&ctl->lock, NULL);
    pthread_cond_init(&ctl->cond, NULL);
    pthread_create(&ctl->thread, NULL, raw ? raw_server_main : our_server_main, ctl);
    pthread_mutex_lock(&ctl->lock);
    while (!ctl->ready)
        pthread_cond_wait(&ctl->cond, &ctl->lock);
    pthread_mutex_unlock(&ctl->lock);
    return !ctl->failed;
}

static void
server_stop(server_ctl_t *ctl)
{
    atomic_store(&ctl->stop, true);
    pthread_join(ctl->thread, NULL);
    pthread_mutex_destroy(&ctl->lock);
    pthread_cond_destroy(&ctl->cond);
}

/* ---- clients ------------------------------------------------------------------ */

static mu_client_t *
our_client(const setup_t *s, const char *endpoint)
{
    mu_client_t *c = mu_client_new();
    int rc = s->curve ? mu_client_set_curve(c, mu_keys_public(s->server_keys), s->client_keys)
                      : mu_client_set_insecure(c);
    if (rc == 0)
        rc = mu_client_connect(c, endpoint);
    if (rc == 0)
        rc = mu_client_wait_ready(c, 5000);
    if (rc != 0) {
        fprintf(stderr, "bench/conn: client set-up: %s\n", mu_strerror(rc));
        mu_client_destroy(&c);
    }
    return c;
}

static void *
raw_client(const setup_t *s, const char *endpoint, zsock_t **sock_p)
{
    zsock_t *sock = zsock_new(ZMQ_DEALER);
    void *dealer = zsock_resolve(sock);
    int timeout = 5000;
    zmq_setsockopt(dealer, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
    if (s->curve) {
        zmq_setsockopt(dealer, ZMQ_CURVE_SERVERKEY, mu_keys_public(s->server_keys), 32);
        zmq_setsockopt(dealer, ZMQ_CURVE_PUBLICKEY, mu_keys_public(s->client_keys), 32);
        zmq_setsockopt(dealer, ZMQ_CURVE_SECRETKEY, mu_keys_secret(s->client_keys), 32);
    }
    zsock_connect(sock, "%s", endpoint);
    *sock_p = sock;
    return dealer;
}

/*  One raw request/reply; returns false on a timeout. */
static bool
raw_roundtrip(void *dealer, const char *msg, size_t size)
{
    char buf[2048];
    return zmq_send(dealer, msg, size, 0) == (int) size
           && zmq_recv(dealer, buf, sizeof buf, 0) >= 0;
}

/* ---- measurements ----------------------------------------------------------------- */

/* The p99 of the last rtt_ours / rtt_raw / nng_rtt call. */
static double last_p99;

/*  p50 round trip in µs over n requests (p99 into last_p99). */
static double
rtt_ours(const setup_t *s, const char *ep, int n)
{
    mu_client_t *c = our_client(s, ep);
    if (!c)
        return NAN;
    char msg[64];
    memset(msg, RAW_REQ, sizeof msg);
    mu_hist_t *lat = mu_hist_new();
    for (int i = 0; lat && i < n; i++) {
        void *reply = NULL;
        size_t size;
        int64_t t0 = bench_now_ns();
        int rc = mu_client_request(c, msg, sizeof msg, &reply, &size, 5000);
        if (rc == 0)
            mu_hist_record(lat, (uint64_t) (bench_now_ns() - t0));
        free(reply);
    }
    double p50 = lat ? bench_hist_us(lat, 0.5) : NAN;
    last_p99 = lat ? bench_hist_us(lat, 0.99) : NAN;
    mu_hist_destroy(&lat);
    mu_client_destroy(&c);
    return p50;
}

static double
rtt_raw(const setup_t *s, const char *ep, int n)
{
    zsock_t *sock;
    void *dealer = raw_client(s, ep, &sock);
    char msg[64];
    memset(msg, RAW_REQ, sizeof msg);
    mu_hist_t *lat = mu_hist_new();
    raw_roundtrip(dealer, msg, sizeof msg); /* connect */
    for (int i = 0; lat && i < n; i++) {
        int64_t t0 = bench_now_ns();
        bool ok = raw_roundtrip(dealer, msg, sizeof msg);
        if (ok)
            mu_hist_record(lat, (uint64_t) (bench_now_ns() - t0));
    }
    double p50 = lat ? bench_hist_us(lat, 0.5) : NAN;
    last_p99 = lat ? bench_hist_us(lat, 0.99) : NAN;
    mu_hist_destroy(&lat);
    zsock_destroy(&sock);
    return p50;
}

/*  1 KiB chunks per second, n chunks, ended by an answered request. */
static double
stream_ours(const setup_t *s, const char *ep, int n)
{
    mu_client_t *c = our_client(s, ep);
    if (!c)
        return NAN;
    char chunk[1024];
    memset(chunk, RAW_DATA, sizeof chunk);
    int64_t t0 = bench_now_ns();
    for (int i = 0; i < n; i++)
        if (mu_client_stream_send(c, 1, chunk, sizeof chunk, i == n - 1, 5000) != 0) {
            mu_client_destroy(&c);
            return NAN;
        }
    void *reply = NULL;
    size_t size;
    int rc = mu_client_request(c, "R", 1, &reply, &size, 30000);
    double secs = (double) (bench_now_ns() - t0) / 1e9;
    free(reply);
    mu_client_destroy(&c);
    return rc == 0 ? n / secs : NAN;
}

static double
stream_raw(const setup_t *s, const char *ep, int n)
{
    zsock_t *sock;
    void *dealer = raw_client(s, ep, &sock);
    char chunk[1024];
    memset(chunk, RAW_DATA, sizeof chunk);
    raw_roundtrip(dealer, "R", 1);
    int64_t t0 = bench_now_ns();
    for (int i = 0; i < n; i++)
        zmq_send(dealer, chunk, sizeof chunk, 0);
    bool ok = raw_roundtrip(dealer, "R", 1);
    double secs = (double) (bench_now_ns() - t0) / 1e9;
    zsock_destroy(&sock);
    return ok ? n / secs : NAN;
}

/*  MB/s of one download of the file. */
static double
file_ours(const setup_t *s, const char *ep)
{
    mu_client_t *c = our_client(s, ep);
    if (!c)
        return NAN;
    char out[400];
    snprintf(out, sizeof out, "%s/out/ours", s->dir);
    unlink(out);
    mu_file_options_t o = { .chunk_size = FILE_CHUNK, .timeout_ms = 120000, .digest = s->digest };
    int64_t t0 = bench_now_ns();
    int rc = mu_client_get(c, s->file_name, out, &o);
    double secs = (double) (bench_now_ns() - t0) / 1e9;
    mu_client_destroy(&c);
    if (rc != 0)
        fprintf(stderr, "bench/conn: get: %s\n", mu_strerror(rc));
    unlink(out);
    return rc == 0 ? (double) s->file_size / secs / 1e6 : NAN;
}

static double
file_raw(const setup_t *s, const char *ep)
{
    zsock_t *sock;
    void *dealer = raw_client(s, ep, &sock);
    char out[400];
    snprintf(out, sizeof out, "%s/out/raw", s->dir);
    raw_roundtrip(dealer, "R", 1);
    int64_t t0 = bench_now_ns();
    int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    char ask = RAW_FILE;
    zmq_send(dealer, &ask, 1, 0);
    size_t total = 0;
    zmq_msg_t msg;
    zmq_msg_init(&msg);
    while (zmq_msg_recv(&msg, dealer, 0) > 0) {
        if (write(fd, zmq_msg_data(&msg), zmq_msg_size(&msg)) < 0)
            break;
        total += zmq_msg_size(&msg);
    }
    zmq_msg_close(&msg);
    fsync(fd);
    close(fd);
    double secs = (double) (bench_now_ns() - t0) / 1e9;
    zsock_destroy(&sock);
    unlink(out);
    return total == s->file_size ? (double) total / secs / 1e6 : NAN;
}

/*  Connections per second over n fresh connections. */
static double
handshake_ours(const setup_t *s, const char *ep, int n)
{
    int64_t t0 = bench_now_ns();
    for (int i = 0; i < n; i++) {
        mu_client_t *c = our_client(s, ep);
        if (!c)
            return NAN;
        mu_client_destroy(&c);
    }
    return n / ((double) (bench_now_ns() - t0) / 1e9);
}

static double
handshake_raw(const setup_t *s, const char *ep, int n)
{
    int64_t t0 = bench_now_ns();
    for (int i = 0; i < n; i++) {
        zsock_t *sock;
        void *dealer = raw_client(s, ep, &sock);
        bool ok = raw_roundtrip(dealer, "R", 1);
        zsock_destroy(&sock);
        if (!ok)
            return NAN;
    }
    return n / ((double) (bench_now_ns() - t0) / 1e9);
}

/* ---- driver ----------------------------------------------------------------------- */

typedef enum { C_RTT, C_STREAM, C_FILE, C_HANDSHAKE, C_FILE_NOBAR } case_t;

static double
measure(case_t c, bool raw, const setup_t *s, const char *ep, int n)
{
    switch (c) {
    case C_RTT:
        return raw ? rtt_raw(s, ep, n) : rtt_ours(s, ep, n);
    case C_STREAM:
        return raw ? stream_raw(s, ep, n) : stream_ours(s, ep, n);
    case C_FILE:
    case C_FILE_NOBAR:
        return raw ? file_raw(s, ep) : file_ours(s, ep);
    default:
        return raw ? handshake_raw(s, ep, n) : handshake_ours(s, ep, n);
    }
}

/*  Runs one measurement with a fresh server of the given kind. Ours and
    raw never run at the same time: while a mu_server lives, libmutil's ZAP
    handler answers every CURVE handshake in the process, and it refuses the
    raw ROUTER's (which has no ZAP domain of ours). */
static double
measure_with_server(case_t c, bool raw, const setup_t *s, int n)
{
    server_ctl_t ctl;
    double value = NAN;
    if (server_start(&ctl, s, raw))
        value = measure(c, raw, s, ctl.endpoint, n);
    else
        fprintf(stderr, "bench/conn: a server did not start\n");
    server_stop(&ctl);
    return value;
}

/*  nng's figure for case c (NULL security only), or NaN (none). */
static double
measure_nng(case_t c, const setup_t *s, int n)
{
#ifdef HAVE_NNG
    if (!s->curve && c == C_RTT)
        return nngb_rtt(64, n, &last_p99);
    if (!s->curve && c == C_STREAM)
        return nngb_stream(1024, n, "tcp://127.0.0.1:0");
#else
    (void) c;
    (void) s;
    (void) n;
#endif
    return NAN;
}

/*  Prints ours against nng, or a skip line when nng is not built in. */
static void
report_nng(const bench_opts_t *opts, case_t c, const char *name, const double *o, const double *g)
{
    char nname[64];
    snprintf(nname, sizeof nname, "%s-nng", name);
#ifdef HAVE_NNG
    bench_report("conn", nname, c == C_RTT ? "us" : "msg/s", bench_median(o, opts->reps),
                 c == C_RTT ? "nng-req-rep" : "nng-push-pull", bench_median(g, opts->reps),
                 bench_paired_ratio(o, g, opts->reps), c == C_STREAM ? 1024 : 0, BENCH_BAR_NONE, 0);
#else
    (void) opts;
    (void) c;
    (void) o;
    (void) g;
    printf("{\"bench\":\"conn\",\"case\":\"%s\",\"skipped\":\"built without nng "
           "(apt-get install libnng-dev, then configure again)\"}\n",
           nname);
#endif
}

static void
run_case(const bench_opts_t *opts, setup_t *s, case_t c, const char *name, int n)
{
    if (!bench_selected(opts, name))
        return;
    double o[BENCH_MAX_REPS], r[BENCH_MAX_REPS], g[BENCH_MAX_REPS];
    double o99[BENCH_MAX_REPS], r99[BENCH_MAX_REPS];
    bool with_nng = !s->curve && (c == C_RTT || c == C_STREAM);
    for (int i = 0; i < opts->reps; i++) {
        o[i] = measure_with_server(c, false, s, n);
        o99[i] = last_p99;
        r[i] = measure_with_server(c, true, s, n);
        r99[i] = last_p99;
        g[i] = with_nng ? measure_nng(c, s, n) : NAN;
        if (opts->verbose)
            fprintf(stderr, "%s rep %d: ours %g raw %g nng %g\n", name, i, o[i], r[i], g[i]);
    }
    static const char *units[] = { "us", "msg/s", "MB/s", "conn/s", "MB/s" };
    static const char *bases[] = { "raw-dealer-router", "raw-dealer-router", "raw-zmq-stream",
                                   "raw-curve-connect", "raw-zmq-stream" };
    static const bench_bar_t kinds[] = { BENCH_BAR_MAX_RATIO, BENCH_BAR_MIN_RATIO,
                                         BENCH_BAR_MIN_RATIO, BENCH_BAR_NONE, BENCH_BAR_NONE };
    static const double bars[] = { 1.25, 0.85, 0.80, 0, 0 };
    bench_report("conn", name, units[c], bench_median(o, opts->reps), bases[c],
                 bench_median(r, opts->reps), bench_paired_ratio(o, r, opts->reps),
                 c == C_STREAM ? 1024 : 0, kinds[c], bars[c]);
    if (c == C_RTT) {
        char pname[64];
        snprintf(pname, sizeof pname, "%s-p99", name);
        bench_report("conn", pname, "us", bench_median(o99, opts->reps), bases[c],
                     bench_median(r99, opts->reps), bench_paired_ratio(o99, r99, opts->reps), 0,
                     BENCH_BAR_NONE, 0);
    }
    if (with_nng)
        report_nng(opts, c, name, o, g);
}

/*  Makes the temp dir with root/FILE of the wanted size (pseudo-random
    bytes) and reads it once so it sits in the page cache. */
static bool
make_file(setup_t *s)
{
    snprintf(s->dir, sizeof s->dir, "/tmp/mu-bench-conn-XXXXXX");
    if (!mkdtemp(s->dir))
        return false;
    char path[400];
    snprintf(path, sizeof path, "%s/root", s->dir);
    mkdir(path, 0755);
    snprintf(path, sizeof path, "%s/out", s->dir);
    mkdir(path, 0755);
    snprintf(s->file_name, sizeof s->file_name, "big.bin");
    snprintf(path, sizeof path, "%s/root/%s", s->dir, s->file_name);
    FILE *f = fopen(path, "wb");
    if (!f)
        return false;
    uint64_t x = 0x9e3779b97f4a7c15ull, buf[8192];
    for (size_t done = 0; done < s->file_size; done += sizeof buf) {
        for (size_t i = 0; i < 8192; i++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            buf[i] = x;
        }
        fwrite(buf, 1, sizeof buf, f);
    }
    return fclose(f) == 0;
}

int
main(int argc, char **argv)
{
    bench_opts_t opts;
    bench_parse_args(argc, argv, &opts);
    zsys_handler_set(NULL);
    setup_t s = { .file_size = (opts.quick ? 32u : 256u) << 20 };
    if (!make_file(&s)) {
        fprintf(stderr, "bench/conn: cannot make the test file\n");
        return 1;
    }
    s.server_keys = mu_keys_new();
    s.client_keys = mu_keys_new();
    int rtts = opts.quick ? 2000 : 20000, chunks = opts.quick ? 100000 : 500000;
    int conns = opts.quick ? 50 : 300;
    for (int curve = 0; curve <= 1; curve++) {
        s.curve = curve;
        char name[48];
        const char *sec = curve ? "curve" : "null";
        snprintf(name, sizeof name, "rtt-64B-%s", sec);
        run_case(&opts, &s, C_RTT, name, rtts);
        snprintf(name, sizeof name, "stream-1KiB-%s", sec);
        run_case(&opts, &s, C_STREAM, name, chunks);
        snprintf(name, sizeof name, "file-%zuMiB-%s", s.file_size >> 20, sec);
        run_case(&opts, &s, C_FILE, name, 1);
        snprintf(name, sizeof name, "file-%zuMiB-%s-blake2b", s.file_size >> 20, sec);
        s.digest = MU_FILE_DIGEST_BLAKE2B;
        run_case(&opts, &s, C_FILE_NOBAR, name, 1);
        s.digest = 0;
    }
    s.curve = true;
    run_case(&opts, &s, C_HANDSHAKE, "handshake-curve", conns);
    bench_print_table();
    mu_keys_destroy(&s.server_keys);
    mu_keys_destroy(&s.client_keys);
    bench_remove_tree(s.dir);
    return 0;
}
