/* net: namespaces, veths, addresses and routes of a plan. */
#include "net.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "netns.h"
#include "run.h"
#include "state.h"

/* Longest namespace name we make: the kernel takes NAME_MAX, iproute2 is
 * happier with less. */
#define NS_MAX 128
/* How long links may take to come up, and how often to look, ms. */
#define LINK_TIMEOUT_MS 5000
#define LINK_POLL_MS 50

int tb_net_nsname(char *buf, size_t size, const char *prefix, const char *node)
{
    int n = snprintf(buf, size, "%s-%s", prefix, node);

    return n > 0 && (size_t)n < size ? 0 : -1;
}

/* "a.b.c.d/len" into buf. */
static const char *cidr(char *buf, size_t size, uint32_t addr, unsigned plen)
{
    char a[TB_IP4_STRLEN];

    snprintf(buf, size, "%s/%u", tb_ip4_str(addr, a), plen);
    return buf;
}

static int ns_of(const struct tb_plan *p, size_t node, const char *prefix,
                 char ns[NS_MAX])
{
    if (tb_net_nsname(ns, NS_MAX, prefix, p->nodes[node].name) < 0) {
        log_err("namespace name %s-%s is too long", prefix,
                p->nodes[node].name);
        return -1;
    }
    return 0;
}

/* Runs a command with the calling thread inside namespace 'ns' (for tools
 * without a -n option, such as iptables). */
static int run_in(const char *ns, const char *const argv[])
{
    int rc;

    if (tb_netns_enter(ns) < 0)
        return -1;
    rc = tb_run(argv);
    tb_netns_leave();
    return rc;
}

static int build_node(const struct tb_plan *p, size_t i, const char *prefix,
                      const char *rundir)
{
    static const char *const no_ipv6[] = {
        "net/ipv6/conf/all/disable_ipv6",
        "net/ipv6/conf/default/disable_ipv6",
    };
    const struct tb_node *nd = &p->nodes[i];
    char ns[NS_MAX], addr[32];

    if (ns_of(p, i, prefix, ns) < 0 ||
        tb_state_add_netns(rundir, ns, tb_kind_name(nd->kind)) < 0 ||
        tb_netns_add(ns) < 0)
        return -1;
    /* No IPv6 in the testbed: no router solicitations, DAD or MLD noise
     * on the links. Kernels without IPv6 lack the keys: fine. */
    for (size_t k = 0; k < sizeof(no_ipv6) / sizeof(no_ipv6[0]); k++) {
        int rc = tb_netns_sysctl(ns, no_ipv6[k], "1");
        if (rc < 0 && rc != -ENOENT)
            return -1;
    }
    if (tb_netns_sysctl(ns, "net/ipv4/ip_forward", nd->forward ? "1" : "0") < 0)
        return -1;
    if (tb_run(TB_ARGV("ip", "-n", ns, "link", "set", "lo", "up")) < 0)
        return -1;
    if (nd->address != 0 &&
        tb_run(TB_ARGV("ip", "-n", ns, "addr", "add",
                       cidr(addr, sizeof(addr), nd->address, 32), "dev",
                       "lo")) < 0)
        return -1;
    /* The kernel has no GRE: without this it would answer every tunnel
     * packet with ICMP protocol-unreachable. redirectord reads them on
     * AF_PACKET, before netfilter. */
    if (nd->drop_gre && run_in(ns, TB_ARGV("iptables", "-w", "-A", "INPUT",
                                           "-p", "47", "-j", "DROP")) < 0)
        return -1;
    if (nd->kind == TB_MGMT &&
        (tb_run(TB_ARGV("ip", "-n", ns, "link", "add", "mgmt0", "type",
                        "bridge")) < 0 ||
         tb_run(TB_ARGV("ip", "-n", ns, "link", "set", "mgmt0", "up")) < 0))
        return -1;
    return 0;
}

