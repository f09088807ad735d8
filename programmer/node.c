/* node: life cycle of the node slivers of one VNode. */
#include "node.h"

#include <errno.h>
#include <limits.h>
#include <event2/event.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "link.h"
#include "log.h"
#include "netns.h"
#include "pktio.h"
#include "proc.h"

#define KILL_WAIT_MS 3000 /* after SIGKILL, how long to wait for the exit */
#define POLL_MS 10
#define MAX_ARGS (10 + 2 * SLIVER_MAX_PORTS + 2 * SLIVER_MAX_PARAMS)
#define CTL_CHILD_FD 3 /* where proc_spawn puts the control channel */

static const char *const pass_env[] = {"ASAN_OPTIONS", "UBSAN_OPTIONS",
                                       "LSAN_OPTIONS"};

const char *sliver_state_name(enum sliver_state s)
{
    switch (s) {
    case SLIVER_RUNNING:
        return "running";
    case SLIVER_EXITED:
        return "exited";
    case SLIVER_RESTARTING:
        return "restarting";
    case SLIVER_FAILED:
        return "failed";
    }
    return "unknown";
}

static uint64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

void node_err_set(struct node_err *e, enum vn_fault code, const char *fmt, ...)
{
    va_list ap;

    free(e->msg);
    e->code = code;
    va_start(ap, fmt);
    if (vasprintf(&e->msg, fmt, ap) < 0)
        e->msg = NULL;
    va_end(ap);
}

void node_err_take(struct node_err *e, enum vn_fault code, char *msg)
{
    free(e->msg);
    e->code = code;
    e->msg = msg != NULL ? msg : strdup("out of memory");
}

struct sliver *node_find(struct node *n, const char *slice, const char *id)
{
    for (struct sliver *v = n->slivers; v != NULL; v = v->next)
        if (strcmp(v->spec.slice, slice) == 0 && strcmp(v->spec.id, id) == 0)
            return v;
    return NULL;
}

/* ---- processes -------------------------------------------------------- */

/* A NULL-terminated vector of malloc'd strings. */
struct strv {
    char *s[MAX_ARGS + 1];
    int n;
};

