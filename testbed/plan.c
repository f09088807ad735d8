/* plan: addresses, interfaces and static routes of a testbed. */
#include "plan.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LINKS (1u << (32 - TB_LINK_POOL_LEN - 2))
#define MAX_TERMINALS 256

/* ---- addresses ---- */

char *tb_ip4_str(uint32_t addr, char buf[TB_IP4_STRLEN])
{
    snprintf(buf, TB_IP4_STRLEN, "%u.%u.%u.%u", addr >> 24, (addr >> 16) & 255,
             (addr >> 8) & 255, addr & 255);
    return buf;
}

int tb_ip4_parse(const char *s, uint32_t *addr)
{
    struct in_addr in;

    if (s == NULL || inet_pton(AF_INET, s, &in) != 1)
        return -1;
    *addr = ntohl(in.s_addr);
    return 0;
}

uint32_t tb_ip4_mask(unsigned plen)
{
    return plen == 0 ? 0 : plen >= 32 ? 0xffffffffu : ~(0xffffffffu >> plen);
}

static bool in_net(uint32_t addr, uint32_t net, unsigned plen)
{
    return (addr & tb_ip4_mask(plen)) == (net & tb_ip4_mask(plen));
}

const char *tb_kind_name(enum tb_kind k)
{
    static const char *const names[] = {
        [TB_VNODE] = "vnode",       [TB_ROUTER] = "router", [TB_AGW] = "agw",
        [TB_TERMINAL] = "terminal", [TB_MGMT] = "mgmt",     [TB_CTL] = "ctl",
    };
    return (size_t)k < sizeof(names) / sizeof(names[0]) ? names[k] : "?";
}

int tb_plan_node_index(const struct tb_plan *p, const char *name)
{
    for (size_t i = 0; name != NULL && i < p->n_nodes; i++)
        if (strcmp(p->nodes[i].name, name) == 0)
            return (int)i;
    return -1;
}

/* ---- building ---- */

static char *msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *msg(const char *fmt, ...)
{
    va_list ap;
    char *s = NULL;

    va_start(ap, fmt);
    if (vasprintf(&s, fmt, ap) < 0)
        s = NULL;
    va_end(ap);
    return s != NULL ? s : strdup("out of memory");
}

/* Reads an optional dotted quad; "" or NULL gives 0. */
static char *parse_addr(const char *what, const char *name, const char *s,
                        uint32_t *out)
{
    *out = 0;
    if (s == NULL || *s == '\0')
        return NULL;
    if (tb_ip4_parse(s, out) < 0 || *out == 0)
        return msg("%s '%s': address '%s' is not a usable IPv4 address", what,
                   name, s);
    return NULL;
}

static char *add_nodes(const struct topo *t, struct tb_plan *p)
{
    char *err = NULL;
    size_t n = 0;

    for (size_t i = 0; i < t->n_vnodes && err == NULL; i++) {
        struct tb_node *nd = &p->nodes[n++];
        nd->name = t->vnodes[i].name;
        nd->kind = TB_VNODE;
        nd->drop_gre = true;
        err = parse_addr("vnode", nd->name, t->vnodes[i].address, &nd->address);
        if (err == NULL)
            err = parse_addr("vnode", nd->name, t->vnodes[i].mgmt, &nd->mgmt);
    }
    for (size_t i = 0; i < t->n_routers && err == NULL; i++) {
        struct tb_node *nd = &p->nodes[n++];
        nd->name = t->routers[i].name;
        nd->kind = TB_ROUTER;
        nd->forward = true;
        /* Routers have no management port: only vnodes, agws and ctl do
         * (docs/dataplane.md). */
        err =
            parse_addr("router", nd->name, t->routers[i].address, &nd->address);
    }
    for (size_t i = 0; i < t->n_agws && err == NULL; i++) {
        struct tb_node *nd = &p->nodes[n++];
        nd->name = t->agws[i].name;
        nd->kind = TB_AGW;
        /* Terminals reach the transport (and any agw) through their agw,
         * as they would over the Internet; transport paths never cross an
         * agw (only routers transit), so this carries terminal traffic only. */
        nd->forward = true;
        err = parse_addr("agw", nd->name, t->agws[i].address, &nd->address);
        if (err == NULL)
            err = parse_addr("agw", nd->name, t->agws[i].mgmt, &nd->mgmt);
    }
    for (size_t i = 0; i < t->n_terminals; i++) {
        p->nodes[n].name = t->terminals[i].name;
        p->nodes[n++].kind = TB_TERMINAL;
    }
    p->nodes[n++] = (struct tb_node){.name = "mgmt", .kind = TB_MGMT};
    p->nodes[n++] =
        (struct tb_node){.name = "ctl", .kind = TB_CTL, .mgmt = TB_CTL_MGMT};
    p->n_nodes = n;
    for (size_t i = 0; i + 2 < n && err == NULL; i++)
        if (strcmp(p->nodes[i].name, "mgmt") == 0 ||
            strcmp(p->nodes[i].name, "ctl") == 0)
            err = msg("%s '%s': the name is reserved for the testbed's own "
                      "namespace; rename it",
                      tb_kind_name(p->nodes[i].kind), p->nodes[i].name);
    return err;
}

