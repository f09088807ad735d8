/* Tests for redirector/sched.c, the transport port's scheduler as the
 * redirector uses it, with exact times: the mapping of link rates to
 * vsched (ceilings, queue limits, defaults), field checks, admission and
 * its message, slices' guarantees kept as the sum of their links' through
 * adds, updates (raising and lowering on a fully booked port, refusals
 * that change nothing) and deletes, buffer reservations, pacing, the
 * own/others split of drops, and frames returned on delete and free. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "log.h"
#include "redirector/sched.h"

#define T0 1000000000ull /* 1 s, ns */
#define MS 1000000ull
#define OVERHEAD 42

static struct rd_rates rates(double rate, double ceil)
{
    struct rd_rates r = {
        .rate_bps = rate, .ceil_bps = ceil, .weight = 1, .slice_weight = 1};
    return r;
}

static struct rd_sched *new_port(uint64_t rate_bps, uint32_t burst)
{
    struct rd_sched_config c = {.port = "tr0",
                                .rate_bps = rate_bps,
                                .burst_bytes = burst,
                                .frame_bytes = 1472,
                                .overhead_bytes = OVERHEAD,
                                .slack_ns = 2 * MS};
    char *err = NULL;
    struct rd_sched *rs = rd_sched_new(&c, &err);

    assert_null(err);
    assert_non_null(rs);
    return rs;
}

static void add_ok(struct rd_sched *rs, uint32_t slice, uint32_t key,
                   struct rd_rates r)
{
    enum vn_fault code = VN_OK;
    char *err = NULL;

    assert_int_equal(rd_sched_link_add(rs, slice, key, &r, T0, &code, &err), 0);
    assert_null(err);
}

/* Expects a refusal with 'code' whose message contains 'want'. */
static void add_fails(struct rd_sched *rs, uint32_t slice, uint32_t key,
                      struct rd_rates r, enum vn_fault want_code,
                      const char *want)
{
    enum vn_fault code = VN_OK;
    char *err = NULL;

    assert_int_equal(rd_sched_link_add(rs, slice, key, &r, T0, &code, &err),
                     -1);
    assert_int_equal(code, want_code);
    assert_non_null(err);
    if (strstr(err, want) == NULL)
        fail_msg("'%s' not in '%s'", want, err);
    free(err);
}

static void update(struct rd_sched *rs, uint32_t key, struct rd_rates r,
                   uint64_t now, int want_rc, enum vn_fault want_code)
{
    enum vn_fault code = VN_OK;
    char *err = NULL;
    int rc = rd_sched_link_update(rs, key, &r, now, &code, &err);

    assert_int_equal(rc, want_rc);
    if (want_rc == 0) {
        assert_null(err);
    } else {
        assert_int_equal(code, want_code);
        assert_non_null(err);
        free(err);
    }
}

static uint64_t slice_rate(const struct rd_sched *rs, uint32_t id)
{
    return rd_sched_slice_rate(rs, id, NULL, NULL);
}

static size_t reserved(const struct rd_sched *rs)
{
    struct rd_sched_stats st;

    rd_sched_get_stats(rs, &st);
    return st.buffers_reserved;
}

/* ---- mapping and checks ------------------------------------------------- */

