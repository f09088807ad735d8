/* pktio_shm: one end of a shared-memory link between two processes on one
 * host ("shm:PATH,side=a|b"), for chains of fast-path processes: a frame
 * crosses with one copy (into the peer's ring) and, while both sides are
 * busy, no system call.
 *
 * The link file (made by pktio_shm_create) holds a header page and two
 * rings of fixed-size slots, a->b then b->a. Each ring has one producer
 * and one consumer, with free-running 32-bit indices in the header, each
 * on its own cache line; a slot is the frame's length (4 bytes) and the
 * frame. Receiving hands out pointers into the slots and moves the
 * consumer index on at pktio_release(); sending copies into free slots
 * and publishes the producer index once per flush.
 *
 * Wakeups go through two FIFOs next to the file (PATH.a2b, PATH.b2a), so
 * that two processes in different network namespaces can find them by
 * path. The consumer's FIFO is its pktio_fd(). Before it sleeps, the
 * consumer sets its ring's need_wakeup flag, fences, and looks at the
 * producer index once more (pktio_arm); a producer, after publishing its
 * index, fences and looks at the flag, and only if it is set takes it
 * (exchange) and writes one byte into the FIFO. The two fences make sure
 * that one of them sees the other's store: no wakeup is lost, and a busy
 * consumer costs its producer no system call.
 *
 * The peer is another process and may be buggy: nothing read from the
 * shared memory is trusted for addressing. The geometry is read once at
 * open and checked against the file size; indices are masked; a producer
 * index more than a ring away from ours resynchronises the ring; a slot
 * length outside 14..capacity skips the slot. Each side's own index lives
 * in shared memory too, so a side that restarts resumes where it was. */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdalign.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "pktio_impl.h"

#define SHM_MAGIC 0x4b4c4e56u /* "VNLK" in memory */
#define SHM_VERSION 1u
#define SHM_HDR_BYTES 4096u /* the rings start on the next page */
#define SLOT_HDR 4u         /* frame length, then the frame */
#define ETH_BYTES 14u       /* shortest frame we hand out */
/* Slot bytes that are not MTU: length, Ethernet header, a VLAN tag,
 * rounded up to a multiple of 8 (slot_bytes 2048: MTU 2024). */
#define MTU_OVERHEAD 24u
#define DEFAULT_SLOTS 1024u
#define DEFAULT_SLOT_BYTES 2048u
#define MIN_SLOTS 2u
#define MAX_SLOTS (1u << 20)
#define MIN_SLOT_BYTES 128u
#define MAX_SLOT_BYTES 9216u /* a frame of PKTIO_MAX_FRAME - 4 bytes */
#define MAX_RING_BYTES (512u << 20)
#define DRAIN_BYTES 64

static_assert(ATOMIC_INT_LOCK_FREE == 2,
              "the rings need lock-free 32-bit atomics");

/* One ring's indices. The producer writes 'prod' (store-release, after
 * the slots), the consumer 'cons' (store-release, after reading them);
 * the consumer sets 'need_wakeup' before it sleeps and whoever takes it
 * back first (exchange) owns it: a producer that takes it signals. */
struct shm_ring {
    alignas(64) _Atomic uint32_t prod;
    alignas(64) _Atomic uint32_t cons;
    alignas(64) _Atomic uint32_t need_wakeup;
};

/* The geometry at the start of the file; read once, at open. */
struct shm_geom {
    uint32_t magic, version;
    uint32_t slots;      /* per ring, a power of two */
    uint32_t slot_bytes; /* a multiple of 64 */
    uint32_t hdr_bytes;  /* SHM_HDR_BYTES */
    uint32_t reserved;
    uint64_t file_bytes; /* hdr_bytes + 2 * slots * slot_bytes */
};

struct shm_hdr {
    struct shm_geom geom;
    struct shm_ring ring[2]; /* [0]: a->b, [1]: b->a */
};
static_assert(sizeof(struct shm_hdr) <= SHM_HDR_BYTES, "header too big");
/* The file format (version 1); tests/lib/test_pktio_shm.c writes to it. */
static_assert(offsetof(struct shm_hdr, ring[0].prod) == 64 &&
                  offsetof(struct shm_hdr, ring[0].cons) == 128 &&
                  offsetof(struct shm_hdr, ring[0].need_wakeup) == 192 &&
                  offsetof(struct shm_hdr, ring[1].prod) == 256,
              "link file layout changed: bump SHM_VERSION");

