/* embed: place node slivers on VNodes and route link slivers. */
#include "embed.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "units.h"

struct embed_usage *embed_usage_new(const struct topo *t)
{
    struct embed_usage *u = calloc(1, sizeof(*u));
    size_t nv = t->n_vnodes + 1, nl = t->n_links + 1;

    if (u == NULL)
        return NULL;
    u->slots = calloc(nv, sizeof(*u->slots));
    u->vcpus = calloc(nv, sizeof(*u->vcpus));
    u->mem_bytes = calloc(nv, sizeof(*u->mem_bytes));
    u->port_bps = calloc(nv, sizeof(*u->port_bps));
    u->link_bps = calloc(nl, sizeof(*u->link_bps));
    if (!u->slots || !u->vcpus || !u->mem_bytes || !u->port_bps ||
        !u->link_bps) {
        embed_usage_free(u);
        return NULL;
    }
    return u;
}

void embed_usage_free(struct embed_usage *u)
{
    if (u == NULL)
        return;
    free(u->slots);
    free(u->vcpus);
    free(u->mem_bytes);
    free(u->port_bps);
    free(u->link_bps);
    free(u);
}

static struct embed_usage *usage_copy(const struct topo *t,
                                      const struct embed_usage *src)
{
    struct embed_usage *u = embed_usage_new(t);

    if (u == NULL)
        return NULL;
    memcpy(u->slots, src->slots, t->n_vnodes * sizeof(*u->slots));
    memcpy(u->vcpus, src->vcpus, t->n_vnodes * sizeof(*u->vcpus));
    memcpy(u->mem_bytes, src->mem_bytes, t->n_vnodes * sizeof(*u->mem_bytes));
    memcpy(u->port_bps, src->port_bps, t->n_vnodes * sizeof(*u->port_bps));
    memcpy(u->link_bps, src->link_bps, t->n_links * sizeof(*u->link_bps));
    return u;
}

void embed_result_free(struct embed_result *r)
{
    if (r == NULL)
        return;
    for (size_t i = 0; r->links != NULL && i < r->n_links; i++)
        free(r->links[i].path);
    free(r->node_vnode);
    free(r->links);
    free(r->gateway_agw);
    free(r);
}

/* Growing string for messages. */
struct msg {
    char buf[1024];
    size_t len;
};

__attribute__((format(printf, 2, 3))) static void msg_add(struct msg *m,
                                                          const char *fmt, ...)
{
    va_list ap;
    int n;

    if (m->len >= sizeof(m->buf) - 1)
        return;
    va_start(ap, fmt);
    n = vsnprintf(m->buf + m->len, sizeof(m->buf) - m->len, fmt, ap);
    va_end(ap);
    if (n > 0)
        m->len += (size_t)n;
    if (m->len >= sizeof(m->buf))
        m->len = sizeof(m->buf) - 1;
}

static char *msg_done(struct msg *m)
{
    return strdup(m->buf);
}

/* ---- nodes ---- */

/* Does node 'n' fit on VNode v given usage u? */
static bool node_fits(const struct topo *t, const struct embed_usage *u,
                      const struct spec_node *n, size_t v)
{
    const struct topo_vnode *vn = &t->vnodes[v];

    if (n->kind == SPEC_NODE_FASTPATH)
        return u->slots[v] + 1 <= vn->fastpath_slots;
    return u->vcpus[v] + n->vcpus <= vn->vcpus &&
           u->mem_bytes[v] + n->memory_bytes <= vn->memory_bytes;
}

/* Free share of the resource 'n' needs on v, for spreading "any" nodes. */
static double free_share(const struct topo *t, const struct embed_usage *u,
                         const struct spec_node *n, size_t v)
{
    const struct topo_vnode *vn = &t->vnodes[v];

    if (n->kind == SPEC_NODE_FASTPATH)
        return vn->fastpath_slots
                   ? (double)(vn->fastpath_slots - u->slots[v]) /
                         vn->fastpath_slots
                   : 0;
    return vn->vcpus ? (double)(vn->vcpus - u->vcpus[v]) / vn->vcpus : 0;
}

static void node_take(struct embed_usage *u, const struct spec_node *n,
                      size_t v)
{
    if (n->kind == SPEC_NODE_FASTPATH) {
        u->slots[v]++;
    } else {
        u->vcpus[v] += n->vcpus;
        u->mem_bytes[v] += n->memory_bytes;
    }
}

