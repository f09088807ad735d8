/* api: link.* and dataplane.* methods. See api.h. */
#include "api.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <math.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

#define NAME_MAX_BYTES 128

/* ---- building results -------------------------------------------------- */

/* Adds key -> v (a new reference that this consumes) to struct s. */
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
    put(env, s, key, xmlrpc_string_new(env, v));
}

static void put_num(xmlrpc_env *env, xmlrpc_value *s, const char *key,
                    uint64_t v)
{
    put(env, s, key, xmlrpc_double_new(env, (double)v));
}

/* Keys are ints on the wire; those above 2^31-1 go as i8. */
static void put_key(xmlrpc_env *env, xmlrpc_value *s, uint32_t key)
{
    put(env, s, "key",
        key <= INT32_MAX ? xmlrpc_int_new(env, (int)key)
                         : xmlrpc_i8_new(env, key));
}

static void append(xmlrpc_env *env, xmlrpc_value *a, xmlrpc_value *v)
{
    if (v == NULL)
        return;
    xmlrpc_array_append_item(env, a, v);
    xmlrpc_DECREF(v);
}

static const char *addr_str(uint32_t a, char buf[INET_ADDRSTRLEN])
{
    if (a == 0)
        return "";
    return inet_ntop(AF_INET, &a, buf, INET_ADDRSTRLEN);
}

/* ---- validating arguments ------------------------------------------------ */

/* Reads a link key from an int, i8 or integral double. */
static int read_key(xmlrpc_env *env, xmlrpc_value *v, uint32_t *key)
{
    int64_t k = 0;

    switch (xmlrpc_value_type(v)) {
    case XMLRPC_TYPE_INT: {
        int i = 0;
        xmlrpc_read_int(env, v, &i);
        k = i;
        if (k < 0) {
            vn_fault_set(env, VN_FAULT_INVALID_ARG,
                         "key %d is negative: keys are 1 to 4294967295; "
                         "send keys above 2147483647 as i8 or double",
                         i);
            return -1;
        }
        break;
    }
    case XMLRPC_TYPE_I8: {
        xmlrpc_int64 i = 0;
        xmlrpc_read_i8(env, v, &i);
        k = i;
        break;
    }
    case XMLRPC_TYPE_DOUBLE: {
        double d = 0;
        xmlrpc_read_double(env, v, &d);
        if (!isfinite(d) || d != floor(d) || d < 0 || d > 4294967295.0) {
            vn_fault_set(env, VN_FAULT_INVALID_ARG,
                         "key %g is not a whole number from 1 to 4294967295",
                         d);
            return -1;
        }
        k = (int64_t)d;
        break;
    }
    default:
        vn_fault_set(env, VN_FAULT_INVALID_ARG,
                     "key must be an int (or i8 or double), not a %s",
                     xmlrpc_type_name(xmlrpc_value_type(v)));
        return -1;
    }
    if (env->fault_occurred)
        return -1;
    if (k < 1 || k > UINT32_MAX) {
        vn_fault_set(env, VN_FAULT_INVALID_ARG,
                     "key %lld is out of range: keys are 1 to 4294967295 "
                     "(0 is never a link key)",
                     (long long)k);
        return -1;
    }
    *key = (uint32_t)k;
    return 0;
}

static bool name_ok(const char *s)
{
    size_t n = strlen(s);

    if (n == 0 || n > NAME_MAX_BYTES)
        return false;
    for (; *s != '\0'; s++)
        if (!isgraph((unsigned char)*s))
            return false;
    return true;
}

static bool ifname_ok(const char *s)
{
    size_t n = strlen(s);

    if (n == 0 || n >= IF_NAMESIZE || strcmp(s, ".") == 0 ||
        strcmp(s, "..") == 0)
        return false;
    for (; *s != '\0'; s++)
        if (!isgraph((unsigned char)*s) || *s == '/' || *s == ':' ||
            *s == '%' || *s == ',')
            return false;
    return true;
}

static int port_exists(const struct redirector *r, const char *ifname)
{
    if (r->port_exists != NULL)
        return r->port_exists(ifname);
    return if_nametoindex(ifname) != 0;
}

/* Checks a port field: a valid name of an interface here that is neither
 * the transport nor the loopback. */
