/* Tests for the RPC layer: vn_rpc_server_process() directly (dispatch,
 * signatures, faults, hostile bodies, auth, built-ins), then over real HTTP
 * with vn_rpc_client: a unix socket, http://127.0.0.1:0, and https with
 * client certificates made at test time by the openssl command. The server's
 * event loop runs in a second thread; only that thread touches the
 * event_base until it is joined. */
#include <event2/event.h>
#include <ftw.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <sys/wait.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "log.h"
#include "rpc.h"
#include "rpc_client.h"

/* ---- the daemon under test ------------------------------------------- */

static xmlrpc_value *m_echo(xmlrpc_env *env, xmlrpc_value *params,
                            const struct vn_rpc_caller *caller, void *ctx)
{
    char *s = vn_rpc_arg_string(env, params, 0);
    xmlrpc_value *v = NULL;

    (void)caller;
    (void)ctx;
    if (s != NULL)
        v = xmlrpc_string_new(env, s);
    free(s);
    return v;
}

static xmlrpc_value *m_add(xmlrpc_env *env, xmlrpc_value *params,
                           const struct vn_rpc_caller *caller, void *ctx)
{
    int a = vn_rpc_arg_int(env, params, 0);
    int b = vn_rpc_arg_int(env, params, 1);

    (void)caller;
    (*(int *)ctx)++; /* counts calls that reached a handler */
    return env->fault_occurred ? NULL : xmlrpc_int_new(env, a + b);
}

static xmlrpc_value *m_opt(xmlrpc_env *env, xmlrpc_value *params,
                           const struct vn_rpc_caller *caller, void *ctx)
{
    (void)caller;
    (void)ctx;
    return xmlrpc_build_value(env, "{s:i}", "n",
                              xmlrpc_array_size(env, params));
}

static xmlrpc_value *m_whoami(xmlrpc_env *env, xmlrpc_value *params,
                              const struct vn_rpc_caller *caller, void *ctx)
{
    (void)params;
    (void)ctx;
    return xmlrpc_build_value(env, "{s:s,s:s,s:i}", "user",
                              caller->user != NULL ? caller->user : "", "via",
                              caller->via, "role", (int)caller->role);
}

static xmlrpc_value *m_admin(xmlrpc_env *env, xmlrpc_value *params,
                             const struct vn_rpc_caller *caller, void *ctx)
{
    (void)params;
    (void)caller;
    (void)ctx;
    return xmlrpc_string_new(env, "done");
}

static xmlrpc_value *m_null(xmlrpc_env *env, xmlrpc_value *params,
                            const struct vn_rpc_caller *caller, void *ctx)
{
    (void)env;
    (void)params;
    (void)caller;
    (void)ctx;
    return NULL; /* a bug: no result, no fault */
}

static xmlrpc_value *m_xmlrpc_error(xmlrpc_env *env, xmlrpc_value *params,
                                    const struct vn_rpc_caller *caller,
                                    void *ctx)
{
    xmlrpc_value *v = NULL;
    int n;

    (void)caller;
    (void)ctx;
    /* reads the string argument as an int: xmlrpc-c's XMLRPC_TYPE_ERROR */
    xmlrpc_array_read_item(env, params, 0, &v);
    xmlrpc_read_int(env, v, &n);
    xmlrpc_DECREF(v);
    return NULL;
}

static xmlrpc_value *m_internal(xmlrpc_env *env, xmlrpc_value *params,
                                const struct vn_rpc_caller *caller, void *ctx)
{
    (void)params;
    (void)caller;
    (void)ctx;
    xmlrpc_value *v = xmlrpc_string_new(env, "ignored");

    xmlrpc_env_set_fault(env, XMLRPC_INTERNAL_ERROR, "disk on fire");
    return v; /* a result and a fault: the layer drops the result */
}

static xmlrpc_value *m_sized(xmlrpc_env *env, xmlrpc_value *params,
                             const struct vn_rpc_caller *caller, void *ctx)
{
    int n = vn_rpc_arg_int(env, params, 0);
    xmlrpc_value *v = NULL;
    char *s;

    (void)caller;
    (void)ctx;
    if (n < 0 || (s = malloc((size_t)n + 1)) == NULL)
        return NULL;
    memset(s, 'z', (size_t)n);
    s[n] = '\0';
    v = xmlrpc_string_new(env, s);
    free(s);
    return v;
}

static const struct vn_rpc_method methods[] = {
    {"test.echo", "s:s", m_echo, VN_RPC_READONLY | VN_RPC_PUBLIC,
     "Returns its argument."},
    {"test.add", "i:ii", m_add, 0, "Adds two ints."},
    {"test.opt", "S:,S:s", m_opt, VN_RPC_READONLY, "Optional argument."},
    {"test.whoami", "S:", m_whoami, VN_RPC_READONLY, "The caller."},
    {"test.admin", "s:", m_admin, VN_RPC_OPERATOR, "Operators only."},
    {"test.null", "s:", m_null, 0, NULL},
    {"test.xmlrpcError", "s:s", m_xmlrpc_error, 0, NULL},
    {"test.internal", "s:", m_internal, 0, NULL},
    {"test.sized", "s:i", m_sized, VN_RPC_READONLY | VN_RPC_PUBLIC, NULL},
};
#define N_METHODS (sizeof(methods) / sizeof(methods[0]))

static int test_auth(void *auth_ctx, const char *cert_cn, const char *token,
                     struct vn_rpc_caller *caller)
{
    static const struct {
        const char *cn, *token, *user;
        enum vn_role role;
    } users[] = {
        {"alice", "tok-alice", "alice", VN_ROLE_RESEARCHER},
        {"ops", "tok-ops", "ops", VN_ROLE_OPERATOR},
    };

    (void)auth_ctx;
    for (size_t i = 0; i < sizeof(users) / sizeof(users[0]); i++) {
        if ((cert_cn != NULL && strcmp(cert_cn, users[i].cn) == 0) ||
            (token != NULL && strcmp(token, users[i].token) == 0)) {
            caller->user = users[i].user;
            caller->role = users[i].role;
            return 0;
        }
    }
    return -1;
}

static const struct vn_rpc_caller anonymous = {.via = "anonymous"};
static const struct vn_rpc_caller alice = {"alice", VN_ROLE_RESEARCHER,
                                           "token"};
static const struct vn_rpc_caller ops = {"ops", VN_ROLE_OPERATOR, "cert"};

static int handler_calls;

static struct vn_rpc_server *
new_server(struct event_base *base, bool require_auth, size_t max_body_bytes)
{
    struct vn_rpc_server_config cfg = {
        .daemon = "testd",
        .version = "1.2.3",
        .max_body_bytes = max_body_bytes,
        .auth = test_auth,
        .require_auth = require_auth,
    };
    struct vn_rpc_server *srv =
        vn_rpc_server_new(base, methods, N_METHODS, &handler_calls, &cfg);

    assert_non_null(srv);
    return srv;
}

/* ---- calling process() ----------------------------------------------- */

struct reply {
    xmlrpc_value *result; /* NULL on a fault */
    int code;
    char *msg;
};

