#!/bin/sh
# A service chain on the testbed: client -> firewall -> NAT -> server across
# three VNodes (docs/examples/web-chain.xml), driven through snc only.
# Traffic behaves as configured (ping, iperf3, a capture at the server);
# a developer's module is loaded into the running firewall with snc load
# while pings flow; a module that crashes takes down only its own sliver
# while another slice on the same VNode keeps its traffic.
. "$(dirname "$0")/lib.sh"
P=ch$$
RUN=$T/run
TB="$BIN/testbed"
EXTRA_CLEANUP='"$TB" down --dir "$RUN" > /dev/null 2>&1 || true'
"$TB" up "$ROOT/testbed/topologies/small.xml" --prefix "$P" --dir "$RUN" \
    --bin "$BIN" > "$T/up.log" 2>&1 || { cat "$T/up.log"; fail "testbed up"; }
SNC="$BIN/snc --url unix:$RUN/sncd.sock --token-file $RUN/alice.token"
in_ns() { ns=$1; shift; ip netns exec "$P-$ns" "$@"; }
client() { in_ns vn2.web.client "$@"; }

$SNC create "$ROOT/docs/examples/web-chain.xml" > "$T/out" || { cat "$T/out"; fail "create web"; }
grep -q "^link:web.2 *vn3 *ready *local.*via=shm" "$T/out" || { cat "$T/out"; fail "fw-nat should be a shared-memory link on vn3"; }
# Two fast paths on one VNode: the link is shared memory between their
# processes (one file, both ends), not veths through the redirector.
for n in fw nat; do
    tr '\0' ' ' < "/proc/$(fastpath_pid "$P-vn3.web.$n")/cmdline" | grep -q "web.2=shm:[^ ]*,side=" ||
        fail "$n's fast path does not run web.2 over shared memory"
done
mg=$(grep -o 'name="vn3" address="[0-9.]*" mgmt="[0-9.]*"' "$ROOT/testbed/topologies/small.xml" | sed 's/.*mgmt="\(.*\)"/\1/')
in_ns vn3 xmlrpc "http://$mg:7001/RPC2" link.list > "$T/links" 2>&1 || { cat "$T/links"; fail "link.list on vn3"; }
grep -q "web.2" "$T/links" && fail "the redirector holds the shared-memory link web.2"
ls /dev/shm/"$P"-vn3.k*m.shm > /dev/null 2>&1 || fail "no link file for web.2 in /dev/shm"
sed 's/200Mbit/20Mbit/' "$ROOT/docs/examples/blue.xml" > "$T/blue.xml"
$SNC create "$T/blue.xml" > /dev/null || fail "create blue"
pass "chain client-fw-nat-server created over 3 VNodes (fw-nat over shared memory), and slice blue"

i=0
until client ping -c 1 -W 2 10.0.2.2 > /dev/null 2>&1; do
    i=$((i + 1)); [ $i -lt 5 ] || fail "no ping through the chain"
done
in_ns vn1.web.server tcpdump --immediate-mode -n -U -i web.3 -w "$T/srv.pcap" icmp > "$T/tcpdump.log" 2>&1 &
TCPD=$!
PIDS="$PIDS $TCPD"
sleep 1
client ping -c 3 -i 0.2 10.0.2.2 > /dev/null || fail "ping through the chain"
sleep 0.3
kill $TCPD; wait $TCPD 2>/dev/null || true
srcs=$(tshark -r "$T/srv.pcap" -Y "icmp.type == 8" -T fields -e ip.src 2> "$T/tshark.log" | sort -u)
[ "$srcs" = "10.0.2.1" ] || { cat "$T/tcpdump.log" "$T/tshark.log"; fail "the server saw echo requests from '$srcs', expected only the NAT's 10.0.2.1"; }
pass "ping through firewall and NAT; the server sees only 10.0.2.1 (capture)"

