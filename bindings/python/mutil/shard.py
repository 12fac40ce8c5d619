# SPDX-License-Identifier: MPL-2.0
# Copyright (c) 2026 the mutil authors
"""mutil.Shard: a persistent map over N SQLite shards (mu_shard.h,
doc/shard.md), like the seed's SQLShard.

    s = mutil.Shard('/tmp/bighash', types=(str, int, int), shards=8, create=True)
    s[('AAPL', 1700000000, 1)] = {'can': 'have', 'complex': ['structures', 2]}
    s['AAPL', 1700000000, 1]['can']            # -> 'have'
    for key, value in s.range(1, lo=1700000000):
        ...

Keys are tuples of k elements whose types are fixed when the store is
created: int (int64), str (SQLite TEXT, UTF-8) or bytes (BLOB); a store
with k == 1 also takes and gives bare values. Element `shardidx` chooses
the shard. Values are any MessagePack-able Python object (None, bool, int,
float, str, bytes, list/tuple, dict, mutil.Ext), stored compressed (zstd
by default); they come back as mutil.unpackb gives them (tuples as lists).

Errors: a missing key raises mutil.NotFoundError (a KeyError); a key of
the wrong arity ValueError, an element of the wrong type TypeError; a
damaged value or shard file mutil.CorruptError; a store that exists with
other parameters mutil.InvalidError; a write lock held too long by another
process mutil.TimeoutError. A handle may be used from many threads; a
Batch belongs to one thread and is closed with its store.

Walks (items, keys, values, range) read the matching entries in the
caller's thread first, then iterate over them (C holds a shard's lock
during a walk, so no Python code runs inside it).
"""
import weakref

from . import errors
from ._handle import Handle
from ._lib import check, check_ptr, ffi, lib, to_bytes, to_cstr
from .pack import packb, unpackb

_TYPE_CODES = {int: lib.MU_SHARD_INT, str: lib.MU_SHARD_STR, bytes: lib.MU_SHARD_BYTES,
               'int': lib.MU_SHARD_INT, 'str': lib.MU_SHARD_STR, 'bytes': lib.MU_SHARD_BYTES}
_TYPE_NAMES = {lib.MU_SHARD_INT: 'int', lib.MU_SHARD_STR: 'str', lib.MU_SHARD_BYTES: 'bytes'}
_CODECS = {'default': lib.MU_SHARD_CODEC_DEFAULT, 'none': lib.MU_SHARD_CODEC_NONE,
           'zlib': lib.MU_SHARD_CODEC_ZLIB, 'zstd': lib.MU_SHARD_CODEC_ZSTD}
_CODEC_NAMES = {code: name for name, code in _CODECS.items()}
_FIRST_READ = 1024


def _element_bytes(value, kind, where):
    if kind == lib.MU_SHARD_STR:
        if not isinstance(value, str):
            raise TypeError('%s must be str, not %s' % (where, type(value).__name__))
        return value.encode('utf-8', 'surrogateescape')
    if not isinstance(value, (bytes, bytearray, memoryview)):
        raise TypeError('%s must be bytes, not %s' % (where, type(value).__name__))
    return bytes(to_bytes(value))


def _fill(elem, value, kind, where, keep):
    """Sets one mu_shard_elem_t from a Python value of the given type code;
    keep collects the buffers C points into."""
    elem.type = kind
    if kind == lib.MU_SHARD_INT:
        if not isinstance(value, int) or isinstance(value, bool):
            raise TypeError('%s must be int, not %s' % (where, type(value).__name__))
        if not -2 ** 63 <= value < 2 ** 63:
            raise OverflowError('%s is outside int64' % where)
        elem.i = value
        return
    data = _element_bytes(value, kind, where)
    buf = ffi.new('char[]', data)
    keep.append(buf)
    elem.ptr, elem.len = buf, len(data)


def _element_value(elem):
    if elem.type == lib.MU_SHARD_INT:
        return elem.i
    data = ffi.unpack(ffi.cast('const char *', elem.ptr), elem.len) if elem.len else b''
    return data.decode('utf-8', 'surrogateescape') if elem.type == lib.MU_SHARD_STR else data


def _guess_type(value):
    if isinstance(value, bool):
        raise TypeError('a key element is int, str or bytes, not bool')
    for cls in (int, str):
        if isinstance(value, cls):
            return _TYPE_CODES[cls]
    if isinstance(value, (bytes, bytearray, memoryview)):
        return lib.MU_SHARD_BYTES
    raise TypeError('a key element is int, str or bytes, not %s' % type(value).__name__)


