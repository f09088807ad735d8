/* driver: how sncd makes a sliver real on its host. The slice transaction
 * (ctl.c) calls create for each sliver in order and destroy in reverse to
 * roll back or delete. Both must be idempotent: after a crash the
 * controller repeats them without knowing how far the node got. */
#ifndef SNC_DRIVER_H
#define SNC_DRIVER_H

#include <stdbool.h>
#include <string.h>
#include <xmlrpc-c/base.h>

#include "store.h"

/* A link between two fast-path slivers on one VNode goes through shared
 * memory between their processes: programmerd makes it with the node
 * slivers (their ports carry shm=a|b), the redirector never sees it, so
 * its link sliver is recorded only. plan_slivers() (ctl.c) marks such a
 * link sliver's detail with this. */
#define DRIVER_SHM_MARK " via=shm"

static inline bool driver_link_is_shm(const struct store_sliver *v)
{
    return strcmp(v->kind, "link") == 0 &&
           strstr(v->detail, DRIVER_SHM_MARK) != NULL;
}

struct sliver_driver {
    const char *name;
    /* Return 0, or -1 with *err set to a malloc'd reason (caller frees). */
    int (*create)(void *ctx, const struct store_slice *slice,
                  const struct store_sliver *v, char **err);
    int (*destroy)(void *ctx, const struct store_slice *slice,
                   const struct store_sliver *v, char **err);
    /* Optional. Applies the slice's current spec to an existing sliver
     * (live change, e.g. a link's guarantee). 0, or -1 with *err. */
    int (*update)(void *ctx, const struct store_slice *slice,
                  const struct store_sliver *v, char **err);
    /* Optional. Loads a slice developer's module (a shared object of
     * 'len' bytes) into fast-path node sliver 'v', with 'params' ("k=v
     * k=v", or NULL to keep the running ones). 0, or -1 with *err. */
    int (*load_module)(void *ctx, const struct store_slice *slice,
                       const struct store_sliver *v, const unsigned char *so,
                       size_t len, const char *params, char **err);
    /* Optional. The slivers 'host' holds now, as "slice/sliver-name"
     * strings (caller frees each and the array). Returns the count, or -1
     * if the host does not answer. Lets the controller re-create what a
     * restarted node daemon lost. */
    int (*present)(void *ctx, const char *host, char ***names);
    /* Optional. The link counters of 'host' (an XML-RPC array of structs
     * with slice, link, key, end and counters; new reference), or NULL with
     * *err set. */
    xmlrpc_value *(*link_stats)(void *ctx, const char *host, char **err);
    void *ctx;
};

/* Records slivers without contacting any node: the driver until node
 * daemons exist (and for control-plane benchmarks). */
extern const struct sliver_driver driver_record;

#endif
