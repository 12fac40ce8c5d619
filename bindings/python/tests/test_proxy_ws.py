# SPDX-License-Identifier: MPL-2.0
# Copyright (c) 2026 the mutil authors
"""The proxy's WebSocket front (mu_proxy_set_ws; `mutil proxy --ws`) with
python3-websockets clients: subscribe and receive text (JSON payload) and
binary frames, unsubscribe (the last one, a ws client's or a ZeroMQ
subscriber's, or a disconnect, unsubscribes upstream), publish (allowed:
reaches ZeroMQ subscribers and other ws clients; refused otherwise),
errors to the one client with the connection kept, an oversized frame
(closed 1009), a wrong Origin (403), wss://, 1,000 clients with every
message counted, and a slow client isolated (its drops or its disconnect
counted).

Every wait is on an event: a reply frame, the upstream publisher reading a
subscription (wait_subscribed), a received message, a line from the tool.
Time bounds are generous and scaled by MU_TEST_SCALE (conftest.bound)."""
import asyncio
import atexit
import itertools
import json
import os
import resource
import select
import shutil
import signal
import socket
import ssl
import struct
import subprocess
import tempfile

import pytest

import mutil
import mutil.aio
from conftest import bound

websockets = pytest.importorskip('websockets')
from websockets.exceptions import ConnectionClosed, InvalidHandshake  # noqa: E402

_ipc_dir = tempfile.mkdtemp(prefix='mu_pyws.')
_ipc_seq = itertools.count()
atexit.register(shutil.rmtree, _ipc_dir, True)


def ipc():
    return 'ipc://%s/p%d' % (_ipc_dir, next(_ipc_seq))


def run(coro, seconds=30.0):
    """Runs coro on a fresh event loop, failing after a scaled bound."""
    return asyncio.run(asyncio.wait_for(coro, bound(seconds)))


class Front:
    """An upstream mutil.aio.Publisher, a started mutil.Proxy with a ws
    front (keywords: its set_ws settings) and a ZeroMQ Subscriber on the
    proxy's downstream side, for `async with`."""

    def __init__(self, **ws):
        self.pub = mutil.aio.Publisher()
        self.pub.bind(ipc())
        self.proxy = mutil.Proxy(ws=ws)
        self.proxy.connect('upstream', self.pub.endpoint)
        self.proxy.bind('downstream', ipc())
        self.proxy.start()
        self.url = 'ws://127.0.0.1:%d/' % self.proxy.ws_port

    def zmq_subscriber(self):
        sub = mutil.aio.Subscriber()
        sub.connect(self.proxy.endpoint('downstream'))
        return sub

    def stats(self):
        return self.proxy.ws_stats()

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc):
        self.proxy.close()
        self.pub.close()


def connect(url, **kw):
    """A websockets client (pings off: the proxy pings)."""
    kw.setdefault('open_timeout', bound(10))
    kw.setdefault('ping_interval', None)
    kw.setdefault('max_size', None)
    return websockets.connect(url, **kw)


async def recv(ws):
    """The next frame, within a bound."""
    return await asyncio.wait_for(ws.recv(), bound(10))


async def command(ws, obj):
    """Sends obj (as JSON unless str) and returns the JSON reply."""
    await ws.send(obj if isinstance(obj, str) else json.dumps(obj))
    return json.loads(await recv(ws))


async def subscribe(ws, prefix):
    assert await command(ws, {'subscribe': prefix}) == {'subscribed': prefix}


def binary(topic, payload):
    """A binary frame [topic length][topic][payload]."""
    return bytes([len(topic)]) + topic + payload


async def wait_subscribed(pub, prefix, subscribed=True):
    await pub.wait_subscribed(prefix, bound(10), subscribed=subscribed)


# ---- subscribe, receive, unsubscribe --------------------------------------

