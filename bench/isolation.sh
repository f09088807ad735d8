#!/bin/sh
# make bench-isolation: slice isolation of our redirector scheduler against
# Linux HTB, and the scheduler's cost growth with the number of slices.
#  1. Ours: 2 VNodes + router (testbed tool), 100 Mbit/s redirector ports,
#     slices through snc, iperf3 UDP 1400-byte datagrams.
#     S1: A (guarantee 30, weight 1) offers 30 Mbit/s while B (guarantee 5,
#         weight 5) floods 300: A's kept % (iperf3 received/offered), B's rate.
#     S2: A, C, B (guarantees 5 each, weights 1:2:5) flood 150 each: each
#         slice's rate on vn1's port and its relative error against the ideal
#         share (guarantee + spare split by weight; spare = measured total
#         - sum of guarantees, so that frame-size accounting cancels out).
#     CPU: utime+stime of vn1's redirectord over the S2 window / packets sent.
#  2. HTB: src -- R -- dst namespaces, HTB on R's egress veth (root 100mbit,
#     class rate = guarantee, ceil 100mbit, quantum ~ weight, burst/cburst
#     64k, u32 on source address); the same loads; rates from tc class byte
#     deltas; CPU: /proc/stat sys+softirq deltas (all CPUs, includes the
#     iperf3 senders' syscalls) / packets R forwarded.
#  3. build/bench/vsched_cost: cost_ratio_1000 in the redirector's configuration
#     (its service quantum; the exact mode is printed beside it).
set -eu
B=${1:-build}
BIN=$(cd "$B/bin" && pwd)
P=bi$$
RUN=${TMPDIR:-/tmp}/vnode-bench-$P
T=$(mktemp -d "${TMPDIR:-/tmp}/vnode-bench-iso.XXXXXX")
TB="$BIN/testbed"
PORT_MBIT=100
MGMT1=198.19.0.11
PIDS=""
cleanup() {
    for p in $PIDS; do kill "$p" 2> /dev/null || true; done
    for p in $PIDS; do wait "$p" 2> /dev/null || true; done
    "$TB" down --dir "$RUN" > /dev/null 2>&1 || true
    for n in src r dst; do ip netns del "$P-$n" 2> /dev/null || true; done
    rm -rf "$T" "$RUN"
}
trap cleanup EXIT INT TERM
bg() { out=$1; shift; "$@" > "$out" 2>&1 & BG=$!; PIDS="$PIDS $BG"; }
now() { date +%s%N; }
json_num() { grep "\"$1\":" "$2" | tail -1 | sed 's/.*: *//; s/,$//'; }
val() { awk -v k="$1" '$1 == k { print $2 }' "$2"; }
rate() {  # rate KEY SNAP0 SNAP1: Mbit/s of KEY's byte counter
    awk -v b0="$(val "$1" "$2")" -v b1="$(val "$1" "$3")" \
        -v t0="$(val now "$2")" -v t1="$(val now "$3")" \
        'BEGIN { printf "%.2f", (b1 - b0) * 8 / ((t1 - t0) / 1e9) / 1e6 }'
}
delta() { awk -v a="$(val "$1" "$2")" -v b="$(val "$1" "$3")" 'BEGIN { printf "%.0f", b - a }'; }
kept_of() {  # kept_of IPERF_JSON: 100 - lost %
    l=$(json_num lost_percent "$1")
    [ -n "$l" ] && awk -v l="$l" 'BEGIN { printf "%.2f", 100 - l }' || echo NA
}
# shares RA RC RB: ideal shares and relative errors (%) for weights 1:2:5,
# guarantees 5 each; prints "ideal_a ideal_c ideal_b err_a err_c err_b maxerr"
shares() {
    awk -v a="$1" -v c="$2" -v b="$3" 'BEGIN {
        t = a + b + c; s = t - 15
        ia = 5 + s / 8; ic = 5 + s * 2 / 8; ib = 5 + s * 5 / 8
        ea = (a - ia) / ia * 100; ec = (c - ic) / ic * 100; eb = (b - ib) / ib * 100
        m = ea < 0 ? -ea : ea; if ((ec < 0 ? -ec : ec) > m) m = ec < 0 ? -ec : ec
        if ((eb < 0 ? -eb : eb) > m) m = eb < 0 ? -eb : eb
        printf "%.2f %.2f %.2f %+.2f %+.2f %+.2f %.2f\n", ia, ic, ib, ea, ec, eb, m }'
}
cpu_sys_softirq() { awk '$1 == "cpu" { print $4 + $7 }' /proc/stat; }  # jiffies
hz=$(getconf CLK_TCK)

