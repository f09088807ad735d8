/* fp_run: pre-processing -> module -> post-processing for one batch. */
#include "fp_run.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "fp_parse.h"
#include "log.h"

struct fp_txq {
    struct pktio_pkt pkts[FP_TXQ_MAX];
    int n;
};

struct fp_runtime {
    const struct vnode_module *mod;
    void *state;
    bool started;
    struct vnode_env env;
    int n_ports;
    char names[VNODE_MAX_PORTS][32];
    struct vnode_port_info info[VNODE_MAX_PORTS];
    fp_send_fn *send;
    void *send_ctx;
    struct fp_txq txq[VNODE_MAX_PORTS];
    struct fp_port_stats stats[VNODE_MAX_PORTS];
    uint8_t *arena; /* FP_ARENA_BYTES of emitted frames */
    size_t arena_used;
    /* The batch being processed (for emit's flood). */
    int cur_in_port;
};

static void flush_port(struct fp_runtime *rt, int port)
{
    struct fp_txq *q = &rt->txq[port];
    struct fp_port_stats *st = &rt->stats[port];
    int sent;

    if (q->n == 0)
        return;
    sent = rt->send(rt->send_ctx, port, q->pkts, q->n);
    if (sent < 0)
        sent = 0;
    for (int i = 0; i < sent; i++)
        st->tx_bytes += q->pkts[i].len;
    st->tx_packets += (uint64_t)sent;
    st->tx_dropped += (uint64_t)(q->n - sent);
    q->n = 0;
}

static void flush_all(struct fp_runtime *rt)
{
    for (int p = 0; p < rt->n_ports; p++)
        flush_port(rt, p);
    rt->arena_used = 0; /* every queued frame pointing there is sent */
}

/* Queues 'data' (borrowed until the next flush) on 'port'. */
static void txq_add(struct fp_runtime *rt, int port, uint8_t *data,
                    uint32_t len)
{
    struct fp_txq *q = &rt->txq[port];

    if (q->n == FP_TXQ_MAX)
        flush_port(rt, port);
    q->pkts[q->n].data = data;
    q->pkts[q->n].len = len;
    q->pkts[q->n].ts_ns = 0;
    q->n++;
}

static void dispatch(struct fp_runtime *rt, int out, int in_port, uint8_t *data,
                     uint32_t len)
{
    if (out >= 0 && out < rt->n_ports) {
        txq_add(rt, out, data, len);
    } else if (out == VNODE_FLOOD) {
        for (int p = 0; p < rt->n_ports; p++)
            if (p != in_port)
                txq_add(rt, p, data, len);
    } else if (in_port >= 0) {
        struct fp_port_stats *st = &rt->stats[in_port];
        if (out == VNODE_DROP)
            st->dropped++;
        else if (out == VNODE_PUNT)
            st->punted++;
        else
            st->bad_out++;
    }
}

/* vnode_env.emit: copies the frame into the arena and queues it. */
static int emit(void *ctx, int port, const uint8_t *frame, uint32_t len)
{
    struct fp_runtime *rt = ctx;
    uint8_t *copy;

    if (frame == NULL || len == 0 || len > VNODE_MAX_FRAME ||
        !(port == VNODE_FLOOD || (port >= 0 && port < rt->n_ports)))
        return -1;
    if (rt->arena_used + len > FP_ARENA_BYTES)
        flush_all(rt); /* received frames stay valid until release */
    copy = rt->arena + rt->arena_used;
    memcpy(copy, frame, len);
    rt->arena_used += (len + 7) & ~(size_t)7;
    if (port >= 0)
        rt->stats[port].emitted++;
    dispatch(rt, port, port == VNODE_FLOOD ? rt->cur_in_port : -1, copy, len);
    return 0;
}

struct fp_runtime *fp_runtime_new(const struct vnode_module *mod,
                                  const char *const *names,
                                  const uint8_t (*macs)[6], int n_ports,
                                  fp_send_fn *send, void *send_ctx)
{
    struct fp_runtime *rt;

    if (mod == NULL || mod->abi != VNODE_MODULE_ABI || n_ports < 1 ||
        n_ports > VNODE_MAX_PORTS || send == NULL) {
        log_err("bad module (ABI) or port count %d", n_ports);
        return NULL;
    }
    rt = calloc(1, sizeof(*rt));
    if (rt == NULL || (rt->arena = malloc(FP_ARENA_BYTES)) == NULL) {
        log_err("out of memory");
        free(rt);
        return NULL;
    }
    rt->mod = mod;
    rt->n_ports = n_ports;
    rt->send = send;
    rt->send_ctx = send_ctx;
    rt->cur_in_port = -1;
    for (int i = 0; i < n_ports; i++) {
        strncpy(rt->names[i], names[i], sizeof(rt->names[i]) - 1);
        rt->info[i].name = rt->names[i];
        memcpy(rt->info[i].mac, macs[i], 6);
    }
    rt->env.n_ports = n_ports;
    rt->env.ports = rt->info;
    rt->env.emit = emit;
    rt->env.rt = rt;
    return rt;
}

