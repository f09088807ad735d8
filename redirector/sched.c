/* sched: the transport port's scheduler as the redirector uses it. See
 * sched.h; the semantics are lib/vsched.h's. */
#include "sched.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "units.h"

#define DEQ_CHUNK 64

/* A slice with links on this port: its guarantee is their sum. */
struct slice_ent {
    uint32_t id;
    uint32_t n_links;
    uint64_t rate_bps;
    uint32_t weight;
};

struct rd_sched_link {
    uint32_t key;
    uint32_t slice_id;
    struct vsched_link_conf conf; /* as given to vsched */
    uint32_t queued;              /* frames in vsched */
    /* The service meter (sched.h): bytes of guarantee not served, at
     * meter_ns. */
    double owed_bytes;
    uint64_t meter_ns;
    uint64_t drops_own_pkts, drops_own_bytes;
    uint64_t drops_others_pkts, drops_others_bytes;
};

#define BUF_QUEUED 1u /* rd_buf.flags: accepted by vsched */

struct rd_sched {
    struct vsched *vs;
    char *port;
    uint64_t rate_bps;
    uint32_t burst_bytes;
    uint32_t overhead_bytes;
    uint64_t slack_ns;
    struct rd_pool pool;
    struct slice_ent *slices;
    size_t n_slices, cap_slices;
    struct rd_sched_link **links; /* owned */
    size_t n_links, cap_links;
    uint64_t total_bps; /* sum of the slices' guarantees */
    uint64_t drops_no_buffer;
};

static char *msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *msg(const char *fmt, ...)
{
    va_list ap;
    char *s = NULL;

    va_start(ap, fmt);
    if (vasprintf(&s, fmt, ap) < 0)
        s = NULL;
    va_end(ap);
    return s;
}

/* Rates travel as doubles (XML-RPC); the scheduler counts whole bits. */
static uint64_t to_bps(double d)
{
    if (!(d > 0))
        return 0;
    if (d >= (double)VSCHED_RATE_MAX_BPS)
        return VSCHED_RATE_MAX_BPS + 1; /* refused by the checks */
    return (uint64_t)llround(d);
}

static const char *rate_str(uint64_t bps, char *buf, size_t n)
{
    return units_format_rate(bps, buf, n);
}

/* What 'rate_bps' passes in 'ms' milliseconds, at least 'min' bytes, at
 * most VSCHED_BURST_MAX_BYTES. */
static uint32_t burst_for(uint64_t rate_bps, uint64_t ms, uint64_t min)
{
    uint64_t b = rate_bps / 8 * ms / 1000;

    if (b < min)
        b = min;
    if (b > VSCHED_BURST_MAX_BYTES)
        b = VSCHED_BURST_MAX_BYTES;
    return (uint32_t)b;
}

uint32_t rd_sched_port_burst(uint64_t rate_bps)
{
    return burst_for(rate_bps, RD_SCHED_BURST_MS, VSCHED_BURST_DEFAULT_BYTES);
}

uint32_t rd_sched_link_burst(uint64_t rate_bps, uint32_t burst_bytes)
{
    return burst_for(rate_bps, RD_SCHED_LINK_BURST_MS,
                     burst_bytes != 0 ? burst_bytes
                                      : VSCHED_BURST_DEFAULT_BYTES);
}

uint32_t rd_sched_quantum(uint64_t rate_bps)
{
    uint64_t q = rate_bps / 8 * RD_SCHED_QUANTUM_US / 1000000;

    return q < RD_SCHED_QUANTUM_MAX_BYTES ? (uint32_t)q
                                          : RD_SCHED_QUANTUM_MAX_BYTES;
}

uint32_t rd_sched_queue_pkts(uint64_t max_bps)
{
    uint64_t n =
        max_bps / 8 / 1000 * RD_SCHED_QUEUE_MS / RD_SCHED_QUEUE_FRAME_BYTES;

    if (n < RD_SCHED_QUEUE_MIN_PKTS)
        n = RD_SCHED_QUEUE_MIN_PKTS;
    if (n > RD_SCHED_QUEUE_MAX_PKTS)
        n = RD_SCHED_QUEUE_MAX_PKTS;
    return (uint32_t)n;
}

