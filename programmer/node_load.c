/* node_load: modules that slice developers load into running fast-path
 * slivers (sliver.load / sliver.load_file), and their counters
 * (sliver.stats). See node.h for the sequence; docs/modules/README.md for
 * the developer's side. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fp_ctl.h"
#include "log.h"
#include "node.h"
#include "proc.h"

#define CHECK_MSG_MAX 1200 /* bytes of the check's output in a fault */
#define STATS_TIMEOUT_MS 2000
#define CHECK_ARGS (12 + 2 * SLIVER_MAX_PORTS + 2 * SLIVER_MAX_PARAMS)

const char *node_module_name(const struct sliver *v)
{
    return v->module_file != NULL ? v->module_name : v->spec.module;
}

void node_params_free(char **kv, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(kv[i]);
    free(kv);
}

/* Splits "k=v k=v" into *kv / *n. */
static int split_params(const char *s, char ***kv, size_t *n)
{
    size_t cap = 1;

    for (const char *p = s; *p != '\0'; p++)
        cap += *p == ' ';
    *n = 0;
    if ((*kv = calloc(cap, sizeof(**kv))) == NULL)
        return -1;
    for (const char *p = s; *p != '\0';) {
        size_t len = strcspn(p, " ");
        if (len > 0 && ((*kv)[(*n)++] = strndup(p, len)) == NULL) {
            node_params_free(*kv, *n);
            return -1;
        }
        p += len;
        p += *p == ' ';
    }
    return 0;
}

int node_params(const struct sliver *v, char ***kv, size_t *n)
{
    const struct sliver_spec *s = &v->spec;

    if (v->module_params != NULL)
        return split_params(v->module_params, kv, n);
    *n = 0;
    if ((*kv = calloc(s->n_params + 1, sizeof(**kv))) == NULL)
        return -1;
    for (size_t i = 0; i < s->n_params; i++) {
        if (asprintf(&(*kv)[i], "%s=%s", s->params[i].key, s->params[i].value) <
            0) {
            node_params_free(*kv, *n);
            return -1;
        }
        (*n)++;
    }
    return 0;
}

/* NULL if every "key=value" of 'kv' has a key of 1..32 of [a-z0-9_] and a
 * printable value of at most SLIVER_PARAM_MAX bytes; else a message. */
static char *params_check(char **kv, size_t n)
{
    char *msg = NULL;

    if (n > SLIVER_MAX_PARAMS) {
        if (asprintf(&msg, "params: %zu of them; at most %d", n,
                     SLIVER_MAX_PARAMS) < 0)
            msg = NULL;
        return msg != NULL ? msg : strdup("too many params");
    }
    for (size_t i = 0; i < n; i++) {
        const char *eq = strchr(kv[i], '=');
        size_t klen = eq != NULL ? (size_t)(eq - kv[i]) : 0;
        bool ok = klen >= 1 && klen <= SLIVER_NAME_MAX &&
                  strlen(eq + 1) <= SLIVER_PARAM_MAX;
        for (size_t k = 0; ok && k < klen; k++)
            ok = (kv[i][k] >= 'a' && kv[i][k] <= 'z') ||
                 (kv[i][k] >= '0' && kv[i][k] <= '9') || kv[i][k] == '_';
        for (const char *c = eq != NULL ? eq + 1 : ""; ok && *c; c++)
            ok = *c >= 0x21 && *c <= 0x7e;
        if (!ok) {
            if (asprintf(&msg,
                         "params: '%.40s' is not KEY=VALUE (KEY 1..%d of "
                         "a-z 0-9 _, VALUE up to %d printable characters; "
                         "params are separated by spaces)",
                         kv[i], SLIVER_NAME_MAX, SLIVER_PARAM_MAX) < 0)
                msg = NULL;
            return msg != NULL ? msg : strdup("bad params");
        }
    }
    return NULL;
}

void node_module_forget(struct sliver *v)
{
    if (v->module_file != NULL && unlink(v->module_file) < 0 && errno != ENOENT)
        log_warn("cannot remove %s: %s", v->module_file, strerror(errno));
    free(v->module_file);
    v->module_file = NULL;
}

