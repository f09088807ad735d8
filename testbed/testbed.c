/* testbed: builds a whole VNode testbed on this machine (every VNode,
 * router, AGW and terminal in its own network namespace, joined by veth
 * pairs, as docs/dataplane.md describes), starts the real daemons in it, and
 * tears it all down. See docs/testbed.md. */
#include <errno.h>
#include <getopt.h>
#include <glob.h>
#include <libgen.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "testbed/daemons.h"
#include "testbed/files.h"
#include "testbed/net.h"
#include "testbed/netns.h"
#include "testbed/plan.h"
#include "testbed/state.h"
#include "testbed/status.h"
#include "testbed/teardown.h"
#include "topo.h"

#define RUNDIR_FMT "/tmp/vnode-testbed-%s"
#define PREFIX_MAX 16
#define DAEMON_TIMEOUT_MS 10000

/* ---- which testbed ---- */

/* A testbed named on the command line: its prefix, run directory and, when
 * it has one, its recorded state. */
struct target {
    char prefix[PREFIX_MAX + 1];
    char *rundir;
    struct tb_state *st;
};

static void target_clear(struct target *t)
{
    free(t->rundir);
    tb_state_free(t->st);
    memset(t, 0, sizeof(*t));
}

static bool prefix_valid(const char *p)
{
    size_t n = strlen(p);

    /* No '-': "<prefix>-" must never be the start of another testbed's
     * namespace names. */
    return n > 0 && n <= PREFIX_MAX &&
           strspn(p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                     "0123456789_") == n;
}

static char *default_rundir(const char *prefix)
{
    char *s = NULL;

    return asprintf(&s, RUNDIR_FMT, prefix) < 0 ? NULL : s;
}

/* With neither --dir nor --prefix: the only testbed with a state file in
 * /tmp. Returns its run directory (caller frees), or NULL with *count the
 * number of testbeds found (0, or several: listed on stderr). */
static char *only_rundir(size_t *count)
{
    const size_t tail = strlen("/state");
    char *found = NULL;
    glob_t g;

    *count = 0;
    if (glob("/tmp/vnode-testbed-*/state", 0, NULL, &g) != 0)
        return NULL;
    *count = g.gl_pathc;
    if (g.gl_pathc == 1) {
        found = strndup(g.gl_pathv[0], strlen(g.gl_pathv[0]) - tail);
    } else {
        fprintf(stderr,
                "testbed: %zu testbeds found; name one with --dir or "
                "--prefix:\n",
                g.gl_pathc);
        for (size_t i = 0; i < g.gl_pathc; i++)
            fprintf(stderr, "  %.*s\n", (int)(strlen(g.gl_pathv[i]) - tail),
                    g.gl_pathv[i]);
    }
    globfree(&g);
    return found;
}

/* Fills 't' from --dir / --prefix (either may be NULL). Returns 0; 1 when
 * neither is given and no testbed is found; -1 after saying why. A missing
 * state is not an error here. */
static int target_find(const char *dir, const char *prefix, struct target *t)
{
    size_t count;

    memset(t, 0, sizeof(*t));
    if (prefix != NULL && !prefix_valid(prefix)) {
        fprintf(stderr,
                "testbed: bad prefix '%s': use 1 to %d letters, digits "
                "or '_'\n",
                prefix, PREFIX_MAX);
        return -1;
    }
    if (dir != NULL)
        t->rundir = tb_abspath(dir);
    else if (prefix != NULL)
        t->rundir = default_rundir(prefix);
    else if ((t->rundir = only_rundir(&count)) == NULL)
        return count == 0 ? 1 : -1;
    if (t->rundir == NULL)
        return -1;
    t->st = tb_state_load(t->rundir);
    if (prefix != NULL)
        snprintf(t->prefix, sizeof(t->prefix), "%s", prefix);
    else if (t->st != NULL && prefix_valid(t->st->prefix))
        snprintf(t->prefix, sizeof(t->prefix), "%s", t->st->prefix);
    return 0;
}

/* ---- up ---- */

struct up_opts {
    const char *topology, *prefix, *dir, *bin;
    bool no_daemons;
};

