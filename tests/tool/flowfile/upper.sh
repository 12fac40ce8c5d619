#!/bin/sh
# upper.sh — a flow worker command in POSIX sh: reads each input frame's
# 4-byte little-endian length with head -c and od, then its bytes, and
# writes one frame "sh:" + input, then the empty "done" frame. (Text
# without newlines or NUL bytes: the shell's command substitution would
# change those.)
LC_ALL=C
export LC_ALL
frame() {
    n=${#1}
    printf "$(printf '\\%03o\\%03o\\%03o\\%03o' $((n & 255)) $((n >> 8 & 255)) \
        $((n >> 16 & 255)) $((n >> 24 & 255)))%s" "$1"
}
while :; do
    n=$(head -c 4 | od -An -tu4 | tr -d ' ')
    [ -n "$n" ] || exit 0
    data=$(head -c "$n")
    frame "sh:$data"
    printf '\000\000\000\000'
done
