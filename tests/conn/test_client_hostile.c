/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  test_client_hostile.c — a mu_client against a hostile or broken server,
    played by a raw ZeroMQ ROUTER (NULL security) on an ipc:// endpoint.
    The ROUTER queues the server's whole answer before the client's call
    starts (the transfer and request ids of a fresh client are 1, 2, ...),
    so nothing waits on a clock: the call reads what was queued, and the
    test then reads what the client sent. Every case checks the call's code,
    that no file or temporary file is left where it must not be, and that
    a resumed download's bytes are kept. */
#include "mu_test.h"
#include "mutil.h"
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <xxhash.h>
#include <zmq.h>

enum {
    K_HELLO = 0x01,
    K_REQ = 0x04,
    K_WELCOME = 0x21,
    K_REP = 0x23,
    K_ERR = 0x24,
    K_PUSH = 0x25,
    K_GET_OPEN = 0x40,
    K_PUT_OPEN = 0x43,
    K_GET_INFO = 0x50,
    K_GET_DATA = 0x51,
    K_GET_END = 0x52,
    K_PUT_READY = 0x53
};

static char tmpdir[256];
static int serial;

/* A raw ROUTER playing the server, and a fresh client greeted by it. */
typedef struct {
    void *ctx, *router;
    uint8_t rid[256];
    size_t rid_len;
    mu_client_t *client;
} hostile_t;

static bool
srv_send(hostile_t *h, int kind, uint64_t id, const void *data, size_t size)
{
    uint8_t *frame = malloc(10 + size);
    if (!frame)
        return false;
    frame[0] = 2;
    frame[1] = (uint8_t) kind;
    for (int i = 0; i < 8; i++)
        frame[2 + i] = (uint8_t) (id >> (8 * i));
    if (size)
        memcpy(frame + 10, data, size);
    bool ok = zmq_send(h->router, h->rid, h->rid_len, ZMQ_SNDMORE) == (int) h->rid_len
              && zmq_send(h->router, frame, 10 + size, 0) == (int) (10 + size);
    free(frame);
    return ok;
}

static bool
srv_err(hostile_t *h, uint64_t id, int code, const char *text)
{
    uint8_t buf[128];
    uint32_t bits = (uint32_t) code;
    for (int i = 0; i < 4; i++)
        buf[i] = (uint8_t) (bits >> (8 * i));
    size_t len = strlen(text);
    memcpy(buf + 4, text, len);
    return srv_send(h, K_ERR, id, buf, 4 + len);
}

/* Receives one message of the client (5 s scaled): its kind and id; -1
   on timeout. */
static int
srv_recv(hostile_t *h, uint64_t *id_p)
{
    uint8_t rid[256], frame[64];
    int n = zmq_recv(h->router, rid, sizeof rid, 0);
    if (n < 0)
        return -1;
    h->rid_len = (size_t) n < sizeof rid ? (size_t) n : sizeof rid;
    memcpy(h->rid, rid, h->rid_len);
    n = zmq_recv(h->router, frame, sizeof frame, 0);
    if (n < 10)
        return -1;
    *id_p = 0;
    for (int i = 7; i >= 0; i--)
        *id_p = (*id_p << 8) | frame[2 + i];
    return frame[1];
}

/* Counts the client's messages of kind sent so far: makes the client send
   a request (id, the client's next) answered at once and reads up to it. */
static int
srv_count(hostile_t *h, int kind, uint64_t id)
{
    if (!srv_send(h, K_REP, id, "sync", 4))
        return -1;
    void *reply = NULL;
    size_t size;
    if (mu_client_request(h->client, "sync", 4, &reply, &size, mu_test_ms(5000)) != 0)
        return -1;
    free(reply);
    int count = 0, got;
    uint64_t got_id;
    while ((got = srv_recv(h, &got_id)) >= 0 && !(got == K_REQ && got_id == id))
        count += got == kind;
    return got < 0 ? -1 : count;
}

