#!/bin/sh
# SPDX-License-Identifier: MPL-2.0
# Copyright (c) 2026 the mutil authors
# test_num_cli.sh — TAP tests of `mutil num round` and `mutil num price`:
# the seed's examples, options, edge values (negative, huge, NaN, inf) and
# every usage error (exit 2 with a message).
#
# Environment: top_builddir (the tool is "$top_builddir/mutil"), top_srcdir.
set -u

top_builddir=${top_builddir:-.}
MUTIL="$top_builddir/mutil"
. "${top_srcdir:-.}/tests/lib/tap.sh"
tap_timeout 120 "$0" "$@"
tap_begin mutil-num-cli

# prints ARGS WANT: `mutil ARGS` exits 0 and prints exactly WANT.
prints() {
    want=$1
    shift
    run "$@"
    name="mutil $* prints '$(printf '%s' "$want" | tr '\n' '|')'"
    if status_is 0 && out_is "$want"; then
        ok "$name"
    else
        not_ok "$name"
    fi
}

# usage_error WHAT ARGS...: exits 2 and stderr has WHAT and a usage line.
usage_error() {
    what=$1
    shift
    run "$@"
    if status_is 2 && err_has "$what" && err_has "usage: mutil num"; then
        ok "mutil $* is a usage error ($what)"
    else
        not_ok "mutil $* is a usage error ($what)"
    fi
}

# ---- round ------------------------------------------------------------------
prints 12.35 num round 12.345 0.05
prints 0.28 num round 0.24 0.07 --up
prints 0.21 num round 0.24 0.07 --down
prints 0.07 num round 0.01 0.07 --up
prints 0 num round -0.01 0.07 --up
prints -0.07 num round -0.01 0.07 --down
prints 3.3 num round 3.3 0.1
prints 1.15 num round 1.13 0.05
prints -2 num round -1.5 1
prints 1e+300 num r 1e300 0.01
prints nan num round nan 0.5
prints 0.21 num round --down 0.24 0.07
usage_error "missing X and STEP" num round
usage_error "missing STEP" num round 1
usage_error "unexpected argument '3'" num round 1 2 3
usage_error "STEP must be a finite number above 0" num round 1 0
usage_error "STEP must be a finite number above 0" num round 1 -0.5
usage_error "STEP must be a finite number above 0" num round 1 inf
usage_error "X 'abc' is not a number" num round abc 1
usage_error "STEP '1x' is not a number" num round 1 1x
usage_error "X '1e999' is not a number" num round 1e999 1
usage_error "--down and --up exclude each other" num round 1 1 --down --up
usage_error "unknown option '--sideways'" num round 1 1 --sideways

# ---- price ------------------------------------------------------------------
prints 3.30 num price 3.3
prints 3.6642 num price 3.6642100003
prints 1,234,567.50 num price 1234567.5
prints "    1,234,567.89" num price 1234567.891 --decimals 2 --pad 16
prints "1234567.9" num price 1234567.891 --min 0 --max 1 --sep none
prints "1'234'567" num price 1234567.4 --decimals 0 --sep "'"
prints "-9,876.5432" num price -9876.54321
prints "0.00" num price -0.001 --decimals 2
prints "-0.001" num price -0.001
prints "$(printf 'nan\ninf\n-inf')" num price nan inf -- -inf
prints "$(printf '1.00\n2.50')" num price 1 2.5
prints "1,000,000,000,000,000,000.00" num price 1e18
prints "3" num price 3 --decimals=0
usage_error "missing X" num price
usage_error "missing X" num price --pad 4
usage_error "X 'ten' is not a number" num price 1 ten
usage_error "--decimals needs a whole number from 0 to 17" num price 1 --decimals 18
usage_error "--min needs a whole number from 0 to 17" num price 1 --min -1
usage_error "--max needs a whole number from 0 to 17" num price 1 --max x
usage_error "--pad needs a whole number from 0 to 1000" num price 1 --pad 1001
usage_error "--max 1 is below --min 3" num price 1 --min 3 --max 1
usage_error "--sep needs one printable character" num price 1 --sep 5
usage_error "--sep needs one printable character" num price 1 --sep ab
usage_error "option --pad needs a value" num price 1 --pad
usage_error "unknown option '--euro'" num price 1 --euro

# ---- dispatch and help ------------------------------------------------------
run num
check "num without a subcommand is a usage error" eval 'status_is 2 && err_has "missing subcommand"'
run num zz
check "an unknown subcommand exits 2" eval "status_is 2 && err_has \"unknown subcommand 'zz'\""
run num --help
check "num --help lists both subcommands" \
    eval 'status_is 0 && grep -q "mutil num round X STEP" "$tmp/out" && grep -q "mutil num price X" "$tmp/out"'
run help num price
check "help num price prints its options" eval 'status_is 0 && grep -q -- "--decimals N" "$tmp/out"'
run num price --help
check "num price --help exits 0" eval 'status_is 0 && grep -q "usage: mutil num price" "$tmp/out"'

tap_end
