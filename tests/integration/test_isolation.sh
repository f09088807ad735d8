#!/bin/sh
# Slice isolation in redirectord, measured: a testbed of 2 VNodes and a
# router (transport ports of 100 Mbit/s, small enough that the CPU is not
# the bottleneck on 2 shared cores under ASan), real daemons, three slices
# made through snc only (a container on vn1 sending to one on vn2, one link
# each, all sharing vn1's transport port):
#   A (slice weight 1, guarantee 30 Mbit/s), B (weight 5, 5 Mbit/s),
#   C (weight 2, 5 Mbit/s); every ceiling is the port's rate.
# 1. A sends UDP at 30 Mbit/s while B floods at 3x the port: A keeps >= 98 %
#    of its load, its ping RTT barely moves; B's drops are its own.
# 2. A stops: B alone gets >= 90 % of the port (work conservation).
# 3. A sends 60 Mbit/s, B floods; `snc set A l1 bandwidth=75Mbit` shows in
#    A's rate within a second.
# 4. A back to 5 Mbit/s; A, C, B all flood: beyond their guarantees they
#    share the port 1:2:5 (each share within 5 %).
# 5. The node's own admission: a link.create past the port's rate is
#    refused, naming the port and what is missing.
# 6. Slice D, two containers on vn1 joined by a local link of 10 Mbit/s,
#    offered 30: the redirector polices it to its rate. No sanitizer
#    findings.
# Rates on the port count frames as they leave it (inner frame + 42 bytes
# of GRE/IPv4/Ethernet): iperf3's 1400-byte datagrams are 1484 bytes there.
. "$(dirname "$0")/lib.sh"
P=iso$$
RUN=$T/run
TB="$BIN/testbed"
PORT_MBIT=100
MGMT1=198.19.0.11
EXTRA_CLEANUP='"$TB" down --dir "$RUN" > /dev/null 2>&1 || true'

. "$(dirname "$0")/isolation_scenario.sh"

"$TB" up "$T/topo.xml" --prefix "$P" --dir "$RUN" --bin "$BIN" > "$T/up.log" 2>&1 ||
    { cat "$T/up.log"; fail "testbed up"; }
tr '\0' ' ' < "/proc/$(awk '$2 == "vn1.redirectord" { print $1 }' "$RUN/pids")/cmdline" |
    grep -q -- "--port-rate 100000000bit" || fail "the testbed did not pass --port-rate to vn1's redirectord"
SNC="$BIN/snc --url unix:$RUN/sncd.sock --token-file $RUN/alice.token"
for s in A B C; do
    $SNC create "$T/$s.xml" > "$T/out" 2>&1 || { cat "$T/out"; fail "create $s"; }
done
pass "testbed with ${PORT_MBIT} Mbit/s ports; slices A (30 Mbit/s, weight 1), B (5, weight 5), C (5, weight 2) created through snc"

in_ns() { ns=$1; shift; ip netns exec "$P-$ns" "$@"; }
now() { date +%s%N; }
# bg OUT CMD...: runs CMD in the background, output to OUT, remembered for
# cleanup; sets BG to its pid.
bg() { out=$1; shift; "$@" > "$out" 2>&1 & BG=$!; PIDS="$PIDS $BG"; }
# udp SLICE RATE SECONDS [iperf3 args]: UDP from SLICE's vn1 container to
# its vn2 container.
udp() {
    s=$1 r=$2 t=$3; shift 3
    in_ns "vn1.$s.tx" iperf3 -c 10.0.1.2 -u -b "$r" -l 1400 -t "$t" "$@"
}
# snap FILE: "SLICE SENT_BYTES" of every link on vn1's redirectord from one
# link.stats call (one instant for all), then "now NS".
snap() {
    in_ns vn1 xmlrpc "http://$MGMT1:7001/RPC2" link.stats 2> /dev/null | awk '
        /String: .slice./ { getline; sub(/.*String: ./, ""); sub(/.$/, ""); s = $0 }
        /String: .sent_bytes./ { getline; sub(/.*Point: /, ""); printf "%s %.0f\n", s, $0 }' > "$1"
    echo "now $(now)" >> "$1"
}
val() { awk -v k="$1" '$1 == k { print $2 }' "$2"; }
# rate KEY SNAP0 SNAP1: Mbit/s of KEY's sent bytes between two snaps.
rate() {
    awk -v b0="$(val "$1" "$2")" -v b1="$(val "$1" "$3")" \
        -v t0="$(val now "$2")" -v t1="$(val now "$3")" \
        'BEGIN { printf "%.2f", (b1 - b0) * 8 / ((t1 - t0) / 1e9) / 1e6 }'
}
# stat SLICE KEY: KEY of the slice's link half on vn1, from `snc stats`.
stat() {
    $SNC --json stats "$1" | awk -v k="\"$2\":" '
        /"end":/ { e = $2 } $1 == k && e ~ /"a"/ { gsub(",", "", $2); printf "%.0f\n", $2 }'
}
median_rtt() {  # of the replies in a ping output
    grep -o 'time=[0-9.]*' "$1" | cut -d= -f2 | sort -n |
        awk '{ v[NR] = $1 } END { if (NR == 0) print "nan"; else print v[int((NR + 1) / 2)] }'
}
json_num() {  # json_num KEY FILE: the last value of KEY in iperf3 -J output
    grep "\"$1\":" "$2" | tail -1 | sed 's/.*: *//; s/,$//'
}
ok() { awk "BEGIN { exit !($1) }"; }

