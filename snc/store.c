/* store: SQLite persistence for sncd. */
#include "store.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"

struct store {
    sqlite3 *db;
};

static const char *const SCHEMA =
    "CREATE TABLE IF NOT EXISTS slices ("
    "  name TEXT PRIMARY KEY, owner TEXT NOT NULL, state INTEGER NOT NULL,"
    "  spec TEXT NOT NULL, created INTEGER NOT NULL,"
    "  lease_end INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS slivers ("
    "  slice TEXT NOT NULL REFERENCES slices(name) ON DELETE CASCADE,"
    "  name TEXT NOT NULL, seq INTEGER NOT NULL, kind TEXT NOT NULL,"
    "  id TEXT NOT NULL, host TEXT NOT NULL, detail TEXT NOT NULL,"
    "  state INTEGER NOT NULL, key INTEGER NOT NULL DEFAULT 0,"
    "  PRIMARY KEY (slice, name));"
    /* GRE keys: AUTOINCREMENT never hands out a key twice, so a late frame
     * of a deleted link can never reach a new one. */
    "CREATE TABLE IF NOT EXISTS link_keys ("
    "  key INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  slice TEXT NOT NULL REFERENCES slices(name) ON DELETE CASCADE,"
    "  link TEXT NOT NULL, UNIQUE (slice, link));"
    "CREATE TABLE IF NOT EXISTS reservations ("
    "  slice TEXT NOT NULL REFERENCES slices(name) ON DELETE CASCADE,"
    "  key TEXT NOT NULL, amount INTEGER NOT NULL,"
    "  PRIMARY KEY (slice, key));"
    "CREATE INDEX IF NOT EXISTS slices_owner ON slices(owner);"
    "PRAGMA user_version = 1;";

const char *slice_state_name(enum slice_state s)
{
    static const char *const names[] = {"creating", "ready", "deleting"};
    return (unsigned)s < 3 ? names[s] : "unknown";
}

const char *sliver_state_name(enum sliver_state s)
{
    static const char *const names[] = {"planned", "creating", "ready",
                                        "deleting", "failed"};
    return (unsigned)s < 5 ? names[s] : "unknown";
}

static int exec(struct store *st, const char *sql)
{
    char *msg = NULL;

    if (sqlite3_exec(st->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        log_err("%s: %s", sql, msg ? msg : "?");
        sqlite3_free(msg);
        return -1;
    }
    return 0;
}

struct store *store_open(const char *path, int sync_full, char **err)
{
    struct store *st = calloc(1, sizeof(*st));

    if (st == NULL) {
        *err = strdup("out of memory");
        return NULL;
    }
    if (sqlite3_open(path, &st->db) != SQLITE_OK) {
        if (asprintf(err, "%s: %s", path, sqlite3_errmsg(st->db)) < 0)
            *err = NULL;
        goto fail;
    }
    sqlite3_busy_timeout(st->db, 5000);
    if (exec(st, "PRAGMA journal_mode=WAL; PRAGMA foreign_keys=ON;") < 0 ||
        exec(st, sync_full ? "PRAGMA synchronous=FULL;"
                           : "PRAGMA synchronous=NORMAL;") < 0 ||
        exec(st, SCHEMA) < 0) {
        if (asprintf(err, "%s: cannot initialise: %s", path,
                     sqlite3_errmsg(st->db)) < 0)
            *err = NULL;
        goto fail;
    }
    return st;
fail:
    store_close(st);
    return NULL;
}

void store_close(struct store *st)
{
    if (st == NULL)
        return;
    sqlite3_close(st->db);
    free(st);
}

static sqlite3_stmt *prepare(struct store *st, const char *sql)
{
    sqlite3_stmt *s = NULL;

    if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK) {
        log_err("%s: %s", sql, sqlite3_errmsg(st->db));
        return NULL;
    }
    return s;
}

/* Runs a prepared statement to completion and finalizes it. */
static int step_done(struct store *st, sqlite3_stmt *s)
{
    int rc;

    if (s == NULL)
        return -1;
    rc = sqlite3_step(s);
    sqlite3_finalize(s);
    if (rc != SQLITE_DONE) {
        log_err("%s", sqlite3_errmsg(st->db));
        return -1;
    }
    return 0;
}

