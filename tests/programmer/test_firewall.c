/* The firewall module on packet traces built in C: rule order, ranges and
 * prefixes, directions, the default policy, stateful reverse traffic and
 * its expiry, non-IP frames (ARP), per-rule counters, parameters, and
 * truncated or random frames. Frames that pass must pass unchanged. */
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
#include "programmer/fw_rule.h"

#define S 1000000000ull

static const uint8_t MAC_A[6] = {0x02, 0xbb, 0, 0, 0, 1}; /* on port 0 */
static const uint8_t MAC_B[6] = {0x02, 0xbb, 0, 0, 0, 2}; /* on port 1 */
static const uint8_t BCAST[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

#define A ipv4(10, 0, 1, 2)
#define B ipv4(10, 0, 1, 3)
#define B2 ipv4(10, 0, 2, 3)

struct fix {
    struct capture cap;
    struct vnode_port_info ports[2];
    struct vnode_env env;
    void *fw;
    uint8_t f[64][1600];
    uint32_t len[64];
    struct vnode_meta meta[64];
};

static const struct vnode_module *F = &vnode_mod_firewall;

static struct fix *make(const struct vnode_param *p, int n, char **err)
{
    struct fix *x = calloc(1, sizeof(*x));

    x->ports[0] = (struct vnode_port_info){"l1", {0x02, 0xaa, 0, 0, 0, 1}};
    x->ports[1] = (struct vnode_port_info){"l2", {0x02, 0xaa, 0, 0, 0, 2}};
    x->env = (struct vnode_env){2, x->ports, cap_emit, &x->cap};
    x->fw = F->init(&x->env, p, n, err);
    if (x->fw == NULL) {
        free(x);
        return NULL;
    }
    return x;
}

static struct fix *make_ok(const struct vnode_param *p, int n)
{
    char *err = NULL;
    struct fix *x = make(p, n, &err);

    if (x == NULL)
        fail_msg("init: %s", err);
    return x;
}

static void destroy(struct fix *x)
{
    F->fini(x->fw);
    free(x);
}

static long long stat(struct fix *x, const char *key)
{
    char buf[4096], want[64];
    size_t need = F->stats(x->fw, buf, sizeof(buf));

    assert_true(need < sizeof(buf));
    snprintf(want, sizeof(want), "%s=", key);
    for (const char *p = buf; p != NULL && *p; p = strchr(p, '\n') + 1) {
        if (strncmp(p, want, strlen(want)) == 0)
            return atoll(p + strlen(want));
        if (strchr(p, '\n') == NULL)
            break;
    }
    fail_msg("no stat %s in:\n%s", key, buf);
    return -1;
}

/* Sends packet proto/src:sport -> dst:dport in on 'port' at 'now';
 * returns where it goes, and checks that a passing frame is unchanged. */
static int pkt(struct fix *x, int port, uint8_t proto, uint32_t src,
               uint16_t sport, uint32_t dst, uint16_t dport, uint8_t flags,
               uint64_t now)
{
    uint8_t copy[1600];

    x->len[0] = build_l4(x->f[0], port ? MAC_A : MAC_B, port ? MAC_B : MAC_A,
                         src, dst, proto, sport, dport, flags, 10);
    memcpy(copy, x->f[0], x->len[0]);
    run_batch(F, x->fw, x->f, x->len, 1, port, now, x->meta);
    if (x->meta[0].out != VNODE_DROP) {
        assert_int_equal(x->meta[0].out, 1 - port);
        assert_memory_equal(copy, x->f[0], x->len[0]);
    }
    return x->meta[0].out;
}

static void test_rule_order(void **st)
{
    const struct vnode_param p[] = {
        {"rule", "20:accept:in:tcp:any:any:any:22"},
        {"rule", "10:drop:in:tcp:any:any:10.0.1.0/24:22"},
        {"rule", "30:accept:any:udp:any:any:any:any"},
        {"default", "drop"},
        {"stateful", "off"},
    };
    struct fix *x = make_ok(p, 5);

    (void)st;
    assert_int_equal(pkt(x, 0, 6, A, 999, B, 22, FP_TCP_SYN, 0), VNODE_DROP);
    assert_int_equal(pkt(x, 0, 6, A, 999, B2, 22, FP_TCP_SYN, 0), 1);
    assert_int_equal(pkt(x, 0, 6, A, 999, B2, 23, FP_TCP_SYN, 0), VNODE_DROP);
    assert_int_equal(pkt(x, 1, 17, B, 53, A, 999, 0, 0), 0);
    assert_int_equal(pkt(x, 0, 1, A, 5, B, 0, 0, 0), VNODE_DROP);
    assert_int_equal(stat(x, "rule.10.hits"), 1);
    assert_int_equal(stat(x, "rule.20.hits"), 1);
    assert_int_equal(stat(x, "rule.30.hits"), 1);
    assert_int_equal(stat(x, "rule.10.bytes"), 14 + 20 + 20 + 10);
    assert_int_equal(stat(x, "default_hits"), 2);
    assert_int_equal(stat(x, "accepted"), 2);
    assert_int_equal(stat(x, "dropped"), 3);
    /* a rule with an existing N replaces it */
    char *err = NULL;
    assert_int_equal(
        F->configure(x->fw, "rule", "10:accept:in:tcp:any:any:any:22", &err),
        0);
    assert_int_equal(pkt(x, 0, 6, A, 999, B, 22, FP_TCP_SYN, 0), 1);
    assert_int_equal(stat(x, "rule.10.hits"), 1);
    destroy(x);
}

static void test_ranges_and_prefixes(void **st)
{
    const struct vnode_param p[] = {
        {"rule", "1:accept:in:udp:10.0.1.0/30:1000-2000:any:any"},
        {"rule", "2:accept:in:tcp:any:any:10.0.2.3:8000-8001"},
        {"rule", "3:accept:in:any:10.0.2.0/24:any:any:any"},
        {"default", "drop"},
        {"stateful", "off"},
    };
    struct fix *x = make_ok(p, 5);
    const struct {
        uint8_t proto;
        uint32_t src;
        uint16_t sport;
        uint32_t dst;
        uint16_t dport;
        int out;
    } c[] = {
        {17, ipv4(10, 0, 1, 0), 1000, B, 1, 1},
        {17, ipv4(10, 0, 1, 3), 2000, B, 1, 1},
        {17, ipv4(10, 0, 1, 4), 1000, B, 1, VNODE_DROP}, /* outside /30 */
        {17, A, 999, B, 1, VNODE_DROP},
        {17, A, 2001, B, 1, VNODE_DROP},
        {6, A, 1000, B, 1, VNODE_DROP}, /* rule 1 is udp */
        {6, A, 1, B2, 8000, 1},
        {6, A, 1, B2, 8001, 1},
        {6, A, 1, B2, 8002, VNODE_DROP},
        {6, A, 1, ipv4(10, 0, 2, 4), 8000, VNODE_DROP},
        {1, ipv4(10, 0, 2, 200), 1, A, 0, 1}, /* rule 3, any protocol */
        {17, ipv4(10, 0, 3, 1), 1, A, 0, VNODE_DROP},
    };

    (void)st;
    for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++)
        if (pkt(x, 0, c[i].proto, c[i].src, c[i].sport, c[i].dst, c[i].dport, 0,
                0) != c[i].out)
            fail_msg("case %zu: wrong verdict", i);
    /* direction: these rules are 'in' only */
    assert_int_equal(pkt(x, 1, 17, ipv4(10, 0, 1, 1), 1500, B, 1, 0, 0),
                     VNODE_DROP);
    destroy(x);
}

