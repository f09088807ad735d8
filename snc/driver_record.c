/* driver_record: slivers exist only in the store. */
#include "driver.h"

static int record_create(void *ctx, const struct store_slice *slice,
                         const struct store_sliver *v, char **err)
{
    (void)ctx, (void)slice, (void)v, (void)err;
    return 0;
}

static int record_destroy(void *ctx, const struct store_slice *slice,
                          const struct store_sliver *v, char **err)
{
    (void)ctx, (void)slice, (void)v, (void)err;
    return 0;
}

const struct sliver_driver driver_record = {
    .name = "record",
    .create = record_create,
    .destroy = record_destroy,
};