/* The GRE key of (slice, link), allocated on first use. */
static int link_key(struct store *st, const char *slice, const char *link,
                    uint32_t *key)
{
    sqlite3_stmt *q = prepare(st, "INSERT OR IGNORE INTO link_keys (slice, "
                                  "link) VALUES (?,?)");
    int rc;

    if (q == NULL)
        return -1;
    sqlite3_bind_text(q, 1, slice, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, link, -1, SQLITE_STATIC);
    if (step_done(st, q) < 0)
        return -1;
    q = prepare(st, "SELECT key FROM link_keys WHERE slice=? AND link=?");
    if (q == NULL)
        return -1;
    sqlite3_bind_text(q, 1, slice, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, link, -1, SQLITE_STATIC);
    rc = sqlite3_step(q);
    if (rc == SQLITE_ROW)
        *key = (uint32_t)sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    return rc == SQLITE_ROW ? 0 : -1;
}

static int insert_slivers(struct store *st, struct store_slice *s)
{
    for (size_t i = 0; i < s->n_slivers; i++) {
        struct store_sliver *v = &s->slivers[i];
        sqlite3_stmt *q;

        if (strcmp(v->kind, "link") == 0 &&
            link_key(st, s->name, v->id, &v->key) < 0)
            return -1;
        q = prepare(st, "INSERT INTO slivers (slice, name, seq, kind, id, "
                        "host, detail, state, key) VALUES (?,?,?,?,?,?,?,?,?)");
        if (q == NULL)
            return -1;
        sqlite3_bind_text(q, 1, s->name, -1, SQLITE_STATIC);
        sqlite3_bind_text(q, 2, v->name, -1, SQLITE_STATIC);
        sqlite3_bind_int64(q, 3, (sqlite3_int64)i);
        sqlite3_bind_text(q, 4, v->kind, -1, SQLITE_STATIC);
        sqlite3_bind_text(q, 5, v->id, -1, SQLITE_STATIC);
        sqlite3_bind_text(q, 6, v->host, -1, SQLITE_STATIC);
        sqlite3_bind_text(q, 7, v->detail, -1, SQLITE_STATIC);
        sqlite3_bind_int(q, 8, (int)v->state);
        sqlite3_bind_int64(q, 9, v->key);
        if (step_done(st, q) < 0)
            return -1;
    }
    return 0;
}

static int insert_reservations(struct store *st, const char *slice,
                               const struct embed_resv *resv, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        sqlite3_stmt *q = prepare(
            st, "INSERT INTO reservations (slice, key, amount) VALUES (?,?,?)");
        if (q == NULL)
            return -1;
        sqlite3_bind_text(q, 1, slice, -1, SQLITE_STATIC);
        sqlite3_bind_text(q, 2, resv[i].key, -1, SQLITE_STATIC);
        sqlite3_bind_int64(q, 3, (sqlite3_int64)resv[i].amount);
        if (step_done(st, q) < 0)
            return -1;
    }
    return 0;
}

int store_slice_insert(struct store *st, struct store_slice *s,
                       const struct embed_resv *resv, size_t n_resv)
{
    sqlite3_stmt *q;
    int rc;

    if (exec(st, "BEGIN IMMEDIATE") < 0)
        return -1;
    q = prepare(st, "INSERT INTO slices (name, owner, state, spec, created, "
                    "lease_end) VALUES (?,?,?,?,?,?)");
    if (q == NULL)
        goto rollback;
    sqlite3_bind_text(q, 1, s->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, s->owner, -1, SQLITE_STATIC);
    sqlite3_bind_int(q, 3, (int)s->state);
    sqlite3_bind_text(q, 4, s->spec, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 5, s->created);
    sqlite3_bind_int64(q, 6, s->lease_end);
    rc = sqlite3_step(q);
    sqlite3_finalize(q);
    if (rc == SQLITE_CONSTRAINT) {
        exec(st, "ROLLBACK");
        return 1;
    }
    if (rc != SQLITE_DONE) {
        log_err("insert %s: %s", s->name, sqlite3_errmsg(st->db));
        goto rollback;
    }
    if (insert_slivers(st, s) < 0 ||
        insert_reservations(st, s->name, resv, n_resv) < 0)
        goto rollback;
    return exec(st, "COMMIT");
rollback:
    exec(st, "ROLLBACK");
    return -1;
}

