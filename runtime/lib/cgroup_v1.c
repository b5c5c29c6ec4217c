/* The cgroup v1 backend: one hierarchy per controller (or per group of
 * co-mounted controllers), with v1's file names and units. */
#include "cgroup_v1.h"

#include "cgroup_file.h"

#include "cleanup.h"
#include "cpumask.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* A new v1 cpuset has no CPUs and no memory nodes: nothing could join it.
 * Give it its parent's. */
static int inherit_cpuset(const char *dir, const char *file, wr_error *err)
{
    char parent[WR_CG_PATH_MAX], value[1024];
    snprintf(parent, sizeof parent, "%s/..", dir);
    wr_cgroup_read(dir, file, value, sizeof value);
    if (value[0])
        return 0;
    wr_cgroup_read(parent, file, value, sizeof value);
    return wr_cgroup_write(dir, file, value, err);
}

int wr_cgroup_v1_init_parent(const char *dir, enum wr_cg_ctrl c, wr_error *err)
{
    if (c != WR_CG_CPUSET)
        return 0;
    if (inherit_cpuset(dir, "cpuset.cpus", err) < 0 || inherit_cpuset(dir, "cpuset.mems", err) < 0)
        return -1;
    return 0;
}

static int apply_cpuset(const char *dir, const struct wr_resources *r, wr_error *err)
{
    char list[WR_CPU_SETSIZE * 4];
    if (r->has_cpuset_cpus) {
        wr_format_cpu_list(&r->cpuset_cpus, list, sizeof list);
        if (wr_cgroup_write(dir, "cpuset.cpus", list, err) < 0)
            return -1;
    } else if (inherit_cpuset(dir, "cpuset.cpus", err) < 0) {
        return -1;
    }
    if (r->cpuset_mems[0])
        return wr_cgroup_write(dir, "cpuset.mems", r->cpuset_mems, err);
    return inherit_cpuset(dir, "cpuset.mems", err);
}

static int apply_memory(const char *dir, const struct wr_resources *r, wr_error *err)
{
    if (r->memory && wr_cgroup_write_i64(dir, "memory.limit_in_bytes", r->memory, err) < 0)
        return -1;
    if (r->memory_swap) {
        char path[WR_CG_PATH_MAX + 64];
        snprintf(path, sizeof path, "%s/memory.memsw.limit_in_bytes", dir);
        if (access(path, F_OK) < 0)
            return wr_error_set(err, 0,
                                "--memory-swap: this kernel has no swap accounting "
                                "(memory.memsw.limit_in_bytes is missing)");
        if (wr_cgroup_write_i64(dir, "memory.memsw.limit_in_bytes", r->memory_swap, err) < 0)
            return -1;
    }
    if (r->memory_reserve &&
        wr_cgroup_write_i64(dir, "memory.soft_limit_in_bytes", r->memory_reserve, err) < 0)
        return -1;
    return 0;
}

int wr_cgroup_v1_apply(const char *dir, enum wr_cg_ctrl c, const struct wr_resources *r,
                       wr_error *err)
{
    switch (c) {
    case WR_CG_CPU:
        if (r->cpus_milli &&
            (wr_cgroup_write_i64(dir, "cpu.cfs_period_us", WR_CPU_PERIOD_US, err) < 0 ||
             wr_cgroup_write_i64(dir, "cpu.cfs_quota_us",
                                 (int64_t)r->cpus_milli * WR_CPU_PERIOD_US / 1000, err) < 0))
            return -1;
        if (r->cpu_shares &&
            wr_cgroup_write_i64(dir, "cpu.shares", (int64_t)r->cpu_shares, err) < 0)
            return -1;
        return 0;
    case WR_CG_CPUSET:
        return apply_cpuset(dir, r, err);
    case WR_CG_MEMORY:
        return apply_memory(dir, r, err);
    case WR_CG_PIDS:
        return wr_cgroup_write_max(dir, "pids.max", r->pids_limit, err);
    case WR_CG_HUGETLB:
        return wr_cgroup_write_i64(dir, "hugetlb.2MB.limit_in_bytes",
                                   (int64_t)wr_resources_hugetlb_bytes(r), err);
    default:
        return 0;
    }
}

long wr_cgroup_v1_oom_kills(const char *dir)
{
    return wr_cgroup_read_key(dir, "memory.oom_control", "oom_kill");
}