static void test_default_policy(void **st)
{
    const struct vnode_param acc[] = {
        {"rule", "1:drop:out:any:any:any:any:any"}};
    struct fix *x = make_ok(acc, 1);

    (void)st;
    assert_int_equal(pkt(x, 0, 17, A, 1, B, 2, 0, 0), 1); /* default accept */
    assert_int_equal(pkt(x, 1, 17, B, 2, A, 1, 0, 0), 0); /* reply: state */
    assert_int_equal(pkt(x, 1, 17, B, 3, A, 1, 0, 0), VNODE_DROP);
    assert_int_equal(stat(x, "state_hits"), 1);
    destroy(x);
}

static void test_stateful(void **st)
{
    const struct vnode_param p[] = {
        {"rule", "10:accept:in:tcp:any:any:any:5202"},
        {"rule", "20:accept:in:icmp:any:any:any:any"},
        {"rule", "30:accept:in:udp:any:any:any:53"},
        {"default", "drop"},
        {"timeout_tcp", "100"},
    };
    struct fix *x = make_ok(p, 5);

    (void)st;
    /* the reply direction of accepted flows passes, others do not */
    assert_int_equal(pkt(x, 0, 6, A, 40000, B, 5202, FP_TCP_SYN, 0), 1);
    assert_int_equal(
        pkt(x, 1, 6, B, 5202, A, 40000, FP_TCP_SYN | FP_TCP_ACK, 0), 0);
    assert_int_equal(pkt(x, 1, 6, B, 5202, A, 40001, FP_TCP_ACK, 0),
                     VNODE_DROP);
    assert_int_equal(pkt(x, 1, 6, B, 40000, A, 5202, FP_TCP_SYN, 0),
                     VNODE_DROP);
    assert_int_equal(pkt(x, 0, 1, A, 9, B, 0, 0, 0), 1); /* echo */
    assert_int_equal(pkt(x, 1, 1, B, 9, A, 0, 1, 0), 0); /* reply */
    assert_int_equal(pkt(x, 1, 1, B, 8, A, 0, 0, 0), VNODE_DROP);
    assert_int_equal(pkt(x, 0, 17, A, 7, B, 53, 0, 0), 1);
    assert_int_equal(pkt(x, 1, 17, B, 53, A, 7, 0, 59 * S), 0);
    assert_int_equal(stat(x, "flows_active"), 3);
    /* idle timeouts: UDP 60 s from the last packet, ICMP 30, TCP 100 */
    assert_int_equal(pkt(x, 1, 1, B, 9, A, 0, 1, 31 * S), VNODE_DROP);
    assert_int_equal(pkt(x, 1, 17, B, 53, A, 7, 0, 118 * S), 0);
    assert_int_equal(pkt(x, 1, 6, B, 5202, A, 40000, FP_TCP_ACK, 99 * S), 0);
    assert_int_equal(pkt(x, 1, 6, B, 5202, A, 40000, FP_TCP_ACK, 200 * S),
                     VNODE_DROP);
    F->tick(x->fw, 178 * S);
    assert_int_equal(stat(x, "flows_active"), 0);
    /* RST: 10 s */
    assert_int_equal(pkt(x, 0, 6, A, 40002, B, 5202, FP_TCP_SYN, 300 * S), 1);
    assert_int_equal(pkt(x, 1, 6, B, 5202, A, 40002, FP_TCP_RST, 301 * S), 0);
    assert_int_equal(pkt(x, 1, 6, B, 5202, A, 40002, FP_TCP_ACK, 312 * S),
                     VNODE_DROP);
    /* stateful=off: replies meet the rules */
    char *err = NULL;
    assert_int_equal(F->configure(x->fw, "stateful", "off", &err), 0);
    assert_int_equal(pkt(x, 0, 1, A, 9, B, 0, 0, 400 * S), 1);
    assert_int_equal(pkt(x, 1, 1, B, 9, A, 0, 1, 400 * S), VNODE_DROP);
    destroy(x);
}

