/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  fuzz_frame.c — libFuzzer target for mu_pipe's frame decoder.

    The first two input bytes choose the set-up, the rest is the byte stream:
      byte 0, bits 0-2: header size - 1 (1..8 bytes, little-endian lengths)
              bits 3-4: maximum: 0 small (byte 1 + 1), 1 the default (64 MiB),
                        2 lifted (UINT64_MAX), 3 near the top (UINT64_MAX - byte 1)
              bits 5-7: delivery: 0 all at once, n > 0 chunks of 2^(n-1) bytes
                        with non-blocking receives in between
      byte 1: the small maximum's value, or the distance below UINT64_MAX.
    The stream goes through a pipe(2) into a mu_pipe reader; every answer of
    mu_pipe_recv (frames, then MU_ECLOSED, MU_ETRUNCATED, MU_EPROTO or
    MU_EMSGSIZE) must match a small reference decoder written here from the
    format in mu_pipe.h, and the frames sent again through a mu_pipe writer
    must give back the bytes they came from. Disagreement aborts. */
#include "mutil.h"
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define STREAM_MAX 60000 /* fits a pipe's default 64 KiB capacity */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fail(const char *what)
{
    fprintf(stderr, "fuzz_frame: %s\n", what);
    abort();
}

/* ---- the reference decoder ---------------------------------------------- */

typedef struct {
    int hb;       /* header bytes, 1..8 */
    uint64_t max; /* configured maximum */
    int chunk;    /* 0: all at once, else bytes per write */
} setup_t;

/* One expected answer: a frame (rc 0, payload at offset, size) or an error. */
typedef struct {
    int rc;
    size_t offset;
    uint64_t size;
} answer_t;

/* Decodes the next answer of stream[*pos..len) and advances *pos past a
   frame. Written from the format, independently of mu_pipe.c: a length of
   hb little-endian bytes, then the payload; a length over the maximum (or
   over what hb bytes express) is MU_EPROTO; a frame that cannot be one
   object in memory is MU_EMSGSIZE; the end of the stream between frames is
   MU_ECLOSED, inside one MU_ETRUNCATED. */
static answer_t
reference_next(const setup_t *s, const uint8_t *stream, size_t len, size_t *pos)
{
    size_t left = len - *pos;
    if (left == 0)
        return (answer_t) { MU_ECLOSED, 0, 0 };
    if (left < (size_t) s->hb)
        return (answer_t) { MU_ETRUNCATED, 0, 0 };
    uint64_t size = 0;
    for (int i = 0; i < s->hb; i++)
        size |= (uint64_t) stream[*pos + (size_t) i] << (8 * i);
    uint64_t expressible = s->hb == 8 ? UINT64_MAX : (UINT64_C(1) << (8 * s->hb)) - 1;
    if (size > s->max || size > expressible)
        return (answer_t) { MU_EPROTO, 0, 0 };
    if (size + (uint64_t) s->hb > (uint64_t) PTRDIFF_MAX || size + (uint64_t) s->hb < size)
        return (answer_t) { MU_EMSGSIZE, 0, 0 };
    if (left - (size_t) s->hb < size)
        return (answer_t) { MU_ETRUNCATED, 0, 0 };
    answer_t frame = { 0, *pos + (size_t) s->hb, size };
    *pos += (size_t) s->hb + (size_t) size;
    return frame;
}

/* ---- driving mu_pipe ---------------------------------------------------- */

static setup_t
parse_setup(const uint8_t *data)
{
    setup_t s = { .hb = (data[0] & 7) + 1, .max = 0, .chunk = 0 };
    switch ((data[0] >> 3) & 3) {
    case 0:
        s.max = (uint64_t) data[1] + 1;
        break;
    case 1:
        s.max = MU_PIPE_MAX_FRAME_DEFAULT;
        break;
    case 2:
        s.max = UINT64_MAX;
        break;
    default:
        s.max = UINT64_MAX - data[1];
        break;
    }
    int n = data[0] >> 5;
    s.chunk = n == 0 ? 0 : 1 << (n - 1);
    return s;
}

/* Writes what the pipe takes of stream[*fed..len), at most one chunk (all
   when chunk is 0); closes the write end when everything went out or the
   reader is gone. */
static void
feed(int *write_fd, const setup_t *s, const uint8_t *stream, size_t len, size_t *fed)
{
    if (*write_fd < 0)
        return;
    size_t want = len - *fed;
    if (s->chunk > 0 && want > (size_t) s->chunk)
        want = (size_t) s->chunk;
    ssize_t n = want ? write(*write_fd, stream + *fed, want) : 0;
    if (n > 0)
        *fed += (size_t) n;
    if (*fed == len || (n < 0 && errno != EAGAIN)) {
        close(*write_fd);
        *write_fd = -1;
    }
}

