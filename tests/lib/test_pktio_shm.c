/* Tests for lib/pktio_shm.c, the shared-memory link backend: frames both
 * ways byte for byte, identity (name, MTU, MAC), a full ring, arming and
 * wakeups (also between two processes, 200000 frames in random bursts,
 * nothing lost, no wakeup missed), a corrupt ring or header written
 * through a second mapping, a side that closes and reopens, removal, and
 * bad specs. No root needed: everything lives in a directory under /tmp.
 *
 * PKTIO_SHM_BENCH=SECONDS also runs a throughput check (64-byte frames
 * between two processes, pinned to two CPUs and then to one) and prints
 * the rates; it is off otherwise. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <poll.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "log.h"
#include "pktio.h"

/* The file format, as pktio_shm.c lays it out: header page, then ring
 * a->b, then ring b->a; per ring three cache lines (producer index,
 * consumer index, need_wakeup); a slot is a 4-byte length and the frame. */
#define OFF_MAGIC 0
#define OFF_SLOTS 8
#define OFF_SLOT_BYTES 12
#define OFF_PROD(r) (64 + (r)*192)
#define OFF_CONS(r) (64 + (r)*192 + 64)
#define OFF_NEED(r) (64 + (r)*192 + 128)
#define OFF_RINGS 4096

struct fixture {
    char dir[64];
    char path[128];
    char spec_a[160], spec_b[160];
    char log[128];
};

/* Failures in a forked child print and exit (a cmocka assert there would
 * jump back into the parent's copy of the runner). */
