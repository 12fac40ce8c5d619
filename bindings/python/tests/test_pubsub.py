# SPDX-License-Identifier: MPL-2.0
# Copyright (c) 2026 the mutil authors
"""mutil.Publisher / Subscriber / Proxy (and their mutil.aio variants):
prefix matching, unsubscribe, the last-value cache, a proxy, CURVE, the C
tool `mutil proxy` between Python peers, and the errors of bad use.

Every wait is on an event: the publisher reading a subscription
(wait_subscribed), a received message, a line from the tool."""
import asyncio
import atexit
import itertools
import select
import shutil
import signal
import subprocess
import tempfile
import time

import pytest

import mutil
import mutil.aio
from conftest import bound

_ipc_dir = tempfile.mkdtemp(prefix='mu_pypubsub.')
_ipc_seq = itertools.count()
atexit.register(shutil.rmtree, _ipc_dir, True)


def ipc():
    """A fresh ipc:// endpoint for this test run."""
    return 'ipc://%s/p%d' % (_ipc_dir, next(_ipc_seq))


def recv_all(sub, n):
    """The next n messages of sub as (topic, data) pairs."""
    return [tuple(sub.recv(bound(5))[:2]) for _ in range(n)]


def nothing_more(sub, pub, mark=b'mark'):
    """Asserts sub gets nothing before a marker message on topic `mark`
    (which sub must be subscribed to): publishes it and expects it next."""
    pub.send(mark, b'end')
    assert sub.recv(bound(5))[:2] == (mark, b'end')


@pytest.fixture
def pair():
    """A publisher bound on ipc and a subscriber connected to it."""
    with mutil.Publisher() as pub, mutil.Subscriber() as sub:
        pub.bind(ipc())
        sub.connect(pub.endpoint)
        yield pub, sub


def test_prefix_matching(pair):
    pub, sub = pair
    sub.subscribe(b'a.')
    sub.subscribe('mark')
    pub.wait_subscribed(b'a.', bound(5))
    pub.wait_subscribed('mark', bound(5))
    assert pub.subscriptions == 2 and b'a.' in pub and not pub.is_subscribed(b'a')
    for topic in (b'a.x', b'b.x', b'a', b'a.', 'a.é'):
        pub.send(topic, b'v')
    assert recv_all(sub, 3) == [(b'a.x', b'v'), (b'a.', b'v'), ('a.é'.encode(), b'v')]
    nothing_more(sub, pub)
    st = pub.stats()
    assert (st['sent'], st['filtered']) == (4, 2)
    assert sub.stats()['received'] == 4 and sub.stats()['missed'] == 0


def test_empty_prefix_and_message_fields(pair):
    pub, sub = pair
    sub.subscribe()
    pub.wait_subscribed(b'', bound(5))
    pub.send('t', bytearray(b'data'))
    msg = sub.recv(bound(5))
    assert isinstance(msg, mutil.PubSubMessage)
    assert (msg.topic, msg.data, msg.replay) == (b't', b'data', False)
    pub.send(b'', memoryview(b''))
    assert sub.recv(bound(5)) == (b'', b'', False)


def test_unsubscribe(pair):
    pub, sub = pair
    sub.subscribe(b'x')
    sub.subscribe(b'x')  # counted: two unsubscribes to drop it
    sub.subscribe(b'mark')
    pub.wait_subscribed(b'mark', bound(5))
    sub.unsubscribe(b'x')
    pub.send(b'x1', b'still')
    assert sub.recv(bound(5))[:2] == (b'x1', b'still')
    sub.unsubscribe('x')
    pub.wait_subscribed(b'x', bound(5), subscribed=False)
    pub.send(b'x2', b'gone')
    nothing_more(sub, pub)
    assert pub.stats()['unsubscribes'] == 1
    with pytest.raises(mutil.NotFoundError):
        sub.unsubscribe(b'x')


def test_last_value_cache_replays_to_a_late_subscriber():
    with mutil.Publisher(cache=4) as pub:
        pub.bind(ipc())
        pub.send(b'k.a', b'1')  # nobody listens yet
        pub.send(b'k.b', b'2')
        pub.send(b'k.a', b'3')
        pub.send(b'z', b'9')
        with pytest.raises(mutil.InvalidError):
            pub.set_cache(8)  # after a send
        with mutil.Subscriber(subscribe=[b'k.']) as sub:
            sub.connect(pub.endpoint)
            pub.wait_subscribed(b'k.', bound(5))
            got = {sub.recv(bound(5)) for _ in range(2)}
            assert got == {(b'k.a', b'3', True), (b'k.b', b'2', True)}
            pub.send(b'k.a', b'4')
            assert sub.recv(bound(5)) == (b'k.a', b'4', False)
            assert sub.stats()['missed'] == 0
        assert pub.stats()['replays'] == 2


