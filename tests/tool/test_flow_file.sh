#!/bin/sh
# SPDX-License-Identifier: MPL-2.0
# Copyright (c) 2026 the mutil authors
# test_flow_file.sh — TAP tests of flow files and `mutil flow run`
# (doc/flow.md, "Flow files"): every documented kind of error in a file
# (exit status 2, the message naming the line or key), flows run end to end
# with worker commands in Python and in POSIX sh and a handler loaded with
# dlopen, a crashing command restarted (nothing lost on an at-least-once
# link), a command writing garbage (errors counted, no hang), SIGINT
# draining a flow.
#
# Environment: top_builddir (the tool is "$top_builddir/mutil"), top_srcdir.
set -u

top_builddir=${top_builddir:-.}
top_srcdir=${top_srcdir:-.}
. "$top_srcdir/tests/lib/tap.sh"
tap_timeout 600 "$0" "$@"
tap_begin mutil-flow-file

MUTIL=$(cd "$top_builddir" && pwd)/mutil
S=$(cd "$top_srcdir/tests/tool/flowfile" && pwd)
LIB=$(cd "$top_builddir/tests/flow/.libs" && pwd)/flow_test_handler.so
PY=/usr/bin/python3

run() {
    COLUMNS=200 timeout "$(tap_seconds 120)" "$MUTIL" flow run "$@" </dev/null >"$tmp/out" 2>"$tmp/err"
    rc=$?
}
status_is() { [ "$rc" -eq "$1" ]; }
out_has() { grep -q -e "$1" "$tmp/out"; }
err_has() { grep -q -F -e "$1" "$tmp/err"; }
# The runners' log lines (mu_log, module "flow") go to stderr, never stdout.
log_has() { grep -q -F -e "$1" "$tmp/err" && ! grep -q -F -e "$1" "$tmp/out"; }

# ---- errors in the file: exit status 2, the place named ---------------------

# bad_file NAME JSON EXPECTED [--host H]: the file is refused with EXPECTED.
bad_file() {
    name=$1 json=$2 expected=$3
    shift 3
    printf '%s\n' "$json" >"$tmp/bad.json"
    run "$tmp/bad.json" "$@"
    if status_is 2 && err_has "$expected"; then
        ok "refused: $name"
    else
        echo "#   expected: $expected"
        not_ok "refused: $name"
    fi
}

SRC='{"name": "src", "type": "source", "command": "true"}'
bad_file "syntax error, with line and column" '{"flow": "x",
  "stages": [,]}' "bad.json:2:"
# The message says the code's text once: "mutil flow run: invalid argument: FILE: ...".
printf '{"flow": "x", "stages": []}\n' >"$tmp/bad.json"
run "$tmp/bad.json"
if status_is 2 && err_has "mutil flow run: invalid argument: $tmp/bad.json: stages:" &&
    ! err_has "invalid argument: invalid argument"; then
    ok "refused: the code's text given once"
else
    not_ok "refused: the code's text given once"
fi
bad_file "not an object" '[1, 2]' "a JSON object at its top"
bad_file "duplicate key" '{"flow": "x", "flow": "y", "stages": []}' "bad.json:1:"
bad_file "missing flow name" '{"stages": ['"$SRC"']}' "bad.json: flow: missing (required)"
bad_file "long flow name" '{"flow": "0123456789012345678901234567890123", "stages": ['"$SRC"']}' \
    "flow: a name of at most 31 bytes"
bad_file "unknown top-level key" '{"flow": "x", "stagez": [], "stages": ['"$SRC"']}' \
    "stagez: unknown key"
bad_file "no stages" '{"flow": "x", "stages": []}' "stages: needs a non-empty list"
bad_file "unknown stage key" '{"flow": "x", "stages": [{"name": "src", "type": "source", "command": "true", "bogus": 1}]}' \
    "stages[0] 'src'.bogus: unknown key"
bad_file "bad stage type" '{"flow": "x", "stages": [{"name": "s", "type": "sauce"}]}' \
    "stages[0] 's'.type: 'sauce': needs"
