/* dataplane: frames between link ports and the transport. See
 * dataplane.h; the reasons for the design are in docs/redirector.md. */
#include "dataplane.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "nexthop.h"
#include "pktio.h"

#define DEFAULT_PORT_FMT "afpacket:%s,block_ms=4"
#define TICK_MS 1000

struct rd_port {
    struct rd_dp *dp;
    struct pktio *io;
    struct event *ev;
    struct rd_link *owner; /* the link sliver this port belongs to */
    bool dirty;            /* frames committed, kick pending */
    bool gone;             /* its interface disappeared */
};

/* What the data plane keeps per link sliver (rd_link.dp). */
struct rd_link_dp {
    struct rd_port *port;     /* the link's port */
    struct rd_port *local;    /* local links: local_port; else NULL */
    struct nh_peer *nh;       /* tunnels: the peer's next hop */
    struct rd_sched_link *sl; /* tunnels on a scheduled port */
    struct rd_police police[2]; /* local links: port -> local_port, back */
};

struct rd_dp {
    struct event_base *base;
    struct rd_table *table;
    struct rd_port tr; /* the transport (owner NULL) */
    struct event *tick;
    char transport[IF_NAMESIZE];
    uint32_t address;
    uint8_t tr_mac[6];
    int tr_mtu;
    char *port_fmt, *tr_fmt;
    struct nh_table nh;
    uint16_t ip_id;
    struct rd_dp_stats st;
    struct rd_port *dirty[PKTIO_BURST];
    int n_dirty;
    /* The transport port's scheduler (NULL: unlimited) and its timer. */
    struct rd_sched *sched;
    uint32_t sched_frame_bytes; /* largest frame its buffers hold */
    struct event *sched_ev;
    uint64_t sched_at_ns; /* when the timer fires; 0 = not armed */
};

#define NS_PER_MS 1000000ull

uint64_t rd_now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void rd_dp_transport_filter(uint32_t address, struct sock_filter *insns)
{
    const struct sock_filter prog[RD_DP_FILTER_LEN] = {
        BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 12), /* EtherType */
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0x0800, 0, 5),
        BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 14 + 9), /* IP protocol */
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 47, 0, 3),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 14 + 16), /* destination */
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ntohl(address), 0, 1),
        BPF_STMT(BPF_RET | BPF_K, 0x40000), /* whole frame */
        BPF_STMT(BPF_RET | BPF_K, 0),
    };

    memcpy(insns, prog, sizeof(prog));
}

/* 'fmt' with every "%s" replaced by 'name' (malloc'd; NULL if no memory). */
static char *port_spec(const char *fmt, const char *name)
{
    size_t n = 0, len = strlen(fmt) + 1, nlen = strlen(name);
    char *out, *o;

    for (const char *p = strstr(fmt, "%s"); p; p = strstr(p + 2, "%s"))
        n++;
    out = malloc(len + n * nlen);
    if (out == NULL)
        return NULL;
    for (o = out; *fmt != '\0';) {
        if (fmt[0] == '%' && fmt[1] == 's') {
            memcpy(o, name, nlen);
            o += nlen;
            fmt += 2;
        } else {
            *o++ = *fmt++;
        }
    }
    *o = '\0';
    return out;
}

/* True if a frame of 'len' bytes may leave a device of 'mtu' bytes. */
static bool fits(int mtu, const uint8_t *f, uint32_t len)
{
    uint32_t max = (uint32_t)mtu + 14;

    if (len >= 14 &&
        ((f[12] == 0x81 && f[13] == 0x00) || (f[12] == 0x88 && f[13] == 0xa8)))
        max += 4;
    return len <= max;
}

static void mark_dirty(struct rd_dp *dp, struct rd_port *p)
{
    if (p->dirty)
        return;
    if (dp->n_dirty == PKTIO_BURST) { /* cannot happen: one per frame */
        pktio_tx_flush(p->io);
        return;
    }
    p->dirty = true;
    dp->dirty[dp->n_dirty++] = p;
}

