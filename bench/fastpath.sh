#!/bin/sh
# make bench-fastpath: packets per second through one fast-path node sliver
# (router, NAT, firewall modules of build/bin/fastpath, the binary
# programmerd runs) next to the same function done by the Linux kernel in a
# namespace and by a small Linux VM under libvirt/QEMU (TCG), all in one run;
# then a chain of 1..6 fast-path routers. 64- and 1400-byte frames.
#
# Topology (fresh namespaces for every device under test, prefix bf<pid>):
#   A: a0 198.18.1.1 --veth-- R: r1i | DUT | r1o --veth-- B: b0 198.18.2.1
#   chain: A -- R1 -- R2 -- ... -- Rn -- B, links 198.18.10k.0/24 in between,
#   routers joined by shared-memory links (pktio "shm:", files
#   /dev/shm/bf<pid>.c<i>.shm made with build/bench/fastpath_shm, as
#   programmerd makes them for two fast-path slivers of a slice on one
#   VNode); CASES=chainveth joins them by veths
# Source: build/bench/fastpath_src in A on CPU0 (pre-built UDP frames on an
# AF_PACKET TX ring with PACKET_QDISC_BYPASS, flat out, 16 flows). Forwarder
# (fast path, QEMU) on CPU1. Sink: B drops the frames in its raw PREROUTING
# chain (cheapest sink, the same for every DUT). "Delivered" = b0's
# rx_packets over a SECS window that starts 1 s after the source, so only
# the steady state counts; CPU% and CPU ns/pkt come from /proc/stat idle
# deltas over the same window (busy = wall - idle; both cores, source
# included); "DUT ns/pkt" is the forwarding processes' own CPU time
# (schedstat) per delivered packet.
# Each 64-byte figure is the median of REPS runs (CHAIN_REPS for the
# chain); before each run the bench waits (up to QUIET_MAX s) for both
# cores to be idle, measures the CPU used by processes that are not its own
# during the window ("other", % of a core) and repeats a run that had more than OTHER_MAX (at most twice,
# keeping the least disturbed). Frame sizes are L2 without FCS on veth:
# "64" = 60 bytes + FCS, "1400" = 1400 bytes.
#
# Env: SECS=3 REPS=3 REPS_1400=1 FLOWS=16 CHAIN=6 CHAIN_REPS=5
#      SHM_SLOTS=4096 VM=1 (0 = skip the VM)
#      QUIET_MAX=20 QUIET_PCT=12 OTHER_MAX=10 QUIET_BUDGET=240
#      CASES="kfwd fprouter fprouter_xdp knat fpnat kfw kbrfw fpfw vm chain"
#            (chainveth: informational, not in the default)
#      KEEP_LOGS=DIR (copy the fast paths' logs, virsh and console output there)
# The VM case installs what it needs if missing (libvirt, QEMU,
# busybox-static; the guest kernel is downloaded, not installed, and built
# into build/bench-vm/ once by bench/vm/build-guest.sh). When the VM cannot
# run, the reason is printed, "vm=unavailable" and router_vs_vm_64=NA.
# Last line: RESULT fastpath router_vs_kernel_64=... router_vs_vm_64=...
#            nat_vs_kernel_64=... fw_vs_kernel_64=... chain6_kept_pct=...
# shellcheck disable=SC3043 # local: dash, bash and busybox sh have it
set -eu
B=${1:-build}
SECS=${SECS:-3}
REPS=${REPS:-3}
REPS_1400=${REPS_1400:-1}
FLOWS=${FLOWS:-16}
CHAIN=${CHAIN:-6}
CHAIN_REPS=${CHAIN_REPS:-5}
SHM_SLOTS=${SHM_SLOTS:-4096} # as programmerd makes them
VM=${VM:-1}
QUIET_MAX=${QUIET_MAX:-20}
QUIET_PCT=${QUIET_PCT:-12}
OTHER_MAX=${OTHER_MAX:-10}
QUIET_BUDGET=${QUIET_BUDGET:-240}
CASES=${CASES:-kfwd fprouter fprouter_xdp knat fpnat kfw kbrfw fpfw vm chain}
[ "$VM" = 1 ] || CASES=$(echo " $CASES " | sed 's/ vm / /')
P=bf$$
[ "$(id -u)" = 0 ] || { echo "bench/fastpath.sh: needs root (namespaces, AF_PACKET)" >&2; exit 1; }
case $B in /*) ;; *) B=$(pwd)/$B ;; esac
HERE=$(cd "$(dirname "$0")" && pwd)
VMDIR=$B/bench-vm
FP=$B/bin/fastpath
SRC=$B/bench/fastpath_src
REAP=$B/bench/fastpath_reap
SHM=$B/bench/fastpath_shm
for f in "$FP" "$SRC" "$REAP" "$SHM"; do
    [ -x "$f" ] || { echo "bench/fastpath.sh: $f missing (make all)" >&2; exit 1; }
done
# Short: libvirt puts QEMU's monitor socket (108-byte path limit) under it.
T=$(mktemp -d "/tmp/$P.XXXXXX")
LV=$T/lv
VMNAME=$P-vm
HZ=$(getconf CLK_TCK)
MYSID=$(awk '{ sub(/.*\) /, ""); print $4 }' /proc/$$/stat)
PIDS=""        # processes to kill on exit (sources, fast paths, holders)
VIRSH_PID=""
SRC_PID=""
T0=$(date +%s)

# --- cleanup -----------------------------------------------------------------
qemu_pids() {
    local f
    for f in "$LV"/run/qemu/*.pid; do
        [ -f "$f" ] && cat "$f"
    done 2> /dev/null || true
}
vm_stop() {
    local i q c
    if [ -n "$VIRSH_PID" ]; then
        { echo "destroy $VMNAME"; echo quit; } >&9 2> /dev/null || true
        exec 9>&-
        i=0
        while kill -0 "$VIRSH_PID" 2> /dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
        kill "$VIRSH_PID" 2> /dev/null || true
        wait "$VIRSH_PID" 2> /dev/null || true
        VIRSH_PID=""
    fi
    for q in $(qemu_pids); do
        if kill -0 "$q" 2> /dev/null && grep -q qemu "/proc/$q/comm" 2> /dev/null; then
            kill "$q" 2> /dev/null || true
            sleep 0.3
            kill -9 "$q" 2> /dev/null || true
        fi
    done
    for c in /sys/fs/cgroup/*/machine/*"$VMNAME"* /sys/fs/cgroup/*/machine/*/*"$VMNAME"*; do
        [ -d "$c" ] && find "$c" -depth -type d -exec rmdir {} \; 2> /dev/null
    done 2> /dev/null || true
}
ns_all_down() {
    local n
    for n in $(ip netns list 2> /dev/null | awk '{ print $1 }' | grep "^$P-" || true); do
        ip netns del "$n" 2> /dev/null || true
    done
}
stop_pids() {
    local p
    for p in $PIDS; do kill "$p" 2> /dev/null || true; done
    for p in $PIDS; do wait "$p" 2> /dev/null || true; done
    PIDS=""
}
cleanup() {
    set +e
    [ -z "$SRC_PID" ] || kill "$SRC_PID" 2> /dev/null
    stop_pids
    vm_stop
    ns_all_down
    rm -f /dev/shm/"$P".c*.shm*
    if [ -n "${KEEP_LOGS:-}" ]; then
        mkdir -p "$KEEP_LOGS" && cp "$T"/*.log "$T"/res "$T"/vm.serial "$T"/virsh.out "$KEEP_LOGS"/ 2> /dev/null
    fi
    rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP
trap 'exit 141' PIPE

# --- measurement -------------------------------------------------------------
# cpu_busy: the busier core's busy % over 0.5 s.
cpu_busy() {
    local a b
    a=$(awk '/^cpu[0-9]/ { printf "%d %d ", $2+$3+$4+$7+$8+$9, $2+$3+$4+$5+$6+$7+$8+$9 }' /proc/stat)
    sleep 0.5
    b=$(awk '/^cpu[0-9]/ { printf "%d %d ", $2+$3+$4+$7+$8+$9, $2+$3+$4+$5+$6+$7+$8+$9 }' /proc/stat)
    echo "$a $b" | awk '{ n = NF / 4; m = 0
        for (i = 1; i <= n; i++) { db = $(2*n + 2*i - 1) - $(2*i - 1); dt = $(2*n + 2*i) - $(2*i)
            if (dt > 0 && 100 * db / dt > m) m = 100 * db / dt }
        printf "%d\n", m }'
}
QUIET_SPENT=0
wait_quiet() {
    local w busy
    w=0
    while :; do
        busy=$(cpu_busy)
        [ "$busy" -le "$QUIET_PCT" ] && return 0
        w=$((w + 1))
        QUIET_SPENT=$((QUIET_SPENT + 1))
        if [ $((w / 2)) -ge "$QUIET_MAX" ] || [ $((QUIET_SPENT / 2)) -ge "$QUIET_BUDGET" ]; then
            echo "  (machine still busy: a core at ${busy}% after waiting $((w / 2)) s; measuring anyway)" >&2
            return 0
        fi
    done
}
# snap: one line "t_ns a_tx b_rx b_rxbytes cpu0idle cpu0all cpu1idle cpu1all
# dut_ns other_ticks"; counters through holder processes' /proc/PID/net/dev.
# Busy time is taken as wall time minus idle time: the tick-sampled busy
# counters of /proc/stat under-count a core that is busy in softirq here
# (up to ~30 % lost ticks), while idle time is measured exactly.
snap() {
    local t dut p s ns rest
    t=$(date +%s%N)
    dut=0
    for p in $DUT_PIDS; do
        for s in /proc/"$p"/task/*/schedstat; do
            [ -r "$s" ] && read -r ns rest < "$s" && dut=$((dut + ns))
        done 2> /dev/null || true
    done
    {
        awk -v a="${P}a0:" '$1 == a { print "A", $11 }' "/proc/$AH/net/dev"
        awk -v b="${P}b0:" '$1 == b { print "B", $3, $2 }' "/proc/$BH/net/dev"
        awk '/^cpu[01] / { print "C", $5+$6, $2+$3+$4+$5+$6+$7+$8+$9 }' /proc/stat
        cat /proc/[0-9]*/stat 2> /dev/null | awk -v sid="$MYSID" -v ex=" $DUT_PIDS " '
            { pid = $1; sub(/.*\) /, "")
              if ($4 == sid || $2 == 2 || pid == 2 || index(ex, " " pid " ")) next
              o += $12 + $13 + $14 + $15 }
            END { print "O", o + 0 }'
    } | awk -v t="$t" -v dut="$dut" '
        $1 == "A" { a = $2 } $1 == "B" { b = $2; bb = $3 } $1 == "C" { c = c " " $2 " " $3 } $1 == "O" { o = $2 }
        END { print t, a + 0, b + 0, bb + 0, c, dut, o }'
}
# measure CASE LEN DST_MAC: one run of the source; appends to $T/res:
#   CASE LEN pps mbit offered cpu0 cpu1 ns_per_pkt dut_ns_per_pkt other%
measure() {
    local try best sp s0 s1 r oth
    try=0
    best=""
    while :; do
        wait_quiet
        ip netns exec "$P-a" taskset -c 0 "$SRC" --dev "${P}a0" --dst-mac "$3" \
            --src-ip 198.18.1.1 --dst-ip 198.18.2.1 --len "$2" --flows "$FLOWS" \
            --secs $((SECS + 2)) > "$T/src.out" 2>&1 &
        sp=$!
        SRC_PID=$sp
        sleep 1
        s0=$(snap)
        sleep "$SECS"
        s1=$(snap)
        wait "$sp" || { echo "source failed:"; cat "$T/src.out"; exit 1; }
        SRC_PID=""
        r=$(echo "$s0 $s1" | awk -v len="$2" -v hz="$HZ" -v ndut="$DUT_PIDS" '{
            n = NF / 2; dt = ($(n+1) - $1) / 1e9; rx = $(n+3) - $3
            pps = rx / dt; mbit = ($(n+4) - $4) * 8 / dt / 1e6; off = ($(n+2) - $2) / dt
            b0 = dt - ($(n+5) - $5) / hz; b1 = dt - ($(n+7) - $7) / hz
            b0 = b0 < 0 ? 0 : (b0 > dt ? dt : b0); b1 = b1 < 0 ? 0 : (b1 > dt ? dt : b1)
            c0 = 100 * b0 / dt; c1 = 100 * b1 / dt
            nspp = rx > 0 ? (b0 + b1) * 1e9 / rx : 0
            dut = (ndut != "" && rx > 0) ? ($(n+9) - $9) / rx : -1
            oth = 100 * ($(n+10) - $10) / hz / dt
            printf "%.0f %.1f %.0f %.0f %.0f %.0f %.0f %.0f\n", pps, mbit, off, c0, c1, nspp, dut, oth }')
        oth=${r##* }
        if [ -z "$best" ] || [ "$oth" -lt "${best##* }" ]; then best=$r; fi
        [ "${best##* }" -le "$OTHER_MAX" ] && break
        try=$((try + 1))
        if [ $try -gt 2 ] || [ $((QUIET_SPENT / 2)) -ge "$QUIET_BUDGET" ]; then break; fi
        echo "  ($1 $2 B: other processes used ${oth}% of a core; again)" >&2
    done
    echo "$1 $2 $best" >> "$T/res"
    echo "  $1 $(fsz "$2") B: $(echo "$best" | awk '{ printf "%d pps, %.0f Mbit/s, offered %d pps, CPU0 %d%% CPU1 %d%%, other %d%%", $1, $2, $3, $4, $5, $8 }')" >&2
}
fsz() { [ "$1" = 60 ] && echo 64 || echo "$1"; }
# runs CASE DST_MAC: every size and repetition of one set-up DUT.
runs() {
    local i
    i=0
    while [ $i -lt "$REPS" ]; do measure "$1" 60 "$2"; i=$((i + 1)); done
    i=0
    while [ $i -lt "$REPS_1400" ]; do measure "$1" 1400 "$2"; i=$((i + 1)); done
}

# --- topology ----------------------------------------------------------------
ns_add() {
    ip netns add "$1"
    ip -n "$1" link set lo up
    ip netns exec "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
}
mac_of() { ip -n "$1" -br link show "$2" | awk '{ print $3 }'; }
# line_up N [shm]: A -- R1 -- ... -- RN -- B. Port names ${P}r<i>i (toward
# A) and ${P}r<i>o (toward B). With "shm", routers are joined by
# shared-memory links (/dev/shm/$P.c<i>.shm between R<i> and R<i+1>, as
# programmerd joins two fast-path slivers on one VNode) instead of veths.
line_up() {
    local n i
    n=$1
    ns_add "$P-a"
    ns_add "$P-b"
    i=1
    while [ $i -le "$n" ]; do ns_add "$P-r$i"; i=$((i + 1)); done
    ip link add "${P}a0" netns "$P-a" type veth peer name "${P}r1i" netns "$P-r1"
    i=1
    while [ $i -lt "$n" ]; do
        if [ "${2:-}" = shm ]; then
            "$SHM" create "/dev/shm/$P.c$i.shm" "$SHM_SLOTS"
        else
            ip link add "${P}r${i}o" netns "$P-r$i" type veth peer name "${P}r$((i + 1))i" netns "$P-r$((i + 1))"
            ip -n "$P-r$i" link set "${P}r${i}o" up
            ip -n "$P-r$((i + 1))" link set "${P}r$((i + 1))i" up
        fi
        i=$((i + 1))
    done
    ip link add "${P}r${n}o" netns "$P-r$n" type veth peer name "${P}b0" netns "$P-b"
    ip -n "$P-a" link set "${P}a0" up
    ip -n "$P-b" link set "${P}b0" up
    ip -n "$P-r1" link set "${P}r1i" up
    ip -n "$P-r$n" link set "${P}r${n}o" up
    ip -n "$P-a" addr add 198.18.1.1/24 dev "${P}a0"
    ip -n "$P-a" route add 198.18.2.0/24 via 198.18.1.2
    ip -n "$P-b" addr add 198.18.2.1/24 dev "${P}b0"
    ip -n "$P-b" route add 198.18.1.0/24 via 198.18.2.2
    # The sink: drop the test frames before routing, the same for every DUT.
    ip netns exec "$P-b" iptables -t raw -A PREROUTING -p udp --dport 9 -j DROP
    AMAC=$(mac_of "$P-a" "${P}a0")
    BMAC=$(mac_of "$P-b" "${P}b0")
    RMAC=$(mac_of "$P-r1" "${P}r1i")
    # Holders: /proc/PID/net/dev of a process in A and in B gives their
    # counters without entering the namespaces at snapshot time.
    ip netns exec "$P-a" sleep 100000 &
    AH=$!
    ip netns exec "$P-b" sleep 100000 &
    BH=$!
    PIDS="$PIDS $AH $BH"
    DUT_PIDS=""
}
line_down() {
    local f
    stop_pids
    ns_all_down
    for f in /dev/shm/"$P".c*.shm; do [ -e "$f" ] && "$SHM" destroy "$f"; done
    return 0
}
# fp NS LOG ARGS...: a fast path on CPU1 in NS, waits until it runs.
fp() {
    local ns log p i
    ns=$1
    log=$2
    shift 2
    ip netns exec "$ns" taskset -c 1 "$FP" --log "$log" "$@" &
    p=$!
    PIDS="$PIDS $p"
    DUT_PIDS="$DUT_PIDS $p"
    i=0
    until grep -q "running as" "$log" 2> /dev/null; do
        i=$((i + 1))
        if [ $i -gt 100 ] || ! kill -0 "$p" 2> /dev/null; then
            echo "fastpath did not start:" >&2
            cat "$log" >&2
            exit 1
        fi
        sleep 0.05
    done
}
# fp_stats LOG: the exit counters of a stopped fast path, one line.
fp_stats() {
    awk '/io rx_dropped/ { match($0, /io rx_dropped [0-9]+/); d += substr($0, RSTART + 14, RLENGTH - 14) }
         /module drop/ { match($0, /module drop [0-9]+/); m += substr($0, RSTART + 12, RLENGTH - 12) }
         / module [a-z_-]+: [a-z0-9_.]+=[1-9][0-9]*$/ { k = $NF; if (k !~ /_bytes=|\.bytes=/) c = c " " k }
         END { printf "RX ring drops %d, module drops %d;%s", d, m, c }' "$1"
}
kernel_r() {  # addresses, forwarding and static neighbours in R1
    local r
    r=$P-r1
    ip -n "$r" addr add 198.18.1.2/24 dev "${P}r1i"
    ip -n "$r" addr add 198.18.2.2/24 dev "${P}r1o"
    ip netns exec "$r" sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0
    ip -n "$r" neigh replace 198.18.2.1 lladdr "$BMAC" dev "${P}r1o" nud permanent
    ip -n "$r" neigh replace 198.18.1.1 lladdr "$AMAC" dev "${P}r1i" nud permanent
}
# The firewall rule set, as fast-path params and as iptables FORWARD rules
# (first match wins, default drop, stateful; the test traffic matches rule 40).
FW_RULES="10:drop:in:tcp:any:any:198.18.2.0/24:22 20:drop:in:udp:198.18.9.0/24:any:any:any 30:drop:in:icmp:any:any:198.18.2.9/32:any 40:accept:in:udp:198.18.1.0/24:any:198.18.2.0/24:9"
fw_kernel() {  # fw_kernel IN-MATCH...: "-i PORT" routed, "-m physdev --physdev-in PORT" bridged
    local ipt
    ipt="ip netns exec $P-r1 iptables"
    $ipt -P FORWARD DROP
    $ipt -A FORWARD -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
    $ipt -A FORWARD "$@" -p tcp -d 198.18.2.0/24 --dport 22 -j DROP
    $ipt -A FORWARD "$@" -p udp -s 198.18.9.0/24 -j DROP
    $ipt -A FORWARD "$@" -p icmp -d 198.18.2.9/32 -j DROP
    $ipt -A FORWARD "$@" -p udp -s 198.18.1.0/24 -d 198.18.2.0/24 --dport 9 -j ACCEPT
}

# --- the VM ------------------------------------------------------------------
VM_STATUS=""
vm_unavailable() {
    VM_STATUS="unavailable: $*"
    echo "  VM unavailable: $*" >&2
    return 1
}
vm_packages() {
    local missing p
    missing=""
    for p in libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients qemu-system-x86 busybox-static; do
        dpkg-query -W -f='${Status}\n' "$p" 2> /dev/null | grep -q '^install ok installed' || missing="$missing $p"
    done
    if [ -n "$missing" ]; then
        echo "  installing$missing" >&2
        export DEBIAN_FRONTEND=noninteractive
        # shellcheck disable=SC2086
        if ! apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends $missing > "$T/apt.log" 2>&1; then
            apt-get -o DPkg::Lock::Timeout=300 update -qq > /dev/null 2>&1 || true
            # shellcheck disable=SC2086
            apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends $missing > "$T/apt.log" 2>&1 ||
                { tail -5 "$T/apt.log" >&2; vm_unavailable "apt-get install$missing failed"; return 1; }
        fi
    fi
    # libvirt's embedded QEMU driver looks its compiled-in user up before it
    # reads qemu.conf; Debian creates it only with libvirt-daemon-system.
    if ! getent passwd libvirt-qemu > /dev/null; then
        getent group libvirt-qemu > /dev/null || groupadd --system libvirt-qemu
        useradd --system -g libvirt-qemu -d /var/lib/libvirt -s /usr/sbin/nologin libvirt-qemu
        echo "  created system user libvirt-qemu (libvirt's embedded driver needs it)" >&2
    fi
}
# vm_up: boots the guest with its NICs on taps bridged to R1's two veths.
vm_up() {
    local r k port t0 t1 limit i reason
    r=$P-r1
    vm_packages || return 1
    "$HERE/vm/build-guest.sh" "$VMDIR" >&2 || { vm_unavailable "guest build failed (bench/vm/build-guest.sh)"; return 1; }
    ip netns exec "$r" sysctl -qw net.bridge.bridge-nf-call-iptables=0 2> /dev/null || true
    for k in 0 1; do
        case $k in 0) port=${P}r1i ;; 1) port=${P}r1o ;; esac
        ip -n "$r" link add "${P}br$k" type bridge
        ip -n "$r" tuntap add dev "${P}t$k" mode tap
        ip -n "$r" link set "$port" master "${P}br$k"
        ip -n "$r" link set "${P}t$k" master "${P}br$k"
        ip -n "$r" link set "${P}t$k" up
        ip -n "$r" link set "${P}br$k" up
    done
    bridge -n "$r" fdb add 52:54:00:bf:00:01 dev "${P}t0" master static
    bridge -n "$r" fdb add "$BMAC" dev "${P}r1o" master static
    mkdir -p "$LV/etc" "$LV/cache/qemu"
    cat > "$LV/etc/qemu.conf" << EOF
