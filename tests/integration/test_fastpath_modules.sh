#!/bin/sh
# Fast-path modules end to end, driven through programmerd's XML-RPC
# interface (Debian's `xmlrpc` CLI, and curl for base64): a NAT sliver and
# a firewall sliver between container slivers on one VNode, checked with
# ping, iperf3 and captures; then modules loaded into the running firewall
# sliver: refusals (not a module, wrong ABI, a constructor that crashes), the
# example module (examples/module, built here with cc) swapped in while a
# ping flood runs (the loss is printed), and a module that crashes in
# process(): its sliver is restarted and reported while the NAT slice's
# traffic goes on. Everything carries the per-run prefix fm$$ and is removed
# on exit, pass or fail (KEEP=1 keeps the temporary directory for a look).
# MAX_SWAP_LOSS (default 10) is how many packets a swap may cost. Run from
# the repository root:
#   env BIN=build/asan/bin sh tests/integration/test_fastpath_modules.sh
set -u
: "${BIN:?BIN must name the directory holding programmerd and fastpath}"
BIN=$(cd "$BIN" && pwd)
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
P=fm$$
VN=$P-vn
PORT=$((20000 + $$ % 20000))
URL=http://127.0.0.1:$PORT/RPC2
T=$(mktemp -d "${TMPDIR:-/tmp}/vnode-fm.XXXXXX")
CG=/sys/fs/cgroup
PD_PID=""
BG=""                      # background commands of the test
MAX_SWAP_LOSS=${MAX_SWAP_LOSS:-10} # packets a module swap may cost
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}

. "$(dirname "$0")/programmerd_lib.sh"

say() { echo "== $*"; }
pass() { echo "ok: $*"; }
fail() {
    echo "FAIL: $*" >&2
    [ -f "$T/pd.log" ] && tail -n 30 "$T/pd.log" >&2
    for f in "$T"/state/*.log; do
        [ -f "$f" ] && { echo "--- $f" >&2; tail -n 15 "$f" >&2; }
    done
    exit 1
}

cleanup() {
    set +e
    for p in $BG; do kill "$p" 2>/dev/null; done
    programmerd_teardown
    [ -n "${KEEP:-}" ] && echo "kept $T" || rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

for tool in xmlrpc ip ping nsenter iperf3 tcpdump curl base64 cc make; do
    command -v $tool > /dev/null || fail "$tool missing"
done
[ -x "$BIN/programmerd" ] && [ -x "$BIN/fastpath" ] || fail "no programmerd/fastpath in $BIN"

# ---- XML-RPC helpers (as in test_programmer.sh) -------------------------
X() { ip netns exec "$VN" xmlrpc "$URL" "$@"; }
xs() { printf '<member><name>%s</name><value><string>%s</string></value></member>' "$1" "$2"; }
xi() { printf '<member><name>%s</name><value><int>%s</int></value></member>' "$1" "$2"; }
xa() { printf '<member><name>%s</name><value><array><data>%s</data></array></value></member>' "$1" "$2"; }
st() { printf '<value><struct>%s</struct></value>' "$1"; }
port() { st "$(xs ifname "$1")$(xs host_port "$2")$(xs address "$3")"; }
param() { st "$(xs key "$1")$(xs value "$2")"; }
route() { st "$(xs to "$1")$(xs via "$2")"; }

# container SLICE ID HOSTPORT ADDRESS ROUTE_TO VIA COMMAND
container() {
    X sliver.create "s/<struct>$(xs slice "$1")$(xs id "$2")$(xs type container)$(xs command "$7")$(xs module '')$(xi vcpus 0)$(xi memory_mib 0)$(xa ports "$(port l1 "$3" "$4")")$(xa routes "$(route "$5" "$6")")$(xa params '')</struct>"
}
# fastpath SLICE ID MODULE HOSTPORT1 HOSTPORT2 PARAMS_XML
fastpath() {
    X sliver.create "s/<struct>$(xs slice "$1")$(xs id "$2")$(xs type fastpath)$(xs command '')$(xs module "$3")$(xi vcpus 0)$(xi memory_mib 0)$(xa ports "$(port l1 "$4" '')$(port l2 "$5" '')")$(xa routes '')$(xa params "$6")</struct>"
}

# Member $3 of sliver $1/$2 in sliver.list.
field() {
    X sliver.list | awk -v slice="$1" -v id="$2" -v key="$3" '
        /Index/ { s = ""; i = "" }
        /Key:/ { k = $0; sub(/.*String: \047/, "", k); sub(/\047.*/, "", k) }
        /Value:/ {
            v = $0; sub(/.*(String|Integer|Boolean): /, "", v); gsub(/\047/, "", v)
            if (k == "slice") s = v
            if (k == "id") i = v
            if (s == slice && i == id && k == key) { print v; exit }
        }'
}

