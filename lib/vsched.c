/* sched: hierarchical WFQ and shaping for the redirector's data path.
 *
 * How the semantics of sched.h are kept in O(log n) per packet:
 *  - every bucket remembers when it comes out of debt ('ready_ns'), so
 *    "may it send at now?" is one comparison, and a node that may not send
 *    waits in one timer heap keyed by that time;
 *  - each slice keeps two heaps of its links: 'hw' (backlogged, own ceiling
 *    not in debt; keyed by SFQ start tag) and 'h0' (those of them below
 *    their guarantee; keyed by EDF deadline);
 *  - the port keeps three heaps of slices whose ceiling is not in debt, one
 *    per service level: H0 (slices with a link in h0, keyed by that link's
 *    deadline), H1 (slices below their guarantee with a link in hw, keyed by
 *    the slice's deadline), H2 (slices with a link in hw, keyed by the
 *    slice's SFQ start tag).
 * A dequeue takes the top of H0, else H1, else H2, then the top link of that
 * slice's h0 (level 0) or hw (levels 1 and 2). After a send only the link
 * and its slice are looked at again ("refreshed"): a refresh recomputes where
 * a node belongs from its state at 'now' and moves it, so it is idempotent
 * and can be called whenever something may have changed. Due timers are
 * handled at the start of every dequeue.
 *
 * Units: tokens in nanobits (1e-9 bit; a byte is 8e9 of them), so that
 * rate_bps * dt_ns is exact; times in ns; SFQ tags in "virtual bytes":
 * (2^30 / weight) per byte. */
#include "vsched.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NBIT_PER_BYTE 8000000000LL
/* Debt floor of a bucket (nanobits); far below anything a sane configuration
 * reaches (about 570 MB of debt), it only keeps the arithmetic in range. */
#define TOK_DEBT_MAX (1LL << 62)
#define VT_PER_BYTE_W1 (1ULL << 30)
/* A start tag never runs further ahead of the virtual time than one packet
 * at weight 1; a finish tag further ahead is a stale one from before the
 * tags wrapped around, and is ignored. */
#define VT_AHEAD_MAX ((uint64_t)VSCHED_PKT_MAX_BYTES * VT_PER_BYTE_W1)
#define NO_TIMER UINT64_MAX

#define container_of(p, type, member)                                          \
    ((type *)(void *)((char *)(p)-offsetof(type, member)))

/* ---- token bucket ---- */

struct tb {
    uint64_t rate_bps; /* 0: the bucket does not exist */
    int64_t depth_nbit;
    int64_t tok_nbit; /* tokens at t_ns */
    uint64_t t_ns;
    uint64_t ready_ns; /* when tok_nbit is (or was) back to >= 0 */
};

static void tb_init(struct tb *b, uint64_t rate_bps, uint32_t burst_bytes)
{
    b->rate_bps = rate_bps;
    b->depth_nbit = (int64_t)burst_bytes * NBIT_PER_BYTE;
    b->tok_nbit = b->depth_nbit;
    b->t_ns = 0;
    b->ready_ns = 0;
}

static void tb_fill(struct tb *b, uint64_t now)
{
    uint64_t add, room;

    if (now <= b->t_ns)
        return;
    add = now - b->t_ns;
    b->t_ns = now;
    if (b->tok_nbit >= b->depth_nbit)
        return;
    room = (uint64_t)(b->depth_nbit - b->tok_nbit);
    if (__builtin_mul_overflow(add, b->rate_bps, &add) || add >= room)
        b->tok_nbit = b->depth_nbit;
    else
        b->tok_nbit += (int64_t)add;
}

/* When a bucket holding 'tok' (< 0) at 'now' is back to 0. */
static uint64_t tb_ready_after(const struct tb *b, uint64_t now)
{
    uint64_t debt = (uint64_t)-b->tok_nbit;

    return now + debt / b->rate_bps + (debt % b->rate_bps != 0);
}

static void tb_charge(struct tb *b, uint32_t len, uint64_t now)
{
    tb_fill(b, now);
    b->tok_nbit -= (int64_t)len * NBIT_PER_BYTE;
    if (b->tok_nbit < -TOK_DEBT_MAX)
        b->tok_nbit = -TOK_DEBT_MAX;
    b->ready_ns = b->tok_nbit >= 0 ? now : tb_ready_after(b, now);
}

/* New rate and burst at 'now' (see sched.h: tokens kept, cut to the burst;
 * a bucket that did not exist starts full). */
static void tb_set(struct tb *b, uint64_t rate_bps, uint32_t burst_bytes,
                   uint64_t now)
{
    int64_t depth = (int64_t)burst_bytes * NBIT_PER_BYTE;

    if (!b->rate_bps || !rate_bps) {
        tb_init(b, rate_bps, burst_bytes);
        return;
    }
    tb_fill(b, now);
    b->rate_bps = rate_bps;
    b->depth_nbit = depth;
    if (b->tok_nbit > depth)
        b->tok_nbit = depth;
    if (b->tok_nbit < 0)
        b->ready_ns = tb_ready_after(b, b->t_ns);
}

/* Not in debt at 'now'. A bucket that does not exist never is. */
static bool tb_ok(const struct tb *b, uint64_t now)
{
    return !b->rate_bps || now >= b->ready_ns;
}

/* ---- indexed binary min-heap ---- */

/* 'pos' points into the owner: index + 1 of its entry, 0 when absent. */
struct hent {
    uint64_t key;
    uint32_t tie;
    uint32_t *pos;
};

struct heap {
    struct hent *v;
    uint32_t n, cap;
};

/* Keys compare modulo 2^64 (SFQ tags wrap; times never get near it). */
static bool hent_less(const struct hent *a, const struct hent *b)
{
    int64_t d = (int64_t)(a->key - b->key);

    return d < 0 || (d == 0 && a->tie < b->tie);
}

static void heap_place(struct heap *h, uint32_t i, struct hent e)
{
    h->v[i] = e;
    *e.pos = i + 1;
}

