# SPDX-License-Identifier: MPL-2.0
# Copyright (c) 2026 the mutil authors
"""Across languages: the C server (`mutil serve`) with the Python client,
the Python server with the C client (`mutil call`, `get`, `put`), both
with a shared secret and with certs, and C-framed pipes (`mutil frame`)
read and written from Python."""
import contextlib
import os
import signal
import subprocess

import pytest

import mutil
from test_conn import serving
from conftest import bound

PASSPHRASE = 'correct horse battery staple'


@pytest.fixture
def secret_file(tmp_path):
    path = tmp_path / 'secret'
    path.write_text(PASSPHRASE + '\n')
    os.chmod(path, 0o600)
    return str(path)


@contextlib.contextmanager
def c_server(tool, tmp_path, *args):
    """`mutil serve` on an ipc endpoint; yields (endpoint, process). The
    endpoint line it prints on stdout says it is bound. SIGINT at the end
    must stop it with status 0."""
    endpoint = 'ipc://%s/c-server' % tmp_path
    proc = subprocess.Popen([tool, 'serve', '--bind', endpoint] + list(args),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == endpoint
        yield endpoint, proc
    finally:
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=bound(20))
        proc.stdout.close()
    assert proc.returncode == 0, err
    proc.stderr_text = err


def run_tool(tool, *args, stdin=None):
    return subprocess.run([tool] + list(args), input=stdin, capture_output=True,
                          timeout=bound(30))


def test_c_server_python_client_with_a_secret(tool, tmp_path, secret_file):
    root = tmp_path / 'root'
    root.mkdir()
    (root / 'data.bin').write_bytes(os.urandom(300000))
    with c_server(tool, tmp_path, '--root', str(root), '--secret-file', secret_file) as (ep, proc):
        with mutil.Client(ep, secret=mutil.read_secret_file(secret_file), name='python',
                          timeout=bound(10)) as c:
            assert c.request(b'echo me') == b'echo me'
            assert c.request(b'') == b''
            progress = []
            c.get('data.bin', tmp_path / 'copy.bin', progress=lambda d, t: progress.append(d))
            assert (tmp_path / 'copy.bin').read_bytes() == (root / 'data.bin').read_bytes()
            assert progress[-1] == 300000
            c.put(tmp_path / 'copy.bin', 'uploaded.bin')
            assert (root / 'uploaded.bin').read_bytes() == (root / 'data.bin').read_bytes()
            with pytest.raises(mutil.NotFoundError):
                c.get('missing', tmp_path / 'x')
        with mutil.Client(ep, secret='not the passphrase', timeout=bound(10)) as c:
            with pytest.raises(mutil.AuthError):
                c.request(b'x')
    assert "name 'python'" in proc.stderr_text and '1 files sent, 1 received' in proc.stderr_text


def test_c_server_python_client_with_certs(tool, tmp_path):
    server_keys, client_keys, stranger = mutil.Keys(), mutil.Keys(), mutil.Keys()
    server_keys.save(tmp_path / 'server')
    (tmp_path / 'allow').mkdir()
    client_keys.public_only().save(tmp_path / 'allow' / 'client')
    with c_server(tool, tmp_path, '--cert', str(tmp_path / 'server'),
                  '--allow', str(tmp_path / 'allow')) as (ep, proc):
        server_public = mutil.Keys.load(tmp_path / 'server', public_only=True)
        with mutil.Client(ep, server_key=server_public, keys=client_keys,
                          timeout=bound(10)) as c:
            assert c.request('certified') == b'certified'
        with mutil.Client(ep, server_key=server_public, keys=stranger, timeout=bound(10)) as c:
            with pytest.raises(mutil.AuthError) as info:
                c.request(b'x')
            assert info.value.name == 'MU_EAUTH'
    assert client_keys.public_text in proc.stderr_text


def test_python_server_c_client_with_a_secret(tool, tmp_path, secret_file):
    root = tmp_path / 'root'
    root.mkdir()
    (root / 'served.bin').write_bytes(os.urandom(200000))

    def handler(event):
        if event.data == b'fail':
            raise KeyError('python handler failed')
        return b'python says: ' + event.data
    with serving(secret=mutil.read_secret_file(secret_file), handler=handler, root=root) as srv:
        ep = srv.endpoint
        out = run_tool(tool, 'call', ep, 'hello', '--secret-file', secret_file)
        assert out.returncode == 0 and out.stdout == b'python says: hello'
        out = run_tool(tool, 'call', ep, '--secret-file', secret_file, stdin=b'from stdin')
        assert out.stdout == b'python says: from stdin'
        out = run_tool(tool, 'call', ep, 'fail', '--secret-file', secret_file)
        assert out.returncode == 1 and b'python handler failed' in out.stderr
        local = tmp_path / 'got.bin'
        out = run_tool(tool, 'get', ep, 'served.bin', str(local), '--secret-file', secret_file)
        assert out.returncode == 0 and local.read_bytes() == (root / 'served.bin').read_bytes()
        out = run_tool(tool, 'put', ep, str(local), 'back.bin', '--secret-file', secret_file)
        assert out.returncode == 0 and (root / 'back.bin').read_bytes() == local.read_bytes()
        out = run_tool(tool, 'call', ep, 'after the error', '--secret-file', secret_file)
        assert out.stdout == b'python says: after the error'
    assert srv.handler_errors.count == 1 and srv.final_stats['files_sent'] == 1


def test_python_server_c_client_with_certs(tool, tmp_path):
    server_keys, client_keys = mutil.Keys(), mutil.Keys()
    server_keys.save(tmp_path / 'server')
    client_keys.save(tmp_path / 'client')
    stranger = mutil.Keys()
    stranger.save(tmp_path / 'stranger')
    with serving(keys=server_keys, allow=[client_keys], handler=lambda ev: ev.data[::-1]) as srv:
        out = run_tool(tool, 'call', srv.endpoint, 'drawer', '--cert', str(tmp_path / 'client'),
                       '--server-key', server_keys.public_text)
        assert out.returncode == 0 and out.stdout == b'reward'
        out = run_tool(tool, 'call', srv.endpoint, 'x', '--cert', str(tmp_path / 'stranger'),
                       '--server-key', str(tmp_path / 'server'), '--timeout', '5000')
        assert out.returncode == 1
    assert srv.final_stats['auth_failures'] >= 1


def test_c_framed_pipe_read_and_written_by_python(tool):
    """`mutil frame encode` writes mu_pipe frames on its stdout, read by a
    Python Pipe; a Python Pipe writes frames into `mutil frame decode`."""
    records = [b'first', b'', b'third record']
    enc = subprocess.Popen([tool, 'frame', 'encode'], stdin=subprocess.PIPE,
                           stdout=subprocess.PIPE)
    enc.stdin.write(b'\n'.join(records) + b'\n')
    enc.stdin.close()
    with mutil.Pipe(enc.stdout, recv_timeout=bound(20)) as reader:
        assert list(reader) == records
    enc.stdout.close()
    assert enc.wait(bound(20)) == 0
    dec = subprocess.Popen([tool, 'frame', 'decode', '-H', '2'], stdin=subprocess.PIPE,
                           stdout=subprocess.PIPE)
    with mutil.Pipe(write=dec.stdin, header_size=2) as writer:
        for record in records:
            writer.send(record, more=True)
    dec.stdin.close()
    assert dec.stdout.read() == b'\n'.join(records) + b'\n'
    dec.stdout.close()
    assert dec.wait(bound(20)) == 0
