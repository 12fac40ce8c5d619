#!/bin/sh
# SPDX-License-Identifier: MPL-2.0
# Copyright (c) 2026 the mutil authors
# test_cache_cli.sh — TAP tests of `mutil cache get|stats|purge` against the
# python3 HTTP peer of the C test (tests/store/dcache_http_peer.py): the
# body on stdout, one transfer per TTL across invocations, HTTP errors and
# refused connections as exit 1 with a clear message and nothing kept,
# usage errors as exit 2, the default file under XDG_CACHE_HOME.
#
# Environment: top_builddir (the tool is "$top_builddir/mutil"), top_srcdir.
set -u

top_builddir=${top_builddir:-.}
top_srcdir=${top_srcdir:-.}
MUTIL="$top_builddir/mutil"
. "$top_srcdir/tests/lib/tap.sh"
tap_timeout 120 "$0" "$@"
tap_begin mutil-cache-cli

DB="$tmp/c.db"

run cache
check "cache without a subcommand is a usage error" eval 'status_is 2 && err_has "missing subcommand"'
run cache get --db "$DB"
check "get without URL exits 2" eval 'status_is 2 && err_has "missing URL"'
run cache get http://x/ --ttl zero --db "$DB"
check "a bad --ttl exits 2" eval 'status_is 2 && err_has "--ttl"'
run cache get http://x/ --frob --db "$DB"
check "an unknown option exits 2" eval "status_is 2 && err_has \"unknown option '--frob'\""

if ! "$MUTIL" cache get ftp://x/ --db "$tmp/probe.db" 2>&1 | grep -q -v "without libcurl"; then
    skip "fetch cases" "mutil was built without libcurl"
    tap_end
    exit $?
fi

# The peer prints "READY PORT" once it accepts (read as it comes).
tap_start_watched "$tmp/peer.out" 20 "READY *" \
    /usr/bin/python3 "$top_srcdir/tests/store/dcache_http_peer.py" 2>"$tmp/peer.err"
peer=$tap_pid
trap 'kill $peer 2>/dev/null; rm -rf "$tmp"' EXIT
port=$(awk '/READY/ { print $2 }' "$tmp/peer.out")
URL="http://127.0.0.1:$port"
count() { "$MUTIL" cache get "$URL/count?p=$1&n=$2" --ttl 1 --db "$tmp/probe.db"; }

run cache get "$URL/hello" --ttl 600 --db "$DB"
check "get prints the body" eval 'status_is 0 && out_is "body of /hello"'
run cache g "$URL/hello" --ttl 600 --db "$DB"
check "a second get (prefix 'g') within the TTL prints it from the cache" \
    eval 'status_is 0 && out_is "body of /hello"'
check "the peer saw one request" [ "$(count /hello 1)" = 1 ]

run cache stats --db "$DB"
check "stats shows one entry" eval 'status_is 0 && grep -q "^entries *1$" "$tmp/out"'

run cache get "$URL/missing" --db "$DB"
check "a 404 exits 1 naming the status" eval 'status_is 1 && err_has "404" && [ ! -s "$tmp/out" ]'
run cache stats --db "$DB"
check "nothing was cached for the 404" eval 'grep -q "^entries *1$" "$tmp/out"'

kill "$peer"
wait "$peer" 2>/dev/null
run cache get "$URL/other" --db "$DB"
check "a refused connection exits 1 with a clear message" \
    eval 'status_is 1 && err_has "connection refused"'
run cache get "$URL/hello" --ttl 600 --db "$DB"
check "the cached body is served with the server gone" eval 'status_is 0 && out_is "body of /hello"'

run cache purge --db "$DB"
check "purge reports what it removed" eval 'status_is 0 && out_is "removed 0 expired entries"'

printf 'not a database at all, just text, long enough to be read as a header.....' >"$tmp/bad.db"
run cache stats --db "$tmp/bad.db"
check "a corrupt cache file exits 1 naming the file" \
    eval 'status_is 1 && err_has "$tmp/bad.db" && err_has "not an SQLite database"'

XDG_CACHE_HOME="$tmp/xdg" run cache stats
check "the default file is under XDG_CACHE_HOME" eval 'status_is 0 && [ -f "$tmp/xdg/mutil/dcache.db" ]'

tap_end
