#!/bin/sh
# programmerd end to end, driven only through its XML-RPC interface with
# Debian's `xmlrpc` CLI. Builds a VNode namespace, starts programmerd in
# it, creates two container slivers and a fast-path router sliver between
# them (each link stands in for the redirector as a Linux bridge in the
# VNode namespace), pings across the router, checks the cgroup limits,
# kills the fast path and sees it restarted, checks idempotency and faults,
# deletes everything and checks that nothing is left. Everything this test
# makes carries the per-run prefix pg$$ and is removed on exit, pass or
# fail. Run from the repository root: env BIN=build/asan/bin sh THIS
set -u
: "${BIN:?BIN must name the directory holding programmerd and fastpath}"
BIN=$(cd "$BIN" && pwd)
P=pg$$
VN=$P-vn
PORT=$((20000 + $$ % 20000))
URL=http://127.0.0.1:$PORT/RPC2
T=$(mktemp -d "${TMPDIR:-/tmp}/vnode-pg.XXXXXX")
CG=/sys/fs/cgroup
PD_PID=""
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}

. "$(dirname "$0")/programmerd_lib.sh"

say() { echo "== $*"; }
pass() { echo "ok: $*"; }
fail() {
    echo "FAIL: $*" >&2
    [ -f "$T/pd.log" ] && tail -n 30 "$T/pd.log" >&2
    for f in "$T"/state/*.log; do
        [ -f "$f" ] && { echo "--- $f" >&2; tail -n 10 "$f" >&2; }
    done
    exit 1
}

# Removes everything with our prefix, whatever state the test left.
cleanup() {
    set +e
    programmerd_teardown
    rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

for tool in xmlrpc ip ping nsenter; do
    command -v $tool > /dev/null || fail "$tool missing"
done
[ -x "$BIN/programmerd" ] && [ -x "$BIN/fastpath" ] || fail "no programmerd/fastpath in $BIN"

# ---- XML-RPC through the real CLI -------------------------------------
# The Debian CLI (xmlrpc-c 1.33) sends only scalars, so sliver.create gets
# its struct as a string holding the XML-RPC <struct> (programmerd accepts
# both forms).
X() { ip netns exec "$VN" xmlrpc "$URL" "$@"; }
xs() { printf '<member><name>%s</name><value><string>%s</string></value></member>' "$1" "$2"; }
xi() { printf '<member><name>%s</name><value><int>%s</int></value></member>' "$1" "$2"; }
xa() { printf '<member><name>%s</name><value><array><data>%s</data></array></value></member>' "$1" "$2"; }
st() { printf '<value><struct>%s</struct></value>' "$1"; }
port() { st "$(xs ifname "$1")$(xs host_port "$2")$(xs address "$3")"; }
param() { st "$(xs key "$1")$(xs value "$2")"; }
route() { st "$(xs to "$1")$(xs via "$2")"; }

# container ID HOSTPORT ADDRESS ROUTE_TO VIA [COMMAND]
container() {
    X sliver.create "s/<struct>$(xs slice s1)$(xs id "$1")$(xs type container)$(xs command "${6:-sleep 100000}")$(xs module '')$(xi vcpus 1)$(xi memory_mib 64)$(xa ports "$(port l1 "$2" "$3")")$(xa routes "$(route "$4" "$5")")$(xa params '')</struct>"
}
router() {
    X sliver.create "s/<struct>$(xs slice s1)$(xs id r1)$(xs type fastpath)$(xs command '')$(xs module router)$(xi vcpus 1)$(xi memory_mib 0)$(xa ports "$(port l1 "$P"r1 '')$(port l2 "$P"r2 '')")$(xa routes '')$(xa params "$(param address l1:10.0.1.1/24)$(param address l2:10.0.2.1/24)")</struct>"
}

# Value of member $2 of the sliver $1 in sliver.list (CLI output parsed).
field() {
    X sliver.list | awk -v id="$1" -v key="$2" '
        /Index/ { cur = "" }
        /Key:/ { k = $0; sub(/.*String: \047/, "", k); sub(/\047.*/, "", k) }
        /Value:/ {
            v = $0; sub(/.*(String|Integer|Boolean): /, "", v); gsub(/\047/, "", v)
            if (k == "id") cur = v
            if (cur == id && k == key) { print v; exit }
        }'
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

