# SPDX-License-Identifier: MPL-2.0
# Copyright (c) 2026 the mutil authors
"""mutil.Server and mutil.Client: Python request handlers (bytes and
MessagePack values), handlers that raise, pushes, streams both ways,
one-way messages, the three security modes and their failures, events
answered by hand, counters and bad use."""
import contextlib
import queue
import threading

import pytest

import mutil
from mutil._lib import lib
from conftest import bound

SECRET = 'correct horse battery staple'


@contextlib.contextmanager
def serving(**options):
    """A Server on an ephemeral TCP port running in a thread (its owner
    while it runs); stopped and closed at the end."""
    options.setdefault('bind', 'tcp://127.0.0.1:*')
    if not {'keys', 'insecure'} & set(options):
        options.setdefault('secret', SECRET)
    server = mutil.Server(**options)
    thread = threading.Thread(target=server.run)
    thread.start()
    try:
        yield server
    finally:
        server.stop()
        thread.join()
        server.final_stats = server.stats()
        server.close()


def client(server, **options):
    if not {'server_key', 'insecure'} & set(options):
        options.setdefault('secret', SECRET)
    return mutil.Client(server.endpoint, timeout=bound(10), **options)


def echo_upper(event):
    return event.data.upper()


def test_request_reply_bytes():
    with serving(handler=echo_upper) as server, client(server) as c:
        assert c.request(b'hello') == b'HELLO'
        assert c.request('text') == b'TEXT'
        assert c.request(bytearray(b'ba')) == b'BA'
        assert c.request(b'') == b''
        assert c.stats()['replies'] == 4
    assert server.final_stats['peers_joined'] == 1


def test_request_reply_msgpack_values():
    def handler(event):
        return {'sum': sum(event.data['numbers']), 'from': event.peer}
    with serving(handler=handler, packed=True) as server, client(server, packed=True) as c:
        reply = c.request({'numbers': [1, 2, 3.5]})
        assert reply['sum'] == 6.5 and reply['from'] >= 1


def test_handler_that_raises_is_reported_counted_and_answered(capfd):
    def handler(event):
        if event.data == b'boom':
            raise ValueError('cannot handle boom')
        if event.data == b'missing':
            raise mutil.NotFoundError(lib.MU_ENOENT, 'no such thing')
        if event.data == b'bad result':
            return 12345  # not a payload
        return b'ok'
    with serving(handler=handler) as server, client(server) as c:
        with pytest.raises(mutil.RemoteError) as info:
            c.request(b'boom')
        assert 'ValueError: cannot handle boom' in info.value.message
        with pytest.raises(mutil.NotFoundError) as info:
            c.request(b'missing')
        assert 'no such thing' in info.value.message
        with pytest.raises(mutil.RemoteError):
            c.request(b'bad result')
        assert c.request(b'fine') == b'ok'  # the server went on
        assert server.handler_errors.count == 3
    err = capfd.readouterr().err
    assert 'Traceback' in err and 'ValueError: cannot handle boom' in err


def test_no_handler_answers_an_error():
    with serving() as server, client(server) as c:
        with pytest.raises(mutil.Error) as info:
            c.request(b'anyone?')
        assert info.value.code == lib.MU_ENOTSUP


def test_push_and_join_leave_events():
    seen = queue.Queue()

    def on_join(event):
        seen.put(('join', event.name))
        event.server.push(event.peer, b'welcome')

    with serving(on_join=on_join, on_leave=lambda ev: seen.put(('leave', ev.peer))) as server:
        with client(server, name='py-client') as c:
            message = c.recv()
            assert message == mutil.Message('push', 0, b'welcome', False)
            assert seen.get(timeout=bound(10)) == ('join', 'py-client')
        assert seen.get(timeout=bound(10))[0] == 'leave'


def test_push_all_and_iteration():
    def handler(event):
        return b'%d' % event.server.push_all(b'to everyone')
    with serving(handler=handler) as server, client(server) as a, client(server) as b:
        a.wait_ready()
        b.wait_ready()
        assert a.request(b'go') == b'2'
        assert next(iter(a)).data == b'to everyone' and b.recv().data == b'to everyone'


def test_server_streams_to_the_client():
    def handler(event):
        for i in range(3):
            event.server.stream_send(event.peer, 7, b'chunk %d' % i, last=(i == 2))
        return b'sent'
    with serving(handler=handler) as server, client(server) as c:
        assert c.request(b'stream please') == b'sent'
        chunks = [c.recv() for _ in range(3)]
        assert [m.data for m in chunks] == [b'chunk 0', b'chunk 1', b'chunk 2']
        assert {m.kind for m in chunks} == {'stream'} and {m.id for m in chunks} == {7}
        assert [m.last for m in chunks] == [False, False, True]
        with pytest.raises(mutil.WouldBlock):
            c.recv(timeout=0)


