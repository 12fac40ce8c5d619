/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_pipe.c — framed pipes: construction, options, the file descriptor
    backend and the public entry points (the ZeroMQ backend is in
    mu_pipe_zmq.c). The contract is in include/mu_pipe.h; the design in
    doc/pipe.md. */
#include "net/mu_pipe_int.h"
#include "net/mu_zsocket.h"
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#define MU_PIPE_CAPACITY (1024 * 1024)  /* asked of F_SETPIPE_SZ */
#define MU_PIPE_READ_CHUNK (256 * 1024) /* initial receive buffer */
#define MU_PIPE_SHRINK_ABOVE (4 * 1024 * 1024)

/* ------------------------------------------------------------------ */
/* Construction                                                        */

static mu_pipe_t *
pipe_alloc(backend_t backend)
{
    mu_pipe_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->backend = backend;
    self->header_bytes = MU_PIPE_HEADER_DEFAULT;
    self->max_frame = MU_PIPE_MAX_FRAME_DEFAULT;
    self->send_timeout = -1;
    self->recv_timeout = -1;
    self->linger = 1000;
    self->rfd = -1;
    self->wfd = -1;
    self->writers = 1;
    return self;
}

static int
set_nonblocking(int fd)
{
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0)
        return -errno;
    if (!(flags & O_NONBLOCK) && fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
        return -errno;
    return 0;
}

static bool
is_socket(int fd)
{
    struct stat st;
    return fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode);
}

static bool
sigpipe_is_ignored(void)
{
    struct sigaction current;
    return sigaction(SIGPIPE, NULL, &current) == 0 && current.sa_handler == SIG_IGN;
}

mu_pipe_t *
mu_pipe_new_fd(int read_fd, int write_fd)
{
    if ((read_fd < 0 && write_fd < 0) || read_fd < -1 || write_fd < -1)
        return mu__fail_null(MU_EINVAL, "mu_pipe_new_fd: descriptors %d and %d", read_fd, write_fd);
    int fds[2] = { read_fd, write_fd };
    for (int i = 0; i < 2; i++) {
        if (fds[i] >= 0 && set_nonblocking(fds[i]) < 0)
            return mu__fail_null(MU_EBADF, "mu_pipe_new_fd: descriptor %d is not open", fds[i]);
    }
    mu_pipe_t *self = pipe_alloc(BACKEND_FD);
    if (!self)
        return mu__fail_null(MU_ENOMEM, "mu_pipe_new_fd");
    self->rfd = read_fd;
    self->wfd = write_fd;
    self->wfd_is_socket = write_fd >= 0 && is_socket(write_fd);
    self->sigpipe_ignored = sigpipe_is_ignored();
    return self;
}

int
mu_pipe_pair(mu_pipe_t **reader_p, mu_pipe_t **writer_p)
{
    assert(reader_p && writer_p);
    *reader_p = *writer_p = NULL;
    int fds[2];
    if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) < 0)
        return mu__fail(-errno, "mu_pipe_pair: pipe2");
    /* Ask for 1 MiB; unprivileged processes may be held below it, in which
       case the default capacity stays and everything still works. */
    (void) fcntl(fds[1], F_SETPIPE_SZ, MU_PIPE_CAPACITY);
    mu_pipe_t *reader = mu_pipe_new_fd(fds[0], -1);
    mu_pipe_t *writer = reader ? mu_pipe_new_fd(-1, fds[1]) : NULL;
    if (!writer) {
        int err = errno;
        if (reader)
            mu_pipe_destroy(&reader);
        else
            close(fds[0]);
        close(fds[1]);
        return mu__fail(-err, "mu_pipe_pair");
    }
    *reader_p = reader;
    *writer_p = writer;
    return 0;
}

