/* proc: the processes programmerd starts. Short helper commands (ip) run
 * synchronously; sliver processes are forked into their cgroup and network
 * namespace and left running. Reaping of sliver processes is the caller's
 * (node.c, on SIGCHLD); helpers are reaped here by pid. */
#ifndef PROGRAMMER_PROC_H
#define PROGRAMMER_PROC_H

#include <sys/types.h>

/* Runs argv[0] (searched in PATH) with 'argv' and waits for it. stdout
 * goes to /dev/null. Returns 0 if it exited 0; otherwise -1 with *err set
 * to a malloc'd message quoting the command and the first line of its
 * stderr (caller frees). */
int proc_run(char *const argv[], char **err);

/* The same with *stderr_out set to all of its stderr (malloc'd, caller
 * frees) whatever the outcome; returns the exit status (0..255), or -1 if
 * it could not run or died from a signal. */
int proc_run_capture(char *const argv[], char **stderr_out);

/* Runs argv[0] (absolute, or searched in PATH) with 'argv' in its own
 * process group, stdin from /dev/null, and waits at most 'timeout_ms' for
 * it. *out gets its stdout and stderr together (malloc'd, at most 64 KiB,
 * caller frees; on a timeout a message saying so). Returns its exit status
 * (0..255), 128 + the signal that killed it, or -1 if it could not run or
 * ran too long (its whole process group is killed then). */
int proc_run_timeout(char *const argv[], int timeout_ms, char **out);

struct proc_spawn {
    const char *netns_path; /* join this network namespace, or NULL */
    const int *cg_fds;      /* cgroup.procs files to join (cg_open_procs) */
    int n_cg_fds;
    const char *log_path; /* stdout and stderr, appended */
    char *const *argv;    /* argv[0] is an absolute path */
    char *const *envp;
    const int *pass_fd; /* passed to the process as fd 3, or NULL */
};

/* Forks a process that becomes a session leader, joins the cgroups and the
 * network namespace, and execs argv with envp, stdin from /dev/null.
 * Returns its pid once the exec succeeded, or -1 with *err set (caller
 * frees); a failed child is reaped here. */
pid_t proc_spawn(const struct proc_spawn *s, char **err);

#endif
