/* Unit tests for lib/units.c: the quantities of slice specs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <string.h>

#include "units.h"

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))
#define UNTOUCHED 0xdeadbeefULL

struct good {
    const char *in;
    uint64_t want;
};

static void test_rate_good(void **state)
{
    static const struct good cases[] = {
        {"100Mbit", 100000000ULL},
        {"1bit", 1ULL},
        {"1.5Gbit", 1500000000ULL},
        {"0.5kbit", 500ULL},
        {"800kbps", 800000ULL},
        {"100mbit", 100000000ULL}, /* case-insensitive: M, not milli */
        {"100MBIT", 100000000ULL},
        {"2Gbps", 2000000000ULL},
        {"10Tbit", UNITS_RATE_MAX_BPS},
        {"1.0000001bit", 1ULL}, /* fractions of a bit rounded down */
        {"007Mbit", 7000000ULL},
        {"9bps", 9ULL},
    };

    (void)state;
    for (size_t i = 0; i < N_ELEMS(cases); i++) {
        uint64_t v = UNTOUCHED;

        assert_int_equal(units_parse_rate(cases[i].in, &v), 0);
        assert_true(v == cases[i].want);
    }
}

static void test_rate_bad(void **state)
{
    static const char *const cases[] = {
        "",
        "100",
        "Mbit",
        "1.Mbit",
        ".5Mbit",
        "-1Mbit",
        "+1Mbit",
        " 1Mbit",
        "1Mbit ",
        "1 Mbit",
        "1e6bit",
        "1Mbits",
        "1Mb",
        "1MiBit",
        "1Tbps",
        "0bit",
        "0.0001bit",
        "11Tbit",
        "10.000000000001Tbit",
        "1,5Gbit",
        "99999999999999999999999bit",
    };

    (void)state;
    for (size_t i = 0; i < N_ELEMS(cases); i++) {
        uint64_t v = UNTOUCHED;

        assert_int_equal(units_parse_rate(cases[i], &v), -1);
        assert_true(v == UNTOUCHED); /* output untouched on failure */
    }
    assert_int_equal(units_parse_rate(NULL, NULL), -1);
}

static void test_rate_unbounded(void **state)
{
    uint64_t v = UNTOUCHED;

    (void)state;
    assert_int_equal(units_parse_rate_unbounded("0bit", &v), 0);
    assert_true(v == 0);
    assert_int_equal(units_parse_rate_unbounded("20Tbit", &v), 0);
    assert_true(v == 20000000000000ULL);
    assert_int_equal(units_parse_rate_unbounded("18446744073709551615bit", &v),
                     0);
    assert_true(v == UINT64_MAX);
    v = UNTOUCHED;
    assert_int_equal(units_parse_rate_unbounded("18446744073709551616bit", &v),
                     -2);
    assert_int_equal(units_parse_rate_unbounded("99999999Tbit", &v), -2);
    assert_int_equal(units_parse_rate_unbounded("100Mbt", &v), -1);
    assert_true(v == UNTOUCHED);
}

static void test_size_good(void **state)
{
    static const struct good cases[] = {
        {"64KiB", 65536ULL},
        {"1500", 1500ULL},
        {"1500B", 1500ULL},
        {"0", 0ULL},
        {"2MB", 2000000ULL},
        {"1KB", 1000ULL},
        {"3GB", 3000000000ULL},
        {"1.5GiB", 3ULL << 29},
        {"256mib", 256ULL << 20},
        {"1TiB", 1ULL << 40},
        {"1024TiB", UNITS_SIZE_MAX_BYTES},
        {"0.5KiB", 512ULL},
    };

    (void)state;
    for (size_t i = 0; i < N_ELEMS(cases); i++) {
        uint64_t v = UNTOUCHED;

        assert_int_equal(units_parse_size(cases[i].in, &v), 0);
        assert_true(v == cases[i].want);
    }
}

static void test_size_bad(void **state)
{
    static const char *const cases[] = {
        "",   "KiB",   "64 KiB",      "64KiB ",  "1PiB", "1TB",
        "-1", "1.KiB", "64kilobytes", "1025TiB", "0x10", "18446744073709551616",
    };

    (void)state;
    for (size_t i = 0; i < N_ELEMS(cases); i++) {
        uint64_t v = UNTOUCHED;

        assert_int_equal(units_parse_size(cases[i], &v), -1);
        assert_true(v == UNTOUCHED);
    }
}

static void test_size_unbounded(void **state)
{
    uint64_t v = 0;

    (void)state;
    assert_int_equal(units_parse_size_unbounded("2000TiB", &v), 0);
    assert_true(v == 2000ULL << 40);
    assert_int_equal(units_parse_size_unbounded("99999999TiB", &v), -2);
    assert_int_equal(units_parse_size_unbounded("1 B", &v), -1);
}

