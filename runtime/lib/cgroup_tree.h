/* Removing a cgroup with the child cgroups a workload made in it
 * (cgroup_tree.c). */
#ifndef WARMRUN_CGROUP_TREE_H
#define WARMRUN_CGROUP_TREE_H

/* At most this many child cgroups are removed below one cgroup: the work a
 * tenant's tree can cost its shim is bounded (a larger tree stays). */
#define WR_CG_TREE_MAX 4096

/* rmdir(2) of the cgroup directory path; if it fails with EBUSY (a child
 * cgroup, or a task still on its way out), removes its child cgroups
 * depth-first (post-order, by file descriptor and one directory open at
 * a time, so at any depth and length of path; at most WR_CG_TREE_MAX of
 * them and WR_CG_TREE_MAX deep) and tries again. A
 * workload can make child cgroups only where it could write its own
 * cgroup (CAP_SYS_ADMIN and mount allowed: a remount read-write, or a
 * cgroup mount of its own). Returns 0, or -1 with errno of the last
 * rmdir(2). */
int wr_cgroup_rmdir_tree(const char *path);

#endif
