/* fp_dl: dlopen a module through a memfd copy, check its descriptor. */
#include "fp_dl.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fp_modules.h"
#include "fp_param.h"

#define COPY_CHUNK 65536
#define NAME_TRIES 8

struct fp_dl {
    void *handle;
    int fd; /* the memfd the object was loaded from, kept open so that its
               /proc/self/fd name stays unique while loaded */
    const struct vnode_module *mod;
};

/* A memfd holding a copy of what 'fd' holds, or -1 (errno set). */
static int copy_to_memfd(int fd)
{
    char *buf = malloc(COPY_CHUNK);
    int mfd = memfd_create("vnode-module", MFD_CLOEXEC);
    ssize_t r;
    off_t off = 0;

    if (buf == NULL || mfd < 0)
        goto fail;
    while ((r = pread(fd, buf, COPY_CHUNK, off)) != 0) {
        if (r < 0) {
            if (errno == EINTR)
                continue;
            goto fail;
        }
        for (ssize_t done = 0; done < r;) {
            ssize_t w = write(mfd, buf + done, (size_t)(r - done));
            if (w < 0 && errno != EINTR)
                goto fail;
            done += w > 0 ? w : 0;
        }
        off += r;
    }
    free(buf);
    return mfd;
fail:
    free(buf);
    if (mfd >= 0) {
        int saved = errno;
        close(mfd);
        errno = saved;
    }
    return -1;
}

/* dlopen of /proc/self/fd/N. glibc returns an already loaded object whose
 * name matches, so a name that some (not yet unloaded) object still
 * carries is avoided by moving the fd to another number. */
static void *open_by_fd(int *fd, char **dl_msg)
{
    char name[64];

    for (int i = 0; i < NAME_TRIES; i++) {
        snprintf(name, sizeof(name), "/proc/self/fd/%d", *fd);
        void *old = dlopen(name, RTLD_NOW | RTLD_NOLOAD);
        if (old == NULL) {
            void *h = dlopen(name, RTLD_NOW | RTLD_LOCAL);
            if (h == NULL) {
                const char *m = dlerror();
                *dl_msg = strdup(m != NULL ? m : "dlopen failed");
            }
            return h;
        }
        dlclose(old);
        int moved = fcntl(*fd, F_DUPFD_CLOEXEC, *fd + 1);
        if (moved < 0)
            break;
        close(*fd);
        *fd = moved;
    }
    *dl_msg = strdup("no free descriptor name to load it under");
    return NULL;
}

struct fp_dl *fp_dl_open_fd(int fd, const char *label, char **err)
{
    struct fp_dl *d = calloc(1, sizeof(*d));
    const struct vnode_module *m;
    char *msg = NULL;

    *err = NULL;
    if (d == NULL) {
        fp_errf(err, "%s: out of memory", label);
        return NULL;
    }
    if ((d->fd = copy_to_memfd(fd)) < 0) {
        fp_errf(err, "%s: cannot read it: %s", label, strerror(errno));
        goto fail;
    }
    if ((d->handle = open_by_fd(&d->fd, &msg)) == NULL) {
        fp_errf(err,
                "%s: cannot load it (%s); it must be a shared object (cc "
                "-shared -fPIC) for this machine that needs only libc",
                label, msg != NULL ? msg : "?");
        free(msg);
        goto fail;
    }
    m = dlsym(d->handle, VNODE_MODULE_SYMBOL);
    if (m == NULL) {
        fp_errf(err,
                "%s: no symbol '%s': not a vnode module (define "
                "const struct vnode_module %s, see docs/modules/README.md)",
                label, VNODE_MODULE_SYMBOL, VNODE_MODULE_SYMBOL);
        goto fail;
    }
    /* 'abi' is the first member in every ABI: safe to read before anything
     * else. */
    if (m->abi != VNODE_MODULE_ABI) {
        fp_errf(err,
                "%s: built against module ABI %u, this fast path has ABI %d: "
                "rebuild it against this release's vnode_module.h",
                label, m->abi, VNODE_MODULE_ABI);
        goto fail;
    }
    if ((msg = fp_module_check_desc(m)) != NULL) {
        fp_errf(err, "%s: %s", label, msg);
        free(msg);
        goto fail;
    }
    d->mod = m;
    return d;
fail:
    fp_dl_close(d);
    return NULL;
}

struct fp_dl *fp_dl_open(const char *path, char **err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct fp_dl *d;

    if (fd < 0) {
        fp_errf(err, "%s: %s", path, strerror(errno));
        return NULL;
    }
    d = fp_dl_open_fd(fd, path, err);
    close(fd);
    return d;
}

const struct vnode_module *fp_dl_module(const struct fp_dl *d)
{
    return d->mod;
}

void fp_dl_close(struct fp_dl *d)
{
    if (d == NULL)
        return;
    if (d->handle != NULL)
        dlclose(d->handle);
    if (d->fd >= 0)
        close(d->fd);
    free(d);
}
