#!/bin/sh
# make bench-slice: slice create/delete times on the JGN-X-like testbed and
# the throughput of one virtual link against a plain veth, in one run.
#  1. 3-node/2-link slices (2 containers + a fast-path router), created and
#     deleted R3 times; 20-node/30-link slices R20 times. "ready" = the
#     create call returned with every sliver ready on its node.
#  2. A virtual link: two containers on tokyo and nagoya (two VNodes, two
#     GRE tunnel ends, one transport router between them) vs a plain veth
#     path over the same hops (container, VNode, router, VNode, container
#     namespaces joined by veths, the kernel forwarding where our
#     redirectors would), and vs the two namespaces on one veth pair.
#     iperf3 UDP at 64-byte and 1400-byte frames. Throughput is the highest
#     offered rate with at most 1% loss (RFC 2544 style binary search, 7
#     trials per path and size): an unlimited-rate flood would mostly
#     measure how much CPU the drops at the first queue steal on 2 cores.
#     One search swings by 2x from run to run on this shared machine, so
#     VREPS (3) rounds run, each searching every path and size in turn,
#     and the figures are the medians over the rounds. The RESULT ratios
#     are median (virtual link) over median (same-hops path).
#     The link asks for 5 Gbit/s (guarantee and ceiling) so that its
#     shaper is not what is measured: with 1 Gbit/s it capped 1400-byte
#     frames at 84 kpps (1484 bytes each on the transport).
set -eu
B=${1:-build}
R3=${R3:-20}
R20=${R20:-5}
SECS=${SECS:-3}
VREPS=${VREPS:-3}
P=bs$$
RUN=${TMPDIR:-/tmp}/vnode-bench-$P
T=$(mktemp -d "${TMPDIR:-/tmp}/vnode-bench-slice.XXXXXX")
cleanup() {
    "$B/bin/testbed" down --dir "$RUN" > /dev/null 2>&1 || true
    for n in pa pb h1 h2 h3 h4 h5; do ip netns del "$P-$n" 2> /dev/null || true; done
    rm -rf "$T"
}
trap cleanup EXIT INT TERM
now_ms() { date +%s%N | awk '{ printf "%.3f", $1 / 1e6 }'; }
pctl() {  # pctl FILE P: P-th percentile of the numbers in FILE
    sort -n "$1" | awk -v p="$2" '{ v[NR] = $1 } END { i = int(p / 100 * (NR - 1) + 0.5) + 1; print v[i] }'
}

"$B/bin/testbed" up testbed/topologies/jgnx.xml --prefix "$P" --dir "$RUN" > "$T/up" 2>&1 ||
    { cat "$T/up"; exit 1; }
SNC="$B/bin/snc --url unix:$RUN/sncd.sock --token-file $RUN/alice.token"

spec3() {
    sed "s/name=\"blue\"/name=\"$1\"/; s/vnode=\"vn1\"/vnode=\"sapporo\"/; s/vnode=\"vn2\"/vnode=\"fukuoka\"/; s/vnode=\"vn3\"/vnode=\"osaka\"/; s/200Mbit/10Mbit/" \
        docs/examples/blue.xml
}
spec20() {  # 12 containers and 8 fast-path bridges, 30 links, any VNode
    echo "<slice name=\"$1\" xmlns=\"urn:vnode:slice:1\">"
    j=0
    while [ $j -lt 20 ]; do
        if [ $j -lt 12 ]; then
            echo "<node id=\"n$j\" type=\"container\"><command>sleep infinity</command></node>"
        else
            echo "<node id=\"n$j\" type=\"fastpath\"><module name=\"bridge\"/></node>"
        fi
        j=$((j + 1))
    done
    j=0
    while [ $j -lt 30 ]; do
        a=$((j % 20)); b=$(((j * 7 + 3) % 20)); [ $b -ne $a ] || b=$(((a + 1) % 20))
        echo "<link id=\"l$j\" a=\"n$a\" b=\"n$b\" bandwidth=\"10Mbit\"/>"
        j=$((j + 1))
    done
    echo "</slice>"
}
timed() {  # timed OUTFILE CMD...: appends the wall time in ms
    out=$1
    shift
    t0=$(now_ms)
    "$@" > "$T/last" 2>&1 || { cat "$T/last"; exit 1; }
    t1=$(now_ms)
    awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f\n", b - a }' >> "$out"
}
i=0
while [ $i -lt "$R3" ]; do
    spec3 "s3x$i" > "$T/s3.xml"
    timed "$T/c3" $SNC create "$T/s3.xml"
    timed "$T/d3" $SNC delete "s3x$i"
    i=$((i + 1))