static int random_prefix(char *buf, size_t size)
{
    char hex[5];

    for (int tries = 0; tries < 16; tries++) {
        char **names = NULL;
        ssize_t n;
        if (tb_random_hex(hex, 2) < 0)
            return -1;
        snprintf(buf, size, "vt%s", hex);
        n = tb_netns_list(buf, &names);
        tb_strv_free(names, n > 0 ? (size_t)n : 0);
        if (n == 0)
            return 0;
    }
    return -1;
}

/* Refuses to build over another testbed; makes RUNDIR and RUNDIR/logs.
 * RUNDIR may exist if it is empty (down removes it whole). */
static int check_free(const char *prefix, const char *rundir)
{
    char path[PATH_MAX];
    char **names = NULL;
    ssize_t n = tb_netns_list(prefix, &names);

    tb_strv_free(names, n > 0 ? (size_t)n : 0);
    if (n != 0) {
        fprintf(stderr,
                "testbed: namespaces %s-* exist already; run "
                "`testbed down --prefix %s` first\n",
                prefix, prefix);
        return -1;
    }
    if (mkdir(rundir, 0755) < 0) {
        int e = errno;
        if (e != EEXIST || rmdir(rundir) < 0 || mkdir(rundir, 0755) < 0) {
            fprintf(stderr, "testbed: cannot use %s as run directory: %s\n",
                    rundir,
                    e == EEXIST ? "it exists and is not empty (testbed down "
                                  "removes the one of a testbed)"
                                : strerror(e));
            return -1;
        }
    }
    snprintf(path, sizeof(path), "%s/logs", rundir);
    if (mkdir(path, 0755) < 0) {
        fprintf(stderr, "testbed: %s: %s\n", path, strerror(errno));
        rmdir(rundir);
        return -1;
    }
    return 0;
}

static void print_up(const struct tb_plan *p, const char *prefix,
                     const char *rundir, bool daemons)
{
    printf("testbed %s is up: %zu namespaces, %zu veth pairs, %zu routes\n",
           prefix, p->n_nodes, p->n_veths, p->n_routes);
    printf("  rundir  %s\n", rundir);
    if (daemons)
        printf("  sncd    unix:%s/sncd.sock, http://198.19.0.1:7000/RPC2 "
               "(tokens in %s/ops.token, alice.token)\n",
               rundir, rundir);
    printf("  status  testbed status --dir %s\n", rundir);
    printf("  down    testbed down --dir %s\n", rundir);
}

/* Builds everything; on failure tears down what was built. */
static int up(const struct up_opts *o, const struct tb_plan *p,
              const char *prefix, const char *rundir, const char *topology,
              const char *bin)
{
    struct tb_daemons_cfg cfg = {.prefix = prefix,
                                 .rundir = rundir,
                                 .bin = bin,
                                 .topology = topology,
                                 .timeout_ms = DAEMON_TIMEOUT_MS};

    if (check_free(prefix, rundir) < 0)
        return 1;
    if (tb_state_create(rundir, prefix, topology) < 0 ||
        tb_net_build(p, prefix, rundir) < 0 ||
        (!o->no_daemons &&
         (tb_daemons_users(rundir) < 0 || tb_daemons_start(p, &cfg) < 0))) {
        fprintf(stderr, "testbed: up failed; removing what was built\n");
        if (tb_teardown(prefix, rundir) < 0)
            fprintf(stderr,
                    "testbed: could not remove everything; try "
                    "`testbed down --prefix %s`\n",
                    prefix);
        return 1;
    }
    print_up(p, prefix, rundir, !o->no_daemons);
    return 0;
}

/* The directory this program lives in: the default --bin. */
static char *own_dir(void)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

    if (n <= 0)
        return strdup(".");
    exe[n] = '\0';
    return strdup(dirname(exe));
}

