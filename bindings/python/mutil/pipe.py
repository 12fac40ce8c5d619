# SPDX-License-Identifier: MPL-2.0
# Copyright (c) 2026 the mutil authors
"""mutil.Pipe: framed message pipes over file descriptors (pipe(2),
socketpairs, inherited fds such as a child's stdout) or ZeroMQ PUSH/PULL.

A frame is a little-endian length of `header_size` bytes (default 4) and
that many payload bytes, so plain Python is a peer with
struct.pack('<I', len(payload)) + payload. ZeroMQ pipes send one ZeroMQ
message per frame. Timeouts are seconds (None: wait forever, 0: never wait).
"""
import os

from . import errors
from ._aio import retry
from ._connutil import UNSET, buffer, ms, seconds
from ._handle import Handle
from ._lib import check, check_ptr, ffi, lib, stats, to_cstr

_DEFAULT_LINGER = 1.0


def _fd_of(end):
    """(fd the pipe will own, dup'ed?) for an end given as None, an int
    (taken over) or an object with fileno() (dup'ed: the object keeps its
    own descriptor)."""
    if end is None:
        return -1, False
    if isinstance(end, bool):
        raise TypeError('a pipe end must be an fd or have fileno(), not bool')
    if isinstance(end, int):
        if end < 0:
            raise ValueError('a file descriptor must be >= 0')
        return end, False
    if hasattr(end, 'fileno'):
        return os.dup(end.fileno()), True
    raise TypeError('a pipe end must be an int fd or have fileno(), not %s' % type(end).__name__)


