/* rpc_client: blocking XML-RPC calls over libcurl. One easy handle per
 * client, so consecutive calls reuse the connection. */
#include "rpc_client.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

#define CLIENT_DEFAULT_TIMEOUT_MS 30000L
/* Largest response accepted; a bigger one is a server gone wrong. */
#define CLIENT_MAX_RESPONSE_BYTES ((size_t)64 * 1024 * 1024)

struct vn_rpc_client {
    CURL *curl;
    char *url;                  /* as configured, for messages */
    struct curl_slist *headers; /* may hold the token; wiped when freed */
    char errbuf[CURL_ERROR_SIZE];
};

struct response {
    char *data;
    size_t len, cap;
    bool too_large;
};

static pthread_once_t client_once = PTHREAD_ONCE_INIT;
static bool client_ready;

static void client_global_init(void)
{
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        log_err("curl_global_init failed");
        return;
    }
    /* xmlrpc-c refuses responses over its process-wide limit; raise it
     * (never lower it) to ours. */
    if (xmlrpc_limit_get(XMLRPC_XML_SIZE_LIMIT_ID) < CLIENT_MAX_RESPONSE_BYTES)
        xmlrpc_limit_set(XMLRPC_XML_SIZE_LIMIT_ID, CLIENT_MAX_RESPONSE_BYTES);
    client_ready = true;
}

static size_t on_data(char *data, size_t size, size_t n, void *arg)
{
    struct response *r = arg;
    size_t bytes = size * n;

    if (bytes > CLIENT_MAX_RESPONSE_BYTES - r->len) {
        r->too_large = true;
        return 0; /* makes curl fail with CURLE_WRITE_ERROR */
    }
    if (r->len + bytes + 1 > r->cap) {
        size_t cap = r->cap > 0 ? r->cap : 4096;
        while (cap < r->len + bytes + 1)
            cap *= 2;
        char *grown = realloc(r->data, cap);
        if (grown == NULL)
            return 0;
        r->data = grown;
        r->cap = cap;
    }
    memcpy(r->data + r->len, data, bytes);
    r->len += bytes;
    r->data[r->len] = '\0';
    return bytes;
}

/* A header line for 'token', refusing characters that could split it. */
static int add_token_header(struct vn_rpc_client *c, const char *token)
{
    char *line = NULL;
    struct curl_slist *l;

    if (token[0] == '\0' || strpbrk(token, " \t\r\n") != NULL) {
        log_err("the token is empty or holds white space");
        return -1;
    }
    if (asprintf(&line, "Authorization: Bearer %s", token) < 0)
        return -1;
    l = curl_slist_append(c->headers, line);
    explicit_bzero(line, strlen(line));
    free(line);
    if (l == NULL)
        return -1;
    c->headers = l;
    return 0;
}

static int set_headers(struct vn_rpc_client *c, const char *token)
{
    /* "Expect:" stops curl waiting for "100 Continue" on big bodies. */
    static const char *const fixed[] = {"Content-Type: text/xml", "Expect:"};

    for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
        struct curl_slist *l = curl_slist_append(c->headers, fixed[i]);
        if (l == NULL)
            return -1;
        c->headers = l;
    }
    if (token != NULL && add_token_header(c, token) < 0)
        return -1;
    return curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, c->headers) == CURLE_OK
               ? 0
               : -1;
}

/* Points curl at 'url': unix:/path becomes http://localhost/RPC2 over that
 * socket. */
static int set_url(struct vn_rpc_client *c, const char *url)
{
    CURLcode rc;

    if (strncmp(url, "unix:", 5) == 0) {
        if (url[5] == '\0')
            return -1;
        rc = curl_easy_setopt(c->curl, CURLOPT_UNIX_SOCKET_PATH, url + 5);
        if (rc == CURLE_OK)
            rc =
                curl_easy_setopt(c->curl, CURLOPT_URL, "http://localhost/RPC2");
    } else if (strncmp(url, "http://", 7) == 0 ||
               strncmp(url, "https://", 8) == 0) {
        rc = curl_easy_setopt(c->curl, CURLOPT_URL, url);
    } else {
        return -1;
    }
    return rc == CURLE_OK ? 0 : -1;
}

