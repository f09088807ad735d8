/* The router module on packet traces built in C: ARP, ICMP echo, IPv4
 * forwarding (TTL, checksums, next-hop resolution), longest-prefix match,
 * ICMP errors, parameters, and malformed frames. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "frames.h"
#include "programmer/fp_modules.h"

#define S 1000000000ull

static const uint8_t MAC_L1[6] = {0x02, 0xaa, 0, 0, 0, 1};
static const uint8_t MAC_L2[6] = {0x02, 0xaa, 0, 0, 0, 2};
static const uint8_t MAC_L3[6] = {0x02, 0xaa, 0, 0, 0, 3};
static const uint8_t MAC_H1[6] = {0x02, 0xbb, 0, 0, 0, 1};
static const uint8_t MAC_NH2[6] = {0x02, 0xbb, 0, 0, 0, 2};
static const uint8_t MAC_NH3[6] = {0x02, 0xbb, 0, 0, 0, 3};
static const uint8_t BCAST[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

struct fix {
    struct capture cap;
    struct vnode_port_info ports[3];
    struct vnode_env env;
    void *r;
    uint8_t f[64][1600];
    uint32_t len[64];
    struct vnode_meta meta[64];
};

static const struct vnode_module *R = &vnode_mod_router;

static int setup_with(void **st, const struct vnode_param *p, int n)
{
    struct fix *x = calloc(1, sizeof(*x));
    char *err = NULL;

    x->ports[0] = (struct vnode_port_info){"l1", {0}};
    x->ports[1] = (struct vnode_port_info){"l2", {0}};
    x->ports[2] = (struct vnode_port_info){"l3", {0}};
    memcpy(x->ports[0].mac, MAC_L1, 6);
    memcpy(x->ports[1].mac, MAC_L2, 6);
    memcpy(x->ports[2].mac, MAC_L3, 6);
    x->env = (struct vnode_env){3, x->ports, cap_emit, &x->cap};
    x->r = R->init(&x->env, p, n, &err);
    if (x->r == NULL) {
        fprintf(stderr, "init: %s\n", err);
        free(err);
        free(x);
        return -1;
    }
    *st = x;
    return 0;
}

static const struct vnode_param STD[] = {
    {"address", "l1:10.0.1.1/24"},       {"address", "l2:10.0.2.1/24"},
    {"address", "l3:10.0.4.1/24"},       {"route", "10.0.3.0/24:l2:10.0.2.2"},
    {"route", "10.0.0.0/8:l3:10.0.4.2"}, {"route", "10.0.3.128/25:l3:10.0.4.2"},
};

static int setup(void **st)
{
    return setup_with(st, STD, sizeof(STD) / sizeof(STD[0]));
}

static int teardown(void **st)
{
    struct fix *x = *st;

    R->fini(x->r);
    free(x);
    return 0;
}

/* Processes frame 0 alone on 'port' at 'now'. */
static int run1(struct fix *x, int port, uint64_t now)
{
    run_batch(R, x->r, x->f, x->len, 1, port, now, x->meta);
    return x->meta[0].out;
}

/* Teaches the router next hop 'ip' on 'port' with an ARP reply to it. */
static void learn(struct fix *x, int port, const uint8_t *mac, uint32_t ip,
                  uint32_t router_ip, uint64_t now)
{
    x->len[0] = build_arp(x->f[0], x->ports[port].mac, VNODE_ARP_REPLY, mac, ip,
                          x->ports[port].mac, router_ip);
    assert_int_equal(run1(x, port, now), VNODE_DROP);
}

