/* Unit tests for lib/spec.c: the slice request language. Run from the
 * repository root: the corpus is read from tests/specs/. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <glob.h>
#include <libxml/parser.h>
#include <libxml/xmlerror.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "spec.h"

#define VALID_GLOB "tests/specs/valid/*.xml"
#define INVALID_GLOB "tests/specs/invalid/*.xml"
#define MIN_INVALID_CASES 35
/* tests/specs/invalid/90-* to 99-* are invalid only against a topology
 * (unknown VNode, no capacity): the parser must accept them. Every other
 * case, 100 and up included, is a parser error. */
#define FIRST_TOPOLOGY_CASE 90
#define LAST_TOPOLOGY_CASE 99

/* ---- Helpers ------------------------------------------------------------ */

/* Whole file as a NUL-terminated string, or NULL. Caller frees. */
static char *read_text(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    long len;

    if (f == NULL)
        return NULL;
    if (fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 0 ||
        fseek(f, 0, SEEK_SET) != 0)
        goto cleanup;
    buf = calloc(1, (size_t)len + 1);
    if (buf != NULL && fread(buf, 1, (size_t)len, f) != (size_t)len) {
        free(buf);
        buf = NULL;
    }
cleanup:
    fclose(f);
    return buf;
}

/* Parses a file that must be valid. Caller frees with spec_free. */
static struct slice_spec *parse_ok(const char *path)
{
    struct slice_spec *spec = NULL;
    char *msg = spec_parse_file(path, &spec);

    if (msg != NULL)
        print_error("%s: unexpected error:\n%s\n", path, msg);
    assert_null(msg);
    assert_non_null(spec);
    return spec;
}

/* Parses text that must be invalid. Caller frees the message. */
static char *parse_bad(const char *xml)
{
    struct slice_spec *spec = (struct slice_spec *)1;
    char *msg = spec_parse(xml, strlen(xml), &spec);

    assert_non_null(msg);
    assert_null(spec);
    return msg;
}

static size_t count_lines(const char *s)
{
    size_t n = 1;

    for (; *s != '\0'; s++)
        n += *s == '\n';
    return n;
}

static size_t count_substr(const char *s, const char *sub)
{
    size_t n = 0;

    for (s = strstr(s, sub); s != NULL; s = strstr(s + 1, sub))
        n++;
    return n;
}

/* Every line "line N: ..." with N ascending; no libxml2 namespace noise. */
static bool well_formed_message(const char *msg)
{
    long prev = 0;

    if (strstr(msg, "{urn:") != NULL)
        return false;
    for (const char *p = msg; *p != '\0';) {
        const char *nl = strchr(p, '\n');
        long line;

        if (p[0] == '(' && nl == NULL)
            break; /* "(N more errors not shown)" */
        if (sscanf(p, "line %ld: ", &line) != 1 || line < prev)
            return false;
        prev = line;
        if (nl == NULL)
            break;
        p = nl + 1;
    }
    return true;
}

/* ---- The corpus --------------------------------------------------------- */

static void test_valid_corpus(void **state)
{
    glob_t g;

    (void)state;
    assert_int_equal(glob(VALID_GLOB, 0, NULL, &g), 0);
    assert_true(g.gl_pathc >= 4);
    for (size_t i = 0; i < g.gl_pathc; i++)
        spec_free(parse_ok(g.gl_pathv[i]));
    globfree(&g);
}

/* Checks one invalid case against its .expect file: each line of it must
 * be in the message, the first one in the message's first line. Returns
 * true if it passes (prints why not otherwise). */
static bool check_invalid_case(const char *xml_path)
{
    char expect_path[512], *expect = NULL, *msg = NULL, *line, *save = NULL;
    struct slice_spec *spec = NULL;
    bool ok = false, first = true;
    size_t first_len;

    snprintf(expect_path, sizeof(expect_path), "%.*s.expect",
             (int)(strlen(xml_path) - 4), xml_path);
    expect = read_text(expect_path);
    if (expect == NULL) {
        print_error("%s: missing %s\n", xml_path, expect_path);
        goto cleanup;
    }
    msg = spec_parse_file(xml_path, &spec);
    if (msg == NULL) {
        print_error("%s: parsed, but should fail with: %s\n", xml_path, expect);
        goto cleanup;
    }
    first_len = strcspn(msg, "\n");
    ok = well_formed_message(msg);
    if (!ok)
        print_error("%s: message not in 'line N: ...' form:\n%s\n", xml_path,
                    msg);
    for (line = strtok_r(expect, "\n", &save); line && ok;
         line = strtok_r(NULL, "\n", &save), first = false) {
        const char *at = strstr(msg, line);

        if (at == NULL || (first && (size_t)(at - msg) >= first_len)) {
            print_error("%s:\n  expected%s: %s\n  actual:\n%s\n", xml_path,
                        first ? " in the first line" : "", line, msg);
            ok = false;
        }
    }
cleanup:
    spec_free(spec);
    free(msg);
    free(expect);
    return ok;
}

/* NN of ".../NN-name.xml". */
static int case_number(const char *path)
{
    const char *base = strrchr(path, '/');

    return atoi(base != NULL ? base + 1 : path);
}

static bool is_topology_case(const char *path)
{
    int n = case_number(path);

    return n >= FIRST_TOPOLOGY_CASE && n <= LAST_TOPOLOGY_CASE;
}