static int check_port(xmlrpc_env *env, const struct redirector *r,
                      const char *field, const char *name)
{
    if (!ifname_ok(name)) {
        vn_fault_set(env, VN_FAULT_INVALID_ARG,
                     "%s '%.32s' is not an interface name (1 to %d "
                     "printable characters, no '/', ':', '%%' or ',')",
                     field, name, IF_NAMESIZE - 1);
        return -1;
    }
    if (strcmp(name, r->transport) == 0 || strcmp(name, "lo") == 0) {
        vn_fault_set(env, VN_FAULT_INVALID_ARG,
                     "%s %s is the %s interface, not a sliver port", field,
                     name, strcmp(name, "lo") == 0 ? "loopback" : "transport");
        return -1;
    }
    if (!port_exists(r, name)) {
        vn_fault_set(env, VN_FAULT_NOT_FOUND,
                     "%s %s does not exist in this VNode's namespace: create "
                     "the sliver's veth first",
                     field, name);
        return -1;
    }
    return 0;
}

static int check_peer(xmlrpc_env *env, const struct redirector *r,
                      const char *s, uint32_t *peer)
{
    struct in_addr a;
    uint32_t h;

    if (inet_pton(AF_INET, s, &a) != 1) {
        vn_fault_set(env, VN_FAULT_INVALID_ARG,
                     "peer '%.64s' is not an IPv4 address (A.B.C.D): give "
                     "the remote VNode's data-plane address",
                     s);
        return -1;
    }
    h = ntohl(a.s_addr);
    if (h == 0 || h == 0xffffffffu || (h >> 28) == 0xe || (h >> 24) == 127) {
        vn_fault_set(env, VN_FAULT_INVALID_ARG,
                     "peer %s is not a unicast address of a VNode", s);
        return -1;
    }
    if (a.s_addr == r->address) {
        vn_fault_set(env, VN_FAULT_INVALID_ARG,
                     "peer %s is this VNode's own address: for a link "
                     "inside one VNode use end \"local\"",
                     s);
        return -1;
    }
    *peer = a.s_addr;
    return 0;
}

/* The fields of link.create as read from the struct; strings malloc'd. */
struct create_args {
    char *slice, *link, *end, *port, *peer, *local_port;
    uint32_t key;
    bool has_key;
    double rate_bps, ceil_bps;                /* 0 when absent */
    double burst_bytes, weight, slice_weight; /* 0 when absent */
};

static void create_args_free(struct create_args *a)
{
    free(a->slice);
    free(a->link);
    free(a->end);
    free(a->port);
    free(a->peer);
    free(a->local_port);
}

static const char *const CREATE_FIELDS =
    "slice, link, key, end, port, peer, local_port, rate_bps, ceil_bps, "
    "burst_bytes, weight, slice_weight";

/* Reads a number sent as an int, i8 or double. */
static void read_number(xmlrpc_env *env, const char *name, xmlrpc_value *v,
                        double *out)
{
    xmlrpc_type t = xmlrpc_value_type(v);
    int i = 0;
    xmlrpc_int64 i8 = 0;

    if (t == XMLRPC_TYPE_DOUBLE) {
        xmlrpc_read_double(env, v, out);
    } else if (t == XMLRPC_TYPE_INT) {
        xmlrpc_read_int(env, v, &i);
        *out = i;
    } else if (t == XMLRPC_TYPE_I8) {
        xmlrpc_read_i8(env, v, &i8);
        *out = (double)i8;
    } else {
        vn_fault_set(env, VN_FAULT_INVALID_ARG,
                     "%s must be a number (double, int or i8)", name);
        return;
    }
    if (!env->fault_occurred && (!isfinite(*out) || *out < 0))
        vn_fault_set(env, VN_FAULT_INVALID_ARG, "%s must be 0 or more", name);
}

/* The numeric fields: rates in bits per second, the others whole. */
static const struct {
    const char *name;
    size_t off;
    bool whole;
} NUMBERS[] = {
    {"rate_bps", offsetof(struct create_args, rate_bps), false},
    {"ceil_bps", offsetof(struct create_args, ceil_bps), false},
    {"burst_bytes", offsetof(struct create_args, burst_bytes), true},
    {"weight", offsetof(struct create_args, weight), true},
    {"slice_weight", offsetof(struct create_args, slice_weight), true},
};

