/* Tests for lib/gre.c: a hand-built golden frame, round trips, every
 * header check of the decapsulator, every truncation of a valid frame
 * (each copied into a buffer of exactly that size, so ASan sees any read
 * past the end), and random garbage and mutations. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gre.h"

/* 198.18.0.1 -> 198.18.0.2, key 42. */
static const struct gre_tunnel tun = {
    .dst_mac = {0x02, 0x00, 0x00, 0x00, 0x00, 0x02},
    .src_mac = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01},
    /* addresses: set by tunnel() */
    .key = 42,
};

static uint32_t ip4(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
    uint32_t v;
    uint8_t bytes[4] = {a, b, c, d};

    memcpy(&v, bytes, 4);
    return v;
}

static struct gre_tunnel tunnel(void)
{
    struct gre_tunnel t = tun;

    t.src_ip = ip4(198, 18, 0, 1);
    t.dst_ip = ip4(198, 18, 0, 2);
    return t;
}

/* A 60-byte inner frame with recognisable bytes. */
static void inner_frame(uint8_t *f, size_t len)
{
    for (size_t i = 0; i < len; i++)
        f[i] = (uint8_t)(0xa0 + i);
}

/* Fixes the IPv4 header checksum of a frame after a test edited it. */
static void fix_ip_csum(uint8_t *frame)
{
    uint8_t *ip = frame + 14;
    size_t ihl = (size_t)(ip[0] & 0x0f) * 4;
    uint16_t c;

    ip[10] = ip[11] = 0;
    c = gre_inet_csum(ip, ihl, 0);
    ip[10] = (uint8_t)(c >> 8);
    ip[11] = (uint8_t)c;
}

static int build(uint8_t *out, size_t cap, size_t inner_len)
{
    uint8_t inner[2048];
    struct gre_tunnel t = tunnel();

    inner_frame(inner, inner_len);
    return gre_encap(out, cap, &t, 1, inner, inner_len);
}

/* Decapsulates a copy in a buffer of exactly 'len' bytes. */
static enum gre_err decap_exact(const uint8_t *frame, size_t len,
                                struct gre_decap *d, size_t *inner_off)
{
    uint8_t *copy = malloc(len ? len : 1);
    enum gre_err err;

    assert_non_null(copy);
    memcpy(copy, frame, len);
    err = gre_decap(copy, len, d);
    if (err == GRE_OK) {
        assert_true(d->inner >= copy);
        assert_true(d->inner + d->inner_len <= copy + len);
        if (inner_off != NULL)
            *inner_off = (size_t)(d->inner - copy);
    }
    free(copy);
    return err;
}

static void test_golden_frame(void **state)
{
    static const uint8_t want_hdr[GRE_ENCAP_OVERHEAD] = {
        /* Ethernet: next hop, us, IPv4 */
        0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01,
        0x08, 0x00,
        /* IPv4: 45, tos 0, len 88, id 1, no DF/frag, ttl 64, proto 47,
         * checksum 0xee4e (worked out by hand), 198.18.0.1 -> .2 */
        0x45, 0x00, 0x00, 0x58, 0x00, 0x01, 0x00, 0x00, 0x40, 0x2f, 0xee, 0x4e,
        0xc6, 0x12, 0x00, 0x01, 0xc6, 0x12, 0x00, 0x02,
        /* GRE: K bit, version 0, 0x6558, key 42 */
        0x20, 0x00, 0x65, 0x58, 0x00, 0x00, 0x00, 0x2a};
    uint8_t out[256], inner[60];
    int n;

    (void)state;
    n = build(out, sizeof(out), 60);
    assert_int_equal(n, GRE_ENCAP_OVERHEAD + 60);
    assert_memory_equal(out, want_hdr, sizeof(want_hdr));
    inner_frame(inner, sizeof(inner));
    assert_memory_equal(out + GRE_ENCAP_OVERHEAD, inner, sizeof(inner));
}

static void test_ip_id_and_checksum_change(void **state)
{
    struct gre_tunnel t = tunnel();
    uint8_t a[GRE_ENCAP_OVERHEAD], b[GRE_ENCAP_OVERHEAD];

    (void)state;
    assert_int_equal(gre_encap_hdr(a, &t, 1, 60), 0);
    assert_int_equal(gre_encap_hdr(b, &t, 0xffff, 1500), 0);
    assert_int_equal(b[14 + 4], 0xff);
    assert_int_equal(b[14 + 5], 0xff);
    assert_int_equal(gre_inet_csum(a + 14, 20, 0), 0);
    assert_int_equal(gre_inet_csum(b + 14, 20, 0), 0);
    assert_int_equal(gre_encap_hdr(b, &t, 1, GRE_MAX_INNER), 0);
    assert_int_equal(gre_encap_hdr(b, &t, 1, GRE_MAX_INNER + 1), -1);
}

