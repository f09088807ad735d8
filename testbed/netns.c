/* netns: create, delete, list and enter named network namespaces. */
#include "netns.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "run.h"

/* The namespace the process started in, opened at the first enter. */
static int home_fd = -1;

static int ns_path(const char *name, char *buf, size_t size)
{
    int n = snprintf(buf, size, "%s/%s", TB_NETNS_DIR, name);

    return n > 0 && (size_t)n < size ? 0 : -1;
}

int tb_netns_add(const char *name)
{
    return tb_run(TB_ARGV("ip", "netns", "add", name));
}

bool tb_netns_exists(const char *name)
{
    char path[512];

    return ns_path(name, path, sizeof(path)) == 0 && access(path, F_OK) == 0;
}

int tb_netns_del(const char *name)
{
    if (!tb_netns_exists(name))
        return 0;
    return tb_run(TB_ARGV("ip", "netns", "del", name));
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

void tb_strv_free(char **v, size_t n)
{
    for (size_t i = 0; v != NULL && i < n; i++)
        free(v[i]);
    free(v);
}

ssize_t tb_netns_list(const char *prefix, char ***names)
{
    DIR *d = opendir(TB_NETNS_DIR);
    size_t plen = strlen(prefix), n = 0, cap = 0;
    char **v = NULL;
    struct dirent *e;

    *names = NULL;
    if (d == NULL)
        return errno == ENOENT ? 0 : -1;
    while ((e = readdir(d)) != NULL) {
        if (strncmp(e->d_name, prefix, plen) != 0 || e->d_name[plen] != '-')
            continue;
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 32;
            char **nv = realloc(v, nc * sizeof(*nv));
            if (nv == NULL)
                goto fail;
            v = nv;
            cap = nc;
        }
        if ((v[n] = strdup(e->d_name)) == NULL)
            goto fail;
        n++;
    }
    closedir(d);
    if (n > 0)
        qsort(v, n, sizeof(*v), cmp_str);
    *names = v;
    return (ssize_t)n;
fail:
    closedir(d);
    tb_strv_free(v, n);
    return -1;
}

int tb_netns_open(const char *name)
{
    char path[512];
    int fd;

    if (ns_path(name, path, sizeof(path)) < 0) {
        log_err("namespace name too long: %s", name);
        return -1;
    }
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        log_err("cannot open namespace %s: %m", path);
    return fd;
}

int tb_netns_enter(const char *name)
{
    int fd, rc;

    if (home_fd < 0 &&
        (home_fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC)) < 0) {
        log_err("cannot open /proc/self/ns/net: %m");
        return -1;
    }
    if ((fd = tb_netns_open(name)) < 0)
        return -1;
    rc = setns(fd, CLONE_NEWNET);
    if (rc < 0)
        log_err("setns %s: %m", name);
    close(fd);
    return rc;
}

int tb_netns_leave(void)
{
    if (home_fd >= 0 && setns(home_fd, CLONE_NEWNET) < 0) {
        /* Staying in a testbed namespace would build the rest wrongly. */
        fatal("cannot return to the original network namespace: %m");
    }
    return 0;
}

int tb_netns_sysctl(const char *name, const char *key, const char *value)
{
    char path[256];
    int fd = -1, rc = 0;

    snprintf(path, sizeof(path), "/proc/sys/%s", key);
    if (tb_netns_enter(name) < 0)
        return -EINVAL;
    /* /proc/sys/net shows the namespace of the thread that opens it. */
    fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0 || write(fd, value, strlen(value)) != (ssize_t)strlen(value)) {
        rc = -errno;
        if (rc != -ENOENT)
            log_err("%s: %s = %s: %m", name, key, value);
    }
    if (fd >= 0)
        close(fd);
    tb_netns_leave();
    return rc;
}

int tb_netns_id(const char *name, dev_t *dev, ino_t *ino)
{
    char path[512];
    struct stat st;

    if (ns_path(name, path, sizeof(path)) < 0 || stat(path, &st) < 0)
        return -1;
    *dev = st.st_dev;
    *ino = st.st_ino;
    return 0;
}
