#!/bin/sh
# SPDX-License-Identifier: MPL-2.0
# Copyright (c) 2026 the mutil authors
# test_readme_tables.sh — TAP tests that README.md's performance tables are
# exactly what tools/bench_tables.py makes of the saved runs in doc/bench/:
# every saved output still parses (no broken JSON line, each .out and .txt
# gives results), every <!-- bench:NAME --> block is filled by them, and no
# block differs. After a new run: save its output in doc/bench/ (replacing
# the bench's older files) and run `make bench-tables`.
#
# Environment: top_srcdir.
set -u

. "${top_srcdir:-.}/tests/lib/tap.sh"
tap_timeout 120 "$0" "$@"
tap_begin readme-tables

PY=/usr/bin/python3
[ -x "$PY" ] || PY=${PYTHON3:-python3}
GEN="${top_srcdir:-.}/tools/bench_tables.py"
README="${top_srcdir:-.}/README.md"
DIR="${top_srcdir:-.}/doc/bench"

# diag TEXT: TEXT as TAP comment lines.
diag() { printf '%s\n' "$1" | sed 's/^/# /'; }

bad=""
n=0
for f in "$DIR"/*.out "$DIR"/*.txt; do
    [ -f "$f" ] || continue
    n=$((n + 1))
    "$PY" "$GEN" --print --complete "$f" >"$tmp/out" 2>"$tmp/err" || bad="$bad $(basename "$f")"
done
if [ "$n" -gt 0 ] && [ -z "$bad" ]; then
    ok "each of the $n saved outputs in doc/bench/ parses and gives results"
else
    diag "saved outputs: $n; failing:$bad"
    not_ok "each saved output in doc/bench/ parses and gives results"
fi

rc=0
"$PY" "$GEN" --check --complete --readme "$README" "$DIR"/* >"$tmp/out" 2>"$tmp/err" || rc=$?
if [ $rc = 0 ]; then
    ok "README.md's bench blocks are exactly the generator's tables of doc/bench/"
else
    diag "$(cat "$tmp/out" "$tmp/err")"
    diag "regenerate: make bench-tables (tools/bench_tables.py --readme README.md doc/bench/*)"
    not_ok "README.md's bench blocks are exactly the generator's tables of doc/bench/"
fi

# Every table under "## Performance" is a generated block: no hand-written
# table rows outside the markers.
awk '/^## Performance/ { p = 1; next } /^## / { p = 0 }
     p && /^<!-- bench:/ { g = 1 } p && /^<!-- \/bench:/ { g = 0 }
     p && !g && /^\|/ { print NR ": " $0 }' "$README" >"$tmp/loose"
if [ ! -s "$tmp/loose" ]; then
    ok "every table in README.md's Performance section is generated"
else
    diag "$(head -n 5 "$tmp/loose")"
    not_ok "every table in README.md's Performance section is generated"
fi

tap_end
