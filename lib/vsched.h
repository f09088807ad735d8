/* sched: the hierarchical scheduler of the redirector's user-space data path.
 *
 * Hierarchy (after DPDK librte_sched and VNode's redirector):
 *   port  -> slices -> links -> traffic classes (strict priority) -> FIFO.
 * A pure library: no I/O, no clock, no threads. Every call that depends on
 * time takes 'now_ns' (nanoseconds on any monotonic clock), so tests are
 * exact. 'now_ns' must not go backwards; a smaller value than one seen before
 * is taken as the largest seen. Not thread-safe: one scheduler per thread.
 *
 * Token buckets. Every rate below is enforced by a bucket of tokens in bytes
 * that fills at rate_bps / 8 bytes per second up to its burst_bytes. A packet
 * may start when every bucket it must pass is not in debt (holds >= 0 bytes);
 * sending it takes its length from them, so a bucket owes at most one packet.
 * Hence over any interval of T ns a bucket passes at most
 *   burst_bytes + rate_bps * T / 8e9 + (length of the last packet) bytes,
 * and a packet longer than a burst still goes through.
 *
 * Service order, at every dequeue (the HTB model, see docs/scheduler.md):
 *   0. links below their guarantee (their guarantee bucket not in debt):
 *      earliest deadline first, deadline = max(time its guarantee bucket came
 *      out of debt, time of its last send or of becoming backlogged)
 *      + packet length / guaranteed rate;
 *   1. slices below their guarantee, lending to their other links: earliest
 *      deadline first (the same rule on the slice's guarantee bucket, for the
 *      packet it would send: the head of its link chosen by SFQ), and within
 *      the slice its links by start-time fair queueing (SFQ) on link weights;
 *   2. the spare capacity of the port: slices by SFQ on slice weights, and
 *      within each its links by SFQ on link weights.
 * A link or slice whose ceiling bucket is in debt is skipped at every level;
 * the port's own bucket paces everything. Sends at level 0 are charged to the
 * guarantee buckets of the link and its slice, at level 1 to the slice's, at
 * level 2 to none (as HTB charges lenders, not borrowers); every send is
 * charged to every ceiling on its path and to the port. With the guarantees
 * admitted (sum of slice guarantees <= port rate, sum of a slice's link
 * guarantees <= the slice's guarantee), a backlogged link gets at least its
 * guarantee and its slice at least its own; all flooding, slice i gets
 *   g_i + (port rate - sum g) * w_i / sum w
 * (and its links share the slice's part the same way), up to the ceilings.
 * The scheduler is work-conserving: if some link may send (its own and its
 * slice's ceilings allow it) and the port is not in debt, a dequeue sends.
 *
 * Ownership. The scheduler takes ownership of every packet given to
 * vsched_enqueue. It hands sent packets back through vsched_dequeue; it gives
 * every other packet (dropped on enqueue, or still queued when its link,
 * slice or the scheduler is deleted) to the port's free_pkt callback, and
 * never frees a packet otherwise. It never looks inside a packet.
 *
 * Ties (equal keys) go to the smaller link or slice id, so the order of
 * service is a function of the calls made: tests/lib/vsched_ref.c, a naive
 * implementation of these rules, makes exactly the same decisions (with
 * quantum_bytes 0; a quantum coarsens the order, see vsched_port_conf).
 *
 * Cost: O(log n) per packet in the number of slices and links (4-ary heaps
 * of eligible children, a two-level timer wheel reaching 68.7 s ahead with
 * a heap beyond it; no scan over children), no allocation after
 * configuration; memory is what the queue limits ask for (rounded up to
 * powers of two) plus about 2 KB per link (hot and cold state kept apart),
 * and a queue keeps in use only about the cache lines its packets are in.
 * Measured per packet (enqueue + dequeue, bench/vsched_cost.c, 2026-11-23,
 * all links backlogged 8 deep, CPU time): in exact mode about 51-55 ns with
 * 1 slice of 4 links and 138-155 ns with 1000 slices of 4 (ratio ~2.7-3);
 * with a 9000-byte quantum (quantum_bytes), which pays the heaps and timers
 * per visit rather than per packet, about 32 and 48-57 ns (ratio 1.4-1.75;
 * more at 1000 slices when neighbours load the caches, ~1.9 with every
 * queue at its limit; docs/scheduler.md, "Cost"). */

#ifndef VN_VSCHED_H
#define VN_VSCHED_H

#include <stdbool.h>
#include <stdint.h>

#define VSCHED_TCLASS_MAX 4          /* traffic classes per link */
#define VSCHED_WEIGHT_MAX 1000       /* weights are 1..VSCHED_WEIGHT_MAX */
#define VSCHED_PKT_MAX_BYTES 65536u  /* longer packets are dropped */
#define VSCHED_QUEUE_MAX_PKTS 65536u /* limit_pkts of one queue */
#define VSCHED_BURST_MAX_BYTES (1u << 28)
#define VSCHED_BURST_DEFAULT_BYTES 65536u     /* >= 64 KB: see packet-io facts */
#define VSCHED_RATE_MAX_BPS 10000000000000ULL /* 10 Tbit/s */
#define VSCHED_WINDOW_DEFAULT_NS 1000000000ULL
#define VSCHED_QUANTUM_MAX_BYTES (1u << 20)

