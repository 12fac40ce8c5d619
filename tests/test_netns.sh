#!/bin/sh
# SPDX-License-Identifier: MPL-2.0
# Copyright (c) 2026 the mutil authors
# test_netns.sh — TAP tests of the network-namespace test bed
# (tests/lib/netns.sh): hosts reach each other across the bridge, an
# nftables cut blocks one host and its restore unblocks it (the others
# unaffected), so do `ip link set down/up`, every process of a host is
# killed, a bed left by a SIGKILLed run is reaped, and nothing is left after
# the end. Skipped (one TAP SKIP line) only when the machine cannot make
# namespaces (not root).
#
# Environment: top_srcdir.
set -u

. "${top_srcdir:-.}/tests/lib/tap.sh"
tap_timeout 120 "$0" "$@"
. "${top_srcdir:-.}/tests/lib/netns.sh"
tap_begin mutil-netns

if ! netns_begin 4; then
    skip "network-namespace test bed" "$netns_why"
    tap_end
    exit 0
fi
if ! command -v nft >/dev/null 2>&1 || ! command -v python3 >/dev/null 2>&1; then
    skip "network-namespace test bed" "no nft or python3 (apt-get install nftables python3)"
    tap_end
    exit 0
fi

if netns_reach 1 2 && netns_reach 1 3 && netns_reach 2 4 && netns_reach 4 1; then
    ok "four hosts reach each other across the bridge"
else
    not_ok "four hosts reach each other across the bridge"
fi

if [ "$(netns_exec 3 ip -4 -o addr show dev eth0 | awk '{ print $4 }')" = "10.77.0.3/24" ] \
    && [ "$(netns_ns 3)" = "munb-$netns_id-h3" ]; then
    ok "host 3 is 10.77.0.3/24 in namespace munb-<id>-h3"
else
    not_ok "host 3 is 10.77.0.3/24 in namespace munb-<id>-h3"
fi

# nftables cut of host 3: blocked both ways, the others still talk.
if netns_cut 3 && ! netns_reach 1 3 && ! netns_reach 3 2 && netns_reach 1 2 && netns_reach 4 2; then
    ok "an nftables cut blocks host 3 both ways, the others unaffected"
else
    not_ok "an nftables cut blocks host 3 both ways, the others unaffected"
fi
if netns_cut 4 && netns_restore 3 && netns_reach 1 3 && ! netns_reach 1 4 \
    && netns_restore 4 && tap_wait_for 10 netns_reach 1 4; then
    ok "restore unblocks a host (and only it)"
else
    not_ok "restore unblocks a host (and only it)"
fi

if netns_cut 2 link && ! netns_reach 1 2 && netns_restore 2 link \
    && tap_wait_for 10 netns_reach 1 2; then
    ok "ip link set down cuts, up restores"
else
    not_ok "ip link set down cuts, up restores"
fi

# Every process of a host, a grandchild included, is killed.
netns_exec 4 sleep 300 &
netns_exec 4 sh -c 'sleep 300 & echo started; wait' >"$tmp/started" &
have_three() { [ "$(netns_pids 4 | wc -l)" -ge 3 ] && grep -q started "$tmp/started"; }
if tap_wait_for 10 have_three && netns_kill 4 && [ -z "$(netns_pids 4)" ]; then
    ok "netns_kill kills every process of a host"
else
    not_ok "netns_kill kills every process of a host"
fi
wait 2>/dev/null

# A bed whose run was SIGKILLed is reaped by the next netns_begin.
sh -c '. "$1"; netns_begin 2 || exit 1; echo "$netns_id" >"$2"; netns_exec 1 sleep 300 &
    kill -9 $$' sh "${top_srcdir:-.}/tests/lib/netns.sh" "$tmp/stale" 2>/dev/null
stale=$(cat "$tmp/stale" 2>/dev/null)
ours=$netns_id
stale_left() { ip netns list | grep -q "munb-$stale-" || ip -o link show | grep -q "mub$stale"; }
# (A parallel run may reap it first: what counts is that it is gone.)
if [ -n "$stale" ]; then
    (netns_id=; netns__reap)
    if ! stale_left && [ -n "$(netns_pids 1)$(ip netns list | grep "munb-$ours-h1")" ]; then
        ok "a SIGKILLed run's bed is reaped"
    else
        not_ok "a SIGKILLed run's bed is reaped"
    fi
else
    not_ok "a SIGKILLed run's bed is reaped (it was not made)"
fi

netns_exec 2 sleep 300 &
netns_cut 1
netns_end
left=$(netns_leftovers)
if [ -z "$left" ]; then
    ok "netns_end leaves nothing (namespaces, veths, bridge, nft table)"
else
    echo "$left" >"$tmp/out"
    not_ok "netns_end leaves nothing (namespaces, veths, bridge, nft table)"
fi
wait 2>/dev/null

tap_end