static void test_link_conf_mapping(void **state)
{
    struct vsched_link_conf c;
    struct rd_rates r = {.rate_bps = 30e6, .ceil_bps = 100e6};

    (void)state;
    /* A ceiling at the port's rate is none; weight 0 (absent) is 1. */
    rd_sched_link_conf(&r, 100000000, &c);
    assert_int_equal(c.rate_bps, 30000000);
    assert_int_equal(c.ceil_bps, 0);
    /* The default burst, 64 KiB, holds 5 ms of the faster bucket here. */
    assert_int_equal(c.burst_bytes, 65536);
    assert_int_equal(c.weight, 1);
    assert_int_equal(c.n_tclasses, 1);
    /* 20 ms of 100 Mbit/s in 1514-byte frames */
    assert_int_equal(c.queue[0].limit_pkts, 165);
    assert_int_equal(c.queue[0].limit_bytes, 0);
    /* A ceiling below the port is kept and sizes the queue; a burst given
     * is raised to 5 ms of it (31250 bytes at 50 Mbit/s). */
    r.ceil_bps = 50e6;
    r.burst_bytes = 16384;
    r.weight = 7;
    rd_sched_link_conf(&r, 100000000, &c);
    assert_int_equal(c.ceil_bps, 50000000);
    assert_int_equal(c.burst_bytes, 31250);
    r.burst_bytes = 40000; /* deeper: kept */
    rd_sched_link_conf(&r, 100000000, &c);
    assert_int_equal(c.burst_bytes, 40000);
    r.burst_bytes = 16384;
    assert_int_equal(c.weight, 7);
    assert_int_equal(c.queue[0].limit_pkts, 82);
    /* A fast link's buckets hold 5 ms of its ceiling, or of its
     * guarantee when it has no ceiling below the port's rate, whatever
     * burst it was given: rounds come a tick or more apart, and 64 KiB per
     * round would cap it at 524 Mbit/s. */
    r = (struct rd_rates){.rate_bps = 1e9, .ceil_bps = 1e9};
    rd_sched_link_conf(&r, 10000000000ull, &c);
    assert_int_equal(c.burst_bytes, 625000);
    r.burst_bytes = 65536; /* sncd's default */
    rd_sched_link_conf(&r, 10000000000ull, &c);
    assert_int_equal(c.burst_bytes, 625000);
    r = (struct rd_rates){.rate_bps = 1e8, .ceil_bps = 5e9};
    rd_sched_link_conf(&r, 10000000000ull, &c);
    assert_int_equal(c.burst_bytes, 3125000);
    r = (struct rd_rates){.rate_bps = 2e9};
    rd_sched_link_conf(&r, 10000000000ull, &c);
    assert_int_equal(c.ceil_bps, 0);
    assert_int_equal(c.burst_bytes, 1250000);
    r.ceil_bps = 1e10; /* at the port's rate: none */
    rd_sched_link_conf(&r, 10000000000ull, &c);
    assert_int_equal(c.burst_bytes, 1250000);
    assert_int_equal(rd_sched_link_burst(100000000, 0), 65536);
    /* The port's quantum: 100 us of its rate, at most 9000 bytes. */
    assert_int_equal(rd_sched_quantum(100000000), 1250);
    assert_int_equal(rd_sched_quantum(720000000), 9000);
    assert_int_equal(rd_sched_quantum(10000000000ull), 9000);
    assert_int_equal(rd_sched_quantum(1), 0);
    assert_int_equal(rd_sched_link_burst(100000000, 1500), 62500);
    assert_int_equal(rd_sched_link_burst(VSCHED_RATE_MAX_BPS, 0),
                     VSCHED_BURST_MAX_BYTES);
    /* Fractions of a bit round; a ceiling above the port is none. */
    r = (struct rd_rates){.rate_bps = 1.4, .ceil_bps = 2e9};
    rd_sched_link_conf(&r, 1000000000, &c);
    assert_int_equal(c.rate_bps, 1);
    assert_int_equal(c.ceil_bps, 0);
    assert_int_equal(c.queue[0].limit_pkts, 1651);
    /* Queue limits are clamped. */
    assert_int_equal(rd_sched_queue_pkts(1000000), RD_SCHED_QUEUE_MIN_PKTS);
    assert_int_equal(rd_sched_queue_pkts(10000000000ull),
                     RD_SCHED_QUEUE_MAX_PKTS);
    /* The port's burst covers RD_SCHED_BURST_MS, at least 64 KiB. */
    assert_int_equal(rd_sched_port_burst(100000000), 65536);
    assert_int_equal(rd_sched_port_burst(1000000000), 250000);
    assert_int_equal(rd_sched_port_burst(10000000000ull), 2500000);
    assert_int_equal(rd_sched_port_burst(VSCHED_RATE_MAX_BPS),
                     VSCHED_BURST_MAX_BYTES);
}

