/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  test_pipe_zmq.c — mu_pipe's ZeroMQ backend: round trips over ipc and
    inproc, the writer binding, timeouts and end of stream with fan-in, bad
    peers, and ipc between processes. */
#include "pipe_cases.h"

static int endpoint_seq;

/* A fresh ipc:// endpoint in this test's temp dir. */
static const char *
ipc_endpoint(char *buf, size_t cap, char prefix)
{
    snprintf(buf, cap, "%cipc://%s/ep%d", prefix, tmpdir, endpoint_seq++);
    return buf;
}

/* ---- ZeroMQ backend ------------------------------------------------- */

static void
zmq_round_trip(const char *bind_ep, const char *connect_ep)
{
    mu_pipe_t *reader = mu_pipe_new_zmq(bind_ep, MU_PIPE_READER);
    mu_pipe_t *writer = mu_pipe_new_zmq(connect_ep, MU_PIPE_WRITER);
    MU_CHECK(reader && writer);
    MU_CHECK_EQ(mu_pipe_set_max_frame(reader, 2 * 1024 * 1024), 0);
    MU_CHECK_EQ(mu_pipe_set_max_frame(writer, 2 * 1024 * 1024), 0);
    mu_pipe_set_recv_timeout(reader, mu_test_ms(5000));
    size_t sizes[] = { 0, 1, PIPE_BUF - 1, PIPE_BUF, PIPE_BUF + 1, 1024 * 1024, 2 * 1024 * 1024 };
    size_t count = sizeof sizes / sizeof *sizes;
    for (size_t i = 0; i < count; i++) {
        uint8_t *payload = make_payload(i, sizes[i]);
        int rc = mu_pipe_send(writer, payload, sizes[i], MU_PIPE_MORE);
        free(payload);
        MU_CHECK_EQ(rc, 0);
    }
    MU_CHECK_EQ(mu_pipe_flush(writer), 0);
    uint8_t *over = calloc(1, 2 * 1024 * 1024 + 1);
    int rc = mu_pipe_send(writer, over, 2 * 1024 * 1024 + 1, 0);
    free(over);
    MU_CHECK_EQ(rc, MU_EMSGSIZE);
    const void *data;
    size_t size;
    for (size_t i = 0; i < count; i++) {
        MU_CHECK_EQ(mu_pipe_recv(reader, &data, &size), 0);
        MU_CHECK(data != NULL);
        MU_CHECK(payload_ok(i, data, size, sizes[i]));
    }
    MU_CHECK_EQ(mu_pipe_recv(writer, &data, &size), MU_EBADF);
    MU_CHECK_EQ(mu_pipe_send(reader, "a", 1, 0), MU_EBADF);
    MU_CHECK(mu_pipe_zsock(reader) != NULL);
    MU_CHECK(mu_pipe_fd(reader) >= 0);
    mu_pipe_destroy(&writer); /* sends the end-of-stream marker */
    MU_CHECK_EQ(mu_pipe_recv(reader, &data, &size), MU_ECLOSED);
    MU_CHECK_EQ(mu_pipe_recv(reader, &data, &size), MU_ECLOSED);
    mu_pipe_destroy(&reader);
}

static void
test_zmq_ipc_round_trip(void)
{
    char bind_ep[256], connect_ep[256];
    ipc_endpoint(bind_ep, sizeof bind_ep, '@');
    snprintf(connect_ep, sizeof connect_ep, ">%s", bind_ep + 1);
    zmq_round_trip(bind_ep, connect_ep);
}

static void
test_zmq_inproc_round_trip(void)
{
    zmq_round_trip("@inproc://mu-test-rt", ">inproc://mu-test-rt");
}

/* Either end may bind: here the writer binds and the reader connects. */
static void
test_zmq_writer_binds(void)
{
    char ep[256], connect_ep[256];
    ipc_endpoint(ep, sizeof ep, '@');
    snprintf(connect_ep, sizeof connect_ep, ">%s", ep + 1);
    mu_pipe_t *writer = mu_pipe_new_zmq(ep, MU_PIPE_WRITER);
    mu_pipe_t *reader = mu_pipe_new_zmq(connect_ep, MU_PIPE_READER);
    MU_CHECK(reader && writer);
    mu_pipe_set_recv_timeout(reader, mu_test_ms(5000));
    MU_CHECK_EQ(mu_pipe_send(writer, "hi", 2, 0), 0);
    const void *data;
    size_t size;
    MU_CHECK_EQ(mu_pipe_recv(reader, &data, &size), 0);
    MU_CHECK(size == 2 && memcmp(data, "hi", 2) == 0);
    mu_pipe_destroy(&writer);
    mu_pipe_destroy(&reader);
}

