# SPDX-License-Identifier: MPL-2.0
# Copyright (c) 2026 the mutil authors
"""mutil.Producer: a blocking iterable run on a C thread of its own and
consumed through a bounded queue (mu_producer.h), like aiomisc's
threaded_iterable.

    with mutil.Producer(read_lines(path), capacity=64) as p:
        for line in p:
            ...

The source (any iterable; a generator's body runs on the producer's
thread) is iterated on that thread; each item waits in the queue, the
source blocking while it is full (back-pressure). The consumer takes items
with get(timeout) or by iteration; the fd is readable while an item or the
end waits, so mutil.aio.Producer gives `await p.get()` and `async for`.

An exception raised by the source ends the stream: it is counted
(callback_errors), C gets its code, and the consumer's next get() raises a
mutil.Error with that code and the exception as __cause__ (iteration
raises it too, once); then the stream is closed. close() (or the end of
`with`) stops the source at its next item, waiting for it: a source blocked
on something else delays close() until it yields.
"""
import itertools

from . import _aio, errors
from ._callback import CallbackErrors, close_at_exit, code_of
from ._handle import Handle
from ._lib import check, check_ptr, ffi, lib, timeout_ms


class _Source:
    """What the C generator thread works on: the iterable and the items in
    flight (token -> object; C queues the token)."""

    def __init__(self, iterable):
        self.iterable = iterable
        self.items = {}
        self.tokens = itertools.count(1)
        self.errors = CallbackErrors()

    def keep(self, item):
        token = next(self.tokens)
        self.items[token] = item
        return token

    def generate(self, producer_p):
        iterator = iter(self.iterable)
        try:
            while not lib.mu_producer_stopping(producer_p):
                try:
                    item = next(iterator)
                except StopIteration:
                    return 0
                token = self.keep(item)
                if lib.mu_producer_put(producer_p, ffi.cast('void *', token)) < 0:
                    del self.items[token]        # destroy began: the item is ours
                    return 0
            return 0
        finally:
            close = getattr(iterator, 'close', None)
            if close is not None:
                close()


def _on_generate(arg, producer_p):
    source = ffi.from_handle(arg)
    try:
        return source.generate(producer_p)
    except BaseException as exc:  # noqa: B902 - nothing may escape into C
        source.errors.add(exc)
        return code_of(exc)


_generate_cb = ffi.callback('mu_generator_fn', _on_generate, error=lib.MU_EIO)


class Producer(Handle):
    """Runs iterable on a C thread; capacity (>= 1) items may wait. Raises
    ValueError for capacity < 1, TypeError when iterable is not iterable."""

    _ctype = 'mu_producer_t'
    _destroy = lib.mu_producer_destroy

    def __init__(self, iterable, capacity=64):
        if not hasattr(iterable, '__iter__'):
            raise TypeError('Producer needs an iterable, not %s' % type(iterable).__name__)
        if not isinstance(capacity, int) or capacity < 1:
            raise ValueError('capacity must be an int >= 1')
        self._source = _Source(iterable)
        self._handle = ffi.new_handle(self._source)
        super().__init__(check_ptr(lib.mu_producer_new(_generate_cb, self._handle, capacity,
                                                       ffi.NULL)))
        close_at_exit(self)

    @property
    def fd(self):
        """An fd readable while an item or the end waits (do not read it)."""
        return lib.mu_producer_fd(self._p)

    @property
    def callback_errors(self):
        """How many exceptions the source raised (0 or 1)."""
        return self._source.errors.count

    def get(self, timeout=None):
        """The next item, waiting up to timeout seconds (None: no limit).
        Raises mutil.WouldBlock (timeout 0, none yet), mutil.TimeoutError,
        the source's error once (mutil.Error, the exception as __cause__),
        then mutil.ClosedError (EOFError) at the end of the stream."""
        item = ffi.new('void **')
        try:
            check(lib.mu_producer_next(self._p, item, timeout_ms(timeout)))
        except errors.Error as exc:
            first = self._source.errors.first
            if first is not None and exc.code == code_of(first):
                exc.__cause__ = first
            raise
        return self._source.items.pop(int(ffi.cast('uintptr_t', item[0])))

    def __iter__(self):
        return self

    def __next__(self):
        """The next item (blocking); StopIteration at the end of the stream."""
        try:
            return self.get()
        except errors.ClosedError:
            raise StopIteration from None

    def close(self):
        """Stops the source and frees the producer (items not taken are
        dropped). Waits for the source to reach its next item."""
        super().close()
        self._source.items.clear()


class AsyncProducer(Producer):
    """mutil.aio.Producer: get() is a coroutine driven by the loop through
    the fd; `async for item in producer`."""

    async def get(self, timeout=None):
        """Like Producer.get, awaited."""
        return await _aio.retry(lambda: Producer.get(self, 0), self.fd, timeout)

    def __iter__(self):
        raise TypeError('use "async for" with mutil.aio.Producer')

    def __aiter__(self):
        return self

    async def __anext__(self):
        """The next item, awaited; StopAsyncIteration at the end."""
        try:
            return await self.get()
        except errors.ClosedError:
            raise StopAsyncIteration from None

    async def __aenter__(self):
        self._p  # noqa: B018 - raises when closed
        return self

    async def __aexit__(self, *exc):
        self.close()
