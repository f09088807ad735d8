/* api: redirectord's XML-RPC methods (docs/dataplane.md is the contract):
 *   link.create(struct) -> {key, state}      idempotent
 *   link.update(struct) -> {key, state}      live change of the rates
 *   link.delete(key, end) -> {deleted}       idempotent
 *   link.list() -> [{slice, link, key, end, port, peer, ...}]
 *   link.stats() -> [{slice, link, key, end, tx_packets, ...,
 *                     achieved_bps, drops_own, drops_others, ...}]
 *   dataplane.stats() -> {...}   daemon-wide counters and next hops
 * Every field is validated before anything changes; a refusal is a fault
 * (VN_FAULT_INVALID_ARG, _NOT_FOUND, _EXISTS, _NO_CAPACITY when the
 * transport port's guarantees would exceed its rate) saying what to fix. */
#ifndef RD_API_H
#define RD_API_H

#include <stddef.h>
#include <stdint.h>

#include "dataplane.h"
#include "rpc.h"
#include "table.h"

struct redirector {
    struct rd_table table;
    struct rd_dp *dp;      /* owned by whoever set it up */
    uint32_t address;      /* our data-plane address, network order */
    const char *transport; /* borrowed */
    /* Whether an interface exists here; NULL: if_nametoindex() (tests
     * replace it). */
    int (*port_exists)(const char *ifname);
};

extern const struct vn_rpc_method rd_api_methods[];
extern const size_t rd_api_n_methods;

#endif