static void
test_zmq_timeouts_and_fan_in_eof(void)
{
    mu_pipe_t *reader = mu_pipe_new_zmq("inproc://mu-test-fanin", MU_PIPE_READER);
    MU_CHECK(reader);
    MU_CHECK_EQ(mu_pipe_set_writers(reader, 2), 0);
    MU_CHECK_EQ(mu_pipe_set_writers(reader, 0), MU_EINVAL);
    const void *data;
    size_t size;
    mu_pipe_set_recv_timeout(reader, 0);
    MU_CHECK_EQ(mu_pipe_recv(reader, &data, &size), MU_EAGAIN);
    mu_pipe_set_recv_timeout(reader, 50);
    int64_t start = mu_test_now_ms();
    MU_CHECK_EQ(mu_pipe_recv(reader, &data, &size), MU_ETIMEDOUT);
    MU_CHECK(mu_test_now_ms() - start >= 40);
    mu_pipe_t *w1 = mu_pipe_new_zmq("inproc://mu-test-fanin", MU_PIPE_WRITER);
    mu_pipe_t *w2 = mu_pipe_new_zmq("inproc://mu-test-fanin", MU_PIPE_WRITER);
    MU_CHECK(w1 && w2);
    mu_pipe_set_recv_timeout(reader, mu_test_ms(5000));
    MU_CHECK_EQ(mu_pipe_send(w1, "1", 1, 0), 0);
    mu_pipe_destroy(&w1);
    MU_CHECK_EQ(mu_pipe_recv(reader, &data, &size), 0);
    MU_CHECK(size == 1 && *(const char *) data == '1');
    MU_CHECK_EQ(mu_pipe_send(w2, "2", 1, 0), 0);
    MU_CHECK_EQ(mu_pipe_recv(reader, &data, &size), 0); /* one EOF of two: still open */
    MU_CHECK(size == 1 && *(const char *) data == '2');
    mu_pipe_destroy(&w2);
    MU_CHECK_EQ(mu_pipe_recv(reader, &data, &size), MU_ECLOSED);
    mu_pipe_destroy(&reader);
}

/* Raw peers that break the rules: an oversized message over ipc is dropped
   by libzmq before it is allocated; over inproc the reader refuses it; a
   multipart message is refused. The pipe keeps working after each. */
static void
test_zmq_bad_peers(void)
{
    char ep[256];
    ipc_endpoint(ep, sizeof ep, '@');
    mu_pipe_t *reader = mu_pipe_new_zmq(ep, MU_PIPE_READER);
    MU_CHECK(reader);
    MU_CHECK_EQ(mu_pipe_set_max_frame(reader, 100), 0);
    mu_pipe_set_recv_timeout(reader, mu_test_ms(5000));
    zsock_t *raw = zsock_new_push(ep + 1);
    MU_CHECK(raw);
    /* Over the maximum set after bind: refused on receipt, pipe kept. */
    char big[1000] = { 0 };
    MU_CHECK_EQ(zmq_send(zsock_resolve(raw), big, sizeof big, 0), (int) sizeof big);
    const void *data;
    size_t size;
    MU_CHECK_EQ(mu_pipe_recv(reader, &data, &size), MU_EPROTO);
    /* Over the maximum in force at bind (64 MiB): libzmq drops it unread. */
    size_t huge_size = MU_PIPE_MAX_FRAME_DEFAULT + 1;
    char *huge = calloc(1, huge_size);
    MU_CHECK(huge);
    int sent = zmq_send(zsock_resolve(raw), huge, huge_size, 0);
    free(huge);
    MU_CHECK_EQ(sent, (int) huge_size);
    mu_pipe_set_recv_timeout(reader, 300); /* a window in which nothing may come */
    MU_CHECK_EQ(mu_pipe_recv(reader, &data, &size), MU_ETIMEDOUT);
    zsock_destroy(&raw);
    char connect_ep[256];
    snprintf(connect_ep, sizeof connect_ep, ">%s", ep + 1);
    mu_pipe_t *writer = mu_pipe_new_zmq(connect_ep, MU_PIPE_WRITER);
    MU_CHECK(writer);
    mu_pipe_set_recv_timeout(reader, mu_test_ms(5000));
    MU_CHECK_EQ(mu_pipe_send(writer, "fine", 4, 0), 0);
    MU_CHECK_EQ(mu_pipe_recv(reader, &data, &size), 0);
    MU_CHECK(size == 4 && memcmp(data, "fine", 4) == 0);
    mu_pipe_destroy(&writer);
    mu_pipe_destroy(&reader);

    reader = mu_pipe_new_zmq("inproc://mu-test-bad", MU_PIPE_READER);
    MU_CHECK(reader);
    MU_CHECK_EQ(mu_pipe_set_max_frame(reader, 100), 0);
    mu_pipe_set_recv_timeout(reader, mu_test_ms(5000));
    raw = zsock_new_push(">inproc://mu-test-bad");
    MU_CHECK(raw);
    void *h = zsock_resolve(raw);
    MU_CHECK_EQ(zmq_send(h, big, sizeof big, 0), (int) sizeof big);
    MU_CHECK_EQ(zmq_send(h, "a", 1, ZMQ_SNDMORE), 1);
    MU_CHECK_EQ(zmq_send(h, "b", 1, 0), 1);
    MU_CHECK_EQ(zmq_send(h, "ok", 2, 0), 2);
    MU_CHECK_EQ(mu_pipe_recv(reader, &data, &size), MU_EPROTO);
    MU_CHECK_EQ(mu_pipe_recv(reader, &data, &size), MU_EPROTO);
    MU_CHECK_EQ(mu_pipe_recv(reader, &data, &size), 0);
    MU_CHECK(size == 2 && memcmp(data, "ok", 2) == 0);
    zsock_destroy(&raw);
    mu_pipe_destroy(&reader);
}

