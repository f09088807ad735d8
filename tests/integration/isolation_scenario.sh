# The isolation scenario shared by tests/integration/test_isolation.sh and
# bench/isolation.sh (sourced): writes into $T a 2-VNode topology whose
# redirector ports carry PORT_MBIT (topo.xml), and slices A (weight 1,
# 30Mbit guaranteed), B (weight 5, 5Mbit) and C (weight 2, 5Mbit), each a
# sender container on vn1 and an iperf3 server on vn2 joined by link l1
# (A.xml, B.xml, C.xml). Needs T, PORT_MBIT and MGMT1 (vn1's mgmt address).
cat > "$T/topo.xml" <<XML
<?xml version="1.0"?>
<topology name="iso" xmlns="urn:vnode:topology:1">
  <vnode name="vn1" address="198.18.1.1" mgmt="$MGMT1">
    <redirector port-bandwidth="${PORT_MBIT}Mbit"/>
    <programmer fastpath-slots="2" vcpus="8" memory="2GiB"/>
  </vnode>
  <vnode name="vn2" address="198.18.2.1" mgmt="198.19.0.12">
    <redirector port-bandwidth="${PORT_MBIT}Mbit"/>
    <programmer fastpath-slots="2" vcpus="8" memory="2GiB"/>
  </vnode>
  <router name="core" address="198.18.0.1" mgmt="198.19.0.2"/>
  <link a="vn1" b="core" bandwidth="1Gbit"/>
  <link a="vn2" b="core" bandwidth="1Gbit"/>
</topology>
XML
slice_spec() {  # slice_spec NAME WEIGHT GUARANTEE
    cat > "$T/$1.xml" <<XML
<?xml version="1.0"?>
<slice name="$1" xmlns="urn:vnode:slice:1" weight="$2">
  <node id="tx" type="container" vnode="vn1">
    <command>sleep infinity</command>
    <iface link="l1" address="10.0.1.1/24"/>
  </node>
  <node id="rx" type="container" vnode="vn2">
    <command>iperf3 -s</command>
    <iface link="l1" address="10.0.1.2/24"/>
  </node>
  <link id="l1" a="tx" b="rx" bandwidth="$3" ceiling="${PORT_MBIT}Mbit"/>
</slice>
XML
}
slice_spec A 1 30Mbit
slice_spec B 5 5Mbit
slice_spec C 2 5Mbit
