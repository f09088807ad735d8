#!/bin/sh
# A whole testbed (small topology) with real daemons; slices that carry
# traffic end to end, isolation between slices with the same addresses,
# failures (bad specs, a node refusing, kill -9 of a fast-path process, a
# redirectord, sncd) and recovery; nothing left behind.
. "$(dirname "$0")/lib.sh"
P=st$$
RUN=$T/run
TB="$BIN/testbed"
EXTRA_CLEANUP='"$TB" down --dir "$RUN" > /dev/null 2>&1 || true'
"$TB" up "$ROOT/testbed/topologies/small.xml" --prefix "$P" --dir "$RUN" \
    --bin "$BIN" > "$T/up.log" 2>&1 || { cat "$T/up.log"; fail "testbed up"; }
SNC="$BIN/snc --url unix:$RUN/sncd.sock --token-file $RUN/alice.token"
in_ns() { ns=$1; shift; ip netns exec "$P-$ns" "$@"; }
slivers() { ip netns list | awk '{print $1}' | grep "^$P-vn[0-9]*\." | sort; }
links_on() {  # links_on VNODE: link.list of its redirectord
    mg=$(grep -o "name=\"$1\" address=\"[0-9.]*\" mgmt=\"[0-9.]*\"" \
        "$ROOT/testbed/topologies/small.xml" | sed 's/.*mgmt="\(.*\)"/\1/')
    in_ns "$1" xmlrpc "http://$mg:7001/RPC2" link.list 2>&1
}
ping_ok() {  # ping_ok SLICE: the client reaches the server through the router
    in_ns "vn2.$1.client" ping -c 2 -W 3 -i 0.3 10.0.1.2 > "$T/ping" 2>&1
}
sed 's/name="blue"/name="green"/; s/200Mbit/10Mbit/' "$ROOT/docs/examples/blue.xml" > "$T/green.xml"

# --- create, traffic -------------------------------------------------------
$SNC create "$ROOT/docs/examples/blue.xml" > "$T/out" || { cat "$T/out"; fail "create blue"; }
$SNC create "$ROOT/docs/examples/red.xml" > "$T/out" || { cat "$T/out"; fail "create red"; }
$SNC list | grep -q "^blue .* ready" || fail "blue not ready"
[ "$(slivers | wc -l)" = 6 ] || { slivers; fail "expected 6 sliver namespaces"; }
pass "two slices with the same addresses created on 3 VNodes"
ping_ok blue || { cat "$T/ping"; fail "ping in blue"; }
ping_ok red || { cat "$T/ping"; fail "ping in red"; }
in_ns vn2.blue.client iperf3 -c 10.0.1.2 -t 2 -J > "$T/iperf" 2>&1 || { cat "$T/iperf"; fail "iperf3 in blue"; }
bps=$(grep -m1 '"bits_per_second"' "$T/iperf" | sed 's/[^0-9.]//g')
awk "BEGIN { exit !($bps > 10000000) }" || fail "iperf3 in blue: only $bps bit/s"
pass "ping in both slices, iperf3 TCP in blue: $bps bit/s"

# --- isolation: blue's packets never reach red ------------------------------
$SNC stats red > "$T/red0" || fail "stats red"
$SNC stats blue > "$T/blue0" || fail "stats blue"
in_ns vn1.red.server tcpdump --immediate-mode -i l1 -n -U -w "$T/red.pcap" > /dev/null 2>&1 &
TCPD=$!
in_ns vn1 tcpdump --immediate-mode -i tr0 -n -U -w "$T/tr0.pcap" 'ip proto 47' > /dev/null 2>&1 &
TCPD2=$!
PIDS="$PIDS $TCPD $TCPD2"
sleep 1
in_ns vn2.blue.client ping -c 30 -i 0.02 -W 1 10.0.1.2 > /dev/null 2>&1 || fail "blue ping burst"
in_ns vn2.red.client ping -c 3 -i 0.2 -W 1 10.0.1.2 > /dev/null 2>&1 || fail "red ping"
sleep 0.5
kill $TCPD $TCPD2; wait $TCPD $TCPD2 2>/dev/null || true
red_icmp=$(tshark -r "$T/red.pcap" -Y 'icmp.type == 8' 2>/dev/null | wc -l)
# Blue sent 30 with the same addresses; red's own 3 (one may be lost while
# its router resolves ARP) are all that may show.
[ "$red_icmp" -ge 1 ] && [ "$red_icmp" -le 3 ] || fail "red's server saw $red_icmp echo requests, expected its own 3"
keys=$(tshark -r "$T/tr0.pcap" -Y 'gre && eth.type == 0x0800' -T fields -e gre.key 2>/dev/null | sort -u | wc -l)
[ "$keys" -ge 2 ] || fail "expected GRE with two keys on vn1's transport, saw $keys"
proto=$(tshark -r "$T/tr0.pcap" -Y gre -T fields -e gre.proto 2>/dev/null | sort -u)
[ "$proto" = "0x6558" ] || fail "GRE protocol type is '$proto', expected 0x6558"
$SNC stats blue > "$T/blue1"
$SNC stats red > "$T/red1"
# columns: LINK END VNODE KEY TX-PKTS TX-BYTES RX-PKTS ...
# (the counters table is the first one; the isolation report follows a blank line)
grow() { awk -v l="$3" -v e="$4" '/^$/ { exit } $1 == l && $2 == e { print $5 + $7 }' "$1" > "$T/a"
         awk -v l="$3" -v e="$4" '/^$/ { exit } $1 == l && $2 == e { print $5 + $7 }' "$2" > "$T/b"
         echo $(( $(cat "$T/b") - $(cat "$T/a") )); }