static void describe_free(struct msg *m, const struct topo *t,
                          const struct embed_usage *u,
                          const struct spec_node *n, size_t v)
{
    const struct topo_vnode *vn = &t->vnodes[v];
    char a[32], b[32];

    if (n->kind == SPEC_NODE_FASTPATH) {
        msg_add(m, "%s has %u of %u fast-path slots free", vn->name,
                vn->fastpath_slots - u->slots[v], vn->fastpath_slots);
        return;
    }
    msg_add(m, "%s has %u of %u vCPUs and %s of %s memory free", vn->name,
            vn->vcpus - u->vcpus[v], vn->vcpus,
            units_format_size(vn->memory_bytes - u->mem_bytes[v], a, sizeof(a)),
            units_format_size(vn->memory_bytes, b, sizeof(b)));
}

static void describe_need(struct msg *m, const struct spec_node *n)
{
    char a[32];

    if (n->kind == SPEC_NODE_FASTPATH)
        msg_add(m, "the node needs 1 fast-path slot");
    else
        msg_add(m, "the node needs %u vCPUs and %s", n->vcpus,
                units_format_size(n->memory_bytes, a, sizeof(a)));
}

static void list_fitting(struct msg *m, const struct topo *t,
                         const struct embed_usage *u, const struct spec_node *n)
{
    bool any = false;

    for (size_t v = 0; v < t->n_vnodes; v++) {
        if (!node_fits(t, u, n, v))
            continue;
        msg_add(m, "%s%s", any ? ", " : "; VNodes that would fit: ",
                t->vnodes[v].name);
        any = true;
    }
    if (!any)
        msg_add(m, "; no VNode has room for it now");
}

static char *place_node(const struct topo *t, struct embed_usage *u,
                        const struct spec_node *n, int *out)
{
    struct msg m = {.len = 0};
    int best = -1;
    double best_share = -1;

    if (n->vnode != NULL) {
        int v = topo_vnode_index(t, n->vnode);
        if (v < 0) {
            msg_add(&m, "line %d: node '%s': vnode '%s' is not in the topology; "
                        "VNodes are:", n->line, n->id, n->vnode);
            for (size_t i = 0; i < t->n_vnodes; i++)
                msg_add(&m, "%s %s", i ? "," : "", t->vnodes[i].name);
            return msg_done(&m);
        }
        if (!node_fits(t, u, n, (size_t)v)) {
            msg_add(&m, "line %d: node '%s' (%s): VNode ", n->line, n->id,
                    spec_node_kind_name(n->kind));
            describe_free(&m, t, u, n, (size_t)v);
            msg_add(&m, ", ");
            describe_need(&m, n);
            list_fitting(&m, t, u, n);
            return msg_done(&m);
        }
        node_take(u, n, (size_t)v);
        *out = v;
        return NULL;
    }
    for (size_t v = 0; v < t->n_vnodes; v++) {
        double s = free_share(t, u, n, v);
        if (node_fits(t, u, n, v) && s > best_share) {
            best = (int)v;
            best_share = s;
        }
    }
    if (best < 0) {
        msg_add(&m, "line %d: node '%s' (%s): no VNode has room; ", n->line,
                n->id, spec_node_kind_name(n->kind));
        describe_need(&m, n);
        msg_add(&m, " (");
        for (size_t v = 0; v < t->n_vnodes; v++) {
            msg_add(&m, "%s", v ? "; " : "");
            describe_free(&m, t, u, n, v);
        }
        msg_add(&m, ")");
        return msg_done(&m);
    }
    node_take(u, n, (size_t)best);
    *out = best;
    return NULL;
}

/* ---- links ---- */

static uint64_t link_free(const struct topo *t, const struct embed_usage *u,
                          size_t l)
{
    return t->links[l].bps > u->link_bps[l] ? t->links[l].bps - u->link_bps[l]
                                            : 0;
}

/* May a path pass through vertex v? Only transport routers are transit. */
static bool transit_ok(const struct topo *t, size_t v)
{
    return v >= t->n_vnodes && v < t->n_vnodes + t->n_routers;
}

static size_t other_end(const struct topo *t, size_t l, size_t v, bool *ok)
{
    int a = topo_vertex_index(t, t->links[l].a);
    int b = topo_vertex_index(t, t->links[l].b);

    *ok = true;
    if ((size_t)a == v)
        return (size_t)b;
    if ((size_t)b == v)
        return (size_t)a;
    *ok = false;
    return 0;
}

