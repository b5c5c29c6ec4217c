/* pid 1's mount namespace as a copy of the shim server's small template
 * (shim/shim_mnt_template.h), not of the shim's whole one. */
#ifndef WARMRUN_CONTAINER_MNT_TEMPLATE_H
#define WARMRUN_CONTAINER_MNT_TEMPLATE_H

#include "lib/error.h"

/* Enters the template namespace ns_fd (setns; closed here in every case)
 * and makes a private copy of it (unshare(CLONE_NEWNS)): a namespace of
 * the template's few mounts, the caller's own. Called first thing, by a
 * pid 1 cloned without CLONE_NEWNS (it shares the shim's namespace until
 * then), as root of the host's user namespace (setns needs CAP_SYS_ADMIN
 * over the template's owner). A setns that fails leaves us in the shim's
 * namespace, and the copy is then of that one: today's full copy, never
 * a shared namespace. Returns 0, or -1 (err) when no copy was made. */
int wr_mnt_template_enter(int ns_fd, wr_error *err);

#endif