static void reply_clean(struct reply *r)
{
    if (r->result != NULL)
        xmlrpc_DECREF(r->result);
    free(r->msg);
    memset(r, 0, sizeof(*r));
}

static void decode(const char *xml, size_t len, struct reply *r)
{
    xmlrpc_env env;
    const char *msg = NULL;

    memset(r, 0, sizeof(*r));
    xmlrpc_env_init(&env);
    xmlrpc_parse_response2(&env, xml, len, &r->result, &r->code, &msg);
    if (env.fault_occurred)
        fail_msg("unparsable response: %s\n%.*s", env.fault_string, (int)len,
                 xml);
    r->msg = (char *)msg;
    xmlrpc_env_clean(&env);
}

static void process(struct vn_rpc_server *srv, const char *body, size_t len,
                    const struct vn_rpc_caller *caller, struct reply *r)
{
    xmlrpc_mem_block *out = vn_rpc_server_process(srv, body, len, caller);

    assert_non_null(out);
    decode(xmlrpc_mem_block_contents(out), xmlrpc_mem_block_size(out), r);
    xmlrpc_mem_block_free(out);
}

static void process_str(struct vn_rpc_server *srv, const char *body,
                        const struct vn_rpc_caller *caller, struct reply *r)
{
    process(srv, body, strlen(body), caller, r);
}

/* Calls 'method' with arguments built from 'format' (xmlrpc_build_value). */
static void call(struct vn_rpc_server *srv, const struct vn_rpc_caller *caller,
                 struct reply *r, const char *method, const char *format, ...)
{
    xmlrpc_env env;
    xmlrpc_value *params = NULL;
    xmlrpc_mem_block *body;
    const char *tail;
    va_list ap;

    xmlrpc_env_init(&env);
    va_start(ap, format);
    xmlrpc_build_value_va(&env, format, ap, &params, &tail);
    va_end(ap);
    assert_false(env.fault_occurred);
    body = xmlrpc_mem_block_new(&env, 0);
    xmlrpc_serialize_call2(&env, body, method, params, xmlrpc_dialect_i8);
    assert_false(env.fault_occurred);
    process(srv, xmlrpc_mem_block_contents(body), xmlrpc_mem_block_size(body),
            caller, r);
    xmlrpc_mem_block_free(body);
    xmlrpc_DECREF(params);
    xmlrpc_env_clean(&env);
}

static void assert_fault(const struct reply *r, int code, const char *part)
{
    if (r->result != NULL || r->code != code ||
        strstr(r->msg != NULL ? r->msg : "", part) == NULL)
        fail_msg("want fault %d containing \"%s\"; got %d \"%s\"", code, part,
                 r->code, r->msg != NULL ? r->msg : "(result)");
}

static int result_int(const struct reply *r)
{
    xmlrpc_env env;
    int n = -1;

    if (r->result == NULL)
        fail_msg("fault %d: %s", r->code, r->msg);
    xmlrpc_env_init(&env);
    xmlrpc_read_int(&env, r->result, &n);
    assert_false(env.fault_occurred);
    return n;
}

/* Member 'key' of a struct result as a string; caller frees. */
static char *member_string(xmlrpc_value *v, const char *key)
{
    xmlrpc_env env;
    xmlrpc_value *m = NULL;
    const char *s = NULL;

    assert_non_null(v);
    xmlrpc_env_init(&env);
    xmlrpc_struct_find_value(&env, v, key, &m);
    assert_false(env.fault_occurred);
    assert_non_null(m);
    xmlrpc_read_string(&env, m, &s);
    assert_false(env.fault_occurred);
    xmlrpc_DECREF(m);
    return (char *)s;
}

static void assert_string_result(const struct reply *r, const char *want)
{
    xmlrpc_env env;
    const char *s = NULL;

    if (r->result == NULL)
        fail_msg("fault %d: %s", r->code, r->msg);
    xmlrpc_env_init(&env);
    xmlrpc_read_string(&env, r->result, &s);
    assert_false(env.fault_occurred);
    assert_string_equal(s, want);
    free((char *)s);
}

/* ---- process(): dispatch and signatures ------------------------------ */

static void test_good_calls(void **state)
{
    struct vn_rpc_server *srv = new_server(NULL, false, 0);
    struct reply r;

    (void)state;
    call(srv, &anonymous, &r, "test.echo", "(s)", "hi there");
    assert_string_result(&r, "hi there");
    reply_clean(&r);
    call(srv, &alice, &r, "test.add", "(ii)", 2, 40);
    assert_int_equal(result_int(&r), 42);
    reply_clean(&r);
    call(srv, &anonymous, &r, "test.opt", "()");
    assert_non_null(r.result);
    reply_clean(&r);
    call(srv, &anonymous, &r, "test.opt", "(s)", "x");
    assert_non_null(r.result);
    reply_clean(&r);
    /* no <params> at all is a call without arguments */
    process_str(srv,
                "<?xml version=\"1.0\"?><methodCall><methodName>test.opt"
                "</methodName></methodCall>",
                &anonymous, &r);
    assert_non_null(r.result);
    reply_clean(&r);
    vn_rpc_server_free(srv);
}

static void test_unknown_method(void **state)
{
    struct vn_rpc_server *srv = new_server(NULL, false, 0);
    struct reply r;
    char name[300];

    (void)state;
    call(srv, &anonymous, &r, "slice.nope", "()");
    assert_fault(&r, VN_FAULT_NO_METHOD,
                 "no method 'slice.nope'; system.listMethods lists them");
    reply_clean(&r);
    /* a long hostile name is cut in the message */
    memset(name, 'n', sizeof(name) - 1);
    name[sizeof(name) - 1] = '\0';
    call(srv, &anonymous, &r, name, "()");
    assert_fault(&r, VN_FAULT_NO_METHOD, "nnn...'");
    assert_true(strlen(r.msg) < 150);
    reply_clean(&r);
    vn_rpc_server_free(srv);
}

static void test_wrong_arguments(void **state)
{
    struct vn_rpc_server *srv = new_server(NULL, false, 0);
    struct reply r;

    (void)state;
    handler_calls = 0;
    call(srv, &alice, &r, "test.add", "(i)", 1);
    assert_fault(&r, VN_FAULT_BAD_PARAMS,
                 "test.add expects (int, int); got 1 argument");
    reply_clean(&r);
    call(srv, &alice, &r, "test.add", "(is)", 1, "x");
    assert_fault(&r, VN_FAULT_BAD_PARAMS,
                 "test.add expects (int, int); argument 2 is a string");
    reply_clean(&r);
    call(srv, &alice, &r, "test.add", "(b(i)i)", 1, 2, 3);
    assert_fault(&r, VN_FAULT_BAD_PARAMS, "got 3 arguments");
    reply_clean(&r);
    call(srv, &anonymous, &r, "test.opt", "(i)", 5);
    assert_fault(&r, VN_FAULT_BAD_PARAMS,
                 "test.opt expects (string); argument 1 is an int");
    reply_clean(&r);
    call(srv, &anonymous, &r, "test.opt", "(ss)", "a", "b");
    assert_fault(&r, VN_FAULT_BAD_PARAMS,
                 "test.opt expects () or (string); got 2 arguments");
    reply_clean(&r);
    call(srv, &anonymous, &r, "test.echo", "(n)");
    assert_fault(&r, VN_FAULT_BAD_PARAMS, "argument 1 is a nil");
    reply_clean(&r);
    assert_int_equal(handler_calls, 0); /* refused before the handler */
    vn_rpc_server_free(srv);
}

