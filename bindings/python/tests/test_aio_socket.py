# SPDX-License-Identifier: MPL-2.0
# Copyright (c) 2026 the mutil authors
"""mutil.aio.Socket: `await sock.recv()` and `async for msg in sock` on the
running loop, with the socket's periodic work (tick) run while it waits."""
import asyncio
import time

import pytest

import mutil
import mutil.aio
from conftest import bound
from test_socket import ipc

JOIN, LEAVE, MESSAGE = mutil.SocketEvent.JOIN, mutil.SocketEvent.LEAVE, mutil.SocketEvent.MESSAGE


def run(coro, seconds=10.0):
    """Runs coro on a fresh loop, failing after the (scaled) bound."""
    return asyncio.run(asyncio.wait_for(coro, bound(seconds)))


async def joined(hub, peer):
    """Binds hub, connects peer and awaits the JOIN event on both sides
    (both sockets have events on)."""
    hub.bind(ipc())
    peer.connect(hub.endpoint)
    a, b = await asyncio.gather(hub.recv(), peer.recv())
    assert (a.event, a.peer) == (JOIN, peer.identity)
    assert (b.event, b.peer) == (JOIN, hub.identity)


def test_await_recv_gets_a_message():
    async def main():
        with mutil.aio.Socket(events=True) as hub, mutil.aio.Socket(events=True) as peer:
            await joined(hub, peer)
            peer.send(b'to the hub')
            msg = await hub.recv()
            assert (msg.event, msg.peer, msg.data) == (MESSAGE, peer.identity, b'to the hub')
            hub.send_to(msg.peer, b'reply')
            assert (await peer.recv()).data == b'reply'
    run(main())


def test_async_for_receives_in_order():
    async def main():
        with mutil.aio.Socket(events=True) as hub, mutil.aio.Socket(events=True) as peer:
            await joined(hub, peer)
            for i in range(20):
                hub.send(b'%d' % i)
            got = []
            async for msg in peer:
                got.append(msg.data)
                if len(got) == 20:
                    break
            assert got == [b'%d' % i for i in range(20)]
    run(main())


def test_recv_waits_for_a_message_sent_later():
    async def main():
        with mutil.aio.Socket(events=True) as hub, mutil.aio.Socket(events=True) as peer:
            await joined(hub, peer)
            waiting = asyncio.ensure_future(peer.recv())
            await asyncio.sleep(0)  # let it reach its wait on the fd
            assert not waiting.done()
            hub.send(b'late')
            assert (await waiting).data == b'late'
    run(main())


def test_recv_timeout():
    async def main():
        with mutil.aio.Socket() as s:
            t0 = time.monotonic()
            with pytest.raises(mutil.TimeoutError):
                await s.recv(timeout=0.05)
            assert time.monotonic() - t0 >= 0.04
    run(main())


def test_heartbeats_run_while_awaiting():
    """Both sides only await recv: without ticks from the wait, the hub's
    0.3 s timeout would see the peer leave."""
    async def main():
        hb = (0.05, 0.3)
        with mutil.aio.Socket(events=True, heartbeat=hb) as hub, \
                mutil.aio.Socket(events=True, heartbeat=hb) as peer:
            await joined(hub, peer)
            results = await asyncio.gather(hub.recv(timeout=1.0), peer.recv(timeout=1.0),
                                           return_exceptions=True)
            assert all(isinstance(r, mutil.TimeoutError) for r in results), results
            assert hub.peers == 1 and peer.peers == 1
            assert hub.stats()['leaves'] == 0
    run(main())


def test_silent_peer_leaves_while_awaiting():
    async def main():
        with mutil.aio.Socket(events=True, heartbeat=(0.05, 0.2)) as hub, \
                mutil.aio.Socket(events=True) as peer:
            await joined(hub, peer)
            msg = await hub.recv()  # the peer is not awaited again: silent
            assert (msg.event, msg.peer) == (LEAVE, peer.identity)
    run(main())


def test_closed_async_socket_raises():
    async def main():
        s = mutil.aio.Socket()
        s.close()
        with pytest.raises(mutil.InvalidError):
            await s.recv()
        with pytest.raises(StopAsyncIteration):
            await s.__anext__()
    run(main())


def test_async_socket_refuses_blocking_iteration():
    with mutil.aio.Socket() as s, pytest.raises(TypeError):
        iter(s)
