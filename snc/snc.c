/* snc: the researchers' command-line client for sncd. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xmlrpc-c/json.h>

#include "log.h"
#include "rpc_client.h"
#include "units.h"
#include "xmlerr.h"

enum output { OUT_TABLE, OUT_JSON, OUT_XML };

struct cli {
    struct vn_rpc_client *client;
    enum output out;
};

/* ---- value access ---- */

/* Text of s[key] whatever its scalar type, into buf. "" when absent. */
static const char *field(xmlrpc_value *s, const char *key, char *buf,
                         size_t n)
{
    xmlrpc_env env;
    xmlrpc_value *v = NULL;

    buf[0] = '\0';
    xmlrpc_env_init(&env);
    xmlrpc_struct_find_value(&env, s, key, &v);
    if (env.fault_occurred || v == NULL)
        goto done;
    switch (xmlrpc_value_type(v)) {
    case XMLRPC_TYPE_STRING: {
        const char *str = NULL;
        xmlrpc_read_string(&env, v, &str);
        if (!env.fault_occurred) {
            snprintf(buf, n, "%s", str);
            free((char *)str);
        }
        break;
    }
    case XMLRPC_TYPE_INT: {
        int i = 0;
        xmlrpc_read_int(&env, v, &i);
        snprintf(buf, n, "%d", i);
        break;
    }
    case XMLRPC_TYPE_DOUBLE: {
        double d = 0;
        xmlrpc_read_double(&env, v, &d);
        snprintf(buf, n, "%.0f", d);
        break;
    }
    case XMLRPC_TYPE_BOOL: {
        xmlrpc_bool b = 0;
        xmlrpc_read_bool(&env, v, &b);
        snprintf(buf, n, "%s", b ? "yes" : "no");
        break;
    }
    default:
        break;
    }
done:
    if (v != NULL)
        xmlrpc_DECREF(v);
    xmlrpc_env_clean(&env);
    return buf;
}

static double field_num(xmlrpc_value *s, const char *key, const char *sub)
{
    xmlrpc_env env;
    xmlrpc_value *v = NULL, *w = NULL;
    double d = 0;

    xmlrpc_env_init(&env);
    xmlrpc_struct_find_value(&env, s, key, &v);
    if (v != NULL && !env.fault_occurred)
        xmlrpc_struct_find_value(&env, v, sub, &w);
    if (w != NULL && !env.fault_occurred)
        xmlrpc_read_double(&env, w, &d);
    if (w) xmlrpc_DECREF(w);
    if (v) xmlrpc_DECREF(v);
    xmlrpc_env_clean(&env);
    return d;
}

/* s[key] as an array (new reference) or NULL. */
static xmlrpc_value *field_array(xmlrpc_value *s, const char *key)
{
    xmlrpc_env env;
    xmlrpc_value *v = NULL;

    xmlrpc_env_init(&env);
    xmlrpc_struct_find_value(&env, s, key, &v);
    if (v != NULL && xmlrpc_value_type(v) != XMLRPC_TYPE_ARRAY) {
        xmlrpc_DECREF(v);
        v = NULL;
    }
    xmlrpc_env_clean(&env);
    return v;
}

/* ---- tables: each column is a struct field of the rows ---- */

struct column {
    const char *title;
    const char *key;
};

#define CELL 160