static void test_handler_faults(void **state)
{
    struct vn_rpc_server *srv = new_server(NULL, false, 0);
    struct reply r;

    (void)state;
    call(srv, &alice, &r, "test.null", "()");
    assert_fault(&r, VN_FAULT_INTERNAL, "test.null returned no result");
    reply_clean(&r);
    call(srv, &alice, &r, "test.xmlrpcError", "(s)", "seven");
    assert_fault(&r, VN_FAULT_BAD_PARAMS, "test.xmlrpcError: ");
    reply_clean(&r);
    call(srv, &alice, &r, "test.internal", "()");
    assert_fault(&r, VN_FAULT_INTERNAL, "test.internal: disk on fire");
    reply_clean(&r);
    vn_rpc_server_free(srv);
}

/* ---- process(): hostile bodies --------------------------------------- */

static const char good_call[] =
    "<?xml version=\"1.0\"?>\n<methodCall><methodName>test.echo</methodName>"
    "<params><param><value><string>x</string></value></param></params>"
    "</methodCall>";

/* 'depth' nested arrays around one int; caller frees. */
static char *nested_call(int depth, size_t *len)
{
    static const char open[] = "<value><array><data>",
                      close[] = "</data></array></value>";
    size_t cap = (size_t)depth * (sizeof(open) + sizeof(close)) + 256, n = 0;
    char *b = malloc(cap);

    assert_non_null(b);
    n += (size_t)sprintf(b, "<methodCall><methodName>test.echo</methodName>"
                            "<params><param>");
    for (int i = 0; i < depth; i++)
        n += (size_t)sprintf(b + n, "%s", open);
    n += (size_t)sprintf(b + n, "<value><int>1</int></value>");
    for (int i = 0; i < depth; i++)
        n += (size_t)sprintf(b + n, "%s", close);
    n += (size_t)sprintf(b + n, "</param></params></methodCall>");
    *len = n;
    return b;
}

#define I8_CALL                                                                \
    "<methodCall><methodName>test.echo</methodName><params><param><value>"     \
    "%s</value></param></params></methodCall>"
static const char *const bad_i8[] = {
    "<i8>2B</i8>",
    "<i8>x</i8>",
    "<i8>99999999999999999999</i8>",
    "<i8>1 </i8>",
    "<i8>0x10</i8>",
    "<i8 a='1'>1.0</i8>",
    "<ex:i8>1e5</ex:i8>",
    "<i8>1<!-- c -->x</i8>",
    "<i8>&#x78;</i8>",
    "<i8><![CDATA[x]]></i8>",
};
static const char *const good_i8[] = {
    "<i8>-9223372036854775808</i8>",
    "<i8>+42</i8>",
    "<ex:i8>7</ex:i8>",
};

static void test_malformed_bodies(void **state)
{
    struct vn_rpc_server *srv = new_server(NULL, false, 0);
    static const char *const bodies[] = {
        "",
        "not xml at all",
        "<methodResponse><params><param><value>1</value></param></params>"
        "</methodResponse>",
        "<methodCall></methodCall>",
        "<methodCall><methodName>test.echo</methodName><params><param>"
        "<value><int>12x</int></value></param></params></methodCall>",
        "<methodCall><methodName>a</methodName><params><param><value>"
        "<struct><member><value>1</value></member></struct></value></param>"
        "</params></methodCall>",
        "<?xml version=\"1.0\"?><!DOCTYPE l [<!ENTITY a \"aaaaaaaaaa\">"
        "<!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\">]>"
        "<methodCall><methodName>&b;</methodName></methodCall>",
        "<methodCall><methodName>x</methodName><params><param><value>"
        "<dateTime.iso8601>99999999T99:99:99</dateTime.iso8601></value>"
        "</param></params></methodCall>",
    };
    struct reply r;

    (void)state;
    for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
        process_str(srv, bodies[i], &anonymous, &r);
        assert_fault(&r, VN_FAULT_MALFORMED, "");
        reply_clean(&r);
    }
    /* xmlrpc-c 1.33 crashes on these unless they are caught first */
    for (size_t i = 0; i < sizeof(bad_i8) / sizeof(bad_i8[0]); i++) {
        char *body = NULL;
        assert_true(asprintf(&body, I8_CALL, bad_i8[i]) > 0);
        process_str(srv, body, &anonymous, &r);
        assert_fault(&r, VN_FAULT_MALFORMED, "");
        reply_clean(&r);
        free(body);
    }
    for (size_t i = 0; i < sizeof(good_i8) / sizeof(good_i8[0]); i++) {
        char *body = NULL;
        assert_true(asprintf(&body, I8_CALL, good_i8[i]) > 0);
        process_str(srv, body, &anonymous, &r);
        assert_fault(&r, VN_FAULT_BAD_PARAMS, "argument 1 is an i8");
        reply_clean(&r);
        free(body);
    }
    /* every truncation of a good call */
    for (size_t n = 0; n < sizeof(good_call) - 1; n++) {
        process(srv, good_call, n, &anonymous, &r);
        assert_fault(&r, VN_FAULT_MALFORMED, "");
        reply_clean(&r);
    }
    process(srv, good_call, sizeof(good_call) - 1, &anonymous, &r);
    assert_string_result(&r, "x");
    reply_clean(&r);
    /* NUL bytes (and so UTF-16) */
    process(srv, good_call, sizeof(good_call), &anonymous, &r);
    assert_fault(&r, VN_FAULT_MALFORMED, "NUL byte");
    reply_clean(&r);
    process(srv, NULL, 0, &anonymous, &r);
    assert_fault(&r, VN_FAULT_MALFORMED, "");
    reply_clean(&r);
    vn_rpc_server_free(srv);
}

static void test_deep_nesting(void **state)
{
    struct vn_rpc_server *srv = new_server(NULL, false, 16 << 20);
    struct reply r;
    size_t len;
    char *body;

    (void)state;
    /* Within xmlrpc-c's value limit: parses, then fails the signature. */
    body = nested_call(60, &len);
    process(srv, body, len, &anonymous, &r);
    assert_fault(&r, VN_FAULT_BAD_PARAMS, "argument 1 is an array");
    reply_clean(&r);
    free(body);
    /* Deep enough to overflow the stack in xmlrpc-c without the scan. */
    body = nested_call(200000, &len);
    process(srv, body, len, &anonymous, &r);
    assert_fault(&r, VN_FAULT_MALFORMED, "nests elements deeper than");
    reply_clean(&r);
    free(body);
    /* Plain elements, never closed. */
    len = 3 * 300000;
    body = malloc(len);
    assert_non_null(body);
    for (size_t i = 0; i < len; i += 3)
        memcpy(body + i, "<a>", 3);
    process(srv, body, len, &anonymous, &r);
    assert_fault(&r, VN_FAULT_MALFORMED, "nests elements deeper than");
    reply_clean(&r);
    free(body);
    vn_rpc_server_free(srv);
}

