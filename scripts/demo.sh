#!/bin/sh
# make demo: the main job. Brings up the small testbed (3 VNodes, a
# transport router, an AGW, a terminal; real daemons in network
# namespaces), creates two slices that use the same IP addresses, shows
# traffic in both (ping and iperf3 between containers through a fast-path
# router on a third VNode), prints per-slice counters, and tears it down.
set -eu
B=${1:-build}
P=demo$$
RUN=${TMPDIR:-/tmp}/vnode-demo-$P
TB="$B/bin/testbed"
trap '"$TB" down --dir "$RUN" > /dev/null 2>&1 || true' EXIT INT TERM
say() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }
run() { say "$*"; "$@"; }
in_slice() { ns=$1; shift; say "[$ns] $*"; ip netns exec "$P-$ns" "$@"; }

run "$TB" up testbed/topologies/small.xml --prefix "$P" --dir "$RUN"
export SNC_URL="unix:$RUN/sncd.sock" SNC_TOKEN_FILE="$RUN/alice.token"
SNC="$B/bin/snc"
run "$SNC" resources
run "$SNC" validate docs/examples/blue.xml
run "$SNC" create docs/examples/blue.xml
run "$SNC" create docs/examples/red.xml
run "$SNC" list
printf '\nBoth slices give their client 10.0.2.2 and their server 10.0.1.2.\n'
in_slice vn2.blue.client ping -c 3 10.0.1.2
in_slice vn2.red.client ping -c 3 10.0.1.2
in_slice vn2.blue.client iperf3 -c 10.0.1.2 -t 3
in_slice vn2.red.client iperf3 -c 10.0.1.2 -t 3 -u -b 100M -l 1400
run "$SNC" stats blue
run "$SNC" stats red
run "$SNC" resources
run "$SNC" delete blue
run "$SNC" delete red
run "$TB" status --dir "$RUN"
run "$TB" down --dir "$RUN"
trap - EXIT INT TERM
printf '\nDone: the testbed is gone (ip netns list shows nothing of %s).\n' "$P"
