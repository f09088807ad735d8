/* fastpath_src: the cheapest packet source we can build for the fast-path
 * benchmark (bench/fastpath.sh). Pre-built UDP/IPv4 frames sit in an
 * AF_PACKET TX ring (TPACKET_V2) with PACKET_QDISC_BYPASS; sending is only
 * flipping slot status words and one send() kick per batch, so the source
 * costs little more than the kernel's own transmit path. Frames never
 * change once built: no per-packet writes, no per-packet system calls.
 *
 *   fastpath_src --dev IF --dst-mac MAC --src-ip A --dst-ip B
 *                [--len 60] [--flows 16] [--secs 5] [--rate PPS]
 *
 * --len is the L2 frame length without FCS (60 = a 64-byte wire frame,
 * 1400 = 1400 bytes on veth); --flows source ports 1024.. (destination port
 * 9, discard), one per slot in turn; --rate 0 (default) sends flat out,
 * otherwise the ring is topped up at most once a millisecond to stay on
 * the rate (no per-packet timers: a timer costs ~16 us here). Runs --secs
 * seconds (or until SIGTERM/SIGINT) and prints one line:
 *   sent N frames in S s: P pps, ring-full waits W
 * Exit status 0, or 1 on a setup failure (printed). */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#ifndef PACKET_QDISC_BYPASS
#define PACKET_QDISC_BYPASS 20
#endif

#define FRAME_SLOT 2048u   /* ring slot bytes (header + frame) */
#define BLOCK_BYTES 65536u /* ring block */
#define RING_SLOTS 1024u   /* 2 MiB of ring */
#define BATCH 256u         /* slots released per kick */
#define DPORT 9
#define SPORT0 1024

static volatile sig_atomic_t stop_flag;

static void on_stop(int sig)
{
    (void)sig;
    stop_flag = 1;
}

static uint64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint32_t csum_add(uint32_t sum, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i + 1 < n; i += 2)
        sum += (uint32_t)(p[i] << 8 | p[i + 1]);
    if (n & 1)
        sum += (uint32_t)(p[n - 1] << 8);
    return sum;
}