static void test_too_large(void **state)
{
    struct vn_rpc_server *srv = new_server(NULL, false, 1024);
    struct reply r;
    char *big = malloc(2000);

    (void)state;
    assert_non_null(big);
    memset(big, ' ', 2000);
    memcpy(big, good_call, sizeof(good_call) - 1);
    process(srv, big, 2000, &anonymous, &r);
    assert_fault(&r, VN_FAULT_TOO_LARGE,
                 "request body is 2000 bytes; the limit is 1024");
    reply_clean(&r);
    process(srv, big, 1024, &anonymous, &r); /* at the limit: fine */
    assert_string_result(&r, "x");
    reply_clean(&r);
    free(big);
    vn_rpc_server_free(srv);
}

/* ---- process(): authorization ---------------------------------------- */

static void test_auth_required(void **state)
{
    struct vn_rpc_server *srv = new_server(NULL, true, 0);
    struct reply r;

    (void)state;
    call(srv, &anonymous, &r, "test.add", "(ii)", 1, 2);
    assert_fault(&r, VN_FAULT_UNAUTHENTICATED,
                 "test.add needs an authenticated caller");
    reply_clean(&r);
    call(srv, NULL, &r, "test.add", "(ii)", 1, 2); /* NULL = anonymous */
    assert_fault(&r, VN_FAULT_UNAUTHENTICATED, "");
    reply_clean(&r);
    call(srv, &anonymous, &r, "test.echo", "(s)", "public");
    assert_string_result(&r, "public");
    reply_clean(&r);
    call(srv, &anonymous, &r, "system.listMethods", "()");
    assert_non_null(r.result);
    reply_clean(&r);
    call(srv, &alice, &r, "test.add", "(ii)", 1, 2);
    assert_int_equal(result_int(&r), 3);
    reply_clean(&r);
    call(srv, &alice, &r, "test.admin", "()");
    assert_fault(&r, VN_FAULT_FORBIDDEN,
                 "test.admin is for operators only; you are alice");
    reply_clean(&r);
    call(srv, &ops, &r, "test.admin", "()");
    assert_string_result(&r, "done");
    reply_clean(&r);
    /* auth is checked before arguments: no hints to strangers */
    call(srv, &anonymous, &r, "test.add", "(s)", "x");
    assert_fault(&r, VN_FAULT_UNAUTHENTICATED, "");
    reply_clean(&r);
    vn_rpc_server_free(srv);
}

static void test_operator_without_require_auth(void **state)
{
    struct vn_rpc_server *srv = new_server(NULL, false, 0);
    struct reply r;

    (void)state;
    call(srv, &anonymous, &r, "test.admin", "()");
    assert_fault(&r, VN_FAULT_FORBIDDEN, "you are anonymous");
    reply_clean(&r);
    call(srv, &anonymous, &r, "test.whoami", "()");
    assert_non_null(r.result);
    reply_clean(&r);
    vn_rpc_server_free(srv);
}

/* ---- process(): built-ins -------------------------------------------- */

static void test_list_methods(void **state)
{
    struct vn_rpc_server *srv = new_server(NULL, false, 0);
    struct reply r;
    xmlrpc_env env;
    char *prev = NULL;
    int n;

    (void)state;
    xmlrpc_env_init(&env);
    call(srv, &anonymous, &r, "system.listMethods", "()");
    assert_non_null(r.result);
    n = xmlrpc_array_size(&env, r.result);
    assert_int_equal(n, (int)N_METHODS + 5);
    for (int i = 0; i < n; i++) {
        xmlrpc_value *v = NULL;
        const char *s = NULL;
        xmlrpc_array_read_item(&env, r.result, (unsigned)i, &v);
        xmlrpc_read_string(&env, v, &s);
        assert_false(env.fault_occurred);
        if (prev != NULL)
            assert_true(strcmp(prev, s) < 0); /* sorted, no duplicates */
        free(prev);
        prev = (char *)s;
        xmlrpc_DECREF(v);
    }
    free(prev);
    reply_clean(&r);
    xmlrpc_env_clean(&env);
    vn_rpc_server_free(srv);
}

static void test_introspection(void **state)
{
    struct vn_rpc_server *srv = new_server(NULL, false, 0);
    struct reply r;
    char *s;

    (void)state;
    call(srv, &anonymous, &r, "system.methodHelp", "(s)", "test.add");
    assert_string_result(&r, "Adds two ints.");
    reply_clean(&r);
    call(srv, &anonymous, &r, "system.methodHelp", "(s)", "test.null");
    assert_string_result(&r, "");
    reply_clean(&r);
    call(srv, &anonymous, &r, "system.methodHelp", "(s)", "nope");
    assert_fault(&r, VN_FAULT_NO_METHOD, "no method 'nope'");
    reply_clean(&r);
    call(srv, &anonymous, &r, "system.methodSignature", "(s)", "test.opt");
    {
        xmlrpc_env env;
        xmlrpc_value *want;
        xmlrpc_mem_block *a, *b;
        xmlrpc_env_init(&env);
        want =
            xmlrpc_build_value(&env, "((s)(ss))", "struct", "struct", "string");
        a = xmlrpc_mem_block_new(&env, 0);
        b = xmlrpc_mem_block_new(&env, 0);
        xmlrpc_serialize_value(&env, a, r.result);
        xmlrpc_serialize_value(&env, b, want);
        assert_false(env.fault_occurred);
        assert_int_equal(xmlrpc_mem_block_size(a), xmlrpc_mem_block_size(b));
        assert_memory_equal(xmlrpc_mem_block_contents(a),
                            xmlrpc_mem_block_contents(b),
                            xmlrpc_mem_block_size(a));
        xmlrpc_mem_block_free(a);
        xmlrpc_mem_block_free(b);
        xmlrpc_DECREF(want);
        xmlrpc_env_clean(&env);
    }
    reply_clean(&r);
    call(srv, &anonymous, &r, "system.version", "()");
    s = member_string(r.result, "daemon");
    assert_string_equal(s, "testd");
    free(s);
    s = member_string(r.result, "version");
    assert_string_equal(s, "1.2.3");
    free(s);
    reply_clean(&r);
    vn_rpc_server_free(srv);
}

static void test_set_log_level(void **state)
{
    struct vn_rpc_server *srv = new_server(NULL, false, 0);
    enum vn_log_level before = vn_log_get_level();
    struct reply r;

    (void)state;
    call(srv, &alice, &r, "system.setLogLevel", "(s)", "debug");
    assert_fault(&r, VN_FAULT_FORBIDDEN, "operators only");
    reply_clean(&r);
    call(srv, &ops, &r, "system.setLogLevel", "(s)", "loud");
    assert_fault(&r, VN_FAULT_INVALID_ARG,
                 "unknown log level 'loud'; use err, warn, info or debug");
    reply_clean(&r);
    call(srv, &ops, &r, "system.setLogLevel", "(s)", "ERR");
    assert_string_result(&r, "err");
    assert_int_equal(vn_log_get_level(), VN_LOG_ERR);
    reply_clean(&r);
    vn_log_set_level(before);
    vn_rpc_server_free(srv);
}