static void flush_dirty(struct rd_dp *dp)
{
    for (int i = 0; i < dp->n_dirty; i++) {
        pktio_tx_flush(dp->dirty[i]->io);
        dp->dirty[i]->dirty = false;
    }
    dp->n_dirty = 0;
}

/* ---- toward the transport ------------------------------------------- */

/* Whether 'n' frames of tunnelled link 'l' can go out now; if not, they
 * are counted as dropped. */
static bool tunnel_ready(struct rd_dp *dp, struct rd_link *l, int n,
                         uint64_t now_ns)
{
    struct rd_link_dp *ld = l->dp;

    if (dp->tr.io == NULL) { /* the transport is gone, not back yet */
        l->ctr.drops_queue += (uint64_t)n;
        return false;
    }
    if (!ld->nh->resolved) {
        dp->st.drops_no_nexthop += (uint64_t)n;
        log_warn_rl("link key %u: next hop toward the peer not resolved "
                    "yet: frames dropped",
                    l->key);
        nh_refresh(&dp->nh, now_ns / NS_PER_MS, false);
        return false;
    }
    return true;
}

/* Whether a 'len'-byte inner frame fits the transport with GRE (and the
 * scheduler's buffers); counted as too big if not. */
static bool tunnel_fits(struct rd_dp *dp, const struct rd_link *l, uint32_t len)
{
    if (len + GRE_IP_HLEN + GRE_HLEN <= (uint32_t)dp->tr_mtu &&
        (dp->sched == NULL || len <= dp->sched_frame_bytes))
        return true;
    dp->st.drops_too_big++;
    log_warn_rl("link key %u: %u-byte frame does not fit the transport MTU "
                "%d with GRE (%d bytes more)",
                l->key, len, dp->tr_mtu, GRE_IP_HLEN + GRE_HLEN);
    return false;
}

/* Builds one GRE frame of 'l' in the transport's TX ring (sent by the next
 * flush). Returns 0, or -1 if the ring was full (counted). */
static int encap_one(struct rd_dp *dp, struct rd_link *l, const uint8_t *data,
                     uint32_t len)
{
    struct rd_link_dp *ld = l->dp;
    struct gre_tunnel t;
    uint32_t cap = 0;
    uint8_t *buf = pktio_tx_alloc(dp->tr.io, &cap);

    if (buf == NULL || len + GRE_ENCAP_OVERHEAD > cap) {
        l->ctr.drops_queue++;
        return -1;
    }
    memcpy(t.dst_mac, ld->nh->mac, 6);
    memcpy(t.src_mac, dp->tr_mac, 6);
    t.src_ip = dp->address;
    t.dst_ip = l->peer;
    t.key = l->key;
    gre_encap_hdr(buf, &t, dp->ip_id++, len);
    memcpy(buf + GRE_ENCAP_OVERHEAD, data, len);
    pktio_tx_commit(dp->tr.io, len + GRE_ENCAP_OVERHEAD);
    l->ctr.tx_packets++;
    l->ctr.tx_bytes += len;
    dp->st.tr_tx_packets++;
    dp->st.tr_tx_bytes += len + GRE_ENCAP_OVERHEAD;
    return 0;
}

/* Frames from the port of tunnelled link 'l': queued in the scheduler, or
 * straight into the tunnel when the port is unlimited. */
static void encap_out(struct rd_dp *dp, struct rd_link *l,
                      const struct pktio_pkt *pkts, int n, uint64_t now_ns)
{
    struct rd_link_dp *ld = l->dp;

    if (!tunnel_ready(dp, l, n, now_ns))
        return;
    for (int i = 0; i < n; i++) {
        if (!tunnel_fits(dp, l, pkts[i].len))
            continue;
        if (ld->sl != NULL) {
            /* A refusal (queue limit) is counted by the scheduler. */
            rd_sched_enqueue(dp->sched, ld->sl, pkts[i].data, pkts[i].len,
                             now_ns);
        } else if (encap_one(dp, l, pkts[i].data, pkts[i].len) < 0) {
            l->ctr.drops_queue += (uint64_t)(n - i - 1);
            break;
        }
    }
    if (ld->sl == NULL)
        pktio_tx_flush(dp->tr.io);
}

