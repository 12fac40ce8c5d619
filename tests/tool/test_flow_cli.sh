#!/bin/sh
# SPDX-License-Identifier: MPL-2.0
# Copyright (c) 2026 the mutil authors
# test_flow_cli.sh — TAP tests of `mutil flow demo|help`: the echo flow run
# end to end by its checking client, the stats table, usage errors.
#
# Environment: top_builddir (the tool is "$top_builddir/mutil"), top_srcdir.
set -u

top_builddir=${top_builddir:-.}
MUTIL="$top_builddir/mutil"
. "${top_srcdir:-.}/tests/lib/tap.sh"
tap_begin mutil-flow-cli

run() {
    COLUMNS=200 timeout "$(tap_seconds 120)" "$MUTIL" "$@" </dev/null >"$tmp/out" 2>"$tmp/err"
    rc=$?
}
status_is() { [ "$rc" -eq "$1" ]; }
out_has() { grep -q -e "$1" "$tmp/out"; }
err_has() { grep -q -e "$1" "$tmp/err"; }

run flow demo --workers 3 --count 5000
if status_is 0 && out_has "^ready: every process up and linked [0-9.]* ms after the start" \
    && out_has "^warm-up: 2000 numbers back (untimed), the first after [0-9.]* ms" \
    && out_has "^5000 of 5000 numbers back (wrong edge or malformed: 0, duplicates: 0)" \
    && out_has "^flood (2000 in flight): [0-9]* messages/s, latency p50 [0-9]* us, p99 [0-9]* us, p999 [0-9]* us" \
    && out_has "^ok: every number came back exactly once"; then
    ok "demo: every number back once on the right edge"
else
    not_ok "demo: every number back once on the right edge"
fi

# The table: one total and one row per runner (no pid column: the runners
# have ended when it is printed); 3 workers share the 5000
# and the warm-up's 2000.
if out_has "^stage *runner *in *out *errors *restarts *drops *queue *clients *idle *slow" \
    && out_has "^work *all .* 7000 *7000 *0 *0 *0 *0 " \
    && [ "$(grep -c '^work  *[0-9]' "$tmp/out")" -eq 3 ] \
    && [ "$(grep -c '^out  *[0-9]' "$tmp/out")" -eq 2 ] \
    && out_has "^out *0 .* 3500 *3500 " && out_has "^out *1 .* 3500 *3500 "; then
    ok "demo: statistics table per stage and worker"
else
    not_ok "demo: statistics table per stage and worker"
fi

# Paced: 3000 numbers at 10000/s take about 0.3 s; the figure printed is
# the achieved rate (at most the asked one, within rounding).
run flow demo --workers 2 --count 3000 --rate 10000
if status_is 0 && out_has "^3000 of 3000 numbers back (wrong edge or malformed: 0, duplicates: 0)" \
    && out_has "^paced at 10000/s: [0-9]* messages/s, latency p50 [0-9]* us, p99 [0-9]* us, p999 [0-9]* us" \
    && [ "$(sed -n 's|^paced at 10000/s: \([0-9]*\) messages/s.*|\1|p' "$tmp/out")" -le 10050 ] \
    && out_has "^ok: every number came back exactly once"; then
    ok "demo --rate: paced, every number back, p50/p99/p999"
else
    not_ok "demo --rate: paced, every number back, p50/p99/p999"
fi

run flow demo --rate 0
if status_is 2 && err_has "rate needs a number from 1 to 100000000"; then
    ok "bad --rate is a usage error"
else
    not_ok "bad --rate is a usage error"
fi

run flow demo
if status_is 0 && out_has "^100000 of 100000 numbers back"; then
    ok "demo with defaults"
else
    not_ok "demo with defaults"
fi

run flow demo --workers 0
if status_is 2 && err_has "workers needs a number from 1 to 256"; then
    ok "bad --workers is a usage error"
else
    not_ok "bad --workers is a usage error"
fi

run flow demo --count
if status_is 2 && err_has "count needs a value"; then
    ok "missing --count value is a usage error"
else
    not_ok "missing --count value is a usage error"
fi

run flow demo --frobnicate
if status_is 2 && err_has "unknown option '--frobnicate'"; then
    ok "unknown argument"
else
    not_ok "unknown argument"
fi

# serve: ports printed at once, a clean drain and the table on SIGTERM.
export COLUMNS=200
tap_start_watched "$tmp/out" 300 \
    "echo flow: inbound edge port [0-9]*, 2 workers, odd edge port [0-9]*, even edge port [0-9]*" \
    "$MUTIL" flow serve --workers 2 </dev/null 2>"$tmp/err"
serve_pid=$tap_pid
kill -TERM "$serve_pid"
wait "$serve_pid"
rc=$?
wait "$tap_copy_pid"
if status_is 0 && out_has "^echo flow: inbound edge port" && out_has "^work *all " \
    && [ "$(grep -c '^work  *[0-9]' "$tmp/out")" -eq 2 ]; then
    ok "serve: ports, then a clean drain on SIGTERM"
else
    not_ok "serve: ports, then a clean drain on SIGTERM"
fi

# Too few descriptors for the runners (attack10 F2): serve and demo fail
# at once, with status 1 and the cause, instead of retrying in silence.
run_limited() {
    (ulimit -n 32 && COLUMNS=200 exec timeout "$(tap_seconds 120)" "$MUTIL" "$@") \
        </dev/null >"$tmp/out" 2>"$tmp/err"
    rc=$?
}
for cmd in serve demo; do
    if [ $cmd = serve ]; then run_limited flow serve --workers 32; else run_limited flow demo --workers 32 --count 2000; fi
    if status_is 1 && err_has "(supervisor, pid [0-9]*): cannot start runner: socketpair: Too many open files" \
        && err_has "the flow failed (MU_ELIMIT): .*exceeded its restart limit: .*(last: runner [0-9]*, cannot start runner: socketpair: Too many open files)"; then
        ok "$cmd at a low open-file limit: fails saying why"
    else
        not_ok "$cmd at a low open-file limit: fails saying why"
        sed 's/^/# /' "$tmp/err"
    fi
done

run flow serve --port 65534
if status_is 2 && err_has "port needs a number from 1 to 65533"; then
    ok "bad --port is a usage error"
else
    not_ok "bad --port is a usage error"
fi

run flow
if status_is 2 && err_has "missing subcommand"; then ok "missing subcommand"; else not_ok "missing subcommand"; fi

run flow bogus
if status_is 2 && err_has "unknown subcommand 'bogus'"; then ok "unknown subcommand"; else not_ok "unknown subcommand"; fi

run flow help
if status_is 0 && out_has "usage: mutil flow demo" && out_has "two outbound TCP"; then
    ok "flow help"
else
    not_ok "flow help"
fi

tap_end
