/* netns: named network namespaces, compatible with `ip netns`: a namespace
 * NAME is kept alive by a bind mount of its nsfs file on /run/netns/NAME,
 * made in C (unshare in a short-lived child + bind mount), so every tool
 * (ip netns exec, ip -n) finds it by name. */
#ifndef PROGRAMMER_NETNS_H
#define PROGRAMMER_NETNS_H

#include <stdbool.h>
#include <stddef.h>

#define NETNS_RUN_DIR "/run/netns"

/* Creates namespace 'name' with its loopback up. Fails if it exists.
 * Returns 0, or -1 with *err set to a malloc'd message (caller frees). */
int netns_create(const char *name, char **err);

/* Unmounts and removes /run/netns/'name'. The namespace itself goes away
 * with its last process and interface. A missing one is fine. Returns 0 or
 * -1 (logged). */
int netns_delete(const char *name);

bool netns_exists(const char *name);

/* "/run/netns/'name'" into buf; -1 if it does not fit. */
int netns_path(char *buf, size_t n, const char *name);

/* If this process runs in a mount namespace other than PID 1's (as under
 * `ip netns exec`, which gives its command a private slave copy), joins
 * PID 1's, so the /run/netns mounts made here are visible host-wide. The
 * network namespace is not changed. Call while single-threaded. Returns
 * 1 if it switched, 0 if nothing was needed, -1 on failure (logged). */
int netns_join_host_mounts(void);

/* False if /run/netns is a mount that does not propagate to other mount
 * namespaces (a slave copy, as under `ip netns exec`): namespaces created
 * here would then be invisible to the rest of the host. */
bool netns_run_dir_shared(void);

#endif
