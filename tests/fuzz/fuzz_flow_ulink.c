/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  fuzz_flow_ulink.c — libFuzzer target for the receiving side of a flow's
    local link (mu__ulink_in_t, src/flow/mu_flow_ulink.c): what a process
    connecting to a runner's AF_UNIX socket can make it do.

    Input: byte 0 seeds the sizes of the pieces the stream is written in
    (0: all at once); bit 0 of byte 1 puts the flow's hello (the right
    token) in front of the rest, which is the stream the connection sends.
    (The rest may bring the hello by itself.) The stream goes to the receiver's socket piece by piece, the receiver
    taking every record it has after each piece, and once more after the
    client closed. Checked against the format (doc/wire.md, "Local
    links"): a u32 little-endian size, then that many bytes; the first
    record must be the 21-byte hello with the token. Every record handed
    out is the stream's next one after the hello, byte for byte; none is
    handed out without the hello; the connection is gone after the
    client's end; malformed input (no hello, a size over the maximum, an
    end inside a record) is reported exactly once and a well-formed stream
    never. Anything else aborts. */
#include "flow/mu_flow_ulink.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define HELLO_LEN (1 + MU__ULINK_TOKEN + 4)

static const uint8_t token[MU__ULINK_TOKEN] = { 't',  'o',  'k',  'e',  'n', 0x01, 0x02, 0x03,
                                                0xF0, 0xF1, 0xF2, 0xF3, 0,   0xFF, 'x',  'y' };
static mu__ulink_in_t *receiver;
static char path[108];
static int bad_calls;

static void
fail(const char *what)
{
    fprintf(stderr, "fuzz_flow_ulink: %s\n", what);
    abort();
}

static uint32_t
le32(const uint8_t *p)
{
    return p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 | (uint32_t) p[3] << 24;
}

static void
count_bad(void *ctx, const char *what, size_t size)
{
    (void) ctx;
    (void) what;
    (void) size;
    bad_calls++;
}

/*  One receiver for the whole run, in a directory of its own. */
static void
set_up(void)
{
    static char dir[] = "/tmp/fuzz_flow_ulink.XXXXXX";
    if (!mkdtemp(dir))
        fail("mkdtemp");
    snprintf(path, sizeof path, "%s/s1-0", dir);
    receiver = mu__ulink_in_new(path, token, 4, count_bad, NULL);
    if (!receiver)
        fail("mu__ulink_in_new");
}

typedef struct {
    const uint8_t *stream; /* what the client sends, hello included */
    size_t len;
    size_t consumed; /* bytes of the records handed out so far */
    bool hello;      /* the stream starts with the right hello */
} reading_t;

/*  A record handed out: it must be the stream's next one. */
static void
check_record(reading_t *r, const void *rec, size_t size)
{
    if (!r->hello)
        fail("a record handed out without the hello");
    size_t left = r->len - r->consumed;
    if (left < 4 || le32(r->stream + r->consumed) != size || left - 4 < size)
        fail("a record that is not the stream's next one");
    if (size > 0 && memcmp(rec, r->stream + r->consumed + 4, size) != 0)
        fail("a record whose bytes are not the stream's");
    r->consumed += 4 + size;
}

/*  Whether the stream is malformed (doc/wire.md): no hello in front of
    something, a size over the maximum, an end inside a record. */
static bool
malformed(const reading_t *r)
{
    if (r->len == 0)
        return false;
    if (!r->hello)
        return true;
    size_t off = 4 + HELLO_LEN;
    while (off < r->len) {
        size_t left = r->len - off;
        if (left < 4)
            return true;
        uint32_t n = le32(r->stream + off);
        if (n > MU__ULINK_MAX_RECORD || left - 4 < n)
            return true;
        off += 4 + (size_t) n;
    }
    return false;
}

static void
take_all(reading_t *r)
{
    const void *rec;
    size_t n;
    while (mu__ulink_recv(receiver, &rec, &n) == 0)
        check_record(r, rec, n);
}

static size_t
next_piece(uint32_t *state, size_t left)
{
    if (*state == 0)
        return left;
    *state ^= *state << 13;
    *state ^= *state >> 17;
    *state ^= *state << 5;
    size_t piece = 1 + *state % 64;
    return piece < left ? piece : left;
}

static int
connect_client(void)
{
    struct sockaddr_un a = { .sun_family = AF_UNIX };
    memcpy(a.sun_path, path, strlen(path) + 1);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *) &a, sizeof a) != 0)
        fail("connect");
    return fd;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    if (!receiver)
        set_up();
    static uint8_t stream[4 + HELLO_LEN + 65536];
    size_t rest = size - 2 < 65536 ? size - 2 : 65536;
    reading_t r = { .stream = stream };
    if (data[1] & 1) {
        uint8_t hello[4 + HELLO_LEN] = { HELLO_LEN, 0, 0, 0, 'H' };
        memcpy(hello + 5, token, MU__ULINK_TOKEN);
        memcpy(stream, hello, sizeof hello);
        r.len = sizeof hello;
    }
    memcpy(stream + r.len, data + 2, rest);
    r.len += rest;
    /* the fuzzer may find the hello by itself too */
    r.hello = r.len >= 4 + HELLO_LEN && le32(stream) == HELLO_LEN && stream[4] == 'H'
              && memcmp(stream + 5, token, MU__ULINK_TOKEN) == 0;
    if (r.hello)
        r.consumed = 4 + HELLO_LEN; /* the hello is never handed out */
    uint32_t state = data[0] ? data[0] * 2654435761u : 0;
    int client = connect_client();
    int before = bad_calls;
    for (size_t fed = 0; fed < r.len;) {
        size_t piece = next_piece(&state, r.len - fed);
        ssize_t n = send(client, stream + fed, piece, MSG_NOSIGNAL);
        if (n <= 0)
            break; /* the receiver closed the connection (malformed) */
        fed += (size_t) n;
        take_all(&r);
    }
    close(client);
    take_all(&r);
    if (mu__ulink_in_conns(receiver) != 0)
        fail("the connection is still open after the client's end");
    int reported = bad_calls - before;
    if (reported != (malformed(&r) ? 1 : 0)) {
        fprintf(stderr, "fuzz_flow_ulink: %d reports, stream of %zu bytes, %zu taken\n", reported,
                r.len, r.consumed);
        fail("malformed input reported otherwise than once, or well-formed input reported");
    }
    if (!malformed(&r) && r.consumed != r.len)
        fail("a well-formed stream not handed out whole");
    return 0;
}
