#!/usr/bin/env python3
# SPDX-License-Identifier: MPL-2.0
# Copyright (c) 2026 the mutil authors
"""ws_fanout.py — WebSocket fan-out: `mutil proxy --ws` against a
python3-websockets broadcast server doing the same job, in the same run.

The job: a ZeroMQ publisher (pyzmq XPUB, here) publishes M messages on one
topic; the server subscribes upstream to what its WebSocket clients
subscribed to and sends each message to every client holding a matching
prefix, as the protocol of doc/pubsub.md says (a JSON payload as a text
frame {"topic": t, "data": payload}, any other as a binary frame
[topic length][topic][payload]). NCLIENTS (100) clients subscribe to the
topic; a run ends when every client holds all M messages.

  ours      mutil proxy --upstream <the XPUB> --bind tcp://127.0.0.1:0
            --insecure --ws 0   (a process)
  baseline  this program with --baseline-server: a SUB on the XPUB
            (pyzmq's asyncio) and a websockets server (asyncio, legacy
            API of websockets 10) that checks each payload is JSON, frames
            it and sends it with websockets.broadcast() to the clients whose
            prefix matches (a process)

The clients are the same for both: this program with --clients, in
NPROCS processes of NCLIENTS/NPROCS connections each, a minimal asyncio
WebSocket client that subscribes, then only counts frames (so that the
clients are not what is measured). Neither server may drop a message: the
publisher sends in windows (at most two in flight, each well under the
per-client send queue of either server) and sends window k+2 once every
client process reported window k complete. The publisher's XPUB has no
high-water mark.

Unit: messages delivered per second, summed over the clients (M x
NCLIENTS / the time from the first publish to the last client's last
message; time.monotonic is one clock for all processes). Ours and the
baseline run back to back in each repetition; value and baseline_value are
medians, ratio the median of the per-repetition ratios, as bench/bench.h.
The table also gives each server's CPU time (user + system, from wait4)
per million deliveries, set-up included: on a loaded machine, where the
rates say little, it still compares the work each server does.

Output: one JSON line per case, as bench/*.c print them,
  {"bench":"ws-fanout","case":"json-64B","unit":"msg/s","value":1.2e6,
   "baseline":"python-websockets-broadcast","baseline_value":2.0e5,"ratio":6.1}
then a blank line and a table.

Usage: python3 bench/ws_fanout.py [--quick] [--verbose] [--reps=N]
       [--messages=M] [--clients=N] [--procs=N] [--mutil=PATH] [FILTER...]
       (/usr/bin/python3 on Debian: pyzmq and websockets; PATH of the mutil
       tool, default ./mutil, built with CFLAGS="-O2 -g")
"""
import argparse
import asyncio
import json
import math
import os
import select
import signal
import statistics
import subprocess
import sys
import time

TOPIC = b"bench.fanout"
RUN_LIMIT = 300.0  # seconds; a stuck run is reported as null
WINDOW_BYTES = 192 * 1024  # per client and window (two in flight)
CASES = (("json-64B", "json", 64), ("binary-64B", "binary", 64), ("json-1KiB", "json", 1024))


# ---- the clients (--clients) -------------------------------------------

