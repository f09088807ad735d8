/* table: link slivers and their lookups. See table.h. */
#include "table.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

const char *rd_end_name(enum rd_end end)
{
    switch (end) {
    case RD_END_A:
        return "a";
    case RD_END_B:
        return "b";
    case RD_END_LOCAL:
        return "local";
    }
    return "?";
}

int rd_end_parse(const char *s, enum rd_end *end)
{
    if (strcmp(s, "a") == 0)
        *end = RD_END_A;
    else if (strcmp(s, "b") == 0)
        *end = RD_END_B;
    else if (strcmp(s, "local") == 0)
        *end = RD_END_LOCAL;
    else
        return -1;
    return 0;
}

void rd_table_init(struct rd_table *t)
{
    memset(t, 0, sizeof(*t));
    t->next_slice_id = 1;
}

void rd_link_free(struct rd_link *l)
{
    if (l == NULL)
        return;
    free(l->slice);
    free(l->link);
    free(l);
}

void rd_table_fini(struct rd_table *t)
{
    for (size_t i = 0; i < t->n; i++)
        rd_link_free(t->links[i]);
    free(t->links);
    free(t->by_key);
    memset(t, 0, sizeof(*t));
}

static char *msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *msg(const char *fmt, ...)
{
    va_list ap;
    char *s = NULL;

    va_start(ap, fmt);
    if (vasprintf(&s, fmt, ap) < 0)
        s = NULL;
    va_end(ap);
    return s;
}

struct rd_link *rd_table_find(const struct rd_table *t, uint32_t key,
                              enum rd_end end)
{
    for (size_t i = 0; i < t->n; i++)
        if (t->links[i]->key == key && t->links[i]->end == end)
            return t->links[i];
    return NULL;
}

struct rd_link *rd_table_port_owner(const struct rd_table *t,
                                    const char *ifname)
{
    for (size_t i = 0; i < t->n; i++) {
        const struct rd_link *l = t->links[i];

        if (strcmp(l->port, ifname) == 0 ||
            (l->end == RD_END_LOCAL && strcmp(l->local_port, ifname) == 0))
            return t->links[i];
    }
    return NULL;
}

struct rd_link *rd_table_rx_lookup(const struct rd_table *t, uint32_t key)
{
    size_t lo = 0, hi = t->n_by_key;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (t->by_key[mid].key == key)
            return t->by_key[mid].link;
        if (t->by_key[mid].key < key)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

bool rd_link_may_deliver(const struct rd_link *by_key,
                         const struct rd_link *port_owner)
{
    return by_key != NULL && port_owner != NULL &&
           by_key->slice_id == port_owner->slice_id;
}

static int cmp_key(const void *a, const void *b)
{
    const struct rd_key_ent *x = a, *y = b;

    return x->key < y->key ? -1 : x->key > y->key;
}

/* Rebuilds the sorted key index (links change rarely; frames often). */
static int reindex(struct rd_table *t)
{
    struct rd_key_ent *ents = calloc(t->n ? t->n : 1, sizeof(*ents));
    size_t n = 0;

    if (ents == NULL) {
        log_err("out of memory");
        return -1;
    }
    for (size_t i = 0; i < t->n; i++)
        if (t->links[i]->end != RD_END_LOCAL) {
            ents[n].key = t->links[i]->key;
            ents[n].link = t->links[i];
            n++;
        }
    qsort(ents, n, sizeof(*ents), cmp_key);
    free(t->by_key);
    t->by_key = ents;
    t->n_by_key = n;
    return 0;
}

bool rd_rates_equal(const struct rd_rates *a, const struct rd_rates *b)
{
    return a->rate_bps == b->rate_bps && a->ceil_bps == b->ceil_bps &&
           a->burst_bytes == b->burst_bytes && a->weight == b->weight &&
           a->slice_weight == b->slice_weight;
}

static bool same(const struct rd_link *l, const struct rd_link_spec *s)
{
    return strcmp(l->slice, s->slice) == 0 && strcmp(l->link, s->link) == 0 &&
           strcmp(l->port, s->port) == 0 &&
           strcmp(l->local_port, s->local_port) == 0 && l->peer == s->peer &&
           rd_rates_equal(&l->rates, &s->rates);
}

/* Refuses a spec that clashes with links already here; NULL if none. */
static char *conflict(const struct rd_table *t, const struct rd_link_spec *s,
                      enum vn_fault *code)
{
    const char *ports[2] = {s->port, s->local_port};

