/* link: veth pairs, addresses and routes through iproute2. */
#include "link.h"

#include <net/if.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "proc.h"

#define IP "ip"

/* Sliver ports carry frames that redirectord wraps in GRE over a 1500-byte
 * transport: outer IPv4 (20) + GRE with key (8) + the inner Ethernet header
 * (14) leave 1458 bytes for the sliver's IP packets. */
#define LINK_MTU "1458"

bool link_exists(const char *ifname)
{
    return if_nametoindex(ifname) != 0;
}

int link_add_port(const char *ns, const struct sliver_port *p, bool raw,
                  char **err)
{
    char *add[] = {IP,       "link",  "add",      p->host_port, "mtu",
                   LINK_MTU, "type",  "veth",     "peer",       "name",
                   p->ifname, "mtu",  LINK_MTU,   "netns",      (char *)ns,
                   NULL};
    /* The redirector and the fast path see frames as the kernel hands them
     * to AF_PACKET: TSO/GSO super-frames and partial checksums would be
     * forwarded as they are and dropped at the far end. The sliver's stack
     * must send wire-ready frames. */
    char *offload[] = {IP,         "netns", "exec", (char *)ns, "ethtool",
                       "-K",       p->ifname, "tx", "off",      "tso",
                       "off",      "gso",   "off",  "gro",      "off",
                       NULL};
    char *up[] = {IP, "link", "set", p->host_port, "up", NULL};
    char *nogen[] = {IP,        "-n",          (char *)ns, "link", "set",
                     p->ifname, "addrgenmode", "none",     NULL};
    char *addr[] = {IP,         "-n",  (char *)ns, "addr", "add",
                    p->address, "dev", p->ifname,  NULL};
    char *in_up[] = {IP,    "-n",      (char *)ns, "link",
                     "set", p->ifname, "up",       NULL};

    if (proc_run(add, err) < 0)
        return -1;
    if (proc_run(up, err) < 0 || proc_run(offload, err) < 0 ||
        (raw && proc_run(nogen, err) < 0) ||
        (p->address[0] != '\0' && proc_run(addr, err) < 0) ||
        proc_run(in_up, err) < 0) {
        link_del_port(p->host_port);
        return -1;
    }
    return 0;
}

int link_add_route(const char *ns, const struct sliver_route *r, char **err)
{
    char *argv[] = {IP,    "-n",  (char *)ns, "route", "add",
                    r->to, "via", r->via,     NULL};

    return proc_run(argv, err);
}

int link_del_port(const char *host_port)
{
    char *argv[] = {IP, "link", "del", (char *)host_port, NULL};
    char *err = NULL;

    if (!link_exists(host_port))
        return 0;
    if (proc_run(argv, &err) < 0) {
        log_err("%s", err ? err : "ip link del failed");
        free(err);
        return -1;
    }
    return 0;
}
