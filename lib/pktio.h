/* pktio: batched packet I/O on one port, with backends behind one small
 * interface (open a port, receive a burst, send a burst, release):
 *   "afpacket:IFNAME[,block_ms=N][,stack=drop]"  AF_PACKET with TPACKET_V3
 *                      mmap RX and TX rings (default; no per-packet system
 *                      call). The kernel hands over a partly filled RX
 *                      block after block_ms (default 4): the latency of a
 *                      lone frame. Each open port costs a kernel timer
 *                      firing every block_ms even when idle (about 16 us
 *                      each here). stack=drop: the port's frames are ours
 *                      alone, the kernel stack's own copy of each is
 *                      dropped after the ring took it (a tcx program, gone
 *                      with the port; where the kernel refuses it, logged
 *                      and ignored).
 *   "afxdp:IFNAME[,mode=skb|native]"  AF_XDP in copy mode on queue 0,
 *                      with XDP in generic (skb, default) or driver
 *                      (native) mode; no block timeout, and faster. It
 *                      takes every frame of the interface away from the
 *                      kernel stack, and refuses: a filter, an MTU above
 *                      3822, more than one RX queue, an interface that
 *                      already has an XDP program, a kernel without it.
 *                      The XDP program goes when the port closes or the
 *                      process dies. Receive times are taken per burst.
 *                      An interface that goes down or away does not wake
 *                      poll() (AF_XDP cannot report it); pktio_error()
 *                      says ENETDOWN once it is gone.
 *   "auto:IFNAME"      afxdp if the kernel and interface take it (and no
 *                      filter is given), else afpacket (logged at info).
 *   "pcap:IN.pcap,OUT.pcap"  reads frames from a savefile, writes sent
 *                      frames to another (tests; either side may be empty)
 *   "shm:PATH,side=a|b"  one end of a shared-memory link between two
 *                      processes on one host (made by pktio_shm_create()):
 *                      side a sends on ring a->b and receives on b->a,
 *                      side b the reverse. Frames are received in place
 *                      and copied once when sent; no system call per
 *                      burst while both sides are busy. A loop should
 *                      call pktio_arm() before it blocks on pktio_fd()
 *                      (pktio_wait() does). A full ring drops (nothing
 *                      waits for room). No filter; one opener per side;
 *                      a side that reopens resumes where it was.
 * Received packets point into the backend's memory and stay valid until
 * pktio_release() for that burst. A process blocks in pktio_wait() (poll)
 * when idle: nothing busy-polls.
 *
 * Frames are delivered as they would appear on a wire: the afpacket
 * backend puts back a VLAN tag the kernel took out of the frame, and fills
 * in TCP/UDP checksums the sender left to checksum offload (veth does), so
 * a frame can be forwarded elsewhere as it is. Frames that the kernel cut
 * short (larger than the ring's frame space, e.g. GSO super-packets) or
 * longer than PKTIO_MAX_FRAME are skipped and counted in rx_oversize. */
#ifndef VN_PKTIO_H
#define VN_PKTIO_H

#include <stddef.h>
#include <stdint.h>

#define PKTIO_BURST 64
#define PKTIO_MAX_FRAME 9216

struct pktio_pkt {
    uint8_t *data;
    uint32_t len;   /* bytes of frame (Ethernet header first) */
    uint64_t ts_ns; /* receive time, CLOCK_REALTIME ns (0 if unknown) */
};

struct pktio_stats {
    uint64_t rx_packets, rx_bytes, tx_packets, tx_bytes;
    uint64_t rx_dropped;  /* lost by the kernel/ring before we saw them */
    uint64_t tx_dropped;  /* could not be queued for sending */
    uint64_t rx_oversize; /* received but skipped: truncated or too long */
};

struct pktio;
struct sock_filter; /* <linux/filter.h>: classic BPF instruction */

/* Opens 'spec' (see above). Returns NULL on failure (logged). */
struct pktio *pktio_open(const char *spec);
/* The same, with a classic BPF filter ('n_insns' instructions, copied)
 * attached before the port receives its first frame, so nothing the
 * filter refuses ever reaches the ring. NULL/0 = no filter. */
struct pktio *pktio_open_filter(const char *spec,
                                const struct sock_filter *insns,
                                unsigned n_insns);
void pktio_close(struct pktio *p);

/* File descriptor to poll for input (POLLIN), or -1 (pcap: always ready). */
int pktio_fd(const struct pktio *p);

/* Receives up to 'max' packets without blocking. Returns how many (0 when
 * none are waiting, -1 on error or end of a pcap input). The packets are
 * borrowed until pktio_release(p). */
