#!/bin/sh
# make bench-snc: starts a release-build sncd on the 7-VNode benchmark
# topology in a temporary directory and runs snc_bench against it.
set -eu
B=${1:-build}
N=${N:-1000}
T=$(mktemp -d "${TMPDIR:-/tmp}/vnode-bench.XXXXXX")
trap 'kill $PID 2>/dev/null; wait $PID 2>/dev/null; rm -rf "$T"' EXIT INT TERM
TOKEN=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
echo "bench researcher $TOKEN" > "$T/users"
SYNC=${SYNC:-}
"$B/bin/sncd" --topology bench/topo-jgnx7.xml --db "$T/snc.db" \
    --users "$T/users" --listen "unix:$T/sncd.sock" --log-level warn \
    --driver record $SYNC \
    2> "$T/sncd.log" &
PID=$!
i=0
while [ ! -S "$T/sncd.sock" ]; do
    i=$((i + 1)); [ $i -lt 100 ] || { cat "$T/sncd.log"; exit 1; }
    sleep 0.1
done
echo "sncd (release build, SQLite WAL, synchronous=${SYNC:-NORMAL}) on bench/topo-jgnx7.xml"
"$B/bench/snc_bench" "unix:$T/sncd.sock" "$TOKEN" "$N" 50
