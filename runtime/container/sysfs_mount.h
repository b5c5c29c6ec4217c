/* The container's /sys (sysfs_mount.c): a sysfs mount per network
 * namespace that travels with a recycled namespace, cloned into each
 * container that gets the namespace (docs/security.md, "Recycled network
 * namespaces"). */
#ifndef WARMRUN_SYSFS_MOUNT_H
#define WARMRUN_SYSFS_MOUNT_H

#include "container.h"

#include "lib/error.h"

/* Mounts /sys (read-only, nosuid, nodev, noexec: as Docker does) on the
 * directory target_fd holds, in one of three ways:
 * - cfg->sysfs_fd >= 0 (a detached sysfs mount made in the network
 *   namespace we entered): a clone of it (open_tree OPEN_TREE_CLONE, then
 *   move_mount), which shares its superblock: no new sysfs superblock;
 * - else, with cfg->sysfs_keep: a new detached mount M (fsopen, fsmount),
 *   made in our network namespace, and a clone of M; M is kept for
 *   wr_sysfs_kept_take (the shim holds it with the namespace);
 * - else, or when the new mount API fails (an older kernel, EINVAL from
 *   open_tree, a descriptor that is no sysfs mount): mount(2) of a new
 *   sysfs, as without recycling. Never a weaker /sys: the clone gets the
 *   four flags set whatever the mount it came from had.
 * cfg->sysfs_fd is closed here in every case. Errors: mount(2)'s. */
int wr_sysfs_mount(const struct wr_container_config *cfg, int target_fd, wr_error *err);

/* The detached mount M made by wr_sysfs_mount, the caller's now (to send
 * to the shim and close before the workload runs), or -1 if none was
 * made. */
int wr_sysfs_kept_take(void);

#endif
