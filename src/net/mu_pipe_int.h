/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_pipe_int.h — a pipe's state, shared by mu_pipe.c (construction,
    options, the fd backend, the entry points) and mu_pipe_zmq.c (the
    ZeroMQ backend, which calls nothing in mu_pipe.c). Never installed. */
#ifndef MU_PIPE_INT_H_INCLUDED
#define MU_PIPE_INT_H_INCLUDED

#include "base/mu_internal.h"
#include <czmq.h>

typedef enum { BACKEND_FD, BACKEND_ZMQ } backend_t;
typedef enum { STATE_OPEN, STATE_EOF, STATE_CLOSED } read_state_t;

struct mu_pipe_t {
    backend_t backend;
    int header_bytes;
    uint64_t max_frame;
    int send_timeout, recv_timeout, linger;
    uint64_t frames_sent, bytes_sent, frames_received, bytes_received;

    /* fd backend */
    int rfd, wfd;
    bool wfd_is_socket;   /* send(MSG_NOSIGNAL) instead of masking SIGPIPE */
    bool sigpipe_ignored; /* SIGPIPE was SIG_IGN at creation: no masking */
    bool write_broken;    /* EPIPE seen */
    read_state_t read_state;
    uint8_t *out; /* pending output: out[out_off .. out_len) */
    size_t out_off, out_len, out_cap;
    uint8_t *in; /* received bytes: in[in_start .. in_end) */
    size_t in_start, in_end, in_cap;

    /* ZeroMQ backend */
    void *handle; /* PUSH or PULL (net/mu_zsocket.h) */
    mu_pipe_mode_t mode;
    zmq_msg_t msg; /* the frame handed out by the last recv */
    bool msg_live;
    int writers, eofs_seen;
};

/* ---- mu_pipe_zmq.c -------------------------------------------------- */

/*  Makes self's socket (PULL for a reader, PUSH for a writer; self->mode
    set) and binds or connects it to endpoint, a czmq endpoint list.
    Returns 0, or MU_EINVAL / MU_EADDRINUSE recorded with a detail naming
    the endpoint, or what net/mu_zsocket.h records when libzmq refuses
    the socket (-EMFILE, MU_ENOMEM, MU_EIO); self->handle stays NULL. */
int mu__pipe_zmq_open(mu_pipe_t *self, const char *endpoint);
/*  Hands self->max_frame to libzmq (a reader), so that it drops larger
    messages before allocating them. */
void mu__pipe_zmq_set_max_frame(mu_pipe_t *self);
/*  Sends one frame as one message. 0, MU_EBADF (a reader), MU_EAGAIN,
    MU_ETIMEDOUT, MU_EINTR or -errno. */
int mu__pipe_zmq_send(mu_pipe_t *self, const void *data, size_t size);
/*  Receives one frame (as mu_pipe_recv). */
int mu__pipe_zmq_recv(mu_pipe_t *self, const void **data_p, size_t *size_p);
/*  Sends a writer's end-of-stream marker and closes the socket. */
void mu__pipe_zmq_close(mu_pipe_t *self);

#endif
