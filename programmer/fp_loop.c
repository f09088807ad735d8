/* fp_loop: receive bursts from every port, run them through the runtime. */
#include "fp_loop.h"

#include <errno.h>
#include <inttypes.h>
#include <net/if.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"

#define TICK_NS 1000000000ull
#define BURSTS_PER_ROUND                                                       \
    4 /* per port, so one busy port cannot starve others                       \
       */
#define STATS_LOG_BYTES 8192
#define CTL_CHECK_NS 10000000ull /* control channel checked while busy */

uint64_t fp_now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int fp_loop_send(void *ctx, int port, const struct pktio_pkt *pkts, int n)
{
    struct pktio *const *ports = ctx;

    return pktio_send(ports[port], pkts, n);
}

static void put(char *buf, size_t n, size_t *used, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void put(char *buf, size_t n, size_t *used, const char *fmt, ...)
{
    va_list ap;
    int r;

    va_start(ap, fmt);
    r = vsnprintf(*used < n ? buf + *used : NULL, *used < n ? n - *used : 0,
                  fmt, ap);
    va_end(ap);
    if (r > 0)
        *used += (size_t)r;
}

size_t fp_loop_format_stats(const struct fp_runtime *rt,
                            struct pktio *const *ports, int n, char *buf,
                            size_t len)
{
    size_t used = 0;

    if (len > 0)
        buf[0] = '\0';
    for (int i = 0; i < n; i++) {
        const struct fp_port_stats *s = fp_runtime_stats(rt, i);
        const char *p = fp_runtime_port_name(rt, i);
        struct pktio_stats io;
        pktio_get_stats(ports[i], &io);
        put(buf, len, &used,
            "port.%s.rx_packets=%" PRIu64 "\nport.%s.rx_bytes=%" PRIu64
            "\nport.%s.tx_packets=%" PRIu64 "\nport.%s.tx_bytes=%" PRIu64
            "\nport.%s.module_drop=%" PRIu64 "\nport.%s.punt=%" PRIu64
            "\nport.%s.bad_out=%" PRIu64 "\nport.%s.emitted=%" PRIu64
            "\nport.%s.io_rx_dropped=%" PRIu64
            "\nport.%s.io_tx_dropped=%" PRIu64 "\n",
            p, s->rx_packets, p, s->rx_bytes, p, s->tx_packets, p, s->tx_bytes,
            p, s->dropped, p, s->punted, p, s->bad_out, p, s->emitted, p,
            io.rx_dropped, p, io.tx_dropped + s->tx_dropped);
    }
    if (used < len)
        used += fp_runtime_module_stats(rt, buf + used, len - used);
    else
        used += fp_runtime_module_stats(rt, NULL, 0);
    return used;
}

void fp_loop_log_stats(const struct fp_runtime *rt, struct pktio *const *ports,
                       int n)
{
    char *buf = malloc(STATS_LOG_BYTES), *line, *save = NULL;

    for (int i = 0; i < n; i++) {
        const struct fp_port_stats *s = fp_runtime_stats(rt, i);
        struct pktio_stats io;
        pktio_get_stats(ports[i], &io);
        log_info("port %s: rx %" PRIu64 " pkts %" PRIu64 " bytes, tx %" PRIu64
                 " pkts %" PRIu64 " bytes, module drop %" PRIu64
                 " punt %" PRIu64 " bad %" PRIu64 " emitted %" PRIu64
                 ", io rx_dropped %" PRIu64 " tx_dropped %" PRIu64,
                 fp_runtime_port_name(rt, i), s->rx_packets, s->rx_bytes,
                 s->tx_packets, s->tx_bytes, s->dropped, s->punted, s->bad_out,
                 s->emitted, io.rx_dropped, io.tx_dropped);
    }
    if (buf == NULL)
        return;
    fp_runtime_module_stats(rt, buf, STATS_LOG_BYTES);
    for (line = strtok_r(buf, "\n", &save); line != NULL;
         line = strtok_r(NULL, "\n", &save))
        log_info("module %s: %s", fp_runtime_module(rt)->name, line);
    free(buf);
}

/* A port that poll() woke without a frame may hold an error (its interface
 * went down or away), which keeps it "ready" until read: read it, so that
 * an idle loop does not spin. */
static void check_port(struct pktio *p)
{
    int err = pktio_error(p);

    if (err == 0)
        return;
    if (if_nametoindex(pktio_name(p)) != 0)
        log_warn("port %s: %s: frames resume when it is up again",
                 pktio_name(p), strerror(err));
    else
        log_warn("port %s: the interface is gone (%s)", pktio_name(p),
                 strerror(err));
}

/* Blocks until a port or the control channel has input, or 'timeout_ms'.
 * Ports without a descriptor (pcap) are always ready. Returns -1 on a
 * poll failure; sets *ctl_ready. */
static int wait_input(struct pktio *const *ports, int n, int ctl_fd,
                      int timeout_ms, bool *ctl_ready)
{
    struct pollfd fds[VNODE_MAX_PORTS + 1];
    int map[VNODE_MAX_PORTS + 1], nfds = 0, always = 0, rc;

    *ctl_ready = false;
    for (int i = 0; i < n; i++) {
        /* pcap ports are always ready; a shared-memory port may already
         * hold frames when it is asked to wake us. */
        if (pktio_fd(ports[i]) < 0 || pktio_arm(ports[i]) > 0) {
            always++;
            continue;
        }
        fds[nfds] = (struct pollfd){.fd = pktio_fd(ports[i]), .events = POLLIN};
        map[nfds++] = i;
    }
    if (ctl_fd >= 0) {
        fds[nfds] = (struct pollfd){.fd = ctl_fd, .events = POLLIN};
        map[nfds++] = -1;
    }
    rc = poll(fds, (nfds_t)nfds, always ? 0 : timeout_ms);
    if (rc < 0) {
        if (errno == EINTR)
            return 0;
        log_err("poll: %s", strerror(errno));
        return -1;
    }
    for (int i = 0; i < nfds; i++) {
        if (map[i] < 0)
            *ctl_ready = fds[i].revents != 0;
        else if (fds[i].revents & POLLERR)
            check_port(ports[map[i]]);
    }
    return 0;
}

int fp_loop_run(struct fp_runtime *rt, struct pktio *const *ports, int n,
                volatile sig_atomic_t *stop, volatile sig_atomic_t *dump,
                const struct fp_loop_hooks *hooks)
{
    struct pktio_pkt rx[PKTIO_BURST];
    bool eof[VNODE_MAX_PORTS] = {false}, ctl_ready = false;
    int n_eof = 0;
    int ctl_fd = hooks != NULL && hooks->on_ctl != NULL ? hooks->ctl_fd : -1;
    uint64_t now = fp_now_ns(), next_tick = now + TICK_NS, next_ctl = now;
    bool busy = false;

    while (!*stop && n_eof < n) {
        if (!busy) {
            int timeout_ms = (int)((next_tick - now) / 1000000) + 1;
            if (wait_input(ports, n, ctl_fd, timeout_ms, &ctl_ready) < 0)
                return -1;
        } else if (ctl_fd >= 0 && now >= next_ctl) {
            struct pollfd pc = {.fd = ctl_fd, .events = POLLIN};
            ctl_ready = poll(&pc, 1, 0) > 0;
            next_ctl = now + CTL_CHECK_NS;
        }
        busy = false;
        now = fp_now_ns();
        for (int p = 0; p < n; p++) {
            for (int b = 0; b < BURSTS_PER_ROUND && !eof[p]; b++) {
                int got = pktio_recv(ports[p], rx, PKTIO_BURST);
                if (got < 0) {
                    if (pktio_fd(ports[p]) >= 0) {
                        log_err("port %s failed", pktio_name(ports[p]));
                        return -1;
                    }
                    eof[p] = true; /* end of a pcap input */
                    n_eof++;
                    break;
                }
                if (got == 0)
                    break;
                fp_runtime_input(rt, p, rx, got, now);
                pktio_release(ports[p]);
                busy = true;
            }
        }
        if (ctl_ready) {
            /* Between bursts: the module may be swapped here. */
            ctl_ready = false;
            if (hooks->on_ctl(hooks->arg) < 0) {
                log_warn("control channel closed; running on without it");
                ctl_fd = -1;
            }
        }
        if (now >= next_tick) {
            fp_runtime_tick(rt, now);
            next_tick = now + TICK_NS;
        }
        if (*dump) {
            *dump = 0;
            fp_loop_log_stats(rt, ports, n);
        }
    }
    return 0;
}
