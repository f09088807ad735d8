/* Tests for lib/pktio*.c: the pcap backend (write a savefile, read it
 * back, filters, zero-copy sending, end of input), checksum completion
 * against a naive reference, and, when run as root, the AF_PACKET backend
 * on a veth pair inside a private network namespace (bursts both ways, our
 * own sends not looped back, a single frame handed over by the block
 * timeout, checksum offload and VLAN tags undone, idle waits that block,
 * the kernel stack's copy dropped (stack=drop, stack=drop-gre:ADDR), ring
 * drops counted),
 * and the AF_XDP backend against it (bursts both ways in skb and native
 * mode, counters and drops, nothing left attached to the interface after
 * close, after a privilege drop or after SIGKILL, refusals and "auto:"
 * falling back to AF_PACKET). */

#include <arpa/inet.h>
#include <errno.h>
#include <grp.h>
#include <ifaddrs.h>
#include <linux/filter.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <bpf/libbpf.h>
#include <cmocka.h>

#include "log.h"
#include "pktio.h"

struct fixture {
    char dir[64];
    char a[128], b[128], spec[300];
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));

    assert_non_null(f);
    strcpy(f->dir, "/tmp/test_pktio.XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->a, sizeof(f->a), "%s/a.pcap", f->dir);
    snprintf(f->b, sizeof(f->b), "%s/b.pcap", f->dir);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    unlink(f->a);
    unlink(f->b);
    rmdir(f->dir);
    free(f);
    return 0;
}

/* An Ethernet + IPv4 + UDP frame of 'len' bytes to 'dst' (last octet),
 * IP protocol 'proto'. */
static void frame(uint8_t *buf, size_t len, uint8_t dst, uint8_t proto,
                  uint8_t fill)
{
    memset(buf, fill, len);
    memcpy(buf, "\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01\x08\x00", 14);
    buf[14] = 0x45;
    buf[15] = 0;
    buf[16] = (uint8_t)((len - 14) >> 8);
    buf[17] = (uint8_t)(len - 14);
    buf[18] = buf[19] = buf[20] = buf[21] = 0;
    buf[22] = 64;
    buf[23] = proto;
    buf[24] = buf[25] = 0;
    memcpy(buf + 26, "\xc6\x12\x00\x01\xc6\x12\x00", 7);
    buf[33] = dst;
    if (proto == 17) {
        buf[34] = 0x12, buf[35] = 0x34, buf[36] = 0x00, buf[37] = 0x09;
        buf[38] = (uint8_t)((len - 34) >> 8);
        buf[39] = (uint8_t)(len - 34);
        buf[40] = buf[41] = 0;
    }
}

static void write_frames(const char *spec, int n, size_t len)
{
    struct pktio *p = pktio_open(spec);
    uint8_t buf[2048];
    struct pktio_pkt pkts[PKTIO_BURST];

    assert_non_null(p);
    assert_int_equal(pktio_fd(p), -1);
    assert_string_equal(pktio_name(p), "");
    for (int i = 0; i < n; i += PKTIO_BURST) {
        int k = n - i < PKTIO_BURST ? n - i : PKTIO_BURST;

        for (int j = 0; j < k; j++) {
            pkts[j].data = buf;
            pkts[j].len = (uint32_t)len;
        }
        frame(buf, len, 2, 17, (uint8_t)i);
        assert_int_equal(pktio_send(p, pkts, k), k);
    }
    pktio_close(p);
}

static void test_pcap_write_then_read(void **state)
{
    struct fixture *f = *state;
    struct pktio_pkt pkts[PKTIO_BURST];
    struct pktio_stats st;
    struct pktio *p;
    int got = 0, n;

    snprintf(f->spec, sizeof(f->spec), "pcap:,%s", f->a);
    write_frames(f->spec, 100, 100);
    snprintf(f->spec, sizeof(f->spec), "pcap:%s,", f->a);
    p = pktio_open(f->spec);
    assert_non_null(p);
    while ((n = pktio_recv(p, pkts, PKTIO_BURST)) > 0) {
        for (int i = 0; i < n; i++) {
            assert_int_equal(pkts[i].len, 100);
            assert_int_equal(pkts[i].data[99], (uint8_t)((got / 64) * 64));
            assert_true(pkts[i].ts_ns > 0);
            got++;
        }
        pktio_release(p);
    }
    assert_int_equal(n, -1); /* end of input */
    assert_int_equal(got, 100);
    pktio_get_stats(p, &st);
    assert_int_equal(st.rx_packets, 100);
    assert_int_equal(st.rx_bytes, 100 * 100);
    assert_int_equal(pktio_mtu(p), 9000);
    pktio_close(p);
}

/* Accepts IPv4 protocol 47 to 198.18.0.2 (what the redirector uses). */
static const struct sock_filter gre_to_2[] = {
    BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 12),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0x0800, 0, 5),
    BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 23),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 47, 0, 3),
    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 30),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0xc6120002, 0, 1),
    BPF_STMT(BPF_RET | BPF_K, 0x40000),
    BPF_STMT(BPF_RET | BPF_K, 0),
};

