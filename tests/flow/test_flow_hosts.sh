#!/bin/sh
# SPDX-License-Identifier: MPL-2.0
# Copyright (c) 2026 the mutil authors
# test_flow_hosts.sh — a flow over several "hosts": processes on this
# machine, each running tests/lib/flow_host with its own host name and
# port range on 127.0.0.1. Source on host a; the worker stage "work"
# spread over b and c; workers append (sequence, host, runner) records to
# one file (or, with -S, to a sink stage on a). Waits only on events (ready
# lines, record counts, exits). The flow's log lines (mu_log, module
# "flow") are in NAME.err, the program's own output (ready, rows, rc) in
# NAME.log.
. "${top_srcdir:-.}/tests/lib/tap.sh"
tap_timeout 300 "$0" "$@"
tap_begin test_flow_hosts
groups=""
# Every host runs in its own process group: all of them go at the end.
trap 'for g in $groups; do kill -9 -"$g" 2>/dev/null; done; rm -rf "$tmp"' EXIT

FH="${top_builddir:-.}/tests/lib/flow_host"
base=$((20000 + ($$ % 120) * 100)) # below the ephemeral range (32768 up)
pa=$base
pb=$((base + 30))
pc=$((base + 60))
HOSTS="-h a=127.0.0.1:$pa -h b=127.0.0.1:$pb -h c=127.0.0.1:$pc"

# records FILE: number of 16-byte records in FILE
records() {
    if [ -f "$1" ]; then echo $(($(stat -c %s "$1") / 16)); else echo 0; fi
}

