/* rpc_server: the transport-independent core of the XML-RPC server.
 *
 * A request body goes through, in order: a size check, a cheap scan that
 * refuses what xmlrpc-c 1.33's parser cannot take safely (DTDs, NUL bytes,
 * deep element nesting, which overflows the stack in its recursive tree
 * free, and malformed <i8> text, which crashes it), xmlrpc_parse_call(),
 * method lookup, authorization, a signature
 * check, and finally the handler. Every refusal is a vn_fault with a message
 * saying what was wrong; xmlrpc-c's own negative codes never leave here.
 * The HTTP transport is in rpc_http.c. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "rpc.h"
#include "rpc_impl.h"

#define RPC_DEFAULT_MAX_BODY_BYTES ((size_t)1024 * 1024)
/* Deepest element nesting a call can need: methodCall/params/param/value,
 * then three elements (array/data/value or struct/member/value) for each of
 * the value levels xmlrpc-c accepts, and a few for the leaf's type. */
#define RPC_MAX_XML_DEPTH (8 + 3 * XMLRPC_NESTING_LIMIT_DEFAULT)
/* Untrusted names (method names) are shown cut to this many bytes. */
#define RPC_SHOWN_MAX 64

/* ---- names, types and signatures ------------------------------------- */

struct rpc_type {
    char letter; /* in signature strings */
    xmlrpc_type type;
    const char *name;          /* for messages: "expects (string, int)" */
    const char *a_name;        /* "argument 2 is an int" */
    const char *introspection; /* system.methodSignature's name */
};

static const struct rpc_type rpc_types[] = {
    {'i', XMLRPC_TYPE_INT, "int", "an int", "int"},
    {'b', XMLRPC_TYPE_BOOL, "boolean", "a boolean", "boolean"},
    {'d', XMLRPC_TYPE_DOUBLE, "double", "a double", "double"},
    {'s', XMLRPC_TYPE_STRING, "string", "a string", "string"},
    {'8', XMLRPC_TYPE_DATETIME, "datetime", "a datetime", "dateTime.iso8601"},
    {'6', XMLRPC_TYPE_BASE64, "base64", "a base64", "base64"},
    {'A', XMLRPC_TYPE_ARRAY, "array", "an array", "array"},
    {'S', XMLRPC_TYPE_STRUCT, "struct", "a struct", "struct"},
    {'n', XMLRPC_TYPE_NIL, "nil", "a nil", "nil"},
    {'I', XMLRPC_TYPE_I8, "i8", "an i8", "i8"},
};
#define N_RPC_TYPES (sizeof(rpc_types) / sizeof(rpc_types[0]))

static const struct rpc_type *type_by_letter(char letter)
{
    for (size_t i = 0; i < N_RPC_TYPES; i++)
        if (rpc_types[i].letter == letter)
            return &rpc_types[i];
    return NULL;
}

static const char *a_type_name(xmlrpc_type type)
{
    for (size_t i = 0; i < N_RPC_TYPES; i++)
        if (rpc_types[i].type == type)
            return rpc_types[i].a_name;
    return "a value of an unsupported type";
}

/* One alternative of a signature: "S:ss" -> result 'S', args "ss". */
struct sig_alt {
    char result;
    const char *args; /* points into the signature; n_args letters */
    size_t n_args;
};

/* Reads the alternative at *cursor and advances past it (and its ',').
 * Returns false at the end of the signature. Signatures were validated by
 * sig_valid() at start-up. */
static bool sig_next(const char **cursor, struct sig_alt *alt)
{
    const char *s = *cursor, *colon, *end;

    if (s == NULL || *s == '\0')
        return false;
    end = strchr(s, ',');
    if (end == NULL)
        end = s + strlen(s);
    colon = memchr(s, ':', (size_t)(end - s));
    alt->result = s[0];
    alt->args = colon != NULL ? colon + 1 : end;
    alt->n_args = (size_t)(end - alt->args);
    *cursor = *end == ',' ? end + 1 : end;
    return true;
}

