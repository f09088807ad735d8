/* gre: GRE-in-IPv4 encapsulation of Ethernet frames. See gre.h. */
#include "gre.h"

#include <string.h>

#define ETH_P_IPV4 0x0800

/* GRE flags/version word (RFC 2784 section 2, RFC 2890 section 2). */
#define GRE_F_CSUM 0x8000
#define GRE_F_ROUTING 0x4000
#define GRE_F_KEY 0x2000
#define GRE_F_SEQ 0x1000
#define GRE_F_STRICT 0x0800
#define GRE_F_RECUR 0x0700
#define GRE_F_RESERVED 0x00f8
#define GRE_VERSION 0x0007

#define IP_F_MF 0x2000
#define IP_FRAG_OFFSET 0x1fff
#define IP_TTL 64

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
           p[3];
}

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

uint16_t gre_inet_csum(const void *data, size_t len, uint32_t sum)
{
    const uint8_t *p = data;
    uint64_t acc = sum;

    for (; len >= 2; p += 2, len -= 2)
        acc += get16(p);
    if (len)
        acc += (uint32_t)p[0] << 8;
    while (acc >> 16)
        acc = (acc & 0xffff) + (acc >> 16);
    return (uint16_t)~acc;
}

int gre_encap_hdr(uint8_t *hdr, const struct gre_tunnel *t, uint16_t ip_id,
                  size_t inner_len)
{
    uint8_t *ip = hdr + GRE_ETH_HLEN, *gre = ip + GRE_IP_HLEN;

    if (inner_len > GRE_MAX_INNER)
        return -1;
    memcpy(hdr, t->dst_mac, 6);
    memcpy(hdr + 6, t->src_mac, 6);
    put16(hdr + 12, ETH_P_IPV4);

    ip[0] = 0x45; /* version 4, IHL 5 */
    ip[1] = 0;    /* DSCP/ECN */
    put16(ip + 2, (uint16_t)(GRE_IP_HLEN + GRE_HLEN + inner_len));
    put16(ip + 4, ip_id);
    put16(ip + 6, 0); /* DF off, not a fragment */
    ip[8] = IP_TTL;
    ip[9] = GRE_IPPROTO;
    put16(ip + 10, 0);
    memcpy(ip + 12, &t->src_ip, 4); /* already network order */
    memcpy(ip + 16, &t->dst_ip, 4);
    put16(ip + 10, gre_inet_csum(ip, GRE_IP_HLEN, 0));

    put16(gre, GRE_F_KEY); /* version 0, only the key present */
    put16(gre + 2, GRE_PROTO_TEB);
    put32(gre + 4, t->key);
    return 0;
}

int gre_encap(uint8_t *out, size_t out_cap, const struct gre_tunnel *t,
              uint16_t ip_id, const uint8_t *inner, size_t inner_len)
{
    if (inner_len == 0 || inner_len > GRE_MAX_INNER ||
        out_cap < GRE_ENCAP_OVERHEAD + inner_len)
        return -1;
    if (gre_encap_hdr(out, t, ip_id, inner_len) < 0)
        return -1;
    memcpy(out + GRE_ENCAP_OVERHEAD, inner, inner_len);
    return (int)(GRE_ENCAP_OVERHEAD + inner_len);
}

/* Validates the IPv4 header at 'ip' ('avail' bytes to the end of the
 * frame). On success sets *ip_len (total length) and *hlen. */
static enum gre_err check_ipv4(const uint8_t *ip, size_t avail, size_t *ip_len,
                               size_t *hlen)
{
    size_t ihl, total;
    uint16_t frag;

    if (avail < GRE_IP_HLEN)
        return GRE_ERR_SHORT;
    ihl = (size_t)(ip[0] & 0x0f) * 4;
    total = get16(ip + 2);
    if ((ip[0] >> 4) != 4 || ihl < GRE_IP_HLEN || ihl > avail || total < ihl ||
        total > avail)
        return GRE_ERR_IP_HEADER;
    if (gre_inet_csum(ip, ihl, 0) != 0)
        return GRE_ERR_IP_CSUM;
    frag = get16(ip + 6);
    if (frag & (IP_F_MF | IP_FRAG_OFFSET))
        return GRE_ERR_FRAGMENT;
    if (ip[9] != GRE_IPPROTO)
        return GRE_ERR_NOT_GRE;
    *ip_len = total;
    *hlen = ihl;
    return GRE_OK;
}

