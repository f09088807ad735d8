/* tls: OpenSSL helpers for the RPC server's https:// listeners (and any
 * other daemon that terminates TLS). TLS 1.2 or newer only. */
#ifndef VN_TLS_H
#define VN_TLS_H

#include <openssl/ssl.h>

struct vn_tls_config;

/* A server context with the certificate chain and key of 'tls'; when
 * tls->ca_file is set, client certificates are requested and verified
 * against it (and required when tls->require_client_cert). Returns NULL on
 * failure (logged with OpenSSL's reasons). Caller frees with SSL_CTX_free. */
SSL_CTX *vn_tls_server_ctx_new(const struct vn_tls_config *tls);

/* The subject CN of the peer's certificate if it sent one and it verified,
 * else NULL. Also NULL for a CN that is empty, holds a NUL or appears more
 * than once. Caller frees the result. */
char *vn_tls_peer_cn(SSL *ssl);

/* Logs and clears OpenSSL's error queue, prefixed with 'what'. */
void vn_tls_log_errors(const char *what);

#endif
