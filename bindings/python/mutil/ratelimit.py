# SPDX-License-Identifier: MPL-2.0
# Copyright (c) 2026 the mutil authors
"""mutil.RateLimit (mu_ratelimit.h) and mutil.Histogram (mu_hist.h).

    rl = mutil.RateLimit(100, period=1.0, burst=10)   # 100/s, bursts of 10
    rl.try_acquire()            # True / False, never waits
    rl.acquire(timeout=0.5)     # waits; raises mutil.TimeoutError if too long
    rl.delay()                  # seconds until a token is there
    rl.fileno()                 # poll/select/asyncio: readable with a token

    window = mutil.RateLimit(100, period=60, kind='window')  # 100 in any minute

    h = mutil.Histogram()
    h.record(1234)              # ints >= 0 (nanoseconds, bytes, ...)
    h.summary()                 # count, min, max, mean, p50, p90, p99, p999
    h.quantile(0.999)

A RateLimit may be shared by threads (acquire releases the GIL while it
waits); a Histogram belongs to one thread at a time (merge() combines
them). Percentiles are within 1/256 of the exact value.
"""
from ._handle import Handle
from ._lib import check, check_ptr, ffi, lib, timeout_ms

_KINDS = {'bucket': lib.MU_RATELIMIT_TOKEN_BUCKET, 'window': lib.MU_RATELIMIT_SLIDING_WINDOW}


class RateLimit(Handle):
    """RateLimit(limit, period=1.0, burst=0, kind='bucket'): at most limit
    events per period seconds (whole milliseconds, 0.001 to 86400). 'bucket'
    spaces events period/limit apart after a burst of burst (0: limit);
    'window' lets no period-long window hold more than limit. Raises
    mutil.InvalidError (a ValueError) for values out of range."""

    _ctype = 'mu_ratelimit_t'
    _destroy = lib.mu_ratelimit_destroy

    def __init__(self, limit, period=1.0, burst=0, kind='bucket'):
        if kind not in _KINDS:
            raise ValueError("kind must be 'bucket' or 'window', not %r" % (kind,))
        opts = ffi.new('mu_ratelimit_opts_t *')
        opts.kind = _KINDS[kind]
        opts.limit = max(0, min(int(limit), 2**32 - 1))
        opts.period_ms = int(round(period * 1000))
        opts.burst = max(0, min(int(burst), 2**32 - 1))
        super().__init__(check_ptr(lib.mu_ratelimit_new(opts)))

    def try_acquire(self, n=1):
        """Takes n tokens if they are there now: True, else False (none
        taken). Raises mutil.InvalidError for n out of 1..burst (or limit)."""
        rc = lib.mu_ratelimit_try(self._p, self._n(n))
        if rc == lib.MU_EAGAIN:
            return False
        check(rc)
        return True

    def acquire(self, n=1, timeout=None):
        """Takes n tokens, waiting up to timeout seconds (None: no limit, 0:
        no wait). Raises mutil.WouldBlock (timeout 0) or mutil.TimeoutError,
        at once when the tokens cannot come in time."""
        check(lib.mu_ratelimit_acquire(self._p, self._n(n), timeout_ms(timeout)))

    def delay(self, n=1):
        """Seconds until n tokens are there (0.0: now); takes nothing."""
        return check(lib.mu_ratelimit_delay_ns(self._p, self._n(n))) / 1e9

    def fileno(self):
        """An fd that polls readable while a token is there (then call
        try_acquire); owned by the limiter."""
        return check(lib.mu_ratelimit_fd(self._p))

    @staticmethod
    def _n(n):
        n = int(n)
        return n if 0 <= n < 2**32 else 0  # 0 and out of range: InvalidError from C


class Histogram(Handle):
    """Histogram(): counts ints from 0 to 2**64 - 1 in fixed memory."""

    _ctype = 'mu_hist_t'
    _destroy = lib.mu_hist_destroy

    def __init__(self):
        super().__init__(check_ptr(lib.mu_hist_new()))

    def record(self, value):
        """Counts value (an int >= 0; ValueError otherwise)."""
        value = int(value)
        if not 0 <= value < 2**64:
            raise ValueError('value must be in 0 .. 2**64 - 1')
        lib.mu_hist_record(self._p, value)

    def merge(self, other):
        """Adds every value of other to this histogram."""
        lib.mu_hist_merge(self._p, other._p)

    def reset(self):
        """Forgets every value."""
        lib.mu_hist_reset(self._p)

    def __len__(self):
        return lib.mu_hist_count(self._p)

    def quantile(self, q):
        """The q-quantile (0 <= q <= 1); mutil.InvalidError for another q,
        mutil.NotFoundError when empty."""
        out = ffi.new('uint64_t *')
        check(lib.mu_hist_quantile(self._p, float(q), out))
        return out[0]

    def summary(self):
        """A dict: count, min, max, mean, p50, p90, p99, p999 (zeros when
        empty)."""
        s = ffi.new('mu_hist_summary_t *')
        s.size = ffi.sizeof('mu_hist_summary_t')
        check(lib.mu_hist_summary(self._p, s))
        return {k: getattr(s, k) for k in ('count', 'min', 'max', 'mean', 'p50', 'p90', 'p99',
                                           'p999')}