class Pipe(Handle):
    """One end (or both ends) of a framed pipe.

    Pipe(read=None, write=None, **options) wraps file descriptors: ints are
    taken over (set O_NONBLOCK, closed by close()); objects with fileno()
    (files, sockets, subprocess pipes) are dup'ed first, so they stay
    usable and are closed by their owner. Pipe.pair() and
    Pipe.zmq_reader()/zmq_writer() make the other kinds.

    options (keyword only, C defaults): header_size=4 (1..8 bytes),
    max_frame=64 MiB, send_timeout=None, recv_timeout=None (seconds),
    linger=1.0 (seconds close() keeps writing pending output; None: no
    limit), writers=1 (ZeroMQ readers: end-of-stream markers to expect).

    Iterating yields frames until the end of the stream: `for frame in
    pipe:` stops at mutil.ClosedError MU_ECLOSED and raises on a stream
    that ended inside a frame (ClosedError MU_ETRUNCATED).

    Raises mutil.InvalidError for bad options or a closed pipe, TypeError
    for ends of the wrong type, mutil.Error subclasses from the C calls."""

    _ctype = 'mu_pipe_t'
    _destroy = lib.mu_pipe_destroy

    def __init__(self, read=None, write=None, **options):
        rfd, rdup = _fd_of(read)
        wfd, wdup = _fd_of(write)
        ptr = lib.mu_pipe_new_fd(rfd, wfd)
        if ptr == ffi.NULL:
            for fd, dup in ((rfd, rdup), (wfd, wdup)):
                if dup:
                    os.close(fd)
        super().__init__(check_ptr(ptr))
        self._setup(options)

    @classmethod
    def _own(cls, ptr, options):
        """Wraps a C pipe made by a constructor function."""
        self = cls.__new__(cls)
        Handle.__init__(self, ptr)
        self._setup(options)
        return self

    @classmethod
    def pair(cls, **options):
        """Makes a pipe(2) pair (capacity raised to 1 MiB where allowed) and
        returns (reader, writer), both with the same options. Raises
        mutil.Error (e.g. -EMFILE as mutil.OSError)."""
        reader_p = ffi.new('mu_pipe_t **')
        writer_p = ffi.new('mu_pipe_t **')
        check(lib.mu_pipe_pair(reader_p, writer_p))
        reader, writer = cls._own(reader_p[0], {}), cls._own(writer_p[0], {})
        try:
            reader._setup(options)
            writer._setup(options)
        except BaseException:
            reader.close()
            writer.close()
            raise
        return reader, writer

    @classmethod
    def zmq_reader(cls, endpoint, **options):
        """A ZeroMQ PULL end on endpoint (ipc://, inproc://, tcp://): binds
        unless the endpoint starts with '>'. Raises mutil.ConnectionError
        (address in use) or mutil.InvalidError (bad endpoint)."""
        return cls._zmq(endpoint, lib.MU_PIPE_READER, options)

    @classmethod
    def zmq_writer(cls, endpoint, **options):
        """A ZeroMQ PUSH end on endpoint: connects unless the endpoint starts
        with '@'. Raises as zmq_reader."""
        return cls._zmq(endpoint, lib.MU_PIPE_WRITER, options)

    @classmethod
    def _zmq(cls, endpoint, mode, options):
        return cls._own(check_ptr(lib.mu_pipe_new_zmq(to_cstr(endpoint, 'endpoint'), mode)),
                        options)

    def _setup(self, options):
        self._data_p = ffi.new('const void **')
        self._size_p = ffi.new('size_t *')
        self._send_ms = self._recv_ms = -1
        self._header_size = lib.MU_PIPE_HEADER_DEFAULT
        self._max_frame = lib.MU_PIPE_MAX_FRAME_DEFAULT
        self._linger = _DEFAULT_LINGER
        allowed = ('header_size', 'max_frame', 'send_timeout', 'recv_timeout', 'linger', 'writers')
        try:
            for name, value in options.items():
                if name not in allowed:
                    raise TypeError('Pipe: unknown option %r' % name)
                setattr(self, name, value)
        except BaseException:
            self.close()
            raise

    # -- options --------------------------------------------------------------

    @property
    def header_size(self):
        """Bytes of the length prefix, 1..8 (both ends must agree)."""
        return self._header_size

    @header_size.setter
    def header_size(self, value):
        check(lib.mu_pipe_set_header_size(self._p, _int(value, 'header_size')))
        self._header_size = value

    @property
    def max_frame(self):
        """Largest payload accepted on send and receive (bytes)."""
        return self._max_frame

    @max_frame.setter
    def max_frame(self, value):
        value = _int(value, 'max_frame')
        if value < 0:
            raise errors.InvalidError(lib.MU_EINVAL, 'max_frame must be >= 1')
        check(lib.mu_pipe_set_max_frame(self._p, value))
        self._max_frame = value

    @property
    def send_timeout(self):
        """Seconds send()/flush() wait for room (None: forever; 0: never)."""
        return seconds(self._send_ms)

    @send_timeout.setter
    def send_timeout(self, value):
        self._send_ms = ms(value, -1)
        lib.mu_pipe_set_send_timeout(self._p, self._send_ms)

    @property
    def recv_timeout(self):
        """Seconds recv() waits for a frame (None: forever; 0: never)."""
        return seconds(self._recv_ms)

    @recv_timeout.setter
    def recv_timeout(self, value):
        self._recv_ms = ms(value, -1)
        lib.mu_pipe_set_recv_timeout(self._p, self._recv_ms)

    @property
    def linger(self):
        """Seconds close() keeps writing pending output (None: no limit)."""
        return self._linger

    @linger.setter
    def linger(self, value):
        lib.mu_pipe_set_linger(self._p, ms(value, -1))
        self._linger = value

    def _set_writers(self, n):
        check(lib.mu_pipe_set_writers(self._p, _int(n, 'writers')))

    writers = property(None, _set_writers, doc='ZeroMQ readers: how many writers '
                       "end-of-stream markers end the stream (write-only).")

    # -- data -----------------------------------------------------------------

    def send(self, data, more=False, timeout=UNSET):
        """Sends one frame (bytes-like, or str as UTF-8), whole or not at all.
        more=True lets it wait in the 64 KiB batch buffer until a send
        without more or flush(). timeout (seconds) overrides send_timeout
        for this call. Raises mutil.ProtocolError (over max_frame),
        mutil.WouldBlock (timeout 0) or mutil.TimeoutError (the pipe stayed
        full: nothing of the frame was taken), mutil.ClosedError (the
        reader is gone: MU_EPIPE), mutil.InvalidError (this end cannot
        write, or the pipe is closed)."""
        ptr, size = buffer(data)
        flags = lib.MU_PIPE_MORE if more else 0
        if timeout is UNSET:
            check(lib.mu_pipe_send(self._p, ptr, size, flags))
        else:
            with _Timeout(self, 'send', timeout) as p:
                check(lib.mu_pipe_send(p, ptr, size, flags))

    def flush(self, timeout=UNSET):
        """Writes out the batch buffer. Raises mutil.WouldBlock or
        mutil.TimeoutError when bytes remain (see pending), mutil.ClosedError
        when the reader is gone."""
        with _Timeout(self, 'send', timeout) as p:
            check(lib.mu_pipe_flush(p))

    def recv(self, timeout=UNSET):
        """Returns the next frame as bytes. timeout (seconds; None: forever,
        0: never wait) overrides recv_timeout for this call. Raises
        mutil.WouldBlock (timeout 0, no whole frame yet), mutil.TimeoutError,
        mutil.ClosedError (MU_ECLOSED: end of stream after whole frames;
        MU_ETRUNCATED: the stream ended inside a frame, reported once),
        mutil.ProtocolError (a frame over max_frame: an fd pipe is then
        closed), mutil.InvalidError (this end cannot read)."""
        if timeout is UNSET:
            check(lib.mu_pipe_recv(self._p, self._data_p, self._size_p))
        else:
            with _Timeout(self, 'recv', timeout) as p:
                check(lib.mu_pipe_recv(p, self._data_p, self._size_p))
        return ffi.unpack(ffi.cast('const char *', self._data_p[0]), self._size_p[0])

    def __iter__(self):
        return self

    def __next__(self):
        try:
            return self.recv()
        except errors.ClosedError as exc:
            if exc.code == lib.MU_ECLOSED:
                raise StopIteration from None
            raise

    @property
    def pending(self):
        """Bytes accepted by send() but not written yet."""
        return lib.mu_pipe_pending(self._p)

    def fileno(self):
        """The fd to poll: readable for a reader, writable for an fd writer
        with pending bytes; the edge-triggered ZMQ_FD for ZeroMQ pipes."""
        return lib.mu_pipe_fd(self._p)

    @property
    def is_zmq(self):
        """True for a ZeroMQ pipe."""
        return lib.mu_pipe_zsock(self._p) != ffi.NULL

    def stats(self):
        """Totals since creation: {'frames_sent', 'bytes_sent',
        'frames_received', 'bytes_received'}."""
        return stats(lib.mu_pipe_stats, self._p, 'mu_pipe_stats_t')

    def __repr__(self):
        if self.closed:
            return '<mutil.Pipe closed>'
        return '<mutil.Pipe %s fd=%d>' % ('zmq' if self.is_zmq else 'fd', self.fileno())


