/* pktio_afpacket: AF_PACKET port with a TPACKET_V3 RX ring and a TX ring
 * on one socket.
 *
 * RX: the kernel fills blocks of many frames and hands a block over when it
 * is full or when the block timeout (RX_BLOCK_TIMEOUT_MS) passes, so a
 * quiet port costs nothing in user space: poll() wakes once per block, and
 * under load one wake-up brings hundreds of frames. Our own transmissions
 * are not looped back (PACKET_IGNORE_OUTGOING). The port is promiscuous.
 * TX: frames are written into ring slots and marked; one send() per burst
 * kicks the kernel, which sends every marked slot. PACKET_LOSS makes the
 * kernel skip a malformed slot instead of stopping the ring. Each slot
 * starts with a virtio-net header (PACKET_VNET_HDR) whose hdr_len asks
 * the kernel to copy a frame of up to TX_LINEAR_MAX bytes into the skb's
 * own buffer: without it the skb points into the ring's pages, and every
 * device that must not keep user pages (veth, forwarding into another
 * namespace) copies them into freshly allocated pages (skb_copy_ubufs) and
 * the flow dissector reads the headers piecewise: ~15 % of a forwarding
 * core on veth, against one memcpy (docs/redirector.md). The RX ring then
 * carries a virtio-net header before each frame too (unused).
 *
 * Option stack=drop: the port's frames are this process's alone (a fast
 * path's ports), so the kernel's own copy of each received frame is
 * dropped as soon as the ring has its copy, by a two-instruction tc program
 * on the interface's ingress (tcx, attached through a BPF link: it goes
 * when the port closes or the process dies). Without it, a frame addressed
 * to the interface's MAC goes on through the kernel's IP stack, which
 * routes it, finds no route and drops it: ~250 ns of the sender's CPU per
 * frame on veth (docs/bench-fastpath.md). AF_PACKET taps run before tc
 * ingress in the receive path, so the ring still sees every frame.
 *
 * Option stack=drop-gre:A.B.C.D: the same for a port shared with other
 * traffic (a redirector's transport): only IPv4 GRE packets to A.B.C.D
 * (the frames the process terminates itself) are kept from the kernel
 * stack; everything else goes on as without the option. Without it, each
 * such packet is routed as local, passes netfilter and is dropped there
 * (a VNode has no kernel GRE): ~1 us of the sending core per frame
 * (docs/redirector.md). */
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <errno.h>
#include <linux/bpf.h>
#include <linux/filter.h>
#include <linux/if_packet.h>
#include <linux/virtio_net.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "pktio_impl.h"

#ifndef PACKET_IGNORE_OUTGOING
#define PACKET_IGNORE_OUTGOING 23
#endif

/* <linux/bpf.h> of Linux >= 6.6; Debian 12's headers predate tcx. */
#define TCX_INGRESS_ATTACH 46 /* BPF_TCX_INGRESS */
#define TCX_DROP 2            /* TCX_DROP, = TC_ACT_SHOT */
#define TCX_NEXT (-1)         /* TCX_NEXT: on to the next program, the stack */

/* The RX ring: RX_RING_BYTES in blocks of block_kb (default
 * RX_BLOCK_KB_DEFAULT). A block is handed over when full or after
 * block_ms, so its size bounds how many frames one wake-up brings, i.e.
 * the burst the process then sends on at once. */
#define RX_RING_BYTES (2048u * 1024)
#define RX_BLOCK_KB_DEFAULT 128u
#define RX_BLOCK_KB_MIN 16u /* holds the largest frame, PKTIO_MAX_FRAME */
#define RX_BLOCK_KB_MAX 1024u
#define RX_FRAME_BYTES 2048u   /* nominal: V3 packs frames of any size */
#define RX_BLOCK_MS_DEFAULT 4u /* a partly filled block is handed over */
#define RX_BLOCK_MS_MAX 1000u
#define TX_BLOCK_BYTES (64u * 1024)
#define TX_SLOTS_MIN 256u
/* The kernel's data starts this far into a slot (its tp_hdrlen minus the
 * sockaddr_ll it does not write on TX): the virtio-net header, if any,
 * then the frame. */
