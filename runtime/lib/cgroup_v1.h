/* The cgroup v1 backend (cgroup_v1.c): one hierarchy per controller (or
 * per group of co-mounted controllers), with v1's file names and units.
 * Called by cgroup.c only. */
#ifndef WARMRUN_CGROUP_V1_H
#define WARMRUN_CGROUP_V1_H

#include "cgroup_file.h"
#include "error.h"
#include "resources.h"

/* Writes the limits of r that belong to controller c into the cgroup
 * directory dir. */
int wr_cgroup_v1_apply(const char *dir, enum wr_cg_ctrl c, const struct wr_resources *r,
                       wr_error *err);
/* Prepares a freshly made parent (cpuset copies its parent's CPUs and nodes). */
int wr_cgroup_v1_init_parent(const char *dir, enum wr_cg_ctrl c, wr_error *err);
/* OOM kills in the memory cgroup dir (memory.oom_control's oom_kill). */
long wr_cgroup_v1_oom_kills(const char *dir);

#endif
