# SPDX-License-Identifier: MPL-2.0
# Copyright (c) 2026 the mutil authors
"""File get/put between mutil.Server(root=...) and mutil.Client with a
Python progress callback: whole files, overwrite, refused paths, a
progress callback that cancels or raises."""
import os

import pytest

import mutil
from mutil._lib import lib
from test_conn import serving
from conftest import bound

SIZE = 3 * 256 * 1024 + 17


@pytest.fixture
def root(tmp_path):
    top = tmp_path / 'root'
    (top / 'sub').mkdir(parents=True)
    (top / 'sub' / 'blob.bin').write_bytes(os.urandom(SIZE))
    (top / 'empty').write_bytes(b'')
    return top


@pytest.fixture
def conn(root):
    with serving(insecure=True, root=root) as server, \
            mutil.Client(server.endpoint, insecure=True, timeout=bound(20)) as c:
        yield server, c


def test_get_with_progress(conn, root, tmp_path):
    _, c = conn
    calls = []
    local = tmp_path / 'blob.bin'
    c.get('sub/blob.bin', local, progress=lambda done, total: calls.append((done, total)),
          chunk_size=64 * 1024, window=4)
    assert local.read_bytes() == (root / 'sub' / 'blob.bin').read_bytes()
    assert calls and calls[-1] == (SIZE, SIZE)
    assert all(a[0] <= b[0] for a, b in zip(calls, calls[1:]))
    c.get('empty', tmp_path / 'empty')
    assert (tmp_path / 'empty').read_bytes() == b''


def test_put_and_overwrite(conn, root, tmp_path):
    _, c = conn
    local = tmp_path / 'up.bin'
    local.write_bytes(os.urandom(100000))
    done = []
    c.put(local, 'new/dir/up.bin', progress=lambda d, t: done.append(d))
    assert (root / 'new' / 'dir' / 'up.bin').read_bytes() == local.read_bytes()
    assert done[-1] == 100000
    with pytest.raises(mutil.ExistsError):
        c.put(local, 'new/dir/up.bin')
    local.write_bytes(b'replaced')
    c.put(str(local), 'new/dir/up.bin', overwrite=True)
    assert (root / 'new' / 'dir' / 'up.bin').read_bytes() == b'replaced'
    target = tmp_path / 'exists'
    target.write_bytes(b'old')
    with pytest.raises(mutil.ExistsError):
        c.get('empty', target)
    c.get('sub/blob.bin', target, overwrite=True)
    assert target.stat().st_size == SIZE


def test_refused_and_missing_paths(conn, tmp_path):
    _, c = conn
    with pytest.raises(mutil.NotFoundError):
        c.get('nothing-here', tmp_path / 'x')
    for bad in ('../outside', '/etc/passwd'):
        with pytest.raises((mutil.AuthError, mutil.InvalidError)):
            c.get(bad, tmp_path / 'x')
    assert not (tmp_path / 'x').exists()
    with pytest.raises(mutil.Error):
        c.put(tmp_path / 'no-such-local-file', 'x')
    c.get('empty', tmp_path / 'still-works')  # the client goes on


def test_progress_returning_false_cancels(conn, tmp_path):
    _, c = conn
    with pytest.raises(mutil.Error) as info:
        c.get('sub/blob.bin', tmp_path / 'cancelled', progress=lambda d, t: False,
              chunk_size=64 * 1024)
    assert info.value.code == lib.MU_EINTR
    assert not (tmp_path / 'cancelled').exists()


def test_progress_that_raises_cancels_and_is_raised_here(conn, tmp_path):
    _, c = conn

    def progress(done, total):
        raise RuntimeError('progress broke at %d' % done)
    with pytest.raises(RuntimeError, match='progress broke'):
        c.get('sub/blob.bin', tmp_path / 'broken', progress=progress, chunk_size=64 * 1024)
    assert c.callback_errors.count == 1 and isinstance(c.callback_errors.last, RuntimeError)
    assert not (tmp_path / 'broken').exists()
    c.get('sub/blob.bin', tmp_path / 'after')  # the client goes on
    assert (tmp_path / 'after').stat().st_size == SIZE


def test_bad_arguments(conn, tmp_path):
    _, c = conn
    with pytest.raises(TypeError):
        c.get('empty', tmp_path / 'x', progress='not callable')
    with pytest.raises(mutil.InvalidError):
        c.get('empty', tmp_path / 'x', chunk_size=64 * 1024 * 1024)
    with pytest.raises(TypeError):
        c.get(None, tmp_path / 'x')
