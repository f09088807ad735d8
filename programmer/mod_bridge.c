/* mod_bridge: an L2 learning bridge module.
 *
 * Learns source MAC -> input port (entries age out after 'aging' seconds,
 * default 300), forwards known unicast to its port, floods broadcast,
 * multicast and unknown unicast to every other port, filters frames whose
 * destination sits on the port they came from, and drops frames with a
 * multicast source or shorter than an Ethernet header.
 *
 * The table is 1024 buckets of 4 ways (4096 MACs): bounded memory, no
 * allocation per packet; a full bucket evicts its least recently seen
 * entry. */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fp_modules.h"
#include "vnode_module.h"
#include "vnode_pkt.h"

#define BR_BUCKETS 1024 /* power of two */
#define BR_WAYS 4
#define BR_AGING_DEFAULT_S 300
#define BR_AGING_MAX_S 1000000
#define NS_PER_S 1000000000ull

struct br_entry {
    uint8_t mac[VNODE_ETH_ALEN];
    uint16_t port;
    bool used;
    uint64_t seen_ns;
};

struct bridge {
    const struct vnode_env *env;
    uint64_t aging_ns;
    struct br_entry tab[BR_BUCKETS][BR_WAYS];
};

static void errf(char **err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void errf(char **err, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    if (vasprintf(err, fmt, ap) < 0)
        *err = NULL;
    va_end(ap);
}

static unsigned mac_hash(const uint8_t *mac)
{
    uint32_t h = 2166136261u; /* FNV-1a */

    for (int i = 0; i < VNODE_ETH_ALEN; i++)
        h = (h ^ mac[i]) * 16777619u;
    return h & (BR_BUCKETS - 1);
}

static bool alive(const struct bridge *br, const struct br_entry *e,
                  uint64_t now_ns)
{
    return e->used && now_ns - e->seen_ns < br->aging_ns;
}

static void learn(struct bridge *br, const uint8_t *mac, uint16_t port,
                  uint64_t now_ns)
{
    struct br_entry *b = br->tab[mac_hash(mac)];
    struct br_entry *victim = &b[0];

    for (int w = 0; w < BR_WAYS; w++) {
        if (b[w].used && memcmp(b[w].mac, mac, VNODE_ETH_ALEN) == 0) {
            b[w].port = port;
            b[w].seen_ns = now_ns;
            return;
        }
    }
    for (int w = 0; w < BR_WAYS; w++) {
        if (!alive(br, &b[w], now_ns)) {
            victim = &b[w];
            break;
        }
        if (b[w].seen_ns < victim->seen_ns)
            victim = &b[w];
    }
    memcpy(victim->mac, mac, VNODE_ETH_ALEN);
    victim->port = port;
    victim->used = true;
    victim->seen_ns = now_ns;
}

/* The port of 'mac', or -1 if unknown or aged out. */
static int lookup(const struct bridge *br, const uint8_t *mac, uint64_t now_ns)
{
    const struct br_entry *b = br->tab[mac_hash(mac)];

    for (int w = 0; w < BR_WAYS; w++)
        if (alive(br, &b[w], now_ns) &&
            memcmp(b[w].mac, mac, VNODE_ETH_ALEN) == 0)
            return b[w].port;
    return -1;
}

static int br_configure(void *state, const char *key, const char *value,
                        char **err)
{
    struct bridge *br = state;
    char *end;
    unsigned long s;

    if (strcmp(key, "aging") != 0) {
        errf(err, "bridge has no parameter '%s' (it takes: aging)", key);
        return -1;
    }
    errno = 0;
    s = strtoul(value, &end, 10);
    if (errno != 0 || end == value || *end != '\0' || value[0] == '-' ||
        s < 1 || s > BR_AGING_MAX_S) {
        errf(err, "bridge: aging '%s' is not a number of seconds in 1..%d",
             value, BR_AGING_MAX_S);
        return -1;
    }
    br->aging_ns = (uint64_t)s * NS_PER_S;
    return 0;
}

static void *br_init(const struct vnode_env *env,
                     const struct vnode_param *params, int n_params, char **err)
{
    struct bridge *br;

    if (env->n_ports < 1) {
        errf(err, "bridge needs at least one port");
        return NULL;
    }
    br = calloc(1, sizeof(*br));
    if (br == NULL) {
        errf(err, "bridge: out of memory");
        return NULL;
    }
    br->env = env;
    br->aging_ns = (uint64_t)BR_AGING_DEFAULT_S * NS_PER_S;
    for (int i = 0; i < n_params; i++) {
        if (br_configure(br, params[i].key, params[i].value, err) < 0) {
            free(br);
            return NULL;
        }
    }
    return br;
}

static void br_process(void *state, struct vnode_batch *batch,
                       struct vnode_meta *meta)
{
    struct bridge *br = state;

    for (int i = 0; i < batch->n; i++) {
        const uint8_t *f = batch->pkts[i].data;
        struct vnode_meta *m = &meta[i];
        int port;

        m->out = VNODE_DROP;
        if (batch->pkts[i].len < VNODE_ETH_HLEN ||
            vnode_mac_is_multicast(f + VNODE_ETH_SRC))
            continue;
        learn(br, f + VNODE_ETH_SRC, m->in_port, batch->now_ns);
        if (vnode_mac_is_multicast(f + VNODE_ETH_DST)) {
            m->out = VNODE_FLOOD;
            continue;
        }
        port = lookup(br, f + VNODE_ETH_DST, batch->now_ns);
        if (port < 0)
            m->out = VNODE_FLOOD;
        else if (port != m->in_port)
            m->out = port;
    }
}

static void br_fini(void *state)
{
    free(state);
}

static const char *const br_keys[] = {"aging", NULL};

const struct vnode_module vnode_mod_bridge = {
    .abi = VNODE_MODULE_ABI,
    .name = "bridge",
    .summary = "L2 learning bridge (params: aging=SECONDS, default 300)",
    .param_keys = br_keys,
    .init = br_init,
    .configure = br_configure,
    .process = br_process,
    .tick = NULL,
    .fini = br_fini,
};
