/* api: slice.* and resources.* for researchers, the portal and the CLI. */
#include "api.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "units.h"

/* Operators see every slice; researchers only their own. */
static const char *owner_filter(const struct vn_rpc_caller *caller)
{
    return caller->role == VN_ROLE_OPERATOR ? NULL : caller->user;
}

static const char *caller_name(const struct vn_rpc_caller *caller)
{
    return caller->user ? caller->user : "anonymous";
}

static void set_err(xmlrpc_env *env, struct ctl_err *e)
{
    vn_fault_set(env, e->code, "%s", e->msg ? e->msg : "unknown error");
    free(e->msg);
    e->msg = NULL;
}

/* Adds key -> value (a new reference that this consumes) to struct s. */
static void put(xmlrpc_env *env, xmlrpc_value *s, const char *key,
                xmlrpc_value *v)
{
    if (v == NULL)
        return;
    xmlrpc_struct_set_value(env, s, key, v);
    xmlrpc_DECREF(v);
}

static void put_str(xmlrpc_env *env, xmlrpc_value *s, const char *key,
                    const char *v)
{
    put(env, s, key, xmlrpc_string_new(env, v ? v : ""));
}

static void put_rate(xmlrpc_env *env, xmlrpc_value *s, const char *key,
                     uint64_t bps)
{
    char buf[32];
    put_str(env, s, key, units_format_rate(bps, buf, sizeof(buf)));
}

static void put_time(xmlrpc_env *env, xmlrpc_value *s, const char *key,
                     int64_t t)
{
    char buf[32];
    put_str(env, s, key, units_format_time((time_t)t, buf, sizeof(buf)));
}

static void append(xmlrpc_env *env, xmlrpc_value *a, xmlrpc_value *v)
{
    if (v == NULL)
        return;
    xmlrpc_array_append_item(env, a, v);
    xmlrpc_DECREF(v);
}

static const struct store_sliver *find_sliver(const struct store_slice *s,
                                              const char *name)
{
    for (size_t i = 0; i < s->n_slivers; i++)
        if (strcmp(s->slivers[i].name, name) == 0)
            return &s->slivers[i];
    return NULL;
}

static xmlrpc_value *node_view(xmlrpc_env *env, const struct spec_node *n,
                               const char *vnode, const char *state)
{
    xmlrpc_value *v = xmlrpc_struct_new(env);
    char buf[32];

    put_str(env, v, "id", n->id);
    put_str(env, v, "type", spec_node_kind_name(n->kind));
    put_str(env, v, "vnode", vnode);
    if (state)
        put_str(env, v, "state", state);
    if (n->module)
        put_str(env, v, "module", n->module);
    if (n->kind != SPEC_NODE_FASTPATH) {
        put(env, v, "vcpus", xmlrpc_int_new(env, (int)n->vcpus));
        put_str(env, v, "memory",
                units_format_size(n->memory_bytes, buf, sizeof(buf)));
    }
    return v;
}

static xmlrpc_value *link_view(xmlrpc_env *env, const struct spec_link *l,
                               const char *va, const char *vb,
                               const char *path, const char *state)
{
    xmlrpc_value *v = xmlrpc_struct_new(env);

    put_str(env, v, "id", l->id);
    put_str(env, v, "a", l->a);
    put_str(env, v, "b", l->b);
    put_str(env, v, "vnode_a", va);
    put_str(env, v, "vnode_b", vb);
    put_rate(env, v, "bandwidth", l->rate_bps);
    put_rate(env, v, "ceiling", l->ceil_bps);
    put_str(env, v, "path", path);
    if (state)
        put_str(env, v, "state", state);
    return v;
}

/* The state of a link from its one or two halves: the least advanced one,
 * or failed if any failed. */
static const char *link_state(const struct store_slice *s, const char *id)
{
    char name[80];
    const struct store_sliver *h[3];
    enum sliver_state st = SLIVER_READY;

    snprintf(name, sizeof(name), "link:%s", id);
    h[0] = find_sliver(s, name);
    snprintf(name, sizeof(name), "link:%s:a", id);
    h[1] = find_sliver(s, name);
    snprintf(name, sizeof(name), "link:%s:b", id);
    h[2] = find_sliver(s, name);
    for (int i = 0; i < 3; i++) {
        if (h[i] == NULL)
            continue;
        if (h[i]->state == SLIVER_FAILED)
            return sliver_state_name(SLIVER_FAILED);
        if (h[i]->state < st || h[i]->state == SLIVER_DELETING)
            st = h[i]->state;
    }
    return sliver_state_name(st);
}