user = "root"
group = "root"
stdio_handler = "file"
security_driver = "none"
dynamic_ownership = 0
remember_owner = 0
EOF
    # QEMU's capabilities, probed once (4-9 s) and kept for the next run.
    [ -d "$VMDIR/qemu-caps" ] && cp -r "$VMDIR/qemu-caps" "$LV/cache/qemu/capabilities"
    cat > "$T/vm.xml" << EOF
<domain type='qemu'>
  <name>$VMNAME</name>
  <memory unit='MiB'>128</memory>
  <vcpu placement='static' cpuset='1'>1</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>$VMDIR/vmlinuz</kernel>
    <initrd>$VMDIR/initrd.gz</initrd>
    <cmdline>console=ttyS0 panic=-1 quiet bf_mac0=52:54:00:bf:00:01 bf_ip0=198.18.1.2/24 bf_mac1=52:54:00:bf:00:02 bf_ip1=198.18.2.2/24 bf_neigh=198.18.2.1,$BMAC</cmdline>
  </os>
  <features><tcg><tb-cache unit='MiB'>32</tb-cache></tcg></features>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>destroy</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <interface type='ethernet'>
      <mac address='52:54:00:bf:00:01'/><target dev='${P}t0' managed='no'/><model type='virtio'/>
    </interface>
    <interface type='ethernet'>
      <mac address='52:54:00:bf:00:02'/><target dev='${P}t1' managed='no'/><model type='virtio'/>
    </interface>
    <serial type='file'><source path='$T/vm.serial'/></serial>
    <controller type='usb' model='none'/>
    <memballoon model='none'/>
  </devices>