/* Reads one member of the link.create struct into 'a'. */
static void read_member(xmlrpc_env *env, const char *name, xmlrpc_value *v,
                        struct create_args *a)
{
    struct {
        const char *name;
        char **dst;
    } strs[] = {
        {"slice", &a->slice}, {"link", &a->link},
        {"end", &a->end},     {"port", &a->port},
        {"peer", &a->peer},   {"local_port", &a->local_port},
    };

    for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
        const char *s = NULL;

        if (strcmp(name, strs[i].name) != 0)
            continue;
        if (xmlrpc_value_type(v) != XMLRPC_TYPE_STRING) {
            vn_fault_set(env, VN_FAULT_INVALID_ARG, "%s must be a string",
                         name);
            return;
        }
        xmlrpc_read_string(env, v, &s);
        if (env->fault_occurred) {
            vn_fault_set(env, VN_FAULT_INVALID_ARG,
                         "%s must be a string without NUL characters", name);
            return;
        }
        free(*strs[i].dst);
        *strs[i].dst = (char *)s;
        return;
    }
    if (strcmp(name, "key") == 0) {
        a->has_key = read_key(env, v, &a->key) == 0;
        return;
    }
    for (size_t i = 0; i < sizeof(NUMBERS) / sizeof(NUMBERS[0]); i++) {
        double *d = (double *)(void *)((char *)a + NUMBERS[i].off);

        if (strcmp(name, NUMBERS[i].name) != 0)
            continue;
        read_number(env, name, v, d);
        if (!env->fault_occurred && NUMBERS[i].whole &&
            (*d != floor(*d) || *d > UINT32_MAX))
            vn_fault_set(env, VN_FAULT_INVALID_ARG,
                         "%s must be a whole number from 0 to %u", name,
                         UINT32_MAX);
        return;
    }
    vn_fault_set(env, VN_FAULT_INVALID_ARG,
                 "unknown field '%.32s' in a link struct (fields: %s)", name,
                 CREATE_FIELDS);
}

/* link.create's fields in the order of its positional form (for clients
 * that cannot send a struct, such as Debian's xmlrpc CLI 1.33): the first
 * 8, or all 12. */
static const char *const POSITIONAL[] = {
    "slice",    "link",        "key",        "end",
    "port",     "peer",        "local_port", "rate_bps",
    "ceil_bps", "burst_bytes", "weight",     "slice_weight",
};

static int read_create_args(xmlrpc_env *env, xmlrpc_value *params,
                            struct create_args *a)
{
    xmlrpc_value *s = NULL;
    int n = xmlrpc_array_size(env, params);

    if (n > 1) {
        /* The signature check guarantees the count and the types. */
        for (unsigned i = 0; i < (unsigned)n && i < 12 && !env->fault_occurred;
             i++) {
            xmlrpc_value *v = NULL;

            xmlrpc_array_read_item(env, params, i, &v);
            if (!env->fault_occurred)
                read_member(env, POSITIONAL[i], v, a);
            if (v != NULL)
                xmlrpc_DECREF(v);
        }
        return env->fault_occurred ? -1 : 0;
    }
    xmlrpc_array_read_item(env, params, 0, &s);
    if (env->fault_occurred)
        return -1;
    n = xmlrpc_struct_size(env, s);
    for (int i = 0; i < n && !env->fault_occurred; i++) {
        xmlrpc_value *k = NULL, *v = NULL;
        const char *name = NULL;

        xmlrpc_struct_read_member(env, s, (unsigned)i, &k, &v);
        if (!env->fault_occurred)
            xmlrpc_read_string(env, k, &name);
        if (!env->fault_occurred)
            read_member(env, name, v, a);
        free((char *)name);
        if (k != NULL)
            xmlrpc_DECREF(k);
        if (v != NULL)
            xmlrpc_DECREF(v);
    }
    xmlrpc_DECREF(s);
    return env->fault_occurred ? -1 : 0;
}

/* Checks the fields read into 'a' and fills 'spec' (borrowing strings). */
static int validate_create(xmlrpc_env *env, const struct redirector *r,
                           const struct create_args *a,
                           struct rd_link_spec *spec)
{
    const char *missing = !a->slice     ? "slice"
                          : !a->link    ? "link"
                          : !a->has_key ? "key"
                          : !a->end     ? "end"
                          : !a->port    ? "port"
                                        : NULL;

