# SPDX-License-Identifier: MPL-2.0
# Copyright (c) 2026 the mutil authors
"""mutil.LRU: in memory and persistent, dict-like reading, errors; and the
seed's s4lru example (mutil-readme.txt) in this API."""
import sqlite3

import pytest

import mutil


def test_increment_hit_and_miss_and_reading():
    lru = mutil.LRU(300)
    assert lru.increment('key1', 5) is False          # new
    assert lru.increment(b'key1', 7) is True          # hit, new size
    assert lru['key1'] == 7 and lru.get('key1') == 7
    assert lru.peek('key1') == (7, 1)                 # promoted to level 1
    assert 'key1' in lru and b'key1' in lru and 'nope' not in lru and 3 not in lru
    assert lru.get('nope') is None and lru.get('nope', 0) == 0
    with pytest.raises(KeyError):
        lru['nope']
    assert len(lru) == 1 and list(lru) == [b'key1']
    st = lru.stats()
    assert (st['count'], st['total'], st['hits'], st['misses'], st['levels']) == (1, 7, 1, 1, 4)
    assert st['level_count'] == [0, 1, 0, 0] and sum(st['level_capacity']) == 300
    assert lru.capacity == 300 and lru.levels == 4 and lru.over == 0
    lru.close()


def test_key_types_and_lengths():
    lru = mutil.LRU(10)
    lru.increment(bytearray(b'a'), 1)
    lru.increment(memoryview(b'b'), 1)
    lru.increment('', 1)                             # the empty key is a key
    assert set(lru) == {b'a', b'b', b''}
    with pytest.raises(TypeError):
        lru.increment(1, 1)
    with pytest.raises(mutil.InvalidError):
        lru.increment(b'x' * (mutil._binding.lib.MU_LRU_MAX_KEY + 1), 1)
    with pytest.raises(ValueError):
        lru.increment('a', -1)
    with pytest.raises(TypeError):
        lru.increment('a', 1.5)


def test_evict_from_level0_tail_and_dry_run():
    lru = mutil.LRU(10, levels=2)
    for key in 'abcd':
        lru.increment(key, 4)                         # 16 > 10
    assert lru.over == 6
    assert lru.evict(dry_run=True) == [(b'a', 4), (b'b', 4)]
    assert len(lru) == 4
    assert lru.evict() == [(b'a', 4), (b'b', 4)]
    assert list(lru) == [b'd', b'c'] and lru.over == 0
    assert lru.stats()['evictions'] == 2
    assert lru.evict() == []


def test_items_order_delete_resize_boost_many():
    lru = mutil.LRU(100, levels=2)
    assert lru.increment_many([('a', 1), ('b', 2), ('a', 3)]) == 1
    assert lru.items() == [(b'a', 3, 1), (b'b', 2, 0)]
    del lru['b']
    with pytest.raises(mutil.NotFoundError):
        lru.delete('b')
    lru.resize(2)
    assert lru.over == 1
    with pytest.raises(mutil.InvalidError):
        lru.resize(0)
    lru.set_boost(10, 5)                               # clamped to the top
    lru.increment('small', 1)
    assert lru.peek('small')[1] == 1
    with pytest.raises(mutil.InvalidError):
        lru.set_boost(10, -1)


def test_increment_many_reports_failure_after_the_rest():
    lru = mutil.LRU(100)
    too_long = b'x' * (mutil._binding.lib.MU_LRU_MAX_KEY + 1)
    with pytest.raises(mutil.InvalidError):
        lru.increment_many([('a', 1), (too_long, 1), ('b', 1)])
    assert set(lru) == {b'a', b'b'}


def test_bad_construction_and_closed():
    with pytest.raises(mutil.InvalidError):
        mutil.LRU(0)
    with pytest.raises(mutil.InvalidError):
        mutil.LRU(10, levels=65)
    with pytest.raises(TypeError):
        mutil.LRU('10')
    lru = mutil.LRU(10)
    lru.close()
    with pytest.raises(mutil.InvalidError):
        lru.increment('a', 1)
    with pytest.raises(mutil.InvalidError):
        len(lru)


