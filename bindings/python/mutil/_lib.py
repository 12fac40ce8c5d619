# SPDX-License-Identifier: MPL-2.0
# Copyright (c) 2026 the mutil authors
"""Loads libmutil with cffi in ABI mode and turns its error codes into
exceptions. Everything else in the package calls C through `lib` and checks
results with `check` / `check_ptr`.

The library is found, in order: $MUTIL_LIBRARY (a path to libmutil.so...),
then the installed soname libmutil.so.0 through the dynamic linker.
"""
import os

import cffi

from . import errors

_CDEF_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'cdef')
SONAME = 'libmutil.so.0'


def _cdef_text():
    """The generated declarations (cdef/, one file per public header), in
    the order of cdef/index.txt: a header after those it includes."""
    with open(os.path.join(_CDEF_DIR, 'index.txt')) as index:
        names = index.read().split()
    parts = []
    for name in names:
        with open(os.path.join(_CDEF_DIR, name)) as part:
            parts.append(part.read())
    return ''.join(parts)


ffi = cffi.FFI()
ffi.cdef(_cdef_text())


def _load():
    # czmq would replace Python's SIGINT/SIGTERM handlers at its first socket
    # (zsys_init), and Ctrl-C would no longer raise KeyboardInterrupt.
    os.environ.setdefault('ZSYS_SIGHANDLER', 'false')
    path = os.environ.get('MUTIL_LIBRARY') or SONAME
    try:
        return ffi.dlopen(path)
    except OSError as exc:
        raise ImportError(
            'mutil: cannot load %s (%s); install libmutil or set MUTIL_LIBRARY '
            'to the path of libmutil.so' % (path, exc)) from None


lib = _load()

# libc's free(), for the buffers libmutil hands over to the caller
# (mu_client_request, mu_client_recv, mu_keys_read_secret_file).
_libc_ffi = cffi.FFI()
_libc_ffi.cdef('void free(void *);')
_libc = _libc_ffi.dlopen(None)


def take_malloced(ptr, size, wipe=False):
    """bytes of a buffer libmutil malloc'd for the caller, which is then
    freed (zeroed first when wipe, for secrets); b'' for NULL."""
    if ptr == ffi.NULL:
        return b''
    try:
        return ffi.unpack(ffi.cast('const char *', ptr), size)
    finally:
        if wipe:
            ffi.memmove(ptr, b'\0' * size, size)
        _libc.free(_libc_ffi.cast('void *', int(ffi.cast('uintptr_t', ptr))))


def last_error():
    """The calling thread's last failure message from libmutil."""
    return ffi.string(lib.mu_last_error()).decode('utf-8', 'replace')


def check(rc):
    """Returns rc when it is >= 0; raises the mutil.Error subclass of the
    code, with the thread's detail message, when it is negative."""
    if rc < 0:
        raise errors.from_code(rc, last_error() if lib.mu_last_code() == rc else None)
    return rc


def check_ptr(ptr):
    """Returns ptr when it is not NULL; raises the error of the thread's last
    failure otherwise (constructors return NULL and record the code)."""
    if ptr == ffi.NULL:
        code = lib.mu_last_code() or lib.MU_ENOMEM
        raise errors.from_code(code, last_error())
    return ptr


def to_bytes(data, what='data'):
    """bytes, bytearray, memoryview or str (UTF-8) as something cffi passes
    as const void *; raises TypeError for anything else."""
    if isinstance(data, (bytes, bytearray)):
        return data
    if isinstance(data, str):
        return data.encode('utf-8')
    if isinstance(data, memoryview):
        return data.tobytes()
    raise TypeError('%s must be bytes-like or str, not %s' % (what, type(data).__name__))


def to_buffer(data, what='data'):
    """data as something cffi passes as const void * without a copy: bytes
    as they are, str as UTF-8, bytearray/memoryview through
    ffi.from_buffer (len() of the result is the byte count). Raises
    TypeError for anything else."""
    if isinstance(data, bytes):
        return data
    if isinstance(data, str):
        return data.encode('utf-8')
    if isinstance(data, (bytearray, memoryview)):
        return ffi.from_buffer(data)
    raise TypeError('%s must be bytes-like or str, not %s' % (what, type(data).__name__))


def to_enum(cls, value, what):
    """value as a member of the IntEnum cls: a member, its int, or its name
    in any case ('publish'). Raises ValueError or TypeError."""
    if isinstance(value, str):
        try:
            return cls[value.upper()]
        except KeyError:
            pass
    elif isinstance(value, int) and not isinstance(value, bool):
        try:
            return cls(value)
        except ValueError:
            pass
    else:
        raise TypeError('%s must be a mutil.%s or str, not %s'
                        % (what, cls.__name__, type(value).__name__))
    raise ValueError('%s must be one of %s, not %r'
                     % (what, ', '.join(m.name.lower() for m in cls), value))


def to_cstr(text, what='name'):
    """A str or bytes as a NUL-terminated char * argument."""
    if isinstance(text, str):
        text = text.encode('utf-8')
    if not isinstance(text, bytes):
        raise TypeError('%s must be str or bytes, not %s' % (what, type(text).__name__))
    if b'\0' in text:
        raise ValueError('%s must not contain a NUL byte' % what)
    return text


def timeout_ms(timeout):
    """Python timeout (None: forever, seconds as int/float) as the C
    convention (-1 forever, 0 never wait, n ms)."""
    if timeout is None:
        return -1
    if timeout < 0:
        raise ValueError('timeout must be None or >= 0 seconds')
    return min(int(round(timeout * 1000)), 2**31 - 1)


def stats(fn, obj, ctype, *args):
    """Calls a mu_X_stats function, fn(obj, *args, &st), and returns its
    counters as a dict."""
    st = ffi.new(ctype + ' *')
    st.size = ffi.sizeof(ctype)
    check(fn(obj, *args, st))
    return {name: getattr(st, name) for name, _ in ffi.typeof(ctype).fields if name != 'size'}
