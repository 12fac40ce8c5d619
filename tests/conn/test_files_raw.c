/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  test_files_raw.c — the file transfer protocol spoken raw over a ZeroMQ
    socket (malformed and out-of-order messages), and the digest
    algorithms, through the client and raw. */
#include "files_cases.h"

/* The wire kinds of mu_files.c, for the raw-protocol tests. */
enum {
    K_HELLO = 0x01,
    K_BYE = 0x02,
    K_REQ = 0x04,
    K_WELCOME = 0x21,
    K_REP = 0x23,
    K_ERR = 0x24,
    K_GET_OPEN = 0x40,
    K_GET_CREDIT = 0x41,
    K_GET_INFO = 0x50,
    K_GET_DATA = 0x51,
    K_GET_END = 0x52,
    K_PUT_OPEN = 0x43,
    K_PUT_DATA = 0x44,
    K_PUT_END = 0x45,
    K_PUT_READY = 0x53
};

/* ------------------------------------------------------------------ */
/* The wire, spoken by hand                                            */

static void
hdr(uint8_t out[10], int kind, uint64_t id)
{
    out[0] = 2; /* protocol version: one frame, header + payload */
    out[1] = (uint8_t) kind;
    for (int i = 0; i < 8; i++)
        out[2 + i] = (uint8_t) (id >> (8 * i));
}

static bool
raw_send(void *sock, int kind, uint64_t id, const void *data, size_t size)
{
    uint8_t *frame = malloc(10 + size);
    if (!frame)
        return false;
    hdr(frame, kind, id);
    if (size)
        memcpy(frame + 10, data, size);
    bool ok = zmq_send(sock, frame, 10 + size, 0) == (int) (10 + size);
    free(frame);
    return ok;
}

/* Receives one message; returns its payload size (or -1 on timeout or a
   message shorter than a header); the payload goes to buf (truncated to
   cap). */
static int
raw_recv(void *sock, int *kind_p, uint64_t *id_p, uint8_t *buf, size_t cap)
{
    zmq_msg_t msg;
    zmq_msg_init(&msg);
    int n = zmq_msg_recv(&msg, sock, 0);
    if (n < 10) {
        zmq_msg_close(&msg);
        return -1;
    }
    const uint8_t *h = zmq_msg_data(&msg);
    *kind_p = h[1];
    *id_p = 0;
    for (int i = 7; i >= 0; i--)
        *id_p = (*id_p << 8) | h[2 + i];
    size_t size = (size_t) n - 10;
    memcpy(buf, h + 10, size < cap ? size : cap);
    zmq_msg_close(&msg);
    return (int) size;
}

/* Waits for the answer to id; returns the error code of an ERR, 1 for
   another kind (in *kind_p), 0 on timeout. */
static int
raw_answer(void *sock, uint64_t id, int *kind_p)
{
    for (;;) {
        uint8_t buf[512];
        uint64_t got;
        int n = raw_recv(sock, kind_p, &got, buf, sizeof buf);
        if (n < 0)
            return 0;
        if (got != id)
            continue;
        if (*kind_p != K_ERR)
            return 1;
        int32_t code = (int32_t) ((uint32_t) buf[0] | (uint32_t) buf[1] << 8
                                  | (uint32_t) buf[2] << 16 | (uint32_t) buf[3] << 24);
        return n >= 4 ? code : 0;
    }
}

static size_t
open_msg_alg(uint8_t *out, int put, uint64_t size_or_offset, const void *path, size_t len, int alg)
{
    memset(out, 0, 21);
    for (int i = 0; i < 8; i++)
        out[i] = (uint8_t) (size_or_offset >> (8 * i));
    out[9] = 1;  /* chunk 256 */
    out[12] = 4; /* window 4 */
    size_t head = put ? 21 : 17;
    out[head - 1] = (uint8_t) alg; /* the digest algorithm */
    memcpy(out + head, path, len);
    return head + len;
}

static size_t
open_msg(uint8_t *out, int put, uint64_t size_or_offset, const void *path, size_t len)
{
    return open_msg_alg(out, put, size_or_offset, path, len, MU_FILE_DIGEST_XXH3_128);
}