    *code = VN_FAULT_EXISTS;
    for (int i = 0; i < 2; i++) {
        const struct rd_link *o;

        if (ports[i][0] == '\0')
            continue;
        o = rd_table_port_owner(t, ports[i]);
        if (o != NULL)
            return msg("port %s already carries link %s of slice %s (key %u "
                       "end %s); delete that first",
                       ports[i], o->link, o->slice, o->key,
                       rd_end_name(o->end));
    }
    *code = VN_FAULT_INVALID_ARG;
    for (size_t i = 0; i < t->n; i++) {
        const struct rd_link *o = t->links[i];

        if (o->key != s->key)
            continue;
        if (o->end == RD_END_LOCAL || s->end == RD_END_LOCAL)
            return msg("key %u is already used here by end %s of link %s "
                       "(slice %s): a local link and a tunnel cannot share "
                       "a key",
                       s->key, rd_end_name(o->end), o->link, o->slice);
        return msg("end %s of key %u is already here (link %s, slice %s): "
                   "when both ends are on one VNode, create one link with "
                   "end \"local\"",
                   rd_end_name(o->end), s->key, o->link, o->slice);
    }
    return NULL;
}

uint32_t rd_table_slice_id(const struct rd_table *t, const char *slice)
{
    for (size_t i = 0; i < t->n; i++)
        if (strcmp(t->links[i]->slice, slice) == 0)
            return t->links[i]->slice_id;
    return 0;
}

static uint32_t slice_id(struct rd_table *t, const char *slice)
{
    uint32_t id = rd_table_slice_id(t, slice);

    return id != 0 ? id : t->next_slice_id++;
}

enum rd_add_result rd_table_add(struct rd_table *t,
                                const struct rd_link_spec *s,
                                struct rd_link **out, enum vn_fault *code,
                                char **err)
{
    struct rd_link *l = rd_table_find(t, s->key, s->end);

    *out = NULL;
    *err = NULL;
    if (l != NULL) {
        if (same(l, s)) {
            *out = l;
            return RD_ADD_EXISTS;
        }
        *code = VN_FAULT_EXISTS;
        *err = msg("key %u end %s already exists with other parameters "
                   "(link %s of slice %s on port %s): use link.update to "
                   "change its rates, or delete it first",
                   l->key, rd_end_name(l->end), l->link, l->slice, l->port);
        return RD_ADD_FAILED;
    }
    if ((*err = conflict(t, s, code)) != NULL)
        return RD_ADD_FAILED;
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 16;
        struct rd_link **links = realloc(t->links, cap * sizeof(*links));

        if (links == NULL)
            goto oom;
        t->links = links;
        t->cap = cap;
    }
    l = calloc(1, sizeof(*l));
    if (l == NULL || (l->slice = strdup(s->slice)) == NULL ||
        (l->link = strdup(s->link)) == NULL)
        goto oom;
    l->slice_id = slice_id(t, s->slice);
    l->key = s->key;
    l->end = s->end;
    snprintf(l->port, sizeof(l->port), "%s", s->port);
    snprintf(l->local_port, sizeof(l->local_port), "%s", s->local_port);
    l->peer = s->peer;
    l->rates = s->rates;
    t->links[t->n++] = l;
    if (reindex(t) < 0) {
        t->n--;
        goto oom;
    }
    *out = l;
    return RD_ADD_NEW;
oom:
    rd_link_free(l);
    *code = VN_FAULT_INTERNAL;
    *err = msg("out of memory");
    return RD_ADD_FAILED;
}

struct rd_link *rd_table_remove(struct rd_table *t, uint32_t key,
                                enum rd_end end)
{
    for (size_t i = 0; i < t->n; i++) {
        struct rd_link *l = t->links[i];

        if (l->key != key || l->end != end)
            continue;
        memmove(&t->links[i], &t->links[i + 1],
                (t->n - i - 1) * sizeof(t->links[0]));
        t->n--;
        if (reindex(t) < 0) {
            /* Cannot shrink the index: drop this key from it in place so
             * the data path never sees the freed link. */
            for (size_t j = 0; j < t->n_by_key; j++)
                if (t->by_key[j].link == l) {
                    memmove(&t->by_key[j], &t->by_key[j + 1],
                            (t->n_by_key - j - 1) * sizeof(t->by_key[0]));
                    t->n_by_key--;
                    break;
                }
        }
        return l;
    }
    return NULL;
}
