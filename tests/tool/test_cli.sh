#!/bin/bash
# SPDX-License-Identifier: MPL-2.0
# Copyright (c) 2026 the mutil authors
# test_cli.sh — TAP tests of the mutil command-line tool: command dispatch
# (exact names, unique prefixes, unknown and ambiguous words), help, version,
# and `mutil frame encode|decode` (round trips for every header size, byte-exact
# frames, bad input reported with its byte offset, usage errors).
#
# Environment: top_builddir (the tool is "$top_builddir/mutil"), top_srcdir,
# PYTHON3 (default python3), used to build and check bytes.
set -u

top_builddir=${top_builddir:-.}
MUTIL="$top_builddir/mutil"
. "${top_srcdir:-.}/tests/lib/tap.sh"
tap_timeout 300 "$0" "$@"
tap_begin mutil-cli
PY=${PYTHON3:-python3}
if [ -z "$PY" ]; then PY=python3; fi

# check NAME COMMAND... : one test that passes when COMMAND succeeds.
check() {
    local name=$1
    shift
    if "$@"; then ok "$name"; else not_ok "$name"; fi
}

# run INPUT ARG... : runs mutil with stdin from INPUT; leaves stdout in
# $tmp/out, stderr in $tmp/err and the exit status in $rc.
run() {
    local input=$1
    shift
    "$MUTIL" "$@" <"$input" >"$tmp/out" 2>"$tmp/err"
    rc=$?
}

# Predicates over the last run.
status_is() { [ "$rc" -eq "$1" ]; }
out_empty() { [ ! -s "$tmp/out" ]; }
out_has() { grep -q -e "$1" "$tmp/out"; }
err_has() { grep -q -e "$1" "$tmp/err"; }
err_has_fixed() { grep -q -F -e "$1" "$tmp/err"; }
out_is_file() { cmp -s "$tmp/out" "$1"; }

# py CODE ARG... : runs a Python snippet with sys.argv[1:] = ARG...
py() {
    local code=$1
    shift
    "$PY" -c "import struct, sys
$code" "$@"
}

# ---- version and dispatch -------------------------------------------------

version=$(sed -n 's/^#define PACKAGE_VERSION "\(.*\)"$/\1/p' "$top_builddir/config.h")
vre=$(printf '%s' "$version" | sed 's/\./\\./g')
num='[0-9]+(\.[0-9]+)*'

run /dev/null version
check "version exits 0 and prints one line naming mutil $version and the libraries" \
    eval 'status_is 0 && [ "$(wc -l <"$tmp/out")" -eq 1 ] &&
          grep -q -E -x "mutil $vre \(libmutil $vre, libzmq $num, czmq $num, libsodium $num, sqlite $num, msgpack $num\)" "$tmp/out"'
cp "$tmp/out" "$tmp/version.out"

run /dev/null ver
check "a unique prefix runs the command (mutil ver = mutil version)" \
    eval 'status_is 0 && out_is_file "$tmp/version.out"'

run /dev/null v
check "a one-letter unique prefix runs the command (mutil v)" \
    eval 'status_is 0 && out_is_file "$tmp/version.out"'

run /dev/null --version
check "mutil --version is mutil version" eval 'status_is 0 && out_is_file "$tmp/version.out"'

run /dev/null version extra
check "version with an argument is a usage error (exit 2)" \
    eval 'status_is 2 && out_empty && err_has "usage: mutil version"'

run /dev/null frobnicate
check "an unknown command exits 2 and points to mutil help" \
    eval "status_is 2 && out_empty && err_has_fixed \"mutil: unknown command 'frobnicate'\" &&
          err_has_fixed \"mutil help\""

run /dev/null versions
check "a word longer than every name is unknown, not a prefix match (versions)" \
    eval "status_is 2 && err_has_fixed \"unknown command 'versions'\""

run /dev/null ""
check "an empty command word is unknown (exit 2)" eval 'status_is 2 && err_has "unknown command"'

run /dev/null --bogus
check "an unknown top-level option exits 2" eval 'status_is 2 && out_empty && err_has_fixed "--bogus"'

run /dev/null
check "mutil without arguments prints usage to stderr and exits 2" \
    eval 'status_is 2 && out_empty && err_has "^usage: mutil " && err_has "^  version "'

# ---- help -----------------------------------------------------------------

run /dev/null help
check "mutil help lists every command with a one-line summary" \
    eval 'status_is 0 && out_has "^  frame  *[a-z]" && out_has "^  help  *[a-z]" &&
          out_has "^  version  *[a-z]"'
