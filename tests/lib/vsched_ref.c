/* vsched_ref: the naive reference scheduler (see vsched_ref.h). Every rule
 * here is written straight from the definitions in lib/vsched.h; nothing is
 * cached but the tags and bucket states that the definitions themselves
 * carry from one packet to the next. */
#include "vsched_ref.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define REF_NBIT_PER_BYTE 8000000000LL
#define REF_VT_W1 (1ULL << 30)
#define REF_NONE UINT64_MAX

struct ref_bucket {
    uint64_t rate;  /* bits/s; 0 = no bucket */
    __int128 depth; /* nanobits */
    __int128 tok;   /* nanobits at t */
    uint64_t t;
    uint64_t ready; /* when tok came or comes back to >= 0 */
};

struct ref_pkt {
    void *pkt;
    uint32_t len;
};

struct ref_fifo {
    struct ref_pkt *v; /* v[0] is the head; shifted on removal */
    uint32_t n, limit_pkts, limit_bytes;
    uint64_t bytes;
};

struct ref_link {
    bool live;
    uint32_t id, slice;
    size_t si; /* index of its slice in ref_sched.slices */
    struct vsched_link_conf conf;
    struct ref_bucket g, c;
    uint64_t start, finish, since;
    bool eligible; /* backlogged and own ceiling not in debt, last scan */
    struct ref_fifo q[VSCHED_TCLASS_MAX];
    struct ref_link_counts n;
};

struct ref_slice {
    bool live;
    uint32_t id;
    struct vsched_slice_conf conf;
    struct ref_bucket g, c;
    uint64_t start, finish, vt, since;
    bool active; /* ceiling not in debt and an eligible link, last scan */
    struct ref_link *top; /* its eligible link with the smallest start tag */
};

struct ref_sched {
    struct vsched_port_conf conf;
    struct ref_bucket port;
    uint64_t now, vt;
    struct ref_slice *slices;
    struct ref_link *links;
    size_t n_slices, n_links; /* array sizes; dead entries stay */
};

/* ---- buckets ---- */

static void rb_init(struct ref_bucket *b, uint64_t rate, uint32_t burst)
{
    memset(b, 0, sizeof(*b));
    b->rate = rate;
    b->depth = (__int128)burst * REF_NBIT_PER_BYTE;
    b->tok = b->depth;
}

static void rb_fill(struct ref_bucket *b, uint64_t now)
{
    if (now > b->t) {
        b->tok += (__int128)b->rate * (now - b->t);
        if (b->tok > b->depth)
            b->tok = b->depth;
        b->t = now;
    }
}

static uint64_t rb_ready_after(const struct ref_bucket *b)
{
    __int128 debt = -b->tok;

    return b->t + (uint64_t)((debt + b->rate - 1) / b->rate);
}

static void rb_charge(struct ref_bucket *b, uint32_t len, uint64_t now)
{
    rb_fill(b, now);
    b->tok -= (__int128)len * REF_NBIT_PER_BYTE;
    b->ready = b->tok >= 0 ? now : rb_ready_after(b);
}

/* Not in debt at 'now', found by filling a copy (not from 'ready'). */
static bool rb_ok(const struct ref_bucket *b, uint64_t now)
{
    struct ref_bucket x = *b;

    if (!x.rate)
        return true;
    rb_fill(&x, now);
    return x.tok >= 0;
}

static void rb_set(struct ref_bucket *b, uint64_t rate, uint32_t burst,
                   uint64_t now)
{
    if (!b->rate || !rate) {
        rb_init(b, rate, burst);
        return;
    }
    rb_fill(b, now);
    b->rate = rate;
    b->depth = (__int128)burst * REF_NBIT_PER_BYTE;
    if (b->tok > b->depth)
        b->tok = b->depth;
    if (b->tok < 0)
        b->ready = rb_ready_after(b);
}

static uint32_t ref_burst(uint32_t b)
{
    return b ? b : VSCHED_BURST_DEFAULT_BYTES;
}

/* ---- lookups (linear) ---- */

static struct ref_slice *ref_slice_get(const struct ref_sched *r, uint32_t id)
{
    for (size_t i = 0; i < r->n_slices; i++)
        if (r->slices[i].live && r->slices[i].id == id)
            return &r->slices[i];
    return NULL;
}

static struct ref_link *ref_link_get(const struct ref_sched *r, uint32_t id)
{
    for (size_t i = 0; i < r->n_links; i++)
        if (r->links[i].live && r->links[i].id == id)
            return &r->links[i];
    return NULL;
}