static void test_pcap_filter(void **state)
{
    struct fixture *f = *state;
    struct pktio_pkt pkts[PKTIO_BURST], out[4];
    uint8_t bufs[4][80];
    struct pktio *p;
    int n;

    frame(bufs[0], 80, 2, 47, 0xaa); /* GRE to .2: passes */
    frame(bufs[1], 80, 3, 47, 0xbb); /* GRE to .3 */
    frame(bufs[2], 80, 2, 17, 0xcc); /* UDP to .2 */
    frame(bufs[3], 80, 2, 47, 0xdd);
    bufs[3][12] = 0x86; /* not IPv4 */
    for (int i = 0; i < 4; i++) {
        out[i].data = bufs[i];
        out[i].len = 80;
    }
    snprintf(f->spec, sizeof(f->spec), "pcap:,%s", f->a);
    p = pktio_open(f->spec);
    assert_non_null(p);
    assert_int_equal(pktio_send(p, out, 4), 4);
    pktio_close(p);

    snprintf(f->spec, sizeof(f->spec), "pcap:%s", f->a);
    p = pktio_open_filter(f->spec, gre_to_2,
                          sizeof(gre_to_2) / sizeof(gre_to_2[0]));
    assert_non_null(p);
    n = pktio_recv(p, pkts, PKTIO_BURST);
    assert_int_equal(n, 1);
    assert_int_equal(pkts[0].data[79], 0xaa);
    pktio_release(p);
    assert_int_equal(pktio_recv(p, pkts, PKTIO_BURST), -1);
    pktio_close(p);
}

static void test_pcap_zero_copy_and_sink(void **state)
{
    struct fixture *f = *state;
    struct pktio_pkt pkts[4];
    struct pktio_stats st;
    struct pktio *p;
    uint32_t cap = 0;
    uint8_t *buf;

    snprintf(f->spec, sizeof(f->spec), "pcap:,%s", f->a);
    p = pktio_open(f->spec);
    assert_non_null(p);
    buf = pktio_tx_alloc(p, &cap);
    assert_non_null(buf);
    assert_true(cap >= 1514);
    frame(buf, 64, 2, 17, 0x11);
    pktio_tx_commit(p, 64);
    assert_int_equal(pktio_tx_flush(p), 0);
    pktio_get_stats(p, &st);
    assert_int_equal(st.tx_packets, 1);
    assert_int_equal(st.tx_bytes, 64);
    pktio_close(p);

    /* No input: ended at once; no output: frames are counted and dropped
     * on the floor. */
    p = pktio_open("pcap:,");
    assert_non_null(p);
    assert_int_equal(pktio_recv(p, pkts, 4), -1);
    pkts[0].data = (uint8_t *)"\x01\x02";
    pkts[0].len = 2;
    assert_int_equal(pktio_send(p, pkts, 1), 1);
    pktio_close(p);

    snprintf(f->spec, sizeof(f->spec), "pcap:%s", f->a);
    p = pktio_open(f->spec);
    assert_non_null(p);
    assert_int_equal(pktio_recv(p, pkts, 4), 1);
    assert_int_equal(pkts[0].len, 64);
    assert_int_equal(pkts[0].data[63], 0x11);
    pktio_close(p);
}

static void test_bad_specs(void **state)
{
    struct fixture *f = *state;
    struct pktio *p = NULL;

    (void)f;
    assert_null(pktio_open("nonsense"));
    assert_null(pktio_open("tap:foo"));
    assert_null(pktio_open("pcap:/nonexistent/in.pcap,"));
    assert_null(pktio_open("pcap:,/nonexistent/dir/out.pcap"));
    assert_null(pktio_open("afpacket:"));
    assert_null(pktio_open("afpacket:an-interface-name-too-long"));
    assert_null(pktio_open("afpacket:lo,block_ms=0"));
    assert_null(pktio_open("afpacket:lo,block_ms=9x"));
    assert_null(pktio_open("afpacket:lo,colour=red"));
    assert_null(pktio_open("afpacket:lo,stack=drop-gre:"));
    assert_null(pktio_open("afpacket:lo,stack=drop-gre:198.18.0"));
    assert_null(pktio_open("afpacket:lo,stack=drop-gre:198.18.0.2.1"));
    assert_null(pktio_open("afpacket:lo,stack=drop-gre:198.18.0.2x"));
    assert_null(pktio_open("afpacket:lo,stack=drop-gre"));
    assert_null(pktio_open("afxdp:"));
    assert_null(pktio_open("afxdp:an-interface-name-too-long"));
    assert_null(pktio_open("afxdp:lo,mode=turbo"));
    assert_null(pktio_open("afxdp:lo,block_ms=4"));
    assert_null(pktio_open("auto:"));
    assert_null(pktio_open("auto:lo,block_ms=4"));
    if (getuid() == 0) {
        assert_null(pktio_open("afpacket:no-such-if0"));
        assert_null(pktio_open("afxdp:no-such-if0"));
        assert_null(pktio_open("auto:no-such-if0"));
    }
    p = pktio_open("pcap:,");
    assert_non_null(p);
    pktio_close(p);
    pktio_close(NULL);
}

/* ---- checksums ------------------------------------------------------- */

/* Naive reference: ones' complement sum of 16-bit words. */
static uint32_t ref_sum(const uint8_t *p, size_t len)
{
    uint32_t s = 0;

    for (size_t i = 0; i < len; i++)
        s += (i % 2 == 0) ? (uint32_t)p[i] << 8 : p[i];
    while (s > 0xffff)
        s = (s & 0xffff) + (s >> 16);
    return s;
}

