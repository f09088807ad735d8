/* api: sliver.* for sncd (and any XML-RPC client). */
#include "api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "node.h"

/* ---- decoding --------------------------------------------------------- */

static const char *type_name(xmlrpc_type t)
{
    switch (t) {
    case XMLRPC_TYPE_INT:
        return "an int";
    case XMLRPC_TYPE_BOOL:
        return "a boolean";
    case XMLRPC_TYPE_DOUBLE:
        return "a double";
    case XMLRPC_TYPE_STRING:
        return "a string";
    case XMLRPC_TYPE_ARRAY:
        return "an array";
    case XMLRPC_TYPE_STRUCT:
        return "a struct";
    case XMLRPC_TYPE_I8:
        return "an i8";
    case XMLRPC_TYPE_NIL:
        return "nil";
    default:
        return "another type";
    }
}

static bool want(xmlrpc_env *env, xmlrpc_value *v, xmlrpc_type t,
                 const char *where)
{
    if (xmlrpc_value_type(v) == t)
        return true;
    vn_fault_set(env, VN_FAULT_BAD_PARAMS,
                 "sliver.create: %s must be %s, "
                 "not %s",
                 where, type_name(t), type_name(xmlrpc_value_type(v)));
    return false;
}

/* *out = a malloc'd copy of string 'v'. */
static int get_string(xmlrpc_env *env, xmlrpc_value *v, const char *where,
                      char **out)
{
    const char *s = NULL;

    if (!want(env, v, XMLRPC_TYPE_STRING, where))
        return -1;
    xmlrpc_read_string(env, v, &s);
    if (env->fault_occurred) {
        vn_fault_set(env, VN_FAULT_BAD_PARAMS, "sliver.create: %s: %s", where,
                     env->fault_string);
        return -1;
    }
    free(*out);
    *out = (char *)s;
    return 0;
}

/* Decodes struct 'v' whose members are all strings named in 'names';
 * outs[i] gets member names[i] ("" if absent). */
static int get_string_struct(xmlrpc_env *env, xmlrpc_value *v,
                             const char *where, const char *const *names,
                             char **const *outs, int n)
{
    char sub[96];
    int size;

    if (!want(env, v, XMLRPC_TYPE_STRUCT, where))
        return -1;
    for (int i = 0; i < n; i++)
        if ((*outs[i] = strdup("")) == NULL)
            return -1;
    size = xmlrpc_struct_size(env, v);
    for (int m = 0; m < size && !env->fault_occurred; m++) {
        xmlrpc_value *k = NULL, *val = NULL;
        const char *key = NULL;
        int i;
        xmlrpc_struct_read_member(env, v, (unsigned)m, &k, &val);
        if (!env->fault_occurred)
            xmlrpc_read_string(env, k, &key);
        if (!env->fault_occurred) {
            for (i = 0; i < n && strcmp(key, names[i]) != 0; i++)
                ;
            snprintf(sub, sizeof(sub), "%s.%.32s", where, key);
            if (i == n)
                vn_fault_set(env, VN_FAULT_BAD_PARAMS,
                             "sliver.create: unknown member %s", sub);
            else
                get_string(env, val, sub, outs[i]);
        }
        free((char *)key);
        if (k != NULL)
            xmlrpc_DECREF(k);
        if (val != NULL)
            xmlrpc_DECREF(val);
    }
    return env->fault_occurred ? -1 : 0;
}

/* Decodes array 'v' of string structs: calls 'one' for every element,
 * after allocating '*items' of 'n_items' elements of 'size' bytes. */
static int get_array(xmlrpc_env *env, xmlrpc_value *v, const char *where,
                     size_t max, size_t size, void **items, size_t *n_items,
                     int (*one)(xmlrpc_env *, xmlrpc_value *, const char *,
                                void *))
{
    char sub[64];
    int n;

    if (!want(env, v, XMLRPC_TYPE_ARRAY, where))
        return -1;
    n = xmlrpc_array_size(env, v);
    if (env->fault_occurred)
        return -1;
    if ((size_t)n > max) {
        vn_fault_set(env, VN_FAULT_BAD_PARAMS,
                     "sliver.create: %s has %d "
                     "elements; at most %zu",
                     where, n, max);
        return -1;
    }
    *items = calloc((size_t)n + 1, size);
    if (*items == NULL) {
        vn_fault_set(env, VN_FAULT_INTERNAL, "out of memory");
        return -1;
    }
    for (int i = 0; i < n; i++) {
        xmlrpc_value *e = NULL;
        xmlrpc_array_read_item(env, v, (unsigned)i, &e);
        if (env->fault_occurred)
            return -1;
        snprintf(sub, sizeof(sub), "%s[%d]", where, i);
        (*n_items)++; /* counted before filling, so that free sees it */
        int rc = one(env, e, sub, (char *)*items + (size_t)i * size);
        xmlrpc_DECREF(e);
        if (rc < 0)
            return -1;
    }
    return 0;
}