static void test_arp_request_answered(void **st)
{
    struct fix *x = *st;
    const uint8_t *a = x->f[0] + VNODE_ETH_HLEN;

    x->len[0] = build_arp(x->f[0], BCAST, VNODE_ARP_REQUEST, MAC_H1,
                          ipv4(10, 0, 1, 2), NULL, ipv4(10, 0, 1, 1));
    assert_int_equal(run1(x, 0, 0), 0);
    assert_int_equal(x->len[0], 42);
    assert_memory_equal(x->f[0] + VNODE_ETH_DST, MAC_H1, 6);
    assert_memory_equal(x->f[0] + VNODE_ETH_SRC, MAC_L1, 6);
    assert_int_equal(vnode_rd16(a + VNODE_ARP_OP), VNODE_ARP_REPLY);
    assert_memory_equal(a + VNODE_ARP_SHA, MAC_L1, 6);
    assert_int_equal(vnode_rd32n(a + VNODE_ARP_SPA), ipv4(10, 0, 1, 1));
    assert_memory_equal(a + VNODE_ARP_THA, MAC_H1, 6);
    assert_int_equal(vnode_rd32n(a + VNODE_ARP_TPA), ipv4(10, 0, 1, 2));
    assert_int_equal(x->cap.n, 0);

    /* Not ours, ours on another port, a reply, garbage hardware type. */
    x->len[0] = build_arp(x->f[0], BCAST, VNODE_ARP_REQUEST, MAC_H1,
                          ipv4(10, 0, 1, 2), NULL, ipv4(10, 0, 1, 9));
    assert_int_equal(run1(x, 0, 0), VNODE_DROP);
    x->len[0] = build_arp(x->f[0], BCAST, VNODE_ARP_REQUEST, MAC_H1,
                          ipv4(10, 0, 1, 2), NULL, ipv4(10, 0, 2, 1));
    assert_int_equal(run1(x, 0, 0), VNODE_DROP);
    x->len[0] = build_arp(x->f[0], MAC_L1, VNODE_ARP_REPLY, MAC_H1,
                          ipv4(10, 0, 1, 2), MAC_L1, ipv4(10, 0, 1, 1));
    assert_int_equal(run1(x, 0, 0), VNODE_DROP);
    x->len[0] = build_arp(x->f[0], BCAST, VNODE_ARP_REQUEST, MAC_H1,
                          ipv4(10, 0, 1, 2), NULL, ipv4(10, 0, 1, 1));
    x->f[0][VNODE_ETH_HLEN + 1] = 6; /* htype 6 */
    assert_int_equal(run1(x, 0, 0), VNODE_DROP);
    assert_int_equal(x->cap.n, 0);
}

static void test_echo_reply(void **st)
{
    struct fix *x = *st;
    const uint8_t *ip = x->f[0] + VNODE_ETH_HLEN, *icmp = ip + VNODE_IP_HLEN;

    x->len[0] = build_ipv4(x->f[0], MAC_L1, MAC_H1, ipv4(10, 0, 1, 2),
                           ipv4(10, 0, 2, 1), 64, VNODE_IPPROTO_ICMP, 64);
    assert_int_equal(run1(x, 0, 0), 0);
    assert_memory_equal(x->f[0] + VNODE_ETH_DST, MAC_H1, 6);
    assert_memory_equal(x->f[0] + VNODE_ETH_SRC, MAC_L1, 6);
    assert_int_equal(vnode_rd32n(ip + VNODE_IP_SRC), ipv4(10, 0, 2, 1));
    assert_int_equal(vnode_rd32n(ip + VNODE_IP_DST), ipv4(10, 0, 1, 2));
    assert_true(ip_csum_ok(x->f[0]));
    assert_int_equal(icmp[VNODE_ICMP_TYPE], VNODE_ICMP_ECHO_REPLY);
    assert_int_equal(vnode_csum_add(0, icmp, 64), 0xffff);

    /* UDP to the router, echo to a router address from another MAC, and an
     * echo reply to us: all dropped without answer. */
    x->len[0] = build_ipv4(x->f[0], MAC_L1, MAC_H1, ipv4(10, 0, 1, 2),
                           ipv4(10, 0, 1, 1), 64, 17, 16);
    assert_int_equal(run1(x, 0, 0), VNODE_DROP);
    x->len[0] = build_ipv4(x->f[0], MAC_NH2, MAC_H1, ipv4(10, 0, 1, 2),
                           ipv4(10, 0, 1, 1), 64, VNODE_IPPROTO_ICMP, 16);
    assert_int_equal(run1(x, 0, 0), VNODE_DROP);
    x->len[0] = build_ipv4(x->f[0], MAC_L1, MAC_H1, ipv4(10, 0, 1, 2),
                           ipv4(10, 0, 1, 1), 64, VNODE_IPPROTO_ICMP, 16);
    x->f[0][VNODE_ETH_HLEN + VNODE_IP_HLEN] = VNODE_ICMP_ECHO_REPLY;
    assert_int_equal(run1(x, 0, 0), VNODE_DROP);
    assert_int_equal(x->cap.n, 0);
}