static void check_rates(struct rd_rates r, const char *want)
{
    char *m = rd_sched_rates_check(&r);

    if (want == NULL) {
        assert_null(m);
        return;
    }
    assert_non_null(m);
    if (strstr(m, want) == NULL)
        fail_msg("'%s' not in '%s'", want, m);
    free(m);
}

static void test_rates_check(void **state)
{
    struct rd_rates r = rates(30e6, 0);

    (void)state;
    check_rates(r, NULL);
    r.rate_bps = -1;
    check_rates(r, "rate_bps must be 0 to");
    r.rate_bps = 0.0 / 0.0;
    check_rates(r, "rate_bps must be 0 to");
    r.rate_bps = 2e13;
    check_rates(r, "rate_bps must be 0 to");
    r = rates(30e6, 20e6);
    check_rates(r, "ceil_bps 20Mbit is below rate_bps 30Mbit");
    r = rates(30e6, 30e6);
    check_rates(r, NULL);
    r = rates(0, 1e6);
    check_rates(r, NULL);
    r.burst_bytes = VSCHED_BURST_MAX_BYTES + 1;
    check_rates(r, "burst_bytes");
    r = rates(0, 0);
    r.weight = 1001;
    check_rates(r, "weight 1001 is out of range");
    r = rates(0, 0);
    r.slice_weight = 5000;
    check_rates(r, "slice_weight 5000 is out of range");
}

static void test_new_refuses(void **state)
{
    struct rd_sched_config c = {
        .port = "tr0", .rate_bps = 0, .frame_bytes = 1472};
    char *err = NULL;

    (void)state;
    assert_null(rd_sched_new(&c, &err));
    assert_non_null(err);
    assert_non_null(strstr(err, "port tr0: port rate 0"));
    free(err);
    c.rate_bps = 1000000;
    c.frame_bytes = 0;
    assert_null(rd_sched_new(&c, &err));
    assert_non_null(err);
    free(err);
    rd_sched_free(NULL);
}

/* ---- admission and slices ----------------------------------------------- */

static void test_admission(void **state)
{
    struct rd_sched *rs = new_port(100000000, 0);
    enum vn_fault code;
    struct rd_rates r = rates(20e6, 0);
    char *m;
    uint32_t n, w;

    (void)state;
    add_ok(rs, 1, 10, rates(60e6, 0));
    add_ok(rs, 2, 20, rates(30e6, 0));
    /* 110 of 100 Mbit/s: refused, saying where and how much. */
    add_fails(rs, 2, 21, rates(20e6, 0), VN_FAULT_NO_CAPACITY,
              "port tr0 carries 100Mbit and its guarantees would sum to "
              "110Mbit: 10Mbit missing; give rate_bps at most 10Mbit");
    m = rd_sched_check(rs, 2, 21, &r, false, &code);
    assert_non_null(m);
    assert_int_equal(code, VN_FAULT_NO_CAPACITY);
    free(m);
    assert_int_equal(slice_rate(rs, 2), 30000000); /* nothing changed */
    add_ok(rs, 2, 21, rates(10e6, 0));
    assert_int_equal(rd_sched_slice_rate(rs, 2, &n, &w), 40000000);
    assert_int_equal(n, 2);
    assert_int_equal(w, 1);
    assert_int_equal(slice_rate(rs, 1), 60000000);
    /* Fully booked: a link without a guarantee still fits. */
    add_ok(rs, 3, 30, rates(0, 0));
    add_fails(rs, 3, 31, rates(1, 0), VN_FAULT_NO_CAPACITY, "1bit missing");
    add_fails(rs, 3, 30, rates(0, 0), VN_FAULT_EXISTS, "already scheduled");
    add_fails(rs, 3, 32, rates(10, 5), VN_FAULT_INVALID_ARG, "below rate_bps");
    assert_true(rd_sched_has_link(rs, 21));
    assert_false(rd_sched_has_link(rs, 32));
    /* A link's slice weight sets its slice's; 0 keeps it. */
    r = rates(0, 0);
    r.slice_weight = 9;
    add_ok(rs, 3, 33, r);
    rd_sched_slice_rate(rs, 3, &n, &w);
    assert_int_equal(w, 9);
    assert_int_equal(n, 2);
    r.slice_weight = 0;
    add_ok(rs, 3, 34, r);
    rd_sched_slice_rate(rs, 3, &n, &w);
    assert_int_equal(w, 9);
    rd_sched_free(rs);
}