#define TX_DATA_OFF TPACKET_ALIGN(sizeof(struct tpacket3_hdr))
/* Frames up to this long are copied into the skb's head on TX: with the
 * kernel's headroom and skb_shared_info it still fits a 2 KiB slab
 * object. Longer ones (jumbo frames) keep today's page fragments rather
 * than ask for a 16 KiB allocation per frame. */
#define TX_LINEAR_MAX 1664u

struct afp {
    struct pktio base;
    uint8_t *map;
    size_t map_len;
    unsigned block_ms;     /* RX block timeout */
    unsigned rx_block_bytes, rx_blocks; /* option block_kb */
    bool stack_drop;       /* option stack=drop */
    bool stack_drop_gre;   /* option stack=drop-gre:ADDR */
    uint32_t drop_gre_dst; /* its ADDR, network order */
    int tcx_prog_fd, tcx_link_fd;
    /* RX ring */
    uint8_t *rx;
    unsigned rx_cur;             /* block being read */
    unsigned rx_rel;             /* first block not yet given back */
    unsigned rx_held;            /* blocks read, not yet given back */
    bool rx_open;                /* rx_cur is ours and partly read */
    unsigned rx_left;            /* frames left in rx_cur */
    struct tpacket3_hdr *rx_pkt; /* next frame in rx_cur */
    /* TX ring */
    uint8_t *tx;
    unsigned tx_frame_bytes, tx_per_block, tx_slots, tx_head;
    uint32_t tx_cap;     /* largest frame the device takes, bytes */
    unsigned tx_pending; /* committed since the last kick */
    unsigned vnet;       /* virtio-net header bytes (0: none) */
};

