/* spec: the slice request language. An XML document in namespace
 * SPEC_NS, checked against lib/schema/slice.xsd (built in) and then for
 * consistency. Example:
 *
 *   <slice name="video-exp" xmlns="urn:vnode:slice:1" weight="1">
 *     <lease start="2026-11-24T09:00:00Z" duration="PT4H"/>
 *     <node id="r1" type="fastpath" vnode="any">
 *       <module name="router"><param key="route" value="10.0.0.0/8 1"/></module>
 *     </node>
 *     <node id="vm1" type="slowpath" vnode="tokyo">
 *       <image>debian-12</image><vcpus>1</vcpus><memory unit="MiB">256</memory>
 *     </node>
 *     <node id="c1" type="container">
 *       <command>iperf3 -s</command><vcpus>1</vcpus><memory unit="MiB">64</memory>
 *       <iface link="l2" address="10.0.2.2/24"/>
 *       <route to="default" via="10.0.2.1"/>
 *     </node>
 *     <link id="l1" a="r1" b="vm1" bandwidth="100Mbit" burst="64KiB"
 *           ceiling="200Mbit" weight="1"/>
 *     <link id="l2" a="r1" b="c1" bandwidth="1Gbit"/>
 *     <chain id="web" bandwidth="100Mbit" ceiling="200Mbit" burst="64KiB"
 *            weight="1">
 *       <hop node="c1"/><hop node="r1"/><hop node="vm1"/>
 *     </chain>
 *     <gateway id="g1" agw="agw-tokyo" node="r1" auth="psk"/>
 *     <measure id="m1" link="l1" filter="udp" metrics="throughput loss delay"/>
 *   </slice>
 *
 * Names (slice name, ids) are [A-Za-z][A-Za-z0-9_.-]{0,31}. Node type is
 * fastpath | slowpath | container; vnode is a VNode name or "any" (default).
 * Link endpoints name nodes of this slice; a != b. bandwidth is the
 * guaranteed rate (required), ceiling defaults to bandwidth and must be >=
 * it, burst defaults to 64KiB and must be >= 1500 bytes, weight (1..1000)
 * defaults to 1.
 *
 * A chain lists the nodes a flow passes, in order (<hop node>, at least
 * two, each a node of this slice, none twice; hops other than the first
 * and the last are fastpath or slowpath nodes). It is shorthand for a link
 * between each two consecutive hops, with the chain's bandwidth, ceiling,
 * burst and weight (required and defaulted as a link's): "web" above
 * stands for links web.1 (c1-r1) and web.2 (r1-vm1). The parser appends
 * these to the explicit links, so everything that takes a link id (iface,
 * measure) takes them too, and they count toward SPEC_MAX_LINKS; the chain
 * id is in the ids' name space, and so are its links' ids.
 *
 * A slowpath or container node may give each of its links an address
 * (<iface link address="a.b.c.d/len">: one per link, the link must have the
 * node as an end, not the network or broadcast address when len <= 30, no
 * two of the node's subnets overlapping) and may have static routes
 * (<route to="default" | "a.b.c.d/len" (no host bits) via="a.b.c.d">: via
 * on one of the node's subnets and not its own address, one route per
 * destination; "default" is 0.0.0.0/0). A fastpath node takes neither: its
 * module gets addresses and routes as params. */
#ifndef VN_SPEC_H
#define VN_SPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define SPEC_NS "urn:vnode:slice:1"
#define SPEC_NAME_MAX 32

/* Limits of one slice spec; spec_parse refuses more. */
#define SPEC_MAX_DOC_BYTES (1u << 20) /* 1 MiB of XML */
#define SPEC_MAX_NODES 4096
#define SPEC_MAX_LINKS 4096
#define SPEC_MAX_GATEWAYS 4096
#define SPEC_MAX_MEASURES 4096
#define SPEC_MAX_CHAINS 4096 /* their links count toward SPEC_MAX_LINKS */
#define SPEC_MAX_IFACES 1024 /* per node */
#define SPEC_MAX_ROUTES 1024 /* per node */

enum spec_node_kind { SPEC_NODE_FASTPATH, SPEC_NODE_SLOWPATH, SPEC_NODE_CONTAINER };
enum spec_auth { SPEC_AUTH_PSK, SPEC_AUTH_CERT };

struct spec_param {
    char *key;
    char *value;
};

/* The address a slowpath or container node has on one of its links. */
struct spec_iface {
    char *link;             /* link id; the link has this node as an end */
    char *address;          /* IPv4 CIDR as written, "10.0.1.2/24": the
                               node's address and its subnet's length */
    int line;               /* source line of the <iface> element */
};

