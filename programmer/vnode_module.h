/* vnode_module: the API between the fast-path runtime and a packet-
 * processing module. This header is what slice developers build against.
 *
 * Model (pre-processing -> function -> post-processing):
 *   1. The runtime receives a burst of frames from one port and parses each
 *      one (Ethernet, ARP, IPv4) into a struct vnode_meta.
 *   2. It hands the whole batch to the module's process(): the module reads
 *      the frames and their metadata, may rewrite frames in place, may emit
 *      new frames (vnode_env.emit) and sets meta[i].out for every packet:
 *      a port index, VNODE_FLOOD, VNODE_DROP or VNODE_PUNT.
 *   3. The runtime sends what the module decided, batched per output port.
 *
 * Threading: a module instance runs in one thread; nothing is called
 * concurrently. Time is passed in (now_ns, CLOCK_MONOTONIC nanoseconds);
 * modules must not read the clock themselves, so tests are exact.
 *
 * Versioning: a module sets .abi = VNODE_MODULE_ABI. The runtime refuses a
 * module built against another ABI. Any change to a struct or signature in
 * this file bumps VNODE_MODULE_ABI; 'abi' stays the first member of struct
 * vnode_module in every version, so that a loader can read it from a module
 * of any version before trusting anything else.
 *
 * Loadable modules: a shared object built against this header (and
 * vnode_pkt.h) defines exactly one symbol for the runtime, the descriptor
 *     const struct vnode_module vnode_module_desc = { .abi = ..., ... };
 * (declared below with default visibility, so -fvisibility=hidden builds
 * still export it). `fastpath --module-file PATH.so` loads it with dlopen
 * (RTLD_NOW | RTLD_LOCAL) after dropping privileges. The runtime exports no
 * functions to modules: everything goes through struct vnode_env; a module
 * may use libc and whatever it links itself. See docs/modules/README.md. */
#ifndef VNODE_MODULE_H
#define VNODE_MODULE_H

#include <stddef.h>
#include <stdint.h>

#define VNODE_MODULE_ABI 2

/* The name of the descriptor a loadable module exports. */
#define VNODE_MODULE_SYMBOL "vnode_module_desc"

#define VNODE_MAX_PORTS 16
#define VNODE_MAX_FRAME 9216 /* bytes, Ethernet header included */

/* Where a packet goes (vnode_meta.out). Values >= 0 are port indexes. */
enum {
    VNODE_DROP = -1,  /* discard (the default the runtime sets) */
    VNODE_PUNT = -2,  /* hand to the slow path (today: counted, dropped) */
    VNODE_FLOOD = -3, /* send on every port except the input port */
};

/* vnode_meta.flags: what pre-processing found valid. A flag is only set
 * when every byte it promises is inside the frame. */
enum {
    VNODE_F_ARP = 1 << 0,   /* Ethernet/IPv4 ARP, 28 bytes at l3_off */
    VNODE_F_IPV4 = 1 << 1,  /* IPv4 header at l3_off: version 4, IHL >= 5,
                               header checksum correct, total length within
                               the frame (the frame may carry padding) */
    VNODE_F_FRAG = 1 << 2,  /* IPv4 fragment (offset != 0 or MF set) */
    VNODE_F_L4 = 1 << 3,    /* l4_off valid: first fragment, 8 bytes of L4
                               header inside the IPv4 payload */
    VNODE_F_BCAST = 1 << 4, /* Ethernet destination is broadcast */
    VNODE_F_MCAST = 1 << 5, /* Ethernet destination is multicast (incl.
                               broadcast) */
};

/* One frame of a batch. 'data' points into the runtime's receive memory and
 * is valid only during process(); the module may modify the bytes in place
 * and may shorten 'len' (never lengthen it: emit a new frame instead). */
struct vnode_pkt {
    uint8_t *data;
    uint32_t len; /* bytes */
};

/* Metadata of one frame, filled by pre-processing. Multi-byte fields are
 * in host byte order except the addresses, which stay in network order
 * (compare them with htonl()). */
