/* fault: names and summaries of the shared fault codes. */
#include "fault.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

struct fault_info {
    int code;
    const char *name;
    const char *summary;
};

static const struct fault_info faults[] = {
    {VN_OK, "ok", "no error"},
    {VN_FAULT_INTERNAL, "internal", "internal error on the server"},
    {VN_FAULT_MALFORMED, "malformed", "the request is not well-formed XML-RPC"},
    {VN_FAULT_TOO_LARGE, "too-large",
     "the request body is over the server's limit"},
    {VN_FAULT_NO_METHOD, "no-method", "no such method"},
    {VN_FAULT_BAD_PARAMS, "bad-params", "wrong number or types of arguments"},
    {VN_FAULT_UNAUTHENTICATED, "unauthenticated",
     "no valid client certificate or token"},
    {VN_FAULT_FORBIDDEN, "forbidden", "not allowed for this caller"},
    {VN_FAULT_INVALID_SPEC, "invalid-spec", "the slice spec is invalid"},
    {VN_FAULT_NO_CAPACITY, "no-capacity",
     "not enough free capacity to embed the slice now"},
    {VN_FAULT_NOT_FOUND, "not-found", "no such slice, sliver or object"},
    {VN_FAULT_EXISTS, "exists", "the name is already taken"},
    {VN_FAULT_STATE, "state", "the object is busy or in the wrong state"},
    {VN_FAULT_NODE, "node", "a node daemon failed the operation"},
    {VN_FAULT_UNAVAILABLE, "unavailable",
     "the server is unreachable or answered with an HTTP error"},
    {VN_FAULT_INVALID_ARG, "invalid-arg",
     "an argument's value is out of range"},
};

static const struct fault_info *fault_find(int code)
{
    for (size_t i = 0; i < sizeof(faults) / sizeof(faults[0]); i++)
        if (faults[i].code == code)
            return &faults[i];
    return NULL;
}

bool vn_fault_known(int code)
{
    return code != VN_OK && fault_find(code) != NULL;
}

const char *vn_fault_name(int code)
{
    const struct fault_info *f = fault_find(code);
    return f != NULL ? f->name : "unknown";
}

const char *vn_fault_summary(int code)
{
    const struct fault_info *f = fault_find(code);
    return f != NULL ? f->summary : "unknown fault";
}

void vn_fault_setv(xmlrpc_env *env, enum vn_fault code, const char *fmt,
                   va_list ap)
{
    char *msg = NULL;

    if (vasprintf(&msg, fmt, ap) < 0) {
        /* Out of memory: keep the code, lose the details. */
        xmlrpc_env_set_fault(env, (int)code, vn_fault_summary((int)code));
        return;
    }
    xmlrpc_env_set_fault(env, (int)code, msg);
    free(msg);
}

void vn_fault_set(xmlrpc_env *env, enum vn_fault code, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vn_fault_setv(env, code, fmt, ap);
    va_end(ap);
}
