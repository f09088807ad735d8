/* pool: preallocated frame buffers. See pool.h. */
#include "pool.h"

#include <stdlib.h>
#include <string.h>

#include "log.h"

#define BUF_ALIGN 64 /* a cache line: frames start aligned */

/* A chunk's buffers are handed out in order the first time ("carved"),
 * and only then go through the free list: a buffer's memory is written
 * (and so committed) only when a frame needs it. */
struct rd_pool_chunk {
    struct rd_pool_chunk *next;
    size_t n;      /* buffers in the chunk */
    size_t carved; /* buffers [0, carved) have been handed out once */
    /* then n buffers, BUF_ALIGN-aligned, 'stride' bytes apart */
};

static size_t round_up(size_t n, size_t to)
{
    return (n + to - 1) / to * to;
}

void rd_pool_init(struct rd_pool *p, uint32_t buf_bytes)
{
    memset(p, 0, sizeof(*p));
    p->buf_bytes = buf_bytes;
    p->stride = round_up(sizeof(struct rd_buf) + buf_bytes, BUF_ALIGN);
}

void rd_pool_fini(struct rd_pool *p)
{
    if (p == NULL)
        return;
    while (p->chunks != NULL) {
        struct rd_pool_chunk *c = p->chunks;

        p->chunks = c->next;
        free(c);
    }
    memset(p, 0, sizeof(*p));
}

static struct rd_buf *buf_at(struct rd_pool_chunk *c, size_t stride, size_t i)
{
    uint8_t *base = (uint8_t *)c + round_up(sizeof(*c), BUF_ALIGN);

    return (struct rd_buf *)(void *)(base + i * stride);
}

int rd_pool_reserve(struct rd_pool *p, size_t n)
{
    size_t want = p->n_reserved + n, add, bytes;
    struct rd_pool_chunk *c;

    if (want > p->n_total) {
        add = want - p->n_total;
        if (add > (SIZE_MAX - BUF_ALIGN * 2) / p->stride) {
            log_err("pool of %zu buffers is too large", want);
            return -1;
        }
        bytes = round_up(sizeof(*c), BUF_ALIGN) + add * p->stride;
        c = aligned_alloc(BUF_ALIGN, round_up(bytes, BUF_ALIGN));
        if (c == NULL) {
            log_err("out of memory for %zu frame buffers of %u bytes", add,
                    p->buf_bytes);
            return -1;
        }
        c->n = add;
        c->carved = 0;
        /* Chunks before 'carve' in the list are carved out; the new one
         * goes after it, so the cursor reaches it. */
        if (p->carve != NULL) {
            c->next = p->carve->next;
            p->carve->next = c;
        } else {
            c->next = p->chunks;
            p->chunks = c;
            p->carve = c;
        }
        p->n_total += add;
        p->n_free += add;
    }
    p->n_reserved = want;
    return 0;
}

void rd_pool_unreserve(struct rd_pool *p, size_t n)
{
    p->n_reserved = n > p->n_reserved ? 0 : p->n_reserved - n;
}

struct rd_buf *rd_pool_get(struct rd_pool *p)
{
    struct rd_buf *b = p->free;

    if (b != NULL) {
        p->free = b->next;
    } else {
        while (p->carve != NULL && p->carve->carved == p->carve->n)
            p->carve = p->carve->next;
        if (p->carve == NULL)
            return NULL;
        b = buf_at(p->carve, p->stride, p->carve->carved++);
    }
    p->n_free--;
    b->next = NULL;
    b->owner = NULL;
    b->len = 0;
    b->key = 0;
    b->flags = 0;
    return b;
}

void rd_pool_put(struct rd_pool *p, struct rd_buf *b)
{
    if (b == NULL)
        return;
    b->next = p->free;
    p->free = b;
    p->n_free++;
}