def test_trailer_off_sends_plain_two_frame_messages():
    zmq = pytest.importorskip('zmq')
    with pytest.raises(mutil.InvalidError):
        mutil.Publisher(cache=4, trailer=False)  # replays need the trailer
    ctx = zmq.Context()
    raw = ctx.socket(zmq.SUB)
    try:
        with mutil.Publisher(trailer=False) as pub, \
                mutil.Subscriber(subscribe=[b'p.']) as sub:
            pub.bind(ipc())
            raw.setsockopt(zmq.SUBSCRIBE, b'p.')
            raw.setsockopt(zmq.RCVTIMEO, int(bound(5) * 1000))
            raw.connect(pub.endpoint)
            sub.connect(pub.endpoint)
            while pub.stats()['subscribes'] < 2:
                pub.handle(bound(5))
            pub.send(b'p.x', b'plain')
            assert raw.recv_multipart() == [b'p.x', b'plain']
            assert sub.recv(bound(5)) == (b'p.x', b'plain', False)
            assert sub.stats()['missed'] == 0
            with pytest.raises(mutil.InvalidError):
                pub.set_trailer(True)  # after a send
    finally:
        raw.close(0)
        ctx.term()


def test_iteration(pair):
    pub, sub = pair
    sub.subscribe(b'n')
    pub.wait_subscribed(b'n', bound(5))
    for i in range(10):
        pub.send(b'n', b'%d' % i)
    got = []
    for msg in sub:
        got.append(msg.data)
        if len(got) == 10:
            sub.close()
    assert got == [b'%d' % i for i in range(10)]


def test_proxy_between_python_peers():
    with mutil.Publisher() as pub, mutil.Proxy(hwm=100) as proxy, \
            mutil.Subscriber(subscribe=['news.']) as sub:
        pub.bind(ipc())
        proxy.connect('upstream', pub.endpoint)
        port = proxy.bind(mutil.ProxySide.DOWNSTREAM, 'tcp://127.0.0.1:*')
        assert port > 0 and proxy.endpoint('downstream').endswith(':%d' % port)
        assert proxy.start() is proxy and proxy.running
        with pytest.raises(mutil.InvalidError):
            proxy.start()
        with pytest.raises(mutil.InvalidError):
            proxy.bind('downstream', 'tcp://127.0.0.1:*')
        sub.connect(proxy.endpoint(mutil.Proxy.DOWNSTREAM))
        pub.wait_subscribed(b'news.', bound(5))
        pub.send(b'news.today', b'hello')
        pub.send(b'sports', b'no')
        assert sub.recv(bound(5)) == (b'news.today', b'hello', False)
        st = proxy.stats()
        assert st['messages'] == 1 and st['subscribes'] >= 1
    assert proxy.closed and not proxy.running


def test_curve_secret_wrong_secret_never_receives():
    with mutil.Publisher(curve_secret='correct horse') as pub, \
            mutil.Subscriber(curve_secret=b'correct horse', subscribe=[b'c']) as good, \
            mutil.Subscriber(curve_secret='wrong secret!', subscribe=[b'']) as wrong:
        pub.bind('tcp://127.0.0.1:*')
        wrong.connect(pub.endpoint)
        good.connect(pub.endpoint)
        pub.wait_subscribed(b'c', bound(5))
        pub.send(b'c', b'secret')
        assert good.recv(bound(5)) == (b'c', b'secret', False)
        assert not pub.is_subscribed(b'')  # the wrong one's never came
        with pytest.raises(mutil.WouldBlock):
            wrong.recv(0)
        assert wrong.stats()['received'] == 0


