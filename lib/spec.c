/* spec: the slice request language (see spec.h).
 *
 * Three passes over one document:
 *  1. libxml2 parses it: no network, no DTD (a DOCTYPE stops the parser, so
 *     no entity can be declared, let alone expanded), at most
 *     SPEC_MAX_DOC_BYTES;
 *  2. the built-in XSD (lib/schema/slice.xsd) validates it, and each of
 *     libxml2's messages is rewritten into ours;
 *  3. the tree is converted into struct slice_spec, checking every value
 *     again in C (libxml2 stops validating an element's children at the
 *     first misplaced one, so this pass finds what the schema skipped) and
 *     then ranges and ids; then each chain is expanded into links, and
 *     the references, the chains' hops and each node's addresses and
 *     routes are checked against the links, chains' included.
 * Passes 2 and 3 phrase a mistake with the same report_* function, so one
 * found by both reads the same and is listed once. */
#include "spec.h"

#include <errno.h>
#include <libxml/SAX2.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>
#include <libxml/xmlschemas.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schema.h"
#include "units.h"

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

#define ERRORS_SHOWN 20  /* lines in the returned message */
#define ERRORS_KEPT 256  /* distinct errors collected before sorting */
#define VALUE_SHOWN 40   /* characters of a user's value quoted back */
#define SUBJECT_MAX 256  /* bytes of "node 'vm1': memory" */
#define DESCRIBE_DEPTH 3 /* element ancestors named in a subject */

#define MIN_BURST_BYTES 1500ULL      /* one full Ethernet frame */
#define MAX_BURST_BYTES (1ULL << 30) /* tc buffers are 32-bit */
#define DEFAULT_BURST_BYTES (64ULL << 10)
#define MIN_MEMORY_BYTES (16ULL << 20)
#define MAX_MEMORY_BYTES (1ULL << 40)
#define SLOWPATH_MEMORY_BYTES (256ULL << 20)
#define CONTAINER_MEMORY_BYTES (64ULL << 20)
#define MAX_VCPUS 64
#define MAX_WEIGHT 1000
#define COMMAND_MAX_CHARS 4096
#define TEXT_MAX_CHARS 1024
#define MAX_TAG_ATTRS 64 /* '=' in one start tag, xmlns included */

/* ---- The language, as tables ------------------------------------------ */

/* How a value is spelled; each class has a lexical check and a hint. */
enum vclass {
    V_NAME,
    V_VNODE,
    V_RATE,
    V_SIZE,
    V_UNIT,
    V_DURATION,
    V_TIME,
    V_COUNT,
    V_KIND,
    V_AUTH,
    V_METRICS,
    V_IMAGE,
    V_COMMAND,
    V_TEXT,
    V_PREFIX,   /* IPv4 address and prefix length: 10.0.1.2/24 */
    V_ROUTE_TO, /* "default" or a V_PREFIX */
    V_IPV4,     /* plain IPv4 address: 10.0.1.1 */
};

struct vclass_def {
    /* NULL if 's' is well-formed, else why not ("is not a rate"). */
    const char *(*check)(const char *s);
    const char *why;      /* when libxml2 objects and check() does not */
    const char *hint_pre; /* "use e.g. " + example + hint_post; NULL: none */
    const char *hint_post;
};

/* An attribute (or, with attr NULL, the text) of an element. */
struct field {
    const char *elem;
    const char *attr;
    enum vclass cls;
    bool required;
    const char *example;
};

static const struct field fields[] = {
    {"slice", "name", V_NAME, true, "video-exp"},
    {"slice", "weight", V_COUNT, false, "1"},
    {"lease", "start", V_TIME, false, "2026-11-24T09:00:00Z"},
    {"lease", "duration", V_DURATION, false, "PT4H"},
    {"node", "id", V_NAME, true, "r1"},
    {"node", "type", V_KIND, true, "fastpath"},
    {"node", "vnode", V_VNODE, false, "tokyo"},
    {"module", "name", V_NAME, true, "router"},
    {"param", "key", V_NAME, true, "route"},
    {"param", "value", V_TEXT, true, "10.0.0.0/8 1"},
    {"image", NULL, V_IMAGE, true, "debian-12"},
    {"command", NULL, V_COMMAND, true, "iperf3 -s"},
    {"vcpus", NULL, V_COUNT, true, "2"},
    {"memory", NULL, V_SIZE, true, "256MiB"},
    {"memory", "unit", V_UNIT, false, "MiB"},
    {"iface", "link", V_NAME, true, "l1"},
    {"iface", "address", V_PREFIX, true, "10.0.1.2/24"},
    {"route", "to", V_ROUTE_TO, true, "10.0.2.0/24"},
    {"route", "via", V_IPV4, true, "10.0.1.1"},
    {"link", "id", V_NAME, true, "l1"},
    {"link", "a", V_NAME, true, "r1"},
    {"link", "b", V_NAME, true, "vm1"},
    {"link", "bandwidth", V_RATE, true, "100Mbit"},
    {"link", "ceiling", V_RATE, false, "200Mbit"},
    {"link", "burst", V_SIZE, false, "64KiB"},
    {"link", "weight", V_COUNT, false, "1"},
    {"chain", "id", V_NAME, true, "web"},
    {"chain", "bandwidth", V_RATE, true, "100Mbit"},
    {"chain", "ceiling", V_RATE, false, "200Mbit"},
    {"chain", "burst", V_SIZE, false, "64KiB"},
    {"chain", "weight", V_COUNT, false, "1"},
    {"hop", "node", V_NAME, true, "fw"},
    {"gateway", "id", V_NAME, true, "g1"},
    {"gateway", "agw", V_NAME, true, "agw-tokyo"},
    {"gateway", "node", V_NAME, true, "r1"},
    {"gateway", "auth", V_AUTH, false, "psk"},
    {"measure", "id", V_NAME, true, "m1"},
    {"measure", "link", V_NAME, true, "l1"},
    {"measure", "filter", V_TEXT, false, "udp"},
    {"measure", "metrics", V_METRICS, false, "throughput loss"},
};

/* An element: the children it takes (NULL-terminated; NULL for none), or
 * a value as text; 'key' names it in messages. */
struct elem_def {
    const char *name;
    const char *const *children;
    bool text;
    bool top;        /* named on its own, not under its parent */
    const char *key; /* attribute naming it in messages, or NULL */
};

static const char *const slice_children[] = {
    "lease", "node", "link", "chain", "gateway", "measure", NULL};
static const char *const node_children[] = {
    "module", "image", "command", "vcpus", "memory", "iface", "route", NULL};
static const char *const module_children[] = {"param", NULL};
static const char *const chain_children[] = {"hop", NULL};

static const struct elem_def elems[] = {
    {"slice", slice_children, false, true, "name"},
    {"lease", NULL, false, true, NULL},
    {"node", node_children, false, true, "id"},
    {"link", NULL, false, true, "id"},
    {"chain", chain_children, false, true, "id"},
    {"gateway", NULL, false, true, "id"},
    {"measure", NULL, false, true, "id"},
    {"module", module_children, false, false, "name"},
    {"param", NULL, false, false, "key"},
    {"image", NULL, true, false, NULL},
    {"command", NULL, true, false, NULL},
    {"vcpus", NULL, true, false, NULL},
    {"memory", NULL, true, false, NULL},
    {"iface", NULL, false, false, "link"},
    {"route", NULL, false, false, "to"},
    {"hop", NULL, false, false, "node"},
};

/* ---- Lexical checks ----------------------------------------------------- */

