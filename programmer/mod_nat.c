/* mod_nat: stateful NAPT between an inside and an outside port.
 *
 * Parameters (see docs/programmer.md):
 *   inside=PORT, outside=PORT       the two sides (required, distinct)
 *   address=PORT:A.B.C.D/LEN        an address on a port (repeatable; each
 *                                   side needs one): answers ARP and echo
 *   external=A.B.C.D                the public address on the outside
 *                                   (default: the outside port's address)
 *   gateway=A.B.C.D                 next hop for destinations beyond the
 *                                   outside subnet (default: none)
 *   timeout_tcp|udp|icmp=SECONDS    idle timeouts (300, 60, 30)
 *   ports=LOW-HIGH                  external ports / echo ids (20000-59999)
 *   max_flows=N                     flow table size (16384)
 *
 * As a router (fp_l3, shared with the router module) it answers ARP and
 * ICMP echo for its addresses (the external one too), decrements TTLs and
 * sends ICMP time exceeded / net unreachable. Packets from inside to
 * destinations reached through the outside port are translated: TCP/UDP
 * source address and port, ICMP echo source address and id. One flow per
 * 5-tuple (fp_flow: both directions in one hash index); each flow gets its
 * own external port of the protocol's pool, so the pool holds HIGH-LOW+1
 * flows per protocol. Replies are translated back to the inside host.
 * Checksums are updated incrementally (RFC 1624), a UDP checksum of 0 (none)
 * stays 0. Dropped and counted: outside packets without a flow
 * (unsolicited), new flows when the pool or the table is full, non-first
 * fragments (no reassembly: first fragments are translated, the rest of
 * such a datagram never passes), other protocols and ICMP types,
 * malformed packets. Flows expire after their idle timeout (TCP: 10 s
 * after a RST or FINs both ways); time is passed in. */
#include <arpa/inet.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fp_flow.h"
#include "fp_l3.h"
#include "fp_lpm.h"
#include "fp_modules.h"
#include "fp_param.h"
#include "vnode_module.h"
#include "vnode_pkt.h"

#define NS_PER_S 1000000000ull
#define NAT_MAX_TIMEOUT_S (7 * 86400)
#define NAT_POOLS 3 /* TCP, UDP, ICMP */

struct nat_stats {
    uint64_t out_packets, in_packets;
    uint64_t flows_created, flows_expired;
    uint64_t drop_unsolicited, drop_pool, drop_table_full, drop_fragment;
    uint64_t drop_malformed, drop_proto, drop_ttl, drop_noroute;
};

struct nat {
    const struct vnode_env *env;
    struct fp_l3 *l3;
    int inside, outside; /* port indexes, -1 = not given */
    uint32_t external;   /* host order; 0 = the outside port's address */
    uint32_t gateway;    /* host order; 0 = none */
    struct fp_flow_timeouts to;
    uint16_t port_lo, port_hi;
    uint32_t max_flows;
    struct fp_flow_table *flows;          /* made once the parameters are in */
    uint64_t pool[NAT_POOLS][65536 / 64]; /* bit set = external port used */
    uint32_t pool_used[NAT_POOLS], pool_next[NAT_POOLS];
    struct nat_stats st;
};

/* ---- external port pools ---------------------------------------------- */

static int pool_index(uint8_t proto)
{
    return proto == FP_PROTO_TCP ? 0 : proto == FP_PROTO_UDP ? 1 : 2;
}

/* A free external port for 'proto', or -1 if the pool is exhausted. */
static int pool_alloc(struct nat *n, uint8_t proto)
{
    int pi = pool_index(proto);
    uint32_t range = (uint32_t)n->port_hi - n->port_lo + 1;

    if (n->pool_used[pi] >= range)
        return -1;
    for (uint32_t k = 0; k < range; k++) {
        uint32_t off = (n->pool_next[pi] + k) % range;
        uint32_t port = n->port_lo + off;
        uint64_t bit = 1ull << (port % 64);
        if (!(n->pool[pi][port / 64] & bit)) {
            n->pool[pi][port / 64] |= bit;
            n->pool_used[pi]++;
            n->pool_next[pi] = (off + 1) % range;
            return (int)port;
        }
    }
    return -1;
}

