# SPDX-License-Identifier: MPL-2.0
# Copyright (c) 2026 the mutil authors
"""mutil.Server: an authenticated server (mu_server.h, mu_files.h) whose
request handlers are Python callables.

    with mutil.Server('tcp://127.0.0.1:*', secret=b'a long passphrase',
                      handler=lambda ev: ev.data.upper()) as srv:
        srv.run()             # until srv.stop() (from any thread)

Two ways to use it: callbacks (handler, on_message, on_stream, on_join,
on_leave: each gets the Event; the handler's return value is the reply)
run by run()/serve_once(); or server.recv() giving Event objects the
caller answers with event.reply(). With packed=True, payloads are
MessagePack values (mutil.packb/unpackb) instead of bytes.

A handler that raises: the exception is printed with its traceback to
stderr, counted in server.handler_errors, and the client gets an error
reply (a mutil.Error's own code, else MU_EREMOTE with "Type: message");
the server goes on. All work happens inside recv()/serve_once(), on the
thread that calls them: a server belongs to one thread at a time."""
import asyncio
import inspect
import os
import threading
import time
import weakref

from . import errors
from ._aio import retry
from ._callback import CallbackErrors, describe
from ._connutil import buffer, ms
from ._handle import Handle
from ._lib import check, check_ptr, ffi, lib, stats, to_cstr
from .keys import Allow
from .pack import packb, unpackb

KINDS = {1: 'join', 2: 'leave', 3: 'request', 4: 'message', 5: 'stream'}
_POLL_SECONDS = 0.05  # how often run() looks at stop() while idle


def encode(data, packed):
    """A payload for C: MessagePack of any value when packed, else bytes-like
    or str (UTF-8); None is b''."""
    if packed:
        return buffer(packb(data))
    return buffer(b'' if data is None else data)


def decode(raw, packed):
    """A payload from C (bytes) as bytes or, when packed, its value."""
    return unpackb(raw) if packed else raw


def security_choice(secret, insecure, curve):
    """Checks that exactly one security mode was chosen; raises ValueError."""
    chosen = sum(1 for c in (secret is not None, bool(insecure), curve) if c)
    if chosen != 1:
        raise ValueError('choose exactly one of secret=..., keys/server_key=..., '
                         'insecure=True (got %d)' % chosen)


class Event(Handle):
    """One server event: .kind ('join', 'leave', 'request', 'message',
    'stream'), .peer (int id), .id (request correlation id or stream id),
    .data (bytes, or a value for a packed server), .name (a join's client
    name, str), .last (a stream's final chunk), .answered. A request is
    answered by reply() or reply_error(); closing an unanswered request
    (close(), or the server closing it) answers it MU_EREMOTE "request
    dropped by the application"."""

    _ctype = 'mu_event_t'
    _destroy = lib.mu_event_destroy

    def __init__(self, server, ptr):
        super().__init__(ptr)
        self._server = server
        self.kind = KINDS.get(lib.mu_event_kind(ptr), 'unknown')
        self.peer = lib.mu_event_peer(ptr)
        self.id = lib.mu_event_id(ptr)
        self.last = bool(lib.mu_event_last(ptr))
        size = ffi.new('size_t *')
        data = lib.mu_event_data(ptr, size)
        self.raw = ffi.unpack(ffi.cast('const char *', data), size[0])
        self.answered = False

    @property
    def data(self):
        """The payload: bytes, or the MessagePack value on a packed server
        (raises mutil.ProtocolError when it is no valid MessagePack)."""
        if self.kind in ('join', 'leave'):
            return self.raw
        return decode(self.raw, self._server.packed)

    @property
    def server(self):
        """The Server this event came from (to push or stream to its peer)."""
        return self._server

    @property
    def name(self):
        """A join's client name (str)."""
        return self.raw.decode('utf-8', 'replace')

    def reply(self, data=None):
        """Answers this request with data (bytes/str, or any value when
        packed). Raises mutil.InvalidError (not a request, already
        answered), mutil.NotFoundError (the peer left: MU_EHOSTUNREACH),
        mutil.WouldBlock (the peer's queue is full)."""
        ptr, size = encode(data, self._server.packed)
        check(lib.mu_server_reply(self._server._p, self._p, ptr, size))
        self.answered = True

    def reply_error(self, error, message=None):
        """Answers this request with an error: error is a negative MU_E*
        code or a mutil.Error (its code and message); the client's call
        raises the matching mutil.Error. Raises as reply()."""
        if isinstance(error, errors.Error):
            code, message = error.code, message or error.message
        elif isinstance(error, int) and not isinstance(error, bool) and error < 0:
            code = error
        else:
            raise TypeError('error must be a negative MU_E* code or a mutil.Error')
        text = ffi.NULL if message is None else to_cstr(message[:255], 'message')
        check(lib.mu_server_reply_error(self._server._p, self._p, code, text))
        self.answered = True

    def __repr__(self):
        return '<mutil.Event %s peer=%d id=%d %d bytes>' % (self.kind, self.peer, self.id,
                                                           len(self.raw))


