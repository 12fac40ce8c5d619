/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  test_pipe_limits.c — mu_pipe at the edges of its size arithmetic: lengths
    announced near 2^64 with every header size and the maximum lifted to
    UINT64_MAX, and sends of sizes no buffer can have. */
#include "mu_test.h"
#include "mutil.h"
#include <stdbool.h>
#include <stdint.h>

/* The announced lengths that used to wrap or spin (issue 10, defect 3),
   first the ones that wrapped, so old code fails fast instead of hanging. */
static const uint64_t huge_lengths[] = {
    UINT64_MAX - 7,    /* 2^64 - 8: header + length wrapped to 0 */
    UINT64_MAX,        /* 2^64 - 1: wrapped to 7 */
    UINT64_C(1) << 63, /* 2^63: the buffer doubled forever */
};

/* The largest length an hb-byte header can express. */
static uint64_t
header_capacity(int hb)
{
    return hb >= 8 ? UINT64_MAX : (UINT64_C(1) << (8 * hb)) - 1;
}

/* A pipe(2) whose write end stays with the caller (*write_fd_p) and whose
   read end is a mu_pipe reader with header size hb, the maximum lifted to
   UINT64_MAX and a receive timeout of 0. Holds a 1-byte frame "z", then a
   header announcing `declared` bytes and the first 3 of them. */
static mu_pipe_t *
reader_with_announced_frame(int hb, uint64_t declared, int *write_fd_p)
{
    int fds[2];
    if (pipe(fds) != 0)
        return NULL;
    uint8_t bytes[2 * 8 + 4];
    size_t len = 0;
    for (int i = 0; i < hb; i++)
        bytes[len++] = (uint8_t) (i == 0 ? 1 : 0);
    bytes[len++] = 'z';
    for (int i = 0; i < hb; i++)
        bytes[len++] = (uint8_t) (declared >> (8 * i));
    memcpy(bytes + len, "abc", 3);
    len += 3;
    mu_pipe_t *reader = mu_pipe_new_fd(fds[0], -1);
    if (write(fds[1], bytes, len) != (ssize_t) len || !reader
        || mu_pipe_set_header_size(reader, hb) != 0
        || mu_pipe_set_max_frame(reader, UINT64_MAX) != 0) {
        mu_pipe_destroy(&reader);
        close(fds[1]);
        return NULL;
    }
    mu_pipe_set_recv_timeout(reader, 0);
    *write_fd_p = fds[1];
    return reader;
}

/* An announced length no process can hold (header + length past
   PTRDIFF_MAX) is MU_EMSGSIZE at once, consumes nothing (the same answer
   again, even after EOF), and a lower maximum then refuses the frame as
   MU_EPROTO and closes the reader, as for any frame over the maximum. */
static void
check_unholdable(mu_pipe_t *reader, int write_fd)
{
    const void *data;
    size_t size = 0;
    MU_CHECK_EQ(mu_pipe_recv(reader, &data, &size), MU_EMSGSIZE);
    MU_CHECK_EQ(mu_pipe_recv(reader, &data, &size), MU_EMSGSIZE);
    close(write_fd);
    MU_CHECK_EQ(mu_pipe_recv(reader, &data, &size), MU_EMSGSIZE);
    MU_CHECK_EQ(mu_pipe_set_max_frame(reader, 1024), 0);
    MU_CHECK_EQ(mu_pipe_recv(reader, &data, &size), MU_EPROTO);
    MU_CHECK_EQ(mu_pipe_recv(reader, &data, &size), MU_ECLOSED);
    MU_CHECK_EQ(size, 0);
}

/* A length that could be held is waited for (nothing is allocated for it
   before its bytes come; a sanitizer build would abort on an attempt at
   2^48 bytes), and EOF inside it is MU_ETRUNCATED. */
static void
check_waits_for_payload(mu_pipe_t *reader, int write_fd)
{
    const void *data;
    size_t size = 0;
    MU_CHECK_EQ(mu_pipe_recv(reader, &data, &size), MU_EAGAIN);
    MU_CHECK_EQ(mu_pipe_recv(reader, &data, &size), MU_EAGAIN);
    close(write_fd);
    MU_CHECK_EQ(mu_pipe_recv(reader, &data, &size), MU_ETRUNCATED);
    MU_CHECK_EQ(mu_pipe_recv(reader, &data, &size), MU_ECLOSED);
    MU_CHECK_EQ(size, 0);
}