/* Frees a packet the scheduler drops; 'ctx' is the port's free_ctx. */
typedef void vsched_free_fn(void *pkt, void *ctx);

struct vsched_port_conf {
    uint64_t rate_bps;       /* output link rate, bits per second, >= 1:
                                dequeues are paced to it */
    uint32_t burst_bytes;    /* port bucket, bytes: what may leave at once
                                after an idle time; 0 = the default */
    uint64_t window_ns;      /* window of the achieved-rate statistics, ns;
                                0 = 1 s */
    vsched_free_fn *free_pkt; /* NULL: dropped packets are only forgotten */
    void *free_ctx;
    /* Service quantum per visit, bytes, 0..VSCHED_QUANTUM_MAX_BYTES. 0: one
     * packet per decision, in exactly the order stated below. Otherwise a
     * link, once chosen, keeps sending while its next packet fits in the
     * quantum (the first always goes) and its ceilings and the port allow
     * it, before the next decision: every packet is charged as if chosen
     * alone, at the first level it is eligible for (its guarantee, then its
     * slice's, then the spare), so rates, shares, guarantees and ceilings
     * hold as stated, while the order among links coarsens to visits of at
     * most max(quantum, one packet) bytes (see docs/scheduler.md). */
    uint32_t quantum_bytes;
};

struct vsched_slice_conf {
    uint64_t rate_bps;    /* guaranteed rate, bits per second; 0 = none */
    uint64_t ceil_bps;    /* ceiling, bits per second, >= rate_bps and
                             <= the port rate; 0 = none of its own */
    uint32_t burst_bytes; /* depth of its guarantee and ceiling buckets,
                             bytes; 0 = the default */
    uint32_t weight;      /* 1..VSCHED_WEIGHT_MAX: its share of the spare
                             capacity among the port's slices */
};

struct vsched_queue_conf {
    uint32_t limit_pkts;  /* 1..VSCHED_QUEUE_MAX_PKTS packets */
    uint32_t limit_bytes; /* bytes; 0 = no byte limit */
};

struct vsched_link_conf {
    uint64_t rate_bps;    /* guaranteed rate, bits per second; 0 = none */
    uint64_t ceil_bps;    /* ceiling, bits per second, >= rate_bps;
                             0 = none of its own (its slice's applies) */
    uint32_t burst_bytes; /* depth of its guarantee and ceiling buckets (its
                             shaper), bytes; 0 = the default */
    uint32_t weight;      /* 1..VSCHED_WEIGHT_MAX among the slice's links */
    unsigned n_tclasses;  /* 1..VSCHED_TCLASS_MAX; class 0 is served first */
    struct vsched_queue_conf queue[VSCHED_TCLASS_MAX];
};

struct vsched_link_stats {
    uint32_t slice_id;
    uint64_t enq_pkts, enq_bytes;   /* accepted by vsched_enqueue */
    uint64_t sent_pkts, sent_bytes; /* returned by vsched_dequeue */
    /* Dropped on enqueue because a queue limit was reached, split by the
     * link's state at that moment: "others" when it was below its guarantee
     * (a guarantee > 0, its guarantee and ceiling buckets not in debt: it was
     * owed service it had not had), "own" otherwise (at or above its
     * guarantee, or over its ceiling: it sent more than it is given). */
    uint64_t drops_own_pkts, drops_own_bytes;
    uint64_t drops_others_pkts, drops_others_bytes;
    uint64_t queued_pkts, queued_bytes; /* now */
    /* Queueing delay (enqueue to dequeue) of the packets sent since the link
     * was added, ns: percentiles are upper bounds at most 12.5 % above the
     * true value (and never above the maximum), the maximum is exact. */
    uint64_t delay_p50_ns, delay_p99_ns, delay_max_ns;
    uint64_t rate_bps;  /* sent in the last complete window, bits/s */
    uint64_t window_ns; /* that window: [k*window_ns - window_ns,
                           k*window_ns) with k = now_ns / window_ns */
};

struct vsched_slice_stats {
    uint32_t n_links;
    uint64_t sent_pkts, sent_bytes;
    uint64_t drops_pkts, drops_bytes; /* its links' queue-limit drops */
    uint64_t queued_pkts, queued_bytes;
    uint64_t rate_bps; /* as for a link */
};

