# SPDX-License-Identifier: MPL-2.0
# Copyright (c) 2026 the mutil authors
"""mutil.Error and its subclasses: one per family of libmutil codes.

Every failing call raises an instance carrying `.code` (the negative C code,
e.g. -110), `.name` ("MU_ETIMEDOUT") and the thread's detail message. The
subclasses also derive from the matching Python built-in where there is one,
so `except TimeoutError` and `except KeyError` work as Python users expect.
"""
import errno as _errno

_NAMES = {}  # code -> (name, message), filled from the C table on first use


class Error(Exception):
    """A libmutil failure: .code (negative int), .name, .message."""

    def __init__(self, code, message=None):
        self.code = code
        self.name, default = _describe(code)
        self.message = message or default
        super().__init__('%s: %s' % (self.name, self.message))


class InvalidError(Error, ValueError):
    """MU_EINVAL, MU_ETYPE, MU_ENOTREG: an argument or value was refused;
    MU_EBADF: the object is closed (as Python files raise ValueError)."""


class WouldBlock(Error, BlockingIOError):
    """MU_EAGAIN: a call with timeout 0 found nothing to do."""


class TimeoutError(Error, TimeoutError):  # noqa: A001 - subclass of the built-in
    """MU_ETIMEDOUT: the timeout expired."""


class CanceledError(Error):
    """MU_ECANCELED: stopped before the work was done (a flow whose drain
    deadline expired)."""


class ClosedError(Error, EOFError):
    """MU_ECLOSED, MU_EPIPE, MU_ETRUNCATED: the peer or stream ended."""


class AuthError(Error, PermissionError):
    """MU_EAUTH, MU_EACCES, MU_EHANDSHAKE, MU_EINSECURE, MU_EMISMATCH."""


class NotFoundError(Error, KeyError):
    """MU_ENOENT, MU_ENOHOST, MU_EHOSTUNREACH: no such entry, file or peer."""

    def __str__(self):  # KeyError would repr() the message
        return Exception.__str__(self)


class ProtocolError(Error):
    """MU_EPROTO, MU_ELIMIT, MU_EMSGSIZE: malformed or oversized input."""


class CorruptError(Error):
    """MU_ECORRUPT, MU_EDIGEST: stored or received data is damaged."""


class RemoteError(Error):
    """MU_EREMOTE: the peer answered with an error."""


class ExistsError(Error, FileExistsError):
    """MU_EEXIST."""


class ConnectionError(Error, ConnectionError):  # noqa: A001
    """MU_ECONNREFUSED, MU_EADDRINUSE."""


class OSError(Error, OSError):  # noqa: A001
    """An operating system error passed through (-errno): MU_EIO, MU_ENOSPC..."""


_CLASSES = {
    'MU_EINVAL': InvalidError, 'MU_EBADF': InvalidError, 'MU_ETYPE': InvalidError, 'MU_ENOTREG': InvalidError,
    'MU_EAGAIN': WouldBlock, 'MU_ETIMEDOUT': TimeoutError,
    'MU_ECLOSED': ClosedError, 'MU_EPIPE': ClosedError, 'MU_ETRUNCATED': ClosedError,
    'MU_EAUTH': AuthError, 'MU_EACCES': AuthError, 'MU_EHANDSHAKE': AuthError,
    'MU_EINSECURE': AuthError, 'MU_EMISMATCH': AuthError,
    'MU_ENOENT': NotFoundError, 'MU_ENOHOST': NotFoundError, 'MU_EHOSTUNREACH': NotFoundError,
    'MU_EPROTO': ProtocolError, 'MU_ELIMIT': ProtocolError, 'MU_EMSGSIZE': ProtocolError,
    'MU_ECORRUPT': CorruptError, 'MU_EDIGEST': CorruptError, 'MU_EREMOTE': RemoteError,
    'MU_EEXIST': ExistsError, 'MU_ECONNREFUSED': ConnectionError,
    'MU_EADDRINUSE': ConnectionError, 'MU_ENOMEM': Error, 'MU_ECANCELED': CanceledError,
}


def _describe(code):
    """(name, message) of a code, from libmutil's own table."""
    if code not in _NAMES:
        from ._lib import ffi, lib
        _NAMES[code] = (ffi.string(lib.mu_errname(code)).decode(),
                        ffi.string(lib.mu_strerror(code)).decode('utf-8', 'replace'))
    name, message = _NAMES[code]
    if name == 'MU_E?' and code < 0 and -code in _errno.errorcode:
        name = _errno.errorcode[-code]
    return name, message


def from_code(code, message=None):
    """The exception for a negative libmutil code (not raised)."""
    name, _ = _describe(code)
    cls = _CLASSES.get(name) or (OSError if -code in _errno.errorcode else Error)
    if cls is OSError:
        exc = cls(code, message)
        exc.errno = -code if -code in _errno.errorcode else None
        return exc
    return cls(code, message)
