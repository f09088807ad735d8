/* The fast-path loop end to end on pcap ports (lib/pktio's pcap backend):
 * the router answers ARP on port 0, forwards a packet to port 1 once the
 * next hop answers there, and the loop ends when every input has ended. */
#include <pcap/pcap.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <cmocka.h>

#include "frames.h"
#include "programmer/fp_loop.h"
#include "programmer/fp_modules.h"
#include "programmer/fp_run.h"

/* The router's port MACs (given to fp_runtime_new below). */
static const uint8_t MAC_P0[6] = {0x02, 0, 0, 0, 0, 1};
static const uint8_t MAC_P1[6] = {0x02, 0, 0, 0, 0, 2};
static const uint8_t MAC_H1[6] = {0x02, 0xbb, 0, 0, 0, 1};
static const uint8_t MAC_H2[6] = {0x02, 0xbb, 0, 0, 0, 2};
static const uint8_t BCAST[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

static char dir[64];

static void write_pcap(const char *path, uint8_t (*f)[1600],
                       const uint32_t *len, int n)
{
    pcap_t *dead = pcap_open_dead(DLT_EN10MB, 65535);
    pcap_dumper_t *d = pcap_dump_open(dead, path);

    assert_non_null(d);
    for (int i = 0; i < n; i++) {
        struct pcap_pkthdr h = {.caplen = len[i], .len = len[i]};
        pcap_dump((u_char *)d, &h, f[i]);
    }
    pcap_dump_close(d);
    pcap_close(dead);
}

/* Reads up to 'max' frames of 'path' into f/len; returns how many. */
static int read_pcap(const char *path, uint8_t (*f)[1600], uint32_t *len,
                     int max)
{
    char err[PCAP_ERRBUF_SIZE];
    pcap_t *p = pcap_open_offline(path, err);
    struct pcap_pkthdr *h;
    const u_char *data;
    int n = 0;

    assert_non_null(p);
    while (n < max && pcap_next_ex(p, &h, &data) == 1) {
        assert_true(h->caplen <= 1600);
        memcpy(f[n], data, h->caplen);
        len[n++] = h->caplen;
    }
    pcap_close(p);
    return n;
}

static void test_router_over_pcap(void **st)
{
    static uint8_t f[8][1600];
    uint32_t len[8];
    char in0[128], out0[128], in1[128], out1[128], spec[300];
    struct pktio *ports[2];
    const char *names[2] = {"l1", "l2"};
    uint8_t macs[2][6];
    const struct vnode_param params[] = {{"address", "l1:10.0.1.1/24"},
                                         {"address", "l2:10.0.2.1/24"}};
    volatile sig_atomic_t stop = 0, dump = 1;
    struct fp_runtime *rt;
    char *err = NULL;

    (void)st;
    memcpy(macs[0], MAC_P0, 6);
    memcpy(macs[1], MAC_P1, 6);
    snprintf(in0, sizeof(in0), "%s/in0.pcap", dir);
    snprintf(out0, sizeof(out0), "%s/out0.pcap", dir);
    snprintf(in1, sizeof(in1), "%s/in1.pcap", dir);
    snprintf(out1, sizeof(out1), "%s/out1.pcap", dir);
    /* port 0: an ARP request for the router, a packet for 10.0.2.2 */
    len[0] = build_arp(f[0], BCAST, VNODE_ARP_REQUEST, MAC_H1,
                       ipv4(10, 0, 1, 2), NULL, ipv4(10, 0, 1, 1));
    len[1] = build_ipv4(f[1], MAC_P0, MAC_H1, ipv4(10, 0, 1, 2),
                        ipv4(10, 0, 2, 2), 64, 17, 100);
    write_pcap(in0, f, len, 2);
    /* port 1: 10.0.2.2 answers the router's request */
    len[0] = build_arp(f[0], MAC_P1, VNODE_ARP_REPLY, MAC_H2, ipv4(10, 0, 2, 2),
                       MAC_P1, ipv4(10, 0, 2, 1));
    write_pcap(in1, f, len, 1);

    snprintf(spec, sizeof(spec), "pcap:%s,%s", in0, out0);
    ports[0] = pktio_open(spec);
    snprintf(spec, sizeof(spec), "pcap:%s,%s", in1, out1);
    ports[1] = pktio_open(spec);
    assert_non_null(ports[0]);
    assert_non_null(ports[1]);
    rt = fp_runtime_new(&vnode_mod_router, names, (const uint8_t(*)[6])macs, 2,
                        fp_loop_send, ports);
    assert_int_equal(fp_runtime_start(rt, params, 2, &err), 0);
    assert_int_equal(fp_loop_run(rt, ports, 2, &stop, &dump, NULL), 0);
    assert_int_equal(fp_runtime_stats(rt, 0)->rx_packets, 2);
    assert_int_equal(fp_runtime_stats(rt, 1)->rx_packets, 1);
    fp_runtime_free(rt);
    pktio_close(ports[0]);
    pktio_close(ports[1]);

    /* out0: the ARP reply */
    assert_int_equal(read_pcap(out0, f, len, 8), 1);
    assert_int_equal(vnode_rd16(f[0] + 12), VNODE_ETH_P_ARP);
    assert_int_equal(vnode_rd16(f[0] + 14 + VNODE_ARP_OP), VNODE_ARP_REPLY);
    assert_memory_equal(f[0] + 14 + VNODE_ARP_SHA, MAC_P0, 6);
    /* out1: the router's ARP request, then the forwarded packet */
    assert_int_equal(read_pcap(out1, f, len, 8), 2);
    assert_int_equal(vnode_rd16(f[0] + 14 + VNODE_ARP_OP), VNODE_ARP_REQUEST);
    assert_int_equal(vnode_rd32n(f[0] + 14 + VNODE_ARP_TPA), ipv4(10, 0, 2, 2));
    assert_int_equal(len[1], 14 + 20 + 100);
    assert_memory_equal(f[1], MAC_H2, 6);
    assert_memory_equal(f[1] + 6, MAC_P1, 6);
    assert_int_equal(f[1][14 + VNODE_IP_TTL], 63);
    assert_true(ip_csum_ok(f[1]));
}

static int setup(void **st)
{
    (void)st;
    snprintf(dir, sizeof(dir), "/tmp/test_fastpath.XXXXXX");
    return mkdtemp(dir) != NULL ? 0 : -1;
}

static int teardown(void **st)
{
    const char *files[] = {"in0", "out0", "in1", "out1"};
    char path[128];

    (void)st;
    for (size_t i = 0; i < 4; i++) {
        snprintf(path, sizeof(path), "%s/%s.pcap", dir, files[i]);
        unlink(path);
    }
    return rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_router_over_pcap),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
