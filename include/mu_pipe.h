/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_pipe.h — framed message pipes.

    A frame is an unsigned little-endian length of H bytes (H = 1..8, default
    4) followed by that many payload bytes. Any process that writes this format
    interoperates (a Python program needs only struct.pack("<I", n)).

    Three backends behind one API:
      - any file descriptor pair: pipe(2), socketpair(2), inherited fds,
        including fd 0 (mu_pipe_new_fd);
      - pipe(2) pairs made by the library, with the capacity raised by
        F_SETPIPE_SZ when the kernel allows it (mu_pipe_pair);
      - ZeroMQ PUSH/PULL over ipc://, inproc:// or tcp:// (mu_pipe_new_zmq),
        where one ZeroMQ message is one frame and no length header is sent.

    Sending. mu_pipe_send either accepts a frame whole or takes nothing. A frame
    sent with MU_PIPE_MORE may wait in a 64 KiB batch buffer; a send without it,
    or mu_pipe_flush, writes the batch out with one write. When the pipe is full
    and the send timeout expires after part of a frame went out, the rest is
    kept in the pipe's buffer (mu_pipe_pending() > 0) and written by the next
    send or flush: a non-blocking writer loses and reorders nothing.

    Receiving. mu_pipe_recv hands back a view of the next frame that stays
    valid until the next mu_pipe_recv or mu_pipe_destroy on the same pipe; copy
    it to keep it. A frame announcing more than the maximum (default 64 MiB) is
    refused before anything is allocated for it: MU_EPROTO, and an fd pipe is
    closed (a byte stream cannot be resynchronised). Within the maximum, the
    buffer for a frame grows as its bytes arrive (to at most twice what has
    arrived), so a header alone costs no memory. A frame too large for this
    process to hold (more than PTRDIFF_MAX bytes with its header, possible
    only with an 8-byte header and a lifted maximum, or a buffer the
    allocator refuses) is MU_EMSGSIZE: nothing is consumed, what arrived
    stays buffered, and the next mu_pipe_recv tries again; lower the maximum
    to have it refused as MU_EPROTO, or destroy the pipe. EOF after whole
    frames is MU_ECLOSED; EOF in the middle of a frame is MU_ETRUNCATED,
    once, then MU_ECLOSED.

    Polling. mu_pipe_fd gives the fd to watch (POLLIN on a reader, POLLOUT on a
    writer with pending bytes); for ZeroMQ pipes it is ZMQ_FD, which is
    edge-triggered, and mu_pipe_zsock gives the libzmq socket for zmq_poll,
    zpoller or zloop. The
    reader buffers several frames per read(2), so after a wake-up call
    mu_pipe_recv with a zero timeout until it returns MU_EAGAIN.

    Delivery on ZeroMQ. libzmq 4.3 may drop the last frames of a stream when
    a writer closes while its reader is behind, whatever the linger (libzmq
    issue #4660, seen here over ipc:// with raw libzmq too). Keep a ZeroMQ
    writer open until the reader confirms it has what it needs, or use an fd
    pipe, which delivers every frame before EOF.

    Threads and processes. A pipe object belongs to one thread at a time.
    Frames larger than PIPE_BUF (4096 bytes) are not atomic on a pipe shared by
    several writing processes: give each writer process its own pipe.

    File descriptors given to or made by mu_pipe are set O_NONBLOCK (this is
    shared with every process holding the same open file description) and are
    closed by mu_pipe_destroy. Writes never raise SIGPIPE: a closed reader gives
    MU_EPIPE. A process that ignores SIGPIPE when it makes a pipe must not
    restore the default disposition while such a pipe is in use (the pipe
    then writes without masking SIGPIPE; doc/pipe.md says why).

    Design and measured figures: doc/pipe.md. */
#ifndef MU_PIPE_H_INCLUDED
#define MU_PIPE_H_INCLUDED

#include <stddef.h>
#include <stdint.h>
#include "mu_defs.h"
#include "mu_error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct mu_pipe_t mu_pipe_t;

#define MU_PIPE_HEADER_DEFAULT 4                      /* bytes of length prefix */
#define MU_PIPE_MAX_FRAME_DEFAULT (64u * 1024 * 1024) /* payload bytes */
#define MU_PIPE_BATCH_BYTES (64u * 1024)              /* batch buffer size */

/*  Flag for mu_pipe_send: more frames follow soon, so this one may wait in
    the batch buffer until a send without MU_PIPE_MORE or mu_pipe_flush. */
#define MU_PIPE_MORE 1

/*  Direction of a ZeroMQ pipe end. */
typedef enum {
    MU_PIPE_READER = 1, /* PULL socket; binds unless the endpoint starts with '>' */
    MU_PIPE_WRITER = 2  /* PUSH socket; connects unless the endpoint starts with '@' */
} mu_pipe_mode_t;

/*  Wraps file descriptors. read_fd and/or write_fd may be -1 (no such end);
    0 is a valid descriptor. Both may be the same fd (a socketpair end). The
    pipe owns the descriptors: it sets them O_NONBLOCK and closes them on
    destroy (dup() first to keep one). Returns NULL with errno EINVAL when both
    are -1 or EBADF when a descriptor is not open (mu_last_error() says
    which). */
MU_EXPORT MU_NODISCARD mu_pipe_t *mu_pipe_new_fd(int read_fd, int write_fd);

/*  Creates a pipe(2) with O_CLOEXEC and its capacity raised to 1 MiB where
    the kernel allows (less, or the default, otherwise). *reader_p gets the
    read end and *writer_p the write end. After fork(), each process destroys
    the end it does not use, so EOF reaches the reader. Returns 0, or -errno
    (MU_ENOMEM, -EMFILE, ...), leaving both pointers NULL. */
MU_EXPORT MU_NODISCARD int mu_pipe_pair(mu_pipe_t **reader_p, mu_pipe_t **writer_p);

/*  Creates a ZeroMQ end: a PULL socket for MU_PIPE_READER, a PUSH socket for
    MU_PIPE_WRITER, on czmq's shared context so inproc:// works between them.
    endpoint is a czmq endpoint list; a leading '@' binds and '>' connects,
    otherwise readers bind and writers connect. mode is a value of the enum
    (asserted). Returns NULL with errno EADDRINUSE (an address to bind is
    in use) or EINVAL (an endpoint that cannot be bound or connected; a
    tcp:// port must be 1..65535, or * or 0 to bind an ephemeral one),
    EMFILE (libzmq refuses the socket: its ZMQ_MAX_SOCKETS or the process's
    open-file limit is reached), ENOMEM or EIO (czmq's context is ending);
    mu_last_error() names the endpoint or the refusal. */
MU_EXPORT MU_NODISCARD mu_pipe_t *mu_pipe_new_zmq(const char *endpoint, mu_pipe_mode_t mode);

/*  Destroys the pipe and sets *self_p to NULL; accepts NULL and *self_p NULL.
    Pending output is written for up to the linger time (mu_pipe_set_linger),
    then dropped: call mu_pipe_flush and check it when every byte matters. A
    ZeroMQ writer sends an end-of-stream marker. Closes owned descriptors. */
MU_EXPORT void mu_pipe_destroy(mu_pipe_t **self_p);

/*  Sets the length-prefix size in bytes, 1..8 (fd backends; ZeroMQ pipes send
    no prefix and accept the call). Both ends must agree. Returns 0 or
    MU_EINVAL. The maximum frame is then also capped at 2^(8*bytes) - 1. */
MU_EXPORT MU_NODISCARD int mu_pipe_set_header_size(mu_pipe_t *self, int bytes);

/*  Sets the largest payload accepted on send and on receive (default 64 MiB,
    at least 1). Returns 0 or MU_EINVAL for 0. On a ZeroMQ reader, libzmq
    drops a message over the maximum that was in force when the endpoint was
    bound or connected, before allocating it, and closes that peer's
    connection; a smaller maximum set afterwards is checked on receipt
    (MU_EPROTO, the message is dropped, the pipe stays open). */
MU_EXPORT MU_NODISCARD int mu_pipe_set_max_frame(mu_pipe_t *self, uint64_t bytes);

/*  Timeouts in milliseconds for mu_pipe_send/mu_pipe_flush and mu_pipe_recv:
    -1 waits without limit (the default), 0 never waits (MU_EAGAIN), n > 0
    waits up to n ms (MU_ETIMEDOUT). */
MU_EXPORT void mu_pipe_set_send_timeout(mu_pipe_t *self, int timeout_ms);
MU_EXPORT void mu_pipe_set_recv_timeout(mu_pipe_t *self, int timeout_ms);

/*  How long mu_pipe_destroy keeps trying to write pending output, in ms
    (default 1000; -1 without limit). */
MU_EXPORT void mu_pipe_set_linger(mu_pipe_t *self, int linger_ms);

/*  ZeroMQ readers only: how many writers' end-of-stream markers to expect
    before reporting MU_ECLOSED (default 1; fan-in pipes set their writer
    count). Returns 0, or MU_EINVAL for n < 1 or a pipe that is no ZeroMQ
    reader. */
MU_EXPORT MU_NODISCARD int mu_pipe_set_writers(mu_pipe_t *self, int n);

/*  Sends one frame of size bytes (data may be NULL when size is 0). flags is
    0 or MU_PIPE_MORE. Returns 0 when the frame was accepted whole: it has
    been written, or waits in the batch buffer (MU_PIPE_MORE, or the timeout
    expired mid-frame; see mu_pipe_pending). On failure nothing of the frame
    was taken: MU_EMSGSIZE (over the maximum or what the header can
    express, or header + size over PTRDIFF_MAX), MU_EAGAIN (timeout 0) or
    MU_ETIMEDOUT (the pipe stayed full),
    MU_EPIPE (the reader is gone), MU_EBADF (this end cannot write).
    data NULL with size > 0 and unknown flags are caller bugs (asserted). */
MU_EXPORT MU_NODISCARD int mu_pipe_send(mu_pipe_t *self, const void *data, size_t size, int flags);

/*  Writes out the batch buffer, waiting up to the send timeout. Returns 0
    when nothing is pending, MU_EAGAIN or MU_ETIMEDOUT when bytes remain,
    MU_EPIPE when the reader is gone. ZeroMQ pipes return 0 at once. */
MU_EXPORT MU_NODISCARD int mu_pipe_flush(mu_pipe_t *self);

/*  Bytes accepted by mu_pipe_send but not yet written. */
MU_EXPORT size_t mu_pipe_pending(const mu_pipe_t *self);

/*  Receives the next frame: *data_p points at its payload (never NULL, even
    for an empty frame) and *size_p is its size; both are valid until the next
    mu_pipe_recv or mu_pipe_destroy. Returns 0, or MU_EAGAIN (timeout 0, no
    whole frame yet), MU_ETIMEDOUT, MU_ECLOSED (end of stream after whole
    frames), MU_ETRUNCATED (the stream ended inside a frame; reported once),
    MU_EPROTO (a frame over the maximum: the fd pipe is closed; or a malformed
    ZeroMQ message, dropped), MU_EMSGSIZE (a frame within the maximum that
    this process cannot hold: nothing consumed, the next call tries again),
    MU_ENOMEM (no memory for the first receive buffer), MU_EBADF (this end
    cannot read). */
MU_EXPORT MU_NODISCARD int mu_pipe_recv(mu_pipe_t *self, const void **data_p, size_t *size_p);

/*  The descriptor to poll: the read end (POLLIN) of a reader, the write end
    (POLLOUT) of a writer; ZMQ_FD (edge-triggered) for ZeroMQ pipes. -1 once
    the pipe is closed. */
MU_EXPORT int mu_pipe_fd(const mu_pipe_t *self);

/*  The libzmq socket (void *, not a czmq zsock_t) of a ZeroMQ pipe, for
    zmq_poll, zpoller_add or zloop_reader (czmq takes either); NULL for fd
    pipes. The pipe keeps ownership. */
MU_EXPORT void *mu_pipe_zsock(const mu_pipe_t *self);

/*  Totals since creation (mu_pipe_stats). Set size before the call:
    `mu_pipe_stats_t st = { .size = sizeof st };`. */
typedef struct {
    size_t size;              /* set by the caller: sizeof (mu_pipe_stats_t) */
    uint64_t frames_sent;     /* frames accepted by mu_pipe_send */
    uint64_t bytes_sent;      /* their payload bytes */
    uint64_t frames_received; /* frames handed out by mu_pipe_recv */
    uint64_t bytes_received;  /* their payload bytes */
} mu_pipe_stats_t;

/*  Copies the totals into *stats; the caller sets stats->size first.
    Returns 0, or MU_EINVAL when stats->size is smaller than the first
    version of mu_pipe_stats_t. */
MU_EXPORT MU_NODISCARD int mu_pipe_stats(const mu_pipe_t *self, mu_pipe_stats_t *stats);

#ifdef __cplusplus
}
#endif
#endif
