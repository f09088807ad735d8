/* fp_l3: addresses, ARP, ICMP echo and errors for IPv4 modules. */
#include "fp_l3.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "fp_lpm.h"
#include "fp_param.h"
#include "vnode_pkt.h"

#define NS_PER_S 1000000000ull
#define ARP_BUCKETS 64 /* power of two */
#define ARP_WAYS 4
#define ARP_RETRY_NS (1 * NS_PER_S)
#define ARP_MAX_TRIES 3
#define ARP_LIFETIME_NS (300 * NS_PER_S)
#define ARP_REFRESH_NS (240 * NS_PER_S)
#define PEND_POOL 32
#define PEND_PER_ENTRY 4
#define ICMP_ERR_PER_S 100 /* ICMP errors sent per second at most */
#define ICMP_QUOTE_BYTES 8 /* bytes of the offending datagram's payload */
#define TTL_OUT 64

enum arp_state { ARP_FREE = 0, ARP_INCOMPLETE, ARP_REACHABLE };

struct arp_entry {
    uint32_t ip; /* host order */
    uint16_t port;
    uint8_t state, tries;
    uint8_t mac[VNODE_ETH_ALEN];
    uint64_t updated_ns;  /* resolved (REACHABLE) or created (INCOMPLETE) */
    uint64_t last_req_ns; /* last request sent */
    int16_t pend_head;    /* pool index, -1 = none */
    uint8_t n_pend;
};

struct pend {
    int16_t next;
    uint32_t len;
    uint8_t data[VNODE_MAX_FRAME];
};

struct fp_l3 {
    const struct vnode_env *env;
    const char *who;
    struct fp_l3_addr addrs[FP_L3_MAX_ADDRS];
    int n_addrs;
    bool icmp_errors;
    uint16_t ip_id;
    uint64_t icmp_window_ns;
    int icmp_in_window;
    struct arp_entry arp[ARP_BUCKETS][ARP_WAYS];
    struct pend *pool; /* PEND_POOL entries */
    int16_t pool_free;
};

struct fp_l3 *fp_l3_new(const struct vnode_env *env, const char *who)
{
    struct fp_l3 *l = calloc(1, sizeof(*l));

    if (l == NULL || (l->pool = calloc(PEND_POOL, sizeof(*l->pool))) == NULL) {
        free(l);
        return NULL;
    }
    l->env = env;
    l->who = who;
    l->icmp_errors = true;
    for (int i = 0; i < PEND_POOL; i++)
        l->pool[i].next = (int16_t)(i + 1 < PEND_POOL ? i + 1 : -1);
    l->pool_free = 0;
    for (int b = 0; b < ARP_BUCKETS; b++)
        for (int w = 0; w < ARP_WAYS; w++)
            l->arp[b][w].pend_head = -1;
    return l;
}

void fp_l3_free(struct fp_l3 *l)
{
    if (l == NULL)
        return;
    free(l->pool);
    free(l);
}

/* ---- addresses --------------------------------------------------------- */

int fp_l3_local(const struct fp_l3 *l, uint32_t ip)
{
    for (int i = 0; i < l->n_addrs; i++)
        if (l->addrs[i].ip == ip)
            return i;
    return -1;
}

const struct fp_l3_addr *fp_l3_addr(const struct fp_l3 *l, int i)
{
    return i >= 0 && i < l->n_addrs ? &l->addrs[i] : NULL;
}

int fp_l3_n_addrs(const struct fp_l3 *l)
{
    return l->n_addrs;
}

int fp_l3_add(struct fp_l3 *l, uint32_t ip, int plen, uint16_t port, char **err)
{
    struct in_addr a = {htonl(ip)};

    if (fp_l3_local(l, ip) >= 0) {
        fp_errf(err, "%s: address %s is given twice", l->who, inet_ntoa(a));
        return -1;
    }
    if (l->n_addrs == FP_L3_MAX_ADDRS) {
        fp_errf(err, "%s: more than %d addresses", l->who, FP_L3_MAX_ADDRS);
        return -1;
    }
    l->addrs[l->n_addrs++] =
        (struct fp_l3_addr){.ip = ip, .plen = plen, .port = port};
    return 0;
}

