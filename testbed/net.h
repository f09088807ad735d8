/* net: builds the network of a plan on this machine: one namespace
 * "<prefix>-<node>" per plan node, veth pairs, addresses, routes, sysctls
 * and the GRE drop rule, with iproute2 and iptables (see run.h). */
#ifndef TB_NET_H
#define TB_NET_H

#include <stddef.h>

#include "plan.h"

/* Name of a node's namespace: "<prefix>-<node>" into buf. Returns 0, or -1
 * when it does not fit. */
int tb_net_nsname(char *buf, size_t size, const char *prefix, const char *node);

/* Builds everything of 'p'. Every namespace is recorded in RUNDIR/state
 * before it is created, so that a failure half way (returns -1, logged) can
 * be undone by tb_teardown(). */
int tb_net_build(const struct tb_plan *p, const char *prefix,
                 const char *rundir);

#endif
