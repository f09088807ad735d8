/* ctl: slice transactions over the store and the sliver driver. */
#include "ctl.h"

#include <signal.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "units.h"

__attribute__((format(printf, 3, 4))) static int
fail(struct ctl_err *e, enum vn_fault code, const char *fmt, ...)
{
    va_list ap;

    e->code = code;
    va_start(ap, fmt);
    if (vasprintf(&e->msg, fmt, ap) < 0)
        e->msg = NULL;
    va_end(ap);
    return -1;
}

/* Takes ownership of 'msg'. */
static int fail_take(struct ctl_err *e, enum vn_fault code, char *msg)
{
    e->code = code;
    e->msg = msg;
    return -1;
}

static void add_total(const char *key, uint64_t amount, void *ctx)
{
    struct ctl *c = ctx;

    if (embed_usage_apply(c->topo, c->usage, key, amount, +1) < 0)
        log_warn("reservation '%s' names nothing in topology '%s'; ignored",
                 key, c->topo->name);
}

static void apply_resv(struct ctl *c, const struct embed_resv *r, size_t n,
                       int sign)
{
    for (size_t i = 0; i < n; i++)
        embed_usage_apply(c->topo, c->usage, r[i].key, r[i].amount, sign);
}

/* Destroys every sliver a node may hold, in reverse order, then forgets
 * the slice and its reservations. Returns 0, or -1 if a node refused (the
 * slice stays in 'deleting' for ctl_tick to retry). */
static int teardown(struct ctl *c, struct store_slice *s, char **err)
{
    struct embed_resv *resv = NULL;
    int n_resv;

    if (s->state != SLICE_DELETING) {
        if (store_slice_set_state(c->store, s->name, SLICE_DELETING) < 0)
            return -1;
        s->state = SLICE_DELETING;
    }
    for (size_t i = s->n_slivers; i-- > 0;) {
        struct store_sliver *v = &s->slivers[i];
        if (v->state == SLIVER_PLANNED)
            continue;
        if (v->state != SLIVER_DELETING) {
            if (store_sliver_set_state(c->store, s->name, v->name,
                                       SLIVER_DELETING) < 0)
                return -1;
            v->state = SLIVER_DELETING;
        }
        if (c->driver->destroy(c->driver->ctx, s, v, err) < 0) {
            log_warn("slice %s: cannot destroy %s on %s: %s", s->name,
                     v->name, v->host, *err ? *err : "?");
            return -1;
        }
    }
    n_resv = store_slice_reservations(c->store, s->name, &resv);
    if (n_resv < 0 || store_slice_remove(c->store, s->name) < 0) {
        free(resv);
        return -1;
    }
    apply_resv(c, resv, (size_t)n_resv, -1);
    free(resv);
    return 0;
}

static int resolve_interrupted(struct ctl *c)
{
    char **names = NULL;
    int n = store_slice_names(c->store, NULL, -1, &names);

    if (n < 0)
        return -1;
    for (int i = 0; i < n; i++) {
        struct store_slice *s = NULL;
        char *err = NULL;
        if (store_slice_load(c->store, names[i], &s) == 1 &&
            s->state != SLICE_READY) {
            log_info("slice %s was %s when sncd stopped: %s", s->name,
                     slice_state_name(s->state),
                     s->state == SLICE_CREATING ? "rolling back"
                                                : "finishing delete");
            if (teardown(c, s, &err) < 0)
                log_warn("slice %s: teardown incomplete (%s); will retry",
                         s->name, err ? err : "store error");
        }
        free(err);
        store_slice_free(s);
        free(names[i]);
    }
    free(names);
    return 0;
}

int ctl_init(struct ctl *c, const struct topo *t, struct store *st,
             const struct sliver_driver *driver)
{
    const char *crash = getenv("SNCD_CRASH_AFTER_STEPS");

    c->topo = t;
    c->store = st;
    c->driver = driver;
    if (c->default_lease_s == 0)
        c->default_lease_s = 24 * 3600;
    if (c->max_lease_s == 0)
        c->max_lease_s = 30 * 24 * 3600;
    c->crash_after_steps = crash ? (unsigned)strtoul(crash, NULL, 10) : 0;
    c->usage = embed_usage_new(t);
    if (c->usage == NULL)
        return -1;
    /* Usage first, so a teardown during recovery subtracts from it. */
    if (store_reservation_totals(st, add_total, c) < 0)
        return -1;
    return resolve_interrupted(c);
}

