/* fp_flow: connection tracking with two keys per flow in one hash index. */
#include "fp_flow.h"

#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "vnode_pkt.h"

#define NONE UINT32_MAX
#define SWEEP_GAP_NS 100000000ull /* a full table sweeps at most every 100 ms  \
                                   */

/* A reference to one key of one flow: index << 1 | direction. */
typedef uint32_t ref_t;

struct fp_flow_table {
    struct fp_flow *flows;
    uint32_t max, count, free_head;
    ref_t *heads; /* mask + 1 buckets */
    uint32_t mask;
    uint32_t seed;
    struct fp_flow_timeouts to;
    uint64_t last_sweep_ns;
    bool swept;
    fp_flow_release_fn *release;
    void *ctx;
};

static uint32_t mix(uint32_t h)
{
    h ^= h >> 16;
    h *= 0x7feb352du;
    h ^= h >> 15;
    h *= 0x846ca68bu;
    h ^= h >> 16;
    return h;
}

static uint32_t key_hash(const struct fp_flow_table *t,
                         const struct fp_flow_key *k)
{
    uint32_t h = mix(t->seed ^ k->src);

    h = mix(h ^ k->dst);
    h = mix(h ^ ((uint32_t)k->sport << 16 | k->dport));
    return mix(h ^ k->proto);
}

static bool key_eq(const struct fp_flow_key *a, const struct fp_flow_key *b)
{
    return a->src == b->src && a->dst == b->dst && a->sport == b->sport &&
           a->dport == b->dport && a->proto == b->proto;
}

struct fp_flow_key fp_flow_key_swap(const struct fp_flow_key *k)
{
    return (struct fp_flow_key){.src = k->dst,
                                .dst = k->src,
                                .sport = k->dport,
                                .dport = k->sport,
                                .proto = k->proto};
}

struct fp_flow_table *fp_flow_new(uint32_t max_flows,
                                  const struct fp_flow_timeouts *to,
                                  fp_flow_release_fn *release, void *ctx)
{
    struct fp_flow_table *t;
    uint32_t buckets = 1;

    if (max_flows < 1 || max_flows > FP_FLOW_MAX)
        return NULL;
    while (buckets < max_flows)
        buckets <<= 1;
    t = calloc(1, sizeof(*t));
    if (t == NULL ||
        (t->flows = calloc(max_flows, sizeof(*t->flows))) == NULL ||
        (t->heads = malloc(buckets * sizeof(*t->heads))) == NULL) {
        fp_flow_free(t);
        return NULL;
    }
    for (uint32_t i = 0; i < buckets; i++)
        t->heads[i] = NONE;
    for (uint32_t i = 0; i < max_flows; i++)
        t->flows[i].chain[0] = i + 1 < max_flows ? i + 1 : NONE;
    t->free_head = 0;
    t->max = max_flows;
    t->mask = buckets - 1;
    t->to = *to;
    t->release = release;
    t->ctx = ctx;
    /* A secret seed keeps outsiders from aiming packets at one chain. */
    if (getrandom(&t->seed, sizeof(t->seed), GRND_NONBLOCK) !=
        (ssize_t)sizeof(t->seed))
        t->seed = 0x9e3779b9u;
    return t;
}

void fp_flow_free(struct fp_flow_table *t)
{
    if (t == NULL)
        return;
    free(t->flows);
    free(t->heads);
    free(t);
}

void fp_flow_set_timeouts(struct fp_flow_table *t,
                          const struct fp_flow_timeouts *to)
{
    t->to = *to;
}

uint32_t fp_flow_count(const struct fp_flow_table *t)
{
    return t->count;
}

static uint64_t proto_timeout(const struct fp_flow_table *t, uint8_t proto)
{
    switch (proto) {
    case FP_PROTO_TCP:
        return t->to.tcp_ns;
    case FP_PROTO_UDP:
        return t->to.udp_ns;
    default:
        return t->to.icmp_ns;
    }
}

static bool expired(const struct fp_flow *f, uint64_t now_ns)
{
    return now_ns >= f->last_ns && now_ns - f->last_ns >= f->timeout_ns;
}

static void unlink_ref(struct fp_flow_table *t, ref_t r)
{
    const struct fp_flow *f = &t->flows[r >> 1];
    ref_t *p = &t->heads[key_hash(t, &f->key[r & 1]) & t->mask];

    while (*p != NONE) {
        if (*p == r) {
            *p = f->chain[r & 1];
            return;
        }
        p = &t->flows[*p >> 1].chain[*p & 1];
    }
}

void fp_flow_del(struct fp_flow_table *t, struct fp_flow *f)
{
    uint32_t i = (uint32_t)(f - t->flows);

    if (!f->used)
        return;
    unlink_ref(t, i << 1);
    unlink_ref(t, i << 1 | 1);
    if (t->release != NULL)
        t->release(t->ctx, f);
    memset(f, 0, sizeof(*f));
    f->chain[0] = t->free_head;
    t->free_head = i;
    t->count--;
}