/* The fast-path sliver slice/id, or NULL with 'e' filled. */
static struct sliver *find_fastpath(struct node *n, const char *slice,
                                    const char *id, const char *what,
                                    struct node_err *e)
{
    struct sliver *v = node_find(n, slice, id);

    if (v == NULL) {
        node_err_set(e, VN_FAULT_NOT_FOUND,
                     "no sliver %s/%s here; sliver.list shows them", slice, id);
        return NULL;
    }
    if (v->spec.type != SLIVER_FASTPATH) {
        node_err_set(e, VN_FAULT_INVALID_ARG,
                     "sliver %s/%s is a container: only fast-path slivers "
                     "%s modules",
                     slice, id, what);
        return NULL;
    }
    return v;
}

/* Writes 'len' bytes to a new file 'path' (0600), atomically. */
static int write_file(const char *path, const void *data, size_t len,
                      char **err)
{
    char tmp[600];
    const char *p = data;
    int fd;

    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        goto fail;
    for (size_t done = 0; done < len;) {
        ssize_t w = write(fd, p + done, len - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0) {
            close(fd);
            goto fail;
        }
        done += (size_t)w;
    }
    if (close(fd) < 0 || rename(tmp, path) < 0)
        goto fail;
    return 0;
fail:
    if (asprintf(err, "cannot store the module as %s: %s", path,
                 strerror(errno)) < 0)
        *err = NULL;
    unlink(tmp);
    return -1;
}

/* Squeezes the check's output into one line for a fault message. */
static void one_line(char *s)
{
    size_t n = strlen(s);

    while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == ' '))
        s[--n] = '\0';
    for (char *p = s; *p != '\0'; p++)
        if (*p == '\n')
            *p = ';';
    if (n > CHECK_MSG_MAX)
        strcpy(s + CHECK_MSG_MAX - 3, "...");
}

/* Runs `fastpath --check` on module file 'path' for sliver 'v' with the
 * parameters 'kv'. Returns 0 and the module's name in 'name', or -1 with
 * *err set. */
static int check_module(struct node *n, const struct sliver *v,
                        const char *path, char **kv, size_t n_kv, char *name,
                        size_t name_len, char **err)
{
    char *argv[CHECK_ARGS + 1], *out = NULL, *ok, why[96];
    int a = 0, status;

    argv[a++] = (char *)n->cfg.fastpath;
    argv[a++] = "--check";
    argv[a++] = "--user";
    argv[a++] = (char *)n->cfg.fastpath_user;
    argv[a++] = "--log-level";
    argv[a++] = "warn";
    argv[a++] = "--module-file";
    argv[a++] = (char *)path;
    for (size_t i = 0; i < v->spec.n_ports; i++) {
        argv[a++] = "--port";
        argv[a++] = v->spec.ports[i].ifname;
    }
    for (size_t i = 0; i < n_kv && i < SLIVER_MAX_PARAMS; i++) {
        argv[a++] = "--param";
        argv[a++] = kv[i];
    }
    argv[a] = NULL;
    status = proc_run_timeout(argv, NODE_CHECK_TIMEOUT_MS, &out);
    ok = out != NULL ? strstr(out, "ok ") : NULL;
    if (status == 0 && ok != NULL && (ok == out || ok[-1] == '\n')) {
        size_t k = strcspn(ok + 3, "\n");
        snprintf(name, name_len, "%.*s", (int)k, ok + 3);
        free(out);
        return 0;
    }
    if (out != NULL)
        one_line(out);
    if (status > 128)
        snprintf(why, sizeof(why), "killed by signal %d, %s", status - 128,
                 strsignal(status - 128));
    else
        snprintf(why, sizeof(why), "%s",
                 status < 0 ? "it did not run to the end" : "refused");
    if (asprintf(err, "the module failed its check (%s): %s", why,
                 out != NULL && out[0] != '\0' ? out : "no message") < 0)
        *err = NULL;
    free(out);
    return -1;
}