static const char *link_path(const struct store_sliver *half)
{
    const char *p = half ? strstr(half->detail, "path=") : NULL;
    return p ? p + 5 : "";
}

static xmlrpc_value *slice_view(xmlrpc_env *env, const struct store_slice *s)
{
    struct slice_spec *sp = NULL;
    xmlrpc_value *v = NULL, *nodes = NULL, *links = NULL, *slivers = NULL;
    char *err = spec_parse(s->spec, strlen(s->spec), &sp);
    char name[80];

    if (err != NULL) {
        vn_fault_set(env, VN_FAULT_INTERNAL, "stored spec of %s: %s", s->name,
                     err);
        free(err);
        return NULL;
    }
    v = xmlrpc_struct_new(env);
    put_str(env, v, "name", s->name);
    put_str(env, v, "owner", s->owner);
    put_str(env, v, "state", slice_state_name(s->state));
    put_time(env, v, "created", s->created);
    put_time(env, v, "lease_end", s->lease_end);
    nodes = xmlrpc_array_new(env);
    for (size_t i = 0; i < sp->n_nodes; i++) {
        snprintf(name, sizeof(name), "node:%s", sp->nodes[i].id);
        const struct store_sliver *x = find_sliver(s, name);
        append(env, nodes,
               node_view(env, &sp->nodes[i], x ? x->host : "",
                         x ? sliver_state_name(x->state) : "unknown"));
    }
    links = xmlrpc_array_new(env);
    for (size_t i = 0; i < sp->n_links; i++) {
        const struct spec_link *l = &sp->links[i];
        snprintf(name, sizeof(name), "node:%s", l->a);
        const struct store_sliver *na = find_sliver(s, name);
        snprintf(name, sizeof(name), "node:%s", l->b);
        const struct store_sliver *nb = find_sliver(s, name);
        snprintf(name, sizeof(name), "link:%s:a", l->id);
        append(env, links,
               link_view(env, l, na ? na->host : "", nb ? nb->host : "",
                         link_path(find_sliver(s, name)),
                         link_state(s, l->id)));
    }
    slivers = xmlrpc_array_new(env);
    for (size_t i = 0; i < s->n_slivers; i++) {
        xmlrpc_value *x = xmlrpc_struct_new(env);
        put_str(env, x, "name", s->slivers[i].name);
        put_str(env, x, "host", s->slivers[i].host);
        put_str(env, x, "state", sliver_state_name(s->slivers[i].state));
        put_str(env, x, "detail", s->slivers[i].detail);
        append(env, slivers, x);
    }
    put(env, v, "nodes", nodes);
    put(env, v, "links", links);
    put(env, v, "slivers", slivers);
    spec_free(sp);
    return v;
}

/* Loads a slice the caller may see, or sets NOT_FOUND. */
static struct store_slice *load_visible(xmlrpc_env *env, struct ctl *c,
                                        const char *name,
                                        const struct vn_rpc_caller *caller)
{
    struct store_slice *s = NULL;
    const char *owner = owner_filter(caller);
    int rc = store_slice_load(c->store, name, &s);

    if (rc < 0) {
        vn_fault_set(env, VN_FAULT_INTERNAL, "the store failed");
        return NULL;
    }
    if (rc == 0 || (owner != NULL && strcmp(owner, s->owner) != 0)) {
        vn_fault_set(env, VN_FAULT_NOT_FOUND, "no slice '%s'%s; snc list "
                     "shows yours", name, owner ? " of yours" : "");
        store_slice_free(s);
        return NULL;
    }
    return s;
}