/* "R:args[,R:args...]" with known letters; the result letter alone. */
static bool sig_valid(const char *sig)
{
    const char *p = sig;

    if (sig == NULL || *sig == '\0')
        return false;
    do {
        if (type_by_letter(p[0]) == NULL || p[1] != ':')
            return false;
        for (p += 2; *p != '\0' && *p != ','; p++)
            if (type_by_letter(*p) == NULL)
                return false;
    } while (*p++ == ',' && *p != '\0');
    return p[-1] == '\0';
}

/* Appends "(string, int)" for 'alt' to buf (size n; cut if short). */
static void sig_describe(const struct sig_alt *alt, char *buf, size_t n)
{
    size_t len = strlen(buf);

    len += (size_t)snprintf(buf + len, len < n ? n - len : 0, "(");
    for (size_t i = 0; i < alt->n_args && len < n; i++) {
        const struct rpc_type *t = type_by_letter(alt->args[i]);
        len += (size_t)snprintf(buf + len, n - len, "%s%s", i > 0 ? ", " : "",
                                t != NULL ? t->name : "?");
    }
    if (len < n)
        snprintf(buf + len, n - len, ")");
}

/* "(string) or (string, int)" for every alternative of 'sig'. */
static void sig_describe_all(const char *sig, char *buf, size_t n)
{
    struct sig_alt alt;
    const char *cursor = sig;
    bool first = true;

    buf[0] = '\0';
    while (sig_next(&cursor, &alt)) {
        size_t len = strlen(buf);
        if (!first && len < n)
            snprintf(buf + len, n - len, " or ");
        sig_describe(&alt, buf, n);
        first = false;
    }
}

/* Copies untrusted 's' for a message: printable ASCII kept, other bytes
 * as '?', cut to RPC_SHOWN_MAX bytes with "...". Returns buf. */
static const char *shown(const char *s, char buf[RPC_SHOWN_MAX + 4])
{
    size_t i;

    if (s == NULL)
        s = "";
    for (i = 0; s[i] != '\0' && i < RPC_SHOWN_MAX; i++)
        buf[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
    if (s[i] != '\0') {
        memcpy(buf + i, "...", 3);
        i += 3;
    }
    buf[i] = '\0';
    return buf;
}

/* ---- the pre-parse scan ---------------------------------------------- */

/* Skips to just after 'end' (a string) or returns NULL if it never comes. */
static const char *skip_past(const char *p, const char *lim, const char *end)
{
    size_t n = strlen(end);

    for (; p + n <= lim; p++)
        if (memcmp(p, end, n) == 0)
            return p + n;
    return NULL;
}

/* Skips a tag's attributes up to and including '>'; sets *empty for "/>". */
static const char *skip_tag(const char *p, const char *lim, bool *empty)
{
    char quote = 0;

    for (; p < lim; p++) {
        if (quote != 0) {
            if (*p == quote)
                quote = 0;
        } else if (*p == '"' || *p == '\'') {
            quote = *p;
        } else if (*p == '>') {
            *empty = p[-1] == '/';
            return p + 1;
        }
    }
    return NULL;
}

/* True if the tag at 'name' (just after '<') is xmlrpc-c's 64-bit int. */
static bool is_i8_tag(const char *name, const char *lim)
{
    static const char *const names[] = {"i8", "ex:i8"};

    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        size_t n = strlen(names[i]);
        if ((size_t)(lim - name) > n && memcmp(name, names[i], n) == 0 &&
            name[n] != '\0' && strchr(" \t\r\n/>", name[n]) != NULL)
            return true;
    }
    return false;
}

/* xmlrpc-c 1.33 crashes (a bad format argument) building the fault for an
 * <i8> whose text strtoll() refuses, so check that text first: plain
 * [+-]digits in range, directly followed by the end tag. 'p' is just after
 * the start tag. */
static bool i8_text_ok(const char *p, const char *lim)
{
    const char *end = memchr(p, '<', (size_t)(lim - p));
    char text[24], *tail;
    size_t n, sign;

    if (end == NULL)
        return true; /* not well-formed: the parser stops first */
    if (end + 1 >= lim || end[1] != '/')
        return false; /* a comment, CDATA or child inside */
    n = (size_t)(end - p);
    if (n == 0)
        return true; /* xmlrpc-c reports an empty <i8> cleanly */
    if (n >= sizeof(text))
        return false;
    memcpy(text, p, n);
    text[n] = '\0';
    sign = text[0] == '+' || text[0] == '-';
    if (n == sign || strspn(text + sign, "0123456789") != n - sign)
        return false;
    errno = 0;
    (void)strtoll(text, &tail, 10);
    return errno == 0;
}

