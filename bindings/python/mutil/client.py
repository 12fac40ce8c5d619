# SPDX-License-Identifier: MPL-2.0
# Copyright (c) 2026 the mutil authors
"""mutil.Client: the client of a mutil.Server (or of any mu_server, such as
`mutil serve`): requests, one-way messages, streams both ways, pushes, and
file get/put with a progress callback (mu_client.h, mu_files.h).

    with mutil.Client('tcp://127.0.0.1:5555', secret=b'a long passphrase',
                      timeout=5) as c:
        print(c.request(b'hello'))
        c.get('remote/name', 'local-copy', progress=lambda done, total: print(done, total))

Calls fail fast when the connection cannot work: mutil.AuthError
(MU_EAUTH: the server refused our key; MU_EHANDSHAKE: wrong server key or
secret, or different security modes), mutil.ConnectionError (nothing
listens, before a first connection), mutil.NotFoundError (MU_ENOHOST).
An error the server answered raises its mutil.Error, whose message starts
with "server:". A client belongs to one thread at a time."""
import asyncio
import collections
import concurrent.futures
import functools
import os

from . import errors
from ._aio import wait_readable

from ._callback import CallbackErrors
from ._connutil import UNSET, buffer, ms, seconds
from ._lib import take_malloced
from ._handle import Handle
from ._lib import check, check_ptr, ffi, lib, stats, to_cstr
from .keys import Keys, public_key_bytes
from .server import decode, encode, security_choice

Message = collections.namedtuple('Message', 'kind id data last')
Message.__doc__ = ("What Client.recv returns: kind 'push' or 'stream', id (the stream's; "
                   "0 for a push), data (bytes, or a value when packed), last (a stream's end).")
_KINDS = {lib.MU_CLIENT_PUSH: 'push', lib.MU_CLIENT_STREAM: 'stream'}