static xmlrpc_value *m_validate(xmlrpc_env *env, xmlrpc_value *params,
                                const struct vn_rpc_caller *caller, void *ctx)
{
    struct ctl *c = ctx;
    char *xml = vn_rpc_arg_string(env, params, 0);
    struct slice_spec *sp = NULL;
    struct embed_result *emb = NULL;
    struct ctl_err e = {0};
    xmlrpc_value *v = NULL, *nodes, *links;
    int64_t lease_end = 0;

    (void)caller;
    if (xml == NULL)
        return NULL;
    if (ctl_validate(c, xml, strlen(xml), time(NULL), &sp, &emb, &lease_end,
                     &e) < 0) {
        set_err(env, &e);
        goto cleanup;
    }
    v = xmlrpc_struct_new(env);
    put_str(env, v, "name", sp->name);
    put(env, v, "embeddable", xmlrpc_bool_new(env, 1));
    put_time(env, v, "lease_end", lease_end);
    nodes = xmlrpc_array_new(env);
    for (size_t i = 0; i < sp->n_nodes; i++)
        append(env, nodes,
               node_view(env, &sp->nodes[i],
                         c->topo->vnodes[emb->node_vnode[i]].name, NULL));
    links = xmlrpc_array_new(env);
    for (size_t i = 0; i < sp->n_links; i++) {
        const struct embed_link *el = &emb->links[i];
        char path[400];
        embed_path_text(c->topo, el, path, sizeof(path));
        append(env, links,
               link_view(env, &sp->links[i],
                         c->topo->vnodes[el->vnode_a].name,
                         c->topo->vnodes[el->vnode_b].name, path, NULL));
    }
    put(env, v, "nodes", nodes);
    put(env, v, "links", links);
cleanup:
    embed_result_free(emb);
    spec_free(sp);
    free(xml);
    return v;
}

static xmlrpc_value *m_create(xmlrpc_env *env, xmlrpc_value *params,
                              const struct vn_rpc_caller *caller, void *ctx)
{
    struct ctl *c = ctx;
    char *xml = vn_rpc_arg_string(env, params, 0);
    struct slice_spec *sp = NULL;
    struct store_slice *s = NULL;
    struct ctl_err e = {0};
    xmlrpc_value *v = NULL;

    if (xml == NULL)
        return NULL;
    if (ctl_create(c, caller_name(caller), xml, strlen(xml), time(NULL), &e) <
        0) {
        set_err(env, &e);
        goto cleanup;
    }
    /* The name is valid: ctl_create parsed it. */
    if (spec_parse(xml, strlen(xml), &sp) == NULL &&
        store_slice_load(c->store, sp->name, &s) == 1)
        v = slice_view(env, s);
    else
        vn_fault_set(env, VN_FAULT_INTERNAL, "created, but cannot read back");
cleanup:
    store_slice_free(s);
    spec_free(sp);
    free(xml);
    return v;
}

static xmlrpc_value *m_get(xmlrpc_env *env, xmlrpc_value *params,
                           const struct vn_rpc_caller *caller, void *ctx)
{
    char *name = vn_rpc_arg_string(env, params, 0);
    struct store_slice *s = name ? load_visible(env, ctx, name, caller) : NULL;
    xmlrpc_value *v = s ? slice_view(env, s) : NULL;

    store_slice_free(s);
    free(name);
    return v;
}

static int count_kind(const struct store_slice *s, const char *kind)
{
    int n = 0;

    for (size_t i = 0; i < s->n_slivers; i++)
        n += strcmp(s->slivers[i].kind, kind) == 0 &&
             strchr(s->slivers[i].name + strlen(kind) + 1, ':') == NULL;
    return n;
}

static int count_links(const struct store_slice *s)
{
    int n = 0;

    for (size_t i = 0; i < s->n_slivers; i++) {
        const char *nm = s->slivers[i].name;
        size_t len = strlen(nm);
        if (strcmp(s->slivers[i].kind, "link") != 0)
            continue;
        /* one per link: the local sliver or the ":a" half */
        n += strchr(nm + 5, ':') == NULL ||
             (len > 2 && strcmp(nm + len - 2, ":a") == 0);
    }
    return n;
}

static xmlrpc_value *m_list(xmlrpc_env *env, xmlrpc_value *params,
                            const struct vn_rpc_caller *caller, void *ctx)
{
    struct ctl *c = ctx;
    char **names = NULL;
    int n = store_slice_names(c->store, owner_filter(caller), -1, &names);
    xmlrpc_value *a;

    (void)params;
    if (n < 0) {
        vn_fault_set(env, VN_FAULT_INTERNAL, "the store failed");
        return NULL;
    }
    a = xmlrpc_array_new(env);
    for (int i = 0; i < n; i++) {
        struct store_slice *s = NULL;
        if (store_slice_load(c->store, names[i], &s) == 1) {
            xmlrpc_value *v = xmlrpc_struct_new(env);
            put_str(env, v, "name", s->name);
            put_str(env, v, "owner", s->owner);
            put_str(env, v, "state", slice_state_name(s->state));
            put(env, v, "nodes", xmlrpc_int_new(env, count_kind(s, "node")));
            put(env, v, "links", xmlrpc_int_new(env, count_links(s)));
            put_time(env, v, "created", s->created);
            put_time(env, v, "lease_end", s->lease_end);
            append(env, a, v);
        }
        store_slice_free(s);
        free(names[i]);
    }
    free(names);
    return a;
}

