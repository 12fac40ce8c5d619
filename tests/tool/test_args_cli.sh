#!/bin/bash
# SPDX-License-Identifier: MPL-2.0
# Copyright (c) 2026 the mutil authors
# test_args_cli.sh — TAP tests of the command-line conventions every mutil
# command shares (tools/mutil/cli_args.c): --opt=value equals --opt value; "--"
# ends the options; flags take no value; usage errors exit 2; `mutil help
# CMD SUB` prints every subcommand's usage, and says so for commands that
# have none.
#
# Environment: top_builddir (the tool is "$top_builddir/mutil"), top_srcdir.
set -u

top_builddir=${top_builddir:-.}
MUTIL="$top_builddir/mutil"
. "${top_srcdir:-.}/tests/lib/tap.sh"
tap_begin mutil-args-cli

check() {
    if eval "$2"; then ok "$1"; else not_ok "$1"; fi
}

run() {
    "$MUTIL" "$@" </dev/null >"$tmp/out" 2>"$tmp/err"
    rc=$?
}

out_is() { [ "$(cat "$tmp/out")" = "$1" ]; }
out_has() { grep -q -e "$1" "$tmp/out"; }
err_has() { grep -q -F -e "$1" "$tmp/err"; }
first_line_is() { [ "$(head -n 1 "$tmp/out")" = "$1" ]; }

umask 077
printf 'correct horse battery staple\n' >"$tmp/secret"
D="$tmp/lru"
S="$tmp/shard"
mkdir -p "$D" "$tmp/root" "$tmp/local"
printf 'abc' >"$tmp/root/file"

# ---- mutil help CMD SUB: every subcommand ---------------------------------------

help_sub() {   # help_sub CMD SUB "EXPECTED FIRST LINE"
    expected=$3
    run help "$1" "$2"
    check "mutil help $1 $2 prints $1 $2's own usage" 'status_is_0 && first_line_is "$expected"'
}
status_is_0() { [ "$rc" -eq 0 ]; }

help_sub flow demo "usage: mutil flow demo [--workers N] [--count N] [--rate N] [--json]"
help_sub flow help "usage: mutil flow help"
run help flow demo
check "mutil help flow demo describes its options and exit status" \
    'status_is_0 && out_has "^client floods (2000 numbers in flight); --rate N paces it" && out_has "^Exit status: 0 every number"'
run flow serve --help
check "mutil flow serve --help describes --port and the exit status" \
    'status_is_0 && out_has "^ports (--port P: inbound P" && out_has "^Exit status: 0 a clean drain"'
help_sub frame encode "usage: mutil frame encode [-H N] [-m MAX] [-r N] [INPUT [OUTPUT]]"
help_sub frame decode "usage: mutil frame decode [-H N] [-m MAX] [INPUT [OUTPUT]]"
help_sub lru add "usage: mutil lru DIR NAME add KEY SIZE"
help_sub lru create "usage: mutil lru DIR NAME create CAPACITY [LEVELS]"
help_sub lru delete "usage: mutil lru DIR NAME delete KEY"
help_sub lru evict "usage: mutil lru DIR NAME evict [--dry-run]"
help_sub lru list "usage: mutil lru DIR NAME list"
help_sub lru resize "usage: mutil lru DIR NAME resize CAPACITY"
help_sub lru stats "usage: mutil lru DIR NAME stats"
help_sub shard check "usage: mutil shard DIR check"
help_sub shard create "usage: mutil shard DIR create --k K --shards N --types T,... [--shardidx I] [--codec zstd|zlib|none]"
help_sub shard delete "usage: mutil shard DIR delete KEY"
help_sub shard get "usage: mutil shard DIR get KEY [--json | --hex]"
help_sub shard info "usage: mutil shard DIR info"
help_sub shard len "usage: mutil shard DIR len"
help_sub shard prune "usage: mutil shard DIR prune ELEM LO HI"
help_sub shard set "usage: mutil shard DIR set KEY VALUE [--json | --hex]"

run help sh s
check "mutil help takes prefixes of both words (help sh s = help shard set)" \
    'status_is_0 && first_line_is "usage: mutil shard DIR set KEY VALUE [--json | --hex]"'

for cmd in call get help keygen put serve version; do
    run help $cmd x
    check "mutil help $cmd x: exit 2, '$cmd' has no subcommands" \
        '[ $rc -eq 2 ] && err_has "'"'"'$cmd'"'"' has no subcommands"'
done

run help lru nosuch
check "mutil help lru nosuch: exit 2, unknown subcommand" '[ $rc -eq 2 ] && err_has "unknown subcommand '"'"'nosuch'"'"'"'

run lru "$D" c add --help
check "mutil lru DIR NAME add --help prints add's usage" \
    'status_is_0 && first_line_is "usage: mutil lru DIR NAME add KEY SIZE"'

run shard "$S" set k v --help
check "mutil shard DIR set ... --help prints set's usage" \
    'status_is_0 && first_line_is "usage: mutil shard DIR set KEY VALUE [--json | --hex]"'

# ---- --opt=value equals --opt value -------------------------------------------------

run shard "$S" create --k=2 --shards=2 --types=str,int --codec=none
check "shard create --k=2 --shards=2 --types=str,int --codec=none" \
    'status_is_0 && out_has "k=2 shards=2"'

run shard "$S" set --hex=yes k,1 00
check "a flag given a value (--hex=yes) is a usage error naming it" \
    '[ $rc -eq 2 ] && err_has "option --hex takes no value"'

run flow demo --workers=300
check "flow demo --workers=300 is checked like --workers 300 (exit 2)" \
    '[ $rc -eq 2 ] && err_has "--workers needs a number from 1 to 256"'