static void test_set_log_level_without_auth(void **state)
{
    struct vn_rpc_server_config cfg = {.daemon = "d", .version = "v"};
    struct vn_rpc_server *srv =
        vn_rpc_server_new(NULL, methods, N_METHODS, &handler_calls, &cfg);
    enum vn_log_level before = vn_log_get_level();
    struct reply r;

    (void)state;
    assert_non_null(srv);
    call(srv, &anonymous, &r, "system.setLogLevel", "(s)", "warn");
    assert_string_result(&r, "warn");
    reply_clean(&r);
    vn_log_set_level(before);
    vn_rpc_server_free(srv);
}

static void test_bad_tables(void **state)
{
    struct vn_rpc_server_config cfg = {.daemon = "d", .version = "v"};
    const struct vn_rpc_method bad_sig[] = {{"a", "x:s", m_echo, 0, NULL}};
    const struct vn_rpc_method bad_sig2[] = {{"a", "s:s,", m_echo, 0, NULL}};
    const struct vn_rpc_method bad_sig3[] = {{"a", "ss", m_echo, 0, NULL}};
    const struct vn_rpc_method dup[] = {{"a", "s:", m_echo, 0, NULL},
                                        {"a", "s:", m_echo, 0, NULL}};
    const struct vn_rpc_method reserved[] = {
        {"system.listMethods", "A:", m_echo, 0, NULL}};
    const struct vn_rpc_method no_handler[] = {{"a", "s:", NULL, 0, NULL}};

    (void)state;
    assert_null(vn_rpc_server_new(NULL, bad_sig, 1, NULL, &cfg));
    assert_null(vn_rpc_server_new(NULL, bad_sig2, 1, NULL, &cfg));
    assert_null(vn_rpc_server_new(NULL, bad_sig3, 1, NULL, &cfg));
    assert_null(vn_rpc_server_new(NULL, dup, 2, NULL, &cfg));
    assert_null(vn_rpc_server_new(NULL, reserved, 1, NULL, &cfg));
    assert_null(vn_rpc_server_new(NULL, no_handler, 1, NULL, &cfg));
    assert_null(vn_rpc_server_new(NULL, methods, N_METHODS, NULL, NULL));
    vn_rpc_server_free(NULL);
    /* no event loop: cannot listen */
    {
        struct vn_rpc_server *srv = new_server(NULL, false, 0);
        assert_int_equal(vn_rpc_server_listen(srv, "http://127.0.0.1:0", NULL),
                         -1);
        assert_int_equal(vn_rpc_server_port(srv, 0), -1);
        vn_rpc_server_free(srv);
    }
}

static void test_arg_helpers(void **state)
{
    xmlrpc_env env;
    xmlrpc_value *p;
    char *s;

    (void)state;
    xmlrpc_env_init(&env);
    p = xmlrpc_build_value(&env, "(sib)", "str", 7, 1);
    s = vn_rpc_arg_string(&env, p, 0);
    assert_string_equal(s, "str");
    free(s);
    assert_int_equal(vn_rpc_arg_int(&env, p, 1), 7);
    assert_true(vn_rpc_arg_bool(&env, p, 2));
    assert_false(env.fault_occurred);
    assert_null(vn_rpc_arg_string(&env, p, 1));
    assert_int_equal(env.fault_code, VN_FAULT_BAD_PARAMS);
    assert_non_null(strstr(env.fault_string, "argument 2 must be a string"));
    xmlrpc_env_clean(&env);
    xmlrpc_env_init(&env);
    assert_int_equal(vn_rpc_arg_int(&env, p, 3), 0);
    assert_int_equal(env.fault_code, VN_FAULT_BAD_PARAMS);
    assert_string_equal(env.fault_string, "argument 4 is missing");
    xmlrpc_env_clean(&env);
    xmlrpc_env_init(&env);
    assert_false(vn_rpc_arg_bool(&env, p, 0));
    assert_int_equal(env.fault_code, VN_FAULT_BAD_PARAMS);
    xmlrpc_env_clean(&env);
    xmlrpc_DECREF(p);
}

/* ---- HTTP: a server loop in a thread --------------------------------- */

struct loop {
    struct event_base *base;
    struct vn_rpc_server *srv;
    struct event *stop_ev;
    int stop_pipe[2];
    pthread_t thread;
    char dir[64]; /* temporary directory for sockets and certificates */
};

static void on_stop(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    event_base_loopbreak(arg);
}

static void *loop_main(void *arg)
{
    struct loop *l = arg;

    event_base_dispatch(l->base);
    return NULL;
}