mu_pipe_t *
mu_pipe_new_zmq(const char *endpoint, mu_pipe_mode_t mode)
{
    assert(endpoint && (mode == MU_PIPE_READER || mode == MU_PIPE_WRITER));
    mu_pipe_t *self = pipe_alloc(BACKEND_ZMQ);
    if (!self)
        return mu__fail_null(MU_ENOMEM, "mu_pipe_new_zmq");
    self->mode = mode;
    int rc = mu__pipe_zmq_open(self, endpoint);
    if (rc != 0) {
        free(self);
        errno = mu_error_errno(rc); /* the detail is recorded */
        return NULL;
    }
    return self;
}

/* ------------------------------------------------------------------ */
/* Options                                                             */

static uint64_t
header_limit(int header_bytes)
{
    return header_bytes >= 8 ? UINT64_MAX : (UINT64_C(1) << (8 * header_bytes)) - 1;
}

/* The largest payload this pipe may carry: the configured maximum, capped
   by what the length prefix can express. */
static uint64_t
effective_max(const mu_pipe_t *self)
{
    if (self->backend == BACKEND_ZMQ)
        return self->max_frame;
    uint64_t limit = header_limit(self->header_bytes);
    return self->max_frame < limit ? self->max_frame : limit;
}

int
mu_pipe_set_header_size(mu_pipe_t *self, int bytes)
{
    assert(self);
    if (bytes < 1 || bytes > 8)
        return mu__fail(MU_EINVAL, "pipe header size %d (1..8)", bytes);
    self->header_bytes = bytes;
    return 0;
}

int
mu_pipe_set_max_frame(mu_pipe_t *self, uint64_t bytes)
{
    assert(self);
    if (bytes == 0)
        return mu__fail(MU_EINVAL, "pipe maximum frame 0");
    self->max_frame = bytes;
    if (self->backend == BACKEND_ZMQ && self->mode == MU_PIPE_READER)
        mu__pipe_zmq_set_max_frame(self);
    return 0;
}

void
mu_pipe_set_send_timeout(mu_pipe_t *self, int timeout_ms)
{
    assert(self);
    self->send_timeout = timeout_ms < 0 ? -1 : timeout_ms;
    if (self->backend == BACKEND_ZMQ)
        zsock_set_sndtimeo(self->handle, self->send_timeout);
}

void
mu_pipe_set_recv_timeout(mu_pipe_t *self, int timeout_ms)
{
    assert(self);
    self->recv_timeout = timeout_ms < 0 ? -1 : timeout_ms;
    if (self->backend == BACKEND_ZMQ)
        zsock_set_rcvtimeo(self->handle, self->recv_timeout);
}

void
mu_pipe_set_linger(mu_pipe_t *self, int linger_ms)
{
    assert(self);
    self->linger = linger_ms < 0 ? -1 : linger_ms;
    if (self->backend == BACKEND_ZMQ)
        zsock_set_linger(self->handle, self->linger);
}

int
mu_pipe_set_writers(mu_pipe_t *self, int n)
{
    assert(self);
    if (n < 1 || self->backend != BACKEND_ZMQ || self->mode != MU_PIPE_READER)
        return mu__fail(MU_EINVAL, "pipe writers %d: need n >= 1 on a ZeroMQ reader", n);
    self->writers = n;
    return 0;
}

/* ------------------------------------------------------------------ */
/* Writing on an fd without ever raising SIGPIPE                       */

/*  writev() with SIGPIPE blocked for this thread, so that a closed reader
    yields EPIPE instead of killing the process. A SIGPIPE raised by our own
    write is consumed before the mask is restored; one that was already
    pending is left alone. Sockets use MSG_NOSIGNAL instead, and when the
    process ignored SIGPIPE as the pipe was made, no masking is needed (three
    system calls fewer per write). */
