/* store: sncd's durable state in SQLite (WAL). The store is the source of
 * truth: slices, their slivers with per-sliver state, and the capacity each
 * slice holds. Every function that changes state commits before returning,
 * so a kill -9 at any point leaves the last committed step. */
#ifndef SNC_STORE_H
#define SNC_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "embed.h"

enum slice_state { SLICE_CREATING, SLICE_READY, SLICE_DELETING };
enum sliver_state {
    SLIVER_PLANNED,  /* recorded, nothing asked of any node yet */
    SLIVER_CREATING, /* asked the node; outcome unknown until it answers */
    SLIVER_READY,
    SLIVER_DELETING,
    SLIVER_FAILED,
};

const char *slice_state_name(enum slice_state s);
const char *sliver_state_name(enum sliver_state s);

struct store_sliver {
    char name[80];   /* unique in the slice: "node:r1", "link:l1:a", "gw:g1" */
    char kind[8];    /* "node", "link", "gw" */
    char id[40];     /* the spec id */
    char host[40];   /* VNode or AGW name that hosts it */
    char detail[512];/* kind-specific: transport path, peer, ... */
    enum sliver_state state;
    uint32_t key;    /* links: the GRE key both halves share; else 0 */
};

struct store_slice {
    char *name;
    char *owner;
    char *spec;      /* the request XML as received */
    enum slice_state state;
    int64_t created;   /* unix seconds */
    int64_t lease_end; /* unix seconds */
    struct store_sliver *slivers; /* in creation order */
    size_t n_slivers;
};

struct store;

/* Opens (creating if needed) the database at 'path'. 'sync_full' selects
 * synchronous=FULL (survives power loss) over NORMAL (survives process
 * crashes). Returns NULL with *err set (caller frees). */
struct store *store_open(const char *path, int sync_full, char **err);
void store_close(struct store *st);

/* Records a new slice with its slivers and reservations in one transaction,
 * allocating a GRE key for every link (set in the link slivers' key).
 * Returns 0, 1 if the name is taken, -1 on error (logged). */
int store_slice_insert(struct store *st, struct store_slice *s,
                       const struct embed_resv *resv, size_t n_resv);
int store_slice_set_state(struct store *st, const char *slice,
                          enum slice_state state);
int store_sliver_set_state(struct store *st, const char *slice,
                           const char *sliver, enum sliver_state state);
/* Replaces a slice's spec and adds delta[i] (may be negative) to its
 * reservation of key[i], in one transaction. */
int store_slice_respec(struct store *st, const char *slice, const char *spec,
                       const char *const *keys, const int64_t *delta,
                       size_t n);

/* Removes the slice, its slivers and reservations in one transaction. */
int store_slice_remove(struct store *st, const char *slice);

/* Loads one slice. Returns 1 and sets *out (free with store_slice_free),
 * 0 if absent, -1 on error. */
int store_slice_load(struct store *st, const char *name,
                     struct store_slice **out);
void store_slice_free(struct store_slice *s);

/* Names of all slices (owner NULL) or of one owner's, oldest first; also
 * slices in a given state when state >= 0. Returns the count and sets
 * *names (free each and the array), or -1. */
int store_slice_names(struct store *st, const char *owner, int state,
                      char ***names);

/* Reservations one slice holds. Returns the count and sets *out (caller
 * frees), or -1. */
int store_slice_reservations(struct store *st, const char *slice,
                             struct embed_resv **out);

/* Calls fn for every reservation key with the sum held by all slices. */
int store_reservation_totals(struct store *st,
                             void (*fn)(const char *key, uint64_t amount,
                                        void *ctx),
                             void *ctx);

#endif