static uint32_t load_status(const volatile uint32_t *p)
{
    return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static void store_status(volatile uint32_t *p, uint32_t v)
{
    __atomic_store_n(p, v, __ATOMIC_RELEASE);
}

static struct tpacket_block_desc *rx_block(const struct afp *a, unsigned i)
{
    return (struct tpacket_block_desc *)(void *)(a->rx +
                                                 (size_t)i * a->rx_block_bytes);
}

static struct tpacket3_hdr *tx_slot(const struct afp *a, unsigned i)
{
    size_t off = (size_t)(i / a->tx_per_block) * TX_BLOCK_BYTES +
                 (size_t)(i % a->tx_per_block) * a->tx_frame_bytes;

    return (struct tpacket3_hdr *)(void *)(a->tx + off);
}

static int setopt(int fd, int level, int name, const void *val, socklen_t len,
                  const char *what, const char *ifname)
{
    if (setsockopt(fd, level, name, val, len) < 0) {
        log_err("%s: %s: %s", ifname, what, strerror(errno));
        return -1;
    }
    return 0;
}

static int if_info(struct afp *a, int *ifindex)
{
    struct ifreq ifr;

    memset(&ifr, 0, sizeof(ifr));
    snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", a->base.name);
    if (ioctl(a->base.fd, SIOCGIFINDEX, &ifr) < 0) {
        log_err("%s: no such interface: %s", a->base.name, strerror(errno));
        return -1;
    }
    *ifindex = ifr.ifr_ifindex;
    if (ioctl(a->base.fd, SIOCGIFMTU, &ifr) < 0) {
        log_err("%s: SIOCGIFMTU: %s", a->base.name, strerror(errno));
        return -1;
    }
    a->base.mtu = ifr.ifr_mtu;
    if (ioctl(a->base.fd, SIOCGIFHWADDR, &ifr) < 0) {
        log_err("%s: SIOCGIFHWADDR: %s", a->base.name, strerror(errno));
        return -1;
    }
    memcpy(a->base.mac, ifr.ifr_hwaddr.sa_data, 6);
    return 0;
}

/* Sets up both rings and maps them: RX blocks first, then TX blocks. */
static int setup_rings(struct afp *a)
{
    struct tpacket_req3 rx = {0}, tx = {0};
    const char *n = a->base.name;
    int fd = a->base.fd, sndbuf;

    rx.tp_block_size = a->rx_block_bytes;
    rx.tp_block_nr = a->rx_blocks;
    rx.tp_frame_size = RX_FRAME_BYTES;
    rx.tp_frame_nr = a->rx_blocks * (a->rx_block_bytes / RX_FRAME_BYTES);
    rx.tp_retire_blk_tov = a->block_ms;
    /* No TP_FT_REQ_FILL_RXHASH: nothing reads the hash, and computing it
     * ran the flow dissector on every frame (~5 % of a forwarding core). */

    /* A slot holds the largest frame the device sends (one VLAN tag
     * included), rounded to the ring's alignment. */
    a->tx_cap = (uint32_t)a->base.mtu + ETH_HLEN + 4;
    if (a->tx_cap > PKTIO_MAX_FRAME + 4)
        a->tx_cap = PKTIO_MAX_FRAME + 4;
    a->tx_frame_bytes = TPACKET_ALIGN(TX_DATA_OFF + a->vnet + a->tx_cap);
    a->tx_per_block = TX_BLOCK_BYTES / a->tx_frame_bytes;
    tx.tp_block_size = TX_BLOCK_BYTES;
    tx.tp_frame_size = a->tx_frame_bytes;
    tx.tp_block_nr = (TX_SLOTS_MIN + a->tx_per_block - 1) / a->tx_per_block;
    tx.tp_frame_nr = tx.tp_block_nr * a->tx_per_block;
    a->tx_slots = tx.tp_frame_nr;

    if (setopt(fd, SOL_PACKET, PACKET_RX_RING, &rx, sizeof(rx), "RX ring", n) <
            0 ||
        setopt(fd, SOL_PACKET, PACKET_TX_RING, &tx, sizeof(tx), "TX ring", n) <
            0)
        return -1;
    /* Let the whole TX ring be in flight at once: otherwise the kernel
     * leaves slots pending when the socket's send buffer is used up. */
    sndbuf = (int)((size_t)a->tx_slots * (a->tx_frame_bytes + 512));
    if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf, sizeof(sndbuf)) < 0)
        (void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
    a->map_len = (size_t)a->rx_blocks * a->rx_block_bytes +
                 (size_t)tx.tp_block_nr * TX_BLOCK_BYTES;
    a->map = mmap(NULL, a->map_len, PROT_READ | PROT_WRITE,
                  MAP_SHARED | MAP_POPULATE, fd, 0);
    if (a->map == MAP_FAILED) {
        a->map = NULL;
        log_err("%s: mmap of %zu bytes of rings: %s", n, a->map_len,
                strerror(errno));
        return -1;
    }
    a->rx = a->map;
    a->tx = a->map + (size_t)a->rx_blocks * a->rx_block_bytes;
    return 0;
}

static void afp_close(struct pktio *p)
{
    struct afp *a = (struct afp *)p;

    if (a->map != NULL)
        munmap(a->map, a->map_len);
    if (a->tcx_link_fd >= 0)
        close(a->tcx_link_fd);
    if (a->tcx_prog_fd >= 0)
        close(a->tcx_prog_fd);
    if (p->fd >= 0)
        close(p->fd);
    free(a);
}

/* Parses "IFNAME[,block_ms=N][,block_kb=N][,stack=drop|drop-gre:ADDR|keep]"
 * into 'a'. */
