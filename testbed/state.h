/* state: what `testbed up` created, written down before each thing is
 * created, so that `testbed down` can undo all of it after any failure.
 *
 * RUNDIR/state, one record per line:
 *   prefix P
 *   topology /abs/path/topo.xml
 *   netns NAME KIND          (KIND: vnode, router, agw, terminal, mgmt, ctl)
 * RUNDIR/pids, one daemon per line:
 *   PID NAME NETNS           (NAME: <node>.<daemon>, e.g. vn1.redirectord)
 */
#ifndef TB_STATE_H
#define TB_STATE_H

#include <stddef.h>
#include <sys/types.h>

struct tb_state_ns {
    char *name, *kind;
};

struct tb_state_pid {
    pid_t pid;
    char *name, *netns;
};

struct tb_state {
    char *prefix, *topology;
    struct tb_state_ns *ns;
    size_t n_ns;
    struct tb_state_pid *pids;
    size_t n_pids;
};

/* Starts RUNDIR/state (which must not exist). Returns 0 or -1 (logged). */
int tb_state_create(const char *rundir, const char *prefix,
                    const char *topology);
/* Appends one record; each is on disk when the call returns. */
int tb_state_add_netns(const char *rundir, const char *name, const char *kind);
int tb_state_add_pid(const char *rundir, pid_t pid, const char *name,
                     const char *netns);

/* Reads RUNDIR/state and RUNDIR/pids. Returns NULL when there is no state
 * (errno ENOENT) or it cannot be read (logged). Caller frees. */
struct tb_state *tb_state_load(const char *rundir);
void tb_state_free(struct tb_state *s);

#endif
