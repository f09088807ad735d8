/* fault: the one enum of XML-RPC fault codes shared by every daemon and
 * client. Codes are positive and stable (they are part of the API);
 * xmlrpc-c's own negative codes never reach a client of ours. */
#ifndef VN_FAULT_H
#define VN_FAULT_H

#include <stdarg.h>
#include <stdbool.h>
#include <xmlrpc-c/base.h>

enum vn_fault {
    VN_OK = 0,
    VN_FAULT_INTERNAL = 100,     /* a bug or resource failure on the server */
    VN_FAULT_MALFORMED = 101,    /* request is not well-formed XML-RPC */
    VN_FAULT_TOO_LARGE = 102,    /* request body over the server's limit */
    VN_FAULT_NO_METHOD = 103,    /* unknown method name */
    VN_FAULT_BAD_PARAMS = 104,   /* wrong number or types of arguments */
    VN_FAULT_UNAUTHENTICATED = 105, /* no valid certificate or token */
    VN_FAULT_FORBIDDEN = 106,    /* authenticated, but not allowed */
    VN_FAULT_INVALID_SPEC = 107, /* slice spec malformed or inconsistent */
    VN_FAULT_NO_CAPACITY = 108,  /* valid, but cannot be embedded now */
    VN_FAULT_NOT_FOUND = 109,    /* no such slice / sliver / object */
    VN_FAULT_EXISTS = 110,       /* name already taken */
    VN_FAULT_STATE = 111,        /* object is busy or in the wrong state */
    VN_FAULT_NODE = 112,         /* a node daemon failed the operation */
    VN_FAULT_UNAVAILABLE = 113,  /* client side: server unreachable, bad HTTP */
    VN_FAULT_INVALID_ARG = 114,  /* an argument's value is out of range */
};

/* True for the codes of enum vn_fault other than VN_OK. */
bool vn_fault_known(int code);
/* Short stable name ("invalid-spec"), or "unknown". */
const char *vn_fault_name(int code);
/* One-line human description ("the slice spec is invalid"), or "unknown fault". */
const char *vn_fault_summary(int code);

/* Sets a fault on 'env' with 'code' and a printf-formatted message,
 * replacing any fault already there. The arguments may point into that
 * fault's string: the message is formatted before the old one is freed. */
void vn_fault_set(xmlrpc_env *env, enum vn_fault code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The same with a va_list. */
void vn_fault_setv(xmlrpc_env *env, enum vn_fault code, const char *fmt,
                   va_list ap) __attribute__((format(printf, 3, 0)));

#endif