    if (missing != NULL) {
        vn_fault_set(env, VN_FAULT_INVALID_ARG,
                     "link.create needs '%s' (fields: %s)", missing,
                     CREATE_FIELDS);
        return -1;
    }
    if (!name_ok(a->slice) || !name_ok(a->link)) {
        vn_fault_set(env, VN_FAULT_INVALID_ARG,
                     "%s must be 1 to %d printable characters without "
                     "spaces",
                     name_ok(a->slice) ? "link" : "slice", NAME_MAX_BYTES);
        return -1;
    }
    memset(spec, 0, sizeof(*spec));
    if (rd_end_parse(a->end, &spec->end) < 0) {
        vn_fault_set(env, VN_FAULT_INVALID_ARG,
                     "end '%.16s' must be \"a\", \"b\" or \"local\"", a->end);
        return -1;
    }
    if (check_port(env, r, "port", a->port) < 0)
        return -1;
    spec->local_port = "";
    if (spec->end == RD_END_LOCAL) {
        if (a->local_port == NULL || a->local_port[0] == '\0') {
            vn_fault_set(env, VN_FAULT_INVALID_ARG,
                         "a local link needs local_port (the other end's "
                         "host port)");
            return -1;
        }
        if (a->peer != NULL && a->peer[0] != '\0') {
            vn_fault_set(env, VN_FAULT_INVALID_ARG,
                         "a local link has no peer: give peer \"\"");
            return -1;
        }
        if (strcmp(a->local_port, a->port) == 0) {
            vn_fault_set(env, VN_FAULT_INVALID_ARG,
                         "local_port must differ from port (%s)", a->port);
            return -1;
        }
        if (check_port(env, r, "local_port", a->local_port) < 0)
            return -1;
        spec->local_port = a->local_port;
    } else {
        if (a->local_port != NULL && a->local_port[0] != '\0') {
            vn_fault_set(env, VN_FAULT_INVALID_ARG,
                         "local_port is only for end \"local\"; end %s "
                         "tunnels to peer",
                         a->end);
            return -1;
        }
        if (a->peer == NULL || a->peer[0] == '\0') {
            vn_fault_set(env, VN_FAULT_INVALID_ARG,
                         "end %s needs peer: the remote VNode's data-plane "
                         "IPv4 address",
                         a->end);
            return -1;
        }
        if (check_peer(env, r, a->peer, &spec->peer) < 0)
            return -1;
    }
    spec->slice = a->slice;
    spec->link = a->link;
    spec->key = a->key;
    spec->port = a->port;
    spec->rates.rate_bps = a->rate_bps;
    spec->rates.ceil_bps = a->ceil_bps;
    spec->rates.burst_bytes = (uint32_t)a->burst_bytes;
    spec->rates.weight = a->weight > 0 ? (uint32_t)a->weight : 1;
    spec->rates.slice_weight =
        a->slice_weight > 0 ? (uint32_t)a->slice_weight : 1;
    {
        char *why = rd_sched_rates_check(&spec->rates);

        if (why != NULL) {
            vn_fault_set(env, VN_FAULT_INVALID_ARG, "%s", why);
            free(why);
            return -1;
        }
    }
    return 0;
}

/* ---- methods ----------------------------------------------------------- */

