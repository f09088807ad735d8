/* fp_run: the fast-path runtime core. Takes bursts of received frames,
 * runs pre-processing (fp_parse), the module's process() and post-
 * processing (per-port transmit queues, flooding, emitted frames), and
 * sends through a send hook: pktio_send in the fastpath process, a capture
 * in tests. The I/O loop around it is fp_loop. */
#ifndef FP_RUN_H
#define FP_RUN_H

#include <stdint.h>

#include "pktio.h"
#include "vnode_module.h"

#define FP_TXQ_MAX 256              /* frames queued per port */
#define FP_ARENA_BYTES (256 * 1024) /* emitted frames per batch */

/* Sends 'n' frames on port 'port'; returns how many were queued. The
 * frames are borrowed for the duration of the call. */
typedef int fp_send_fn(void *ctx, int port, const struct pktio_pkt *pkts,
                       int n);

struct fp_port_stats {
    uint64_t rx_packets, rx_bytes; /* handed to the module */
    uint64_t tx_packets, tx_bytes; /* accepted by the send hook */
    uint64_t tx_dropped;           /* refused by the send hook */
    uint64_t dropped;              /* module said VNODE_DROP */
    uint64_t punted;               /* module said VNODE_PUNT */
    uint64_t bad_out;              /* module gave an invalid port */
    uint64_t emitted;              /* frames the module emitted */
};

struct fp_runtime;

/* A runtime for module 'mod' over 'n_ports' (1..VNODE_MAX_PORTS) ports
 * named 'names' with MAC addresses 'macs' (both copied). Returns NULL on
 * bad arguments or no memory (logged). The module is not started yet. */
struct fp_runtime *fp_runtime_new(const struct vnode_module *mod,
                                  const char *const *names,
                                  const uint8_t (*macs)[6], int n_ports,
                                  fp_send_fn *send, void *send_ctx);
/* Stops the module (fini) if started, and frees. NULL is accepted. */
void fp_runtime_free(struct fp_runtime *rt);

/* Runs the module's init() with 'params' (borrowed). Returns 0, or -1 with
 * *err set to a malloc'd message (caller frees). Frames emitted by init()
 * are sent before this returns. */
int fp_runtime_start(struct fp_runtime *rt, const struct vnode_param *params,
                     int n_params, char **err);

/* Replaces the running module by 'mod' started with 'params' (borrowed)
 * on the same ports, between two bursts: the new module's init() runs
 * first, and only if it succeeds is the old one stopped (fini) and
 * replaced; its state (tables, flows) is not carried over. Frames emitted
 * by the new init() are sent before this returns. Returns 0, or -1 with
 * *err set (caller frees) and the old module still running. The caller
 * unloads the old module's code (fp_dl) afterwards. */
int fp_runtime_swap(struct fp_runtime *rt, const struct vnode_module *mod,
                    const struct vnode_param *params, int n_params, char **err);

const struct vnode_module *fp_runtime_module(const struct fp_runtime *rt);

/* The module's counters (its stats hook, "" without one) into 'buf' like
 * snprintf; returns the length wanted. */
size_t fp_runtime_module_stats(const struct fp_runtime *rt, char *buf,
                               size_t n);

/* Processes a burst of 'n' frames (n <= PKTIO_BURST) received on 'port' at
 * 'now_ns' and sends the results. The frames are borrowed; the module may
 * rewrite them in place. */
void fp_runtime_input(struct fp_runtime *rt, int port, struct pktio_pkt *rx,
                      int n, uint64_t now_ns);

/* Calls the module's tick() and sends what it emitted. */
void fp_runtime_tick(struct fp_runtime *rt, uint64_t now_ns);

const struct fp_port_stats *fp_runtime_stats(const struct fp_runtime *rt,
                                             int port);
int fp_runtime_n_ports(const struct fp_runtime *rt);
const char *fp_runtime_port_name(const struct fp_runtime *rt, int port);

#endif