int pktio_recv(struct pktio *p, struct pktio_pkt *pkts, int max);
/* Gives back everything the last pktio_recv() returned. */
void pktio_release(struct pktio *p);

/* Queues copies of 'n' frames for sending and kicks the kernel once.
 * Returns the number queued (the rest are counted as tx_dropped). */
int pktio_send(struct pktio *p, const struct pktio_pkt *pkts, int n);

/* Zero-copy sending, for callers that build frames in place (e.g. an
 * encapsulation): pktio_tx_alloc() returns the next free TX slot and its
 * capacity in '*cap' bytes, or NULL when the ring is full (counted as one
 * tx_dropped). Write the frame there, then pktio_tx_commit() its length
 * (at most *cap) before the next alloc. pktio_tx_flush() kicks the kernel
 * once for everything committed; returns 0 or -1 (logged, rate-limited). */
uint8_t *pktio_tx_alloc(struct pktio *p, uint32_t *cap);
void pktio_tx_commit(struct pktio *p, uint32_t len);
int pktio_tx_flush(struct pktio *p);

/* Blocks until one of 'ports' has input or 'timeout_ms' passes. Returns the
 * number of ready ports, 0 on timeout, -1 on error (EINTR is 0). Calls
 * pktio_arm() on every port first. */
int pktio_wait(struct pktio *const *ports, int n, int timeout_ms);

/* To be called right before blocking in poll() on pktio_fd(p): a backend
 * that wakes its peer only on request (shm) asks for a wakeup here.
 * Returns 1 if input is already waiting (then do not block: poll with a
 * zero timeout or receive at once), 0 if blocking is safe; call nothing
 * else on the port between this and poll(). Backends
 * without the need (afpacket, afxdp, pcap) return 0. A shm port whose
 * owner never calls it still works, at the cost of one read() on the
 * next pktio_recv() after each empty one. */
int pktio_arm(struct pktio *p);

/* Returns and clears the port's pending error: an errno value such as
 * ENETDOWN after its interface went down (it resumes by itself when the
 * interface comes back up) or away (it never resumes), or 0. Poll reports
 * a port with a pending error as ready until this is called. */
/* afxdp: going down or away does not make poll() report the port (above). */
int pktio_error(struct pktio *p);

void pktio_get_stats(const struct pktio *p, struct pktio_stats *st);
/* Interface name ("" for pcap; shm: the file's name and side, "link:a",
 * cut to 15 characters). */
const char *pktio_name(const struct pktio *p);
/* The port's MTU in bytes (largest L3 packet; pcap: 9000; shm: slot size
 * minus 24, which leaves room for the Ethernet header and a VLAN tag). */
int pktio_mtu(const struct pktio *p);
/* The port's Ethernet address (pcap: 02:00:00:00:00:01; shm: a locally
 * administered one made from the file's path, differing in the last bit
 * between the sides). */
void pktio_hwaddr(const struct pktio *p, uint8_t mac[6]);

/* Creates the shared-memory link file 'path' for "shm:" ports, replacing
 * any file there (processes that still have the old one open keep it, cut
 * off), with two rings of 'slots' slots (a power of two, 2..1048576; 0:
 * 1024) of 'slot_bytes' bytes each (a multiple of 64, 128..9216; 0: 2048,
 * an MTU of 2024), and its two wakeup FIFOs 'path'.a2b and 'path'.b2a.
 * Files are mode 0600: open both sides before dropping privileges. Put it
 * on tmpfs (/dev/shm, /run): on a disk file system the kernel writes the
 * rings back to disk now and then. Returns 0, or -1 with a message in
 * 'err' ('err_len' bytes, NUL-terminated). */
int pktio_shm_create(const char *path, unsigned slots, unsigned slot_bytes,
                     char *err, size_t err_len);
/* Removes 'path' and its FIFOs; missing ones are fine. Ports still open
 * keep working on the removed file (pktio_error() says ENETDOWN once).
 * Returns 0, or -1 (logged) if one could not be removed. */
int pktio_shm_destroy(const char *path);

/* Computes the TCP or UDP checksum of an IPv4 or IPv6 frame (Ethernet
 * header first, optionally one VLAN tag) from scratch and stores it.
 * Returns 0, or -1 if the frame is not TCP/UDP over IP or is inconsistent
 * (then it is left unchanged). Used for frames whose sender left the
 * checksum to offload. */
int pktio_csum_fill(uint8_t *frame, size_t len);

#endif
