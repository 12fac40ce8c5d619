# SPDX-License-Identifier: MPL-2.0
# Copyright (c) 2026 the mutil authors
"""mutil.Bus: the in-process event bus (mu_bus.h). Named events go from
emitters to subscribed Python handlers, inline (in the emitting thread,
before emit returns) or on a thread of the subscription's own fed by a
bounded queue (emit waits while it is full: back-pressure, never a drop).

    bus = mutil.Bus()

    @bus.on('price')
    def show(event, data):
        print(event, data)

    bus.on('*', archive, mode='thread')
    bus.emit('price', b'101.5')
    bus.drain()

Subscribe first, from one thread; once the bus has emitted, any thread may
emit, drain and read stats. A handler that raises: the exception is printed
with its traceback, counted (Bus.exceptions) and libmutil counts an error
(stats()['errors']); for an inline handler, emit() then raises a mutil.Error
whose __cause__ is that exception. Close a bus with thread subscriptions
before forking (starting a flow); buses still open at interpreter exit are
closed by an atexit hook.
"""
import atexit
import enum
import threading
import weakref

from . import errors
from ._callback import CallbackErrors, code_of
from ._handle import Handle
from ._lib import check, check_ptr, ffi, lib, stats, timeout_ms, to_bytes, to_cstr, to_enum


class Mode(enum.IntEnum):
    """How a subscription runs its handler (mu_flow_mode_t)."""
    INLINE = lib.MU_FLOW_INLINE
    THREAD = lib.MU_FLOW_THREAD


def _mode(mode):
    """mode as a Mode: a member, its int, or 'inline' / 'thread'."""
    return to_enum(Mode, mode, 'mode')


_open_buses = weakref.WeakSet()


@atexit.register
def _close_open_buses():
    """Thread subscriptions call into Python: stop them before finalization."""
    for bus in list(_open_buses):
        bus.close()


class Bus(Handle):
    """An in-process event bus (mu_flow_bus_t). A closed bus raises
    mutil.InvalidError."""

    _ctype = 'mu_flow_bus_t'
    _destroy = lib.mu_flow_bus_destroy

    def __init__(self):
        """Creates a bus. Raises mutil.Error (MU_ENOMEM)."""
        super().__init__(check_ptr(lib.mu_flow_bus_new()))
        self._callbacks = []  # alive as long as C may call them
        self._counter = CallbackErrors()
        self._raised = threading.local()  # an inline handler's exception, for emit
        _open_buses.add(self)

    @property
    def exceptions(self):
        """Exceptions raised by this bus's handlers so far."""
        return self._counter.count

    def on(self, event, handler=None, mode=Mode.INLINE, queue_max=0):
        """Subscribes handler(event: str, data: bytes) to event (at most 63
        bytes; '*': every event) in mode (Mode.INLINE / Mode.THREAD or
        'inline' / 'thread'); queue_max bounds a thread subscription's
        queue (0: 1024). Without handler, returns a decorator. Returns the
        handler. Raises mutil.InvalidError (empty or long event, the bus
        already emitted), TypeError, ValueError (mode)."""
        if handler is None:
            return lambda fn: self.on(event, fn, mode, queue_max)
        if not callable(handler):
            raise TypeError('handler must be callable, not %s' % type(handler).__name__)
        mode = _mode(mode)
        c_event = to_cstr(event, 'event')
        if isinstance(queue_max, bool) or not isinstance(queue_max, int) or queue_max < 0:
            raise ValueError('queue_max must be an int >= 0')
        cb = ffi.callback('mu_flow_event_fn *', self._guard(handler, mode, c_event),
                          onerror=self._on_error(c_event))
        check(lib.mu_flow_bus_on(self._p, c_event, mode, cb, ffi.NULL, queue_max))
        self._callbacks.append(cb)
        return handler

    def _failed(self, where, exc, mode):
        self._counter.report(exc, where)
        if mode == Mode.INLINE and getattr(self._raised, 'exc', None) is None:
            self._raised.exc = exc  # emit raises the first, as C returns the first code
        return code_of(exc)

    def _guard(self, handler, mode, c_event):
        where = "bus handler for '%s'" % c_event.decode('utf-8', 'replace')

        def run(arg, event, data, size):
            try:
                handler(ffi.string(event).decode('utf-8', 'replace'), ffi.buffer(data, size)[:])
                return 0
            except BaseException as exc:  # noqa: B902 - nothing may unwind into C
                return self._failed(where, exc, mode)
        return run

    def _on_error(self, c_event):
        where = "bus handler for '%s'" % c_event.decode('utf-8', 'replace')
        return lambda exc_type, exc, tb: self._failed(where, exc, Mode.THREAD)

    def emit(self, event, data=b''):
        """Emits event with data (bytes-like or str; copied for thread
        handlers): runs the inline handlers, queues for the thread ones
        (waiting while a queue is full). Returns the number of handlers
        reached (0: no subscriber). An inline handler that raised makes it
        raise mutil.Error (its code; __cause__: the exception), or that
        exception itself when it is not an Exception (KeyboardInterrupt)."""
        data = to_bytes(data)
        self._raised.exc = None
        rc = lib.mu_flow_bus_emit(self._p, to_cstr(event, 'event'), data, len(data))
        if rc >= 0:
            return rc
        exc, self._raised.exc = self._raised.exc, None
        if exc is not None and not isinstance(exc, Exception):
            raise exc
        try:
            check(rc)
        except errors.Error as err:
            raise err from exc

    def drain(self, timeout=None):
        """Waits until every thread subscription's queue is empty and its
        handler idle (timeout seconds; None: no limit). Returns True when
        idle, False when timeout passed first."""
        rc = lib.mu_flow_bus_drain(self._p, timeout_ms(timeout))
        if rc in (lib.MU_EAGAIN, lib.MU_ETIMEDOUT):
            return False
        check(rc)
        return True

    def stats(self):
        """{'delivered': handler calls finished, 'errors': of which failed,
        'exceptions': of which raised in Python}."""
        counts = stats(lib.mu_flow_bus_stats, self._p, 'mu_flow_bus_stats_t')
        counts['exceptions'] = self.exceptions
        return counts

    def close(self):
        """Runs what is queued, stops the threads and frees the bus (the GIL
        is released meanwhile, so thread handlers finish)."""
        super().close()
        _open_buses.discard(self)