static void heap_sift(struct heap *h, uint32_t i)
{
    struct hent e = h->v[i];

    while (i > 0 && hent_less(&e, &h->v[(i - 1) / 2])) {
        heap_place(h, i, h->v[(i - 1) / 2]);
        i = (i - 1) / 2;
    }
    for (;;) {
        uint32_t c = 2 * i + 1;

        if (c >= h->n)
            break;
        if (c + 1 < h->n && hent_less(&h->v[c + 1], &h->v[c]))
            c++;
        if (!hent_less(&h->v[c], &e))
            break;
        heap_place(h, i, h->v[c]);
        i = c;
    }
    heap_place(h, i, e);
}

static int heap_reserve(struct heap *h, uint32_t n)
{
    struct hent *v;
    uint32_t cap;

    if (n <= h->cap)
        return 0;
    cap = h->cap ? h->cap : 4;
    while (cap < n)
        cap *= 2;
    v = realloc(h->v, cap * sizeof(*v));
    if (!v)
        return -ENOMEM;
    h->v = v;
    h->cap = cap;
    return 0;
}

/* Inserts, moves or removes the owner of 'pos' ('in' false: remove). The
 * capacity was reserved when the owner was added. */
static void heap_set(struct heap *h, uint32_t *pos, bool in, uint64_t key,
                     uint32_t tie)
{
    uint32_t i;

    if (!in) {
        if (!*pos)
            return;
        i = *pos - 1;
        *pos = 0;
        if (i != --h->n) {
            heap_place(h, i, h->v[h->n]);
            heap_sift(h, i);
        }
        return;
    }
    if (*pos) {
        i = *pos - 1;
        if (h->v[i].key == key && h->v[i].tie == tie)
            return;
    } else {
        i = h->n++;
    }
    heap_place(h, i, (struct hent){key, tie, pos});
    heap_sift(h, i);
}

static const struct hent *heap_top(const struct heap *h)
{
    return h->n ? &h->v[0] : NULL;
}

/* The owner's 'pos' of the smallest entry of a heap known not to be empty. */
static uint32_t *heap_min_pos(const struct heap *h)
{
    return h->v[0].pos;
}

/* ---- id -> object map: open addressing, linear probing ---- */

struct idmap_ent {
    uint32_t id;
    void *p; /* NULL: free slot */
};

struct idmap {
    struct idmap_ent *e;
    uint32_t mask, n;
};

static uint32_t idmap_home(const struct idmap *m, uint32_t id)
{
    uint32_t h = id * 0x9E3779B1u;

    return (h ^ (h >> 15)) & m->mask;
}

static void *idmap_get(const struct idmap *m, uint32_t id)
{
    if (!m->e)
        return NULL;
    for (uint32_t i = idmap_home(m, id);; i = (i + 1) & m->mask) {
        if (!m->e[i].p)
            return NULL;
        if (m->e[i].id == id)
            return m->e[i].p;
    }
}

static void idmap_put_nogrow(struct idmap *m, uint32_t id, void *p)
{
    uint32_t i = idmap_home(m, id);

    while (m->e[i].p)
        i = (i + 1) & m->mask;
    m->e[i] = (struct idmap_ent){id, p};
    m->n++;
}

/* Makes room for one more; the id must not be in the map. */
static int idmap_reserve(struct idmap *m)
{
    struct idmap_ent *old = m->e, *e;
    uint32_t old_size = old ? m->mask + 1 : 0, size;

    if (old && 2 * (m->n + 1) <= old_size)
        return 0;
    size = old_size ? 2 * old_size : 16;
    e = calloc(size, sizeof(*e));
    if (!e)
        return -ENOMEM;
    m->e = e;
    m->mask = size - 1;
    m->n = 0;
    for (uint32_t i = 0; i < old_size; i++)
        if (old[i].p)
            idmap_put_nogrow(m, old[i].id, old[i].p);
    free(old);
    return 0;
}

/* Removes 'id' (present), shifting later entries of its probe run back. */
static void idmap_del(struct idmap *m, uint32_t id)
{
    uint32_t i = idmap_home(m, id), j;

    while (m->e[i].id != id || !m->e[i].p)
        i = (i + 1) & m->mask;
    for (j = i;;) {
        uint32_t k;

        j = (j + 1) & m->mask;
        if (!m->e[j].p)
            break;
        k = idmap_home(m, m->e[j].id);
        /* Move e[j] into the hole at i unless its home lies in (i, j]. */
        if (((j - k) & m->mask) >= ((j - i) & m->mask)) {
            m->e[i] = m->e[j];
            i = j;
        }
    }
    m->e[i].p = NULL;
    m->n--;
}

/* ---- queueing-delay histogram and windowed rate ---- */

/* Eight sub-buckets per power of two: values below 8 exact, others within
 * 12.5 %; delays from 2^44 ns (~4.9 h) up share the last bucket. */
#define HIST_SUB_BITS 3
#define HIST_SUB (1u << HIST_SUB_BITS)
#define HIST_EXP_MAX 43
#define HIST_BUCKETS ((HIST_EXP_MAX - HIST_SUB_BITS + 2) * HIST_SUB + 1)

struct hist {
    uint64_t max_ns, n;
    uint32_t count[HIST_BUCKETS];
};

static unsigned hist_index(uint64_t v)
{
    unsigned e;

    if (v < HIST_SUB)
        return (unsigned)v;
    e = 63u - (unsigned)__builtin_clzll(v);
    if (e > HIST_EXP_MAX)
        return HIST_BUCKETS - 1;
    return (e - HIST_SUB_BITS + 1) * HIST_SUB +
           (unsigned)((v >> (e - HIST_SUB_BITS)) & (HIST_SUB - 1));
}

/* The largest value that falls in bucket 'b'. */
static uint64_t hist_upper(unsigned b)
{
    unsigned e, m;

    if (b < HIST_SUB)
        return b;
    if (b >= HIST_BUCKETS - 1)
        return UINT64_MAX;
    e = b / HIST_SUB + HIST_SUB_BITS - 1;
    m = b % HIST_SUB;
    return ((uint64_t)(HIST_SUB + m + 1) << (e - HIST_SUB_BITS)) - 1;
}

static void hist_add(struct hist *h, uint64_t v)
{
    unsigned b = hist_index(v);

    if (h->count[b] == UINT32_MAX) {
        /* Halve everything: the shape survives, old samples weigh less. */
        h->n = 0;
        for (unsigned i = 0; i < HIST_BUCKETS; i++) {
            h->count[i] /= 2;
            h->n += h->count[i];
        }
    }
    h->count[b]++;
    h->n++;
    if (v > h->max_ns)
        h->max_ns = v;
}