static void test_invalid_corpus(void **state)
{
    size_t failed = 0, parser_cases = 0, past_topology = 0;
    glob_t g;

    (void)state;
    assert_int_equal(glob(INVALID_GLOB, 0, NULL, &g), 0);
    for (size_t i = 0; i < g.gl_pathc; i++) {
        if (is_topology_case(g.gl_pathv[i]))
            continue;
        parser_cases++;
        past_topology += case_number(g.gl_pathv[i]) > LAST_TOPOLOGY_CASE;
        failed += !check_invalid_case(g.gl_pathv[i]);
    }
    assert_true(parser_cases >= MIN_INVALID_CASES);
    assert_true(past_topology > 0); /* 100 and up are checked too */
    if (failed > 0)
        print_error("%zu of %zu invalid specs failed\n", failed, parser_cases);
    globfree(&g);
    assert_int_equal(failed, 0);
}

/* The topology-dependent cases are well-formed slice specs. */
static void test_topology_cases_parse(void **state)
{
    glob_t g;

    (void)state;
    if (glob(INVALID_GLOB, 0, NULL, &g) != 0)
        return;
    for (size_t i = 0; i < g.gl_pathc; i++) {
        if (is_topology_case(g.gl_pathv[i]))
            spec_free(parse_ok(g.gl_pathv[i]));
    }
    globfree(&g);
}

/* ---- Parsed values ------------------------------------------------------ */

static void test_example_values(void **state)
{
    struct slice_spec *s = parse_ok("tests/specs/valid/02-example.xml");
    const struct spec_node *r1, *vm1, *c1;
    const struct spec_link *l1, *l2;

    (void)state;
    assert_string_equal(s->name, "video-exp");
    assert_int_equal(s->weight, 3);
    assert_true(s->lease.present);
    assert_int_equal(s->lease.start, 1795510800); /* 2026-11-24T09:00:00Z */
    assert_int_equal(s->lease.duration_s, 4 * 3600);

    assert_int_equal(s->n_nodes, 3);
    r1 = spec_find_node(s, "r1");
    assert_non_null(r1);
    assert_int_equal(r1->kind, SPEC_NODE_FASTPATH);
    assert_null(r1->vnode); /* "any" */
    assert_string_equal(r1->module, "router");
    assert_int_equal(r1->n_params, 2);
    assert_string_equal(r1->params[0].key, "route");
    assert_string_equal(r1->params[0].value, "10.0.0.0/8 1");
    assert_string_equal(r1->params[1].value, "0.0.0.0/0 2");
    assert_null(r1->image);
    assert_null(r1->command);
    assert_int_equal(r1->vcpus, 1);
    assert_int_equal(r1->memory_bytes, 0);
    assert_int_equal(r1->line, 5);
    assert_null(r1->ifaces);
    assert_int_equal(r1->n_ifaces, 0);
    assert_null(r1->routes);
    assert_int_equal(r1->n_routes, 0);

    vm1 = spec_find_node(s, "vm1");
    assert_non_null(vm1);
    assert_int_equal(vm1->kind, SPEC_NODE_SLOWPATH);
    assert_string_equal(vm1->vnode, "tokyo");
    assert_string_equal(vm1->image, "debian-12");
    assert_null(vm1->module);
    assert_int_equal(vm1->vcpus, 2);
    assert_int_equal(vm1->memory_bytes, 512ULL << 20);
    assert_int_equal(vm1->line, 8);

    c1 = &s->nodes[spec_node_index(s, "c1")];
    assert_int_equal(c1->kind, SPEC_NODE_CONTAINER);
    assert_string_equal(c1->command, "iperf3 -s");
    assert_int_equal(c1->vcpus, 1);
    assert_int_equal(c1->memory_bytes, 64ULL << 20);
    assert_int_equal(c1->n_ifaces, 1);
    assert_string_equal(c1->ifaces[0].link, "l2");
    assert_string_equal(c1->ifaces[0].address, "10.0.2.2/24");
    assert_int_equal(c1->ifaces[0].line, 12);
    assert_int_equal(c1->n_routes, 1);
    assert_string_equal(c1->routes[0].to, "default");
    assert_string_equal(c1->routes[0].via, "10.0.2.1");
    assert_int_equal(vm1->n_ifaces, 0); /* no addresses */
    assert_null(vm1->ifaces);

    assert_int_equal(s->n_links, 4); /* l1, l2, then the chain's two */
    l1 = &s->links[0];
    assert_string_equal(l1->id, "l1");
    assert_string_equal(l1->a, "r1");
    assert_string_equal(l1->b, "vm1");
    assert_int_equal(l1->rate_bps, 100000000);
    assert_int_equal(l1->ceil_bps, 200000000);
    assert_int_equal(l1->burst_bytes, 65536);
    assert_int_equal(l1->weight, 5);
    assert_int_equal(l1->line, 14); /* where the tag starts */
    l2 = &s->links[1];
    assert_int_equal(l2->rate_bps, 1500000000);
    assert_int_equal(l2->ceil_bps, 1500000000); /* defaults to bandwidth */
    assert_int_equal(l2->burst_bytes, 64 << 10);
    assert_int_equal(l2->weight, 1);
    assert_int_equal(s->n_chains, 1);
    assert_string_equal(s->chains[0].id, "web");
    assert_int_equal(s->chains[0].n_hops, 3);
    assert_int_equal(s->chains[0].first_link, 2);
    assert_string_equal(s->links[2].id, "web.1");
    assert_string_equal(s->links[2].a, "c1");
    assert_string_equal(s->links[2].b, "r1");
    assert_string_equal(s->links[3].id, "web.2");
    assert_string_equal(s->links[3].a, "r1");
    assert_string_equal(s->links[3].b, "vm1");

    assert_int_equal(s->n_gateways, 1);
    assert_string_equal(s->gateways[0].id, "g1");
    assert_string_equal(s->gateways[0].agw, "agw-tokyo");
    assert_string_equal(s->gateways[0].node, "r1");
    assert_int_equal(s->gateways[0].auth, SPEC_AUTH_CERT);

    assert_int_equal(s->n_measures, 1);
    assert_string_equal(s->measures[0].id, "m1");
    assert_string_equal(s->measures[0].link, "l1");
    assert_string_equal(s->measures[0].filter, "udp");
    assert_string_equal(s->measures[0].metrics, "throughput loss delay");
    spec_free(s);
}