static void test_duration_good(void **state)
{
    static const struct good cases[] = {
        {"P1D", 86400ULL},
        {"PT4H", 14400ULL},
        {"PT30M", 1800ULL},
        {"PT45S", 45ULL},
        {"P1DT2H30M15S", 86400ULL + 2 * 3600 + 30 * 60 + 15},
        {"PT1H30M", 5400ULL},
        {"PT1M1S", 61ULL},
        {"P0DT1S", 1ULL},
        {"PT90M", 5400ULL},
    };

    (void)state;
    for (size_t i = 0; i < N_ELEMS(cases); i++) {
        uint64_t v = UNTOUCHED;

        assert_int_equal(units_parse_duration(cases[i].in, &v), 0);
        assert_true(v == cases[i].want);
    }
}

static void test_duration_bad(void **state)
{
    static const char *const cases[] = {
        "",    "P",     "PT",    "P1H",    "PT1D",   "PT1M1H", "P1DT",
        "4h",  "PT-1H", "pt1h",  "P1Y",    "P1W",    "PT1.5H", "PT0S",
        "P0D", "PT1H ", " PT1H", "P1DT1D", "PT1H1H", "1H",
    };

    (void)state;
    for (size_t i = 0; i < N_ELEMS(cases); i++) {
        uint64_t v = UNTOUCHED;

        assert_int_equal(units_parse_duration(cases[i], &v), -1);
        assert_true(v == UNTOUCHED);
    }
}

static void test_duration_unbounded(void **state)
{
    uint64_t v = UNTOUCHED;

    (void)state;
    assert_int_equal(units_parse_duration_unbounded("PT0S", &v), 0);
    assert_true(v == 0);
    v = UNTOUCHED;
    assert_int_equal(units_parse_duration_unbounded("P999999999999999999D", &v),
                     -2);
    assert_int_equal(
        units_parse_duration_unbounded("PT99999999999999999999S", &v), -2);
    assert_true(v == UNTOUCHED);
    assert_int_equal(units_parse_duration_unbounded("PT", &v), -1);
}

static void test_time(void **state)
{
    static const struct {
        const char *in;
        int64_t want;
    } good[] = {
        {"1970-01-01T00:00:00Z", 0},
        {"2026-11-24T09:00:00Z", 1795510800},
        {"2030-01-31T23:59:59Z", 1896134399},
        {"2024-02-29T00:00:00Z", 1709164800},
        {"9999-12-31T23:59:59Z", 253402300799},
    };
    static const char *const bad[] = {
        "",
        "2026-11-24T09:00:00",
        "2026-11-24 09:00:00Z",
        "2026-11-24T09:00:00+01:00",
        "2026-11-24T09:00:00.5Z",
        "2026-13-01T00:00:00Z",
        "2026-00-01T00:00:00Z",
        "2023-02-29T00:00:00Z",
        "2026-04-31T00:00:00Z",
        "2026-11-24T24:00:00Z",
        "2026-11-24T09:60:00Z",
        "2026-11-24T09:00:60Z",
        "1969-12-31T23:59:59Z",
        "2026-1-24T09:00:00Z",
        "2026-11-24t09:00:00z",
    };

    (void)state;
    for (size_t i = 0; i < N_ELEMS(good); i++) {
        time_t t = 12345;

        assert_int_equal(units_parse_time(good[i].in, &t), 0);
        assert_true((int64_t)t == good[i].want);
    }
    for (size_t i = 0; i < N_ELEMS(bad); i++) {
        time_t t = 12345;

        assert_int_equal(units_parse_time(bad[i], &t), -1);
        assert_true(t == 12345);
    }
}

static void test_format_rate(void **state)
{
    static const struct {
        uint64_t in;
        const char *want;
    } cases[] = {
        {100000000ULL, "100Mbit"},
        {1500000000ULL, "1.5Gbit"},
        {0, "0bit"},
        {999, "999bit"},
        {1000, "1kbit"},
        {1234567, "1.234567Mbit"},
        {UNITS_RATE_MAX_BPS, "10Tbit"},
        {250000, "250kbit"},
    };
    char buf[32];

    (void)state;
    for (size_t i = 0; i < N_ELEMS(cases); i++)
        assert_string_equal(units_format_rate(cases[i].in, buf, sizeof(buf)),
                            cases[i].want);
}

