#!/usr/bin/python3
# SPDX-License-Identifier: MPL-2.0
# Copyright (c) 2026 the mutil authors
"""client_seeds.py — writes the seed corpus of fuzz_client (the input format
is described at the top of tests/fuzz/fuzz_client.c).

    /usr/bin/python3 tests/fuzz/client_seeds.py tests/fuzz/corpus/fuzz_client
"""
import os
import struct
import sys

WELCOME, PONG, REP, ERR, PUSH, SSTREAM, SSTREAM_END, GOODBYE = range(0x21, 0x29)
GET_INFO, GET_DATA, GET_END, PUT_READY, PUT_CREDIT, PUT_DONE = range(0x50, 0x56)
RESUME, FIX, BLAKE, EXISTS = 1, 2, 4, 8
XXH3_128, BLAKE2B = 2, 1
PREFIX = b"PREFIX-0123"
EPIPE, EPROTO, ENOENT, ECANCELED = -32, -71, -2, -125
SEP = b"\xff\xff"  # the next phase: download, upload, request, stream


def frame(kind, ident=0, payload=b"", version=2):
    return bytes([version, kind]) + struct.pack("<Q", ident) + payload


def record(data, more=False):
    return struct.pack("<H", len(data) | (0x8000 if more else 0)) + data


def seed(flags, *phases):
    """phases: lists of frames (or of (frame, more) pairs)."""
    out = bytes([flags])
    for i, phase in enumerate(phases):
        if i:
            out += SEP
        for f in phase:
            out += record(*f) if isinstance(f, tuple) else record(f)
    return out


def info(ident, size, window=4, alg=XXH3_128):
    return frame(GET_INFO, ident, struct.pack("<QIB", size, window, alg))


def data(ident, offset, payload):
    return frame(GET_DATA, ident, struct.pack("<Q", offset) + payload)


def end(ident, length=16, fill=0):
    return frame(GET_END, ident, bytes([fill]) * length)


def err(ident, code, text=b"no"):
    return frame(ERR, ident, struct.pack("<i", code) + text)


def u32(kind, ident, value):
    return frame(kind, ident, struct.pack("<I", value))


def download(content, chunk=64, ident=0, offset=0, alg=XXH3_128):
    frames = [info(ident, offset + len(content), 4, alg)]
    for at in range(0, len(content), chunk):
        frames.append(data(ident, offset + at, content[at:at + chunk]))
    frames.append(end(ident, 32 if alg == BLAKE2B else 16))
    return frames


UPLOAD_OK = [u32(PUT_READY, 0, 8), frame(PUT_DONE, 0)]
REQUEST_OK = [frame(REP, 0, b"reply")]
STREAMS = [frame(PUSH, 0, b"push"), frame(SSTREAM, 9, b"s"), frame(SSTREAM_END, 9, b"e")]

SEEDS = {
    "all_ok": seed(FIX, download(b"hello world" * 20), UPLOAD_OK, REQUEST_OK, STREAMS),
    "resume_ok": seed(RESUME | FIX, download(b"abcdef", offset=len(PREFIX)), UPLOAD_OK),
    "blake2b_ok": seed(BLAKE | FIX, download(b"x" * 130, alg=BLAKE2B), UPLOAD_OK),
    "exists_wrong_digest": seed(EXISTS, download(b"new bytes")),
    "resume_below_prefix": seed(RESUME, [info(0, 3), data(0, 0, b"XY"), end(0)]),
    "sizes_absurd": seed(FIX, [info(0, 2**64 - 1), data(0, 0, b"a" * 64), data(0, 2**63, b"b"),
                               info(0, 5)]),
    "info_twice": seed(FIX, [info(0, 10), data(0, 0, b"hello"), info(0, 5), end(0)]),
    "chunks_dup_ooo": seed(FIX, [info(0, 8), data(0, 4, b"efgh"), data(0, 0, b"abcd"),
                                 data(0, 0, b"abcd")]),
    "end_without_data": seed(FIX, [info(0, 4), end(0), end(0, 32)]),
    "hello_first_reopen": seed(FIX, [err(0, EPROTO, b"hello first"), info(1, 3),
                                     data(1, 0, b"abc"), end(1)],
                               [err(0, EPROTO, b"hello first"), u32(PUT_READY, 1, 0)]),
    "error_codes": seed(0, [err(0, EPIPE), err(1, -99999)], [err(0, EPIPE)],
                        [err(0, -99999, b"")], [err(0, ENOENT)]),
    "request_err_epipe": seed(0, [], [], [err(0, EPIPE)]),
    "credit_absurd": seed(0, [], [u32(PUT_READY, 0, 0xffffffff), u32(PUT_CREDIT, 0, 0xffffffff),
                                  frame(PUT_DONE, 0)]),
    "credit_zero": seed(0, [], [u32(PUT_READY, 0, 0), u32(PUT_CREDIT, 0, 0), frame(PUT_DONE, 0),
                                frame(PUT_CREDIT, 0, b"\1")]),
    "wrong_kinds": seed(0, [u32(PUT_READY, 0, 1), frame(GET_DATA, 0)],
                        [info(0, 3)], [frame(PUT_DONE, 0), frame(REP, 5, b"stale"),
                                       frame(REP, 0, b"ok"), frame(REP, 0, b"dup")]),
    "malformed": seed(0, [b"", b"\x02", frame(GET_INFO, 0, version=1),
                          (frame(GET_INFO, 0, b"x" * 13), True), frame(GET_END, 0),
                          frame(0x7f, 0), frame(WELCOME, 0, b"short"), frame(GOODBYE),
                          frame(PONG, 3), err(0, 5), frame(ERR, 0, b"\xff")]),
    "push_flood": seed(0, [], [], [], [frame(PUSH, 0, bytes([i]) * 20) for i in range(150)]
                       + [frame(SSTREAM, 2**64 - 1, b"never opened")]),
}


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "tests/fuzz/corpus/fuzz_client"
    os.makedirs(out, exist_ok=True)
    for name, content in sorted(SEEDS.items()):
        with open(os.path.join(out, name), "wb") as f:
            f.write(content)


if __name__ == "__main__":
    main()
