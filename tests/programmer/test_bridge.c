/* The bridge module on packet traces (learning, flooding, filtering,
 * ageing, moves, bad frames), and the runtime's post-processing around it
 * (flooding to every other port, per-port batches, counters). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "frames.h"
#include "programmer/fp_modules.h"
#include "programmer/fp_run.h"

#define S 1000000000ull

static const uint8_t A[6] = {0x02, 0, 0, 0, 0, 0x0a};
static const uint8_t B[6] = {0x02, 0, 0, 0, 0, 0x0b};
static const uint8_t C[6] = {0x02, 0, 0, 0, 0, 0x0c};
static const uint8_t BCAST[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
static const uint8_t MCAST[6] = {0x01, 0x00, 0x5e, 0, 0, 1};

static const struct vnode_module *M = &vnode_mod_bridge;

struct fix {
    struct capture cap;
    struct vnode_port_info ports[3];
    struct vnode_env env;
    void *br;
    uint8_t f[64][1600];
    uint32_t len[64];
    struct vnode_meta meta[64];
};

static int setup(void **st)
{
    struct fix *x = calloc(1, sizeof(*x));
    const struct vnode_param p[] = {{"aging", "10"}};
    char *err = NULL;

    x->ports[0].name = "p0";
    x->ports[1].name = "p1";
    x->ports[2].name = "p2";
    x->env = (struct vnode_env){3, x->ports, cap_emit, &x->cap};
    x->br = M->init(&x->env, p, 1, &err);
    assert_non_null(x->br);
    *st = x;
    return 0;
}

static int teardown(void **st)
{
    struct fix *x = *st;

    M->fini(x->br);
    free(x);
    return 0;
}

/* Sends one frame dst<-src on 'port' at 'now'; returns the decision. */
static int frame(struct fix *x, const uint8_t *dst, const uint8_t *src,
                 int port, uint64_t now)
{
    x->len[0] = build_ipv4(x->f[0], dst, src, ipv4(10, 0, 0, 1),
                           ipv4(10, 0, 0, 2), 64, 17, 30);
    run_batch(M, x->br, x->f, x->len, 1, port, now, x->meta);
    return x->meta[0].out;
}

static void test_learn_and_forward(void **st)
{
    struct fix *x = *st;

    assert_int_equal(frame(x, B, A, 0, 0), VNODE_FLOOD); /* B unknown */
    assert_int_equal(frame(x, A, B, 1, 1), 0);           /* A learnt on 0 */
    assert_int_equal(frame(x, B, A, 0, 2), 1);           /* B learnt on 1 */
    assert_int_equal(frame(x, BCAST, A, 0, 3), VNODE_FLOOD);
    assert_int_equal(frame(x, MCAST, A, 0, 3), VNODE_FLOOD);
    assert_int_equal(frame(x, C, A, 0, 3), VNODE_FLOOD);
    /* destination on the input port: filtered */
    assert_int_equal(frame(x, A, C, 0, 4), VNODE_DROP);
    assert_int_equal(frame(x, C, B, 1, 4), 0);
    /* A moves to port 2 */
    assert_int_equal(frame(x, B, A, 2, 5), 1);
    assert_int_equal(frame(x, A, B, 1, 6), 2);
    assert_int_equal(x->cap.n, 0);
}

static void test_ageing(void **st)
{
    struct fix *x = *st;

    assert_int_equal(frame(x, B, A, 0, 0), VNODE_FLOOD);
    assert_int_equal(frame(x, A, B, 1, 9 * S), 0);
    assert_int_equal(frame(x, A, B, 1, 10 * S), VNODE_FLOOD); /* aged */
    /* a busy table: 5000 MACs through 4096 slots, no crash, the recent
     * ones still known */
    for (int i = 0; i < 5000; i++) {
        uint8_t m[6] = {0x02, 1, 0, 0, (uint8_t)(i >> 8), (uint8_t)i};
        frame(x, BCAST, m, i % 3, 11 * S);
    }
    uint8_t last[6] = {0x02, 1, 0, 0, (uint8_t)(4999 >> 8), (uint8_t)4999};
    assert_int_equal(frame(x, last, B, 2, 11 * S), 4999 % 3);
}

