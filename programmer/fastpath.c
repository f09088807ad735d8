/* fastpath: the fast-path process of a node sliver. Opens its ports, drops
 * privileges, runs one packet-processing module (compiled in, or loaded
 * from a shared object) until SIGTERM/SIGINT. SIGUSR1 logs the counters.
 * With --control-fd it answers programmerd's requests (fp_ctl.h): swapping
 * in a new module between two bursts, and counters. --check only loads a
 * module and dry-runs its parameters (programmerd runs this in a child
 * before it hands a module to a running fast path).
 * Exit status: 0 stopped, 1 runtime failure (programmerd restarts it),
 * EX_USAGE / EX_CONFIG (sysexits.h) for bad arguments, modules or module
 * parameters (restarting would not help). */
#include <errno.h>
#include <sched.h>
#include <fcntl.h>
#include <getopt.h>
#include <net/if.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include "fp_ctl.h"
#include "fp_dl.h"
#include "fp_loop.h"
#include "fp_modules.h"
#include "fp_priv.h"
#include "fp_run.h"
#include "log.h"
#include "pktio.h"
#include "version.h"

#define MAX_PARAMS 256
#define CHECK_TIMEOUT_S 10 /* --check: a module that hangs is killed */

struct options {
    const char *module, *module_file, *user, *log_file, *log_level;
    const char *ports[VNODE_MAX_PORTS]; /* as given, NAME= taken off */
    const char *names[VNODE_MAX_PORTS]; /* what modules call each port */
    char given[VNODE_MAX_PORTS][IF_NAMESIZE]; /* NAME of NAME=SPEC */
    int n_ports;
    struct vnode_param params[MAX_PARAMS];
    int n_params;
    int ctl_fd;
    bool check;
    bool batch; /* SCHED_BATCH */
};

/* What the control channel handler works on. */
struct fastpath {
    const struct options *o;
    struct fp_runtime *rt;
    struct fp_dl *dl; /* the loaded module's code; NULL for a built-in */
    struct pktio **ports;
};

static volatile sig_atomic_t stop_flag, dump_flag;

static void usage(FILE *f)
{
    fprintf(
        f,
        "usage: fastpath (--module NAME | --module-file PATH.so) --port "
        "PORT...\n"
        "                [--param KEY=VALUE...] [--user NAME] [--log FILE]\n"
        "                [--log-level err|warn|info|debug] [--control-fd FD]\n"
        "                [--sched batch|other] [--check]\n"
        "  PORT: an interface name (AF_PACKET; the kernel stack's copy of\n"
        "        its frames is dropped: afpacket:NAME,stack=drop) or a pktio\n"
        "        spec such as afxdp:l1, shm:PATH,side=a or pcap:IN,OUT;\n"
        "        NAME=SPEC names the port NAME for the module (default: the\n"
        "        interface's name)\n"
        "  --module-file: a module built against vnode_module.h (loaded\n"
        "        with dlopen after dropping privileges)\n"
        "  --user: who to run as once the ports are open (default nobody)\n"
        "  --sched: batch (default): SCHED_BATCH, a frame's arrival does not\n"
        "        preempt whatever runs on the core, so fast paths sharing a\n"
        "        core (a chain) keep large bursts; other: SCHED_OTHER\n"
        "  --check: load the module, dry-run its parameters for ports named\n"
        "        PORT (not opened), print 'ok NAME' and exit\n"
        "  modules: %s\n",
        fp_module_names());
}

/* --port [NAME=]SPEC: a NAME comes before the first '=' that precedes
 * the spec's first ':' ("l2=shm:/run/x,side=a"; "afpacket:l1,block_ms=4"
 * has none). */
static int add_port(struct options *o, const char *arg)
{
    const char *eq = strchr(arg, '='), *colon = strchr(arg, ':');
    int i = o->n_ports;

    if (i == VNODE_MAX_PORTS) {
        fprintf(stderr, "fastpath: at most %d ports\n", VNODE_MAX_PORTS);
        return -1;
    }
    o->ports[i] = o->names[i] = arg;
    if (eq != NULL && colon != NULL && eq < colon) {
        size_t len = (size_t)(eq - arg);
        if (len == 0 || len >= IF_NAMESIZE) {
            fprintf(stderr, "fastpath: bad port name in '%s' (1..%d bytes)\n",
                    arg, IF_NAMESIZE - 1);
            return -1;
        }
        memcpy(o->given[i], arg, len);
        o->given[i][len] = '\0';
        o->names[i] = o->given[i];
        o->ports[i] = eq + 1;
    }
    o->n_ports++;
    return 0;
}

