# SPDX-License-Identifier: MPL-2.0
# Copyright (c) 2026 the mutil authors
"""mutil.Flow: stages, links, settings, callbacks in the forked runners,
exceptions, crashes and restarts, the fork with other threads running,
errors of bad use, asyncio. Results leave the runners through a Sink pipe
(flowkit.py); the tests wait on it, never on time."""
import asyncio
import os
import signal
import socket
import sys
import threading

import pytest

import mutil
import mutil.aio
from conftest import bound
from flowkit import Sink, recv_frame, send_frame


def numbers(count):
    """A generator source of count decimal numbers from 0."""
    def source(index):
        for i in range(count):
            yield b'%d' % i
    return source


def sink_stage(sink):
    """A last-stage handler that passes every message to the sink."""
    return lambda data, out: sink.write(data)


def run_to_end(flow, sink, seconds=30):
    """Starts flow, returns every frame of the sink and checks a clean end."""
    flow.start()
    sink.started()
    frames = sink.read_all(seconds)
    assert flow.wait(bound(seconds)) is True
    return frames


def test_source_workers_sink_and_stats():
    sink = Sink()
    with mutil.Flow('pipeline') as flow:
        flow.add_source('numbers', numbers(200))
        flow.add_worker('double', lambda data, out: out.emit(b'%d' % (2 * int(data))), n=3)
        flow.add_worker('sink', sink_stage(sink))
        assert 'defined' in repr(flow) and flow.pid == 0
        frames = run_to_end(flow, sink)
        assert sorted(int(f) for f in frames) == [2 * i for i in range(200)]
        assert flow.pid > 0 and not flow.running and flow.exceptions == 0
        rows = flow.stats()
        assert [r['stage'] for r in rows if r['index'] == -1] == ['numbers', 'double', 'sink']
        double = flow.stage_stats('double')
        assert double['in'] == 200 and double['out'] == 200 and double['errors'] == 0
        workers = [r for r in rows if r['stage'] == 'double' and r['index'] >= 0]
        assert [r['index'] for r in workers] == [0, 1, 2] and sum(r['in'] for r in workers) == 200
        with pytest.raises(mutil.NotFoundError):
            flow.stage_stats('nope')


def test_callable_source_startup_state_teardown():
    sink = Sink()
    left = {}

    def source(index, out):  # three messages per runner, tagged with its index
        left.setdefault(index, 3)
        out.emit(b'%d' % index)
        left[index] -= 1
        return left[index] > 0

    def startup(index):
        return {'index': index, 'seen': 0}

    def count(data, out):
        out.state['seen'] += 1
        assert out.index == out.state['index']

    def teardown(out):  # emits what this process counted, downstream of the drain
        out.emit(b'%d:%d' % (out.index, out.state['seen']))

    flow = mutil.Flow('hooks')
    flow.add_source('src', source, n=2)
    flow.add_worker('count', count, n=2, startup=startup, teardown=teardown)
    flow.add_worker('sink', sink_stage(sink))
    frames = run_to_end(flow, sink)
    per_runner = dict(f.split(b':') for f in frames)
    assert sorted(per_runner) == [b'0', b'1'] and sum(int(v) for v in per_runner.values()) == 6
    flow.close()


def test_keyed_and_broadcast_links():
    sink = Sink()
    flow = mutil.Flow('links')
    flow.add_source('src', numbers(60))
    flow.add_worker('keyed', lambda data, out: out.emit(b'%d:%s' % (out.index, data)), n=3)
    flow.set_link('keyed', mutil.Link.KEYED, key=lambda data: int(data) % 3)
    flow.add_worker('copies', lambda data, out: sink.write(b'%d/%s' % (out.index, data)), n=2)
    flow.set_link('copies', 'broadcast', filter=lambda index, data: index == 0 or data.endswith(b'0'))
    frames = run_to_end(flow, sink)
    by_copy = {}
    for f in frames:
        copy, rest = f.split(b'/')
        runner, number = rest.split(b':')
        assert int(runner) == int(number) % 3  # the same key, the same runner
        by_copy.setdefault(copy, []).append(int(number))
    assert sorted(by_copy[b'0']) == list(range(60))
    assert sorted(by_copy[b'1']) == [n for n in range(60) if n % 10 == 0]
    flow.close()


