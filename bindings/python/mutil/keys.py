# SPDX-License-Identifier: MPL-2.0
# Copyright (c) 2026 the mutil authors
"""mutil.Keys (a CURVE keypair) and mutil.Allow (the client keys a server
accepts), over mu_keys.h.

Keys come from random generation (Keys.generate()), a shared passphrase
(Keys.from_secret), raw bytes or Z85 text (Keys.from_public /
Keys.from_bytes), or czmq zcert files (Keys.load / keys.save), which
pyzmq's zmq.auth reads and writes too. A key given to this module may be a
Keys, 32 raw bytes or 40 characters of Z85 text."""
import os

from . import errors
from ._lib import take_malloced
from ._handle import Handle
from ._lib import check, check_ptr, ffi, lib, to_bytes, to_cstr

KEY_BYTES = 32
SERVER, CLIENT = 'server', 'client'
_ROLES = {SERVER: lib.MU_KEYS_SERVER, CLIENT: lib.MU_KEYS_CLIENT}


def key_to_text(key):
    """The 40-character Z85 text of a 32-byte key (bytes)."""
    raw = public_key_bytes(key)
    text = ffi.new('char[]', lib.MU_KEY_TEXT)
    lib.mu_key_to_txt(raw, text)
    return ffi.string(text).decode('ascii')


def key_from_text(text):
    """The 32 bytes of a key in Z85 text. Raises mutil.InvalidError (not
    exactly 40 Z85 characters), TypeError (not str/bytes)."""
    raw = ffi.new('uint8_t[]', KEY_BYTES)
    check(lib.mu_key_from_txt(to_cstr(text, 'key text'), raw))
    return ffi.unpack(ffi.cast('char *', raw), KEY_BYTES)


def public_key_bytes(key):
    """The 32 raw bytes of a public key given as a Keys, 32 bytes or 40
    characters of Z85 text (str or bytes). Raises TypeError or
    mutil.InvalidError."""
    if isinstance(key, Keys):
        return key.public
    if isinstance(key, str) or (isinstance(key, bytes) and len(key) == 40):
        return key_from_text(key)
    if isinstance(key, (bytes, bytearray, memoryview)):
        raw = bytes(key)
        if len(raw) != KEY_BYTES:
            raise errors.InvalidError(lib.MU_EINVAL, 'a key is 32 bytes, not %d' % len(raw))
        return raw
    raise TypeError('a key must be Keys, 32 bytes or Z85 text, not %s' % type(key).__name__)

def key_ptr(obj, what):
    """The mu_keys_t * / mu_allow_t * of a mutil.Keys / mutil.Allow (any
    object with a `_p` cffi pointer), or NULL for None."""
    if obj is None:
        return ffi.NULL
    try:
        return obj._p
    except AttributeError:
        raise TypeError('%s must be a mutil key object or None, not %s'
                        % (what, type(obj).__name__)) from None


def server_key_arg(obj):
    """A server public key argument for C: NULL for None, 32 bytes, or a
    keys object (its public half)."""
    if obj is None:
        return ffi.NULL
    if hasattr(obj, '_p'):
        return lib.mu_keys_public(obj._p)
    key = bytes(to_bytes(obj, 'server_public'))
    if len(key) != 32:
        raise errors.InvalidError(lib.MU_EINVAL,
                                  'server_public must be 32 bytes, not %d' % len(key))
    return key


def _insecure_flag(allow_insecure):
    return lib.MU_KEYS_ALLOW_INSECURE if allow_insecure else 0


def read_secret_file(path, allow_insecure=False):
    """The passphrase in file path (bytes, one trailing newline removed).
    The file must be private (mode & 077 == 0, not a symbolic link) unless
    allow_insecure. Raises mutil.NotFoundError (no file), mutil.AuthError
    (MU_EINSECURE: group/others may read it, or a link; MU_EACCES),
    mutil.InvalidError (fewer than 8 bytes, a device or FIFO),
    mutil.OSError (MU_EISDIR, MU_EFBIG: over 4096 bytes)."""
    secret_p = ffi.new('char **')
    size_p = ffi.new('size_t *')
    check(lib.mu_keys_read_secret_file(to_cstr(_path(path), 'path'),
                                       _insecure_flag(allow_insecure), secret_p, size_p))
    return take_malloced(secret_p[0], size_p[0], wipe=True)


def _path(path):
    return os.fsencode(path) if not isinstance(path, (str, bytes)) else path


