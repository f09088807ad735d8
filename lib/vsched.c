/* sched: hierarchical WFQ and shaping for the redirector's data path.
 *
 * How the semantics of sched.h are kept in O(log n) per packet:
 *  - every bucket remembers when it comes out of debt ('ready_ns'), so
 *    "may it send at now?" is one comparison, and a node that may not send
 *    waits for that time in a timer wheel (exact times; timers beyond its
 *    horizon wait in a heap);
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
 * Memory layout (with thousands of backlogged links, fair queueing visits a
 * different link for nearly every packet, so what a decision touches is
 * cold; docs/scheduler.md, "Cost", has the measurements):
 *  - links and slices live in arrays indexed by a slot number, and every
 *    reference between them is a slot, not a pointer;
 *  - what a decision reads and writes is in "hot" records of two cache
 *    lines ('struct link', 'struct slice'), and a link's queue state and
 *    counters in a third array ('struct link_q', one line for class 0);
 *    configuration, statistics and the delay histograms are in cold arrays;
 *  - heap entries carry their key, tie and slot, and the heaps' positions
 *    are dense arrays indexed by slot, so a sift never touches a node;
 *  - the length of every link's head packet is kept in a dense array, and
 *    each queue keeps the length of the packet after its head: decisions
 *    and charges never wait for a ring slot, and a slice's deadline does
 *    not read its top link's queue;
 *  - each slice's heaps of links have their tops copied into one dense
 *    line per slice, which is what choosing a link reads;
 *  - the records of the chosen link and slice are prefetched as soon as
 *    they are known;
 *  - a ring slot is 16 bytes (the length and the enqueue time share a
 *    word);
 *  - a link counts its run of delays in one histogram bucket in its hot
 *    record, and a run that ends is buffered during a dequeue and added to
 *    the cold histogram after it, with prefetches, instead of one cold miss
 *    per packet on the way of the next decision.
 *
 * Quantum mode (vsched_port_conf.quantum_bytes > 0): a decision is followed
 * by the rest of its visit, further packets of the same link at the same
 * level while they fit in the quantum (visit_next), and the link and its
 * slice are refreshed once, after the visit; a guarantee that the visit
 * left in debt, or under a quantum after using the whole quantum, re-arms
 * at min(quantum, burst) - 1 byte rather than 0 (tb_rearm), so that visits
 * at the guarantee levels are a quantum long too. Every packet is charged
 * as in exact mode. Quantum 0 is the exact mode.
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
#define NONE UINT32_MAX /* no slot */
#define CACHE_LINE 64

#define prefetch_w(p) __builtin_prefetch((p), 1, 3)

/* ---- token bucket ---- */

/* Its depth is the owner's burst (a link's or slice's guarantee and ceiling
 * share one), given to the calls that need it. */
struct tb {
    uint64_t rate_bps; /* 0: the bucket does not exist */
    int64_t tok_nbit;  /* tokens at t_ns */
    uint64_t t_ns;
    uint64_t ready_ns; /* when tok_nbit is (or was) back to >= 0 */
};

static int64_t depth_nbit(uint32_t burst_bytes)
{
    return (int64_t)burst_bytes * NBIT_PER_BYTE;
}

static void tb_init(struct tb *b, uint64_t rate_bps, uint32_t burst_bytes)
{
    b->rate_bps = rate_bps;
    b->tok_nbit = depth_nbit(burst_bytes);
    b->t_ns = 0;
    b->ready_ns = 0;
}

static void tb_fill(struct tb *b, int64_t depth, uint64_t now)
{
    uint64_t add, room;

    if (now <= b->t_ns)
        return;
    add = now - b->t_ns;
    b->t_ns = now;
    if (b->tok_nbit >= depth)
        return;
    room = (uint64_t)(depth - b->tok_nbit);
    if (__builtin_mul_overflow(add, b->rate_bps, &add) || add >= room)
        b->tok_nbit = depth;
    else
        b->tok_nbit += (int64_t)add;
}

/* When a bucket holding 'tok' (< 0) at 'now' is back to 0. */
static uint64_t tb_ready_after(const struct tb *b, uint64_t now)
{
    uint64_t debt = (uint64_t)-b->tok_nbit;

    return now + debt / b->rate_bps + (debt % b->rate_bps != 0);
}

static void tb_charge(struct tb *b, int64_t depth, uint32_t len, uint64_t now)
{
    tb_fill(b, depth, now);
    b->tok_nbit -= (int64_t)len * NBIT_PER_BYTE;
    if (b->tok_nbit < -TOK_DEBT_MAX)
        b->tok_nbit = -TOK_DEBT_MAX;
    b->ready_ns = b->tok_nbit >= 0 ? now : tb_ready_after(b, now);
}

/* Quantum mode: a guarantee charged by a visit (at 'now') that left it in
 * debt, or that used the whole quantum and left it less than a quantum, is
 * next eligible once it holds 'again', one byte under min(quantum, burst),
 * rather than at 0. Its node is then served for a visit of a quantum, which
 * ends in debt, rather than for one packet per timer, or for a quantum and
 * then for what was left over, in turn (see docs/scheduler.md). Tokens are
 * charged as always, so its long-run rate is unchanged. */
static void tb_rearm(struct tb *b, uint32_t burst_bytes, uint32_t quantum_bytes,
                     bool whole_quantum, uint64_t now)
{
    int64_t again = depth_nbit(
        (quantum_bytes < burst_bytes ? quantum_bytes : burst_bytes) - 1);
    uint64_t need;

    if (b->tok_nbit >= again || (b->tok_nbit >= 0 && !whole_quantum))
        return;
    need = (uint64_t)(again - b->tok_nbit);
    b->ready_ns = now + need / b->rate_bps + (need % b->rate_bps != 0);
}

/* New rate and burst at 'now' (see sched.h: tokens kept, cut to the burst;
 * a bucket that did not exist starts full). 'old_burst' is the depth it had. */
