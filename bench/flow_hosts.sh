#!/bin/sh
# SPDX-License-Identifier: MPL-2.0
# Copyright (c) 2026 the mutil authors
# flow_hosts.sh — runs bench/flow_hosts with its hosts in a network-namespace
# test bed (tests/lib/netns.sh: 4 namespaces on a bridge, removed at the end).
#   bench/flow_hosts.sh PROGRAM [--quick] [--reps=N] [FILTER...]
# e.g. from a build directory: ../../bench/flow_hosts.sh ./bench/flow_hosts
# (or `make bench-flow-hosts`). Without root it runs the hosts on loopback
# and says so. MU_BENCH_WORKERS sets the workers per worker host (default 4).
set -u
here=$(cd "$(dirname "$0")" && pwd)
prog=$1
shift
. "$here/../tests/lib/netns.sh"
if netns_begin 4; then
    MU_BENCH_NETNS="munb-$netns_id-h" "$prog" "$@"
    status=$?
    netns_end
    exit "$status"
fi
echo "flow_hosts: no network namespaces ($netns_why): hosts on loopback" >&2
env -u MU_BENCH_NETNS "$prog" "$@"
