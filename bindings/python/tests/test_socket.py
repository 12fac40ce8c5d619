# SPDX-License-Identifier: MPL-2.0
# Copyright (c) 2026 the mutil authors
"""mutil.Socket: identities, bind/connect, PUBLISH / ROUNDROBIN / send_to,
JOIN and LEAVE events, heartbeats, the local queue, AT_LEAST_ONCE, CURVE,
stats, iteration and the errors of bad use."""
import atexit
import itertools
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import pytest

import mutil
from mutil._lib import ffi, lib
from conftest import bound

_ipc_dir = tempfile.mkdtemp(prefix='mu_pysock.')
_ipc_seq = itertools.count()
atexit.register(shutil.rmtree, _ipc_dir, True)


def ipc():
    """A fresh ipc:// endpoint for this test run."""
    return 'ipc://%s/s%d' % (_ipc_dir, next(_ipc_seq))


def pump(socks, until, seconds=5.0):
    """Drives socks (recv with a short wait) until until() is true; returns
    the messages received meanwhile. Fails after the bound."""
    deadline = time.monotonic() + bound(seconds)
    got = []
    while not until():
        assert time.monotonic() < deadline, 'condition not reached in time'
        for s in socks:
            try:
                got.append(s.recv(0.01))
            except mutil.TimeoutError:
                pass
    return got


def join(hub, *peers, seconds=5.0):
    """Connects peers to hub (bound on a fresh ipc endpoint unless it is
    already bound) and drives all until every side sees the others. Returns
    the messages and events received meanwhile."""
    ep = hub.endpoint or ipc()
    if not hub.endpoint:
        hub.bind(ep)
    for p in peers:
        p.connect(ep)
    return pump((hub,) + peers,
                lambda: hub.peers == len(peers) and all(p.peers == 1 for p in peers), seconds)


def recv_data(sock, n, seconds=5.0, before=()):
    """The next n data messages of sock (events skipped) after those in
    `before` (what join() or pump() received for sock)."""
    out = [m for m in before if m.event == mutil.SocketEvent.MESSAGE]
    deadline = time.monotonic() + bound(seconds)
    while len(out) < n:
        msg = sock.recv(max(0.0, deadline - time.monotonic()))
        if msg.event == mutil.SocketEvent.MESSAGE:
            out.append(msg)
    return out


@pytest.fixture
def hub():
    with mutil.Socket() as s:
        yield s


@pytest.fixture
def peers():
    socks = [mutil.Socket() for _ in range(2)]
    yield socks
    for s in socks:
        s.close()


# -- identity, options, endpoints ----------------------------------------------

def test_identity_given_or_random():
    with mutil.Socket(b'0123456789abcdef') as a, mutil.Socket('fedcba9876543210') as b, \
            mutil.Socket() as c, mutil.Socket() as d:
        assert a.identity == b'0123456789abcdef'
        assert b.identity == b'fedcba9876543210'
        assert len(c.identity) == 16 and c.identity != d.identity


@pytest.mark.parametrize('bad', [b'short', b'x' * 17, ''])
def test_identity_of_wrong_length_is_refused(bad):
    with pytest.raises(mutil.InvalidError):
        mutil.Socket(bad)
    with pytest.raises(ValueError):
        mutil.Socket(bad)


def test_identity_of_wrong_type_is_refused():
    with pytest.raises(TypeError):
        mutil.Socket(12345)


def test_bind_returns_the_port_and_ipc_zero(hub):
    port = hub.bind('tcp://127.0.0.1:*')
    assert 0 < port < 65536
    assert hub.endpoint == 'tcp://127.0.0.1:%d' % port
    assert hub.bind(ipc()) == 0


def test_bad_endpoints_raise(hub, free_port):
    with pytest.raises(mutil.InvalidError):
        hub.bind('udp://127.0.0.1:1')
    with pytest.raises(mutil.InvalidError):
        hub.connect('tcp://127.0.0.1:notaport')
    with pytest.raises(TypeError):
        hub.bind(None)
    hub.bind('tcp://127.0.0.1:%d' % free_port)
    with mutil.Socket() as other, pytest.raises(mutil.ConnectionError):
        other.bind('tcp://127.0.0.1:%d' % free_port)