void rd_sched_link_conf(const struct rd_rates *r, uint64_t port_bps,
                        struct vsched_link_conf *out)
{
    uint64_t ceil = to_bps(r->ceil_bps);

    memset(out, 0, sizeof(*out));
    /* A ceiling at or above the port's rate limits nothing the port does
     * not: no bucket for it. */
    if (ceil >= port_bps)
        ceil = 0;
    out->rate_bps = to_bps(r->rate_bps);
    out->ceil_bps = ceil;
    out->burst_bytes = rd_sched_link_burst(
        out->rate_bps > ceil ? out->rate_bps : ceil, r->burst_bytes);
    out->weight = r->weight != 0 ? r->weight : 1;
    out->n_tclasses = 1;
    out->queue[0].limit_pkts = rd_sched_queue_pkts(ceil != 0 ? ceil : port_bps);
    out->queue[0].limit_bytes = 0;
}

char *rd_sched_rates_check(const struct rd_rates *r)
{
    char a[32], b[32];

    if (!isfinite(r->rate_bps) || r->rate_bps < 0 ||
        r->rate_bps > (double)VSCHED_RATE_MAX_BPS)
        return msg("rate_bps must be 0 to %llu bits per second",
                   (unsigned long long)VSCHED_RATE_MAX_BPS);
    if (!isfinite(r->ceil_bps) || r->ceil_bps < 0 ||
        r->ceil_bps > (double)VSCHED_RATE_MAX_BPS)
        return msg("ceil_bps must be 0 (none) to %llu bits per second",
                   (unsigned long long)VSCHED_RATE_MAX_BPS);
    if (r->ceil_bps > 0 && to_bps(r->ceil_bps) < to_bps(r->rate_bps))
        return msg("ceil_bps %s is below rate_bps %s: give a ceiling at "
                   "least the guarantee, or 0 for none",
                   rate_str(to_bps(r->ceil_bps), a, sizeof(a)),
                   rate_str(to_bps(r->rate_bps), b, sizeof(b)));
    if (r->burst_bytes > VSCHED_BURST_MAX_BYTES)
        return msg("burst_bytes %u is too large: give 0 (64 KiB) to %u",
                   r->burst_bytes, VSCHED_BURST_MAX_BYTES);
    if (r->weight > VSCHED_WEIGHT_MAX)
        return msg("weight %u is out of range: give 1 to %u", r->weight,
                   VSCHED_WEIGHT_MAX);
    if (r->slice_weight > VSCHED_WEIGHT_MAX)
        return msg("slice_weight %u is out of range: give 1 to %u",
                   r->slice_weight, VSCHED_WEIGHT_MAX);
    return NULL;
}

/* ---- lookups ------------------------------------------------------------ */

static struct slice_ent *find_slice(const struct rd_sched *rs, uint32_t id)
{
    for (size_t i = 0; i < rs->n_slices; i++)
        if (rs->slices[i].id == id)
            return &rs->slices[i];
    return NULL;
}

static struct rd_sched_link *find_link(const struct rd_sched *rs, uint32_t key)
{
    for (size_t i = 0; i < rs->n_links; i++)
        if (rs->links[i]->key == key)
            return rs->links[i];
    return NULL;
}

bool rd_sched_has_link(const struct rd_sched *rs, uint32_t key)
{
    return find_link(rs, key) != NULL;
}

struct rd_sched_link *rd_sched_link_find(const struct rd_sched *rs,
                                         uint32_t key)
{
    return find_link(rs, key);
}

uint32_t rd_sched_link_queued(const struct rd_sched_link *sl)
{
    return sl->queued;
}

/* ---- the service meter (sched.h) ---------------------------------------- */

static double meter_depth(const struct rd_sched_link *sl)
{
    return sl->conf.burst_bytes ? sl->conf.burst_bytes
                                : VSCHED_BURST_DEFAULT_BYTES;
}

