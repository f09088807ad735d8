/* Unit tests for testbed/plan.c: addresses unique, interface names short,
 * and every data address reachable from every vnode and back, checked with a
 * naive hop-by-hop forwarding reference over the plan, for both shipped
 * topologies and a few made-up ones. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka.h needs the four above first */
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testbed/plan.h"

/* ---- fixtures ---- */

struct fx {
    struct topo *t;
    struct tb_plan *p;
};

static struct fx *load(const char *path)
{
    struct fx *f = calloc(1, sizeof(*f));
    char *err = topo_parse_file(path, &f->t);

    if (err != NULL)
        fail_msg("%s: %s", path, err);
    err = tb_plan_build(f->t, &f->p);
    if (err != NULL)
        fail_msg("%s: plan: %s", path, err);
    return f;
}

static void unload(struct fx *f)
{
    tb_plan_free(f->p);
    topo_free(f->t);
    free(f);
}

#define VN(name, addr, mgmt)                                                   \
    "<vnode name='" name "' address='" addr "' mgmt='" mgmt "'>"               \
    "<redirector port-bandwidth='1Gbit'/>"                                     \
    "<programmer fastpath-slots='1' vcpus='1' memory='1GiB'/></vnode>"
#define LINK(a, b) "<link a='" a "' b='" b "' bandwidth='1Gbit'/>"
#define TOPO(body)                                                             \
    "<topology name='t' xmlns='urn:vnode:topology:1'>" body "</topology>"

/* Builds the plan of an inline topology: NULL on success (plan in *out) or
 * the plan's error message (caller frees). */
static char *plan_of(const char *xml, struct fx **out)
{
    struct fx *f = calloc(1, sizeof(*f));
    char *err = topo_parse(xml, strlen(xml), &f->t);

    if (err != NULL)
        fail_msg("topology: %s", err);
    err = tb_plan_build(f->t, &f->p);
    if (err != NULL || out == NULL) {
        unload(f);
        f = NULL;
    }
    if (out != NULL)
        *out = f;
    return err;
}

/* ---- naive reference forwarding ---- */

static bool owns(const struct tb_plan *p, size_t n, uint32_t a)
{
    if (p->nodes[n].address == a)
        return true;
    for (size_t i = 0; i < p->n_veths; i++)
        for (int e = 0; e < 2; e++)
            if (p->veths[i].node[e] == n && p->veths[i].addr[e] == a)
                return true;
    return false;
}

static bool in_prefix(uint32_t a, uint32_t net, unsigned plen)
{
    return (a & tb_ip4_mask(plen)) == (net & tb_ip4_mask(plen));
}

/* The node owning 'a' behind veth end (v, e) seen from the other side:
 * through the management bridge, any node with that mg0 address. */
static int neighbour_owning(const struct tb_plan *p, size_t v, int e,
                            uint32_t a)
{
    size_t other = p->veths[v].node[1 - e];

    if (p->nodes[other].kind == TB_MGMT) {
        for (size_t i = 0; i < p->n_veths; i++)
            if (p->veths[i].role == TB_MGMT_PORT && p->veths[i].addr[0] == a)
                return (int)p->veths[i].node[0];
        return -1;
    }
    return owns(p, other, a) ? (int)other : -1;
}

/* Longest-prefix match at node n over connected prefixes and routes; sets
 * the next node and the source address the kernel would pick. */
static int next_hop(const struct tb_plan *p, size_t n, uint32_t dst,
                    uint32_t *src)
{
    int best_len = -1, next = -1;

    for (size_t i = 0; i < p->n_veths; i++) {
        const struct tb_veth *v = &p->veths[i];
        for (int e = 0; e < 2; e++) {
            uint32_t net = v->peer[e] ? v->peer[e] : v->addr[e];
            int plen = v->peer[e] ? 32 : v->plen[e];
            if (v->node[e] != n || v->addr[e] == 0 ||
                !in_prefix(dst, net, (unsigned)plen) || plen <= best_len)
                continue;
            best_len = plen;
            next = neighbour_owning(p, i, e, dst);
            *src = v->addr[e];
        }
    }
    for (size_t r = 0; r < p->n_routes; r++) {
        const struct tb_route *rt = &p->routes[r];
        if (rt->node != n || !in_prefix(dst, rt->dst, rt->plen) ||
            rt->plen <= best_len)
            continue;
        best_len = rt->plen;
        next = -1;
        for (size_t i = 0; i < p->n_veths; i++)
            for (int e = 0; e < 2; e++)
                if (p->veths[i].node[e] == n &&
                    strcmp(p->veths[i].ifname[e], rt->dev) == 0) {
                    next = neighbour_owning(p, i, e, rt->via);
                    *src = rt->src ? rt->src : p->veths[i].addr[e];
                }
    }
    return next;
}

