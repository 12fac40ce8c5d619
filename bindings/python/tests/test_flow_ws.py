# SPDX-License-Identifier: MPL-2.0
# Copyright (c) 2026 the mutil authors
"""WebSocket edges of a flow (transport=Transport.WS), driven by
python3-websockets clients and servers: inbound and outbound, listen and
connect (with reconnection), the hooks and broadcast filters, text or
binary messages, the maximum message size, the origin check, a slow client
disconnected or losing its oldest messages while another gets everything,
wss:// both ways, the drain at the end, and the settings refused.

start() returns once the listening WebSocket edges listen, so a client
connects right after it. The tests wait on messages, closes and the end
of the flow, never on time."""
import asyncio
import os
import socket
import ssl

import pytest
import websockets

import mutil
from conftest import bound
from flowkit import Sink

WS = mutil.Transport.WS


def url(flow, stage, index=0, scheme='ws'):
    return '%s://127.0.0.1:%d/' % (scheme, flow.edge_port(stage, index))


def run(coro, seconds=60):
    """Runs a test's client side, bounded."""
    return asyncio.run(asyncio.wait_for(coro, bound(seconds)))


async def receive(ws, count):
    """The next count messages of ws."""
    return [await ws.recv() for _ in range(count)]


async def closed_code(ws):
    """Reads ws until the edge closes it; its close code."""
    with pytest.raises(websockets.ConnectionClosed):
        while True:
            await ws.recv()
    return ws.close_code


async def handshake_status(port, origin):
    """The HTTP status of a WebSocket handshake with that Origin (None:
    none). By hand: libwebsockets refuses with an HTTP/1.0 status line,
    which python3-websockets does not parse."""
    reader, writer = await asyncio.open_connection('127.0.0.1', port)
    lines = ['GET / HTTP/1.1', 'Host: 127.0.0.1:%d' % port, 'Upgrade: websocket',
             'Connection: Upgrade', 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
             'Sec-WebSocket-Version: 13']
    if origin:
        lines.append('Origin: ' + origin)
    writer.write(('\r\n'.join(lines) + '\r\n\r\n').encode())
    status = await reader.readline()
    writer.close()
    return int(status.split()[1])


def parity_filter(odd):
    return lambda data: int(data.split(b':')[-1]) % 2 == int(odd)


