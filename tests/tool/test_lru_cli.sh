#!/bin/sh
# SPDX-License-Identifier: MPL-2.0
# Copyright (c) 2026 the mutil authors
# test_lru_cli.sh — TAP tests of `mutil lru DIR NAME create|add|delete|resize|
# stats|list|evict`: the S4LRU state seen through the tool, persistence
# between runs, exit statuses (0 ok, 1 runtime, 2 usage) and messages.
#
# Environment: top_builddir (the tool is "$top_builddir/mutil"), top_srcdir.
set -u

top_builddir=${top_builddir:-.}
MUTIL="$top_builddir/mutil"
. "${top_srcdir:-.}/tests/lib/tap.sh"
tap_timeout 300 "$0" "$@"
tap_begin mutil-lru-cli

D="$tmp/lrus"

# check NAME COMMAND... : one test that passes when COMMAND succeeds.
check() {
    name=$1
    shift
    if "$@"; then ok "$name"; else not_ok "$name"; fi
}

# run ARG... : runs mutil; stdout in $tmp/out, stderr in $tmp/err, status in $rc.
run() {
    COLUMNS=200 "$MUTIL" "$@" </dev/null >"$tmp/out" 2>"$tmp/err"
    rc=$?
}

status_is() { [ "$rc" -eq "$1" ]; }
out_has() { grep -q -e "$1" "$tmp/out"; }
err_has() { grep -q -F -e "$1" "$tmp/err"; }
# The keys of `list` in order, comma-separated (last column of each row).
keys_listed() { awk 'NR > 2 { printf "%s%s", sep, $NF; sep = "," }' "$tmp/out"; }
levels_listed() { awk 'NR > 2 { printf "%s%s", sep, $1; sep = "," }' "$tmp/out"; }

# ---- usage errors -----------------------------------------------------------

run lru
check "lru without arguments is a usage error naming DIR and NAME" \
    eval 'status_is 2 && err_has "missing DIR and NAME" && err_has "usage: mutil lru DIR NAME"'

run lru "$D" c
check "lru without a subcommand is a usage error" eval 'status_is 2 && err_has "missing subcommand"'

run lru "$D" c frobnicate
check "an unknown subcommand exits 2 and points to mutil help lru" \
    eval "status_is 2 && err_has \"unknown subcommand 'frobnicate'\" && err_has 'mutil help lru'"

run lru "$D" c create
check "create without CAPACITY: wrong number of arguments, usage, exit 2" \
    eval 'status_is 2 && err_has "wrong number of arguments" && err_has "usage: mutil lru DIR NAME create CAPACITY"'

run lru "$D" c create ten
check "create with a non-numeric capacity exits 2 and quotes it" eval "status_is 2 && err_has \"not 'ten'\""

run lru "$D" c create 10 65
check "create with 65 levels exits 2" eval 'status_is 2 && err_has "LEVELS 1..64"'

run lru "$D" c stats
check "stats on a missing LRU exits 1 and says how to create it" \
    eval 'status_is 1 && err_has "no such LRU" && err_has "create CAPACITY"'

run lru "$D" .bad create 10
check "an invalid name exits 1 with the naming rule" eval 'status_is 1 && err_has "invalid name"'

# ---- create, add, list, stats ---------------------------------------------------

run lru "$D" c create 8
check "create makes DIR/NAME.lru (4 levels by default)" \
    eval 'status_is 0 && [ -f "$D/c.lru" ] && out_has "capacity 8 in 4 levels"'

run lru "$D" c create 8
check "create of an existing LRU exits 1" eval 'status_is 1 && err_has "already exists"'

ok_adds=true
for k in a b c a b a; do
    run lru "$D" c add "$k" 1 || true
    status_is 0 || ok_adds=false
done
check "add exits 0 for new keys and hits" $ok_adds

run lru "$D" c add a 1
check "add of a key in level 2 is a hit that moves it to level 3" \
    eval 'status_is 0 && out_has "^hit, level 3$"'

run lru "$D" c add d 1
check "add of a new key says new, level 0" eval 'status_is 0 && out_has "^new, level 0$"'

run lru "$D" c list
check "list shows the S4LRU order across runs (top level first, head to tail)" \
    eval 'status_is 0 && [ "$(keys_listed)" = "a,b,d,c" ] && [ "$(levels_listed)" = "3,1,0,0" ]'

run lru "$D" c stats
check "stats prints a table per level with keys, size and capacity, and the totals" \
    eval 'status_is 0 && out_has "^level  *keys  *size  *capacity" &&
          out_has "^3  *1  *1  *2 " && out_has "^0  *2  *2  *2 " && out_has "^total  *4  *4  *8 "'
