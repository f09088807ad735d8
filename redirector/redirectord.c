/* redirectord: the link half of a VNode. Terminates GRE tunnels (key =
 * link id) toward other VNodes and joins them to sliver ports; see
 * docs/redirector.md. One libevent loop runs the RPC server and the data
 * plane. */
#include <arpa/inet.h>
#include <event2/event.h>
#include <getopt.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "dataplane.h"
#include "log.h"
#include "rpc.h"
#include "units.h"
#include "version.h"

#define MAX_LISTEN 8
/* RX block size of every port, KiB: 32 KiB hold ~21 frames of 1400 bytes
 * or ~220 of 64. With 128 KiB blocks, 64-byte floods reached a sliver in
 * bursts of several hundred frames that overflowed its socket (11-16 %
 * lost at 90 kpps against 2-5 % with 32 KiB; docs/redirector.md). */
#define RD_BLOCK_KB 32u

struct options {
    const char *listen[MAX_LISTEN];
    int n_listen;
    const char *address, *transport, *log_file, *log_level, *block_ms;
    const char *port_rate, *port_burst;
    int check_only;
};

static void usage(FILE *f)
{
    fprintf(f, "usage: redirectord --listen URL... --address A.B.C.D "
               "--transport IFNAME\n"
               "                   [--port-rate RATE [--port-burst SIZE]] "
               "[--block-ms N]\n"
               "                   [--log FILE] "
               "[--log-level err|warn|info|debug] [-n]\n"
               "  URL: unix:/path | http://addr:port\n"
               "  --address: this VNode's data-plane address (tunnel source)\n"
               "  --transport: the interface toward the transport network\n"
               "  --port-rate: rate of the transport port (e.g. 1Gbit): "
               "frames toward it\n"
               "      are scheduled per slice and link (default: unlimited, "
               "no scheduler)\n"
               "  --port-burst: the port's bucket (e.g. 64KiB; default: "
               "2 ms of the rate,\n"
               "      at least 64KiB)\n"
               "  --block-ms: AF_PACKET RX block timeout, 1..1000 (default 4)\n"
               "  -n: check the configuration, print it and exit\n");
}

