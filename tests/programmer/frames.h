/* Frame builders and a capturing module environment for the fast-path
 * tests (header only: each test is one binary). */
#ifndef TESTS_PROGRAMMER_FRAMES_H
#define TESTS_PROGRAMMER_FRAMES_H

#include <arpa/inet.h>
#include <stdint.h>
#include <string.h>

#include "programmer/fp_parse.h"
#include "programmer/vnode_module.h"
#include "programmer/vnode_pkt.h"

#define CAP_MAX 64

/* Frames emitted by a module through cap_env(). */
struct capture {
    int n;
    int port[CAP_MAX];
    uint32_t len[CAP_MAX];
    uint8_t data[CAP_MAX][1600];
};

static inline int cap_emit(void *rt, int port, const uint8_t *frame,
                           uint32_t len)
{
    struct capture *c = rt;

    if (c->n == CAP_MAX || len > sizeof(c->data[0]))
        return -1;
    c->port[c->n] = port;
    c->len[c->n] = len;
    memcpy(c->data[c->n], frame, len);
    c->n++;
    return 0;
}

static inline uint32_t ipv4(int a, int b, int c, int d)
{
    return htonl((uint32_t)a << 24 | (uint32_t)b << 16 | (uint32_t)c << 8 |
                 (uint32_t)d);
}

static inline size_t put_eth(uint8_t *f, const uint8_t *dst, const uint8_t *src,
                             uint16_t type)
{
    memcpy(f + VNODE_ETH_DST, dst, 6);
    memcpy(f + VNODE_ETH_SRC, src, 6);
    vnode_wr16(f + VNODE_ETH_TYPE, type);
    return VNODE_ETH_HLEN;
}

/* An ARP packet (42 bytes, unpadded as Linux sends it). 'spa'/'tpa' in
 * network order. */
static inline uint32_t build_arp(uint8_t *f, const uint8_t *eth_dst,
                                 uint16_t op, const uint8_t *sha, uint32_t spa,
                                 const uint8_t *tha, uint32_t tpa)
{
    static const uint8_t zero[6];
    uint8_t *a = f + put_eth(f, eth_dst, sha, VNODE_ETH_P_ARP);

    vnode_wr16(a, 1);
    vnode_wr16(a + 2, VNODE_ETH_P_IPV4);
    a[4] = 6;
    a[5] = 4;
    vnode_wr16(a + VNODE_ARP_OP, op);
    memcpy(a + VNODE_ARP_SHA, sha, 6);
    vnode_wr32n(a + VNODE_ARP_SPA, spa);
    memcpy(a + VNODE_ARP_THA, tha ? tha : zero, 6);
    vnode_wr32n(a + VNODE_ARP_TPA, tpa);
    return VNODE_ETH_HLEN + VNODE_ARP_LEN;
}

/* An IPv4 packet with protocol 'proto' and 'payload_len' bytes of payload
 * (pattern bytes; for ICMP an echo request header first). Addresses in
 * network order. Returns the frame length. */
static inline uint32_t build_ipv4(uint8_t *f, const uint8_t *dmac,
                                  const uint8_t *smac, uint32_t src,
                                  uint32_t dst, uint8_t ttl, uint8_t proto,
                                  uint16_t payload_len)
{
    uint8_t *ip = f + put_eth(f, dmac, smac, VNODE_ETH_P_IPV4);
    uint8_t *pl = ip + VNODE_IP_HLEN;

    memset(ip, 0, VNODE_IP_HLEN);
    ip[0] = 0x45;
    vnode_wr16(ip + VNODE_IP_TOTLEN, (uint16_t)(VNODE_IP_HLEN + payload_len));
    vnode_wr16(ip + VNODE_IP_ID, 0x1234);
    vnode_wr16(ip + VNODE_IP_FRAG, 0x4000); /* DF */
    ip[VNODE_IP_TTL] = ttl;
    ip[VNODE_IP_PROTO] = proto;
    vnode_wr32n(ip + VNODE_IP_SRC, src);
    vnode_wr32n(ip + VNODE_IP_DST, dst);
    for (int i = 0; i < payload_len; i++)
        pl[i] = (uint8_t)(i * 7 + 3);
    if (proto == VNODE_IPPROTO_ICMP && payload_len >= VNODE_ICMP_HLEN) {
        pl[VNODE_ICMP_TYPE] = VNODE_ICMP_ECHO;
        pl[VNODE_ICMP_CODE] = 0;
        vnode_wr16(pl + VNODE_ICMP_CSUM, 0);
        vnode_wr16(pl + VNODE_ICMP_CSUM, vnode_csum(pl, payload_len));
    }
    vnode_wr16(ip + VNODE_IP_CSUM, vnode_csum(ip, VNODE_IP_HLEN));
    return VNODE_ETH_HLEN + VNODE_IP_HLEN + payload_len;
}

/* ---- L4 frames and an independent checksum reference ------------------- */

/* A plain RFC 1071 sum written independently of vnode_pkt.h (32-bit
 * accumulator, folded once at the end), to check the module's incremental
 * updates against. */