struct fp_flow *fp_flow_find(struct fp_flow_table *t,
                             const struct fp_flow_key *k, int *dir,
                             uint64_t now_ns)
{
    ref_t r = t->heads[key_hash(t, k) & t->mask];

    while (r != NONE) {
        struct fp_flow *f = &t->flows[r >> 1];
        if (key_eq(&f->key[r & 1], k)) {
            if (expired(f, now_ns)) {
                fp_flow_del(t, f);
                return NULL;
            }
            *dir = (int)(r & 1);
            return f;
        }
        r = f->chain[r & 1];
    }
    return NULL;
}

uint32_t fp_flow_expire(struct fp_flow_table *t, uint64_t now_ns)
{
    uint32_t n = 0;

    for (uint32_t i = 0; i < t->max && t->count > 0; i++) {
        if (t->flows[i].used && expired(&t->flows[i], now_ns)) {
            fp_flow_del(t, &t->flows[i]);
            n++;
        }
    }
    t->last_sweep_ns = now_ns;
    t->swept = true;
    return n;
}

struct fp_flow *fp_flow_add(struct fp_flow_table *t,
                            const struct fp_flow_key *orig,
                            const struct fp_flow_key *reply, uint64_t now_ns)
{
    struct fp_flow *f;
    uint32_t i;

    if (t->free_head == NONE && (!t->swept || now_ns < t->last_sweep_ns ||
                                 now_ns - t->last_sweep_ns >= SWEEP_GAP_NS))
        fp_flow_expire(t, now_ns);
    if (t->free_head == NONE)
        return NULL;
    i = t->free_head;
    f = &t->flows[i];
    t->free_head = f->chain[0];
    memset(f, 0, sizeof(*f));
    f->used = 1;
    f->key[0] = *orig;
    f->key[1] = *reply;
    f->last_ns = now_ns;
    f->timeout_ns = proto_timeout(t, orig->proto);
    for (int d = 0; d < 2; d++) {
        ref_t *head = &t->heads[key_hash(t, &f->key[d]) & t->mask];
        f->chain[d] = *head;
        *head = i << 1 | (uint32_t)d;
    }
    t->count++;
    return f;
}

void fp_flow_touch(struct fp_flow_table *t, struct fp_flow *f, int dir,
                   uint8_t tcp_flags, uint64_t now_ns)
{
    uint64_t to = proto_timeout(t, f->key[0].proto);

    f->last_ns = now_ns;
    f->packets++;
    if (f->key[0].proto == FP_PROTO_TCP) {
        if ((tcp_flags & (FP_TCP_SYN | FP_TCP_ACK)) == FP_TCP_SYN &&
            f->closing) {
            f->closing = 0; /* the ports are reused for a new connection */
            f->fin = 0;
        }
        if (tcp_flags & FP_TCP_RST)
            f->closing = 1;
        if (tcp_flags & FP_TCP_FIN)
            f->fin |= (uint8_t)(1u << dir);
        if (f->fin == 3)
            f->closing = 1;
        if (f->closing && to > FP_FLOW_CLOSING_NS)
            to = FP_FLOW_CLOSING_NS;
    }
    f->timeout_ns = to;
}

bool fp_flow_key_of(const struct vnode_pkt *p, const struct vnode_meta *m,
                    struct fp_flow_key *k, uint8_t *tcp_flags)
{
    const uint8_t *l4;
    uint32_t room;

    *tcp_flags = 0;
    if (!(m->flags & VNODE_F_IPV4) || !(m->flags & VNODE_F_L4))
        return false;
    /* fp_parse promises 8 bytes of L4 header inside ip_len. */
    room = (uint32_t)m->ip_len - (uint32_t)(m->l4_off - m->l3_off);
    if (m->l4_off + 8u > p->len)
        return false;
    l4 = p->data + m->l4_off;
    k->src = m->ip_src;
    k->dst = m->ip_dst;
    k->proto = m->ip_proto;
    switch (m->ip_proto) {
    case FP_PROTO_TCP:
        if (room < FP_TCP_HLEN || m->l4_off + (uint32_t)FP_TCP_HLEN > p->len)
            return false;
        k->sport = vnode_rd16(l4);
        k->dport = vnode_rd16(l4 + 2);
        *tcp_flags = l4[13];
        return true;
    case FP_PROTO_UDP:
        k->sport = vnode_rd16(l4);
        k->dport = vnode_rd16(l4 + 2);
        return true;
    case FP_PROTO_ICMP:
        if (l4[VNODE_ICMP_TYPE] != VNODE_ICMP_ECHO &&
            l4[VNODE_ICMP_TYPE] != VNODE_ICMP_ECHO_REPLY)
            return false;
        k->sport = k->dport = vnode_rd16(l4 + FP_ICMP_ID);
        return true;
    default:
        return false;
    }
}
