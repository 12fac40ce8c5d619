# SPDX-License-Identifier: MPL-2.0
# Copyright (c) 2026 the mutil authors
"""Calling a libmutil function that forks (mu_flow_start) so that Python
callbacks work in the children, whatever the parent's other threads do.

Where the forks happen. mu_flow_start forks the supervisor from the calling
thread; the supervisor (one thread, a copy of the caller's) forks every
runner, at the start and for each restart. No fork happens on any other
thread, and the supervisor never runs Python.

The hazards of a plain cffi call (cffi releases the GIL around C calls):
  1. another Python thread may hold the GIL at the fork: in the children
     it belongs to a thread that does not exist, and the first callback
     (PyGILState_Ensure) waits for it forever;
  2. even with the GIL held across the fork, a thread waiting for it has
     usually set the interpreter's "drop the GIL" request: the child's first
     bytecode then drops the GIL and waits forever for that thread to take
     it (drop_gil's forced switch);
  3. the interpreter's thread bookkeeping (threading, the import lock,
     os.register_at_fork hooks) is not redone in the children.
(1 and 2 were seen: a flow started while two Python threads computed hung
in its runners.)

What os.fork() does, and what call_forking does around the C call:
PyOS_BeforeFork() (fork hooks, the import lock), the C call through a
ctypes PYFUNCTYPE prototype (the GIL stays held: no other thread is inside
Python at the fork), then PyOS_AfterFork_Parent(). For the duration of the
call, three fork handlers are registered with glibc's __register_atfork
(under a token of ours, removed afterwards with __cxa_finalize(token),
which is how glibc drops a DSO's handlers); they run in C in every child of
a fork, before fork() returns there, so before any bytecode:
  PyGILState_Ensure     makes the thread's state current if it is not (the
                        supervisor released the GIL: its runners' case)
  PyOS_AfterFork_Child  recreates the GIL held by this thread (clearing a
                        drop request), forgets the other threads, runs the
                        after-fork hooks: exactly os.fork()'s child step
  PyEval_SaveThread     releases the GIL, so the runner's C code runs
                        without it and Python threads of the runner (a
                        thread subscription's handler) can run meanwhile;
                        each callback takes the GIL and gives it back
The supervisor inherits the registration, so the runners it forks later
(restarts included) get the same treatment.

What remains is what any fork of a multi-threaded process has: a C lock
held by another thread at the fork (a file another thread was writing, a
bus with thread subscriptions: mu_bus.h says destroy it first) stays held
in the children; and a fork by another thread (os.fork, subprocess with a
preexec_fn) in the instant the handlers are registered would run them too.
Without glibc or CPython's C API (another libc, PyPy), the call is a plain
one and hazards 1-3 apply: start flows before starting threads there.
"""
import ctypes
import os
import sys

from ._lib import ffi, lib


def _python_c_api():
    """The fork functions of CPython's C API and glibc's handler
    registration, or None where they are missing."""
    try:
        api = ctypes.pythonapi  # keeps the GIL during calls
        names = ('PyOS_BeforeFork', 'PyOS_AfterFork_Parent', 'PyGILState_Ensure',
                 'PyOS_AfterFork_Child', 'PyEval_SaveThread', '__register_atfork', '__cxa_finalize')
        fns = {name: api[name] for name in names}
    except (AttributeError, ValueError, OSError):
        return None
    for name in ('PyOS_BeforeFork', 'PyOS_AfterFork_Parent'):
        fns[name].argtypes, fns[name].restype = [], None
    fns['__register_atfork'].argtypes = [ctypes.c_void_p] * 4
    fns['__register_atfork'].restype = ctypes.c_int
    fns['__cxa_finalize'].argtypes, fns['__cxa_finalize'].restype = [ctypes.c_void_p], None
    fns['child_handlers'] = [ctypes.cast(fns[name], ctypes.c_void_p).value for name in
                             ('PyGILState_Ensure', 'PyOS_AfterFork_Child', 'PyEval_SaveThread')]
    return fns


_C = _python_c_api()
_forking_pid = None  # the process inside call_forking, None outside
_protos = {}


def _holding_gil(name, nargs):
    """The C function `name` (int f(void *...)) as a ctypes function that
    keeps the GIL while it runs."""
    key = (name, nargs)
    if key not in _protos:
        address = int(ffi.cast('uintptr_t', ffi.addressof(lib, name)))
        proto = ctypes.PYFUNCTYPE(ctypes.c_int, *([ctypes.c_void_p] * nargs))
        _protos[key] = proto(address)
    return _protos[key]


def _flush_stdio():
    """Nothing buffered in Python may be copied into the children."""
    for stream in (sys.stdout, sys.stderr):
        if stream is not None:
            try:
                stream.flush()
            except (OSError, ValueError):
                pass


def call_forking(name, *pointers):
    """Calls lib.<name>(*pointers), a libmutil function returning int that
    forks, so that the children run Python callbacks safely (module
    docstring). Returns the C result."""
    global _forking_pid
    _flush_stdio()
    if _C is None:
        return getattr(lib, name)(*pointers)
    fn = _holding_gil(name, len(pointers))
    args = [int(ffi.cast('uintptr_t', p)) for p in pointers]
    token = ctypes.create_string_buffer(1)  # a unique address names our handlers
    _C['PyOS_BeforeFork']()
    try:
        _forking_pid = os.getpid()
        for handler in _C['child_handlers']:
            if _C['__register_atfork'](None, None, handler, ctypes.addressof(token)) != 0:
                raise MemoryError('cannot register fork handlers')
        return fn(*args)
    finally:
        _C['__cxa_finalize'](ctypes.addressof(token))
        _forking_pid = None
        _C['PyOS_AfterFork_Parent']()


def _after_fork_in_child():
    """os.register_at_fork hook: in a flow's process, line-buffered stdio
    (runners end with _exit, which would lose a Python buffer's content)."""
    if _forking_pid is not None and os.getpid() != _forking_pid:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.reconfigure(line_buffering=True)
            except (AttributeError, ValueError, OSError):
                pass


os.register_at_fork(after_in_child=_after_fork_in_child)
