#!/bin/sh
# SPDX-License-Identifier: MPL-2.0
# Copyright (c) 2026 the mutil authors
# test_bench_tables.sh — TAP tests of tools/bench_tables.py on a saved
# benchmark output (tests/tool/bench_sample.out): the tables it prints, the
# README blocks it replaces (and nothing else), --check, --complete, and its
# errors; bench/lru's CPU-time lines, one bench's case against several
# baselines, `mutil flow demo`'s text and --json output (run here) and
# bench/flow_demo's lines (ours against the raw glue).
#
# Environment: top_srcdir, top_builddir (the tool is "$top_builddir/mutil").
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
    && has '| `rtt-64B-curve` | 80.1 µs | raw-dealer-router: 60.0 µs | 1.34 | ≤ 1.25 ×: **missed** |' \
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
if [ $rc = 2 ] && grep -q 'no benchmark results' "$tmp/err"; then
    ok "an output without JSON lines: exit 2"
else
    not_ok "an output without JSON lines: exit 2"
fi

rc=0
"$PY" "$GEN" --print "$tmp/missing.out" >"$tmp/out" 2>"$tmp/err" || rc=$?
if [ $rc = 2 ] && grep -q 'cannot read' "$tmp/err"; then ok "a missing output file: exit 2"; else not_ok "a missing output file: exit 2"; fi

# bench/lru: the stderr "cpu time" line of older runs and the JSON line of
# newer ones give the same row, right after the case's wall-clock row.
cat >"$tmp/lru.out" <<'OUT'
{"bench":"lru","case":"hot-10k-mem","unit":"op/s","value":3.1e7,"baseline":"plain-lru","baseline_value":1.2e8,"ratio":0.26,"bar":">= 30 M op/s","status":"ok"}
{"bench":"lru","case":"rand-1M-mem","unit":"op/s","value":9e6,"baseline":"plain-lru","baseline_value":2.5e7,"ratio":0.36,"bar":">= 10 M op/s","status":"MISS"}
OUT
cat >"$tmp/lru.err" <<'OUT'
# hot-10k-mem      N=1/1  hits 1 of 1 keys  median 3.1e+07 vs 1.2e+08 op/s
# hot-10k-mem      cpu time: median 3.54e+07 vs 1.27e+08 op/s per CPU second, ratio 0.28
OUT
printf '%s\n' '{"bench":"lru","case":"rand-1M-mem-cpu","unit":"op/cpu-s","value":9.2e6,"baseline":"plain-lru-cpu","baseline_value":2.47e7,"ratio":0.37,"bar":">= 10 M op/cpu-s","status":"MISS"}' >"$tmp/lru2.out"
rc=0
"$PY" "$GEN" --print "$tmp/lru.out" "$tmp/lru.err" "$tmp/lru2.out" >"$tmp/out" 2>"$tmp/err" || rc=$?
if [ $rc = 0 ] && [ "$(grep -c '^| `' "$tmp/out")" = 4 ] \
    && [ "$(grep '^| `' "$tmp/out" | cut -d'`' -f2 | tr '\n' ' ')" = 'hot-10k-mem hot-10k-mem-cpu rand-1M-mem rand-1M-mem-cpu ' ] \
    && has '| `hot-10k-mem-cpu` | 35.4 M op/CPU s | plain-lru-cpu: 127 M op/CPU s | 0.28 |  |' \
    && has '| `rand-1M-mem-cpu` | 9.20 M op/CPU s | plain-lru-cpu: 24.7 M op/CPU s | 0.37 | ≥ 10 M op/cpu-s: **missed** |'; then
    ok "bench/lru: CPU-time lines (stderr text or JSON) after their case"
else
    not_ok "bench/lru: CPU-time lines (stderr text or JSON) after their case"
fi