static int strv_add(struct strv *v, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int strv_add(struct strv *v, const char *fmt, ...)
{
    va_list ap;
    int rc;

    if (v->n == MAX_ARGS)
        return -1;
    va_start(ap, fmt);
    rc = vasprintf(&v->s[v->n], fmt, ap);
    va_end(ap);
    if (rc < 0)
        return -1;
    v->s[++v->n] = NULL;
    return 0;
}

static void strv_free(struct strv *v)
{
    for (int i = 0; i < v->n; i++)
        free(v->s[i]);
    v->n = 0;
}

/* The link file of shared-memory port 'p': one per link, named after the
 * link's host_port (which both ends share) and the node's namespace prefix
 * (which keeps two VNodes on one host apart). Returns 0, or -1 if too
 * long. */
static int shm_path(const struct node *n, const struct sliver_port *p,
                    char *buf, size_t len)
{
    int k = snprintf(buf, len, "%s/%s.%s.shm", n->cfg.shm_dir,
                     n->cfg.netns_prefix, p->host_port);

    return k > 0 && (size_t)k < len ? 0 : -1;
}

static int build_argv(const struct node *n, const struct sliver *v,
                      struct strv *a)
{
    const struct sliver_spec *s = &v->spec;
    int rc = 0;

    /* One call per statement: the order of the arguments matters. */
    if (s->type == SLIVER_CONTAINER) {
        rc |= strv_add(a, "/bin/sh");
        rc |= strv_add(a, "-c");
        rc |= strv_add(a, "%s", s->command);
        return rc;
    }
    rc |= strv_add(a, "%s", n->cfg.fastpath);
    if (v->module_file != NULL) {
        rc |= strv_add(a, "--module-file");
        rc |= strv_add(a, "%s", v->module_file);
    } else {
        rc |= strv_add(a, "--module");
        rc |= strv_add(a, "%s", s->module);
    }
    rc |= strv_add(a, "--control-fd");
    rc |= strv_add(a, "%d", CTL_CHILD_FD);
    rc |= strv_add(a, "--user");
    rc |= strv_add(a, "%s", n->cfg.fastpath_user);
    rc |= strv_add(a, "--log-level");
    rc |= strv_add(a, "%s", n->cfg.log_level);
    for (size_t i = 0; i < s->n_ports; i++) {
        const struct sliver_port *p = &s->ports[i];
        char path[PATH_MAX];
        rc |= strv_add(a, "--port");
        if (p->shm[0] == '\0')
            rc |= strv_add(a, "%s", p->ifname);
        else if (shm_path(n, p, path, sizeof(path)) == 0)
            rc |= strv_add(a, "%s=shm:%s,side=%s", p->ifname, path, p->shm);
        else
            rc = -1;
    }
    char **kv = NULL;
    size_t n_kv = 0;
    if (node_params(v, &kv, &n_kv) < 0)
        return -1;
    for (size_t i = 0; i < n_kv; i++) {
        rc |= strv_add(a, "--param");
        rc |= strv_add(a, "%s", kv[i]);
    }
    node_params_free(kv, n_kv);
    return rc;
}

static int build_env(const struct sliver *v, struct strv *e)
{
    int rc = 0;

    rc |= strv_add(e, "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:"
                      "/usr/bin:/sbin:/bin");
    rc |= strv_add(e, "HOME=/");
    rc |= strv_add(e, "VNODE_SLICE=%s", v->spec.slice);
    rc |= strv_add(e, "VNODE_SLIVER=%s", v->spec.id);
    rc |= strv_add(e, "VNODE_NETNS=%s", v->netns);
    for (size_t i = 0; i < sizeof(pass_env) / sizeof(pass_env[0]); i++) {
        const char *val = getenv(pass_env[i]);
        if (val != NULL)
            rc |= strv_add(e, "%s=%s", pass_env[i], val);
    }
    return rc;
}

int node_start_process(struct node *n, struct sliver *v, char **err)
{
    struct strv argv = {.n = 0}, env = {.n = 0};
    char nspath[256];
    int fds[CG_N_CTRL], n_fds, ctl[2] = {-1, -1};
    bool fastpath = v->spec.type == SLIVER_FASTPATH;
    pid_t pid = -1;

    *err = NULL;
    n_fds = cg_open_procs(&n->cg, v->key, fds);
    if (n_fds < 0) {
        *err = strdup("cannot open the sliver's cgroup");
        return -1;
    }
    if (fastpath &&
        socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, ctl) < 0) {
        if (asprintf(err, "socketpair: %s", strerror(errno)) < 0)
            *err = NULL;
    } else if (netns_path(nspath, sizeof(nspath), v->netns) < 0 ||
               build_argv(n, v, &argv) < 0 || build_env(v, &env) < 0) {
        *err = strdup("cannot build the command line (out of memory?)");
    } else {
        struct proc_spawn ps = {
            .netns_path = nspath,
            .cg_fds = fds,
            .n_cg_fds = n_fds,
            .log_path = v->log_path,
            .argv = argv.s,
            .envp = env.s,
            .pass_fd = fastpath ? &ctl[1] : NULL,
        };
        pid = proc_spawn(&ps, err);
    }
    for (int i = 0; i < n_fds; i++)
        close(fds[i]);
    strv_free(&argv);
    strv_free(&env);
    if (ctl[1] >= 0)
        close(ctl[1]);
    if (pid < 0) {
        if (ctl[0] >= 0)
            close(ctl[0]);
        return -1;
    }
    if (v->ctl_fd >= 0)
        close(v->ctl_fd);
    v->ctl_fd = ctl[0];
    v->pid = pid;
    v->state = SLIVER_RUNNING;
    v->started_ms = now_ms();
    v->stopping = false;
    log_info("sliver %s/%s: %s started, pid %d", v->spec.slice, v->spec.id,
             fastpath ? "fast path" : "container", (int)pid);
    return 0;
}

/* True once neither the main process nor anything in the cgroup is left. */
static bool processes_gone(struct node *n, struct sliver *v)
{
    pid_t one;

    return v->pid == 0 && cg_procs(&n->cg, v->key, &one, 1) == 0;
}

static void signal_all(struct node *n, struct sliver *v, int sig)
{
    if (v->pid > 0)
        kill(-v->pid, sig); /* its process group (it is a session leader) */
    cg_signal(&n->cg, v->key, sig);
}

