/* `warmrun-image import`: brings an image into the store, whatever form it
 * comes in (detected by content):
 *   - a `docker save` archive (legacy or OCI-in-docker-save), or an OCI
 *     image layout, as a tar (plain or compressed) or a directory;
 *   - a flat rootfs tarball (`docker export`; plain, gzip, zstd, xz);
 *   - a plain directory holding a rootfs;
 *   - "-": any of the archives, on standard input.
 * Each layer is unpacked safely (layer_unpack.h) into a staging directory,
 * checked against its digests, and stored once under its diff_id (the
 * sha256 of its uncompressed tar, as in the image config): layers shared
 * between images are stored once. An image whose lowerdir option would not
 * fit in a page (or with more layers than the runtime stacks) is flattened
 * into one layer at import.
 *
 * The whole import holds the store lock and is all or nothing: on any error
 * the layers it added are removed and the store is as before. */
#ifndef WARMRUN_IMAGE_IMPORT_H
#define WARMRUN_IMAGE_IMPORT_H

#include "lib/error.h"
#include "store_write.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Budget for the lowerdir= value: the legacy mount(2) options are one page,
 * which also holds upperdir= and workdir= (paths in the state directory). */
#define WR_LOWERDIR_MAX 3072
/* The runtime's own limit (image_store.c). */
#define WR_IMPORT_MAX_LAYERS 128

struct wr_import_opts {
    const char *ref;    /* NAME[:TAG] to store it under; NULL: the archive's own name */
    uint64_t max_bytes; /* bound on the decompressed size of each archive; 0: default */
    bool flatten;       /* store one layer even when the layers would fit */
    /* Called now and then: layer (1-based) of n, decompressed bytes so far. */
    void (*progress)(void *arg, size_t layer, size_t n, uint64_t bytes);
    void *progress_arg;
};

struct wr_import_result {
    char ref[300];           /* name:tag stored */
    char id[WR_DIGEST_SIZE]; /* image id */
    const char *format;      /* docker-save, oci-layout, rootfs-tar, directory */
    size_t n_layers;         /* layers of the source */
    size_t n_stored;         /* layers of the stored image (1 when flattened) */
    size_t new_layers;       /* of those, how many were not in the store yet */
    uint64_t size;           /* bytes of regular files over all layers */
    bool flattened;
};

int wr_image_import(const char *root, const char *path, const struct wr_import_opts *o,
                    struct wr_import_result *res, wr_error *err);

#endif
