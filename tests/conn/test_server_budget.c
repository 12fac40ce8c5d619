/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  test_server_budget.c — the server's transfer budgets
    (mu_server_set_transfer_budget): clients that open big downloads and
    never read cannot grow the server's memory past the budget, a normal
    client is served meanwhile, a budget-limited download still arrives
    whole, and the setter refuses bad values.

    The server runs in a child that this program execs (argv[1] "serve"),
    so it starts from a clean process and its own memory can be measured:
    it answers the request "rss" with "VmRSS VmHWM" (KiB, from
    /proc/self/status), "reset" the same after it started the peak VmHWM
    over (/proc/self/clear_refs), and "stats" with its bytes_out. Under
    AddressSanitizer the child gets a small quarantine, so freed chunks
    leave its resident set as they would without the sanitizer. */
#include "mu_test.h"
#include "mutil.h"
#include <czmq.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdbool.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#define SECRET "test-server-budget shared secret"
#define KIB 1024
#define MIB (1024 * 1024)

/* The wire kinds of mu_conn.h / mu_files.c the raw clients use. */
enum { K_HELLO = 0x01, K_WELCOME = 0x21, K_GET_OPEN = 0x40 };

static char tmpdir[256], root[300], local_dir[300];
static int endpoint_seq;

/* ------------------------------------------------------------------ */
/* The server child                                                    */

/* Starts the peak (VmHWM) over from the current resident set. */
static void
reset_peak(void)
{
    FILE *f = fopen("/proc/self/clear_refs", "w");
    if (f) {
        fputs("5", f);
        fclose(f);
    }
}

/* Writes "VmRSS VmHWM" in KiB into out. */
static void
read_rss(char *out, size_t cap)
{
    long rss = -1, hwm = -1;
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    while (f && fgets(line, sizeof line, f)) {
        if (strncmp(line, "VmRSS:", 6) == 0)
            rss = strtol(line + 6, NULL, 10);
        else if (strncmp(line, "VmHWM:", 6) == 0)
            hwm = strtol(line + 6, NULL, 10);
    }
    if (f)
        fclose(f);
    snprintf(out, cap, "%ld %ld", rss, hwm);
}

static void
serve_request(mu_server_t *server, mu_event_t *event)
{
    size_t size;
    const char *data = mu_event_data(event, &size);
    char reply[128];
    if (size == 5 && memcmp(data, "reset", 5) == 0) {
        reset_peak();
        read_rss(reply, sizeof reply);
    } else if (size == 3 && memcmp(data, "rss", 3) == 0) {
        read_rss(reply, sizeof reply);
    } else if (size == 5 && memcmp(data, "stats", 5) == 0) {
        mu_server_stats_t st = { .size = sizeof st };
        if (mu_server_stats(server, &st) != 0)
            memset(&st, 0, sizeof st);
        snprintf(reply, sizeof reply, "%llu", (unsigned long long) st.bytes_out);
    } else {
        snprintf(reply, sizeof reply, "?");
    }
    if (mu_server_reply(server, event, reply, strlen(reply)) != 0)
        fprintf(stderr, "# server: reply failed\n");
}

/* argv: serve ENDPOINT ROOT PER_PEER PER_SERVER; ready byte on fd 3. */
static int
server_main(char **argv)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    zsys_handler_set(NULL);
    mu_server_t *server = mu_server_new();
    int rc = server ? mu_server_set_secret(server, SECRET, strlen(SECRET)) : MU_ENOMEM;
    if (rc == 0)
        rc = mu_server_set_root(server, argv[3]);
    if (rc == 0)
        rc = mu_server_set_transfer_budget(server, strtoul(argv[4], NULL, 10),
                                           strtoul(argv[5], NULL, 10));
    /* never-reading peers must not time out during the test */
    if (rc == 0)
        rc = mu_server_set_heartbeat(server, 1000, mu_test_ms(120000));
    if (rc == 0 && (rc = mu_server_bind(server, argv[2])) > 0)
        rc = 0; /* the bound port */
    mu_test_signal_byte(3, rc == 0 ? 'y' : 'n');
    close(3);
    while (rc == 0) {
        mu_event_t *event = NULL;
        rc = mu_server_recv(server, &event, -1);
        if (rc == 0 && mu_event_kind(event) == MU_SERVER_REQUEST)
            serve_request(server, event);
        mu_event_destroy(&event);
    }
    mu_server_destroy(&server);
    return 0;
}

