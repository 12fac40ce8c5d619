# SPDX-License-Identifier: MPL-2.0
# Copyright (c) 2026 the mutil authors
"""mutil.Pipe: fd pipes (pair, raw fds, file objects, a child's stdout and
stdin written and read by plain Python with struct), ZeroMQ pipes over
inproc/ipc/tcp, options, iteration, errors."""
import os
import select
import struct
import subprocess
import sys
import threading

import pytest

import mutil
from mutil._lib import lib
from conftest import bound

CHILD_WRITER = r'''
import struct, sys
out = sys.stdout.buffer
for i in range(int(sys.argv[1])):
    payload = b'frame %d' % i
    out.write(struct.pack('<I', len(payload)) + payload)
out.flush()
'''

CHILD_ECHO_UPPER = r'''
import struct, sys
inp, out = sys.stdin.buffer, sys.stdout.buffer
while True:
    head = inp.read(4)
    if len(head) < 4:
        break
    payload = inp.read(struct.unpack('<I', head)[0])
    out.write(struct.pack('<I', len(payload)) + payload.upper())
    out.flush()
'''


@pytest.fixture
def pair():
    reader, writer = mutil.Pipe.pair(recv_timeout=bound(10), send_timeout=bound(10))
    yield reader, writer
    reader.close()
    writer.close()


def test_pair_frames_in_order(pair):
    reader, writer = pair
    for payload in (b'one', b'', b'x' * 100000, 'text'):
        writer.send(payload)
    assert [reader.recv() for _ in range(4)] == [b'one', b'', b'x' * 100000, b'text']
    assert writer.stats()['frames_sent'] == 4 and reader.stats()['frames_received'] == 4
    assert reader.stats()['bytes_received'] == 3 + 100000 + 4


def test_more_batches_until_flush(pair):
    reader, writer = pair
    writer.send(b'a', more=True)
    writer.send(bytearray(b'b'), more=True)
    assert writer.pending > 0
    with pytest.raises(mutil.WouldBlock):
        reader.recv(timeout=0)
    writer.flush()
    assert writer.pending == 0
    assert reader.recv() == b'a' and reader.recv() == b'b'


def test_iteration_ends_at_end_of_stream(pair):
    reader, writer = pair
    for i in range(100):
        writer.send(b'%d' % i, more=True)
    writer.close()
    assert list(reader) == [b'%d' % i for i in range(100)]
    with pytest.raises(mutil.ClosedError) as info:
        reader.recv()
    assert info.value.code == lib.MU_ECLOSED


def test_truncated_stream_raises_then_ends():
    r, w = os.pipe()
    reader = mutil.Pipe(r, recv_timeout=bound(10))
    os.write(w, struct.pack('<I', 10) + b'abc')
    os.close(w)
    with pytest.raises(mutil.ClosedError) as info:
        list(reader)
    assert info.value.code == lib.MU_ETRUNCATED and info.value.name == 'MU_ETRUNCATED'
    assert list(reader) == []
    reader.close()


def test_raw_fds_interoperate_with_struct():
    r, w = os.pipe()
    writer = mutil.Pipe(write=w)
    writer.send(b'hello')
    assert os.read(r, 100) == struct.pack('<I', 5) + b'hello'
    writer.close()
    os.close(r)


def test_header_size_on_the_wire():
    r, w = os.pipe()
    writer = mutil.Pipe(write=w, header_size=2)
    assert writer.header_size == 2
    writer.send(b'xyz')
    assert os.read(r, 100) == struct.pack('<H', 3) + b'xyz'
    with pytest.raises(mutil.ProtocolError):
        writer.send(b'x' * 65536)  # over what 2 bytes can express
    writer.close()
    os.close(r)


def test_file_objects_are_dupped_and_stay_usable():
    r, w = os.pipe()
    with open(r, 'rb', buffering=0) as rf, open(w, 'wb', buffering=0) as wf:
        with mutil.Pipe(rf, recv_timeout=bound(10)) as reader:
            wf.write(struct.pack('<I', 2) + b'ok')
            assert reader.recv() == b'ok'
        assert reader.closed
        wf.write(b'still open')  # the file kept its own descriptor
        assert rf.read(10) == b'still open'