cp "$tmp/out" "$tmp/help.out"

run /dev/null --help
check "mutil --help is mutil help" eval 'status_is 0 && out_is_file "$tmp/help.out"'

run /dev/null h
check "mutil h is mutil help (unique prefix)" eval 'status_is 0 && out_is_file "$tmp/help.out"'

run /dev/null help frame
check "mutil help frame prints the usage of both subcommands and the options" \
    eval 'status_is 0 && out_has "^usage: mutil frame encode \[-H N\] \[-m MAX\]" &&
          out_has "^       mutil frame decode \[-H N\] \[-m MAX\]" && out_has "^  -H N "'
cp "$tmp/out" "$tmp/help-frame.out"

run /dev/null help fr
check "mutil help takes a prefix (help fr = help frame)" \
    eval 'status_is 0 && out_is_file "$tmp/help-frame.out"'

run /dev/null frame --help
check "mutil frame --help is mutil help frame" eval 'status_is 0 && out_is_file "$tmp/help-frame.out"'

run /dev/null fr -h
check "mutil fr -h is mutil help frame" eval 'status_is 0 && out_is_file "$tmp/help-frame.out"'

run /dev/null help version
check "mutil help version prints its usage and summary" \
    eval 'status_is 0 && [ "$(head -n 1 "$tmp/out")" = "usage: mutil version" ] && out_has "libraries"'

run /dev/null frame encode --help
cp "$tmp/out" "$tmp/help-encode.out"
check "mutil frame encode --help prints the encode usage" \
    eval 'status_is 0 && out_has "^usage: mutil frame encode \[-H N\] \[-m MAX\]" &&
          ! out_has "mutil frame decode"'

run /dev/null help frame enc
check "mutil help frame enc is mutil frame encode --help" \
    eval 'status_is 0 && out_is_file "$tmp/help-encode.out"'

run /dev/null help nosuch
check "mutil help with an unknown command exits 2" \
    eval "status_is 2 && out_empty && err_has_fixed \"unknown command 'nosuch'\""

run /dev/null help frame nosuch
check "mutil help frame with an unknown subcommand exits 2" \
    eval "status_is 2 && err_has_fixed \"mutil frame: unknown subcommand 'nosuch'\""

# ---- ambiguity and exact-match priority, from the live command table ------
# The command table has no two names sharing a prefix today (frame, help,
# version). These tests derive their cases from `mutil help`, so they become
# active on their own once such commands exist (e.g. frame and flow).