/* Starts a server child with the budgets on a fresh endpoint (in *ep). */
static pid_t
server_start(char *ep, size_t cap, size_t per_peer, size_t per_server)
{
    snprintf(ep, cap, "ipc://%s/ep%d", tmpdir, endpoint_seq++);
    int ready[2];
    if (pipe(ready) < 0)
        return -1;
    pid_t pid = fork();
    if (pid == 0) {
        dup2(ready[1], 3);
        char peer_text[32], server_text[32], asan[512];
        snprintf(peer_text, sizeof peer_text, "%zu", per_peer);
        snprintf(server_text, sizeof server_text, "%zu", per_server);
        const char *old = getenv("ASAN_OPTIONS");
        snprintf(asan, sizeof asan, "%s%squarantine_size_mb=1", old ? old : "",
                 old && *old ? ":" : "");
        setenv("ASAN_OPTIONS", asan, 1);
        execl("/proc/self/exe", "test_server_budget", "serve", ep, root, peer_text, server_text,
              (char *) NULL);
        _exit(127);
    }
    close(ready[1]);
    int status = pid > 0 ? mu_test_wait_byte(ready[0], 10000) : -1;
    close(ready[0]);
    if (pid > 0 && status != 'y') {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        return -1;
    }
    return pid;
}

static void
server_stop(pid_t pid)
{
    if (pid > 0) {
        kill(pid, SIGTERM);
        waitpid(pid, NULL, 0);
    }
}

/* ------------------------------------------------------------------ */
/* Clients                                                             */

static mu_client_t *
client_open(const char *endpoint)
{
    mu_client_t *client = mu_client_new();
    int rc = client ? mu_client_set_secret(client, SECRET, strlen(SECRET)) : MU_ENOMEM;
    if (rc == 0)
        rc = mu_client_connect(client, endpoint);
    if (rc == 0)
        rc = mu_client_wait_ready(client, mu_test_ms(10000));
    if (rc != 0)
        mu_client_destroy(&client);
    return client;
}

/* Asks the server a request whose answer is numbers: fills up to two. */
static bool
ask(mu_client_t *client, const char *what, long long *a, long long *b)
{
    void *reply = NULL;
    size_t size = 0;
    if (mu_client_request(client, what, strlen(what), &reply, &size, mu_test_ms(10000)) != 0)
        return false;
    long long x = -1, y = -1;
    int n = sscanf(reply, "%lld %lld", &x, &y);
    free(reply);
    if (a)
        *a = x;
    if (b)
        *b = y;
    return n >= 1;
}

static bool
raw_send(void *sock, int kind, uint64_t id, const void *data, size_t size)
{
    uint8_t frame[2048];
    frame[0] = 2; /* MU__PROTO_VERSION */
    frame[1] = (uint8_t) kind;
    for (int i = 0; i < 8; i++)
        frame[2 + i] = (uint8_t) (id >> (8 * i));
    memcpy(frame + 10, data, size);
    return zmq_send(sock, frame, 10 + size, 0) == (int) (10 + size);
}

/*  A CURVE client that says hello, waits for the welcome, opens downloads
    of path with chunk and window, and from then on never reads; its own
    queue holds one message and its socket buffer little, so what the
    server sends stays in the server. NULL on failure. */
