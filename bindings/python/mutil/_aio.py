# SPDX-License-Identifier: MPL-2.0
# Copyright (c) 2026 the mutil authors
"""asyncio integration shared by every object with a pollable fd: wait for
the fd with loop.add_reader, then retry the call with timeout 0.

ZeroMQ fds (ZMQ_FD) are edge-triggered and also signal for control traffic,
so a wake-up is only a hint: the attempt decides, and an attempt that finds
nothing (mutil.WouldBlock) waits again. `tick` lets objects that have
periodic work (the smart socket's heartbeats) run it while they wait."""
import asyncio
import time

from . import errors
from ._lib import lib


async def wait_readable(fd, timeout=None, writable=False):
    """Waits until fd is readable (writable, with writable=True) or timeout
    seconds passed (None: no limit). Returns True when ready, False on
    timeout."""
    loop = asyncio.get_running_loop()
    ready = loop.create_future()
    add, remove = ((loop.add_writer, loop.remove_writer) if writable
                   else (loop.add_reader, loop.remove_reader))
    add(fd, lambda: ready.done() or ready.set_result(True))
    try:
        await asyncio.wait_for(ready, timeout)
        return True
    except asyncio.TimeoutError:
        return False
    finally:
        remove(fd)


async def retry(attempt, fd, timeout=None, tick=None, writable=False):
    """Calls attempt() (a non-blocking call) until it does not raise
    mutil.WouldBlock, waiting on fd in between (for writing, with
    writable=True: the level-triggered write end of an fd pipe). timeout in
    seconds (None: forever) ends with mutil.TimeoutError. tick(), when
    given, is called before each wait and returns the seconds until it must
    run again."""
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        try:
            return attempt()
        except errors.WouldBlock:
            pass
        wait = None if deadline is None else deadline - time.monotonic()
        if wait is not None and wait <= 0:
            raise errors.from_code(lib.MU_ETIMEDOUT, 'timed out after %gs' % timeout)
        if tick is not None:
            due = tick()
            wait = due if wait is None else min(wait, due)
        await wait_readable(fd, wait, writable)


class RecvIteration:
    """`async for msg in obj` over `await obj.recv()` until obj is closed,
    for the asyncio variant of a class whose plain `for` blocks (mix in
    first: it refuses the blocking iteration)."""

    def __aiter__(self):
        self._p  # noqa: B018 - raises when closed
        return self

    async def __anext__(self):
        if self._ptr is None:
            raise StopAsyncIteration
        return await self.recv()

    def __iter__(self):
        raise TypeError('use `async for` with mutil.aio.%s' % type(self).__name__)
