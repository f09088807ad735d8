/* proc: processes seen through /proc: alive or not, which network
 * namespace they are in, and stopping them (SIGTERM, then SIGKILL). */
#ifndef TB_PROC_H
#define TB_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* True while 'pid' exists and is not a zombie. */
bool tb_proc_alive(pid_t pid);

/* The command name (/proc/PID/comm, at most 15 chars) into buf; -1 if the
 * process is gone. */
int tb_proc_comm(pid_t pid, char *buf, size_t size);

/* True when 'pid' lives in the namespace called 'netns'. */
bool tb_proc_in_netns(pid_t pid, const char *netns);

/* Appends to *pids (a malloc'd array of *n, grown as needed; caller frees)
 * every live process whose network namespace is one of names[0..n_names).
 * Returns 0 or -1. */
int tb_proc_find_in_netns(char *const *names, size_t n_names, pid_t **pids,
                          size_t *n);

/* Sends SIGTERM to every pid, waits up to grace_ms for them to go, then
 * SIGKILLs the rest and waits up to another second. Reaps those that are
 * our children. Returns how many are still alive (0 = all gone). */
size_t tb_proc_stop(const pid_t *pids, size_t n, int grace_ms);

#endif
