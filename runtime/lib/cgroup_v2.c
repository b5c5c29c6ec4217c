/* The cgroup v2 backend: one unified hierarchy; controllers are enabled
 * for a cgroup's children through cgroup.subtree_control. */
#include "cgroup_v2.h"

#include "cgroup_file.h"
#include "cpumask.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

int wr_cgroup_v2_enable(const char *dir, enum wr_cg_ctrl c, wr_error *err)
{
    char value[32];
    if (c == WR_CG_CPUACCT)
        return 0; /* part of cpu on v2 */
    snprintf(value, sizeof value, "+%s", c == WR_CG_BLKIO ? "io" : wr_cgroup_ctrl_name(c));
    return wr_cgroup_write(dir, "cgroup.subtree_control", value, err);
}

/* v1 shares (2..262144, default 1024) to v2 weight (1..10000, default 100),
 * the conversion runc and crun use. */
static int64_t shares_to_weight(uint64_t shares)
{
    return 1 + (int64_t)((shares - 2) * 9999 / 262142);
}

int wr_cgroup_v2_apply(const char *dir, enum wr_cg_ctrl c, const struct wr_resources *r,
                       wr_error *err)
{
    char buf[WR_CPU_SETSIZE * 4];
    switch (c) {
    case WR_CG_CPU:
        if (r->cpus_milli) {
            snprintf(buf, sizeof buf, "%" PRId64 " %d",
                     (int64_t)r->cpus_milli * WR_CPU_PERIOD_US / 1000, WR_CPU_PERIOD_US);
            if (wr_cgroup_write(dir, "cpu.max", buf, err) < 0)
                return -1;
        }
        if (r->cpu_shares &&
            wr_cgroup_write_i64(dir, "cpu.weight", shares_to_weight(r->cpu_shares), err) < 0)
            return -1;
        return 0;
    case WR_CG_CPUSET:
        if (r->has_cpuset_cpus) {
            wr_format_cpu_list(&r->cpuset_cpus, buf, sizeof buf);
            if (wr_cgroup_write(dir, "cpuset.cpus", buf, err) < 0)
                return -1;
        }
        if (r->cpuset_mems[0] && wr_cgroup_write(dir, "cpuset.mems", r->cpuset_mems, err) < 0)
            return -1;
        return 0;
    case WR_CG_MEMORY:
        if (r->memory && wr_cgroup_write_i64(dir, "memory.max", r->memory, err) < 0)
            return -1;
        if (r->memory_swap < 0 && wr_cgroup_write(dir, "memory.swap.max", "max", err) < 0)
            return -1;
        /* v2 limits swap alone; --memory-swap is memory plus swap. */
        if (r->memory_swap > 0 &&
            wr_cgroup_write_i64(dir, "memory.swap.max", r->memory_swap - r->memory, err) < 0)
            return -1;
        if (r->memory_reserve && wr_cgroup_write_i64(dir, "memory.low", r->memory_reserve, err) < 0)
            return -1;
        return 0;
    case WR_CG_PIDS:
        return wr_cgroup_write_max(dir, "pids.max", r->pids_limit, err);
    case WR_CG_HUGETLB:
        return wr_cgroup_write_i64(dir, "hugetlb.2MB.max", (int64_t)wr_resources_hugetlb_bytes(r),
                                   err);
    default:
        return 0;
    }
}

long wr_cgroup_v2_oom_kills(const char *dir)
{
    return wr_cgroup_read_key(dir, "memory.events", "oom_kill");
}