class Keys(Handle):
    """A CURVE keypair: .public (32 bytes), .secret (32 bytes or None for a
    public-only key), .public_text (Z85). Keys() or Keys.generate() makes a
    random pair. Two Keys are equal when their public and secret keys are.
    Raises mutil.InvalidError once closed."""

    _ctype = 'mu_keys_t'
    _destroy = lib.mu_keys_destroy

    def __init__(self):
        super().__init__(check_ptr(lib.mu_keys_new()))

    @classmethod
    def _own(cls, ptr):
        self = cls.__new__(cls)
        Handle.__init__(self, check_ptr(ptr))
        return self

    @classmethod
    def generate(cls):
        """A new random keypair. Raises mutil.Error (MU_EIO: no randomness)."""
        return cls()

    @classmethod
    def from_secret(cls, secret, role=SERVER):
        """The 'server' or 'client' keypair derived from a shared passphrase
        (str or bytes, at least 8 bytes): both ends derive the same. Costs
        tens of milliseconds. Raises mutil.InvalidError (too short),
        ValueError (unknown role)."""
        if role not in _ROLES:
            raise ValueError("role must be 'server' or 'client', not %r" % (role,))
        data = to_bytes(secret, 'secret')
        return cls._own(lib.mu_keys_from_secret(bytes(data), len(data), _ROLES[role]))

    @classmethod
    def from_secret_file(cls, path, role=SERVER, allow_insecure=False):
        """Keys.from_secret of a passphrase file (see read_secret_file)."""
        return cls.from_secret(read_secret_file(path, allow_insecure), role)

    @classmethod
    def from_bytes(cls, public, secret=None):
        """A keypair from raw keys (32 bytes each; secret None: public only).
        Raises mutil.AuthError (MU_EMISMATCH: the keys do not match),
        mutil.InvalidError (not 32 bytes)."""
        pub = public_key_bytes(public)
        sec = ffi.NULL if secret is None else _raw32(secret, 'secret key')
        return cls._own(lib.mu_keys_new_from(pub, sec))

    @classmethod
    def from_public(cls, key):
        """A public-only key from Z85 text or 32 bytes."""
        return cls.from_bytes(public_key_bytes(key))

    @classmethod
    def load(cls, path, public_only=False, allow_insecure=False):
        """Loads a zcert pair: path (the public file) and path + '_secret'
        when it exists (or path naming the _secret file). public_only reads
        the public key alone. Raises mutil.NotFoundError (no file),
        mutil.AuthError (MU_EINSECURE: the secret file is not private;
        MU_EMISMATCH; MU_EACCES), mutil.InvalidError (not a cert file)."""
        flags = (lib.MU_KEYS_PUBLIC_ONLY if public_only else 0) | _insecure_flag(allow_insecure)
        return cls._own(lib.mu_keys_load(to_cstr(_path(path), 'path'), flags))

    def save(self, path):
        """Writes path (public cert, 0644) and, with a secret key,
        path + '_secret' (0600), atomically. Raises mutil.InvalidError or
        mutil.OSError/NotFoundError/AuthError from the file calls."""
        check(lib.mu_keys_save(self._p, to_cstr(_path(path), 'path')))

    @property
    def public(self):
        """The 32-byte public key."""
        return ffi.unpack(ffi.cast('char *', lib.mu_keys_public(self._p)), KEY_BYTES)

    @property
    def secret(self):
        """The 32-byte secret key, or None for a public-only key."""
        ptr = lib.mu_keys_secret(self._p)
        return None if ptr == ffi.NULL else ffi.unpack(ffi.cast('char *', ptr), KEY_BYTES)

    @property
    def has_secret(self):
        """True when the secret key is known."""
        return lib.mu_keys_secret(self._p) != ffi.NULL

    @property
    def public_text(self):
        """The public key in Z85 (40 characters)."""
        return ffi.string(lib.mu_keys_public_txt(self._p)).decode('ascii')

    def public_only(self):
        """A new Keys with this public key and no secret."""
        return Keys.from_bytes(self.public)

    def copy(self):
        """An independent copy."""
        return Keys._own(lib.mu_keys_dup(self._p))

    def __eq__(self, other):
        if not isinstance(other, Keys):
            return NotImplemented
        return self.public == other.public and self.secret == other.secret

    __hash__ = None

    def __repr__(self):
        if self.closed:
            return '<mutil.Keys closed>'
        return '<mutil.Keys %s%s>' % (self.public_text, '' if self.has_secret else ' public only')


def _raw32(key, what):
    raw = to_bytes(key, what)
    if len(raw) != KEY_BYTES:
        raise errors.InvalidError(lib.MU_EINVAL, '%s must be 32 bytes, not %d' % (what, len(raw)))
    return bytes(raw)


class Allow(Handle):
    """The set of client public keys a server accepts. Allow(keys=())
    starts with the given keys (Keys, 32 bytes or Z85 text); Allow.any()
    accepts every key (CURVE still encrypts) and is the only way to get
    that. `key in allow`, len(allow), allow.add(key),
    allow.load_dir(path)."""

    _ctype = 'mu_allow_t'
    _destroy = lib.mu_allow_destroy

    def __init__(self, keys=()):
        super().__init__(check_ptr(lib.mu_allow_new()))
        for key in keys:
            self.add(key)

    @classmethod
    def any(cls):
        """The list that accepts any client key."""
        self = cls.__new__(cls)
        Handle.__init__(self, check_ptr(lib.mu_allow_new_any()))
        return self

    @classmethod
    def from_dir(cls, path):
        """A list of the public certs in directory path (see load_dir)."""
        self = cls()
        self.load_dir(path)
        return self

    def add(self, key):
        """Adds a public key (adding it twice is no error)."""
        check(lib.mu_allow_add(self._p, public_key_bytes(key)))

    def load_dir(self, path):
        """Adds every public cert in directory path (names neither starting
        with '.' nor ending in '_secret'). Returns (loaded, skipped): certs
        loaded and files skipped as unreadable or not certs. Raises
        mutil.NotFoundError (no such directory), mutil.OSError
        (MU_ENOTDIR), mutil.AuthError (MU_EACCES)."""
        skipped = ffi.new('int *')
        loaded = check(lib.mu_allow_load_dir(self._p, to_cstr(_path(path), 'path'), skipped))
        return loaded, skipped[0]

    def __contains__(self, key):
        return bool(lib.mu_allow_contains(self._p, public_key_bytes(key)))

    def __len__(self):
        return lib.mu_allow_size(self._p)

    @property
    def is_any(self):
        """True for the list made by Allow.any()."""
        return bool(lib.mu_allow_is_any(self._p))

    def copy(self):
        """An independent copy."""
        self_copy = Allow.__new__(Allow)
        Handle.__init__(self_copy, check_ptr(lib.mu_allow_dup(self._p)))
        return self_copy

    def __repr__(self):
        if self.closed:
            return '<mutil.Allow closed>'
        return '<mutil.Allow %s>' % ('any' if self.is_any else '%d keys' % len(self))
