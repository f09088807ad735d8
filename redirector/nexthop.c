/* nexthop: next-hop MACs for tunnel frames. See nexthop.h. */
#include "nexthop.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"

#define RTF_UP_ 0x0001
#define RTF_GATEWAY_ 0x0002
#define ATF_COM_ 0x02
#define DISCARD_PORT 9

int nh_route_lookup(const char *route_text, const char *ifname, uint32_t dst,
                    uint32_t *gw)
{
    const char *line = route_text;
    int best_len = -1;
    unsigned long best_metric = 0;

    /* Iface Destination Gateway Flags RefCnt Use Metric Mask ...; the hex
     * fields are the in-memory (network order) values. */
    while (line != NULL && *line != '\0') {
        char name[IF_NAMESIZE + 1];
        unsigned int dest, gate, flags, refcnt, use, mask;
        unsigned long metric;
        const char *next = strchr(line, '\n');

        if (sscanf(line, "%16s %x %x %x %u %u %lu %x", name, &dest, &gate,
                   &flags, &refcnt, &use, &metric, &mask) == 8 &&
            strcmp(name, ifname) == 0 && (flags & RTF_UP_) &&
            (dst & mask) == (dest & mask)) {
            int len = __builtin_popcount(mask);

            if (len > best_len || (len == best_len && metric < best_metric)) {
                best_len = len;
                best_metric = metric;
                *gw = (flags & RTF_GATEWAY_) ? (uint32_t)gate : dst;
            }
        }
        line = next != NULL ? next + 1 : NULL;
    }
    return best_len >= 0 ? 0 : -1;
}

int nh_arp_lookup(const char *arp_text, const char *ifname, uint32_t ip,
                  uint8_t mac[6])
{
    const char *line = arp_text;

    /* IP address, HW type, Flags, HW address, Mask, Device */
    while (line != NULL && *line != '\0') {
        char addr[64], dev[IF_NAMESIZE + 1], mask[32];
        unsigned int type, flags, m[6];
        struct in_addr in;
        const char *next = strchr(line, '\n');

        if (sscanf(line, "%63s %x %x %x:%x:%x:%x:%x:%x %31s %16s", addr, &type,
                   &flags, &m[0], &m[1], &m[2], &m[3], &m[4], &m[5], mask,
                   dev) == 11 &&
            strcmp(dev, ifname) == 0 && (flags & ATF_COM_) &&
            inet_pton(AF_INET, addr, &in) == 1 && in.s_addr == ip) {
            for (int i = 0; i < 6; i++)
                mac[i] = (uint8_t)m[i];
            return 0;
        }
        line = next != NULL ? next + 1 : NULL;
    }
    return -1;
}

static void udp_kick(struct nh_table *t, uint32_t gw);

void nh_init(struct nh_table *t, const char *ifname)
{
    memset(t, 0, sizeof(*t));
    snprintf(t->ifname, sizeof(t->ifname), "%s", ifname);
    t->udp_fd = -1;
    t->route_path = "/proc/net/route";
    t->arp_path = "/proc/net/arp";
    t->kick = udp_kick;
}

void nh_fini(struct nh_table *t)
{
    for (size_t i = 0; i < t->n; i++)
        free(t->peers[i]);
    free(t->peers);
    if (t->udp_fd >= 0)
        close(t->udp_fd);
    memset(t, 0, sizeof(*t));
    t->udp_fd = -1;
}

struct nh_peer *nh_ref(struct nh_table *t, uint32_t addr)
{
    struct nh_peer *p;

    for (size_t i = 0; i < t->n; i++)
        if (t->peers[i]->addr == addr) {
            t->peers[i]->refs++;
            return t->peers[i];
        }
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 8;
        struct nh_peer **peers = realloc(t->peers, cap * sizeof(*peers));

        if (peers == NULL) {
            log_err("out of memory");
            return NULL;
        }
        t->peers = peers;
        t->cap = cap;
    }
    p = calloc(1, sizeof(*p));
    if (p == NULL) {
        log_err("out of memory");
        return NULL;
    }
    p->addr = addr;
    p->refs = 1;
    t->peers[t->n++] = p;
    return p;
}

void nh_unref(struct nh_table *t, struct nh_peer *p)
{
    if (p == NULL || --p->refs > 0)
        return;
    for (size_t i = 0; i < t->n; i++)
        if (t->peers[i] == p) {
            t->peers[i] = t->peers[--t->n];
            break;
        }
    free(p);
}