static void meter_advance(struct rd_sched_link *sl, uint64_t now_ns)
{
    if (now_ns <= sl->meter_ns)
        return;
    if (sl->conf.rate_bps == 0) {
        sl->owed_bytes = 0;
    } else {
        sl->owed_bytes +=
            (double)sl->conf.rate_bps * (double)(now_ns - sl->meter_ns) / 8e9;
        if (sl->owed_bytes > meter_depth(sl))
            sl->owed_bytes = meter_depth(sl);
    }
    sl->meter_ns = now_ns;
}

static void meter_served(struct rd_sched_link *sl, uint32_t bytes,
                         uint64_t now_ns)
{
    meter_advance(sl, now_ns);
    sl->owed_bytes -= bytes;
    if (sl->owed_bytes < 0)
        sl->owed_bytes = 0;
}

/* A queue-limit drop of 'bytes': the link's own, or others' (it was
 * served less than its guarantee by more than a late round explains). */
static void meter_drop(const struct rd_sched *rs, struct rd_sched_link *sl,
                       uint32_t bytes, uint64_t now_ns)
{
    double slack;

    meter_advance(sl, now_ns);
    slack = (double)sl->conf.rate_bps * (double)rs->slack_ns / 8e9 +
            (double)rs->pool.buf_bytes + rs->overhead_bytes;
    if (sl->conf.rate_bps != 0 && sl->owed_bytes > slack) {
        sl->drops_others_pkts++;
        sl->drops_others_bytes += bytes;
    } else {
        sl->drops_own_pkts++;
        sl->drops_own_bytes += bytes;
    }
}

/* Room for one more entry in an array of 'size'-byte entries. */
static int grow(void **arr, size_t n, size_t *cap, size_t size)
{
    size_t c = *cap ? *cap * 2 : 8;
    void *a;

    if (n < *cap)
        return 0;
    a = realloc(*arr, c * size);
    if (a == NULL)
        return -1;
    *arr = a;
    *cap = c;
    return 0;
}

static enum vn_fault fault_of(int rc)
{
    switch (rc) {
    case -ENOSPC:
        return VN_FAULT_NO_CAPACITY;
    case -EINVAL:
        return VN_FAULT_INVALID_ARG;
    case -EEXIST:
        return VN_FAULT_EXISTS;
    case -ENOENT:
        return VN_FAULT_NOT_FOUND;
    default:
        return VN_FAULT_INTERNAL;
    }
}

/* ---- life cycle --------------------------------------------------------- */

/* vsched drops a frame (queue limit, a shrunk queue, a deleted link). */
static void free_pkt(void *pkt, void *ctx)
{
    struct rd_sched *rs = ctx;
    struct rd_buf *b = pkt;
    struct rd_sched_link *sl = b->owner;

    if ((b->flags & BUF_QUEUED) && sl != NULL && sl->queued > 0)
        sl->queued--;
    rd_pool_put(&rs->pool, b);
}

struct rd_sched *rd_sched_new(const struct rd_sched_config *c, char **err)
{
    struct rd_sched *rs = calloc(1, sizeof(*rs));
    struct vsched_port_conf pc = {0};
    char *why = NULL;

    *err = NULL;
    if (rs == NULL || (rs->port = strdup(c->port ? c->port : "?")) == NULL)
        goto oom;
    if (c->frame_bytes == 0) {
        *err = msg("port %s: no frame fits", rs->port);
        goto fail;
    }
    pc.rate_bps = c->rate_bps;
    pc.burst_bytes =
        c->burst_bytes ? c->burst_bytes : rd_sched_port_burst(c->rate_bps);
    pc.window_ns = c->window_ns;
    pc.quantum_bytes = rd_sched_quantum(c->rate_bps);
    pc.free_pkt = free_pkt;
    pc.free_ctx = rs;
    if ((why = vsched_port_check(&pc)) != NULL) {
        *err = msg("port %s: %s", rs->port, why);
        free(why);
        goto fail;
    }
    rs->rate_bps = c->rate_bps;
    rs->burst_bytes = pc.burst_bytes;
    rs->overhead_bytes = c->overhead_bytes;
    rs->slack_ns = c->slack_ns;
    rd_pool_init(&rs->pool, c->frame_bytes);
    /* One buffer more than the queues hold: an enqueue takes its buffer
     * before vsched decides to drop it. */
    if (rd_pool_reserve(&rs->pool, 1) < 0 || (rs->vs = vsched_new(&pc)) == NULL)
        goto oom;
    return rs;
oom:
    *err = msg("out of memory");
fail:
    rd_sched_free(rs);
    return NULL;
}

