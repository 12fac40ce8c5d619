# tap.sh — TAP helpers shared by the shell tests (sourced, not run).
# tap_begin NAME makes the scratch directory $tmp (removed at exit) and
# zeroes the counters; ok, not_ok and skip print one result each; tap_end
# prints the plan and returns the suite's status. A failure shows what the
# last command left in $tmp/out and $tmp/err and its status $rc.

tap_begin() {
    tmp=$(mktemp -d "${TMPDIR:-/tmp}/$1.XXXXXX") || { echo "not ok 1 - mktemp"; echo "1..1"; exit 1; }
    trap 'rm -rf "$tmp"' EXIT
    count=0
    failed=0
    rc=0
}

ok() {
    count=$((count + 1))
    echo "ok $count - $1"
}

not_ok() {
    count=$((count + 1))
    failed=$((failed + 1))
    echo "not ok $count - $1"
    if [ -s "$tmp/out" ]; then sed 's/^/#   stdout: /' "$tmp/out" | head -n 20; fi
    if [ -s "$tmp/err" ]; then sed 's/^/#   stderr: /' "$tmp/err" | head -n 10; fi
    echo "#   exit status: ${rc:-?}"
}

skip() {
    count=$((count + 1))
    echo "ok $count - $1 # SKIP $2"
}

tap_end() {
    echo "1..$count"
    [ "$failed" -eq 0 ]
}

# tap_seconds N prints N seconds scaled by MU_TEST_SCALE (a number >= 1,
# default 1), rounded up: every time bound in a shell test goes through it.
tap_seconds() {
    awk -v n="$1" -v s="${MU_TEST_SCALE:-1}" \
        'BEGIN { if (s + 0 < 1) s = 1; t = n * s; printf "%d\n", (t == int(t)) ? t : int(t) + 1 }'
}
