#!/bin/sh
# sncd driven through the snc CLI: validate, create, list, show, resources,
# delete, ownership and the operator role, JSON/XML output.
. "$(dirname "$0")/lib.sh"
start_sncd "$ROOT/testbed/topologies/small.xml"

spec exp1 "$T/exp1.xml" 300Mbit
snc_as alice validate "$T/exp1.xml" > "$T/out" || fail "validate"
grep -q "can be embedded now" "$T/out" || fail "validate output"
grep -q "vn1~core,vn2~core" "$T/out" || fail "validate shows no path"
pass "validate"

snc_as alice create "$T/exp1.xml" > "$T/out" || fail "create"
grep -q "state ready" "$T/out" || fail "create output: $(cat "$T/out")"
grep -q "link:l1:a" "$T/out" || fail "slivers not shown"
pass "create"

snc_as alice list > "$T/out"
grep -q "^exp1 *alice *ready *3 *2" "$T/out" || { cat "$T/out"; fail "list"; }
snc_as bob list > "$T/out"
grep -q exp1 "$T/out" && fail "bob sees alice's slice"
snc_as ops list | grep -q "^exp1" || fail "operator does not see the slice"
expect_fail "no slice 'exp1' of yours" snc_as bob show exp1
expect_fail "no slice 'exp1' of yours" snc_as bob delete exp1
pass "ownership"

snc_as alice show exp1 > "$T/out"
grep -q "^r1 *fastpath *vn1 *ready" "$T/out" || { cat "$T/out"; fail "show nodes"; }
grep -q "^l1 .*300Mbit" "$T/out" || { cat "$T/out"; fail "show links"; }
snc_as alice --json show exp1 > "$T/out"
grep -q '"name":"exp1"' "$T/out" || grep -q '"name": *"exp1"' "$T/out" || { cat "$T/out"; fail "json"; }
snc_as alice --xml show exp1 | tr -d '\r\n' | grep -q "<member><name>owner</name><value><string>alice</string>" || fail "xml output"
pass "show, --json, --xml"

snc_as alice resources > "$T/out"
grep -q "^vn1 *7/8 *3/4 *4032MiB/4GiB *690Mbit/1Gbit" "$T/out" || { cat "$T/out"; fail "resources after create"; }

expect_fail "slice name 'exp1' is taken" snc_as bob create "$T/exp1.xml"
spec big "$T/big.xml" 800Mbit
expect_fail "redirector port has 690Mbit of 1Gbit free, the link needs 800Mbit" \
    snc_as bob validate "$T/big.xml"
expect_fail "no-capacity (108)" snc_as bob create "$T/big.xml"
snc_as ops list | grep -q "^big" && fail "refused slice recorded"
pass "refusals"

snc_as alice delete exp1 | grep -q "slice exp1 deleted" || fail "delete"
snc_as alice list | grep -q exp1 && fail "deleted slice still listed"
snc_as alice resources | grep -q "^vn1 *8/8 *4/4 *4GiB/4GiB *1Gbit/1Gbit" || fail "capacity not freed"
pass "delete frees capacity"

expect_fail "unauthenticated" "$BIN/snc" --url "unix:$T/sncd.sock" list
echo wrong > "$T/wrong.token"
expect_fail "unauthenticated" "$BIN/snc" --url "unix:$T/sncd.sock" --token-file "$T/wrong.token" list
expect_fail "unknown command" snc_as alice frobnicate
alive
pass "auth and usage errors"
