/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  test_pipe.c — mu_pipe over fds and library-made pipes: every header and
    payload size, frames over the maximum, closed readers, truncated frames
    and clean ends, batching, full pipes, timeouts, forked children,
    inherited fds, socket pairs, polling, argument errors and caller bugs.
    The ZeroMQ backend is in test_pipe_zmq.c. */
#include "pipe_cases.h"

/* Forks a child that sends each size of sizes[] as a patterned frame on the
   writer with header size hb, then exits. The parent keeps the reader. */
static pid_t
fork_sender(mu_pipe_t **reader, mu_pipe_t **writer, int hb, uint64_t max_frame, const size_t *sizes,
            size_t count)
{
    pid_t pid = fork();
    if (pid == 0) {
        mu_pipe_destroy(reader);
        if (mu_pipe_set_header_size(*writer, hb) != 0
            || mu_pipe_set_max_frame(*writer, max_frame) != 0)
            _exit(3);
        for (size_t i = 0; i < count; i++) {
            uint8_t *payload = make_payload(i, sizes[i]);
            int rc = mu_pipe_send(*writer, payload, sizes[i], MU_PIPE_MORE);
            free(payload);
            if (rc != 0)
                _exit(4);
        }
        int rc = mu_pipe_flush(*writer);
        mu_pipe_destroy(writer);
        _exit(rc == 0 ? 0 : 5);
    }
    mu_pipe_destroy(writer);
    return pid;
}

static void
test_every_header_size_and_payload_size(void)
{
    for (int hb = 1; hb <= 8; hb++) {
        uint64_t limit = hb >= 8 ? UINT64_MAX : (UINT64_C(1) << (8 * hb)) - 1;
        uint64_t max_frame = 3 * 1024 * 1024 + 17;
        if (max_frame > limit)
            max_frame = limit;
        size_t candidates[] = {
            0, 1, PIPE_BUF - 1, PIPE_BUF, PIPE_BUF + 1, 1024 * 1024, (size_t) max_frame
        };
        size_t sizes[8];
        size_t count = 0;
        for (size_t i = 0; i < sizeof candidates / sizeof *candidates; i++)
            if (candidates[i] <= max_frame)
                sizes[count++] = candidates[i];
        mu_pipe_t *reader, *writer;
        MU_CHECK_EQ(mu_pipe_pair(&reader, &writer), 0);
        MU_CHECK_EQ(mu_pipe_set_header_size(reader, hb), 0);
        MU_CHECK_EQ(mu_pipe_set_max_frame(reader, max_frame), 0);
        mu_pipe_set_recv_timeout(reader, mu_test_ms(10000));
        pid_t pid = fork_sender(&reader, &writer, hb, max_frame, sizes, count);
        for (size_t i = 0; i < count; i++) {
            const void *data;
            size_t size;
            MU_CHECK_EQ(mu_pipe_recv(reader, &data, &size), 0);
            MU_CHECK(data != NULL);
            MU_CHECK(payload_ok(i, data, size, sizes[i]));
        }
        const void *data;
        size_t size;
        MU_CHECK_EQ(mu_pipe_recv(reader, &data, &size), MU_ECLOSED);
        MU_CHECK_EQ(child_status(pid), 0);
        mu_pipe_destroy(&reader);
        MU_CHECK(reader == NULL);
    }
}

