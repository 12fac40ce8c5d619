#!/bin/sh
# SPDX-License-Identifier: MPL-2.0
# Copyright (c) 2026 the mutil authors
# test_conn_cli.sh — TAP tests of `mutil serve`, `call`, `get` and `put`:
# each security mode end to end (shared secret, certs with an allow
# directory, insecure with its warning), refused keys and wrong secrets as
# clear errors within the timeout, downloads and uploads with digests
# compared by cmp, remote errors (missing file, path escapes, existing
# destination), SIGINT stopping the server cleanly, and usage errors.
#
# Environment: top_builddir (the tool is "$top_builddir/mutil").
set -u

top_builddir=${top_builddir:-.}
MUTIL="$top_builddir/mutil"
. "${top_srcdir:-.}/tests/lib/tap.sh"
tap_timeout 300 "$0" "$@"
tap_begin mutil-conn-cli

check() {
    if eval "$2"; then ok "$1"; else not_ok "$1"; fi
}

run() {
    "$MUTIL" "$@" >"$tmp/out" 2>"$tmp/err"
    rc=$?
}

out_is() { [ "$(cat "$tmp/out")" = "$1" ]; }
err_has() { grep -q -F -e "$1" "$tmp/err"; }

server_pid=
# start_server LOG ARG... : runs `mutil serve` in the background on an ipc
# endpoint under $tmp and waits until it printed the bound endpoint (its
# first line, read as it comes); sets $EP. Fails the test run when the server
# does not come up.
start_server() {
    log=$1
    shift
    EP="ipc://$tmp/srv.$$.$count"
    tap_start_watched "$tmp/$log.out" 10 "?*" "$MUTIL" serve --bind "$EP" "$@" 2>"$tmp/$log.err"
    started=$?
    server_pid=$tap_pid
    return "$started"
}

server_gone() { ! kill -0 "$server_pid" 2>/dev/null; }

# stop_server: SIGINT, then up to 10 s (scaled) for serve to exit ($server_status is
# its exit status); one that does not is killed and gets status 99, so a
# hang fails the test instead of hanging the suite.
stop_server() {
    if [ -n "$server_pid" ]; then
        kill -INT "$server_pid" 2>/dev/null
        if ! tap_wait_for 10 server_gone; then
            kill -KILL "$server_pid" 2>/dev/null
            wait "$server_pid" 2>/dev/null
            server_status=99
        else
            wait "$server_pid" 2>/dev/null
            server_status=$?
        fi
        server_pid=
    fi
}
trap 'stop_server; rm -rf "$tmp"' EXIT

mkdir -p "$tmp/root/sub" "$tmp/allow" "$tmp/local"
printf 'correct horse battery staple\n' >"$tmp/secret"
printf 'another passphrase entirely\n' >"$tmp/wrong"
chmod 600 "$tmp/secret" "$tmp/wrong"   # secret files must be private
head -c 1000003 /dev/urandom >"$tmp/root/sub/blob.bin"
: >"$tmp/root/empty"
printf 'x' >"$tmp/root/one"

# ---- shared secret -------------------------------------------------------------

check "serve with --secret-file starts and prints its endpoint" \
    'start_server s1 --root "$tmp/root" --secret-file "$tmp/secret"'

run call "$EP" hello --secret-file "$tmp/secret"
check "call gets its message echoed" '[ $rc -eq 0 ] && out_is hello'

printf 'from stdin' | "$MUTIL" call "$EP" --secret-file "$tmp/secret" >"$tmp/out" 2>"$tmp/err"
rc=$?
check "call reads the message from stdin" '[ $rc -eq 0 ] && out_is "from stdin"'

run call "$EP" hello --secret-file "$tmp/wrong" --timeout 1500
check "a wrong secret fails within the timeout, exit 1" '[ $rc -eq 1 ] && err_has "handshake failed"'

run get "$EP" sub/blob.bin "$tmp/local/blob.bin" --secret-file "$tmp/secret" --chunk 64K
check "get downloads a file that cmp finds equal" '[ $rc -eq 0 ] && cmp -s "$tmp/root/sub/blob.bin" "$tmp/local/blob.bin"'

run get "$EP" sub/blob.bin "$tmp/local/blob.bin" --secret-file "$tmp/secret"
check "get refuses to replace LOCAL without --force" '[ $rc -eq 1 ] && err_has "already exists: add --force"'

run get "$EP" sub/blob.bin "$tmp/local/blob.bin" --secret-file "$tmp/secret" --force --window 2
check "get --force replaces it" '[ $rc -eq 0 ] && cmp -s "$tmp/root/sub/blob.bin" "$tmp/local/blob.bin"'