static void test_encap_bounds(void **state)
{
    uint8_t out[GRE_ENCAP_OVERHEAD + 60];

    (void)state;
    assert_int_equal(build(out, sizeof(out), 60), (int)sizeof(out));
    assert_int_equal(build(out, sizeof(out) - 1, 60), -1);
    assert_int_equal(build(out, sizeof(out), 0), -1);
}

static void test_round_trip(void **state)
{
    static const size_t sizes[] = {14, 60, 64, 1514, 1518, 2000};
    uint8_t out[2200], inner[2048];
    struct gre_decap d;
    size_t off = 0;

    (void)state;
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        int n = build(out, sizeof(out), sizes[i]);

        assert_true(n > 0);
        assert_int_equal(decap_exact(out, (size_t)n, &d, &off), GRE_OK);
        assert_int_equal(d.key, 42);
        assert_int_equal(d.src_ip, ip4(198, 18, 0, 1));
        assert_int_equal(d.dst_ip, ip4(198, 18, 0, 2));
        assert_int_equal(d.inner_len, sizes[i]);
        assert_int_equal(off, GRE_ENCAP_OVERHEAD);
        assert_false(d.has_seq);
        inner_frame(inner, sizes[i]);
        assert_memory_equal(d.inner, inner, sizes[i]);
    }
}

static void test_large_key(void **state)
{
    struct gre_tunnel t = tunnel();
    uint8_t out[256], inner[60] = {0};
    struct gre_decap d;

    (void)state;
    t.key = 0xfedcba98u;
    assert_true(gre_encap(out, sizeof(out), &t, 7, inner, 60) > 0);
    assert_int_equal(gre_decap(out, GRE_ENCAP_OVERHEAD + 60, &d), GRE_OK);
    assert_int_equal(d.key, 0xfedcba98u);
}

static void test_every_truncation_refused(void **state)
{
    uint8_t out[256];
    struct gre_decap d;
    int n = build(out, sizeof(out), 60);

    (void)state;
    for (size_t len = 0; len < (size_t)n; len++)
        assert_int_not_equal(decap_exact(out, len, &d, NULL), GRE_OK);
    assert_int_equal(decap_exact(out, (size_t)n, &d, NULL), GRE_OK);
}

static void test_ethernet_padding_ignored(void **state)
{
    uint8_t out[256];
    struct gre_decap d;
    int n = build(out, sizeof(out), 14);

    (void)state;
    memset(out + n, 0xee, 20); /* padding after the IP packet */
    assert_int_equal(decap_exact(out, (size_t)n + 20, &d, NULL), GRE_OK);
    assert_int_equal(d.inner_len, 14);
}

static void test_ip_header_checks(void **state)
{
    uint8_t f[256], g[256];
    struct gre_decap d;
    int n = build(f, sizeof(f), 60);

    (void)state;
    memcpy(g, f, (size_t)n);
    g[12] = 0x86, g[13] = 0xdd;
    assert_int_equal(decap_exact(g, (size_t)n, &d, NULL), GRE_ERR_NOT_IPV4);

    memcpy(g, f, (size_t)n);
    g[14] = 0x65; /* version 6 */
    fix_ip_csum(g);
    assert_int_equal(decap_exact(g, (size_t)n, &d, NULL), GRE_ERR_IP_HEADER);

    memcpy(g, f, (size_t)n);
    g[14] = 0x44; /* IHL 4 */
    assert_int_equal(decap_exact(g, (size_t)n, &d, NULL), GRE_ERR_IP_HEADER);

    memcpy(g, f, (size_t)n);
    g[14] = 0x4f; /* IHL 15 = 60 bytes: more than the IP total length */
    g[16] = 0, g[17] = 40;
    assert_int_equal(decap_exact(g, (size_t)n, &d, NULL), GRE_ERR_IP_HEADER);

    memcpy(g, f, (size_t)n);
    g[16] = 0x01, g[17] = 0x00; /* total length 256 > frame */
    fix_ip_csum(g);
    assert_int_equal(decap_exact(g, (size_t)n, &d, NULL), GRE_ERR_IP_HEADER);

    memcpy(g, f, (size_t)n);
    g[16] = 0x00, g[17] = 19; /* total length below the header */
    fix_ip_csum(g);
    assert_int_equal(decap_exact(g, (size_t)n, &d, NULL), GRE_ERR_IP_HEADER);

    memcpy(g, f, (size_t)n);
    g[14 + 10] ^= 0x01;
    assert_int_equal(decap_exact(g, (size_t)n, &d, NULL), GRE_ERR_IP_CSUM);

    memcpy(g, f, (size_t)n);
    g[14 + 6] = 0x20; /* MF */
    fix_ip_csum(g);
    assert_int_equal(decap_exact(g, (size_t)n, &d, NULL), GRE_ERR_FRAGMENT);

    memcpy(g, f, (size_t)n);
    g[14 + 7] = 0x01; /* fragment offset 8 */
    fix_ip_csum(g);
    assert_int_equal(decap_exact(g, (size_t)n, &d, NULL), GRE_ERR_FRAGMENT);

    memcpy(g, f, (size_t)n);
    g[14 + 6] = 0x40; /* DF alone is fine */
    fix_ip_csum(g);
    assert_int_equal(decap_exact(g, (size_t)n, &d, NULL), GRE_OK);

    memcpy(g, f, (size_t)n);
    g[14 + 9] = 17;
    fix_ip_csum(g);
    assert_int_equal(decap_exact(g, (size_t)n, &d, NULL), GRE_ERR_NOT_GRE);
}

