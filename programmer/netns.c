/* netns: create/delete named network namespaces the way iproute2 does. */
#include "netns.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"

int netns_path(char *buf, size_t n, const char *name)
{
    int len = snprintf(buf, n, "%s/%s", NETNS_RUN_DIR, name);

    return len < 0 || (size_t)len >= n ? -1 : 0;
}

bool netns_exists(const char *name)
{
    char path[256];
    struct stat st;

    return netns_path(path, sizeof(path), name) == 0 && stat(path, &st) == 0;
}

/* /run/netns must be a shared mount so that the namespace mounts made
 * below it propagate to every mount namespace (as iproute2 arranges). */
static int prepare_run_dir(void)
{
    if (mkdir(NETNS_RUN_DIR, 0755) < 0 && errno != EEXIST)
        return -1;
    if (mount("", NETNS_RUN_DIR, "none", MS_SHARED | MS_REC, NULL) == 0)
        return 0;
    if (errno != EINVAL) /* EINVAL: not a mount point yet */
        return -1;
    if (mount(NETNS_RUN_DIR, NETNS_RUN_DIR, "none", MS_BIND | MS_REC, NULL) < 0)
        return -1;
    return mount("", NETNS_RUN_DIR, "none", MS_SHARED | MS_REC, NULL);
}

static int loopback_up(void)
{
    struct ifreq ifr;
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), rc = -1;

    if (fd < 0)
        return -1;
    memset(&ifr, 0, sizeof(ifr));
    strcpy(ifr.ifr_name, "lo");
    if (ioctl(fd, SIOCGIFFLAGS, &ifr) == 0) {
        ifr.ifr_flags |= IFF_UP;
        rc = ioctl(fd, SIOCSIFFLAGS, &ifr);
    }
    close(fd);
    return rc;
}

/* In a child: a new network namespace, loopback up, bound on 'path'.
 * Exits with 0 or an errno value. */
static void child_create(const char *path)
{
    if (unshare(CLONE_NEWNET) < 0)
        _exit(errno ? errno : 1);
    if (loopback_up() < 0)
        _exit(errno ? errno : 1);
    if (mount("/proc/self/ns/net", path, "none", MS_BIND, NULL) < 0)
        _exit(errno ? errno : 1);
    _exit(0);
}

int netns_create(const char *name, char **err)
{
    char path[256];
    int fd, status = 0;
    pid_t pid;

    *err = NULL;
    if (netns_path(path, sizeof(path), name) < 0) {
        if (asprintf(err, "namespace name %s is too long", name) < 0)
            *err = NULL;
        return -1;
    }
    if (prepare_run_dir() < 0) {
        if (asprintf(err, "cannot prepare %s: %s", NETNS_RUN_DIR,
                     strerror(errno)) < 0)
            *err = NULL;
        return -1;
    }
    fd = open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0);
    if (fd < 0) {
        if (asprintf(err, "cannot create %s: %s", path, strerror(errno)) < 0)
            *err = NULL;
        return -1;
    }
    close(fd);
    pid = fork();
    if (pid == 0)
        child_create(path);
    while (pid > 0 && waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (pid < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        int e = pid < 0             ? errno
                : WIFEXITED(status) ? WEXITSTATUS(status)
                                    : EINTR;
        if (asprintf(err, "cannot create network namespace %s: %s", name,
                     strerror(e)) < 0)
            *err = NULL;
        umount2(path, MNT_DETACH);
        unlink(path);
        return -1;
    }
    return 0;
}

int netns_delete(const char *name)
{
    char path[256];

    if (netns_path(path, sizeof(path), name) < 0)
        return -1;
    if (umount2(path, MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT)
        log_warn("umount %s: %s", path, strerror(errno));
    if (unlink(path) < 0 && errno != ENOENT) {
        log_err("cannot remove %s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

static int ns_inode(const char *path, ino_t *ino, dev_t *dev)
{
    struct stat st;

    if (stat(path, &st) < 0)
        return -1;
    *ino = st.st_ino;
    *dev = st.st_dev;
    return 0;
}

int netns_join_host_mounts(void)
{
    ino_t mine, host;
    dev_t mdev, hdev;
    int fd;

    if (ns_inode("/proc/self/ns/mnt", &mine, &mdev) < 0 ||
        ns_inode("/proc/1/ns/mnt", &host, &hdev) < 0) {
        log_debug("cannot compare mount namespaces with PID 1: %s",
                  strerror(errno));
        return 0;
    }
    if (mine == host && mdev == hdev)
        return 0;
    fd = open("/proc/1/ns/mnt", O_RDONLY | O_CLOEXEC);
    if (fd < 0 || setns(fd, CLONE_NEWNS) < 0) {
        log_err("cannot join PID 1's mount namespace: %s", strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    close(fd);
    if (chdir("/") < 0)
        log_warn("chdir /: %s", strerror(errno));
    return 1;
}

bool netns_run_dir_shared(void)
{
    char line[1024];
    bool shared = true;
    FILE *f = fopen("/proc/self/mountinfo", "re");

    if (f == NULL)
        return true;
    while (fgets(line, sizeof(line), f) != NULL) {
        /* id parent maj:min root MOUNTPOINT options [optional...] - ... */
        char *save = NULL, *tok = strtok_r(line, " ", &save);
        for (int field = 1; tok != NULL && field < 5; field++)
            tok = strtok_r(NULL, " ", &save);
        if (tok == NULL || strcmp(tok, NETNS_RUN_DIR) != 0)
            continue;
        shared = false; /* the last mount on the path wins */
        while ((tok = strtok_r(NULL, " ", &save)) != NULL &&
               strcmp(tok, "-") != 0)
            if (strncmp(tok, "shared:", 7) == 0)
                shared = true;
    }
    fclose(f);
    return shared;
}