static uint64_t ref_slice_links_rate(const struct ref_sched *r, uint32_t sid)
{
    uint64_t sum = 0;

    for (size_t i = 0; i < r->n_links; i++)
        if (r->links[i].live && r->links[i].slice == sid)
            sum += r->links[i].conf.rate_bps;
    return sum;
}

static uint64_t ref_slices_rate(const struct ref_sched *r)
{
    uint64_t sum = 0;

    for (size_t i = 0; i < r->n_slices; i++)
        if (r->slices[i].live)
            sum += r->slices[i].conf.rate_bps;
    return sum;
}

static uint32_t ref_queued(const struct ref_link *l)
{
    uint32_t n = 0;

    for (unsigned c = 0; c < l->conf.n_tclasses; c++)
        n += l->q[c].n;
    return n;
}

/* The first non-empty class of a backlogged link. */
static struct ref_fifo *ref_head_fifo(struct ref_link *l)
{
    unsigned c = 0;

    while (c + 1 < l->conf.n_tclasses && !l->q[c].n)
        c++;
    return &l->q[c];
}

static bool ref_slice_queued(const struct ref_sched *r, uint32_t sid)
{
    for (size_t i = 0; i < r->n_links; i++)
        if (r->links[i].live && r->links[i].slice == sid &&
            ref_queued(&r->links[i]))
            return true;
    return false;
}

static void ref_drop(const struct ref_sched *r, void *pkt)
{
    if (r->conf.free_pkt)
        r->conf.free_pkt(pkt, r->conf.free_ctx);
}

/* ---- configuration (same rules as sched.h, written out plainly) ---- */

struct ref_sched *ref_new(const struct vsched_port_conf *port)
{
    struct ref_sched *r;

    if (!port->rate_bps || port->rate_bps > VSCHED_RATE_MAX_BPS ||
        port->burst_bytes > VSCHED_BURST_MAX_BYTES)
        return NULL;
    r = calloc(1, sizeof(*r));
    r->conf = *port;
    if (!r->conf.window_ns)
        r->conf.window_ns = VSCHED_WINDOW_DEFAULT_NS;
    rb_init(&r->port, port->rate_bps, ref_burst(port->burst_bytes));
    return r;
}

static int ref_rates_bad(uint64_t rate, uint64_t ceil, uint32_t burst,
                         uint32_t weight)
{
    return rate > VSCHED_RATE_MAX_BPS || ceil > VSCHED_RATE_MAX_BPS ||
           (ceil && ceil < rate) || burst > VSCHED_BURST_MAX_BYTES ||
           weight < 1 || weight > VSCHED_WEIGHT_MAX;
}

static int ref_slice_conf_check(const struct ref_sched *r,
                                const struct ref_slice *old,
                                const struct vsched_slice_conf *c)
{
    uint64_t others = ref_slices_rate(r) - (old ? old->conf.rate_bps : 0);

    if (ref_rates_bad(c->rate_bps, c->ceil_bps, c->burst_bytes, c->weight) ||
        c->ceil_bps > r->conf.rate_bps)
        return -EINVAL;
    if (others + c->rate_bps > r->conf.rate_bps)
        return -ENOSPC;
    if (old && c->rate_bps < ref_slice_links_rate(r, old->id))
        return -ENOSPC;
    return 0;
}

int ref_slice_add(struct ref_sched *r, uint32_t id,
                  const struct vsched_slice_conf *c)
{
    struct ref_slice *sl;
    int rc;

    if (ref_slice_get(r, id))
        return -EEXIST;
    if ((rc = ref_slice_conf_check(r, NULL, c)))
        return rc;
    r->slices = realloc(r->slices, (r->n_slices + 1) * sizeof(*sl));
    sl = &r->slices[r->n_slices++];
    memset(sl, 0, sizeof(*sl));
    sl->live = true;
    sl->id = id;
    sl->conf = *c;
    rb_init(&sl->g, c->rate_bps, ref_burst(c->burst_bytes));
    rb_init(&sl->c, c->ceil_bps, ref_burst(c->burst_bytes));
    sl->finish = r->vt;
    return 0;
}

static uint64_t ref_advance(struct ref_sched *r, uint64_t now)
{
    if (now > r->now)
        r->now = now;
    return r->now;
}