static void test_minimal_defaults(void **state)
{
    struct slice_spec *s = parse_ok("tests/specs/valid/01-minimal.xml");

    (void)state;
    assert_string_equal(s->name, "tiny");
    assert_int_equal(s->weight, 1);
    assert_false(s->lease.present);
    assert_int_equal(s->lease.start, 0);
    assert_int_equal(s->lease.duration_s, 0);
    assert_int_equal(s->n_nodes, 1);
    assert_int_equal(s->n_links, 0);
    assert_int_equal(s->n_gateways, 0);
    assert_int_equal(s->n_measures, 0);
    assert_int_equal(s->n_chains, 0);
    assert_null(s->links);
    assert_null(s->chains);
    assert_int_equal(s->nodes[0].n_params, 0);
    assert_null(s->nodes[0].params);
    assert_int_equal(s->nodes[0].n_ifaces, 0);
    assert_null(s->nodes[0].ifaces);
    assert_int_equal(s->nodes[0].n_routes, 0);
    assert_null(s->nodes[0].routes);
    spec_free(s);
}

static void test_lexical_forms(void **state)
{
    struct slice_spec *s = parse_ok("tests/specs/valid/03-forms.xml");
    const struct spec_node *vm, *ct;

    (void)state;
    assert_string_equal(s->name, "forms.v2_x-1");
    assert_true(s->lease.present);
    assert_int_equal(s->lease.start, 0); /* now */
    assert_int_equal(s->lease.duration_s, 86400 + 2 * 3600 + 30 * 60 + 15);

    assert_int_equal(s->n_links, 1);
    assert_int_equal(s->links[0].rate_bps, 800000);
    assert_int_equal(s->links[0].ceil_bps, 1000000000);
    assert_int_equal(s->links[0].burst_bytes, 1500);
    assert_int_equal(s->links[0].line, 6);

    vm = spec_find_node(s, "vm");
    assert_non_null(vm);
    assert_int_equal(vm->memory_bytes, 4ULL << 30);
    assert_int_equal(vm->vcpus, 64);
    assert_string_equal(vm->image, "registry.example/debian:12");
    ct = spec_find_node(s, "ct");
    assert_non_null(ct);
    assert_string_equal(ct->command, "sh -c 'echo a && echo b'");
    assert_int_equal(ct->memory_bytes, 1ULL << 30);
    assert_string_equal(ct->vnode, "osaka-2");

    assert_int_equal(s->n_measures, 2);
    assert_null(s->measures[0].metrics); /* all */
    assert_null(s->measures[0].filter);  /* everything */
    assert_string_equal(s->measures[1].metrics, "delay loss");
    assert_int_equal(s->gateways[0].auth, SPEC_AUTH_PSK);
    spec_free(s);
}

static void test_ring10(void **state)
{
    struct slice_spec *s = parse_ok("tests/specs/valid/04-ring10.xml");

    (void)state;
    assert_int_equal(s->n_nodes, 10);
    assert_int_equal(s->n_links, 12);
    assert_int_equal(s->lease.start, 1896134399);
    assert_int_equal(s->lease.duration_s, 7 * 86400);
    assert_int_equal(spec_node_index(s, "r1"), 0);
    assert_int_equal(spec_node_index(s, "h2"), 9);
    assert_int_equal(spec_find_node(s, "h2")->kind, SPEC_NODE_CONTAINER);
    assert_string_equal(spec_find_node(s, "r3")->vnode, "vn3");
    for (size_t i = 0; i < 8; i++)
        assert_int_equal(s->links[i].rate_bps, (i + 1) * 100000000ULL);
    assert_string_equal(s->links[7].a, "r8");
    assert_string_equal(s->links[7].b, "r1");
    assert_string_equal(s->links[8].id, "h1up");
    assert_int_equal(s->links[8].ceil_bps, 2000000000ULL);
    assert_int_equal(s->links[8].burst_bytes, 128 << 10);
    assert_int_equal(s->links[8].weight, 10);
    assert_int_equal(s->links[11].rate_bps, 10000000000ULL);
    assert_int_equal(spec_find_node(s, "h1")->memory_bytes, 256ULL << 20);
    spec_free(s);
}

