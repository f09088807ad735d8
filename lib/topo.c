/* topo: parse and check the physical topology file. */
#include "topo.h"

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlschemas.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schema.h"
#include "units.h"
#include "xmlerr.h"

static char *xstrdup_attr(xmlNode *n, const char *attr)
{
    xmlChar *v = xmlGetProp(n, (const xmlChar *)attr);
    char *s = NULL;

    if (v != NULL) {
        s = strdup((const char *)v);
        xmlFree(v);
    }
    return s;
}

static bool is_elem(const xmlNode *n, const char *name)
{
    return n->type == XML_ELEMENT_NODE &&
           strcmp((const char *)n->name, name) == 0;
}

static xmlNode *child(xmlNode *n, const char *name)
{
    for (xmlNode *c = n->children; c != NULL; c = c->next)
        if (is_elem(c, name))
            return c;
    return NULL;
}

static size_t count_children(xmlNode *root, const char *name)
{
    size_t n = 0;

    for (xmlNode *c = root->children; c != NULL; c = c->next)
        n += is_elem(c, name);
    return n;
}

/* Reads rate/size/count attributes the schema already checked lexically;
 * range problems still get a message. */
static char *attr_rate(xmlNode *n, const char *attr, uint64_t *out)
{
    char *v = xstrdup_attr(n, attr);
    char *err = NULL;

    if (v == NULL || units_parse_rate(v, out) < 0)
        err = xmlerr_fmt(n, "%s '%s' is not a rate; use e.g. 10Gbit", attr,
                         v ? v : "");
    free(v);
    return err;
}

static char *attr_size(xmlNode *n, const char *attr, uint64_t *out)
{
    char *v = xstrdup_attr(n, attr);
    char *err = NULL;

    if (v == NULL || units_parse_size(v, out) < 0)
        err = xmlerr_fmt(n, "%s '%s' is not a size; use e.g. 4GiB", attr,
                         v ? v : "");
    free(v);
    return err;
}

static unsigned attr_uint(xmlNode *n, const char *attr)
{
    char *v = xstrdup_attr(n, attr);
    unsigned long x = v ? strtoul(v, NULL, 10) : 0;

    free(v);
    return x > 1000000 ? 1000000 : (unsigned)x;
}

static char *read_vnode(xmlNode *n, struct topo_vnode *v)
{
    xmlNode *red = child(n, "redirector");
    xmlNode *prog = child(n, "programmer");
    char *err = NULL;

    v->name = xstrdup_attr(n, "name");
    v->address = xstrdup_attr(n, "address");
    v->mgmt = xstrdup_attr(n, "mgmt");
    if ((err = attr_rate(red, "port-bandwidth", &v->port_bps)) != NULL)
        return err;
    if ((err = attr_size(prog, "memory", &v->memory_bytes)) != NULL)
        return err;
    v->fastpath_slots = attr_uint(prog, "fastpath-slots");
    v->vcpus = attr_uint(prog, "vcpus");
    return NULL;
}

static char *read_elements(xmlNode *root, struct topo *t)
{
    char *err = NULL;

    for (xmlNode *c = root->children; c != NULL && err == NULL; c = c->next) {
        if (is_elem(c, "vnode")) {
            err = read_vnode(c, &t->vnodes[t->n_vnodes++]);
        } else if (is_elem(c, "router")) {
            struct topo_router *r = &t->routers[t->n_routers++];
            r->name = xstrdup_attr(c, "name");
            r->address = xstrdup_attr(c, "address");
            r->mgmt = xstrdup_attr(c, "mgmt");
        } else if (is_elem(c, "agw")) {
            struct topo_agw *a = &t->agws[t->n_agws++];
            a->name = xstrdup_attr(c, "name");
            a->vnode = xstrdup_attr(c, "vnode");
            a->address = xstrdup_attr(c, "address");
            a->mgmt = xstrdup_attr(c, "mgmt");
        } else if (is_elem(c, "terminal")) {
            struct topo_terminal *tm = &t->terminals[t->n_terminals++];
            tm->name = xstrdup_attr(c, "name");
            tm->agw = xstrdup_attr(c, "agw");
            tm->address = xstrdup_attr(c, "address");
        } else if (is_elem(c, "link")) {
            struct topo_link *l = &t->links[t->n_links++];
            l->a = xstrdup_attr(c, "a");
            l->b = xstrdup_attr(c, "b");
            err = attr_rate(c, "bandwidth", &l->bps);
        }
    }
    return err;
}

/* Finds the element (any kind) carrying 'name', for line numbers. */
static xmlNode *find_named(xmlNode *root, const char *elem, const char *attr,
                           const char *value, int nth)
{
    for (xmlNode *c = root->children; c != NULL; c = c->next) {
        if (!is_elem(c, elem))
            continue;
        xmlChar *v = xmlGetProp(c, (const xmlChar *)attr);
        bool match = v != NULL && strcmp((const char *)v, value) == 0;
        xmlFree(v);
        if (match && nth-- == 0)
            return c;
    }
    return root;
}

