#!/bin/bash
# SPDX-License-Identifier: MPL-2.0
# Copyright (c) 2026 the mutil authors
# test_budget_cli.sh — TAP tests of `mutil serve --peer-budget SIZE
# --server-budget SIZE`: the help documents them, bad values are usage
# errors (exit 2) that say what is wrong, and downloads from a server with
# tiny budgets (a window far over them, a chunk larger than both) arrive
# whole.
#
# Environment: top_builddir (the tool is "$top_builddir/mutil"), top_srcdir.
set -u

top_builddir=${top_builddir:-.}
MUTIL="$top_builddir/mutil"
. "${top_srcdir:-.}/tests/lib/tap.sh"
tap_timeout 300 "$0" "$@"
tap_begin mutil-budget-cli

check() {
    if eval "$2"; then ok "$1"; else not_ok "$1"; fi
}

# start_server ARG... : `mutil serve --bind tcp://127.0.0.1:*` as a
# coprocess; its endpoint is its first line of output (read with a
# deadline, no polling); sets $EP.
start_server() {
    coproc SERVER { exec "$MUTIL" serve --bind 'tcp://127.0.0.1:*' "$@" 2>"$tmp/serve.err"; }
    EP=
    read -r -t "$(tap_seconds 20)" EP <&"${SERVER[0]}"
    [ -n "$EP" ]
}

stop_server() {
    if [ -n "${SERVER_PID:-}" ]; then
        kill -INT "$SERVER_PID" 2>/dev/null
        wait "$SERVER_PID" 2>/dev/null
    fi
}
trap 'stop_server; rm -rf "$tmp"' EXIT

mkdir -p "$tmp/root" "$tmp/local"
umask 077
printf 'budget test passphrase\n' >"$tmp/secret"
head -c 3000017 /dev/urandom >"$tmp/root/blob.bin"
KEYS="--secret-file $tmp/secret"
BIND="--bind ipc://$tmp/never-bound"

# ---- help and usage errors ---------------------------------------------------

run serve --help
check "serve --help documents --peer-budget and --server-budget with their defaults" \
    '[ $rc -eq 0 ] && grep -q -e "^  --peer-budget SIZE" "$tmp/out" && grep -q "default 64M" "$tmp/out" \
     && grep -q -e "^  --server-budget SIZE" "$tmp/out" && grep -q "512M" "$tmp/out" \
     && grep -q "waits until its client reads" "$tmp/out"'

run serve $BIND --peer-budget 0 $KEYS
check "--peer-budget 0: exit 2, names the option and the range" \
    '[ $rc -eq 2 ] && err_has "--peer-budget: '"'"'0'"'"' is not a size in 1..1T"'

run serve $BIND --server-budget lots $KEYS
check "--server-budget lots: exit 2" \
    '[ $rc -eq 2 ] && err_has "--server-budget: '"'"'lots'"'"' is not a size"'

run serve $BIND --server-budget 2T $KEYS
check "--server-budget over 1T: exit 2" '[ $rc -eq 2 ] && err_has "not a size in 1..1T"'

run serve $BIND --peer-budget 2M --server-budget 1M $KEYS
check "--peer-budget over --server-budget: exit 2, says so" \
    '[ $rc -eq 2 ] && err_has "--peer-budget (2097152 bytes) is over --server-budget (1048576 bytes)"'

run serve $BIND --peer-budget $KEYS
check "--peer-budget without a value: exit 2" '[ $rc -eq 2 ]'

# ---- tiny budgets: downloads wait for the reader and arrive whole -------------

check "serve with --peer-budget 64K --server-budget 96K starts" \
    'start_server --root "$tmp/root" --peer-budget 64K --server-budget 96K $KEYS'

run get "$EP" blob.bin "$tmp/local/a.bin" --chunk 16K --window 256 --quiet $KEYS
check "a download with a window 64 times the budget arrives intact" \
    '[ $rc -eq 0 ] && cmp -s "$tmp/root/blob.bin" "$tmp/local/a.bin"'

run get "$EP" blob.bin "$tmp/local/b.bin" --chunk 1M --window 8 --quiet $KEYS
check "a download whose chunk is larger than both budgets arrives intact" \
    '[ $rc -eq 0 ] && cmp -s "$tmp/root/blob.bin" "$tmp/local/b.bin"'
stop_server

check "serve with only --server-budget 1M (the peer's default is lowered to it) starts" \
    'start_server --root "$tmp/root" --server-budget 1M $KEYS'
run get "$EP" blob.bin "$tmp/local/c.bin" --quiet $KEYS
check "and serves a download" '[ $rc -eq 0 ] && cmp -s "$tmp/root/blob.bin" "$tmp/local/c.bin"'
stop_server

tap_end
