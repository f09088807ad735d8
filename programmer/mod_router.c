/* mod_router: an IPv4 router module.
 *
 * Parameters (repeatable, applied in order; see docs/programmer.md):
 *   address=PORT:A.B.C.D/LEN   an address of the router on port PORT; also
 *                              adds the connected route of its subnet
 *   route=PREFIX/LEN:PORT[:NEXTHOP]  a static route ("default" = 0.0.0.0/0);
 *                              without NEXTHOP the prefix is connected
 *   icmp=on|off                send ICMP time exceeded / unreachable
 *                              (default on; echo replies are always sent)
 *
 * Per packet: frames must be addressed to the input port's MAC (or be
 * broadcast ARP); ARP and ICMP echo to the router's addresses are handled
 * by fp_l3 (shared with the NAT module), everything else to us is dropped.
 * Other IPv4 packets are routed: longest-prefix match (fp_lpm), TTL
 * decrement with an incremental checksum update (RFC 1624), TTL <= 1
 * dropped with an ICMP time exceeded, no route dropped with an ICMP net
 * unreachable, then out through fp_l3's ARP cache (see fp_l3.h for
 * resolution, queueing and ageing). */
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "fp_l3.h"
#include "fp_lpm.h"
#include "fp_modules.h"
#include "fp_param.h"
#include "vnode_module.h"
#include "vnode_pkt.h"

#define RT_MAX_ROUTES 4096

struct rt_route {
    uint32_t prefix; /* host order */
    int plen;
    uint16_t port;
    uint32_t gw; /* host order; 0 = connected */
};

struct router {
    const struct vnode_env *env;
    struct fp_l3 *l3;
    struct rt_route *routes; /* indexed by the fp_lpm value */
    int n_routes;
    struct fp_lpm *lpm;
};

/* ---- parameters ------------------------------------------------------ */

static int add_route(struct router *r, uint32_t prefix, int plen, uint16_t port,
                     uint32_t gw, char **err)
{
    for (int i = 0; i < r->n_routes; i++) {
        if (r->routes[i].prefix == prefix && r->routes[i].plen == plen) {
            r->routes[i].port = port; /* replaces the route of that prefix */
            r->routes[i].gw = gw;
            return 0;
        }
    }
    if (r->n_routes == RT_MAX_ROUTES) {
        fp_errf(err, "router: more than %d routes", RT_MAX_ROUTES);
        return -1;
    }
    if (fp_lpm_insert(r->lpm, prefix, plen, (uint32_t)r->n_routes) < 0) {
        fp_errf(err, "router: out of memory");
        return -1;
    }
    r->routes[r->n_routes++] = (struct rt_route){
        .prefix = prefix, .plen = plen, .port = port, .gw = gw};
    return 0;
}

/* address=PORT:A.B.C.D/LEN */
static int cfg_address(struct router *r, const char *v, char **err)
{
    struct fp_l3_addr a;

    if (fp_l3_add_address(r->l3, v, &a, err) < 0)
        return -1;
    return add_route(r, a.ip & fp_lpm_mask(a.plen), a.plen, a.port, 0, err);
}

/* route=PREFIX/LEN:PORT[:NEXTHOP] */
static int cfg_route(struct router *r, const char *v, char **err)
{
    char buf[96], *port_s, *gw_s;
    uint32_t prefix, gw = 0;
    int plen, port;

    if (strlen(v) >= sizeof(buf)) {
        fp_errf(err, "router: route '%.40s...' is too long", v);
        return -1;
    }
    strcpy(buf, v);
    port_s = strchr(buf, ':');
    if (port_s == NULL) {
        fp_errf(err,
                "router: route '%s' is not PREFIX/LEN:PORT[:NEXTHOP] "
                "(e.g. 10.0.3.0/24:l2:10.0.2.2)",
                v);
        return -1;
    }
    *port_s++ = '\0';
    gw_s = strchr(port_s, ':');
    if (gw_s != NULL)
        *gw_s++ = '\0';
    if (!fp_parse_cidr(buf, &prefix, &plen)) {
        fp_errf(err, "router: route '%s': '%s' is not A.B.C.D/LEN or default",
                v, buf);
        return -1;
    }
    if ((prefix & ~fp_lpm_mask(plen)) != 0) {
        fp_errf(err, "router: route '%s': %s has bits set beyond /%d", v, buf,
                plen);
        return -1;
    }
    port = fp_port_by_name(r->env, port_s, strlen(port_s));
    if (port < 0) {
        fp_errf(err, "router: route '%s': no port named '%s'", v, port_s);
        return -1;
    }
    if (gw_s != NULL && (!fp_parse_ipv4(gw_s, &gw) || !fp_unicast_ip(gw))) {
        fp_errf(err,
                "router: route '%s': next hop '%s' is not a unicast "
                "IPv4 address",
                v, gw_s);
        return -1;
    }
    return add_route(r, prefix, plen, (uint16_t)port, gw, err);
}