static void test_table_full(void **st)
{
    const struct vnode_param p[] = {
        {"max_flows", "1"},
        {"default", "drop"},
        {"rule", "1:accept:in:any:any:any:any:any"}};
    struct fix *x = make_ok(p, 3);

    (void)st;
    assert_int_equal(pkt(x, 0, 17, A, 1, B, 2, 0, 0), 1);
    assert_int_equal(pkt(x, 0, 17, A, 3, B, 2, 0, 0), 1); /* untracked */
    assert_int_equal(stat(x, "untracked"), 1);
    assert_int_equal(pkt(x, 1, 17, B, 2, A, 1, 0, 0), 0);
    assert_int_equal(pkt(x, 1, 17, B, 2, A, 3, 0, 0), VNODE_DROP);
    destroy(x);
}

static void test_nonip(void **st)
{
    const struct vnode_param drop_all[] = {{"default", "drop"}};
    const struct vnode_param no_nonip[] = {{"pass_nonip", "off"}};
    struct fix *x = make_ok(drop_all, 1);
    uint8_t copy[64];

    (void)st;
    for (int port = 0; port < 2; port++) {
        x->len[0] =
            build_arp(x->f[0], BCAST, VNODE_ARP_REQUEST, MAC_A, A, NULL, B);
        memcpy(copy, x->f[0], x->len[0]);
        run_batch(F, x->fw, x->f, x->len, 1, port, 0, x->meta);
        assert_int_equal(x->meta[0].out, 1 - port);
        assert_memory_equal(copy, x->f[0], x->len[0]);
    }
    /* IPv6 (any other ethertype) too */
    x->len[0] = 60;
    memset(x->f[0], 0, 60);
    put_eth(x->f[0], BCAST, MAC_A, 0x86dd);
    run_batch(F, x->fw, x->f, x->len, 1, 0, 0, x->meta);
    assert_int_equal(x->meta[0].out, 1);
    assert_int_equal(stat(x, "nonip_passed"), 3);
    destroy(x);
    x = make_ok(no_nonip, 1);
    x->len[0] = build_arp(x->f[0], BCAST, VNODE_ARP_REQUEST, MAC_A, A, NULL, B);
    run_batch(F, x->fw, x->f, x->len, 1, 0, 0, x->meta);
    assert_int_equal(x->meta[0].out, VNODE_DROP);
    assert_int_equal(stat(x, "nonip_dropped"), 1);
    destroy(x);
}

