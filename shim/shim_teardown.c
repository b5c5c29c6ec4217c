/* The order of a container's teardown when nobody is told of its end.
 *
 * The shim holds the container's mount and IPC namespaces (struct shim's
 * ns_fds) and, for the pristine check, its /proc (container_proc_fd), so
 * that after an activation their teardown runs after the exit report, not
 * in pid 1's exit ahead of it. A container killed because its spawner
 * went (`pool rm`, a daemon's stop) has nobody to report to and no
 * namespace to offer, and holding them then costs work: the reap
 * (release_task) invalidates every dentry of pid 1 in every proc instance
 * still alive (proc_invalidate_siblings_dcache), the container's own
 * included, which its superblock's shutdown then walks again; and the
 * /proc mount the shim holds outlives the namespace's one unmount as a
 * detached mount of its own. Dropped before the SIGKILL, the whole tree
 * goes in pid 1's exit, in one unmount (one RCU grace period), and the
 * reap finds none of the container's proc dentries. Nor is its memory cgroup
 * read for OOM kills then (report_exit): nobody would be told. */
#include "shim.h"

#include "lib/fdpass.h"

void shim_drop_held(struct shim *sh)
{
    wr_close_fds(&sh->container_proc_fd, 1);
    wr_close_fds(&sh->ns_fds[0], 1); /* mnt */
    wr_close_fds(&sh->ns_fds[2], 1); /* ipc */
}