/* Arms the scheduler's timer for its next deadline, at the closest
 * RD_DP_SCHED_TICK_US from now (a wake-up costs ~16 us here: the port's
 * bucket absorbs the lateness, see docs/redirector.md). Only moves it
 * earlier: a timer that fires early finds nothing and re-arms. Idle, it is
 * removed, so an idle scheduler never wakes the process. */
static void sched_arm(struct rd_dp *dp, uint64_t now_ns)
{
    uint64_t next = rd_sched_next_ns(dp->sched, now_ns), at;
    const uint64_t tick = RD_DP_SCHED_TICK_US * 1000ull;
    struct timeval tv;

    if (dp->sched_ev == NULL)
        return;
    if (next == UINT64_MAX) {
        if (dp->sched_at_ns != 0) {
            event_del(dp->sched_ev);
            dp->sched_at_ns = 0;
        }
        return;
    }
    at = next > now_ns + tick ? next : now_ns + tick;
    if (dp->sched_at_ns != 0 && dp->sched_at_ns <= at)
        return;
    tv.tv_sec = (time_t)((at - now_ns) / 1000000000ull);
    tv.tv_usec = (suseconds_t)((at - now_ns) % 1000000000ull / 1000);
    if (event_add(dp->sched_ev, &tv) < 0) {
        log_err("cannot arm the scheduler's timer");
        return;
    }
    dp->sched_at_ns = at;
}

int rd_dp_poll_sched(struct rd_dp *dp, uint64_t now_ns)
{
    struct rd_buf *bufs[PKTIO_BURST];
    int n, total = 0;

    if (dp->sched == NULL)
        return 0;
    dp->st.sched_runs++;
    do {
        n = rd_sched_dequeue(dp->sched, now_ns, bufs, PKTIO_BURST);
        for (int i = 0; i < n; i++) {
            struct rd_link *l = rd_table_rx_lookup(dp->table, bufs[i]->key);

            /* A deleted link's frames left the scheduler with it, so 'l'
             * is there; the tunnel may have gone meanwhile. */
            if (l != NULL && l->dp != NULL && tunnel_ready(dp, l, 1, now_ns))
                encap_one(dp, l, bufs[i]->data, bufs[i]->len);
            rd_sched_put(dp->sched, bufs[i]);
        }
        if (n > 0 && dp->tr.io != NULL)
            pktio_tx_flush(dp->tr.io);
        total += n;
    } while (n == PKTIO_BURST);
    sched_arm(dp, now_ns);
    return total;
}

/* Copies one frame out of 'out'. Returns 0, or -1 if it was dropped
 * (charged to 'l'). */
static int copy_out(struct rd_dp *dp, struct rd_link *l, struct rd_port *out,
                    const uint8_t *data, uint32_t len)
{
    uint32_t cap = 0;
    uint8_t *buf;

    if (!fits(pktio_mtu(out->io), data, len)) {
        dp->st.drops_too_big++;
        log_warn_rl("link key %u: %u-byte frame over the MTU of %s", l->key,
                    len, out->owner->port);
        return -1;
    }
    buf = pktio_tx_alloc(out->io, &cap);
    if (buf == NULL || len > cap) {
        l->ctr.drops_queue++;
        return -1;
    }
    memcpy(buf, data, len);
    pktio_tx_commit(out->io, len);
    mark_dirty(dp, out);
    return 0;
}

/* Frames that came in on a link's port (or on a local link's other
 * port). */
