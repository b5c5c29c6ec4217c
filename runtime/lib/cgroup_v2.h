/* The cgroup v2 backend (cgroup_v2.c): one unified hierarchy; controllers
 * are enabled for a cgroup's children through cgroup.subtree_control.
 * Called by cgroup.c only. */
#ifndef WARMRUN_CGROUP_V2_H
#define WARMRUN_CGROUP_V2_H

#include "cgroup_file.h"
#include "error.h"
#include "resources.h"

/* Writes the limits of r that belong to controller c into the cgroup
 * directory dir (v2 names and units: cpu.max, cpu.weight, memory.max...). */
int wr_cgroup_v2_apply(const char *dir, enum wr_cg_ctrl c, const struct wr_resources *r,
                       wr_error *err);
/* Enables controller c for the children of dir. */
int wr_cgroup_v2_enable(const char *dir, enum wr_cg_ctrl c, wr_error *err);
/* OOM kills in the cgroup dir (memory.events' oom_kill). */
long wr_cgroup_v2_oom_kills(const char *dir);

#endif
