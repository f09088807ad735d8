/* proc: find and stop processes by network namespace. */
#include "proc.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "netns.h"

/* Poll interval while waiting for processes to exit, milliseconds. */
#define POLL_MS 20

bool tb_proc_alive(pid_t pid)
{
    char path[64], buf[512];
    const char *paren;
    FILE *f;
    size_t n;

    if (pid <= 0)
        return false;
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    if ((f = fopen(path, "re")) == NULL)
        return false;
    n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    /* "pid (comm) S ...": the state follows the last ')'. */
    paren = strrchr(buf, ')');
    return paren != NULL && paren[1] == ' ' && paren[2] != 'Z' &&
           paren[2] != 'X' && paren[2] != '\0';
}

int tb_proc_comm(pid_t pid, char *buf, size_t size)
{
    char path[64];
    FILE *f;
    int rc = -1;

    snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
    if ((f = fopen(path, "re")) == NULL)
        return -1;
    if (fgets(buf, (int)size, f) != NULL) {
        buf[strcspn(buf, "\n")] = '\0';
        rc = 0;
    }
    fclose(f);
    return rc;
}

static int proc_netns(pid_t pid, dev_t *dev, ino_t *ino)
{
    char path[64];
    struct stat st;

    snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
    if (stat(path, &st) < 0)
        return -1;
    *dev = st.st_dev;
    *ino = st.st_ino;
    return 0;
}

bool tb_proc_in_netns(pid_t pid, const char *netns)
{
    dev_t d1, d2;
    ino_t i1, i2;

    return tb_netns_id(netns, &d1, &i1) == 0 &&
           proc_netns(pid, &d2, &i2) == 0 && d1 == d2 && i1 == i2;
}

static int push_pid(pid_t **pids, size_t *n, size_t *cap, pid_t pid)
{
    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 64;
        pid_t *nv = realloc(*pids, nc * sizeof(*nv));
        if (nv == NULL)
            return -1;
        *pids = nv;
        *cap = nc;
    }
    (*pids)[(*n)++] = pid;
    return 0;
}

int tb_proc_find_in_netns(char *const *names, size_t n_names, pid_t **pids,
                          size_t *n)
{
    dev_t *devs = calloc(n_names + 1, sizeof(*devs));
    ino_t *inos = calloc(n_names + 1, sizeof(*inos));
    size_t n_ids = 0, cap = *n;
    DIR *d = NULL;
    struct dirent *e;
    int rc = -1;

    if (devs == NULL || inos == NULL)
        goto cleanup;
    for (size_t i = 0; i < n_names; i++)
        if (tb_netns_id(names[i], &devs[n_ids], &inos[n_ids]) == 0)
            n_ids++;
    if (n_ids == 0) {
        rc = 0;
        goto cleanup;
    }
    if ((d = opendir("/proc")) == NULL) {
        log_err("/proc: %m");
        goto cleanup;
    }
    while ((e = readdir(d)) != NULL) {
        pid_t pid;
        dev_t dev;
        ino_t ino;
        if (!isdigit((unsigned char)e->d_name[0]))
            continue;
        pid = (pid_t)strtol(e->d_name, NULL, 10);
        if (pid == getpid() || proc_netns(pid, &dev, &ino) < 0)
            continue;
        for (size_t i = 0; i < n_ids; i++)
            if (devs[i] == dev && inos[i] == ino && tb_proc_alive(pid)) {
                if (push_pid(pids, n, &cap, pid) < 0)
                    goto cleanup;
                break;
            }
    }
    rc = 0;
cleanup:
    if (d != NULL)
        closedir(d);
    free(devs);
    free(inos);
    return rc;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

/* Reaps the pids that are our children; counts the ones still alive. */
static size_t count_alive(const pid_t *pids, size_t n)
{
    size_t alive = 0;

    for (size_t i = 0; i < n; i++) {
        waitpid(pids[i], NULL, WNOHANG);
        alive += tb_proc_alive(pids[i]);
    }
    return alive;
}

static size_t signal_and_wait(const pid_t *pids, size_t n, int sig, int wait_ms)
{
    size_t alive;

    for (size_t i = 0; i < n; i++)
        if (tb_proc_alive(pids[i]) && kill(pids[i], sig) < 0 && errno != ESRCH)
            log_warn("kill %d: %m", (int)pids[i]);
    for (int t = 0; (alive = count_alive(pids, n)) > 0 && t < wait_ms;
         t += POLL_MS)
        sleep_ms(POLL_MS);
    return alive;
}

size_t tb_proc_stop(const pid_t *pids, size_t n, int grace_ms)
{
    size_t alive;

    if (n == 0)
        return 0;
    alive = signal_and_wait(pids, n, SIGTERM, grace_ms);
    if (alive == 0)
        return 0;
    log_info("%zu process(es) ignored SIGTERM for %d ms; sending SIGKILL",
             alive, grace_ms);
    alive = signal_and_wait(pids, n, SIGKILL, 1000);
    for (size_t i = 0; i < n; i++)
        if (tb_proc_alive(pids[i]))
            log_err("process %d survives SIGKILL", (int)pids[i]);
    return alive;
}