# --- 1. A within its guarantee while B floods -------------------------------
bg "$T/a0.json" udp A 30M 2.5 -J
APID=$BG
sleep 0.3
in_ns vn1.A.tx ping -c 40 -i 0.05 10.0.1.2 > "$T/ping0" 2>&1 || fail "ping in A without a flood"
wait $APID || { cat "$T/a0.json"; fail "iperf3 in A without a flood"; }
own0=$(stat B drops_own)
bg "$T/b1.json" udp B 300M 8 -J
BPID=$BG
sleep 0.5
bg "$T/a1.json" udp A 30M 4 -J
APID=$BG
sleep 0.5
in_ns vn1.A.tx ping -c 40 -i 0.05 10.0.1.2 > "$T/ping1" 2>&1 || fail "ping in A during B's flood"
wait $APID || { cat "$T/a1.json"; fail "iperf3 in A during B's flood"; }
lost=$(json_num lost_percent "$T/a1.json")
[ -n "$lost" ] || { cat "$T/a1.json"; fail "no loss figure in A's iperf3 report"; }
kept=$(awk -v l="$lost" 'BEGIN { printf "%.2f", 100 - l }')
rtt0=$(median_rtt "$T/ping0")
rtt1=$(median_rtt "$T/ping1")
added=$(awk -v a="$rtt0" -v b="$rtt1" 'BEGIN { printf "%.2f", b - a }')
own=$(( $(stat B drops_own) - own0 ))
others=$(stat B drops_others)
a_p50=$(stat A delay_p50_ns)
a_p99=$(stat A delay_p99_ns)
a_drops=$(( $(stat A drops_own) + $(stat A drops_others) ))
ok "$kept >= 98" || fail "A kept only $kept % of its 30 Mbit/s during B's flood"
[ "$a_drops" -eq 0 ] || fail "A's link dropped $a_drops frames within its guarantee"
# Without isolation A's frames would wait behind B's full queue at vn1
# (165 frames: ~20 ms at 100 Mbit/s); the bound leaves room for the CPU
# that the flood's own sender takes on 2 shared cores. The RTT's growth
# bounds the added one-way delay (the return path carries no flood).
ok "$added <= 8" || fail "A's median RTT grew from $rtt0 to $rtt1 ms during B's flood"
ok "$a_p99 <= 8000000" || fail "A's queueing delay at vn1: p99 $a_p99 ns"
[ "$own" -gt 1000 ] && [ "$others" -eq 0 ] ||
    fail "B's drops: $own own, $others others; expected all its own"
pass "A kept $kept % of 30 Mbit/s while B flooded 300 Mbit/s; A's median RTT $rtt0 -> $rtt1 ms (+$added ms), its queueing delay at vn1 p50 $((a_p50 / 1000)) us p99 $((a_p99 / 1000)) us; B's $own drops all drops_own"

# --- 2. work conservation: B alone ------------------------------------------
sleep 0.4
snap "$T/s0"
sleep 1.5
snap "$T/s1"
wait $BPID || { cat "$T/b1.json"; fail "iperf3 in B"; }
b_alone=$(rate B "$T/s0" "$T/s1")
wc=$(awk -v b="$b_alone" -v p="$PORT_MBIT" 'BEGIN { printf "%.1f", b / p * 100 }')
ok "$wc >= 90" || fail "B alone got $b_alone Mbit/s, $wc % of the port"
pass "work conservation: A stopped, B alone got $b_alone Mbit/s = $wc % of the port"

