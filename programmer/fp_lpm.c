/* fp_lpm: IPv4 longest-prefix match. Two structures:
 *  - a binary trie (one node per prefix bit) holds the prefixes: inserts
 *    and removes are simple and exact there;
 *  - a multibit trie with a stride of 8 bits (controlled prefix expansion:
 *    a /20 fills 16 entries of a level-2 node) answers lookups in at most
 *    4 dependent loads instead of up to 33. It is rebuilt from the binary
 *    trie at the first lookup after a change (routes change at
 *    configuration time, lookups once per packet). Prefixes go in by
 *    increasing length, and a new child node starts as a copy of the entry
 *    it hangs from, so every entry holds the longest prefix covering it
 *    and a lookup returns the last entry it reaches. */
#include "fp_lpm.h"

#include <stdlib.h>
#include <string.h>

struct lpm_node {
    uint32_t child[2]; /* node indexes; 0 = none (the root is never a child) */
    uint32_t value;
    bool has_value;
};

#define MB_FAN 256u /* entries per multibit node: 8 bits of address */

struct mb_entry {
    uint32_t value;
    uint32_t child; /* node index; 0 = none (the root is never a child) */
    uint8_t len1;   /* prefix length + 1; 0 = no prefix covers it */
};

struct fp_lpm {
    struct lpm_node *nodes;
    uint32_t n, cap;
    /* The lookup structure: mb_n nodes of MB_FAN entries; stale if dirty
     * (or NULL: not built, or out of memory, then the binary trie
     * answers). */
    struct mb_entry *mb;
    uint32_t mb_n, mb_cap;
    bool dirty;
};

struct fp_lpm *fp_lpm_new(void)
{
    struct fp_lpm *t = calloc(1, sizeof(*t));

    if (t == NULL)
        return NULL;
    t->cap = 64;
    t->nodes = calloc(t->cap, sizeof(*t->nodes));
    if (t->nodes == NULL) {
        free(t);
        return NULL;
    }
    t->n = 1; /* the root: the /0 prefix */
    return t;
}

void fp_lpm_free(struct fp_lpm *t)
{
    if (t == NULL)
        return;
    free(t->nodes);
    free(t->mb);
    free(t);
}

/* Returns the index of a new empty node, or 0 when out of memory. */
static uint32_t new_node(struct fp_lpm *t)
{
    if (t->n == t->cap) {
        uint32_t cap = t->cap * 2;
        struct lpm_node *n = realloc(t->nodes, cap * sizeof(*n));
        if (n == NULL)
            return 0;
        t->nodes = n;
        t->cap = cap;
    }
    t->nodes[t->n] = (struct lpm_node){{0, 0}, 0, false};
    return t->n++;
}

static inline int bit(uint32_t addr, int depth)
{
    return (int)((addr >> (31 - depth)) & 1);
}

int fp_lpm_insert(struct fp_lpm *t, uint32_t prefix, int len, uint32_t value)
{
    uint32_t cur = 0;

    if (len < 0 || len > 32)
        return -1;
    /* A failed allocation may leave empty interior nodes: harmless. */
    for (int d = 0; d < len; d++) {
        int b = bit(prefix, d);
        uint32_t next = t->nodes[cur].child[b];
        if (next == 0) {
            next = new_node(t);
            if (next == 0)
                return -1;
            t->nodes[cur].child[b] = next;
        }
        cur = next;
    }
    t->nodes[cur].value = value;
    t->nodes[cur].has_value = true;
    t->dirty = true;
    return 0;
}

int fp_lpm_remove(struct fp_lpm *t, uint32_t prefix, int len)
{
    uint32_t cur = 0;

    if (len < 0 || len > 32)
        return -1;
    for (int d = 0; d < len; d++) {
        cur = t->nodes[cur].child[bit(prefix, d)];
        if (cur == 0)
            return -1;
    }
    if (!t->nodes[cur].has_value)
        return -1;
    t->nodes[cur].has_value = false;
    t->dirty = true;
    return 0;
}

/* ---- the multibit trie ---------------------------------------------- */

struct prefix {
    uint32_t prefix, value;
    int len;
};

/* Appends the prefixes under binary node 'cur' (depth 'd', bits 'bits'). */
static void collect(const struct fp_lpm *t, uint32_t cur, int d, uint32_t bits,
                    struct prefix *out, uint32_t *n)
{
    const struct lpm_node *nd = &t->nodes[cur];

