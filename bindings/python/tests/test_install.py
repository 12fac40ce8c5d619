# SPDX-License-Identifier: MPL-2.0
# Copyright (c) 2026 the mutil authors
"""`pip install ./bindings/python` works offline: the in-tree build backend
needs nothing from the network, and the installed package loads libmutil."""
import os
import subprocess
import sys

import pytest

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_pip_install_offline_into_a_venv(tmp_path):
    if subprocess.run([sys.executable, '-m', 'pip', '--version'],
                      capture_output=True).returncode != 0:
        pytest.skip('no pip for %s (Debian: python3-pip)' % sys.executable)
    venv = tmp_path / 'venv'
    subprocess.run([sys.executable, '-m', 'venv', '--without-pip', '--system-site-packages',
                    str(venv)], check=True)
    python = str(venv / 'bin' / 'python')
    env = dict(os.environ, PIP_NO_INDEX='1', PIP_DISABLE_PIP_VERSION_CHECK='1')
    env.pop('PYTHONPATH', None)  # the installed copy, not the source tree
    pip_env = {k: v for k, v in env.items() if k != 'LD_PRELOAD'}  # pip needs no ASan
    subprocess.run([sys.executable, '-m', 'pip', '--python', python, 'install', '--no-index',
                    '--no-cache-dir', TOP], check=True, capture_output=True, env=pip_env)
    out = subprocess.run([python, '-c', 'import mutil; print(mutil.version(), mutil.__file__)'],
                         check=True, capture_output=True, text=True, cwd=str(tmp_path),
                         env=env).stdout.split()
    assert out[0] == '0.1.0' and out[1].startswith(str(venv))
