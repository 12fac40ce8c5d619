# SPDX-License-Identifier: MPL-2.0
# Copyright (c) 2026 the mutil authors
"""Topic publish/subscribe (include/mu_pubsub.h, doc/pubsub.md): a
Publisher sends (topic, data) messages, a Subscriber receives those whose
topic starts with one of its prefixes (filtered at the publisher), and a
Proxy forwards between publishers (upstream) and subscribers (downstream)
in a thread of its own.

A Publisher reads subscriptions inside send() and handle(); one that sends
rarely calls handle() (or awaits mutil.aio.Publisher.handle()) to take them
on. Per-topic sequence numbers let the Subscriber count losses
(stats()['missed']); a last-value cache (cache=N) replays the last message
of each matching topic to a late subscriber, flagged replay=True.

    with mutil.Publisher() as pub, mutil.Subscriber() as sub:
        port = pub.bind('tcp://127.0.0.1:*')
        sub.connect('tcp://127.0.0.1:%d' % port)
        sub.subscribe('prices.')
        pub.wait_subscribed('prices.', timeout=5)
        pub.send('prices.eur', b'1.09')
        topic, data, replay = sub.recv(timeout=5)
"""
import collections
import enum
import time

from . import _aio, errors
from ._handle import Handle, ReceiveIterable
from ._lib import (check, check_ptr, ffi, lib, stats, timeout_ms, to_buffer as _payload,
                   to_bytes, to_cstr, to_enum as _enum)
from .keys import key_ptr as _key_ptr, server_key_arg as _public_key

MAX_TOPIC = lib.MU_PUBSUB_MAX_TOPIC
MAX_MESSAGE = lib.MU_PUBSUB_MAX_MESSAGE


class Side(enum.IntEnum):
    """A Proxy's side: UPSTREAM (towards publishers, an XSUB) or DOWNSTREAM
    (towards subscribers, an XPUB)."""
    UPSTREAM = lib.MU_PROXY_UPSTREAM
    DOWNSTREAM = lib.MU_PROXY_DOWNSTREAM


class Message(collections.namedtuple('Message', 'topic data replay')):
    """What Subscriber.recv() returns: topic (bytes), data (bytes) and
    replay (True for a last-value cache replay of an earlier message). A
    tuple: `topic, data, replay = msg` works."""
    __slots__ = ()


def _topic(value, what='topic'):
    """A topic or prefix (bytes-like or str as UTF-8) as bytes-like; raises
    TypeError, or mutil.InvalidError over MAX_TOPIC bytes."""
    data = to_bytes(value, what)
    if len(data) > MAX_TOPIC:
        raise errors.InvalidError(lib.MU_EINVAL, '%s is %d bytes, at most %d'
                                  % (what, len(data), MAX_TOPIC))
    return data


def _count(value, what):
    """A non-negative int option (a high-water mark, a cache size)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError('%s must be an int, not %s' % (what, type(value).__name__))
    if value < 0 or value > 2**31 - 1:
        raise errors.InvalidError(lib.MU_EINVAL, '%s out of range: %d' % (what, value))
    return value


def _size(value, what):
    """A non-negative int size in bytes."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError('%s must be an int, not %s' % (what, type(value).__name__))
    if value < 0 or value > 2**62:
        raise errors.InvalidError(lib.MU_EINVAL, '%s out of range: %d' % (what, value))
    return value


def _curve(fn, p, side, server_keys, allow, client_keys, server_public):
    """Calls mu_X_set_curve(p, [side,] ...) with Keys / Allow objects."""
    check(fn(p, *side, _key_ptr(server_keys, 'server_keys'), _key_ptr(allow, 'allow'),
             _key_ptr(client_keys, 'client_keys'), _public_key(server_public)))


def _curve_secret(fn, p, side, secret):
    """Calls mu_X_set_curve_secret(p, [side,] secret, size)."""
    data = to_bytes(secret, 'secret')
    check(fn(p, *side, data, len(data)))


