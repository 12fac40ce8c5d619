#!/usr/bin/env python3
# SPDX-License-Identifier: MPL-2.0
# Copyright (c) 2026 the mutil authors
"""bench.py — the smart socket through the Python binding against pyzmq
doing the same socket work, in the same run.

Cases (64-byte messages, ipc:// endpoints, each side in its own process):
  publish-64B     a mutil.Socket (binds, PUBLISH) sends every message to
                  NPEERS mutil.Sockets in child processes, against a pyzmq
                  ROUTER (ROUTER_MANDATORY) sending a copy to each of NPEERS
                  DEALERs in child processes;
  roundrobin-64B  the same with ROUNDROBIN, against the ROUTER sending to
                  DEALER i % NPEERS;
  reqrep-64B      round trips: a client sends, waits for the echo from a
                  server in a child process (mutil: send / recv / send_to;
                  pyzmq: DEALER to ROUTER).

Connections are made and joined before the clock starts; a throughput run
ends when every receiver holds its last message (time.monotonic is the
same clock in every process). Units: messages delivered per second (a
PUBLISH to N peers counts N), round trips per second. Ours and pyzmq run
back to back in each repetition; value and baseline_value are medians,
ratio the median of the per-repetition ratios (as bench/bench.h does).

Output: one JSON line per case, as bench/*.c print them,
  {"bench":"python-socket","case":"publish-64B","unit":"msg/s","value":3.1e5,
   "baseline":"pyzmq-router-2-dealers","baseline_value":3.5e5,"ratio":0.89}
then a blank line and a table with the bars: ratio >= 0.7 x pyzmq, and for
PUBLISH / ROUNDROBIN >= 160k msg/s (10 x the original aiomsg's 16k).

Usage: MUTIL_LIBRARY=.../libmutil.so python3 bench.py [--quick] [--verbose]
       [--reps=N] [FILTER...]     (build the library with CFLAGS="-O2 -g")
"""
import argparse
import json
import math
import os
import select
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

NPEERS = 2
SIZE = 64
RATIO_BAR = 0.7
VALUE_BAR = 160e3  # 10 x aiomsg's 16k msg/s
RUN_LIMIT = 60.0   # seconds; a stuck run is reported as null
PROBE, END = b'probe', b'end'  # markers (not SIZE bytes long)


def fmt_json(v, digits):
    """A number the way bench.h writes it: %.<digits>g, 'e6' exponents,
    null for NaN."""
    if v is None or not math.isfinite(v):
        return 'null'
    text = '%.*g' % (digits, v)
    if 'e' in text:
        mant, exp = text.split('e')
        text = '%se%d' % (mant, int(exp))
    return text


# -- child processes -------------------------------------------------------------

class Child:
    """One child process of this script running a role; its stdout gives
    one line per step ('ready', then the end time)."""

    def __init__(self, *args):
        self.proc = subprocess.Popen([sys.executable, os.path.abspath(__file__), '--role'] +
                                     [str(a) for a in args], stdout=subprocess.PIPE)
        self.buf = b''

    def line_ready(self):
        """The next line if one is complete (reads what is there)."""
        if b'\n' not in self.buf:
            r, _, _ = select.select([self.proc.stdout], [], [], 0)
            if r:
                chunk = os.read(self.proc.stdout.fileno(), 4096)
                if not chunk:
                    raise RuntimeError('child exited early (rc %s)' % self.proc.wait())
                self.buf += chunk
        if b'\n' in self.buf:
            line, self.buf = self.buf.split(b'\n', 1)
            return line.decode()
        return None

    def finish(self):
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def wait_lines(children, drive, deadline):
    """One line from each child, calling drive() (a short wait on our own
    socket) in between. Raises RuntimeError after the deadline."""
    lines = [None] * len(children)
    while any(x is None for x in lines):
        if time.monotonic() > deadline:
            raise RuntimeError('children did not answer in time')
        for i, c in enumerate(children):
            if lines[i] is None:
                lines[i] = c.line_ready()
        if any(x is None for x in lines):
            drive()
    return lines


def say(text):
    sys.stdout.write(text + '\n')
    sys.stdout.flush()


def role_mutil_sink(endpoint, count):
    import mutil
    with mutil.Socket() as s:
        s.connect(endpoint)
        got = 0
        recv = s.recv
        while s.peers < 1:
            try:
                recv(0.01)
                got += 1
            except mutil.TimeoutError:
                pass
        say('ready')
        for _ in range(count - got):
            recv()
        say(repr(time.monotonic()))