void ctl_fini(struct ctl *c)
{
    embed_usage_free(c->usage);
    c->usage = NULL;
}

static int check_lease(struct ctl *c, const struct slice_spec *sp, time_t now,
                       int64_t *lease_end, struct ctl_err *e)
{
    uint64_t dur = sp->lease.duration_s ? sp->lease.duration_s
                                        : c->default_lease_s;
    char a[32], b[32];

    if (sp->lease.present && sp->lease.start > now + 60)
        return fail(e, VN_FAULT_INVALID_SPEC,
                    "lease start %s is in the future; advance reservations "
                    "are not supported yet: omit start to begin now",
                    units_format_time(sp->lease.start, a, sizeof(a)));
    if (dur > c->max_lease_s)
        return fail(e, VN_FAULT_INVALID_SPEC,
                    "lease duration %s is longer than the maximum %s",
                    units_format_duration(dur, a, sizeof(a)),
                    units_format_duration(c->max_lease_s, b, sizeof(b)));
    *lease_end = (int64_t)now + (int64_t)dur;
    return 0;
}

int ctl_validate(struct ctl *c, const char *xml, size_t len, time_t now,
                 struct slice_spec **spec, struct embed_result **emb,
                 int64_t *lease_end, struct ctl_err *e)
{
    struct slice_spec *sp = NULL;
    char *err = spec_parse(xml, len, &sp);

    if (err != NULL)
        return fail_take(e, VN_FAULT_INVALID_SPEC, err);
    if (check_lease(c, sp, now, lease_end, e) < 0) {
        spec_free(sp);
        return -1;
    }
    err = embed_slice(c->topo, c->usage, sp, emb);
    if (err != NULL) {
        spec_free(sp);
        return fail_take(e, VN_FAULT_NO_CAPACITY, err);
    }
    *spec = sp;
    return 0;
}

static void sliver_set(struct store_sliver *v, const char *kind,
                       const char *id, const char *suffix, const char *host)
{
    snprintf(v->name, sizeof(v->name), "%s:%s%s", kind, id, suffix);
    snprintf(v->kind, sizeof(v->kind), "%s", kind);
    snprintf(v->id, sizeof(v->id), "%s", id);
    snprintf(v->host, sizeof(v->host), "%s", host);
    v->state = SLIVER_PLANNED;
}

/* The slivers of an embedded slice, in creation order: nodes, then link
 * halves (one per VNode end), then gateways. Caller frees. */
static struct store_sliver *plan_slivers(const struct topo *t,
                                         const struct slice_spec *sp,
                                         const struct embed_result *r,
                                         size_t *n)
{
    struct store_sliver *v =
        calloc(sp->n_nodes + 2 * sp->n_links + sp->n_gateways + 1, sizeof(*v));
    size_t k = 0;
    char path[400], rate[32];

    if (v == NULL)
        return NULL;
    for (size_t i = 0; i < sp->n_nodes; i++) {
        const struct spec_node *sn = &sp->nodes[i];
        sliver_set(&v[k], "node", sn->id, "",
                   t->vnodes[r->node_vnode[i]].name);
        snprintf(v[k++].detail, sizeof(v->detail), "type=%s",
                 spec_node_kind_name(sn->kind));
    }
    for (size_t i = 0; i < sp->n_links; i++) {
        const struct spec_link *sl = &sp->links[i];
        const struct embed_link *el = &r->links[i];
        const char *ha = t->vnodes[el->vnode_a].name;
        const char *hb = t->vnodes[el->vnode_b].name;
        embed_path_text(t, el, path, sizeof(path));
        units_format_rate(sl->rate_bps, rate, sizeof(rate));
        if (el->vnode_a == el->vnode_b) {
            const struct spec_node *na = spec_find_node(sp, sl->a);
            const struct spec_node *nb = spec_find_node(sp, sl->b);
            bool shm = na != NULL && nb != NULL &&
                       na->kind == SPEC_NODE_FASTPATH &&
                       nb->kind == SPEC_NODE_FASTPATH;
            sliver_set(&v[k], "link", sl->id, "", ha);
            snprintf(v[k++].detail, sizeof(v->detail),
                     "local a=%s b=%s rate=%s%s", sl->a, sl->b, rate,
                     shm ? DRIVER_SHM_MARK : "");
            continue;
        }
        sliver_set(&v[k], "link", sl->id, ":a", ha);
        snprintf(v[k++].detail, sizeof(v->detail),
                 "node=%s peer=%s rate=%s path=%s", sl->a, hb, rate, path);
        sliver_set(&v[k], "link", sl->id, ":b", hb);
        snprintf(v[k++].detail, sizeof(v->detail),
                 "node=%s peer=%s rate=%s path=%s", sl->b, ha, rate, path);
    }
    for (size_t i = 0; i < sp->n_gateways; i++) {
        const struct spec_gateway *g = &sp->gateways[i];
        sliver_set(&v[k], "gw", g->id, "", t->agws[r->gateway_agw[i]].name);
        snprintf(v[k++].detail, sizeof(v->detail), "node=%s auth=%s", g->node,
                 g->auth == SPEC_AUTH_PSK ? "psk" : "cert");
    }
    *n = k;
    return v;
}