static void
test_send_over_maximum_writes_nothing(void)
{
    mu_pipe_t *reader, *writer;
    MU_CHECK_EQ(mu_pipe_pair(&reader, &writer), 0);
    MU_CHECK_EQ(mu_pipe_set_max_frame(writer, 1000), 0);
    uint8_t buf[1001] = { 0 };
    MU_CHECK_EQ(mu_pipe_send(writer, buf, 1001, 0), MU_EMSGSIZE);
    MU_CHECK_EQ(mu_pipe_send(writer, buf, 1001, MU_PIPE_MORE), MU_EMSGSIZE);
    MU_CHECK_EQ(mu_pipe_pending(writer), 0);
    /* A header of 1 byte cannot announce 256, whatever the maximum. */
    MU_CHECK_EQ(mu_pipe_set_max_frame(writer, 1u << 20), 0);
    MU_CHECK_EQ(mu_pipe_set_header_size(writer, 1), 0);
    MU_CHECK_EQ(mu_pipe_send(writer, buf, 256, 0), MU_EMSGSIZE);
    MU_CHECK_EQ(mu_pipe_send(writer, buf, 255, 0), 0);
    MU_CHECK_EQ(mu_pipe_set_header_size(writer, 2), 0);
    uint8_t *big = calloc(1, 65536);
    int rc = mu_pipe_send(writer, big, 65536, 0);
    free(big);
    MU_CHECK_EQ(rc, MU_EMSGSIZE);
    /* Only the 255-byte frame went out. */
    int fd = mu_pipe_fd(reader);
    uint8_t raw[1024];
    ssize_t n = read(fd, raw, sizeof raw);
    MU_CHECK_EQ(n, 256);
    MU_CHECK_EQ(raw[0], 255);
    mu_pipe_stats_t st = { .size = sizeof st };
    MU_CHECK_EQ(mu_pipe_stats(writer, &st), 0);
    MU_CHECK_EQ(st.frames_sent, 1);
    MU_CHECK_EQ(st.bytes_sent, 255);
    st.size = sizeof st - 1; /* smaller than the first version */
    MU_CHECK_EQ(mu_pipe_stats(writer, &st), MU_EINVAL);
    mu_pipe_destroy(&writer);
    mu_pipe_destroy(&reader);
}

static void
test_receive_over_maximum_closes_reader(void)
{
    int fds[2];
    MU_CHECK_EQ(pipe(fds), 0);
    mu_pipe_t *reader = mu_pipe_new_fd(fds[0], -1);
    mu_pipe_t *writer = mu_pipe_new_fd(-1, fds[1]);
    MU_CHECK(reader && writer);
    MU_CHECK_EQ(mu_pipe_set_max_frame(reader, 1000), 0);
    /* A good frame, then one announcing 4 GiB - 1 in a 10-byte write. */
    MU_CHECK_EQ(mu_pipe_send(writer, "ok", 2, 0), 0);
    uint8_t hostile[10] = { 0xff, 0xff, 0xff, 0xff, 1, 2, 3, 4, 5, 6 };
    MU_CHECK_EQ(write(fds[1], hostile, sizeof hostile), 10);
    const void *data;
    size_t size;
    MU_CHECK_EQ(mu_pipe_recv(reader, &data, &size), 0);
    MU_CHECK(size == 2 && memcmp(data, "ok", 2) == 0);
    MU_CHECK_EQ(mu_pipe_recv(reader, &data, &size), MU_EPROTO);
    MU_CHECK_EQ(mu_pipe_fd(reader), -1);
    MU_CHECK_EQ(mu_pipe_recv(reader, &data, &size), MU_ECLOSED);
    /* The read end is closed, so the writer learns it (no SIGPIPE death). */
    MU_CHECK_EQ(mu_pipe_send(writer, "x", 1, 0), MU_EPIPE);
    MU_CHECK_EQ(mu_pipe_send(writer, "x", 1, 0), MU_EPIPE);
    mu_pipe_destroy(&writer);
    mu_pipe_destroy(&reader);
}

/* With SIGPIPE ignored the pipe skips its masking and still reports a
   closed reader as MU_EPIPE. */
static void
test_closed_reader_with_sigpipe_ignored(void)
{
    struct sigaction ignore = { .sa_handler = SIG_IGN }, saved;
    MU_CHECK_EQ(sigaction(SIGPIPE, &ignore, &saved), 0);
    mu_pipe_t *reader, *writer;
    int rc = mu_pipe_pair(&reader, &writer);
    if (rc == 0) {
        mu_pipe_destroy(&reader);
        rc = mu_pipe_send(writer, "x", 1, 0);
        mu_pipe_destroy(&writer);
    }
    sigaction(SIGPIPE, &saved, NULL);
    MU_CHECK_EQ(rc, MU_EPIPE);
}

