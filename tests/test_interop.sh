#!/bin/sh
# SPDX-License-Identifier: MPL-2.0
# Copyright (c) 2026 the mutil authors
# A Python 3 program using only its standard library exchanges little-endian
# length-prefixed JSON frames with a C program built on mu_pipe.
. "${top_srcdir:-.}/tests/lib/tap.sh"
tap_timeout 120 "$0" "$@"
if [ -z "$PYTHON3" ]; then
    echo "not ok 1 - python3 is required for this test (apt-get install python3)"
    echo "1..1"
    exit 1
fi
exec "$PYTHON3" "$top_srcdir/tests/lib/json_peer.py" "$top_builddir/tests/lib/pipe_peer"
