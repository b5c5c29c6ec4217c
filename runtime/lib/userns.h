/* User namespaces (`--userns`): container root is an unprivileged host uid.
 *
 * The shim makes the namespace before it clones the container (a helper
 * child, as the namespace's unprivileged owner, unshares it; the shim
 * writes its maps). The container sets itself
 * up as host root, with the image layers idmapped into the namespace
 * (mount_setattr MOUNT_ATTR_IDMAP) so that it owns its files, then enters
 * the namespace at the end of the fill path: its mount, pid, net and ipc
 * namespaces stay owned by the host's user namespace, so even its root,
 * with every capability of the user namespace, cannot mount, and a
 * breakout lands as an unprivileged uid. It gets a UTS namespace of its
 * own so that activation can still set the host name. */
/* This module is the shim's part, the namespace's creation; the
 * container's (idmapped layers, entering) is container/userns_enter.h. */
#ifndef WARMRUN_USERNS_H
#define WARMRUN_USERNS_H

#include "error.h"

#include <stddef.h>
#include <stdint.h>

/* Shim, as host root: a user namespace mapping uids and gids 0..size-1 to
 * host base..base+size-1, owned by host uid and gid owner; *fd refers to
 * it. The kernel charges the per-user counts of everything inside
 * (inotify instances and watches, RLIMIT_NPROC, RLIMIT_MSGQUEUE,
 * RLIMIT_SIGPENDING, namespaces; kernel/ucount.c) to the namespace's uid
 * and also to its owner in the host's namespace, against the host's
 * per-user limits: so the owner must be nobody else's uid, never host
 * root. A helper child takes on owner and unshares (the owner is the
 * creator's euid); the shim, with CAP_SETUID and CAP_SETGID on the host,
 * writes both maps, so setgroups stays allowed in the namespace. Errors:
 * the kernel's refusal of an unprivileged user namespace (EPERM, or ENOSPC
 * past user.max_user_namespaces), of the maps, of the helper. */
int wr_userns_create(uint32_t base, uint32_t size, uint32_t owner, int *fd, wr_error *err);

#endif