int nh_set_static(struct nh_table *t, uint32_t addr, const uint8_t mac[6])
{
    struct nh_peer *p = nh_ref(t, addr);

    if (p == NULL)
        return -1;
    if (p->fixed)
        p->refs--; /* already pinned: the pin holds its reference */
    p->fixed = true;
    p->resolved = true;
    p->gw = addr;
    memcpy(p->mac, mac, 6);
    return 0;
}

/* Reads a small /proc file into a malloc'd string (caller frees). */
static char *slurp(const char *path)
{
    char *buf = NULL;
    size_t len = 0, cap = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0) {
        log_warn_rl("%s: %s", path, strerror(errno));
        return NULL;
    }
    for (;;) {
        ssize_t n;

        if (cap - len < 4096) {
            char *b = realloc(buf, cap + 8192);

            if (b == NULL) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = b;
            cap += 8192;
        }
        n = read(fd, buf + len, cap - len - 1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            buf[len] = '\0';
            break;
        }
        len += (size_t)n;
    }
    close(fd);
    return buf;
}

/* Makes the kernel resolve 'gw': one empty UDP datagram to its discard
 * port, sent out of the transport interface. */
static void udp_kick(struct nh_table *t, uint32_t gw)
{
    struct sockaddr_in to = {.sin_family = AF_INET,
                             .sin_port = htons(DISCARD_PORT)};

    if (t->udp_fd < 0) {
        t->udp_fd =
            socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (t->udp_fd < 0) {
            log_warn_rl("UDP socket: %s", strerror(errno));
            return;
        }
        if (setsockopt(t->udp_fd, SOL_SOCKET, SO_BINDTODEVICE, t->ifname,
                       (socklen_t)strlen(t->ifname)) < 0)
            log_warn_rl("cannot bind to %s: %s", t->ifname, strerror(errno));
    }
    to.sin_addr.s_addr = gw;
    if (sendto(t->udp_fd, "", 0, 0, (struct sockaddr *)&to, sizeof(to)) < 0 &&
        errno != EAGAIN && errno != EHOSTUNREACH)
        log_warn_rl("cannot send to next hop: %s", strerror(errno));
}

static void update(struct nh_table *t, struct nh_peer *p, const char *routes,
                   const char *arp, uint64_t now_ms)
{
    char a[INET_ADDRSTRLEN], g[INET_ADDRSTRLEN];
    uint8_t mac[6];
    uint32_t gw = 0;
    bool was = p->resolved;

    p->checked_ms = now_ms;
    inet_ntop(AF_INET, &p->addr, a, sizeof(a));
    if (routes == NULL || nh_route_lookup(routes, t->ifname, p->addr, &gw)) {
        if (was || p->gw != 0)
            log_warn("no route to peer %s via %s: tunnel frames to it are "
                     "dropped",
                     a, t->ifname);
        p->resolved = false;
        p->gw = 0;
        return;
    }
    p->gw = gw;
    inet_ntop(AF_INET, &gw, g, sizeof(g));
    if (arp != NULL && nh_arp_lookup(arp, t->ifname, gw, mac) == 0) {
        if (!was || memcmp(mac, p->mac, 6) != 0)
            log_info("peer %s: next hop %s is %02x:%02x:%02x:%02x:%02x:%02x", a,
                     g, mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
        memcpy(p->mac, mac, 6);
        p->resolved = true;
    } else if (was) {
        /* Keep using the old address while the kernel re-resolves. */
        log_debug("peer %s: next hop %s not in the neighbour table", a, g);
    }
    if (!p->resolved || now_ms - p->kicked_ms >= NH_REFRESH_MS) {
        p->kicked_ms = now_ms;
        t->kick(t, gw);
    }
}

void nh_refresh(struct nh_table *t, uint64_t now_ms, bool force)
{
    char *routes = NULL, *arp = NULL;
    bool due = false;

    for (size_t i = 0; i < t->n; i++) {
        const struct nh_peer *p = t->peers[i];
        uint64_t every = p->resolved ? NH_REFRESH_MS : NH_RETRY_MS;

        if (!p->fixed && (force || now_ms - p->checked_ms >= every))
            due = true;
    }
    if (!due)
        return;
    routes = slurp(t->route_path);
    arp = slurp(t->arp_path);
    for (size_t i = 0; i < t->n; i++) {
        struct nh_peer *p = t->peers[i];
        uint64_t every = p->resolved ? NH_REFRESH_MS : NH_RETRY_MS;

        if (!p->fixed && (force || now_ms - p->checked_ms >= every))
            update(t, p, routes, arp, now_ms);
    }
    free(routes);
    free(arp);
}