# --- 3. live change of A's guarantee -----------------------------------------
bg "$T/b3.txt" udp B 300M 6.5
BPID=$BG
bg "$T/a3.txt" udp A 60M 6
APID=$BG
sampler() {  # snaps every ~0.1 s for 6 s: "NS A-BYTES"
    end=$(( $(now) + 6000000000 ))
    while [ "$(now)" -lt "$end" ]; do
        snap "$T/smp"
        echo "$(val now "$T/smp") $(val A "$T/smp")"
        sleep 0.1
    done
}
bg "$T/samples" sampler
SPID=$BG
sleep 3
t_set=$(now) # the change counts from when it was asked for
$SNC set A l1 bandwidth=75Mbit > "$T/out" 2>&1 || { cat "$T/out"; fail "snc set A l1 bandwidth=75Mbit"; }
t_done=$(now)
wait $SPID
wait $APID || { cat "$T/a3.txt"; fail "iperf3 in A (live change)"; }
wait $BPID || true
# Rates between samples, with their end relative to the change (ms).
awk -v ts="$t_set" 'NF == 2 && $2 != "" { if (pt) printf "%.0f %.2f\n", ($1 - ts) / 1e6, ($2 - pb) * 8 / (($1 - pt) / 1e9) / 1e6; pt = $1; pb = $2 }' \
    "$T/samples" > "$T/rates"
before=$(awk '$1 <= -300 && $1 >= -2300 { s += $2; n++ } END { printf "%.1f", n ? s / n : 0 }' "$T/rates")
after=$(awk '$1 >= 600 && $1 <= 2600 { s += $2; n++ } END { printf "%.1f", n ? s / n : 0 }' "$T/rates")
# A's offer on the wire: 60 Mbit/s of 1400-byte payloads in 1484-byte frames.
offer=$(awk 'BEGIN { printf "%.1f", 60 * 1484 / 1400 }')
half=$(awk -v b="$before" -v o="$offer" 'BEGIN { print (b + o) / 2 }')
react=$(awk -v h="$half" '$1 > 0 && $2 >= h { print $1; exit }' "$T/rates")
ok "$before < 0.8 * $offer" || fail "A got $before Mbit/s before the change: not limited by its guarantee?"
ok "$after >= 0.95 * $offer" || { cat "$T/rates"; fail "A got $after of $offer Mbit/s after raising its guarantee"; }
[ -n "$react" ] && [ "$react" -le 1000 ] ||
    { cat "$T/rates"; fail "A's rate did not follow the change within a second (${react:-never} ms)"; }
pass "live change: A's guarantee 30 -> 75 Mbit/s under B's flood: $before -> $after Mbit/s (offer $offer); snc set took $(( (t_done - t_set) / 1000000 )) ms, A's rate was halfway there in a sample ending $react ms after it began (samples ~0.13 s)"

# --- 4. weights 1:2:5 --------------------------------------------------------
$SNC set A l1 bandwidth=5Mbit > "$T/out" 2>&1 || { cat "$T/out"; fail "snc set A l1 bandwidth=5Mbit"; }
W=""
for s in A B C; do bg "$T/w$s.txt" udp $s 150M 4.5; W="$W $BG"; done
sleep 1.5
snap "$T/s0"
sleep 2
snap "$T/s1"
for p in $W; do wait "$p" || fail "iperf3 flood in the weights test"; done
ra=$(rate A "$T/s0" "$T/s1")
rb=$(rate B "$T/s0" "$T/s1")
rc=$(rate C "$T/s0" "$T/s1")
# Beyond the guarantees (5 each), shares of the excess against 1:2:5.
shares=$(awk -v a="$ra" -v c="$rc" -v b="$rb" 'BEGIN {
    ea = a - 5; ec = c - 5; eb = b - 5; t = ea + ec + eb
    printf "%.2f %.2f %.2f", (ea / t) / (1 / 8) - 1, (ec / t) / (2 / 8) - 1, (eb / t) / (5 / 8) - 1 }')
set -- $shares
for e in "$@"; do
    ok "$e <= 0.05 && $e >= -0.05" || fail "weights 1:2:5: A $ra, C $rc, B $rb Mbit/s; relative errors of the shares $shares"
done
pass "weights 1:2:5 (guarantees 5 Mbit/s each): A $ra, C $rc, B $rb Mbit/s; share errors $1 $2 $3 (relative)"