class _Walk:
    """Collects the entries of a C walk: (key elements, packed value)."""

    def __init__(self, k):
        self.k, self.rows, self.error = k, [], None

    def visit(self, key, value, size):
        try:
            elems = tuple(_element_value(key[i]) for i in range(self.k))
            self.rows.append((elems, ffi.unpack(ffi.cast('const char *', value), size)))
            return 0
        except BaseException as exc:  # noqa: B902 - nothing may escape into C
            self.error = exc
            return 1


def _on_visit(arg, key, value, size):
    return ffi.from_handle(arg).visit(key, value, size)


_visit_cb = ffi.callback('mu_shard_visit_fn', _on_visit, error=1)


class Shard(Handle):
    """Opens (or with create=True creates) the store in directory dir.

    types: the k element types (int, str, bytes or their names); None opens
    an existing store with its own parameters. shards: the number of shards
    (1..4096, needed with types). shardidx: the element that chooses the
    shard. index: element positions to index for range queries (None: all).
    codec ('default', 'none', 'zlib', 'zstd'), level, min_compress,
    sync_full, busy_timeout (seconds; 0: do not wait), cache_kib, threads:
    as mu_shard_opts_t (0: the C default).
    Raises NotFoundError (no store, create not given), InvalidError (bad
    parameter, store exists with others), CorruptError (damaged shard
    file), mutil.Error MU_ENOTSUP (newer format)."""

    _ctype = 'mu_shard_t'
    _destroy = lib.mu_shard_destroy

    def __init__(self, dir, types=None, shards=None, *, shardidx=0, index=None, create=False,
                 codec='default', level=0, min_compress=0, sync_full=False, busy_timeout=5,
                 cache_kib=0, threads=0):
        opts = ffi.new('mu_shard_opts_t *')
        if types is not None:
            self._set_layout(opts, types, shards, shardidx, index)
        if codec not in _CODECS:
            raise ValueError('codec must be one of %s' % ', '.join(_CODECS))
        opts.create, opts.codec, opts.level = bool(create), _CODECS[codec], level
        opts.min_compress, opts.sync_full = min_compress, bool(sync_full)
        opts.busy_timeout_ms = -1 if busy_timeout == 0 else max(1, int(round(busy_timeout * 1000)))
        opts.cache_kib, opts.threads = cache_kib, threads
        self._batches = weakref.WeakSet()
        super().__init__(check_ptr(lib.mu_shard_open(to_cstr(str(dir), 'dir'), opts)))
        info = ffi.new('mu_shard_opts_t *')
        lib.mu_shard_info(self._p, info)
        self._info = info
        self.k = info.k
        self._types = [info.types[i] for i in range(info.k)]

    @staticmethod
    def _set_layout(opts, types, shards, shardidx, index):
        types = list(types)
        if not 1 <= len(types) <= lib.MU_SHARD_MAX_K:
            raise ValueError('types must have 1..%d elements' % lib.MU_SHARD_MAX_K)
        try:
            codes = [_TYPE_CODES[t] for t in types]
        except (KeyError, TypeError):
            raise TypeError('types are int, str or bytes') from None
        if shards is None:
            raise ValueError('shards is needed with types')
        opts.k, opts.shards, opts.shardidx = len(types), shards, shardidx
        for i, code in enumerate(codes):
            opts.types[i] = code
        if index is not None:
            opts.index_mask = sum(1 << j for j in set(index)) or 1  # element 0 needs none

    @property
    def info(self):
        """The effective parameters: k, shards, shardidx, types (names),
        index_mask, codec, level, min_compress, sync_full, busy_timeout_ms,
        cache_kib, threads."""
        i = self._info
        self._p  # noqa: B018 - raises when closed
        return {'k': i.k, 'shards': i.shards, 'shardidx': i.shardidx,
                'types': tuple(_TYPE_NAMES[t] for t in self._types), 'index_mask': i.index_mask,
                'codec': _CODEC_NAMES.get(i.codec, i.codec), 'level': i.level,
                'min_compress': i.min_compress, 'sync_full': bool(i.sync_full),
                'busy_timeout_ms': i.busy_timeout_ms, 'cache_kib': i.cache_kib,
                'threads': i.threads}

    # -- keys -----------------------------------------------------------

    def _key(self, key):
        """(mu_shard_elem_t[k], buffers to keep alive) for a Python key."""
        if not isinstance(key, tuple):
            if self.k != 1:
                raise TypeError('a key of this store is a tuple of %d elements' % self.k)
            key = (key,)
        if len(key) != self.k:
            raise ValueError('a key of this store has %d elements, not %d' % (self.k, len(key)))
        elems, keep = ffi.new('mu_shard_elem_t[]', self.k), []
        for i, (value, kind) in enumerate(zip(key, self._types)):
            _fill(elems[i], value, kind, 'key element %d' % i, keep)
        return elems, keep

    def _key_out(self, elems):
        return elems[0] if self.k == 1 else elems

    def _bound(self, elem, value, keep):
        if value is None:
            return ffi.NULL
        out = ffi.new('mu_shard_elem_t *')
        _fill(out, value, self._types[elem], 'bound', keep)
        return out

    def _check_elem(self, elem):
        if not isinstance(elem, int) or not 0 <= elem < self.k:
            raise ValueError('elem must be 0..%d' % (self.k - 1))

    # -- single keys ----------------------------------------------------

    def set(self, key, value):
        """Stores value (packed as MessagePack) under key, replacing any.
        Raises TypeError (key or value type), ValueError, mutil.ProtocolError
        (value over the limits), TimeoutError (write lock), an I/O error."""
        self.set_packed(key, packb(value))

    __setitem__ = set

    def set_packed(self, key, packed):
        """Stores packed, one MessagePack value as bytes, under key. Raises
        InvalidError when packed is not exactly one valid value."""
        elems, _keep = self._key(key)
        data = bytes(to_bytes(packed, 'packed'))
        check(lib.mu_shard_set(self._p, elems, self.k, data, len(data)))

    def get_packed(self, key):
        """The stored MessagePack bytes of key. Raises NotFoundError,
        CorruptError (damaged value)."""
        elems, _keep = self._key(key)
        size = ffi.new('size_t *')
        cap = _FIRST_READ
        while True:
            buf = ffi.new('char[]', cap)
            rc = lib.mu_shard_get_buf(self._p, elems, self.k, buf, cap, size)
            if rc != lib.MU_EMSGSIZE:
                check(rc)
                return ffi.unpack(buf, size[0])
            cap = size[0]

    def __getitem__(self, key):
        """The value of key. Raises NotFoundError (KeyError), CorruptError."""
        return unpackb(self.get_packed(key))

    def get(self, key, default=None):
        """The value of key, or default when there is none."""
        try:
            return self[key]
        except errors.NotFoundError:
            return default

    def delete(self, key):
        """Deletes key. Raises NotFoundError when there was none."""
        elems, _keep = self._key(key)
        check(lib.mu_shard_delete(self._p, elems, self.k))

    __delitem__ = delete

    def __contains__(self, key):
        """True when key is stored; False for a key that cannot be in this store."""
        try:
            elems, _keep = self._key(key)
        except (TypeError, ValueError, OverflowError):
            return False
        return check(lib.mu_shard_contains(self._p, elems, self.k)) == 1

    def shard_of(self, key):
        """The shard (0..shards-1) that holds key."""
        elems, _keep = self._key(key)
        return check(lib.mu_shard_of(self._p, elems, self.k))

    def key_format(self, key):
        """key as C prints it in messages: (12, "abc", x'00ff')."""
        elems, _keep = self._key(key)
        buf = ffi.new('char[]', 1024)
        return ffi.string(lib.mu_shard_key_format(elems, self.k, buf, 1024)).decode('utf-8', 'replace')

    @staticmethod
    def hash(value):
        """The placement hash of one key element (int, str or bytes)."""
        elem, keep = ffi.new('mu_shard_elem_t *'), []
        _fill(elem, value, _guess_type(value), 'value', keep)
        return lib.mu_shard_hash(elem)

    def batch(self):
        """A new Batch of sets and deletes for this store."""
        return Batch(self)

    # -- all shards -----------------------------------------------------

    def __len__(self):
        """The number of keys in all shards (counted in parallel)."""
        count = ffi.new('uint64_t *')
        check(lib.mu_shard_len(self._p, count))
        return count[0]

    def len_each(self):
        """The number of keys of each shard, as a list."""
        n = self._info.shards
        counts = ffi.new('uint64_t[]', n)
        check(lib.mu_shard_len_each(self._p, counts, n))
        return list(counts)

    def _walk(self, start):
        walk = _Walk(self.k)
        handle = ffi.new_handle(walk)
        rc = start(handle)
        if walk.error is not None:
            raise walk.error
        check(rc)
        return ((self._key_out(key), value) for key, value in walk.rows)

    def _values(self, rows):
        for key, packed in rows:
            yield key, unpackb(packed)

    def items(self):
        """An iterator of (key, value) over every entry: shard 0 first, each
        shard in key order. Raises CorruptError (damaged value)."""
        return self._values(self._walk(lambda h: lib.mu_shard_iterate(self._p, _visit_cb, h)))

    def keys(self):
        """An iterator over every key, in items() order."""
        return (key for key, _ in self._walk(lambda h: lib.mu_shard_iterate(self._p, _visit_cb, h)))

    __iter__ = keys

    def values(self):
        """An iterator over every value, in items() order."""
        return (value for _, value in self.items())

    def range(self, elem, lo=None, hi=None):
        """An iterator of (key, value) whose element elem lies in [lo, hi]
        (None: unbounded), shard after shard, each ascending by that element.
        Raises ValueError (elem), TypeError (a bound of the wrong type)."""
        self._check_elem(elem)
        keep = []
        lo_p, hi_p = self._bound(elem, lo, keep), self._bound(elem, hi, keep)
        return self._values(self._walk(
            lambda h: lib.mu_shard_range(self._p, elem, lo_p, hi_p, _visit_cb, h)))

    def count_range(self, elem, lo=None, hi=None):
        """How many entries range(elem, lo, hi) would give."""
        self._check_elem(elem)
        keep, count = [], ffi.new('uint64_t *')
        check(lib.mu_shard_count_range(self._p, elem, self._bound(elem, lo, keep),
                                       self._bound(elem, hi, keep), count))
        return count[0]

    def prune(self, elem, lo=None, hi=None):
        """Deletes the entries range(elem, lo, hi) would give; returns how
        many were deleted."""
        self._check_elem(elem)
        keep, count = [], ffi.new('uint64_t *')
        check(lib.mu_shard_prune(self._p, elem, self._bound(elem, lo, keep),
                                 self._bound(elem, hi, keep), count))
        return count[0]

    def clear(self):
        """Deletes every entry."""
        check(lib.mu_shard_clear(self._p))

    def check(self):
        """Runs SQLite's integrity check on every shard. Raises CorruptError."""
        check(lib.mu_shard_check(self._p))

    def close(self):
        """Closes the open batches (dropping what they did not commit), then
        the store."""
        for batch in list(self._batches):
            batch.close()
        super().close()


