/* rpc_http: the RPC server's HTTP transport on libevent's evhttp, in the
 * daemon's own event loop. One evhttp per listening URL: unix:/path,
 * http://host:port or https://host:port (OpenSSL bufferevents). Each request
 * is checked at the HTTP level (POST, path, content type, hard size cap),
 * its caller identified (client certificate CN, else bearer token, else
 * anonymous), then handed to vn_rpc_server_process(). */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>
#include <openssl/evp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"
#include "rpc.h"
#include "rpc_impl.h"
#include "tls.h"

/* Bodies up to this many times the server's limit are read and answered
 * with VN_FAULT_TOO_LARGE; bigger ones are cut by evhttp with 413. */
#define HTTP_BODY_CAP_FACTOR 4
#define HTTP_MAX_HEADERS_BYTES (64 * 1024)
#define HTTP_TIMEOUT_S 30
#define HTTP_AUTH_HEADER_MAX 4096

struct vn_rpc_listener {
    struct vn_rpc_listener *next;
    struct vn_rpc_server *srv;
    struct evhttp *http;
    SSL_CTX *ssl_ctx; /* https only */
    char *url;        /* for messages */
    char *unix_path;  /* unix only; removed when freed */
    int port;         /* tcp only; -1 for unix */
};

/* ---- identity -------------------------------------------------------- */

/* Decodes base64 'in' (len bytes) into a new NUL-terminated string, or
 * NULL if it is not valid base64 or decodes to a string holding a NUL. */
static char *base64_decode(const char *in, size_t len)
{
    unsigned char *out = NULL;
    int n;

    if (len == 0 || len % 4 != 0 || len > HTTP_AUTH_HEADER_MAX)
        return NULL;
    out = malloc(len / 4 * 3 + 1);
    if (out == NULL)
        return NULL;
    n = EVP_DecodeBlock(out, (const unsigned char *)in, (int)len);
    if (n < 0) {
        free(out);
        return NULL;
    }
    /* EVP_DecodeBlock counts the padding as zero bytes. */
    n -= (in[len - 1] == '=') + (in[len - 2] == '=');
    out[n] = '\0';
    if (strlen((char *)out) != (size_t)n) {
        free(out);
        return NULL;
    }
    return (char *)out;
}

/* The token of an "Authorization: Bearer T" header, or the password of an
 * "Authorization: Basic" one. Returns 0 with *token NULL when there is no
 * header, 0 with a malloc'd *token, or -1 with a fault in 'env'. */
static int auth_token(struct evhttp_request *req, xmlrpc_env *env, char **token)
{
    const char *h = evhttp_find_header(evhttp_request_get_input_headers(req),
                                       "Authorization");
    size_t len;

    *token = NULL;
    if (h == NULL)
        return 0;
    if (strncasecmp(h, "Bearer ", 7) == 0) {
        h += 7;
        h += strspn(h, " ");
        len = strcspn(h, " \t");
        *token = len > 0 ? strndup(h, len) : NULL;
    } else if (strncasecmp(h, "Basic ", 6) == 0) {
        h += 6;
        h += strspn(h, " ");
        char *userpass = base64_decode(h, strcspn(h, " \t"));
        char *colon = userpass != NULL ? strchr(userpass, ':') : NULL;
        if (colon != NULL && colon[1] != '\0')
            *token = strdup(colon + 1);
        free(userpass);
    } else {
        vn_fault_set(env, VN_FAULT_UNAUTHENTICATED,
                     "unsupported Authorization scheme; send "
                     "\"Authorization: Bearer TOKEN\"");
        return -1;
    }
    if (*token == NULL) {
        vn_fault_set(env, VN_FAULT_UNAUTHENTICATED,
                     "empty or malformed Authorization header");
        return -1;
    }
    return 0;
}

static SSL *request_ssl(struct evhttp_request *req)
{
    struct evhttp_connection *conn = evhttp_request_get_connection(req);
    struct bufferevent *bev =
        conn != NULL ? evhttp_connection_get_bufferevent(conn) : NULL;

    return bev != NULL ? bufferevent_openssl_get_ssl(bev) : NULL;
}

/* Fills 'caller' from the verified client certificate, else from the
 * Authorization header, else leaves it anonymous. Credentials the auth
 * callback does not know set VN_FAULT_UNAUTHENTICATED on 'env'. '*cn' and
 * '*token' receive malloc'd strings the caller frees after the request. */
static void identify(const struct vn_rpc_listener *l,
                     struct evhttp_request *req, xmlrpc_env *env,
                     struct vn_rpc_caller *caller, char **cn, char **token)
{
    const struct vn_rpc_server *srv = l->srv;

