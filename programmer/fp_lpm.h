/* fp_lpm: IPv4 longest-prefix match. Prefixes are kept in a binary trie;
 * lookups go through a multibit trie (8-bit strides, at most 4 steps)
 * rebuilt from it at the first lookup after a change. Nodes live in
 * growing arrays, so a table is a handful of allocations. Addresses and
 * prefixes are in host byte order. */
#ifndef FP_LPM_H
#define FP_LPM_H

#include <stdbool.h>
#include <stdint.h>

struct fp_lpm;

/* Returns NULL when out of memory. */
struct fp_lpm *fp_lpm_new(void);
/* NULL is accepted. */
void fp_lpm_free(struct fp_lpm *t);

/* Sets 'prefix'/'len' (0..32; host bits of 'prefix' are ignored) to
 * 'value', replacing any value it had. Returns 0, or -1 on a bad length or
 * no memory (the table is unchanged). */
int fp_lpm_insert(struct fp_lpm *t, uint32_t prefix, int len, uint32_t value);
/* Removes exactly 'prefix'/'len'. Returns 0, or -1 if it was not there. */
int fp_lpm_remove(struct fp_lpm *t, uint32_t prefix, int len);
/* Finds the longest prefix covering 'addr'. Returns true and sets *value
 * (and *len if not NULL), or false if no prefix covers it. The first
 * lookup after an insert or remove rebuilds the lookup structure (if that
 * runs out of memory, lookups walk the binary trie: slower, still exact). */
bool fp_lpm_lookup(struct fp_lpm *t, uint32_t addr, uint32_t *value, int *len);

/* The network mask of a prefix length 0..32, in host order. */
static inline uint32_t fp_lpm_mask(int len)
{
    return len <= 0 ? 0 : len >= 32 ? 0xffffffffu : ~(0xffffffffu >> len);
}

#endif