static int rt_configure(void *state, const char *key, const char *value,
                        char **err)
{
    struct router *r = state;
    int on;

    if (strcmp(key, "address") == 0)
        return cfg_address(r, value, err);
    if (strcmp(key, "route") == 0)
        return cfg_route(r, value, err);
    if (strcmp(key, "icmp") == 0) {
        if ((on = fp_parse_onoff(value)) < 0) {
            fp_errf(err, "router: icmp '%s' must be on or off", value);
            return -1;
        }
        fp_l3_set_icmp_errors(r->l3, on);
        return 0;
    }
    fp_errf(err,
            "router has no parameter '%s' (it takes: address, route, "
            "icmp)",
            key);
    return -1;
}

/* ---- per packet ------------------------------------------------------ */

static void handle_ipv4(struct router *r, struct vnode_pkt *p,
                        struct vnode_meta *m, uint64_t now_ns)
{
    uint32_t dst = ntohl(m->ip_dst), idx;
    const struct rt_route *rt;

    if (!fp_l3_for_us(r->l3, p, m))
        return; /* not addressed to this router (or multicast) */
    if (fp_l3_local(r->l3, dst) >= 0) {
        fp_l3_local_input(r->l3, p, m);
        return;
    }
    if (!fp_unicast_ip(dst) || !fp_unicast_ip(ntohl(m->ip_src)))
        return;
    if (m->ip_ttl <= 1) {
        fp_l3_icmp_error(r->l3, p, m, VNODE_ICMP_TIME_EXCEEDED, 0, now_ns);
        return;
    }
    if (!fp_lpm_lookup(r->lpm, dst, &idx, NULL)) {
        fp_l3_icmp_error(r->l3, p, m, VNODE_ICMP_UNREACH, 0, now_ns);
        return;
    }
    rt = &r->routes[idx];
    fp_l3_ttl_dec(p, m);
    fp_l3_output(r->l3, p, m, rt->port, rt->gw != 0 ? rt->gw : dst, now_ns);
}

static void rt_process(void *state, struct vnode_batch *batch,
                       struct vnode_meta *meta)
{
    struct router *r = state;

    for (int i = 0; i < batch->n; i++) {
        struct vnode_meta *m = &meta[i];

        m->out = VNODE_DROP;
        if (m->l3_off != VNODE_ETH_HLEN || m->in_port >= r->env->n_ports)
            continue; /* runts and 802.1Q-tagged frames */
        if (m->flags & VNODE_F_ARP)
            fp_l3_arp_input(r->l3, &batch->pkts[i], m, batch->now_ns);
        else if (m->flags & VNODE_F_IPV4)
            handle_ipv4(r, &batch->pkts[i], m, batch->now_ns);
    }
}

static void rt_tick(void *state, uint64_t now_ns)
{
    struct router *r = state;

    fp_l3_tick(r->l3, now_ns);
}

static void rt_fini(void *state)
{
    struct router *r = state;

    if (r == NULL)
        return;
    fp_l3_free(r->l3);
    fp_lpm_free(r->lpm);
    free(r->routes);
    free(r);
}

static void *rt_init(const struct vnode_env *env,
                     const struct vnode_param *params, int n_params, char **err)
{
    struct router *r = calloc(1, sizeof(*r));

    if (r == NULL || (r->lpm = fp_lpm_new()) == NULL ||
        (r->routes = calloc(RT_MAX_ROUTES, sizeof(*r->routes))) == NULL ||
        (r->l3 = fp_l3_new(env, "router")) == NULL) {
        rt_fini(r);
        fp_errf(err, "router: out of memory");
        return NULL;
    }
    r->env = env;
    for (int i = 0; i < n_params; i++) {
        if (rt_configure(r, params[i].key, params[i].value, err) < 0) {
            rt_fini(r);
            return NULL;
        }
    }
    return r;
}

static const char *const rt_keys[] = {"address", "route", "icmp", NULL};

const struct vnode_module vnode_mod_router = {
    .abi = VNODE_MODULE_ABI,
    .name = "router",
    .summary = "IPv4 router with static routes, ARP and ICMP echo "
               "(params: address=PORT:A.B.C.D/LEN, "
               "route=PREFIX/LEN:PORT[:NEXTHOP], icmp=on|off)",
    .param_keys = rt_keys,
    .init = rt_init,
    .configure = rt_configure,
    .process = rt_process,
    .tick = rt_tick,
    .fini = rt_fini,
    .stats = NULL,
};