    *caller = (struct vn_rpc_caller){.via = "anonymous"};
    *cn = l->ssl_ctx != NULL ? vn_tls_peer_cn(request_ssl(req)) : NULL;
    if (*cn == NULL && auth_token(req, env, token) < 0)
        return;
    if (srv->auth == NULL)
        return; /* no users: everybody is anonymous */
    if (*cn != NULL) {
        if (srv->auth(srv->auth_ctx, *cn, NULL, caller) < 0) {
            *caller = (struct vn_rpc_caller){.via = "anonymous"};
            vn_fault_set(env, VN_FAULT_UNAUTHENTICATED,
                         "certificate CN '%s' is not a known user", *cn);
            return;
        }
        caller->via = "cert";
    } else if (*token != NULL) {
        if (srv->auth(srv->auth_ctx, NULL, *token, caller) < 0) {
            *caller = (struct vn_rpc_caller){.via = "anonymous"};
            vn_fault_set(env, VN_FAULT_UNAUTHENTICATED,
                         "unknown or expired token");
            return;
        }
        caller->via = "token";
    }
}

/* ---- requests -------------------------------------------------------- */

static void send_plain_error(struct evhttp_request *req, int code,
                             const char *reason)
{
    evhttp_send_error(req, code, reason);
}

/* Checks method, path and content type; on failure answers and returns
 * false. */
static bool http_acceptable(const struct vn_rpc_listener *l,
                            struct evhttp_request *req)
{
    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
    const char *path = uri != NULL ? evhttp_uri_get_path(uri) : NULL;
    const char *type = evhttp_find_header(evhttp_request_get_input_headers(req),
                                          "Content-Type");

    if (evhttp_request_get_command(req) != EVHTTP_REQ_POST) {
        log_warn_rl("%s: refused a non-POST request", l->url);
        evhttp_add_header(evhttp_request_get_output_headers(req), "Allow",
                          "POST");
        send_plain_error(req, 405, "XML-RPC needs POST");
        return false;
    }
    if (path == NULL || (strcmp(path, "/") != 0 && strcmp(path, "/RPC2") != 0 &&
                         strcmp(path, "") != 0)) {
        log_warn_rl("%s: refused a request for another path", l->url);
        send_plain_error(req, HTTP_NOTFOUND, "XML-RPC is served at /RPC2");
        return false;
    }
    if (type != NULL && strcasestr(type, "xml") == NULL) {
        log_warn_rl("%s: refused a request with a non-XML Content-Type",
                    l->url);
        send_plain_error(req, 415, "Content-Type must be text/xml");
        return false;
    }
    return true;
}

/* Takes ownership of 'resp'. */
static void send_xml(struct evhttp_request *req, xmlrpc_mem_block *resp)
{
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
                      "text/xml");
    evbuffer_add(evhttp_request_get_output_buffer(req),
                 xmlrpc_mem_block_contents(resp), xmlrpc_mem_block_size(resp));
    xmlrpc_mem_block_free(resp);
    evhttp_send_reply(req, HTTP_OK, "OK", NULL);
}

static void on_request(struct evhttp_request *req, void *arg)
{
    struct vn_rpc_listener *l = arg;
    struct evbuffer *in = evhttp_request_get_input_buffer(req);
    struct vn_rpc_caller caller;
    char *cn = NULL, *token = NULL;
    xmlrpc_mem_block *resp = NULL;
    xmlrpc_env env;
    size_t len;

    if (!http_acceptable(l, req))
        return;
    xmlrpc_env_init(&env);
    identify(l, req, &env, &caller, &cn, &token);
    if (env.fault_occurred) {
        log_warn_rl("%s: refused credentials: %s", l->url, env.fault_string);
        resp = rpc_fault_response(&env);
    } else {
        len = evbuffer_get_length(in);
        const char *body = (const char *)evbuffer_pullup(in, -1);
        resp = vn_rpc_server_process(l->srv, body, body != NULL ? len : 0,
                                     &caller);
    }
    send_xml(req, resp);
    if (token != NULL)
        explicit_bzero(token, strlen(token));
    free(token);
    free(cn);
    xmlrpc_env_clean(&env);
}

/* evhttp's bevcb for https: a server-side SSL bufferevent per connection. */
static struct bufferevent *new_ssl_bev(struct event_base *base, void *arg)
{
    struct vn_rpc_listener *l = arg;
    SSL *ssl = SSL_new(l->ssl_ctx);