def _closed(obj):
    return errors.InvalidError(lib.MU_EBADF, '%s is closed' % type(obj).__name__)


_new_message = tuple.__new__
_buffer = ffi.buffer
_pub_send = lib.mu_pub_send
_sub_recv = lib.mu_sub_recv


class _Endpoints:
    """bind / connect / endpoint / set_curve / set_curve_secret of a
    Publisher or Subscriber (the same contract on both); subclasses set
    _fn, the mu_X_ function prefix."""

    _fn = None

    def _c(self, name):
        return getattr(lib, self._fn + name)

    def set_curve(self, server_keys=None, allow=None, client_keys=None, server_public=None):
        """CURVE for later binds (server_keys with secret, allow: a
        mutil.Allow of who may connect) and later connects (client_keys with
        secret, server_public: 32 bytes or the server's mutil.Keys). Raises
        mutil.InvalidError for a keypair without secret, half a pair, or
        after a CURVE bind; TypeError for other types."""
        _curve(self._c('set_curve'), self._p, (), server_keys, allow, client_keys, server_public)

    def set_curve_secret(self, secret):
        """CURVE from a shared secret (bytes or str, at least 8 bytes): binds
        and connects with the same secret accept each other, any other is
        refused. Raises mutil.InvalidError for a short secret."""
        _curve_secret(self._c('set_curve_secret'), self._p, (), secret)

    def set_hwm(self, hwm):
        """Messages queued per peer before drops (0: no limit); applies to
        later bind/connect. Raises mutil.InvalidError / TypeError."""
        check(self._c('set_hwm')(self._p, _count(hwm, 'hwm')))

    def bind(self, endpoint):
        """Binds to a tcp:// or ipc:// endpoint ('tcp://127.0.0.1:*' picks a
        port). Returns the bound tcp port, 0 for ipc. Raises
        mutil.ConnectionError (address in use) or mutil.InvalidError (a bad
        endpoint)."""
        return check(self._c('bind')(self._p, to_cstr(endpoint, 'endpoint')))

    def connect(self, endpoint):
        """Connects to a tcp:// or ipc:// endpoint; reconnects by itself.
        Raises mutil.InvalidError for a bad endpoint."""
        check(self._c('connect')(self._p, to_cstr(endpoint, 'endpoint')))

    @property
    def endpoint(self):
        """The last endpoint bound, port filled in ('' before any bind)."""
        return ffi.string(self._c('endpoint')(self._p)).decode()

    def fileno(self):
        """ZMQ_FD of the socket (edge-triggered: after a wake-up, call with
        timeout 0 until mutil.WouldBlock)."""
        return self._c('fd')(self._p)