static void test_iface_values(void **state)
{
    struct slice_spec *s = parse_ok("tests/specs/valid/05-ifaces.xml");
    const struct spec_node *r1, *c1, *vm1, *c2, *c3;

    (void)state;
    r1 = spec_find_node(s, "r1");
    assert_non_null(r1);
    assert_int_equal(r1->n_ifaces, 0);
    assert_int_equal(r1->n_routes, 0);

    /* In document order, interleaved with the other children. */
    c1 = spec_find_node(s, "c1");
    assert_non_null(c1);
    assert_string_equal(c1->command, "iperf3 -s");
    assert_int_equal(c1->n_ifaces, 2);
    assert_string_equal(c1->ifaces[0].link, "l1");
    assert_string_equal(c1->ifaces[0].address, "10.0.1.2/24");
    assert_int_equal(c1->ifaces[0].line, 6);
    assert_string_equal(c1->ifaces[1].link, "l3");
    assert_string_equal(c1->ifaces[1].address, "192.168.255.254/31");
    assert_int_equal(c1->ifaces[1].line, 9);
    assert_int_equal(c1->n_routes, 3);
    assert_string_equal(c1->routes[0].to, "10.0.2.0/24");
    assert_string_equal(c1->routes[0].via, "10.0.1.1");
    assert_int_equal(c1->routes[0].line, 8);
    assert_string_equal(c1->routes[1].to, "default");
    assert_string_equal(c1->routes[1].via, "10.0.1.1");
    assert_string_equal(c1->routes[2].to, "172.16.0.0/12");
    assert_string_equal(c1->routes[2].via, "192.168.255.255"); /* a /31 */
    assert_int_equal(c1->routes[2].line, 11); /* where the tag starts */

    vm1 = spec_find_node(s, "vm1");
    assert_non_null(vm1);
    assert_int_equal(vm1->kind, SPEC_NODE_SLOWPATH);
    assert_int_equal(vm1->n_ifaces, 1);
    assert_string_equal(vm1->ifaces[0].link, "l2"); /* a is vm1 */
    assert_string_equal(vm1->ifaces[0].address, "10.0.2.2/24");
    assert_int_equal(vm1->n_routes, 2);
    assert_string_equal(vm1->routes[0].to, "0.0.0.0/0");
    assert_string_equal(vm1->routes[1].to, "10.0.1.7/32");
    assert_string_equal(vm1->routes[1].via, "10.0.2.254");

    c2 = spec_find_node(s, "c2");
    assert_non_null(c2);
    assert_int_equal(c2->n_ifaces, 2);
    assert_string_equal(c2->ifaces[0].address, "192.168.255.255/31");
    assert_string_equal(c2->ifaces[1].address, "1.2.3.4/32");
    assert_int_equal(c2->n_routes, 1);

    c3 = spec_find_node(s, "c3"); /* linked, but no addresses */
    assert_non_null(c3);
    assert_int_equal(c3->n_ifaces, 0);
    assert_null(c3->ifaces);
    assert_int_equal(c3->n_routes, 0);
    assert_null(c3->routes);
    spec_free(s);
}

/* One link of a chain, field by field. */
static void check_chain_link(const struct spec_link *l, const char *id,
                             const char *a, const char *b, uint64_t rate_bps,
                             uint64_t ceil_bps, uint64_t burst_bytes,
                             unsigned weight, int line)
{
    assert_string_equal(l->id, id);
    assert_string_equal(l->a, a);
    assert_string_equal(l->b, b);
    assert_int_equal(l->rate_bps, rate_bps);
    assert_int_equal(l->ceil_bps, ceil_bps);
    assert_int_equal(l->burst_bytes, burst_bytes);
    assert_int_equal(l->weight, weight);
    assert_int_equal(l->line, line);
}

static void test_chain_values(void **state)
{
    static const char *const web_hops[] = {"client", "fw", "nat", "router",
                                           "server"};
    struct slice_spec *s = parse_ok("tests/specs/valid/06-chain.xml");
    const struct spec_chain *web, *probe;
    const struct spec_node *client, *server, *mon;

    (void)state;
    /* The <link>s in document order, then each chain's, chain by chain. */
    assert_int_equal(s->n_links, 2 + 4 + 1);
    assert_string_equal(s->links[0].id, "mgmt");
    assert_int_equal(s->links[0].line, 24);
    assert_string_equal(s->links[1].id, "back"); /* after the chains */
    assert_int_equal(s->links[1].line, 37);
    assert_int_equal(s->links[1].rate_bps, 50000000);

    assert_int_equal(s->n_chains, 2);
    web = &s->chains[0];
    assert_string_equal(web->id, "web");
    assert_int_equal(web->line, 25);
    assert_int_equal(web->n_hops, 5);
    for (size_t i = 0; i < 5; i++)
        assert_string_equal(web->hops[i], web_hops[i]);
    assert_int_equal(web->first_link, 2);
    /* Link n from hop n to hop n + 1, on the line of hop n's <hop>. */
    check_chain_link(&s->links[2], "web.1", "client", "fw", 100000000,
                     200000000, 128 << 10, 3, 27);
    check_chain_link(&s->links[3], "web.2", "fw", "nat", 100000000, 200000000,
                     128 << 10, 3, 28);
    check_chain_link(&s->links[4], "web.3", "nat", "router", 100000000,
                     200000000, 128 << 10, 3, 29);
    check_chain_link(&s->links[5], "web.4", "router", "server", 100000000,
                     200000000, 128 << 10, 3, 30); /* where the tag starts */

    probe = &s->chains[1]; /* a link's defaults */
    assert_string_equal(probe->id, "probe");
    assert_int_equal(probe->line, 34);
    assert_int_equal(probe->n_hops, 2);
    assert_string_equal(probe->hops[0], "mon");
    assert_string_equal(probe->hops[1], "fw");
    assert_int_equal(probe->first_link, 6);
    check_chain_link(&s->links[6], "probe.1", "mon", "fw", 1000000000,
                     1000000000, 64 << 10, 1, 35);

    /* Ifaces and measures name the chains' links. */
    client = spec_find_node(s, "client");
    assert_non_null(client);
    assert_int_equal(client->n_ifaces, 2);
    assert_string_equal(client->ifaces[0].link, "web.1");
    assert_string_equal(client->ifaces[0].address, "10.0.1.2/24");
    assert_string_equal(client->ifaces[1].link, "mgmt");
    server = spec_find_node(s, "server");
    assert_non_null(server);
    assert_string_equal(server->ifaces[0].link, "web.4");
    mon = spec_find_node(s, "mon");
    assert_non_null(mon);
    assert_string_equal(mon->ifaces[0].link, "probe.1");
    assert_int_equal(spec_find_node(s, "router")->kind, SPEC_NODE_SLOWPATH);
    assert_int_equal(s->n_measures, 1);
    assert_string_equal(s->measures[0].link, "web.2");
    spec_free(s);
}

