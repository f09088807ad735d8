#!/bin/sh
# sncd over HTTPS with client certificates: the certificate's CN is the
# user; no certificate, or one from another CA, is refused.
. "$(dirname "$0")/lib.sh"
command -v openssl > /dev/null || fail "openssl missing"
P="$T/pki"
mkdir -p "$P"
ossl() { openssl "$@" > /dev/null 2>&1 || fail "openssl $1"; }
mkca() {  # mkca NAME
    ossl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=$1" \
        -keyout "$P/$1.key" -out "$P/$1.pem"
}
mkcert() {  # mkcert CA CN [server]
    ossl req -newkey rsa:2048 -nodes -subj "/CN=$2" -keyout "$P/$2.key" -out "$P/$2.csr"
    if [ "${3:-}" = server ]; then
        printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' > "$P/ext"
    else
        printf 'extendedKeyUsage=clientAuth\n' > "$P/ext"
    fi
    ossl x509 -req -in "$P/$2.csr" -CA "$P/$1.pem" -CAkey "$P/$1.key" \
        -CAcreateserial -days 1 -extfile "$P/ext" -out "$P/$2.pem"
}
mkca testca
mkca otherca
mkcert testca sncd-server server
mkcert testca alice
mkcert testca ops
mkcert otherca mallory

PORT=$((20000 + ($$ + 13) % 20000))
start_sncd "$ROOT/testbed/topologies/small.xml" \
    --listen "https://127.0.0.1:$PORT" --cert "$P/sncd-server.pem" \
    --key "$P/sncd-server.key" --ca "$P/testca.pem" --require-cert
URL="https://127.0.0.1:$PORT"
as() {  # as CN ARGS...
    cn=$1; shift
    "$BIN/snc" --url "$URL" --ca "$P/testca.pem" --cert "$P/$cn.pem" --key "$P/$cn.key" "$@"
}
spec exp1 "$T/exp1.xml"
as alice create "$T/exp1.xml" | grep -q "owner alice" || fail "create over https as alice"
as alice list | grep -q "^exp1 *alice" || fail "list as alice"
as ops list | grep -q "^exp1" || fail "operator by certificate"
pass "client certificate CN is the user"

expect_fail "unavailable" "$BIN/snc" --url "$URL" --ca "$P/testca.pem" list
expect_fail "unavailable" "$BIN/snc" --url "$URL" --ca "$P/testca.pem" \
    --cert "$P/mallory.pem" --key "$P/mallory.key" list
expect_fail "unavailable" "$BIN/snc" --url "$URL" --ca "$P/otherca.pem" \
    --cert "$P/alice.pem" --key "$P/alice.key" list
pass "no certificate, foreign CA, or untrusted server: refused"
as alice delete exp1 > /dev/null || fail "delete"
alive