static void
test_announced_size_just_over_maximum(void)
{
    mu_pipe_t *reader, *writer;
    MU_CHECK_EQ(mu_pipe_pair(&reader, &writer), 0);
    MU_CHECK_EQ(mu_pipe_set_max_frame(reader, 100), 0);
    MU_CHECK_EQ(mu_pipe_send(writer, NULL, 0, 0), 0);
    uint8_t buf[101];
    memset(buf, 'a', sizeof buf);
    MU_CHECK_EQ(mu_pipe_send(writer, buf, 100, 0), 0);
    MU_CHECK_EQ(mu_pipe_send(writer, buf, 101, 0), 0);
    const void *data;
    size_t size;
    MU_CHECK_EQ(mu_pipe_recv(reader, &data, &size), 0);
    MU_CHECK_EQ(size, 0);
    MU_CHECK(data != NULL);
    MU_CHECK_EQ(mu_pipe_recv(reader, &data, &size), 0);
    MU_CHECK_EQ(size, 100);
    MU_CHECK_EQ(mu_pipe_recv(reader, &data, &size), MU_EPROTO);
    mu_pipe_destroy(&writer);
    mu_pipe_destroy(&reader);
}

/* Writes raw bytes to a fresh pipe, closes the write end, and returns a
   reader on it. */
static mu_pipe_t *
reader_over_bytes(const void *bytes, size_t len)
{
    int fds[2];
    if (pipe(fds) != 0)
        return NULL;
    if (write(fds[1], bytes, len) != (ssize_t) len)
        return NULL;
    close(fds[1]);
    return mu_pipe_new_fd(fds[0], -1);
}

static void
test_truncated_frame_at_eof(void)
{
    uint8_t bytes[4 + 3 + 4 + 10] = { 3, 0, 0, 0, 'a', 'b', 'c', 100, 0, 0, 0 };
    mu_pipe_t *reader = reader_over_bytes(bytes, sizeof bytes);
    MU_CHECK(reader);
    const void *data;
    size_t size;
    MU_CHECK_EQ(mu_pipe_recv(reader, &data, &size), 0);
    MU_CHECK(size == 3 && memcmp(data, "abc", 3) == 0);
    MU_CHECK_EQ(mu_pipe_recv(reader, &data, &size), MU_ETRUNCATED);
    MU_CHECK_EQ(mu_pipe_recv(reader, &data, &size), MU_ECLOSED);
    mu_pipe_destroy(&reader);

    /* EOF inside the header itself. */
    uint8_t partial_header[2] = { 5, 0 };
    reader = reader_over_bytes(partial_header, sizeof partial_header);
    MU_CHECK(reader);
    MU_CHECK_EQ(mu_pipe_recv(reader, &data, &size), MU_ETRUNCATED);
    mu_pipe_destroy(&reader);
}

static void
test_clean_eof_after_whole_frames(void)
{
    mu_pipe_t *reader, *writer;
    MU_CHECK_EQ(mu_pipe_pair(&reader, &writer), 0);
    for (int i = 0; i < 3; i++)
        MU_CHECK_EQ(mu_pipe_send(writer, &i, sizeof i, MU_PIPE_MORE), 0);
    mu_pipe_destroy(&writer); /* flushes, then closes: EOF */
    const void *data;
    size_t size;
    for (int i = 0; i < 3; i++) {
        MU_CHECK_EQ(mu_pipe_recv(reader, &data, &size), 0);
        MU_CHECK(size == sizeof i && memcmp(data, &i, sizeof i) == 0);
    }
    MU_CHECK_EQ(mu_pipe_recv(reader, &data, &size), MU_ECLOSED);
    MU_CHECK_EQ(mu_pipe_recv(reader, &data, &size), MU_ECLOSED);
    mu_pipe_stats_t st = { .size = sizeof st };
    MU_CHECK_EQ(mu_pipe_stats(reader, &st), 0);
    MU_CHECK_EQ(st.frames_received, 3);
    MU_CHECK_EQ(st.bytes_received, 3 * sizeof(int));
    mu_pipe_destroy(&reader);
}