/* Upper bound of the p-th permille, capped at the maximum. */
static uint64_t hist_pct(const struct hist *h, unsigned permille)
{
    uint64_t rank, seen = 0;

    if (!h->n)
        return 0;
    rank = (h->n * permille + 999) / 1000;
    if (!rank)
        rank = 1;
    for (unsigned b = 0; b < HIST_BUCKETS; b++) {
        seen += h->count[b];
        if (seen >= rank) {
            uint64_t u = hist_upper(b);
            return u < h->max_ns ? u : h->max_ns;
        }
    }
    return h->max_ns;
}

struct win {
    uint64_t idx; /* window of cur_bytes: [idx * W, idx * W + W) */
    uint64_t end_ns;
    uint64_t cur_bytes, prev_bytes; /* prev: window idx - 1 */
};

static void win_add(struct win *w, uint64_t window_ns, uint64_t now,
                    uint32_t len)
{
    if (now >= w->end_ns) {
        uint64_t idx = now / window_ns;

        w->prev_bytes = idx == w->idx + 1 ? w->cur_bytes : 0;
        w->cur_bytes = 0;
        w->idx = idx;
        w->end_ns = (idx + 1) * window_ns;
    }
    w->cur_bytes += len;
}

static uint64_t win_rate(const struct win *w, uint64_t window_ns, uint64_t now)
{
    uint64_t idx = now / window_ns, bytes = 0;

    if (w->end_ns && w->idx == idx)
        bytes = w->prev_bytes;
    else if (w->end_ns && w->idx + 1 == idx)
        bytes = w->cur_bytes;
    return (uint64_t)((unsigned __int128)bytes * 8000000000u / window_ns);
}

/* ---- the hierarchy ---- */

struct pkt_slot {
    void *pkt;
    uint64_t enq_ns;
    uint32_t len;
};

struct queue {
    struct pkt_slot *ring;
    uint32_t cap, head, count; /* cap = limit_pkts */
    uint32_t limit_bytes;
    uint64_t bytes;
};

enum node_kind { NODE_SLICE, NODE_LINK };

/* What links and slices share: their place in the timer heap. */
struct node {
    uint32_t timer_pos;
    uint32_t id;
    enum node_kind kind;
};

struct link {
    struct node n; /* first */
    struct slice *slice;
    struct link *next; /* in the slice's list */
    struct tb g, c;    /* guarantee, ceiling */
    uint64_t vt_per_byte;
    uint64_t start_vt, finish_vt; /* SFQ tags among the slice's links */
    uint64_t since_ns;            /* last send, or when it became backlogged */
    uint32_t hw_pos, h0_pos;      /* in its slice's heaps (index + 1, 0: out) */
    uint32_t queued_pkts;
    uint64_t queued_bytes;
    unsigned n_tclasses;
    unsigned nonempty; /* bit c: queue c holds packets */
    struct queue q[VSCHED_TCLASS_MAX];
    struct vsched_link_conf conf;
    uint64_t enq_pkts, enq_bytes, sent_pkts, sent_bytes;
    uint64_t drops_own_pkts, drops_own_bytes;
    uint64_t drops_others_pkts, drops_others_bytes;
    struct win win;
    struct hist delay;
};

struct slice {
    struct node n; /* first */
    struct tb g, c;
    uint64_t vt_per_byte;
    uint64_t start_vt, finish_vt; /* SFQ tags among the port's slices */
    uint64_t vt;                  /* SFQ virtual time of its links */
    uint64_t since_ns;            /* last send, or when it became backlogged */
    uint32_t H0_pos, H1_pos, H2_pos; /* in the port's heaps */
    struct heap hw, h0;              /* of its links, see the top comment */
    struct link *links;              /* all of them, in a list */
    uint32_t n_links;
    uint64_t links_rate_bps; /* sum of its links' guarantees */
    uint64_t queued_pkts, queued_bytes;
    struct vsched_slice_conf conf;
    uint64_t sent_pkts, sent_bytes, drops_pkts, drops_bytes;
    struct win win;
};

struct vsched {
    struct vsched_port_conf conf;
    struct tb port;
    uint64_t now_ns; /* the largest 'now' seen */
    uint64_t vt;     /* SFQ virtual time of the slices */
    struct idmap slices, links;
    struct heap H0, H1, H2, timers;
    uint64_t slices_rate_bps;
    struct vsched_port_stats st;
};

static uint64_t advance_now(struct vsched *s, uint64_t now)
{
    if (now > s->now_ns)
        s->now_ns = now;
    return s->now_ns;
}

static uint32_t burst_or_default(uint32_t burst)
{
    return burst ? burst : VSCHED_BURST_DEFAULT_BYTES;
}

/* SFQ: the start tag of a flow that (re)joins at virtual time 'vt' after
 * finishing at 'finish' (see VT_AHEAD_MAX). */
static uint64_t sfq_start(uint64_t vt, uint64_t finish)
{
    uint64_t ahead = finish - vt;

    return ahead > 0 && ahead <= VT_AHEAD_MAX ? finish : vt;
}

static void free_pkt(const struct vsched *s, void *pkt)
{
    if (s->conf.free_pkt)
        s->conf.free_pkt(pkt, s->conf.free_ctx);
}

static struct link *link_of(const struct vsched *s, uint32_t id)
{
    return idmap_get(&s->links, id);
}

static struct slice *slice_of(const struct vsched *s, uint32_t id)
{
    return idmap_get(&s->slices, id);
}

static const struct pkt_slot *link_head(const struct link *l)
{
    const struct queue *q = &l->q[__builtin_ctz(l->nonempty)];

    return &q->ring[q->head];
}

static void set_timer(struct vsched *s, struct node *n, uint64_t t)
{
    heap_set(&s->timers, &n->timer_pos, t != NO_TIMER, t, n->id);
}

/* EDF deadline on guarantee 'g' for a packet of 'len' bytes. */
static uint64_t deadline(const struct tb *g, uint64_t since, uint32_t len)
{
    uint64_t start = g->ready_ns > since ? g->ready_ns : since;

    return start + (uint64_t)len * NBIT_PER_BYTE / g->rate_bps;
}