/* IP options (IHL 6) move the GRE header. */
static void test_ip_options(void **state)
{
    uint8_t f[256], g[256];
    struct gre_decap d;
    size_t off = 0;
    int n = build(f, sizeof(f), 60);

    (void)state;
    memcpy(g, f, 34);
    memset(g + 34, 0x01, 4); /* four NOP options */
    memcpy(g + 38, f + 34, (size_t)n - 34);
    g[14] = 0x46;
    g[17] = (uint8_t)(g[17] + 4);
    fix_ip_csum(g);
    assert_int_equal(decap_exact(g, (size_t)n + 4, &d, &off), GRE_OK);
    assert_int_equal(off, GRE_ENCAP_OVERHEAD + 4);
    assert_int_equal(d.inner_len, 60);
    assert_int_equal(d.key, 42);
}

static void test_gre_header_checks(void **state)
{
    uint8_t f[256], g[256];
    struct gre_decap d;
    const size_t gre = 34;
    int n = build(f, sizeof(f), 60);

    (void)state;
    memcpy(g, f, (size_t)n);
    g[gre + 1] = 0x01; /* version 1 (PPTP) */
    assert_int_equal(decap_exact(g, (size_t)n, &d, NULL), GRE_ERR_GRE_VERSION);

    memcpy(g, f, (size_t)n);
    g[gre] |= 0x40; /* routing present */
    assert_int_equal(decap_exact(g, (size_t)n, &d, NULL), GRE_ERR_GRE_FLAGS);

    memcpy(g, f, (size_t)n);
    g[gre] |= 0x08; /* strict source route */
    assert_int_equal(decap_exact(g, (size_t)n, &d, NULL), GRE_ERR_GRE_FLAGS);

    memcpy(g, f, (size_t)n);
    g[gre] |= 0x02; /* recursion control */
    assert_int_equal(decap_exact(g, (size_t)n, &d, NULL), GRE_ERR_GRE_FLAGS);

    memcpy(g, f, (size_t)n);
    g[gre + 1] |= 0x80; /* reserved0 */
    assert_int_equal(decap_exact(g, (size_t)n, &d, NULL), GRE_ERR_GRE_FLAGS);

    memcpy(g, f, (size_t)n);
    g[gre] &= (uint8_t)~0x20; /* no key */
    assert_int_equal(decap_exact(g, (size_t)n, &d, NULL), GRE_ERR_NO_KEY);

    memcpy(g, f, (size_t)n);
    g[gre + 2] = 0x08, g[gre + 3] = 0x00; /* IPv4 payload, not Ethernet */
    assert_int_equal(decap_exact(g, (size_t)n, &d, NULL), GRE_ERR_PROTO);
}

/* Builds a frame with GRE options C, K and S as asked, inner 60 bytes. */
static size_t build_opts(uint8_t *g, int csum, int seq)
{
    uint8_t f[256], inner[60];
    size_t off = 34, n;
    int len = build(f, sizeof(f), 60);

    assert_true(len > 0);
    memcpy(g, f, 34);
    g[off] = (uint8_t)((csum ? 0x80 : 0) | 0x20 | (seq ? 0x10 : 0));
    g[off + 1] = 0;
    g[off + 2] = 0x65, g[off + 3] = 0x58;
    off += 4;
    if (csum) {
        memset(g + off, 0, 4); /* checksum, reserved1 */
        off += 4;
    }
    g[off] = 0, g[off + 1] = 0, g[off + 2] = 0x01, g[off + 3] = 0x00;
    off += 4; /* key 256 */
    if (seq) {
        g[off] = 0, g[off + 1] = 0, g[off + 2] = 0, g[off + 3] = 9;
        off += 4;
    }
    inner_frame(inner, sizeof(inner));
    memcpy(g + off, inner, sizeof(inner));
    n = off + sizeof(inner);
    g[16] = (uint8_t)((n - 14) >> 8);
    g[17] = (uint8_t)(n - 14);
    fix_ip_csum(g);
    if (csum) {
        uint16_t c = gre_inet_csum(g + 34, n - 34, 0);
        g[38] = (uint8_t)(c >> 8);
        g[39] = (uint8_t)c;
    }
    return n;
}

