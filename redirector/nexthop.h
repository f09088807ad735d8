/* nexthop: the Ethernet destination of tunnel frames toward each peer.
 *
 * Our tunnel frames bypass the kernel's IP stack, so we ask the kernel
 * what it would do: the longest-prefix route to the peer over the
 * transport interface (/proc/net/route) gives the next hop (the gateway,
 * or the peer itself when on-link), the neighbour table (/proc/net/arp)
 * its MAC. When the kernel has no complete entry, one UDP datagram to the
 * next hop's discard port makes it resolve one. Entries are refreshed
 * every NH_REFRESH_MS (and a datagram is sent then too, so the kernel
 * re-confirms the neighbour and follows a router whose MAC changed).
 * Times are passed in ('now_ms', CLOCK_MONOTONIC milliseconds). */
#ifndef RD_NEXTHOP_H
#define RD_NEXTHOP_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NH_REFRESH_MS 5000
#define NH_RETRY_MS 200 /* an unresolved peer is retried this often */

/* One peer VNode address; shared by the links toward it. */
struct nh_peer {
    uint32_t addr; /* network byte order */
    uint32_t gw;   /* next hop, network byte order; 0: no route */
    uint8_t mac[6];
    bool resolved;
    bool fixed; /* set by nh_set_static(): never refreshed */
    uint64_t checked_ms, kicked_ms;
    int refs;
};

struct nh_table {
    char ifname[IF_NAMESIZE];
    struct nh_peer **peers; /* owned */
    size_t n, cap;
    int udp_fd; /* for resolution datagrams; -1 until needed */
    const char *route_path, *arp_path; /* /proc/net/{route,arp} */
    /* Makes the kernel resolve next hop 'gw' (network order); default: one
     * UDP datagram. Tests count calls instead. */
    void (*kick)(struct nh_table *t, uint32_t gw);
};

/* Pure parsers (tested on their own). Addresses in network byte order.
 * nh_route_lookup: finds the best route to 'dst' leaving via 'ifname' in
 * the text of /proc/net/route; sets *gw to its gateway, or to 'dst' for an
 * on-link route. Returns 0, or -1 if there is no such route. */
int nh_route_lookup(const char *route_text, const char *ifname, uint32_t dst,
                    uint32_t *gw);
/* nh_arp_lookup: finds a complete entry for 'ip' on 'ifname' in the text
 * of /proc/net/arp. Returns 0 and fills 'mac', or -1. */
int nh_arp_lookup(const char *arp_text, const char *ifname, uint32_t ip,
                  uint8_t mac[6]);

void nh_init(struct nh_table *t, const char *ifname);
void nh_fini(struct nh_table *t);

/* Returns the entry for 'addr' with one more reference (creating it
 * unresolved), or NULL when out of memory. */
struct nh_peer *nh_ref(struct nh_table *t, uint32_t addr);
/* Drops a reference; the entry goes with the last one. NULL ok. */
void nh_unref(struct nh_table *t, struct nh_peer *p);

/* Re-reads routes and neighbours for the entries that are due (unresolved
 * ones every NH_RETRY_MS, others every NH_REFRESH_MS) and asks the kernel
 * to resolve what is missing. 'force' refreshes every entry now. */
void nh_refresh(struct nh_table *t, uint64_t now_ms, bool force);

/* Pins 'addr' to 'mac' (tests, or a static configuration). */
int nh_set_static(struct nh_table *t, uint32_t addr, const uint8_t mac[6]);

#endif
