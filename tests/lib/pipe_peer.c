/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  pipe_peer.c — a C peer for the interoperability test. Reads frames from
    fd 0 with mu_pipe and answers each on fd 1 with the JSON text
    {"n": <index>, "echo": <payload>}; the payload is JSON from the other side,
    so the answer is JSON too. Usage: pipe_peer [HEADER_BYTES [MAX_FRAME]].
    Exits 0 at a clean end of stream, 1 with a message on stderr otherwise. */
#define _POSIX_C_SOURCE 200809L
#include "mutil.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
main(int argc, char **argv)
{
    int header = argc > 1 ? atoi(argv[1]) : MU_PIPE_HEADER_DEFAULT;
    uint64_t max_frame = argc > 2 ? strtoull(argv[2], NULL, 10) : MU_PIPE_MAX_FRAME_DEFAULT;
    mu_pipe_t *in = mu_pipe_new_fd(0, -1);
    mu_pipe_t *out = mu_pipe_new_fd(-1, 1);
    if (!in || !out || mu_pipe_set_header_size(in, header) || mu_pipe_set_header_size(out, header)
        || mu_pipe_set_max_frame(in, max_frame)) {
        fprintf(stderr, "pipe_peer: bad arguments\n");
        return 2;
    }
    size_t cap = 1024;
    char *answer = malloc(cap);
    const void *data;
    size_t size;
    int rc;
    unsigned long n = 0;
    while ((rc = mu_pipe_recv(in, &data, &size)) == 0) {
        if (size + 64 > cap) {
            cap = size + 64;
            answer = realloc(answer, cap);
        }
        int len = snprintf(answer, cap, "{\"n\": %lu, \"echo\": ", n++);
        memcpy(answer + len, data, size);
        answer[len + size] = '}';
        rc = mu_pipe_send(out, answer, (size_t) len + size + 1, MU_PIPE_MORE);
        if (rc != 0)
            break;
    }
    int flushed = mu_pipe_flush(out);
    free(answer);
    mu_pipe_destroy(&in);
    mu_pipe_destroy(&out);
    if (rc != MU_ECLOSED || flushed != 0) {
        fprintf(stderr, "pipe_peer: %s (%s)\n", mu_strerror(rc != MU_ECLOSED ? rc : flushed),
                mu_errname(rc != MU_ECLOSED ? rc : flushed));
        return 1;
    }
    return 0;
}
