/* driver_rpc: slivers made real by the node daemons over XML-RPC.
 * Node slivers go to the programmerd of their VNode, link halves to the
 * redirectord of theirs (docs/dataplane.md has the contract). Gateways
 * have no daemon yet (the AGW issue adds agwd) and are only recorded. */
#include "driver_rpc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "rpc_client.h"

struct node_clients {
    struct vn_rpc_client *programmer, *redirector;
};

struct driver_rpc {
    struct sliver_driver drv;   /* first: the ctl sees only this */
    const struct topo *topo;
    char *url_format;
    struct node_clients *clients; /* per VNode, made on first use */
    /* The spec of the slice last worked on: one parse per slice operation. */
    char *spec_owner;
    struct slice_spec *spec;
};

void driver_port_name(uint32_t key, char end, char *buf, size_t n)
{
    snprintf(buf, n, "k%08x%c", key, end);
}

/* Expands {mgmt}, {vnode}, {port} and {daemon} in the URL template. */
static void expand_url(const char *tmpl, const struct topo_vnode *vn,
                       int programmer, char *buf, size_t n)
{
    size_t off = 0;

    for (const char *p = tmpl; *p != '\0' && off + 1 < n;) {
        const char *val = NULL;
        char port[8];
        size_t skip = 0;
        snprintf(port, sizeof(port), "%d",
                 programmer ? DRIVER_PROGRAMMER_PORT : DRIVER_REDIRECTOR_PORT);
        if (strncmp(p, "{mgmt}", 6) == 0)
            val = vn->mgmt, skip = 6;
        else if (strncmp(p, "{vnode}", 7) == 0)
            val = vn->name, skip = 7;
        else if (strncmp(p, "{port}", 6) == 0)
            val = port, skip = 6;
        else if (strncmp(p, "{daemon}", 8) == 0)
            val = programmer ? "programmerd" : "redirectord", skip = 8;
        if (val != NULL) {
            off += (size_t)snprintf(buf + off, n - off, "%s", val);
            p += skip;
        } else {
            buf[off++] = *p++;
        }
    }
    buf[off < n ? off : n - 1] = '\0';
}

static struct vn_rpc_client *client_for(struct driver_rpc *d, int vnode,
                                        int programmer)
{
    struct node_clients *nc = &d->clients[vnode];
    struct vn_rpc_client **slot = programmer ? &nc->programmer
                                             : &nc->redirector;
    struct vn_rpc_client_config cfg = {.timeout_ms = 15000};
    char url[256];

    if (*slot != NULL)
        return *slot;
    expand_url(d->url_format, &d->topo->vnodes[vnode], programmer, url,
               sizeof(url));
    cfg.url = url;
    *slot = vn_rpc_client_new(&cfg);
    return *slot;
}

static const struct slice_spec *spec_of(struct driver_rpc *d,
                                        const struct store_slice *s,
                                        char **err)
{
    char *perr;

    if (d->spec != NULL && d->spec_owner != NULL &&
        strcmp(d->spec_owner, s->name) == 0)
        return d->spec;
    spec_free(d->spec);
    free(d->spec_owner);
    d->spec = NULL;
    d->spec_owner = NULL;
    perr = spec_parse(s->spec, strlen(s->spec), &d->spec);
    if (perr != NULL) {
        if (asprintf(err, "stored spec does not parse: %s", perr) < 0)
            *err = NULL;
        free(perr);
        return NULL;
    }
    d->spec_owner = strdup(s->name);
    return d->spec;
}

static const struct store_sliver *find_link_half(const struct store_slice *s,
                                                 const char *link)
{
    size_t n = strlen(link);

    for (size_t i = 0; i < s->n_slivers; i++) {
        const struct store_sliver *v = &s->slivers[i];
        if (strcmp(v->kind, "link") == 0 && strncmp(v->id, link, n) == 0 &&
            v->id[n] == '\0')
            return v;
    }
    return NULL;
}