# check FILE N: "distinct missing dups hostB hostC" over the records
check() {
    "${PYTHON3:-python3}" - "$1" "$2" <<'EOF'
import struct, sys, collections
d = open(sys.argv[1], 'rb').read() if __import__('os').path.exists(sys.argv[1]) else b''
n = int(sys.argv[2])
recs = [struct.unpack_from('<QII', d, 16 * i) for i in range(len(d) // 16)]
seqs = set(r[0] for r in recs)
hosts = collections.Counter(r[1] for r in recs)
print(len(seqs), n - len(seqs), len(recs) - len(seqs), hosts.get(1, 0), hosts.get(2, 0))
EOF
}

# keyed FILE: "ok" when every key (sequence low byte % 64) went to one runner
keyed_ok() {
    "${PYTHON3:-python3}" - "$1" <<'EOF'
import struct, sys
d = open(sys.argv[1], 'rb').read()
m = {}
for i in range(len(d) // 16):
    s, h, w = struct.unpack_from('<QII', d, 16 * i)
    m.setdefault((s & 0xff) % 64, set()).add((h, w))
print('ok' if m and all(len(v) == 1 for v in m.values()) else 'bad %r' % m)
EOF
}

# stat LOG STAGE INDEX FIELD: a field of a "row" line (4 in, 5 out,
# 6 redelivered, 7 duplicates, 8 hosts_lost, 9 hosts_joined, 10 auth)
stat_of() {
    awk -v s="$2" -v i="$3" -v f="$4" '$1 == "row" && $2 == s && $3 == i { print $f }' "$1"
}

# start NAME ARGS...: runs host NAME in its own process group, output in
# $tmp/NAME.log and .err; its pid in pid_NAME
start() {
    name=$1
    shift
    setsid "$FH" -H "$name" $HOSTS "$@" > "$tmp/$name.log" 2> "$tmp/$name.err" &
    eval "pid_$name=\$!"
    groups="$groups $!"
}

ready() { grep -q '^ready' "$tmp/$1.log"; }
ended() { grep -q '^rc ' "$tmp/$1.log"; }
have() { [ "$(records "$1")" -ge "$2" ]; }

# ---- 1. spread stage, credit balancing, completion on every host -----------
N=3000
out="$tmp/r1"
for h in b c a; do start $h -w b:2 -w c:2 -n $N -o "$out" -D b:4; done
tap_wait_for 60 ended a && tap_wait_for 30 ended b && tap_wait_for 30 ended c
set -- $(check "$out" $N)
wait $pid_a; sa=$?; wait $pid_b; sb=$?; wait $pid_c; sc=$?
if [ "$sa$sb$sc" = 000 ] && [ "$2" -eq 0 ] && [ "$3" -eq 0 ] && [ "$5" -gt $((2 * $4)) ]; then
    ok "spread over b and c: all $N once, slow b got $4, c got $5, every host ended by itself"
else
    cp "$tmp/a.log" "$tmp/out"; cp "$tmp/a.err" "$tmp/err"; rc="$sa$sb$sc check=$*"
    not_ok "spread over b and c"
fi

# ---- 2. at-least-once, kill -9 of host b mid-stream -------------------------
N=4000
out="$tmp/r2"
for h in b c a; do start $h -w b:2 -w c:2 -n $N -o "$out" -D b:1 -D c:1 -r; done
tap_wait_for 60 have "$out" 400
kill -9 -"$pid_b"
tap_wait_for 60 ended a && tap_wait_for 30 ended c
set -- $(check "$out" $N)
wait $pid_a; sa=$?; wait $pid_c; sc=$?; wait "$pid_b" 2>/dev/null
lost=$(stat_of "$tmp/a.log" src 0 8); redo=$(stat_of "$tmp/a.log" src 0 6)
dups=$(stat_of "$tmp/a.log" src 0 7)
if [ "$sa$sc" = 00 ] && [ "$2" -eq 0 ] && [ "${lost:-0}" -ge 1 ] && [ "${redo:-0}" -ge 1 ]; then
    ok "at-least-once, host b killed: none of $N lost, $redo redelivered, $3 handled twice (counted: $dups), a and c ended"
else
    cp "$tmp/a.log" "$tmp/out"; cp "$tmp/a.err" "$tmp/err"; rc="$sa$sc check=$* lost=$lost redo=$redo"
    not_ok "at-least-once, host b killed"
fi

# ---- 3. the only worker host is lost for good: the flow fails naming the stage
out="$tmp/r3"
for h in b a; do start $h -w b:2 -n 100000 -o "$out" -D b:1 -t 1000:fail -b 100:500; done
tap_wait_for 60 have "$out" 100
kill -9 -"$pid_b"
tap_wait_for 60 ended a
wait $pid_a; sa=$?; wait "$pid_b" 2>/dev/null
if [ "$sa" = 1 ] && grep -q "^rc .*stage 'work' has had no live runner" "$tmp/a.log"; then
    ok "worker host gone for good: the flow fails naming stage 'work'"
else
    cp "$tmp/a.log" "$tmp/out"; cp "$tmp/a.err" "$tmp/err"; rc=$sa
    not_ok "worker host gone for good"
fi

# ---- 4. wait-and-report, then the host comes back and rejoins -----------------
N=2000
out="$tmp/r4"
for h in b a; do start $h -w b:2 -n $N -o "$out" -D b:1 -r -t 500:wait -b 100:500; done
tap_wait_for 60 have "$out" 100
kill -9 -"$pid_b"
wait "$pid_b" 2>/dev/null
tap_wait_for 30 grep -q "stage 'work' has had no live runner" "$tmp/a.err"
reported=$?
start b -w b:2 -n $N -o "$out" -D b:1 -r -t 500:wait -b 100:500
tap_wait_for 60 ended a && tap_wait_for 30 ended b
set -- $(check "$out" $N)
wait $pid_a; sa=$?; wait $pid_b; sb=$?
if [ "$reported" = 0 ] && [ "$sa$sb" = 00 ] && [ "$2" -eq 0 ]; then
    ok "no live runner: reported while waiting; host b restarted, rejoined, none of $N lost"
else
    cp "$tmp/a.log" "$tmp/out"; cp "$tmp/a.err" "$tmp/err"; rc="$reported $sa$sb check=$*"
    not_ok "wait-and-report and rejoin"
fi

# ---- 5. a host joining mid-stream receives work ------------------------------
N=3000
out="$tmp/r5"
for h in b a; do start $h -w b:2 -w c:2 -n $N -o "$out" -D b:3; done
tap_wait_for 60 have "$out" 300
start c -w b:2 -w c:2 -n $N -o "$out" -D b:3
tap_wait_for 60 ended a && tap_wait_for 30 ended b && tap_wait_for 30 ended c
set -- $(check "$out" $N)
wait $pid_a; sa=$?; wait $pid_b; sb=$?; wait $pid_c; sc=$?
if [ "$sa$sb$sc" = 000 ] && [ "$2" -eq 0 ] && [ "$5" -gt 0 ]; then
    ok "host c joined mid-stream and handled $5 of $N"
else
    cp "$tmp/a.log" "$tmp/out"; cp "$tmp/c.err" "$tmp/err"; rc="$sa$sb$sc check=$*"
    not_ok "host joining mid-stream"
fi

# ---- 6. keyed link: each key to one runner --------------------------------------
N=3000
out="$tmp/r6"
for h in b c a; do start $h -w b:2 -w c:2 -n $N -o "$out" -k; done
tap_wait_for 60 ended a && tap_wait_for 30 ended b && tap_wait_for 30 ended c
wait $pid_a; sa=$?; wait $pid_b; sb=$?; wait $pid_c; sc=$?
k=$(keyed_ok "$out")
if [ "$sa$sb$sc" = 000 ] && [ "$k" = ok ] && [ "$(check "$out" $N | cut -d' ' -f2)" -eq 0 ]; then
    ok "keyed over hosts: every key on one runner"
else
    echo "$k" > "$tmp/out"; rc="$sa$sb$sc"
    not_ok "keyed over hosts"
fi

# ---- 7. per-host keys; host b with a wrong key: refused and counted on both sides
N=2000
out="$tmp/r7"
K="-P a:password-a -P c:password-c"
start c -w b:2 -w c:2 -n $N -o "$out" -t 2000:fail $K -P b:password-b
start a -w b:2 -w c:2 -n $N -o "$out" -t 2000:fail $K -P b:password-b
start b -w b:2 -w c:2 -n $N -o "$out" -t 2000:fail $K -P b:not-the-password
tap_wait_for 60 ended a && tap_wait_for 30 ended b && tap_wait_for 30 ended c
wait $pid_a; sa=$?; wait $pid_b; sb=$?; wait $pid_c; sc=$?
set -- $(check "$out" $N)
auth_a=$(stat_of "$tmp/a.log" src 0 10); auth_b=$(stat_of "$tmp/b.log" work -1 10)
if [ "$sa$sc" = 00 ] && [ "$2" -eq 0 ] && [ "${auth_a:-0}" -ge 1 ] && [ "${auth_b:-0}" -ge 1 ] \
    && grep -q "CURVE handshake" "$tmp/a.err" && grep -q "CURVE handshake" "$tmp/b.err"; then
    ok "per-host keys: c served all $N; b's wrong key refused, logged and counted on a ($auth_a) and b ($auth_b)"
else
    cp "$tmp/a.log" "$tmp/out"; cp "$tmp/b.err" "$tmp/err"; rc="$sa$sb$sc a=$auth_a b=$auth_b check=$*"
    not_ok "per-host keys, wrong key"
fi

# ---- 8. shared CURVE pair (mu_flow_set_curve) over hosts ------------------------
N=1000
out="$tmp/r8"
for h in b c a; do start $h -w b:1 -w c:1 -n $N -o "$out" -c shared-password; done
tap_wait_for 60 ended a && tap_wait_for 30 ended b && tap_wait_for 30 ended c
wait $pid_a; sa=$?; wait $pid_b; sb=$?; wait $pid_c; sc=$?
if [ "$sa$sb$sc" = 000 ] && [ "$(check "$out" $N | cut -d' ' -f2)" -eq 0 ]; then
    ok "shared CURVE keys over hosts"
else
    cp "$tmp/a.log" "$tmp/out"; cp "$tmp/a.err" "$tmp/err"; rc="$sa$sb$sc"
    not_ok "shared CURVE keys over hosts"
fi

# ---- 9. host b frozen (SIGSTOP): heartbeat timeout, redelivery; thawed: rejoins
N=3000
out="$tmp/r9"
for h in b c a; do start $h -w b:2 -w c:2 -n $N -o "$out" -D b:2 -D c:2 -r -b 200:600; done
tap_wait_for 60 have "$out" 300
kill -STOP -"$pid_b"
tap_wait_for 30 grep -q "on host 'b' lost" "$tmp/a.err"
frozen=$?
# Thawed only once the source redelivered b's copies: thawed earlier, b's
# late acknowledgements could free them first (nothing to redeliver).
tap_wait_for 30 grep -q "redelivering" "$tmp/a.err"
frozen=$frozen$?
kill -CONT -"$pid_b"
tap_wait_for 30 grep -q "on host 'b' rejoined" "$tmp/a.err"
rejoined=$?
tap_wait_for 60 ended a && tap_wait_for 30 ended b && tap_wait_for 30 ended c
wait $pid_a; sa=$?; wait $pid_b; sb=$?; wait $pid_c; sc=$?
set -- $(check "$out" $N)
redo=$(stat_of "$tmp/a.log" src 0 6); dups=$(stat_of "$tmp/a.log" src 0 7)
if [ "$frozen$rejoined" = 000 ] && [ "$sa$sb$sc" = 000 ] && [ "$2" -eq 0 ] && [ "${redo:-0}" -ge 1 ]; then
    ok "host b frozen: lost by heartbeat, $redo redelivered, rejoined when thawed; none of $N lost, $3 handled twice (counted: $dups)"
else
    cp "$tmp/a.log" "$tmp/out"; cp "$tmp/a.err" "$tmp/err"; rc="$frozen$rejoined $sa$sb$sc check=$* redo=$redo"
    not_ok "host b frozen and thawed"
fi

# ---- 10. three stages: source and sink on a, workers on b and c; completion
N=3000
out="$tmp/r10"
for h in b c a; do start $h -S -w b:2 -w c:2 -n $N -o "$out" -D b:1 -D c:1 -r; done
tap_wait_for 60 ended a && tap_wait_for 30 ended b && tap_wait_for 30 ended c
wait $pid_a; sa=$?; wait $pid_b; sb=$?; wait $pid_c; sc=$?
set -- $(check "$out" $N)
if [ "$sa$sb$sc" = 000 ] && [ "$2" -eq 0 ] && [ "$4" -gt 0 ] && [ "$5" -gt 0 ]; then
    ok "source and sink on a, workers on b and c: all $N reach the sink, every host ended by itself"
else
    cp "$tmp/a.log" "$tmp/out"; cp "$tmp/b.log" "$tmp/err"; rc="$sa$sb$sc check=$*"
    not_ok "three stages over hosts"
fi

# ---- 11. three stages at-least-once, host b killed: the sink counts the copies
# b handled (and whose outputs reached the sink) and c handled again: stats
# duplicates of the sink equal the records the sink wrote twice, exactly.
N=4000
out="$tmp/r11"
for h in b c a; do start $h -S -w b:2 -w c:2 -n $N -o "$out" -D b:1 -D c:1 -r; done
tap_wait_for 60 have "$out" 600
kill -9 -"$pid_b"
tap_wait_for 60 ended a && tap_wait_for 30 ended c
wait $pid_a; sa=$?; wait $pid_c; sc=$?; wait "$pid_b" 2>/dev/null
set -- $(check "$out" $N)
sdups=$(stat_of "$tmp/a.log" sink -1 7); redo=$(stat_of "$tmp/a.log" src 0 6)
if [ "$sa$sc" = 00 ] && [ "$2" -eq 0 ] && [ "${sdups:-x}" = "$3" ] && [ "${redo:-0}" -ge 1 ]; then
    ok "three stages, host b killed: none of $N lost, $redo redelivered; the sink wrote $3 twice and counted $sdups duplicates"
else
    cp "$tmp/a.log" "$tmp/out"; cp "$tmp/a.err" "$tmp/err"; rc="$sa$sc check=$* sink duplicates=$sdups redo=$redo"
    not_ok "three stages, host b killed: duplicates counted by the sink"
fi

# ---- 12. edges: an inbound TCP edge on a feeds "work" spread over b and c, an
# outbound TCP edge on c sends the records to its client; SIGTERM to a drains
pin=$((base + 90)); pout=$((base + 91))
N=2000
for h in b c a; do start $h -w b:2 -w c:2 -E "$pin:c:$pout" -D b:1; done
tap_wait_for 60 ready a && tap_wait_for 60 ready b && tap_wait_for 60 ready c
edge_out=$("${PYTHON3:-python3}" - "$pin" "$pout" $N 2>&1 <<'EOF2'
import socket, struct, sys, time, collections
pin, pout, n = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
def conn(port):
    for _ in range(600):
        try:
            return socket.create_connection(("127.0.0.1", port))
        except OSError:
            time.sleep(0.05)
    raise SystemExit("cannot connect to %d" % port)
out = conn(pout)
out.settimeout(60)
# no wait for the outbound edge to register this client: what reaches the
# edge before it does is held for it (the edge reads one message ahead and
# back-pressure holds the rest), so nothing is lost either way
src = conn(pin)
src.sendall(b"".join(struct.pack("<IQ", 8, i) for i in range(n)))
buf, seen, hosts = b"", collections.Counter(), collections.Counter()
while sum(seen.values()) < n:
    d = out.recv(65536)
    if not d:
        break
    buf += d
    while len(buf) >= 4 and len(buf) >= 4 + struct.unpack_from("<I", buf)[0]:
        size = struct.unpack_from("<I", buf)[0]
        seq, host, _ = struct.unpack_from("<QII", buf, 4)
        buf = buf[4 + size:]
        seen[seq] += 1
        hosts[host] += 1
print(len(seen), sum(seen.values()) - len(seen), hosts.get(1, 0), hosts.get(2, 0))
EOF2
)
kill -TERM $pid_a
tap_wait_for 60 ended a && tap_wait_for 30 ended b && tap_wait_for 30 ended c
wait $pid_a; sa=$?; wait $pid_b; sb=$?; wait $pid_c; sc=$?
set -- $edge_out
if [ "$sa$sb$sc" = 000 ] && [ "${1:-0}" -eq $N ] && [ "${2:-1}" -eq 0 ] && [ "${3:-0}" -gt 0 ] \
    && [ "${4:-0}" -gt 0 ]; then
    ok "edges over hosts: $N frames in on a, through b ($3) and c ($4), out on c's edge once each; drained by SIGTERM on a, every host ended"
else
    cp "$tmp/a.log" "$tmp/out"; cat "$tmp/a.err" "$tmp/b.err" "$tmp/c.err" > "$tmp/err"; rc="$sa$sb$sc client=$edge_out"
    not_ok "edges over hosts (inbound on a, work on b and c, outbound on c)"
fi

# ---- 13. a handler blocking 3x the heartbeat timeout: its runner is not lost
# (the runner's heartbeat thread keeps heartbeats and credit going meanwhile)
N=4
out="$tmp/r13"
for h in b a; do start $h -w b:1 -n $N -o "$out" -D b:1000 -r -b 100:300; done
tap_wait_for 60 ended a && tap_wait_for 30 ended b
wait $pid_a; sa=$?; wait $pid_b; sb=$?
set -- $(check "$out" $N)
lost=$(stat_of "$tmp/a.log" src 0 8); redo=$(stat_of "$tmp/a.log" src 0 6)
blost=$(stat_of "$tmp/b.log" work -1 8)
if [ "$sa$sb" = 00 ] && [ "$2" -eq 0 ] && [ "$3" -eq 0 ] && [ "${lost:-x}" = 0 ] \
    && [ "${redo:-x}" = 0 ] && [ "${blost:-x}" = 0 ] && ! grep -q " lost" "$tmp/a.err" "$tmp/b.err"; then
    ok "a handler blocking 1000 ms (heartbeat timeout 300 ms): nobody declared lost, nothing redelivered, all $N once"
else
    cp "$tmp/a.log" "$tmp/out"; cp "$tmp/b.log" "$tmp/err"; rc="$sa$sb check=$* lost=$lost/$blost redo=$redo"
    not_ok "a handler slower than the heartbeat timeout is not declared lost"
fi

tap_end
