# SPDX-License-Identifier: MPL-2.0
# Copyright (c) 2026 the mutil authors
"""mutil.Shard and mutil.Batch, and the seed's sqlshard example
(mutil-readme.txt) in this API."""
import sqlite3
import threading

import pytest

import mutil


@pytest.fixture
def store(tmp_path):
    s = mutil.Shard(tmp_path / 'store', types=(str, int, int), shards=4, create=True)
    yield s
    s.close()


VALUES = [None, True, -5, 2 ** 64 - 1, 1.5, 'text', b'\x00bytes', [1, [2]], {'a': {'b': None}},
          mutil.Ext(5, b'ext'), 'x' * 5000]


def test_values_round_trip(store):
    for i, value in enumerate(VALUES):
        store['k', i, 0] = value
    for i, value in enumerate(VALUES):
        assert store['k', i, 0] == value
    store['t', 0, 0] = (1, 2)
    assert store['t', 0, 0] == [1, 2]                # tuples come back as lists
    assert len(store) == len(VALUES) + 1


def test_get_contains_delete(store):
    key = ('AAPL', 1700000000, 1)
    assert key not in store and store.get(key) is None and store.get(key, 7) == 7
    with pytest.raises(KeyError):
        store[key]
    with pytest.raises(mutil.NotFoundError):
        store.delete(key)
    store.set(key, 'v')
    assert key in store and store.get(key) == 'v'
    del store[key]
    assert key not in store
    assert ('a', 'b', 1) not in store and 'short' not in store


def test_key_type_errors(store):
    with pytest.raises(TypeError):
        store['a', 'b', 1] = 1                          # element 1 is int
    with pytest.raises(TypeError):
        store['a', True, 1] = 1
    with pytest.raises(ValueError):
        store['a', 1] = 1                               # arity
    with pytest.raises(TypeError):
        store['a'] = 1                                  # not a tuple, k = 3
    with pytest.raises(OverflowError):
        store['a', 2 ** 63, 1] = 1
    with pytest.raises(TypeError):
        store['a', 1, 1] = object()                     # value not packable
    with pytest.raises(mutil.InvalidError):
        store.set_packed(('a', 1, 1), b'\x91')          # not one whole value


def test_single_element_keys_and_bytes(tmp_path):
    with mutil.Shard(tmp_path, types=[bytes], shards=2, create=True) as s:
        s[b'\x00\xff'] = 1
        s[bytearray(b'b')] = 2
        assert s[b'\x00\xff'] == 1 and sorted(s) == [b'\x00\xff', b'b']
        with pytest.raises(TypeError):
            s['str'] = 3


def test_iteration_and_queries(store):
    for t in range(10):
        store['sym%d' % (t % 3), t, 0] = t * 10
    assert sorted(store.values()) == [t * 10 for t in range(10)]
    assert sorted(k[1] for k in store.keys()) == list(range(10))
    assert sorted(v for _, v in store.items()) == sorted(store.values())
    got = list(store.range(1, lo=3, hi=5))
    assert sorted(v for _, v in got) == [30, 40, 50]
    assert all(isinstance(k, tuple) and len(k) == 3 for k, _ in got)
    assert store.count_range(1, lo=3, hi=5) == 3
    assert store.count_range(1, hi=2) == 3 and store.count_range(0, 'sym1', 'sym1') == 3
    assert store.prune(1, lo=8) == 2 and len(store) == 8
    assert sum(store.len_each()) == 8 and len(store.len_each()) == 4
    with pytest.raises(ValueError):
        store.count_range(3)
    with pytest.raises(TypeError):
        list(store.range(1, lo='3'))
    store.check()
    store.clear()
    assert len(store) == 0 and list(store.items()) == []


def test_batch_commits_at_end_of_with(store):
    store['gone', 0, 0] = 1
    with store.batch() as b:
        for i in range(20):
            b['b', i, 0] = i
        del b['gone', 0, 0]
        del b['never', 0, 0]                           # no error at commit
        assert len(b) == 22
        assert ('b', 0, 0) not in store                # not yet
    assert b.closed and len(store) == 20 and ('gone', 0, 0) not in store


def test_batch_dropped_when_the_block_raises(store):
    with pytest.raises(RuntimeError):
        with store.batch() as b:
            b['x', 1, 1] = 1
            raise RuntimeError
    assert len(store) == 0
    b = store.batch()
    b.set(('y', 1, 1), 2)
    b.commit()
    assert len(b) == 0 and store['y', 1, 1] == 2
    with pytest.raises(TypeError):
        b['y', 'z', 1] = 1
    store.close()
    assert b.closed                                     # closed with its store
    with pytest.raises(mutil.InvalidError):
        b.commit()