names=$(sed -n '/^commands:$/,/^$/s/^  \([a-z][a-z0-9_-]*\) .*/\1/p' "$tmp/help.out")
cases=$(py '
names = sys.argv[1].split()
def lcp(a, b):
    i = 0
    while i < min(len(a), len(b)) and a[i] == b[i]:
        i += 1
    return a[:i]
ambiguous = exact = None
for a in names:
    for b in names:
        if a >= b:
            continue
        p = lcp(a, b)
        if p and p not in names and ambiguous is None:
            ambiguous = (p, a, b)
        if p in (a, b) and exact is None:
            exact = (p, b if p == a else a)
print("ambiguous", *(ambiguous or ()))
print("exact", *(exact or ()))
' "$names")

set -- $(printf '%s\n' "$cases" | sed -n 's/^ambiguous//p')
if [ $# -eq 3 ]; then
    run /dev/null "$1"
    check "an ambiguous prefix ('$1') exits 2 and lists $2 and $3" \
        eval "status_is 2 && out_empty && err_has_fixed \"mutil: '$1' is ambiguous: candidates \" &&
              grep -q -E \"candidates .*\\b$2\\b\" \"\$tmp/err\" &&
              grep -q -E \"candidates .*\\b$3\\b\" \"\$tmp/err\""
else
    skip "an ambiguous prefix exits 2 and lists the candidates" \
        "no two commands share a prefix yet ($(echo $names))"
fi

set -- $(printf '%s\n' "$cases" | sed -n 's/^exact//p')
if [ $# -eq 2 ]; then
    run /dev/null "$1" --help
    check "an exact name ('$1') wins over a longer name it prefixes ('$2')" \
        eval "status_is 0 && [ \"\$(head -n 1 \"\$tmp/out\" | cut -d' ' -f1-3)\" = \"usage: mutil $1\" ]"
else
    skip "an exact name wins over a longer name it prefixes" \
        "no command name is a prefix of another yet ($(echo $names))"
fi

# ---- frame: round trips ----------------------------------------------------

# make_records FILE BIGSIZE: records (one per line): text, an empty record,
# every byte value but newline, a BIGSIZE-byte record, another empty one.
make_records() {
    py '
big = int(sys.argv[2])
every = bytes(b for b in range(256) if b != 10)
records = [b"hello", b"", every, (every * (big // len(every) + 1))[:big], b"", b"last one"]
open(sys.argv[1], "wb").write(b"".join(r + b"\n" for r in records))
' "$1" "$2"
}

# expected_frames RECORDS H OUT: the frames of the records, built in Python.
expected_frames() {
    py '
data = open(sys.argv[1], "rb").read()
h = int(sys.argv[2])
records = data.split(b"\n")[:-1]
fmt = {1: "<B", 2: "<H", 4: "<I", 8: "<Q"}.get(h)
def prefix(n):
    return struct.pack(fmt, n) if fmt else n.to_bytes(h, "little")
open(sys.argv[3], "wb").write(b"".join(prefix(len(r)) + r for r in records))
' "$1" "$2" "$3"
}

for h in 1 2 3 4 5 6 7 8; do
    case $h in
        1) big=255 ;;           # the largest a 1-byte prefix expresses
        2) big=65535 ;;
        *) big=102400 ;;        # 100 KB
    esac
    make_records "$tmp/rec$h" $big
    expected_frames "$tmp/rec$h" $h "$tmp/expect$h"
    run "$tmp/rec$h" frame encode -H $h
    cp "$tmp/out" "$tmp/frames$h"
    check "frame encode -H $h is byte-exact (empty records, a $big-byte record)" \
        eval 'status_is 0 && out_is_file "$tmp/expect$h" && [ ! -s "$tmp/err" ]'
    run "$tmp/frames$h" frame decode -H $h
    check "frame decode -H $h gives back the records byte for byte" \
        eval 'status_is 0 && out_is_file "$tmp/rec$h" && [ ! -s "$tmp/err" ]'
done

# The brief's byte-exact anchors, spelled out with struct for H=4 and H=2.
py 'sys.stdout.buffer.write(b"ab\n\nxyz")' >"$tmp/small"
py 'sys.stdout.buffer.write(struct.pack("<I", 2) + b"ab" + struct.pack("<I", 0) + struct.pack("<I", 3) + b"xyz")' >"$tmp/small4"
py 'sys.stdout.buffer.write(struct.pack("<H", 2) + b"ab" + struct.pack("<H", 0) + struct.pack("<H", 3) + b"xyz")' >"$tmp/small2"
run "$tmp/small" frame encode
check "encode defaults to -H 4: struct.pack('<I') frames; a last record without newline counts" \
    eval 'status_is 0 && out_is_file "$tmp/small4"'
run "$tmp/small" frame encode -H2
check "encode -H2 (attached value) gives struct.pack('<H') frames" \
    eval 'status_is 0 && out_is_file "$tmp/small2"'
run "$tmp/small4" frame decode
check "decode of those frames writes each payload with a newline" \
    eval 'status_is 0 && [ "$(od -An -c "$tmp/out" | tr -d " \n")" = "ab\n\nxyz\n" ]'

printf '\n' >"$tmp/one-empty"
run "$tmp/one-empty" frame encode
check "an empty line is one empty frame" \
    eval 'status_is 0 && [ "$(od -An -tx1 "$tmp/out" | tr -d " \n")" = "00000000" ]'

run /dev/null frame encode
check "encode of empty input writes nothing and exits 0" eval 'status_is 0 && out_empty && [ ! -s "$tmp/err" ]'
run /dev/null frame decode
check "decode of empty input writes nothing and exits 0" eval 'status_is 0 && out_empty && [ ! -s "$tmp/err" ]'

run "$tmp/rec4" frame e -H 4
check "frame e is frame encode (unique subcommand prefix)" eval 'status_is 0 && out_is_file "$tmp/expect4"'
run "$tmp/frames4" fr d
check "fr d is frame decode" eval 'status_is 0 && out_is_file "$tmp/rec4"'

# Through real pipes between two processes, many records and a few large ones.
py '
import random
r = random.Random(7)
out = sys.stdout.buffer
for i in range(20000):
    n = r.choice((0, 1, 10, 100, 1000)) if i % 1000 else 300000
    out.write(bytes([97 + i % 26]) * n + b"\n")
' >"$tmp/many"
"$MUTIL" frame encode <"$tmp/many" 2>"$tmp/err" | "$MUTIL" frame decode >"$tmp/out" 2>>"$tmp/err"
st=("${PIPESTATUS[@]}")
rc="${st[0]}/${st[1]}"
check "encode | decode through a pipe round-trips $(wc -c <"$tmp/many") bytes" \
    eval '[ "$rc" = "0/0" ] && out_is_file "$tmp/many" && [ ! -s "$tmp/err" ]'

# ---- frame: files, "-" and a closed output --------------------------------

run /dev/null frame encode "$tmp/rec4" "$tmp/file-frames"
check "encode INPUT OUTPUT reads and writes the files, nothing on stdout" \
    eval 'status_is 0 && out_empty && cmp -s "$tmp/file-frames" "$tmp/expect4"'
run "$tmp/rec4" frame encode -H 4 - "$tmp/file-frames2"
check "encode - OUTPUT reads standard input" \
    eval 'status_is 0 && out_empty && cmp -s "$tmp/file-frames2" "$tmp/expect4"'
run /dev/null frame decode "$tmp/frames4" -
check "decode INPUT - writes standard output" eval 'status_is 0 && out_is_file "$tmp/rec4"'
run "$tmp/frames4" frame decode -
check "decode - reads standard input" eval 'status_is 0 && out_is_file "$tmp/rec4"'
cp "$tmp/frames4" "$tmp/-H"
run /dev/null frame decode -H 4 -- "$tmp/-H" "$tmp/file-records"
check "after --, file names are files (decode -H 4 -- INPUT OUTPUT)" \
    eval 'status_is 0 && out_empty && cmp -s "$tmp/file-records" "$tmp/rec4"'
printf 'stale contents, longer than the frames\n%.0s' 1 2 3 4 5 6 7 8 9 >"$tmp/small-out"
run /dev/null frame encode "$tmp/small" "$tmp/small-out"
check "an existing OUTPUT is truncated" eval 'status_is 0 && cmp -s "$tmp/small-out" "$tmp/small4"'

run /dev/null frame decode "$tmp/no-such-file"
check "decode of a missing INPUT exits 1 naming it" \
    eval 'status_is 1 && out_empty && err_has_fixed "cannot open input $tmp/no-such-file"'
run /dev/null frame encode "$tmp/small" "$tmp/no-such-dir/out"
check "encode to an OUTPUT in a missing directory exits 1 naming it" \
    eval 'status_is 1 && err_has_fixed "cannot open output $tmp/no-such-dir/out"'

# A reader that leaves early (head) ends the command quietly with status 0;
# 8 MiB of output is far more than a pipe holds, so the write meets EPIPE.
py 'sys.stdout.buffer.write((b"x" * 1023 + b"\n") * 8192)' >"$tmp/8m-records"
"$MUTIL" frame encode "$tmp/8m-records" "$tmp/8m-frames" 2>"$tmp/err"
for sub in decode encode; do
    case $sub in decode) input=$tmp/8m-frames ;; encode) input=$tmp/8m-records ;; esac
    "$MUTIL" frame $sub "$input" 2>"$tmp/err" | head -c 1 >"$tmp/out"
    rc=${PIPESTATUS[0]}
    check "frame $sub | head -c 1: a closed output ends quietly with status 0" \
        eval 'status_is 0 && [ ! -s "$tmp/err" ] && [ "$(wc -c <"$tmp/out")" -eq 1 ]'
done

# ---- frame: limits and bad input ------------------------------------------

py 'sys.stdout.buffer.write(b"abc\n" + b"x" * 300 + b"\nafter\n")' >"$tmp/long"
run "$tmp/long" frame encode -H 1
check "encode -H 1 of a 300-byte record exits 1 naming its offset (4); earlier frames written" \
    eval 'status_is 1 && err_has_fixed "mutil frame encode: record at byte offset 4 " &&
          [ "$(od -An -tx1 "$tmp/out" | tr -d " \n")" = "03616263" ]'

py 'sys.stdout.buffer.write(b"y" * 1024 + b"\n")' >"$tmp/k1"
py 'sys.stdout.buffer.write(b"y" * 1024 + b"\n" + b"z" * 1025)' >"$tmp/k1plus"
run "$tmp/k1" frame encode -m 1K
check "encode -m 1K accepts a 1024-byte record" eval 'status_is 0 && [ "$(wc -c <"$tmp/out")" -eq 1028 ]'
run "$tmp/k1plus" frame encode -m 1K
check "encode -m 1K refuses a 1025-byte record at offset 1025" \
    eval 'status_is 1 && err_has_fixed "record at byte offset 1025 " && [ "$(wc -c <"$tmp/out")" -eq 1028 ]'

# Three good frames (4+5, 4+0, 4+6 = 23 bytes), then a header announcing 100
# bytes followed by only 10.
py 'sys.stdout.buffer.write(b"".join(struct.pack("<I", len(p)) + p for p in (b"hello", b"", b"world!")) + struct.pack("<I", 100) + b"0123456789")' >"$tmp/trunc"
run "$tmp/trunc" frame decode
check "decode of a truncated frame exits 1 naming byte offset 23; earlier payloads written" \
    eval 'status_is 1 && err_has_fixed "mutil frame decode: truncated frame at byte offset 23:" &&
          [ "$(od -An -c "$tmp/out" | tr -d " \n")" = "hello\n\nworld!\n" ]'

py 'sys.stdout.buffer.write(struct.pack("<H", 5) + b"hello" + b"\x07")' >"$tmp/trunc-header"
run "$tmp/trunc-header" frame decode -H 2
check "decode -H 2 of a stream ending inside a header names byte offset 7" \
    eval 'status_is 1 && err_has_fixed "truncated frame at byte offset 7:" && out_has "^hello$"'

py 'sys.stdout.buffer.write(struct.pack("<I", 16) + b"a" * 16 + struct.pack("<I", 17) + b"b" * 17)' >"$tmp/over"
run "$tmp/over" frame decode -m 16
check "decode -m 16 of a 17-byte frame exits 1 naming byte offset 20; the 16-byte frame written" \
    eval 'status_is 1 && err_has_fixed "mutil frame decode: frame at byte offset 20 " &&
          [ "$(cat "$tmp/out")" = "aaaaaaaaaaaaaaaa" ]'

py 'sys.stdout.buffer.write(struct.pack("<H", 16) + b"a" * 16 + struct.pack("<H", 17) + b"b" * 17)' >"$tmp/over2"
run "$tmp/over2" frame decode -H 2 -m 16
check "decode -H 2 -m 16 names byte offset 18 for the oversize frame" \
    eval 'status_is 1 && err_has_fixed "frame at byte offset 18 "'

py 'sys.stdout.buffer.write(struct.pack("<I", 0xFFFFFFFF))' >"$tmp/huge"
run "$tmp/huge" frame decode
check "decode of a 4 GiB announcement (over the 64 MiB default) exits 1 at offset 0" \
    eval 'status_is 1 && err_has_fixed "frame at byte offset 0 " && out_empty'

# With -H 8 and the maximum lifted to 2^64-1, lengths past what memory can
# hold are refused at once (they used to spin forever, or wrap and print
# garbage); the frame before them is written.
for length in 9223372036854775808 18446744073709551608 18446744073709551615; do
    py 'n = int(sys.argv[1]); sys.stdout.buffer.write(struct.pack("<Q", 5) + b"hello" + struct.pack("<Q", n) + b"abc")' \
        "$length" >"$tmp/huge8"
    timeout -s KILL "$(tap_seconds 10)" "$MUTIL" frame decode -H 8 -m 18446744073709551615 \
        <"$tmp/huge8" >"$tmp/out" 2>"$tmp/err"
    rc=$?
    check "decode -H 8 -m 2^64-1 of a frame announcing $length bytes exits 1 at once (offset 13)" \
        eval 'status_is 1 && err_has_fixed "frame at byte offset 13 is too large to hold in memory" &&
              [ "$(cat "$tmp/out")" = "hello" ]'
done

# ---- frame: usage errors --------------------------------------------------

for sub in encode decode; do
    for args in "-H 9" "-H 0" "-H x" "-H" "-H 1K" "-m 0" "-m -1" "-m 12Q" "-x" "in out extra" \
                "-- in out extra" "- - -"; do
        run /dev/null frame $sub $args
        check "frame $sub $args is a usage error (exit 2, usage on stderr)" \
            eval 'status_is 2 && out_empty && err_has "^usage: mutil frame $sub"'
    done
done

run /dev/null frame
check "frame without a subcommand exits 2 with usage" eval 'status_is 2 && err_has "^usage: mutil frame"'
run /dev/null frame bogus
check "frame with an unknown subcommand exits 2" \
    eval "status_is 2 && err_has_fixed \"mutil frame: unknown subcommand 'bogus'\""

if [ -w /dev/full ]; then
    "$MUTIL" version >/dev/full 2>"$tmp/err"
    rc=$?
    check "a failed write to stdout (/dev/full) exits 1" eval 'status_is 1 && [ -s "$tmp/err" ]'
fi

tap_end