def test_subscribe_receives_text_for_json_and_binary_for_the_rest():
    async def main():
        async with Front() as f, connect(f.url) as ws:
            await subscribe(ws, 'prices.')
            await wait_subscribed(f.pub, 'prices.')
            f.pub.send('prices.eur', b'{"bid": 1.09, "ask": [1, 2]}')
            frame = await recv(ws)
            assert isinstance(frame, str)
            assert json.loads(frame) == {'topic': 'prices.eur',
                                         'data': {'bid': 1.09, 'ask': [1, 2]}}
            assert frame.endswith('"data":{"bid": 1.09, "ask": [1, 2]}}')  # verbatim
            f.pub.send('prices.raw', b'\x00\xffnot json')
            assert await recv(ws) == binary(b'prices.raw', b'\x00\xffnot json')
            f.pub.send('prices.num', b' 42 ')  # any JSON text, whitespace kept
            assert json.loads(await recv(ws)) == {'topic': 'prices.num', 'data': 42}
            f.pub.send(b'prices.\xff', b'"json, but the topic is not UTF-8"')
            assert await recv(ws) == binary(b'prices.\xff',
                                            b'"json, but the topic is not UTF-8"')
            f.pub.send('prices."q"\n', b'"s"')  # the topic escaped in JSON
            assert json.loads(await recv(ws)) == {'topic': 'prices."q"\n', 'data': 's'}
            f.pub.send('prices.empty', b'')
            assert await recv(ws) == binary(b'prices.empty', b'')
            f.pub.send('other', b'1')  # no subscriber: not even sent upstream
            f.pub.send('prices.end', b'true')
            assert json.loads(await recv(ws)) == {'topic': 'prices.end', 'data': True}
            st = f.stats()
            assert st['accepted'] == 1 and st['clients'] == 1
            assert st['subscribes'] == 1 and st['forwarded'] == 7
    run(main())


def test_a_client_with_overlapping_prefixes_gets_each_message_once():
    async def main():
        async with Front() as f, connect(f.url) as ws:
            for prefix in ('', 'a', 'a.b', 'mark'):
                await subscribe(ws, prefix)
            await subscribe(ws, 'a')  # again: no change
            await wait_subscribed(f.pub, 'mark')  # the last sent up: all are there
            f.pub.send('a.b.c', b'1')
            f.pub.send('zzz', b'2')
            assert [json.loads(await recv(ws))['data'] for _ in range(2)] == [1, 2]
            f.pub.send('mark', b'3')
            assert json.loads(await recv(ws))['data'] == 3
    run(main())


async def zmq_sync(pub, zsub, prefix):
    """Waits until everything zsub sent before has reached the upstream
    publisher: subscribes prefix and waits for it (one pipe keeps order)."""
    zsub.subscribe(prefix)
    await wait_subscribed(pub, prefix)


async def ws_sync(pub, ws, prefix):
    """The same for the front's SUB: a ws subscribe of a fresh prefix."""
    await subscribe(ws, prefix)
    await wait_subscribed(pub, prefix)


def test_unsubscribe_and_the_last_one_unsubscribes_upstream():
    async def main():
        async with Front() as f, connect(f.url) as a, connect(f.url) as b:
            for ws in (a, b):
                await subscribe(ws, 'news')
                await subscribe(ws, 'mark')
            zsub = f.zmq_subscriber()
            zsub.subscribe('news')
            await zmq_sync(f.pub, zsub, 'zsync1')
            assert await command(a, {'unsubscribe': 'news'}) == {'unsubscribed': 'news'}
            f.pub.send('news.1', b'"one"')
            f.pub.send('mark', b'0')
            assert json.loads(await recv(b))['topic'] == 'news.1'
            assert json.loads(await recv(b))['topic'] == 'mark'
            assert json.loads(await recv(a))['topic'] == 'mark'  # nothing before it
            assert (await zsub.recv(bound(10)))[:2] == (b'news.1', b'"one"')
            # the last ws client lets go; the ZeroMQ subscriber still holds it
            assert await command(b, {'unsubscribe': 'news'}) == {'unsubscribed': 'news'}
            await ws_sync(f.pub, b, 'wsync1')
            assert f.pub.is_subscribed('news')
            f.pub.send('news.2', b'2')
            assert (await zsub.recv(bound(10)))[:2] == (b'news.2', b'2')
            zsub.unsubscribe('news')  # the last one, a ZeroMQ subscriber's
            await wait_subscribed(f.pub, 'news', subscribed=False)
            # the other way round: the ws client's unsubscribe is the last
            zsub.subscribe('later')
            await subscribe(a, 'later')
            await zmq_sync(f.pub, zsub, 'zsync2')
            zsub.unsubscribe('later')
            zsub.unsubscribe('zsync2')
            await wait_subscribed(f.pub, 'zsync2', subscribed=False)
            assert f.pub.is_subscribed('later')  # a holds it
            await command(a, {'unsubscribe': 'later'})
            await wait_subscribed(f.pub, 'later', subscribed=False)
            zsub.close()
            assert f.stats()['unsubscribes'] == 3
    run(main())