/* Fewest-hop path from vnode src to vnode dst using only links with at least
 * 'rate' free. Returns the number of links written to path (malloc'd), 0 if
 * none, -1 on allocation failure. */
static int shortest_path(const struct topo *t, const struct embed_usage *u,
                         size_t src, size_t dst, uint64_t rate, size_t **path)
{
    size_t nv = topo_n_vertices(t);
    long *via = malloc(nv * sizeof(*via)); /* link used to reach vertex */
    size_t *queue = malloc(nv * sizeof(*queue));
    size_t head = 0, tail = 0, len = 0;
    int ret = -1;

    if (via == NULL || queue == NULL)
        goto cleanup;
    for (size_t v = 0; v < nv; v++)
        via[v] = -2;
    via[src] = -1;
    queue[tail++] = src;
    while (head < tail && via[dst] == -2) {
        size_t v = queue[head++];
        if (v != src && !transit_ok(t, v))
            continue;
        for (size_t l = 0; l < t->n_links; l++) {
            bool ok;
            size_t w = other_end(t, l, v, &ok);
            if (!ok || via[w] != -2 || link_free(t, u, l) < rate)
                continue;
            via[w] = (long)l;
            queue[tail++] = w;
        }
    }
    ret = 0;
    if (via[dst] == -2)
        goto cleanup;
    for (size_t v = dst; v != src; len++) {
        bool ok;
        v = other_end(t, (size_t)via[v], v, &ok);
    }
    *path = malloc(len * sizeof(**path));
    if (*path == NULL) {
        ret = -1;
        goto cleanup;
    }
    for (size_t v = dst, i = len; v != src;) {
        bool ok;
        (*path)[--i] = (size_t)via[v];
        v = other_end(t, (size_t)via[v], v, &ok);
    }
    ret = (int)len;
cleanup:
    free(via);
    free(queue);
    return ret;
}

/* Widest path (largest bottleneck) between src and dst, for "what would
 * fit". Returns the bottleneck in bits/s and the bottleneck link in *which
 * (-1 if dst cannot be reached at all). O(V^2 E); topologies are small. */
static uint64_t widest_path(const struct topo *t, const struct embed_usage *u,
                            size_t src, size_t dst, long *which)
{
    size_t nv = topo_n_vertices(t);
    uint64_t *width = calloc(nv, sizeof(*width));
    long *neck = malloc(nv * sizeof(*neck));
    bool *seen = calloc(nv, sizeof(*seen));
    bool *done = calloc(nv, sizeof(*done));
    uint64_t result = 0;

    *which = -1;
    if (width == NULL || neck == NULL || seen == NULL || done == NULL)
        goto cleanup;
    width[src] = UINT64_MAX;
    neck[src] = -1;
    seen[src] = true;
    for (;;) {
        size_t v = nv;
        for (size_t i = 0; i < nv; i++)
            if (seen[i] && !done[i] && (v == nv || width[i] > width[v]))
                v = i;
        if (v == nv || v == dst)
            break;
        done[v] = true;
        if (v != src && !transit_ok(t, v))
            continue;
        for (size_t l = 0; l < t->n_links; l++) {
            bool ok;
            size_t w = other_end(t, l, v, &ok);
            uint64_t f = link_free(t, u, l);
            uint64_t cand = f < width[v] ? f : width[v];
            if (!ok || done[w] || (seen[w] && cand <= width[w]))
                continue;
            seen[w] = true;
            width[w] = cand;
            neck[w] = f < width[v] ? (long)l : neck[v];
        }
    }
    if (seen[dst]) {
        result = width[dst];
        *which = neck[dst];
    }
cleanup:
    free(width);
    free(neck);
    free(seen);
    free(done);
    return result;
}

static char *port_check(const struct topo *t, const struct embed_usage *u,
                        const struct spec_link *l, size_t v)
{
    const struct topo_vnode *vn = &t->vnodes[v];
    struct msg m = {.len = 0};
    char a[32], b[32], c[32];

    if (u->port_bps[v] + l->rate_bps <= vn->port_bps)
        return NULL;
    msg_add(&m,
            "line %d: link '%s': VNode %s's redirector port has %s of %s free, "
            "the link needs %s",
            l->line, l->id, vn->name,
            units_format_rate(vn->port_bps - u->port_bps[v], a, sizeof(a)),
            units_format_rate(vn->port_bps, b, sizeof(b)),
            units_format_rate(l->rate_bps, c, sizeof(c)));
    return msg_done(&m);
}