static xmlrpc_value *m_create(xmlrpc_env *env, xmlrpc_value *params,
                              const struct vn_rpc_caller *caller, void *ctx)
{
    struct redirector *r = ctx;
    struct create_args a = {0};
    struct rd_link_spec spec;
    struct rd_link *l = NULL;
    enum rd_add_result res;
    enum vn_fault code = VN_FAULT_INTERNAL;
    xmlrpc_value *v = NULL;
    char *err = NULL, peer[INET_ADDRSTRLEN];

    (void)caller;
    if (read_create_args(env, params, &a) < 0 ||
        validate_create(env, r, &a, &spec) < 0)
        goto cleanup;
    res = rd_table_add(&r->table, &spec, &l, &code, &err);
    if (res == RD_ADD_FAILED) {
        vn_fault_set(env, code, "%s", err ? err : "out of memory");
        goto cleanup;
    }
    if (res == RD_ADD_NEW) {
        /* Admission (the scheduler's guarantees) is checked here: the
         * table entry goes again if the port cannot take the link. */
        if (rd_dp_attach(r->dp, l, rd_now_ns(), &code, &err) < 0) {
            rd_link_free(rd_table_remove(&r->table, spec.key, spec.end));
            vn_fault_set(env, code, "%s",
                         err ? err : "cannot start forwarding");
            goto cleanup;
        }
        log_info("link %s of slice %s: key %u end %s on %s%s%s, rate %.0f "
                 "ceil %.0f bit/s, burst %u, weight %u, slice weight %u",
                 l->link, l->slice, l->key, rd_end_name(l->end), l->port,
                 l->end == RD_END_LOCAL ? " <-> " : " to peer ",
                 l->end == RD_END_LOCAL ? l->local_port
                                        : addr_str(l->peer, peer),
                 l->rates.rate_bps, l->rates.ceil_bps, l->rates.burst_bytes,
                 l->rates.weight, l->rates.slice_weight);
    }
    v = xmlrpc_struct_new(env);
    put_key(env, v, spec.key);
    put_str(env, v, "state", res == RD_ADD_NEW ? "created" : "exists");
cleanup:
    create_args_free(&a);
    free(err);
    return v;
}

/* Which identifying field of 'l' differs from 'spec', or NULL. */
static const char *identity_differs(const struct rd_link *l,
                                    const struct rd_link_spec *spec)
{
    if (strcmp(l->slice, spec->slice) != 0)
        return "slice";
    if (strcmp(l->link, spec->link) != 0)
        return "link";
    if (strcmp(l->port, spec->port) != 0)
        return "port";
    if (strcmp(l->local_port, spec->local_port) != 0)
        return "local_port";
    if (l->peer != spec->peer)
        return "peer";
    return NULL;
}

static void log_rates(const struct rd_link *l, const char *what)
{
    log_info("link %s of slice %s: key %u end %s %s: rate %.0f ceil %.0f "
             "bit/s, burst %u bytes, weight %u, slice weight %u",
             l->link, l->slice, l->key, rd_end_name(l->end), what,
             l->rates.rate_bps, l->rates.ceil_bps, l->rates.burst_bytes,
             l->rates.weight, l->rates.slice_weight);
}

/* link.update: the same fields as link.create; changes the rates of an
 * existing link sliver at once (its queue keeps its frames). */
static xmlrpc_value *m_update(xmlrpc_env *env, xmlrpc_value *params,
                              const struct vn_rpc_caller *caller, void *ctx)
{
    struct redirector *r = ctx;
    struct create_args a = {0};
    struct rd_link_spec spec;
    struct rd_link *l;
    enum vn_fault code = VN_FAULT_INTERNAL;
    xmlrpc_value *v = NULL;
    const char *diff, *state = "unchanged";
    char *err = NULL;

    (void)caller;
    if (read_create_args(env, params, &a) < 0 ||
        validate_create(env, r, &a, &spec) < 0)
        goto cleanup;
    l = rd_table_find(&r->table, spec.key, spec.end);
    if (l == NULL) {
        vn_fault_set(env, VN_FAULT_NOT_FOUND,
                     "no link sliver with key %u end %s here: create it "
                     "with link.create",
                     spec.key, rd_end_name(spec.end));
        goto cleanup;
    }
    if ((diff = identity_differs(l, &spec)) != NULL) {
        vn_fault_set(env, VN_FAULT_INVALID_ARG,
                     "link.update changes rates only, and %s differs from "
                     "link %s of slice %s (key %u end %s): delete the link "
                     "and create it again to change that",
                     diff, l->link, l->slice, l->key, rd_end_name(l->end));
        goto cleanup;
    }
    if (!rd_rates_equal(&l->rates, &spec.rates)) {
        if (rd_dp_update(r->dp, l, &spec.rates, rd_now_ns(), &code, &err) < 0) {
            vn_fault_set(env, code, "%s", err ? err : "cannot update");
            goto cleanup;
        }
        log_rates(l, "updated");
        state = "updated";
    }
    v = xmlrpc_struct_new(env);
    put_key(env, v, spec.key);
    put_str(env, v, "state", state);
cleanup:
    create_args_free(&a);
    free(err);
    return v;
}

/* Reads (key, end) arguments of link.delete. */
static int read_key_end(xmlrpc_env *env, xmlrpc_value *params, uint32_t *key,
                        enum rd_end *end)
{
    xmlrpc_value *k = NULL;
    char *e = NULL;
    int rc = -1;

