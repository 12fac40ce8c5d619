# SPDX-License-Identifier: MPL-2.0
# Copyright (c) 2026 the mutil authors
"""The aiomisc tutorial's examples (../shared/seeds/aiomisc-tutorial.txt)
rewritten for mutil: services, the entrypoint, aiomisc.run, and the thread
helpers (threaded -> mutil.aio.Pool, threaded_separate -> a one-thread
pool, threaded_iterable -> mutil.aio.Producer). Not carried over:
__async_required__ (a class-declaration check of aiomisc's metaclass) and
the entrypoint's logging/pool/loop-policy options (mutil's entrypoint logs
through czmq; pools are separate objects)."""
import asyncio
import hashlib
import os
import signal

import mutil
import mutil.aio
from conftest import bound


class InfinityService(mutil.Service):
    """start() runs for ever; it says it is ready, and stopping cancels it."""

    async def start(self):
        self.ready()                       # aiomisc: self.start_event.set()
        while True:
            await asyncio.sleep(1)         # do some stuff


class OrdinaryService(mutil.Service):
    """Explicit start() and stop(), each run once."""

    async def start(self):
        self.started = True

    async def stop(self, timeout):
        self.stopped = True


class HelloService(mutil.Service):
    """Keyword arguments become attributes; name has a class default."""
    name = 'world'

    def start(self):
        print('Hello %s' % self.name)


class HelloTitleService(mutil.Service):
    """__required__: the constructor demands these keyword arguments."""
    __required__ = ('name', 'title')

    async def greeting(self):
        await asyncio.sleep(0)
        return 'Hello %s %s' % (self.title, self.name)

    async def start(self):
        print(await self.greeting())


class HelloEmojiService(HelloTitleService):
    async def greeting(self):
        await asyncio.sleep(0)
        return '\U0001f64b %s %s' % (self.title, self.name)


def test_hello_services(capsys):
    with mutil.Entrypoint(HelloService(), HelloService(name='Guido'), log_level='quiet'):
        pass
    # the start() calls run concurrently (each on its own thread), as in aiomisc
    assert sorted(capsys.readouterr().out.splitlines()) == ['Hello Guido', 'Hello world']


def test_required_arguments(capsys):
    try:
        HelloTitleService(name='Guido')
    except TypeError as exc:
        assert 'title' in str(exc)
    else:
        raise AssertionError('title is required')

    async def main():
        async with mutil.aio.Entrypoint(HelloTitleService(name='Guido', title='mr.'),
                                        log_level='quiet'):
            pass
    asyncio.run(main())
    assert capsys.readouterr().out == 'Hello mr. Guido\n'


def test_async_greetings(capsys):
    async def main():
        async with mutil.aio.Entrypoint(HelloTitleService(name='Guido', title='mr.'),
                                        HelloEmojiService(name='\U0001f468', title='\U0001f3a9'),
                                        log_level='quiet'):
            pass
    asyncio.run(main())
    assert sorted(capsys.readouterr().out.splitlines()) == [
        'Hello mr. Guido', '\U0001f64b \U0001f3a9 \U0001f468']


def test_entrypoint_runs_until_interrupted():
    """`with aiomisc.entrypoint(...) as loop: loop.run_forever()` until the
    user presses Ctrl-C: here the test sends SIGINT itself."""
    ordinary = OrdinaryService()

    async def main():
        async with mutil.aio.Entrypoint(ordinary, InfinityService(), log_level='quiet',
                                        start_timeout=30, shutdown_timeout=10) as ep:
            os.kill(os.getpid(), signal.SIGINT)
            assert await ep.wait(bound(10))         # run_forever() ends
        return ep.signal
    assert asyncio.run(main()) == signal.SIGINT
    assert ordinary.started and ordinary.stopped


def test_aiomisc_run_equivalent():
    log = []

    async def sleep_and_exit():
        log.append('Started')
        await asyncio.sleep(0)
        log.append('Exiting')
        return 'done'
    ordinary = OrdinaryService()
    result = mutil.aio.run(sleep_and_exit(), ordinary, InfinityService(), log_level='quiet')
    assert result == 'done' and log == ['Started', 'Exiting'] and ordinary.stopped


def blocking_io():
    with open('/dev/urandom', 'rb') as f:
        return f.read(100)


def test_threaded_blocking_io():
    """@aiomisc.threaded: a blocking function awaited from the loop."""
    async def main():
        async with mutil.aio.Pool(4) as pool:
            return await pool.run(blocking_io)
    assert len(asyncio.run(main())) == 100


def test_threaded_with_submit_and_result():
    """The same with the pool's own ids: submit, then take the result."""
    async def main():
        async with mutil.aio.Pool(4) as pool:
            job = await pool.submit(blocking_io)
            res = await pool.result(bound(10))
            assert res.id == job and res.exception is None
            return res.value
    assert len(asyncio.run(main())) == 100


def another_one_useless_coin_miner():
    with open('/dev/urandom', 'rb') as f:
        hasher = hashlib.sha256()
        while True:
            hasher.update(f.read(1024))
            if hasher.hexdigest().startswith('0'):   # aiomisc: "0000"; shorter here
                return hasher.hexdigest()


def test_threaded_separate_miner():
    """@aiomisc.threaded_separate: a long job on a thread of its own."""
    async def main():
        async with mutil.aio.Pool(1) as miner:
            return await miner.run(another_one_useless_coin_miner)
    assert asyncio.run(main()).startswith('0')


def urandom_reader():
    with open('/dev/urandom', 'rb') as fp:
        while True:
            yield fp.read(8)


def test_threaded_iterable_reader():
    """@aiomisc.threaded_iterable(max_size=8): a blocking generator read
    with async for, bounded queue, stopped after 17 chunks."""
    async def main():
        counter = 0
        async with mutil.aio.Producer(urandom_reader(), capacity=8) as chunks:
            async for chunk in chunks:
                assert len(chunk) == 8
                counter += 1
                if counter > 16:
                    break
        return counter
    assert asyncio.run(main()) == 17