static int parse_arg(struct afp *a, const char *arg)
{
    const char *comma = strchr(arg, ',');
    size_t len = comma != NULL ? (size_t)(comma - arg) : strlen(arg);

    a->block_ms = RX_BLOCK_MS_DEFAULT;
    a->rx_block_bytes = RX_BLOCK_KB_DEFAULT * 1024;
    a->rx_blocks = RX_RING_BYTES / a->rx_block_bytes;
    if (len == 0 || len >= IF_NAMESIZE) {
        log_err("bad interface name in 'afpacket:%s'", arg);
        return -1;
    }
    memcpy(a->base.name, arg, len);
    a->base.name[len] = '\0';
    while (comma != NULL) {
        const char *opt = comma + 1;
        char *end = NULL;
        unsigned long v;

        comma = strchr(opt, ',');
        len = comma != NULL ? (size_t)(comma - opt) : strlen(opt);
        if (len == 10 && strncmp(opt, "stack=drop", 10) == 0) {
            a->stack_drop = true;
            a->stack_drop_gre = false;
            continue;
        }
        if (len == 10 && strncmp(opt, "stack=keep", 10) == 0) {
            a->stack_drop = a->stack_drop_gre = false;
            continue;
        }
        if (len > 15 && strncmp(opt, "stack=drop-gre:", 15) == 0) {
            char addr[INET_ADDRSTRLEN] = "";
            struct in_addr in;

            if (len - 15 < sizeof(addr))
                memcpy(addr, opt + 15, len - 15);
            if (inet_pton(AF_INET, addr, &in) != 1) {
                log_err("bad address in 'afpacket:%s': stack=drop-gre:A.B.C.D",
                        arg);
                return -1;
            }
            a->stack_drop_gre = true;
            a->stack_drop = false;
            a->drop_gre_dst = in.s_addr;
            continue;
        }
        if (strncmp(opt, "block_kb=", 9) == 0) {
            errno = 0;
            v = strtoul(opt + 9, &end, 10);
            if (errno != 0 || end == opt + 9 ||
                (*end != '\0' && *end != ',') || v < RX_BLOCK_KB_MIN ||
                v > RX_BLOCK_KB_MAX || (v & (v - 1)) != 0) {
                log_err("bad block_kb in 'afpacket:%s': a power of two from "
                        "%u to %u KiB",
                        arg, RX_BLOCK_KB_MIN, RX_BLOCK_KB_MAX);
                return -1;
            }
            a->rx_block_bytes = (unsigned)v * 1024;
            a->rx_blocks = RX_RING_BYTES / a->rx_block_bytes;
            continue;
        }
        if (strncmp(opt, "block_ms=", 9) != 0) {
            log_err("unknown option in 'afpacket:%s' (block_ms=N, block_kb=N, "
                    "stack=drop|drop-gre:A.B.C.D|keep)",
                    arg);
            return -1;
        }
        errno = 0;
        v = strtoul(opt + 9, &end, 10);
        if (errno != 0 || end == opt + 9 || (*end != '\0' && *end != ',') ||
            v < 1 || v > RX_BLOCK_MS_MAX) {
            log_err("bad block_ms in 'afpacket:%s': 1..%u milliseconds", arg,
                    RX_BLOCK_MS_MAX);
            return -1;
        }
        a->block_ms = (unsigned)v;
    }
    return 0;
}

/* Instructions of the tc programs below. */
#define I_MOV_IMM(d, v)                                                        \
    {.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = (d), .imm = (v)}
#define I_MOV_REG(d, s)                                                        \
    {.code = BPF_ALU64 | BPF_MOV | BPF_X, .dst_reg = (d), .src_reg = (s)}
#define I_ADD_IMM(d, v)                                                        \
    {.code = BPF_ALU64 | BPF_ADD | BPF_K, .dst_reg = (d), .imm = (v)}
#define I_LDX(size, d, s, o)                                                   \
    {.code = BPF_LDX | BPF_MEM | (size),                                       \
     .dst_reg = (d),                                                           \
     .src_reg = (s),                                                           \
     .off = (o)}
/* if (dst op src) pc += o */
#define I_JREG(op, d, s, o)                                                    \
    {.code = BPF_JMP | (op) | BPF_X, .dst_reg = (d), .src_reg = (s), .off = (o)}
/* if ((u32)dst != v) pc += o */
#define I_JNE32(d, v, o)                                                       \
    {.code = BPF_JMP32 | BPF_JNE | BPF_K, .dst_reg = (d), .off = (o), .imm = (v)}
#define I_JNE(d, v, o)                                                         \
    {.code = BPF_JMP | BPF_JNE | BPF_K, .dst_reg = (d), .off = (o), .imm = (v)}
#define I_JA(o) {.code = BPF_JMP | BPF_JA, .off = (o)}
#define I_CALL(f) {.code = BPF_JMP | BPF_CALL, .imm = (f)}
#define I_EXIT {.code = BPF_JMP | BPF_EXIT}

