/* daemons: starts the real daemons of a testbed in their namespaces, as
 * docs/dataplane.md places them: redirectord and programmerd in every VNode
 * namespace, sncd in "<prefix>-ctl". Each is started with fork, setns into
 * the namespace and exec (so its pid is exact), in its own session, with
 * stdin from /dev/null and stdout/stderr appended to its log. */
#ifndef TB_DAEMONS_H
#define TB_DAEMONS_H

#include "plan.h"

struct tb_daemons_cfg {
    const char *prefix;
    const char *rundir;   /* absolute */
    const char *bin;      /* directory holding the daemons, absolute */
    const char *topology; /* absolute path, for sncd */
    int timeout_ms;       /* for each daemon's socket to appear */
};

/* Checks that 'bin' holds every daemon, executable. Returns 0, or -1 after
 * saying on stderr which one is missing. */
int tb_daemons_check(const char *bin);

/* Writes RUNDIR/users with operator "ops" and researcher "alice", and their
 * random tokens in RUNDIR/ops.token and RUNDIR/alice.token (mode 0600). */
int tb_daemons_users(const char *rundir);

/* Starts every daemon, records each pid in RUNDIR/pids as soon as it is
 * known, and waits until every daemon's Unix socket accepts connections.
 * Returns 0; or -1 when one fails to start in time or exits, after printing
 * the tail of its log on stderr (the caller tears down). */
int tb_daemons_start(const struct tb_plan *p, const struct tb_daemons_cfg *cfg);

#endif
