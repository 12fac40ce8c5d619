# SPDX-License-Identifier: MPL-2.0
# Copyright (c) 2026 the mutil authors
"""Services and the entrypoint that runs them (mu_service.h).

A Service has a start and a stop: subclass mutil.Service and write start()
and stop(timeout), or pass callables: Service(name='db', start=f, stop=g)
(called as f(service) and g(service, timeout)). Keyword arguments become
attributes (Service(port=80).port == 80); a class may list the ones it
requires in __required__.

The Entrypoint calls every start() in the order the services were added,
without waiting for readiness in between, waits until all are ready, then
until SIGINT/SIGTERM, stop() or a later failure, and stops the started
services in reverse order (each stop() on a C thread of its own, within the
shutdown timeout). `with Entrypoint(...) as ep:` runs it on a thread and
stops it at the end of the block; ep.run() runs it in the calling thread.

Readiness: a service is ready when its start() returns, unless the class
sets signals_ready = True: then it calls self.ready() (or self.fail(...))
itself, from any thread, once it serves.

asyncio (mutil.aio.Entrypoint): start() and stop() may be coroutines. A
coroutine start() runs as a task on the loop that entered the entrypoint
(so the services start concurrently, as in aiomisc); the service is ready
when it returns, or earlier when it calls self.ready() and goes on running
(a "forever" service); if it raises, the service fails. Stopping such a
service cancels its start task if it still runs, then awaits stop(timeout)
bounded by the timeout. A coroutine start() under the blocking Entrypoint
fails the service with TypeError.

Exceptions raised by start(), stop() or a hook are counted
(Entrypoint.callback_errors), printed with their traceback to stderr, and
given to C as an error code (mutil.Error: its code; TimeoutError:
MU_ETIMEDOUT; ValueError: MU_EINVAL; others MU_EIO). run() then raises the
mutil.Error of the run, with the first such Python exception as __cause__.

Signals: while it runs, the entrypoint owns SIGINT and SIGTERM (process
wide, whatever thread runs it); afterwards Python's own handlers are put
back when the run ends in (or is left from) the main thread. Only one
entrypoint may run at a time in a process, and an entrypoint runs once.
"""
import asyncio
import concurrent.futures
import inspect
import signal as _signal
import threading

from . import errors
from ._callback import CallbackErrors, code_of, describe, report
from ._handle import Handle
from ._lib import check, check_ptr, ffi, lib, timeout_ms, to_cstr

_LOG_LEVELS = {'quiet': lib.MU_LOG_QUIET, 'error': lib.MU_LOG_ERROR,
               'warning': lib.MU_LOG_WARNING, 'info': lib.MU_LOG_INFO,
               'debug': lib.MU_LOG_DEBUG}
_HOOKS = {'pre_start': lib.MU_HOOK_PRE_START, 'post_start': lib.MU_HOOK_POST_START,
          'pre_stop': lib.MU_HOOK_PRE_STOP, 'post_stop': lib.MU_HOOK_POST_STOP}
_GRACE = lib.MU_ENTRYPOINT_STOP_GRACE / 1000.0
_TIMEOUTS = (TimeoutError, asyncio.TimeoutError, concurrent.futures.TimeoutError)


def _code(exc):
    return lib.MU_ETIMEDOUT if isinstance(exc, _TIMEOUTS) else code_of(exc)


