/* The shim servers' mount template (shim/shim_mnt_template.h), kept by the
 * daemon across servers: a server makes one (a full copy of the host's
 * mount tree, a walk and a detach: O(host mounts)), the daemon takes it
 * from that server and gives it to the next WR_MNT_TEMPLATE_SERVERS - 1
 * servers, which make none; then the next server makes a fresh one. So the
 * template's own cost is paid once per WR_MNT_TEMPLATE_SERVERS x 32
 * fills, and a host mount made since (which the shims' per-fill check
 * catches, sending those fills to the full copy) is in the template after
 * as many fills at most. */
#ifndef WARMRUN_DAEMON_MNT_TEMPLATE_H
#define WARMRUN_DAEMON_MNT_TEMPLATE_H

#include "daemon.h"

#include <spawn.h>
#include <stdbool.h>

#define WR_MNT_TEMPLATE_SERVERS 8u

/* For a server about to be spawned: when the daemon holds a template still
 * to be given, adds the file actions that put it on the server's
 * SHIM_MNT_TEMPLATE_FD and SHIM_MNT_TEMPLATE_ROOT_FD and returns true (the
 * server is then told --mnt-template); else drops what the daemon held
 * (this server makes a fresh one) and returns false. */
bool daemon_mnt_template_give(struct daemon *d, posix_spawn_file_actions_t *fa);

/* When the daemon holds no template: takes the running server's (pidfd_getfd
 * of its SHIM_MNT_TEMPLATE_FD and SHIM_MNT_TEMPLATE_ROOT_FD), if it has
 * made one by now; a few system calls, tried at each fill until it has
 * one. Nothing to report on failure: the servers then make their own. */
void daemon_mnt_template_take(struct daemon *d);

/* Closes what the daemon holds (its stop). */
void daemon_mnt_template_drop(struct daemon *d);

/* When the last pool has gone (daemon_pool_destroy): no template is kept
 * while no pool exists, so that the store's file system (and the state
 * directory's) can be unmounted while the daemon runs: the daemon's copy
 * is dropped and the server, which holds its own, is let go
 * (daemon_shim_server_idle). The next fill starts a server, which makes a
 * fresh one. */
void daemon_mnt_template_release(struct daemon *d);

#endif