def test_a_disconnect_releases_the_clients_prefixes():
    async def main():
        async with Front() as f:
            async with connect(f.url) as ws:
                await subscribe(ws, 'gone.')
                await subscribe(ws, 'also')
                await wait_subscribed(f.pub, 'gone.')
            await wait_subscribed(f.pub, 'gone.', subscribed=False)
            await wait_subscribed(f.pub, 'also', subscribed=False)
    run(main())


async def data_of(ws):
    """The next frame's (topic, data)."""
    frame = json.loads(await recv(ws))
    return frame['topic'], frame['data']


async def wait_replays(pub, n):
    """Reads subscriptions until the publisher has made n replays."""
    while pub.stats()['replays'] < n:
        await pub.handle(bound(10))


def test_a_cache_replay_reaches_a_client_once_and_late_clients_get_it():
    async def main():
        async with Front() as f, connect(f.url) as a:
            f.pub.set_cache(16)
            f.pub.send('lv.x', b'1')  # nobody subscribed: only cached
            await subscribe(a, 'lv.')
            await wait_replays(f.pub, 1)
            assert await data_of(a) == ('lv.x', 1)  # the publisher's replay
            # a ZeroMQ subscriber of the prefix: replayed again, to all
            zsub = f.zmq_subscriber()
            zsub.subscribe('lv.')
            await wait_replays(f.pub, 2)
            msg = await zsub.recv(bound(10))
            assert (msg.topic, msg.data, msg.replay) == (b'lv.x', b'1', True)
            async with connect(f.url) as b:
                # nothing goes upstream for it: the front's kept value
                await subscribe(b, 'lv.')
                assert await data_of(b) == ('lv.x', 1)
                f.pub.send('lv.x', b'2')
                assert await data_of(a) == ('lv.x', 2)  # no second 1 before it
                assert await data_of(b) == ('lv.x', 2)
                async with connect(f.url) as c:
                    await subscribe(c, 'lv.x')  # a new prefix, covered by 'lv.'
                    assert await data_of(c) == ('lv.x', 2)  # the newest
                    # its subscribe went up and was replayed: dropped, the
                    # next message follows the kept value for everyone
                    await wait_replays(f.pub, 3)
                    f.pub.send('lv.x', b'3')
                    for ws in (c, a, b):
                        assert await data_of(ws) == ('lv.x', 3)
            assert await command(a, {'unsubscribe': 'lv.'}) == {'unsubscribed': 'lv.'}
            # no ws client holds 'lv.' now: a new one gets the upstream replay
            await subscribe(a, 'lv.')
            await wait_replays(f.pub, 4)
            assert await data_of(a) == ('lv.x', 3)
            f.pub.send('lv.end', b'0')
            assert await data_of(a) == ('lv.end', 0)  # the replay came once
            st = f.stats()
            assert st['duplicates'] == 2  # the ZeroMQ subscriber's and c's replays
            assert st['missed'] == 0
            zsub.close()
    run(main())


# ---- publish ---------------------------------------------------------------

async def probe_until_seen(publisher, zsub):
    """Publishes probes from a ws client until the ZeroMQ subscriber gets
    one: the front's publisher has then read the subscription (it reaches
    the front over another path than the upstream publisher)."""
    for n in itertools.count():
        await publisher.send(json.dumps({'publish': 'chat.probe', 'data': n}))
        try:
            msg = await zsub.recv(bound(0.5))
        except mutil.TimeoutError:
            continue
        assert msg.topic == b'chat.probe'
        return n