static int port_input(struct rd_port *in, uint64_t now_ns)
{
    struct rd_dp *dp = in->dp;
    struct rd_link *l = in->owner;
    struct rd_link_dp *ld = l->dp;
    struct pktio_pkt pkts[PKTIO_BURST];
    int total = 0, n;

    while (total < RD_DP_BUDGET) {
        n = pktio_recv(in->io, pkts, PKTIO_BURST);
        if (n <= 0) {
            if (n < 0 && total == 0)
                total = -1;
            break;
        }
        if (l->end != RD_END_LOCAL) {
            /* A backlogged link: serve what came due since the last round
             * before queueing more, so the service it was owed is given
             * and counted before a drop of this burst is judged (drops_own
             * vs drops_others, docs/redirector.md). A link with nothing
             * queued skips it: its fresh frames then get the port's tokens
             * first. */
            if (ld->sl != NULL && rd_sched_link_queued(ld->sl) > 0)
                rd_dp_poll_sched(dp, now_ns);
            encap_out(dp, l, pkts, n, now_ns);
        } else {
            bool fwd = in == ld->port; /* port -> local_port is "tx" */
            struct rd_port *out = fwd ? ld->local : ld->port;
            struct rd_police *pol = &ld->police[fwd ? 0 : 1];

            for (int i = 0; i < n; i++) {
                if (!rd_police_take(pol, pkts[i].len, now_ns)) {
                    l->ctr.drops_policed++;
                    continue;
                }
                if (copy_out(dp, l, out, pkts[i].data, pkts[i].len) < 0)
                    continue;
                if (fwd) {
                    l->ctr.tx_packets++;
                    l->ctr.tx_bytes += pkts[i].len;
                } else {
                    l->ctr.rx_packets++;
                    l->ctr.rx_bytes += pkts[i].len;
                }
            }
            flush_dirty(dp);
        }
        pktio_release(in->io);
        /* Send what may go now, burst by burst: queues stay short, and a
         * big wake-up does not hold frames back until its end. */
        if (l->end != RD_END_LOCAL && dp->sched != NULL)
            rd_dp_poll_sched(dp, now_ns);
        total += n;
        if (n < PKTIO_BURST)
            break;
        /* The daemon reads the clock again for the next burst: sending a
         * burst runs the receivers' kernel work in our send() (~3 us a
         * frame on veth), so a wake-up of many bursts spans milliseconds,
         * and a frozen 'now' gave the scheduler's buckets no tokens for
         * that time (tests pass 'now' and keep it). */
        if (dp->base != NULL)
            now_ns = rd_now_ns();
    }
    return total;
}

/* ---- from the transport ---------------------------------------------- */

static void decap_one(struct rd_dp *dp, const struct pktio_pkt *pkt)
{
    struct gre_decap d;
    enum gre_err err = gre_decap(pkt->data, pkt->len, &d);
    char src[INET_ADDRSTRLEN];
    struct rd_link *l;
    struct rd_link_dp *ld;

    dp->st.tr_rx_packets++;
    dp->st.tr_rx_bytes += pkt->len;
    if (err != GRE_OK) {
        static struct vn_log_ratelimit rl = {.interval_s = 5, .burst = 10};

        dp->st.drops_decap[err]++;
        if (vn_log_get_level() >= VN_LOG_DEBUG && vn_log_ratelimit_ok(&rl))
            log_debug("tunnel frame refused: %s", gre_err_name(err));
        return;
    }
    if (d.dst_ip != dp->address) {
        dp->st.drops_not_ours++;
        return;
    }
    l = rd_table_rx_lookup(dp->table, d.key);
    if (l == NULL || l->dp == NULL) {
        dp->st.drops_unknown_key++;
        inet_ntop(AF_INET, &d.src_ip, src, sizeof(src));
        log_warn_rl("tunnel frame from %s with unknown key %u dropped", src,
                    d.key);
        return;
    }
    ld = l->dp;
    if (d.src_ip != l->peer || !rd_link_may_deliver(l, ld->port->owner)) {
        l->ctr.drops_bad_key++;
        inet_ntop(AF_INET, &d.src_ip, src, sizeof(src));
        log_warn_rl("tunnel frame with key %u from %s, not from the link's "
                    "peer: dropped",
                    d.key, src);
        return;
    }
    if (copy_out(dp, l, ld->port, d.inner, (uint32_t)d.inner_len) == 0) {
        l->ctr.rx_packets++;
        l->ctr.rx_bytes += d.inner_len;
    }
}