# Counter $3 of running fast-path sliver $1/$2 (sliver.stats).
stat() {
    X sliver.stats "s/$1" "s/$2" > "$T/stats" 2>&1 || { cat "$T/stats"; fail "sliver.stats $1/$2"; }
    sed -n "s/^.*[ ']$3=\([^\\']*\).*/\1/p" "$T/stats" | head -n 1
}

expect_fault() { # expect_fault CODE TEXT CMD...
    code=$1 text=$2
    shift 2
    if "$@" > "$T/out" 2>&1; then
        cat "$T/out" >&2
        fail "expected fault $code ($text)"
    fi
    grep -q "fault code $code" "$T/out" && grep -qF -- "$text" "$T/out" ||
        { cat "$T/out" >&2; fail "wanted fault $code with '$text'"; }
}

in_sl() { ns=$1; shift; ip netns exec "$VN.$ns" "$@"; }

# Waits until $1 (a shell condition) holds, up to $2 tenths of a second.
wait_for() {
    i=0
    until eval "$1"; do
        i=$((i + 1))
        [ $i -lt "$2" ] || return 1
        sleep 0.1
    done
}

# "transmitted received" of a ping output file.
ping_counts() {
    sed -n 's/^\([0-9]*\) packets transmitted, \([0-9]*\) received.*/\1 \2/p' "$1"
}

# ---- the modules ---------------------------------------------------------
say "build examples/module and test modules with cc"
make -s -C "$ROOT/examples/module" VNODE_INCLUDE="$ROOT/programmer" OUT="$T/mod" \
    > "$T/make.log" 2>&1 || { cat "$T/make.log"; fail "examples/module does not build"; }
[ -f "$T/mod/ttlmark.so" ] || fail "no ttlmark.so"
cp "$ROOT/tests/fixtures/crash_module.c" "$T/crash.c"
cat > "$T/oldabi.c" <<'EOF'
#include "vnode_module.h"
const struct vnode_module vnode_module_desc = {.abi = 1, .name = "old"};
EOF
cat > "$T/ctor.c" <<'EOF'
/* Its constructor crashes: must never reach a running fast path. */
#include <signal.h>
#include "vnode_module.h"
__attribute__((constructor)) static void boom(void) { raise(SIGSEGV); }
const struct vnode_module vnode_module_desc = {.abi = VNODE_MODULE_ABI};
EOF
for m in crash oldabi ctor; do
    cc -shared -fPIC -I"$ROOT/programmer" -o "$T/mod/$m.so" "$T/$m.c" \
        > "$T/cc.log" 2>&1 || { cat "$T/cc.log"; fail "cc $m.c"; }
done
echo "not a shared object" > "$T/mod/text.so"
pass "ttlmark.so (make -C examples/module), crash.so, oldabi.so, ctor.so"