int fp_l3_add_address(struct fp_l3 *l, const char *v, struct fp_l3_addr *out,
                      char **err)
{
    const char *colon = strchr(v, ':');
    uint32_t ip;
    int plen, port;

    if (colon == NULL) {
        fp_errf(err,
                "%s: address '%s' is not PORT:A.B.C.D/LEN "
                "(e.g. l1:10.0.1.1/24)",
                l->who, v);
        return -1;
    }
    port = fp_port_by_name(l->env, v, (size_t)(colon - v));
    if (port < 0) {
        fp_errf(err, "%s: address '%s': no port named '%.*s'", l->who, v,
                (int)(colon - v), v);
        return -1;
    }
    if (!fp_parse_cidr(colon + 1, &ip, &plen) || plen == 0 ||
        !fp_unicast_ip(ip)) {
        fp_errf(err,
                "%s: address '%s': '%s' is not a unicast "
                "A.B.C.D/LEN with LEN 1..32",
                l->who, v, colon + 1);
        return -1;
    }
    if (fp_l3_add(l, ip, plen, (uint16_t)port, err) < 0)
        return -1;
    if (out != NULL)
        *out = l->addrs[l->n_addrs - 1];
    return 0;
}

uint32_t fp_l3_source_for(const struct fp_l3 *l, uint16_t port, uint32_t peer)
{
    uint32_t first = 0;

    for (int i = 0; i < l->n_addrs; i++) {
        const struct fp_l3_addr *a = &l->addrs[i];
        if (a->port != port)
            continue;
        if (((a->ip ^ peer) & fp_lpm_mask(a->plen)) == 0)
            return a->ip;
        if (first == 0)
            first = a->ip;
    }
    return first;
}

void fp_l3_set_icmp_errors(struct fp_l3 *l, bool on)
{
    l->icmp_errors = on;
}

static bool local_on_port(const struct fp_l3 *l, uint32_t ip, uint16_t port)
{
    int i = fp_l3_local(l, ip);
    return i >= 0 && l->addrs[i].port == port;
}

bool fp_l3_for_us(const struct fp_l3 *l, const struct vnode_pkt *p,
                  const struct vnode_meta *m)
{
    return p->len >= VNODE_ETH_HLEN && m->in_port < l->env->n_ports &&
           memcmp(p->data + VNODE_ETH_DST, l->env->ports[m->in_port].mac,
                  VNODE_ETH_ALEN) == 0;
}

/* ---- ARP cache --------------------------------------------------------- */

static unsigned arp_hash(uint32_t ip)
{
    return (ip * 2654435761u) >> 26; /* top 6 bits: ARP_BUCKETS = 64 */
}

static struct arp_entry *arp_find(struct fp_l3 *l, uint32_t ip, uint16_t port)
{
    struct arp_entry *b = l->arp[arp_hash(ip)];

    for (int w = 0; w < ARP_WAYS; w++)
        if (b[w].state != ARP_FREE && b[w].ip == ip && b[w].port == port)
            return &b[w];
    return NULL;
}

static void pend_free_all(struct fp_l3 *l, struct arp_entry *e)
{
    while (e->pend_head >= 0) {
        int16_t i = e->pend_head;
        e->pend_head = l->pool[i].next;
        l->pool[i].next = l->pool_free;
        l->pool_free = i;
    }
    e->n_pend = 0;
}

static void arp_clear(struct fp_l3 *l, struct arp_entry *e)
{
    pend_free_all(l, e);
    memset(e, 0, sizeof(*e));
    e->pend_head = -1;
}

/* A free slot for 'ip' (evicting the least recently updated entry). */
static struct arp_entry *arp_alloc(struct fp_l3 *l, uint32_t ip, uint16_t port,
                                   uint64_t now_ns)
{
    struct arp_entry *b = l->arp[arp_hash(ip)];
    struct arp_entry *victim = &b[0];

    for (int w = 0; w < ARP_WAYS; w++) {
        if (b[w].state == ARP_FREE) {
            victim = &b[w];
            break;
        }
        if (b[w].updated_ns < victim->updated_ns)
            victim = &b[w];
    }
    arp_clear(l, victim);
    victim->ip = ip;
    victim->port = port;
    victim->updated_ns = now_ns;
    return victim;
}