/* 'n_links' explicit links between fastpath nodes r0..r100, then chains
 * r0 -> r1 -> ... of 'chain_links' links in all (100 at most each).
 * Caller frees. */
static char *many_chain_links(int n_links, int chain_links)
{
    char *xml = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&xml, &len);

    assert_non_null(f);
    fprintf(f, "<slice xmlns='urn:vnode:slice:1' name='long'>\n");
    for (int i = 0; i <= 100; i++)
        fprintf(f, "<node id='r%d' type='fastpath'><module name='m'/></node>\n",
                i);
    for (int i = 0; i < n_links; i++)
        fprintf(f, "<link id='l%d' a='r0' b='r1' bandwidth='1Mbit'/>\n", i);
    for (int c = 0; chain_links > 0; c++) {
        int links = chain_links < 100 ? chain_links : 100;

        fprintf(f, "<chain id='c%d' bandwidth='1Mbit'>\n", c);
        for (int h = 0; h <= links; h++)
            fprintf(f, "<hop node='r%d'/>\n", h);
        fprintf(f, "</chain>\n");
        chain_links -= links;
    }
    fprintf(f, "</slice>\n");
    fclose(f);
    return xml;
}

/* A chain's links count toward SPEC_MAX_LINKS. */
static void test_chain_link_limit(void **state)
{
    struct slice_spec *spec = NULL;
    char *xml = many_chain_links(96, SPEC_MAX_LINKS - 96), *msg;

    (void)state;
    msg = spec_parse(xml, strlen(xml), &spec);
    if (msg != NULL)
        print_error("%s\n", msg);
    assert_null(msg);
    assert_int_equal(spec->n_links, SPEC_MAX_LINKS);
    assert_int_equal(spec->n_chains, 40);
    assert_string_equal(spec->links[SPEC_MAX_LINKS - 1].id, "c39.100");
    assert_int_equal(spec->chains[39].first_link, SPEC_MAX_LINKS - 100);
    spec_free(spec);
    free(xml);

    /* One more explicit link: the last chain's link 100, from its hop on
     * line 200 + 39 * 103 + 1 + 99, is one too many. */
    xml = many_chain_links(97, SPEC_MAX_LINKS - 96);
    msg = parse_bad(xml);
    assert_string_equal(msg, "line 4317: chain 'c39': too many links: its "
                             "link 100 would be link 4097 of the slice, and "
                             "a slice has at most 4096 (a chain of N hops "
                             "makes N - 1); use fewer hops or links");
    free(msg);
    free(xml);
}

/* A container c1 on link l1 (r1-c1) with the given iface address and
 * route; NULL leaves the element out. Returns the message, or NULL if
 * the spec parses. */
static char *try_addresses(const char *address, const char *to, const char *via)
{
    struct slice_spec *spec = NULL;
    char xml[1024], iface[256] = "", route[256] = "", *msg;

    if (address != NULL)
        snprintf(iface, sizeof(iface), "<iface link='l1' address='%s'/>",
                 address);
    if (to != NULL)
        snprintf(route, sizeof(route), "<route to='%s' via='%s'/>", to, via);
    snprintf(xml, sizeof(xml),
             "<slice xmlns='urn:vnode:slice:1' name='s'>\n"
             "<node id='r1' type='fastpath'><module name='m'/></node>\n"
             "<node id='c1' type='container'><command>x</command>\n"
             "%s\n%s\n</node>\n"
             "<link id='l1' a='r1' b='c1' bandwidth='1Mbit'/>\n</slice>\n",
             iface, route);
    msg = spec_parse(xml, strlen(xml), &spec);
    assert_true((msg == NULL) != (spec == NULL));
    spec_free(spec);
    return msg;
}

/* Boundaries of the lexical forms; each mistake is one line, so the schema
 * and the C checks agree on it. */