def role_pyzmq_sink(endpoint, count, ident):
    import zmq
    ctx = zmq.Context()
    s = ctx.socket(zmq.DEALER)
    s.setsockopt(zmq.ROUTING_ID, ident.encode())
    s.connect(endpoint)
    s.send(b'ready')
    say('ready')
    recv = s.recv
    for _ in range(count):
        recv()
    say(repr(time.monotonic()))
    s.close(linger=0)
    ctx.term()


def role_pyzmq_probed_sink(endpoint, kind):
    """A SUB (kind 'pub') or PULL (kind 'push') sink: 'ready' once a probe
    arrived, then counts data messages (SIZE bytes) until an end marker;
    says how many and when. (PUB drops at its high-water mark and PUSH
    skips a full pipe, so a sink cannot know its count in advance.)"""
    import zmq
    ctx = zmq.Context()
    s = ctx.socket(zmq.SUB if kind == 'pub' else zmq.PULL)
    if kind == 'pub':
        s.setsockopt(zmq.SUBSCRIBE, b'')
    s.connect(endpoint)
    recv = s.recv
    while recv() != PROBE:
        pass
    say('ready')
    got = 0
    while True:
        m = recv()
        if len(m) == SIZE:
            got += 1
        elif m == END:
            break
    say('%d %r' % (got, time.monotonic()))
    s.close(linger=0)
    ctx.term()


def role_mutil_echo(endpoint):
    import mutil
    with mutil.Socket() as s:
        s.bind(endpoint)
        say('ready')
        recv, send_to = s.recv, s.send_to
        while True:
            m = recv()
            if m.data == b'':
                break
            send_to(m.peer, m.data)


def role_pyzmq_echo(endpoint):
    import zmq
    ctx = zmq.Context()
    s = ctx.socket(zmq.ROUTER)
    s.bind(endpoint)
    say('ready')
    recv, send = s.recv, s.send
    more = zmq.SNDMORE
    while True:
        ident = recv()
        body = recv()
        if body == b'':
            break
        send(ident, more)
        send(body)
    s.close(linger=0)
    ctx.term()


ROLES = {'mutil-sink': role_mutil_sink, 'pyzmq-sink': role_pyzmq_sink,
         'pyzmq-probed-sink': role_pyzmq_probed_sink,
         'mutil-echo': role_mutil_echo, 'pyzmq-echo': role_pyzmq_echo}


# -- measured runs (parent side) --------------------------------------------------

