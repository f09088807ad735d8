/* Unit tests for snc/embed.c: placement, routing, refusals, accounting. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "snc/embed.h"

/* Three VNodes on one router; vn3 is small; a second router path exists
 * between vn1 and vn2 only through a thin link. */
static const char TOPO[] =
    "<topology name='t' xmlns='urn:vnode:topology:1'>"
    "<vnode name='vn1' address='198.18.1.1' mgmt='198.19.0.11'>"
    " <redirector port-bandwidth='1Gbit'/>"
    " <programmer fastpath-slots='2' vcpus='4' memory='1GiB'/></vnode>"
    "<vnode name='vn2' address='198.18.2.1' mgmt='198.19.0.12'>"
    " <redirector port-bandwidth='1Gbit'/>"
    " <programmer fastpath-slots='2' vcpus='4' memory='1GiB'/></vnode>"
    "<vnode name='vn3' address='198.18.3.1' mgmt='198.19.0.13'>"
    " <redirector port-bandwidth='100Mbit'/>"
    " <programmer fastpath-slots='1' vcpus='1' memory='512MiB'/></vnode>"
    "<router name='core'/>"
    "<agw name='agw1' vnode='vn1' address='198.18.9.1' mgmt='198.19.0.31'/>"
    "<link a='vn1' b='core' bandwidth='1Gbit'/>"
    "<link a='vn2' b='core' bandwidth='1Gbit'/>"
    "<link a='vn3' b='core' bandwidth='100Mbit'/>"
    "<link a='agw1' b='core' bandwidth='1Gbit'/>"
    "</topology>";

struct fx {
    struct topo *t;
    struct embed_usage *u;
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    char *err = topo_parse(TOPO, sizeof(TOPO) - 1, &f->t);

    if (err != NULL) {
        fprintf(stderr, "topology: %s\n", err);
        free(err);
        return -1;
    }
    f->u = embed_usage_new(f->t);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;

    embed_usage_free(f->u);
    topo_free(f->t);
    free(f);
    return 0;
}

static struct slice_spec *spec(const char *body)
{
    char xml[4096];
    struct slice_spec *s = NULL;
    char *err;

    snprintf(xml, sizeof(xml),
             "<slice name='s' xmlns='urn:vnode:slice:1'>%s</slice>", body);
    err = spec_parse(xml, strlen(xml), &s);
    if (err != NULL)
        fprintf(stderr, "spec: %s\n", err);
    assert_null(err);
    return s;
}

#define FP(id, vn)                                                             \
    "<node id='" id "' type='fastpath' vnode='" vn "'>"                        \
    "<module name='router'/></node>"

/* Embeds and, on success, adds the reservations to the usage. */
static char *embed_and_take(struct fx *f, struct slice_spec *s,
                            struct embed_result **r)
{
    struct embed_resv *resv = NULL;
    char *err = embed_slice(f->t, f->u, s, r);
    int n;

    if (err != NULL)
        return err;
    n = embed_reservations(f->t, s, *r, &resv);
    assert_true(n >= 0);
    for (int i = 0; i < n; i++)
        assert_int_equal(
            embed_usage_apply(f->t, f->u, resv[i].key, resv[i].amount, +1), 0);
    free(resv);
    return NULL;
}

static void test_pinned_and_path(void **state)
{
    struct fx *f = *state;
    struct slice_spec *s =
        spec(FP("a", "vn1") FP("b", "vn2")
             "<link id='l1' a='a' b='b' bandwidth='300Mbit'/>");
    struct embed_result *r = NULL;

    assert_null(embed_and_take(f, s, &r));
    assert_int_equal(r->node_vnode[0], 0);
    assert_int_equal(r->node_vnode[1], 1);
    assert_int_equal(r->links[0].path_len, 2);
    assert_int_equal(f->u->slots[0], 1);
    assert_int_equal(f->u->port_bps[0], 300000000ULL);
    assert_int_equal(f->u->port_bps[1], 300000000ULL);
    assert_int_equal(f->u->link_bps[0], 300000000ULL);
    assert_int_equal(f->u->link_bps[1], 300000000ULL);
    assert_int_equal(f->u->link_bps[2], 0);
    embed_result_free(r);
    spec_free(s);
}

static void test_any_spreads(void **state)
{
    struct fx *f = *state;
    struct slice_spec *s = spec(
        "<node id='a' type='fastpath'><module name='router'/></node>"
        "<node id='b' type='fastpath'><module name='router'/></node>"
        "<node id='c' type='fastpath'><module name='router'/></node>");
    struct embed_result *r = NULL;

    assert_null(embed_and_take(f, s, &r));
    /* Each goes to the VNode with the largest free share: all three used. */
    assert_int_not_equal(r->node_vnode[0], r->node_vnode[1]);
    assert_int_not_equal(r->node_vnode[1], r->node_vnode[2]);
    assert_int_not_equal(r->node_vnode[0], r->node_vnode[2]);
    embed_result_free(r);
    spec_free(s);
}

static void test_refuse_slots(void **state)
{
    struct fx *f = *state;
    struct slice_spec *s =
        spec(FP("a", "vn3") FP("b", "vn3"));
    struct embed_result *r = NULL;
    char *err = embed_slice(f->t, f->u, s, &r);

    assert_non_null(err);
    assert_non_null(strstr(err, "node 'b' (fastpath): VNode vn3 has 0 of 1 "
                                "fast-path slots free"));
    assert_non_null(strstr(err, "VNodes that would fit: vn1, vn2"));
    /* Nothing was taken by the refused attempt. */
    assert_int_equal(f->u->slots[2], 0);
    free(err);
    spec_free(s);
}