int ref_slice_update(struct ref_sched *r, uint32_t id,
                     const struct vsched_slice_conf *c, uint64_t now)
{
    struct ref_slice *sl = ref_slice_get(r, id);
    int rc;

    now = ref_advance(r, now);
    if (!sl)
        return -ENOENT;
    if ((rc = ref_slice_conf_check(r, sl, c)))
        return rc;
    rb_set(&sl->g, c->rate_bps, ref_burst(c->burst_bytes), now);
    rb_set(&sl->c, c->ceil_bps, ref_burst(c->burst_bytes), now);
    sl->conf = *c;
    return 0;
}

static void ref_fifo_drop_tail(struct ref_sched *r, struct ref_fifo *q,
                               uint32_t keep)
{
    while (q->n > keep) {
        q->n--;
        q->bytes -= q->v[q->n].len;
        ref_drop(r, q->v[q->n].pkt);
    }
}

static void ref_link_kill(struct ref_sched *r, struct ref_link *l)
{
    for (unsigned c = 0; c < VSCHED_TCLASS_MAX; c++) {
        ref_fifo_drop_tail(r, &l->q[c], 0);
        free(l->q[c].v);
        l->q[c].v = NULL;
    }
    l->live = false;
}

int ref_slice_del(struct ref_sched *r, uint32_t id, uint64_t now)
{
    struct ref_slice *sl = ref_slice_get(r, id);

    ref_advance(r, now);
    if (!sl)
        return -ENOENT;
    for (size_t i = 0; i < r->n_links; i++)
        if (r->links[i].live && r->links[i].slice == id)
            ref_link_kill(r, &r->links[i]);
    sl->live = false;
    return 0;
}

static int ref_link_conf_check(const struct ref_sched *r,
                               const struct ref_link *old,
                               const struct ref_slice *sl,
                               const struct vsched_link_conf *c)
{
    uint64_t others =
        ref_slice_links_rate(r, sl->id) - (old ? old->conf.rate_bps : 0);

    if (ref_rates_bad(c->rate_bps, c->ceil_bps, c->burst_bytes, c->weight) ||
        c->n_tclasses < 1 || c->n_tclasses > VSCHED_TCLASS_MAX)
        return -EINVAL;
    for (unsigned i = 0; i < c->n_tclasses; i++)
        if (c->queue[i].limit_pkts < 1 ||
            c->queue[i].limit_pkts > VSCHED_QUEUE_MAX_PKTS)
            return -EINVAL;
    if (others + c->rate_bps > sl->conf.rate_bps)
        return -ENOSPC;
    return 0;
}

static void ref_link_set_queues(struct ref_sched *r, struct ref_link *l,
                                const struct vsched_link_conf *c)
{
    for (unsigned i = 0; i < VSCHED_TCLASS_MAX; i++) {
        struct ref_fifo *q = &l->q[i];

        if (i >= c->n_tclasses) {
            ref_fifo_drop_tail(r, q, 0);
            continue;
        }
        ref_fifo_drop_tail(r, q, c->queue[i].limit_pkts);
        if (c->queue[i].limit_bytes)
            while (q->bytes > c->queue[i].limit_bytes)
                ref_fifo_drop_tail(r, q, q->n - 1);
        q->limit_pkts = c->queue[i].limit_pkts;
        q->limit_bytes = c->queue[i].limit_bytes;
        q->v = realloc(q->v, q->limit_pkts * sizeof(*q->v));
    }
}

int ref_link_add(struct ref_sched *r, uint32_t slice_id, uint32_t id,
                 const struct vsched_link_conf *c)
{
    struct ref_slice *sl;
    struct ref_link *l;
    int rc;

    if (ref_link_get(r, id))
        return -EEXIST;
    if (!(sl = ref_slice_get(r, slice_id)))
        return -ENOENT;
    if ((rc = ref_link_conf_check(r, NULL, sl, c)))
        return rc;
    r->links = realloc(r->links, (r->n_links + 1) * sizeof(*l));
    l = &r->links[r->n_links++];
    memset(l, 0, sizeof(*l));
    l->live = true;
    l->id = id;
    l->slice = slice_id;
    l->si = (size_t)(sl - r->slices);
    l->conf = *c;
    rb_init(&l->g, c->rate_bps, ref_burst(c->burst_bytes));
    rb_init(&l->c, c->ceil_bps, ref_burst(c->burst_bytes));
    l->finish = sl->vt;
    ref_link_set_queues(r, l, c);
    return 0;
}