#define CHECK(c)                                                               \
    do {                                                                       \
        if (!(c)) {                                                            \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__,   \
                    #c);                                                       \
            _exit(1);                                                          \
        }                                                                      \
    } while (0)

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));

    assert_non_null(f);
    strcpy(f->dir, "/tmp/test_pktio_shm.XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof(f->path), "%s/link", f->dir);
    snprintf(f->spec_a, sizeof(f->spec_a), "shm:%s,side=a", f->path);
    snprintf(f->spec_b, sizeof(f->spec_b), "shm:%s,side=b", f->path);
    snprintf(f->log, sizeof(f->log), "%s/log", f->dir);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    DIR *d = opendir(f->dir);
    struct dirent *e;
    char name[400];

    vn_log_init(NULL, VN_LOG_WARN, NULL);
    while (d != NULL && (e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(name, sizeof(name), "%s/%s", f->dir, e->d_name);
        unlink(name);
    }
    if (d != NULL)
        closedir(d);
    assert_int_equal(rmdir(f->dir), 0);
    free(f);
    return 0;
}

static void create(const struct fixture *f, unsigned slots, unsigned slot_bytes)
{
    char err[256] = "x";

    assert_int_equal(
        pktio_shm_create(f->path, slots, slot_bytes, err, sizeof(err)), 0);
    assert_string_equal(err, "");
}

/* Logs to a file from now on (until teardown), so that a test can look
 * for a message. */
static void log_to_file(const struct fixture *f)
{
    assert_int_equal(vn_log_init(NULL, VN_LOG_WARN, f->log), 0);
}

static bool logged(const struct fixture *f, const char *needle)
{
    char buf[16384];
    FILE *fp = fopen(f->log, "r");
    size_t n;

    if (fp == NULL)
        return false;
    n = fread(buf, 1, sizeof(buf) - 1, fp);
    fclose(fp);
    buf[n] = '\0';
    return strstr(buf, needle) != NULL;
}

/* A frame of 'len' bytes carrying 'seq': Ethernet header, the sequence
 * number, then bytes that depend on both. */
static void make_frame(uint8_t *buf, uint32_t len, uint32_t seq)
{
    memcpy(buf, "\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01\x88\xb5",
           len < 14 ? len : 14);
    for (uint32_t i = 14; i < len; i++)
        buf[i] = (uint8_t)(seq * 7 + i);
    if (len >= 18)
        memcpy(buf + 14, &seq, 4);
}

/* True if 'p' is the frame make_frame(len, seq) made. */
static bool frame_ok(const struct pktio_pkt *p, uint32_t len, uint32_t seq)
{
    uint8_t want[9216];

    if (p->len != len)
        return false;
    make_frame(want, len, seq);
    return memcmp(p->data, want, len) == 0;
}

static uint32_t frame_seq(const struct pktio_pkt *p)
{
    uint32_t seq;

    memcpy(&seq, p->data + 14, 4);
    return seq;
}

/* Sends frames seq .. seq + n - 1 of 'len' bytes in one pktio_send();
 * returns how many were queued. */
static int send_seq(struct pktio *p, uint32_t seq, int n, uint32_t len)
{
    static uint8_t bufs[PKTIO_BURST][2048];
    struct pktio_pkt pkts[PKTIO_BURST];

    assert_true(n <= PKTIO_BURST && len <= 2048);
    for (int i = 0; i < n; i++) {
        make_frame(bufs[i], len, seq + (uint32_t)i);
        pkts[i].data = bufs[i];
        pkts[i].len = len;
    }
    return pktio_send(p, pkts, n);
}

static uint64_t now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* 1 if 'fd' is readable now. */
static int readable(int fd)
{
    struct pollfd pfd = {.fd = fd, .events = POLLIN};

    return poll(&pfd, 1, 0);
}

static void open_pair(const struct fixture *f, struct pktio **a,
                      struct pktio **b)
{
    *a = pktio_open(f->spec_a);
    *b = pktio_open(f->spec_b);
    assert_non_null(*a);
    assert_non_null(*b);
}

/* ---- frames both ways, identity ---------------------------------------- */

static void test_both_ways(void **state)
{
    struct fixture *f = *state;
    struct pktio_pkt pkts[PKTIO_BURST];
    struct pktio_stats st;
    struct pktio *a, *b;
    uint8_t mac_a[6], mac_b[6], mac2[6], big[2100];
    uint32_t cap = 0, seq = 0, lens[100];
    uint64_t bytes = 0;
    int got = 0, n;

    create(f, 0, 0);
    open_pair(f, &a, &b);
    assert_string_equal(pktio_name(a), "link:a");
    assert_string_equal(pktio_name(b), "link:b");
    assert_int_equal(pktio_mtu(a), 2024);
    assert_int_equal(pktio_mtu(b), 2024);
    assert_true(pktio_fd(a) >= 0 && pktio_fd(b) >= 0);
    assert_int_not_equal(pktio_fd(a), pktio_fd(b));
    pktio_hwaddr(a, mac_a);
    pktio_hwaddr(b, mac_b);
    assert_int_equal(mac_a[0], 0x02); /* locally administered, unicast */
    assert_int_equal(mac_b[0], 0x02);
    assert_memory_not_equal(mac_a, mac_b, 6);
    assert_memory_equal(mac_a, mac_b, 5);
    assert_int_equal(pktio_error(a), 0);

    /* Every length from 14 bytes to the slot's capacity, in order. */
    assert_non_null(pktio_tx_alloc(a, &cap));
    assert_int_equal(cap, 2044);
    assert_true((uint32_t)pktio_mtu(a) + 18 <= cap); /* VLAN-tagged fits */
    for (int i = 0; i < 100; i++) {
        lens[i] = i == 0 ? 14 : i == 99 ? cap : 14 + (uint32_t)i * 20;
        assert_int_equal(send_seq(a, (uint32_t)i, 1, lens[i]), 1);
        bytes += lens[i];
    }
    while ((n = pktio_recv(b, pkts, PKTIO_BURST)) > 0) {
        for (int i = 0; i < n; i++) {
            assert_true(frame_ok(&pkts[i], lens[got], (uint32_t)got));
            assert_true(pkts[i].ts_ns > 1700000000ull * 1000000000ull);
            assert_true(pkts[i].ts_ns == pkts[0].ts_ns); /* one per burst */
            got++;
        }
        pktio_release(b);
    }
    assert_int_equal(got, 100);
    pktio_get_stats(a, &st);
    assert_int_equal(st.tx_packets, 100);
    assert_int_equal(st.tx_bytes, bytes);
    assert_int_equal(st.tx_dropped, 0);
    pktio_get_stats(b, &st);
    assert_int_equal(st.rx_packets, 100);
    assert_int_equal(st.rx_bytes, bytes);
    assert_int_equal(st.rx_dropped + st.rx_oversize, 0);
    /* Nothing came back to a. */
    assert_int_equal(pktio_recv(a, pkts, PKTIO_BURST), 0);

    /* b -> a, in bursts. */
    for (seq = 0; seq < 300; seq += 60)
        assert_int_equal(send_seq(b, 1000 + seq, 60, 60), 60);
    got = 0;
    while ((n = pktio_recv(a, pkts, 7)) > 0) {
        assert_true(n <= 7);
        for (int i = 0; i < n; i++, got++)
            assert_true(frame_ok(&pkts[i], 60, 1000 + (uint32_t)got));
        pktio_release(a);
    }
    assert_int_equal(got, 300);

    /* A frame larger than a slot is refused and counted; the next fits. */
    {
        struct pktio_pkt two[2] = {{big, 2045, 0}, {big, 100, 0}};

        make_frame(big, sizeof(big), 7);
        assert_int_equal(pktio_send(a, two, 2), 1);
        pktio_get_stats(a, &st);
        assert_int_equal(st.tx_dropped, 1);
        assert_int_equal(pktio_recv(b, pkts, PKTIO_BURST), 1);
        assert_int_equal(pkts[0].len, 100);
        pktio_release(b);
    }

    /* The MAC depends on the path and side only. */
    pktio_close(a);
    a = pktio_open(f->spec_a);
    assert_non_null(a);
    pktio_hwaddr(a, mac2);
    assert_memory_equal(mac_a, mac2, 6);
    pktio_close(a);
    pktio_close(b);

    /* A smaller slot gives a smaller MTU. */
    create(f, 64, 1024);
    a = pktio_open(f->spec_a);
    assert_non_null(a);
    assert_int_equal(pktio_mtu(a), 1000);
    pktio_close(a);
}

/* ---- full ring ----------------------------------------------------------- */

static void test_ring_full(void **state)
{
    struct fixture *f = *state;
    struct pktio_pkt pkts[PKTIO_BURST];
    struct pktio_stats st;
    struct pktio *a, *b;
    uint32_t cap;
    int n, got = 0;

    create(f, 16, 0);
    open_pair(f, &a, &b);
    assert_int_equal(send_seq(a, 0, 10, 64), 10);
    assert_int_equal(send_seq(a, 10, 10, 64), 6); /* 16 slots */
    pktio_get_stats(a, &st);
    assert_int_equal(st.tx_packets, 16);
    assert_int_equal(st.tx_dropped, 4);
    assert_null(pktio_tx_alloc(a, &cap));
    pktio_get_stats(a, &st);
    assert_int_equal(st.tx_dropped, 5);

    /* Received but not released: still full. */
    n = pktio_recv(b, pkts, 4);
    assert_int_equal(n, 4);
    assert_int_equal(send_seq(a, 16, 1, 64), 0);
    pktio_release(b);
    assert_int_equal(send_seq(a, 16, 4, 64), 4);
    assert_int_equal(send_seq(a, 20, 1, 64), 0);

    /* Everything queued arrives in order: 4..15, 16..19. */
    while ((n = pktio_recv(b, pkts, PKTIO_BURST)) > 0) {
        for (int i = 0; i < n; i++, got++)
            assert_true(frame_ok(&pkts[i], 64, 4 + (uint32_t)got));
        pktio_release(b);
    }
    assert_int_equal(got, 16);
    /* Around the ring many times. */
    for (uint32_t seq = 100; seq < 100 + 16 * 50; seq += 13) {
        assert_int_equal(send_seq(a, seq, 13, 80), 13);
        n = pktio_recv(b, pkts, PKTIO_BURST);
        assert_int_equal(n, 13);
        for (int i = 0; i < n; i++)
            assert_true(frame_ok(&pkts[i], 80, seq + (uint32_t)i));
        pktio_release(b);
    }
    pktio_close(a);
    pktio_close(b);
}

/* ---- arming and wakeups in one process ---------------------------------- */

static void test_arm(void **state)
{
    struct fixture *f = *state;
    struct pktio_pkt pkts[PKTIO_BURST];
    struct pktio *a, *b;
    struct pktio *ports[1];
    uint64_t t0;

    create(f, 0, 0);
    open_pair(f, &a, &b);
    ports[0] = b;

    /* Idle: arm says "sleep", and the descriptor is not ready. */
    assert_int_equal(pktio_arm(b), 0);
    assert_int_equal(readable(pktio_fd(b)), 0);
    t0 = now_us();
    assert_int_equal(pktio_wait(ports, 1, 100), 0);
    assert_true(now_us() - t0 >= 90000);

    /* A send to an armed side wakes it. */
    assert_int_equal(send_seq(a, 0, 3, 64), 3);
    assert_int_equal(readable(pktio_fd(b)), 1);
    assert_int_equal(pktio_recv(b, pkts, PKTIO_BURST), 3);
    pktio_release(b);
    assert_int_equal(readable(pktio_fd(b)), 0); /* the FIFO was read */

    /* Busy (not armed): sends cost no wakeup. */
    assert_int_equal(send_seq(a, 3, 3, 64), 3);
    assert_int_equal(readable(pktio_fd(b)), 0);
    /* Frames waiting: arm says "do not sleep", and so does pktio_wait. */
    assert_int_equal(pktio_arm(b), 1);
    assert_int_equal(pktio_arm(b), 1);
    assert_int_equal(pktio_wait(ports, 1, 5000), 1);
    assert_int_equal(pktio_recv(b, pkts, PKTIO_BURST), 3);
    pktio_release(b);
    assert_int_equal(pktio_arm(b), 0);
    assert_int_equal(readable(pktio_fd(b)), 0);

    /* Woken through pktio_wait(), with no spurious wakeups afterwards. */
    assert_int_equal(send_seq(a, 6, 1, 64), 1);
    assert_int_equal(pktio_wait(ports, 1, 5000), 1);
    assert_int_equal(pktio_recv(b, pkts, PKTIO_BURST), 1);
    pktio_release(b);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(pktio_recv(b, pkts, PKTIO_BURST), 0);
        assert_int_equal(pktio_wait(ports, 1, 20), 0);
    }

    /* pktio_wait() on other backends is unchanged. */
    {
        struct pktio *pc = pktio_open("pcap:,");

        assert_non_null(pc);
        assert_int_equal(pktio_arm(pc), 0);
        pktio_close(pc);
    }
    pktio_close(a);
    pktio_close(b);
}