static void pool_free(struct nat *n, uint8_t proto, uint16_t port)
{
    int pi = pool_index(proto);
    uint64_t bit = 1ull << (port % 64);

    if (n->pool[pi][port / 64] & bit) {
        n->pool[pi][port / 64] &= ~bit;
        n->pool_used[pi]--;
    }
}

static void on_release(void *ctx, const struct fp_flow *f)
{
    struct nat *n = ctx;

    pool_free(n, f->key[0].proto, f->aux);
    n->st.flows_expired++;
}

/* ---- parameters ------------------------------------------------------- */

static int cfg_port(struct nat *n, const char *key, const char *v, int *out,
                    char **err)
{
    int p = fp_port_by_name(n->env, v, strlen(v));

    if (p < 0) {
        fp_errf(err, "nat: %s '%s': no port named so", key, v);
        return -1;
    }
    *out = p;
    return 0;
}

static int cfg_timeout(struct nat *n, const char *key, const char *v,
                       char **err)
{
    unsigned long s;
    uint64_t *slot = strcmp(key, "timeout_tcp") == 0   ? &n->to.tcp_ns
                     : strcmp(key, "timeout_udp") == 0 ? &n->to.udp_ns
                                                       : &n->to.icmp_ns;

    if (!fp_parse_uint(v, 1, NAT_MAX_TIMEOUT_S, &s)) {
        fp_errf(err, "nat: %s '%s' is not a number of seconds in 1..%d", key, v,
                NAT_MAX_TIMEOUT_S);
        return -1;
    }
    *slot = (uint64_t)s * NS_PER_S;
    if (n->flows != NULL)
        fp_flow_set_timeouts(n->flows, &n->to);
    return 0;
}

/* ports=LOW-HIGH */
static int cfg_ports(struct nat *n, const char *v, char **err)
{
    char buf[16], *dash;
    unsigned long lo, hi;

    if (strlen(v) >= sizeof(buf)) {
        fp_errf(err, "nat: ports '%.20s...' is not LOW-HIGH", v);
        return -1;
    }
    strcpy(buf, v);
    if ((dash = strchr(buf, '-')) == NULL) {
        fp_errf(err, "nat: ports '%s' is not LOW-HIGH (e.g. 20000-59999)", v);
        return -1;
    }
    *dash = '\0';
    if (!fp_parse_uint(buf, 1, 65535, &lo) ||
        !fp_parse_uint(dash + 1, 1, 65535, &hi) || lo > hi) {
        fp_errf(err,
                "nat: ports '%s' is not LOW-HIGH with 1 <= LOW <= HIGH "
                "<= 65535",
                v);
        return -1;
    }
    n->port_lo = (uint16_t)lo;
    n->port_hi = (uint16_t)hi;
    return 0;
}

static int cfg_ip(const char *key, const char *v, uint32_t *out, char **err)
{
    if (!fp_parse_ipv4(v, out) || !fp_unicast_ip(*out)) {
        fp_errf(err, "nat: %s '%s' is not a unicast IPv4 address", key, v);
        return -1;
    }
    return 0;
}

