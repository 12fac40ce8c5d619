#!/bin/bash
# SPDX-License-Identifier: MPL-2.0
# Copyright (c) 2026 the mutil authors
# test_transfer_cli.sh — TAP tests of `mutil call`, `get` and `put` as a
# user meets them: a connection that cannot work fails fast and says why
# (refused port, unknown host, wrong secret, wrong server key, refused
# client cert); errors name the path that is wrong and what to do; LOCAL
# may be a directory or - (stdin/stdout); Ctrl-C during a download keeps
# LOCAL.partial and --resume continues it from there.
#
# Environment: top_builddir (the tool is "$top_builddir/mutil"), top_srcdir,
# PYTHON3.
set -u

top_builddir=${top_builddir:-.}
MUTIL="$top_builddir/mutil"
. "${top_srcdir:-.}/tests/lib/tap.sh"
tap_begin mutil-transfer-cli
PY=${PYTHON3:-python3}
if [ -z "$PY" ]; then PY=python3; fi

check() {
    if eval "$2"; then ok "$1"; else not_ok "$1"; fi
}

run() {
    "$MUTIL" "$@" </dev/null >"$tmp/out" 2>"$tmp/err"
    rc=$?
}

now_ms() { echo $(($(date +%s%N) / 1000000)); }

# timed ARG... : run, and $took = its duration in ms.
timed() {
    local start
    start=$(now_ms)
    run "$@"
    took=$(($(now_ms) - start))
}

err_has() { grep -q -F -e "$1" "$tmp/err"; }
err_lacks() { ! grep -q -F -e "$1" "$tmp/err"; }

# A call's timeout, and the bound a failing-fast call must beat.
LONG=$((60000 * $(tap_seconds 1)))   # a slow resolver must still beat FAST
FAST=$((LONG / 4))

# start_server NAME ARG... : runs `mutil serve --bind tcp://127.0.0.1:*`
# in the background and reads the bound endpoint from its first line of
# output (through a fifo: no polling); sets $EP and $server_pid.
server_pid=
start_server() {
    local name=$1
    shift
    rm -f "$tmp/$name.fifo"
    mkfifo "$tmp/$name.fifo"
    "$MUTIL" serve --bind 'tcp://127.0.0.1:*' "$@" >"$tmp/$name.fifo" 2>"$tmp/$name.err" &
    server_pid=$!
    exec 4<"$tmp/$name.fifo"
    EP=
    read -r -t "$(tap_seconds 20)" EP <&4
    exec 4<&-
    [ -n "$EP" ]
}

stop_server() {
    if [ -n "$server_pid" ]; then
        kill -INT "$server_pid" 2>/dev/null
        wait "$server_pid" 2>/dev/null
        server_pid=
    fi
}
trap 'stop_server; rm -rf "$tmp"' EXIT

mkdir -p "$tmp/root/sub" "$tmp/local" "$tmp/allow" "$tmp/spool"
umask 077
printf 'correct horse battery staple\n' >"$tmp/secret"
printf 'another passphrase entirely\n' >"$tmp/wrong"
head -c 1000003 /dev/urandom >"$tmp/root/sub/blob.bin"
head -c 4000000 /dev/urandom >"$tmp/root/big.bin"
KEYS="--secret-file $tmp/secret"

# ---- a connection that cannot work fails fast, saying why ------------------------

port=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
timed call "tcp://127.0.0.1:$port" hi $KEYS --timeout $LONG
check "a refused port: exit 1, 'connection refused', well before the timeout" \
    '[ $rc -eq 1 ] && err_has "connection refused" && err_has "is the server running" && [ $took -lt $FAST ]'

timed get "tcp://127.0.0.1:$port" sub/blob.bin "$tmp/local/x" $KEYS --timeout $LONG
check "get from a refused port fails as fast and leaves nothing" \
    '[ $rc -eq 1 ] && err_has "connection refused" && [ $took -lt $FAST ] && [ -z "$(ls -A "$tmp/local")" ]'

timed call tcp://nonexistent.invalid:5555 hi $KEYS --timeout $LONG
check "an unresolvable host: exit 1, 'unknown host', well before the timeout" \
    '[ $rc -eq 1 ] && err_has "unknown host" && [ $took -lt $FAST ]'

check "serve --secret-file starts (its endpoint read from its output)" \
    'start_server s1 --root "$tmp/root" $KEYS'

timed call "$EP" hi --secret-file "$tmp/wrong" --timeout $LONG
check "a wrong secret: exit 1, 'handshake failed' naming --secret-file, well before the timeout" \
    '[ $rc -eq 1 ] && err_has "handshake failed" && err_has "the --secret-file differs" && [ $took -lt $FAST ]'