    xmlrpc_array_read_item(env, params, 0, &k);
    if (env->fault_occurred || read_key(env, k, key) < 0)
        goto cleanup;
    e = vn_rpc_arg_string(env, params, 1);
    if (e == NULL)
        goto cleanup;
    if (rd_end_parse(e, end) < 0) {
        vn_fault_set(env, VN_FAULT_INVALID_ARG,
                     "end '%.16s' must be \"a\", \"b\" or \"local\"", e);
        goto cleanup;
    }
    rc = 0;
cleanup:
    if (k != NULL)
        xmlrpc_DECREF(k);
    free(e);
    return rc;
}

static xmlrpc_value *m_delete(xmlrpc_env *env, xmlrpc_value *params,
                              const struct vn_rpc_caller *caller, void *ctx)
{
    struct redirector *r = ctx;
    struct rd_link *l;
    uint32_t key = 0;
    enum rd_end end = RD_END_A;

    (void)caller;
    if (read_key_end(env, params, &key, &end) < 0)
        return NULL;
    l = rd_table_find(&r->table, key, end);
    if (l != NULL) {
        rd_dp_detach(r->dp, l, rd_now_ns());
        l = rd_table_remove(&r->table, key, end);
        log_info("link %s of slice %s: key %u end %s deleted", l->link,
                 l->slice, key, rd_end_name(end));
        rd_link_free(l);
        return xmlrpc_build_value(env, "{s:b}", "deleted", 1);
    }
    return xmlrpc_build_value(env, "{s:b}", "deleted", 0);
}

static xmlrpc_value *link_head(xmlrpc_env *env, const struct rd_link *l)
{
    xmlrpc_value *v = xmlrpc_struct_new(env);

    put_str(env, v, "slice", l->slice);
    put_str(env, v, "link", l->link);
    put_key(env, v, l->key);
    put_str(env, v, "end", rd_end_name(l->end));
    return v;
}

static xmlrpc_value *m_list(xmlrpc_env *env, xmlrpc_value *params,
                            const struct vn_rpc_caller *caller, void *ctx)
{
    const struct redirector *r = ctx;
    xmlrpc_value *a = xmlrpc_array_new(env);
    char peer[INET_ADDRSTRLEN];

    (void)params, (void)caller;
    for (size_t i = 0; i < r->table.n && !env->fault_occurred; i++) {
        const struct rd_link *l = r->table.links[i];
        xmlrpc_value *v = link_head(env, l);

        put_str(env, v, "port", l->port);
        put_str(env, v, "peer", addr_str(l->peer, peer));
        put_str(env, v, "local_port", l->local_port);
        put(env, v, "rate_bps", xmlrpc_double_new(env, l->rates.rate_bps));
        put(env, v, "ceil_bps", xmlrpc_double_new(env, l->rates.ceil_bps));
        put_num(env, v, "burst_bytes", l->rates.burst_bytes);
        put_num(env, v, "weight", l->rates.weight);
        put_num(env, v, "slice_weight", l->rates.slice_weight);
        append(env, a, v);
    }
    return a;
}

/* The isolation report of a scheduled link sliver (docs/redirector.md). */
static void put_sched(xmlrpc_env *env, xmlrpc_value *v,
                      const struct vsched_link_stats *st)
{
    put_num(env, v, "achieved_bps", st->rate_bps);
    put_num(env, v, "window_ns", st->window_ns);
    put_num(env, v, "enq_packets", st->enq_pkts);
    put_num(env, v, "enq_bytes", st->enq_bytes);
    put_num(env, v, "sent_packets", st->sent_pkts);
    put_num(env, v, "sent_bytes", st->sent_bytes);
    put_num(env, v, "drops_own", st->drops_own_pkts);
    put_num(env, v, "drops_own_bytes", st->drops_own_bytes);
    put_num(env, v, "drops_others", st->drops_others_pkts);
    put_num(env, v, "drops_others_bytes", st->drops_others_bytes);
    put_num(env, v, "delay_p50_ns", st->delay_p50_ns);
    put_num(env, v, "delay_p99_ns", st->delay_p99_ns);
    put_num(env, v, "delay_max_ns", st->delay_max_ns);
    put_num(env, v, "queued_packets", st->queued_pkts);
    put_num(env, v, "queued_bytes", st->queued_bytes);
}