class Service:
    """A service: start() launches it, stop(timeout) ends it (see the module
    documentation). Attributes: name (the service's name in logs and
    errors; default the class name), signals_ready (False: ready when
    start() returns), __required__ (keyword arguments the constructor
    demands). Raises TypeError for a missing required argument or when
    neither a start() method nor start= is given."""

    __required__ = ()
    name = None
    signals_ready = False

    def __init__(self, *, start=None, stop=None, **attrs):
        missing = [n for n in self.__required__ if n not in attrs]
        if missing:
            raise TypeError('%s needs %s' % (type(self).__name__, ', '.join(missing)))
        for fn in (start, stop):
            if fn is not None and not callable(fn):
                raise TypeError('start and stop must be callables')
        if start is None and type(self).start is Service.start:
            raise TypeError('a Service needs start: subclass it or pass start=')
        for key, value in attrs.items():
            setattr(self, key, value)
        self._start_fn, self._stop_fn = start, stop
        self._lock = threading.Lock()
        self._svc = None        # mu_service_t * while it belongs to an entrypoint
        self._errors = None     # the entrypoint's CallbackErrors
        self._loop = None       # the asyncio loop of an aio entrypoint
        self._start_task = None
        self._async_start = False

    @property
    def service_name(self):
        """The name given to C: str(self.name), or the class name."""
        return str(self.name) if self.name is not None else type(self).__name__

    def start(self):
        """Launches the service (default: the start= callable, called with
        the service). May return a coroutine under mutil.aio.Entrypoint."""
        return self._start_fn(self)

    def stop(self, timeout):
        """Stops the service within timeout seconds (None: no limit; 0: the
        shutdown deadline passed, do not wait). Default: the stop= callable
        with (service, timeout), or nothing. Raise TimeoutError when it could
        not stop in time."""
        if self._stop_fn is not None:
            return self._stop_fn(self, timeout)
        return None

    def ready(self):
        """Tells the entrypoint the service serves. Thread-safe; ignored
        when the service is not running under an entrypoint."""
        with self._lock:
            if self._svc is not None:
                lib.mu_service_ready(self._svc)

    def fail(self, error=None):
        """Tells the entrypoint the service failed: error is an exception
        (its code and message are passed on) or a message (MU_EIO).
        Thread-safe; before all are ready it aborts the start, afterwards it
        stops the entrypoint. Ignored outside an entrypoint."""
        if isinstance(error, BaseException):
            code, message = _code(error), describe(error)
        else:
            code, message = lib.MU_EIO, None if error is None else str(error)
        text = ffi.NULL if message is None else message.encode('utf-8', 'replace').replace(b'\0', b' ')
        with self._lock:
            if self._svc is not None:
                lib.mu_service_fail(self._svc, code, text)

    # -- called by the entrypoint --------------------------------------

    def _attach(self, svc_p, counter):
        with self._lock:
            if self._svc is not None:
                raise errors.InvalidError(lib.MU_EINVAL, 'service %r is already in an entrypoint'
                                          % self.service_name)
            self._svc, self._errors = svc_p, counter

    def _detach(self):
        with self._lock:
            self._svc = self._errors = self._loop = self._start_task = None
            self._async_start = False

    def _failed(self, exc, what):
        self._errors.add(exc)
        report(exc, '%s of service %r' % (what, self.service_name))
        return _code(exc)

    def _c_start(self):
        """start() as C calls it: 0 or a negative code, never raises."""
        try:
            result = self.start()
            if inspect.isawaitable(result):
                return self._schedule_start(result)
        except BaseException as exc:  # noqa: B902 - nothing may escape into C
            return self._failed(exc, 'start()')
        if not self.signals_ready:
            self.ready()
        return 0

    def _schedule_start(self, awaitable):
        if self._loop is None:
            if inspect.iscoroutine(awaitable):
                awaitable.close()
            raise TypeError('start() is a coroutine: run the service under mutil.aio.Entrypoint')
        self._async_start = True
        self._loop.call_soon_threadsafe(self._spawn_start, awaitable)
        return 0

    def _spawn_start(self, awaitable):
        self._start_task = self._loop.create_task(self._run_start(awaitable))

    async def _run_start(self, awaitable):
        try:
            await awaitable
        except asyncio.CancelledError:
            raise
        except BaseException as exc:  # noqa: B902
            self._failed(exc, 'start()')
            self.fail(exc)
            return
        if not self.signals_ready:
            self.ready()

    async def _cancel_start(self, timeout):
        task = self._start_task
        if task is not None and not task.done():
            task.cancel()
            await asyncio.wait([task], timeout=timeout)

    def _c_stop(self, timeout_ms):
        """stop() as C calls it on its stop thread: 0 or a negative code."""
        timeout = None if timeout_ms < 0 else timeout_ms / 1000.0
        bound = None if timeout is None else max(timeout, _GRACE)
        try:
            if self._async_start:
                self._on_loop(self._cancel_start(bound))
            result = self.stop(timeout)
            if inspect.isawaitable(result):
                if self._loop is None:
                    if inspect.iscoroutine(result):
                        result.close()
                    raise TypeError('stop() is a coroutine: run the service under mutil.aio.Entrypoint')
                self._on_loop(asyncio.wait_for(result, bound))
        except BaseException as exc:  # noqa: B902
            return self._failed(exc, 'stop()')
        return 0

    def _on_loop(self, coro):
        """Runs coro on the service's loop from a C thread and waits for it."""
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result()


