/* driver_rpc: the sliver driver that drives programmerd and redirectord. */
#ifndef SNC_DRIVER_RPC_H
#define SNC_DRIVER_RPC_H

#include <stddef.h>
#include <stdint.h>

#include "driver.h"
#include "topo.h"

#define DRIVER_REDIRECTOR_PORT 7001
#define DRIVER_PROGRAMMER_PORT 7002

#define DRIVER_URL_DEFAULT "http://{mgmt}:{port}/RPC2"

/* 'url_format' (NULL = DRIVER_URL_DEFAULT) names a node daemon: {mgmt} is
 * the VNode's management address, {vnode} its name, {port} the daemon's
 * port (7001 redirectord, 7002 programmerd) and {daemon} its name, e.g.
 * "unix:/run/vnode/{vnode}.{daemon}.sock". 't' is borrowed. Free with
 * driver_rpc_free. */
struct sliver_driver *driver_rpc_new(const struct topo *t,
                                     const char *url_format);
void driver_rpc_free(struct sliver_driver *d);

/* The name of a link's port in the VNode namespace: "k%08x" key + end. */
void driver_port_name(uint32_t key, char end, char *buf, size_t n);

#endif