static void
test_batching_waits_for_flush(void)
{
    mu_pipe_t *reader, *writer;
    MU_CHECK_EQ(mu_pipe_pair(&reader, &writer), 0);
    mu_pipe_set_recv_timeout(reader, 0);
    for (int i = 0; i < 100; i++)
        MU_CHECK_EQ(mu_pipe_send(writer, &i, sizeof i, MU_PIPE_MORE), 0);
    MU_CHECK_EQ(mu_pipe_pending(writer), 100 * (4 + sizeof(int)));
    const void *data;
    size_t size;
    MU_CHECK_EQ(mu_pipe_recv(reader, &data, &size), MU_EAGAIN);
    MU_CHECK_EQ(mu_pipe_flush(writer), 0);
    MU_CHECK_EQ(mu_pipe_pending(writer), 0);
    for (int i = 0; i < 100; i++) {
        MU_CHECK_EQ(mu_pipe_recv(reader, &data, &size), 0);
        MU_CHECK(size == sizeof i && memcmp(data, &i, sizeof i) == 0);
    }
    MU_CHECK_EQ(mu_pipe_recv(reader, &data, &size), MU_EAGAIN);
    /* A send without MU_PIPE_MORE writes out what was batched before it. */
    MU_CHECK_EQ(mu_pipe_send(writer, "a", 1, MU_PIPE_MORE), 0);
    MU_CHECK_EQ(mu_pipe_send(writer, "b", 1, 0), 0);
    MU_CHECK_EQ(mu_pipe_pending(writer), 0);
    MU_CHECK_EQ(mu_pipe_recv(reader, &data, &size), 0);
    MU_CHECK(size == 1 && *(const char *) data == 'a');
    MU_CHECK_EQ(mu_pipe_recv(reader, &data, &size), 0);
    MU_CHECK(size == 1 && *(const char *) data == 'b');
    mu_pipe_destroy(&writer);
    mu_pipe_destroy(&reader);
}

/* A pipe(2) of one page (4096 bytes), so that a writer meets a full pipe
   soon. Returns 0 or -1. */
static int
small_pipe(mu_pipe_t **reader, mu_pipe_t **writer)
{
    int fds[2];
    if (pipe(fds) != 0 || fcntl(fds[1], F_SETPIPE_SZ, 4096) < 0)
        return -1;
    *reader = mu_pipe_new_fd(fds[0], -1);
    *writer = mu_pipe_new_fd(-1, fds[1]);
    return *reader && *writer ? 0 : -1;
}

/* A non-blocking writer on a small pipe with a reader that drains only when
   the writer is stuck: every frame arrives once, in order, intact. */
static void
test_nonblocking_writer_full_pipe_loses_nothing(void)
{
    mu_pipe_t *reader, *writer;
    MU_CHECK_EQ(small_pipe(&reader, &writer), 0);
    mu_pipe_set_send_timeout(writer, 0);
    mu_pipe_set_recv_timeout(reader, 0);
    static const size_t sizes[] = { 10, 3000, 5000, 70000, 1, 200000, 0, 4096 };
    const size_t frames = 400;
    size_t next_send = 0, next_recv = 0;
    int refused = 0, left_pending = 0;
    while (next_recv < frames) {
        if (next_send < frames) {
            size_t size = sizes[next_send % 8];
            uint8_t *payload = make_payload(next_send, size);
            int rc = mu_pipe_send(writer, payload, size, next_send % 3 ? MU_PIPE_MORE : 0);
            free(payload);
            if (rc == 0) {
                next_send++;
                left_pending += mu_pipe_pending(writer) > 0;
            } else {
                MU_CHECK_EQ(rc, MU_EAGAIN);
                refused++;
            }
        } else {
            int rc = mu_pipe_flush(writer);
            MU_CHECK(rc == 0 || rc == MU_EAGAIN);
        }
        /* Drain a little, not everything: the pipe stays mostly full. */
        for (int k = 0; k < 2; k++) {
            const void *data;
            size_t size;
            int rc = mu_pipe_recv(reader, &data, &size);
            if (rc == MU_EAGAIN)
                break;
            MU_CHECK_EQ(rc, 0);
            MU_CHECK(payload_ok(next_recv, data, size, sizes[next_recv % 8]));
            next_recv++;
        }
        if (next_recv < next_send && mu_pipe_pending(writer) > 0) {
            int rc = mu_pipe_flush(writer);
            MU_CHECK(rc == 0 || rc == MU_EAGAIN);
        }
    }
    MU_CHECK(refused > 0);      /* the writer really met a full pipe */
    MU_CHECK(left_pending > 0); /* and accepted frames it could not finish */
    mu_pipe_destroy(&writer);
    const void *data;
    size_t size;
    MU_CHECK_EQ(mu_pipe_recv(reader, &data, &size), MU_ECLOSED);
    mu_pipe_destroy(&reader);
}

