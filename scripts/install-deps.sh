#!/bin/sh
# Installs the Debian packages the project needs (build, tests, demo, fuzz,
# bench). Quick no-op when everything is already there.
set -eu
PKGS="build-essential pkg-config clang libclang-rt-14-dev xxd
libxml2-dev libxml2-utils libxmlrpc-core-c3-dev xmlrpc-api-utils
libevent-dev libssl-dev openssl libsqlite3-dev sqlite3 libcurl4-openssl-dev
libcmocka-dev libpcap-dev libxdp-dev libbpf-dev iproute2 iptables iperf3 tcpdump tshark procps psmisc curl iputils-ping ethtool"
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed' || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "install-deps: installing$missing"
SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing
