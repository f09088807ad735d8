/* daemons: command lines, start, readiness. */
#include "daemons.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "files.h"
#include "log.h"
#include "net.h"
#include "netns.h"
#include "state.h"
#include "topo.h"

#define MAX_ARGS 24
#define POLL_MS 50
#define LOG_TAIL_LINES 20

static const char *const binaries[] = {"redirectord", "programmerd", "sncd"};

struct daemon {
    char name[96]; /* "<node>.<daemon>", as recorded in RUNDIR/pids */
    char netns[160];
    char *sock; /* its Unix socket */
    char *log;  /* its log file: --log and stdout/stderr */
    char *argv[MAX_ARGS + 1];
    size_t argc;
    pid_t pid;
    bool ready;
};

static void daemon_clear(struct daemon *d)
{
    free(d->sock);
    free(d->log);
    for (size_t i = 0; i < d->argc; i++)
        free(d->argv[i]);
    memset(d, 0, sizeof(*d));
}

/* Appends one formatted argument. */
static int arg(struct daemon *d, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int arg(struct daemon *d, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (d->argc >= MAX_ARGS)
        return -1;
    va_start(ap, fmt);
    n = vasprintf(&d->argv[d->argc], fmt, ap);
    va_end(ap);
    if (n < 0) {
        d->argv[d->argc] = NULL;
        return -1;
    }
    d->argc++;
    return 0;
}

int tb_daemons_check(const char *bin)
{
    int rc = 0;

    for (size_t i = 0; i < sizeof(binaries) / sizeof(binaries[0]); i++) {
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s", bin, binaries[i]);
        if (access(path, X_OK) < 0) {
            fprintf(stderr,
                    "testbed: daemon %s: %s (build it, point --bin at the "
                    "directory holding it, or use --no-daemons)\n",
                    path, strerror(errno));
            rc = -1;
        }
    }
    return rc;
}

int tb_daemons_users(const char *rundir)
{
    static const char *const users[][2] = {{"ops", "operator"},
                                           {"alice", "researcher"}};
    char path[4096], tok[2][33], text[512];
    int rc = -1;

    for (size_t i = 0; i < 2; i++) {
        if (tb_random_hex(tok[i], 16) < 0) {
            log_err("no randomness for tokens: %m");
            goto cleanup;
        }
        snprintf(path, sizeof(path), "%s/%s.token", rundir, users[i][0]);
        snprintf(text, sizeof(text), "%s\n", tok[i]);
        if (tb_write_new(path, text, 0600) < 0)
            goto cleanup;
    }
    snprintf(text, sizeof(text),
             "# written by testbed up: name role token\n%s %s %s\n%s %s %s\n",
             users[0][0], users[0][1], tok[0], users[1][0], users[1][1],
             tok[1]);
    snprintf(path, sizeof(path), "%s/users", rundir);
    rc = tb_write_new(path, text, 0600);
cleanup:
    explicit_bzero(tok, sizeof(tok));
    explicit_bzero(text, sizeof(text));
    return rc;
}

/* Common part: name, namespace, socket and log paths, binary. */
static int daemon_init(struct daemon *d, const struct tb_daemons_cfg *cfg,
                       const char *node, const char *bin_name,
                       const char *sock_name, const char *log_name)
{
    struct sockaddr_un sun;

    snprintf(d->name, sizeof(d->name), "%s.%s", node, bin_name);
    if (tb_net_nsname(d->netns, sizeof(d->netns), cfg->prefix, node) < 0)
        return -1;
    if (asprintf(&d->sock, "%s/%s", cfg->rundir, sock_name) < 0)
        d->sock = NULL;
    if (asprintf(&d->log, "%s/logs/%s", cfg->rundir, log_name) < 0)
        d->log = NULL;
    if (d->sock == NULL || d->log == NULL)
        return -1;
    if (strlen(d->sock) >= sizeof(sun.sun_path)) {
        log_err("socket path %s is longer than %zu bytes; use a shorter --dir",
                d->sock, sizeof(sun.sun_path) - 1);
        return -1;
    }
    return arg(d, "%s/%s", cfg->bin, bin_name);
}

/* 'port_bps': the topology's <redirector port-bandwidth>, the rate its
 * scheduler paces the transport port to (0: none given, unlimited). */
static int redirectord(struct daemon *d, const struct tb_daemons_cfg *cfg,
                       const struct tb_node *nd, uint64_t port_bps)
{
    char mgmt[TB_IP4_STRLEN], addr[TB_IP4_STRLEN];
    char sock[160], log[160];

    snprintf(sock, sizeof(sock), "%s.redirectord.sock", nd->name);
    snprintf(log, sizeof(log), "%s.redirectord.log", nd->name);
    tb_ip4_str(nd->mgmt, mgmt);
    tb_ip4_str(nd->address, addr);
    if (daemon_init(d, cfg, nd->name, "redirectord", sock, log) < 0 ||
        arg(d, "--listen") || arg(d, "http://%s:7001/RPC2", mgmt) ||
        arg(d, "--listen") || arg(d, "unix:%s", d->sock) ||
        arg(d, "--address") || arg(d, "%s", addr) || arg(d, "--transport") ||
        arg(d, "tr0") || arg(d, "--log") || arg(d, "%s", d->log))
        return -1;
    if (port_bps != 0 && (arg(d, "--port-rate") ||
                          arg(d, "%llubit", (unsigned long long)port_bps)))
        return -1;
    return 0;
}

/* The port rate of VNode 'name' in topology 't' (NULL: none known). */
static uint64_t port_rate(const struct topo *t, const char *name)
{
    int i = t != NULL ? topo_vnode_index(t, name) : -1;

    return i >= 0 ? t->vnodes[i].port_bps : 0;
}

static int programmerd(struct daemon *d, const struct tb_daemons_cfg *cfg,
                       const struct tb_node *nd)
{
    char mgmt[TB_IP4_STRLEN], sock[160], log[160], state_dir[4096];

    snprintf(sock, sizeof(sock), "%s.programmerd.sock", nd->name);
    snprintf(log, sizeof(log), "%s.programmerd.log", nd->name);
    snprintf(state_dir, sizeof(state_dir), "%s/%s.programmer", cfg->rundir,
             nd->name);
    tb_ip4_str(nd->mgmt, mgmt);
    if (mkdir(state_dir, 0700) < 0 && errno != EEXIST) {
        log_err("%s: %m", state_dir);
        return -1;
    }
    if (daemon_init(d, cfg, nd->name, "programmerd", sock, log) < 0 ||
        arg(d, "--listen") || arg(d, "http://%s:7002/RPC2", mgmt) ||
        arg(d, "--listen") || arg(d, "unix:%s", d->sock) || arg(d, "--vnode") ||
        arg(d, "%s", nd->name) || arg(d, "--netns-prefix") ||
        arg(d, "%s", d->netns) || arg(d, "--state-dir") ||
        arg(d, "%s", state_dir) || arg(d, "--log") || arg(d, "%s", d->log))
        return -1;
    return 0;
}

static int sncd(struct daemon *d, const struct tb_daemons_cfg *cfg)
{
    char ctl[TB_IP4_STRLEN];

    tb_ip4_str(TB_CTL_MGMT, ctl);
    if (daemon_init(d, cfg, "ctl", "sncd", "sncd.sock", "sncd.log") < 0 ||
        arg(d, "--topology") || arg(d, "%s", cfg->topology) || arg(d, "--db") ||
        arg(d, "%s/snc.db", cfg->rundir) || arg(d, "--users") ||
        arg(d, "%s/users", cfg->rundir) || arg(d, "--listen") ||
        arg(d, "unix:%s", d->sock) || arg(d, "--listen") ||
        arg(d, "http://%s:7000/RPC2", ctl) || arg(d, "--driver") ||
        arg(d, "rpc") || arg(d, "--log") || arg(d, "%s", d->log))
        return -1;
    return 0;
}

/* In the child: never returns. Only system calls between fork and exec.
 * The daemon gets its namespace, its own session (no terminal signals),
 * RUNDIR as working directory (core files land there), /dev/null as stdin,
 * its log as stdout and stderr, and no other inherited descriptor: one
 * left open (say a pipe of whoever ran `up`) would keep it waiting. */
static void child(const struct daemon *d, int ns_fd, const char *rundir)
{
    int fd;

    setsid();
    if (setns(ns_fd, CLONE_NEWNET) < 0) {
        dprintf(2, "testbed: setns %s: %s\n", d->netns, strerror(errno));
        _exit(126);
    }
    if (chdir(rundir) < 0)
        _exit(126);
    if ((fd = open("/dev/null", O_RDONLY)) >= 0 && fd != 0) {
        dup2(fd, 0);
        close(fd);
    }
    if ((fd = open(d->log, O_WRONLY | O_APPEND | O_CREAT, 0644)) >= 0) {
        dup2(fd, 1);
        dup2(fd, 2);
        if (fd > 2)
            close(fd);
    }
    close_range(3, ~0u, 0);
    execv(d->argv[0], d->argv);
    dprintf(2, "testbed: exec %s: %s\n", d->argv[0], strerror(errno));
    _exit(127);
}

static int start(struct daemon *d, const char *rundir)
{
    int ns_fd = tb_netns_open(d->netns);

    if (ns_fd < 0)
        return -1;
    log_info("starting %s in %s", d->name, d->netns);
    d->pid = fork();
    if (d->pid == 0)
        child(d, ns_fd, rundir);
    close(ns_fd);
    if (d->pid < 0) {
        log_err("fork: %m");
        return -1;
    }
    return tb_state_add_pid(rundir, d->pid, d->name, d->netns);
}

/* True when a listener accepts connections on Unix socket 'path'. */
static bool socket_ready(const char *path)
{
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    struct stat st;
    int fd;
    bool ok;

    if (stat(path, &st) < 0 || !S_ISSOCK(st.st_mode))
        return false;
    snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
    if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
        return false;
    ok = connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0;
    close(fd);
    return ok;
}

static void report_failure(const struct daemon *d, const char *why)
{
    fprintf(stderr, "testbed: %s (pid %d in %s) %s; last lines of %s:\n",
            d->name, (int)d->pid, d->netns, why, d->log);
    tb_print_tail(stderr, d->log, LOG_TAIL_LINES);
}

static int wait_ready(struct daemon *ds, size_t n, int timeout_ms)
{
    struct timespec ts = {0, POLL_MS * 1000000L};
    size_t ready = 0;

    for (int t = 0;; t += POLL_MS) {
        for (size_t i = 0; i < n; i++) {
            struct daemon *d = &ds[i];
            int status;
            char why[64];
            if (d->ready)
                continue;
            if (waitpid(d->pid, &status, WNOHANG) == d->pid) {
                snprintf(why, sizeof(why), "%s %d",
                         WIFEXITED(status) ? "exited with status"
                                           : "was killed by signal",
                         WIFEXITED(status) ? WEXITSTATUS(status)
                                           : WTERMSIG(status));
                report_failure(d, why);
                return -1;
            }
            if (socket_ready(d->sock)) {
                d->ready = true;
                ready++;
                log_info("%s is up (pid %d)", d->name, (int)d->pid);
            }
        }
        if (ready == n)
            return 0;
        if (t >= timeout_ms)
            break;
        nanosleep(&ts, NULL);
    }
    for (size_t i = 0; i < n; i++)
        if (!ds[i].ready) {
            char why[96];
            snprintf(why, sizeof(why), "did not open %s within %d ms",
                     ds[i].sock, timeout_ms);
            report_failure(&ds[i], why);
        }
    return -1;
}

int tb_daemons_start(const struct tb_plan *p, const struct tb_daemons_cfg *cfg)
{
    size_t n_vnodes = 0, n = 0;
    struct daemon *ds;
    struct topo *topo = NULL;
    char *err;
    int rc = -1;

    /* The plan keeps no capacities: the port rates come from the file. */
    if ((err = topo_parse_file(cfg->topology, &topo)) != NULL) {
        log_err("%s: %s", cfg->topology, err);
        free(err);
        return -1;
    }
    for (size_t i = 0; i < p->n_nodes; i++)
        n_vnodes += p->nodes[i].kind == TB_VNODE;
    ds = calloc(2 * n_vnodes + 1, sizeof(*ds));
    if (ds == NULL) {
        topo_free(topo);
        return -1;
    }
    /* Build every command line first: a bad one starts nothing. */
    for (size_t i = 0; i < p->n_nodes; i++) {
        const struct tb_node *nd = &p->nodes[i];
        if (nd->kind != TB_VNODE)
            continue;
        if (redirectord(&ds[n++], cfg, nd, port_rate(topo, nd->name)) < 0 ||
            programmerd(&ds[n++], cfg, nd) < 0) {
            log_err("cannot build the command lines of %s's daemons", nd->name);
            goto cleanup;
        }
    }
    if (sncd(&ds[n++], cfg) < 0) {
        log_err("cannot build the command line of sncd");
        goto cleanup;
    }
    for (size_t i = 0; i < n; i++)
        if (start(&ds[i], cfg->rundir) < 0)
            goto cleanup;
    rc = wait_ready(ds, n, cfg->timeout_ms);
cleanup:
    for (size_t i = 0; i < n; i++)
        daemon_clear(&ds[i]);
    free(ds);
    topo_free(topo);
    return rc;
}