/* Guarantees move while the port is fully booked: lowering one and raising
 * another in the same or another slice each stay within what vsched
 * admits (a slice is raised before its link, lowered after). */
static void test_update_path(void **state)
{
    struct rd_sched *rs = new_port(100000000, 0);
    struct rd_rates r;
    uint32_t n, w;
    size_t before;

    (void)state;
    add_ok(rs, 1, 10, rates(50e6, 0));
    add_ok(rs, 1, 11, rates(10e6, 0));
    add_ok(rs, 2, 20, rates(40e6, 0));
    assert_int_equal(slice_rate(rs, 1), 60000000);
    /* Lower then raise within slice 1. */
    update(rs, 10, rates(30e6, 0), T0 + MS, 0, VN_OK);
    assert_int_equal(slice_rate(rs, 1), 40000000);
    update(rs, 11, rates(30e6, 0), T0 + 2 * MS, 0, VN_OK);
    assert_int_equal(slice_rate(rs, 1), 60000000);
    /* Across slices: lower slice 1's, then raise slice 2's into it. */
    update(rs, 11, rates(0, 0), T0 + 3 * MS, 0, VN_OK);
    update(rs, 20, rates(70e6, 0), T0 + 4 * MS, 0, VN_OK);
    assert_int_equal(slice_rate(rs, 1), 30000000);
    assert_int_equal(slice_rate(rs, 2), 70000000);
    /* Past the port: refused with the reason, nothing changed. */
    update(rs, 10, rates(31e6, 0), T0 + 5 * MS, -1, VN_FAULT_NO_CAPACITY);
    assert_int_equal(slice_rate(rs, 1), 30000000);
    update(rs, 10, rates(31e6, 20e6), T0 + 5 * MS, -1, VN_FAULT_INVALID_ARG);
    update(rs, 99, rates(1e6, 0), T0 + 5 * MS, -1, VN_FAULT_NOT_FOUND);
    /* The slice weight moves with an update; the guarantee stays. */
    r = rates(30e6, 0);
    r.slice_weight = 4;
    update(rs, 10, r, T0 + 6 * MS, 0, VN_OK);
    assert_int_equal(rd_sched_slice_rate(rs, 1, &n, &w), 30000000);
    assert_int_equal(w, 4);
    assert_int_equal(n, 2);
    /* A ceiling shrinks the queue, and the buffers promised to it. */
    before = reserved(rs);
    update(rs, 10, rates(30e6, 30e6), T0 + 7 * MS, 0, VN_OK);
    assert_int_equal(reserved(rs), before - 165 + 64);
    update(rs, 10, rates(30e6, 0), T0 + 8 * MS, 0, VN_OK);
    assert_int_equal(reserved(rs), before);
    /* Deletes: the slice's guarantee follows; its last link takes it. */
    rd_sched_link_del(rs, 11, T0 + 9 * MS);
    assert_int_equal(rd_sched_slice_rate(rs, 1, &n, NULL), 30000000);
    assert_int_equal(n, 1);
    rd_sched_link_del(rs, 10, T0 + 9 * MS);
    assert_int_equal(rd_sched_slice_rate(rs, 1, &n, NULL), 0);
    assert_int_equal(n, 0);
    rd_sched_link_del(rs, 10, T0 + 9 * MS); /* absent: nothing */
    add_ok(rs, 1, 12, rates(30e6, 0));      /* the capacity is back */
    assert_int_equal(reserved(rs), 1 + 165 + 165);
    rd_sched_free(rs);
}