struct vsched_port_stats {
    uint32_t n_slices, n_links;
    uint64_t enq_pkts, enq_bytes, sent_pkts, sent_bytes;
    uint64_t queued_pkts, queued_bytes;
    uint64_t drops_limit_pkts, drops_limit_bytes; /* queue limits */
    uint64_t drops_no_link_pkts; /* enqueued to an unknown link */
    uint64_t drops_bad_len_pkts; /* length 0 or > VSCHED_PKT_MAX_BYTES */
    /* Freed by vsched_link_del, vsched_slice_del, or an update that removed a
     * traffic class or shrank a queue below what it held. */
    uint64_t drops_deleted_pkts, drops_deleted_bytes;
};

struct vsched;

/* Validators: NULL if the matching call below would accept the
 * configuration, or a malloc'd message saying what is wrong and how to fix
 * it (the caller frees it). 'update' says whether it is for
 * vsched_slice_update/vsched_link_update (true) or for an add. */
char *vsched_port_check(const struct vsched_port_conf *c);
char *vsched_slice_check(const struct vsched *s, uint32_t slice_id,
                        const struct vsched_slice_conf *c, bool update);
char *vsched_link_check(const struct vsched *s, uint32_t slice_id,
                       uint32_t link_id, const struct vsched_link_conf *c,
                       bool update);

/* NULL on a bad configuration (errno EINVAL) or out of memory (ENOMEM).
 * The port bucket starts full. */
struct vsched *vsched_new(const struct vsched_port_conf *port);
/* Gives every queued packet to free_pkt. Accepts NULL. */
void vsched_free(struct vsched *s);

/* Configuration calls return 0 or a negative errno: -EINVAL (bad
 * configuration), -EEXIST (id in use), -ENOENT (no such slice or link),
 * -ENOSPC (guarantees would exceed the parent's: the sum of slice guarantees
 * must stay <= the port rate, a slice's link guarantees <= its guarantee),
 * -ENOMEM. On error nothing changed. Link ids are unique per scheduler
 * (they are the GRE keys), slice ids too. New buckets start full.
 * Updates take effect at once: buckets are brought to 'now_ns' at the old
 * rates, then keep their tokens (cut to the new burst); a bucket that did not
 * exist (rate 0 before) starts full. Shrinking a queue drops its newest
 * packets; removing a traffic class drops its packets (counted as deleted). */
int vsched_slice_add(struct vsched *s, uint32_t slice_id,
                    const struct vsched_slice_conf *c);
int vsched_slice_update(struct vsched *s, uint32_t slice_id,
                       const struct vsched_slice_conf *c, uint64_t now_ns);
/* Deletes the slice and all its links, dropping what they hold. */
int vsched_slice_del(struct vsched *s, uint32_t slice_id, uint64_t now_ns);
int vsched_link_add(struct vsched *s, uint32_t slice_id, uint32_t link_id,
                   const struct vsched_link_conf *c);
int vsched_link_update(struct vsched *s, uint32_t link_id,
                      const struct vsched_link_conf *c, uint64_t now_ns);
/* Drops what the link holds (counted as deleted). */
int vsched_link_del(struct vsched *s, uint32_t link_id, uint64_t now_ns);

/* Takes ownership of 'pkt' (opaque; 'len_bytes' is what the buckets count)
 * and queues it on link 'link_id' in class 'tclass' (a class beyond the
 * link's last is taken as its last). Returns 0, or -1 if it was dropped
 * (given to free_pkt and counted): unknown link, bad length, or queue limit.
 * O(1) unless the link was empty or the packet is ahead of its head. */
int vsched_enqueue(struct vsched *s, uint32_t link_id, unsigned tclass, void *pkt,
                  uint32_t len_bytes, uint64_t now_ns);

/* Dequeues up to 'max' packets that the port may send at 'now_ns', in the
 * order to send them: writes them to pkts[] (the caller owns them now) and
 * their link ids to link_ids[] (may be NULL). Returns how many. */
int vsched_dequeue(struct vsched *s, uint64_t now_ns, void **pkts,
                  uint32_t *link_ids, int max);

/* When vsched_dequeue may next return a packet, if nothing is enqueued
 * meanwhile: 'now_ns' (or the port's pacing time) when a packet is ready,
 * the time the first blocking bucket comes out of debt when all wait, and
 * UINT64_MAX when nothing is queued. For the caller's poll() timeout. Never
 * later than the true time. It is earlier in one case: a link waits for its
 * own ceiling, and meanwhile its siblings' sends pushed their slice's
 * ceiling further out; a dequeue at that time returns 0 and this call then
 * gives the true time (one extra wake-up; 0.16 % of the answers in the
 * random tests, exact otherwise). */
uint64_t vsched_next_ns(const struct vsched *s, uint64_t now_ns);

/* Statistics; rates are for the window before 'now_ns'. 0 or -ENOENT. */
int vsched_link_stats(const struct vsched *s, uint32_t link_id, uint64_t now_ns,
                     struct vsched_link_stats *out);
int vsched_slice_stats(const struct vsched *s, uint32_t slice_id, uint64_t now_ns,
                      struct vsched_slice_stats *out);
void vsched_port_stats(const struct vsched *s, struct vsched_port_stats *out);

#endif
