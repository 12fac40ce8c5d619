#!/bin/sh
# SPDX-License-Identifier: MPL-2.0
# Copyright (c) 2026 the mutil authors
# test_rate_cli.sh — TAP tests of `mutil frame encode -r N` (mu_ratelimit in
# the tool): frames paced at N per second arrive intact and not faster,
# the first one at once, and every usage error of -r.
#
# Environment: top_builddir (the tool is "$top_builddir/mutil"), top_srcdir.
set -u

top_builddir=${top_builddir:-.}
MUTIL="$top_builddir/mutil"
. "${top_srcdir:-.}/tests/lib/tap.sh"
tap_timeout 120 "$0" "$@"
tap_begin mutil-rate-cli

now_ms() { echo $(($(date +%s%N) / 1000000)); }

printf 'a\nbb\n\nccc\nd\n' >"$tmp/records"

# 5 frames at 20 per second, no burst: 4 waits of 50 ms, at least 200 ms.
t0=$(now_ms)
"$MUTIL" frame encode -r 20 "$tmp/records" | "$MUTIL" frame decode >"$tmp/out" 2>"$tmp/err"
rc=$?
took=$(($(now_ms) - t0))
check "paced frames decode to the same records" eval 'status_is 0 && cmp -s "$tmp/records" "$tmp/out"'
check "5 frames at -r 20 take at least 200 ms (took $took ms)" [ "$took" -ge 195 ]
check "and not far more (took $took ms)" [ "$took" -lt $((1000 * $(tap_seconds 20))) ]

# One frame at 1 per second: the first token is there from the start.
printf 'only\n' >"$tmp/one"
t0=$(now_ms)
"$MUTIL" frame encode -r 1 "$tmp/one" "$tmp/one.frames"
rc=$?
took=$(($(now_ms) - t0))
check "one frame at -r 1 goes out and the command ends (took $took ms)" eval 'status_is 0 && [ "$took" -lt $((1000 * $(tap_seconds 5))) ]'
run frame decode "$tmp/one.frames"
check "and decodes" eval 'status_is 0 && [ "$(cat "$tmp/out")" = only ]'

run frame encode -r 0
check "-r 0 is a usage error" eval 'status_is 2 && err_has "-r must be a number of frames per second from 1 to 1000000, not '"'0'"'"'
run frame encode -r 1000001
check "-r above 1000000 is a usage error" eval 'status_is 2 && err_has "not '"'1000001'"'"'
run frame encode -r 5K
check "-r with a size suffix is a usage error" eval 'status_is 2 && err_has "not '"'5K'"'"'
run frame encode -r
check "-r without a value is a usage error" eval 'status_is 2 && err_has "option -r needs a value"'
run frame decode -r 5
check "decode has no -r" eval "status_is 2 && err_has \"unknown option '-r'\""
run help frame encode
check "help frame encode documents -r" eval 'status_is 0 && grep -q -e "-r N" "$tmp/out"'

tap_end