/* Puts slice 'sl' where its state at 'now' says (see the top comment). */
static void slice_refresh(struct vsched *s, struct slice *sl, uint64_t now)
{
    bool c_ok = tb_ok(&sl->c, now);
    bool g_ok = c_ok && sl->g.rate_bps && now >= sl->g.ready_ns;
    bool active = c_ok && sl->hw.n;
    const struct hent *top0 = heap_top(&sl->h0);
    uint64_t t = NO_TIMER;

    if (active && !sl->H2_pos)
        sl->start_vt = sfq_start(s->vt, sl->finish_vt);
    heap_set(&s->H2, &sl->H2_pos, active, sl->start_vt, sl->n.id);
    heap_set(&s->H0, &sl->H0_pos, c_ok && top0, top0 ? top0->key : 0,
             top0 ? top0->tie : 0);
    if (g_ok && active) {
        struct link *l =
            container_of(heap_min_pos(&sl->hw), struct link, hw_pos);
        heap_set(&s->H1, &sl->H1_pos, true,
                 deadline(&sl->g, sl->since_ns, link_head(l)->len), sl->n.id);
    } else {
        heap_set(&s->H1, &sl->H1_pos, false, 0, 0);
    }
    if (sl->hw.n && !c_ok)
        t = sl->c.ready_ns;
    else if (sl->hw.n && sl->g.rate_bps && !g_ok)
        t = sl->g.ready_ns;
    set_timer(s, &sl->n, t);
}

/* Puts link 'l' where its state at 'now' says; the caller refreshes its
 * slice afterwards. A link joins 'hw' only while its slice's ceiling allows
 * it to send (so that its timer is not earlier than the first time it can),
 * and stays there while the slice waits. */
static void link_refresh(struct vsched *s, struct link *l, uint64_t now)
{
    struct slice *sl = l->slice;
    bool c_ok = tb_ok(&l->c, now);
    bool want_hw = l->queued_pkts && c_ok && (l->hw_pos || tb_ok(&sl->c, now));
    bool want_h0 = want_hw && l->g.rate_bps && now >= l->g.ready_ns;
    uint64_t slice_c = sl->c.rate_bps ? sl->c.ready_ns : 0;
    uint64_t t = NO_TIMER;

    if (want_hw && !l->hw_pos)
        l->start_vt = sfq_start(sl->vt, l->finish_vt);
    heap_set(&sl->hw, &l->hw_pos, want_hw, l->start_vt, l->n.id);
    heap_set(&sl->h0, &l->h0_pos, want_h0,
             want_h0 ? deadline(&l->g, l->since_ns, link_head(l)->len) : 0,
             l->n.id);
    if (l->queued_pkts && !want_hw) {
        t = l->c.rate_bps ? l->c.ready_ns : 0;
        if (slice_c > t)
            t = slice_c;
    } else if (want_hw && l->g.rate_bps && !want_h0) {
        t = l->g.ready_ns > slice_c ? l->g.ready_ns : slice_c;
    }
    set_timer(s, &l->n, t);
}

static void run_timers(struct vsched *s, uint64_t now)
{
    const struct hent *top;

    while ((top = heap_top(&s->timers)) && top->key <= now) {
        struct node *n = container_of(top->pos, struct node, timer_pos);

        set_timer(s, n, NO_TIMER);
        if (n->kind == NODE_LINK) {
            struct link *l = (struct link *)n;
            link_refresh(s, l, now);
            slice_refresh(s, l->slice, now);
        } else {
            slice_refresh(s, (struct slice *)n, now);
        }
    }
}

/* Removes the head packet of 'l' and accounts for it as sent at 'level'. */
static void *send_one(struct vsched *s, struct link *l, int level, uint64_t now)
{
    struct slice *sl = l->slice;
    unsigned c = (unsigned)__builtin_ctz(l->nonempty);
    struct queue *q = &l->q[c];
    struct pkt_slot slot = q->ring[q->head];

    if (++q->head == q->cap)
        q->head = 0;
    if (!--q->count)
        l->nonempty &= ~(1u << c);
    q->bytes -= slot.len;
    l->queued_pkts--;
    l->queued_bytes -= slot.len;
    sl->queued_pkts--;
    sl->queued_bytes -= slot.len;
    s->st.queued_pkts--;
    s->st.queued_bytes -= slot.len;

    tb_charge(&s->port, slot.len, now);
    if (l->c.rate_bps)
        tb_charge(&l->c, slot.len, now);
    if (sl->c.rate_bps)
        tb_charge(&sl->c, slot.len, now);
    if (level == 0)
        tb_charge(&l->g, slot.len, now);
    if (level <= 1 && sl->g.rate_bps)
        tb_charge(&sl->g, slot.len, now);
    if (level >= 1) {
        sl->vt = l->start_vt;
        l->finish_vt = l->start_vt + slot.len * l->vt_per_byte;
        l->start_vt = l->finish_vt;
    }
    if (level == 2) {
        s->vt = sl->start_vt;
        sl->finish_vt = sl->start_vt + slot.len * sl->vt_per_byte;
        sl->start_vt = sl->finish_vt;
    }
    l->since_ns = now;
    sl->since_ns = now;

    l->sent_pkts++;
    l->sent_bytes += slot.len;
    sl->sent_pkts++;
    sl->sent_bytes += slot.len;
    s->st.sent_pkts++;
    s->st.sent_bytes += slot.len;
    hist_add(&l->delay, now - slot.enq_ns);
    win_add(&l->win, s->conf.window_ns, now, slot.len);
    win_add(&sl->win, s->conf.window_ns, now, slot.len);

    link_refresh(s, l, now);
    slice_refresh(s, sl, now);
    return slot.pkt;
}

int vsched_dequeue(struct vsched *s, uint64_t now_ns, void **pkts,
                  uint32_t *link_ids, int max)
{
    uint64_t now = advance_now(s, now_ns);
    int n = 0;

    run_timers(s, now);
    while (n < max && now >= s->port.ready_ns) {
        const struct hent *top;
        struct slice *sl;
        struct link *l;
        int level;

        if ((top = heap_top(&s->H0))) {
            sl = container_of(top->pos, struct slice, H0_pos);
            l = container_of(heap_min_pos(&sl->h0), struct link, h0_pos);
            level = 0;
        } else {
            if ((top = heap_top(&s->H1))) {
                sl = container_of(top->pos, struct slice, H1_pos);
                level = 1;
            } else if ((top = heap_top(&s->H2))) {
                sl = container_of(top->pos, struct slice, H2_pos);
                level = 2;
            } else {
                break;
            }
            l = container_of(heap_min_pos(&sl->hw), struct link, hw_pos);
        }
        if (link_ids)
            link_ids[n] = l->n.id;
        pkts[n++] = send_one(s, l, level, now);
    }
    return n;
}

