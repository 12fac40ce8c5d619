/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_pipe_zmq.c — the ZeroMQ backend of mu_pipe: one PUSH or PULL socket
    per pipe end, one ZeroMQ message per frame, an end-of-stream marker.
    The contract is in include/mu_pipe.h. */
#include "net/mu_pipe_int.h"
#include "net/mu_zsocket.h"
#include <stdlib.h>
#include <string.h>

#define MU_PIPE_EOF_MARKER "mu:eof" /* 2nd part of the end-of-stream message */

/* Checks the tcp:// endpoints of a czmq endpoint list with
   mu__endpoint_check (other transports are czmq's to check). */
static bool
endpoint_list_ok(const char *list, mu_pipe_mode_t mode)
{
    for (const char *p = list;; p++) {
        size_t len = strcspn(p, ",");
        if (len == 0)
            return false; /* an empty endpoint: "", "a,", "a,,b" */
        bool bind = *p == '@' ? true : *p == '>' ? false : mode == MU_PIPE_READER;
        size_t skip = *p == '@' || *p == '>';
        char one[512];
        if (len - skip >= sizeof one)
            return false;
        snprintf(one, sizeof one, "%.*s", (int) (len - skip), p + skip);
        if (strncmp(one, "tcp://", 6) == 0 && mu__endpoint_check(one, bind) != 0)
            return false;
        p += len;
        if (*p == '\0')
            return true;
    }
}

int
mu__pipe_zmq_open(mu_pipe_t *self, const char *endpoint)
{
    if (!endpoint_list_ok(endpoint, self->mode))
        return mu__fail(MU_EINVAL, "mu_pipe_new_zmq: bad endpoint '%s'", endpoint);
    bool reader = self->mode == MU_PIPE_READER;
    self->handle = mu__zsocket_open(reader ? ZMQ_PULL : ZMQ_PUSH, "mu_pipe_new_zmq");
    if (!self->handle)
        return mu_last_code(); /* recorded */
    if (reader)
        mu__pipe_zmq_set_max_frame(self);
    zsock_set_linger(self->handle, self->linger);
    if (mu__zsocket_attach(self->handle, endpoint, reader) != 0) {
        int err = errno;
        mu__zsocket_close(&self->handle);
        return mu__fail(mu__zsocket_attach_code(err), "mu_pipe_new_zmq: cannot %s '%s': %s",
                        reader ? "bind" : "connect", endpoint, zmq_strerror(err));
    }
    return 0;
}

void
mu__pipe_zmq_set_max_frame(mu_pipe_t *self)
{
    int64_t cap = self->max_frame > INT64_MAX ? INT64_MAX : (int64_t) self->max_frame;
    zmq_setsockopt(self->handle, ZMQ_MAXMSGSIZE, &cap, sizeof cap);
}

static int
zmq_error(int timeout_ms)
{
    if (errno == EAGAIN)
        return timeout_ms == 0 ? MU_EAGAIN : MU_ETIMEDOUT;
    if (errno == EINTR)
        return MU_EINTR;
    return -errno;
}

int
mu__pipe_zmq_send(mu_pipe_t *self, const void *data, size_t size)
{
    if (self->mode != MU_PIPE_WRITER)
        return MU_EBADF;
    int zflags = self->send_timeout == 0 ? ZMQ_DONTWAIT : 0;
    if (zmq_send(self->handle, data, size, zflags) < 0)
        return zmq_error(self->send_timeout);
    return 0;
}

/*  Sends the end-of-stream marker: a two-part message, empty then "mu:eof".
    Data frames are always single-part, so it cannot be mistaken for one. */
static void
send_eof_marker(mu_pipe_t *self)
{
    zsock_set_sndtimeo(self->handle, self->linger);
    if (zmq_send(self->handle, "", 0, ZMQ_SNDMORE) == 0)
        zmq_send(self->handle, MU_PIPE_EOF_MARKER, strlen(MU_PIPE_EOF_MARKER), 0);
}

/*  Reads and discards the remaining parts of a multipart message; returns
    true when the message was the end-of-stream marker. */
static bool
consume_control_message(mu_pipe_t *self)
{
    bool first_empty = zmq_msg_size(&self->msg) == 0;
    int parts = 1;
    bool is_eof = false;
    while (zmq_msg_more(&self->msg)) {
        if (zmq_msg_recv(&self->msg, self->handle, 0) < 0)
            break;
        parts++;
        is_eof = parts == 2 && first_empty && !zmq_msg_more(&self->msg)
                 && zmq_msg_size(&self->msg) == strlen(MU_PIPE_EOF_MARKER)
                 && memcmp(zmq_msg_data(&self->msg), MU_PIPE_EOF_MARKER, strlen(MU_PIPE_EOF_MARKER))
                        == 0;
    }
    return is_eof;
}

int
mu__pipe_zmq_recv(mu_pipe_t *self, const void **data_p, size_t *size_p)
{
    if (self->mode != MU_PIPE_READER)
        return MU_EBADF;
    if (self->eofs_seen >= self->writers)
        return MU_ECLOSED;
    if (!self->msg_live) {
        zmq_msg_init(&self->msg);
        self->msg_live = true;
    }
    for (;;) {
        int zflags = self->recv_timeout == 0 ? ZMQ_DONTWAIT : 0;
        if (zmq_msg_recv(&self->msg, self->handle, zflags) < 0)
            return zmq_error(self->recv_timeout);
        if (zmq_msg_more(&self->msg)) {
            if (!consume_control_message(self))
                return MU_EPROTO;
            if (++self->eofs_seen >= self->writers)
                return MU_ECLOSED;
            continue;
        }
        if (zmq_msg_size(&self->msg) > self->max_frame)
            return MU_EPROTO; /* only inproc gets here: libzmq checks ipc/tcp */
        *data_p = zmq_msg_data(&self->msg);
        *size_p = zmq_msg_size(&self->msg);
        if (!*data_p)
            *data_p = "";
        return 0;
    }
}

void
mu__pipe_zmq_close(mu_pipe_t *self)
{
    if (self->mode == MU_PIPE_WRITER)
        send_eof_marker(self);
    if (self->msg_live)
        zmq_msg_close(&self->msg);
    mu__zsocket_close(&self->handle);
}