struct shm_port {
    struct pktio base; /* base.fd: the receive FIFO */
    int file_fd;       /* kept open: its locks, and "was it removed?" */
    int tx_fifo;       /* the peer's FIFO: one byte wakes it */
    uint8_t *map;
    size_t map_bytes;
    uint32_t slots, mask, slot_bytes;
    uint32_t frame_cap; /* largest frame in a slot, bytes */
    struct shm_ring *tx, *rx;
    uint8_t *tx_slots, *rx_slots;
    /* Producer: next slot to fill, last published, consumer last seen. */
    uint32_t tx_prod, tx_published, tx_cons;
    /* Consumer: released up to 'rx_cons', handed out up to 'rx_next'. */
    uint32_t rx_cons, rx_next;
    uint32_t lent;    /* frames handed out since the last release */
    bool caller_arms; /* the owner calls pktio_arm() before it sleeps */
    bool drain;       /* we may have been signalled: read the FIFO */
    bool gone_told;   /* ENETDOWN for a removed file was reported */
};

static bool pow2(uint32_t x)
{
    return x != 0 && (x & (x - 1)) == 0;
}

/* NULL if 'slots' rings of 'slot_bytes' slots make a valid link, else why
 * not. */
static const char *geom_problem(uint32_t slots, uint32_t slot_bytes)
{
    if (!pow2(slots) || slots < MIN_SLOTS || slots > MAX_SLOTS)
        return "slots must be a power of two from 2 to 1048576";
    if (slot_bytes % 64 != 0 || slot_bytes < MIN_SLOT_BYTES ||
        slot_bytes > MAX_SLOT_BYTES)
        return "slot_bytes must be a multiple of 64 from 128 to 9216";
    if ((uint64_t)slots * slot_bytes > MAX_RING_BYTES)
        return "a ring (slots * slot_bytes) may take at most 512 MiB";
    return NULL;
}

static uint64_t file_bytes(uint32_t slots, uint32_t slot_bytes)
{
    return SHM_HDR_BYTES + 2 * (uint64_t)slots * slot_bytes;
}

/* "PATH.a2b" (ring a->b, side b waits on it) or "PATH.b2a" into 'buf'.
 * Returns 0, or -1 if it does not fit. */
static int fifo_path(char *buf, size_t len, const char *path, char to_side)
{
    int n = snprintf(buf, len, "%s.%s", path, to_side == 'b' ? "a2b" : "b2a");

    return n < 0 || (size_t)n >= len ? -1 : 0;
}

