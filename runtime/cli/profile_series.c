/* The series of a profile and their statistics (see profile.h). */
#include "profile.h"

#include "lib/cleanup.h"

#include <stddef.h>
#include <stdlib.h>

#define S(field, unit, source)                                                                     \
    {                                                                                              \
#field, unit, source, offsetof(struct profile_sample, field)                               \
    }

const struct profile_series profile_series[] = {
    S(mem_usage, "bytes", "cgroup memory (usage minus inactive file, as docker stats)"),
    S(mem_limit, "bytes", "cgroup memory limit (0: none)"),
    S(mem_cache, "bytes", "cgroup memory.stat cache/file"),
    S(mem_rss, "bytes", "cgroup memory.stat rss/anon"),
    S(cpu_pct, "percent of one CPU", "cgroup cpuacct.usage / cpu.stat usage_usec"),
    S(periods, "CFS periods per interval", "cgroup cpu.stat nr_periods"),
    S(throttled, "CFS periods per interval", "cgroup cpu.stat nr_throttled"),
    S(throttled_ms, "ms per interval", "cgroup cpu.stat throttled_time / throttled_usec"),
    S(blk_read_bps, "bytes/s", "cgroup block I/O (blkio / io.stat)"),
    S(blk_write_bps, "bytes/s", "cgroup block I/O (blkio / io.stat)"),
    S(blk_read_iops, "ops/s", "cgroup block I/O (blkio / io.stat)"),
    S(blk_write_iops, "ops/s", "cgroup block I/O (blkio / io.stat)"),
    S(proc_rchar_bps, "bytes/s", "/proc/PID/io rchar, summed over the container's processes"),
    S(proc_wchar_bps, "bytes/s", "/proc/PID/io wchar, summed over the container's processes"),
    S(proc_read_bps, "bytes/s", "/proc/PID/io read_bytes, summed over the container's processes"),
    S(proc_write_bps, "bytes/s", "/proc/PID/io write_bytes, summed over the container's processes"),
    S(pids, "tasks", "cgroup pids.current"),
};
const size_t profile_n_series = sizeof profile_series / sizeof profile_series[0];

int profile_series_stats(const struct profile_sample *s, size_t n, const struct profile_series *d,
                         struct wr_stats_summary *out)
{
    cleanup_free double *v = n ? malloc(n * sizeof *v) : NULL;
    if (!v)
        return -1;
    for (size_t i = 0; i < n; i++)
        v[i] = profile_value(&s[i], d);
    return wr_stats_summarize(v, n, out);
}