static int cmd_up(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"prefix", required_argument, NULL, 'p'},
        {"dir", required_argument, NULL, 'd'},
        {"bin", required_argument, NULL, 'b'},
        {"no-daemons", no_argument, NULL, 'n'},
        {NULL, 0, NULL, 0},
    };
    struct up_opts o = {0};
    struct topo *topo = NULL;
    struct tb_plan *plan = NULL;
    char prefix[PREFIX_MAX + 1], *rundir = NULL, *bin = NULL, *topology = NULL;
    char *err = NULL;
    int ch, rc = 2;

    while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (ch) {
        case 'p':
            o.prefix = optarg;
            break;
        case 'd':
            o.dir = optarg;
            break;
        case 'b':
            o.bin = optarg;
            break;
        case 'n':
            o.no_daemons = true;
            break;
        default:
            return 2;
        }
    }
    if (optind != argc - 1) {
        fprintf(stderr, "usage: testbed up TOPOLOGY.xml [--prefix P] [--dir "
                        "RUNDIR] [--bin DIR] [--no-daemons]\n");
        return 2;
    }
    o.topology = argv[optind];
    if ((err = topo_parse_file(o.topology, &topo)) != NULL ||
        (err = tb_plan_build(topo, &plan)) != NULL) {
        fprintf(stderr, "testbed: %s: %s\n", o.topology, err);
        goto cleanup;
    }
    if (o.prefix != NULL && !prefix_valid(o.prefix)) {
        fprintf(stderr,
                "testbed: bad prefix '%s': use 1 to %d letters, digits "
                "or '_'\n",
                o.prefix, PREFIX_MAX);
        goto cleanup;
    }
    if (o.prefix != NULL)
        snprintf(prefix, sizeof(prefix), "%s", o.prefix);
    else if (random_prefix(prefix, sizeof(prefix)) < 0) {
        fprintf(stderr, "testbed: cannot pick a free prefix; use --prefix\n");
        goto cleanup;
    }
    rundir = o.dir != NULL ? tb_abspath(o.dir) : default_rundir(prefix);
    bin = o.bin != NULL ? tb_abspath(o.bin) : own_dir();
    topology = realpath(o.topology, NULL);
    if (rundir == NULL || bin == NULL || topology == NULL) {
        fprintf(stderr, "testbed: %s\n", strerror(errno));
        goto cleanup;
    }
    rc = 1;
    if (!o.no_daemons && tb_daemons_check(bin) < 0)
        goto cleanup;
    rc = up(&o, plan, prefix, rundir, topology, bin);
cleanup:
    free(err);
    free(rundir);
    free(bin);
    free(topology);
    tb_plan_free(plan);
    topo_free(topo);
    return rc;
}

/* ---- down, status, exec ---- */

/* Parses --dir and --prefix (stopping at the first operand, for exec) and
 * finds the testbed: returns as target_find(). */
static int target_opts(int argc, char **argv, struct target *t)
{
    static const struct option longopts[] = {
        {"prefix", required_argument, NULL, 'p'},
        {"dir", required_argument, NULL, 'd'},
        {NULL, 0, NULL, 0},
    };
    const char *dir = NULL, *prefix = NULL;
    int ch;

    while ((ch = getopt_long(argc, argv, "+", longopts, NULL)) != -1) {
        switch (ch) {
        case 'p':
            prefix = optarg;
            break;
        case 'd':
            dir = optarg;
            break;
        default:
            return -1;
        }
    }
    return target_find(dir, prefix, t);
}

/* Exit status when target_opts() found no testbed (rc 1) or failed. */
static int no_target(int rc)
{
    if (rc == 1)
        fprintf(stderr, "testbed: no testbed found in /tmp; name one with "
                        "--dir or --prefix\n");
    return rc == 1 ? 1 : 2;
}

static int cmd_down(int argc, char **argv)
{
    struct target t;
    int rc = target_opts(argc, argv, &t);

    if (rc == 1) {
        printf("testbed: no testbed found in /tmp; nothing to do\n");
        return 0;
    }
    if (rc < 0)
        return 2;
    if (optind != argc) {
        fprintf(stderr, "usage: testbed down [--dir RUNDIR | --prefix P]\n");
        target_clear(&t);
        return 2;
    }
    if (t.prefix[0] == '\0') {
        /* No state and no prefix: nothing is known to remove. */
        printf("testbed: nothing recorded in %s; nothing to do\n", t.rundir);
        target_clear(&t);
        return 0;
    }
    rc = tb_teardown(t.prefix, t.rundir) < 0 ? 1 : 0;
    if (rc == 0)
        printf("testbed %s is down\n", t.prefix);
    target_clear(&t);
    return rc;
}

