/* Tests for redirector/dataplane.c through pcap ports: every interface X is
 * "pcap:DIR/X.in,DIR/X.out", so frames come from savefiles written here and
 * what the data plane sends is read back and checked. Covers encapsulation
 * toward the peer, decapsulation to the port, the drops (unknown key, key
 * from a stranger, malformed, too big, no next hop) and local links (and
 * their policer on a scheduled VNode). */
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
#include <linux/filter.h>

#include "gre.h"
#include "log.h"
#include "pktio.h"
#include "redirector/dataplane.h"
#include "redirector/sched.h"
#include "redirector/table.h"

#define MAX_FRAMES 64
#define T0 1000000000ull /* the tests' "now": 1 s, in ns */

static const uint8_t next_hop[6] = {0x02, 0xaa, 0x00, 0x00, 0x00, 0x01};
static const uint8_t pcap_mac[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01};

struct frames {
    int n;
    uint32_t len[MAX_FRAMES];
    uint8_t data[MAX_FRAMES][PKTIO_MAX_FRAME];
};

struct fixture {
    char dir[64], fmt[160], route[128], arp[128];
    struct rd_table table;
    struct rd_dp *dp;
    struct frames *f; /* scratch */
};

static uint32_t ip(const char *s)
{
    struct in_addr a;

    assert_int_equal(inet_pton(AF_INET, s, &a), 1);
    return a.s_addr;
}

static void path(const struct fixture *fx, char *buf, size_t n,
                 const char *ifname, const char *dir)
{
    snprintf(buf, n, "%s/%s.%s", fx->dir, ifname, dir);
}

/* Writes frames as the input of interface 'ifname'. */
static void put_input(const struct fixture *fx, const char *ifname,
                      const struct frames *f)
{
    char p[200], spec[220];
    struct pktio *io;

    path(fx, p, sizeof(p), ifname, "in");
    snprintf(spec, sizeof(spec), "pcap:,%s", p);
    io = pktio_open(spec);
    assert_non_null(io);
    for (int i = 0; i < f->n; i++) {
        struct pktio_pkt pkt = {.data = (uint8_t *)(uintptr_t)f->data[i],
                                .len = f->len[i]};
        assert_int_equal(pktio_send(io, &pkt, 1), 1);
    }
    pktio_close(io);
}

/* Reads what the data plane sent out of 'ifname'. */
static void get_output(const struct fixture *fx, const char *ifname,
                       struct frames *f)
{
    struct pktio_pkt pkts[PKTIO_BURST];
    char p[200], spec[220];
    struct pktio *io;
    int n;

    path(fx, p, sizeof(p), ifname, "out");
    snprintf(spec, sizeof(spec), "pcap:%s,", p);
    io = pktio_open(spec);
    assert_non_null(io);
    f->n = 0;
    while ((n = pktio_recv(io, pkts, PKTIO_BURST)) > 0) {
        for (int i = 0; i < n && f->n < MAX_FRAMES; i++) {
            memcpy(f->data[f->n], pkts[i].data, pkts[i].len);
            f->len[f->n++] = pkts[i].len;
        }
        pktio_release(io);
    }
    pktio_close(io);
}

/* An inner Ethernet frame of 'len' bytes whose bytes say 'tag'. */
static void fill_inner(uint8_t *d, uint32_t len, uint8_t tag)
{
    memset(d, tag, len);
    memcpy(d, "\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01\x88\xb5", 14);
}

static void inner(struct frames *f, uint32_t len, uint8_t tag)
{
    fill_inner(f->data[f->n], len, tag);
    f->len[f->n++] = len;
}

/* A tunnel frame from 'src' with 'key' carrying an inner frame. */
static void tunnel(struct frames *f, const char *src, uint32_t key,
                   uint32_t inner_len, uint8_t tag)
{
    static uint8_t buf[PKTIO_MAX_FRAME];
    struct gre_tunnel t = {.key = key};
    int n;

    fill_inner(buf, inner_len, tag);
    memcpy(t.dst_mac, pcap_mac, 6);
    memcpy(t.src_mac, next_hop, 6);
    t.src_ip = ip(src);
    t.dst_ip = ip("198.18.0.1");
    n = gre_encap(f->data[f->n], PKTIO_MAX_FRAME, &t, 9, buf, inner_len);
    assert_true(n > 0);
    f->len[f->n++] = (uint32_t)n;
}

