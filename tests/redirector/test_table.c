/* Tests for redirector/table.c: idempotent create and delete, conflicts
 * (ports, keys, ends), key lookup for tunnel frames checked against a naive
 * reference on many random keys, slice ids and the slice check. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "log.h"
#include "redirector/table.h"

static struct rd_link_spec spec(const char *slice, uint32_t key,
                                enum rd_end end, const char *port)
{
    struct rd_link_spec s = {
        .slice = slice,
        .link = "l1",
        .key = key,
        .end = end,
        .port = port,
        .local_port = "",
        .peer = 0x020012c6,
        .rates = {.rate_bps = 1e8, .weight = 1, .slice_weight = 1},
    };
    return s;
}

static int setup(void **state)
{
    struct rd_table *t = calloc(1, sizeof(*t));

    assert_non_null(t);
    rd_table_init(t);
    *state = t;
    return 0;
}

static int teardown(void **state)
{
    rd_table_fini(*state);
    free(*state);
    return 0;
}

/* Adds and expects 'want'; returns the link (NULL on failure). */
static struct rd_link *add(struct rd_table *t, const struct rd_link_spec *s,
                           enum rd_add_result want, enum vn_fault want_code)
{
    struct rd_link *l = NULL;
    enum vn_fault code = VN_OK;
    char *err = NULL;
    enum rd_add_result r = rd_table_add(t, s, &l, &code, &err);

    assert_int_equal(r, want);
    if (want == RD_ADD_FAILED) {
        assert_null(l);
        assert_non_null(err);
        assert_int_equal(code, want_code);
    } else {
        assert_non_null(l);
        assert_null(err);
    }
    free(err);
    return l;
}

static void test_end_names(void **state)
{
    enum rd_end e;

    (void)state;
    assert_int_equal(rd_end_parse("a", &e), 0);
    assert_int_equal(e, RD_END_A);
    assert_int_equal(rd_end_parse("b", &e), 0);
    assert_int_equal(e, RD_END_B);
    assert_int_equal(rd_end_parse("local", &e), 0);
    assert_int_equal(e, RD_END_LOCAL);
    assert_int_equal(rd_end_parse("A", &e), -1);
    assert_int_equal(rd_end_parse("", &e), -1);
    assert_string_equal(rd_end_name(RD_END_LOCAL), "local");
}

static void test_create_is_idempotent(void **state)
{
    struct rd_table *t = *state;
    struct rd_link_spec s = spec("s1", 42, RD_END_A, "k0000002aa");
    struct rd_link *l1 = add(t, &s, RD_ADD_NEW, VN_OK), *l2;

    assert_int_equal(l1->key, 42);
    assert_string_equal(l1->port, "k0000002aa");
    l2 = add(t, &s, RD_ADD_EXISTS, VN_OK);
    assert_ptr_equal(l1, l2);
    assert_int_equal(t->n, 1);

    /* The same key and end with other parameters is refused. */
    s.peer = 0x030012c6;
    add(t, &s, RD_ADD_FAILED, VN_FAULT_EXISTS);
    s = spec("s1", 42, RD_END_A, "k0000002aa");
    s.rates.rate_bps = 2e8;
    add(t, &s, RD_ADD_FAILED, VN_FAULT_EXISTS);
    /* Every rate counts (link.update changes them). */
    s = spec("s1", 42, RD_END_A, "k0000002aa");
    s.rates.ceil_bps = 3e8;
    add(t, &s, RD_ADD_FAILED, VN_FAULT_EXISTS);
    s = spec("s1", 42, RD_END_A, "k0000002aa");
    s.rates.slice_weight = 2;
    add(t, &s, RD_ADD_FAILED, VN_FAULT_EXISTS);
    assert_int_equal(t->n, 1);
    assert_int_equal(rd_table_slice_id(t, "s1"), l1->slice_id);
    assert_int_equal(rd_table_slice_id(t, "s2"), 0);
}

static void test_delete_is_idempotent(void **state)
{
    struct rd_table *t = *state;
    struct rd_link_spec s = spec("s1", 42, RD_END_A, "k0000002aa");
    struct rd_link *l = add(t, &s, RD_ADD_NEW, VN_OK);

    assert_ptr_equal(rd_table_rx_lookup(t, 42), l);
    assert_ptr_equal(rd_table_remove(t, 42, RD_END_A), l);
    rd_link_free(l);
    assert_null(rd_table_remove(t, 42, RD_END_A));
    assert_null(rd_table_remove(t, 42, RD_END_B));
    assert_null(rd_table_rx_lookup(t, 42));
    assert_null(rd_table_port_owner(t, "k0000002aa"));
    assert_int_equal(t->n, 0);
    /* ...and the port and key can be used again. */
    add(t, &s, RD_ADD_NEW, VN_OK);
}

static void test_port_taken(void **state)
{
    struct rd_table *t = *state;
    struct rd_link_spec a = spec("s1", 42, RD_END_A, "p1");
    struct rd_link_spec b = spec("s2", 43, RD_END_A, "p1");
    struct rd_link_spec loc = spec("s2", 44, RD_END_LOCAL, "p2");
    struct rd_link *l;

    l = add(t, &a, RD_ADD_NEW, VN_OK);
    add(t, &b, RD_ADD_FAILED, VN_FAULT_EXISTS); /* p1 is taken */
    loc.local_port = "p1";
    loc.peer = 0;
    add(t, &loc, RD_ADD_FAILED, VN_FAULT_EXISTS); /* as local_port too */
    loc.local_port = "p3";
    add(t, &loc, RD_ADD_NEW, VN_OK);
    b.port = "p3"; /* taken as local_port */
    add(t, &b, RD_ADD_FAILED, VN_FAULT_EXISTS);
    assert_ptr_equal(rd_table_port_owner(t, "p1"), l);
    assert_int_equal(rd_table_port_owner(t, "p3")->key, 44);
    assert_null(rd_table_port_owner(t, "p9"));
}