void fp_runtime_free(struct fp_runtime *rt)
{
    if (rt == NULL)
        return;
    if (rt->started)
        rt->mod->fini(rt->state);
    free(rt->arena);
    free(rt);
}

int fp_runtime_start(struct fp_runtime *rt, const struct vnode_param *params,
                     int n_params, char **err)
{
    *err = NULL;
    rt->state = rt->mod->init(&rt->env, params, n_params, err);
    if (rt->state == NULL) {
        if (*err == NULL)
            *err = strdup("module init failed");
        return -1;
    }
    rt->started = true;
    flush_all(rt);
    return 0;
}

int fp_runtime_swap(struct fp_runtime *rt, const struct vnode_module *mod,
                    const struct vnode_param *params, int n_params, char **err)
{
    void *state;

    *err = NULL;
    if (mod == NULL || mod->abi != VNODE_MODULE_ABI) {
        *err = strdup("module built against another ABI");
        return -1;
    }
    state = mod->init(&rt->env, params, n_params, err);
    if (state == NULL) {
        if (*err == NULL)
            *err = strdup("module init failed");
        flush_all(rt); /* whatever it emitted before giving up */
        return -1;
    }
    if (rt->started)
        rt->mod->fini(rt->state);
    rt->mod = mod;
    rt->state = state;
    rt->started = true;
    flush_all(rt);
    return 0;
}

const struct vnode_module *fp_runtime_module(const struct fp_runtime *rt)
{
    return rt->mod;
}

size_t fp_runtime_module_stats(const struct fp_runtime *rt, char *buf, size_t n)
{
    if (n > 0)
        buf[0] = '\0';
    if (!rt->started || rt->mod->stats == NULL)
        return 0;
    return rt->mod->stats(rt->state, buf, n);
}

void fp_runtime_input(struct fp_runtime *rt, int port, struct pktio_pkt *rx,
                      int n, uint64_t now_ns)
{
    struct vnode_pkt pkts[PKTIO_BURST];
    struct vnode_meta meta[PKTIO_BURST];
    struct vnode_batch batch = {.pkts = pkts, .n = n, .now_ns = now_ns};
    struct fp_port_stats *st = &rt->stats[port];

    if (n <= 0 || n > PKTIO_BURST || port < 0 || port >= rt->n_ports)
        return;
    for (int i = 0; i < n; i++) {
        pkts[i].data = rx[i].data;
        pkts[i].len = rx[i].len;
        fp_parse(rx[i].data, rx[i].len, (uint16_t)port, &meta[i]);
        st->rx_bytes += rx[i].len;
    }
    st->rx_packets += (uint64_t)n;
    rt->cur_in_port = port;
    rt->mod->process(rt->state, &batch, meta);
    for (int i = 0; i < n; i++) {
        /* The module may shorten a frame, never lengthen it. */
        uint32_t len = pkts[i].len < rx[i].len ? pkts[i].len : rx[i].len;
        if (len == 0 || pkts[i].data != rx[i].data) {
            st->bad_out++;
            continue;
        }
        dispatch(rt, meta[i].out, port, rx[i].data, len);
    }
    rt->cur_in_port = -1;
    flush_all(rt);
}

void fp_runtime_tick(struct fp_runtime *rt, uint64_t now_ns)
{
    if (rt->mod->tick != NULL)
        rt->mod->tick(rt->state, now_ns);
    flush_all(rt);
}

const struct fp_port_stats *fp_runtime_stats(const struct fp_runtime *rt,
                                             int port)
{
    return port >= 0 && port < rt->n_ports ? &rt->stats[port] : NULL;
}

int fp_runtime_n_ports(const struct fp_runtime *rt)
{
    return rt->n_ports;
}

const char *fp_runtime_port_name(const struct fp_runtime *rt, int port)
{
    return port >= 0 && port < rt->n_ports ? rt->names[port] : "";
}
