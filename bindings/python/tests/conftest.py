# SPDX-License-Identifier: MPL-2.0
# Copyright (c) 2026 the mutil authors
"""Fixtures shared by the binding's tests.

Environment (set by `make check-python`; defaults suit an installed mutil):
  MUTIL_LIBRARY  libmutil.so to load          MUTIL_TOOL     the mutil program
  MUTIL_INCLUDE  the public headers            MU_TEST_SCALE  time-bound factor
Tests wait on events (a message, a pipe, a future); every time bound is
multiplied by MU_TEST_SCALE (default 1; a loaded machine may set more)."""
import os
import shutil
import signal
import socket

import pytest

SCALE = float(os.environ.get('MU_TEST_SCALE', '1') or 1)

# A suite started with SIGINT ignored (a background job of a shell without
# job control, nohup) would inherit that: Python then leaves SIGINT ignored,
# in this process and in the Python children the tests start, and the tests
# of Ctrl-C handling would test nothing. Python's own handler here gives
# every child the default disposition at exec, as a terminal would.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)


def bound(seconds):
    """A generous time bound, scaled: the most a step may take."""
    return seconds * SCALE


@pytest.fixture
def tool():
    """Path of the mutil command-line tool (skips when there is none)."""
    path = os.environ.get('MUTIL_TOOL') or shutil.which('mutil')
    if not path:
        pytest.skip('no mutil tool: set MUTIL_TOOL')
    return path


@pytest.fixture
def free_port():
    """A TCP port free on 127.0.0.1 now (prefer binding port 0 where the API
    returns the port; this is for programs that need one up front)."""
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]