def test_client_streams_and_messages_to_the_server():
    got = queue.Queue()
    with serving(on_stream=lambda ev: got.put((ev.id, ev.data, ev.last)),
                 on_message=lambda ev: got.put(('message', ev.data))) as server, \
            client(server) as c:
        c.send(b'one way')
        for i in range(3):
            c.stream_send(42, b'part %d' % i, last=(i == 2))
        items = [got.get(timeout=bound(10)) for _ in range(4)]
    assert items == [('message', b'one way'), (42, b'part 0', False), (42, b'part 1', False),
                     (42, b'part 2', True)]


def test_curve_with_keys_and_an_allow_list():
    server_keys, allowed, stranger = mutil.Keys(), mutil.Keys(), mutil.Keys()
    keys_seen = queue.Queue()

    def handler(event):
        keys_seen.put(event.server.peer_key(event.peer))
        return b'in'
    with serving(keys=server_keys, allow=[allowed], handler=handler) as server:
        with client(server, server_key=server_keys.public_text, keys=allowed) as c:
            assert c.request(b'x') == b'in'
        assert keys_seen.get(timeout=bound(10)) == allowed.public
        with client(server, server_key=server_keys, keys=stranger) as c:
            with pytest.raises(mutil.AuthError) as info:
                c.request(b'x')
            assert info.value.code == lib.MU_EAUTH
        with client(server, server_key=mutil.Keys(), keys=allowed) as c:
            with pytest.raises(mutil.AuthError) as info:
                c.request(b'x')
            assert info.value.code == lib.MU_EHANDSHAKE
        with client(server, secret=SECRET) as c:
            with pytest.raises(mutil.AuthError):
                c.request(b'x')
    assert server.final_stats['auth_failures'] >= 1


def test_allow_any_lets_a_fresh_client_key_in():
    server_keys = mutil.Keys()
    with serving(keys=server_keys, allow=mutil.Allow.any(), handler=echo_upper) as server, \
            client(server, server_key=server_keys.public) as c:
        assert c.request(b'anon') == b'ANON'


def test_wrong_secret_and_insecure():
    with serving(handler=echo_upper) as server:
        with client(server, secret='another passphrase') as c:
            with pytest.raises(mutil.AuthError) as info:
                c.request(b'x')
            assert info.value.code == lib.MU_EHANDSHAKE
    with serving(insecure=True, handler=echo_upper) as server, client(server, insecure=True) as c:
        assert c.request(b'plain') == b'PLAIN'


def test_events_answered_by_hand():
    server = mutil.Server('tcp://127.0.0.1:*', secret=SECRET)
    with client(server, name='manual') as c:
        results = queue.Queue()
        requester = threading.Thread(target=lambda: results.put(
            [c.request(b'first'), _raised(c.request, b'second')]))
        requester.start()
        join = server.recv(timeout=bound(10))
        assert join.kind == 'join' and join.name == 'manual'
        first = server.recv(timeout=bound(10))
        assert first.kind == 'request' and first.data == b'first' and 'request' in repr(first)
        first.reply(b'by hand')
        with pytest.raises(mutil.InvalidError):
            first.reply(b'twice')
        second = server.recv(timeout=bound(10))
        second.reply_error(mutil.ExistsError(lib.MU_EEXIST, 'already there'))
        requester.join()
        assert results.get() == [b'by hand', mutil.ExistsError]
        assert server.peers == 1 and server.peer_stats(join.peer)['msgs_in'] >= 2
        with pytest.raises(mutil.NotFoundError):
            server.peer_stats(999)
        with pytest.raises(TypeError):
            second.reply_error('not a code')
    held = None
    with client(server) as c2:
        thread = threading.Thread(target=lambda: results.put(_raised(c2.request, b'dropped')))
        thread.start()
        while held is None or held.kind != 'request':
            joined, held = held, server.recv(timeout=bound(10))
        held.close()  # closed unanswered: the client is told "dropped"
        thread.join()
    assert results.get() is mutil.RemoteError
    server.close()  # closes the events still open
    assert joined.closed


def _raised(call, *args):
    try:
        return call(*args)
    except mutil.Error as exc:
        return type(exc)


def test_timeouts_and_connection_failures(tmp_path):
    silent = mutil.Server('tcp://127.0.0.1:*', insecure=True)  # nobody calls recv
    with mutil.Client(silent.endpoint, insecure=True) as c:
        with pytest.raises(mutil.TimeoutError):
            c.request(b'x', timeout=0.2)
        with pytest.raises(mutil.WouldBlock):
            c.recv(timeout=0)
        assert c.stats()['timeouts'] == 1
    silent.close()
    with mutil.Client('ipc://%s/nobody' % tmp_path, insecure=True) as c:
        with pytest.raises(mutil.ConnectionError):
            c.request(b'x', timeout=bound(10))
    with pytest.raises(mutil.TimeoutError):
        mutil.Server('tcp://127.0.0.1:*', insecure=True).recv(timeout=0.01)