class Endpoints:
    """Fresh ipc:// endpoints in a private directory."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix='mu_pybench.')
        self.n = 0

    def next(self):
        self.n += 1
        return 'ipc://%s/ep%d' % (self.dir, self.n)

    def remove(self):
        shutil.rmtree(self.dir, ignore_errors=True)


def delivered_rate(total, t0, end_lines):
    end = max(float(x) for x in end_lines)
    return total / (end - t0)


def run_mutil_throughput(eps, kind, per_peer):
    import mutil
    ep = eps.next()
    mode = mutil.Socket.PUBLISH if kind == 'publish' else mutil.Socket.ROUNDROBIN
    with mutil.Socket(mode=mode, send_timeout=5.0) as hub:
        hub.bind(ep)
        sinks = [Child('mutil-sink', ep, per_peer) for _ in range(NPEERS)]
        try:
            deadline = time.monotonic() + RUN_LIMIT
            wait_lines(sinks, lambda: drain(hub, 0.01), deadline)
            while hub.peers < NPEERS:
                drain(hub, 0.01)
            total = per_peer if kind == 'publish' else per_peer * NPEERS
            buf = b'\1' * SIZE
            send = hub.send
            t0 = time.monotonic()
            for _ in range(total):
                send(buf)
            ends = wait_lines(sinks, lambda: drain(hub, 0.01), deadline)
            return delivered_rate(per_peer * NPEERS, t0, ends)
        finally:
            for c in sinks:
                c.finish()


def drain(sock, wait):
    """Drives a mutil socket: receives (and drops) what is there, waiting
    up to wait seconds."""
    import mutil
    try:
        sock.recv(wait)
    except mutil.TimeoutError:
        pass


def run_pyzmq_throughput(eps, kind, per_peer):
    import zmq
    ep = eps.next()
    ctx = zmq.Context.instance()
    hub = ctx.socket(zmq.ROUTER)
    hub.setsockopt(zmq.ROUTER_MANDATORY, 1)
    hub.bind(ep)
    ids = ['d%d' % i for i in range(NPEERS)]
    sinks = [Child('pyzmq-sink', ep, per_peer, ident) for ident in ids]
    try:
        deadline = time.monotonic() + RUN_LIMIT
        wait_lines(sinks, lambda: time.sleep(0.001), deadline)
        for _ in ids:  # the hub knows every dealer
            hub.recv_multipart()
        bids = [i.encode() for i in ids]
        buf = b'\1' * SIZE
        send, more = hub.send, zmq.SNDMORE
        t0 = time.monotonic()
        if kind == 'publish':
            for _ in range(per_peer):
                for ident in bids:
                    send(ident, more)
                    send(buf)
        else:
            n = len(bids)
            for k in range(per_peer * n):
                send(bids[k % n], more)
                send(buf)
        ends = wait_lines(sinks, lambda: time.sleep(0.001), deadline)
        return delivered_rate(per_peer * NPEERS, t0, ends)
    finally:
        for c in sinks:
            c.finish()
        hub.close(linger=0)


def run_pyzmq_native(eps, kind, per_peer):
    """pyzmq's own distributing sockets, one send call per message: PUB to
    NPEERS SUBs (kind 'pub') or PUSH to NPEERS PULLs (kind 'push'). Probes
    go out until every sink got one (every pipe is attached), end markers
    until every sink answered; delivered messages count."""
    import zmq
    ep = eps.next()
    ctx = zmq.Context.instance()
    hub = ctx.socket(zmq.PUB if kind == 'pub' else zmq.PUSH)
    hub.bind(ep)
    sinks = [Child('pyzmq-probed-sink', ep, kind) for _ in range(NPEERS)]

    def marker(body):
        def send_marker():
            try:
                hub.send(body, zmq.NOBLOCK)
            except zmq.Again:
                pass
            time.sleep(0.0005)
        return send_marker
    try:
        deadline = time.monotonic() + RUN_LIMIT
        wait_lines(sinks, marker(PROBE), deadline)
        total = per_peer if kind == 'pub' else per_peer * NPEERS
        buf = b'\1' * SIZE
        send = hub.send
        t0 = time.monotonic()
        for _ in range(total):
            send(buf)
        ends = [line.split() for line in wait_lines(sinks, marker(END), deadline)]
        return sum(int(n) for n, _ in ends) / (max(float(t) for _, t in ends) - t0)
    finally:
        for c in sinks:
            c.finish()
        hub.close(linger=0)


def round_trips(send, recv, count):
    """Round trips per second of count send(64 B) + recv() pairs."""
    buf = b'\1' * SIZE
    t0 = time.monotonic()
    for _ in range(count):
        send(buf)
        recv()
    return count / (time.monotonic() - t0)


def run_mutil_reqrep(eps, count):
    import mutil
    ep = eps.next()
    server = Child('mutil-echo', ep)
    try:
        wait_lines([server], lambda: time.sleep(0.001), time.monotonic() + RUN_LIMIT)
        with mutil.Socket() as client:
            client.connect(ep)
            while client.peers < 1:
                drain(client, 0.01)
            rate = round_trips(client.send, client.recv, count)
            client.send(b'')
            return rate
    finally:
        server.finish()


def run_pyzmq_reqrep(eps, count):
    import zmq
    ep = eps.next()
    server = Child('pyzmq-echo', ep)
    ctx = zmq.Context.instance()
    client = ctx.socket(zmq.DEALER)
    try:
        wait_lines([server], lambda: time.sleep(0.001), time.monotonic() + RUN_LIMIT)
        client.connect(ep)
        rate = round_trips(client.send, client.recv, count)
        client.send(b'')
        return rate
    finally:
        server.finish()
        client.close(linger=0)


CASES = [
    # name, unit, baseline name, ours, pyzmq, value bar
    ('publish-64B', 'msg/s', 'pyzmq-router-%d-dealers' % NPEERS,
     lambda e, n: run_mutil_throughput(e, 'publish', n),
     lambda e, n: run_pyzmq_throughput(e, 'publish', n), VALUE_BAR),
    ('roundrobin-64B', 'msg/s', 'pyzmq-router-rr-dealers',
     lambda e, n: run_mutil_throughput(e, 'roundrobin', n),
     lambda e, n: run_pyzmq_throughput(e, 'roundrobin', n), VALUE_BAR),
    ('publish-64B-pub', 'msg/s', 'pyzmq-pub-%d-subs' % NPEERS,
     lambda e, n: run_mutil_throughput(e, 'publish', n),
     lambda e, n: run_pyzmq_native(e, 'pub', n), VALUE_BAR),
    ('roundrobin-64B-push', 'msg/s', 'pyzmq-push-%d-pulls' % NPEERS,
     lambda e, n: run_mutil_throughput(e, 'roundrobin', n),
     lambda e, n: run_pyzmq_native(e, 'push', n), VALUE_BAR),
    ('reqrep-64B', 'rtt/s', 'pyzmq-dealer-router',
     lambda e, n: run_mutil_reqrep(e, n // 10), lambda e, n: run_pyzmq_reqrep(e, n // 10), None),
]


def measure(fn, *args):
    try:
        return fn(*args)
    except Exception as exc:  # a failed run is reported as null, as in bench/
        print('run failed: %r' % exc, file=sys.stderr)
        return float('nan')


def paired_ratio(ours, base):
    q = [o / b for o, b in zip(ours, base) if math.isfinite(o) and math.isfinite(b) and b > 0]
    return statistics.median(q) if q else float('nan')


def median(xs):
    xs = [x for x in xs if math.isfinite(x)]
    return statistics.median(xs) if xs else float('nan')


def run_case(case, opts, eps):
    name, unit, base_name, ours_fn, base_fn, value_bar = case
    n = 20000 if opts.quick else 100000
    ours, base = [], []
    for r in range(opts.reps):
        ours.append(measure(ours_fn, eps, n))
        base.append(measure(base_fn, eps, n))
        if opts.verbose:
            print('%s rep %d: ours %.0f base %.0f' % (name, r, ours[-1], base[-1]), file=sys.stderr)
    result = {'bench': 'python-socket', 'case': name, 'unit': unit, 'value': median(ours),
              'baseline': base_name, 'baseline_value': median(base),
              'ratio': paired_ratio(ours, base)}
    print('{"bench":%s,"case":%s,"unit":%s,"value":%s,"baseline":%s,"baseline_value":%s,'
          '"ratio":%s}' % (json.dumps(result['bench']), json.dumps(name), json.dumps(unit),
                           fmt_json(result['value'], 4), json.dumps(base_name),
                           fmt_json(result['baseline_value'], 4), fmt_json(result['ratio'], 3)))
    sys.stdout.flush()
    result['value_bar'] = value_bar
    return result


def print_table(results):
    """The human-readable table; returns the number of missed bars."""
    missed = 0
    print()
    print('%-20s %12s %12s %7s  %s' % ('case', 'binding', 'pyzmq', 'ratio', 'bars'))
    for r in results:
        bars = [('ratio >= %.1f' % RATIO_BAR, r['ratio'] >= RATIO_BAR)]
        if r['value_bar']:
            bars.append(('>= %.0fk %s' % (r['value_bar'] / 1e3, r['unit']),
                         r['value'] >= r['value_bar']))
        missed += sum(1 for _, ok in bars if not ok)
        print('%-20s %12s %12s %7.2f  %s' % (
            r['case'], '%.3g k' % (r['value'] / 1e3), '%.3g k' % (r['baseline_value'] / 1e3),
            r['ratio'], ', '.join('%s %s' % (b, 'ok' if ok else 'MISSED') for b, ok in bars)))
    return missed


def main(argv):
    if argv[:1] == ['--role']:
        role = ROLES[argv[1]]
        args = [int(a) if a.isdigit() else a for a in argv[2:]]
        return role(*args)
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--quick', action='store_true', help='short run (well under a minute)')
    ap.add_argument('--verbose', '-v', action='store_true', help='every run on stderr')
    ap.add_argument('--reps', type=int, default=5, help='repetitions (medians reported)')
    ap.add_argument('filters', nargs='*', help='run only cases whose name contains one')
    opts = ap.parse_args(argv)
    eps = Endpoints()
    try:
        results = [run_case(c, opts, eps) for c in CASES
                   if not opts.filters or any(f in c[0] for f in opts.filters)]
    finally:
        eps.remove()
    missed = print_table(results)
    if missed:
        print('\n%d bar(s) missed' % missed)
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