static void test_rule_syntax(void **st)
{
    static const struct {
        const char *text, *msg;
    } bad[] = {
        {"10:drop:in:tcp:any:any:any", "is not N:ACTION"},
        {"10:drop:in:tcp:any:any:any:22:9", "is not N:ACTION"},
        {"x:drop:in:tcp:any:any:any:22", "N 'x'"},
        {"10:reject:in:tcp:any:any:any:22", "ACTION 'reject'"},
        {"10:drop:up:tcp:any:any:any:22", "DIR 'up'"},
        {"10:drop:in:sctp:any:any:any:22", "PROTO 'sctp'"},
        {"10:drop:in:tcp:10.0.1.1/24:any:any:22", "SRC '10.0.1.1/24'"},
        {"10:drop:in:tcp:any:any:10.0.1:22", "DST '10.0.1'"},
        {"10:drop:in:tcp:any:70000:any:22", "SPORT '70000'"},
        {"10:drop:in:tcp:any:any:any:30-20", "DPORT '30-20'"},
        {"10:drop:in:tcp:any:any:any:", "DPORT ''"},
        {"10:drop:in:icmp:any:any:any:22", "has no ports"},
        {"10:drop:in:any:any:5:any:any", "has no ports"},
    };
    struct fw_rule r;

    (void)st;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char *err = fw_rule_parse(bad[i].text, &r);
        if (err == NULL || strstr(err, bad[i].msg) == NULL)
            fail_msg("'%s': got '%s', want '%s'", bad[i].text, err, bad[i].msg);
        free(err);
    }
    assert_null(fw_rule_parse("0:accept:any:any:any:any:any:any", &r));
    assert_false(r.ports);
    assert_null(fw_rule_parse("7:drop:out:udp:10.1.0.0/16:53:1.2.3.4:1-9", &r));
    assert_int_equal(r.num, 7);
    assert_int_equal(r.dir, FW_OUT);
    assert_int_equal(r.proto, 17);
    assert_int_equal(r.src, 0x0a010000);
    assert_int_equal(r.src_mask, 0xffff0000);
    assert_int_equal(r.dst_mask, 0xffffffff);
    assert_int_equal(r.sport_lo, 53);
    assert_int_equal(r.sport_hi, 53);
    assert_int_equal(r.dport_hi, 9);
    /* module parameters */
    static const struct vnode_param bad_params[][1] = {
        {{"default", "reject"}}, {{"stateful", "yes"}}, {{"pass_nonip", "1"}},
        {{"timeout_udp", "0"}},  {{"max_flows", "x"}},  {{"colour", "red"}},
    };
    for (size_t i = 0; i < sizeof(bad_params) / sizeof(bad_params[0]); i++) {
        char *err = NULL;
        assert_null(make(bad_params[i], 1, &err));
        assert_non_null(err);
        free(err);
    }
    /* exactly two ports */
    struct vnode_env env1 = {1, NULL, cap_emit, NULL};
    char *err = NULL;
    assert_null(F->init(&env1, NULL, 0, &err));
    assert_non_null(strstr(err, "exactly two ports"));
    free(err);
    assert_ptr_equal(fp_module_find("firewall"), F);
}