client iperf3 -c 10.0.2.2 -p 5202 -t 2 -J > "$T/ip" 2>&1 || { cat "$T/ip"; fail "iperf3 to 5202"; }
if client timeout 10 iperf3 -c 10.0.2.2 -p 5201 -t 1 --connect-timeout 1500 > "$T/ip2" 2>&1; then
    fail "TCP to 5201 passed the firewall"
fi
grep -q "unable to connect" "$T/ip2" || { cat "$T/ip2"; fail "5201: unexpected failure"; }
pass "firewall: TCP 5202 allowed ($(grep -m1 '"bits_per_second"' "$T/ip" | sed 's/[^0-9.]//g') bit/s), TCP 5201 dropped"
in_ns vn1.web.server ping -c 2 -W 1 10.0.2.1 > /dev/null 2>&1 || fail "the server cannot ping the NAT"
if in_ns vn1.web.server ping -c 2 -W 1 10.0.1.2 > /dev/null 2>&1; then
    fail "the inside host is reachable from outside the NAT"
fi
pass "NAT: the inside network is not reachable from outside"

# --- snc load: a developer's module into the running firewall ----------------
make -s -C "$ROOT/examples/module" VNODE_INCLUDE="$ROOT/programmer" OUT="$T/mod" \
    > "$T/make.log" 2>&1 || { cat "$T/make.log"; fail "examples/module does not build"; }
cc -shared -fPIC -I"$ROOT/programmer" -o "$T/mod/crash.so" \
    "$ROOT/tests/fixtures/crash_module.c" || fail "cc crash module"
fp=$(fastpath_pid "$P-vn3.web.fw")
client ping -c 400 -i 0.01 -W 1 10.0.2.2 > "$T/flood" 2>&1 &
PING=$!
sleep 1
# ttlmark takes none of the firewall's params: load it with none.
$SNC load web fw "$T/mod/ttlmark.so" "" > "$T/out" 2>&1 || { cat "$T/out"; fail "snc load ttlmark"; }
wait $PING || true
lost=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' "$T/flood")
[ "$lost" -ge 395 ] || { cat "$T/flood"; fail "only $lost of 400 pings during the swap"; }
[ "$(fastpath_pid "$P-vn3.web.fw")" = "$fp" ] || fail "the swap restarted the fast path"
client timeout 10 iperf3 -c 10.0.2.2 -p 5201 -t 1 > /dev/null 2>&1 || fail "5201 still blocked after ttlmark replaced the firewall"
pass "snc load: ttlmark swapped into the live firewall, $lost of 400 pings answered during it, same process, 5201 now open"

# --- a crashing module hurts only its own sliver ----------------------------
in_ns vn2.blue.client ping -c 300 -i 0.02 -W 1 10.0.1.2 > "$T/blue" 2>&1 &
PING=$!
sleep 0.5
$SNC load web fw "$T/mod/crash.so" > "$T/out" 2>&1 || { cat "$T/out"; fail "snc load crash"; }
client ping -c 5 -i 0.1 -W 1 10.0.2.2 > /dev/null 2>&1 || true
wait $PING || true
blue=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' "$T/blue")
[ "$blue" -ge 297 ] || { cat "$T/blue"; fail "blue lost pings while web's module crashed: $blue of 300"; }
grep -q "sliver web/fw: process \(killed by signal\|exited with status\)" "$RUN/logs/vn3.programmerd.log" ||
    fail "programmerd did not report web/fw's crash"
grep -q "sliver web/fw: restarting the fast path" "$RUN/logs/vn3.programmerd.log" ||
    fail "programmerd did not restart web/fw"
pass "crashing module: web's firewall restarted by programmerd, blue answered $blue of 300 meanwhile"

$SNC delete web > /dev/null || fail "delete web"
$SNC delete blue > /dev/null || fail "delete blue"
ip netns list | grep -q "^$P-vn[0-9]*\." && fail "sliver namespaces left"
ls /dev/shm/"$P"-* > /dev/null 2>&1 && fail "shared-memory link files left: $(ls /dev/shm/"$P"-*)"
pass "deleted; nothing left (namespaces, link files)"