void rd_sched_free(struct rd_sched *rs)
{
    if (rs == NULL)
        return;
    vsched_free(rs->vs); /* gives what it holds back to the pool */
    rd_pool_fini(&rs->pool);
    free(rs->slices);
    for (size_t i = 0; i < rs->n_links; i++)
        free(rs->links[i]);
    free(rs->links);
    free(rs->port);
    free(rs);
}

uint64_t rd_sched_rate(const struct rd_sched *rs)
{
    return rs->rate_bps;
}

/* ---- configuration ------------------------------------------------------ */

char *rd_sched_check(const struct rd_sched *rs, uint32_t slice_id, uint32_t key,
                     const struct rd_rates *r, bool update, enum vn_fault *code)
{
    const struct rd_sched_link *le = find_link(rs, key);
    uint64_t rate, old = 0, others, total;
    char p[32], t[32], m[32], f[32];
    char *e;

    (void)slice_id;
    *code = VN_FAULT_INVALID_ARG;
    if ((e = rd_sched_rates_check(r)) != NULL)
        return e;
    if (update && le == NULL) {
        *code = VN_FAULT_NOT_FOUND;
        return msg("link key %u is not scheduled on port %s", key, rs->port);
    }
    if (!update && le != NULL) {
        *code = VN_FAULT_EXISTS;
        return msg("link key %u is already scheduled on port %s", key,
                   rs->port);
    }
    if (le != NULL)
        old = le->conf.rate_bps;
    rate = to_bps(r->rate_bps);
    others = rs->total_bps - old;
    total = others + rate;
    if (total > rs->rate_bps) {
        *code = VN_FAULT_NO_CAPACITY;
        return msg("port %s carries %s and its guarantees would sum to %s: "
                   "%s missing; give rate_bps at most %s, or lower the "
                   "guarantees of other links on this port",
                   rs->port, rate_str(rs->rate_bps, p, sizeof(p)),
                   rate_str(total, t, sizeof(t)),
                   rate_str(total - rs->rate_bps, m, sizeof(m)),
                   rate_str(others < rs->rate_bps ? rs->rate_bps - others : 0,
                            f, sizeof(f)));
    }
    return NULL;
}

/* Sets the vsched slice 'id' to guarantee 'rate' and 'weight' (adds it
 * when 'add'). Returns 0 or a negative errno with *err. */
static int slice_set(struct rd_sched *rs, uint32_t id, uint64_t rate,
                     uint32_t weight, bool add, uint64_t now_ns, char **err)
{
    struct vsched_slice_conf sc = {.rate_bps = rate, .weight = weight};
    int rc = add ? vsched_slice_add(rs->vs, id, &sc)
                 : vsched_slice_update(rs->vs, id, &sc, now_ns);

    if (rc != 0 && err != NULL) {
        char *why = vsched_slice_check(rs->vs, id, &sc, !add);

        *err = msg("port %s: %s", rs->port,
                   why             ? why
                   : rc == -ENOMEM ? "out of memory"
                                   : "refused");
        free(why);
    }
    return rc;
}

int rd_sched_link_add(struct rd_sched *rs, uint32_t slice_id, uint32_t key,
                      const struct rd_rates *r, uint64_t now_ns,
                      enum vn_fault *code, char **err)
{
    struct slice_ent *sl = find_slice(rs, slice_id);
    struct rd_sched_link *le = NULL;
    struct vsched_link_conf lc;
    uint32_t weight;
    int rc;

