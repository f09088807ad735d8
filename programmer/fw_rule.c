/* fw_rule: firewall rule syntax and matching. */
#include "fw_rule.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fp_lpm.h"
#include "fp_param.h"

#define FIELDS 8

const char *fw_action_name(enum fw_action a)
{
    return a == FW_ACCEPT ? "accept" : "drop";
}

static char *bad(const char *text, const char *field, const char *value,
                 const char *want)
{
    char *msg = NULL;

    fp_errf(&msg, "firewall: rule '%s': %s '%s' %s", text, field, value, want);
    return msg;
}

/* "any", "A.B.C.D" or "A.B.C.D/LEN" without host bits. */
static bool parse_prefix(const char *s, uint32_t *ip, uint32_t *mask)
{
    char buf[40];
    int plen = 32;

    if (strcmp(s, "any") == 0) {
        *ip = *mask = 0;
        return true;
    }
    if (strchr(s, '/') != NULL) {
        if (!fp_parse_cidr(s, ip, &plen) || strcmp(s, "default") == 0)
            return false;
    } else {
        if (strlen(s) >= sizeof(buf) || !fp_parse_ipv4(s, ip))
            return false;
    }
    *mask = fp_lpm_mask(plen);
    return (*ip & ~*mask) == 0;
}

/* "any", "N" or "N-M" (0..65535, N <= M). */
static bool parse_range(const char *s, uint16_t *lo, uint16_t *hi)
{
    char buf[16], *dash;
    unsigned long a, b;

    if (strcmp(s, "any") == 0) {
        *lo = 0;
        *hi = 65535;
        return true;
    }
    if (strlen(s) >= sizeof(buf))
        return false;
    strcpy(buf, s);
    dash = strchr(buf, '-');
    if (dash != NULL)
        *dash = '\0';
    if (!fp_parse_uint(buf, 0, 65535, &a))
        return false;
    b = a;
    if (dash != NULL && (!fp_parse_uint(dash + 1, 0, 65535, &b) || b < a))
        return false;
    *lo = (uint16_t)a;
    *hi = (uint16_t)b;
    return true;
}

char *fw_rule_parse(const char *text, struct fw_rule *r)
{
    char buf[160], *f[FIELDS], *save = NULL;
    unsigned long num;
    int n = 0;

    memset(r, 0, sizeof(*r));
    if (strlen(text) >= sizeof(buf))
        return bad("...", "text", "", "is too long");
    strcpy(buf, text);
    /* strtok_r would merge empty fields: split by hand. */
    for (char *p = buf; n < FIELDS; n++) {
        f[n] = p;
        save = strchr(p, ':');
        if (save == NULL) {
            n++;
            break;
        }
        *save = '\0';
        p = save + 1;
    }
    if (n != FIELDS || save != NULL) {
        char *msg = NULL;
        fp_errf(&msg,
                "firewall: rule '%s' is not N:ACTION:DIR:PROTO:SRC:SPORT:"
                "DST:DPORT (e.g. 10:drop:in:tcp:any:any:10.0.1.0/24:22)",
                text);
        return msg;
    }
    if (!fp_parse_uint(f[0], 0, FW_RULE_NUM_MAX, &num))
        return bad(text, "N", f[0], "is not a number in 0..1000000");
    r->num = (uint32_t)num;
    if (strcmp(f[1], "accept") == 0)
        r->action = FW_ACCEPT;
    else if (strcmp(f[1], "drop") == 0)
        r->action = FW_DROP;
    else
        return bad(text, "ACTION", f[1], "is not accept or drop");
    if (strcmp(f[2], "in") == 0)
        r->dir = FW_IN;
    else if (strcmp(f[2], "out") == 0)
        r->dir = FW_OUT;
    else if (strcmp(f[2], "any") == 0)
        r->dir = FW_ANY;
    else
        return bad(text, "DIR", f[2], "is not in, out or any");
    if (strcmp(f[3], "tcp") == 0)
        r->proto = 6;
    else if (strcmp(f[3], "udp") == 0)
        r->proto = 17;
    else if (strcmp(f[3], "icmp") == 0)
        r->proto = 1;
    else if (strcmp(f[3], "any") == 0)
        r->proto = 0;
    else
        return bad(text, "PROTO", f[3], "is not tcp, udp, icmp or any");
    if (!parse_prefix(f[4], &r->src, &r->src_mask))
        return bad(text, "SRC", f[4],
                   "is not any, A.B.C.D or A.B.C.D/LEN without host bits");
    if (!parse_range(f[5], &r->sport_lo, &r->sport_hi))
        return bad(text, "SPORT", f[5], "is not any, N or N-M (0..65535)");
    if (!parse_prefix(f[6], &r->dst, &r->dst_mask))
        return bad(text, "DST", f[6],
                   "is not any, A.B.C.D or A.B.C.D/LEN without host bits");
    if (!parse_range(f[7], &r->dport_lo, &r->dport_hi))
        return bad(text, "DPORT", f[7], "is not any, N or N-M (0..65535)");
    r->ports = !(r->sport_lo == 0 && r->sport_hi == 65535 && r->dport_lo == 0 &&
                 r->dport_hi == 65535);
    if (r->ports && r->proto != 6 && r->proto != 17)
        return bad(text, "PROTO", f[3], "has no ports: use tcp or udp");
    return NULL;
}

bool fw_rule_match(const struct fw_rule *r, const struct fw_pkt *p)
{
    if (r->dir != FW_ANY && r->dir != p->dir)
        return false;
    if (r->proto != 0 && r->proto != p->proto)
        return false;
    if ((p->src & r->src_mask) != r->src || (p->dst & r->dst_mask) != r->dst)
        return false;
    if (!r->ports)
        return true;
    return p->has_ports && p->sport >= r->sport_lo && p->sport <= r->sport_hi &&
           p->dport >= r->dport_lo && p->dport <= r->dport_hi;
}
