#!/usr/bin/python3
# SPDX-License-Identifier: MPL-2.0
# Copyright (c) 2026 the mutil authors
"""The seeds' second dataflow example (mutil's dataflow.py: "reading from
inbound unix pipes, doing distributed data processing on the inbound pipe
workers, then forwarding results to one output for centralized
retrieval"), with mutil.Flow:

  - trade feeds write "SYMBOL PRICE SIZE" frames (u32 little-endian length,
    then the text) into pipes; the flow reads each pipe in a runner of its
    own (add_fd_source);
  - bar workers, keyed by symbol, build a bar (open, high, low, close,
    volume) every BAR trades; startup makes each process's table, teardown
    sends the bars still open when the feeds end;
  - one outbound TCP edge forwards the bars to every client.

    pipe_bars_flow.py [--feeds 3] [--trades 40]   prints the bars, checks the volume
"""
import argparse
import os
import socket
import struct
import sys

BAR = 10
SYMBOLS = (b'AAPL', b'MSFT', b'NVDA')


def frame(data):
    return struct.pack('<I', len(data)) + data


def feed(fd, seed, trades):
    """A feed process: deterministic trades into fd, then EOF."""
    out = b''
    for i in range(trades):
        symbol = SYMBOLS[(seed + i) % len(SYMBOLS)]
        price = 100 + (seed * 7 + i * 3) % 11
        out += frame(b'%s %d %d' % (symbol, price, 1 + i % 5))
    os.write(fd, out)
    os.close(fd)


def bar_startup(index):
    """Each bar process's table: symbol -> [open, high, low, close, volume, trades]."""
    return {}


def bar_creator(data, out):
    symbol, price, size = data.split()
    price, size = int(price), int(size)
    bar = out.state.get(symbol)
    if bar is None:
        bar = out.state[symbol] = [price, price, price, price, 0, 0]
    bar[1], bar[2], bar[3] = max(bar[1], price), min(bar[2], price), price
    bar[4] += size
    bar[5] += 1
    if bar[5] == BAR:
        out.emit(format_bar(symbol, out.state.pop(symbol)))


def bar_teardown(out):
    """The feeds ended: the bars still open go out too."""
    for symbol, bar in sorted(out.state.items()):
        out.emit(format_bar(symbol, bar))


def format_bar(symbol, bar):
    return b'%s o=%d h=%d l=%d c=%d v=%d n=%d' % ((symbol,) + tuple(bar))


def symbol_key(data):
    return data.split()[0]  # bytes keys are hashed the same in every process


def processing_reply(data, out):
    out.emit(data)


def start_feeds(count, trades):
    """Forks the feed processes, each blocked until go() is called; returns
    (read ends for the flow, go)."""
    go_r, go_w = os.pipe()
    pipes = [os.pipe() for _ in range(count)]
    for i, (r, w) in enumerate(pipes):
        if os.fork() == 0:
            try:
                os.close(go_w)
                for other_r, other_w in pipes:
                    os.close(other_r)
                    if other_w != w:
                        os.close(other_w)
                os.read(go_r, 1)  # wait until a client is there
                feed(w, i, trades)
            finally:
                os._exit(0)
    for r, w in pipes:
        os.close(w)  # the flow must see EOF when the feeds end
    os.close(go_r)

    def go():  # a byte per feed (the flow's processes hold go_w too: no EOF)
        os.write(go_w, b'g' * count)
        os.close(go_w)
    return [r for r, w in pipes], go


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--feeds', type=int, default=3)
    parser.add_argument('--trades', type=int, default=40, help='trades per feed')
    args = parser.parse_args(argv)
    import mutil
    read_ends, go = start_feeds(args.feeds, args.trades)
    flow = mutil.Flow('market activity')
    flow.add_fd_source('trades', read_ends)
    flow.add_worker('bars', bar_creator, n=2, startup=bar_startup, teardown=bar_teardown)
    flow.set_link('bars', mutil.Link.KEYED, key=symbol_key)
    flow.add_edge('bars out', from_internal=processing_reply)
    with flow:
        flow.start()
        client = socket.create_connection(('127.0.0.1', flow.edge_port('bars out')), timeout=30)
        go()
        bars, buf = [], b''
        while True:  # the edge closes its clients when the flow ends
            chunk = client.recv(65536)
            if not chunk:
                break
            buf += chunk
            while len(buf) >= 4 and len(buf) >= 4 + struct.unpack_from('<I', buf)[0]:
                n = struct.unpack_from('<I', buf)[0]
                bars.append(buf[4:4 + n])
                buf = buf[4 + n:]
        client.close()
        flow.wait(30)
    for _ in range(args.feeds):
        os.wait()
    for bar in sorted(bars):
        print(bar.decode())
    volume = sum(int(b.split(b'v=')[1].split()[0]) for b in bars)
    trades = sum(int(b.split(b'n=')[1]) for b in bars)
    expected = sum(1 + i % 5 for i in range(args.trades)) * args.feeds
    ok = volume == expected and trades == args.feeds * args.trades
    print('%d bars, %d trades, volume %d (expected %d): %s'
          % (len(bars), trades, volume, expected, 'ok' if ok else 'FAILED'))
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