static int rm_entry(const char *path, const struct stat *st, int flag,
                    struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static struct loop *loop_new(bool require_auth, size_t max_body_bytes)
{
    struct loop *l = calloc(1, sizeof(*l));

    assert_non_null(l);
    strcpy(l->dir, "/tmp/test_rpc.XXXXXX");
    assert_non_null(mkdtemp(l->dir));
    l->base = event_base_new();
    assert_non_null(l->base);
    assert_int_equal(pipe(l->stop_pipe), 0);
    l->stop_ev = event_new(l->base, l->stop_pipe[0], EV_READ, on_stop, l->base);
    assert_int_equal(event_add(l->stop_ev, NULL), 0);
    l->srv = new_server(l->base, require_auth, max_body_bytes);
    return l;
}

static void loop_start(struct loop *l)
{
    assert_int_equal(pthread_create(&l->thread, NULL, loop_main, l), 0);
}

static void loop_free(struct loop *l)
{
    assert_int_equal(write(l->stop_pipe[1], "x", 1), 1);
    pthread_join(l->thread, NULL);
    vn_rpc_server_free(l->srv);
    event_free(l->stop_ev);
    event_base_free(l->base);
    close(l->stop_pipe[0]);
    close(l->stop_pipe[1]);
    nftw(l->dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
    free(l);
}

static char *tcp_url(struct loop *l, const char *scheme, int index)
{
    char *url = NULL;
    int port = vn_rpc_server_port(l->srv, index);

    assert_true(port > 0);
    assert_true(asprintf(&url, "%s://127.0.0.1:%d/RPC2", scheme, port) > 0);
    return url;
}

static struct vn_rpc_client *client(const char *url, const char *token)
{
    struct vn_rpc_client_config cfg = {
        .url = url, .token = token, .timeout_ms = 10000};
    struct vn_rpc_client *c = vn_rpc_client_new(&cfg);

    assert_non_null(c);
    return c;
}

/* Calls test.whoami and checks user and via. */
static void assert_whoami(struct vn_rpc_client *c, const char *user,
                          const char *via)
{
    xmlrpc_env env;
    xmlrpc_value *v;
    char *s;

    xmlrpc_env_init(&env);
    v = vn_rpc_callf(c, &env, "test.whoami", "()");
    if (v == NULL)
        fail_msg("whoami: fault %d: %s", env.fault_code, env.fault_string);
    s = member_string(v, "user");
    assert_string_equal(s, user);
    free(s);
    s = member_string(v, "via");
    assert_string_equal(s, via);
    free(s);
    xmlrpc_DECREF(v);
    xmlrpc_env_clean(&env);
}

static void assert_call_fault(struct vn_rpc_client *c, const char *method,
                              int code, const char *part)
{
    xmlrpc_env env;
    xmlrpc_value *v;

    xmlrpc_env_init(&env);
    v = vn_rpc_call(c, &env, method, NULL);
    if (v != NULL || env.fault_code != code ||
        strstr(env.fault_string, part) == NULL)
        fail_msg("%s: want fault %d with \"%s\", got %d \"%s\"", method, code,
                 part, env.fault_code,
                 env.fault_string != NULL ? env.fault_string : "(result)");
    xmlrpc_env_clean(&env);
}

static void test_http_unix(void **state)
{
    struct loop *l = loop_new(false, 64 * 1024);
    char path[128], *url = NULL;
    struct stat st;
    struct vn_rpc_client *c;
    xmlrpc_env env;
    xmlrpc_value *v;
    char *echo = malloc(50000);

    (void)state;
    snprintf(path, sizeof(path), "%s/rpc.sock", l->dir);
    assert_true(asprintf(&url, "unix:%s", path) > 0);
    assert_int_equal(vn_rpc_server_listen(l->srv, url, NULL), 0);
    assert_int_equal(stat(path, &st), 0);
    assert_true(S_ISSOCK(st.st_mode));
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(vn_rpc_server_port(l->srv, 0), -1);
    loop_start(l);

    c = client(url, NULL);
    xmlrpc_env_init(&env);
    for (int i = 0; i < 3; i++) { /* same connection, several calls */
        v = vn_rpc_callf(c, &env, "test.add", "(ii)", i, 10);
        assert_non_null(v);
        xmlrpc_DECREF(v);
    }
    memset(echo, 'e', 49999);
    echo[49999] = '\0';
    v = vn_rpc_callf(c, &env, "test.echo", "(s)", echo);
    assert_non_null(v);
    xmlrpc_DECREF(v);
    v = vn_rpc_callf(c, &env, "test.sized", "(i)", 3 << 20); /* 3 MiB */
    assert_non_null(v);
    xmlrpc_DECREF(v);
    assert_whoami(c, "", "anonymous");
    assert_call_fault(c, "no.such", VN_FAULT_NO_METHOD, "no method 'no.such'");
    v = vn_rpc_callf(c, &env, "test.add", "(is)", 1, "two");
    assert_null(v);
    assert_int_equal(env.fault_code, VN_FAULT_BAD_PARAMS);
    assert_string_equal(env.fault_string,
                        "test.add expects (int, int); argument 2 is a string");
    xmlrpc_env_clean(&env);
    vn_rpc_client_free(c);
    free(echo);
    free(url);
    loop_free(l);
    assert_int_equal(stat(path, &st), -1); /* removed with the server */
}

static void test_unix_stale_socket(void **state)
{
    struct loop *l = loop_new(false, 0);
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    char *url = NULL;
    int fd;

    (void)state;
    /* A socket file left by a crashed daemon is replaced... */
    snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/stale.sock", l->dir);
    fd = socket(AF_UNIX, SOCK_STREAM, 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
    close(fd);
    assert_true(asprintf(&url, "unix:%s", sun.sun_path) > 0);
    assert_int_equal(vn_rpc_server_listen(l->srv, url, NULL), 0);
    free(url);
    /* ...but a regular file is not. */
    assert_true(asprintf(&url, "unix:%s/regular", l->dir) > 0);
    fclose(fopen(url + 5, "w"));
    assert_int_equal(vn_rpc_server_listen(l->srv, url, NULL), -1);
    free(url);
    assert_int_equal(vn_rpc_server_listen(l->srv, "ftp://x:1", NULL), -1);
    assert_int_equal(vn_rpc_server_listen(l->srv, "http://noport", NULL), -1);
    assert_int_equal(vn_rpc_server_listen(l->srv, "https://127.0.0.1:0", NULL),
                     -1); /* no certificate */
    loop_start(l);
    loop_free(l);
}

/* A node namespace may have only lo (plus IPv6 link-local addresses):
 * listening on a literal address must not depend on getaddrinfo's
 * AI_ADDRCONFIG view of which families are "configured". */
static void test_listen_in_bare_netns(void **state)
{
    pid_t pid;
    int status = -1;

    (void)state;
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct loop *l;
        int rc;
        if (unshare(CLONE_NEWNET) < 0)
            _exit(77); /* not root: nothing to check here */
        /* lo up and a veth pair with IPv6 link-local addresses only. */
        if (system("ip link set lo up && ip link add tv0 type veth peer "
                   "name tv1 && ip link set tv0 up && ip link set tv1 up") != 0)
            _exit(77);
        usleep(300 * 1000);
        l = loop_new(false, 0);
        rc = vn_rpc_server_listen(l->srv, "http://127.0.0.1:0", NULL);
        _exit(rc == 0 && vn_rpc_server_port(l->srv, 0) > 0 ? 0 : 1);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    if (WEXITSTATUS(status) == 77)
        skip();
    assert_int_equal(WEXITSTATUS(status), 0);
}

static void test_http_tokens(void **state)
{
    struct loop *l = loop_new(true, 0);
    struct vn_rpc_client *c;
    char *url;

    (void)state;
    assert_int_equal(vn_rpc_server_listen(l->srv, "http://127.0.0.1:0", NULL),
                     0);
    url = tcp_url(l, "http", 0);
    loop_start(l);

    c = client(url, "tok-alice");
    assert_whoami(c, "alice", "token");
    assert_call_fault(c, "test.admin", VN_FAULT_FORBIDDEN, "operators only");
    vn_rpc_client_free(c);

    c = client(url, "tok-ops");
    {
        xmlrpc_env env;
        xmlrpc_value *v;
        xmlrpc_env_init(&env);
        v = vn_rpc_call(c, &env, "test.admin", NULL);
        assert_non_null(v);
        xmlrpc_DECREF(v);
        xmlrpc_env_clean(&env);
    }
    vn_rpc_client_free(c);

    c = client(url, "tok-wrong");
    assert_call_fault(c, "system.listMethods", VN_FAULT_UNAUTHENTICATED,
                      "unknown or expired token");
    vn_rpc_client_free(c);

    c = client(url, NULL);
    assert_call_fault(c, "test.whoami", VN_FAULT_UNAUTHENTICATED,
                      "needs an authenticated caller");
    vn_rpc_client_free(c);
    free(url);
    loop_free(l);
}

/* ---- HTTP: raw requests with curl ------------------------------------ */

struct raw {
    long status;
    char *body;
    size_t len;
};

static size_t raw_data(char *data, size_t size, size_t n, void *arg)
{
    struct raw *r = arg;
    char *grown = realloc(r->body, r->len + size * n + 1);

    assert_non_null(grown);
    r->body = grown;
    memcpy(r->body + r->len, data, size * n);
    r->len += size * n;
    r->body[r->len] = '\0';
    return size * n;
}

/* One request with curl. 'method' NULL = POST of 'body'. */
static void raw_request(const char *url, const char *method,
                        const char *content_type, const char *auth,
                        const char *body, size_t len, struct raw *r)
{
    CURL *h = curl_easy_init();
    struct curl_slist *headers = NULL;
    char line[256];

    memset(r, 0, sizeof(*r));
    assert_non_null(h);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, raw_data);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 10000L);
    headers = curl_slist_append(headers, "Expect:");
    if (content_type != NULL) {
        snprintf(line, sizeof(line), "Content-Type: %s", content_type);
        headers = curl_slist_append(headers, line);
    }
    if (auth != NULL) {
        snprintf(line, sizeof(line), "Authorization: %s", auth);
        headers = curl_slist_append(headers, line);
    }
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    if (method != NULL) {
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    } else {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    }
    curl_easy_perform(h);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status);
    curl_slist_free_all(headers);
    curl_easy_cleanup(h);
}

