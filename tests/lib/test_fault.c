/* Tests for lib/fault.c: every code has its own name and summary, unknown
 * codes are reported as such, and vn_fault_set formats into the env. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fault.h"

static const int all_codes[] = {
    VN_OK,
    VN_FAULT_INTERNAL,
    VN_FAULT_MALFORMED,
    VN_FAULT_TOO_LARGE,
    VN_FAULT_NO_METHOD,
    VN_FAULT_BAD_PARAMS,
    VN_FAULT_UNAUTHENTICATED,
    VN_FAULT_FORBIDDEN,
    VN_FAULT_INVALID_SPEC,
    VN_FAULT_NO_CAPACITY,
    VN_FAULT_NOT_FOUND,
    VN_FAULT_EXISTS,
    VN_FAULT_STATE,
    VN_FAULT_NODE,
    VN_FAULT_UNAVAILABLE,
    VN_FAULT_INVALID_ARG,
};
#define N_CODES (sizeof(all_codes) / sizeof(all_codes[0]))

static void test_names_and_summaries_distinct(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_CODES; i++) {
        const char *name = vn_fault_name(all_codes[i]);
        const char *summary = vn_fault_summary(all_codes[i]);
        assert_string_not_equal(name, "unknown");
        assert_string_not_equal(summary, "unknown fault");
        assert_true(strlen(name) > 0 && strlen(summary) > 0);
        /* names are short, lower case, no spaces */
        assert_int_equal(strspn(name, "abcdefghijklmnopqrstuvwxyz-"),
                         strlen(name));
        for (size_t j = 0; j < i; j++) {
            assert_string_not_equal(name, vn_fault_name(all_codes[j]));
            assert_string_not_equal(summary, vn_fault_summary(all_codes[j]));
        }
    }
}

static void test_stable_names(void **state)
{
    (void)state;
    /* Part of the API: clients and scripts match on these. */
    assert_string_equal(vn_fault_name(VN_FAULT_INVALID_SPEC), "invalid-spec");
    assert_string_equal(vn_fault_name(VN_FAULT_NO_METHOD), "no-method");
    assert_int_equal(VN_FAULT_INTERNAL, 100);
    assert_int_equal(VN_FAULT_INVALID_ARG, 114);
}

static void test_known(void **state)
{
    (void)state;
    for (size_t i = 1; i < N_CODES; i++)
        assert_true(vn_fault_known(all_codes[i]));
    assert_false(vn_fault_known(VN_OK));
    assert_false(vn_fault_known(99));
    assert_false(vn_fault_known(115));
    assert_false(vn_fault_known(-501));
}

static void test_unknown(void **state)
{
    (void)state;
    assert_string_equal(vn_fault_name(-501), "unknown");
    assert_string_equal(vn_fault_name(99), "unknown");
    assert_string_equal(vn_fault_summary(12345), "unknown fault");
}

static void test_set(void **state)
{
    xmlrpc_env env;

    (void)state;
    xmlrpc_env_init(&env);
    vn_fault_set(&env, VN_FAULT_NOT_FOUND, "no slice '%s' (%d)", "s1", 7);
    assert_true(env.fault_occurred);
    assert_int_equal(env.fault_code, VN_FAULT_NOT_FOUND);
    assert_string_equal(env.fault_string, "no slice 's1' (7)");
    /* replaces, and may quote the old message */
    vn_fault_set(&env, VN_FAULT_INTERNAL, "wrapped: %s", env.fault_string);
    assert_int_equal(env.fault_code, VN_FAULT_INTERNAL);
    assert_string_equal(env.fault_string, "wrapped: no slice 's1' (7)");
    xmlrpc_env_clean(&env);
}

static void test_set_long(void **state)
{
    xmlrpc_env env;
    char big[20000];

    (void)state;
    memset(big, 'y', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    xmlrpc_env_init(&env);
    vn_fault_set(&env, VN_FAULT_INVALID_SPEC, "%s", big);
    assert_int_equal(strlen(env.fault_string), sizeof(big) - 1);
    xmlrpc_env_clean(&env);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names_and_summaries_distinct),
        cmocka_unit_test(test_stable_names),
        cmocka_unit_test(test_known),
        cmocka_unit_test(test_unknown),
        cmocka_unit_test(test_set),
        cmocka_unit_test(test_set_long),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