static int parse_options(int argc, char **argv, struct options *o)
{
    static const struct option longopts[] = {
        {"listen", required_argument, NULL, 'l'},
        {"address", required_argument, NULL, 'a'},
        {"transport", required_argument, NULL, 't'},
        {"block-ms", required_argument, NULL, 'b'},
        {"port-rate", required_argument, NULL, 'r'},
        {"port-burst", required_argument, NULL, 'u'},
        {"log", required_argument, NULL, 'o'},
        {"log-level", required_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int ch;

    while ((ch = getopt_long(argc, argv, "nh", longopts, NULL)) != -1) {
        switch (ch) {
        case 'l':
            if (o->n_listen == MAX_LISTEN)
                return -1;
            o->listen[o->n_listen++] = optarg;
            break;
        case 'a':
            o->address = optarg;
            break;
        case 't':
            o->transport = optarg;
            break;
        case 'b':
            o->block_ms = optarg;
            break;
        case 'r':
            o->port_rate = optarg;
            break;
        case 'u':
            o->port_burst = optarg;
            break;
        case 'o':
            o->log_file = optarg;
            break;
        case 'v':
            o->log_level = optarg;
            break;
        case 'n':
            o->check_only = 1;
            break;
        case 'h':
            usage(stdout);
            exit(0);
        default:
            return -1;
        }
    }
    if (optind != argc || !o->address || !o->transport ||
        (!o->n_listen && !o->check_only))
        return -1;
    return 0;
}

/* Warns when --address is on no interface here: the peers' tunnel frames
 * would then be routed elsewhere. */
static void check_address(uint32_t addr, const char *text)
{
    struct ifaddrs *ifa = NULL;

    if (getifaddrs(&ifa) < 0)
        return;
    for (struct ifaddrs *i = ifa; i != NULL; i = i->ifa_next)
        if (i->ifa_addr != NULL && i->ifa_addr->sa_family == AF_INET &&
            ((struct sockaddr_in *)(void *)i->ifa_addr)->sin_addr.s_addr ==
                addr) {
            freeifaddrs(ifa);
            return;
        }
    freeifaddrs(ifa);
    log_warn("address %s is not configured on any interface here", text);
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    (void)what;
    log_info("signal %d: stopping", (int)sig);
    event_base_loopbreak(arg);
}

int main(int argc, char **argv)
{
    struct options o = {0};
    struct redirector r = {0};
    struct event_base *base = NULL;
    struct vn_rpc_server *srv = NULL;
    struct event *ev_int = NULL, *ev_term = NULL;
    struct in_addr addr;
    char port_fmt[80], tr_fmt[112], rate_buf[32], burst_buf[32];
    uint64_t port_rate = 0, port_burst = 0;
    int level, rc = 1;

    if (parse_options(argc, argv, &o) < 0) {
        usage(stderr);
        return 2;
    }
    level = o.log_level ? vn_log_level_parse(o.log_level) : VN_LOG_INFO;
    if (level < 0 ||
        vn_log_init("redirectord", (enum vn_log_level)level, o.log_file) < 0)
        fatal("bad --log-level or --log");
    if (inet_pton(AF_INET, o.address, &addr) != 1 || addr.s_addr == 0)
        fatal("--address '%s' is not an IPv4 address", o.address);
    if (if_nametoindex(o.transport) == 0)
        fatal("--transport %s: no such interface in this namespace",
              o.transport);
    if (o.port_rate != NULL && strcmp(o.port_rate, "unlimited") != 0 &&
        units_parse_rate(o.port_rate, &port_rate) < 0)
        fatal("--port-rate '%s' is not a rate: give e.g. 1Gbit or 100Mbit, "
              "or unlimited",
              o.port_rate);
    if (o.port_burst != NULL &&
        (units_parse_size(o.port_burst, &port_burst) < 0 || port_burst < 1500 ||
         port_burst > VSCHED_BURST_MAX_BYTES))
        fatal("--port-burst '%s': give a size from 1500 bytes to %u bytes, "
              "e.g. 64KiB",
              o.port_burst, VSCHED_BURST_MAX_BYTES);
    if (o.port_burst != NULL && port_rate == 0)
        fatal("--port-burst needs --port-rate");
    /* The kernel stack gets no copy of what we take: every frame of a
     * link's port (the port is ours alone), and on the transport, shared
     * with management and other traffic, the GRE packets to our address.
     * RX blocks of RD_BLOCK_KB: one wake-up, and so one burst sent on to
     * a sliver, is at most a block (docs/redirector.md, "Kernel work per
     * frame" and "RX"). */
    if (o.block_ms == NULL)
        o.block_ms = "4";
    snprintf(port_fmt, sizeof(port_fmt),
             "afpacket:%%s,block_ms=%s,block_kb=%u,stack=drop", o.block_ms,
             RD_BLOCK_KB);
    snprintf(tr_fmt, sizeof(tr_fmt),
             "afpacket:%%s,block_ms=%s,block_kb=%u,stack=drop-gre:%s",
             o.block_ms, RD_BLOCK_KB, o.address);
    if (port_rate != 0)
        snprintf(burst_buf, sizeof(burst_buf), "%s",
                 units_format_size(port_burst ? port_burst
                                              : rd_sched_port_burst(port_rate),
                                   rate_buf, sizeof(rate_buf)));
    if (o.check_only) {
        printf("redirectord %s: address %s, transport %s (%s), ports %s, "
               "port rate %s",
               VN_VERSION, o.address, o.transport, tr_fmt, port_fmt,
               port_rate
                   ? units_format_rate(port_rate, rate_buf, sizeof(rate_buf))
                   : "unlimited (no scheduler)");
        if (port_rate != 0)
            printf(", port burst %s", burst_buf);
        printf("\n");
        return 0;
    }
    check_address(addr.s_addr, o.address);
    signal(SIGPIPE, SIG_IGN);
    /* Precise timers (timerfd on Linux): the scheduler's 1 ms wake-ups
     * would otherwise be rounded up to the next whole ms by epoll_wait's
     * timeout, i.e. come 1 to 2 ms apart (docs/redirector.md). */
    {
        struct event_config *ec = event_config_new();

        if (ec == NULL ||
            event_config_set_flag(ec, EVENT_BASE_FLAG_PRECISE_TIMER) < 0 ||
            (base = event_base_new_with_config(ec)) == NULL)
            base = event_base_new();
        event_config_free(ec);
    }
    if (base == NULL)
        fatal("cannot create the event loop");
    rd_table_init(&r.table);
    r.address = addr.s_addr;
    r.transport = o.transport;
    struct rd_dp_config dcfg = {
        .transport = o.transport,
        .address = addr.s_addr,
        .port_fmt = port_fmt,
        .transport_fmt = tr_fmt,
        .port_rate_bps = port_rate,
        .port_burst_bytes = (uint32_t)port_burst,
    };
    if ((r.dp = rd_dp_new(base, &r.table, &dcfg)) == NULL)
        fatal("cannot open the transport interface %s", o.transport);
    struct vn_rpc_server_config cfg = {
        .daemon = "redirectord",
        .version = VN_VERSION,
    };
    srv = vn_rpc_server_new(base, rd_api_methods, rd_api_n_methods, &r, &cfg);
    if (srv == NULL)
        fatal("cannot create the RPC server");
    for (int i = 0; i < o.n_listen; i++)
        if (vn_rpc_server_listen(srv, o.listen[i], NULL) < 0)
            fatal("cannot listen on %s", o.listen[i]);
    ev_int = evsignal_new(base, SIGINT, on_signal, base);
    ev_term = evsignal_new(base, SIGTERM, on_signal, base);
    if (ev_int == NULL || ev_term == NULL || event_add(ev_int, NULL) < 0 ||
        event_add(ev_term, NULL) < 0)
        fatal("cannot install signal handlers");
    log_info("redirectord %s ready: address %s, transport %s, port rate %s",
             VN_VERSION, o.address, o.transport,
             port_rate
                 ? units_format_rate(port_rate, rate_buf, sizeof(rate_buf))
                 : "unlimited");
    event_base_dispatch(base);
    rc = 0;
    if (ev_int)
        event_free(ev_int);
    if (ev_term)
        event_free(ev_term);
    vn_rpc_server_free(srv);
    rd_dp_free(r.dp);
    rd_table_fini(&r.table);
    event_base_free(base);
    return rc;
}