# bench/lru prints some cases both ways (the stderr line and a JSON line
# with its own baseline): one row, the JSON's.
printf '%s\n' '{"bench":"lru","case":"x-vs-mem","unit":"op/s","value":1e7,"baseline":"in-memory-hits-only","baseline_value":1e7,"ratio":1.0}' \
    '{"bench":"lru","case":"x-vs-mem-cpu","unit":"op/cpu-s","value":1e7,"baseline":"in-memory-hits-only-cpu","baseline_value":1e7,"ratio":1.0}' >"$tmp/lru3.out"
printf '%s\n' '# x-vs-mem cpu time: median 1e+07 vs 1e+07 op/s per CPU second, ratio 1.0' >"$tmp/lru3.err"
rc=0
"$PY" "$GEN" --print "$tmp/lru3.out" "$tmp/lru3.err" >"$tmp/out" 2>"$tmp/err" || rc=$?
ok_before=$rc$(grep -c '^| `x-vs-mem-cpu`' "$tmp/out")
# the same with the stderr line after a JSON line of the same baseline
printf '%s\n' '{"bench":"lru","case":"y-cpu","unit":"op/cpu-s","value":2e7,"baseline":"plain-lru-cpu","baseline_value":1e8,"ratio":0.2,"bar":">= 30 M op/cpu-s","status":"MISS"}' >"$tmp/lru4.out"
printf '%s\n' '# y cpu time: median 2e+07 vs 1e+08 op/s per CPU second, ratio 0.2' >"$tmp/lru4.err"
"$PY" "$GEN" --print "$tmp/lru3.out" "$tmp/lru3.err" "$tmp/lru4.out" "$tmp/lru4.err" >"$tmp/out" 2>"$tmp/err" || rc=$?
if [ "$ok_before" = 01 ] && [ $rc = 0 ] && [ "$(grep -c '^| `x-vs-mem-cpu`' "$tmp/out")" = 1 ] \
    && has '| `x-vs-mem-cpu` | 10.0 M op/CPU s | in-memory-hits-only-cpu: 10.0 M op/CPU s | 1.00 |  |' \
    && [ "$(grep -c '^| `y-cpu`' "$tmp/out")" = 1 ] \
    && has '| `y-cpu` | 20.0 M op/CPU s | plain-lru-cpu: 100 M op/CPU s | 0.20 | ≥ 30 M op/cpu-s: **missed** |'; then
    ok "bench/lru: a case printed both ways is one row"
else
    not_ok "bench/lru: a case printed both ways is one row"
fi

# bench/pipe reports one case against two baselines: both rows stay; a
# later output replaces a (case, baseline) row in place.
cat >"$tmp/pipe.out" <<'OUT'
{"bench":"pipe","case":"fd-64B","unit":"msg/s","value":1e7,"baseline":"raw-write-read","baseline_value":4e7,"ratio":0.25}
{"bench":"pipe","case":"fd-64B","unit":"msg/s","value":1e7,"baseline":"raw-write-per-frame","baseline_value":1e6,"ratio":10}
OUT
printf '%s\n' '{"bench":"pipe","case":"fd-64B","unit":"msg/s","value":2e7,"baseline":"raw-write-read","baseline_value":4e7,"ratio":0.5}' >"$tmp/pipe2.out"
rc=0
"$PY" "$GEN" --print "$tmp/pipe.out" "$tmp/pipe2.out" >"$tmp/out" 2>"$tmp/err" || rc=$?
if [ $rc = 0 ] && [ "$(grep -c '^| `fd-64B`' "$tmp/out")" = 2 ] \
    && [ "$(grep '^| `fd-64B`' "$tmp/out" | head -n 1)" = '| `fd-64B` | 20.0 M msg/s | raw-write-read: 40.0 M msg/s | 0.50 |  |' ] \
    && has '| `fd-64B` | 10.0 M msg/s | raw-write-per-frame: 1.00 M msg/s | 10.00 |  |'; then
    ok "one case against two baselines: two rows, replaced per baseline"
else
    not_ok "one case against two baselines: two rows, replaced per baseline"
fi