static int set_ifname(char dst[IFNAMSIZ], const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int set_ifname(char dst[IFNAMSIZ], const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(dst, IFNAMSIZ, fmt, ap);
    va_end(ap);
    return n > 0 && n < IFNAMSIZ ? 0 : -1;
}

/* Lowest-index link touching vertex v, or -1. */
static int first_link(const struct topo *t, size_t v)
{
    for (size_t l = 0; l < t->n_links; l++)
        if ((size_t)topo_vertex_index(t, t->links[l].a) == v ||
            (size_t)topo_vertex_index(t, t->links[l].b) == v)
            return (int)l;
    return -1;
}

static char *add_transport(const struct topo *t, struct tb_plan *p)
{
    if (t->n_links > MAX_LINKS)
        return msg("%zu links do not fit in 198.18.128.0/17 (at most %u)",
                   t->n_links, MAX_LINKS);
    for (size_t l = 0; l < t->n_links; l++) {
        struct tb_veth *v = &p->veths[p->n_veths++];
        uint32_t net = TB_LINK_POOL + 4 * (uint32_t)l;

        v->role = TB_TRANSPORT;
        v->link = (int)l;
        v->node[0] = (size_t)topo_vertex_index(t, t->links[l].a);
        v->node[1] = (size_t)topo_vertex_index(t, t->links[l].b);
        for (int e = 0; e < 2; e++) {
            size_t nd = v->node[e];
            bool tr0 =
                p->nodes[nd].kind == TB_VNODE && first_link(t, nd) == (int)l;
            if (tr0)
                set_ifname(v->ifname[e], "tr0");
            else if (set_ifname(v->ifname[e], "t%zu", l) < 0)
                return msg("link %zu: interface name too long", l);
            v->addr[e] = net + 1 + (uint32_t)e;
            v->plen[e] = 30;
        }
    }
    return NULL;
}

/* The agw side of a terminal's access pair: .1 of the terminal's /24, or
 * .254 when the terminal itself is .1. */
static uint32_t access_gateway(uint32_t terminal)
{
    uint32_t net = terminal & tb_ip4_mask(24);

    return (terminal & 255) == 1 ? net + 254 : net + 1;
}

static char *add_access(const struct topo *t, struct tb_plan *p)
{
    size_t first_terminal = topo_n_vertices(t);

    if (t->n_terminals > MAX_TERMINALS)
        return msg("%zu terminals: at most %d are supported", t->n_terminals,
                   MAX_TERMINALS);
    for (size_t i = 0; i < t->n_terminals; i++) {
        const struct topo_terminal *tm = &t->terminals[i];
        struct tb_veth *v = &p->veths[p->n_veths++];
        char buf[TB_IP4_STRLEN];
        char *err;
        uint32_t a;

        err = parse_addr("terminal", tm->name, tm->address, &a);
        if (err != NULL)
            return err;
        if (a == 0)
            a = TB_TERMINAL_POOL + ((uint32_t)i << 8) + 2;
        if ((a & 255) == 0 || (a & 255) == 255)
            return msg("terminal '%s': %s is a network or broadcast address of "
                       "its /24; pick a host address",
                       tm->name, tb_ip4_str(a, buf));
        /* A terminal's address sits on its access veth, not on lo. */
        v->role = TB_ACCESS;
        v->link = -1;
        v->node[0] = first_terminal + i;
        v->node[1] = (size_t)topo_vertex_index(t, tm->agw);
        if (set_ifname(v->ifname[0], "a%zu", i) < 0)
            return msg("terminal %zu: interface name too long", i);
        memcpy(v->ifname[1], v->ifname[0], IFNAMSIZ);
        v->addr[0] = a;
        v->plen[0] = 24;
        v->addr[1] = access_gateway(a);
        v->plen[1] = 32;
        v->peer[1] = a;
    }
    return NULL;
}

static char *add_mgmt(struct tb_plan *p)
{
    size_t mgmt = p->n_nodes - 2;

    for (size_t i = 0; i < p->n_nodes; i++) {
        const struct tb_node *nd = &p->nodes[i];
        struct tb_veth *v;

        if (nd->mgmt == 0)
            continue;
        if (!in_net(nd->mgmt, TB_MGMT_NET, TB_MGMT_LEN) ||
            (nd->mgmt & 255) == 0 || (nd->mgmt & 255) == 255)
            return msg("%s '%s': mgmt address must be a host in 198.19.0.0/24 "
                       "(the management network)",
                       tb_kind_name(nd->kind), nd->name);
        v = &p->veths[p->n_veths++];
        v->role = TB_MGMT_PORT;
        v->link = -1;
        v->node[0] = i;
        v->node[1] = mgmt;
        set_ifname(v->ifname[0], "mg0");
        /* Bridge ports named after the element's kind and index. */
        if (nd->kind == TB_CTL)
            set_ifname(v->ifname[1], "mctl");
        else if (set_ifname(v->ifname[1], "m%c%zu",
                            nd->kind == TB_VNODE ? 'v' : 'a', i) < 0)
            return msg("node %zu: interface name too long", i);
        v->addr[0] = nd->mgmt;
        v->plen[0] = TB_MGMT_LEN;
    }
    return NULL;
}

/* ---- checks ---- */

/* Every address belongs to one node; a node may hold an address twice (an
 * agw's gateway toward several terminals, or equal to its data address). */
struct owner {
    uint32_t addr;
    size_t node;
    const char *what;
};

static char *check_owner(struct owner *o, size_t *n, const struct tb_plan *p,
                         uint32_t addr, size_t node, const char *what,
                         bool is_link)
{
    char a[TB_IP4_STRLEN];

    if (addr == 0)
        return NULL;
    for (size_t i = 0; i < *n; i++)
        if (o[i].addr == addr && o[i].node != node)
            return msg("address %s is used twice: %s of %s '%s' and %s of "
                       "%s '%s'; addresses must be unique",
                       tb_ip4_str(addr, a), o[i].what,
                       tb_kind_name(p->nodes[o[i].node].kind),
                       p->nodes[o[i].node].name, what,
                       tb_kind_name(p->nodes[node].kind), p->nodes[node].name);
    if (!is_link && in_net(addr, TB_LINK_POOL, TB_LINK_POOL_LEN))
        return msg("%s '%s': %s %s is inside 198.18.128.0/17, which the "
                   "testbed keeps for transport links",
                   tb_kind_name(p->nodes[node].kind), p->nodes[node].name, what,
                   tb_ip4_str(addr, a));
    o[(*n)++] = (struct owner){addr, node, what};
    return NULL;
}

static char *check_addresses(const struct tb_plan *p)
{
    struct owner *o = calloc(p->n_nodes * 2 + p->n_veths * 2 + 1, sizeof(*o));
    size_t n = 0;
    char *err = NULL;

    if (o == NULL)
        return strdup("out of memory");
    for (size_t i = 0; i < p->n_nodes && err == NULL; i++)
        err = check_owner(o, &n, p, p->nodes[i].address, i, "data address",
                          false);
    for (size_t i = 0; i < p->n_veths && err == NULL; i++) {
        const struct tb_veth *v = &p->veths[i];
        static const char *const what[] = {
            [TB_TRANSPORT] = "transport address",
            [TB_ACCESS] = "access address",
            [TB_MGMT_PORT] = "mgmt address",
        };
        for (int e = 0; e < 2 && err == NULL; e++)
            err = check_owner(o, &n, p, v->addr[e], v->node[e], what[v->role],
                              v->role == TB_TRANSPORT);
    }
    free(o);
    return err;
}

/* ---- routes ---- */

/* BFS from vertex s over transport links where only routers transit.
 * Sets hop[v] to the link of the first hop toward v (-1: unreachable). */
static void first_hops(const struct topo *t, const struct tb_plan *p, size_t s,
                       size_t *queue, int *hop)
{
    size_t nv = topo_n_vertices(t), head = 0, tail = 0;

    for (size_t v = 0; v < nv; v++)
        hop[v] = -1;
    queue[tail++] = s;
    while (head < tail) {
        size_t u = queue[head++];
        for (size_t i = 0; i < p->n_veths; i++) {
            const struct tb_veth *v = &p->veths[i];
            size_t w;
            if (v->role != TB_TRANSPORT || (v->node[0] != u && v->node[1] != u))
                continue;
            w = v->node[0] == u ? v->node[1] : v->node[0];
            if (w == s || hop[w] >= 0)
                continue;
            hop[w] = u == s ? (int)i : hop[u];
            if (p->nodes[w].kind == TB_ROUTER)
                queue[tail++] = w;
        }
    }
}

static void add_route(struct tb_plan *p, size_t node, uint32_t dst,
                      uint8_t plen, const struct tb_veth *v, uint32_t src)
{
    int e = v->node[0] == node ? 0 : 1;
    struct tb_route *r = &p->routes[p->n_routes++];

    *r = (struct tb_route){.node = node,
                           .dst = dst,
                           .plen = plen,
                           .via = v->addr[1 - e],
                           .src = src};
    memcpy(r->dev, v->ifname[e], IFNAMSIZ);
}

/* Destination addresses and the vertex that holds each: every data address,
 * and every terminal behind its agw. Returns the count. */
static size_t destinations(const struct topo *t, const struct tb_plan *p,
                           uint32_t *addr, size_t *vertex)
{
    size_t nv = topo_n_vertices(t), n = 0;

    for (size_t v = 0; v < nv; v++)
        if (p->nodes[v].address != 0) {
            addr[n] = p->nodes[v].address;
            vertex[n++] = v;
        }
    for (size_t i = 0; i < p->n_veths; i++)
        if (p->veths[i].role == TB_ACCESS) {
            addr[n] = p->veths[i].addr[0];
            vertex[n++] = p->veths[i].node[1];
        }
    return n;
}

static char *add_routes(const struct topo *t, struct tb_plan *p)
{
    size_t nv = topo_n_vertices(t);
    size_t n_dst = nv + t->n_terminals;
    size_t *queue = calloc(nv + 1, sizeof(*queue));
    int *hop = calloc(nv + 1, sizeof(*hop));
    uint32_t *dst = calloc(n_dst + 1, sizeof(*dst));
    size_t *dst_v = calloc(n_dst + 1, sizeof(*dst_v));
    char *err = NULL;

    p->routes =
        calloc(nv * (n_dst + 1) + t->n_terminals + 1, sizeof(*p->routes));
    if (!queue || !hop || !dst || !dst_v || !p->routes) {
        err = strdup("out of memory");
        goto cleanup;
    }
    n_dst = destinations(t, p, dst, dst_v);
    for (size_t s = 0; s < nv; s++) {
        const struct tb_node *nd = &p->nodes[s];
        int def = -1;

        first_hops(t, p, s, queue, hop);
        if (nd->kind != TB_ROUTER) {
            int l = first_link(t, s);
            if (l < 0 && nd->kind == TB_VNODE) {
                err = msg("vnode '%s' has no transport link; give it one",
                          nd->name);
                goto cleanup;
            }
            def = l; /* veth index == link index for transport veths */
            if (def >= 0)
                add_route(p, s, 0, 0, &p->veths[def], nd->address);
        }
        for (size_t d = 0; d < n_dst; d++) {
            if (dst_v[d] == s || hop[dst_v[d]] < 0 || hop[dst_v[d]] == def)
                continue;
            add_route(p, s, dst[d], 32, &p->veths[hop[dst_v[d]]], nd->address);
        }
    }
    /* Terminals: default route via their gateway on the agw. */
    for (size_t i = 0; i < p->n_veths; i++)
        if (p->veths[i].role == TB_ACCESS)
            add_route(p, p->veths[i].node[0], 0, 0, &p->veths[i], 0);
cleanup:
    free(queue);
    free(hop);
    free(dst);
    free(dst_v);
    return err;
}

char *tb_plan_build(const struct topo *t, struct tb_plan **out)
{
    struct tb_plan *p = calloc(1, sizeof(*p));
    size_t nv = topo_n_vertices(t);
    char *err = NULL;

    *out = NULL;
    if (p == NULL)
        return strdup("out of memory");
    p->nodes = calloc(nv + t->n_terminals + 2, sizeof(*p->nodes));
    p->veths = calloc(t->n_links + t->n_terminals + nv + 1, sizeof(*p->veths));
    if (p->nodes == NULL || p->veths == NULL) {
        err = strdup("out of memory");
        goto cleanup;
    }
    if ((err = add_nodes(t, p)) != NULL ||
        (err = add_transport(t, p)) != NULL ||
        (err = add_access(t, p)) != NULL || (err = add_mgmt(p)) != NULL ||
        (err = check_addresses(p)) != NULL || (err = add_routes(t, p)) != NULL)
        goto cleanup;
    *out = p;
    p = NULL;
cleanup:
    tb_plan_free(p);
    return err;
}

void tb_plan_free(struct tb_plan *p)
{
    if (p == NULL)
        return;
    free(p->nodes);
    free(p->veths);
    free(p->routes);
    free(p);
}