def test_ws_inbound_workers_two_filtered_outbound_edges():
    """ws client -> inbound edge (from_client) -> 2 workers -> two outbound
    ws edges (odd / even filters, from_internal) -> ws clients; a message
    that is not UTF-8 goes as binary; the drain closes the clients (1001)."""
    with mutil.Flow('wsecho') as flow:
        flow.add_edge('in', transport=WS, from_client=lambda data, out: out.emit(b'c:' + data))
        flow.add_worker('work', lambda data, out: out.emit(b'w:' + data), n=2)
        for odd in (False, True):
            flow.add_edge('out', transport=WS, filter=parity_filter(odd),
                          from_internal=lambda data, out: out.emit(b'o:' + data))
        flow.set_link('out', mutil.Link.BROADCAST)
        flow.start()
        count = 100

        async def clients():
            async with websockets.connect(url(flow, 'out', 0)) as even, \
                    websockets.connect(url(flow, 'out', 1)) as odd, \
                    websockets.connect(url(flow, 'in')) as feeder:
                for i in range(count):
                    await (feeder.send(str(i)) if i % 2 else feeder.send(b'%d' % i))
                got_even = await receive(even, count // 2)
                got_odd = await receive(odd, count // 2)
                await feeder.close()
                stopping = asyncio.get_running_loop().run_in_executor(None, flow.stop)
                codes = (await closed_code(even), await closed_code(odd))
                await stopping
                return got_even, got_odd, codes

        got_even, got_odd, codes = run(clients())
        assert all(isinstance(m, str) for m in got_even + got_odd)  # UTF-8: text frames
        assert sorted(got_even) == sorted('o:w:c:%d' % i for i in range(0, count, 2))
        assert sorted(got_odd) == sorted('o:w:c:%d' % i for i in range(1, count, 2))
        assert codes == (1001, 1001)
        inbound, outbound = flow.stage_stats('in'), flow.stage_stats('out')
        assert inbound['in'] == count and inbound['out'] == count and inbound['errors'] == 0
        assert outbound['out'] == count and outbound['drops'] == 0


def test_ws_binary_and_text_frames():
    """Valid UTF-8 goes as text unless binary=True; anything else as binary."""
    sink = Sink()
    with mutil.Flow('wsframes') as flow:
        flow.add_edge('in', transport=WS)
        flow.add_worker('work', lambda data, out: (out.emit(data), sink.write(data)))
        flow.add_edge('out', transport=WS)
        flow.add_edge('out', transport=WS, binary=True)
        flow.set_link('out', mutil.Link.BROADCAST)
        flow.start()
        sink.started()

        async def clients():
            async with websockets.connect(url(flow, 'out', 0)) as auto, \
                    websockets.connect(url(flow, 'out', 1)) as binary, \
                    websockets.connect(url(flow, 'in')) as feeder:
                sent = ['héllo', b'\xff\xfe', b'plain']
                for message in sent:
                    await feeder.send(message)
                return await receive(auto, 3), await receive(binary, 3)

        auto, binary = run(clients())
        assert auto == ['héllo', b'\xff\xfe', 'plain']
        assert binary == ['héllo'.encode(), b'\xff\xfe', b'plain']
        flow.stop()
        assert sink.read_all() == ['héllo'.encode(), b'\xff\xfe', b'plain']


def test_ws_max_frame_and_origin():
    """A message over max_frame closes its sender only (1009, counted in
    errors); a client with another Origin, or none, is refused (403)."""
    sink = Sink()
    origin = 'http://good.example'
    with mutil.Flow('wslimits') as flow:
        flow.add_edge('in', transport=WS, max_frame=1000, origin=origin)
        flow.add_worker('work', lambda data, out: sink.write(data))
        flow.start()
        sink.started()

        async def clients():
            for bad in ('http://evil.example', None):
                assert await handshake_status(flow.edge_port('in'), bad) == 403
            async with websockets.connect(url(flow, 'in'), origin=origin) as good, \
                    websockets.connect(url(flow, 'in'), origin=origin) as big:
                await good.send('before')
                await big.send('x' * 1001)
                code = await closed_code(big)
                await good.send('after')
                return code

        assert run(clients()) == 1009
        flow.stop()
        assert sink.read_all() == [b'before', b'after']
        assert flow.stage_stats('in')['errors'] == 1


def test_ws_idle_clients():
    """A listening inbound edge over max_clients closes the client idle the
    longest (1001) and keeps the others; one with idle_timeout closes a
    client that sent nothing for that long (1001). Both are counted in
    clients_idle."""
    sink = Sink()
    with mutil.Flow('wsidle') as flow:
        flow.add_edge('in', transport=WS, max_clients=2, idle_timeout=None)
        flow.add_edge('in', transport=WS, idle_timeout=0.3)
        flow.add_worker('work', lambda data, out: sink.write(data))
        flow.start()
        sink.started()

        async def clients():
            async with websockets.connect(url(flow, 'in', 1)) as quiet:
                idle = await closed_code(quiet)  # sent nothing for 0.3 s
            async with websockets.connect(url(flow, 'in')) as oldest, \
                    websockets.connect(url(flow, 'in')) as busy:
                await busy.send('a')
                assert sink.read_frames(1) == [b'a']  # busy is active after oldest
                async with websockets.connect(url(flow, 'in')) as third:
                    room = await closed_code(oldest)
                    await busy.send('b')
                    await third.send('c')
                    assert sorted(sink.read_frames(2)) == [b'b', b'c']
            return idle, room

        assert run(clients()) == (1001, 1001)
        flow.stop()
        assert sink.read_all() == []
        assert flow.stage_stats('in')['clients_idle'] == 2


@pytest.mark.parametrize('overflow', ['DISCONNECT', 'DROP_OLDEST'])
def test_ws_slow_client(overflow):
    """A client that reads nothing goes over queue_max: it is disconnected
    (clients_slow) or loses its oldest messages (drops), while a client
    that reads gets every message; with DROP_OLDEST the slow one, reading
    at last, gets the newest but not all."""
    size, batch = 4096, 16
    counter = 'clients_slow' if overflow == 'DISCONNECT' else 'drops'
    with mutil.Flow('wsslow') as flow:
        flow.add_edge('in', transport=WS)
        flow.add_worker('work', lambda data, out: out.emit(data))
        flow.add_edge('out', transport=WS, queue_max=64 * 1024, overflow=overflow,
                      ping_interval=None)  # the slow client would not answer in time
        flow.start()

        async def clients():
            # It stops reading after one message; then the sockets' buffers
            # fill (a few MiB), then its queue at the edge.
            slow = await websockets.connect(url(flow, 'out'), max_queue=1, read_limit=size,
                                            ping_interval=None)
            async with websockets.connect(url(flow, 'out')) as fast, \
                    websockets.connect(url(flow, 'in')) as feeder:
                sent = 0
                while flow.stage_stats('out')[counter] == 0:  # figures ~0.1 s old: a few more
                    assert sent < 64 * 1024 * 1024 // size, 'the slow client was never slowed'
                    for _ in range(batch):
                        await feeder.send(b'%08d' % sent + b'.' * (size - 8))
                        sent += 1
                    got = await receive(fast, batch)  # the fast one keeps up: gets everything
                    assert [int(m[:8]) for m in got] == list(range(sent - batch, sent))
                await feeder.send(b'end')
                assert await fast.recv() == 'end'
                taken = 0
                if overflow == 'DROP_OLDEST':
                    while await slow.recv() != 'end':
                        taken += 1
            slow.transport.abort()  # its close frame may wait behind what it left unread
            return taken, sent

        taken, sent = run(clients(), 300)
        flow.stop()
        if overflow == 'DROP_OLDEST':
            assert 0 < taken < sent  # lost its oldest, kept the newest ('end')
        out = flow.stage_stats('out')
        assert out['out'] == sent + 1 and out[counter] > 0


def test_ws_connect_edges_reconnect():
    """Connecting edges: the inbound one takes what a test server sends (and
    connects again after the server closed it); the outbound one sends the
    results to the server, with the path and Origin configured."""
    server_sock = socket.create_server(('127.0.0.1', 0))
    port = server_sock.getsockname()[1]
    count = 20
    with mutil.Flow('wsconnect') as flow:
        flow.add_edge('in', port=port, listen=False, transport=WS, path='/in')
        flow.add_worker('work', lambda data, out: out.emit(b'w:' + data))
        flow.add_edge('out', port=port, listen=False, transport=WS, path='/out',
                      origin='http://flow.example')
        flow.start()

        async def serve():
            results = asyncio.Queue()
            connections = []

            async def handler(ws, path):
                connections.append((path, ws.request_headers.get('Origin')))
                if path == '/in':
                    first = sum(p == '/in' for p, _ in connections) == 1
                    half = range(count // 2) if first else range(count // 2, count)
                    for i in half:
                        await ws.send(b'%d' % i)
                    if first:
                        return  # closes: the edge connects again
                    await ws.wait_closed()
                else:
                    async for message in ws:
                        await results.put(message)

            async with websockets.serve(handler, sock=server_sock):
                got = [await results.get() for _ in range(count)]
                await asyncio.get_running_loop().run_in_executor(None, flow.stop)
            return got, connections

        got, connections = run(serve())
        assert sorted(got) == sorted('w:%d' % i for i in range(count))  # UTF-8: text
        assert [p for p, _ in connections].count('/in') >= 2
        assert ('/out', 'http://flow.example') in connections


@pytest.fixture(scope='module')
def cert():
    """The tree's test certificate for 127.0.0.1 and its key (tests/data)."""
    data = os.path.join(os.path.dirname(__file__), '..', '..', '..', 'tests', 'data')
    crt, key = os.path.join(data, 'ws_test_cert.pem'), os.path.join(data, 'ws_test_key.pem')
    if not os.path.exists(crt):
        pytest.skip('no test certificate at %s (an installed binding)' % data)
    return crt, key


def test_wss_both_ways(cert):
    """wss://: a listening edge with a certificate and key takes a TLS
    client; a connecting edge (tls, ca_file) verifies a TLS server."""
    crt, key = cert
    client_tls = ssl.create_default_context(cafile=crt)
    server_tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_tls.load_cert_chain(crt, key)
    server_sock = socket.create_server(('127.0.0.1', 0))
    port = server_sock.getsockname()[1]
    with mutil.Flow('wss') as flow:
        flow.add_edge('in', transport=WS, cert_file=crt, key_file=key)
        flow.add_worker('work', lambda data, out: out.emit(data.upper()))
        flow.add_edge('out', port=port, listen=False, transport=WS, tls=True, ca_file=crt)
        flow.start()

        async def both():
            results = asyncio.Queue()

            async def handler(ws, path):
                async for message in ws:
                    await results.put(message)

            async with websockets.serve(handler, sock=server_sock, ssl=server_tls):
                async with websockets.connect(url(flow, 'in', scheme='wss'),
                                              ssl=client_tls) as feeder:
                    await feeder.send('secret')
                    got = await results.get()
                await asyncio.get_running_loop().run_in_executor(None, flow.stop)
            return got

        assert run(both()) == 'SECRET'


def test_ws_edge_that_cannot_listen_fails_the_flow(cert, tmp_path):
    """A listening edge whose runner cannot make its endpoint (its key went
    away after add_edge) is restarted until the restart limit fails the
    flow: start() returns all the same, wait() says why."""
    crt, key = cert
    gone = tmp_path / 'key.pem'
    gone.write_bytes(open(key, 'rb').read())
    with mutil.Flow('wsfail') as flow:
        flow.add_edge('in', transport=WS, cert_file=crt, key_file=str(gone))
        flow.add_worker('work', lambda data, out: None)
        gone.unlink()
        flow.start()
        with pytest.raises(mutil.ProtocolError, match='in'):  # MU_ELIMIT: stage 'in'
            flow.wait(bound(60))


def test_ws_settings_refused(tmp_path):
    """Settings on the wrong side, a key without a certificate, unreadable
    files, a bad path, ws settings on a TCP edge: InvalidError."""
    crt = tmp_path / 'cert.pem'
    crt.write_text('not read here')
    bad = [
        dict(transport=WS, key_file=str(crt)),
        dict(transport=WS, cert_file=str(crt)),
        dict(transport=WS, cert_file=str(tmp_path / 'none.pem'), key_file=str(crt)),
        dict(transport=WS, tls=True),
        dict(transport=WS, path='/x'),
        dict(transport=WS, listen=False, port=1, path='x'),
        dict(transport=WS, listen=False, port=1, cert_file=str(crt), key_file=str(crt)),
        dict(transport=WS, listen=False, port=1, tls=True, ca_file=str(tmp_path / 'none.pem')),
        dict(origin='http://a.example'),
        dict(binary=True),
    ]
    for settings in bad:
        with mutil.Flow('wsbad') as flow:
            with pytest.raises(mutil.InvalidError):
                flow.add_edge('in', **settings)
    with mutil.Flow('wsbad') as flow:
        with pytest.raises(TypeError):
            flow.add_edge('in', transport=WS, colour='blue')
        flow.add_edge('in', transport=WS, listen=False, port=1, tls=True, tls_insecure=True,
                      path='/feed', ping_interval=None)
