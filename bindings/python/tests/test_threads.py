# SPDX-License-Identifier: MPL-2.0
# Copyright (c) 2026 the mutil authors
"""Blocking calls release the GIL: while one thread waits inside libmutil,
the others run Python code and their own libmutil calls."""
import threading

import mutil
from conftest import bound


def test_python_runs_while_another_thread_blocks_in_c():
    reader, writer = mutil.Pipe.pair()
    got = []
    waiting = threading.Thread(target=lambda: got.append(reader.recv()))
    waiting.start()
    spins = 0
    while spins < 100000:          # pure Python work: needs the GIL meanwhile
        spins += 1
    assert waiting.is_alive() and not got
    writer.send(b'wake')
    waiting.join(bound(10))
    assert got == [b'wake']
    reader.close()
    writer.close()


def test_threads_each_with_their_own_objects():
    """Eight threads, each with its own pipe pair, all blocked in recv at once
    and each woken by the main thread."""
    pairs = [mutil.Pipe.pair() for _ in range(8)]
    results = [None] * len(pairs)
    barrier = threading.Barrier(len(pairs) + 1)

    def worker(i):
        barrier.wait()
        results[i] = pairs[i][0].recv(timeout=bound(30))

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(len(pairs))]
    for thread in threads:
        thread.start()
    barrier.wait()
    for i, (_, writer) in enumerate(pairs):
        writer.send(b'%d' % i)
    for thread in threads:
        thread.join(bound(30))
    assert results == [b'%d' % i for i in range(len(pairs))]
    for reader, writer in pairs:
        reader.close()
        writer.close()


def test_error_detail_is_per_thread():
    """The code and detail of a failure are read on the thread that failed,
    while another thread fails differently at the same time."""
    barrier = threading.Barrier(2)
    seen = {'proto': set(), 'limit': set()}

    def fail(name, data, **limits):
        barrier.wait()
        for _ in range(200):
            try:
                mutil.unpackb(data, **limits)
            except mutil.Error as exc:
                seen[name].add((exc.name, 'mu_unpack' in exc.message))

    threads = [threading.Thread(target=fail, args=('proto', b'\xc1')),
               threading.Thread(target=fail, args=('limit', mutil.packb([[[1]]])),
                                kwargs={'max_depth': 1})]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(bound(30))
    assert seen == {'proto': {('MU_EPROTO', True)}, 'limit': {('MU_ELIMIT', True)}}