static void test_address_forms(void **state)
{
    static const char *const good_addresses[] = {
        "10.0.1.2/24",        "255.255.255.254/24", "0.0.0.1/0",
        "10.0.0.0/31",        "10.0.0.1/31",        "0.0.0.0/32",
        "255.255.255.255/32", "192.168.1.1/30",     "192.168.1.2/30",
        "172.16.0.1/12",      "1.2.3.4/8",          "100.64.255.254/10",
    };
    static const char *const bad_addresses[] = {
        "10.0.1.2",     "10.0.1.2/33",  "10.0.1.2/024",  "10.0.1.2/",
        "256.0.0.1/8",  "10.0.1/24",    "10.0.1.2.3/24", " 10.0.1.2/24",
        "10.0.1.2/24 ", "010.0.1.2/24", "10.0.1.2/-1",   "",
        "a.b.c.d/8",    "1.2.3.4/8x",   "1..3.4/8",      "1.2.3.4//8",
        "10.0.0.0/30",  "10.0.0.3/30",  "0.0.0.0/0",     "10.0.1.2/24/24",
        "1000.0.0.1/8", "1.2.3.4/100",  "0x0a.0.0.1/8",  "::1/128",
    };
    static const char *const good_routes[][2] = {
        {"default", "10.0.1.1"},     {"0.0.0.0/0", "10.0.1.254"},
        {"10.0.2.0/24", "10.0.1.1"}, {"10.0.2.7/32", "10.0.1.9"},
        {"128.0.0.0/1", "10.0.1.0"}, {"192.168.0.0/16", "10.0.1.255"},
    };
    static const char *const bad_routes[][2] = {
        {"10.0.2.0", "10.0.1.1"},
        {"10.0.2.0/33", "10.0.1.1"},
        {"Default", "10.0.1.1"},
        {"default ", "10.0.1.1"},
        {"10.0.2.1/24", "10.0.1.1"},
        {"1.0.0.0/0", "10.0.1.1"},
        {"", "10.0.1.1"},
        {"10.0.2.0/24", "10.0.1.1/24"},
        {"10.0.2.0/24", "10.0.1"},
        {"10.0.2.0/24", "10.0.1.256"},
        {"10.0.2.0/24", "default"},
        {"10.0.2.0/24", ""},
        {"10.0.2.0/24", " 10.0.1.1"},
        {"10.0.2.0/24", "10.0.01.1"},
        {"10.0.2.0/24", "10.0.2.1"},
        {"10.0.2.0/24", "10.0.1.2"},
    };
    char *msg;

    (void)state;
    for (size_t i = 0; i < sizeof(good_addresses) / sizeof(*good_addresses);
         i++) {
        msg = try_addresses(good_addresses[i], NULL, NULL);
        if (msg != NULL)
            print_error("%s:\n%s\n", good_addresses[i], msg);
        assert_null(msg);
    }
    for (size_t i = 0; i < sizeof(bad_addresses) / sizeof(*bad_addresses);
         i++) {
        msg = try_addresses(bad_addresses[i], NULL, NULL);
        assert_non_null(msg);
        if (count_lines(msg) != 1 ||
            strncmp(msg, "line 4: node 'c1': iface", 24) != 0)
            print_error("%s:\n%s\n", bad_addresses[i], msg);
        assert_int_equal(count_lines(msg), 1);
        assert_int_equal(strncmp(msg, "line 4: node 'c1': iface", 24), 0);
        free(msg);
    }
    for (size_t i = 0; i < sizeof(good_routes) / sizeof(*good_routes); i++) {
        msg =
            try_addresses("10.0.1.2/24", good_routes[i][0], good_routes[i][1]);
        if (msg != NULL)
            print_error("%s via %s:\n%s\n", good_routes[i][0],
                        good_routes[i][1], msg);
        assert_null(msg);
    }
    for (size_t i = 0; i < sizeof(bad_routes) / sizeof(*bad_routes); i++) {
        msg = try_addresses("10.0.1.2/24", bad_routes[i][0], bad_routes[i][1]);
        assert_non_null(msg);
        if (count_lines(msg) != 1 ||
            strncmp(msg, "line 5: node 'c1': route", 24) != 0)
            print_error("%s via %s:\n%s\n", bad_routes[i][0], bad_routes[i][1],
                        msg);
        assert_int_equal(count_lines(msg), 1);
        assert_int_equal(strncmp(msg, "line 5: node 'c1': route", 24), 0);
        free(msg);
    }
}

/* Container c0 with 'n' ifaces, one per link to containers c1..cn, and
 * 'n_routes' routes. Caller frees. */
static char *many_ifaces(int n, int n_routes)
{
    char *xml = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&xml, &len);

    assert_non_null(f);
    fprintf(f, "<slice xmlns='urn:vnode:slice:1' name='wide'>\n"
               "<node id='c0' type='container'><command>x</command>\n");
    for (int i = 1; i <= n; i++) /* 10.a.b.1/24: no two overlap */
        fprintf(f, "<iface link='l%d' address='10.%d.%d.1/24'/>\n", i, i / 256,
                i % 256);
    for (int i = 0; i < n_routes; i++)
        fprintf(f, "<route to='20.%d.%d.0/24' via='10.0.1.2'/>\n", i / 256,
                i % 256);
    fprintf(f, "</node>\n");
    for (int i = 1; i <= n; i++)
        fprintf(f,
                "<node id='c%d' type='container'><command>x</command></node>\n"
                "<link id='l%d' a='c0' b='c%d' bandwidth='1Mbit'/>\n",
                i, i, i);
    fprintf(f, "</slice>\n");
    fclose(f);
    return xml;
}

static void test_iface_limits(void **state)
{
    struct slice_spec *spec = NULL;
    char *xml = many_ifaces(SPEC_MAX_IFACES, SPEC_MAX_ROUTES), *msg;

    (void)state;
    msg = spec_parse(xml, strlen(xml), &spec);
    if (msg != NULL)
        print_error("%s\n", msg);
    assert_null(msg);
    assert_int_equal(spec->nodes[0].n_ifaces, SPEC_MAX_IFACES);
    assert_int_equal(spec->nodes[0].n_routes, SPEC_MAX_ROUTES);
    assert_string_equal(spec->nodes[0].ifaces[SPEC_MAX_IFACES - 1].address,
                        "10.4.0.1/24");
    spec_free(spec);
    free(xml);

    xml = many_ifaces(SPEC_MAX_IFACES + 1, 1);
    msg = parse_bad(xml);
    assert_string_equal(msg, "line 1027: node 'c0': too many <iface>s; a "
                             "node has at most 1024");
    free(msg);
    free(xml);

    xml = many_ifaces(1, SPEC_MAX_ROUTES + 1);
    msg = parse_bad(xml);
    assert_string_equal(msg, "line 1028: node 'c0': too many <route>s; a "
                             "node has at most 1024");
    free(msg);
    free(xml);
}