static int apply(struct nat *n, const char *key, const char *v, char **err)
{
    unsigned long l;

    if (strcmp(key, "timeout_tcp") == 0 || strcmp(key, "timeout_udp") == 0 ||
        strcmp(key, "timeout_icmp") == 0)
        return cfg_timeout(n, key, v, err);
    if (n->flows != NULL) {
        fp_errf(err,
                "nat: %s can only be given at start (timeouts can "
                "change later)",
                key);
        return -1;
    }
    if (strcmp(key, "address") == 0)
        return fp_l3_add_address(n->l3, v, NULL, err);
    if (strcmp(key, "inside") == 0)
        return cfg_port(n, key, v, &n->inside, err);
    if (strcmp(key, "outside") == 0)
        return cfg_port(n, key, v, &n->outside, err);
    if (strcmp(key, "external") == 0)
        return cfg_ip(key, v, &n->external, err);
    if (strcmp(key, "gateway") == 0)
        return cfg_ip(key, v, &n->gateway, err);
    if (strcmp(key, "ports") == 0)
        return cfg_ports(n, v, err);
    if (strcmp(key, "max_flows") == 0) {
        if (!fp_parse_uint(v, 1, FP_FLOW_MAX, &l)) {
            fp_errf(err, "nat: max_flows '%s' is not a count in 1..%d", v,
                    FP_FLOW_MAX);
            return -1;
        }
        n->max_flows = (uint32_t)l;
        return 0;
    }
    fp_errf(err,
            "nat has no parameter '%s' (it takes: inside, outside, address, "
            "external, gateway, timeout_tcp, timeout_udp, timeout_icmp, "
            "ports, max_flows)",
            key);
    return -1;
}

/* The index of an address of port 'port' whose subnet holds 'ip', or -1. */
static int on_subnet(const struct nat *n, int port, uint32_t ip)
{
    for (int i = 0; i < fp_l3_n_addrs(n->l3); i++) {
        const struct fp_l3_addr *a = fp_l3_addr(n->l3, i);
        if (a->port == port && ((a->ip ^ ip) & fp_lpm_mask(a->plen)) == 0)
            return i;
    }
    return -1;
}

/* Checks the whole configuration once every parameter is in. */
static int finish(struct nat *n, char **err)
{
    if (n->inside < 0 || n->outside < 0 || n->inside == n->outside) {
        fp_errf(err, "nat needs inside=PORT and outside=PORT, two different "
                     "ports");
        return -1;
    }
    if (fp_l3_source_for(n->l3, (uint16_t)n->inside, 0) == 0 ||
        fp_l3_source_for(n->l3, (uint16_t)n->outside, 0) == 0) {
        fp_errf(err,
                "nat needs an address on each side "
                "(address=%s:A.B.C.D/LEN and address=%s:A.B.C.D/LEN)",
                n->env->ports[n->inside].name, n->env->ports[n->outside].name);
        return -1;
    }
    if (n->external == 0) {
        n->external = fp_l3_source_for(n->l3, (uint16_t)n->outside, 0);
    } else {
        const struct fp_l3_addr *a =
            fp_l3_addr(n->l3, fp_l3_local(n->l3, n->external));
        if (a == NULL &&
            fp_l3_add(n->l3, n->external, 32, (uint16_t)n->outside, err) < 0)
            return -1;
        if (a != NULL && a->port != n->outside) {
            fp_errf(err, "nat: the external address is on the inside port");
            return -1;
        }
    }
    if (n->gateway != 0 && on_subnet(n, n->outside, n->gateway) < 0) {
        fp_errf(err, "nat: gateway is in no subnet of the outside port");
        return -1;
    }
    n->flows = fp_flow_new(n->max_flows, &n->to, on_release, n);
    if (n->flows == NULL) {
        fp_errf(err, "nat: out of memory for %" PRIu32 " flows", n->max_flows);
        return -1;
    }
    return 0;
}

static int nat_configure(void *state, const char *key, const char *value,
                         char **err)
{
    return apply(state, key, value, err);
}

/* ---- translation ------------------------------------------------------ */

/* Rewrites the 32-bit address at 'ip + addr_off' and the 16-bit port (or
 * echo id) at 'l4 + port_off', updating the IP header checksum and the L4
 * checksum at 'l4 + csum_off' incrementally. TCP and UDP checksums cover
 * the address (pseudo header), ICMP's does not; a UDP checksum of 0 means
 * none and stays 0, a computed 0 is sent as 0xffff (RFC 768). */
