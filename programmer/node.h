/* node: the node slivers of one VNode. Creates them (namespace, ports,
 * routes, cgroup, process), watches their processes (restarting crashed
 * fast paths with backoff), and deletes them leaving nothing behind.
 * Every operation runs to completion inside one RPC call on the daemon's
 * single event loop. */
#ifndef PROGRAMMER_NODE_H
#define PROGRAMMER_NODE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "cgroup.h"
#include "fault.h"
#include "sliver.h"

struct event_base;
struct event;

struct node_config {
    const char *vnode;         /* VNode name, e.g. "vn1" */
    const char *netns_prefix;  /* sliver namespaces: PREFIX.SLICE.ID */
    const char *fastpath;      /* absolute path of the fastpath binary */
    const char *fastpath_user; /* fastpath drops to this user */
    const char *state_dir;     /* per-sliver logs */
    const char *shm_dir;       /* shared-memory link files (tmpfs) */
    const char *cgroup_root;   /* "/sys/fs/cgroup" */
    const char *cgroup_parent; /* "vnode" */
    const char *log_level;     /* passed to fastpath */
    int pids_max;              /* per sliver; 0 = no limit */
    int stop_grace_ms;         /* SIGTERM to SIGKILL */
};

enum sliver_state {
    SLIVER_RUNNING,    /* its process runs */
    SLIVER_EXITED,     /* a container whose command ended (not restarted) */
    SLIVER_RESTARTING, /* a fast path waiting for its restart (backoff) */
    SLIVER_FAILED,     /* a fast path left stopped (bad config, crash loop) */
};

struct sliver {
    struct sliver_spec spec;
    char netns[SLIVER_NETNS_MAX];
    char key[2 * SLIVER_NAME_MAX + 2]; /* "SLICE.ID": cgroup leaf, log */
    char log_path[512];
    enum sliver_state state;
    pid_t pid;           /* 0 when no process */
    int exit_code;       /* last exit (sliver_exit_code), -1 if none */
    uint64_t started_ms; /* CLOCK_MONOTONIC ms of the last start */
    struct restart_state rs;
    bool stopping;        /* we are killing it: an exit is expected */
    int last_signal;      /* the signal that ended the last run, 0 if none */
    int ctl_fd;           /* control channel to the fast path (fp_ctl), -1 */
    char *module_file;    /* a loaded module (state dir); NULL: spec.module */
    char module_name[33]; /* the loaded module's name */
    unsigned module_gen;  /* numbers the loaded module files */
    char *module_params;  /* "k=v k=v" given with the loaded module;
                             NULL: spec.params */
    struct event *restart_ev;
    struct node *node;
    struct sliver *next;
};

struct node {
    struct node_config cfg;
    struct cg_layout cg;
    struct event_base *base;
    struct sliver *slivers;
};

/* A failed operation: a fault code and a malloc'd message. */
struct node_err {
    enum vn_fault code;
    char *msg;
};

/* Strings of 'cfg' are borrowed and must outlive the node. Detects the
 * cgroup layout and creates the state directory. Returns 0 or -1 (logged). */
int node_init(struct node *n, const struct node_config *cfg,
              struct event_base *base);
/* Deletes every sliver and removes what node_init made. */
void node_fini(struct node *n);

/* Creates the sliver of 'spec', taking ownership of its contents (the
 * struct is zeroed). An identical existing sliver is returned unchanged.
 * Returns the sliver, or NULL with 'e' filled. */
struct sliver *node_create(struct node *n, struct sliver_spec *spec,
                           struct node_err *e);
/* Deletes slice/id if it exists; *deleted says whether it did. Returns 0,
 * or -1 with 'e' filled if something could not be removed. */
int node_delete(struct node *n, const char *slice, const char *id,
                bool *deleted, struct node_err *e);
/* Stops the sliver's process if running and starts it again. Returns the
 * sliver, or NULL with 'e' filled. */
struct sliver *node_restart(struct node *n, const char *slice, const char *id,
                            struct node_err *e);

struct sliver *node_find(struct node *n, const char *slice, const char *id);

/* Reaps every exited child (SIGCHLD) and updates the slivers they
 * belonged to. */
void node_reap(struct node *n);

const char *sliver_state_name(enum sliver_state s);

/* ---- loaded modules (node_load.c) -------------------------------------- */

#define NODE_MODULE_MAX_BYTES (16 << 20) /* a module's shared object */
#define NODE_CHECK_TIMEOUT_MS 15000      /* the check in a child process */
#define NODE_SWAP_TIMEOUT_MS 5000        /* the running fast path's answer */

/* Loads the module in 'so' ('len' bytes, borrowed) into fast-path sliver
 * slice/id with 'params' ("key=value" separated by spaces; NULL: the
 * parameters the sliver runs with now). Stores it in the state dir, checks
 * it in a child process first (`fastpath --check` as the fastpath user:
 * loads it, checks the ABI and descriptor, dry-runs init() with the
 * sliver's ports and the params), so that a module that crashes or hangs
 * cannot hurt programmerd, then hands it with the params to the running
 * fast path over its control channel: the fast path swaps it in between
 * two bursts, on the same ports (a sliver that is not running starts with
 * it). Returns the sliver, or NULL with 'e' filled; then the sliver keeps
 * its previous module. The sliver's spec (sliver.create) is unchanged. */
struct sliver *node_load(struct node *n, const char *slice, const char *id,
                         const void *so, size_t len, const char *params,
                         struct node_err *e);
/* The same with the module read from 'path', a regular file programmerd
 * can read. */
struct sliver *node_load_file(struct node *n, const char *slice, const char *id,
                              const char *path, const char *params,
                              struct node_err *e);
/* The parameters the sliver's fast path runs with, as malloc'd "key=value"
 * strings (*kv, *n; free with node_params_free). Returns 0 or -1. */
int node_params(const struct sliver *v, char ***kv, size_t *n);
void node_params_free(char **kv, size_t n);
/* The counters of running fast-path sliver slice/id as "key=value" lines
 * (*text malloc'd, caller frees). Returns 0, or -1 with 'e' filled. */
int node_stats(struct node *n, const char *slice, const char *id, char **text,
               struct node_err *e);
/* Removes the sliver's loaded module file (teardown). */
void node_module_forget(struct sliver *v);
/* The module a sliver runs: the loaded one's name, or spec.module. */
const char *node_module_name(const struct sliver *v);

/* Shared by node.c and node_load.c. */
int node_start_process(struct node *n, struct sliver *v, char **err);
void node_err_set(struct node_err *e, enum vn_fault code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Takes ownership of 'msg'. */
void node_err_take(struct node_err *e, enum vn_fault code, char *msg);

#endif