static ssize_t
write_no_sigpipe(mu_pipe_t *self, const struct iovec *iov, int iovcnt)
{
    if (self->wfd_is_socket) {
        struct msghdr msg = { .msg_iov = (struct iovec *) iov, .msg_iovlen = (size_t) iovcnt };
        return sendmsg(self->wfd, &msg, MSG_NOSIGNAL);
    }
    if (self->sigpipe_ignored)
        return writev(self->wfd, iov, iovcnt);
    sigset_t block, old, pending;
    sigemptyset(&block);
    sigaddset(&block, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    sigpending(&pending);
    bool was_pending = sigismember(&pending, SIGPIPE);
    ssize_t n = writev(self->wfd, iov, iovcnt);
    int saved = errno;
    if (n < 0 && errno == EPIPE && !was_pending) {
        struct timespec zero = { 0, 0 };
        while (sigtimedwait(&block, NULL, &zero) < 0 && errno == EINTR)
            ;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    errno = saved;
    return n;
}

/*  The deadline of an operation with timeout_ms. A timeout of 0 never
    waits (wait_fd), so its deadline is never read: no clock read (a send
    or receive per frame of a non-blocking pipe read the clock each time). */
static int64_t
op_deadline(int timeout_ms)
{
    return timeout_ms == 0 ? 0 : mu__deadline_ms(timeout_ms);
}

/*  Waits until fd is ready for events or the deadline passes. Returns 0 when
    ready, MU_EAGAIN/MU_ETIMEDOUT (timeout 0 / > 0), or -errno. */
static int
wait_fd(int fd, short events, int timeout_ms, int64_t deadline)
{
    if (timeout_ms == 0)
        return MU_EAGAIN;
    for (;;) {
        int left = mu__remaining_ms(deadline);
        if (deadline >= 0 && left == 0)
            return MU_ETIMEDOUT;
        struct pollfd pfd = { .fd = fd, .events = events };
        int rc = poll(&pfd, 1, left);
        if (rc > 0)
            return 0; /* ready, or POLLERR/POLLHUP: the next call reports it */
        if (rc == 0)
            return MU_ETIMEDOUT;
        if (errno != EINTR)
            return -errno;
    }
}

/*  Writes iov out completely or until the deadline. *written gets the byte
    count that went out. Returns 0 when all went out, else the wait/write
    error. */
static int
write_all(mu_pipe_t *self, struct iovec *iov, int iovcnt, int timeout_ms, int64_t deadline,
          size_t *written)
{
    *written = 0;
    while (iovcnt > 0) {
        ssize_t n = write_no_sigpipe(self, iov, iovcnt);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN) {
                int rc = wait_fd(self->wfd, POLLOUT, timeout_ms, deadline);
                if (rc < 0)
                    return rc;
                continue;
            }
            if (errno == EPIPE)
                self->write_broken = true;
            return -errno;
        }
        *written += (size_t) n;
        while (iovcnt > 0 && (size_t) n >= iov->iov_len) {
            n -= (ssize_t) iov->iov_len;
            iov++;
            iovcnt--;
        }
        if (iovcnt > 0) {
            iov->iov_base = (uint8_t *) iov->iov_base + n;
            iov->iov_len -= (size_t) n;
        }
    }
    return 0;
}

/*  Writes the pending buffer out until it is empty or the deadline passes. */
static int
drain_pending(mu_pipe_t *self, int timeout_ms, int64_t deadline)
{
    if (self->out_len == self->out_off)
        return 0;
    struct iovec iov = { self->out + self->out_off, self->out_len - self->out_off };
    size_t written;
    int rc = write_all(self, &iov, 1, timeout_ms, deadline, &written);
    self->out_off += written;
    if (self->out_off == self->out_len)
        self->out_off = self->out_len = 0;
    return rc;
}

/*  Whether a frame of size payload bytes and its hb-byte header can be one
    object in memory (no object is larger than PTRDIFF_MAX). Within this
    bound, the sum of two buffer sizes cannot wrap a size_t. */
static bool
frame_fits_in_memory(uint64_t size, size_t hb)
{
    return size <= (uint64_t) PTRDIFF_MAX - hb;
}