struct vnode_meta {
    uint16_t in_port;        /* port index the frame came from */
    uint16_t ethertype;      /* after at most one 802.1Q tag */
    uint16_t l3_off;         /* bytes from the frame start to the L3 header */
    uint16_t l4_off;         /* to the L4 header, if VNODE_F_L4 */
    uint16_t ip_len;         /* IPv4 total length, if VNODE_F_IPV4 */
    uint8_t ip_proto;        /* if VNODE_F_IPV4 */
    uint8_t ip_ttl;          /* if VNODE_F_IPV4 */
    uint32_t ip_src, ip_dst; /* network byte order, if VNODE_F_IPV4 */
    uint32_t flags;          /* VNODE_F_* */
    int32_t out;             /* set by the module; VNODE_DROP on entry */
};

/* A burst of frames from one input port. */
struct vnode_batch {
    struct vnode_pkt *pkts;
    int n;
    uint64_t now_ns; /* CLOCK_MONOTONIC, taken once per batch */
};

struct vnode_port_info {
    const char *name; /* interface name inside the sliver, e.g. "l1" */
    uint8_t mac[6];   /* the port's own MAC address */
};

/* What the runtime offers a module. Borrowed: valid from init() to fini(). */
struct vnode_env {
    int n_ports;
    const struct vnode_port_info *ports;
    /* Queues a copy of 'frame' (len <= VNODE_MAX_FRAME bytes) for sending
     * on 'port' (an index, or VNODE_FLOOD). Frames emitted during process()
     * leave with that batch; frames emitted from tick() leave right after
     * it. Returns 0, or -1 if the frame was dropped (bad port or length,
     * no room). */
    int (*emit)(void *rt, int port, const uint8_t *frame, uint32_t len);
    void *rt; /* first argument of emit() */
};

struct vnode_param {
    const char *key, *value;
};

struct vnode_module {
    uint32_t abi;        /* VNODE_MODULE_ABI */
    const char *name;    /* e.g. "router" */
    const char *summary; /* one line for humans */
    /* NULL-terminated list of parameter keys the module accepts. The
     * control plane rejects other keys before starting the module. */
    const char *const *param_keys;

    /* Creates an instance for the ports of 'env' from 'params' (borrowed;
     * a key may repeat). Returns the state, or NULL with *err set to a
     * malloc'd message saying which parameter is wrong and why (caller
     * frees). */
    void *(*init)(const struct vnode_env *env, const struct vnode_param *params,
                  int n_params, char **err);
    /* Optional (NULL: parameters are only taken by init()). Applies one
     * parameter to a running instance, as init() does for each of its
     * params. Returns 0, or -1 with *err set (caller frees); a failed call
     * changes nothing. */
    int (*configure)(void *state, const char *key, const char *value,
                     char **err);
    /* Decides the fate of every packet of 'batch' (see the model above):
     * meta[i] belongs to batch->pkts[i]; meta[i].out starts as VNODE_DROP. */
    void (*process)(void *state, struct vnode_batch *batch,
                    struct vnode_meta *meta);
    /* Optional (NULL): called about once a second, also when idle, for
     * ageing and retries. */
    void (*tick)(void *state, uint64_t now_ns);
    /* Frees the instance. NULL is accepted. */
    void (*fini)(void *state);
    /* Optional (NULL). Writes the module's counters into 'buf' as lines of
     * "key=value\n" (keys of [a-z0-9_.]), at most 'n' bytes including a
     * terminating NUL, like snprintf, and returns the length the whole text
     * needs (without the NUL). The fastpath logs them on SIGUSR1 and at
     * exit (ABI 2). */
    size_t (*stats)(void *state, char *buf, size_t n);
};

/* The descriptor of a loadable module (see the top of this file). Built-in
 * modules do not define it. */
extern const struct vnode_module vnode_module_desc
    __attribute__((visibility("default")));

#endif