static void arp_send_request(struct fp_l3 *l, struct arp_entry *e,
                             uint64_t now_ns)
{
    uint8_t f[VNODE_ETH_MIN_FRAME] = {0};
    uint8_t *a = f + VNODE_ETH_HLEN;
    const uint8_t *mac = l->env->ports[e->port].mac;

    memset(f + VNODE_ETH_DST, 0xff, VNODE_ETH_ALEN);
    memcpy(f + VNODE_ETH_SRC, mac, VNODE_ETH_ALEN);
    vnode_wr16(f + VNODE_ETH_TYPE, VNODE_ETH_P_ARP);
    vnode_wr16(a, 1);
    vnode_wr16(a + 2, VNODE_ETH_P_IPV4);
    a[4] = 6;
    a[5] = 4;
    vnode_wr16(a + VNODE_ARP_OP, VNODE_ARP_REQUEST);
    memcpy(a + VNODE_ARP_SHA, mac, VNODE_ETH_ALEN);
    vnode_wr32n(a + VNODE_ARP_SPA, htonl(fp_l3_source_for(l, e->port, e->ip)));
    vnode_wr32n(a + VNODE_ARP_TPA, htonl(e->ip));
    l->env->emit(l->env->rt, e->port, f, sizeof(f));
    e->last_req_ns = now_ns;
    e->tries++;
}

/* Sends what waited for 'e', now resolved. */
static void pend_flush(struct fp_l3 *l, struct arp_entry *e)
{
    const uint8_t *src = l->env->ports[e->port].mac;

    for (int16_t i = e->pend_head; i >= 0; i = l->pool[i].next) {
        struct pend *p = &l->pool[i];
        memcpy(p->data + VNODE_ETH_DST, e->mac, VNODE_ETH_ALEN);
        memcpy(p->data + VNODE_ETH_SRC, src, VNODE_ETH_ALEN);
        l->env->emit(l->env->rt, e->port, p->data, p->len);
    }
    pend_free_all(l, e);
}

/* Records ip -> mac on port; 'create' adds an entry when there is none. */
static void arp_learn(struct fp_l3 *l, uint32_t ip, const uint8_t *mac,
                      uint16_t port, bool create, uint64_t now_ns)
{
    struct arp_entry *e = arp_find(l, ip, port);

    if (e == NULL) {
        if (!create)
            return;
        e = arp_alloc(l, ip, port, now_ns);
    }
    memcpy(e->mac, mac, VNODE_ETH_ALEN);
    e->state = ARP_REACHABLE;
    e->updated_ns = now_ns;
    e->tries = 0;
    pend_flush(l, e);
}

/* Keeps a copy of 'f' until the next hop of 'e' resolves. */
static void pend_add(struct fp_l3 *l, struct arp_entry *e, const uint8_t *f,
                     uint32_t len)
{
    int16_t i = l->pool_free, *tail = &e->pend_head;

    if (i < 0 || e->n_pend >= PEND_PER_ENTRY || len > VNODE_MAX_FRAME)
        return; /* dropped */
    l->pool_free = l->pool[i].next;
    memcpy(l->pool[i].data, f, len);
    l->pool[i].len = len;
    l->pool[i].next = -1;
    while (*tail >= 0)
        tail = &l->pool[*tail].next;
    *tail = i;
    e->n_pend++;
}

void fp_l3_arp_input(struct fp_l3 *l, struct vnode_pkt *p, struct vnode_meta *m,
                     uint64_t now_ns)
{
    uint8_t *f = p->data, *a = p->data + m->l3_off;
    const uint8_t *port_mac = l->env->ports[m->in_port].mac;
    uint16_t op = vnode_rd16(a + VNODE_ARP_OP);
    uint32_t spa = ntohl(vnode_rd32n(a + VNODE_ARP_SPA));
    uint32_t tpa = ntohl(vnode_rd32n(a + VNODE_ARP_TPA));
    bool for_us = local_on_port(l, tpa, m->in_port);
    uint8_t sha[VNODE_ETH_ALEN];

    memcpy(sha, a + VNODE_ARP_SHA, VNODE_ETH_ALEN);
    if (vnode_mac_is_multicast(sha))
        return;
    /* RFC 826: update an existing entry; add one if we are the target. */
    if (spa != 0 && fp_unicast_ip(spa) && fp_l3_local(l, spa) < 0)
        arp_learn(l, spa, sha, m->in_port, for_us, now_ns);
    if (!for_us || op != VNODE_ARP_REQUEST)
        return;
    /* Turn the request into our reply, in place. */
    memcpy(f + VNODE_ETH_DST, sha, VNODE_ETH_ALEN);
    memcpy(f + VNODE_ETH_SRC, port_mac, VNODE_ETH_ALEN);
    vnode_wr16(a + VNODE_ARP_OP, VNODE_ARP_REPLY);
    memcpy(a + VNODE_ARP_THA, sha, VNODE_ETH_ALEN);
    vnode_wr32n(a + VNODE_ARP_TPA, htonl(spa));
    memcpy(a + VNODE_ARP_SHA, port_mac, VNODE_ETH_ALEN);
    vnode_wr32n(a + VNODE_ARP_SPA, htonl(tpa));
    m->out = m->in_port;
}

