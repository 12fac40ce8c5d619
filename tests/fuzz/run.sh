#!/bin/sh
# SPDX-License-Identifier: MPL-2.0
# Copyright (c) 2026 the mutil authors
# run.sh — runs libFuzzer targets built by `make fuzz` over their seed corpora.
#
#   run.sh [-t SECONDS] [-s SRCDIR] [TARGET...]
#
# Run from the build directory. Each TARGET (default: every tests/fuzz/fuzz_*
# program built) runs for SECONDS (default 5) starting from the checked-in
# seeds in SRCDIR/tests/fuzz/corpus/TARGET/ (SRCDIR defaults to the tree
# this script is in). The seeds are only read: inputs the run finds go to
# tests/fuzz/run/TARGET/new/, crash and timeout inputs to
# tests/fuzz/run/TARGET/, its output to tests/fuzz/run/TARGET.log.
# Prints one line per target with its executions; exits 1 if any target
# failed (a crash, a leak, a sanitizer report, a timeout or running out of
# memory), 0 otherwise. Extra libFuzzer flags may be given in FUZZ_FLAGS.
set -u

seconds=5
srcdir=$(cd "$(dirname "$0")/../.." && pwd)
while getopts t:s: opt; do
    case $opt in
        t) seconds=$OPTARG ;;
        s) srcdir=$OPTARG ;;
        *) echo "usage: run.sh [-t SECONDS] [-s SRCDIR] [TARGET...]" >&2; exit 2 ;;
    esac
done
shift $((OPTIND - 1))
if [ $# = 0 ]; then
    for program in tests/fuzz/fuzz_*; do
        case $program in *.c|*.h|*.o|*.log) continue ;; esac
        [ -x "$program" ] && set -- "$@" "$(basename "$program")"
    done
fi
if [ $# = 0 ]; then
    echo "run.sh: no fuzz targets in $(pwd)/tests/fuzz: run make fuzz first" >&2
    exit 1
fi

# Allocation failures come back as NULL, as the library expects of malloc.
ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}allocator_may_return_null=1
UBSAN_OPTIONS=${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}print_stacktrace=1
export ASAN_OPTIONS UBSAN_OPTIONS

failed=0
for name in "$@"; do
    name=$(basename "$name")
    work=tests/fuzz/run/$name
    log=tests/fuzz/run/$name.log
    seeds=$srcdir/tests/fuzz/corpus/$name
    rm -rf "$work"
    mkdir -p "$work/new"
    [ -d "$seeds" ] || { echo "run.sh: $name has no seed corpus ($seeds)" >&2; seeds=""; }
    # shellcheck disable=SC2086 # FUZZ_FLAGS is a word list
    "tests/fuzz/$name" -max_total_time="$seconds" -timeout=30 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="$work/" ${FUZZ_FLAGS:-} \
        "$work/new" $seeds >"$log" 2>&1
    rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    if [ "$rc" = 0 ]; then
        echo "PASS: $name (${execs:-?} executions in ${seconds} s)"
    else
        failed=1
        echo "FAIL: $name (exit status $rc; log $log, inputs in $work/)"
        grep -E -A 12 '^==[0-9]+==ERROR|runtime error|^SUMMARY|deadly signal|Test unit written' "$log" |
            head -n 40 | sed 's/^/#   /'
    fi
done
exit $failed
