#!/bin/sh
# Integration test of the testbed tool: builds the small and the jgnx
# topologies in namespaces (without daemons), checks namespaces, routing
# across the core, management, terminals, status and exec, then that `down`
# leaves nothing behind: also after a failed `up` (missing daemons, a daemon
# that dies at start), after `up` itself was killed half way, and with
# processes and sliver namespaces left in the testbed. Then brings the
# small testbed up with the real daemons to check sockets, command lines,
# users, the management network, status and down after a daemon crash.
# Run from anywhere: env BIN=build/asan/bin sh tests/integration/test_testbed.sh
set -eu
: "${BIN:?BIN must name the directory holding testbed}"
BIN=$(cd "$BIN" && pwd)
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
TB=$BIN/testbed
SMALL=$ROOT/testbed/topologies/small.xml
JGNX=$ROOT/testbed/topologies/jgnx.xml
T=$(mktemp -d "${TMPDIR:-/tmp}/vnode-tb.XXXXXX")
P=tb$$   # small
PJ=tj$$  # jgnx
PF=tf$$  # failures
PD=td$$  # with daemons
STRAYS=""
UP=""
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}"

cleanup() {
    [ -z "$UP" ] || kill -9 "$UP" 2> /dev/null || true
    for p in $P $PJ $PF $PD; do
        "$TB" down --prefix "$p" > /dev/null 2>&1 || true
    done
    for p in $STRAYS; do kill -9 "$p" 2> /dev/null || true; done
    rm -rf "$T" "/tmp/vnode-testbed-$PJ"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

fail() {
    echo "FAIL: $*" >&2
    exit 1
}
pass() { echo "ok: $*"; }

# alive PID: running and not a zombie (PID 1 reaps orphans late).
alive() {
    s=$(sed 's/.*) //' "/proc/$1/stat" 2> /dev/null | cut -c1) || return 1
    [ -n "$s" ] && [ "$s" != Z ] && [ "$s" != X ]
}

# Namespaces named PREFIX-*, one per line.
namespaces() { ip netns list | awk '{print $1}' | grep "^$1-" || true; }

ping_from() {  # ping_from PREFIX NODE ADDRESS
    ip netns exec "$1-$2" ping -c1 -W1 "$3" > /dev/null 2>&1 ||
        fail "$2 cannot ping $3"
    pass "$2 pings $3"
}

# nothing_left WHEN PREFIX RUNDIR [PID...]
nothing_left() {
    when=$1 pre=$2 dir=$3
    shift 3
    [ -z "$(namespaces "$pre")" ] || fail "namespaces left: $(namespaces "$pre" | tr '\n' ' ')"
    [ ! -e "$dir" ] || fail "$dir left behind"
    for pid in "$@"; do
        ! alive "$pid" || fail "process $pid left running"
    done
    pass "nothing left of $pre $when"
}

# ---- small topology, no daemons ----
SD=$T/small
"$TB" up "$SMALL" --prefix "$P" --dir "$SD" --no-daemons > "$T/up.out" 2>&1 ||
    { cat "$T/up.out" >&2; fail "up small"; }
pass "up small.xml --no-daemons"
for n in vn1 vn2 vn3 core agw1 t1 mgmt ctl; do
    namespaces "$P" | grep -qx "$P-$n" || fail "no namespace $P-$n"
done
pass "every namespace exists"
for v in vn1 vn2 vn3; do
    ip -n "$P-$v" link show tr0 > /dev/null 2>&1 || fail "$v has no tr0"
    ip netns exec "$P-$v" iptables -S INPUT | grep -q -- "-p gre -j DROP" ||
        fail "$v does not drop GRE"
done
[ "$(ip netns exec "$P-core" cat /proc/sys/net/ipv4/ip_forward)" = 1 ] ||
    fail "core does not forward"
[ "$(ip netns exec "$P-vn1" cat /proc/sys/net/ipv4/ip_forward)" = 0 ] ||
    fail "vn1 forwards"
pass "tr0, GRE drop and forwarding in place"
ping_from "$P" vn1 198.18.2.1
ping_from "$P" vn1 198.18.3.1
ping_from "$P" vn3 198.18.2.1
ping_from "$P" vn2 198.18.9.1
ping_from "$P" vn3 198.18.10.2
for m in 198.19.0.11 198.19.0.12 198.19.0.13 198.19.0.31; do
    ping_from "$P" ctl "$m"
done
ping_from "$P" t1 198.18.10.1
ping_from "$P" t1 198.18.9.1
"$TB" exec --dir "$SD" vn2 -- ping -c1 -W1 198.18.1.1 > /dev/null ||
    fail "testbed exec vn2 ping"
pass "testbed exec runs in the node's namespace"

# A stray process and a sliver namespace with a process that ignores
# SIGTERM, as programmerd would leave them after a crash.
ip netns exec "$P-vn1" sleep 300 &
STRAYS="$STRAYS $!"
ip netns add "$P-vn1.s1.n1"
ip netns exec "$P-vn1.s1.n1" sh -c 'trap "" TERM; exec sleep 300' &
STRAYS="$STRAYS $!"
sleep 0.2
"$TB" status --dir "$SD" > "$T/status" 2>&1 || { cat "$T/status" >&2; fail "status"; }
for word in "$P-vn1" "$P-vn2" "$P-vn3" "$P-core" "$P-agw1" "$P-t1" "$P-mgmt" \
    "$P-ctl" "tr0 198.18.128.1/30" "lo 198.18.1.1/32" "mg0 198.19.0.11/24" \
    "a0 198.18.10.2/24" "$P-vn1.s1.n1"; do
    grep -qF -- "$word" "$T/status" || { cat "$T/status" >&2; fail "status lacks '$word'"; }
done
pass "status names every namespace, address and the sliver namespace"
"$TB" down --dir "$SD" > "$T/down.out" 2>&1 || { cat "$T/down.out" >&2; fail "down small"; }
# shellcheck disable=SC2086
nothing_left "after down (strays, sliver netns)" "$P" "$SD" $STRAYS
"$TB" down --dir "$SD" > /dev/null 2>&1 || fail "second down fails"
"$TB" down --prefix "$P" > /dev/null 2>&1 || fail "down --prefix after down fails"
pass "down is idempotent"

# ---- jgnx, default run directory ----
"$TB" up "$JGNX" --prefix "$PJ" --no-daemons > "$T/up.out" 2>&1 ||
    { cat "$T/up.out" >&2; fail "up jgnx"; }
[ "$(namespaces "$PJ" | wc -l)" -eq 27 ] || fail "jgnx: expected 27 namespaces"
pass "up jgnx.xml --no-daemons: 27 namespaces in /tmp/vnode-testbed-$PJ"
ping_from "$PJ" sapporo 198.18.5.1   # core-east, core-tokyo, core-osaka
ping_from "$PJ" okinawa 198.18.2.1   # core-west, core-east
ping_from "$PJ" t1 198.18.106.2      # terminal to terminal across the core
"$TB" down --prefix "$PJ" > /dev/null 2>&1 || fail "down jgnx"
nothing_left "after down" "$PJ" "/tmp/vnode-testbed-$PJ"

# ---- failed ups leave nothing behind ----
if "$TB" up "$SMALL" --prefix "$PF" --dir "$T/fail" --bin "$T/nobin" \
    > "$T/up.out" 2>&1; then
    fail "up with a missing BIN succeeded"
fi
grep -q "redirectord" "$T/up.out" || { cat "$T/up.out" >&2; fail "no word on the missing daemon"; }
nothing_left "after up with a missing BIN" "$PF" "$T/fail"

# The network build fails half way (a broken iptables in PATH).
mkdir -p "$T/badpath"
printf '#!/bin/sh\necho "iptables: broken on purpose" >&2\nexit 4\n' > "$T/badpath/iptables"
chmod +x "$T/badpath/iptables"
if PATH="$T/badpath:$PATH" "$TB" up "$SMALL" --prefix "$PF" --dir "$T/fail" \
    --no-daemons > "$T/up.out" 2>&1; then
    fail "up with a failing iptables succeeded"
fi
grep -q "iptables: broken on purpose" "$T/up.out" ||
    { cat "$T/up.out" >&2; fail "the failing command's stderr is not reported"; }
nothing_left "after up failing in the network build" "$PF" "$T/fail"

# Fake daemons: programmerd dies at start, the others just sleep.
FB=$T/fakebin
mkdir -p "$FB"
for d in redirectord sncd; do
    printf '#!/bin/sh\necho $$ >> %s/fake.pids\nexec sleep 300\n' "$T" > "$FB/$d"
done
printf '#!/bin/sh\necho "fake programmerd: cannot start" >&2\nexit 3\n' > "$FB/programmerd"
chmod +x "$FB"/*
if "$TB" up "$SMALL" --prefix "$PF" --dir "$T/fail" --bin "$FB" > "$T/up.out" 2>&1; then
    fail "up with a dying programmerd succeeded"
fi
grep -q "fake programmerd: cannot start" "$T/up.out" ||
    { cat "$T/up.out" >&2; fail "no log tail of the failed daemon"; }
pass "up fails with the daemon's log tail"
# shellcheck disable=SC2046
nothing_left "after up with a dying daemon" "$PF" "$T/fail" $(cat "$T/fake.pids")
rm -f "$T/fake.pids"

# `up` killed while waiting for daemons (none ever opens its socket): the
# recorded state is enough for down.
printf '#!/bin/sh\necho $$ >> %s/fake.pids\nexec sleep 300\n' "$T" > "$FB/programmerd"
"$TB" up "$SMALL" --prefix "$PF" --dir "$T/fail" --bin "$FB" > "$T/up.out" 2>&1 &
UP=$!
i=0
while [ "$({ wc -l < "$T/fail/pids"; } 2> /dev/null || echo 0)" -lt 7 ]; do
    i=$((i + 1))
    [ $i -lt 100 ] || fail "up did not start the fake daemons"
    sleep 0.1
done
kill -9 "$UP"
wait "$UP" 2> /dev/null || true
UP=""
[ -n "$(namespaces "$PF")" ] || fail "nothing was built before the kill"
"$TB" down --dir "$T/fail" > "$T/down.out" 2>&1 || { cat "$T/down.out" >&2; fail "down after a killed up"; }
# shellcheck disable=SC2046
nothing_left "after down of a killed up" "$PF" "$T/fail" $(cat "$T/fake.pids")

# ---- with the real daemons ----
for d in redirectord programmerd sncd; do
    [ -x "$BIN/$d" ] || fail "$BIN/$d is not built"
done
DD=$T/daemons
"$TB" up "$SMALL" --prefix "$PD" --dir "$DD" --bin "$BIN" > "$T/up.out" 2>&1 ||
    { cat "$T/up.out" >&2; fail "up small with the real daemons"; }
for s in vn1.redirectord vn1.programmerd vn3.programmerd sncd; do
    [ -S "$DD/$s.sock" ] || fail "no socket $DD/$s.sock"
done
"$TB" status --dir "$DD" > "$T/status" 2>&1 || { cat "$T/status" >&2; fail "status: a daemon is dead"; }
[ "$(grep -c ' alive ' "$T/status")" -eq 7 ] || { cat "$T/status" >&2; fail "not 7 daemons alive"; }
cmdline() { tr '\0' ' ' < "/proc/$(awk -v n="$1" '$2 == n {print $1}' "$DD/pids")/cmdline"; }
cmdline vn1.redirectord | grep -qF -- "--listen http://198.19.0.11:7001/RPC2 --listen unix:$DD/vn1.redirectord.sock --address 198.18.1.1 --transport tr0" ||
    fail "redirectord command line: $(cmdline vn1.redirectord)"
cmdline vn2.programmerd | grep -qF -- "--vnode vn2 --netns-prefix $PD-vn2 --state-dir $DD/vn2.programmer" ||
    fail "programmerd command line: $(cmdline vn2.programmerd)"
cmdline ctl.sncd | grep -qF -- "--listen http://198.19.0.1:7000/RPC2 --driver rpc" ||
    fail "sncd command line: $(cmdline ctl.sncd)"
grep -qx "ops operator $(cat "$DD/ops.token")" "$DD/users" || fail "ops in users"
grep -qx "alice researcher $(cat "$DD/alice.token")" "$DD/users" || fail "alice in users"
pass "7 real daemons alive in their namespaces: sockets, command lines, users and tokens"
ip netns exec "$PD-ctl" xmlrpc http://198.19.0.12:7001/RPC2 system.listMethods |
    grep -q "link.create" || fail "redirectord of vn2 does not answer over mgmt"
ip netns exec "$PD-ctl" xmlrpc http://198.19.0.13:7002/RPC2 system.listMethods |
    grep -q "sliver.create" || fail "programmerd of vn3 does not answer over mgmt"
pass "redirectord and programmerd answer from P-ctl over the management network"
DPIDS=$(awk '{print $1}' "$DD/pids")
kill -9 "$(awk '$2 == "vn2.redirectord" {print $1}' "$DD/pids")"
sleep 0.1
if "$TB" status --dir "$DD" > "$T/status" 2>&1; then fail "status misses a dead daemon"; fi
grep -q "vn2.redirectord .* dead" "$T/status" || { cat "$T/status" >&2; fail "status does not say dead"; }
pass "status reports a crashed daemon"
"$TB" down --dir "$DD" > "$T/down.out" 2>&1 || { cat "$T/down.out" >&2; fail "down with daemons"; }
# shellcheck disable=SC2086
nothing_left "after down with the real daemons, one crashed" "$PD" "$DD" $DPIDS
echo "all testbed checks passed"