uint64_t vsched_next_ns(const struct vsched *s, uint64_t now_ns)
{
    uint64_t now = now_ns > s->now_ns ? now_ns : s->now_ns;
    const struct hent *t = heap_top(&s->timers);
    uint64_t when;

    if (!s->st.queued_pkts)
        return UINT64_MAX;
    if (s->H0.n || s->H1.n || s->H2.n)
        when = now;
    else if (t)
        when = t->key > now ? t->key : now;
    else
        return UINT64_MAX; /* unreachable: a queued link waits somewhere */
    return s->port.ready_ns > when ? s->port.ready_ns : when;
}

/* ---- enqueue ---- */

static void count_limit_drop(struct vsched *s, struct link *l, uint32_t len,
                             uint64_t now)
{
    bool below = l->g.rate_bps && now >= l->g.ready_ns && tb_ok(&l->c, now);

    if (below) {
        l->drops_others_pkts++;
        l->drops_others_bytes += len;
    } else {
        l->drops_own_pkts++;
        l->drops_own_bytes += len;
    }
    l->slice->drops_pkts++;
    l->slice->drops_bytes += len;
    s->st.drops_limit_pkts++;
    s->st.drops_limit_bytes += len;
}

int vsched_enqueue(struct vsched *s, uint32_t link_id, unsigned tclass, void *pkt,
                  uint32_t len_bytes, uint64_t now_ns)
{
    uint64_t now = advance_now(s, now_ns);
    struct link *l = link_of(s, link_id);
    struct slice *sl;
    struct queue *q;
    uint32_t tail;
    bool was_idle, new_head;

    if (!l || !len_bytes || len_bytes > VSCHED_PKT_MAX_BYTES) {
        if (!l)
            s->st.drops_no_link_pkts++;
        else
            s->st.drops_bad_len_pkts++;
        free_pkt(s, pkt);
        return -1;
    }
    if (tclass >= l->n_tclasses)
        tclass = l->n_tclasses - 1;
    q = &l->q[tclass];
    if (q->count == q->cap ||
        (q->limit_bytes && q->bytes + len_bytes > q->limit_bytes)) {
        count_limit_drop(s, l, len_bytes, now);
        free_pkt(s, pkt);
        return -1;
    }
    sl = l->slice;
    was_idle = !l->queued_pkts;
    new_head = was_idle || tclass < (unsigned)__builtin_ctz(l->nonempty);
    tail = q->head + q->count;
    if (tail >= q->cap)
        tail -= q->cap;
    q->ring[tail] = (struct pkt_slot){pkt, now, len_bytes};
    q->count++;
    q->bytes += len_bytes;
    l->nonempty |= 1u << tclass;
    if (was_idle)
        l->since_ns = now;
    if (!sl->queued_pkts)
        sl->since_ns = now;
    l->queued_pkts++;
    l->queued_bytes += len_bytes;
    sl->queued_pkts++;
    sl->queued_bytes += len_bytes;
    l->enq_pkts++;
    l->enq_bytes += len_bytes;
    s->st.enq_pkts++;
    s->st.enq_bytes += len_bytes;
    s->st.queued_pkts++;
    s->st.queued_bytes += len_bytes;
    if (new_head) {
        link_refresh(s, l, now);
        slice_refresh(s, sl, now);
    }
    return 0;
}

/* ---- configuration ---- */

static char *msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static char *msg(const char *fmt, ...)
{
    va_list ap;
    char *m = NULL;

    va_start(ap, fmt);
    if (vasprintf(&m, fmt, ap) < 0)
        m = NULL;
    va_end(ap);
    return m ? m : strdup("invalid scheduler configuration");
}

/* Each checker returns 0 or a negative errno, and with 'why' non-NULL sets
 * *why to a malloc'd explanation on error. */
#define FAIL(code, ...)                                                        \
    do {                                                                       \
        if (why)                                                               \
            *why = msg(__VA_ARGS__);                                           \
        return (code);                                                         \
    } while (0)

static int port_check(const struct vsched_port_conf *c, char **why)
{
    if (!c)
        FAIL(-EINVAL, "no port configuration");
    if (!c->rate_bps || c->rate_bps > VSCHED_RATE_MAX_BPS)
        FAIL(-EINVAL, "port rate %llu bit/s out of range: give 1 to %llu",
             (unsigned long long)c->rate_bps, VSCHED_RATE_MAX_BPS);
    if (c->burst_bytes > VSCHED_BURST_MAX_BYTES)
        FAIL(-EINVAL, "port burst %u bytes too large: at most %u",
             c->burst_bytes, VSCHED_BURST_MAX_BYTES);
    return 0;
}

static int rates_check(const char *what, uint32_t id, uint64_t rate,
                       uint64_t ceil, uint32_t burst, uint32_t weight,
                       char **why)
{
    if (rate > VSCHED_RATE_MAX_BPS || ceil > VSCHED_RATE_MAX_BPS)
        FAIL(-EINVAL, "%s %u: rates must be at most %llu bit/s", what, id,
             VSCHED_RATE_MAX_BPS);
    if (ceil && ceil < rate)
        FAIL(-EINVAL,
             "%s %u: ceiling %llu bit/s below its guarantee %llu bit/s: raise "
             "the ceiling or give 0 for none",
             what, id, (unsigned long long)ceil, (unsigned long long)rate);
    if (burst > VSCHED_BURST_MAX_BYTES)
        FAIL(-EINVAL, "%s %u: burst %u bytes too large: at most %u", what, id,
             burst, VSCHED_BURST_MAX_BYTES);
    if (weight < 1 || weight > VSCHED_WEIGHT_MAX)
        FAIL(-EINVAL, "%s %u: weight %u out of range: give 1 to %u", what, id,
             weight, VSCHED_WEIGHT_MAX);
    return 0;
}