/* Calls and turns a fault into *err. Takes ownership of 'params'. */
static int call(struct vn_rpc_client *c, const char *what, const char *method,
                xmlrpc_value *params, char **err)
{
    xmlrpc_env env;
    xmlrpc_value *r;
    int rc = 0;

    xmlrpc_env_init(&env);
    if (c == NULL) {
        rc = -1;
        if (asprintf(err, "%s: no client", what) < 0)
            *err = NULL;
        goto done;
    }
    r = vn_rpc_call(c, &env, method, params);
    if (env.fault_occurred) {
        rc = -1;
        if (asprintf(err, "%s: %s", what, env.fault_string) < 0)
            *err = NULL;
    } else {
        xmlrpc_DECREF(r);
    }
done:
    if (params != NULL)
        xmlrpc_DECREF(params);
    xmlrpc_env_clean(&env);
    return rc;
}

static void put_s(xmlrpc_env *env, xmlrpc_value *st, const char *k,
                  const char *v)
{
    xmlrpc_value *x = xmlrpc_string_new(env, v ? v : "");
    xmlrpc_struct_set_value(env, st, k, x);
    xmlrpc_DECREF(x);
}

static void put_v(xmlrpc_env *env, xmlrpc_value *st, const char *k,
                  xmlrpc_value *v)
{
    xmlrpc_struct_set_value(env, st, k, v);
    xmlrpc_DECREF(v);
}

/* The ports of node 'n': one per link it is an end of. */
static xmlrpc_value *node_ports(xmlrpc_env *env, const struct slice_spec *sp,
                                const struct store_slice *s,
                                const struct spec_node *n)
{
    xmlrpc_value *ports = xmlrpc_array_new(env);
    char port[24];

    for (size_t i = 0; i < sp->n_links; i++) {
        const struct spec_link *l = &sp->links[i];
        const struct store_sliver *half = find_link_half(s, l->id);
        int is_a = strcmp(l->a, n->id) == 0;
        const char *addr = NULL;
        if (!is_a && strcmp(l->b, n->id) != 0)
            continue;
        for (size_t k = 0; k < n->n_ifaces; k++)
            if (strcmp(n->ifaces[k].link, l->id) == 0)
                addr = n->ifaces[k].address;
        bool shm = half != NULL && driver_link_is_shm(half);
        /* Both ends of a shared-memory link name it by one host_port. */
        driver_port_name(half ? half->key : 0, shm ? 'm' : is_a ? 'a' : 'b',
                         port, sizeof(port));
        xmlrpc_value *p = xmlrpc_struct_new(env);
        put_s(env, p, "ifname", l->id);
        put_s(env, p, "host_port", port);
        put_s(env, p, "address", addr);
        if (shm)
            put_s(env, p, "shm", is_a ? "a" : "b");
        xmlrpc_array_append_item(env, ports, p);
        xmlrpc_DECREF(p);
    }
    return ports;
}

static xmlrpc_value *node_request(xmlrpc_env *env, const struct slice_spec *sp,
                                  const struct store_slice *s,
                                  const struct spec_node *n)
{
    xmlrpc_value *st = xmlrpc_struct_new(env);
    xmlrpc_value *params = xmlrpc_array_new(env);
    xmlrpc_value *routes = xmlrpc_array_new(env);

    put_s(env, st, "slice", s->name);
    put_s(env, st, "id", n->id);
    put_s(env, st, "type", spec_node_kind_name(n->kind));
    put_s(env, st, "command", n->command);
    put_s(env, st, "module", n->module);
    for (size_t i = 0; i < n->n_params; i++) {
        xmlrpc_value *p = xmlrpc_struct_new(env);
        put_s(env, p, "key", n->params[i].key);
        put_s(env, p, "value", n->params[i].value);
        xmlrpc_array_append_item(env, params, p);
        xmlrpc_DECREF(p);
    }
    for (size_t i = 0; i < n->n_routes; i++) {
        xmlrpc_value *r = xmlrpc_struct_new(env);
        put_s(env, r, "to", n->routes[i].to);
        put_s(env, r, "via", n->routes[i].via);
        xmlrpc_array_append_item(env, routes, r);
        xmlrpc_DECREF(r);
    }
    put_v(env, st, "params", params);
    put_v(env, st, "routes", routes);
    put_v(env, st, "vcpus", xmlrpc_int_new(env, (int)n->vcpus));
    put_v(env, st, "memory_mib",
          xmlrpc_int_new(env, (int)(n->memory_bytes >> 20)));
    put_v(env, st, "ports", node_ports(env, sp, s, n));
    return st;
}