timed call "$EP" hi --insecure --timeout $LONG
check "--insecure against a secret server: exit 1, 'handshake failed', fast" \
    '[ $rc -eq 1 ] && err_has "handshake failed" && [ $took -lt $FAST ]'

# ---- errors name the path that is wrong ---------------------------------------------

run put "$EP" "$tmp/no-such-file" sub/dest $KEYS
check "put of a missing LOCAL names LOCAL, not REMOTE" \
    '[ $rc -eq 1 ] && err_has "$tmp/no-such-file" && err_has "No such file" && err_lacks "sub/dest"'

run put "$EP" "$tmp/local" sub/dest $KEYS
check "put of a directory says so" '[ $rc -eq 1 ] && err_has "$tmp/local'"'"' is a directory"'

run get "$EP" sub/blob.bin "$tmp/nowhere/blob.bin" $KEYS
check "get into a missing local directory names that directory" \
    '[ $rc -eq 1 ] && err_has "directory '"'"'$tmp/nowhere'"'"' does not exist" && err_lacks "sub/blob.bin"'

run get "$EP" sub/no-such-file "$tmp/local/x" $KEYS
check "get of a missing REMOTE names REMOTE, on the server" \
    '[ $rc -eq 1 ] && err_has "'"'"'sub/no-such-file'"'"' on the server" && err_has MU_ENOENT && [ ! -e "$tmp/local/x" ]'

run get "$EP" sub/blob.bin "$tmp/local" $KEYS
check "get into an existing directory keeps REMOTE's name" \
    '[ $rc -eq 0 ] && cmp -s "$tmp/root/sub/blob.bin" "$tmp/local/blob.bin"'

run get "$EP" sub/blob.bin "$tmp/local" $KEYS
check "get onto an existing file names it and says --force" \
    '[ $rc -eq 1 ] && err_has "$tmp/local/blob.bin'"'"' already exists: add --force"'

run get "$EP" sub/blob.bin "$tmp/local/blob.bin" $KEYS --force
check "--force replaces it" '[ $rc -eq 0 ] && cmp -s "$tmp/root/sub/blob.bin" "$tmp/local/blob.bin"'

run put "$EP" "$tmp/local/blob.bin" sub/blob.bin $KEYS
check "put onto an existing REMOTE says it is on the server and says --force" \
    '[ $rc -eq 1 ] && err_has "'"'"'sub/blob.bin'"'"' already exists on the server: add --force"'

# ---- the progress bar fits the terminal ---------------------------------------------

# widest_on_pty COLUMNS : runs a get on a pseudo-terminal that wide; $rc,
# and $widest = the longest line drawn (carriage returns end lines too).
widest_on_pty() {
    rm -f "$tmp/local/pty.bin"
    "$PY" "${top_srcdir:-.}/tests/lib/pty_run.py" "$1" "$MUTIL" get "$EP" sub/blob.bin \
        "$tmp/local/pty.bin" $KEYS --chunk 4K >"$tmp/out" 2>"$tmp/err"
    rc=$?
    widest=$(tr '\r' '\n' <"$tmp/out" | awk '{ if (length($0) > w) w = length($0) } END { print w + 0 }')
}
widest_on_pty 40
check "the progress bar fits a 40-column terminal" \
    '[ $rc -eq 0 ] && grep -q "100%" "$tmp/out" && [ "$widest" -le 40 ]'
widest_on_pty 120
check "it uses the width of a 120-column terminal" \
    '[ $rc -eq 0 ] && grep -q "100%" "$tmp/out" && [ "$widest" -gt 80 ] && [ "$widest" -le 120 ]'
widest_on_pty 20
check "a terminal too narrow for a bar gets the figures, cut to fit" \
    '[ $rc -eq 0 ] && grep -q "100%" "$tmp/out" && [ "$widest" -le 20 ]'
rm -f "$tmp/local/pty.bin"

# ---- - is standard input / output ------------------------------------------------------

TMPDIR="$tmp/spool" "$MUTIL" get "$EP" sub/blob.bin - $KEYS </dev/null >"$tmp/out" 2>"$tmp/err"
rc=$?
check "get REMOTE - writes the file to stdout and leaves no temporary file" \
    '[ $rc -eq 0 ] && cmp -s "$tmp/root/sub/blob.bin" "$tmp/out" && [ -z "$(ls -A "$tmp/spool")" ]'

run get "$EP" sub/blob.bin - $KEYS --resume
check "get - --resume is a usage error (exit 2)" '[ $rc -eq 2 ] && err_has "--resume needs a LOCAL file"'