static void
test_send_timeout_on_full_pipe(void)
{
    mu_pipe_t *reader, *writer;
    MU_CHECK_EQ(small_pipe(&reader, &writer), 0);
    mu_pipe_set_send_timeout(writer, 50);
    uint8_t *big = make_payload(0, 200000);
    int64_t start = mu_test_now_ms();
    int rc = mu_pipe_send(writer, big, 200000, 0); /* part goes out, rest pending */
    MU_CHECK_EQ(rc, 0);
    MU_CHECK(mu_pipe_pending(writer) > 0);
    rc = mu_pipe_send(writer, big, 200000, 0); /* cannot start: nothing taken */
    int64_t waited = mu_test_now_ms() - start;
    MU_CHECK_EQ(rc, MU_ETIMEDOUT);
    MU_CHECK(waited >= 90 && waited < mu_test_ms(5000));
    MU_CHECK_EQ(mu_pipe_flush(writer), MU_ETIMEDOUT);
    /* The reader gets the first frame whole once it reads. */
    mu_pipe_set_recv_timeout(reader, 0);
    size_t got = 0;
    const void *data;
    size_t size;
    while (got == 0) {
        rc = mu_pipe_recv(reader, &data, &size);
        if (rc == 0) {
            MU_CHECK(payload_ok(0, data, size, 200000));
            got++;
        } else {
            MU_CHECK_EQ(rc, MU_EAGAIN);
            rc = mu_pipe_flush(writer);
            MU_CHECK(rc == 0 || rc == MU_ETIMEDOUT);
        }
    }
    MU_CHECK_EQ(mu_pipe_pending(writer), 0);
    free(big);
    mu_pipe_destroy(&writer);
    mu_pipe_destroy(&reader);
}

static void
test_recv_timeouts(void)
{
    mu_pipe_t *reader, *writer;
    MU_CHECK_EQ(mu_pipe_pair(&reader, &writer), 0);
    const void *data;
    size_t size;
    mu_pipe_set_recv_timeout(reader, 0);
    MU_CHECK_EQ(mu_pipe_recv(reader, &data, &size), MU_EAGAIN);
    mu_pipe_set_recv_timeout(reader, 60);
    int64_t start = mu_test_now_ms();
    MU_CHECK_EQ(mu_pipe_recv(reader, &data, &size), MU_ETIMEDOUT);
    int64_t waited = mu_test_now_ms() - start;
    MU_CHECK(waited >= 50 && waited < mu_test_ms(5000));
    /* A partial frame is kept across a timeout and completed later. */
    int wfd = mu_pipe_fd(writer);
    uint8_t part1[6] = { 4, 0, 0, 0, 'a', 'b' };
    MU_CHECK_EQ(write(wfd, part1, sizeof part1), 6);
    MU_CHECK_EQ(mu_pipe_recv(reader, &data, &size), MU_ETIMEDOUT);
    MU_CHECK_EQ(write(wfd, "cd", 2), 2);
    MU_CHECK_EQ(mu_pipe_recv(reader, &data, &size), 0);
    MU_CHECK(size == 4 && memcmp(data, "abcd", 4) == 0);
    mu_pipe_destroy(&writer);
    mu_pipe_destroy(&reader);
}