static int setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof(*fx));
    FILE *f;

    assert_non_null(fx);
    fx->f = calloc(1, sizeof(*fx->f));
    assert_non_null(fx->f);
    strcpy(fx->dir, "/tmp/test_dataplane.XXXXXX");
    assert_non_null(mkdtemp(fx->dir));
    snprintf(fx->fmt, sizeof(fx->fmt), "pcap:%s/%%s.in,%s/%%s.out", fx->dir,
             fx->dir);
    /* No routes: peers without a pinned next hop stay unresolved. */
    snprintf(fx->route, sizeof(fx->route), "%s/route", fx->dir);
    snprintf(fx->arp, sizeof(fx->arp), "%s/arp", fx->dir);
    f = fopen(fx->route, "w");
    assert_non_null(f);
    fclose(f);
    f = fopen(fx->arp, "w");
    assert_non_null(f);
    fclose(f);
    rd_table_init(&fx->table);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    char cmd[128];

    rd_dp_free(fx->dp);
    rd_table_fini(&fx->table);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx->dir);
    assert_int_equal(system(cmd), 0);
    free(fx->f);
    free(fx);
    return 0;
}

/* Starts the data plane; 'port_bps' > 0 schedules the transport with a
 * port bucket of 'burst' bytes. */
static void start_sched(struct fixture *fx, uint64_t port_bps, uint32_t burst)
{
    struct rd_dp_config cfg = {
        .transport = "tr0",
        .address = ip("198.18.0.1"),
        .port_fmt = fx->fmt,
        .route_path = fx->route,
        .arp_path = fx->arp,
        .port_rate_bps = port_bps,
        .port_burst_bytes = burst,
    };

    fx->dp = rd_dp_new(NULL, &fx->table, &cfg);
    assert_non_null(fx->dp);
}

static void start(struct fixture *fx)
{
    start_sched(fx, 0, 0);
}

/* A link sliver with rates 'r' added and attached at T0. */
static struct rd_link *link_up_with(struct fixture *fx, const char *slice,
                                    uint32_t key, enum rd_end end,
                                    const char *port, const char *local_port,
                                    const char *peer, const struct rd_rates *r)
{
    struct rd_link_spec s = {
        .slice = slice,
        .link = "l",
        .key = key,
        .end = end,
        .port = port,
        .local_port = local_port,
        .peer = peer ? ip(peer) : 0,
        .rates = *r,
    };
    struct rd_link *l = NULL;
    enum vn_fault code;
    char *err = NULL;

    assert_int_equal(rd_table_add(&fx->table, &s, &l, &code, &err), RD_ADD_NEW);
    assert_int_equal(rd_dp_attach(fx->dp, l, T0, &code, &err), 0);
    assert_null(err);
    return l;
}

static struct rd_link *link_up_rates(struct fixture *fx, const char *slice,
                                     uint32_t key, enum rd_end end,
                                     const char *port, const char *local_port,
                                     const char *peer, double rate_bps)
{
    struct rd_rates r = {.rate_bps = rate_bps, .weight = 1, .slice_weight = 1};

    return link_up_with(fx, slice, key, end, port, local_port, peer, &r);
}

static struct rd_link *link_up(struct fixture *fx, const char *slice,
                               uint32_t key, enum rd_end end, const char *port,
                               const char *local_port, const char *peer)
{
    return link_up_rates(fx, slice, key, end, port, local_port, peer, 0);
}

