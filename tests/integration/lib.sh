# Shared helpers for integration tests (sourced). Each test gets its own
# directory and sncd; everything it starts is stopped on exit.
# Needs: BIN (directory with sncd and snc).
set -eu
. "$(dirname "$0")/programmerd_lib.sh"  # fastpath_pid
: "${BIN:?BIN must name the directory holding sncd and snc}"
BIN=$(cd "$BIN" && pwd)
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
T=$(mktemp -d "${TMPDIR:-/tmp}/vnode-it.XXXXXX")
PIDS=""
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}

EXTRA_CLEANUP=""   # shell commands a test adds, run first at exit

cleanup() {
    [ -n "$EXTRA_CLEANUP" ] && eval "$EXTRA_CLEANUP"
    for p in $PIDS; do kill "$p" 2>/dev/null || true; done
    for p in $PIDS; do wait "$p" 2>/dev/null || true; done
    rm -rf "$T"
}
trap cleanup EXIT INT TERM

fail() {
    echo "FAIL: $*" >&2
    [ -f "$T/sncd.log" ] && tail -n 20 "$T/sncd.log" >&2
    exit 1
}

pass() { echo "ok: $*"; }

# Writes a users file with alice, bob (researchers) and ops (operator);
# their tokens are in $T/alice.token etc.
make_users() {
    : > "$T/users"
    for u in alice:researcher bob:researcher ops:operator; do
        name=${u%%:*}
        tok=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
        echo "$tok" > "$T/$name.token"
        echo "$name ${u#*:} $tok" >> "$T/users"
    done
}

# start_sncd TOPOLOGY [extra sncd args]: starts sncd on $T/sncd.sock and
# waits until it answers. Sets SNCD_PID.
start_sncd() {  # stale socket from a killed sncd must not count as up
    topo=$1
    shift
    [ -f "$T/users" ] || make_users
    rm -f "$T/sncd.sock"
    "$BIN/sncd" --topology "$topo" --db "$T/snc.db" --users "$T/users" \
        --listen "unix:$T/sncd.sock" --log-level debug --driver record "$@" \
        >> "$T/sncd.log" 2>&1 &
    SNCD_PID=$!
    PIDS="$PIDS $SNCD_PID"
    i=0
    while [ ! -S "$T/sncd.sock" ]; do
        i=$((i + 1))
        [ $i -lt 100 ] || fail "sncd did not start"
        kill -0 "$SNCD_PID" 2>/dev/null || fail "sncd exited at start"
        sleep 0.1
    done
}

stop_sncd() {
    kill "$SNCD_PID" 2>/dev/null || true
    wait "$SNCD_PID" 2>/dev/null || true
}

# snc_as USER ARGS...: runs the CLI as that user.
snc_as() {
    u=$1
    shift
    "$BIN/snc" --url "unix:$T/sncd.sock" --token-file "$T/$u.token" "$@"
}

# expect_fail PATTERN CMD...: the command must fail and print PATTERN.
expect_fail() {
    pat=$1
    shift
    if "$@" > "$T/out" 2>&1; then
        cat "$T/out" >&2
        fail "expected failure with '$pat': $*"
    fi
    grep -qF -- "$pat" "$T/out" || { cat "$T/out" >&2; fail "no '$pat' in output of: $*"; }
}

alive() {  # sncd process up and answering on its Unix socket
    kill -0 "$SNCD_PID" 2>/dev/null || fail "sncd died"
    snc_as ops list > /dev/null || fail "sncd does not answer"
}

# Writes a slice spec: spec NAME FILE [RATE] (two fast-path nodes pinned on
# vn1 and vn2, one link, one container on any VNode).
spec() {
    cat > "$2" <<XML
<?xml version="1.0"?>
<slice name="$1" xmlns="urn:vnode:slice:1">
  <node id="r1" type="fastpath" vnode="vn1"><module name="router"/></node>
  <node id="r2" type="fastpath" vnode="vn2"><module name="router"/></node>
  <node id="c1" type="container"><command>iperf3 -s</command></node>
  <link id="l1" a="r1" b="r2" bandwidth="${3:-100Mbit}"/>
  <link id="l2" a="r2" b="c1" bandwidth="10Mbit"/>
</slice>
XML
}