static void rewrite(uint8_t *ip, int addr_off, uint32_t addr_n, uint8_t *l4,
                    int port_off, uint16_t port, uint8_t proto)
{
    uint8_t old[4], *a = ip + addr_off;
    uint16_t ipc = vnode_rd16(ip + VNODE_IP_CSUM);
    int csum_off = proto == FP_PROTO_TCP   ? FP_TCP_CSUM
                   : proto == FP_PROTO_UDP ? FP_UDP_CSUM
                                           : VNODE_ICMP_CSUM;
    uint16_t l4c = vnode_rd16(l4 + csum_off),
             old_port = vnode_rd16(l4 + port_off);
    bool no_l4csum = proto == FP_PROTO_UDP && l4c == 0;

    memcpy(old, a, 4);
    vnode_wr32n(a, addr_n);
    for (int w = 0; w < 4; w += 2) {
        ipc = vnode_csum_update16(ipc, vnode_rd16(old + w), vnode_rd16(a + w));
        if (proto != FP_PROTO_ICMP)
            l4c = vnode_csum_update16(l4c, vnode_rd16(old + w),
                                      vnode_rd16(a + w));
    }
    vnode_wr16(ip + VNODE_IP_CSUM, ipc);
    vnode_wr16(l4 + port_off, port);
    l4c = vnode_csum_update16(l4c, old_port, port);
    if (no_l4csum)
        return;
    if (proto == FP_PROTO_UDP && l4c == 0)
        l4c = 0xffff;
    vnode_wr16(l4 + csum_off, l4c);
}

/* Why a packet without a flow key is dropped. */
static void count_keyless(struct nat *n, const struct vnode_meta *m)
{
    bool known = m->ip_proto == FP_PROTO_TCP || m->ip_proto == FP_PROTO_UDP ||
                 m->ip_proto == FP_PROTO_ICMP;

    if ((m->flags & VNODE_F_FRAG) && !(m->flags & VNODE_F_L4))
        n->st.drop_fragment++;
    else if (!known ||
             (m->ip_proto == FP_PROTO_ICMP && (m->flags & VNODE_F_L4)))
        n->st.drop_proto++; /* other protocols and ICMP types */
    else
        n->st.drop_malformed++; /* truncated TCP/UDP/ICMP header */
}

/* Next hop toward 'dst' through the outside port, or 0. */
static uint32_t outside_next_hop(const struct nat *n, uint32_t dst)
{
    if (on_subnet(n, n->outside, dst) >= 0)
        return dst;
    return n->gateway;
}

static void outbound(struct nat *n, struct vnode_pkt *p, struct vnode_meta *m,
                     uint64_t now_ns)
{
    uint32_t dst = ntohl(m->ip_dst), nh;
    struct fp_flow_key k, reply;
    struct fp_flow *f;
    uint8_t flags;
    int dir, port;

    if ((m->flags & VNODE_F_FRAG) && !(m->flags & VNODE_F_L4)) {
        n->st.drop_fragment++;
        return;
    }
    if (!fp_flow_key_of(p, m, &k, &flags)) {
        count_keyless(n, m);
        return;
    }
    if ((nh = outside_next_hop(n, dst)) == 0) {
        n->st.drop_noroute++;
        fp_l3_icmp_error(n->l3, p, m, VNODE_ICMP_UNREACH, 0, now_ns);
        return;
    }
    if (m->ip_ttl <= 1) {
        n->st.drop_ttl++;
        fp_l3_icmp_error(n->l3, p, m, VNODE_ICMP_TIME_EXCEEDED, 0, now_ns);
        return;
    }
    f = fp_flow_find(n->flows, &k, &dir, now_ns);
    if (f != NULL && dir != 0)
        return; /* looks like a translated reply coming from inside */
    if (f == NULL) {
        if ((port = pool_alloc(n, k.proto)) < 0) {
            n->st.drop_pool++;
            return;
        }
        reply = (struct fp_flow_key){.src = k.dst,
                                     .dst = htonl(n->external),
                                     .sport = k.dport,
                                     .dport = (uint16_t)port,
                                     .proto = k.proto};
        if (k.proto == FP_PROTO_ICMP)
            reply.sport = (uint16_t)port;
        if ((f = fp_flow_add(n->flows, &k, &reply, now_ns)) == NULL) {
            pool_free(n, k.proto, (uint16_t)port);
            n->st.drop_table_full++;
            return;
        }
        f->aux = (uint16_t)port;
        n->st.flows_created++;
    }
    fp_flow_touch(n->flows, f, 0, flags, now_ns);
    rewrite(p->data + m->l3_off, VNODE_IP_SRC, htonl(n->external),
            p->data + m->l4_off, k.proto == FP_PROTO_ICMP ? FP_ICMP_ID : 0,
            f->aux, k.proto);
    fp_l3_ttl_dec(p, m);
    fp_l3_output(n->l3, p, m, (uint16_t)n->outside, nh, now_ns);
    n->st.out_packets++;
}