static void print_table(xmlrpc_value *rows, const struct column *cols,
                        size_t n_cols)
{
    xmlrpc_env env;
    int n_rows;
    size_t width[16] = {0};
    char buf[CELL];

    xmlrpc_env_init(&env);
    n_rows = rows ? xmlrpc_array_size(&env, rows) : 0;
    for (size_t c = 0; c < n_cols; c++)
        width[c] = strlen(cols[c].title);
    for (int r = 0; r < n_rows; r++) {
        xmlrpc_value *row = NULL;
        xmlrpc_array_read_item(&env, rows, r, &row);
        for (size_t c = 0; row && c < n_cols; c++) {
            size_t w = strlen(field(row, cols[c].key, buf, sizeof(buf)));
            width[c] = w > width[c] ? w : width[c];
        }
        if (row) xmlrpc_DECREF(row);
    }
    for (size_t c = 0; c < n_cols; c++)
        printf("%-*s%s", c + 1 < n_cols ? (int)width[c] : 0, cols[c].title,
               c + 1 < n_cols ? "  " : "\n");
    for (int r = 0; r < n_rows; r++) {
        xmlrpc_value *row = NULL;
        xmlrpc_array_read_item(&env, rows, r, &row);
        for (size_t c = 0; row && c < n_cols; c++)
            printf("%-*s%s", c + 1 < n_cols ? (int)width[c] : 0,
                   field(row, cols[c].key, buf, sizeof(buf)),
                   c + 1 < n_cols ? "  " : "\n");
        if (row) xmlrpc_DECREF(row);
    }
    xmlrpc_env_clean(&env);
}

#define TABLE(rows, ...)                                                       \
    do {                                                                       \
        static const struct column cols_[] = {__VA_ARGS__};                    \
        print_table(rows, cols_, sizeof(cols_) / sizeof(cols_[0]));            \
    } while (0)

static void print_sub_table(xmlrpc_value *s, const char *key,
                            const struct column *cols, size_t n)
{
    xmlrpc_value *rows = field_array(s, key);

    print_table(rows, cols, n);
    if (rows) xmlrpc_DECREF(rows);
}

static const struct column node_cols[] = {
    {"NODE", "id"}, {"TYPE", "type"}, {"VNODE", "vnode"}, {"STATE", "state"}};
static const struct column link_cols[] = {
    {"LINK", "id"},          {"A", "a"},         {"B", "b"},
    {"BANDWIDTH", "bandwidth"}, {"VNODE-A", "vnode_a"}, {"VNODE-B", "vnode_b"},
    {"PATH", "path"},        {"STATE", "state"}};
static const struct column sliver_cols[] = {
    {"SLIVER", "name"}, {"HOST", "host"}, {"STATE", "state"},
    {"DETAIL", "detail"}};

static void print_slice(xmlrpc_value *s)
{
    char a[CELL], b[CELL], c[CELL], d[CELL], e[CELL];

    printf("slice %s  owner %s  state %s\ncreated %s  lease ends %s\n\n",
           field(s, "name", a, sizeof(a)), field(s, "owner", b, sizeof(b)),
           field(s, "state", c, sizeof(c)), field(s, "created", d, sizeof(d)),
           field(s, "lease_end", e, sizeof(e)));
    print_sub_table(s, "nodes", node_cols, 4);
    printf("\n");
    print_sub_table(s, "links", link_cols, 8);
    printf("\n");
    print_sub_table(s, "slivers", sliver_cols, 4);
}

/* ---- output of a result ---- */

static void print_machine(xmlrpc_value *v, enum output out)
{
    xmlrpc_env env;
    xmlrpc_mem_block *mb;

    xmlrpc_env_init(&env);
    mb = XMLRPC_MEMBLOCK_NEW(char, &env, 0);
    if (out == OUT_JSON)
        xmlrpc_serialize_json(&env, v, mb);
    else
        xmlrpc_serialize_value(&env, mb, v);
    if (!env.fault_occurred)
        printf("%.*s\n", (int)XMLRPC_MEMBLOCK_SIZE(char, mb),
               XMLRPC_MEMBLOCK_CONTENTS(char, mb));
    XMLRPC_MEMBLOCK_FREE(char, mb);
    xmlrpc_env_clean(&env);
}

