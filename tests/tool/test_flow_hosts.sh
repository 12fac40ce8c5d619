#!/bin/sh
# SPDX-License-Identifier: MPL-2.0
# Copyright (c) 2026 the mutil authors
# test_flow_hosts.sh — TAP tests of one flow over four hosts: network
# namespaces A (source and sink), B, C, D (workers) joined by a bridge
# (tests/lib/netns.sh), one flow file, `mutil flow run FILE --host NAME` on
# each, external-command workers in Python (tests/tool/flow_hosts_peer.py)
# and in shell (tests/tool/flow_hosts_worker.sh).
#   1. 200,000 messages at-least-once over a stage spread on B, C, D; every
#      process of C killed (SIGKILL) mid-stream and C never comes back:
#      every id reaches the sink (the sink's stats count exactly the ids it
#      saw twice), the flow finishes on
#      the others, every host's part ends by itself;
#   2. a host (D) joining mid-stream receives work (time to its first
#      message measured);
#   3. the only host of a stage removed for good: the flow fails clearly,
#      naming the stage (stage deadline, fail), or keeps waiting and says
#      so in its log (fail false);
#   4. link cuts of 10 s and 60 s of one worker host (nftables drop rule):
#      the flow goes on on the others during the cut, the host's traffic
#      resumes within about 2 heartbeat intervals of the restore
#      (measured; asserted generously), nothing lost;
#   5. wrong keys on one host: a clear error on both sides;
#   6. a worker written in shell.
# The 10 s and 60 s cuts are the subject of test 4 (not waits for an
# event): the test takes about 2.5 minutes, most of it the 60 s cut.
# Skipped (one TAP SKIP line) only when network namespaces are unavailable.
#
# Known failures (2026-12-04, with h-flowhost 78c655e and h-flowfile
# a5d913a merged) are reported as "not ok ... # TODO known: WHY" (TAP
# XFAIL, so make check passes), and as plain "ok" once they pass:
#   (none at the moment).
#
# Environment: top_builddir (the tool is "$top_builddir/mutil"), top_srcdir,
# MU_TEST_SCALE.
set -u

top_builddir=${top_builddir:-.}
. "${top_srcdir:-.}/tests/lib/tap.sh"
tap_timeout 600 "$0" "$@"
. "${top_srcdir:-.}/tests/lib/netns.sh"
tap_begin mutil-flow-hosts

MUTIL="$(cd "$top_builddir" && pwd)/mutil"
SRC=$(cd "${top_srcdir:-.}" && pwd)
PY=/usr/bin/python3
PEER="$SRC/tests/tool/flow_hosts_peer.py"
SHW="$SRC/tests/tool/flow_hosts_worker.sh"
HB_MS=1000 # heartbeat interval (timeout 3 x)
SECRET="flow hosts test shared passphrase"

if ! netns_begin 4; then
    skip "one flow over four hosts in network namespaces" "$netns_why"
    tap_end
    exit 0
fi
if ! command -v nft >/dev/null 2>&1 || [ ! -x "$PY" ]; then
    skip "one flow over four hosts in network namespaces" \
        "no nft or /usr/bin/python3 (apt-get install nftables python3)"
    tap_end
    exit 0
fi

NAMES="A B C D"
# known WHY DESCRIPTION: a failure that is a known issue (see the header).
known() {
    not_ok "$2 # TODO known: $1"
    failed=$((failed - 1))
}
host_no() { case "$1" in A) echo 1 ;; B) echo 2 ;; C) echo 3 ;; D) echo 4 ;; esac; }

# flow_file FILE PORT SECRET WORKER_COMMAND WORKER_RUNNERS [DEADLINE_MS FAIL]
flow_file() {
    cat >"$1" <<EOF
{
  "flow": "hosts",
  "hosts": [
    {"name": "A", "address": "10.77.0.1", "base_port": $2},
    {"name": "B", "address": "10.77.0.2", "base_port": $2},
    {"name": "C", "address": "10.77.0.3", "base_port": $2},
    {"name": "D", "address": "10.77.0.4", "base_port": $2}
  ],
  "keys": {"secret": "$3"},
  "heartbeat": {"interval_ms": $HB_MS, "timeout_ms": $((HB_MS * 3))},
  "stage_deadline": {"ms": ${6:-60000}, "fail": ${7:-true}},
  "drain_timeout_ms": 60000,
  "stages": [
    {"name": "src", "type": "source", "command": "$PY $PEER gen", "runners": {"A": 1}},
    {"name": "work", "type": "worker", "command": "$4", "runners": $5,
     "at_least_once": true},
    {"name": "sink", "type": "worker", "command": "$PY $PEER sink", "runners": {"A": 1},
     "at_least_once": true}
  ]
}
EOF
}