static void test_malformed(void **st)
{
    const struct vnode_param p[] = {{"default", "accept"}};
    struct fix *x = make_ok(p, 1);
    uint8_t good[3][1600];
    uint32_t good_len[3];

    (void)st;
    for (int g = 0; g < 3; g++) {
        uint8_t proto = g == 0 ? 6 : g == 1 ? 17 : 1;
        good_len[g] = build_l4(good[g], MAC_B, MAC_A, A, B, proto, 1, 2, 0, 12);
    }
    for (int g = 0; g < 3; g++) {
        for (uint32_t cut = 0; cut < good_len[g]; cut++) {
            uint8_t *f = malloc(cut ? cut : 1);
            struct vnode_pkt pk = {f, cut};
            struct vnode_meta m;
            struct vnode_batch b = {&pk, 1, 0};
            memcpy(f, good[g], cut);
            fp_parse(f, cut, 0, &m);
            F->process(x->fw, &b, &m);
            /* a cut IPv4 packet (total length beyond the frame) is broken */
            if (cut >= 14)
                assert_int_equal(m.out, VNODE_DROP);
            free(f);
        }
    }
    assert_true(stat(x, "drop_malformed") > 0);
    srand(11);
    for (int i = 0; i < 20000; i++) {
        uint32_t len = (uint32_t)(rand() % 120);
        uint8_t *f = malloc(len ? len : 1);
        for (uint32_t j = 0; j < len; j++)
            f[j] = (uint8_t)rand();
        if (len >= 34 && i % 2) {
            vnode_wr16(f + 12, VNODE_ETH_P_IPV4);
            f[14] = 0x45;
            f[14 + 9] = (uint8_t)(i % 3 == 0 ? 6 : i % 3 == 1 ? 17 : 1);
            vnode_wr16(f + 16, (uint16_t)(len - 14 - (uint32_t)(rand() % 3)));
            vnode_wr16(f + 20, 0);
            vnode_wr16(f + 24, 0);
            vnode_wr16(f + 24, vnode_csum(f + 14, 20));
        }
        struct vnode_pkt pk = {f, len};
        struct vnode_meta m;
        struct vnode_batch b = {&pk, 1, (uint64_t)i * 1000};
        fp_parse(f, len, (uint16_t)(i % 3), &m);
        F->process(x->fw, &b, &m);
        assert_true(m.out == VNODE_DROP || m.out == 0 || m.out == 1);
        free(f);
    }
    destroy(x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rule_order),
        cmocka_unit_test(test_ranges_and_prefixes),
        cmocka_unit_test(test_default_policy),
        cmocka_unit_test(test_stateful),
        cmocka_unit_test(test_table_full),
        cmocka_unit_test(test_nonip),
        cmocka_unit_test(test_rule_syntax),
        cmocka_unit_test(test_malformed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