/* Parent sends numbered frames to a forked child, which answers each with the
   number doubled on a second pipe. */
static void
test_parent_and_forked_child(void)
{
    mu_pipe_t *down_r, *down_w, *up_r, *up_w;
    MU_CHECK_EQ(mu_pipe_pair(&down_r, &down_w), 0);
    MU_CHECK_EQ(mu_pipe_pair(&up_r, &up_w), 0);
    const uint32_t count = 20000;
    pid_t pid = fork();
    if (pid == 0) {
        mu_pipe_destroy(&down_w);
        mu_pipe_destroy(&up_r);
        const void *data;
        size_t size;
        int rc;
        uint32_t seen = 0;
        while ((rc = mu_pipe_recv(down_r, &data, &size)) == 0) {
            uint64_t n;
            if (size != sizeof(uint32_t))
                _exit(3);
            uint32_t v;
            memcpy(&v, data, sizeof v);
            n = (uint64_t) v * 2;
            if (mu_pipe_send(up_w, &n, sizeof n, MU_PIPE_MORE) != 0)
                _exit(4);
            if (++seen % 64 == 0 && mu_pipe_flush(up_w) != 0)
                _exit(5);
        }
        int ok = rc == MU_ECLOSED && seen == count && mu_pipe_flush(up_w) == 0;
        mu_pipe_destroy(&up_w);
        mu_pipe_destroy(&down_r);
        _exit(ok ? 0 : 6);
    }
    mu_pipe_destroy(&down_r);
    mu_pipe_destroy(&up_w);
    mu_pipe_set_recv_timeout(up_r, mu_test_ms(10000));
    uint32_t received = 0;
    for (uint32_t i = 0; i < count; i++) {
        MU_CHECK_EQ(mu_pipe_send(down_w, &i, sizeof i, MU_PIPE_MORE), 0);
        if (i % 64 == 63) {
            MU_CHECK_EQ(mu_pipe_flush(down_w), 0);
            /* Read the answers so far, so neither side fills up. */
            while (received <= i - 64 + 1 && received < count) {
                const void *data;
                size_t size;
                if (received + 64 > i)
                    break;
                MU_CHECK_EQ(mu_pipe_recv(up_r, &data, &size), 0);
                uint64_t n;
                MU_CHECK_EQ(size, sizeof n);
                memcpy(&n, data, sizeof n);
                MU_CHECK_EQ(n, (uint64_t) received * 2);
                received++;
            }
        }
    }
    mu_pipe_destroy(&down_w);
    while (received < count) {
        const void *data;
        size_t size;
        MU_CHECK_EQ(mu_pipe_recv(up_r, &data, &size), 0);
        uint64_t n;
        memcpy(&n, data, sizeof n);
        MU_CHECK_EQ(n, (uint64_t) received * 2);
        received++;
    }
    const void *data;
    size_t size;
    MU_CHECK_EQ(mu_pipe_recv(up_r, &data, &size), MU_ECLOSED);
    MU_CHECK_EQ(child_status(pid), 0);
    mu_pipe_destroy(&up_r);
}

/* An inherited fd 0 is a valid pipe end (the original took 0 for "no fd"). */
static void
test_inherited_fd_zero(void)
{
    int fds[2];
    MU_CHECK_EQ(pipe(fds), 0);
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[1]);
        if (dup2(fds[0], 0) != 0)
            _exit(2);
        close(fds[0]);
        mu_pipe_t *reader = mu_pipe_new_fd(0, -1);
        if (!reader)
            _exit(3);
        const void *data;
        size_t size;
        int ok = mu_pipe_recv(reader, &data, &size) == 0 && size == 5
                 && memcmp(data, "hello", 5) == 0
                 && mu_pipe_recv(reader, &data, &size) == MU_ECLOSED;
        mu_pipe_destroy(&reader);
        _exit(ok ? 0 : 4);
    }
    close(fds[0]);
    mu_pipe_t *writer = mu_pipe_new_fd(-1, fds[1]);
    MU_CHECK(writer);
    MU_CHECK_EQ(mu_pipe_send(writer, "hello", 5, 0), 0);
    mu_pipe_destroy(&writer);
    MU_CHECK_EQ(child_status(pid), 0);
}