</domain>
EOF
    # One long-lived virsh owns the embedded driver's root (never one-shot
    # virsh against it: re-attach races); it reads its commands from a FIFO
    # and runs in R1's namespace, where the taps are. fastpath_reap makes
    # it QEMU's subreaper so that destroy does not wait for PID 1.
    mkfifo "$T/virsh.in"
    LIBVIRT_LOG_OUTPUTS="3:file:$T/libvirt.log" ip netns exec "$r" "$REAP" \
        virsh -q -c "qemu:///embed?root=$LV" < "$T/virsh.in" > "$T/virsh.out" 2>&1 &
    VIRSH_PID=$!
    exec 9> "$T/virsh.in"
    t0=$(date +%s%N)
    echo "create $T/vm.xml" >&9
    limit=300  # 30 s boot, in 0.1 s
    [ -d "$VMDIR/qemu-caps" ] || limit=400
    i=0
    until grep -q BENCH-VM-READY "$T/vm.serial" 2> /dev/null; do
        i=$((i + 1))
        if grep -q BENCH-VM-ERROR "$T/vm.serial" 2> /dev/null ||
            grep -qi 'error' "$T/virsh.out" 2> /dev/null ||
            ! kill -0 "$VIRSH_PID" 2> /dev/null || [ $i -gt $limit ]; then
            reason=$(grep -i -m1 -E 'error' "$T/virsh.out" "$T/vm.serial" 2> /dev/null | cut -c1-300 || true)
            [ -n "$reason" ] || reason="no ready marker on the serial console after $((i / 10)) s"
            tail -5 "$T/vm.serial" >&2 2> /dev/null || true
            vm_unavailable "$reason"
            return 1
        fi
        sleep 0.1
    done
    t1=$(date +%s%N)
    QPID=$(cat "$LV/run/qemu/$VMNAME.pid" 2> /dev/null || true)
    [ -n "$QPID" ] || { vm_unavailable "no QEMU pid file in the libvirt root"; return 1; }
    taskset -a -p 2 "$QPID" > /dev/null 2>&1 || true
    DUT_PIDS=$QPID
    rm -rf "$VMDIR/qemu-caps.new"
    cp -r "$LV/cache/qemu/capabilities" "$VMDIR/qemu-caps.new" 2> /dev/null &&
        rm -rf "$VMDIR/qemu-caps" && mv "$VMDIR/qemu-caps.new" "$VMDIR/qemu-caps"
    VM_BOOT=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", (b - a) / 1e9 }')
    echo "  VM ready in $VM_BOOT s (create to marker): $(grep -m1 BENCH-VM-READY "$T/vm.serial" | tr -d '\r')" >&2
}

