/* fp_priv: the fast path's privilege drop, done once its packet sockets are
 * open and before the module (developer code) runs. */
#ifndef FP_PRIV_H
#define FP_PRIV_H

/* If running as root: clears supplementary groups and switches to the gid
 * and uid of 'user' (e.g. "nobody"), then checks that root cannot be
 * regained. In every case sets PR_SET_NO_NEW_PRIVS, so no exec can gain
 * privileges again. Open file descriptors (the packet sockets) stay
 * usable. Returns 0, or -1 (logged). */
int fp_priv_drop(const char *user);

#endif