    if (nd->has_value)
        out[(*n)++] = (struct prefix){bits, nd->value, d};
    for (int b = 0; b < 2 && d < 32; b++)
        if (nd->child[b] != 0)
            collect(t, nd->child[b], d + 1, bits | (uint32_t)b << (31 - d),
                    out, n);
}

/* A new node whose entries are copies of 'from' (without its child).
 * Returns its index, or 0 when out of memory. */
static uint32_t mb_node(struct fp_lpm *t, struct mb_entry from)
{
    if (t->mb_n == t->mb_cap) {
        uint32_t cap = t->mb_cap ? t->mb_cap * 2 : 8;
        struct mb_entry *m = realloc(t->mb, (size_t)cap * MB_FAN * sizeof(*m));
        if (m == NULL)
            return 0;
        t->mb = m;
        t->mb_cap = cap;
    }
    from.child = 0;
    for (uint32_t i = 0; i < MB_FAN; i++)
        t->mb[(size_t)t->mb_n * MB_FAN + i] = from;
    return t->mb_n++;
}

static inline uint32_t byte_at(uint32_t addr, int level)
{
    return (addr >> (24 - 8 * level)) & 0xffu;
}

/* Expands one prefix (no shorter one may come after it). */
static int mb_insert(struct fp_lpm *t, const struct prefix *p)
{
    int level = p->len == 0 ? 0 : (p->len - 1) / 8;
    uint32_t node = 0, span, base;

    for (int l = 0; l < level; l++) {
        struct mb_entry *e = &t->mb[(size_t)node * MB_FAN + byte_at(p->prefix, l)];
        if (e->child == 0) {
            uint32_t c = mb_node(t, *e); /* may move t->mb */
            if (c == 0)
                return -1;
            e = &t->mb[(size_t)node * MB_FAN + byte_at(p->prefix, l)];
            e->child = c;
        }
        node = e->child;
    }
    span = 1u << (8 * (level + 1) - p->len);
    base = byte_at(p->prefix, level) & ~(span - 1);
    for (uint32_t i = base; i < base + span; i++) {
        struct mb_entry *e = &t->mb[(size_t)node * MB_FAN + i];
        e->value = p->value;
        e->len1 = (uint8_t)(p->len + 1);
    }
    return 0;
}

/* Rebuilds the multibit trie; on failure leaves none (mb_n = 0). */
static void mb_build(struct fp_lpm *t)
{
    struct prefix *all = malloc((size_t)t->n * sizeof(*all));
    struct prefix *sorted = malloc((size_t)t->n * sizeof(*sorted));
    uint32_t n = 0, k = 0;

    t->mb_n = 0;
    t->dirty = false;
    if (all == NULL || sorted == NULL)
        goto fail;
    (void)mb_node(t, (struct mb_entry){0}); /* the root: node 0 */
    if (t->mb_n != 1)
        goto fail;
    collect(t, 0, 0, 0, all, &n);
    for (int len = 0; len <= 32; len++) /* by increasing length */
        for (uint32_t i = 0; i < n; i++)
            if (all[i].len == len)
                sorted[k++] = all[i];
    for (uint32_t i = 0; i < k; i++)
        if (mb_insert(t, &sorted[i]) < 0)
            goto fail;
    free(all);
    free(sorted);
    return;
fail:
    t->mb_n = 0;
    free(all);
    free(sorted);
}

/* The binary trie's answer (the reference, and the fallback). */
static bool bin_lookup(const struct fp_lpm *t, uint32_t addr, uint32_t *value,
                       int *len)
{
    uint32_t cur = 0;
    bool found = false;

    for (int d = 0;; d++) {
        const struct lpm_node *n = &t->nodes[cur];
        if (n->has_value) {
            *value = n->value;
            if (len != NULL)
                *len = d;
            found = true;
        }
        if (d == 32 || (cur = n->child[bit(addr, d)]) == 0)
            break;
    }
    return found;
}

bool fp_lpm_lookup(struct fp_lpm *t, uint32_t addr, uint32_t *value, int *len)
{
    const struct mb_entry *e;
    uint32_t node = 0;

    if (t->dirty)
        mb_build(t);
    if (t->mb_n == 0)
        return bin_lookup(t, addr, value, len);
    for (int level = 0;; level++) {
        e = &t->mb[(size_t)node * MB_FAN + byte_at(addr, level)];
        if (e->child == 0)
            break;
        node = e->child;
    }
    if (e->len1 == 0)
        return false;
    *value = e->value;
    if (len != NULL)
        *len = e->len1 - 1;
    return true;
}
