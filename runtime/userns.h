/* User namespaces (`--userns`): container root is an unprivileged host uid.
 *
 * The shim makes the namespace before it clones the container (a helper
 * child unshares it, the shim writes its maps). The container sets itself
 * up as host root, with the image layers idmapped into the namespace
 * (mount_setattr MOUNT_ATTR_IDMAP) so that it owns its files, then enters
 * the namespace at the end of the fill path: its mount, pid, net and ipc
 * namespaces stay owned by the host's user namespace, so even its root,
 * with every capability of the user namespace, cannot mount, and a
 * breakout lands as an unprivileged uid. It gets a UTS namespace of its
 * own so that activation can still set the host name. */
#ifndef WARMRUN_USERNS_H
#define WARMRUN_USERNS_H

#include "error.h"

#include <stddef.h>
#include <stdint.h>

/* Shim: a user namespace mapping 0..size-1 to base..; *fd refers to it. */
int wr_userns_create(uint32_t base, uint32_t size, int *fd, wr_error *err);

/* Container, as host root: an idmapped copy of each layer of lowerdir
 * (':'-separated, topmost first) under dir/l<N>; out gets the new
 * lowerdir value. */
int wr_userns_idmap_layers(const char *lowerdir, const char *dir, int userns_fd, char *out,
                           size_t cap, wr_error *err);

/* Container: joins the namespace (and closes userns_fd), unshares a UTS
 * namespace (host name hostname) owned by it, becomes its root, and arms
 * its parent-death signal again (wr_parent_death_arm on shim_sock). */
int wr_userns_enter(int userns_fd, const char *hostname, int shim_sock, wr_error *err);

#endif
