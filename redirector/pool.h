/* pool: preallocated frame buffers for the scheduler's queues.
 *
 * A frame taken from a sliver port must outlive its RX ring block while it
 * waits in the scheduler, so it is copied into a buffer of this pool. All
 * buffers have one size (the largest frame the transport can carry) and
 * come from a free list: getting and putting one is a pointer swap, never a
 * malloc.
 *
 * Sizing is by reservation, not by a global limit: every queue reserves
 * as many buffers as its limit holds (rd_pool_reserve), and the pool grows
 * in one allocation per reservation when it has fewer than the sum. So a
 * queue that is under its limit always finds a buffer, whatever the other
 * queues hold: a flooding link cannot starve another one of buffers (that
 * would break isolation through the back door). Unreserving keeps the
 * buffers for the next reservation; the pool never shrinks (its size is the
 * peak of the reservations). Large allocations are mmap'd by malloc, and a
 * buffer is written for the first time when it is first handed out, so
 * its pages cost memory only once a queue really held that many frames. */
#ifndef RD_POOL_H
#define RD_POOL_H

#include <stddef.h>
#include <stdint.h>

struct rd_buf {
    struct rd_buf *next; /* free list; NULL while in use */
    void *owner;         /* the user's, e.g. the link it is queued on */
    uint32_t len;        /* bytes of frame in data */
    uint32_t key;        /* the link's key */
    uint32_t flags;      /* the user's */
    uint32_t pad;        /* data[] starts 32 bytes in: aligned */
    uint8_t data[];      /* the pool's buf_bytes */
};

struct rd_pool_chunk;

struct rd_pool {
    uint32_t buf_bytes;           /* capacity of data[] in each buffer */
    size_t stride;                /* bytes from one buffer to the next */
    struct rd_buf *free;          /* buffers given back */
    size_t n_total;               /* buffers allocated */
    size_t n_free;                /* not handed out: given back or never used */
    size_t n_reserved;            /* promised to queues (<= n_total) */
    struct rd_pool_chunk *chunks; /* owned */
    struct rd_pool_chunk *carve;  /* first chunk with never-used buffers */
};

/* An empty pool of buffers that hold 'buf_bytes' bytes (> 0). */
void rd_pool_init(struct rd_pool *p, uint32_t buf_bytes);
/* Frees every chunk; buffers still out become invalid. NULL ok. */
void rd_pool_fini(struct rd_pool *p);

/* Promises 'n' more buffers, allocating one chunk if the pool holds fewer
 * than it has promised. Returns 0, or -1 when out of memory (nothing
 * changed; logged). */
int rd_pool_reserve(struct rd_pool *p, size_t n);
/* Takes back a promise of 'n' buffers (the buffers stay in the pool). */
void rd_pool_unreserve(struct rd_pool *p, size_t n);

/* A free buffer (len 0), or NULL if none is left. O(1). */
struct rd_buf *rd_pool_get(struct rd_pool *p);
/* Gives a buffer back. O(1). NULL ok. */
void rd_pool_put(struct rd_pool *p, struct rd_buf *b);

#endif