# ============================ 1. ours =====================================
. tests/integration/isolation_scenario.sh
"$TB" up "$T/topo.xml" --prefix "$P" --dir "$RUN" --bin "$BIN" > "$T/up.log" 2>&1 ||
    { cat "$T/up.log"; exit 1; }
SNC="$BIN/snc --url unix:$RUN/sncd.sock --token-file $RUN/alice.token"
for s in A B C; do $SNC create "$T/$s.xml" > "$T/out" 2>&1 || { cat "$T/out"; exit 1; }; done
RPID=$(awk '$2 == "vn1.redirectord" { print $1 }' "$RUN/pids")
in_ns() { ns=$1; shift; ip netns exec "$P-$ns" "$@"; }
udp() { s=$1 r=$2 t=$3; shift 3; in_ns "vn1.$s.tx" iperf3 -c 10.0.1.2 -u -b "$r" -l 1400 -t "$t" "$@"; }
snap() {  # "SLICE bytes", "SLICE.p packets", "cpu TICKS", "now NS"
    in_ns vn1 xmlrpc "http://$MGMT1:7001/RPC2" link.stats 2> /dev/null | awk '
        /String: .slice./ { getline; sub(/.*String: ./, ""); sub(/.$/, ""); s = $0 }
        /String: .sent_bytes./ { getline; sub(/.*Point: /, ""); printf "%s %.0f\n", s, $0 }
        /String: .sent_packets./ { getline; sub(/.*Point: /, ""); printf "%s.p %.0f\n", s, $0 }' > "$1"
    awk '{ print "cpu", $14 + $15 }' "/proc/$RPID/stat" >> "$1"
    echo "now $(now)" >> "$1"
}
sleep 1
# S1: A offers 30 while B floods 300.
bg "$T/ob.json" udp B 300M 6 -J; BP=$BG
sleep 0.5
bg "$T/oa.json" udp A 30M 4 -J; AP=$BG
sleep 1.5
snap "$T/o0"; sleep 2; snap "$T/o1"
wait $AP || true; wait $BP || true
o_kept=$(kept_of "$T/oa.json")
o_a1=$(rate A "$T/o0" "$T/o1"); o_b1=$(rate B "$T/o0" "$T/o1")
# S2: guarantees 5 each, weights 1:2:5, all flood.
$SNC set A l1 bandwidth=5Mbit > "$T/out" 2>&1 || { cat "$T/out"; exit 1; }
sleep 1
W=""
for s in A B C; do bg "$T/ow$s" udp $s 150M 5; W="$W $BG"; done
sleep 1.5
snap "$T/w0"; sleep 2.5; snap "$T/w1"
for p in $W; do wait "$p" || true; done
o_ra=$(rate A "$T/w0" "$T/w1"); o_rb=$(rate B "$T/w0" "$T/w1"); o_rc=$(rate C "$T/w0" "$T/w1")
set -- $(shares "$o_ra" "$o_rc" "$o_rb")
o_ia=$1 o_ic=$2 o_ib=$3 o_ea=$4 o_ec=$5 o_eb=$6 o_err=$7
o_pk=$(( $(delta A.p "$T/w0" "$T/w1") + $(delta B.p "$T/w0" "$T/w1") + $(delta C.p "$T/w0" "$T/w1") ))
o_ticks=$(delta cpu "$T/w0" "$T/w1")
o_ns=$(awk -v t="$o_ticks" -v p="$o_pk" -v hz="$hz" 'BEGIN { if (p > 0) printf "%.0f", t / hz * 1e9 / p; else print "NA" }')
"$TB" down --dir "$RUN" > /dev/null 2>&1 || true

