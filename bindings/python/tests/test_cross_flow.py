# SPDX-License-Identifier: MPL-2.0
# Copyright (c) 2026 the mutil authors
"""Cross-language dataflow: the echo flow in C (`mutil flow serve`, the C
tool) with a Python TCP-edge client in plain sockets (the edge framing of
doc/wire.md: a u32 little-endian length, then the payload); and the same
Python client against the same flow defined in Python, so both sides speak
one protocol."""
import os
import re
import signal
import socket
import subprocess
import sys

from conftest import bound
from flowkit import recv_frame, send_frame

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                'examples'))
import echo_flow  # noqa: E402


def serve_c_flow(tool, workers=3):
    """Starts `mutil flow serve`; returns (process, (inbound, odd, even) ports)."""
    proc = subprocess.Popen([tool, 'flow', 'serve', '--workers', str(workers)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=dict(os.environ, COLUMNS='200'))
    line = proc.stdout.readline()
    assert line.startswith('echo flow: inbound edge port'), line + proc.stderr.read()
    return proc, tuple(int(p) for p in re.findall(r'port (\d+)', line))


def stop(proc):
    proc.send_signal(signal.SIGTERM)  # the tool drains the flow, then prints its table
    out, err = proc.communicate(timeout=bound(60))
    return proc.returncode, out, err


def test_c_flow_python_client(tool):
    proc, ports = serve_c_flow(tool)
    try:
        assert echo_flow.check(ports, 2000, timeout=bound(30)) == (2000, 0, 0)
        # A frame the C worker refuses (not a number) is counted, not echoed;
        # the flow goes on.
        with socket.create_connection(('127.0.0.1', ports[1]), timeout=bound(30)) as odd, \
                socket.create_connection(('127.0.0.1', ports[0]), timeout=bound(30)) as inbound:
            send_frame(inbound, b'seven')
            send_frame(inbound, b'7')
            assert recv_frame(odd) == b'7'
        rc, out, err = stop(proc)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert rc == 0, err
    lines = [line.split() for line in out.splitlines()]
    header = next(cells for cells in lines if cells[:2] == ['stage', 'runner'])
    row = next(cells for cells in lines if cells[:2] == ['work', 'all'])
    figures = dict(zip(header, row))  # the columns by name (pid only while runners run)
    assert [figures['in'], figures['out'], figures['errors']] == ['2002', '2001', '1']


def test_oversized_frame_closes_the_client(tool):
    """The inbound edge of the C flow takes frames up to 20 bytes."""
    proc, ports = serve_c_flow(tool, workers=1)
    try:
        with socket.create_connection(('127.0.0.1', ports[0]), timeout=bound(30)) as inbound:
            send_frame(inbound, b'1' * 21)
            assert inbound.recv(1) == b''  # closed by the edge
        rc, out, err = stop(proc)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert rc == 0, err
