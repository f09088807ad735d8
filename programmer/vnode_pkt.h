/* vnode_pkt: header layouts and checksum helpers for modules (shipped with
 * vnode_module.h). Everything works on bytes in network order through
 * vnode_rd16/vnode_wr16, so frames need no particular alignment. */
#ifndef VNODE_PKT_H
#define VNODE_PKT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define VNODE_ETH_ALEN 6
#define VNODE_ETH_HLEN 14
#define VNODE_ETH_MIN_FRAME                                                    \
    60 /* bytes without FCS; shorter ones get padded                           \
        */
#define VNODE_ETH_P_IPV4 0x0800
#define VNODE_ETH_P_ARP 0x0806
#define VNODE_ETH_P_VLAN 0x8100

/* Ethernet header offsets. */
#define VNODE_ETH_DST 0
#define VNODE_ETH_SRC 6
#define VNODE_ETH_TYPE 12

/* ARP for IPv4 over Ethernet: 28 bytes. */
#define VNODE_ARP_LEN 28
#define VNODE_ARP_OP 6 /* 1 request, 2 reply */
#define VNODE_ARP_SHA 8
#define VNODE_ARP_SPA 14
#define VNODE_ARP_THA 18
#define VNODE_ARP_TPA 24
#define VNODE_ARP_REQUEST 1
#define VNODE_ARP_REPLY 2

/* IPv4 header offsets (from the IPv4 header). */
#define VNODE_IP_HLEN 20 /* without options */
#define VNODE_IP_TOTLEN 2
#define VNODE_IP_ID 4
#define VNODE_IP_FRAG 6
#define VNODE_IP_TTL 8
#define VNODE_IP_PROTO 9
#define VNODE_IP_CSUM 10
#define VNODE_IP_SRC 12
#define VNODE_IP_DST 16
#define VNODE_IPPROTO_ICMP 1

/* ICMP (from the ICMP header). */
#define VNODE_ICMP_HLEN 8
#define VNODE_ICMP_TYPE 0
#define VNODE_ICMP_CODE 1
#define VNODE_ICMP_CSUM 2
#define VNODE_ICMP_ECHO_REPLY 0
#define VNODE_ICMP_UNREACH 3
#define VNODE_ICMP_ECHO 8
#define VNODE_ICMP_TIME_EXCEEDED 11

static inline uint16_t vnode_rd16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static inline void vnode_wr16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

/* Reads/writes 4 bytes as a network-order value (as stored in memory). */
static inline uint32_t vnode_rd32n(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, sizeof(v));
    return v;
}

static inline void vnode_wr32n(uint8_t *p, uint32_t v)
{
    memcpy(p, &v, sizeof(v));
}

/* One's-complement sum of 'len' bytes (RFC 1071), added to 'sum'. */
static inline uint32_t vnode_csum_add(uint32_t sum, const uint8_t *p,
                                      size_t len)
{
    size_t i;

    for (i = 0; i + 1 < len; i += 2)
        sum += vnode_rd16(p + i);
    if (i < len)
        sum += (uint32_t)p[i] << 8;
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return sum;
}

/* The checksum to store for 'len' bytes whose checksum field is zero; a
 * buffer that already holds its correct checksum sums to 0. */
static inline uint16_t vnode_csum(const uint8_t *p, size_t len)
{
    return (uint16_t)~vnode_csum_add(0, p, len);
}

/* Incremental update (RFC 1624, eqn. 3) of checksum 'csum' when one 16-bit
 * word of the covered data changes from 'old' to 'new_'. */
static inline uint16_t vnode_csum_update16(uint16_t csum, uint16_t old,
                                           uint16_t new_)
{
    uint32_t sum = (uint16_t)~csum + (uint32_t)(uint16_t)~old + new_;

    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

static inline int vnode_mac_is_multicast(const uint8_t *mac)
{
    return mac[0] & 1;
}

static inline int vnode_mac_is_broadcast(const uint8_t *mac)
{
    static const uint8_t bc[VNODE_ETH_ALEN] = {0xff, 0xff, 0xff,
                                               0xff, 0xff, 0xff};
    return memcmp(mac, bc, VNODE_ETH_ALEN) == 0;
}

#endif
