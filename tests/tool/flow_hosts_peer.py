# SPDX-License-Identifier: MPL-2.0
# Copyright (c) 2026 the mutil authors
"""External commands of tests/tool/test_flow_hosts.sh (stdlib only): the
source, worker and sink of a flow file run by `mutil flow run`, talking
mu_pipe frames (4-byte little-endian length, then the bytes) on stdin and
stdout.

  flow_hosts_peer.py gen    source: writes the ids 0..COUNT-1 (ASCII), at
                            RATE messages/s when RATE is set; with COUNT 0,
                            writes ids until the file STOP exists; at the
                            end writes how many it wrote to STATE/gen
  flow_hosts_peer.py work   worker: writes $MUFLOW_HOST to STATE/env-HOST-INDEX
                            (HOST is $TEST_HOST, which the test sets per
                            host); for each input writes "ID:HOST" and the
                            empty "done" frame; every 50 ms at most, writes
                            the time of its last message (time.time()) to
                            STATE/progress-HOST-INDEX
  flow_hosts_peer.py sink   sink (a worker with no output): counts distinct
                            ids, duplicates and ids per host; writes them to
                            STATE/sink every 1000 messages and at the end
                            ("final 1" then), the time of the first
                            message per host to STATE/first-HOST and, every
                            50 ms at most, of the latest to STATE/seen-HOST

Environment: COUNT, RATE, STOP, STATE (a directory), WORK_MS (a worker's
sleep per message, default 0)."""
import os
import struct
import sys
import time

STATE = os.environ.get("STATE", ".")


def read_frame(r):
    head = r.read(4)
    if len(head) < 4:
        return None
    (n,) = struct.unpack("<I", head)
    data = r.read(n)
    if len(data) < n:
        return None
    return data


def write_frame(w, data):
    w.write(struct.pack("<I", len(data)) + data)


def put(name, text):
    tmp = os.path.join(STATE, ".%s.%d" % (name, os.getpid()))
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, os.path.join(STATE, name))


def gen():
    w = sys.stdout.buffer
    count = int(os.environ.get("COUNT", "0"))
    rate = float(os.environ.get("RATE", "0"))
    stop = os.environ.get("STOP", "")
    start = time.monotonic()
    i = 0
    while True:
        if count and i >= count:
            break
        if not count and i % 100 == 0 and stop and os.path.exists(stop):
            break
        if rate > 0:
            due = start + i / rate
            now = time.monotonic()
            if due > now:
                w.flush()
                time.sleep(due - now)
        write_frame(w, str(i).encode())
        i += 1
    w.flush()
    put("gen", "%d\n" % i)


def work():
    r, w = sys.stdin.buffer, sys.stdout.buffer
    host = os.environ.get("TEST_HOST", "-")
    index = os.environ.get("MUFLOW_INDEX", "0")
    put("env-%s-%s" % (host, index), os.environ.get("MUFLOW_HOST", "(unset)") + "\n")
    delay = float(os.environ.get("WORK_MS", "0")) / 1000.0
    name = "progress-%s-%s" % (host, index)
    last = 0.0
    while True:
        data = read_frame(r)
        if data is None:
            break
        if delay:
            time.sleep(delay)
        write_frame(w, data + b":" + host.encode())
        write_frame(w, b"")
        w.flush()
        now = time.time()
        if now - last >= 0.05:
            put(name, "%.6f\n" % now)
            last = now


def sink():
    r, w = sys.stdin.buffer, sys.stdout.buffer
    seen = set()
    dups = 0
    per_host = {}
    last_put = {}
    total = 0

    def summary(final):
        lines = ["unique %d" % len(seen), "dups %d" % dups, "total %d" % total]
        lines += ["host %s %d" % (h, n) for h, n in sorted(per_host.items())]
        lines.append("final %d" % final)
        put("sink", "\n".join(lines) + "\n")

    while True:
        data = read_frame(r)
        if data is None:
            break
        ident, _, host = data.partition(b":")
        host = host.decode(errors="replace")
        total += 1
        if host not in per_host:
            per_host[host] = 0
            put("first-" + host, "%.6f\n" % time.time())
        per_host[host] += 1
        now = time.time()
        if now - last_put.get(host, 0.0) >= 0.05:
            put("seen-" + host, "%.6f\n" % now)
            last_put[host] = now
        if ident in seen:
            dups += 1
        else:
            seen.add(ident)
        write_frame(w, b"")
        w.flush()
        if total % 1000 == 0:
            summary(0)
    summary(1)


if __name__ == "__main__":
    {"gen": gen, "work": work, "sink": sink}[sys.argv[1]]()
