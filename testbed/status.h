/* status: what of a testbed runs where, from its state and the live
 * system: namespaces with their addresses, daemons with pid and alive/dead,
 * sliver namespaces that programmerd made. */
#ifndef TB_STATUS_H
#define TB_STATUS_H

#include <stdio.h>

#include "state.h"

/* Prints the status of the testbed recorded in 'st' (loaded from 'rundir').
 * Returns 0 when everything recorded is there and every daemon is alive,
 * 1 otherwise. */
int tb_status(const struct tb_state *st, const char *rundir, FILE *out);

#endif
