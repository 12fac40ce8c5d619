# SPDX-License-Identifier: MPL-2.0
# Copyright (c) 2026 the mutil authors
"""mutil.Flow: multi-stage, multi-process dataflow (mu_flow.h) defined in
Python.

A flow is an ordered list of stages, each run by forked runner processes
under a supervisor process: sources (a Python function or generator called
in a loop, or inherited descriptors read as mu_pipe frames), worker stages
(startup, then a handler per message, teardown during the drain) and
edges: TCP (clients send or receive 4-byte little-endian length-prefixed
frames) or WebSocket (transport=Transport.WS: one message per WebSocket
message; browsers can feed a flow and receive its outputs).

    flow = mutil.Flow('double')
    flow.add_source('numbers', lambda index: (b'%d' % i for i in range(10)))
    flow.add_worker('double', lambda data, out: out.emit(b'%d' % (2 * int(data))), n=4)
    flow.add_worker('print', lambda data, out: print(data.decode()))
    flow.run()

Callbacks run in the forked runner processes, so what they change in
Python objects stays in that runner (send results downstream, to an edge's
clients, or out through a pipe or file). start() forks with the GIL held
and redoes the interpreter's after-fork step in every runner before any
bytecode, as os.fork() does (mutil/_flow_fork.py), so a flow may be started
while other Python threads run; a runner's C code runs without the GIL, so
Python threads inside a runner (Mode.THREAD handlers) work too. Runners
print line-buffered (they end with _exit).

Callbacks (every one may raise: the exception is printed with its
traceback, counted in Flow.exceptions, and libmutil gets an error code and
goes on as it does for a failing C callback):
  startup(index) -> state          once per worker process; raising makes the
                                   process exit (a crash: it is restarted)
  handler(data: bytes, out)        per message; out.emit(bytes), out.state,
                                   out.index; raising counts an error
  teardown(out)                    once per worker process in a drain
  source(index, out) -> more       called in a loop while it returns true;
    or a generator function        source(index) whose yielded bytes are emitted
  filter(index, data) -> bool      broadcast link: does runner index take it
  key(data) -> int | bytes | str   keyed link: runner = key % runners (bytes
                                   and str keys are hashed stably, blake2b)
  from_client(data, out), from_internal(data, out)   edge hooks
  edge filter(data) -> bool        an edge's share of a broadcast link

sys.exit() in a callback ends that runner process with the exit status (a
crash for the supervisor, which restarts it), as exit() in C would.
"""
import asyncio
import enum
import functools
import hashlib
import inspect
import os
import signal
import threading
import time

from . import errors
from ._callback import SharedCounter, code_of, report
from ._flow_fork import call_forking
from ._handle import Handle
from ._lib import check, ffi, lib, timeout_ms, to_bytes, to_cstr, to_enum as _enum
from .bus import Mode, _mode

_SLICE_MS = 100  # wait() hands the flow back between slices (signals, other threads)
_STATES = {lib.MU_FLOW_IDLE: 'idle', lib.MU_FLOW_RUNNING: 'running',
           lib.MU_FLOW_FINISHED: 'finished', lib.MU_FLOW_FAILED: 'failed'}


class Link(enum.IntEnum):
    """Routing of the link into a stage (mu_flow_link_t)."""
    BALANCE = lib.MU_FLOW_BALANCE
    BROADCAST = lib.MU_FLOW_BROADCAST
    KEYED = lib.MU_FLOW_KEYED


class Overflow(enum.IntEnum):
    """What an outbound edge does with a client over its queue_max."""
    DISCONNECT = lib.MU_FLOW_EDGE_DISCONNECT
    DROP_OLDEST = lib.MU_FLOW_EDGE_DROP_OLDEST


class Transport(enum.IntEnum):
    """How an edge talks to its clients (mu_flow_edge_transport_t)."""
    TCP = lib.MU_FLOW_EDGE_TCP
    WS = lib.MU_FLOW_EDGE_WS


def _callable(fn, what, optional=False):
    if fn is None and optional:
        return None
    if not callable(fn):
        raise TypeError('%s must be callable, not %s' % (what, type(fn).__name__))
    return fn


def _int_in(value, low, high, what):
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError('%s must be an int, not %s' % (what, type(value).__name__))
    if not low <= value <= high:
        raise ValueError('%s must be from %d to %d, not %d' % (what, low, high, value))
    return value