def _int(value, what):
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError('%s must be an int, not %s' % (what, type(value).__name__))
    return value


class _Timeout:
    """Applies a per-call timeout (seconds, or UNSET for the pipe's own) to
    one send/recv: sets the C timeout before the call and puts the pipe's
    back after it. Gives the C pointer."""

    def __init__(self, pipe, which, timeout):
        self.pipe, self.which = pipe, which
        self.default = pipe._send_ms if which == 'send' else pipe._recv_ms
        self.call_ms = ms(timeout, self.default)
        self.setter = (lib.mu_pipe_set_send_timeout if which == 'send'
                       else lib.mu_pipe_set_recv_timeout)

    def __enter__(self):
        self.p = self.pipe._p
        if self.call_ms != self.default:
            self.setter(self.p, self.call_ms)
        return self.p

    def __exit__(self, *exc):
        if self.call_ms != self.default:
            self.setter(self.p, self.default)


class AsyncPipe(Pipe):
    """mutil.aio.Pipe: a Pipe whose send(), flush() and recv() are
    coroutines driven by the running asyncio loop (`await pipe.recv()`,
    `async for frame in pipe`). fd readers wait for their fd to be
    readable, fd writers for it to be writable; ZeroMQ pipes wait on their
    edge-triggered ZMQ_FD, where a wake-up is only a hint and the
    non-blocking attempt decides. Timeouts as in Pipe (seconds; the
    send_timeout/recv_timeout options are the defaults). Same exceptions
    as Pipe; a timeout is mutil.TimeoutError. Constructors as Pipe's:
    mutil.aio.Pipe(read, write), .pair(), .zmq_reader(), .zmq_writer()."""

    async def send(self, data, more=False, timeout=UNSET):
        """Sends one frame; without more, returns once it is written out
        (pending is 0) for fd pipes, or queued to ZeroMQ."""
        limit = seconds(ms(timeout, self._send_ms))
        await self._wait_room(lambda: Pipe.send(self, data, more, 0), limit)
        if not more:
            await self.flush(limit)

    async def flush(self, timeout=UNSET):
        """Writes out the batch buffer, waiting for room."""
        await self._wait_room(lambda: Pipe.flush(self, 0), seconds(ms(timeout, self._send_ms)))

    async def recv(self, timeout=UNSET):
        """Returns the next frame as bytes (see Pipe.recv)."""
        return await retry(lambda: Pipe.recv(self, 0), self.fileno(),
                           seconds(ms(timeout, self._recv_ms)))

    async def _wait_room(self, attempt, timeout):
        if self.is_zmq:
                return await retry(attempt, self.fileno(), timeout)
        return await retry(attempt, self.fileno(), timeout, writable=True)

    def __aiter__(self):
        return self

    async def __anext__(self):
        try:
            return await self.recv()
        except errors.ClosedError as exc:
            if exc.code == lib.MU_ECLOSED:
                raise StopAsyncIteration from None
            raise

    def __iter__(self):
        raise TypeError('mutil.aio.Pipe: use `async for`')