/* An owner that never calls pktio_arm() (its own poll loop) is still
 * woken: an empty receive arms for it. */
static void test_owner_without_arm(void **state)
{
    struct fixture *f = *state;
    struct pktio_pkt pkts[PKTIO_BURST];
    struct pktio *a, *b;
    struct pollfd pfd;

    create(f, 0, 0);
    open_pair(f, &a, &b);
    for (uint32_t round = 0; round < 5; round++) {
        assert_int_equal(pktio_recv(b, pkts, PKTIO_BURST), 0);
        pfd = (struct pollfd){.fd = pktio_fd(b), .events = POLLIN};
        assert_int_equal(poll(&pfd, 1, 0), 0);
        assert_int_equal(send_seq(a, round, 1, 64), 1);
        pfd.revents = 0;
        assert_int_equal(poll(&pfd, 1, 1000), 1);
        assert_int_equal(pktio_recv(b, pkts, PKTIO_BURST), 1);
        assert_true(frame_ok(&pkts[0], 64, round));
        pktio_release(b);
    }
    pktio_close(a);
    pktio_close(b);
}

/* ---- two processes ------------------------------------------------------- */

#define XP_FRAMES 200000u
#define XP_POLL_MS 3000

/* What the receiving child reports through a pipe. */
struct xp_report {
    uint32_t frames, bad, timeouts, sleeps;
    uint64_t first_wake_us; /* CLOCK_MONOTONIC */
};

/* Side b in a child: first sleeps until the parent's first burst (and
 * notes when it woke), then receives until XP_FRAMES came, checking
 * sequence numbers and contents, sleeping in poll() whenever the ring is
 * empty. */