# --- the run -----------------------------------------------------------------
echo "fast-path benchmark (prefix $P; window ${SECS}s, 64-byte x$REPS, 1400-byte x$REPS_1400, $FLOWS flows)"
for w in $(ip netns list 2> /dev/null | awk '{ print $1 }' | grep -v "^$P-" | head -3); do
    echo "  note: other namespaces exist ($w ...): other workloads may share the 2 cores; see the 'other' column" >&2
    break
done
: > "$T/res"

want() { case " $CASES " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }

if want kfwd; then
    echo "kernel IP forwarding in R" >&2
    line_up 1
    kernel_r
    runs kfwd "$RMAC"
    line_down
fi

if want fprouter; then
    echo "fast path: router" >&2
    line_up 1
    fp "$P-r1" "$T/router.log" --module router --port "${P}r1i" --port "${P}r1o" \
        --param "address=${P}r1i:198.18.1.2/24" --param "address=${P}r1o:198.18.2.2/24"
    runs fprouter "$RMAC"
    line_down
    echo "  fast path router: $(fp_stats "$T/router.log")" >&2
fi

# The same router on AF_XDP ports (the faster backend, which a sliver does
# not use by default). Informational row, not in RESULT.
if want fprouter_xdp; then
    echo "fast path: router on AF_XDP ports" >&2
    line_up 1
    fp "$P-r1" "$T/router_xdp.log" --module router --port "afxdp:${P}r1i" --port "afxdp:${P}r1o" \
        --param "address=${P}r1i:198.18.1.2/24" --param "address=${P}r1o:198.18.2.2/24"
    i=0
    while [ $i -lt "$REPS" ]; do measure fprouter_xdp 60 "$RMAC"; i=$((i + 1)); done
    line_down