static void *
never_reader_open(void *ctx, const char *endpoint, const char *path, int downloads, uint32_t chunk,
                  uint32_t window)
{
    mu_keys_t *server_keys = mu_keys_from_secret(SECRET, strlen(SECRET), MU_KEYS_SERVER);
    mu_keys_t *own = mu_keys_from_secret(SECRET, strlen(SECRET), MU_KEYS_CLIENT);
    void *sock = zmq_socket(ctx, ZMQ_DEALER);
    int one = 1, small = 4096, linger = 0, timeout = mu_test_ms(10000);
    bool ok = server_keys && own && sock && zmq_setsockopt(sock, ZMQ_RCVHWM, &one, sizeof one) == 0
              && zmq_setsockopt(sock, ZMQ_RCVBUF, &small, sizeof small) == 0
              && zmq_setsockopt(sock, ZMQ_LINGER, &linger, sizeof linger) == 0
              && zmq_setsockopt(sock, ZMQ_RCVTIMEO, &timeout, sizeof timeout) == 0
              && zmq_setsockopt(sock, ZMQ_CURVE_SERVERKEY, mu_keys_public(server_keys), 32) == 0
              && zmq_setsockopt(sock, ZMQ_CURVE_PUBLICKEY, mu_keys_public(own), 32) == 0
              && zmq_setsockopt(sock, ZMQ_CURVE_SECRETKEY, mu_keys_secret(own), 32) == 0
              && zmq_connect(sock, endpoint) == 0 && raw_send(sock, K_HELLO, 0, "never", 5);
    uint8_t welcome[64];
    ok = ok && zmq_recv(sock, welcome, sizeof welcome, 0) >= 10 && welcome[1] == K_WELCOME;
    for (int i = 0; ok && i < downloads; i++) {
        uint8_t open[17 + 256] = { 0 }; /* offset 0 | chunk | window | digest | path */
        for (int b = 0; b < 4; b++) {
            open[8 + b] = (uint8_t) (chunk >> (8 * b));
            open[12 + b] = (uint8_t) (window >> (8 * b));
        }
        open[16] = MU_FILE_DIGEST_XXH3_128;
        size_t len = strlen(path);
        memcpy(open + 17, path, len);
        ok = raw_send(sock, K_GET_OPEN, 100 + (uint64_t) i, open, 17 + len);
    }
    mu_keys_destroy(&server_keys);
    mu_keys_destroy(&own);
    if (!ok && sock) {
        zmq_close(sock);
        sock = NULL;
    }
    return sock;
}

/* ------------------------------------------------------------------ */
/* Files                                                               */

/* Writes size bytes of a seeded pseudo-random pattern. */
static bool
make_file(const char *path, size_t size, uint32_t seed)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return false;
    uint8_t buf[64 * KIB];
    uint32_t x = seed | 1;
    bool ok = true;
    for (size_t done = 0; ok && done < size;) {
        size_t n = size - done < sizeof buf ? size - done : sizeof buf;
        for (size_t i = 0; i < n; i++) {
            x ^= x << 13, x ^= x >> 17, x ^= x << 5;
            buf[i] = (uint8_t) x;
        }
        ok = write(fd, buf, n) == (ssize_t) n;
        done += n;
    }
    return close(fd) == 0 && ok;
}

/* A sparse file of size bytes (reads as zeros, costs no disk). */
static bool
make_sparse(const char *path, size_t size)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    bool ok = fd >= 0 && ftruncate(fd, (off_t) size) == 0;
    return fd >= 0 && close(fd) == 0 && ok;
}

static bool
same_content(const char *a, const char *b)
{
    char cmd[1000];
    snprintf(cmd, sizeof cmd, "cmp -s '%s' '%s'", a, b);
    return system(cmd) == 0;
}

static const char *
in_dir(char *buf, size_t cap, const char *dir, const char *name)
{
    snprintf(buf, cap, "%s/%s", dir, name);
    return buf;
}

/* ------------------------------------------------------------------ */
/* Cases                                                               */