int store_slice_set_state(struct store *st, const char *slice,
                          enum slice_state state)
{
    sqlite3_stmt *q = prepare(st, "UPDATE slices SET state=? WHERE name=?");

    if (q == NULL)
        return -1;
    sqlite3_bind_int(q, 1, (int)state);
    sqlite3_bind_text(q, 2, slice, -1, SQLITE_STATIC);
    return step_done(st, q);
}

int store_sliver_set_state(struct store *st, const char *slice,
                           const char *sliver, enum sliver_state state)
{
    sqlite3_stmt *q =
        prepare(st, "UPDATE slivers SET state=? WHERE slice=? AND name=?");

    if (q == NULL)
        return -1;
    sqlite3_bind_int(q, 1, (int)state);
    sqlite3_bind_text(q, 2, slice, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 3, sliver, -1, SQLITE_STATIC);
    return step_done(st, q);
}

int store_slice_respec(struct store *st, const char *slice, const char *spec,
                       const char *const *keys, const int64_t *delta,
                       size_t n)
{
    sqlite3_stmt *q;

    if (exec(st, "BEGIN IMMEDIATE") < 0)
        return -1;
    q = prepare(st, "UPDATE slices SET spec=? WHERE name=?");
    if (q == NULL)
        goto rollback;
    sqlite3_bind_text(q, 1, spec, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, slice, -1, SQLITE_STATIC);
    if (step_done(st, q) < 0)
        goto rollback;
    for (size_t i = 0; i < n; i++) {
        q = prepare(st, "UPDATE reservations SET amount = amount + ? "
                        "WHERE slice=? AND key=?");
        if (q == NULL)
            goto rollback;
        sqlite3_bind_int64(q, 1, delta[i]);
        sqlite3_bind_text(q, 2, slice, -1, SQLITE_STATIC);
        sqlite3_bind_text(q, 3, keys[i], -1, SQLITE_STATIC);
        if (step_done(st, q) < 0)
            goto rollback;
    }
    return exec(st, "COMMIT");
rollback:
    exec(st, "ROLLBACK");
    return -1;
}

int store_slice_remove(struct store *st, const char *slice)
{
    /* ON DELETE CASCADE removes slivers and reservations atomically. */
    sqlite3_stmt *q = prepare(st, "DELETE FROM slices WHERE name=?");

    if (q == NULL)
        return -1;
    sqlite3_bind_text(q, 1, slice, -1, SQLITE_STATIC);
    return step_done(st, q);
}

static void copy_col(char *dst, size_t n, sqlite3_stmt *q, int col)
{
    const unsigned char *t = sqlite3_column_text(q, col);
    snprintf(dst, n, "%s", t ? (const char *)t : "");
}

static char *dup_col(sqlite3_stmt *q, int col)
{
    const unsigned char *t = sqlite3_column_text(q, col);
    return strdup(t ? (const char *)t : "");
}

static int load_slivers(struct store *st, struct store_slice *s)
{
    sqlite3_stmt *q = prepare(st, "SELECT name, kind, id, host, detail, "
                                  "state, key FROM slivers WHERE slice=? "
                                  "ORDER BY seq");
    size_t cap = 0;
    int rc;

    if (q == NULL)
        return -1;
    sqlite3_bind_text(q, 1, s->name, -1, SQLITE_STATIC);
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        struct store_sliver *v;
        if (s->n_slivers == cap) {
            size_t nc = cap ? cap * 2 : 16;
            v = realloc(s->slivers, nc * sizeof(*v));
            if (v == NULL)
                break;
            s->slivers = v;
            cap = nc;
        }
        v = &s->slivers[s->n_slivers++];
        copy_col(v->name, sizeof(v->name), q, 0);
        copy_col(v->kind, sizeof(v->kind), q, 1);
        copy_col(v->id, sizeof(v->id), q, 2);
        copy_col(v->host, sizeof(v->host), q, 3);
        copy_col(v->detail, sizeof(v->detail), q, 4);
        v->state = (enum sliver_state)sqlite3_column_int(q, 5);
        v->key = (uint32_t)sqlite3_column_int64(q, 6);
    }
    sqlite3_finalize(q);
    return rc == SQLITE_DONE ? 0 : -1;
}