static bool wait_gone(struct node *n, struct sliver *v, int timeout_ms)
{
    for (int waited = 0;; waited += POLL_MS) {
        node_reap(n);
        if (processes_gone(n, v))
            return true;
        if (waited >= timeout_ms)
            return false;
        sleep_ms(POLL_MS);
    }
}

/* Stops every process of the sliver: SIGTERM, then SIGKILL after the
 * grace period. Returns 0, or -1 if something survived (logged). */
static int stop_processes(struct node *n, struct sliver *v)
{
    v->stopping = true;
    if (v->restart_ev != NULL)
        event_del(v->restart_ev);
    if (processes_gone(n, v))
        return 0;
    signal_all(n, v, SIGTERM);
    if (wait_gone(n, v, n->cfg.stop_grace_ms))
        return 0;
    log_warn("sliver %s/%s: still running %d ms after SIGTERM; SIGKILL",
             v->spec.slice, v->spec.id, n->cfg.stop_grace_ms);
    signal_all(n, v, SIGKILL);
    if (wait_gone(n, v, KILL_WAIT_MS))
        return 0;
    log_err("sliver %s/%s: processes survive SIGKILL", v->spec.slice,
            v->spec.id);
    return -1;
}

/* ---- restarts --------------------------------------------------------- */

static void schedule_restart(struct sliver *v, int status, uint64_t ran_ms)
{
    uint64_t delay_ms = 0;

    if (restart_decide(&v->rs, status, ran_ms, &delay_ms) == RESTART_NEVER ||
        v->restart_ev == NULL) {
        v->state = SLIVER_FAILED;
        log_warn("sliver %s/%s: fast path left stopped after exit code %d "
                 "(%u quick failures); see %s, fix and sliver.restart",
                 v->spec.slice, v->spec.id, v->exit_code, v->rs.quick_failures,
                 v->log_path);
        return;
    }
    struct timeval tv = {(time_t)(delay_ms / 1000),
                         (suseconds_t)(delay_ms % 1000) * 1000};
    v->state = SLIVER_RESTARTING;
    event_add(v->restart_ev, &tv);
    log_info("sliver %s/%s: restarting the fast path in %llu ms", v->spec.slice,
             v->spec.id, (unsigned long long)delay_ms);
}

static void on_restart_timer(evutil_socket_t fd, short what, void *arg)
{
    struct sliver *v = arg;
    struct node *n = v->node;
    char *err = NULL;

    (void)fd, (void)what;
    if (v->state != SLIVER_RESTARTING)
        return;
    if (node_start_process(n, v, &err) < 0) {
        log_err("sliver %s/%s: restart failed: %s", v->spec.slice, v->spec.id,
                err);
        free(err);
        schedule_restart(v, 1 << 8 /* as "exit 1" */, 0);
        return;
    }
    v->rs.restarts++;
}

static void on_exit_status(struct sliver *v, int status)
{
    uint64_t ran_ms = now_ms() - v->started_ms;

    v->pid = 0;
    v->exit_code = sliver_exit_code(status);
    v->last_signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
    if (v->ctl_fd >= 0) {
        close(v->ctl_fd);
        v->ctl_fd = -1;
    }
    if (v->stopping)
        return;
    if (WIFSIGNALED(status))
        log_warn("sliver %s/%s: process killed by signal %d after %llu ms",
                 v->spec.slice, v->spec.id, WTERMSIG(status),
                 (unsigned long long)ran_ms);
    else
        log_info("sliver %s/%s: process exited with status %d", v->spec.slice,
                 v->spec.id, WEXITSTATUS(status));
    if (v->spec.type == SLIVER_CONTAINER)
        v->state = SLIVER_EXITED; /* containers are not restarted */
    else
        schedule_restart(v, status, ran_ms);
}

void node_reap(struct node *n)
{
    int status;
    pid_t pid;

    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        struct sliver *v = n->slivers;
        while (v != NULL && v->pid != pid)
            v = v->next;
        if (v != NULL)
            on_exit_status(v, status);
        else
            log_debug("reaped pid %d (an orphan of a sliver)", (int)pid);
    }
}

/* ---- create / delete -------------------------------------------------- */

/* The other end of shared-memory port 'p' of sliver 'self': another
 * sliver of this node with a shared-memory port of the same host_port. */
