/* fp_loop: the fast-path I/O loop over pktio ports. Blocks in poll() while
 * every port (and the control channel) is idle, waking at least once a
 * second for the module's tick, and polls the rings back to back only
 * while packets are flowing. */
#ifndef FP_LOOP_H
#define FP_LOOP_H

#include <signal.h>
#include <stddef.h>

#include "fp_run.h"
#include "pktio.h"

/* pktio_send adapter for fp_runtime_new(): 'ctx' is the struct pktio *
 * array of the ports, indexed like the runtime's ports. */
int fp_loop_send(void *ctx, int port, const struct pktio_pkt *pkts, int n);

/* What the loop calls besides the runtime; every member may be empty. */
struct fp_loop_hooks {
    int ctl_fd; /* the control channel to watch, -1 = none */
    /* 'ctl_fd' is readable (between bursts): returns 0, or -1 when the
     * channel is closed, and the loop stops watching it. */
    int (*on_ctl)(void *arg);
    void *arg;
};

/* Runs until *stop is set (signal handler) or every port has reached the
 * end of its input (pcap). Logs the statistics when *dump is set (and
 * clears it). 'hooks' may be NULL. Returns 0, or -1 if a port failed
 * (logged). */
int fp_loop_run(struct fp_runtime *rt, struct pktio *const *ports, int n,
                volatile sig_atomic_t *stop, volatile sig_atomic_t *dump,
                const struct fp_loop_hooks *hooks);

/* Logs the runtime's, the ports' and the module's counters at info level. */
void fp_loop_log_stats(const struct fp_runtime *rt, struct pktio *const *ports,
                       int n);

/* The same counters as "key=value" lines (port.NAME.rx_packets=..., then
 * the module's) into 'buf' like snprintf; returns the length wanted. */
size_t fp_loop_format_stats(const struct fp_runtime *rt,
                            struct pktio *const *ports, int n, char *buf,
                            size_t len);

/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t fp_now_ns(void);

#endif