class CountingClient(asyncio.Protocol):
    """One WebSocket connection: the handshake, one {"subscribe"}, then it
    counts data frames (answering pings) and tells the process."""

    def __init__(self, process, host, port, prefix):
        self.process = process
        self.request = ("GET / HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\n"
                        "Connection: Upgrade\r\nSec-WebSocket-Key: bXV0aWwgd3MgYmVuY2ggIQ==\r\n"
                        "Sec-WebSocket-Version: 13\r\n\r\n" % (host, port)).encode()
        self.subscribe = json.dumps({"subscribe": prefix}).encode()
        self.buffer = bytearray()
        self.upgraded = False
        self.subscribed = False
        self.transport = None

    def connection_made(self, transport):
        self.transport = transport
        transport.write(self.request)

    def send_frame(self, opcode, payload):
        # masked, as a client must; the zero key leaves the bytes as they are
        assert len(payload) < 126
        self.transport.write(bytes((0x80 | opcode, 0x80 | len(payload))) + b"\0\0\0\0" + payload)

    def data_received(self, data):
        buf = self.buffer
        buf += data
        if not self.upgraded:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                return
            if not buf.startswith(b"HTTP/1.1 101"):
                self.process.fail("handshake refused: %r" % bytes(buf[:80]))
                return
            del buf[:end + 4]
            self.upgraded = True
            self.send_frame(1, self.subscribe)
        pos, size, frames = 0, len(buf), 0
        while size - pos >= 2:
            length, head = buf[pos + 1] & 0x7F, 2
            if length == 126:
                if size - pos < 4:
                    break
                length, head = int.from_bytes(buf[pos + 2:pos + 4], "big"), 4
            elif length == 127:
                if size - pos < 10:
                    break
                length, head = int.from_bytes(buf[pos + 2:pos + 10], "big"), 10
            if size - pos < head + length:
                break
            opcode = buf[pos] & 0x0F
            if opcode in (1, 2):
                if self.subscribed:
                    frames += 1
                elif b'"subscribed"' in buf[pos + head:pos + head + length]:
                    self.subscribed = True
                    self.process.one_subscribed()
                else:
                    self.process.fail("before the subscription: %r"
                                      % bytes(buf[pos + head:pos + head + length][:80]))
            elif opcode == 9:
                self.send_frame(10, bytes(buf[pos + head:pos + head + length]))
            elif opcode == 8:
                self.process.fail("the server closed a client")
            pos += head + length
        del buf[:pos]
        if frames:
            self.process.count(frames)

    def connection_lost(self, exc):
        if not self.process.finished:
            self.process.fail("a connection was lost")


class ClientProcess:
    """The clients of one process; prints "ready" once all subscribed, then
    "mark K T" each time every client holds K x window messages (T: the
    time of the last one), and "error TEXT" on trouble."""

    def __init__(self, nclients, window, total):
        self.nclients, self.window, self.total = nclients, window, total
        self.subscribed = 0
        self.received = 0
        self.next_mark = nclients * window
        self.finished = False
        self.done = asyncio.get_running_loop().create_future()

    def say(self, line):
        sys.stdout.write(line + "\n")
        sys.stdout.flush()

    def one_subscribed(self):
        self.subscribed += 1
        if self.subscribed == self.nclients:
            self.say("ready")

    def count(self, frames):
        self.received += frames
        while self.received >= self.next_mark:
            messages = self.next_mark // self.nclients
            self.say("mark %d %.9f" % (messages, time.monotonic()))
            if messages >= self.total:
                self.finished = True
                if not self.done.done():
                    self.done.set_result(None)
                return
            self.next_mark = min(self.next_mark + self.nclients * self.window,
                                 self.nclients * self.total)

    def fail(self, text):
        if not self.finished:
            self.finished = True
            self.say("error " + text)
            if not self.done.done():
                self.done.set_result(None)


async def run_clients(host, port, nclients, window, total):
    process = ClientProcess(nclients, window, total)
    loop = asyncio.get_running_loop()
    transports = []
    for _ in range(nclients):
        transport, _ = await loop.create_connection(
            lambda: CountingClient(process, host, port, TOPIC.decode()), host, port)
        transports.append(transport)
    await process.done
    for transport in transports:
        transport.abort()


# ---- the baseline server (--baseline-server) ---------------------------

async def baseline_server(upstream):
    import websockets
    import zmq
    import zmq.asyncio

    ctx = zmq.asyncio.Context()
    sub = ctx.socket(zmq.SUB)
    sub.setsockopt(zmq.RCVHWM, 0)
    sub.connect(upstream)
    drain = zmq.Socket.shadow(sub.underlying)  # the same socket, plain calls
    prefixes = {}  # client -> its prefixes (bytes)
    held = {}      # prefix -> how many clients hold it (the union upstream)

    async def handler(ws, path):
        mine = prefixes[ws] = []
        try:
            async for text in ws:
                try:
                    request = json.loads(text)
                    prefix = request["subscribe"].encode()
                except (ValueError, KeyError, TypeError, AttributeError):
                    await ws.send(json.dumps({"error": "not a subscribe", "code": "MU_EPROTO"}))
                    continue
                mine.append(prefix)
                held[prefix] = held.get(prefix, 0) + 1
                if held[prefix] == 1:
                    sub.setsockopt(zmq.SUBSCRIBE, prefix)
                await ws.send(json.dumps({"subscribed": request["subscribe"]}))
        finally:
            del prefixes[ws]
            for prefix in mine:
                held[prefix] -= 1
                if held[prefix] == 0:
                    sub.setsockopt(zmq.UNSUBSCRIBE, prefix)

    def frame(topic, payload):
        try:
            name = topic.decode()
            text = payload.decode()
            json.loads(text)
            return '{"topic":%s,"data":%s}' % (json.dumps(name), text)
        except ValueError:
            return bytes((len(topic),)) + topic + payload

    def forward(parts):
        topic, payload = parts[0], parts[1]
        targets = [ws for ws, mine in prefixes.items() if any(topic.startswith(p) for p in mine)]
        if targets:
            websockets.broadcast(targets, frame(topic, payload))

    async with websockets.serve(handler, "127.0.0.1", 0, max_size=1 << 20) as server:
        print("ws://127.0.0.1:%d" % server.sockets[0].getsockname()[1], flush=True)
        while True:
            forward(await sub.recv_multipart())
            while True:  # what else is there, without a round through the loop
                try:
                    forward(drain.recv_multipart(zmq.NOBLOCK))
                except zmq.Again:
                    break