/* First packet toward an unresolved next hop waits for ARP; the reply
 * releases it; the next packet goes straight out. */
static void test_forward_resolves_next_hop(void **st)
{
    struct fix *x = *st;
    const uint8_t *a, *ip;

    x->len[0] = build_ipv4(x->f[0], MAC_L1, MAC_H1, ipv4(10, 0, 1, 2),
                           ipv4(10, 0, 3, 5), 64, 17, 100);
    assert_int_equal(run1(x, 0, 0), VNODE_DROP);
    assert_int_equal(x->cap.n, 1); /* the ARP request */
    assert_int_equal(x->cap.port[0], 1);
    a = x->cap.data[0] + VNODE_ETH_HLEN;
    assert_memory_equal(x->cap.data[0] + VNODE_ETH_DST, BCAST, 6);
    assert_memory_equal(x->cap.data[0] + VNODE_ETH_SRC, MAC_L2, 6);
    assert_int_equal(vnode_rd16(x->cap.data[0] + VNODE_ETH_TYPE),
                     VNODE_ETH_P_ARP);
    assert_int_equal(vnode_rd16(a + VNODE_ARP_OP), VNODE_ARP_REQUEST);
    assert_memory_equal(a + VNODE_ARP_SHA, MAC_L2, 6);
    assert_int_equal(vnode_rd32n(a + VNODE_ARP_SPA), ipv4(10, 0, 2, 1));
    assert_int_equal(vnode_rd32n(a + VNODE_ARP_TPA), ipv4(10, 0, 2, 2));
    assert_true(x->cap.len[0] >= 42);

    /* A second packet while unresolved: queued, no second request yet. */
    x->len[0] = build_ipv4(x->f[0], MAC_L1, MAC_H1, ipv4(10, 0, 1, 2),
                           ipv4(10, 0, 3, 6), 64, 17, 100);
    assert_int_equal(run1(x, 0, S / 10), VNODE_DROP);
    assert_int_equal(x->cap.n, 1);

    /* The reply flushes both, with MACs filled and TTL 63. */
    learn(x, 1, MAC_NH2, ipv4(10, 0, 2, 2), ipv4(10, 0, 2, 1), S / 5);
    assert_int_equal(x->cap.n, 3);
    for (int i = 1; i < 3; i++) {
        ip = x->cap.data[i] + VNODE_ETH_HLEN;
        assert_int_equal(x->cap.port[i], 1);
        assert_int_equal(x->cap.len[i], 14 + 20 + 100);
        assert_memory_equal(x->cap.data[i] + VNODE_ETH_DST, MAC_NH2, 6);
        assert_memory_equal(x->cap.data[i] + VNODE_ETH_SRC, MAC_L2, 6);
        assert_int_equal(ip[VNODE_IP_TTL], 63);
        assert_true(ip_csum_ok(x->cap.data[i]));
        assert_int_equal(vnode_rd32n(ip + VNODE_IP_DST),
                         ipv4(10, 0, 3, i == 1 ? 5 : 6));
    }

    /* Resolved now: forwarded in place. */
    x->len[0] = build_ipv4(x->f[0], MAC_L1, MAC_H1, ipv4(10, 0, 1, 2),
                           ipv4(10, 0, 3, 7), 2, 6, 40);
    assert_int_equal(run1(x, 0, S), 1);
    ip = x->f[0] + VNODE_ETH_HLEN;
    assert_int_equal(ip[VNODE_IP_TTL], 1);
    assert_true(ip_csum_ok(x->f[0]));
    assert_memory_equal(x->f[0] + VNODE_ETH_DST, MAC_NH2, 6);
    assert_int_equal(x->cap.n, 3);
}