run keygen "$tmp/k1"
run keygen "$tmp/k1" --force=1
check "keygen --force=1: exit 2, takes no value" '[ $rc -eq 2 ] && err_has "option --force takes no value"'

run serve --bind="ipc://$tmp/srv" --secret-file="$tmp/secret" --root="$tmp/root" --allow-any=x
check "serve --allow-any=x: exit 2" '[ $rc -eq 2 ] && err_has "option --allow-any takes no value"'

# A server for the client commands, its endpoint read from its first line.
mkfifo "$tmp/ep"
"$MUTIL" serve --bind="ipc://$tmp/srv" --secret-file="$tmp/secret" --root="$tmp/root" \
    >"$tmp/ep" 2>"$tmp/serve.err" &
server=$!
trap 'kill -INT $server 2>/dev/null; wait $server 2>/dev/null; rm -rf "$tmp"' EXIT
EP=
read -r -t "$(tap_seconds 20)" EP <"$tmp/ep"
check "serve --bind=EP --secret-file=F --root=DIR starts" '[ "$EP" = "ipc://$tmp/srv" ]'

run call "$EP" hello --secret-file="$tmp/secret" --timeout=5000
check "call --secret-file=F --timeout=MS" 'status_is_0 && out_is hello'

run get "$EP" file "$tmp/local/file" --secret-file="$tmp/secret" --chunk=1K --window=2
check "get --chunk=1K --window=2" 'status_is_0 && [ "$(cat "$tmp/local/file")" = abc ]'

run put "$EP" "$tmp/local/file" copied --secret-file="$tmp/secret" --chunk=2
check "put --chunk=2" 'status_is_0 && [ "$(cat "$tmp/root/copied")" = abc ]'

run get "$EP" file "$tmp/local/x" --secret-file="$tmp/secret" --chunk=0
check "get --chunk=0 is checked like --chunk 0 (exit 2)" '[ $rc -eq 2 ] && err_has "--chunk: '"'"'0'"'"'"'

# ---- -- ends the options ---------------------------------------------------------------

run call "$EP" --secret-file "$tmp/secret" -- --not-an-option
check "call EP -- --not-an-option sends '--not-an-option'" 'status_is_0 && out_is --not-an-option'

printf 'dash' >"$tmp/root/-dash"
run get --secret-file "$tmp/secret" -- "$EP" -dash "$tmp/local/-dash"
check "get -- EP -dash LOCAL fetches the file named -dash" \
    'status_is_0 && [ "$(cat "$tmp/local/-dash")" = dash ]'

MUTIL_ABS=$(cd "$top_builddir" && pwd)/mutil
(cd "$tmp" && "$MUTIL_ABS" keygen -- -key) >"$tmp/out" 2>"$tmp/err"
rc=$?
check "keygen -- -key writes the cert -key" 'status_is_0 && [ -f "$tmp/-key" ] && [ -f "$tmp/-key_secret" ]'

run lru "$D" c create 100
run lru "$D" c add -- -5 10
check "lru add -- -5 10 adds the key -5" 'status_is_0 && out_has "^new"'
run lru "$D" c add --now k 10
check "lru add --now: exit 2, unknown option" '[ $rc -eq 2 ] && err_has "unknown option '"'"'--now'"'"'"'
run lru "$D" c delete -- --weird
check "lru delete -- --weird looks the key up (exit 1: no such key)" '[ $rc -eq 1 ] && err_has "no such key"'

run shard "$S" set -- --odd,1 value
run shard "$S" get -- --odd,1
check "shard set/get -- with a key starting with --" 'status_is_0 && out_is value'

run version --
check "version -- is version" 'status_is_0 && out_has "^mutil "'

run help -- lru add
check "help -- lru add" 'status_is_0 && first_line_is "usage: mutil lru DIR NAME add KEY SIZE"'

# ---- ports out of range ---------------------------------------------------------------

run serve --bind tcp://127.0.0.1:99999 --insecure
check "serve --bind tcp://127.0.0.1:99999 is refused (not bound wrapped)" \
    '[ $rc -eq 1 ] && err_has "cannot bind tcp://127.0.0.1:99999: invalid argument"'
run call tcp://127.0.0.1:70000 hi --insecure
check "call to port 70000 is refused at once" \
    '[ $rc -eq 1 ] && err_has "cannot connect to tcp://127.0.0.1:70000: invalid argument"'

# ---- usage errors exit 2 everywhere ----------------------------------------------------

usage_error() {   # usage_error WHAT ARG...
    local what=$1
    shift
    run "$@"
    check "usage error exits 2: $what" '[ $rc -eq 2 ] && grep -q "^usage: mutil" "$tmp/err"'
}
usage_error "serve --cert without --allow" serve --bind "ipc://$tmp/x" --cert "$tmp/k1"
usage_error "serve --server-key" serve --bind "ipc://$tmp/x" --server-key "$tmp/k1"
usage_error "serve --allow without --cert" serve --bind "ipc://$tmp/x" --secret-file "$tmp/secret" --allow "$tmp"
usage_error "call --cert without --server-key" call "$EP" hi --cert "$tmp/k1"
usage_error "put with an unknown option" put "$EP" a b --secret-file "$tmp/secret" --bogus
usage_error "get - --resume" get "$EP" file - --secret-file "$tmp/secret" --resume
usage_error "flow help with an argument" flow help x
usage_error "shard create with an operand" shard "$S" create x
usage_error "shard create --k without a value" shard "$S" create --k
usage_error "lru evict with an operand" lru "$D" c evict x
usage_error "keygen without NAME" keygen
usage_error "version with an argument" version x

tap_end