def test_curve_keys_and_allow():
    server, client, stranger = mutil.Keys.generate(), mutil.Keys.generate(), mutil.Keys.generate()
    with mutil.Publisher() as pub, mutil.Subscriber(subscribe=[b'k']) as sub, \
            mutil.Subscriber(subscribe=[b'']) as other:
        pub.set_curve(server_keys=server, allow=mutil.Allow([client.public]))
        sub.set_curve(client_keys=client, server_public=server)
        other.set_curve(client_keys=stranger, server_public=server.public)
        pub.bind('tcp://127.0.0.1:*')
        other.connect(pub.endpoint)
        sub.connect(pub.endpoint)
        pub.wait_subscribed(b'k', bound(5))
        pub.send(b'k', b'v')
        assert sub.recv(bound(5)) == (b'k', b'v', False)
        deadline = time.monotonic() + bound(5)
        while pub.stats()['auth_failures'] == 0:  # the stranger is refused, counted
            assert time.monotonic() < deadline
            try:
                pub.handle(0.02)
            except mutil.TimeoutError:
                pass
        assert not pub.is_subscribed(b'')


def test_proxy_with_a_secret_per_side():
    with mutil.Publisher(curve_secret='upstream-pass') as pub, mutil.Proxy() as proxy, \
            mutil.Subscriber(curve_secret='downstream-pass', subscribe=[b'q']) as sub, \
            mutil.Subscriber(curve_secret='upstream-pass', subscribe=[b'']) as wrong:
        proxy.set_curve_secret('upstream', 'upstream-pass')
        proxy.set_curve_secret(mutil.ProxySide.DOWNSTREAM, b'downstream-pass')
        with pytest.raises(mutil.InvalidError):
            proxy.set_curve_secret('downstream', 'short')
        pub.bind('tcp://127.0.0.1:*')
        proxy.connect('upstream', pub.endpoint)
        proxy.bind('downstream', 'tcp://127.0.0.1:*')
        proxy.start()
        wrong.connect(proxy.endpoint('downstream'))  # the other side's secret: refused
        sub.connect(proxy.endpoint('downstream'))
        pub.wait_subscribed(b'q', bound(5))
        pub.send(b'q', b'hello')
        assert sub.recv(bound(5)) == (b'q', b'hello', False)
        assert not pub.is_subscribed(b'')
        with pytest.raises(mutil.WouldBlock):
            wrong.recv(0)


def test_closed_objects_raise():
    pub, sub, proxy = mutil.Publisher(), mutil.Subscriber(), mutil.Proxy()
    for obj in (pub, sub, proxy):
        obj.close()
        obj.close()  # twice is fine
        assert obj.closed
        with pytest.raises(mutil.InvalidError):
            obj.stats()
        with pytest.raises(mutil.InvalidError):
            with obj:
                pass
    with pytest.raises(mutil.InvalidError):
        pub.send(b't', b'd')
    with pytest.raises(mutil.InvalidError):
        pub.handle(0)
    with pytest.raises(mutil.InvalidError):
        sub.recv(0)
    with pytest.raises(mutil.InvalidError):
        iter(sub)
    with pytest.raises(mutil.InvalidError):
        sub.subscribe(b'x')
    with pytest.raises(mutil.InvalidError):
        proxy.start()
    assert 'closed' in repr(pub) and 'closed' in repr(sub) and 'closed' in repr(proxy)


def test_wrong_types_and_values():
    with mutil.Publisher() as pub, mutil.Subscriber() as sub, mutil.Proxy() as proxy:
        with pytest.raises(TypeError):
            pub.send(1, b'd')
        with pytest.raises(TypeError):
            pub.send(b't', 3.5)
        with pytest.raises(TypeError):
            sub.subscribe(5)
        with pytest.raises(TypeError):
            pub.is_subscribed(None)
        with pytest.raises(TypeError):
            pub.bind(7)
        with pytest.raises(TypeError):
            pub.set_curve(server_keys='not keys')
        with pytest.raises(TypeError):
            proxy.bind(3.0, 'tcp://127.0.0.1:*')
        with pytest.raises(ValueError):
            proxy.bind('sideways', 'tcp://127.0.0.1:*')
        with pytest.raises(TypeError):
            mutil.Publisher(hwm='1')
        with pytest.raises(TypeError):
            mutil.Subscriber(subscribe=b'one prefix')
        with pytest.raises(mutil.InvalidError):
            pub.send(b't' * (mutil.pubsub.MAX_TOPIC + 1), b'd')
        with pytest.raises(mutil.InvalidError):
            sub.subscribe(b'p' * (mutil.pubsub.MAX_TOPIC + 1))
        with pytest.raises(mutil.InvalidError):
            pub.set_curve_secret('short')
        with pytest.raises(mutil.InvalidError):
            mutil.Publisher(hwm=-1)
        with pytest.raises(mutil.InvalidError):
            pub.bind('udp://127.0.0.1:1')
        with pytest.raises(ValueError):
            sub.recv(-1)
        with pytest.raises(mutil.WouldBlock):
            sub.recv(0)
        with pytest.raises(mutil.WouldBlock):
            pub.handle(0)
        with pytest.raises(mutil.TimeoutError):
            pub.wait_subscribed(b'never', 0.05)
        assert isinstance(pub.fileno(), int) and isinstance(sub.fileno(), int)


