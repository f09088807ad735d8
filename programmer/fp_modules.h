/* fp_modules: the modules compiled into the fast path, looked up by name by
 * the fastpath runtime and by programmerd when it validates a sliver, and
 * the checks every module descriptor passes, compiled in or loaded from a
 * shared object (fp_dl). */
#ifndef FP_MODULES_H
#define FP_MODULES_H

#include <stddef.h>

#include "vnode_module.h"

extern const struct vnode_module vnode_mod_bridge;
extern const struct vnode_module vnode_mod_router;
extern const struct vnode_module vnode_mod_nat;
extern const struct vnode_module vnode_mod_firewall;

/* The module called 'name', or NULL. */
const struct vnode_module *fp_module_find(const char *name);

/* The names of all modules, comma-separated, for messages ("bridge, router").
 */
const char *fp_module_names(void);

/* NULL if descriptor 'm' is usable: ABI VNODE_MODULE_ABI, a name of 1..32
 * of [a-z0-9_-], a summary, init, process and fini; parameter keys of
 * 1..32 of [a-z0-9_] (at most 64). Otherwise a malloc'd message saying what
 * is missing (caller frees). Built-in and loaded modules alike. */
char *fp_module_check_desc(const struct vnode_module *m);

/* NULL if 'm' accepts parameter 'key'; otherwise a malloc'd message that
 * names the keys it does accept (caller frees). */
char *fp_module_check_key(const struct vnode_module *m, const char *key);

/* Dry run of m->init() for ports named 'port_names' (MACs zero) with
 * 'params': NULL if the module accepts them, else its malloc'd message
 * (caller frees). Frames emitted meanwhile are discarded. */
char *fp_module_check_params(const struct vnode_module *m,
                             const char *const *port_names, int n_ports,
                             const struct vnode_param *params, int n_params);

#endif