# ============================ 2. HTB ======================================
for n in src r dst; do ip netns add "$P-$n"; ip -n "$P-$n" link set lo up; done
ip -n "$P-src" link add s0 type veth peer name r0 netns "$P-r"
ip -n "$P-r" link add r1 type veth peer name d0 netns "$P-dst"
for e in src:s0 r:r0 r:r1 dst:d0; do
    ip -n "$P-${e%%:*}" link set "${e#*:}" up
    ip netns exec "$P-${e%%:*}" ethtool -K "${e#*:}" tx off tso off gso off gro off > /dev/null 2>&1 || true
done
ip -n "$P-src" addr add 10.1.0.11/24 dev s0   # slice A
ip -n "$P-src" addr add 10.1.0.12/24 dev s0   # slice B
ip -n "$P-src" addr add 10.1.0.13/24 dev s0   # slice C
ip -n "$P-r" addr add 10.1.0.1/24 dev r0
ip -n "$P-r" addr add 10.2.0.1/24 dev r1
ip -n "$P-dst" addr add 10.2.0.2/24 dev d0
ip -n "$P-src" route add default via 10.1.0.1
ip -n "$P-dst" route add default via 10.2.0.1
ip netns exec "$P-r" sysctl -qw net.ipv4.ip_forward=1
H="ip netns exec $P-r tc"
$H qdisc add dev r1 root handle 1: htb default 99
$H class add dev r1 parent 1: classid 1:1 htb rate 100mbit ceil 100mbit burst 64k cburst 64k
htb_class() {  # htb_class ID RATE WEIGHT
    $H class add dev r1 parent 1:1 classid "1:$1" htb rate "$2" ceil 100mbit \
        quantum $(( 3000 * $3 )) burst 64k cburst 64k
}
htb_class 10 30mbit 1   # A
htb_class 20 5mbit 5    # B
htb_class 30 5mbit 2    # C
$H class add dev r1 parent 1:1 classid 1:99 htb rate 1mbit ceil 100mbit
$H filter add dev r1 parent 1: protocol ip prio 1 u32 match ip src 10.1.0.11/32 flowid 1:10
$H filter add dev r1 parent 1: protocol ip prio 1 u32 match ip src 10.1.0.12/32 flowid 1:20
$H filter add dev r1 parent 1: protocol ip prio 1 u32 match ip src 10.1.0.13/32 flowid 1:30
for port in 5201 5202 5203; do bg /dev/null ip netns exec "$P-dst" iperf3 -s -p $port; done
sleep 0.5
hudp() {  # hudp SLICE RATE SECONDS [args]
    case $1 in A) a=10.1.0.11 p=5201 ;; B) a=10.1.0.12 p=5202 ;; *) a=10.1.0.13 p=5203 ;; esac
    r=$2 t=$3; shift 3
    ip netns exec "$P-src" iperf3 -c 10.2.0.2 -p $p -B $a -u -b "$r" -l 1400 -t "$t" "$@"
}
hsnap() {  # "A bytes" ... from tc classes, "fwd packets" of r1, "cpu", "now"
    $H -s class show dev r1 | awk '
        /^class htb/ { c = $3 }
        /Sent [0-9]+ bytes/ { n = (c == "1:10") ? "A" : (c == "1:20") ? "B" : (c == "1:30") ? "C" : ""
                              if (n != "") print n, $2 }' > "$1"
    echo "fwd $(ip netns exec "$P-r" cat /sys/class/net/r1/statistics/tx_packets)" >> "$1"
    echo "cpu $(cpu_sys_softirq)" >> "$1"
    echo "now $(now)" >> "$1"
}
bg "$T/hb.json" hudp B 300M 6 -J; BP=$BG
sleep 0.5
bg "$T/ha.json" hudp A 30M 4 -J; AP=$BG
sleep 1.5
hsnap "$T/h0"; sleep 2; hsnap "$T/h1"
wait $AP || true; wait $BP || true
h_kept=$(kept_of "$T/ha.json")
h_a1=$(rate A "$T/h0" "$T/h1"); h_b1=$(rate B "$T/h0" "$T/h1")
$H class change dev r1 parent 1:1 classid 1:10 htb rate 5mbit ceil 100mbit quantum 3000 burst 64k cburst 64k
sleep 1
W=""
for s in A B C; do bg "$T/hw$s" hudp $s 150M 5; W="$W $BG"; done
sleep 1.5
hsnap "$T/x0"; sleep 2.5; hsnap "$T/x1"
for p in $W; do wait "$p" || true; done
h_ra=$(rate A "$T/x0" "$T/x1"); h_rb=$(rate B "$T/x0" "$T/x1"); h_rc=$(rate C "$T/x0" "$T/x1")
set -- $(shares "$h_ra" "$h_rc" "$h_rb")
h_ia=$1 h_ic=$2 h_ib=$3 h_ea=$4 h_ec=$5 h_eb=$6 h_err=$7
h_pk=$(delta fwd "$T/x0" "$T/x1")
h_ticks=$(delta cpu "$T/x0" "$T/x1")
h_ns=$(awk -v t="$h_ticks" -v p="$h_pk" -v hz="$hz" 'BEGIN { if (p > 0) printf "%.0f", t / hz * 1e9 / p; else print "NA" }')