/* ---- frames ---------------------------------------------------------------
 */

static void fill(uint8_t *f, uint32_t len, uint8_t tag)
{
    memset(f, tag, len);
}

static void test_pacing_and_buffers(void **state)
{
    /* 8 Mbit/s = 1 byte per us; frames of 958 bytes count 1000. */
    struct rd_sched *rs = new_port(8000000, 3000);
    struct rd_sched_link *sl;
    struct rd_buf *b[16];
    struct rd_sched_stats st;
    uint8_t f[1472];
    int n, got = 0;

    (void)state;
    add_ok(rs, 1, 7, rates(0, 0));
    sl = rd_sched_link_find(rs, 7);
    assert_non_null(sl);
    assert_null(rd_sched_link_find(rs, 8));
    assert_int_equal(rd_sched_next_ns(rs, T0), UINT64_MAX);
    for (int i = 0; i < 10; i++) {
        fill(f, 958, (uint8_t)i);
        assert_int_equal(rd_sched_enqueue(rs, sl, f, 958, T0), 0);
    }
    assert_int_equal(rd_sched_enqueue(rs, sl, f, 1473, T0), -1); /* too big */
    assert_int_equal(rd_sched_enqueue(rs, sl, f, 0, T0), -1);
    assert_int_equal(rd_sched_link_queued(sl), 10);
    /* The bucket (3000) lets 4 go at once: it owes at most one frame. */
    n = rd_sched_dequeue(rs, T0, b, 16);
    assert_int_equal(n, 4);
    for (int i = 0; i < n; i++, got++) {
        assert_int_equal(b[i]->len, 958);
        assert_int_equal(b[i]->key, 7);
        assert_int_equal(b[i]->data[957], got); /* in order */
        rd_sched_put(rs, b[i]);
    }
    assert_int_equal(rd_sched_next_ns(rs, T0), T0 + MS);
    assert_int_equal(rd_sched_dequeue(rs, T0 + MS - 1, b, 16), 0);
    n = rd_sched_dequeue(rs, T0 + MS, b, 16);
    assert_int_equal(n, 1);
    rd_sched_put(rs, b[0]);
    got++;
    /* Idle long enough to fill the bucket again: 3000 bytes, 4 frames,
     * taken 2 by 2 ('max' is honoured). */
    n = rd_sched_dequeue(rs, T0 + 100 * MS, b, 2);
    assert_int_equal(n, 2);
    for (int i = 0; i < n; i++)
        rd_sched_put(rs, b[i]);
    n = rd_sched_dequeue(rs, T0 + 100 * MS, b, 16);
    assert_int_equal(n, 2);
    for (int i = 0; i < n; i++)
        rd_sched_put(rs, b[i]);
    assert_int_equal(rd_sched_next_ns(rs, T0 + 100 * MS), T0 + 101 * MS);
    n = rd_sched_dequeue(rs, T0 + 101 * MS, b, 16);
    assert_int_equal(n, 1);
    rd_sched_put(rs, b[0]);
    assert_int_equal(rd_sched_link_queued(sl), 0);
    assert_int_equal(rd_sched_next_ns(rs, T0 + 100 * MS), UINT64_MAX);
    rd_sched_get_stats(rs, &st);
    assert_int_equal(st.port.sent_pkts, 10);
    assert_int_equal(st.port.sent_bytes, 10 * 1000);
    assert_int_equal(st.buffers_free, st.buffers);
    assert_int_equal(st.buffers_reserved, 1 + 64);
    assert_int_equal(st.drops_no_buffer, 0);
    rd_sched_free(rs);
}

/* Frames still queued when a link is deleted or the scheduler freed go
 * back to the pool (ASan would see a leak or a double use). */
