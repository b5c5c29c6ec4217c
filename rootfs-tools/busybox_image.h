/* The default image: a one-layer rootfs made of Debian's static busybox, a
 * symlink per applet and the few files a shell expects (passwd, group,
 * hosts). Built from the host, no network, reproducible: the same busybox
 * binary always gives the same layer id and image id. */
#ifndef WARMRUN_BUSYBOX_IMAGE_H
#define WARMRUN_BUSYBOX_IMAGE_H

#include "lib/error.h"
#include "store_write.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WR_BUSYBOX_DEFAULT_PATH "/bin/busybox"
#define WR_BUSYBOX_IMAGE_NAME   "busybox"

struct wr_busybox_result {
    char id[WR_DIGEST_SIZE];    /* image id, "sha256:<hex>" */
    char layer[WR_DIGEST_SIZE]; /* layer id, "sha256:<hex>" */
    size_t n_files;             /* entries in the layer, directories included */
    uint64_t bytes;             /* total size of its regular files */
    bool layer_existed;         /* the layer was already in the store */
};

/* Builds busybox:<tag> into the store at root (creating the store if
 * needed). busybox is the static binary to use, NULL for the one of
 * Debian's busybox-static. */
int wr_busybox_image_build(const char *root, const char *tag, const char *busybox,
                           struct wr_busybox_result *res, wr_error *err);

#endif
