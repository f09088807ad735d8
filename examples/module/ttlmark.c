/* ttlmark: an example out-of-tree fast-path module.
 *
 * Forwards every frame between port 0 and port 1 (a bump in the wire: ARP
 * and everything else pass), decrements the TTL of valid IPv4 packets on
 * the way (updating the header checksum incrementally, so a ping through it
 * shows one hop more) and drops those whose TTL would reach 0. Counts what
 * it did; the fast path logs the counters on SIGUSR1 and programmerd's
 * sliver.stats shows them.
 *
 * Parameters: decrement=on|off (default on).
 *
 * Build (see Makefile): cc -shared -fPIC -I<dir of vnode_module.h> ...
 * Load:  snc load SLICE NODE ttlmark.so   (or programmerd's sliver.load)
 *
 * Everything the runtime offers is in vnode_module.h and vnode_pkt.h;
 * the module needs nothing but libc. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vnode_module.h"
#include "vnode_pkt.h"

struct ttlmark {
    const struct vnode_env *env;
    int decrement;
    uint64_t forwarded[2]; /* by input port */
    uint64_t ttl_dropped;
};

static char *error_message(const char *fmt, const char *arg)
{
    size_t n = strlen(fmt) + strlen(arg) + 1;
    char *s = malloc(n);

    if (s != NULL)
        snprintf(s, n, fmt, arg);
    return s;
}

static int tm_configure(void *state, const char *key, const char *value,
                        char **err)
{
    struct ttlmark *t = state;

    if (strcmp(key, "decrement") != 0) {
        *err = error_message("ttlmark has no parameter '%s' (it takes: "
                             "decrement)",
                             key);
        return -1;
    }
    if (strcmp(value, "on") != 0 && strcmp(value, "off") != 0) {
        *err =
            error_message("ttlmark: decrement '%s' must be on or off", value);
        return -1;
    }
    t->decrement = strcmp(value, "on") == 0;
    return 0;
}

static void *tm_init(const struct vnode_env *env,
                     const struct vnode_param *params, int n_params, char **err)
{
    struct ttlmark *t;

    if (env->n_ports != 2) {
        *err = error_message("ttlmark needs two ports%s", "");
        return NULL;
    }
    if ((t = calloc(1, sizeof(*t))) == NULL) {
        *err = error_message("ttlmark: out of memory%s", "");
        return NULL;
    }
    t->env = env;
    t->decrement = 1;
    for (int i = 0; i < n_params; i++) {
        if (tm_configure(t, params[i].key, params[i].value, err) < 0) {
            free(t);
            return NULL;
        }
    }
    return t;
}

/* TTL - 1 with an RFC 1624 checksum update; 0 if the packet must go. */
static int decrement_ttl(uint8_t *ip)
{
    uint16_t old = vnode_rd16(ip + VNODE_IP_TTL); /* TTL and protocol */

    if (ip[VNODE_IP_TTL] <= 1)
        return 0;
    ip[VNODE_IP_TTL]--;
    vnode_wr16(ip + VNODE_IP_CSUM,
               vnode_csum_update16(vnode_rd16(ip + VNODE_IP_CSUM), old,
                                   vnode_rd16(ip + VNODE_IP_TTL)));
    return 1;
}

static void tm_process(void *state, struct vnode_batch *batch,
                       struct vnode_meta *meta)
{
    struct ttlmark *t = state;

    for (int i = 0; i < batch->n; i++) {
        struct vnode_meta *m = &meta[i];

        m->out = VNODE_DROP;
        if (m->in_port > 1)
            continue;
        if (t->decrement && (m->flags & VNODE_F_IPV4) &&
            !decrement_ttl(batch->pkts[i].data + m->l3_off)) {
            t->ttl_dropped++;
            continue;
        }
        m->out = 1 - m->in_port;
        t->forwarded[m->in_port]++;
    }
}

static size_t tm_stats(void *state, char *buf, size_t n)
{
    const struct ttlmark *t = state;
    int r = snprintf(buf, n,
                     "forwarded_0to1=%" PRIu64 "\nforwarded_1to0=%" PRIu64
                     "\nttl_dropped=%" PRIu64 "\n",
                     t->forwarded[0], t->forwarded[1], t->ttl_dropped);

    return r < 0 ? 0 : (size_t)r;
}

static void tm_fini(void *state)
{
    free(state);
}

static const char *const tm_keys[] = {"decrement", NULL};

/* The one symbol the runtime looks for. */
const struct vnode_module vnode_module_desc = {
    .abi = VNODE_MODULE_ABI,
    .name = "ttlmark",
    .summary = "bump in the wire between ports 0 and 1 that decrements "
               "IPv4 TTLs (params: decrement=on|off)",
    .param_keys = tm_keys,
    .init = tm_init,
    .configure = tm_configure,
    .process = tm_process,
    .tick = NULL,
    .fini = tm_fini,
    .stats = tm_stats,
};
