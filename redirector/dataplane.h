/* dataplane: moves frames between link ports and the transport.
 *
 * It runs in the daemon's one libevent loop: each port's AF_PACKET socket
 * is an event, and a ready port is drained in bursts (at most
 * RD_DP_BUDGET frames per wake-up, then the loop serves other ports and
 * RPC). No thread, no lock: an RPC that changes a link runs between two
 * bursts. See docs/redirector.md for why.
 *   port of link (key K, end a|b) -> GRE encap with key K toward the peer
 *                                    -> transport interface
 *   transport -> GRE decap -> key K -> checks (outer source is the peer,
 *                slice of the port) -> port of link K
 *   local link: port <-> local_port, frames unchanged.
 * With a port rate (rd_dp_config.port_rate_bps), every frame toward the
 * transport goes through the port's scheduler (redirector/sched.h): it is
 * copied into a buffer and queued on its link when it comes in, and sent
 * when the scheduler releases it, either right after an input burst or on
 * one timer set from the scheduler's next deadline (RD_DP_SCHED_TICK_US
 * apart at the closest; see docs/redirector.md for the choice). */
#ifndef RD_DATAPLANE_H
#define RD_DATAPLANE_H

#include <stdbool.h>
#include <stdint.h>

#include "fault.h"
#include "gre.h"
#include "sched.h"
#include "table.h"

#define RD_DP_BUDGET 1024 /* frames per port per wake-up */
/* Closest spacing of the scheduler's wake-ups, microseconds. */
#define RD_DP_SCHED_TICK_US 1000

struct event_base;
struct rd_dp;

struct rd_dp_config {
    const char *transport; /* interface toward the transport network */
    uint32_t address;      /* our data-plane address, network order */
    /* pktio spec of a link's port, "%s" = its name. NULL:
     * "afpacket:%s,block_ms=4". Tests map names to pcap files. */
    const char *port_fmt;
    /* The same for the transport; NULL: port_fmt. */
    const char *transport_fmt;
    /* Where the kernel's routes and neighbours are read; NULL: /proc/net/route
     * and /proc/net/arp (tests give files). Borrowed: must outlive dp. */
    const char *route_path, *arp_path;
    /* Rate of the transport port, bits per second: frames toward it are
     * scheduled (paced to it, isolated per slice and link). 0: unlimited,
     * no scheduler, frames go out as they come. */
    uint64_t port_rate_bps;
    uint32_t port_burst_bytes; /* 0: rd_sched_port_burst() */
};

/* Daemon-wide counters: what cannot be charged to one link sliver. */
struct rd_dp_stats {
    uint64_t tr_rx_packets, tr_rx_bytes; /* frames seen on the transport */
    uint64_t tr_tx_packets, tr_tx_bytes; /* GRE frames sent */
    uint64_t drops_decap[GRE_N_ERR];     /* malformed, by reason */
    uint64_t drops_not_ours;             /* outer destination not us */
    uint64_t drops_unknown_key;          /* no link sliver with that key */
    uint64_t drops_no_nexthop;           /* peer's next hop unresolved */
    uint64_t drops_too_big;              /* over the way out's MTU */
    uint64_t ring_drops;    /* lost by the kernel: an RX ring was full */
    uint64_t rx_oversize;   /* skipped by pktio: truncated / GSO frames */
    uint64_t sched_wakeups; /* the scheduler's timer fired */
    uint64_t sched_runs;    /* dequeue rounds (input bursts + timer) */
};

/* 'table' is borrowed and must outlive the data plane. 'base' may be NULL
 * (tests: call rd_dp_poll_*() by hand). Opens the transport port.
 * Returns NULL on failure (logged). */
struct rd_dp *rd_dp_new(struct event_base *base, struct rd_table *table,
                        const struct rd_dp_config *cfg);
/* Detaches every link still attached, closes the transport. NULL ok. */
void rd_dp_free(struct rd_dp *dp);

/* Times are nanoseconds of CLOCK_MONOTONIC (rd_now_ns), passed in so
 * tests are exact; they must not go backwards. */

/* Opens the ports of 'l' (already in the table), adds a tunnelled link to
 * the scheduler (with l->rates; call rd_sched_check first for the
 * admission message) and starts forwarding. Returns 0, or -1 with *code
 * and *err (malloc'd, caller frees); nothing is left behind. */
int rd_dp_attach(struct rd_dp *dp, struct rd_link *l, uint64_t now_ns,
                 enum vn_fault *code, char **err);
/* Stops forwarding for 'l', drops what it has queued and closes its ports
 * (before it leaves the table). */
void rd_dp_detach(struct rd_dp *dp, struct rd_link *l, uint64_t now_ns);
/* Changes the rates of 'l' live (link.update): in the scheduler if it is
 * scheduled, then in l->rates. Returns 0, or -1 with *code and *err
 * (nothing changed). */
int rd_dp_update(struct rd_dp *dp, struct rd_link *l, const struct rd_rates *r,
                 uint64_t now_ns, enum vn_fault *code, char **err);
/* The transport port's scheduler, or NULL when the port is unlimited. */
struct rd_sched *rd_dp_sched(const struct rd_dp *dp);

/* Drains what waits on the transport, or on the ports of 'l', up to
 * RD_DP_BUDGET frames each (frames from 'l' are enqueued, then what the
 * scheduler releases is sent). Returns the number of frames taken, -1 when
 * a pcap input ended. The events call these; so do tests. */
int rd_dp_poll_transport(struct rd_dp *dp, uint64_t now_ns);
int rd_dp_poll_link(struct rd_dp *dp, struct rd_link *l, uint64_t now_ns);
/* Sends what the scheduler releases at 'now_ns' and sets its timer.
 * Returns the number of frames dequeued (0 without a scheduler). The timer
 * calls it; so do tests. */
int rd_dp_poll_sched(struct rd_dp *dp, uint64_t now_ns);

/* Periodic work (next hops); called about once a second. */
void rd_dp_tick(struct rd_dp *dp, uint64_t now_ns);

/* Pins a peer's next-hop MAC (tests; static set-ups). */
int rd_dp_set_nexthop(struct rd_dp *dp, uint32_t peer, const uint8_t mac[6]);

void rd_dp_get_stats(const struct rd_dp *dp, struct rd_dp_stats *st);
/* Next hop of a peer for display: fills 'mac' and returns true if
 * resolved. */
bool rd_dp_nexthop(const struct rd_dp *dp, uint32_t peer, uint8_t mac[6]);

/* The classic BPF program for the transport: IPv4, protocol 47, to
 * 'address' (network order). Writes RD_DP_FILTER_LEN instructions. */
#define RD_DP_FILTER_LEN 8
struct sock_filter;
void rd_dp_transport_filter(uint32_t address, struct sock_filter *insns);

/* Nanoseconds of CLOCK_MONOTONIC. */
uint64_t rd_now_ns(void);

#endif
