/* gre: Ethernet frames in GRE in IPv4 (RFC 2784, key extension of
 * RFC 2890, protocol type 0x6558 "Transparent Ethernet Bridging").
 *
 * Encapsulation writes outer Ethernet + IPv4 (protocol 47, DF off, TTL 64,
 * header checksum) + GRE (K bit, 32-bit key). Decapsulation validates every
 * header field it relies on and never reads past the buffer.
 *
 * Everything here is pure: no globals, no allocation, no I/O, no logging,
 * so gre_decap() can be handed to a fuzzer as it is. */
#ifndef VN_GRE_H
#define VN_GRE_H

#include <stddef.h>
#include <stdint.h>

#define GRE_IPPROTO 47
#define GRE_PROTO_TEB 0x6558 /* Transparent Ethernet Bridging */
#define GRE_ETH_HLEN 14
#define GRE_IP_HLEN 20 /* we never send IP options */
#define GRE_HLEN 8     /* flags/version, protocol, key */
/* Bytes gre_encap() puts before the inner frame. */
#define GRE_ENCAP_OVERHEAD (GRE_ETH_HLEN + GRE_IP_HLEN + GRE_HLEN)
/* Largest inner frame that fits an outer IPv4 packet. */
#define GRE_MAX_INNER (65535 - GRE_IP_HLEN - GRE_HLEN)

/* One tunnel's outer headers. Addresses in network byte order. */
struct gre_tunnel {
    uint8_t dst_mac[6]; /* next hop toward dst_ip */
    uint8_t src_mac[6]; /* our transport interface */
    uint32_t src_ip;    /* our data-plane address */
    uint32_t dst_ip;    /* the remote end */
    uint32_t key;       /* host byte order */
};

/* Writes the GRE_ENCAP_OVERHEAD bytes of outer headers for an inner frame
 * of 'inner_len' bytes into 'hdr'. 'ip_id' is the IPv4 identification.
 * Returns 0, or -1 if inner_len is over GRE_MAX_INNER. */
int gre_encap_hdr(uint8_t *hdr, const struct gre_tunnel *t, uint16_t ip_id,
                  size_t inner_len);

/* Writes outer headers followed by a copy of 'inner' into 'out' ('out_cap'
 * bytes). Returns the outer frame length, or -1 if it does not fit or the
 * inner frame is empty or too long. 'inner' and 'out' must not overlap. */
int gre_encap(uint8_t *out, size_t out_cap, const struct gre_tunnel *t,
              uint16_t ip_id, const uint8_t *inner, size_t inner_len);

/* Why a frame was refused. Stable order: used as a counter index. */
enum gre_err {
    GRE_OK = 0,
    GRE_ERR_SHORT,       /* shorter than Ethernet + IPv4 + GRE minimum */
    GRE_ERR_NOT_IPV4,    /* Ethernet type is not IPv4 */
    GRE_ERR_IP_HEADER,   /* IP version, IHL or total length inconsistent */
    GRE_ERR_IP_CSUM,     /* IPv4 header checksum wrong */
    GRE_ERR_FRAGMENT,    /* MF set or fragment offset non-zero */
    GRE_ERR_NOT_GRE,     /* IP protocol is not 47 */
    GRE_ERR_GRE_VERSION, /* GRE version is not 0 */
    GRE_ERR_GRE_FLAGS,   /* routing, strict route, recursion or reserved */
    GRE_ERR_GRE_CSUM,    /* C bit set and the GRE checksum is wrong */
    GRE_ERR_NO_KEY,      /* K bit clear: we only carry keyed tunnels */
    GRE_ERR_PROTO,       /* protocol type is not 0x6558 */
    GRE_ERR_INNER_SHORT, /* inner frame shorter than an Ethernet header */
    GRE_N_ERR
};

/* What gre_decap() found. Addresses in network byte order. */
struct gre_decap {
    uint32_t src_ip, dst_ip;
    uint32_t key; /* host byte order */
    int has_seq;  /* S bit was set; 'seq' holds the number */
    uint32_t seq;
    const uint8_t *inner; /* points into the decapsulated frame */
    size_t inner_len;     /* bytes, from the IP total length (Ethernet
                             padding after the IP packet is not included) */
};

/* Validates 'frame' (an Ethernet frame of 'len' bytes, borrowed) as a GRE
 * tunnel frame and fills 'out' on success. Reads only frame[0..len). */
enum gre_err gre_decap(const uint8_t *frame, size_t len, struct gre_decap *out);

/* Short stable name of an error ("ip-csum"), "ok" or "unknown". */
const char *gre_err_name(enum gre_err err);

/* Internet checksum (RFC 1071) of 'len' bytes, folded and complemented,
 * starting from the partial sum 'sum'. Useful to callers and tests. */
uint16_t gre_inet_csum(const void *data, size_t len, uint32_t sum);

#endif