static void set_err(char *err, size_t err_len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t err_len, const char *fmt, ...)
{
    va_list ap;

    if (err == NULL || err_len == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(err, err_len, fmt, ap);
    va_end(ap);
}

int pktio_shm_create(const char *path, unsigned slots, unsigned slot_bytes,
                     char *err, size_t err_len)
{
    char tmp[PATH_MAX], fifo[2][PATH_MAX];
    struct shm_geom g;
    const char *why;
    int fd = -1, rc = -1, e;

    set_err(err, err_len, "%s", "");
    slots = slots != 0 ? slots : DEFAULT_SLOTS;
    slot_bytes = slot_bytes != 0 ? slot_bytes : DEFAULT_SLOT_BYTES;
    if (path == NULL || path[0] == '\0') {
        set_err(err, err_len, "no path given for the link file");
        return -1;
    }
    if ((why = geom_problem(slots, slot_bytes)) != NULL) {
        set_err(err, err_len, "%s: %s (got %u slots of %u bytes)", path, why,
                slots, slot_bytes);
        return -1;
    }
    if (snprintf(tmp, sizeof(tmp), "%s.tmpXXXXXX", path) >= (int)sizeof(tmp) ||
        fifo_path(fifo[0], sizeof(fifo[0]), path, 'b') < 0 ||
        fifo_path(fifo[1], sizeof(fifo[1]), path, 'a') < 0) {
        set_err(err, err_len, "%s: path too long", path);
        return -1;
    }
    memset(&g, 0, sizeof(g));
    g.magic = SHM_MAGIC;
    g.version = SHM_VERSION;
    g.slots = slots;
    g.slot_bytes = slot_bytes;
    g.hdr_bytes = SHM_HDR_BYTES;
    g.file_bytes = file_bytes(slots, slot_bytes);
    /* Built under a temporary name and renamed into place: an opener sees
     * the old file or the complete new one, and ports still mapping the
     * old one keep a valid (cut off) mapping instead of a truncated one. */
    fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0) {
        set_err(err, err_len, "%s: cannot create: %s", tmp, strerror(errno));
        return -1;
    }
    /* Reserved now, so that a full tmpfs fails here and not as SIGBUS. */
    if ((e = posix_fallocate(fd, 0, (off_t)g.file_bytes)) != 0) {
        set_err(err, err_len, "%s: cannot reserve %llu bytes: %s", path,
                (unsigned long long)g.file_bytes, strerror(e));
        goto cleanup;
    }
    if (pwrite(fd, &g, sizeof(g), 0) != (ssize_t)sizeof(g)) {
        set_err(err, err_len, "%s: cannot write the header: %s", path,
                strerror(errno));
        goto cleanup;
    }
    for (int i = 0; i < 2; i++) {
        if (unlink(fifo[i]) < 0 && errno != ENOENT) {
            set_err(err, err_len, "%s: cannot remove the old one: %s", fifo[i],
                    strerror(errno));
            goto cleanup;
        }
        if (mkfifo(fifo[i], 0600) < 0) {
            set_err(err, err_len, "%s: mkfifo: %s", fifo[i], strerror(errno));
            goto cleanup;
        }
    }
    if (rename(tmp, path) < 0) {
        set_err(err, err_len, "%s: cannot rename %s to it: %s", path, tmp,
                strerror(errno));
        goto cleanup;
    }
    rc = 0;
cleanup:
    if (fd >= 0)
        close(fd);
    if (rc < 0)
        (void)unlink(tmp);
    return rc;
}

int pktio_shm_destroy(const char *path)
{
    char fifo[2][PATH_MAX];
    const char *names[3] = {path, fifo[0], fifo[1]};
    int rc = 0;

    if (fifo_path(fifo[0], sizeof(fifo[0]), path, 'b') < 0 ||
        fifo_path(fifo[1], sizeof(fifo[1]), path, 'a') < 0) {
        log_err("%s: path too long", path);
        return -1;
    }
    for (int i = 0; i < 3; i++) {
        if (unlink(names[i]) < 0 && errno != ENOENT) {
            log_err("%s: %s", names[i], strerror(errno));
            rc = -1;
        }
    }
    return rc;
}

static uint8_t *slot_at(uint8_t *slots, const struct shm_port *s, uint32_t i)
{
    return slots + (size_t)(i & s->mask) * s->slot_bytes;
}

static _Atomic uint32_t *slot_len(uint8_t *slot)
{
    return (_Atomic uint32_t *)(void *)slot;
}

/* Empties the receive FIFO (it holds a byte per wakeup). */
static void drain_fifo(struct shm_port *s)
{
    char buf[DRAIN_BYTES];

    while (read(s->base.fd, buf, sizeof(buf)) == (ssize_t)sizeof(buf))
        ;
}

/* FNV-1a, for the MAC address. */
static uint64_t fnv1a(const char *str)
{
    uint64_t h = 0xcbf29ce484222325ull;

    for (; *str != '\0'; str++)
        h = (h ^ (uint8_t)*str) * 0x100000001b3ull;
    return h;
}

