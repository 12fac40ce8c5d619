# SPDX-License-Identifier: MPL-2.0
# Copyright (c) 2026 the mutil authors
"""mutil.Pool: a C thread pool with a bounded job queue and pollable
results (mu_pool.h).

    with mutil.Pool(4) as pool:
        job = pool.submit(hashlib.sha256, data)
        result = pool.result()        # JobResult(id, value, exception)

Jobs are Python callables run on the pool's C threads (each holds the GIL
while it runs Python code, so CPU-bound Python work does not run in
parallel; calls into C that release the GIL do). submit() waits for room
when the queue is full (back-pressure). Results are taken oldest finished
first, each with its job id. A job that raises does not stop the pool: the
exception is counted (callback_errors) and handed back in its JobResult
(C sees the job finish as any other). mutil.aio.Pool has `await
pool.run(fn, *args)` (the job's value, or its exception raised: aiomisc's
@threaded), `await pool.result()` (through the pool's fd) and `await
pool.submit(...)`.
"""
import asyncio
import collections
from collections import namedtuple

from . import errors
from ._callback import CallbackErrors, close_at_exit
from ._handle import Handle
from ._lib import check, check_ptr, ffi, lib, timeout_ms

JobResult = namedtuple('JobResult', 'id value exception')
JobResult.__doc__ = ('A finished job: id (from submit), value (what it returned, None when it '
                     'raised), exception (what it raised, or None).')


class _Job:
    """One submitted call and, once run, its outcome."""

    def __init__(self, fn, args, counter):
        self.fn, self.args, self.counter = fn, args, counter
        self.value = self.exception = None
        self.waiter = None  # AsyncPool.run: the future of its caller

    def result(self, job_id):
        return JobResult(job_id, self.value, self.exception)

    def run(self):
        try:
            self.value = self.fn(*self.args)
        except BaseException as exc:  # noqa: B902 - nothing may escape into C
            self.exception = exc
            self.counter.add(exc)


def _on_job(arg):
    ffi.from_handle(arg).run()
    return arg  # the result names the job


_job_cb = ffi.callback('mu_job_fn', _on_job)


def default_size():
    """The pool size used for size=0: min(max(CPUs, 4), 32)."""
    return lib.mu_pool_default_size()


class Pool(Handle):
    """Pool(size=0, queue_cap=0): size threads (0: default_size()), room for
    queue_cap waiting jobs (0: 4 x size). Raises ValueError for negative
    values, mutil.InvalidError for size above 1024."""

    _ctype = 'mu_pool_t'
    _destroy = lib.mu_pool_destroy

    def __init__(self, size=0, queue_cap=0):
        if size < 0 or queue_cap < 0:
            raise ValueError('size and queue_cap must be >= 0')
        self._jobs = {}  # job handle address -> handle, while C holds it
        self._errors = CallbackErrors()
        super().__init__(check_ptr(lib.mu_pool_new(size, queue_cap)))
        close_at_exit(self)

    @property
    def size(self):
        """The number of threads."""
        return lib.mu_pool_size(self._p)

    @property
    def fd(self):
        """An fd readable while results wait (do not read it)."""
        return lib.mu_pool_fd(self._p)

    @property
    def callback_errors(self):
        """How many jobs raised."""
        return self._errors.count

    def submit(self, fn, *args, timeout=None):
        """Queues fn(*args), waiting up to timeout seconds for room (None:
        no limit). Returns the job id (1, 2, ... in submission order).
        Raises TypeError when fn is not callable, mutil.WouldBlock (full,
        timeout 0), mutil.TimeoutError, MemoryError-like mutil.Error."""
        return self._submit_job(self._job(fn, args), timeout)

    def _job(self, fn, args):
        if not callable(fn):
            raise TypeError('submit() needs a callable')
        return _Job(fn, args, self._errors)

    def _submit_job(self, job, timeout):
        handle = ffi.new_handle(job)
        key = int(ffi.cast('uintptr_t', handle))
        self._jobs[key] = handle
        job_id = ffi.new('uint64_t *')
        try:
            check(lib.mu_pool_submit(self._p, _job_cb, handle, timeout_ms(timeout), job_id))
        except BaseException:
            del self._jobs[key]
            raise
        return job_id[0]

    def _take(self, timeout):
        """(job id, _Job) of the oldest finished job."""
        job_id = ffi.new('uint64_t *')
        value = ffi.new('void **')
        check(lib.mu_pool_result(self._p, job_id, value, timeout_ms(timeout)))
        handle = self._jobs.pop(int(ffi.cast('uintptr_t', value[0])))
        return job_id[0], ffi.from_handle(handle)

    def result(self, timeout=None):
        """Takes the oldest finished job, waiting up to timeout seconds
        (None: no limit). Returns a JobResult. Raises mutil.WouldBlock
        (none, timeout 0) or mutil.TimeoutError."""
        job_id, job = self._take(timeout)
        return job.result(job_id)

    def map(self, fn, iterable, timeout=None):
        """Runs fn(item) for every item on the pool and returns the values in
        the order of iterable; raises the first exception a job raised (the
        other jobs still ran). timeout bounds each wait, in seconds."""
        ids = [self.submit(fn, item, timeout=timeout) for item in iterable]
        done = {}
        while len(done) < len(ids):
            res = self.result(timeout)
            done[res.id] = res
        for job_id in ids:
            if done[job_id].exception is not None:
                raise done[job_id].exception
        return [done[job_id].value for job_id in ids]

    def close(self):
        """Discards jobs not started, waits for the running ones, frees the
        pool; results not taken are dropped."""
        super().close()
        self._jobs.clear()


