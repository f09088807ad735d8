/* sncd: the Service Network Controller daemon. */
#include <event2/event.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "ctl.h"
#include "driver_rpc.h"
#include "log.h"
#include "rpc.h"
#include "units.h"
#include "users.h"
#include "version.h"

#define MAX_LISTEN 8

struct options {
    const char *topology, *db, *users, *log_file, *log_level;
    const char *driver, *node_url;
    const char *listen[MAX_LISTEN];
    int n_listen;
    struct vn_tls_config tls;
    uint64_t default_lease_s;
    int sync_full, check_only;
};

static void usage(FILE *f)
{
    fprintf(f,
        "usage: sncd --topology FILE --db FILE --users FILE --listen URL...\n"
        "            [--cert PEM --key PEM [--ca PEM [--require-cert]]]\n"
        "            [--driver rpc|record] [--node-url FORMAT]\n"
        "            [--default-lease DURATION] [--sync-full]\n"
        "            [--log FILE] [--log-level err|warn|info|debug] [-n]\n"
        "  URL: unix:/path | http://addr:port | https://addr:port\n"
        "  --driver rpc (default): drive programmerd and redirectord on the\n"
        "    VNodes; record: only record slivers (no node daemons)\n"
        "  --node-url: node daemon URL template with {mgmt} {vnode} {port}\n"
        "    {daemon}; default " DRIVER_URL_DEFAULT "\n"
        "  -n: check the configuration, print it and exit\n");
}

