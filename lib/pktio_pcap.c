/* pktio_pcap: a port made of two savefiles, for tests. "pcap:IN,OUT":
 * frames are read from IN (libpcap, pcap_open_offline) and frames sent are
 * appended to OUT (pcap_dump). Either may be empty: without IN the port
 * has ended at once, without OUT sent frames are counted and discarded.
 * A filter given at open is applied to IN with libpcap's BPF interpreter,
 * so tests exercise the same program the kernel would run. */
#include <errno.h>
#include <linux/filter.h>
#include <pcap/pcap.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "pktio_impl.h"

#define PCAP_MTU 9000

struct pcapio {
    struct pktio base;
    pcap_t *in, *dead;
    pcap_dumper_t *out;
    struct bpf_program prog; /* bf_len 0: no filter */
    uint8_t *rx_buf;         /* PKTIO_BURST frames of PKTIO_MAX_FRAME */
    uint8_t tx_buf[PKTIO_MAX_FRAME + 4];
};

static void pc_close(struct pktio *p)
{
    struct pcapio *c = (struct pcapio *)p;

    if (c->out != NULL)
        pcap_dump_close(c->out);
    if (c->dead != NULL)
        pcap_close(c->dead);
    if (c->in != NULL)
        pcap_close(c->in);
    free(c->prog.bf_insns);
    free(c->rx_buf);
    free(c);
}

/* Opens both files: 'in' and 'out' may be empty. */
static int pc_files(struct pcapio *c, const char *in, const char *out)
{
    char err[PCAP_ERRBUF_SIZE] = "";

    if (in[0] != '\0') {
        c->in = pcap_open_offline_with_tstamp_precision(
            in, PCAP_TSTAMP_PRECISION_NANO, err);
        if (c->in == NULL) {
            log_err("pcap input %s: %s", in, err);
            return -1;
        }
        if (pcap_datalink(c->in) != DLT_EN10MB) {
            log_err("pcap input %s: link type %d is not Ethernet", in,
                    pcap_datalink(c->in));
            return -1;
        }
    }
    if (out[0] != '\0') {
        c->dead = pcap_open_dead_with_tstamp_precision(
            DLT_EN10MB, 65535, PCAP_TSTAMP_PRECISION_NANO);
        if (c->dead == NULL) {
            log_err("pcap output %s: cannot create a handle", out);
            return -1;
        }
        c->out = pcap_dump_open(c->dead, out);
        if (c->out == NULL) {
            log_err("pcap output %s: %s", out, pcap_geterr(c->dead));
            return -1;
        }
        pcap_dump_flush(c->out); /* a valid (empty) savefile at once */
    }
    return 0;
}

static struct pktio *pc_open(const char *arg, const struct sock_filter *insns,
                             unsigned n_insns)
{
    struct pcapio *c = calloc(1, sizeof(*c));
    const char *comma = strchr(arg, ',');
    char *in = NULL;
    int ok = -1;

    if (c == NULL) {
        log_err("out of memory");
        return NULL;
    }
    c->base.ops = &pktio_pcap_ops;
    c->base.fd = -1;
    c->base.mtu = PCAP_MTU;
    memcpy(c->base.mac, "\x02\x00\x00\x00\x00\x01", 6);
    in = comma != NULL ? strndup(arg, (size_t)(comma - arg)) : strdup(arg);
    c->rx_buf = malloc((size_t)PKTIO_BURST * PKTIO_MAX_FRAME);
    if (in == NULL || c->rx_buf == NULL) {
        log_err("out of memory");
        goto cleanup;
    }
    if (pc_files(c, in, comma != NULL ? comma + 1 : "") < 0)
        goto cleanup;
    if (n_insns > 0) {
        c->prog.bf_insns = calloc(n_insns, sizeof(struct bpf_insn));
        if (c->prog.bf_insns == NULL) {
            log_err("out of memory");
            goto cleanup;
        }
        /* struct sock_filter and struct bpf_insn have the same layout. */
        memcpy(c->prog.bf_insns, insns, n_insns * sizeof(struct bpf_insn));
        c->prog.bf_len = n_insns;
        if (!bpf_validate(c->prog.bf_insns, (int)n_insns)) {
            log_err("pcap: invalid BPF program (%u instructions)", n_insns);
            goto cleanup;
        }
    }
    ok = 0;
cleanup:
    free(in);
    if (ok < 0) {
        pc_close(&c->base);
        return NULL;
    }
    return &c->base;
}

static int pc_recv(struct pktio *p, struct pktio_pkt *pkts, int max)
{
    struct pcapio *c = (struct pcapio *)p;
    int n = 0;

    if (c->in == NULL)
        return -1;
    if (max > PKTIO_BURST)
        max = PKTIO_BURST;
    while (n < max) {
        struct pcap_pkthdr *h = NULL;
        const u_char *data = NULL;
        int rc = pcap_next_ex(c->in, &h, &data);
        uint8_t *buf = c->rx_buf + (size_t)n * PKTIO_MAX_FRAME;

        if (rc == PCAP_ERROR_BREAK)
            return n > 0 ? n : -1;
        if (rc != 1) {
            log_err("pcap input: %s", pcap_geterr(c->in));
            return n > 0 ? n : -1;
        }
        if (c->prog.bf_len > 0 && !pcap_offline_filter(&c->prog, h, data))
            continue;
        if (h->caplen < h->len || h->caplen > PKTIO_MAX_FRAME) {
            p->st.rx_oversize++;
            continue;
        }
        memcpy(buf, data, h->caplen);
        pkts[n].data = buf;
        pkts[n].len = h->caplen;
        pkts[n].ts_ns = (uint64_t)h->ts.tv_sec * 1000000000u +
                        (uint64_t)h->ts.tv_usec; /* nanosecond precision */
        n++;
    }
    return n;
}

static void pc_release(struct pktio *p)
{
    (void)p;
}

static uint8_t *pc_tx_alloc(struct pktio *p, uint32_t *cap)
{
    struct pcapio *c = (struct pcapio *)p;

    *cap = PCAP_MTU + 14 + 4;
    if (*cap > sizeof(c->tx_buf))
        *cap = sizeof(c->tx_buf);
    return c->tx_buf;
}

static void pc_tx_commit(struct pktio *p, uint32_t len)
{
    struct pcapio *c = (struct pcapio *)p;
    struct pcap_pkthdr h = {0};
    struct timespec now;

    if (c->out == NULL)
        return;
    clock_gettime(CLOCK_REALTIME, &now);
    h.ts.tv_sec = now.tv_sec;
    h.ts.tv_usec = (suseconds_t)now.tv_nsec; /* nanosecond precision */
    h.caplen = h.len = len;
    pcap_dump((u_char *)c->out, &h, c->tx_buf);
}

static int pc_tx_flush(struct pktio *p)
{
    struct pcapio *c = (struct pcapio *)p;

    if (c->out != NULL && pcap_dump_flush(c->out) < 0) {
        log_warn_rl("pcap output: flush failed: %s", strerror(errno));
        return -1;
    }
    return 0;
}

const struct pktio_ops pktio_pcap_ops = {
    .name = "pcap",
    .open = pc_open,
    .close = pc_close,
    .recv = pc_recv,
    .release = pc_release,
    .tx_alloc = pc_tx_alloc,
    .tx_commit = pc_tx_commit,
    .tx_flush = pc_tx_flush,
};