static void inbound(struct nat *n, struct vnode_pkt *p, struct vnode_meta *m,
                    uint64_t now_ns)
{
    const uint8_t *l4 = p->data + m->l4_off;
    struct fp_flow_key k;
    struct fp_flow *f;
    uint8_t flags;
    int dir;

    if (ntohl(m->ip_dst) != n->external) {
        n->st.drop_unsolicited++; /* nothing is routed in untranslated */
        return;
    }
    if (m->ip_proto == FP_PROTO_ICMP && (m->flags & VNODE_F_L4) &&
        l4[VNODE_ICMP_TYPE] == VNODE_ICMP_ECHO) {
        fp_l3_local_input(n->l3, p, m); /* pings to the external address */
        return;
    }
    if (!fp_flow_key_of(p, m, &k, &flags)) {
        count_keyless(n, m);
        return;
    }
    f = fp_flow_find(n->flows, &k, &dir, now_ns);
    if (f == NULL || dir != 1) {
        n->st.drop_unsolicited++;
        return;
    }
    if (m->ip_ttl <= 1) {
        n->st.drop_ttl++;
        fp_l3_icmp_error(n->l3, p, m, VNODE_ICMP_TIME_EXCEEDED, 0, now_ns);
        return;
    }
    fp_flow_touch(n->flows, f, 1, flags, now_ns);
    rewrite(p->data + m->l3_off, VNODE_IP_DST, f->key[0].src,
            p->data + m->l4_off, k.proto == FP_PROTO_ICMP ? FP_ICMP_ID : 2,
            f->key[0].sport, k.proto);
    fp_l3_ttl_dec(p, m);
    fp_l3_output(n->l3, p, m, (uint16_t)n->inside, ntohl(f->key[0].src),
                 now_ns);
    n->st.in_packets++;
}

static void handle_ipv4(struct nat *n, struct vnode_pkt *p,
                        struct vnode_meta *m, uint64_t now_ns)
{
    uint32_t dst = ntohl(m->ip_dst);

    if (!fp_l3_for_us(n->l3, p, m))
        return;
    if (!fp_unicast_ip(dst) || !fp_unicast_ip(ntohl(m->ip_src))) {
        n->st.drop_malformed++;
        return;
    }
    if (m->in_port == n->inside) {
        if (fp_l3_local(n->l3, dst) >= 0)
            fp_l3_local_input(n->l3, p, m);
        else
            outbound(n, p, m, now_ns);
    } else if (m->in_port == n->outside) {
        if (dst != n->external && fp_l3_local(n->l3, dst) >= 0)
            fp_l3_local_input(n->l3, p, m);
        else
            inbound(n, p, m, now_ns);
    }
}

static void nat_process(void *state, struct vnode_batch *batch,
                        struct vnode_meta *meta)
{
    struct nat *n = state;

