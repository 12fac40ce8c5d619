#!/bin/sh
# SPDX-License-Identifier: MPL-2.0
# Copyright (c) 2026 the mutil authors
# flow_hosts_worker.sh — an external-command worker in POSIX shell for
# tests/tool/test_flow_hosts.sh: reads mu_pipe frames (4-byte little-endian
# length, then the bytes; text without NUL bytes here) on stdin and, for
# each, writes "TEXT:sh-$TEST_HOST" (the test sets it per host) and the empty "done" frame. dd reads
# one byte at a time, so it never takes more of stdin than the frame.
set -u

# le32 N: the 4 bytes of N, little-endian.
le32() {
    # shellcheck disable=SC2059 # the format is the escaped bytes
    printf "$(printf '\\%03o\\%03o\\%03o\\%03o' $(($1 & 255)) $(($1 >> 8 & 255)) \
        $(($1 >> 16 & 255)) $(($1 >> 24 & 255)))"
}

while :; do
    set -- $(dd bs=1 count=4 2>/dev/null | od -An -tu1)
    [ $# -eq 4 ] || exit 0
    len=$(($1 + 256 * $2 + 65536 * $3 + 16777216 * $4))
    data=$(dd bs=1 count="$len" 2>/dev/null)
    out="$data:sh-${TEST_HOST:--}"
    le32 "${#out}"
    printf '%s' "$out"
    le32 0
done