def _iterable_source(source):
    """True for source(index) -> iterable, False for source(index, out) -> more."""
    if inspect.isgeneratorfunction(source):
        return True
    try:
        params = inspect.signature(source).parameters.values()
    except (TypeError, ValueError):
        return False
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
                  and p.default is p.empty]
    return len(positional) == 1


def _stable_key(key):
    """A keyed link's key as an unsigned 64-bit int, the same in every process."""
    if isinstance(key, bool) or not isinstance(key, (int, bytes, bytearray, str)):
        raise TypeError('a key function must return int, bytes or str, not %s'
                        % type(key).__name__)
    if isinstance(key, int):
        return key & 0xFFFFFFFFFFFFFFFF
    digest = hashlib.blake2b(to_bytes(key), digest_size=8).digest()
    return int.from_bytes(digest, 'little')


class Emitter:
    """Where a callback sends its outputs: downstream, or to the clients of
    an outbound edge. Valid during the call that received it only.

    .index   the runner's index (worker stages, sources), else None
    .state   what the stage's startup returned (worker stages), else None"""

    __slots__ = ('_out', 'index', 'state')

    def __init__(self, out, index=None, state=None):
        self._out = out
        self.index = index
        self.state = state

    def _ptr(self):
        if self._out is None:
            raise errors.InvalidError(lib.MU_EBADF, 'emitter used after its call returned')
        return self._out

    def emit(self, data):
        """Sends one message (bytes-like, or str as UTF-8; copied). Waits
        while the destination is full unless the stage drops. Raises
        mutil.ClosedError (MU_EPIPE) at the last stage (nothing
        downstream), mutil.Error (MU_EINTR) when the flow is stopped hard,
        mutil.InvalidError after the call returned, TypeError."""
        out = self._ptr()
        data = to_bytes(data)
        check(lib.mu_flow_emit(out, data, len(data)))

    def emit_event(self, event, data=b''):
        """Emits a named event to the runner's in-process handlers
        (Flow.add_inproc). Returns the number of handlers reached. Raises
        mutil.InvalidError (not a worker stage's emitter, or a thread
        handler's), the first error of an inline handler (mutil.Error)."""
        out = self._ptr()
        data = to_bytes(data)
        return check(lib.mu_flow_emit_event(out, to_cstr(event, 'event'), data, len(data)))


class _Runtime:
    """Per-process facts of one stage (each runner process runs one runner)."""
    __slots__ = ('index', 'state', 'gen')

    def __init__(self):
        self.index = None
        self.state = None
        self.gen = None