static int slice_check(const struct vsched *s, uint32_t id,
                       const struct vsched_slice_conf *c, bool update,
                       char **why)
{
    const struct slice *sl = slice_of(s, id);
    uint64_t others = s->slices_rate_bps;
    int rc;

    if (!c)
        FAIL(-EINVAL, "slice %u: no configuration", id);
    if (update && !sl)
        FAIL(-ENOENT, "slice %u does not exist", id);
    if (!update && sl)
        FAIL(-EEXIST, "slice %u exists already", id);
    rc = rates_check("slice", id, c->rate_bps, c->ceil_bps, c->burst_bytes,
                     c->weight, why);
    if (rc)
        return rc;
    if (c->ceil_bps > s->conf.rate_bps)
        FAIL(-EINVAL,
             "slice %u: ceiling %llu bit/s above the port rate %llu bit/s: "
             "give 0 for the port rate",
             id, (unsigned long long)c->ceil_bps,
             (unsigned long long)s->conf.rate_bps);
    if (sl)
        others -= sl->conf.rate_bps;
    if (c->rate_bps > s->conf.rate_bps - others)
        FAIL(-ENOSPC,
             "slice %u: guarantee %llu bit/s exceeds what the port has left "
             "(%llu of %llu bit/s)",
             id, (unsigned long long)c->rate_bps,
             (unsigned long long)(s->conf.rate_bps - others),
             (unsigned long long)s->conf.rate_bps);
    if (sl && c->rate_bps < sl->links_rate_bps)
        FAIL(-ENOSPC,
             "slice %u: guarantee %llu bit/s below the sum of its links' "
             "guarantees (%llu bit/s): lower those first",
             id, (unsigned long long)c->rate_bps,
             (unsigned long long)sl->links_rate_bps);
    return 0;
}

static int link_check(const struct vsched *s, uint32_t slice_id, uint32_t id,
                      const struct vsched_link_conf *c, bool update, char **why)
{
    const struct link *l = link_of(s, id);
    const struct slice *sl;
    uint64_t others;
    int rc;

    if (!c)
        FAIL(-EINVAL, "link %u: no configuration", id);
    if (update && !l)
        FAIL(-ENOENT, "link %u does not exist", id);
    if (!update && l)
        FAIL(-EEXIST, "link %u exists already (in slice %u)", id,
             l->slice->n.id);
    sl = update ? l->slice : slice_of(s, slice_id);
    if (!sl)
        FAIL(-ENOENT, "link %u: slice %u does not exist", id, slice_id);
    rc = rates_check("link", id, c->rate_bps, c->ceil_bps, c->burst_bytes,
                     c->weight, why);
    if (rc)
        return rc;
    if (c->n_tclasses < 1 || c->n_tclasses > VSCHED_TCLASS_MAX)
        FAIL(-EINVAL, "link %u: %u traffic classes: give 1 to %u", id,
             c->n_tclasses, VSCHED_TCLASS_MAX);
    for (unsigned i = 0; i < c->n_tclasses; i++) {
        uint32_t lim = c->queue[i].limit_pkts;

        if (lim < 1 || lim > VSCHED_QUEUE_MAX_PKTS)
            FAIL(-EINVAL, "link %u: class %u limit of %u packets: give 1 to %u",
                 id, i, lim, VSCHED_QUEUE_MAX_PKTS);
    }
    others = sl->links_rate_bps - (l ? l->conf.rate_bps : 0);
    if (c->rate_bps > sl->conf.rate_bps - others)
        FAIL(-ENOSPC,
             "link %u: guarantee %llu bit/s exceeds what slice %u has left "
             "(%llu of %llu bit/s): raise the slice's guarantee first",
             id, (unsigned long long)c->rate_bps, sl->n.id,
             (unsigned long long)(sl->conf.rate_bps - others),
             (unsigned long long)sl->conf.rate_bps);
    return 0;
}

char *vsched_port_check(const struct vsched_port_conf *c)
{
    char *why = NULL;

    port_check(c, &why);
    return why;
}

char *vsched_slice_check(const struct vsched *s, uint32_t slice_id,
                        const struct vsched_slice_conf *c, bool update)
{
    char *why = NULL;

    slice_check(s, slice_id, c, update, &why);
    return why;
}

char *vsched_link_check(const struct vsched *s, uint32_t slice_id,
                       uint32_t link_id, const struct vsched_link_conf *c,
                       bool update)
{
    char *why = NULL;

    link_check(s, slice_id, link_id, c, update, &why);
    return why;
}

struct vsched *vsched_new(const struct vsched_port_conf *port)
{
    struct vsched *s;

    if (port_check(port, NULL)) {
        errno = EINVAL;
        return NULL;
    }
    s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    s->conf = *port;
    s->conf.burst_bytes = burst_or_default(port->burst_bytes);
    if (!s->conf.window_ns)
        s->conf.window_ns = VSCHED_WINDOW_DEFAULT_NS;
    tb_init(&s->port, s->conf.rate_bps, s->conf.burst_bytes);
    return s;
}

static void slice_set_conf(struct slice *sl, const struct vsched_slice_conf *c,
                           uint64_t now, bool fresh)
{
    uint32_t burst = burst_or_default(c->burst_bytes);

    if (fresh) {
        tb_init(&sl->g, c->rate_bps, burst);
        tb_init(&sl->c, c->ceil_bps, burst);
    } else {
        tb_set(&sl->g, c->rate_bps, burst, now);
        tb_set(&sl->c, c->ceil_bps, burst, now);
    }
    sl->vt_per_byte = VT_PER_BYTE_W1 / c->weight;
    sl->conf = *c;
}

int vsched_slice_add(struct vsched *s, uint32_t slice_id,
                    const struct vsched_slice_conf *c)
{
    uint32_t n = s->slices.n + 1;
    struct slice *sl;
    int rc = slice_check(s, slice_id, c, false, NULL);

    if (rc)
        return rc;
    if (idmap_reserve(&s->slices) || heap_reserve(&s->H0, n) ||
        heap_reserve(&s->H1, n) || heap_reserve(&s->H2, n) ||
        heap_reserve(&s->timers, n + s->links.n))
        return -ENOMEM;
    sl = calloc(1, sizeof(*sl));
    if (!sl)
        return -ENOMEM;
    sl->n.id = slice_id;
    sl->n.kind = NODE_SLICE;
    slice_set_conf(sl, c, 0, true);
    sl->finish_vt = s->vt;
    idmap_put_nogrow(&s->slices, slice_id, sl);
    s->slices_rate_bps += c->rate_bps;
    s->st.n_slices++;
    return 0;
}

