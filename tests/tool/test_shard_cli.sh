#!/bin/sh
# SPDX-License-Identifier: MPL-2.0
# Copyright (c) 2026 the mutil authors
# test_shard_cli.sh — TAP tests of `mutil shard`: create, set/get/delete of every
# key element type, --hex and --json values, len and info tables, prune by a timestamp,
# check, the schema as the sqlite3 shell sees it, a corrupt value named by its
# key, reopening with other parameters, and usage errors with their exit codes.
#
# Environment: top_builddir (the tool is "$top_builddir/mutil").
set -u

top_builddir=${top_builddir:-.}
MUTIL="$top_builddir/mutil"
. "${top_srcdir:-.}/tests/lib/tap.sh"
tap_timeout 300 "$0" "$@"
tap_begin mutil-shard-cli

S="$tmp/store"

# check NAME SHELL-CONDITION
check() {
    if eval "$2"; then ok "$1"; else not_ok "$1"; fi
}

# run ARG... : runs mutil; stdout in $tmp/out, stderr in $tmp/err, status in $rc.
run() {
    "$MUTIL" "$@" >"$tmp/out" 2>"$tmp/err"
    rc=$?
}

out_is() { [ "$(cat "$tmp/out")" = "$1" ]; }
out_has() { grep -q -F -e "$1" "$tmp/out"; }
err_has() { grep -q -F -e "$1" "$tmp/err"; }

# ---- create and schema ---------------------------------------------------------

run shard "$S" create --k 3 --shards 4 --types str,int,bytes --shardidx 0
check "create makes a store (exit 0)" '[ $rc -eq 0 ] && [ -f "$S/shard-0000.db" ] && [ -f "$S/shard-0003.db" ] && [ ! -e "$S/shard-0004.db" ]'

run shard "$S" create --k 3 --shards 4 --types str,int,bytes
check "create again with the same parameters is fine" '[ $rc -eq 0 ]'

run shard "$S" create --k 3 --shards 8 --types str,int,bytes
check "create with another shard count fails clearly (exit 1), nothing re-sharded" \
    '[ $rc -eq 1 ] && err_has "shard count differs" && [ ! -e "$S/shard-0004.db" ]'

run shard "$S" create --k 2 --shards 4 --types str,int
check "create with another k fails (exit 1)" '[ $rc -eq 1 ] && err_has "k differs"'

if command -v sqlite3 >/dev/null 2>&1; then
    meta=$(sqlite3 "$S/shard-0002.db" "SELECT name || '=' || value FROM meta ORDER BY name" | tr '\n' ' ')
    check "the sqlite3 shell reads meta" \
        '[ "$meta" = "codec=zstd format=1 hash=fnv1a64-fmix64 index_mask=7 k=3 shard=2 shardidx=0 shards=4 types=str,int,bytes " ]'
    cols=$(sqlite3 "$S/shard-0000.db" "SELECT name || ':' || type FROM pragma_table_info('entries')" | tr '\n' ' ')
    check "entries has typed key columns" \
        '[ "$cols" = "k0:TEXT k1:INTEGER k2:BLOB codec:INTEGER vlen:INTEGER value:BLOB " ]'
    jm=$(sqlite3 "$S/shard-0000.db" "PRAGMA journal_mode")
    check "shards are in WAL mode" '[ "$jm" = "wal" ]'
else
    skip "the sqlite3 shell reads meta" "no sqlite3 shell"
    skip "entries has typed key columns" "no sqlite3 shell"
    skip "shards are in WAL mode" "no sqlite3 shell"
fi

# ---- set / get / delete ----------------------------------------------------------------

run shard "$S" set 'AAPL,1700000000,00ff' 'hello, world'
check "set a str value (exit 0)" '[ $rc -eq 0 ] && [ ! -s "$tmp/out" ]'
run shard "$S" get 'AAPL,1700000000,00ff'
check "get prints the str value as text" '[ $rc -eq 0 ] && out_is "hello, world"'
run shard "$S" g 'AAPL,1700000000,00ff' --hex
check "get --hex prints the MessagePack bytes (subcommand prefix g)" \
    '[ $rc -eq 0 ] && out_is "ac68656c6c6f2c20776f726c64"'

