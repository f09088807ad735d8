/* table: the link slivers one redirector terminates, and the lookups the
 * data path makes. Pure bookkeeping (no sockets, no I/O), so it is tested
 * on its own.
 *
 * A link sliver is (key, end): end "a" or "b" is one half of a tunnelled
 * link (the other half is on the VNode at 'peer'); end "local" joins two
 * ports of this VNode without GRE. Each port (a host interface) belongs to
 * exactly one link sliver. Tunnel frames are looked up by key: only one
 * tunnelled half of a key may live here. */
#ifndef RD_TABLE_H
#define RD_TABLE_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fault.h"

enum rd_end { RD_END_A, RD_END_B, RD_END_LOCAL };

/* "a", "b", "local". */
const char *rd_end_name(enum rd_end end);
/* Returns 0 and sets *end, or -1 if 's' is none of the names. */
int rd_end_parse(const char *s, enum rd_end *end);

/* Per link sliver. tx: frames taken from 'port' and sent into the link
 * (into the tunnel, or out of 'local_port'); rx: frames from the link
 * delivered out of 'port' (for local links: taken from 'local_port').
 * Bytes are inner Ethernet frame bytes. */
struct rd_counters {
    uint64_t tx_packets, tx_bytes, rx_packets, rx_bytes;
    uint64_t drops_bad_key; /* tunnel frames with this key refused: wrong
                               outer source, or slice of the port differs */
    uint64_t drops_queue;   /* no room in the TX ring of the way out */
    uint64_t drops_policed; /* local links: over the link's limit
                               (rd_police, redirector/sched.h) */
};

/* What a link sliver asks of the scheduler of the transport port
 * (redirector/sched.h maps it). Rates are bits per second of frames as they
 * leave the transport (inner frame + 42 bytes of GRE/IPv4/Ethernet). */
struct rd_rates {
    double rate_bps;       /* guaranteed rate; 0 = none */
    double ceil_bps;       /* ceiling, 0 or >= rate_bps; 0 = none of its
                              own (the port's rate) */
    uint32_t burst_bytes;  /* depth of its buckets; 0 = 64 KiB */
    uint32_t weight;       /* 1..1000: its share of its slice's spare
                              capacity among the slice's links here */
    uint32_t slice_weight; /* 1..1000: its slice's share of the port's spare
                              capacity (the last link created or updated
                              sets it for the whole slice) */
};

/* What link.create asks for. Strings are borrowed; peer in network byte
 * order (0 for local links). */
struct rd_link_spec {
    const char *slice, *link;
    uint32_t key;
    enum rd_end end;
    const char *port;
    const char *local_port; /* "" unless end is local */
    uint32_t peer;
    struct rd_rates rates;
};

struct rd_link {
    char *slice, *link;
    uint32_t slice_id; /* equal for equal slice names */
    uint32_t key;
    enum rd_end end;
    char port[IF_NAMESIZE];
    char local_port[IF_NAMESIZE];
    uint32_t peer;         /* network byte order; 0 when local */
    struct rd_rates rates; /* enforced on the transport port when it has a
                              scheduler (tunnelled ends only) */
    struct rd_counters ctr;
    void *dp; /* data-plane state, owned by dataplane.c */
};

struct rd_table {
    struct rd_link **links; /* owned */
    size_t n, cap;
    /* Tunnelled halves sorted by key, for the data path. */
    struct rd_key_ent {
        uint32_t key;
        struct rd_link *link;
    } * by_key;
    size_t n_by_key;
    uint32_t next_slice_id;
};

void rd_table_init(struct rd_table *t);
/* Frees every link; the data plane must have let go of them. */
void rd_table_fini(struct rd_table *t);

enum rd_add_result { RD_ADD_FAILED = -1, RD_ADD_NEW = 0, RD_ADD_EXISTS = 1 };

/* Adds a link sliver, or finds the identical one already there
 * (idempotent create). On RD_ADD_NEW/RD_ADD_EXISTS sets *out (owned by the
 * table). On RD_ADD_FAILED sets *code and *err (malloc'd, caller frees):
 * VN_FAULT_EXISTS when the key+end or a port is taken by something else,
 * VN_FAULT_INVALID_ARG when the key conflicts with another half here. */
enum rd_add_result rd_table_add(struct rd_table *t,
                                const struct rd_link_spec *s,
                                struct rd_link **out, enum vn_fault *code,
                                char **err);

struct rd_link *rd_table_find(const struct rd_table *t, uint32_t key,
                              enum rd_end end);
/* The id that links of slice 'slice' have here, or 0 if it has none. */
uint32_t rd_table_slice_id(const struct rd_table *t, const char *slice);
/* True if the link slivers' rates are equal. */
bool rd_rates_equal(const struct rd_rates *a, const struct rd_rates *b);
/* The tunnelled half (a or b) that receives frames with 'key', or NULL. */
struct rd_link *rd_table_rx_lookup(const struct rd_table *t, uint32_t key);
/* The link sliver that owns port 'ifname' (as port or local_port). */
struct rd_link *rd_table_port_owner(const struct rd_table *t,
                                    const char *ifname);
/* Takes the link out of the table and returns it (caller frees it with
 * rd_link_free), or NULL if there is none. */
struct rd_link *rd_table_remove(struct rd_table *t, uint32_t key,
                                enum rd_end end);
void rd_link_free(struct rd_link *l);

/* The slice check before delivery: a frame that arrived for link 'by_key'
 * may go out of a port only if that port's owner is in the same slice. */
bool rd_link_may_deliver(const struct rd_link *by_key,
                         const struct rd_link *port_owner);

#endif
