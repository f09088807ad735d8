/* teardown: processes first, then namespaces, then the run directory. */
#include "teardown.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "files.h"
#include "log.h"
#include "netns.h"
#include "proc.h"
#include "state.h"

/* Grace between SIGTERM and SIGKILL, milliseconds. */
#define GRACE_MS 2000
#define TB_SHM_DIR "/dev/shm"
/* Killing a daemon may let its children start others (a supervisor
 * restarting a sliver): look again, this many times. */
#define KILL_ROUNDS 3

/* A recorded pid is ours only if it still runs in its namespace or under
 * its daemon's name: after a reboot or a long time the number may belong to
 * an unrelated process. */
static bool recorded_is_ours(const struct tb_state_pid *r)
{
    const char *daemon = strrchr(r->name, '.');
    char comm[32];

    if (!tb_proc_alive(r->pid))
        return false;
    if (tb_proc_in_netns(r->pid, r->netns))
        return true;
    daemon = daemon != NULL ? daemon + 1 : r->name;
    /* comm holds at most 15 characters of the executable's name */
    return tb_proc_comm(r->pid, comm, sizeof(comm)) == 0 &&
           strncmp(comm, daemon, 15) == 0;
}

static int cmp_pid(const void *a, const void *b)
{
    pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;

    return (x > y) - (x < y);
}

/* Sorts and drops duplicates (a daemon is both recorded and found in its
 * namespace); returns the new count. */
static size_t unique(pid_t *pids, size_t n)
{
    size_t m = 0;

    if (n == 0)
        return 0;
    qsort(pids, n, sizeof(*pids), cmp_pid);
    for (size_t i = 0; i < n; i++)
        if (m == 0 || pids[m - 1] != pids[i])
            pids[m++] = pids[i];
    return m;
}

static int stop_processes(const char *prefix, const struct tb_state *st)
{
    size_t left = 0;

    for (int round = 0; round < KILL_ROUNDS; round++) {
        pid_t *pids = NULL;
        size_t n = 0;
        char **names = NULL;
        ssize_t n_names = tb_netns_list(prefix, &names);

        for (size_t i = 0; round == 0 && st != NULL && i < st->n_pids; i++) {
            pid_t *v;
            if (!recorded_is_ours(&st->pids[i]))
                continue;
            if ((v = realloc(pids, (n + 1) * sizeof(*v))) == NULL)
                break;
            pids = v;
            pids[n++] = st->pids[i].pid;
        }
        if (n_names > 0 &&
            tb_proc_find_in_netns(names, (size_t)n_names, &pids, &n) < 0)
            log_warn("cannot list the processes in %s-* namespaces", prefix);
        tb_strv_free(names, n_names > 0 ? (size_t)n_names : 0);
        n = unique(pids, n);
        if (n > 0)
            log_info("stopping %zu process(es)", n);
        for (size_t i = 0; i < n; i++) {
            char comm[32] = "?";
            tb_proc_comm(pids[i], comm, sizeof(comm));
            log_debug("round %d: pid %d (%s)", round, (int)pids[i], comm);
        }
        left = tb_proc_stop(pids, n, GRACE_MS);
        free(pids);
        if (n == 0)
            break;
    }
    return left == 0 ? 0 : -1;
}

static int delete_namespaces(const char *prefix, const struct tb_state *st)
{
    char **names = NULL;
    ssize_t n = tb_netns_list(prefix, &names);
    int rc = 0;

    if (n < 0) {
        log_err("cannot list %s: %m", TB_NETNS_DIR);
        return -1;
    }
    if (n > 0)
        log_info("deleting %zd namespace(s)", n);
    for (ssize_t i = 0; i < n; i++)
        if (tb_netns_del(names[i]) < 0)
            rc = -1;
    /* Recorded ones with another prefix (a state file moved by hand). */
    for (size_t i = 0; st != NULL && i < st->n_ns; i++)
        if (tb_netns_del(st->ns[i].name) < 0)
            rc = -1;
    tb_strv_free(names, (size_t)n);
    n = tb_netns_list(prefix, &names);
    if (n != 0) {
        log_err("%zd namespace(s) %s-* remain", n, prefix);
        rc = -1;
    }
    tb_strv_free(names, n > 0 ? (size_t)n : 0);
    return rc;
}

static int remove_rundir(const char *rundir)
{
    char path[4096];

    if (access(rundir, F_OK) < 0)
        return 0;
    snprintf(path, sizeof(path), "%s/state", rundir);
    if (access(path, F_OK) < 0) {
        /* Not ours (or not any more): never rm -rf a directory we did not
         * make, whatever --dir says. */
        log_warn("%s holds no testbed state; leaving it in place", rundir);
        return 0;
    }
    return tb_rm_rf(rundir);
}

/* Shared-memory link files of the VNodes' fast paths (programmerd makes
 * them in /dev/shm as <netns-prefix>.<port>.shm[.a2b|.b2a]; it removes
 * them itself unless it was killed). */
static int remove_shm_links(const char *prefix)
{
    DIR *d = opendir(TB_SHM_DIR);
    struct dirent *e;
    size_t pl = strlen(prefix);
    int rc = 0;

    if (d == NULL)
        return 0;
    while ((e = readdir(d)) != NULL) {
        char path[4096];
        if (strncmp(e->d_name, prefix, pl) != 0 || e->d_name[pl] != '-' ||
            strstr(e->d_name, ".shm") == NULL)
            continue;
        snprintf(path, sizeof(path), "%s/%s", TB_SHM_DIR, e->d_name);
        if (unlink(path) < 0 && errno != ENOENT) {
            log_err("%s: %m", path);
            rc = -1;
        }
    }
    closedir(d);
    return rc;
}

int tb_teardown(const char *prefix, const char *rundir)
{
    struct tb_state *st = rundir != NULL ? tb_state_load(rundir) : NULL;
    int rc = 0;

    if (stop_processes(prefix, st) < 0)
        rc = -1;
    if (delete_namespaces(prefix, st) < 0)
        rc = -1;
    if (remove_shm_links(prefix) < 0)
        rc = -1;
    if (rc == 0 && rundir != NULL && remove_rundir(rundir) < 0)
        rc = -1;
    tb_state_free(st);
    return rc;
}
