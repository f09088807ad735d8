#!/bin/sh
# Every invalid spec of the corpus gets its precise error through the CLI,
# and sncd keeps serving. Includes topology-dependent cases (unknown VNodes,
# over-capacity) that only the embedder can refuse.
. "$(dirname "$0")/lib.sh"
start_sncd "$ROOT/testbed/topologies/small.xml"
n=0
for f in "$ROOT"/tests/specs/invalid/*.xml; do
    exp="${f%.xml}.expect"
    [ -f "$exp" ] || fail "missing $exp"
    want=$(cat "$exp")
    expect_fail "$want" snc_as alice validate "$f"
    expect_fail "$want" snc_as alice create "$f"
    n=$((n + 1))
done
[ "$n" -ge 30 ] || fail "only $n invalid specs in the corpus"
alive
snc_as ops list | awk 'NR > 1' | grep -q . && fail "an invalid spec created a slice"
pass "$n invalid specs refused with the expected message; sncd alive"