int ref_link_update(struct ref_sched *r, uint32_t id,
                    const struct vsched_link_conf *c, uint64_t now)
{
    struct ref_link *l = ref_link_get(r, id);
    int rc;

    now = ref_advance(r, now);
    if (!l)
        return -ENOENT;
    if ((rc = ref_link_conf_check(r, l, ref_slice_get(r, l->slice), c)))
        return rc;
    rb_set(&l->g, c->rate_bps, ref_burst(c->burst_bytes), now);
    rb_set(&l->c, c->ceil_bps, ref_burst(c->burst_bytes), now);
    ref_link_set_queues(r, l, c);
    l->conf = *c;
    return 0;
}

int ref_link_del(struct ref_sched *r, uint32_t id, uint64_t now)
{
    struct ref_link *l = ref_link_get(r, id);

    ref_advance(r, now);
    if (!l)
        return -ENOENT;
    ref_link_kill(r, l);
    return 0;
}

void ref_free(struct ref_sched *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n_links; i++)
        if (r->links[i].live)
            ref_link_kill(r, &r->links[i]);
    free(r->links);
    free(r->slices);
    free(r);
}

/* ---- the data path, by brute force ---- */

static bool ref_before(uint64_t ka, uint32_t ia, uint64_t kb, uint32_t ib)
{
    int64_t d = (int64_t)(ka - kb);

    return d < 0 || (d == 0 && ia < ib);
}

static uint64_t ref_sfq_start(uint64_t vt, uint64_t finish)
{
    uint64_t ahead = finish - vt;

    return ahead > 0 && ahead <= (uint64_t)VSCHED_PKT_MAX_BYTES * REF_VT_W1
               ? finish
               : vt;
}

static uint64_t ref_deadline(const struct ref_bucket *g, uint64_t since,
                             uint32_t len)
{
    uint64_t start = g->ready > since ? g->ready : since;

    return start + (uint64_t)((__int128)len * REF_NBIT_PER_BYTE / g->rate);
}

/* Eligibility flags, the tags of whoever just became eligible, and each
 * slice's SFQ choice among its links. */
static void ref_scan(struct ref_sched *r, uint64_t now)
{
    for (size_t i = 0; i < r->n_slices; i++)
        r->slices[i].top = NULL;
    for (size_t i = 0; i < r->n_links; i++) {
        struct ref_link *l = &r->links[i];
        struct ref_slice *sl = &r->slices[l->si];
        bool e = l->live && ref_queued(l) && rb_ok(&l->c, now);

        if (e && !l->eligible)
            l->start = ref_sfq_start(sl->vt, l->finish);
        l->eligible = e;
        if (e && (!sl->top ||
                  ref_before(l->start, l->id, sl->top->start, sl->top->id)))
            sl->top = l;
    }
    for (size_t i = 0; i < r->n_slices; i++) {
        struct ref_slice *sl = &r->slices[i];
        bool a = sl->live && sl->top && rb_ok(&sl->c, now);

        if (a && !sl->active)
            sl->start = ref_sfq_start(r->vt, sl->finish);
        sl->active = a;
    }
}

static void *ref_send(struct ref_sched *r, struct ref_link *l, int level,
                      uint64_t now)
{
    struct ref_slice *sl = &r->slices[l->si];
    struct ref_fifo *q = ref_head_fifo(l);
    struct ref_pkt p = q->v[0];

    memmove(q->v, q->v + 1, (q->n - 1) * sizeof(*q->v));
    q->n--;
    q->bytes -= p.len;
    rb_charge(&r->port, p.len, now);
    if (l->c.rate)
        rb_charge(&l->c, p.len, now);
    if (sl->c.rate)
        rb_charge(&sl->c, p.len, now);
    if (level == 0)
        rb_charge(&l->g, p.len, now);
    if (level <= 1 && sl->g.rate)
        rb_charge(&sl->g, p.len, now);
    if (level >= 1) {
        sl->vt = l->start;
        l->finish = l->start + p.len * (REF_VT_W1 / l->conf.weight);
        l->start = l->finish;
    }
    if (level == 2) {
        r->vt = sl->start;
        sl->finish = sl->start + p.len * (REF_VT_W1 / sl->conf.weight);
        sl->start = sl->finish;
    }
    l->since = now;
    sl->since = now;
    l->n.sent_pkts++;
    l->n.sent_bytes += p.len;
    return p.pkt;
}