/* The link half 'v': its end, its port and where the peer is. */
static xmlrpc_value *link_request(xmlrpc_env *env, struct driver_rpc *d,
                                  const struct slice_spec *sp,
                                  const struct store_slice *s,
                                  const struct store_sliver *v)
{
    xmlrpc_value *st = xmlrpc_struct_new(env);
    size_t len = strlen(v->name);
    char end = v->name[len - 2] == ':' ? v->name[len - 1] : 'l';
    const struct spec_link *l = NULL;
    const struct store_sliver *other = NULL;
    char port[24], lport[24];

    for (size_t i = 0; i < sp->n_links; i++)
        if (strcmp(sp->links[i].id, v->id) == 0)
            l = &sp->links[i];
    for (size_t i = 0; i < s->n_slivers; i++)
        if (strcmp(s->slivers[i].kind, "link") == 0 &&
            strcmp(s->slivers[i].id, v->id) == 0 && &s->slivers[i] != v)
            other = &s->slivers[i];
    put_s(env, st, "slice", s->name);
    put_s(env, st, "link", v->id);
    put_v(env, st, "key", xmlrpc_int_new(env, (int)v->key));
    if (end == 'l') {
        driver_port_name(v->key, 'a', port, sizeof(port));
        driver_port_name(v->key, 'b', lport, sizeof(lport));
        put_s(env, st, "end", "local");
        put_s(env, st, "port", port);
        put_s(env, st, "local_port", lport);
        put_s(env, st, "peer", "");
    } else {
        int peer = other ? topo_vnode_index(d->topo, other->host) : -1;
        driver_port_name(v->key, end, port, sizeof(port));
        put_s(env, st, "end", end == 'a' ? "a" : "b");
        put_s(env, st, "port", port);
        put_s(env, st, "peer",
              peer >= 0 ? d->topo->vnodes[peer].address : "");
    }
    /* The scheduler's parameters (docs/dataplane.md): the link's guarantee,
     * ceiling, burst and weight from the spec, and the slice's weight. */
    put_v(env, st, "rate_bps",
          xmlrpc_double_new(env, l ? (double)l->rate_bps : 0));
    put_v(env, st, "ceil_bps",
          xmlrpc_double_new(env, l ? (double)l->ceil_bps : 0));
    put_v(env, st, "burst_bytes",
          xmlrpc_double_new(env, l ? (double)l->burst_bytes : 0));
    put_v(env, st, "weight",
          xmlrpc_int_new(env, l && l->weight ? (int)l->weight : 1));
    put_v(env, st, "slice_weight",
          xmlrpc_int_new(env, sp->weight ? (int)sp->weight : 1));
    return st;
}

static int rpc_create(void *ctx, const struct store_slice *s,
                      const struct store_sliver *v, char **err)
{
    struct driver_rpc *d = ctx;
    const struct slice_spec *sp = spec_of(d, s, err);
    int vn = topo_vnode_index(d->topo, v->host);
    xmlrpc_env env;
    xmlrpc_value *req = NULL, *params;
    int rc;

    if (sp == NULL)
        return -1;
    if (strcmp(v->kind, "gw") == 0)
        return 0; /* no AGW daemon yet: recorded only */
    if (driver_link_is_shm(v))
        return 0; /* made by programmerd with its node slivers */
    if (vn < 0) {
        if (asprintf(err, "%s: VNode %s is not in the topology", v->name,
                     v->host) < 0)
            *err = NULL;
        return -1;
    }
    xmlrpc_env_init(&env);
    if (strcmp(v->kind, "node") == 0) {
        const struct spec_node *n = spec_find_node(sp, v->id);
        if (n != NULL)
            req = node_request(&env, sp, s, n);
    } else {
        req = link_request(&env, d, sp, s, v);
    }
    if (req == NULL || env.fault_occurred) {
        xmlrpc_env_clean(&env);
        if (req) xmlrpc_DECREF(req);
        if (asprintf(err, "%s: cannot build the request", v->name) < 0)
            *err = NULL;
        return -1;
    }
    params = xmlrpc_array_new(&env);
    xmlrpc_array_append_item(&env, params, req);
    xmlrpc_DECREF(req);
    xmlrpc_env_clean(&env);
    if (strcmp(v->kind, "node") == 0)
        rc = call(client_for(d, vn, 1), v->host, "sliver.create", params, err);
    else
        rc = call(client_for(d, vn, 0), v->host, "link.create", params, err);
    return rc;
}