static void test_encap_toward_peer(void **state)
{
    struct fixture *fx = *state;
    struct frames *f = fx->f;
    struct rd_dp_stats st;
    struct rd_link *l;
    struct gre_decap d;

    f->n = 0;
    inner(f, 60, 0x11);
    inner(f, 1514, 0x22);
    inner(f, 9000, 0x33); /* does not fit 9000 - 28 */
    inner(f, 64, 0x44);
    put_input(fx, "k0000002aa", f);
    f->n = 0;
    put_input(fx, "tr0", f);
    start(fx);
    assert_int_equal(rd_dp_set_nexthop(fx->dp, ip("198.18.0.2"), next_hop), 0);
    l = link_up(fx, "s1", 42, RD_END_A, "k0000002aa", "", "198.18.0.2");
    assert_int_equal(rd_dp_poll_link(fx->dp, l, T0), 4);
    assert_int_equal(rd_dp_poll_link(fx->dp, l, T0 + 1000000),
                     -1); /* input ended */
    assert_int_equal(l->ctr.tx_packets, 3);
    assert_int_equal(l->ctr.tx_bytes, 60 + 1514 + 64);
    rd_dp_get_stats(fx->dp, &st);
    assert_int_equal(st.drops_too_big, 1);
    assert_int_equal(st.tr_tx_packets, 3);
    rd_dp_free(fx->dp); /* flushes the savefiles */
    fx->dp = NULL;

    get_output(fx, "tr0", f);
    assert_int_equal(f->n, 3);
    for (int i = 0; i < 3; i++) {
        static const uint8_t tags[3] = {0x11, 0x22, 0x44};

        assert_int_equal(gre_decap(f->data[i], f->len[i], &d), GRE_OK);
        assert_int_equal(d.key, 42);
        assert_int_equal(d.src_ip, ip("198.18.0.1"));
        assert_int_equal(d.dst_ip, ip("198.18.0.2"));
        assert_memory_equal(f->data[i], next_hop, 6);
        assert_memory_equal(f->data[i] + 6, pcap_mac, 6);
        assert_int_equal(d.inner[d.inner_len - 1], tags[i]);
        if (i > 0) /* IP identification counts up */
            assert_int_equal(
                (f->data[i][18] << 8 | f->data[i][19]),
                ((f->data[i - 1][18] << 8 | f->data[i - 1][19]) + 1) & 0xffff);
    }
}

static void test_decap_to_port(void **state)
{
    struct fixture *fx = *state;
    struct frames *f = fx->f;
    struct rd_dp_stats st;
    struct rd_link *l, *other;

    f->n = 0;
    tunnel(f, "198.18.0.2", 42, 60, 0x01);   /* delivered */
    tunnel(f, "198.18.0.2", 99, 60, 0x02);   /* unknown key */
    tunnel(f, "198.18.0.66", 42, 60, 0x03);  /* key 42, not its peer */
    tunnel(f, "198.18.0.3", 43, 60, 0x04);   /* the other slice's link */
    tunnel(f, "198.18.0.2", 42, 1514, 0x05); /* delivered */
    tunnel(f, "198.18.0.2", 42, 60, 0x06);
    f->data[f->n - 1][14 + 10] ^= 1; /* bad IP checksum */
    tunnel(f, "198.18.0.2", 42, 60, 0x07);
    f->len[f->n - 1] = 40; /* truncated */
    tunnel(f, "198.18.0.2", 42, 60, 0x08);
    f->data[f->n - 1][14 + 9] = 17; /* UDP: the filter drops it */
    put_input(fx, "tr0", f);
    f->n = 0;
    put_input(fx, "k0000002aa", f);
    put_input(fx, "k0000002ba", f);
    start(fx);
    l = link_up(fx, "s1", 42, RD_END_A, "k0000002aa", "", "198.18.0.2");
    other = link_up(fx, "s2", 43, RD_END_A, "k0000002ba", "", "198.18.0.3");
    assert_int_equal(rd_dp_poll_transport(fx->dp, T0), 7);
    assert_int_equal(l->ctr.rx_packets, 2);
    assert_int_equal(l->ctr.rx_bytes, 60 + 1514);
    assert_int_equal(l->ctr.drops_bad_key, 1);
    assert_int_equal(other->ctr.rx_packets, 1);
    rd_dp_get_stats(fx->dp, &st);
    assert_int_equal(st.drops_unknown_key, 1);
    assert_int_equal(st.drops_decap[GRE_ERR_IP_CSUM], 1);
    assert_int_equal(st.drops_decap[GRE_ERR_IP_HEADER], 1);
    assert_int_equal(st.tr_rx_packets, 7);
    rd_dp_free(fx->dp);
    fx->dp = NULL;

    get_output(fx, "k0000002aa", f);
    assert_int_equal(f->n, 2);
    assert_int_equal(f->len[0], 60);
    assert_int_equal(f->data[0][59], 0x01);
    assert_int_equal(f->len[1], 1514);
    assert_int_equal(f->data[1][1513], 0x05);
    get_output(fx, "k0000002ba", f);
    assert_int_equal(f->n, 1);
    assert_int_equal(f->data[0][59], 0x04);
}