# ---- the VNode -----------------------------------------------------------
say "VNode namespace $VN, programmerd on $URL"
ip netns add "$VN" || fail "cannot create $VN"
ip -n "$VN" link set lo up
nsenter --net=/run/netns/"$VN" "$BIN/programmerd" --listen "http://127.0.0.1:$PORT" \
    --vnode "$VN" --fastpath "$BIN/fastpath" --state-dir "$T/state" \
    --log-level debug > "$T/pd.log" 2>&1 &
PD_PID=$!
wait_for 'X system.listMethods > "$T/out" 2>&1' 100 || fail "programmerd does not answer"
for m in sliver.load sliver.load_file sliver.stats; do
    grep -q "'$m'" "$T/out" || fail "listMethods lacks $m"
done
pass "programmerd answers, with sliver.load, sliver.load_file, sliver.stats"

# Slice s1: c1 (inside, 10.1.1.2) - n1 (NAT) - c2 (outside, 198.18.5.2).
# Slice s2: c3 (10.2.1.2) - f1 (firewall, a bump in the wire) - c4 (10.2.1.3).
# Each link is a Linux bridge in the VNode namespace (the redirector's place).
say "slices: s1 = c1 - NAT - c2, s2 = c3 - firewall - c4"
container s1 c1 "$P"a1 10.1.1.2/24 default 10.1.1.1 "sleep 100000" > "$T/out" 2>&1 ||
    { cat "$T/out"; fail "create c1"; }
container s1 c2 "$P"a2 198.18.5.2/24 10.1.1.0/24 198.18.5.1 "iperf3 -s -p 5201" > "$T/out" 2>&1 ||
    { cat "$T/out"; fail "create c2"; }
fastpath s1 n1 nat "$P"n1 "$P"n2 "$(param inside l1)$(param outside l2)$(param address l1:10.1.1.1/24)$(param address l2:198.18.5.1/24)$(param external 198.18.5.10)$(param ports 30000-30999)" \
    > "$T/out" 2>&1 || { cat "$T/out"; fail "create n1 (nat)"; }
container s2 c3 "$P"a3 10.2.1.2/24 10.9.0.0/16 10.2.1.3 "sleep 100000" > "$T/out" 2>&1 ||
    { cat "$T/out"; fail "create c3"; }
container s2 c4 "$P"a4 10.2.1.3/24 10.9.0.0/16 10.2.1.2 \
    "iperf3 -s -p 5201 &amp; iperf3 -s -p 5202 &amp; wait" > "$T/out" 2>&1 ||
    { cat "$T/out"; fail "create c4"; }
FW_PARAMS="$(param rule 10:drop:in:tcp:any:any:any:5201)$(param rule 20:accept:in:icmp:any:any:any:any)$(param rule 30:accept:in:tcp:any:any:10.2.1.3:5202)$(param default drop)$(param stateful on)"
fastpath s2 f1 firewall "$P"f1 "$P"f2 "$FW_PARAMS" > "$T/out" 2>&1 ||
    { cat "$T/out"; fail "create f1 (firewall)"; }