/* Calls and reports a fault on stderr. Returns the result or NULL. */
static xmlrpc_value *call(struct cli *cli, const char *method,
                          const char *arg)
{
    xmlrpc_env env;
    xmlrpc_value *r;

    xmlrpc_env_init(&env);
    r = arg ? vn_rpc_callf(cli->client, &env, method, "(s)", arg)
            : vn_rpc_callf(cli->client, &env, method, "()");
    if (env.fault_occurred) {
        fprintf(stderr, "snc: %s (%d): %s\n", vn_fault_name(env.fault_code),
                env.fault_code, env.fault_string);
        r = NULL;
    }
    xmlrpc_env_clean(&env);
    return r;
}

static char *read_spec(const char *path)
{
    size_t len = 0;
    char *err = NULL;
    char *buf = xmlerr_read_file(path, &len, &err);

    if (buf == NULL) {
        fprintf(stderr, "snc: %s\n", err ? err : path);
        free(err);
    } else if (memchr(buf, '\0', len) != NULL) {
        /* XML-RPC strings cannot carry NUL; no XML document holds one. */
        fprintf(stderr, "snc: %s: line 1: malformed XML: not an XML document "
                        "(it contains NUL bytes)\n", path);
        free(buf);
        buf = NULL;
    }
    return buf;
}

/* ---- subcommands ---- */

static int cmd_validate(struct cli *cli, char **args)
{
    char *xml = read_spec(args[0]);
    xmlrpc_value *r = xml ? call(cli, "slice.validate", xml) : NULL;
    char name[CELL];

    free(xml);
    if (r == NULL)
        return 1;
    if (cli->out != OUT_TABLE) {
        print_machine(r, cli->out);
    } else {
        printf("%s: valid; slice '%s' can be embedded now as:\n\n", args[0],
               field(r, "name", name, sizeof(name)));
        print_sub_table(r, "nodes", node_cols, 3);
        printf("\n");
        print_sub_table(r, "links", link_cols, 7);
    }
    xmlrpc_DECREF(r);
    return 0;
}

static int cmd_create(struct cli *cli, char **args)
{
    char *xml = read_spec(args[0]);
    xmlrpc_value *r = xml ? call(cli, "slice.create", xml) : NULL;

    free(xml);
    if (r == NULL)
        return 1;
    if (cli->out != OUT_TABLE)
        print_machine(r, cli->out);
    else
        print_slice(r);
    xmlrpc_DECREF(r);
    return 0;
}

static int cmd_show(struct cli *cli, char **args)
{
    xmlrpc_value *r = call(cli, "slice.get", args[0]);

    if (r == NULL)
        return 1;
    if (cli->out != OUT_TABLE)
        print_machine(r, cli->out);
    else
        print_slice(r);
    xmlrpc_DECREF(r);
    return 0;
}

static int cmd_list(struct cli *cli, char **args)
{
    xmlrpc_value *r = call(cli, "slice.list", NULL);

    (void)args;
    if (r == NULL)
        return 1;
    if (cli->out != OUT_TABLE)
        print_machine(r, cli->out);
    else
        TABLE(r, {"NAME", "name"}, {"OWNER", "owner"}, {"STATE", "state"},
              {"NODES", "nodes"}, {"LINKS", "links"}, {"CREATED", "created"},
              {"LEASE-END", "lease_end"});
    xmlrpc_DECREF(r);
    return 0;
}

static int cmd_delete(struct cli *cli, char **args)
{
    xmlrpc_value *r = call(cli, "slice.delete", args[0]);

    if (r == NULL)
        return 1;
    if (cli->out != OUT_TABLE)
        print_machine(r, cli->out);
    else
        printf("slice %s deleted\n", args[0]);
    xmlrpc_DECREF(r);
    return 0;
}