def test_inherited_fd_from_a_child_process():
    """A child started with subprocess writes frames with struct.pack on its
    stdout; the parent reads them as a Pipe over the inherited pipe."""
    proc = subprocess.Popen([sys.executable, '-c', CHILD_WRITER, '50'], stdout=subprocess.PIPE)
    with mutil.Pipe(proc.stdout, recv_timeout=bound(20)) as reader:
        frames = list(reader)
    proc.stdout.close()
    assert proc.wait(bound(20)) == 0
    assert frames == [b'frame %d' % i for i in range(50)]


CHILD_MUTIL_WRITER = r'''
import sys
import mutil
with mutil.Pipe(write=int(sys.argv[1])) as pipe:
    for word in sys.argv[2:]:
        pipe.send(word, more=True)
'''


def test_fd_inherited_by_a_child_that_uses_mutil():
    """A child process gets the write end of os.pipe() (pass_fds) and
    wraps the inherited fd number in its own mutil.Pipe."""
    r, w = os.pipe()
    env = dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(mutil.__file__)))
    proc = subprocess.Popen([sys.executable, '-c', CHILD_MUTIL_WRITER, str(w), 'a', 'bb', 'ccc'],
                            pass_fds=[w], env=env)
    os.close(w)
    with mutil.Pipe(r, recv_timeout=bound(20)) as reader:
        assert list(reader) == [b'a', b'bb', b'ccc']
    assert proc.wait(bound(20)) == 0


def test_child_reads_and_answers_frames_on_stdin_and_stdout():
    proc = subprocess.Popen([sys.executable, '-c', CHILD_ECHO_UPPER], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE)
    with mutil.Pipe(proc.stdout, proc.stdin, recv_timeout=bound(20)) as pipe:
        for word in (b'alpha', b'beta', b''):
            pipe.send(word)
            assert pipe.recv() == word.upper()
    proc.stdin.close()
    proc.stdout.close()
    assert proc.wait(bound(20)) == 0


def test_socketpair_both_directions():
    import socket
    a, b = socket.socketpair()
    with mutil.Pipe(a, a, recv_timeout=bound(10)) as left, \
            mutil.Pipe(b, b, recv_timeout=bound(10)) as right:
        left.send(b'ping')
        assert right.recv() == b'ping'
        right.send(b'pong')
        assert left.recv() == b'pong'
    a.close()
    b.close()


def test_timeouts(pair):
    reader, writer = pair
    with pytest.raises(mutil.WouldBlock):
        reader.recv(timeout=0)
    with pytest.raises(mutil.TimeoutError):
        reader.recv(timeout=0.02)
    reader.recv_timeout = 0
    assert reader.recv_timeout == 0
    with pytest.raises(mutil.WouldBlock):
        reader.recv()
    writer.send(b'x')
    assert reader.recv() == b'x'


def test_full_pipe_refuses_a_frame_whole_and_loses_nothing(pair):
    reader, writer = pair
    frame = b'z' * 65536
    sent = 0
    with pytest.raises(mutil.WouldBlock):
        while True:
            writer.send(frame, timeout=0)
            sent += 1
    reader.recv_timeout = bound(10)
    done = threading.Thread(target=writer.flush)
    done.start()
    for _ in range(sent):
        assert reader.recv() == frame
    done.join()


def test_closed_reader_gives_epipe(pair):
    reader, writer = pair
    reader.close()
    with pytest.raises(mutil.ClosedError) as info:
        writer.send(b'nobody listens')
    assert info.value.code == lib.MU_EPIPE


def test_max_frame_on_send_and_receive(pair):
    reader, writer = pair
    writer.max_frame = 10
    assert writer.max_frame == 10
    with pytest.raises(mutil.ProtocolError):
        writer.send(b'x' * 11)
    writer.max_frame = 100
    writer.send(b'y' * 50)
    reader.max_frame = 20
    with pytest.raises(mutil.ProtocolError):
        reader.recv()