fi

if want knat; then
    echo "kernel NAT (iptables MASQUERADE) in R" >&2
    line_up 1
    kernel_r
    ip netns exec "$P-r1" iptables -t nat -A POSTROUTING -o "${P}r1o" -j MASQUERADE
    runs knat "$RMAC"
    line_down
fi

if want fpnat; then
    echo "fast path: nat" >&2
    line_up 1
    fp "$P-r1" "$T/nat.log" --module nat --port "${P}r1i" --port "${P}r1o" \
        --param "inside=${P}r1i" --param "outside=${P}r1o" \
        --param "address=${P}r1i:198.18.1.2/24" --param "address=${P}r1o:198.18.2.2/24"
    runs fpnat "$RMAC"
    line_down
    echo "  fast path nat: $(fp_stats "$T/nat.log")" >&2
fi

if want kfw; then
    echo "kernel filter (IP forwarding + iptables FORWARD rules) in R" >&2
    line_up 1
    kernel_r
    fw_kernel -i "${P}r1i"
    runs kfw "$RMAC"
    line_down
fi

# The kernel doing what the firewall module does, at L2: a bridge between
# R's ports with br_netfilter applying the same rules. Informational.
if want kbrfw; then
    echo "kernel L2 filter (bridge + br_netfilter, the same FORWARD rules) in R" >&2
    line_up 1
    ip -n "$P-r1" link add "${P}br0" type bridge
    ip -n "$P-r1" link set "${P}r1i" master "${P}br0"
    ip -n "$P-r1" link set "${P}r1o" master "${P}br0"
    ip -n "$P-r1" link set "${P}br0" up
    ip netns exec "$P-r1" sysctl -qw net.bridge.bridge-nf-call-iptables=1
    fw_kernel -m physdev --physdev-in "${P}r1i"
    i=0
    while [ $i -lt "$REPS" ]; do measure kbrfw 60 "$BMAC"; i=$((i + 1)); done
    line_down