static void test_refuse_unknown_vnode(void **state)
{
    struct fx *f = *state;
    struct slice_spec *s = spec(FP("a", "kyoto"));
    struct embed_result *r = NULL;
    char *err = embed_slice(f->t, f->u, s, &r);

    assert_non_null(err);
    assert_non_null(strstr(err, "node 'a': vnode 'kyoto' is not in the "
                                "topology; VNodes are: vn1, vn2, vn3"));
    free(err);
    spec_free(s);
}

static void test_refuse_port(void **state)
{
    struct fx *f = *state;
    struct slice_spec *s =
        spec(FP("a", "vn1") FP("b", "vn3")
             "<link id='l1' a='a' b='b' bandwidth='200Mbit'/>");
    struct embed_result *r = NULL;
    char *err = embed_slice(f->t, f->u, s, &r);

    assert_non_null(err);
    assert_non_null(strstr(err, "link 'l1': VNode vn3's redirector port has "
                                "100Mbit of 100Mbit free, the link needs "
                                "200Mbit"));
    free(err);
    spec_free(s);
}

static void test_refuse_path_then_fit(void **state)
{
    struct fx *f = *state;
    struct slice_spec *big =
        spec(FP("a", "vn1") FP("b", "vn2")
             "<link id='l1' a='a' b='b' bandwidth='800Mbit'/>");
    struct slice_spec *more =
        spec(FP("a", "vn1") FP("b", "vn2")
             "<link id='l2' a='a' b='b' bandwidth='300Mbit'/>");
    struct embed_result *r = NULL, *r2 = NULL;
    char *err;

    assert_null(embed_and_take(f, big, &r));
    err = embed_slice(f->t, f->u, more, &r2);
    assert_non_null(err);
    /* The port check comes first: 200Mbit left of 1Gbit on vn1. */
    assert_non_null(strstr(err, "VNode vn1's redirector port has 200Mbit of "
                                "1Gbit free, the link needs 300Mbit"));
    free(err);
    embed_result_free(r);
    spec_free(big);
    spec_free(more);
}

static void test_slowpath_memory(void **state)
{
    struct fx *f = *state;
    struct slice_spec *s = spec(
        "<node id='vm' type='slowpath' vnode='vn3'><image>debian</image>"
        "<vcpus>1</vcpus><memory unit='MiB'>1024</memory></node>");
    struct embed_result *r = NULL;
    char *err = embed_slice(f->t, f->u, s, &r);

    assert_non_null(err);
    assert_non_null(strstr(err, "vn3 has 1 of 1 vCPUs and 512MiB of 512MiB "
                                "memory free, the node needs 1 vCPUs and "
                                "1GiB"));
    free(err);
    spec_free(s);
}

static void test_local_link_and_gateway(void **state)
{
    struct fx *f = *state;
    struct slice_spec *s =
        spec(FP("a", "vn1") FP("b", "vn1")
             "<link id='l1' a='a' b='b' bandwidth='2Gbit'/>"
             "<gateway id='g' agw='agw1' node='a' auth='psk'/>");
    struct slice_spec *bad =
        spec(FP("a", "vn2") "<gateway id='g' agw='agw9' node='a' auth='psk'/>");
    struct embed_result *r = NULL;
    char *err;

    /* Same VNode: no port or transport bandwidth is needed. */
    assert_null(embed_and_take(f, s, &r));
    assert_null(r->links[0].path);
    assert_int_equal(f->u->port_bps[0], 0);
    assert_int_equal(r->gateway_agw[0], 0);
    embed_result_free(r);
    r = NULL;
    err = embed_slice(f->t, f->u, bad, &r);
    assert_non_null(err);
    assert_non_null(strstr(err, "gateway 'g': agw 'agw9' is not in the "
                                "topology; AGWs are: agw1"));
    free(err);
    spec_free(s);
    spec_free(bad);
}

static void test_usage_roundtrip(void **state)
{
    struct fx *f = *state;
    struct slice_spec *s =
        spec(FP("a", "vn1") FP("b", "vn2")
             "<link id='l1' a='a' b='b' bandwidth='100Mbit'/>");
    struct embed_result *r = NULL;
    struct embed_resv *resv = NULL;
    int n;

    assert_null(embed_slice(f->t, f->u, s, &r));
    n = embed_reservations(f->t, s, r, &resv);
    /* slots:vn1 slots:vn2 port:vn1 port:vn2 link:vn1~core link:vn2~core */
    assert_int_equal(n, 6);
    for (int i = 0; i < n; i++)
        embed_usage_apply(f->t, f->u, resv[i].key, resv[i].amount, +1);
    for (int i = 0; i < n; i++)
        embed_usage_apply(f->t, f->u, resv[i].key, resv[i].amount, -1);
    for (size_t v = 0; v < f->t->n_vnodes; v++) {
        assert_int_equal(f->u->slots[v], 0);
        assert_int_equal(f->u->port_bps[v], 0);
    }
    for (size_t l = 0; l < f->t->n_links; l++)
        assert_int_equal(f->u->link_bps[l], 0);
    assert_int_equal(embed_usage_apply(f->t, f->u, "slots:nowhere", 1, 1), -1);
    assert_int_equal(embed_usage_apply(f->t, f->u, "bogus", 1, 1), -1);
    free(resv);
    embed_result_free(r);
    spec_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_pinned_and_path, setup, teardown),
        cmocka_unit_test_setup_teardown(test_any_spreads, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refuse_slots, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refuse_unknown_vnode, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_refuse_port, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refuse_path_then_fit, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_slowpath_memory, setup, teardown),
        cmocka_unit_test_setup_teardown(test_local_link_and_gateway, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_usage_roundtrip, setup, teardown),
    };
    return cmocka_run_group_tests_name("embed", tests, NULL, NULL);
}