static int
reserve_out(mu_pipe_t *self, size_t extra)
{
    if (self->out_off > 0 && self->out_len + extra > self->out_cap) {
        memmove(self->out, self->out + self->out_off, self->out_len - self->out_off);
        self->out_len -= self->out_off;
        self->out_off = 0;
    }
    size_t need = self->out_len + extra;
    if (need <= self->out_cap)
        return 0;
    uint8_t *grown = mu__grow(self->out, &self->out_cap, MU_PIPE_BATCH_BYTES, need);
    if (!grown)
        return MU_ENOMEM;
    self->out = grown;
    return 0;
}

static void
encode_header(uint8_t *dst, uint64_t size, int header_bytes)
{
    for (int i = 0; i < header_bytes; i++)
        dst[i] = (uint8_t) (size >> (8 * i));
}

/*  Sends a frame larger than the batch buffer straight from the caller's
    memory. If the deadline passes after part of it went out, the rest is
    copied to the pending buffer so the stream stays whole. */
static int
send_direct(mu_pipe_t *self, const uint8_t *header, const void *data, size_t size, int64_t deadline)
{
    size_t hb = (size_t) self->header_bytes;
    struct iovec iov[2] = { { (void *) header, hb }, { (void *) data, size } };
    size_t written;
    int rc = write_all(self, iov, 2, self->send_timeout, deadline, &written);
    if (rc == 0 || written == 0)
        return rc;
    if (self->write_broken)
        return rc;
    size_t rest = hb + size - written;
    if (reserve_out(self, rest) < 0)
        return MU_ENOMEM; /* cannot happen for a stream we keep whole: report */
    if (written < hb) {
        memcpy(self->out + self->out_len, header + written, hb - written);
        self->out_len += hb - written;
        memcpy(self->out + self->out_len, data, size);
        self->out_len += size;
    } else {
        memcpy(self->out + self->out_len, (const uint8_t *) data + (written - hb), rest);
        self->out_len += rest;
    }
    return 0;
}

static int
send_fd(mu_pipe_t *self, const void *data, size_t size, int flags)
{
    if (self->wfd < 0)
        return MU_EBADF;
    if (self->write_broken)
        return MU_EPIPE;
    size_t hb = (size_t) self->header_bytes;
    if (!frame_fits_in_memory(size, hb))
        return MU_EMSGSIZE;
    size_t total = hb + size;
    int64_t deadline = op_deadline(self->send_timeout);
    size_t pending = self->out_len - self->out_off;
    /* Make room: what is pending goes out before a frame that does not fit
       beside it. If it cannot all go out in time, nothing of the new frame
       is taken. */
    if (pending > 0 && pending + total > MU_PIPE_BATCH_BYTES) {
        int rc = drain_pending(self, self->send_timeout, deadline);
        pending = self->out_len - self->out_off;
        if (pending > 0 && (total > MU_PIPE_BATCH_BYTES || pending + total > MU_PIPE_BATCH_BYTES))
            return rc < 0 ? rc : MU_EAGAIN;
    }
    uint8_t header[8];
    encode_header(header, size, self->header_bytes);
    if (total > MU_PIPE_BATCH_BYTES)
        return send_direct(self, header, data, size, deadline);
    if (reserve_out(self, total) < 0)
        return MU_ENOMEM;
    memcpy(self->out + self->out_len, header, hb);
    if (size)
        memcpy(self->out + self->out_len + hb, data, size);
    self->out_len += total;
    if (flags & MU_PIPE_MORE)
        return 0;
    int rc = drain_pending(self, self->send_timeout, deadline);
    /* The frame is accepted even when the pipe stayed full (it waits in the
       buffer); a dead reader or a failing descriptor is reported. */
    return rc == MU_EAGAIN || rc == MU_ETIMEDOUT ? 0 : rc;
}

/* ------------------------------------------------------------------ */
/* Receiving on an fd                                                  */

static uint64_t
decode_header(const uint8_t *src, int header_bytes)
{
    uint64_t size = 0;
    for (int i = header_bytes - 1; i >= 0; i--)
        size = (size << 8) | src[i];
    return size;
}

