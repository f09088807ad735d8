/* users: who may use sncd. A plain file, one user per line:
 *
 *   # name      role        token
 *   alice       researcher  3f1c9a...
 *   ops         operator    -
 *
 * A client certificate's CN names the user; a bearer token (for the CLI on
 * the local socket) must match the user's token ("-" = certificate only). */
#ifndef SNC_USERS_H
#define SNC_USERS_H

#include "rpc.h"

struct users;

/* Returns NULL with *err set (caller frees) on an unreadable or malformed
 * file; the message names the line. */
struct users *users_load(const char *path, char **err);
void users_free(struct users *u);

/* vn_rpc_auth_fn over a struct users. */
int users_auth(void *users, const char *cert_cn, const char *token,
               struct vn_rpc_caller *caller);

#endif