fi

if want fpfw; then
    echo "fast path: firewall (L2 bump in the wire)" >&2
    line_up 1
    set --
    for rule in $FW_RULES; do set -- "$@" --param "rule=$rule"; done
    fp "$P-r1" "$T/fw.log" --module firewall --port "${P}r1i" --port "${P}r1o" "$@" --param default=drop
    runs fpfw "$BMAC"
    line_down
    echo "  fast path firewall: $(fp_stats "$T/fw.log")" >&2
fi

if want vm; then
    echo "VM: Linux guest (TCG, 1 vCPU, 128 MiB) forwarding between two virtio NICs, via libvirt" >&2
    line_up 1
    if vm_up; then
        runs vm 52:54:00:bf:00:01
        VM_STATUS=ok
    fi
    vm_stop
    line_down
else
    VM_STATUS="unavailable: not run (VM=0 or CASES)"
fi

# chain_run N VIA: N routers in a line, joined by VIA (shm or veth).
chain_run() {
    local n via i in out pi po
    n=$1
    via=$2
    line_up "$n" "$via"
    i=1
    while [ $i -le "$n" ]; do
        if [ $i -eq 1 ]; then in=198.18.1.2; else in=198.18.$((100 + i - 1)).2; fi
        pi=${P}r${i}i
        po=${P}r${i}o
        if [ $i -eq "$n" ]; then
            out=198.18.2.2
            set -- --port "$po"
        else
            out=198.18.$((100 + i)).1
            [ "$via" = shm ] && set -- --port "$po=shm:/dev/shm/$P.c$i.shm,side=a" || set -- --port "$po"
            set -- "$@" --param "route=198.18.2.0/24:$po:198.18.$((100 + i)).2"
        fi
        if [ $i -gt 1 ] && [ "$via" = shm ]; then
            set -- --port "$pi=shm:/dev/shm/$P.c$((i - 1)).shm,side=b" "$@"
        else
            set -- --port "$pi" "$@"
        fi
        fp "$P-r$i" "$T/chain$n.$i.log" --module router "$@" \
            --param "address=$pi:$in/24" --param "address=$po:$out/24"
        i=$((i + 1))
    done
}