bad_file "stage without a name" '{"flow": "x", "stages": [{"type": "source"}]}' \
    "stages[0].name: missing (required)"
bad_file "runners out of range" '{"flow": "x", "stages": ['"$SRC"', {"name": "w", "type": "worker", "command": "cat", "runners": 0}]}' \
    "stages[1] 'w'.runners: needs an integer from 1 to 256"
bad_file "worker with command and library" '{"flow": "x", "stages": ['"$SRC"', {"name": "w", "type": "worker", "command": "cat", "library": "a.so:f"}]}' \
    "exactly one of command, library"
bad_file "source with two inputs" '{"flow": "x", "stages": [{"name": "s", "type": "source", "command": "true", "fd": 0}]}' \
    "exactly one of command, file, fd"
bad_file "a source that is not first" '{"flow": "x", "stages": ['"$SRC"', {"name": "s2", "type": "source", "command": "true"}]}' \
    "only the first stage can be a source"
bad_file "missing source file" '{"flow": "x", "stages": [{"name": "s", "type": "source", "file": "nope.frames"}]}' \
    "stages[0] 's'.file:"
bad_file "bad link" '{"flow": "x", "stages": ['"$SRC"', {"name": "w", "type": "worker", "command": "cat", "link": "round"}]}' \
    "stages[1] 'w'.link: 'round'"
bad_file "keyed link without a key" '{"flow": "x", "stages": ['"$SRC"', {"name": "w", "type": "worker", "command": "cat", "link": "keyed"}]}' \
    "a keyed link needs a key"
bad_file "bad key spec" '{"flow": "x", "stages": ['"$SRC"', {"name": "w", "type": "worker", "command": "cat", "link": "keyed", "key": "bytes:2"}]}' \
    "stages[1] 'w'.key: 'bytes:2'"
bad_file "at-least-once on a broadcast link" '{"flow": "x", "stages": ['"$SRC"', {"name": "w", "type": "worker", "command": "cat", "link": "broadcast", "at_least_once": true}]}' \
    "at_least_once: needs a balanced link"
bad_file "wrong value type" '{"flow": "x", "stages": ['"$SRC"', {"name": "w", "type": "worker", "command": "cat", "drop": "yes"}]}' \
    "stages[1] 'w'.drop: needs true or false"
bad_file "library that cannot be loaded" '{"flow": "x", "stages": ['"$SRC"', {"name": "w", "type": "worker", "library": "nope.so:f"}]}' \
    "stages[1] 'w'.library: cannot load"
bad_file "symbol not in the library" '{"flow": "x", "stages": ['"$SRC"', {"name": "w", "type": "worker", "library": "'"$LIB"':nope"}]}' \
    "no symbol 'nope'"
bad_file "edge without a host" '{"flow": "x", "stages": ['"$SRC"', {"name": "e", "type": "edge", "edges": [{"port": 1}]}]}' \
    "stages[1] 'e'.edges[0].host: missing (required)"
bad_file "edge with a bad transport" '{"flow": "x", "stages": ['"$SRC"', {"name": "e", "type": "edge", "edges": [{"host": "127.0.0.1", "transport": "udp"}]}]}' \
    "edges[0].transport: 'udp'"
bad_file "short passphrase" '{"flow": "x", "keys": {"secret": "short"}, "stages": ['"$SRC"']}' \
    "keys.secret: cannot derive keys"
bad_file "two kinds of keys" '{"flow": "x", "keys": {"secret": "0123456789abcdef0123", "secret_file": "f"}, "stages": ['"$SRC"']}' \
    "keys: needs exactly one of"
HOSTS='"hosts": [{"name": "A", "address": "127.0.0.1", "base_port": 7000}]'
bad_file "hosts but no --host" '{"flow": "x", '"$HOSTS"', "stages": ['"$SRC"']}' \
    "say which one this is (--host NAME)"
