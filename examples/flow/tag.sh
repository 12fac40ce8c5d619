#!/bin/sh
# tag.sh — a flow worker command in POSIX sh: reads each frame's length
# with head -c 4 | od, its bytes with head -c, and writes one frame
# "[host/runner] input", then the empty "done" frame. Text without
# newlines or NUL bytes only (command substitution would change those).
LC_ALL=C
export LC_ALL
while :; do
    n=$(head -c 4 | od -An -tu4 | tr -d ' ')
    [ -n "$n" ] || exit 0
    data="[${MUFLOW_HOST:-local}/$MUFLOW_INDEX] $(head -c "$n")"
    len=${#data}
    printf "$(printf '\\%03o\\%03o\\%03o\\%03o' $((len & 255)) $((len >> 8 & 255)) \
        $((len >> 16 & 255)) $((len >> 24 & 255)))%s" "$data"
    printf '\000\000\000\000'
done