# The chain as programmerd builds it on one VNode (fast paths joined by
# shared memory); "chainveth" (informational, not in the default CASES)
# joins them by veth pairs instead: the per-hop cost without shared memory.
if want chain; then
    echo "chain of fast-path routers (shared-memory links)" >&2
    n=1
    while [ $n -le "$CHAIN" ]; do
        chain_run "$n" shm
        r=0
        while [ $r -lt "$CHAIN_REPS" ]; do measure "chain$n" 60 "$RMAC"; r=$((r + 1)); done
        line_down
        n=$((n + 1))
    done
fi
if want chainveth; then
    echo "chain of fast-path routers (veth links)" >&2
    for n in 1 "$CHAIN"; do
        chain_run "$n" veth
        r=0
        while [ $r -lt "$REPS" ]; do measure "chainveth$n" 60 "$RMAC"; r=$((r + 1)); done
        line_down
    done
fi

# --- report ------------------------------------------------------------------
# med CASE LEN: the median run (by pps) of CASE at LEN, the whole line.
med() {
    awk -v c="$1" -v l="$2" '$1 == c && $2 == l' "$T/res" | sort -k3,3n |
        awk '{ r[NR] = $0 } END { if (NR) print r[int((NR + 1) / 2)] }'
}
pps() { med "$1" "$2" | awk '{ print $3 }'; }
ratio() {  # ratio A B: A/B with 2 decimals, NA if either is missing or 0
    awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b + 0 == 0) print "NA"; else printf "%.2f\n", a / b }'
}
echo
echo "One device under test between A and B (veth), source on CPU0, forwarder on CPU1."
echo "delivered = B's rx over ${SECS}s of steady state (median of $REPS at 64 B, $REPS_1400 at 1400 B);"
echo "CPU ns/pkt = busy time of both cores (source included) per delivered packet; DUT ns/pkt = the"
echo "forwarding processes' own CPU time (fast path, QEMU) per packet; other = CPU of unrelated processes."
printf '%-9s %-36s %5s %11s %8s %11s %5s %5s %8s %8s %6s %9s %6s\n' \
    function "done by" frame "pps" "Mbit/s" "offered" "CPU0%" "CPU1%" "CPUns/p" "DUTns/p" "other%" "vs kernel" "vs VM"