bad_file "unknown --host" '{"flow": "x", '"$HOSTS"', "stages": ['"$SRC"']}' \
    "no host named 'B'" --host B
bad_file "--host without hosts" '{"flow": "x", "stages": ['"$SRC"']}' \
    "the file lists no hosts" --host A
bad_file "runners on an unknown host" '{"flow": "x", '"$HOSTS"', "stages": ['"$SRC"', {"name": "w", "type": "worker", "command": "cat", "runners": {"C": 1}}]}' \
    "stages[1] 'w'.runners: host 'C'" --host A
bad_file "host without a port" '{"flow": "x", "hosts": [{"name": "A", "address": "127.0.0.1"}], "stages": ['"$SRC"']}' \
    "hosts[0].base_port: missing (required)" --host A
PA='{"name": "sa", "type": "source", "command": "true", "pipeline": "a"}'
PB='{"name": "sb", "type": "source", "command": "true", "pipeline": "b"}'
bad_file "a pipeline named by some stages only" '{"flow": "x", "stages": ['"$PA"', {"name": "w", "type": "worker", "command": "cat"}]}' \
    "stages[1] 'w'.pipeline: missing: every stage names its pipeline, or none does"
bad_file "a pipeline named after stages without one" '{"flow": "x", "stages": ['"$SRC"', {"name": "w", "type": "worker", "command": "cat", "pipeline": "a"}]}' \
    "stages[1] 'w'.pipeline: named: every stage names its pipeline, or none does"
bad_file "a pipeline whose stages are apart" '{"flow": "x", "stages": ['"$PA"', '"$PB"', {"name": "w", "type": "worker", "command": "cat", "pipeline": "a"}]}' \
    "stages[2] 'w'.pipeline: 'a' has stages earlier: the stages of a pipeline are consecutive"
bad_file "a long pipeline name" '{"flow": "x", "stages": [{"name": "s", "type": "source", "command": "true", "pipeline": "0123456789012345678901234567890123"}]}' \
    "stages[0] 's': invalid argument: flow 'x': pipeline name '0123456789012345678901234567890123' empty or over 31 bytes"
bad_file "a wrong pipeline type" '{"flow": "x", "stages": [{"name": "s", "type": "source", "command": "true", "pipeline": 7}]}' \
    "stages[0] 's'.pipeline: needs a non-empty string"
bad_file "a link into the first stage of a pipeline" '{"flow": "x", "stages": ['"$PA"', {"name": "w", "type": "worker", "command": "cat", "pipeline": "b", "link": "broadcast"}]}' \
    "stages[1] 'w'.link: the first stage of a pipeline has no link into it"
bad_file "pipelines with hosts" '{"flow": "x", '"$HOSTS"', "stages": ['"$PA"']}' \
    "stages[0] 'sa'.pipeline: named pipelines do not mix with hosts" --host A
bad_file "a policy for an unknown pipeline" '{"flow": "x", "pipelines": {"zz": {}}, "stages": ['"$PA"']}' \
    "pipelines.zz: no stage names pipeline 'zz'"
bad_file "a bad failure policy" '{"flow": "x", "pipelines": {"a": {"on_failure": "never"}}, "stages": ['"$PA"']}' \
    "pipelines.a.on_failure: 'never': needs \"isolate\" or \"fail_flow\""
bad_file "an unknown pipeline setting" '{"flow": "x", "pipelines": {"a": {"policy": "isolate"}}, "stages": ['"$PA"']}' \
    "pipelines.a.policy: unknown key"

run "$tmp/absent.json"
if status_is 2 && err_has "absent.json: No such file"; then ok "refused: no such file"; else not_ok "refused: no such file"; fi
run
if status_is 2 && err_has "missing the flow file"; then ok "usage: no file"; else not_ok "usage: no file"; fi

# ---- flows run end to end ----------------------------------------------------

# lines_ok FILE N PREFIX: FILE holds PREFIX0..PREFIX(N-1), each once.
lines_ok() {
    [ -f "$1" ] && [ "$(sort "$1" | uniq | wc -l)" -eq "$2" ] && [ "$(wc -l <"$1")" -eq "$2" ] \
        && [ "$(grep -c "^$3[0-9]*\$" "$1")" -eq "$2" ]
}