/* The incremental checksum update equals a full recomputation for every
 * TTL and many header contents. */
static void test_ttl_checksum_property(void **st)
{
    struct fix *x = *st;

    learn(x, 1, MAC_NH2, ipv4(10, 0, 2, 2), ipv4(10, 0, 2, 1), 0);
    srand(7);
    for (int ttl = 2; ttl < 256; ttl++) {
        for (int k = 0; k < 20; k++) {
            uint8_t *ip = x->f[0] + VNODE_ETH_HLEN;
            uint8_t want[20];
            x->len[0] = build_ipv4(x->f[0], MAC_L1, MAC_H1,
                                   ipv4(10, 0, 1, rand() % 250 + 2),
                                   ipv4(10, 0, 3, rand() % 120 + 1),
                                   (uint8_t)ttl, (uint8_t)(rand() % 256), 30);
            vnode_wr16(ip + VNODE_IP_ID, (uint16_t)rand());
            vnode_wr16(ip + VNODE_IP_CSUM, 0);
            vnode_wr16(ip + VNODE_IP_CSUM, vnode_csum(ip, 20));
            memcpy(want, ip, 20);
            want[VNODE_IP_TTL]--;
            vnode_wr16(want + VNODE_IP_CSUM, 0);
            uint16_t full = vnode_csum(want, 20);
            assert_int_equal(run1(x, 0, 1), 1);
            /* 0x0000 and 0xffff are the same one's-complement value */
            uint16_t got = vnode_rd16(ip + VNODE_IP_CSUM);
            assert_true(got == full || (got ^ full) == 0xffff);
            assert_true(ip_csum_ok(x->f[0]));
        }
    }
}

static void test_ttl_expired(void **st)
{
    struct fix *x = *st;
    const uint8_t *ip, *icmp;
    uint8_t orig[34];

    for (int ttl = 0; ttl <= 1; ttl++) {
        x->cap.n = 0;
        x->len[0] = build_ipv4(x->f[0], MAC_L1, MAC_H1, ipv4(10, 0, 1, 2),
                               ipv4(10, 0, 3, 5), (uint8_t)ttl, 17, 50);
        memcpy(orig, x->f[0], sizeof(orig));
        assert_int_equal(run1(x, 0, 0), VNODE_DROP);
        assert_int_equal(x->cap.n, 1);
        assert_int_equal(x->cap.port[0], 0);
        ip = x->cap.data[0] + VNODE_ETH_HLEN;
        icmp = ip + VNODE_IP_HLEN;
        assert_memory_equal(x->cap.data[0] + VNODE_ETH_DST, MAC_H1, 6);
        assert_memory_equal(x->cap.data[0] + VNODE_ETH_SRC, MAC_L1, 6);
        assert_true(ip_csum_ok(x->cap.data[0]));
        assert_int_equal(ip[VNODE_IP_PROTO], VNODE_IPPROTO_ICMP);
        assert_int_equal(vnode_rd32n(ip + VNODE_IP_SRC), ipv4(10, 0, 1, 1));
        assert_int_equal(vnode_rd32n(ip + VNODE_IP_DST), ipv4(10, 0, 1, 2));
        assert_int_equal(icmp[VNODE_ICMP_TYPE], VNODE_ICMP_TIME_EXCEEDED);
        assert_int_equal(vnode_rd16(ip + VNODE_IP_TOTLEN), 20 + 8 + 28);
        assert_int_equal(vnode_csum_add(0, icmp, 8 + 28), 0xffff);
        /* quotes the original header as received */
        assert_memory_equal(icmp + 8, orig + 14, 20);
    }
    /* No ICMP error about an ICMP error. */
    x->cap.n = 0;
    x->len[0] = build_ipv4(x->f[0], MAC_L1, MAC_H1, ipv4(10, 0, 1, 2),
                           ipv4(10, 0, 3, 5), 1, VNODE_IPPROTO_ICMP, 36);
    uint8_t *icmp_w = x->f[0] + 34;
    icmp_w[VNODE_ICMP_TYPE] = VNODE_ICMP_UNREACH;
    assert_int_equal(run1(x, 0, 0), VNODE_DROP);
    assert_int_equal(x->cap.n, 0);
    /* icmp=off: silence */
    char *err = NULL;
    assert_int_equal(R->configure(x->r, "icmp", "off", &err), 0);
    x->len[0] = build_ipv4(x->f[0], MAC_L1, MAC_H1, ipv4(10, 0, 1, 2),
                           ipv4(10, 0, 3, 5), 1, 17, 50);
    assert_int_equal(run1(x, 0, 0), VNODE_DROP);
    assert_int_equal(x->cap.n, 0);
}