/* The ZeroMQ backend between a parent and a forked child over ipc. libzmq
   4.3 can drop the tail of a stream when a writer closes while the reader is
   behind (libzmq issue #4660), so, as mu_pipe.h advises, the child keeps its
   writer open until the parent confirms on a plain pipe. */
static void
test_zmq_ipc_between_processes(void)
{
    char ep[256];
    ipc_endpoint(ep, sizeof ep, '@');
    const int count = 10000;
    int done[2];
    MU_CHECK_EQ(pipe(done), 0);
    /* Fork before this process touches ZeroMQ: a context is not fork-safe.
       The child connects and retries until the parent has bound. */
    pid_t pid = fork();
    if (pid == 0) {
        close(done[1]);
        char connect_ep[256];
        snprintf(connect_ep, sizeof connect_ep, ">%s", ep + 1);
        mu_pipe_t *writer = mu_pipe_new_zmq(connect_ep, MU_PIPE_WRITER);
        if (!writer)
            _exit(2);
        for (int i = 0; i < count; i++)
            if (mu_pipe_send(writer, &i, sizeof i, 0) != 0)
                _exit(3);
        char ack;
        int confirmed = read(done[0], &ack, 1) == 1;
        mu_pipe_destroy(&writer);
        zsys_shutdown();
        _exit(confirmed ? 0 : 4);
    }
    close(done[0]);
    mu_pipe_t *reader = mu_pipe_new_zmq(ep, MU_PIPE_READER);
    MU_CHECK(reader);
    mu_pipe_set_recv_timeout(reader, mu_test_ms(10000));
    const void *data;
    size_t size;
    for (int i = 0; i < count; i++) {
        int rc = mu_pipe_recv(reader, &data, &size);
        if (rc != 0)
            printf("# frame %d of %d: %s\n", i, count, mu_strerror(rc));
        MU_CHECK_EQ(rc, 0);
        MU_CHECK(size == sizeof i && memcmp(data, &i, sizeof i) == 0);
    }
    MU_CHECK_EQ(write(done[1], "k", 1), 1);
    close(done[1]);
    MU_CHECK_EQ(mu_pipe_recv(reader, &data, &size), MU_ECLOSED);
    MU_CHECK_EQ(child_status(pid), 0);
    mu_pipe_destroy(&reader);
}

int
main(void)
{
    if (!pipe_suite_begin())
        return 1;
    MU_RUN(test_zmq_ipc_between_processes);
    MU_RUN(test_zmq_ipc_round_trip);
    MU_RUN(test_zmq_inproc_round_trip);
    MU_RUN(test_zmq_writer_binds);
    MU_RUN(test_zmq_timeouts_and_fan_in_eof);
    MU_RUN(test_zmq_bad_peers);
    pipe_suite_end();
    MU_DONE();
}
