/* libFuzzer target for the slice request parser (lib/spec.c): any input
 * must give either a spec or a message, never a crash, leak or hang. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "spec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct slice_spec *spec = NULL;
    char *msg = spec_parse((const char *)data, size, &spec);

    /* Exactly one of the two; a message is never empty. */
    if ((msg == NULL) == (spec == NULL) || (msg != NULL && msg[0] == '\0'))
        abort();
    if (spec != NULL) {
        /* What the parser promises holds for every spec it returns. */
        for (size_t i = 0; i < spec->n_links; i++) {
            const struct spec_link *l = &spec->links[i];

            if (spec_find_node(spec, l->a) == NULL ||
                spec_find_node(spec, l->b) == NULL || strcmp(l->a, l->b) == 0 ||
                l->ceil_bps < l->rate_bps || l->rate_bps == 0 ||
                l->burst_bytes < 1500)
                abort();
        }
    }
    spec_free(spec);
    free(msg);
    return 0;
}
