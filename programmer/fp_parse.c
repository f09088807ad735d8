/* fp_parse: Ethernet / ARP / IPv4 pre-processing for the fast path. */
#include "fp_parse.h"

#include <string.h>

#include "vnode_pkt.h"

static void parse_ipv4(const uint8_t *data, uint32_t len, struct vnode_meta *m)
{
    const uint8_t *ip = data + m->l3_off;
    uint32_t room = len - m->l3_off;
    uint32_t ihl_bytes, tot;
    uint16_t frag;

    if (room < VNODE_IP_HLEN || (ip[0] >> 4) != 4)
        return;
    ihl_bytes = (uint32_t)(ip[0] & 0x0f) * 4;
    tot = vnode_rd16(ip + VNODE_IP_TOTLEN);
    if (ihl_bytes < VNODE_IP_HLEN || tot < ihl_bytes || tot > room)
        return;
    if (vnode_csum_add(0, ip, ihl_bytes) != 0xffff)
        return;
    m->flags |= VNODE_F_IPV4;
    m->ip_len = (uint16_t)tot;
    m->ip_proto = ip[VNODE_IP_PROTO];
    m->ip_ttl = ip[VNODE_IP_TTL];
    memcpy(&m->ip_src, ip + VNODE_IP_SRC, 4);
    memcpy(&m->ip_dst, ip + VNODE_IP_DST, 4);
    frag = vnode_rd16(ip + VNODE_IP_FRAG);
    if ((frag & 0x3fff) != 0) /* MF flag or a fragment offset */
        m->flags |= VNODE_F_FRAG;
    if ((frag & 0x1fff) == 0 && tot - ihl_bytes >= 8) {
        m->l4_off = (uint16_t)(m->l3_off + ihl_bytes);
        m->flags |= VNODE_F_L4;
    }
}

static void parse_arp(const uint8_t *data, uint32_t len, struct vnode_meta *m)
{
    const uint8_t *a = data + m->l3_off;

    if (len - m->l3_off < VNODE_ARP_LEN)
        return;
    /* htype Ethernet, ptype IPv4, hlen 6, plen 4 */
    if (vnode_rd16(a) != 1 || vnode_rd16(a + 2) != VNODE_ETH_P_IPV4 ||
        a[4] != 6 || a[5] != 4)
        return;
    m->flags |= VNODE_F_ARP;
}

void fp_parse(const uint8_t *data, uint32_t len, uint16_t in_port,
              struct vnode_meta *m)
{
    memset(m, 0, sizeof(*m));
    m->in_port = in_port;
    m->out = VNODE_DROP;
    if (data == NULL || len < VNODE_ETH_HLEN)
        return;
    if (vnode_mac_is_multicast(data + VNODE_ETH_DST)) {
        m->flags |= VNODE_F_MCAST;
        if (vnode_mac_is_broadcast(data + VNODE_ETH_DST))
            m->flags |= VNODE_F_BCAST;
    }
    m->ethertype = vnode_rd16(data + VNODE_ETH_TYPE);
    m->l3_off = VNODE_ETH_HLEN;
    if (m->ethertype == VNODE_ETH_P_VLAN) {
        if (len < VNODE_ETH_HLEN + 4) {
            m->l3_off = 0;
            return;
        }
        m->ethertype = vnode_rd16(data + VNODE_ETH_HLEN + 2);
        m->l3_off = VNODE_ETH_HLEN + 4;
    }
    if (m->ethertype == VNODE_ETH_P_IPV4)
        parse_ipv4(data, len, m);
    else if (m->ethertype == VNODE_ETH_P_ARP)
        parse_arp(data, len, m);
}