class Publisher(_Endpoints, Handle):
    """A topic publisher (XPUB). Keywords with the C defaults: hwm=1000
    (messages queued per subscriber, 0: no limit), nodrop=False (True:
    refuse a message some matching subscriber cannot take, waiting up to
    nodrop_timeout seconds, None: forever), cache=0 (last-value cache of
    that many topics), trailer=True (False: plain [topic][payload]
    messages, see set_trailer), curve_secret=None (set_curve_secret).

    Raises TypeError / ValueError for bad arguments, mutil.Error when
    libmutil cannot create it. Close with close() or `with`. Belongs to one
    thread at a time."""

    _ctype = 'mu_pub_t'
    _destroy = lib.mu_pub_destroy
    _fn = 'mu_pub_'

    def __init__(self, *, hwm=1000, nodrop=False, nodrop_timeout=None, cache=0,
                 trailer=True, curve_secret=None):
        super().__init__(check_ptr(lib.mu_pub_new()))
        try:
            self.set_hwm(hwm)
            if nodrop:
                self.set_nodrop(True, nodrop_timeout)
            if not trailer:
                self.set_trailer(False)
            if cache:
                self.set_cache(cache)
            if curve_secret is not None:
                self.set_curve_secret(curve_secret)
        except BaseException:
            self.close()
            raise

    def set_nodrop(self, on=True, timeout=None):
        """Nodrop mode: send() waits up to timeout seconds (None: forever,
        0: not at all) for room at every matching subscriber, then refuses
        the message (mutil.WouldBlock or mutil.TimeoutError, counted in
        stats()['dropped']). on=False: lossy (the default)."""
        check(lib.mu_pub_set_nodrop(self._p, 1 if on else 0, timeout_ms(timeout)))

    def set_cache(self, topics):
        """Last-value cache of up to topics topics (0: off; at most 2**24),
        before the first send. Raises mutil.InvalidError when too large or
        after a send."""
        if isinstance(topics, bool) or not isinstance(topics, int):
            raise TypeError('topics must be an int, not %s' % type(topics).__name__)
        if topics < 0:
            raise errors.InvalidError(lib.MU_EINVAL, 'topics must be >= 0, not %d' % topics)
        check(lib.mu_pub_set_cache(self._p, topics))

    def set_trailer(self, on=True):
        """on=False: plain two-frame messages [topic][payload], as a plain
        ZeroMQ SUB expects, cheaper per message; subscribers then count no
        gaps (missed) and see no replay flag, so the cache is refused with
        it. Before the first send. Raises mutil.InvalidError after a send
        or (off) with the cache on."""
        check(lib.mu_pub_set_trailer(self._p, 1 if on else 0))

    def send(self, topic, data):
        """Publishes data (bytes-like or str as UTF-8) on topic (bytes-like
        or str, at most MAX_TOPIC bytes) to every subscriber of a matching
        prefix; with none, counts it as filtered and returns. Raises
        mutil.InvalidError (topic too long), mutil.ProtocolError (data over
        MAX_MESSAGE), mutil.WouldBlock / mutil.TimeoutError (nodrop mode:
        dropped), TypeError for other types."""
        p = self._ptr
        if p is None:
            raise _closed(self)
        if type(topic) is not bytes:
            topic = _topic(topic)
        if type(data) is not bytes:
            data = _payload(data)
        rc = _pub_send(p, topic, len(topic), data, len(data))
        if rc:
            check(rc)

    def handle(self, timeout=None):
        """Reads the subscriptions that arrived, waiting up to timeout
        seconds (None: forever, 0: not at all) for the first, and answers
        them from the cache. Returns the number read (>= 1). Raises
        mutil.WouldBlock (timeout 0, none) or mutil.TimeoutError."""
        while True:
            rc = lib.mu_pub_handle(self._p, timeout_ms(timeout))
            if rc != lib.MU_EINTR:  # Python's handler ran and did not raise
                return check(rc)

    def wait_subscribed(self, prefix, timeout=None, subscribed=True):
        """Reads subscriptions (handle()) until prefix is subscribed (or no
        longer, with subscribed=False). Raises mutil.TimeoutError after
        timeout seconds (None: forever). A publisher that connected to a
        bound Subscriber gets its subscriptions only once that subscriber
        calls recv() or subscribe() (doc/pubsub.md)."""
        prefix = _topic(prefix, 'prefix')
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.is_subscribed(prefix) != subscribed:
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                raise errors.from_code(lib.MU_ETIMEDOUT, 'prefix %r not %s after %gs'
                                       % (bytes(prefix), 'subscribed' if subscribed
                                          else 'unsubscribed', timeout))
            try:
                self.handle(left)
            except (errors.TimeoutError, errors.WouldBlock):
                pass

    @property
    def subscriptions(self):
        """The number of distinct prefixes subscribed now, as far as the
        subscriptions read so far tell."""
        return lib.mu_pub_subscriptions(self._p)

    def is_subscribed(self, prefix):
        """True when prefix (bytes-like or str) is subscribed now."""
        prefix = _topic(prefix, 'prefix')
        return bool(lib.mu_pub_is_subscribed(self._p, prefix, len(prefix)))

    def __contains__(self, prefix):
        return self.is_subscribed(prefix)

    def stats(self):
        """The counters as a dict: sent, filtered, dropped, bytes_sent,
        subscribes, unsubscribes, replays, evicted, auth_failures."""
        return stats(lib.mu_pub_stats, self._p, 'mu_pub_stats_t')

    def __repr__(self):
        if self._ptr is None:
            return '<mutil.Publisher closed>'
        return '<mutil.Publisher %r subscriptions=%d>' % (self.endpoint, self.subscriptions)