static void
close_reader(mu_pipe_t *self)
{
    if (self->rfd >= 0 && self->rfd != self->wfd)
        close(self->rfd);
    else if (self->rfd >= 0)
        shutdown(self->rfd, SHUT_RD); /* a socket used both ways */
    self->rfd = -1;
    self->read_state = STATE_CLOSED;
    self->in_start = self->in_end = 0;
}

/*  The next size of the input buffer while a frame of need bytes (header
    included) arrives: the first chunk, then doubling, but never past need,
    so a big frame ends up in a buffer of exactly its size. Called when the
    buffer is full and holds less than need (need > cap). */
static size_t
next_in_capacity(size_t cap, size_t need)
{
    if (cap == 0)
        return MU_PIPE_READ_CHUNK;
    return cap > need / 2 ? need : 2 * cap;
}

/*  Makes room to read more of the frame of need bytes that starts at
    in_start (need is more than the bytes held and at most PTRDIFF_MAX):
    slides the unread bytes to the front, and grows the buffer only when it
    is full. Memory thus follows the bytes that arrived (at most twice
    them, or the first chunk), not what a header announced. When the buffer
    cannot grow it is left as it was: MU_ENOMEM for the first chunk,
    MU_EMSGSIZE for a frame too large to hold. */
static int
reserve_in(mu_pipe_t *self, size_t need)
{
    if (self->in_cap - self->in_start >= need && self->in_end < self->in_cap)
        return 0;
    size_t have = self->in_end - self->in_start;
    if (self->in_start > 0) {
        memmove(self->in, self->in + self->in_start, have);
        self->in_start = 0;
        self->in_end = have;
    }
    if (self->in_end < self->in_cap)
        return 0;
    size_t cap = next_in_capacity(self->in_cap, need);
    uint8_t *grown = realloc(self->in, cap);
    if (!grown)
        return cap > MU_PIPE_READ_CHUNK ? MU_EMSGSIZE : MU_ENOMEM;
    self->in = grown;
    self->in_cap = cap;
    return 0;
}

/*  Gives back a big buffer once it is empty, so one large frame does not
    pin its memory for the pipe's lifetime. */
static void
maybe_shrink_in(mu_pipe_t *self)
{
    if (self->in_cap > MU_PIPE_SHRINK_ABOVE && self->in_start == self->in_end) {
        free(self->in);
        self->in = NULL;
        self->in_cap = self->in_start = self->in_end = 0;
    }
}

/*  Reads more bytes into the buffer, at most up to the end of a large frame
    so that the next frame starts at the front of the buffer and is never
    slid. Returns 0 after reading something or reaching EOF (read_state
    becomes STATE_EOF), else an error. */
static int
fill_in(mu_pipe_t *self, size_t need, int64_t deadline)
{
    size_t room = self->in_cap - self->in_end;
    if (need > MU_PIPE_READ_CHUNK && self->in_start + need - self->in_end < room)
        room = self->in_start + need - self->in_end;
    for (;;) {
        ssize_t n = read(self->rfd, self->in + self->in_end, room);
        if (n > 0) {
            self->in_end += (size_t) n;
            return 0;
        }
        if (n == 0) {
            self->read_state = STATE_EOF;
            return 0;
        }
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN)
            return -errno;
        int rc = wait_fd(self->rfd, POLLIN, self->recv_timeout, deadline);
        if (rc < 0)
            return rc;
    }
}