row() {  # row FUNCTION LABEL CASE LEN KERNEL_CASE
    local m vk vv
    m=$(med "$3" "$4")
    if [ -z "$m" ]; then
        printf '%-9s %-36s %5s %11s\n' "$1" "$2" "$(fsz "$4")" "n/a"
        return
    fi
    vk=$(ratio "$(pps "$3" "$4")" "$(pps "$5" "$4")")
    vv=$(ratio "$(pps "$3" "$4")" "$(pps vm "$4")")
    [ "$3" = "$5" ] && vk=1.00
    [ "$3" = vm ] && vv=1.00
    [ "$3" = vm ] || [ "$1" = router ] || vv=-
    echo "$m" | awk -v f="$1" -v d="$2" -v fr="$(fsz "$4")" -v vk="$vk" -v vv="$vv" '{
        printf "%-9s %-36s %5s %11d %8.1f %11d %5d %5d %8d %8s %6d %9s %6s\n",
               f, d, fr, $3, $4, $5, $6, $7, $8, ($9 < 0 ? "-" : $9), $10, vk, vv }'
}
for len in 60 1400; do
    row router "fast path (router module)" fprouter $len kfwd
    [ $len != 60 ] || [ -z "$(med fprouter_xdp 60)" ] ||
        row router "fast path, AF_XDP ports (*)" fprouter_xdp $len kfwd
    row router "kernel IP forwarding" kfwd $len kfwd
    if [ "$VM_STATUS" = ok ]; then
        row router "VM: Linux guest, TCG, 2x virtio-net" vm $len kfwd
    else
        printf '%-9s %-36s %5s %11s\n' router "VM: Linux guest, TCG, 2x virtio-net" "$(fsz $len)" "vm=unavailable"
    fi
    row nat "fast path (nat module)" fpnat $len knat
    row nat "kernel iptables MASQUERADE" knat $len knat
    row firewall "fast path (firewall module, L2)" fpfw $len kfw
    row firewall "kernel iptables FORWARD rules" kfw $len kfw
    [ $len != 60 ] || [ -z "$(med kbrfw 60)" ] ||
        row firewall "kernel bridge+br_netfilter rules (*)" kbrfw $len kfw
done
echo "(*) informational, not in RESULT:"
[ -z "$(med fprouter_xdp 60)" ] ||
    echo "    AF_XDP ports = the same router with --port afxdp:IF (slivers use AF_PACKET with stack=drop by default)"
[ -z "$(med kbrfw 60)" ] ||
    echo "    bridge+br_netfilter = the kernel filtering at L2 like the firewall module; fast path firewall vs it: $(ratio "$(pps fpfw 60)" "$(pps kbrfw 60)")"
[ "$VM_STATUS" = ok ] && echo "VM boot (libvirt create to ready marker): ${VM_BOOT} s" ||
    echo "vm=unavailable (${VM_STATUS#unavailable: })"
echo
echo "Chain of n fast-path routers (A - R1 - ... - Rn - B, every router on CPU1, routers joined by shared-memory"
echo "links as programmerd joins fast paths on one VNode, $SHM_SLOTS slots), 64-byte frames, median of $CHAIN_REPS;"
echo "kept = pps(n)/pps(1); hop eff = CPU per packet per hop at n=1 over the same at n (1 core for all n hops):"
printf '%3s %11s %8s %6s %6s %9s %12s %9s %6s\n' n pps "kept%" "CPU0%" "CPU1%" "DUTns/p" "DUTns/p/hop" "hop eff%" "other%"
c1=$(pps chain1 60)
h1=$(med chain1 60 | awk '{ print $9 }')
n=1
while [ $n -le "$CHAIN" ]; do
    m=$(med "chain$n" 60)
    [ -n "$m" ] && echo "$m" | awk -v n="$n" -v c1="$c1" -v h1="$h1" '{
        printf "%3d %11d %8.1f %6d %6d %9d %12d %9.1f %6d\n", n, $3, (c1 > 0 ? 100 * $3 / c1 : 0), $6, $7, $9, $9 / n,
               ($9 > 0 ? 100 * h1 * n / $9 : 0), $10 }'
    n=$((n + 1))
done
for n in 1 "$CHAIN"; do
    m=$(med "chainveth$n" 60)
    [ -n "$m" ] && echo "$m" | awk -v n="$n" -v c1="$(pps chainveth1 60)" '{
        printf "%3s %11d %8.1f %6d %6d %9d %12d   (routers joined by veth pairs, informational)\n", n "v", $3,
               (c1 > 0 ? 100 * $3 / c1 : 0), $6, $7, $9, $9 / n }'
done

rk=$(ratio "$(pps fprouter 60)" "$(pps kfwd 60)")
rv=NA
[ "$VM_STATUS" = ok ] && rv=$(ratio "$(pps fprouter 60)" "$(pps vm 60)")
rn=$(ratio "$(pps fpnat 60)" "$(pps knat 60)")
rf=$(ratio "$(pps fpfw 60)" "$(pps kfw 60)")
kept=$(awk -v a="$(pps "chain$CHAIN" 60)" -v b="$c1" 'BEGIN { if (b + 0 > 0 && a != "") printf "%.1f\n", 100 * a / b; else print "NA" }')
echo
verdict() { awk -v v="$1" -v t="$2" 'BEGIN { if (v == "NA") print "n/a"; else if (v + 0 >= t) print "met"; else print "NOT met" }'; }
echo "targets: router >= kernel at 64 B: $(verdict "$rk" 1) ($rk); router >= 5.5x VM at 64 B: $(verdict "$rv" 5.5) ($rv);" \
    "${CHAIN}-long chain keeps >= 80%: $(verdict "$kept" 80) ($kept%)"
echo "total time $(($(date +%s) - T0)) s"
echo "RESULT fastpath router_vs_kernel_64=$rk router_vs_vm_64=$rv nat_vs_kernel_64=$rn fw_vs_kernel_64=$rf chain6_kept_pct=$kept"
