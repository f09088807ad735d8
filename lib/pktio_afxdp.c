/* pktio_afxdp: AF_XDP port on queue 0 of an interface, in copy mode
 * ("afxdp:IFNAME[,mode=skb|native]").
 *
 * One UMEM per port, split in two: RX frames live in the fill ring, the RX
 * ring or the caller's hands (between pktio_recv and pktio_release); TX
 * frames live on a free stack, the TX ring or the completion ring. Rings
 * and UMEM come from libxdp (xsk_umem__create, xsk_socket__create).
 *
 * The XDP program is our own copy of libxdp's default one (redirect to the
 * socket registered at the frame's queue index, XDP_PASS otherwise), but
 * attached through a BPF link instead of libxdp's netlink attach: the
 * kernel removes it when the last descriptor of the link closes, i.e. at
 * pktio_close() or when the process dies in any way. libxdp's
 * xsk_socket__delete() leaves its program attached, and detaching it needs
 * CAP_NET_ADMIN, which fastpath has dropped by the time it closes ports.
 *
 * Unlike AF_PACKET, which taps a copy, the program takes every frame of
 * queue 0 away from the kernel stack: an afxdp port owns its interface.
 * A classic BPF filter cannot be attached to an AF_XDP socket, so a
 * filtered open is refused ("auto:" then uses afpacket). */
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/ethtool.h>
#include <linux/if_link.h>
#include <linux/if_packet.h>
#include <linux/if_xdp.h>
#include <linux/sockios.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>
#include <xdp/xsk.h>

#include "log.h"
#include "pktio_impl.h"

#ifndef SOL_XDP
#define SOL_XDP 283
#endif

#define RX_FRAMES 2048u /* also the size of the RX ring */
#define TX_FRAMES 1024u /* also the size of the completion ring */
/* The rings we produce into are twice as large as the frames that go
 * through them: the kernel publishes how far it has read only when it has
 * used up the entries it took at its last look, so up to a whole pool of
 * consumed entries can still look occupied. */
#define FILL_SIZE (2 * RX_FRAMES)
#define TXR_SIZE (2 * TX_FRAMES)
/* The kernel builds an skb per TX frame in copy mode, at most 32 per
 * sendto() (it answers EAGAIN when more are waiting): enough kicks to
 * send every TX frame, plus one. */
#define TX_KICKS_MAX (TX_FRAMES / 32 + 1)
/* Bytes the kernel keeps free in front of a received frame. */
#define RX_HEADROOM 256u
#define QUEUE_ID 0u
#define BIND_RETRIES 100 /* of BIND_RETRY_US each: half a second */
#define BIND_RETRY_US 5000u

struct afxdp {
    struct pktio base; /* base.fd: the AF_XDP socket */
    int ifindex;
    bool native;   /* XDP in the driver (mode=native), else generic (skb) */
    int pfd;       /* AF_PACKET socket, protocol 0 (receives nothing):
                      interface queries and promiscuous mode */
    int map_fd;    /* XSKMAP: queue index -> socket */
    int prog_fd;   /* the XDP program */
    int link_fd;   /* the program's attachment to the interface */
    uint8_t *area; /* UMEM: RX_FRAMES then TX_FRAMES frames */
    size_t area_bytes;
    uint32_t frame_bytes;
    struct xsk_umem *umem;
    struct xsk_socket *xsk;
    struct xsk_ring_prod fill, tx;
    struct xsk_ring_cons comp, rx;
    /* RX frames handed out by recv, given back by release (frame
     * addresses within the UMEM). */
    uint64_t held[RX_FRAMES];
    uint32_t n_held;
    /* TX frames that are neither queued nor in flight. */
    uint64_t tx_free[TX_FRAMES];
    uint32_t n_tx_free;
    uint32_t tx_cap;     /* largest frame the device takes, bytes */
    uint32_t tx_pending; /* committed since the last kick */
};

/* Where an open reports why it failed: the log, or (for "auto:") a
 * buffer, since a refusal there is expected and not an error. */
struct refusal {
    char *why;
    size_t why_len;
};

