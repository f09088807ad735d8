/* sliver: validation, equality and naming of node slivers; restart policy. */
#include "sliver.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <sysexits.h>

#include "fp_lpm.h"
#include "fp_modules.h"

#define IFNAME_MAX 15 /* IFNAMSIZ - 1 */

void sliver_spec_free(struct sliver_spec *s)
{
    if (s == NULL)
        return;
    free(s->slice);
    free(s->id);
    free(s->command);
    free(s->module);
    for (size_t i = 0; i < s->n_params; i++) {
        free(s->params[i].key);
        free(s->params[i].value);
    }
    free(s->params);
    for (size_t i = 0; i < s->n_ports; i++) {
        free(s->ports[i].ifname);
        free(s->ports[i].host_port);
        free(s->ports[i].address);
        free(s->ports[i].shm);
    }
    free(s->ports);
    for (size_t i = 0; i < s->n_routes; i++) {
        free(s->routes[i].to);
        free(s->routes[i].via);
    }
    free(s->routes);
    memset(s, 0, sizeof(*s));
}

int sliver_type_parse(const char *s)
{
    if (strcmp(s, "container") == 0)
        return SLIVER_CONTAINER;
    if (strcmp(s, "fastpath") == 0)
        return SLIVER_FASTPATH;
    return -1;
}

const char *sliver_type_name(enum sliver_type t)
{
    return t == SLIVER_FASTPATH ? "fastpath" : "container";
}

static char *msgf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static char *msgf(const char *fmt, ...)
{
    va_list ap;
    char *m = NULL;

    va_start(ap, fmt);
    if (vasprintf(&m, fmt, ap) < 0)
        m = NULL;
    va_end(ap);
    return m != NULL ? m : strdup("invalid sliver (and out of memory)");
}

static bool name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '_' || c == '-';
}

bool sliver_name_valid(const char *s, size_t max)
{
    size_t n = strlen(s);

    if (n == 0 || n > max || s[0] == '-')
        return false;
    for (size_t i = 0; i < n; i++)
        if (!name_char(s[i]))
            return false;
    return true;
}

/* Interface names: 1..15 bytes of [A-Za-z0-9_.-], not "." / "..", not
 * starting with '-' (iproute2 would read an option). */
static bool ifname_valid(const char *s)
{
    size_t n = strlen(s);

    if (n == 0 || n > IFNAME_MAX || s[0] == '-' || strcmp(s, ".") == 0 ||
        strcmp(s, "..") == 0)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!name_char(s[i]) && s[i] != '.')
            return false;
    return true;
}

bool sliver_parse_ipv4(const char *s, uint32_t *addr)
{
    struct in_addr a;

    if (inet_pton(AF_INET, s, &a) != 1)
        return false;
    *addr = ntohl(a.s_addr);
    return true;
}

bool sliver_parse_cidr(const char *s, uint32_t *addr, int *len)
{
    char buf[32];
    const char *slash = strchr(s, '/');
    size_t alen;
    char *end;
    long l;

    if (slash == NULL || (alen = (size_t)(slash - s)) >= sizeof(buf) ||
        slash[1] < '0' || slash[1] > '9')
        return false;
    errno = 0;
    l = strtol(slash + 1, &end, 10);
    if (errno != 0 || *end != '\0' || l < 0 || l > 32)
        return false;
    memcpy(buf, s, alen);
    buf[alen] = '\0';
    *len = (int)l;
    return sliver_parse_ipv4(buf, addr);
}

static bool unicast(uint32_t a)
{
    return a != 0 && a < 0xe0000000u && (a >> 24) != 127;
}

static char *check_ports(const struct sliver_spec *s)
{
    if (s->n_ports > SLIVER_MAX_PORTS)
        return msgf("ports: %zu ports; at most %d", s->n_ports,
                    SLIVER_MAX_PORTS);
    if (s->type == SLIVER_FASTPATH && s->n_ports == 0)
        return msgf("ports: a fastpath sliver needs at least one port");
    for (size_t i = 0; i < s->n_ports; i++) {
        const struct sliver_port *p = &s->ports[i];
        uint32_t a;
        int len;

        if (!ifname_valid(p->ifname) || strcmp(p->ifname, "lo") == 0)
            return msgf("ports[%zu].ifname '%.40s' is not an interface name "
                        "(1..15 of A-Z a-z 0-9 _ . -, not lo)",
                        i, p->ifname);
        if (!ifname_valid(p->host_port))
            return msgf("ports[%zu].host_port '%.40s' is not an interface "
                        "name (1..15 of A-Z a-z 0-9 _ . -)",
                        i, p->host_port);
        if (strcmp(p->shm, "") != 0 && strcmp(p->shm, "a") != 0 &&
            strcmp(p->shm, "b") != 0)
            return msgf("ports[%zu].shm '%.8s' is not \"a\", \"b\" or \"\"",
                        i, p->shm);
        if (p->shm[0] != '\0' && s->type != SLIVER_FASTPATH)
            return msgf("ports[%zu].shm: only fastpath slivers take "
                        "shared-memory ports",
                        i);
        for (size_t j = 0; j < i; j++) {
            if (strcmp(s->ports[j].ifname, p->ifname) == 0)
                return msgf("ports[%zu].ifname '%s' is used twice", i,
                            p->ifname);
            if (strcmp(s->ports[j].host_port, p->host_port) == 0)
                return msgf("ports[%zu].host_port '%s' is used twice", i,
                            p->host_port);
        }
        if (p->address[0] == '\0')
            continue;
        if (s->type == SLIVER_FASTPATH)
            return msgf("ports[%zu].address: fastpath ports carry no kernel "
                        "address; give the module its addresses in params "
                        "(e.g. address=%s:%s)",
                        i, p->ifname, p->address);
        if (!sliver_parse_cidr(p->address, &a, &len) || len == 0 || !unicast(a))
            return msgf("ports[%zu].address '%.40s' is not a unicast "
                        "A.B.C.D/LEN with LEN 1..32 (or \"\")",
                        i, p->address);
    }
    return NULL;
}

