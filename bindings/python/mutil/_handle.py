# SPDX-License-Identifier: MPL-2.0
# Copyright (c) 2026 the mutil authors
"""The base of every class that owns a libmutil object: one pointer, closed
once (close(), `with`, or garbage collection), and a clear exception instead
of a crash when a closed object is used."""
from . import errors
from ._lib import ffi, lib


class Handle:
    """Owns one C object. Subclasses set _ctype ("mu_pipe_t") and _destroy
    (the mu_X_destroy function, which takes a pointer to the pointer)."""

    _ctype = None
    _destroy = None
    _ptr = None

    def __init__(self, ptr):
        self._ptr = ptr

    @property
    def _p(self):
        """The C pointer; raises mutil.InvalidError once the object is closed."""
        if self._ptr is None:
            raise errors.InvalidError(lib.MU_EBADF, '%s is closed' % type(self).__name__)
        return self._ptr

    @property
    def closed(self):
        """True once close() has run."""
        return self._ptr is None

    def close(self):
        """Destroys the C object; later calls do nothing. Not thread-safe
        against a call running on the same object in another thread: an
        object belongs to one thread at a time, as in C."""
        ptr, self._ptr = self._ptr, None
        if ptr is not None:
            type(self)._destroy(ffi.new(self._ctype + ' **', ptr))

    def __enter__(self):
        self._p  # noqa: B018 - raises when closed
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:  # interpreter shutdown: the library may be gone
            pass


class ReceiveIterable:
    """`for msg in obj:` over obj.recv() until obj is closed in the loop
    (or recv raises); mixed into a Handle with a blocking recv()."""

    def __iter__(self):
        """Messages forever, from recv(). Raises mutil.InvalidError when the
        object is already closed."""
        self._p  # noqa: B018 - raises when closed
        return self._messages()

    def _messages(self):
        while self._ptr is not None:
            yield self.recv()