class Subscriber(ReceiveIterable, _Endpoints, Handle):
    """A topic subscriber (SUB), subscribed to nothing until subscribe().
    Keywords with the C defaults: hwm=1000 (messages queued before drops,
    0: no limit), curve_secret=None (set_curve_secret), subscribe=() (an
    iterable of prefixes to subscribe to now).

    Raises TypeError / ValueError for bad arguments, mutil.Error when
    libmutil cannot create it. Close with close() or `with`. Belongs to one
    thread at a time."""

    _ctype = 'mu_sub_t'
    _destroy = lib.mu_sub_destroy
    _fn = 'mu_sub_'

    def __init__(self, *, hwm=1000, curve_secret=None, subscribe=()):
        super().__init__(check_ptr(lib.mu_sub_new()))
        self._msg = ffi.new('mu_sub_msg_t *')
        try:
            self.set_hwm(hwm)
            if curve_secret is not None:
                self.set_curve_secret(curve_secret)
            if isinstance(subscribe, (str, bytes)):
                raise TypeError('subscribe must be an iterable of prefixes, not one prefix')
            for prefix in subscribe:
                self.subscribe(prefix)
        except BaseException:
            self.close()
            raise

    def subscribe(self, prefix=b''):
        """Subscribes to every topic starting with prefix (bytes-like or
        str; b'' is every topic). Subscriptions are counted: twice needs
        two unsubscribes. Raises mutil.InvalidError over MAX_TOPIC bytes,
        TypeError for other types."""
        prefix = _topic(prefix, 'prefix')
        check(lib.mu_sub_subscribe(self._p, prefix, len(prefix)))

    def unsubscribe(self, prefix=b''):
        """Drops one subscription to prefix. Raises mutil.NotFoundError when
        it is not subscribed."""
        prefix = _topic(prefix, 'prefix')
        check(lib.mu_sub_unsubscribe(self._p, prefix, len(prefix)))

    def recv(self, timeout=None):
        """The next Message(topic, data, replay), waiting up to timeout
        seconds (None: forever, 0: not at all). Raises mutil.WouldBlock
        (timeout 0, nothing there) or mutil.TimeoutError. A signal
        interrupts the wait only when its handler raises (PEP 475)."""
        p = self._ptr
        if p is None:
            raise _closed(self)
        m = self._msg
        rc = _sub_recv(p, m, -1 if timeout is None else timeout_ms(timeout))
        if rc:
            if rc == lib.MU_EINTR:  # Python's handler ran and did not raise
                return self.recv(timeout)
            check(rc)
        return _new_message(Message, (_buffer(m.topic, m.topic_size)[:],
                                      _buffer(m.data, m.size)[:], m.replay == 1))

    def stats(self):
        """The counters as a dict: received, bytes_received, missed (gaps
        in a topic's sequence), duplicates, malformed, auth_failures."""
        return stats(lib.mu_sub_stats, self._p, 'mu_sub_stats_t')

    def __repr__(self):
        if self._ptr is None:
            return '<mutil.Subscriber closed>'
        return '<mutil.Subscriber %r>' % self.endpoint


