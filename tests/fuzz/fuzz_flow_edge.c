/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  fuzz_flow_edge.c — libFuzzer target for the flow edge's frame reader:
    mu__edge_read_frames on a client pipe set up by mu__edge_pipe_new, the
    code that turns the bytes a client sends to a TCP edge into messages.

    Input: byte 0 picks the edge's max_frame (255: 1 MiB, the default;
    otherwise byte 0, at least 1, so that frames over it are common), byte 1
    seeds the sizes of the pieces the stream is written in (0: all at
    once), and the rest is what the client sends. The stream goes through a
    socket pair piece by piece, the reader running after each piece as the
    edge does when its poll says the client is readable, and once more after
    the client closed. Checked: every frame is at most max_frame and is the
    stream's own bytes at its place (a 4-byte little-endian length, then the
    payload); the frames consume the stream's prefix exactly, as the pipe's
    counters say too; and the reading ends as the format says: MU_ECLOSED
    after whole frames, MU_EPROTO at a length over the maximum,
    MU_ETRUNCATED inside a frame. Anything else aborts. */
#include "flow/mu_flow_int.h"
#include "flow/mu_flow_edge.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct {
    const uint8_t *stream;
    size_t len;
    size_t consumed; /* bytes of the frames handed over so far */
    uint64_t frames;
    uint64_t payload;
    uint32_t max;
} reading_t;

static void
fail(const char *what)
{
    fprintf(stderr, "fuzz_flow_edge: %s\n", what);
    abort();
}

static uint32_t
le32(const uint8_t *p)
{
    return p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 | (uint32_t) p[3] << 24;
}

/*  The reader's callback: the frame must be the stream's next one. */
static int
check_frame(void *ctx, const void *data, size_t size)
{
    reading_t *r = ctx;
    if (size > r->max)
        fail("a frame longer than max_frame");
    if (r->len - r->consumed < 4 || r->len - r->consumed - 4 < size)
        fail("a frame the stream does not hold");
    if (le32(r->stream + r->consumed) != size)
        fail("a frame whose size is not its length prefix");
    if (size > 0 && memcmp(data, r->stream + r->consumed + 4, size) != 0)
        fail("a frame whose bytes are not the stream's");
    r->consumed += 4 + size;
    r->frames++;
    r->payload += size;
    return 0;
}

/*  How the reading must end once the frames before r->consumed are out. */
static int
expected_end(const reading_t *r)
{
    size_t left = r->len - r->consumed;
    if (left == 0)
        return MU_ECLOSED;
    if (left < 4)
        return MU_ETRUNCATED;
    uint32_t announced = le32(r->stream + r->consumed);
    if (announced > r->max)
        return MU_EPROTO;
    if (left - 4 < announced)
        return MU_ETRUNCATED;
    fail("a whole frame was never handed over");
    return 0;
}

/*  The size of the next piece: 1..64 bytes from a xorshift state, or
    everything when the state is 0. */
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

/*  Writes the next piece of the stream to the client's end (what the
    socket takes of it); closes that end once everything went. */
static void
feed(int *client, const reading_t *r, size_t *fed, uint32_t *state)
{
    size_t piece = next_piece(state, r->len - *fed);
    ssize_t n = piece ? send(*client, r->stream + *fed, piece, MSG_NOSIGNAL | MSG_DONTWAIT) : 0;
    if (n > 0)
        *fed += (size_t) n;
    if (*fed == r->len || (n < 0 && errno != EAGAIN)) {
        close(*client);
        *client = -1;
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    reading_t r = { .stream = data + 2,
                    .len = size - 2,
                    .max = data[0] == 255 ? 1024 * 1024
                           : data[0]      ? data[0]
                                          : 1 };
    uint32_t state = data[1] ? data[1] * 2654435761u : 0;
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
        fail("socketpair");
    mu_pipe_t *p = mu__edge_pipe_new(sv[0], r.max, 4);
    if (!p)
        fail("mu__edge_pipe_new");
    int client = sv[1];
    size_t fed = 0;
    int rc = MU_EAGAIN;
    while (rc == MU_EAGAIN) {
        bool was_open = client >= 0;
        if (was_open)
            feed(&client, &r, &fed, &state);
        rc = mu__edge_read_frames(p, check_frame, &r);
        if (rc == MU_EAGAIN && !was_open)
            fail("MU_EAGAIN after the client closed");
    }
    if (rc != expected_end(&r)) {
        fprintf(stderr, "fuzz_flow_edge: ended with %d (%s) at byte %zu of %zu\n", rc,
                mu_strerror(rc), r.consumed, r.len);
        fail("the reading ended otherwise than the format says");
    }
    mu_pipe_stats_t st = { .size = sizeof st };
    if (mu_pipe_stats(p, &st) != 0 || st.frames_received != r.frames
        || st.bytes_received != r.payload)
        fail("the pipe's counters disagree with the frames handed over");
    if (client >= 0)
        close(client);
    mu_pipe_destroy(&p);
    return 0;
}