for pair in 1:a1:n1 2:a2:n2 3:a3:f1 4:a4:f2; do
    b=${pair%%:*} rest=${pair#*:}
    ip -n "$VN" link add "$P"b$b type bridge || fail "bridge"
    ip -n "$VN" link set "$P${rest%%:*}" master "$P"b$b || fail "enslave"
    ip -n "$VN" link set "$P${rest#*:}" master "$P"b$b || fail "enslave"
    ip -n "$VN" link set "$P"b$b up
done
pass "6 slivers (2 fast paths: nat, firewall), 4 links"

# ---- NAT -------------------------------------------------------------------
say "NAT: c1 (10.1.1.2) reaches c2 (198.18.5.2) as 198.18.5.10"
in_sl s1.c2 tcpdump -i l1 -n -U -w "$T/c2.pcap" > "$T/tcpdump.log" 2>&1 &
TCPD=$!
BG="$BG $TCPD"
wait_for 'grep -q listening "$T/tcpdump.log"' 50 || fail "tcpdump does not start"
in_sl s1.c1 ping -c 5 -i 0.2 -W 2 198.18.5.2 > "$T/ping" 2>&1 ||
    { cat "$T/ping"; fail "c1 cannot ping c2 through the NAT"; }
pass "c1 pings c2 through the NAT: $(ping_counts "$T/ping" | awk '{print $2 "/" $1}') replies"
in_sl s1.c1 iperf3 -c 198.18.5.2 -p 5201 -t 2 -J > "$T/iperf" 2>&1 ||
    { cat "$T/iperf"; fail "iperf3 c1 -> c2 through the NAT"; }
bps=$(grep -m1 '"bits_per_second"' "$T/iperf" | sed 's/[^0-9.]//g')
awk "BEGIN { exit !($bps > 1000000) }" || fail "iperf3 through the NAT: only $bps bit/s"
pass "iperf3 TCP c1 -> c2 through the NAT: $bps bit/s"
sleep 0.3
kill "$TCPD"
wait "$TCPD" 2>/dev/null
tcpdump -r "$T/c2.pcap" -n 'ip' 2>/dev/null > "$T/c2.txt"
grep -q "IP 198.18.5.10 > 198.18.5.2: ICMP echo request" "$T/c2.txt" ||
    { head "$T/c2.txt"; fail "c2 did not see echo requests from 198.18.5.10"; }
grep -q "IP 198.18.5.10.30[0-9]* > 198.18.5.2.5201: Flags \[S\]" "$T/c2.txt" ||
    { head "$T/c2.txt"; fail "c2 did not see the TCP SYN from 198.18.5.10:30xxx"; }
grep -q "10\.1\.1\." "$T/c2.txt" && fail "an inside address leaked to the outside"
grep -q "Accepted connection from 198.18.5.10" "$T/state/s1.c2.log" ||
    fail "iperf3 server did not see 198.18.5.10"
pass "capture on c2: ICMP and TCP (SYN from port 30xxx) from 198.18.5.10 only; iperf3 server: 'Accepted connection from 198.18.5.10'"

say "NAT: unsolicited traffic from outside is dropped"
u0=$(stat s1 n1 drop_unsolicited)
in_sl s1.c2 ping -c 3 -i 0.2 -W 1 10.1.1.2 > "$T/ping" 2>&1 &&
    fail "c2 reached the inside host 10.1.1.2 directly"
in_sl s1.c2 iperf3 -c 198.18.5.10 -p 5201 -t 1 --connect-timeout 1000 > "$T/iperf" 2>&1 &&
    fail "c2 opened a TCP connection to the external address"
u1=$(stat s1 n1 drop_unsolicited)
[ "$u1" -ge $((u0 + 4)) ] || fail "drop_unsolicited went from $u0 to $u1"
in_sl s1.c2 ping -c 2 -i 0.2 -W 2 198.18.5.10 > "$T/ping" 2>&1 ||
    fail "the NAT does not answer pings to its external address"
pass "ping to 10.1.1.2 and TCP to 198.18.5.10:5201 from outside dropped (drop_unsolicited $u0 -> $u1); the NAT itself answers pings to 198.18.5.10"
echo "   nat counters: $(grep -oE ' (out_packets|in_packets|flows_active|flows_created|drop_[a-z]*)=[0-9]*' "$T/stats" | tr -d '\n')"

# ---- firewall ---------------------------------------------------------------
say "firewall: rules, default drop, stateful replies, ARP"
in_sl s2.c3 ping -c 3 -i 0.2 -W 2 10.2.1.3 > "$T/ping" 2>&1 ||
    { cat "$T/ping"; fail "c3 cannot ping c4 (ICMP accepted in, replies by state)"; }
grep -q "ttl=64" "$T/ping" || fail "the firewall changed the TTL"
pass "c3 pings c4: ARP passes, ICMP accepted by rule 20, replies by state, ttl 64 (frames unchanged)"
in_sl s2.c3 iperf3 -c 10.2.1.3 -p 5201 -t 1 --connect-timeout 1500 > "$T/iperf" 2>&1 &&
    fail "TCP to 5201 passed the firewall"
pass "TCP c3 -> c4:5201 dropped (rule 10)"
in_sl s2.c3 iperf3 -c 10.2.1.3 -p 5202 -t 2 -J > "$T/iperf" 2>&1 ||
    { cat "$T/iperf"; fail "TCP c3 -> c4:5202 (rule 30 + state) failed"; }
bps=$(grep -m1 '"bits_per_second"' "$T/iperf" | sed 's/[^0-9.]//g')
pass "iperf3 TCP c3 -> c4:5202 through the firewall: $bps bit/s (rule 30, replies by state)"
in_sl s2.c4 ping -c 2 -i 0.2 -W 1 10.2.1.2 > "$T/ping" 2>&1 &&
    fail "c4 pinged c3 (out direction, default drop)"
pass "c4 -> c3 ping dropped (direction out, default drop)"
h10=$(stat s2 f1 rule.10.hits) h20=$(stat s2 f1 rule.20.hits) h30=$(stat s2 f1 rule.30.hits)
sh=$(stat s2 f1 state_hits) dh=$(stat s2 f1 default_hits) arp=$(stat s2 f1 nonip_passed)
[ "$h10" -gt 0 ] && [ "$h20" -ge 1 ] && [ "$h30" -gt 0 ] && [ "$sh" -gt 0 ] &&
    [ "$dh" -ge 2 ] && [ "$arp" -gt 0 ] || { cat "$T/stats"; fail "firewall counters"; }
pass "counters (sliver.stats): rule.10.hits=$h10 rule.20.hits=$h20 rule.30.hits=$h30 state_hits=$sh default_hits=$dh nonip_passed=$arp"
kill -USR1 "$(field s2 f1 pid)"
wait_for 'grep -q "module firewall: rule.10.hits=" "$T/state/s2.f1.log"' 30 ||
    fail "SIGUSR1 did not log the module's counters"
pass "SIGUSR1 logs them too"

# ---- modules that must be refused ------------------------------------------
say "loading modules: refusals leave the running module alone"
fpid=$(field s2 f1 pid)
expect_fault 114 "failed its check" X sliver.load_file s/s2 s/f1 "s/$T/mod/text.so"
expect_fault 114 "built against module ABI 1" X sliver.load_file s/s2 s/f1 "s/$T/mod/oldabi.so"
expect_fault 114 "failed its check" X sliver.load_file s/s2 s/f1 "s/$T/mod/ctor.so"
grep -q "SEGV\|signal 11" "$T/out" || { cat "$T/out"; fail "the check's crash is not named"; }
expect_fault 114 "has no parameter 'rule'" X sliver.load_file s/s2 s/f1 "s/$T/mod/ttlmark.so"
expect_fault 114 "cannot read module file" X sliver.load_file s/s2 s/f1 "s/$T/mod/none.so"
expect_fault 114 "only fast-path slivers" X sliver.load_file s/s2 s/c3 "s/$T/mod/ttlmark.so"
expect_fault 109 "no sliver s2/zz" X sliver.load_file s/s2 s/zz "s/$T/mod/ttlmark.so"
kill -0 "$PD_PID" || fail "programmerd died"
[ "$(field s2 f1 pid)" = "$fpid" ] && [ "$(field s2 f1 module)" = firewall ] ||
    fail "a refused module disturbed the firewall"
in_sl s2.c3 ping -c 2 -i 0.2 -W 2 10.2.1.3 > "$T/ping" 2>&1 || fail "no ping after refusals"
ls "$T"/state/*.so 2>/dev/null | grep . && fail "a refused module file was kept"
pass "text file, ABI 1, crashing constructor (checked in a child), wrong params, missing file, container, unknown sliver: faults; firewall pid $fpid untouched"

# ---- swap under load ---------------------------------------------------------
say "swap: ttlmark into the running firewall sliver while a ping flood runs"
fpid=$(field s2 f1 pid)
restarts=$(field s2 f1 restarts)
in_sl s2.c3 ping -f -q -c 1500 -w 60 10.2.1.3 > "$T/flood" 2>&1 &
FLOOD=$!
BG="$BG $FLOOD"
sleep 2
# The 4th argument replaces the params (the firewall's rules mean nothing
# to ttlmark): "" = none.
t0=$(date +%s%N)
X sliver.load_file s/s2 s/f1 "s/$T/mod/ttlmark.so" s/ > "$T/out" 2>&1 || { cat "$T/out"; fail "sliver.load_file ttlmark"; }
t1=$(date +%s%N)
wait "$FLOOD"
set -- $(ping_counts "$T/flood")
[ $# = 2 ] || { cat "$T/flood"; fail "no flood ping summary"; }
lost=$(($1 - $2))
echo "   swap under a ping flood: $1 sent, $2 received, $lost lost; sliver.load_file took $(((t1 - t0) / 1000000)) ms"
[ "$lost" -le "$MAX_SWAP_LOSS" ] || fail "$lost packets lost during the swap (at most $MAX_SWAP_LOSS)"
[ "$(field s2 f1 module)" = ttlmark ] || fail "sliver.list does not show module ttlmark"
[ "$(field s2 f1 pid)" = "$fpid" ] && [ "$(field s2 f1 restarts)" = "$restarts" ] ||
    fail "the swap restarted the process"
in_sl s2.c3 ping -c 2 -i 0.2 -W 2 10.2.1.3 > "$T/ping" 2>&1 || fail "no ping through ttlmark"
grep -q "ttl=63" "$T/ping" || { cat "$T/ping"; fail "ttlmark did not decrement the TTL"; }
in_sl s2.c3 iperf3 -c 10.2.1.3 -p 5201 -t 1 --connect-timeout 2000 > "$T/iperf" 2>&1 ||
    { cat "$T/iperf"; fail "TCP 5201 still blocked after the firewall was replaced"; }
[ "$(stat s2 f1 forwarded_0to1)" -gt 0 ] || fail "ttlmark counters"
grep -q "module firewall replaced by ttlmark" "$T/state/s2.f1.log" || fail "no swap in the fast path's log"
pass "swapped in place (same pid $fpid, restarts $restarts, same ports): module ttlmark, ping ttl 63, TCP 5201 passes now; lost $lost of $1"

say "sliver.load with base64 (curl as the client)"
{
    printf '<?xml version="1.0"?><methodCall><methodName>sliver.load</methodName><params>'
    printf '<param><value><string>s2</string></value></param><param><value><string>f1</string></value></param>'
    printf '<param><value><base64>'
    base64 -w 0 "$T/mod/ttlmark.so"
    printf '</base64></value></param><param><value><string>decrement=off</string></value></param>'
    printf '</params></methodCall>'
} > "$T/load.xml"
ip netns exec "$VN" curl -s -H 'Content-Type: text/xml' --data-binary @"$T/load.xml" "$URL" > "$T/out" ||
    fail "curl sliver.load"
grep -q "faultCode" "$T/out" && { cat "$T/out"; fail "sliver.load (base64) faulted"; }
grep -q "<string>ttlmark</string>" "$T/out" && grep -q "module-[0-9]*\.so" "$T/out" ||
    { cat "$T/out"; fail "sliver.load answer"; }
[ "$(field s2 f1 pid)" = "$fpid" ] || fail "the base64 load restarted the process"
[ "$(ls "$T"/state/*.so | wc -l)" = 1 ] || { ls "$T/state"; fail "old module files kept"; }
in_sl s2.c3 ping -c 2 -i 0.2 -W 2 10.2.1.3 > "$T/ping" 2>&1 || fail "no ping after the base64 load"
grep -q "ttl=64" "$T/ping" || { cat "$T/ping"; fail "decrement=off did not reach ttlmark"; }
pass "sliver.load (XML-RPC base64 via curl, params decrement=off): swapped again in place (ttl 64 now), one module file kept"

# ---- a module that crashes -----------------------------------------------------
say "a module that crashes in process(): only its sliver is hit"
in_sl s1.c1 ping -c 100 -i 0.05 -W 1 198.18.5.2 > "$T/natping" 2>&1 &
NATPING=$!
BG="$BG $NATPING"
sleep 0.5
X sliver.load_file s/s2 s/f1 "s/$T/mod/crash.so" s/ > "$T/out" 2>&1 || { cat "$T/out"; fail "load crash.so"; }
in_sl s2.c3 ping -c 3 -i 0.3 -W 1 10.2.1.3 > /dev/null 2>&1
wait_for '[ "$(field s2 f1 restarts)" -gt "$restarts" ]' 50 || fail "the crashed fast path was not restarted"
code=$(field s2 f1 exit_code) sig=$(field s2 f1 last_signal) state=$(field s2 f1 state)
if [ "$sig" = 11 ]; then
    how="killed by SIGSEGV (last_signal 11, exit_code $code)"
elif [ "$code" != 0 ] && grep -q "SEGV on unknown address" "$T/state/s2.f1.log"; then
    how="SEGV caught by the sanitizer (exit_code $code)"
else
    fail "no crash reported: exit_code $code, last_signal $sig"
fi
wait "$NATPING"
set -- $(ping_counts "$T/natping")
[ "$1" = 100 ] && [ "$2" = 100 ] || { cat "$T/natping"; fail "the NAT slice lost packets while f1 crashed: $2 of $1"; }
kill -0 "$PD_PID" || fail "programmerd died"
pass "f1 $how, restarts $(field s2 f1 restarts), state $state; NAT slice meanwhile: $2/$1 pings answered"
X sliver.load_file s/s2 s/f1 "s/$T/mod/ttlmark.so" > "$T/out" 2>&1 || { cat "$T/out"; fail "reload ttlmark"; }
wait_for 'in_sl s2.c3 ping -c 1 -W 1 10.2.1.3 > /dev/null 2>&1' 100 || fail "f1 does not recover with ttlmark"
[ "$(field s2 f1 module)" = ttlmark ] || fail "module after recovery"
pass "loading ttlmark again brings f1 back ($(field s2 f1 state), module ttlmark)"

# ---- the end -------------------------------------------------------------------
say "sanitizer reports, cleanup"
for f in "$T"/state/*.log; do
    case $f in
    */s2.f1.log) pat="ERROR: LeakSanitizer\|runtime error" ;; # its SEGV is on purpose
    *) pat="ERROR: AddressSanitizer\|ERROR: LeakSanitizer\|runtime error" ;;
    esac
    grep -q "$pat" "$f" && { grep -m3 "$pat" "$f"; fail "sanitizer report in $f"; }
done
for s in s1/c1 s1/c2 s1/n1 s2/c3 s2/c4 s2/f1; do
    X sliver.delete "s/${s%/*}" "s/${s#*/}" | grep -q TRUE || fail "delete $s"
done
ls "$T"/state/* 2>/dev/null | grep . && fail "files left in the state dir"
ip netns list | grep -q "^$VN\." && fail "sliver namespaces left"
kill "$PD_PID"
wait "$PD_PID"
rc=$?
PD_PID=""
[ $rc -eq 0 ] || fail "programmerd exited $rc"
# (the ctor.so check's own report is quoted in a "module refused" line)
grep -v "module refused" "$T/pd.log" |
    grep -q "ERROR: AddressSanitizer\|ERROR: LeakSanitizer\|runtime error" &&
    fail "sanitizer report in programmerd's log"
pass "no sanitizer report; slivers, module files and programmerd gone"
echo "all fast-path module checks passed"
