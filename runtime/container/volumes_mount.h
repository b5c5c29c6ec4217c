/* A container's volumes (lib/volumes.h), mounted by its pid 1 on the fill
 * path, in two steps around pivot_root (rootfs.c):
 *   1. wr_volumes_open, while the host's tree is still there: each bind
 *      source opened without following a symbolic link (the path was
 *      resolved on the host when the pool was created) and cloned as a
 *      detached mount (open_tree OPEN_TREE_CLONE, not AT_RECURSIVE: the
 *      host's mounts below the source are not taken along), made nosuid,
 *      nodev and, when asked, read-only (mount_setattr, before it is
 *      attached anywhere);
 *   2. wr_volumes_attach, inside the new root: each target resolved there
 *      (openat2 RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS: a symbolic link of
 *      the image, absolute or "../..", stays inside the root; a target in
 *      /proc or /sys is refused), made when missing as Docker makes it (a
 *      directory, or an empty file for a file source), and the mount moved
 *      onto that descriptor (move_mount with both paths empty): never a
 *      path string resolved again later (CVE-2021-30465). A tmpfs is made
 *      there (fsopen, fsmount: noexec, nosuid, nodev, size and mode).
 * Both run before the read-only remount of the root and before the
 * workload's user namespace is entered. */
#ifndef WARMRUN_VOLUMES_MOUNT_H
#define WARMRUN_VOLUMES_MOUNT_H

#include "lib/error.h"
#include "lib/volumes.h"

#include <stdbool.h>
#include <stdint.h>

struct wr_volume_trees {
    int fd[WR_VOLUMES_MAX]; /* the detached bind mounts; -1 for a tmpfs */
    bool is_dir[WR_VOLUMES_MAX];
};

int wr_volumes_open(const struct wr_volumes *vs, struct wr_volume_trees *t, wr_error *err);
/* uid_base: the owner of a tmpfs's root (the user namespace's root), 0
 * without one. Closes t's descriptors, failed or not. */
int wr_volumes_attach(const struct wr_volumes *vs, struct wr_volume_trees *t, uint32_t uid_base,
                      wr_error *err);
void wr_volume_trees_close(struct wr_volume_trees *t);

#endif