done
i=0
while [ $i -lt "$R20" ]; do
    spec20 "s20x$i" > "$T/s20.xml"
    timed "$T/c20" $SNC create "$T/s20.xml"
    timed "$T/d20" $SNC delete "s20x$i"
    i=$((i + 1))
done
echo "slice create/delete on the JGN-X-like testbed (real daemons, wall time of snc):"
printf '  3-node/2-link   x%-3s create p50 %7s ms p99 %7s ms   delete p50 %7s ms p99 %7s ms\n' \
    "$R3" "$(pctl "$T/c3" 50)" "$(pctl "$T/c3" 99)" "$(pctl "$T/d3" 50)" "$(pctl "$T/d3" 99)"
printf '  20-node/30-link x%-3s create p50 %7s ms p99 %7s ms   delete p50 %7s ms p99 %7s ms\n' \
    "$R20" "$(pctl "$T/c20" 50)" "$(pctl "$T/c20" 99)" "$(pctl "$T/d20" 50)" "$(pctl "$T/d20" 99)"

# --- one virtual link vs a plain veth ---------------------------------------
cat > "$T/vl.xml" << 'XML'
<slice name="vlink" xmlns="urn:vnode:slice:1">
  <node id="a" type="container" vnode="tokyo"><command>iperf3 -s</command>
    <iface link="l1" address="10.9.0.1/24"/></node>
  <node id="b" type="container" vnode="nagoya"><command>sleep infinity</command>
    <iface link="l1" address="10.9.0.2/24"/></node>
  <link id="l1" a="a" b="b" bandwidth="5Gbit"/>
</slice>
XML
$SNC create "$T/vl.xml" > /dev/null
# Direct: pa -- pb on one veth pair.
veth() {  # veth NS_A NS_B: a pair named l1 (a side) and l1 or t<n> (b side)
    ip -n "$P-$1" link add "$3" mtu 1458 type veth peer name "$4" mtu 1458 netns "$P-$2"
    for e in "$1:$3" "$2:$4"; do
        ip -n "$P-${e%%:*}" link set "${e#*:}" up
        ip netns exec "$P-${e%%:*}" ethtool -K "${e#*:}" tx off tso off gso off gro off > /dev/null
    done
}
for n in pa pb h1 h2 h3 h4 h5; do
    ip netns add "$P-$n"
    ip -n "$P-$n" link set lo up