int store_slice_load(struct store *st, const char *name,
                     struct store_slice **out)
{
    sqlite3_stmt *q = prepare(st, "SELECT name, owner, state, spec, created, "
                                  "lease_end FROM slices WHERE name=?");
    struct store_slice *s = NULL;
    int rc;

    if (q == NULL)
        return -1;
    sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
    rc = sqlite3_step(q);
    if (rc != SQLITE_ROW) {
        sqlite3_finalize(q);
        return rc == SQLITE_DONE ? 0 : -1;
    }
    s = calloc(1, sizeof(*s));
    if (s == NULL) {
        sqlite3_finalize(q);
        return -1;
    }
    s->name = dup_col(q, 0);
    s->owner = dup_col(q, 1);
    s->state = (enum slice_state)sqlite3_column_int(q, 2);
    s->spec = dup_col(q, 3);
    s->created = sqlite3_column_int64(q, 4);
    s->lease_end = sqlite3_column_int64(q, 5);
    sqlite3_finalize(q);
    if (!s->name || !s->owner || !s->spec || load_slivers(st, s) < 0) {
        store_slice_free(s);
        return -1;
    }
    *out = s;
    return 1;
}

void store_slice_free(struct store_slice *s)
{
    if (s == NULL)
        return;
    free(s->name);
    free(s->owner);
    free(s->spec);
    free(s->slivers);
    free(s);
}

int store_slice_names(struct store *st, const char *owner, int state,
                      char ***names)
{
    sqlite3_stmt *q = prepare(
        st, "SELECT name FROM slices WHERE (?1 IS NULL OR owner=?1) AND "
            "(?2 < 0 OR state=?2) ORDER BY created, rowid");
    char **v = NULL;
    size_t n = 0, cap = 0;
    int rc;

    if (q == NULL)
        return -1;
    if (owner != NULL)
        sqlite3_bind_text(q, 1, owner, -1, SQLITE_STATIC);
    sqlite3_bind_int(q, 2, state);
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 16;
            char **p = realloc(v, nc * sizeof(*p));
            if (p == NULL)
                break;
            v = p;
            cap = nc;
        }
        v[n] = dup_col(q, 0);
        if (v[n] == NULL)
            break;
        n++;
    }
    sqlite3_finalize(q);
    if (rc != SQLITE_DONE) {
        for (size_t i = 0; i < n; i++)
            free(v[i]);
        free(v);
        return -1;
    }
    *names = v;
    return (int)n;
}

int store_reservation_totals(struct store *st,
                             void (*fn)(const char *key, uint64_t amount,
                                        void *ctx),
                             void *ctx)
{
    sqlite3_stmt *q = prepare(
        st, "SELECT key, SUM(amount) FROM reservations GROUP BY key");
    int rc;

    if (q == NULL)
        return -1;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW)
        fn((const char *)sqlite3_column_text(q, 0),
           (uint64_t)sqlite3_column_int64(q, 1), ctx);
    sqlite3_finalize(q);
    return rc == SQLITE_DONE ? 0 : -1;
}

int store_slice_reservations(struct store *st, const char *slice,
                             struct embed_resv **out)
{
    sqlite3_stmt *q =
        prepare(st, "SELECT key, amount FROM reservations WHERE slice=?");
    struct embed_resv *v = NULL;
    size_t n = 0, cap = 0;
    int rc;

    if (q == NULL)
        return -1;
    sqlite3_bind_text(q, 1, slice, -1, SQLITE_STATIC);
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 16;
            struct embed_resv *p = realloc(v, nc * sizeof(*p));
            if (p == NULL)
                break;
            v = p;
            cap = nc;
        }
        copy_col(v[n].key, sizeof(v[n].key), q, 0);
        v[n++].amount = (uint64_t)sqlite3_column_int64(q, 1);
    }
    sqlite3_finalize(q);
    if (rc != SQLITE_DONE) {
        free(v);
        return -1;
    }
    *out = v;
    return (int)n;
}
