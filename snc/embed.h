/* embed: map a slice request onto the physical topology.
 *
 * Every node sliver gets a VNode (the one it names, or for "any" the VNode
 * with the most free capacity of the kind it needs); every link between two
 * VNodes gets bandwidth on both VNodes' redirector ports and a transport
 * path (fewest hops among the paths with enough free bandwidth on every
 * hop); every gateway gets its AGW. A refusal names the constraint that
 * failed and what would fit. */
#ifndef SNC_EMBED_H
#define SNC_EMBED_H

#include <stddef.h>
#include <stdint.h>

#include "spec.h"
#include "topo.h"

/* What is in use, per resource of a topology. Arrays are sized by the
 * topology: vnodes (n_vnodes) and transport links (n_links). */
struct embed_usage {
    unsigned *slots;      /* fast-path slots */
    unsigned *vcpus;
    uint64_t *mem_bytes;
    uint64_t *port_bps;   /* redirector port bandwidth */
    uint64_t *link_bps;   /* transport links */
};

struct embed_link {
    int vnode_a, vnode_b; /* VNode indices of the two ends */
    size_t *path;         /* transport link indices, a to b; NULL if local */
    size_t path_len;
};

struct embed_result {
    int *node_vnode;          /* per spec node: VNode index */
    struct embed_link *links; /* per spec link */
    int *gateway_agw;         /* per spec gateway: AGW index */
    size_t n_nodes, n_links, n_gateways;
};

/* Returns a zeroed usage for 't' or NULL on allocation failure. */
struct embed_usage *embed_usage_new(const struct topo *t);
void embed_usage_free(struct embed_usage *u);

/* Embeds 'spec' given what 'used' already holds (not modified). Returns
 * NULL and sets *out (free with embed_result_free), or a malloc'd reason
 * (caller frees). */
char *embed_slice(const struct topo *t, const struct embed_usage *used,
                  const struct slice_spec *spec, struct embed_result **out);
void embed_result_free(struct embed_result *r);

/* One reservation: resource key and amount. Keys name topology elements so
 * they survive restarts: "slots:VNODE", "vcpus:VNODE", "mem:VNODE",
 * "port:VNODE", "link:A~B". */
struct embed_resv {
    char key[96];
    uint64_t amount;
};

/* Lists what 'r' reserves for 'spec', summed per key. Returns the number of
 * entries written to *out (malloc'd, caller frees) or -1. */
int embed_reservations(const struct topo *t, const struct slice_spec *spec,
                       const struct embed_result *r, struct embed_resv **out);

/* Adds (sign > 0) or removes (sign < 0) one reservation to/from 'u'.
 * Returns -1 if the key names nothing in 't' (topology changed). */
int embed_usage_apply(const struct topo *t, struct embed_usage *u,
                      const char *key, uint64_t amount, int sign);

/* The path of 'el' as "a~b,b~c" (empty when local) into buf (size n). */
void embed_path_text(const struct topo *t, const struct embed_link *el,
                     char *buf, size_t n);

/* The key of transport link i: "A~B". */
void embed_link_key(const struct topo *t, size_t i, char *buf, size_t n);

#endif
