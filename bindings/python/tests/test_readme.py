# SPDX-License-Identifier: MPL-2.0
# Copyright (c) 2026 the mutil authors
"""Every ```python block of bindings/python/README.md and of the Python
section of the top README.md runs as written, each in a fresh interpreter in
a scratch directory, and exits 0. A block right after the line
<!-- snippet: python no-run --> is only compiled (it waits for a peer or
runs forever, for example)."""
import os
import re
import subprocess
import sys

import pytest

from conftest import bound

HERE = os.path.dirname(os.path.abspath(__file__))
READMES = [os.path.join(HERE, '..', 'README.md'), os.path.join(HERE, '..', '..', '..', 'README.md')]
BLOCK = re.compile(r'(<!-- snippet: python no-run -->\n)?```python\n(.*?)```', re.S)


def snippets():
    found = []
    for path in READMES:
        if not os.path.exists(path):
            continue
        with open(path) as f:
            text = f.read()
        for match in BLOCK.finditer(text):
            line = text.count('\n', 0, match.start(2)) + 1
            found.append(pytest.param(match.group(2), not match.group(1),
                                      id='%s:%d' % (os.path.basename(os.path.dirname(
                                          os.path.abspath(path))), line)))
    return found


@pytest.mark.parametrize('code,run', snippets())
def test_snippet(code, run, tmp_path):
    compile(code, 'README snippet', 'exec')
    if not run:
        return
    result = subprocess.run([sys.executable, '-c', code], cwd=str(tmp_path), capture_output=True,
                            text=True, timeout=bound(60))
    assert result.returncode == 0, result.stdout + result.stderr