int ref_dequeue(struct ref_sched *r, uint64_t now, void **pkts,
                uint32_t *link_ids, int max)
{
    int n = 0;

    now = ref_advance(r, now);
    while (n < max && rb_ok(&r->port, now)) {
        struct ref_link *best = NULL;
        struct ref_slice *bs = NULL;
        uint64_t bkey = 0;
        int level = 0;

        ref_scan(r, now);
        /* Level 0: links below their guarantee, earliest deadline. */
        for (size_t i = 0; i < r->n_links; i++) {
            struct ref_link *l = &r->links[i];
            uint64_t key;

            if (!l->eligible || !l->g.rate || !rb_ok(&l->g, now) ||
                !rb_ok(&r->slices[l->si].c, now))
                continue;
            key = ref_deadline(&l->g, l->since, ref_head_fifo(l)->v[0].len);
            if (!best || ref_before(key, l->id, bkey, best->id))
                best = l, bkey = key;
        }
        /* Level 1: slices below their guarantee, earliest deadline. */
        for (size_t i = 0; !best && i < r->n_slices; i++) {
            struct ref_slice *sl = &r->slices[i];
            uint64_t key;

            if (!sl->active || !sl->g.rate || !rb_ok(&sl->g, now))
                continue;
            key = ref_deadline(&sl->g, sl->since,
                               ref_head_fifo(sl->top)->v[0].len);
            if (!bs || ref_before(key, sl->id, bkey, bs->id))
                bs = sl, bkey = key, level = 1;
        }
        /* Level 2: the port's spare capacity, by slice start tags. */
        for (size_t i = 0; !best && level != 1 && i < r->n_slices; i++) {
            struct ref_slice *sl = &r->slices[i];

            if (sl->active &&
                (!bs || ref_before(sl->start, sl->id, bs->start, bs->id)))
                bs = sl, level = 2;
        }
        if (!best && !bs)
            break;
        if (!best)
            best = bs->top;
        if (link_ids)
            link_ids[n] = best->id;
        pkts[n++] = ref_send(r, best, level, now);
    }
    ref_scan(r, now);
    return n;
}

int ref_enqueue(struct ref_sched *r, uint32_t link_id, unsigned tclass,
                void *pkt, uint32_t len, uint64_t now)
{
    struct ref_link *l = ref_link_get(r, link_id);
    struct ref_fifo *q;

    now = ref_advance(r, now);
    if (!l || !len || len > VSCHED_PKT_MAX_BYTES) {
        ref_drop(r, pkt);
        return -1;
    }
    if (tclass >= l->conf.n_tclasses)
        tclass = l->conf.n_tclasses - 1;
    q = &l->q[tclass];
    if (q->n == q->limit_pkts ||
        (q->limit_bytes && q->bytes + len > q->limit_bytes)) {
        if (l->g.rate && rb_ok(&l->g, now) && rb_ok(&l->c, now))
            l->n.drops_others_pkts++;
        else
            l->n.drops_own_pkts++;
        ref_drop(r, pkt);
        return -1;
    }
    if (!ref_queued(l))
        l->since = now;
    if (!ref_slice_queued(r, l->slice))
        r->slices[l->si].since = now;
    q->v[q->n++] = (struct ref_pkt){pkt, len};
    q->bytes += len;
    ref_scan(r, now);
    return 0;
}

uint64_t ref_next_ns(struct ref_sched *r, uint64_t now)
{
    uint64_t best = REF_NONE;

    now = now > r->now ? now : r->now;
    for (size_t i = 0; i < r->n_links; i++) {
        struct ref_link *l = &r->links[i];
        struct ref_slice *sl;
        uint64_t t = now;

        if (!l->live || !ref_queued(l))
            continue;
        sl = &r->slices[l->si];
        if (!rb_ok(&l->c, now) && l->c.ready > t)
            t = l->c.ready;
        if (!rb_ok(&sl->c, now) && sl->c.ready > t)
            t = sl->c.ready;
        if (t < best)
            best = t;
    }
    if (best != REF_NONE && !rb_ok(&r->port, now) && r->port.ready > best)
        best = r->port.ready;
    return best;
}

int ref_link_counts(const struct ref_sched *r, uint32_t id,
                    struct ref_link_counts *out)
{
    struct ref_link *l = ref_link_get(r, id);

    if (!l)
        return -ENOENT;
    *out = l->n;
    out->queued_pkts = ref_queued(l);
    return 0;
}