static void xp_child(const struct fixture *f, int ready_fd, int report_fd)
{
    struct xp_report r = {0};
    struct pktio_pkt pkts[PKTIO_BURST];
    struct pktio *b = pktio_open(f->spec_b);
    struct pollfd pfd;
    uint32_t want = 0;

    CHECK(b != NULL);
    pfd = (struct pollfd){.fd = pktio_fd(b), .events = POLLIN};
    CHECK(pktio_recv(b, pkts, PKTIO_BURST) == 0);
    CHECK(pktio_arm(b) == 0);
    CHECK(write(ready_fd, "r", 1) == 1);
    CHECK(poll(&pfd, 1, XP_POLL_MS) == 1);
    r.first_wake_us = now_us();
    while (want < XP_FRAMES && r.timeouts < 3) {
        int n = pktio_recv(b, pkts, PKTIO_BURST);

        for (int i = 0; i < n; i++, want++) {
            uint32_t len = 60 + want % 100;

            if (frame_seq(&pkts[i]) != want || !frame_ok(&pkts[i], len, want))
                r.bad++;
        }
        if (n > 0) {
            pktio_release(b);
            continue;
        }
        if (pktio_arm(b) > 0)
            continue;
        r.sleeps++;
        pfd.revents = 0;
        if (poll(&pfd, 1, XP_POLL_MS) == 0)
            r.timeouts++;
    }
    r.frames = want;
    CHECK(write(report_fd, &r, sizeof(r)) == (ssize_t)sizeof(r));
    pktio_close(b);
    _exit(0);
}

static void test_two_processes(void **state)
{
    struct fixture *f = *state;
    struct xp_report r;
    struct pktio_stats st;
    struct pktio *a;
    int ready[2], report[2], status = 0;
    uint32_t seq = 0;
    uint64_t t_send;
    unsigned rnd = 12345;
    char c;
    pid_t pid;

    create(f, 256, 0);
    a = pktio_open(f->spec_a);
    assert_non_null(a);
    assert_int_equal(pipe(ready), 0);
    assert_int_equal(pipe(report), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(ready[0]);
        close(report[0]);
        xp_child(f, ready[1], report[1]);
    }
    close(ready[1]);
    close(report[1]);
    assert_int_equal(read(ready[0], &c, 1), 1);
    usleep(50000); /* the child is asleep in poll() by now */
    t_send = now_us();

    while (seq < XP_FRAMES) {
        struct pktio_pkt pkts[PKTIO_BURST];
        static uint8_t bufs[PKTIO_BURST][200];
        int k = 1 + (int)((rnd = rnd * 1103515245u + 12345u) >> 16) % 64;
        int q;

        if ((uint32_t)k > XP_FRAMES - seq)
            k = (int)(XP_FRAMES - seq);
        for (int i = 0; i < k; i++) {
            uint32_t s = seq + (uint32_t)i, len = 60 + s % 100;

            make_frame(bufs[i], len, s);
            pkts[i] = (struct pktio_pkt){bufs[i], len, 0};
        }
        q = pktio_send(a, pkts, k);
        seq += (uint32_t)q;
        if (q < k)
            sched_yield(); /* full: let the child catch up */
        /* Now and then a pause, so that the child goes to sleep. */
        if ((rnd >> 8) % 64 == 0)
            usleep((rnd >> 4) % 300);
    }
    assert_int_equal(read(report[0], &r, sizeof(r)), (ssize_t)sizeof(r));
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    print_message("    first wakeup %lld us after the send; %u sleeps in "
                  "poll(), %u timeouts\n",
                  (long long)(r.first_wake_us - t_send), r.sleeps, r.timeouts);
    assert_int_equal(r.frames, XP_FRAMES);
    assert_int_equal(r.bad, 0);
    assert_int_equal(r.timeouts, 0);
    assert_true(r.first_wake_us - t_send < 1000000);
    assert_true(r.sleeps > 10); /* the wakeup path was exercised */
    pktio_get_stats(a, &st);
    assert_int_equal(st.tx_packets, XP_FRAMES);
    close(ready[0]);
    close(report[0]);
    pktio_close(a);
}

/* ---- corruption ---------------------------------------------------------- */