static void test_gre_checksum_and_sequence(void **state)
{
    uint8_t g[256];
    struct gre_decap d;
    size_t off = 0, n;

    (void)state;
    n = build_opts(g, 1, 0);
    assert_int_equal(decap_exact(g, n, &d, &off), GRE_OK);
    assert_int_equal(off, 34 + 12);
    assert_int_equal(d.key, 256);
    assert_int_equal(d.inner_len, 60);

    g[40] ^= 0xff; /* corrupt the key: the GRE checksum catches it */
    assert_int_equal(decap_exact(g, n, &d, NULL), GRE_ERR_GRE_CSUM);

    n = build_opts(g, 1, 1);
    assert_int_equal(decap_exact(g, n, &d, &off), GRE_OK);
    assert_int_equal(off, 34 + 16);
    assert_true(d.has_seq);
    assert_int_equal(d.seq, 9);
    g[n - 1] ^= 0x10; /* payload corruption too */
    assert_int_equal(decap_exact(g, n, &d, NULL), GRE_ERR_GRE_CSUM);

    n = build_opts(g, 0, 1);
    assert_int_equal(decap_exact(g, n, &d, &off), GRE_OK);
    assert_int_equal(off, 34 + 12);
    assert_int_equal(d.seq, 9);

    for (size_t len = 0; len < n; len++) /* truncations with options */
        assert_int_not_equal(decap_exact(g, len, &d, NULL), GRE_OK);
}

static void test_inner_too_short(void **state)
{
    uint8_t f[256];
    struct gre_decap d;
    int n = build(f, sizeof(f), 14);

    (void)state;
    f[17] = (uint8_t)(f[17] - 1); /* IP length one byte short */
    fix_ip_csum(f);
    assert_int_equal(decap_exact(f, (size_t)n - 1, &d, NULL),
                     GRE_ERR_INNER_SHORT);
}

static void test_garbage_and_mutations(void **state)
{
    uint8_t good[256], buf[1600];
    struct gre_decap d;
    int n = build(good, sizeof(good), 60), ok = 0;

    (void)state;
    srand(12345);
    for (int i = 0; i < 20000; i++) { /* random bytes of random length */
        size_t len = (size_t)rand() % sizeof(buf);

        for (size_t j = 0; j < len; j++)
            buf[j] = (uint8_t)rand();
        (void)decap_exact(buf, len, &d, NULL);
    }
    for (int i = 0; i < 20000; i++) { /* a valid frame with a few bit flips */
        size_t len = (size_t)n;
        int flips = 1 + rand() % 3;

        memcpy(buf, good, len);
        for (int k = 0; k < flips; k++)
            buf[(size_t)rand() % len] ^= (uint8_t)(1u << (rand() % 8));
        if (rand() % 4 == 0)
            len = (size_t)rand() % len;
        if (decap_exact(buf, len, &d, NULL) == GRE_OK)
            ok++;
    }
    /* Flips in the MACs, the inner frame and the key still decapsulate. */
    assert_true(ok > 0);
}

static void test_err_names(void **state)
{
    (void)state;
    for (int i = 0; i < GRE_N_ERR; i++) {
        assert_non_null(gre_err_name((enum gre_err)i));
        assert_string_not_equal(gre_err_name((enum gre_err)i), "unknown");
        for (int j = 0; j < i; j++)
            assert_string_not_equal(gre_err_name((enum gre_err)i),
                                    gre_err_name((enum gre_err)j));
    }
    assert_string_equal(gre_err_name(GRE_N_ERR), "unknown");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_golden_frame),
        cmocka_unit_test(test_ip_id_and_checksum_change),
        cmocka_unit_test(test_encap_bounds),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_large_key),
        cmocka_unit_test(test_every_truncation_refused),
        cmocka_unit_test(test_ethernet_padding_ignored),
        cmocka_unit_test(test_ip_header_checks),
        cmocka_unit_test(test_ip_options),
        cmocka_unit_test(test_gre_header_checks),
        cmocka_unit_test(test_gre_checksum_and_sequence),
        cmocka_unit_test(test_inner_too_short),
        cmocka_unit_test(test_garbage_and_mutations),
        cmocka_unit_test(test_err_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
