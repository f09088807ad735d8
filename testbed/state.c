/* state: RUNDIR/state and RUNDIR/pids. */
#include "state.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

/* Appends one formatted line to RUNDIR/file with a single write, so a
 * record is either wholly there or not at all. */
static int append(const char *rundir, const char *file, int extra_flags,
                  const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int append(const char *rundir, const char *file, int extra_flags,
                  const char *fmt, ...)
{
    char path[4096], line[1024];
    va_list ap;
    int fd, n, rc = -1;

    snprintf(path, sizeof(path), "%s/%s", rundir, file);
    va_start(ap, fmt);
    n = vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof(line)) {
        log_err("%s: record too long", path);
        return -1;
    }
    fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | extra_flags,
              0644);
    if (fd < 0) {
        log_err("%s: %m", path);
        return -1;
    }
    if (write(fd, line, (size_t)n) == n)
        rc = 0;
    else
        log_err("%s: write: %m", path);
    close(fd);
    return rc;
}

int tb_state_create(const char *rundir, const char *prefix,
                    const char *topology)
{
    return append(rundir, "state", O_EXCL, "prefix %s\ntopology %s\n", prefix,
                  topology);
}

int tb_state_add_netns(const char *rundir, const char *name, const char *kind)
{
    return append(rundir, "state", 0, "netns %s %s\n", name, kind);
}

int tb_state_add_pid(const char *rundir, pid_t pid, const char *name,
                     const char *netns)
{
    return append(rundir, "pids", 0, "%d %s %s\n", (int)pid, name, netns);
}

void tb_state_free(struct tb_state *s)
{
    if (s == NULL)
        return;
    for (size_t i = 0; i < s->n_ns; i++) {
        free(s->ns[i].name);
        free(s->ns[i].kind);
    }
    for (size_t i = 0; i < s->n_pids; i++) {
        free(s->pids[i].name);
        free(s->pids[i].netns);
    }
    free(s->ns);
    free(s->pids);
    free(s->prefix);
    free(s->topology);
    free(s);
}

/* Returns array 'v' of n elements of 'size' bytes grown so that index n is
 * writable (capacity 8, then doubled whenever n reaches a power of two), or
 * NULL (v is then still valid). */
static void *grow(void *v, size_t n, size_t size)
{
    if (n != 0 && (n < 8 || (n & (n - 1)) != 0))
        return v;
    return realloc(v, (n ? n * 2 : 8) * size);
}

static int read_state(const char *path, struct tb_state *s)
{
    FILE *f = fopen(path, "re");
    char line[1024], a[512], b[512];
    int rc = 0;

    if (f == NULL)
        return -1;
    while (rc == 0 && fgets(line, sizeof(line), f) != NULL) {
        if (sscanf(line, "prefix %511s", a) == 1) {
            free(s->prefix);
            rc = (s->prefix = strdup(a)) ? 0 : -1;
        } else if (sscanf(line, "topology %511s", a) == 1) {
            free(s->topology);
            rc = (s->topology = strdup(a)) ? 0 : -1;
        } else if (sscanf(line, "netns %511s %511s", a, b) == 2) {
            struct tb_state_ns *v = grow(s->ns, s->n_ns, sizeof(*v));
            if (v == NULL) {
                rc = -1;
                break;
            }
            s->ns = v;
            v[s->n_ns].name = strdup(a);
            v[s->n_ns].kind = strdup(b);
            s->n_ns++;
            if (v[s->n_ns - 1].name == NULL || v[s->n_ns - 1].kind == NULL)
                rc = -1;
        }
    }
    fclose(f);
    return rc;
}

static int read_pids(const char *path, struct tb_state *s)
{
    FILE *f = fopen(path, "re");
    char line[1024], a[512], b[512];
    int pid;

    if (f == NULL)
        return errno == ENOENT ? 0 : -1;
    while (fgets(line, sizeof(line), f) != NULL) {
        struct tb_state_pid *v;
        if (sscanf(line, "%d %511s %511s", &pid, a, b) != 3 || pid <= 1)
            continue;
        if ((v = grow(s->pids, s->n_pids, sizeof(*v))) == NULL) {
            fclose(f);
            return -1;
        }
        s->pids = v;
        v[s->n_pids].pid = (pid_t)pid;
        v[s->n_pids].name = strdup(a);
        v[s->n_pids].netns = strdup(b);
        s->n_pids++;
        if (v[s->n_pids - 1].name == NULL || v[s->n_pids - 1].netns == NULL) {
            fclose(f);
            return -1;
        }
    }
    fclose(f);
    return 0;
}

struct tb_state *tb_state_load(const char *rundir)
{
    struct tb_state *s = calloc(1, sizeof(*s));
    char path[4096];

    if (s == NULL)
        return NULL;
    snprintf(path, sizeof(path), "%s/state", rundir);
    if (read_state(path, s) < 0) {
        int e = errno;
        if (e != ENOENT)
            log_err("%s: %m", path);
        tb_state_free(s);
        errno = e;
        return NULL;
    }
    snprintf(path, sizeof(path), "%s/pids", rundir);
    if (read_pids(path, s) < 0)
        log_warn("%s: %m", path);
    if (s->prefix == NULL) {
        log_err("%s/state names no prefix", rundir);
        tb_state_free(s);
        errno = EINVAL;
        return NULL;
    }
    return s;
}
