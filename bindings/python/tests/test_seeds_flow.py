# SPDX-License-Identifier: MPL-2.0
# Copyright (c) 2026 the mutil authors
"""The seeds' dataflow examples in Python: the echo server with odd and even
outbound edges (examples/echo_flow.py, run as a program checking itself,
serving a client of this test until SIGINT drains it, and in-process), and
pipes read by bar workers forwarding to one outbound edge
(examples/pipe_bars_flow.py)."""
import os
import signal
import subprocess
import sys

import pytest

from conftest import bound

PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # bindings/python
EXAMPLES = os.path.join(PACKAGE_DIR, 'examples')
sys.path.insert(0, EXAMPLES)
import echo_flow  # noqa: E402


def example(*args, script='echo_flow.py'):
    """Starts an example with this interpreter and environment."""
    path = os.pathsep.join(filter(None, [PACKAGE_DIR, os.environ.get('PYTHONPATH')]))
    return subprocess.Popen([sys.executable, os.path.join(EXAMPLES, script)] + list(args),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=dict(os.environ, PYTHONPATH=path))


def test_echo_example_checks_itself():
    proc = example('--check', '3000', '--port', '0', '--workers', '3')
    out, err = proc.communicate(timeout=bound(60))
    assert proc.returncode == 0, out + err
    assert '3000 of 3000 numbers back (wrong edge: 0, duplicates: 0); workers handled 3000' in out
    assert 'ok: every number came back once on the right edge' in out


def test_echo_example_serves_a_client_and_drains_on_sigint():
    proc = example('--port', '0', '--workers', '2')
    try:
        line = proc.stdout.readline()  # the ports, once the flow runs
        assert line.startswith('echo server: inbound '), line + proc.stderr.read()
        words = line.replace(',', ' ').split()
        ports = tuple(int(words[i]) for i in (3, 5, 7))
        assert echo_flow.check(ports, 500, timeout=bound(30)) == (500, 0, 0)
        proc.send_signal(signal.SIGINT)  # run() turns it into a drain
        out, err = proc.communicate(timeout=bound(60))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert 'drained: 500 numbers echoed' in out


def test_echo_flow_in_this_process():
    import mutil
    with echo_flow.make_flow(mutil, 0, 2) as flow:
        flow.start()
        assert echo_flow.check(echo_flow.ports_of(flow), 1000, timeout=bound(30)) == (1000, 0, 0)
        flow.stop()
        rows = {(r['stage'], r['index']): r for r in flow.stats()}
        assert rows[('outbound', 0)]['out'] == 500 and rows[('outbound', 1)]['out'] == 500
        assert flow.exceptions == 0


def test_pipe_bars_example():
    proc = example('--feeds', '3', '--trades', '40', script='pipe_bars_flow.py')
    out, err = proc.communicate(timeout=bound(60))
    assert proc.returncode == 0, out + err
    assert out.splitlines()[-1] == '12 bars, 120 trades, volume 360 (expected 360): ok'


if __name__ == '__main__':
    sys.exit(pytest.main([__file__]))
