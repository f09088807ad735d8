/* mod_firewall: an L2 bump-in-the-wire firewall between two ports.
 *
 * Parameters (see docs/programmer.md):
 *   rule=N:ACTION:DIR:PROTO:SRC:SPORT:DST:DPORT  (repeatable; fw_rule.h)
 *       tried in increasing N, the first match decides; a rule with an N
 *       that exists replaces it. DIR in = from port 0 to port 1.
 *   default=accept|drop      when no rule matches (default accept)
 *   stateful=on|off          track flows (default on)
 *   pass_nonip=on|off        forward frames that are not IPv4 (ARP!)
 *                            unchanged (default on)
 *   timeout_tcp|udp|icmp=SECONDS  idle timeouts of tracked flows
 *                            (300, 60, 30)
 *   max_flows=N              tracked flows at most (16384)
 *
 * Frames pass unchanged or are dropped; the firewall has no addresses.
 * Stateful: a packet that the rules accept opens a flow (TCP, UDP, ICMP
 * echo; fp_flow, shared with the NAT), and every later packet of that flow
 * is accepted in either direction without consulting the rules, so the
 * replies of an accepted connection pass even where the rules would drop
 * them. A full flow table accepts the packet all the same, untracked
 * (counted). IPv4 frames whose header is broken are dropped. Non-first
 * fragments carry no ports: rules with ports do not match them. */
#include <arpa/inet.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fp_flow.h"
#include "fp_modules.h"
#include "fp_param.h"
#include "fw_rule.h"
#include "vnode_module.h"
#include "vnode_pkt.h"

#define NS_PER_S 1000000000ull
#define FW_MAX_RULES 256
#define FW_MAX_TIMEOUT_S (7 * 86400)

struct fw_stats {
    uint64_t accepted, dropped; /* IPv4 packets */
    uint64_t default_hits;      /* decided by the default policy */
    uint64_t state_hits;        /* accepted as part of a tracked flow */
    uint64_t nonip_passed, nonip_dropped;
    uint64_t drop_malformed, untracked;
};

struct firewall {
    const struct vnode_env *env;
    struct fw_rule rules[FW_MAX_RULES]; /* sorted by num */
    int n_rules;
    enum fw_action def;
    bool stateful, pass_nonip;
    struct fp_flow_timeouts to;
    uint32_t max_flows;
    struct fp_flow_table *flows; /* NULL until started or when stateless */
    bool started;
    struct fw_stats st;
};

/* ---- parameters ------------------------------------------------------- */

static int cfg_rule(struct firewall *fw, const char *v, char **err)
{
    struct fw_rule r;
    int i;

    if ((*err = fw_rule_parse(v, &r)) != NULL)
        return -1;
    for (i = 0; i < fw->n_rules && fw->rules[i].num < r.num; i++)
        ;
    if (i < fw->n_rules && fw->rules[i].num == r.num) {
        fw->rules[i] = r; /* replaces rule N, and its counters */
        return 0;
    }
    if (fw->n_rules == FW_MAX_RULES) {
        fp_errf(err, "firewall: more than %d rules", FW_MAX_RULES);
        return -1;
    }
    memmove(&fw->rules[i + 1], &fw->rules[i],
            (size_t)(fw->n_rules - i) * sizeof(fw->rules[0]));
    fw->rules[i] = r;
    fw->n_rules++;
    return 0;
}

static int cfg_onoff(const char *key, const char *v, bool *out, char **err)
{
    int on = fp_parse_onoff(v);

    if (on < 0) {
        fp_errf(err, "firewall: %s '%s' must be on or off", key, v);
        return -1;
    }
    *out = on;
    return 0;
}

static int cfg_timeout(struct firewall *fw, const char *key, const char *v,
                       char **err)
{
    unsigned long s;
    uint64_t *slot = strcmp(key, "timeout_tcp") == 0   ? &fw->to.tcp_ns
                     : strcmp(key, "timeout_udp") == 0 ? &fw->to.udp_ns
                                                       : &fw->to.icmp_ns;

    if (!fp_parse_uint(v, 1, FW_MAX_TIMEOUT_S, &s)) {
        fp_errf(err, "firewall: %s '%s' is not a number of seconds in 1..%d",
                key, v, FW_MAX_TIMEOUT_S);
        return -1;
    }
    *slot = (uint64_t)s * NS_PER_S;
    if (fw->flows != NULL)
        fp_flow_set_timeouts(fw->flows, &fw->to);
    return 0;
}

/* Makes the flow table when state tracking is on and started. */
static int ensure_table(struct firewall *fw, char **err)
{
    if (!fw->started || !fw->stateful || fw->flows != NULL)
        return 0;
    fw->flows = fp_flow_new(fw->max_flows, &fw->to, NULL, NULL);
    if (fw->flows == NULL) {
        fp_errf(err, "firewall: out of memory for %" PRIu32 " flows",
                fw->max_flows);
        return -1;
    }
    return 0;
}

