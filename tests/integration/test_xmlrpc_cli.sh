#!/bin/sh
# sncd driven by Debian's independent `xmlrpc` client (xmlrpc-api-utils)
# over HTTP on loopback, authenticating with HTTP Basic (token as password).
. "$(dirname "$0")/lib.sh"
command -v xmlrpc > /dev/null || fail "xmlrpc CLI missing (apt install xmlrpc-api-utils)"
PORT=$((20000 + $$ % 20000))
start_sncd "$ROOT/testbed/topologies/small.xml" --listen "http://127.0.0.1:$PORT"
URL="http://127.0.0.1:$PORT/RPC2"
X() { xmlrpc "$URL" -username alice -password "$(cat "$T/alice.token")" "$@"; }

xmlrpc "$URL" system.listMethods > "$T/out" 2>&1 || { cat "$T/out"; fail "listMethods"; }
for m in slice.validate slice.create slice.get slice.list slice.delete \
         resources.list system.version system.setLogLevel; do
    grep -q "'$m'" "$T/out" || { cat "$T/out"; fail "listMethods lacks $m"; }
done
pass "system.listMethods (anonymous)"

spec exp1 "$T/exp1.xml"
X slice.validate "s/$(cat "$T/exp1.xml")" > "$T/out" 2>&1 || { cat "$T/out"; fail "validate"; }
grep -q "embeddable" "$T/out" || fail "validate result"
X slice.create "s/$(cat "$T/exp1.xml")" > "$T/out" 2>&1 || { cat "$T/out"; fail "create"; }
grep -q "'ready'" "$T/out" || { cat "$T/out"; fail "create result"; }
X slice.get s/exp1 > "$T/out" 2>&1 || fail "get"
grep -q "link:l1:a" "$T/out" || { cat "$T/out"; fail "get result"; }
X slice.list > "$T/out" 2>&1 && grep -q "'exp1'" "$T/out" || fail "list"
X resources.list > "$T/out" 2>&1 && grep -q "'vn1'" "$T/out" || fail "resources"
pass "validate, create, get, list, resources"

expect_fail "no method 'slice.frob'; system.listMethods lists them.  (XML-RPC fault code 103)" X slice.frob
expect_fail "104" X slice.get i/42
expect_fail "104" X slice.get s/a s/b
expect_fail "105" xmlrpc "$URL" slice.list
expect_fail "105" xmlrpc "$URL" -username alice -password nope slice.list
expect_fail "109" X slice.get s/nosuch
expect_fail "106" X system.setLogLevel s/debug
xmlrpc "$URL" -username ops -password "$(cat "$T/ops.token")" system.setLogLevel s/info > /dev/null 2>&1 \
    || fail "operator cannot set the log level"
pass "faults: unknown method, types, arity, auth, not found, forbidden"

X slice.delete s/exp1 > /dev/null 2>&1 || fail "delete"
X slice.list > "$T/out" 2>&1
grep -q "exp1" "$T/out" && fail "still listed after delete"
alive
pass "delete; sncd alive"