def test_options_are_checked():
    with pytest.raises(ValueError):
        mutil.Socket(mode='broadcast')
    with pytest.raises(ValueError):
        mutil.Socket(mode=7)
    with pytest.raises(TypeError):
        mutil.Socket(mode=1.5)
    with pytest.raises(ValueError):
        mutil.Socket(queue_policy='later')
    with pytest.raises(mutil.InvalidError):
        mutil.Socket(heartbeat=(2.0, 1.0))
    with pytest.raises(ValueError):
        mutil.Socket(heartbeat=(0, 1.0))
    with pytest.raises(mutil.InvalidError):
        mutil.Socket(queue_limit=0)
    with pytest.raises(mutil.InvalidError):
        mutil.Socket(at_least_once={'retries': 0})
    with pytest.raises(ValueError):
        mutil.Socket(send_timeout=-1)


def test_mode_is_a_property(hub):
    assert hub.mode is mutil.Socket.PUBLISH
    hub.mode = 'roundrobin'
    assert hub.mode is mutil.SocketMode.ROUNDROBIN
    hub.mode = 1
    assert hub.mode is mutil.SocketMode.PUBLISH


def test_tick_and_stats(hub):
    assert 0 <= hub.tick() <= 1.0
    st = hub.stats()
    assert set(st) == {'sent', 'received', 'dropped', 'resent', 'duplicates', 'reconnects',
                       'joins', 'leaves', 'malformed', 'auth_failures', 'pings'}
    assert all(v == 0 for v in st.values())


# -- distribution ----------------------------------------------------------------

def test_publish_reaches_every_peer_with_the_sender_identity(hub, peers):
    join(hub, *peers)
    hub.send(b'hello')
    hub.send(bytearray(b'ba'))
    hub.send(memoryview(b'mv'))
    hub.send('str \u00e9')
    hub.send(b'')
    for p in peers:
        msgs = recv_data(p, 5)
        assert [m.data for m in msgs] == [b'hello', b'ba', b'mv', 'str \u00e9'.encode(), b'']
        event, peer, data = msgs[0]
        assert event is mutil.SocketEvent.MESSAGE and peer == hub.identity
    assert hub.stats()['sent'] == 10


def test_roundrobin_alternates_between_peers(hub, peers):
    hub.mode = mutil.Socket.ROUNDROBIN
    join(hub, *peers)
    for i in range(4):
        hub.send(b'%d' % i)
    got = [sorted(m.data for m in recv_data(p, 2)) for p in peers]
    assert sorted(got) == [[b'0', b'2'], [b'1', b'3']]


def test_send_to_one_identity(hub, peers):
    join(hub, *peers)
    hub.send_to(peers[1].identity, b'only you')
    assert recv_data(peers[1], 1)[0].data == b'only you'
    with pytest.raises(mutil.WouldBlock):
        peers[0].recv(0)
    assert peers[0].identity in hub and hub.has_peer(peers[1].identity)


def test_send_to_unknown_identity(hub):
    with pytest.raises(mutil.NotFoundError):
        hub.send_to(b'x' * 16, b'data')
    hub.drop_unroutable = True
    assert hub.drop_unroutable
    hub.send_to(b'x' * 16, b'data')
    assert hub.stats()['dropped'] == 1
    with pytest.raises(mutil.InvalidError):
        hub.send_to(b'short', b'data')
    with pytest.raises(TypeError):
        hub.send_to(b'x' * 16, 42)


def test_peer_replies_to_the_sender(hub, peers):
    join(hub, peers[0])
    peers[0].send(b'ping')
    msg = recv_data(hub, 1)[0]
    hub.send_to(msg.peer, b'pong')
    assert recv_data(peers[0], 1)[0].data == b'pong'


def test_iteration_yields_messages(hub, peers):
    join(hub, peers[0])
    for i in range(3):
        hub.send(b'%d' % i)
    got = []
    for msg in peers[0]:
        got.append(msg.data)
        if len(got) == 3:
            break
    assert got == [b'0', b'1', b'2']


# -- events and heartbeats ----------------------------------------------------------

def test_join_and_leave_events(peers):
    with mutil.Socket(events=True) as hub:
        assert hub.events
        seen = [m for m in join(hub, peers[0]) if m.peer == peers[0].identity]
        ident = peers[0].identity
        peers[0].close()
        seen += pump([hub], lambda: hub.peers == 0)
        if seen[-1].event != mutil.SocketEvent.LEAVE:
            seen.append(hub.recv(bound(5)))
        kinds = [(m.event, m.peer) for m in seen]
        assert kinds[0] == (mutil.SocketEvent.JOIN, ident)
        assert (mutil.SocketEvent.LEAVE, ident) in kinds
        assert all(m.data is None for m in seen)