check "stats reports hits and misses kept across runs" \
    eval 'out_has "hits 4, misses 4" && out_has "evictions 0"'

# ---- evict --------------------------------------------------------------------

for k in e f g h i; do run lru "$D" c add "$k" 2; done
check "add reports how far the LRU is over capacity" eval 'out_has "over capacity (run evict)"'

run lru "$D" c evict --dry-run
check "evict --dry-run lists level 0's tail first and changes nothing" \
    eval 'status_is 0 && [ "$(awk "NR == 3 { print \$2 }" "$tmp/out")" = c ] && out_has "would be evicted"'
cp "$tmp/out" "$tmp/dry.out"

run lru "$D" c list
check "after the dry run the LRU still holds every key" eval 'status_is 0 && [ "$(awk "NR > 2" "$tmp/out" | wc -l)" -eq 9 ]'

run lru "$D" c evict
check "evict prints the same keys as the dry run and evicts them" \
    eval 'status_is 0 && out_has " evicted$" &&
          [ "$(grep -v evicted "$tmp/out")" = "$(grep -v evicted "$tmp/dry.out")" ]'
evicted_keys=$(awk 'NR > 2 && NF == 2 { print $2 }' "$tmp/out" | tr '\n' ' ')

run lru "$D" c stats
check "after evict the total fits the capacity and evictions are counted" \
    eval 'status_is 0 && [ "$(awk "/^total/ { print (\$3 <= \$4) }" "$tmp/out")" = 1 ] && out_has "evictions [1-9]"'

gone=true
for k in $evicted_keys; do
    run lru "$D" c add "$k" 1
    out_has "^new" || gone=false
done
check "evicted keys are forgotten (adding one again is new): $evicted_keys" $gone

run lru "$D" c evict
run lru "$D" c evict
check "evict with nothing to do prints 0 keys and exits 0" eval 'status_is 0 && out_has "^0 key(s)"'

# ---- delete, resize ---------------------------------------------------------------

run lru "$D" c delete a
check "delete of a present key exits 0" eval 'status_is 0'
run lru "$D" c delete a
check "delete of a missing key exits 1" eval 'status_is 1 && err_has "no such key"'

run lru "$D" c resize 100
check "resize changes the capacity" eval 'status_is 0 && out_has "capacity 100; 0 over capacity"'
run lru "$D" c stats
check "stats shows the new capacity after reopening" eval 'out_has "^total  *[0-9]*  *[0-9]*  *100 "'

run lru "$D" c resize 0
check "resize to 0 exits 2" eval 'status_is 2'

# ---- keys with odd bytes, help -----------------------------------------------------

run lru "$D" c add 'we\ird' 1
run lru "$D" c list
check "keys with backslashes are shown escaped" eval 'out_has "we\\\\x5cird"'

run help lru
check "mutil help lru lists every subcommand" \
    eval 'status_is 0 && out_has "create CAPACITY" && out_has "evict \[--dry-run\]" && out_has "stats"'

run help lru evict
check "mutil help lru evict prints the subcommand usage" \
    eval 'status_is 0 && out_has "^usage: mutil lru DIR NAME evict \[--dry-run\]"'

run lru "$D" c evict --now
check "an unknown evict option exits 2" eval "status_is 2 && err_has \"unknown option '--now'\""

# ---- the file size limit ------------------------------------------------------------

# A write past RLIMIT_FSIZE: a clear message and exit 1, not death by SIGXFSZ;
# the LRU keeps what it had and takes the key once the limit is gone.
if command -v prlimit >/dev/null 2>&1; then
    big=$(head -c 60000 /dev/zero | tr '\0' x)
    run lru "$D" fsz create 1000000
    run lru "$D" fsz add small 1
    # stderr (it quotes the 60000-byte key) goes through a pipe: a file would be cut at the limit
    { prlimit --fsize=40000 "$MUTIL" lru "$D" fsz add "$big" 1 </dev/null 2>&1 >"$tmp/out"
      echo $? >"$tmp/rc"; } | tail -c 200 >"$tmp/err"
    rc=$(cat "$tmp/rc")
    check "add past ulimit -f exits 1 naming the limit" \
        eval 'status_is 1 && err_has "file too large: the file size limit (ulimit -f) is reached"'
    run lru "$D" fsz list
    check "after it the LRU holds its key, not the one refused" eval 'status_is 0 && [ "$(keys_listed)" = small ]'
    run lru "$D" fsz add "$big" 1
    check "without the limit the key is added" eval 'status_is 0'
else
    skip "add past ulimit -f" "no prlimit"
    skip "after it the LRU holds its key" "no prlimit"
    skip "without the limit the key is added" "no prlimit"
fi

tap_end