static void test_lookups(void **state)
{
    struct slice_spec *s = parse_ok("tests/specs/valid/01-minimal.xml");

    (void)state;
    assert_null(spec_find_node(s, "nope"));
    assert_int_equal(spec_node_index(s, "nope"), -1);
    assert_int_equal(spec_node_index(NULL, "r1"), -1);
    assert_int_equal(spec_node_index(s, NULL), -1);
    assert_string_equal(spec_node_kind_name(SPEC_NODE_FASTPATH), "fastpath");
    assert_string_equal(spec_node_kind_name(SPEC_NODE_SLOWPATH), "slowpath");
    assert_string_equal(spec_node_kind_name(SPEC_NODE_CONTAINER), "container");
    spec_free(s);
    spec_free(NULL);
}

/* ---- Messages ----------------------------------------------------------- */

/* A mistake both the schema and the C checks see is reported once. */
static void test_one_message_per_mistake(void **state)
{
    char *msg = NULL;
    struct slice_spec *spec = NULL;

    (void)state;
    msg = spec_parse_file("tests/specs/invalid/16-bad-rate.xml", &spec);
    assert_non_null(msg);
    assert_int_equal(count_lines(msg), 1);
    assert_int_equal(count_substr(msg, "is not a rate"), 1);
    free(msg);
    msg =
        spec_parse_file("tests/specs/invalid/13-missing-attribute.xml", &spec);
    assert_non_null(msg);
    assert_int_equal(count_lines(msg), 1);
    free(msg);
    assert_null(spec);
}

/* For lexical mistakes the schema and the C checks must agree, word for
 * word, or one mistake would be reported twice. */
static void test_schema_and_c_agree(void **state)
{
    static const char *const attrs[] = {
        "bandwidth='100Mbt'",
        "bandwidth='1.Mbit'",
        "bandwidth=''",
        "bandwidth='1 Mbit'",
        "bandwidth='+1Mbit'",
        "bandwidth='1Tbps'",
        "burst='64 KiB'",
        "burst='1PiB'",
        "burst='KiB'",
        "weight='-1'",
        "weight='1.5'",
        "weight=' 1'",
        "id='1x'",
        "id='a b'",
        "id='abcdefghijklmnopqrstuvwxyz0123456'",
        "ceiling='fast'",
        "ceiling='1e9bit'",
    };
    char xml[512];

    (void)state;
    for (size_t i = 0; i < sizeof(attrs) / sizeof(attrs[0]); i++) {
        char *msg;
        bool has_id = strncmp(attrs[i], "id=", 3) == 0;

        snprintf(xml, sizeof(xml),
                 "<slice xmlns='urn:vnode:slice:1' name='s'>\n"
                 "<node id='r1' type='fastpath'><module name='m'/></node>\n"
                 "<node id='r2' type='fastpath'><module name='m'/></node>\n"
                 "<link %s a='r1' b='r2'%s %s/>\n</slice>\n",
                 has_id ? "" : "id='l1'",
                 strncmp(attrs[i], "bandwidth", 9) ? " bandwidth='1Mbit'" : "",
                 attrs[i]);
        msg = parse_bad(xml);
        if (count_lines(msg) != 1 || strncmp(msg, "line 4: link", 12) != 0)
            print_error("%s:\n%s\n", attrs[i], msg);
        assert_int_equal(count_lines(msg), 1);
        free(msg);
    }
}

/* The schema stops at a misplaced element; the C pass goes on. */
static void test_errors_after_misplaced_element(void **state)
{
    char *msg =
        parse_bad("<slice xmlns='urn:vnode:slice:1' name='s'>\n"
                  "  <node id='r1' type='fastpath'><module name='m'/></node>\n"
                  "  <lease duration='PT1H'/>\n"
                  "  <gateway id='g1' agw='a' node='r1' auth='none'/>\n"
                  "</slice>\n");

    (void)state;
    assert_non_null(strstr(msg, "line 3: slice 's': <lease> must come"));
    assert_non_null(strstr(msg, "line 4: gateway 'g1': auth 'none'"));
    assert_true(well_formed_message(msg));
    free(msg);
}

/* At most 20 lines and a count of the rest, in line order. */
static void test_error_cap(void **state)
{
    char *xml = NULL, *msg = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&xml, &len);

    (void)state;
    assert_non_null(f);
    fprintf(f, "<slice xmlns='urn:vnode:slice:1' name='s'>\n"
               "<node id='r1' type='fastpath'><module name='m'/></node>\n");
    for (int i = 0; i < 30; i++)
        fprintf(f, "<link id='l%d' a='r1' b='r1' bandwidth='%dXbit'/>\n", i, i);
    fprintf(f, "</slice>\n");
    fclose(f);
    msg = parse_bad(xml);
    assert_int_equal(count_lines(msg), 21);
    assert_true(well_formed_message(msg));
    assert_non_null(strstr(msg, "line 3: link 'l0': bandwidth '0Xbit' is not"));
    assert_non_null(strstr(msg, "(40 more errors not shown)"));
    free(msg);
    free(xml);
}

/* Builds a slice of 'n_nodes' containers. Caller frees. */
static char *many_nodes(int n_nodes)
{
    char *xml = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&xml, &len);

    assert_non_null(f);
    fprintf(f, "<slice xmlns='urn:vnode:slice:1' name='big'>\n");
    for (int i = 1; i <= n_nodes; i++)
        fprintf(f,
                "<node id='n%d' type='container'><command>x</command>"
                "</node>\n",
                i);
    fprintf(f, "</slice>\n");
    fclose(f);
    return xml;
}

