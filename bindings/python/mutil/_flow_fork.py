# SPDX-License-Identifier: MPL-2.0
# Copyright (c) 2026 the mutil authors
"""Calling a libmutil function that forks (mu_flow_start) so that Python
callbacks work in the children, and making a forked child's interpreter
consistent before its first callback.

The hazard. cffi releases the GIL around every C call. mu_flow_start forks
the supervisor from the calling thread, and the supervisor (one thread, a
copy of the caller's) forks every runner, restarts included. Called through
cffi, the fork happens with the GIL released: any other Python thread may
hold it at that moment, and then in the child the GIL belongs to a thread
that does not exist there; the first callback (PyGILState_Ensure) waits for
it forever.

The remedy, what os.fork() itself does: hold the GIL across the fork.
call_forking() runs PyOS_BeforeFork() (fork hooks, the import lock), calls
the C function through a ctypes PYFUNCTYPE prototype (which keeps the GIL
during the call), then PyOS_AfterFork_Parent(). Every child therefore
starts as a copy of an interpreter whose GIL is held by the thread that
lives on in it, and no other thread is in the middle of Python code.
The supervisor never runs Python; each runner, a copy of it, calls
PyOS_AfterFork_Child() at its first callback (child_ready): the GIL and the
thread states are rebuilt and os.register_at_fork(after_in_child=...)
hooks run (threading forgets the parent's threads, random reseeds), as
after os.fork(). The child's stdout is then made line-buffered: runners end
with _exit, which would lose what a Python buffer still holds.

What remains is what any fork of a multi-threaded process has: a C lock held
by another thread at the fork (a buffered file another thread was writing,
a bus with thread subscriptions: mu_bus.h says destroy it first) stays held
in the children. Start flows before starting threads, or from a process
whose threads do not share objects with the callbacks.
"""
import ctypes
import os
import sys

from ._lib import ffi, lib

try:
    _API = ctypes.pythonapi
    _BEFORE, _PARENT, _CHILD = _API.PyOS_BeforeFork, _API.PyOS_AfterFork_Parent, _API.PyOS_AfterFork_Child
    for _f in (_BEFORE, _PARENT, _CHILD):
        _f.argtypes, _f.restype = [], None
except (AttributeError, ValueError):  # not CPython: no C API to hold the GIL with
    _BEFORE = _PARENT = _CHILD = None

_pending = False     # True in a child forked by call_forking until child_ready ran
_forking_pid = None  # the process that called call_forking
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


def call_forking(name, *pointers):
    """Calls lib.<name>(*pointers), a function returning int that forks,
    with the GIL held and the interpreter prepared for the fork as
    os.fork() does. Returns the C result."""
    global _pending, _forking_pid
    for stream in (sys.stdout, sys.stderr):  # no buffered text copied into children
        if stream is not None:
            try:
                stream.flush()
            except (OSError, ValueError):
                pass
    if _BEFORE is None:
        return getattr(lib, name)(*pointers)
    fn = _holding_gil(name, len(pointers))
    args = [int(ffi.cast('uintptr_t', p)) for p in pointers]
    _BEFORE()
    try:
        _forking_pid, _pending = os.getpid(), True
        return fn(*args)
    finally:
        _pending = False
        _PARENT()


def child_ready():
    """Called first by every callback: in a child forked by call_forking
    that has not run Python yet, rebuilds the interpreter's thread state as
    os.fork() does in a child (once per process)."""
    global _pending
    if _pending and os.getpid() != _forking_pid:
        _pending = False
        if _CHILD is not None:
            _CHILD()
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.reconfigure(line_buffering=True)
            except (AttributeError, ValueError, OSError):
                pass