static int
recv_fd(mu_pipe_t *self, const void **data_p, size_t *size_p)
{
    if (self->read_state == STATE_CLOSED)
        return MU_ECLOSED;
    if (self->in_start == self->in_end) {
        self->in_start = self->in_end = 0;
        maybe_shrink_in(self);
    }
    size_t hb = (size_t) self->header_bytes;
    int64_t deadline = op_deadline(self->recv_timeout);
    for (;;) {
        size_t have = self->in_end - self->in_start;
        size_t need = hb;
        if (have >= hb) {
            uint64_t size = decode_header(self->in + self->in_start, self->header_bytes);
            if (size > effective_max(self)) {
                close_reader(self);
                return MU_EPROTO;
            }
            if (!frame_fits_in_memory(size, hb))
                return MU_EMSGSIZE; /* nothing consumed, as documented */
            need = hb + (size_t) size;
            if (have >= need) {
                *data_p = self->in + self->in_start + hb;
                *size_p = (size_t) size;
                self->in_start += need;
                self->frames_received++;
                self->bytes_received += size;
                return 0;
            }
        }
        if (self->read_state == STATE_EOF) {
            bool truncated = have > 0;
            close_reader(self);
            return truncated ? MU_ETRUNCATED : MU_ECLOSED;
        }
        int rc = reserve_in(self, need);
        if (rc == 0)
            rc = fill_in(self, need, deadline);
        if (rc < 0)
            return rc;
    }
}

/* ------------------------------------------------------------------ */
/* Public entry points                                                 */

int
mu_pipe_send(mu_pipe_t *self, const void *data, size_t size, int flags)
{
    assert(self && (data || size == 0) && !(flags & ~MU_PIPE_MORE));
    if ((uint64_t) size > effective_max(self))
        return MU_EMSGSIZE;
    int rc = self->backend == BACKEND_FD ? send_fd(self, data, size, flags)
                                         : mu__pipe_zmq_send(self, data, size);
    if (rc == 0) {
        self->frames_sent++;
        self->bytes_sent += size;
    }
    return rc;
}

int
mu_pipe_flush(mu_pipe_t *self)
{
    assert(self);
    if (self->backend == BACKEND_ZMQ)
        return 0;
    if (self->wfd < 0)
        return MU_EBADF;
    return drain_pending(self, self->send_timeout, op_deadline(self->send_timeout));
}

size_t
mu_pipe_pending(const mu_pipe_t *self)
{
    assert(self);
    return self->out_len - self->out_off;
}

int
mu_pipe_recv(mu_pipe_t *self, const void **data_p, size_t *size_p)
{
    assert(self && data_p && size_p);
    if (self->backend == BACKEND_ZMQ) {
        int rc = mu__pipe_zmq_recv(self, data_p, size_p);
        if (rc == 0) {
            self->frames_received++;
            self->bytes_received += *size_p;
        }
        return rc;
    }
    if (self->rfd < 0 && self->read_state == STATE_OPEN)
        return MU_EBADF;
    return recv_fd(self, data_p, size_p);
}

int
mu_pipe_fd(const mu_pipe_t *self)
{
    assert(self);
    if (self->backend == BACKEND_ZMQ)
        return self->handle ? mu__zsocket_fd(self->handle) : -1;
    return self->rfd >= 0 ? self->rfd : self->wfd;
}

void *
mu_pipe_zsock(const mu_pipe_t *self)
{
    assert(self);
    return self->handle;
}

int
mu_pipe_stats(const mu_pipe_t *self, mu_pipe_stats_t *stats)
{
    assert(self && stats);
    mu_pipe_stats_t all = {
        .size = sizeof all,
        .frames_sent = self->frames_sent,
        .bytes_sent = self->bytes_sent,
        .frames_received = self->frames_received,
        .bytes_received = self->bytes_received,
    };
    return mu__stats_fill(stats, &all, sizeof all, sizeof all);
}

void
mu_pipe_destroy(mu_pipe_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    mu_pipe_t *self = *self_p;
    if (self->backend == BACKEND_ZMQ) {
        mu__pipe_zmq_close(self);
    } else {
        if (self->wfd >= 0 && !self->write_broken)
            (void) drain_pending(self, self->linger, mu__deadline_ms(self->linger));
        if (self->rfd >= 0)
            close(self->rfd);
        if (self->wfd >= 0 && self->wfd != self->rfd)
            close(self->wfd);
    }
    free(self->out);
    free(self->in);
    free(self);
    *self_p = NULL;
}