# --- 5. the node's own admission ----------------------------------------------
# sncd admits against the topology first; the redirector checks again. Its
# link.create in the positional form of Debian's xmlrpc CLI (all 12 fields).
in_ns vn1 ip link add xq0 type veth peer name xq1 || fail "veth for the admission test"
EXTRA_CLEANUP="ip netns exec $P-vn1 ip link del xq0 2> /dev/null || true; $EXTRA_CLEANUP"
create_x() {  # create_x RATE_BPS
    in_ns vn1 xmlrpc "http://$MGMT1:7001/RPC2" link.create s/X s/l9 i/999999 s/a \
        s/xq0 s/198.18.2.1 s/ "d/$1" d/0 i/0 i/1 i/1
}
create_x 9.6e7 > "$T/refused" 2>&1 && fail "link.create past the port's rate was accepted"
grep -q "port tr0 carries 100Mbit and its guarantees would sum to 111Mbit: 11Mbit missing; give rate_bps at most 85Mbit" "$T/refused" &&
    grep -q "108" "$T/refused" || { cat "$T/refused"; fail "no clear no-capacity fault"; }
create_x 1e7 > "$T/out" 2>&1 || { cat "$T/out"; fail "link.create within the port's rate"; }
in_ns vn1 xmlrpc "http://$MGMT1:7001/RPC2" link.delete i/999999 s/a > /dev/null 2>&1 || fail "link.delete"
pass "node admission (guarantees 5+5+5 of 100 Mbit/s booked): 96 Mbit/s more refused with \"$(grep -o 'port tr0 carries[^;]*' "$T/refused" | head -1)\", 10 Mbit/s accepted"

# --- 6. a local link is limited like a tunnelled one ------------------------
# D's two containers share vn1: their link never reaches the transport, and
# vn1's redirector polices it to its 10 Mbit/s (counted as on the wire).
cat > "$T/D.xml" <<XML
<?xml version="1.0"?>
<slice name="D" xmlns="urn:vnode:slice:1">
  <node id="tx" type="container" vnode="vn1"><command>sleep infinity</command>
    <iface link="l1" address="10.0.1.1/24"/></node>
  <node id="rx" type="container" vnode="vn1"><command>iperf3 -s</command>
    <iface link="l1" address="10.0.1.2/24"/></node>
  <link id="l1" a="tx" b="rx" bandwidth="10Mbit"/>
</slice>
XML
$SNC create "$T/D.xml" > "$T/out" 2>&1 || { cat "$T/out"; fail "create D (a local link)"; }
udp D 30M 3 -J > "$T/d.json" || { cat "$T/d.json"; fail "iperf3 over D's local link"; }
got=$(awk '/"sum":/ { f = 1 } f && /"packets":/ { gsub(/[^0-9]/, ""); pk = $0 }
    f && /"lost_packets":/ { gsub(/[^0-9]/, ""); l = $0 }
    END { printf "%.2f", (pk - l) * 1400 * 8 / 3 / 1e6 }' "$T/d.json")
policed=$(in_ns vn1 xmlrpc "http://$MGMT1:7001/RPC2" link.stats 2> /dev/null | awk '
    /String: .slice./ { getline; sub(/.*String: ./, ""); sub(/.$/, ""); s = $0 }
    s == "D" && /String: .drops_policed./ { getline; sub(/.*Point: /, ""); printf "%.0f", $0 }')
# 10 Mbit/s of 1484-byte frames is 9.43 Mbit/s of 1400-byte payloads, plus
# the bucket's 64 KiB at the start (0.17 Mbit/s over 3 s).
ok "$got >= 8.5 && $got <= 10.0" || fail "D's local link of 10 Mbit/s carried $got Mbit/s of a 30 Mbit/s offer"
ok "${policed:-0} > 0" || fail "D's local link: no drops_policed in link.stats"
pass "local link of 10 Mbit/s (both containers on vn1) offered 30 Mbit/s: $got Mbit/s of payload delivered, $policed frames policed"

# --- the end -----------------------------------------------------------------
for s in A B C D; do $SNC delete $s > /dev/null || fail "delete $s"; done
for pid in $(awk '{ print $1 }' "$RUN/pids"); do kill "$pid" 2>/dev/null || true; done
for pid in $(awk '{ print $1 }' "$RUN/pids"); do
    i=0; while kill -0 "$pid" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
done
if grep -l -E "AddressSanitizer|LeakSanitizer|runtime error:" "$RUN"/logs/* 2> /dev/null; then
    grep -h -A20 -E "AddressSanitizer|LeakSanitizer|runtime error:" "$RUN"/logs/* | head -60
    fail "sanitizer findings in daemon logs"
fi
pass "slices deleted; no sanitizer findings in any daemon log"
"$TB" down --dir "$RUN" > /dev/null 2>&1 || fail "testbed down"
ip netns list | grep -q "^$P-" && fail "namespaces left after down"
pass "testbed down: nothing left"