/* True if the L4 checksum verifies (sum over pseudo header + segment is
 * all ones). 'ipoff' = start of IP, v6 selects the pseudo header. */
static int l4_ok(const uint8_t *f, size_t ipoff, int v6)
{
    uint8_t pseudo[40 + 8];
    size_t plen, l4off, l4len;
    uint32_t s;

    if (v6) {
        memcpy(pseudo, f + ipoff + 8, 32);
        l4len = (size_t)(f[ipoff + 4] << 8 | f[ipoff + 5]);
        l4off = ipoff + 40;
        plen = 32;
        pseudo[plen++] = 0, pseudo[plen++] = 0;
        pseudo[plen++] = (uint8_t)(l4len >> 8);
        pseudo[plen++] = (uint8_t)l4len;
        pseudo[plen++] = 0, pseudo[plen++] = 0, pseudo[plen++] = 0;
        pseudo[plen++] = f[ipoff + 6];
    } else {
        size_t ihl = (size_t)(f[ipoff] & 15) * 4;

        l4len = (size_t)(f[ipoff + 2] << 8 | f[ipoff + 3]) - ihl;
        l4off = ipoff + ihl;
        memcpy(pseudo, f + ipoff + 12, 8);
        plen = 8;
        pseudo[plen++] = 0;
        pseudo[plen++] = f[ipoff + 9];
        pseudo[plen++] = (uint8_t)(l4len >> 8);
        pseudo[plen++] = (uint8_t)l4len;
    }
    s = ref_sum(pseudo, plen) + ref_sum(f + l4off, l4len);
    while (s > 0xffff)
        s = (s & 0xffff) + (s >> 16);
    return s == 0xffff;
}

static void test_csum_fill(void **state)
{
    uint8_t f[200], v6[200];

    (void)state;
    frame(f, 101, 2, 17, 0x5a); /* odd length UDP */
    assert_false(l4_ok(f, 14, 0));
    assert_int_equal(pktio_csum_fill(f, 101), 0);
    assert_true(l4_ok(f, 14, 0));

    frame(f, 120, 2, 6, 0x33); /* TCP */
    f[14 + 20 + 12] = 0x50;
    assert_int_equal(pktio_csum_fill(f, 120), 0);
    assert_true(l4_ok(f, 14, 0));
    assert_int_equal(pktio_csum_fill(f, 60), -1); /* IP longer than frame */

    /* IPv6 UDP behind a VLAN tag. */
    memset(v6, 0x77, sizeof(v6));
    memcpy(v6,
           "\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01\x81\x00"
           "\x00\x05\x86\xdd",
           18);
    v6[18] = 0x60;
    v6[22] = 0, v6[23] = 50; /* payload length */
    v6[24] = 17;
    v6[18 + 40 + 4] = 0, v6[18 + 40 + 5] = 50;
    assert_int_equal(pktio_csum_fill(v6, 18 + 40 + 50), 0);
    assert_true(l4_ok(v6, 18, 1));

    frame(f, 80, 2, 47, 0); /* GRE: not ours to fill */
    assert_int_equal(pktio_csum_fill(f, 80), -1);
    f[20] = 0x20; /* a UDP fragment */
    f[23] = 17;
    assert_int_equal(pktio_csum_fill(f, 80), -1);
    assert_int_equal(pktio_csum_fill(f, 10), -1);
}

/* ---- AF_PACKET on a veth pair in a private namespace ------------------ */

/* The AF_PACKET part runs in a forked child (its own namespace), where a
 * cmocka assert would jump back into the parent's copy of the runner:
 * failures there print and exit instead. */
#define CHECK(c)                                                               \
    do {                                                                       \
        if (!(c)) {                                                            \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__,   \
                    #c);                                                       \
            _exit(1);                                                          \
        }                                                                      \
    } while (0)

static int sh(const char *cmd)
{
    int rc = system(cmd);

    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

static uint64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static double cpu_s(void)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/* Receives on 'p' until 'want' frames of 'len' bytes ending in 'tag' came
 * or 'timeout_ms' passed; copies the last one into 'copy' (if not NULL). */
static int recv_all(struct pktio *p, int want, int timeout_ms, uint8_t tag,
                    uint32_t len, uint8_t *copy)
{
    struct pktio_pkt pkts[PKTIO_BURST];
    uint64_t end = now_ms() + (uint64_t)timeout_ms;
    int got = 0;

    while (got < want && now_ms() < end) {
        struct pktio *const ports[1] = {p};
        int n;

        if (pktio_wait(ports, 1, 50) < 0)
            break;
        n = pktio_recv(p, pkts, PKTIO_BURST);
        for (int i = 0; i < n; i++) {
            if (pkts[i].len == len && pkts[i].data[len - 1] == tag) {
                got++;
                if (copy != NULL)
                    memcpy(copy, pkts[i].data, len);
            }
        }
        pktio_release(p);
    }
    return got;
}

static void send_buf(struct pktio *p, int n, const uint8_t *buf, uint32_t len)
{
    struct pktio_pkt pkts[PKTIO_BURST];

    for (int i = 0; i < PKTIO_BURST; i++) {
        pkts[i].data = (uint8_t *)(uintptr_t)buf;
        pkts[i].len = len;
    }
    for (int sent = 0; sent < n;) {
        int k = n - sent < PKTIO_BURST ? n - sent : PKTIO_BURST;
        int q = pktio_send(p, pkts, k);

        CHECK(q >= 0);
        sent += q;
        if (q < k)
            usleep(1000); /* ring full: let the kernel catch up */
    }
}

static void send_n(struct pktio *p, int n, uint32_t len, uint8_t tag)
{
    uint8_t buf[1600];

    frame(buf, len, 2, 17, tag);
    send_buf(p, n, buf, len);
}

/* UDP from the kernel stack on va: veth leaves its checksum to offload. */
static void send_kernel_udp(void)
{
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(9)};
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    char msg[57];

    memset(msg, 0xe1, sizeof(msg));
    CHECK(fd >= 0);
    CHECK(inet_pton(AF_INET, "198.18.77.2", &to.sin_addr) == 1);
    CHECK(sendto(fd, msg, sizeof(msg), 0, (struct sockaddr *)&to, sizeof(to)) ==
          (ssize_t)sizeof(msg));
    close(fd);
}