# start NAME FILE [VAR=VALUE...]: runs `mutil flow run FILE --host NAME` in
# host NAME's namespace, its output in $state/NAME.out and .err; its exit
# status goes to $state/NAME.status when it ends.
start() {
    start_name=$1
    start_file=$2
    shift 2
    rm -f "$state/$start_name.status"
    (
        ip netns exec "$(netns_ns "$(host_no "$start_name")")" \
            env STATE="$state" TEST_HOST="$start_name" "$@" \
            "$MUTIL" flow run "$start_file" --host "$start_name" \
            </dev/null >"$state/$start_name.out" 2>"$state/$start_name.err"
        echo $? >"$state/$start_name.status"
    ) &
}
ready() { grep -q ": ready" "$state/$1.out" 2>/dev/null; }
# logs NAME: what host NAME's mutil printed (its log lines go to stdout or stderr).
logs() { cat "$state/$1.out" "$state/$1.err" 2>/dev/null; }
ended() { [ -s "$state/$1.status" ]; }
status_of() { cat "$state/$1.status" 2>/dev/null; }
# sink_value KEY: a figure of the sink's summary (0 when none yet).
sink_value() { awk -v k="$1" '$1 == k { v = $2 } END { print v + 0 }' "$state/sink" 2>/dev/null || echo 0; }
host_count() { awk -v h="$1" '$1 == "host" && $2 == h { v = $3 } END { print v + 0 }' "$state/sink" 2>/dev/null || echo 0; }
sink_at_least() { [ "$(sink_value unique)" -ge "$1" ]; }
sink_final() { [ "$(sink_value final)" -eq 1 ]; }
now() { date +%s.%N; }
# elapsed T0 [T1]: seconds from T0 to T1 (default now), 2 decimals.
elapsed() { awk -v a="$1" -v b="${2:-$(now)}" 'BEGIN { printf "%.2f\n", b - a }'; }
# seen_after HOST T: the sink got a message handled by HOST after time T.
seen_after() { awk -v a="$(cat "$state/seen-$1" 2>/dev/null)" -v t="$2" 'BEGIN { exit !(a + 0 > t + 0) }'; }
# Ends every host's processes (between scenarios) and waits for the wrappers.
stop_all() {
    for n in $NAMES; do netns_kill "$(host_no "$n")"; done
    wait
}
all_ended() {
    for n in "$@"; do ended "$n" || return 1; done
}
new_state() {
    state="$tmp/state.$1"
    mkdir -p "$state"
}
# show NAME...: the hosts' logs into $tmp/err (for not_ok).
show() {
    : >"$tmp/err"
    for n in "$@"; do logs "$n" | tail -n 5 | sed "s/^/$n: /" >>"$tmp/err"; done
    cp "$state/sink" "$tmp/out" 2>/dev/null || : >"$tmp/out"
}

PYWORK="$PY $PEER work"
# Debugging aids: FLOW_HOSTS_ONLY="1 4" runs only those parts;
# MU_TEST_KEEP=DIR copies the scratch directory (flow files, logs, the
# commands' state) there at the end.
want() { case " ${FLOW_HOSTS_ONLY:-1 2 3 4 5 6} " in *" $1 "*) return 0 ;; esac; return 1; }

