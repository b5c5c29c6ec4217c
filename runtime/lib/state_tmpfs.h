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

/* Opens the records directory dir (the tmpfs when it is mounted, else the
 * plain directory) holding a shared flock(2) on it, checked under the lock
 * to be what dir names now: a record written through the descriptor while
 * it is open is in the directory every process sees, never in a tmpfs
 * being detached (wr_state_records_release) nor hidden under one being
 * mounted (wr_state_records_tmpfs, whose exclusive lock of the directory
 * underneath waits for it). Returns the descriptor (O_CLOEXEC; closing it
 * releases the lock), or -1 with err set. */
int wr_state_records_open(const char *dir, wr_error *err);

/* Unmounts (MNT_DETACH) the records tmpfs mounted over dir when it holds
 * no file: called when a daemon stops and when a cold start's container
 * ends, so that the tmpfs outlives its processes only while a record (a
 * running container) is in it. Under an exclusive flock(2) of the tmpfs,
 * which every record writer holds shared (wr_state_records_open): a record
 * written at the same moment is either seen here (the tmpfs stays) or
 * written after, into whatever dir is then. Only a tmpfs whose source is
 * WR_RECORDS_TMPFS_SOURCE is unmounted, never a state directory on a tmpfs
 * of its own nor a tmpfs someone else mounted there. Returns 1 when
 * unmounted, 0 when left (not ours, not a tmpfs, records in it), -1 with
 * err set. */
int wr_state_records_release(const char *dir, wr_error *err);

/* wr_state_records_release for state_dir/containers when no daemon serves
 * state_dir (none holds its lock: daemon_main.c); with one, its tmpfs
 * stays for its fills. For the end of a cold start's container. Holds the
 * state directory's lock shared meanwhile, so a daemon starting at that
 * moment waits for it (its lock is retried for a moment). Returns as
 * wr_state_records_release. */
int wr_state_records_release_idle(const char *state_dir, wr_error *err);

#endif