cat >"$tmp/py.json" <<JSON
{"flow": "py", "_comment": "a Python source, 3 Python workers, a Python sink",
 "stages": [
  {"name": "gen", "type": "source", "command": "$PY $S/gen.py 2000"},
  {"name": "up", "type": "worker", "command": "$PY $S/upper.py", "runners": 3},
  {"name": "sink", "type": "worker", "command": "$PY $S/sink.py out-py"}
 ]}
JSON
run "$tmp/py.json"
if status_is 0 && out_has "^flow .*py.json: ready (supervisor pid [0-9]*)" && out_has "finished" \
    && out_has "^up *all .* 2000 *2000 *0 *0 " && lines_ok "$tmp/out-py.0" 2000 "py:" \
    && [ -f "$tmp/out-py.0.end" ]; then
    ok "Python worker commands: 2000 messages through, each once"
else
    not_ok "Python worker commands: 2000 messages through, each once"
fi

cat >"$tmp/sh.json" <<JSON
{"flow": "sh",
 "stages": [
  {"name": "gen", "type": "source", "command": "$PY $S/gen.py 300"},
  {"name": "up", "type": "worker", "command": "sh $S/upper.sh", "runners": 2},
  {"name": "sink", "type": "worker", "command": "$PY $S/sink.py out-sh"}
 ]}
JSON
run "$tmp/sh.json"
check "POSIX sh worker command (head -c, od): 300 messages through" \
    eval 'status_is 0 && out_has "^up *all .* 300 *300 *0 *0 " && lines_ok "$tmp/out-sh.0" 300 "sh:"'

cat >"$tmp/lib.json" <<JSON
{"flow": "lib",
 "stages": [
  {"name": "gen", "type": "source", "command": "$PY $S/gen.py 500"},
  {"name": "pre", "type": "worker", "library": "$LIB:prefix_handler", "startup": "prefix_startup",
   "teardown": "prefix_teardown", "arg": "so:", "runners": 2, "link": "keyed", "key": "whole"},
  {"name": "sink", "type": "worker", "command": "$PY $S/sink.py out-lib"}
 ]}
JSON
run "$tmp/lib.json"
if status_is 0 && out_has "^pre *all .* 500 *502 *0 *0 " && [ "$(grep -c '^so:[0-9]*$' "$tmp/out-lib.0")" -eq 500 ] \
    && [ "$(grep -c '^teardown$' "$tmp/out-lib.0")" -eq 2 ]; then
    ok "dlopen handler with startup, arg, teardown on a keyed link"
else
    not_ok "dlopen handler with startup, arg, teardown on a keyed link"
fi

cat >"$tmp/crash.json" <<JSON
{"flow": "crash",
 "stages": [
  {"name": "gen", "type": "source", "command": "$PY $S/gen.py 200"},
  {"name": "crashy", "type": "worker", "command": "$PY $S/crash.py crashed", "at_least_once": true},
  {"name": "sink", "type": "worker", "command": "$PY $S/sink.py out-crash"}
 ]}
JSON
run "$tmp/crash.json"
if status_is 0 && out_has "^crashy *all .* 1 *0 " && log_has "ended while it ran (exit status 1)" \
    && [ "$(sort -u "$tmp/out-crash.0" | grep -c '^[0-9]*$')" -eq 200 ]; then
    ok "a crashing command is restarted with its runner; nothing lost at-least-once"
else
    not_ok "a crashing command is restarted with its runner; nothing lost at-least-once"
fi

cat >"$tmp/garbage.json" <<JSON
{"flow": "garbage",
 "stages": [
  {"name": "gen", "type": "source", "command": "$PY $S/gen.py 20"},
  {"name": "bad", "type": "worker", "command": "$PY $S/garbage.py", "max_frame": 65536},
  {"name": "sink", "type": "worker", "command": "$PY $S/sink.py out-garbage"}
 ]}