    if ((*err = rd_sched_check(rs, slice_id, key, r, false, code)) != NULL)
        return -1;
    rd_sched_link_conf(r, rs->rate_bps, &lc);
    weight = r->slice_weight ? r->slice_weight : sl ? sl->weight : 1;
    if (grow((void **)&rs->links, rs->n_links, &rs->cap_links,
             sizeof(*rs->links)) < 0 ||
        grow((void **)&rs->slices, rs->n_slices, &rs->cap_slices,
             sizeof(*rs->slices)) < 0 ||
        (le = calloc(1, sizeof(*le))) == NULL) {
        *code = VN_FAULT_INTERNAL;
        *err = msg("out of memory");
        return -1;
    }
    if (rd_pool_reserve(&rs->pool, lc.queue[0].limit_pkts) < 0) {
        free(le);
        *code = VN_FAULT_INTERNAL;
        *err = msg("out of memory");
        return -1;
    }
    sl = find_slice(rs, slice_id); /* the array may have moved */
    /* The slice's guarantee grows first: vsched admits a link only within
     * what its slice has left. */
    rc = slice_set(rs, slice_id, (sl ? sl->rate_bps : 0) + lc.rate_bps, weight,
                   sl == NULL, now_ns, err);
    if (rc != 0)
        goto fail;
    rc = vsched_link_add(rs->vs, slice_id, key, &lc);
    if (rc != 0) {
        char *why = vsched_link_check(rs->vs, slice_id, key, &lc, false);

        *err = msg("port %s: %s", rs->port, why ? why : "out of memory");
        free(why);
        if (sl != NULL)
            slice_set(rs, slice_id, sl->rate_bps, sl->weight, false, now_ns,
                      NULL);
        else
            vsched_slice_del(rs->vs, slice_id, now_ns);
        goto fail;
    }
    if (sl == NULL) {
        sl = &rs->slices[rs->n_slices++];
        memset(sl, 0, sizeof(*sl));
        sl->id = slice_id;
    }
    sl->n_links++;
    sl->rate_bps += lc.rate_bps;
    sl->weight = weight;
    le->key = key;
    le->slice_id = slice_id;
    le->conf = lc;
    le->meter_ns = now_ns; /* owes nothing yet */
    rs->links[rs->n_links++] = le;
    rs->total_bps += lc.rate_bps;
    return 0;
fail:
    free(le);
    rd_pool_unreserve(&rs->pool, lc.queue[0].limit_pkts);
    *code = fault_of(rc);
    return -1;
}

int rd_sched_link_update(struct rd_sched *rs, uint32_t key,
                         const struct rd_rates *r, uint64_t now_ns,
                         enum vn_fault *code, char **err)
{
    struct rd_sched_link *le = find_link(rs, key);
    struct slice_ent *sl;
    struct vsched_link_conf lc;
    uint64_t new_slice;
    uint32_t weight, old_limit, new_limit;
    int rc;

