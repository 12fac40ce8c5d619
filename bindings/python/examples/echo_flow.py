#!/usr/bin/python3
# SPDX-License-Identifier: MPL-2.0
# Copyright (c) 2026 the mutil authors
"""The seeds' dataflow echo server (mutil's dataflow.py demo), with mutil.Flow:

  - one TCP edge listening for inbound numbers (one frame each: a u32
    little-endian length, then the decimal digits);
  - worker processes checking and passing them on;
  - two TCP edges replying: one with the odd numbers, one with the even ones
    (a broadcast link; each edge's filter takes its parity).

    echo_flow.py                         serve on 2221 (in), 2222 (odd), 2223 (even)
                                         until Ctrl-C, which drains the flow
    echo_flow.py --check 1000 --port 0   run on ephemeral ports, send 1..1000
                                         through it and check every number
                                         comes back once, on the right edge
"""
import argparse
import socket
import struct
import sys
import threading


def inbound_forward(data, out):
    """from_client of the inbound edge: numbers only."""
    if data.isdigit():
        out.emit(data)
    else:
        raise ValueError('not a number: %r' % data[:20])


def processing(data, out):
    """The workers: the seed's processingLast, passing the number on."""
    out.emit(b'%d' % int(data))


def processing_reply(data, out):
    """from_internal of the outbound edges: the reply to every client."""
    out.emit(data)


def is_odd(data):
    return int(data) % 2 != 0


def is_even(data):
    return int(data) % 2 == 0


def make_flow(mutil, port, workers):
    """The seed's topology: inbound edge, workers, two outbound edges."""
    def at(offset):
        return port + offset if port else 0
    flow = mutil.Flow('echo server')
    flow.add_edge('inbound', '127.0.0.1', at(0), from_client=inbound_forward, max_frame=32)
    flow.add_worker('processing', processing, n=workers)
    flow.add_edge('outbound', '127.0.0.1', at(1), from_internal=processing_reply, filter=is_odd)
    flow.add_edge('outbound', '127.0.0.1', at(2), from_internal=processing_reply, filter=is_even)
    flow.set_link('outbound', mutil.Link.BROADCAST)
    return flow


def frame(data):
    return struct.pack('<I', len(data)) + data


def read_frames(sock, buf):
    """Whole frames received so far on sock (buf: bytearray kept between calls)."""
    chunk = sock.recv(65536)
    if not chunk:
        raise EOFError('the flow closed an outbound edge')
    buf += chunk
    frames = []
    while len(buf) >= 4 and len(buf) >= 4 + struct.unpack_from('<I', buf)[0]:
        n = struct.unpack_from('<I', buf)[0]
        frames.append(bytes(buf[4:4 + n]))
        del buf[:4 + n]
    return frames


def ports_of(flow):
    """(inbound, odd, even) ports of the started flow."""
    return flow.edge_port('inbound'), flow.edge_port('outbound', 0), flow.edge_port('outbound', 1)


def check(ports, count, timeout=30):
    """A plain-socket client of any echo flow (this one, or `mutil flow serve`,
    the same flow in C): connects to the odd and even edges, then sends
    1..count to the inbound one. Returns (numbers back once on the right
    edge, wrong ones, duplicates)."""
    import selectors
    inbound_port, odd_port, even_port = ports
    odd = socket.create_connection(('127.0.0.1', odd_port), timeout=timeout)
    even = socket.create_connection(('127.0.0.1', even_port), timeout=timeout)
    inbound = socket.create_connection(('127.0.0.1', inbound_port), timeout=timeout)
    sender = threading.Thread(target=inbound.sendall,  # the flow back-pressures: send aside
                              args=(b''.join(frame(b'%d' % i) for i in range(1, count + 1)),))
    sender.start()
    seen, wrong, dupes = set(), 0, 0
    sel = selectors.DefaultSelector()
    sel.register(odd, selectors.EVENT_READ, (1, bytearray()))
    sel.register(even, selectors.EVENT_READ, (0, bytearray()))
    while len(seen) < count and not wrong:
        events = sel.select(timeout)
        if not events:
            break
        for key, _ in events:
            parity, buf = key.data
            for f in read_frames(key.fileobj, buf):
                n = int(f)
                if n % 2 != parity or not 1 <= n <= count:
                    wrong += 1
                elif n in seen:
                    dupes += 1
                else:
                    seen.add(n)
    sender.join()
    for s in (inbound, odd, even):
        s.close()
    return len(seen), wrong, dupes


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--port', type=int, default=2221, help='inbound port; odd +1, even +2; 0: ephemeral')
    parser.add_argument('--workers', type=int, default=4)
    parser.add_argument('--check', type=int, metavar='COUNT', help='send 1..COUNT and check the replies')
    args = parser.parse_args(argv)
    import mutil
    flow = make_flow(mutil, args.port, args.workers)
    if args.check is None:
        flow.start()
        print('echo server: inbound %d, odd %d, even %d (Ctrl-C drains and stops)'
              % ports_of(flow), flush=True)
        flow.run()  # started: waits; SIGINT/SIGTERM drain
        print('drained: %d numbers echoed' % flow.stage_stats('processing')['in'], flush=True)
        return 0
    with flow:
        flow.start()
        back, wrong, dupes = check(ports_of(flow), args.check)
        flow.stop()
        work = flow.stage_stats('processing')
    print('%d of %d numbers back (wrong edge: %d, duplicates: %d); workers handled %d'
          % (back, args.check, wrong, dupes, work['in']))
    ok = back == args.check and not wrong and not dupes
    print('ok: every number came back once on the right edge' if ok else 'FAILED')
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