bg=$(grow "$T/blue0" "$T/blue1" l1 a)
rg=$(grow "$T/red0" "$T/red1" l1 a)
[ "$bg" -ge 60 ] || fail "blue's l1 counters grew by $bg, expected >= 60"
[ "$rg" -ge 6 ] && [ "$rg" -lt 20 ] || fail "red's l1 counters grew by $rg, expected its own ~6"
pass "isolation: red saw only its own pings ($red_icmp in the capture), counters blue +$bg red +$rg, GRE keys $keys, proto $proto"

# --- bad requests change nothing on any node --------------------------------
before=$(slivers)
sed 's/bandwidth="200Mbit"/bandwidth="900Mbit"/' "$ROOT/docs/examples/blue.xml" |
    sed 's/name="blue"/name="big"/' > "$T/big.xml"
expect_fail "redirector port has" $SNC create "$T/big.xml"
sed 's|l2:10.0.2.1/24|l9:10.0.2.1/24|; s/name="blue"/name="broken"/; s/200Mbit/10Mbit/' \
    "$ROOT/docs/examples/blue.xml" > "$T/broken.xml"
expect_fail "the slice was rolled back" $SNC create "$T/broken.xml"
[ "$(slivers)" = "$before" ] || fail "a refused slice left namespaces: $(slivers)"
links_on vn1 | grep -q "'broken'" && fail "a refused slice left link slivers"
$SNC list | grep -qE "^(big|broken) " && fail "a refused slice is listed"
pass "unembeddable spec refused fast; a node's refusal rolled back; nothing left"

# --- kill -9 of a fast-path process during traffic -------------------------
fp=$(fastpath_pid "$P-vn3.blue.router")
[ -n "$fp" ] || fail "no fast-path process in blue's router"
in_ns vn2.blue.client ping -c 200 -i 0.05 -W 1 10.0.1.2 > "$T/fp-ping" 2>&1 &
PING=$!
sleep 1
kill -9 "$fp"
wait $PING 2>/dev/null || true
fp2=$(fastpath_pid "$P-vn3.blue.router")
[ -n "$fp2" ] && [ "$fp2" != "$fp" ] || fail "fast-path process not restarted"
ping_ok blue || fail "blue does not recover after its fast path was killed"
ping_ok red || fail "red broken by blue's fast-path crash"
pass "fast path killed: restarted as pid $fp2; $(grep -o '[0-9]* received' "$T/fp-ping") of 200 during the crash"

# --- kill -9 of a fast-path process while its slice is being created -------
# A watcher kills green's router process the moment it appears, while sncd
# is still creating the slice's links; the create must still succeed and
# the slice carry traffic (programmerd restarts the process).
(
    i=0
    while [ $i -lt 400 ]; do
        p=$(fastpath_pid "$P-vn3.green.router")
        if [ -n "$p" ] && kill -9 "$p" 2> /dev/null; then echo "$p" > "$T/killed"; exit 0; fi
        i=$((i + 1))
        sleep 0.005
    done
) &
WATCH=$!
$SNC create "$T/green.xml" > "$T/out" 2>&1 || { cat "$T/out"; fail "create green with its fast path killed"; }
wait $WATCH 2>/dev/null || true
[ -s "$T/killed" ] || fail "the watcher never saw green's fast path"
state=$($SNC list | awk '$1 == "green" { print $3 }')
[ "$state" = ready ] || fail "green is '$state' after its fast path was killed during create"
i=0
until ping_ok green; do
    i=$((i + 1)); [ $i -lt 10 ] || fail "green carries no traffic after its fast path was killed during create"
    sleep 0.5
done
$SNC delete green > /dev/null || fail "delete green"
pass "fast path killed during its slice's create (pid $(cat "$T/killed")): create succeeded, traffic flows"