def test_publish_reaches_zeromq_subscribers_and_other_ws_clients():
    async def main():
        async with Front(allow_publish=True) as f, \
                connect(f.url) as writer, connect(f.url) as reader:
            zsub = f.zmq_subscriber()
            zsub.subscribe('chat.')
            await subscribe(reader, 'chat.')
            await wait_subscribed(f.pub, 'chat.')
            n = await probe_until_seen(writer, zsub)
            await writer.send(json.dumps({'publish': 'chat.1', 'data': {'x': [1, 2.5, None]}}))
            await writer.send(binary(b'chat.2', b'\x01\x02'))
            await writer.send('{"publish": "chat.3", "data": "caf\\u00e9"}')
            got = []
            while len(got) < 3:
                msg = await zsub.recv(bound(10))
                if msg.topic != b'chat.probe':
                    got.append(msg[:2])
            assert got == [(b'chat.1', b'{"x":[1,2.5,null]}'), (b'chat.2', b'\x01\x02'),
                           (b'chat.3', '"café"'.encode())]
            frames = []
            while len(frames) < 3:
                frame = await recv(reader)
                if not (isinstance(frame, str) and json.loads(frame)['topic'] == 'chat.probe'):
                    frames.append(frame)
            assert json.loads(frames[0]) == {'topic': 'chat.1', 'data': {'x': [1, 2.5, None]}}
            assert frames[1] == binary(b'chat.2', b'\x01\x02')
            assert json.loads(frames[2]) == {'topic': 'chat.3', 'data': 'café'}
            zsub.close()
            assert f.stats()['publishes'] == n + 1 + 3
    run(main())


def test_publish_is_refused_when_not_allowed():
    async def main():
        async with Front() as f, connect(f.url) as ws:
            reply = await command(ws, {'publish': 'x', 'data': 1})
            assert reply['code'] == 'MU_EACCES' and 'not allowed' in reply['error']
            await ws.send(binary(b'x', b'data'))
            assert json.loads(await recv(ws))['code'] == 'MU_EACCES'
            await subscribe(ws, 'still.open')
            st = f.stats()
            assert st['denied'] == 2 and st['errors'] == 2 and st['publishes'] == 0
    run(main())


# ---- errors ------------------------------------------------------------------

def test_bad_commands_get_an_error_and_the_connection_stays():
    cases = [
        ('{"subscribe": ', 'MU_EPROTO', 'malformed JSON'),
        ('[1, 2]', 'MU_EPROTO', 'JSON object'),
        ('"subscribe"', 'MU_EPROTO', 'JSON object'),
        ('{"subscribe": 5}', 'MU_EPROTO', 'must be a string'),
        ('{"unsubscribe": null}', 'MU_EPROTO', 'must be a string'),
        ('{"publish": ["t"], "data": 1}', 'MU_EPROTO', 'must be a string'),
        ('{"bogus": "x"}', 'MU_EPROTO', 'unknown key "bogus"'),
        ('{}', 'MU_EPROTO', 'no command'),
        ('{"subscribe": "a", "unsubscribe": "b"}', 'MU_EPROTO', 'one command'),
        ('{"subscribe": "a", "data": 1}', 'MU_EPROTO', 'publish only'),
        ('{"subscribe": "a", "subscribe": "b"}', 'MU_EPROTO', 'malformed JSON'),
        (json.dumps({'subscribe': 'x' * 256}), 'MU_EINVAL', 'at most 255'),
        ('{"unsubscribe": "never"}', 'MU_ENOENT', 'not subscribed'),
    ]

    async def main():
        async with Front(allow_publish=True) as f, connect(f.url) as ws, \
                connect(f.url) as other:
            await subscribe(other, 'quiet')
            for text, code, words in cases:
                reply = await command(ws, text)
                assert reply['code'] == code, text
                assert words in reply['error'], (text, reply)
            reply = await command(ws, {'publish': 'p'})
            assert reply['code'] == 'MU_EPROTO' and '"data" is missing' in reply['error']
            for frame in (b'', b'\x09short'):
                await ws.send(frame)
                reply = json.loads(await recv(ws))
                assert reply['code'] == 'MU_EPROTO' and 'binary frame' in reply['error']
            await subscribe(ws, 'x' * 255)  # the longest prefix is fine
            await subscribe(ws, 'fine')     # and the connection is still there
            # the other client heard nothing of it
            assert await command(other, {'subscribe': 'q2'}) == {'subscribed': 'q2'}
            st = f.stats()
            assert st['errors'] == len(cases) + 3
            assert st['malformed'] == 4 + 2  # not JSON (2), not an object (2), binary (2)
    run(main())


