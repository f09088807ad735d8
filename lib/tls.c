/* tls: OpenSSL context and peer identity helpers. */
#include "tls.h"

#include <openssl/err.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "rpc.h"

/* Identifies our sessions so resumption works with client verification. */
static const unsigned char session_id_ctx[] = "vnode-rpc";

void vn_tls_log_errors(const char *what)
{
    char reasons[512] = "";
    size_t len = 0;
    unsigned long e;

    while ((e = ERR_get_error()) != 0) {
        if (len + 3 >= sizeof(reasons))
            continue; /* drain the queue, keep the first reasons */
        if (len > 0) {
            memcpy(reasons + len, "; ", 3);
            len += 2;
        }
        ERR_error_string_n(e, reasons + len, sizeof(reasons) - len);
        len = strlen(reasons);
    }
    log_err("%s: %s", what, len > 0 ? reasons : "no reason given");
}

static int load_client_ca(SSL_CTX *ctx, const struct vn_tls_config *tls)
{
    STACK_OF(X509_NAME) *names = NULL;
    int mode = SSL_VERIFY_PEER;

    if (SSL_CTX_load_verify_locations(ctx, tls->ca_file, NULL) != 1) {
        log_err("cannot load CA file %s", tls->ca_file);
        return -1;
    }
    /* Tells clients which CAs we accept, so they pick the right cert. */
    names = SSL_load_client_CA_file(tls->ca_file);
    if (names != NULL)
        SSL_CTX_set_client_CA_list(ctx, names); /* takes ownership */
    if (tls->require_client_cert)
        mode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
    SSL_CTX_set_verify(ctx, mode, NULL);
    SSL_CTX_set_verify_depth(ctx, 8);
    return 0;
}

SSL_CTX *vn_tls_server_ctx_new(const struct vn_tls_config *tls)
{
    SSL_CTX *ctx = NULL;

    if (tls == NULL || tls->cert_file == NULL || tls->key_file == NULL) {
        log_err("https needs a certificate and a key file");
        return NULL;
    }
    ctx = SSL_CTX_new(TLS_server_method());
    if (ctx == NULL)
        goto fail;
    if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1)
        goto fail;
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION |
                                 SSL_OP_CIPHER_SERVER_PREFERENCE);
    SSL_CTX_set_session_id_context(ctx, session_id_ctx,
                                   sizeof(session_id_ctx) - 1);
    if (SSL_CTX_use_certificate_chain_file(ctx, tls->cert_file) != 1) {
        log_err("cannot load certificate %s", tls->cert_file);
        goto fail;
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, tls->key_file, SSL_FILETYPE_PEM) !=
            1 ||
        SSL_CTX_check_private_key(ctx) != 1) {
        log_err("cannot load key %s (or it does not match %s)", tls->key_file,
                tls->cert_file);
        goto fail;
    }
    if (tls->ca_file != NULL && load_client_ca(ctx, tls) < 0)
        goto fail;
    return ctx;
fail:
    vn_tls_log_errors(__func__);
    SSL_CTX_free(ctx);
    return NULL;
}

char *vn_tls_peer_cn(SSL *ssl)
{
    X509 *cert = NULL;
    X509_NAME *subject;
    ASN1_STRING *data;
    unsigned char *utf8 = NULL;
    char *cn = NULL;
    int idx, len;

    if (ssl == NULL || SSL_get_verify_result(ssl) != X509_V_OK)
        goto cleanup;
    cert = SSL_get1_peer_certificate(ssl);
    if (cert == NULL)
        goto cleanup;
    subject = X509_get_subject_name(cert);
    idx = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
    if (idx < 0 ||
        X509_NAME_get_index_by_NID(subject, NID_commonName, idx) >= 0)
        goto cleanup; /* none, or ambiguous */
    data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, idx));
    len = ASN1_STRING_to_UTF8(&utf8, data);
    if (len <= 0 || strlen((char *)utf8) != (size_t)len)
        goto cleanup;
    cn = strdup((char *)utf8);
cleanup:
    OPENSSL_free(utf8);
    X509_free(cert);
    return cn;
}