static xmlrpc_value *m_stats(xmlrpc_env *env, xmlrpc_value *params,
                             const struct vn_rpc_caller *caller, void *ctx)
{
    const struct redirector *r = ctx;
    const struct rd_sched *rs = rd_dp_sched(r->dp);
    xmlrpc_value *a = xmlrpc_array_new(env);
    uint64_t now = rd_now_ns();

    (void)params, (void)caller;
    for (size_t i = 0; i < r->table.n && !env->fault_occurred; i++) {
        const struct rd_link *l = r->table.links[i];
        xmlrpc_value *v = link_head(env, l);
        struct vsched_link_stats st;
        bool sched = l->end != RD_END_LOCAL && rs != NULL &&
                     rd_sched_link_stats(rs, l->key, now, &st) == 0;

        put_num(env, v, "tx_packets", l->ctr.tx_packets);
        put_num(env, v, "tx_bytes", l->ctr.tx_bytes);
        put_num(env, v, "rx_packets", l->ctr.rx_packets);
        put_num(env, v, "rx_bytes", l->ctr.rx_bytes);
        put_num(env, v, "drops_bad_key", l->ctr.drops_bad_key);
        put_num(env, v, "drops_queue", l->ctr.drops_queue);
        put_num(env, v, "drops_policed", l->ctr.drops_policed);
        put(env, v, "guaranteed_bps",
            xmlrpc_double_new(env, l->rates.rate_bps));
        put(env, v, "scheduled", xmlrpc_bool_new(env, sched));
        if (sched)
            put_sched(env, v, &st);
        append(env, a, v);
    }
    return a;
}

static xmlrpc_value *m_dp_stats(xmlrpc_env *env, xmlrpc_value *params,
                                const struct vn_rpc_caller *caller, void *ctx)
{
    const struct redirector *r = ctx;
    struct rd_dp_stats st;
    xmlrpc_value *v = xmlrpc_struct_new(env), *bad, *hops;
    char buf[INET_ADDRSTRLEN];
    uint64_t malformed = 0;

    (void)params, (void)caller;
    rd_dp_get_stats(r->dp, &st);
    put_str(env, v, "transport", r->transport);
    put_str(env, v, "address", addr_str(r->address, buf));
    put_num(env, v, "rx_packets", st.tr_rx_packets);
    put_num(env, v, "rx_bytes", st.tr_rx_bytes);
    put_num(env, v, "tx_packets", st.tr_tx_packets);
    put_num(env, v, "tx_bytes", st.tr_tx_bytes);
    put_num(env, v, "drops_not_ours", st.drops_not_ours);
    put_num(env, v, "drops_unknown_key", st.drops_unknown_key);
    put_num(env, v, "drops_no_nexthop", st.drops_no_nexthop);
    put_num(env, v, "drops_too_big", st.drops_too_big);
    put_num(env, v, "ring_drops", st.ring_drops);
    put_num(env, v, "rx_oversize", st.rx_oversize);
    bad = xmlrpc_struct_new(env);
    for (int i = 1; i < GRE_N_ERR; i++) {
        malformed += st.drops_decap[i];
        if (st.drops_decap[i] > 0)
            put_num(env, bad, gre_err_name((enum gre_err)i), st.drops_decap[i]);
    }
    put_num(env, v, "drops_malformed", malformed);
    put(env, v, "malformed", bad);
    if (rd_dp_sched(r->dp) != NULL) {
        struct rd_sched_stats ss;
        xmlrpc_value *sv = xmlrpc_struct_new(env);

        rd_sched_get_stats(rd_dp_sched(r->dp), &ss);
        put_num(env, sv, "port_rate_bps", ss.rate_bps);
        put_num(env, sv, "burst_bytes", ss.burst_bytes);
        put_num(env, sv, "slices", ss.port.n_slices);
        put_num(env, sv, "links", ss.port.n_links);
        put_num(env, sv, "enq_packets", ss.port.enq_pkts);
        put_num(env, sv, "sent_packets", ss.port.sent_pkts);
        put_num(env, sv, "sent_bytes", ss.port.sent_bytes);
        put_num(env, sv, "queued_packets", ss.port.queued_pkts);
        put_num(env, sv, "queued_bytes", ss.port.queued_bytes);
        put_num(env, sv, "drops_limit", ss.port.drops_limit_pkts);
        put_num(env, sv, "drops_deleted", ss.port.drops_deleted_pkts);
        put_num(env, sv, "drops_no_buffer", ss.drops_no_buffer);
        put_num(env, sv, "buffers", ss.buffers);
        put_num(env, sv, "buffers_free", ss.buffers_free);
        put_num(env, sv, "buffers_reserved", ss.buffers_reserved);
        put_num(env, sv, "wakeups", st.sched_wakeups);
        put_num(env, sv, "runs", st.sched_runs);
        put(env, v, "sched", sv);
    }
    hops = xmlrpc_array_new(env);
    for (size_t i = 0; i < r->table.n && !env->fault_occurred; i++) {
        const struct rd_link *l = r->table.links[i];
        uint8_t mac[6];
        char m[18] = "";
        xmlrpc_value *h;

        if (l->end == RD_END_LOCAL)
            continue;
        if (rd_dp_nexthop(r->dp, l->peer, mac))
            snprintf(m, sizeof(m), "%02x:%02x:%02x:%02x:%02x:%02x", mac[0],
                     mac[1], mac[2], mac[3], mac[4], mac[5]);
        h = xmlrpc_struct_new(env);
        put_key(env, h, l->key);
        put_str(env, h, "peer", addr_str(l->peer, buf));
        put_str(env, h, "mac", m);
        append(env, hops, h);
    }
    put(env, v, "nexthops", hops);
    return v;
}