static const struct sliver *shm_peer(const struct node *n,
                                     const struct sliver *self,
                                     const struct sliver_port *p)
{
    for (const struct sliver *v = n->slivers; v != NULL; v = v->next)
        for (size_t i = 0; v != self && i < v->spec.n_ports; i++)
            if (v->spec.ports[i].shm[0] != '\0' &&
                strcmp(v->spec.ports[i].host_port, p->host_port) == 0)
                return v;
    return NULL;
}

/* Slots per direction of a shared-memory link (of 2 KiB: 16 MiB a link).
 * Fast paths that share a core run in turns of up to a scheduler slice
 * (SCHED_BATCH): at 0.5 Mpps, 1024 slots overflowed between turns and 14%
 * of what the first router of a 6-chain forwarded was dropped at its
 * output, CPU wasted; 4096 held (docs/bench-fastpath.md). */
#define SHM_SLOTS 4096

/* Makes the link file of shared-memory port 'p', unless its other end
 * made it already: a file nobody holds is a leftover and is made anew. */
static int shm_make(struct node *n, const struct sliver *v,
                    const struct sliver_port *p, char **err)
{
    char path[PATH_MAX], msg[256];

    if (shm_peer(n, v, p) != NULL)
        return 0;
    if (shm_path(n, p, path, sizeof(path)) < 0 ||
        pktio_shm_create(path, SHM_SLOTS, 0, msg, sizeof(msg)) < 0) {
        if (asprintf(err, "shared-memory link %s: %s", p->host_port,
                     shm_path(n, p, path, sizeof(path)) < 0 ? "path too long"
                                                            : msg) < 0)
            *err = NULL;
        return -1;
    }
    return 0;
}

/* Removes the link file of 'p' once its last end goes. */
static void shm_release(struct node *n, const struct sliver *v,
                        const struct sliver_port *p)
{
    char path[PATH_MAX];

    if (shm_peer(n, v, p) == NULL && shm_path(n, p, path, sizeof(path)) == 0)
        pktio_shm_destroy(path);
}

/* Removes everything the sliver may have: processes, cgroup, host ports,
 * namespace, log. Tolerates parts that were never made. */
static int teardown(struct node *n, struct sliver *v)
{
    int rc = 0;

    rc |= stop_processes(n, v);
    rc |= cg_remove(&n->cg, v->key);
    for (size_t i = 0; i < v->spec.n_ports; i++) {
        if (v->spec.ports[i].shm[0] != '\0')
            shm_release(n, v, &v->spec.ports[i]);
        else
            rc |= link_del_port(v->spec.ports[i].host_port);
    }
    rc |= netns_delete(v->netns);
    node_module_forget(v);
    if (unlink(v->log_path) < 0 && errno != ENOENT)
        log_warn("cannot remove %s: %s", v->log_path, strerror(errno));
    return rc;
}

static void sliver_free(struct sliver *v)
{
    if (v == NULL)
        return;
    if (v->restart_ev != NULL)
        event_free(v->restart_ev);
    if (v->ctl_fd >= 0)
        close(v->ctl_fd);
    free(v->module_file);
    free(v->module_params);
    sliver_spec_free(&v->spec);
    free(v);
}

static void unlink_sliver(struct node *n, struct sliver *v)
{
    for (struct sliver **p = &n->slivers; *p != NULL; p = &(*p)->next) {
        if (*p == v) {
            *p = v->next;
            return;
        }
    }
}

/* True if ports 'a' of slice 'sa' and 'b' of slice 'sb' are the two ends
 * of one shared-memory link. */
static bool shm_ends(const struct sliver_port *a, const char *sa,
                     const struct sliver_port *b, const char *sb)
{
    return a->shm[0] != '\0' && b->shm[0] != '\0' &&
           strcmp(a->shm, b->shm) != 0 && strcmp(sa, sb) == 0;
}

/* Another sliver using one of the host ports of 's' (other than as the
 * other end of a shared-memory link of the same slice), or NULL. */
static const char *port_conflict(const struct node *n,
                                 const struct sliver_spec *s,
                                 const struct sliver **owner)
{
    for (const struct sliver *v = n->slivers; v != NULL; v = v->next)
        for (size_t i = 0; i < v->spec.n_ports; i++)
            for (size_t j = 0; j < s->n_ports; j++)
                if (strcmp(v->spec.ports[i].host_port, s->ports[j].host_port) ==
                        0 &&
                    !shm_ends(&v->spec.ports[i], v->spec.slice, &s->ports[j],
                              s->slice)) {
                    *owner = v;
                    return s->ports[j].host_port;
                }
    return NULL;
}