run shard "$S" set 'a\,b\\c,-5,' --hex 83a16e01a17393010203a162c3
check "set --hex with an escaped comma in a str element and empty bytes" '[ $rc -eq 0 ]'
run shard "$S" get 'a\,b\\c,-5,'
check "get prints a map as JSON" '[ $rc -eq 0 ] && out_is "{\"n\":1,\"s\":[1,2,3],\"b\":true}"'

if command -v sqlite3 >/dev/null 2>&1; then
    row=$(sqlite3 "$S/shard-0000.db" "SELECT 1" >/dev/null; for i in 0 1 2 3; do
        sqlite3 "$S/shard-000$i.db" "SELECT k0 || '|' || k1 || '|' || hex(k2) FROM entries WHERE k1 = -5"; done)
    check "the key elements are real columns" '[ "$row" = "a,b\\c|-5|" ]'
else
    skip "the key elements are real columns" "no sqlite3 shell"
fi

run shard "$S" set 'AAPL,1,' --hex c1
check "set of bytes that are not MessagePack fails (exit 1)" '[ $rc -eq 1 ] && err_has "MessagePack"'
run shard "$S" set 'AAPL,1,' --hex 0g
check "set --hex of bad hex is a usage error (exit 2)" '[ $rc -eq 2 ]'
run shard "$S" get 'AAPL,notanint,'
check "a key element that is not an int is a usage error (exit 2)" '[ $rc -eq 2 ] && err_has "not a valid int"'
run shard "$S" get 'AAPL,1'
check "a key of the wrong arity is a usage error (exit 2)" '[ $rc -eq 2 ] && err_has "2 elements"'
run shard "$S" get 'AAPL,1,zz'
check "bytes that are not hex are a usage error (exit 2)" '[ $rc -eq 2 ]'
run shard "$S" get 'AAPL,2,'
check "get of a missing key fails (exit 1, MU_ENOENT)" '[ $rc -eq 1 ] && err_has "MU_ENOENT"'

run shard "$S" delete 'AAPL,1700000000,00ff'
check "delete removes a key" '[ $rc -eq 0 ]'
run shard "$S" get 'AAPL,1700000000,00ff'
check "the deleted key is gone" '[ $rc -eq 1 ]'
run shard "$S" delete 'AAPL,1700000000,00ff'
check "delete of a missing key fails (exit 1)" '[ $rc -eq 1 ] && err_has "no such key"'

# ---- JSON values (mu_json) ---------------------------------------------------------------

run shard "$S" set 'JSON,1,' --json '{"a": [1, 2], "b": {"$bin": "AP8="}, "c": 1.5, "d": null}'
check "set --json stores a map (exit 0)" '[ $rc -eq 0 ] && [ ! -s "$tmp/out" ]'
run shard "$S" get 'JSON,1,' --hex
check "set --json stored MessagePack (a map, an array, a bin, a float64, nil)" \
    '[ $rc -eq 0 ] && out_is "84a161920102a162c40200ffa163cb3ff8000000000000a164c0"'
run shard "$S" get 'JSON,1,'
check "get prints it as compact JSON" '[ $rc -eq 0 ] && out_is "{\"a\":[1,2],\"b\":{\"\$bin\":\"AP8=\"},\"c\":1.5,\"d\":null}"'
run shard "$S" set 'JSON,2,' --json '"hello"'
run shard "$S" get 'JSON,2,'
check "a JSON string is a str: get prints its text" '[ $rc -eq 0 ] && out_is "hello"'
run shard "$S" get 'JSON,2,' --json
check "get --json prints a str as a JSON string" '[ $rc -eq 0 ] && out_is "\"hello\""'
"$MUTIL" shard "$S" set 'JSON,7,' 'hello, "world"' || echo "# set JSON,7 failed"
run shard "$S" get 'JSON,7,' --json
check "get --json of a value set as text" '[ $rc -eq 0 ] && out_is "\"hello, \\\"world\\\"\""'
run shard "$S" set 'JSON,1,' --json '{"a": [1, 2'
check "set --json of bad JSON: usage error (exit 2) with line and column, MU_EPROTO" \
    '[ $rc -eq 2 ] && err_has "VALUE is not valid JSON" && err_has "line 1, column" && err_has "MU_EPROTO"'
run shard "$S" get 'JSON,1,' --hex
check "bad JSON stored nothing: the old value is there" \
    '[ $rc -eq 0 ] && out_is "84a161920102a162c40200ffa163cb3ff8000000000000a164c0"'
