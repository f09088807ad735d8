/* plan: the address and routing plan of a testbed, computed from a topology
 * alone (no system calls), so that it can be tested exactly. The testbed
 * tool then builds the plan with iproute2 (see net.c).
 *
 * Nodes are the namespaces: every vnode, router and agw (in topology vertex
 * order, so node v is topology vertex v), then every terminal, then "mgmt"
 * (the management bridge) and "ctl" (the controllers). A node's namespace is
 * "<prefix>-<name>"; the plan does not know the prefix.
 *
 * Addresses (host byte order here, dotted quads in the topology):
 *   transport link i   198.18.128.0/17, the i-th /30: a end .1, b end .2
 *   data address       /32 on lo of vnodes, agws and routers that have one
 *   terminal access    veth a<i>: terminal address/24 on the terminal side;
 *                      the agw side is the gateway (.1 of that /24, .254 when
 *                      the terminal is .1) as /32 "peer" terminal/32, so
 *                      several terminals of one agw never share a subnet
 *                      agws forward, so terminals reach the transport
 *   management         mg0 in each vnode, agw and ctl (198.19.0.1/24), with
 *                      the element's mgmt address /24, bridged in mgmt0
 */
#ifndef TB_PLAN_H
#define TB_PLAN_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "topo.h"

#define TB_LINK_POOL 0xc6128000u /* 198.18.128.0/17: link /30s */
#define TB_LINK_POOL_LEN 17
#define TB_MGMT_NET 0xc6130000u /* 198.19.0.0/24 */
#define TB_MGMT_LEN 24
#define TB_CTL_MGMT 0xc6130001u /* 198.19.0.1, sncd */
#define TB_TERMINAL_POOL                                                       \
    0x64400000u /* 100.64.0.0/16: terminals without address */
#define TB_IP4_STRLEN 16

enum tb_kind { TB_VNODE, TB_ROUTER, TB_AGW, TB_TERMINAL, TB_MGMT, TB_CTL };

struct tb_node {
    const char *name; /* borrowed from the topology, or a literal */
    enum tb_kind kind;
    uint32_t address; /* data address on lo as /32; 0 = none */
    uint32_t mgmt;    /* address on mg0 as /24; 0 = no mg0 */
    bool forward;     /* net.ipv4.ip_forward = 1 (routers and agws) */
    bool drop_gre;    /* iptables INPUT drops IP proto 47 (vnodes) */
};

enum tb_veth_role { TB_TRANSPORT, TB_ACCESS, TB_MGMT_PORT };

/* One veth pair. End 0 of a transport link is the topology link's 'a'; of an
 * access pair the terminal; of a management port the element (end 1 sits in
 * the mgmt node and is enslaved to bridge mgmt0, without address). */
struct tb_veth {
    enum tb_veth_role role;
    int link;       /* topology link index, -1 if not transport */
    size_t node[2]; /* plan node index of each end */
    char ifname[2][IFNAMSIZ];
    uint32_t addr[2]; /* 0 = no address */
    uint8_t plen[2];  /* prefix length of addr */
    uint32_t peer[2]; /* non-zero: addr is point-to-point to peer/32 */
};

/* A static route in one node: dst/plen (0/0 = default) via 'via' on 'dev',
 * with preferred source 'src' (0 = kernel's choice). Sources are the data
 * addresses, so replies never need routes to the link /30s. */
struct tb_route {
    size_t node;
    uint32_t dst;
    uint8_t plen;
    uint32_t via;
    char dev[IFNAMSIZ];
    uint32_t src;
};

struct tb_plan {
    struct tb_node *nodes;
    size_t n_nodes;
    struct tb_veth *veths;
    size_t n_veths;
    struct tb_route *routes;
    size_t n_routes;
};

/* Builds the plan of 't', which must outlive it (names are borrowed).
 * Returns NULL and sets *out (free with tb_plan_free), or a malloc'd message
 * saying what in the topology cannot be built (caller frees). */
char *tb_plan_build(const struct topo *t, struct tb_plan **out);
void tb_plan_free(struct tb_plan *p);

/* Index of the node named 'name', or -1. */
int tb_plan_node_index(const struct tb_plan *p, const char *name);
/* "vnode", "router", ... */
const char *tb_kind_name(enum tb_kind k);

/* Dotted quad of 'addr' (host order) into buf; returns buf. */
char *tb_ip4_str(uint32_t addr, char buf[TB_IP4_STRLEN]);
/* Parses a dotted quad; 0 on success, -1 otherwise. */
int tb_ip4_parse(const char *s, uint32_t *addr);
/* Network mask of a prefix length (0..32), host order. */
uint32_t tb_ip4_mask(unsigned plen);

#endif