static int parse_options(int argc, char **argv, struct options *o)
{
    static const struct option longopts[] = {
        {"topology", required_argument, NULL, 't'},
        {"db", required_argument, NULL, 'd'},
        {"users", required_argument, NULL, 'u'},
        {"listen", required_argument, NULL, 'l'},
        {"cert", required_argument, NULL, 'C'},
        {"key", required_argument, NULL, 'K'},
        {"ca", required_argument, NULL, 'A'},
        {"require-cert", no_argument, NULL, 'R'},
        {"default-lease", required_argument, NULL, 'L'},
        {"sync-full", no_argument, NULL, 'S'},
        {"driver", required_argument, NULL, 'D'},
        {"node-url", required_argument, NULL, 'U'},
        {"log", required_argument, NULL, 'o'},
        {"log-level", required_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int ch;

    while ((ch = getopt_long(argc, argv, "nh", longopts, NULL)) != -1) {
        switch (ch) {
        case 't': o->topology = optarg; break;
        case 'd': o->db = optarg; break;
        case 'u': o->users = optarg; break;
        case 'l':
            if (o->n_listen == MAX_LISTEN)
                return -1;
            o->listen[o->n_listen++] = optarg;
            break;
        case 'C': o->tls.cert_file = optarg; break;
        case 'K': o->tls.key_file = optarg; break;
        case 'A': o->tls.ca_file = optarg; break;
        case 'R': o->tls.require_client_cert = true; break;
        case 'L':
            if (units_parse_duration(optarg, &o->default_lease_s) < 0) {
                fprintf(stderr, "sncd: --default-lease '%s' is not an ISO "
                                "8601 duration such as PT4H\n", optarg);
                return -1;
            }
            break;
        case 'S': o->sync_full = 1; break;
        case 'D': o->driver = optarg; break;
        case 'U': o->node_url = optarg; break;
        case 'o': o->log_file = optarg; break;
        case 'v': o->log_level = optarg; break;
        case 'n': o->check_only = 1; break;
        case 'h': usage(stdout); exit(0);
        default: return -1;
        }
    }
    if (!o->topology || !o->db || !o->users || (!o->n_listen && !o->check_only))
        return -1;
    if (o->driver && strcmp(o->driver, "rpc") != 0 &&
        strcmp(o->driver, "record") != 0) {
        fprintf(stderr, "sncd: --driver must be rpc or record\n");
        return -1;
    }
    return 0;
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    (void)what;
    log_info("signal %d: stopping", (int)sig);
    event_base_loopbreak(arg);
}

/* Once a second: leases and pending deletes; every RESYNC_S: ask the nodes
 * what they hold and re-create what a restarted daemon lost. */
#define RESYNC_S 3
static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    static unsigned ticks;

    (void)fd, (void)what;
    ctl_tick(arg, time(NULL));
    if (++ticks % RESYNC_S == 0)
        ctl_resync(arg);
}

static void print_config(const struct topo *t)
{
    printf("topology %s: %zu vnodes, %zu routers, %zu agws, %zu terminals, "
           "%zu links\n", t->name, t->n_vnodes, t->n_routers, t->n_agws,
           t->n_terminals, t->n_links);
}

int main(int argc, char **argv)
{
    struct options o = {0};
    struct topo *topo = NULL;
    struct users *users = NULL;
    struct store *store = NULL;
    struct ctl ctl = {0};
    struct sliver_driver *rpc_driver = NULL;
    const struct sliver_driver *driver = &driver_record;
    struct event_base *base = NULL;
    struct vn_rpc_server *srv = NULL;
    struct event *ev_int = NULL, *ev_term = NULL, *ev_tick = NULL;
    const struct timeval one_s = {1, 0};
    char *err = NULL;
    int level, rc = 1;

    if (parse_options(argc, argv, &o) < 0) {
        usage(stderr);
        return 2;
    }
    level = o.log_level ? vn_log_level_parse(o.log_level) : VN_LOG_INFO;
    if (level < 0 || vn_log_init("sncd", (enum vn_log_level)level,
                                 o.log_file) < 0)
        fatal("bad --log-level or --log");
    if ((err = topo_parse_file(o.topology, &topo)) != NULL)
        fatal("%s: %s", o.topology, err);
    if ((users = users_load(o.users, &err)) == NULL)
        fatal("%s", err ? err : "cannot load users");
    if (o.check_only) {
        print_config(topo);
        rc = 0;
        goto cleanup;
    }
    signal(SIGPIPE, SIG_IGN);
    if ((store = store_open(o.db, o.sync_full, &err)) == NULL)
        fatal("%s", err ? err : "cannot open store");
    ctl.default_lease_s = o.default_lease_s;
    if (o.driver == NULL || strcmp(o.driver, "rpc") == 0) {
        if ((rpc_driver = driver_rpc_new(topo, o.node_url)) == NULL)
            fatal("cannot set up the rpc driver");
        driver = rpc_driver;
    }
    if (ctl_init(&ctl, topo, store, driver) < 0)
        fatal("cannot load state from %s", o.db);
    base = event_base_new();
    struct vn_rpc_server_config cfg = {
        .daemon = "sncd", .version = VN_VERSION, .auth = users_auth,
        .auth_ctx = users, .require_auth = true,
    };
    srv = vn_rpc_server_new(base, snc_api_methods, snc_api_n_methods, &ctl,
                            &cfg);
    if (srv == NULL)
        fatal("cannot create the RPC server");
    for (int i = 0; i < o.n_listen; i++)
        if (vn_rpc_server_listen(srv, o.listen[i], &o.tls) < 0)
            fatal("cannot listen on %s", o.listen[i]);
    ev_int = evsignal_new(base, SIGINT, on_signal, base);
    ev_term = evsignal_new(base, SIGTERM, on_signal, base);
    ev_tick = event_new(base, -1, EV_PERSIST, on_tick, &ctl);
    event_add(ev_int, NULL);
    event_add(ev_term, NULL);
    event_add(ev_tick, &one_s);
    log_info("sncd %s ready: topology %s, %zu vnodes, store %s, driver %s",
             VN_VERSION, topo->name, topo->n_vnodes, o.db, driver->name);
    event_base_dispatch(base);
    rc = 0;
cleanup:
    if (ev_int) event_free(ev_int);
    if (ev_term) event_free(ev_term);
    if (ev_tick) event_free(ev_tick);
    vn_rpc_server_free(srv);
    if (base) event_base_free(base);
    ctl_fini(&ctl);
    driver_rpc_free(rpc_driver);
    store_close(store);
    users_free(users);
    topo_free(topo);
    free(err);
    return rc;
}
