/* fp_dl: packet-processing modules loaded from shared objects.
 *
 * The object is copied into an anonymous memory file first and loaded from
 * there with dlopen(RTLD_NOW | RTLD_LOCAL): the module cannot change under
 * the process, its file may live on a noexec mount or be removed, and it
 * never needs to be readable by the unprivileged fast-path user (the
 * caller opens it before dropping privileges). Loading runs the object's
 * constructors: call this only after dropping privileges. */
#ifndef FP_DL_H
#define FP_DL_H

#include "vnode_module.h"

struct fp_dl;

/* Loads the shared object open as 'fd' (borrowed; only read) and checks
 * its descriptor (fp_module_check_desc). 'label' names it in messages (its
 * path). Returns the loaded module, or NULL with *err set to a malloc'd
 * message that says what is wrong and how to fix it (caller frees). */
struct fp_dl *fp_dl_open_fd(int fd, const char *label, char **err);
/* The same for a path. */
struct fp_dl *fp_dl_open(const char *path, char **err);

const struct vnode_module *fp_dl_module(const struct fp_dl *d);

/* Unloads (dlclose); the module's fini must have run. NULL is accepted. */
void fp_dl_close(struct fp_dl *d);

#endif
