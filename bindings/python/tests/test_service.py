# SPDX-License-Identifier: MPL-2.0
# Copyright (c) 2026 the mutil authors
"""mutil.Service and mutil.Entrypoint (blocking and asyncio)."""
import asyncio
import os
import signal
import subprocess
import threading

import pytest

import mutil
import mutil.aio
from conftest import bound


class Recorder(mutil.Service):
    """Appends 'start NAME' / 'stop NAME' to a shared log."""
    __required__ = ('log',)

    def start(self):
        self.log.append('start ' + self.service_name)

    def stop(self, timeout):
        self.log.append('stop ' + self.service_name)


def quiet(*services, **kw):
    kw.setdefault('log_level', 'quiet')
    return mutil.Entrypoint(*services, **kw)


def test_with_starts_all_and_stops_in_reverse():
    log = []
    with quiet(Recorder(name='a', log=log), Recorder(name='b', log=log)) as ep:
        assert sorted(log) == ['start a', 'start b']   # concurrently, in no set order
        assert [s.name for s in ep.services] == ['a', 'b']
    assert log[2:] == ['stop b', 'stop a']
    assert ep.closed and ep.signal is None and ep.callback_errors == 0


def test_callables_get_the_service_and_timeout():
    seen = []
    svc = mutil.Service(name='cb', start=lambda s: seen.append(s),
                        stop=lambda s, t: seen.append(t))
    with quiet(svc, shutdown_timeout=bound(5)):
        pass
    assert seen[0] is svc
    assert 0 < seen[1] <= bound(5)


def test_service_construction_errors():
    with pytest.raises(TypeError):
        mutil.Service()                 # no start
    with pytest.raises(TypeError):
        Recorder()                      # __required__ log missing
    with pytest.raises(TypeError):
        mutil.Service(start=1)
    with pytest.raises(TypeError):
        quiet().add(object())
    with pytest.raises(ValueError):
        quiet(log_level='loud')
    with pytest.raises(ValueError):
        quiet(start_timeout=-1)


def test_run_in_thread_until_stop():
    ep = quiet(Recorder(log=[]))
    ready = threading.Event()
    ep2 = quiet(Recorder(log=[]), post_start=lambda e: ready.set())
    t = threading.Thread(target=ep2.run)
    t.start()
    assert ready.wait(bound(10))
    ep2.stop()
    t.join(bound(10))
    assert not t.is_alive()
    ep.close()
    ep2.close()


def test_runs_once_and_one_at_a_time():
    ep = quiet(Recorder(log=[]))
    ep.stop()                          # stop before run: returns at once
    ep.run()
    with pytest.raises(mutil.InvalidError):
        ep.run()
    ep.close()
    with pytest.raises(mutil.InvalidError):
        ep.stop()                      # closed
    outer = quiet(Recorder(log=[]))
    with outer:
        with pytest.raises(mutil.InvalidError):
            quiet(Recorder(log=[])).run()


def test_service_in_two_entrypoints_is_refused_until_closed():
    svc = Recorder(log=[])
    ep = quiet(svc)
    with pytest.raises(mutil.InvalidError):
        quiet(svc)
    ep.close()
    with quiet(svc):
        pass


def test_start_exception_fails_the_run_with_cause(capsys):
    log = []

    def boom(svc):
        raise ValueError('no disk')
    ep = quiet(Recorder(name='a', log=log), mutil.Service(name='db', start=boom),
               Recorder(name='c', log=log))
    with pytest.raises(mutil.InvalidError) as info:
        ep.run()
    assert isinstance(info.value.__cause__, ValueError)
    assert "'db'" in str(info.value)
    # the starts run concurrently: c may have started before db failed; every
    # started service is stopped, in reverse order; db (start failed) is not
    starts = [e for e in log if e.startswith('start')]
    stops = [e for e in log if e.startswith('stop')]
    assert 'start a' in starts and set(starts) <= {'start a', 'start c'}
    assert stops == ['stop c', 'stop a'][2 - len(starts):]
    assert ep.callback_errors == 1
    assert 'no disk' in capsys.readouterr().err
    ep.close()