    for (int i = 0; i < batch->n; i++) {
        struct vnode_meta *m = &meta[i];

        m->out = VNODE_DROP;
        if (m->l3_off != VNODE_ETH_HLEN || m->in_port >= n->env->n_ports)
            continue; /* runts and 802.1Q-tagged frames */
        if (m->flags & VNODE_F_ARP)
            fp_l3_arp_input(n->l3, &batch->pkts[i], m, batch->now_ns);
        else if (m->flags & VNODE_F_IPV4)
            handle_ipv4(n, &batch->pkts[i], m, batch->now_ns);
        else if (m->ethertype == VNODE_ETH_P_IPV4)
            n->st.drop_malformed++;
    }
}

static void nat_tick(void *state, uint64_t now_ns)
{
    struct nat *n = state;

    fp_l3_tick(n->l3, now_ns);
    fp_flow_expire(n->flows, now_ns);
}

static size_t nat_stats(void *state, char *buf, size_t len)
{
    const struct nat *n = state;
    const struct nat_stats *s = &n->st;
    int r = snprintf(
        buf, len,
        "out_packets=%" PRIu64 "\nin_packets=%" PRIu64 "\nflows_active=%" PRIu32
        "\nflows_created=%" PRIu64 "\nflows_expired=%" PRIu64
        "\ndrop_unsolicited=%" PRIu64 "\ndrop_pool=%" PRIu64
        "\ndrop_table_full=%" PRIu64 "\ndrop_fragment=%" PRIu64
        "\ndrop_malformed=%" PRIu64 "\ndrop_proto=%" PRIu64
        "\ndrop_ttl=%" PRIu64 "\ndrop_noroute=%" PRIu64 "\n",
        s->out_packets, s->in_packets, fp_flow_count(n->flows),
        s->flows_created, s->flows_expired, s->drop_unsolicited, s->drop_pool,
        s->drop_table_full, s->drop_fragment, s->drop_malformed, s->drop_proto,
        s->drop_ttl, s->drop_noroute);
    return r < 0 ? 0 : (size_t)r;
}

static void nat_fini(void *state)
{
    struct nat *n = state;

    if (n == NULL)
        return;
    fp_flow_free(n->flows);
    fp_l3_free(n->l3);
    free(n);
}

static void *nat_init(const struct vnode_env *env,
                      const struct vnode_param *params, int n_params,
                      char **err)
{
    struct nat *n = calloc(1, sizeof(*n));

    if (n == NULL || (n->l3 = fp_l3_new(env, "nat")) == NULL) {
        nat_fini(n);
        fp_errf(err, "nat: out of memory");
        return NULL;
    }
    n->env = env;
    n->inside = n->outside = -1;
    n->to =
        (struct fp_flow_timeouts){300 * NS_PER_S, 60 * NS_PER_S, 30 * NS_PER_S};
    n->port_lo = 20000;
    n->port_hi = 59999;
    n->max_flows = 16384;
    for (int i = 0; i < n_params; i++) {
        if (apply(n, params[i].key, params[i].value, err) < 0) {
            nat_fini(n);
            return NULL;
        }
    }
    if (finish(n, err) < 0) {
        nat_fini(n);
        return NULL;
    }
    return n;
}

static const char *const nat_keys[] = {
    "inside",  "outside",     "address",     "external",
    "gateway", "timeout_tcp", "timeout_udp", "timeout_icmp",
    "ports",   "max_flows",   NULL};

const struct vnode_module vnode_mod_nat = {
    .abi = VNODE_MODULE_ABI,
    .name = "nat",
    .summary = "stateful NAPT (params: inside=PORT, outside=PORT, "
               "address=PORT:A.B.C.D/LEN, external=A.B.C.D, gateway=A.B.C.D, "
               "timeout_tcp|udp|icmp=SECONDS, ports=LOW-HIGH, max_flows=N)",
    .param_keys = nat_keys,
    .init = nat_init,
    .configure = nat_configure,
    .process = nat_process,
    .tick = nat_tick,
    .fini = nat_fini,
    .stats = nat_stats,
};