cat "$tmp/root/sub/blob.bin" | TMPDIR="$tmp/spool" "$MUTIL" put "$EP" - sub/piped.bin $KEYS \
    >"$tmp/out" 2>"$tmp/err"
rc=$?
check "put - REMOTE uploads a pipe" '[ $rc -eq 0 ] && cmp -s "$tmp/root/sub/blob.bin" "$tmp/root/sub/piped.bin"'

"$MUTIL" put "$EP" - sub/redirected.bin $KEYS <"$tmp/root/sub/blob.bin" >"$tmp/out" 2>"$tmp/err"
rc=$?
check "put - REMOTE uploads a redirected file" \
    '[ $rc -eq 0 ] && cmp -s "$tmp/root/sub/blob.bin" "$tmp/root/sub/redirected.bin"'

# ---- Ctrl-C keeps LOCAL.partial; --resume continues it ----------------------------------

# A slow download (16-byte chunks, one in flight: minutes for 4 MB) with
# progress lines on stderr; SIGINT once a line reports bytes received.
mkfifo "$tmp/progress"
"$MUTIL" get "$EP" big.bin "$tmp/local/big.bin" $KEYS --chunk 16 --window 1 --progress \
    </dev/null >"$tmp/out" 2>"$tmp/progress" &
pid=$!
exec 5<"$tmp/progress"
seen=0
while read -r -t "$(tap_seconds 30)" line <&5; do
    echo "$line" >>"$tmp/err.get"
    case $line in
        *": 0 of "*) ;;
        *" of 4000000 bytes") seen=1; break ;;
    esac
done
kill -INT "$pid"
cat <&5 >>"$tmp/err.get"
exec 5<&-
wait "$pid"
rc=$?
cp "$tmp/err.get" "$tmp/err"
kept=$(stat -c %s "$tmp/local/big.bin.partial" 2>/dev/null || echo 0)
check "Ctrl-C during get: the tool dies of SIGINT after saying what it kept" \
    '[ $seen -eq 1 ] && [ $rc -eq 130 ] && err_has "interrupted; $kept bytes kept in" && err_has "--resume"'
check "it keeps LOCAL.partial, no LOCAL and no temporary file" \
    '[ "$kept" -gt 0 ] && [ ! -e "$tmp/local/big.bin" ] && [ -z "$(ls -A "$tmp/local" | grep -v -e "^big.bin.partial$" -e "^blob.bin$")" ]'

run get "$EP" big.bin "$tmp/local/big.bin" $KEYS
check "get without --resume leaves LOCAL.partial alone and says how to go on" \
    '[ $rc -eq 1 ] && err_has "big.bin.partial'"'"' holds $kept bytes" && err_has "--resume" && [ "$(stat -c %s "$tmp/local/big.bin.partial")" -eq "$kept" ]'

run get "$EP" big.bin "$tmp/local/big.bin" $KEYS --resume --progress
first=$(sed -n '1s/^mutil get: \([0-9]*\) of .*/\1/p' "$tmp/err")
check "get --resume continues from the partial's size and completes" \
    '[ $rc -eq 0 ] && [ "$first" = "$kept" ] && cmp -s "$tmp/root/big.bin" "$tmp/local/big.bin" && [ ! -e "$tmp/local/big.bin.partial" ]'

stop_server

# ---- certificates: wrong server key, client not allowed ------------------------------

"$MUTIL" keygen "$tmp/server" >/dev/null 2>&1
"$MUTIL" keygen "$tmp/allow/client" >/dev/null 2>&1
"$MUTIL" keygen "$tmp/stranger" >/dev/null 2>&1
mv "$tmp/allow/client_secret" "$tmp/client_secret"
cp "$tmp/allow/client" "$tmp/client"
check "serve --cert starts" 'start_server s2 --cert "$tmp/server" --allow "$tmp/allow"'

timed call "$EP" hi --cert "$tmp/client" --server-key "$tmp/stranger" --timeout $LONG
check "a wrong --server-key: exit 1, 'handshake failed' naming --server-key, fast" \
    '[ $rc -eq 1 ] && err_has "handshake failed" && err_has "--server-key is not" && [ $took -lt $FAST ]'

timed call "$EP" hi --cert "$tmp/stranger" --server-key "$tmp/server" --timeout $LONG
check "a client cert not allowed: exit 1, 'does not allow our key', fast" \
    '[ $rc -eq 1 ] && err_has "does not allow our key" && [ $took -lt $FAST ]'

run call "$EP" still-there --cert "$tmp/client" --server-key "$tmp/server"
check "the allowed cert still gets through" '[ $rc -eq 0 ] && [ "$(cat "$tmp/out")" = still-there ]'
stop_server

tap_end