static inline uint16_t ref_fold(uint64_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)sum;
}

static inline uint64_t ref_sum(const uint8_t *p, size_t n)
{
    uint64_t sum = 0;

    for (size_t i = 0; i < n; i++)
        sum += i % 2 == 0 ? (uint64_t)p[i] << 8 : p[i];
    return sum;
}

/* True if the TCP/UDP/ICMP checksum of the IPv4 frame 'f' (no options,
 * no VLAN) verifies; a UDP checksum of 0 counts as "none" (true). */
static inline int l4_csum_ok(const uint8_t *f)
{
    const uint8_t *ip = f + VNODE_ETH_HLEN, *l4 = ip + 20;
    uint16_t tot = vnode_rd16(ip + VNODE_IP_TOTLEN), l4len = tot - 20;
    uint64_t sum;

    if (ip[VNODE_IP_PROTO] == 1)
        return ref_fold(ref_sum(l4, l4len)) == 0xffff;
    if (ip[VNODE_IP_PROTO] == 17 && vnode_rd16(l4 + 6) == 0)
        return 1;
    sum = ref_sum(ip + 12, 8) + ip[VNODE_IP_PROTO] + l4len + ref_sum(l4, l4len);
    return ref_fold(sum) == 0xffff;
}

/* Fills in the L4 checksum of an IPv4 frame made by build_l4 from scratch
 * (reference arithmetic). */
static inline void l4_csum_set(uint8_t *f)
{
    uint8_t *ip = f + VNODE_ETH_HLEN, *l4 = ip + 20;
    uint16_t tot = vnode_rd16(ip + VNODE_IP_TOTLEN), l4len = tot - 20;
    int off = ip[VNODE_IP_PROTO] == 6 ? 16 : ip[VNODE_IP_PROTO] == 17 ? 6 : 2;
    uint64_t sum;
    uint16_t c;

    vnode_wr16(l4 + off, 0);
    if (ip[VNODE_IP_PROTO] == 1)
        sum = ref_sum(l4, l4len);
    else
        sum = ref_sum(ip + 12, 8) + ip[VNODE_IP_PROTO] + l4len +
              ref_sum(l4, l4len);
    c = (uint16_t)~ref_fold(sum);
    if (c == 0 && ip[VNODE_IP_PROTO] == 17)
        c = 0xffff;
    vnode_wr16(l4 + off, c);
}

/* A TCP (proto 6) or UDP (17) packet with ports, 'payload_len' pattern
 * bytes and a correct checksum; TCP gets 'tcp_flags' and a 20-byte header.
 * For ICMP (1), an echo request (or reply if tcp_flags is 1) with id
 * 'sport'. Returns the frame length. */
static inline uint32_t build_l4(uint8_t *f, const uint8_t *dmac,
                                const uint8_t *smac, uint32_t src, uint32_t dst,
                                uint8_t proto, uint16_t sport, uint16_t dport,
                                uint8_t tcp_flags, uint16_t payload_len)
{
    uint16_t hl = proto == 6 ? 20 : 8;
    uint32_t len = build_ipv4(f, dmac, smac, src, dst, 64, proto,
                              (uint16_t)(hl + payload_len));
    uint8_t *l4 = f + VNODE_ETH_HLEN + 20;

    memset(l4, 0, hl);
    if (proto == 1) {
        l4[0] = tcp_flags == 1 ? VNODE_ICMP_ECHO_REPLY : VNODE_ICMP_ECHO;
        vnode_wr16(l4 + 4, sport);
        vnode_wr16(l4 + 6, 7); /* sequence */
    } else {
        vnode_wr16(l4, sport);
        vnode_wr16(l4 + 2, dport);
        if (proto == 6) {
            vnode_wr32n(l4 + 4, htonl(1000));
            l4[12] = 5 << 4;
            l4[13] = tcp_flags;
            vnode_wr16(l4 + 14, 65535);
        } else {
            vnode_wr16(l4 + 4, (uint16_t)(8 + payload_len));
        }
    }
    l4_csum_set(f);
    return len;
}

/* True if the IPv4 header checksum of frame 'f' verifies. */
static inline int ip_csum_ok(const uint8_t *f)
{
    const uint8_t *ip = f + VNODE_ETH_HLEN;
    return vnode_csum_add(0, ip, (size_t)(ip[0] & 0x0f) * 4) == 0xffff;
}

/* Runs 'mod' over 'n' frames received on 'port' at 'now_ns' the way the
 * runtime does (fp_parse first); fills meta[]. */
static inline void run_batch(const struct vnode_module *mod, void *state,
                             uint8_t (*frames)[1600], uint32_t *lens, int n,
                             int port, uint64_t now_ns, struct vnode_meta *meta)
{
    struct vnode_pkt pkts[64];
    struct vnode_batch b = {.pkts = pkts, .n = n, .now_ns = now_ns};

    for (int i = 0; i < n; i++) {
        pkts[i].data = frames[i];
        pkts[i].len = lens[i];
        fp_parse(frames[i], lens[i], (uint16_t)port, &meta[i]);
    }
    mod->process(state, &b, meta);
}

#endif