# `mutil flow demo`: its text summary and its --json line make the same
# rows, one per run; the paced runs carry the p99 bar.
MUTIL="${top_builddir:-.}/mutil"
if [ -x "$MUTIL" ]; then
    rc=0
    timeout "$(tap_seconds 120)" "$MUTIL" flow demo --workers 2 --count 3000 >"$tmp/flood.txt" 2>&1 || rc=$?
    timeout "$(tap_seconds 120)" "$MUTIL" flow demo --workers 2 --count 3000 --rate 10000 --json >"$tmp/paced.txt" 2>&1 || rc=$?
    "$PY" "$GEN" --print "$tmp/flood.txt" "$tmp/paced.txt" >"$tmp/out" 2>"$tmp/err" || rc=$?
    if [ $rc = 0 ] && grep -q '^{"bench":"flow_demo","case":"paced",.*"received":3000,"count":3000,' "$tmp/paced.txt" \
        && ! grep -q '^paced at' "$tmp/paced.txt" \
        && grep -q '^| 1 | flood, 2,000 in flight | 3,000 of 3,000 | [0-9.]* [kM]* *msg/s | [0-9.]* [µm]s | ' "$tmp/out" \
        && grep -q '^| 2 | paced at 10,000/s | 3,000 of 3,000 | [0-9.]* k msg/s | .* | p99 ≤ 2 ms\( at the rate\)\?: \(met\|\*\*missed\*\*\) |$' "$tmp/out"; then
        ok "mutil flow demo: text and --json runs, one row each"
    else
        not_ok "mutil flow demo: text and --json runs, one row each"
    fi
else
    skip "mutil flow demo: text and --json runs, one row each" "no $MUTIL"
fi

# bench/flow_demo: two rows per case (ours, the raw glue), the ratios on
# ours' row, each design's verdict on the paced bar, the CPU split by role
# when the line has it.
cat >"$tmp/demoraw.out" <<'OUT'
{"bench":"flow_demo_raw","case":"flood","unit":"msg/s","value":1.48e6,"baseline":"raw-zmq-glue","baseline_value":1.036e6,"ratio":1.43,"msg_s":1.48e6,"p50_us":1164,"p99_us":7228,"p999_us":7677,"cpu_us_per_msg":1.201,"baseline_msg_s":1.036e6,"baseline_p50_us":1145,"baseline_p99_us":6.844e4,"baseline_p999_us":6.927e4,"baseline_cpu_us_per_msg":1.079,"cpu_ratio":1.11,"count":100000,"workers":2,"parts":1,"reps":2,"failed":0,"baseline_failed":0,"in_flight":2000}
{"bench":"flow_demo_raw","case":"paced","unit":"us","value":6829,"baseline":"raw-zmq-glue","baseline_value":1332,"ratio":5.77,"msg_s":7.376e5,"p50_us":487.5,"p99_us":6829,"p999_us":8174,"cpu_us_per_msg":2.171,"baseline_msg_s":7.369e5,"baseline_p50_us":383.9,"baseline_p99_us":1332,"baseline_p999_us":1767,"baseline_cpu_us_per_msg":1.773,"baseline_cpu_in_us":0.3,"baseline_cpu_work_us":0.75,"baseline_cpu_out_us":0.456,"cpu_ratio":1.23,"count":100000,"workers":2,"parts":1,"reps":2,"failed":0,"baseline_failed":0,"rate":740000,"bar":"p99 <= 2 ms at the rate","status":"MISS","baseline_status":"ok"}
OUT
rc=0
"$PY" "$GEN" --print "$tmp/demoraw.out" >"$tmp/out" 2>"$tmp/err" || rc=$?
if [ $rc = 0 ] && [ "$(grep -c '^| `' "$tmp/out")" = 4 ] \
    && has '| `flood` | mutil | 0 of 2 | 1.48 M msg/s | 1.16 ms | 7.23 ms | 7.68 ms | 1.20 µs | msg/s 1.43, CPU 1.11 |  |' \
    && has '| `flood` | raw-zmq-glue | 0 of 2 | 1.04 M msg/s | 1.15 ms | 68.4 ms | 69.3 ms | 1.08 µs |  |  |' \
    && has '| `paced` at 740,000/s | mutil | 0 of 2 | 738 k msg/s | 488 µs | 6.83 ms | 8.17 ms | 2.17 µs | p99 5.77, CPU 1.23 | p99 ≤ 2 ms at the rate: **missed** |' \
    && has '| `paced` at 740,000/s | raw-zmq-glue | 0 of 2 | 737 k msg/s | 384 µs | 1.33 ms | 1.77 ms | 1.77 µs (in 0.300, workers 0.750, out 0.456) |  | p99 ≤ 2 ms at the rate: met |'; then
    ok "bench/flow_demo: ours and the raw glue, a row each per case"
