#!/usr/bin/env python3
# SPDX-License-Identifier: MPL-2.0
# Copyright (c) 2026 the mutil authors
"""A foreign peer for mu_pipe, using only Python's standard library.

Writes little-endian length-prefixed JSON frames into a C program (tests/pipe_peer)
through a pipe and reads its length-prefixed JSON answers back. Prints TAP."""
import json
import os
import struct
import subprocess
import sys
import threading

PEER = sys.argv[1]
results = []


def time_scale() -> float:
    """MU_TEST_SCALE (a number >= 1, default 1), the suite's time factor."""
    try:
        return max(1.0, float(os.environ.get("MU_TEST_SCALE", "1")))
    except ValueError:
        return 1.0


TIME_SCALE = time_scale()


def frame(payload: bytes, header: int) -> bytes:
    return len(payload).to_bytes(header, "little") + payload


def read_exact(stream, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = stream.read(n - len(data))
        if not chunk:
            break
        data += chunk
    return data


def read_frame(stream, header: int):
    head = read_exact(stream, header)
    if not head:
        return None
    if len(head) < header:
        raise ValueError("truncated header")
    size = int.from_bytes(head, "little")
    body = read_exact(stream, size)
    if len(body) < size:
        raise ValueError("truncated frame")
    return body


def exchange(values, header: int, extra_args=()):
    """Sends values as JSON frames; returns (answers, exit status, stderr)."""
    proc = subprocess.Popen([PEER, str(header), *extra_args], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    def write_all():
        try:
            for value in values:
                if isinstance(value, bytes):
                    proc.stdin.write(value)
                else:
                    proc.stdin.write(frame(json.dumps(value).encode(), header))
            proc.stdin.close()
        except BrokenPipeError:
            pass

    writer = threading.Thread(target=write_all)
    writer.start()
    answers = []
    while True:
        body = read_frame(proc.stdout, header)
        if body is None:
            break
        answers.append(json.loads(body))
    writer.join()
    err = proc.stderr.read().decode()
    return answers, proc.wait(timeout=30 * TIME_SCALE), err


def check(name, cond, detail=""):
    results.append(cond)
    print(f"{'ok' if cond else 'not ok'} {len(results)} - {name}")
    if not cond and detail:
        print("# " + detail.replace("\n", "\n# "))


values = [0, 1, "x" * 4094, "y" * 4095, "z" * 4096, {"k": [1, 2.5, None, True]},
          "w" * (1024 * 1024), [], {}]
for header in (4, 2, 8):
    vals = [v for v in values if len(json.dumps(v)) + 40 < 2 ** (8 * header)]
    answers, status, err = exchange(vals, header)
    ok = status == 0 and [a["echo"] for a in answers] == vals and \
        [a["n"] for a in answers] == list(range(len(vals)))
    check(f"python writes and reads JSON frames through C, header {header}", ok,
          f"status {status}, {len(answers)} answers, stderr: {err}")

answers, status, err = exchange([1, 2, bytes([100, 0, 0, 0]) + b"[1,"], 4)
check("truncated frame from python: C reports it and exits 1",
      status == 1 and "truncated" in err and [a["echo"] for a in answers] == [1, 2], err)

answers, status, err = exchange([7, frame(b"9" * 200, 4)], 4, ["100"])
check("oversized frame from python: C refuses it and exits 1",
      status == 1 and "protocol" in err and [a["echo"] for a in answers] == [7], err)

answers, status, err = exchange([], 4)
check("empty stream: clean end, no answers", status == 0 and answers == [], err)

print(f"1..{len(results)}")
sys.exit(0 if all(results) else 1)