#define NEVER_READERS 3
#define DOWNLOADS_EACH 4
#define NEVER_CHUNK MIB
#define NEVER_WINDOW 16 /* 16 MiB per download without a budget */
#define PEER_BUDGET (4 * MIB)
#define SERVER_BUDGET (16 * MIB)
#define RSS_MARGIN (48 * MIB)
#define NORMAL_SIZE (16 * MIB)

/*  Three clients open four downloads each (1 MiB chunks, a window of 16:
    192 MiB the server would queue without a budget) and never read. The
    server's peak resident set stays within its budget plus a margin,
    while a normal client gets answers and downloads 16 MiB intact. The
    normal download takes at least 16 rounds of the server's file work
    (1 MiB per transfer per round), in each of which every never-read
    download could queue one more chunk: so without a budget the server
    has queued everything before the check. */
static void
test_never_readers_bounded(void)
{
    char ep[400], big[400], normal[400], got[400];
    MU_CHECK(make_sparse(in_dir(big, sizeof big, root, "big"), 64 * MIB));
    MU_CHECK(make_file(in_dir(normal, sizeof normal, root, "normal"), NORMAL_SIZE, 7));
    pid_t pid = server_start(ep, sizeof ep, PEER_BUDGET, SERVER_BUDGET);
    MU_CHECK(pid > 0);
    mu_client_t *client = client_open(ep);
    long long base_rss = -1, base_hwm = -1, bytes_out = 0;
    bool ok = client && ask(client, "reset", &base_rss, &base_hwm) && base_rss > 0
              && base_hwm < base_rss + 1024; /* the start-up peak is gone */
    void *ctx = zmq_ctx_new();
    void *never[NEVER_READERS] = { 0 };
    for (int i = 0; ok && i < NEVER_READERS; i++)
        ok = (never[i] = never_reader_open(ctx, ep, "big", DOWNLOADS_EACH, NEVER_CHUNK,
                                           NEVER_WINDOW))
             != NULL;
    /* each never-reader has at least the chunks its budget takes queued */
    long long want = NEVER_READERS * (PEER_BUDGET / (NEVER_CHUNK + 64)) * (long long) NEVER_CHUNK;
    int64_t deadline = mu_test_now_ms() + mu_test_ms(30000);
    while (ok && bytes_out < want && mu_test_now_ms() < deadline)
        ok = ask(client, "stats", &bytes_out, NULL);
    printf("# never-readers: server sent %lld bytes (waited for %lld)\n", bytes_out, want);
    bool reached = bytes_out >= want;
    mu_file_options_t options = { .timeout_ms = mu_test_ms(60000) };
    int rc = ok ? mu_client_get(client, "normal", in_dir(got, sizeof got, local_dir, "normal"),
                                &options)
                : -1;
    long long rss = -1, hwm = -1;
    ok = ok && ask(client, "rss", &rss, &hwm);
    printf("# server VmRSS %lld KiB -> %lld KiB, peak %lld KiB (limit +%d KiB)\n", base_rss, rss,
           hwm, (SERVER_BUDGET + RSS_MARGIN) / KIB);
    for (int i = 0; i < NEVER_READERS; i++)
        if (never[i])
            zmq_close(never[i]);
    zmq_ctx_term(ctx);
    mu_client_destroy(&client);
    server_stop(pid);
    MU_CHECK(ok);
    MU_CHECK(reached);
    MU_CHECK_EQ(rc, 0);
    MU_CHECK(same_content(normal, got));
    MU_CHECK(hwm > 0 && hwm - base_rss <= (SERVER_BUDGET + RSS_MARGIN) / KIB);
    unlink(got);
}

/* Downloads name with options from a server with tight budgets and
   checks the copy. */
