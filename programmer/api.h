/* api: programmerd's XML-RPC methods (one table) over struct node, as in
 * docs/dataplane.md: sliver.create / delete / list / restart. */
#ifndef PROGRAMMER_API_H
#define PROGRAMMER_API_H

#include <stddef.h>
#include <xmlrpc-c/base.h>

#include "rpc.h"
#include "sliver.h"

/* The method table; handlers take a struct node * as ctx. */
extern const struct vn_rpc_method programmer_api_methods[];
extern const size_t programmer_api_n_methods;

/* Decodes the struct of sliver.create into 'spec' (every string set, ""
 * when absent). Checks member names and types only; values are checked by
 * sliver_spec_check(). Returns 0, or -1 with a VN_FAULT_BAD_PARAMS fault
 * on 'env' naming the member (and 'spec' freed). */
int api_decode_spec(xmlrpc_env *env, xmlrpc_value *st,
                    struct sliver_spec *spec);

/* Parses a string value holding an XML-RPC <struct> element (optionally
 * inside <value>) into a struct: the form of sliver.create for clients
 * that cannot send structs, such as Debian's xmlrpc CLI. Returns a new
 * reference, or NULL with a VN_FAULT_BAD_PARAMS fault. */
xmlrpc_value *api_struct_from_xml(xmlrpc_env *env, xmlrpc_value *str);

#endif