/* snc load SLICE NODE FILE.so [K=V...] */
static int cmd_load(struct cli *cli, char **args)
{
    FILE *f = fopen(args[2], "rb");
    unsigned char *so = NULL;
    size_t len = 0, cap = 0, n;
    xmlrpc_env env;
    xmlrpc_value *r = NULL;
    int rc = 1;

    if (f == NULL) {
        perror(args[2]);
        return 1;
    }
    do {
        if (len == cap) {
            unsigned char *p = realloc(so, cap = cap ? 2 * cap : 65536);
            if (p == NULL || cap > (64u << 20))
                goto cleanup;
            so = p;
        }
        n = fread(so + len, 1, cap - len, f);
        len += n;
    } while (n > 0);
    xmlrpc_env_init(&env);
    if (args[3] != NULL) {
        char kv[512] = "";
        size_t off = 0;
        for (char **a = args + 3; *a != NULL && off < sizeof(kv); a++)
            off += (size_t)snprintf(kv + off, sizeof(kv) - off, "%s%s",
                                    off ? " " : "", *a);
        r = vn_rpc_callf(cli->client, &env, "slice.load", "(ss6s)", args[0],
                         args[1], so, len, kv);
    } else {
        r = vn_rpc_callf(cli->client, &env, "slice.load", "(ss6)", args[0],
                         args[1], so, len);
    }
    if (env.fault_occurred)
        fprintf(stderr, "snc: %s (%d): %s\n", vn_fault_name(env.fault_code),
                env.fault_code, env.fault_string);
    else if (cli->out != OUT_TABLE)
        print_machine(r, cli->out);
    else
        printf("loaded %s (%zu bytes) into %s of slice %s\n", args[2], len,
               args[1], args[0]);
    rc = env.fault_occurred ? 1 : 0;
    xmlrpc_env_clean(&env);
cleanup:
    if (r)
        xmlrpc_DECREF(r);
    free(so);
    fclose(f);
    return rc;
}

/* snc set SLICE LINK k=v...: joins the pairs for slice.modify. */
static int cmd_set(struct cli *cli, char **args)
{
    xmlrpc_env env;
    xmlrpc_value *r;
    char sets[512] = "";
    size_t off = 0;

    for (char **a = args + 2; *a != NULL && off < sizeof(sets); a++)
        off += (size_t)snprintf(sets + off, sizeof(sets) - off, "%s%s",
                                off ? " " : "", *a);
    xmlrpc_env_init(&env);
    r = vn_rpc_callf(cli->client, &env, "slice.modify", "(sss)", args[0],
                     args[1], sets);
    if (env.fault_occurred) {
        fprintf(stderr, "snc: %s (%d): %s\n", vn_fault_name(env.fault_code),
                env.fault_code, env.fault_string);
        xmlrpc_env_clean(&env);
        return 1;
    }
    xmlrpc_env_clean(&env);
    if (cli->out != OUT_TABLE)
        print_machine(r, cli->out);
    else
        printf("slice %s: link %s now %s\n", args[0], args[1], sets);
    xmlrpc_DECREF(r);
    return 0;
}

/* Sets row[key] to a string. */
static void row_put(xmlrpc_env *env, xmlrpc_value *row, const char *key,
                    const char *text)
{
    xmlrpc_value *v = xmlrpc_string_new(env, text);

    xmlrpc_struct_set_value(env, row, key, v);
    xmlrpc_DECREF(v);
}

/* Has s[key]? */
static int has(xmlrpc_value *s, const char *key)
{
    xmlrpc_env env;
    int yes;

    xmlrpc_env_init(&env);
    yes = xmlrpc_struct_has_key(&env, s, key);
    xmlrpc_env_clean(&env);
    return yes;
}

/* The isolation report of each link half: rates as "100Mbit", delay in
 * ms, "-" where the redirector does not schedule (local links). */
