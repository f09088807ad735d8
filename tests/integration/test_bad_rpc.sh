#!/bin/sh
# Malformed XML-RPC over HTTP and the Unix socket: faults, never a crash.
. "$(dirname "$0")/lib.sh"
command -v curl > /dev/null || fail "curl missing"
PORT=$((20000 + ($$ + 7) % 20000))
start_sncd "$ROOT/testbed/topologies/small.xml" --listen "http://127.0.0.1:$PORT"
URL="http://127.0.0.1:$PORT/RPC2"
post() {  # post FILE -> response body in $T/resp, HTTP code in $T/code
    curl -s -o "$T/resp" -w '%{http_code}' -H 'Content-Type: text/xml' \
        -H "Authorization: Bearer $(cat "$T/alice.token")" \
        --data-binary "@$1" "$URL" > "$T/code" || true
}
fault() {  # fault CODE FILE
    post "$2"
    tr -d '\r\n' < "$T/resp" | grep -q "<name>faultCode</name><value><i4>$1</i4>" || {
        echo "HTTP $(cat "$T/code")"; cat "$T/resp"; fail "expected fault $1 for $2"; }
}
printf '<?xml version="1.0"?><methodCall><methodName>slice.list</methodName><par' > "$T/trunc"
fault 101 "$T/trunc"
printf 'this is not xml at all' > "$T/garbage"
fault 101 "$T/garbage"
head -c 4096 /dev/urandom > "$T/random"
fault 101 "$T/random"
printf '<?xml version="1.0"?><methodResponse><params/></methodResponse>' > "$T/wrongroot"
fault 101 "$T/wrongroot"
printf '<?xml version="1.0"?><methodCall><methodName>slice.get</methodName><params><param><value><array><data><value><i4>1</i4></value></data></array></value></param></params></methodCall>' > "$T/wrongtype"
fault 104 "$T/wrongtype"
printf '<?xml version="1.0"?><methodCall><methodName>no.such</methodName><params/></methodCall>' > "$T/nomethod"
fault 103 "$T/nomethod"
# Deep nesting.
{ printf '<?xml version="1.0"?><methodCall><methodName>slice.get</methodName><params><param>'
  i=0; while [ $i -lt 2000 ]; do printf '<value><array><data>'; i=$((i+1)); done
  printf '</param></params></methodCall>'; } > "$T/deep"
post "$T/deep"; grep -q faultCode "$T/resp" || fail "deep nesting"
# Over the limit (1 MiB default): a spec string of 2 MiB.
{ printf '<?xml version="1.0"?><methodCall><methodName>slice.validate</methodName><params><param><value><string>'
  head -c 2097152 /dev/zero | tr '\0' 'a'
  printf '</string></value></param></params></methodCall>'; } > "$T/big"
fault 102 "$T/big"
# Far over the limit: cut at the HTTP layer, the connection survives.
head -c 20000000 /dev/zero > "$T/huge"
post "$T/huge"
pass "truncated, garbage, random, wrong root, wrong types, unknown method, deep, oversize"
# A spec that is itself hostile XML inside a valid call.
printf '%s' '<?xml version="1.0"?><methodCall><methodName>slice.validate</methodName><params><param><value><string>&lt;!DOCTYPE x [&lt;!ENTITY a "aaaaaaaaaa"&gt;&lt;!ENTITY b "&amp;a;&amp;a;&amp;a;&amp;a;"&gt;]&gt;&lt;slice name="x" xmlns="urn:vnode:slice:1"&gt;&amp;b;&lt;/slice&gt;</string></value></param></params></methodCall>' > "$T/bomb"
fault 107 "$T/bomb"
# Slowloris-ish: a connection that sends half a request and goes away.
( printf 'POST /RPC2 HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n<?xml' ; sleep 1 ) | \
    timeout 3 curl -s telnet://127.0.0.1:$PORT > /dev/null 2>&1 || true
curl -s -X GET "$URL" -o /dev/null -w '%{http_code}' | grep -q 405 || fail "GET not refused with 405"
alive
pass "sncd alive after all of it"