# ---- 1. 200,000 messages, every process of C killed mid-stream -----------------
if want 1; then
    new_state kill
    total=200000
    flow_file "$tmp/kill.json" 7000 "$SECRET" "$PYWORK" '{"B": 2, "C": 2, "D": 2}'
    for n in B C D A; do start "$n" "$tmp/kill.json" COUNT=$total; done
    if tap_wait_for 60 ready A && tap_wait_for 60 ready B && tap_wait_for 60 ready C \
        && tap_wait_for 60 ready D; then
        ok "four hosts run their parts of one flow file (ready lines)"
    else
        show A B C D
        not_ok "four hosts run their parts of one flow file (ready lines)"
    fi
    if tap_wait_for 30 test -s "$state/env-B-0" && tap_wait_for 30 test -s "$state/env-D-1" \
        && [ "$(cat "$state/env-B-0")" = B ] && [ "$(cat "$state/env-D-1")" = D ]; then
        ok "external commands see their host in MUFLOW_HOST"
    else
        not_ok "external commands see their host in MUFLOW_HOST (B's worker 0 saw '$(cat "$state/env-B-0" 2>/dev/null)')"
    fi
    if tap_wait_for 120 sink_at_least 40000 && [ "$(host_count C)" -gt 0 ]; then
        netns_kill 3
        ok "C worked on the stream, then every process of C was killed (SIGKILL)"
    else
        show A B C D
        not_ok "C worked on the stream, then every process of C was killed (SIGKILL)"
    fi
    t0=$(now)
    if tap_wait_for 240 all_ended A B D; then
        took=$(elapsed "$t0")
        rc=$(status_of A)
        if [ "$rc" -eq 0 ] && [ "$(status_of B)" -eq 0 ] && [ "$(status_of D)" -eq 0 ] && sink_final; then
            ok "the flow finished without C; A, B and D ended by themselves (${took} s after the kill)"
        else
            show A B D
            not_ok "the flow finished without C; A, B and D ended by themselves (status A $(status_of A), B $(status_of B), D $(status_of D))"
        fi
    else
        show A B D
        not_ok "the flow finished without C (not within $(tap_seconds 240) s)"
    fi
    unique=$(sink_value unique)
    dups=$(sink_value dups)
    if [ "$unique" -eq "$total" ]; then
        ok "none lost: every one of the $total ids reached the sink ($dups duplicates)"
    else
        show A
        not_ok "none lost: $unique of $total ids reached the sink ($dups duplicates)"
    fi
    # The sink's runner counts the copies whose origin it had handled: the
    # messages C handled (their outputs reached the sink) and B or D handled
    # again after C's loss. Exact: it must equal what the sink saw twice.
    counted=$(logs A | awk '$1 == "hosts:" && $3 == "sink" { print $5 }')
    if [ "${counted:-x}" = "$dups" ]; then
        ok "the sink's stats count exactly the ids it saw twice ($dups)"
    else
        show A
        not_ok "the sink's stats count exactly the ids it saw twice (sink saw $dups, stats say '${counted}')"
    fi
    if logs A | grep -i "lost" | grep -q "'C'"; then
        ok "the loss of host C is logged"
    else
        show A
        not_ok "the loss of host C is logged"
    fi
    if logs A | grep -q "^sink  *all "; then
        ok "A printed its statistics table at the end"
    else
        show A
        not_ok "A printed its statistics table at the end"
    fi
    stop_all
fi

# ---- 2. a host joining mid-stream receives work ---------------------------------
if want 2; then
    new_state join
    n_ids=30000
    flow_file "$tmp/join.json" 7100 "$SECRET" "$PYWORK" '{"B": 2, "C": 2, "D": 2}'
    for n in B C A; do start "$n" "$tmp/join.json" COUNT=$n_ids RATE=3000; done
    if tap_wait_for 60 sink_at_least 3000 && [ ! -e "$state/first-D" ]; then
        start D "$tmp/join.json" COUNT=$n_ids RATE=3000
        if tap_wait_for 60 ready D; then
            t_ready=$(now)
            if tap_wait_for 30 test -s "$state/first-D"; then
                join_s=$(elapsed "$t_ready" "$(cat "$state/first-D")")
                limit=$(tap_seconds 3)
                if awk -v a="$join_s" -v l="$limit" 'BEGIN { exit !(a <= l) }'; then
                    ok "D joined mid-stream and received work ${join_s} s after its ready line (bound ${limit} s)"
                else
                    not_ok "D joined mid-stream but received work only ${join_s} s after its ready line (bound ${limit} s)"
                fi
            else
                show A D
                not_ok "D joined mid-stream and received work"
            fi
        else
            show D
            not_ok "D joined mid-stream (no ready line)"
        fi
    else
        show A B C
        not_ok "D joined mid-stream (the stream did not start, or D got work before it ran)"
    fi
    if tap_wait_for 120 all_ended A B C D && [ "$(status_of A)" -eq 0 ] \
        && [ "$(sink_value unique)" -eq "$n_ids" ] && [ "$(host_count D)" -gt 0 ]; then
        ok "the flow finished with D's help: $n_ids of $n_ids ids, D handled $(host_count D)"
    else
        show A B C D
        not_ok "the flow finished with D's help ($(sink_value unique) of $n_ids ids, D handled $(host_count D))"
    fi
    stop_all