def test_silent_peer_leaves_after_the_heartbeat_timeout(peers):
    with mutil.Socket(events=True, heartbeat=(0.05, 0.2)) as hub:
        joined = [m.event for m in join(hub, peers[0]) if m.peer == peers[0].identity]
        assert joined == [mutil.SocketEvent.JOIN]
        msg = hub.recv(bound(5))  # peers[0] is never driven again: no PING
        assert msg.event == mutil.SocketEvent.LEAVE and msg.peer == peers[0].identity
        assert hub.stats()['leaves'] == 1


# -- queue ------------------------------------------------------------------------

def test_queue_drop_policy():
    with mutil.Socket(queue_limit=2, queue_policy='drop') as s:
        s.send(b'1')
        s.send(b'2')
        with pytest.raises(mutil.WouldBlock):
            s.send(b'3')
        assert s.stats()['dropped'] == 1


def test_queue_block_policy_times_out():
    with mutil.Socket() as s:
        s.set_queue(limit=1, policy=mutil.SocketPolicy.BLOCK, timeout=0)
        s.send(b'1')
        with pytest.raises(mutil.TimeoutError):
            s.send(b'2')


def test_queued_messages_go_out_in_order_on_join(hub, peers):
    hub.bind(ipc())
    for i in range(5):
        hub.send(b'%d' % i)
    early = [m for m in join(hub, peers[0]) if m.peer == hub.identity]
    assert [m.data for m in recv_data(peers[0], 5, before=early)] == [b'%d' % i for i in range(5)]


# -- at least once ----------------------------------------------------------------

def test_at_least_once_resends_to_the_returning_identity():
    ident = b'R' * 16
    opts = {'retries': 50, 'resend': 0.05, 'window': 64}
    with mutil.Socket(at_least_once=opts) as hub:
        with mutil.Socket(ident) as first:
            join(hub, first)
            for i in range(5):
                hub.send(b'%d' % i)
            # first leaves without receiving (and so without acknowledging)
        pump([hub], lambda: hub.peers == 0)
        with mutil.Socket(ident) as again:
            got = {m.data for m in join(hub, again) if m.peer == hub.identity}
            deadline = time.monotonic() + bound(10)
            while len(got) < 5:
                assert time.monotonic() < deadline
                for s in (hub, again):
                    try:
                        msg = s.recv(0.01)
                    except mutil.TimeoutError:
                        continue
                    if s is again and msg.event == mutil.SocketEvent.MESSAGE:
                        got.add(msg.data)
            assert got == {b'%d' % i for i in range(5)}
            assert hub.stats()['resent'] >= 5
            assert hub.stats()['reconnects'] == 1


def test_at_least_once_only_before_the_first_send(hub):
    hub.send(b'queued')
    with pytest.raises(mutil.InvalidError):
        hub.set_at_least_once()


# -- CURVE --------------------------------------------------------------------------

def test_curve_secret_lets_equal_secrets_talk():
    with mutil.Socket(curve_secret=b'a shared secret') as hub, \
            mutil.Socket(curve_secret='a shared secret') as peer:
        join(hub, peer)
        hub.send(b'sealed')
        assert recv_data(peer, 1)[0].data == b'sealed'


def test_curve_secret_refuses_another_secret():
    with mutil.Socket(curve_secret=b'a shared secret') as hub, \
            mutil.Socket(curve_secret=b'another secret!') as peer:
        hub.bind('tcp://127.0.0.1:*')
        peer.connect(hub.endpoint)
        # the client cannot even talk to the wrong server key: nothing may
        # happen in this window (a join would show in it)
        window_end = time.monotonic() + 0.5
        pump([hub, peer], lambda: time.monotonic() > window_end)
        assert hub.peers == 0 and peer.peers == 0


def test_curve_secret_too_short(hub):
    with pytest.raises(mutil.InvalidError):
        hub.set_curve_secret(b'short')
    with pytest.raises(TypeError):
        hub.set_curve_secret(12345678)


class _Held:
    """A keys / allow object as mutil.Keys and mutil.Allow look to Socket:
    a `_p` cffi pointer (made here through lib so this test stands alone)."""

    def __init__(self, ptr, destroy, ctype):
        assert ptr != ffi.NULL
        self._p, self._destroy, self._ctype = ptr, destroy, ctype

    def close(self):
        self._destroy(ffi.new(self._ctype + ' **', self._p))