static void
test_huge_announced_lengths_every_header_size(void)
{
    for (int hb = 8; hb >= 1; hb--) {
        for (size_t i = 0; i < sizeof huge_lengths / sizeof *huge_lengths; i++) {
            uint64_t declared = huge_lengths[i] < header_capacity(hb) ? huge_lengths[i]
                                                                      : header_capacity(hb);
            printf("# header %d bytes, announced length %llu\n", hb, (unsigned long long) declared);
            int write_fd = -1;
            mu_pipe_t *reader = reader_with_announced_frame(hb, declared, &write_fd);
            MU_CHECK(reader);
            const void *data;
            size_t size;
            MU_CHECK_EQ(mu_pipe_recv(reader, &data, &size), 0);
            MU_CHECK(size == 1 && memcmp(data, "z", 1) == 0);
            if (hb == 8)
                check_unholdable(reader, write_fd);
            else
                check_waits_for_payload(reader, write_fd);
            mu_pipe_destroy(&reader);
            if (mu_test_case_failed)
                return;
        }
    }
}

/* The boundary: the largest length still tried is waited for, one more is
   MU_EMSGSIZE. */
static void
test_memory_boundary(void)
{
    uint64_t largest = (uint64_t) PTRDIFF_MAX - 8;
    int write_fd = -1;
    mu_pipe_t *reader = reader_with_announced_frame(8, largest, &write_fd);
    MU_CHECK(reader);
    const void *data;
    size_t size;
    MU_CHECK_EQ(mu_pipe_recv(reader, &data, &size), 0);
    check_waits_for_payload(reader, write_fd);
    mu_pipe_destroy(&reader);

    reader = reader_with_announced_frame(8, largest + 1, &write_fd);
    MU_CHECK(reader);
    MU_CHECK_EQ(mu_pipe_recv(reader, &data, &size), 0);
    check_unholdable(reader, write_fd);
    mu_pipe_destroy(&reader);
}

/* A send whose header + size cannot be one object is MU_EMSGSIZE before
   the data is touched (the buffer here is 2 bytes), and the pipe still
   works. */
static void
test_send_sizes_past_memory(void)
{
    for (int hb = 1; hb <= 8; hb++) {
        mu_pipe_t *reader, *writer;
        MU_CHECK_EQ(mu_pipe_pair(&reader, &writer), 0);
        MU_CHECK_EQ(mu_pipe_set_header_size(writer, hb), 0);
        MU_CHECK_EQ(mu_pipe_set_header_size(reader, hb), 0);
        MU_CHECK_EQ(mu_pipe_set_max_frame(writer, UINT64_MAX), 0);
        size_t sizes[] = { SIZE_MAX, SIZE_MAX - 7, SIZE_MAX - (size_t) hb + 1, (size_t) PTRDIFF_MAX,
                           (size_t) PTRDIFF_MAX - (size_t) hb + 1 };
        for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
            MU_CHECK_EQ(mu_pipe_send(writer, "ab", sizes[i], 0), MU_EMSGSIZE);
            MU_CHECK_EQ(mu_pipe_send(writer, "ab", sizes[i], MU_PIPE_MORE), MU_EMSGSIZE);
        }
        MU_CHECK_EQ(mu_pipe_pending(writer), 0);
        MU_CHECK_EQ(mu_pipe_send(writer, "ab", 2, 0), 0);
        const void *data;
        size_t size;
        MU_CHECK_EQ(mu_pipe_recv(reader, &data, &size), 0);
        MU_CHECK(size == 2 && memcmp(data, "ab", 2) == 0);
        mu_pipe_destroy(&writer);
        mu_pipe_destroy(&reader);
    }
}

int
main(void)
{
    mu_test_start(60);
    MU_RUN(test_huge_announced_lengths_every_header_size);
    MU_RUN(test_memory_boundary);
    MU_RUN(test_send_sizes_past_memory);
    MU_DONE();
}