def test_a_client_holds_at_most_max_prefixes():
    async def main():
        async with Front(max_prefixes=3) as f, connect(f.url) as ws:
            for p in ('a', 'b', 'c'):
                await subscribe(ws, p)
            reply = await command(ws, {'subscribe': 'd'})
            assert reply['code'] == 'MU_ENOSPC' and 'at most 3' in reply['error']
            await subscribe(ws, 'a')  # held already: fine
            await command(ws, {'unsubscribe': 'b'})
            await subscribe(ws, 'd')
    run(main())


def test_bad_settings_are_refused():
    with mutil.Proxy() as proxy:
        with pytest.raises(mutil.InvalidError):
            proxy.set_ws(max_message=mutil.pubsub.MAX_MESSAGE + 1)
        with pytest.raises(mutil.InvalidError):
            proxy.set_ws(key_file='/nonexistent/key.pem')
        with pytest.raises(ValueError):
            proxy.set_ws(overflow='sometimes')
        assert proxy.ws_port == 0
        assert proxy.ws_stats()['clients'] == 0
        port = proxy.set_ws(0)
        assert port > 0 and proxy.ws_port == port
        with pytest.raises(mutil.InvalidError):
            proxy.set_ws(0)  # once
        with mutil.Proxy() as second:
            with pytest.raises(mutil.Error) as info:
                second.set_ws(port)
            assert isinstance(info.value, mutil.ConnectionError), info.value


# ---- the tool: limits, Origin, wss -------------------------------------------

def _read_line(proc, seconds):
    """One line of proc's unbuffered stdout, a byte at a time (so that
    nothing after it is read ahead)."""
    line = b''
    while not line.endswith(b'\n'):
        ready, _, _ = select.select([proc.stdout], [], [], bound(seconds))
        assert ready, 'no line from mutil proxy (so far %r)' % line
        byte = os.read(proc.stdout.fileno(), 1)
        assert byte, 'mutil proxy ended: %s' % proc.stderr.read().decode()
        line += byte
    return line.decode().strip()


class Tool:
    """`mutil proxy --ws 0 ...` upstream of a Publisher; url from its
    second ready line."""

    def __init__(self, tool, *args):
        self.pub = mutil.aio.Publisher()
        self.pub.bind(ipc())
        self.proc = subprocess.Popen(
            [tool, 'proxy', '--upstream', self.pub.endpoint, '--bind', ipc(), '--insecure',
             '--ws', '0'] + list(args),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, bufsize=0)
        self.endpoint = _read_line(self.proc, 10)
        self.url = _read_line(self.proc, 10)
        assert self.url.startswith(('ws://127.0.0.1:', 'wss://127.0.0.1:')), self.url

    def stop(self):
        """SIGTERM; returns its stderr (the totals)."""
        self.proc.send_signal(signal.SIGTERM)
        _, err = self.proc.communicate(timeout=bound(20))
        err = err.decode()
        assert self.proc.returncode == 0, err
        self.pub.close()
        return err

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def test_tool_oversized_frame_closes_with_1009(tool):
    async def main():
        async with Tool(tool, '--ws-max-message', '1K') as t:
            async with connect(t.url) as ws:
                await subscribe(ws, 'ok')
                await ws.send('{"subscribe": "%s"}' % ('y' * 2000))
                with pytest.raises(ConnectionClosed) as info:
                    await recv(ws)
                assert info.value.code == 1009
            async with connect(t.url) as ws:  # others are served as before
                await subscribe(ws, 'ok')
            err = t.stop()
            assert '1 oversized' in err, err
    run(main())