# ---- the driver ----------------------------------------------------------

class Lines:
    """Lines from a child's stdout with a deadline."""

    def __init__(self, proc):
        self.proc, self.pending = proc, b""

    def next(self, deadline):
        while b"\n" not in self.pending:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.proc.stdout], [], [], left)[0]:
                return None
            data = os.read(self.proc.stdout.fileno(), 65536)
            if not data:
                return None
            self.pending += data
        line, self.pending = self.pending.split(b"\n", 1)
        return line.decode(errors="replace")


def stop(proc):
    """Ends proc (TERM, then KILL); returns the CPU seconds it used (user +
    system), or None when it was reaped elsewhere."""
    if proc.returncode is not None:
        return None
    os.kill(proc.pid, signal.SIGTERM)  # not proc.send_signal: it may reap
    deadline = time.monotonic() + 10
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid == proc.pid:
            proc.returncode = os.waitstatus_to_exitcode(status)
            return usage.ru_utime + usage.ru_stime
        if time.monotonic() > deadline:
            proc.kill()
            deadline = float("inf")
        time.sleep(0.01)


def payload_of(kind, size, seq):
    if kind == "json":
        head = '{"seq":%d,"pad":"' % seq
        return (head + "x" * max(0, size - len(head) - 2) + '"}').encode()
    return b"\xff" + seq.to_bytes(8, "big") + b"\0" * max(0, size - 9)


def start_server(which, upstream, opts):
    """Starts the server; returns (process, ws port) or raises."""
    if which == "ours":
        argv = [opts.mutil, "proxy", "--upstream", upstream, "--bind", "tcp://127.0.0.1:0",
                "--insecure", "--ws", "0"]
    else:
        argv = [sys.executable, os.path.abspath(__file__), "--baseline-server", upstream]
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=None if opts.verbose else subprocess.DEVNULL)
    lines = Lines(proc)
    deadline = time.monotonic() + 20
    while True:
        line = lines.next(deadline)
        if line is None:
            stop(proc)
            raise RuntimeError("%s: no ws:// ready line" % argv[0])
        for word in line.split():
            if word.startswith("ws://"):
                return proc, int(word.rsplit(":", 1)[1].split("/")[0])