class Server(Handle):
    """A server bound to one or more endpoints (tcp://host:port with port *
    or 0 for an ephemeral one, ipc://path).

    Security, exactly one: keys=Keys (with its secret) and allow=Allow (or
    an iterable of client keys; Allow.any() lets anybody in);
    secret=passphrase (str/bytes, >= 8 bytes); insecure=True (plaintext).
    Options: heartbeat=(interval, timeout) seconds (defaults 1 and 5),
    max_message=bytes, root=directory served to get/put,
    transfer_budget=(per_peer, per_server) bytes, packed=False (payloads
    as MessagePack values), handler, on_message, on_stream, on_join,
    on_leave (callables taking an Event). bind: an endpoint or a list.

    Raises ValueError (no or several security modes), mutil.InvalidError
    (a refused option or endpoint), mutil.ConnectionError (address in use),
    mutil.NotFoundError (root does not exist)."""

    _ctype = 'mu_server_t'
    _destroy = lib.mu_server_destroy

    def __init__(self, bind=(), *, keys=None, allow=None, secret=None, insecure=False,
                 heartbeat=None, max_message=None, root=None, transfer_budget=None,
                 packed=False, handler=None, on_message=None, on_stream=None, on_join=None,
                 on_leave=None):
        super().__init__(check_ptr(lib.mu_server_new()))
        self.packed = packed
        self.handler_errors = CallbackErrors()
        self.failed_replies = 0
        self._events = weakref.WeakSet()
        self._stop = threading.Event()
        self._running = threading.Lock()  # held by run(): close() waits for it
        self._run_thread = None
        self._close_after_run = False
        self._callbacks = {'request': handler, 'message': on_message, 'stream': on_stream,
                           'join': on_join, 'leave': on_leave}
        self.endpoints = []
        try:
            self._secure(keys, allow, secret, insecure)
            if heartbeat is not None:
                interval, timeout = heartbeat
                check(lib.mu_server_set_heartbeat(self._p, ms(interval, 0), ms(timeout, 0)))
            if max_message is not None:
                check(lib.mu_server_set_max_message(self._p, max_message))
            if root is not None:
                self.set_root(root)
            if transfer_budget is not None:
                check(lib.mu_server_set_transfer_budget(self._p, *transfer_budget))
            for endpoint in [bind] if isinstance(bind, (str, bytes)) else bind:
                self.bind(endpoint)
        except BaseException:
            self.close()
            raise

    def _secure(self, keys, allow, secret, insecure):
        security_choice(secret, insecure, keys is not None)
        if insecure:
            check(lib.mu_server_set_insecure(self._p))
        elif secret is not None:
            data, size = buffer(secret, 'secret')
            check(lib.mu_server_set_secret(self._p, data, size))
        else:
            if allow is None:
                raise ValueError('keys=... needs allow= (an Allow, client keys, or Allow.any())')
            if not isinstance(allow, Allow):
                allow = Allow(allow)
            check(lib.mu_server_set_curve(self._p, keys._p, allow._p))

    def bind(self, endpoint):
        """Binds one more endpoint; returns the TCP port bound (0 for
        ipc://). The resolved endpoint is appended to .endpoints."""
        port = check(lib.mu_server_bind(self._p, to_cstr(endpoint, 'endpoint')))
        index = len(self.endpoints)
        self.endpoints.append(ffi.string(lib.mu_server_endpoint(self._p, index)).decode())
        return port

    @property
    def endpoint(self):
        """The first bound endpoint (resolved port), or None."""
        return self.endpoints[0] if self.endpoints else None

    def set_root(self, directory):
        """Serves files below directory to clients' get/put."""
        check(lib.mu_server_set_root(self._p, to_cstr(os.fsencode(directory), 'root')))

    def set_transfer_budget(self, per_peer, per_server):
        """Bounds queued file data (bytes) per peer and for the server."""
        check(lib.mu_server_set_transfer_budget(self._p, per_peer, per_server))

    # -- events -----------------------------------------------------------------

    def recv(self, timeout=None):
        """Does the server's work and returns the next Event (timeout
        seconds; None: forever, 0: do not wait). The caller answers
        requests (event.reply) and closes events it is done with (or lets
        them be collected; close() of the server closes the rest). Raises
        mutil.WouldBlock (timeout 0), mutil.TimeoutError, mutil.InvalidError
        (not bound)."""
        event_p = ffi.new('mu_event_t **')
        check(lib.mu_server_recv(self._p, event_p, ms(timeout, -1)))
        event = Event(self, event_p[0])
        self._events.add(event)
        return event

    def __iter__(self):
        """Events, forever (blocking)."""
        while True:
            yield self.recv()

    def dispatch(self, event):
        """Runs the callback for event's kind (see the class) and answers a
        request with the handler's return value, or with an error when it
        raised (printed, counted in handler_errors) or when there is no
        handler (MU_ENOTSUP). Closes the event."""
        try:
            self._run_callback(event)
        finally:
            event.close()

    def _callback_for(self, event):
        """The callback of event's kind; None after answering a request
        nobody handles (MU_ENOTSUP)."""
        callback = self._callbacks.get(event.kind)
        if callback is None and event.kind == 'request':
            self._answer(event.reply_error, lib.MU_ENOTSUP, 'no request handler')
        return callback

    def _run_callback(self, event):
        callback = self._callback_for(event)
        if callback is None:
            return
        try:
            result = callback(event)
        except Exception as exc:  # noqa: BLE001 - reported, counted and answered
            self._handler_failed(event, exc)
            return
        self._complete(event, result)

    def _complete(self, event, result):
        """Answers a request with the handler's result, unless it did."""
        if event.kind != 'request' or event.answered:
            return
        try:
            ptr, size = encode(result, self.packed)
        except Exception as exc:  # noqa: BLE001 - a result that is no payload
            self._handler_failed(event, exc)
            return
        self._answer(lambda: check(lib.mu_server_reply(self._p, event._p, ptr, size)))
        event.answered = True

    def _handler_failed(self, event, exc):
        self.handler_errors.report(exc, '%s callback for peer %d' % (event.kind, event.peer))
        if event.kind == 'request' and not event.answered:
            # a Python exception is the server's, not the client's: MU_EREMOTE
            code = exc.code if isinstance(exc, errors.Error) else lib.MU_EREMOTE
            self._answer(event.reply_error, code, describe(exc))

    def _answer(self, how, *args):
        """Runs a reply; a peer that left or whose queue is full is counted
        in failed_replies instead of stopping the server."""
        try:
            how(*args)
        except (errors.NotFoundError, errors.WouldBlock):
            self.failed_replies += 1

    def serve_once(self, timeout=None):
        """Waits up to timeout seconds for one event and dispatches it.
        Returns True when an event was handled, False when none came."""
        try:
            event = self.recv(timeout)
        except (errors.WouldBlock, errors.TimeoutError):
            return False
        self.dispatch(event)
        return True

    def run(self, timeout=None):
        """Dispatches events until stop() or close() is called (from any
        thread or a callback) or timeout seconds passed (None: no limit)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._running:
            self._run_thread = threading.get_ident()
            try:
                self._stop.clear()
                while not self._stop.is_set():
                    wait = _POLL_SECONDS
                    if deadline is not None:
                        wait = min(wait, deadline - time.monotonic())
                        if wait <= 0:
                            return
                    self.serve_once(wait)
            finally:
                self._run_thread = None
        if self._close_after_run:
            self.close()

    def stop(self):
        """Makes run() return (thread-safe)."""
        self._stop.set()

    # -- sending ----------------------------------------------------------------

    def push(self, peer, data):
        """Pushes a message to one peer. Raises mutil.NotFoundError (no such
        peer), mutil.WouldBlock (its queue is full)."""
        ptr, size = encode(data, self.packed)
        check(lib.mu_server_push(self._p, peer, ptr, size))

    def push_all(self, data):
        """Pushes a message to every peer; returns how many it was queued to."""
        ptr, size = encode(data, self.packed)
        return lib.mu_server_push_all(self._p, ptr, size)

    def stream_send(self, peer, stream_id, data, last=False):
        """Sends one chunk of stream stream_id to peer (last=True ends it).
        Raises as push(); on mutil.WouldBlock nothing was sent."""
        ptr, size = encode(data, self.packed)
        check(lib.mu_server_stream_send(self._p, peer, stream_id, ptr, size, 1 if last else 0))

    # -- queries ----------------------------------------------------------------

    def peer_key(self, peer):
        """The peer's 32-byte CURVE public key (zeros when insecure). Raises
        mutil.NotFoundError (no such peer)."""
        key = ffi.new('uint8_t[32]')
        check(lib.mu_server_peer_key(self._p, peer, key))
        return ffi.unpack(ffi.cast('char *', key), 32)

    @property
    def peers(self):
        """Number of peers joined now."""
        return lib.mu_server_peers(self._p)

    def stats(self):
        """The server's counters as a dict (msgs_in, auth_failures...)."""
        return stats(lib.mu_server_stats, self._p, 'mu_server_stats_t')

    def peer_stats(self, peer):
        """One peer's counters as a dict; raises mutil.NotFoundError."""
        return stats(lib.mu_server_peer_stats, self._p, 'mu_server_peer_stats_t', peer)

    def fileno(self):
        """The fd to poll (edge-triggered ZMQ_FD: drain recv(0) after a
        wake-up, and wake at least every heartbeat interval)."""
        return lib.mu_server_fd(self._p)

    def close(self):
        """Closes the events still open (answering unanswered requests),
        says bye to every peer and frees the server. A run() in another
        thread is stopped and waited for first; called from a callback of
        run(), the server closes when run() returns."""
        if self.closed:
            return
        if self._run_thread == threading.get_ident():
            self._close_after_run = True
            self.stop()
            return
        self.stop()
        with self._running:
            for event in list(self._events):
                event.close()
            super().close()



