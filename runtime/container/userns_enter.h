/* The container's side of --userns: see lib/userns.h for the design. */
#ifndef WARMRUN_USERNS_ENTER_H
#define WARMRUN_USERNS_ENTER_H

#include "lib/error.h"

#include <stddef.h>

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
