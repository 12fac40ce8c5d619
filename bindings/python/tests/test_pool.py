# SPDX-License-Identifier: MPL-2.0
# Copyright (c) 2026 the mutil authors
"""mutil.Pool and mutil.aio.Pool."""
import asyncio
import os
import select
import subprocess
import sys
import threading

import pytest

import mutil
import mutil.aio
from conftest import bound


def test_submit_and_take_results():
    with mutil.Pool(2) as pool:
        assert pool.size == 2
        ids = [pool.submit(pow, i, 2) for i in range(10)]
        assert ids == list(range(1, 11))
        results = {r.id: r for r in (pool.result(bound(10)) for _ in ids)}
    assert [results[i].value for i in ids] == [i * i for i in range(10)]
    assert all(r.exception is None for r in results.values())


def test_jobs_run_on_pool_threads():
    with mutil.Pool(1) as pool:
        pool.submit(threading.get_ident)
        assert pool.result(bound(10)).value != threading.get_ident()


def test_job_exception_is_counted_and_returned():
    def bad():
        raise KeyError('missing')
    with mutil.Pool(1) as pool:
        job = pool.submit(bad)
        res = pool.result(bound(10))
        assert res.id == job and res.value is None
        assert isinstance(res.exception, KeyError)
        assert pool.callback_errors == 1
        pool.submit(int, '7')              # the pool goes on
        assert pool.result(bound(10)).value == 7


def test_map_keeps_order_and_raises():
    with mutil.Pool() as pool:
        assert pool.size == mutil.pool.default_size()
        assert pool.map(str, range(50)) == [str(i) for i in range(50)]
        with pytest.raises(ZeroDivisionError):
            pool.map(lambda x: 1 // x, [1, 0, 2])


def test_fd_wouldblock_timeout_and_backpressure():
    gate = threading.Event()
    with mutil.Pool(1, queue_cap=1) as pool:
        with pytest.raises(mutil.WouldBlock):
            pool.result(0)
        with pytest.raises(mutil.TimeoutError):
            pool.result(0.01)
        started = threading.Event()

        def blocked():
            started.set()
            gate.wait(bound(30))
        pool.submit(blocked)
        assert started.wait(bound(10))
        pool.submit(gate.wait, bound(30))   # fills the queue
        with pytest.raises(mutil.WouldBlock):
            pool.submit(int, timeout=0)
        assert select.select([pool.fd], [], [], 0)[0] == []
        gate.set()
        assert select.select([pool.fd], [], [], bound(10))[0] == [pool.fd]
        pool.result(0)
        pool.result(bound(10))


def test_bad_arguments_and_closed():
    with pytest.raises(ValueError):
        mutil.Pool(-1)
    with pytest.raises(mutil.InvalidError):
        mutil.Pool(5000)
    pool = mutil.Pool(1)
    with pytest.raises(TypeError):
        pool.submit(3)
    pool.close()
    with pytest.raises(mutil.InvalidError):
        pool.submit(int)


def test_close_drops_results_and_queued_jobs():
    gate = threading.Event()
    pool = mutil.Pool(1, queue_cap=4)
    pool.submit(gate.wait, bound(30))
    for _ in range(3):
        pool.submit(int)
    gate.set()
    pool.close()
    assert pool.closed


def test_async_result_and_submit():
    async def main():
        async with mutil.aio.Pool(2, queue_cap=1) as pool:
            ids = [await pool.submit(sum, [i, i]) for i in range(8)]
            got = {}
            for _ in ids:
                r = await pool.result(bound(10))
                got[r.id] = r.value
            with pytest.raises(mutil.TimeoutError):
                await pool.result(0.01)
            return [got[i] for i in ids]
    assert asyncio.run(main()) == [2 * i for i in range(8)]


def test_async_run_returns_values_and_raises_for_many_tasks():
    async def main():
        async with mutil.aio.Pool(3, queue_cap=2) as pool:
            values = await asyncio.gather(*(pool.run(pow, i, 2) for i in range(40)))
            with pytest.raises(ZeroDivisionError):
                await pool.run(lambda: 1 // 0)
            assert pool.callback_errors == 1
            return values
    assert asyncio.run(main()) == [i * i for i in range(40)]


def test_async_run_and_result_share_the_fd():
    gate = threading.Event()

    async def main():
        async with mutil.aio.Pool(2) as pool:
            job = await pool.submit(gate.wait, bound(30))
            waiting = asyncio.ensure_future(pool.result(bound(10)))
            assert await pool.run(str, 5) == '5'      # run's result is its own
            assert not waiting.done()
            gate.set()
            res = await waiting
            assert res.id == job and res.value is True
            with pytest.raises(mutil.WouldBlock):
                await pool.result(0)
    asyncio.run(main())


def test_async_result_timeout_gives_nothing_away():
    async def main():
        async with mutil.aio.Pool(1) as pool:
            with pytest.raises(mutil.TimeoutError):
                await pool.result(0.01)
            job = await pool.submit(int, '3')
            res = await pool.result(bound(10))
            assert (res.id, res.value) == (job, 3)
    asyncio.run(main())


def test_async_close_wakes_the_waiters():
    gate = threading.Event()

    async def main():
        pool = mutil.aio.Pool(1)
        started = threading.Event()

        def blocked():
            started.set()
            gate.wait(bound(30))
        running = asyncio.ensure_future(pool.run(blocked))
        queued = asyncio.ensure_future(pool.run(int))
        waiting = asyncio.ensure_future(pool.result())
        assert await asyncio.get_running_loop().run_in_executor(None, started.wait, bound(10))
        gate.set()                         # close() waits for the running job
        pool.close()
        for fut in (queued, waiting):
            with pytest.raises(mutil.ClosedError):
                await fut
        with pytest.raises(mutil.ClosedError):
            await running                  # finished, but its result was dropped
    asyncio.run(main())


EXIT_WITH_WORK = """
import itertools, threading, mutil
gate = threading.Event()
pool = mutil.Pool(2)
pool.submit(gate.wait, 0.2)                 # still running at exit
producer = mutil.Producer(itertools.count(), capacity=2)
print(producer.get())
"""


def test_exit_with_jobs_running_is_clean():
    env = dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(mutil.__file__)))
    proc = subprocess.run([sys.executable, '-c', EXIT_WITH_WORK], env=env, capture_output=True,
                          text=True, timeout=bound(60))
    assert (proc.returncode, proc.stdout) == (0, '0\n'), proc.stderr
    assert 'Sanitizer' not in proc.stderr
