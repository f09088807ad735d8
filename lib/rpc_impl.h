/* rpc_impl: what the RPC server's dispatch core (rpc_server.c) and its
 * HTTP transport (rpc_http.c) share. Not for daemons: they use rpc.h. */
#ifndef VN_RPC_IMPL_H
#define VN_RPC_IMPL_H

#include "rpc.h"

#define RPC_N_BUILTINS 5

struct vn_rpc_listener; /* rpc_http.c */

struct vn_rpc_server {
    struct event_base *base;             /* borrowed; NULL: cannot listen */
    const struct vn_rpc_method *methods; /* borrowed daemon table */
    size_t n_methods;
    void *ctx; /* borrowed; for daemon handlers */
    struct vn_rpc_method builtins[RPC_N_BUILTINS]; /* system.*; ctx = srv */
    char *daemon, *version;                        /* owned copies */
    size_t max_body_bytes;
    vn_rpc_auth_fn *auth;
    void *auth_ctx;
    bool require_auth;
    struct vn_rpc_listener *listeners; /* owned list, in listen order */
};

/* Serializes a fault response for 'fault' (which must hold one). Never
 * returns NULL. Caller frees with xmlrpc_mem_block_free(). */
xmlrpc_mem_block *rpc_fault_response(const xmlrpc_env *fault);

/* Closes and frees every listener of 'srv' (rpc_http.c). */
void rpc_http_free_listeners(struct vn_rpc_server *srv);

#endif