/* True if 'via' is inside the subnet of one of the ports' addresses. */
static bool reachable(const struct sliver_spec *s, uint32_t via)
{
    for (size_t i = 0; i < s->n_ports; i++) {
        uint32_t a;
        int len;
        if (sliver_parse_cidr(s->ports[i].address, &a, &len) &&
            ((a ^ via) & fp_lpm_mask(len)) == 0)
            return true;
    }
    return false;
}

static char *check_routes(const struct sliver_spec *s)
{
    if (s->n_routes > SLIVER_MAX_ROUTES)
        return msgf("routes: %zu routes; at most %d", s->n_routes,
                    SLIVER_MAX_ROUTES);
    if (s->type == SLIVER_FASTPATH && s->n_routes > 0)
        return msgf("routes: a fastpath sliver routes in its module; give "
                    "them as params (e.g. route=%s:PORT:%s)",
                    s->routes[0].to, s->routes[0].via);
    for (size_t i = 0; i < s->n_routes; i++) {
        const struct sliver_route *r = &s->routes[i];
        uint32_t to, via;
        int len;

        if (strcmp(r->to, "default") != 0) {
            if (!sliver_parse_cidr(r->to, &to, &len))
                return msgf("routes[%zu].to '%.40s' is not A.B.C.D/LEN or "
                            "default",
                            i, r->to);
            if ((to & ~fp_lpm_mask(len)) != 0)
                return msgf("routes[%zu].to '%s' has bits set beyond /%d", i,
                            r->to, len);
        }
        if (!sliver_parse_ipv4(r->via, &via) || !unicast(via))
            return msgf("routes[%zu].via '%.40s' is not a unicast IPv4 "
                        "address",
                        i, r->via);
        if (!reachable(s, via))
            return msgf("routes[%zu].via %s is in no subnet of the ports' "
                        "addresses",
                        i, r->via);
    }
    return NULL;
}

static bool printable(const char *s)
{
    for (; *s != '\0'; s++)
        if (*s < 0x21 || *s > 0x7e)
            return false;
    return true;
}

static bool key_valid(const char *s)
{
    size_t n = strlen(s);

    if (n == 0 || n > SLIVER_NAME_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') ||
              s[i] == '_'))
            return false;
    return true;
}

static char *check_fastpath(const struct sliver_spec *s)
{
    const struct vnode_module *m;
    struct vnode_param params[SLIVER_MAX_PARAMS];
    const char *names[SLIVER_MAX_PORTS];
    char *err;

    if (s->command[0] != '\0')
        return msgf("command: a fastpath sliver runs a module, not a "
                    "command; leave command empty");
    if (s->module[0] == '\0')
        return msgf("module: a fastpath sliver needs a module (%s)",
                    fp_module_names());
    if ((m = fp_module_find(s->module)) == NULL)
        return msgf("module '%.40s' is unknown; modules: %s", s->module,
                    fp_module_names());
    if (s->n_params > SLIVER_MAX_PARAMS)
        return msgf("params: %zu params; at most %d", s->n_params,
                    SLIVER_MAX_PARAMS);
    for (size_t i = 0; i < s->n_params; i++) {
        const struct sliver_param *p = &s->params[i];
        if (!key_valid(p->key))
            return msgf("params[%zu].key '%.40s' is not 1..%d of a-z 0-9 _", i,
                        p->key, SLIVER_NAME_MAX);
        if (strlen(p->value) > SLIVER_PARAM_MAX || !printable(p->value))
            return msgf("params[%zu].value of %s: up to %d printable "
                        "characters without spaces",
                        i, p->key, SLIVER_PARAM_MAX);
        if ((err = fp_module_check_key(m, p->key)) != NULL)
            return err;
        params[i].key = p->key;
        params[i].value = p->value;
    }
    for (size_t i = 0; i < s->n_ports; i++)
        names[i] = s->ports[i].ifname;
    err = fp_module_check_params(m, names, (int)s->n_ports, params,
                                 (int)s->n_params);
    if (err != NULL) {
        char *m2 = msgf("params: %s", err);
        free(err);
        return m2;
    }
    return NULL;
}