# ---- the VNode ----------------------------------------------------------
say "VNode namespace $VN, programmerd on $URL"
ip netns add "$VN" || fail "cannot create $VN"
ip -n "$VN" link set lo up
# nsenter, not `ip netns exec`: the latter gives its command a private
# mount namespace, and the sliver namespaces would be invisible outside.
nsenter --net=/run/netns/"$VN" "$BIN/programmerd" --listen "http://127.0.0.1:$PORT" \
    --vnode "$VN" --fastpath "$BIN/fastpath" --state-dir "$T/state" \
    --log-level debug > "$T/pd.log" 2>&1 &
PD_PID=$!
i=0
until X system.listMethods > "$T/out" 2>&1; do
    i=$((i + 1))
    [ $i -lt 100 ] || fail "programmerd does not answer"
    kill -0 "$PD_PID" 2>/dev/null || fail "programmerd exited at start"
    sleep 0.1
done
for m in sliver.create sliver.delete sliver.list sliver.restart system.version; do
    grep -q "'$m'" "$T/out" || fail "listMethods lacks $m"
done
pass "programmerd answers system.listMethods"

# ---- slivers ------------------------------------------------------------
say "two containers and a fast-path router between them"
container c1 "$P"h1 10.0.1.2/24 10.0.2.0/24 10.0.1.1 > "$T/out" 2>&1 ||
    { cat "$T/out"; fail "create c1"; }
grep -q "'running'" "$T/out" || { cat "$T/out"; fail "c1 not running"; }
container c2 "$P"h2 10.0.2.2/24 10.0.1.0/24 10.0.2.1 > "$T/out" 2>&1 ||
    { cat "$T/out"; fail "create c2"; }
router > "$T/out" 2>&1 || { cat "$T/out"; fail "create r1"; }
grep -q "'$VN.s1.r1'" "$T/out" || { cat "$T/out"; fail "r1 namespace name"; }
for s in c1 c2 r1; do
    ip netns list | grep -q "^$VN.s1.$s" || fail "no namespace $VN.s1.$s"
done
ip -n "$VN.s1.c1" -br addr show l1 | grep -q 10.0.1.2/24 || fail "c1 address"
ip -n "$VN.s1.c1" route | grep -q "10.0.2.0/24 via 10.0.1.1" || fail "c1 route"
ip -n "$VN.s1.r1" addr show l1 | grep -q "inet" && fail "fast-path port has a kernel address"
pass "namespaces $VN.s1.{c1,c2,r1}, ports, addresses, routes"

# The redirector's place: one bridge per link in the VNode namespace.
for l in 1 2; do
    ip -n "$VN" link add "$P"b$l type bridge || fail "bridge"
    ip -n "$VN" link set "$P"h$l master "$P"b$l || fail "enslave h$l"
    ip -n "$VN" link set "$P"r$l master "$P"b$l || fail "enslave r$l"
    ip -n "$VN" link set "$P"b$l up
done

say "ping through the router"
ping_ok() { # ping_ok FROM DST
    ip netns exec "$VN.s1.$1" ping -c 3 -i 0.3 -W 2 "$2" > "$T/ping" 2>&1 ||
        ip netns exec "$VN.s1.$1" ping -c 3 -i 0.3 -W 2 "$2" > "$T/ping" 2>&1
}
ping_ok c1 10.0.1.1 || { cat "$T/ping"; fail "c1 cannot ping the router"; }
pass "c1 pings the router's address 10.0.1.1 (ARP + ICMP echo in the module)"
ping_ok c1 10.0.2.2 || { cat "$T/ping"; fail "c1 cannot ping c2 through r1"; }
grep -q "ttl=63" "$T/ping" || { cat "$T/ping"; fail "no TTL decrement"; }
pass "c1 pings c2 (10.0.1.2 -> 10.0.2.2) through the fast-path router, ttl 63"
ip netns exec "$VN.s1.c1" ping -c 1 -t 1 -W 2 10.0.2.2 > "$T/ping" 2>&1
grep -q "Time to live exceeded" "$T/ping" || { cat "$T/ping"; fail "no ICMP time exceeded"; }
pass "TTL 1: ICMP time exceeded from the router"
fp=$(fastpath_pid "$VN.s1.r1")
[ "$(ps -o user= -p "$fp")" = nobody ] || fail "fastpath $fp does not run as nobody"
grep -q '^NoNewPrivs:[[:space:]]*1' /proc/"$fp"/status || fail "fastpath without no_new_privs"
pass "fastpath (pid $fp) runs as nobody with no_new_privs"

