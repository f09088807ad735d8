/* topo: the physical resource model. One XML file (namespace TOPO_NS,
 * checked against lib/schema/topology.xsd) describes the VNodes with their
 * capacities, the access gateways, transport routers, user terminals and
 * the transport links between them. sncd embeds slices in it; the testbed
 * tool builds it. Elements name addresses, so the same file describes
 * namespaces on one machine or separate hosts:
 *
 *   <topology name="small" xmlns="urn:vnode:topology:1">
 *     <vnode name="vn1" address="198.18.1.1" mgmt="198.19.0.11">
 *       <redirector port-bandwidth="1Gbit"/>
 *       <programmer fastpath-slots="8" vcpus="4" memory="4GiB"/>
 *     </vnode>
 *     <router name="core" address="198.18.0.1" mgmt="198.19.0.2"/>
 *     <agw name="agw1" vnode="vn1" address="198.18.9.1" mgmt="198.19.0.31"/>
 *     <terminal name="t1" agw="agw1" address="198.18.10.2"/>
 *     <link a="vn1" b="core" bandwidth="10Gbit"/>
 *   </topology>
 */
#ifndef VN_TOPO_H
#define VN_TOPO_H

#include <stddef.h>
#include <stdint.h>

#define TOPO_NS "urn:vnode:topology:1"

struct topo_vnode {
    char *name;
    char *address;           /* data-plane IPv4 address (tunnel endpoint) */
    char *mgmt;              /* management address daemons listen on */
    uint64_t port_bps;       /* redirector transport port, bits per second */
    unsigned fastpath_slots; /* fast-path slivers it can run */
    unsigned vcpus;          /* for slow-path and container slivers */
    uint64_t memory_bytes;
};

struct topo_router {
    char *name;
    char *address, *mgmt;
};

struct topo_agw {
    char *name;
    char *vnode;             /* the VNode it feeds */
    char *address, *mgmt;
};

struct topo_terminal {
    char *name;
    char *agw;
    char *address;
};

/* Transport link, full duplex: 'bps' in each direction. Endpoints are names
 * of vnodes, routers or agws. */
struct topo_link {
    char *a, *b;
    uint64_t bps;
};

struct topo {
    char *name;
    struct topo_vnode *vnodes;
    size_t n_vnodes;
    struct topo_router *routers;
    size_t n_routers;
    struct topo_agw *agws;
    size_t n_agws;
    struct topo_terminal *terminals;
    size_t n_terminals;
    struct topo_link *links;
    size_t n_links;
};

/* Parses and checks a topology (names unique across all elements, link
 * endpoints exist, agw vnodes exist). Returns NULL and sets *out (free with
 * topo_free), or a malloc'd message naming the line (caller frees). */
char *topo_parse(const char *xml, size_t len, struct topo **out);
char *topo_parse_file(const char *path, struct topo **out);
void topo_free(struct topo *t);

/* Index of the named element, or -1. */
int topo_vnode_index(const struct topo *t, const char *name);
int topo_agw_index(const struct topo *t, const char *name);

/* Graph view of the transport: every vnode, router and agw is a vertex.
 * Vertex ids: vnodes [0, n_vnodes), routers next, agws last. */
size_t topo_n_vertices(const struct topo *t);
int topo_vertex_index(const struct topo *t, const char *name);
const char *topo_vertex_name(const struct topo *t, size_t v);

#endif
