/* pktio: the generic layer over the backends (pktio_afpacket.c,
 * pktio_afxdp.c, pktio_pcap.c, pktio_shm.c): spec parsing (and "auto:", which
 * picks a backend), counters, poll, checksum completion. */
#include "pktio.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "pktio_impl.h"

static const struct pktio_ops *const backends[] = {
    &pktio_afpacket_ops,
    &pktio_afxdp_ops,
    &pktio_pcap_ops,
    &pktio_shm_ops,
};

/* "auto:IFNAME": AF_XDP if the kernel and the interface take it (and no
 * filter is asked for), else AF_PACKET. */
static struct pktio *
open_auto(const char *ifname, const struct sock_filter *insns, unsigned n_insns)
{
    char why[256];
    struct pktio *p;

    if (ifname[0] == '\0' || strchr(ifname, ',') != NULL) {
        log_err("bad port spec 'auto:%s': auto:IFNAME takes no options "
                "(name the backend to give it options)",
                ifname);
        return NULL;
    }
    if (n_insns > 0) {
        log_debug("%s: a filtered port: afpacket", ifname);
        return pktio_afpacket_ops.open(ifname, insns, n_insns);
    }
    p = pktio_afxdp_open_quiet(ifname, why, sizeof(why));
    if (p != NULL) {
        log_debug("%s: auto: afxdp", ifname);
        return p;
    }
    log_info("%s: AF_XDP refused (%s): using afpacket", ifname, why);
    return pktio_afpacket_ops.open(ifname, NULL, 0);
}

struct pktio *pktio_open_filter(const char *spec,
                                const struct sock_filter *insns,
                                unsigned n_insns)
{
    const char *colon = spec != NULL ? strchr(spec, ':') : NULL;

    if (colon == NULL) {
        log_err("bad port spec '%s': use afpacket:IFNAME, afxdp:IFNAME, "
                "auto:IFNAME, pcap:IN,OUT or shm:PATH,side=a|b",
                spec != NULL ? spec : "(null)");
        return NULL;
    }
    if (colon - spec == 4 && strncmp(spec, "auto", 4) == 0)
        return open_auto(colon + 1, insns, n_insns);
    for (size_t i = 0; i < sizeof(backends) / sizeof(backends[0]); i++) {
        const struct pktio_ops *ops = backends[i];

        if (strlen(ops->name) == (size_t)(colon - spec) &&
            strncmp(spec, ops->name, (size_t)(colon - spec)) == 0)
            return ops->open(colon + 1, insns, n_insns);
    }
    log_err("bad port spec '%s': unknown backend (afpacket, afxdp, auto, "
            "pcap, shm)",
            spec);
    return NULL;
}

struct pktio *pktio_open(const char *spec)
{
    return pktio_open_filter(spec, NULL, 0);
}

void pktio_close(struct pktio *p)
{
    if (p != NULL)
        p->ops->close(p);
}

int pktio_fd(const struct pktio *p)
{
    return p->fd;
}

int pktio_recv(struct pktio *p, struct pktio_pkt *pkts, int max)
{
    int n = p->ops->recv(p, pkts, max);

    for (int i = 0; i < n; i++)
        p->st.rx_bytes += pkts[i].len;
    if (n > 0)
        p->st.rx_packets += (uint64_t)n;
    return n;
}

void pktio_release(struct pktio *p)
{
    p->ops->release(p);
}

uint8_t *pktio_tx_alloc(struct pktio *p, uint32_t *cap)
{
    uint8_t *buf = p->ops->tx_alloc(p, cap);

    if (buf == NULL)
        p->st.tx_dropped++;
    return buf;
}

void pktio_tx_commit(struct pktio *p, uint32_t len)
{
    p->st.tx_packets++;
    p->st.tx_bytes += len;
    p->ops->tx_commit(p, len);
}

int pktio_tx_flush(struct pktio *p)
{
    return p->ops->tx_flush(p);
}

int pktio_send(struct pktio *p, const struct pktio_pkt *pkts, int n)
{
    int sent = 0;

    for (int i = 0; i < n; i++) {
        uint32_t cap = 0;
        uint8_t *buf;

        if (pkts[i].len == 0)
            continue;
        buf = pktio_tx_alloc(p, &cap);
        if (buf == NULL) {
            p->st.tx_dropped += (uint64_t)(n - i - 1); /* ring is full */
            break;
        }
        if (pkts[i].len > cap) {
            p->st.tx_dropped++;
            continue; /* the slot stays free for the next frame */
        }
        memcpy(buf, pkts[i].data, pkts[i].len);
        pktio_tx_commit(p, pkts[i].len);
        sent++;
    }
    if (sent > 0)
        pktio_tx_flush(p);
    return sent;
}

int pktio_arm(struct pktio *p)
{
    return p->ops->arm != NULL ? p->ops->arm(p) : 0;
}

int pktio_wait(struct pktio *const *ports, int n, int timeout_ms)
{
    struct pollfd fds[64];
    int nfds = 0, always = 0, rc;

    if (n < 0 || n > (int)(sizeof(fds) / sizeof(fds[0]))) {
        log_err("cannot wait on %d ports (at most %zu)", n,
                sizeof(fds) / sizeof(fds[0]));
        return -1;
    }
    for (int i = 0; i < n; i++) {
        /* No descriptor (pcap), or input already waiting (shm). */
        if (ports[i]->fd < 0 || pktio_arm(ports[i]) > 0) {
            always++;
            continue;
        }
        fds[nfds].fd = ports[i]->fd;
        fds[nfds].events = POLLIN;
        fds[nfds].revents = 0;
        nfds++;
    }
    rc = poll(fds, (nfds_t)nfds, always ? 0 : timeout_ms);
    if (rc < 0) {
        if (errno == EINTR)
            return always;
        log_err("poll: %s", strerror(errno));
        return -1;
    }
    return rc + always;
}