@pytest.fixture
def curve_keys():
    server = _Held(lib.mu_keys_new(), lib.mu_keys_destroy, 'mu_keys_t')
    client = _Held(lib.mu_keys_new(), lib.mu_keys_destroy, 'mu_keys_t')
    allow = _Held(lib.mu_allow_new(), lib.mu_allow_destroy, 'mu_allow_t')
    assert lib.mu_allow_add(allow._p, lib.mu_keys_public(client._p)) == 0
    yield server, client, allow
    for held in (server, client, allow):
        held.close()


def test_curve_with_keys_and_allow_list(curve_keys):
    server, client, allow = curve_keys
    public = ffi.buffer(lib.mu_keys_public(server._p), 32)[:]
    with mutil.Socket() as hub, mutil.Socket() as peer, mutil.Socket() as stranger:
        hub.set_curve(server_keys=server, allow=allow)
        peer.set_curve(client_keys=client, server_public=public)
        join(hub, peer)
        peer.send(b'over curve')
        assert recv_data(hub, 1)[0].data == b'over curve'
        stranger.set_curve(client_keys=server, server_public=server)  # not allowed
        stranger.connect(hub.endpoint)
        pump([hub, peer, stranger], lambda: hub.stats()['auth_failures'] > 0)
        assert hub.peers == 1


def test_curve_arguments_are_checked(hub, curve_keys):
    server, _, _ = curve_keys
    with pytest.raises(TypeError):
        hub.set_curve(server_keys=b'not keys')
    with pytest.raises(mutil.InvalidError):
        hub.set_curve(client_keys=server, server_public=b'short')
    with pytest.raises(mutil.InvalidError):
        hub.set_curve(client_keys=server)  # half a pair


# -- errors of bad use -----------------------------------------------------------

def test_closed_socket_raises():
    s = mutil.Socket()
    s.close()
    s.close()
    assert s.closed and 'closed' in repr(s)
    for call in (lambda: s.send(b'x'), lambda: s.send_to(b'x' * 16, b'x'), lambda: s.recv(0),
                 lambda: s.bind(ipc()), lambda: s.tick(), lambda: s.stats(),
                 lambda: s.identity, lambda: list(iter(s))):
        with pytest.raises(mutil.InvalidError):
            call()
    with pytest.raises(mutil.InvalidError):
        with s:
            pass


def test_closing_ends_iteration(hub, peers):
    join(hub, peers[0])
    hub.send(b'last')
    got = [m.data for m in peers[0] if not peers[0].close()]
    assert got == [b'last']


def test_wrong_payload_types(hub):
    for bad in (None, 42, 3.5, ['list']):
        with pytest.raises(TypeError):
            hub.send(bad)


def test_over_size_message_is_refused(hub):
    big = bytes(mutil.socket.MAX_MESSAGE + 1)
    with pytest.raises(mutil.ProtocolError):
        hub.send(big)
    assert hub.stats()['sent'] == 0


def test_recv_timeouts(hub):
    with pytest.raises(mutil.WouldBlock):
        hub.recv(0)
    t0 = time.monotonic()
    with pytest.raises(mutil.TimeoutError):
        hub.recv(0.05)
    assert time.monotonic() - t0 >= 0.04
    with pytest.raises(ValueError):
        hub.recv(-1)


_BLOCKED_IN_RECV = '''
import sys, mutil
s = mutil.Socket()
try:  # the parent signals once it read 'ready': the print is inside the region too
    print('ready', flush=True)
    s.recv()
except KeyboardInterrupt:
    print('KeyboardInterrupt', flush=True)
'''


def test_sigint_interrupts_a_blocking_recv():
    """SIGINT reaches Python's handler (czmq's are off) and a recv blocked
    in C ends in KeyboardInterrupt instead of looping on EINTR."""
    child = subprocess.Popen([sys.executable, '-c', _BLOCKED_IN_RECV], stdout=subprocess.PIPE,
                             text=True)
    try:
        assert child.stdout.readline() == 'ready\n'
        deadline = time.monotonic() + bound(10)
        while child.poll() is None:  # again until it lands inside recv
            assert time.monotonic() < deadline, 'recv was not interrupted'
            child.send_signal(signal.SIGINT)
            try:
                child.wait(0.1)
            except subprocess.TimeoutExpired:
                pass
        assert child.stdout.read() == 'KeyboardInterrupt\n'
    finally:
        if child.poll() is None:
            child.kill()
        child.wait()