static void test_delete_backlogged(void **state)
{
    struct rd_sched *rs = new_port(1000000, 0);
    struct rd_sched_stats st;
    struct vsched_link_stats ls;
    uint8_t f[100] = {0};

    (void)state;
    add_ok(rs, 1, 7, rates(0, 0));
    add_ok(rs, 1, 8, rates(0, 0));
    for (int i = 0; i < 70; i++) {
        rd_sched_enqueue(rs, rd_sched_link_find(rs, 7), f, sizeof(f), T0);
        rd_sched_enqueue(rs, rd_sched_link_find(rs, 8), f, sizeof(f), T0);
    }
    assert_int_equal(rd_sched_link_queued(rd_sched_link_find(rs, 7)), 64);
    assert_int_equal(rd_sched_link_stats(rs, 7, T0, &ls), 0);
    assert_int_equal(ls.queued_pkts, 64);
    assert_int_equal(ls.enq_pkts, 64);
    assert_int_equal(ls.drops_own_pkts, 6); /* no guarantee: its own */
    assert_int_equal(ls.drops_others_pkts, 0);
    rd_sched_link_del(rs, 7, T0);
    assert_int_equal(rd_sched_link_stats(rs, 7, T0, &ls), -1);
    rd_sched_get_stats(rs, &st);
    assert_int_equal(st.port.drops_deleted_pkts, 64);
    assert_int_equal(st.buffers_free, st.buffers - 64);
    rd_sched_free(rs); /* link 8's 64 frames */
}

/* Sends at 1 ms rounds and counts what each link got. */
static void rounds(struct rd_sched *rs, uint64_t from, uint64_t to,
                   uint32_t flood_key, int flood_per_ms, uint64_t *sent)
{
    struct rd_sched_link *fl = rd_sched_link_find(rs, flood_key);
    uint8_t f[1442] = {0};
    struct rd_buf *b[256];

    for (uint64_t t = from; t < to; t += MS) {
        int n = rd_sched_dequeue(rs, t, b, 256);

        for (int i = 0; i < n; i++) {
            sent[b[i]->key % 4] += b[i]->len + OVERHEAD;
            rd_sched_put(rs, b[i]);
        }
        for (int i = 0; i < flood_per_ms; i++)
            rd_sched_enqueue(rs, fl, f, sizeof(f), t);
    }
}

/* The own/others split: a flooder served far above its small guarantee
 * (mostly at level 2) drops only its own frames, although vsched's
 * guarantee bucket refills between rounds; a guaranteed link that is not
 * served (no rounds: the port's time was taken elsewhere) drops others'. */
static void test_drops_own_and_others(void **state)
{
    struct rd_sched *rs = new_port(100000000, 0);
    struct vsched_link_stats ls;
    uint64_t sent[4] = {0};
    uint8_t f[1442] = {0};

    (void)state;
    add_ok(rs, 1, 5, rates(5e6, 0));  /* B: small guarantee, floods */
    add_ok(rs, 2, 6, rates(30e6, 0)); /* A */
    rounds(rs, T0, T0 + 1000 * MS, 5, 30, sent);
    /* 100 Mbit/s for 1 s (+ the port's first burst) all to the flooder */
    assert_in_range(sent[1], 12400000, 12600000);
    assert_int_equal(rd_sched_link_stats(rs, 5, T0 + 1000 * MS, &ls), 0);
    assert_true(ls.drops_own_pkts > 15000);
    assert_int_equal(ls.drops_others_pkts, 0);
    /* the window [1 s, 2 s): the run, with the port's first burst */
    assert_in_range(ls.rate_bps, 100000000, 100600000);
    /* A: 200 frames at 30 Mbit/s worth of arrivals, but no round for
     * 60 ms: its queue (165) fills while it is owed its guarantee. */
    for (int i = 0; i < 200; i++)
        rd_sched_enqueue(rs, rd_sched_link_find(rs, 6), f, sizeof(f),
                         T0 + 1000 * MS + (uint64_t)i * 300000);
    assert_int_equal(rd_sched_link_stats(rs, 6, T0 + 1060 * MS, &ls), 0);
    assert_int_equal(ls.queued_pkts, 165);
    assert_true(ls.drops_others_pkts > 0);
    assert_int_equal(ls.drops_own_pkts + ls.drops_others_pkts, 35);
    /* Served again, then flooding on its own: its own drops. */
    rounds(rs, T0 + 1060 * MS, T0 + 1200 * MS, 6, 30, sent);
    assert_int_equal(rd_sched_link_stats(rs, 6, T0 + 1200 * MS, &ls), 0);
    assert_true(ls.drops_own_pkts > 1000);
    rd_sched_free(rs);
}

