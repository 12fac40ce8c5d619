/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  pipe_poll.c — driving mu_pipe readers from zloop, zpoller and epoll.

    A parent forks a child that sends ten frames over a library-made pipe;
    the parent reads them from a zloop. Then a ZeroMQ pipe is read through
    zpoller, and an fd pipe through epoll. After every wake-up, read until
    MU_EAGAIN: one read(2) may bring several frames.

    Build: cc pipe_poll.c $(pkg-config --cflags --libs libmutil libczmq) */
#define _GNU_SOURCE /* fork, waitpid, epoll under -std=c11 */
#include <mutil.h>
#include <czmq.h>
#include <sys/epoll.h>
#include <sys/wait.h>

/* Reads every frame that is ready; returns -1 to end the loop at EOF. */
static int
on_readable(zloop_t *loop, zmq_pollitem_t *item, void *arg)
{
    mu_pipe_t *reader = arg;
    const void *data;
    size_t size;
    int rc;
    while ((rc = mu_pipe_recv(reader, &data, &size)) == 0)
        printf("zloop: %.*s\n", (int) size, (const char *) data);
    return rc == MU_EAGAIN ? 0 : -1;
}

static int
zloop_demo(void)
{
    mu_pipe_t *reader, *writer;
    if (mu_pipe_pair(&reader, &writer) != 0)
        return 1;
    pid_t pid = fork();
    if (pid == 0) {
        mu_pipe_destroy(&reader);
        for (int i = 0; i < 10; i++) {
            char text[32];
            int len = snprintf(text, sizeof text, "frame %d from the child", i);
            if (mu_pipe_send(writer, text, (size_t) len, i < 9 ? MU_PIPE_MORE : 0) != 0)
                _exit(1);
        }
        mu_pipe_destroy(&writer);
        _exit(0);
    }
    mu_pipe_destroy(&writer);
    mu_pipe_set_recv_timeout(reader, 0);
    zloop_t *loop = zloop_new();
    zmq_pollitem_t item = { NULL, mu_pipe_fd(reader), ZMQ_POLLIN, 0 };
    zloop_poller(loop, &item, on_readable, reader);
    zloop_start(loop);
    zloop_destroy(&loop);
    mu_pipe_destroy(&reader);
    int status;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}

static int
zpoller_demo(void)
{
    mu_pipe_t *reader = mu_pipe_new_zmq("@inproc://example", MU_PIPE_READER);
    mu_pipe_t *writer = mu_pipe_new_zmq(">inproc://example", MU_PIPE_WRITER);
    if (!reader || !writer || mu_pipe_send(writer, "over ZeroMQ", 11, 0) != 0)
        return 1;
    zpoller_t *poller = zpoller_new(mu_pipe_zsock(reader), NULL);
    mu_pipe_set_recv_timeout(reader, 0);
    int got = 0;
    if (zpoller_wait(poller, 1000) == mu_pipe_zsock(reader)) {
        const void *data;
        size_t size;
        while (mu_pipe_recv(reader, &data, &size) == 0) {
            printf("zpoller: %.*s\n", (int) size, (const char *) data);
            got++;
        }
    }
    zpoller_destroy(&poller);
    mu_pipe_destroy(&writer);
    mu_pipe_destroy(&reader);
    return got == 1 ? 0 : 1;
}

static int
epoll_demo(void)
{
    mu_pipe_t *reader, *writer;
    if (mu_pipe_pair(&reader, &writer) != 0 || mu_pipe_send(writer, "over epoll", 10, 0) != 0)
        return 1;
    int ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = { .events = EPOLLIN, .data.ptr = reader };
    epoll_ctl(ep, EPOLL_CTL_ADD, mu_pipe_fd(reader), &ev);
    mu_pipe_set_recv_timeout(reader, 0);
    int got = 0;
    if (epoll_wait(ep, &ev, 1, 1000) == 1) {
        const void *data;
        size_t size;
        while (mu_pipe_recv(ev.data.ptr, &data, &size) == 0) {
            printf("epoll: %.*s\n", (int) size, (const char *) data);
            got++;
        }
    }
    close(ep);
    mu_pipe_destroy(&writer);
    mu_pipe_destroy(&reader);
    return got == 1 ? 0 : 1;
}

int
main(void)
{
    int failed = zloop_demo() + zpoller_demo() + epoll_demo();
    return failed ? 1 : 0;
}
