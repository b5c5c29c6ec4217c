/* The container records (<state_dir>/containers, state_file.h) on a tmpfs,
 * whatever file system the state directory is on: a record is created and
 * removed for every container, and on a disk file system (ext4 here, where
 * /run is not a tmpfs) its inode alone costs 0.15-0.3 ms of CPU per
 * container (docs/benchmarks.md, "State records on tmpfs"). The records need not
 * survive a reboot (their processes do not), but must survive the death of
 * any one process (a daemon's SIGKILL: the next daemon adopts the running
 * containers from them), so they live in a mount of the host's mount
 * namespace, not in one process's memory. */
#ifndef WARMRUN_STATE_TMPFS_H
#define WARMRUN_STATE_TMPFS_H

#include "error.h"

/* The tmpfs's source name in /proc/PID/mountinfo, so that a reader can
 * tell it from a container's mounts. */
#define WR_RECORDS_TMPFS_SOURCE "warmrun-records"

/* Makes sure dir (a state directory's "containers", already created 0700
 * by the caller) is a tmpfs: nothing when it is one (already mounted, or
 * the state directory is on a tmpfs), else mounts one over it (mode 0700,
 * nosuid, nodev, noexec, at most 32768 records and 128 MiB) and moves into
 * it every file already in the directory underneath (records of cold starts
 * made before, or of an older version), so that none is hidden.
 *
 * Two processes preparing at once never stack two mounts: the mount is made
 * under an exclusive flock(2) of the directory underneath, and the second
 * finds the first's tmpfs once it holds the lock. The mount is made only in
 * the mount namespace of pid 1 (that of every process of the host): in a
 * namespace of the caller's own it would be seen by no other process and
 * end with it, and the records with it.
 *
 * Returns 0 when dir is a tmpfs with every record in it. Returns -1 with
 * why filled otherwise: dir stays a plain directory (not pid 1's mount
 * namespace; the mount refused, as EPERM without CAP_SYS_ADMIN over the
 * mount namespace) and the records work as before, on its own file system;
 * or, rarer, the tmpfs is mounted but a record underneath could not be
 * moved into it (why says which). */
int wr_state_records_tmpfs(const char *dir, wr_error *why);

#endif
