/* vsched_cost: CPU cost of the hierarchical scheduler per packet
 * (vsched_enqueue + vsched_dequeue), against the number of slices.
 *
 * Two configurations, each in a table: the one the redirector uses on
 * this port, a service quantum of rd_sched_quantum(10 Gbit/s) = 9000 bytes
 * per visit
 * (vsched_port_conf.quantum_bytes, see docs/scheduler.md), which the
 * RESULT line reports; and the exact mode (quantum 0: one packet per
 * decision, the reference's order), for comparison, reported on the same
 * line with the prefix exact_. Each round runs every size in both
 * configurations, one after the other, so that the sizes share whatever
 * the machine was doing; each size's median over the rounds is reported,
 * with the rounds' spread.
 *
 * One 10 Gbit/s port; 1, 10, 100 and 1000 slices of 4 links each, every link
 * backlogged all the time: slices get guarantees adding up to half the port
 * and weights 1..10, two links of each slice a guarantee, so all three
 * service levels (link guarantee, slice guarantee, spare by weight) run. The
 * loop is closed: each round dequeues a burst of 32 at 'now', puts every
 * packet back on its link, and moves 'now' on by 32 packet times, so the
 * port is always exactly ready for the next burst. Timed in the thread's
 * CPU time (CLOCK_THREAD_CPUTIME_ID, as bench/isolation.sh takes the
 * redirector's and HTB's cost from CPU time) around the whole loop after a
 * warm-up, so that time the thread spends preempted on this shared VM does
 * not count (the 1000-slice case still varies by +-15 % and more with what
 * the machine's other tenants do to the shared cache), with retired
 * instructions per packet where the CPU exposes a counter.
 *
 * For scale, the same loop runs through a "memory floor": a plain round
 * robin over as many links, with no hierarchy and no heaps, that touches
 * what any scheduler with per-link queues and statistics must touch per
 * packet (a link record and a slice record, the ring slot on dequeue and on
 * enqueue, a delay-histogram counter, an id hash lookup), in the same
 * interleaved order. The difference between the two is the cost of the
 * scheduling itself. The floor's records keep the sizes the scheduler's had
 * before its hot/cold split, and its rings still go round all 64 slots (the
 * scheduler's queues use only the lines they hold packets in since its
 * fourth pass), so that it stays comparable across versions.
 *
 * Usage: vsched_cost [packets_per_run] [rounds, 9] [quantum_bytes]
 * (quantum_bytes: of the first table instead of REDIRECTOR_QUANTUM).
 * Last line: RESULT vsched_cost quantum_bytes=... ns_per_pkt_1=...
 *            ns_per_pkt_1000=... cost_ratio_1000=... exact_ns_per_pkt_1=...
 *            exact_ns_per_pkt_1000=... exact_cost_ratio_1000=... */
#include <linux/perf_event.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "redirector/sched.h"
#include "vsched.h"

#define PORT_BPS 10000000000ULL
#define PKT_BYTES 1500u
#define LINKS_PER_SLICE 4
#define BACKLOG 8 /* packets kept on every link */
#define BURST 32  /* packets per dequeue */
#define MAX_RUNS 15
/* What redirector/sched.c gives vsched_port_conf.quantum_bytes on this
 * port: six 1500-byte packets, one 9000-byte jumbo frame. */
#define REDIRECTOR_QUANTUM rd_sched_quantum(PORT_BPS)

/* One packet: the scheduler only carries the pointer around. */
struct pkt {
    uint32_t link;
};

static uint64_t cpu_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* Retired user-space instructions, or -1 where there is no PMU (this VM). */
static int insn_open(void)
{
    struct perf_event_attr a;

    memset(&a, 0, sizeof(a));
    a.size = sizeof(a);
    a.type = PERF_TYPE_HARDWARE;
    a.config = PERF_COUNT_HW_INSTRUCTIONS;
    a.disabled = 1;
    a.exclude_kernel = 1;
    a.exclude_hv = 1;
    return (int)syscall(SYS_perf_event_open, &a, 0, -1, -1, 0);
}

