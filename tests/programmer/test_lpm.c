/* fp_lpm against a naive reference (a list of prefixes scanned for the
 * longest match), on hand-picked overlapping prefixes and on random
 * tables of every prefix length (each a different expansion in the
 * multibit trie), changed between rounds of lookups. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "programmer/fp_lpm.h"

struct ref_entry {
    uint32_t prefix;
    int len;
    uint32_t value;
    int present;
};

#define REF_MAX 4096
static struct ref_entry ref[REF_MAX];
static int n_ref;

static void ref_insert(uint32_t prefix, int len, uint32_t value)
{
    prefix &= fp_lpm_mask(len);
    for (int i = 0; i < n_ref; i++) {
        if (ref[i].prefix == prefix && ref[i].len == len) {
            ref[i].value = value;
            ref[i].present = 1;
            return;
        }
    }
    ref[n_ref++] = (struct ref_entry){prefix, len, value, 1};
}

static int ref_lookup(uint32_t addr, uint32_t *value)
{
    int best = -1;

    for (int i = 0; i < n_ref; i++)
        if (ref[i].present &&
            (addr & fp_lpm_mask(ref[i].len)) == ref[i].prefix &&
            ref[i].len > best) {
            best = ref[i].len;
            *value = ref[i].value;
        }
    return best;
}

static uint32_t ip(int a, int b, int c, int d)
{
    return (uint32_t)a << 24 | (uint32_t)b << 16 | (uint32_t)c << 8 |
           (uint32_t)d;
}

static void test_overlapping(void **st)
{
    struct fp_lpm *t = fp_lpm_new();
    uint32_t v = 0;
    int len = -1;

    (void)st;
    assert_non_null(t);
    assert_false(fp_lpm_lookup(t, ip(10, 0, 3, 1), &v, &len));
    assert_int_equal(fp_lpm_insert(t, ip(10, 0, 0, 0), 8, 1), 0);
    assert_int_equal(fp_lpm_insert(t, ip(10, 0, 3, 0), 24, 2), 0);
    assert_int_equal(fp_lpm_insert(t, ip(10, 0, 3, 128), 25, 3), 0);
    assert_int_equal(fp_lpm_insert(t, ip(10, 0, 3, 7), 32, 4), 0);
    assert_true(fp_lpm_lookup(t, ip(10, 9, 9, 9), &v, &len));
    assert_int_equal(v, 1);
    assert_int_equal(len, 8);
    assert_true(fp_lpm_lookup(t, ip(10, 0, 3, 1), &v, &len));
    assert_int_equal(v, 2);
    assert_true(fp_lpm_lookup(t, ip(10, 0, 3, 200), &v, &len));
    assert_int_equal(v, 3);
    assert_int_equal(len, 25);
    assert_true(fp_lpm_lookup(t, ip(10, 0, 3, 7), &v, &len));
    assert_int_equal(v, 4);
    assert_int_equal(len, 32);
    assert_false(fp_lpm_lookup(t, ip(11, 0, 0, 1), &v, &len));
    /* default route, then replace a value, then remove the /24 */
    assert_int_equal(fp_lpm_insert(t, 0, 0, 9), 0);
    assert_true(fp_lpm_lookup(t, ip(11, 0, 0, 1), &v, &len));
    assert_int_equal(v, 9);
    assert_int_equal(len, 0);
    assert_int_equal(fp_lpm_insert(t, ip(10, 0, 3, 99), 24, 5), 0);
    assert_true(fp_lpm_lookup(t, ip(10, 0, 3, 1), &v, NULL));
    assert_int_equal(v, 5);
    assert_int_equal(fp_lpm_remove(t, ip(10, 0, 3, 0), 24), 0);
    assert_int_equal(fp_lpm_remove(t, ip(10, 0, 3, 0), 24), -1);
    assert_int_equal(fp_lpm_remove(t, ip(10, 0, 4, 0), 24), -1);
    assert_true(fp_lpm_lookup(t, ip(10, 0, 3, 1), &v, NULL));
    assert_int_equal(v, 1);
    assert_int_equal(fp_lpm_insert(t, 0, 33, 1), -1);
    assert_int_equal(fp_lpm_insert(t, 0, -1, 1), -1);
    assert_true(fp_lpm_lookup(t, 0xffffffffu, &v, NULL));
    assert_int_equal(v, 9);
    fp_lpm_free(t);
    fp_lpm_free(NULL);
}

