/* netns: named network namespaces, kept the iproute2 way (a bind mount of
 * the namespace at /run/netns/NAME), so `ip netns exec` works on them too. */
#ifndef TB_NETNS_H
#define TB_NETNS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define TB_NETNS_DIR "/run/netns"

int tb_netns_add(const char *name);
/* Deletes the name (the namespace goes when its last process does).
 * Returns 0 when it is gone, also when it never existed. */
int tb_netns_del(const char *name);
bool tb_netns_exists(const char *name);

/* Sorted names of every namespace named "<prefix>-*". Returns the count and
 * sets *names (caller frees with tb_strv_free); -1 on error. */
ssize_t tb_netns_list(const char *prefix, char ***names);
void tb_strv_free(char **v, size_t n);

/* Moves the calling thread into namespace 'name' (setns); tb_netns_leave()
 * brings it back to the namespace the process was in before the first
 * enter. Returns 0 or -1 (logged). */
int tb_netns_enter(const char *name);
int tb_netns_leave(void);
/* Opens the namespace for setns(2): an O_CLOEXEC fd, or -1 (logged). */
int tb_netns_open(const char *name);

/* Writes 'value' to /proc/sys/<key> as seen inside namespace 'name', e.g.
 * key "net/ipv4/ip_forward". Returns 0, or -errno (logged unless ENOENT,
 * which the caller may accept for optional keys such as IPv6 ones). */
int tb_netns_sysctl(const char *name, const char *key, const char *value);

/* Identity of the namespace called 'name' (device and inode of its nsfs
 * file); -1 if there is none. */
int tb_netns_id(const char *name, dev_t *dev, ino_t *ino);

#endif
