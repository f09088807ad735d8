/* Tests for redirector/nexthop.c: the /proc/net/route and /proc/net/arp
 * parsers on captured text, and resolution over time (files in a temporary
 * directory, 'now' passed in, the kernel kick counted instead of sent). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <cmocka.h>

#include "log.h"
#include "redirector/nexthop.h"

/* A VNode: tr0 198.18.128.1/30, default via 198.18.128.2, plus a more
 * specific route via .3 and routes on another interface. Hex fields are
 * network-order values as printed on little-endian hosts. */
static const char routes[] =
    "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask"
    "\t\tMTU\tWindow\tIRTT\n"
    "tr0\t00000000\t028012C6\t0003\t0\t0\t0\t00000000\t0\t0\t0\n"
    "tr0\t008012C6\t00000000\t0001\t0\t0\t0\tFCFFFFFF\t0\t0\t0\n"
    "tr0\t000512C6\t038012C6\t0003\t0\t0\t0\t00FFFFFF\t0\t0\t0\n"
    "mg0\t000013C6\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n"
    "mg0\t000012C6\t010013C6\t0003\t0\t0\t0\t0000FFFF\t0\t0\t0\n"
    "tr0\t000612C6\t058012C6\t0003\t0\t0\t20\t00FFFFFF\t0\t0\t0\n"
    "tr0\t000612C6\t068012C6\t0003\t0\t0\t10\t00FFFFFF\t0\t0\t0\n";

static const char arp[] =
    "IP address       HW type     Flags       HW address            Mask"
    "     Device\n"
    "198.18.128.2     0x1         0x2         02:aa:bb:cc:dd:02     *"
    "        tr0\n"
    "198.18.128.3     0x1         0x0         00:00:00:00:00:00     *"
    "        tr0\n"
    "198.19.0.1       0x1         0x2         02:00:00:00:00:99     *"
    "        mg0\n"
    "198.18.128.6     0x1         0x2         02:00:00:00:00:66     *"
    "        mg0\n";

static uint32_t ip(const char *s)
{
    struct in_addr a;

    assert_int_equal(inet_pton(AF_INET, s, &a), 1);
    return a.s_addr;
}

static void test_route_lookup(void **state)
{
    uint32_t gw = 0;

    (void)state;
    /* Default route. */
    assert_int_equal(nh_route_lookup(routes, "tr0", ip("198.18.0.2"), &gw), 0);
    assert_int_equal(gw, ip("198.18.128.2"));
    /* A longer prefix wins, though listed after the default. */
    assert_int_equal(nh_route_lookup(routes, "tr0", ip("198.18.5.9"), &gw), 0);
    assert_int_equal(gw, ip("198.18.128.3"));
    /* On-link: the next hop is the destination itself. */
    assert_int_equal(nh_route_lookup(routes, "tr0", ip("198.18.128.2"), &gw),
                     0);
    assert_int_equal(gw, ip("198.18.128.2"));
    /* Equal prefixes: the lower metric. */
    assert_int_equal(nh_route_lookup(routes, "tr0", ip("198.18.6.1"), &gw), 0);
    assert_int_equal(gw, ip("198.18.128.6"));
    /* Only routes out of the given interface count. */
    assert_int_equal(nh_route_lookup(routes, "mg0", ip("198.18.0.2"), &gw), 0);
    assert_int_equal(gw, ip("198.19.0.1"));
    assert_int_equal(nh_route_lookup(routes, "mg0", ip("10.0.0.1"), &gw), -1);
    assert_int_equal(nh_route_lookup(routes, "eth9", ip("198.18.0.2"), &gw),
                     -1);
    assert_int_equal(nh_route_lookup("", "tr0", ip("198.18.0.2"), &gw), -1);
    assert_int_equal(
        nh_route_lookup("garbage\n\n\tx y z\n", "tr0", ip("198.18.0.2"), &gw),
        -1);
}

static void test_arp_lookup(void **state)
{
    uint8_t mac[6];

    (void)state;
    assert_int_equal(nh_arp_lookup(arp, "tr0", ip("198.18.128.2"), mac), 0);
    assert_memory_equal(mac, "\x02\xaa\xbb\xcc\xdd\x02", 6);
    /* Incomplete entries and other devices do not count. */
    assert_int_equal(nh_arp_lookup(arp, "tr0", ip("198.18.128.3"), mac), -1);
    assert_int_equal(nh_arp_lookup(arp, "tr0", ip("198.18.128.6"), mac), -1);
    assert_int_equal(nh_arp_lookup(arp, "mg0", ip("198.18.128.6"), mac), 0);
    assert_int_equal(nh_arp_lookup("", "tr0", ip("198.18.128.2"), mac), -1);
}

/* ---- resolution over time ------------------------------------------- */

struct fixture {
    char dir[64], route[128], arp[128];
    struct nh_table t;
};

static int kicks;
static uint32_t last_kick;