class _Hook:
    """A Python hook and the entrypoint it is given to."""

    def __init__(self, entrypoint, fn, name):
        self.entrypoint, self.fn, self.name = entrypoint, fn, name

    def call(self):
        try:
            if self.fn is not None:
                self.fn(self.entrypoint)
        except BaseException as exc:  # noqa: B902
            self.entrypoint._errors.add(exc)
            report(exc, '%s hook' % self.name)
            return _code(exc)
        if self.name == 'post_start':
            self.entrypoint._set_state(ready=True)
        return 0


def _on_start(arg, svc_p):
    return ffi.from_handle(arg)._c_start()


def _on_stop(arg, svc_p, timeout):
    return ffi.from_handle(arg)._c_stop(timeout)


def _on_hook(arg, ep_p):
    return ffi.from_handle(arg).call()


_start_cb = ffi.callback('int(void *, mu_service_t *)', _on_start, error=lib.MU_EIO)
_stop_cb = ffi.callback('int(void *, mu_service_t *, int)', _on_stop, error=lib.MU_EIO)
_hook_cb = ffi.callback('mu_hook_fn', _on_hook, error=lib.MU_EIO)
_OPS = ffi.new('mu_service_ops_t *', {'start': _start_cb, 'stop': _stop_cb})


def _python_signals():
    """Python's handlers of SIGINT and SIGTERM, to put back after a run."""
    return {sig: _signal.getsignal(sig) for sig in (_signal.SIGINT, _signal.SIGTERM)}


def _restore_signals(saved):
    if saved and threading.current_thread() is threading.main_thread():
        for sig, handler in saved.items():
            if handler is not None:
                _signal.signal(sig, handler)