/* Hands module file 'path' to the running fast path of 'v'. Returns 0, or
 * -1 with 'e' filled. */
static int swap_in(struct sliver *v, const char *path, char **kv, size_t n_kv,
                   struct node_err *e)
{
    char reply[1024], *req = NULL;
    const char *why;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    size_t len = sizeof("load");
    long r;

    for (size_t i = 0; i < n_kv; i++)
        len += strlen(kv[i]) + 1;
    if (fd < 0 || len > FP_CTL_MAX || (req = malloc(len)) == NULL) {
        node_err_set(e, VN_FAULT_INTERNAL, "cannot open %s: %s", path,
                     fd < 0 ? strerror(errno) : "params too long");
        if (fd >= 0)
            close(fd);
        return -1;
    }
    strcpy(req, "load");
    for (size_t i = 0; i < n_kv; i++) {
        strcat(req, "\n");
        strcat(req, kv[i]);
    }
    r = fp_ctl_call(v->ctl_fd, req, fd, reply, sizeof(reply),
                    NODE_SWAP_TIMEOUT_MS, &why);
    free(req);
    close(fd);
    if (r < 0) {
        node_err_set(e, VN_FAULT_INTERNAL,
                     "sliver %s/%s: %s; the previous module stays "
                     "configured (sliver.list shows the state, the sliver's "
                     "log why)",
                     v->spec.slice, v->spec.id, why);
        return -1;
    }
    if (strncmp(reply, "ok ", 3) != 0) {
        node_err_set(e, VN_FAULT_INVALID_ARG,
                     "sliver %s/%s: the fast path refused the module: %s; "
                     "the previous module keeps running",
                     v->spec.slice, v->spec.id,
                     strncmp(reply, "error ", 6) == 0 ? reply + 6 : reply);
        return -1;
    }
    return 0;
}

struct sliver *node_load(struct node *n, const char *slice, const char *id,
                         const void *so, size_t len, const char *params,
                         struct node_err *e)
{
    struct sliver *v = find_fastpath(n, slice, id, "load", e);
    char path[512], name[sizeof(v->module_name)], *err = NULL, **kv = NULL;
    char *kept_params = NULL;
    size_t n_kv = 0;
    bool running;

    if (v == NULL)
        return NULL;
    if (len == 0 || len > NODE_MODULE_MAX_BYTES) {
        node_err_set(e, VN_FAULT_INVALID_ARG,
                     "the module is %zu bytes; a shared object of 1..%d "
                     "bytes is expected",
                     len, NODE_MODULE_MAX_BYTES);
        return NULL;
    }
    if ((params != NULL ? split_params(params, &kv, &n_kv)
                        : node_params(v, &kv, &n_kv)) < 0 ||
        (params != NULL && (kept_params = strdup(params)) == NULL)) {
        node_err_set(e, VN_FAULT_INTERNAL, "out of memory");
        goto fail;
    }
    if ((err = params_check(kv, n_kv)) != NULL) {
        node_err_take(e, VN_FAULT_INVALID_ARG, err);
        goto fail;
    }
    if (snprintf(path, sizeof(path), "%s/%s.module-%u.so", n->cfg.state_dir,
                 v->key, v->module_gen + 1) >= (int)sizeof(path)) {
        node_err_set(e, VN_FAULT_INTERNAL, "state dir path too long");
        goto fail;
    }
    v->module_gen++;
    if (write_file(path, so, len, &err) < 0 ||
        check_module(n, v, path, kv, n_kv, name, sizeof(name), &err) < 0) {
        log_warn("sliver %s/%s: module refused: %s", slice, id,
                 err ? err : "?");
        node_err_take(e, VN_FAULT_INVALID_ARG, err);
        unlink(path);
        goto fail;
    }
    running = v->state == SLIVER_RUNNING && v->pid > 0 && v->ctl_fd >= 0;
    if (running && swap_in(v, path, kv, n_kv, e) < 0) {
        log_warn("sliver %s/%s: %s", slice, id, e->msg ? e->msg : "");
        unlink(path);
        goto fail;
    }
    node_params_free(kv, n_kv);
    node_module_forget(v); /* the previous loaded module's file */
    if ((v->module_file = strdup(path)) == NULL) {
        node_err_set(e, VN_FAULT_INTERNAL, "out of memory");
        unlink(path);
        free(kept_params);
        return NULL;
    }
    if (params != NULL) {
        free(v->module_params);
        v->module_params = kept_params;
    }
    snprintf(v->module_name, sizeof(v->module_name), "%s", name);
    log_info("sliver %s/%s: module %s loaded (%zu bytes)%s", slice, id, name,
             len, running ? " and swapped in" : "");
    if (!running && v->state == SLIVER_FAILED) {
        /* A sliver left stopped (say, by a crashing module) starts again. */
        v->rs.quick_failures = 0;
        if (node_start_process(n, v, &err) < 0) {
            node_err_take(e, VN_FAULT_INTERNAL, err);
            return NULL;
        }
        v->rs.restarts++;
    }
    return v;
fail:
    node_params_free(kv, n_kv);
    free(kept_params);
    return NULL;
}

