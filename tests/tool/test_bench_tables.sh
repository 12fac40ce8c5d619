#!/bin/sh
# SPDX-License-Identifier: MPL-2.0
# Copyright (c) 2026 the mutil authors
# test_bench_tables.sh — TAP tests of tools/bench_tables.py on a saved
# benchmark output (tests/tool/bench_sample.out): the tables it prints, the
# README blocks it replaces (and nothing else), --check, and its errors.
#
# Environment: top_srcdir.
set -u

. "${top_srcdir:-.}/tests/lib/tap.sh"
tap_timeout 120 "$0" "$@"
tap_begin bench-tables

PY=/usr/bin/python3
[ -x "$PY" ] || PY=${PYTHON3:-python3}
GEN="${top_srcdir:-.}/tools/bench_tables.py"
SAMPLE="${top_srcdir:-.}/tests/tool/bench_sample.out"

# has PATTERN: the last output holds the fixed string PATTERN.
has() { grep -F -q -- "$1" "$tmp/out"; }

rc=0
"$PY" "$GEN" --print "$SAMPLE" >"$tmp/out" 2>"$tmp/err" || rc=$?
if [ $rc = 0 ] \
    && has '| `rtt-64B-null` | 21.8 µs | raw-dealer-router: 19.0 µs | 1.16 | ≤ 1.25 ×: met |' \
    && has '| `rtt-64B-curve` | 80.1 µs | raw-dealer-router: 60.0 µs | 1.33 | ≤ 1.25 ×: **missed** |' \
    && has '| `stream-1KiB-null` | 602 k msg/s | raw-dealer-router: 703 k msg/s | 0.86 | ≥ 0.85 ×: met |' \
    && has '| `file-256MiB-null` | 1.11 GB/s | raw-zmq-stream: 875 MB/s | 1.25 | ≥ 0.80 ×: met |' \
    && has '| `handshake-curve` | 810 /s | raw-curve-connect: 905 /s | – |  |' \
    && has '- `stream-1KiB-curve-nng`: skipped — built without nng' \
    && has '| `publish-64B-nng` | 1.83 M msg/s | nng-pub-4-sub: 89.0 k msg/s | 20.30 |  |' \
    && has '- `publish-64B-nng`: nng PUB lost a median 80.3 %' \
    && has '<!-- bench:socket -->' && grep -q 'not JSON, ignored' "$tmp/err"; then
    ok "--print: one table per bench, figures, bars, skip and note lines"
else
    not_ok "--print: one table per bench, figures, bars, skip and note lines"
fi

cat >"$tmp/README.md" <<'MD'
# title

before
<!-- bench:conn -->
| stale | table |
<!-- /bench:conn -->
between
<!-- bench:socket -->
<!-- /bench:socket -->
<!-- bench:lru -->
kept: no lru lines in the sample
<!-- /bench:lru -->
after
MD
rc=0
"$PY" "$GEN" --check --readme "$tmp/README.md" "$SAMPLE" >"$tmp/out" 2>"$tmp/err" || rc=$?
if [ $rc = 1 ] && has 'differs'; then ok "--check: a stale README exits 1"; else not_ok "--check: a stale README exits 1"; fi

rc=0
"$PY" "$GEN" --readme "$tmp/README.md" "$SAMPLE" >"$tmp/out" 2>"$tmp/err" || rc=$?
cp "$tmp/README.md" "$tmp/out"
if [ $rc = 0 ] && ! has '| stale | table |' && has 'kept: no lru lines in the sample' \
    && has '| `rtt-64B-null` | 21.8 µs' && has '| `publish-64B` | 1.83 M msg/s' \
    && [ "$(sed -n 1,4p "$tmp/README.md")" = "$(printf '# title\n\nbefore\n<!-- bench:conn -->')" ] \
    && grep -q '^between$' "$tmp/README.md" && [ "$(tail -n 1 "$tmp/README.md")" = after ]; then
    ok "the blocks of the benches in the output are replaced, the rest is kept"
else
    not_ok "the blocks of the benches in the output are replaced, the rest is kept"
fi

rc=0
"$PY" "$GEN" --check --readme "$tmp/README.md" "$SAMPLE" >"$tmp/out" 2>"$tmp/err" || rc=$?
if [ $rc = 0 ]; then ok "--check after a run: up to date (exit 0)"; else not_ok "--check after a run: up to date (exit 0)"; fi

printf '# no blocks\n' >"$tmp/plain.md"
rc=0
"$PY" "$GEN" --readme "$tmp/plain.md" "$SAMPLE" >"$tmp/out" 2>"$tmp/err" || rc=$?
if [ $rc = 2 ] && grep -q 'has no block <!-- bench:conn -->' "$tmp/err" \
    && [ "$(cat "$tmp/plain.md")" = '# no blocks' ]; then
    ok "a README without the bench's block: exit 2, file untouched"
else
    not_ok "a README without the bench's block: exit 2, file untouched"
fi

printf 'no json here\n' >"$tmp/empty.out"
rc=0
"$PY" "$GEN" --print "$tmp/empty.out" >"$tmp/out" 2>"$tmp/err" || rc=$?
if [ $rc = 2 ] && grep -q 'no benchmark JSON lines' "$tmp/err"; then
    ok "an output without JSON lines: exit 2"
else
    not_ok "an output without JSON lines: exit 2"
fi

rc=0
"$PY" "$GEN" --print "$tmp/missing.out" >"$tmp/out" 2>"$tmp/err" || rc=$?
if [ $rc = 2 ] && grep -q 'cannot read' "$tmp/err"; then ok "a missing output file: exit 2"; else not_ok "a missing output file: exit 2"; fi

tap_end
