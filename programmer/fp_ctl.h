/* fp_ctl: the control channel between programmerd and a fast-path process:
 * a SOCK_SEQPACKET Unix socket pair made by programmerd, one end passed to
 * the fastpath as --control-fd. One request, one reply, each a single
 * message of text (at most FP_CTL_MAX bytes):
 *   "load" + a file descriptor (SCM_RIGHTS) of a module's shared object
 *          -> "ok NAME" once it runs instead of the old module, or
 *             "error MESSAGE" (the old module keeps running)
 *   "stats" -> "ok\n" + "key=value" lines: the ports' counters
 *             (port.NAME.rx_packets ...) and the module's stats hook
 * Used on both sides; nothing here blocks longer than its timeout. */
#ifndef FP_CTL_H
#define FP_CTL_H

#include <stddef.h>

#define FP_CTL_MAX 65536 /* bytes of one message */

/* Sends 'msg' with 'pass_fd' attached (-1: none). Returns 0 or -1. */
int fp_ctl_send(int sock, const char *msg, int pass_fd);

/* Receives one waiting message (without blocking) into 'buf' (NUL-
 * terminated, at most n - 1 bytes) and a passed descriptor into *fd_out (-1
 * if none; NULL: close any). Returns the length, 0 when the peer has
 * closed, -1 on error (errno EAGAIN: nothing waiting). */
long fp_ctl_recv(int sock, char *buf, size_t n, int *fd_out);

/* A request and its reply, waiting at most 'timeout_ms' for the reply.
 * Returns the reply's length, or -1 on error, timeout or a closed peer
 * (the reason in *why: a static string). */
long fp_ctl_call(int sock, const char *req, int pass_fd, char *reply, size_t n,
                 int timeout_ms, const char **why);

#endif