/* Ip InReceives of this network namespace (/proc/net/snmp). */
static uint64_t ip_in_receives(void)
{
    char line[1024];
    unsigned long long v = 0;
    int seen = 0;
    FILE *f = fopen("/proc/net/snmp", "r");

    CHECK(f != NULL);
    while (fgets(line, sizeof(line), f) != NULL) {
        /* The second "Ip:" line holds the values: Forwarding DefaultTTL
         * InReceives ... */
        if (strncmp(line, "Ip:", 3) == 0 && ++seen == 2)
            CHECK(sscanf(line, "Ip: %*u %*u %llu", &v) == 1);
    }
    fclose(f);
    CHECK(seen == 2);
    return v;
}

/* stack=drop: the ring gets every frame, the kernel's IP stack none, and
 * only while the port is open. 'b' is open on vb with stack=keep. */
static void stack_drop_body(struct pktio *a, struct pktio *b)
{
    uint64_t in0;

    /* Frames to vb's own MAC: the kernel's IP stack takes them in. */
    CHECK(sh("ip link set vb address 02:00:00:00:00:02") == 0);
    in0 = ip_in_receives();
    send_n(a, 100, 60, 0xf1);
    CHECK(recv_all(b, 100, 2000, 0xf1, 60, NULL) == 100);
    CHECK(ip_in_receives() - in0 >= 100);
    pktio_close(b);

    b = pktio_open("afpacket:vb,block_ms=2,stack=drop");
    CHECK(b != NULL);
    in0 = ip_in_receives();
    send_n(a, 100, 60, 0xf2);
    CHECK(recv_all(b, 100, 2000, 0xf2, 60, NULL) == 100);
    CHECK(ip_in_receives() == in0);
    pktio_close(b);

    /* The drop went with the port. */
    in0 = ip_in_receives();
    send_n(a, 100, 60, 0xf3);
    for (int i = 0; i < 100 && ip_in_receives() - in0 < 100; i++)
        usleep(10000);
    CHECK(ip_in_receives() - in0 >= 100);
    CHECK(pktio_open("afpacket:vb,stack=maybe") == NULL);
}

/* GRE (IP protocol 47) to 198.18.0.2 from the kernel stack on va, 'n'
 * datagrams of 'len' bytes ending in 'tag': linear skbs, unlike frames
 * from a TX ring, whose payload is in page fragments. */
static void send_kernel_gre(int n, size_t len, uint8_t tag)
{
    struct sockaddr_in to = {.sin_family = AF_INET};
    int fd = socket(AF_INET, SOCK_RAW, 47);
    uint8_t msg[256];

    CHECK(fd >= 0 && len <= sizeof(msg));
    memset(msg, tag, len);
    CHECK(inet_pton(AF_INET, "198.18.0.2", &to.sin_addr) == 1);
    for (int i = 0; i < n; i++)
        CHECK(sendto(fd, msg, len, 0, (struct sockaddr *)&to, sizeof(to)) ==
              (ssize_t)len);
    close(fd);
}

/* Sends 'n' frames of 'len' bytes ('proto' to 198.18.0.'dst', ending in
 * 'tag') from 'a' and checks that 'b' gets them all and that the kernel's
 * IP stack took in 'stack' of them. */
static void expect_stack(struct pktio *a, struct pktio *b, int n, uint32_t len,
                         uint8_t dst, uint8_t proto, uint8_t tag,
                         uint64_t stack)
{
    uint8_t buf[3200];
    uint64_t in0 = ip_in_receives();

    frame(buf, len, dst, proto, tag);
    buf[len - 1] = tag; /* a short frame ends inside the IPv4 header */
    send_buf(a, n, buf, len);
    CHECK(recv_all(b, n, 2000, tag, len, NULL) == n);
    for (int i = 0; i < 100 && ip_in_receives() - in0 < stack; i++)
        usleep(10000);
    CHECK(ip_in_receives() - in0 == stack);
}