def test_persistent_reopen_keeps_keys_levels_and_counters(tmp_path):
    with mutil.LRU.open(tmp_path, 'files', 300, create=True) as lru:
        lru.increment('a', 5)
        lru.increment('a', 5)
        lru.increment('b', 9)
    with mutil.LRU.open(tmp_path, 'files') as lru:
        assert lru.items() == [(b'a', 5, 1), (b'b', 9, 0)]
        st = lru.stats()
        assert (st['capacity'], st['hits'], st['misses']) == (300, 1, 2)
    assert (tmp_path / 'files.lru').exists()


def test_durability_policies_and_flush(tmp_path):
    with mutil.LRU.open(tmp_path, 'd', 10, create=True, sync_full=True) as lru:
        lru.set_durability('group', interval=0.05)
        lru.increment('g', 1)
        lru.set_durability('at_flush')
        lru.increment('f', 1)
        lru.flush()
        with pytest.raises(ValueError):
            lru.set_durability('sometimes')
        with pytest.raises(ValueError):
            lru.set_durability('group', interval=0)
        with pytest.raises(mutil.InvalidError):
            lru.set_durability('group', interval=61)
    with mutil.LRU.open(tmp_path, 'd') as lru:
        assert set(lru) == {b'g', b'f'}
    with pytest.raises(mutil.Error) as info:
        mutil.LRU(5).set_durability('group')
    assert info.value.name == 'MU_ENOTSUP'


def test_open_errors(tmp_path):
    with pytest.raises(mutil.NotFoundError):
        mutil.LRU.open(tmp_path, 'missing')
    with pytest.raises(mutil.InvalidError):
        mutil.LRU.open(tmp_path, '.hidden', 10, create=True)
    with pytest.raises(mutil.InvalidError):
        mutil.LRU.open(tmp_path, 'zero', 0, create=True)
    with mutil.LRU.open(tmp_path, 'held', 10, levels=2, create=True):
        with pytest.raises(mutil.WouldBlock):
            mutil.LRU.open(tmp_path, 'held')          # the writer's lock
    with pytest.raises(mutil.ExistsError):
        mutil.LRU.open(tmp_path, 'held', 11)
    with pytest.raises(mutil.ExistsError):
        mutil.LRU.open(tmp_path, 'held', levels=3)


def test_read_only_refuses_changes(tmp_path):
    with mutil.LRU.open(tmp_path, 'ro', 10, create=True) as lru:
        lru.increment('a', 20)
        with mutil.LRU.open(tmp_path, 'ro', readonly=True) as ro:
            assert 'a' in ro and ro.evict(dry_run=True) == [(b'a', 20)]
            for change in (lambda: ro.increment('b', 1), lambda: ro.delete('a'),
                           lambda: ro.evict(), lambda: ro.resize(5)):
                with pytest.raises(mutil.AuthError):
                    change()
            ro.flush()                                 # a no-op


def test_corrupt_files_are_corrupt_errors(tmp_path):
    (tmp_path / 'junk.lru').write_bytes(b'not sqlite at all' * 100)
    with pytest.raises(mutil.CorruptError):
        mutil.LRU.open(tmp_path, 'junk')
    db = sqlite3.connect(str(tmp_path / 'other.lru'))
    db.execute('CREATE TABLE unrelated(x)')
    db.commit()
    db.close()
    with pytest.raises(mutil.CorruptError):
        mutil.LRU.open(tmp_path, 'other')


def test_seed_s4lru_example(tmp_path):
    """mutil-readme.txt's S4LRU example: track sizes, flush, evict."""
    s = mutil.LRU.open(tmp_path, 'TestingLRU', 300, create=True)
    s.increment('key1', 5)
    s.increment('key2', 63)
    s.increment('key3', 100)
    s.flush()
    s.increment('key4', 200)                          # 368 > 300
    evicted = []
    while s.over:
        evicted += s.evict()
    assert evicted == [(b'key1', 5), (b'key2', 63)]
    assert s.stats()['total'] == 300
    s.close()
