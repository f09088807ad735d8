/* ctl: the slice controller. Validates and embeds requests, runs each slice
 * operation as a step-by-step transaction over the sliver driver with every
 * step committed to the store, rolls back on failure, and resolves at
 * start-up whatever a crash interrupted: a create in progress is rolled
 * back (its client never got a success), a delete in progress is finished. */
#ifndef SNC_CTL_H
#define SNC_CTL_H

#include <stdint.h>
#include <time.h>

#include "driver.h"
#include "embed.h"
#include "fault.h"
#include "spec.h"
#include "store.h"
#include "topo.h"

struct ctl {
    const struct topo *topo;      /* borrowed */
    struct store *store;          /* borrowed */
    const struct sliver_driver *driver;
    struct embed_usage *usage;    /* mirror of the store's reservations */
    uint64_t default_lease_s;     /* lease when the spec gives none */
    uint64_t max_lease_s;
    /* Test hook (SNCD_CRASH_AFTER_STEPS): kill -9 ourselves after this many
     * committed sliver steps of a create. 0 = off. */
    unsigned crash_after_steps;
};

/* An outcome with a fault code and a message (malloc'd, caller frees). */
struct ctl_err {
    enum vn_fault code;
    char *msg;
};

/* Sets up usage from the store and resolves interrupted operations.
 * Returns 0 or -1 (logged). */
int ctl_init(struct ctl *c, const struct topo *t, struct store *st,
             const struct sliver_driver *driver);
void ctl_fini(struct ctl *c);

/* Dry run: parses, checks the lease and embeds 'xml' as a create at 'now'
 * would, without changing anything. On success returns 0 and sets *spec,
 * *emb (caller frees) and *lease_end (unix seconds); else -1 and *e. */
int ctl_validate(struct ctl *c, const char *xml, size_t len, time_t now,
                 struct slice_spec **spec, struct embed_result **emb,
                 int64_t *lease_end, struct ctl_err *e);

/* Creates the slice for 'owner'. Returns 0 (slice ready) or -1 with *e;
 * a failure leaves nothing recorded or reserved. */
int ctl_create(struct ctl *c, const char *owner, const char *xml, size_t len,
               time_t now, struct ctl_err *e);

/* Deletes a slice. 'owner' NULL = any owner (operator). Returns 0 or -1. */
int ctl_delete(struct ctl *c, const char *owner, const char *name,
               struct ctl_err *e);

/* Live change of link 'link' of slice 'name' (owner NULL = any owner):
 * kv holds n_kv (name, value) pairs among bandwidth, ceiling, burst and
 * weight. A higher guarantee is admitted only if every port and transport
 * link on the link's path has the difference free. The store, the
 * capacity accounting and the link's redirectors change together, or
 * nothing changes. Returns 0 or -1 with *e. */
int ctl_modify_link(struct ctl *c, const char *owner, const char *name,
                    const char *link, const char *const *kv, size_t n_kv,
                    struct ctl_err *e);

/* Finishes deletes that a node failure left pending and deletes slices
 * whose lease ended by 'now'. Returns the number of slices removed. */
int ctl_tick(struct ctl *c, time_t now);

/* Asks every VNode which slivers it holds (when the driver can tell) and
 * re-creates the ready slivers a node lost, e.g. after its daemon
 * restarted. Returns the number re-created, or -1 on a store error. */
int ctl_resync(struct ctl *c);

#endif
