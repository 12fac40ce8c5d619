# SPDX-License-Identifier: MPL-2.0
# Copyright (c) 2026 the mutil authors
"""Python callables that libmutil calls (services, hooks, pool jobs,
producer sources, request handlers, progress functions): what their
exceptions become.

A callback never lets an exception escape into C. It is caught, counted on
the object that ran it (a CallbackErrors), reported (printed with its
traceback to stderr, as sys.unraisablehook does) where nobody else will see
it, and C gets the negative code of code_of(exc), so C goes on as it does
after any failing callback."""
import atexit
import builtins
import errno
import mmap
import os
import sys
import threading
import traceback
import weakref

from . import errors
from ._lib import lib


class CallbackErrors:
    """A thread-safe count of callback exceptions, with the first and the
    last of them."""

    def __init__(self):
        self._lock = threading.Lock()
        self.count = 0
        self.first = None
        self.last = None

    def add(self, exc):
        """Counts exc without printing it (for a caller that will see it
        raised)."""
        with self._lock:
            self.count += 1
            self.last = exc
            if self.first is None:
                self.first = exc

    def report(self, exc, where):
        """Counts exc and prints it with its traceback (see report())."""
        self.add(exc)
        report(exc, where)


_BUILTIN_CODES = (
    (builtins.TimeoutError, 'MU_ETIMEDOUT'), (MemoryError, 'MU_ENOMEM'),
    (PermissionError, 'MU_EACCES'), (FileNotFoundError, 'MU_ENOENT'), (KeyError, 'MU_ENOENT'),
    (ValueError, 'MU_EINVAL'), (TypeError, 'MU_EINVAL'),
)


def code_of(exc):
    """The negative libmutil code that stands for exc: a mutil.Error's own
    code, the nearest code for some built-ins (TimeoutError: MU_ETIMEDOUT,
    ValueError/TypeError: MU_EINVAL, ...), -errno of an OSError, else MU_EIO."""
    if isinstance(exc, errors.Error):
        return exc.code
    for cls, name in _BUILTIN_CODES:
        if isinstance(exc, cls):
            return getattr(lib, name)
    if isinstance(exc, builtins.OSError) and exc.errno in errno.errorcode:
        return -exc.errno
    return lib.MU_EIO


_PACKAGE = os.path.dirname(os.path.abspath(__file__)) + os.sep


def _user_frames(tb):
    """tb without the binding's own frames in front (the callback wrappers)."""
    while tb is not None and tb.tb_next is not None \
            and tb.tb_frame.f_code.co_filename.startswith(_PACKAGE):
        tb = tb.tb_next
    return tb


def report(exc, where):
    """Prints exc with its traceback (from the user's frame on) to stderr,
    headed by where it happened (like sys.unraisablehook's default)."""
    try:
        sys.stderr.write('mutil: exception in %s:\n' % where)
        traceback.print_exception(type(exc), exc, _user_frames(exc.__traceback__),
                                  file=sys.stderr)
        sys.stderr.flush()
    except Exception:  # stderr gone (interpreter shutdown): nothing to do
        pass


class SharedCounter:
    """Exceptions counted by this process and the processes forked from it
    after the counter was made (a flow's runners), readable in the parent:
    a shared anonymous mapping, one 64-bit slot per pid modulo SLOTS, so
    processes never write the same word unless their pids collide modulo
    SLOTS (a lost increment at worst)."""

    SLOTS = 4096

    def __init__(self):
        self._map = mmap.mmap(-1, self.SLOTS * 8)  # MAP_SHARED | MAP_ANONYMOUS
        self._slots = memoryview(self._map).cast('Q')

    def add(self, exc=None):
        """Counts one exception (exc is not kept: it lives in another process)."""
        self._slots[os.getpid() % self.SLOTS] += 1

    @property
    def count(self):
        """The exceptions counted so far, in every process."""
        return sum(self._slots)


def describe(exc):
    """A one-line message for C: "ValueError: bad port", or a mutil.Error's
    own message."""
    if isinstance(exc, errors.Error):
        return exc.message
    text = str(exc)
    return type(exc).__name__ + (': ' + text if text else '')


_open_at_exit = weakref.WeakSet()


def close_at_exit(obj):
    """Closes obj (if still open) when the interpreter exits, before it
    finalizes: C threads that run Python code (pool workers, producer
    sources) are joined while Python can still run them, instead of being
    cut off by the finalizing interpreter."""
    _open_at_exit.add(obj)


@atexit.register
def _close_all():
    for obj in list(_open_at_exit):
        try:
            obj.close()
        except Exception:  # noqa: B902 - exiting: nothing else to do
            pass
