#!/bin/sh
# Integration test of redirectord, driven only through its public
# interfaces (XML-RPC with Debian's xmlrpc CLI and curl, frames on veths):
#
#   h1 --l1-- vnA --tr0==c0-- core --c1==tr0-- vnB --l1-- h2   key 42
#   h3 --l2--/                                   \--l2-- h4   key 43
#
# h1..h4 stand in for slivers (the VNode side of each veth is named
# k%08x%c after key and end); h3/h4 use the SAME addresses as h1/h2. core
# routes with the kernel. Checks: RPC validation and idempotency, ping
# across the tunnel, GRE on the wire (key, protocol 0x6558), isolation of
# the two links, crafted bad frames dropped and counted, link.delete stops
# traffic, daemons exit cleanly (ASan). Every namespace and process made
# here is removed on exit, whatever happens.
# Usage (from the repo root): env BIN=build/asan/bin sh tests/integration/test_redirector.sh
set -u
: "${BIN:?BIN must name the directory holding redirectord}"
BIN=$(cd "$BIN" && pwd)
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
P=rd$$
NSS="h1 h2 h3 h4 vnA vnB core"
T=$(mktemp -d "${TMPDIR:-/tmp}/rd-it.XXXXXX")
PIDS=""
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}

cleanup() {
    rc=$?
    trap - EXIT INT TERM
    [ -n "${WATCHDOG:-}" ] && kill "$WATCHDOG" 2>/dev/null
    for p in $PIDS; do kill "$p" 2>/dev/null; done
    for p in $PIDS; do wait "$p" 2>/dev/null; done
    for n in $NSS; do ip netns del "$P-$n" 2>/dev/null; done
    rm -rf "$T"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

fail() {
    echo "FAIL: $*" >&2
    for f in "$T"/vnA.log "$T"/vnB.log; do
        [ -f "$f" ] && { echo "--- $f" >&2; tail -n 15 "$f" >&2; }
    done
    exit 1
}
pass() { echo "ok: $*"; }

if [ "$(id -u)" != 0 ] || ! ip netns add "$P-probe" 2>/dev/null; then
    echo "skip: needs root and network namespaces"
    exit 0
fi
ip netns del "$P-probe"
# Watchdog: whatever hangs, the run ends (and cleans up) within 120 s. It
# takes its sleep along when it is stopped.
(
    trap 'kill $s 2>/dev/null; exit 0' TERM
    sleep 120 &
    s=$!
    wait $s
    echo "FAIL: timed out" >&2
    kill -TERM $$
) < /dev/null > /dev/null 2>&1 &
WATCHDOG=$!

for tool in xmlrpc curl tcpdump cc; do
    command -v $tool > /dev/null || fail "$tool is not installed"
done

in_ns() { n=$1; shift; ip netns exec "$P-$n" "$@"; }
# wait_listening FILE: until tcpdump says it captures (it prints that to
# stderr once the socket is open).
wait_listening() {
    i=0
    until grep -q "listening on" "$1" 2>/dev/null; do
        i=$((i + 1))
        [ $i -lt 100 ] || fail "tcpdump did not start: $(cat "$1")"
        sleep 0.1
    done
}
# rpc NS METHOD ARGS...: the real xmlrpc CLI against that VNode's redirectord
rpc() { n=$1; shift; in_ns "$n" xmlrpc http://127.0.0.1:7001/RPC2 "$@"; }

# stat NS KEY FIELD: a counter of link.stats for the link with that key
stat() {
    rpc "$1" link.stats | awk -v key="$2" -v f="$3" '
        /Struct of/ { k = ""; v = "" }
        /Key: / { name = $0; sub(/^[^\047]*\047/, "", name); sub(/\047.*$/, "", name) }
        /Value: / { val = $0; sub(/^.*: /, "", val)
                    if (name == "key") k = val
                    if (name == f) v = val
                    if (k == key && v != "") { print int(v); exit } }'
}
# dpstat NS FIELD: a counter of dataplane.stats
dpstat() {
    rpc "$1" dataplane.stats | awk -v f="$2" '
        /Key: / { name = $0; sub(/^[^\047]*\047/, "", name); sub(/\047.*$/, "", name) }
        /Value: / { if (name == f) { val = $0; sub(/^.*: /, "", val); print int(val); exit } }'
}

# ---- the injector (built by make next to the unit tests) ----------------
GRE_INJECT=$BIN/../tests/redirector/gre_inject
[ -x "$GRE_INJECT" ] || fail "$GRE_INJECT is not built (make)"

# ---- topology ----------------------------------------------------------
echo "building namespaces $P-{$(echo $NSS | tr ' ' ',')}"
for n in $NSS; do
    ip netns add "$P-$n" || fail "ip netns add $P-$n"
    in_ns "$n" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
        net.ipv6.conf.default.disable_ipv6=1
    ip -n "$P-$n" link set lo up
done
ip link add tr0 netns "$P-vnA" type veth peer name c0 netns "$P-core" &&
ip link add tr0 netns "$P-vnB" type veth peer name c1 netns "$P-core" ||
    fail "cannot create transport veths"
# The transport carries 1500-byte-MTU sliver frames plus 42 bytes (inner
# Ethernet, outer IPv4, GRE): 1542 at least; 9000 as a jumbo transport.
ip -n "$P-vnA" link set tr0 mtu 9000 up
ip -n "$P-vnB" link set tr0 mtu 9000 up
ip -n "$P-core" link set c0 mtu 9000 up
ip -n "$P-core" link set c1 mtu 9000 up
ip -n "$P-vnA" addr add 198.18.128.1/30 dev tr0
ip -n "$P-vnA" addr add 198.18.0.1/32 dev lo
ip -n "$P-vnA" route add default via 198.18.128.2
ip -n "$P-vnB" addr add 198.18.128.5/30 dev tr0
ip -n "$P-vnB" addr add 198.18.0.2/32 dev lo
ip -n "$P-vnB" route add default via 198.18.128.6
ip -n "$P-core" addr add 198.18.128.2/30 dev c0
ip -n "$P-core" addr add 198.18.128.6/30 dev c1
ip -n "$P-core" route add 198.18.0.1/32 via 198.18.128.1
ip -n "$P-core" route add 198.18.0.2/32 via 198.18.128.5
in_ns core sysctl -qw net.ipv4.ip_forward=1
for n in vnA vnB; do
    in_ns $n iptables -A INPUT -p 47 -j DROP || fail "iptables in $n"
done
# sliver h VNODE PORT IFNAME: a veth from "sliver" h to the VNode
sliver() {
    ip link add "$4" netns "$P-$1" type veth peer name "$3" netns "$P-$2" ||
        fail "veth $1/$4 -- $2/$3"
    ip -n "$P-$1" link set "$4" up
    ip -n "$P-$2" link set "$3" up
    # No GSO super-frames from the sliver: the data path forwards frames.
    ip -n "$P-$1" link set "$4" gso_max_segs 1 2>/dev/null || true
}
sliver h1 vnA k0000002aa l1
sliver h2 vnB k0000002ab l1
sliver h3 vnA k0000002ba l2
sliver h4 vnB k0000002bb l2
ip -n "$P-h1" addr add 198.19.200.1/24 dev l1
ip -n "$P-h2" addr add 198.19.200.2/24 dev l1
ip -n "$P-h3" addr add 198.19.200.1/24 dev l2
ip -n "$P-h4" addr add 198.19.200.2/24 dev l2
in_ns core ping -c 1 -W 1 198.18.0.2 > /dev/null ||
    fail "transport routing: core cannot reach vnB"
pass "topology: 7 namespaces, transport routed by core"

# ---- daemons -------------------------------------------------------------
start() {  # start NS ADDRESS
    # ip netns exec execs the daemon: $! is its PID. Its output goes to the
    # log, never to our stdout (a reader of our output would wait for it).
    ip netns exec "$P-$1" "$BIN/redirectord" --listen "unix:$T/$1.sock" \
        --listen http://127.0.0.1:7001/RPC2 --address "$2" --transport tr0 \
        ${RD_BLOCK_MS:+--block-ms "$RD_BLOCK_MS"} \
        --log "$T/$1.log" --log-level debug >> "$T/$1.log" 2>&1 < /dev/null &
    PIDS="$PIDS $!"
    eval "PID_$1=$!"
}
start vnA 198.18.0.1
start vnB 198.18.0.2
i=0
until [ -S "$T/vnA.sock" ] && [ -S "$T/vnB.sock" ]; do
    i=$((i + 1))
    [ $i -lt 100 ] || fail "redirectord did not start"
    sleep 0.1
done
rpc vnA system.listMethods | grep -q "link.create" ||
    fail "system.listMethods does not list link.create"
pass "redirectord runs in vnA and vnB and answers system.listMethods"

# ---- validation --------------------------------------------------------
expect_fault() {  # expect_fault CODE TEXT NS ARGS...
    code=$1 text=$2 n=$3
    shift 3
    if rpc "$n" link.create "$@" > "$T/out" 2>&1; then
        cat "$T/out" >&2
        fail "link.create $* succeeded"
    fi
    grep -q "fault code $code" "$T/out" && grep -qF -- "$text" "$T/out" || {
        cat "$T/out" >&2
        fail "link.create $*: expected fault $code with '$text'"
    }
}
expect_fault 114 "0 is never a link key" vnA \
    s/s1 s/l1 i/0 s/a s/k0000002aa s/198.18.0.2 s/ d/1e8
expect_fault 114 'must be "a", "b" or "local"' vnA \
    s/s1 s/l1 i/42 s/c s/k0000002aa s/198.18.0.2 s/ d/1e8
expect_fault 109 "does not exist" vnA \
    s/s1 s/l1 i/42 s/a s/k00000099a s/198.18.0.2 s/ d/1e8
expect_fault 114 "not an IPv4 address" vnA \
    s/s1 s/l1 i/42 s/a s/k0000002aa s/vnB s/ d/1e8
expect_fault 114 "needs local_port" vnA \
    s/s1 s/l1 i/42 s/local s/k0000002aa s/ s/ d/1e8
expect_fault 114 "transport interface" vnA \
    s/s1 s/l1 i/42 s/a s/tr0 s/198.18.0.2 s/ d/1e8
pass "link.create refuses key 0, a bad end, a missing port, a bad peer,"\
" a local link without local_port and the transport as a port"

# ---- the links ---------------------------------------------------------
# Link 1 through the positional form (the xmlrpc CLI cannot send structs).
rpc vnA link.create s/s1 s/l1 i/42 s/a s/k0000002aa s/198.18.0.2 s/ d/1e8 \
    > "$T/out" 2>&1 && grep -q "'created'" "$T/out" ||
    { cat "$T/out"; fail "link.create key 42 end a"; }
rpc vnB link.create s/s1 s/l1 i/42 s/b s/k0000002ab s/198.18.0.1 s/ d/1e8 \
    > /dev/null || fail "link.create key 42 end b"
rpc vnA link.create s/s1 s/l1 i/42 s/a s/k0000002aa s/198.18.0.2 s/ d/1e8 \
    > "$T/out" 2>&1 && grep -q "'exists'" "$T/out" ||
    { cat "$T/out"; fail "repeated link.create is not reported as existing"; }
expect_fault 110 "already exists with other parameters" vnA \
    s/s1 s/l1 i/42 s/a s/k0000002aa s/198.18.0.9 s/ d/1e8
pass "link.create key 42 on both ends; the same call again says 'exists'"

# Link 2, other slice, through the contract's struct form over HTTP.
create_struct() {  # create_struct NS END PORT PEER
    body="<?xml version=\"1.0\"?><methodCall><methodName>link.create</methodName>
<params><param><value><struct>
<member><name>slice</name><value><string>s2</string></value></member>
<member><name>link</name><value><string>l2</string></value></member>
<member><name>key</name><value><int>43</int></value></member>
<member><name>end</name><value><string>$2</string></value></member>
<member><name>port</name><value><string>$3</string></value></member>
<member><name>peer</name><value><string>$4</string></value></member>
<member><name>local_port</name><value><string></string></value></member>
<member><name>rate_bps</name><value><double>50000000</double></value></member>
</struct></value></param></params></methodCall>"
    in_ns "$1" curl -s --unix-socket "$T/$1.sock" -H 'Content-Type: text/xml' \
        --data-binary "$body" http://localhost/RPC2
}
create_struct vnA a k0000002ba 198.18.0.2 | grep -q "created" ||
    fail "link.create struct key 43 end a"
create_struct vnB b k0000002bb 198.18.0.1 | grep -q "created" ||
    fail "link.create struct key 43 end b"
rpc vnA link.list | grep -c "Struct of" | grep -qx 2 ||
    fail "link.list on vnA does not show 2 links"
pass "link.create (struct over a unix socket) key 43 on both ends; link.list shows 2"

# ---- traffic -----------------------------------------------------------
ip netns exec "$P-core" tcpdump -Z root -i c1 -w "$T/tr.pcap" -U -c 200 \
    'ip proto 47' > "$T/tcpdump.out" 2>&1 < /dev/null &
TCPDUMP=$!
PIDS="$PIDS $TCPDUMP"
wait_listening "$T/tcpdump.out"
in_ns h1 ping -c 1 -W 3 198.19.200.2 > /dev/null 2>&1 || true  # ARP, next hop
in_ns h1 ping -c 3 -i 0.2 -W 2 198.19.200.2 > "$T/ping" 2>&1 ||
    { cat "$T/ping"; fail "h1 cannot ping h2 across the tunnel"; }
pass "h1 pings h2 across GRE key 42: $(grep -o '[0-9.]*/[0-9.]*/[0-9.]*' "$T/ping" | head -1) ms rtt min/avg/max"
sleep 0.5
kill -INT "$TCPDUMP" 2>/dev/null
wait "$TCPDUMP" 2>/dev/null
tcpdump -nn -r "$T/tr.pcap" -v 2>/dev/null > "$T/tr.txt"
grep -q "GREv0, Flags \[key present\], key=0x2a" "$T/tr.txt" ||
    { cat "$T/tcpdump.out"; head -5 "$T/tr.txt"; fail "no GRE with key 0x2a on the transport"; }
if command -v tshark > /dev/null; then
    tshark -r "$T/tr.pcap" -Y 'gre.key == 42 && gre.proto == 0x6558' \
        -T fields -e ip.src -e ip.dst 2> /dev/null | grep -q "198.18.0.1" ||
        fail "tshark finds no GRE key 42 proto 0x6558 from 198.18.0.1"
else
    grep -q "proto TEB (0x6558)" "$T/tr.txt" || fail "GRE protocol is not 0x6558"
fi
grep -q "198.18.0.1 > 198.18.0.2" "$T/tr.txt" ||
    fail "tunnel frames are not 198.18.0.1 > 198.18.0.2"
pass "the transport carries GRE key 42, protocol 0x6558, 198.18.0.1 > 198.18.0.2"

# Isolation: h3 -> h4 uses the same addresses over key 43; h2 sees none of it.
rx42=$(stat vnB 42 rx_packets)
ip netns exec "$P-h2" tcpdump -Z root -i l1 -w "$T/h2.pcap" -U icmp \
    > "$T/tcpdump2.out" 2>&1 < /dev/null &
TD2=$!
PIDS="$PIDS $TD2"
wait_listening "$T/tcpdump2.out"
in_ns h3 ping -c 1 -W 3 198.19.200.2 > /dev/null 2>&1 || true
in_ns h3 ping -c 5 -i 0.2 -W 2 198.19.200.2 > "$T/ping" 2>&1 ||
    { cat "$T/ping"; fail "h3 cannot ping h4 across the tunnel"; }
sleep 0.5
kill -INT "$TD2" 2>/dev/null
wait "$TD2" 2>/dev/null
n=$(tcpdump -nn -r "$T/h2.pcap" 2>/dev/null | wc -l)
[ "$n" -eq 0 ] || fail "h2 saw $n ICMP frames of the other slice"
[ "$(stat vnB 42 rx_packets)" = "$rx42" ] ||
    fail "link 42 counted frames while only link 43 carried traffic"
[ "$(stat vnB 43 rx_packets)" -ge 6 ] || fail "link 43 rx_packets on vnB"
[ "$(stat vnA 43 tx_packets)" -ge 6 ] || fail "link 43 tx_packets on vnA"
pass "h3 pings h4 (same addresses) over key 43; h2 sees none of it, link 42 counters unchanged"

# ---- optional throughput check (by hand: RD_IPERF_SECONDS=3) -------------
if [ -n "${RD_IPERF_SECONDS:-}" ] && command -v iperf3 > /dev/null; then
    ip netns exec "$P-h2" iperf3 -s -1 -B 198.19.200.2 > "$T/iperf-s.out" 2>&1 \
        < /dev/null &
    IPERF=$!
    PIDS="$PIDS $IPERF"
    sleep 0.5
    for mode in "" "-u -b 0 -l 1400"; do
        # shellcheck disable=SC2086
        in_ns h1 iperf3 -c 198.19.200.2 -t "$RD_IPERF_SECONDS" ${RD_IPERF_ARGS:-} $mode \
            > "$T/iperf.out" 2>&1 || { cat "$T/iperf.out"; fail "iperf3 $mode"; }
        echo "iperf3 h1 -> h2 ${mode:-TCP}:"
        grep -E "(sender|receiver)\$" "$T/iperf.out" | sed 's/^/    /'
        [ -z "$mode" ] && { ip netns exec "$P-h2" iperf3 -s -1 -B 198.19.200.2 \
            > "$T/iperf-s.out" 2>&1 < /dev/null & PIDS="$PIDS $!"; sleep 0.5; }
    done
    echo "    vnA link 42: $(stat vnA 42 tx_packets) tx, $(stat vnA 42 drops_queue) drops_queue;" \
         "vnB: $(stat vnB 42 rx_packets) rx, $(dpstat vnB drops_too_big) too big"
fi

# ---- garbage and wrong keys on the transport -----------------------------
MAC_B=$(ip -n "$P-vnB" link show tr0 | awk '/ether/ { print $2 }')
inject() { in_ns core "$GRE_INJECT" c1 "$MAC_B" "$@" > /dev/null ||
           fail "gre_inject $*"; }
rx42=$(stat vnB 42 rx_packets)
inject 198.18.0.1 198.18.0.2 99 20 gre        # unknown key
inject 198.18.0.77 198.18.0.2 42 7 gre        # key 42, not from its peer
inject 198.18.0.1 198.18.0.2 42 10 badcsum
inject 198.18.0.1 198.18.0.2 42 10 nokey
inject 198.18.0.1 198.18.0.2 42 1 truncated
inject 198.18.0.1 198.18.0.2 42 300 garbage
inject 198.18.0.1 198.18.0.2 42 300 random
sleep 0.3
kill -0 "$PID_vnB" 2>/dev/null || fail "redirectord in vnB died on garbage"
uk=$(dpstat vnB drops_unknown_key)
bad=$(stat vnB 42 drops_bad_key)
mal=$(dpstat vnB drops_malformed)
[ "$uk" -ge 20 ] || fail "drops_unknown_key is $uk, want >= 20"
[ "$bad" -eq 7 ] || fail "link 42 drops_bad_key is $bad, want 7"
[ "$mal" -ge 100 ] || fail "drops_malformed is $mal, want >= 100"
[ "$(stat vnB 42 rx_packets)" = "$rx42" ] ||
    fail "a crafted frame reached h2"
in_ns h1 ping -c 2 -i 0.2 -W 2 198.19.200.2 > /dev/null 2>&1 ||
    fail "h1 cannot ping h2 after the garbage"
pass "crafted frames dropped and counted (unknown key $uk, bad key $bad," \
     "malformed $mal); h2 got none; the tunnel still works"

# ---- delete --------------------------------------------------------------
rpc vnA link.delete i/42 s/a > "$T/out" 2>&1 && grep -q "TRUE" "$T/out" ||
    { cat "$T/out"; fail "link.delete 42 a"; }
tx42=$(stat vnB 42 rx_packets)
if in_ns h1 ping -c 2 -i 0.2 -W 1 198.19.200.2 > /dev/null 2>&1; then
    fail "h1 still reaches h2 after link.delete"
fi
[ "$(stat vnB 42 rx_packets)" = "$tx42" ] || fail "frames crossed a deleted link"
rpc vnA link.delete i/42 s/a > "$T/out" 2>&1 && grep -q "FALSE" "$T/out" ||
    { cat "$T/out"; fail "second link.delete is not idempotent"; }
in_ns h3 ping -c 2 -i 0.2 -W 2 198.19.200.2 > /dev/null 2>&1 ||
    fail "link 43 broke when link 42 was deleted"
pass "link.delete stops link 42 (link 43 unaffected); deleting again says deleted=false"

# ---- clean exit ----------------------------------------------------------
for n in vnA vnB; do
    eval "pid=\$PID_$n"
    kill "$pid"
    wait "$pid"
    st=$?
    [ "$st" -eq 0 ] || fail "redirectord in $n exited with $st (ASan report in $T/$n.log?)"
    PIDS=$(echo "$PIDS" | tr ' ' '\n' | grep -vx "$pid" | tr '\n' ' ')
done
pass "both redirectords exit 0 on SIGTERM (no sanitizer reports)"
echo "all redirector checks passed"