/* stack=drop-gre:ADDR: the ring gets every frame; the kernel's IP stack
 * gets all but IPv4 GRE to ADDR, linear or not; frames too short to tell
 * go on to the stack. Then ring drops are counted. vb has the MAC the
 * frames go to (stack_drop_body). */
static void stack_drop_gre_body(struct pktio *a)
{
    struct pktio *b = pktio_open("afpacket:vb,block_ms=2,"
                                 "stack=drop-gre:198.18.0.2");
    struct pktio_stats st;
    uint64_t in0;
    int got;

    CHECK(b != NULL);
    expect_stack(a, b, 100, 1400, 2, 47, 0x91, 0); /* from a TX ring */
    /* Jumbo frames leave a TX ring in page fragments: the program reads
     * them through bpf_skb_load_bytes. */
    {
        struct pktio *j;

        CHECK(sh("ip link set va mtu 4000 && ip link set vb mtu 4000") == 0);
        j = pktio_open("afpacket:va");
        CHECK(j != NULL);
        expect_stack(j, b, 100, 3000, 2, 47, 0x98, 0);
        expect_stack(j, b, 100, 3000, 2, 17, 0x99, 100);
        pktio_close(j);
        CHECK(sh("ip link set va mtu 1500 && ip link set vb mtu 1500") == 0);
    }
    expect_stack(a, b, 100, 60, 2, 17, 0x92, 100); /* not GRE */
    expect_stack(a, b, 100, 60, 3, 47, 0x93, 100); /* not to us */
    expect_stack(a, b, 100, 30, 2, 47, 0x94, 100); /* too short to tell */
    /* Linear skbs from the kernel's own stack: 14 + 20 + 40 bytes. */
    CHECK(sh("ip route add 198.18.0.2/32 dev va && "
             "ip neigh add 198.18.0.2 lladdr 02:00:00:00:00:02 dev va") == 0);
    in0 = ip_in_receives();
    send_kernel_gre(100, 40, 0x95);
    CHECK(recv_all(b, 100, 2000, 0x95, 74, NULL) == 100);
    usleep(50000);
    CHECK(ip_in_receives() == in0);
    pktio_close(b);
    /* Gone with the port. */
    in0 = ip_in_receives();
    send_kernel_gre(100, 40, 0x96);
    for (int i = 0; i < 100 && ip_in_receives() - in0 < 100; i++)
        usleep(10000);
    CHECK(ip_in_receives() - in0 == 100);

    /* A ring nobody reads drops, and the drops are counted. */
    b = pktio_open("afpacket:vb");
    CHECK(b != NULL);
    send_n(a, 5000, 1400, 0x97);
    usleep(50000);
    got = recv_all(b, 5000, 200, 0x97, 1400, NULL);
    pktio_get_stats(b, &st);
    CHECK(got < 5000 && st.rx_dropped > 0);
    CHECK((uint64_t)got + st.rx_dropped >= 5000);
    pktio_close(b);
}

static void afpacket_body(void)
{
    struct pktio *a, *b;
    struct pktio_pkt pkts[PKTIO_BURST];
    struct pktio_stats st;
    uint8_t mac[6], got[1600], vlan[200];
    uint64_t t0;
    double c0;
    int n;

    CHECK(sh("sysctl -qw net.ipv6.conf.default.disable_ipv6=1; "
             "ip link add va type veth peer name vb && "
             "ip link set va up && ip link set vb up && "
             "ip link set va mtu 1500") == 0);
    a = pktio_open("afpacket:va");
    b = pktio_open("afpacket:vb,block_ms=2");
    CHECK(a != NULL && b != NULL);
    CHECK(strcmp(pktio_name(a), "va") == 0);
    CHECK(pktio_mtu(a) == 1500);
    pktio_hwaddr(a, mac);
    CHECK(mac[0] != 0 || mac[1] != 0 || mac[5] != 0);
    CHECK(pktio_fd(a) >= 0);

    /* A burst both ways; each side sees only the other's frames. */
    send_n(a, 1000, 1400, 0xa1);
    send_n(b, 300, 60, 0xb1);
    CHECK(recv_all(b, 1000, 2000, 0xa1, 1400, NULL) == 1000);
    CHECK(recv_all(a, 300, 2000, 0xb1, 60, NULL) == 300);
    n = pktio_recv(a, pkts, PKTIO_BURST); /* nothing of our own came back */
    for (int i = 0; i < n; i++)
        CHECK(pkts[i].data[pkts[i].len - 1] != 0xa1);
    pktio_release(a);
    pktio_get_stats(a, &st);
    CHECK(st.tx_packets == 1000 && st.tx_bytes == 1000 * 1400);
    CHECK(st.tx_dropped == 0);
    pktio_get_stats(b, &st);
    CHECK(st.rx_packets >= 1000);

    /* Frames too big for the device are refused at alloc time. */
    {
        uint32_t cap = 0;
        CHECK(pktio_tx_alloc(a, &cap) != NULL);
        CHECK(cap >= 1514 && cap < 1600);
    }

    /* One frame alone is handed over by the block timeout. */
    t0 = now_ms();
    send_n(a, 1, 100, 0xc1);
    CHECK(recv_all(b, 1, 1000, 0xc1, 100, NULL) == 1);
    CHECK(now_ms() - t0 < 200);

    /* Idle: waiting blocks instead of spinning. */
    c0 = cpu_s();
    t0 = now_ms();
    {
        struct pktio *const ports[2] = {a, b};
        int wakeups = 0;

        while (now_ms() - t0 < 300) {
            if (pktio_wait(ports, 2, 100) > 0) {
                wakeups++;
                for (int i = 0; i < 2; i++) {
                    (void)pktio_recv(ports[i], pkts, PKTIO_BURST);
                    pktio_release(ports[i]);
                }
            }
        }
        CHECK(wakeups < 10);
    }
    CHECK(cpu_s() - c0 < 0.05);

    /* A VLAN-tagged frame arrives with its tag, byte for byte. */
    frame(vlan + 4, 120, 2, 17, 0xd1);
    memmove(vlan, vlan + 4, 12);
    memcpy(vlan + 12, "\x81\x00\x20\x07", 4); /* PCP 1, VID 7 */
    send_buf(a, 1, vlan, 124);
    CHECK(recv_all(b, 1, 1000, 0xd1, 124, got) == 1);
    CHECK(memcmp(got, vlan, 124) == 0);

    /* UDP whose checksum the sender left to offload arrives complete. */
    CHECK(sh("ip addr add 198.18.77.1/24 dev va && "
             "ip neigh add 198.18.77.2 lladdr 02:00:00:00:00:02 dev va") == 0);
    send_kernel_udp();
    CHECK(recv_all(b, 1, 1000, 0xe1, 14 + 20 + 8 + 57, got) == 1);
    CHECK(l4_ok(got, 14, 0));

    stack_drop_body(a, b); /* closes b */
    stack_drop_gre_body(a);
    pktio_close(a);
    (void)sh("ip link del va");
}