static char *check_names(xmlNode *root, const struct topo *t)
{
    size_t nv = topo_n_vertices(t);

    for (size_t i = 0; i < nv; i++)
        for (size_t j = i + 1; j < nv; j++)
            if (strcmp(topo_vertex_name(t, i), topo_vertex_name(t, j)) == 0)
                return xmlerr_fmt(
                    find_named(root, "vnode", "name", topo_vertex_name(t, j), 1),
                    "name '%s' is used twice; names must be unique",
                    topo_vertex_name(t, j));
    for (size_t i = 0; i < t->n_terminals; i++)
        if (topo_agw_index(t, t->terminals[i].agw) < 0)
            return xmlerr_fmt(find_named(root, "terminal", "name",
                                         t->terminals[i].name, 0),
                              "terminal '%s': agw '%s' is not in the topology",
                              t->terminals[i].name, t->terminals[i].agw);
    for (size_t i = 0; i < t->n_agws; i++)
        if (topo_vnode_index(t, t->agws[i].vnode) < 0)
            return xmlerr_fmt(
                find_named(root, "agw", "name", t->agws[i].name, 0),
                "agw '%s': vnode '%s' is not in the topology", t->agws[i].name,
                t->agws[i].vnode);
    for (size_t i = 0; i < t->n_links; i++) {
        const struct topo_link *l = &t->links[i];
        xmlNode *n = find_named(root, "link", "a", l->a, 0);
        if (topo_vertex_index(t, l->a) < 0)
            return xmlerr_fmt(n, "link %s-%s: '%s' is not a vnode, router or agw",
                              l->a, l->b, l->a);
        if (topo_vertex_index(t, l->b) < 0)
            return xmlerr_fmt(n, "link %s-%s: '%s' is not a vnode, router or agw",
                              l->a, l->b, l->b);
        if (strcmp(l->a, l->b) == 0)
            return xmlerr_fmt(n, "link %s-%s joins a node to itself", l->a, l->b);
    }
    return NULL;
}

char *topo_parse(const char *xml, size_t len, struct topo **out)
{
    xmlDoc *doc = NULL;
    struct topo *t = NULL;
    char *err = NULL;
    xmlNode *root;

    err = xmlerr_parse_validate(xml, len, "topology", TOPO_NS, &doc);
    if (err != NULL)
        goto cleanup;
    root = xmlDocGetRootElement(doc);
    t = calloc(1, sizeof(*t));
    if (t == NULL)
        goto oom;
    t->name = xstrdup_attr(root, "name");
    t->vnodes = calloc(count_children(root, "vnode") + 1, sizeof(*t->vnodes));
    t->routers = calloc(count_children(root, "router") + 1, sizeof(*t->routers));
    t->agws = calloc(count_children(root, "agw") + 1, sizeof(*t->agws));
    t->terminals =
        calloc(count_children(root, "terminal") + 1, sizeof(*t->terminals));
    t->links = calloc(count_children(root, "link") + 1, sizeof(*t->links));
    if (!t->vnodes || !t->routers || !t->agws || !t->terminals || !t->links)
        goto oom;
    if ((err = read_elements(root, t)) != NULL)
        goto cleanup;
    if ((err = check_names(root, t)) != NULL)
        goto cleanup;
    *out = t;
    t = NULL;
    goto cleanup;
oom:
    err = strdup("out of memory");
cleanup:
    topo_free(t);
    xmlFreeDoc(doc);
    return err;
}

char *topo_parse_file(const char *path, struct topo **out)
{
    size_t len = 0;
    char *err = NULL;
    char *buf = xmlerr_read_file(path, &len, &err);

    if (buf == NULL)
        return err;
    err = topo_parse(buf, len, out);
    free(buf);
    return err;
}

void topo_free(struct topo *t)
{
    if (t == NULL)
        return;
    for (size_t i = 0; i < t->n_vnodes; i++) {
        free(t->vnodes[i].name);
        free(t->vnodes[i].address);
        free(t->vnodes[i].mgmt);
    }
    for (size_t i = 0; i < t->n_routers; i++) {
        free(t->routers[i].name);
        free(t->routers[i].address);
        free(t->routers[i].mgmt);
    }
    for (size_t i = 0; i < t->n_agws; i++) {
        free(t->agws[i].name);
        free(t->agws[i].vnode);
        free(t->agws[i].address);
        free(t->agws[i].mgmt);
    }
    for (size_t i = 0; i < t->n_terminals; i++) {
        free(t->terminals[i].name);
        free(t->terminals[i].agw);
        free(t->terminals[i].address);
    }
    for (size_t i = 0; i < t->n_links; i++) {
        free(t->links[i].a);
        free(t->links[i].b);
    }
    free(t->vnodes);
    free(t->routers);
    free(t->agws);
    free(t->terminals);
    free(t->links);
    free(t->name);
    free(t);
}

int topo_vnode_index(const struct topo *t, const char *name)
{
    for (size_t i = 0; name != NULL && i < t->n_vnodes; i++)
        if (strcmp(t->vnodes[i].name, name) == 0)
            return (int)i;
    return -1;
}

int topo_agw_index(const struct topo *t, const char *name)
{
    for (size_t i = 0; name != NULL && i < t->n_agws; i++)
        if (strcmp(t->agws[i].name, name) == 0)
            return (int)i;
    return -1;
}

size_t topo_n_vertices(const struct topo *t)
{
    return t->n_vnodes + t->n_routers + t->n_agws;
}

const char *topo_vertex_name(const struct topo *t, size_t v)
{
    if (v < t->n_vnodes)
        return t->vnodes[v].name;
    v -= t->n_vnodes;
    if (v < t->n_routers)
        return t->routers[v].name;
    v -= t->n_routers;
    return v < t->n_agws ? t->agws[v].name : NULL;
}

int topo_vertex_index(const struct topo *t, const char *name)
{
    size_t nv = topo_n_vertices(t);

    for (size_t v = 0; name != NULL && v < nv; v++)
        if (strcmp(topo_vertex_name(t, v), name) == 0)
            return (int)v;
    return -1;
}