static void test_bad_frames(void **st)
{
    struct fix *x = *st;

    /* multicast source: dropped, not learnt */
    assert_int_equal(frame(x, B, MCAST, 0, 0), VNODE_DROP);
    assert_int_equal(frame(x, MCAST, B, 1, 0), VNODE_FLOOD);
    for (uint32_t len = 0; len < 14; len++) {
        uint8_t *f = malloc(len ? len : 1);
        struct vnode_pkt p = {f, len};
        struct vnode_meta m;
        struct vnode_batch b = {&p, 1, 0};
        memset(f, 0xee, len);
        fp_parse(f, len, 0, &m);
        M->process(x->br, &b, &m);
        assert_int_equal(m.out, VNODE_DROP);
        free(f);
    }
}

static void test_params(void **st)
{
    struct fix *x = *st;
    const char *bad[] = {"0", "-1", "x", "", "10s", "99999999999"};
    char *err = NULL;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(M->configure(x->br, "aging", bad[i], &err), -1);
        assert_non_null(strstr(err, "aging"));
        free(err);
        err = NULL;
    }
    assert_int_equal(M->configure(x->br, "colour", "blue", &err), -1);
    assert_non_null(strstr(err, "no parameter 'colour'"));
    free(err);
    assert_int_equal(M->configure(x->br, "aging", "1", &err), 0);
    assert_int_equal(frame(x, B, A, 0, 0), VNODE_FLOOD);
    assert_int_equal(frame(x, A, B, 1, S / 2), 0);
    assert_int_equal(frame(x, A, B, 1, S), VNODE_FLOOD);
}

/* ---- the runtime around the bridge ------------------------------------ */

struct sent {
    int n[VNODE_MAX_PORTS];
    int calls[VNODE_MAX_PORTS];
    int refuse; /* accept at most this many per call (-1: all) */
};

static int capture_send(void *ctx, int port, const struct pktio_pkt *pkts,
                        int n)
{
    struct sent *s = ctx;
    int ok = s->refuse >= 0 && n > s->refuse ? s->refuse : n;

    (void)pkts;
    s->n[port] += ok;
    s->calls[port]++;
    return ok;
}

static void test_runtime_flood_and_batches(void **st)
{
    const char *names[] = {"p0", "p1", "p2", "p3"};
    const uint8_t macs[4][6] = {{2, 0, 0, 0, 0, 1},
                                {2, 0, 0, 0, 0, 2},
                                {2, 0, 0, 0, 0, 3},
                                {2, 0, 0, 0, 0, 4}};
    struct sent s = {.refuse = -1};
    struct fp_runtime *rt;
    static uint8_t buf[PKTIO_BURST][1600];
    struct pktio_pkt rx[PKTIO_BURST];
    char *err = NULL;

    (void)st;
    rt = fp_runtime_new(M, names, macs, 4, capture_send, &s);
    assert_non_null(rt);
    assert_int_equal(fp_runtime_start(rt, NULL, 0, &err), 0);
    /* 64 broadcasts on port 1: one batch of 64 on each other port */
    for (int i = 0; i < PKTIO_BURST; i++) {
        uint8_t src[6] = {2, 9, 9, 9, 9, (uint8_t)i};
        rx[i].data = buf[i];
        rx[i].len = build_ipv4(buf[i], BCAST, src, ipv4(10, 0, 0, 1),
                               ipv4(10, 0, 0, 2), 64, 17, 30);
    }
    fp_runtime_input(rt, 1, rx, PKTIO_BURST, 0);
    for (int p = 0; p < 4; p++) {
        assert_int_equal(s.n[p], p == 1 ? 0 : PKTIO_BURST);
        assert_int_equal(s.calls[p], p == 1 ? 0 : 1);
    }
    assert_int_equal(fp_runtime_stats(rt, 1)->rx_packets, PKTIO_BURST);
    assert_int_equal(fp_runtime_stats(rt, 0)->tx_packets, PKTIO_BURST);
    /* replies to the learnt sources, from port 3: all to port 1; the send
     * hook takes only 10, the rest are counted as tx drops */
    memset(&s, 0, sizeof(s));
    s.refuse = 10;
    for (int i = 0; i < PKTIO_BURST; i++) {
        uint8_t dst[6] = {2, 9, 9, 9, 9, (uint8_t)i};
        rx[i].len = build_ipv4(buf[i], dst, macs[3], ipv4(10, 0, 0, 2),
                               ipv4(10, 0, 0, 1), 64, 17, 30);
    }
    fp_runtime_input(rt, 3, rx, PKTIO_BURST, 1);
    assert_int_equal(s.n[1], 10);
    assert_int_equal(fp_runtime_stats(rt, 1)->tx_dropped, PKTIO_BURST - 10);
    /* runts: dropped by the module, counted on the input port */
    rx[0].len = 5;
    fp_runtime_input(rt, 0, rx, 1, 2);
    assert_int_equal(fp_runtime_stats(rt, 0)->dropped, 1);
    assert_string_equal(fp_runtime_port_name(rt, 2), "p2");
    assert_int_equal(fp_runtime_n_ports(rt), 4);
    fp_runtime_free(rt);
    /* bad construction */
    assert_null(fp_runtime_new(M, names, macs, 0, capture_send, &s));
    assert_null(
        fp_runtime_new(M, names, macs, VNODE_MAX_PORTS + 1, capture_send, &s));
}