static xmlrpc_value *m_delete(xmlrpc_env *env, xmlrpc_value *params,
                              const struct vn_rpc_caller *caller, void *ctx)
{
    char *name = vn_rpc_arg_string(env, params, 0);
    struct ctl_err e = {0};
    xmlrpc_value *v = NULL;

    if (name == NULL)
        return NULL;
    if (ctl_delete(ctx, owner_filter(caller), name, &e) < 0) {
        set_err(env, &e);
    } else {
        v = xmlrpc_struct_new(env);
        put_str(env, v, "name", name);
        put_str(env, v, "state", "deleted");
    }
    free(name);
    return v;
}

/* slice.modify(name, link, "key=value key=value"): a live change. */
static xmlrpc_value *m_modify(xmlrpc_env *env, xmlrpc_value *params,
                              const struct vn_rpc_caller *caller, void *ctx)
{
    char *name = vn_rpc_arg_string(env, params, 0);
    char *link = name ? vn_rpc_arg_string(env, params, 1) : NULL;
    char *sets = link ? vn_rpc_arg_string(env, params, 2) : NULL;
    const char *kv[16];
    size_t n = 0;
    struct ctl_err e = {0};
    xmlrpc_value *v = NULL;
    char *save = NULL;

    if (sets == NULL)
        goto cleanup;
    for (char *tok = strtok_r(sets, " \t,", &save); tok != NULL;
         tok = strtok_r(NULL, " \t,", &save)) {
        char *eq = strchr(tok, '=');
        if (eq == NULL || eq == tok || n == 16) {
            vn_fault_set(env, VN_FAULT_INVALID_ARG,
                         "'%s': expected name=value pairs such as "
                         "bandwidth=200Mbit (at most 8)", tok);
            goto cleanup;
        }
        *eq = '\0';
        kv[n++] = tok;
        kv[n++] = eq + 1;
    }
    if (n == 0) {
        vn_fault_set(env, VN_FAULT_INVALID_ARG, "nothing to change; give "
                     "e.g. bandwidth=200Mbit ceiling=300Mbit");
        goto cleanup;
    }
    if (ctl_modify_link(ctx, owner_filter(caller), name, link, kv, n / 2,
                        &e) < 0) {
        set_err(env, &e);
        goto cleanup;
    }
    v = m_get(env, params, caller, ctx);
cleanup:
    free(name);
    free(link);
    free(sets);
    return v;
}

/* slice.load(name, node, module): a developer's fast-path module. */
static xmlrpc_value *m_load(xmlrpc_env *env, xmlrpc_value *params,
                            const struct vn_rpc_caller *caller, void *ctx)
{
    struct ctl *c = ctx;
    char *name = vn_rpc_arg_string(env, params, 0);
    char *node = name ? vn_rpc_arg_string(env, params, 1) : NULL;
    struct store_slice *s = node ? load_visible(env, c, name, caller) : NULL;
    const unsigned char *so = NULL;
    size_t len = 0;
    xmlrpc_value *arg = NULL, *v = NULL;
    const struct store_sliver *sv = NULL;
    char sliver[80], *err = NULL, *kv = NULL;

    if (s == NULL)
        goto cleanup;
    snprintf(sliver, sizeof(sliver), "node:%s", node);
    sv = find_sliver(s, sliver);
    if (sv == NULL || strstr(sv->detail, "type=fastpath") == NULL) {
        vn_fault_set(env, VN_FAULT_NOT_FOUND, "slice %s has no fast-path "
                     "node '%s'", name, node);
        goto cleanup;
    }
    if (s->state != SLICE_READY || c->driver->load_module == NULL) {
        vn_fault_set(env, VN_FAULT_STATE, "slice %s is %s%s", name,
                     slice_state_name(s->state),
                     c->driver->load_module ? "" : " (nodes not driven)");
        goto cleanup;
    }
    xmlrpc_array_read_item(env, params, 2, &arg);
    if (arg != NULL)
        xmlrpc_read_base64(env, arg, &len, &so);
    if (env->fault_occurred)
        goto cleanup;
    if (xmlrpc_array_size(env, params) > 3 &&
        (kv = vn_rpc_arg_string(env, params, 3)) == NULL)
        goto cleanup;
    if (c->driver->load_module(c->driver->ctx, s, sv, so, len, kv, &err) <
        0) {
        vn_fault_set(env, VN_FAULT_NODE, "%s", err ? err : "load failed");
        goto cleanup;
    }
    log_info("slice %s: module (%zu bytes) loaded into %s on %s", name, len,
             node, sv->host);
    v = xmlrpc_struct_new(env);
    put_str(env, v, "slice", name);
    put_str(env, v, "node", node);
    put_str(env, v, "vnode", sv->host);
    put(env, v, "bytes", xmlrpc_int_new(env, (int)len));
cleanup:
    if (arg)
        xmlrpc_DECREF(arg);
    free((void *)so);
    free(err);
    free(kv);
    store_slice_free(s);
    free(name);
    free(node);
    return v;
}

