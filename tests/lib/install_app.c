/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  install_app.c — a program outside the tree, built against the installed
    library with nothing but `pkg-config --cflags --libs libmutil`. It uses
    the czmq side of the public API too (a ZeroMQ pipe's zsock in a
    zpoller), so it links only if libmutil.pc gives czmq to programs. */
#include <mutil.h>
#include <czmq.h>
#include <stdio.h>
#include <string.h>

/*  A frame through an fd pipe, then the end of the stream. */
static int
fd_pipe_round_trip(void)
{
    mu_pipe_t *reader, *writer;
    if (mu_pipe_pair(&reader, &writer) != 0)
        return 1;
    if (mu_pipe_send(writer, "installed", 9, 0) != 0)
        return 2;
    const void *data;
    size_t size;
    int rc = mu_pipe_recv(reader, &data, &size);
    if (rc != 0 || size != 9 || memcmp(data, "installed", 9) != 0)
        return 3;
    mu_pipe_destroy(&writer);
    rc = mu_pipe_recv(reader, &data, &size);
    mu_pipe_destroy(&reader);
    printf("libmutil %s: %s\n", mu_version_string(), mu_strerror(rc));
    return rc == MU_ECLOSED ? 0 : 4;
}

/*  A frame through a ZeroMQ pipe, the reader woken by a czmq zpoller. */
static int
zmq_pipe_with_zpoller(void)
{
    mu_pipe_t *reader = mu_pipe_new_zmq("@inproc://install-app", MU_PIPE_READER);
    mu_pipe_t *writer = mu_pipe_new_zmq(">inproc://install-app", MU_PIPE_WRITER);
    zpoller_t *poller = reader ? zpoller_new(mu_pipe_zsock(reader), NULL) : NULL;
    int rc = 5;
    if (writer && poller && mu_pipe_send(writer, "polled", 6, 0) == 0
        && zpoller_wait(poller, 10000) == mu_pipe_zsock(reader)) {
        const void *data;
        size_t size;
        if (mu_pipe_recv(reader, &data, &size) == 0 && size == 6 && memcmp(data, "polled", 6) == 0)
            rc = 0;
    }
    zpoller_destroy(&poller);
    mu_pipe_destroy(&writer);
    mu_pipe_destroy(&reader);
    return rc;
}

int
main(void)
{
    int rc = fd_pipe_round_trip();
    return rc != 0 ? rc : zmq_pipe_with_zpoller();
}
