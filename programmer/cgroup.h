/* cgroup: one control group per sliver for CPU, memory and process-count
 * limits, on cgroup v1 (one hierarchy per controller, as on this machine)
 * or v2 (one unified hierarchy), detected at start.
 *
 * Layout: every sliver of this VNode lives under PARENT = "vnode/<vnode>"
 * (the "vnode" part is --cgroup-parent), in a leaf named "<slice>.<id>":
 *   v1: <root>/<controller>/vnode/<vnode>/<slice>.<id>  for cpu, memory, pids
 *   v2: <root>/vnode/<vnode>/<slice>.<id>  (cpu, memory and pids enabled in
 *       cgroup.subtree_control on the way down)
 * The path and value functions are pure, for tests. */
#ifndef PROGRAMMER_CGROUP_H
#define PROGRAMMER_CGROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define CG_PATH_MAX 512
#define CG_CPU_PERIOD_US 100000

enum cg_version { CG_NONE = 0, CG_V1, CG_V2 };
enum cg_ctrl { CG_CPU = 0, CG_MEMORY, CG_PIDS, CG_N_CTRL };

struct cg_layout {
    enum cg_version version;
    char root[CG_PATH_MAX];   /* e.g. "/sys/fs/cgroup" */
    char parent[CG_PATH_MAX]; /* e.g. "vnode/vt12-vn1" */
    bool has[CG_N_CTRL];      /* controller usable */
};

struct cg_limits {
    int vcpus;      /* 0 = no CPU limit */
    int memory_mib; /* 0 = no memory limit */
    int pids_max;   /* 0 = no limit */
};

/* One control file and the value to write to it. */
struct cg_setting {
    enum cg_ctrl ctrl;
    const char *file;
    char value[32];
};

/* Fills 'l' by looking at 'root' ("/sys/fs/cgroup"): v2 if it is a cgroup2
 * mount, else v1 with whichever of cpu, memory, pids are mounted below it,
 * else CG_NONE. 'parent' is "<cgroup-parent>/<vnode>". Returns 0 or -1
 * (names too long). */
int cg_detect(struct cg_layout *l, const char *root, const char *parent);

/* Name of a controller as in the v1 mount point: "cpu", "memory", "pids". */
const char *cg_ctrl_name(enum cg_ctrl c);

/* Directory of 'leaf' (NULL or "": the parent itself) for controller 'c'
 * (ignored on v2). Returns 0, or -1 if it does not fit or there is no
 * cgroup support. */
int cg_path(const struct cg_layout *l, enum cg_ctrl c, const char *leaf,
            char *buf, size_t n);

/* The control files to write for 'lim', in order; returns how many (at
 * most 4). Pure. */
int cg_settings(const struct cg_layout *l, const struct cg_limits *lim,
                struct cg_setting out[4]);

/* Creates the leaf (and the parent directories) and applies 'lim'.
 * Returns 0, or -1 with *err set to a malloc'd message (caller frees);
 * nothing is left behind on failure. A limit whose controller is missing
 * is an error; no limit needs no controller. */
int cg_create(const struct cg_layout *l, const char *leaf,
              const struct cg_limits *lim, char **err);

/* Opens cgroup.procs of 'leaf' for writing in every usable hierarchy (one
 * fd on v2), O_CLOEXEC, so a child can join with cg_join_fds() between
 * fork and exec. Returns the count (fds[] gets up to CG_N_CTRL), or -1. */
int cg_open_procs(const struct cg_layout *l, const char *leaf, int *fds);

/* Moves the calling process into the cgroups: writes its pid to each fd.
 * Async-signal-safe (for the child between fork and exec). Returns 0 or
 * -1 with errno set. */
int cg_join_fds(const int *fds, int n);

/* Reads the pids in 'leaf' (from one hierarchy) into 'pids' (up to 'max').
 * Returns how many, 0 if the leaf does not exist. */
int cg_procs(const struct cg_layout *l, const char *leaf, pid_t *pids, int max);

/* Sends 'sig' to every process of 'leaf'. Returns how many were signalled. */
int cg_signal(const struct cg_layout *l, const char *leaf, int sig);

/* True if the leaf exists in some hierarchy. */
bool cg_exists(const struct cg_layout *l, const char *leaf);

/* Removes the leaf from every hierarchy (it must hold no processes).
 * Missing directories are fine. Returns 0, or -1 (logged) if one stays. */
int cg_remove(const struct cg_layout *l, const char *leaf);

/* Removes the parent directories if empty (at exit). */
void cg_remove_parent(const struct cg_layout *l);

#endif