static void count_kick(struct nh_table *t, uint32_t gw)
{
    (void)t;
    kicks++;
    last_kick = gw;
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");

    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));

    assert_non_null(f);
    strcpy(f->dir, "/tmp/test_nexthop.XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->route, sizeof(f->route), "%s/route", f->dir);
    snprintf(f->arp, sizeof(f->arp), "%s/arp", f->dir);
    write_file(f->route, routes);
    write_file(f->arp, "IP address HW type Flags HW address Mask Device\n");
    nh_init(&f->t, "tr0");
    f->t.route_path = f->route;
    f->t.arp_path = f->arp;
    f->t.kick = count_kick;
    kicks = 0;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    nh_fini(&f->t);
    unlink(f->route);
    unlink(f->arp);
    rmdir(f->dir);
    free(f);
    return 0;
}

static void test_resolve_over_time(void **state)
{
    struct fixture *f = *state;
    struct nh_peer *p = nh_ref(&f->t, ip("198.18.0.2"));
    uint64_t now = 100000;

    assert_non_null(p);
    assert_false(p->resolved);
    /* Not in the neighbour table: the kernel is asked to resolve it. */
    nh_refresh(&f->t, now, false);
    assert_false(p->resolved);
    assert_int_equal(p->gw, ip("198.18.128.2"));
    assert_int_equal(kicks, 1);
    assert_int_equal(last_kick, ip("198.18.128.2"));
    /* Retried every NH_RETRY_MS, not more often. */
    nh_refresh(&f->t, now + NH_RETRY_MS - 1, false);
    assert_int_equal(kicks, 1);
    write_file(f->arp, arp);
    nh_refresh(&f->t, now + NH_RETRY_MS, false);
    assert_true(p->resolved);
    assert_memory_equal(p->mac, "\x02\xaa\xbb\xcc\xdd\x02", 6);
    /* Resolved: looked at again (and the kernel reminded) only every
     * NH_REFRESH_MS; a new MAC is picked up then. */
    now += NH_RETRY_MS;
    write_file(f->arp, "198.18.128.2 0x1 0x2 02:00:00:00:00:77 * tr0\n");
    nh_refresh(&f->t, now + NH_REFRESH_MS - 1, false);
    assert_memory_equal(p->mac, "\x02\xaa\xbb\xcc\xdd\x02", 6);
    nh_refresh(&f->t, now + NH_REFRESH_MS, false);
    assert_memory_equal(p->mac, "\x02\x00\x00\x00\x00\x77", 6);
    assert_int_equal(kicks, 2);
    /* The entry left the neighbour table: keep the old MAC meanwhile. */
    write_file(f->arp, "");
    nh_refresh(&f->t, now + 2 * NH_REFRESH_MS, false);
    assert_true(p->resolved);
    /* The route went away: unresolved (frames to it are dropped). */
    write_file(f->route, "");
    nh_refresh(&f->t, now + 3 * NH_REFRESH_MS, false);
    assert_false(p->resolved);
    nh_unref(&f->t, p);
    assert_int_equal(f->t.n, 0);
}

static void test_refs_and_static(void **state)
{
    struct fixture *f = *state;
    struct nh_peer *a = nh_ref(&f->t, ip("198.18.0.2"));
    struct nh_peer *b = nh_ref(&f->t, ip("198.18.0.2"));
    struct nh_peer *c = nh_ref(&f->t, ip("198.18.0.3"));

    assert_ptr_equal(a, b);
    assert_int_equal(a->refs, 2);
    assert_int_equal(f->t.n, 2);
    nh_unref(&f->t, b);
    assert_int_equal(f->t.n, 2);
    nh_unref(&f->t, a);
    assert_int_equal(f->t.n, 1);
    nh_unref(&f->t, NULL);

    /* A pinned entry is resolved at once and never refreshed. */
    assert_int_equal(nh_set_static(&f->t, ip("198.18.0.3"),
                                   (const uint8_t *)"\x02\x01\x02\x03\x04\x05"),
                     0);
    assert_int_equal(nh_set_static(&f->t, ip("198.18.0.3"),
                                   (const uint8_t *)"\x02\x01\x02\x03\x04\x06"),
                     0);
    assert_true(c->resolved);
    assert_int_equal(c->refs, 2); /* ours and the pin's */
    nh_refresh(&f->t, 1000000, true);
    assert_int_equal(kicks, 0);
    assert_memory_equal(c->mac, "\x02\x01\x02\x03\x04\x06", 6);
    nh_unref(&f->t, c);
    assert_int_equal(f->t.n, 1); /* the pin keeps it */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_route_lookup),
        cmocka_unit_test(test_arp_lookup),
        cmocka_unit_test_setup_teardown(test_resolve_over_time, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_refs_and_static, setup, teardown),
    };
    vn_log_init("test_nexthop", VN_LOG_ERR, NULL);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