static int one_port(xmlrpc_env *env, xmlrpc_value *v, const char *where,
                    void *item)
{
    struct sliver_port *p = item;
    static const char *const names[] = {"ifname", "host_port", "address",
                                        "shm"};
    char **const outs[] = {&p->ifname, &p->host_port, &p->address, &p->shm};

    return get_string_struct(env, v, where, names, outs, 4);
}

static int one_route(xmlrpc_env *env, xmlrpc_value *v, const char *where,
                     void *item)
{
    struct sliver_route *r = item;
    static const char *const names[] = {"to", "via"};
    char **const outs[] = {&r->to, &r->via};

    return get_string_struct(env, v, where, names, outs, 2);
}

static int one_param(xmlrpc_env *env, xmlrpc_value *v, const char *where,
                     void *item)
{
    struct sliver_param *p = item;
    static const char *const names[] = {"key", "value"};
    char **const outs[] = {&p->key, &p->value};

    return get_string_struct(env, v, where, names, outs, 2);
}

static int get_int(xmlrpc_env *env, xmlrpc_value *v, const char *where,
                   int *out)
{
    if (!want(env, v, XMLRPC_TYPE_INT, where))
        return -1;
    xmlrpc_read_int(env, v, out);
    return env->fault_occurred ? -1 : 0;
}

static int member(xmlrpc_env *env, struct sliver_spec *s, const char *key,
                  xmlrpc_value *v, char **type)
{
    if (strcmp(key, "slice") == 0)
        return get_string(env, v, key, &s->slice);
    if (strcmp(key, "id") == 0)
        return get_string(env, v, key, &s->id);
    if (strcmp(key, "type") == 0)
        return get_string(env, v, key, type);
    if (strcmp(key, "command") == 0)
        return get_string(env, v, key, &s->command);
    if (strcmp(key, "module") == 0)
        return get_string(env, v, key, &s->module);
    if (strcmp(key, "vcpus") == 0)
        return get_int(env, v, key, &s->vcpus);
    if (strcmp(key, "memory_mib") == 0)
        return get_int(env, v, key, &s->memory_mib);
    if (strcmp(key, "ports") == 0)
        return get_array(env, v, key, SLIVER_MAX_PORTS, sizeof(*s->ports),
                         (void **)&s->ports, &s->n_ports, one_port);
    if (strcmp(key, "routes") == 0)
        return get_array(env, v, key, SLIVER_MAX_ROUTES, sizeof(*s->routes),
                         (void **)&s->routes, &s->n_routes, one_route);
    if (strcmp(key, "params") == 0)
        return get_array(env, v, key, SLIVER_MAX_PARAMS, sizeof(*s->params),
                         (void **)&s->params, &s->n_params, one_param);
    vn_fault_set(env, VN_FAULT_BAD_PARAMS,
                 "sliver.create: unknown member "
                 "'%.40s'; members: slice, id, type, command, module, params, "
                 "vcpus, memory_mib, ports, routes",
                 key);
    return -1;
}

/* The fields of an array member may be partly filled when decoding failed:
 * sliver_spec_free() must see NULL or strings only. get_array() counts an
 * element before filling it; unfilled pointers are NULL (calloc). */