/* Copies the entries of a redirectord's link.stats that belong to slice
 * 'name' into 'out', adding the VNode they were counted on. */
static void pick_stats(xmlrpc_env *env, xmlrpc_value *all, const char *name,
                       const char *host, xmlrpc_value *out)
{
    int n = xmlrpc_array_size(env, all);

    for (int i = 0; i < n && !env->fault_occurred; i++) {
        xmlrpc_value *e = NULL, *sv = NULL;
        const char *slice = NULL;
        xmlrpc_array_read_item(env, all, i, &e);
        if (e == NULL)
            break;
        xmlrpc_struct_find_value(env, e, "slice", &sv);
        if (sv != NULL)
            xmlrpc_read_string(env, sv, &slice);
        if (slice != NULL && strcmp(slice, name) == 0) {
            xmlrpc_value *copy = xmlrpc_struct_new(env);
            int m = xmlrpc_struct_size(env, e);
            for (int k = 0; k < m; k++) {
                xmlrpc_value *key = NULL, *val = NULL;
                xmlrpc_struct_read_member(env, e, (unsigned)k, &key, &val);
                if (key && val)
                    xmlrpc_struct_set_value_v(env, copy, key, val);
                if (key) xmlrpc_DECREF(key);
                if (val) xmlrpc_DECREF(val);
            }
            put_str(env, copy, "vnode", host);
            append(env, out, copy);
        }
        free((char *)slice);
        if (sv) xmlrpc_DECREF(sv);
        xmlrpc_DECREF(e);
    }
}

static xmlrpc_value *m_stats(xmlrpc_env *env, xmlrpc_value *params,
                             const struct vn_rpc_caller *caller, void *ctx)
{
    struct ctl *c = ctx;
    char *name = vn_rpc_arg_string(env, params, 0);
    struct store_slice *s = name ? load_visible(env, c, name, caller) : NULL;
    xmlrpc_value *out = NULL;

    if (s == NULL)
        goto cleanup;
    if (c->driver->link_stats == NULL) {
        vn_fault_set(env, VN_FAULT_STATE, "sncd runs with --driver %s: "
                     "slivers are only recorded, nothing is counted",
                     c->driver->name);
        goto cleanup;
    }
    out = xmlrpc_array_new(env);
    for (size_t h = 0; h < c->topo->n_vnodes && !env->fault_occurred; h++) {
        const char *host = c->topo->vnodes[h].name;
        bool used = false;
        char *err = NULL;
        xmlrpc_value *all;
        for (size_t i = 0; i < s->n_slivers; i++)
            used |= strcmp(s->slivers[i].kind, "link") == 0 &&
                    strcmp(s->slivers[i].host, host) == 0;
        if (!used)
            continue;
        all = c->driver->link_stats(c->driver->ctx, host, &err);
        if (all == NULL) {
            vn_fault_set(env, VN_FAULT_NODE, "%s", err ? err : host);
            free(err);
            break;
        }
        pick_stats(env, all, s->name, host, out);
        xmlrpc_DECREF(all);
    }
    if (env->fault_occurred && out != NULL) {
        xmlrpc_DECREF(out);
        out = NULL;
    }
cleanup:
    store_slice_free(s);
    free(name);
    return out;
}