class Proxy(Handle):
    """A pub/sub proxy: an upstream side (XSUB) towards publishers and a
    downstream side (XPUB) towards subscribers; once started it forwards
    messages down and the union of the subscriptions up, in a thread of
    its own. Configure and bind/connect both sides, then start(); close()
    (or leaving `with`) stops it. Sides are Side members or 'upstream' /
    'downstream'.

    Keywords: hwm=None (both sides' high-water mark; None: libzmq's 1000,
    0: no limit), curve_secret=None (the same secret on both sides; see
    set_curve_secret for one side), ws=None (a dict of set_ws keywords: a
    WebSocket front, e.g. ws={'port': 0, 'allow_publish': True}). Raises
    TypeError / ValueError for bad arguments."""

    _ctype = 'mu_proxy_t'
    _destroy = lib.mu_proxy_destroy
    Side = Side
    UPSTREAM, DOWNSTREAM = Side.UPSTREAM, Side.DOWNSTREAM

    def __init__(self, *, hwm=None, curve_secret=None, ws=None):
        super().__init__(check_ptr(lib.mu_proxy_new()))
        self._started = False
        try:
            if hwm is not None:
                check(lib.mu_proxy_set_hwm(self._p, _count(hwm, 'hwm')))
            if curve_secret is not None:
                for side in Side:
                    self.set_curve_secret(side, curve_secret)
            if ws is not None:
                if not isinstance(ws, dict):
                    raise TypeError('ws must be a dict of set_ws keywords, not %s'
                                    % type(ws).__name__)
                self.set_ws(**ws)
        except BaseException:
            self.close()
            raise

    def set_curve(self, side, server_keys=None, allow=None, client_keys=None,
                  server_public=None):
        """CURVE for one side, as Publisher.set_curve; before start()."""
        _curve(lib.mu_proxy_set_curve, self._p, (_enum(Side, side, 'side'),), server_keys,
               allow, client_keys, server_public)

    def set_curve_secret(self, side, secret):
        """CURVE from a shared secret for one side, as
        Publisher.set_curve_secret; before start()."""
        _curve_secret(lib.mu_proxy_set_curve_secret, self._p, (_enum(Side, side, 'side'),),
                      secret)

    def bind(self, side, endpoint):
        """Binds side to a tcp:// or ipc:// endpoint, before start().
        Returns the bound tcp port (0 for ipc). Raises
        mutil.ConnectionError (in use), mutil.InvalidError (a bad endpoint,
        or after start)."""
        return check(lib.mu_proxy_bind(self._p, _enum(Side, side, 'side'),
                                       to_cstr(endpoint, 'endpoint')))

    def connect(self, side, endpoint):
        """Connects side to a tcp:// or ipc:// endpoint, before start().
        Raises mutil.InvalidError (a bad endpoint, after start)."""
        check(lib.mu_proxy_connect(self._p, _enum(Side, side, 'side'),
                                   to_cstr(endpoint, 'endpoint')))

    def endpoint(self, side):
        """The last endpoint bound on side ('' when none)."""
        return ffi.string(lib.mu_proxy_endpoint(self._p, _enum(Side, side, 'side'))).decode()

    def set_ws(self, port=0, *, host=None, cert_file=None, key_file=None, origin=None,
               max_message=0, queue_max=0, overflow='disconnect', ping_interval=None,
               ping_timeout=None, allow_publish=False, max_clients=0, max_prefixes=0):
        """Adds a WebSocket front (JSON subscribe / unsubscribe / publish,
        include/mu_pubsub.h), listening on host (None: 127.0.0.1) and port
        (0: any free one) when this returns; before start(), once. wss://
        with cert_file and key_file (PEM); origin: the Origin clients must
        send; max_message, queue_max: bytes (0: 1 MiB each); overflow:
        'disconnect' or 'drop' (a client over queue_max is closed, or
        loses its oldest messages); ping_interval / ping_timeout: seconds
        (None: 20 / 10; ping_interval=0: no pings); allow_publish: clients
        may publish; max_clients, max_prefixes (0: 4096, 1024). Returns
        the port. Raises mutil.InvalidError (a bad setting, after start,
        twice), mutil.ConnectionError (port in use), TypeError /
        ValueError."""
        ws = ffi.new('mu_proxy_ws_t *')
        keep = []  # the C strings live until the call returns (copied)
        for name, value in (('host', host), ('cert_file', cert_file), ('key_file', key_file),
                            ('origin', origin)):
            if value is not None:
                keep.append(ffi.new('char[]', to_cstr(value, name)))
                setattr(ws, name, keep[-1])
        ws.port = _count(port, 'port')
        ws.max_message = _size(max_message, 'max_message')
        ws.queue_max = _size(queue_max, 'queue_max')
        overflows = {'disconnect': lib.MU_PROXY_WS_DISCONNECT,
                     'drop': lib.MU_PROXY_WS_DROP_OLDEST}
        if overflow not in overflows:
            raise ValueError("overflow must be 'disconnect' or 'drop', not %r" % (overflow,))
        ws.overflow = overflows[overflow]
        if ping_interval is not None:
            ws.ping_interval_ms = -1 if ping_interval == 0 else max(1, timeout_ms(ping_interval))
        if ping_timeout is not None:
            ws.ping_timeout_ms = max(1, timeout_ms(ping_timeout))
        ws.allow_publish = bool(allow_publish)
        ws.max_clients = _count(max_clients, 'max_clients')
        ws.max_prefixes = _count(max_prefixes, 'max_prefixes')
        return check(lib.mu_proxy_set_ws(self._p, ws))

    @property
    def ws_port(self):
        """The WebSocket front's port (0 without one)."""
        return lib.mu_proxy_ws_port(self._p)

    def ws_stats(self):
        """The WebSocket front's counters as a dict (all 0 without one):
        clients, accepted, refused, refused_origin, messages_in,
        messages_out, bytes_out, forwarded, too_large, dropped, slow,
        oversized, ping_timeouts, subscribes, unsubscribes, publishes,
        errors, malformed, denied, missed, duplicates, accept_failures."""
        return stats(lib.mu_proxy_ws_stats, self._p, 'mu_proxy_ws_stats_t')

    def start(self):
        """Starts forwarding in the proxy's thread. Returns self. Raises
        mutil.InvalidError when already started."""
        check(lib.mu_proxy_start(self._p))
        self._started = True
        return self

    @property
    def running(self):
        """True between start() and close()."""
        return self._started and self._ptr is not None

    def stats(self):
        """The counters as a dict (readable while running): messages and
        bytes forwarded downstream, subscribes forwarded upstream,
        unsubscribes, auth_failures (both sides' binds)."""
        return stats(lib.mu_proxy_stats, self._p, 'mu_proxy_stats_t')

    def __repr__(self):
        if self._ptr is None:
            return '<mutil.Proxy closed>'
        return '<mutil.Proxy %s up=%r down=%r>' % ('running' if self.running else 'idle',
                                                    self.endpoint(Side.UPSTREAM),
                                                    self.endpoint(Side.DOWNSTREAM))


