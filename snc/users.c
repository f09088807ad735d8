/* users: the users file and authentication against it. */
#include "users.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct user {
    char name[64];
    char token[128];
    enum vn_role role;
};

struct users {
    struct user *v;
    size_t n;
};

static int parse_line(char *line, struct user *u)
{
    char role[32];

    if (sscanf(line, "%63s %31s %127s", u->name, role, u->token) != 3)
        return -1;
    if (strcmp(role, "researcher") == 0)
        u->role = VN_ROLE_RESEARCHER;
    else if (strcmp(role, "operator") == 0)
        u->role = VN_ROLE_OPERATOR;
    else
        return -1;
    return 0;
}

struct users *users_load(const char *path, char **err)
{
    struct users *u = calloc(1, sizeof(*u));
    FILE *f = fopen(path, "r");
    char line[512];
    size_t cap = 0;
    int lineno = 0;

    if (u == NULL || f == NULL) {
        if (asprintf(err, "%s: %s", path, strerror(errno)) < 0)
            *err = NULL;
        goto fail;
    }
    while (fgets(line, sizeof(line), f) != NULL) {
        char *p = line + strspn(line, " \t");
        lineno++;
        if (*p == '#' || *p == '\n' || *p == '\0')
            continue;
        if (u->n == cap) {
            size_t nc = cap ? cap * 2 : 8;
            struct user *nv = realloc(u->v, nc * sizeof(*nv));
            if (nv == NULL)
                goto fail;
            u->v = nv;
            cap = nc;
        }
        if (parse_line(p, &u->v[u->n]) < 0) {
            if (asprintf(err, "%s:%d: expected 'name researcher|operator "
                              "token-or-dash'", path, lineno) < 0)
                *err = NULL;
            goto fail;
        }
        u->n++;
    }
    fclose(f);
    return u;
fail:
    if (f != NULL)
        fclose(f);
    users_free(u);
    return NULL;
}

void users_free(struct users *u)
{
    if (u == NULL)
        return;
    explicit_bzero(u->v, u->n * sizeof(*u->v));
    free(u->v);
    free(u);
}

/* Compares in time independent of where the strings differ. */
static int token_equal(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    unsigned char d = (unsigned char)(la != lb);

    for (size_t i = 0; i < la && i < lb; i++)
        d |= (unsigned char)(a[i] ^ b[i]);
    return d == 0;
}

int users_auth(void *ctx, const char *cert_cn, const char *token,
               struct vn_rpc_caller *caller)
{
    struct users *u = ctx;

    for (size_t i = 0; i < u->n; i++) {
        const struct user *x = &u->v[i];
        bool ok = cert_cn != NULL
                      ? strcmp(x->name, cert_cn) == 0
                      : token != NULL && strcmp(x->token, "-") != 0 &&
                            token_equal(x->token, token);
        if (ok) {
            caller->user = x->name;
            caller->role = x->role;
            caller->via = cert_cn != NULL ? "cert" : "token";
            return 0;
        }
    }
    return -1;
}
