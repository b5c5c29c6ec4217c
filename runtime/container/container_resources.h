#ifndef WARMRUN_CONTAINER_RESOURCES_H
#define WARMRUN_CONTAINER_RESOURCES_H

#include "lib/cgroup.h"
#include "lib/error.h"
#include "lib/resources.h"

/* The container side of resource settings (container_resources.c), in
 * the cloned child. Before
 * setup: waits for the shim to place it in its v1 cgroups (when asked),
 * enters a cgroup namespace rooted there, pins, raises RLIMIT_MEMLOCK,
 * creates the prefaulted huge-page memfd. After the root is set up: mounts
 * hugetlbfs on /dev/hugepages, and its own cgroups read-only under
 * /sys/fs/cgroup (v1: one directory per hierarchy; v2: the cgroup2 root
 * itself on a pure v2 host, /sys/fs/cgroup/unified on a hybrid one). On
 * the hot path: keeps the handed-over
 * descriptors open across the workload's execve. */
int wr_resources_container_enter(const struct wr_resources *r, const struct wr_cgroup *cg,
                                 int init_sock, wr_error *err);
int wr_resources_container_mounts(const struct wr_resources *r, const struct wr_cgroup *cg,
                                  wr_error *err);
void wr_resources_container_keep_fds(const struct wr_resources *r);

#endif