class Client(Handle):
    """A client; connects at once when endpoint is given.

    Security, exactly one: server_key= (Keys, 32 bytes or Z85 text) with
    keys= (our Keys with its secret; None: a fresh random pair, for servers
    that allow any); secret=passphrase; insecure=True. Options: name= (seen
    by the server on join), heartbeat=(interval, timeout) and
    reconnect=(initial, max) in seconds, timeout= the default of every call
    (seconds; None: wait forever, the C default), packed=False (payloads as
    MessagePack values). Raises ValueError (security), mutil.InvalidError
    (refused option, bad endpoint)."""

    _ctype = 'mu_client_t'
    _destroy = lib.mu_client_destroy

    def __init__(self, endpoint=None, *, server_key=None, keys=None, secret=None,
                 insecure=False, name=None, heartbeat=None, reconnect=None, timeout=None,
                 packed=False):
        super().__init__(check_ptr(lib.mu_client_new()))
        self.packed = packed
        self.callback_errors = CallbackErrors()
        self._timeout_ms = ms(timeout, -1)
        self._out = {'data': ffi.new('void **'), 'size': ffi.new('size_t *'),
                     'kind': ffi.new('mu_client_kind_t *'), 'id': ffi.new('uint64_t *'),
                     'last': ffi.new('int *')}
        try:
            self._secure(server_key, keys, secret, insecure)
            if name is not None:
                check(lib.mu_client_set_name(self._p, to_cstr(name, 'name')))
            if heartbeat is not None:
                check(lib.mu_client_set_heartbeat(self._p, ms(heartbeat[0], 0),
                                                  ms(heartbeat[1], 0)))
            if reconnect is not None:
                check(lib.mu_client_set_reconnect(self._p, ms(reconnect[0], 0),
                                                  ms(reconnect[1], 0)))
            if endpoint is not None:
                self.connect(endpoint)
        except BaseException:
            self.close()
            raise

    def _secure(self, server_key, keys, secret, insecure):
        security_choice(secret, insecure, server_key is not None)
        if keys is not None and server_key is None:
            raise ValueError('keys=... goes with server_key=...')
        if insecure:
            check(lib.mu_client_set_insecure(self._p))
        elif secret is not None:
            data, size = buffer(secret, 'secret')
            check(lib.mu_client_set_secret(self._p, data, size))
        else:
            if keys is not None and not isinstance(keys, Keys):
                raise TypeError('keys must be mutil.Keys')
            check(lib.mu_client_set_curve(self._p, public_key_bytes(server_key),
                                          ffi.NULL if keys is None else keys._p))

    def connect(self, endpoint):
        """Connects to endpoint and sends the hello; does not wait (see
        wait_ready). Raises mutil.InvalidError (bad endpoint, connected)."""
        check(lib.mu_client_connect(self._p, to_cstr(endpoint, 'endpoint')))

    def wait_ready(self, timeout=UNSET):
        """Waits until the server answered the hello. Raises
        mutil.TimeoutError, mutil.AuthError, mutil.ConnectionError..."""
        check(lib.mu_client_wait_ready(self._p, ms(timeout, self._timeout_ms)))

    def request(self, data, timeout=UNSET):
        """Sends a request and returns the reply (bytes, or a value when
        packed). Raises mutil.TimeoutError, mutil.WouldBlock (timeout 0),
        a connection failure, or the error the server answered (e.g.
        mutil.RemoteError, message "server: ...")."""
        ptr, size = encode(data, self.packed)
        out = self._out
        check(lib.mu_client_request(self._p, ptr, size, out['data'], out['size'],
                                    ms(timeout, self._timeout_ms)))
        return decode(take_malloced(out['data'][0], out['size'][0]), self.packed)

    def send(self, data, timeout=UNSET):
        """Sends a one-way message (an on_message event at the server).
        Raises mutil.WouldBlock/TimeoutError (queue full), a connection
        failure."""
        ptr, size = encode(data, self.packed)
        check(lib.mu_client_send(self._p, ptr, size, ms(timeout, self._timeout_ms)))

    def stream_send(self, stream_id, data, last=False, timeout=UNSET):
        """Sends one chunk of stream stream_id (last=True ends it). Raises as
        send(); nothing was sent when it raises."""
        ptr, size = encode(data, self.packed)
        check(lib.mu_client_stream_send(self._p, stream_id, ptr, size, 1 if last else 0,
                                        ms(timeout, self._timeout_ms)))

    def recv(self, timeout=UNSET):
        """The next push or stream chunk as a Message(kind, id, data, last).
        Raises mutil.WouldBlock (timeout 0), mutil.TimeoutError, a
        connection failure."""
        out = self._out
        check(lib.mu_client_recv(self._p, out['kind'], out['id'], out['last'], out['data'],
                                 out['size'], ms(timeout, self._timeout_ms)))
        raw = take_malloced(out['data'][0], out['size'][0])
        return Message(_KINDS.get(out['kind'][0], 'unknown'), out['id'][0],
                       decode(raw, self.packed), bool(out['last'][0]))

    def __iter__(self):
        """Pushes and stream chunks, each waited for with the default timeout."""
        while True:
            yield self.recv()

    # -- files ------------------------------------------------------------------

    def get(self, remote, local, *, progress=None, overwrite=False, resume=False,
            chunk_size=0, window=0, timeout=UNSET):
        """Downloads remote (relative to the server's root) to local.
        progress(done, total) is called as bytes arrive; returning False
        cancels (mutil.Error MU_EINTR), and an exception it raises cancels
        and is raised again here (counted in callback_errors). overwrite
        replaces local; resume continues local + '.partial'. timeout is for
        the whole transfer (default: the client's; None: no limit).
        Raises mutil.NotFoundError, mutil.AuthError (path refused),
        mutil.ExistsError (local exists), mutil.CorruptError (digest),
        mutil.TimeoutError, mutil.OSError..."""
        return self._transfer(lib.mu_client_get, _remote(remote), _local(local), progress,
                              (lib.MU_FILE_OVERWRITE if overwrite else 0)
                              | (lib.MU_FILE_RESUME if resume else 0),
                              chunk_size, window, timeout)

    def put(self, local, remote, *, progress=None, overwrite=False, chunk_size=0, window=0,
            timeout=UNSET):
        """Uploads local to remote below the server's root; as get()."""
        return self._transfer(lib.mu_client_put, _local(local), _remote(remote), progress,
                              lib.MU_FILE_OVERWRITE if overwrite else 0, chunk_size, window,
                              timeout)

    def _transfer(self, fn, source, dest, progress, flags, chunk_size, window, timeout):
        call_ms = ms(timeout, self._timeout_ms)
        opts = ffi.new('mu_file_options_t *', {
            'chunk_size': chunk_size, 'window': window, 'flags': flags,
            'timeout_ms': -1 if call_ms < 0 else max(call_ms, 1)})
        hook = _Progress(progress, self.callback_errors) if progress is not None else None
        if hook is not None:
            opts.progress = hook.cdata
        p = self._p
        rc = fn(p, source, dest, opts)
        if hook is not None and hook.exception is not None:
            raise hook.exception
        check(rc)

    # -- queries ----------------------------------------------------------------

    def stats(self):
        """The client's counters as a dict (requests, replies, timeouts...)."""
        return stats(lib.mu_client_stats, self._p, 'mu_client_stats_t')

    def fileno(self):
        """The fd to poll for POLLIN (edge-triggered ZMQ_FD)."""
        return lib.mu_client_fd(self._p)


def _local(path):
    """A local path (str, bytes or os.PathLike) as a C string."""
    return to_cstr(os.fsencode(path), 'local path')


def _remote(path):
    """A path below the server's root (str or bytes) as a C string."""
    return to_cstr(path, 'remote path')