# ============================ 3. cost growth ==============================
"$B/bench/vsched_cost" > "$T/vc" 2>&1 || true
# The redirector's configuration; the line also has exact_cost_ratio_1000.
cost=$(grep '^RESULT vsched_cost' "$T/vc" | sed 's/.* cost_ratio_1000=\([0-9.]*\).*/\1/')

# ============================ report ======================================
echo "slice isolation, ${PORT_MBIT} Mbit/s port, iperf3 UDP 1400 B (ours: rates of 1484-byte frames on vn1's port; HTB: tc class bytes, 1442-byte frames)"
printf '%-44s %14s %14s\n' "" "ours" "HTB"
printf '%-44s %14s %14s\n' "S1 A kept % (30 offered, guarantee 30)" "$o_kept" "$h_kept"
printf '%-44s %14s %14s\n' "S1 A achieved / guaranteed Mbit/s" "$o_a1 / 30" "$h_a1 / 30"
printf '%-44s %14s %14s\n' "S1 B achieved / guaranteed Mbit/s (flood)" "$o_b1 / 5" "$h_b1 / 5"
printf '%-44s %14s %14s\n' "S2 A (w1) achieved / ideal Mbit/s" "$o_ra / $o_ia" "$h_ra / $h_ia"
printf '%-44s %14s %14s\n' "S2 C (w2) achieved / ideal Mbit/s" "$o_rc / $o_ic" "$h_rc / $h_ic"
printf '%-44s %14s %14s\n' "S2 B (w5) achieved / ideal Mbit/s" "$o_rb / $o_ib" "$h_rb / $h_ib"
printf '%-44s %14s %14s\n' "S2 share errors A C B %" "$o_ea $o_ec $o_eb" "$h_ea $h_ec $h_eb"
printf '%-44s %14s %14s\n' "S2 max |share error| %" "$o_err" "$h_err"
printf '%-44s %14s %14s\n' "CPU ns/pkt (S2 window)" "$o_ns" "$h_ns"
printf '%-44s %14s %14s\n' "  packets / CPU ticks in window" "$o_pk/$o_ticks" "$h_pk/$h_ticks"
echo "  ours: vn1 redirectord utime+stime / packets it sent; HTB: all CPUs' sys+softirq / packets R forwarded (includes the senders' syscalls)"
echo
sed '/^RESULT/d' "$T/vc"
echo "RESULT isolation ours_kept_pct=$o_kept htb_kept_pct=$h_kept ours_weight_err_pct=$o_err htb_weight_err_pct=$h_err cost_ratio_1000=${cost:-NA}"