def _raw_handshake_status(port, origin):
    """The status line the server answers a handshake with this Origin."""
    with socket.create_connection(('127.0.0.1', port), timeout=bound(10)) as s:
        s.sendall(('GET / HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\n'
                   'Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n'
                   'Sec-WebSocket-Version: 13\r\nOrigin: %s\r\n\r\n'
                   % (port, origin)).encode())
        head = b''
        while b'\r\n' not in head:
            chunk = s.recv(1)
            if not chunk:
                break
            head += chunk
        return head.split(b'\r\n')[0].decode()


def test_tool_wrong_origin_is_refused(tool):
    async def main():
        async with Tool(tool, '--ws-origin', 'http://good.example') as t:
            port = int(t.url.rsplit(':', 1)[1].strip('/'))
            status = _raw_handshake_status(port, 'http://evil.example')
            assert status.split()[1:2] == ['403'], status
            with pytest.raises(InvalidHandshake):
                async with connect(t.url):  # no Origin at all
                    pass
            async with connect(t.url, origin='http://good.example') as ws:
                await subscribe(ws, 'fine')
            err = t.stop()
            assert '(2 origin)' in err, err
    run(main())


def _test_cert(tmp_path):
    """The tree's test certificate for 127.0.0.1 (tests/data), else one
    made with openssl, else a skip."""
    data = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', '..', 'tests',
                        'data')
    cert, key = os.path.join(data, 'ws_test_cert.pem'), os.path.join(data, 'ws_test_key.pem')
    if os.path.exists(cert) and os.path.exists(key):
        return cert, key
    openssl = shutil.which('openssl')
    if not openssl:
        pytest.skip('no openssl to make a test certificate')
    cert, key = tmp_path / 'cert.pem', tmp_path / 'key.pem'
    subprocess.run([openssl, 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2',
                    '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1',
                    '-keyout', str(key), '-out', str(cert)],
                   check=True, capture_output=True, timeout=bound(60))
    return str(cert), str(key)


def test_tool_wss_with_a_certificate(tool, tmp_path):
    cert, key = _test_cert(tmp_path)

    async def main():
        async with Tool(tool, '--ws-cert', cert, '--ws-key', key) as t:
            assert t.url.startswith('wss://')
            context = ssl.create_default_context(cafile=cert)
            async with connect(t.url, ssl=context) as ws:
                await subscribe(ws, 'secure.')
                await wait_subscribed(t.pub, 'secure.')
                t.pub.send('secure.1', b'{"ok": true}')
                assert json.loads(await recv(ws)) == {'topic': 'secure.1', 'data': {'ok': True}}
            with pytest.raises((OSError, InvalidHandshake, ConnectionClosed)):
                async with connect(t.url.replace('wss:', 'ws:')) as ws:  # plaintext
                    await recv(ws)
            t.stop()
    run(main())


def test_tool_options_are_checked(tool):
    def usage(*args):
        proc = subprocess.run([tool, 'proxy', '--upstream', 'ipc:///tmp/x', '--bind', ipc(),
                               '--insecure'] + list(args), capture_output=True, text=True,
                              timeout=bound(20))
        return proc.returncode, proc.stderr
    rc, err = usage('--ws-publish')
    assert rc == 2 and 'go with --ws PORT' in err
    rc, err = usage('--ws', '0', '--ws-overflow', 'maybe')
    assert rc == 2 and 'drop or disconnect' in err
    rc, err = usage('--ws', '0', '--ws-cert', '/x.pem')
    assert rc == 2 and 'go together' in err
    rc, err = usage('--ws', '70000')
    assert rc == 2 and '--ws' in err
    rc, err = usage('--ws', '0', '--ws-cert', '/nonexistent.pem', '--ws-key', '/nonexistent.key')
    assert rc == 1 and 'cannot listen for WebSocket clients' in err


# ---- many clients, a slow one ------------------------------------------------

