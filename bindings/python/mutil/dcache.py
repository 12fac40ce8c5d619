# SPDX-License-Identifier: MPL-2.0
# Copyright (c) 2026 the mutil authors
"""mutil.DCache: a TTL disk cache in one SQLite file, with a size cap
(least recently used evicted) and an HTTP fetch-through (mu_dcache.h,
doc/dcache.md).

    with mutil.DCache('/var/cache/app.db', max_bytes=64 << 20) as cache:
        cache.set('k', b'v', ttl=60)        # seconds; None: never expires
        cache.get('k')                      # b'v', or None when absent/expired
        body = cache.fetch('https://example.com/data.json', ttl=600)

Keys and values are bytes (str is encoded as UTF-8). Errors: a corrupt
file mutil.CorruptError, another process holding the cache
mutil.WouldBlock, fetch failures mutil.RemoteError (a final HTTP status other than 2xx),
mutil.ConnectionError, mutil.TimeoutError... A DCache may be shared by
threads.
"""
from ._handle import Handle
from ._lib import check, check_ptr, ffi, lib, stats, take_malloced, to_bytes, to_cstr


def _ttl(ttl):
    if ttl is None:
        return lib.MU_DCACHE_FOREVER
    ms = int(round(ttl * 1000))
    if ms <= 0:
        raise ValueError('ttl must be None or > 0 seconds')
    return ms


class DCache(Handle):
    """Opens (creating when missing) the cache file path. max_bytes and
    max_value 0 take the defaults (256 MiB, 64 MiB); lock_timeout in
    seconds (0: fail at once, None: wait forever); fetch_timeout in
    seconds (None: 30)."""

    _ctype = 'mu_dcache_t'
    _destroy = lib.mu_dcache_destroy

    def __init__(self, path, max_bytes=0, max_value=0, lock_timeout=0, fetch_timeout=None):
        o = ffi.new('mu_dcache_options_t *')
        o.size = ffi.sizeof('mu_dcache_options_t')
        o.max_bytes, o.max_value = max_bytes, max_value
        o.lock_timeout_ms = -1 if lock_timeout is None else int(lock_timeout * 1000)
        o.fetch_timeout_ms = 0 if fetch_timeout is None else max(1, int(fetch_timeout * 1000))
        super().__init__(check_ptr(lib.mu_dcache_open(to_cstr(path, 'path'), o)))

    def set(self, key, value, ttl=None):
        """Stores value under key for ttl seconds (None: forever)."""
        k, v = bytes(to_bytes(key, 'key')), bytes(to_bytes(value, 'value'))
        check(lib.mu_dcache_set(self._p, k, len(k), v, len(v), _ttl(ttl)))

    def get(self, key, default=None):
        """The value of key, or default when absent or expired."""
        k = bytes(to_bytes(key, 'key'))
        vp, n = ffi.new('void **'), ffi.new('size_t *')
        rc = lib.mu_dcache_get(self._p, k, len(k), vp, n)
        if rc == lib.MU_ENOENT:
            return default
        check(rc)
        return take_malloced(vp[0], n[0])

    def delete(self, key):
        """Removes key; raises mutil.NotFoundError when absent."""
        k = bytes(to_bytes(key, 'key'))
        check(lib.mu_dcache_delete(self._p, k, len(k)))

    def purge_expired(self):
        """Removes the expired entries; returns how many."""
        return check(lib.mu_dcache_purge_expired(self._p))

    def fetch(self, url, ttl=3600):
        """url's body: from the cache, else one HTTP GET kept for ttl s."""
        vp, n = ffi.new('void **'), ffi.new('size_t *')
        check(lib.mu_dcache_fetch(self._p, to_cstr(url, 'url'), _ttl(ttl), vp, n, ffi.NULL))
        return take_malloced(vp[0], n[0])

    def stats(self):
        """Counters as a dict (count, bytes, max_bytes, hits, misses, ...)."""
        return stats(lib.mu_dcache_stats, self._p, 'mu_dcache_stats_t')

    @staticmethod
    def can_fetch():
        """True when libmutil was built with libcurl."""
        return bool(lib.mu_dcache_can_fetch())
