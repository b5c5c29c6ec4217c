/* Store housekeeping for `warmrun-image`: the store lock, removing an
 * image, and freeing the layers no image uses any more. */
#ifndef WARMRUN_STORE_ADMIN_H
#define WARMRUN_STORE_ADMIN_H

#include "lib/error.h"

#include <stddef.h>

/* Takes the store's writer lock (flock on <root>/lock), waiting for other
 * writers; returns the fd that holds it. Imports, removals and builds take
 * it; readers (the runtime) never need it: everything they read appears by
 * rename(). Then removes what dead writers left in tmp/ (their staging
 * directories and temporary files). */
int wr_store_lock(const char *root, wr_error *err);

/* Removes layers/sha256/<hex> (renamed into tmp/ first, so it disappears
 * at once). */
int wr_store_layer_remove(const char *root, const char *hex, wr_error *err);

/* Removes images/<name>/<tag>.json (and name directories left empty). */
int wr_store_image_remove(const char *root, const char *name, const char *tag, wr_error *err);

/* Removes every layer that no manifest lists and no overlayfs mount of any
 * mount namespace uses (a pool's warm containers keep the layers of a tag
 * that was since re-imported or removed). Does nothing when a manifest
 * cannot be read (it might list any layer). *freed counts the layers
 * removed. */
int wr_store_gc(const char *root, size_t *freed, wr_error *err);

#endif