static xmlrpc_value *capacity(xmlrpc_env *env, uint64_t total, uint64_t used)
{
    xmlrpc_value *v = xmlrpc_struct_new(env);

    put(env, v, "total", xmlrpc_double_new(env, (double)total));
    put(env, v, "free",
        xmlrpc_double_new(env, (double)(total > used ? total - used : 0)));
    return v;
}

static xmlrpc_value *m_resources(xmlrpc_env *env, xmlrpc_value *params,
                                 const struct vn_rpc_caller *caller, void *ctx)
{
    struct ctl *c = ctx;
    const struct topo *t = c->topo;
    const struct embed_usage *u = c->usage;
    xmlrpc_value *r = xmlrpc_struct_new(env);
    xmlrpc_value *vnodes = xmlrpc_array_new(env);
    xmlrpc_value *links = xmlrpc_array_new(env);
    xmlrpc_value *agws = xmlrpc_array_new(env);

    (void)params, (void)caller;
    put_str(env, r, "topology", t->name);
    for (size_t i = 0; i < t->n_vnodes; i++) {
        const struct topo_vnode *vn = &t->vnodes[i];
        xmlrpc_value *v = xmlrpc_struct_new(env);
        put_str(env, v, "name", vn->name);
        put_str(env, v, "address", vn->address);
        put(env, v, "fastpath_slots",
            capacity(env, vn->fastpath_slots, u->slots[i]));
        put(env, v, "vcpus", capacity(env, vn->vcpus, u->vcpus[i]));
        put(env, v, "memory_bytes",
            capacity(env, vn->memory_bytes, u->mem_bytes[i]));
        put(env, v, "port_bps", capacity(env, vn->port_bps, u->port_bps[i]));
        append(env, vnodes, v);
    }
    for (size_t i = 0; i < t->n_links; i++) {
        xmlrpc_value *v = xmlrpc_struct_new(env);
        put_str(env, v, "a", t->links[i].a);
        put_str(env, v, "b", t->links[i].b);
        put(env, v, "bps", capacity(env, t->links[i].bps, u->link_bps[i]));
        append(env, links, v);
    }
    for (size_t i = 0; i < t->n_agws; i++) {
        xmlrpc_value *v = xmlrpc_struct_new(env);
        put_str(env, v, "name", t->agws[i].name);
        put_str(env, v, "vnode", t->agws[i].vnode);
        append(env, agws, v);
    }
    put(env, r, "vnodes", vnodes);
    put(env, r, "links", links);
    put(env, r, "agws", agws);
    return r;
}

const struct vn_rpc_method snc_api_methods[] = {
    {"slice.validate", "S:s", m_validate, VN_RPC_READONLY,
     "Dry run: checks a slice spec (XML) and whether it could be embedded "
     "now; returns the placement it would get."},
    {"slice.create", "S:s", m_create, 0,
     "Creates a slice from a spec (XML); returns it with per-sliver state."},
    {"slice.get", "S:s", m_get, VN_RPC_READONLY,
     "Returns one slice with the state of every sliver."},
    {"slice.list", "A:", m_list, VN_RPC_READONLY,
     "Lists your slices (every slice for operators)."},
    {"slice.delete", "S:s", m_delete, 0,
     "Deletes a slice and frees its capacity."},
    {"slice.modify", "S:sss", m_modify, 0,
     "Live change of one link: slice.modify(slice, link, \"bandwidth=200Mbit "
     "ceiling=300Mbit burst=64KiB weight=2\"); admitted only if the path "
     "has the extra guarantee free."},
    {"slice.load", "S:ss6,S:ss6s", m_load, 0,
     "Loads a module (a shared object built against programmer/"
     "vnode_module.h, as base64) into a fast-path node of a slice, "
     "keeping its links; an optional \"k=v k=v\" replaces its params."},
    {"slice.stats", "A:s", m_stats, VN_RPC_READONLY,
     "Packet and byte counters of every link sliver of a slice, as its "
     "VNodes' redirectors count them."},
    {"resources.list", "S:", m_resources, VN_RPC_READONLY,
     "Capacity of every VNode, transport link and AGW, and what is free."},
};
const size_t snc_api_n_methods =
    sizeof(snc_api_methods) / sizeof(snc_api_methods[0]);