/* Sends from node 'from' to 'dst': returns the node that receives it, or -1
 * (no route, loop, or transit through a node that does not forward). Sets
 * *src to the source address chosen at 'from'. */
static int deliver(const struct tb_plan *p, size_t from, uint32_t dst,
                   uint32_t *src)
{
    size_t n = from;

    for (int hops = 0; hops < 32; hops++) {
        uint32_t s = 0;
        int next;
        if (owns(p, n, dst))
            return (int)n;
        if (n != from && !p->nodes[n].forward)
            return -1;
        next = next_hop(p, n, dst, &s);
        if (n == from)
            *src = s;
        if (next < 0)
            return -1;
        n = (size_t)next;
    }
    return -1;
}

/* dst reachable from 'from' and the reply reaches 'from' again. */
static void assert_round_trip(const struct tb_plan *p, size_t from,
                              uint32_t dst, size_t want)
{
    char a[TB_IP4_STRLEN], b[TB_IP4_STRLEN];
    uint32_t src = 0, back = 0;
    int got = deliver(p, from, dst, &src);

    if (got != (int)want)
        fail_msg("%s -> %s: reached %s", p->nodes[from].name,
                 tb_ip4_str(dst, a), got < 0 ? "nothing" : p->nodes[got].name);
    if (deliver(p, want, src, &back) != (int)from)
        fail_msg("%s -> %s: reply to %s does not come back",
                 p->nodes[from].name, tb_ip4_str(dst, a), tb_ip4_str(src, b));
}

/* ---- generic checks over a plan ---- */

static void check_names(const struct tb_plan *p)
{
    for (size_t i = 0; i < p->n_veths; i++)
        for (int e = 0; e < 2; e++) {
            const char *n = p->veths[i].ifname[e];
            assert_true(strlen(n) > 0 && strlen(n) <= 15);
            /* unique within the namespace */
            for (size_t j = 0; j < p->n_veths; j++)
                for (int f = 0; f < 2; f++)
                    if ((j != i || f != e) &&
                        p->veths[j].node[f] == p->veths[i].node[e])
                        assert_string_not_equal(n, p->veths[j].ifname[f]);
        }
}

static void check_unique_addresses(const struct tb_plan *p)
{
    size_t cap = p->n_nodes + 2 * p->n_veths, n = 0;
    uint32_t *addr = calloc(cap, sizeof(*addr));
    size_t *node = calloc(cap, sizeof(*node));

    for (size_t i = 0; i < p->n_nodes; i++)
        if (p->nodes[i].address) {
            addr[n] = p->nodes[i].address;
            node[n++] = i;
        }
    for (size_t i = 0; i < p->n_veths; i++)
        for (int e = 0; e < 2; e++)
            if (p->veths[i].addr[e]) {
                addr[n] = p->veths[i].addr[e];
                node[n++] = p->veths[i].node[e];
            }
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++)
            if (addr[i] == addr[j] && node[i] != node[j])
                fail_msg("%s and %s share an address", p->nodes[node[i]].name,
                         p->nodes[node[j]].name);
    free(addr);
    free(node);
}

static void check_reachability(const struct tb_plan *p)
{
    size_t ctl = (size_t)tb_plan_node_index(p, "ctl");

    for (size_t a = 0; a < p->n_nodes; a++) {
        enum tb_kind k = p->nodes[a].kind;
        /* A router without address has only its link addresses to answer
         * from, which far nodes have no route to. */
        if (k != TB_VNODE && k != TB_AGW &&
            (k != TB_ROUTER || p->nodes[a].address == 0))
            continue;
        for (size_t b = 0; b < p->n_nodes; b++)
            if (b != a && p->nodes[b].address != 0)
                assert_round_trip(p, a, p->nodes[b].address, b);
    }
    for (size_t i = 0; i < p->n_veths; i++) {
        const struct tb_veth *v = &p->veths[i];
        if (v->role == TB_MGMT_PORT && v->node[0] != ctl)
            assert_round_trip(p, ctl, v->addr[0], v->node[0]);
        if (v->role == TB_ACCESS) {
            /* terminal to its agw and gateway; every vnode to terminal */
            assert_round_trip(p, v->node[0], v->addr[1], v->node[1]);
            assert_round_trip(p, v->node[0], p->nodes[v->node[1]].address,
                              v->node[1]);
            for (size_t n = 0; n < p->n_nodes; n++)
                if (p->nodes[n].kind == TB_VNODE)
                    assert_round_trip(p, n, v->addr[0], v->node[0]);
        }
    }
}

