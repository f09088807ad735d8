/* fp_l3: the IPv4 host side shared by the router and NAT modules (module-
 * private: not part of the API shipped to slice developers).
 *
 * Holds the module's addresses on its ports and its ARP cache, and does
 * what every IPv4 node does: answers ARP requests for its addresses on the
 * port they are on, learns neighbours from requests and replies (RFC 826
 * merge), resolves next hops with broadcast requests (1 s apart, 3 tries)
 * while up to 4 packets per next hop (32 in all) wait, keeps resolved
 * entries 300 s (refreshed by a new request after 240 s of use), answers
 * ICMP echo to its addresses and sends rate-limited ICMP errors (at most
 * 100 a second). The ARP cache is 64 buckets x 4 ways.
 *
 * Addresses are in host byte order unless a name says otherwise. */
#ifndef FP_L3_H
#define FP_L3_H

#include <stdbool.h>
#include <stdint.h>

#include "vnode_module.h"

#define FP_L3_MAX_ADDRS 32

struct fp_l3_addr {
    uint32_t ip;
    int plen;
    uint16_t port;
};

struct fp_l3;

/* A host side over the ports of 'env' (borrowed; must outlive it). 'who'
 * (a static string, e.g. "router") starts error messages. NULL if out of
 * memory. */
struct fp_l3 *fp_l3_new(const struct vnode_env *env, const char *who);
/* NULL is accepted. */
void fp_l3_free(struct fp_l3 *l);

/* Parses "PORT:A.B.C.D/LEN" and adds the address. Returns 0 (and *out if
 * not NULL), or -1 with *err set (caller frees). */
int fp_l3_add_address(struct fp_l3 *l, const char *value,
                      struct fp_l3_addr *out, char **err);
/* Adds 'ip'/'plen' on 'port' (e.g. a NAT's external address). Returns 0, or
 * -1 with *err set if it is already there or the table is full. */
int fp_l3_add(struct fp_l3 *l, uint32_t ip, int plen, uint16_t port,
              char **err);
/* Index of local address 'ip' (any port), or -1. */
int fp_l3_local(const struct fp_l3 *l, uint32_t ip);
const struct fp_l3_addr *fp_l3_addr(const struct fp_l3 *l, int i);
int fp_l3_n_addrs(const struct fp_l3 *l);
/* Our address on 'port' to speak from toward 'peer': one in the same
 * subnet, else the first one on the port, else 0. */
uint32_t fp_l3_source_for(const struct fp_l3 *l, uint16_t port, uint32_t peer);
/* ICMP errors (time exceeded, unreachable) on or off (default on). */
void fp_l3_set_icmp_errors(struct fp_l3 *l, bool on);

/* True if frame 'p' is addressed to the MAC of its input port. */
bool fp_l3_for_us(const struct fp_l3 *l, const struct vnode_pkt *p,
                  const struct vnode_meta *m);

/* An ARP frame (VNODE_F_ARP): learns the sender and turns a request for
 * one of our addresses on the input port into the reply, in place
 * (m->out = m->in_port). */
void fp_l3_arp_input(struct fp_l3 *l, struct vnode_pkt *p, struct vnode_meta *m,
                     uint64_t now_ns);
/* An IPv4 packet to one of our addresses: an ICMP echo request becomes the
 * reply, in place, out of the input port; anything else stays dropped. */
void fp_l3_local_input(struct fp_l3 *l, struct vnode_pkt *p,
                       struct vnode_meta *m);
/* Decrements the TTL of IPv4 packet 'p' (which must be > 1) and updates its
 * header checksum incrementally (RFC 1624). */
void fp_l3_ttl_dec(struct vnode_pkt *p, const struct vnode_meta *m);
/* Sends ICMP 'type'/'code' about IPv4 packet 'p' back out of its input port
 * to where it came from (RFC 792: never about ICMP errors, non-first
 * fragments or multicast; rate-limited). */
void fp_l3_icmp_error(struct fp_l3 *l, const struct vnode_pkt *p,
                      const struct vnode_meta *m, uint8_t type, uint8_t code,
                      uint64_t now_ns);
/* Sends IPv4 packet 'p' out of 'port' to neighbour 'nh': rewrites its
 * Ethernet header and sets m->out when 'nh' is resolved; otherwise keeps a
 * copy until it is (m->out stays VNODE_DROP) and asks for it. */
void fp_l3_output(struct fp_l3 *l, struct vnode_pkt *p, struct vnode_meta *m,
                  uint16_t port, uint32_t nh, uint64_t now_ns);
/* ARP retries and ageing; call about once a second. */
void fp_l3_tick(struct fp_l3 *l, uint64_t now_ns);

#endif