def test_info_hash_shard_of_and_format(tmp_path):
    with mutil.Shard(tmp_path, types=('int', 'str'), shards=8, shardidx=1, index=[1],
                     create=True, codec='zlib', threads=1) as s:
        info = s.info
        assert (info['k'], info['shards'], info['shardidx'], info['types']) == (2, 8, 1, ('int', 'str'))
        assert info['codec'] == 'zlib' and info['threads'] == 1
        assert s.shard_of((1, 'a')) == s.shard_of((2, 'a')) == mutil.Shard.hash('a') % 8
        assert s.key_format((12, 'a"b')) == '(12, "a\\"b")'
    assert mutil.Shard.hash(1) != mutil.Shard.hash('1') != mutil.Shard.hash(b'1')
    with pytest.raises(TypeError):
        mutil.Shard.hash(1.5)


def test_reopen_with_own_parameters_and_mismatch(tmp_path):
    with mutil.Shard(tmp_path, types=(str,), shards=3, create=True) as s:
        s['kept'] = [1, 2]
    with mutil.Shard(tmp_path) as s:
        assert s.k == 1 and s['kept'] == [1, 2] and s.info['shards'] == 3
    with pytest.raises(mutil.InvalidError):
        mutil.Shard(tmp_path, types=(str,), shards=4)
    with pytest.raises(mutil.InvalidError):
        mutil.Shard(tmp_path, types=(int,), shards=3)


def test_open_errors(tmp_path):
    with pytest.raises(mutil.NotFoundError):
        mutil.Shard(tmp_path / 'none')
    with pytest.raises(ValueError):
        mutil.Shard(tmp_path, types=(str,), create=True)           # shards missing
    with pytest.raises(TypeError):
        mutil.Shard(tmp_path, types=(float,), shards=1, create=True)
    with pytest.raises(ValueError):
        mutil.Shard(tmp_path, types=(str,), shards=1, codec='lz4', create=True)
    with pytest.raises(mutil.InvalidError):
        mutil.Shard(tmp_path, types=(str,), shards=0, create=True)
    with pytest.raises(mutil.InvalidError):
        mutil.Shard(tmp_path, types=(str,), shards=1, shardidx=1, create=True)


def test_corrupt_value_and_file(tmp_path):
    s = mutil.Shard(tmp_path, types=(str,), shards=2, create=True)
    s['bad'] = {'fine': 1}
    s['good'] = 2
    shard = s.shard_of('bad')
    db = sqlite3.connect(str(tmp_path / ('shard-%04d.db' % shard)))
    db.execute("UPDATE entries SET codec = 1, vlen = 1, value = x'c1' WHERE k0 = 'bad'")
    db.commit()
    db.close()
    with pytest.raises(mutil.CorruptError) as info:
        s['bad']
    assert 'bad' in str(info.value)
    with pytest.raises(mutil.CorruptError):
        list(s.items())
    assert s['good'] == 2
    s.close()
    (tmp_path / ('shard-%04d.db' % (1 - shard))).write_bytes(b'junk' * 2000)
    with pytest.raises(mutil.CorruptError):
        mutil.Shard(tmp_path)


def test_threads_share_a_handle(store):
    def writer(n):
        for i in range(50):
            store['t%d' % n, i, 0] = i
    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(store) == 200


def test_closed_store(tmp_path):
    s = mutil.Shard(tmp_path, types=(int,), shards=1, create=True)
    s.close()
    for use in (lambda: s[1], lambda: len(s), lambda: s.info, lambda: s.batch()):
        with pytest.raises(mutil.InvalidError):
            use()


def test_seed_sqlshard_example(tmp_path):
    """mutil-readme.txt: 8 SQLite shards keyed by 3-tuples sharded on element 0."""
    s = mutil.Shard(tmp_path / 'bighash', types=(int, int, int), shards=8, shardidx=0,
                    create=True)
    s[(1, 2, 3)] = dict(can='have', complex=('structures', 2, 3, ['and', 'more']))
    assert s[(1, 2, 3)] == {'can': 'have', 'complex': ['structures', 2, 3, ['and', 'more']]}
    s[(1, 5, 0)] = 'later'
    assert s.prune(1, hi=4) == 1                      # prune by timestamp
    assert list(s) == [(1, 5, 0)]
    s.close()