static char *check_container(const struct sliver_spec *s)
{
    size_t n = strlen(s->command);

    if (n == 0 || n > SLIVER_COMMAND_MAX)
        return msgf("command: a container sliver needs a command of 1..%d "
                    "bytes (run with /bin/sh -c)",
                    SLIVER_COMMAND_MAX);
    if (s->module[0] != '\0' || s->n_params > 0)
        return msgf("module/params are for fastpath slivers; a container "
                    "runs its command");
    return NULL;
}

char *sliver_spec_check(const struct sliver_spec *s)
{
    char *err;

    if (!sliver_name_valid(s->slice, SLIVER_NAME_MAX))
        return msgf("slice '%.40s' is not a name (1..%d of A-Z a-z 0-9 _ -)",
                    s->slice, SLIVER_NAME_MAX);
    if (!sliver_name_valid(s->id, SLIVER_NAME_MAX))
        return msgf("id '%.40s' is not a name (1..%d of A-Z a-z 0-9 _ -)",
                    s->id, SLIVER_NAME_MAX);
    if (s->vcpus < 0 || s->vcpus > SLIVER_MAX_VCPUS)
        return msgf("vcpus %d is out of range 0..%d (0 = no CPU limit)",
                    s->vcpus, SLIVER_MAX_VCPUS);
    if (s->memory_mib != 0 && (s->memory_mib < SLIVER_MIN_MEMORY_MIB ||
                               s->memory_mib > SLIVER_MAX_MEMORY_MIB))
        return msgf("memory_mib %d is out of range %d..%d (0 = no memory "
                    "limit)",
                    s->memory_mib, SLIVER_MIN_MEMORY_MIB,
                    SLIVER_MAX_MEMORY_MIB);
    if ((err = check_ports(s)) != NULL || (err = check_routes(s)) != NULL)
        return err;
    return s->type == SLIVER_FASTPATH ? check_fastpath(s) : check_container(s);
}

bool sliver_spec_equal(const struct sliver_spec *a, const struct sliver_spec *b)
{
    if (strcmp(a->slice, b->slice) != 0 || strcmp(a->id, b->id) != 0 ||
        a->type != b->type || strcmp(a->command, b->command) != 0 ||
        strcmp(a->module, b->module) != 0 || a->vcpus != b->vcpus ||
        a->memory_mib != b->memory_mib || a->n_params != b->n_params ||
        a->n_ports != b->n_ports || a->n_routes != b->n_routes)
        return false;
    for (size_t i = 0; i < a->n_params; i++)
        if (strcmp(a->params[i].key, b->params[i].key) != 0 ||
            strcmp(a->params[i].value, b->params[i].value) != 0)
            return false;
    for (size_t i = 0; i < a->n_ports; i++)
        if (strcmp(a->ports[i].ifname, b->ports[i].ifname) != 0 ||
            strcmp(a->ports[i].host_port, b->ports[i].host_port) != 0 ||
            strcmp(a->ports[i].address, b->ports[i].address) != 0 ||
            strcmp(a->ports[i].shm, b->ports[i].shm) != 0)
            return false;
    for (size_t i = 0; i < a->n_routes; i++)
        if (strcmp(a->routes[i].to, b->routes[i].to) != 0 ||
            strcmp(a->routes[i].via, b->routes[i].via) != 0)
            return false;
    return true;
}

int sliver_netns_name(char *buf, size_t n, const char *prefix,
                      const char *slice, const char *id)
{
    int len = snprintf(buf, n, "%s.%s.%s", prefix, slice, id);

    return len < 0 || (size_t)len >= n ? -1 : 0;
}

int sliver_key(char *buf, size_t n, const char *slice, const char *id)
{
    int len = snprintf(buf, n, "%s.%s", slice, id);

    return len < 0 || (size_t)len >= n ? -1 : 0;
}

enum restart_action restart_decide(struct restart_state *rs, int status,
                                   uint64_t ran_ms, uint64_t *delay_ms)
{
    unsigned shift;

    if (WIFEXITED(status) &&
        (WEXITSTATUS(status) == EX_USAGE || WEXITSTATUS(status) == EX_CONFIG))
        return RESTART_NEVER;
    if (ran_ms >= RESTART_STABLE_MS)
        rs->quick_failures = 0;
    if (++rs->quick_failures > RESTART_GIVE_UP)
        return RESTART_NEVER;
    shift = rs->quick_failures - 1;
    *delay_ms = RESTART_BASE_MS;
    while (shift-- > 0 && *delay_ms < RESTART_MAX_MS)
        *delay_ms *= 2;
    if (*delay_ms > RESTART_MAX_MS)
        *delay_ms = RESTART_MAX_MS;
    return RESTART_LATER;
}

int sliver_exit_code(int status)
{
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    if (WIFSIGNALED(status))
        return 128 + WTERMSIG(status);
    return -1;
}