static void test_format_size(void **state)
{
    static const struct {
        uint64_t in;
        const char *want;
    } cases[] = {
        {65536, "64KiB"},
        {1500, "1500B"},
        {0, "0B"},
        {3ULL << 29, "1.5GiB"},
        {256ULL << 20, "256MiB"},
        {UNITS_SIZE_MAX_BYTES, "1024TiB"},
        {1024, "1KiB"},
        {1000000, "1000000B"},
    };
    char buf[32];

    (void)state;
    for (size_t i = 0; i < N_ELEMS(cases); i++)
        assert_string_equal(units_format_size(cases[i].in, buf, sizeof(buf)),
                            cases[i].want);
}

static void test_format_duration_time(void **state)
{
    char buf[32];

    (void)state;
    assert_string_equal(units_format_duration(0, buf, sizeof(buf)), "0s");
    assert_string_equal(units_format_duration(16200, buf, sizeof(buf)),
                        "4h30m");
    assert_string_equal(units_format_duration(90061, buf, sizeof(buf)),
                        "1d1h1m1s");
    assert_string_equal(units_format_duration(86400, buf, sizeof(buf)), "1d");
    assert_string_equal(units_format_time(0, buf, sizeof(buf)),
                        "1970-01-01T00:00:00Z");
    assert_string_equal(units_format_time(1795510800, buf, sizeof(buf)),
                        "2026-11-24T09:00:00Z");
}

/* "1d2h3s" -> "P1DT2H3S" */
static void human_to_iso(const char *h, char *iso, size_t n)
{
    const char *d = strchr(h, 'd');
    size_t o = 0;

    iso[o++] = 'P';
    for (; d != NULL && h <= d && o + 2 < n; h++)
        iso[o++] = (char)(*h == 'd' ? 'D' : *h);
    if (*h != '\0')
        iso[o++] = 'T';
    for (; *h != '\0' && o + 1 < n; h++)
        iso[o++] = (char)(*h >= 'a' && *h <= 'z' ? *h - 'a' + 'A' : *h);
    iso[o] = '\0';
}

/* What is formatted parses back to the same value. */
static void test_round_trip(void **state)
{
    static const uint64_t rates[] = {1,
                                     999,
                                     1000,
                                     1234567,
                                     100000000,
                                     1500000000,
                                     9999999999999ULL,
                                     UNITS_RATE_MAX_BPS};
    static const uint64_t sizes[] = {
        0, 1, 1500, 65536, 3ULL << 29, (1ULL << 40) + 1, UNITS_SIZE_MAX_BYTES};
    static const uint64_t secs[] = {1, 59, 3600, 16200, 90061, 864000};
    char buf[64], iso[64];
    uint64_t v;

    (void)state;
    for (size_t i = 0; i < N_ELEMS(rates); i++) {
        assert_int_equal(
            units_parse_rate(units_format_rate(rates[i], buf, sizeof(buf)), &v),
            0);
        assert_true(v == rates[i]);
    }
    for (size_t i = 0; i < N_ELEMS(sizes); i++) {
        assert_int_equal(
            units_parse_size(units_format_size(sizes[i], buf, sizeof(buf)), &v),
            0);
        assert_true(v == sizes[i]);
    }
    for (size_t i = 0; i < N_ELEMS(secs); i++) {
        human_to_iso(units_format_duration(secs[i], buf, sizeof(buf)), iso,
                     sizeof(iso));
        assert_int_equal(units_parse_duration(iso, &v), 0);
        assert_true(v == secs[i]);
    }
}

/* Short buffers truncate and stay NUL-terminated. */
static void test_small_buffers(void **state)
{
    char buf[4];

    (void)state;
    memset(buf, 'x', sizeof(buf));
    assert_string_equal(units_format_rate(100000000, buf, sizeof(buf)), "100");
    assert_string_equal(units_format_size(65536, buf, sizeof(buf)), "64K");
    assert_string_equal(units_format_duration(90061, buf, sizeof(buf)), "1d1");
    assert_string_equal(units_format_time(0, buf, sizeof(buf)), "?");
    assert_ptr_equal(units_format_rate(1, buf, 0), buf);
    assert_ptr_equal(units_format_duration(1, buf, 0), buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rate_good),
        cmocka_unit_test(test_rate_bad),
        cmocka_unit_test(test_rate_unbounded),
        cmocka_unit_test(test_size_good),
        cmocka_unit_test(test_size_bad),
        cmocka_unit_test(test_size_unbounded),
        cmocka_unit_test(test_duration_good),
        cmocka_unit_test(test_duration_bad),
        cmocka_unit_test(test_duration_unbounded),
        cmocka_unit_test(test_time),
        cmocka_unit_test(test_format_rate),
        cmocka_unit_test(test_format_size),
        cmocka_unit_test(test_format_duration_time),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_small_buffers),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