    if (ssl == NULL) {
        vn_tls_log_errors("SSL_new");
        return NULL;
    }
    /* Takes ownership of 'ssl' (BEV_OPT_CLOSE_ON_FREE frees it too). */
    return bufferevent_openssl_socket_new(
        base, -1, ssl, BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
}

/* ---- listening ------------------------------------------------------- */

/* Removes a socket file left by an earlier run; refuses other files. */
static int remove_stale_socket(const char *path)
{
    struct stat st;

    if (lstat(path, &st) < 0)
        return errno == ENOENT ? 0 : -1;
    if (!S_ISSOCK(st.st_mode)) {
        log_err("%s exists and is not a socket; not replacing it", path);
        return -1;
    }
    if (unlink(path) < 0) {
        log_err("cannot remove stale socket %s: %m", path);
        return -1;
    }
    return 0;
}

static int listen_unix(struct vn_rpc_listener *l, struct event_base *base,
                       const char *path)
{
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    struct evconnlistener *lev = NULL;
    int fd = -1;

    if (path[0] == '\0' || strlen(path) >= sizeof(sun.sun_path)) {
        log_err("unix socket path '%s' is empty or too long", path);
        return -1;
    }
    memcpy(sun.sun_path, path, strlen(path) + 1);
    if (remove_stale_socket(path) < 0)
        return -1;
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    /* Linux gives the socket file the socket inode's mode at bind(), so
     * the file is never reachable by others, not even briefly. */
    if (fd < 0 || fchmod(fd, 0600) < 0 ||
        bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
        log_err("cannot bind unix socket %s: %m", path);
        goto fail;
    }
    l->unix_path = strdup(path);
    if (l->unix_path == NULL || chmod(path, 0600) < 0)
        goto fail;
    lev = evconnlistener_new(base, NULL, NULL,
                             LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 128,
                             fd);
    if (lev == NULL) {
        log_err("cannot listen on unix socket %s: %m", path);
        goto fail;
    }
    fd = -1; /* owned by lev */
    if (evhttp_bind_listener(l->http, lev) == NULL) {
        evconnlistener_free(lev);
        goto fail;
    }
    return 0;
fail:
    if (fd >= 0)
        close(fd);
    return -1;
}

/* Splits "host:port[/path]" or "[v6]:port[/path]" into a malloc'd host and
 * a port. Returns -1 if malformed. */
static int split_host_port(const char *s, char **host, int *port)
{
    const char *end, *colon;
    char *num_end;
    long p;

    if (s[0] == '[') {
        end = strchr(s, ']');
        if (end == NULL || end[1] != ':')
            return -1;
        *host = strndup(s + 1, (size_t)(end - s - 1));
        colon = end + 1;
    } else {
        colon = strchr(s, ':');
        if (colon == NULL || colon == s)
            return -1;
        *host = strndup(s, (size_t)(colon - s));
    }
    errno = 0;
    p = strtol(colon + 1, &num_end, 10);
    if (*host == NULL || num_end == colon + 1 || errno != 0 || p < 0 ||
        p > 65535 || (*num_end != '\0' && *num_end != '/')) {
        free(*host);
        *host = NULL;
        return -1;
    }
    *port = (int)p;
    return 0;
}

/* The port a listening socket is bound to, or -1. */
static int bound_port(evutil_socket_t fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);

    if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
        return -1;
    if (ss.ss_family == AF_INET)
        return ntohs(((struct sockaddr_in *)&ss)->sin_port);
    if (ss.ss_family == AF_INET6)
        return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    return -1;
}

/* Names the listener by the port it got, for messages: "http://h:0" ->
 * "http://h:41234". */
static void rename_with_port(struct vn_rpc_listener *l, const char *scheme,
                             const char *host)
{
    char *url = NULL;
    bool v6 = strchr(host, ':') != NULL;

    if (asprintf(&url, "%s://%s%s%s:%d", scheme, v6 ? "[" : "", host,
                 v6 ? "]" : "", l->port) < 0)
        return;
    free(l->url);
    l->url = url;
}

/* Binds host:port and hands the socket to evhttp. The address is resolved
 * here without AI_ADDRCONFIG (which evhttp_bind_socket uses): a node
 * namespace with only lo and IPv6 link-local addresses would otherwise
 * refuse to listen on 127.0.0.1. */