JSON
run "$tmp/garbage.json"
check "garbage frames from a command: an error per input, no hang" \
    eval 'status_is 0 && out_has "^bad *all .* 20 *0 *20 *0 " && log_has "wrote a frame over max_frame (65536 bytes)"'

# Two pipelines in one file: each counts its own messages; the table
# shows the pipeline column.
cat >"$tmp/pipes.json" <<JSON
{"flow": "pipes", "pipelines": {"left": {"on_failure": "fail_flow"}},
 "stages": [
  {"name": "gen-l", "type": "source", "command": "$PY $S/gen.py 120", "pipeline": "left"},
  {"name": "up-l", "type": "worker", "command": "$PY $S/upper.py", "runners": 2, "pipeline": "left"},
  {"name": "sink-l", "type": "worker", "command": "$PY $S/sink.py out-left", "pipeline": "left"},
  {"name": "gen-r", "type": "source", "command": "$PY $S/gen.py 70", "pipeline": "right"},
  {"name": "sink-r", "type": "worker", "command": "$PY $S/sink.py out-right", "pipeline": "right"}
 ]}
JSON
run "$tmp/pipes.json"
check "two pipelines in one file: their own counts, a pipeline column" \
    eval 'status_is 0 && out_has "^pipeline *stage *runner" && out_has "^left *up-l *all .* 120 *120 *0 *0 " \
        && out_has "^right *sink-r *all .* 70 *0 *0 *0 " && lines_ok "$tmp/out-left.0" 120 "py:" \
        && lines_ok "$tmp/out-right.0" 70 ""'

# A command that never answers: timeout_ms bounds each input.
cat >"$tmp/silent.json" <<JSON
{"flow": "silent",
 "stages": [
  {"name": "gen", "type": "source", "command": "$PY $S/gen.py 4"},
  {"name": "mute", "type": "worker", "command": "exec sleep 1000", "timeout_ms": 300},
  {"name": "sink", "type": "worker", "command": "$PY $S/sink.py out-silent"}
 ]}
JSON
run "$tmp/silent.json"
check "a command that never answers: timeout_ms, an error per input, no hang" \
    eval 'status_is 0 && out_has "^mute *all .* 4 *0 *4 *0 " && log_has "no done marker within 300 ms"'

sed 's/gen.py 4/gen.py 0/' "$tmp/silent.json" >"$tmp/silent0.json"
run "$tmp/silent0.json"
check "a command that does not end after its input: timeout_ms, an error, no hang" \
    eval 'status_is 0 && out_has "^mute *all .* 0 *0 *1 *0 " && log_has "did not end within 300 ms after its input ended"'

# File and descriptor sources: mu_pipe frames from a file, and from stdin.
"$PY" "$S/gen.py" 50 >"$tmp/input.frames"
cat >"$tmp/filesrc.json" <<JSON
{"flow": "filesrc",
 "stages": [
  {"name": "in", "type": "source", "file": "input.frames"},
  {"name": "sink", "type": "worker", "command": "$PY $S/sink.py out-file"}
 ]}
JSON
run "$tmp/filesrc.json"
check "file source: a file of mu_pipe frames" \
    eval 'status_is 0 && lines_ok "$tmp/out-file.0" 50 ""'
sed 's/"file": "input.frames"/"fd": 0/; s/out-file/out-fd/' "$tmp/filesrc.json" >"$tmp/fdsrc.json"
COLUMNS=200 timeout "$(tap_seconds 120)" "$MUTIL" flow run "$tmp/fdsrc.json" <"$tmp/input.frames" \
    >"$tmp/out" 2>"$tmp/err"
rc=$?
check "fd source: mu_pipe frames on mutil's standard input" \
    eval 'status_is 0 && lines_ok "$tmp/out-fd.0" 50 ""'