static void test_no_next_hop(void **state)
{
    struct fixture *fx = *state;
    struct frames *f = fx->f;
    struct rd_dp_stats st;
    struct rd_link *l;

    f->n = 0;
    inner(f, 60, 0x11);
    inner(f, 60, 0x12);
    put_input(fx, "k0000002aa", f);
    f->n = 0;
    put_input(fx, "tr0", f);
    start(fx);
    l = link_up(fx, "s1", 42, RD_END_A, "k0000002aa", "", "198.18.0.2");
    assert_int_equal(rd_dp_poll_link(fx->dp, l, T0), 2);
    rd_dp_get_stats(fx->dp, &st);
    assert_int_equal(st.drops_no_nexthop, 2);
    assert_int_equal(l->ctr.tx_packets, 0);
}

static void test_local_link(void **state)
{
    struct fixture *fx = *state;
    struct frames *f = fx->f;
    struct rd_link *l;

    f->n = 0;
    inner(f, 60, 0xa1);
    inner(f, 100, 0xa2);
    put_input(fx, "p1", f);
    f->n = 0;
    inner(f, 70, 0xb1);
    put_input(fx, "p2", f);
    f->n = 0;
    put_input(fx, "tr0", f);
    start(fx);
    l = link_up(fx, "s1", 7, RD_END_LOCAL, "p1", "p2", NULL);
    assert_int_equal(rd_dp_poll_link(fx->dp, l, T0), 3);
    assert_int_equal(l->ctr.tx_packets, 2);
    assert_int_equal(l->ctr.tx_bytes, 160);
    assert_int_equal(l->ctr.rx_packets, 1);
    assert_int_equal(l->ctr.rx_bytes, 70);
    rd_dp_detach(fx->dp, l, T0); /* closes (and flushes) both ports */
    get_output(fx, "p2", f);
    assert_int_equal(f->n, 2);
    assert_int_equal(f->data[1][99], 0xa2);
    get_output(fx, "p1", f);
    assert_int_equal(f->n, 1);
    assert_int_equal(f->data[0][69], 0xb1);
    get_output(fx, "tr0", f); /* nothing went into the tunnel */
    assert_int_equal(f->n, 0);
}

/* With a port rate, frames toward the transport wait in the scheduler and
 * leave paced: 8 Mbit/s is a byte per us, and 958-byte frames count 1000
 * bytes on the port (GRE adds 42). */