static char *route_link(const struct topo *t, struct embed_usage *u,
                        const struct spec_link *l, int va, int vb,
                        struct embed_link *out)
{
    struct msg m = {.len = 0};
    char a[32], b[32];
    char *err;
    int n;

    out->vnode_a = va;
    out->vnode_b = vb;
    if (va == vb)
        return NULL;
    if ((err = port_check(t, u, l, (size_t)va)) != NULL ||
        (err = port_check(t, u, l, (size_t)vb)) != NULL)
        return err;
    n = shortest_path(t, u, (size_t)va, (size_t)vb, l->rate_bps, &out->path);
    if (n < 0)
        return strdup("out of memory");
    if (n == 0) {
        long neck;
        uint64_t w = widest_path(t, u, (size_t)va, (size_t)vb, &neck);
        msg_add(&m, "line %d: link '%s': no transport path between %s and %s "
                    "has %s free",
                l->line, l->id, t->vnodes[va].name, t->vnodes[vb].name,
                units_format_rate(l->rate_bps, a, sizeof(a)));
        if (neck >= 0)
            msg_add(&m, "; the widest has %s free (bottleneck %s-%s)",
                    units_format_rate(w, b, sizeof(b)), t->links[neck].a,
                    t->links[neck].b);
        else
            msg_add(&m, "; they are not connected");
        return msg_done(&m);
    }
    out->path_len = (size_t)n;
    u->port_bps[va] += l->rate_bps;
    u->port_bps[vb] += l->rate_bps;
    for (size_t i = 0; i < out->path_len; i++)
        u->link_bps[out->path[i]] += l->rate_bps;
    return NULL;
}

char *embed_slice(const struct topo *t, const struct embed_usage *used,
                  const struct slice_spec *spec, struct embed_result **out)
{
    struct embed_usage *u = usage_copy(t, used);
    struct embed_result *r = calloc(1, sizeof(*r));
    char *err = NULL;

    if (u == NULL || r == NULL)
        goto oom;
    r->n_nodes = spec->n_nodes;
    r->n_links = spec->n_links;
    r->n_gateways = spec->n_gateways;
    r->node_vnode = calloc(spec->n_nodes + 1, sizeof(*r->node_vnode));
    r->links = calloc(spec->n_links + 1, sizeof(*r->links));
    r->gateway_agw = calloc(spec->n_gateways + 1, sizeof(*r->gateway_agw));
    if (!r->node_vnode || !r->links || !r->gateway_agw)
        goto oom;
    for (size_t i = 0; i < spec->n_nodes && err == NULL; i++)
        err = place_node(t, u, &spec->nodes[i], &r->node_vnode[i]);
    for (size_t i = 0; i < spec->n_links && err == NULL; i++) {
        const struct spec_link *l = &spec->links[i];
        err = route_link(t, u, l, r->node_vnode[spec_node_index(spec, l->a)],
                         r->node_vnode[spec_node_index(spec, l->b)],
                         &r->links[i]);
    }
    for (size_t i = 0; i < spec->n_gateways && err == NULL; i++) {
        const struct spec_gateway *g = &spec->gateways[i];
        r->gateway_agw[i] = topo_agw_index(t, g->agw);
        if (r->gateway_agw[i] < 0) {
            struct msg m = {.len = 0};
            msg_add(&m, "line %d: gateway '%s': agw '%s' is not in the "
                        "topology; AGWs are:", g->line, g->id, g->agw);
            for (size_t a = 0; a < t->n_agws; a++)
                msg_add(&m, "%s %s", a ? "," : "", t->agws[a].name);
            err = msg_done(&m);
        }
    }
    if (err != NULL)
        goto cleanup;
    *out = r;
    r = NULL;
    goto cleanup;
oom:
    err = strdup("out of memory");
cleanup:
    embed_result_free(r);
    embed_usage_free(u);
    return err;
}

void embed_link_key(const struct topo *t, size_t i, char *buf, size_t n)
{
    snprintf(buf, n, "link:%s~%s", t->links[i].a, t->links[i].b);
}

