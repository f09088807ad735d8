/* fp_param: parameter parsing shared by the built-in modules (module-
 * private: not part of the API shipped to slice developers). Addresses are
 * in host byte order. */
#ifndef FP_PARAM_H
#define FP_PARAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vnode_module.h"

/* *err = a malloc'd message (NULL if out of memory). */
void fp_errf(char **err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The index of the port of 'env' called 'name' (the first 'len' bytes of
 * it), or -1. */
int fp_port_by_name(const struct vnode_env *env, const char *name, size_t len);

/* "A.B.C.D". */
bool fp_parse_ipv4(const char *s, uint32_t *ip);
/* "A.B.C.D/LEN" (LEN 0..32), or "default" (0.0.0.0/0). */
bool fp_parse_cidr(const char *s, uint32_t *ip, int *plen);
/* Not 0.0.0.0, loopback, multicast or reserved (class E, broadcast). */
bool fp_unicast_ip(uint32_t ip);

/* A decimal number in lo..hi, nothing else (no sign, no spaces). */
bool fp_parse_uint(const char *s, unsigned long lo, unsigned long hi,
                   unsigned long *out);
/* "on" -> 1, "off" -> 0, anything else -> -1. */
int fp_parse_onoff(const char *s);

#endif