int pktio_error(struct pktio *p)
{
    return p->ops->error != NULL ? p->ops->error(p) : 0;
}

void pktio_get_stats(const struct pktio *p, struct pktio_stats *st)
{
    *st = p->st;
    if (p->ops->stats != NULL)
        p->ops->stats(p, st);
}

const char *pktio_name(const struct pktio *p)
{
    return p->name;
}

int pktio_mtu(const struct pktio *p)
{
    return p->mtu;
}

void pktio_hwaddr(const struct pktio *p, uint8_t mac[6])
{
    memcpy(mac, p->mac, 6);
}

/* ---- checksum completion --------------------------------------------- */

static uint32_t sum16(const uint8_t *p, size_t len, uint32_t acc)
{
    uint64_t s = acc;

    for (; len >= 2; p += 2, len -= 2)
        s += (uint32_t)(p[0] << 8 | p[1]);
    if (len)
        s += (uint32_t)p[0] << 8;
    while (s >> 16)
        s = (s & 0xffff) + (s >> 16);
    return (uint32_t)s;
}

/* Where the TCP or UDP checksum of a frame is. */
struct l4_csum {
    size_t off;      /* start of the TCP/UDP header */
    size_t len;      /* bytes of TCP/UDP header and payload */
    size_t csum_off; /* of the checksum field, from 'off' */
    uint32_t pseudo; /* sum of the pseudo header, not folded */
};

/* Finds the TCP/UDP checksum of an IPv4 or IPv6 frame (optionally behind
 * one VLAN tag). Returns 0, or -1 if the frame is not TCP/UDP over IP or
 * is inconsistent. */
static int l4_find(const uint8_t *frame, size_t len, struct l4_csum *l)
{
    size_t off = 14;
    uint16_t type;
    uint8_t proto;

    if (len < off)
        return -1;
    type = (uint16_t)(frame[12] << 8 | frame[13]);
    if (type == 0x8100 || type == 0x88a8) {
        if (len < off + 4)
            return -1;
        type = (uint16_t)(frame[16] << 8 | frame[17]);
        off += 4;
    }
    if (type == 0x0800) {
        const uint8_t *ip = frame + off;
        size_t ihl, total;

        if (len < off + 20 || (ip[0] >> 4) != 4)
            return -1;
        ihl = (size_t)(ip[0] & 0x0f) * 4;
        total = (size_t)(ip[2] << 8 | ip[3]);
        if (ihl < 20 || total < ihl || off + total > len ||
            (ip[6] & 0x3f) != 0 || ip[7] != 0) /* fragments: leave alone */
            return -1;
        proto = ip[9];
        l->len = total - ihl;
        l->pseudo = sum16(ip + 12, 8, 0); /* source and destination */
        off += ihl;
    } else if (type == 0x86dd) {
        const uint8_t *ip = frame + off;

        if (len < off + 40 || (ip[0] >> 4) != 6)
            return -1;
        l->len = (size_t)(ip[4] << 8 | ip[5]);
        proto = ip[6]; /* extension headers: not handled */
        if (off + 40 + l->len > len)
            return -1;
        l->pseudo = sum16(ip + 8, 32, 0);
        off += 40;
    } else {
        return -1;
    }
    if (proto == 6 && l->len >= 20)
        l->csum_off = 16;
    else if (proto == 17 && l->len >= 8)
        l->csum_off = 6;
    else
        return -1;
    l->pseudo += proto;
    l->pseudo += (uint32_t)l->len;
    l->off = off;
    return 0;
}

static void l4_fill(uint8_t *frame, const struct l4_csum *l)
{
    uint8_t *c = frame + l->off + l->csum_off;
    uint16_t csum;

    c[0] = 0;
    c[1] = 0;
    csum = (uint16_t)~sum16(frame + l->off, l->len, l->pseudo);
    if (l->csum_off == 6 && csum == 0)
        csum = 0xffff; /* 0 means "no checksum" in UDP */
    c[0] = (uint8_t)(csum >> 8);
    c[1] = (uint8_t)csum;
}

int pktio_csum_fill(uint8_t *frame, size_t len)
{
    struct l4_csum l;

    if (l4_find(frame, len, &l) < 0)
        return -1;
    l4_fill(frame, &l);
    return 0;
}

int pktio_csum_fix_partial(uint8_t *frame, size_t len)
{
    struct l4_csum l;
    uint16_t field;

    if (l4_find(frame, len, &l) < 0)
        return 0;
    field = (uint16_t)(frame[l.off + l.csum_off] << 8 |
                       frame[l.off + l.csum_off + 1]);
    /* The sender put the folded pseudo-header sum there and left the rest
     * to offload (CHECKSUM_PARTIAL). A complete checksum equals it by
     * chance once in 65536 frames; filling it in then changes nothing in
     * a correct frame. */
    while (l.pseudo >> 16)
        l.pseudo = (l.pseudo & 0xffff) + (l.pseudo >> 16);
    if (field == 0 || field != l.pseudo)
        return 0;
    l4_fill(frame, &l);
    return 1;
}

uint64_t pktio_realtime_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}