/* A module that emits frames from process() and tick(), checked through
 * the runtime: emitted frames leave with the batch, flooding excludes the
 * input port, invalid ports are refused. */
static int emitted_in_process;
static const struct vnode_env *test_env;

static void *em_init(const struct vnode_env *env,
                     const struct vnode_param *params, int n, char **err)
{
    (void)params, (void)n, (void)err;
    test_env = env;
    return (void *)1;
}

static void em_process(void *state, struct vnode_batch *b,
                       struct vnode_meta *meta)
{
    uint8_t f[60] = {0};

    (void)state;
    for (int i = 0; i < b->n; i++) {
        meta[i].out = 77; /* invalid port: counted as bad */
        emitted_in_process +=
            test_env->emit(test_env->rt, VNODE_FLOOD, f, sizeof(f)) == 0;
        assert_int_equal(test_env->emit(test_env->rt, 9, f, sizeof(f)), -1);
        assert_int_equal(test_env->emit(test_env->rt, 0, f, 0), -1);
    }
}

static void em_tick(void *state, uint64_t now)
{
    uint8_t f[60] = {0};

    (void)state, (void)now;
    test_env->emit(test_env->rt, 0, f, sizeof(f));
}

static void em_fini(void *state)
{
    (void)state;
}

static void test_runtime_emit(void **st)
{
    static const struct vnode_module em = {
        .abi = VNODE_MODULE_ABI,
        .name = "emitter",
        .summary = "test",
        .init = em_init,
        .process = em_process,
        .tick = em_tick,
        .fini = em_fini,
    };
    const char *names[] = {"a", "b", "c"};
    const uint8_t macs[3][6] = {{0}};
    struct sent s = {.refuse = -1};
    uint8_t buf[60] = {0};
    struct pktio_pkt rx[2] = {{buf, 60, 0}, {buf, 60, 0}};
    char *err = NULL;
    struct fp_runtime *rt =
        fp_runtime_new(&em, names, macs, 3, capture_send, &s);

    (void)st;
    assert_int_equal(fp_runtime_start(rt, NULL, 0, &err), 0);
    fp_runtime_input(rt, 2, rx, 2, 0);
    assert_int_equal(emitted_in_process, 2);
    assert_int_equal(s.n[0], 2);
    assert_int_equal(s.n[1], 2);
    assert_int_equal(s.n[2], 0);
    assert_int_equal(fp_runtime_stats(rt, 2)->bad_out, 2);
    fp_runtime_tick(rt, 1);
    assert_int_equal(s.n[0], 3);
    fp_runtime_free(rt);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_learn_and_forward, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_ageing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_frames, setup, teardown),
        cmocka_unit_test_setup_teardown(test_params, setup, teardown),
        cmocka_unit_test(test_runtime_flood_and_batches),
        cmocka_unit_test(test_runtime_emit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