static void tb_set(struct tb *b, uint32_t old_burst, uint64_t rate_bps,
                   uint32_t burst_bytes, uint64_t now)
{
    int64_t depth = depth_nbit(burst_bytes);

    if (!b->rate_bps || !rate_bps) {
        tb_init(b, rate_bps, burst_bytes);
        return;
    }
    tb_fill(b, depth_nbit(old_burst), now);
    b->rate_bps = rate_bps;
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

/* ---- indexed 4-ary min-heap ---- */

/* An entry names its owner by slot ('idx'); the owner's position (index + 1,
 * 0 when absent) is pos[idx] in an array the caller passes, dense so that a
 * sift stays inside the heap and that array. Entries are 16 bytes and the
 * array is placed so that the four children of a node share a cache line:
 * a sift touches one line per level, and there are half the levels of a
 * binary heap. */
struct hent {
    uint64_t key;
    uint32_t tie;
    uint32_t idx;
};

#define HEAP_PAD 3 /* entries before v[0]: children 4i+1..4i+4 aligned */

struct heap {
    struct hent *v; /* v - heap_pad(cap) is the allocation */
    uint32_t n, cap;
};

/* Keys compare modulo 2^64 (SFQ tags wrap; times never get near it).
 * Without branches: which child is smallest is a coin toss for a branch
 * predictor, and a sift makes several such choices. */
static bool hent_less(const struct hent *a, const struct hent *b)
{
    int64_t d = (int64_t)(a->key - b->key);

    return (d < 0) | ((d == 0) & (a->tie < b->tie));
}

/* 'lt' ? b : a, without a branch (compilers do not always see it). */
static uint32_t select_u32(bool lt, uint32_t b, uint32_t a)
{
    return a ^ ((a ^ b) & -(uint32_t)lt);
}

/* Index of the smallest of the 'n' (1..4) entries from v[c]. */
static uint32_t heap_min_child(const struct hent *v, uint32_t c, uint32_t n)
{
    uint32_t a, b;

    if (n == 4) {
        a = c + hent_less(&v[c + 1], &v[c]);
        b = c + 2 + hent_less(&v[c + 3], &v[c + 2]);
        return select_u32(hent_less(&v[b], &v[a]), b, a);
    }
    a = c;
    for (b = c + 1; b < c + n; b++)
        a = select_u32(hent_less(&v[b], &v[a]), b, a);
    return a;
}

static void heap_sift_up(struct heap *h, uint32_t *pos, uint32_t i,
                         struct hent e)
{
    while (i > 0) {
        uint32_t p = (i - 1) / 4;

        if (!hent_less(&e, &h->v[p]))
            break;
        h->v[i] = h->v[p];
        pos[h->v[i].idx] = i + 1;
        i = p;
    }
    h->v[i] = e;
    pos[e.idx] = i + 1;
}

static void heap_sift_down(struct heap *h, uint32_t *pos, uint32_t i,
                           struct hent e)
{
    for (;;) {
        uint32_t c = 4 * i + 1, m;

        if (c >= h->n)
            break;
        m = heap_min_child(h->v, c, h->n - c < 4 ? h->n - c : 4);
        if (!hent_less(&h->v[m], &e))
            break;
        h->v[i] = h->v[m];
        pos[h->v[i].idx] = i + 1;
        i = m;
    }
    h->v[i] = e;
    pos[e.idx] = i + 1;
}

/* Puts 'e' at index 'i' (a hole) and moves it to where it belongs. */
static void heap_fix(struct heap *h, uint32_t *pos, uint32_t i, struct hent e)
{
    if (i > 0 && hent_less(&e, &h->v[(i - 1) / 4]))
        heap_sift_up(h, pos, i, e);
    else
        heap_sift_down(h, pos, i, e);
}

/* Entries before v[0] in a heap of 'cap': none while the whole heap fits
 * one line (a slice's heaps of its few links), HEAP_PAD beyond. */
static uint32_t heap_pad(uint32_t cap)
{
    return cap * sizeof(struct hent) <= CACHE_LINE ? 0 : HEAP_PAD;
}

static int heap_reserve(struct heap *h, uint32_t n)
{
    void *p;
    uint32_t cap, pad;

    if (n <= h->cap)
        return 0;
    cap = h->cap ? h->cap : 4;
    while (cap < n)
        cap *= 2;
    pad = heap_pad(cap);
    if (posix_memalign(&p, CACHE_LINE, (cap + pad) * sizeof(*h->v)))
        return -ENOMEM;
    if (h->n)
        memcpy((struct hent *)p + pad, h->v, h->n * sizeof(*h->v));
    if (h->v)
        free(h->v - heap_pad(h->cap));
    h->v = (struct hent *)p + pad;
    h->cap = cap;
    return 0;
}

static void heap_free(struct heap *h)
{
    if (h->v)
        free(h->v - heap_pad(h->cap));
    h->v = NULL;
    h->n = h->cap = 0;
}

static void heap_remove(struct heap *h, uint32_t *pos, uint32_t idx)
{
    uint32_t i;

    if (!pos[idx])
        return;
    i = pos[idx] - 1;
    pos[idx] = 0;
    if (i != --h->n)
        heap_fix(h, pos, i, h->v[h->n]);
}

/* Inserts, moves or removes the entry of 'idx' ('in' false: remove). The
 * capacity was reserved when the owner was added. */
static void heap_set(struct heap *h, uint32_t *pos, uint32_t idx, bool in,
                     uint64_t key, uint32_t tie)
{
    struct hent e = {key, tie, idx};
    uint32_t i;

    if (!in) {
        heap_remove(h, pos, idx);
        return;
    }
    if (pos[idx]) {
        i = pos[idx] - 1;
        if (h->v[i].key == key && h->v[i].tie == tie)
            return;
        heap_fix(h, pos, i, e);
    } else {
        heap_sift_up(h, pos, h->n++, e);
    }
}

/* ---- id -> slot map: open addressing, linear probing ---- */

struct idmap_ent {
    uint32_t id;
    uint32_t slot1; /* slot + 1; 0: free entry */
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

/* The slot of 'id', or NONE. */
static uint32_t idmap_get(const struct idmap *m, uint32_t id)
{
    if (!m->e)
        return NONE;
    for (uint32_t i = idmap_home(m, id);; i = (i + 1) & m->mask) {
        if (!m->e[i].slot1)
            return NONE;
        if (m->e[i].id == id)
            return m->e[i].slot1 - 1;
    }
}

static void idmap_put_nogrow(struct idmap *m, uint32_t id, uint32_t slot1)
{
    uint32_t i = idmap_home(m, id);

    while (m->e[i].slot1)
        i = (i + 1) & m->mask;
    m->e[i] = (struct idmap_ent){id, slot1};
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
        if (old[i].slot1)
            idmap_put_nogrow(m, old[i].id, old[i].slot1);
    free(old);
    return 0;
}

/* Removes 'id' (present), shifting later entries of its probe run back. */
static void idmap_del(struct idmap *m, uint32_t id)
{
    uint32_t i = idmap_home(m, id), j;

    while (m->e[i].id != id || !m->e[i].slot1)
        i = (i + 1) & m->mask;
    for (j = i;;) {
        uint32_t k;

        j = (j + 1) & m->mask;
        if (!m->e[j].slot1)
            break;
        k = idmap_home(m, m->e[j].id);
        /* Move e[j] into the hole at i unless its home lies in (i, j]. */
        if (((j - k) & m->mask) >= ((j - i) & m->mask)) {
            m->e[i] = m->e[j];
            i = j;
        }
    }
    m->e[i].slot1 = 0;
    m->n--;
}

/* ---- queueing-delay histogram and windowed rate ---- */

/* Eight sub-buckets per power of two: values below 8 exact, others within
 * 12.5 %; delays from 2^44 ns (~4.9 h) up share the last bucket. The number
 * of samples is the sum of the counts (computed when asked). */
#define HIST_SUB_BITS 3
#define HIST_SUB (1u << HIST_SUB_BITS)
#define HIST_EXP_MAX 43
#define HIST_BUCKETS ((HIST_EXP_MAX - HIST_SUB_BITS + 2) * HIST_SUB + 1)

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

/* Adds 'n' samples to bucket 'b'. */
static void hist_add(uint32_t count[HIST_BUCKETS], unsigned b, uint32_t n)
{
    while (count[b] > UINT32_MAX - n) {
        /* Halve everything: the shape survives, old samples weigh less. */
        for (unsigned i = 0; i < HIST_BUCKETS; i++)
            count[i] /= 2;
    }
    count[b] += n;
}

/* Upper bound of the p-th permille of 'count' plus 'run_n' samples in
 * bucket 'run_b', capped at the maximum 'max'. */
static uint64_t hist_pct(const uint32_t count[HIST_BUCKETS], unsigned run_b,
                         uint32_t run_n, uint64_t max, unsigned permille)
{
    uint64_t n = run_n, rank, seen = 0;

    for (unsigned b = 0; b < HIST_BUCKETS; b++)
        n += count[b];
    if (!n)
        return 0;
    rank = (n * permille + 999) / 1000;
    if (!rank)
        rank = 1;
    for (unsigned b = 0; b < HIST_BUCKETS; b++) {
        seen += count[b] + (b == run_b ? run_n : 0);
        if (seen >= rank) {
            uint64_t u = hist_upper(b);
            return u < max ? u : max;
        }
    }
    return max;
}

/* Bytes sent per window [idx * W, idx * W + W), from the owner's running
 * total of bytes sent: the hot path only compares 'now' with the end of the
 * current window (kept in the hot record) and calls win_roll past it. */
struct win {
    uint64_t idx;        /* current window */
    uint64_t base_bytes; /* the running total when it started */
    uint64_t prev_bytes; /* sent in window idx - 1 */
};

/* The first send at or after '*end_ns'; 'total' is the running total before
 * it. */
static void win_roll(struct win *w, uint64_t *end_ns, uint64_t window_ns,
                     uint64_t now, uint64_t total)
{
    uint64_t idx = now / window_ns;

    w->prev_bytes = idx == w->idx + 1 ? total - w->base_bytes : 0;
    w->base_bytes = total;
    w->idx = idx;
    *end_ns = (idx + 1) * window_ns;
}

static uint64_t win_rate(const struct win *w, uint64_t end_ns,
                         uint64_t window_ns, uint64_t now, uint64_t total)
{
    uint64_t idx = now / window_ns, bytes = 0;

    if (end_ns && w->idx == idx)
        bytes = w->prev_bytes;
    else if (end_ns && w->idx + 1 == idx)
        bytes = total - w->base_bytes;
    return (uint64_t)((unsigned __int128)bytes * 8000000000u / window_ns);
}

/* ---- the hierarchy ---- */

/* A queued packet in 16 bytes, so that four share a cache line: its
 * length (1..VSCHED_PKT_MAX_BYTES) in the low SLOT_LEN_BITS bits of 'meta'
 * and its enqueue time, modulo 2^47 ns (39 hours), above them. A delay is
 * computed modulo 2^47 too, so it is exact up to 39 hours of queueing. */
struct pkt_slot {
    void *pkt;
    uint64_t meta;
};

#define SLOT_LEN_BITS 17
#define SLOT_LEN_MASK ((1ULL << SLOT_LEN_BITS) - 1)
_Static_assert(VSCHED_PKT_MAX_BYTES <= SLOT_LEN_MASK, "a length fits a slot");
_Static_assert(sizeof(struct pkt_slot) == 16, "pkt_slot: 16 bytes");

/* The smallest span of a queue (see struct queue), slots: a power of two,
 * one cache line (rings are line-aligned). */
#define SPAN_MIN 4u

static struct pkt_slot slot_make(void *pkt, uint64_t now, uint32_t len)
{
    return (struct pkt_slot){pkt, now << SLOT_LEN_BITS | len};
}

static uint32_t slot_len(const struct pkt_slot *p)
{
    return (uint32_t)(p->meta & SLOT_LEN_MASK);
}

/* How long it has been queued at 'now' (not before its enqueue). */
static uint64_t slot_delay(const struct pkt_slot *p, uint64_t now)
{
    return ((now << SLOT_LEN_BITS) - (p->meta & ~SLOT_LEN_MASK)) >>
           SLOT_LEN_BITS;
}

/* A FIFO of at most 'cap' (= limit_pkts) packets in an array of cap
 * rounded up to a power of two slots, of which it uses the first
 * span = mask + 1 (a power of two) as its ring: the span doubles when the
 * queue fills it and drops back to SPAN_MIN when the queue empties, so
 * that a queue's packets lie in about as many cache lines as it holds, not
 * as its limit allows (a ring going round all its slots would keep cap / 4
 * lines in use; see docs/scheduler.md, "Fourth pass"). */
struct queue {
    struct pkt_slot *ring;
    uint64_t bytes;
    uint32_t cap, mask, head, count; /* head <= mask, count <= mask + 1 */
    uint32_t limit_bytes;
    /* Length of the packet after the head (when count >= 2): a send takes
     * the new head's length from here and reads the ring for the one after,
     * so that no decision waits for a ring slot. */
    uint32_t next_len;
};

/* A link's hot record: what choosing it, charging it, refreshing it and
 * counting its delays read and write, in two cache lines. */
struct link {
    struct tb g;                  /* guarantee */
    uint64_t start_vt, finish_vt; /* SFQ tags among the slice's links */
    uint64_t since_ns;            /* last send, or when it became backlogged */
    uint32_t vt_per_byte;         /* 2^30 / weight */
    uint32_t slice;               /* its slice's slot */
    /* second line */
    struct tb c;         /* ceiling */
    uint64_t win_end_ns; /* end of its current rate window */
    uint64_t delay_max_ns;
    uint32_t id;
    uint32_t burst_bytes; /* depth of g and c */
    uint8_t nonempty;     /* bit c: queue c holds packets */
    uint8_t n_tclasses;
    /* The run of delays in one histogram bucket not yet added to the
     * histogram (in link_cold): consecutive packets of a queue mostly wait
     * about as long, so the cold histogram is written when the bucket
     * changes, not for every packet. */
    uint16_t run_b;
    uint32_t run_n;
} __attribute__((aligned(CACHE_LINE)));

/* Its queues and counters: class 0 and the counters in the first line.
 * What it was given is sent + queued + deleted (in link_cold). */
struct link_q {
    uint64_t sent_pkts, sent_bytes;
    struct queue q[VSCHED_TCLASS_MAX];
} __attribute__((aligned(CACHE_LINE)));

/* What only configuration and statistics read. */
struct link_cold {
    struct vsched_link_conf conf;
    uint32_t next; /* next link of its slice, or next free slot; NONE */
    uint64_t drops_own_pkts, drops_own_bytes;
    uint64_t drops_others_pkts, drops_others_bytes;
    uint64_t deleted_pkts, deleted_bytes; /* dropped by updates */
    struct win win;
    uint32_t delay[HIST_BUCKETS]; /* histogram of queueing delays */
};

struct slice {
    struct tb g;
    uint64_t start_vt, finish_vt; /* SFQ tags among the port's slices */
    uint64_t vt;                  /* SFQ virtual time of its links */
    uint64_t since_ns;            /* last send, or when it became backlogged */
    /* second line */
    struct tb c;
    uint64_t sent_pkts, sent_bytes;
    uint64_t win_end_ns;
    uint32_t vt_per_byte;
    uint32_t burst_bytes;
} __attribute__((aligned(CACHE_LINE)));

/* Its heaps of links (entries: link slots, see the top comment) and a copy
 * of their tops, which is what choosing a link and refreshing the slice
 * read: one line, without touching the heaps' arrays. */
struct slice_heaps {
    struct hent top0; /* top of h0; idx NONE when empty */
    uint32_t top_hw;  /* link at the top of hw, NONE when empty */
    struct heap hw, h0;
} __attribute__((aligned(CACHE_LINE)));

struct slice_cold {
    struct vsched_slice_conf conf;
    uint32_t links;     /* first of its links (slot), NONE */
    uint32_t next_free; /* next free slot, NONE */
    uint32_t n_links;
    uint32_t n_busy;         /* its links holding packets */
    uint64_t links_rate_bps; /* sum of its links' guarantees */
    uint64_t drops_pkts, drops_bytes;
    struct win win;
};

_Static_assert(sizeof(struct link) == 2 * CACHE_LINE, "link: two lines");
_Static_assert(sizeof(struct slice) == 2 * CACHE_LINE, "slice: two lines");
_Static_assert(sizeof(struct slice_heaps) == CACHE_LINE, "slice_heaps: a line");
_Static_assert(offsetof(struct link_q, q[1].ring) <= CACHE_LINE,
               "link_q: class 0 and the counters in one line");

/* ---- timers: a two-level wheel of exact times, and heaps beyond it ---- */

/* A link's or slice's timer: it waits for one of its buckets to come out of
 * debt. Timers are kept in a wheel of two levels of TW_SIZE buckets (O(1)
 * to set, move and cancel: most timers are set a few ms ahead and moved or
 * fired soon; a guarantee of 1 Mbit/s re-armed for a 9000-byte quantum
 * waits 72 ms), and those beyond its horizon in the heaps 'tl' and 'ts'.
 *
 * Level 0 has buckets of 2^TW_SHIFT ns (8.192 us); level 1 buckets of
 * 2^TW1_SHIFT level-0 buckets (16.8 ms), a span. With 'c' the span of the
 * cursor (the level-0 bucket of the last run), a timer in span j is in
 * level 0 if j <= c + 1 (less than 33.5 ms ahead), in level 1 if
 * j <= c + TW_SIZE (68.7 s), and in a heap beyond. When the cursor enters
 * a new span, the level-1 bucket of the span after it moves to level 0:
 * every timer moves down at most once, and where a timer is follows from
 * its key and the cursor. Every key stays exact, so vsched_next_ns is. A
 * timer is named by a tagged slot: slot << 1, | 1 for a slice. */
#define TW_SHIFT 13   /* 8.192 us per level-0 bucket */
#define TW1_SHIFT 11  /* 2048 level-0 buckets (16.8 ms) per span */
#define TW_SIZE 4096u /* buckets per level */
#define TW_MASK (TW_SIZE - 1)
#define TW_WORDS (TW_SIZE / 64)
#define TW_FAR 2 /* tw_level: beyond the wheel */
#define TIMER_LINK(li) ((li) << 1)
#define TIMER_SLICE(si) ((si) << 1 | 1u)

struct tnode {
    uint64_t key;        /* in the wheel at this time; NO_TIMER: not in it */
    uint32_t next, prev; /* in its bucket's list (tagged); NONE: end */
};

struct twlevel {
    uint32_t n;
    uint32_t head[TW_SIZE];  /* first timer of each bucket, NONE */
    uint64_t bits[TW_WORDS]; /* buckets that hold timers */
};

struct twheel {
    uint64_t cur; /* level-0 bucket (time >> TW_SHIFT) of the last run */
    struct twlevel lv[2];
};

/* Dense per-link arrays (one allocation, 'LD_N' sections of l_cap). */
enum { LD_HW_POS, LD_H0_POS, LD_TL_POS, LD_HEAD_LEN, LD_N };
/* Dense per-slice arrays. */
enum { SD_ID, SD_H0_POS, SD_H1_POS, SD_H2_POS, SD_TS_POS, SD_N };

struct vsched {
    struct vsched_port_conf conf;
    struct tb port;
    int64_t port_depth_nbit;
    uint64_t now_ns;        /* the largest 'now' seen */
    uint64_t vt;            /* SFQ virtual time of the slices */
    struct heap H0, H1, H2; /* of slices (slots) */
    struct heap tl, ts;     /* timers of links and slices beyond the wheel */
    struct twheel tw;

    /* Links, by slot. */
    struct link *l;
    struct link_q *lq;
    struct link_cold *lc;
    uint32_t *ld;                       /* dense: */
    uint32_t *hw_pos, *h0_pos, *tl_pos; /* positions in the heaps */
    uint32_t *head_len; /* length of its head packet (if it has one) */
    struct tnode *tnl;  /* its timer */
    uint32_t l_cap, l_free;

    /* Slices, by slot. */
    struct slice *sl;
    struct slice_heaps *sh;
    struct slice_cold *sc;
    uint32_t *sd; /* dense: */
    uint32_t *s_id, *H0_pos, *H1_pos, *H2_pos, *ts_pos;
    struct tnode *tns;
    uint32_t s_cap, s_free;

    struct idmap slices, links; /* id -> slot */
    uint64_t slices_rate_bps;
    struct vsched_port_stats st;
};

/* A run of delays waiting for its histogram (see vsched_dequeue). */
struct delay_rec {
    uint32_t link;   /* slot */
    uint32_t bucket; /* hist_index of the delays */
    uint32_t n;      /* how many; 0: no record */
};

#define DELAY_BATCH 32

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

static uint32_t link_of(const struct vsched *s, uint32_t id)
{
    return idmap_get(&s->links, id);
}

static uint32_t slice_of(const struct vsched *s, uint32_t id)
{
    return idmap_get(&s->slices, id);
}

/* The slot of the packet 'k' places behind the head of 'q' (k <= mask). */
static struct pkt_slot *q_slot(const struct queue *q, uint32_t k)
{
    return &q->ring[(q->head + k) & q->mask];
}

/* Length of the packet after the head of a queue that holds two. */
static uint32_t second_len(const struct queue *q)
{
    return slot_len(q_slot(q, 1));
}

/* Makes empty queue 'q' start again at the front of its ring. */
static void q_restart(struct queue *q)
{
    q->head = 0;
    q->mask = SPAN_MIN - 1;
}

/* Doubles the span of 'q', full at it (count == span < cap, so the array
 * holds twice the span). The packets from the head to the end of the old
 * span move to the end of the new one, so that the FIFO order stays: a
 * queue growing to its limit copies fewer slots than its limit. */
static void q_grow(struct queue *q)
{
    uint32_t span = q->mask + 1, upper = span - q->head;

    if (q->head) {
        memmove(&q->ring[2 * span - upper], &q->ring[q->head],
                upper * sizeof(*q->ring));
        q->head = 2 * span - upper;
    }
    q->mask = 2 * span - 1;
}

/* Slots of the array of a queue of at most 'cap' packets: the smallest
 * span that holds 'cap'. */
static uint32_t ring_slots(uint32_t cap)
{
    uint32_t n = SPAN_MIN;

    while (n < cap)
        n *= 2;
    return n;
}

/* The head packet of a link that holds one. */
static const struct pkt_slot *link_head(const struct link *l,
                                        const struct link_q *lq)
{
    const struct queue *q = &lq->q[__builtin_ctz(l->nonempty)];

    return &q->ring[q->head];
}

static struct tnode *tnode_of(const struct vsched *s, uint32_t t)
{
    return t & 1 ? &s->tns[t >> 1] : &s->tnl[t >> 1];
}

/* Where a timer at 'key' (not before the cursor) belongs: wheel level 0
 * or 1, or TW_FAR; and its bucket there. */
static int tw_level(const struct twheel *w, uint64_t key, uint32_t *b)
{
    uint64_t kb = key >> TW_SHIFT, j = kb >> TW1_SHIFT;
    uint64_t c = w->cur >> TW1_SHIFT;

    if (j <= c + 1) {
        *b = (uint32_t)kb & TW_MASK;
        return 0;
    }
    *b = (uint32_t)j & TW_MASK;
    return j - c <= TW_SIZE ? 1 : TW_FAR;
}

/* Puts timer 't' at 'key' in bucket 'b' of level 'lv' of the wheel. */
static void tw_link(struct vsched *s, uint32_t t, uint64_t key,
                    struct twlevel *lv, uint32_t b)
{
    struct tnode *x = tnode_of(s, t);

    x->key = key;
    x->prev = NONE;
    x->next = lv->head[b];
    if (x->next != NONE)
        tnode_of(s, x->next)->prev = t;
    else
        lv->bits[b / 64] |= 1ULL << (b % 64);
    lv->head[b] = t;
    lv->n++;
}

static void tw_unlink(struct vsched *s, uint32_t t)
{
    struct tnode *x = tnode_of(s, t);
    uint32_t b;
    struct twlevel *lv = &s->tw.lv[tw_level(&s->tw, x->key, &b)];

    if (x->prev != NONE)
        tnode_of(s, x->prev)->next = x->next;
    else if ((lv->head[b] = x->next) == NONE)
        lv->bits[b / 64] &= ~(1ULL << (b % 64));
    if (x->next != NONE)
        tnode_of(s, x->next)->prev = x->prev;
    x->key = NO_TIMER;
    lv->n--;
}

/* Sets timer 't' to 'key' (after the cursor), or cancels it (NO_TIMER). */
static void set_timer_move(struct vsched *s, uint32_t t, uint64_t key)
{
    struct tnode *x = tnode_of(s, t);
    uint32_t slot = t >> 1, b;
    struct heap *far = t & 1 ? &s->ts : &s->tl;
    uint32_t *pos = t & 1 ? s->ts_pos : s->tl_pos;
    int level = key != NO_TIMER ? tw_level(&s->tw, key, &b) : TW_FAR;

    if (x->key != NO_TIMER)
        tw_unlink(s, t);
    if (level != TW_FAR) {
        heap_remove(far, pos, slot);
        tw_link(s, t, key, &s->tw.lv[level], b);
    } else {
        heap_set(far, pos, slot, key != NO_TIMER, key,
                 t & 1 ? s->s_id[slot] : s->l[slot].id);
    }
}

/* Most refreshes leave the timer as it was: that is checked inline. */
static void set_link_timer(struct vsched *s, uint32_t li, uint64_t t)
{
    if (s->tnl[li].key == t && (t != NO_TIMER || !s->tl_pos[li]))
        return;
    set_timer_move(s, TIMER_LINK(li), t);
}

static void set_slice_timer(struct vsched *s, uint32_t si, uint64_t t)
{
    if (s->tns[si].key == t && (t != NO_TIMER || !s->ts_pos[si]))
        return;
    set_timer_move(s, TIMER_SLICE(si), t);
}

/* EDF deadline on guarantee 'g' for a packet of 'len' bytes. */
static uint64_t deadline(const struct tb *g, uint64_t since, uint32_t len)
{
    uint64_t start = g->ready_ns > since ? g->ready_ns : since;

    return start + (uint64_t)len * NBIT_PER_BYTE / g->rate_bps;
}

/* Copies the tops of a slice's heaps after they changed. */
static void slice_tops(struct slice_heaps *sh)
{
    static const struct hent none = {0, 0, NONE};

    sh->top_hw = sh->hw.n ? sh->hw.v[0].idx : NONE;
    sh->top0 = sh->h0.n ? sh->h0.v[0] : none;
}

/* Puts slice 'si' where its state at 'now' says (see the top comment). */
static void slice_refresh(struct vsched *s, uint32_t si, uint64_t now)
{
    struct slice *sl = &s->sl[si];
    const struct slice_heaps *sh = &s->sh[si];
    uint32_t id = s->s_id[si];
    bool c_ok = tb_ok(&sl->c, now);
    bool g_ok = c_ok && sl->g.rate_bps && now >= sl->g.ready_ns;
    bool active = c_ok && sh->top_hw != NONE;
    uint64_t t = NO_TIMER;

    if (active && !s->H2_pos[si])
        sl->start_vt = sfq_start(s->vt, sl->finish_vt);
    heap_set(&s->H2, s->H2_pos, si, active, sl->start_vt, id);
    if (c_ok && sh->top0.idx != NONE)
        heap_set(&s->H0, s->H0_pos, si, true, sh->top0.key, sh->top0.tie);
    else
        heap_remove(&s->H0, s->H0_pos, si);
    if (g_ok && active)
        heap_set(&s->H1, s->H1_pos, si, true,
                 deadline(&sl->g, sl->since_ns, s->head_len[sh->top_hw]), id);
    else
        heap_remove(&s->H1, s->H1_pos, si);
    if (sh->top_hw != NONE && !c_ok)
        t = sl->c.ready_ns;
    else if (sh->top_hw != NONE && sl->g.rate_bps && !g_ok)
        t = sl->g.ready_ns;
    set_slice_timer(s, si, t);
}

/* Puts link 'li' where its state at 'now' says; the caller refreshes its
 * slice afterwards. A link joins 'hw' only while its slice's ceiling allows
 * it to send (so that its timer is not earlier than the first time it can),
 * and stays there while the slice waits. */
static void link_refresh(struct vsched *s, uint32_t li, uint64_t now)
{
    struct link *l = &s->l[li];
    const struct slice *sl = &s->sl[l->slice];
    struct slice_heaps *sh = &s->sh[l->slice];
    bool c_ok = tb_ok(&l->c, now);
    bool want_hw = l->nonempty && c_ok && (s->hw_pos[li] || tb_ok(&sl->c, now));
    bool want_h0 = want_hw && l->g.rate_bps && now >= l->g.ready_ns;
    uint64_t slice_c = sl->c.rate_bps ? sl->c.ready_ns : 0;
    uint64_t t = NO_TIMER;

    if (want_hw && !s->hw_pos[li])
        l->start_vt = sfq_start(sl->vt, l->finish_vt);
    heap_set(&sh->hw, s->hw_pos, li, want_hw, l->start_vt, l->id);
    if (want_h0)
        heap_set(&sh->h0, s->h0_pos, li, true,
                 deadline(&l->g, l->since_ns, s->head_len[li]), l->id);
    else
        heap_remove(&sh->h0, s->h0_pos, li);
    slice_tops(sh);
    if (l->nonempty && !want_hw) {
        t = l->c.rate_bps ? l->c.ready_ns : 0;
        if (slice_c > t)
            t = slice_c;
    } else if (want_hw && l->g.rate_bps && !want_h0) {
        t = l->g.ready_ns > slice_c ? l->g.ready_ns : slice_c;
    }
    set_link_timer(s, li, t);
}

static void timer_fire(struct vsched *s, uint32_t t, uint64_t now)
{
    if (t & 1) {
        slice_refresh(s, t >> 1, now);
    } else {
        link_refresh(s, t >> 1, now);
        slice_refresh(s, s->l[t >> 1].slice, now);
    }
}

/* Fires the due timers of level-0 bucket 'b'. Firing a link's timer may
 * move its slice's, maybe the next in the list: then the walk starts over. */
static void tw_run_bucket(struct vsched *s, uint32_t b, uint64_t now)
{
    struct twlevel *lv = &s->tw.lv[0];
    uint32_t t = lv->head[b];

    while (t != NONE) {
        struct tnode *x = tnode_of(s, t);
        uint32_t next = x->next, yb;

        if (x->key <= now) {
            tw_unlink(s, t);
            timer_fire(s, t, now);
            if (next != NONE) {
                const struct tnode *y = tnode_of(s, next);

                if (y->key == NO_TIMER || tw_level(&s->tw, y->key, &yb) ||
                    yb != b)
                    next = lv->head[b];
            }
        }
        t = next;
    }
}

/* Fires the due timers of level-0 buckets 'from' .. 'end' (from the cursor
 * on, within level 0's reach). */
static void tw_run_level0(struct vsched *s, uint64_t from, uint64_t end,
                          uint64_t now)
{
    const struct twlevel *lv = &s->tw.lv[0];

    for (uint64_t a = from; lv->n && a <= end;) {
        uint32_t p = (uint32_t)a & TW_MASK;
        uint64_t bits = lv->bits[p / 64] >> (p % 64);

        if (!bits) {
            a += 64 - p % 64;
            continue;
        }
        a += (uint64_t)__builtin_ctzll(bits);
        if (a > end)
            break;
        tw_run_bucket(s, (uint32_t)a & TW_MASK, now);
        a++;
    }
}

/* The first bucket of 'lv' that holds timers from bucket 'from' on, around
 * the level; NONE if it is empty. */
static uint32_t tw_first(const struct twlevel *lv, uint32_t from)
{
    for (uint32_t k = 0; k <= TW_WORDS; k++) {
        uint32_t w = (from / 64 + k) % TW_WORDS;
        uint64_t bits = lv->bits[w];

        if (k == 0)
            bits &= ~0ULL << (from % 64);
        if (bits)
            return w * 64 + (uint32_t)__builtin_ctzll(bits);
    }
    return NONE;
}

/* Moves the cursor to level-0 bucket 'to' (level 0 holds nothing before
 * it), and the timers of the spans that come within level 0's reach from
 * level 1 to level 0 (none of them is before 'to'). */
static void tw_advance(struct vsched *s, uint64_t to)
{
    struct twlevel *l0 = &s->tw.lv[0], *l1 = &s->tw.lv[1];
    uint64_t j = (s->tw.cur >> TW1_SHIFT) + 2, last = (to >> TW1_SHIFT) + 1;

    s->tw.cur = to;
    for (; l1->n && j <= last; j++) {
        uint32_t b = (uint32_t)j & TW_MASK, t = l1->head[b];

        if (t == NONE)
            continue;
        l1->head[b] = NONE;
        l1->bits[b / 64] &= ~(1ULL << (b % 64));
        while (t != NONE) {
            const struct tnode *x = tnode_of(s, t);
            uint32_t next = x->next, b0;

            l1->n--;
            tw_level(&s->tw, x->key, &b0); /* level 0 now */
            tw_link(s, t, x->key, l0, b0);
            t = next;
        }
    }
}

/* Fires the due timers of far heap 'h' (of slices' timers if 'slices'). */
static void far_fire_due(struct vsched *s, struct heap *h, uint32_t *pos,
                         bool slices, uint64_t now)
{
    while (h->n && h->v[0].key <= now) {
        uint32_t slot = h->v[0].idx;

        heap_remove(h, pos, slot);
        timer_fire(s, slices ? TIMER_SLICE(slot) : TIMER_LINK(slot), now);
    }
}

/* Moves the timers of far heap 'h' that came within the wheel's reach. */
static void tw_from_far(struct vsched *s, struct heap *h, uint32_t *pos,
                        bool slices)
{
    uint32_t b;
    int level;

    while (h->n && (level = tw_level(&s->tw, h->v[0].key, &b)) != TW_FAR) {
        struct hent e = h->v[0];

        heap_remove(h, pos, e.idx);
        tw_link(s, slices ? TIMER_SLICE(e.idx) : TIMER_LINK(e.idx), e.key,
                &s->tw.lv[level], b);
    }
}

/* Handles every timer due at 'now'. Their order does not matter: a refresh
 * depends only on the state at 'now', which timers do not change (a link
 * can only join its slice's heaps here, and every link refresh is followed
 * by its slice's), it is idempotent, and it never sets a timer at or
 * before 'now'. */
static void run_timers(struct vsched *s, uint64_t now)
{
    uint64_t nb = now >> TW_SHIFT;

    far_fire_due(s, &s->tl, s->tl_pos, false, now);
    far_fire_due(s, &s->ts, s->ts_pos, true, now);
    if (nb < s->tw.cur)
        return;
    /* New timers are later than 'now', so they never land in a bucket still
     * to scan. Level 0 reaches to the end of the span after the cursor's:
     * past it, every timer of level 0 was due, and the cursor moves on to
     * the span before the first one of level 1 (or to 'nb'). */
    for (;;) {
        uint64_t c = s->tw.cur >> TW1_SHIFT, reach = ((c + 2) << TW1_SHIFT) - 1;
        uint64_t to = reach + 1;

        tw_run_level0(s, s->tw.cur, nb < reach ? nb : reach, now);
        if (nb <= reach) {
            tw_advance(s, nb);
            break;
        }
        if (s->tw.lv[1].n) {
            uint32_t f = tw_first(&s->tw.lv[1], (uint32_t)(c + 2) & TW_MASK);
            uint64_t j = c + 2 + ((f - (uint32_t)(c + 2)) & TW_MASK);

            if ((j - 1) << TW1_SHIFT > to)
                to = (j - 1) << TW1_SHIFT;
        } else {
            to = nb;
        }
        tw_advance(s, to < nb ? to : nb);
    }
    tw_from_far(s, &s->tl, s->tl_pos, false);
    tw_from_far(s, &s->ts, s->ts_pos, true);
}

/* The earliest timer, NO_TIMER if none: in the first bucket of the first
 * level of the wheel that holds any, or at the top of a heap. A level-1
 * bucket holds a whole span (16.8 ms) of timers; its list is walked only
 * when no timer is due before the span after the cursor's. */
static uint64_t timers_min(const struct vsched *s)
{
    const struct twheel *w = &s->tw;
    const struct twlevel *lv = &w->lv[0];
    uint32_t b = NONE;
    uint64_t when = NO_TIMER;

    if (lv->n) {
        b = tw_first(lv, (uint32_t)w->cur & TW_MASK);
    } else if (w->lv[1].n) {
        lv = &w->lv[1];
        b = tw_first(lv, (uint32_t)((w->cur >> TW1_SHIFT) + 2) & TW_MASK);
    }
    for (uint32_t t = b == NONE ? NONE : lv->head[b]; t != NONE;) {
        const struct tnode *x = tnode_of(s, t);

        if (x->key < when)
            when = x->key;
        t = x->next;
    }
    if (s->tl.n && s->tl.v[0].key < when)
        when = s->tl.v[0].key;
    if (s->ts.n && s->ts.v[0].key < when)
        when = s->ts.v[0].key;
    return when;
}

/* Counts a delay in bucket 'b' in link 'li''s run; when that ends the run
 * before, it goes to '*rec' for the histogram (else rec->n is 0). */
static void delay_note(struct link *l, uint32_t li, unsigned b,
                       struct delay_rec *rec)
{
    rec->n = 0;
    if (b != l->run_b || l->run_n == UINT32_MAX) {
        *rec = (struct delay_rec){li, l->run_b, l->run_n};
        l->run_b = (uint16_t)b;
        l->run_n = 0;
    }
    l->run_n++;
}

/* Removes the head packet of link 'li' and accounts for it as sent at
 * 'level'; its delay goes to '*rec' for the histogram. The caller refreshes
 * the link and its slice after the visit. */
static void *send_one(struct vsched *s, uint32_t li, int level, uint64_t now,
                      struct delay_rec *rec)
{
    struct link *l = &s->l[li];
    struct link_q *lq = &s->lq[li];
    uint32_t si = l->slice;
    struct slice *sl = &s->sl[si];
    unsigned c = (unsigned)__builtin_ctz(l->nonempty);
    struct queue *q = &lq->q[c];
    /* Decisions use head_len (dense, likely cached), not the ring slot, so
     * that the slot's miss is not on their way. */
    uint32_t len = s->head_len[li];
    struct pkt_slot slot = q->ring[q->head];
    uint64_t delay = slot_delay(&slot, now);

    q->head = (q->head + 1) & q->mask;
    q->bytes -= len;
    if (--q->count) {
        s->head_len[li] = q->next_len;
        if (q->count >= 2)
            q->next_len = second_len(q);
    } else {
        q_restart(q);
        l->nonempty &= (uint8_t) ~(1u << c);
        if (l->nonempty)
            s->head_len[li] = slot_len(link_head(l, lq));
        else
            s->sc[si].n_busy--;
    }
    s->st.queued_pkts--;
    s->st.queued_bytes -= len;

    tb_charge(&s->port, s->port_depth_nbit, len, now);
    if (l->c.rate_bps)
        tb_charge(&l->c, depth_nbit(l->burst_bytes), len, now);
    if (sl->c.rate_bps)
        tb_charge(&sl->c, depth_nbit(sl->burst_bytes), len, now);
    if (level == 0)
        tb_charge(&l->g, depth_nbit(l->burst_bytes), len, now);
    if (level <= 1 && sl->g.rate_bps)
        tb_charge(&sl->g, depth_nbit(sl->burst_bytes), len, now);
    if (level >= 1) {
        sl->vt = l->start_vt;
        l->finish_vt = l->start_vt + (uint64_t)len * l->vt_per_byte;
        l->start_vt = l->finish_vt;
    }
    if (level == 2) {
        s->vt = sl->start_vt;
        sl->finish_vt = sl->start_vt + (uint64_t)len * sl->vt_per_byte;
        sl->start_vt = sl->finish_vt;
    }
    l->since_ns = now;
    sl->since_ns = now;

    if (now >= l->win_end_ns)
        win_roll(&s->lc[li].win, &l->win_end_ns, s->conf.window_ns, now,
                 lq->sent_bytes);
    lq->sent_pkts++;
    lq->sent_bytes += len;
    if (now >= sl->win_end_ns)
        win_roll(&s->sc[si].win, &sl->win_end_ns, s->conf.window_ns, now,
                 sl->sent_bytes);
    sl->sent_pkts++;
    sl->sent_bytes += len;
    s->st.sent_pkts++;
    s->st.sent_bytes += len;
    if (delay > l->delay_max_ns)
        l->delay_max_ns = delay;
    delay_note(l, li, hist_index(delay), rec);
    return slot.pkt;
}

/* Quantum mode: whether link 'li', just served at 'level' in a visit with
 * '*left' bytes of quantum left, sends its next packet in the same visit.
 * It does while that packet fits, the port and its ceilings allow it, and
 * it is still eligible at the same level: below its guarantee at level 0,
 * its slice below its own at level 1. A visit never moves to a lower
 * level: service at level 2 taken there would bypass SFQ among the slices
 * (the tags would be charged, but a slice served that way after each of
 * its guarantee's sends would never need to win SFQ's choice). */
static bool visit_next(const struct vsched *s, uint32_t li, int level,
                       uint32_t *left, uint64_t now)
{
    const struct link *l = &s->l[li];
    const struct slice *sl = &s->sl[l->slice];
    uint32_t len;

    if (!l->nonempty)
        return false;
    len = s->head_len[li];
    if (len > *left || now < s->port.ready_ns || !tb_ok(&l->c, now) ||
        !tb_ok(&sl->c, now))
        return false;
    if ((level == 0 && now < l->g.ready_ns) ||
        (level == 1 && now < sl->g.ready_ns))
        return false;
    *left -= len;
    return true;
}

/* After a visit at a guarantee level with 'left' bytes of quantum left:
 * re-arms the guarantees it charged (tb_rearm). */
static void visit_rearm(struct vsched *s, uint32_t li, int level, uint32_t left,
                        uint64_t now)
{
    struct link *l = &s->l[li];
    struct slice *sl = &s->sl[l->slice];
    const uint32_t quantum = s->conf.quantum_bytes;
    /* The next packet would not have fitted. */
    bool whole = l->nonempty && s->head_len[li] > left;

    if (level == 0)
        tb_rearm(&l->g, l->burst_bytes, quantum, whole, now);
    if (sl->g.rate_bps)
        tb_rearm(&sl->g, sl->burst_bytes, quantum, whole, now);
}

/* Adds buffered runs of delays to their histograms: the counters are cold,
 * so they are all prefetched first and their misses overlap. */
static void delays_flush(struct vsched *s, const struct delay_rec *d,
                         unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        prefetch_w(&s->lc[d[i].link].delay[d[i].bucket]);
    for (unsigned i = 0; i < n; i++)
        hist_add(s->lc[d[i].link].delay, d[i].bucket, d[i].n);
}

int vsched_dequeue(struct vsched *s, uint64_t now_ns, void **pkts,
                   uint32_t *link_ids, int max)
{
    uint64_t now = advance_now(s, now_ns);
    const uint32_t quantum = s->conf.quantum_bytes;
    struct delay_rec d[DELAY_BATCH];
    unsigned nd = 0;
    int n = 0;

    run_timers(s, now);
    while (n < max && now >= s->port.ready_ns) {
        uint32_t si, li, left;
        int level;

        if (s->H0.n) {
            si = s->H0.v[0].idx;
            li = s->sh[si].top0.idx;
            level = 0;
        } else {
            if (s->H1.n) {
                si = s->H1.v[0].idx;
                level = 1;
            } else if (s->H2.n) {
                si = s->H2.v[0].idx;
                level = 2;
            } else {
                break;
            }
            li = s->sh[si].top_hw;
        }
        prefetch_w(&s->l[li]);
        prefetch_w((const char *)&s->l[li] + CACHE_LINE);
        prefetch_w(&s->lq[li]);
        prefetch_w(&s->sl[si]);
        prefetch_w((const char *)&s->sl[si] + CACHE_LINE);
        prefetch_w(s->sh[si].hw.v);
        prefetch_w(s->sh[si].hw.v + 1);
        prefetch_w(s->sh[si].h0.v);
        prefetch_w(s->sh[si].h0.v + 1);
        /* A visit: one packet, or in quantum mode as many as fit. */
        left = quantum > s->head_len[li] ? quantum - s->head_len[li] : 0;
        for (;;) {
            if (link_ids)
                link_ids[n] = s->l[li].id;
            pkts[n++] = send_one(s, li, level, now, &d[nd]);
            if (d[nd].n && ++nd == DELAY_BATCH) {
                delays_flush(s, d, nd);
                nd = 0;
            }
            if (!left || n == max || !visit_next(s, li, level, &left, now))
                break;
        }
        if (quantum && level <= 1)
            visit_rearm(s, li, level, left, now);
        link_refresh(s, li, now);
        slice_refresh(s, si, now);
    }
    delays_flush(s, d, nd);
    return n;
}

uint64_t vsched_next_ns(const struct vsched *s, uint64_t now_ns)
{
    uint64_t now = now_ns > s->now_ns ? now_ns : s->now_ns;
    uint64_t when = NO_TIMER;

    if (!s->st.queued_pkts)
        return UINT64_MAX;
    if (s->H0.n || s->H1.n || s->H2.n) {
        when = now;
    } else {
        when = timers_min(s);
        if (when == NO_TIMER)
            return UINT64_MAX; /* unreachable: a queued link waits somewhere */
        if (when < now)
            when = now;
    }
    return s->port.ready_ns > when ? s->port.ready_ns : when;
}

/* ---- enqueue ---- */

static void count_limit_drop(struct vsched *s, uint32_t li, uint32_t len,
                             uint64_t now)
{
    const struct link *l = &s->l[li];
    struct link_cold *lc = &s->lc[li];
    struct slice_cold *sc = &s->sc[l->slice];
    bool below = l->g.rate_bps && now >= l->g.ready_ns && tb_ok(&l->c, now);

    if (below) {
        lc->drops_others_pkts++;
        lc->drops_others_bytes += len;
    } else {
        lc->drops_own_pkts++;
        lc->drops_own_bytes += len;
    }
    sc->drops_pkts++;
    sc->drops_bytes += len;
    s->st.drops_limit_pkts++;
    s->st.drops_limit_bytes += len;
}

int vsched_enqueue(struct vsched *s, uint32_t link_id, unsigned tclass,
                   void *pkt, uint32_t len_bytes, uint64_t now_ns)
{
    uint64_t now = advance_now(s, now_ns);
    uint32_t li = link_of(s, link_id);
    struct link *l;
    struct link_q *lq;
    struct queue *q;
    bool was_idle, new_head;

    if (li == NONE || !len_bytes || len_bytes > VSCHED_PKT_MAX_BYTES) {
        if (li == NONE)
            s->st.drops_no_link_pkts++;
        else
            s->st.drops_bad_len_pkts++;
        free_pkt(s, pkt);
        return -1;
    }
    l = &s->l[li];
    lq = &s->lq[li];
    if (tclass >= l->n_tclasses)
        tclass = l->n_tclasses - 1u;
    q = &lq->q[tclass];
    if (q->count == q->cap ||
        (q->limit_bytes && q->bytes + len_bytes > q->limit_bytes)) {
        count_limit_drop(s, li, len_bytes, now);
        free_pkt(s, pkt);
        return -1;
    }
    was_idle = !l->nonempty;
    new_head = was_idle || tclass < (unsigned)__builtin_ctz(l->nonempty);
    if (q->count > q->mask)
        q_grow(q);
    *q_slot(q, q->count) = slot_make(pkt, now, len_bytes);
    if (q->count == 1)
        q->next_len = len_bytes;
    q->count++;
    q->bytes += len_bytes;
    l->nonempty |= (uint8_t)(1u << tclass);
    if (was_idle) {
        l->since_ns = now;
        if (!s->sc[l->slice].n_busy++)
            s->sl[l->slice].since_ns = now;
    }
    s->st.enq_pkts++;
    s->st.enq_bytes += len_bytes;
    s->st.queued_pkts++;
    s->st.queued_bytes += len_bytes;
    if (new_head) {
        s->head_len[li] = len_bytes;
        link_refresh(s, li, now);
        slice_refresh(s, l->slice, now);
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
    if (c->quantum_bytes > VSCHED_QUANTUM_MAX_BYTES)
        FAIL(-EINVAL,
             "port quantum %u bytes too large: at most %u (0 for exact "
             "per-packet order)",
             c->quantum_bytes, VSCHED_QUANTUM_MAX_BYTES);
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
    uint32_t si = slice_of(s, id);
    const struct slice_cold *sl = si == NONE ? NULL : &s->sc[si];
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
    uint32_t li = link_of(s, id), si;
    const struct link_cold *l = li == NONE ? NULL : &s->lc[li];
    const struct slice_cold *sl;
    uint64_t others;
    int rc;

    if (!c)
        FAIL(-EINVAL, "link %u: no configuration", id);
    if (update && !l)
        FAIL(-ENOENT, "link %u does not exist", id);
    if (!update && l)
        FAIL(-EEXIST, "link %u exists already (in slice %u)", id,
             s->s_id[s->l[li].slice]);
    si = update ? s->l[li].slice : slice_of(s, slice_id);
    if (si == NONE)
        FAIL(-ENOENT, "link %u: slice %u does not exist", id, slice_id);
    sl = &s->sc[si];
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
             id, (unsigned long long)c->rate_bps, s->s_id[si],
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
    s->port_depth_nbit = depth_nbit(s->conf.burst_bytes);
    s->l_free = NONE;
    s->s_free = NONE;
    for (int i = 0; i < 2; i++)
        memset(s->tw.lv[i].head, 0xff, sizeof(s->tw.lv[i].head));
    return s;
}

/* ---- slots ---- */

/* A zeroed, cache-aligned array of 'n' elements of 'size' bytes starting
 * with a copy of the 'n_old' of 'old'; NULL if out of memory. */
static void *arr_grow(const void *old, size_t n_old, size_t n, size_t size)
{
    void *p;

    if (posix_memalign(&p, CACHE_LINE, n * size))
        return NULL;
    memset(p, 0, n * size);
    if (n_old)
        memcpy(p, old, n_old * size);
    return p;
}

/* The same for 'k' sections of uint32_t, each of n_old then n elements. */
static uint32_t *dense_grow(const uint32_t *old, unsigned k, size_t n_old,
                            size_t n)
{
    uint32_t *p = arr_grow(NULL, 0, k * n, sizeof(*p));

    for (unsigned i = 0; p && n_old && i < k; i++)
        memcpy(p + i * n, old + i * n_old, n_old * sizeof(*p));
    return p;
}

/* A free link slot, its records zeroed; NONE if out of memory. Slots are
 * handed out lowest first, so links added together sit together. */
static uint32_t link_slot_new(struct vsched *s)
{
    uint32_t li;

    if (s->l_free == NONE) {
        uint32_t n = s->l_cap, cap = n ? 2 * n : 16;
        struct link *l = arr_grow(s->l, n, cap, sizeof(*l));
        struct link_q *lq = arr_grow(s->lq, n, cap, sizeof(*lq));
        struct link_cold *lc = arr_grow(s->lc, n, cap, sizeof(*lc));
        uint32_t *ld = dense_grow(s->ld, LD_N, n, cap);
        struct tnode *tn = arr_grow(s->tnl, n, cap, sizeof(*tn));

        if (!l || !lq || !lc || !ld || !tn) {
            free(l);
            free(lq);
            free(lc);
            free(ld);
            free(tn);
            return NONE;
        }
        free(s->l);
        free(s->lq);
        free(s->lc);
        free(s->ld);
        free(s->tnl);
        s->tnl = tn;
        s->l = l;
        s->lq = lq;
        s->lc = lc;
        s->ld = ld;
        s->hw_pos = ld + LD_HW_POS * cap;
        s->h0_pos = ld + LD_H0_POS * cap;
        s->tl_pos = ld + LD_TL_POS * cap;
        s->head_len = ld + LD_HEAD_LEN * cap;
        s->l_cap = cap;
        for (uint32_t i = cap; i-- > n;) {
            s->lc[i].next = s->l_free;
            s->l_free = i;
        }
    }
    li = s->l_free;
    s->l_free = s->lc[li].next;
    memset(&s->l[li], 0, sizeof(s->l[li]));
    memset(&s->lq[li], 0, sizeof(s->lq[li]));
    memset(&s->lc[li], 0, sizeof(s->lc[li]));
    s->head_len[li] = 0;
    s->tnl[li].key = NO_TIMER;
    return li;
}

static void link_slot_free(struct vsched *s, uint32_t li)
{
    s->lc[li].next = s->l_free;
    s->l_free = li;
}

static uint32_t slice_slot_new(struct vsched *s)
{
    uint32_t si;

    if (s->s_free == NONE) {
        uint32_t n = s->s_cap, cap = n ? 2 * n : 16;
        struct slice *sl = arr_grow(s->sl, n, cap, sizeof(*sl));
        struct slice_heaps *sh = arr_grow(s->sh, n, cap, sizeof(*sh));
        struct slice_cold *sc = arr_grow(s->sc, n, cap, sizeof(*sc));
        uint32_t *sd = dense_grow(s->sd, SD_N, n, cap);
        struct tnode *tn = arr_grow(s->tns, n, cap, sizeof(*tn));

        if (!sl || !sh || !sc || !sd || !tn) {
            free(sl);
            free(sh);
            free(sc);
            free(sd);
            free(tn);
            return NONE;
        }
        free(s->sl);
        free(s->sh);
        free(s->sc);
        free(s->sd);
        free(s->tns);
        s->tns = tn;
        s->sl = sl;
        s->sh = sh;
        s->sc = sc;
        s->sd = sd;
        s->s_id = sd + SD_ID * cap;
        s->H0_pos = sd + SD_H0_POS * cap;
        s->H1_pos = sd + SD_H1_POS * cap;
        s->H2_pos = sd + SD_H2_POS * cap;
        s->ts_pos = sd + SD_TS_POS * cap;
        s->s_cap = cap;
        for (uint32_t i = cap; i-- > n;) {
            s->sc[i].next_free = s->s_free;
            s->s_free = i;
        }
    }
    si = s->s_free;
    s->s_free = s->sc[si].next_free;
    memset(&s->sl[si], 0, sizeof(s->sl[si]));
    memset(&s->sh[si], 0, sizeof(s->sh[si]));
    slice_tops(&s->sh[si]);
    memset(&s->sc[si], 0, sizeof(s->sc[si]));
    s->tns[si].key = NO_TIMER;
    return si;
}

static void slice_slot_free(struct vsched *s, uint32_t si)
{
    s->sc[si].next_free = s->s_free;
    s->s_free = si;
}

/* ---- configuration of slices ---- */

static void slice_set_conf(struct vsched *s, uint32_t si,
                           const struct vsched_slice_conf *c, uint64_t now,
                           bool fresh)
{
    struct slice *sl = &s->sl[si];
    uint32_t burst = burst_or_default(c->burst_bytes);

    if (fresh) {
        tb_init(&sl->g, c->rate_bps, burst);
        tb_init(&sl->c, c->ceil_bps, burst);
    } else {
        tb_set(&sl->g, sl->burst_bytes, c->rate_bps, burst, now);
        tb_set(&sl->c, sl->burst_bytes, c->ceil_bps, burst, now);
    }
    sl->burst_bytes = burst;
    sl->vt_per_byte = (uint32_t)(VT_PER_BYTE_W1 / c->weight);
    s->sc[si].conf = *c;
}

int vsched_slice_add(struct vsched *s, uint32_t slice_id,
                     const struct vsched_slice_conf *c)
{
    uint32_t n = s->slices.n + 1, si;
    int rc = slice_check(s, slice_id, c, false, NULL);

    if (rc)
        return rc;
    if (idmap_reserve(&s->slices) || heap_reserve(&s->H0, n) ||
        heap_reserve(&s->H1, n) || heap_reserve(&s->H2, n) ||
        heap_reserve(&s->ts, n))
        return -ENOMEM;
    si = slice_slot_new(s);
    if (si == NONE)
        return -ENOMEM;
    s->s_id[si] = slice_id;
    s->sc[si].links = NONE;
    slice_set_conf(s, si, c, 0, true);
    s->sl[si].finish_vt = s->vt;
    idmap_put_nogrow(&s->slices, slice_id, si + 1);
    s->slices_rate_bps += c->rate_bps;
    s->st.n_slices++;
    return 0;
}

int vsched_slice_update(struct vsched *s, uint32_t slice_id,
                        const struct vsched_slice_conf *c, uint64_t now_ns)
{
    uint64_t now = advance_now(s, now_ns);
    uint32_t si = slice_of(s, slice_id);
    int rc = slice_check(s, slice_id, c, true, NULL);

    if (rc || si == NONE)
        return rc ? rc : -ENOENT;
    s->slices_rate_bps += c->rate_bps - s->sc[si].conf.rate_bps;
    slice_set_conf(s, si, c, now, false);
    /* Its ceiling may have moved: every link's timer may be off. */
    for (uint32_t li = s->sc[si].links; li != NONE; li = s->lc[li].next)
        link_refresh(s, li, now);
    slice_refresh(s, si, now);
    return 0;
}

/* ---- configuration of links ---- */

/* Frees packets [from, count) of queue 'q' of link 'li' counted from its
 * head; the caller recomputes the link's 'nonempty'. */
static void queue_drop_from(struct vsched *s, uint32_t li, struct queue *q,
                            uint32_t from)
{
    while (q->count > from) {
        struct pkt_slot *p = q_slot(q, q->count - 1);
        uint32_t len = slot_len(p);

        q->count--;
        q->bytes -= len;
        s->st.queued_pkts--;
        s->st.queued_bytes -= len;
        s->st.drops_deleted_pkts++;
        s->st.drops_deleted_bytes += len;
        s->lc[li].deleted_pkts++;
        s->lc[li].deleted_bytes += len;
        free_pkt(s, p->pkt);
    }
    if (!q->count)
        q_restart(q);
}

/* Drops what link 'li' holds and frees its rings. */
static void link_destroy(struct vsched *s, uint32_t li)
{
    struct link_q *lq = &s->lq[li];

    for (unsigned i = 0; i < VSCHED_TCLASS_MAX; i++) {
        if (lq->q[i].ring)
            queue_drop_from(s, li, &lq->q[i], 0);
        free(lq->q[i].ring);
        lq->q[i].ring = NULL;
    }
    if (s->l[li].nonempty)
        s->sc[s->l[li].slice].n_busy--;
    s->l[li].nonempty = 0;
}

/* Detaches link 'li' from every structure, drops its packets and frees its
 * slot; the caller refreshes the slice. */
static void link_remove(struct vsched *s, uint32_t li)
{
    uint32_t si = s->l[li].slice, *pp = &s->sc[si].links;
    struct slice_cold *sc = &s->sc[si];

    heap_remove(&s->sh[si].hw, s->hw_pos, li);
    heap_remove(&s->sh[si].h0, s->h0_pos, li);
    slice_tops(&s->sh[si]);
    set_link_timer(s, li, NO_TIMER);
    while (*pp != li)
        pp = &s->lc[*pp].next;
    *pp = s->lc[li].next;
    sc->n_links--;
    sc->links_rate_bps -= s->lc[li].conf.rate_bps;
    idmap_del(&s->links, s->l[li].id);
    s->st.n_links--;
    link_destroy(s, li);
    link_slot_free(s, li);
}

int vsched_slice_del(struct vsched *s, uint32_t slice_id, uint64_t now_ns)
{
    uint32_t si = slice_of(s, slice_id);

    advance_now(s, now_ns);
    if (si == NONE)
        return -ENOENT;
    while (s->sc[si].links != NONE)
        link_remove(s, s->sc[si].links);
    heap_remove(&s->H0, s->H0_pos, si);
    heap_remove(&s->H1, s->H1_pos, si);
    heap_remove(&s->H2, s->H2_pos, si);
    set_slice_timer(s, si, NO_TIMER);
    idmap_del(&s->slices, slice_id);
    s->slices_rate_bps -= s->sc[si].conf.rate_bps;
    s->st.n_slices--;
    heap_free(&s->sh[si].hw);
    heap_free(&s->sh[si].h0);
    slice_slot_free(s, si);
    return 0;
}

/* Rings for configuration 'c' of a link with queues 'q' (NULL: a new one):
 * new ones (line-aligned, ring_slots(limit) slots) where the limit changes,
 * NULL where the current one is kept. -ENOMEM with nothing allocated. */
static int rings_alloc(const struct link_q *lq, unsigned n_tclasses,
                       const struct vsched_link_conf *c,
                       struct pkt_slot *rings[VSCHED_TCLASS_MAX])
{
    for (unsigned i = 0; i < VSCHED_TCLASS_MAX; i++) {
        rings[i] = NULL;
        if (i >= c->n_tclasses ||
            (lq && i < n_tclasses && lq->q[i].cap == c->queue[i].limit_pkts))
            continue;
        rings[i] = arr_grow(NULL, 0, ring_slots(c->queue[i].limit_pkts),
                            sizeof(struct pkt_slot));
        if (!rings[i]) {
            while (i--)
                free(rings[i]);
            return -ENOMEM;
        }
    }
    return 0;
}

/* Moves queue 'q' into 'ring' (ring_slots(cap) slots) under a limit of
 * 'cap' packets, dropping the newest that do not fit. */
static void queue_resize(struct vsched *s, uint32_t li, struct queue *q,
                         struct pkt_slot *ring, uint32_t cap)
{
    queue_drop_from(s, li, q, cap < q->count ? cap : q->count);
    for (uint32_t k = 0; k < q->count; k++)
        ring[k] = *q_slot(q, k);
    free(q->ring);
    q->ring = ring;
    q->cap = cap;
    q->head = 0;
    q->mask = ring_slots(q->count) - 1;
}

/* Drops the newest packets of 'q' until its bytes fit its byte limit. */
static void queue_trim_bytes(struct vsched *s, uint32_t li, struct queue *q)
{
    uint32_t keep = q->count;
    uint64_t bytes = q->bytes;

    if (!q->limit_bytes)
        return;
    while (keep && bytes > q->limit_bytes)
        bytes -= slot_len(q_slot(q, --keep));
    queue_drop_from(s, li, q, keep);
}

static void link_set_conf(struct vsched *s, uint32_t li,
                          const struct vsched_link_conf *c,
                          struct pkt_slot *rings[VSCHED_TCLASS_MAX],
                          uint64_t now, bool fresh)
{
    struct link *l = &s->l[li];
    struct link_q *lq = &s->lq[li];
    uint32_t burst = burst_or_default(c->burst_bytes);
    bool was_busy = l->nonempty;

    if (fresh) {
        tb_init(&l->g, c->rate_bps, burst);
        tb_init(&l->c, c->ceil_bps, burst);
    } else {
        tb_set(&l->g, l->burst_bytes, c->rate_bps, burst, now);
        tb_set(&l->c, l->burst_bytes, c->ceil_bps, burst, now);
    }
    l->burst_bytes = burst;
    l->vt_per_byte = (uint32_t)(VT_PER_BYTE_W1 / c->weight);
    for (unsigned i = 0; i < VSCHED_TCLASS_MAX; i++) {
        struct queue *q = &lq->q[i];

        if (i >= c->n_tclasses) {
            queue_drop_from(s, li, q, 0);
            free(q->ring);
            memset(q, 0, sizeof(*q));
            continue;
        }
        if (rings[i])
            queue_resize(s, li, q, rings[i], c->queue[i].limit_pkts);
        q->limit_bytes = c->queue[i].limit_bytes;
        queue_trim_bytes(s, li, q);
        if (q->count >= 2)
            q->next_len = second_len(q);
    }
    l->nonempty = 0;
    for (unsigned i = 0; i < c->n_tclasses; i++)
        if (lq->q[i].count)
            l->nonempty |= (uint8_t)(1u << i);
    l->n_tclasses = (uint8_t)c->n_tclasses;
    if (l->nonempty)
        s->head_len[li] = slot_len(link_head(l, lq));
    else if (was_busy)
        s->sc[l->slice].n_busy--;
    s->lc[li].conf = *c;
}

int vsched_link_add(struct vsched *s, uint32_t slice_id, uint32_t link_id,
                    const struct vsched_link_conf *c)
{
    struct pkt_slot *rings[VSCHED_TCLASS_MAX];
    uint32_t si = slice_of(s, slice_id), li;
    struct slice_cold *sc;
    int rc = link_check(s, slice_id, link_id, c, false, NULL);

    if (rc || si == NONE)
        return rc ? rc : -ENOENT;
    sc = &s->sc[si];
    if (idmap_reserve(&s->links) ||
        heap_reserve(&s->sh[si].hw, sc->n_links + 1) ||
        heap_reserve(&s->sh[si].h0, sc->n_links + 1) ||
        heap_reserve(&s->tl, s->links.n + 1))
        return -ENOMEM;
    if (rings_alloc(NULL, 0, c, rings))
        return -ENOMEM;
    li = link_slot_new(s);
    if (li == NONE) {
        for (unsigned i = 0; i < VSCHED_TCLASS_MAX; i++)
            free(rings[i]);
        return -ENOMEM;
    }
    s->l[li].id = link_id;
    s->l[li].slice = si;
    link_set_conf(s, li, c, rings, 0, true);
    s->l[li].finish_vt = s->sl[si].vt;
    s->lc[li].next = sc->links;
    sc->links = li;
    sc->n_links++;
    sc->links_rate_bps += c->rate_bps;
    idmap_put_nogrow(&s->links, link_id, li + 1);
    s->st.n_links++;
    return 0;
}

int vsched_link_update(struct vsched *s, uint32_t link_id,
                       const struct vsched_link_conf *c, uint64_t now_ns)
{
    uint64_t now = advance_now(s, now_ns);
    struct pkt_slot *rings[VSCHED_TCLASS_MAX];
    uint32_t li = link_of(s, link_id);
    int rc = link_check(s, 0, link_id, c, true, NULL);

    if (rc || li == NONE)
        return rc ? rc : -ENOENT;
    if (rings_alloc(&s->lq[li], s->l[li].n_tclasses, c, rings))
        return -ENOMEM;
    s->sc[s->l[li].slice].links_rate_bps +=
        c->rate_bps - s->lc[li].conf.rate_bps;
    link_set_conf(s, li, c, rings, now, false);
    link_refresh(s, li, now);
    slice_refresh(s, s->l[li].slice, now);
    return 0;
}

int vsched_link_del(struct vsched *s, uint32_t link_id, uint64_t now_ns)
{
    uint64_t now = advance_now(s, now_ns);
    uint32_t li = link_of(s, link_id), si;

    if (li == NONE)
        return -ENOENT;
    si = s->l[li].slice;
    link_remove(s, li);
    slice_refresh(s, si, now);
    return 0;
}

void vsched_free(struct vsched *s)
{
    if (!s)
        return;
    for (uint32_t i = 0; s->slices.e && i <= s->slices.mask; i++) {
        uint32_t si;

        if (!s->slices.e[i].slot1)
            continue;
        si = s->slices.e[i].slot1 - 1;
        for (uint32_t li = s->sc[si].links; li != NONE; li = s->lc[li].next)
            link_destroy(s, li);
        heap_free(&s->sh[si].hw);
        heap_free(&s->sh[si].h0);
    }
    free(s->l);
    free(s->lq);
    free(s->lc);
    free(s->ld);
    free(s->sl);
    free(s->sh);
    free(s->sc);
    free(s->sd);
    free(s->tnl);
    free(s->tns);
    free(s->slices.e);
    free(s->links.e);
    heap_free(&s->H0);
    heap_free(&s->H1);
    heap_free(&s->H2);
    heap_free(&s->tl);
    heap_free(&s->ts);
    free(s);
}

/* ---- statistics ---- */

static void link_queued(const struct vsched *s, uint32_t li, uint64_t *pkts,
                        uint64_t *bytes)
{
    for (unsigned i = 0; i < s->l[li].n_tclasses; i++) {
        *pkts += s->lq[li].q[i].count;
        *bytes += s->lq[li].q[i].bytes;
    }
}

int vsched_link_stats(const struct vsched *s, uint32_t link_id, uint64_t now_ns,
                      struct vsched_link_stats *out)
{
    uint32_t li = link_of(s, link_id);
    uint64_t now = now_ns > s->now_ns ? now_ns : s->now_ns;
    const struct link *l;
    const struct link_q *lq;
    const struct link_cold *lc;

    if (li == NONE)
        return -ENOENT;
    l = &s->l[li];
    lq = &s->lq[li];
    lc = &s->lc[li];
    *out = (struct vsched_link_stats){
        .slice_id = s->s_id[l->slice],
        .sent_pkts = lq->sent_pkts,
        .sent_bytes = lq->sent_bytes,
        .drops_own_pkts = lc->drops_own_pkts,
        .drops_own_bytes = lc->drops_own_bytes,
        .drops_others_pkts = lc->drops_others_pkts,
        .drops_others_bytes = lc->drops_others_bytes,
        .delay_p50_ns =
            hist_pct(lc->delay, l->run_b, l->run_n, l->delay_max_ns, 500),
        .delay_p99_ns =
            hist_pct(lc->delay, l->run_b, l->run_n, l->delay_max_ns, 990),
        .delay_max_ns = l->delay_max_ns,
        .rate_bps = win_rate(&lc->win, l->win_end_ns, s->conf.window_ns, now,
                             lq->sent_bytes),
        .window_ns = s->conf.window_ns,
    };
    link_queued(s, li, &out->queued_pkts, &out->queued_bytes);
    out->enq_pkts = lq->sent_pkts + out->queued_pkts + lc->deleted_pkts;
    out->enq_bytes = lq->sent_bytes + out->queued_bytes + lc->deleted_bytes;
    return 0;
}

int vsched_slice_stats(const struct vsched *s, uint32_t slice_id,
                       uint64_t now_ns, struct vsched_slice_stats *out)
{
    uint32_t si = slice_of(s, slice_id);
    uint64_t now = now_ns > s->now_ns ? now_ns : s->now_ns;
    const struct slice *sl;
    const struct slice_cold *sc;

    if (si == NONE)
        return -ENOENT;
    sl = &s->sl[si];
    sc = &s->sc[si];
    *out = (struct vsched_slice_stats){
        .n_links = sc->n_links,
        .sent_pkts = sl->sent_pkts,
        .sent_bytes = sl->sent_bytes,
        .drops_pkts = sc->drops_pkts,
        .drops_bytes = sc->drops_bytes,
        .rate_bps = win_rate(&sc->win, sl->win_end_ns, s->conf.window_ns, now,
                             sl->sent_bytes),
    };
    for (uint32_t li = sc->links; li != NONE; li = s->lc[li].next)
        link_queued(s, li, &out->queued_pkts, &out->queued_bytes);
    return 0;
}

void vsched_port_stats(const struct vsched *s, struct vsched_port_stats *out)
{
    *out = s->st;
}