static int set_tls(struct vn_rpc_client *c,
                   const struct vn_rpc_client_config *cfg)
{
    CURL *h = c->curl;
    CURLcode rc =
        curl_easy_setopt(h, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);

    if (rc == CURLE_OK && cfg->cert_file != NULL)
        rc = curl_easy_setopt(h, CURLOPT_SSLCERT, cfg->cert_file);
    if (rc == CURLE_OK && cfg->key_file != NULL)
        rc = curl_easy_setopt(h, CURLOPT_SSLKEY, cfg->key_file);
    if (rc == CURLE_OK && cfg->ca_file != NULL)
        rc = curl_easy_setopt(h, CURLOPT_CAINFO, cfg->ca_file);
    return rc == CURLE_OK ? 0 : -1;
}

static int set_options(struct vn_rpc_client *c,
                       const struct vn_rpc_client_config *cfg)
{
    CURL *h = c->curl;
    long timeout_ms =
        cfg->timeout_ms > 0 ? cfg->timeout_ms : CLIENT_DEFAULT_TIMEOUT_MS;
    CURLcode rc = CURLE_OK;

    rc |= curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    rc |= curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
    rc |= curl_easy_setopt(h, CURLOPT_ERRORBUFFER, c->errbuf);
    rc |= curl_easy_setopt(h, CURLOPT_POST, 1L);
    rc |= curl_easy_setopt(h, CURLOPT_USERAGENT, "vnode-rpc");
    rc |= curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
#if LIBCURL_VERSION_NUM >= 0x075500
    rc |= curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
#endif
    if (rc != CURLE_OK || set_tls(c, cfg) < 0 || set_headers(c, cfg->token) < 0)
        return -1;
    if (set_url(c, cfg->url) < 0) {
        log_err("cannot call '%s': use unix:/path, http://host:port/RPC2 or "
                "https://host:port/RPC2",
                cfg->url);
        return -1;
    }
    return 0;
}

struct vn_rpc_client *vn_rpc_client_new(const struct vn_rpc_client_config *cfg)
{
    struct vn_rpc_client *c = NULL;

    pthread_once(&client_once, client_global_init);
    if (!client_ready || cfg == NULL || cfg->url == NULL)
        return NULL;
    c = calloc(1, sizeof(*c));
    if (c == NULL || (c->url = strdup(cfg->url)) == NULL ||
        (c->curl = curl_easy_init()) == NULL)
        goto fail;
    if (set_options(c, cfg) < 0)
        goto fail;
    return c;
fail:
    log_err("cannot make an RPC client for %s", cfg->url);
    vn_rpc_client_free(c);
    return NULL;
}

void vn_rpc_client_free(struct vn_rpc_client *c)
{
    if (c == NULL)
        return;
    if (c->curl != NULL)
        curl_easy_cleanup(c->curl);
    for (struct curl_slist *l = c->headers; l != NULL; l = l->next)
        explicit_bzero(l->data, strlen(l->data));
    curl_slist_free_all(c->headers);
    free(c->url);
    free(c);
}

/* POSTs 'req' and collects the body of a 200 answer into 'resp'. Returns 0,
 * or -1 with VN_FAULT_UNAVAILABLE in 'env'. */
