# SPDX-License-Identifier: MPL-2.0
# Copyright (c) 2026 the mutil authors
"""The smart socket (include/mu_socket.h): one object that binds and/or
connects to any number of tcp:// and ipc:// endpoints, sends whole messages
to its joined peers (PUBLISH: a copy each; ROUNDROBIN: one each in turn;
send_to: one identity) and receives them with the sender's 16-byte
identity, plus JOIN/LEAVE events, heartbeats, a local queue, AT_LEAST_ONCE
delivery and CURVE.

There is no background thread: heartbeats, acks and resends run inside
send(), recv() and tick(). A socket that only sends calls tick() at least
every heartbeat interval when idle. mutil.aio.Socket does this by itself
while it awaits.

    with mutil.Socket(mode=mutil.Mode.ROUNDROBIN) as hub:
        port = hub.bind('tcp://127.0.0.1:*')
        ...
        for msg in hub:            # Message(event, peer, data)
            print(msg.peer.hex(), msg.data)
"""
import collections
import enum

from . import _aio, errors
from ._handle import Handle, ReceiveIterable
from ._lib import (check, check_ptr, ffi, lib, stats, timeout_ms, to_buffer as _payload,
                   to_bytes, to_cstr, to_enum as _enum)
from .keys import key_ptr as _key_ptr, server_key_arg as _public_key

ID_BYTES = lib.MU_SOCKET_ID_BYTES
MAX_MESSAGE = lib.MU_SOCKET_MAX_MESSAGE


class Mode(enum.IntEnum):
    """How send() distributes: PUBLISH (a copy to every joined peer) or
    ROUNDROBIN (each message to one peer, in join order)."""
    PUBLISH = lib.MU_SOCKET_PUBLISH
    ROUNDROBIN = lib.MU_SOCKET_ROUNDROBIN


class Policy(enum.IntEnum):
    """What a send does when the queue (or a peer's pipe) is full: BLOCK
    (wait up to the send timeout, then mutil.TimeoutError) or DROP (drop,
    count in stats()['dropped'], raise mutil.WouldBlock)."""
    BLOCK = lib.MU_SOCKET_BLOCK
    DROP = lib.MU_SOCKET_DROP


class Event(enum.IntEnum):
    """Message.event: MESSAGE (data from a peer), JOIN and LEAVE (only with
    events=True; data is None)."""
    MESSAGE = lib.MU_SOCKET_MESSAGE
    JOIN = lib.MU_SOCKET_JOIN
    LEAVE = lib.MU_SOCKET_LEAVE


class Message(collections.namedtuple('Message', 'event peer data')):
    """What recv() returns: event (an Event), peer (the 16-byte identity of
    the sender, or of the peer that joined or left) and data (bytes, None
    for JOIN and LEAVE). A tuple: `event, peer, data = msg` works."""
    __slots__ = ()


def _identity(value, what='identity'):
    """value (bytes-like or str) as 16 bytes; raises TypeError or
    mutil.InvalidError (a ValueError) for another length."""
    data = bytes(to_bytes(value, what))
    if len(data) != ID_BYTES:
        raise errors.InvalidError(lib.MU_EINVAL, '%s must be %d bytes, not %d'
                                  % (what, ID_BYTES, len(data)))
    return data


def _ms(seconds, what, minimum=0):
    """A positive duration in seconds as whole milliseconds (>= minimum)."""
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
        raise TypeError('%s must be a number of seconds, not %s' % (what, type(seconds).__name__))
    ms = int(round(seconds * 1000))
    if ms < minimum or ms > 2**31 - 1:
        raise ValueError('%s out of range: %r s' % (what, seconds))
    return ms


def _new_msg():
    """A mu_socket_msg_t for recv to fill, in a bytearray so that its peer
    field is also a memoryview: .tobytes() on it costs a third of
    ffi.buffer(msg.peer)[:] (measured 51 against 168 ns)."""
    raw = bytearray(ffi.sizeof('mu_socket_msg_t'))
    start = ffi.offsetof('mu_socket_msg_t', 'peer')
    return (ffi.from_buffer('mu_socket_msg_t *', raw),
            memoryview(raw)[start:start + ID_BYTES])


