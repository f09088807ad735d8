/* cgroup: per-sliver control groups on cgroup v1 or v2. */
#include "cgroup.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "log.h"

static const char *const ctrl_names[CG_N_CTRL] = {"cpu", "memory", "pids"};

const char *cg_ctrl_name(enum cg_ctrl c)
{
    return (unsigned)c < CG_N_CTRL ? ctrl_names[c] : "?";
}

static int fs_type(const char *path, long *type)
{
    struct statfs st;

    if (statfs(path, &st) < 0)
        return -1;
    *type = (long)st.f_type;
    return 0;
}

/* v2: which controllers the root offers (cgroup.controllers). */
static void detect_v2_controllers(struct cg_layout *l)
{
    char path[CG_PATH_MAX + 32], buf[512], *tok, *save = NULL;
    FILE *f;

    snprintf(path, sizeof(path), "%s/cgroup.controllers", l->root);
    if ((f = fopen(path, "re")) == NULL)
        return;
    if (fgets(buf, sizeof(buf), f) != NULL) {
        for (tok = strtok_r(buf, " \n", &save); tok != NULL;
             tok = strtok_r(NULL, " \n", &save))
            for (int c = 0; c < CG_N_CTRL; c++)
                if (strcmp(tok, ctrl_names[c]) == 0)
                    l->has[c] = true;
    }
    fclose(f);
}

int cg_detect(struct cg_layout *l, const char *root, const char *parent)
{
    char path[CG_PATH_MAX + 16];
    long type;

    memset(l, 0, sizeof(*l));
    if (strlen(root) >= sizeof(l->root) || strlen(parent) >= sizeof(l->parent))
        return -1;
    strcpy(l->root, root);
    strcpy(l->parent, parent);
    if (fs_type(root, &type) == 0 && type == CGROUP2_SUPER_MAGIC) {
        l->version = CG_V2;
        detect_v2_controllers(l);
        return 0;
    }
    for (int c = 0; c < CG_N_CTRL; c++) {
        snprintf(path, sizeof(path), "%s/%s", root, ctrl_names[c]);
        if (fs_type(path, &type) == 0 && type == CGROUP_SUPER_MAGIC) {
            l->has[c] = true;
            l->version = CG_V1;
        }
    }
    return 0;
}

int cg_path(const struct cg_layout *l, enum cg_ctrl c, const char *leaf,
            char *buf, size_t n)
{
    int len;
    bool has_leaf = leaf != NULL && leaf[0] != '\0';

    if (l->version == CG_V2)
        len = snprintf(buf, n, "%s/%s%s%s", l->root, l->parent,
                       has_leaf ? "/" : "", has_leaf ? leaf : "");
    else if (l->version == CG_V1 && (unsigned)c < CG_N_CTRL)
        len = snprintf(buf, n, "%s/%s/%s%s%s", l->root, ctrl_names[c],
                       l->parent, has_leaf ? "/" : "", has_leaf ? leaf : "");
    else
        return -1;
    return len < 0 || (size_t)len >= n ? -1 : 0;
}

int cg_settings(const struct cg_layout *l, const struct cg_limits *lim,
                struct cg_setting out[4])
{
    int n = 0;
    bool v2 = l->version == CG_V2;

    if (lim->vcpus > 0 || l->has[CG_CPU]) {
        if (v2) {
            out[n] = (struct cg_setting){CG_CPU, "cpu.max", ""};
            if (lim->vcpus > 0)
                snprintf(out[n].value, sizeof(out[n].value), "%ld %d",
                         (long)lim->vcpus * CG_CPU_PERIOD_US, CG_CPU_PERIOD_US);
            else
                snprintf(out[n].value, sizeof(out[n].value), "max %d",
                         CG_CPU_PERIOD_US);
            n++;
        } else {
            out[n] = (struct cg_setting){CG_CPU, "cpu.cfs_period_us", ""};
            snprintf(out[n++].value, sizeof(out[0].value), "%d",
                     CG_CPU_PERIOD_US);
            out[n] = (struct cg_setting){CG_CPU, "cpu.cfs_quota_us", ""};
            snprintf(out[n++].value, sizeof(out[0].value), "%ld",
                     lim->vcpus > 0 ? (long)lim->vcpus * CG_CPU_PERIOD_US
                                    : -1L);
        }
    }
    if (lim->memory_mib > 0 || l->has[CG_MEMORY]) {
        out[n] = (struct cg_setting){
            CG_MEMORY, v2 ? "memory.max" : "memory.limit_in_bytes", ""};
        if (lim->memory_mib > 0)
            snprintf(out[n].value, sizeof(out[n].value), "%llu",
                     (unsigned long long)lim->memory_mib << 20);
        else
            snprintf(out[n].value, sizeof(out[n].value), "%s",
                     v2 ? "max" : "-1");
        n++;
    }
    if (lim->pids_max > 0 || l->has[CG_PIDS]) {
        out[n] = (struct cg_setting){CG_PIDS, "pids.max", ""};
        if (lim->pids_max > 0)
            snprintf(out[n].value, sizeof(out[n].value), "%d", lim->pids_max);
        else
            snprintf(out[n].value, sizeof(out[n].value), "max");
        n++;
    }
    return n;
}