enum gre_err gre_decap(const uint8_t *frame, size_t len, struct gre_decap *out)
{
    const uint8_t *ip, *gre;
    size_t ip_len = 0, ihl = 0, gre_len, off;
    uint16_t flags;
    enum gre_err err;

    memset(out, 0, sizeof(*out));
    if (len < GRE_ETH_HLEN + GRE_IP_HLEN + 4)
        return GRE_ERR_SHORT;
    if (get16(frame + 12) != ETH_P_IPV4)
        return GRE_ERR_NOT_IPV4;
    ip = frame + GRE_ETH_HLEN;
    err = check_ipv4(ip, len - GRE_ETH_HLEN, &ip_len, &ihl);
    if (err != GRE_OK)
        return err;
    gre = ip + ihl;
    gre_len = ip_len - ihl; /* GRE header + payload, bounded by the frame */
    if (gre_len < 4)
        return GRE_ERR_SHORT;
    flags = get16(gre);
    if (flags & GRE_VERSION)
        return GRE_ERR_GRE_VERSION;
    if (flags & (GRE_F_ROUTING | GRE_F_STRICT | GRE_F_RECUR | GRE_F_RESERVED))
        return GRE_ERR_GRE_FLAGS;
    off = 4;
    if (flags & GRE_F_CSUM) {
        /* Checksum and Reserved1 (RFC 2784 2.5): the sum covers the GRE
         * header and payload with the checksum field in place. */
        if (gre_len < off + 4)
            return GRE_ERR_SHORT;
        if (gre_inet_csum(gre, gre_len, 0) != 0)
            return GRE_ERR_GRE_CSUM;
        off += 4;
    }
    if (!(flags & GRE_F_KEY))
        return GRE_ERR_NO_KEY;
    if (gre_len < off + 4)
        return GRE_ERR_SHORT;
    out->key = get32(gre + off);
    off += 4;
    if (flags & GRE_F_SEQ) {
        if (gre_len < off + 4)
            return GRE_ERR_SHORT;
        out->has_seq = 1;
        out->seq = get32(gre + off);
        off += 4;
    }
    if (get16(gre + 2) != GRE_PROTO_TEB)
        return GRE_ERR_PROTO;
    if (gre_len - off < GRE_ETH_HLEN)
        return GRE_ERR_INNER_SHORT;
    memcpy(&out->src_ip, ip + 12, 4);
    memcpy(&out->dst_ip, ip + 16, 4);
    out->inner = gre + off;
    out->inner_len = gre_len - off;
    return GRE_OK;
}

const char *gre_err_name(enum gre_err err)
{
    static const char *const names[GRE_N_ERR] = {
        [GRE_OK] = "ok",
        [GRE_ERR_SHORT] = "short",
        [GRE_ERR_NOT_IPV4] = "not-ipv4",
        [GRE_ERR_IP_HEADER] = "ip-header",
        [GRE_ERR_IP_CSUM] = "ip-csum",
        [GRE_ERR_FRAGMENT] = "fragment",
        [GRE_ERR_NOT_GRE] = "not-gre",
        [GRE_ERR_GRE_VERSION] = "gre-version",
        [GRE_ERR_GRE_FLAGS] = "gre-flags",
        [GRE_ERR_GRE_CSUM] = "gre-csum",
        [GRE_ERR_NO_KEY] = "no-key",
        [GRE_ERR_PROTO] = "gre-proto",
        [GRE_ERR_INNER_SHORT] = "inner-short",
    };

    if ((unsigned)err >= GRE_N_ERR)
        return "unknown";
    return names[err];
}
