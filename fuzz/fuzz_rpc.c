/* libFuzzer target for the XML-RPC server core: every input is one request
 * body, processed once as an anonymous caller and once as an operator by a
 * server (no listener) with a small method table. Whatever the input, the
 * server must answer with a response body and not crash or leak. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "rpc.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Small enough that libFuzzer's default 4096-byte inputs reach the size
 * check too. */
#define FUZZ_MAX_BODY_BYTES 3000

static xmlrpc_value *f_echo(xmlrpc_env *env, xmlrpc_value *params,
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

/* Reads a struct the way a daemon reads a request: optional members of
 * several types. */
static xmlrpc_value *f_create(xmlrpc_env *env, xmlrpc_value *params,
                              const struct vn_rpc_caller *caller, void *ctx)
{
    char *name = vn_rpc_arg_string(env, params, 0);
    xmlrpc_value *opts = NULL, *weight = NULL, *v = NULL;
    int n = 0;

    (void)caller;
    (void)ctx;
    if (name == NULL)
        return NULL;
    if (xmlrpc_array_size(env, params) > 1) {
        xmlrpc_array_read_item(env, params, 1, &opts);
        if (!env->fault_occurred)
            xmlrpc_struct_find_value(env, opts, "weight", &weight);
        if (!env->fault_occurred && weight != NULL)
            xmlrpc_read_int(env, weight, &n);
    }
    if (!env->fault_occurred)
        v = xmlrpc_build_value(env, "{s:s,s:i}", "name", name, "weight", n);
    if (weight != NULL)
        xmlrpc_DECREF(weight);
    if (opts != NULL)
        xmlrpc_DECREF(opts);
    free(name);
    return v;
}

/* Sums an array of ints; other item types give xmlrpc-c's type fault. */
static xmlrpc_value *f_sum(xmlrpc_env *env, xmlrpc_value *params,
                           const struct vn_rpc_caller *caller, void *ctx)
{
    xmlrpc_value *arr = NULL;
    int total = 0;

    (void)caller;
    (void)ctx;
    xmlrpc_array_read_item(env, params, 0, &arr);
    for (int i = 0; !env->fault_occurred && i < xmlrpc_array_size(env, arr);
         i++) {
        xmlrpc_value *item = NULL;
        int n = 0;
        xmlrpc_array_read_item(env, arr, (unsigned)i, &item);
        if (!env->fault_occurred)
            xmlrpc_read_int(env, item, &n);
        if (item != NULL)
            xmlrpc_DECREF(item);
        total += n & 0xffff;
    }
    if (arr != NULL)
        xmlrpc_DECREF(arr);
    return env->fault_occurred ? NULL : xmlrpc_int_new(env, total);
}

static xmlrpc_value *f_admin(xmlrpc_env *env, xmlrpc_value *params,
                             const struct vn_rpc_caller *caller, void *ctx)
{
    int n = vn_rpc_arg_int(env, params, 0);
    bool b = vn_rpc_arg_bool(env, params, 1);

    (void)caller;
    (void)ctx;
    if (env->fault_occurred)
        return NULL;
    if (n < 0) {
        vn_fault_set(env, VN_FAULT_INVALID_ARG, "n must be >= 0, not %d", n);
        return NULL;
    }
    return xmlrpc_bool_new(env, b);
}

static const struct vn_rpc_method methods[] = {
    {"fz.echo", "s:s", f_echo, VN_RPC_READONLY | VN_RPC_PUBLIC, "echo"},
    {"fz.create", "S:s,S:sS", f_create, 0, "create"},
    {"fz.sum", "i:A", f_sum, VN_RPC_READONLY, "sum"},
    {"fz.admin", "b:ib,b:Ib", f_admin, VN_RPC_OPERATOR, "admin"},
};

static int fuzz_auth(void *ctx, const char *cert_cn, const char *token,
                     struct vn_rpc_caller *caller)
{
    (void)ctx;
    (void)cert_cn;
    (void)token;
    caller->user = "ops";
    caller->role = VN_ROLE_OPERATOR;
    return 0;
}

static struct vn_rpc_server *server;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    struct vn_rpc_server_config cfg = {
        .daemon = "fuzzd",
        .version = "0",
        .max_body_bytes = FUZZ_MAX_BODY_BYTES,
        .auth = fuzz_auth,
        .require_auth = true,
    };

    (void)argc;
    (void)argv;
    vn_log_init("fuzz_rpc", VN_LOG_ERR, NULL);
    server = vn_rpc_server_new(
        NULL, methods, sizeof(methods) / sizeof(methods[0]), NULL, &cfg);
    if (server == NULL)
        abort();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct vn_rpc_caller anonymous = {.via = "anonymous"};
    static const struct vn_rpc_caller ops = {"ops", VN_ROLE_OPERATOR, "cert"};
    const struct vn_rpc_caller *callers[] = {&anonymous, &ops};

    for (size_t i = 0; i < 2; i++) {
        xmlrpc_mem_block *out =
            vn_rpc_server_process(server, (const char *)data, size, callers[i]);
        if (out == NULL || xmlrpc_mem_block_size(out) == 0)
            abort(); /* the API promises a response body */
        xmlrpc_mem_block_free(out);
    }
    vn_log_set_level(VN_LOG_ERR); /* undo system.setLogLevel */
    return 0;
}
