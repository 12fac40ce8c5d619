#!/bin/bash
# SPDX-License-Identifier: MPL-2.0
# Copyright (c) 2026 the mutil authors
# test_cron_cli.sh — TAP tests of `mutil cron next`: fire times in UTC and
# in a local zone with DST (a POSIX TZ rule), the count, bad expressions and
# options (exit 2), an expression that never fires (exit 1).
#
# Environment: top_builddir (the tool is "$top_builddir/mutil"), top_srcdir.
set -u

top_builddir=${top_builddir:-.}
MUTIL="$top_builddir/mutil"
. "${top_srcdir:-.}/tests/lib/tap.sh"
tap_begin mutil-cron-cli

check() {
    if eval "$2"; then ok "$1"; else not_ok "$1"; fi
}

FRI=1796406600 # 2026-12-04 17:50 UTC, a Friday

run cron next '*/15 9-17 * * mon-fri' --utc --after $FRI -n 3
check "weekday office hours in UTC: the next three quarter hours on Monday" \
    '[ $rc -eq 0 ] && [ "$(cat "$tmp/out")" = "2026-12-07 09:00 Mon UTC  1796634000
2026-12-07 09:15 Mon UTC  1796634900
2026-12-07 09:30 Mon UTC  1796635800" ]'

run cron next '@daily' --utc --after=$FRI
check "five lines by default, a day apart" \
    '[ $rc -eq 0 ] && [ $(wc -l <"$tmp/out") -eq 5 ] && head -n 1 "$tmp/out" | grep -q "^2026-12-05 00:00 Sat UTC  1796428800$"'

TZ='CET-1CEST,M3.5.0,M10.5.0/3' run cron n '30 2 * * *' --after 1774695600 -n 2
check "local time: 02:30 does not exist on the spring-forward day, so it is skipped" \
    '[ $rc -eq 0 ] && [ "$(cat "$tmp/out")" = "2026-03-30 02:30 Mon CEST  1774830600
2026-03-31 02:30 Tue CEST  1774917000" ]'

run cron next '61 * * * *'
check "a bad field exits 2 and names it" \
    '[ $rc -eq 2 ] && err_has "cron minute field: '"'"'61'"'"' outside 0-59"'

run cron next '0 0 30 2 *'
check "an expression that never fires exits 1" \
    '[ $rc -eq 1 ] && err_has "no fire time within 8 years"'

run cron next
check "EXPR is required" '[ $rc -eq 2 ] && err_has "missing EXPR"'

run cron next '@daily' -n 0
check "-n 0 is refused" '[ $rc -eq 2 ] && err_has "-n needs a number from 1 to 1000"'

run cron next '* * * * *' extra
check "a second operand is refused" '[ $rc -eq 2 ] && err_has "unexpected argument '"'"'extra'"'"'"'

run cron next '@daily' --utc=yes
check "--utc takes no value" '[ $rc -eq 2 ]'

run help cron next
check "help cron next prints the usage and the field rules" \
    '[ $rc -eq 0 ] && head -n 1 "$tmp/out" | grep -q "^usage: mutil cron next EXPR" && grep -q "day of week" "$tmp/out"'
check "help cron next: blank lines before the options and after them" \
    '[ $rc -eq 0 ] && grep -B1 "^options:" "$tmp/out" | head -n 1 | grep -q "^$" && grep -B1 "^One line per fire time" "$tmp/out" | head -n 1 | grep -q "^$"'

tap_end