static void set_err(char **err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void set_err(char **err, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    if (vasprintf(err, fmt, ap) < 0)
        *err = NULL;
    va_end(ap);
}

/* Writes 'value' to 'dir'/'file'. Returns 0 or -1 with errno. */
static int write_file(const char *dir, const char *file, const char *value)
{
    char path[CG_PATH_MAX + 64];
    size_t len = strlen(value);
    ssize_t w;
    int fd, saved;

    snprintf(path, sizeof(path), "%s/%s", dir, file);
    if ((fd = open(path, O_WRONLY | O_CLOEXEC)) < 0)
        return -1;
    w = write(fd, value, len);
    saved = errno;
    close(fd);
    errno = saved;
    return w == (ssize_t)len ? 0 : -1;
}

/* mkdir -p of 'path' below 'base' (which exists). */
static int mkdirs(const char *base, const char *path)
{
    char buf[CG_PATH_MAX + 64];
    size_t blen = strlen(base);

    if (strlen(path) >= sizeof(buf))
        return -1;
    strcpy(buf, path);
    for (char *p = buf + blen + 1; *p != '\0'; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0755) < 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    return mkdir(buf, 0755) < 0 && errno != EEXIST ? -1 : 0;
}

/* v2: enables our controllers in every directory from the root down to
 * the parent, so the leaf gets their files. */
static void v2_enable(const struct cg_layout *l)
{
    char dir[CG_PATH_MAX * 2], tok[16];
    const char *p = l->parent;

    snprintf(dir, sizeof(dir), "%s", l->root);
    for (;;) {
        for (int c = 0; c < CG_N_CTRL; c++) {
            if (!l->has[c])
                continue;
            snprintf(tok, sizeof(tok), "+%s", ctrl_names[c]);
            if (write_file(dir, "cgroup.subtree_control", tok) < 0)
                log_debug("%s/cgroup.subtree_control %s: %s", dir, tok,
                          strerror(errno));
        }
        if (*p == '\0')
            break;
        const char *slash = strchr(p, '/');
        size_t n = slash ? (size_t)(slash - p) : strlen(p);
        size_t dlen = strlen(dir);
        if (dlen + n + 2 > sizeof(dir))
            break;
        dir[dlen] = '/';
        memcpy(dir + dlen + 1, p, n);
        dir[dlen + 1 + n] = '\0';
        p += n;
        if (*p == '/')
            p++;
    }
}

int cg_create(const struct cg_layout *l, const char *leaf,
              const struct cg_limits *lim, char **err)
{
    struct cg_setting set[4];
    char dir[CG_PATH_MAX], base[CG_PATH_MAX + 16];
    int n;

    *err = NULL;
    if (l->version == CG_NONE) {
        if (lim->vcpus > 0 || lim->memory_mib > 0) {
            set_err(err,
                    "no cgroup controllers are mounted under %s; "
                    "cannot limit CPU or memory",
                    l->root);
            return -1;
        }
        return 0;
    }
    if (l->version == CG_V2)
        v2_enable(l);
    for (int c = 0; c < CG_N_CTRL; c++) {
        if (!l->has[c] || (l->version == CG_V2 && c > 0))
            continue;
        if (cg_path(l, (enum cg_ctrl)c, leaf, dir, sizeof(dir)) < 0) {
            set_err(err, "cgroup path of %s is too long", leaf);
            return -1;
        }
        if (l->version == CG_V2)
            snprintf(base, sizeof(base), "%s", l->root);
        else
            snprintf(base, sizeof(base), "%s/%s", l->root, ctrl_names[c]);
        if (mkdirs(base, dir) < 0) {
            set_err(err, "cannot create cgroup %s: %s", dir, strerror(errno));
            goto fail;
        }
    }
    n = cg_settings(l, lim, set);
    for (int i = 0; i < n; i++) {
        if (!l->has[set[i].ctrl]) {
            set_err(err,
                    "the %s cgroup controller is not available under "
                    "%s; cannot set %s",
                    ctrl_names[set[i].ctrl], l->root, set[i].file);
            goto fail;
        }
        cg_path(l, set[i].ctrl, leaf, dir, sizeof(dir));
        if (write_file(dir, set[i].file, set[i].value) < 0) {
            set_err(err, "cannot write %s to %s/%s: %s", set[i].value, dir,
                    set[i].file, strerror(errno));
            goto fail;
        }
    }
    return 0;
fail:
    cg_remove(l, leaf);
    return -1;
}

/* The hierarchy to read membership from: pids, memory, then cpu. */
static int tracking_ctrl(const struct cg_layout *l)
{
    static const enum cg_ctrl order[] = {CG_PIDS, CG_MEMORY, CG_CPU};

    if (l->version == CG_V2)
        return CG_CPU; /* ignored on v2 */
    for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++)
        if (l->has[order[i]])
            return order[i];
    return -1;
}