static int post(struct vn_rpc_client *c, xmlrpc_env *env,
                const xmlrpc_mem_block *req, struct response *resp)
{
    CURLcode rc;
    long status = 0;

    c->errbuf[0] = '\0';
    curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS,
                     xmlrpc_mem_block_contents(req));
    curl_easy_setopt(c->curl, CURLOPT_POSTFIELDSIZE_LARGE,
                     (curl_off_t)xmlrpc_mem_block_size(req));
    curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, resp);
    rc = curl_easy_perform(c->curl);
    if (rc != CURLE_OK) {
        if (resp->too_large)
            vn_fault_set(env, VN_FAULT_UNAVAILABLE,
                         "%s: response is over %zu bytes", c->url,
                         CLIENT_MAX_RESPONSE_BYTES);
        else
            vn_fault_set(env, VN_FAULT_UNAVAILABLE, "%s: %s", c->url,
                         c->errbuf[0] != '\0' ? c->errbuf
                                              : curl_easy_strerror(rc));
        return -1;
    }
    curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &status);
    if (status != 200) {
        vn_fault_set(env, VN_FAULT_UNAVAILABLE,
                     "%s: HTTP status %ld instead of 200%s", c->url, status,
                     status == 413 ? " (request too large)" : "");
        return -1;
    }
    return 0;
}

static xmlrpc_value *parse_response(struct vn_rpc_client *c, xmlrpc_env *env,
                                    const struct response *resp)
{
    xmlrpc_value *result = NULL;
    const char *fault_string = NULL;
    int fault_code = 0;

    xmlrpc_parse_response2(env, resp->data != NULL ? resp->data : "", resp->len,
                           &result, &fault_code, &fault_string);
    if (env->fault_occurred) {
        vn_fault_set(env, VN_FAULT_UNAVAILABLE,
                     "%s: the answer is not an XML-RPC response: %s", c->url,
                     env->fault_string);
        return NULL;
    }
    if (fault_string != NULL) {
        xmlrpc_env_set_fault(env, fault_code, fault_string);
        free((char *)fault_string);
        return NULL;
    }
    return result;
}

xmlrpc_value *vn_rpc_call(struct vn_rpc_client *c, xmlrpc_env *env,
                          const char *method, xmlrpc_value *params)
{
    xmlrpc_value *empty = NULL, *result = NULL;
    xmlrpc_mem_block *req = NULL;
    struct response resp = {0};

    if (params == NULL)
        params = empty = xmlrpc_array_new(env);
    if (!env->fault_occurred)
        req = xmlrpc_mem_block_new(env, 0);
    if (!env->fault_occurred)
        xmlrpc_serialize_call2(env, req, method, params, xmlrpc_dialect_i8);
    if (env->fault_occurred) {
        vn_fault_set(env, VN_FAULT_INTERNAL, "cannot encode a call to %s: %s",
                     method, env->fault_string);
        goto cleanup;
    }
    if (post(c, env, req, &resp) < 0)
        goto cleanup;
    result = parse_response(c, env, &resp);
cleanup:
    free(resp.data);
    if (req != NULL)
        xmlrpc_mem_block_free(req);
    if (empty != NULL)
        xmlrpc_DECREF(empty);
    return result;
}

xmlrpc_value *vn_rpc_callf(struct vn_rpc_client *c, xmlrpc_env *env,
                           const char *method, const char *format, ...)
{
    xmlrpc_value *params = NULL, *result = NULL;
    const char *tail = NULL;
    va_list ap;

    va_start(ap, format);
    xmlrpc_build_value_va(env, format, ap, &params, &tail);
    va_end(ap);
    if (env->fault_occurred) {
        vn_fault_set(env, VN_FAULT_INTERNAL,
                     "cannot build the arguments of %s from \"%s\": %s", method,
                     format, env->fault_string);
        return NULL;
    }
    if (*tail != '\0' || xmlrpc_value_type(params) != XMLRPC_TYPE_ARRAY) {
        vn_fault_set(env, VN_FAULT_INTERNAL,
                     "arguments of %s: format \"%s\" must make one array",
                     method, format);
    } else {
        result = vn_rpc_call(c, env, method, params);
    }
    xmlrpc_DECREF(params);
    return result;
}
