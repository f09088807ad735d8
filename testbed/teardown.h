/* teardown: removes a testbed, whatever state it is in (fully up, half
 * built by a failed `up`, daemons crashed, slivers left behind). */
#ifndef TB_TEARDOWN_H
#define TB_TEARDOWN_H

/* Stops the daemons recorded in RUNDIR/pids and every process inside any
 * namespace "<prefix>-*" (SIGTERM, SIGKILL after 2 s), deletes those
 * namespaces (which removes their veths and bridge), then removes RUNDIR
 * when it holds a testbed state file. 'rundir' may be NULL (namespaces and
 * processes only). Idempotent. Returns 0 when nothing of the testbed is
 * left, -1 otherwise (logged). */
int tb_teardown(const char *prefix, const char *rundir);

#endif
