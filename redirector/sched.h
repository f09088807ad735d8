/* sched: the scheduler of the transport port (lib/vsched.h) as the
 * redirector uses it. No I/O and no clock ('now_ns' is passed in), so it
 * is tested on its own.
 *
 * Every frame that leaves the transport port (GRE toward a peer) is
 * enqueued here on its link (vsched link id = GRE key, slice id = the
 * table's slice id) and sent when vsched_dequeue releases it: the port is
 * paced to its rate, slices get their guarantees and share the rest by
 * slice weight, links inside a slice the same way. Frames are counted as
 * they leave the transport: inner frame + 'overhead_bytes' (42: outer
 * Ethernet, IPv4, GRE), the bytes the kernel's HTB would count on tr0.
 *
 * What the redirector adds to vsched:
 *  - the mapping of a link sliver's rd_rates to a vsched link (queue limit
 *    from its fastest allowed rate, a ceiling at or above the port rate
 *    taken as none) and of a slice's links to the slice: its guarantee is
 *    the sum of its links' guarantees on this port, kept as links come, go
 *    and change; its weight is the last slice_weight given;
 *  - admission with a message that names the port and what is missing;
 *  - the frame buffers (redirector/pool.h): each link reserves as many as
 *    its queue holds, so no per-packet allocation and no shared limit;
 *  - the own/others split of queue-limit drops by a service meter per link
 *    (below): vsched's split looks at the guarantee bucket alone, which
 *    only level-0 sends drain, so a flooding link served far above its
 *    guarantee at level 2 is "owed" whenever that bucket refills between
 *    two dequeue rounds (8-34 % of a flooder's drops in the integration
 *    test with 1 ms rounds). The meter counts all of the link's service:
 *      owed = min(burst, max(0, owed + guarantee * dt - bytes sent))
 *    and a drop is the link's own unless it had a guarantee and
 *    owed > guarantee * slack_ns + one frame, i.e. it was served less
 *    than its guarantee by more than the caller's wake-up lateness
 *    explains: someone else took its share. */
#ifndef RD_SCHED_H
#define RD_SCHED_H

#include <stdbool.h>
#include <stdint.h>

#include "fault.h"
#include "pool.h"
#include "table.h"
#include "vsched.h"

/* Queue of a link: what its fastest allowed rate sends in this long. */
#define RD_SCHED_QUEUE_MS 20
#define RD_SCHED_QUEUE_MIN_PKTS 64
#define RD_SCHED_QUEUE_MAX_PKTS 4096
#define RD_SCHED_QUEUE_FRAME_BYTES 1514 /* frame size the limit assumes */

struct rd_sched_config {
    const char *port;        /* interface name, for messages */
    uint64_t rate_bps;       /* port rate, >= 1 */
    uint32_t burst_bytes;    /* port bucket; 0 = rd_sched_port_burst() */
    uint32_t frame_bytes;    /* largest frame enqueued (buffer size) */
    uint32_t overhead_bytes; /* added to each frame's length when counted */
    uint64_t window_ns;      /* achieved-rate window; 0 = 1 s */
    uint64_t slack_ns;       /* how late a dequeue round may come (the
                                drop meter's tolerance) */
};

/* Port-wide figures (dataplane.stats). */
struct rd_sched_stats {
    uint64_t rate_bps;
    uint32_t burst_bytes;
    struct vsched_port_stats port;
    size_t buffers, buffers_free, buffers_reserved;
    uint64_t drops_no_buffer; /* cannot happen while reservations hold */
};

struct rd_sched;
/* A link of the scheduler: the handle the data path enqueues on. Owned by
 * the scheduler; valid until rd_sched_link_del. */
struct rd_sched_link;

/* The default port burst: what the port sends in RD_SCHED_BURST_MS (a
 * late wake-up then loses no rate: see docs/redirector.md), at least
 * VSCHED_BURST_DEFAULT_BYTES. */
#define RD_SCHED_BURST_MS 2
uint32_t rd_sched_port_burst(uint64_t rate_bps);
/* The depth of a link's buckets given 'burst_bytes' (0: 64 KiB) and the
 * faster of its guarantee and its ceiling, 'rate_bps': at least what that
 * rate passes in RD_SCHED_LINK_BURST_MS. A full bucket stops filling, and
 * dequeue rounds come a tick, an RX block or a late wake-up apart, so a
 * shallower bucket caps the link below its rate: a 1 Gbit/s link offered
 * 92 % of its ceiling dropped 14-15 % of it with 64 KiB buckets; with
 * 2 ms of its rate none, but frames waited (p99 0.2-3 ms); with 4-5 ms
 * they did not wait (docs/redirector.md). Deeper buckets given are
 * kept. */
#define RD_SCHED_LINK_BURST_MS 5
uint32_t rd_sched_link_burst(uint64_t rate_bps, uint32_t burst_bytes);
/* The port's service quantum (vsched_port_conf.quantum_bytes): what it
 * sends in RD_SCHED_QUANTUM_US, at most RD_SCHED_QUANTUM_MAX_BYTES. A
 * link chosen by the scheduler sends up to this much before the next
 * decision, which pays the heaps once per visit instead of per frame
 * (1000 slices: 150 -> 65 ns a frame, docs/scheduler.md "Cost") and
 * holds the others back by at most RD_SCHED_QUANTUM_US: 9000 bytes from
 * 720 Mbit/s up (7.2 us at 10 Gbit/s), 1250 at 100 Mbit/s, i.e. one
 * full-size frame per decision there, as exact as before. */
#define RD_SCHED_QUANTUM_US 100
#define RD_SCHED_QUANTUM_MAX_BYTES 9000
uint32_t rd_sched_quantum(uint64_t rate_bps);