static int resv_add(struct embed_resv **v, size_t *n, size_t *cap,
                    const char *key, uint64_t amount)
{
    if (amount == 0)
        return 0;
    for (size_t i = 0; i < *n; i++)
        if (strcmp((*v)[i].key, key) == 0) {
            (*v)[i].amount += amount;
            return 0;
        }
    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 16;
        struct embed_resv *p = realloc(*v, nc * sizeof(*p));
        if (p == NULL)
            return -1;
        *v = p;
        *cap = nc;
    }
    snprintf((*v)[*n].key, sizeof((*v)[*n].key), "%s", key);
    (*v)[(*n)++].amount = amount;
    return 0;
}

int embed_reservations(const struct topo *t, const struct slice_spec *spec,
                       const struct embed_result *r, struct embed_resv **out)
{
    struct embed_resv *v = NULL;
    size_t n = 0, cap = 0;
    char key[96];
    int rc = 0;

    for (size_t i = 0; i < spec->n_nodes && rc == 0; i++) {
        const struct spec_node *sn = &spec->nodes[i];
        const char *vn = t->vnodes[r->node_vnode[i]].name;
        if (sn->kind == SPEC_NODE_FASTPATH) {
            snprintf(key, sizeof(key), "slots:%s", vn);
            rc = resv_add(&v, &n, &cap, key, 1);
            continue;
        }
        snprintf(key, sizeof(key), "vcpus:%s", vn);
        rc = resv_add(&v, &n, &cap, key, sn->vcpus);
        snprintf(key, sizeof(key), "mem:%s", vn);
        rc |= resv_add(&v, &n, &cap, key, sn->memory_bytes);
    }
    for (size_t i = 0; i < spec->n_links && rc == 0; i++) {
        const struct embed_link *el = &r->links[i];
        uint64_t rate = spec->links[i].rate_bps;
        if (el->vnode_a == el->vnode_b)
            continue;
        snprintf(key, sizeof(key), "port:%s", t->vnodes[el->vnode_a].name);
        rc = resv_add(&v, &n, &cap, key, rate);
        snprintf(key, sizeof(key), "port:%s", t->vnodes[el->vnode_b].name);
        rc |= resv_add(&v, &n, &cap, key, rate);
        for (size_t h = 0; h < el->path_len && rc == 0; h++) {
            embed_link_key(t, el->path[h], key, sizeof(key));
            rc = resv_add(&v, &n, &cap, key, rate);
        }
    }
    if (rc != 0) {
        free(v);
        return -1;
    }
    *out = v;
    return (int)n;
}

static void add_u64(uint64_t *x, uint64_t amount, int sign)
{
    *x = sign > 0 ? *x + amount : (*x > amount ? *x - amount : 0);
}

static void add_uint(unsigned *x, uint64_t amount, int sign)
{
    uint64_t y = *x;
    add_u64(&y, amount, sign);
    *x = (unsigned)y;
}

int embed_usage_apply(const struct topo *t, struct embed_usage *u,
                      const char *key, uint64_t amount, int sign)
{
    const char *colon = strchr(key, ':');
    char kind[16];
    int v;

    if (colon == NULL || (size_t)(colon - key) >= sizeof(kind))
        return -1;
    memcpy(kind, key, (size_t)(colon - key));
    kind[colon - key] = '\0';
    if (strcmp(kind, "link") == 0) {
        char k[96];
        for (size_t l = 0; l < t->n_links; l++) {
            embed_link_key(t, l, k, sizeof(k));
            if (strcmp(k, key) == 0) {
                add_u64(&u->link_bps[l], amount, sign);
                return 0;
            }
        }
        return -1;
    }
    v = topo_vnode_index(t, colon + 1);
    if (v < 0)
        return -1;
    if (strcmp(kind, "slots") == 0)
        add_uint(&u->slots[v], amount, sign);
    else if (strcmp(kind, "vcpus") == 0)
        add_uint(&u->vcpus[v], amount, sign);
    else if (strcmp(kind, "mem") == 0)
        add_u64(&u->mem_bytes[v], amount, sign);
    else if (strcmp(kind, "port") == 0)
        add_u64(&u->port_bps[v], amount, sign);
    else
        return -1;
    return 0;
}

void embed_path_text(const struct topo *t, const struct embed_link *el,
                     char *buf, size_t n)
{
    size_t off = 0;

    buf[0] = '\0';
    for (size_t h = 0; h < el->path_len && off < n; h++)
        off += (size_t)snprintf(buf + off, n - off, "%s%s~%s", h ? "," : "",
                                t->links[el->path[h]].a,
                                t->links[el->path[h]].b);
}