static void check_vnodes(const struct tb_plan *p)
{
    for (size_t i = 0; i < p->n_nodes; i++) {
        bool tr0 = false;
        if (p->nodes[i].kind != TB_VNODE)
            continue;
        assert_true(p->nodes[i].drop_gre);
        for (size_t v = 0; v < p->n_veths; v++)
            for (int e = 0; e < 2; e++)
                tr0 |= p->veths[v].node[e] == i &&
                       strcmp(p->veths[v].ifname[e], "tr0") == 0;
        assert_true(tr0);
    }
}

static void check_all(const struct tb_plan *p)
{
    check_names(p);
    check_unique_addresses(p);
    check_vnodes(p);
    check_reachability(p);
}

/* ---- tests ---- */

static void test_small(void **state)
{
    struct fx *f = load("testbed/topologies/small.xml");
    char a[TB_IP4_STRLEN];
    int t1 = tb_plan_node_index(f->p, "t1");

    (void)state;
    check_all(f->p);
    /* 3 vnodes + core + agw1 + t1 + mgmt + ctl */
    assert_int_equal(f->p->n_nodes, 8);
    /* link 0 is vn1-core: 198.18.128.1 on vn1's tr0, .2 on core's t0 */
    assert_int_equal(f->p->veths[0].role, TB_TRANSPORT);
    assert_string_equal(f->p->veths[0].ifname[0], "tr0");
    assert_string_equal(f->p->veths[0].ifname[1], "t0");
    assert_string_equal(tb_ip4_str(f->p->veths[0].addr[0], a), "198.18.128.1");
    assert_string_equal(tb_ip4_str(f->p->veths[3].addr[1], a), "198.18.128.14");
    /* t1 198.18.10.2/24, its gateway 198.18.10.1 on agw1 */
    for (size_t i = 0; i < f->p->n_veths; i++)
        if (f->p->veths[i].role == TB_ACCESS) {
            assert_int_equal(f->p->veths[i].node[0], t1);
            assert_string_equal(tb_ip4_str(f->p->veths[i].addr[1], a),
                                "198.18.10.1");
        }
    assert_true(f->p->nodes[tb_plan_node_index(f->p, "core")].forward);
    assert_false(f->p->nodes[tb_plan_node_index(f->p, "vn1")].forward);
    unload(f);
}

static void test_jgnx(void **state)
{
    struct fx *f = load("testbed/topologies/jgnx.xml");
    size_t n_routes_router = 0;

    (void)state;
    check_all(f->p);
    assert_int_equal(f->p->n_nodes, 9 + 4 + 6 + 6 + 2);
    /* vnodes with one link only need their default route */
    for (size_t r = 0; r < f->p->n_routes; r++) {
        const struct tb_route *rt = &f->p->routes[r];
        if (f->p->nodes[rt->node].kind == TB_VNODE)
            assert_int_equal(rt->plen, 0);
        else if (f->p->nodes[rt->node].kind == TB_ROUTER)
            n_routes_router++;
    }
    /* every router: 9 vnodes + 6 agws + 6 terminals + 3 other routers */
    assert_int_equal(n_routes_router, 4 * 24);
    unload(f);
}

/* A vnode with a direct link to another vnode besides its router: the
 * direct peer is routed over the direct link, not the default. */
static void test_direct_link(void **state)
{
    struct fx *f = NULL;
    char *err = plan_of(
        TOPO(VN("a", "10.0.0.1", "198.19.0.11") VN("b", "10.0.0.2",
                                                   "198.19.0.12")
                 VN("c", "10.0.0.3", "198.19.0.13") "<router name='r'/>" LINK(
                     "a", "r") LINK("b", "r") LINK("c", "r") LINK("a", "b")),
        &f);
    bool direct = false;

    (void)state;
    assert_null(err);
    check_all(f->p);
    for (size_t r = 0; r < f->p->n_routes; r++)
        direct |= f->p->routes[r].node == 0 && f->p->routes[r].plen == 32 &&
                  strcmp(f->p->routes[r].dev, "t3") == 0;
    assert_true(direct);
    unload(f);
}

/* Two routers in a line (one without address), terminals on one agw: one at
 * .1 (gateway .254), two in the same /24 (sharing gateway .1), one without
 * address (from 100.64.0.0/16). */