int api_decode_spec(xmlrpc_env *env, xmlrpc_value *st, struct sliver_spec *spec)
{
    char *type = NULL;
    int size, t;

    memset(spec, 0, sizeof(*spec));
    if (!want(env, st, XMLRPC_TYPE_STRUCT, "the argument"))
        return -1;
    size = xmlrpc_struct_size(env, st);
    for (int m = 0; m < size && !env->fault_occurred; m++) {
        xmlrpc_value *k = NULL, *v = NULL;
        const char *key = NULL;
        xmlrpc_struct_read_member(env, st, (unsigned)m, &k, &v);
        if (!env->fault_occurred)
            xmlrpc_read_string(env, k, &key);
        if (!env->fault_occurred)
            member(env, spec, key, v, &type);
        free((char *)key);
        if (k != NULL)
            xmlrpc_DECREF(k);
        if (v != NULL)
            xmlrpc_DECREF(v);
    }
    if (!env->fault_occurred) {
        const char *missing = spec->slice == NULL ? "slice"
                              : spec->id == NULL  ? "id"
                              : type == NULL      ? "type"
                                                  : NULL;
        if (missing != NULL)
            vn_fault_set(env, VN_FAULT_BAD_PARAMS,
                         "sliver.create: member "
                         "'%s' is required",
                         missing);
    }
    if (!env->fault_occurred) {
        t = sliver_type_parse(type);
        if (t < 0)
            vn_fault_set(env, VN_FAULT_INVALID_ARG,
                         "sliver.create: type "
                         "'%.40s' is not container or fastpath%s",
                         type,
                         strcmp(type, "slowpath") == 0
                             ? " (slow-path VMs are not supported by this "
                               "programmerd yet)"
                             : "");
        else
            spec->type = (enum sliver_type)t;
    }
    if (!env->fault_occurred &&
        ((spec->command == NULL && (spec->command = strdup("")) == NULL) ||
         (spec->module == NULL && (spec->module = strdup("")) == NULL)))
        vn_fault_set(env, VN_FAULT_INTERNAL, "out of memory");
    free(type);
    if (env->fault_occurred) {
        if (!vn_fault_known(env->fault_code))
            vn_fault_set(env, VN_FAULT_BAD_PARAMS, "sliver.create: %s",
                         env->fault_string);
        sliver_spec_free(spec);
        return -1;
    }
    return 0;
}

/* ---- encoding --------------------------------------------------------- */

static void put(xmlrpc_env *env, xmlrpc_value *s, const char *key,
                xmlrpc_value *v)
{
    if (v == NULL)
        return;
    xmlrpc_struct_set_value(env, s, key, v);
    xmlrpc_DECREF(v);
}

static xmlrpc_value *sliver_view(xmlrpc_env *env, const struct sliver *v)
{
    xmlrpc_value *s = xmlrpc_struct_new(env);

    put(env, s, "slice", xmlrpc_string_new(env, v->spec.slice));
    put(env, s, "id", xmlrpc_string_new(env, v->spec.id));
    put(env, s, "type", xmlrpc_string_new(env, sliver_type_name(v->spec.type)));
    put(env, s, "state", xmlrpc_string_new(env, sliver_state_name(v->state)));
    put(env, s, "netns", xmlrpc_string_new(env, v->netns));
    put(env, s, "pid", xmlrpc_int_new(env, (int)v->pid));
    put(env, s, "restarts", xmlrpc_int_new(env, (int)v->rs.restarts));
    put(env, s, "exit_code", xmlrpc_int_new(env, v->exit_code));
    put(env, s, "last_signal", xmlrpc_int_new(env, v->last_signal));
    if (v->spec.type == SLIVER_FASTPATH) {
        const char *file =
            v->module_file != NULL ? strrchr(v->module_file, '/') : NULL;
        put(env, s, "module", xmlrpc_string_new(env, node_module_name(v)));
        put(env, s, "module_file",
            xmlrpc_string_new(env, file != NULL ? file + 1 : ""));
    }
    return s;
}

static void set_node_fault(xmlrpc_env *env, struct node_err *e)
{
    vn_fault_set(env, e->code ? e->code : VN_FAULT_INTERNAL, "%s",
                 e->msg ? e->msg : "failed");
    free(e->msg);
    e->msg = NULL;
}

/* ---- methods ---------------------------------------------------------- */

