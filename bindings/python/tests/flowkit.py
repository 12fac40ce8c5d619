# SPDX-License-Identifier: MPL-2.0
# Copyright (c) 2026 the mutil authors
"""Helpers of the dataflow tests (test_flow, test_seeds_flow, test_cross_flow).

Sink: how results leave a flow's runner processes. A pipe made before
start(): runners write length-prefixed frames to it (each write is one
frame under PIPE_BUF, so writes of different processes never interleave);
the test closes its write end after start() and reads until EOF, which
comes when every process of the flow has exited: the end of the flow.

send_frame / recv_frame: a TCP edge client's framing (doc/wire.md: a u32
little-endian length, then the payload), in plain Python."""
import os
import select
import struct
import time

from conftest import bound


class Sink:
    """A pipe from the runners to the test."""

    def __init__(self):
        self.r, self.w = os.pipe()

    def write(self, data):
        """In a runner: sends one frame (< 4 KiB) to the test."""
        os.write(self.w, struct.pack('<I', len(data)) + data)

    def started(self):
        """In the test, right after start(): the flow holds the write end now."""
        os.close(self.w)

    def read_all(self, seconds=20):
        """Every frame until EOF (the end of the flow); fails after the bound."""
        deadline = time.monotonic() + bound(seconds)
        buf = b''
        try:
            while True:
                left = deadline - time.monotonic()
                assert left > 0, 'the flow did not end within %gs' % bound(seconds)
                ready, _, _ = select.select([self.r], [], [], left)
                if ready:
                    chunk = os.read(self.r, 65536)
                    if not chunk:
                        return split_frames(buf)
                    buf += chunk
        finally:
            os.close(self.r)

    def read_frames(self, count, seconds=20):
        """The next count frames while the flow still runs; fails after the bound."""
        deadline = time.monotonic() + bound(seconds)
        frames = []
        for _ in range(count):
            (n,) = struct.unpack('<I', self._read_exact(4, deadline))
            frames.append(self._read_exact(n, deadline))
        return frames

    def _read_exact(self, n, deadline):
        buf = b''
        while len(buf) < n:
            left = deadline - time.monotonic()
            assert left > 0, 'no frame from the flow within the bound'
            ready, _, _ = select.select([self.r], [], [], left)
            if ready:
                chunk = os.read(self.r, n - len(buf))
                assert chunk, 'the flow ended early'
                buf += chunk
        return buf


def split_frames(buf):
    """The payloads of a buffer of whole length-prefixed frames."""
    frames = []
    while buf:
        n = struct.unpack_from('<I', buf)[0]
        frames.append(buf[4:4 + n])
        buf = buf[4 + n:]
    return frames


def send_frame(sock, data):
    """Sends one edge frame."""
    sock.sendall(struct.pack('<I', len(data)) + data)


def recv_exact(sock, n):
    buf = b''
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise EOFError('the edge closed the connection')
        buf += chunk
    return buf


def recv_frame(sock):
    """Receives one edge frame (sock should have a timeout)."""
    (n,) = struct.unpack('<I', recv_exact(sock, 4))
    return recv_exact(sock, n)