/* stack=drop-gre:ADDR: TCX_DROP for an IPv4 GRE packet to 'dst' (network
 * order), TCX_NEXT for anything else. Bytes 12..33 of the frame (EtherType,
 * IPv4 protocol, destination) are read in place when the skb holds them in
 * its linear part (what a router's forwarding leaves), else copied to the
 * stack with bpf_skb_load_bytes (frames straight from a TX ring keep their
 * payload in page fragments); never modified. A frame too short for
 * those bytes goes on to the stack. Writes the program into 'insns'
 * (GRE_PROG_LEN) and returns its length. */
#define GRE_PROG_LEN 30
static unsigned gre_drop_prog(uint32_t dst, struct bpf_insn *insns)
{
    /* Loaded in host order, these equal the wire bytes. */
    const int32_t ipv4 = (int32_t)htons(ETH_P_IP);
    const int32_t d = (int32_t)dst;
    const struct bpf_insn prog[GRE_PROG_LEN] = {
        /* 0 */ I_MOV_REG(BPF_REG_6, BPF_REG_1),
        I_LDX(BPF_W, BPF_REG_2, BPF_REG_6, offsetof(struct __sk_buff, data)),
        I_LDX(BPF_W, BPF_REG_3, BPF_REG_6,
              offsetof(struct __sk_buff, data_end)),
        I_MOV_REG(BPF_REG_4, BPF_REG_2),
        I_ADD_IMM(BPF_REG_4, 34),
        /* 5 */ I_JREG(BPF_JGT, BPF_REG_4, BPF_REG_3, 7), /* -> 13 */
        I_LDX(BPF_H, BPF_REG_5, BPF_REG_2, 12),
        I_JNE32(BPF_REG_5, ipv4, 20), /* -> 28 */
        I_LDX(BPF_B, BPF_REG_5, BPF_REG_2, 14 + 9),
        I_JNE32(BPF_REG_5, 47, 18), /* -> 28 */
        /* 10 */ I_LDX(BPF_W, BPF_REG_5, BPF_REG_2, 14 + 16),
        I_JNE32(BPF_REG_5, d, 16), /* -> 28 */
        I_JA(13),                  /* -> 26 */
        /* 13: bpf_skb_load_bytes(skb, 12, fp - 26, 22) */
        I_MOV_REG(BPF_REG_1, BPF_REG_6),
        I_MOV_IMM(BPF_REG_2, 12),
        /* 15 */ I_MOV_REG(BPF_REG_3, BPF_REG_10),
        I_ADD_IMM(BPF_REG_3, -26),
        I_MOV_IMM(BPF_REG_4, 22),
        I_CALL(BPF_FUNC_skb_load_bytes),
        I_JNE(BPF_REG_0, 0, 8), /* -> 28 */
        /* 20: frame byte 12 + k is at fp - 26 + k */
        I_LDX(BPF_H, BPF_REG_5, BPF_REG_10, -26),
        I_JNE32(BPF_REG_5, ipv4, 6), /* -> 28 */
        I_LDX(BPF_B, BPF_REG_5, BPF_REG_10, -26 + 11),
        I_JNE32(BPF_REG_5, 47, 4), /* -> 28 */
        I_LDX(BPF_W, BPF_REG_5, BPF_REG_10, -26 + 18),
        /* 25 */ I_JNE32(BPF_REG_5, d, 2), /* -> 28 */
        /* 26 */ I_MOV_IMM(BPF_REG_0, TCX_DROP),
        I_EXIT,
        /* 28 */ I_MOV_IMM(BPF_REG_0, TCX_NEXT),
        I_EXIT,
    };

    memcpy(insns, prog, sizeof(prog));
    return GRE_PROG_LEN;
}

/* stack=drop ("return TCX_DROP") or stack=drop-gre on the interface's tc
 * ingress. Only an optimisation: where the kernel refuses it, the port
 * works as without it (logged). */