/* A DEALER socket (in a context of its own, *ctx_p) connected to f's server
   with a 5 s receive timeout and greeted: HELLO sent, WELCOME answered.
   False when any step fails. */
static bool
raw_greeted(const fixture_t *f, void **ctx_p, void **sock_p)
{
    *ctx_p = zmq_ctx_new();
    *sock_p = zmq_socket(*ctx_p, ZMQ_DEALER);
    int timeout = 5000, linger = 0, kind = 0;
    zmq_setsockopt(*sock_p, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
    zmq_setsockopt(*sock_p, ZMQ_LINGER, &linger, sizeof linger);
    return zmq_connect(*sock_p, f->endpoint) == 0 && raw_send(*sock_p, K_HELLO, 0, "raw", 3)
           && raw_answer(*sock_p, 0, &kind) == 1 && kind == K_WELCOME;
}

/* Malformed and hostile messages get error answers; the connection stays;
   an upload with a wrong digest is refused with MU_EDIGEST and a peer that
   leaves mid-upload has its temp file removed. */
static void
test_raw_protocol(void)
{
    fixture_t f;
    MU_CHECK(fixture_open(&f, 0, 0, 0));
    char path[512];
    MU_CHECK(make_file(in_root(path, "raw"), 100, 1));
    void *ctx, *sock;
    int kind;
    MU_CHECK(raw_greeted(&f, &ctx, &sock));

    uint8_t msg[2000];
    size_t n = open_msg(msg, 0, 0, "raw\0x", 5); /* embedded NUL */
    MU_CHECK(raw_send(sock, K_GET_OPEN, 10, msg, n));
    MU_CHECK_EQ(raw_answer(sock, 10, &kind), MU_EINVAL);
    char longpath[1025];
    memset(longpath, 'b', sizeof longpath);
    n = open_msg(msg, 0, 0, longpath, sizeof longpath);
    MU_CHECK(raw_send(sock, K_GET_OPEN, 11, msg, n));
    MU_CHECK_EQ(raw_answer(sock, 11, &kind), MU_EINVAL);
    n = open_msg(msg, 1, 5, "raw\0", 4);
    MU_CHECK(raw_send(sock, K_PUT_OPEN, 12, msg, n));
    MU_CHECK_EQ(raw_answer(sock, 12, &kind), MU_EINVAL);
    n = open_msg(msg, 0, 0, "raw", 3);
    msg[9] = 0; /* chunk size 0 */
    MU_CHECK(raw_send(sock, K_GET_OPEN, 13, msg, n));
    MU_CHECK_EQ(raw_answer(sock, 13, &kind), MU_EPROTO);
    MU_CHECK(raw_send(sock, K_GET_OPEN, 14, "short", 5));
    MU_CHECK_EQ(raw_answer(sock, 14, &kind), MU_EPROTO);
    MU_CHECK(raw_send(sock, K_PUT_OPEN, 15, "short", 5));
    MU_CHECK_EQ(raw_answer(sock, 15, &kind), MU_EPROTO);
    MU_CHECK(raw_send(sock, 0x5f, 16, NULL, 0));
    MU_CHECK_EQ(raw_answer(sock, 16, &kind), MU_EPROTO);
    MU_CHECK(raw_send(sock, K_GET_CREDIT, 17, "x", 1));
    MU_CHECK_EQ(raw_answer(sock, 17, &kind), MU_EPROTO);
    /* A download offset past the end. */
    n = open_msg(msg, 0, 101, "raw", 3);
    MU_CHECK(raw_send(sock, K_GET_OPEN, 18, msg, n));
    MU_CHECK_EQ(raw_answer(sock, 18, &kind), MU_EINVAL);

    /* Upload with a wrong digest. */
    n = open_msg(msg, 1, 3, "wrong", 5);
    MU_CHECK(raw_send(sock, K_PUT_OPEN, 20, msg, n));
    MU_CHECK_EQ(raw_answer(sock, 20, &kind), 1);
    MU_CHECK_EQ(kind, K_PUT_READY);
    uint8_t data[11] = { 0, 0, 0, 0, 0, 0, 0, 0, 'a', 'b', 'c' };
    MU_CHECK(raw_send(sock, K_PUT_DATA, 20, data, sizeof data));
    uint8_t digest[32] = { 0 };
    MU_CHECK(raw_send(sock, K_PUT_END, 20, digest, 16)); /* XXH3-128: 16 bytes */
    MU_CHECK_EQ(raw_answer(sock, 20, &kind), MU_EDIGEST);
    MU_CHECK(!exists(in_root(path, "wrong")));
    MU_CHECK_EQ(count_temp(root), 0);
    /* A chunk out of place. */
    MU_CHECK(raw_send(sock, K_PUT_OPEN, 21, msg, n));
    MU_CHECK_EQ(raw_answer(sock, 21, &kind), 1);
    data[0] = 1;
    MU_CHECK(raw_send(sock, K_PUT_DATA, 21, data, sizeof data));
    MU_CHECK_EQ(raw_answer(sock, 21, &kind), MU_EPROTO);
    MU_CHECK_EQ(count_temp(root), 0);
    /* Messages for transfers the server does not know are ignored: the
       next request is the next thing answered. */
    MU_CHECK(raw_send(sock, K_PUT_DATA, 99, data, sizeof data));
    MU_CHECK(raw_send(sock, K_GET_CREDIT, 99, "\1\0\0\0", 4));
    MU_CHECK(raw_send(sock, K_REQ, 30, "stats", 5));
    uint8_t buf[512];
    uint64_t id;
    int len = raw_recv(sock, &kind, &id, buf, sizeof buf - 1);
    MU_CHECK(len > 0);
    MU_CHECK_EQ(kind, K_REP);
    MU_CHECK_EQ(id, 30);
    buf[len] = 0;
    unsigned long long counts[3];
    MU_CHECK(sscanf((char *) buf, "%llu %llu %llu", &counts[0], &counts[1], &counts[2]) == 3);
    MU_CHECK_EQ(counts[2], 6); /* 13, 14, 15, 16, 17 and 21 */

    /* 32 uploads at once per peer; the 33rd is refused with MU_EAGAIN. */
    data[0] = 0;
    for (int i = 0; i < 32; i++) {
        char name[16];
        snprintf(name, sizeof name, "left-%d", i);
        n = open_msg(msg, 1, 1000, name, strlen(name));
        MU_CHECK(raw_send(sock, K_PUT_OPEN, 100 + (uint64_t) i, msg, n));
        MU_CHECK_EQ(raw_answer(sock, 100 + (uint64_t) i, &kind), 1);
        MU_CHECK(raw_send(sock, K_PUT_DATA, 100 + (uint64_t) i, data, sizeof data));
    }
    n = open_msg(msg, 1, 1000, "left-x", 6);
    MU_CHECK(raw_send(sock, K_PUT_OPEN, 200, msg, n));
    MU_CHECK_EQ(raw_answer(sock, 200, &kind), MU_EAGAIN);
    MU_CHECK(raw_send(sock, K_REQ, 41, "ping", 4));
    MU_CHECK_EQ(raw_answer(sock, 41, &kind), 1);
    MU_CHECK_EQ(count_temp(root), 32);
    /* The peer leaves in the middle of its uploads: temp files removed. */
    MU_CHECK(raw_send(sock, K_BYE, 0, NULL, 0));
    MU_CHECK(temp_gone(root, 3000));
    MU_CHECK(!exists(in_root(path, "left-0")));
    zmq_close(sock);
    zmq_ctx_term(ctx);
    fixture_close(&f);
}

/* ------------------------------------------------------------------ */
/* Transfer digests                                                    */

/*  Both algorithms (and the default) move files both ways, plain and
    with CURVE; an unknown digest option is MU_EINVAL; a corrupt
    LOCAL.partial is caught with each algorithm (MU_EDIGEST, nothing
    kept). */
static void
test_digest_algorithms(void)
{
    const int algs[] = { 0, MU_FILE_DIGEST_XXH3_128, MU_FILE_DIGEST_BLAKE2B };
    for (int secure = 0; secure < 2; secure++) {
        fixture_t f;
        MU_CHECK(fixture_open(&f, secure, 0, 0));
        char src[512], dst[512], back[512], name[64];
        for (size_t i = 0; i < 3; i++) {
            mu_file_options_t opts = { .digest = algs[i], .flags = MU_FILE_OVERWRITE };
            snprintf(name, sizeof name, "alg-%d-%zu", secure, i);
            MU_CHECK(make_file(in_root(src, name), 3 * CHUNK + 17, 30 + i));
            MU_CHECK_EQ(mu_client_get(f.client, name, in_local(dst, name), &opts), 0);
            MU_CHECK(same_content(src, dst));
            snprintf(name, sizeof name, "alg-back-%d-%zu", secure, i);
            MU_CHECK_EQ(mu_client_put(f.client, dst, name, &opts), 0);
            MU_CHECK(same_content(src, in_root(back, name)));
        }
        mu_file_options_t bad = { .digest = 3 };
        MU_CHECK_EQ(mu_client_get(f.client, "alg-0-0", in_local(dst, "bad"), &bad), MU_EINVAL);
        bad.digest = -1;
        MU_CHECK_EQ(mu_client_put(f.client, src, "bad", &bad), MU_EINVAL);
        fixture_close(&f);
    }

    fixture_t f;
    MU_CHECK(fixture_open(&f, 0, 0, 0));
    char src[512], dst[512], partial[600];
    MU_CHECK(make_file(in_root(src, "corrupt"), MIB + 99, 23));
    in_local(dst, "corrupt");
    snprintf(partial, sizeof partial, "%s.partial", dst);
    for (size_t i = 1; i < 3; i++) {
        /* A .partial with one wrong byte: every later byte is right, so
           only the digest can tell. */
        int fd = open(partial, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        MU_CHECK(fd >= 0);
        uint8_t head[3000];
        for (size_t j = 0; j < sizeof head; j++)
            head[j] = pattern(23, j);
        head[1234] ^= 0x40;
        MU_CHECK(write(fd, head, sizeof head) == (ssize_t) sizeof head);
        close(fd);
        mu_file_options_t opts = { .digest = algs[i], .flags = MU_FILE_RESUME };
        MU_CHECK_EQ(mu_client_get(f.client, "corrupt", dst, &opts), MU_EDIGEST);
        MU_CHECK(!exists(dst));
        MU_CHECK(!exists(partial));
        /* Without the damage the same call succeeds. */
        MU_CHECK_EQ(mu_client_get(f.client, "corrupt", dst, &opts), 0);
        MU_CHECK(same_content(src, dst));
        unlink(dst);
    }
    fixture_close(&f);
}

/* The digest of data with alg (wire id); returns its length. */
static size_t
expected_digest(int alg, const uint8_t *data, size_t size, uint8_t out[32])
{
    if (alg == MU_FILE_DIGEST_BLAKE2B) {
        crypto_generichash(out, 32, data, size, NULL, 0);
        return 32;
    }
    XXH128_canonical_t c;
    XXH128_canonicalFromHash(&c, XXH3_128bits(data, size));
    memcpy(out, c.digest, 16);
    return 16;
}

/*  Downloads path (size bytes, at most one 256-byte chunk) over the raw
    protocol with alg: GET_INFO names alg, GET_END carries its digest of
    the data. Returns true when all of that holds. */
static bool
raw_get_checks(void *sock, uint64_t id, const char *path, size_t size, int alg)
{
    uint8_t msg[600], buf[600], data[256], want[32];
    size_t n = open_msg_alg(msg, 0, 0, path, strlen(path), alg);
    if (!raw_send(sock, K_GET_OPEN, id, msg, n))
        return false;
    size_t got = 0;
    bool info_ok = false;
    for (;;) {
        int kind;
        uint64_t mid;
        int len = raw_recv(sock, &kind, &mid, buf, sizeof buf);
        if (len < 0)
            return false;
        if (mid != id)
            continue;
        if (kind == K_GET_INFO)
            info_ok = len == 13 && buf[12] == alg;
        else if (kind == K_GET_DATA && len > 8 && got + (size_t) len - 8 <= sizeof data) {
            memcpy(data + got, buf + 8, (size_t) len - 8);
            got += (size_t) len - 8;
        } else if (kind == K_GET_END) {
            size_t want_len = expected_digest(alg, data, got, want);
            return info_ok && got == size && (size_t) len == want_len
                   && memcmp(buf, want, want_len) == 0;
        } else
            return false;
    }
}

/*  The digest algorithm on the wire: the server hashes with the one the
    request names (GET_INFO echoes it, GET_END is its digest); an upload's
    PUT_END of the other algorithm's length is a protocol error, a wrong
    digest of either MU_EDIGEST; an unknown algorithm id (0, 3, 0x61: an
    older client whose path starts there) is refused with MU_ENOTSUP and
    the connection stays. */
static void
test_raw_digests(void)
{
    fixture_t f;
    MU_CHECK(fixture_open(&f, 0, 0, 0));
    char path[512];
    MU_CHECK(make_file(in_root(path, "rawd"), 200, 5));
    void *ctx, *sock;
    int kind;
    MU_CHECK(raw_greeted(&f, &ctx, &sock));

    MU_CHECK(raw_get_checks(sock, 10, "rawd", 200, MU_FILE_DIGEST_XXH3_128));
    MU_CHECK(raw_get_checks(sock, 11, "rawd", 200, MU_FILE_DIGEST_BLAKE2B));
    MU_CHECK(raw_get_checks(sock, 12, "rawd", 200, MU_FILE_DIGEST_XXH3_128));
    MU_CHECK(raw_get_checks(sock, 13, "rawd", 200, MU_FILE_DIGEST_BLAKE2B));

    uint8_t msg[600];
    const int unknown[] = { 0, 3, 0x61 };
    for (size_t i = 0; i < 3; i++) {
        size_t n = open_msg_alg(msg, 0, 0, "rawd", 4, unknown[i]);
        MU_CHECK(raw_send(sock, K_GET_OPEN, 20 + i, msg, n));
        MU_CHECK_EQ(raw_answer(sock, 20 + i, &kind), MU_ENOTSUP);
        n = open_msg_alg(msg, 1, 3, "rawd-up", 7, unknown[i]);
        MU_CHECK(raw_send(sock, K_PUT_OPEN, 30 + i, msg, n));
        MU_CHECK_EQ(raw_answer(sock, 30 + i, &kind), MU_ENOTSUP);
    }

    /* Uploads: the right digest of each algorithm lands the file; the
       wrong one is MU_EDIGEST, the other length MU_EPROTO. */
    const int algs[] = { MU_FILE_DIGEST_XXH3_128, MU_FILE_DIGEST_BLAKE2B };
    uint8_t data[11] = { 0, 0, 0, 0, 0, 0, 0, 0, 'a', 'b', 'c' };
    for (size_t i = 0; i < 2; i++) {
        uint8_t digest[32];
        size_t len = expected_digest(algs[i], data + 8, 3, digest);
        for (int round = 0; round < 3; round++) {
            uint64_t id = 40 + 10 * i + (uint64_t) round;
            char name[32];
            snprintf(name, sizeof name, "up-%zu-%d", i, round);
            size_t n = open_msg_alg(msg, 1, 3, name, strlen(name), algs[i]);
            MU_CHECK(raw_send(sock, K_PUT_OPEN, id, msg, n));
            MU_CHECK_EQ(raw_answer(sock, id, &kind), 1);
            MU_CHECK_EQ(kind, K_PUT_READY);
            MU_CHECK(raw_send(sock, K_PUT_DATA, id, data, sizeof data));
            uint8_t sent[32];
            memcpy(sent, digest, sizeof sent);
            size_t sent_len = len;
            if (round == 1)
                sent[len - 1] ^= 1; /* corrupted */
            if (round == 2)
                sent_len = len == 16 ? 32 : 16; /* the other algorithm's length */
            MU_CHECK(raw_send(sock, K_PUT_END, id, sent, sent_len));
            int want = round == 0 ? 1 : round == 1 ? MU_EDIGEST : MU_EPROTO;
            MU_CHECK_EQ(raw_answer(sock, id, &kind), want);
            MU_CHECK_EQ(exists(in_root(path, name)), round == 0);
        }
    }
    MU_CHECK_EQ(count_temp(root), 0);
    zmq_close(sock);
    zmq_ctx_term(ctx);
    fixture_close(&f);
}

int
main(void)
{
    if (!files_suite_begin())
        return 1;

    MU_RUN(test_raw_protocol);
    MU_RUN(test_digest_algorithms);
    MU_RUN(test_raw_digests);

    files_suite_end();
    MU_DONE();
}