int rd_dp_poll_transport(struct rd_dp *dp, uint64_t now_ns)
{
    struct pktio_pkt pkts[PKTIO_BURST];
    int total = 0, n;

    (void)now_ns;
    if (dp->tr.io == NULL)
        return 0;
    while (total < RD_DP_BUDGET) {
        n = pktio_recv(dp->tr.io, pkts, PKTIO_BURST);
        if (n <= 0) {
            if (n < 0 && total == 0)
                total = -1;
            break;
        }
        for (int i = 0; i < n; i++)
            decap_one(dp, &pkts[i]);
        flush_dirty(dp);
        pktio_release(dp->tr.io);
        total += n;
        if (n < PKTIO_BURST)
            break;
    }
    return total;
}

int rd_dp_poll_link(struct rd_dp *dp, struct rd_link *l, uint64_t now_ns)
{
    struct rd_link_dp *ld = l->dp;
    int a, b = 0;

    (void)dp;
    if (ld == NULL)
        return 0;
    a = port_input(ld->port, now_ns);
    if (ld->local != NULL)
        b = port_input(ld->local, now_ns);
    if (a < 0 && b <= 0)
        return -1;
    return (a > 0 ? a : 0) + (b > 0 ? b : 0);
}

/* ---- events, ports, links --------------------------------------------- */

/* A wake-up that brought no frame: the socket may hold an error (its
 * interface went down or away), which keeps it "ready" until read. Down:
 * the socket resumes by itself when the interface is up again. Away: stop
 * watching it; a link needs link.delete and link.create, the transport is
 * reopened by the tick once the interface is back. */
static void port_check(struct rd_port *p)
{
    int err = pktio_error(p->io);
    const char *name = pktio_name(p->io);

    if (err == 0)
        return;
    if (if_nametoindex(name) != 0) {
        log_warn("%s: %s: frames resume when it is up again", name,
                 strerror(err));
        return;
    }
    log_warn("%s: the interface is gone (%s)%s", name, strerror(err),
             p->owner != NULL ? ": delete and create its link again"
                              : ": waiting for it to come back");
    if (p->ev != NULL)
        event_del(p->ev);
    p->gone = true;
}

static void on_port(evutil_socket_t fd, short what, void *arg)
{
    struct rd_port *p = arg;
    int n;

    (void)fd, (void)what;
    if (p->owner != NULL)
        n = port_input(p, rd_now_ns());
    else
        n = rd_dp_poll_transport(p->dp, rd_now_ns());
    if (n == 0)
        port_check(p);
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    rd_dp_tick(arg, rd_now_ns());
}

static void on_sched(evutil_socket_t fd, short what, void *arg)
{
    struct rd_dp *dp = arg;

    (void)fd, (void)what;
    dp->sched_at_ns = 0;
    dp->st.sched_wakeups++;
    rd_dp_poll_sched(dp, rd_now_ns());
}

static int port_open(struct rd_dp *dp, struct rd_port *p, const char *ifname,
                     struct rd_link *owner);
static void port_close(struct rd_port *p);

void rd_dp_tick(struct rd_dp *dp, uint64_t now_ns)
{
    uint64_t now_ms = now_ns / NS_PER_MS;

    if (dp->tr.gone && if_nametoindex(dp->transport) != 0) {
        port_close(&dp->tr);
        dp->tr.gone = false;
        if (port_open(dp, &dp->tr, dp->transport, NULL) == 0) {
            pktio_hwaddr(dp->tr.io, dp->tr_mac);
            dp->tr_mtu = pktio_mtu(dp->tr.io);
            log_info("transport %s is back", dp->transport);
        } else {
            port_close(&dp->tr);
            dp->tr.gone = true;
        }
    }
    nh_refresh(&dp->nh, now_ms, false);
}