    if ((*err = rd_sched_check(rs, 0, key, r, true, code)) != NULL)
        return -1;
    sl = find_slice(rs, le->slice_id);
    rd_sched_link_conf(r, rs->rate_bps, &lc);
    weight = r->slice_weight ? r->slice_weight : sl->weight;
    new_slice = sl->rate_bps - le->conf.rate_bps + lc.rate_bps;
    old_limit = le->conf.queue[0].limit_pkts;
    new_limit = lc.queue[0].limit_pkts;
    if (new_limit > old_limit &&
        rd_pool_reserve(&rs->pool, new_limit - old_limit) < 0) {
        *code = VN_FAULT_INTERNAL;
        *err = msg("out of memory");
        return -1;
    }
    /* Raise the slice before its link, lower it after: each step stays
     * within what vsched admits. */
    if (lc.rate_bps >= le->conf.rate_bps) {
        rc = slice_set(rs, sl->id, new_slice, weight, false, now_ns, err);
        if (rc == 0 && (rc = vsched_link_update(rs->vs, key, &lc, now_ns))) {
            char *why = vsched_link_check(rs->vs, 0, key, &lc, true);

            *err = msg("port %s: %s", rs->port, why ? why : "refused");
            free(why);
            slice_set(rs, sl->id, sl->rate_bps, sl->weight, false, now_ns,
                      NULL);
        }
    } else {
        rc = vsched_link_update(rs->vs, key, &lc, now_ns);
        if (rc != 0) {
            char *why = vsched_link_check(rs->vs, 0, key, &lc, true);

            *err = msg("port %s: %s", rs->port, why ? why : "refused");
            free(why);
        } else if ((rc = slice_set(rs, sl->id, new_slice, weight, false, now_ns,
                                   err)) != 0) {
            vsched_link_update(rs->vs, key, &le->conf, now_ns);
        }
    }
    if (rc != 0) {
        if (new_limit > old_limit)
            rd_pool_unreserve(&rs->pool, new_limit - old_limit);
        *code = fault_of(rc);
        return -1;
    }
    if (new_limit < old_limit)
        rd_pool_unreserve(&rs->pool, old_limit - new_limit);
    rs->total_bps = rs->total_bps - le->conf.rate_bps + lc.rate_bps;
    sl->rate_bps = new_slice;
    sl->weight = weight;
    meter_advance(le, now_ns); /* at the old rate up to now */
    le->conf = lc;
    if (le->owed_bytes > meter_depth(le))
        le->owed_bytes = meter_depth(le);
    return 0;
}

void rd_sched_link_del(struct rd_sched *rs, uint32_t key, uint64_t now_ns)
{
    struct rd_sched_link *le = find_link(rs, key);
    struct slice_ent *sl;

    if (le == NULL)
        return;
    sl = find_slice(rs, le->slice_id);
    vsched_link_del(rs->vs, key, now_ns);
    rd_pool_unreserve(&rs->pool, le->conf.queue[0].limit_pkts);
    rs->total_bps -= le->conf.rate_bps;
    if (sl != NULL) {
        sl->rate_bps -= le->conf.rate_bps;
        if (--sl->n_links == 0) {
            vsched_slice_del(rs->vs, sl->id, now_ns);
            *sl = rs->slices[--rs->n_slices];
        } else {
            /* Lowering a guarantee that its links still fit: accepted. */
            slice_set(rs, sl->id, sl->rate_bps, sl->weight, false, now_ns,
                      NULL);
        }
    }
    for (size_t i = 0; i < rs->n_links; i++)
        if (rs->links[i] == le) {
            rs->links[i] = rs->links[--rs->n_links];
            break;
        }
    free(le);
}

/* ---- frames ---------------------------------------------------------------
 */

int rd_sched_enqueue(struct rd_sched *rs, struct rd_sched_link *sl,
                     const uint8_t *data, uint32_t len, uint64_t now_ns)
{
    struct rd_buf *b;

    if (len == 0 || len > rs->pool.buf_bytes)
        return -1;
    b = rd_pool_get(&rs->pool);
    if (b == NULL) {
        rs->drops_no_buffer++;
        return -1;
    }
    memcpy(b->data, data, len);
    b->len = len;
    b->key = sl->key;
    b->owner = sl;
    /* With a known link and a length it accepts, vsched refuses a frame
     * only at the queue limit; it gives the buffer back through free_pkt
     * (before BUF_QUEUED is set, so 'queued' is not touched). */
    if (vsched_enqueue(rs->vs, sl->key, 0, b, len + rs->overhead_bytes,
                       now_ns) != 0) {
        meter_drop(rs, sl, len + rs->overhead_bytes, now_ns);
        return -1;
    }
    b->flags |= BUF_QUEUED;
    sl->queued++;
    return 0;
}

int rd_sched_dequeue(struct rd_sched *rs, uint64_t now_ns, struct rd_buf **bufs,
                     int max)
{
    void *pkts[DEQ_CHUNK];
    int total = 0;

    while (total < max) {
        int want = max - total < DEQ_CHUNK ? max - total : DEQ_CHUNK;
        int n = vsched_dequeue(rs->vs, now_ns, pkts, NULL, want);

        for (int i = 0; i < n; i++) {
            struct rd_buf *b = pkts[i];
            struct rd_sched_link *sl = b->owner;

            sl->queued--;
            meter_served(sl, b->len + rs->overhead_bytes, now_ns);
            b->flags &= ~BUF_QUEUED;
            bufs[total++] = b;
        }
        if (n < want)
            break;
    }
    return total;
}