/* A second mapping of the link file, as a buggy peer would have. */
static uint8_t *map_link(const struct fixture *f, size_t *len)
{
    struct stat st;
    int fd = open(f->path, O_RDWR);
    void *m;

    assert_true(fd >= 0);
    assert_int_equal(fstat(fd, &st), 0);
    *len = (size_t)st.st_size;
    m = mmap(NULL, *len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    assert_true(m != MAP_FAILED);
    return m;
}

static uint32_t *u32_at(uint8_t *m, size_t off)
{
    return (uint32_t *)(void *)(m + off);
}

/* Reads every byte of a received frame. */
static uint64_t touch(const struct pktio_pkt *p)
{
    uint64_t sum = 0;

    for (uint32_t i = 0; i < p->len; i++)
        sum += p->data[i];
    return sum;
}

static void test_corrupt_ring(void **state)
{
    struct fixture *f = *state;
    struct pktio_pkt pkts[PKTIO_BURST];
    struct pktio_stats st;
    struct pktio *a, *b;
    const uint32_t slots = 8, slot_bytes = 256;
    uint64_t sum = 0;
    size_t len;
    uint8_t *m;
    int n;

    log_to_file(f);
    create(f, slots, slot_bytes);
    open_pair(f, &a, &b);
    m = map_link(f, &len);

    /* A producer index far away: b skips to it and counts a drop... */
    assert_int_equal(send_seq(a, 0, 3, 64), 3);
    *u32_at(m, OFF_PROD(0)) = 1000003;
    assert_int_equal(pktio_recv(b, pkts, PKTIO_BURST), 0);
    pktio_get_stats(b, &st);
    assert_int_equal(st.rx_dropped, 1);
    assert_true(logged(f, "out of range"));
    /* ...and again when a publishes its real one; then all is well. */
    assert_int_equal(send_seq(a, 3, 2, 64), 2);
    assert_int_equal(pktio_recv(b, pkts, PKTIO_BURST), 0);
    pktio_get_stats(b, &st);
    assert_int_equal(st.rx_dropped, 2);
    assert_int_equal(send_seq(a, 5, 2, 64), 2);
    assert_int_equal(pktio_recv(b, pkts, PKTIO_BURST), 2);
    assert_true(frame_ok(&pkts[0], 64, 5) && frame_ok(&pkts[1], 64, 6));
    pktio_release(b);

    /* A producer index just behind what b already took. */
    assert_int_equal(send_seq(a, 7, 2, 64), 2);
    assert_int_equal(pktio_recv(b, pkts, 1), 1);
    *u32_at(m, OFF_PROD(0)) -= 2;
    assert_int_equal(pktio_recv(b, pkts, PKTIO_BURST), 0);
    pktio_release(b);
    pktio_get_stats(b, &st);
    assert_int_equal(st.rx_dropped, 3);
    /* Back to what a published: b takes up its frames again. */
    *u32_at(m, OFF_PROD(0)) += 2;
    assert_int_equal(pktio_recv(b, pkts, PKTIO_BURST), 2);
    assert_true(frame_ok(&pkts[0], 64, 7) && frame_ok(&pkts[1], 64, 8));
    pktio_release(b);
    pktio_get_stats(b, &st);
    assert_int_equal(st.rx_dropped, 3);

    /* Slot lengths: too long, too short, huge: skipped and counted. */
    {
        uint32_t prod = *u32_at(m, OFF_PROD(0));
        const uint32_t bad[3] = {slot_bytes - 3, 13, 0xffffffffu};

        assert_int_equal(send_seq(a, 20, 5, 64), 5);
        for (uint32_t i = 0; i < 3; i++)
            *u32_at(m, OFF_RINGS + ((prod + 1 + i) % slots) * slot_bytes) =
                bad[i];
        n = pktio_recv(b, pkts, PKTIO_BURST);
        assert_int_equal(n, 2);
        assert_true(frame_ok(&pkts[0], 64, 20));
        assert_true(frame_ok(&pkts[1], 64, 24));
        pktio_release(b);
        pktio_get_stats(b, &st);
        assert_int_equal(st.rx_oversize, 3);
        assert_true(logged(f, "skipped"));
    }
    /* Only bad slots: skipped, and their slots given back at once. */
    {
        uint32_t prod = *u32_at(m, OFF_PROD(0));

        assert_int_equal(send_seq(a, 30, 2, 64), 2);
        *u32_at(m, OFF_RINGS + (prod % slots) * slot_bytes) = 0;
        *u32_at(m, OFF_RINGS + ((prod + 1) % slots) * slot_bytes) = 5000;
        assert_int_equal(pktio_recv(b, pkts, PKTIO_BURST), 0);
        assert_int_equal(*u32_at(m, OFF_CONS(0)), prod + 2);
    }

    /* A consumer index that makes the ring look over-full: a treats it as
     * full (never writing past the ring) once it looks; b's release or
     * arm puts it right. */
    {
        _Atomic uint32_t *cons = (_Atomic uint32_t *)u32_at(m, OFF_CONS(0));
        int sent;

        *cons += 100;
        sent = send_seq(a, 40, (int)slots, 64);
        assert_true(sent < (int)slots);
        assert_true(logged(f, "treated as full"));
        assert_int_equal(pktio_recv(b, pkts, PKTIO_BURST), sent);
        for (int i = 0; i < sent; i++)
            assert_true(frame_ok(&pkts[i], 64, 40 + (uint32_t)i));
        pktio_release(b);
        assert_int_equal(pktio_arm(b), 0);
        assert_int_equal(send_seq(a, 100, (int)slots, 64), (int)slots);
        *cons = 77; /* while b holds them: its release repairs it */
        assert_int_equal(pktio_recv(b, pkts, PKTIO_BURST), (int)slots);
        for (int i = 0; i < (int)slots; i++)
            assert_true(frame_ok(&pkts[i], 64, 100 + (uint32_t)i));
        pktio_release(b);
        assert_int_equal(send_seq(a, 200, (int)slots, 64), (int)slots);
        *cons = 77;
        assert_int_equal(pktio_arm(b), 1); /* so does an arm */
        assert_int_equal(pktio_recv(b, pkts, PKTIO_BURST), (int)slots);
        pktio_release(b);
        assert_int_equal(send_seq(a, 300, (int)slots, 64), (int)slots);
        assert_int_equal(pktio_recv(b, pkts, PKTIO_BURST), (int)slots);
        pktio_release(b);
    }

    /* The geometry is read once, at open: scribbling on it later changes
     * nothing for open ports. */
    *u32_at(m, OFF_SLOTS) = 0x40000000;
    *u32_at(m, OFF_SLOT_BYTES) = 0xfffffff0;
    *u32_at(m, OFF_NEED(0)) = 0xdeadbeef; /* any non-zero means "wake" */
    assert_int_equal(send_seq(a, 60, 5, 200), 5);
    n = pktio_recv(b, pkts, PKTIO_BURST);
    assert_int_equal(n, 5);
    for (int i = 0; i < n; i++)
        assert_true(frame_ok(&pkts[i], 200, 60 + (uint32_t)i));
    pktio_release(b);
    assert_int_equal(pktio_arm(b), 0);

    /* Random garbage all over the header and the slots: every frame
     * handed out lies in the ring (each byte is read), nothing crashes. */
    srand(7);
    for (int round = 0; round < 2000; round++) {
        size_t off = (size_t)rand() % (len / 4) * 4;

        if (round % 3 == 0) /* an index or a need_wakeup flag */
            off = (size_t)OFF_PROD(rand() % 2) + (size_t)(rand() % 3) * 64;
        else if (round % 3 == 1) /* a slot's length */
            off = OFF_RINGS + (size_t)(rand() % (2 * (int)slots)) * slot_bytes;
        (void)send_seq(a, (uint32_t)round, 1 + rand() % 8, 64);
        (void)send_seq(b, (uint32_t)round, 1 + rand() % 8, 64);
        *u32_at(m, off) = (uint32_t)rand() * ((rand() & 1) ? 1u : 2654435761u);
        n = pktio_recv(b, pkts, PKTIO_BURST);
        for (int i = 0; i < n; i++) {
            assert_true(pkts[i].len >= 14 && pkts[i].len <= slot_bytes - 4);
            sum += touch(&pkts[i]);
        }
        if (rand() % 2)
            pktio_release(b);
        n = pktio_recv(a, pkts, PKTIO_BURST);
        for (int i = 0; i < n; i++) {
            assert_true(pkts[i].len >= 14 && pkts[i].len <= slot_bytes - 4);
            sum += touch(&pkts[i]);
        }
        pktio_release(a);
        (void)pktio_arm(a);
        (void)pktio_arm(b);
    }
    pktio_release(b);
    print_message("    (checksum of what was read: %llu)\n",
                  (unsigned long long)sum);
    pktio_get_stats(b, &st);
    print_message("    after garbage: b rx_packets %llu rx_dropped %llu "
                  "rx_oversize %llu\n",
                  (unsigned long long)st.rx_packets,
                  (unsigned long long)st.rx_dropped,
                  (unsigned long long)st.rx_oversize);
    assert_true(st.rx_dropped > 3 && st.rx_oversize > 5);
    munmap(m, len);
    pktio_close(a);
    pktio_close(b);
}

static void test_bad_header(void **state)
{
    struct fixture *f = *state;
    size_t len;
    uint8_t *m;
    int fd;

    log_to_file(f);

    create(f, 8, 256);
    m = map_link(f, &len);
    *u32_at(m, OFF_MAGIC) = 0x12345678;
    munmap(m, len);
    assert_null(pktio_open(f->spec_a));
    assert_true(logged(f, "not a link file"));

    create(f, 8, 256);
    m = map_link(f, &len);
    *u32_at(m, OFF_SLOTS) = 16; /* more than the file holds */
    munmap(m, len);
    assert_null(pktio_open(f->spec_a));
    assert_true(logged(f, "cut short or corrupt"));

    create(f, 8, 256);
    m = map_link(f, &len);
    *u32_at(m, OFF_SLOTS) = 7; /* not a power of two */
    munmap(m, len);
    assert_null(pktio_open(f->spec_b));
    assert_true(logged(f, "bad geometry"));

    create(f, 8, 256);
    fd = open(f->path, O_RDWR);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, 4096 + 256 * 8), 0); /* one ring only */
    close(fd);
    assert_null(pktio_open(f->spec_a));
    fd = open(f->path, O_RDWR);
    assert_int_equal(ftruncate(fd, 10), 0);
    close(fd);
    assert_null(pktio_open(f->spec_a));
    assert_true(logged(f, "too short"));

    /* Not created at all; the FIFOs missing. */
    assert_int_equal(pktio_shm_destroy(f->path), 0);
    assert_null(pktio_open(f->spec_a));
    assert_true(logged(f, "create it with pktio_shm_create"));
    create(f, 8, 256);
    {
        char fifo[200];

        snprintf(fifo, sizeof(fifo), "%s.a2b", f->path);
        assert_int_equal(unlink(fifo), 0);
    }
    assert_null(pktio_open(f->spec_b));
    assert_true(logged(f, ".a2b"));
}