# An outbound TCP edge: a client reads what the workers emit.
cat >"$tmp/edge.json" <<JSON
{"flow": "edge",
 "stages": [
  {"name": "gen", "type": "source", "command": "read go <go-edge; exec $PY $S/gen.py 100"},
  {"name": "up", "type": "worker", "command": "$PY $S/upper.py", "runners": 2},
  {"name": "out", "type": "edge", "link": "broadcast",
   "edges": [{"host": "127.0.0.1", "port": 0, "listen": true, "max_frame": 4096}]}
 ]}
JSON
# The source starts once the client is connected (the edge has a client):
# it reads a line from the FIFO go-edge, which the client writes. The client
# takes the port from the ready line, which the test reads from mutil's
# output as it comes.
mkfifo "$tmp/go-edge"
tap_start_watched "$tmp/out" 60 "*: ready *edge out?0? port [0-9]*" \
    env COLUMNS=200 timeout "$(tap_seconds 120)" "$MUTIL" flow run "$tmp/edge.json" 2>"$tmp/err"
fpid=$tap_pid catpid=$tap_copy_pid
port=$(sed -n 's/.* edge out\[0\] port \([0-9]*\).*/\1/p' "$tmp/out")
"$PY" "$S/edge_client.py" "${port:-0}" "$tmp/go-edge" 100 >"$tmp/edge-got" 2>"$tmp/edge-err"
crc=$?
# A client that failed before writing go-edge: the source goes on (no hang).
[ "$crc" -eq 0 ] || : <>"$tmp/go-edge"
wait "$fpid"
rc=$?
wait "$catpid"
if status_is 0 && [ "$crc" -eq 0 ] && out_has "ready .* edge out\[0\] port [0-9]" \
    && [ "$(sort -u "$tmp/edge-got" | grep -c '^py:[0-9]*$')" -eq 100 ]; then
    ok "outbound TCP edge from a file: its port on the ready line, a client gets every message"
else
    sed 's/^/#   client: /' "$tmp/edge-err" | head -n 5
    not_ok "outbound TCP edge from a file: its port on the ready line, a client gets every message"
fi

# The README's example file, as shipped.
cp -r "$top_srcdir/examples/flow" "$tmp/example"
PATH="$(dirname "$PY"):$PATH" run "$tmp/example/flow.json"
if status_is 0 && out_has "^show *all .* 20 *0 *0 *0 " && grep -q "^\[local/[01]\] LINE 19\$" "$tmp/err"; then
    ok "examples/flow/flow.json runs: Python, sh, keyed link"
else
    not_ok "examples/flow/flow.json runs: Python, sh, keyed link"
fi

# first_message NAME: waits (60 s at most, scaled) for the line the sink
# writes to the FIFO first-NAME once it has its first message.
first_message() {
    timeout "$(tap_seconds 60)" sh -c 'read line <"$1"' sh "$tmp/first-$1" \
        || echo "# no first message for $1"
}

# stage_in STAGE FILE: the "in" figure of STAGE's total row in the statistics
# table of FILE (the column found by its header: the table shows a pid column
# only while runners run).
stage_in() {
    awk -v stage="$1" '$1 == "stage" { for (i = 1; i <= NF; i++) if ($i == "in") col = i }
        $1 == stage && $2 == "all" { print $col }' "$2"
}

# SIGINT drains: an endless source stops, everything it produced gets through.
cat >"$tmp/endless.json" <<JSON
{"flow": "endless",
 "stages": [
  {"name": "gen", "type": "source", "command": "$PY $S/gen.py 100000000"},
  {"name": "up", "type": "worker", "command": "$PY $S/upper.py"},
  {"name": "sink", "type": "worker", "command": "$PY $S/sink.py out-endless first-endless"}
 ]}
JSON
# (Not under timeout(1), which passes a signal on to its whole process
# group as well: mutil would see two; tap_timeout bounds the script.) The
# sink writes a line to the FIFO first-endless after its first message.
mkfifo "$tmp/first-endless"
tap_start_watched "$tmp/out" 60 "*: ready*" env COLUMNS=200 "$MUTIL" flow run "$tmp/endless.json" \
    2>"$tmp/err"