static const char whoami_call[] =
    "<methodCall><methodName>test.whoami</methodName></methodCall>";

static void test_http_level(void **state)
{
    struct loop *l = loop_new(true, 4096);
    const char *xml = "text/xml";
    struct reply rep;
    struct raw r;
    char *url, *other = NULL, *big;
    size_t n;

    (void)state;
    assert_int_equal(vn_rpc_server_listen(l->srv, "http://127.0.0.1:0", NULL),
                     0);
    url = tcp_url(l, "http", 0);
    loop_start(l);

    raw_request(url, "GET", NULL, NULL, NULL, 0, &r);
    assert_int_equal(r.status, 405);
    free(r.body);
    raw_request(url, "PATCH", NULL, NULL, NULL, 0, &r);
    assert_int_equal(r.status, 405);
    free(r.body);
    assert_true(asprintf(&other, "http://127.0.0.1:%d/other",
                         vn_rpc_server_port(l->srv, 0)) > 0);
    raw_request(other, NULL, xml, NULL, good_call, strlen(good_call), &r);
    assert_int_equal(r.status, 404);
    free(r.body);
    free(other);
    raw_request(url, NULL, "application/json", NULL, good_call,
                strlen(good_call), &r);
    assert_int_equal(r.status, 415);
    free(r.body);

    /* good, with charset and with "/" as path */
    raw_request(url, NULL, "text/xml; charset=utf-8", NULL, good_call,
                strlen(good_call), &r);
    assert_int_equal(r.status, 200);
    decode(r.body, r.len, &rep);
    assert_string_result(&rep, "x");
    reply_clean(&rep);
    free(r.body);

    /* Basic auth: the password is the token */
    raw_request(url, NULL, xml, "Basic eDp0b2stYWxpY2U=", /* x:tok-alice */
                whoami_call, strlen(whoami_call), &r);
    assert_int_equal(r.status, 200);
    decode(r.body, r.len, &rep);
    assert_non_null(rep.result);
    reply_clean(&rep);
    free(r.body);
    raw_request(url, NULL, xml, "Digest abc", good_call, strlen(good_call), &r);
    decode(r.body, r.len, &rep);
    assert_fault(&rep, VN_FAULT_UNAUTHENTICATED, "unsupported Authorization");
    reply_clean(&rep);
    free(r.body);
    raw_request(url, NULL, xml, "Basic !!!!", good_call, strlen(good_call), &r);
    decode(r.body, r.len, &rep);
    assert_fault(&rep, VN_FAULT_UNAUTHENTICATED, "malformed Authorization");
    reply_clean(&rep);
    free(r.body);

    /* over the limit but under the HTTP cap: an XML-RPC fault */
    n = 3 * 4096;
    big = malloc(4 * 4096 + 100);
    assert_non_null(big);
    memset(big, ' ', 4 * 4096 + 100);
    memcpy(big, good_call, strlen(good_call));
    raw_request(url, NULL, xml, NULL, big, n, &r);
    assert_int_equal(r.status, 200);
    decode(r.body, r.len, &rep);
    assert_fault(&rep, VN_FAULT_TOO_LARGE,
                 "request body is 12288 bytes; the limit is 4096");
    reply_clean(&rep);
    free(r.body);
    /* over the cap: cut by HTTP */
    raw_request(url, NULL, xml, NULL, big, 4 * 4096 + 100, &r);
    assert_int_equal(r.status, 413);
    free(r.body);
    free(big);

    /* and through the client, the 413 is "unavailable" naming the URL */
    {
        struct vn_rpc_client *c = client(url, NULL);
        xmlrpc_env env;
        char *s = malloc(20000);
        assert_non_null(s);
        memset(s, 's', 19999);
        s[19999] = '\0';
        xmlrpc_env_init(&env);
        assert_null(vn_rpc_callf(c, &env, "test.echo", "(s)", s));
        assert_int_equal(env.fault_code, VN_FAULT_UNAVAILABLE);
        assert_non_null(strstr(env.fault_string, url));
        assert_non_null(strstr(env.fault_string, "413"));
        xmlrpc_env_clean(&env);
        free(s);
        vn_rpc_client_free(c);
    }
    free(url);
    loop_free(l);
}

static void test_client_errors(void **state)
{
    struct vn_rpc_client_config bad = {.url = "ftp://example"};
    struct vn_rpc_client *c;
    xmlrpc_env env;

    (void)state;
    assert_null(vn_rpc_client_new(&bad));
    bad.url = "unix:";
    assert_null(vn_rpc_client_new(&bad));
    bad.url = "http://127.0.0.1:1/RPC2";
    bad.token = "two words";
    assert_null(vn_rpc_client_new(&bad));
    vn_rpc_client_free(NULL);

    c = client("unix:/nonexistent/vnode-test.sock", NULL);
    xmlrpc_env_init(&env);
    assert_null(vn_rpc_call(c, &env, "system.listMethods", NULL));
    assert_int_equal(env.fault_code, VN_FAULT_UNAVAILABLE);
    assert_non_null(strstr(env.fault_string, "unix:/nonexistent/vnode-test"));
    xmlrpc_env_clean(&env);
    xmlrpc_env_init(&env);
    assert_null(vn_rpc_callf(c, &env, "x", "i", 5)); /* not an array */
    assert_int_equal(env.fault_code, VN_FAULT_INTERNAL);
    xmlrpc_env_clean(&env);
    vn_rpc_client_free(c);
}

/* ---- HTTPS with client certificates ---------------------------------- */

/* Runs a shell command in 'dir'; fails the test if it fails. */
static void run_in(const char *dir, const char *cmd)
{
    char *line = NULL;

    assert_true(
        asprintf(&line, "cd '%s' && { %s ; } >/dev/null 2>&1", dir, cmd) > 0);
    if (system(line) != 0)
        fail_msg("command failed: %s", cmd);
    free(line);
}

/* Makes CA 'ca' (ca.pem/ca.key) in dir. */
static void make_ca(const char *dir, const char *ca)
{
    char *cmd = NULL;

    assert_true(asprintf(&cmd,
                         "openssl req -x509 -newkey ec -pkeyopt "
                         "ec_paramgen_curve:prime256v1 -nodes -keyout %s.key "
                         "-out %s.pem -days 2 -subj /CN=%s",
                         ca, ca, ca) > 0);
    run_in(dir, cmd);
    free(cmd);
}