/* ---- restart ------------------------------------------------------------- */

static void test_reopen(void **state)
{
    struct fixture *f = *state;
    struct pktio_pkt pkts[PKTIO_BURST];
    struct pktio *a, *b, *b2;
    int n;

    log_to_file(f);
    create(f, 0, 0);
    open_pair(f, &a, &b);

    /* One opener per side. */
    assert_null(pktio_open(f->spec_b));
    assert_true(logged(f, "side b is open already"));

    /* b takes 2 of 5, closes with 3 pending (and 1 taken but not given
     * back), comes back and gets them. */
    assert_int_equal(send_seq(a, 0, 5, 100), 5);
    assert_int_equal(pktio_recv(b, pkts, 2), 2);
    pktio_release(b);
    assert_int_equal(pktio_recv(b, pkts, 1), 1);
    pktio_close(b);
    b = pktio_open(f->spec_b);
    assert_non_null(b);
    n = pktio_recv(b, pkts, PKTIO_BURST);
    assert_int_equal(n, 3);
    for (int i = 0; i < n; i++)
        assert_true(frame_ok(&pkts[i], 100, 2 + (uint32_t)i));
    pktio_release(b);

    /* a restarts and goes on where it was. */
    assert_int_equal(send_seq(a, 5, 2, 100), 2);
    pktio_close(a);
    a = pktio_open(f->spec_a);
    assert_non_null(a);
    assert_int_equal(send_seq(a, 7, 2, 100), 2);
    n = pktio_recv(b, pkts, PKTIO_BURST);
    assert_int_equal(n, 4);
    for (int i = 0; i < n; i++)
        assert_true(frame_ok(&pkts[i], 100, 5 + (uint32_t)i));
    pktio_release(b);

    /* Committed but not flushed at close: published by the close. */
    {
        uint32_t cap = 0;
        uint8_t *buf = pktio_tx_alloc(a, &cap);

        assert_non_null(buf);
        make_frame(buf, 90, 9);
        pktio_tx_commit(a, 90);
        pktio_close(a);
        assert_int_equal(pktio_recv(b, pkts, PKTIO_BURST), 1);
        assert_true(frame_ok(&pkts[0], 90, 9));
        pktio_release(b);
    }

    /* The file removed under open ports: they go on, and say ENETDOWN
     * once. */
    a = pktio_open(f->spec_a);
    assert_non_null(a);
    assert_int_equal(pktio_error(b), 0);
    assert_int_equal(pktio_shm_destroy(f->path), 0);
    assert_int_equal(pktio_error(b), ENETDOWN);
    assert_int_equal(pktio_error(b), 0);
    assert_int_equal(send_seq(a, 10, 1, 100), 1);
    assert_int_equal(pktio_recv(b, pkts, PKTIO_BURST), 1);
    pktio_release(b);

    /* Created anew: the old ports are cut off, new ones work. */
    create(f, 0, 0);
    b2 = pktio_open(f->spec_b);
    assert_non_null(b2);
    assert_int_equal(send_seq(a, 11, 1, 100), 1);
    assert_int_equal(pktio_recv(b2, pkts, PKTIO_BURST), 0);
    pktio_close(a);
    pktio_close(b);
    pktio_close(b2);
}