/* Runs the driver over every sliver; on failure rolls back. */
static int build_slivers(struct ctl *c, struct store_slice *s,
                         struct ctl_err *e)
{
    unsigned steps = 0;

    for (size_t i = 0; i < s->n_slivers; i++) {
        struct store_sliver *v = &s->slivers[i];
        char *err = NULL, *rb_err = NULL;

        if (store_sliver_set_state(c->store, s->name, v->name,
                                   SLIVER_CREATING) < 0)
            goto store_failed;
        v->state = SLIVER_CREATING;
        if (c->driver->create(c->driver->ctx, s, v, &err) < 0) {
            store_sliver_set_state(c->store, s->name, v->name, SLIVER_FAILED);
            v->state = SLIVER_FAILED;
            if (teardown(c, s, &rb_err) < 0)
                log_warn("slice %s: rollback incomplete (%s); will retry",
                         s->name, rb_err ? rb_err : "store error");
            fail(e, VN_FAULT_NODE,
                 "%s on %s failed: %s; the slice was rolled back%s", v->name,
                 v->host, err ? err : "unknown error",
                 rb_err ? " (cleanup continues in the background)" : "");
            free(err);
            free(rb_err);
            return -1;
        }
        if (store_sliver_set_state(c->store, s->name, v->name, SLIVER_READY) <
            0)
            goto store_failed;
        v->state = SLIVER_READY;
        if (c->crash_after_steps && ++steps == c->crash_after_steps) {
            log_warn("SNCD_CRASH_AFTER_STEPS=%u reached: killing myself",
                     steps);
            raise(SIGKILL);
        }
    }
    return 0;
store_failed:
    return fail(e, VN_FAULT_INTERNAL, "the store failed during create of %s",
                s->name);
}

int ctl_create(struct ctl *c, const char *owner, const char *xml, size_t len,
               time_t now, struct ctl_err *e)
{
    struct slice_spec *sp = NULL;
    struct embed_result *emb = NULL;
    struct embed_resv *resv = NULL;
    struct store_slice s = {0};
    struct store_slice *old = NULL;
    int n_resv, rc = -1;

    if (ctl_validate(c, xml, len, now, &sp, &emb, &s.lease_end, e) < 0)
        return -1;
    if (store_slice_load(c->store, sp->name, &old) != 0) {
        fail(e, VN_FAULT_EXISTS, "slice name '%s' is taken; pick another",
             sp->name);
        goto cleanup;
    }
    n_resv = embed_reservations(c->topo, sp, emb, &resv);
    s.slivers = plan_slivers(c->topo, sp, emb, &s.n_slivers);
    s.name = sp->name;
    s.owner = (char *)owner;
    s.spec = strndup(xml, len);
    s.state = SLICE_CREATING;
    s.created = (int64_t)now;
    if (n_resv < 0 || s.slivers == NULL || s.spec == NULL) {
        fail(e, VN_FAULT_INTERNAL, "out of memory");
        goto cleanup;
    }
    switch (store_slice_insert(c->store, &s, resv, (size_t)n_resv)) {
    case 0:
        break;
    case 1:
        fail(e, VN_FAULT_EXISTS, "slice name '%s' is taken; pick another",
             sp->name);
        goto cleanup;
    default:
        fail(e, VN_FAULT_INTERNAL, "the store failed; nothing was created");
        goto cleanup;
    }
    apply_resv(c, resv, (size_t)n_resv, +1);
    if (build_slivers(c, &s, e) < 0)
        goto cleanup;
    if (store_slice_set_state(c->store, s.name, SLICE_READY) < 0) {
        fail(e, VN_FAULT_INTERNAL, "the store failed finishing %s", s.name);
        goto cleanup;
    }
    log_info("slice %s created for %s: %zu slivers", s.name, owner,
             s.n_slivers);
    rc = 0;
cleanup:
    store_slice_free(old);
    free(s.slivers);
    free(s.spec);
    free(resv);
    embed_result_free(emb);
    spec_free(sp);
    return rc;
}