/* Opens 'ifname' as a port of 'owner' (NULL: the transport, filtered). */
static int port_open(struct rd_dp *dp, struct rd_port *p, const char *ifname,
                     struct rd_link *owner)
{
    struct sock_filter filter[RD_DP_FILTER_LEN];
    char *spec = port_spec(owner != NULL ? dp->port_fmt : dp->tr_fmt, ifname);

    p->dp = dp;
    p->owner = owner;
    if (spec == NULL) {
        log_err("out of memory");
        return -1;
    }
    if (owner == NULL) {
        rd_dp_transport_filter(dp->address, filter);
        p->io = pktio_open_filter(spec, filter, RD_DP_FILTER_LEN);
    } else {
        p->io = pktio_open(spec);
    }
    free(spec);
    if (p->io == NULL)
        return -1;
    if (dp->base != NULL && pktio_fd(p->io) >= 0) {
        p->ev = event_new(dp->base, pktio_fd(p->io), EV_READ | EV_PERSIST,
                          on_port, p);
        if (p->ev == NULL || event_add(p->ev, NULL) < 0) {
            log_err("%s: cannot add an event", ifname);
            return -1;
        }
    }
    return 0;
}

static void port_close(struct rd_port *p)
{
    if (p == NULL)
        return;
    if (p->ev != NULL)
        event_free(p->ev);
    pktio_close(p->io);
    p->ev = NULL;
    p->io = NULL;
}

/* A port belongs to the data plane: its own IPv6 link-local address would
 * have the VNode's kernel talk into the slice. Best effort. */
static void quiet_port(const char *ifname)
{
    char path[96];
    int fd;

    snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/disable_ipv6",
             ifname);
    fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    if (write(fd, "1", 1) != 1)
        log_debug("%s: cannot disable IPv6", ifname);
    close(fd);
}

static char *errmsg(const char *what, const char *ifname)
{
    char *s = NULL;

    if (asprintf(&s,
                 "cannot open %s %s for packet I/O (see the "
                 "redirectord log)",
                 what, ifname) < 0)
        s = NULL;
    return s;
}

static void link_dp_free(struct rd_dp *dp, struct rd_link_dp *ld)
{
    if (ld == NULL)
        return;
    port_close(ld->port);
    port_close(ld->local);
    free(ld->port);
    free(ld->local);
    nh_unref(&dp->nh, ld->nh);
    free(ld);
}

/* A local link's policers (both ways) to rates 'r': limited like a
 * tunnelled link, where tunnelled links are (a scheduled transport). */
static void police_local(const struct rd_dp *dp, struct rd_link_dp *ld,
                         const struct rd_rates *r, uint64_t now_ns)
{
    if (dp->sched == NULL)
        return;
    for (int i = 0; i < 2; i++)
        rd_police_set(&ld->police[i], r, GRE_ENCAP_OVERHEAD, now_ns);
}

int rd_dp_attach(struct rd_dp *dp, struct rd_link *l, uint64_t now_ns,
                 enum vn_fault *code, char **err)
{
    struct rd_link_dp *ld = calloc(1, sizeof(*ld));

