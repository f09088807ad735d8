/* gre_inject: sends crafted tunnel frames out of an interface, for
 * tests/integration/test_redirector.sh (which compiles it with lib/gre.c).
 *
 *   gre_inject IFNAME DSTMAC SRC DST KEY COUNT MODE
 *
 * MODE: gre        valid GRE frames with KEY from SRC to DST, carrying a
 *                  broadcast Ethernet frame (EtherType 0x88b5)
 *       truncated  the same cut short at every length below the full one
 *       badcsum    the same with a wrong IPv4 header checksum
 *       nokey      GRE without the K bit
 *       garbage    IPv4 protocol 47 to DST with random bytes after the IP
 *                  header
 *       random     random bytes of random length (any EtherType)
 * COUNT frames are sent for gre/badcsum/nokey/garbage/random. Exits 0 when
 * everything was sent. Random bytes are seeded, so runs repeat. */
#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "gre.h"

static int fd = -1;
static struct sockaddr_ll to;
static unsigned sent;

static void tx(const uint8_t *f, size_t len)
{
    if (len < 14)
        len = 14; /* the kernel refuses shorter frames on Ethernet */
    if (sendto(fd, f, len, 0, (struct sockaddr *)&to, sizeof(to)) < 0) {
        perror("gre_inject: sendto");
        exit(1);
    }
    sent++;
}

static int parse_mac(const char *s, uint8_t mac[6])
{
    unsigned m[6];

    if (sscanf(s, "%x:%x:%x:%x:%x:%x", &m[0], &m[1], &m[2], &m[3], &m[4],
               &m[5]) != 6)
        return -1;
    for (int i = 0; i < 6; i++)
        mac[i] = (uint8_t)m[i];
    return 0;
}

int main(int argc, char **argv)
{
    struct gre_tunnel t = {.src_mac = {0x02, 0x00, 0x00, 0x00, 0xee, 0x01}};
    uint8_t inner[100], f[2048];
    const char *mode;
    int count, n;

    if (argc != 8 || parse_mac(argv[2], t.dst_mac) < 0 ||
        inet_pton(AF_INET, argv[3], &t.src_ip) != 1 ||
        inet_pton(AF_INET, argv[4], &t.dst_ip) != 1) {
        fprintf(stderr, "usage: gre_inject IFNAME DSTMAC SRC DST KEY COUNT "
                        "gre|truncated|badcsum|nokey|garbage|random\n");
        return 2;
    }
    t.key = (uint32_t)strtoul(argv[5], NULL, 0);
    count = atoi(argv[6]);
    mode = argv[7];
    fd = socket(AF_PACKET, SOCK_RAW, 0);
    if (fd < 0) {
        perror("gre_inject: socket");
        return 1;
    }
    to.sll_family = AF_PACKET;
    to.sll_ifindex = (int)if_nametoindex(argv[1]);
    to.sll_halen = 6;
    memcpy(to.sll_addr, t.dst_mac, 6);
    if (to.sll_ifindex == 0) {
        fprintf(stderr, "gre_inject: no interface %s\n", argv[1]);
        return 1;
    }
    memset(inner, 0x5a, sizeof(inner));
    memset(inner, 0xff, 6); /* broadcast */
    memcpy(inner + 6, "\x02\x00\x00\x00\xee\x02\x88\xb5", 8);
    n = gre_encap(f, sizeof(f), &t, 1, inner, sizeof(inner));
    if (n < 0)
        return 1;
    srand(4242);
    if (strcmp(mode, "truncated") == 0) {
        for (int len = 14; len < n; len++)
            tx(f, (size_t)len);
    } else {
        for (int i = 0; i < count; i++) {
            uint8_t g[2048];
            size_t len = (size_t)n;

            memcpy(g, f, (size_t)n);
            if (strcmp(mode, "badcsum") == 0) {
                g[14 + 10] ^= 0x5a;
            } else if (strcmp(mode, "nokey") == 0) {
                g[14 + 20] = 0; /* flags: no K; the checksum stays right */
            } else if (strcmp(mode, "garbage") == 0) {
                for (size_t j = 34; j < len; j++)
                    g[j] = (uint8_t)rand();
            } else if (strcmp(mode, "random") == 0) {
                len = 14 + (size_t)rand() % 1400;
                for (size_t j = 12; j < len; j++)
                    g[j] = (uint8_t)rand();
            } else if (strcmp(mode, "gre") != 0) {
                fprintf(stderr, "gre_inject: unknown mode %s\n", mode);
                return 2;
            }
            tx(g, len);
        }
    }
    printf("gre_inject: %u frames sent (%s)\n", sent, mode);
    close(fd);
    return 0;
}
