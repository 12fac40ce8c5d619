# SPDX-License-Identifier: MPL-2.0
# Copyright (c) 2026 the mutil authors
# netns.sh — a network-namespace test bed for shell tests and benches
# (sourced, not run; POSIX sh). Needs root, iproute2 and, for link cuts,
# nftables (Debian packages iproute2 and nftables).
#
# The bed is N "hosts" (network namespaces) h1..hN joined by one Linux
# bridge in the calling namespace: host i has eth0 = 10.77.0.i/24 (and lo
# up), plugged into the bridge by a veth pair. The bridge itself has no
# address, so the calling namespace routes nothing to 10.77.0.0/24 and
# parallel beds (each with its own bridge) using the same addresses never
# meet. Every name carries a run id "<pid>x<hex>" (the pid of the shell that
# made the bed), so parallel `make check` jobs cannot collide:
#   namespaces  munb-<id>-h<i>      bridge  mub<id>
#   veth (bridge side) muv<id>h<i>  nft table  bridge munb_<id> (link cuts)
#
#   netns_begin N        makes the bed (reaps stale beds first: those whose
#                        owner pid is gone, e.g. after a SIGKILL); returns 1
#                        with the reason in $netns_why when the machine
#                        cannot (not root, no `ip`, namespaces refused):
#                        the test then prints its TAP SKIP line. Installs
#                        EXIT/INT/TERM traps that call netns_end and remove
#                        tap.sh's $tmp.
#   netns_ns I           the namespace name of host I (1..N)
#   netns_addr I         its address, 10.77.0.I
#   netns_exec I CMD...  runs CMD in host I (ip netns exec; a background
#                        `netns_exec I CMD &` leaves CMD's pid in $!)
#   netns_reach I J      true when host I reaches host J within 1 s (a TCP
#                        connection to a closed port: refused = reachable;
#                        needs python3)
#   netns_pids I         the pids of every process of host I
#   netns_kill I [SIG]   sends SIG (default KILL) to every process of host
#                        I until none is left (processes forked meanwhile
#                        included); returns 1 if some survive 10 s (scaled)
#   netns_cut I [nft|link]     cuts host I off the bridge: an nftables drop
#                        rule on the bridge (default: both directions, no
#                        error seen by the host's sockets, like a pulled
#                        cable) or `ip link set down` of its bridge-side veth
#   netns_restore I [nft|link] undoes netns_cut
#   netns_end            kills every host's processes, deletes the
#                        namespaces, the bridge and the nft table (also run
#                        by the traps); idempotent
#   netns_leftovers      prints what of this bed's id still exists (empty
#                        after netns_end)

# Runs a command with its output discarded.
netns__q() {
    "$@" >/dev/null 2>&1
}

netns_ns() { echo "munb-$netns_id-h$1"; }
netns_addr() { echo "10.77.0.$1"; }
netns__veth() { echo "muv${netns_id}h$1"; }
netns__br() { echo "mub$netns_id"; }

netns_exec() {
    netns__host=$1
    shift
    ip netns exec "$(netns_ns "$netns__host")" "$@"
}

netns_reach() {
    netns_exec "$1" python3 -c '
import socket, sys
s = socket.socket()
s.settimeout(1.0)
try:
    s.connect((sys.argv[1], 9))
except ConnectionRefusedError:
    sys.exit(0)
except OSError:
    sys.exit(1)
sys.exit(0)
' "$(netns_addr "$2")"
}

netns_pids() {
    ip netns pids "$(netns_ns "$1")" 2>/dev/null
}

# netns__kill_ns NAME SIG: kills every process of namespace NAME (by name,
# for the reaper as well) until none is left; 1 when some survive ~10 s.
netns__kill_ns() {
    netns__tries=$(($(netns__seconds 10) * 20))
    while :; do
        netns__p=$(ip netns pids "$1" 2>/dev/null)
        [ -z "$netns__p" ] && return 0
        # shellcheck disable=SC2086 # one argument per pid
        kill -s "$2" $netns__p 2>/dev/null
        netns__tries=$((netns__tries - 1))
        [ "$netns__tries" -le 0 ] && return 1
        sleep 0.05
    done
}

netns__seconds() {
    if command -v tap_seconds >/dev/null 2>&1; then tap_seconds "$1"; else echo "$1"; fi
}

netns_kill() {
    netns__kill_ns "$(netns_ns "$1")" "${2:-KILL}"
}

netns_cut() {
    case "${2:-nft}" in
    nft)
        netns__q nft add table bridge "munb_$netns_id" || return 1
        netns__q nft add chain bridge "munb_$netns_id" cut \
            '{ type filter hook forward priority 0; policy accept; }' || return 1
        nft add rule bridge "munb_$netns_id" cut iifname "$(netns__veth "$1")" drop \
            comment "\"cut-$1\"" || return 1
        nft add rule bridge "munb_$netns_id" cut oifname "$(netns__veth "$1")" drop \
            comment "\"cut-$1\""
        ;;
    link) ip link set "$(netns__veth "$1")" down ;;
    *) return 2 ;;
    esac
}

