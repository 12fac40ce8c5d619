# SPDX-License-Identifier: MPL-2.0
# Copyright (c) 2026 the mutil authors
"""mutil.LRU: a segmented LRU (S4LRU) over keys and caller-given sizes,
in memory or persisted in SQLite (mu_lru.h, doc/lru.md).

    lru = mutil.LRU(capacity=300)                       # in memory
    lru = mutil.LRU.open('/var/cache/x', 'files', capacity=300, create=True)
    lru.increment('key1', 5)        # an access: True for a hit, False for new
    'key1' in lru, lru['key1']      # presence / size, without promotion
    for key, size in lru.evict():   # remove keys while over capacity
        delete_the_data(key)

Keys are bytes (str is encoded as UTF-8; keys come back as bytes), 0 to
65536 bytes; sizes are ints >= 0 in the caller's units. The LRU never
evicts by itself: evict() does, from the tail of level 0, while the total
exceeds the capacity. Reading (`in`, `[]`, get, peek, len, iteration,
stats) changes nothing; increment counts hits and misses.

Errors: a closed LRU raises mutil.InvalidError; a change to a read-only LRU
mutil.AuthError (PermissionError); a missing key NotFoundError (KeyError);
a damaged file mutil.CorruptError; another process holding the LRU
mutil.WouldBlock. Like the C object, an LRU belongs to one thread at a
time.
"""
import array

from . import errors
from ._handle import Handle
from ._lib import check, check_ptr, ffi, lib, to_bytes, to_cstr

_DURABILITY = {'immediate': lib.MU_LRU_IMMEDIATE, 'group': lib.MU_LRU_GROUP,
               'at_flush': lib.MU_LRU_AT_FLUSH}


def _key(key):
    return bytes(to_bytes(key, 'key'))


def _on_evict(arg, key, length, size):
    ffi.from_handle(arg).append((ffi.unpack(ffi.cast('const char *', key), length), size))


def _on_visit(arg, key, length, size, level):
    ffi.from_handle(arg).append((ffi.unpack(ffi.cast('const char *', key), length), size, level))
    return 0


_evict_cb = ffi.callback('mu_lru_evict_fn', _on_evict)
_FLAT_ITEMS = (ffi.sizeof('mu_lru_item_t') == 24 and ffi.sizeof('void *') == 8
               and [f[1].offset for f in ffi.typeof('mu_lru_item_t').fields] == [0, 8, 16])


def _item_array(blob, keys, sizes):
    """mu_lru_item_t[len(keys)] pointing into blob (the keys one after the
    other), and what must stay alive with it. Where the struct is three
    64-bit words, built as an array of words (much faster than cdata)."""
    base, offset = int(ffi.cast('uintptr_t', blob)), 0
    if _FLAT_ITEMS:
        words = array.array('Q')
        for key, size in zip(keys, sizes):
            words.extend((base + offset, len(key), size))
            offset += len(key)
        return ffi.cast('mu_lru_item_t *', ffi.from_buffer(words)), (words, blob)
    rows = []
    for key, size in zip(keys, sizes):
        rows.append((blob + offset, len(key), size))
        offset += len(key)
    return ffi.new('mu_lru_item_t[]', rows), (blob,)
_visit_cb = ffi.callback('mu_lru_foreach_fn', _on_visit, error=1)