int ctl_delete(struct ctl *c, const char *owner, const char *name,
               struct ctl_err *e)
{
    struct store_slice *s = NULL;
    char *err = NULL;
    int rc = store_slice_load(c->store, name, &s);

    if (rc < 0)
        return fail(e, VN_FAULT_INTERNAL, "the store failed");
    if (rc == 0 || (owner != NULL && strcmp(s->owner, owner) != 0)) {
        store_slice_free(s);
        return fail(e, VN_FAULT_NOT_FOUND, "no slice '%s'%s", name,
                    owner ? " of yours" : "");
    }
    rc = teardown(c, s, &err);
    if (rc < 0)
        fail(e, VN_FAULT_NODE,
             "slice %s: %s; it stays 'deleting' and sncd retries", name,
             err ? err : "the store failed");
    else
        log_info("slice %s deleted", name);
    free(err);
    store_slice_free(s);
    return rc;
}

int ctl_tick(struct ctl *c, time_t now)
{
    char **names = NULL;
    int n = store_slice_names(c->store, NULL, -1, &names), removed = 0;

    for (int i = 0; i < n; i++) {
        struct store_slice *s = NULL;
        char *err = NULL;
        if (store_slice_load(c->store, names[i], &s) == 1 &&
            (s->state == SLICE_DELETING ||
             (s->state == SLICE_READY && s->lease_end <= (int64_t)now))) {
            if (s->state == SLICE_READY)
                log_info("slice %s: lease ended; deleting", s->name);
            if (teardown(c, s, &err) == 0)
                removed++;
        }
        free(err);
        store_slice_free(s);
        free(names[i]);
    }
    free(names);
    return removed;
}

static bool holds(char **names, int n, const char *slice, const char *sliver)
{
    size_t ls = strlen(slice);

    for (int i = 0; i < n; i++)
        if (strncmp(names[i], slice, ls) == 0 && names[i][ls] == '/' &&
            strcmp(names[i] + ls + 1, sliver) == 0)
            return true;
    return false;
}

/* Re-creates the ready slivers of 's' on 'host' that 'names' lacks. */
static int resync_slice(struct ctl *c, struct store_slice *s, const char *host,
                        char **names, int n)
{
    int made = 0;

    for (size_t i = 0; i < s->n_slivers; i++) {
        struct store_sliver *v = &s->slivers[i];
        char *err = NULL;
        if (v->state != SLIVER_READY || strcmp(v->host, host) != 0 ||
            strcmp(v->kind, "gw") == 0 || driver_link_is_shm(v) ||
            holds(names, n, s->name, v->name))
            continue; /* a shared-memory link lives in its node slivers */
        log_warn("slice %s: %s lost %s; re-creating it", s->name, host,
                 v->name);
        if (c->driver->create(c->driver->ctx, s, v, &err) < 0)
            log_warn("slice %s: re-creating %s on %s failed: %s", s->name,
                     v->name, host, err ? err : "?");
        else
            made++;
        free(err);
    }
    return made;
}

