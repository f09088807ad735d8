/* status: tables of namespaces, daemons and sliver namespaces. */
#include "status.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "netns.h"
#include "proc.h"
#include "run.h"

/* "lo 198.18.1.1/32  tr0 198.18.128.1/30" from `ip -o -4 addr show`,
 * without loopback's 127.0.0.1. */
static void addresses(const char *ns, char *buf, size_t size)
{
    char *text = NULL, *save = NULL;
    size_t off = 0;

    buf[0] = '\0';
    if (tb_run_output(TB_ARGV("ip", "-n", ns, "-o", "-4", "addr", "show"),
                      &text) < 0)
        return;
    for (char *line = strtok_r(text, "\n", &save); line != NULL;
         line = strtok_r(NULL, "\n", &save)) {
        char ifname[32], addr[64], word[16], peer[64];
        int n;
        /* "2: tr0    inet 198.18.128.1/30 brd ... scope global tr0\ ..." */
        if (sscanf(line, "%*d: %31s inet %63s %15s %63s", ifname, addr, word,
                   peer) < 2 ||
            strncmp(addr, "127.", 4) == 0)
            continue;
        if (strcmp(word, "peer") == 0)
            n = snprintf(buf + off, size - off, "%s%s %s peer %s",
                         off ? "  " : "", ifname, addr, peer);
        else
            n = snprintf(buf + off, size - off, "%s%s %s", off ? "  " : "",
                         ifname, addr);
        if (n < 0 || (size_t)n >= size - off)
            break;
        off += (size_t)n;
    }
    free(text);
}

static bool recorded(const struct tb_state *st, const char *ns)
{
    for (size_t i = 0; i < st->n_ns; i++)
        if (strcmp(st->ns[i].name, ns) == 0)
            return true;
    return false;
}

static size_t count_processes(char *ns)
{
    pid_t *pids = NULL;
    size_t n = 0;

    tb_proc_find_in_netns(&ns, 1, &pids, &n);
    free(pids);
    return n;
}

static int print_namespaces(const struct tb_state *st, FILE *out)
{
    int rc = 0;

    fprintf(out, "%-24s %-9s %-8s %-9s %s\n", "NAMESPACE", "KIND", "STATE",
            "TRANSPORT", "ADDRESSES");
    for (size_t i = 0; i < st->n_ns; i++) {
        const struct tb_state_ns *ns = &st->ns[i];
        bool there = tb_netns_exists(ns->name);
        char addrs[1024] = "";
        if (there)
            addresses(ns->name, addrs, sizeof(addrs));
        else
            rc = 1;
        /* redirectord's --transport: the vnode's first link, always tr0 */
        fprintf(out, "%-24s %-9s %-8s %-9s %s\n", ns->name, ns->kind,
                there ? "present" : "missing",
                strcmp(ns->kind, "vnode") == 0 ? "tr0" : "-", addrs);
    }
    return rc;
}

static int print_daemons(const struct tb_state *st, const char *rundir,
                         FILE *out)
{
    int rc = 0;

    if (st->n_pids == 0) {
        fprintf(out, "\nno daemons (started with --no-daemons)\n");
        return 0;
    }
    fprintf(out, "\n%-24s %-8s %-6s %-24s %s\n", "DAEMON", "PID", "STATE",
            "NAMESPACE", "SOCKET");
    for (size_t i = 0; i < st->n_pids; i++) {
        const struct tb_state_pid *d = &st->pids[i];
        bool alive =
            tb_proc_in_netns(d->pid, d->netns) && tb_proc_alive(d->pid);
        const char *dot = strrchr(d->name, '.');
        char sock[4096];
        /* sockets: RUNDIR/<node>.<daemon>.sock, sncd's RUNDIR/sncd.sock */
        if (dot != NULL && strcmp(dot, ".sncd") == 0)
            snprintf(sock, sizeof(sock), "%s/sncd.sock", rundir);
        else
            snprintf(sock, sizeof(sock), "%s/%s.sock", rundir, d->name);
        if (access(sock, F_OK) < 0)
            snprintf(sock, sizeof(sock), "-");
        fprintf(out, "%-24s %-8d %-6s %-24s %s\n", d->name, (int)d->pid,
                alive ? "alive" : "dead", d->netns, sock);
        rc |= !alive;
    }
    return rc;
}

static void print_slivers(const struct tb_state *st, FILE *out)
{
    char **names = NULL;
    ssize_t n = tb_netns_list(st->prefix, &names);
    bool header = false;

    for (ssize_t i = 0; i < n; i++) {
        if (recorded(st, names[i]))
            continue;
        if (!header)
            fprintf(out, "\n%-40s %s\n", "SLIVER NAMESPACE", "PROCESSES");
        header = true;
        fprintf(out, "%-40s %zu\n", names[i], count_processes(names[i]));
    }
    if (!header)
        fprintf(out, "\nno sliver namespaces\n");
    tb_strv_free(names, n > 0 ? (size_t)n : 0);
}

int tb_status(const struct tb_state *st, const char *rundir, FILE *out)
{
    int rc;

    fprintf(out, "testbed %s  rundir %s\ntopology %s\n\n", st->prefix, rundir,
            st->topology != NULL ? st->topology : "?");
    rc = print_namespaces(st, out);
    rc |= print_daemons(st, rundir, out);
    print_slivers(st, out);
    return rc;
}
