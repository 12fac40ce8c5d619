# SPDX-License-Identifier: MPL-2.0
# Copyright (c) 2026 the mutil authors
"""mutil.RateLimit and mutil.Histogram over mu_ratelimit / mu_hist: the
burst, the delay, the fd, blocking acquire (generous bounds), errors;
exact small values and merge of the histogram."""
import select
import time

import pytest

import mutil
from conftest import bound


def test_bucket_burst_then_delay():
    rl = mutil.RateLimit(10, period=60.0, burst=3)      # a token each 6 s
    assert [rl.try_acquire() for _ in range(4)] == [True, True, True, False]
    assert 5.0 < rl.delay() <= 6.0
    with pytest.raises(mutil.WouldBlock):
        rl.acquire(timeout=0)
    t0 = time.monotonic()
    with pytest.raises(mutil.TimeoutError):
        rl.acquire(timeout=0.5)                          # 6 s away: fails at once
    assert time.monotonic() - t0 < bound(5)
    rl.close()
    with pytest.raises(mutil.InvalidError):
        rl.try_acquire()


def test_acquire_waits():
    rl = mutil.RateLimit(20, period=1.0, burst=1)
    t0 = time.monotonic()
    assert rl.try_acquire()
    rl.acquire(timeout=bound(5))                         # the next token: 50 ms later
    assert time.monotonic() - t0 >= 0.049
    rl.close()


def test_window_and_fd():
    with mutil.RateLimit(2, period=60, kind='window') as slow:
        assert slow.try_acquire(2) and not slow.try_acquire()
        assert select.select([slow.fileno()], [], [], 0.05)[0] == []
    with mutil.RateLimit(2, period=0.2, kind='window') as rl:
        assert rl.try_acquire(2)
        fd = rl.fileno()
        assert select.select([fd], [], [], bound(5))[0] == [fd]   # 200 ms later
        assert rl.try_acquire()


@pytest.mark.parametrize('args', [dict(limit=0), dict(limit=5, period=0),
                                  dict(limit=5, period=86401), dict(limit=5, burst=2, kind='window'),
                                  dict(limit=10**7)])
def test_invalid_options(args):
    with pytest.raises(mutil.InvalidError):
        mutil.RateLimit(**args)


def test_invalid_calls():
    with mutil.RateLimit(5, burst=2) as rl:
        for n in (0, 3, -1):
            with pytest.raises(mutil.InvalidError):
                rl.try_acquire(n)
        with pytest.raises(ValueError):
            rl.acquire(timeout=-1)
    with pytest.raises(ValueError):
        mutil.RateLimit(5, kind='leaky')


def test_histogram():
    h = mutil.Histogram()
    for v in range(1, 101):
        h.record(v)
    s = h.summary()
    assert (s['count'], s['min'], s['max'], s['p50'], s['p99'], s['mean']) == (100, 1, 100, 50, 99,
                                                                              50.5)
    assert h.quantile(0) == 1 and h.quantile(1) == 100 and len(h) == 100
    big = mutil.Histogram()
    big.record(10**9)
    h.merge(big)
    assert h.quantile(1) == 10**9 and len(h) == 101
    assert abs(h.quantile(0.999) - 10**9) <= 10**9 / 256
    for q in (-0.1, 1.5, float('nan')):
        with pytest.raises(mutil.InvalidError):
            h.quantile(q)
    h.reset()
    with pytest.raises(mutil.NotFoundError):
        h.quantile(0.5)
    assert h.summary()['count'] == 0
    with pytest.raises(ValueError):
        h.record(-1)