/* Name, MTU and MAC of side 'side' of 'path'. */
static void port_identity(struct shm_port *s, const char *path, char side)
{
    const char *base = strrchr(path, '/');
    char *real = realpath(path, NULL);
    uint64_t h = fnv1a(real != NULL ? real : path);

    base = base != NULL ? base + 1 : path;
    snprintf(s->base.name, sizeof(s->base.name), "%.*s:%c",
             (int)sizeof(s->base.name) - 3, base, side);
    s->base.mtu = (int)(s->slot_bytes - MTU_OVERHEAD);
    /* Locally administered, unicast; the sides differ in the last bit. */
    s->base.mac[0] = 0x02;
    for (int i = 1; i < 6; i++)
        s->base.mac[i] = (uint8_t)(h >> (8 * i));
    s->base.mac[5] = (uint8_t)((s->base.mac[5] & 0xfe) | (side == 'b'));
    free(real);
}

static void shm_port_close(struct pktio *p);

/* Parses "PATH,side=a|b": the path into 'path', the side into '*side'. */
static int parse_arg(const char *arg, char *path, size_t path_len, char *side)
{
    const char *comma = strrchr(arg, ',');
    size_t len;

    if (comma == NULL) {
        log_err("bad port spec 'shm:%s': add ',side=a' or ',side=b'", arg);
        return -1;
    }
    if (strcmp(comma + 1, "side=a") != 0 && strcmp(comma + 1, "side=b") != 0) {
        log_err("bad port spec 'shm:%s': the option must be side=a or "
                "side=b",
                arg);
        return -1;
    }
    *side = comma[6];
    len = (size_t)(comma - arg);
    if (len == 0 || len >= path_len) {
        log_err("bad port spec 'shm:%s': %s path", arg,
                len == 0 ? "no" : "too long a");
        return -1;
    }
    memcpy(path, arg, len);
    path[len] = '\0';
    return 0;
}

