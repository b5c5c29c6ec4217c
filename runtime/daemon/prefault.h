/* Prefault: warm the page cache for an image's hot files once per pool,
 * off the hot path, so that a warm activation never waits on the disk for
 * its binary: the default command's executable (searched in the image's
 * PATH), its ELF interpreter and the shared libraries it needs (DT_NEEDED,
 * recursively, in the usual library directories of the image), plus a
 * configured list. Files are found in the image's layers, topmost first,
 * with every path resolved inside the layer (openat2 RESOLVE_IN_ROOT). */
#ifndef WARMRUN_PREFAULT_H
#define WARMRUN_PREFAULT_H

#include "lib/image_store.h"

#include <stddef.h>

#define WR_PREFAULT_MAX_FILES 64

struct wr_prefault_stats {
    size_t files, bytes;
    char paths[WR_PREFAULT_MAX_FILES][128]; /* image paths, for tests and logs */
};

/* extra: comma-separated absolute image paths, or NULL/"". Best effort:
 * files it cannot find are skipped. Returns the number of files. */
size_t wr_prefault_image(const struct wr_image *img, const char *extra,
                         struct wr_prefault_stats *st);

#endif