say "cgroup limits"
c1pid=$(field c1 pid)
[ -n "$c1pid" ] && [ "$c1pid" -gt 0 ] || fail "no pid for c1"
if [ -f "$CG/cgroup.controllers" ]; then # cgroup v2
    d=$CG/vnode/$VN/s1.c1
    [ "$(cat "$d/cpu.max")" = "100000 100000" ] || fail "cpu.max"
    [ "$(cat "$d/memory.max")" = 67108864 ] || fail "memory.max"
    [ "$(cat "$d/pids.max")" = 512 ] || fail "pids.max"
    grep -qx "$c1pid" "$d/cgroup.procs" || fail "c1 not in its cgroup"
else
    [ "$(cat "$CG/cpu/vnode/$VN/s1.c1/cpu.cfs_quota_us")" = 100000 ] || fail "cfs_quota_us"
    [ "$(cat "$CG/cpu/vnode/$VN/s1.c1/cpu.cfs_period_us")" = 100000 ] || fail "cfs_period_us"
    [ "$(cat "$CG/memory/vnode/$VN/s1.c1/memory.limit_in_bytes")" = 67108864 ] || fail "memory limit"
    [ "$(cat "$CG/pids/vnode/$VN/s1.c1/pids.max")" = 512 ] || fail "pids.max"
    for c in cpu memory pids; do
        grep -qx "$c1pid" "$CG/$c/vnode/$VN/s1.c1/cgroup.procs" || fail "c1 not in $c cgroup"
    done
    grep -qx "$fp" "$CG/pids/vnode/$VN/s1.r1/cgroup.procs" || fail "fastpath not in its cgroup"
fi
pass "c1: 1 vcpu (quota 100000/100000 us), 64 MiB, 512 pids; processes inside"

say "fast-path crash and restart"
kill -9 "$fp"
i=0
while :; do
    new=$(fastpath_pid "$VN.s1.r1")
    [ -n "$new" ] && [ "$new" != "$fp" ] && break
    i=$((i + 1))
    [ $i -lt 50 ] || fail "fastpath not restarted"
    sleep 0.1
done
[ "$(field r1 restarts)" = 1 ] || fail "restarts is not 1"
[ "$(field r1 state)" = running ] || fail "r1 not running"
ping_ok c1 10.0.2.2 || { cat "$T/ping"; fail "no ping after the restart"; }
pass "kill -9 $fp: restarted as $new, restarts=1, ping works again"
X sliver.restart s/s1 s/r1 > "$T/out" 2>&1 || { cat "$T/out"; fail "sliver.restart"; }
[ "$(field r1 restarts)" = 2 ] || fail "restarts is not 2 after sliver.restart"
ping_ok c1 10.0.2.2 || fail "no ping after sliver.restart"
pass "sliver.restart: restarts=2, ping works"