static int cmd_status(int argc, char **argv)
{
    struct target t;
    int rc = target_opts(argc, argv, &t);

    if (rc != 0)
        return no_target(rc);
    if (optind != argc) {
        fprintf(stderr, "usage: testbed status [--dir RUNDIR | --prefix P]\n");
        target_clear(&t);
        return 2;
    }
    if (t.st == NULL) {
        fprintf(stderr, "testbed: no testbed recorded in %s\n", t.rundir);
        target_clear(&t);
        return 1;
    }
    rc = tb_status(t.st, t.rundir, stdout);
    target_clear(&t);
    return rc;
}

static int cmd_exec(int argc, char **argv)
{
    struct target t;
    char ns[256];
    char **cmd;
    int rc = target_opts(argc, argv, &t);

    if (rc != 0)
        return no_target(rc);
    /* argv[argc] is NULL, so cmd stays inside argv. */
    cmd = optind < argc ? argv + optind + 1 : argv + argc;
    if (*cmd != NULL && strcmp(*cmd, "--") == 0)
        cmd++;
    if (*cmd == NULL) {
        fprintf(stderr, "usage: testbed exec [--dir RUNDIR | --prefix P] "
                        "NODE -- CMD [ARGS...]\n");
        target_clear(&t);
        return 2;
    }
    if (t.prefix[0] == '\0') {
        fprintf(stderr, "testbed: no testbed recorded in %s\n", t.rundir);
        target_clear(&t);
        return 1;
    }
    snprintf(ns, sizeof(ns), "%s-%s", t.prefix, argv[optind]);
    target_clear(&t);
    if (!tb_netns_exists(ns)) {
        fprintf(stderr, "testbed: no namespace %s\n", ns);
        return 1;
    }
    if (tb_netns_enter(ns) < 0)
        return 1;
    execvp(cmd[0], cmd);
    fprintf(stderr, "testbed: %s: %s\n", cmd[0], strerror(errno));
    return 127;
}

/* ---- main ---- */

struct subcommand {
    const char *name, *args, *help;
    int (*fn)(int argc, char **argv);
};

static const struct subcommand subcommands[] = {
    {"up",
     "TOPOLOGY.xml [--prefix P] [--dir RUNDIR] [--bin DIR] [--no-daemons]",
     "build the testbed and start its daemons", cmd_up},
    {"down", "[--dir RUNDIR | --prefix P]",
     "stop everything and remove the namespaces and RUNDIR", cmd_down},
    {"status", "[--dir RUNDIR | --prefix P]",
     "show namespaces, addresses, daemons and sliver namespaces", cmd_status},
    {"exec", "[--dir RUNDIR | --prefix P] NODE -- CMD [ARGS...]",
     "run a command in a node's namespace", cmd_exec},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: testbed [-v] COMMAND [ARGS]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++)
        fprintf(f, "  %s %s\n      %s\n", subcommands[i].name,
                subcommands[i].args, subcommands[i].help);
    fprintf(f, "\nWithout --dir or --prefix, down/status/exec use the only "
               "testbed in /tmp.\n-v logs every command run.\n");
}

int main(int argc, char **argv)
{
    enum vn_log_level level = VN_LOG_INFO;
    int i = 1;

    for (; i < argc && argv[i][0] == '-'; i++) {
        if (strcmp(argv[i], "-v") == 0 || strcmp(argv[i], "--verbose") == 0) {
            level = VN_LOG_DEBUG;
        } else if (strcmp(argv[i], "-h") == 0 ||
                   strcmp(argv[i], "--help") == 0) {
            usage(stdout);
            return 0;
        } else {
            fprintf(stderr, "testbed: unknown option %s\n", argv[i]);
            usage(stderr);
            return 2;
        }
    }
    if (i >= argc) {
        usage(stderr);
        return 2;
    }
    vn_log_init("testbed", level, NULL);
    for (size_t k = 0; k < sizeof(subcommands) / sizeof(subcommands[0]); k++)
        if (strcmp(argv[i], subcommands[k].name) == 0) {
            optind = 0; /* glibc: restart getopt on the subcommand's argv */
            return subcommands[k].fn(argc - i, argv + i);
        }
    fprintf(stderr, "testbed: unknown command '%s'\n", argv[i]);
    usage(stderr);
    return 2;
}
