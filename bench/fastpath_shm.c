/* fastpath_shm: makes and removes the shared-memory link files of the
 * chain bench (bench/fastpath.sh), as programmerd does for two fast-path
 * slivers of one slice on one VNode (lib/pktio.h, "shm:").
 *
 * Usage: fastpath_shm create PATH [SLOTS] | destroy PATH */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pktio.h"

int main(int argc, char **argv)
{
    char err[256];

    if ((argc == 3 || argc == 4) && strcmp(argv[1], "create") == 0) {
        unsigned slots = argc == 4 ? (unsigned)strtoul(argv[3], NULL, 10) : 0;
        if (pktio_shm_create(argv[2], slots, 0, err, sizeof(err)) < 0) {
            fprintf(stderr, "fastpath_shm: %s: %s\n", argv[2], err);
            return 1;
        }
        return 0;
    }
    if (argc == 3 && strcmp(argv[1], "destroy") == 0)
        return pktio_shm_destroy(argv[2]) < 0 ? 1 : 0;
    fprintf(stderr, "usage: fastpath_shm create PATH [SLOTS] | destroy PATH\n");
    return 2;
}