static int build(struct node *n, struct sliver *v, struct node_err *e)
{
    struct cg_limits lim = {v->spec.vcpus, v->spec.memory_mib, n->cfg.pids_max};
    bool raw = v->spec.type == SLIVER_FASTPATH;
    char *err = NULL;

    if (netns_create(v->netns, &err) < 0)
        goto fail;
    for (size_t i = 0; i < v->spec.n_ports; i++)
        if (v->spec.ports[i].shm[0] != '\0'
                ? shm_make(n, v, &v->spec.ports[i], &err) < 0
                : link_add_port(v->netns, &v->spec.ports[i], raw, &err) < 0)
            goto fail;
    for (size_t i = 0; i < v->spec.n_routes; i++)
        if (link_add_route(v->netns, &v->spec.routes[i], &err) < 0)
            goto fail;
    if (cg_create(&n->cg, v->key, &lim, &err) < 0 ||
        node_start_process(n, v, &err) < 0)
        goto fail;
    return 0;
fail:
    node_err_take(e, VN_FAULT_INTERNAL, err);
    return -1;
}

struct sliver *node_create(struct node *n, struct sliver_spec *spec,
                           struct node_err *e)
{
    const struct sliver *owner = NULL;
    struct sliver *v;
    const char *port;
    char *msg;

    if ((msg = sliver_spec_check(spec)) != NULL) {
        node_err_take(e, VN_FAULT_INVALID_ARG, msg);
        return NULL;
    }
    if ((v = node_find(n, spec->slice, spec->id)) != NULL) {
        if (sliver_spec_equal(&v->spec, spec))
            return v; /* idempotent */
        node_err_set(e, VN_FAULT_EXISTS,
                     "sliver %s/%s exists with a different "
                     "spec; delete it first (sliver.delete)",
                     spec->slice, spec->id);
        return NULL;
    }
    if ((port = port_conflict(n, spec, &owner)) != NULL) {
        node_err_set(e, VN_FAULT_EXISTS,
                     "host port %s is already used by sliver "
                     "%s/%s",
                     port, owner->spec.slice, owner->spec.id);
        return NULL;
    }
    if ((v = calloc(1, sizeof(*v))) == NULL) {
        node_err_set(e, VN_FAULT_INTERNAL, "out of memory");
        return NULL;
    }
    v->spec = *spec;
    memset(spec, 0, sizeof(*spec));
    v->node = n;
    v->exit_code = -1;
    v->ctl_fd = -1;
    if (sliver_netns_name(v->netns, sizeof(v->netns), n->cfg.netns_prefix,
                          v->spec.slice, v->spec.id) < 0 ||
        sliver_key(v->key, sizeof(v->key), v->spec.slice, v->spec.id) < 0 ||
        snprintf(v->log_path, sizeof(v->log_path), "%s/%s.log",
                 n->cfg.state_dir, v->key) >= (int)sizeof(v->log_path)) {
        node_err_set(e, VN_FAULT_INVALID_ARG,
                     "names of sliver %s/%s are too long", v->spec.slice,
                     v->spec.id);
        sliver_free(v);
        return NULL;
    }
    if (n->base != NULL)
        v->restart_ev = evtimer_new(n->base, on_restart_timer, v);
    if (netns_exists(v->netns) || cg_exists(&n->cg, v->key)) {
        /* From an earlier programmerd that did not get to delete it. */
        log_warn("sliver %s/%s: removing leftovers (namespace %s or its "
                 "cgroup) before creating it",
                 v->spec.slice, v->spec.id, v->netns);
        teardown(n, v);
    }
    for (size_t i = 0; i < v->spec.n_ports; i++) {
        if (v->spec.ports[i].shm[0] == '\0' &&
            link_exists(v->spec.ports[i].host_port)) {
            node_err_set(e, VN_FAULT_EXISTS,
                         "host port %s already exists in the "
                         "VNode namespace (not made by this programmerd)",
                         v->spec.ports[i].host_port);
            sliver_free(v);
            return NULL;
        }
    }
    if (build(n, v, e) < 0) {
        log_err("sliver %s/%s: %s; rolling back", v->spec.slice, v->spec.id,
                e->msg);
        teardown(n, v);
        sliver_free(v);
        return NULL;
    }
    v->next = n->slivers;
    n->slivers = v;
    log_info("sliver %s/%s created: %s in %s", v->spec.slice, v->spec.id,
             sliver_type_name(v->spec.type), v->netns);
    return v;
}