class Batch(Handle):
    """Sets and deletes committed together, one transaction per shard
    (Shard.batch()). `with store.batch() as b:` commits at the end of the
    block unless it raised. Keys and values as for Shard."""

    _ctype = 'mu_shard_batch_t'
    _destroy = lib.mu_shard_batch_destroy

    def __init__(self, store):
        if not isinstance(store, Shard):
            raise TypeError('Batch needs a mutil.Shard')
        super().__init__(check_ptr(lib.mu_shard_batch_new(store._p)))
        self._store = store
        store._batches.add(self)

    def set(self, key, value):
        """Adds a set of value under key."""
        elems, _keep = self._store._key(key)
        data = packb(value)
        check(lib.mu_shard_batch_set(self._p, elems, self._store.k, data, len(data)))

    __setitem__ = set

    def delete(self, key):
        """Adds a delete of key (a missing key is no error at commit)."""
        elems, _keep = self._store._key(key)
        check(lib.mu_shard_batch_delete(self._p, elems, self._store.k))

    __delitem__ = delete

    def __len__(self):
        """The number of operations waiting."""
        return lib.mu_shard_batch_size(self._p)

    def commit(self):
        """Commits, shard by shard (each shard's part is atomic, the whole
        is not); the batch is empty afterwards whatever happened. Raises
        TimeoutError, an I/O error."""
        check(lib.mu_shard_batch_commit(self._p))

    def __exit__(self, exc_type, exc, tb):
        """Commits unless the block raised, then closes the batch."""
        try:
            if exc_type is None and self._ptr is not None:
                self.commit()
        finally:
            self.close()