/* NULL and a malloc'd message in *err (caller frees) on a bad
 * configuration or no memory. */
struct rd_sched *rd_sched_new(const struct rd_sched_config *c, char **err);
/* Frees every queued frame. NULL ok. */
void rd_sched_free(struct rd_sched *rs);

uint64_t rd_sched_rate(const struct rd_sched *rs);

/* The mapping (pure): the vsched configuration of a link with rates 'r' on
 * a port of 'port_bps' (its buckets' depth: rd_sched_link_burst, above). */
void rd_sched_link_conf(const struct rd_rates *r, uint64_t port_bps,
                        struct vsched_link_conf *out);
/* Queue limit in packets for a link that may send at most 'max_bps'. */
uint32_t rd_sched_queue_pkts(uint64_t max_bps);
/* Checks the fields of 'r' alone (ranges, ceiling >= guarantee): NULL or a
 * malloc'd message naming the field (caller frees). */
char *rd_sched_rates_check(const struct rd_rates *r);

/* Admission: NULL if adding link 'key' (update: changing it) with rates
 * 'r' in slice 'slice_id' would be accepted; else a malloc'd message
 * (caller frees) and *code: VN_FAULT_NO_CAPACITY when the guarantees on
 * the port would exceed its rate (the message names the port, the sum and
 * what is missing), VN_FAULT_INVALID_ARG for a bad field. 'slice_id' 0 (or
 * unknown here) is a new slice; ignored on update. */
char *rd_sched_check(const struct rd_sched *rs, uint32_t slice_id, uint32_t key,
                     const struct rd_rates *r, bool update,
                     enum vn_fault *code);
/* Apply what rd_sched_check accepted. Return 0, or -1 with *err and *code
 * (nothing changed). Updates take effect at 'now_ns' (vsched semantics). */
int rd_sched_link_add(struct rd_sched *rs, uint32_t slice_id, uint32_t key,
                      const struct rd_rates *r, uint64_t now_ns,
                      enum vn_fault *code, char **err);
/* The handle of link 'key', or NULL. */
struct rd_sched_link *rd_sched_link_find(const struct rd_sched *rs,
                                         uint32_t key);
int rd_sched_link_update(struct rd_sched *rs, uint32_t key,
                         const struct rd_rates *r, uint64_t now_ns,
                         enum vn_fault *code, char **err);
/* Drops what the link holds; deletes its slice with its last link. */
void rd_sched_link_del(struct rd_sched *rs, uint32_t key, uint64_t now_ns);
bool rd_sched_has_link(const struct rd_sched *rs, uint32_t key);

/* Copies frame 'data' (1 to frame_bytes bytes) into a buffer and queues
 * it on link 'sl'. Returns 0, or -1 if it was dropped: at the queue limit
 * (counted as the link's own or others' drop), or no buffer. */
int rd_sched_enqueue(struct rd_sched *rs, struct rd_sched_link *sl,
                     const uint8_t *data, uint32_t len, uint64_t now_ns);
/* Frames of the link in its queue now. O(1). */
uint32_t rd_sched_link_queued(const struct rd_sched_link *sl);
/* Up to 'max' frames the port may send at 'now_ns', in order (b->key is
 * the link). The caller owns them and gives each back with rd_sched_put()
 * once copied out. */
int rd_sched_dequeue(struct rd_sched *rs, uint64_t now_ns, struct rd_buf **bufs,
                     int max);
void rd_sched_put(struct rd_sched *rs, struct rd_buf *b);
/* When to dequeue next (vsched_next_ns): UINT64_MAX when nothing waits. */
uint64_t rd_sched_next_ns(const struct rd_sched *rs, uint64_t now_ns);

/* vsched_link_stats of the link, with drops_own_* and drops_others_* from
 * the service meter (above). 0, or -1 if the link is not scheduled here. */
int rd_sched_link_stats(const struct rd_sched *rs, uint32_t key,
                        uint64_t now_ns, struct vsched_link_stats *out);
/* The guarantee of slice 'slice_id' on this port and its link count (0
 * and 0 if it has none here). */
uint64_t rd_sched_slice_rate(const struct rd_sched *rs, uint32_t slice_id,
                             uint32_t *n_links, uint32_t *weight);
void rd_sched_get_stats(const struct rd_sched *rs, struct rd_sched_stats *st);

/* A local link's policer, one per direction. A local link (two ports of
 * this VNode) never reaches the transport's scheduler, yet it must carry
 * what the same link would across VNodes: a token bucket at its limit
 * (its ceiling, else its guarantee; neither: no limit), as deep as a
 * tunnelled link's buckets (rd_sched_link_burst), counting each frame as
 * it would leave the transport (+ overhead_bytes), so the inner rate a
 * slice gets does not depend on where its nodes were placed. A frame
 * without tokens is dropped (no queue, no timer: a policer, not a
 * shaper). Exact integer arithmetic; 'now_ns' passed in. */
struct rd_police {
    uint64_t rate_bps;  /* 0: no limit */
    uint64_t depth;     /* bucket depth, bit-nanoseconds (bits * 1e9) */
    uint64_t tokens;    /* bit-nanoseconds */
    uint64_t last_ns;
    uint32_t overhead_bytes;
};

/* Sets the limit from 'r' at 'now_ns'. A policer that had no limit ('p'
 * zeroed: new) starts full; a changed one keeps its tokens (earned at the
 * old rate up to now), at most the new depth. */
void rd_police_set(struct rd_police *p, const struct rd_rates *r,
                   uint32_t overhead_bytes, uint64_t now_ns);
/* Whether a 'len'-byte frame may pass at 'now_ns' (its tokens taken). */
bool rd_police_take(struct rd_police *p, uint32_t len, uint64_t now_ns);

#endif