class LRU(Handle):
    """An in-memory LRU of capacity (> 0) size units over levels levels
    (1..64; 0: 4). Raises mutil.InvalidError for a bad capacity or levels.
    LRU.open() opens a persistent one."""

    _ctype = 'mu_lru_t'
    _destroy = lib.mu_lru_destroy

    def __init__(self, capacity, levels=0):
        self._check_size(capacity, 'capacity')
        super().__init__(check_ptr(lib.mu_lru_new(capacity, levels)))

    @classmethod
    def open(cls, dir, name, capacity=0, levels=0, *, create=False, readonly=False,
             sync_full=False):
        """Opens the persistent LRU DIR/NAME.lru. With create, a missing one
        is created with capacity (> 0) and levels; for an existing one 0
        means "as stored", other values must equal the stored ones. readonly
        inspects without the lock (every change raises AuthError);
        sync_full makes commits survive power loss. Raises NotFoundError
        (missing, create not given), ExistsError (other capacity/levels),
        WouldBlock (another process has it open), AuthError (no access),
        CorruptError (not an LRU file), InvalidError (bad name...)."""
        flags = ((lib.MU_LRU_CREATE if create else 0) | (lib.MU_LRU_READONLY if readonly else 0)
                 | (lib.MU_LRU_SYNC_FULL if sync_full else 0))
        cls._check_size(capacity, 'capacity')
        self = cls.__new__(cls)
        Handle.__init__(self, check_ptr(lib.mu_lru_open(
            to_cstr(str(dir), 'dir'), to_cstr(name), capacity, levels, flags)))
        return self

    @staticmethod
    def _check_size(value, what):
        if not isinstance(value, int) or isinstance(value, bool):
            raise TypeError('%s must be an int' % what)
        if not 0 <= value < 2 ** 64:
            raise ValueError('%s must be 0 .. 2**64-1' % what)

    # -- accesses -------------------------------------------------------

    def increment(self, key, size):
        """Records an access to key whose size is now size: promotes a
        present key (returns True, a hit) or adds it (returns False). Never
        evicts. Raises InvalidError (key too long, total over 64 bits),
        AuthError (read-only), an SQLite failure as mutil.Error (the key is
        then not added)."""
        self._check_size(size, 'size')
        key = _key(key)
        return check(lib.mu_lru_increment(self._p, key, len(key), size)) == 1

    def increment_many(self, items):
        """Records the accesses of items, an iterable of (key, size), in
        order, as increment() would (faster). Returns the number of hits.
        A failing item does not stop the others: the first failure is then
        raised after all were tried."""
        keys, sizes = [], []
        for key, size in items:
            keys.append(_key(key))
            sizes.append(size)
        if not all(type(size) is int and 0 <= size < 2 ** 64 for size in sizes):
            for size in sizes:
                self._check_size(size, 'size')     # raises the precise error
        blob = ffi.from_buffer(b''.join(keys))     # every key in one buffer
        array, keep = _item_array(blob, keys, sizes)
        return check(lib.mu_lru_increment_many(self._p, array, len(keys), ffi.NULL))

    def delete(self, key):
        """Forgets key (not an eviction). Raises NotFoundError (absent),
        AuthError (read-only)."""
        key = _key(key)
        check(lib.mu_lru_delete(self._p, key, len(key)))

    __delitem__ = delete

    def evict(self, dry_run=False):
        """Removes keys from the tail of level 0 while the total exceeds the
        capacity. Returns the evicted [(key, size), ...] in eviction order
        (with dry_run: what would be, changing nothing). Raises AuthError on
        a read-only LRU (without dry_run)."""
        out = []
        handle = ffi.new_handle(out)
        check(lib.mu_lru_evict(self._p, lib.MU_LRU_DRY_RUN if dry_run else 0, _evict_cb, handle))
        return out

    def resize(self, capacity):
        """Changes the capacity (> 0); evict() afterwards if over > 0.
        Raises InvalidError, AuthError (read-only)."""
        self._check_size(capacity, 'capacity')
        check(lib.mu_lru_resize(self._p, capacity))

    def set_boost(self, max_size, level):
        """New keys of size <= max_size enter level `level` (clamped to the
        top) instead of level 0; max_size 0 turns it off. Raises
        InvalidError for level < 0."""
        self._check_size(max_size, 'max_size')
        check(lib.mu_lru_set_boost(self._p, max_size, level))

    def set_durability(self, policy, interval=None):
        """When new keys reach the disk: 'immediate' (before increment
        returns; the default), 'group' (a background commit every interval
        seconds, 0.001..60; None: 0.1), 'at_flush'. Raises ValueError for
        an unknown policy, mutil.Error MU_ENOTSUP on an in-memory or
        read-only LRU, InvalidError for a bad interval."""
        if policy not in _DURABILITY:
            raise ValueError('policy must be one of %s' % ', '.join(_DURABILITY))
        group_ms = 0 if interval is None else int(round(interval * 1000))
        if interval is not None and group_ms < 1:
            raise ValueError('interval must be at least 0.001 s')
        check(lib.mu_lru_set_durability(self._p, _DURABILITY[policy], group_ms))

    def flush(self):
        """Writes every change since the last flush in one transaction (a
        no-op in memory or read-only). Raises the SQLite failure as
        mutil.Error; the changes then stay pending."""
        check(lib.mu_lru_flush(self._p))

    # -- reading --------------------------------------------------------

    def __contains__(self, key):
        """True when key is present (no promotion); False for a key that is not bytes or str."""
        try:
            key = _key(key)
        except TypeError:
            return False
        return lib.mu_lru_contains(self._p, key, len(key)) == 1

    def peek(self, key):
        """(size, level) of key, without promotion. Raises NotFoundError."""
        key = _key(key)
        size, level = ffi.new('uint64_t *'), ffi.new('int *')
        check(lib.mu_lru_peek(self._p, key, len(key), size, level))
        return size[0], level[0]

    def __getitem__(self, key):
        """The size of key (no promotion). Raises NotFoundError (KeyError)."""
        return self.peek(key)[0]

    def get(self, key, default=None):
        """The size of key, or default when absent."""
        try:
            return self[key]
        except errors.NotFoundError:
            return default

    def items(self):
        """[(key, size, level), ...] for every key, top level first, each
        level from head to tail: the last is the next evict() removes."""
        out = []
        handle = ffi.new_handle(out)
        check(lib.mu_lru_foreach(self._p, _visit_cb, handle))
        return out

    def __iter__(self):
        """The keys, in items() order."""
        return iter([key for key, _, _ in self.items()])

    def __len__(self):
        """The number of keys."""
        return self.stats()['count']

    @property
    def over(self):
        """Size units above the capacity (0 when it fits)."""
        return lib.mu_lru_over(self._p)

    @property
    def levels(self):
        """The number of levels."""
        return lib.mu_lru_levels(self._p)

    @property
    def capacity(self):
        """The capacity in size units."""
        return self.stats()['capacity']

    def stats(self):
        """A dict: count, total, capacity, hits, misses, evictions, levels,
        and level_count, level_total, level_capacity (lists, one per level,
        level 0 first)."""
        st = ffi.new('mu_lru_stats_t *')
        st.size = ffi.sizeof('mu_lru_stats_t')
        check(lib.mu_lru_stats(self._p, st))
        out = {name: getattr(st, name) for name in
               ('count', 'total', 'capacity', 'hits', 'misses', 'evictions', 'levels')}
        for name in ('level_count', 'level_total', 'level_capacity'):
            out[name] = list(getattr(st, name)[0:st.levels])
        return out