/* A live change of a link half: redirectord's link.update takes the same
 * struct as link.create. */
static int rpc_update(void *ctx, const struct store_slice *s,
                      const struct store_sliver *v, char **err)
{
    struct driver_rpc *d = ctx;
    const struct slice_spec *sp;
    int vn = topo_vnode_index(d->topo, v->host);
    xmlrpc_env env;
    xmlrpc_value *params, *req;

    /* The spec changed under the same slice name: parse it again. */
    free(d->spec_owner);
    d->spec_owner = NULL;
    if ((sp = spec_of(d, s, err)) == NULL)
        return -1;
    if (strcmp(v->kind, "link") != 0 || vn < 0 || driver_link_is_shm(v))
        return 0;
    xmlrpc_env_init(&env);
    req = link_request(&env, d, sp, s, v);
    params = xmlrpc_array_new(&env);
    xmlrpc_array_append_item(&env, params, req);
    xmlrpc_DECREF(req);
    xmlrpc_env_clean(&env);
    return call(client_for(d, vn, 0), v->host, "link.update", params, err);
}

static int rpc_load_module(void *ctx, const struct store_slice *s,
                           const struct store_sliver *v,
                           const unsigned char *so, size_t len,
                           const char *params_kv, char **err)
{
    struct driver_rpc *d = ctx;
    int vn = topo_vnode_index(d->topo, v->host);
    xmlrpc_env env;
    xmlrpc_value *params;

    xmlrpc_env_init(&env);
    params = params_kv
                 ? xmlrpc_build_value(&env, "(ss6s)", s->name, v->id, so, len,
                                      params_kv)
                 : xmlrpc_build_value(&env, "(ss6)", s->name, v->id, so, len);
    xmlrpc_env_clean(&env);
    return call(vn >= 0 ? client_for(d, vn, 1) : NULL, v->host, "sliver.load",
                params, err);
}

static int rpc_destroy(void *ctx, const struct store_slice *s,
                       const struct store_sliver *v, char **err)
{
    struct driver_rpc *d = ctx;
    int vn = topo_vnode_index(d->topo, v->host);
    size_t len = strlen(v->name);
    xmlrpc_env env;
    xmlrpc_value *params;

    if (strcmp(v->kind, "gw") == 0 || driver_link_is_shm(v))
        return 0;
    if (vn < 0)
        return 0; /* VNode gone from the topology: nothing to undo there */
    xmlrpc_env_init(&env);
    if (strcmp(v->kind, "node") == 0) {
        params = xmlrpc_build_value(&env, "(ss)", s->name, v->id);
        xmlrpc_env_clean(&env);
        return call(client_for(d, vn, 1), v->host, "sliver.delete", params,
                    err);
    }
    params = xmlrpc_build_value(
        &env, "(is)", (int)v->key,
        v->name[len - 2] == ':' ? (v->name[len - 1] == 'a' ? "a" : "b")
                                : "local");
    xmlrpc_env_clean(&env);
    return call(client_for(d, vn, 0), v->host, "link.delete", params, err);
}

/* Reads s[key] as a string into buf ("" if absent). */
static const char *member(xmlrpc_env *env, xmlrpc_value *st, const char *key,
                          char *buf, size_t n)
{
    xmlrpc_value *v = NULL;
    const char *str = NULL;

    buf[0] = '\0';
    xmlrpc_struct_find_value(env, st, key, &v);
    if (v != NULL && xmlrpc_value_type(v) == XMLRPC_TYPE_STRING) {
        xmlrpc_read_string(env, v, &str);
        if (str != NULL) {
            snprintf(buf, n, "%s", str);
            free((char *)str);
        }
    }
    if (v != NULL)
        xmlrpc_DECREF(v);
    return buf;
}

/* Appends "slice/<kind>:<id>[:<end>]" for every entry of a node daemon's
 * list result. */