/* A static route of a slowpath or container node. */
struct spec_route {
    char *to;               /* "default" or an IPv4 CIDR with no host bits,
                               as written: "10.0.2.0/24" */
    char *via;              /* next hop, plain IPv4 "10.0.1.1", on the subnet
                               of one of the node's ifaces */
    int line;               /* source line of the <route> element */
};

struct spec_node {
    char *id;
    enum spec_node_kind kind;
    char *vnode;            /* NULL = any VNode */
    /* fastpath */
    char *module;           /* module name; NULL for other kinds */
    struct spec_param *params;
    size_t n_params;
    /* slowpath */
    char *image;            /* NULL for other kinds */
    /* container */
    char *command;          /* NULL for other kinds */
    /* slowpath and container; fastpath uses one fast-path slot */
    unsigned vcpus;         /* default 1 */
    uint64_t memory_bytes;  /* default 256 MiB slowpath, 64 MiB container,
                               0 fastpath */
    /* slowpath and container; NULL and 0 for fastpath or when none given
       (the node then has no addresses) */
    struct spec_iface *ifaces;  /* in document order, one per link at most */
    size_t n_ifaces;
    struct spec_route *routes;  /* in document order, one per destination */
    size_t n_routes;
    int line;               /* source line of the <node> element */
};

struct spec_link {
    char *id;
    char *a, *b;            /* node ids */
    uint64_t rate_bps;      /* guaranteed rate, bits per second */
    uint64_t ceil_bps;      /* ceiling, bits per second (>= rate_bps) */
    uint64_t burst_bytes;   /* shaper bucket, bytes */
    unsigned weight;        /* share of spare capacity among siblings */
    int line;
};

/* A service chain, as written. Its links are links[first_link] to
 * links[first_link + n_hops - 2] of the slice: link n (from 1) has id
 * "<id>.<n>", a = hops[n - 1], b = hops[n], the chain's rate, ceiling,
 * burst and weight, and the line of hops[n - 1]'s <hop> element. */
struct spec_chain {
    char *id;
    char **hops;            /* node ids in order, n_hops >= 2; hops other
                               than the first and the last are fastpath or
                               slowpath nodes; no node twice */
    size_t n_hops;
    size_t first_link;      /* index into links */
    int line;               /* source line of the <chain> element */
};

struct spec_gateway {
    char *id;
    char *agw;              /* AGW name in the topology */
    char *node;             /* node id the terminals attach to */
    enum spec_auth auth;
    int line;
};

struct spec_measure {
    char *id;
    char *link;             /* link id */
    char *filter;           /* BPF expression, may be NULL (everything) */
    char *metrics;          /* space-separated: throughput loss delay; NULL=all */
    int line;
};

struct spec_lease {
    bool present;
    time_t start;           /* 0 = now */
    uint64_t duration_s;    /* 0 = the controller's default */
};

struct slice_spec {
    char *name;
    unsigned weight;        /* slice share at each port, default 1 */
    struct spec_lease lease;
    struct spec_node *nodes;
    size_t n_nodes;
    struct spec_link *links;  /* the <link>s in document order, then the
                                 links of each chain, chain by chain */
    size_t n_links;
    struct spec_chain *chains; /* in document order */
    size_t n_chains;
    struct spec_gateway *gateways;
    size_t n_gateways;
    struct spec_measure *measures;
    size_t n_measures;
};

/* Parses, schema-validates and checks 'xml' (len bytes, need not be
 * NUL-terminated). On success returns NULL and sets *out (caller frees with
 * spec_free). Otherwise returns a malloc'd message (caller frees) of one or
 * more lines, each "line N: <element> '<id>': what is wrong; how to fix",
 * e.g. "line 7: link 'l1': bandwidth '100Mbt' is not a rate; use e.g.
 * 100Mbit". Never crashes on any input. */
char *spec_parse(const char *xml, size_t len, struct slice_spec **out);
char *spec_parse_file(const char *path, struct slice_spec **out);
void spec_free(struct slice_spec *spec);

/* Lookups by id; NULL / -1 if absent. */
const struct spec_node *spec_find_node(const struct slice_spec *spec, const char *id);
int spec_node_index(const struct slice_spec *spec, const char *id);

const char *spec_node_kind_name(enum spec_node_kind kind);

/* Live changes (lib/spec_edit.c): sets attributes of link 'link' in the
 * spec 'xml' (n_kv pairs in kv: name, value, name, value...; only
 * bandwidth, ceiling, burst and weight) and checks the result as
 * spec_parse does. Returns NULL and sets *out to the new XML (caller
 * frees), or a malloc'd message (caller frees). Only a <link> element is
 * found: the links of a chain ("web.1") are not, for now. */
char *spec_set_link_attrs(const char *xml, const char *link,
                          const char *const *kv, size_t n_kv, char **out);

#endif