_EVENTS = {int(e): e for e in Event}
_new_message = tuple.__new__
_MESSAGE = Event.MESSAGE
_buffer = ffi.buffer
_recv = lib.mu_socket_recv
_send = lib.mu_socket_send
_send_to = lib.mu_socket_send_to


class Socket(ReceiveIterable, Handle):
    """A smart socket. identity: 16 bytes (bytes or str) or None for a
    random one; the other keywords call the setters below with the C
    defaults: mode=Mode.PUBLISH, events=False, heartbeat=(1.0, 3.0) seconds
    (interval, timeout), queue_limit=1000, queue_policy=Policy.BLOCK,
    send_timeout=None (forever), drop_unroutable=False, at_least_once=None
    (off; True for the defaults of set_at_least_once, or a dict of its
    keywords), curve_secret=None (set_curve_secret).

    Raises TypeError / ValueError for bad arguments, mutil.Error when
    libmutil cannot create the socket. Close with close() or `with`. A
    socket belongs to one thread at a time (blocking calls release the GIL,
    so other threads run meanwhile, but must not use the same socket)."""

    _ctype = 'mu_socket_t'
    _destroy = lib.mu_socket_destroy
    Mode, Policy, Event, Message = Mode, Policy, Event, Message
    PUBLISH, ROUNDROBIN = Mode.PUBLISH, Mode.ROUNDROBIN
    BLOCK, DROP = Policy.BLOCK, Policy.DROP

    def __init__(self, identity=None, mode=Mode.PUBLISH, *, events=False, heartbeat=None,
                 queue_limit=1000, queue_policy=Policy.BLOCK, send_timeout=None,
                 drop_unroutable=False, at_least_once=None, curve_secret=None):
        ident = ffi.NULL if identity is None else _identity(identity)
        super().__init__(check_ptr(lib.mu_socket_new(ident)))
        self._msg, self._msg_peer = _new_msg()
        self._mode = Mode.PUBLISH
        self._events = False
        self._drop_unroutable = False
        try:
            self.mode = mode
            self.events = events
            self.drop_unroutable = drop_unroutable
            if heartbeat is not None:
                self.set_heartbeat(*heartbeat)
            self.set_queue(queue_limit, queue_policy, send_timeout)
            if at_least_once:
                self.set_at_least_once(**(at_least_once if isinstance(at_least_once, dict) else {}))
            if curve_secret is not None:
                self.set_curve_secret(curve_secret)
        except BaseException:
            self.close()
            raise

    # -- identity and options -------------------------------------------

    @property
    def identity(self):
        """This socket's 16-byte identity (bytes)."""
        return ffi.buffer(lib.mu_socket_identity(self._p), ID_BYTES)[:]

    @property
    def mode(self):
        """The send mode (a Mode); settable with a Mode, its int or its
        name ('publish', 'roundrobin'). ValueError / TypeError otherwise."""
        return self._mode

    @mode.setter
    def mode(self, value):
        mode = _enum(Mode, value, 'mode')
        lib.mu_socket_set_mode(self._p, mode)
        self._mode = mode

    @property
    def events(self):
        """True when recv() also returns JOIN and LEAVE events; settable."""
        return self._events

    @events.setter
    def events(self, on):
        lib.mu_socket_set_events(self._p, 1 if on else 0)
        self._events = bool(on)

    @property
    def drop_unroutable(self):
        """What send_to() does for an identity that is not joined: False
        (default) raises mutil.NotFoundError; True drops it, counts it in
        stats()['dropped'] and returns. Settable."""
        return self._drop_unroutable

    @drop_unroutable.setter
    def drop_unroutable(self, on):
        lib.mu_socket_set_drop_unroutable(self._p, 1 if on else 0)
        self._drop_unroutable = bool(on)

    def set_heartbeat(self, interval=1.0, timeout=3.0):
        """PING every interval seconds; a peer silent for timeout seconds
        leaves. Needs 0 < interval < timeout (ms resolution); the ZMTP part
        applies to later bind/connect. Raises mutil.InvalidError otherwise."""
        check(lib.mu_socket_set_heartbeat(self._p, _ms(interval, 'interval', 1),
                                          _ms(timeout, 'timeout', 1)))

    def set_queue(self, limit=1000, policy=Policy.BLOCK, timeout=None):
        """Local queue limit (messages, 1..2**24), the full-queue policy (a
        Policy or 'block'/'drop') and the send timeout in seconds (None:
        forever, 0: never wait). Raises mutil.InvalidError for a value out
        of range or a limit below the messages queued now."""
        if isinstance(limit, bool) or not isinstance(limit, int):
            raise TypeError('limit must be an int, not %s' % type(limit).__name__)
        if limit < 1:
            raise errors.InvalidError(lib.MU_EINVAL, 'limit must be >= 1, not %d' % limit)
        check(lib.mu_socket_set_queue(self._p, limit, _enum(Policy, policy, 'policy'),
                                      timeout_ms(timeout)))

    def set_at_least_once(self, retries=10, resend=1.0, window=1024):
        """Turns AT_LEAST_ONCE on: up to retries (1..1000) resends of each
        unacknowledged copy, the first after resend seconds (doubling up to
        32x), at most window (1..2**20) copies unacknowledged. Only before
        the first send and best before bind/connect. Raises
        mutil.InvalidError for a bad value or after a send."""
        for name, value in (('retries', retries), ('window', window)):
            if isinstance(value, bool) or not isinstance(value, int):
                raise TypeError('%s must be an int, not %s' % (name, type(value).__name__))
        if window < 1:
            raise errors.InvalidError(lib.MU_EINVAL, 'window must be >= 1, not %d' % window)
        check(lib.mu_socket_set_at_least_once(self._p, retries, _ms(resend, 'resend', 1), window))

    def set_curve(self, server_keys=None, allow=None, client_keys=None, server_public=None):
        """CURVE for later binds (server_keys with secret, allow: who may
        connect) and later connects (client_keys with secret, server_public:
        32 bytes or the server's keys object). Keys and allow-lists are
        mutil.Keys / mutil.Allow objects. Raises mutil.InvalidError for a
        keypair without secret, half a pair, or after a CURVE bind."""
        check(lib.mu_socket_set_curve(self._p, _key_ptr(server_keys, 'server_keys'),
                                      _key_ptr(allow, 'allow'),
                                      _key_ptr(client_keys, 'client_keys'),
                                      _public_key(server_public)))

    def set_curve_secret(self, secret):
        """CURVE from a shared secret (bytes or str, at least 8 bytes): binds
        and connects of sockets with the same secret accept each other.
        Raises mutil.InvalidError for a short secret."""
        data = to_bytes(secret, 'secret')
        check(lib.mu_socket_set_curve_secret(self._p, data, len(data)))

    # -- endpoints --------------------------------------------------------

    def bind(self, endpoint):
        """Binds to a tcp:// or ipc:// endpoint ('tcp://127.0.0.1:*' picks a
        port). Returns the bound tcp port, 0 for ipc. Raises
        mutil.ConnectionError (address in use) or mutil.InvalidError (a bad
        endpoint)."""
        return check(lib.mu_socket_bind(self._p, to_cstr(endpoint, 'endpoint')))

    def connect(self, endpoint):
        """Connects to a tcp:// or ipc:// endpoint; the connection is made
        and remade in the background. Raises mutil.InvalidError for a bad
        endpoint."""
        check(lib.mu_socket_connect(self._p, to_cstr(endpoint, 'endpoint')))

    @property
    def endpoint(self):
        """The last endpoint bound, port filled in ('' before any bind)."""
        return ffi.string(lib.mu_socket_endpoint(self._p)).decode()

    # -- messages ---------------------------------------------------------

    def _closed(self):
        return errors.InvalidError(lib.MU_EBADF, '%s is closed' % type(self).__name__)

    def send(self, data):
        """Sends data (bytes-like or str as UTF-8) in the current mode; with
        no peer joined it waits in the local queue. Raises
        mutil.ProtocolError (over MAX_MESSAGE bytes), mutil.TimeoutError
        (BLOCK policy, the send timeout passed), mutil.WouldBlock (DROP
        policy, dropped), TypeError for other types."""
        p = self._ptr
        if p is None:
            raise self._closed()
        if type(data) is not bytes:
            data = _payload(data)
        rc = _send(p, data, len(data))
        if rc:
            check(rc)

    def send_to(self, identity, data):
        """Sends data to the peer with identity (16 bytes) whatever the
        mode. Raises mutil.NotFoundError when it is not joined (unless
        drop_unroutable), and as send()."""
        p = self._ptr
        if p is None:
            raise self._closed()
        if type(identity) is not bytes or len(identity) != ID_BYTES:
            identity = _identity(identity)
        if type(data) is not bytes:
            data = _payload(data)
        rc = _send_to(p, identity, data, len(data))
        if rc:
            check(rc)

    def recv(self, timeout=None):
        """The next Message (data, JOIN or LEAVE), waiting up to timeout
        seconds (None: forever, 0: not at all). Raises mutil.WouldBlock
        (timeout 0, nothing there) or mutil.TimeoutError. A signal
        interrupts the wait only when its handler raises (PEP 475)."""
        p = self._ptr
        if p is None:
            raise self._closed()
        m = self._msg
        rc = _recv(p, m, -1 if timeout is None else timeout_ms(timeout))
        if rc:
            return self._recv_failed(rc, timeout)
        if m.event == 1:
            return _new_message(Message, (_MESSAGE, self._msg_peer.tobytes(),
                                          _buffer(m.data, m.size)[:]))
        return _new_message(Message, (_EVENTS[m.event], self._msg_peer.tobytes(), None))

    def _recv_failed(self, rc, timeout):
        if rc == lib.MU_EINTR:
            # Python's handler ran (czmq's are off: _lib.py) and did not raise
            return self.recv(timeout)
        check(rc)

    def tick(self):
        """Runs the periodic work now if due (heartbeats, expiry, acks,
        resends, queued sends). Returns the seconds until it is next due."""
        return lib.mu_socket_tick(self._p) / 1000.0

    # -- state ------------------------------------------------------------

    @property
    def peers(self):
        """The number of joined peers."""
        return lib.mu_socket_peers(self._p)

    def has_peer(self, identity):
        """True when the peer with identity (16 bytes) is joined."""
        return bool(lib.mu_socket_has_peer(self._p, _identity(identity)))

    def __contains__(self, identity):
        return self.has_peer(identity)

    def stats(self):
        """The counters as a dict: sent, received, dropped, resent,
        duplicates, reconnects, joins, leaves, malformed, auth_failures."""
        return stats(lib.mu_socket_stats, self._p, 'mu_socket_stats_t')

    def fileno(self):
        """ZMQ_FD of the socket (edge-triggered: after a wake-up, recv with
        timeout 0 until mutil.WouldBlock)."""
        return lib.mu_socket_fd(self._p)

    def __repr__(self):
        if self._ptr is None:
            return '<mutil.Socket closed>'
        return '<mutil.Socket %s %s peers=%d>' % (self.identity.hex(), self._mode.name.lower(),
                                                 self.peers)


class AsyncSocket(_aio.RecvIteration, Socket):
    """mutil.aio.Socket: a Socket whose recv() is a coroutine driven by the
    running asyncio loop (the socket's fd through loop.add_reader), running
    tick() while it waits, and `async for msg in sock`. send() and
    send_to() stay plain calls: they do not wait unless the queue is full
    under the BLOCK policy (use Policy.DROP or a send timeout in a loop
    that must never block)."""

    async def recv(self, timeout=None):
        """The next Message, waiting up to timeout seconds (None: forever).
        Raises mutil.TimeoutError, and as Socket.recv."""
        p = self._p
        fd = lib.mu_socket_fd(p)
        return await _aio.retry(self._recv_now, fd, timeout, self.tick)

    def _recv_now(self):
        return Socket.recv(self, 0)

