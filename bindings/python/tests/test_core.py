# SPDX-License-Identifier: MPL-2.0
# Copyright (c) 2026 the mutil authors
"""The binding's base: loading, the generated declarations, errors, values."""
import math
import os
import subprocess
import sys

import pytest

import mutil
from mutil import _lib, errors

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)


def test_version_matches_package():
    assert mutil.version() == mutil.__version__


@pytest.mark.skipif(not os.environ.get('MUTIL_INCLUDE'), reason='MUTIL_INCLUDE not set')
def test_cdef_is_generated_from_the_headers(tmp_path):
    """mutil/cdef/ must be what gen_cdef.py makes of include/: run `make cdef`
    after changing a public header."""
    subprocess.run([sys.executable, os.path.join(TOP, 'gen_cdef.py'),
                    os.environ['MUTIL_INCLUDE'], str(tmp_path)], check=True)
    committed = os.path.join(TOP, 'mutil', 'cdef')
    assert sorted(os.listdir(committed)) == sorted(os.listdir(str(tmp_path)))
    for name in os.listdir(str(tmp_path)):
        with open(os.path.join(committed, name)) as old, open(str(tmp_path / name)) as new:
            assert old.read() == new.read(), name


@pytest.mark.parametrize('code,cls,builtin', [
    (-110, mutil.TimeoutError, TimeoutError), (-1003, mutil.AuthError, PermissionError),
    (-2, mutil.NotFoundError, KeyError), (-11, mutil.WouldBlock, BlockingIOError),
    (-1001, mutil.ClosedError, EOFError), (-22, mutil.InvalidError, ValueError),
    (-71, mutil.ProtocolError, mutil.Error), (-1008, mutil.CorruptError, mutil.Error),
    (-98, mutil.ConnectionError, ConnectionError), (-28, mutil.OSError, OSError),
    (-1007, mutil.RemoteError, mutil.Error), (-17, mutil.ExistsError, FileExistsError),
])
def test_error_classes(code, cls, builtin):
    exc = errors.from_code(code, 'detail')
    assert isinstance(exc, cls) and isinstance(exc, builtin) and isinstance(exc, mutil.Error)
    assert exc.code == code and exc.name.startswith('MU_E') and exc.message == 'detail'
    assert exc.name in str(exc) and 'detail' in str(exc)


def test_error_unknown_code_is_plain_error():
    exc = errors.from_code(-99999)
    assert type(exc) is mutil.Error and exc.code == -99999


def test_check_raises_with_the_thread_detail():
    with pytest.raises(mutil.ProtocolError) as info:
        mutil.unpackb(b'\xc1')
    assert info.value.code == _lib.lib.MU_EPROTO


VALUES = [None, True, False, 0, -1, 127, 128, -33, 2**31, -2**31 - 1, 2**63 - 1, -2**63,
          2**64 - 1, 1.5, -0.0, float('inf'), '', 'héllo', '\udcff', b'', b'\x00\xff',
          [], [1, [2, [3]]], {}, {'a': 1, 'b': [None, {'c': b'x'}]}, {1: 'int key'},
          mutil.Ext(5, b'abc'), mutil.Ext(-1, b'\x00' * 4), 'x' * 70000, b'y' * 70000,
          list(range(70000)), {str(i): i for i in range(70000)}]


@pytest.mark.parametrize('value', VALUES, ids=lambda v: type(v).__name__)
def test_pack_round_trip(value):
    assert mutil.unpackb(mutil.packb(value)) == value


def test_pack_tuple_is_array_and_nan():
    assert mutil.unpackb(mutil.packb((1, 2))) == [1, 2]
    assert math.isnan(mutil.unpackb(mutil.packb(float('nan'))))


def test_pack_shortest_forms():
    assert mutil.packb(None) == b'\xc0' and mutil.packb(1) == b'\x01'
    assert mutil.packb(-1) == b'\xff' and mutil.packb(255) == b'\xcc\xff'
    assert mutil.packb('a') == b'\xa1a' and mutil.packb([1]) == b'\x91\x01'
    assert mutil.packb({'a': 1}) == b'\x81\xa1a\x01'