int ctl_resync(struct ctl *c)
{
    size_t nh = c->topo->n_vnodes;
    char ***names = NULL, **slices = NULL;
    int *counts = NULL, n_slices = 0, made = 0;

    if (c->driver->present == NULL)
        return 0;
    names = calloc(nh + 1, sizeof(*names));
    counts = calloc(nh + 1, sizeof(*counts));
    if (names == NULL || counts == NULL) {
        made = -1;
        goto cleanup;
    }
    /* Ask every node first, then walk the store once. */
    for (size_t h = 0; h < nh; h++)
        counts[h] = c->driver->present(c->driver->ctx,
                                       c->topo->vnodes[h].name, &names[h]);
    n_slices = store_slice_names(c->store, NULL, SLICE_READY, &slices);
    if (n_slices < 0) {
        made = -1;
        goto cleanup;
    }
    for (int i = 0; i < n_slices; i++) {
        struct store_slice *s = NULL;
        if (store_slice_load(c->store, slices[i], &s) != 1)
            continue;
        for (size_t h = 0; h < nh; h++)
            if (counts[h] >= 0)
                made += resync_slice(c, s, c->topo->vnodes[h].name, names[h],
                                     counts[h]);
        store_slice_free(s);
    }
cleanup:
    for (size_t h = 0; names != NULL && h < nh; h++) {
        for (int i = 0; i < counts[h]; i++)
            free(names[h][i]);
        free(names[h]);
    }
    for (int i = 0; i < n_slices; i++)
        free(slices[i]);
    free(slices);
    free(names);
    free(counts);
    return made;
}

static const struct spec_link *find_spec_link(const struct slice_spec *sp,
                                              const char *id)
{
    for (size_t i = 0; i < sp->n_links; i++)
        if (strcmp(sp->links[i].id, id) == 0)
            return &sp->links[i];
    return NULL;
}

/* The reservation keys a link holds: its two redirector ports and every
 * transport link of its path (none when both ends share a VNode). Returns
 * the count written to keys (each malloc'd). */
static size_t link_keys(const struct store_slice *s, const char *link,
                        char **keys, size_t max)
{
    size_t n = 0;

    for (size_t i = 0; i < s->n_slivers && n < max; i++) {
        const struct store_sliver *v = &s->slivers[i];
        const char *path;
        char *copy, *tok, *save = NULL;
        size_t len = strlen(v->name);
        if (strcmp(v->kind, "link") != 0 || strcmp(v->id, link) != 0 ||
            v->name[len - 2] != ':')
            continue; /* local links hold nothing */
        if (asprintf(&keys[n], "port:%s", v->host) >= 0)
            n++;
        if (v->name[len - 1] != 'a' || (path = strstr(v->detail, "path=")) ==
                                           NULL)
            continue;
        copy = strdup(path + 5);
        for (tok = copy ? strtok_r(copy, ",", &save) : NULL;
             tok != NULL && n < max; tok = strtok_r(NULL, ",", &save))
            if (asprintf(&keys[n], "link:%s", tok) >= 0)
                n++;
        free(copy);
    }
    return n;
}

/* Is 'amount' more free on resource 'key'? NULL, or why not. */
static char *key_has_room(struct ctl *c, const char *key, uint64_t amount)
{
    char a[32], b[32];
    const char *what = key + 5;
    uint64_t cap = 0, used = 0;
    int v;

    if (strncmp(key, "port:", 5) == 0 &&
        (v = topo_vnode_index(c->topo, what)) >= 0) {
        cap = c->topo->vnodes[v].port_bps;
        used = c->usage->port_bps[v];
    } else {
        for (size_t l = 0; l < c->topo->n_links; l++) {
            char k[96];
            embed_link_key(c->topo, l, k, sizeof(k));
            if (strcmp(k, key) == 0) {
                cap = c->topo->links[l].bps;
                used = c->usage->link_bps[l];
            }
        }
    }
    if (used + amount <= cap)
        return NULL;
    char *msg = NULL;
    if (asprintf(&msg, "%s %s has %s free, the change needs %s more",
                 strncmp(key, "port:", 5) == 0 ? "the redirector port of"
                                                 : "transport link",
                 what, units_format_rate(cap > used ? cap - used : 0, a,
                                         sizeof(a)),
                 units_format_rate(amount, b, sizeof(b))) < 0)
        msg = NULL;
    return msg;
}

/* Pushes the slice's spec to the link's redirectors. */
static int update_link_slivers(struct ctl *c, struct store_slice *s,
                               const char *link, char **err)
{
    if (c->driver->update == NULL)
        return 0;
    for (size_t i = 0; i < s->n_slivers; i++) {
        struct store_sliver *v = &s->slivers[i];
        if (strcmp(v->kind, "link") == 0 && strcmp(v->id, link) == 0 &&
            c->driver->update(c->driver->ctx, s, v, err) < 0)
            return -1;
    }
    return 0;
}