static xmlrpc_value *isolation_rows(xmlrpc_value *stats)
{
    xmlrpc_env env;
    xmlrpc_value *out;
    int n;

    xmlrpc_env_init(&env);
    out = xmlrpc_array_new(&env);
    n = xmlrpc_array_size(&env, stats);
    for (int i = 0; i < n; i++) {
        xmlrpc_value *e = NULL, *row = xmlrpc_struct_new(&env);
        char buf[CELL], num[64];
        static const char *const copy[] = {"link", "end", "vnode",
                                           "drops_own", "drops_others",
                                           "queued_packets"};
        xmlrpc_array_read_item(&env, stats, i, &e);
        if (e == NULL)
            break;
        for (size_t k = 0; k < sizeof(copy) / sizeof(copy[0]); k++)
            row_put(&env, row, copy[k],
                    has(e, copy[k]) ? field(e, copy[k], buf, CELL) : "-");
        row_put(&env, row, "guarantee",
                has(e, "guaranteed_bps")
                    ? units_format_rate((uint64_t)atof(field(
                                            e, "guaranteed_bps", buf, CELL)),
                                        num, sizeof(num))
                    : "-");
        row_put(&env, row, "achieved",
                has(e, "achieved_bps")
                    ? units_format_rate((uint64_t)atof(field(
                                            e, "achieved_bps", buf, CELL)),
                                        num, sizeof(num))
                    : "-");
        if (has(e, "delay_p99_ns"))
            snprintf(num, sizeof(num), "%.2f ms",
                     atof(field(e, "delay_p99_ns", buf, CELL)) / 1e6);
        else
            snprintf(num, sizeof(num), "-");
        row_put(&env, row, "delay", num);
        xmlrpc_array_append_item(&env, out, row);
        xmlrpc_DECREF(row);
        xmlrpc_DECREF(e);
    }
    xmlrpc_env_clean(&env);
    return out;
}

static int cmd_stats(struct cli *cli, char **args)
{
    xmlrpc_value *r = call(cli, "slice.stats", args[0]), *iso;

    if (r == NULL)
        return 1;
    if (cli->out != OUT_TABLE) {
        print_machine(r, cli->out);
        xmlrpc_DECREF(r);
        return 0;
    }
    TABLE(r, {"LINK", "link"}, {"END", "end"}, {"VNODE", "vnode"},
          {"KEY", "key"}, {"TX-PKTS", "tx_packets"}, {"TX-BYTES", "tx_bytes"},
          {"RX-PKTS", "rx_packets"}, {"RX-BYTES", "rx_bytes"},
          {"DROP-BADKEY", "drops_bad_key"}, {"DROP-QUEUE", "drops_queue"},
          {"DROP-POLICED", "drops_policed"});
    printf("\nisolation at each link's transport port (last second):\n");
    iso = isolation_rows(r);
    TABLE(iso, {"LINK", "link"}, {"END", "end"}, {"VNODE", "vnode"},
          {"GUARANTEE", "guarantee"}, {"ACHIEVED", "achieved"},
          {"DROP-OWN", "drops_own"}, {"DROP-OTHERS", "drops_others"},
          {"DELAY-P99", "delay"}, {"QUEUED", "queued_packets"});
    xmlrpc_DECREF(iso);
    xmlrpc_DECREF(r);
    return 0;
}

/* Formats "free/total" of s[key] with a unit formatter into row[out]. */
static void put_cap(xmlrpc_env *env, xmlrpc_value *row, xmlrpc_value *s,
                    const char *key, const char *out, char kind)
{
    char f[32], t[32], cell[80];
    double fr = field_num(s, key, "free"), tot = field_num(s, key, "total");
    xmlrpc_value *v;

    if (kind == 'r') {
        units_format_rate((uint64_t)fr, f, sizeof(f));
        units_format_rate((uint64_t)tot, t, sizeof(t));
    } else if (kind == 's') {
        units_format_size((uint64_t)fr, f, sizeof(f));
        units_format_size((uint64_t)tot, t, sizeof(t));
    } else {
        snprintf(f, sizeof(f), "%.0f", fr);
        snprintf(t, sizeof(t), "%.0f", tot);
    }
    snprintf(cell, sizeof(cell), "%s/%s", f, t);
    v = xmlrpc_string_new(env, cell);
    xmlrpc_struct_set_value(env, row, out, v);
    xmlrpc_DECREF(v);
}

