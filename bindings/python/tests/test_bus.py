# SPDX-License-Identifier: MPL-2.0
# Copyright (c) 2026 the mutil authors
"""mutil.Bus: inline and thread subscriptions, "*", emit counts, drain,
statistics, handlers that raise, errors of bad use."""
import threading

import pytest

import mutil
from conftest import bound


def test_inline_and_thread_handlers():
    got, on_thread = [], []
    main = threading.get_ident()
    with mutil.Bus() as bus:
        bus.on('price', lambda event, data: got.append((event, data)))

        @bus.on('*', mode='thread', queue_max=2)
        def archive(event, data):
            on_thread.append((event, data, threading.get_ident() != main))

        assert bus.emit('price', b'101.5') == 2
        assert bus.emit('volume', '7') == 1  # str as UTF-8; only '*' takes it
        assert got == [('price', b'101.5')]  # inline: done before emit returned
        for i in range(20):  # more than the queue holds: emit waits, nothing dropped
            bus.emit('tick', b'%d' % i)
        assert bus.drain(bound(10)) is True
        assert [e for e, _, _ in on_thread] == ['price', 'volume'] + ['tick'] * 20
        assert [d for e, d, _ in on_thread if e == 'tick'] == [b'%d' % i for i in range(20)]
        assert all(t for _, _, t in on_thread)
        assert bus.stats() == {'delivered': 23, 'errors': 0, 'exceptions': 0}
        assert bus.emit('nobody') == 1  # '*' still


def test_no_subscriber_and_drain_without_threads():
    bus = mutil.Bus()
    assert bus.emit('x') == 0
    assert bus.drain(0) is True
    bus.close()


def test_inline_exception_is_reported_counted_and_raised_from_emit(capfd):
    bus = mutil.Bus()
    after = []

    def bad(event, data):
        raise ValueError('bad price %s' % data.decode())

    bus.on('price', bad)
    bus.on('price', lambda event, data: after.append(data))
    with pytest.raises(mutil.Error) as info:
        bus.emit('price', b'-1')
    assert isinstance(info.value.__cause__, ValueError)
    assert after == [b'-1']  # the other handlers still ran
    assert bus.exceptions == 1 and bus.stats()['errors'] == 1
    err = capfd.readouterr().err
    assert "mutil: exception in bus handler for 'price'" in err
    assert 'ValueError: bad price -1' in err
    bus.close()


def test_mutil_error_code_passes_through():
    bus = mutil.Bus()

    def refuse(event, data):
        raise mutil.NotFoundError(-2, 'no such symbol')

    bus.on('q', refuse)
    with pytest.raises(mutil.NotFoundError):
        bus.emit('q')
    bus.close()


def test_thread_exception_is_counted(capfd):
    bus = mutil.Bus()
    seen = []

    def flaky(event, data):
        if data == b'2':
            raise RuntimeError('flaky')
        seen.append(data)

    bus.on('n', flaky, mode=mutil.Mode.THREAD)
    for i in range(4):
        assert bus.emit('n', b'%d' % i) == 1  # the thread's failure is not emit's
    assert bus.drain(bound(10))
    assert seen == [b'0', b'1', b'3']
    assert bus.stats() == {'delivered': 4, 'errors': 1, 'exceptions': 1}
    assert 'RuntimeError: flaky' in capfd.readouterr().err
    bus.close()


def test_keyboard_interrupt_in_an_inline_handler_is_raised_as_is():
    bus = mutil.Bus()

    def interrupted(event, data):
        raise KeyboardInterrupt

    bus.on('x', interrupted)
    with pytest.raises(KeyboardInterrupt):
        bus.emit('x')
    bus.close()


def test_errors_of_bad_use():
    bus = mutil.Bus()
    with pytest.raises(TypeError):
        bus.on('x', 'not callable')
    with pytest.raises(ValueError):
        bus.on('x', print, mode='sideways')
    with pytest.raises(ValueError):
        bus.on('x', print, queue_max=-1)
    with pytest.raises(mutil.InvalidError):
        bus.on('', print)
    with pytest.raises(mutil.InvalidError):
        bus.on('e' * 64, print)
    with pytest.raises(TypeError):
        bus.emit(b'x', 42)
    bus.on('x', lambda event, data: None)
    bus.emit('x')
    with pytest.raises(mutil.InvalidError):
        bus.on('y', print)  # subscriptions come before the first emit
    bus.close()
    with pytest.raises(mutil.InvalidError):
        bus.emit('x')
    bus.close()


def test_open_thread_bus_is_closed_at_exit():
    """A bus left open with a thread subscription: the atexit hook closes it
    before the interpreter goes away (here: called directly)."""
    from mutil import bus as bus_module
    done = []
    bus = mutil.Bus()
    bus.on('x', lambda event, data: done.append(data), mode='thread')
    bus.emit('x', b'last')
    bus_module._close_open_buses()
    assert bus.closed and done == [b'last']