def test_fail_inside_start_fails_the_start():
    class Failing(mutil.Service):
        def start(self):
            self.fail(mutil.NotFoundError(-2, 'gone'))
    with pytest.raises(mutil.Error) as info:
        with quiet(Failing()) as ep:
            assert ep.wait(bound(10))
    assert 'gone' in str(info.value)


def test_fail_after_ready_ends_the_run():
    svc = Recorder(name='late', log=[])
    with pytest.raises(mutil.OSError) as info:
        with quiet(svc, post_start=lambda ep: threading.Thread(target=svc.fail,
                                                               args=('broke',)).start()) as ep:
            assert ep.wait(bound(10))
    assert 'broke' in str(info.value) and svc.log == ['start late', 'stop late']


def test_fail_from_another_thread_before_ready():
    class Late(mutil.Service):
        signals_ready = True

        def start(self):
            threading.Thread(target=self.fail, args=('port taken',)).start()
    with pytest.raises(mutil.OSError) as info:
        quiet(Late()).run()
    assert 'port taken' in str(info.value)


def test_ready_from_a_thread():
    class Threaded(mutil.Service):
        signals_ready = True

        def start(self):
            self.thread = threading.Thread(target=self.ready)
            self.thread.start()

        def stop(self, timeout):
            self.thread.join()
    with quiet(Threaded()):
        pass


def test_start_timeout():
    class Never(mutil.Service):
        signals_ready = True

        def start(self):
            pass
    with pytest.raises(mutil.TimeoutError) as info:
        quiet(Never(name='slow'), start_timeout=0.05).run()
    assert 'slow' in str(info.value)


def test_stop_timeout_and_stop_exception(capsys):
    release = threading.Event()

    class Hangs(mutil.Service):
        def start(self):
            pass

        def stop(self, timeout):
            release.wait(bound(30))

    class Raises(mutil.Service):
        def start(self):
            pass

        def stop(self, timeout):
            raise RuntimeError('stuck')
    ep = quiet(Raises(), Hangs(), shutdown_timeout=0.05, post_start=lambda e: e.stop())
    with pytest.raises(mutil.TimeoutError):
        ep.run()                       # first error: Hangs's timeout
    release.set()
    ep.close()                         # joins the late stop()
    assert ep.callback_errors == 1
    assert 'stuck' in capsys.readouterr().err


def test_stop_raising_timeout_error_is_a_stop_timeout():
    svc = mutil.Service(start=lambda s: None, stop=lambda s, t: (_ for _ in ()).throw(TimeoutError()))
    with pytest.raises(mutil.TimeoutError):
        with quiet(svc):
            pass


def test_hooks_run_in_order_and_errors_abort():
    log = []
    hooks = {name: (lambda n: lambda ep: log.append(n))(name)
             for name in ('pre_start', 'post_start', 'pre_stop', 'post_stop')}
    with quiet(Recorder(name='s', log=log), **hooks):
        pass
    assert log == ['pre_start', 'start s', 'post_start', 'pre_stop', 'stop s', 'post_stop']

    def bad(ep):
        raise PermissionError('nope')
    with pytest.raises(mutil.AuthError):
        quiet(Recorder(log=[]), pre_start=bad).run()
    with pytest.raises(TypeError):
        quiet(pre_stop=3)


def test_signal_stops_the_run_and_python_handlers_come_back():
    ep = quiet(Recorder(log=[]))
    with ep:
        os.kill(os.getpid(), signal.SIGTERM)
        assert ep.wait(bound(10))
    assert ep.signal == signal.SIGTERM
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    with pytest.raises(KeyboardInterrupt):
        os.kill(os.getpid(), signal.SIGINT)
        for _ in range(10 ** 7):       # the handler runs at the next bytecode
            pass


class Child(mutil.Service):
    """Starts a subprocess in start(), stops it with SIGTERM in stop()."""

    def start(self):
        self.proc = subprocess.Popen(['sleep', '60'])

    def stop(self, timeout):
        self.proc.terminate()
        try:
            self.rc = self.proc.wait(bound(10))
        except subprocess.TimeoutExpired:   # SIGTERM blocked in the child
            self.proc.kill()
            self.rc = self.proc.wait()