static void
test_socketpair_both_ways(void)
{
    int sv[2];
    MU_CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    mu_pipe_t *a = mu_pipe_new_fd(sv[0], sv[0]);
    mu_pipe_t *b = mu_pipe_new_fd(sv[1], sv[1]);
    MU_CHECK(a && b);
    MU_CHECK_EQ(mu_pipe_set_header_size(a, 2), 0);
    MU_CHECK_EQ(mu_pipe_set_header_size(b, 2), 0);
    const void *data;
    size_t size;
    MU_CHECK_EQ(mu_pipe_send(a, "ping", 4, 0), 0);
    MU_CHECK_EQ(mu_pipe_recv(b, &data, &size), 0);
    MU_CHECK(size == 4 && memcmp(data, "ping", 4) == 0);
    MU_CHECK_EQ(mu_pipe_send(b, "pong!", 5, 0), 0);
    MU_CHECK_EQ(mu_pipe_recv(a, &data, &size), 0);
    MU_CHECK(size == 5 && memcmp(data, "pong!", 5) == 0);
    mu_pipe_destroy(&b);
    MU_CHECK_EQ(mu_pipe_recv(a, &data, &size), MU_ECLOSED);
    MU_CHECK_EQ(mu_pipe_send(a, "x", 1, 0), MU_EPIPE);
    mu_pipe_destroy(&a);
}

static void
test_pollable_fd(void)
{
    mu_pipe_t *reader, *writer;
    MU_CHECK_EQ(mu_pipe_pair(&reader, &writer), 0);
    struct pollfd pfd = { .fd = mu_pipe_fd(reader), .events = POLLIN };
    MU_CHECK_EQ(poll(&pfd, 1, 0), 0);
    MU_CHECK_EQ(mu_pipe_send(writer, "a", 1, MU_PIPE_MORE), 0);
    MU_CHECK_EQ(mu_pipe_send(writer, "b", 1, 0), 0);
    MU_CHECK_EQ(poll(&pfd, 1, mu_test_ms(1000)), 1);
    /* Both frames arrived in one read: drain until MU_EAGAIN. */
    mu_pipe_set_recv_timeout(reader, 0);
    const void *data;
    size_t size;
    MU_CHECK_EQ(mu_pipe_recv(reader, &data, &size), 0);
    MU_CHECK_EQ(mu_pipe_recv(reader, &data, &size), 0);
    MU_CHECK_EQ(mu_pipe_recv(reader, &data, &size), MU_EAGAIN);
    MU_CHECK(mu_pipe_zsock(reader) == NULL);
    mu_pipe_destroy(&writer);
    mu_pipe_destroy(&reader);
}