static void test_lpm_overlapping_routes(void **st)
{
    struct fix *x = *st;

    learn(x, 1, MAC_NH2, ipv4(10, 0, 2, 2), ipv4(10, 0, 2, 1), 0);
    learn(x, 2, MAC_NH3, ipv4(10, 0, 4, 2), ipv4(10, 0, 4, 1), 0);
    struct {
        uint32_t dst;
        int port;
        const uint8_t *mac;
    } cases[] = {
        {ipv4(10, 0, 3, 9), 1, MAC_NH2},   /* 10.0.3.0/24 */
        {ipv4(10, 0, 3, 200), 2, MAC_NH3}, /* 10.0.3.128/25 */
        {ipv4(10, 0, 9, 9), 2, MAC_NH3},   /* 10.0.0.0/8 */
        {ipv4(10, 0, 2, 2), 1, MAC_NH2},   /* connected 10.0.2.0/24 */
        {ipv4(10, 0, 4, 2), 2, MAC_NH3},   /* connected 10.0.4.0/24 */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        x->len[0] = build_ipv4(x->f[0], MAC_L1, MAC_H1, ipv4(10, 0, 1, 2),
                               cases[i].dst, 64, 17, 20);
        assert_int_equal(run1(x, 0, 1), cases[i].port);
        assert_memory_equal(x->f[0], cases[i].mac, 6);
    }
    /* No route: dropped with an ICMP net unreachable back to the source. */
    x->cap.n = 0;
    x->len[0] = build_ipv4(x->f[0], MAC_L1, MAC_H1, ipv4(10, 0, 1, 2),
                           ipv4(192, 0, 2, 1), 64, 17, 20);
    assert_int_equal(run1(x, 0, 1), VNODE_DROP);
    assert_int_equal(x->cap.n, 1);
    assert_int_equal(x->cap.data[0][34 + VNODE_ICMP_TYPE], VNODE_ICMP_UNREACH);
    /* A default route catches it afterwards; a later /8 route replaces
     * the earlier one for the same prefix. */
    char *err = NULL;
    assert_int_equal(R->configure(x->r, "route", "default:l2:10.0.2.2", &err),
                     0);
    assert_int_equal(run1(x, 0, 1), 1);
    assert_int_equal(
        R->configure(x->r, "route", "10.0.0.0/8:l2:10.0.2.2", &err), 0);
    x->len[0] = build_ipv4(x->f[0], MAC_L1, MAC_H1, ipv4(10, 0, 1, 2),
                           ipv4(10, 0, 9, 9), 64, 17, 20);
    assert_int_equal(run1(x, 0, 1), 1);
}