netns_restore() {
    case "${2:-nft}" in
    nft)
        # Delete the rules of this host (by their handles), keep the others'.
        for netns__h in $(nft -a list chain bridge "munb_$netns_id" cut 2>/dev/null \
            | sed -n "s/.*comment \"cut-$1\" # handle \([0-9]*\)$/\1/p"); do
            nft delete rule bridge "munb_$netns_id" cut handle "$netns__h" || return 1
        done
        ;;
    link) ip link set "$(netns__veth "$1")" up ;;
    *) return 2 ;;
    esac
}

# netns__remove ID: removes whatever of bed ID exists (processes first).
netns__remove() {
    for netns__n in $(ip netns list 2>/dev/null | sed -n "s/^\(munb-$1-h[0-9]*\).*/\1/p"); do
        netns__kill_ns "$netns__n" KILL
    done
    # The veths first: a namespace's devices go only once the kernel has
    # freed it, which can come later than `ip netns del` returns.
    for netns__v in $(ip -o link show 2>/dev/null | sed -n "s/^[0-9]*: \(muv$1h[0-9]*\)@.*/\1/p"); do
        netns__q ip link del "$netns__v"
    done
    for netns__n in $(ip netns list 2>/dev/null | sed -n "s/^\(munb-$1-h[0-9]*\).*/\1/p"); do
        netns__q ip netns del "$netns__n"
    done
    netns__q ip link del "mub$1"
    netns__q nft delete table bridge "munb_$1"
}

# Reaps the beds of runs whose owner pid is gone.
netns__reap() {
    for netns__old in $( (
        ip netns list 2>/dev/null | sed -n 's/^munb-\([0-9]*x[0-9a-f]*\)-h.*/\1/p'
        ip -o link show type bridge 2>/dev/null | sed -n 's/^[0-9]*: mub\([0-9]*x[0-9a-f]*\)[:@].*/\1/p'
        ip -o link show 2>/dev/null | sed -n 's/^[0-9]*: muv\([0-9]*x[0-9a-f]*\)h[0-9]*@.*/\1/p'
        nft list tables bridge 2>/dev/null | sed -n 's/^table bridge munb_\([0-9]*x[0-9a-f]*\)$/\1/p'
    ) | sort -u); do
        if ! kill -0 "${netns__old%%x*}" 2>/dev/null; then
            netns__remove "$netns__old"
        fi
    done
}

netns_begin() {
    netns_why=
    netns_n=$1
    if [ "$(id -u)" -ne 0 ]; then
        netns_why="not root (network namespaces need CAP_NET_ADMIN)"
        return 1
    fi
    if ! command -v ip >/dev/null 2>&1; then
        netns_why="no ip command (apt-get install iproute2)"
        return 1
    fi
    netns__reap
    netns_id=$$x$(od -An -N1 -tx1 /dev/urandom | tr -d ' \n')
    trap 'netns_end; if [ -n "${tmp:-}" ]; then rm -rf "$tmp"; fi' EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    if ! netns__q ip link add "$(netns__br)" type bridge; then
        netns_why="cannot make a bridge (ip link add type bridge refused)"
        return 1
    fi
    netns__q ip link set "$(netns__br)" up
    netns__i=1
    while [ "$netns__i" -le "$netns_n" ]; do
        if ! netns__host "$netns__i"; then
            netns_why="cannot make network namespace $netns__i ($(netns_ns "$netns__i"))"
            netns_end
            return 1
        fi
        netns__i=$((netns__i + 1))
    done
}

netns__host() {
    netns__n=$(netns_ns "$1")
    netns__v=$(netns__veth "$1")
    ip netns add "$netns__n" 2>/dev/null || return 1
    ip link add "$netns__v" type veth peer name eth0 netns "$netns__n" 2>/dev/null || return 1
    ip link set "$netns__v" master "$(netns__br)" up || return 1
    ip -n "$netns__n" addr add "$(netns_addr "$1")/24" dev eth0 || return 1
    ip -n "$netns__n" link set eth0 up || return 1
    ip -n "$netns__n" link set lo up
}

netns_end() {
    if [ -n "${netns_id:-}" ]; then
        netns__remove "$netns_id"
    fi
}

netns_leftovers() {
    ip netns list 2>/dev/null | grep -e "munb-$netns_id-"
    ip -o link show 2>/dev/null | grep -e "mu[bv]$netns_id"
    nft list tables bridge 2>/dev/null | grep -e "munb_$netns_id"
    true
}