/* Refuses input that xmlrpc-c's parser (and its old bundled expat) cannot
 * take safely, with the reason in 'env': NUL bytes (UTF-16 would hide
 * markup from this scan), DTDs (entity expansion bombs), element nesting
 * deep enough to overflow the stack in xmlrpc-c's recursive tree free, and
 * bad <i8> text. The scan follows XML's lexical rules closely enough that
 * its depth is never below the parser's on any prefix the parser accepts;
 * whatever it gets wrong the parser refuses anyway. */
static void prescan(xmlrpc_env *env, const char *body, size_t len)
{
    const char *p = body, *lim = body + len;
    long depth = 0;
    bool empty;

    if (memchr(body, '\0', len) != NULL) {
        vn_fault_set(env, VN_FAULT_MALFORMED,
                     "request holds a NUL byte; send UTF-8 XML");
        return;
    }
    while (p != NULL && (p = memchr(p, '<', (size_t)(lim - p))) != NULL) {
        p++;
        if (p < lim && *p == '?') {
            p = skip_past(p, lim, "?>");
        } else if (lim - p >= 3 && memcmp(p, "!--", 3) == 0) {
            p = skip_past(p + 3, lim, "-->");
        } else if (lim - p >= 8 && memcmp(p, "![CDATA[", 8) == 0) {
            p = skip_past(p + 8, lim, "]]>");
        } else if (p < lim && *p == '!') {
            vn_fault_set(env, VN_FAULT_MALFORMED,
                         "request holds a DTD or entity declaration; "
                         "XML-RPC does not use them");
            return;
        } else if (p < lim && *p == '/') {
            if (--depth < 0)
                return; /* unbalanced: the parser stops here */
            p = skip_tag(p, lim, &empty);
        } else {
            bool i8 = is_i8_tag(p, lim);
            p = skip_tag(p, lim, &empty);
            if (p == NULL || empty)
                continue;
            if (++depth > RPC_MAX_XML_DEPTH) {
                vn_fault_set(env, VN_FAULT_MALFORMED,
                             "request nests elements deeper than %d",
                             RPC_MAX_XML_DEPTH);
                return;
            }
            if (i8 && !i8_text_ok(p, lim)) {
                vn_fault_set(env, VN_FAULT_MALFORMED,
                             "an <i8> value is not a decimal 64-bit integer");
                return;
            }
        }
    }
}

/* ---- responses ------------------------------------------------------- */

static xmlrpc_mem_block *new_block(void)
{
    xmlrpc_env env;
    xmlrpc_mem_block *out;

    xmlrpc_env_init(&env);
    out = xmlrpc_mem_block_new(&env, 0);
    if (env.fault_occurred)
        fatal("cannot allocate a response: %s", env.fault_string);
    xmlrpc_env_clean(&env);
    return out;
}

xmlrpc_mem_block *rpc_fault_response(const xmlrpc_env *fault)
{
    xmlrpc_env env, internal;
    xmlrpc_mem_block *out = new_block();

    xmlrpc_env_init(&env);
    xmlrpc_serialize_fault(&env, out, fault);
    if (env.fault_occurred) {
        log_err("cannot serialize fault %d: %s", fault->fault_code,
                env.fault_string);
        xmlrpc_mem_block_free(out);
        out = new_block();
        xmlrpc_env_clean(&env);
        xmlrpc_env_init(&env);
        xmlrpc_env_init(&internal);
        xmlrpc_env_set_fault(&internal, VN_FAULT_INTERNAL,
                             "the server could not encode its answer");
        xmlrpc_serialize_fault(&env, out, &internal);
        if (env.fault_occurred)
            fatal("cannot serialize a fixed fault: %s", env.fault_string);
        xmlrpc_env_clean(&internal);
    }
    xmlrpc_env_clean(&env);
    return out;
}