/* Rows of "free/total" strings made from the capacity structs. */
static xmlrpc_value *capacity_rows(xmlrpc_value *rows, int links)
{
    xmlrpc_env env;
    xmlrpc_value *out;
    int n;

    xmlrpc_env_init(&env);
    out = xmlrpc_array_new(&env);
    n = rows ? xmlrpc_array_size(&env, rows) : 0;
    for (int i = 0; i < n; i++) {
        xmlrpc_value *s = NULL, *row = xmlrpc_struct_new(&env), *v;
        char buf[CELL];
        xmlrpc_array_read_item(&env, rows, i, &s);
        if (s == NULL)
            continue;
        v = xmlrpc_string_new(&env, links ? "" : field(s, "name", buf, CELL));
        xmlrpc_struct_set_value(&env, row, "name", v);
        xmlrpc_DECREF(v);
        if (links) {
            char a[64], b[64];
            snprintf(buf, sizeof(buf), "%s-%s", field(s, "a", a, sizeof(a)),
                     field(s, "b", b, sizeof(b)));
            v = xmlrpc_string_new(&env, buf);
            xmlrpc_struct_set_value(&env, row, "name", v);
            xmlrpc_DECREF(v);
            put_cap(&env, row, s, "bps", "bw", 'r');
        } else {
            put_cap(&env, row, s, "fastpath_slots", "slots", 'n');
            put_cap(&env, row, s, "vcpus", "vcpus", 'n');
            put_cap(&env, row, s, "memory_bytes", "mem", 's');
            put_cap(&env, row, s, "port_bps", "port", 'r');
        }
        xmlrpc_array_append_item(&env, out, row);
        xmlrpc_DECREF(row);
        xmlrpc_DECREF(s);
    }
    xmlrpc_env_clean(&env);
    return out;
}

static int cmd_resources(struct cli *cli, char **args)
{
    xmlrpc_value *r = call(cli, "resources.list", NULL);
    xmlrpc_value *vn, *ln, *rows;
    char name[CELL];

    (void)args;
    if (r == NULL)
        return 1;
    if (cli->out != OUT_TABLE) {
        print_machine(r, cli->out);
        xmlrpc_DECREF(r);
        return 0;
    }
    printf("topology %s (free/total)\n\n", field(r, "topology", name, CELL));
    vn = field_array(r, "vnodes");
    rows = capacity_rows(vn, 0);
    TABLE(rows, {"VNODE", "name"}, {"FASTPATH-SLOTS", "slots"},
          {"VCPUS", "vcpus"}, {"MEMORY", "mem"}, {"PORT", "port"});
    xmlrpc_DECREF(rows);
    printf("\n");
    ln = field_array(r, "links");
    rows = capacity_rows(ln, 1);
    TABLE(rows, {"TRANSPORT-LINK", "name"}, {"BANDWIDTH", "bw"});
    xmlrpc_DECREF(rows);
    if (vn) xmlrpc_DECREF(vn);
    if (ln) xmlrpc_DECREF(ln);
    xmlrpc_DECREF(r);
    return 0;
}