static void test_sched_paces_tunnel(void **state)
{
    struct fixture *fx = *state;
    struct frames *f = fx->f;
    struct rd_dp_stats st;
    struct rd_link *l;
    struct gre_decap d;

    f->n = 0;
    for (int i = 0; i < 10; i++)
        inner(f, 958, (uint8_t)(0x10 + i));
    put_input(fx, "k0000002aa", f);
    f->n = 0;
    put_input(fx, "tr0", f);
    start_sched(fx, 8000000, 3000);
    assert_non_null(rd_dp_sched(fx->dp));
    assert_int_equal(rd_dp_set_nexthop(fx->dp, ip("198.18.0.2"), next_hop), 0);
    l = link_up(fx, "s1", 42, RD_END_A, "k0000002aa", "", "198.18.0.2");
    /* All 10 queued; the port's 3000-byte bucket lets 4 go at once. */
    assert_int_equal(rd_dp_poll_link(fx->dp, l, T0), 10);
    assert_int_equal(l->ctr.tx_packets, 4);
    assert_int_equal(rd_sched_next_ns(rd_dp_sched(fx->dp), T0), T0 + 1000000);
    assert_int_equal(rd_dp_poll_sched(fx->dp, T0 + 999999), 0);
    assert_int_equal(rd_dp_poll_sched(fx->dp, T0 + 1000000), 1);
    assert_int_equal(rd_dp_poll_sched(fx->dp, T0 + 100000000), 4);
    assert_int_equal(rd_dp_poll_sched(fx->dp, T0 + 101000000), 1);
    assert_int_equal(rd_sched_next_ns(rd_dp_sched(fx->dp), T0 + 101000000),
                     UINT64_MAX);
    assert_int_equal(l->ctr.tx_packets, 10);
    assert_int_equal(l->ctr.tx_bytes, 9580);
    rd_dp_get_stats(fx->dp, &st);
    assert_int_equal(st.tr_tx_packets, 10);
    /* one after the input burst (nothing was queued before it), 4 here */
    assert_int_equal(st.sched_runs, 5);
    assert_int_equal(st.sched_wakeups, 0); /* no event loop here */
    rd_dp_free(fx->dp);
    fx->dp = NULL;

    get_output(fx, "tr0", f);
    assert_int_equal(f->n, 10);
    for (int i = 0; i < 10; i++) {
        assert_int_equal(gre_decap(f->data[i], f->len[i], &d), GRE_OK);
        assert_int_equal(d.key, 42);
        assert_int_equal(d.inner_len, 958);
        assert_int_equal(d.inner[957], 0x10 + i); /* in order */
    }
}

/* On a scheduled VNode a local link is limited like a tunnelled one: its
 * ceiling (8 Mbit/s, a byte per us), buckets of 5 ms of it (5000 bytes),
 * frames counted with GRE's 42 bytes, each direction on its own. */
static void test_local_link_policed(void **state)
{
    struct fixture *fx = *state;
    struct frames *f = fx->f;
    struct rd_link *l;
    const struct rd_rates r = {.rate_bps = 4e6, .ceil_bps = 8e6,
                               .burst_bytes = 3000, .weight = 1,
                               .slice_weight = 1};

    f->n = 0;
    for (int i = 0; i < 10; i++)
        inner(f, 958, (uint8_t)(0x10 + i));
    put_input(fx, "p1", f);
    f->n = 0;
    for (int i = 0; i < 3; i++)
        inner(f, 958, 0x70);
    put_input(fx, "p2", f);
    f->n = 0;
    put_input(fx, "tr0", f);
    start_sched(fx, 100000000, 0);
    l = link_up_with(fx, "s1", 7, RD_END_LOCAL, "p1", "p2", NULL, &r);
    assert_int_equal(rd_dp_poll_link(fx->dp, l, T0), 13);
    assert_int_equal(l->ctr.tx_packets, 5);
    assert_int_equal(l->ctr.drops_policed, 5);
    assert_int_equal(l->ctr.rx_packets, 3);
    rd_dp_detach(fx->dp, l, T0);
    get_output(fx, "p2", f);
    assert_int_equal(f->n, 5);
    for (int i = 0; i < 5; i++)
        assert_int_equal(f->data[i][957], 0x10 + i); /* the first five */
    get_output(fx, "p1", f);
    assert_int_equal(f->n, 3);
}

/* Live changes through the data plane, admission on the port, local links
 * outside the scheduler, and a link detached with frames queued. */