static uint16_t csum_fold(uint32_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

static void put16(uint8_t *p, unsigned v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

/* Ethernet + IPv4 + UDP, 'len' bytes, all checksums filled in. */
static void build_frame(uint8_t *f, unsigned len, const uint8_t dst[6],
                        const uint8_t src[6], struct in_addr sip,
                        struct in_addr dip, unsigned sport, unsigned id)
{
    uint8_t *ip = f + 14, *udp = ip + 20;
    unsigned ip_len = len - 14, udp_len = ip_len - 20;
    uint32_t sum;

    memset(f, 0, len);
    memcpy(f, dst, 6);
    memcpy(f + 6, src, 6);
    put16(f + 12, ETHERTYPE_IP);
    ip[0] = 0x45;
    put16(ip + 2, ip_len);
    put16(ip + 4, id);
    ip[8] = 64;
    ip[9] = 17; /* UDP */
    memcpy(ip + 12, &sip, 4);
    memcpy(ip + 16, &dip, 4);
    put16(ip + 10, csum_fold(csum_add(0, ip, 20)));
    put16(udp, sport);
    put16(udp + 2, DPORT);
    put16(udp + 4, udp_len);
    for (unsigned i = 8; i < udp_len; i++)
        udp[i] = (uint8_t)i;
    sum = csum_add(0, ip + 12, 8); /* pseudo header */
    sum += 17 + udp_len;
    sum = csum_add(sum, udp, udp_len);
    unsigned c = csum_fold(sum);
    put16(udp + 6, c == 0 ? 0xffff : c);
}

static int parse_mac(const char *s, uint8_t mac[6])
{
    unsigned v[6];

    if (sscanf(s, "%x:%x:%x:%x:%x:%x", &v[0], &v[1], &v[2], &v[3], &v[4],
               &v[5]) != 6)
        return -1;
    for (int i = 0; i < 6; i++) {
        if (v[i] > 255)
            return -1;
        mac[i] = (uint8_t)v[i];
    }
    return 0;
}

static void usage(void)
{
    fprintf(stderr, "usage: fastpath_src --dev IF --dst-mac MAC --src-ip A "
                    "--dst-ip B [--len 60..1514] [--flows N] [--secs S] "
                    "[--rate PPS]\n");
}

static void die(const char *what)
{
    fprintf(stderr, "fastpath_src: %s: %s\n", what, strerror(errno));
    exit(1);
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"dev", required_argument, NULL, 'd'},
        {"dst-mac", required_argument, NULL, 'm'},
        {"src-ip", required_argument, NULL, 's'},
        {"dst-ip", required_argument, NULL, 'D'},
        {"len", required_argument, NULL, 'l'},
        {"flows", required_argument, NULL, 'f'},
        {"secs", required_argument, NULL, 't'},
        {"rate", required_argument, NULL, 'r'},
        {NULL, 0, NULL, 0},
    };
    const char *dev = NULL;
    uint8_t dmac[6], smac[6];
    struct in_addr sip = {0}, dip = {0};
    unsigned len = 60, flows = 16;
    double secs = 5, rate = 0;
    int have_mac = 0, ch, one = 1, version = TPACKET_V2;

    while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (ch) {
        case 'd':
            dev = optarg;
            break;
        case 'm':
            if (parse_mac(optarg, dmac) < 0) {
                usage();
                return 2;
            }
            have_mac = 1;
            break;
        case 's':
            if (inet_pton(AF_INET, optarg, &sip) != 1) {
                usage();
                return 2;
            }
            break;
        case 'D':
            if (inet_pton(AF_INET, optarg, &dip) != 1) {
                usage();
                return 2;
            }
            break;
        case 'l':
            len = (unsigned)strtoul(optarg, NULL, 10);
            break;
        case 'f':
            flows = (unsigned)strtoul(optarg, NULL, 10);
            break;
        case 't':
            secs = strtod(optarg, NULL);
            break;
        case 'r':
            rate = strtod(optarg, NULL);
            break;
        default:
            usage();
            return 2;
        }
    }
    if (dev == NULL || !have_mac || sip.s_addr == 0 || dip.s_addr == 0 ||
        len < 60 || len > 1514 || flows < 1 || flows > 60000 || secs <= 0 ||
        rate < 0 || optind != argc) {
        usage();
        return 2;
    }

    int fd = socket(AF_PACKET, SOCK_RAW, 0);
    if (fd < 0)
        die("AF_PACKET socket");
    struct ifreq ifr;
    memset(&ifr, 0, sizeof(ifr));
    snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", dev);
    if (ioctl(fd, SIOCGIFINDEX, &ifr) < 0)
        die(dev);
    int ifindex = ifr.ifr_ifindex;
    if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0)
        die("SIOCGIFHWADDR");
    memcpy(smac, ifr.ifr_hwaddr.sa_data, 6);
    if (setsockopt(fd, SOL_PACKET, PACKET_VERSION, &version,
                   sizeof(version)) < 0)
        die("TPACKET_V2");
    if (setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one)) < 0)
        die("PACKET_QDISC_BYPASS");
    if (setsockopt(fd, SOL_PACKET, PACKET_LOSS, &one, sizeof(one)) < 0)
        die("PACKET_LOSS");
    struct tpacket_req req = {
        .tp_block_size = BLOCK_BYTES,
        .tp_block_nr = RING_SLOTS / (BLOCK_BYTES / FRAME_SLOT),
        .tp_frame_size = FRAME_SLOT,
        .tp_frame_nr = RING_SLOTS,
    };
    if (setsockopt(fd, SOL_PACKET, PACKET_TX_RING, &req, sizeof(req)) < 0)
        die("PACKET_TX_RING");
    /* The whole ring may be in flight at once. */
    int sndbuf = (int)(RING_SLOTS * (FRAME_SLOT + 512));
    if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf, sizeof(sndbuf)) <
        0)
        (void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
    size_t map_len = (size_t)req.tp_block_size * req.tp_block_nr;
    uint8_t *ring = mmap(NULL, map_len, PROT_READ | PROT_WRITE,
                         MAP_SHARED | MAP_POPULATE, fd, 0);
    if (ring == MAP_FAILED)
        die("mmap TX ring");
    struct sockaddr_ll sll = {
        .sll_family = AF_PACKET,
        .sll_protocol = htons(ETH_P_IP),
        .sll_ifindex = ifindex,
    };
    if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0)
        die("bind");

    /* Fill every slot once; from now on only the status words change. */
    const size_t data_off = TPACKET2_HDRLEN - sizeof(struct sockaddr_ll);
    for (unsigned i = 0; i < RING_SLOTS; i++) {
        struct tpacket2_hdr *h =
            (struct tpacket2_hdr *)(void *)(ring + (size_t)i * FRAME_SLOT);
        build_frame((uint8_t *)h + data_off, len, dmac, smac, sip, dip,
                    SPORT0 + i % flows, i);
        h->tp_len = len;
        h->tp_status = TP_STATUS_AVAILABLE;
    }

    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_stop;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);

    uint64_t t0 = now_ns(), end = t0 + (uint64_t)(secs * 1e9), t = t0;
    uint64_t sent = 0, waits = 0;
    unsigned head = 0;
    while (!stop_flag && t < end) {
        uint64_t allow = BATCH;
        if (rate > 0) {
            double due = rate * (double)(t - t0) / 1e9 - (double)sent;
            if (due < 1) {
                struct timespec ms = {0, 1000000};
                nanosleep(&ms, NULL);
                t = now_ns();
                continue;
            }
            if (due < (double)allow)
                allow = (uint64_t)due;
        }
        unsigned n = 0;
        while (n < allow) {
            volatile struct tpacket2_hdr *h =
                (volatile struct tpacket2_hdr *)(void *)(ring + (size_t)head *
                                                                    FRAME_SLOT);
            uint32_t st = __atomic_load_n(&h->tp_status, __ATOMIC_ACQUIRE);
            if (st == TP_STATUS_WRONG_FORMAT)
                st = TP_STATUS_AVAILABLE;
            if (st != TP_STATUS_AVAILABLE)
                break;
            __atomic_store_n(&h->tp_status, TP_STATUS_SEND_REQUEST,
                             __ATOMIC_RELEASE);
            head = (head + 1) % RING_SLOTS;
            n++;
        }
        if (n > 0) {
            sent += n;
            if (send(fd, NULL, 0, MSG_DONTWAIT) < 0 && errno != EAGAIN &&
                errno != ENOBUFS && errno != EINTR)
                die("send");
        } else {
            /* The ring is full of frames in flight: wait until one is done
             * (POLLOUT), at most 1 ms. */
            struct pollfd p = {.fd = fd, .events = POLLOUT};
            waits++;
            (void)poll(&p, 1, 1);
        }
        t = now_ns();
    }
    double el = (double)(now_ns() - t0) / 1e9;
    printf("sent %llu frames in %.3f s: %.0f pps, ring-full waits %llu\n",
           (unsigned long long)sent, el, (double)sent / el,
           (unsigned long long)waits);
    munmap(ring, map_len);
    close(fd);
    return 0;
}