static void test_key_conflicts(void **state)
{
    struct rd_table *t = *state;
    struct rd_link_spec a = spec("s1", 42, RD_END_A, "p1");
    struct rd_link_spec b = spec("s1", 42, RD_END_B, "p2");
    struct rd_link_spec loc = spec("s1", 42, RD_END_LOCAL, "p3");

    add(t, &a, RD_ADD_NEW, VN_OK);
    /* Both tunnelled ends of one key here: ambiguous for tunnel frames. */
    add(t, &b, RD_ADD_FAILED, VN_FAULT_INVALID_ARG);
    loc.local_port = "p4";
    loc.peer = 0;
    add(t, &loc, RD_ADD_FAILED, VN_FAULT_INVALID_ARG);
    assert_int_equal(t->n, 1);
}

static void test_local_links_not_in_key_index(void **state)
{
    struct rd_table *t = *state;
    struct rd_link_spec loc = spec("s1", 7, RD_END_LOCAL, "p1");
    struct rd_link *l;

    loc.local_port = "p2";
    loc.peer = 0;
    l = add(t, &loc, RD_ADD_NEW, VN_OK);
    assert_null(rd_table_rx_lookup(t, 7)); /* no GRE for local links */
    assert_ptr_equal(rd_table_find(t, 7, RD_END_LOCAL), l);
    assert_ptr_equal(rd_table_port_owner(t, "p2"), l);
    add(t, &loc, RD_ADD_EXISTS, VN_OK);
}

/* Naive reference for the key index. */
static struct rd_link *ref_lookup(const struct rd_table *t, uint32_t key)
{
    for (size_t i = 0; i < t->n; i++)
        if (t->links[i]->key == key && t->links[i]->end != RD_END_LOCAL)
            return t->links[i];
    return NULL;
}

static void test_lookup_matches_reference(void **state)
{
    struct rd_table *t = *state;
    char port[IF_NAMESIZE];
    uint32_t keys[600];

    srand(7);
    for (int i = 0; i < 600; i++) {
        char lport[IF_NAMESIZE];
        struct rd_link_spec s;
        struct rd_link *l = NULL;
        enum vn_fault code;
        char *err = NULL;

        keys[i] = (uint32_t)rand() * 2654435761u + 1; /* spread, may repeat */
        snprintf(port, sizeof(port), "k%08x%c", keys[i], 'a' + i % 3);
        s = spec(i % 2 ? "odd" : "even", keys[i], (enum rd_end)(i % 3), port);
        if (s.end == RD_END_LOCAL) {
            snprintf(lport, sizeof(lport), "q%08x", keys[i]);
            s.local_port = lport;
            s.peer = 0;
        }
        (void)rd_table_add(t, &s, &l, &code, &err); /* duplicates refused */
        free(err);
    }
    for (int i = 0; i < 600; i += 3) /* remove some */
        rd_link_free(rd_table_remove(t, keys[i], (enum rd_end)(i % 3)));
    for (int i = 0; i < 600; i++) {
        assert_ptr_equal(rd_table_rx_lookup(t, keys[i]),
                         ref_lookup(t, keys[i]));
        assert_ptr_equal(rd_table_rx_lookup(t, keys[i] + 1),
                         ref_lookup(t, keys[i] + 1));
    }
    assert_null(rd_table_rx_lookup(t, 0));
}

static void test_slice_ids_and_check(void **state)
{
    struct rd_table *t = *state;
    struct rd_link_spec a = spec("s1", 1, RD_END_A, "p1");
    struct rd_link_spec b = spec("s2", 2, RD_END_A, "p2");
    struct rd_link_spec c = spec("s1", 3, RD_END_B, "p3");
    struct rd_link *la = add(t, &a, RD_ADD_NEW, VN_OK);
    struct rd_link *lb = add(t, &b, RD_ADD_NEW, VN_OK);
    struct rd_link *lc = add(t, &c, RD_ADD_NEW, VN_OK);

    assert_int_equal(la->slice_id, lc->slice_id);
    assert_int_not_equal(la->slice_id, lb->slice_id);
    /* A frame for link 1 may go out of a port owned by slice s1 only. */
    assert_true(rd_link_may_deliver(la, la));
    assert_true(rd_link_may_deliver(la, lc));
    assert_false(rd_link_may_deliver(la, lb));
    assert_false(rd_link_may_deliver(la, NULL));
    assert_false(rd_link_may_deliver(NULL, la));
    /* Ids stay put when other links come and go. */
    rd_link_free(rd_table_remove(t, 1, RD_END_A));
    assert_int_equal(rd_table_find(t, 3, RD_END_B)->slice_id, lc->slice_id);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_end_names),
        cmocka_unit_test_setup_teardown(test_create_is_idempotent, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_delete_is_idempotent, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_port_taken, setup, teardown),
        cmocka_unit_test_setup_teardown(test_key_conflicts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_local_links_not_in_key_index,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_lookup_matches_reference, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_slice_ids_and_check, setup,
                                        teardown),
    };
    vn_log_init("test_table", VN_LOG_WARN, NULL);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
