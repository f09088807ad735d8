/* The NAT module on packet traces built in C: translation out and back for
 * TCP, UDP (with and without checksum) and ICMP echo, checksums checked
 * against an independent reference, expiry with passed-in time, TCP
 * closing, pool and table exhaustion, unsolicited traffic, fragments,
 * parameters, and truncated or random frames. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "frames.h"
#include "programmer/fp_flow.h"
#include "programmer/fp_modules.h"

#define S 1000000000ull

static const uint8_t MAC_IN[6] = {0x02, 0xaa, 0, 0, 0, 1};  /* NAT, inside */
static const uint8_t MAC_OUT[6] = {0x02, 0xaa, 0, 0, 0, 2}; /* NAT, outside */
static const uint8_t MAC_C1[6] = {0x02, 0xbb, 0, 0, 0, 1};  /* client */
static const uint8_t MAC_SV[6] = {0x02, 0xcc, 0, 0, 0, 1};  /* server */
static const uint8_t BCAST[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

#define C1 ipv4(10, 0, 1, 2)
#define C2 ipv4(10, 0, 1, 3)
#define NAT_IN ipv4(10, 0, 1, 1)
#define NAT_OUT ipv4(198, 18, 0, 1)
#define EXT ipv4(198, 18, 0, 10)
#define SV ipv4(198, 18, 0, 2)

struct fix {
    struct capture cap;
    struct vnode_port_info ports[2];
    struct vnode_env env;
    void *n;
    uint8_t f[64][1600];
    uint32_t len[64];
    struct vnode_meta meta[64];
};

static const struct vnode_module *N = &vnode_mod_nat;

static struct fix *make(const struct vnode_param *p, int n, char **err)
{
    struct fix *x = calloc(1, sizeof(*x));

    x->ports[0] = (struct vnode_port_info){"l1", {0}};
    x->ports[1] = (struct vnode_port_info){"l2", {0}};
    memcpy(x->ports[0].mac, MAC_IN, 6);
    memcpy(x->ports[1].mac, MAC_OUT, 6);
    x->env = (struct vnode_env){2, x->ports, cap_emit, &x->cap};
    x->n = N->init(&x->env, p, n, err);
    if (x->n == NULL) {
        free(x);
        return NULL;
    }
    return x;
}

static int run1(struct fix *x, int port, uint64_t now)
{
    run_batch(N, x->n, x->f, x->len, 1, port, now, x->meta);
    return x->meta[0].out;
}

/* Teaches the NAT the client (inside) and the server (outside). */
static void learn_hosts(struct fix *x)
{
    x->len[0] =
        build_arp(x->f[0], MAC_IN, VNODE_ARP_REPLY, MAC_C1, C1, MAC_IN, NAT_IN);
    assert_int_equal(run1(x, 0, 0), VNODE_DROP);
    x->len[0] = build_arp(x->f[0], MAC_OUT, VNODE_ARP_REPLY, MAC_SV, SV,
                          MAC_OUT, NAT_OUT);
    assert_int_equal(run1(x, 1, 0), VNODE_DROP);
    x->len[0] =
        build_arp(x->f[0], MAC_IN, VNODE_ARP_REPLY, MAC_C1, C2, MAC_IN, NAT_IN);
    assert_int_equal(run1(x, 0, 0), VNODE_DROP);
    x->cap.n = 0;
}

static struct fix *make_learned(const struct vnode_param *p, int n)
{
    char *err = NULL;
    struct fix *x = make(p, n, &err);

    if (x == NULL)
        fail_msg("init: %s", err);
    learn_hosts(x);
    return x;
}

static const struct vnode_param STD[] = {
    {"inside", "l1"},
    {"outside", "l2"},
    {"address", "l1:10.0.1.1/24"},
    {"address", "l2:198.18.0.1/24"},
    {"external", "198.18.0.10"},
};
#define N_STD ((int)(sizeof(STD) / sizeof(STD[0])))

static int setup(void **st)
{
    *st = make_learned(STD, N_STD);
    return 0;
}

static int teardown(void **st)
{
    struct fix *x = *st;

    if (x != NULL) {
        N->fini(x->n);
        free(x);
    }
    return 0;
}

/* The value of counter 'key' in the module's stats. */
static long long stat(struct fix *x, const char *key)
{
    char buf[2048], want[64];
    size_t need = N->stats(x->n, buf, sizeof(buf));
    const char *p;

    assert_true(need < sizeof(buf));
    snprintf(want, sizeof(want), "%s=", key);
    for (p = buf; p != NULL; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
        if (strncmp(p, want, strlen(want)) == 0)
            return atoll(p + strlen(want));
    fail_msg("no stat %s in:\n%s", key, buf);
    return -1;
}

static uint8_t *ip_of(struct fix *x)
{
    return x->f[0] + VNODE_ETH_HLEN;
}

static uint8_t *l4_of(struct fix *x)
{
    return x->f[0] + VNODE_ETH_HLEN + 20;
}

/* Sends a client packet out; checks the translation; returns the external
 * port (or echo id) it got. */
static uint16_t out_ok(struct fix *x, uint32_t src, uint8_t proto,
                       uint16_t sport, uint16_t dport, uint8_t flags,
                       uint64_t now)
{
    uint16_t ext;

    x->len[0] = build_l4(x->f[0], MAC_IN, MAC_C1, src, SV, proto, sport, dport,
                         flags, 30);
    assert_int_equal(run1(x, 0, now), 1);
    assert_memory_equal(x->f[0] + VNODE_ETH_DST, MAC_SV, 6);
    assert_memory_equal(x->f[0] + VNODE_ETH_SRC, MAC_OUT, 6);
    assert_int_equal(vnode_rd32n(ip_of(x) + VNODE_IP_SRC), EXT);
    assert_int_equal(vnode_rd32n(ip_of(x) + VNODE_IP_DST), SV);
    assert_int_equal(ip_of(x)[VNODE_IP_TTL], 63);
    assert_true(ip_csum_ok(x->f[0]));
    assert_true(l4_csum_ok(x->f[0]));
    if (proto == 1) {
        ext = vnode_rd16(l4_of(x) + 4);
    } else {
        ext = vnode_rd16(l4_of(x));
        assert_int_equal(vnode_rd16(l4_of(x) + 2), dport);
    }
    assert_true(ext >= 20000 && ext <= 59999);
    return ext;
}

/* The server's reply to external port 'ext'; returns the output port. */
static int reply(struct fix *x, uint8_t proto, uint16_t sport, uint16_t ext,
                 uint8_t flags, uint64_t now)
{
    x->len[0] =
        build_l4(x->f[0], MAC_OUT, MAC_SV, SV, EXT, proto,
                 proto == 1 ? ext : sport, ext, proto == 1 ? 1 : flags, 30);
    return run1(x, 1, now);
}

static void back_ok(struct fix *x, uint32_t dst, uint8_t proto, uint16_t sport,
                    uint16_t dport)
{
    assert_memory_equal(x->f[0] + VNODE_ETH_DST, MAC_C1, 6);
    assert_memory_equal(x->f[0] + VNODE_ETH_SRC, MAC_IN, 6);
    assert_int_equal(vnode_rd32n(ip_of(x) + VNODE_IP_SRC), SV);
    assert_int_equal(vnode_rd32n(ip_of(x) + VNODE_IP_DST), dst);
    assert_true(ip_csum_ok(x->f[0]));
    assert_true(l4_csum_ok(x->f[0]));
    if (proto == 1) {
        assert_int_equal(l4_of(x)[0], VNODE_ICMP_ECHO_REPLY);
        assert_int_equal(vnode_rd16(l4_of(x) + 4), sport);
    } else {
        assert_int_equal(vnode_rd16(l4_of(x)), sport);
        assert_int_equal(vnode_rd16(l4_of(x) + 2), dport);
    }
}

static void test_tcp_out_and_back(void **st)
{
    struct fix *x = *st;
    uint16_t e1, e2;

    e1 = out_ok(x, C1, 6, 40000, 5201, FP_TCP_SYN, 1 * S);
    assert_int_equal(reply(x, 6, 5201, e1, FP_TCP_SYN | FP_TCP_ACK, 1 * S), 0);
    back_ok(x, C1, 6, 5201, 40000);
    /* the same flow keeps its port; another client gets another one */
    assert_int_equal(out_ok(x, C1, 6, 40000, 5201, FP_TCP_ACK, 2 * S), e1);
    e2 = out_ok(x, C2, 6, 40000, 5201, FP_TCP_SYN, 2 * S);
    assert_int_not_equal(e1, e2);
    x->len[0] = 0;
    assert_int_equal(reply(x, 6, 5201, e2, FP_TCP_ACK, 2 * S), 0);
    assert_int_equal(vnode_rd32n(ip_of(x) + VNODE_IP_DST), C2);
    assert_int_equal(stat(x, "flows_active"), 2);
    assert_int_equal(stat(x, "out_packets"), 3);
    assert_int_equal(stat(x, "in_packets"), 2);
    /* a reply from another server port or address is not this flow */
    assert_int_equal(reply(x, 6, 5202, e1, FP_TCP_ACK, 2 * S), VNODE_DROP);
    assert_int_equal(stat(x, "drop_unsolicited"), 1);
}

static void test_udp_checksums(void **st)
{
    struct fix *x = *st;
    uint16_t e;
    int saw_ffff = 0;

    e = out_ok(x, C1, 17, 5353, 53, 0, 0);
    assert_int_equal(reply(x, 17, 53, e, 0, 0), 0);
    back_ok(x, C1, 17, 53, 5353);
    /* checksum 0 = none: stays 0 both ways */
    x->len[0] = build_l4(x->f[0], MAC_IN, MAC_C1, C1, SV, 17, 5353, 53, 0, 30);
    vnode_wr16(l4_of(x) + 6, 0);
    assert_int_equal(run1(x, 0, 0), 1);
    assert_int_equal(vnode_rd16(l4_of(x) + 6), 0);
    assert_int_equal(vnode_rd16(l4_of(x)), e);
    assert_true(ip_csum_ok(x->f[0]));
    x->len[0] = build_l4(x->f[0], MAC_OUT, MAC_SV, SV, EXT, 17, 53, e, 0, 30);
    vnode_wr16(l4_of(x) + 6, 0);
    assert_int_equal(run1(x, 1, 0), 0);
    assert_int_equal(vnode_rd16(l4_of(x) + 6), 0);
    /* every payload word: the translated checksum always verifies and is
     * never 0 (a computed 0 is sent as 0xffff) */
    for (uint32_t w = 0; w < 65536; w++) {
        x->len[0] =
            build_l4(x->f[0], MAC_IN, MAC_C1, C1, SV, 17, 5353, 53, 0, 2);
        vnode_wr16(l4_of(x) + 8, (uint16_t)w);
        l4_csum_set(x->f[0]);
        assert_int_equal(run1(x, 0, 0), 1);
        uint16_t c = vnode_rd16(l4_of(x) + 6);
        if (c == 0 || !l4_csum_ok(x->f[0]))
            fail_msg("payload %04x: checksum %04x", w, c);
        saw_ffff |= c == 0xffff;
    }
    assert_true(saw_ffff);
}

static void test_icmp_echo(void **st)
{
    struct fix *x = *st;
    uint16_t e1, e2;

    e1 = out_ok(x, C1, 1, 77, 0, 0, 0);
    e2 = out_ok(x, C2, 1, 77, 0, 0, 0); /* same id, another host */
    assert_int_not_equal(e1, e2);
    assert_int_equal(reply(x, 1, 0, e2, 0, 0), 0);
    back_ok(x, C2, 1, 77, 0);
    assert_int_equal(reply(x, 1, 0, e1, 0, 0), 0);
    back_ok(x, C1, 1, 77, 0);
    /* pings to the NAT's addresses are answered, the external one too */
    uint32_t to[] = {NAT_IN, EXT, NAT_OUT};
    for (int i = 0; i < 3; i++) {
        int port = i == 0 ? 0 : 1;
        x->len[0] =
            build_l4(x->f[0], port ? MAC_OUT : MAC_IN, port ? MAC_SV : MAC_C1,
                     port ? SV : C1, to[i], 1, 9, 0, 0, 20);
        assert_int_equal(run1(x, port, 0), port);
        assert_int_equal(l4_of(x)[0], VNODE_ICMP_ECHO_REPLY);
        assert_int_equal(vnode_rd32n(ip_of(x) + VNODE_IP_SRC), to[i]);
        assert_true(l4_csum_ok(x->f[0]));
    }
    /* other ICMP types from outside are not translated */
    x->len[0] = build_l4(x->f[0], MAC_OUT, MAC_SV, SV, EXT, 1, e1, 0, 1, 20);
    l4_of(x)[0] = VNODE_ICMP_UNREACH;
    l4_csum_set(x->f[0]);
    assert_int_equal(run1(x, 1, 0), VNODE_DROP);
    assert_int_equal(stat(x, "drop_proto"), 1);
}

static void test_arp_for_external(void **st)
{
    struct fix *x = *st;
    const uint8_t *a = x->f[0] + VNODE_ETH_HLEN;

    x->len[0] =
        build_arp(x->f[0], BCAST, VNODE_ARP_REQUEST, MAC_SV, SV, NULL, EXT);
    assert_int_equal(run1(x, 1, 0), 1);
    assert_memory_equal(a + VNODE_ARP_SHA, MAC_OUT, 6);
    assert_int_equal(vnode_rd32n(a + VNODE_ARP_SPA), EXT);
    /* not on the inside */
    x->len[0] =
        build_arp(x->f[0], BCAST, VNODE_ARP_REQUEST, MAC_C1, C1, NULL, EXT);
    assert_int_equal(run1(x, 0, 0), VNODE_DROP);
}

static void test_expiry(void **st)
{
    struct fix *x = *st;
    uint16_t eu, ei, et;

    eu = out_ok(x, C1, 17, 1000, 53, 0, 0);
    ei = out_ok(x, C1, 1, 1000, 0, 0, 0);
    et = out_ok(x, C1, 6, 1000, 80, FP_TCP_SYN, 0);
    /* replies keep flows alive (idle time counts from the last packet) */
    assert_int_equal(reply(x, 17, 53, eu, 0, 59 * S), 0);
    assert_int_equal(reply(x, 1, 0, ei, 0, 29 * S), 0);
    assert_int_equal(reply(x, 17, 53, eu, 0, 118 * S), 0);
    /* ICMP idle 30 s, UDP 60 s, TCP 300 s */
    assert_int_equal(reply(x, 1, 0, ei, 0, 60 * S), VNODE_DROP);
    N->tick(x->n, 177 * S);
    assert_int_equal(stat(x, "flows_active"), 2);
    N->tick(x->n, 178 * S); /* 60 s after the last packet */
    assert_int_equal(stat(x, "flows_active"), 1);
    assert_int_equal(reply(x, 17, 53, eu, 0, 178 * S), VNODE_DROP);
    assert_int_equal(reply(x, 6, 80, et, FP_TCP_ACK, 299 * S), 0);
    assert_int_equal(reply(x, 6, 80, et, FP_TCP_ACK, 599 * S), VNODE_DROP);
    assert_int_equal(stat(x, "flows_expired"), 3);
    assert_int_equal(stat(x, "flows_active"), 0);
    assert_int_equal(stat(x, "drop_unsolicited"), 3);
}

static void test_tcp_closing(void **st)
{
    struct fix *x = *st;
    uint16_t e = out_ok(x, C1, 6, 1000, 80, FP_TCP_SYN, 0);

    assert_int_equal(reply(x, 6, 80, e, FP_TCP_SYN | FP_TCP_ACK, 0), 0);
    out_ok(x, C1, 6, 1000, 80, FP_TCP_FIN | FP_TCP_ACK, 1 * S);
    /* one FIN: still the long timeout */
    assert_int_equal(reply(x, 6, 80, e, FP_TCP_ACK, 100 * S), 0);
    assert_int_equal(reply(x, 6, 80, e, FP_TCP_FIN | FP_TCP_ACK, 101 * S), 0);
    /* FIN both ways: 10 s */
    assert_int_equal(reply(x, 6, 80, e, FP_TCP_ACK, 110 * S), 0);
    assert_int_equal(reply(x, 6, 80, e, FP_TCP_ACK, 121 * S), VNODE_DROP);
    /* RST at once */
    e = out_ok(x, C1, 6, 1001, 80, FP_TCP_SYN, 200 * S);
    assert_int_equal(reply(x, 6, 80, e, FP_TCP_RST, 200 * S), 0);
    assert_int_equal(reply(x, 6, 80, e, FP_TCP_ACK, 211 * S), VNODE_DROP);
}

static void test_pool_exhausted(void **st)
{
    const struct vnode_param p[] = {
        {"inside", "l1"},
        {"outside", "l2"},
        {"address", "l1:10.0.1.1/24"},
        {"address", "l2:198.18.0.1/24"},
        {"external", "198.18.0.10"},
        {"ports", "20000-20001"},
        {"timeout_udp", "10"},
    };
    struct fix *x = make_learned(p, 7);
    uint16_t a, b;

    *st = x;
    a = out_ok(x, C1, 17, 1, 53, 0, 0);
    b = out_ok(x, C1, 17, 2, 53, 0, 0);
    assert_true((a == 20000 && b == 20001) || (a == 20001 && b == 20000));
    x->len[0] = build_l4(x->f[0], MAC_IN, MAC_C1, C1, SV, 17, 3, 53, 0, 30);
    assert_int_equal(run1(x, 0, 0), VNODE_DROP);
    assert_int_equal(stat(x, "drop_pool"), 1);
    /* other protocols have their own pool */
    out_ok(x, C1, 6, 3, 53, FP_TCP_SYN, 0);
    out_ok(x, C1, 1, 3, 0, 0, 0);
    /* once flow 1 expires its port is free again */
    out_ok(x, C1, 17, 2, 53, 0, 5 * S);
    x->len[0] = build_l4(x->f[0], MAC_IN, MAC_C1, C1, SV, 17, 3, 53, 0, 30);
    assert_int_equal(run1(x, 0, 11 * S), VNODE_DROP); /* not yet swept */
    N->tick(x->n, 11 * S);
    assert_int_equal(out_ok(x, C1, 17, 3, 53, 0, 11 * S), a);
    assert_int_equal(stat(x, "drop_pool"), 2);
}

static void test_table_full(void **st)
{
    const struct vnode_param p[] = {
        {"inside", "l1"},
        {"outside", "l2"},
        {"address", "l1:10.0.1.1/24"},
        {"address", "l2:198.18.0.1/24"},
        {"external", "198.18.0.10"},
        {"max_flows", "2"},
    };
    struct fix *x = make_learned(p, 6);

    *st = x;
    out_ok(x, C1, 17, 1, 53, 0, 0);
    out_ok(x, C1, 6, 2, 53, FP_TCP_SYN, 0);
    x->len[0] = build_l4(x->f[0], MAC_IN, MAC_C1, C1, SV, 1, 3, 0, 0, 30);
    assert_int_equal(run1(x, 0, 0), VNODE_DROP);
    assert_int_equal(stat(x, "drop_table_full"), 1);
    /* a full table sweeps expired flows before refusing */
    out_ok(x, C1, 1, 3, 0, 0, 61 * S);
}

static void test_unsolicited(void **st)
{
    struct fix *x = *st;

    /* to the external address without a flow, any protocol */
    x->len[0] = build_l4(x->f[0], MAC_OUT, MAC_SV, SV, EXT, 6, 80, 20000,
                         FP_TCP_SYN, 0);
    assert_int_equal(run1(x, 1, 0), VNODE_DROP);
    x->len[0] =
        build_l4(x->f[0], MAC_OUT, MAC_SV, SV, EXT, 17, 53, 30000, 0, 0);
    assert_int_equal(run1(x, 1, 0), VNODE_DROP);
    x->len[0] = build_l4(x->f[0], MAC_OUT, MAC_SV, SV, EXT, 1, 20000, 0, 1, 0);
    assert_int_equal(run1(x, 1, 0), VNODE_DROP);
    /* straight at an inside host: nothing is routed in untranslated */
    x->len[0] =
        build_l4(x->f[0], MAC_OUT, MAC_SV, SV, C1, 6, 80, 22, FP_TCP_SYN, 0);
    assert_int_equal(run1(x, 1, 0), VNODE_DROP);
    assert_int_equal(stat(x, "drop_unsolicited"), 4);
    /* an outbound flow's reply key cannot be opened from inside */
    assert_int_equal(stat(x, "flows_active"), 0);
    assert_int_equal(x->cap.n, 0);
}

static void test_routing_and_ttl(void **st)
{
    struct fix *x = *st;

    /* beyond the outside subnet without a gateway: net unreachable */
    x->len[0] = build_l4(x->f[0], MAC_IN, MAC_C1, C1, ipv4(8, 8, 8, 8), 17, 1,
                         53, 0, 10);
    assert_int_equal(run1(x, 0, 0), VNODE_DROP);
    assert_int_equal(stat(x, "drop_noroute"), 1);
    assert_int_equal(x->cap.n, 1);
    assert_int_equal(x->cap.data[0][VNODE_ETH_HLEN + 20], VNODE_ICMP_UNREACH);
    /* TTL 1: time exceeded, no flow */
    x->len[0] = build_l4(x->f[0], MAC_IN, MAC_C1, C1, SV, 17, 1, 53, 0, 10);
    ip_of(x)[VNODE_IP_TTL] = 1;
    vnode_wr16(ip_of(x) + VNODE_IP_CSUM, 0);
    vnode_wr16(ip_of(x) + VNODE_IP_CSUM, vnode_csum(ip_of(x), 20));
    assert_int_equal(run1(x, 0, 0), VNODE_DROP);
    assert_int_equal(stat(x, "drop_ttl"), 1);
    assert_int_equal(x->cap.n, 2);
    assert_int_equal(x->cap.data[1][VNODE_ETH_HLEN + 20],
                     VNODE_ICMP_TIME_EXCEEDED);
    assert_int_equal(stat(x, "flows_active"), 0);
    /* with a gateway the packet goes to the gateway's MAC (after ARP) */
    const struct vnode_param p[] = {
        {"inside", "l1"},
        {"outside", "l2"},
        {"address", "l1:10.0.1.1/24"},
        {"address", "l2:198.18.0.1/24"},
        {"gateway", "198.18.0.2"},
    };
    struct fix *y = make_learned(p, 5);
    y->len[0] = build_l4(y->f[0], MAC_IN, MAC_C1, C1, ipv4(8, 8, 8, 8), 17, 1,
                         53, 0, 10);
    run_batch(N, y->n, y->f, y->len, 1, 0, 0, y->meta);
    assert_int_equal(y->meta[0].out, 1);
    assert_memory_equal(y->f[0] + VNODE_ETH_DST, MAC_SV, 6);
    /* default external = the outside port's address */
    assert_int_equal(vnode_rd32n(y->f[0] + VNODE_ETH_HLEN + VNODE_IP_SRC),
                     NAT_OUT);
    N->fini(y->n);
    free(y);
}

static void test_fragments(void **st)
{
    struct fix *x = *st;

    /* first fragment (MF, offset 0): translated like any packet */
    x->len[0] = build_l4(x->f[0], MAC_IN, MAC_C1, C1, SV, 17, 7, 53, 0, 100);
    vnode_wr16(ip_of(x) + VNODE_IP_FRAG, 0x2000);
    vnode_wr16(ip_of(x) + VNODE_IP_CSUM, 0);
    vnode_wr16(ip_of(x) + VNODE_IP_CSUM, vnode_csum(ip_of(x), 20));
    assert_int_equal(run1(x, 0, 0), 1);
    assert_true(ip_csum_ok(x->f[0]));
    assert_true(l4_csum_ok(x->f[0]));
    /* the next fragments are dropped both ways */
    for (int port = 0; port < 2; port++) {
        x->len[0] =
            build_ipv4(x->f[0], port ? MAC_OUT : MAC_IN, port ? MAC_SV : MAC_C1,
                       port ? SV : C1, port ? EXT : SV, 64, 17, 40);
        vnode_wr16(ip_of(x) + VNODE_IP_FRAG, 0x0010); /* offset 128 */
        vnode_wr16(ip_of(x) + VNODE_IP_CSUM, 0);
        vnode_wr16(ip_of(x) + VNODE_IP_CSUM, vnode_csum(ip_of(x), 20));
        assert_int_equal(run1(x, port, 0), VNODE_DROP);
    }
    assert_int_equal(stat(x, "drop_fragment"), 2);
}

static void test_params(void **st)
{
    static const struct {
        const char *key, *value, *msg;
    } bad[] = {
        {"inside", "l9", "no port named"},
        {"external", "10.0.0", "not a unicast"},
        {"external", "224.0.0.1", "not a unicast"},
        {"gateway", "x", "not a unicast"},
        {"timeout_tcp", "0", "1..604800"},
        {"timeout_udp", "-5", "1..604800"},
        {"ports", "5", "LOW-HIGH"},
        {"ports", "600-500", "LOW <= HIGH"},
        {"ports", "0-10", "LOW <= HIGH"},
        {"ports", "1-65536", "LOW <= HIGH"},
        {"max_flows", "0", "1..1048576"},
        {"address", "l1:10.0.1.300/24", "unicast"},
        {"mtu", "1500", "no parameter 'mtu'"},
    };
    (void)st;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct vnode_param p[N_STD + 1];
        char *err = NULL;
        memcpy(p, STD, sizeof(STD));
        p[N_STD] = (struct vnode_param){bad[i].key, bad[i].value};
        assert_null(make(p, N_STD + 1, &err));
        assert_non_null(err);
        if (strstr(err, bad[i].msg) == NULL)
            fail_msg("%s=%s: got '%s', want '%s'", bad[i].key, bad[i].value,
                     err, bad[i].msg);
        free(err);
    }
    static const struct {
        int drop; /* STD element left out, -1 none */
        const struct vnode_param extra;
        const char *msg;
    } whole[] = {
        {0, {"max_flows", "5"}, "inside=PORT and outside=PORT"},
        {-1, {"inside", "l2"}, "two different ports"},
        {2, {"max_flows", "5"}, "an address on each side"},
        {-1, {"gateway", "10.0.1.7"}, "no subnet of the outside port"},
        {4, {"external", "10.0.1.1"}, "on the inside port"},
    };
    for (size_t i = 0; i < sizeof(whole) / sizeof(whole[0]); i++) {
        struct vnode_param p[N_STD + 1];
        char *err = NULL;
        int n = 0;
        for (int j = 0; j < N_STD; j++)
            if (j != whole[i].drop)
                p[n++] = STD[j];
        p[n++] = whole[i].extra;
        assert_null(make(p, n, &err));
        if (err == NULL || strstr(err, whole[i].msg) == NULL)
            fail_msg("case %zu: got '%s', want '%s'", i, err, whole[i].msg);
        free(err);
    }
    /* at run time only the timeouts change */
    struct fix *x = make_learned(STD, N_STD);
    char *err = NULL;
    assert_int_equal(N->configure(x->n, "timeout_udp", "5", &err), 0);
    assert_int_equal(N->configure(x->n, "ports", "1-2", &err), -1);
    assert_non_null(strstr(err, "only be given at start"));
    free(err);
    uint16_t e = out_ok(x, C1, 17, 1, 53, 0, 0);
    assert_int_equal(reply(x, 17, 53, e, 0, 6 * S), VNODE_DROP);
    N->fini(x->n);
    free(x);
    /* the dry run programmerd does, and the registry */
    const char *names[] = {"l1", "l2"};
    assert_null(fp_module_check_params(N, names, 2, STD, N_STD));
    assert_ptr_equal(fp_module_find("nat"), N);
    char *msg = fp_module_check_key(N, "bogus");
    assert_non_null(strstr(msg, "inside, outside, address"));
    free(msg);
}

/* Truncations of valid frames and random bytes: never read out of bounds
 * (ASan), never forwarded when broken. */
static void test_malformed(void **st)
{
    struct fix *x = *st;
    uint8_t good[6][1600];
    uint32_t good_len[6];
    int port[6] = {0, 0, 0, 1, 1, 1};
    uint16_t e[3];

    e[0] = out_ok(x, C1, 6, 1, 80, FP_TCP_SYN, 0);
    e[1] = out_ok(x, C1, 17, 1, 53, 0, 0);
    e[2] = out_ok(x, C1, 1, 1, 0, 0, 0);
    for (int g = 0; g < 3; g++) {
        uint8_t proto = g == 0 ? 6 : g == 1 ? 17 : 1;
        good_len[g] = build_l4(good[g], MAC_IN, MAC_C1, C1, SV, proto, 1,
                               proto == 1 ? 0 : 80 - 27 * (g == 1), 0, 12);
        good_len[g + 3] = build_l4(good[g + 3], MAC_OUT, MAC_SV, SV, EXT, proto,
                                   proto == 1 ? e[g]
                                   : g        ? 53
                                              : 80,
                                   e[g], proto == 1, 12);
    }
    for (int g = 0; g < 6; g++) {
        for (uint32_t cut = 0; cut < good_len[g]; cut++) {
            uint8_t *f = malloc(cut ? cut : 1);
            struct vnode_pkt p = {f, cut};
            struct vnode_meta m;
            struct vnode_batch b = {&p, 1, 0};
            memcpy(f, good[g], cut);
            /* the IP total length still says the full size */
            fp_parse(f, cut, (uint16_t)port[g], &m);
            N->process(x->n, &b, &m);
            assert_int_equal(m.out, VNODE_DROP);
            free(f);
        }
        /* and with the IP length cut too: L4 headers that do not fit */
        for (uint16_t l4 = 0; l4 < 20; l4++) {
            memcpy(x->f[0], good[g], good_len[g]);
            vnode_wr16(ip_of(x) + VNODE_IP_TOTLEN, (uint16_t)(20 + l4));
            vnode_wr16(ip_of(x) + VNODE_IP_CSUM, 0);
            vnode_wr16(ip_of(x) + VNODE_IP_CSUM, vnode_csum(ip_of(x), 20));
            x->len[0] = 14 + 20 + l4;
            int out = run1(x, port[g], 0);
            int minimum = g % 3 == 0 ? 20 : 8;
            if (l4 < minimum)
                assert_int_equal(out, VNODE_DROP);
        }
    }
    assert_true(stat(x, "drop_malformed") > 0);
    srand(7);
    x->cap.n = 0;
    for (int i = 0; i < 20000; i++) {
        uint32_t len = (uint32_t)(rand() % 120);
        uint8_t *f = malloc(len ? len : 1);
        for (uint32_t j = 0; j < len; j++)
            f[j] = (uint8_t)rand();
        if (len >= 14 && i % 2) {
            memcpy(f, i % 4 == 1 ? MAC_IN : MAC_OUT, 6);
            vnode_wr16(f + 12, i % 8 < 6 ? VNODE_ETH_P_IPV4 : VNODE_ETH_P_ARP);
        }
        if (len >= 34 && i % 8 < 6) {
            f[14] = 0x45;
            f[14 + 9] = (uint8_t)(i % 3 == 0 ? 6 : i % 3 == 1 ? 17 : 1);
            vnode_wr16(f + 16, (uint16_t)(len - 14 - (uint32_t)(rand() % 3)));
            vnode_wr16(f + 20, 0);
            memcpy(f + 30, i % 4 == 1 ? &(uint32_t){SV} : &(uint32_t){EXT}, 4);
            vnode_wr16(f + 24, 0);
            vnode_wr16(f + 24, vnode_csum(f + 14, 20));
        }
        struct vnode_pkt p = {f, len};
        struct vnode_meta m;
        struct vnode_batch b = {&p, 1, (uint64_t)i * 1000};
        fp_parse(f, len, (uint16_t)(i % 2), &m);
        N->process(x->n, &b, &m);
        assert_true(m.out == VNODE_DROP || m.out == 0 || m.out == 1);
        if (x->cap.n > 50)
            x->cap.n = 0;
        free(f);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_tcp_out_and_back, setup, teardown),
        cmocka_unit_test_setup_teardown(test_udp_checksums, setup, teardown),
        cmocka_unit_test_setup_teardown(test_icmp_echo, setup, teardown),
        cmocka_unit_test_setup_teardown(test_arp_for_external, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expiry, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tcp_closing, setup, teardown),
        cmocka_unit_test_teardown(test_pool_exhausted, teardown),
        cmocka_unit_test_teardown(test_table_full, teardown),
        cmocka_unit_test_setup_teardown(test_unsolicited, setup, teardown),
        cmocka_unit_test_setup_teardown(test_routing_and_ttl, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fragments, setup, teardown),
        cmocka_unit_test(test_params),
        cmocka_unit_test_setup_teardown(test_malformed, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