def test_nodrop_refuses_what_a_full_subscriber_cannot_take():
    with mutil.Publisher(hwm=1, nodrop=True, nodrop_timeout=0) as pub, \
            mutil.Subscriber(hwm=1, subscribe=[b'']) as sub:
        pub.bind(ipc())
        sub.connect(pub.endpoint)
        pub.wait_subscribed(b'', bound(5))
        with pytest.raises(mutil.WouldBlock):
            for i in range(100000):  # the pipes fill: nobody receives
                pub.send(b't', b'x' * 100)
        assert pub.stats()['dropped'] == 1
        assert sub.recv(bound(5)).topic == b't'


def _read_line(proc, seconds):
    """The tool's first stdout line, waiting for it at most seconds."""
    ready, _, _ = select.select([proc.stdout], [], [], bound(seconds))
    assert ready, 'mutil proxy printed no endpoint'
    return proc.stdout.readline().decode().strip()


def test_c_tool_proxy_between_python_peers(tool):
    with mutil.Publisher() as pub, mutil.Subscriber(subscribe=[b'cross']) as sub:
        pub.bind('tcp://127.0.0.1:*')
        proc = subprocess.Popen([tool, 'proxy', '--upstream', pub.endpoint,
                                 '--bind', 'tcp://127.0.0.1:0', '--insecure'],
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        try:
            downstream = _read_line(proc, 10)
            assert downstream.startswith('tcp://127.0.0.1:')
            sub.connect(downstream)
            pub.wait_subscribed(b'cross', bound(10))
            pub.send(b'cross.lang', b'through C')
            pub.send(b'other', b'filtered')
            assert sub.recv(bound(5)) == (b'cross.lang', b'through C', False)
            sub.unsubscribe(b'cross')
            pub.wait_subscribed(b'cross', bound(5), subscribed=False)
        finally:
            proc.send_signal(signal.SIGTERM)
            rc = proc.wait(bound(10))
            proc.stdout.close()
        assert rc == 0


# -- asyncio ------------------------------------------------------------------

def run(coro, seconds=10.0):
    """Runs coro on a fresh loop, failing after the (scaled) bound."""
    return asyncio.run(asyncio.wait_for(coro, bound(seconds)))


def test_aio_recv_and_async_for():
    async def main():
        with mutil.aio.Publisher() as pub, mutil.aio.Subscriber(subscribe=[b'a']) as sub:
            pub.bind(ipc())
            sub.connect(pub.endpoint)
            await pub.wait_subscribed(b'a')
            pub.send(b'a1', b'first')
            assert await sub.recv() == (b'a1', b'first', False)
            for i in range(5):
                pub.send(b'a', b'%d' % i)
            got = []
            async for msg in sub:
                got.append(msg.data)
                if len(got) == 5:
                    break
            assert got == [b'%d' % i for i in range(5)]
            with pytest.raises(TypeError):
                iter(sub)
    run(main())


def test_aio_recv_waits_and_times_out():
    async def main():
        with mutil.aio.Publisher() as pub, mutil.aio.Subscriber(subscribe=[b'']) as sub:
            pub.bind(ipc())
            sub.connect(pub.endpoint)
            with pytest.raises(mutil.TimeoutError):
                await sub.recv(0.05)
            waiting = asyncio.ensure_future(sub.recv())
            await pub.handle()  # the subscription arrives while recv waits
            assert pub.is_subscribed(b'')
            pub.send(b'later', b'x')
            assert await waiting == (b'later', b'x', False)
            with pytest.raises(mutil.TimeoutError):
                await pub.handle(0.05)
    run(main())


def test_aio_wait_subscribed_times_out_and_closed_raises():
    async def main():
        pub, sub = mutil.aio.Publisher(), mutil.aio.Subscriber()
        with pytest.raises(mutil.TimeoutError):
            await pub.wait_subscribed(b'never', 0.05)
        pub.close()
        sub.close()
        with pytest.raises(mutil.InvalidError):
            await pub.handle()
        with pytest.raises(mutil.InvalidError):
            await sub.recv()
        with pytest.raises(mutil.InvalidError):
            sub.__aiter__()
    run(main())