/* ---- removal, bad specs, bad parameters -------------------------------- */

static void test_destroy_and_bad_specs(void **state)
{
    struct fixture *f = *state;
    const struct sock_filter accept_all[1] = {
        BPF_STMT(BPF_RET | BPF_K, 0xffff)};
    char name[200], spec[300], err[256];
    struct stat st;
    struct pktio *p;

    log_to_file(f);
    create(f, 0, 0);
    assert_int_equal(stat(f->path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(st.st_size, 4096 + 2 * 1024 * 2048);
    snprintf(name, sizeof(name), "%s.a2b", f->path);
    assert_int_equal(stat(name, &st), 0);
    assert_true(S_ISFIFO(st.st_mode));

    /* Filters are refused, with a reason. */
    assert_null(pktio_open_filter(f->spec_a, accept_all, 1));
    assert_true(logged(f, "cannot run a filter"));
    p = pktio_open_filter(f->spec_a, NULL, 0);
    assert_non_null(p);
    pktio_close(p);

    /* Bad specs. */
    assert_null(pktio_open("shm:"));
    assert_null(pktio_open("shm:,side=a"));
    snprintf(spec, sizeof(spec), "shm:%s", f->path);
    assert_null(pktio_open(spec));
    assert_true(logged(f, "add ',side=a' or ',side=b'"));
    snprintf(spec, sizeof(spec), "shm:%s,side=c", f->path);
    assert_null(pktio_open(spec));
    assert_true(logged(f, "side=a or side=b"));
    snprintf(spec, sizeof(spec), "shm:%s,side=", f->path);
    assert_null(pktio_open(spec));
    snprintf(spec, sizeof(spec), "shm:%s,side=a,mtu=9000", f->path);
    assert_null(pktio_open(spec));
    snprintf(spec, sizeof(spec), "shm:%s,side=ab", f->path);
    assert_null(pktio_open(spec));

    /* Bad parameters to create, with a reason. */
    assert_int_equal(pktio_shm_create(f->path, 1000, 0, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "power of two"));
    assert_int_equal(pktio_shm_create(f->path, 1, 0, err, sizeof(err)), -1);
    assert_int_equal(pktio_shm_create(f->path, 0, 100, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "multiple of 64"));
    assert_int_equal(pktio_shm_create(f->path, 0, 64, err, sizeof(err)), -1);
    assert_int_equal(pktio_shm_create(f->path, 0, 9280, err, sizeof(err)), -1);
    assert_int_equal(
        pktio_shm_create(f->path, 1u << 20, 9216, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "512 MiB"));
    assert_int_equal(
        pktio_shm_create("/nonexistent/dir/link", 0, 0, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "/nonexistent/dir/link"));
    assert_int_equal(pktio_shm_create("", 0, 0, err, sizeof(err)), -1);
    /* The refused ones left the existing link alone. */
    p = pktio_open(f->spec_b);
    assert_non_null(p);
    pktio_close(p);

    /* Removal takes all three files; twice is fine. */
    assert_int_equal(pktio_shm_destroy(f->path), 0);
    assert_int_equal(stat(f->path, &st), -1);
    assert_int_equal(stat(name, &st), -1);
    snprintf(name, sizeof(name), "%s.b2a", f->path);
    assert_int_equal(stat(name, &st), -1);
    assert_int_equal(pktio_shm_destroy(f->path), 0);
    assert_null(pktio_open(f->spec_a));
    snprintf(spec, sizeof(spec), "shm:%s/nothing,side=a", f->dir);
    assert_null(pktio_open(spec));
}

/* ---- throughput (by hand: PKTIO_SHM_BENCH=SECONDS) ---------------------- */

static void pin(int cpu)
{
    cpu_set_t set;

    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    CHECK(sched_setaffinity(0, sizeof(set), &set) == 0);
}

/* Sends 64-byte frames numbered from 0 on side a as fast as the ring
 * takes them (yielding when it is full), pinned to 'cpu', until killed. */
static void bench_sender(const char *spec, int cpu)
{
    struct pktio_pkt pkts[PKTIO_BURST];
    uint8_t bufs[32][64];
    uint32_t seq = 0;
    struct pktio *a;

    pin(cpu);
    a = pktio_open(spec);
    CHECK(a != NULL);
    for (int i = 0; i < 32; i++) {
        make_frame(bufs[i], 64, 0);
        pkts[i] = (struct pktio_pkt){bufs[i], 64, 0};
    }
    for (;;) {
        int q;

        for (int i = 0; i < 32; i++) {
            uint32_t s = seq + (uint32_t)i;

            memcpy(bufs[i] + 14, &s, 4);
        }
        q = pktio_send(a, pkts, 32);
        if (q < 32) {
            /* Full: what was not queued goes again, in order. */
            seq += (uint32_t)q;
            sched_yield();
            continue;
        }
        seq += 32;
    }
}

static double cpu_s(void)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/* CPU seconds of process 'pid' (/proc/PID/stat), or of every CPU of the
 * machine when 'pid' is 0 (/proc/stat, busy time only). */
static double proc_cpu_s(pid_t pid)
{
    unsigned long long v[8] = {0}, ticks = 0;
    char name[64], buf[1024];
    FILE *fp;
    size_t n;

    snprintf(name, sizeof(name), pid != 0 ? "/proc/%d/stat" : "/proc/stat",
             (int)pid);
    if ((fp = fopen(name, "r")) == NULL)
        return 0;
    n = fread(buf, 1, sizeof(buf) - 1, fp);
    fclose(fp);
    buf[n] = '\0';
    if (pid == 0) {
        if (sscanf(buf, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0],
                   &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]) == 8)
            ticks = v[0] + v[1] + v[2] + v[5] + v[6] + v[7]; /* not idle */
    } else {
        const char *p = strrchr(buf, ')');

        /* Fields after the name: state ... utime (12th) stime (13th). */
        if (p != NULL && sscanf(p + 2,
                                "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u "
                                "%*u %llu %llu",
                                &v[0], &v[1]) == 2)
            ticks = v[0] + v[1];
    }
    return (double)ticks / (double)sysconf(_SC_CLK_TCK);
}