/* Opens, locks and checks the link file; maps it. */
static int map_file(struct shm_port *s, const char *path, char side)
{
    struct flock lk = {
        .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = side, .l_len = 1};
    struct shm_geom g;
    struct stat st;
    const char *why;
    void *m;

    s->file_fd = open(path, O_RDWR | O_CLOEXEC);
    if (s->file_fd < 0) {
        log_err("%s: %s (create it with pktio_shm_create first)", path,
                strerror(errno));
        return -1;
    }
    /* One opener per side: an open file description lock on byte 'a' or
     * 'b', which goes away with the descriptor, also when a process dies. */
    if (fcntl(s->file_fd, F_OFD_SETLK, &lk) < 0) {
        if (errno == EAGAIN || errno == EACCES)
            log_err("%s: side %c is open already (in this or another "
                    "process)",
                    path, side);
        else
            log_err("%s: cannot lock side %c: %s", path, side, strerror(errno));
        return -1;
    }
    if (fstat(s->file_fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        log_err("%s: not a regular file", path);
        return -1;
    }
    if ((uint64_t)st.st_size < sizeof(g) ||
        pread(s->file_fd, &g, sizeof(g), 0) != (ssize_t)sizeof(g)) {
        log_err("%s: too short for a link file (%lld bytes)", path,
                (long long)st.st_size);
        return -1;
    }
    if (g.magic != SHM_MAGIC || g.version != SHM_VERSION) {
        log_err("%s: not a link file (magic %#x, version %u; want %#x, %u)",
                path, g.magic, g.version, SHM_MAGIC, SHM_VERSION);
        return -1;
    }
    if ((why = geom_problem(g.slots, g.slot_bytes)) != NULL ||
        g.hdr_bytes != SHM_HDR_BYTES) {
        log_err("%s: bad geometry in the header (%u slots of %u bytes, "
                "header %u bytes): %s",
                path, g.slots, g.slot_bytes, g.hdr_bytes,
                why != NULL ? why : "bad header size");
        return -1;
    }
    if (g.file_bytes != file_bytes(g.slots, g.slot_bytes) ||
        (uint64_t)st.st_size != g.file_bytes) {
        log_err("%s: %lld bytes, but its header says %u slots of %u bytes "
                "(%llu bytes): cut short or corrupt",
                path, (long long)st.st_size, g.slots, g.slot_bytes,
                (unsigned long long)file_bytes(g.slots, g.slot_bytes));
        return -1;
    }
    m = mmap(NULL, (size_t)g.file_bytes, PROT_READ | PROT_WRITE,
             MAP_SHARED | MAP_POPULATE, s->file_fd, 0);
    if (m == MAP_FAILED) {
        log_err("%s: mmap of %llu bytes: %s", path,
                (unsigned long long)g.file_bytes, strerror(errno));
        return -1;
    }
    s->map = m;
    s->map_bytes = (size_t)g.file_bytes;
    s->slots = g.slots;
    s->mask = g.slots - 1;
    s->slot_bytes = g.slot_bytes;
    s->frame_cap = g.slot_bytes - SLOT_HDR;
    return 0;
}

/* Opens the FIFO that wakes side 'to_side' of 'path'. */
static int open_fifo(const char *path, char to_side)
{
    char name[PATH_MAX];
    struct stat st;
    int fd;

    if (fifo_path(name, sizeof(name), path, to_side) < 0) {
        log_err("%s: path too long", path);
        return -1;
    }
    /* O_RDWR: never blocks at open, and the FIFO always has a reader. */
    fd = open(name, O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        log_err("%s: %s (made by pktio_shm_create with the link file)", name,
                strerror(errno));
        return -1;
    }
    if (fstat(fd, &st) < 0 || !S_ISFIFO(st.st_mode)) {
        log_err("%s: not a FIFO", name);
        close(fd);
        return -1;
    }
    return fd;
}

static struct pktio *shm_port_open(const char *arg,
                                   const struct sock_filter *insns,
                                   unsigned n_insns)
{
    struct shm_port *s = NULL;
    struct shm_hdr *h;
    char path[PATH_MAX];
    char side = 0;

    (void)insns;
    if (n_insns > 0) {
        log_err("shm:%s: a shm port cannot run a filter (%u instructions "
                "given): filter in the sending process, or use afpacket",
                arg, n_insns);
        return NULL;
    }
    if (parse_arg(arg, path, sizeof(path), &side) < 0)
        return NULL;
    s = calloc(1, sizeof(*s));
    if (s == NULL) {
        log_err("out of memory");
        return NULL;
    }
    s->base.ops = &pktio_shm_ops;
    s->base.fd = s->file_fd = s->tx_fifo = -1;
    if (map_file(s, path, side) < 0)
        goto fail;
    s->base.fd = open_fifo(path, side);
    s->tx_fifo = open_fifo(path, side == 'a' ? 'b' : 'a');
    if (s->base.fd < 0 || s->tx_fifo < 0)
        goto fail;
    h = (struct shm_hdr *)(void *)s->map;
    s->tx = &h->ring[side == 'a' ? 0 : 1];
    s->rx = &h->ring[side == 'a' ? 1 : 0];
    s->tx_slots = s->map + SHM_HDR_BYTES +
                  (side == 'a' ? 0 : (size_t)s->slots * s->slot_bytes);
    s->rx_slots = s->map + SHM_HDR_BYTES +
                  (side == 'a' ? (size_t)s->slots * s->slot_bytes : 0);
    /* Resume where this side was (a restart): our indices are ours. */
    s->tx_prod = s->tx_published =
        atomic_load_explicit(&s->tx->prod, memory_order_relaxed);
    s->tx_cons = atomic_load_explicit(&s->tx->cons, memory_order_acquire);
    s->rx_cons = s->rx_next =
        atomic_load_explicit(&s->rx->cons, memory_order_relaxed);
    /* Wakeups meant for a previous opener. */
    drain_fifo(s);
    port_identity(s, path, side);
    log_debug("%s: shm port up: side %c of %s, %u slots of %u bytes per "
              "ring, mtu %d",
              s->base.name, side, path, s->slots, s->slot_bytes, s->base.mtu);
    return &s->base;
fail:
    shm_port_close(&s->base);
    return NULL;
}

static int shm_tx_flush(struct pktio *p);

static void shm_port_close(struct pktio *p)
{
    struct shm_port *s = (struct shm_port *)p;

    if (s->map != NULL) {
        (void)shm_tx_flush(p); /* committed frames go to the peer */
        munmap(s->map, s->map_bytes);
    }
    if (s->base.fd >= 0)
        close(s->base.fd);
    if (s->tx_fifo >= 0)
        close(s->tx_fifo);
    if (s->file_fd >= 0)
        close(s->file_fd);
    free(s);
}

/* Asks the producer for a wakeup; returns 1 if input is waiting already
 * (then takes the request back), 0 if the caller may sleep. */
static int arm(struct shm_port *s)
{
    uint32_t prod;

    /* Our consumer index, should the shared copy have been overwritten:
     * the producer would otherwise wait for a release that never comes. */
    if (atomic_load_explicit(&s->rx->cons, memory_order_relaxed) != s->rx_cons)
        atomic_store_explicit(&s->rx->cons, s->rx_cons, memory_order_release);
    atomic_store_explicit(&s->rx->need_wakeup, 1, memory_order_relaxed);
    /* Pairs with the fence in shm_tx_flush(): either the producer sees the
     * flag, or we see its index. */
    atomic_thread_fence(memory_order_seq_cst);
    prod = atomic_load_explicit(&s->rx->prod, memory_order_acquire);
    if (prod == s->rx_next) {
        s->drain = true; /* the caller sleeps, and is woken by a byte */
        return 0;
    }
    /* Not sleeping after all. If the producer took the flag first, its
     * byte is (or will be) in the FIFO: drain it at the next receive
     * (as also when an earlier arm left a byte there). */
    if (atomic_exchange_explicit(&s->rx->need_wakeup, 0,
                                 memory_order_acq_rel) == 0)
        s->drain = true;
    return 1;
}

static int shm_arm(struct pktio *p)
{
    struct shm_port *s = (struct shm_port *)p;

    s->caller_arms = true;
    return arm(s);
}

static void shm_release(struct pktio *p);

static int shm_recv(struct pktio *p, struct pktio_pkt *pkts, int max)
{
    struct shm_port *s = (struct shm_port *)p;
    uint32_t prod;
    uint64_t now;
    int n = 0;

    if (max <= 0)
        return 0;
    if (s->drain) {
        /* We armed and may have slept: awake now, so take the flag back
         * (no signals while we are busy) and empty the FIFO, lest poll()
         * report it ready for ever. A byte written after this read wakes
         * the next poll() once, and is read after it. */
        s->drain = false;
        if (atomic_load_explicit(&s->rx->need_wakeup, memory_order_relaxed))
            (void)atomic_exchange_explicit(&s->rx->need_wakeup, 0,
                                           memory_order_acq_rel);
        drain_fifo(s);
    }
    prod = atomic_load_explicit(&s->rx->prod, memory_order_acquire);
    /* An owner that never arms (its own poll loop) would sleep through
     * our frames: arm for it whenever the ring is empty. */
    if (prod == s->rx_next && !s->caller_arms) {
        if (arm(s) == 0)
            return 0;
        prod = atomic_load_explicit(&s->rx->prod, memory_order_acquire);
    }
    if (prod - s->rx_cons > s->slots || prod - s->rx_next > s->slots) {
        log_warn_rl("%s: producer index %u out of range (consumer at %u, "
                    "%u slots): ring corrupt, skipping to it",
                    p->name, prod, s->rx_next, s->slots);
        p->st.rx_dropped++;
        s->rx_cons = s->rx_next = prod;
        s->lent = 0;
        atomic_store_explicit(&s->rx->cons, prod, memory_order_release);
        return 0;
    }
    if (prod == s->rx_next)
        return 0;
    now = pktio_realtime_ns(); /* one reading per burst */
    while (n < max && s->rx_next != prod) {
        uint8_t *slot = slot_at(s->rx_slots, s, s->rx_next);
        /* Read once: the peer may change it under us. */
        uint32_t len =
            atomic_load_explicit(slot_len(slot), memory_order_relaxed);

        s->rx_next++;
        if (len < ETH_BYTES || len > s->frame_cap) {
            log_warn_rl("%s: slot with a frame length of %u bytes "
                        "(%u..%u): skipped",
                        p->name, len, ETH_BYTES, s->frame_cap);
            p->st.rx_oversize++;
            continue;
        }
        pkts[n].data = slot + SLOT_HDR;
        pkts[n].len = len;
        pkts[n].ts_ns = now;
        n++;
    }
    s->lent += (uint32_t)n;
    /* Only skipped slots and nothing lent out: give them back now, as
     * nobody calls pktio_release() after an empty receive. */
    if (s->lent == 0)
        shm_release(p);
    return n;
}

static void shm_release(struct pktio *p)
{
    struct shm_port *s = (struct shm_port *)p;

    s->lent = 0;
    if (s->rx_cons == s->rx_next)
        return;
    s->rx_cons = s->rx_next;
    atomic_store_explicit(&s->rx->cons, s->rx_cons, memory_order_release);
}

static uint8_t *shm_tx_alloc(struct pktio *p, uint32_t *cap)
{
    struct shm_port *s = (struct shm_port *)p;

    if (s->tx_prod - s->tx_cons >= s->slots) {
        uint32_t cons =
            atomic_load_explicit(&s->tx->cons, memory_order_acquire);

        if (s->tx_prod - cons > s->slots) {
            log_warn_rl("%s: consumer index %u out of range (producer at "
                        "%u, %u slots): ring corrupt, treated as full",
                        p->name, cons, s->tx_prod, s->slots);
            /* Should our own index have been overwritten (the consumer
             * then follows it), publish it again: the consumer skips to
             * it and the ring recovers. */
            atomic_store_explicit(&s->tx->prod, s->tx_published,
                                  memory_order_release);
            return NULL;
        }
        s->tx_cons = cons;
        if (s->tx_prod - cons == s->slots)
            return NULL;
    }
    *cap = s->frame_cap;
    return slot_at(s->tx_slots, s, s->tx_prod) + SLOT_HDR;
}

static void shm_tx_commit(struct pktio *p, uint32_t len)
{
    struct shm_port *s = (struct shm_port *)p;

    if (s->tx_prod - s->tx_cons >= s->slots || len > s->frame_cap) {
        log_warn_rl("%s: commit of %u bytes without a TX slot (internal "
                    "error)",
                    p->name, len);
        return;
    }
    atomic_store_explicit(slot_len(slot_at(s->tx_slots, s, s->tx_prod)), len,
                          memory_order_relaxed);
    s->tx_prod++;
}

static int shm_tx_flush(struct pktio *p)
{
    struct shm_port *s = (struct shm_port *)p;

    if (s->tx_prod == s->tx_published)
        return 0;
    atomic_store_explicit(&s->tx->prod, s->tx_prod, memory_order_release);
    s->tx_published = s->tx_prod;
    /* Pairs with the fence in arm(). */
    atomic_thread_fence(memory_order_seq_cst);
    if (atomic_load_explicit(&s->tx->need_wakeup, memory_order_relaxed) == 0 ||
        atomic_exchange_explicit(&s->tx->need_wakeup, 0,
                                 memory_order_acq_rel) == 0)
        return 0;
    for (;;) {
        if (write(s->tx_fifo, "", 1) == 1 || errno == EAGAIN)
            return 0; /* EAGAIN: the FIFO is full, the peer awake */
        if (errno != EINTR)
            break;
    }
    log_warn_rl("%s: cannot wake the peer: %s", p->name, strerror(errno));
    return -1;
}

/* ENETDOWN once, if the link file was removed (or created anew): nobody
 * new can reach us. */
static int shm_error(struct pktio *p)
{
    struct shm_port *s = (struct shm_port *)p;
    struct stat st;

    if (s->gone_told || fstat(s->file_fd, &st) < 0 || st.st_nlink > 0)
        return 0;
    s->gone_told = true;
    return ENETDOWN;
}

const struct pktio_ops pktio_shm_ops = {
    .name = "shm",
    .open = shm_port_open,
    .close = shm_port_close,
    .recv = shm_recv,
    .release = shm_release,
    .tx_alloc = shm_tx_alloc,
    .tx_commit = shm_tx_commit,
    .tx_flush = shm_tx_flush,
    .arm = shm_arm,
    .error = shm_error,
};