xmlrpc_value *api_struct_from_xml(xmlrpc_env *env, xmlrpc_value *str)
{
    const char *xml = NULL, *p;
    char *wrapped = NULL;
    xmlrpc_value *v = NULL;

    xmlrpc_read_string(env, str, &xml);
    if (env->fault_occurred)
        return NULL;
    for (p = xml; *p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'; p++)
        ;
    if (strncmp(p, "<value", 6) != 0) {
        if (asprintf(&wrapped, "<value>%s</value>", p) < 0) {
            vn_fault_set(env, VN_FAULT_INTERNAL, "out of memory");
            free((char *)xml);
            return NULL;
        }
        p = wrapped;
    }
    xmlrpc_parse_value_xml(env, p, strlen(p), &v);
    if (env->fault_occurred)
        vn_fault_set(env, VN_FAULT_BAD_PARAMS,
                     "sliver.create: the string "
                     "argument must be an XML-RPC <struct> value: %s",
                     env->fault_string);
    else if (xmlrpc_value_type(v) != XMLRPC_TYPE_STRUCT) {
        vn_fault_set(env, VN_FAULT_BAD_PARAMS,
                     "sliver.create: the string "
                     "argument holds %s, not a <struct>",
                     type_name(xmlrpc_value_type(v)));
        xmlrpc_DECREF(v);
        v = NULL;
    }
    free(wrapped);
    free((char *)xml);
    return v;
}

static xmlrpc_value *m_create(xmlrpc_env *env, xmlrpc_value *params,
                              const struct vn_rpc_caller *caller, void *ctx)
{
    struct sliver_spec spec;
    struct node_err e = {0};
    xmlrpc_value *st = NULL, *r = NULL;
    struct sliver *v;

    (void)caller;
    xmlrpc_array_read_item(env, params, 0, &st);
    if (env->fault_occurred)
        return NULL;
    if (xmlrpc_value_type(st) == XMLRPC_TYPE_STRING) {
        xmlrpc_value *decoded = api_struct_from_xml(env, st);
        xmlrpc_DECREF(st);
        if ((st = decoded) == NULL)
            return NULL;
    }
    if (api_decode_spec(env, st, &spec) == 0) {
        v = node_create(ctx, &spec, &e);
        if (v != NULL)
            r = sliver_view(env, v);
        else
            set_node_fault(env, &e);
        sliver_spec_free(&spec);
    }
    xmlrpc_DECREF(st);
    return r;
}

static xmlrpc_value *m_delete(xmlrpc_env *env, xmlrpc_value *params,
                              const struct vn_rpc_caller *caller, void *ctx)
{
    char *slice = vn_rpc_arg_string(env, params, 0);
    char *id = vn_rpc_arg_string(env, params, 1);
    struct node_err e = {0};
    xmlrpc_value *r = NULL;
    bool deleted = false;

    (void)caller;
    if (!env->fault_occurred) {
        if (node_delete(ctx, slice, id, &deleted, &e) == 0)
            r = xmlrpc_build_value(env, "{s:b}", "deleted",
                                   (xmlrpc_bool)deleted);
        else
            set_node_fault(env, &e);
    }
    free(slice);
    free(id);
    return r;
}

static xmlrpc_value *m_list(xmlrpc_env *env, xmlrpc_value *params,
                            const struct vn_rpc_caller *caller, void *ctx)
{
    struct node *n = ctx;
    xmlrpc_value *a = xmlrpc_array_new(env);

    (void)params, (void)caller;
    for (struct sliver *v = n->slivers; v != NULL && !env->fault_occurred;
         v = v->next) {
        xmlrpc_value *s = sliver_view(env, v);
        xmlrpc_array_append_item(env, a, s);
        xmlrpc_DECREF(s);
    }
    return a;
}

static xmlrpc_value *m_restart(xmlrpc_env *env, xmlrpc_value *params,
                               const struct vn_rpc_caller *caller, void *ctx)
{
    char *slice = vn_rpc_arg_string(env, params, 0);
    char *id = vn_rpc_arg_string(env, params, 1);
    struct node_err e = {0};
    xmlrpc_value *r = NULL;
    struct sliver *v;

    (void)caller;
    if (!env->fault_occurred) {
        if ((v = node_restart(ctx, slice, id, &e)) != NULL)
            r = sliver_view(env, v);
        else
            set_node_fault(env, &e);
    }
    free(slice);
    free(id);
    return r;
}

/* sliver.load(slice, id, base64[, params]) and sliver.load_file(slice, id,
 * path[, params]); params: "key=value" separated by spaces. */
static xmlrpc_value *load(xmlrpc_env *env, xmlrpc_value *params, void *ctx,
                          bool from_file)
{
    char *slice = vn_rpc_arg_string(env, params, 0);
    char *id = vn_rpc_arg_string(env, params, 1);
    char *path = NULL, *mparams = NULL;
    const unsigned char *so = NULL;
    xmlrpc_value *arg = NULL, *r = NULL;
    struct node_err e = {0};
    struct sliver *v = NULL;
    size_t len = 0;

    if (!env->fault_occurred && from_file)
        path = vn_rpc_arg_string(env, params, 2);
    else if (!env->fault_occurred)
        xmlrpc_array_read_item(env, params, 2, &arg);
    if (!env->fault_occurred && arg != NULL)
        xmlrpc_read_base64(env, arg, &len, &so);
    if (!env->fault_occurred && xmlrpc_array_size(env, params) == 4)
        mparams = vn_rpc_arg_string(env, params, 3);
    if (!env->fault_occurred) {
        v = from_file ? node_load_file(ctx, slice, id, path, mparams, &e)
                      : node_load(ctx, slice, id, so, len, mparams, &e);
        if (v != NULL)
            r = sliver_view(env, v);
        else
            set_node_fault(env, &e);
    }
    if (arg != NULL)
        xmlrpc_DECREF(arg);
    free((void *)so);
    free(path);
    free(mparams);
    free(slice);
    free(id);
    return r;
}

static xmlrpc_value *m_load(xmlrpc_env *env, xmlrpc_value *params,
                            const struct vn_rpc_caller *caller, void *ctx)
{
    (void)caller;
    return load(env, params, ctx, false);
}

static xmlrpc_value *m_load_file(xmlrpc_env *env, xmlrpc_value *params,
                                 const struct vn_rpc_caller *caller, void *ctx)
{
    (void)caller;
    return load(env, params, ctx, true);
}

static xmlrpc_value *m_stats(xmlrpc_env *env, xmlrpc_value *params,
                             const struct vn_rpc_caller *caller, void *ctx)
{
    char *slice = vn_rpc_arg_string(env, params, 0);
    char *id = vn_rpc_arg_string(env, params, 1);
    struct node_err e = {0};
    xmlrpc_value *r = NULL;
    char *text = NULL;

    (void)caller;
    if (!env->fault_occurred) {
        if (node_stats(ctx, slice, id, &text, &e) == 0) {
            struct sliver *v = node_find(ctx, slice, id);
            r = xmlrpc_build_value(env, "{s:s,s:s,s:s,s:s}", "slice", slice,
                                   "id", id, "module", node_module_name(v),
                                   "stats", text);
        } else {
            set_node_fault(env, &e);
        }
    }
    free(text);
    free(slice);
    free(id);
    return r;
}

const struct vn_rpc_method programmer_api_methods[] = {
    {"sliver.create", "S:S,S:s", m_create, 0,
     "Creates a node sliver from {slice, id, type (container|fastpath), "
     "command, module, params [{key, value}], vcpus, memory_mib, ports "
     "[{ifname, host_port, address[, shm: a|b]}], routes [{to, via}]}; returns {slice, "
     "id, type, state, netns, pid, restarts, exit_code}. Idempotent. "
     "Clients that cannot send structs (Debian's xmlrpc CLI) may pass the "
     "struct as a string holding its XML-RPC <struct> element."},
    {"sliver.delete", "S:ss", m_delete, 0,
     "Deletes sliver (slice, id) with its namespace, ports, cgroup and "
     "processes; returns {deleted}. Idempotent."},
    {"sliver.list", "A:", m_list, VN_RPC_READONLY,
     "Lists the slivers: [{slice, id, type, state, pid, restarts, netns, "
     "exit_code, last_signal[, module, module_file]}]."},
    {"sliver.restart", "S:ss", m_restart, 0,
     "Restarts the process of sliver (slice, id) (the fast path, or a "
     "container's command); returns the sliver."},
    {"sliver.load", "S:ss6,S:ss6s", m_load, 0,
     "Loads a module (a shared object built against vnode_module.h, as "
     "base64) into fast-path sliver (slice, id): checked in a child process, "
     "then swapped into the running fast path between two bursts, on the "
     "same ports. The optional 4th argument gives the new module's params "
     "as 'key=value' separated by spaces (\"\" for none); without it the "
     "module gets the params the sliver runs with. Returns the sliver "
     "(module, module_file)."},
    {"sliver.load_file", "S:sss,S:ssss", m_load_file, 0,
     "As sliver.load, with the module read from a file on the VNode that "
     "programmerd can read (for clients that cannot send base64)."},
    {"sliver.stats", "S:ss", m_stats, VN_RPC_READONLY,
     "Counters of running fast-path sliver (slice, id): {slice, id, module, "
     "stats}, stats being key=value lines (port.NAME.rx_packets ..., then "
     "the module's own)."},
};
const size_t programmer_api_n_methods =
    sizeof(programmer_api_methods) / sizeof(programmer_api_methods[0]);
