# SPDX-License-Identifier: MPL-2.0
# Copyright (c) 2026 the mutil authors
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

# tap_timeout N "$0" "$@" bounds a whole shell test to N seconds (scaled).
# Call it first, right after sourcing this file: it runs the script again
# under timeout(1), which ends the script and every process it started when
# the time is up, and then prints a TAP "Bail out!" line. In that second run
# it returns at once.
tap_timeout() {
    if [ -n "${TAP_TIMEOUT_ARMED:-}" ]; then
        return 0
    fi
    tap_limit=$(tap_seconds "$1")
    shift
    TAP_TIMEOUT_ARMED=1 timeout -k 5 "$tap_limit" "$@"
    tap_status=$?
    if [ "$tap_status" -eq 124 ] || [ "$tap_status" -eq 137 ]; then
        echo "Bail out! $(basename "$1") timed out after $tap_limit s (raise MU_TEST_SCALE on a slow machine)"
    fi
    exit "$tap_status"
}

# tap_wait_for N COMMAND... runs COMMAND every 50 ms until it succeeds
# (returns 0) or N seconds (scaled) have passed (returns 1): for waiting on
# an event a shell can only look at, such as a ready line in a log or a
# process that has exited.
tap_wait_for() {
    tap_polls=$(($(tap_seconds "$1") * 20))
    shift
    while ! "$@"; do
        tap_polls=$((tap_polls - 1))
        if [ "$tap_polls" -le 0 ]; then
            return 1
        fi
        sleep 0.05
    done
}

# tap_read_until N PATTERN copies its standard input to its standard output
# line by line until a line matches PATTERN (a case pattern: "*ready*"):
# returns 0 after that line, 1 at the end of the input, 124 when N seconds
# (scaled) pass first. The shell's read takes a pipe byte by byte, so what
# follows the line stays in the pipe for the next reader. For waiting on a
# line of a child's output as it comes: send the output to a FIFO, open that
# on a descriptor, run this on it, then hand the descriptor to a `cat` in the
# background to copy the rest (tap_start_watched does all that).
tap_read_until() {
    timeout "$(tap_seconds "$1")" sh -c '
        while IFS= read -r line || [ -n "$line" ]; do
            printf "%s\n" "$line"
            case $line in
            $1) exit 0 ;;
            esac
            line=
        done
        exit 1' sh "$2"
}

# tap_start_watched LOG N PATTERN COMMAND... runs COMMAND in the background,
# its standard output copied to LOG, and waits until it prints a line that
# matches PATTERN (tap_read_until N PATTERN: 0 when it did). Sets tap_pid
# (COMMAND's process) and tap_copy_pid (the copy of the rest of its output,
# which ends with it). Redirect the call's standard error for COMMAND's.
tap_start_watched() {
    tap_log=$1 tap_n=$2 tap_pattern=$3
    shift 3
    tap_fifo=$(mktemp -u "$tmp/watched.XXXXXX")
    mkfifo "$tap_fifo" || return 1
    "$@" >"$tap_fifo" &
    tap_pid=$!
    exec 9<"$tap_fifo"
    rm -f "$tap_fifo"
    tap_read_until "$tap_n" "$tap_pattern" <&9 >"$tap_log"
    tap_status=$?
    cat <&9 >>"$tap_log" &
    tap_copy_pid=$!
    exec 9<&-
    return "$tap_status"
}

# tap_renumber FILE: re-reports the TAP results of another program (its
# output in FILE) as results of this plan: "ok"/"not ok" lines keep their
# descriptions, its plan line is dropped, anything else becomes a comment.
tap_renumber() {
    while read -r tap_line; do
        case "$tap_line" in
        "ok "*) ok "${tap_line#* - }" ;;
        "not ok "*) not_ok "${tap_line#* - }" ;;
        "1.."*) ;;
        *) echo "# $tap_line" ;;
        esac
    done <"$1"
}

# Helpers for the tests of the `mutil` tool ($MUTIL, set by the test):
# check NAME COMMAND... reports ok when COMMAND succeeds, not ok otherwise;
# run ARG... runs "$MUTIL" ARG... with no input, its stdout in $tmp/out,
# stderr in $tmp/err and status in $rc; status_is N, out_is TEXT, out_has
# TEXT and err_has TEXT test what the last run left (TEXT taken literally).
# A test that needs another form defines its own after sourcing this file.
check() {
    tap_name=$1
    shift
    if "$@"; then ok "$tap_name"; else not_ok "$tap_name"; fi
}

run() {
    "$MUTIL" "$@" </dev/null >"$tmp/out" 2>"$tmp/err"
    rc=$?
}

status_is() { [ "$rc" -eq "$1" ]; }
out_is() { [ "$(cat "$tmp/out")" = "$1" ]; }
out_has() { grep -q -F -e "$1" "$tmp/out"; }
err_has() { grep -q -F -e "$1" "$tmp/err"; }