run shard "$S" set 'JSON,3,' --json '{"a": 1, "a": 2}'
check "set --json of a duplicate key fails (exit 2), nothing stored" \
    '[ $rc -eq 2 ] && err_has "duplicate object key" && "$MUTIL" shard "$S" get "JSON,3," 2>/dev/null; [ $? -eq 1 ]'
run shard "$S" set 'JSON,3,' --json '18446744073709551616'
check "set --json of an integer beyond 64 bits fails (exit 2, MU_ELIMIT)" '[ $rc -eq 2 ] && err_has "MU_ELIMIT"'
run shard "$S" set 'JSON,3,' --json '{"$bin": "not base64"}'
check "set --json of a bad {\"\$bin\"} fails (exit 2, MU_ETYPE)" '[ $rc -eq 2 ] && err_has "MU_ETYPE"'
run shard "$S" set 'JSON,3,' --json --hex 00
check "--json and --hex together are a usage error (exit 2)" '[ $rc -eq 2 ] && err_has "exclude each other"'
run shard "$S" set 'JSON,4,' --hex 82017fa16bc2
run shard "$S" get 'JSON,4,'
check "get prints integer map keys as text" '[ $rc -eq 0 ] && out_is "{\"1\":127,\"k\":false}"'
run shard "$S" get 'JSON,4,' --json
check "get --json of a map with an integer key fails clearly (exit 1, MU_ETYPE)" \
    '[ $rc -eq 1 ] && err_has "not a str" && err_has "MU_ETYPE" && err_has "--hex"'
run shard "$S" set 'JSON,5,' --hex 91a2c328
run shard "$S" get 'JSON,5,'
check "get of a str that is not UTF-8 inside a value fails (exit 1, MU_ETYPE)" \
    '[ $rc -eq 1 ] && err_has "not UTF-8" && err_has "/0"'
"$MUTIL" shard "$S" get 'JSON,1,' --json >"$tmp/json1" 2>/dev/null
run shard "$S" set 'JSON,6,' --json "$(cat "$tmp/json1")"
"$MUTIL" shard "$S" get 'JSON,6,' --hex >"$tmp/hex6" 2>/dev/null
check "get --json then set --json gives the same bytes" \
    '[ $rc -eq 0 ] && [ "$(cat "$tmp/hex6")" = "84a161920102a162c40200ffa163cb3ff8000000000000a164c0" ]'
for k in 1 2 4 5 6 7; do "$MUTIL" shard "$S" delete "JSON,$k," || echo "# delete JSON,$k failed"; done

# ---- len, info, prune, check ----------------------------------------------------------

for t in 10 11 12 13 14 15 16 17 18 19; do
    "$MUTIL" shard "$S" set "IBM,$t," "tick $t" || echo "# set IBM,$t failed"
    "$MUTIL" shard "$S" set "MSFT,$t,01" "tick $t" || echo "# set MSFT,$t failed"
done
run shard "$S" len
check "len prints one row per shard and the total" \
    '[ $rc -eq 0 ] && [ "$(wc -l <"$tmp/out")" -eq 7 ] && out_has "shard-0003.db" && grep -q -E "^all +21 " "$tmp/out"'
widest() { awk '{ if (length($0) > w) w = length($0) } END { print w }' "$1"; }
"${PYTHON3:-python3}" "${top_srcdir:-.}/tests/lib/pty_run.py" 30 "$MUTIL" shard "$S" len >"$tmp/out" 2>"$tmp/err"
rc=$?
check "len fits a narrow terminal (30 columns)" '[ $rc -eq 0 ] && [ "$(widest "$tmp/out")" -le 30 ]'
COLUMNS=30 run shard "$S" len
check "len is not cut when stdout is a file, whatever COLUMNS says" \
    '[ $rc -eq 0 ] && [ "$(widest "$tmp/out")" -gt 30 ] && ! grep -q "~" "$tmp/out"'
