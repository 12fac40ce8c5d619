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
pool.result()` (through the pool's fd) and `await pool.submit(...)`.
"""
import asyncio
from collections import namedtuple

from . import _aio
from ._callback import ErrorCounter
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
        self._errors = ErrorCounter()
        super().__init__(check_ptr(lib.mu_pool_new(size, queue_cap)))

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
        if not callable(fn):
            raise TypeError('submit() needs a callable')
        handle = ffi.new_handle(_Job(fn, args, self._errors))
        key = int(ffi.cast('uintptr_t', handle))
        self._jobs[key] = handle
        job_id = ffi.new('uint64_t *')
        try:
            check(lib.mu_pool_submit(self._p, _job_cb, handle, timeout_ms(timeout), job_id))
        except BaseException:
            del self._jobs[key]
            raise
        return job_id[0]

    def result(self, timeout=None):
        """Takes the oldest finished job, waiting up to timeout seconds
        (None: no limit). Returns a JobResult. Raises mutil.WouldBlock
        (none, timeout 0) or mutil.TimeoutError."""
        job_id = ffi.new('uint64_t *')
        value = ffi.new('void **')
        check(lib.mu_pool_result(self._p, job_id, value, timeout_ms(timeout)))
        handle = self._jobs.pop(int(ffi.cast('uintptr_t', value[0])))
        job = ffi.from_handle(handle)
        return JobResult(job_id[0], job.value, job.exception)

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
    """mutil.aio.Pool: result() and submit() are coroutines."""

    async def result(self, timeout=None):
        """Like Pool.result, awaited through the pool's fd."""
        return await _aio.retry(lambda: Pool.result(self, 0), self.fd, timeout)

    async def submit(self, fn, *args, timeout=None):
        """Like Pool.submit; when the queue is full, waits for room on an
        executor thread so the loop goes on."""
        try:
            return Pool.submit(self, fn, *args, timeout=0)
        except BlockingIOError:
            if timeout == 0:
                raise
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(
            None, lambda: Pool.submit(self, fn, *args, timeout=timeout))

    def map(self, fn, iterable, timeout=None):
        raise TypeError('map() blocks: use mutil.Pool, or submit and await result()')

    async def __aenter__(self):
        self._p  # noqa: B018 - raises when closed
        return self

    async def __aexit__(self, *exc):
        self.close()