run get "$EP" empty "$tmp/local/empty" --secret-file "$tmp/secret"
check "get of a 0-byte file" '[ $rc -eq 0 ] && [ -f "$tmp/local/empty" ] && [ ! -s "$tmp/local/empty" ]'

run get "$EP" one "$tmp/local/one" --secret-file "$tmp/secret"
check "get of a 1-byte file" '[ $rc -eq 0 ] && cmp -s "$tmp/root/one" "$tmp/local/one"'

run get "$EP" nothing-here "$tmp/local/x" --secret-file "$tmp/secret"
check "get of a missing file: exit 1, MU_ENOENT, no local file" '[ $rc -eq 1 ] && err_has MU_ENOENT && [ ! -e "$tmp/local/x" ]'

run get "$EP" ../secret "$tmp/local/x" --secret-file "$tmp/secret"
check "get ../secret is refused" '[ $rc -eq 1 ] && { err_has MU_EACCES || err_has MU_EINVAL; } && [ ! -e "$tmp/local/x" ]'

run get "$EP" /etc/passwd "$tmp/local/x" --secret-file "$tmp/secret"
check "get of an absolute path is refused" '[ $rc -eq 1 ] && { err_has MU_EACCES || err_has MU_EINVAL; }'

ln -s "$tmp/secret" "$tmp/root/link"
run get "$EP" link "$tmp/local/x" --secret-file "$tmp/secret"
check "get through a symlink leaving the root is refused" '[ $rc -eq 1 ] && err_has MU_EACCES && [ ! -e "$tmp/local/x" ]'

run put "$EP" "$tmp/local/blob.bin" sub/uploaded.bin --secret-file "$tmp/secret"
check "put uploads a file the server holds afterwards" '[ $rc -eq 0 ] && cmp -s "$tmp/local/blob.bin" "$tmp/root/sub/uploaded.bin"'

run put "$EP" "$tmp/local/blob.bin" sub/uploaded.bin --secret-file "$tmp/secret"
check "put refuses to replace without --force" '[ $rc -eq 1 ] && err_has "already exists on the server"'

run put "$EP" "$tmp/local/blob.bin" ../escaped.bin --secret-file "$tmp/secret"
check "put outside the root is refused and writes nothing" '[ $rc -eq 1 ] && [ ! -e "$tmp/escaped.bin" ]'

run put "$EP" "$tmp/no-such-file" x --secret-file "$tmp/secret"
check "put of a missing local file: exit 1" '[ $rc -eq 1 ] && err_has "No such file"'

left=$(ls -A "$tmp/root/sub" | grep -c -v -e '^blob.bin$' -e '^uploaded.bin$')
check "no temporary file is left in the server's directory" '[ "$left" -eq 0 ]'

run call "$EP" still-there --secret-file "$tmp/secret"
check "the server still answers after the errors" '[ $rc -eq 0 ] && out_is still-there'

stop_server
check "SIGINT stops serve with exit 0 and its totals" '[ "$server_status" -eq 0 ] && grep -q "files sent" "$tmp/s1.err"'

# ---- certificates ----------------------------------------------------------------

"$MUTIL" keygen "$tmp/server" >/dev/null 2>&1
"$MUTIL" keygen "$tmp/allow/client" >/dev/null 2>&1
"$MUTIL" keygen "$tmp/stranger" >/dev/null 2>&1
mv "$tmp/allow/client_secret" "$tmp/client_secret"
cp "$tmp/allow/client" "$tmp/client"

check "serve with --cert and --allow starts" \
    'start_server s2 --cert "$tmp/server" --allow "$tmp/allow"'

run call "$EP" certified --cert "$tmp/client" --server-key "$tmp/server"
check "an allowed client cert gets through" '[ $rc -eq 0 ] && out_is certified'

key=$(sed -n 's/^ *public-key = "\(.*\)"$/\1/p' "$tmp/server")
run call "$EP" by-text --cert "$tmp/client" --server-key "$key"
check "--server-key also takes the key as Z85 text" '[ $rc -eq 0 ] && out_is by-text'

run call "$EP" nope --cert "$tmp/stranger" --server-key "$tmp/server" --timeout 1500
check "a client cert not in --allow is refused, exit 1" '[ $rc -eq 1 ]'

run call "$EP" nope --cert "$tmp/client" --server-key "$tmp/stranger" --timeout 1500
check "a wrong server key fails within the timeout" '[ $rc -eq 1 ]'