def test_subprocess_started_by_a_service_stops_on_sigterm():
    # start() runs on a thread libmutil made: a process started there
    # inherits that thread's signal mask, which must not block SIGTERM
    child = Child(name='child')
    with quiet(child):
        pass
    assert child.rc == -signal.SIGTERM


def test_ready_and_fail_outside_an_entrypoint_are_ignored():
    svc = Recorder(log=[])
    svc.ready()
    svc.fail('nothing')


def test_coroutine_start_needs_the_aio_entrypoint():
    async def start(svc):
        pass
    with pytest.raises(mutil.InvalidError) as info:
        quiet(mutil.Service(start=start)).run()
    assert isinstance(info.value.__cause__, TypeError)


# -- asyncio -----------------------------------------------------------

def aio(*services, **kw):
    kw.setdefault('log_level', 'quiet')
    return mutil.aio.Entrypoint(*services, **kw)


class Forever(mutil.Service):
    """Ready from inside a start coroutine that runs until cancelled."""

    async def start(self):
        self.cancelled = False
        self.ready()
        try:
            await asyncio.Future()
        except asyncio.CancelledError:
            self.cancelled = True
            raise


class Ordinary(mutil.Service):
    async def start(self):
        await asyncio.sleep(0)
        self.loop = asyncio.get_running_loop()

    async def stop(self, timeout):
        await asyncio.sleep(0)
        self.stopped = True


def test_async_with_runs_coroutine_services():
    async def main():
        forever, ordinary = Forever(), Ordinary()
        async with aio(forever, ordinary) as ep:
            assert ordinary.loop is asyncio.get_running_loop()
        assert forever.cancelled and ordinary.stopped
        assert ep.closed
    asyncio.run(main())


def test_async_run_and_stop():
    async def main():
        ep = aio(Ordinary(), post_start=lambda e: e.stop())
        await ep.run()
        assert await ep.wait(0)
    asyncio.run(main())


def test_async_start_failure_raises_at_enter():
    class Broken(mutil.Service):
        async def start(self):
            raise mutil.CorruptError(-1006, 'bad db')

    async def main():
        with pytest.raises(mutil.CorruptError) as info:
            async with aio(Forever(), Broken()):
                pass
        assert 'bad db' in str(info.value)
    asyncio.run(main())


def test_async_stop_timeout():
    class SlowStop(mutil.Service):
        async def start(self):
            pass

        async def stop(self, timeout):
            await asyncio.Future()

    async def main():
        with pytest.raises(mutil.TimeoutError):
            async with aio(SlowStop(), shutdown_timeout=0.05):
                pass
    asyncio.run(main())


def test_async_wait_timeout_and_sync_with_refused():
    async def main():
        async with aio(Forever()) as ep:
            assert await ep.wait(0.01) is False
    asyncio.run(main())
    with pytest.raises(TypeError):
        with aio(Forever()):
            pass


def test_aio_run_returns_main_result():
    async def main():
        return 42
    assert mutil.aio.run(main(), Forever(), log_level='quiet') == 42


def test_subclass_without_base_init_is_refused():
    class NoInit(mutil.Service):
        def __init__(self):
            pass

        def start(self):
            pass
    with pytest.raises(TypeError):
        quiet(NoInit())


def test_cancelled_async_enter_stops_the_started_services():
    stopped, started = [], threading.Event()

    class NeverReady(mutil.Service):
        signals_ready = True

        def start(self):
            started.set()

        def stop(self, timeout):
            stopped.append(self.service_name)

    async def enter():
        async with aio(NeverReady(name='late')):
            raise AssertionError('never ready')

    async def main():
        task = asyncio.ensure_future(enter())
        assert await asyncio.get_running_loop().run_in_executor(None, started.wait, bound(10))
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    asyncio.run(main())
    assert stopped == ['late']


def test_logging_settings_are_taken():
    with mutil.Entrypoint(Recorder(log=[]), log_ident='mutil-test', log_level='error'):
        pass
    with mutil.Entrypoint(Recorder(log=[]), log_level=0):
        pass
    with pytest.raises(TypeError):
        quiet(log_ident=5)