def test_keyed_link_with_bytes_keys_is_stable():
    sink = Sink()
    flow = mutil.Flow('bytekeys')
    flow.add_source('src', lambda index: (b'%s-%d' % (name, i) for i in range(5)
                                          for name in (b'ann', b'bob', b'cid')))
    flow.add_worker('w', lambda data, out: sink.write(b'%d:%s' % (out.index, data.split(b'-')[0])), n=3)
    flow.set_link('w', 'keyed', key=lambda data: data.split(b'-')[0])
    frames = run_to_end(flow, sink)
    runners = {}
    for f in frames:
        runner, name = f.split(b':')
        runners.setdefault(name, set()).add(runner)
    assert len(frames) == 15 and all(len(r) == 1 for r in runners.values())
    flow.close()


def test_fd_source_reads_frames_until_eof():
    sink = Sink()
    r1, w1 = os.pipe()
    r2, w2 = os.pipe()
    for w, words in ((w1, [b'a', b'b']), (w2, [b'c'])):
        os.write(w, b''.join(len(x).to_bytes(4, 'little') + x for x in words))
        os.close(w)
    flow = mutil.Flow('fds')
    flow.add_fd_source('pipes', [r1, r2])
    flow.add_worker('sink', sink_stage(sink))
    assert sorted(run_to_end(flow, sink)) == [b'a', b'b', b'c']
    flow.close()


def test_handler_exception_is_reported_counted_and_the_flow_goes_on(capfd):
    sink = Sink()

    def picky(data, out):
        if int(data) % 10 == 3:
            raise ValueError('no threes: %s' % data.decode())
        out.emit(data)

    flow = mutil.Flow('raises')
    flow.add_source('src', numbers(50))
    flow.add_worker('picky', picky, n=2)
    flow.add_worker('sink', sink_stage(sink))
    frames = run_to_end(flow, sink)
    assert sorted(int(f) for f in frames) == [i for i in range(50) if i % 10 != 3]
    assert flow.exceptions == 5
    assert flow.stage_stats('picky')['errors'] == 5
    err = capfd.readouterr().err
    assert err.count("mutil: exception in flow 'raises' stage 'picky' handler") == 5
    assert 'ValueError: no threes: 13' in err and 'Traceback' in err
    flow.close()


def test_emit_at_the_last_stage_and_after_the_call(capfd):
    sink = Sink()
    kept = []

    def last(data, out):
        kept.append(out)
        try:
            out.emit(data)
        except mutil.ClosedError:  # MU_EPIPE: nothing downstream
            sink.write(b'closed')
        with pytest.raises(TypeError):
            out.emit(12)
        try:
            kept[0].emit(b'late') if len(kept) > 1 else None
        except mutil.InvalidError:
            sink.write(b'invalid')

    flow = mutil.Flow('emits')
    flow.add_source('src', numbers(2))
    flow.add_worker('last', last)
    assert sorted(run_to_end(flow, sink)) == [b'closed', b'closed', b'invalid']
    assert flow.exceptions == 0
    flow.close()


def test_source_and_filter_and_key_exceptions_are_counted(capfd):
    sink = Sink()

    def source(index):
        yield b'1'
        yield b'2'
        raise RuntimeError('source broke')

    def key(data):
        if data == b'2':
            raise KeyError('no key')
        return 0

    flow = mutil.Flow('rsrc')
    flow.add_source('src', source)
    flow.add_worker('sink', sink_stage(sink), n=2)
    flow.set_link('sink', 'keyed', key=key)
    frames = run_to_end(flow, sink)
    assert sorted(frames) == [b'1', b'2']  # a failing key routes to key 0
    assert flow.exceptions == 2 and flow.stage_stats('src')['errors'] == 1
    err = capfd.readouterr().err
    assert 'RuntimeError: source broke' in err and "KeyError: 'no key'" in err
    flow.close()


def test_crash_restart_of_a_python_runner_with_at_least_once(tmp_path):
    """A runner that dies (sys.exit in its handler ends the process, as
    exit() in C) is restarted, a fresh fork of the supervisor, and the
    at-least-once link sends again what it held."""
    sink = Sink()
    marker = str(tmp_path / 'crashed')

    def fragile(data, out):
        if data == b'7' and not os.path.exists(marker):
            open(marker, 'w').close()
            sys.exit(3)
        sink.write(data)

    flow = mutil.Flow('crash')
    flow.add_source('src', numbers(20))
    flow.add_worker('fragile', fragile)
    flow.set_at_least_once('fragile')
    frames = run_to_end(flow, sink)
    assert set(int(f) for f in frames) == set(range(20))  # duplicates allowed, losses not
    assert flow.stage_stats('fragile')['restarts'] == 1
    assert flow.stage_stats('src')['redelivered'] >= 1  # counted by the sender
    flow.close()