say "idempotency and faults"
container c1 "$P"h1 10.0.1.2/24 10.0.2.0/24 10.0.1.1 > "$T/out" 2>&1 || fail "re-create c1"
grep -q "Integer: $c1pid" "$T/out" || { cat "$T/out"; fail "re-create did not report the same c1"; }
pass "identical sliver.create reports the existing sliver (pid $c1pid)"
expect_fault 110 "exists with a different spec" container c1 "$P"h1 10.0.1.3/24 10.0.2.0/24 10.0.1.1
expect_fault 110 "already used by sliver s1/c1" container c9 "$P"h1 10.0.1.3/24 10.0.2.0/24 10.0.1.1
expect_fault 114 "is not a unicast A.B.C.D/LEN" container c9 "$P"h9 10.0.1.300/24 10.0.2.0/24 10.0.1.1
expect_fault 114 "in no subnet" container c9 "$P"h9 10.0.1.3/24 10.0.2.0/24 10.0.7.1
expect_fault 104 "sliver.create expects" X sliver.create i/3
expect_fault 104 "XML-RPC <struct>" X sliver.create "s/<struct><member>"
expect_fault 104 "required" X sliver.create "s/<struct>$(xs slice s1)</struct>"
expect_fault 104 "unknown member" X sliver.create "s/<struct>$(xs slice s1)$(xs id x)$(xs type container)$(xs colour blue)</struct>"
expect_fault 114 "module 'nosuch' is unknown" X sliver.create "s/<struct>$(xs slice s1)$(xs id x)$(xs type fastpath)$(xs module nosuch)$(xa ports "$(port l1 "$P"x '')")</struct>"
expect_fault 114 "no port named 'l7'" X sliver.create "s/<struct>$(xs slice s1)$(xs id x)$(xs type fastpath)$(xs module router)$(xa ports "$(port l1 "$P"x '')")$(xa params "$(param route 10.0.0.0/8:l7)")</struct>"
expect_fault 114 "slow-path VMs" X sliver.create "s/<struct>$(xs slice s1)$(xs id x)$(xs type slowpath)</struct>"
expect_fault 109 "no sliver s1/zz" X sliver.restart s/s1 s/zz
X sliver.delete s/s1 s/zz | grep -q "FALSE" || fail "delete of a missing sliver"
ip netns list | grep -q "^$VN.s1.c9" && fail "a refused create left a namespace"
ip netns list | grep -q "^$VN.s1.x" && fail "a refused create left a namespace"
kill -0 "$PD_PID" || fail "programmerd died"
pass "faults: 110 exists, 114 invalid values, 104 types/members, 109 not found; nothing left"

say "a container whose command ends"
container c3 "$P"h3 10.0.3.2/24 10.0.4.0/24 10.0.3.1 "exit 3" > "$T/out" 2>&1 || fail "create c3"
i=0
until [ "$(field c3 state)" = exited ]; do
    i=$((i + 1))
    [ $i -lt 50 ] || fail "c3 not exited"
    sleep 0.1
done
[ "$(field c3 exit_code)" = 3 ] || fail "c3 exit code"
sleep 0.5
[ "$(field c3 state)" = exited ] || fail "c3 was restarted"
pass "c3 (exit 3): state exited, exit_code 3, not restarted"

say "sanitizer reports in the sliver logs"
if grep -l "ERROR: AddressSanitizer\|ERROR: LeakSanitizer\|runtime error" "$T"/state/*.log 2>/dev/null; then
    fail "sanitizer report in a sliver log"
fi
grep -q "fastpath.*stopped" "$T/state/s1.r1.log" || fail "fastpath did not stop cleanly on sliver.restart"
pass "none (the fast path stopped by sliver.restart exited cleanly)"

say "delete everything"
fpid=$(fastpath_pid "$VN.s1.r1")
for s in c1 c2 r1 c3; do
    X sliver.delete s/s1 s/$s | grep -q TRUE || fail "delete $s"
done
X sliver.list | grep -q "Array of 0 items" || fail "slivers still listed"
ip netns list | grep -q "^$VN\." && { ip netns list; fail "sliver namespaces left"; }
ip -n "$VN" -br link | grep -q "^$P[hr]" && { ip -n "$VN" -br link; fail "host ports left"; }
for pid in $c1pid $fpid; do
    kill -0 "$pid" 2>/dev/null && fail "process $pid survives"
done
ps -eo args | grep -q "^sleep 10000[0]" && fail "container processes left"
ls -d "$CG"/*/vnode/"$VN"/*/ "$CG"/vnode/"$VN"/*/ 2>/dev/null | grep . && fail "cgroups left"
ls "$T/state"/*.log 2>/dev/null | grep . && fail "logs left"
pass "no namespace, host port, process, cgroup or log left"

say "stop programmerd"
kill "$PD_PID"
wait "$PD_PID"
rc=$?
PD_PID=""
[ $rc -eq 0 ] || fail "programmerd exited $rc"
grep -q "ERROR: AddressSanitizer\|ERROR: LeakSanitizer\|runtime error" "$T/pd.log" &&
    fail "sanitizer report in programmerd's log"
[ -d "$CG/cpu/vnode/$VN" ] || [ -d "$CG/vnode/$VN" ] && fail "VNode cgroup left"
[ -d "$T/state" ] && fail "state dir left"
pass "programmerd stopped cleanly (exit 0, no sanitizer report), its cgroup and state dir removed"
echo "all programmerd checks passed"
