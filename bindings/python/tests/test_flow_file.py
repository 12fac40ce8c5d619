# SPDX-License-Identifier: MPL-2.0
# Copyright (c) 2026 the mutil authors
"""mutil.FlowFile: a flow read from a flow file (mu_flow_conf_load), with
Python worker commands; its state; the errors of a bad file."""
import json
import os
import sys

import pytest

import mutil

SCRIPTS = os.path.join(os.path.dirname(__file__), '..', '..', '..', 'tests', 'tool', 'flowfile')


def write(tmp_path, doc):
    path = tmp_path / 'f.json'
    path.write_text(json.dumps(doc))
    return path


def test_flow_file_runs_python_commands(tmp_path):
    py = sys.executable
    s = os.path.abspath(SCRIPTS)
    path = write(tmp_path, {'flow': 'pyfile', 'stages': [
        {'name': 'gen', 'type': 'source', 'command': '%s %s/gen.py 300' % (py, s)},
        {'name': 'up', 'type': 'worker', 'command': '%s %s/upper.py' % (py, s), 'runners': 2},
        {'name': 'sink', 'type': 'worker', 'command': '%s %s/sink.py out' % (py, s)}]})
    flow = mutil.FlowFile(path)
    assert flow.state == ('idle', 0)
    flow.start()
    assert flow.wait(60)
    assert flow.state == ('finished', 0)
    lines = (tmp_path / 'out.0').read_bytes().split()
    assert sorted(lines) == sorted(b'py:%d' % i for i in range(300))
    flow.close()


def test_flow_file_errors(tmp_path):
    path = write(tmp_path, {'flow': 'bad', 'stages': [
        {'name': 'gen', 'type': 'source', 'command': 'true', 'runnerz': 2}]})
    with pytest.raises(mutil.InvalidError) as info:
        mutil.FlowFile(path)
    assert "stages[0] 'gen'.runnerz: unknown key" in info.value.message
    (tmp_path / 'syntax.json').write_text('{"flow": "x",\n "stages": [}')
    with pytest.raises(mutil.InvalidError) as info:
        mutil.FlowFile(tmp_path / 'syntax.json')
    assert 'syntax.json:2:' in info.value.message
    with pytest.raises(mutil.NotFoundError):
        mutil.FlowFile(tmp_path / 'absent.json')
    hosts = write(tmp_path, {'flow': 'h', 'hosts': [
        {'name': 'A', 'address': '127.0.0.1', 'base_port': 7000}],
        'stages': [{'name': 'gen', 'type': 'source', 'command': 'true'}]})
    with pytest.raises(mutil.InvalidError) as info:
        mutil.FlowFile(hosts, host='Z')
    assert "no host named 'Z'" in info.value.message
