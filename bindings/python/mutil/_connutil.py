# SPDX-License-Identifier: MPL-2.0
# Copyright (c) 2026 the mutil authors
"""Helpers shared by pipe.py, keys.py, server.py and client.py (helper
conn): payload buffers, buffers libmutil malloc'd for us, per-call timeouts,
the asyncio wait for a writable fd, and what a Python callback's exception
becomes (reported to stderr, counted, and turned into a C error code)."""
import asyncio
import sys
import threading
import traceback

import cffi

from . import errors
from ._lib import ffi, lib, timeout_ms, to_bytes

# libc's free() for the buffers libmutil hands over (mu_client_request,
# mu_client_recv, mu_keys_read_secret_file): the generated declarations are
# libmutil's only, so free comes from its own small FFI.
_cffi_libc = cffi.FFI()
_cffi_libc.cdef('void free(void *);')
_libc = _cffi_libc.dlopen(None)

UNSET = object()  # "no per-call value given: use the object's default"


def buffer(data, what='data'):
    """data (bytes, bytearray, memoryview, or str as UTF-8) as a (cdata
    pointer, size) pair for a const void * argument, without a copy for
    bytes. Raises TypeError for anything else."""
    data = to_bytes(data, what)
    if isinstance(data, bytes):
        return data, len(data)
    return ffi.from_buffer(data), len(data)


def take_malloced(ptr, size, wipe=False):
    """bytes of a buffer libmutil malloc'd for the caller, which is freed
    (zeroed first when wipe); b'' for NULL."""
    if ptr == ffi.NULL:
        return b''
    try:
        return ffi.unpack(ffi.cast('const char *', ptr), size)
    finally:
        if wipe:
            ffi.memmove(ptr, b'\0' * size, size)
        _libc.free(_cffi_libc.cast('void *', int(ffi.cast('uintptr_t', ptr))))


def ms(timeout, default_ms):
    """A per-call timeout in seconds (None: forever) in ms, or default_ms
    when the caller gave none (UNSET)."""
    return default_ms if timeout is UNSET else timeout_ms(timeout)


def seconds(ms_value):
    """A C timeout in ms (-1 forever) as Python seconds (None forever)."""
    return None if ms_value < 0 else ms_value / 1000.0


async def wait_writable(fd, timeout=None):
    """Waits until fd is writable or timeout seconds passed (None: no
    limit). Returns True when writable, False on timeout."""
    loop = asyncio.get_running_loop()
    ready = loop.create_future()
    loop.add_writer(fd, lambda: ready.done() or ready.set_result(True))
    try:
        await asyncio.wait_for(ready, timeout)
        return True
    except asyncio.TimeoutError:
        return False
    finally:
        loop.remove_writer(fd)


class CallbackErrors:
    """What happens to an exception a Python callback (a request handler, a
    progress function) raised where no Python caller can catch it: it is
    printed with its traceback to stderr (as sys.unraisablehook does),
    counted in .count (thread-safe), kept in .last, and code() gives the
    C side a negative error code."""

    def __init__(self):
        self._lock = threading.Lock()
        self.count = 0
        self.last = None

    def add(self, exc):
        """Counts exc without printing it (the caller will see it raised)."""
        with self._lock:
            self.count += 1
            self.last = exc

    def report(self, exc, where):
        """Counts and prints exc, raised in `where` (a description)."""
        self.add(exc)
        try:
            sys.stderr.write('mutil: exception in %s (the call goes on):\n' % where)
            traceback.print_exception(type(exc), exc, exc.__traceback__, file=sys.stderr)
        except Exception:  # stderr gone at interpreter shutdown
            pass

    @staticmethod
    def code(exc):
        """The code C gets for exc: a mutil.Error's own code, else MU_EREMOTE."""
        return exc.code if isinstance(exc, errors.Error) else lib.MU_EREMOTE

    @staticmethod
    def message(exc):
        """A one-line description of exc: "ValueError: bad input"."""
        if isinstance(exc, errors.Error):
            return exc.message
        text = str(exc)
        return type(exc).__name__ + (': ' + text if text else '')


async def retry_writable(attempt, fd, timeout=None):
    """Calls attempt() until it does not raise mutil.WouldBlock, waiting for
    fd to be writable in between (a level-triggered fd: a pipe's write
    end). timeout in seconds (None: forever) ends with mutil.TimeoutError."""
    loop = asyncio.get_running_loop()
    deadline = None if timeout is None else loop.time() + timeout
    while True:
        try:
            return attempt()
        except errors.WouldBlock:
            pass
        wait = None if deadline is None else deadline - loop.time()
        if wait is not None and wait <= 0:
            raise errors.from_code(lib.MU_ETIMEDOUT, 'timed out after %gs' % timeout)
        await wait_writable(fd, wait)