    *err = NULL;
    *code = VN_FAULT_INTERNAL;
    if (ld == NULL || (ld->port = calloc(1, sizeof(*ld->port))) == NULL)
        goto oom;
    if (port_open(dp, ld->port, l->port, l) < 0) {
        *err = errmsg("port", l->port);
        goto fail;
    }
    quiet_port(l->port);
    if (l->end == RD_END_LOCAL) {
        if ((ld->local = calloc(1, sizeof(*ld->local))) == NULL)
            goto oom;
        if (port_open(dp, ld->local, l->local_port, l) < 0) {
            *err = errmsg("local_port", l->local_port);
            goto fail;
        }
        quiet_port(l->local_port);
        police_local(dp, ld, &l->rates, now_ns);
    } else {
        if ((ld->nh = nh_ref(&dp->nh, l->peer)) == NULL)
            goto oom;
        /* An inner frame is the port's MTU plus its Ethernet header; the
         * outer IP packet adds IPv4 and GRE: GRE_ENCAP_OVERHEAD in all. */
        if (pktio_mtu(ld->port->io) + GRE_ENCAP_OVERHEAD > dp->tr_mtu)
            log_warn("link key %u: port %s has MTU %d but the transport "
                     "(MTU %d) carries at most %d with GRE: larger frames "
                     "are dropped; give the port an MTU of %d or the "
                     "transport one of %d",
                     l->key, l->port, pktio_mtu(ld->port->io), dp->tr_mtu,
                     dp->tr_mtu - GRE_ENCAP_OVERHEAD,
                     dp->tr_mtu - GRE_ENCAP_OVERHEAD,
                     pktio_mtu(ld->port->io) + GRE_ENCAP_OVERHEAD);
    }
    if (l->end != RD_END_LOCAL && dp->sched != NULL) {
        if (rd_sched_link_add(dp->sched, l->slice_id, l->key, &l->rates, now_ns,
                              code, err) < 0)
            goto fail;
        ld->sl = rd_sched_link_find(dp->sched, l->key);
    }
    l->dp = ld;
    if (ld->nh != NULL)
        nh_refresh(&dp->nh, now_ns / NS_PER_MS, true);
    return 0;
oom:
    log_err("out of memory");
    if (*err == NULL && asprintf(err, "out of memory") < 0)
        *err = NULL;
fail:
    link_dp_free(dp, ld);
    return -1;
}

void rd_dp_detach(struct rd_dp *dp, struct rd_link *l, uint64_t now_ns)
{
    struct rd_link_dp *ld = l->dp;

    if (ld != NULL && ld->sl != NULL) {
        rd_sched_link_del(dp->sched, l->key, now_ns);
        ld->sl = NULL;
    }
    link_dp_free(dp, l->dp);
    l->dp = NULL;
}

int rd_dp_update(struct rd_dp *dp, struct rd_link *l, const struct rd_rates *r,
                 uint64_t now_ns, enum vn_fault *code, char **err)
{
    struct rd_link_dp *ld = l->dp;

    *err = NULL;
    if (ld != NULL && ld->sl != NULL) {
        if (rd_sched_link_update(dp->sched, l->key, r, now_ns, code, err) < 0)
            return -1;
        rd_dp_poll_sched(dp, now_ns); /* new rates may release frames */
    }
    if (ld != NULL && ld->local != NULL)
        police_local(dp, ld, r, now_ns);
    l->rates = *r;
    return 0;
}

struct rd_sched *rd_dp_sched(const struct rd_dp *dp)
{
    return dp->sched;
}

/* The scheduler of the transport, with buffers for the largest inner
 * frame that fits it with GRE. */
static int sched_open(struct rd_dp *dp, const struct rd_dp_config *cfg)
{
    int max = dp->tr_mtu - GRE_IP_HLEN - GRE_HLEN;
    struct rd_sched_config sc = {
        .port = dp->transport,
        .rate_bps = cfg->port_rate_bps,
        .burst_bytes = cfg->port_burst_bytes,
        .overhead_bytes = GRE_ENCAP_OVERHEAD,
        /* A round comes at most a tick (rounded up to the loop's ms) late. */
        .slack_ns = 2 * RD_DP_SCHED_TICK_US * 1000ull,
    };
    char *err = NULL;

    if (max > PKTIO_MAX_FRAME)
        max = PKTIO_MAX_FRAME;
    if (max < 64) {
        log_err("transport %s: MTU %d is too small for GRE", dp->transport,
                dp->tr_mtu);
        return -1;
    }
    sc.frame_bytes = (uint32_t)max;
    dp->sched_frame_bytes = sc.frame_bytes;
    dp->sched = rd_sched_new(&sc, &err);
    if (dp->sched == NULL) {
        log_err("%s", err ? err : "cannot create the scheduler");
        free(err);
        return -1;
    }
    if (dp->base != NULL &&
        (dp->sched_ev = event_new(dp->base, -1, 0, on_sched, dp)) == NULL) {
        log_err("cannot create the scheduler's timer");
        return -1;
    }
    return 0;
}