def _raise_nofile():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def test_a_thousand_clients_every_message_counted():
    clients, messages = 1000, 50
    if _raise_nofile() < 2 * clients + 200:
        pytest.skip('RLIMIT_NOFILE hard limit too low for %d clients in one process' % clients)

    async def client(url, prefix, received, ready):
        async with connect(url, open_timeout=bound(60), close_timeout=bound(10)) as ws:
            await asyncio.wait_for(subscribe(ws, prefix), bound(60))
            ready.release()
            count = 0
            while count < messages:
                frame = await asyncio.wait_for(ws.recv(), bound(120))
                assert json.loads(frame)['data']['n'] == count
                count += 1
            received.append(count)

    async def main():
        async with Front(max_clients=clients + 10) as f:
            ready, received = asyncio.Semaphore(0), []
            tasks = [asyncio.ensure_future(client(f.url, 'load.' if i % 2 else 'load.x',
                                                  received, ready))
                     for i in range(clients)]
            for _ in range(clients):
                await asyncio.wait_for(ready.acquire(), bound(120))
            await wait_subscribed(f.pub, 'load.')
            await wait_subscribed(f.pub, 'load.x')
            assert f.stats()['clients'] == clients
            for n in range(messages):
                f.pub.send('load.x', json.dumps({'n': n, 'pad': 'p' * 100}))
            await asyncio.wait_for(asyncio.gather(*tasks), bound(180))
            assert sum(received) == clients * messages
            st = f.stats()
            assert st['forwarded'] == messages
            assert st['messages_out'] >= clients * (messages + 1)  # + the replies
            assert st['dropped'] == 0 and st['slow'] == 0
    run(main(), 400)


def _handshake(port, rcvbuf):
    """A raw ws client socket with a small receive buffer, after the
    opening handshake."""
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.settimeout(bound(10))
    s.connect(('127.0.0.1', port))
    key = 'dGhlIHNhbXBsZSBub25jZQ=='
    s.sendall(('GET / HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\n'
               'Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n'
               'Sec-WebSocket-Version: 13\r\n\r\n' % (port, key)).encode())
    head = b''
    while b'\r\n\r\n' not in head:
        chunk = s.recv(1)
        assert chunk, 'closed during the handshake'
        head += chunk
    assert head.startswith(b'HTTP/1.1 101'), head
    return s


def _masked_text(text):
    data = text.encode()
    assert len(data) < 126
    mask = os.urandom(4)
    return bytes([0x81, 0x80 | len(data)]) + mask + bytes(
        b ^ mask[i % 4] for i, b in enumerate(data))


def _read_frame(s):
    """One whole server message (its fragments joined; pings skipped):
    (opcode, payload)."""
    def exactly(n):
        data = b''
        while len(data) < n:
            chunk = s.recv(n - len(data))
            if not chunk:
                raise EOFError('closed by the server')
            data += chunk
        return data
    opcode, message = None, b''
    while True:
        b0, b1 = exactly(2)
        size = b1 & 0x7f
        if size == 126:
            size = struct.unpack('>H', exactly(2))[0]
        elif size == 127:
            size = struct.unpack('>Q', exactly(8))[0]
        payload = exactly(size)
        if b0 & 0x0f in (9, 10):  # ping, pong
            continue
        if opcode is None:
            opcode = b0 & 0x0f
        message += payload
        if b0 & 0x80:  # FIN
            return opcode, message