/* Serializes 'result' (borrowed), or a fault if that fails. */
static xmlrpc_mem_block *result_response(xmlrpc_value *result,
                                         const char *method)
{
    xmlrpc_env env;
    xmlrpc_mem_block *out = new_block();
    char name[RPC_SHOWN_MAX + 4];

    xmlrpc_env_init(&env);
    xmlrpc_serialize_response2(&env, out, result, xmlrpc_dialect_i8);
    if (env.fault_occurred) {
        log_err("cannot serialize the result of %s: %s", shown(method, name),
                env.fault_string);
        xmlrpc_mem_block_free(out);
        vn_fault_set(&env, VN_FAULT_INTERNAL,
                     "%s returned a result that cannot be encoded: %s", name,
                     env.fault_string);
        out = rpc_fault_response(&env);
    }
    xmlrpc_env_clean(&env);
    return out;
}

/* ---- dispatch -------------------------------------------------------- */

static const struct vn_rpc_method *find_method(const struct vn_rpc_server *srv,
                                               const char *name, void **ctx)
{
    for (size_t i = 0; i < RPC_N_BUILTINS; i++) {
        if (strcmp(srv->builtins[i].name, name) == 0) {
            *ctx = (void *)srv;
            return &srv->builtins[i];
        }
    }
    for (size_t i = 0; i < srv->n_methods; i++) {
        if (strcmp(srv->methods[i].name, name) == 0) {
            *ctx = srv->ctx;
            return &srv->methods[i];
        }
    }
    return NULL;
}

static const char *role_name(enum vn_role role)
{
    switch (role) {
    case VN_ROLE_RESEARCHER:
        return "researcher";
    case VN_ROLE_OPERATOR:
        return "operator";
    default:
        return "no role";
    }
}

static bool authorized(const struct vn_rpc_server *srv,
                       const struct vn_rpc_method *m,
                       const struct vn_rpc_caller *caller, xmlrpc_env *env)
{
    if (srv->require_auth && !(m->flags & VN_RPC_PUBLIC) &&
        caller->user == NULL) {
        vn_fault_set(env, VN_FAULT_UNAUTHENTICATED,
                     "%s needs an authenticated caller; present a client "
                     "certificate or an \"Authorization: Bearer\" token",
                     m->name);
        return false;
    }
    if ((m->flags & VN_RPC_OPERATOR) && caller->role != VN_ROLE_OPERATOR) {
        vn_fault_set(env, VN_FAULT_FORBIDDEN,
                     "%s is for operators only; you are %s (%s)", m->name,
                     caller->user != NULL ? caller->user : "anonymous",
                     role_name(caller->role));
        return false;
    }
    return true;
}

/* Returns the index of the first argument not matching 'alt', or -1. */
static long first_mismatch(const struct sig_alt *alt, xmlrpc_value *params)
{
    xmlrpc_env env;
    long bad = -1;

    xmlrpc_env_init(&env);
    for (size_t i = 0; i < alt->n_args && bad < 0; i++) {
        xmlrpc_value *v = NULL;
        const struct rpc_type *t = type_by_letter(alt->args[i]);
        xmlrpc_array_read_item(&env, params, (unsigned)i, &v);
        if (env.fault_occurred || t == NULL || xmlrpc_value_type(v) != t->type)
            bad = (long)i;
        xmlrpc_DECREF(v);
    }
    xmlrpc_env_clean(&env);
    return bad;
}

static bool params_match(const struct vn_rpc_method *m, xmlrpc_value *params,
                         xmlrpc_env *env)
{
    const char *cursor = m->signature;
    struct sig_alt alt, near = {0};
    long bad = -1;
    size_t n;
    char want[256];

    n = (size_t)xmlrpc_array_size(env, params);
    if (env->fault_occurred)
        return false; /* normalize_fault() makes it a vn fault */
    while (sig_next(&cursor, &alt)) {
        if (alt.n_args != n)
            continue;
        long i = first_mismatch(&alt, params);
        if (i < 0)
            return true;
        if (bad < 0) {
            bad = i;
            near = alt;
        }
    }
    if (bad < 0) {
        sig_describe_all(m->signature, want, sizeof(want));
        vn_fault_set(env, VN_FAULT_BAD_PARAMS,
                     "%s expects %s; got %zu argument%s", m->name, want, n,
                     n == 1 ? "" : "s");
    } else {
        xmlrpc_value *v = NULL;
        xmlrpc_env tmp;
        xmlrpc_env_init(&tmp);
        xmlrpc_array_read_item(&tmp, params, (unsigned)bad, &v);
        want[0] = '\0';
        sig_describe(&near, want, sizeof(want));
        vn_fault_set(env, VN_FAULT_BAD_PARAMS,
                     "%s expects %s; argument %ld is %s", m->name, want,
                     bad + 1,
                     v != NULL ? a_type_name(xmlrpc_value_type(v)) : "missing");
        xmlrpc_DECREF(v);
        xmlrpc_env_clean(&tmp);
    }
    return false;
}