def one_run(which, kind, size, xpub, upstream, opts):
    """Returns (deliveries per second, the server's CPU seconds per million
    deliveries), None for what could not be measured."""
    try:
        server, port = start_server(which, upstream, opts)
    except (RuntimeError, OSError) as e:
        print("ws_fanout: %s" % e, file=sys.stderr)
        return None, None
    frame = size + 40
    # two windows stay under the proxy's inproc high-water mark (1,000)
    window = max(1, min(400, WINDOW_BYTES // frame))
    total = opts.messages - opts.messages % window or window
    per_proc = [opts.clients // opts.procs + (i < opts.clients % opts.procs)
                for i in range(opts.procs)]
    clients = [subprocess.Popen([sys.executable, os.path.abspath(__file__), "--clients",
                                 str(port), str(n), str(window), str(total)],
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE)
               for n in per_proc if n]
    readers = [Lines(c) for c in clients]
    try:
        deadline = time.monotonic() + RUN_LIMIT
        for r in readers:
            if r.next(deadline) != "ready":
                raise RuntimeError("%s: the clients did not all subscribe" % which)
        # the subscription has reached the publisher: every message counts
        while True:
            if not xpub.poll(max(1, int((deadline - time.monotonic()) * 1000))):
                raise RuntimeError("%s: no subscription upstream" % which)
            if xpub.recv() == b"\x01" + TOPIC:
                break
        payloads = [payload_of(kind, size, i) for i in range(window)]
        start = time.monotonic()
        last = start
        sent_windows = 0
        windows = total // window
        for done_windows in range(windows + 1):
            while sent_windows < min(windows, done_windows + 2):
                for p in payloads:
                    xpub.send_multipart([TOPIC, p])
                sent_windows += 1
            if done_windows == windows:
                break
            for r in readers:  # every process has the next window
                line = r.next(deadline)
                if line is None or not line.startswith("mark "):
                    raise RuntimeError("%s: %s" % (which, line or "timed out"))
                last = max(last, float(line.split()[2]))
        elapsed = last - start
        rate = total * opts.clients / elapsed if elapsed > 0 else None
    except RuntimeError as e:
        print("ws_fanout: %s" % e, file=sys.stderr)
        rate = None
    finally:
        for c in clients:
            stop(c)
        cpu = stop(server)
        while xpub.poll(0):  # the unsubscribe of the run
            xpub.recv()
    return rate, (cpu * 1e6 / (total * opts.clients) if rate and cpu else None)


def fmt(v, digits=3):
    if v is None or not math.isfinite(v):
        return "null"
    return "%.*g" % (digits, v)


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--verbose", "-v", action="store_true",
                    help="each run on stderr, and the servers' stderr")
    ap.add_argument("--reps", type=int, default=0)
    ap.add_argument("--messages", type=int, default=0)
    ap.add_argument("--clients", type=int, default=100)
    ap.add_argument("--procs", type=int, default=2)
    ap.add_argument("--mutil", default="./mutil")
    ap.add_argument("filters", nargs="*")
    opts = ap.parse_args()
    reps = opts.reps or (1 if opts.quick else 5)
    opts.messages = opts.messages or (2000 if opts.quick else 6000)
    opts.procs = max(1, min(opts.procs, opts.clients))

    import zmq
    ctx = zmq.Context.instance()
    xpub = ctx.socket(zmq.XPUB)
    xpub.setsockopt(zmq.XPUB_VERBOSE, 1)
    xpub.setsockopt(zmq.SNDHWM, 0)
    xpub.setsockopt(zmq.LINGER, 0)
    upstream = "tcp://127.0.0.1:%d" % xpub.bind_to_random_port("tcp://127.0.0.1")
    rows = []
    for name, kind, size in CASES:
        if opts.filters and not any(f in name for f in opts.filters):
            continue
        ours, base, ratios, cpu_ours, cpu_base = [], [], [], [], []
        for rep in range(reps):
            a, cpu_a = one_run("ours", kind, size, xpub, upstream, opts)
            b, cpu_b = one_run("baseline", kind, size, xpub, upstream, opts)
            ours.append(a)
            base.append(b)
            cpu_ours.append(cpu_a)
            cpu_base.append(cpu_b)
            ratios.append(a / b if a and b else None)
            if opts.verbose:
                print("# %s rep %d: ours %s msg/s (%s CPU s per M), baseline %s (%s)"
                      % (name, rep, fmt(a), fmt(cpu_a), fmt(b), fmt(cpu_b)), file=sys.stderr)
        row = (name, median(ours), median(base), median(ratios), median(cpu_ours),
               median(cpu_base))
        rows.append(row)
        print('{"bench":"ws-fanout","case":"%s","unit":"msg/s","value":%s,'
              '"baseline":"python-websockets-broadcast","baseline_value":%s,"ratio":%s}'
              % (name, fmt(row[1]), fmt(row[2]), fmt(row[3])), flush=True)
    print()
    print("ws fan-out to %d clients (%d client processes), %d messages a run, %d reps"
          % (opts.clients, opts.procs, opts.messages, reps))
    print("%-12s %16s %16s %7s %22s" % ("case", "mutil proxy", "websockets", "ratio",
                                        "server CPU s per M msg"))
    for name, a, b, r, ca, cb in rows:
        print("%-12s %16s %16s %7s %22s" % (name, fmt(a) + " msg/s", fmt(b) + " msg/s", fmt(r, 2),
                                            "%s vs %s" % (fmt(ca), fmt(cb))))
    ctx.destroy(linger=0)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--clients":
        port, nclients, window, total = (int(v) for v in sys.argv[2:6])
        asyncio.run(run_clients("127.0.0.1", port, nclients, window, total))
    elif len(sys.argv) > 1 and sys.argv[1] == "--baseline-server":
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        asyncio.run(baseline_server(sys.argv[2]))
    else:
        main()