static int build_veth(const struct tb_plan *p, const struct tb_veth *v,
                      const char *prefix)
{
    char ns[2][NS_MAX], addr[32], peer[32];

    if (ns_of(p, v->node[0], prefix, ns[0]) < 0 ||
        ns_of(p, v->node[1], prefix, ns[1]) < 0)
        return -1;
    /* Both ends are created directly in their namespaces, so the same name
     * may be used on both sides and nothing appears on the host. */
    if (tb_run(TB_ARGV("ip", "link", "add", v->ifname[0], "netns", ns[0],
                       "type", "veth", "peer", "name", v->ifname[1], "netns",
                       ns[1])) < 0)
        return -1;
    for (int e = 0; e < 2; e++) {
        const char *n = ns[e], *dev = v->ifname[e];
        if (v->addr[e] != 0 && v->peer[e] != 0 &&
            tb_run(TB_ARGV("ip", "-n", n, "addr", "add",
                           cidr(addr, sizeof(addr), v->addr[e], 32), "peer",
                           cidr(peer, sizeof(peer), v->peer[e], 32), "dev",
                           dev)) < 0)
            return -1;
        if (v->addr[e] != 0 && v->peer[e] == 0 &&
            tb_run(TB_ARGV("ip", "-n", n, "addr", "add",
                           cidr(addr, sizeof(addr), v->addr[e], v->plen[e]),
                           "dev", dev)) < 0)
            return -1;
        if (v->role == TB_MGMT_PORT && e == 1 &&
            tb_run(TB_ARGV("ip", "-n", n, "link", "set", dev, "master",
                           "mgmt0")) < 0)
            return -1;
        if (tb_run(TB_ARGV("ip", "-n", n, "link", "set", dev, "up")) < 0)
            return -1;
    }
    return 0;
}

static int build_route(const struct tb_plan *p, const struct tb_route *r,
                       const char *prefix)
{
    char ns[NS_MAX], dst[32], via[TB_IP4_STRLEN], src[TB_IP4_STRLEN];

    if (ns_of(p, r->node, prefix, ns) < 0)
        return -1;
    cidr(dst, sizeof(dst), r->dst, r->plen);
    tb_ip4_str(r->via, via);
    if (r->src != 0)
        return tb_run(TB_ARGV("ip", "-n", ns, "route", "add", dst, "via", via,
                              "dev", r->dev, "src", tb_ip4_str(r->src, src)));
    return tb_run(TB_ARGV("ip", "-n", ns, "route", "add", dst, "via", via,
                          "dev", r->dev));
}

/* True when every link in 'ns' is operationally up and every bridge port
 * forwards. */
static bool links_ready(const char *ns)
{
    static const char slave[] = "bridge_slave state ";
    char *text = NULL, *save = NULL;
    bool ready = true;

    if (tb_run_output(TB_ARGV("ip", "-n", ns, "-o", "-d", "link", "show"),
                      &text) < 0)
        return false;
    for (char *line = strtok_r(text, "\n", &save); line != NULL && ready;
         line = strtok_r(NULL, "\n", &save)) {
        const char *b = strstr(line, slave);
        if (strstr(line, ": lo: ") != NULL)
            continue;
        ready =
            strstr(line, " state UP ") != NULL &&
            (b == NULL || strncmp(b + strlen(slave), "forwarding", 10) == 0);
    }
    free(text);
    return ready;
}

/* The kernel brings a new link's carrier, queueing discipline and bridge
 * port up from its link-watch work, up to a second later: until then
 * packets are dropped. Waits for that so the testbed works once `up`
 * returns. */
static int wait_links(const struct tb_plan *p, const char *prefix)
{
    struct timespec ts = {0, LINK_POLL_MS * 1000000L};
    char ns[NS_MAX];

    for (size_t i = 0; i < p->n_nodes; i++) {
        int waited = 0;
        if (ns_of(p, i, prefix, ns) < 0)
            return -1;
        while (!links_ready(ns)) {
            if (waited >= LINK_TIMEOUT_MS) {
                log_err("links in %s are not up after %d ms", ns,
                        LINK_TIMEOUT_MS);
                return -1;
            }
            nanosleep(&ts, NULL);
            waited += LINK_POLL_MS;
        }
    }
    return 0;
}

int tb_net_build(const struct tb_plan *p, const char *prefix,
                 const char *rundir)
{
    log_info("creating %zu namespaces, %zu veth pairs, %zu routes", p->n_nodes,
             p->n_veths, p->n_routes);
    for (size_t i = 0; i < p->n_nodes; i++)
        if (build_node(p, i, prefix, rundir) < 0)
            return -1;
    for (size_t i = 0; i < p->n_veths; i++)
        if (build_veth(p, &p->veths[i], prefix) < 0)
            return -1;
    for (size_t i = 0; i < p->n_routes; i++)
        if (build_route(p, &p->routes[i], prefix) < 0)
            return -1;
    return wait_links(p, prefix);
}