/* Turns a fault that is not one of ours (xmlrpc-c's negative codes, or a
 * stray code from a handler) into VN_FAULT_BAD_PARAMS or _INTERNAL, keeping
 * the message. */
static void normalize_fault(xmlrpc_env *env, const char *method)
{
    int code = env->fault_code;

    if (!env->fault_occurred || vn_fault_known(code))
        return;
    if (code == XMLRPC_TYPE_ERROR || code == XMLRPC_INDEX_ERROR ||
        code == XMLRPC_INVALID_UTF8_ERROR) {
        vn_fault_set(env, VN_FAULT_BAD_PARAMS, "%s: %s", method,
                     env->fault_string);
    } else {
        log_warn("%s failed with fault %d: %s", method, code,
                 env->fault_string);
        vn_fault_set(env, VN_FAULT_INTERNAL, "%s: %s", method,
                     env->fault_string);
    }
}

static void log_call(const struct vn_rpc_method *m,
                     const struct vn_rpc_caller *caller)
{
    enum vn_log_level level =
        (m->flags & VN_RPC_READONLY) ? VN_LOG_DEBUG : VN_LOG_INFO;

    vn_log(level, "rpc", "%s (%s, %s) calls %s",
           caller->user != NULL ? caller->user : "anonymous",
           caller->via != NULL ? caller->via : "anonymous",
           role_name(caller->role), m->name);
}

/* Runs method 'name' if it exists, may be called and gets the right
 * arguments. Returns a new reference, or NULL with a vn fault in 'env'. */
static xmlrpc_value *dispatch(struct vn_rpc_server *srv, xmlrpc_env *env,
                              const char *name, xmlrpc_value *params,
                              const struct vn_rpc_caller *caller)
{
    const struct vn_rpc_method *m;
    xmlrpc_value *result = NULL;
    void *ctx = NULL;
    char shown_name[RPC_SHOWN_MAX + 4];

    m = find_method(srv, name, &ctx);
    if (m == NULL) {
        vn_fault_set(env, VN_FAULT_NO_METHOD,
                     "no method '%s'; system.listMethods lists them",
                     shown(name, shown_name));
        return NULL;
    }
    if (!authorized(srv, m, caller, env)) {
        log_warn_rl("refused: %s", env->fault_string);
        return NULL;
    }
    if (!params_match(m, params, env)) {
        normalize_fault(env, m->name);
        return NULL;
    }
    log_call(m, caller);
    result = m->handler(env, params, caller, ctx);
    if (env->fault_occurred) {
        if (result != NULL)
            xmlrpc_DECREF(result);
        result = NULL;
        normalize_fault(env, m->name);
    } else if (result == NULL) {
        log_err("%s returned neither a result nor a fault", m->name);
        vn_fault_set(env, VN_FAULT_INTERNAL,
                     "%s returned no result (a server bug)", m->name);
    }
    return result;
}