int vsched_slice_update(struct vsched *s, uint32_t slice_id,
                       const struct vsched_slice_conf *c, uint64_t now_ns)
{
    uint64_t now = advance_now(s, now_ns);
    struct slice *sl = slice_of(s, slice_id);
    int rc = slice_check(s, slice_id, c, true, NULL);

    if (rc || !sl)
        return rc ? rc : -ENOENT;
    s->slices_rate_bps += c->rate_bps - sl->conf.rate_bps;
    slice_set_conf(sl, c, now, false);
    /* Its ceiling may have moved: every link's timer may be off. */
    for (struct link *l = sl->links; l; l = l->next)
        link_refresh(s, l, now);
    slice_refresh(s, sl, now);
    return 0;
}

/* Frees packets [from, count) of queue 'q' counted from its head. */
static void queue_drop_from(struct vsched *s, struct link *l, struct queue *q,
                            uint32_t from)
{
    while (q->count > from) {
        uint32_t i = q->head + q->count - 1;
        struct pkt_slot *p;

        if (i >= q->cap)
            i -= q->cap;
        p = &q->ring[i];
        q->count--;
        q->bytes -= p->len;
        l->queued_pkts--;
        l->queued_bytes -= p->len;
        l->slice->queued_pkts--;
        l->slice->queued_bytes -= p->len;
        s->st.queued_pkts--;
        s->st.queued_bytes -= p->len;
        s->st.drops_deleted_pkts++;
        s->st.drops_deleted_bytes += p->len;
        free_pkt(s, p->pkt);
    }
}

static void link_destroy(struct vsched *s, struct link *l)
{
    for (unsigned i = 0; i < VSCHED_TCLASS_MAX; i++) {
        if (l->q[i].ring)
            queue_drop_from(s, l, &l->q[i], 0);
        free(l->q[i].ring);
    }
    free(l);
}

/* Detaches 'l' from every structure, drops its packets and frees it; the
 * caller refreshes the slice. */
static void link_remove(struct vsched *s, struct link *l)
{
    struct slice *sl = l->slice;
    struct link **pp = &sl->links;

    heap_set(&sl->hw, &l->hw_pos, false, 0, 0);
    heap_set(&sl->h0, &l->h0_pos, false, 0, 0);
    set_timer(s, &l->n, NO_TIMER);
    while (*pp != l)
        pp = &(*pp)->next;
    *pp = l->next;
    sl->n_links--;
    sl->links_rate_bps -= l->conf.rate_bps;
    idmap_del(&s->links, l->n.id);
    s->st.n_links--;
    link_destroy(s, l);
}

int vsched_slice_del(struct vsched *s, uint32_t slice_id, uint64_t now_ns)
{
    struct slice *sl = slice_of(s, slice_id);

    advance_now(s, now_ns);
    if (!sl)
        return -ENOENT;
    while (sl->links)
        link_remove(s, sl->links);
    heap_set(&s->H0, &sl->H0_pos, false, 0, 0);
    heap_set(&s->H1, &sl->H1_pos, false, 0, 0);
    heap_set(&s->H2, &sl->H2_pos, false, 0, 0);
    set_timer(s, &sl->n, NO_TIMER);
    idmap_del(&s->slices, slice_id);
    s->slices_rate_bps -= sl->conf.rate_bps;
    s->st.n_slices--;
    free(sl->hw.v);
    free(sl->h0.v);
    free(sl);
    return 0;
}

/* Rings for configuration 'c': new ones where the limit changes, NULL where
 * the current one is kept. -ENOMEM with nothing allocated. */
static int rings_alloc(const struct link *l, const struct vsched_link_conf *c,
                       struct pkt_slot *rings[VSCHED_TCLASS_MAX])
{
    for (unsigned i = 0; i < VSCHED_TCLASS_MAX; i++) {
        rings[i] = NULL;
        if (i >= c->n_tclasses ||
            (l && i < l->n_tclasses && l->q[i].cap == c->queue[i].limit_pkts))
            continue;
        rings[i] = malloc(c->queue[i].limit_pkts * sizeof(struct pkt_slot));
        if (!rings[i]) {
            while (i--)
                free(rings[i]);
            return -ENOMEM;
        }
    }
    return 0;
}

/* Moves queue 'q' into 'ring' of 'cap' slots, dropping what does not fit. */
static void queue_resize(struct vsched *s, struct link *l, struct queue *q,
                         struct pkt_slot *ring, uint32_t cap)
{
    queue_drop_from(s, l, q, cap < q->count ? cap : q->count);
    for (uint32_t k = 0; k < q->count; k++) {
        uint32_t i = q->head + k;

        ring[k] = q->ring[i >= q->cap ? i - q->cap : i];
    }
    free(q->ring);
    q->ring = ring;
    q->cap = cap;
    q->head = 0;
}

/* Drops the newest packets of 'q' until its bytes fit its byte limit. */
static void queue_trim_bytes(struct vsched *s, struct link *l, struct queue *q)
{
    uint32_t keep = q->count;
    uint64_t bytes = q->bytes;

    if (!q->limit_bytes)
        return;
    while (keep && bytes > q->limit_bytes) {
        uint32_t i = q->head + keep - 1;

        keep--;
        bytes -= q->ring[i >= q->cap ? i - q->cap : i].len;
    }
    queue_drop_from(s, l, q, keep);
}

