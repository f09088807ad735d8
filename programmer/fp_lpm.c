/* fp_lpm: binary trie for IPv4 longest-prefix match. */
#include "fp_lpm.h"

#include <stdlib.h>

struct lpm_node {
    uint32_t child[2]; /* node indexes; 0 = none (the root is never a child) */
    uint32_t value;
    bool has_value;
};

struct fp_lpm {
    struct lpm_node *nodes;
    uint32_t n, cap;
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
    return 0;
}

bool fp_lpm_lookup(const struct fp_lpm *t, uint32_t addr, uint32_t *value,
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