else
    not_ok "bench/flow_demo: ours and the raw glue, a row each per case"
fi

# A failed run shows in its design's row and fails the bar, even when the
# line's status (older runs: the survivors' medians) says ok.
cat >"$tmp/demofail.out" <<'OUT'
{"bench":"flow_demo_raw","case":"paced","unit":"us","value":1500,"baseline":"raw-zmq-glue","baseline_value":1332,"ratio":1.13,"msg_s":7.376e5,"p50_us":487.5,"p99_us":1500,"p999_us":1800,"cpu_us_per_msg":2.171,"baseline_msg_s":7.369e5,"baseline_p50_us":383.9,"baseline_p99_us":1332,"baseline_p999_us":1767,"baseline_cpu_us_per_msg":1.773,"cpu_ratio":1.23,"count":100000,"workers":2,"parts":1,"reps":4,"failed":0,"baseline_failed":1,"rate":740000,"bar":"p99 <= 2 ms at the rate","status":"ok","baseline_status":"ok"}
OUT
rc=0
"$PY" "$GEN" --print "$tmp/demofail.out" >"$tmp/out" 2>"$tmp/err" || rc=$?
if [ $rc = 0 ] \
    && has '| `paced` at 740,000/s | mutil | 0 of 4 | 738 k msg/s | 488 µs | 1.50 ms | 1.80 ms | 2.17 µs | p99 1.13, CPU 1.23 | p99 ≤ 2 ms at the rate: met |' \
    && has '| `paced` at 740,000/s | raw-zmq-glue | 1 of 4 | 737 k msg/s | 384 µs | 1.33 ms | 1.77 ms | 1.77 µs |  | p99 ≤ 2 ms at the rate: **missed** |'; then
    ok "bench/flow_demo: failed runs shown per design, and they miss the bar"
else
    sed 's/^/# /' "$tmp/out" "$tmp/err"
    not_ok "bench/flow_demo: failed runs shown per design, and they miss the bar"
fi

# --complete: every README block filled, and no broken JSON line.
printf '<!-- bench:conn -->\n<!-- /bench:conn -->\n<!-- bench:socket -->\n<!-- /bench:socket -->\n<!-- bench:lru -->\n<!-- /bench:lru -->\n' >"$tmp/three.md"
grep -v '^{not json' "$SAMPLE" >"$tmp/sample.out"
rc=0
"$PY" "$GEN" --check --complete --readme "$tmp/three.md" "$tmp/sample.out" >"$tmp/out" 2>"$tmp/err" || rc=$?
if [ $rc = 2 ] && grep -q "no output fills the README's block(s): lru" "$tmp/err"; then
    ok "--complete: a README block no output fills is an error"
else
    not_ok "--complete: a README block no output fills is an error"
fi
rc=0
"$PY" "$GEN" --print --complete "$SAMPLE" >"$tmp/out" 2>"$tmp/err" || rc=$?
if [ $rc = 2 ] && grep -q 'bench_sample.out:[0-9]*: not JSON$' "$tmp/err"; then
    ok "--complete: a broken JSON line is an error"
else
    not_ok "--complete: a broken JSON line is an error"
fi

tap_end
