/* fp_flow: a connection-tracking table shared by the NAT and firewall
 * modules (module-private: not part of the API shipped to slice
 * developers).
 *
 * A flow has two keys, like Linux conntrack's tuple pair: key[0] as the
 * packets that opened it look, key[1] as the packets of the other
 * direction look (for a firewall the swap of key[0]; for a NAT the
 * translated reply). Both keys are in one hash index, so a lookup tells the
 * flow and the direction. Timeouts depend on the protocol; a TCP flow that
 * saw a RST, or a FIN each way, is closing and lives FP_FLOW_CLOSING_NS
 * more. Expired flows are removed lazily by lookups and by
 * fp_flow_expire(); time is passed in.
 *
 * Memory is allocated once (max_flows entries, a bucket array of the next
 * power of two >= max_flows): nothing per packet. A full table refuses new
 * flows (no eviction of live ones). */
#ifndef FP_FLOW_H
#define FP_FLOW_H

#include <stdbool.h>
#include <stdint.h>

#include "vnode_module.h"

#define FP_FLOW_CLOSING_NS 10000000000ull /* 10 s after RST / FIN both ways */
#define FP_FLOW_MAX 1048576               /* largest max_flows */

enum { FP_PROTO_ICMP = 1, FP_PROTO_TCP = 6, FP_PROTO_UDP = 17 };

/* The 5-tuple of a packet. Addresses in network order, ports in host
 * order. ICMP echo request and reply: sport = dport = the echo id, so that
 * the swap of a request's key is its reply's key. */
struct fp_flow_key {
    uint32_t src, dst;
    uint16_t sport, dport;
    uint8_t proto;
};

struct fp_flow {
    struct fp_flow_key key[2];
    uint64_t last_ns;    /* last packet, either way */
    uint64_t timeout_ns; /* idle time after which it expires */
    uint32_t chain[2];   /* next entry of each key's hash chain */
    uint8_t used;
    uint8_t fin;      /* bit d: a FIN went in direction d */
    uint8_t closing;  /* RST, or FIN both ways */
    uint16_t aux;     /* the module's (the NAT's external port) */
    uint64_t packets; /* both ways */
};

struct fp_flow_timeouts {
    uint64_t tcp_ns, udp_ns, icmp_ns;
};

struct fp_flow_table;

/* Called for every flow leaving the table (expiry or fp_flow_del), before
 * its slot is reused. */
typedef void fp_flow_release_fn(void *ctx, const struct fp_flow *f);

/* A table of up to 'max_flows' (1..FP_FLOW_MAX) flows. NULL if out of
 * memory or out of range. */
struct fp_flow_table *fp_flow_new(uint32_t max_flows,
                                  const struct fp_flow_timeouts *t,
                                  fp_flow_release_fn *release, void *ctx);
/* NULL is accepted. */
void fp_flow_free(struct fp_flow_table *t);
void fp_flow_set_timeouts(struct fp_flow_table *t,
                          const struct fp_flow_timeouts *to);

/* The live flow with key[0] or key[1] equal to 'k' (*dir says which), or
 * NULL. An expired flow found on the way is removed. */
struct fp_flow *fp_flow_find(struct fp_flow_table *t,
                             const struct fp_flow_key *k, int *dir,
                             uint64_t now_ns);
/* Adds a flow; 'reply' is key[1]. NULL when the table is full (after
 * removing expired flows). The caller makes sure neither key is in use. */
struct fp_flow *fp_flow_add(struct fp_flow_table *t,
                            const struct fp_flow_key *orig,
                            const struct fp_flow_key *reply, uint64_t now_ns);
/* Records a packet of 'f' in direction 'dir' with TCP flags 'tcp_flags'
 * (0 for other protocols): refreshes it and follows TCP closing. */
void fp_flow_touch(struct fp_flow_table *t, struct fp_flow *f, int dir,
                   uint8_t tcp_flags, uint64_t now_ns);
void fp_flow_del(struct fp_flow_table *t, struct fp_flow *f);
/* Removes every expired flow; returns how many. */
uint32_t fp_flow_expire(struct fp_flow_table *t, uint64_t now_ns);
uint32_t fp_flow_count(const struct fp_flow_table *t);

/* The key of IPv4 packet 'p' (meta 'm'): TCP, UDP (8 bytes of header in
 * the packet; TCP needs 20) or ICMP echo request/reply (8). Returns false
 * for anything else (other protocols, other ICMP, non-first fragments,
 * truncated headers). *tcp_flags gets the TCP flags (0 otherwise). */
bool fp_flow_key_of(const struct vnode_pkt *p, const struct vnode_meta *m,
                    struct fp_flow_key *k, uint8_t *tcp_flags);
/* 'k' with source and destination swapped. */
struct fp_flow_key fp_flow_key_swap(const struct fp_flow_key *k);

#define FP_TCP_FIN 0x01
#define FP_TCP_SYN 0x02
#define FP_TCP_RST 0x04
#define FP_TCP_ACK 0x10
#define FP_TCP_HLEN 20
#define FP_UDP_HLEN 8
#define FP_TCP_CSUM 16 /* from the TCP header */
#define FP_UDP_CSUM 6  /* from the UDP header */
#define FP_ICMP_ID 4   /* echo id, from the ICMP header */

#endif
