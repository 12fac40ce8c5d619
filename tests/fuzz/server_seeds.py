#!/usr/bin/python3
# SPDX-License-Identifier: MPL-2.0
# Copyright (c) 2026 the mutil authors
"""server_seeds.py — writes the seed corpus of fuzz_server (the input format
is described at the top of tests/fuzz/fuzz_server.c).

    /usr/bin/python3 tests/fuzz/server_seeds.py tests/fuzz/corpus/fuzz_server
"""
import hashlib
import os
import struct
import sys

HELLO, BYE, PING, REQ, MSG, STREAM, STREAM_END = 1, 2, 3, 4, 5, 6, 7
GET_OPEN, GET_CREDIT, CANCEL, PUT_OPEN, PUT_DATA, PUT_END = 0x40, 0x41, 0x42, 0x43, 0x44, 0x45
WALK, FIX_DIGESTS = 1, 2


def frame(kind, ident=0, payload=b"", version=2):
    return bytes([version, kind]) + struct.pack("<Q", ident) + payload


def record(data, more=False):
    return struct.pack("<H", len(data) | (0x8000 if more else 0)) + data


def seed(flags, *frames):
    return bytes([flags]) + b"".join(record(f) for f in frames)


XXH3_128, BLAKE2B = 2, 1  # transfer digest algorithm ids (doc/wire.md)


def get_open(ident, path, offset=0, chunk=65536, window=8, alg=XXH3_128):
    return frame(GET_OPEN, ident, struct.pack("<QIIB", offset, chunk, window, alg) + path)


def put_open(ident, path, size, chunk=8, window=4, flags=0):
    # BLAKE2b: the harness fixes 32-byte PUT_END digests (FIX_DIGESTS)
    return frame(PUT_OPEN, ident, struct.pack("<QIIIB", size, chunk, window, flags, BLAKE2B) + path)


def put(ident, path, content, chunk=8, flags=0, digest=None):
    """A whole upload: open, the chunks, the end with the digest."""
    frames = [put_open(ident, path, len(content), chunk, 4, flags)]
    for offset in range(0, len(content), chunk):
        frames.append(frame(PUT_DATA, ident,
                            struct.pack("<Q", offset) + content[offset:offset + chunk]))
    if digest is None:
        digest = hashlib.blake2b(content, digest_size=32).digest()
    frames.append(frame(PUT_END, ident, digest))
    return frames


SEEDS = {
    "get_small": seed(0, get_open(1, b"small.txt")),
    "get_big_credit": seed(0, get_open(2, b"big.bin", window=2),
                           frame(GET_CREDIT, 2, struct.pack("<I", 4)),
                           frame(GET_CREDIT, 2, struct.pack("<I", 4))),
    "get_resume_cancel": seed(0, get_open(3, b"big.bin", offset=100000, chunk=4096, window=4),
                              frame(CANCEL, 3)),
    "get_walk_paths": seed(WALK, get_open(1, b"sub/inner.txt"), get_open(2, b"link_sub/inner.txt"),
                           get_open(3, b"./sub/./deeper/"), get_open(4, b"sub//link_up"),
                           get_open(5, b"empty")),
    "get_escapes": seed(0, get_open(1, b"link_out"), get_open(2, b"link_outdir/secret"),
                        get_open(3, b"link_abs"), get_open(4, b"/etc/passwd"),
                        get_open(5, b"../outside.txt"), get_open(6, b"fifo"),
                        get_open(7, b"link_loop"), get_open(8, b"sub/../../outside.txt")),
    "put_new": seed(FIX_DIGESTS, *put(9, b"new.txt", b"hello, world\n")),
    "put_overwrite_walk": seed(WALK | FIX_DIGESTS,
                               *put(10, b"sub/inner.txt", b"replaced", flags=1)),
    "put_left_open": seed(0, put_open(11, b"sub/partial.txt", 100),
                          frame(PUT_DATA, 11, struct.pack("<Q", 0) + b"12345678")),
    "put_escapes": seed(FIX_DIGESTS, *(put(12, b"link_out", b"x", flags=1)
                                       + put(13, b"link_dangling", b"x", flags=1)
                                       + put(14, b"link_outdir/x", b"x", flags=1)
                                       + put(15, b"sub/link_up", b"link", flags=1)
                                       + put(16, b"fifo", b"fifo", flags=1))),
    "put_part_name": seed(FIX_DIGESTS, *put(20, b"x.part-abcdef", b"not sent"),
                          get_open(21, b"small.part-x")),
    "put_bad_digest": seed(0, *put(17, b"bad.txt", b"some bytes", digest=bytes(32))),
    "put_out_of_place": seed(0, put_open(18, b"oop.txt", 16),
                             frame(PUT_DATA, 18, struct.pack("<Q", 8) + b"abcdefgh"),
                             frame(PUT_END, 18, bytes(32))),
    "ids_reused": seed(0, put_open(19, b"a.txt", 4), get_open(19, b"small.txt"),
                       frame(CANCEL, 19), get_open(19, b"small.txt", chunk=0),
                       frame(GET_CREDIT, 19, b"\x01")),
    "malformed": seed(0, b"\x02\x40", frame(PING, 5, version=1), frame(0x30, 6),
                      frame(0x47, 7), frame(BYE, 0, b"payload"),
                      b"") + record(frame(REQ, 8, b"first"), more=True)
                 + record(frame(REQ, 8, b"second")),
    "core_kinds": seed(0, frame(REQ, 1, b"request"), frame(MSG, 0, b"message"),
                       frame(STREAM, 2, b"chunk"), frame(STREAM_END, 2), frame(PING, 3),
                       frame(HELLO, 0, b"again"), frame(BYE), frame(REQ, 4, b"gone"),
                       frame(HELLO, 0, b"back"), get_open(5, b"small.txt")),
}


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "."
    os.makedirs(out, exist_ok=True)
    for name, data in sorted(SEEDS.items()):
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)


main()