stop_server
check "SIGINT stops the cert server too" '[ "$server_status" -eq 0 ]'
check "the refused handshakes are counted in the server's totals" \
    'grep -q "[1-9][0-9]* auth failures" "$tmp/s2.err"'

# ---- insecure ----------------------------------------------------------------------

check "serve --insecure starts" 'start_server s3 --insecure'
check "serve --insecure warns" 'grep -q "warning: --insecure" "$tmp/s3.err"'
run call "$EP" plain --insecure
check "call --insecure works and warns" '[ $rc -eq 0 ] && out_is plain && err_has "warning: --insecure"'
stop_server
check "SIGINT stops the insecure server too" '[ "$server_status" -eq 0 ]'

# ---- a file size limit -------------------------------------------------------------
# serve under `ulimit -f` (SIGXFSZ at its default, which kills): an upload
# past the limit fails with MU_EFBIG, the server lives on and keeps no
# temporary file.

mkdir -p "$tmp/froot"
EP="ipc://$tmp/srv.$$.fsize"
tap_start_watched "$tmp/s4.out" 10 "?*" \
    sh -c 'ulimit -f 200 && exec "$@"' sh "$MUTIL" serve --bind "$EP" --root "$tmp/froot" --insecure \
    2>"$tmp/s4.err"
server_pid=$tap_pid
run put "$EP" "$tmp/local/blob.bin" big.bin --insecure --timeout 20000
check "put past the server's RLIMIT_FSIZE: exit 1, MU_EFBIG" '[ $rc -eq 1 ] && err_has MU_EFBIG'
check "the server survives it and keeps no temporary file" \
    '! server_gone && [ -z "$(ls -A "$tmp/froot")" ]'
run put "$EP" "$tmp/root/one" small --insecure
check "and still takes a small upload" '[ $rc -eq 0 ] && cmp -s "$tmp/root/one" "$tmp/froot/small"'
stop_server

# ---- usage -------------------------------------------------------------------------

run serve --insecure
check "serve without --bind: exit 2" '[ $rc -eq 2 ] && err_has "--bind"'
run serve --bind "ipc://$tmp/x"
check "serve without a security choice: exit 2" '[ $rc -eq 2 ] && err_has "no security chosen"'
run call "ipc://$tmp/x" hi --insecure --secret-file "$tmp/secret"
check "two security choices: exit 2" '[ $rc -eq 2 ]'
run call
check "call without an endpoint: exit 2" '[ $rc -eq 2 ]'
run get "ipc://$tmp/x" a --insecure
check "get with a missing argument: exit 2" '[ $rc -eq 2 ]'
run get "ipc://$tmp/x" a b --insecure --chunk 0
check "get --chunk 0: exit 2" '[ $rc -eq 2 ]'
run put "ipc://$tmp/x" a b --insecure --bogus
check "an unknown option: exit 2" '[ $rc -eq 2 ] && err_has "unknown option"'
run call "ipc://$tmp/x" hi --secret-file "$tmp/nope"
check "a missing secret file: exit 1 naming it" '[ $rc -eq 1 ] && err_has "$tmp/nope"'
run serve --bind "bogus://x" --insecure
check "a bad endpoint: exit 1" '[ $rc -eq 1 ] && err_has "cannot bind"'

# libzmq refusing a socket: the message names the limit that refused it.
ZSYS_MAX_SOCKETS=1 "$MUTIL" serve --bind "ipc://$tmp/lim" --insecure >"$tmp/out" 2>"$tmp/err"
rc=$?
check "no socket left: exit 1 naming ZMQ_MAX_SOCKETS" \
    '[ $rc -eq 1 ] && err_has "cannot bind ipc://$tmp/lim" && err_has "ZMQ_MAX_SOCKETS 1"'

# The tool raises its soft open-file limit to the hard one (doc/pipe.md,
# "Sockets": libzmq aborts an ipc:// listener at the limit).
hard=$(ulimit -H -n)
soft=$(ulimit -S -n)
if [ "$hard" != unlimited ] && [ "$hard" -gt 64 ]; then
    ulimit -S -n 64
    start_server limits --insecure
    ulimit -S -n "$soft"
    limit=$(awk '/^Max open files/ { print $4 }' "/proc/$server_pid/limits" 2>/dev/null)
    stop_server
    check "serve runs with the hard open-file limit ($hard)" '[ "$limit" = "$hard" ]'
else
    skip "serve raises its open-file limit: the hard limit is $hard"
fi

tap_end