xmlrpc_mem_block *vn_rpc_server_process(struct vn_rpc_server *srv,
                                        const char *body, size_t len,
                                        const struct vn_rpc_caller *caller)
{
    static const struct vn_rpc_caller anonymous = {.via = "anonymous"};
    xmlrpc_env env;
    xmlrpc_value *params = NULL, *result = NULL;
    const char *name = NULL;
    xmlrpc_mem_block *out = NULL;

    xmlrpc_env_init(&env);
    if (caller == NULL)
        caller = &anonymous;
    if (body == NULL)
        len = 0;
    if (len > srv->max_body_bytes) {
        vn_fault_set(&env, VN_FAULT_TOO_LARGE,
                     "request body is %zu bytes; the limit is %zu", len,
                     srv->max_body_bytes);
        goto cleanup;
    }
    if (len > 0)
        prescan(&env, body, len);
    if (env.fault_occurred)
        goto cleanup;
    xmlrpc_parse_call(&env, len > 0 ? body : "", len, &name, &params);
    if (env.fault_occurred) {
        vn_fault_set(&env, VN_FAULT_MALFORMED,
                     "request is not a valid XML-RPC call: %s",
                     env.fault_string);
        goto cleanup;
    }
    result = dispatch(srv, &env, name, params, caller);
cleanup:
    if (env.fault_occurred) {
        if (env.fault_code == VN_FAULT_MALFORMED ||
            env.fault_code == VN_FAULT_TOO_LARGE)
            log_warn_rl("refused a request: %s", env.fault_string);
        out = rpc_fault_response(&env);
    } else {
        out = result_response(result, name);
    }
    if (result != NULL)
        xmlrpc_DECREF(result);
    if (params != NULL)
        xmlrpc_DECREF(params);
    free((char *)name);
    xmlrpc_env_clean(&env);
    return out;
}

/* ---- built-in methods ------------------------------------------------ */

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static xmlrpc_value *sys_list_methods(xmlrpc_env *env, xmlrpc_value *params,
                                      const struct vn_rpc_caller *caller,
                                      void *ctx)
{
    struct vn_rpc_server *srv = ctx;
    size_t n = srv->n_methods + RPC_N_BUILTINS;
    const char **names = calloc(n, sizeof(*names));
    xmlrpc_value *list = NULL;

    (void)params;
    (void)caller;
    if (names == NULL) {
        vn_fault_set(env, VN_FAULT_INTERNAL, "out of memory");
        return NULL;
    }
    for (size_t i = 0; i < srv->n_methods; i++)
        names[i] = srv->methods[i].name;
    for (size_t i = 0; i < RPC_N_BUILTINS; i++)
        names[srv->n_methods + i] = srv->builtins[i].name;
    qsort(names, n, sizeof(*names), compare_names);
    list = xmlrpc_array_new(env);
    for (size_t i = 0; i < n && !env->fault_occurred; i++) {
        xmlrpc_value *s = xmlrpc_string_new(env, names[i]);
        if (s != NULL) {
            xmlrpc_array_append_item(env, list, s);
            xmlrpc_DECREF(s);
        }
    }
    free(names);
    return list;
}

/* The method named by argument 0, or NULL with a fault. */
static const struct vn_rpc_method *
method_arg(struct vn_rpc_server *srv, xmlrpc_env *env, xmlrpc_value *params)
{
    char *name = vn_rpc_arg_string(env, params, 0);
    const struct vn_rpc_method *m = NULL;
    void *unused;
    char buf[RPC_SHOWN_MAX + 4];

    if (name == NULL)
        return NULL;
    m = find_method(srv, name, &unused);
    if (m == NULL)
        vn_fault_set(env, VN_FAULT_NO_METHOD,
                     "no method '%s'; system.listMethods lists them",
                     shown(name, buf));
    free(name);
    return m;
}

static xmlrpc_value *sys_method_help(xmlrpc_env *env, xmlrpc_value *params,
                                     const struct vn_rpc_caller *caller,
                                     void *ctx)
{
    const struct vn_rpc_method *m = method_arg(ctx, env, params);

    (void)caller;
    if (m == NULL)
        return NULL;
    return xmlrpc_string_new(env, m->help != NULL ? m->help : "");
}

/* [result, arg1, ...] type names of one alternative. */
static xmlrpc_value *signature_array(xmlrpc_env *env, const struct sig_alt *alt)
{
    xmlrpc_value *arr = xmlrpc_array_new(env);

    for (size_t i = 0; i <= alt->n_args && !env->fault_occurred; i++) {
        char letter = i == 0 ? alt->result : alt->args[i - 1];
        const struct rpc_type *t = type_by_letter(letter);
        xmlrpc_value *s =
            xmlrpc_string_new(env, t != NULL ? t->introspection : "undef");
        if (s != NULL) {
            xmlrpc_array_append_item(env, arr, s);
            xmlrpc_DECREF(s);
        }
    }
    return arr;
}