/* Adds (sign +1) or takes back (-1) a change of 'd' bits/s on every key. */
static void apply_delta(struct ctl *c, char *const *keys, size_t n, int64_t d,
                        int sign)
{
    for (size_t i = 0; i < n && d != 0; i++)
        embed_usage_apply(c->topo, c->usage, keys[i],
                          (uint64_t)(d > 0 ? d : -d), d > 0 ? sign : -sign);
}

int ctl_modify_link(struct ctl *c, const char *owner, const char *name,
                    const char *link, const char *const *kv, size_t n_kv,
                    struct ctl_err *e)
{
    struct store_slice *s = NULL;
    struct slice_spec *old = NULL, *new = NULL;
    char *xml = NULL, *old_xml = NULL, *err = NULL, *keys[64] = {0};
    int64_t delta[64], undo[64], d;
    size_t n_keys = 0;
    int rc = -1, found = store_slice_load(c->store, name, &s);

    if (found == 1 && owner != NULL && strcmp(s->owner, owner) != 0)
        found = 0;
    if (found <= 0) {
        fail(e, found < 0 ? VN_FAULT_INTERNAL : VN_FAULT_NOT_FOUND,
             "no slice '%s'%s", name, owner ? " of yours" : "");
        goto cleanup;
    }
    if (s->state != SLICE_READY) {
        fail(e, VN_FAULT_STATE, "slice %s is %s; wait until it is ready",
             name, slice_state_name(s->state));
        goto cleanup;
    }
    if ((err = spec_set_link_attrs(s->spec, link, kv, n_kv, &xml)) != NULL) {
        fail_take(e, VN_FAULT_INVALID_SPEC, err);
        err = NULL;
        goto cleanup;
    }
    if ((err = spec_parse(s->spec, strlen(s->spec), &old)) != NULL ||
        (err = spec_parse(xml, strlen(xml), &new)) != NULL) {
        fail(e, VN_FAULT_INTERNAL, "stored spec of %s: %s", name, err);
        goto cleanup;
    }
    {
        /* spec_set_link_attrs found the link, so both specs have it. */
        const struct spec_link *ln = find_spec_link(new, link);
        const struct spec_link *lo = find_spec_link(old, link);
        d = ln && lo ? (int64_t)ln->rate_bps - (int64_t)lo->rate_bps : 0;
    }
    n_keys = link_keys(s, link, keys, 64);
    for (size_t i = 0; i < n_keys; i++) {
        delta[i] = d;
        undo[i] = -d;
        if (d > 0 && (err = key_has_room(c, keys[i], (uint64_t)d)) != NULL) {
            fail(e, VN_FAULT_NO_CAPACITY, "link '%s': %s", link, err);
            goto cleanup;
        }
    }
    if (store_slice_respec(c->store, name, xml, (const char *const *)keys,
                           delta, n_keys) < 0) {
        fail(e, VN_FAULT_INTERNAL, "the store failed; nothing changed");
        goto cleanup;
    }
    apply_delta(c, keys, n_keys, d, +1);
    old_xml = s->spec;
    s->spec = xml;
    xml = NULL;
    if (update_link_slivers(c, s, link, &err) < 0) {
        /* Put the store, the accounting and the redirectors back. */
        char *err2 = NULL;
        store_slice_respec(c->store, name, old_xml,
                           (const char *const *)keys, undo, n_keys);
        apply_delta(c, keys, n_keys, d, -1);
        free(s->spec);
        s->spec = old_xml;
        old_xml = NULL;
        update_link_slivers(c, s, link, &err2);
        free(err2);
        fail(e, VN_FAULT_NODE, "link '%s': %s; nothing changed", link,
             err ? err : "a redirector refused");
        goto cleanup;
    }
    log_info("slice %s: link %s changed", name, link);
    rc = 0;
cleanup:
    for (size_t i = 0; i < n_keys; i++)
        free(keys[i]);
    free(err);
    free(xml);
    free(old_xml);
    spec_free(old);
    spec_free(new);
    store_slice_free(s);
    return rc;
}
