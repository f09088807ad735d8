/* Tests for redirector/pool.c: reservations grow the pool, buffers are
 * handed out once each (never-used ones first carved in order, then
 * recycled), exhaustion, alignment, and a random get/put workload checked
 * against a naive count. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "log.h"
#include "redirector/pool.h"

static void test_reserve_and_exhaust(void **state)
{
    struct rd_pool p;
    struct rd_buf *b[10];

    (void)state;
    rd_pool_init(&p, 1500);
    assert_null(rd_pool_get(&p)); /* nothing reserved, nothing there */
    assert_int_equal(rd_pool_reserve(&p, 4), 0);
    assert_int_equal(p.n_total, 4);
    assert_int_equal(p.n_free, 4);
    assert_int_equal(p.n_reserved, 4);
    for (int i = 0; i < 4; i++) {
        b[i] = rd_pool_get(&p);
        assert_non_null(b[i]);
        assert_int_equal(b[i]->len, 0);
        assert_null(b[i]->owner);
        assert_int_equal((uintptr_t)b[i]->data % 16, 0);
        memset(b[i]->data, i, 1500); /* the whole capacity is writable */
        for (int j = 0; j < i; j++)
            assert_ptr_not_equal(b[i], b[j]);
    }
    assert_null(rd_pool_get(&p));
    assert_int_equal(p.n_free, 0);
    /* Never-used buffers come in address order, one stride apart. */
    for (int i = 1; i < 4; i++)
        assert_int_equal((uint8_t *)b[i] - (uint8_t *)b[i - 1], p.stride);
    rd_pool_put(&p, b[2]);
    assert_ptr_equal(rd_pool_get(&p), b[2]);
    for (int i = 0; i < 4; i++)
        rd_pool_put(&p, b[i]);
    rd_pool_put(&p, NULL);
    assert_int_equal(p.n_free, 4);
    rd_pool_fini(&p);
    rd_pool_fini(NULL);
}

static void test_unreserve_keeps_buffers(void **state)
{
    struct rd_pool p;
    struct rd_buf *b[8];

    (void)state;
    rd_pool_init(&p, 64);
    assert_int_equal(rd_pool_reserve(&p, 5), 0);
    rd_pool_unreserve(&p, 5);
    assert_int_equal(p.n_reserved, 0);
    assert_int_equal(p.n_total, 5);
    /* A new reservation within what exists allocates nothing. */
    assert_int_equal(rd_pool_reserve(&p, 3), 0);
    assert_int_equal(p.n_total, 5);
    assert_int_equal(rd_pool_reserve(&p, 3), 0); /* 6 promised: grows by 1 */
    assert_int_equal(p.n_total, 6);
    rd_pool_unreserve(&p, 100); /* more than promised: clamps at 0 */
    assert_int_equal(p.n_reserved, 0);
    for (int i = 0; i < 6; i++)
        assert_non_null(b[i] = rd_pool_get(&p));
    assert_null(rd_pool_get(&p));
    for (int i = 0; i < 6; i++)
        rd_pool_put(&p, b[i]);
    rd_pool_fini(&p);
}

/* Chunks added while an older one is half carved: every buffer is still
 * handed out exactly once before any is handed out twice. */
static void test_carving_across_chunks(void **state)
{
    enum { N = 3 + 4 + 5 };
    struct rd_pool p;
    struct rd_buf *b[N];

    (void)state;
    rd_pool_init(&p, 100);
    assert_int_equal(rd_pool_reserve(&p, 3), 0);
    b[0] = rd_pool_get(&p);
    assert_int_equal(rd_pool_reserve(&p, 4), 0);
    b[1] = rd_pool_get(&p);
    assert_int_equal(rd_pool_reserve(&p, 5), 0);
    for (int i = 2; i < N; i++)
        b[i] = rd_pool_get(&p);
    assert_null(rd_pool_get(&p));
    for (int i = 0; i < N; i++) {
        assert_non_null(b[i]);
        for (int j = 0; j < i; j++)
            assert_ptr_not_equal(b[i], b[j]);
    }
    assert_int_equal(p.n_free, 0);
    for (int i = 0; i < N; i++)
        rd_pool_put(&p, b[i]);
    assert_int_equal(p.n_free, N);
    rd_pool_fini(&p);
}

/* Random gets and puts against a count: never more buffers out than
 * exist, a buffer never out twice, data kept while out. */
static void test_random_workload(void **state)
{
    enum { CAP = 200, STEPS = 20000 };
    struct rd_pool p;
    struct rd_buf *out[CAP];
    int n_out = 0;
    unsigned seed = 7;

    (void)state;
    rd_pool_init(&p, 256);
    assert_int_equal(rd_pool_reserve(&p, CAP / 2), 0);
    for (int step = 0; step < STEPS; step++) {
        int r = rand_r(&seed) % 100;

        if (step == STEPS / 3)
            assert_int_equal(rd_pool_reserve(&p, CAP / 2), 0);
        if (r < 55) {
            struct rd_buf *b = rd_pool_get(&p);

            if (n_out == (int)p.n_total) {
                assert_null(b);
                continue;
            }
            assert_non_null(b);
            b->len = (uint32_t)step;
            memset(b->data, step & 0xff, 256);
            out[n_out++] = b;
        } else if (n_out > 0) {
            int i = rand_r(&seed) % n_out;
            struct rd_buf *b = out[i];

            assert_int_equal(b->data[255], b->len & 0xff);
            out[i] = out[--n_out];
            rd_pool_put(&p, b);
        }
        assert_int_equal(p.n_free + (size_t)n_out, p.n_total);
    }
    while (n_out > 0)
        rd_pool_put(&p, out[--n_out]);
    rd_pool_fini(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reserve_and_exhaust),
        cmocka_unit_test(test_unreserve_keeps_buffers),
        cmocka_unit_test(test_carving_across_chunks),
        cmocka_unit_test(test_random_workload),
    };
    vn_log_init("test_pool", VN_LOG_ERR, NULL);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