static void
test_documented_argument_errors(void)
{
    errno = 0;
    MU_CHECK(mu_pipe_new_fd(-1, -1) == NULL);
    MU_CHECK_EQ(errno, EINVAL);
    int fds[2];
    MU_CHECK_EQ(pipe(fds), 0);
    close(fds[0]);
    close(fds[1]);
    errno = 0;
    MU_CHECK(mu_pipe_new_fd(fds[0], -1) == NULL);
    MU_CHECK_EQ(errno, EBADF);
    errno = 0;
    MU_CHECK(mu_pipe_new_zmq("bogus://nowhere", MU_PIPE_READER) == NULL);
    MU_CHECK_EQ(errno, EINVAL);
    MU_CHECK_EQ(mu_last_code(), MU_EINVAL);
    MU_CHECK(strstr(mu_last_error(), "bogus://nowhere") != NULL);
    /* an address in use: EADDRINUSE, the endpoint in the detail */
    mu_pipe_t *bound = mu_pipe_new_zmq("@tcp://127.0.0.1:*", MU_PIPE_READER);
    MU_CHECK(bound != NULL);
    if (bound) {
        char busy[128], last[120] = "";
        size_t last_len = sizeof last;
        MU_CHECK_EQ(zmq_getsockopt(mu_pipe_zsock(bound), ZMQ_LAST_ENDPOINT, last, &last_len), 0);
        snprintf(busy, sizeof busy, "@%s", last);
        errno = 0;
        MU_CHECK(mu_pipe_new_zmq(busy, MU_PIPE_READER) == NULL);
        MU_CHECK_EQ(errno, EADDRINUSE);
        MU_CHECK_EQ(mu_last_code(), MU_EADDRINUSE);
        MU_CHECK(strstr(mu_last_error(), busy + 1) != NULL);
        mu_pipe_destroy(&bound);
    }

    mu_pipe_t *reader, *writer;
    MU_CHECK_EQ(mu_pipe_pair(&reader, &writer), 0);
    MU_CHECK_EQ(mu_pipe_set_header_size(reader, 0), MU_EINVAL);
    MU_CHECK_EQ(mu_pipe_set_header_size(reader, 9), MU_EINVAL);
    MU_CHECK_EQ(mu_pipe_set_max_frame(reader, 0), MU_EINVAL);
    MU_CHECK_EQ(mu_pipe_set_writers(reader, 2), MU_EINVAL);
    MU_CHECK_EQ(mu_pipe_send(reader, "a", 1, 0), MU_EBADF);
    MU_CHECK_EQ(mu_pipe_flush(reader), MU_EBADF);
    const void *data;
    size_t size;
    MU_CHECK_EQ(mu_pipe_recv(writer, &data, &size), MU_EBADF);
    mu_pipe_destroy(&writer);
    mu_pipe_destroy(&reader);
    mu_pipe_destroy(&reader); /* NULL is accepted */
    mu_pipe_destroy(NULL);
}

/* Caller bugs are asserts: a child that sends NULL data of 3 bytes dies
   of SIGABRT (it touches no ZeroMQ). */
static void
test_caller_bug_aborts(void)
{
    fflush(stdout);
    pid_t pid = fork();
    MU_CHECK(pid >= 0);
    if (pid == 0) {
        mu_pipe_t *reader, *writer;
        if (mu_pipe_pair(&reader, &writer) != 0)
            _exit(2);
        int rc = mu_pipe_send(writer, NULL, 3, 0);
        _exit(rc == 0 ? 0 : 1);
    }
    int status;
    MU_CHECK_EQ(waitpid(pid, &status, 0), pid);
    MU_CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT);
}

int
main(void)
{
    if (!pipe_suite_begin())
        return 1;
    MU_RUN(test_every_header_size_and_payload_size);
    MU_RUN(test_send_over_maximum_writes_nothing);
    MU_RUN(test_receive_over_maximum_closes_reader);
    MU_RUN(test_closed_reader_with_sigpipe_ignored);
    MU_RUN(test_announced_size_just_over_maximum);
    MU_RUN(test_truncated_frame_at_eof);
    MU_RUN(test_clean_eof_after_whole_frames);
    MU_RUN(test_batching_waits_for_flush);
    MU_RUN(test_nonblocking_writer_full_pipe_loses_nothing);
    MU_RUN(test_send_timeout_on_full_pipe);
    MU_RUN(test_recv_timeouts);
    MU_RUN(test_parent_and_forked_child);
    MU_RUN(test_inherited_fd_zero);
    MU_RUN(test_socketpair_both_ways);
    MU_RUN(test_pollable_fd);
    MU_RUN(test_documented_argument_errors);
    MU_RUN(test_caller_bug_aborts);
    pipe_suite_end();
    MU_DONE();
}