fi

# ---- 3. the only host of a stage removed for good -------------------------------
if want 3; then
    new_state gone
    flow_file "$tmp/gone.json" 7200 "$SECRET" "$PYWORK" '{"D": 2}' 2000 true
    for n in D A; do start "$n" "$tmp/gone.json" COUNT=0 RATE=500 STOP="$state/stop"; done
    if tap_wait_for 60 sink_at_least 200; then
        netns_kill 4
        t_kill=$(now)
        # The deadline (2 s) after the heartbeat timeout (3 s): A's mutil must
        # then exit at once, with 1 and the failure on stderr.
        if tap_wait_for 20 ended A && [ "$(status_of A)" -eq 1 ] && logs A | grep -q "stage 'work'"; then
            ok "no live runner of a stage past its deadline fails the flow, naming the stage: $(logs A | grep -m1 "stage 'work'")"
        else
            show A
            not_ok "no live runner of a stage past its deadline fails the flow, naming the stage (A's status: $(status_of A))"
        fi
        if ended A && grep -q "the flow failed (MU_[A-Z]*).*stage 'work'" "$state/A.err"; then
            ok "mutil flow run on A exited promptly after the stage deadline ($(elapsed "$t_kill" "$(stat -c %Y "$state/A.status")") s after the kill), the failure on stderr"
        else
            show A
            not_ok "mutil flow run on A exited promptly after the stage deadline, the failure on stderr (status: $(status_of A))"
        fi
    else
        show A D
        not_ok "no live runner of a stage past its deadline fails the flow (the stream did not start)"
    fi
    stop_all
    new_state wait
    flow_file "$tmp/wait.json" 7300 "$SECRET" "$PYWORK" '{"D": 2}' 2000 false
    for n in D A; do start "$n" "$tmp/wait.json" COUNT=2000 RATE=500; done
    warned() { [ "$(logs A | grep -c "stage 'work'")" -ge 2 ]; }
    if tap_wait_for 60 sink_at_least 200; then
        netns_kill 4
        if tap_wait_for 30 warned && ! ended A; then
            ok "with fail false the flow waits and keeps saying so, naming the stage"
        else
            show A
            not_ok "with fail false the flow waits and keeps saying so, naming the stage"
        fi
        start D "$tmp/wait.json" COUNT=2000 RATE=500
        if tap_wait_for 120 all_ended A D && [ "$(status_of A)" -eq 0 ] \
            && [ "$(sink_value unique)" -eq 2000 ]; then
            ok "the host back, the waiting flow finishes with every id ($(sink_value dups) duplicates)"
        else
            show A D
            not_ok "the host back, the waiting flow finishes with every id ($(sink_value unique) of 2000)"
        fi
    else
        show A D
        not_ok "with fail false the flow waits (the stream did not start)"
    fi
    stop_all
fi