static bool
hostile_open(hostile_t *h)
{
    memset(h, 0, sizeof *h);
    char endpoint[128];
    snprintf(endpoint, sizeof endpoint, "ipc://@mu-test-hostile-%ld-%d", (long) getpid(), serial++);
    int timeout = mu_test_ms(5000), linger = 0;
    h->ctx = zmq_ctx_new();
    h->router = zmq_socket(h->ctx, ZMQ_ROUTER);
    zmq_setsockopt(h->router, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
    zmq_setsockopt(h->router, ZMQ_LINGER, &linger, sizeof linger);
    if (zmq_bind(h->router, endpoint) != 0)
        return false;
    h->client = mu_client_new();
    if (!h->client || mu_client_set_insecure(h->client) != 0
        || mu_client_connect(h->client, endpoint) != 0)
        return false;
    uint64_t id;
    if (srv_recv(h, &id) != K_HELLO)
        return false;
    uint8_t peer[8] = { 1 };
    return srv_send(h, K_WELCOME, 0, peer, sizeof peer)
           && mu_client_wait_ready(h->client, mu_test_ms(5000)) == 0;
}

static void
hostile_close(hostile_t *h)
{
    mu_client_destroy(&h->client);
    if (h->router)
        zmq_close(h->router);
    if (h->ctx)
        zmq_ctx_term(h->ctx);
}

/* ------------------------------------------------------------------ */
/* Local files                                                         */

static const char *
local_path(char *buf, const char *name)
{
    snprintf(buf, 512, "%s/%s", tmpdir, name);
    return buf;
}

static bool
exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

/* The temporary files (".part-", ".partial") in tmpdir. */
static int
count_temp(void)
{
    DIR *dir = opendir(tmpdir);
    if (!dir)
        return -1;
    int count = 0;
    struct dirent *e;
    while ((e = readdir(dir)))
        count += strstr(e->d_name, ".part-") != NULL || strstr(e->d_name, ".partial") != NULL;
    closedir(dir);
    return count;
}

static bool
write_file(const char *path, const void *data, size_t size)
{
    FILE *f = fopen(path, "wb");
    bool ok = f && fwrite(data, 1, size, f) == size;
    return f && fclose(f) == 0 && ok;
}

/* True when path holds exactly data. */
static bool
holds(const char *path, const void *data, size_t size)
{
    char buf[4096];
    FILE *f = fopen(path, "rb");
    if (!f)
        return false;
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    return n == size && memcmp(buf, data, size) == 0;
}

/* The XXH3-128 transfer digest of data (canonical form). */
static void
digest_of(const void *data, size_t size, uint8_t out[16])
{
    XXH128_canonical_t c;
    XXH128_canonicalFromHash(&c, XXH3_128bits(data, size));
    memcpy(out, c.digest, 16);
}

static void
info(uint8_t out[13], uint64_t size, uint32_t window)
{
    for (int i = 0; i < 8; i++)
        out[i] = (uint8_t) (size >> (8 * i));
    for (int i = 0; i < 4; i++)
        out[8 + i] = (uint8_t) (window >> (8 * i));
    out[12] = MU_FILE_DIGEST_XXH3_128;
}

static bool
srv_info(hostile_t *h, uint64_t id, uint64_t size)
{
    uint8_t buf[13];
    info(buf, size, 4);
    return srv_send(h, K_GET_INFO, id, buf, sizeof buf);
}

static bool
srv_data(hostile_t *h, uint64_t id, uint64_t offset, const char *text)
{
    uint8_t buf[256];
    size_t len = strlen(text);
    for (int i = 0; i < 8; i++)
        buf[i] = (uint8_t) (offset >> (8 * i));
    memcpy(buf + 8, text, len);
    return srv_send(h, K_GET_DATA, id, buf, 8 + len);
}

static bool
srv_end(hostile_t *h, uint64_t id, const char *whole)
{
    uint8_t digest[16];
    digest_of(whole, strlen(whole), digest);
    return srv_send(h, K_GET_END, id, digest, sizeof digest);
}

static int
get(hostile_t *h, const char *local, int flags)
{
    mu_file_options_t o = { .chunk_size = 64,
                            .window = 4,
                            .flags = flags,
                            .timeout_ms = mu_test_ms(3000) };
    return mu_client_get(h->client, "remote", local, &o);
}

/* ------------------------------------------------------------------ */
/* Cases                                                               */

/* The error a server answers a transfer with: a code outside the table
   (not an errno value either) is MU_EREMOTE, and so is MU_EPIPE, which
   must not be taken for a lost connection (the client would open the
   transfer again and again until its timeout). */
static void
test_transfer_error_codes(void)
{
    hostile_t h;
    char local[512], src[512];
    MU_CHECK(hostile_open(&h));
    local_path(local, "err-pipe");
    MU_CHECK(srv_err(&h, 1, MU_EPIPE, "no"));
    MU_CHECK_EQ(get(&h, local, 0), MU_EREMOTE);
    MU_CHECK(strstr(mu_last_error(), "server: no") != NULL);
    MU_CHECK_EQ(srv_count(&h, K_GET_OPEN, 2), 1);
    MU_CHECK(!exists(local));

    MU_CHECK(srv_err(&h, 3, -99999, "odd"));
    MU_CHECK_EQ(get(&h, local, 0), MU_EREMOTE);
    MU_CHECK(!exists(local));
    MU_CHECK(srv_err(&h, 4, MU_ENOENT, "gone"));
    MU_CHECK_EQ(get(&h, local, 0), MU_ENOENT);
    MU_CHECK(srv_err(&h, 5, -EROFS, "read-only")); /* an errno of the server's */
    MU_CHECK_EQ(get(&h, local, 0), -EROFS);

    MU_CHECK(write_file(local_path(src, "err-src"), "abc", 3));
    MU_CHECK(srv_err(&h, 6, MU_EPIPE, "no"));
    mu_file_options_t o = { .timeout_ms = mu_test_ms(3000) };
    MU_CHECK_EQ(mu_client_put(h.client, src, "remote", &o), MU_EREMOTE);
    MU_CHECK_EQ(srv_count(&h, K_PUT_OPEN, 7), 1);
    MU_CHECK_EQ(count_temp(), 0);
    unlink(src);
    hostile_close(&h);
}

/* A second GET_INFO (the size changing in the middle of a transfer) is a
   protocol error: the file is not put in place. */
static void
test_info_twice(void)
{
    hostile_t h;
    char local[512];
    MU_CHECK(hostile_open(&h));
    local_path(local, "info-twice");
    MU_CHECK(srv_info(&h, 1, 10));
    MU_CHECK(srv_data(&h, 1, 0, "hello"));
    MU_CHECK(srv_info(&h, 1, 5));
    MU_CHECK(srv_end(&h, 1, "hello"));
    MU_CHECK_EQ(get(&h, local, 0), MU_EPROTO);
    MU_CHECK(!exists(local));
    MU_CHECK_EQ(count_temp(), 0);
    hostile_close(&h);
}

/* Downloads the server gets wrong in other ways: each a clear code, no
   file left (the cases already handled before this test was written). */
static void
test_download_violations(void)
{
    hostile_t h;
    char local[512];
    MU_CHECK(hostile_open(&h));
    local_path(local, "bad");
    uint64_t id = 1;
    /* data before the size */
    MU_CHECK(srv_data(&h, id, 0, "abc"));
    MU_CHECK_EQ(get(&h, local, 0), MU_EPROTO);
    /* a chunk past the announced size */
    id++;
    MU_CHECK(srv_info(&h, id, 2));
    MU_CHECK(srv_data(&h, id, 0, "abc"));
    MU_CHECK_EQ(get(&h, local, 0), MU_EPROTO);
    /* a chunk out of place, then one duplicated */
    id++;
    MU_CHECK(srv_info(&h, id, 6));
    MU_CHECK(srv_data(&h, id, 3, "def"));
    MU_CHECK_EQ(get(&h, local, 0), MU_EPROTO);
    id++;
    MU_CHECK(srv_info(&h, id, 6));
    MU_CHECK(srv_data(&h, id, 0, "abc"));
    MU_CHECK(srv_data(&h, id, 0, "abc"));
    MU_CHECK_EQ(get(&h, local, 0), MU_EPROTO);
    /* the end before all the data, and a wrong digest */
    id++;
    MU_CHECK(srv_info(&h, id, 6));
    MU_CHECK(srv_data(&h, id, 0, "abc"));
    MU_CHECK(srv_end(&h, id, "abc"));
    MU_CHECK_EQ(get(&h, local, 0), MU_EPROTO);
    id++;
    MU_CHECK(srv_info(&h, id, 3));
    MU_CHECK(srv_data(&h, id, 0, "abc"));
    MU_CHECK(srv_end(&h, id, "abd"));
    MU_CHECK_EQ(get(&h, local, 0), MU_EDIGEST);
    /* an end whose digest has the other algorithm's length */
    id++;
    MU_CHECK(srv_info(&h, id, 0));
    uint8_t digest[32] = { 0 };
    MU_CHECK(srv_send(&h, K_GET_END, id, digest, 32));
    MU_CHECK_EQ(get(&h, local, 0), MU_EPROTO);
    /* another digest algorithm, a window of 0 or wider than asked */
    uint8_t buf[13];
    id++;
    info(buf, 3, 4);
    buf[12] = MU_FILE_DIGEST_BLAKE2B;
    MU_CHECK(srv_send(&h, K_GET_INFO, id, buf, sizeof buf));
    MU_CHECK_EQ(get(&h, local, 0), MU_EPROTO);
    id++;
    info(buf, 3, 0);
    MU_CHECK(srv_send(&h, K_GET_INFO, id, buf, sizeof buf));
    MU_CHECK_EQ(get(&h, local, 0), MU_EPROTO);
    id++;
    info(buf, 3, 5);
    MU_CHECK(srv_send(&h, K_GET_INFO, id, buf, sizeof buf));
    MU_CHECK_EQ(get(&h, local, 0), MU_EPROTO);
    /* an upload's kind in a download */
    id++;
    MU_CHECK(srv_send(&h, K_PUT_READY, id, "\1\0\0\0", 4));
    MU_CHECK_EQ(get(&h, local, 0), MU_EPROTO);
    MU_CHECK(!exists(local));
    MU_CHECK_EQ(count_temp(), 0);

    /* A well-behaved answer still works, after stale messages of the
       transfers above and of ids never used. */
    id++;
    MU_CHECK(srv_data(&h, 1, 0, "stale"));
    MU_CHECK(srv_data(&h, 999, 0, "never"));
    MU_CHECK(srv_info(&h, id, 3));
    MU_CHECK(srv_data(&h, id, 0, "abc"));
    MU_CHECK(srv_end(&h, id, "abc"));
    MU_CHECK_EQ(get(&h, local, 0), 0);
    MU_CHECK(holds(local, "abc", 3));
    unlink(local);
    hostile_close(&h);
}

/* A resumed download keeps the bytes it has: a size below them is a
   protocol error and LOCAL.partial stays as it was. */
static void
test_resume_kept(void)
{
    hostile_t h;
    char local[512], partial[600];
    MU_CHECK(hostile_open(&h));
    local_path(local, "resume");
    snprintf(partial, sizeof partial, "%s.partial", local);
    MU_CHECK(write_file(partial, "abcd", 4));
    MU_CHECK(srv_info(&h, 1, 2));
    MU_CHECK_EQ(get(&h, local, MU_FILE_RESUME), MU_EPROTO);
    MU_CHECK(holds(partial, "abcd", 4));
    MU_CHECK(srv_info(&h, 2, 6));
    MU_CHECK(srv_data(&h, 2, 0, "XY"));
    MU_CHECK_EQ(get(&h, local, MU_FILE_RESUME), MU_EPROTO);
    MU_CHECK(holds(partial, "abcd", 4));
    MU_CHECK(srv_info(&h, 3, 6));
    MU_CHECK(srv_data(&h, 3, 4, "ef"));
    MU_CHECK(srv_end(&h, 3, "abcdef"));
    MU_CHECK_EQ(get(&h, local, MU_FILE_RESUME), 0);
    MU_CHECK(holds(local, "abcdef", 6));
    MU_CHECK(!exists(partial));
    unlink(local);
    hostile_close(&h);
}

/* Pushes flood in while the caller does not read: the queue keeps at
   most 64 MiB of payload (and 100,000 items), dropping the oldest. */
static void
test_push_flood_bounded(void)
{
    enum { PUSHES = 72, SIZE = 1024 * 1024 };
    hostile_t h;
    MU_CHECK(hostile_open(&h));
    uint8_t *push = malloc(SIZE);
    MU_CHECK(push);
    for (int i = 0; i < PUSHES; i++) {
        memset(push, i, SIZE);
        MU_CHECK(srv_send(&h, K_PUSH, 0, push, SIZE));
    }
    free(push);
    MU_CHECK(srv_send(&h, K_REP, 1, "pong", 4));
    void *reply = NULL;
    size_t size = 0;
    MU_CHECK_EQ(mu_client_request(h.client, "ping", 4, &reply, &size, mu_test_ms(5000)), 0);
    free(reply);
    mu_client_stats_t st = { .size = sizeof st };
    MU_CHECK_EQ(mu_client_stats(h.client, &st), 0);
    MU_CHECK_EQ(st.dropped_events, PUSHES - 64);
    size_t total = 0;
    int first = -1, last = -1;
    void *data;
    while (mu_client_recv(h.client, NULL, NULL, NULL, &data, &size, 0) == 0) {
        if (first < 0)
            first = ((uint8_t *) data)[0];
        last = ((uint8_t *) data)[size - 1];
        total += size;
        free(data);
    }
    MU_CHECK_EQ(total, (size_t) 64 * SIZE);
    MU_CHECK_EQ(first, PUSHES - 64);
    MU_CHECK_EQ(last, PUSHES - 1);
    hostile_close(&h);
}

/* A LOCAL.partial that is a symbolic link is not followed: the download
   never writes into the file it leads to, and the link is left alone
   (it was appended to, then renamed into place as LOCAL, before). A
   LOCAL.partial the client may not open is left alone too. */
static void
test_resume_partial_symlink(void)
{
    hostile_t h;
    char local[512], partial[600], victim[512];
    MU_CHECK(hostile_open(&h));
    local_path(local, "linked");
    snprintf(partial, sizeof partial, "%s.partial", local);
    MU_CHECK(write_file(local_path(victim, "victim"), "mine", 4));
    MU_CHECK(symlink(victim, partial) == 0);
    MU_CHECK(srv_info(&h, 1, 7));
    MU_CHECK(srv_data(&h, 1, 4, "bad"));
    MU_CHECK(srv_end(&h, 1, "minebad"));
    MU_CHECK_EQ(get(&h, local, MU_FILE_RESUME), -ELOOP);
    MU_CHECK(holds(victim, "mine", 4));
    MU_CHECK(!exists(local));
    struct stat st;
    MU_CHECK(lstat(partial, &st) == 0 && S_ISLNK(st.st_mode));
    unlink(partial);
    /* a directory in its place: refused, kept */
    MU_CHECK(mkdir(partial, 0700) == 0);
    MU_CHECK_EQ(get(&h, local, MU_FILE_RESUME), MU_EISDIR);
    MU_CHECK(lstat(partial, &st) == 0 && S_ISDIR(st.st_mode));
    rmdir(partial);
    /* a FIFO: not a regular file, kept */
    MU_CHECK(mkfifo(partial, 0600) == 0);
    MU_CHECK_EQ(get(&h, local, MU_FILE_RESUME), MU_ENOTREG);
    MU_CHECK(lstat(partial, &st) == 0 && S_ISFIFO(st.st_mode));
    unlink(partial);
    unlink(victim);
    MU_CHECK_EQ(count_temp(), 0);
    hostile_close(&h);
}

int
main(void)
{
    mu_test_start(120);
    if (!mu_test_scratch_dir(tmpdir, sizeof tmpdir, "mu_test_client_hostile"))
        return 1;
    MU_RUN(test_transfer_error_codes);
    MU_RUN(test_info_twice);
    MU_RUN(test_download_violations);
    MU_RUN(test_resume_kept);
    MU_RUN(test_push_flood_bounded);
    MU_RUN(test_resume_partial_symlink);
    mu_test_remove_scratch_dir(tmpdir);
    MU_DONE();
}