static void test_afpacket_veth(void **state)
{
    pid_t pid;
    int status = 0;

    (void)state;
    if (getuid() != 0 || sh("command -v ip >/dev/null") != 0) {
        skip();
        return;
    }
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (unshare(CLONE_NEWNET) < 0)
            _exit(77);
        afpacket_body();
        _exit(0);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 77) {
        skip();
        return;
    }
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

/* ---- AF_XDP on a veth pair, against AF_PACKET ------------------------- */

/* The XDP program attached to 'ifname' (0: none) and how (XDP_ATTACHED_*). */
static uint32_t xdp_prog(const char *ifname, uint8_t *mode)
{
    LIBBPF_OPTS(bpf_xdp_query_opts, q);
    int ifindex = (int)if_nametoindex(ifname);

    CHECK(ifindex > 0);
    CHECK(bpf_xdp_query(ifindex, 0, &q) == 0);
    if (mode != NULL)
        *mode = q.attach_mode;
    return q.prog_id;
}

/* The kernel's count of frames 'ifname' dropped on receive (a veth's
 * backlog overflowing), read over netlink, which sees our namespace. */
static uint64_t if_rx_dropped(const char *ifname)
{
    struct ifaddrs *ifa = NULL;
    uint64_t n = 0;

    CHECK(getifaddrs(&ifa) == 0);
    for (struct ifaddrs *i = ifa; i != NULL; i = i->ifa_next)
        if (i->ifa_addr != NULL && i->ifa_addr->sa_family == AF_PACKET &&
            i->ifa_data != NULL && strcmp(i->ifa_name, ifname) == 0)
            n = ((const struct rtnl_link_stats *)i->ifa_data)->rx_dropped;
    freeifaddrs(ifa);
    return n;
}

/* Nothing attached, by the kernel's account and by ip(8)'s. */
static void check_no_xdp(const char *ifname)
{
    char cmd[128];

    CHECK(xdp_prog(ifname, NULL) == 0);
    snprintf(cmd, sizeof(cmd), "ip link show %s | grep -q xdp", ifname);
    CHECK(sh(cmd) == 1);
}

/* Sends 'n' frames of 'len' bytes tagged 'tag' from 'from' and checks that
 * 'to' receives them all, byte for byte, and the counters of both. */
static void burst(struct pktio *from, struct pktio *to, int n, uint32_t len,
                  uint8_t tag)
{
    struct pktio_stats s0, s1, r0, r1;
    uint8_t want[1600], got[1600];

    frame(want, len, 2, 17, tag);
    want[len - 2] = (uint8_t)len; /* not all one byte */
    pktio_get_stats(from, &s0);
    pktio_get_stats(to, &r0);
    send_buf(from, n, want, len);
    CHECK(recv_all(to, n, 3000, tag, len, got) == n);
    CHECK(memcmp(got, want, len) == 0);
    pktio_get_stats(from, &s1);
    pktio_get_stats(to, &r1);
    CHECK(s1.tx_packets - s0.tx_packets == (uint64_t)n);
    CHECK(s1.tx_bytes - s0.tx_bytes == (uint64_t)n * len);
    CHECK(s1.tx_dropped == s0.tx_dropped);
    CHECK(r1.rx_packets - r0.rx_packets >= (uint64_t)n);
    CHECK(r1.rx_bytes - r0.rx_bytes >= (uint64_t)n * len);
    CHECK(r1.rx_dropped == r0.rx_dropped);
}

/* Opens 'spec' in a child that drops root (as fastpath does once its ports
 * are open) before closing it, or is killed with SIGKILL while it holds
 * the port: either way nothing may stay attached. */