run shard "$S" info
check "info prints the parameters" '[ $rc -eq 0 ] && out_has "str,int,bytes" && grep -q -E "^shards +4$" "$tmp/out"'
run shard "$S" prune 1 - 14
check "prune by the int element: everything up to 14 (10 ticks and the -5 key)" '[ $rc -eq 0 ] && out_is "pruned 11"'
run shard "$S" prune 1 15 16
check "prune a closed range (4 entries)" '[ $rc -eq 0 ] && out_is "pruned 4"'
run shard "$S" len
check "len after prune" '[ $rc -eq 0 ] && grep -q -E "^all +6 " "$tmp/out"'
run shard "$S" get 'IBM,17,'
check "entries outside the range are kept" '[ $rc -eq 0 ] && out_is "tick 17"'
run shard "$S" prune 0 IBM IBM
check "prune by the str element" '[ $rc -eq 0 ] && out_is "pruned 3"'
run shard "$S" prune 3 - -
check "prune of an element past k is a usage error (exit 2)" '[ $rc -eq 2 ]'
run shard "$S" prune 1 x -
check "prune with a bound of the wrong type is a usage error (exit 2)" '[ $rc -eq 2 ]'
run shard "$S" check
check "check says ok" '[ $rc -eq 0 ] && out_is "ok"'

# ---- faults ---------------------------------------------------------------------------

if command -v sqlite3 >/dev/null 2>&1; then
    long=$(printf 'x%.0s' $(seq 1 400))
    "$MUTIL" shard "$S" set "ORCL,99," "$long" >/dev/null 2>&1
    for i in 0 1 2 3; do
        sqlite3 "$S/shard-000$i.db" "UPDATE entries SET value = zeroblob(length(value)) WHERE k0 = 'ORCL'"
    done
    run shard "$S" get 'ORCL,99,'
    check "a corrupt value fails (exit 1) and the message names the key" \
        '[ $rc -eq 1 ] && err_has "(\"ORCL\", 99, x'"''"')" && err_has "corrupt" && err_has "MU_ECORRUPT"'
else
    skip "a corrupt value fails and names the key" "no sqlite3 shell"
fi

run shard "$tmp/nothing" len
check "a directory without a store fails (exit 1)" '[ $rc -eq 1 ] && err_has "no store here"'

# ---- usage ------------------------------------------------------------------------------

run shard
check "shard without arguments is a usage error (exit 2)" '[ $rc -eq 2 ] && err_has "usage: mutil shard"'
run shard "$S" frobnicate
check "an unknown subcommand is a usage error (exit 2)" '[ $rc -eq 2 ] && err_has "unknown subcommand"'
run shard "$S" create --k 2 --shards 4
check "create without --types is a usage error (exit 2)" '[ $rc -eq 2 ]'
run shard "$tmp/s2" create --k 2 --shards 4 --types str
check "create with fewer types than k is a usage error (exit 2)" '[ $rc -eq 2 ] && [ ! -e "$tmp/s2" ]'
run shard "$S" set 'IBM,1,'
check "set without VALUE is a usage error (exit 2)" '[ $rc -eq 2 ]'
run shard --help
check "shard --help prints the help (exit 0)" '[ $rc -eq 0 ] && out_has "KEY is the key"'
run shard "$S" get --help
check "shard DIR get --help prints help (exit 0)" '[ $rc -eq 0 ] && out_has "usage: mutil shard DIR get"'

# ---- the file size limit ------------------------------------------------------------

# A write past RLIMIT_FSIZE: a clear message and exit 1, not death by SIGXFSZ;
# the store keeps what it had and takes the value once the limit is gone.
if command -v prlimit >/dev/null 2>&1; then
    big=\"$(head -c 60000 /dev/zero | tr '\0' x)\"
    run shard "$tmp/fsz" create --k 1 --shards 1 --types int --codec none
    run shard "$tmp/fsz" set 1 '"small"'
    prlimit --fsize=40000 "$MUTIL" shard "$tmp/fsz" set 2 "$big" >"$tmp/out" 2>"$tmp/err"
    rc=$?
    check "set past ulimit -f exits 1 naming the limit" \
        '[ $rc -eq 1 ] && err_has "the file size limit (RLIMIT_FSIZE, ulimit -f) is reached" && err_has "MU_EFBIG"'
    run shard "$tmp/fsz" get 1
    check "after it the store holds its value" '[ $rc -eq 0 ] && out_has small'
    run shard "$tmp/fsz" get 2
    check "the refused value is not stored" '[ $rc -eq 1 ]'
    run shard "$tmp/fsz" set 2 "$big"
    check "without the limit the value is stored" '[ $rc -eq 0 ]'
else
    for t in "set past ulimit -f" "after it the store holds its value" "the refused value is not stored" \
             "without the limit the value is stored"; do
        skip "$t" "no prlimit"
    done
fi

tap_end