def test_startup_that_raises_is_a_crash_and_the_restart_limit_fails_the_flow(capfd):
    def startup(index):
        raise RuntimeError('cannot start')

    flow = mutil.Flow('limit')
    flow.add_edge('in')  # a first stage that does not end by itself
    flow.add_worker('bad', lambda data, out: None, startup=startup)
    flow.set_restart_limit(2, window=60)
    flow.start()
    with pytest.raises(mutil.ProtocolError) as info:  # MU_ELIMIT
        flow.wait(bound(30))
    assert info.value.name == 'MU_ELIMIT' and "'bad'" in info.value.message
    with pytest.raises(mutil.ProtocolError):  # the same end again
        flow.stop()
    assert flow.exceptions >= 3
    assert 'RuntimeError: cannot start' in capfd.readouterr().err
    flow.close()


def test_wait_ready_waits_for_the_startup_hooks():
    go_r, go_w = os.pipe()

    def startup(index):  # returns when the test writes a byte for it
        os.read(go_r, 1)

    flow = mutil.Flow('ready')
    flow.add_edge('in')
    flow.add_worker('work', lambda data, out: None, n=2, startup=startup)
    with pytest.raises(mutil.InvalidError):  # not started
        flow.wait_ready(0)
    flow.start()
    assert flow.wait_ready(0) is False
    assert flow.wait_ready(0.05) is False  # a bound, not a wait for an event
    os.write(go_w, b'gg')
    assert flow.wait_ready(bound(30)) is True

    async def again():
        return await flow.wait_ready_async(bound(30))
    assert asyncio.run(again()) is True
    flow.stop()
    flow.close()
    os.close(go_r)
    os.close(go_w)

    failing = mutil.Flow('notready')
    failing.add_edge('in')
    failing.add_worker('bad', lambda data, out: None, startup=lambda index: 1 / 0)
    failing.set_restart_limit(0, window=60)
    failing.start()
    with pytest.raises(mutil.ProtocolError) as info:  # MU_ELIMIT before it was ready
        failing.wait_ready(bound(30))
    assert info.value.name == 'MU_ELIMIT'
    failing.close()


def test_drain_deadline_expires():
    sink = Sink()
    block_r, block_w = os.pipe()  # never written: the handler blocks for good

    def stuck(data, out):
        sink.write(b'stuck')
        os.read(block_r, 1)

    flow = mutil.Flow('stuck')
    flow.add_source('src', numbers(1))
    flow.add_worker('stuck', stuck)
    flow.set_drain_timeout(0.3)
    assert flow.state == ('idle', 0)
    flow.start()
    assert flow.state == ('running', 0)
    sink.started()
    assert sink.read_frames(1) == [b'stuck']
    with pytest.raises(mutil.CanceledError) as info:
        flow.stop()
    assert "'stuck'" in info.value.message
    assert flow.state == ("failed", info.value.code) and info.value.name == "MU_ECANCELED"
    os.close(block_r)
    os.close(block_w)
    flow.close()


def test_edges_with_hooks_and_ports():
    flow = mutil.Flow('edges')
    flow.add_edge('in', from_client=lambda data, out: out.emit(data.upper()), max_frame=64)
    flow.add_worker('work', lambda data, out: out.emit(data + b'!'), n=2)
    flow.add_edge('out', from_internal=lambda data, out: out.emit(b'<' + data + b'>'),
                  idle_timeout=None, overflow='drop_oldest', queue_max=4096, max_clients=4)
    flow.start()
    assert flow.running
    with pytest.raises(mutil.InvalidError):
        flow.edge_port('work')
    with socket.create_connection(('127.0.0.1', flow.edge_port('out')), timeout=bound(20)) as out, \
            socket.create_connection(('127.0.0.1', flow.edge_port('in', 0)), timeout=bound(20)) as inp:
        # the outbound edge holds messages back until a client is there: send after connecting
        for word in (b'a', b'b', b'c'):
            send_frame(inp, word)
        got = sorted(recv_frame(out) for _ in range(3))
    assert got == [b'<A!>', b'<B!>', b'<C!>']
    flow.stop()
    assert not flow.running
    assert flow.stage_stats('in')['in'] == 3
    flow.close()


def test_split_flow_with_endpoint_local_and_curve(free_port):
    """One definition, two Flow objects: 'src' runs in one, 'work' in the
    other, over a pinned CURVE tcp:// link."""
    sink = Sink()

    def define(local_stage):
        flow = mutil.Flow('split')
        flow.add_source('src', numbers(30))
        flow.add_worker('work', sink_stage(sink), n=1)
        flow.set_endpoint('work', '127.0.0.1', free_port)
        flow.set_curve(secret='a shared passphrase')
        for stage in ('src', 'work'):
            flow.set_local(stage, stage == local_stage)
        return flow

    upstream, downstream = define('src'), define('work')
    downstream.start()
    upstream.start()
    sink.started()
    assert sorted(int(f) for f in sink.read_frames(30)) == list(range(30))
    upstream.stop()  # a stage feeding another process stays up until stopped
    assert downstream.wait(bound(20)) is True
    upstream.close()
    downstream.close()