/* The positional forms: 8 fields, or 12 (ceil_bps double, burst_bytes,
 * weight and slice_weight int); the key an int, i8 or double. */
#define LINK_SIGNATURES                                                        \
    "S:S,S:ssissssd,S:ssIssssd,S:ssdssssd,S:ssissssddiii,S:ssIssssddiii,"      \
    "S:ssdssssddiii"

const struct vn_rpc_method rd_api_methods[] = {
    {"link.create", LINK_SIGNATURES, m_create, 0,
     "Creates a link sliver: struct {slice, link, key (int), end "
     "(a|b|local), port, peer (IPv4; \"\" when local), local_port (when "
     "local), rate_bps (double: guarantee), ceil_bps (double, 0 = none), "
     "burst_bytes (int, 0 = 64 KiB), weight (int 1..1000), slice_weight "
     "(int 1..1000)} -> {key, state: created|exists}. Idempotent. The "
     "guarantees on the transport port must fit its rate (fault no-capacity "
     "otherwise). The same fields may also be given positionally, in that "
     "order (the first 8, or all 12)."},
    {"link.update", LINK_SIGNATURES, m_update, 0,
     "Changes the rates of an existing link sliver at once: the same fields "
     "as link.create (only rate_bps, ceil_bps, burst_bytes, weight and "
     "slice_weight may differ) -> {key, state: updated|unchanged}."},
    {"link.delete", "S:is,S:Is,S:ds", m_delete, 0,
     "Deletes link sliver (key, end) -> {deleted: bool}. Idempotent."},
    {"link.list", "A:", m_list, VN_RPC_READONLY,
     "Lists link slivers: [{slice, link, key, end, port, peer, local_port, "
     "rate_bps}]."},
    {"link.stats", "A:", m_stats, VN_RPC_READONLY,
     "Counters per link sliver (doubles): [{slice, link, key, end, "
     "tx_packets, tx_bytes, rx_packets, rx_bytes, drops_bad_key, "
     "drops_queue, drops_policed, guaranteed_bps, scheduled (bool); when "
     "scheduled: "
     "achieved_bps, window_ns, enq_packets, enq_bytes, sent_packets, "
     "sent_bytes, drops_own, drops_own_bytes, drops_others, "
     "drops_others_bytes, delay_p50_ns, delay_p99_ns, delay_max_ns, "
     "queued_packets, queued_bytes}]."},
    {"dataplane.stats", "S:", m_dp_stats, VN_RPC_READONLY,
     "Daemon-wide counters: transport frames, drops that belong to no link "
     "(unknown key, malformed by reason, no next hop, too big) and the next "
     "hop of each tunnel."},
};
const size_t rd_api_n_methods =
    sizeof(rd_api_methods) / sizeof(rd_api_methods[0]);
