/* rpc_client: blocking XML-RPC client (libcurl transport, xmlrpc-c
 * encoding) for the CLI tools and for daemons calling each other. Speaks
 * the same URLs as the server: unix:/path, http://, https:// (with optional
 * client certificate and CA), and sends a bearer token when given one. */
#ifndef VN_RPC_CLIENT_H
#define VN_RPC_CLIENT_H

#include <xmlrpc-c/base.h>

#include "fault.h"

struct vn_rpc_client_config {
    const char *url;
    const char *token;     /* NULL: none */
    const char *cert_file; /* client certificate for https, or NULL */
    const char *key_file;
    const char *ca_file;   /* verify the server against it; NULL: system CAs */
    long timeout_ms;       /* 0 = 30000 */
};

struct vn_rpc_client;

/* Copies what it needs from 'cfg'. Returns NULL on a bad URL (logged). */
struct vn_rpc_client *vn_rpc_client_new(const struct vn_rpc_client_config *cfg);
void vn_rpc_client_free(struct vn_rpc_client *c);

/* Calls 'method' with 'params' (an array, borrowed; NULL = no arguments).
 * Returns a new reference to the result, or NULL with 'env' holding the
 * server's fault, or VN_FAULT_UNAVAILABLE for transport/HTTP errors (the
 * message says what failed). */
xmlrpc_value *vn_rpc_call(struct vn_rpc_client *c, xmlrpc_env *env,
                          const char *method, xmlrpc_value *params);

/* As vn_rpc_call, building the parameter array with xmlrpc_build_value's
 * format ("(ss)", "()", ...). */
xmlrpc_value *vn_rpc_callf(struct vn_rpc_client *c, xmlrpc_env *env,
                           const char *method, const char *format, ...);

#endif