def test_drop_setting_and_inproc_handlers():
    sink = Sink()

    def work(data, out):
        assert out.emit_event('seen', data) == 2

    flow = mutil.Flow('inproc')
    flow.add_source('src', numbers(10))
    flow.add_worker('work', work)
    flow.add_inproc('work', 'seen', lambda event, data, out: out.emit(b'inline:' + data))
    flow.add_inproc('work', '*', lambda event, data, out: out.emit(b'thread:' + data),
                    mode=mutil.Mode.THREAD, queue_max=4)
    with pytest.raises(ValueError):
        flow.add_inproc('work', '*', lambda event, data, out: None, mode='sideways')
    flow.add_worker('sink', sink_stage(sink))
    flow.set_drop('sink', False)
    frames = run_to_end(flow, sink)
    assert sorted(frames) == sorted([b'inline:%d' % i for i in range(10)]
                                    + [b'thread:%d' % i for i in range(10)])
    flow.close()


def test_start_while_another_thread_holds_the_gil():
    """The fork happens with the GIL held by the starting thread: a busy
    Python thread cannot leave the children's GIL held by a thread that
    does not exist in them (the runners' callbacks would hang)."""
    stop = threading.Event()

    def spin():
        while not stop.is_set():
            sum(range(1000))

    spinners = [threading.Thread(target=spin) for _ in range(2)]
    for t in spinners:
        t.start()
    try:
        for attempt in range(3):
            sink = Sink()
            flow = mutil.Flow('busy')
            flow.add_source('src', numbers(20))
            flow.add_worker('w', lambda data, out: sink.write(data + b':' + threading.current_thread().name.encode()), n=2)
            frames = run_to_end(flow, sink)
            assert len(frames) == 20
            assert all(f.endswith(b':MainThread') for f in frames)  # threading knows it forked
            flow.close()
    finally:
        stop.set()
        for t in spinners:
            t.join()


def test_run_drains_on_sigint_from_the_main_thread():
    sink = Sink()

    def endless(index):
        i = 0
        while True:
            yield b'%d' % i
            i += 1

    flow = mutil.Flow('endless')
    flow.add_source('src', endless)
    flow.add_worker('sink', sink_stage(sink))
    got = []

    def reader():  # reads everything; after the first frame, Ctrl-C
        got.extend(sink.read_frames(1))
        os.close(sink.w)  # the flow runs: its processes hold the write end
        os.kill(os.getpid(), signal.SIGINT)
        got.extend(sink.read_all())

    previous = signal.getsignal(signal.SIGINT)
    t = threading.Thread(target=reader)
    t.start()
    flow.run()  # returns after the drain the signal started
    t.join()
    assert flow.state == ('finished', 0)
    assert signal.getsignal(signal.SIGINT) is previous
    assert [int(f) for f in got] == list(range(len(got)))  # nothing lost, in order
    flow.close()


def test_asyncio_wait_and_stop():
    async def main():
        sink = Sink()
        flow = mutil.aio.Flow('aio')
        flow.add_source('src', numbers(5))
        flow.add_worker('sink', sink_stage(sink))
        flow.start()
        sink.started()
        assert await flow.wait(bound(30)) is True
        assert len(sink.read_all()) == 5
        await flow.stop()
        flow.close()

        idle = mutil.Flow('idle')  # a flow that does not end: cancel its wait
        idle.add_edge('in')
        idle.add_worker('w', lambda data, out: None)
        idle.start()
        assert await idle.wait_async(0.05) is False
        task = asyncio.ensure_future(idle.wait_async())
        await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await idle.stop_async()
        idle.close()
    asyncio.run(main())


