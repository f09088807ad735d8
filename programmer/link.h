/* link: a sliver's ports, plumbed with iproute2 (`ip`, run without a
 * shell): one veth pair per port, the outer end in the VNode namespace,
 * the inner end created directly inside the sliver namespace. */
#ifndef PROGRAMMER_LINK_H
#define PROGRAMMER_LINK_H

#include <stdbool.h>

#include "sliver.h"

/* Creates the veth pair of 'p': 'host_port' (up) here, 'ifname' in netns
 * 'ns' with its address (if any), up. For a fast-path port ('raw') the
 * inner end gets no IPv6 link-local address either (addrgenmode none), so
 * the sliver's kernel stays silent on it. Returns 0, or -1 with *err set
 * (caller frees); a half-made pair is removed. */
int link_add_port(const char *ns, const struct sliver_port *p, bool raw,
                  char **err);

/* Adds route 'r' in netns 'ns'. Returns 0 or -1 with *err set. */
int link_add_route(const char *ns, const struct sliver_route *r, char **err);

/* Deletes interface 'host_port' (and so its veth peer) here. A missing one
 * is fine. Returns 0, or -1 (logged). */
int link_del_port(const char *host_port);

/* True if an interface of that name exists in this namespace. */
bool link_exists(const char *ifname);

#endif