# ---- 4. link cuts of 10 s and 60 s ------------------------------------------------
if want 4; then
    new_state cut
    # A stage deadline longer than the cuts: C must wait for the sink, not fail.
    flow_file "$tmp/cut.json" 7400 "$SECRET" "$PYWORK" '{"B": 2, "C": 2, "D": 2}' 300000 true
    for n in B C D A; do start "$n" "$tmp/cut.json" COUNT=0 RATE=1000 STOP="$state/stop"; done
        # cut_case SECONDS: cuts C for SECONDS; the others must go on during the
    # cut; C's outputs must reach the sink again within the bound after the
    # restore (resume_s), and keep coming (200 more of C's messages).
    cut_case() {
        tap_wait_for 60 seen_after C "$(now)" || return 1
        netns_cut 3 || return 1
        sleep "$1" # the cut's duration: the subject of the test
        before=$(sink_value unique)
        t_restore=$(now)
        netns_restore 3 || return 1
        moved_on=$(awk -v b="$before" -v a="$cut_base" 'BEGIN { print (b > a + 100) }')
        tap_wait_for 60 seen_after C "$t_restore" || return 1
        resume_s=$(elapsed "$t_restore" "$(cat "$state/seen-C")")
        c_then=$(host_count C)
        tap_wait_for 30 eval '[ "$(host_count C)" -ge $((c_then + 200)) ]' || return 1
        [ "$moved_on" -eq 1 ]
    }
    limit=$(tap_seconds "$(awk -v h="$HB_MS" 'BEGIN { printf "%d\n", 2 * h / 1000 + 3 }')")
    cut_failed=
    for secs in 10 60; do
        if [ -n "$cut_failed" ]; then
            not_ok "a ${secs} s cut of C (not run: the cut before failed)"
            continue
        fi
        tap_wait_for 60 sink_at_least 1000
        cut_base=$(sink_value unique)
        resume_s=?
        if cut_case "$secs" && awk -v a="$resume_s" -v l="$limit" 'BEGIN { exit !(a <= l) }'; then
            ok "a ${secs} s cut of C: the others went on, C's outputs reached the sink again ${resume_s} s after the restore and kept coming (bound ${limit} s, heartbeat ${HB_MS} ms)"
        else
            show A B C D
            cut_failed=1
            not_ok "a ${secs} s cut of C: the others went on, C's outputs reached the sink again ${resume_s} s after the restore and kept coming (bound ${limit} s)"
        fi
    done
    touch "$state/stop"
    if tap_wait_for 60 all_ended A B C D && [ "$(status_of A)" -eq 0 ] \
        && [ "$(sink_value unique)" -eq "$(cat "$state/gen" 2>/dev/null || echo -1)" ]; then
        ok "after the cuts the flow finishes, none lost ($(sink_value unique) ids, $(sink_value dups) duplicates)"
    else
        show A B C D
        not_ok "after the cuts the flow finishes, none lost ($(sink_value unique) of $(cat "$state/gen" 2>/dev/null) ids)"
    fi
    stop_all
fi

# ---- 5. wrong keys on one host -----------------------------------------------------
if want 5; then
    new_state keys
    flow_file "$tmp/keys.json" 7500 "$SECRET" "$PYWORK" '{"B": 2, "D": 2}'
    flow_file "$tmp/keys-wrong.json" 7500 "not the flow's passphrase at all" "$PYWORK" '{"B": 2, "D": 2}'
    start D "$tmp/keys-wrong.json" COUNT=3000
    for n in B A; do start "$n" "$tmp/keys.json" COUNT=3000; done
    auth_said() { logs "$1" | grep -v ": ready" | grep -qiE "auth|handshake|curve"; }
    if tap_wait_for 60 auth_said D && { tap_wait_for 30 auth_said A || auth_said B; }; then
        ok "wrong keys on D: a clear error on both sides (D: $(logs D | grep -v ": ready" | grep -m1 -iE 'auth|handshake|curve'))"
    else
        show A B D
        not_ok "wrong keys on D: a clear error on both sides"
    fi
    if tap_wait_for 120 all_ended A B && [ "$(status_of A)" -eq 0 ] && [ "$(sink_value unique)" -eq 3000 ] \
        && [ "$(host_count D)" -eq 0 ]; then
        ok "the others finish the flow without D (3000 ids, none through D)"
    else
        show A B D
        not_ok "the others finish the flow without D ($(sink_value unique) of 3000, $(host_count D) through D)"
    fi
    stop_all
fi

# ---- 6. a worker in shell -----------------------------------------------------------
if want 6; then
    new_state shell
    flow_file "$tmp/shell.json" 7600 "$SECRET" "/bin/sh $SHW" '{"B": 1, "C": 1}'
    for n in B C A; do start "$n" "$tmp/shell.json" COUNT=300; done
    if tap_wait_for 120 all_ended A B C && [ "$(status_of A)" -eq 0 ] \
        && [ "$(sink_value unique)" -eq 300 ] \
        && [ $(($(host_count sh-B) + $(host_count sh-C))) -eq "$(sink_value total)" ]; then
        ok "a shell worker on B and C: 300 of 300 ids (B $(host_count sh-B), C $(host_count sh-C))"
    else
        show A B C
        not_ok "a shell worker on B and C ($(sink_value unique) of 300)"
    fi
    stop_all
fi

if [ -n "${MU_TEST_KEEP:-}" ]; then mkdir -p "$MU_TEST_KEEP" && cp -r "$tmp/." "$MU_TEST_KEEP/"; fi
netns_end
tap_end
