# SPDX-License-Identifier: MPL-2.0
# Copyright (c) 2026 the mutil authors
"""mutil.Producer and mutil.aio.Producer."""
import asyncio
import select
import threading

import pytest

import mutil
import mutil.aio
from conftest import bound


def test_iterates_a_generator_on_another_thread():
    threads = []

    def numbers(n):
        threads.append(threading.get_ident())
        yield from range(n)
    with mutil.Producer(numbers(100), capacity=4) as p:
        assert list(p) == list(range(100))
        with pytest.raises(mutil.ClosedError):
            p.get(0)                     # end of stream, for ever
    assert threads and threads[0] != threading.get_ident()
    assert p.closed


def test_objects_pass_as_they_are():
    items = [None, b'x', {'a': [1]}, object()]
    with mutil.Producer(items, capacity=1) as p:
        got = [p.get(bound(10)) for _ in items]
    assert all(a is b for a, b in zip(got, items))


def test_fd_wouldblock_and_timeout():
    gate = threading.Event()

    def gated():
        gate.wait(bound(30))
        yield 'late'
    with mutil.Producer(gated(), capacity=2) as p:
        with pytest.raises(mutil.WouldBlock):
            p.get(0)
        with pytest.raises(mutil.TimeoutError):
            p.get(0.01)
        assert select.select([p.fd], [], [], 0)[0] == []
        gate.set()
        assert select.select([p.fd], [], [], bound(10))[0] == [p.fd]
        assert p.get(0) == 'late'


def test_source_exception_reaches_the_consumer_once():
    def failing():
        yield 1
        raise ValueError('bad row')
    p = mutil.Producer(failing(), capacity=4)
    assert p.get(bound(10)) == 1
    with pytest.raises(mutil.InvalidError) as info:
        p.get(bound(10))
    assert isinstance(info.value.__cause__, ValueError)
    assert p.callback_errors == 1
    with pytest.raises(mutil.ClosedError):
        p.get(bound(10))
    p.close()


def test_close_stops_an_endless_source_and_runs_its_finally():
    finished = threading.Event()

    def endless():
        try:
            n = 0
            while True:
                yield n
                n += 1
        finally:
            finished.set()
    p = mutil.Producer(endless(), capacity=2)
    assert p.get(bound(10)) == 0
    p.close()                            # source blocked in put: woken, stopped
    assert finished.is_set()
    with pytest.raises(mutil.InvalidError):
        p.get(0)


def test_bad_arguments():
    with pytest.raises(ValueError):
        mutil.Producer([], capacity=0)
    with pytest.raises(TypeError):
        mutil.Producer(3)


def test_async_for():
    async def main():
        async with mutil.aio.Producer((i * i for i in range(20)), capacity=3) as p:
            return [x async for x in p]
    assert asyncio.run(main()) == [i * i for i in range(20)]


def test_async_get_timeout():
    gate = threading.Event()

    def gated():
        gate.wait(bound(30))
        yield 1

    async def main():
        p = mutil.aio.Producer(gated(), capacity=1)
        with pytest.raises(mutil.TimeoutError):
            await p.get(0.01)
        gate.set()
        assert await p.get(bound(10)) == 1
        with pytest.raises(mutil.ClosedError):
            await p.get(bound(10))
        p.close()
    asyncio.run(main())
    with pytest.raises(TypeError):
        iter(mutil.aio.Producer([], capacity=1))