void fp_l3_output(struct fp_l3 *l, struct vnode_pkt *p, struct vnode_meta *m,
                  uint16_t port, uint32_t nh, uint64_t now_ns)
{
    uint8_t *f = p->data;
    struct arp_entry *e = arp_find(l, nh, port);

    if (e != NULL && e->state == ARP_REACHABLE &&
        now_ns - e->updated_ns < ARP_LIFETIME_NS) {
        memcpy(f + VNODE_ETH_DST, e->mac, VNODE_ETH_ALEN);
        memcpy(f + VNODE_ETH_SRC, l->env->ports[port].mac, VNODE_ETH_ALEN);
        m->out = port;
        if (now_ns - e->updated_ns >= ARP_REFRESH_NS &&
            now_ns - e->last_req_ns >= ARP_RETRY_NS)
            arp_send_request(l, e, now_ns);
        return;
    }
    if (e == NULL) {
        e = arp_alloc(l, nh, port, now_ns);
        e->state = ARP_INCOMPLETE;
    } else if (e->state == ARP_REACHABLE) { /* expired: resolve again */
        e->state = ARP_INCOMPLETE;
        e->tries = 0;
        e->updated_ns = now_ns;
    }
    pend_add(l, e, f, p->len);
    if (e->tries == 0 || now_ns - e->last_req_ns >= ARP_RETRY_NS)
        if (e->tries < ARP_MAX_TRIES)
            arp_send_request(l, e, now_ns);
}

void fp_l3_tick(struct fp_l3 *l, uint64_t now_ns)
{
    for (int b = 0; b < ARP_BUCKETS; b++) {
        for (int w = 0; w < ARP_WAYS; w++) {
            struct arp_entry *e = &l->arp[b][w];
            if (e->state == ARP_INCOMPLETE &&
                now_ns - e->last_req_ns >= ARP_RETRY_NS) {
                if (e->tries >= ARP_MAX_TRIES)
                    arp_clear(l, e); /* unresolved: drop what waited */
                else
                    arp_send_request(l, e, now_ns);
            } else if (e->state == ARP_REACHABLE &&
                       now_ns - e->updated_ns >= ARP_LIFETIME_NS) {
                arp_clear(l, e);
            }
        }
    }
}

/* ---- ICMP -------------------------------------------------------------- */

static bool icmp_error_allowed(struct fp_l3 *l, uint64_t now_ns)
{
    if (!l->icmp_errors)
        return false;
    if (now_ns - l->icmp_window_ns >= NS_PER_S || now_ns < l->icmp_window_ns) {
        l->icmp_window_ns = now_ns;
        l->icmp_in_window = 0;
    }
    return l->icmp_in_window++ < ICMP_ERR_PER_S;
}

