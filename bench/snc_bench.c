/* snc_bench: control-plane throughput and latency of sncd over XML-RPC.
 *
 * Validates, creates and deletes N slices of 10 node slivers and 12 links
 * (nodes on "any" VNode) against a running sncd, keeping at most W slices
 * alive, and prints latency percentiles per operation and operations per
 * second. The reference figure is a no-op call (system.version) over the
 * same connection, so the RPC round trip can be told apart from the work.
 *
 * Usage: snc_bench URL TOKEN [N] [W] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rpc_client.h"

#define NODES 10
#define LINKS 12

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double pct(double *v, int n, double p)
{
    int i = (int)(p / 100.0 * (n - 1) + 0.5);
    return n ? v[i] : 0;
}

/* 10 nodes (6 fast path, 4 containers) in a ring plus two chords. */
static void make_spec(char *buf, size_t n, int k)
{
    size_t off = (size_t)snprintf(
        buf, n, "<slice name='b%d' xmlns='urn:vnode:slice:1'>", k);
    for (int i = 0; i < NODES; i++) {
        if (i < 6)
            off += (size_t)snprintf(buf + off, n - off,
                                    "<node id='n%d' type='fastpath'>"
                                    "<module name='router'/></node>", i);
        else
            off += (size_t)snprintf(buf + off, n - off,
                                    "<node id='n%d' type='container'>"
                                    "<command>sleep 1</command></node>", i);
    }
    for (int i = 0; i < LINKS; i++) {
        int a = i % NODES, b = i < NODES ? (i + 1) % NODES : (i * 3) % NODES;
        if (b == a)
            b = (a + 5) % NODES;
        off += (size_t)snprintf(buf + off, n - off,
                                "<link id='l%d' a='n%d' b='n%d' "
                                "bandwidth='10Mbit'/>", i, a, b);
    }
    snprintf(buf + off, n - off, "</slice>");
}

static int call(struct vn_rpc_client *c, const char *method, const char *arg,
                double *ms)
{
    xmlrpc_env env;
    xmlrpc_value *r;
    double t0 = now_ms();

    xmlrpc_env_init(&env);
    r = arg ? vn_rpc_callf(c, &env, method, "(s)", arg)
            : vn_rpc_callf(c, &env, method, "()");
    *ms = now_ms() - t0;
    if (env.fault_occurred) {
        fprintf(stderr, "%s: %s\n", method, env.fault_string);
        xmlrpc_env_clean(&env);
        return -1;
    }
    xmlrpc_DECREF(r);
    xmlrpc_env_clean(&env);
    return 0;
}

static void report(const char *what, double *v, int n)
{
    qsort(v, (size_t)n, sizeof(*v), cmp_double);
    printf("%-10s n=%-5d p50=%7.3f ms  p99=%7.3f ms  max=%7.3f ms\n", what, n,
           pct(v, n, 50), pct(v, n, 99), n ? v[n - 1] : 0);
}

int main(int argc, char **argv)
{
    struct vn_rpc_client_config cfg = {0};
    struct vn_rpc_client *c;
    int n = argc > 3 ? atoi(argv[3]) : 1000;
    int w = argc > 4 ? atoi(argv[4]) : 50;
    double *val = calloc((size_t)n, sizeof(double));
    double *cre = calloc((size_t)n, sizeof(double));
    double *del = calloc((size_t)n, sizeof(double));
    double *nop = calloc((size_t)n, sizeof(double));
    char spec[8192], name[32];
    int n_del = 0, ops = 0;
    double t0, total_ms;

    if (argc < 3) {
        fprintf(stderr, "usage: snc_bench URL TOKEN [N] [WINDOW]\n");
        return 2;
    }
    cfg.url = argv[1];
    cfg.token = argv[2];
    c = vn_rpc_client_new(&cfg);
    if (c == NULL || !val || !cre || !del || !nop)
        return 1;
    for (int i = 0; i < n; i++)
        if (call(c, "system.version", NULL, &nop[i]) < 0)
            return 1;
    t0 = now_ms();
    for (int i = 0; i < n; i++) {
        make_spec(spec, sizeof(spec), i);
        if (call(c, "slice.validate", spec, &val[i]) < 0 ||
            call(c, "slice.create", spec, &cre[i]) < 0)
            return 1;
        ops += 2;
        if (i >= w) {
            snprintf(name, sizeof(name), "b%d", i - w);
            if (call(c, "slice.delete", name, &del[n_del++]) < 0)
                return 1;
            ops++;
        }
    }
    for (int i = n - w > 0 ? n - w : 0; i < n; i++) {
        snprintf(name, sizeof(name), "b%d", i);
        if (call(c, "slice.delete", name, &del[n_del++]) < 0)
            return 1;
        ops++;
    }
    total_ms = now_ms() - t0;
    printf("slices: %d of %d node slivers and %d links, at most %d alive\n", n,
           NODES, LINKS, w);
    report("noop-rpc", nop, n);
    report("validate", val, n);
    report("create", cre, n);
    report("delete", del, n_del);
    printf("operations: %d in %.1f s = %.0f ops/s\n", ops, total_ms / 1e3,
           ops / (total_ms / 1e3));
    printf("create p99 vs no-op RPC p99: %.1fx\n",
           pct(cre, n, 99) / (pct(nop, n, 99) > 0 ? pct(nop, n, 99) : 1));
    printf("RESULT snc create_p99_ms=%.3f validate_p99_ms=%.3f ops_per_s=%.0f\n",
           pct(cre, n, 99), pct(val, n, 99), ops / (total_ms / 1e3));
    vn_rpc_client_free(c);
    free(val);
    free(cre);
    free(del);
    free(nop);
    return 0;
}
