#!/bin/sh
# kill -9 of sncd in the middle of creates; restart must leave each slice
# fully recorded or absent, with capacity accounting that matches.
. "$(dirname "$0")/lib.sh"
command -v sqlite3 > /dev/null || fail "sqlite3 CLI missing"

# A roomy two-VNode topology so many slices fit.
cat > "$T/topo.xml" <<'XML'
<topology name="roomy" xmlns="urn:vnode:topology:1">
  <vnode name="vn1" address="198.18.1.1" mgmt="198.19.0.11">
    <redirector port-bandwidth="100Gbit"/>
    <programmer fastpath-slots="1000" vcpus="1000" memory="1TiB"/></vnode>
  <vnode name="vn2" address="198.18.2.1" mgmt="198.19.0.12">
    <redirector port-bandwidth="100Gbit"/>
    <programmer fastpath-slots="1000" vcpus="1000" memory="1TiB"/></vnode>
  <router name="core"/>
  <link a="vn1" b="core" bandwidth="100Gbit"/>
  <link a="vn2" b="core" bandwidth="100Gbit"/>
</topology>
XML

# --- deterministic: die after the third committed sliver step ---
start_sncd "$T/topo.xml"
stop_sncd
SNCD_CRASH_AFTER_STEPS=3 start_sncd "$T/topo.xml"
spec s1 "$T/s1.xml"
expect_fail "unavailable" snc_as alice create "$T/s1.xml"
sleep 0.2
kill -0 "$SNCD_PID" 2>/dev/null && fail "sncd survived its crash point"
state=$(sqlite3 "$T/snc.db" "SELECT state FROM slices WHERE name='s1'")
[ "$state" = 0 ] || fail "expected s1 left in state creating (0), got '$state'"
ready=$(sqlite3 "$T/snc.db" "SELECT COUNT(*) FROM slivers WHERE slice='s1' AND state=2")
[ "$ready" = 3 ] || fail "expected 3 ready slivers at the crash, got $ready"
pass "crash left s1 half-built in the store ($ready slivers ready)"

start_sncd "$T/topo.xml"
snc_as ops list | grep -q s1 && fail "half-built slice survived restart"
[ "$(sqlite3 "$T/snc.db" 'SELECT COUNT(*) FROM reservations')" = 0 ] || fail "reservations leaked"
snc_as ops resources | grep -q "^vn1 *1000/1000 *1000/1000 *1TiB/1TiB *100Gbit/100Gbit" || fail "capacity not restored"
grep -q "slice s1 was creating when sncd stopped: rolling back" "$T/sncd.log" || fail "no rollback logged"
pass "restart rolled the interrupted create back"

# --- random: kill -9 while creates stream in ---
for round in 1 2 3; do
    (
        i=0
        while [ $i -lt 200 ]; do
            i=$((i + 1))
            spec "r${round}x$i" "$T/r.$round.$i.xml"
            snc_as alice create "$T/r.$round.$i.xml" > /dev/null 2>&1 || true
        done
    ) &
    loader=$!
    sleep "0.$(( (round * 37) % 9 + 3 ))"
    kill -9 "$SNCD_PID"
    wait "$SNCD_PID" 2>/dev/null || true
    kill "$loader" 2>/dev/null || true
    wait "$loader" 2>/dev/null || true
    start_sncd "$T/topo.xml"

    not_ready=$(sqlite3 "$T/snc.db" "SELECT COUNT(*) FROM slices WHERE state != 1")
    [ "$not_ready" = 0 ] || fail "round $round: $not_ready slices not ready after restart"
    bad=$(sqlite3 "$T/snc.db" "SELECT COUNT(*) FROM slivers WHERE state != 2")
    [ "$bad" = 0 ] || fail "round $round: $bad slivers not ready after restart"
    n=$(sqlite3 "$T/snc.db" "SELECT COUNT(*) FROM slices")
    # Each slice holds one slot on vn1 and one on vn2, plus 1 vCPU somewhere.
    slots=$(sqlite3 "$T/snc.db" "SELECT COALESCE(SUM(amount),0) FROM reservations WHERE key='slots:vn1'")
    [ "$slots" = "$n" ] || fail "round $round: $n slices but $slots slots reserved on vn1"
    free=$((1000 - n))
    snc_as ops resources | grep -q "^vn1 *$free/1000 " || {
        snc_as ops resources; fail "round $round: sncd reports other than $free free slots"; }
    # Every listed slice is complete: 3 nodes and 2 links.
    snc_as ops list | awk 'NR > 1 && ($3 != "ready" || $4 != 3 || $5 != 2) { bad = 1 } END { exit bad }' \
        || fail "round $round: incomplete slice listed"
    pass "round $round: killed with $n slices recorded; restart consistent"
done
alive