/* Splits "KEY=VALUE" in place (argv strings are writable). */
static int add_param(struct options *o, char *kv)
{
    char *eq = strchr(kv, '=');

    if (eq == NULL || eq == kv || o->n_params == MAX_PARAMS) {
        fprintf(stderr,
                "fastpath: --param '%s' is not KEY=VALUE (or too "
                "many params)\n",
                kv);
        return -1;
    }
    *eq = '\0';
    o->params[o->n_params].key = kv;
    o->params[o->n_params].value = eq + 1;
    o->n_params++;
    return 0;
}

static int parse_ctl_fd(struct options *o, const char *s)
{
    struct stat st;
    char *end;
    long v = strtol(s, &end, 10);

    if (*s == '\0' || *end != '\0' || v < 3 || v > 1 << 20 ||
        fstat((int)v, &st) < 0 || !S_ISSOCK(st.st_mode)) {
        fprintf(stderr, "fastpath: --control-fd %s is not an open socket\n", s);
        return -1;
    }
    o->ctl_fd = (int)v;
    fcntl(o->ctl_fd, F_SETFD, FD_CLOEXEC);
    return 0;
}

static int parse_options(int argc, char **argv, struct options *o)
{
    static const struct option longopts[] = {
        {"module", required_argument, NULL, 'm'},
        {"module-file", required_argument, NULL, 'M'},
        {"port", required_argument, NULL, 'p'},
        {"param", required_argument, NULL, 'P'},
        {"user", required_argument, NULL, 'u'},
        {"sched", required_argument, NULL, 's'},
        {"log", required_argument, NULL, 'o'},
        {"log-level", required_argument, NULL, 'v'},
        {"control-fd", required_argument, NULL, 'c'},
        {"check", no_argument, NULL, 'C'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int ch;

    o->user = "nobody";
    o->ctl_fd = -1;
    o->batch = true;
    while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (ch) {
        case 'm':
            o->module = optarg;
            break;
        case 'M':
            o->module_file = optarg;
            break;
        case 'p':
            if (add_port(o, optarg) < 0)
                return -1;
            break;
        case 'P':
            if (add_param(o, optarg) < 0)
                return -1;
            break;
        case 'u':
            o->user = optarg;
            break;
        case 's':
            if (strcmp(optarg, "batch") != 0 && strcmp(optarg, "other") != 0) {
                fprintf(stderr, "fastpath: --sched batch|other\n");
                return -1;
            }
            o->batch = strcmp(optarg, "batch") == 0;
            break;
        case 'o':
            o->log_file = optarg;
            break;
        case 'v':
            o->log_level = optarg;
            break;
        case 'c':
            if (parse_ctl_fd(o, optarg) < 0)
                return -1;
            break;
        case 'C':
            o->check = true;
            break;
        case 'h':
            usage(stdout);
            exit(0);
        default:
            return -1;
        }
    }
    if (optind != argc || (o->module == NULL) == (o->module_file == NULL) ||
        o->n_ports == 0)
        return -1;
    return 0;
}

static void on_stop(int sig)
{
    (void)sig;
    stop_flag = 1;
}

static void on_dump(int sig)
{
    (void)sig;
    dump_flag = 1;
}

static void install_signals(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = on_stop; /* no SA_RESTART: poll() returns EINTR */
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sa.sa_handler = on_dump;
    sigaction(SIGUSR1, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

/* The port's MAC, or a locally administered one made from the port index
 * when it has no interface (pcap). */
static void port_mac(const struct pktio *p, int index, uint8_t mac[6])
{
    const uint8_t synthetic[6] = {0x02, 0, 0, 0, 0, (uint8_t)(index + 1)};

    if (pktio_name(p)[0] != '\0')
        pktio_hwaddr(p, mac);
    else
        memcpy(mac, synthetic, 6);
}

/* ---- control channel --------------------------------------------------- */

/* Splits "key=value" lines (in place) into 'kv'; returns how many, or -1
 * with the reply set. */
static int parse_param_lines(char *lines, struct vnode_param *kv, char *reply,
                             size_t n)
{
    char *save = NULL;
    int n_kv = 0;

    for (char *l = strtok_r(lines, "\n", &save); l != NULL;
         l = strtok_r(NULL, "\n", &save)) {
        char *eq = strchr(l, '=');
        if (eq == NULL || eq == l || n_kv == MAX_PARAMS) {
            snprintf(reply, n, "error bad parameter line '%.64s'", l);
            return -1;
        }
        *eq = '\0';
        kv[n_kv++] = (struct vnode_param){l, eq + 1};
    }
    return n_kv;
}

/* Loads the module in 'fd' and swaps it in with the "key=value" lines of
 * 'params' (modified in place); the answer goes to 'reply'. */
static void ctl_load(struct fastpath *fp, int fd, char *params, char *reply,
                     size_t n)
{
    const char *old_name = fp_runtime_module(fp->rt)->name;
    const struct vnode_module *mod;
    struct vnode_param kv[MAX_PARAMS];
    struct fp_dl *dl;
    char *err = NULL;
    int n_kv = parse_param_lines(params, kv, reply, n);

    if (n_kv < 0)
        return;
    if ((dl = fp_dl_open_fd(fd, "the new module", &err)) == NULL) {
        snprintf(reply, n, "error %s", err);
        log_err("load refused: %s", err);
        free(err);
        return;
    }
    mod = fp_dl_module(dl);
    if (fp_runtime_swap(fp->rt, mod, kv, n_kv, &err) < 0) {
        snprintf(reply, n, "error module %s: %s", mod->name, err);
        log_err("module %s refused its parameters: %s; %s keeps running",
                mod->name, err, old_name);
        free(err);
        fp_dl_close(dl);
        return;
    }
    /* The old module's fini has run: its code can go (after the log line,
     * which still uses its name). */
    log_info("module %s replaced by %s (loaded)", old_name, mod->name);
    fp_dl_close(fp->dl);
    fp->dl = dl;
    snprintf(reply, n, "ok %s", mod->name);
}

/* Answers one request of the control channel (fp_ctl.h) into 'reply'. */
static void ctl_answer(struct fastpath *fp, char *req, int fd, char *reply,
                       size_t n)
{
    if (strncmp(req, "load", 4) == 0 && (req[4] == '\0' || req[4] == '\n') &&
        fd >= 0) {
        ctl_load(fp, fd, req + 4, reply, n);
    } else if (strcmp(req, "stats") == 0) {
        memcpy(reply, "ok\n", 4);
        fp_loop_format_stats(fp->rt, fp->ports, fp->o->n_ports, reply + 3,
                             n - 3);
    } else {
        snprintf(reply, n,
                 "error unknown request '%.32s' (load + a file descriptor, "
                 "stats)",
                 req);
    }
}

/* fp_loop hook: the control channel is readable. */
static int on_ctl(void *arg)
{
    struct fastpath *fp = arg;
    char *req = malloc(FP_CTL_MAX), *reply = malloc(FP_CTL_MAX);
    int fd = -1, rc = 0;
    long r = -1;

    if (req == NULL || reply == NULL) {
        log_err("out of memory for a control request");
    } else if ((r = fp_ctl_recv(fp->o->ctl_fd, req, FP_CTL_MAX, &fd)) > 0) {
        ctl_answer(fp, req, fd, reply, FP_CTL_MAX);
        fp_ctl_send(fp->o->ctl_fd, reply, -1);
    } else if (r == 0 || errno != EAGAIN) {
        rc = -1; /* programmerd is gone */
    }
    if (fd >= 0)
        close(fd);
    free(req);
    free(reply);
    return rc;
}

/* ---- modes ------------------------------------------------------------- */

/* The module of --module / --module-file; for a file, 'file_fd' is open. */
static const struct vnode_module *load_module(const struct options *o,
                                              int file_fd, struct fp_dl **dl)
{
    const struct vnode_module *mod;
    char *err = NULL, *msg;

    if (o->module_file == NULL) {
        if ((mod = fp_module_find(o->module)) == NULL)
            log_err("no module '%s'; modules: %s (or --module-file)", o->module,
                    fp_module_names());
        return mod;
    }
    if ((*dl = fp_dl_open_fd(file_fd, o->module_file, &err)) == NULL) {
        log_err("%s", err);
        free(err);
        return NULL;
    }
    mod = fp_dl_module(*dl);
    for (int i = 0; i < o->n_params; i++) {
        if ((msg = fp_module_check_key(mod, o->params[i].key)) != NULL) {
            log_err("%s", msg);
            free(msg);
            return NULL;
        }
    }
    return mod;
}

static int open_module_file(const struct options *o)
{
    int fd;

    if (o->module_file == NULL)
        return -1;
    if ((fd = open(o->module_file, O_RDONLY | O_CLOEXEC)) < 0)
        log_err("%s: %s", o->module_file, strerror(errno));
    return fd;
}

/* --check: load, check the parameters' keys and a dry run of init. */
static int run_check(const struct options *o)
{
    const struct vnode_module *mod;
    struct fp_dl *dl = NULL;
    int fd = open_module_file(o), rc = EX_CONFIG;
    char *err;

    alarm(CHECK_TIMEOUT_S);
    if ((o->module_file != NULL && fd < 0) || fp_priv_drop(o->user) < 0)
        goto cleanup;
    if ((mod = load_module(o, fd, &dl)) == NULL)
        goto cleanup;
    err = fp_module_check_params(mod, o->names, o->n_ports, o->params,
                                 o->n_params);
    if (err != NULL) {
        log_err("module %s: %s", mod->name, err);
        free(err);
        goto cleanup;
    }
    printf("ok %s\n", mod->name);
    rc = 0;
cleanup:
    fp_dl_close(dl);
    if (fd >= 0)
        close(fd);
    return rc;
}

/* --sched. Fast paths on one core hand bursts to each other (a chain):
 * under SCHED_OTHER each wake-up preempts the sender, so every burst of 64
 * costs two context switches per hop, and a 6-router chain's rate swung
 * between 54% and 89% of one router's from run to run; under SCHED_BATCH
 * a woken fast path waits for the running one to sleep or use its slice,
 * and the chain kept 94-106% (docs/bench-fastpath.md). The cost: under
 * load, a frame may wait up to a scheduler slice (a few ms) longer. */
static void set_sched(const struct options *o)
{
    struct sched_param sp = {0};

    if (o->batch && sched_setscheduler(0, SCHED_BATCH, &sp) < 0)
        log_warn("SCHED_BATCH: %s; running under SCHED_OTHER",
                 strerror(errno));
}

int main(int argc, char **argv)
{
    struct options o = {0};
    struct pktio *ports[VNODE_MAX_PORTS] = {NULL};
    const char *names[VNODE_MAX_PORTS];
    uint8_t macs[VNODE_MAX_PORTS][6];
    const struct vnode_module *mod;
    struct fastpath fp = {.o = &o, .ports = ports};
    char spec[IF_NAMESIZE + 32], *err = NULL;
    int level, rc = 1, file_fd = -1;

    if (parse_options(argc, argv, &o) < 0) {
        usage(stderr);
        return EX_USAGE;
    }
    level = o.log_level ? vn_log_level_parse(o.log_level) : VN_LOG_INFO;
    if (level < 0 ||
        vn_log_init("fastpath", (enum vn_log_level)level, o.log_file) < 0) {
        fprintf(stderr, "fastpath: bad --log-level or --log\n");
        return EX_USAGE;
    }
    if (o.check)
        return run_check(&o);
    if (o.module_file != NULL && (file_fd = open_module_file(&o)) < 0)
        return EX_CONFIG;
    if (o.module_file == NULL && fp_module_find(o.module) == NULL) {
        log_err("no module '%s'; modules: %s", o.module, fp_module_names());
        return EX_CONFIG;
    }
    install_signals();
    set_sched(&o);
    for (int i = 0; i < o.n_ports; i++) {
        const char *s = o.ports[i];
        if (strchr(s, ':') == NULL) {
            /* A sliver's ports are the fast path's alone. */
            snprintf(spec, sizeof(spec), "afpacket:%s,stack=drop", s);
            s = spec;
        }
        if ((ports[i] = pktio_open(s)) == NULL) {
            log_err("cannot open port %s", o.ports[i]);
            goto cleanup;
        }
        names[i] = o.given[i][0] != '\0'               ? o.names[i]
                   : pktio_name(ports[i])[0] != '\0' ? pktio_name(ports[i])
                                                     : o.ports[i];
        port_mac(ports[i], i, macs[i]);
    }
    if (fp_priv_drop(o.user) < 0)
        goto cleanup;
    /* Module code (constructors included) never runs as root. */
    if ((mod = load_module(&o, file_fd, &fp.dl)) == NULL) {
        rc = EX_CONFIG;
        goto cleanup;
    }
    fp.rt = fp_runtime_new(mod, names, (const uint8_t(*)[6])macs, o.n_ports,
                           fp_loop_send, ports);
    if (fp.rt == NULL)
        goto cleanup;
    if (fp_runtime_start(fp.rt, o.params, o.n_params, &err) < 0) {
        log_err("module %s: %s", mod->name, err);
        rc = EX_CONFIG;
        goto cleanup;
    }
    log_info("fastpath %s: module %s%s on %d port%s, running as %s", VN_VERSION,
             mod->name, fp.dl != NULL ? " (loaded)" : "", o.n_ports,
             o.n_ports == 1 ? "" : "s", geteuid() == 0 ? "root" : o.user);
    struct fp_loop_hooks hooks = {
        .ctl_fd = o.ctl_fd, .on_ctl = on_ctl, .arg = &fp};
    rc =
        fp_loop_run(fp.rt, ports, o.n_ports, &stop_flag, &dump_flag, &hooks) < 0
            ? 1
            : 0;
    fp_loop_log_stats(fp.rt, ports, o.n_ports);
    log_info("stopped");
cleanup:
    fp_runtime_free(fp.rt); /* the module's fini, before its code goes */
    fp_dl_close(fp.dl);
    for (int i = 0; i < o.n_ports; i++)
        pktio_close(ports[i]);
    if (file_fd >= 0)
        close(file_fd);
    free(err);
    return rc;
}
