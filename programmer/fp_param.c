/* fp_param: parameter parsing helpers for the built-in modules. */
#include "fp_param.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void fp_errf(char **err, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    if (vasprintf(err, fmt, ap) < 0)
        *err = NULL;
    va_end(ap);
}

int fp_port_by_name(const struct vnode_env *env, const char *name, size_t len)
{
    for (int i = 0; i < env->n_ports; i++)
        if (strlen(env->ports[i].name) == len &&
            strncmp(env->ports[i].name, name, len) == 0)
            return i;
    return -1;
}

bool fp_parse_ipv4(const char *s, uint32_t *ip)
{
    struct in_addr a;

    if (inet_pton(AF_INET, s, &a) != 1)
        return false;
    *ip = ntohl(a.s_addr);
    return true;
}

bool fp_parse_cidr(const char *s, uint32_t *ip, int *plen)
{
    char buf[32], *slash;
    unsigned long l;

    if (strcmp(s, "default") == 0) {
        *ip = 0;
        *plen = 0;
        return true;
    }
    if (strlen(s) >= sizeof(buf))
        return false;
    strcpy(buf, s);
    slash = strchr(buf, '/');
    if (slash == NULL)
        return false;
    *slash = '\0';
    if (!fp_parse_uint(slash + 1, 0, 32, &l))
        return false;
    *plen = (int)l;
    return fp_parse_ipv4(buf, ip);
}

bool fp_unicast_ip(uint32_t ip)
{
    return ip != 0 && ip < 0xe0000000u && (ip >> 24) != 127;
}

bool fp_parse_uint(const char *s, unsigned long lo, unsigned long hi,
                   unsigned long *out)
{
    char *end;
    unsigned long v;

    if (s[0] < '0' || s[0] > '9')
        return false;
    errno = 0;
    v = strtoul(s, &end, 10);
    if (errno != 0 || *end != '\0' || v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

int fp_parse_onoff(const char *s)
{
    if (strcmp(s, "on") == 0)
        return 1;
    if (strcmp(s, "off") == 0)
        return 0;
    return -1;
}