static void test_node_limit(void **state)
{
    struct slice_spec *spec = NULL;
    char *xml = many_nodes(SPEC_MAX_NODES), *msg;

    (void)state;
    msg = spec_parse(xml, strlen(xml), &spec);
    assert_null(msg);
    assert_int_equal(spec->n_nodes, SPEC_MAX_NODES);
    spec_free(spec);
    free(xml);

    xml = many_nodes(SPEC_MAX_NODES + 1);
    msg = parse_bad(xml);
    assert_string_equal(msg, "line 4098: node 'n4097': too many nodes; a "
                             "slice has at most 4096");
    free(msg);
    free(xml);
}

static void test_document_limit(void **state)
{
    size_t len = SPEC_MAX_DOC_BYTES + 1;
    char *xml = malloc(len);
    struct slice_spec *spec = NULL;
    char *msg;

    (void)state;
    assert_non_null(xml);
    memset(xml, ' ', len);
    msg = spec_parse(xml, len, &spec);
    assert_non_null(msg);
    assert_null(spec);
    assert_non_null(strstr(msg, "line 1: document is larger than 1MiB"));
    free(msg);
    free(xml);
}

/* 'len' is honoured: no NUL needed, nothing read past it. */
static void test_not_nul_terminated(void **state)
{
    char *text = read_text("tests/specs/valid/02-example.xml");
    size_t len = strlen(text);
    char *exact = malloc(len);
    struct slice_spec *spec = NULL;
    char *msg;

    (void)state;
    assert_non_null(exact);
    memcpy(exact, text, len);
    msg = spec_parse(exact, len, &spec);
    assert_null(msg);
    assert_int_equal(spec->n_nodes, 3);
    spec_free(spec);
    msg = spec_parse(exact, len / 2, &spec); /* cut short */
    assert_non_null(msg);
    assert_non_null(strstr(msg, "malformed XML"));
    free(msg);
    free(exact);
    free(text);
    msg = spec_parse(NULL, 0, &spec);
    assert_non_null(strstr(msg, "document is empty"));
    free(msg);
}

static void test_parse_file_errors(void **state)
{
    struct slice_spec *spec = NULL;
    char *msg = spec_parse_file("tests/specs/no-such-file.xml", &spec);

    (void)state;
    assert_non_null(msg);
    assert_null(spec);
    assert_non_null(strstr(msg, "tests/specs/no-such-file.xml"));
    assert_non_null(strstr(msg, "No such file"));
    free(msg);
    msg = spec_parse_file("tests/specs", &spec); /* a directory */
    assert_non_null(msg);
    assert_null(spec);
    free(msg);
}

/* libxml2 never writes to stderr, whatever the input. */
static void test_silent(void **state)
{
    static const char *const files[] = {
        "tests/specs/invalid/01-unclosed-tag.xml",
        "tests/specs/invalid/03-garbage-bytes.xml",
        "tests/specs/invalid/05-billion-laughs.xml",
        "tests/specs/invalid/11-unknown-element.xml",
        "tests/specs/invalid/49-undefined-prefix.xml",
        "tests/specs/invalid/57-undefined-entity.xml",
    };
    FILE *tmp = tmpfile();
    int saved = dup(STDERR_FILENO);

    (void)state;
    assert_non_null(tmp);
    assert_true(saved >= 0);
    fflush(stderr);
    assert_true(dup2(fileno(tmp), STDERR_FILENO) >= 0);
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        struct slice_spec *spec = NULL;

        free(spec_parse_file(files[i], &spec));
    }
    fflush(stderr);
    assert_true(dup2(saved, STDERR_FILENO) >= 0);
    close(saved);
    assert_int_equal(ftell(tmp), 0);
    fclose(tmp);
}

static void my_structured(void *ctx, xmlErrorPtr e)
{
    (void)ctx;
    (void)e;
}

/* spec_parse puts back the embedder's own libxml2 error handlers. */
static void test_handlers_restored(void **state)
{
    static int tag;
    struct slice_spec *spec = NULL;

    (void)state;
    xmlSetStructuredErrorFunc(&tag, my_structured);
    free(spec_parse_file("tests/specs/invalid/01-unclosed-tag.xml", &spec));
    free(spec_parse_file("tests/specs/invalid/14-bad-node-type.xml", &spec));
    assert_ptr_equal(xmlStructuredError, my_structured);
    assert_ptr_equal(xmlStructuredErrorContext, &tag);
    xmlSetStructuredErrorFunc(NULL, NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_corpus),
        cmocka_unit_test(test_invalid_corpus),
        cmocka_unit_test(test_topology_cases_parse),
        cmocka_unit_test(test_example_values),
        cmocka_unit_test(test_minimal_defaults),
        cmocka_unit_test(test_lexical_forms),
        cmocka_unit_test(test_ring10),
        cmocka_unit_test(test_iface_values),
        cmocka_unit_test(test_chain_values),
        cmocka_unit_test(test_chain_link_limit),
        cmocka_unit_test(test_address_forms),
        cmocka_unit_test(test_iface_limits),
        cmocka_unit_test(test_lookups),
        cmocka_unit_test(test_one_message_per_mistake),
        cmocka_unit_test(test_schema_and_c_agree),
        cmocka_unit_test(test_errors_after_misplaced_element),
        cmocka_unit_test(test_error_cap),
        cmocka_unit_test(test_node_limit),
        cmocka_unit_test(test_document_limit),
        cmocka_unit_test(test_not_nul_terminated),
        cmocka_unit_test(test_parse_file_errors),
        cmocka_unit_test(test_silent),
        cmocka_unit_test(test_handlers_restored),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