done
veth pa pb l1 l1
ip -n "$P-pa" addr add 10.9.0.1/24 dev l1
ip -n "$P-pb" addr add 10.9.0.2/24 dev l1
# Same hops: h1 (server) - h2 (VNode) - h3 (router) - h4 (VNode) - h5 (client).
veth h1 h2 l1 p1; veth h2 h3 t1 t1; veth h3 h4 t2 t2; veth h4 h5 p1 l1
ip -n "$P-h1" addr add 10.9.1.1/24 dev l1
ip -n "$P-h2" addr add 10.9.1.2/24 dev p1
ip -n "$P-h2" addr add 10.9.2.1/30 dev t1
ip -n "$P-h3" addr add 10.9.2.2/30 dev t1
ip -n "$P-h3" addr add 10.9.2.5/30 dev t2
ip -n "$P-h4" addr add 10.9.2.6/30 dev t2
ip -n "$P-h4" addr add 10.9.3.2/24 dev p1
ip -n "$P-h5" addr add 10.9.3.1/24 dev l1
for n in h2 h3 h4; do ip netns exec "$P-$n" sysctl -qw net.ipv4.ip_forward=1; done
ip -n "$P-h1" route add default via 10.9.1.2
ip -n "$P-h2" route add default via 10.9.2.2
ip -n "$P-h3" route add 10.9.1.0/24 via 10.9.2.1
ip -n "$P-h3" route add 10.9.3.0/24 via 10.9.2.6
ip -n "$P-h4" route add default via 10.9.2.5
ip -n "$P-h5" route add default via 10.9.3.2
ip netns exec "$P-pa" iperf3 -s -D -1 > /dev/null 2>&1 || true
ip netns exec "$P-h1" iperf3 -s -D -1 > /dev/null 2>&1 || true
sleep 0.3
rx_pps() {  # rx_pps CLIENT_NS LEN [SERVER [RATE]]: packets/s received, then loss %
    ip netns exec "$1" iperf3 -c "${3:-10.9.0.1}" -u -b "${4:-0}" -l "$2" -t "$SECS" -J > "$T/ip.json" 2>&1 || {
        cat "$T/ip.json"; exit 1; }
    awk -v secs="$SECS" '
        /"sum":/ { insum = 1 }
        insum && /"packets":/ { gsub(/[^0-9]/, ""); pk = $0 }
        insum && /"lost_packets":/ { gsub(/[^0-9]/, ""); lost = $0 }
        END { printf "%.0f %.2f\n", (pk - lost) / secs, pk ? 100 * lost / pk : 100 }' "$T/ip.json"
}
# no_loss_pps CLIENT_NS LEN SERVER SERVER_NS: the highest rate (pkt/s) with
# at most 1% loss; the bracket starts at what an unlimited flood delivers.
no_loss_pps() {
    flood=$(rx_pps "$1" "$2" "$3" | awk '{ print $1 }')
    hi=$(( flood * 3 / 2 ))
    ip netns exec "$4" iperf3 -s -D -1 > /dev/null 2>&1 || true
    lo=0
    best=0
    n=0
    while [ $n -lt 7 ]; do
        sleep 0.2
        mid=$(( (lo + hi) / 2 ))
        set -- "$1" "$2" "$3" "$4"
        r=$(rx_pps "$1" "$2" "$3" "$(( mid * $2 * 8 ))")
        ip netns exec "$4" iperf3 -s -D -1 > /dev/null 2>&1 || true
        if awk -v l="${r#* }" 'BEGIN { exit !(l <= 1.0) }'; then
            lo=$mid; best=${r% *}
        else
            hi=$mid
        fi
        n=$((n + 1))
    done
    echo "$best $flood"
}
rep=1
while [ $rep -le "$VREPS" ]; do
    for len in 18 1358; do   # UDP payload for 64-byte and 1400-byte frames
        vl=$(no_loss_pps "$P-nagoya.vlink.b" $len 10.9.0.1 "$P-tokyo.vlink.a")
        hops=$(no_loss_pps "$P-h5" $len 10.9.1.1 "$P-h1")
        pl=$(no_loss_pps "$P-pb" $len 10.9.0.1 "$P-pa")
        echo "$len $vl $hops $pl" >> "$T/tp"   # len, then (no-loss, flood) x 3
    done
    rep=$((rep + 1))
done
# med LEN FIELD: the median of FIELD over the rounds of LEN
med() {
    awk -v len="$1" -v f="$2" '$1 == len { print $f }' "$T/tp" > "$T/col"
    pctl "$T/col" 50
}
echo "one virtual link (GRE through 2 redirectors and a transport router) vs plain veth paths,"
echo "iperf3 UDP, ${SECS}s trials, median of $VREPS rounds; no-loss = highest rate with <= 1% loss,"
echo "flood = delivered at unlimited rate:"
for len in 18 1358; do
    fr=64; [ $len = 18 ] || fr=1400
    for kind in no-loss flood; do
        o=0; [ $kind = no-loss ] || o=1
        awk -v fr=$fr -v k=$kind -v vl="$(med $len $((2 + o)))" -v h="$(med $len $((4 + o)))" \
            -v pl="$(med $len $((6 + o)))" 'BEGIN {
            printf "  %4d-byte frames, %-8s virtual link %7d pkt/s (%6.1f Mbit/s) | same hops, kernel %7d pkt/s, ratio %.2f | one veth %7d pkt/s, ratio %.2f\n",
                   fr, k ":", vl, vl * fr * 8 / 1e6, h, vl / h, pl, vl / pl }'
    done
    printf '  %4d-byte frames, no-loss ratio (virtual link / same hops) of each round:' $fr
    awk -v len=$len '$1 == len { printf " %.2f", $2 / $4 }' "$T/tp"
    echo
done
r64=$(awk -v a="$(med 18 2)" -v b="$(med 18 4)" 'BEGIN { printf "%.2f", a / b }')
r1400=$(awk -v a="$(med 1358 2)" -v b="$(med 1358 4)" 'BEGIN { printf "%.2f", a / b }')
echo "RESULT slice ready3_p50_ms=$(pctl "$T/c3" 50) ready3_p99_ms=$(pctl "$T/c3" 99) ready20_p99_ms=$(pctl "$T/c20" 99) vlink_ratio_64=$r64 vlink_ratio_1400=$r1400"