struct rd_dp *rd_dp_new(struct event_base *base, struct rd_table *table,
                        const struct rd_dp_config *cfg)
{
    struct rd_dp *dp = calloc(1, sizeof(*dp));
    const struct timeval tick = {TICK_MS / 1000, (TICK_MS % 1000) * 1000};

    if (dp == NULL) {
        log_err("out of memory");
        return NULL;
    }
    dp->base = base;
    dp->table = table;
    dp->address = cfg->address;
    snprintf(dp->transport, sizeof(dp->transport), "%s", cfg->transport);
    nh_init(&dp->nh, cfg->transport);
    if (cfg->route_path != NULL)
        dp->nh.route_path = cfg->route_path;
    if (cfg->arp_path != NULL)
        dp->nh.arp_path = cfg->arp_path;
    dp->port_fmt = strdup(cfg->port_fmt ? cfg->port_fmt : DEFAULT_PORT_FMT);
    dp->tr_fmt = strdup(cfg->transport_fmt ? cfg->transport_fmt
                        : cfg->port_fmt    ? cfg->port_fmt
                                           : DEFAULT_PORT_FMT);
    if (dp->port_fmt == NULL || dp->tr_fmt == NULL) {
        log_err("out of memory");
        goto fail;
    }
    if (port_open(dp, &dp->tr, cfg->transport, NULL) < 0)
        goto fail;
    pktio_hwaddr(dp->tr.io, dp->tr_mac);
    dp->tr_mtu = pktio_mtu(dp->tr.io);
    dp->ip_id = (uint16_t)(rd_now_ns() / NS_PER_MS);
    if (cfg->port_rate_bps != 0 && sched_open(dp, cfg) < 0)
        goto fail;
    if (base != NULL) {
        dp->tick = event_new(base, -1, EV_PERSIST, on_tick, dp);
        if (dp->tick == NULL || event_add(dp->tick, &tick) < 0) {
            log_err("cannot add the timer");
            goto fail;
        }
    }
    return dp;
fail:
    rd_dp_free(dp);
    return NULL;
}

void rd_dp_free(struct rd_dp *dp)
{
    if (dp == NULL)
        return;
    for (size_t i = 0; dp->table != NULL && i < dp->table->n; i++)
        if (dp->table->links[i]->dp != NULL)
            rd_dp_detach(dp, dp->table->links[i], 0);
    if (dp->tick != NULL)
        event_free(dp->tick);
    if (dp->sched_ev != NULL)
        event_free(dp->sched_ev);
    rd_sched_free(dp->sched);
    port_close(&dp->tr);
    nh_fini(&dp->nh);
    free(dp->port_fmt);
    free(dp->tr_fmt);
    free(dp);
}

int rd_dp_set_nexthop(struct rd_dp *dp, uint32_t peer, const uint8_t mac[6])
{
    return nh_set_static(&dp->nh, peer, mac);
}

bool rd_dp_nexthop(const struct rd_dp *dp, uint32_t peer, uint8_t mac[6])
{
    for (size_t i = 0; i < dp->nh.n; i++)
        if (dp->nh.peers[i]->addr == peer && dp->nh.peers[i]->resolved) {
            memcpy(mac, dp->nh.peers[i]->mac, 6);
            return true;
        }
    return false;
}

static void add_port(const struct rd_port *p, struct rd_dp_stats *st)
{
    struct pktio_stats ps;

    if (p == NULL || p->io == NULL)
        return;
    pktio_get_stats(p->io, &ps);
    st->ring_drops += ps.rx_dropped;
    st->rx_oversize += ps.rx_oversize;
}

void rd_dp_get_stats(const struct rd_dp *dp, struct rd_dp_stats *st)
{
    *st = dp->st;
    add_port(&dp->tr, st);
    for (size_t i = 0; i < dp->table->n; i++) {
        const struct rd_link_dp *ld = dp->table->links[i]->dp;

        if (ld != NULL) {
            add_port(ld->port, st);
            add_port(ld->local, st);
        }
    }
}