void rd_sched_put(struct rd_sched *rs, struct rd_buf *b)
{
    rd_pool_put(&rs->pool, b);
}

uint64_t rd_sched_next_ns(const struct rd_sched *rs, uint64_t now_ns)
{
    return vsched_next_ns(rs->vs, now_ns);
}

/* ---- statistics ------------------------------------------------------- */

int rd_sched_link_stats(const struct rd_sched *rs, uint32_t key,
                        uint64_t now_ns, struct vsched_link_stats *out)
{
    const struct rd_sched_link *sl = find_link(rs, key);

    if (sl == NULL || vsched_link_stats(rs->vs, key, now_ns, out) != 0)
        return -1;
    out->drops_own_pkts = sl->drops_own_pkts;
    out->drops_own_bytes = sl->drops_own_bytes;
    out->drops_others_pkts = sl->drops_others_pkts;
    out->drops_others_bytes = sl->drops_others_bytes;
    return 0;
}

uint64_t rd_sched_slice_rate(const struct rd_sched *rs, uint32_t slice_id,
                             uint32_t *n_links, uint32_t *weight)
{
    const struct slice_ent *sl = find_slice(rs, slice_id);

    if (n_links != NULL)
        *n_links = sl ? sl->n_links : 0;
    if (weight != NULL)
        *weight = sl ? sl->weight : 0;
    return sl ? sl->rate_bps : 0;
}

void rd_sched_get_stats(const struct rd_sched *rs, struct rd_sched_stats *st)
{
    memset(st, 0, sizeof(*st));
    st->rate_bps = rs->rate_bps;
    st->burst_bytes = rs->burst_bytes;
    vsched_port_stats(rs->vs, &st->port);
    st->buffers = rs->pool.n_total;
    st->buffers_free = rs->pool.n_free;
    st->buffers_reserved = rs->pool.n_reserved;
    st->drops_no_buffer = rs->drops_no_buffer;
}

/* ---- the policer of local links ------------------------------------- */

#define NS_PER_S 1000000000ull

static void police_refill(struct rd_police *p, uint64_t now_ns)
{
    uint64_t dt;

    if (now_ns <= p->last_ns)
        return;
    dt = now_ns - p->last_ns;
    p->last_ns = now_ns;
    /* Full once dt covers the gap; also keeps rate * dt from overflowing. */
    if (dt >= (p->depth - p->tokens) / p->rate_bps + 1)
        p->tokens = p->depth;
    else
        p->tokens += p->rate_bps * dt;
}

void rd_police_set(struct rd_police *p, const struct rd_rates *r,
                   uint32_t overhead_bytes, uint64_t now_ns)
{
    double limit = r->ceil_bps > 0 ? r->ceil_bps : r->rate_bps;
    bool fresh = p->rate_bps == 0; /* had no limit: starts full */

    if (!fresh)
        police_refill(p, now_ns);
    p->overhead_bytes = overhead_bytes;
    p->last_ns = now_ns;
    p->rate_bps = limit >= 1 ? to_bps(limit) : 0;
    if (p->rate_bps == 0) {
        p->depth = p->tokens = 0;
        return;
    }
    p->depth = (uint64_t)rd_sched_link_burst(p->rate_bps, r->burst_bytes) * 8 *
               NS_PER_S;
    if (fresh || p->tokens > p->depth)
        p->tokens = p->depth;
}

bool rd_police_take(struct rd_police *p, uint32_t len, uint64_t now_ns)
{
    uint64_t cost;

    if (p->rate_bps == 0)
        return true;
    police_refill(p, now_ns);
    cost = ((uint64_t)len + p->overhead_bytes) * 8 * NS_PER_S;
    if (p->tokens < cost)
        return false;
    p->tokens -= cost;
    return true;
}