static xmlrpc_value *sys_method_signature(xmlrpc_env *env, xmlrpc_value *params,
                                          const struct vn_rpc_caller *caller,
                                          void *ctx)
{
    const struct vn_rpc_method *m = method_arg(ctx, env, params);
    xmlrpc_value *all = NULL;
    const char *cursor;
    struct sig_alt alt;

    (void)caller;
    if (m == NULL)
        return NULL;
    all = xmlrpc_array_new(env);
    cursor = m->signature;
    while (!env->fault_occurred && sig_next(&cursor, &alt)) {
        xmlrpc_value *one = signature_array(env, &alt);
        if (one != NULL) {
            xmlrpc_array_append_item(env, all, one);
            xmlrpc_DECREF(one);
        }
    }
    return all;
}

static xmlrpc_value *sys_version(xmlrpc_env *env, xmlrpc_value *params,
                                 const struct vn_rpc_caller *caller, void *ctx)
{
    struct vn_rpc_server *srv = ctx;

    (void)params;
    (void)caller;
    return xmlrpc_build_value(env, "{s:s,s:s}", "daemon", srv->daemon,
                              "version", srv->version);
}

static xmlrpc_value *sys_set_log_level(xmlrpc_env *env, xmlrpc_value *params,
                                       const struct vn_rpc_caller *caller,
                                       void *ctx)
{
    char *name = vn_rpc_arg_string(env, params, 0);
    xmlrpc_value *result = NULL;
    char buf[RPC_SHOWN_MAX + 4];
    int level;

    (void)ctx;
    if (name == NULL)
        return NULL;
    level = vn_log_level_parse(name);
    if (level < 0) {
        vn_fault_set(env, VN_FAULT_INVALID_ARG,
                     "unknown log level '%s'; use err, warn, info or debug",
                     shown(name, buf));
    } else {
        log_info("log level set to %s by %s", vn_log_level_name(level),
                 caller->user != NULL ? caller->user : "anonymous");
        vn_log_set_level((enum vn_log_level)level);
        result = xmlrpc_string_new(env, vn_log_level_name(level));
    }
    free(name);
    return result;
}

static void init_builtins(struct vn_rpc_server *srv)
{
    const unsigned pub = VN_RPC_READONLY | VN_RPC_PUBLIC;
    /* Operator-only once there are users to tell apart; without an auth
     * callback nobody has a role, and a daemon without auth trusts whoever
     * can reach its socket. */
    const unsigned set_level = srv->auth != NULL ? VN_RPC_OPERATOR : 0;
    const struct vn_rpc_method builtins[RPC_N_BUILTINS] = {
        {"system.listMethods", "A:", sys_list_methods, pub,
         "Lists the methods this server answers."},
        {"system.methodHelp", "s:s", sys_method_help, pub,
         "Describes the named method."},
        {"system.methodSignature", "A:s", sys_method_signature, pub,
         "Lists the signatures of the named method: arrays of the result "
         "type then the argument types."},
        {"system.version", "S:", sys_version, pub,
         "Returns {daemon, version}."},
        {"system.setLogLevel", "s:s", sys_set_log_level, set_level,
         "Sets the daemon's log level to err, warn, info or debug."},
    };
    memcpy(srv->builtins, builtins, sizeof(builtins));
}

/* ---- life cycle ------------------------------------------------------ */

static int check_table(const struct vn_rpc_server *srv)
{
    for (size_t i = 0; i < srv->n_methods; i++) {
        const struct vn_rpc_method *m = &srv->methods[i];
        void *unused;
        if (m->name == NULL || m->handler == NULL) {
            log_err("method %zu has no name or no handler", i);
            return -1;
        }
        if (!sig_valid(m->signature)) {
            log_err("method %s: bad signature '%s'", m->name,
                    m->signature != NULL ? m->signature : "(null)");
            return -1;
        }
        if (find_method(srv, m->name, &unused) != m) {
            log_err("method %s: name defined twice or reserved", m->name);
            return -1;
        }
    }
    return 0;
}

/* xmlrpc-c refuses bodies over its process-wide XML size limit before we
 * see them; raise it (never lower: clients in this process may need more)
 * so our own limit, with its clearer fault, is the one that applies. */