class AsyncServer(Server):
    """mutil.aio.Server: a Server whose recv(), serve_once() and run() are
    coroutines driven by the running asyncio loop through the server's
    ZMQ_FD. Callbacks may be plain functions or coroutine functions (a
    handler's awaited result is the reply); they run one at a time. The
    loop also wakes the server every 50 ms at most while idle (or at once
    while a file download is sending) for its timed work: leave
    detection, file chunks."""

    _tick_idle = _POLL_SECONDS

    async def recv(self, timeout=None):
        """The next Event (see Server.recv); raises mutil.TimeoutError."""
        sent = [None]

        def tick():  # at once again while file data flows out, else soon
            out = self.stats()['bytes_out']
            busy, sent[0] = sent[0] is not None and out != sent[0], out
            return 0 if busy else self._tick_idle
        return await retry(lambda: Server.recv(self, 0), self.fileno(), timeout, tick)

    async def dispatch(self, event):
        """Runs event's callback (awaiting it when it is a coroutine) and
        answers a request; closes the event."""
        try:
            callback = self._callback_for(event)
            if callback is None:
                return
            try:
                result = callback(event)
                if inspect.isawaitable(result):
                    result = await result
            except Exception as exc:  # noqa: BLE001 - reported, counted and answered
                self._handler_failed(event, exc)
                return
            self._complete(event, result)
        finally:
            event.close()

    async def serve_once(self, timeout=None):
        """Waits up to timeout seconds for one event and dispatches it;
        returns True when one was handled."""
        try:
            event = await self.recv(timeout)
        except (errors.WouldBlock, errors.TimeoutError):
            return False
        await self.dispatch(event)
        return True

    async def run(self, timeout=None):
        """Dispatches events until stop() or timeout seconds (None: none)."""
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        self._stop.clear()
        while not self._stop.is_set():
            wait = _POLL_SECONDS
            if deadline is not None:
                wait = min(wait, deadline - loop.time())
                if wait <= 0:
                    return
            await self.serve_once(wait)

    def __iter__(self):
        raise TypeError('mutil.aio.Server: use `async for`')

    def __aiter__(self):
        return self

    async def __anext__(self):
        return await self.recv()