def test_pack_refuses_what_it_cannot_encode():
    with pytest.raises(TypeError):
        mutil.packb(object())
    with pytest.raises(OverflowError):
        mutil.packb(2**64)
    with pytest.raises(OverflowError):
        mutil.packb(-2**63 - 1)
    deep = []
    for _ in range(1000):
        deep = [deep]
    with pytest.raises(ValueError):
        mutil.packb(deep)


def test_unpack_array_key_becomes_tuple():
    # {[1, 2]: 3} written by hand: fixmap(1) fixarray(2) 1 2 3
    assert mutil.unpackb(b'\x81\x92\x01\x02\x03') == {(1, 2): 3}


@pytest.mark.parametrize('data,cls', [
    (b'', mutil.ProtocolError), (b'\xc1', mutil.ProtocolError),
    (b'\x91', mutil.ProtocolError), (b'\x01\x02', mutil.ProtocolError),
    (b'\xdb\xff\xff\xff\xff', mutil.ProtocolError),
])
def test_unpack_refuses_bad_input(data, cls):
    with pytest.raises(cls):
        mutil.unpackb(data)


def test_unpack_limits():
    nested = mutil.packb([[[[1]]]])
    with pytest.raises(mutil.ProtocolError) as info:
        mutil.unpackb(nested, max_depth=2)
    assert info.value.name == 'MU_ELIMIT'
    assert mutil.unpackb(nested, max_depth=4) == [[[[1]]]]
    with pytest.raises(mutil.ProtocolError):
        mutil.unpackb(mutil.packb(list(range(10))), max_count=5)


def test_unpack_wrong_type():
    with pytest.raises(TypeError):
        mutil.unpackb(12)


def test_interop_with_python_msgpack():
    msgpack = pytest.importorskip('msgpack')
    value = {'k': [1, -2, 3.5, None, True, 'x', b'y']}
    assert msgpack.unpackb(mutil.packb(value)) == value
    assert mutil.unpackb(msgpack.packb(value)) == value


CTRL_C = """
import os, signal, threading, mutil
reader = mutil.Pipe.zmq_reader('inproc://ctrl-c')
threading.Timer(0.2, os.kill, (os.getpid(), signal.SIGINT)).start()
try:
    reader.recv()
except KeyboardInterrupt:
    print('KeyboardInterrupt')
"""


def test_ctrl_c_interrupts_a_blocking_call():
    """czmq's signal handlers are off: SIGINT reaches Python's handler, the
    blocked C call returns and Python raises KeyboardInterrupt."""
    out = subprocess.run([sys.executable, '-c', CTRL_C], capture_output=True, text=True,
                         timeout=60)
    assert out.stdout.strip() == 'KeyboardInterrupt', out.stdout + out.stderr


SOCKET_LIMIT = """
import errno, mutil
made = []
try:
    while len(made) < 100:
        made.append(mutil.Publisher())
except mutil.OSError as e:
    print('refused', len(made), e.errno == errno.EMFILE, 'too many sockets' in str(e))
"""


def test_socket_limit_raises():
    """With czmq's context out of sockets (ZSYS_MAX_SOCKETS=8), a
    constructor raises mutil.OSError (EMFILE, saying why) and the
    interpreter goes on; czmq's zsock_new aborted the process there."""
    env = dict(os.environ, ZSYS_MAX_SOCKETS='8')
    out = subprocess.run([sys.executable, '-c', SOCKET_LIMIT], capture_output=True, text=True,
                         timeout=60, env=env)
    words = out.stdout.split()
    assert out.returncode == 0 and len(words) == 4, out.stdout + out.stderr
    assert words[0] == 'refused' and 0 < int(words[1]) <= 8 and words[2:] == ['True', 'True'], \
        out.stdout + out.stderr
