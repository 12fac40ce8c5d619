#!/bin/sh
# SPDX-License-Identifier: MPL-2.0
# Copyright (c) 2026 the mutil authors
# test_proxy_cli.sh — TAP tests of `mutil proxy`: its command line (what is
# required, security choices, a bad secret file, an endpoint in use), then
# tests/tool/proxy_peer.py: a pyzmq XPUB publisher and SUB subscribers
# around a running proxy (endpoint printed, subscriptions up, messages
# down, the last unsubscribe up, SIGTERM/SIGINT end it with status 0), once
# more with CURVE certs (--cert, --server-key, --allow) and a stranger refused.
#
# Environment: top_builddir (the tool is "$top_builddir/mutil"), top_srcdir,
# PYTHON3.
set -u

top_builddir=${top_builddir:-.}
MUTIL="$top_builddir/mutil"
. "${top_srcdir:-.}/tests/lib/tap.sh"
tap_timeout 60 "$0" "$@"
tap_begin mutil-proxy-cli

check() {
    if eval "$2"; then ok "$1"; else not_ok "$1"; fi
}

run() {
    timeout "$(tap_seconds 20)" "$MUTIL" "$@" </dev/null >"$tmp/out" 2>"$tmp/err"
    rc=$?
}

err_has() { grep -q -F -e "$1" "$tmp/err"; }

run proxy --bind tcp://127.0.0.1:0 --insecure
check "--upstream is required" '[ $rc -eq 2 ] && err_has "--upstream EP and --bind EP are required"'
run proxy --upstream tcp://127.0.0.1:1 --bind tcp://127.0.0.1:0
check "a security choice is required" '[ $rc -eq 2 ] && err_has "no security chosen"'
run proxy --upstream tcp://127.0.0.1:1 --bind tcp://127.0.0.1:0 --insecure --secret-file x
check "one security choice only" '[ $rc -eq 2 ] && err_has "choose one of"'
run proxy --upstream tcp://127.0.0.1:1 --bind tcp://127.0.0.1:0 --cert x --allow-any
check "--cert needs --server-key" '[ $rc -eq 2 ] && err_has "--cert needs --server-key"'
printf 'correct horse battery staple\n' >"$tmp/secret"
chmod 644 "$tmp/secret"
run proxy --upstream tcp://127.0.0.1:1 --bind tcp://127.0.0.1:0 --secret-file "$tmp/secret"
check "a secret file others may read is refused" '[ $rc -eq 1 ] && err_has "mode 0644"'
run proxy --upstream udp://127.0.0.1:1 --bind tcp://127.0.0.1:0 --insecure
check "a bad upstream endpoint is named" '[ $rc -eq 1 ] && err_has "udp://127.0.0.1:1"'
run proxy --help
check "--help prints the usage" '[ $rc -eq 0 ] && grep -q "usage: mutil proxy" "$tmp/out"'

# An endpoint in use: a first proxy holds it.
"$MUTIL" proxy --upstream tcp://127.0.0.1:1 --bind tcp://127.0.0.1:0 --insecure \
    >"$tmp/first" 2>/dev/null &
first=$!
tap_wait_for 10 grep -q "^tcp://" "$tmp/first"
ep=$(head -n 1 "$tmp/first")
run proxy --upstream tcp://127.0.0.1:1 --bind "$ep" --insecure
check "an endpoint in use is refused" '[ $rc -eq 1 ] && err_has "cannot bind $ep"'
kill -TERM "$first"
wait "$first"
rc=$?
check "SIGTERM ends the first proxy with status 0" '[ $rc -eq 0 ]'

# The configured python3, else Debian's (which has python3-zmq when installed).
py=
for candidate in "${PYTHON3:-}" /usr/bin/python3; do
    if [ -n "$candidate" ] && "$candidate" -c "import zmq" 2>/dev/null; then
        py=$candidate
        break
    fi
done
if [ -n "$py" ]; then
    # certs for the CURVE run: the publisher's, the proxy's, an allowed
    # subscriber's (in allow/) and a stranger's
    mkdir "$tmp/certs" "$tmp/certs/allow"
    for name in pub proxy allow/sub stranger; do
        "$MUTIL" keygen "$tmp/certs/$name" >/dev/null 2>&1
    done
    "$py" "${top_srcdir:-.}/tests/tool/proxy_peer.py" "$MUTIL" "$tmp/certs" >"$tmp/peer" 2>&1
    prc=$?
    rc=$prc
    tap_renumber "$tmp/peer"
    check "the peer program ended well" '[ $prc -eq 0 ]'
else
    skip "publisher and subscribers around a running proxy" "no python3 with zmq (apt-get install python3-zmq)"
fi
tap_end