/* Random prefixes clustered in 10.0.0.0/16 so that they overlap a lot,
 * random lookups (some inside, some outside), compared with the
 * reference. */
static void test_random_vs_reference(void **st)
{
    struct fp_lpm *t = fp_lpm_new();

    (void)st;
    srand(12345);
    n_ref = 0;
    for (int i = 0; i < 2000; i++) {
        int len = rand() % 33;
        uint32_t p = ip(10, 0, 0, 0) | ((uint32_t)rand() & 0xffff);
        if (rand() % 8 == 0)
            p = (uint32_t)rand() << 1 ^ (uint32_t)rand();
        assert_int_equal(fp_lpm_insert(t, p, len, (uint32_t)i), 0);
        ref_insert(p, len, (uint32_t)i);
        if (rand() % 10 == 0) { /* remove a random present entry */
            struct ref_entry *e = &ref[rand() % n_ref];
            if (e->present) {
                assert_int_equal(fp_lpm_remove(t, e->prefix, e->len), 0);
                e->present = 0;
            }
        }
    }
    for (int i = 0; i < 100000; i++) {
        uint32_t a = ip(10, 0, 0, 0) | ((uint32_t)rand() & 0xffff);
        uint32_t want = 0, got = 0;
        int len = -1;
        if (i % 4 == 0)
            a = (uint32_t)rand() << 1 ^ (uint32_t)rand();
        int ref_len = ref_lookup(a, &want);
        bool found = fp_lpm_lookup(t, a, &got, &len);
        assert_int_equal(found, ref_len >= 0);
        if (found) {
            assert_int_equal(len, ref_len);
            assert_int_equal(got, want);
        }
    }
    /* Changes after lookups: the lookup structure follows them. */
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < n_ref; i++) {
            if (ref[i].present && rand() % 3 == 0) {
                assert_int_equal(fp_lpm_remove(t, ref[i].prefix, ref[i].len), 0);
                ref[i].present = 0;
            }
        }
        for (int i = 0; i < 50; i++) {
            int len = rand() % 33;
            uint32_t p = ip(10, 0, 0, 0) | ((uint32_t)rand() & 0xffff);
            assert_int_equal(fp_lpm_insert(t, p, len, (uint32_t)(10000 + i)), 0);
            ref_insert(p, len, (uint32_t)(10000 + i));
        }
        for (int i = 0; i < 20000; i++) {
            uint32_t a = ip(10, 0, 0, 0) | ((uint32_t)rand() & 0xffff);
            uint32_t want = 0, got = 0;
            int len = -1, ref_len = ref_lookup(a, &want);
            bool found = fp_lpm_lookup(t, a, &got, &len);
            assert_int_equal(found, ref_len >= 0);
            if (found) {
                assert_int_equal(len, ref_len);
                assert_int_equal(got, want);
            }
        }
    }
    fp_lpm_free(t);
}

/* A sparse table with prefixes of every length over the whole address
 * space, and lookups inside each prefix: every length is the longest match
 * of many lookups (the clustered table above hides the short ones). */
static void test_every_length(void **st)
{
    struct fp_lpm *t = fp_lpm_new();
    int hits[33] = {0};

    (void)st;
    srand(777);
    n_ref = 0;
    for (int len = 0; len <= 32; len++)
        for (int k = 0; k < 4; k++) {
            uint32_t p = ((uint32_t)rand() << 1 ^ (uint32_t)rand()) &
                         fp_lpm_mask(len);
            assert_int_equal(fp_lpm_insert(t, p, len, (uint32_t)(len * 10 + k)),
                             0);
            ref_insert(p, len, (uint32_t)(len * 10 + k));
        }
    for (int i = 0; i < 200000; i++) {
        const struct ref_entry *e = &ref[rand() % n_ref];
        uint32_t a = e->prefix | (((uint32_t)rand() << 1 ^ (uint32_t)rand()) &
                                  ~fp_lpm_mask(e->len));
        uint32_t want = 0, got = 0;
        int len = -1, ref_len = ref_lookup(a, &want);
        bool found = fp_lpm_lookup(t, a, &got, &len);
        assert_true(found && ref_len >= 0);
        assert_int_equal(len, ref_len);
        assert_int_equal(got, want);
        hits[ref_len]++;
    }
    for (int len = 2; len <= 32; len++) /* /0 and /1: always shadowed */
        assert_true(hits[len] > 1000);
    fp_lpm_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_overlapping),
        cmocka_unit_test(test_random_vs_reference),
        cmocka_unit_test(test_every_length),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