class Entrypoint(Handle):
    """Runs services (see the module documentation).

    Entrypoint(*services, start_timeout=30, shutdown_timeout=10,
    log_ident=None, log_level='info', pre_start=None, post_start=None,
    pre_stop=None, post_stop=None): timeouts in seconds (None: no limit);
    log_level one of 'quiet', 'error', 'warning', 'info', 'debug'; hooks are
    callables fn(entrypoint) run on the running thread (an exception in
    pre_start aborts the run, in post_start stops everything). Raises
    ValueError for a bad timeout or level, TypeError for a non-Service."""

    _ctype = 'mu_entrypoint_t'
    _destroy = lib.mu_entrypoint_destroy

    def __init__(self, *services, start_timeout=30, shutdown_timeout=10, log_ident=None,
                 log_level='info', pre_start=None, post_start=None, pre_stop=None, post_stop=None):
        super().__init__(check_ptr(lib.mu_entrypoint_new()))
        self._services, self._keep = [], []
        self._errors = CallbackErrors()
        self._state = threading.Condition()
        self._ready = self._running = self._done = False
        self._error, self._stop_signal, self._thread, self._saved_signals = None, 0, None, None
        self._listeners = []
        check(lib.mu_entrypoint_set_start_timeout(self._p, timeout_ms(start_timeout)))
        check(lib.mu_entrypoint_set_shutdown_timeout(self._p, timeout_ms(shutdown_timeout)))
        self._set_logging(log_ident, log_level)
        hooks = {'pre_start': pre_start, 'post_start': post_start,
                 'pre_stop': pre_stop, 'post_stop': post_stop}
        for name, fn in hooks.items():
            self._set_hook(name, fn)
        for service in services:
            self.add(service)

    def _set_logging(self, ident, level):
        if isinstance(level, str):
            if level not in _LOG_LEVELS:
                raise ValueError('log_level must be one of %s' % ', '.join(_LOG_LEVELS))
            level = _LOG_LEVELS[level]
        if level not in _LOG_LEVELS.values():
            raise ValueError('log_level out of range')
        check(lib.mu_entrypoint_set_logging(
            self._p, ffi.NULL if ident is None else to_cstr(ident, 'log_ident'), level))

    def _set_hook(self, name, fn):
        if fn is not None and not callable(fn):
            raise TypeError('%s must be callable' % name)
        if fn is None and name != 'post_start':  # post_start always tells readiness
            return
        handle = ffi.new_handle(_Hook(self, fn, name))
        self._keep.append(handle)
        lib.mu_entrypoint_set_hook(self._p, _HOOKS[name], _hook_cb, handle)

    def add(self, service):
        """Adds a Service (run order = order added); returns it. Raises
        TypeError for a non-Service, mutil.InvalidError once run or when the
        service is in another entrypoint."""
        if not isinstance(service, Service):
            raise TypeError('add() takes a mutil.Service, not %s' % type(service).__name__)
        if not hasattr(service, '_lock'):
            raise TypeError('%s.__init__ must call Service.__init__' % type(service).__name__)
        handle = ffi.new_handle(service)
        ptr = check_ptr(lib.mu_entrypoint_add(self._p, to_cstr(service.service_name, 'name'),
                                              _OPS, handle))
        service._attach(ptr, self._errors)
        self._keep.append(handle)
        self._services.append(service)
        return service

    @property
    def services(self):
        """The services, in the order added."""
        return tuple(self._services)

    @property
    def callback_errors(self):
        """How many exceptions service callables and hooks raised."""
        return self._errors.count

    @property
    def signal(self):
        """The signal that stopped the run (signal.Signals), or None."""
        return _signal.Signals(self._stop_signal) if self._stop_signal else None

    def stop(self):
        """Asks the running (or about to run) entrypoint to stop its
        services and return. Thread-safe."""
        lib.mu_entrypoint_stop(self._p)

    # -- running --------------------------------------------------------

    def _set_state(self, ready=False, done=False):
        with self._state:
            self._ready = self._ready or ready
            self._done = self._done or done
            self._state.notify_all()
            listeners = list(self._listeners)
        for fn in listeners:
            fn()

    def _bind_loop(self, loop):
        for service in self._services:
            service._loop = loop

    def _claim_run(self):
        """Marks the entrypoint running; raises when closed or run before."""
        ptr = self._p
        with self._state:
            if self._running or self._done:
                raise errors.InvalidError(lib.MU_EINVAL, 'an entrypoint runs once')
            self._running = True
        self._saved_signals = _python_signals()
        return ptr

    def _run_claimed(self, ptr):
        """Runs in the calling thread; returns the run's exception or None."""
        try:
            check(lib.mu_entrypoint_run(ptr))
            error = None
        except errors.Error as exc:
            error = exc
            first = self._errors.first
            if first is not None and _code(first) == exc.code:
                exc.__cause__ = first
        self._stop_signal = lib.mu_entrypoint_signal(ptr)
        self._error = error
        _restore_signals(self._saved_signals)
        self._set_state(done=True)
        return error

    def run(self):
        """Runs the services in the calling thread until a signal, stop() or
        a failure; then stops them. Returns None after a clean stop; raises
        the run's mutil.Error (TimeoutError for a start or stop timeout, the
        failing service's error...), mutil.InvalidError when run before or
        when another entrypoint runs."""
        error = self._run_claimed(self._claim_run())
        if error is not None:
            raise error

    def _start_thread(self):
        ptr = self._claim_run()
        self._thread = threading.Thread(target=self._run_claimed, args=(ptr,),
                                        name='mutil-entrypoint', daemon=True)
        self._thread.start()

    def _join_and_close(self):
        if self._thread is not None:
            self._thread.join()
        self.close()
        return self._error

    def _finish(self):
        """Joins the run thread, closes, puts Python's signal handlers back
        (in the main thread); returns the run's error."""
        error = self._join_and_close()
        _restore_signals(self._saved_signals)
        return error

    def __enter__(self):
        """Starts the run on a thread and returns once every service is
        ready; raises the run's error when it ended before that."""
        self._start_thread()
        with self._state:
            self._state.wait_for(lambda: self._ready or self._done)
        if self._done:
            self._finish()
            raise self._error
        return self

    def __exit__(self, exc_type, exc, tb):
        """Stops the services and waits for the run to end; raises its error
        unless the block raised."""
        if self._ptr is not None:
            self.stop()
        error = self._finish()
        if error is not None and exc_type is None:
            raise error

    def wait(self, timeout=None):
        """Waits until the run ended (signal, stop(), failure) or timeout
        seconds passed (None: no limit). Returns True when it ended."""
        with self._state:
            return self._state.wait_for(lambda: self._done, timeout)

    def close(self):
        """Destroys the entrypoint (joining any stop() that overran) and
        frees its services for another entrypoint. Raises mutil.InvalidError
        while it runs."""
        if self._ptr is None:
            return
        with self._state:
            if self._running and not self._done:
                raise errors.InvalidError(lib.MU_EINVAL, 'the entrypoint runs: stop() it first')
        super().close()
        for service in self._services:
            service._detach()
        self._keep = []


