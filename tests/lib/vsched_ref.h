/* vsched_ref: a deliberately naive implementation of the scheduler described
 * in lib/vsched.h, kept to check the fast one against (as WireGuard keeps
 * horrible_allowedips). No heaps, no timers, no incremental state: at every
 * step it rescans every slice and link, brings their buckets (128-bit, no
 * debt floor) to 'now', and picks by brute force. Slow on purpose: O(links)
 * per packet. Built into tests/lib/test_vsched.c (#include "vsched_ref.c").
 *
 * The calls mirror sched.h and return the same codes. */
#ifndef VN_SCHED_REF_H
#define VN_SCHED_REF_H

#include <stdbool.h>
#include <stdint.h>

#include "vsched.h"

struct ref_sched;

struct ref_sched *ref_new(const struct vsched_port_conf *port);
void ref_free(struct ref_sched *r);
int ref_slice_add(struct ref_sched *r, uint32_t id,
                  const struct vsched_slice_conf *c);
int ref_slice_update(struct ref_sched *r, uint32_t id,
                     const struct vsched_slice_conf *c, uint64_t now);
int ref_slice_del(struct ref_sched *r, uint32_t id, uint64_t now);
int ref_link_add(struct ref_sched *r, uint32_t slice_id, uint32_t id,
                 const struct vsched_link_conf *c);
int ref_link_update(struct ref_sched *r, uint32_t id,
                    const struct vsched_link_conf *c, uint64_t now);
int ref_link_del(struct ref_sched *r, uint32_t id, uint64_t now);
int ref_enqueue(struct ref_sched *r, uint32_t link_id, unsigned tclass,
                void *pkt, uint32_t len, uint64_t now);
int ref_dequeue(struct ref_sched *r, uint64_t now, void **pkts,
                uint32_t *link_ids, int max);
/* Exact: the earliest time a packet can leave if nothing else arrives. */
uint64_t ref_next_ns(struct ref_sched *r, uint64_t now);

/* What the tests compare. */
struct ref_link_counts {
    uint64_t sent_pkts, sent_bytes;
    uint64_t drops_own_pkts, drops_others_pkts;
    uint64_t queued_pkts;
};
int ref_link_counts(const struct ref_sched *r, uint32_t id,
                    struct ref_link_counts *out);

#endif