static void
check_tight_download(const char *name, size_t size, size_t chunk, unsigned window, size_t per_peer,
                     size_t per_server)
{
    char ep[400], src[400], got[400];
    MU_CHECK(make_file(in_dir(src, sizeof src, root, name), size, (uint32_t) size));
    pid_t pid = server_start(ep, sizeof ep, per_peer, per_server);
    MU_CHECK(pid > 0);
    mu_client_t *client = client_open(ep);
    mu_file_options_t options = { .chunk_size = chunk,
                                  .window = window,
                                  .timeout_ms = mu_test_ms(60000) };
    int rc = client
                 ? mu_client_get(client, name, in_dir(got, sizeof got, local_dir, name), &options)
                 : -1;
    mu_client_destroy(&client);
    server_stop(pid);
    MU_CHECK_EQ(rc, 0);
    MU_CHECK(same_content(src, got));
    unlink(got);
}

/* A download whose window is far over the budgets arrives whole: the
   server waits for bytes to drain and goes on. */
static void
test_tight_budget_completes(void)
{
    check_tight_download("tight", 6 * MIB + 123, 16 * KIB, 256, 64 * KIB, 96 * KIB);
}

/* A chunk larger than both budgets still moves, one at a time. */
static void
test_chunk_over_budget_completes(void)
{
    check_tight_download("wide", 3 * MIB + 7, 512 * KIB, 16, 100 * KIB, 200 * KIB);
}

/* The setter refuses zero budgets and a peer budget over the server's;
   valid values are taken before and after bind. */
static void
test_setter_errors(void)
{
    mu_server_t *server = mu_server_new();
    MU_CHECK(server);
    int rc[8];
    rc[0] = mu_server_set_transfer_budget(server, 0, MIB);
    rc[1] = mu_server_set_transfer_budget(server, MIB, 0);
    rc[2] = mu_server_set_transfer_budget(server, 0, 0);
    rc[3] = mu_server_set_transfer_budget(server, 2 * MIB, MIB);
    rc[4] = mu_server_set_transfer_budget(server, 1, 1);
    rc[5] = mu_server_set_transfer_budget(server, 64 * (size_t) MIB, 512 * (size_t) MIB);
    rc[6] = mu_server_set_insecure(server);
    char ep[400];
    snprintf(ep, sizeof ep, "ipc://%s/setter", tmpdir);
    rc[7] = rc[6] == 0 ? mu_server_bind(server, ep) : -1;
    int after = mu_server_set_transfer_budget(server, MIB, MIB);
    int after_bad = mu_server_set_transfer_budget(server, MIB + 1, MIB);
    mu_server_destroy(&server);
    MU_CHECK_EQ(rc[0], MU_EINVAL);
    MU_CHECK_EQ(rc[1], MU_EINVAL);
    MU_CHECK_EQ(rc[2], MU_EINVAL);
    MU_CHECK_EQ(rc[3], MU_EINVAL);
    MU_CHECK_EQ(rc[4], 0);
    MU_CHECK_EQ(rc[5], 0);
    MU_CHECK_EQ(rc[7], 0);
    MU_CHECK_EQ(after, 0);
    MU_CHECK_EQ(after_bad, MU_EINVAL);
}

int
main(int argc, char **argv)
{
    if (argc == 6 && strcmp(argv[1], "serve") == 0)
        return server_main(argv);
    alarm(600);
    if (!mu_test_scratch_dir(tmpdir, sizeof tmpdir, "mu_test_budget"))
        return 1;
    snprintf(root, sizeof root, "%s/root", tmpdir);
    snprintf(local_dir, sizeof local_dir, "%s/local", tmpdir);
    if (mkdir(root, 0755) != 0 || mkdir(local_dir, 0755) != 0)
        return 1;
    zsys_handler_set(NULL);

    MU_RUN(test_setter_errors);
    MU_RUN(test_tight_budget_completes);
    MU_RUN(test_chunk_over_budget_completes);
    MU_RUN(test_never_readers_bounded);

    zsys_shutdown();
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0)
        return 1;
    MU_DONE();
}