static void test_terminals(void **state)
{
    struct fx *f = NULL;
    char *err = plan_of(
        TOPO(VN("a", "10.0.0.1", "198.19.0.11") VN(
            "b", "10.0.0.2",
            "198.19.0.12") "<router name='r1' address='10.1.0.1'/><router "
                           "name='r2'/>"
                           "<agw name='g' vnode='a' address='10.0.9.1' "
                           "mgmt='198.19.0.31'/>"
                           "<terminal name='t1' agw='g' address='10.0.10.1'/>"
                           "<terminal name='t2' agw='g' address='10.0.11.2'/>"
                           "<terminal name='t3' agw='g'/>"
                           "<terminal name='t4' agw='g' "
                           "address='10.0.11.3'/>" LINK("a", "r1") LINK(
                               "r1", "r2") LINK("b", "r2") LINK("g", "r2")),
        &f);
    char a[TB_IP4_STRLEN];
    size_t n_access = 0;

    (void)state;
    assert_null(err);
    check_all(f->p);
    for (size_t i = 0; i < f->p->n_veths; i++) {
        const struct tb_veth *v = &f->p->veths[i];
        if (v->role != TB_ACCESS)
            continue;
        n_access++;
        assert_int_equal(v->peer[1], v->addr[0]);
        if (strcmp(f->p->nodes[v->node[0]].name, "t1") == 0)
            assert_string_equal(tb_ip4_str(v->addr[1], a), "10.0.10.254");
        if (strcmp(f->p->nodes[v->node[0]].name, "t3") == 0)
            assert_string_equal(tb_ip4_str(v->addr[0], a), "100.64.2.2");
    }
    assert_int_equal(n_access, 4);
    unload(f);
}

static void assert_refused(const char *xml, const char *needle)
{
    char *err = plan_of(xml, NULL);

    assert_non_null(err);
    if (strstr(err, needle) == NULL)
        fail_msg("expected '%s' in: %s", needle, err);
    free(err);
}

static void test_refusals(void **state)
{
    (void)state;
    assert_refused(TOPO(VN("a", "10.0.0.1", "198.19.0.11")
                            VN("b", "10.0.0.2", "198.19.0.12") LINK("a", "b")
                                VN("c", "10.0.0.3", "198.19.0.13")),
                   "vnode 'c' has no transport link");
    assert_refused(TOPO(VN("a", "10.0.0.1", "198.19.0.11")
                            VN("b", "10.0.0.1", "198.19.0.12") LINK("a", "b")),
                   "10.0.0.1 is used twice");
    assert_refused(TOPO(VN("a", "10.0.0.1", "198.19.0.11")
                            VN("b", "10.0.0.2", "198.19.0.11") LINK("a", "b")),
                   "198.19.0.11 is used twice");
    assert_refused(TOPO(VN("a", "10.0.0.1", "10.9.0.11")
                            VN("b", "10.0.0.2", "198.19.0.12") LINK("a", "b")),
                   "must be a host in 198.19.0.0/24");
    assert_refused(TOPO(VN("a", "10.0.0.1", "198.19.0.1")
                            VN("b", "10.0.0.2", "198.19.0.12") LINK("a", "b")),
                   "198.19.0.1 is used twice");
    assert_refused(TOPO(VN("ctl", "10.0.0.1", "198.19.0.11") VN(
                       "b", "10.0.0.2", "198.19.0.12") LINK("ctl", "b")),
                   "reserved");
    assert_refused(TOPO(VN("a", "198.18.128.1", "198.19.0.11")
                            VN("b", "10.0.0.2", "198.19.0.12") LINK("a", "b")),
                   "inside 198.18.128.0/17");
    assert_refused(
        TOPO(VN("a", "10.0.0.1", "198.19.0.11") VN("b", "10.0.0.2",
                                                   "198.19.0.12")
                 LINK("a",
                      "b") "<agw name='g' vnode='a' address='10.0.9.1' "
                           "mgmt='198.19.0.31'/>"
                           "<terminal name='t' agw='g' address='10.0.0.255'/>"),
        "broadcast");
    /* the gateway of t (10.0.0.1) is vnode a's address */
    assert_refused(
        TOPO(VN("a", "10.0.0.1", "198.19.0.11") VN("b", "10.0.0.3",
                                                   "198.19.0.12")
                 LINK("a",
                      "b") "<agw name='g' vnode='a' address='10.0.9.1' "
                           "mgmt='198.19.0.31'/>"
                           "<terminal name='t' agw='g' address='10.0.0.2'/>"),
        "10.0.0.1 is used twice");
}

static void test_ip4(void **state)
{
    char a[TB_IP4_STRLEN];
    uint32_t x = 0;

    (void)state;
    assert_int_equal(tb_ip4_parse("198.18.128.5", &x), 0);
    assert_int_equal(x, TB_LINK_POOL + 5);
    assert_string_equal(tb_ip4_str(x, a), "198.18.128.5");
    assert_int_equal(tb_ip4_parse("198.18.128", &x), -1);
    assert_int_equal(tb_ip4_parse(NULL, &x), -1);
    assert_int_equal(tb_ip4_mask(0), 0);
    assert_int_equal(tb_ip4_mask(17), 0xffff8000u);
    assert_int_equal(tb_ip4_mask(32), 0xffffffffu);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ip4),       cmocka_unit_test(test_small),
        cmocka_unit_test(test_jgnx),      cmocka_unit_test(test_direct_link),
        cmocka_unit_test(test_terminals), cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