class _Progress:
    """A Python progress(done, total) as a C mu_progress_fn: False cancels;
    an exception cancels, is counted and is kept for the caller to raise."""

    def __init__(self, fn, counter):
        if not callable(fn):
            raise TypeError('progress must be callable')
        self.fn, self.counter, self.exception = fn, counter, None
        self.cdata = ffi.callback('mu_progress_fn', self._call, onerror=self._failed)

    def _call(self, arg, done, total):
        return 1 if self.fn(done, total) is False else 0

    def _failed(self, exc_type, exc, tb):
        self.exception = exc.with_traceback(tb)
        self.counter.add(exc)
        return 1  # cancel the transfer


class AsyncClient(Client):
    """mutil.aio.Client: a Client whose calls are coroutines (`await
    c.request(...)`, `async for msg in c`, `async with`).

    mu_client_request waits for its reply inside one C call (there is no
    separate send and poll of a request), so request(), get(), put() and
    wait_ready() run in the client's own worker thread (the GIL is released
    in C) while the loop goes on; recv(), send() and stream_send() try the
    non-blocking call on the loop and wait for the client's ZMQ_FD between
    tries (a wake-up is a hint; the loop also looks every 50 ms, since a
    call in the worker may consume the fd's edge). Calls on one client run
    one at a time, in the order they were made (an asyncio.Lock), so the
    client still belongs to one thread at a time. A cancelled call returns
    at once to its awaiter but keeps the client until the C call ends.
    Progress callbacks run in the worker thread."""

    _tick = 0.05

    def __init__(self, endpoint=None, **options):
        self._worker = concurrent.futures.ThreadPoolExecutor(1, 'mutil-client')
        self._lock = None
        super().__init__(endpoint, **options)

    def _serial(self):
        if self._lock is None:
            self._lock = asyncio.Lock()
        return self._lock

    async def _in_worker(self, fn, *args, **kwargs):
        """Runs fn(self, ...) in the worker thread, holding the client."""
        loop = asyncio.get_running_loop()
        async with self._serial():
            self._p  # noqa: B018 - raises mutil.InvalidError when closed
            call = functools.partial(fn, self, *args, **kwargs)
            future = loop.run_in_executor(self._worker, call)
            try:
                return await asyncio.shield(future)
            except asyncio.CancelledError:
                await asyncio.wait([future])  # the C call still holds the client
                raise

    async def _on_loop(self, attempt, timeout):
        """attempt() (a non-blocking call) until it does not raise
        mutil.WouldBlock, waiting for the fd between tries."""
        loop = asyncio.get_running_loop()
        limit = seconds(ms(timeout, self._timeout_ms))
        deadline = None if limit is None else loop.time() + limit
        while True:
            async with self._serial():
                try:
                    return attempt()
                except errors.WouldBlock:
                    pass
            wait = self._tick if deadline is None else min(self._tick, deadline - loop.time())
            if wait <= 0:
                raise errors.from_code(lib.MU_ETIMEDOUT, 'timed out after %gs' % limit)
            await wait_readable(self.fileno(), wait)

    async def request(self, data, timeout=UNSET):
        """The reply to a request (see Client.request)."""
        return await self._in_worker(Client.request, data, timeout)

    async def wait_ready(self, timeout=UNSET):
        """See Client.wait_ready."""
        return await self._in_worker(Client.wait_ready, timeout)

    async def get(self, remote, local, **options):
        """See Client.get; progress is called in the worker thread."""
        return await self._in_worker(Client.get, remote, local, **options)

    async def put(self, local, remote, **options):
        """See Client.put; progress is called in the worker thread."""
        return await self._in_worker(Client.put, local, remote, **options)

    async def send(self, data, timeout=UNSET):
        """See Client.send."""
        return await self._on_loop(lambda: Client.send(self, data, 0), timeout)

    async def stream_send(self, stream_id, data, last=False, timeout=UNSET):
        """See Client.stream_send."""
        return await self._on_loop(lambda: Client.stream_send(self, stream_id, data, last, 0),
                                   timeout)

    async def recv(self, timeout=UNSET):
        """The next push or stream chunk as a Message (see Client.recv)."""
        return await self._on_loop(lambda: Client.recv(self, 0), timeout)

    def __iter__(self):
        raise TypeError('mutil.aio.Client: use `async for`')

    def __aiter__(self):
        return self

    async def __anext__(self):
        return await self.recv()

    async def __aenter__(self):
        self._p  # noqa: B018 - raises when closed
        return self

    async def __aexit__(self, *exc):
        await self.aclose()

    async def aclose(self):
        """Waits for the call in the worker, then closes the client."""
        async with self._serial():
            self.close()

    def close(self):
        """Waits for the worker's call to end, then closes the client."""
        worker = getattr(self, '_worker', None)
        if worker is not None:
            worker.shutdown(wait=True)
        super().close()