fpid=$tap_pid catpid=$tap_copy_pid
first_message endless
kill -INT "$fpid"
wait "$fpid"
rc=$?
wait "$catpid"
if status_is 0 && out_has "finished" && err_has "draining" && [ -f "$tmp/out-endless.0.end" ] \
    && [ "$(grep -c '^up *all' "$tmp/out")" -eq 1 ] \
    && [ "$(stage_in sink "$tmp/out")" -eq "$(wc -l <"$tmp/out-endless.0")" ]; then
    ok "SIGINT drains the flow: what the source produced is all handled, exit 0"
else
    not_ok "SIGINT drains the flow: what the source produced is all handled, exit 0"
fi

# kill -9 of every process of a running `mutil flow run` leaves its directory
# in $XDG_RUNTIME_DIR; the next flow started there removes it.
mkdir "$tmp/xdg"
sed 's/out-endless/out-killed/; s/first-endless/first-killed/' "$tmp/endless.json" >"$tmp/killed.json"
mkfifo "$tmp/first-killed"
XDG_RUNTIME_DIR="$tmp/xdg" setsid "$MUTIL" flow run "$tmp/killed.json" </dev/null >"$tmp/out" 2>"$tmp/err" &
kpid=$!
first_message killed
kill -9 "-$kpid" # the whole process group: mutil, supervisor, runners, commands
wait "$kpid" 2>/dev/null
left=$(ls -d "$tmp/xdg"/muflow-* 2>/dev/null | wc -l)
XDG_RUNTIME_DIR="$tmp/xdg" run "$tmp/filesrc.json"
if [ "$left" -eq 1 ] && status_is 0 && [ -z "$(ls "$tmp/xdg")" ]; then
    ok "kill -9 of a whole flow leaves its directory; the next flow reaps it"
else
    echo "#   left behind: $left; now: $(ls "$tmp/xdg")"
    not_ok "kill -9 of a whole flow leaves its directory; the next flow reaps it"
fi

# ---- two hosts on 127.0.0.1: two `mutil flow run same.json --host A/B` ---------

# A free range of 8 ports from 20000 up (nothing listens on any of them).
free_base() {
    "$PY" - <<'PYEOF'
import random, socket
for _ in range(200):
    base = random.randrange(20000, 60000, 8)
    socks = []
    try:
        for p in range(base, base + 8):
            s = socket.socket(); s.bind(('127.0.0.1', p)); socks.append(s)
        print(base); break
    except OSError:
        pass
    finally:
        for s in socks: s.close()
PYEOF
}

# two_hosts NAME KEYS: writes $tmp/NAME.json (source and sink on A, 1 worker
# on A and 2 on B, at-least-once), runs host B in the background and host A,
# both to their end.
two_hosts() {
    base=$(free_base)
    cat >"$tmp/$1.json" <<JSON
{"flow": "$1",
 "hosts": [{"name": "A", "address": "127.0.0.1", "base_port": $base},
           {"name": "B", "address": "127.0.0.1", "base_port": $((base + 4))}],
 $2
 "heartbeat": {"interval_ms": 500, "timeout_ms": 5000},
 "stage_deadline": {"ms": 20000, "fail": true},
 "stages": [
  {"name": "gen", "type": "source", "runners": {"A": 1},
   "command": "read go <go-$1; exec $PY $S/gen.py 1000"},
  {"name": "up", "type": "worker", "command": "$PY $S/upper.py", "runners": {"A": 1, "B": 2},
   "at_least_once": true},
  {"name": "sink", "type": "worker", "command": "$PY $S/sink.py out-$1", "runners": {"A": 1}}
 ]}
JSON
    mkfifo "$tmp/go-$1" "$tmp/b-$1.fifo"
    COLUMNS=200 timeout "$(tap_seconds 90)" "$MUTIL" flow run "$tmp/$1.json" --host B </dev/null \
        >"$tmp/b-$1.fifo" 2>"$tmp/b.err" &
    bpid=$!
    # The source starts once B's workers have joined A's source (B's event
    # line, read from B's output as it comes; or B's end), so that B gets
    # work whatever the timing: the source reads a line from the FIFO go-NAME
    # first. The writer waits in the background for the source to open it.
    {
        tap_read_until 60 "*stage up: hosts joined*" || echo "# host B: no 'hosts joined' line" >&2
        printf 'go\n' >"$tmp/go-$1" &
        cat
    } <"$tmp/b-$1.fifo" >"$tmp/b.out" &
    watchpid=$!
    run "$tmp/$1.json" --host A
    wait "$bpid"
    brc=$?
    wait "$watchpid"
    # Should A have ended before its source opened go-NAME, this lets a
    # writer still waiting for it end (it gets SIGPIPE): nothing is left.
    : <>"$tmp/go-$1"
}

