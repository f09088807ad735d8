/* programmerd: the node half of a VNode. Runs node slivers (containers and
 * fast-path processes) in their own network namespaces and cgroups, in the
 * VNode's network namespace, driven over XML-RPC (see docs/programmer.md). */
#include <event2/event.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "api.h"
#include "log.h"
#include "netns.h"
#include "node.h"
#include "rpc.h"
#include "sliver.h"
#include "version.h"

#define MAX_LISTEN 8

struct options {
    const char *listen[MAX_LISTEN];
    int n_listen;
    const char *vnode, *netns_prefix, *fastpath, *state_dir, *log_file;
    const char *shm_dir;
    const char *log_level, *user, *cgroup_root, *cgroup_parent;
    int pids_max;
};

static void usage(FILE *f)
{
    fprintf(
        f,
        "usage: programmerd --listen URL... --vnode NAME [--netns-prefix P]\n"
        "                   [--fastpath PATH] [--state-dir DIR] [--shm-dir DIR]\n"
        "                   [--fastpath-user USER] [--pids-max N]\n"
        "                   [--cgroup-root DIR] [--cgroup-parent NAME]\n"
        "                   [--log FILE] [--log-level err|warn|info|debug]\n"
        "  URL: unix:/path | http://addr:port\n"
        "  sliver namespaces are P.SLICE.ID (P defaults to NAME)\n"
        "  --fastpath: default: 'fastpath' next to this program\n"
        "  --state-dir: default /run/vnode/programmerd-NAME\n"
        "  --shm-dir: shared-memory links between fast paths (a tmpfs;\n"
        "             default /dev/shm), files P.<port>.shm\n");
}

static int parse_int(const char *s, int lo, int hi, int *out)
{
    char *end;
    long v = strtol(s, &end, 10);

    if (*s == '\0' || *end != '\0' || v < lo || v > hi)
        return -1;
    *out = (int)v;
    return 0;
}