static void close_unprivileged_or_killed(const char *spec, bool kill_it)
{
    int up[2], go[2], status = 0;
    char c = 0;
    pid_t pid;

    CHECK(pipe(up) == 0 && pipe(go) == 0);
    pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        struct pktio *p = pktio_open(spec);

        close(up[0]);
        close(go[1]);
        if (p == NULL)
            _exit(2);
        if (setgroups(0, NULL) < 0 || setgid(65534) < 0 || setuid(65534) < 0)
            _exit(3);
        CHECK(write(up[1], "x", 1) == 1);
        /* Holds the port until the parent has seen it attached (and is
         * killed here in the SIGKILL case). */
        if (read(go[0], &c, 1) != 1 || kill_it)
            _exit(4);
        pktio_close(p);
        _exit(0);
    }
    close(up[1]);
    close(go[0]);
    CHECK(read(up[0], &c, 1) == 1);
    close(up[0]);
    CHECK(xdp_prog("vb", NULL) != 0);
    if (kill_it)
        CHECK(kill(pid, SIGKILL) == 0);
    else
        CHECK(write(go[1], "x", 1) == 1);
    CHECK(waitpid(pid, &status, 0) == pid);
    close(go[1]);
    if (kill_it)
        CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    else
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    check_no_xdp("vb");
}