two_hosts shared '"keys": {"secret": "a shared passphrase for the test"},'
if status_is 0 && [ "$brc" -eq 0 ] && grep -q "host B: ready" "$tmp/b.out" \
    && grep -q "finished" "$tmp/b.out" && [ "$(sort -u "$tmp/out-shared.0" | grep -c '^py:[0-9]*$')" -eq 1000 ]; then
    # B's runners join when they connect: how much they got depends on timing.
    echo "# host B handled $(stage_in up "$tmp/b.out") of 1000"
    ok "two hosts, shared passphrase: both parts end by themselves, 1000 messages"
else
    sed 's/^/#   B: /' "$tmp/b.out" | grep -v " I flow: " | head -n 12
    not_ok "two hosts, shared passphrase: both parts end by themselves, 1000 messages"
fi

(cd "$tmp" && "$MUTIL" keygen A.cert >/dev/null && "$MUTIL" keygen B.cert >/dev/null)
two_hosts certs '"keys": {"hosts": {"A": "A.cert", "B": "B.cert"}},'
if status_is 0 && [ "$brc" -eq 0 ] && [ "$(sort -u "$tmp/out-certs.0" | grep -c '^py:[0-9]*$')" -eq 1000 ]; then
    ok "two hosts, per-host certificates: 1000 messages"
else
    sed 's/^/#   B: /' "$tmp/b.out" | grep -v " I flow: " | head -n 12
    not_ok "two hosts, per-host certificates: 1000 messages"
fi

# A file source placed on host B with "on" (doc/flow.md: fd and file
# sources run on one host): B reads the file, A (which only holds a
# placeholder for it) gets every frame in its sink; both parts end.
base=$(free_base)
cat >"$tmp/onb.json" <<JSON
{"flow": "onb",
 "hosts": [{"name": "A", "address": "127.0.0.1", "base_port": $base},
           {"name": "B", "address": "127.0.0.1", "base_port": $((base + 4))}],
 "heartbeat": {"interval_ms": 500, "timeout_ms": 5000},
 "stage_deadline": {"ms": 20000, "fail": true},
 "stages": [
  {"name": "in", "type": "source", "file": "input.frames", "on": "B"},
  {"name": "sink", "type": "worker", "command": "$PY $S/sink.py out-onb", "runners": {"A": 1}}
 ]}
JSON
COLUMNS=200 timeout "$(tap_seconds 90)" "$MUTIL" flow run "$tmp/onb.json" --host B </dev/null \
    >"$tmp/b-onb.out" 2>"$tmp/b-onb.err" &
bpid=$!
run "$tmp/onb.json" --host A
wait "$bpid"
brc=$?
if status_is 0 && [ "$brc" -eq 0 ] && lines_ok "$tmp/out-onb.0" 50 ""; then
    ok "file source on host B (\"on\"): B reads it, A's sink gets its 50 frames"
else
    echo "# A: rc $rc; B: rc $brc" && sed 's/^/#   B: /' "$tmp/b-onb.err" | head -n 8
    not_ok "file source on host B (\"on\"): B reads it, A's sink gets its 50 frames"
fi

tap_end