int node_delete(struct node *n, const char *slice, const char *id,
                bool *deleted, struct node_err *e)
{
    struct sliver *v = node_find(n, slice, id);

    *deleted = false;
    if (v == NULL)
        return 0;
    if (teardown(n, v) < 0) {
        /* Keep it listed so that a retry can finish the job. */
        node_err_set(
            e, VN_FAULT_INTERNAL,
            "sliver %s/%s could not be removed "
            "completely; see programmerd's log and retry sliver.delete",
            slice, id);
        return -1;
    }
    unlink_sliver(n, v);
    log_info("sliver %s/%s deleted", slice, id);
    sliver_free(v);
    *deleted = true;
    return 0;
}

struct sliver *node_restart(struct node *n, const char *slice, const char *id,
                            struct node_err *e)
{
    struct sliver *v = node_find(n, slice, id);
    char *err = NULL;

    if (v == NULL) {
        node_err_set(e, VN_FAULT_NOT_FOUND,
                     "no sliver %s/%s here; sliver.list "
                     "shows them",
                     slice, id);
        return NULL;
    }
    if (stop_processes(n, v) < 0) {
        node_err_set(e, VN_FAULT_INTERNAL,
                     "the processes of sliver %s/%s do not "
                     "stop",
                     slice, id);
        return NULL;
    }
    v->rs.quick_failures = 0;
    if (node_start_process(n, v, &err) < 0) {
        v->state = SLIVER_FAILED;
        node_err_take(e, VN_FAULT_INTERNAL, err);
        return NULL;
    }
    v->rs.restarts++;
    return v;
}

/* ---- init / fini ------------------------------------------------------ */

static int mkdir_p(const char *path, mode_t mode)
{
    char buf[512];

    if (strlen(path) >= sizeof(buf))
        return -1;
    strcpy(buf, path);
    for (char *p = buf + 1; *p != '\0'; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0755) < 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    return mkdir(buf, mode) < 0 && errno != EEXIST ? -1 : 0;
}

int node_init(struct node *n, const struct node_config *cfg,
              struct event_base *base)
{
    char parent[CG_PATH_MAX];

    memset(n, 0, sizeof(*n));
    n->cfg = *cfg;
    n->base = base;
    snprintf(parent, sizeof(parent), "%s/%s", cfg->cgroup_parent, cfg->vnode);
    if (cg_detect(&n->cg, cfg->cgroup_root, parent) < 0) {
        log_err("cgroup names too long");
        return -1;
    }
    if (n->cg.version == CG_NONE)
        log_warn("no cgroup controllers under %s: slivers run unlimited",
                 cfg->cgroup_root);
    else
        log_info("cgroup v%d under %s/.../%s (cpu %s, memory %s, pids %s)",
                 n->cg.version == CG_V2 ? 2 : 1, cfg->cgroup_root, parent,
                 n->cg.has[CG_CPU] ? "yes" : "no",
                 n->cg.has[CG_MEMORY] ? "yes" : "no",
                 n->cg.has[CG_PIDS] ? "yes" : "no");
    if (mkdir_p(cfg->state_dir, 0750) < 0) {
        log_err("cannot create %s: %s", cfg->state_dir, strerror(errno));
        return -1;
    }
    return 0;
}

void node_fini(struct node *n)
{
    while (n->slivers != NULL) {
        struct sliver *v = n->slivers;
        if (teardown(n, v) < 0)
            log_err("sliver %s/%s: leftovers remain", v->spec.slice,
                    v->spec.id);
        n->slivers = v->next;
        sliver_free(v);
    }
    node_reap(n);
    cg_remove_parent(&n->cg);
    if (n->cfg.state_dir != NULL && rmdir(n->cfg.state_dir) < 0 &&
        errno != ENOENT)
        log_warn("%s: %s", n->cfg.state_dir, strerror(errno));
}