static void link_set_conf(struct vsched *s, struct link *l,
                          const struct vsched_link_conf *c,
                          struct pkt_slot *rings[VSCHED_TCLASS_MAX],
                          uint64_t now, bool fresh)
{
    uint32_t burst = burst_or_default(c->burst_bytes);

    if (fresh) {
        tb_init(&l->g, c->rate_bps, burst);
        tb_init(&l->c, c->ceil_bps, burst);
    } else {
        tb_set(&l->g, c->rate_bps, burst, now);
        tb_set(&l->c, c->ceil_bps, burst, now);
    }
    l->vt_per_byte = VT_PER_BYTE_W1 / c->weight;
    for (unsigned i = 0; i < VSCHED_TCLASS_MAX; i++) {
        struct queue *q = &l->q[i];

        if (i >= c->n_tclasses) {
            queue_drop_from(s, l, q, 0);
            free(q->ring);
            memset(q, 0, sizeof(*q));
            continue;
        }
        if (rings[i])
            queue_resize(s, l, q, rings[i], c->queue[i].limit_pkts);
        q->limit_bytes = c->queue[i].limit_bytes;
        queue_trim_bytes(s, l, q);
    }
    l->nonempty = 0;
    for (unsigned i = 0; i < c->n_tclasses; i++)
        if (l->q[i].count)
            l->nonempty |= 1u << i;
    l->n_tclasses = c->n_tclasses;
    l->conf = *c;
}

int vsched_link_add(struct vsched *s, uint32_t slice_id, uint32_t link_id,
                   const struct vsched_link_conf *c)
{
    struct pkt_slot *rings[VSCHED_TCLASS_MAX];
    struct slice *sl = slice_of(s, slice_id);
    struct link *l;
    int rc = link_check(s, slice_id, link_id, c, false, NULL);

    if (rc || !sl)
        return rc ? rc : -ENOENT;
    if (idmap_reserve(&s->links) || heap_reserve(&sl->hw, sl->n_links + 1) ||
        heap_reserve(&sl->h0, sl->n_links + 1) ||
        heap_reserve(&s->timers, s->slices.n + s->links.n + 1))
        return -ENOMEM;
    l = calloc(1, sizeof(*l));
    if (!l)
        return -ENOMEM;
    if (rings_alloc(NULL, c, rings)) {
        free(l);
        return -ENOMEM;
    }
    l->n.id = link_id;
    l->n.kind = NODE_LINK;
    l->slice = sl;
    link_set_conf(s, l, c, rings, 0, true);
    l->finish_vt = sl->vt;
    l->next = sl->links;
    sl->links = l;
    sl->n_links++;
    sl->links_rate_bps += c->rate_bps;
    idmap_put_nogrow(&s->links, link_id, l);
    s->st.n_links++;
    return 0;
}

int vsched_link_update(struct vsched *s, uint32_t link_id,
                      const struct vsched_link_conf *c, uint64_t now_ns)
{
    uint64_t now = advance_now(s, now_ns);
    struct pkt_slot *rings[VSCHED_TCLASS_MAX];
    struct link *l = link_of(s, link_id);
    int rc = link_check(s, 0, link_id, c, true, NULL);

    if (rc || !l)
        return rc ? rc : -ENOENT;
    if (rings_alloc(l, c, rings))
        return -ENOMEM;
    l->slice->links_rate_bps += c->rate_bps - l->conf.rate_bps;
    link_set_conf(s, l, c, rings, now, false);
    link_refresh(s, l, now);
    slice_refresh(s, l->slice, now);
    return 0;
}

int vsched_link_del(struct vsched *s, uint32_t link_id, uint64_t now_ns)
{
    uint64_t now = advance_now(s, now_ns);
    struct link *l = link_of(s, link_id);
    struct slice *sl;

    if (!l)
        return -ENOENT;
    sl = l->slice;
    link_remove(s, l);
    slice_refresh(s, sl, now);
    return 0;
}

void vsched_free(struct vsched *s)
{
    if (!s)
        return;
    for (uint32_t i = 0; s->slices.e && i <= s->slices.mask; i++) {
        struct slice *sl = s->slices.e[i].p;

        if (!sl)
            continue;
        while (sl->links) {
            struct link *l = sl->links;
            sl->links = l->next;
            link_destroy(s, l);
        }
        free(sl->hw.v);
        free(sl->h0.v);
        free(sl);
    }
    free(s->slices.e);
    free(s->links.e);
    free(s->H0.v);
    free(s->H1.v);
    free(s->H2.v);
    free(s->timers.v);
    free(s);
}

/* ---- statistics ---- */

int vsched_link_stats(const struct vsched *s, uint32_t link_id, uint64_t now_ns,
                     struct vsched_link_stats *out)
{
    const struct link *l = link_of(s, link_id);
    uint64_t now = now_ns > s->now_ns ? now_ns : s->now_ns;

    if (!l)
        return -ENOENT;
    *out = (struct vsched_link_stats){
        .slice_id = l->slice->n.id,
        .enq_pkts = l->enq_pkts,
        .enq_bytes = l->enq_bytes,
        .sent_pkts = l->sent_pkts,
        .sent_bytes = l->sent_bytes,
        .drops_own_pkts = l->drops_own_pkts,
        .drops_own_bytes = l->drops_own_bytes,
        .drops_others_pkts = l->drops_others_pkts,
        .drops_others_bytes = l->drops_others_bytes,
        .queued_pkts = l->queued_pkts,
        .queued_bytes = l->queued_bytes,
        .delay_p50_ns = hist_pct(&l->delay, 500),
        .delay_p99_ns = hist_pct(&l->delay, 990),
        .delay_max_ns = l->delay.max_ns,
        .rate_bps = win_rate(&l->win, s->conf.window_ns, now),
        .window_ns = s->conf.window_ns,
    };
    return 0;
}

int vsched_slice_stats(const struct vsched *s, uint32_t slice_id, uint64_t now_ns,
                      struct vsched_slice_stats *out)
{
    const struct slice *sl = slice_of(s, slice_id);
    uint64_t now = now_ns > s->now_ns ? now_ns : s->now_ns;

    if (!sl)
        return -ENOENT;
    *out = (struct vsched_slice_stats){
        .n_links = sl->n_links,
        .sent_pkts = sl->sent_pkts,
        .sent_bytes = sl->sent_bytes,
        .drops_pkts = sl->drops_pkts,
        .drops_bytes = sl->drops_bytes,
        .queued_pkts = sl->queued_pkts,
        .queued_bytes = sl->queued_bytes,
        .rate_bps = win_rate(&sl->win, s->conf.window_ns, now),
    };
    return 0;
}

void vsched_port_stats(const struct vsched *s, struct vsched_port_stats *out)
{
    *out = s->st;
}