class Flow(Handle):
    """A dataflow definition, then the running flow (mu_flow_t).

    Defining methods return the flow (so calls chain) and raise
    mutil.InvalidError for what libmutil refuses (empty or duplicate name,
    n out of 1..256, unknown stage, a setting after start), TypeError for a
    wrong type, ValueError for a bad value. A closed flow raises
    mutil.InvalidError. Timeouts are seconds (None: no limit)."""

    _ctype = 'mu_flow_t'
    _destroy = lib.mu_flow_destroy

    def __init__(self, name):
        """Creates an empty flow named name (str; at most 31 bytes shown in
        process titles). Raises mutil.InvalidError for ''."""
        self._name = to_cstr(name, 'name')
        super().__init__(None)
        self._keep = []  # cffi callbacks and C strings, alive while C may use them
        self._runners = 0
        self._stages = 0
        self._lock = threading.RLock()
        self._counter = SharedCounter()
        self._started = False
        self._ptr = _lib_new(self._name)

    def __repr__(self):
        state = 'closed' if self.closed else ('started' if self._started else 'defined')
        return '<mutil.Flow %r %s>' % (self._name.decode('utf-8', 'replace'), state)

    @property
    def name(self):
        """The flow's name (str)."""
        return self._name.decode('utf-8', 'replace')

    @property
    def exceptions(self):
        """Python exceptions raised by this flow's callbacks so far, in every
        runner process (each was printed to stderr)."""
        return self._counter.count

    @property
    def pid(self):
        """The supervisor's pid (0 before start)."""
        return lib.mu_flow_pid(self._p)

    # ---- callbacks --------------------------------------------------------------

    def _callback(self, ctype, body, where, failed):
        """A cffi callback of ctype running body(*args) in a runner; an
        exception is reported, counted and turned into failed(exc)."""
        counter = self._counter
        label = "flow '%s' %s" % (self.name, where)

        def run(*args):
            try:
                return body(*args)
            except SystemExit as exc:  # exit() in C ends the process: so does sys.exit()
                _exit_runner(exc)
            except BaseException as exc:  # noqa: B902 - nothing may unwind into C
                report(exc, label)
                counter.add()
                return failed(exc)

        def on_error(exc_type, exc, tb):  # a conversion of the result failed
            report(exc, label)
            counter.add()
            return failed(exc)

        cb = ffi.callback(ctype, run, onerror=on_error)
        self._keep.append(cb)
        return cb

    def _code_callback(self, ctype, body, where):
        return self._callback(ctype, body, where, code_of)

    # ---- stages -----------------------------------------------------------------

    def _count_stage(self, n):
        self._stages += 1
        self._runners += n

    def add_worker(self, name, handler, n=1, *, startup=None, teardown=None):
        """Appends a worker stage of n processes. handler(data, out) runs per
        message; startup(index) once per process first (its return value is
        out.state); teardown(out) once per process during a drain, where
        what it emits still flows on. Returns the flow."""
        _callable(handler, 'handler')
        _callable(startup, 'startup', optional=True)
        _callable(teardown, 'teardown', optional=True)
        _int_in(n, -2**31, 2**31 - 1, 'n')
        rt = _Runtime()

        def on_startup(arg, index, state_p):
            rt.index = index
            if startup is not None:
                rt.state = startup(index)
            return 0

        def on_message(state, data, size, out):
            em = Emitter(out, rt.index, rt.state)
            try:
                handler(ffi.buffer(data, size)[:], em)
            finally:
                em._out = None
            return 0

        where = "stage '%s'" % name
        c_startup = self._code_callback('mu_flow_startup_fn *', on_startup, where + ' startup')
        c_handler = self._code_callback('mu_flow_handler_fn *', on_message, where + ' handler')
        stage = to_cstr(name, 'stage name')
        check(lib.mu_flow_add_worker_stage(self._p, stage, n, c_startup, c_handler, ffi.NULL))
        self._count_stage(n)
        if teardown is not None:
            def on_teardown(state, out):
                em = Emitter(out, rt.index, rt.state)
                try:
                    teardown(em)
                finally:
                    em._out = None
                return 0
            c_teardown = self._code_callback('mu_flow_teardown_fn *', on_teardown,
                                             where + ' teardown')
            check(lib.mu_flow_set_teardown(self._p, stage, c_teardown))
        return self

    def add_source(self, name, source, n=1):
        """Appends a source stage (the first stage only) of n runners. source
        is a generator function, or any function of one argument,
        source(index) returning an iterable whose items (bytes or str) are
        emitted (None: nothing this time) until it ends; or a function
        source(index, out) called while it returns true. A drain
        request ends the loop between two calls. Returns the flow."""
        _callable(source, 'source')
        _int_in(n, -2**31, 2**31 - 1, 'n')
        rt = _Runtime()
        if _iterable_source(source):
            def body(arg, index, out):
                if rt.gen is None:
                    rt.gen = iter(source(index))
                try:
                    item = next(rt.gen)
                except StopIteration:
                    return 0
                if item is not None:
                    Emitter(out, index).emit(item)
                return lib.MU_FLOW_MORE
        else:
            def body(arg, index, out):
                em = Emitter(out, index)
                try:
                    return lib.MU_FLOW_MORE if source(index, em) else 0
                finally:
                    em._out = None
        cb = self._code_callback('mu_flow_source_fn *', body, "source '%s'" % name)
        check(lib.mu_flow_add_source(self._p, to_cstr(name, 'stage name'), n, cb, ffi.NULL))
        self._count_stage(n)
        return self

    def add_fd_source(self, name, fds):
        """Appends a source stage (the first stage only) with one runner per
        descriptor, each reading mu_pipe frames (4-byte little-endian length,
        payload) until EOF. Ints are taken over (the flow closes them at
        start); objects with fileno() are duplicated, so their owner still
        closes them. EOF comes once every write end is closed: close yours
        before start(). Returns the flow."""
        fds = list(fds)
        if not fds:
            raise ValueError('fds must not be empty')
        owned = []
        for fd in fds:
            if hasattr(fd, 'fileno'):
                owned.append(os.dup(fd.fileno()))
            elif isinstance(fd, int) and not isinstance(fd, bool):
                owned.append(fd)
            else:
                raise TypeError('fds must be ints or have fileno(), not %s' % type(fd).__name__)
        arr = ffi.new('int[]', owned)
        check(lib.mu_flow_add_fd_source(self._p, to_cstr(name, 'stage name'), arr, len(owned)))
        self._count_stage(len(owned))
        return self

    def add_edge(self, name, host='127.0.0.1', port=0, *, listen=True, from_client=None,
                 from_internal=None, filter=None, max_frame=1024 * 1024,
                 max_clients=lib.MU_FLOW_EDGE_MAX_CLIENTS, idle_timeout=60.0,
                 queue_max=lib.MU_FLOW_EDGE_QUEUE_MAX, overflow=Overflow.DISCONNECT,
                 transport=Transport.TCP, **ws):
        """Adds a TCP edge runner to edge stage `name` (the last stage when it
        is an edge stage of that name, else a new stage). listen on
        host:port (0: an ephemeral port, see edge_port) or connect to it.
        As a first stage it forwards what clients send downstream
        (from_client(data, out); None: as is); later, what comes from
        upstream to every client (from_internal(data, out); None: as is),
        taking from a broadcast link what filter(data) accepts (None: all).
        Client limits: max_frame bytes, max_clients, idle_timeout seconds
        (None: never), queue_max bytes per client, then overflow
        (Overflow.DISCONNECT or DROP_OLDEST, or their names). transport
        Transport.WS (or 'WS') makes a WebSocket edge, whose settings are
        keywords named as mu_flow_edge_t's ws_ fields without the prefix:
        path, origin, cert_file, key_file, tls, ca_file, tls_insecure,
        binary, ping_interval (seconds, None: no pings). Returns the
        flow."""
        for fn, what in ((from_client, 'from_client'), (from_internal, 'from_internal'),
                         (filter, 'filter')):
            _callable(fn, what, optional=True)
        edge = ffi.new('mu_flow_edge_t *')
        c_host = ffi.new('char[]', to_cstr(host, 'host'))
        self._keep.append(c_host)
        edge.host = c_host
        edge.port = _int_in(port, 0, 65535, 'port')
        edge.listen = bool(listen)
        edge.max_frame = _int_in(max_frame, 1, 2**32 - 1, 'max_frame')
        edge.max_clients = _int_in(max_clients, 1, 65536, 'max_clients')
        edge.idle_timeout_ms = -1 if idle_timeout is None else max(1, timeout_ms(idle_timeout))
        edge.queue_max = _int_in(queue_max, 1, 2**63 - 1, 'queue_max')
        edge.overflow = _enum(Overflow, overflow, 'overflow')
        edge.transport = _enum(Transport, transport, 'transport')
        self._set_ws(edge, ws)
        where = "edge '%s'" % name
        if from_client is not None:
            edge.from_client = self._forward(from_client, where + ' from_client')
        if from_internal is not None:
            edge.from_internal = self._forward(from_internal, where + ' from_internal')
        if filter is not None:
            edge.filter = self._callback(
                'mu_flow_edge_filter_fn *',
                lambda arg, data, size: bool(filter(ffi.buffer(data, size)[:])),
                where + ' filter', lambda exc: False)
        stage = to_cstr(name, 'stage name')
        is_new = not self._has_last_edge(stage)
        check(lib.mu_flow_add_edge(self._p, stage, edge))
        if is_new:
            self._count_stage(0)
        self._runners += 1
        self._last_edge = stage
        return self

    _WS_STRINGS = ('path', 'origin', 'cert_file', 'key_file', 'ca_file')
    _WS_FLAGS = ('tls', 'tls_insecure', 'binary')

    def _set_ws(self, edge, ws):
        """Sets the ws_ fields of edge from the keywords ws (strings kept
        alive with the flow)."""
        for key, value in ws.items():
            if key in self._WS_STRINGS:
                if value is not None:
                    c_value = ffi.new('char[]', to_cstr(os.fspath(value), key))
                    self._keep.append(c_value)
                    setattr(edge, 'ws_' + key, c_value)
            elif key in self._WS_FLAGS:
                setattr(edge, 'ws_' + key, bool(value))
            elif key == 'ping_interval':
                edge.ws_ping_interval_ms = -1 if value is None else max(1, timeout_ms(value))
            else:
                raise TypeError("add_edge() got an unexpected keyword argument '%s'" % key)

    def _has_last_edge(self, stage):
        return getattr(self, '_last_edge', None) == stage

    def _forward(self, fn, where):
        def body(arg, data, size, out):
            em = Emitter(out)
            try:
                fn(ffi.buffer(data, size)[:], em)
            finally:
                em._out = None
            return 0
        return self._code_callback('mu_flow_forward_fn *', body, where)

    def add_inproc(self, stage, event, handler, mode=Mode.INLINE, queue_max=0):
        """Subscribes handler(event: str, data: bytes, out) to event ('*': all)
        on the bus every runner of worker stage `stage` owns; out.emit sends
        downstream. The stage's handler emits events with
        out.emit_event(event, data). mode: Mode.INLINE (in the runner's
        thread, during emit_event) or Mode.THREAD (a thread of its own, fed
        by a queue of queue_max, 0: 1024; the runner waits for it in its
        drain). Returns the flow."""
        _callable(handler, 'handler')
        mode = _mode(mode)

        def body(arg, c_event, data, size, out):
            em = Emitter(out)
            try:
                handler(ffi.string(c_event).decode('utf-8', 'replace'),
                        ffi.buffer(data, size)[:], em)
            finally:
                em._out = None
            return 0
        cb = self._code_callback('mu_flow_inproc_fn *', body,
                                 "stage '%s' in-process handler" % stage)
        check(lib.mu_flow_add_inproc(self._p, to_cstr(stage, 'stage'), to_cstr(event, 'event'),
                                     mode, cb, ffi.NULL, _int_in(queue_max, 0, 2**32, 'queue_max')))
        return self

    # ---- links and settings -------------------------------------------------------

    def set_link(self, stage, kind, *, filter=None, key=None):
        """Sets the link into `stage` (not the first): Link.BALANCE (default),
        Link.BROADCAST with filter(index, data) -> bool (None: every runner;
        edges use their own filter) or Link.KEYED with key(data) (required).
        Names ('keyed') work too. Returns the flow."""
        kind = _enum(Link, kind, 'kind')
        _callable(filter, 'filter', optional=True)
        _callable(key, 'key', optional=True)
        if kind == Link.KEYED and key is None:
            raise ValueError('a keyed link needs a key function')
        where = "link into '%s'" % stage
        c_filter = c_key = ffi.NULL
        if filter is not None and kind == Link.BROADCAST:
            c_filter = self._callback(
                'mu_flow_filter_fn *',
                lambda arg, index, data, size: bool(filter(index, ffi.buffer(data, size)[:])),
                where + ' filter', lambda exc: False)
        if kind == Link.KEYED:
            c_key = self._callback(
                'mu_flow_key_fn *',
                lambda arg, data, size: _stable_key(key(ffi.buffer(data, size)[:])),
                where + ' key', lambda exc: 0)
        check(lib.mu_flow_set_link(self._p, to_cstr(stage, 'stage'), kind, c_filter, c_key,
                                   ffi.NULL))
        return self

    def set_drop(self, stage, drop=True):
        """Lets `stage` drop (and count) a message when every target is full
        instead of waiting. Returns the flow."""
        check(lib.mu_flow_set_drop(self._p, to_cstr(stage, 'stage'), bool(drop)))
        return self

    def set_at_least_once(self, stage, on=True):
        """At-least-once delivery on the (balanced) link into `stage`: what a
        runner of it held when it died is sent again (duplicates possible,
        losses on that link not). Returns the flow."""
        check(lib.mu_flow_set_at_least_once(self._p, to_cstr(stage, 'stage'), bool(on)))
        return self

    def set_endpoint(self, stage, host, base_port):
        """Pins `stage`'s inputs: runner i binds tcp://host:(base_port + i),
        so a flow split over processes or hosts reaches it. Returns the flow."""
        check(lib.mu_flow_set_endpoint(self._p, to_cstr(stage, 'stage'), to_cstr(host, 'host'),
                                       _int_in(base_port, 1, 65535, 'base_port')))
        return self

    def set_local(self, stage, local=True):
        """Says whether this process runs `stage` (default: every stage), to
        split one definition over processes. Returns the flow."""
        check(lib.mu_flow_set_local(self._p, to_cstr(stage, 'stage'), bool(local)))
        return self

    def set_curve(self, server=None, client=None, *, secret=None):
        """CURVE on the pinned (tcp://) links: server and client keypairs
        (mutil key objects, with secret keys), or one shared passphrase
        `secret` (str or bytes, >= 8 bytes) from which both are derived as
        mu_keys_from_secret does. Every process of a split flow sets the
        same. Raises mutil.InvalidError (public-only keys, a short secret,
        started). Returns the flow."""
        if secret is not None:
            if server is not None or client is not None:
                raise TypeError('give server and client keys, or secret, not both')
            secret = to_bytes(secret, 'secret')
            made = [_keys_from_secret(secret, role) for role in
                    (lib.MU_KEYS_SERVER, lib.MU_KEYS_CLIENT)]
            try:
                check(lib.mu_flow_set_curve(self._p, made[0], made[1]))
            finally:
                for k in made:
                    lib.mu_keys_destroy(ffi.new('mu_keys_t **', k))
            return self
        if server is None or client is None:
            raise TypeError('set_curve needs server and client keys, or secret=')
        check(lib.mu_flow_set_curve(self._p, _keys_ptr(server), _keys_ptr(client)))
        return self

    def add_pipeline(self, name, fail_flow=False):
        """Starts pipeline `name` (mu_flow_add_pipeline): the stages added
        from now on belong to it, up to the next add_pipeline; each pipeline
        runs from its own source, ends by itself and, when it fails, stops
        only itself, or (fail_flow) the whole flow. Stats rows name their
        pipeline. Returns the flow."""
        check(lib.mu_flow_add_pipeline(self._p, to_cstr(name, 'name')))
        if fail_flow:
            check(lib.mu_flow_set_pipeline_policy(self._p, to_cstr(name, 'name'),
                                                  lib.MU_FLOW_PIPELINE_FAIL_FLOW))
        return self

    def set_restart_limit(self, max_restarts=5, window=5.0):
        """More than max_restarts restarts of one stage within window seconds
        fail the flow (wait raises mutil.ProtocolError, MU_ELIMIT). Returns
        the flow."""
        window_ms = timeout_ms(window)
        check(lib.mu_flow_set_restart_limit(self._p, _int_in(max_restarts, -2**31, 2**31 - 1,
                                                             'max_restarts'), window_ms))
        return self

    def set_drain_timeout(self, seconds=10.0):
        """Drain deadline for stop(None), signals and the end of the sources.
        Returns the flow."""
        if seconds is None:
            raise ValueError('the drain timeout must be a number of seconds')
        check(lib.mu_flow_set_drain_timeout(self._p, timeout_ms(seconds)))
        return self

    # ---- running ------------------------------------------------------------------

    def start(self):
        """Binds the listening edges, forks the supervisor (which forks the
        runners) and returns once the listening WebSocket edges listen
        (a client can connect at once). Raises mutil.InvalidError (no stage, a worker
        first, an at-least-once link that is not balanced, a bad split or
        edge address, started), mutil.ConnectionError (an edge address in
        use), mutil.OSError. Holds the GIL while libmutil binds and forks
        (about a millisecond; with listening WebSocket edges, until their
        runners listen). Returns the flow."""
        with self._lock:
            check(call_forking('mu_flow_start', self._p))
            self._started = True
        return self

    def edge_port(self, stage, index=0):
        """The TCP port edge `index` (TCP or WebSocket) of stage `stage`
        listens on (after start). Raises mutil.InvalidError (no such
        listening edge, not started)."""
        return check(lib.mu_flow_edge_port(self._p, to_cstr(stage, 'stage'), index))

    def wait(self, timeout=None):
        """Waits for the end (timeout seconds; None: no limit). Returns True
        when the flow ended after a complete drain, False when it still
        runs after timeout. A failed end raises: mutil.CanceledError (a
        drain whose deadline expired), mutil.ProtocolError (MU_ELIMIT: a
        stage over its restart limit), mutil.OSError (the supervisor died);
        later calls raise the same. mutil.InvalidError: not started."""
        return self._wait(timeout, None)

    def wait_ready(self, timeout=None):
        """Waits until every runner of the flow (this process's share of a
        split flow) has been set up once: linked to the runners downstream,
        its startup hook returned, an edge listening or connecting. start()
        returns before that, and what is sent meanwhile waits (it is not
        lost): wait here before timing the first messages. timeout in
        seconds, None: no limit. Returns True once ready (or when the flow
        finished first), False when not after timeout. A failed end raises
        as wait() does, and so does a named pipeline that failed before its
        runners were ready; mutil.InvalidError: not started."""
        return self._wait(timeout, None, lib.mu_flow_wait_ready)

    def _wait(self, timeout, cancelled, wait_fn=None):
        wait_fn = wait_fn or lib.mu_flow_wait
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            slice_ms = _SLICE_MS if left is None else min(_SLICE_MS, timeout_ms(left))
            with self._lock:
                rc = wait_fn(self._p, slice_ms)
                if rc == lib.MU_ETIMEDOUT:  # only ever "still running"
                    rc = lib.MU_EAGAIN
                if rc != lib.MU_EAGAIN:
                    check(rc)
                    return True
            if (left is not None and left <= 0) or (cancelled is not None and cancelled.is_set()):
                return False

    @property
    def state(self):
        """(state, code) without waiting: state is 'idle' (not started),
        'running', 'finished' (a complete drain) or 'failed', code 0 or
        the failed end's negative code (MU_ECANCELED: the drain deadline
        expired, MU_ELIMIT, MU_EIO); never raises."""
        code = ffi.new('int *')
        with self._lock:
            st = lib.mu_flow_state(self._p, code)
        return (_STATES.get(st, 'failed'), code[0])

    @property
    def running(self):
        """True between start() and the end (a failed end raises as wait())."""
        return self._started and not self._wait(0, None)

    def stop(self, timeout=None):
        """Asks the flow to drain within timeout seconds (None: the drain
        timeout) and waits for the end. Returns None; raises as wait() does
        for a failed end."""
        ms = -1 if timeout is None else timeout_ms(timeout)
        with self._lock:
            check(lib.mu_flow_stop(self._p, ms))

    def run(self):
        """start() (unless started), then wait() for the end. Called from
        the main thread, a SIGINT (Ctrl-C) or SIGTERM meanwhile drains the
        flow (as stop() does) instead of interrupting; the previous handlers come back
        afterwards. Returns None; raises as start() and wait() do."""
        if not self._started:
            self.start()
        previous = self._forward_signals()
        try:
            self.wait()
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _forward_signals(self):
        if threading.current_thread() is not threading.main_thread():
            return {}
        pid = self.pid

        def drain(signum, frame):  # as mu_flow_run: SIGTERM to the supervisor
            os.kill(pid, signal.SIGTERM)
        previous = {}
        for sig in (signal.SIGINT, signal.SIGTERM):
            previous[sig] = signal.signal(sig, drain)
        return previous

    async def wait_async(self, timeout=None):
        """wait() as a coroutine. The flow has no descriptor to poll, so this
        waits on a thread of the loop's default executor; cancelling the
        coroutine ends that wait within 0.1 s."""
        return await self._wait_in_executor(timeout, lib.mu_flow_wait)

    async def wait_ready_async(self, timeout=None):
        """wait_ready() as a coroutine (on a thread of the loop's default
        executor; cancelling the coroutine ends that wait within 0.1 s)."""
        return await self._wait_in_executor(timeout, lib.mu_flow_wait_ready)

    async def _wait_in_executor(self, timeout, wait_fn):
        cancelled = threading.Event()
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(None, self._wait, timeout, cancelled, wait_fn)
        finally:
            cancelled.set()

    async def stop_async(self, timeout=None):
        """stop() as a coroutine (on the loop's default executor)."""
        return await asyncio.get_running_loop().run_in_executor(
            None, functools.partial(Flow.stop, self, timeout))

    def stats(self):
        """The statistics rows: for each stage its total (index -1), then one
        per runner, as dicts (stage, index, pid, in, out, errors, restarts,
        drops, redelivered, queue, p50_us, p99_us, clients_idle,
        clients_slow, clients, ..., pipeline: the stage's pipeline, the
        flow's name without add_pipeline). At most about 100 ms old; after the end, the
        final figures. Raises mutil.InvalidError (not started),
        mutil.TimeoutError (no answer from the supervisor within 1 s)."""
        cap = self._runners + self._stages + 1
        n = ffi.new('size_t *')
        with self._lock:
            while True:
                rows = ffi.new('mu_flow_stats_t[]', cap)
                rows[0].size = ffi.sizeof('mu_flow_stats_t')
                check(lib.mu_flow_stats(self._p, rows, cap, n))
                if n[0] <= cap:
                    break
                cap = n[0]
        return [_row(rows[i]) for i in range(n[0])]

    def stage_stats(self, stage):
        """The total row of `stage` (see stats()). Raises mutil.NotFoundError."""
        for row in self.stats():
            if row['stage'] == stage and row['index'] == -1:
                return row
        raise errors.NotFoundError(lib.MU_ENOENT, 'no stage %r' % stage)

    def close(self):
        """Destroys the flow; a running flow is killed (SIGKILL to the
        supervisor, whose runners follow it). Use stop() first to drain."""
        with self._lock:
            super().close()


