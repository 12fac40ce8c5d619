# SPDX-License-Identifier: MPL-2.0
# Copyright (c) 2026 the mutil authors
"""What happens when a Python callback called from libmutil raises (shared by
mutil.flow and mutil.bus): the exception is printed with its traceback to
stderr, counted, and the C side gets a negative code so it goes on as it
does when a C callback fails.

Counters: LocalCounter for callbacks that run in this process (the bus),
SharedCounter for callbacks that run in a flow's forked processes: a shared
anonymous mapping made before the fork, so the parent reads what every
runner counted."""
import mmap
import os
import sys
import threading
import traceback

from . import errors
from ._lib import lib

GENERIC_CODE = lib.MU_EIO  # a callback raised something that is not a mutil.Error


def error_code(exc):
    """The negative code C gets for exc: its own for a mutil.Error, else MU_EIO."""
    code = getattr(exc, 'code', None) if isinstance(exc, errors.Error) else None
    return code if isinstance(code, int) and code < 0 else GENERIC_CODE


_PACKAGE = os.path.dirname(os.path.abspath(__file__)) + os.sep


def _user_frames(tb):
    """tb without the binding's own frames in front (the callback wrappers)."""
    while tb is not None and tb.tb_next is not None \
            and tb.tb_frame.f_code.co_filename.startswith(_PACKAGE):
        tb = tb.tb_next
    return tb


def report(where, exc):
    """Prints exc with its traceback to stderr, as sys.unraisablehook does."""
    try:
        stderr = sys.stderr
        stderr.write('mutil: exception in %s (counted; libmutil gets error code %d):\n'
                     % (where, error_code(exc)))
        traceback.print_exception(type(exc), exc, _user_frames(exc.__traceback__), file=stderr)
        stderr.flush()
    except Exception:  # noqa: BLE001 - reporting must never raise into C
        pass


class LocalCounter:
    """Exceptions counted in this process (thread-safe)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._n = 0

    def add(self):
        with self._lock:
            self._n += 1

    @property
    def value(self):
        return self._n


class SharedCounter:
    """Exceptions counted by this process and the processes forked from it
    after the counter was made. One 64-bit slot per pid modulo SLOTS, so
    processes never write the same word unless their pids collide modulo
    SLOTS (a lost increment at worst)."""

    SLOTS = 4096

    def __init__(self):
        self._map = mmap.mmap(-1, self.SLOTS * 8)  # MAP_SHARED | MAP_ANONYMOUS
        self._slots = memoryview(self._map).cast('Q')

    def add(self):
        self._slots[os.getpid() % self.SLOTS] += 1

    @property
    def value(self):
        return sum(self._slots)