static void refuse(const struct refusal *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void refuse(const struct refusal *r, const char *fmt, ...)
{
    char msg[256];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (r->why != NULL)
        snprintf(r->why, r->why_len, "%s", msg);
    else
        vn_log(VN_LOG_ERR, "afxdp_open", "%s", msg);
}

/* libbpf and libxdp print to stderr by default: into our log instead. */
static int lib_print(enum libbpf_print_level level, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static int lib_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
    char msg[256];
    size_t len;

    if (level == LIBBPF_DEBUG)
        return 0;
    vsnprintf(msg, sizeof(msg), fmt, ap);
    len = strlen(msg);
    if (len > 0 && msg[len - 1] == '\n')
        msg[len - 1] = '\0';
    log_debug("%s", msg);
    return 0;
}

static int xdp_print(enum libxdp_print_level level, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static int xdp_print(enum libxdp_print_level level, const char *fmt, va_list ap)
{
    return lib_print(level == LIBXDP_DEBUG ? LIBBPF_DEBUG : LIBBPF_INFO, fmt,
                     ap);
}

/* Parses "IFNAME[,mode=skb|native]" into 'x'. */
static int parse_arg(struct afxdp *x, const char *arg, const struct refusal *r)
{
    const char *comma = strchr(arg, ',');
    size_t len = comma != NULL ? (size_t)(comma - arg) : strlen(arg);

    if (len == 0 || len >= IF_NAMESIZE) {
        refuse(r, "bad interface name in 'afxdp:%s'", arg);
        return -1;
    }
    memcpy(x->base.name, arg, len);
    x->base.name[len] = '\0';
    while (comma != NULL) {
        const char *opt = comma + 1;

        comma = strchr(opt, ',');
        len = comma != NULL ? (size_t)(comma - opt) : strlen(opt);
        if (len == 8 && strncmp(opt, "mode=skb", 8) == 0) {
            x->native = false;
        } else if (len == 11 && strncmp(opt, "mode=native", 11) == 0) {
            x->native = true;
        } else {
            refuse(r, "unknown option in 'afxdp:%s' (mode=skb|native)", arg);
            return -1;
        }
    }
    return 0;
}

/* Index, MTU and MAC of the interface; picks the UMEM frame size. */
static int if_info(struct afxdp *x, const struct refusal *r)
{
    const char *n = x->base.name;
    struct ethtool_channels ch = {.cmd = ETHTOOL_GCHANNELS};
    struct ifreq ifr;
    uint32_t need;

    memset(&ifr, 0, sizeof(ifr));
    snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", n);
    if (ioctl(x->pfd, SIOCGIFINDEX, &ifr) < 0) {
        refuse(r, "%s: no such interface: %s", n, strerror(errno));
        return -1;
    }
    x->ifindex = ifr.ifr_ifindex;
    if (ioctl(x->pfd, SIOCGIFMTU, &ifr) < 0) {
        refuse(r, "%s: SIOCGIFMTU: %s", n, strerror(errno));
        return -1;
    }
    x->base.mtu = ifr.ifr_mtu;
    if (ioctl(x->pfd, SIOCGIFHWADDR, &ifr) < 0) {
        refuse(r, "%s: SIOCGIFHWADDR: %s", n, strerror(errno));
        return -1;
    }
    memcpy(x->base.mac, ifr.ifr_hwaddr.sa_data, 6);
    /* Frames on other RX queues would bypass us into the kernel stack. */
    ifr.ifr_data = (char *)&ch;
    if (ioctl(x->pfd, SIOCETHTOOL, &ifr) == 0 &&
        ch.rx_count + ch.combined_count > 1) {
        refuse(r,
               "%s: %u RX queues, and afxdp takes queue 0 only: use one "
               "(ethtool -L %s rx 1 tx 1, or combined 1) or afpacket",
               n, ch.rx_count + ch.combined_count, n);
        return -1;
    }
    /* A frame (one VLAN tag included) must fit in a UMEM chunk after the
     * kernel's headroom; chunks are 2 KiB or 4 KiB (a page at most). */
    need = (uint32_t)x->base.mtu + ETH_HLEN + 4;
    if (need <= 2048 - RX_HEADROOM)
        x->frame_bytes = 2048;
    else if (need <= 4096 - RX_HEADROOM)
        x->frame_bytes = 4096;
    else {
        refuse(r,
               "%s: MTU %d is too large for AF_XDP copy mode (at most %u): "
               "use afpacket",
               n, x->base.mtu, 4096 - RX_HEADROOM - ETH_HLEN - 4);
        return -1;
    }
    x->tx_cap = need;
    return 0;
}

/* The XSKMAP (empty for now: frames pass to the kernel stack), the
 * program and its link to the interface. Done before the socket, so that
 * an interface another program holds is refused at once. */
static int setup_xdp(struct afxdp *x, const struct refusal *r)
{
    const char *n = x->base.name;
    const char *mode = x->native ? "native" : "skb";
    int err;
    /* What libxdp's xsk_def_prog does on kernels >= 5.3:
     *   return bpf_redirect_map(&xsks_map, ctx->rx_queue_index, XDP_PASS); */
    struct bpf_insn insns[] = {
        {.code = BPF_LDX | BPF_MEM | BPF_W,
         .dst_reg = BPF_REG_2,
         .src_reg = BPF_REG_1,
         .off = offsetof(struct xdp_md, rx_queue_index)},
        {.code = BPF_LD | BPF_DW | BPF_IMM,
         .dst_reg = BPF_REG_1,
         .src_reg = BPF_PSEUDO_MAP_FD,
         .imm = 0},  /* the map, set below */
        {.code = 0}, /* second half of the 64-bit load */
        {.code = BPF_ALU64 | BPF_MOV | BPF_K,
         .dst_reg = BPF_REG_3,
         .imm = XDP_PASS},
        {.code = BPF_JMP | BPF_CALL, .imm = BPF_FUNC_redirect_map},
        {.code = BPF_JMP | BPF_EXIT},
    };
    LIBBPF_OPTS(bpf_link_create_opts, lopts);

    x->map_fd =
        bpf_map_create(BPF_MAP_TYPE_XSKMAP, "xsks_map", sizeof(uint32_t),
                       sizeof(int), QUEUE_ID + 1, NULL);
    if (x->map_fd < 0) {
        refuse(r, "%s: XSKMAP: %s", n, strerror(errno));
        return -1;
    }
    insns[1].imm = x->map_fd;
    x->prog_fd = bpf_prog_load(BPF_PROG_TYPE_XDP, "pktio_afxdp", "GPL", insns,
                               sizeof(insns) / sizeof(insns[0]), NULL);
    if (x->prog_fd < 0) {
        refuse(r, "%s: loading the XDP program: %s", n, strerror(errno));
        return -1;
    }
    lopts.flags = x->native ? XDP_FLAGS_DRV_MODE : XDP_FLAGS_SKB_MODE;
    x->link_fd = bpf_link_create(x->prog_fd, x->ifindex, BPF_XDP, &lopts);
    if (x->link_fd < 0) {
        err = errno;
        refuse(r, "%s: attaching XDP in %s mode: %s%s", n, mode, strerror(err),
               err == EBUSY || err == EEXIST
                   ? " (another XDP program is attached to it)"
               : err == EOPNOTSUPP || err == EINVAL || err == ERANGE
                   ? (x->native ? " (the driver refuses native XDP, or the "
                                  "MTU of its peer is too large)"
                                : "")
                   : "");
        return -1;
    }
    return 0;
}

/* UMEM, rings and socket, bound to queue 0 in copy mode. Returns 0 or a
 * negative errno (what failed is in *what). */
static int create_socket(struct afxdp *x, const char **what)
{
    struct xsk_umem_config ucfg = {
        .fill_size = FILL_SIZE,
        .comp_size = TX_FRAMES,
        .frame_size = x->frame_bytes,
        .frame_headroom = 0,
        .flags = 0,
    };
    struct xsk_socket_config scfg = {
        .rx_size = RX_FRAMES,
        .tx_size = TXR_SIZE,
        .libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD,
        .xdp_flags = 0,
        .bind_flags = XDP_COPY | XDP_USE_NEED_WAKEUP,
    };
    int err;

    *what = "UMEM";
    err = xsk_umem__create(&x->umem, x->area, x->area_bytes, &x->fill, &x->comp,
                           &ucfg);
    if (err < 0) {
        x->umem = NULL;
        return err;
    }
    *what = "socket on queue 0";
    err = xsk_socket__create(&x->xsk, x->base.name, QUEUE_ID, x->umem, &x->rx,
                             &x->tx, &scfg);
    if (err < 0) {
        x->xsk = NULL;
        (void)xsk_umem__delete(x->umem);
        x->umem = NULL;
        return err;
    }
    return 0;
}

/* The socket, registered in the XSKMAP; the fill ring is stocked with
 * every RX frame. */
static int setup_socket(struct afxdp *x, const struct refusal *r)
{
    const char *n = x->base.name, *what = "";
    uint32_t idx = 0, key = QUEUE_ID;
    int err, fd;

    x->area_bytes = (size_t)(RX_FRAMES + TX_FRAMES) * x->frame_bytes;
    x->area = mmap(NULL, x->area_bytes, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    if (x->area == MAP_FAILED) {
        x->area = NULL;
        refuse(r, "%s: mmap of %zu bytes of UMEM: %s", n, x->area_bytes,
               strerror(errno));
        return -1;
    }
    /* A socket closed a moment ago still holds the queue: the kernel lets
     * it go from a workqueue (30-40 ms here). Anyone else holding it would
     * have an XDP program attached, which setup_xdp() refused. */
    for (int tries = 0;; tries++) {
        err = create_socket(x, &what);
        if (err != -EBUSY || tries == BIND_RETRIES)
            break;
        usleep(BIND_RETRY_US);
    }
    if (err < 0) {
        refuse(r, "%s: AF_XDP %s: %s%s", n, what, strerror(-err),
               -err == EAFNOSUPPORT ? " (kernel without AF_XDP sockets)" : "");
        return -1;
    }
    x->base.fd = fd = xsk_socket__fd(x->xsk);
    /* libxdp opens it without: do not leak it into programs we start. */
    (void)fcntl(fd, F_SETFD, FD_CLOEXEC);
    if (xsk_ring_prod__reserve(&x->fill, RX_FRAMES, &idx) != RX_FRAMES) {
        refuse(r, "%s: cannot stock the fill ring", n);
        return -1;
    }
    for (uint32_t i = 0; i < RX_FRAMES; i++)
        *xsk_ring_prod__fill_addr(&x->fill, idx + i) =
            (uint64_t)i * x->frame_bytes;
    xsk_ring_prod__submit(&x->fill, RX_FRAMES);
    for (uint32_t i = 0; i < TX_FRAMES; i++)
        x->tx_free[x->n_tx_free++] = (uint64_t)(RX_FRAMES + i) * x->frame_bytes;
    if (bpf_map_update_elem(x->map_fd, &key, &fd, BPF_ANY) < 0) {
        refuse(r, "%s: XSKMAP entry: %s", n, strerror(errno));
        return -1;
    }
    return 0;
}

static void afxdp_close(struct pktio *p)
{
    struct afxdp *x = (struct afxdp *)p;

    /* The program goes first, so nothing is redirected to a dead socket. */
    if (x->link_fd >= 0)
        close(x->link_fd);
    if (x->prog_fd >= 0)
        close(x->prog_fd);
    if (x->map_fd >= 0)
        close(x->map_fd);
    xsk_socket__delete(x->xsk);
    (void)xsk_umem__delete(x->umem); /* also closes base.fd */
    if (x->area != NULL)
        munmap(x->area, x->area_bytes);
    if (x->pfd >= 0)
        close(x->pfd); /* drops the promiscuous mode */
    free(x);
}

static struct pktio *afxdp_open_with(const char *arg,
                                     const struct sock_filter *insns,
                                     unsigned n_insns, const struct refusal *r)
{
    struct afxdp *x = NULL;
    struct packet_mreq mr = {0};

    (void)insns;
    libbpf_set_print(lib_print);
    libxdp_set_print(xdp_print);
    x = calloc(1, sizeof(*x));
    if (x == NULL) {
        refuse(r, "out of memory");
        return NULL;
    }
    x->base.ops = &pktio_afxdp_ops;
    x->base.fd = x->pfd = x->map_fd = x->prog_fd = x->link_fd = -1;
    if (parse_arg(x, arg, r) < 0)
        goto fail;
    if (n_insns > 0) {
        refuse(r,
               "%s: AF_XDP cannot run a socket filter, and would take "
               "every frame from the kernel stack: use afpacket",
               x->base.name);
        goto fail;
    }
    x->pfd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
    if (x->pfd < 0) {
        refuse(r, "%s: AF_PACKET socket: %s", x->base.name, strerror(errno));
        goto fail;
    }
    if (if_info(x, r) < 0 || setup_xdp(x, r) < 0 || setup_socket(x, r) < 0)
        goto fail;
    mr.mr_ifindex = x->ifindex;
    mr.mr_type = PACKET_MR_PROMISC;
    if (setsockopt(x->pfd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof(mr)) <
        0) {
        refuse(r, "%s: promiscuous mode: %s", x->base.name, strerror(errno));
        goto fail;
    }
    log_debug("%s: afxdp port up: %s mode, copy, queue %u, mtu %d, "
              "%u RX + %u TX frames of %u bytes",
              x->base.name, x->native ? "native" : "skb", QUEUE_ID, x->base.mtu,
              RX_FRAMES, TX_FRAMES, x->frame_bytes);
    return &x->base;
fail:
    afxdp_close(&x->base);
    return NULL;
}

static struct pktio *
afxdp_open(const char *arg, const struct sock_filter *insns, unsigned n_insns)
{
    const struct refusal r = {NULL, 0};

    return afxdp_open_with(arg, insns, n_insns, &r);
}

struct pktio *pktio_afxdp_open_quiet(const char *arg, char *why, size_t why_len)
{
    const struct refusal r = {why, why_len};

    if (why_len > 0)
        why[0] = '\0';
    return afxdp_open_with(arg, NULL, 0, &r);
}

static int afxdp_recv(struct pktio *p, struct pktio_pkt *pkts, int max)
{
    struct afxdp *x = (struct afxdp *)p;
    uint32_t idx = 0, n;
    uint64_t now;

    if (max <= 0)
        return 0;
    n = xsk_ring_cons__peek(&x->rx, (uint32_t)max, &idx);
    if (n == 0)
        return 0;
    /* AF_XDP carries no receive time: one reading per burst. */
    now = pktio_realtime_ns();
    for (uint32_t i = 0; i < n; i++) {
        const struct xdp_desc *d = xsk_ring_cons__rx_desc(&x->rx, idx + i);

        x->held[x->n_held++] = d->addr - d->addr % x->frame_bytes;
        pkts[i].data = x->area + d->addr;
        pkts[i].len = d->len;
        pkts[i].ts_ns = now;
        /* No "checksum not ready" flag comes with the frame: recognise
         * it by its contents. */
        (void)pktio_csum_fix_partial(pkts[i].data, pkts[i].len);
    }
    xsk_ring_cons__release(&x->rx, n);
    return (int)n;
}

static void afxdp_release(struct pktio *p)
{
    struct afxdp *x = (struct afxdp *)p;
    uint32_t idx = 0;

    if (x->n_held == 0)
        return;
    /* The fill ring has room for every RX frame twice over (FILL_SIZE):
     * there is always room. */
    if (xsk_ring_prod__reserve(&x->fill, x->n_held, &idx) != x->n_held) {
        log_warn_rl("%s: fill ring full (internal error)", p->name);
        return;
    }
    for (uint32_t i = 0; i < x->n_held; i++)
        *xsk_ring_prod__fill_addr(&x->fill, idx + i) = x->held[i];
    xsk_ring_prod__submit(&x->fill, x->n_held);
    x->n_held = 0;
    if (xsk_ring_prod__needs_wakeup(&x->fill))
        (void)recvfrom(p->fd, NULL, 0, MSG_DONTWAIT, NULL, NULL);
}

/* Takes the frames the kernel has finished sending back. */
static void tx_reclaim(struct afxdp *x)
{
    uint32_t idx = 0, n = xsk_ring_cons__peek(&x->comp, TX_FRAMES, &idx);

    for (uint32_t i = 0; i < n; i++)
        x->tx_free[x->n_tx_free++] =
            *xsk_ring_cons__comp_addr(&x->comp, idx + i);
    if (n > 0)
        xsk_ring_cons__release(&x->comp, n);
}

static int afxdp_tx_flush(struct pktio *p)
{
    struct afxdp *x = (struct afxdp *)p;
    uint32_t left = 0;

    if (x->tx_pending == 0)
        return 0;
    x->tx_pending = 0;
    for (int kicks = 0; kicks < (int)TX_KICKS_MAX; kicks++) {
        uint32_t before = left;

        if (sendto(p->fd, NULL, 0, MSG_DONTWAIT, NULL, 0) >= 0) {
            left = 0;
            break;
        }
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN && errno != EBUSY && errno != ENOBUFS) {
            log_warn_rl("%s: TX kick: %s", p->name, strerror(errno));
            return -1;
        }
        /* More to send (the kernel sends 32 per kick), or the device
         * pushed back: kick again while the ring drains. */
        left = x->tx.size - xsk_prod_nb_free(&x->tx, x->tx.size);
        if (left == 0 || (kicks > 0 && left >= before))
            break;
    }
    /* What is left goes with the next kick. */
    x->tx_pending = left;
    /* Most frames are back already (veth completes them as the peer
     * takes them): reuse them while they are warm in the cache. */
    tx_reclaim(x);
    return 0;
}

static uint8_t *afxdp_tx_alloc(struct pktio *p, uint32_t *cap)
{
    struct afxdp *x = (struct afxdp *)p;

    if (x->n_tx_free == 0)
        tx_reclaim(x);
    if (x->n_tx_free == 0 && x->tx_pending > 0) {
        afxdp_tx_flush(p); /* all ours and unsent: send them */
        tx_reclaim(x);
    }
    if (x->n_tx_free == 0)
        return NULL;
    *cap = x->tx_cap;
    return x->area + x->tx_free[x->n_tx_free - 1];
}

static void afxdp_tx_commit(struct pktio *p, uint32_t len)
{
    struct afxdp *x = (struct afxdp *)p;
    struct xdp_desc *d;
    uint32_t idx = 0;

    /* The TX ring has room for every TX frame twice over (TXR_SIZE): a
     * free frame means a free slot. */
    if (x->n_tx_free == 0 || xsk_ring_prod__reserve(&x->tx, 1, &idx) != 1) {
        log_warn_rl("%s: commit without a TX frame (internal error)", p->name);
        return;
    }
    d = xsk_ring_prod__tx_desc(&x->tx, idx);
    d->addr = x->tx_free[--x->n_tx_free];
    d->len = len;
    d->options = 0;
    xsk_ring_prod__submit(&x->tx, 1);
    x->tx_pending++;
}

static int afxdp_error(struct pktio *p)
{
    int err = 0;
    socklen_t len = sizeof(err);

    if (getsockopt(p->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
        return errno;
    return err;
}

/* Adds the kernel's drop counters (cumulative, never reset). */
static void afxdp_stats(const struct pktio *p, struct pktio_stats *st)
{
    struct xdp_statistics xs;
    socklen_t len = sizeof(xs);

    memset(&xs, 0, sizeof(xs));
    if (getsockopt(p->fd, SOL_XDP, XDP_STATISTICS, &xs, &len) < 0)
        return;
    /* rx_dropped: too long, or no fill frame; rx_ring_full: we were too
     * slow. Invalid descriptors would be our bugs; count them anyway. */
    st->rx_dropped += xs.rx_dropped + xs.rx_ring_full + xs.rx_invalid_descs;
    st->tx_dropped += xs.tx_invalid_descs;
}

const struct pktio_ops pktio_afxdp_ops = {
    .name = "afxdp",
    .open = afxdp_open,
    .close = afxdp_close,
    .recv = afxdp_recv,
    .release = afxdp_release,
    .tx_alloc = afxdp_tx_alloc,
    .tx_commit = afxdp_tx_commit,
    .tx_flush = afxdp_tx_flush,
    .error = afxdp_error,
    .stats = afxdp_stats,
};