@pytest.mark.parametrize('overflow', ['drop', 'disconnect'])
def test_a_slow_client_is_isolated(overflow):
    fast_clients, rounds, per_round, size = 3, 80, 8, 16 * 1024

    async def fast(url, got, subscribed, round_done):
        async with connect(url) as ws:
            await subscribe(ws, 'bulk')
            subscribed.release()
            got.append(0)
            me = len(got) - 1
            for i in range(rounds * per_round):
                frame = await recv(ws)
                assert frame[0] == 4 and frame[1:5] == b'bulk'
                assert struct.unpack('<I', frame[5:9])[0] == i
                got[me] += 1
                if got[me] % per_round == 0:
                    round_done.release()

    async def main():
        async with Front(queue_max=256 * 1024, overflow=overflow) as f:
            slow = _handshake(f.proxy.ws_port, 4096)
            slow.sendall(_masked_text('{"subscribe": "bulk"}'))
            assert _read_frame(slow) == (1, b'{"subscribed":"bulk"}')
            # from now on the slow client reads nothing
            got, subscribed, round_done = [], asyncio.Semaphore(0), asyncio.Semaphore(0)
            tasks = [asyncio.ensure_future(fast(f.url, got, subscribed, round_done))
                     for _ in range(fast_clients)]
            for _ in range(fast_clients):
                await asyncio.wait_for(subscribed.acquire(), bound(30))
            await wait_subscribed(f.pub, 'bulk')
            pad = b'b' * (size - 4)
            for r in range(rounds):
                for k in range(per_round):
                    f.pub.send('bulk', struct.pack('<I', r * per_round + k) + pad)
                for _ in range(fast_clients):  # paced by the fast clients only
                    await asyncio.wait_for(round_done.acquire(), bound(30))
            await asyncio.wait_for(asyncio.gather(*tasks), bound(30))
            total = rounds * per_round
            assert got == [total] * fast_clients
            f.pub.send('bulk', struct.pack('<I', total))  # the end
            # now the slow client reads what it was left
            received, close_code = 0, None
            while True:
                try:
                    opcode, payload = _read_frame(slow)
                except EOFError:
                    close_code = 'eof'  # the close frame did not fit either
                    break
                if opcode == 8:
                    close_code = struct.unpack('>H', payload[:2])[0]
                    break
                assert opcode == 2 and payload[1:5] == b'bulk'
                if struct.unpack('<I', payload[5:9])[0] == total:
                    break
                received += 1
            st = f.stats()
            if overflow == 'drop':
                assert st['slow'] == 0 and st['dropped'] > 0
                assert received + st['dropped'] == total, (received, st['dropped'])
            else:
                assert st['slow'] == 1 and st['dropped'] == 0
                assert close_code in (1008, 'eof') and received < total
            slow.close()
    run(main(), 120)


def test_invalid_utf8_in_a_text_frame_closes_1007():
    async def main():
        async with Front() as f:
            raw = _handshake(f.proxy.ws_port, 65536)
            data = b'{"subscribe": "\xff"}'
            mask = os.urandom(4)
            raw.sendall(bytes([0x81, 0x80 | len(data)]) + mask
                        + bytes(b ^ mask[i % 4] for i, b in enumerate(data)))
            opcode, payload = _read_frame(raw)
            assert opcode == 8 and struct.unpack('>H', payload[:2])[0] == 1007
            raw.close()
            st = f.stats()
            assert st['errors'] == 0 and st['subscribes'] == 0  # never reached the front
    run(main())


def test_a_client_that_answers_no_ping_is_closed():
    async def main():
        async with Front(ping_interval=0.3, ping_timeout=0.3) as f:
            raw = _handshake(f.proxy.ws_port, 65536)  # never answers pings
            async with connect(f.url) as ws:  # websockets answers them

                def until_closed():
                    with pytest.raises(EOFError):
                        while True:
                            _read_frame(raw)  # skips the pings until the end
                # in a thread: the loop goes on answering the ws client's pings
                await asyncio.get_running_loop().run_in_executor(None, until_closed)
                raw.close()
                await subscribe(ws, 'still.here')  # the one that answers stays
                # mu_ws infers the reason from the time since the last pong
                # (doc/ws.md, Keepalive): a slow handshake on a loaded machine
                # can hide it, so the count is checked loosely
                assert f.stats()['ping_timeouts'] <= 1
                assert f.stats()['clients'] == 1
    run(main())


def test_over_max_clients_is_refused():
    async def main():
        async with Front(max_clients=1) as f, connect(f.url) as first:
            await subscribe(first, 'a')
            with pytest.raises((InvalidHandshake, ConnectionClosed, OSError)):
                async with connect(f.url) as second:
                    await recv(second)
            await subscribe(first, 'b')  # the first is still served
            assert f.stats()['refused'] == 1
    run(main())


def test_a_message_too_large_for_the_clients_is_not_sent_and_counted():
    async def main():
        async with Front(max_message=1024) as f, connect(f.url) as ws:
            await subscribe(ws, 'big')
            await wait_subscribed(f.pub, 'big')
            f.pub.send('big.1', b'"%s"' % (b'x' * 2000))
            f.pub.send('big.2', b'"small"')
            assert json.loads(await recv(ws)) == {'topic': 'big.2', 'data': 'small'}
            st = f.stats()
            assert st['too_large'] == 1 and st['forwarded'] == 1
    run(main())