static void drop_stack_copy(struct afp *a, int ifindex)
{
    struct bpf_insn insns[GRE_PROG_LEN] = {
        I_MOV_IMM(BPF_REG_0, TCX_DROP),
        I_EXIT,
    };
    unsigned n = 2;
    const char *opt = a->stack_drop_gre ? "stack=drop-gre" : "stack=drop";

    if (a->stack_drop_gre)
        n = gre_drop_prog(a->drop_gre_dst, insns);
    a->tcx_prog_fd =
        bpf_prog_load(BPF_PROG_TYPE_SCHED_CLS,
                      a->stack_drop_gre ? "pktio_gre" : "pktio_own", "GPL",
                      insns, n, NULL);
    if (a->tcx_prog_fd < 0) {
        log_warn("%s: %s: loading the tc program: %s; the kernel stack "
                 "keeps its copy of every frame",
                 a->base.name, opt, strerror(errno));
        return;
    }
    a->tcx_link_fd = bpf_link_create(a->tcx_prog_fd, ifindex,
                                     (enum bpf_attach_type)TCX_INGRESS_ATTACH,
                                     NULL);
    if (a->tcx_link_fd < 0) {
        log_warn("%s: %s: attaching to tc ingress (tcx, Linux >= 6.6): %s; "
                 "the kernel stack keeps its copy of every frame",
                 a->base.name, opt, strerror(errno));
        close(a->tcx_prog_fd);
        a->tcx_prog_fd = -1;
    }
}