static void test_arp_gives_up(void **st)
{
    struct fix *x = *st;

    x->len[0] = build_ipv4(x->f[0], MAC_L1, MAC_H1, ipv4(10, 0, 1, 2),
                           ipv4(10, 0, 3, 5), 64, 17, 20);
    assert_int_equal(run1(x, 0, 0), VNODE_DROP);
    assert_int_equal(x->cap.n, 1);
    R->tick(x->r, S / 2);
    assert_int_equal(x->cap.n, 1); /* not yet a second */
    R->tick(x->r, S);
    R->tick(x->r, 2 * S);
    assert_int_equal(x->cap.n, 3); /* three requests in all */
    R->tick(x->r, 3 * S);
    assert_int_equal(x->cap.n, 3); /* given up, queue dropped */
    learn(x, 1, MAC_NH2, ipv4(10, 0, 2, 2), ipv4(10, 0, 2, 1), 4 * S);
    assert_int_equal(x->cap.n, 3); /* nothing old released */
    /* and resolved entries expire after 300 s */
    x->len[0] = build_ipv4(x->f[0], MAC_L1, MAC_H1, ipv4(10, 0, 1, 2),
                           ipv4(10, 0, 3, 5), 64, 17, 20);
    assert_int_equal(run1(x, 0, 5 * S), 1);
    R->tick(x->r, 305 * S);
    x->len[0] = build_ipv4(x->f[0], MAC_L1, MAC_H1, ipv4(10, 0, 1, 2),
                           ipv4(10, 0, 3, 5), 64, 17, 20);
    assert_int_equal(run1(x, 0, 305 * S), VNODE_DROP);
    assert_int_equal(x->cap.n, 4); /* a new request */
}

static void test_params(void **st)
{
    static const struct {
        const char *key, *value, *msg;
    } bad[] = {
        {"address", "10.0.1.1/24", "PORT:A.B.C.D/LEN"},
        {"address", "l9:10.0.1.1/24", "no port named 'l9'"},
        {"address", "l1:10.0.1.1", "unicast A.B.C.D/LEN"},
        {"address", "l1:10.0.1.1/33", "unicast"},
        {"address", "l1:224.0.0.1/4", "unicast"},
        {"address", "l1:10.0.1.300/24", "unicast"},
        {"address", "l1:10.0.1.1/24", "given twice"},
        {"route", "10.0.3.0/24", "PREFIX/LEN:PORT"},
        {"route", "10.0.3.1/24:l2", "bits set beyond /24"},
        {"route", "10.0.3.0/24:l7:10.0.2.2", "no port named 'l7'"},
        {"route", "10.0.3.0/24:l2:10.0.2", "next hop"},
        {"route", "10.0.3.0/-1:l2", "not A.B.C.D/LEN"},
        {"route", "banana:l2", "not A.B.C.D/LEN"},
        {"icmp", "maybe", "on or off"},
        {"mtu", "1500", "no parameter 'mtu'"},
    };
    struct fix *x = *st;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char *err = NULL;
        assert_int_equal(R->configure(x->r, bad[i].key, bad[i].value, &err),
                         -1);
        assert_non_null(err);
        if (strstr(err, bad[i].msg) == NULL)
            fail_msg("%s=%s: got '%s', want '%s'", bad[i].key, bad[i].value,
                     err, bad[i].msg);
        free(err);
    }
    /* The dry run programmerd does. */
    const char *names[] = {"l1", "l2"};
    const struct vnode_param ok[] = {{"address", "l1:10.0.1.1/24"},
                                     {"route", "default:l2:10.0.2.2"}};
    const struct vnode_param ko[] = {{"address", "l3:10.0.1.1/24"}};
    assert_null(fp_module_check_params(R, names, 2, ok, 2));
    char *msg = fp_module_check_params(R, names, 2, ko, 1);
    assert_non_null(msg);
    assert_non_null(strstr(msg, "no port named 'l3'"));
    free(msg);
    msg = fp_module_check_key(R, "bogus");
    assert_non_null(strstr(msg, "address, route, icmp"));
    free(msg);
    assert_null(fp_module_check_key(R, "route"));
    assert_ptr_equal(fp_module_find("router"), R);
    assert_null(fp_module_find("nosuch"));
}

/* Truncations of valid frames, broken headers and random bytes: dropped
 * (or at worst answered correctly), never read out of bounds (ASan). */