/* Checks one answer of mu_pipe_recv against the reference. */
static void
check_answer(int rc, const void *payload, size_t size, const answer_t *want, const uint8_t *stream)
{
    if (rc != want->rc) {
        fprintf(stderr, "fuzz_frame: mu_pipe_recv gave %s, the reference %s\n", mu_errname(rc),
                mu_errname(want->rc));
        abort();
    }
    if (rc == 0 && (size != want->size || memcmp(payload, stream + want->offset, size) != 0))
        fail("a frame's payload differs from the reference");
}

/* Sends the frames [0, count) of stream again through a mu_pipe writer and
   checks that the bytes written are stream[0..consumed). */
static void
check_reencoding(const setup_t *s, const uint8_t *stream, const answer_t *frames, size_t count,
                 size_t consumed)
{
    mu_pipe_t *reader, *writer;
    if (mu_pipe_pair(&reader, &writer) != 0)
        fail("mu_pipe_pair failed");
    if (mu_pipe_set_header_size(writer, s->hb) != 0 || mu_pipe_set_max_frame(writer, s->max) != 0)
        fail("a valid set-up was refused");
    for (size_t i = 0; i < count; i++)
        if (mu_pipe_send(writer, stream + frames[i].offset, (size_t) frames[i].size, MU_PIPE_MORE)
            != 0)
            fail("a frame that was received cannot be sent");
    if (mu_pipe_flush(writer) != 0)
        fail("flush failed");
    mu_pipe_destroy(&writer); /* EOF after the frames */
    int fd = mu_pipe_fd(reader);
    uint8_t *copy = malloc(consumed + 1);
    size_t got = 0;
    ssize_t n;
    while (got <= consumed && (n = read(fd, copy + got, consumed + 1 - got)) > 0)
        got += (size_t) n;
    if (got != consumed || memcmp(copy, stream, consumed) != 0)
        fail("frames sent again differ from the bytes they were received from");
    free(copy);
    mu_pipe_destroy(&reader);
}

/* Opens the pipe: *reader_p gets a configured mu_pipe reader with a zero
   timeout, *write_fd_p the non-blocking write end. */
static void
open_stream(const setup_t *s, mu_pipe_t **reader_p, int *write_fd_p)
{
    int fds[2];
    if (pipe(fds) != 0)
        fail("pipe failed");
    *reader_p = mu_pipe_new_fd(fds[0], -1);
    if (!*reader_p || mu_pipe_set_header_size(*reader_p, s->hb) != 0
        || mu_pipe_set_max_frame(*reader_p, s->max) != 0)
        fail("a valid set-up was refused");
    mu_pipe_set_recv_timeout(*reader_p, 0);
    (void) fcntl(fds[1], F_SETFL, O_NONBLOCK);
    *write_fd_p = fds[1];
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool ready;
    if (!ready) {
        signal(SIGPIPE, SIG_IGN); /* a reader closed on MU_EPROTO */
        ready = true;
    }
    if (size < 2)
        return 0;
    setup_t s = parse_setup(data);
    const uint8_t *stream = data + 2;
    size_t len = size - 2 > STREAM_MAX ? STREAM_MAX : size - 2;

    mu_pipe_t *reader;
    int write_fd;
    open_stream(&s, &reader, &write_fd);
    answer_t *frames = malloc((len + 1) * sizeof *frames); /* a frame takes >= 1 byte */
    if (!frames)
        fail("out of memory");
    size_t count = 0, pos = 0, fed = 0;
    for (;;) {
        feed(&write_fd, &s, stream, len, &fed);
        const void *payload;
        size_t got;
        int rc = mu_pipe_recv(reader, &payload, &got);
        if (rc == MU_EAGAIN) {
            if (write_fd < 0)
                fail("MU_EAGAIN after the end of the stream");
            continue;
        }
        answer_t want = reference_next(&s, stream, len, &pos);
        check_answer(rc, payload, got, &want, stream);
        if (rc != 0) {
            /* Terminal: MU_EMSGSIZE consumes nothing and repeats, the
               others end the stream. */
            int again = mu_pipe_recv(reader, &payload, &got);
            if (again != (rc == MU_EMSGSIZE ? MU_EMSGSIZE : MU_ECLOSED))
                fail("the answer after a terminal one is wrong");
            break;
        }
        frames[count++] = want;
    }
    mu_pipe_stats_t st = { .size = sizeof st };
    if (mu_pipe_stats(reader, &st) != 0 || st.frames_received != count
        || st.bytes_received + count * (uint64_t) s.hb != pos)
        fail("counters disagree with the frames received");
    if (write_fd >= 0)
        close(write_fd);
    mu_pipe_destroy(&reader);
    check_reencoding(&s, stream, frames, count, pos);
    free(frames);
    return 0;
}
