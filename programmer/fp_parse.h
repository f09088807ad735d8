/* fp_parse: the runtime's pre-processing. Parses one frame into a struct
 * vnode_meta (see vnode_module.h for what each flag guarantees). Never
 * reads outside [data, data + len): garbage in, a meta with fewer flags
 * out. */
#ifndef FP_PARSE_H
#define FP_PARSE_H

#include <stdint.h>

#include "vnode_module.h"

/* Fills 'm' for the frame 'data' of 'len' bytes received on 'in_port';
 * sets m->out to VNODE_DROP. */
void fp_parse(const uint8_t *data, uint32_t len, uint16_t in_port,
              struct vnode_meta *m);

#endif