int cg_open_procs(const struct cg_layout *l, const char *leaf, int *fds)
{
    char dir[CG_PATH_MAX], path[CG_PATH_MAX + 16];
    int n = 0;

    if (l->version == CG_NONE)
        return 0;
    for (int c = 0; c < CG_N_CTRL; c++) {
        if (!l->has[c] && l->version == CG_V1)
            continue;
        if (l->version == CG_V2 && c > 0)
            break;
        if (cg_path(l, (enum cg_ctrl)c, leaf, dir, sizeof(dir)) < 0)
            goto fail;
        snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
        if ((fds[n] = open(path, O_WRONLY | O_CLOEXEC)) < 0) {
            log_err("cannot open %s: %s", path, strerror(errno));
            goto fail;
        }
        n++;
    }
    return n;
fail:
    while (n > 0)
        close(fds[--n]);
    return -1;
}

int cg_join_fds(const int *fds, int n)
{
    char buf[24], *p = buf + sizeof(buf);
    long pid = (long)getpid();

    /* no stdio: this runs between fork and exec */
    do {
        *--p = (char)('0' + pid % 10);
        pid /= 10;
    } while (pid > 0);
    for (int i = 0; i < n; i++)
        if (write(fds[i], p, (size_t)(buf + sizeof(buf) - p)) < 0)
            return -1;
    return 0;
}

int cg_procs(const struct cg_layout *l, const char *leaf, pid_t *pids, int max)
{
    char dir[CG_PATH_MAX], path[CG_PATH_MAX + 16];
    int c = tracking_ctrl(l), n = 0;
    long pid;
    FILE *f;

    if (c < 0 || cg_path(l, (enum cg_ctrl)c, leaf, dir, sizeof(dir)) < 0)
        return 0;
    snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
    if ((f = fopen(path, "re")) == NULL)
        return 0;
    while (n < max && fscanf(f, "%ld", &pid) == 1)
        pids[n++] = (pid_t)pid;
    fclose(f);
    return n;
}

int cg_signal(const struct cg_layout *l, const char *leaf, int sig)
{
    pid_t pids[1024];
    int n = cg_procs(l, leaf, pids, 1024), done = 0;

    for (int i = 0; i < n; i++)
        if (pids[i] > 1 && kill(pids[i], sig) == 0)
            done++;
    return done;
}

bool cg_exists(const struct cg_layout *l, const char *leaf)
{
    char dir[CG_PATH_MAX];
    struct stat st;

    for (int c = 0; c < CG_N_CTRL; c++)
        if ((l->has[c] || l->version == CG_V2) &&
            cg_path(l, (enum cg_ctrl)c, leaf, dir, sizeof(dir)) == 0 &&
            stat(dir, &st) == 0)
            return true;
    return false;
}

int cg_remove(const struct cg_layout *l, const char *leaf)
{
    char dir[CG_PATH_MAX];
    int rc = 0;

    for (int c = 0; c < CG_N_CTRL; c++) {
        if (!l->has[c] && l->version != CG_V2)
            continue;
        if (l->version == CG_V2 && c > 0)
            break;
        if (cg_path(l, (enum cg_ctrl)c, leaf, dir, sizeof(dir)) < 0)
            continue;
        if (rmdir(dir) < 0 && errno != ENOENT) {
            log_err("cannot remove cgroup %s: %s", dir, strerror(errno));
            rc = -1;
        }
    }
    return rc;
}

void cg_remove_parent(const struct cg_layout *l)
{
    char dir[CG_PATH_MAX];

    for (int c = 0; c < CG_N_CTRL; c++) {
        if (!l->has[c] && l->version != CG_V2)
            continue;
        if (l->version == CG_V2 && c > 0)
            break;
        if (cg_path(l, (enum cg_ctrl)c, NULL, dir, sizeof(dir)) < 0)
            continue;
        /* "vnode/<vnode>", then "vnode" if no other VNode uses it */
        for (int depth = 0; depth < 8; depth++) {
            if (rmdir(dir) < 0)
                break;
            char *slash = strrchr(dir, '/');
            if (slash == NULL)
                break;
            *slash = '\0';
            char base[CG_PATH_MAX + 16];
            if (l->version == CG_V2)
                snprintf(base, sizeof(base), "%s", l->root);
            else
                snprintf(base, sizeof(base), "%s/%s", l->root, ctrl_names[c]);
            if (strcmp(dir, base) == 0)
                break;
        }
    }
}