static void test_sched_update_and_detach(void **state)
{
    struct fixture *fx = *state;
    struct frames *f = fx->f;
    struct rd_rates r;
    struct rd_link *a, *b, *loc;
    struct vsched_link_stats ls;
    struct rd_sched_stats ss;
    enum vn_fault code = VN_OK;
    char *err = NULL;

    f->n = 0;
    for (int i = 0; i < 50; i++)
        inner(f, 1400, 0x5a);
    put_input(fx, "k0000002ba", f);
    f->n = 0;
    put_input(fx, "k0000002aa", f);
    put_input(fx, "tr0", f);
    put_input(fx, "p1", f);
    put_input(fx, "p2", f);
    start_sched(fx, 100000000, 0);
    assert_int_equal(rd_dp_set_nexthop(fx->dp, ip("198.18.0.2"), next_hop), 0);
    a = link_up_rates(fx, "s1", 42, RD_END_A, "k0000002aa", "", "198.18.0.2",
                      60e6);
    b = link_up_rates(fx, "s2", 43, RD_END_A, "k0000002ba", "", "198.18.0.2",
                      40e6);
    loc = link_up(fx, "s3", 7, RD_END_LOCAL, "p1", "p2", NULL);
    /* The port is fully booked: raising a is refused, nothing changes. */
    r = a->rates;
    r.rate_bps = 70e6;
    assert_int_equal(rd_dp_update(fx->dp, a, &r, T0, &code, &err), -1);
    assert_int_equal(code, VN_FAULT_NO_CAPACITY);
    assert_non_null(strstr(err, "port tr0 carries 100Mbit"));
    free(err);
    assert_true(a->rates.rate_bps == 60e6);
    /* Lower b, then raise a into what b gave up. */
    r = b->rates;
    r.rate_bps = 30e6;
    assert_int_equal(rd_dp_update(fx->dp, b, &r, T0, &code, &err), 0);
    r = a->rates;
    r.rate_bps = 70e6;
    r.slice_weight = 3;
    assert_int_equal(rd_dp_update(fx->dp, a, &r, T0, &code, &err), 0);
    assert_null(err);
    assert_true(a->rates.rate_bps == 70e6);
    assert_int_equal(
        rd_sched_slice_rate(rd_dp_sched(fx->dp), a->slice_id, NULL, NULL),
        70000000);
    /* A local link does not cross the transport: recorded only. */
    r = loc->rates;
    r.rate_bps = 1e12;
    assert_int_equal(rd_dp_update(fx->dp, loc, &r, T0, &code, &err), 0);
    assert_true(loc->rates.rate_bps == 1e12);
    assert_int_equal(rd_sched_link_stats(rd_dp_sched(fx->dp), 7, T0, &ls), -1);
    /* b's 50 frames of 1442 bytes on the port: the 64 KiB bucket lets 46
     * go at once (the last puts it in debt), 4 wait; detaching b drops
     * them and gives their buffers back. */
    assert_int_equal(rd_dp_poll_link(fx->dp, b, T0), 50);
    assert_int_equal(rd_sched_link_stats(rd_dp_sched(fx->dp), 43, T0, &ls), 0);
    assert_int_equal(ls.sent_pkts, 46);
    assert_int_equal(ls.queued_pkts, 4);
    assert_int_equal(ls.sent_bytes, 46 * 1442);
    rd_dp_detach(fx->dp, b, T0);
    rd_link_free(rd_table_remove(&fx->table, 43, RD_END_A));
    rd_sched_get_stats(rd_dp_sched(fx->dp), &ss);
    assert_int_equal(ss.port.drops_deleted_pkts, 4);
    assert_int_equal(ss.buffers_free, ss.buffers);
    assert_int_equal(ss.port.n_links, 1);
}

static void test_filter_program(void **state)
{
    struct sock_filter insns[RD_DP_FILTER_LEN];
    uint32_t k;

    (void)state;
    rd_dp_transport_filter(ip("198.18.0.1"), insns);
    /* The address sits in the program in host order (BPF loads are
     * big-endian). */
    memcpy(&k, (const uint8_t *)insns + 5 * 8 + 4, 4);
    assert_int_equal(k, 0xc6120001);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_encap_toward_peer, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_decap_to_port, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_next_hop, setup, teardown),
        cmocka_unit_test_setup_teardown(test_local_link, setup, teardown),
        cmocka_unit_test_setup_teardown(test_local_link_policed, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_sched_paces_tunnel, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_sched_update_and_detach, setup,
                                        teardown),
        cmocka_unit_test(test_filter_program),
    };
    vn_log_init("test_dataplane", VN_LOG_ERR, NULL);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