_FIELDS = [name for name, _ in ffi.typeof('mu_flow_stats_t').fields if name != 'size']


_TEXT_FIELDS = ('stage', 'pipeline')


def _row(r):
    row = {name: getattr(r, name) for name in _FIELDS if name not in _TEXT_FIELDS}
    for name in _TEXT_FIELDS:
        row[name] = ffi.string(getattr(r, name)).decode('utf-8', 'replace')
    return row


class FlowFile(Flow):
    """A flow read from a flow file (JSON; doc/flow.md "Flow files"):
    mu_flow_conf_load. Its stages' handlers are external commands or
    shared-library functions, so nothing of Python runs in its runners.
    Then used as any Flow: start(), wait(), state, stats(), stop(), run()
    (adding stages to it works too). close() frees the flow and the file's
    definition. Raises mutil.InvalidError (a syntax error: the message says
    FILE:LINE:COLUMN; a wrong key or value: the key's path; an unknown
    host), mutil.NotFoundError (no such file), mutil.OSError."""

    _ctype = 'mu_flow_conf_t'
    _destroy = lib.mu_flow_conf_destroy

    def __init__(self, path, host=None):
        """Loads path (str or os.PathLike) for host `host` (one of the
        file's hosts; None when it lists none)."""
        from ._lib import check_ptr
        cpath = to_cstr(os.fspath(path), 'path')
        chost = ffi.NULL if host is None else to_cstr(host, 'host')
        Handle.__init__(self, check_ptr(lib.mu_flow_conf_load(cpath, chost)))
        self._keep = []
        self._runners = 0
        self._stages = 0
        self._lock = threading.RLock()
        self._counter = SharedCounter()
        self._started = False
        self._name = bytes(cpath) if isinstance(cpath, (bytes, bytearray)) else ffi.string(cpath)

    @property
    def _p(self):
        return lib.mu_flow_conf_flow(Handle._p.fget(self))