static void afxdp_body(void)
{
    struct pktio *a, *b;
    struct pktio_pkt pkts[PKTIO_BURST];
    struct pktio_stats st;
    uint8_t mode = 0, mac[6], got[1600], vlan[200];
    uint64_t t0, backlog;
    double c0;
    int n;

    CHECK(sh("sysctl -qw net.ipv6.conf.default.disable_ipv6=1; "
             "ip link add va type veth peer name vb && "
             "ip link set va up && ip link set vb up") == 0);
    b = pktio_open("afxdp:vb");
    if (b == NULL) {
        fprintf(stderr, "AF_XDP refused here (reason above): skipped\n");
        _exit(77);
    }
    a = pktio_open("afpacket:va,block_ms=2");
    CHECK(a != NULL);
    CHECK(strcmp(pktio_name(b), "vb") == 0);
    CHECK(pktio_mtu(b) == 1500);
    CHECK(pktio_fd(b) >= 0);
    pktio_hwaddr(b, mac);
    CHECK(mac[0] != 0 || mac[1] != 0 || mac[5] != 0);
    CHECK(xdp_prog("vb", &mode) != 0 && mode == XDP_ATTACHED_SKB);
    CHECK(sh("ip -d link show vb | grep -q 'promiscuity 1 '") == 0);

    /* Bursts both ways, small and large frames. */
    burst(a, b, 1000, 1400, 0xa1);
    burst(a, b, 300, 60, 0xa2);
    burst(b, a, 1000, 1400, 0xb1);
    burst(b, a, 3000, 60, 0xb2); /* more than the TX frames: reuse */
    /* Our own frames do not come back to us. */
    n = pktio_recv(b, pkts, PKTIO_BURST);
    for (int i = 0; i < n; i++)
        CHECK(pkts[i].data[pkts[i].len - 1] != 0xb1 &&
              pkts[i].data[pkts[i].len - 1] != 0xb2);
    pktio_release(b);
    {
        uint32_t cap = 0;
        CHECK(pktio_tx_alloc(b, &cap) != NULL);
        CHECK(cap >= 1514 && cap < 1600);
    }

    /* A frame alone arrives at once (no block timeout here). */
    t0 = now_ms();
    send_n(a, 1, 100, 0xc1);
    CHECK(recv_all(b, 1, 1000, 0xc1, 100, NULL) == 1);
    CHECK(now_ms() - t0 < 200);

    /* A VLAN tag in the frame stays there. */
    frame(vlan + 4, 120, 2, 17, 0xd1);
    memmove(vlan, vlan + 4, 12);
    memcpy(vlan + 12, "\x81\x00\x20\x07", 4);
    send_buf(a, 1, vlan, 124);
    CHECK(recv_all(b, 1, 1000, 0xd1, 124, got) == 1);
    CHECK(memcmp(got, vlan, 124) == 0);

    /* A UDP checksum left to offload arrives complete, although AF_XDP
     * does not say that it was missing. */
    CHECK(sh("ip addr add 198.18.77.1/24 dev va && "
             "ip neigh add 198.18.77.2 lladdr 02:00:00:00:00:02 dev va") == 0);
    send_kernel_udp();
    CHECK(recv_all(b, 1, 1000, 0xe1, 14 + 20 + 8 + 57, got) == 1);
    CHECK(l4_ok(got, 14, 0));

    /* Idle: waiting blocks instead of spinning. */
    c0 = cpu_s();
    t0 = now_ms();
    while (now_ms() - t0 < 300) {
        struct pktio *const ports[1] = {b};

        if (pktio_wait(ports, 1, 100) > 0) {
            (void)pktio_recv(b, pkts, PKTIO_BURST);
            pktio_release(b);
        }
    }
    CHECK(cpu_s() - c0 < 0.05);

    /* A receiver that does not read: the kernel drops what does not fit
     * (2048 frames) and the port counts it. */
    pktio_get_stats(b, &st);
    CHECK(st.rx_dropped == 0);
    backlog = if_rx_dropped("vb");
    for (int i = 0; i < 30; i++) {
        send_n(a, 100, 60, 0xf1);
        usleep(2000); /* stay below the veth backlog (1000 frames) */
    }
    usleep(50000);
    backlog = if_rx_dropped("vb") - backlog; /* 0 unless overloaded */
    n = recv_all(b, 3000, 500, 0xf1, 60, NULL);
    pktio_get_stats(b, &st);
    CHECK(n == 2048);
    CHECK(st.rx_dropped + backlog == 3000 - 2048);

    /* Closed: nothing stays on the interface, and promiscuity goes. */
    pktio_close(b);
    check_no_xdp("vb");
    CHECK(sh("ip -d link show vb | grep -q 'promiscuity 0 '") == 0);

    /* Native (driver) XDP: veth has it. */
    b = pktio_open("afxdp:vb,mode=native");
    if (b != NULL) {
        CHECK(xdp_prog("vb", &mode) != 0 && mode == XDP_ATTACHED_DRV);
        burst(a, b, 500, 1400, 0x71);
        burst(b, a, 500, 1400, 0x72);
        pktio_close(b);
        check_no_xdp("vb");
    } else {
        fprintf(stderr, "native XDP refused on veth (reason above): that "
                        "part skipped\n");
    }

    /* Open and close many times: nothing accumulates. */
    for (int i = 0; i < 50; i++) {
        b = pktio_open(i % 2 ? "afxdp:vb" : "afxdp:vb,mode=native");
        if (b == NULL)
            b = pktio_open("afxdp:vb");
        CHECK(b != NULL);
        CHECK(xdp_prog("vb", NULL) != 0);
        pktio_close(b);
        check_no_xdp("vb");
    }

    /* One port per interface: a second open is refused while the first
     * holds it, and the first keeps working. */
    b = pktio_open("afxdp:vb");
    CHECK(b != NULL);
    CHECK(pktio_open("afxdp:vb") == NULL);
    burst(a, b, 100, 60, 0x81);
    pktio_close(b);
    check_no_xdp("vb");

    /* After a privilege drop (fastpath), and after SIGKILL. */
    close_unprivileged_or_killed("afxdp:vb", false);
    close_unprivileged_or_killed("afxdp:vb", true);

    /* "auto:" takes AF_XDP where it can... */
    b = pktio_open("auto:vb");
    CHECK(b != NULL);
    CHECK(xdp_prog("vb", NULL) != 0);
    burst(a, b, 100, 60, 0x91);
    pktio_close(b);
    check_no_xdp("vb");
    /* ...and AF_PACKET for a filtered port (afxdp refuses one)... */
    CHECK(pktio_open_filter("afxdp:vb", gre_to_2,
                            sizeof(gre_to_2) / sizeof(gre_to_2[0])) == NULL);
    b = pktio_open_filter("auto:vb", gre_to_2,
                          sizeof(gre_to_2) / sizeof(gre_to_2[0]));
    CHECK(b != NULL);
    check_no_xdp("vb");
    pktio_close(b);
    /* ...for an MTU too large for a UMEM frame... */
    CHECK(sh("ip link set vb mtu 9000") == 0);
    CHECK(pktio_open("afxdp:vb") == NULL);
    b = pktio_open("auto:vb");
    CHECK(b != NULL && pktio_mtu(b) == 9000);
    check_no_xdp("vb");
    burst(a, b, 100, 60, 0x92);
    pktio_close(b);
    CHECK(sh("ip link set vb mtu 1500") == 0);
    /* ...and for more than one RX queue (ethtool permitting). */
    if (sh("ethtool -L vb rx 2 tx 2 2>/dev/null") == 0) {
        CHECK(pktio_open("afxdp:vb") == NULL);
        b = pktio_open("auto:vb");
        CHECK(b != NULL);
        check_no_xdp("vb");
        pktio_close(b);
        CHECK(sh("ethtool -L vb rx 1 tx 1") == 0);
    }

    /* The interface goes away under an open port: the error says so, and
     * closing afterwards is clean. */
    b = pktio_open("afxdp:vb");
    CHECK(b != NULL);
    pktio_close(a);
    CHECK(sh("ip link del va") == 0);
    CHECK(pktio_error(b) == ENETDOWN);
    pktio_close(b);
}

static void test_afxdp_veth(void **state)
{
    pid_t pid;
    int status = 0;

    (void)state;
    if (getuid() != 0 || sh("command -v ip >/dev/null") != 0) {
        fprintf(stderr, "AF_XDP test needs root and ip(8): skipped\n");
        skip();
        return;
    }
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (unshare(CLONE_NEWNET) < 0) {
            fprintf(stderr, "unshare(CLONE_NEWNET): %s: skipped\n",
                    strerror(errno));
            _exit(77);
        }
        afxdp_body();
        _exit(0);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 77) {
        skip();
        return;
    }
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_pcap_write_then_read, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_pcap_filter, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pcap_zero_copy_and_sink, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_bad_specs, setup, teardown),
        cmocka_unit_test(test_csum_fill),
        cmocka_unit_test(test_afpacket_veth),
        cmocka_unit_test(test_afxdp_veth),
    };
    vn_log_init("test_pktio", VN_LOG_WARN, NULL);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