/* Receives on side b pinned to 'rx_cpu' for 'seconds', the sender pinned
 * to 'tx_cpu', reading each frame's sequence number; prints the rate, the
 * CPU of both sides and of everything else on the machine. */
static void bench_run(const char *dir, int tx_cpu, int rx_cpu, double seconds)
{
    char path[200], spec_a[256], spec_b[256], err[256];
    struct pktio_pkt pkts[PKTIO_BURST];
    struct pktio *b;
    uint64_t frames = 0, sleeps = 0, gaps = 0, t0, t1;
    double c0, s0, m0, rx_cpu_s, tx_cpu_s, all_s, wall;
    uint32_t next = 0;
    pid_t pid;

    snprintf(path, sizeof(path), "%s/bench-link", dir);
    snprintf(spec_a, sizeof(spec_a), "shm:%s,side=a", path);
    snprintf(spec_b, sizeof(spec_b), "shm:%s,side=b", path);
    assert_int_equal(pktio_shm_create(path, 0, 0, err, sizeof(err)), 0);
    pin(rx_cpu);
    b = pktio_open(spec_b);
    assert_non_null(b);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        bench_sender(spec_a, tx_cpu);
    t0 = now_us();
    for (bool counting = false;;) {
        int n = pktio_recv(b, pkts, PKTIO_BURST);

        t1 = now_us();
        if (!counting && t1 - t0 >= 300000) { /* warmed up */
            counting = true;
            t0 = t1;
            c0 = cpu_s();
            s0 = proc_cpu_s(pid);
            m0 = proc_cpu_s(0);
            frames = sleeps = gaps = 0;
        } else if (counting && t1 - t0 >= (uint64_t)(seconds * 1e6)) {
            break;
        }
        if (n > 0) {
            for (int i = 0; i < n; i++) {
                uint32_t seq = frame_seq(&pkts[i]);

                gaps += seq != next;
                next = seq + 1;
            }
            frames += (uint64_t)n;
            pktio_release(b);
        } else if (pktio_arm(b) == 0) {
            sleeps++;
            (void)poll(&(struct pollfd){pktio_fd(b), POLLIN, 0}, 1, 100);
        }
    }
    wall = (double)(t1 - t0) / 1e6;
    rx_cpu_s = cpu_s() - c0;
    tx_cpu_s = proc_cpu_s(pid) - s0;
    all_s = proc_cpu_s(0) - m0;
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    print_message("    %-9s sender CPU%d receiver CPU%d: %6.2f Mpps, "
                  "receiver %3.0f %% CPU, sender %3.0f %%, others %3.0f %%; "
                  "%llu sleeps, %llu gaps\n",
                  dir[1] == 'd' ? "/dev/shm" : "/tmp", tx_cpu, rx_cpu,
                  (double)frames / wall / 1e6, 100 * rx_cpu_s / wall,
                  100 * tx_cpu_s / wall,
                  100 * (all_s - rx_cpu_s - tx_cpu_s) / wall,
                  (unsigned long long)sleeps, (unsigned long long)gaps);
    assert_int_equal(gaps, 0);
    pktio_close(b);
    pktio_shm_destroy(path);
}

static void test_throughput(void **state)
{
    struct fixture *f = *state;
    const char *env = getenv("PKTIO_SHM_BENCH");
    double seconds = env != NULL ? atof(env) : 0;
    char shm_dir[64];
    cpu_set_t all;

    if (seconds <= 0) {
        skip();
        return;
    }
    strcpy(shm_dir, "/dev/shm/test_pktio_shm.XXXXXX");
    assert_non_null(mkdtemp(shm_dir));
    assert_int_equal(sched_getaffinity(0, sizeof(all), &all), 0);
    for (int rep = 0; rep < 5; rep++) {
        bench_run(shm_dir, 0, 1, seconds);
        bench_run(shm_dir, 1, 1, seconds);
    }
    bench_run(f->dir, 0, 1, seconds); /* /tmp: a disk file system */
    assert_int_equal(sched_setaffinity(0, sizeof(all), &all), 0);
    assert_int_equal(rmdir(shm_dir), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_both_ways, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ring_full, setup, teardown),
        cmocka_unit_test_setup_teardown(test_arm, setup, teardown),
        cmocka_unit_test_setup_teardown(test_owner_without_arm, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_two_processes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_corrupt_ring, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_header, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reopen, setup, teardown),
        cmocka_unit_test_setup_teardown(test_destroy_and_bad_specs, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_throughput, setup, teardown),
    };
    vn_log_init("test_pktio_shm", VN_LOG_WARN, NULL);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