static int fw_configure(void *state, const char *key, const char *v, char **err)
{
    struct firewall *fw = state;
    unsigned long l;

    if (strcmp(key, "rule") == 0)
        return cfg_rule(fw, v, err);
    if (strcmp(key, "default") == 0) {
        if (strcmp(v, "accept") != 0 && strcmp(v, "drop") != 0) {
            fp_errf(err, "firewall: default '%s' must be accept or drop", v);
            return -1;
        }
        fw->def = strcmp(v, "accept") == 0 ? FW_ACCEPT : FW_DROP;
        return 0;
    }
    if (strcmp(key, "stateful") == 0) {
        bool was = fw->stateful;
        if (cfg_onoff(key, v, &fw->stateful, err) < 0)
            return -1;
        if (ensure_table(fw, err) < 0) {
            fw->stateful = was;
            return -1;
        }
        return 0;
    }
    if (strcmp(key, "pass_nonip") == 0)
        return cfg_onoff(key, v, &fw->pass_nonip, err);
    if (strcmp(key, "timeout_tcp") == 0 || strcmp(key, "timeout_udp") == 0 ||
        strcmp(key, "timeout_icmp") == 0)
        return cfg_timeout(fw, key, v, err);
    if (strcmp(key, "max_flows") == 0) {
        if (fw->started) {
            fp_errf(err, "firewall: max_flows can only be given at start");
            return -1;
        }
        if (!fp_parse_uint(v, 1, FP_FLOW_MAX, &l)) {
            fp_errf(err, "firewall: max_flows '%s' is not a count in 1..%d", v,
                    FP_FLOW_MAX);
            return -1;
        }
        fw->max_flows = (uint32_t)l;
        return 0;
    }
    fp_errf(err,
            "firewall has no parameter '%s' (it takes: rule, default, "
            "stateful, pass_nonip, timeout_tcp, timeout_udp, timeout_icmp, "
            "max_flows)",
            key);
    return -1;
}

/* ---- per packet ------------------------------------------------------- */

/* The rules' verdict on 'p'; counts the hit. */
static enum fw_action decide(struct firewall *fw, const struct fw_pkt *p,
                             uint32_t len)
{
    for (int i = 0; i < fw->n_rules; i++) {
        struct fw_rule *r = &fw->rules[i];
        if (fw_rule_match(r, p)) {
            r->hits++;
            r->hit_bytes += len;
            return r->action;
        }
    }
    fw->st.default_hits++;
    return fw->def;
}

/* The verdict on IPv4 packet 'pkt'. */
static enum fw_action filter(struct firewall *fw, const struct vnode_pkt *pkt,
                             const struct vnode_meta *m, uint64_t now_ns)
{
    struct fw_pkt p = {.dir = m->in_port == 0 ? FW_IN : FW_OUT,
                       .proto = m->ip_proto,
                       .src = ntohl(m->ip_src),
                       .dst = ntohl(m->ip_dst)};
    struct fp_flow_key k;
    struct fp_flow *f;
    bool have_key;
    uint8_t flags;
    int dir;

    have_key = fp_flow_key_of(pkt, m, &k, &flags);
    if (have_key && (k.proto == FP_PROTO_TCP || k.proto == FP_PROTO_UDP)) {
        p.has_ports = true;
        p.sport = k.sport;
        p.dport = k.dport;
    }
    if (fw->flows != NULL && fw->stateful && have_key &&
        (f = fp_flow_find(fw->flows, &k, &dir, now_ns)) != NULL) {
        fp_flow_touch(fw->flows, f, dir, flags, now_ns);
        fw->st.state_hits++;
        return FW_ACCEPT;
    }
    if (decide(fw, &p, pkt->len) == FW_DROP)
        return FW_DROP;
    if (fw->flows != NULL && fw->stateful && have_key) {
        struct fp_flow_key reply = fp_flow_key_swap(&k);
        if ((f = fp_flow_add(fw->flows, &k, &reply, now_ns)) != NULL)
            fp_flow_touch(fw->flows, f, 0, flags, now_ns);
        else
            fw->st.untracked++;
    }
    return FW_ACCEPT;
}

static void fw_process(void *state, struct vnode_batch *batch,
                       struct vnode_meta *meta)
{
    struct firewall *fw = state;

