/* pktio_impl: what a pktio backend provides (a small vtable, in the manner
 * of Open vSwitch's netdev providers) and the state every port shares.
 * Only pktio*.c include this. */
#ifndef VN_PKTIO_IMPL_H
#define VN_PKTIO_IMPL_H

#include <net/if.h>
#include <stdint.h>

#include "pktio.h"

struct pktio_ops {
    const char *name; /* "afpacket", "afxdp", "pcap", "shm" */
    /* Opens the part of the spec after "name:". Returns NULL (logged). */
    struct pktio *(*open)(const char *arg, const struct sock_filter *insns,
                          unsigned n_insns);
    void (*close)(struct pktio *p);
    /* As pktio_recv()/pktio_release(); the generic layer counts rx_packets
     * and rx_bytes, the backend rx_dropped and rx_oversize. */
    int (*recv)(struct pktio *p, struct pktio_pkt *pkts, int max);
    void (*release)(struct pktio *p);
    /* As pktio_tx_*(); the generic layer counts tx_* and tx_dropped. */
    uint8_t *(*tx_alloc)(struct pktio *p, uint32_t *cap);
    void (*tx_commit)(struct pktio *p, uint32_t len);
    int (*tx_flush)(struct pktio *p);
    /* As pktio_arm(); NULL: blocking is always safe (returns 0). */
    int (*arm)(struct pktio *p);
    /* As pktio_error(); NULL: never fails. */
    int (*error)(struct pktio *p);
    /* Adds what the kernel counts itself (drops) to 'st', a copy of the
     * port's own counters; NULL: nothing to add. */
    void (*stats)(const struct pktio *p, struct pktio_stats *st);
};

/* First member of every backend's port structure. */
struct pktio {
    const struct pktio_ops *ops;
    int fd;                 /* -1 when there is nothing to poll */
    char name[IF_NAMESIZE]; /* "" for pcap */
    int mtu;                /* bytes */
    uint8_t mac[6];
    struct pktio_stats st;
};

extern const struct pktio_ops pktio_afpacket_ops;
extern const struct pktio_ops pktio_afxdp_ops;
extern const struct pktio_ops pktio_pcap_ops;
extern const struct pktio_ops pktio_shm_ops;

/* If the TCP/UDP checksum of 'frame' holds only the pseudo-header sum, as
 * a sender that left the checksum to offload writes it, fills in the real
 * checksum and returns 1; otherwise leaves the frame alone and returns 0.
 * For backends that cannot tell such frames apart (AF_XDP). */
int pktio_csum_fix_partial(uint8_t *frame, size_t len);

/* Now, CLOCK_REALTIME in ns: the receive time of backends that take one
 * per burst (AF_XDP, shm). */
uint64_t pktio_realtime_ns(void);

/* Opens "IFNAME[,options]" like pktio_afxdp_ops.open, but does not log
 * when AF_XDP is refused: writes the reason into 'why' ('why_len' bytes,
 * NUL-terminated) instead. For "auto:", where a refusal is expected. */
struct pktio *pktio_afxdp_open_quiet(const char *arg, char *why,
                                     size_t why_len);

#endif