static uint64_t insn_read(int fd)
{
    uint64_t v = 0;

    if (fd < 0 || read(fd, &v, sizeof(v)) != sizeof(v))
        return 0;
    return v;
}

static uint64_t rnd(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* Builds the hierarchy and fills every link; NULL on failure. */
static struct vsched *build(uint32_t n_slices, uint32_t quantum,
                            struct pkt **pool_out)
{
    struct vsched_port_conf pc = {
        .rate_bps = PORT_BPS, .burst_bytes = 65536, .quantum_bytes = quantum};
    uint32_t n_links = n_slices * LINKS_PER_SLICE;
    struct pkt *pool = calloc((size_t)n_links * BACKLOG, sizeof(*pool));
    struct vsched *s = vsched_new(&pc);
    uint64_t rng = 88172645463325252ULL;

    if (!s || !pool)
        goto fail;
    for (uint32_t i = 0; i < n_slices; i++) {
        /* Guarantees: half the port, split evenly (minus rounding). */
        uint64_t g = PORT_BPS / 2 / n_slices;
        struct vsched_slice_conf sc = {.rate_bps = g,
                                      .weight = 1 + (uint32_t)(rnd(&rng) % 10)};

        if (vsched_slice_add(s, i, &sc))
            goto fail;
        for (uint32_t j = 0; j < LINKS_PER_SLICE; j++) {
            struct vsched_link_conf lc = {
                .rate_bps = j < 2 ? g / 4 : 0,
                .weight = 1 + (uint32_t)(rnd(&rng) % 10),
                .n_tclasses = 1,
                .queue = {{.limit_pkts = 64}},
            };
            uint32_t id = i * LINKS_PER_SLICE + j;

            if (vsched_link_add(s, i, id, &lc))
                goto fail;
            for (uint32_t k = 0; k < BACKLOG; k++) {
                struct pkt *p = &pool[(size_t)id * BACKLOG + k];

                p->link = id;
                if (vsched_enqueue(s, id, 0, p, PKT_BYTES, 0))
                    goto fail;
            }
        }
    }
    *pool_out = pool;
    return s;
fail:
    vsched_free(s);
    free(pool);
    return NULL;
}

/* 'n' packets through the closed loop from *now; returns packets moved. */
static uint64_t churn(struct vsched *s, uint64_t *now, uint64_t n)
{
    const uint64_t burst_ns =
        BURST * (uint64_t)PKT_BYTES * 8 * 1000000000ULL / PORT_BPS;
    void *pkts[BURST];
    uint32_t ids[BURST];
    uint64_t moved = 0;

    while (moved < n) {
        int got = vsched_dequeue(s, *now, pkts, ids, BURST);

        for (int i = 0; i < got; i++)
            vsched_enqueue(s, ids[i], 0, pkts[i], PKT_BYTES, *now);
        moved += (uint64_t)got;
        *now += burst_ns;
    }
    return moved;
}

/* ---- the memory floor ---- */

/* sizeof(struct link) and sizeof(struct slice) in lib/vsched.c before the
 * hot/cold split (now a link is 128 + 192 bytes of hot records, a slice
 * 128 + 64, and the rest is cold). */
#define FLOOR_LINK_BYTES 1832
#define FLOOR_SLICE_BYTES 312
#define FLOOR_HIST 337

struct floor_slot {
    void *pkt;
    uint64_t enq_ns;
    uint32_t len;
};

struct floor_link {
    struct floor_slot *ring;
    uint32_t head, count, cap, id;
    uint64_t sent_pkts, sent_bytes, queued_bytes;
    char *slice; /* its slice record */
    uint32_t hist[FLOOR_HIST];
    char pad[FLOOR_LINK_BYTES - 64 - 4 * FLOOR_HIST];
};

struct floor {
    struct floor_link **links; /* in service order: slices interleaved */
    struct floor_link **by_hash;
    uint32_t n, mask, next;
    char **slices;
};

static uint32_t floor_hash(uint32_t id, uint32_t mask)
{
    uint32_t h = id * 0x9E3779B1u;

    return (h ^ (h >> 15)) & mask;
}

static struct floor_link *floor_find(const struct floor *f, uint32_t id)
{
    uint32_t i = floor_hash(id, f->mask);

    while (f->by_hash[i]->id != id)
        i = (i + 1) & f->mask;
    return f->by_hash[i];
}

static void floor_free(struct floor *f)
{
    for (uint32_t i = 0; i < f->n; i++) {
        free(f->links[i]->ring);
        free(f->links[i]);
    }
    for (uint32_t i = 0; i < f->n / LINKS_PER_SLICE; i++)
        free(f->slices[i]);
    free(f->links);
    free(f->by_hash);
    free(f->slices);
}

static int floor_build(struct floor *f, uint32_t n_slices, struct pkt *pool)
{
    uint64_t rng = 88172645463325252ULL;

    memset(f, 0, sizeof(*f));
    f->n = n_slices * LINKS_PER_SLICE;
    f->mask = 1;
    while (f->mask < 2 * f->n)
        f->mask *= 2;
    f->mask--;
    f->links = calloc(f->n, sizeof(*f->links));
    f->by_hash = calloc(f->mask + 1, sizeof(*f->by_hash));
    f->slices = calloc(n_slices, sizeof(*f->slices));
    if (!f->links || !f->by_hash || !f->slices)
        return -1;
    for (uint32_t i = 0; i < n_slices; i++)
        if (!(f->slices[i] = calloc(1, FLOOR_SLICE_BYTES)))
            return -1;
    for (uint32_t id = 0; id < f->n; id++) {
        struct floor_link *l = calloc(1, sizeof(*l));
        uint32_t h;

        if (!l || !(l->ring = calloc(64, sizeof(*l->ring))))
            return -1;
        l->id = id;
        l->cap = 64;
        l->slice = f->slices[id / LINKS_PER_SLICE];
        for (uint32_t k = 0; k < BACKLOG; k++)
            l->ring[l->count++] = (struct floor_slot){
                &pool[(size_t)id * BACKLOG + k], 0, PKT_BYTES};
        for (h = floor_hash(id, f->mask); f->by_hash[h]; h = (h + 1) & f->mask)
            ;
        f->by_hash[h] = l;
        f->links[id] = l;
    }
    /* Service order: shuffled, as fair queueing interleaves the slices. */
    for (uint32_t i = f->n; i > 1; i--) {
        uint32_t j = (uint32_t)(rnd(&rng) % i);
        struct floor_link *x = f->links[i - 1];

        f->links[i - 1] = f->links[j];
        f->links[j] = x;
    }
    return 0;
}

static int floor_dequeue(struct floor *f, uint64_t now, void **pkts,
                         uint32_t *ids, int max)
{
    for (int n = 0; n < max; n++) {
        struct floor_link *l = f->links[f->next];
        struct floor_slot s = l->ring[l->head];
        uint64_t d = now - s.enq_ns;

        if (++f->next == f->n)
            f->next = 0;
        if (++l->head == l->cap)
            l->head = 0;
        l->count--;
        l->sent_pkts++;
        l->sent_bytes += s.len;
        l->queued_bytes -= s.len;
        l->hist[d ? (63 - __builtin_clzll(d)) * 5 % FLOOR_HIST : 0]++;
        ((uint64_t *)(void *)l->slice)[1] += s.len;
        pkts[n] = s.pkt;
        ids[n] = l->id;
    }
    return max;
}

static void floor_enqueue(struct floor *f, uint32_t id, void *pkt, uint32_t len,
                          uint64_t now)
{
    struct floor_link *l = floor_find(f, id);
    uint32_t tail = l->head + l->count;

    if (tail >= l->cap)
        tail -= l->cap;
    l->ring[tail] = (struct floor_slot){pkt, now, len};
    l->count++;
    l->queued_bytes += len;
    ((uint64_t *)(void *)l->slice)[0] += len;
}

static uint64_t floor_churn(struct floor *f, uint64_t *now, uint64_t n)
{
    void *pkts[BURST];
    uint32_t ids[BURST];
    uint64_t moved = 0;

    while (moved < n) {
        int got = floor_dequeue(f, *now, pkts, ids, BURST);

        for (int i = 0; i < got; i++)
            floor_enqueue(f, ids[i], pkts[i], PKT_BYTES, *now);
        moved += (uint64_t)got;
        *now += 4800;
    }
    return moved;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

/* One configuration's runs: ns and instructions per packet, and the
 * floor's ns per packet. */
struct runs {
    double ns[MAX_RUNS], insn[MAX_RUNS], fl[MAX_RUNS];
    int n;
};

struct result {
    double ns_per_pkt, insn_per_pkt, floor_ns_per_pkt;
    double ns_min, ns_max; /* the runs' spread */
};

/* One run of 'n_slices' at 'quantum' (and of the floor), added to 'out'. */
static int measure_once(uint32_t n_slices, uint32_t quantum, uint64_t n_pkts,
                        int fd, struct runs *out)
{
    struct pkt *pool;
    struct vsched *s = build(n_slices, quantum, &pool);
    uint64_t now = 0, t0, t1, i0, i1, moved;
    struct floor f;

    if (!s) {
        fprintf(stderr, "vsched_cost: building %u slices failed\n", n_slices);
        return -1;
    }
    /* Warm-up: past the guarantee buckets' initial bursts, caches warm. */
    churn(s, &now, n_pkts / 4 + 200000);
    if (fd >= 0) {
        ioctl(fd, PERF_EVENT_IOC_RESET, 0);
        ioctl(fd, PERF_EVENT_IOC_ENABLE, 0);
    }
    i0 = insn_read(fd);
    t0 = cpu_ns();
    moved = churn(s, &now, n_pkts);
    t1 = cpu_ns();
    i1 = insn_read(fd);
    if (fd >= 0)
        ioctl(fd, PERF_EVENT_IOC_DISABLE, 0);
    out->ns[out->n] = (double)(t1 - t0) / (double)moved;
    out->insn[out->n] = fd >= 0 ? (double)(i1 - i0) / (double)moved : 0;
    vsched_free(s);

    if (floor_build(&f, n_slices, pool)) {
        fprintf(stderr, "vsched_cost: out of memory\n");
        return -1;
    }
    now = 0;
    floor_churn(&f, &now, n_pkts / 4 + 200000);
    t0 = cpu_ns();
    moved = floor_churn(&f, &now, n_pkts);
    t1 = cpu_ns();
    out->fl[out->n] = (double)(t1 - t0) / (double)moved;
    out->n++;
    floor_free(&f);
    free(pool);
    return 0;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(v[0]), cmp_double);
    return v[n / 2];
}

static struct result summarize(struct runs *r)
{
    struct result out;

    out.ns_per_pkt = median(r->ns, r->n); /* sorts r->ns */
    out.ns_min = r->ns[0];
    out.ns_max = r->ns[r->n - 1];
    out.insn_per_pkt = median(r->insn, r->n);
    out.floor_ns_per_pkt = median(r->fl, r->n);
    return out;
}

static void print_table(const char *title, const struct result *res,
                        const uint32_t *sizes, size_t n)
{
    printf("%s\n", title);
    printf("%8s %8s %10s %13s %10s %8s | %10s %8s | %12s %8s\n", "slices",
           "links", "ns/pkt", "runs min-max", "insn/pkt", "vs 1", "floor ns",
           "vs 1", "sched-floor", "vs 1");
    for (size_t i = 0; i < n; i++) {
        char insn[32] = "n/a";

        if (res[i].insn_per_pkt > 0)
            snprintf(insn, sizeof(insn), "%.0f", res[i].insn_per_pkt);
        char spread[32];

        snprintf(spread, sizeof(spread), "%.1f-%.1f", res[i].ns_min,
                 res[i].ns_max);
        printf("%8u %8u %10.1f %13s %10s %8.2f | %10.1f %8.2f | %12.1f "
               "%8.2f\n",
               sizes[i], sizes[i] * LINKS_PER_SLICE, res[i].ns_per_pkt, spread,
               insn,
               res[i].ns_per_pkt / res[0].ns_per_pkt, res[i].floor_ns_per_pkt,
               res[i].floor_ns_per_pkt / res[0].floor_ns_per_pkt,
               res[i].ns_per_pkt - res[i].floor_ns_per_pkt,
               (res[i].ns_per_pkt - res[i].floor_ns_per_pkt) /
                   (res[0].ns_per_pkt - res[0].floor_ns_per_pkt));
    }
    printf("cost ratio 1000 slices / 1 slice: %.2f (target <= 2); memory "
           "floor alone %.2f; scheduling above the floor %.2f\n",
           res[n - 1].ns_per_pkt / res[0].ns_per_pkt,
           res[n - 1].floor_ns_per_pkt / res[0].floor_ns_per_pkt,
           (res[n - 1].ns_per_pkt - res[n - 1].floor_ns_per_pkt) /
               (res[0].ns_per_pkt - res[0].floor_ns_per_pkt));
}

int main(int argc, char **argv)
{
    static const uint32_t sizes[] = {1, 10, 100, 1000};
    enum { N = sizeof(sizes) / sizeof(sizes[0]) };
    static struct runs rq[N], rx[N];
    struct result res[N], exact[N];
    int fd = insn_open();
    uint64_t n_pkts = argc > 1 ? strtoull(argv[1], NULL, 10) : 4000000;
    int runs = argc > 2 ? atoi(argv[2]) : 9;
    long q = argc > 3 ? atol(argv[3]) : (long)REDIRECTOR_QUANTUM;
    char title[160];

    if (!n_pkts || runs < 1 || runs > MAX_RUNS || q < 0 ||
        q > VSCHED_QUANTUM_MAX_BYTES) {
        fprintf(stderr,
                "usage: vsched_cost [packets_per_run] [rounds 1..%d] "
                "[quantum_bytes 0..%u]\n",
                MAX_RUNS, VSCHED_QUANTUM_MAX_BYTES);
        return 2;
    }
    printf("vsched_cost: %llu packets per run, median of %d rounds; port "
           "10 Gbit/s, %u-byte packets, %d links per slice, all backlogged, "
           "dequeue bursts of %d\n",
           (unsigned long long)n_pkts, runs, PKT_BYTES, LINKS_PER_SLICE, BURST);
    /* Round by round, every size in each, so that a change in what the
     * machine's other tenants do weighs on all sizes alike. */
    for (int r = 0; r < runs; r++)
        for (size_t i = 0; i < N; i++)
            if (measure_once(sizes[i], (uint32_t)q, n_pkts, fd, &rq[i]) ||
                measure_once(sizes[i], 0, n_pkts, fd, &rx[i]))
                return 1;
    if (fd >= 0)
        close(fd);
    for (size_t i = 0; i < N; i++) {
        res[i] = summarize(&rq[i]);
        exact[i] = summarize(&rx[i]);
    }
    snprintf(title, sizeof(title), "quantum %ld bytes per visit%s:", q,
             q == (long)REDIRECTOR_QUANTUM ? " (the redirector's configuration)"
                                     : "");
    print_table(title, res, sizes, N);
    print_table("exact mode (quantum 0), for comparison:", exact, sizes, N);
    printf("RESULT vsched_cost quantum_bytes=%ld ns_per_pkt_1=%.1f "
           "ns_per_pkt_1000=%.1f cost_ratio_1000=%.2f exact_ns_per_pkt_1=%.1f "
           "exact_ns_per_pkt_1000=%.1f exact_cost_ratio_1000=%.2f\n",
           q, res[0].ns_per_pkt, res[N - 1].ns_per_pkt,
           res[N - 1].ns_per_pkt / res[0].ns_per_pkt, exact[0].ns_per_pkt,
           exact[N - 1].ns_per_pkt,
           exact[N - 1].ns_per_pkt / exact[0].ns_per_pkt);
    return 0;
}
