/* rpc: the XML-RPC server every daemon embeds in its libevent loop.
 *
 * xmlrpc-c encodes and decodes; dispatch goes through one method table per
 * daemon. Before a handler runs, the layer checks that the call parses, that
 * the method exists, that the caller may call it and that the arguments
 * match the method's signature, and answers with a vn_fault otherwise.
 * Every server answers system.listMethods, system.methodHelp,
 * system.methodSignature, system.version and system.setLogLevel.
 *
 * Transports: "unix:/path" (HTTP over a Unix socket), "http://host:port",
 * "https://host:port" (OpenSSL; client certificates verified against a CA
 * when one is given). The caller's identity comes from the verified client
 * certificate's CN, or from an "Authorization: Bearer TOKEN" header, mapped
 * to a user by the daemon's auth callback. "Authorization: Basic" is also
 * accepted, its password taken as the token (the user name is ignored), so
 * clients that only speak Basic (Debian's xmlrpc CLI: -username=x
 * -password=TOKEN) can authenticate. Credentials that the callback does not
 * know get VN_FAULT_UNAUTHENTICATED, whatever the method. */
#ifndef VN_RPC_H
#define VN_RPC_H

#include <stdbool.h>
#include <stddef.h>
#include <xmlrpc-c/base.h>

#include "fault.h"

struct event_base;

enum vn_role { VN_ROLE_NONE = 0, VN_ROLE_RESEARCHER, VN_ROLE_OPERATOR };

/* Who is calling. Strings are owned by the server and valid during the call. */
struct vn_rpc_caller {
    const char *user;    /* NULL when anonymous */
    enum vn_role role;
    const char *via;     /* "cert", "token" or "anonymous" */
};

/* A handler gets the already-checked parameter array (borrowed). It returns
 * a new reference to the result, or sets a fault on 'env' and returns NULL. */
typedef xmlrpc_value *vn_rpc_handler(xmlrpc_env *env, xmlrpc_value *params,
                                     const struct vn_rpc_caller *caller,
                                     void *ctx);

enum vn_rpc_flags {
    VN_RPC_READONLY = 1 << 0, /* changes nothing; logged at debug level */
    VN_RPC_PUBLIC = 1 << 1,   /* callable without authentication */
    VN_RPC_OPERATOR = 1 << 2, /* only the operator role may call it */
};

struct vn_rpc_method {
    const char *name;
    /* xmlrpc-c signature: result type, ':', one letter per argument.
     * i=int b=bool d=double s=string 8=datetime 6=base64 A=array S=struct
     * n=nil I=i8. E.g. "S:ss" returns a struct and takes two strings. Several
     * alternatives separated by ',' (e.g. "S:,S:s" for optional args). */
    const char *signature;
    vn_rpc_handler *handler;
    unsigned flags;
    const char *help;
};

/* Maps a verified certificate CN or a bearer token to a user. Exactly one of
 * cert_cn / token is non-NULL. Fills 'caller' (strings must stay valid until
 * the next call) and returns 0, or returns -1 if unknown. */
typedef int vn_rpc_auth_fn(void *auth_ctx, const char *cert_cn,
                           const char *token, struct vn_rpc_caller *caller);

struct vn_rpc_server_config {
    const char *daemon;          /* e.g. "sncd"; used by system.version */
    const char *version;         /* e.g. VN_VERSION */
    size_t max_body_bytes;       /* 0 = 1 MiB default */
    vn_rpc_auth_fn *auth;        /* NULL: everybody is anonymous */
    void *auth_ctx;
    bool require_auth;           /* refuse non-PUBLIC methods to anonymous */
};

struct vn_tls_config {
    const char *cert_file; /* PEM server (or client) certificate */
    const char *key_file;  /* PEM private key */
    const char *ca_file;   /* PEM CA bundle; server: verify client certs
                              against it (NULL: no client certs asked);
                              client: verify the server against it */
    bool require_client_cert; /* server: refuse handshakes without one */
};

struct vn_rpc_server;

/* 'methods' (n entries) and 'ctx' are borrowed and must outlive the server;
 * the strings of 'cfg' are copied. 'base' may be NULL for a server that only
 * runs vn_rpc_server_process() (tests, fuzzers). Returns NULL on failure
 * (logged): a bad signature string, or a duplicate or reserved name. */
struct vn_rpc_server *vn_rpc_server_new(struct event_base *base,
                                        const struct vn_rpc_method *methods,
                                        size_t n_methods, void *ctx,
                                        const struct vn_rpc_server_config *cfg);

/* Starts listening on 'url' (see above). 'tls' is required for https:// and
 * ignored otherwise. For unix: the socket file is replaced and made 0600.
 * Returns 0 or -1 (logged). May be called several times. */
int vn_rpc_server_listen(struct vn_rpc_server *srv, const char *url,
                         const struct vn_tls_config *tls);

/* The TCP port bound by the index-th successful vn_rpc_server_listen() call
 * (0 = the first), useful after listening on port 0; -1 for a unix:
 * listener or an index out of range. */
int vn_rpc_server_port(const struct vn_rpc_server *srv, int index);

/* Transport-independent core, used by the HTTP layer and the fuzzer:
 * processes one request body for 'caller' and returns the response body
 * (a method response or a fault; never NULL). Caller frees it with
 * xmlrpc_mem_block_free(). */
xmlrpc_mem_block *vn_rpc_server_process(struct vn_rpc_server *srv,
                                        const char *body, size_t len,
                                        const struct vn_rpc_caller *caller);

/* Closes every listener (removing unix socket files) and frees. NULL ok. */
void vn_rpc_server_free(struct vn_rpc_server *srv);

/* Parameter helpers for handlers: fetch argument 'i' of 'params' (already
 * type-checked by the layer). Strings returned are malloc'd; caller frees. */
char *vn_rpc_arg_string(xmlrpc_env *env, xmlrpc_value *params, int i);
int vn_rpc_arg_int(xmlrpc_env *env, xmlrpc_value *params, int i);
bool vn_rpc_arg_bool(xmlrpc_env *env, xmlrpc_value *params, int i);

#endif