static int listen_tcp(struct vn_rpc_listener *l, struct event_base *base,
                      const char *scheme, const char *hostport)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *ai = NULL;
    struct evconnlistener *lev = NULL;
    char *host = NULL, port_s[8];
    int port = 0, gai;

    if (split_host_port(hostport, &host, &port) < 0) {
        log_err("%s: expected %s://host:port", l->url, scheme);
        return -1;
    }
    snprintf(port_s, sizeof(port_s), "%d", port);
    gai = getaddrinfo(host, port_s, &hints, &ai);
    if (gai != 0) {
        log_err("cannot listen on %s: %s", l->url, gai_strerror(gai));
        goto cleanup;
    }
    lev = evconnlistener_new_bind(base, NULL, NULL,
                                  LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC |
                                      LEV_OPT_REUSEABLE,
                                  128, ai->ai_addr, (int)ai->ai_addrlen);
    if (lev == NULL) {
        log_err("cannot listen on %s: %s", l->url, strerror(errno));
        goto cleanup;
    }
    if (evhttp_bind_listener(l->http, lev) == NULL) {
        log_err("cannot serve HTTP on %s", l->url);
        evconnlistener_free(lev);
        lev = NULL;
        goto cleanup;
    }
    l->port = bound_port(evconnlistener_get_fd(lev));
    rename_with_port(l, scheme, host);
cleanup:
    if (ai != NULL)
        freeaddrinfo(ai);
    free(host);
    return lev != NULL ? 0 : -1;
}

static void listener_free(struct vn_rpc_listener *l)
{
    if (l == NULL)
        return;
    if (l->http != NULL)
        evhttp_free(l->http); /* closes its sockets and connections */
    SSL_CTX_free(l->ssl_ctx);
    if (l->unix_path != NULL && unlink(l->unix_path) < 0 && errno != ENOENT)
        log_warn("cannot remove %s: %m", l->unix_path);
    free(l->unix_path);
    free(l->url);
    free(l);
}

static struct evhttp *new_http(struct vn_rpc_listener *l,
                               struct event_base *base)
{
    struct evhttp *http = evhttp_new(base);
    size_t limit = l->srv->max_body_bytes;
    size_t cap = limit > (size_t)INT32_MAX / HTTP_BODY_CAP_FACTOR
                     ? (size_t)INT32_MAX
                     : limit * HTTP_BODY_CAP_FACTOR;

    if (http == NULL)
        return NULL;
    evhttp_set_max_body_size(http, (ev_ssize_t)cap);
    evhttp_set_max_headers_size(http, HTTP_MAX_HEADERS_BYTES);
    evhttp_set_timeout(http, HTTP_TIMEOUT_S);
    /* Let every method reach on_request, which answers 405 itself. */
    evhttp_set_allowed_methods(
        http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD |
                  EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE | EVHTTP_REQ_OPTIONS |
                  EVHTTP_REQ_TRACE | EVHTTP_REQ_CONNECT | EVHTTP_REQ_PATCH);
    evhttp_set_gencb(http, on_request, l);
    return http;
}

int vn_rpc_server_listen(struct vn_rpc_server *srv, const char *url,
                         const struct vn_tls_config *tls)
{
    struct vn_rpc_listener *l = NULL, **tail;
    int rc = -1;

    if (srv == NULL || url == NULL || srv->base == NULL) {
        log_err("no server, URL or event loop to listen with");
        return -1;
    }
    l = calloc(1, sizeof(*l));
    if (l == NULL || (l->url = strdup(url)) == NULL)
        goto cleanup;
    l->srv = srv;
    l->port = -1;
    l->http = new_http(l, srv->base);
    if (l->http == NULL)
        goto cleanup;
    if (strncmp(url, "unix:", 5) == 0) {
        rc = listen_unix(l, srv->base, url + 5);
    } else if (strncmp(url, "http://", 7) == 0) {
        rc = listen_tcp(l, srv->base, "http", url + 7);
    } else if (strncmp(url, "https://", 8) == 0) {
        l->ssl_ctx = vn_tls_server_ctx_new(tls);
        if (l->ssl_ctx != NULL) {
            evhttp_set_bevcb(l->http, new_ssl_bev, l);
            rc = listen_tcp(l, srv->base, "https", url + 8);
        }
    } else {
        log_err("cannot listen on '%s': use unix:/path, http://host:port "
                "or https://host:port",
                url);
    }
cleanup:
    if (rc < 0) {
        listener_free(l);
        return -1;
    }
    for (tail = &srv->listeners; *tail != NULL; tail = &(*tail)->next)
        ;
    *tail = l;
    log_info("listening on %s", l->url);
    return 0;
}

int vn_rpc_server_port(const struct vn_rpc_server *srv, int index)
{
    const struct vn_rpc_listener *l = srv != NULL ? srv->listeners : NULL;

    for (; l != NULL && index > 0; index--)
        l = l->next;
    return l != NULL && index == 0 ? l->port : -1;
}

void rpc_http_free_listeners(struct vn_rpc_server *srv)
{
    while (srv->listeners != NULL) {
        struct vn_rpc_listener *l = srv->listeners;
        srv->listeners = l->next;
        listener_free(l);
    }
}