static bool is_alpha(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* [A-Za-z][A-Za-z0-9_.-]{0,31} */
static bool is_name(const char *s)
{
    size_t n = 0;

    if (s == NULL || !is_alpha(s[0]))
        return false;
    for (; s[n] != '\0'; n++) {
        if (!is_alpha(s[n]) && !is_digit(s[n]) && !strchr("_.-", s[n]))
            return false;
    }
    return n <= SPEC_NAME_MAX;
}

/* Characters (not bytes) of UTF-8 's' with runs of white space counted
 * once and the ends trimmed: the XSD's xs:token length. */
static size_t token_chars(const char *s)
{
    size_t n = 0;
    bool space = false;

    while (is_space(*s))
        s++;
    for (; *s != '\0'; s++) {
        if (is_space(*s)) {
            space = true;
            continue;
        }
        if (((unsigned char)*s & 0xC0) == 0x80)
            continue;
        n += space ? 2 : 1;
        space = false;
    }
    return n;
}

static size_t utf8_chars(const char *s)
{
    size_t n = 0;

    for (; *s != '\0'; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

/* Whether white-space separated 's' has only words of 'set' (NULL-ended),
 * and at least one. */
static bool is_word_list(const char *s, const char *const *set)
{
    size_t words = 0;

    while (*s != '\0') {
        size_t len = 0;
        bool found = false;

        if (is_space(*s)) {
            s++;
            continue;
        }
        while (s[len] != '\0' && !is_space(s[len]))
            len++;
        for (size_t i = 0; set[i] != NULL && !found; i++)
            found = strlen(set[i]) == len && strncmp(s, set[i], len) == 0;
        if (!found)
            return false;
        words++;
        s += len;
    }
    return words > 0;
}

static bool is_one_of(const char *s, const char *const *set)
{
    for (size_t i = 0; set[i] != NULL; i++) {
        if (strcmp(s, set[i]) == 0)
            return true;
    }
    return false;
}

static const char *const kind_names[] = {"fastpath", "slowpath", "container",
                                         NULL};
static const char *const auth_names[] = {"psk", "cert", NULL};
static const char *const metric_names[] = {"throughput", "loss", "delay", NULL};
static const char *const unit_names[] = {"B",   "KB",  "MB",  "GB", "KiB",
                                         "MiB", "GiB", "TiB", NULL};

static const char *check_name(const char *s)
{
    return is_name(s) ? NULL : "is not a valid name";
}

static const char *check_vnode(const char *s)
{
    return is_name(s) ? NULL : "is not a valid VNode name";
}

static const char *check_rate(const char *s)
{
    uint64_t v;

    return units_parse_rate_unbounded(s, &v) == -1 ? "is not a rate" : NULL;
}

static const char *check_size(const char *s)
{
    uint64_t v;

    return units_parse_size_unbounded(s, &v) == -1 ? "is not a size" : NULL;
}

static const char *check_unit(const char *s)
{
    return is_one_of(s, unit_names)
               ? NULL
               : "is not one of B, KB, MB, GB, KiB, MiB, GiB, TiB";
}

static const char *check_duration(const char *s)
{
    uint64_t v;

    return units_parse_duration_unbounded(s, &v) == -1
               ? "is not an ISO 8601 duration"
               : NULL;
}

static const char *check_time(const char *s)
{
    time_t t;

    return units_parse_time(s, &t) == 0 ? NULL : "is not a UTC time";
}

static const char *check_count(const char *s)
{
    size_t i = 0;

    while (is_digit(s[i]))
        i++;
    return i > 0 && s[i] == '\0' ? NULL : "is not a whole number";
}

static const char *check_kind(const char *s)
{
    return is_one_of(s, kind_names)
               ? NULL
               : "is not one of fastpath, slowpath, container";
}

static const char *check_auth(const char *s)
{
    return is_one_of(s, auth_names) ? NULL : "is not one of psk, cert";
}

static const char *check_metrics(const char *s)
{
    return is_word_list(s, metric_names)
               ? NULL
               : "is not a list of throughput, loss, delay";
}

/* [A-Za-z0-9][A-Za-z0-9_.:/@+-]{0,127} */
static const char *check_image(const char *s)
{
    size_t n = 0;

    if (!is_alpha(s[0]) && !is_digit(s[0]))
        return "is not an image name";
    for (; s[n] != '\0'; n++) {
        if (!is_alpha(s[n]) && !is_digit(s[n]) && !strchr("_.:/@+-", s[n]))
            return "is not an image name";
    }
    return n <= 128 ? NULL : "is not an image name (over 128 characters)";
}

static const char *check_command(const char *s)
{
    size_t n = token_chars(s);

    if (n == 0)
        return "is blank";
    return n <= COMMAND_MAX_CHARS ? NULL : "is longer than 4096 characters";
}

static const char *check_text(const char *s)
{
    return utf8_chars(s) <= TEXT_MAX_CHARS
               ? NULL
               : "is longer than 1024 characters; shorten it";
}

/* An IPv4 address "a.b.c.d" at the start of 's': four decimal octets
 * 0..255 without leading zeros, as the XSD's pattern. Returns the
 * characters read, or 0 if there is none. */
static size_t scan_ipv4(const char *s, uint32_t *addr)
{
    uint32_t a = 0;
    size_t i = 0;

    for (int octet = 0; octet < 4; octet++) {
        unsigned v = 0;
        size_t start;

        if (octet > 0 && s[i++] != '.')
            return 0;
        start = i;
        while (is_digit(s[i]) && i - start < 3)
            v = v * 10 + (unsigned)(s[i++] - '0');
        if (i == start || v > 255 || (i - start > 1 && s[start] == '0'))
            return 0;
        a = a << 8 | v;
    }
    *addr = a;
    return i;
}

static bool parse_ipv4(const char *s, uint32_t *addr)
{
    size_t n = scan_ipv4(s, addr);

    return n > 0 && s[n] == '\0';
}

/* "a.b.c.d/len", len 0..32 without leading zeros. */
static bool parse_prefix(const char *s, uint32_t *addr, unsigned *len)
{
    size_t n = scan_ipv4(s, addr);
    unsigned v = 0;

    if (n == 0 || s[n] != '/')
        return false;
    s += n + 1;
    if (!is_digit(s[0]) || (s[0] == '0' && s[1] != '\0'))
        return false;
    for (n = 0; is_digit(s[n]) && n < 2; n++)
        v = v * 10 + (unsigned)(s[n] - '0');
    if (s[n] != '\0' || v > 32)
        return false;
    *len = v;
    return true;
}

/* A route's destination: "default" is 0.0.0.0/0. */
static bool parse_route_to(const char *s, uint32_t *addr, unsigned *len)
{
    if (strcmp(s, "default") == 0) {
        *addr = 0;
        *len = 0;
        return true;
    }
    return parse_prefix(s, addr, len);
}

static uint32_t prefix_mask(unsigned len)
{
    return len == 0 ? 0 : UINT32_MAX << (32 - len);
}

/* "10.0.1.2" into buf (at least 16 bytes). */
static const char *fmt_ipv4(uint32_t a, char *buf, size_t n)
{
    snprintf(buf, n, "%u.%u.%u.%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255,
             a & 255);
    return buf;
}

/* "10.0.1.0/24" into buf (at least 19 bytes). */
static const char *fmt_prefix(uint32_t a, unsigned len, char *buf, size_t n)
{
    char ip[16];

    snprintf(buf, n, "%s/%u", fmt_ipv4(a, ip, sizeof(ip)), len & 63);
    return buf;
}

/* Why 's' is not an a.b.c.d/len; 'what' names the whole. */
static const char *prefix_why(const char *s, const char *no_len,
                              const char *what)
{
    uint32_t a;
    size_t n = scan_ipv4(s, &a);

    if (n > 0 && s[n] == '\0')
        return no_len;
    if (n > 0 && s[n] == '/')
        return "does not end in a prefix length /0 to /32";
    return what;
}

static const char *check_prefix(const char *s)
{
    uint32_t a;
    unsigned len;

    if (parse_prefix(s, &a, &len))
        return NULL;
    return prefix_why(s, "has no prefix length",
                      "is not an IPv4 address with a prefix length");
}

static const char *check_route_to(const char *s)
{
    uint32_t a;
    unsigned len;

    if (parse_route_to(s, &a, &len))
        return NULL;
    return prefix_why(s, "has no prefix length (a host route is /32)",
                      "is not 'default' or an IPv4 prefix");
}

static const char *check_ipv4(const char *s)
{
    uint32_t a;
    unsigned len;

    if (parse_ipv4(s, &a))
        return NULL;
    return parse_prefix(s, &a, &len)
               ? "has a prefix length (a next hop is one address)"
               : "is not an IPv4 address";
}

static const struct vclass_def vclasses[] = {
    [V_NAME] = {check_name, "is not a valid name",
                "use a letter, then up to 31 letters, digits, '_', '.' or "
                "'-', e.g. ",
                ""},
    [V_VNODE] = {check_vnode, "is not a valid VNode name",
                 "use 'any' or a VNode name such as ", ""},
    [V_RATE] = {check_rate, "is not a rate", "use e.g. ",
                " (units bit, kbit, Mbit, Gbit, Tbit, bps, kbps, Mbps, "
                "Gbps)"},
    [V_SIZE] = {check_size, "is not a size", "use e.g. ",
                " (units B, KB, MB, GB, KiB, MiB, GiB, TiB)"},
    [V_UNIT] = {check_unit, "is not one of B, KB, MB, GB, KiB, MiB, GiB, TiB",
                NULL, NULL},
    [V_DURATION] = {check_duration, "is not an ISO 8601 duration",
                    "use days, hours, minutes, seconds, e.g. ",
                    ", PT30M or P1DT12H"},
    [V_TIME] = {check_time, "is not a UTC time", "use e.g. ",
                " (UTC, with the Z)"},
    [V_COUNT] = {check_count, "is not a whole number", "use e.g. ", ""},
    [V_KIND] = {check_kind, "is not one of fastpath, slowpath, container", NULL,
                NULL},
    [V_AUTH] = {check_auth, "is not one of psk, cert", NULL, NULL},
    [V_METRICS] = {check_metrics, "is not a list of throughput, loss, delay",
                   "use e.g. \"", "\""},
    [V_IMAGE] = {check_image, "is not an image name",
                 "use letters, digits and _.:/@+-, e.g. ", ""},
    [V_COMMAND] = {check_command, "is not a command",
                   "give the program and its arguments, e.g. ", ""},
    [V_TEXT] = {check_text, "is longer than 1024 characters; shorten it", NULL,
                NULL},
    [V_PREFIX] = {check_prefix, "is not an IPv4 address with a prefix length",
                  "use e.g. ", ""},
    [V_ROUTE_TO] = {check_route_to, "is not 'default' or an IPv4 prefix",
                    "use 'default' or a prefix such as ", ""},
    [V_IPV4] = {check_ipv4, "is not an IPv4 address", "use e.g. ", ""},
};

/* ---- Tables: lookups ---------------------------------------------------- */

static bool name_is(const xmlNode *n, const char *name)
{
    return strcmp((const char *)n->name, name) == 0;
}

static bool in_spec_ns(const xmlNode *n)
{
    return n->ns != NULL && n->ns->href != NULL &&
           strcmp((const char *)n->ns->href, SPEC_NS) == 0;
}

/* The definition of element 'el', if it is one of ours. */
static const struct elem_def *find_elem(const xmlNode *el)
{
    if (el == NULL || el->type != XML_ELEMENT_NODE || !in_spec_ns(el))
        return NULL;
    for (size_t i = 0; i < N_ELEMS(elems); i++) {
        if (name_is(el, elems[i].name))
            return &elems[i];
    }
    return NULL;
}

/* Field 'attr' (NULL: the text) of element named 'elem'. */
static const struct field *find_field(const char *elem, const char *attr)
{
    for (size_t i = 0; i < N_ELEMS(fields); i++) {
        const struct field *f = &fields[i];

        if (strcmp(f->elem, elem) != 0)
            continue;
        if (attr == NULL ? f->attr == NULL
                         : f->attr != NULL && strcmp(f->attr, attr) == 0)
            return f;
    }
    return NULL;
}

/* ---- Collected errors --------------------------------------------------- */

struct error {
    int line;
    size_t seq; /* order found, to keep the sort stable */
    char *msg;  /* "line N: ...", owned */
};

struct errors {
    struct error *v;
    size_t n, cap;
    size_t dropped; /* distinct errors beyond ERRORS_KEPT */
};

static void errors_free(struct errors *es)
{
    for (size_t i = 0; i < es->n; i++)
        free(es->v[i].msg);
    free(es->v);
    memset(es, 0, sizeof(*es));
}

/* ---- Conversion context ------------------------------------------------- */

enum phase { PHASE_PARSE, PHASE_SCHEMA, PHASE_CONVERT };

/* An id of the slice, in one name space shared by all kinds. */
struct id_entry {
    const char *id; /* borrowed from the tree, or a chain link's id */
    const char *kind;
    int line;
    size_t index; /* in the spec's array of its kind (nodes and links);
                     SIZE_MAX: none */
};

/* What a <chain> leaves for expand_chains, which runs once every node and
 * link is known. */
struct chain_read {
    const xmlNode *el;
    struct spec_link shape; /* rate, ceiling, burst, weight of its links */
    bool expand;            /* its id is its own: make its links */
};

struct conv {
    enum phase phase;
    struct errors errs;
    bool oom;
    /* pass 1 */
    int doctype_line;   /* > 0: a DOCTYPE was refused there */
    int parse_err_line; /* first well-formedness error */
    int parse_err_code;
    bool input_blank;      /* nothing but white space */
    bool parse_err_at_end; /* the parser had read everything */
    char *parse_err_msg;   /* owned */
    /* pass 3 */
    struct slice_spec *spec;
    struct id_entry *ids; /* open addressing, ids_cap a power of two */
    size_t ids_cap;
    struct chain_read *chain_reads; /* one per spec->chains[] */
    size_t n_explicit_links;        /* spec->links[] from <link> elements */
    char **pool;                    /* strings read from the tree, xmlFree'd */
    size_t n_pool, cap_pool;
};

static void *grow(void *v, size_t *cap, size_t need, size_t elem_size)
{
    size_t n = *cap ? *cap : 8;
    void *p;

    if (need <= *cap)
        return v;
    while (n < need)
        n *= 2;
    p = realloc(v, n * elem_size);
    if (p != NULL)
        *cap = n;
    return p;
}

/* Keeps 's' (from libxml2; may be NULL) until the parse ends. */
static const char *pool_keep(struct conv *cv, xmlChar *s)
{
    char **p;

    if (s == NULL) {
        cv->oom = true;
        return NULL;
    }
    p = grow(cv->pool, &cv->cap_pool, cv->n_pool + 1, sizeof(*p));
    if (p == NULL) {
        xmlFree(s);
        cv->oom = true;
        return NULL;
    }
    cv->pool = p;
    cv->pool[cv->n_pool++] = (char *)s;
    return (const char *)s;
}

static char *dup_or_oom(struct conv *cv, const char *s)
{
    char *d;

    if (s == NULL)
        return NULL;
    d = strdup(s);
    if (d == NULL)
        cv->oom = true;
    return d;
}

/* Strips libxml2's "{urn:...}" namespace noise from its message 's'. */
static void strip_ns(char *s)
{
    for (char *o = strchr(s, '{'); o != NULL; o = strchr(o, '{')) {
        char *c = strchr(o, '}');

        if (c == NULL)
            break;
        memmove(o, c + 1, strlen(c + 1) + 1);
    }
}

/* Keeps a message on one line. */
static void clean_message(char *s)
{
    for (; *s != '\0'; s++) {
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            *s = ' ';
    }
}

/* Adds "line N: <fmt>" ("<fmt>" if line is 0: not about one place),
 * unless the very same message is there already. */
static void cv_err(struct conv *cv, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void cv_err(struct conv *cv, int line, const char *fmt, ...)
{
    struct errors *es = &cv->errs;
    char *body = NULL, *msg = NULL;
    struct error *v;
    va_list ap;

    va_start(ap, fmt);
    if (vasprintf(&body, fmt, ap) < 0)
        body = NULL;
    va_end(ap);
    if (body == NULL || (line > 0 ? asprintf(&msg, "line %d: %s", line, body)
                                  : asprintf(&msg, "%s", body)) < 0) {
        msg = NULL;
        cv->oom = true;
        goto cleanup;
    }
    clean_message(msg);
    for (size_t i = 0; i < es->n; i++) {
        if (strcmp(es->v[i].msg, msg) == 0)
            goto cleanup;
    }
    if (es->n >= ERRORS_KEPT) {
        es->dropped++;
        goto cleanup;
    }
    v = grow(es->v, &es->cap, es->n + 1, sizeof(*v));
    if (v == NULL) {
        cv->oom = true;
        goto cleanup;
    }
    es->v = v;
    es->v[es->n] = (struct error){line, es->n, msg};
    es->n++;
    msg = NULL;
cleanup:
    free(body);
    free(msg);
}

static int error_cmp(const void *a, const void *b)
{
    const struct error *x = a, *y = b;

    if (x->line != y->line)
        return x->line < y->line ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* The collected errors in line order, one per line. Caller frees. */
static char *errors_join(struct errors *es)
{
    size_t shown = es->n < ERRORS_SHOWN ? es->n : ERRORS_SHOWN;
    size_t more = es->n - shown + es->dropped, len = 64;
    char *out, *p;

    qsort(es->v, es->n, sizeof(*es->v), error_cmp);
    for (size_t i = 0; i < shown; i++)
        len += strlen(es->v[i].msg) + 1;
    out = p = malloc(len);
    if (out == NULL)
        return NULL;
    for (size_t i = 0; i < shown; i++)
        p += sprintf(p, "%s%s", i ? "\n" : "", es->v[i].msg);
    if (more > 0)
        sprintf(p, "\n(%zu more error%s not shown)", more,
                more == 1 ? "" : "s");
    return out;
}

/* ---- Reading the tree --------------------------------------------------- */

static int line_of(const xmlNode *n)
{
    long line = n != NULL ? xmlGetLineNo(n) : -1;

    return line > 0 && line < 1000000000 ? (int)line : 0;
}

/* Value of attribute 'name' (no namespace), or NULL if absent. Borrowed
 * from the tree or the pool: valid until the parse ends. */
static const char *attr_val(struct conv *cv, const xmlNode *el,
                            const char *name)
{
    const xmlAttr *a = xmlHasNsProp(el, (const xmlChar *)name, NULL);
    const xmlNode *c;

    if (a == NULL || a->type != XML_ATTRIBUTE_NODE)
        return NULL;
    c = a->children;
    if (c == NULL)
        return "";
    if (c->next == NULL && c->type == XML_TEXT_NODE && c->content != NULL)
        return (const char *)c->content;
    return pool_keep(cv, xmlNodeListGetString(el->doc, c, 1));
}

/* Text of 'el' with the ends trimmed, or NULL (out of memory). Borrowed
 * from the pool. */
static const char *text_val(struct conv *cv, const xmlNode *el)
{
    xmlChar *x = xmlNodeGetContent(el);
    char *s = (char *)x, *start, *end;

    if (s == NULL)
        return pool_keep(cv, xmlStrdup((const xmlChar *)""));
    for (start = s; is_space(*start); start++)
        ;
    end = start + strlen(start);
    while (end > start && is_space(end[-1]))
        end--;
    *end = '\0';
    memmove(s, start, (size_t)(end - start) + 1);
    return pool_keep(cv, x);
}

/* The value of field 'f' of 'el' (NULL if absent). */
static const char *field_val(struct conv *cv, const xmlNode *el,
                             const struct field *f)
{
    return f->attr != NULL ? attr_val(cv, el, f->attr) : text_val(cv, el);
}

/* 's' made safe to quote: at most VALUE_SHOWN characters, no control
 * characters, cut on a UTF-8 boundary. */
static const char *clip(char *buf, size_t n, const char *s)
{
    size_t i = 0, chars = 0;

    if (s == NULL)
        s = "";
    for (; s[i] != '\0' && i + 4 < n; i++) {
        unsigned char c = (unsigned char)s[i];

        if ((c & 0xC0) != 0x80 && chars++ == VALUE_SHOWN)
            break;
        buf[i] = c < 0x20 || c == 0x7f ? '?' : (char)c;
    }
    while (s[i] != '\0' && i > 0 && ((unsigned char)s[i] & 0xC0) == 0x80)
        i--; /* do not split a character */
    if (s[i] != '\0' && i + 4 <= n) {
        memcpy(buf + i, "...", 3);
        i += 3;
    }
    buf[i] = '\0';
    return buf;
}

/* What 'el' is, for messages: "link 'l1'", "node 'vm1': memory". */
static void describe_depth(struct conv *cv, const xmlNode *el, char *buf,
                           size_t n, int depth)
{
    const struct elem_def *d = find_elem(el);
    const xmlNode *parent = el->parent;
    char prefix[SUBJECT_MAX] = "", value[64];
    const char *key = NULL;

    if (d != NULL && d->key != NULL)
        key = attr_val(cv, el, d->key);
    if ((d == NULL || !d->top) && depth > 0 && parent != NULL &&
        parent->type == XML_ELEMENT_NODE) {
        describe_depth(cv, parent, prefix, sizeof(prefix) - 2, depth - 1);
        strcat(prefix, ": ");
    }
    if (key != NULL)
        snprintf(buf, n, "%s%s '%s'", prefix, (const char *)el->name,
                 clip(value, sizeof(value), key));
    else
        snprintf(buf, n, "%s%s", prefix, (const char *)el->name);
}

static const char *describe(struct conv *cv, const xmlNode *el, char *buf,
                            size_t n)
{
    describe_depth(cv, el, buf, n, DESCRIBE_DEPTH);
    return buf;
}

/* ---- Reports: one phrasing per kind of mistake -------------------------- */

/* Field 'f' of 'el' does not read; 'why' NULL: ask the class why. */
static void report_value(struct conv *cv, const xmlNode *el,
                         const struct field *f, const char *why)
{
    const struct vclass_def *c = &vclasses[f->cls];
    const xmlNode *subject_el = f->attr != NULL ? el : el->parent;
    const char *name = f->attr != NULL ? f->attr : f->elem;
    const char *val = field_val(cv, el, f);
    char subject[SUBJECT_MAX], value[64];

    if (val == NULL || subject_el == NULL)
        return;
    if (why == NULL)
        why = c->check(val);
    if (why == NULL)
        why = c->why;
    describe(cv, subject_el, subject, sizeof(subject));
    clip(value, sizeof(value), val);
    if (c->hint_pre != NULL)
        cv_err(cv, line_of(el), "%s: %s '%s' %s; %s%s%s", subject, name, value,
               why, c->hint_pre, f->example, c->hint_post);
    else
        cv_err(cv, line_of(el), "%s: %s '%s' %s", subject, name, value, why);
}

static void report_missing(struct conv *cv, const xmlNode *el, const char *attr)
{
    const struct field *f = find_field((const char *)el->name, attr);
    char subject[SUBJECT_MAX];

    describe(cv, el, subject, sizeof(subject));
    if (f != NULL)
        cv_err(cv, line_of(el),
               "%s: missing attribute '%s'; add e.g. %s=\"%s\"", subject, attr,
               attr, f->example);
    else
        cv_err(cv, line_of(el), "%s: missing attribute '%s'", subject, attr);
}

/* "id, a, b, bandwidth" of element 'elem' into buf. */
static const char *list_attrs(const char *elem, char *buf, size_t n)
{
    size_t used = 0;

    buf[0] = '\0';
    for (size_t i = 0; i < N_ELEMS(fields) && used < n; i++) {
        if (strcmp(fields[i].elem, elem) != 0 || fields[i].attr == NULL)
            continue;
        used += (size_t)snprintf(buf + used, n - used, "%s%s", used ? ", " : "",
                                 fields[i].attr);
    }
    return buf;
}

static void report_unknown_attr(struct conv *cv, const xmlNode *el,
                                const char *attr)
{
    char subject[SUBJECT_MAX], name[64], allowed[128];

    describe(cv, el, subject, sizeof(subject));
    list_attrs((const char *)el->name, allowed, sizeof(allowed));
    if (allowed[0] == '\0')
        cv_err(cv, line_of(el), "%s: unknown attribute '%s'; %s takes none",
               subject, clip(name, sizeof(name), attr), el->name);
    else
        cv_err(cv, line_of(el), "%s: unknown attribute '%s'; %s takes %s",
               subject, clip(name, sizeof(name), attr), el->name, allowed);
}

/* The previous sibling element named 'name', or NULL. */
static const xmlNode *prev_named(const xmlNode *n, const char *name)
{
    for (n = n->prev; n != NULL; n = n->prev) {
        if (n->type == XML_ELEMENT_NODE && in_spec_ns(n) && name_is(n, name))
            return n;
    }
    return NULL;
}

static const xmlNode *prev_element(const xmlNode *n)
{
    for (n = n->prev; n != NULL; n = n->prev) {
        if (n->type == XML_ELEMENT_NODE)
            return n;
    }
    return NULL;
}

static bool lease_misplaced(const xmlNode *child)
{
    const xmlNode *p = child->parent;

    return p != NULL && find_elem(p) != NULL && name_is(p, "slice") &&
           find_elem(child) != NULL && name_is(child, "lease") &&
           prev_element(child) != NULL;
}

static void report_unexpected(struct conv *cv, const xmlNode *child)
{
    const xmlNode *parent = child->parent;
    const struct elem_def *pd = find_elem(parent);
    char subject[SUBJECT_MAX], name[64], expected[128] = "";
    int line = line_of(child);
    const xmlNode *first;

    if (parent == NULL || parent->type != XML_ELEMENT_NODE)
        return;
    describe(cv, parent, subject, sizeof(subject));
    clip(name, sizeof(name), (const char *)child->name);
    if (lease_misplaced(child)) {
        first = prev_named(child, "lease");
        if (first != NULL)
            cv_err(cv, line,
                   "%s: second <lease> (the first is on line %d); "
                   "a slice has one",
                   subject, line_of(first));
        else
            cv_err(cv, line,
                   "%s: <lease> must come before any node, link, "
                   "chain, gateway or measure; move it up",
                   subject);
        return;
    }
    if (!in_spec_ns(child)) {
        cv_err(cv, line,
               "unexpected element '%s' in %s: it is in %s%s%s, not "
               "in " SPEC_NS "; check its prefix or xmlns",
               name, subject, child->ns ? "namespace '" : "no namespace",
               child->ns && child->ns->href ? (const char *)child->ns->href
                                            : "",
               child->ns ? "'" : "");
        return;
    }
    for (size_t i = 0; pd && pd->children && pd->children[i]; i++)
        snprintf(expected + strlen(expected),
                 sizeof(expected) - strlen(expected), "%s%s", i ? ", " : "",
                 pd->children[i]);
    if (expected[0] != '\0')
        cv_err(cv, line, "unexpected element '%s' in %s; expected one of %s",
               name, subject, expected);
    else
        cv_err(cv, line,
               "unexpected element '%s' in %s; %s takes no child "
               "elements",
               name, subject, parent->name);
}

/* The first text child of 'el' that is not white space. */
static const xmlNode *first_text(const xmlNode *el)
{
    for (const xmlNode *c = el->children; c != NULL; c = c->next) {
        const char *s = (const char *)c->content;

        if ((c->type != XML_TEXT_NODE && c->type != XML_CDATA_SECTION_NODE) ||
            s == NULL)
            continue;
        while (is_space(*s))
            s++;
        if (*s != '\0')
            return c;
    }
    return NULL;
}

/* Line of the first non-blank character of text node 't': libxml2 gives
 * a text node the line where the parser was when it made it, past the
 * text's last newline. */
static int text_line(const xmlNode *t, const char *first)
{
    int line = line_of(t), parent = line_of(t->parent);

    for (const char *s = first; *s != '\0'; s++)
        line -= *s == '\n';
    return line < parent ? parent : line;
}

static void report_text(struct conv *cv, const xmlNode *el)
{
    const xmlNode *t = first_text(el);
    char subject[SUBJECT_MAX], value[64], first_line[64];
    const char *s;
    size_t len = 0;

    if (t == NULL)
        return;
    for (s = (const char *)t->content; is_space(*s); s++)
        ;
    while (s[len] != '\0' && s[len] != '\n' && len + 1 < sizeof(first_line))
        len++;
    memcpy(first_line, s, len);
    while (len > 0 && is_space(first_line[len - 1]))
        len--;
    first_line[len] = '\0';
    describe(cv, el, subject, sizeof(subject));
    cv_err(cv, text_line(t, s),
           "%s: unexpected text '%s'; %s holds only "
           "elements",
           subject, clip(value, sizeof(value), first_line),
           (const char *)el->name);
}

static const xmlNode *first_element(const xmlNode *el)
{
    for (const xmlNode *c = el->children; c != NULL; c = c->next) {
        if (c->type == XML_ELEMENT_NODE)
            return c;
    }
    return NULL;
}

/* ---- Pass 2: libxml2's schema messages, rewritten ----------------------- */

/* The attribute named in a libxml2 message ("..., attribute 'x': ..."). */
static const char *message_attr(const char *msg, char *buf, size_t n)
{
    const char *a = msg ? strstr(msg, "attribute '") : NULL, *end;
    size_t len;

    if (a == NULL)
        return NULL;
    a += strlen("attribute '");
    if ((end = strchr(a, '\'')) == NULL)
        return NULL;
    len = (size_t)(end - a);
    if (len >= n)
        return NULL;
    memcpy(buf, a, len);
    buf[len] = '\0';
    return buf;
}

/* "{urn:x}name" -> "name" */
static const char *local_name(const char *s)
{
    const char *c = s && s[0] == '{' ? strchr(s, '}') : NULL;

    return c != NULL ? c + 1 : s;
}

/* libxml2's own words, without the "Element 'x': " lead-in, the
 * namespaces and the trailing newline. */
static void report_verbatim(struct conv *cv, const xmlNode *el, int line,
                            const char *msg)
{
    char subject[SUBJECT_MAX], text[512];
    const char *lead;
    size_t len;

    snprintf(text, sizeof(text), "%s", msg ? msg : "invalid");
    strip_ns(text);
    lead = strncmp(text, "Element '", 9) == 0 ? strstr(text, "': ") : NULL;
    if (lead != NULL)
        memmove(text, lead + 3, strlen(lead + 3) + 1);
    len = strlen(text);
    while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == ' '))
        text[--len] = '\0';
    if (el == NULL)
        cv_err(cv, line, "%s", text);
    else
        cv_err(cv, line_of(el), "%s: %s",
               describe(cv, el, subject, sizeof(subject)), text);
}

static bool is_value_error(int code)
{
    switch (code) {
    case XML_SCHEMAV_CVC_PATTERN_VALID:
    case XML_SCHEMAV_CVC_ENUMERATION_VALID:
    case XML_SCHEMAV_CVC_LENGTH_VALID:
    case XML_SCHEMAV_CVC_MINLENGTH_VALID:
    case XML_SCHEMAV_CVC_MAXLENGTH_VALID:
    case XML_SCHEMAV_CVC_DATATYPE_VALID_1_2_1:
    case XML_SCHEMAV_CVC_DATATYPE_VALID_1_2_2:
    case XML_SCHEMAV_CVC_DATATYPE_VALID_1_2_3:
    case XML_SCHEMAV_CVC_ATTRIBUTE_3:
        return true;
    default:
        return false;
    }
}

static void rewrite_value_error(struct conv *cv, const xmlNode *el,
                                const xmlError *e)
{
    char buf[64];
    const char *attr = message_attr(e->message, buf, sizeof(buf));
    const struct field *f =
        find_elem(el) != NULL ? find_field((const char *)el->name, attr) : NULL;

    if (f == NULL)
        report_verbatim(cv, el, e->line, e->message);
    else
        report_value(cv, el, f, NULL);
}

static void on_schema_error(void *ctx, xmlErrorPtr e)
{
    struct conv *cv = ctx;
    const xmlNode *el = e->node;

    if (e->level < XML_ERR_ERROR)
        return;
    if (el == NULL || el->type != XML_ELEMENT_NODE) {
        report_verbatim(cv, NULL, e->line, e->message);
        return;
    }
    if (is_value_error(e->code)) {
        rewrite_value_error(cv, el, e);
        return;
    }
    switch (e->code) {
    case XML_SCHEMAV_CVC_COMPLEX_TYPE_4: /* required attribute missing */
        if (e->str1 != NULL)
            report_missing(cv, el, local_name(e->str1));
        return;
    case XML_SCHEMAV_CVC_COMPLEX_TYPE_3_2_1: /* attribute not allowed */
    case XML_SCHEMAV_CVC_COMPLEX_TYPE_3_2_2:
        if (e->str1 != NULL)
            report_unknown_attr(cv, el, local_name(e->str1));
        return;
    case XML_SCHEMAV_ELEMENT_CONTENT:
        if (e->message != NULL && strstr(e->message, "not expected")) {
            report_unexpected(cv, el);
            return;
        }
        break;
    case XML_SCHEMAV_CVC_COMPLEX_TYPE_2_1: /* content in an empty element */
    case XML_SCHEMAV_CVC_COMPLEX_TYPE_2_2: /* element in a text element */
    case XML_SCHEMAV_CVC_COMPLEX_TYPE_2_3: /* text among elements */
    case XML_SCHEMAV_CVC_TYPE_3_1_2:
        if (first_element(el) != NULL &&
            e->code != XML_SCHEMAV_CVC_COMPLEX_TYPE_2_3) {
            report_unexpected(cv, first_element(el));
            return;
        }
        if (first_text(el) != NULL) {
            report_text(cv, el);
            return;
        }
        break;
    default:
        break;
    }
    report_verbatim(cv, el, e->line, e->message);
}

/* ---- Pass 1 and 2: libxml2 ---------------------------------------------- */

static void on_xml_error(void *ctx, xmlErrorPtr e)
{
    struct conv *cv = ctx;
    const xmlParserCtxt *ctxt;

    if (cv->phase != PHASE_PARSE || e->level < XML_ERR_ERROR ||
        cv->parse_err_msg != NULL)
        return;
    cv->parse_err_line = e->line;
    cv->parse_err_code = e->code;
    ctxt = e->domain == XML_FROM_PARSER || e->domain == XML_FROM_NAMESPACE
               ? e->ctxt
               : NULL;
    cv->parse_err_at_end =
        ctxt != NULL && ctxt->input != NULL && ctxt->input->cur != NULL &&
        ctxt->input->end != NULL && ctxt->input->cur >= ctxt->input->end;
    cv->parse_err_msg = strdup(e->message ? e->message : "unknown error");
    if (cv->parse_err_msg == NULL)
        cv->oom = true;
}

static void on_generic_error(void *ctx, const char *msg, ...)
{
    (void)ctx;
    (void)msg;
}

/* SAX hook: the parser met <!DOCTYPE, before any of its declarations. */
static void on_doctype(void *ctx, const xmlChar *name,
                       const xmlChar *external_id, const xmlChar *system_id)
{
    xmlParserCtxt *ctxt = ctx;
    struct conv *cv = ctxt->_private;

    (void)name;
    (void)external_id;
    (void)system_id;
    if (cv != NULL && cv->doctype_line == 0)
        cv->doctype_line = ctxt->input ? ctxt->input->line : 1;
    xmlStopParser(ctxt);
}

/* SAX hook: libxml2 gives an element the line where its start tag ends;
 * messages name the line where it begins. The tag starts at the last '<'
 * before the parser's position (an attribute value cannot hold one). */
static void on_start_element(void *ctx, const xmlChar *localname,
                             const xmlChar *prefix, const xmlChar *uri,
                             int nb_namespaces, const xmlChar **namespaces,
                             int nb_attributes, int nb_defaulted,
                             const xmlChar **attributes)
{
    xmlParserCtxt *ctxt = ctx;
    const xmlChar *p;
    unsigned short newlines = 0;

    xmlSAX2StartElementNs(ctx, localname, prefix, uri, nb_namespaces,
                          namespaces, nb_attributes, nb_defaulted, attributes);
    if (ctxt->node == NULL || ctxt->input == NULL || ctxt->input->cur == NULL ||
        ctxt->input->base == NULL)
        return;
    for (p = ctxt->input->cur; p > ctxt->input->base && *p != '<'; p--)
        newlines += *p == '\n';
    if (*p == '<' && ctxt->node->line < USHRT_MAX &&
        ctxt->node->line > newlines)
        ctxt->node->line -= newlines;
}

struct saved_handlers {
    xmlStructuredErrorFunc serror;
    void *serror_ctx;
    xmlGenericErrorFunc error;
    void *error_ctx;
};

/* Routes libxml2's errors to 'cv' and silences its stderr output. */
static void handlers_install(struct saved_handlers *s, struct conv *cv)
{
    s->serror = xmlStructuredError;
    s->serror_ctx = xmlStructuredErrorContext;
    s->error = xmlGenericError;
    s->error_ctx = xmlGenericErrorContext;
    xmlSetStructuredErrorFunc(cv, on_xml_error);
    xmlSetGenericErrorFunc(NULL, on_generic_error);
}

static void handlers_restore(const struct saved_handlers *s)
{
    xmlSetStructuredErrorFunc(s->serror_ctx, s->serror);
    xmlSetGenericErrorFunc(s->error_ctx, s->error);
}

static void report_malformed(struct conv *cv)
{
    char *m = cv->parse_err_msg, *nl;

    if (m == NULL) {
        cv_err(cv, 1, "malformed XML; check the document is complete");
        return;
    }
    if ((nl = strchr(m, '\n')) != NULL)
        *nl = '\0';
    strip_ns(m);
    if (cv->parse_err_code == XML_ERR_DOCUMENT_EMPTY)
        cv_err(cv, cv->parse_err_line > 0 ? cv->parse_err_line : 1,
               "malformed XML: %s; a slice spec starts with <slice "
               "xmlns=\"" SPEC_NS "\" name=\"...\">",
               cv->input_blank ? "document is empty" : "not an XML document");
    else
        cv_err(cv, cv->parse_err_line > 0 ? cv->parse_err_line : 1,
               "malformed XML: %s%s", m,
               cv->parse_err_at_end ? " (at the end of the document: is it "
                                      "cut short?)"
                                    : "");
}

/* The end of the markup that starts at 's' ("<!--", "<![CDATA[", "<?",
 * "<!DOCTYPE"): what to skip to. */
static const char *markup_end(const char *s, size_t left)
{
    if (left >= 4 && memcmp(s, "<!--", 4) == 0)
        return "-->";
    if (left >= 9 && memcmp(s, "<![CDATA[", 9) == 0)
        return "]]>";
    return left >= 2 && s[1] == '?' ? "?>" : ">";
}

/* libxml2 2.9 compares each attribute of a tag with all the others: a tag
 * with 100000 attributes takes minutes. Ours take at most 7, so this scan
 * finds a start tag with more than MAX_TAG_ATTRS before libxml2 sees it.
 * Returns its line, or 0. */
static int crowded_tag_line(const char *s, size_t len)
{
    const char *skip_to = NULL;
    size_t attrs = 0;
    int line = 1, tag_line = 0;
    char quote = 0;

    for (size_t i = 0; i < len; i++) {
        line += s[i] == '\n';
        if (skip_to != NULL) { /* comment, CDATA, PI, DOCTYPE */
            size_t n = strlen(skip_to);

            if (i + n <= len && memcmp(s + i, skip_to, n) == 0) {
                i += n - 1;
                skip_to = NULL;
            }
        } else if (tag_line > 0) { /* inside a tag */
            if (quote != 0)
                quote = s[i] == quote ? 0 : quote;
            else if (s[i] == '"' || s[i] == '\'')
                quote = s[i];
            else if (s[i] == '>')
                tag_line = 0;
            else if (s[i] == '=' && ++attrs > MAX_TAG_ATTRS)
                return tag_line;
        } else if (s[i] == '<') {
            if (i + 1 < len && (s[i + 1] == '!' || s[i + 1] == '?'))
                skip_to = markup_end(s + i, len - i);
            else
                tag_line = line, attrs = 0;
        }
    }
    return 0;
}

static bool is_blank(const char *xml, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (!is_space(xml[i]))
            return false;
    }
    return true;
}

/* Pass 1. Returns the document (caller frees), or NULL with errors. */
static xmlDoc *read_doc(struct conv *cv, const char *xml, size_t len)
{
    xmlParserCtxt *ctxt = NULL;
    xmlDoc *doc = NULL;
    int line;

    if (len > SPEC_MAX_DOC_BYTES) {
        cv_err(cv, 1,
               "document is larger than 1MiB (%u bytes), the most a slice "
               "spec may have; split the experiment into several slices",
               SPEC_MAX_DOC_BYTES);
        goto cleanup;
    }
    if ((line = crowded_tag_line(xml, len)) > 0) {
        cv_err(cv, line,
               "malformed XML: a tag with more than %d attributes; "
               "slice spec elements take at most 7",
               MAX_TAG_ATTRS);
        goto cleanup;
    }
    if (is_blank(xml, len)) {
        cv->input_blank = true;
        cv->parse_err_code = XML_ERR_DOCUMENT_EMPTY;
        cv->parse_err_msg = strdup("Document is empty");
        report_malformed(cv);
        goto cleanup;
    }
    ctxt = xmlNewParserCtxt();
    if (ctxt == NULL || ctxt->sax == NULL) {
        cv->oom = true;
        goto cleanup;
    }
    ctxt->sax->internalSubset = on_doctype;
    ctxt->sax->startElementNs = on_start_element;
    ctxt->_private = cv;
    cv->phase = PHASE_PARSE;
    doc = xmlCtxtReadMemory(ctxt, xml, (int)len, NULL, NULL,
                            XML_PARSE_NONET | XML_PARSE_NOCDATA |
                                XML_PARSE_BIG_LINES);
    if (cv->doctype_line > 0) {
        cv_err(cv, cv->doctype_line,
               "DOCTYPE is not allowed in a slice spec "
               "(no DTDs or entities); remove the <!DOCTYPE ...> declaration");
    } else if (doc == NULL || cv->parse_err_msg != NULL) {
        report_malformed(cv);
    } else {
        goto cleanup;
    }
    xmlFreeDoc(doc);
    doc = NULL;
cleanup:
    xmlFreeParserCtxt(ctxt);
    return doc;
}

/* The root must be <slice> in SPEC_NS. 0 if so, else -1 with an error. */
static int check_root(struct conv *cv, const xmlNode *root)
{
    char name[64], ns[96];

    if (root == NULL) {
        cv_err(cv, 1,
               "malformed XML: no root element; a slice spec starts "
               "with <slice xmlns=\"" SPEC_NS "\" name=\"...\">");
        return -1;
    }
    clip(name, sizeof(name), (const char *)root->name);
    if (!name_is(root, "slice")) {
        cv_err(cv, line_of(root),
               "root element is <%s>; a slice spec starts "
               "with <slice xmlns=\"" SPEC_NS "\" name=\"...\">",
               name);
        return -1;
    }
    if (root->ns == NULL || root->ns->href == NULL) {
        cv_err(cv, line_of(root),
               "<slice> has no namespace; add xmlns=\"" SPEC_NS "\"");
        return -1;
    }
    if (!in_spec_ns(root)) {
        cv_err(cv, line_of(root),
               "<slice> is in namespace '%s'; a slice "
               "spec uses xmlns=\"" SPEC_NS "\"",
               clip(ns, sizeof(ns), (const char *)root->ns->href));
        return -1;
    }
    return 0;
}

static void on_schema_load_error(void *ctx, xmlErrorPtr e)
{
    char **first = ctx;

    if (*first == NULL && e->level >= XML_ERR_ERROR)
        *first = strdup(e->message ? e->message : "unknown error");
}

/* The built-in schema, parsed once and kept (never freed). */
static xmlSchema *slice_schema(struct conv *cv)
{
    static xmlSchema *schema;
    const char *text = schema_text("slice");
    xmlSchemaParserCtxt *pctxt = NULL;
    char *why = NULL;

    if (schema != NULL)
        return schema;
    if (text == NULL) {
        cv_err(cv, 0, "internal error: no built-in slice schema");
        goto cleanup;
    }
    pctxt = xmlSchemaNewMemParserCtxt(text, (int)strlen(text));
    if (pctxt == NULL) {
        cv->oom = true;
        goto cleanup;
    }
    xmlSchemaSetParserStructuredErrors(pctxt, on_schema_load_error, &why);
    schema = xmlSchemaParse(pctxt);
    if (schema == NULL)
        cv_err(cv, 0,
               "internal error: the built-in slice schema does not "
               "load: %s",
               why ? why : "unknown error");
cleanup:
    xmlSchemaFreeParserCtxt(pctxt);
    free(why);
    return schema;
}

/* Pass 2: errors go to cv through on_schema_error. */
static void validate(struct conv *cv, xmlDoc *doc)
{
    xmlSchema *schema = slice_schema(cv);
    xmlSchemaValidCtxt *vctxt = NULL;

    if (schema == NULL)
        return;
    cv->phase = PHASE_SCHEMA;
    vctxt = xmlSchemaNewValidCtxt(schema);
    if (vctxt == NULL) {
        cv->oom = true;
        return;
    }
    xmlSchemaSetValidStructuredErrors(vctxt, on_schema_error, cv);
    if (xmlSchemaValidateDoc(vctxt, doc) < 0)
        cv_err(cv, 0, "internal error: schema validation failed to run");
    xmlSchemaFreeValidCtxt(vctxt);
}

/* ---- Pass 3: generic element checks ------------------------------------- */

static void check_attrs(struct conv *cv, const xmlNode *el)
{
    const char *elem = (const char *)el->name;

    for (const xmlAttr *a = el->properties; a != NULL; a = a->next) {
        const struct field *f =
            a->ns == NULL ? find_field(elem, (const char *)a->name) : NULL;
        const char *val, *why;

        if (f == NULL) {
            report_unknown_attr(cv, el, (const char *)a->name);
            continue;
        }
        val = attr_val(cv, el, f->attr);
        if (val != NULL && (why = vclasses[f->cls].check(val)) != NULL)
            report_value(cv, el, f, why);
    }
    for (size_t i = 0; i < N_ELEMS(fields); i++) {
        const struct field *f = &fields[i];

        if (strcmp(f->elem, elem) == 0 && f->attr != NULL && f->required &&
            xmlHasNsProp(el, (const xmlChar *)f->attr, NULL) == NULL)
            report_missing(cv, el, f->attr);
    }
}

static void check_children(struct conv *cv, const xmlNode *el,
                           const struct elem_def *d)
{
    for (const xmlNode *c = el->children; c != NULL; c = c->next) {
        if (c->type != XML_ELEMENT_NODE)
            continue;
        if (!in_spec_ns(c) || d->children == NULL ||
            !is_one_of((const char *)c->name, d->children) ||
            lease_misplaced(c))
            report_unexpected(cv, c);
    }
}

/* Attributes, children, text and value of one of our elements. */
static void check_element(struct conv *cv, const xmlNode *el)
{
    const struct elem_def *d = find_elem(el);

    if (d == NULL)
        return;
    check_attrs(cv, el);
    check_children(cv, el, d);
    if (d->text) {
        const struct field *f = find_field(d->name, NULL);
        const char *val = text_val(cv, el), *why;

        if (f != NULL && val != NULL &&
            (why = vclasses[f->cls].check(val)) != NULL)
            report_value(cv, el, f, why);
    } else if (first_text(el) != NULL) {
        report_text(cv, el);
    }
}

/* ---- Pass 3: values with ranges ----------------------------------------- */

/* Results of the readers below. */
enum got { GOT_BAD = -1, GOT_NONE = 0, GOT_OK = 1 };

/* Subject and name of a field for range messages. */
static void field_subject(struct conv *cv, const xmlNode *el, const char *attr,
                          char *subject, size_t n, const char **name)
{
    describe(cv, attr != NULL ? el : el->parent, subject, n);
    *name = attr != NULL ? attr : (const char *)el->name;
}

/* Whole number from attribute 'attr' (NULL: the text) in [min, max]. */
static enum got read_count(struct conv *cv, const xmlNode *el, const char *attr,
                           unsigned min, unsigned max, unsigned *out)
{
    const char *s = attr ? attr_val(cv, el, attr) : text_val(cv, el);
    char subject[SUBJECT_MAX], value[64];
    const char *name;
    uint64_t v = 0;

    if (s == NULL)
        return GOT_NONE;
    if (check_count(s) != NULL)
        return GOT_BAD;
    for (; *s != '\0' && v <= max; s++)
        v = v * 10 + (uint64_t)(*s - '0');
    if (v < min || v > max) {
        field_subject(cv, el, attr, subject, sizeof(subject), &name);
        cv_err(cv, line_of(el), "%s: %s '%s' is out of range; use %u to %u",
               subject, name,
               clip(value, sizeof(value),
                    attr ? attr_val(cv, el, attr) : text_val(cv, el)),
               min, max);
        return GOT_BAD;
    }
    *out = (unsigned)v;
    return GOT_OK;
}

/* Rate attribute in [1 bit/s, 10 Tbit/s]. */
static enum got read_rate(struct conv *cv, const xmlNode *el, const char *attr,
                          uint64_t *bps)
{
    const char *s = attr_val(cv, el, attr);
    char subject[SUBJECT_MAX], value[64];
    uint64_t v = 0;
    int rc;

    if (s == NULL)
        return GOT_NONE;
    rc = units_parse_rate_unbounded(s, &v);
    if (rc == -1)
        return GOT_BAD;
    describe(cv, el, subject, sizeof(subject));
    clip(value, sizeof(value), s);
    if (rc == 0 && v == 0) {
        cv_err(cv, line_of(el),
               "%s: %s '%s' is zero; use a positive rate "
               "such as 1Mbit",
               subject, attr, value);
        return GOT_BAD;
    }
    if (rc == -2 || v > UNITS_RATE_MAX_BPS) {
        cv_err(cv, line_of(el), "%s: %s '%s' is above the maximum of 10Tbit",
               subject, attr, value);
        return GOT_BAD;
    }
    *bps = v;
    return GOT_OK;
}

/* Size (already lexically checked): 'rc' from units_parse_size_unbounded. */
static enum got size_in_range(struct conv *cv, const xmlNode *el,
                              const char *attr, const char *shown, int rc,
                              uint64_t v, uint64_t min, uint64_t max,
                              const char *why_min)
{
    char subject[SUBJECT_MAX], value[64], limit[32];
    const char *name;

    if (rc == -1)
        return GOT_BAD;
    field_subject(cv, el, attr, subject, sizeof(subject), &name);
    clip(value, sizeof(value), shown);
    if (rc == -2 || v > max) {
        cv_err(cv, line_of(el), "%s: %s '%s' is above the maximum of %s",
               subject, name, value, units_format_size(max, limit, 32));
        return GOT_BAD;
    }
    if (v < min) {
        cv_err(cv, line_of(el), "%s: %s '%s' is too small: %s", subject, name,
               value, why_min);
        return GOT_BAD;
    }
    return GOT_OK;
}

/* ---- Pass 3: conversion, element by element ----------------------------- */

static size_t at_most(size_t n, size_t max)
{
    return n < max ? n : max;
}

static void *alloc_array(struct conv *cv, size_t count, size_t max,
                         size_t elem_size)
{
    void *p;

    if (count == 0)
        return NULL;
    p = calloc(count < max ? count : max, elem_size);
    if (p == NULL)
        cv->oom = true;
    return p;
}

/* The entry of 'id' (non-NULL) in the table: the one that has it, or
 * the free one where it goes. The table is never full: alloc_slice makes
 * room for twice the ids there can be. */
static struct id_entry *ids_slot(const struct conv *cv, const char *id)
{
    size_t h = 14695981039346656037ULL, mask = cv->ids_cap - 1;
    struct id_entry *e;

    for (const char *p = id; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    for (e = &cv->ids[h & mask]; e->id != NULL; e = &cv->ids[++h & mask]) {
        if (strcmp(e->id, id) == 0)
            break;
    }
    return e;
}

/* Adds 'id' to the slice's one name space. Returns its entry, or NULL if
 * it is taken (reported) or absent. */
static struct id_entry *ids_add(struct conv *cv, const xmlNode *el,
                                const char *id, const char *kind)
{
    char subject[SUBJECT_MAX];
    struct id_entry *e;

    if (id == NULL || cv->ids == NULL)
        return NULL;
    e = ids_slot(cv, id);
    if (e->id != NULL) {
        describe(cv, el, subject, sizeof(subject));
        cv_err(cv, line_of(el),
               "%s: duplicate id: %s '%s' on line %d has it "
               "too; give every node, link, chain, gateway and measure its "
               "own id",
               subject, e->kind, e->id, e->line);
        return NULL;
    }
    *e = (struct id_entry){id, kind, line_of(el), SIZE_MAX};
    return e;
}

static const struct id_entry *ids_find(const struct conv *cv, const char *id)
{
    const struct id_entry *e;

    if (id == NULL || cv->ids == NULL)
        return NULL;
    e = ids_slot(cv, id);
    return e->id != NULL ? e : NULL;
}

static void conv_lease(struct conv *cv, const xmlNode *el)
{
    struct spec_lease *l = &cv->spec->lease;
    const char *start = attr_val(cv, el, "start");
    const char *dur = attr_val(cv, el, "duration");
    char value[64];
    uint64_t s = 0;
    int rc;

    if (l->present)
        return; /* a second one, reported */
    l->present = true;
    if (start != NULL && units_parse_time(start, &l->start) != 0)
        l->start = 0;
    if (dur == NULL || (rc = units_parse_duration_unbounded(dur, &s)) == -1)
        return;
    clip(value, sizeof(value), dur);
    if (rc == -2)
        cv_err(cv, line_of(el),
               "lease: duration '%s' is too large to count; "
               "use e.g. PT4H or P7D",
               value);
    else if (s == 0)
        cv_err(cv, line_of(el),
               "lease: duration '%s' is zero; use a positive "
               "duration such as PT4H",
               value);
    else
        l->duration_s = s;
}

/* The children of <node>: which kind takes each, whether it repeats, and
 * (for slowpath and container ones) what to tell a fastpath node. The
 * first three rows are indexed by enum spec_node_kind. */
static const struct {
    const char *name;
    int only_kind;           /* -1: slowpath and container */
    bool many;               /* repeatable */
    const char *on_fastpath; /* for only_kind -1 */
} node_child_kinds[] = {
    {"module", SPEC_NODE_FASTPATH, false, NULL},
    {"image", SPEC_NODE_SLOWPATH, false, NULL},
    {"command", SPEC_NODE_CONTAINER, false, NULL},
    {"vcpus", -1, false,
     "does not apply to a fastpath node (it runs in one fast-path slot); "
     "remove it"},
    {"memory", -1, false,
     "does not apply to a fastpath node (it runs in one fast-path slot); "
     "remove it"},
    {"iface", -1, true,
     "is only for container and slowpath nodes, and this node is fastpath; "
     "a fast-path module takes its addresses as params: give them in "
     "<module>"},
    {"route", -1, true,
     "is only for container and slowpath nodes, and this node is fastpath; "
     "a fast-path module takes its routes as params: give them in <module>"},
};

/* Per-node state while its children are read. */
struct node_read {
    int kind; /* enum spec_node_kind, or -1 if unknown */
    /* the first of each row of node_child_kinds */
    const xmlNode *seen[N_ELEMS(node_child_kinds)];
    size_t cap_ifaces, cap_routes; /* room in the node's arrays */
};

static void conv_module(struct conv *cv, const xmlNode *el, struct spec_node *n)
{
    size_t count = 0;

    n->module = dup_or_oom(cv, attr_val(cv, el, "name"));
    for (const xmlNode *c = el->children; c != NULL; c = c->next)
        count += find_elem(c) != NULL && name_is(c, "param");
    if (count == 0)
        return;
    n->params = calloc(count, sizeof(*n->params));
    if (n->params == NULL) {
        cv->oom = true;
        return;
    }
    for (const xmlNode *c = el->children; c != NULL; c = c->next) {
        struct spec_param *p;

        if (find_elem(c) == NULL || !name_is(c, "param"))
            continue;
        check_element(cv, c);
        p = &n->params[n->n_params++];
        p->key = dup_or_oom(cv, attr_val(cv, c, "key"));
        p->value = dup_or_oom(cv, attr_val(cv, c, "value"));
    }
}

static void conv_memory(struct conv *cv, const xmlNode *el, struct spec_node *n)
{
    const char *text = text_val(cv, el), *unit = attr_val(cv, el, "unit");
    char subject[SUBJECT_MAX], value[64], *joined = NULL;
    uint64_t v = 0;
    int rc;

    if (text == NULL || check_size(text) != NULL ||
        (unit != NULL && check_unit(unit) != NULL))
        return;
    if (is_digit(text[strlen(text) - 1])) { /* a bare number: apply unit */
        if (asprintf(&joined, "%s%s", text, unit ? unit : "MiB") < 0) {
            cv->oom = true;
            return;
        }
        rc = units_parse_size_unbounded(joined, &v);
    } else if (unit != NULL) {
        describe(cv, el->parent, subject, sizeof(subject));
        cv_err(cv, line_of(el),
               "%s: memory '%s' has a unit and unit=\"%s\" "
               "too; drop one",
               subject, clip(value, sizeof(value), text), unit);
        return;
    } else {
        rc = units_parse_size_unbounded(text, &v);
    }
    if (size_in_range(cv, el, NULL, joined ? joined : text, rc, v,
                      MIN_MEMORY_BYTES, MAX_MEMORY_BYTES,
                      "a node needs at least 16MiB; use e.g. 256MiB") == GOT_OK)
        n->memory_bytes = v;
    free(joined);
}

/* Room for one more of a node's ifaces or routes, or NULL: out of memory,
 * or too many (reported once). */
static void *node_slot(struct conv *cv, const xmlNode *el, void *array,
                       size_t *n, size_t cap, size_t max, size_t elem_size)
{
    char subject[SUBJECT_MAX];

    if (array != NULL && *n < cap)
        return (char *)array + (*n)++ * elem_size;
    if (array != NULL && *n == max) {
        describe(cv, el->parent, subject, sizeof(subject));
        cv_err(cv, line_of(el), "%s: too many <%s>s; a node has at most %zu",
               subject, el->name, max);
        (*n)++; /* report once; fixed up by conv_node */
    }
    return NULL;
}

static void conv_iface(struct conv *cv, const xmlNode *el, struct spec_node *n,
                       struct node_read *r)
{
    const char *address = attr_val(cv, el, "address");
    char subject[SUBJECT_MAX], value[64], net[20], host[20];
    struct spec_iface *f;
    uint32_t a, mask, first, last;
    unsigned len;

    f = node_slot(cv, el, n->ifaces, &n->n_ifaces, r->cap_ifaces,
                  SPEC_MAX_IFACES, sizeof(*f));
    if (f == NULL)
        return;
    f->link = dup_or_oom(cv, attr_val(cv, el, "link"));
    f->address = dup_or_oom(cv, address);
    f->line = line_of(el);
    /* A /31 or /32 has neither (RFC 3021). */
    if (address == NULL || !parse_prefix(address, &a, &len) || len > 30)
        return;
    mask = prefix_mask(len);
    first = (a & mask) + 1;
    last = (a | ~mask) - 1;
    if (a != (a & mask) && a != (a | ~mask))
        return;
    describe(cv, el->parent, subject, sizeof(subject));
    cv_err(cv, f->line,
           "%s: iface address '%s' is the %s address of %s; use a host "
           "address such as %s",
           subject, clip(value, sizeof(value), address),
           a == (a & mask) ? "network" : "broadcast",
           fmt_prefix(a & mask, len, net, sizeof(net)),
           fmt_prefix(a == (a & mask) ? first : last, len, host, sizeof(host)));
}

static void conv_route(struct conv *cv, const xmlNode *el, struct spec_node *n,
                       struct node_read *r)
{
    const char *to = attr_val(cv, el, "to");
    char subject[SUBJECT_MAX], value[64], net[20];
    struct spec_route *rt;
    uint32_t a;
    unsigned len;

    rt = node_slot(cv, el, n->routes, &n->n_routes, r->cap_routes,
                   SPEC_MAX_ROUTES, sizeof(*rt));
    if (rt == NULL)
        return;
    rt->to = dup_or_oom(cv, to);
    rt->via = dup_or_oom(cv, attr_val(cv, el, "via"));
    rt->line = line_of(el);
    if (to == NULL || !parse_route_to(to, &a, &len) ||
        (a & prefix_mask(len)) == a)
        return;
    describe(cv, el->parent, subject, sizeof(subject));
    cv_err(cv, rt->line, "%s: route to '%s' has host bits set; use %s", subject,
           clip(value, sizeof(value), to),
           fmt_prefix(a & prefix_mask(len), len, net, sizeof(net)));
}

/* One child of a node: duplicates, the right kind, then its value. */
static void conv_node_child(struct conv *cv, const xmlNode *c,
                            struct spec_node *n, struct node_read *r)
{
    char subject[SUBJECT_MAX];
    size_t i = 0;

    while (i < N_ELEMS(node_child_kinds) &&
           !name_is(c, node_child_kinds[i].name))
        i++;
    if (i == N_ELEMS(node_child_kinds) || find_elem(c) == NULL)
        return; /* reported as unexpected */
    check_element(cv, c);
    describe(cv, c->parent, subject, sizeof(subject));
    if (r->seen[i] != NULL && !node_child_kinds[i].many) {
        cv_err(cv, line_of(c),
               "%s: second <%s> (the first is on line %d); "
               "a node has one",
               subject, c->name, line_of(r->seen[i]));
        return;
    }
    if (r->seen[i] == NULL)
        r->seen[i] = c;
    if (r->kind >= 0 && node_child_kinds[i].only_kind >= 0 &&
        r->kind != node_child_kinds[i].only_kind) {
        cv_err(cv, line_of(c),
               "%s: <%s> is only for %s nodes, and this node "
               "is %s; remove it or change type",
               subject, c->name, kind_names[node_child_kinds[i].only_kind],
               kind_names[r->kind]);
        return;
    }
    if (r->kind == SPEC_NODE_FASTPATH && node_child_kinds[i].only_kind < 0) {
        cv_err(cv, line_of(c), "%s: <%s> %s", subject, c->name,
               node_child_kinds[i].on_fastpath);
        return;
    }
    if (name_is(c, "module"))
        conv_module(cv, c, n);
    else if (name_is(c, "image"))
        n->image = dup_or_oom(cv, text_val(cv, c));
    else if (name_is(c, "command"))
        n->command = dup_or_oom(cv, text_val(cv, c));
    else if (name_is(c, "vcpus"))
        read_count(cv, c, NULL, 1, MAX_VCPUS, &n->vcpus);
    else if (name_is(c, "memory"))
        conv_memory(cv, c, n);
    else if (name_is(c, "iface"))
        conv_iface(cv, c, n, r);
    else
        conv_route(cv, c, n, r);
}

/* Makes room for the <iface>s and <route>s of node element 'el'. */
static void alloc_node_arrays(struct conv *cv, const xmlNode *el,
                              struct spec_node *n, struct node_read *r)
{
    size_t ifaces = 0, routes = 0;

    for (const xmlNode *c = el->children; c != NULL; c = c->next) {
        if (find_elem(c) == NULL)
            continue;
        ifaces += name_is(c, "iface");
        routes += name_is(c, "route");
    }
    r->cap_ifaces = at_most(ifaces, SPEC_MAX_IFACES);
    r->cap_routes = at_most(routes, SPEC_MAX_ROUTES);
    n->ifaces =
        alloc_array(cv, r->cap_ifaces, SPEC_MAX_IFACES, sizeof(*n->ifaces));
    n->routes =
        alloc_array(cv, r->cap_routes, SPEC_MAX_ROUTES, sizeof(*n->routes));
}

static void conv_node(struct conv *cv, const xmlNode *el, struct spec_node *n)
{
    static const char *const needs[] = {"<module>; add e.g. <module "
                                        "name=\"router\"/>",
                                        "<image>; add e.g. "
                                        "<image>debian-12</image>",
                                        "<command>; add e.g. "
                                        "<command>iperf3 -s</command>"};
    const char *type = attr_val(cv, el, "type");
    const char *vnode = attr_val(cv, el, "vnode");
    struct node_read r = {.kind = -1};
    char subject[SUBJECT_MAX];

    for (int k = 0; type != NULL && kind_names[k] != NULL; k++) {
        if (strcmp(type, kind_names[k]) == 0)
            r.kind = k;
    }
    n->id = dup_or_oom(cv, attr_val(cv, el, "id"));
    n->kind = r.kind >= 0 ? (enum spec_node_kind)r.kind : SPEC_NODE_FASTPATH;
    n->vnode =
        vnode && strcmp(vnode, "any") != 0 ? dup_or_oom(cv, vnode) : NULL;
    n->vcpus = 1;
    n->line = line_of(el);
    if (r.kind != SPEC_NODE_FASTPATH)
        alloc_node_arrays(cv, el, n, &r);
    for (const xmlNode *c = el->children; c != NULL; c = c->next) {
        if (c->type == XML_ELEMENT_NODE)
            conv_node_child(cv, c, n, &r);
    }
    n->n_ifaces = at_most(n->n_ifaces, SPEC_MAX_IFACES);
    n->n_routes = at_most(n->n_routes, SPEC_MAX_ROUTES);
    if (r.kind < 0)
        return;
    if (r.seen[r.kind] == NULL) { /* module, image, command by kind */
        describe(cv, el, subject, sizeof(subject));
        cv_err(cv, n->line, "%s: %s node has no %s", subject,
               kind_names[r.kind], needs[r.kind]);
    }
    if (n->memory_bytes == 0 && r.kind == SPEC_NODE_SLOWPATH)
        n->memory_bytes = SLOWPATH_MEMORY_BYTES;
    if (n->memory_bytes == 0 && r.kind == SPEC_NODE_CONTAINER)
        n->memory_bytes = CONTAINER_MEMORY_BYTES;
}

/* Rate, ceiling, burst and weight of a <link> or <chain> 'el' into 'l',
 * with the defaults and checks of a link. */
static void read_link_shape(struct conv *cv, const xmlNode *el,
                            struct spec_link *l)
{
    const char *burst = attr_val(cv, el, "burst");
    enum got rate, ceil;
    char subject[SUBJECT_MAX], a[64], b[64];
    int rc = 0;

    l->weight = 1;
    l->burst_bytes = DEFAULT_BURST_BYTES;
    rate = read_rate(cv, el, "bandwidth", &l->rate_bps);
    ceil = read_rate(cv, el, "ceiling", &l->ceil_bps);
    if (ceil == GOT_NONE)
        l->ceil_bps = l->rate_bps;
    read_count(cv, el, "weight", 1, MAX_WEIGHT, &l->weight);
    if (burst != NULL) {
        uint64_t v = 0;

        rc = units_parse_size_unbounded(burst, &v);
        if (size_in_range(cv, el, "burst", burst, rc, v, MIN_BURST_BYTES,
                          MAX_BURST_BYTES,
                          "burst must hold one full frame (1500 bytes); use "
                          "e.g. 64KiB") == GOT_OK)
            l->burst_bytes = v;
    }
    describe(cv, el, subject, sizeof(subject));
    if (rate == GOT_OK && ceil == GOT_OK && l->ceil_bps < l->rate_bps)
        cv_err(cv, line_of(el),
               "%s: ceiling '%s' is below bandwidth '%s'; raise "
               "it, or leave it out to cap the link at its bandwidth",
               subject, clip(a, sizeof(a), attr_val(cv, el, "ceiling")),
               clip(b, sizeof(b), attr_val(cv, el, "bandwidth")));
}

static void conv_link(struct conv *cv, const xmlNode *el, struct spec_link *l)
{
    char subject[SUBJECT_MAX], a[64];

    l->id = dup_or_oom(cv, attr_val(cv, el, "id"));
    l->a = dup_or_oom(cv, attr_val(cv, el, "a"));
    l->b = dup_or_oom(cv, attr_val(cv, el, "b"));
    l->line = line_of(el);
    read_link_shape(cv, el, l);
    if (l->a != NULL && l->b != NULL && strcmp(l->a, l->b) == 0 &&
        is_name(l->a))
        cv_err(cv, l->line,
               "%s: both ends are node '%s'; a link joins two "
               "different nodes",
               describe(cv, el, subject, sizeof(subject)),
               clip(a, sizeof(a), l->a));
}

static bool is_hop(const xmlNode *c)
{
    return find_elem(c) != NULL && name_is(c, "hop");
}

/* The chain as written, and in 'r' its links' shape; expand_chains makes
 * the links. */
static void conv_chain(struct conv *cv, const xmlNode *el,
                       struct spec_chain *ch, struct chain_read *r)
{
    size_t count = 0;

    ch->id = dup_or_oom(cv, attr_val(cv, el, "id"));
    ch->line = line_of(el);
    r->el = el;
    read_link_shape(cv, el, &r->shape);
    for (const xmlNode *c = el->children; c != NULL; c = c->next)
        count += is_hop(c);
    if (count == 0)
        return;
    ch->hops = calloc(count, sizeof(*ch->hops));
    if (ch->hops == NULL) {
        cv->oom = true;
        return;
    }
    for (const xmlNode *c = el->children; c != NULL; c = c->next) {
        if (!is_hop(c))
            continue;
        check_element(cv, c);
        ch->hops[ch->n_hops++] = dup_or_oom(cv, attr_val(cv, c, "node"));
    }
}

static void conv_gateway(struct conv *cv, const xmlNode *el,
                         struct spec_gateway *g)
{
    const char *auth = attr_val(cv, el, "auth");

    g->id = dup_or_oom(cv, attr_val(cv, el, "id"));
    g->agw = dup_or_oom(cv, attr_val(cv, el, "agw"));
    g->node = dup_or_oom(cv, attr_val(cv, el, "node"));
    g->auth =
        auth && strcmp(auth, "cert") == 0 ? SPEC_AUTH_CERT : SPEC_AUTH_PSK;
    g->line = line_of(el);
}

/* "  loss   delay " -> "loss delay". Caller frees. */
static char *words_join(struct conv *cv, const char *s)
{
    char *out = malloc(strlen(s) + 1), *o = out;

    if (out == NULL) {
        cv->oom = true;
        return NULL;
    }
    while (*s != '\0') {
        if (is_space(*s)) {
            s++;
            continue;
        }
        if (o != out)
            *o++ = ' ';
        while (*s != '\0' && !is_space(*s))
            *o++ = *s++;
    }
    *o = '\0';
    return out;
}

static void conv_measure(struct conv *cv, const xmlNode *el,
                         struct spec_measure *m)
{
    const char *metrics = attr_val(cv, el, "metrics");

    m->id = dup_or_oom(cv, attr_val(cv, el, "id"));
    m->link = dup_or_oom(cv, attr_val(cv, el, "link"));
    m->filter = dup_or_oom(cv, attr_val(cv, el, "filter"));
    m->metrics = metrics ? words_join(cv, metrics) : NULL;
    m->line = line_of(el);
}

/* ---- Pass 3: the slice -------------------------------------------------- */

/* Checks that 'ref' (a name from 'what' on line 'line') is a 'kind'. */
static void check_ref(struct conv *cv, int line, const char *what,
                      const char *field, const char *ref, const char *kind)
{
    const struct id_entry *e;
    char r[64];

    if (ref == NULL || !is_name(ref))
        return; /* missing or malformed: reported */
    e = ids_find(cv, ref);
    clip(r, sizeof(r), ref);
    if (e == NULL)
        cv_err(cv, line,
               "%s: %s '%s' is not a %s of this slice; declare it or "
               "fix the name",
               what, field, r, kind);
    else if (strcmp(e->kind, kind) != 0)
        cv_err(cv, line, "%s: %s '%s' is a %s (line %d), not a %s", what, field,
               r, e->kind, e->line, kind);
}

static void check_refs(struct conv *cv)
{
    const struct slice_spec *s = cv->spec;
    char what[SUBJECT_MAX], id[64];

    /* A chain's links join its hops, which check_hop checks. */
    for (size_t i = 0; i < cv->n_explicit_links; i++) {
        const struct spec_link *l = &s->links[i];

        snprintf(what, sizeof(what), "link '%s'", clip(id, sizeof(id), l->id));
        check_ref(cv, l->line, what, "endpoint a", l->a, "node");
        check_ref(cv, l->line, what, "endpoint b", l->b, "node");
    }
    for (size_t i = 0; i < s->n_gateways; i++) {
        const struct spec_gateway *g = &s->gateways[i];

        snprintf(what, sizeof(what), "gateway '%s'",
                 clip(id, sizeof(id), g->id));
        check_ref(cv, g->line, what, "node", g->node, "node");
    }
    for (size_t i = 0; i < s->n_measures; i++) {
        const struct spec_measure *m = &s->measures[i];

        snprintf(what, sizeof(what), "measure '%s'",
                 clip(id, sizeof(id), m->id));
        check_ref(cv, m->line, what, "link", m->link, "link");
    }
}

/* ---- Pass 3: chains ---------------------------------------------------- */

/* Where a node was last met as a hop, while the chains are checked. */
struct hop_seen {
    size_t chain; /* index + 1 of the chain; 0: none yet */
    int line;     /* of the <hop> */
};

/* Hop 'h' (element 'el'; 'prev' the hop before, or NULL) of chain 'ch'
 * (index 'ci'): a node of this slice, not the node of the hop before, not
 * twice in the chain, fastpath or slowpath unless first or last. */
static void check_hop(struct conv *cv, const char *subject,
                      const struct spec_chain *ch, size_t ci, size_t h,
                      const xmlNode *el, const xmlNode *prev,
                      struct hop_seen *seen)
{
    const struct slice_spec *s = cv->spec;
    const char *node = ch->hops[h];
    const struct id_entry *e;
    int line = line_of(el);
    char name[64];

    if (node == NULL || !is_name(node))
        return; /* missing or malformed: reported */
    e = ids_find(cv, node);
    if (e == NULL || strcmp(e->kind, "node") != 0) {
        check_ref(cv, line, subject, "hop", node, "node");
        return;
    }
    if (e->index >= s->n_nodes)
        return; /* beyond SPEC_MAX_NODES: reported */
    clip(name, sizeof(name), node);
    if (prev != NULL && ch->hops[h - 1] != NULL &&
        strcmp(ch->hops[h - 1], node) == 0) {
        cv_err(cv, line,
               "%s: hop '%s' is the same node as the hop before it (line "
               "%d); consecutive hops are two different nodes: remove one",
               subject, name, line_of(prev));
        return;
    }
    if (seen[e->index].chain == ci + 1) {
        cv_err(cv, line,
               "%s: hop '%s' is in the chain already (line %d); a chain "
               "passes through each node once: remove one, or split it "
               "into two chains",
               subject, name, seen[e->index].line);
        return;
    }
    seen[e->index] = (struct hop_seen){ci + 1, line};
    if (h > 0 && h + 1 < ch->n_hops &&
        s->nodes[e->index].kind == SPEC_NODE_CONTAINER)
        cv_err(cv, line,
               "%s: hop '%s' is a container; the middle of a chain takes "
               "fastpath or slowpath nodes",
               subject, name);
}

static size_t decimal_digits(size_t n)
{
    size_t d = 1;

    for (; n >= 10; n /= 10)
        d++;
    return d;
}

/* Appends link n (from 1) of chain 'ch', from hop n - 1 (element 'from')
 * to hop n, and adds its id to the name space. '*full': the slice has as
 * many links as it may (reported). */
static void add_chain_link(struct conv *cv, const char *subject,
                           const struct spec_chain *ch,
                           const struct chain_read *r, size_t n,
                           const xmlNode *from, bool *full)
{
    struct slice_spec *s = cv->spec;
    struct spec_link *l;
    struct id_entry *e;
    char id[64];

    if (*full)
        return;
    if (s->n_links == SPEC_MAX_LINKS) {
        cv_err(cv, line_of(from),
               "%s: too many links: its link %zu would be link %d of the "
               "slice, and a slice has at most %d (a chain of N hops makes "
               "N - 1); use fewer hops or links",
               subject, n, SPEC_MAX_LINKS + 1, SPEC_MAX_LINKS);
        *full = true;
        return;
    }
    l = &s->links[s->n_links];
    if (asprintf(&l->id, "%s.%zu", ch->id, n) < 0) {
        l->id = NULL;
        cv->oom = true;
        return;
    }
    s->n_links++;
    l->a = dup_or_oom(cv, ch->hops[n - 1]);
    l->b = dup_or_oom(cv, ch->hops[n]);
    l->rate_bps = r->shape.rate_bps;
    l->ceil_bps = r->shape.ceil_bps;
    l->burst_bytes = r->shape.burst_bytes;
    l->weight = r->shape.weight;
    l->line = line_of(from);
    e = ids_slot(cv, l->id);
    if (e->id == NULL) {
        *e = (struct id_entry){l->id, "link", l->line, s->n_links - 1};
        return;
    }
    clip(id, sizeof(id), l->id);
    if (strcmp(e->kind, "chain") == 0)
        cv_err(cv, l->line,
               "%s: its link '%s' (from this hop to the next) has the id of "
               "chain '%s' on line %d; rename one of the chains",
               subject, id, id, e->line);
    else
        cv_err(cv, l->line,
               "%s: its link '%s' (from this hop to the next) has the id of "
               "%s '%s' on line %d; rename that %s or the chain",
               subject, id, e->kind, id, e->line, e->kind);
}

/* Appends the links of chain 'ci'. */
static void expand_chain(struct conv *cv, size_t ci, bool *full)
{
    struct slice_spec *s = cv->spec;
    struct spec_chain *ch = &s->chains[ci];
    const struct chain_read *r = &cv->chain_reads[ci];
    const xmlNode *prev = NULL;
    char subject[SUBJECT_MAX];
    size_t h = 0;

    ch->first_link = s->n_links;
    if (!r->expand || ch->n_hops < 2)
        return;
    describe(cv, r->el, subject, sizeof(subject));
    for (const xmlNode *c = r->el->children; c != NULL && h < ch->n_hops;
         c = c->next) {
        if (!is_hop(c))
            continue;
        if (prev != NULL)
            add_chain_link(cv, subject, ch, r, h, prev, full);
        prev = c;
        h++;
    }
}

/* Checks chain 'ci': its hops, and that its id leaves room for theirs. */
static void check_chain(struct conv *cv, size_t ci, struct hop_seen *seen)
{
    const struct spec_chain *ch = &cv->spec->chains[ci];
    const struct chain_read *r = &cv->chain_reads[ci];
    const xmlNode *prev = NULL;
    char subject[SUBJECT_MAX], id[64];
    size_t h = 0, len;

    describe(cv, r->el, subject, sizeof(subject));
    if (ch->n_hops < 2)
        cv_err(cv, ch->line,
               "%s has %zu hop%s; a chain joins at least two nodes: add a "
               "<hop node=\"...\"/> for each node it passes, in order",
               subject, ch->n_hops, ch->n_hops == 1 ? "" : "s");
    else if (r->expand &&
             (len = strlen(ch->id) + 1 + decimal_digits(ch->n_hops - 1)) >
                 SPEC_NAME_MAX)
        cv_err(cv, ch->line,
               "%s: id is too long to name its links ('%s.%zu' has %zu "
               "characters, an id at most %d); shorten it to %zu",
               subject, clip(id, sizeof(id), ch->id), ch->n_hops - 1, len,
               SPEC_NAME_MAX,
               SPEC_NAME_MAX - 1 - decimal_digits(ch->n_hops - 1));
    for (const xmlNode *c = r->el->children; c != NULL && h < ch->n_hops;
         c = c->next) {
        if (!is_hop(c))
            continue;
        check_hop(cv, subject, ch, ci, h, c, prev, seen);
        prev = c;
        h++;
    }
}

/* Turns each chain into links, appended to the explicit ones, now that
 * every node and link is known; then checks the chains, against every
 * link's id. 'full': the explicit links are too many already (reported). */
static void expand_chains(struct conv *cv, bool full)
{
    struct slice_spec *s = cv->spec;
    struct hop_seen *seen = NULL;

    if (s->n_chains == 0)
        return;
    for (size_t i = 0; i < s->n_chains; i++)
        expand_chain(cv, i, &full);
    if (s->n_nodes > 0 && (seen = calloc(s->n_nodes, sizeof(*seen))) == NULL) {
        cv->oom = true;
        return;
    }
    for (size_t i = 0; i < s->n_chains; i++)
        check_chain(cv, i, seen);
    free(seen);
}

/* ---- Pass 3: addresses and routes --------------------------------------- */

#define LIST_SHOWN 8 /* names or subnets listed in one message */

/* An iface or route of one node, parsed. */
struct node_net {
    bool ok;       /* address (iface) / destination (route) parsed */
    uint32_t addr; /* iface: the address; route: the destination */
    unsigned len;
    size_t link; /* iface: index in spec->links; SIZE_MAX: not one */
    bool via_ok; /* route: via parsed */
    uint32_t via;
};

/* Appends "item" to the ", "-separated list in buf; after 'shown' items
 * counts the rest, which the caller adds with list_end. */
static void list_add(char *buf, size_t n, size_t *shown, size_t *more,
                     const char *item)
{
    size_t used = strlen(buf);

    if (*shown == LIST_SHOWN) {
        (*more)++;
        return;
    }
    snprintf(buf + used, n - used, "%s%s", used ? ", " : "", item);
    (*shown)++;
}

static void list_end(char *buf, size_t n, size_t more)
{
    size_t used = strlen(buf);

    if (more > 0)
        snprintf(buf + used, n - used, " and %zu more", more);
}

/* "l1, l2" (the links with node 'id' as an end) into buf; "" if none. */
static const char *node_links(const struct slice_spec *s, const char *id,
                              char *buf, size_t n)
{
    size_t shown = 0, more = 0;
    char name[64];

    buf[0] = '\0';
    for (size_t i = 0; i < s->n_links; i++) {
        const struct spec_link *l = &s->links[i];

        if (l->id != NULL && ((l->a != NULL && strcmp(l->a, id) == 0) ||
                              (l->b != NULL && strcmp(l->b, id) == 0)))
            list_add(buf, n, &shown, &more, clip(name, sizeof(name), l->id));
    }
    list_end(buf, n, more);
    return buf;
}

/* Parses the node's ifaces into nets[] and checks each names one of the
 * node's links. */
static void check_iface_links(struct conv *cv, const struct spec_node *nd,
                              const char *subject, struct node_net *nets)
{
    const struct slice_spec *s = cv->spec;
    char links[LIST_SHOWN * 36 + 32], name[64], a[64], b[64];
    bool listed = false;

    for (size_t i = 0; i < nd->n_ifaces; i++) {
        const struct spec_iface *f = &nd->ifaces[i];
        const struct id_entry *e;
        const struct spec_link *l = NULL;

        nets[i].link = SIZE_MAX;
        nets[i].ok = f->address != NULL &&
                     parse_prefix(f->address, &nets[i].addr, &nets[i].len);
        if (f->link == NULL || !is_name(f->link))
            continue; /* missing or malformed: reported */
        e = ids_find(cv, f->link);
        if (e != NULL && strcmp(e->kind, "link") == 0 && e->index < s->n_links)
            l = &s->links[e->index];
        if (l != NULL && ((l->a != NULL && strcmp(l->a, nd->id) == 0) ||
                          (l->b != NULL && strcmp(l->b, nd->id) == 0))) {
            nets[i].link = e->index;
            continue;
        }
        if (!listed) /* once per node: a node may have many links */
            node_links(s, nd->id, links, sizeof(links));
        listed = true;
        clip(name, sizeof(name), f->link);
        if (l != NULL && l->a != NULL && l->b != NULL)
            cv_err(cv, f->line,
                   "%s: iface link '%s' is not a link of this node (it joins "
                   "%s and %s); %s%s",
                   subject, name, clip(a, sizeof(a), l->a),
                   clip(b, sizeof(b), l->b),
                   links[0] ? "its links are: "
                            : "this node has no links: add one, or remove the "
                              "<iface>",
                   links);
        else
            cv_err(cv, f->line,
                   "%s: iface link '%s' is not a link of this "
                   "node; %s%s",
                   subject, name,
                   links[0] ? "its links are: "
                            : "this node has no links: add one, or remove the "
                              "<iface>",
                   links);
    }
}

/* One iface per link; no two subnets overlapping. */
static void check_iface_pairs(struct conv *cv, const struct spec_node *nd,
                              const char *subject, const struct node_net *nets)
{
    char name[64], addr[64], other[64], net1[20], net2[20];

    for (size_t i = 0; i < nd->n_ifaces; i++) {
        const struct spec_iface *f = &nd->ifaces[i];

        for (size_t j = 0; j < i; j++) {
            uint32_t mask = prefix_mask(nets[i].len) & prefix_mask(nets[j].len);

            if (nets[i].link != SIZE_MAX && nets[i].link == nets[j].link) {
                cv_err(cv, f->line,
                       "%s: second iface on link '%s' (the first is on "
                       "line %d); a node has one address per link: remove "
                       "one",
                       subject, clip(name, sizeof(name), f->link),
                       nd->ifaces[j].line);
                break;
            }
            if (!nets[i].ok || !nets[j].ok ||
                (nets[i].addr & mask) != (nets[j].addr & mask))
                continue;
            cv_err(cv, f->line,
                   "%s: iface address '%s' (subnet %s) overlaps iface "
                   "address '%s' on line %d (subnet %s); give each link its "
                   "own subnet",
                   subject, clip(addr, sizeof(addr), f->address),
                   fmt_prefix(nets[i].addr & prefix_mask(nets[i].len),
                              nets[i].len, net1, sizeof(net1)),
                   clip(other, sizeof(other), nd->ifaces[j].address),
                   nd->ifaces[j].line,
                   fmt_prefix(nets[j].addr & prefix_mask(nets[j].len),
                              nets[j].len, net2, sizeof(net2)));
            break;
        }
    }
}

/* A route's next hop against the node's subnets ('nets', n of them). */
static void check_via(struct conv *cv, const struct spec_node *nd,
                      const char *subject, const struct spec_route *rt,
                      uint32_t via, const struct node_net *nets)
{
    char id[64], hop[20], net[20], subnets[LIST_SHOWN * 21 + 32] = "";
    size_t shown = 0, more = 0, parsed = 0;

    clip(id, sizeof(id), nd->id);
    fmt_ipv4(via, hop, sizeof(hop));
    for (size_t k = 0; k < nd->n_ifaces; k++) {
        if (nets[k].ok && via == nets[k].addr) {
            cv_err(cv, rt->line,
                   "%s: route via %s is %s's own address (iface on line "
                   "%d); use the next hop's address",
                   subject, hop, id, nd->ifaces[k].line);
            return;
        }
    }
    for (size_t k = 0; k < nd->n_ifaces; k++) {
        uint32_t mask = prefix_mask(nets[k].len);

        if (!nets[k].ok)
            continue;
        parsed++;
        if ((via & mask) == (nets[k].addr & mask))
            return;
        list_add(
            subnets, sizeof(subnets), &shown, &more,
            fmt_prefix(nets[k].addr & mask, nets[k].len, net, sizeof(net)));
    }
    list_end(subnets, sizeof(subnets), more);
    if (nd->n_ifaces == 0)
        cv_err(cv, rt->line,
               "%s: route via %s is not on any of %s's subnets (it has no "
               "<iface>); add an <iface> with an address on the next hop's "
               "subnet",
               subject, hop, id);
    else if (parsed > 0)
        cv_err(cv, rt->line,
               "%s: route via %s is not on any of %s's subnets (%s); use a "
               "next hop on one of them",
               subject, hop, id, subnets);
}

/* Next hops on the node's subnets; one route per destination. */
static void check_routes(struct conv *cv, const struct spec_node *nd,
                         const char *subject, const struct node_net *nets,
                         struct node_net *rts)
{
    char to[64], first[64];

    for (size_t i = 0; i < nd->n_routes; i++) {
        const struct spec_route *rt = &nd->routes[i];

        rts[i].ok =
            rt->to != NULL && parse_route_to(rt->to, &rts[i].addr, &rts[i].len);
        rts[i].addr &= rts[i].ok ? prefix_mask(rts[i].len) : 0;
        rts[i].via_ok = rt->via != NULL && parse_ipv4(rt->via, &rts[i].via);
        if (rts[i].via_ok)
            check_via(cv, nd, subject, rt, rts[i].via, nets);
        for (size_t j = 0; j < i && rts[i].ok; j++) {
            if (!rts[j].ok || rts[j].addr != rts[i].addr ||
                rts[j].len != rts[i].len)
                continue;
            clip(to, sizeof(to), rt->to);
            clip(first, sizeof(first), nd->routes[j].to);
            if (strcmp(to, first) == 0)
                cv_err(cv, rt->line,
                       "%s: second route to '%s' (the first is on line %d); "
                       "a node has one route per destination: remove one",
                       subject, to, nd->routes[j].line);
            else
                cv_err(cv, rt->line,
                       "%s: second route to '%s' (the first, to '%s', is on "
                       "line %d); a node has one route per destination: "
                       "remove one",
                       subject, to, first, nd->routes[j].line);
            break;
        }
    }
}

/* Ifaces and routes of every node, now that the links are known. */
static void check_addresses(struct conv *cv)
{
    const struct slice_spec *s = cv->spec;
    struct node_net *nets = NULL, *rts = NULL;
    char subject[SUBJECT_MAX], id[64];

    for (size_t i = 0; i < s->n_nodes; i++) {
        const struct spec_node *nd = &s->nodes[i];

        if (nd->id == NULL || (nd->n_ifaces == 0 && nd->n_routes == 0))
            continue;
        if (nets == NULL) { /* room for any node's */
            nets = calloc(SPEC_MAX_IFACES, sizeof(*nets));
            rts = calloc(SPEC_MAX_ROUTES, sizeof(*rts));
        }
        if (nets == NULL || rts == NULL) {
            cv->oom = true;
            goto cleanup;
        }
        snprintf(subject, sizeof(subject), "node '%s'",
                 clip(id, sizeof(id), nd->id));
        check_iface_links(cv, nd, subject, nets);
        check_iface_pairs(cv, nd, subject, nets);
        check_routes(cv, nd, subject, nets, rts);
    }
cleanup:
    free(nets);
    free(rts);
}

/* Children of <slice> by kind, as counted before the arrays are made. */
struct slice_counts {
    size_t nodes, links, chains, gateways, measures, all;
    size_t chain_links; /* a link per two consecutive hops of each chain */
};

static void count_children(const xmlNode *root, struct slice_counts *k)
{
    memset(k, 0, sizeof(*k));
    for (const xmlNode *c = root->children; c != NULL; c = c->next) {
        if (find_elem(c) == NULL)
            continue;
        k->all++;
        k->nodes += name_is(c, "node");
        k->links += name_is(c, "link");
        k->gateways += name_is(c, "gateway");
        if (name_is(c, "chain")) {
            size_t hops = 0;

            for (const xmlNode *h = c->children; h != NULL; h = h->next)
                hops += is_hop(h);
            k->chains++;
            k->chain_links += hops > 0 ? hops - 1 : 0;
        }
        k->measures += name_is(c, "measure");
    }
}

static int alloc_slice(struct conv *cv, const struct slice_counts *k)
{
    struct slice_spec *s = calloc(1, sizeof(*s));

    cv->spec = s;
    if (s == NULL)
        return -1;
    s->nodes = alloc_array(cv, k->nodes, SPEC_MAX_NODES, sizeof(*s->nodes));
    s->links = alloc_array(cv, k->links + k->chain_links, SPEC_MAX_LINKS,
                           sizeof(*s->links));
    s->chains = alloc_array(cv, k->chains, SPEC_MAX_CHAINS, sizeof(*s->chains));
    cv->chain_reads =
        alloc_array(cv, k->chains, SPEC_MAX_CHAINS, sizeof(*cv->chain_reads));
    s->gateways =
        alloc_array(cv, k->gateways, SPEC_MAX_GATEWAYS, sizeof(*s->gateways));
    s->measures =
        alloc_array(cv, k->measures, SPEC_MAX_MEASURES, sizeof(*s->measures));
    for (cv->ids_cap = 16; cv->ids_cap < 2 * (k->all + k->chain_links);)
        cv->ids_cap *= 2;
    cv->ids = calloc(cv->ids_cap, sizeof(*cv->ids));
    return cv->oom || cv->ids == NULL ? -1 : 0;
}

/* Room for one more element of a kind, or NULL (too many: reported once). */
static void *slot(struct conv *cv, const xmlNode *el, void *array, size_t *n,
                  size_t max, size_t elem_size)
{
    char subject[SUBJECT_MAX];

    if (*n < max)
        return (char *)array + (*n)++ * elem_size;
    if (*n == max) {
        describe(cv, el, subject, sizeof(subject));
        cv_err(cv, line_of(el), "%s: too many %ss; a slice has at most %zu",
               subject, el->name, max);
        (*n)++; /* report once; fixed up after the loop */
    }
    return NULL;
}

static void conv_child(struct conv *cv, const xmlNode *c)
{
    struct slice_spec *s = cv->spec;
    struct id_entry *e;
    void *p;

    check_element(cv, c);
    if (name_is(c, "lease")) {
        conv_lease(cv, c);
        return;
    }
    e = ids_add(cv, c, attr_val(cv, c, "id"), (const char *)c->name);
    if (name_is(c, "node") &&
        (p = slot(cv, c, s->nodes, &s->n_nodes, SPEC_MAX_NODES,
                  sizeof(*s->nodes))) != NULL) {
        conv_node(cv, c, p);
        if (e != NULL)
            e->index = s->n_nodes - 1;
    } else if (name_is(c, "link") &&
               (p = slot(cv, c, s->links, &s->n_links, SPEC_MAX_LINKS,
                         sizeof(*s->links))) != NULL) {
        conv_link(cv, c, p);
        if (e != NULL)
            e->index = s->n_links - 1;
    } else if (name_is(c, "chain") &&
               (p = slot(cv, c, s->chains, &s->n_chains, SPEC_MAX_CHAINS,
                         sizeof(*s->chains))) != NULL) {
        struct chain_read *r = &cv->chain_reads[s->n_chains - 1];

        conv_chain(cv, c, p, r);
        r->expand = e != NULL && is_name(e->id);
    } else if (name_is(c, "gateway") &&
               (p = slot(cv, c, s->gateways, &s->n_gateways, SPEC_MAX_GATEWAYS,
                         sizeof(*s->gateways))) != NULL)
        conv_gateway(cv, c, p);
    else if (name_is(c, "measure") &&
             (p = slot(cv, c, s->measures, &s->n_measures, SPEC_MAX_MEASURES,
                       sizeof(*s->measures))) != NULL)
        conv_measure(cv, c, p);
}

/* Pass 3. Errors go to cv; cv->spec is the result. */
static void convert(struct conv *cv, const xmlNode *root)
{
    struct slice_counts k;
    struct slice_spec *s;
    char subject[SUBJECT_MAX];

    cv->phase = PHASE_CONVERT;
    count_children(root, &k);
    if (alloc_slice(cv, &k) != 0) {
        cv->oom = true;
        return;
    }
    s = cv->spec;
    check_element(cv, root);
    s->name = dup_or_oom(cv, attr_val(cv, root, "name"));
    s->weight = 1;
    read_count(cv, root, "weight", 1, MAX_WEIGHT, &s->weight);
    for (const xmlNode *c = root->children; c != NULL; c = c->next) {
        if (find_elem(c) != NULL &&
            is_one_of((const char *)c->name, slice_children))
            conv_child(cv, c);
    }
    s->n_nodes = at_most(s->n_nodes, SPEC_MAX_NODES);
    s->n_links = at_most(s->n_links, SPEC_MAX_LINKS);
    s->n_gateways = at_most(s->n_gateways, SPEC_MAX_GATEWAYS);
    s->n_measures = at_most(s->n_measures, SPEC_MAX_MEASURES);
    s->n_chains = at_most(s->n_chains, SPEC_MAX_CHAINS);
    cv->n_explicit_links = s->n_links;
    expand_chains(cv, k.links > SPEC_MAX_LINKS);
    check_refs(cv);
    check_addresses(cv);
    if (k.nodes == 0)
        cv_err(cv, line_of(root), "%s: no nodes; add at least one <node>",
               describe(cv, root, subject, sizeof(subject)));
}

/* ---- Public interface --------------------------------------------------- */

static void conv_free(struct conv *cv)
{
    errors_free(&cv->errs);
    free(cv->parse_err_msg);
    spec_free(cv->spec);
    free(cv->ids);
    free(cv->chain_reads);
    for (size_t i = 0; i < cv->n_pool; i++)
        xmlFree(cv->pool[i]);
    free(cv->pool);
}

char *spec_parse(const char *xml, size_t len, struct slice_spec **out)
{
    struct conv cv = {0};
    struct saved_handlers saved;
    xmlDoc *doc = NULL;
    const xmlNode *root;
    char *msg = NULL;

    if (out != NULL)
        *out = NULL;
    if (xml == NULL)
        len = 0;
    handlers_install(&saved, &cv);
    doc = read_doc(&cv, xml ? xml : "", len);
    if (doc == NULL)
        goto cleanup;
    root = xmlDocGetRootElement(doc);
    if (check_root(&cv, root) != 0)
        goto cleanup;
    validate(&cv, doc);
    convert(&cv, root);
cleanup:
    handlers_restore(&saved);
    if (cv.oom)
        msg = strdup("internal error: out of memory reading the slice spec");
    else if (cv.errs.n > 0)
        msg = errors_join(&cv.errs);
    else if (out != NULL)
        *out = cv.spec, cv.spec = NULL;
    if ((cv.oom || cv.errs.n > 0) && msg == NULL)
        abort(); /* cannot even say "out of memory" */
    xmlFreeDoc(doc);
    conv_free(&cv);
    return msg;
}

char *spec_parse_file(const char *path, struct slice_spec **out)
{
    FILE *f = NULL;
    char *buf = NULL, *msg = NULL;
    size_t len;

    if (out != NULL)
        *out = NULL;
    f = fopen(path, "rb");
    if (f == NULL) {
        if (asprintf(&msg, "%s: %s", path, strerror(errno)) < 0)
            msg = NULL;
        goto cleanup;
    }
    buf = malloc(SPEC_MAX_DOC_BYTES + 1);
    if (buf == NULL) {
        msg = strdup("internal error: out of memory reading the slice spec");
        goto cleanup;
    }
    len = fread(buf, 1, SPEC_MAX_DOC_BYTES + 1, f);
    if (ferror(f)) {
        if (asprintf(&msg, "%s: %s", path, strerror(errno)) < 0)
            msg = NULL;
        goto cleanup;
    }
    msg = spec_parse(buf, len, out);
cleanup:
    if (f != NULL)
        fclose(f);
    free(buf);
    return msg;
}

void spec_free(struct slice_spec *spec)
{
    if (spec == NULL)
        return;
    for (size_t i = 0; i < spec->n_nodes; i++) {
        struct spec_node *n = &spec->nodes[i];

        free(n->id);
        free(n->vnode);
        free(n->module);
        for (size_t j = 0; j < n->n_params; j++) {
            free(n->params[j].key);
            free(n->params[j].value);
        }
        free(n->params);
        free(n->image);
        free(n->command);
        for (size_t j = 0; j < n->n_ifaces; j++) {
            free(n->ifaces[j].link);
            free(n->ifaces[j].address);
        }
        free(n->ifaces);
        for (size_t j = 0; j < n->n_routes; j++) {
            free(n->routes[j].to);
            free(n->routes[j].via);
        }
        free(n->routes);
    }
    for (size_t i = 0; i < spec->n_links; i++) {
        free(spec->links[i].id);
        free(spec->links[i].a);
        free(spec->links[i].b);
    }
    for (size_t i = 0; i < spec->n_chains; i++) {
        free(spec->chains[i].id);
        for (size_t j = 0; j < spec->chains[i].n_hops; j++)
            free(spec->chains[i].hops[j]);
        free(spec->chains[i].hops);
    }
    for (size_t i = 0; i < spec->n_gateways; i++) {
        free(spec->gateways[i].id);
        free(spec->gateways[i].agw);
        free(spec->gateways[i].node);
    }
    for (size_t i = 0; i < spec->n_measures; i++) {
        free(spec->measures[i].id);
        free(spec->measures[i].link);
        free(spec->measures[i].filter);
        free(spec->measures[i].metrics);
    }
    free(spec->nodes);
    free(spec->links);
    free(spec->chains);
    free(spec->gateways);
    free(spec->measures);
    free(spec->name);
    free(spec);
}

int spec_node_index(const struct slice_spec *spec, const char *id)
{
    if (spec == NULL || id == NULL)
        return -1;
    for (size_t i = 0; i < spec->n_nodes; i++) {
        if (spec->nodes[i].id != NULL && strcmp(spec->nodes[i].id, id) == 0)
            return (int)i;
    }
    return -1;
}

const struct spec_node *spec_find_node(const struct slice_spec *spec,
                                       const char *id)
{
    int i = spec_node_index(spec, id);

    return i < 0 ? NULL : &spec->nodes[i];
}

const char *spec_node_kind_name(enum spec_node_kind kind)
{
    switch (kind) {
    case SPEC_NODE_FASTPATH:
        return "fastpath";
    case SPEC_NODE_SLOWPATH:
        return "slowpath";
    case SPEC_NODE_CONTAINER:
        return "container";
    }
    return "unknown";
}