/* How many 'len'-byte frames the policer lets pass at 'now' in a row. */
static int drain(struct rd_police *p, uint32_t len, uint64_t now)
{
    int n = 0;

    while (n < 1000000 && rd_police_take(p, len, now))
        n++;
    return n;
}

/* The policer of local links, exactly: 8 Mbit/s is a byte per us; frames
 * count 42 bytes more; 5 ms of the limit deep at least. */
static void test_police(void **state)
{
    struct rd_police p = {0};
    struct rd_rates r = {.rate_bps = 4e6, .ceil_bps = 8e6, .burst_bytes = 3000};
    const uint64_t t = 1000000000ull;

    (void)state;
    rd_police_set(&p, &r, 42, t);
    /* Starts full: 5000 bytes, five 958-byte frames (1000 counted). */
    assert_int_equal(drain(&p, 958, t), 5);
    /* A byte per us: 999 us later not yet, 1000 us later one frame. */
    assert_false(rd_police_take(&p, 958, t + 999000));
    assert_true(rd_police_take(&p, 958, t + 1000000));
    assert_false(rd_police_take(&p, 958, t + 1000000));
    /* Idle for an hour: full again, not more. */
    assert_int_equal(drain(&p, 958, t + 3600000000000ull), 5);
    /* Without a ceiling the guarantee is the limit (4 Mbit/s: 2 us a
     * byte); the bucket keeps its tokens and is cut to the new depth. */
    r.ceil_bps = 0;
    rd_police_set(&p, &r, 42, t + 3600000000000ull);
    assert_false(rd_police_take(&p, 958, t + 3600001999000ull));
    assert_true(rd_police_take(&p, 958, t + 3600002000000ull));
    /* A deeper burst given is kept: 20000 bytes, 20 frames. */
    r.burst_bytes = 20000;
    rd_police_set(&p, &r, 42, t + 3600002000000ull);
    assert_int_equal(drain(&p, 958, t + 3700000000000ull), 20);
    /* Neither: no limit. */
    r.rate_bps = 0;
    rd_police_set(&p, &r, 42, t + 3700000000000ull);
    for (int i = 0; i < 100000; i++)
        assert_true(rd_police_take(&p, 1500, t + 3700000000000ull));
    /* Back to a limit: starts full. */
    r.rate_bps = 8e6;
    r.burst_bytes = 0;
    rd_police_set(&p, &r, 0, t + 3700000000000ull);
    /* the 64 KiB default: 65536 bytes */
    assert_int_equal(drain(&p, 1000, t + 3700000000000ull), 65);
    /* The fastest rate and deepest bucket do not overflow. */
    r = (struct rd_rates){.rate_bps = VSCHED_RATE_MAX_BPS,
                          .burst_bytes = VSCHED_BURST_MAX_BYTES};
    memset(&p, 0, sizeof(p));
    rd_police_set(&p, &r, 42, t);
    assert_true(rd_police_take(&p, 65535, t));
    assert_true(rd_police_take(&p, 65535, t + 3600000000000000ull));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_link_conf_mapping),
        cmocka_unit_test(test_rates_check),
        cmocka_unit_test(test_new_refuses),
        cmocka_unit_test(test_admission),
        cmocka_unit_test(test_update_path),
        cmocka_unit_test(test_pacing_and_buffers),
        cmocka_unit_test(test_delete_backlogged),
        cmocka_unit_test(test_drops_own_and_others),
        cmocka_unit_test(test_police),
    };
    vn_log_init("test_sched", VN_LOG_ERR, NULL);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
