# SPDX-License-Identifier: MPL-2.0
# Copyright (c) 2026 the mutil authors
"""asyncio: mutil.aio.Pipe (fd pipes on their fd, ZeroMQ pipes on ZMQ_FD,
a writer that must wait for room), mutil.aio.Server with plain and
coroutine handlers, mutil.aio.Client (concurrent requests, pushes with
`async for`, streams, get with progress), timeouts and cancellation."""
import asyncio
import os
import threading

import pytest

import mutil
import mutil.aio
from mutil._lib import lib
from test_conn import serving
from conftest import bound


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, bound(30)))


def test_fd_pipe_recv_send_and_async_for():
    async def main():
        reader, writer = mutil.aio.Pipe.pair()
        receiving = asyncio.ensure_future(reader.recv())
        await asyncio.sleep(0)  # the reader is waiting on its fd now
        assert not receiving.done()
        await writer.send(b'first')
        assert await receiving == b'first'
        for i in range(5):
            await writer.send(b'%d' % i, more=i < 4)
        writer.close()
        assert [frame async for frame in reader] == [b'%d' % i for i in range(5)]
        reader.close()
    run(main())


def test_fd_writer_waits_for_room_while_the_reader_drains():
    async def main():
        reader, writer = mutil.aio.Pipe.pair()
        big = os.urandom(4 << 20)  # more than the pipe holds

        async def produce():
            for _ in range(3):
                await writer.send(big)
            assert writer.pending == 0
            writer.close()
        producer = asyncio.ensure_future(produce())
        frames = [frame async for frame in reader]
        await producer
        assert frames == [big] * 3
    run(main())


def test_zmq_pipe_on_the_loop():
    async def main():
        endpoint = 'inproc://aio-pipe-%d' % os.getpid()
        reader = mutil.aio.Pipe.zmq_reader(endpoint)
        writer = mutil.aio.Pipe.zmq_writer(endpoint)
        waiting = asyncio.ensure_future(reader.recv())
        await asyncio.sleep(0)
        for i in range(100):
            await writer.send(b'z%d' % i)
        got = [await waiting] + [await reader.recv() for _ in range(99)]
        assert got == [b'z%d' % i for i in range(100)]
        writer.close()
        assert [f async for f in reader] == []
    run(main())


def test_pipe_timeouts_and_misuse():
    async def main():
        reader, writer = mutil.aio.Pipe.pair(recv_timeout=0.05)
        with pytest.raises(mutil.TimeoutError):
            await reader.recv()
        with pytest.raises(mutil.TimeoutError):
            await reader.recv(timeout=0)
        with pytest.raises(TypeError):
            iter(reader)
        reader.close()
        with pytest.raises(mutil.ClosedError):
            await writer.send(b'nobody reads')
        writer.close()
        with pytest.raises(mutil.InvalidError):
            await writer.send(b'closed')
    run(main())


def test_aio_server_and_client_with_a_coroutine_handler():
    async def main():
        async def handler(event):
            await asyncio.sleep(0)
            if event.data == b'raise':
                raise RuntimeError('async handler failed')
            return event.data.upper()
        server = mutil.aio.Server('tcp://127.0.0.1:*', insecure=True, handler=handler)
        serving_task = asyncio.ensure_future(server.run())
        async with mutil.aio.Client(server.endpoint, insecure=True, timeout=bound(10)) as c:
            replies = await asyncio.gather(*(c.request(b'req %d' % i) for i in range(20)))
            assert replies == [b'REQ %d' % i for i in range(20)]
            with pytest.raises(mutil.RemoteError, match='async handler failed'):
                await c.request(b'raise')
            assert await c.request(b'after') == b'AFTER'
        server.stop()
        await serving_task
        assert server.handler_errors.count == 1
        server.close()
    run(main())


def test_aio_server_recv_events_and_pushes_to_async_for():
    async def main():
        server = mutil.aio.Server('tcp://127.0.0.1:*', insecure=True)
        async with mutil.aio.Client(server.endpoint, insecure=True, timeout=bound(10)) as c:
            ready = asyncio.ensure_future(c.wait_ready())
            join = await server.recv(timeout=bound(10))
            assert join.kind == 'join'
            await ready
            for i in range(3):
                server.stream_send(join.peer, 9, b'chunk %d' % i, last=i == 2)
            server.push(join.peer, b'pushed')
            got = []
            async for message in c:
                got.append(message)
                if message.kind == 'push':
                    break
            assert [m.data for m in got] == [b'chunk 0', b'chunk 1', b'chunk 2', b'pushed']
            await c.send(b'one way')
            await c.stream_send(3, b'up', last=True)
            kinds = [(await server.recv(timeout=bound(10))).kind for _ in range(2)]
            assert kinds == ['message', 'stream']
            with pytest.raises(mutil.TimeoutError):
                await c.recv(timeout=0.05)
        server.close()
    run(main())


def test_aio_client_with_a_threaded_server_get_and_timeout(tmp_path):
    root = tmp_path / 'root'
    root.mkdir()
    (root / 'f.bin').write_bytes(os.urandom(600000))
    release = threading.Event()

    def handler(event):
        if event.data == b'slow':
            release.wait(bound(10))
        return b'done'

    async def main():
        async with mutil.aio.Client(srv.endpoint, insecure=True, timeout=bound(10)) as c:
            progress = []
            await c.get('f.bin', tmp_path / 'f.bin', progress=lambda d, t: progress.append(d))
            assert (tmp_path / 'f.bin').read_bytes() == (root / 'f.bin').read_bytes()
            assert progress[-1] == 600000
            with pytest.raises(mutil.TimeoutError):
                await c.request(b'slow', timeout=0.1)
            release.set()
            slow = asyncio.ensure_future(c.request(b'slow'))
            await asyncio.sleep(0)
            slow.cancel()
            with pytest.raises(asyncio.CancelledError):
                await slow
            assert await c.request(b'fast') == b'done'  # the client still works
    with serving(insecure=True, root=root, handler=handler) as srv:
        run(main())


def test_aio_connection_failure_is_fast(tmp_path):
    async def main():
        async with mutil.aio.Client('ipc://%s/none' % tmp_path, insecure=True) as c:
            with pytest.raises(mutil.ConnectionError):
                await c.request(b'x', timeout=bound(10))
        with pytest.raises(TypeError):
            iter(c)
        with pytest.raises(mutil.InvalidError):
            await c.request(b'closed')
    run(main())
    assert lib.MU_ECONNREFUSED < 0
