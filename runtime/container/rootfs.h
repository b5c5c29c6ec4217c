/* The container's root (rootfs.c): propagation, tmpfs, overlayfs, /proc,
 * /sys, /dev, pivot_root, masked paths. */
#ifndef WARMRUN_ROOTFS_H
#define WARMRUN_ROOTFS_H

#include "container.h"
#include "lib/error.h"

int wr_rootfs_setup(const struct wr_container_config *cfg, wr_error *err);

#endif
