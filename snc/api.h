/* api: sncd's XML-RPC methods (one table) over the controller. */
#ifndef SNC_API_H
#define SNC_API_H

#include <stddef.h>

#include "ctl.h"
#include "rpc.h"

/* The method table; handlers take a struct ctl * as ctx. */
extern const struct vn_rpc_method snc_api_methods[];
extern const size_t snc_api_n_methods;

#endif