static int parse_options(int argc, char **argv, struct options *o)
{
    static const struct option longopts[] = {
        {"listen", required_argument, NULL, 'l'},
        {"vnode", required_argument, NULL, 'n'},
        {"netns-prefix", required_argument, NULL, 'p'},
        {"fastpath", required_argument, NULL, 'f'},
        {"state-dir", required_argument, NULL, 's'},
        {"shm-dir", required_argument, NULL, 'S'},
        {"fastpath-user", required_argument, NULL, 'u'},
        {"pids-max", required_argument, NULL, 'P'},
        {"cgroup-root", required_argument, NULL, 'C'},
        {"cgroup-parent", required_argument, NULL, 'G'},
        {"log", required_argument, NULL, 'o'},
        {"log-level", required_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int ch;

    o->user = "nobody";
    o->pids_max = 512;
    o->cgroup_root = "/sys/fs/cgroup";
    o->cgroup_parent = "vnode";
    while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (ch) {
        case 'l':
            if (o->n_listen == MAX_LISTEN)
                return -1;
            o->listen[o->n_listen++] = optarg;
            break;
        case 'n':
            o->vnode = optarg;
            break;
        case 'p':
            o->netns_prefix = optarg;
            break;
        case 'f':
            o->fastpath = optarg;
            break;
        case 's':
            o->state_dir = optarg;
            break;
        case 'S':
            o->shm_dir = optarg;
            break;
        case 'u':
            o->user = optarg;
            break;
        case 'P':
            if (parse_int(optarg, 0, 1 << 22, &o->pids_max) < 0) {
                fprintf(stderr,
                        "programmerd: --pids-max '%s' is not a "
                        "count (0 = no limit)\n",
                        optarg);
                return -1;
            }
            break;
        case 'C':
            o->cgroup_root = optarg;
            break;
        case 'G':
            o->cgroup_parent = optarg;
            break;
        case 'o':
            o->log_file = optarg;
            break;
        case 'v':
            o->log_level = optarg;
            break;
        case 'h':
            usage(stdout);
            exit(0);
        default:
            return -1;
        }
    }
    if (optind != argc || o->n_listen == 0 || o->vnode == NULL)
        return -1;
    if (o->netns_prefix == NULL)
        o->netns_prefix = o->vnode;
    return 0;
}

/* 'fastpath' next to our own executable. Caller frees. */
static char *default_fastpath(void)
{
    char self[PATH_MAX], *slash, *path = NULL;
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

    if (n <= 0)
        return NULL;
    self[n] = '\0';
    if ((slash = strrchr(self, '/')) == NULL)
        return NULL;
    *slash = '\0';
    if (asprintf(&path, "%s/fastpath", self) < 0)
        return NULL;
    return path;
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    (void)what;
    log_info("signal %d: stopping", (int)sig);
    event_base_loopbreak(arg);
}

static void on_sigchld(evutil_socket_t sig, short what, void *arg)
{
    (void)sig, (void)what;
    node_reap(arg);
}

int main(int argc, char **argv)
{
    struct options o = {0};
    struct node node;
    struct node_config cfg;
    struct event_base *base = NULL;
    struct vn_rpc_server *srv = NULL;
    struct event *ev_int = NULL, *ev_term = NULL, *ev_chld = NULL;
    char *fastpath = NULL, *state_dir = NULL;
    bool node_up = false;
    int level, rc = 1;

    if (parse_options(argc, argv, &o) < 0) {
        usage(stderr);
        return 2;
    }
    level = o.log_level ? vn_log_level_parse(o.log_level) : VN_LOG_INFO;
    if (level < 0 ||
        vn_log_init("programmerd", (enum vn_log_level)level, o.log_file) < 0)
        fatal("bad --log-level or --log");
    if (!sliver_name_valid(o.vnode, SLIVER_NAME_MAX) ||
        !sliver_name_valid(o.netns_prefix, SLIVER_PREFIX_MAX))
        fatal("--vnode and --netns-prefix take 1..%d of A-Z a-z 0-9 _ -",
              SLIVER_NAME_MAX);
    fastpath = o.fastpath ? strdup(o.fastpath) : default_fastpath();
    if (fastpath == NULL || fastpath[0] != '/')
        fatal("--fastpath must be an absolute path");
    if (access(fastpath, X_OK) < 0)
        log_warn("%s is not executable: fastpath slivers will fail", fastpath);
    if (o.state_dir == NULL &&
        asprintf(&state_dir, "/run/vnode/programmerd-%s", o.vnode) < 0)
        fatal("out of memory");
    /* Orphans of sliver processes come to us, not to a slow PID 1. */
    if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0)
        fatal("PR_SET_CHILD_SUBREAPER failed");
    if (netns_join_host_mounts() == 1)
        log_info("joined PID 1's mount namespace so that sliver namespaces "
                 "are visible host-wide");
    if (!netns_run_dir_shared())
        log_warn("%s does not propagate to other mount namespaces (started "
                 "under `ip netns exec`?): sliver namespaces will be "
                 "invisible outside; start programmerd with `nsenter "
                 "--net=/run/netns/VNODE` instead",
                 NETNS_RUN_DIR);
    signal(SIGPIPE, SIG_IGN);
    cfg = (struct node_config){
        .vnode = o.vnode,
        .netns_prefix = o.netns_prefix,
        .fastpath = fastpath,
        .fastpath_user = o.user,
        .state_dir = o.state_dir ? o.state_dir : state_dir,
        .shm_dir = o.shm_dir ? o.shm_dir : "/dev/shm",
        .cgroup_root = o.cgroup_root,
        .cgroup_parent = o.cgroup_parent,
        .log_level = vn_log_level_name((enum vn_log_level)level),
        .pids_max = o.pids_max,
        .stop_grace_ms = 2000,
    };
    base = event_base_new();
    if (base == NULL || node_init(&node, &cfg, base) < 0)
        fatal("cannot initialise");
    node_up = true;
    struct vn_rpc_server_config rcfg = {
        .daemon = "programmerd",
        .version = VN_VERSION,
        /* sliver.load carries a module of up to 16 MiB as base64. */
        .max_body_bytes = NODE_MODULE_MAX_BYTES / 3 * 4 + (1 << 20),
    };
    srv = vn_rpc_server_new(base, programmer_api_methods,
                            programmer_api_n_methods, &node, &rcfg);
    if (srv == NULL)
        fatal("cannot create the RPC server");
    for (int i = 0; i < o.n_listen; i++)
        if (vn_rpc_server_listen(srv, o.listen[i], NULL) < 0) {
            log_err("cannot listen on %s", o.listen[i]);
            goto cleanup;
        }
    ev_int = evsignal_new(base, SIGINT, on_signal, base);
    ev_term = evsignal_new(base, SIGTERM, on_signal, base);
    ev_chld = evsignal_new(base, SIGCHLD, on_sigchld, &node);
    event_add(ev_int, NULL);
    event_add(ev_term, NULL);
    event_add(ev_chld, NULL);
    log_info("programmerd %s ready: vnode %s, namespaces %s.*, fastpath %s",
             VN_VERSION, o.vnode, o.netns_prefix, fastpath);
    event_base_dispatch(base);
    rc = 0;
cleanup:
    vn_rpc_server_free(srv);
    if (node_up)
        node_fini(&node);
    if (ev_int)
        event_free(ev_int);
    if (ev_term)
        event_free(ev_term);
    if (ev_chld)
        event_free(ev_chld);
    if (base)
        event_base_free(base);
    free(fastpath);
    free(state_dir);
    return rc;
}
