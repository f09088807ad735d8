/* libFuzzer target: GRE decapsulation of arbitrary frames never reads
 * outside the input, and an inner frame it returns lies inside it. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "gre.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct gre_decap r;

    if (gre_decap(data, size, &r) == GRE_OK &&
        (r.inner < data || r.inner + r.inner_len > data + size))
        abort();
    return 0;
}