class AsyncPool(Pool):
    """mutil.aio.Pool: submit(), result() and run() are coroutines.

    One reader on the pool's fd takes every finished job and hands it to
    its waiter: the run() call that submitted it, else the oldest waiting
    result() call (or keeps it for the next one). So any number of tasks
    may await run() and result() at once."""

    def __init__(self, size=0, queue_cap=0):
        super().__init__(size, queue_cap)
        self._finished = collections.deque()   # JobResults nobody waits for yet
        self._result_waiters = collections.deque()
        self._run_waiters = 0
        self._reader = None                    # the loop whose reader is on the fd

    async def submit(self, fn, *args, timeout=None):
        """Like Pool.submit; when the queue is full, waits for room on an
        executor thread so the loop goes on."""
        return await self._submit_async(self._job(fn, args), timeout)

    async def _submit_async(self, job, timeout):
        try:
            return self._submit_job(job, 0)
        except BlockingIOError:
            if timeout == 0:
                raise
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(None, self._submit_job, job, timeout)

    async def run(self, fn, *args):
        """Runs fn(*args) on a pool thread and returns what it returned, or
        raises what it raised (like aiomisc's @threaded or
        loop.run_in_executor). Its result is not given to result()."""
        job = self._job(fn, args)
        job.waiter = asyncio.get_running_loop().create_future()
        self._run_waiters += 1
        try:
            await self._submit_async(job, None)
            self._drain()
            self._arm()
            await job.waiter
        finally:
            self._run_waiters -= 1
            self._disarm_when_idle()
        if job.exception is not None:
            raise job.exception
        return job.value

    async def result(self, timeout=None):
        """Like Pool.result, awaited: the oldest finished job not started by
        run(). Raises mutil.WouldBlock (none, timeout 0), TimeoutError."""
        self._drain()
        if self._finished:
            return self._finished.popleft()
        if timeout == 0:
            raise errors.from_code(lib.MU_EAGAIN, 'no finished job')
        waiter = asyncio.get_running_loop().create_future()
        self._result_waiters.append(waiter)
        self._arm()
        try:
            await asyncio.wait_for(asyncio.shield(waiter), timeout)
        except BaseException as exc:
            self._give_back(waiter)
            self._disarm_when_idle()
            if isinstance(exc, asyncio.TimeoutError):
                raise errors.from_code(lib.MU_ETIMEDOUT,
                                       'no finished job within %gs' % timeout) from None
            raise
        self._disarm_when_idle()
        return waiter.result()

    def _give_back(self, waiter):
        """Withdraws a result() waiter that gives up; a result it was handed
        meanwhile goes back to the front for the next caller."""
        if waiter in self._result_waiters:
            self._result_waiters.remove(waiter)
            waiter.cancel()
        elif waiter.done() and not waiter.cancelled() and waiter.exception() is None:
            self._finished.appendleft(waiter.result())

    def _deliver(self, job_id, job):
        if job.waiter is not None:
            if not job.waiter.done():
                job.waiter.set_result(job_id)  # the value is on the job
            return
        res = job.result(job_id)
        while self._result_waiters:
            waiter = self._result_waiters.popleft()
            if not waiter.done():
                waiter.set_result(res)
                return
        self._finished.append(res)

    def _drain(self):
        """Takes every finished job now (never waits) and delivers it."""
        while self._ptr is not None:
            try:
                job_id, job = self._take(0)
            except BlockingIOError:
                return
            self._deliver(job_id, job)

    def _arm(self):
        if self._reader is None:
            self._reader = asyncio.get_running_loop()
            self._reader.add_reader(self.fd, self._drain)

    def _disarm_when_idle(self):
        if self._reader is not None and not self._run_waiters and not self._result_waiters:
            if self._ptr is not None:
                self._reader.remove_reader(self.fd)
            self._reader = None

    def map(self, fn, iterable, timeout=None):
        """Not on the asyncio pool (it blocks): raises TypeError."""
        raise TypeError('map() blocks: use mutil.Pool, or gather run() calls')

    def close(self):
        """Like Pool.close; also stops watching the fd, and the run() and
        result() calls still waiting raise mutil.ClosedError."""
        if self._ptr is None:
            return
        if self._reader is not None:
            self._reader.remove_reader(self.fd)
            self._reader = None
        jobs = [ffi.from_handle(handle) for handle in self._jobs.values()]
        super().close()
        waiters = [job.waiter for job in jobs] + list(self._result_waiters)
        for waiter in waiters:
            if waiter is not None and not waiter.done():
                waiter.set_exception(errors.from_code(lib.MU_ECLOSED, 'the pool was closed'))

    async def __aenter__(self):
        self._p  # noqa: B018 - raises when closed
        return self

    async def __aexit__(self, *exc):
        self.close()