def test_errors_of_bad_use():
    with pytest.raises(mutil.InvalidError):
        mutil.Flow('')
    with pytest.raises(TypeError):
        mutil.Flow(3)
    flow = mutil.Flow('bad')
    with pytest.raises(mutil.InvalidError):
        flow.start()  # no stage
    with pytest.raises(TypeError):
        flow.add_worker('w', 'not callable')
    with pytest.raises(TypeError):
        flow.add_source('s', numbers(1), n='2')
    with pytest.raises(mutil.InvalidError):
        flow.add_source('s', numbers(1), n=0)
    with pytest.raises(mutil.InvalidError):
        flow.add_source('s', numbers(1), n=257)
    flow.add_source('s', numbers(1))
    with pytest.raises(mutil.InvalidError):
        flow.add_worker('s', lambda d, o: None)  # duplicate name
    with pytest.raises(mutil.InvalidError):
        flow.add_source('s2', numbers(1))  # only the first stage
    flow.add_worker('w', lambda d, o: None)
    with pytest.raises(ValueError):
        flow.set_link('w', 'keyed')  # no key
    with pytest.raises(ValueError):
        flow.set_link('w', 'sideways')
    with pytest.raises(mutil.InvalidError):
        flow.set_link('nope', 'balance')
    with pytest.raises(mutil.InvalidError):
        flow.set_drop('nope')
    with pytest.raises(mutil.InvalidError):
        flow.set_restart_limit(-1)
    with pytest.raises(ValueError):
        flow.set_drain_timeout(-1)
    with pytest.raises(ValueError):
        flow.add_edge('e', port=70000)
    with pytest.raises(ValueError):
        flow.add_edge('e', overflow='explode')
    with pytest.raises(TypeError):
        flow.add_fd_source('f', ['x'])
    with pytest.raises(TypeError):
        flow.set_curve()
    with pytest.raises(mutil.InvalidError):
        flow.set_curve(secret='short')
    with pytest.raises(mutil.InvalidError):
        flow.stats()  # not started
    with pytest.raises(mutil.InvalidError):
        flow.wait()
    with pytest.raises(mutil.InvalidError):
        flow.edge_port('w')
    flow.set_at_least_once('w')
    flow.set_link('w', 'broadcast')
    with pytest.raises(mutil.InvalidError):
        flow.start()  # at-least-once on a broadcast link
    flow.close()
    assert 'closed' in repr(flow)
    with pytest.raises(mutil.InvalidError):
        flow.add_worker('x', lambda d, o: None)
    flow.close()  # twice is fine

    started = mutil.Flow('twice')
    started.add_source('s', numbers(1)).add_worker('w', lambda d, o: None)
    started.start()
    with pytest.raises(mutil.InvalidError):
        started.start()
    with pytest.raises(mutil.InvalidError):
        started.set_restart_limit(3)
    assert started.wait(bound(20)) is True
    started.close()


def test_print_in_a_runner_reaches_stdout(capfd):
    """Runners end with _exit: their stdout is line-buffered so prints arrive."""
    sink = Sink()

    def shout(data, out):
        print('runner says', data.decode())
        sink.write(data)

    flow = mutil.Flow('prints')
    flow.add_source('src', numbers(3))
    flow.add_worker('shout', shout)
    assert len(run_to_end(flow, sink)) == 3
    out = capfd.readouterr().out
    assert sorted(line for line in out.splitlines() if line.startswith('runner says')) == \
        ['runner says 0', 'runner says 1', 'runner says 2']
    flow.close()


def test_edge_address_in_use(free_port):
    first = mutil.Flow('first').add_edge('in', port=free_port).add_worker('w', lambda d, o: None)
    second = mutil.Flow('second').add_edge('in', port=free_port).add_worker('w', lambda d, o: None)
    first.start()
    with pytest.raises(mutil.ConnectionError):  # MU_EADDRINUSE
        second.start()
    first.stop()
    first.close()
    second.close()


def test_pipelines_in_one_flow_name_their_stats_rows():
    sink = Sink()
    with mutil.Flow('two') as flow:
        flow.add_pipeline('left')
        flow.add_source('left-src', numbers(30))
        flow.add_worker('left-sink', sink_stage(sink))
        flow.add_pipeline('right', fail_flow=True)
        flow.add_source('right-src', numbers(20), n=2)
        flow.add_worker('right-sink', sink_stage(sink))
        with pytest.raises(mutil.InvalidError):
            flow.add_pipeline('left')  # taken
        frames = run_to_end(flow, sink)
        assert len(frames) == 30 + 2 * 20
        rows = flow.stats()
        assert {r['stage']: r['pipeline'] for r in rows if r['index'] == -1} == {
            'left-src': 'left', 'left-sink': 'left', 'right-src': 'right', 'right-sink': 'right'}
        assert flow.stage_stats('right-sink')['in'] == 40
    with mutil.Flow('solo') as flow:  # without add_pipeline: the flow's name
        flow.add_source('src', numbers(3))
        flow.add_worker('sink', sink_stage(sink := Sink()))
        run_to_end(flow, sink)
        assert {r['pipeline'] for r in flow.stats()} == {'solo'}