/* Makes name.pem/name.key with 'cn', signed by CA 'ca'. */
static void make_cert(const char *dir, const char *name, const char *cn,
                      const char *ca, bool server)
{
    char *cmd = NULL;

    assert_true(
        asprintf(&cmd,
                 "printf 'basicConstraints=CA:FALSE\\n%s\\n' > %s.ext && "
                 "openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 "
                 "-nodes -keyout %s.key -out %s.csr -subj /CN=%s && "
                 "openssl x509 -req -in %s.csr -CA %s.pem -CAkey %s.key "
                 "-set_serial %ld -days 2 -extfile %s.ext -out %s.pem",
                 server ? "subjectAltName=IP:127.0.0.1\\nextendedKeyUsage="
                          "serverAuth"
                        : "extendedKeyUsage=clientAuth",
                 name, name, name, cn, name, ca, ca, random() + 1, name,
                 name) > 0);
    run_in(dir, cmd);
    free(cmd);
}

static char *in_dir(const struct loop *l, const char *file)
{
    char *p = NULL;

    assert_true(asprintf(&p, "%s/%s", l->dir, file) > 0);
    return p;
}

struct pki {
    char *ca, *other_ca, *server_cert, *server_key;
};

static void make_pki(struct loop *l, struct pki *p)
{
    make_ca(l->dir, "ca");
    make_ca(l->dir, "otherca");
    make_cert(l->dir, "server", "127.0.0.1", "ca", true);
    make_cert(l->dir, "alice", "alice", "ca", false);
    make_cert(l->dir, "ops", "ops", "ca", false);
    make_cert(l->dir, "mallory", "mallory", "ca", false);
    make_cert(l->dir, "forged", "alice", "otherca", false);
    p->ca = in_dir(l, "ca.pem");
    p->other_ca = in_dir(l, "otherca.pem");
    p->server_cert = in_dir(l, "server.pem");
    p->server_key = in_dir(l, "server.key");
}

static void pki_clean(struct pki *p)
{
    free(p->ca);
    free(p->other_ca);
    free(p->server_cert);
    free(p->server_key);
}

/* A client presenting certificate 'name' (NULL: none), trusting 'ca'. */
static struct vn_rpc_client *tls_client(struct loop *l, const char *url,
                                        const char *name, const char *ca,
                                        const char *token)
{
    char *cert = NULL, *key = NULL;
    struct vn_rpc_client *c;

    if (name != NULL) {
        assert_true(asprintf(&cert, "%s/%s.pem", l->dir, name) > 0);
        assert_true(asprintf(&key, "%s/%s.key", l->dir, name) > 0);
    }
    struct vn_rpc_client_config cfg = {.url = url,
                                       .token = token,
                                       .cert_file = cert,
                                       .key_file = key,
                                       .ca_file = ca,
                                       .timeout_ms = 10000};
    c = vn_rpc_client_new(&cfg);
    assert_non_null(c);
    free(cert);
    free(key);
    return c;
}

static void test_https_client_certs(void **state)
{
    struct loop *l = loop_new(true, 0);
    struct pki p;
    struct vn_rpc_client *c;
    char *url, *url2;

    (void)state;
    make_pki(l, &p);
    struct vn_tls_config strict = {.cert_file = p.server_cert,
                                   .key_file = p.server_key,
                                   .ca_file = p.ca,
                                   .require_client_cert = true};
    struct vn_tls_config lax = strict;
    lax.require_client_cert = false;
    assert_int_equal(
        vn_rpc_server_listen(l->srv, "https://127.0.0.1:0", &strict), 0);
    assert_int_equal(vn_rpc_server_listen(l->srv, "https://127.0.0.1:0", &lax),
                     0);
    url = tcp_url(l, "https", 0);
    url2 = tcp_url(l, "https", 1);
    loop_start(l);

    c = tls_client(l, url, "alice", p.ca, NULL);
    assert_whoami(c, "alice", "cert");
    assert_whoami(c, "alice", "cert"); /* reused connection */
    assert_call_fault(c, "test.admin", VN_FAULT_FORBIDDEN, "operators only");
    vn_rpc_client_free(c);

    c = tls_client(l, url, "ops", p.ca, "tok-alice"); /* cert wins */
    assert_whoami(c, "ops", "cert");
    vn_rpc_client_free(c);

    c = tls_client(l, url, "mallory", p.ca, NULL);
    assert_call_fault(c, "system.listMethods", VN_FAULT_UNAUTHENTICATED,
                      "certificate CN 'mallory' is not a known user");
    vn_rpc_client_free(c);

    /* refused at the handshake: no certificate, or one from another CA */
    c = tls_client(l, url, NULL, p.ca, "tok-alice");
    assert_call_fault(c, "system.listMethods", VN_FAULT_UNAVAILABLE, url);
    vn_rpc_client_free(c);
    c = tls_client(l, url, "forged", p.ca, NULL);
    assert_call_fault(c, "system.listMethods", VN_FAULT_UNAVAILABLE, url);
    vn_rpc_client_free(c);
    /* the client does not trust a server from another CA */
    c = tls_client(l, url, "alice", p.other_ca, NULL);
    assert_call_fault(c, "system.listMethods", VN_FAULT_UNAVAILABLE, url);
    vn_rpc_client_free(c);

    /* the lax listener takes a token instead, but still refuses forgeries */
    c = tls_client(l, url2, NULL, p.ca, "tok-alice");
    assert_whoami(c, "alice", "token");
    vn_rpc_client_free(c);
    c = tls_client(l, url2, "forged", p.ca, NULL);
    assert_call_fault(c, "system.listMethods", VN_FAULT_UNAVAILABLE, url2);
    vn_rpc_client_free(c);

    free(url);
    free(url2);
    pki_clean(&p);
    loop_free(l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_calls),
        cmocka_unit_test(test_unknown_method),
        cmocka_unit_test(test_wrong_arguments),
        cmocka_unit_test(test_handler_faults),
        cmocka_unit_test(test_malformed_bodies),
        cmocka_unit_test(test_deep_nesting),
        cmocka_unit_test(test_too_large),
        cmocka_unit_test(test_auth_required),
        cmocka_unit_test(test_operator_without_require_auth),
        cmocka_unit_test(test_list_methods),
        cmocka_unit_test(test_introspection),
        cmocka_unit_test(test_set_log_level),
        cmocka_unit_test(test_set_log_level_without_auth),
        cmocka_unit_test(test_bad_tables),
        cmocka_unit_test(test_arg_helpers),
        cmocka_unit_test(test_http_unix),
        cmocka_unit_test(test_unix_stale_socket),
        cmocka_unit_test(test_listen_in_bare_netns),
        cmocka_unit_test(test_http_tokens),
        cmocka_unit_test(test_http_level),
        cmocka_unit_test(test_client_errors),
        cmocka_unit_test(test_https_client_certs),
    };

    vn_log_init("test_rpc", VN_LOG_WARN, NULL);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