class AsyncPublisher(Publisher):
    """mutil.aio.Publisher: a Publisher whose handle() and wait_subscribed()
    are coroutines driven by the running loop (the socket's fd). send()
    stays a plain call: it does not wait unless nodrop mode asks it to."""

    async def handle(self, timeout=None):
        """Reads the subscriptions that arrived, awaiting the first up to
        timeout seconds (None: forever). Returns the number read. Raises
        mutil.TimeoutError."""
        fd = lib.mu_pub_fd(self._p)
        return await _aio.retry(self._handle_now, fd, timeout)

    def _handle_now(self):
        return Publisher.handle(self, 0)

    async def wait_subscribed(self, prefix, timeout=None, subscribed=True):
        """As Publisher.wait_subscribed, awaiting subscriptions."""
        prefix = _topic(prefix, 'prefix')
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.is_subscribed(prefix) != subscribed:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            await self.handle(left)


class AsyncSubscriber(_aio.RecvIteration, Subscriber):
    """mutil.aio.Subscriber: a Subscriber whose recv() is a coroutine
    driven by the running loop, and `async for msg in sub`."""

    async def recv(self, timeout=None):
        """The next Message, awaiting it up to timeout seconds (None:
        forever). Raises mutil.TimeoutError, and as Subscriber.recv."""
        fd = lib.mu_sub_fd(self._p)
        return await _aio.retry(self._recv_now, fd, timeout)

    def _recv_now(self):
        return Subscriber.recv(self, 0)