class AsyncEntrypoint(Entrypoint):
    """The asyncio entrypoint (mutil.aio.Entrypoint): `async with` and
    `await ep.run()`; the services' coroutine start() and stop() run on the
    loop that entered it. Same constructor as Entrypoint. The C run itself
    runs on a thread of its own, so the loop goes on meanwhile."""

    def __enter__(self):
        raise TypeError('use "async with" with mutil.aio.Entrypoint')

    async def _changed(self, predicate):
        loop = asyncio.get_running_loop()
        event = asyncio.Event()

        def wake():
            loop.call_soon_threadsafe(event.set)
        with self._state:
            self._listeners.append(wake)
        try:
            while not predicate():
                await event.wait()
                event.clear()
        finally:
            with self._state:
                self._listeners.remove(wake)

    async def __aenter__(self):
        """Starts the run; returns once every service is ready; raises the
        run's error when it ended before that. Cancelled meanwhile, it
        stops the services before it lets the cancellation go on."""
        self._bind_loop(asyncio.get_running_loop())
        self._start_thread()
        try:
            await self._changed(lambda: self._ready or self._done)
        except BaseException:
            self.stop()
            await self._finish_async()
            raise
        if self._done:
            await self._finish_async()
            raise self._error
        return self

    async def _finish_async(self):
        """_finish with the joining on an executor thread (a stop() may
        need the loop meanwhile)."""
        loop = asyncio.get_running_loop()
        error = await loop.run_in_executor(None, self._join_and_close)
        _restore_signals(self._saved_signals)
        return error

    async def __aexit__(self, exc_type, exc, tb):
        """Stops the services and waits for the run to end; raises its error
        unless the block raised."""
        if self._ptr is not None:
            self.stop()
        await self.wait()
        error = await self._finish_async()
        if error is not None and exc_type is None:
            raise error

    async def wait(self, timeout=None):
        """Waits until the run ended; returns True, or False after timeout
        seconds (None: no limit)."""
        if self._done:
            return True
        try:
            await asyncio.wait_for(self._changed(lambda: self._done), timeout)
        except asyncio.TimeoutError:
            return False
        return True

    async def run(self):
        """Runs until a signal, stop() or a failure: `await ep.run()`.
        Raises the run's error like Entrypoint.run()."""
        async with self:
            await self.wait()


def aio_run(main, *services, **kwargs):
    """Like asyncio.run(main) with services around it (mutil.aio.run, as
    aiomisc.run): starts the services under a mutil.aio.Entrypoint (kwargs
    are its options), runs the coroutine main, stops the services and
    returns main's result. A signal or a failure that ends the entrypoint
    first cancels main."""
    async def supervise():
        async with AsyncEntrypoint(*services, **kwargs) as ep:
            task = asyncio.ensure_future(main)
            ended = asyncio.ensure_future(ep.wait())
            await asyncio.wait([task, ended], return_when=asyncio.FIRST_COMPLETED)
            ended.cancel()
            if task.done():
                return task.result()
            task.cancel()
            await asyncio.wait([task])
            return None if task.cancelled() else task.result()
    return asyncio.run(supervise())