# --- kill -9 of a redirectord during traffic; restart; sncd resyncs --------
rd=$(awk '$2 == "vn1.redirectord" { print $1 }' "$RUN/pids")
cmd=$(tr '\0' ' ' < "/proc/$rd/cmdline")
kill -9 "$rd"
sleep 0.5
ping_ok blue && fail "traffic flows with vn1's redirectord dead?"
"$TB" exec --dir "$RUN" vn1 -- $cmd >> "$RUN/logs/vn1.redirectord.log" 2>&1 &
i=0
until ping_ok blue; do
    i=$((i + 1)); [ $i -lt 15 ] || fail "blue not resynced 15 s after redirectord restart"
    sleep 1
done
ping_ok red || fail "red not resynced"
grep -q "lost link:l1:a; re-creating it" "$RUN/logs/sncd.log" || fail "sncd did not log the resync"
pass "redirectord killed and restarted: sncd re-created its link slivers (${i}s)"

# --- a redirectord dead during a create: rolled back, cleaned up later -----
rd=$(pgrep -f "redirectord.*--listen unix:$RUN/vn1.redirectord.sock" | head -1)
cmd=$(tr '\0' ' ' < "/proc/$rd/cmdline")
kill -9 "$rd"
before=$(slivers)
expect_fail "the slice was rolled back" $SNC create "$T/green.xml"
"$TB" exec --dir "$RUN" vn1 -- $cmd >> "$RUN/logs/vn1.redirectord.log" 2>&1 &
i=0
until ! $SNC list | grep -q "^green" && [ "$(slivers)" = "$before" ]; do
    i=$((i + 1)); [ $i -lt 15 ] || fail "green not cleaned up after redirectord came back: $(slivers)"
    sleep 1
done
until ping_ok blue; do
    i=$((i + 1)); [ $i -lt 30 ] || fail "blue not resynced after the second redirectord restart"
    sleep 1
done
pass "redirectord dead during a create: refused, rolled back once it came back (${i}s)"

# --- kill -9 of sncd: traffic goes on; during a create: rolled back --------
sn=$(awk '$2 == "ctl.sncd" { print $1 }' "$RUN/pids")
scmd=$(tr '\0' ' ' < "/proc/$sn/cmdline")
kill -9 "$sn"
ping_ok blue || fail "data plane depends on sncd"
rm -f "$RUN/sncd.sock"
"$TB" exec --dir "$RUN" ctl -- env SNCD_CRASH_AFTER_STEPS=4 $scmd >> "$T/sncd-crash.log" 2>&1 &
until [ -S "$RUN/sncd.sock" ]; do sleep 0.1; done
expect_fail "unavailable" $SNC create "$T/green.xml"
slivers | grep -q "\.green\." || fail "the crash came before any sliver existed"
rm -f "$RUN/sncd.sock"
"$TB" exec --dir "$RUN" ctl -- $scmd >> "$RUN/logs/sncd.log" 2>&1 &
until [ -S "$RUN/sncd.sock" ]; do sleep 0.1; done
slivers | grep -q "\.green\." && fail "restart left green's slivers on the nodes"
for v in vn1 vn2 vn3; do links_on $v | grep -q "'green'" && fail "green's links left on $v"; done
$SNC list | grep -q "^green" && fail "green recorded after rollback"
ping_ok blue || fail "blue broken after sncd restart"
pass "sncd killed: traffic went on; a create cut by kill -9 was rolled back on every node"

# --- delete: nothing left ---------------------------------------------------
$SNC delete blue > /dev/null || fail "delete blue"
$SNC delete red > /dev/null || fail "delete red"
[ -z "$(slivers)" ] || fail "sliver namespaces left: $(slivers)"
for v in vn1 vn2 vn3; do
    links_on $v | grep -q "'slice'" && fail "link slivers left on $v"
done
$SNC resources | grep -q "^vn1 *8/8 *4/4 *4GiB/4GiB *1Gbit/1Gbit" || fail "capacity not restored"
pass "deleted: no sliver namespaces, no link slivers, capacity restored"
# Stop the daemons first so the sanitizer builds write their exit reports
# (leaks) into the logs, then read every log for sanitizer findings.
for pid in $(awk '{ print $1 }' "$RUN/pids"); do kill "$pid" 2>/dev/null || true; done
for pid in $(awk '{ print $1 }' "$RUN/pids"); do
    i=0; while kill -0 "$pid" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
done
if grep -l -E "AddressSanitizer|LeakSanitizer|runtime error:" "$RUN"/logs/* "$T"/*.log 2> /dev/null; then
    grep -h -A20 -E "AddressSanitizer|LeakSanitizer|runtime error:" "$RUN"/logs/* "$T"/*.log | head -60
    fail "sanitizer findings in daemon logs"
fi
pass "no sanitizer findings in any daemon log"
"$TB" down --dir "$RUN" > /dev/null 2>&1 || fail "testbed down"
ip netns list | grep -q "^$P-" && fail "namespaces left after down"
pgrep -f "$RUN" > /dev/null && fail "processes left after down"
pass "testbed down: nothing left"