static struct pktio *afp_open(const char *arg, const struct sock_filter *insns,
                              unsigned n_insns)
{
    struct afp *a = NULL;
    struct sockaddr_ll sll = {0};
    struct packet_mreq mr = {0};
    int one = 1, version = TPACKET_V3, ifindex = 0;
    const char *ifname;

    a = calloc(1, sizeof(*a));
    if (a == NULL) {
        log_err("out of memory");
        return NULL;
    }
    a->base.ops = &pktio_afpacket_ops;
    a->base.fd = -1;
    a->tcx_prog_fd = a->tcx_link_fd = -1;
    if (parse_arg(a, arg) < 0)
        goto fail;
    ifname = a->base.name;
    /* Protocol 0: the socket receives nothing until bind(), which comes
     * after the filter and the rings are in place. */
    a->base.fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
    if (a->base.fd < 0) {
        log_err("%s: AF_PACKET socket: %s", ifname, strerror(errno));
        goto fail;
    }
    if (if_info(a, &ifindex) < 0)
        goto fail;
    if (setopt(a->base.fd, SOL_PACKET, PACKET_VERSION, &version,
               sizeof(version), "TPACKET_V3", ifname) < 0 ||
        setopt(a->base.fd, SOL_PACKET, PACKET_LOSS, &one, sizeof(one),
               "PACKET_LOSS", ifname) < 0 ||
        setopt(a->base.fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one,
               sizeof(one), "PACKET_IGNORE_OUTGOING", ifname) < 0)
        goto fail;
    /* Before the rings: linear TX skbs (above). Only an optimisation. */
    if (setsockopt(a->base.fd, SOL_PACKET, PACKET_VNET_HDR, &one,
                   sizeof(one)) == 0)
        a->vnet = sizeof(struct virtio_net_hdr);
    else
        log_debug("%s: PACKET_VNET_HDR: %s: TX frames stay in page "
                  "fragments",
                  ifname, strerror(errno));
    if (n_insns > 0) {
        struct sock_fprog prog = {
            .len = (unsigned short)n_insns,
            .filter = (struct sock_filter *)(uintptr_t)insns,
        };
        if (n_insns > BPF_MAXINSNS ||
            setopt(a->base.fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog,
                   sizeof(prog), "BPF filter", ifname) < 0)
            goto fail;
    }
    if (setup_rings(a) < 0)
        goto fail;
    sll.sll_family = AF_PACKET;
    sll.sll_protocol = htons(ETH_P_ALL);
    sll.sll_ifindex = ifindex;
    if (bind(a->base.fd, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
        log_err("%s: bind: %s", ifname, strerror(errno));
        goto fail;
    }
    mr.mr_ifindex = ifindex;
    mr.mr_type = PACKET_MR_PROMISC;
    if (setopt(a->base.fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof(mr),
               "promiscuous mode", ifname) < 0)
        goto fail;
    if (a->stack_drop || a->stack_drop_gre)
        drop_stack_copy(a, ifindex);
    log_debug("%s: afpacket port up: mtu %d, RX %u x %u KiB blocks (%u ms), "
              "TX %u slots of %u bytes%s%s",
              ifname, a->base.mtu, a->rx_blocks, a->rx_block_bytes / 1024,
              a->block_ms, a->tx_slots, a->tx_frame_bytes,
              a->vnet != 0 ? ", linear TX" : "",
              a->tcx_link_fd < 0     ? ""
              : a->stack_drop_gre ? ", kernel stack's copy of GRE to us dropped"
                                  : ", kernel stack's copy dropped");
    return &a->base;
fail:
    afp_close(&a->base);
    return NULL;
}

/* Reads the kernel's drop counter (which resets on reading). */
static void read_drops(struct afp *a)
{
    struct tpacket_stats_v3 ks = {0};
    socklen_t len = sizeof(ks);

    if (getsockopt(a->base.fd, SOL_PACKET, PACKET_STATISTICS, &ks, &len) == 0)
        a->base.st.rx_dropped += ks.tp_drops;
}

/* The kernel counts ring drops itself: add what it counted since the last
 * look. (TPACKET_V3 marks no frame TP_STATUS_LOSING, so they are read
 * here, when the counters are asked for, and not while receiving.) Reading resets the kernel's counter, so the sum is kept in
 * the port: a const port updates its own counter here. */
static void afp_stats(const struct pktio *p, struct pktio_stats *st)
{
    struct afp *a = (struct afp *)(uintptr_t)p;

    read_drops(a);
    st->rx_dropped = a->base.st.rx_dropped;
}

/* Puts back a VLAN tag the kernel moved out of the frame into the header:
 * the 4 bytes before the frame belong to the sockaddr_ll we do not use. */
static void reinsert_vlan(const struct tpacket3_hdr *h, struct pktio_pkt *pkt)
{
    uint16_t tpid = ETH_P_8021Q, tci = (uint16_t)h->hv1.tp_vlan_tci;
    uint8_t *d;

    if (h->tp_mac < TX_DATA_OFF + 4 || pkt->len < 12)
        return;
    if (h->tp_status & TP_STATUS_VLAN_TPID_VALID)
        tpid = (uint16_t)h->hv1.tp_vlan_tpid;
    d = pkt->data - 4;
    memmove(d, pkt->data, 12);
    d[12] = (uint8_t)(tpid >> 8);
    d[13] = (uint8_t)tpid;
    d[14] = (uint8_t)(tci >> 8);
    d[15] = (uint8_t)tci;
    pkt->data = d;
    pkt->len += 4;
}

static void rx_next_block(struct afp *a)
{
    a->rx_open = false;
    a->rx_cur = (a->rx_cur + 1) % a->rx_blocks;
    a->rx_held++;
}

static int afp_recv(struct pktio *p, struct pktio_pkt *pkts, int max)
{
    struct afp *a = (struct afp *)p;
    int n = 0;

    while (n < max) {
        struct tpacket3_hdr *h;
        struct pktio_pkt *pkt = &pkts[n];

        if (!a->rx_open) {
            struct tpacket_block_desc *bd = rx_block(a, a->rx_cur);

            /* Every block read but not given back yet: do not wrap. */
            if (a->rx_held == a->rx_blocks)
                break;
            if (!(load_status(&bd->hdr.bh1.block_status) & TP_STATUS_USER))
                break;
            a->rx_open = true;
            a->rx_left = bd->hdr.bh1.num_pkts;
            a->rx_pkt =
                (struct tpacket3_hdr *)(void *)((uint8_t *)bd +
                                                bd->hdr.bh1
                                                    .offset_to_first_pkt);
            if (a->rx_left == 0) {
                rx_next_block(a);
                continue;
            }
        }
        h = a->rx_pkt;
        if (--a->rx_left == 0)
            rx_next_block(a);
        else
            a->rx_pkt = (struct tpacket3_hdr *)(void *)((uint8_t *)h +
                                                        h->tp_next_offset);
        if (h->tp_snaplen < h->tp_len || h->tp_snaplen > PKTIO_MAX_FRAME) {
            p->st.rx_oversize++;
            continue;
        }
        pkt->data = (uint8_t *)h + h->tp_mac;
        pkt->len = h->tp_snaplen;
        pkt->ts_ns = (uint64_t)h->tp_sec * 1000000000u + h->tp_nsec;
        if (h->tp_status & TP_STATUS_VLAN_VALID)
            reinsert_vlan(h, pkt);
        if (h->tp_status & TP_STATUS_CSUMNOTREADY)
            (void)pktio_csum_fill(pkt->data, pkt->len);
        n++;
    }
    return n;
}

static void afp_release(struct pktio *p)
{
    struct afp *a = (struct afp *)p;

    /* The blocks from rx_rel on that were read to the end; a block still
     * open keeps its unread frames (and those already returned stay valid
     * a little longer than promised, which is harmless). */
    while (a->rx_held > 0) {
        store_status(&rx_block(a, a->rx_rel)->hdr.bh1.block_status,
                     TP_STATUS_KERNEL);
        a->rx_rel = (a->rx_rel + 1) % a->rx_blocks;
        a->rx_held--;
    }
}

static int afp_tx_flush(struct pktio *p)
{
    struct afp *a = (struct afp *)p;

    if (a->tx_pending == 0)
        return 0;
    a->tx_pending = 0;
    if (send(p->fd, NULL, 0, MSG_DONTWAIT) < 0 && errno != EAGAIN &&
        errno != ENOBUFS && errno != EINTR) {
        log_warn_rl("%s: TX ring kick: %s", p->name, strerror(errno));
        return -1;
    }
    return 0;
}

static uint8_t *afp_tx_alloc(struct pktio *p, uint32_t *cap)
{
    struct afp *a = (struct afp *)p;
    struct tpacket3_hdr *h = tx_slot(a, a->tx_head);
    uint32_t st = load_status(&h->tp_status);

    if (st != TP_STATUS_AVAILABLE && a->tx_pending > 0) {
        afp_tx_flush(p); /* full of our own unsent frames: send them */
        st = load_status(&h->tp_status);
    }
    if (st == TP_STATUS_WRONG_FORMAT) {
        /* Only without PACKET_LOSS; reuse the slot all the same. */
        store_status(&h->tp_status, TP_STATUS_AVAILABLE);
        st = TP_STATUS_AVAILABLE;
    }
    if (st != TP_STATUS_AVAILABLE)
        return NULL;
    *cap = a->tx_cap;
    return (uint8_t *)h + TX_DATA_OFF + a->vnet;
}

static void afp_tx_commit(struct pktio *p, uint32_t len)
{
    struct afp *a = (struct afp *)p;
    struct tpacket3_hdr *h = tx_slot(a, a->tx_head);

    if (a->vnet != 0) {
        /* No offload asked for; hdr_len = the bytes to copy into the
         * skb's head (legacy virtio-net: host byte order). 0 leaves the
         * kernel's minimum, the Ethernet header. */
        struct virtio_net_hdr vh = {
            .hdr_len = (uint16_t)(len <= TX_LINEAR_MAX ? len : 0),
        };

        memcpy((uint8_t *)h + TX_DATA_OFF, &vh, sizeof(vh));
    }
    h->tp_len = len + a->vnet;
    h->tp_snaplen = len + a->vnet;
    h->tp_next_offset = 0;
    store_status(&h->tp_status, TP_STATUS_SEND_REQUEST);
    a->tx_head = (a->tx_head + 1) % a->tx_slots;
    a->tx_pending++;
}

static int afp_error(struct pktio *p)
{
    int err = 0;
    socklen_t len = sizeof(err);

    if (getsockopt(p->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
        return errno;
    return err;
}

const struct pktio_ops pktio_afpacket_ops = {
    .name = "afpacket",
    .open = afp_open,
    .close = afp_close,
    .recv = afp_recv,
    .release = afp_release,
    .tx_alloc = afp_tx_alloc,
    .tx_commit = afp_tx_commit,
    .tx_flush = afp_tx_flush,
    .error = afp_error,
    .stats = afp_stats,
};