static void test_malformed(void **st)
{
    struct fix *x = *st;
    uint8_t good[3][1600];
    uint32_t good_len[3];

    learn(x, 1, MAC_NH2, ipv4(10, 0, 2, 2), ipv4(10, 0, 2, 1), 0);
    good_len[0] = build_ipv4(good[0], MAC_L1, MAC_H1, ipv4(10, 0, 1, 2),
                             ipv4(10, 0, 3, 5), 64, 17, 60);
    good_len[1] = build_arp(good[1], BCAST, VNODE_ARP_REQUEST, MAC_H1,
                            ipv4(10, 0, 1, 2), NULL, ipv4(10, 0, 1, 1));
    good_len[2] = build_ipv4(good[2], MAC_L1, MAC_H1, ipv4(10, 0, 1, 2),
                             ipv4(10, 0, 1, 1), 64, VNODE_IPPROTO_ICMP, 40);
    for (int g = 0; g < 3; g++) {
        for (uint32_t cut = 0; cut < good_len[g]; cut++) {
            /* a heap copy of exactly 'cut' bytes, so ASan sees overreads */
            uint8_t *f = malloc(cut ? cut : 1);
            struct vnode_pkt p = {f, cut};
            struct vnode_meta m;
            struct vnode_batch b = {&p, 1, 0};
            memcpy(f, good[g], cut);
            fp_parse(f, cut, 0, &m);
            R->process(x->r, &b, &m);
            /* the ARP request (42 B) and truncated padding cases aside,
             * nothing shorter than the headers is answered */
            if (cut < 34)
                assert_int_equal(m.out, VNODE_DROP);
            free(f);
        }
    }
    /* bad IP checksum, bad version, IHL < 5, total length > frame */
    for (int k = 0; k < 4; k++) {
        memcpy(x->f[0], good[0], good_len[0]);
        x->len[0] = good_len[0];
        uint8_t *ip = x->f[0] + 14;
        if (k == 0)
            ip[VNODE_IP_CSUM] ^= 1;
        if (k == 1)
            ip[0] = 0x65;
        if (k == 2)
            ip[0] = 0x44;
        if (k == 3)
            vnode_wr16(ip + VNODE_IP_TOTLEN, 1500);
        if (k != 0) {
            vnode_wr16(ip + VNODE_IP_CSUM, 0);
            vnode_wr16(ip + VNODE_IP_CSUM, vnode_csum(ip, 20));
        }
        assert_int_equal(run1(x, 0, 1), VNODE_DROP);
    }
    /* random garbage, with the router's MAC and IPv4/ARP types mixed in */
    srand(99);
    x->cap.n = 0;
    for (int i = 0; i < 20000; i++) {
        uint32_t len = (uint32_t)(rand() % 120);
        uint8_t *f = malloc(len ? len : 1);
        for (uint32_t j = 0; j < len; j++)
            f[j] = (uint8_t)rand();
        if (len >= 14 && i % 2) {
            memcpy(f, MAC_L1, 6);
            vnode_wr16(f + 12, i % 4 == 1 ? VNODE_ETH_P_IPV4 : VNODE_ETH_P_ARP);
        }
        if (len >= 34 && i % 4 == 1) {
            f[14] = 0x45;
            vnode_wr16(f + 16, (uint16_t)(len - 14 - (uint32_t)(rand() % 3)));
            vnode_wr16(f + 24, 0);
            vnode_wr16(f + 24, vnode_csum(f + 14, 20));
        }
        struct vnode_pkt p = {f, len};
        struct vnode_meta m;
        struct vnode_batch b = {&p, 1, (uint64_t)i * 1000};
        fp_parse(f, len, (uint16_t)(i % 3), &m);
        R->process(x->r, &b, &m);
        assert_true(m.out == VNODE_DROP || (m.out >= 0 && m.out < 3));
        if (x->cap.n > 50)
            x->cap.n = 0;
        free(f);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_arp_request_answered, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_echo_reply, setup, teardown),
        cmocka_unit_test_setup_teardown(test_forward_resolves_next_hop, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_ttl_checksum_property, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_ttl_expired, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lpm_overlapping_routes, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_arp_gives_up, setup, teardown),
        cmocka_unit_test_setup_teardown(test_params, setup, teardown),
        cmocka_unit_test_setup_teardown(test_malformed, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