    for (int i = 0; i < batch->n; i++) {
        struct vnode_meta *m = &meta[i];
        int other = m->in_port == 0 ? 1 : 0;

        m->out = VNODE_DROP;
        if (m->in_port > 1 || batch->pkts[i].len < VNODE_ETH_HLEN)
            continue;
        if (m->flags & VNODE_F_IPV4) {
            if (filter(fw, &batch->pkts[i], m, batch->now_ns) == FW_ACCEPT) {
                m->out = other;
                fw->st.accepted++;
            } else {
                fw->st.dropped++;
            }
        } else if (m->ethertype == VNODE_ETH_P_IPV4) {
            fw->st.drop_malformed++; /* an IPv4 header we cannot trust */
        } else if (fw->pass_nonip) {
            m->out = other;
            fw->st.nonip_passed++;
        } else {
            fw->st.nonip_dropped++;
        }
    }
}

static void fw_tick(void *state, uint64_t now_ns)
{
    struct firewall *fw = state;

    if (fw->flows != NULL)
        fp_flow_expire(fw->flows, now_ns);
}

/* Appends to buf like snprintf; keeps the total length wanted in *used. */
static void put(char *buf, size_t n, size_t *used, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void put(char *buf, size_t n, size_t *used, const char *fmt, ...)
{
    va_list ap;
    int r;

    va_start(ap, fmt);
    r = vsnprintf(*used < n ? buf + *used : NULL, *used < n ? n - *used : 0,
                  fmt, ap);
    va_end(ap);
    if (r > 0)
        *used += (size_t)r;
}

static size_t fw_stats(void *state, char *buf, size_t n)
{
    const struct firewall *fw = state;
    const struct fw_stats *s = &fw->st;
    size_t used = 0;

    if (n > 0)
        buf[0] = '\0';
    put(buf, n, &used,
        "accepted=%" PRIu64 "\ndropped=%" PRIu64 "\nstate_hits=%" PRIu64
        "\ndefault_hits=%" PRIu64 "\ndefault=%s\nflows_active=%" PRIu32
        "\nuntracked=%" PRIu64 "\nnonip_passed=%" PRIu64
        "\nnonip_dropped=%" PRIu64 "\ndrop_malformed=%" PRIu64 "\n",
        s->accepted, s->dropped, s->state_hits, s->default_hits,
        fw_action_name(fw->def), fw->flows ? fp_flow_count(fw->flows) : 0,
        s->untracked, s->nonip_passed, s->nonip_dropped, s->drop_malformed);
    for (int i = 0; i < fw->n_rules; i++) {
        const struct fw_rule *r = &fw->rules[i];
        put(buf, n, &used,
            "rule.%" PRIu32 ".action=%s\nrule.%" PRIu32 ".hits=%" PRIu64
            "\nrule.%" PRIu32 ".bytes=%" PRIu64 "\n",
            r->num, fw_action_name(r->action), r->num, r->hits, r->num,
            r->hit_bytes);
    }
    return used;
}

static void fw_fini(void *state)
{
    struct firewall *fw = state;

    if (fw == NULL)
        return;
    fp_flow_free(fw->flows);
    free(fw);
}

static void *fw_init(const struct vnode_env *env,
                     const struct vnode_param *params, int n_params, char **err)
{
    struct firewall *fw;

    if (env->n_ports != 2) {
        fp_errf(err, "firewall needs exactly two ports (it has %d)",
                env->n_ports);
        return NULL;
    }
    if ((fw = calloc(1, sizeof(*fw))) == NULL) {
        fp_errf(err, "firewall: out of memory");
        return NULL;
    }
    fw->env = env;
    fw->def = FW_ACCEPT;
    fw->stateful = true;
    fw->pass_nonip = true;
    fw->to =
        (struct fp_flow_timeouts){300 * NS_PER_S, 60 * NS_PER_S, 30 * NS_PER_S};
    fw->max_flows = 16384;
    for (int i = 0; i < n_params; i++) {
        if (fw_configure(fw, params[i].key, params[i].value, err) < 0) {
            fw_fini(fw);
            return NULL;
        }
    }
    fw->started = true;
    if (ensure_table(fw, err) < 0) {
        fw_fini(fw);
        return NULL;
    }
    return fw;
}

static const char *const fw_keys[] = {
    "rule",        "default",      "stateful",  "pass_nonip", "timeout_tcp",
    "timeout_udp", "timeout_icmp", "max_flows", NULL};

const struct vnode_module vnode_mod_firewall = {
    .abi = VNODE_MODULE_ABI,
    .name = "firewall",
    .summary = "two-port L2 firewall with ordered 5-tuple rules and state "
               "(params: rule=N:ACTION:DIR:PROTO:SRC:SPORT:DST:DPORT, "
               "default=accept|drop, stateful=on|off, pass_nonip=on|off, "
               "timeout_tcp|udp|icmp=SECONDS, max_flows=N)",
    .param_keys = fw_keys,
    .init = fw_init,
    .configure = fw_configure,
    .process = fw_process,
    .tick = fw_tick,
    .fini = fw_fini,
    .stats = fw_stats,
};