static int list_names(struct vn_rpc_client *c, const char *method,
                      int links, char ***out, int *n)
{
    xmlrpc_env env;
    xmlrpc_value *r;
    int size;

    xmlrpc_env_init(&env);
    r = c ? vn_rpc_callf(c, &env, method, "()") : NULL;
    if (r == NULL || env.fault_occurred) {
        xmlrpc_env_clean(&env);
        return -1;
    }
    size = xmlrpc_array_size(&env, r);
    for (int i = 0; i < size && !env.fault_occurred; i++) {
        xmlrpc_value *e = NULL;
        char slice[64], id[64], end[16], name[160];
        char **grown = realloc(*out, (size_t)(*n + 1) * sizeof(**out));
        if (grown == NULL)
            break;
        *out = grown;
        xmlrpc_array_read_item(&env, r, i, &e);
        if (e == NULL)
            break;
        member(&env, e, "slice", slice, sizeof(slice));
        member(&env, e, links ? "link" : "id", id, sizeof(id));
        member(&env, e, "end", end, sizeof(end));
        if (!links)
            snprintf(name, sizeof(name), "%s/node:%s", slice, id);
        else if (strcmp(end, "local") == 0)
            snprintf(name, sizeof(name), "%s/link:%s", slice, id);
        else
            snprintf(name, sizeof(name), "%s/link:%s:%s", slice, id, end);
        (*out)[(*n)++] = strdup(name);
        xmlrpc_DECREF(e);
    }
    xmlrpc_DECREF(r);
    xmlrpc_env_clean(&env);
    return 0;
}

static int rpc_present(void *ctx, const char *host, char ***names)
{
    struct driver_rpc *d = ctx;
    int vn = topo_vnode_index(d->topo, host), n = 0;

    *names = NULL;
    if (vn < 0 ||
        list_names(client_for(d, vn, 1), "sliver.list", 0, names, &n) < 0 ||
        list_names(client_for(d, vn, 0), "link.list", 1, names, &n) < 0) {
        for (int i = 0; i < n; i++)
            free((*names)[i]);
        free(*names);
        *names = NULL;
        return -1;
    }
    return n;
}

static xmlrpc_value *rpc_link_stats(void *ctx, const char *host, char **err)
{
    struct driver_rpc *d = ctx;
    int vn = topo_vnode_index(d->topo, host);
    struct vn_rpc_client *c = vn >= 0 ? client_for(d, vn, 0) : NULL;
    xmlrpc_env env;
    xmlrpc_value *r = NULL;

    xmlrpc_env_init(&env);
    if (c != NULL)
        r = vn_rpc_callf(c, &env, "link.stats", "()");
    if (c == NULL || env.fault_occurred) {
        if (asprintf(err, "%s: %s", host,
                     c ? env.fault_string : "not a VNode") < 0)
            *err = NULL;
        r = NULL;
    }
    xmlrpc_env_clean(&env);
    return r;
}

struct sliver_driver *driver_rpc_new(const struct topo *t,
                                     const char *url_format)
{
    struct driver_rpc *d = calloc(1, sizeof(*d));

    if (d == NULL)
        return NULL;
    d->topo = t;
    d->url_format = strdup(url_format ? url_format : DRIVER_URL_DEFAULT);
    d->clients = calloc(t->n_vnodes + 1, sizeof(*d->clients));
    if (d->url_format == NULL || d->clients == NULL) {
        driver_rpc_free(&d->drv);
        return NULL;
    }
    d->drv = (struct sliver_driver){.name = "rpc",
                                    .create = rpc_create,
                                    .destroy = rpc_destroy,
                                    .update = rpc_update,
                                    .load_module = rpc_load_module,
                                    .present = rpc_present,
                                    .link_stats = rpc_link_stats,
                                    .ctx = d};
    return &d->drv;
}

void driver_rpc_free(struct sliver_driver *drv)
{
    struct driver_rpc *d = (struct driver_rpc *)drv;

    if (d == NULL)
        return;
    for (size_t i = 0; d->clients && i < d->topo->n_vnodes; i++) {
        vn_rpc_client_free(d->clients[i].programmer);
        vn_rpc_client_free(d->clients[i].redirector);
    }
    free(d->clients);
    free(d->url_format);
    free(d->spec_owner);
    spec_free(d->spec);
    free(d);
}
