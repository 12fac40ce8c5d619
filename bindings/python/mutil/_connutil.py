# SPDX-License-Identifier: MPL-2.0
# Copyright (c) 2026 the mutil authors
"""Helpers shared by pipe.py, server.py and client.py: payload buffers and
per-call timeouts."""
from ._lib import timeout_ms, to_buffer

UNSET = object()  # "no per-call value given: use the object's default"


def buffer(data, what='data'):
    """data (bytes, bytearray, memoryview, or str as UTF-8) as a (pointer,
    size) pair for a const void * argument, without a copy. Raises
    TypeError for anything else."""
    data = to_buffer(data, what)
    return data, len(data)


def ms(timeout, default_ms):
    """A per-call timeout in seconds (None: forever) in ms, or default_ms
    when the caller gave none (UNSET)."""
    return default_ms if timeout is UNSET else timeout_ms(timeout)


def seconds(ms_value):
    """A C timeout in ms (-1 forever) as Python seconds (None forever)."""
    return None if ms_value < 0 else ms_value / 1000.0
