/* A container's resource usage, read from its cgroups (every container has
 * them: cgroup.h) as `docker stats` and cAdvisor read theirs:
 *   CPU     v1 cpuacct.usage, cpuacct.usage_percpu, cpu.stat;
 *           v2 cpu.stat (usage_usec, nr_periods, nr_throttled, throttled_usec)
 *   memory  v1 memory.usage_in_bytes, memory.limit_in_bytes, memory.stat
 *           (total_cache, total_rss, total_inactive_file), memory.oom_control;
 *           v2 memory.current, memory.max, memory.stat (file, anon,
 *           inactive_file), memory.events
 *   pids    pids.current, pids.max
 *   block   v1 blkio.throttle.io_service_bytes_recursive / io_serviced_recursive;
 *           v2 io.stat (rbytes, wbytes, rios, wios)
 * Memory "usage" is Docker's: usage minus inactive file pages. Counters
 * the host lacks read 0. */
#ifndef WARMRUN_CGROUP_STATS_H
#define WARMRUN_CGROUP_STATS_H

#include "error.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define WR_CG_MAX_CPUS 256

struct wr_cg_usage {
    uint64_t cpu_ns;                        /* CPU time used, all CPUs */
    uint64_t percpu_ns[WR_CG_MAX_CPUS];     /* per CPU (v1 only) */
    unsigned n_percpu;                      /* 0 when unknown */
    uint64_t nr_periods, nr_throttled;      /* CFS bandwidth periods, and throttled ones */
    uint64_t throttled_ns;                  /* time throttled */
    uint64_t mem_usage;                     /* bytes, Docker's (without inactive file pages) */
    uint64_t mem_raw;                       /* bytes, the kernel's usage counter */
    uint64_t mem_limit;                     /* bytes; 0 = no limit */
    uint64_t mem_cache, mem_rss;            /* bytes: page cache, anonymous */
    uint64_t pids, pids_limit;              /* tasks; limit 0 = none */
    uint64_t io_read_bytes, io_write_bytes; /* block I/O */
    uint64_t io_read_ops, io_write_ops;
    uint64_t oom_kills;
};

/* Reads the usage of container id of the daemon (or cold start) with this
 * state directory. Errors: ENOENT when the container has no cgroup (it is
 * gone, or never existed). */
int wr_cgroup_usage(const char *state_dir, const char *id, struct wr_cg_usage *u, wr_error *err);

/* The processes of container id (host pids, from its cgroup's
 * cgroup.procs: the pids, memory or cpuacct hierarchy on v1, else cgroup2),
 * at most cap of them. Returns how many, or -1 (ENOENT: no cgroup). */
ssize_t wr_cgroup_procs(const char *state_dir, const char *id, pid_t *pids, size_t cap,
                        wr_error *err);

/* The host's memory (MemTotal, bytes): Docker's "limit" of a container
 * without one. */
uint64_t wr_host_memory_bytes(void);

#endif
