/* The order of a container's teardown when nobody is told of its end.
 *
 * The shim holds the container's mount and IPC namespaces (struct shim's
 * ns_fds) and, for the pristine check, its /proc (container_proc_fd), so
 * that after an activation their teardown runs after the exit report, not
 * in pid 1's exit ahead of it. A warm container killed because its spawner
 * went (`pool rm`, a daemon's stop) has nobody to report to and no
 * namespace to offer: dropped before the SIGKILL, its whole mount tree
 * goes in pid 1's exit, in one unmount (the held /proc would otherwise
 * outlive it as a detached mount of its own), at once for every container
 * of the pool. Their superblocks are then gone before the kworkers offline
 * the containers' memory cgroups, each of which walks every memcg-aware
 * list_lru of the host (memcg_reparent_list_lrus: two per superblock).
 * Measured: docs/benchmarks.md, "Teardown, measured and cut" (10-13 % less
 * CPU for a `pool rm`). The network namespace stays held until after the
 * reap: dropped early too, its cleanup_net cost more. Nor is the memory
 * cgroup read for an OOM count then (report_exit): nobody would be told. */
#include "shim.h"

#include "lib/fdpass.h"

void shim_drop_held(struct shim *sh)
{
    wr_close_fds(&sh->container_proc_fd, 1);
    wr_close_fds(&sh->ns_fds[0], 1); /* mnt */
    wr_close_fds(&sh->ns_fds[2], 1); /* ipc */
}