struct sliver *node_load_file(struct node *n, const char *slice, const char *id,
                              const char *path, const char *params,
                              struct node_err *e)
{
    struct sliver *v = NULL;
    struct stat st;
    char *buf = NULL;
    size_t got = 0;
    int fd;

    if (find_fastpath(n, slice, id, "load", e) == NULL)
        return NULL;
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0 || fstat(fd, &st) < 0) {
        node_err_set(e, VN_FAULT_INVALID_ARG,
                     "cannot read module file %s: %s (a path on the VNode, "
                     "readable by programmerd)",
                     path, strerror(errno));
        goto cleanup;
    }
    if (!S_ISREG(st.st_mode) || st.st_size <= 0 ||
        st.st_size > NODE_MODULE_MAX_BYTES) {
        node_err_set(e, VN_FAULT_INVALID_ARG,
                     "module file %s is not a regular file of 1..%d bytes",
                     path, NODE_MODULE_MAX_BYTES);
        goto cleanup;
    }
    if ((buf = malloc((size_t)st.st_size)) == NULL) {
        node_err_set(e, VN_FAULT_INTERNAL, "out of memory");
        goto cleanup;
    }
    while (got < (size_t)st.st_size) {
        ssize_t r = read(fd, buf + got, (size_t)st.st_size - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    if (got != (size_t)st.st_size) {
        node_err_set(e, VN_FAULT_INVALID_ARG, "cannot read module file %s",
                     path);
        goto cleanup;
    }
    v = node_load(n, slice, id, buf, got, params, e);
cleanup:
    if (fd >= 0)
        close(fd);
    free(buf);
    return v;
}

int node_stats(struct node *n, const char *slice, const char *id, char **text,
               struct node_err *e)
{
    struct sliver *v = find_fastpath(n, slice, id, "have", e);
    char *reply;
    const char *why;
    long r;

    *text = NULL;
    if (v == NULL)
        return -1;
    if (v->state != SLIVER_RUNNING || v->ctl_fd < 0) {
        node_err_set(e, VN_FAULT_INVALID_ARG,
                     "sliver %s/%s is %s: no counters to read", slice, id,
                     sliver_state_name(v->state));
        return -1;
    }
    if ((reply = malloc(FP_CTL_MAX)) == NULL) {
        node_err_set(e, VN_FAULT_INTERNAL, "out of memory");
        return -1;
    }
    r = fp_ctl_call(v->ctl_fd, "stats", -1, reply, FP_CTL_MAX, STATS_TIMEOUT_MS,
                    &why);
    if (r < 0 || strncmp(reply, "ok\n", 3) != 0) {
        node_err_set(e, VN_FAULT_INTERNAL, "sliver %s/%s: %s", slice, id,
                     r < 0 ? why : reply);
        free(reply);
        return -1;
    }
    memmove(reply, reply + 3, (size_t)r - 2);
    *text = reply;
    return 0;
}
