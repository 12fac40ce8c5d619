# SPDX-License-Identifier: MPL-2.0
# Copyright (c) 2026 the mutil authors
"""JSON <-> MessagePack through libmutil's mu_json: json_to_packb and
packb_to_json, checked against Python's json module and msgpack package."""
import json
import math

import pytest

import mutil

VALUES = [None, True, False, 0, -1, 2**63 - 1, -2**63, 1.5, -0.0, 1e300, 0.1, '', 'é😀\n"\\',
          [], {}, [1, [2, [3]]], {'b': 1, 'a': [None, {'c': 'd'}]}]


@pytest.mark.parametrize('value', VALUES, ids=repr)
def test_json_to_packb_agrees_with_packb(value):
    text = json.dumps(value)
    assert mutil.json_to_packb(text) == mutil.packb(value)
    assert mutil.json_to_packb(text.encode('utf-8')) == mutil.packb(value)


@pytest.mark.parametrize('value', VALUES, ids=repr)
def test_packb_to_json_reads_back_with_json_module(value):
    packed = mutil.packb(value)
    text = mutil.packb_to_json(packed)
    assert isinstance(text, str)
    back = json.loads(text)
    assert back == value
    if isinstance(value, float):
        assert math.copysign(1, back) == math.copysign(1, value)
    assert mutil.json_to_packb(text) == packed  # round trip to the same bytes


def test_compact_text_in_document_order():
    assert mutil.packb_to_json(mutil.packb({'z': [1, 2.0], 'a': None})) == '{"z":[1,2.0],"a":null}'
    assert mutil.packb_to_json(mutil.packb(2**64 - 1)) == '18446744073709551615'


def test_bin_and_ext():
    assert mutil.packb_to_json(mutil.packb(b'\x00\xff')) == '{"$bin":"AP8="}'
    assert mutil.json_to_packb('{"$bin": "AP8="}') == mutil.packb(b'\x00\xff')
    ext = mutil.Ext(5, b'\x01\x02')
    assert mutil.packb_to_json(mutil.packb(ext)) == '{"$ext":5,"data":"AQI="}'
    assert mutil.unpackb(mutil.json_to_packb('{"data": "AQI=", "$ext": 5}')) == ext


def test_interop_with_python_msgpack():
    msgpack = pytest.importorskip('msgpack')
    value = {'id': 7, 'tags': ['x', 'y'], 'blob': b'\x00\x01', 'ratio': 0.25}
    text = mutil.packb_to_json(msgpack.packb(value, use_bin_type=True))
    assert json.loads(text)['blob'] == {'$bin': 'AAE='}
    assert msgpack.unpackb(mutil.json_to_packb(text), raw=False) == value


def test_malformed_json_says_where():
    with pytest.raises(mutil.ProtocolError) as info:
        mutil.json_to_packb('{\n  "a": ,\n}')
    assert 'line 2, column 8' in str(info.value)
    for bad in ['', '[1,]', '{"a":1,"a":2}', 'NaN', '01', b'"\xff"', '"\\ud800"']:
        with pytest.raises(mutil.ProtocolError):
            mutil.json_to_packb(bad)


def test_numbers_beyond_64_bits_and_limits():
    with pytest.raises(mutil.ProtocolError, match='too big integer'):
        mutil.json_to_packb(str(2**63))
    with pytest.raises(mutil.ProtocolError, match='overflow'):
        mutil.json_to_packb('1e400')
    with pytest.raises(mutil.ProtocolError, match='max_depth'):
        mutil.json_to_packb('[[[1]]]', max_depth=2)
    with pytest.raises(mutil.ProtocolError, match='max_size'):
        mutil.json_to_packb('[1, 2]', max_size=3)
    with pytest.raises(mutil.ProtocolError):
        mutil.json_to_packb('[' * 100000 + ']' * 100000)
    with pytest.raises(mutil.ProtocolError):
        mutil.packb_to_json(b'\x91' * 100 + b'\xc0')  # deeper than 64
    assert mutil.packb_to_json(b'\x91' * 100 + b'\xc0', max_depth=200) == '[' * 100 + 'null' + ']' * 100


def test_values_without_a_json_form():
    with pytest.raises(mutil.InvalidError, match='not UTF-8'):
        mutil.packb_to_json(b'\xa2\xc3\x28')
    with pytest.raises(mutil.InvalidError, match='NaN'):
        mutil.packb_to_json(mutil.packb(float('nan')))
    with pytest.raises(mutil.InvalidError, match='not a str'):
        mutil.packb_to_json(mutil.packb({1: 'a'}))
    assert mutil.packb_to_json(mutil.packb({1: 'a'}), int_keys=True) == '{"1":"a"}'
    with pytest.raises(mutil.InvalidError, match='reserved'):
        mutil.packb_to_json(mutil.packb({'$bin': 'AA=='}))
    with pytest.raises(mutil.InvalidError, match='base64'):
        mutil.json_to_packb('{"$bin": "not base64!"}')
    with pytest.raises(mutil.ProtocolError):
        mutil.packb_to_json(b'\xc1')
    with pytest.raises(TypeError):
        mutil.packb_to_json('not bytes')
    with pytest.raises(TypeError):
        mutil.json_to_packb(12)