void fp_l3_icmp_error(struct fp_l3 *l, const struct vnode_pkt *p,
                      const struct vnode_meta *m, uint8_t type, uint8_t code,
                      uint64_t now_ns)
{
    uint8_t f[VNODE_ETH_HLEN + VNODE_IP_HLEN + VNODE_ICMP_HLEN + 60 +
              ICMP_QUOTE_BYTES];
    const uint8_t *oip = p->data + m->l3_off;
    uint32_t ihl = (uint32_t)(oip[0] & 0x0f) * 4, quote, src;
    uint8_t *ip = f + VNODE_ETH_HLEN, *icmp = ip + VNODE_IP_HLEN;

    if ((m->flags & (VNODE_F_MCAST)) || !fp_unicast_ip(ntohl(m->ip_src)) ||
        !fp_unicast_ip(ntohl(m->ip_dst)))
        return;
    if ((vnode_rd16(oip + VNODE_IP_FRAG) & 0x1fff) != 0)
        return;
    if (m->ip_proto == VNODE_IPPROTO_ICMP) {
        /* Only about queries (echo), never about other ICMP errors. */
        if (!(m->flags & VNODE_F_L4))
            return;
        uint8_t t = p->data[m->l4_off + VNODE_ICMP_TYPE];
        if (t != VNODE_ICMP_ECHO && t != VNODE_ICMP_ECHO_REPLY)
            return;
    }
    src = fp_l3_source_for(l, m->in_port, ntohl(m->ip_src));
    if (src == 0 || !icmp_error_allowed(l, now_ns))
        return;
    quote = ihl + ICMP_QUOTE_BYTES;
    if (quote > m->ip_len)
        quote = m->ip_len;
    memset(f, 0, sizeof(f));
    memcpy(f + VNODE_ETH_DST, p->data + VNODE_ETH_SRC, VNODE_ETH_ALEN);
    memcpy(f + VNODE_ETH_SRC, l->env->ports[m->in_port].mac, VNODE_ETH_ALEN);
    vnode_wr16(f + VNODE_ETH_TYPE, VNODE_ETH_P_IPV4);
    ip[0] = 0x45;
    vnode_wr16(ip + VNODE_IP_TOTLEN,
               (uint16_t)(VNODE_IP_HLEN + VNODE_ICMP_HLEN + quote));
    vnode_wr16(ip + VNODE_IP_ID, l->ip_id++);
    ip[VNODE_IP_TTL] = TTL_OUT;
    ip[VNODE_IP_PROTO] = VNODE_IPPROTO_ICMP;
    vnode_wr32n(ip + VNODE_IP_SRC, htonl(src));
    vnode_wr32n(ip + VNODE_IP_DST, m->ip_src);
    vnode_wr16(ip + VNODE_IP_CSUM, vnode_csum(ip, VNODE_IP_HLEN));
    icmp[VNODE_ICMP_TYPE] = type;
    icmp[VNODE_ICMP_CODE] = code;
    memcpy(icmp + VNODE_ICMP_HLEN, oip, quote);
    vnode_wr16(icmp + VNODE_ICMP_CSUM,
               vnode_csum(icmp, VNODE_ICMP_HLEN + quote));
    uint32_t len = VNODE_ETH_HLEN + VNODE_IP_HLEN + VNODE_ICMP_HLEN + quote;
    if (len < VNODE_ETH_MIN_FRAME)
        len = VNODE_ETH_MIN_FRAME; /* zero padding, already there */
    l->env->emit(l->env->rt, m->in_port, f, len);
}

void fp_l3_local_input(struct fp_l3 *l, struct vnode_pkt *p,
                       struct vnode_meta *m)
{
    uint8_t *f = p->data, *ip = f + m->l3_off, *icmp;
    uint8_t mac[VNODE_ETH_ALEN];

    if (m->ip_proto != VNODE_IPPROTO_ICMP || !(m->flags & VNODE_F_L4) ||
        (m->flags & VNODE_F_FRAG) || !fp_unicast_ip(ntohl(m->ip_src)))
        return;
    icmp = f + m->l4_off;
    if (icmp[VNODE_ICMP_TYPE] != VNODE_ICMP_ECHO)
        return;
    icmp[VNODE_ICMP_TYPE] = VNODE_ICMP_ECHO_REPLY;
    vnode_wr16(icmp + VNODE_ICMP_CSUM,
               vnode_csum_update16(vnode_rd16(icmp + VNODE_ICMP_CSUM),
                                   VNODE_ICMP_ECHO << 8,
                                   VNODE_ICMP_ECHO_REPLY << 8));
    vnode_wr32n(ip + VNODE_IP_SRC, m->ip_dst);
    vnode_wr32n(ip + VNODE_IP_DST, m->ip_src);
    ip[VNODE_IP_TTL] = TTL_OUT;
    vnode_wr16(ip + VNODE_IP_CSUM, 0);
    vnode_wr16(ip + VNODE_IP_CSUM, vnode_csum(ip, (size_t)(ip[0] & 0x0f) * 4));
    memcpy(mac, f + VNODE_ETH_SRC, VNODE_ETH_ALEN);
    memcpy(f + VNODE_ETH_DST, mac, VNODE_ETH_ALEN);
    memcpy(f + VNODE_ETH_SRC, l->env->ports[m->in_port].mac, VNODE_ETH_ALEN);
    m->out = m->in_port;
}

void fp_l3_ttl_dec(struct vnode_pkt *p, const struct vnode_meta *m)
{
    uint8_t *ip = p->data + m->l3_off;
    /* TTL shares its 16-bit word with the protocol. */
    uint16_t old = vnode_rd16(ip + VNODE_IP_TTL);

    ip[VNODE_IP_TTL]--;
    vnode_wr16(ip + VNODE_IP_CSUM,
               vnode_csum_update16(vnode_rd16(ip + VNODE_IP_CSUM), old,
                                   vnode_rd16(ip + VNODE_IP_TTL)));
}