static void raise_xml_size_limit(size_t bytes)
{
    if (xmlrpc_limit_get(XMLRPC_XML_SIZE_LIMIT_ID) < bytes)
        xmlrpc_limit_set(XMLRPC_XML_SIZE_LIMIT_ID, bytes);
}

struct vn_rpc_server *vn_rpc_server_new(struct event_base *base,
                                        const struct vn_rpc_method *methods,
                                        size_t n_methods, void *ctx,
                                        const struct vn_rpc_server_config *cfg)
{
    struct vn_rpc_server *srv = calloc(1, sizeof(*srv));

    if (srv == NULL || cfg == NULL)
        goto fail;
    srv->base = base;
    srv->methods = methods;
    srv->n_methods = methods != NULL ? n_methods : 0;
    srv->ctx = ctx;
    srv->daemon = strdup(cfg->daemon != NULL ? cfg->daemon : "unknown");
    srv->version = strdup(cfg->version != NULL ? cfg->version : "unknown");
    srv->max_body_bytes = cfg->max_body_bytes != 0 ? cfg->max_body_bytes
                                                   : RPC_DEFAULT_MAX_BODY_BYTES;
    srv->auth = cfg->auth;
    srv->auth_ctx = cfg->auth_ctx;
    srv->require_auth = cfg->require_auth;
    if (srv->daemon == NULL || srv->version == NULL)
        goto fail;
    init_builtins(srv);
    if (check_table(srv) < 0)
        goto fail;
    raise_xml_size_limit(srv->max_body_bytes);
    return srv;
fail:
    log_err("cannot create the RPC server");
    vn_rpc_server_free(srv);
    return NULL;
}

void vn_rpc_server_free(struct vn_rpc_server *srv)
{
    if (srv == NULL)
        return;
    rpc_http_free_listeners(srv);
    free(srv->daemon);
    free(srv->version);
    free(srv);
}

/* ---- argument helpers ------------------------------------------------ */

/* Argument 'i' of 'params' (new reference), or NULL with a fault. */
static xmlrpc_value *arg(xmlrpc_env *env, xmlrpc_value *params, int i)
{
    xmlrpc_value *v = NULL;

    if (i < 0) {
        vn_fault_set(env, VN_FAULT_INTERNAL, "negative argument index %d", i);
        return NULL;
    }
    xmlrpc_array_read_item(env, params, (unsigned)i, &v);
    if (env->fault_occurred)
        vn_fault_set(env, VN_FAULT_BAD_PARAMS, "argument %d is missing", i + 1);
    return v;
}

/* Rewrites an xmlrpc-c read failure on argument 'i' as a vn fault. */
static void arg_fault(xmlrpc_env *env, int i, const char *want)
{
    vn_fault_set(env, VN_FAULT_BAD_PARAMS, "argument %d must be %s: %s", i + 1,
                 want, env->fault_string);
}

char *vn_rpc_arg_string(xmlrpc_env *env, xmlrpc_value *params, int i)
{
    xmlrpc_value *v = arg(env, params, i);
    const char *s = NULL;

    if (v == NULL)
        return NULL;
    xmlrpc_read_string(env, v, &s);
    xmlrpc_DECREF(v);
    if (env->fault_occurred) {
        arg_fault(env, i, "a string without NUL characters");
        return NULL;
    }
    return (char *)s;
}

int vn_rpc_arg_int(xmlrpc_env *env, xmlrpc_value *params, int i)
{
    xmlrpc_value *v = arg(env, params, i);
    int n = 0;

    if (v == NULL)
        return 0;
    xmlrpc_read_int(env, v, &n);
    xmlrpc_DECREF(v);
    if (env->fault_occurred) {
        arg_fault(env, i, "an int");
        return 0;
    }
    return n;
}

bool vn_rpc_arg_bool(xmlrpc_env *env, xmlrpc_value *params, int i)
{
    xmlrpc_value *v = arg(env, params, i);
    xmlrpc_bool b = 0;

    if (v == NULL)
        return false;
    xmlrpc_read_bool(env, v, &b);
    xmlrpc_DECREF(v);
    if (env->fault_occurred) {
        arg_fault(env, i, "a boolean");
        return false;
    }
    return b != 0;
}