def test_bad_use_raises(tmp_path):
    with pytest.raises(ValueError):
        mutil.Server('tcp://127.0.0.1:*')  # no security
    with pytest.raises(ValueError):
        mutil.Server('tcp://127.0.0.1:*', insecure=True, secret=SECRET)
    with pytest.raises(ValueError):
        mutil.Server('tcp://127.0.0.1:*', keys=mutil.Keys())  # no allow
    with pytest.raises(mutil.InvalidError):
        mutil.Server('tcp://127.0.0.1:*', secret='short')
    with pytest.raises(mutil.InvalidError):
        mutil.Server('bogus://x', insecure=True)
    with pytest.raises(mutil.InvalidError):
        mutil.Server(insecure=True).recv(timeout=0)  # not bound
    with pytest.raises(mutil.InvalidError):
        mutil.Server(insecure=True, heartbeat=(0.001, 5))
    with pytest.raises(mutil.NotFoundError):
        mutil.Server(insecure=True, root=tmp_path / 'missing')
    with pytest.raises(ValueError):
        mutil.Client('tcp://127.0.0.1:1')
    with pytest.raises(ValueError):
        mutil.Client('tcp://127.0.0.1:1', keys=mutil.Keys(), secret=SECRET)
    with pytest.raises(mutil.InvalidError):
        mutil.Client('tcp://127.0.0.1:70000', insecure=True)
    c = mutil.Client(insecure=True)
    with pytest.raises(mutil.InvalidError):
        c.request(b'not connected')
    with pytest.raises(mutil.InvalidError):
        mutil.Client(insecure=True, name='x' * 300)
    c.close()
    with pytest.raises(mutil.InvalidError):
        c.request(b'closed')
    with serving(insecure=True, handler=echo_upper) as server, client(server, insecure=True) as c:
        with pytest.raises(TypeError):
            c.request(3.14)
        with pytest.raises(TypeError):
            c.send(None and 1 or object())
    with pytest.raises(mutil.InvalidError):
        server.push(1, b'closed server')


def test_ipc_and_several_binds(tmp_path):
    with serving(bind=['ipc://%s/srv' % tmp_path, 'tcp://127.0.0.1:*'],
                 handler=echo_upper) as server:
        assert server.endpoints[0] == 'ipc://%s/srv' % tmp_path
        assert server.endpoints[1].startswith('tcp://127.0.0.1:')
        for endpoint in server.endpoints:
            with mutil.Client(endpoint, secret=SECRET, timeout=bound(10)) as c:
                assert c.request(b'via ' + endpoint.encode()) == b'VIA ' + endpoint.upper().encode()


def test_options_and_the_serving_loop():
    handled = []

    def handler(event):
        handled.append(event.data)
        return event.data.upper()
    server = mutil.Server('tcp://127.0.0.1:*', insecure=True, heartbeat=(0.05, 0.5),
                          max_message=1 << 20, transfer_budget=(1 << 20, 1 << 21),
                          handler=handler)
    assert server.serve_once(timeout=0) is False
    server.run(timeout=0.01)  # returns when the time is up
    with mutil.Client(server.endpoint, insecure=True, heartbeat=(0.05, 0.5),
                      reconnect=(0.01, 0.1), timeout=bound(10)) as c:
        with pytest.raises(mutil.InvalidError):
            mutil.Client(insecure=True, reconnect=(0.1, 0.01))
        with pytest.raises(mutil.InvalidError):
            server.set_transfer_budget(2, 1)
        results = queue.Queue()
        thread = threading.Thread(target=lambda: results.put(c.request(b'loop')))
        thread.start()
        while not handled:
            server.serve_once(timeout=bound(10))
        thread.join()
        assert results.get() == b'LOOP'
    server.close()


def test_close_while_run_in_another_thread_waits_for_it():
    """close() from another thread stops run() and waits for it before the C
    server is freed (no use after free), and close() from a handler closes
    the server when run() returns."""
    import threading
    server = mutil.Server('tcp://127.0.0.1:*', insecure=True)
    runner = threading.Thread(target=server.run)
    runner.start()
    server.close()
    runner.join(bound(10))
    assert not runner.is_alive() and server.closed

    def close_from_handler(event):
        server2.close()
        return b'bye'
    server2 = mutil.Server('tcp://127.0.0.1:*', insecure=True, handler=close_from_handler)
    runner = threading.Thread(target=server2.run)
    runner.start()
    with mutil.Client(server2.endpoints[0], insecure=True, timeout=bound(10)) as client:
        assert client.request(b'x') == b'bye'
    runner.join(bound(10))
    assert not runner.is_alive() and server2.closed
