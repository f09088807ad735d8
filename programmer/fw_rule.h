/* fw_rule: the rules of the firewall module (module-private): parsing
 * "N:ACTION:DIR:PROTO:SRC:SPORT:DST:DPORT" and matching a packet. */
#ifndef FW_RULE_H
#define FW_RULE_H

#include <stdbool.h>
#include <stdint.h>

#define FW_RULE_NUM_MAX 1000000

enum fw_action { FW_ACCEPT, FW_DROP };
enum fw_dir { FW_IN, FW_OUT, FW_ANY }; /* in = port 0 -> port 1 */

struct fw_rule {
    uint32_t num; /* rules are tried in increasing num */
    enum fw_action action;
    enum fw_dir dir;
    uint8_t proto;          /* 0 = any, else the IP protocol */
    uint32_t src, src_mask; /* host order; mask 0 = any */
    uint32_t dst, dst_mask;
    uint16_t sport_lo, sport_hi; /* 0-65535 = any */
    uint16_t dport_lo, dport_hi;
    bool ports;               /* a port range is not "any" */
    uint64_t hits, hit_bytes; /* packets that matched it, their bytes */
};

/* What a rule looks at in a packet. Addresses in host order; the ports
 * only mean something when has_ports (TCP/UDP with its header). */
struct fw_pkt {
    enum fw_dir dir; /* FW_IN or FW_OUT */
    uint8_t proto;
    uint32_t src, dst;
    uint16_t sport, dport;
    bool has_ports;
};

/* Parses 'text' into 'r' (counters zeroed). Returns NULL, or a malloc'd
 * message naming the wrong field (caller frees). */
char *fw_rule_parse(const char *text, struct fw_rule *r);

bool fw_rule_match(const struct fw_rule *r, const struct fw_pkt *p);

const char *fw_action_name(enum fw_action a);

#endif