static const struct subcommand {
    const char *name;
    const char *args;
    int n_args; /* exact count, or -N: at least N */
    int (*fn)(struct cli *cli, char **args);
    const char *help;
} subcommands[] = {
    {"validate", "FILE", 1, cmd_validate,
     "check a slice spec and whether it could be embedded now"},
    {"create", "FILE", 1, cmd_create, "create a slice from a spec"},
    {"list", "", 0, cmd_list, "list your slices"},
    {"show", "NAME", 1, cmd_show, "show a slice and its slivers"},
    {"delete", "NAME", 1, cmd_delete, "delete a slice"},
    {"stats", "NAME", 1, cmd_stats, "packet counters of a slice's links"},
    {"load", "NAME NODE MODULE.so [K=V...]", -3, cmd_load,
     "load your module (and its params) into a fast-path node"},
    {"set", "NAME LINK KEY=VALUE...", -3, cmd_set,
     "change a live link: bandwidth, ceiling, burst, weight"},
    {"resources", "", 0, cmd_resources, "capacity and what is free"},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: snc [options] COMMAND [ARGS]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++)
        fprintf(f, "  %-9s %-28s  %s\n", subcommands[i].name,
                subcommands[i].args, subcommands[i].help);
    fprintf(f,
        "\noptions:\n"
        "  --url URL         sncd address: unix:/path, http(s)://host:port\n"
        "                    (default $SNC_URL or unix:/run/vnode/sncd.sock)\n"
        "  --token-file F    file holding your token (default $SNC_TOKEN_FILE;\n"
        "                    $SNC_TOKEN gives the token itself)\n"
        "  --cert F --key F  client certificate for https\n"
        "  --ca F            CA to verify the server with\n"
        "  --json | --xml    machine-readable output\n");
}

/* Reads the first line of a token file into a malloc'd string. */
static char *read_token(const char *path)
{
    FILE *f = fopen(path, "r");
    char line[256];
    char *tok = NULL;

    if (f == NULL) {
        perror(path);
        return NULL;
    }
    if (fgets(line, sizeof(line), f) != NULL) {
        line[strcspn(line, "\r\n")] = '\0';
        tok = strdup(line);
    }
    fclose(f);
    return tok;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"url", required_argument, NULL, 'u'},
        {"token-file", required_argument, NULL, 't'},
        {"cert", required_argument, NULL, 'c'},
        {"key", required_argument, NULL, 'k'},
        {"ca", required_argument, NULL, 'a'},
        {"json", no_argument, NULL, 'j'},
        {"xml", no_argument, NULL, 'x'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct vn_rpc_client_config cfg = {0};
    struct cli cli = {.out = OUT_TABLE};
    const char *token_file = getenv("SNC_TOKEN_FILE");
    char *token = NULL;
    int ch, rc = 2;

    cfg.url = getenv("SNC_URL") ? getenv("SNC_URL")
                                : "unix:/run/vnode/sncd.sock";
    while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (ch) {
        case 'u': cfg.url = optarg; break;
        case 't': token_file = optarg; break;
        case 'c': cfg.cert_file = optarg; break;
        case 'k': cfg.key_file = optarg; break;
        case 'a': cfg.ca_file = optarg; break;
        case 'j': cli.out = OUT_JSON; break;
        case 'x': cli.out = OUT_XML; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    vn_log_init("snc", VN_LOG_WARN, NULL);
    if (optind >= argc) {
        usage(stderr);
        return 2;
    }
    for (size_t i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++) {
        const struct subcommand *sc = &subcommands[i];
        if (strcmp(argv[optind], sc->name) != 0)
            continue;
        int given = argc - optind - 1;
        if (sc->n_args >= 0 ? given != sc->n_args : given < -sc->n_args) {
            fprintf(stderr, "usage: snc %s %s\n", sc->name, sc->args);
            return 2;
        }
        if (getenv("SNC_TOKEN") != NULL)
            token = strdup(getenv("SNC_TOKEN"));
        else if (token_file != NULL && (token = read_token(token_file)) == NULL)
            return 2;
        cfg.token = token;
        cli.client = vn_rpc_client_new(&cfg);
        if (cli.client == NULL) {
            fprintf(stderr, "snc: bad --url '%s'\n", cfg.url);
        } else {
            rc = sc->fn(&cli, argv + optind + 1);
            vn_rpc_client_free(cli.client);
        }
        free(token);
        return rc;
    }
    fprintf(stderr, "snc: unknown command '%s'\n", argv[optind]);
    usage(stderr);
    return 2;
}