def test_fileno_polls_readable(pair):
    reader, writer = pair
    assert select.select([reader.fileno()], [], [], 0)[0] == []
    writer.send(b'x')
    assert select.select([reader], [], [], bound(10))[0] == [reader]
    assert reader.recv(timeout=0) == b'x'


def test_threads_release_the_gil(pair):
    reader, writer = pair
    payload = os.urandom(1 << 20)

    def produce():
        for _ in range(20):
            writer.send(payload)
        writer.close()
    thread = threading.Thread(target=produce)
    thread.start()
    assert sum(1 for frame in reader if frame == payload) == 20
    thread.join()


@pytest.mark.parametrize('kind', ['inproc', 'ipc', 'tcp'])
def test_zmq_pipes(kind, tmp_path, free_port):
    endpoint = {'inproc': 'inproc://test-pipe-%d' % os.getpid(),
                'ipc': 'ipc://%s/pipe' % tmp_path, 'tcp': 'tcp://127.0.0.1:%d' % free_port}[kind]
    reader = mutil.Pipe.zmq_reader(endpoint, recv_timeout=bound(10))
    writer = mutil.Pipe.zmq_writer(endpoint, send_timeout=bound(10))
    assert reader.is_zmq and 'zmq' in repr(reader)
    frames = [b'', b'a', b'b' * 100000]
    for frame in frames:
        writer.send(frame)
    assert [reader.recv() for _ in frames] == frames  # everything arrived: now close
    writer.close()
    assert list(reader) == []
    reader.close()


def test_zmq_fan_in_counts_writers():
    endpoint = 'inproc://fan-in-%d' % os.getpid()
    reader = mutil.Pipe.zmq_reader(endpoint, writers=2, recv_timeout=bound(10))
    writers = [mutil.Pipe.zmq_writer(endpoint) for _ in range(2)]
    for i, w in enumerate(writers):
        w.send(b'%d' % i)
    assert sorted(reader.recv() for _ in writers) == [b'0', b'1']
    for w in writers:
        w.close()
    assert list(reader) == []
    reader.close()


def test_zmq_errors(free_port):
    endpoint = 'tcp://127.0.0.1:%d' % free_port
    with mutil.Pipe.zmq_reader(endpoint):
        with pytest.raises(mutil.ConnectionError):
            mutil.Pipe.zmq_reader(endpoint)
    with pytest.raises(mutil.InvalidError):
        mutil.Pipe.zmq_reader('bogus://x')
    with pytest.raises(mutil.InvalidError):
        mutil.Pipe.pair()[0].writers = 2  # not a ZeroMQ reader


def test_bad_use_raises():
    with pytest.raises(mutil.InvalidError):
        mutil.Pipe()  # no end at all
    with pytest.raises(TypeError):
        mutil.Pipe('not an fd')
    with pytest.raises(ValueError):
        mutil.Pipe(-5)
    with pytest.raises(TypeError):
        mutil.Pipe.pair(colour='blue')
    with pytest.raises(mutil.InvalidError):
        mutil.Pipe.pair(header_size=9)
    with pytest.raises(mutil.InvalidError):
        mutil.Pipe.pair(max_frame=0)
    with pytest.raises(mutil.InvalidError):
        mutil.Pipe.pair(writers=2)  # not a ZeroMQ reader: both ends are closed again
    reader, writer = mutil.Pipe.pair()
    with pytest.raises(TypeError):
        writer.send(12345)
    with pytest.raises(mutil.InvalidError):
        writer.recv(timeout=0)  # a writer cannot read
    with pytest.raises(ValueError):
        reader.recv(timeout=-1)
    reader.close()
    writer.close()
    for call in (reader.recv, writer.flush, reader.fileno, reader.stats, lambda: writer.send(b'')):
        with pytest.raises(mutil.InvalidError):
            call()
    assert 'closed' in repr(reader)