def _lib_new(name):
    from ._lib import check_ptr
    return check_ptr(lib.mu_flow_new(name))


def _keys_from_secret(secret, role):
    from ._lib import check_ptr
    return check_ptr(lib.mu_keys_from_secret(secret, len(secret), role))


def _keys_ptr(keys):
    """The mu_keys_t * of a key object of the binding (one with ._p)."""
    ptr = getattr(keys, '_p', None)
    if ptr is None or ffi.typeof(ptr) is not ffi.typeof('mu_keys_t *'):
        raise TypeError('keys must be mutil key objects, not %s' % type(keys).__name__)
    return ptr


def _exit_runner(exc):
    """sys.exit() in a runner callback: the runner process exits with its status."""
    code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    os._exit(code)


class AsyncFlow(Flow):
    """mutil.aio.Flow: a Flow whose wait(), wait_ready(), stop() and run() are coroutines
    (run on the loop's default executor; a flow has no pollable
    descriptor). run() does not take over signals."""

    async def wait(self, timeout=None):  # noqa: D102 - documented on Flow
        return await self.wait_async(timeout)

    async def wait_ready(self, timeout=None):  # noqa: D102 - documented on Flow
        return await self.wait_ready_async(timeout)

    async def stop(self, timeout=None):
        return await self.stop_async(timeout)

    async def run(self):
        """start(), then await wait()."""
        self.start()
        return await self.wait_async()
