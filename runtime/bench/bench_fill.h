/* `warmrun bench fill`: CPU per fill, per cycle (a warm container ended and
 * replaced: the steady state) and per teardown (system-wide and by process
 * kind), fill latency, PSS per warm container. */
#ifndef WARMRUN_BENCH_FILL_H
#define WARMRUN_BENCH_FILL_H

#include "bench.h"
#include "lib/stats.h"

#include <jansson.h>

/* The kinds of process CPU is counted by (bench_fill.c says how). */
enum fill_kind {
    FILL_DAEMON,
    FILL_SHIMS,
    FILL_CONTAINERS,
    FILL_KWORKERS,
    FILL_KTHREADS, /* other kernel threads: ksoftirqd, rcu_*, ... */
    FILL_BENCH,    /* this program's polling */
    FILL_OTHER,    /* everything else the machine ran meanwhile */
    FILL_KINDS,
};

struct fill_cpu {
    double system_ms;           /* /proc/stat busy time, per container */
    double kind_ms[FILL_KINDS]; /* by kind, per container */
};

struct fill_result {
    long pool;
    struct wr_stats_summary latency; /* one fill at a time, request to warm, ms */
    double fill_wall_s;              /* 0 -> pool warm */
    double teardown_wall_s;          /* pool rm -> last shim gone */
    double cycle_wall_s;             /* kills -> pool full and every ended shim gone */
    long cycle_netns_reused;         /* refills that got an ended one's network namespace */
    long containers;                 /* warm containers found for PSS */
    double pss_kb;                   /* per warm container: shim + pid 1 */
    /* Per warm container: the growth of the kernel's own memory from the
     * empty pool to the full one (bench_kernel_mem): its cgroups,
     * namespaces, mounts and superblocks, the two processes' stacks and
     * page tables. -1 when /proc/meminfo could not be read. */
    double kernel_kb, slab_kb, stacks_kb, page_tables_kb, percpu_kb;
    struct fill_cpu fill, teardown;
    struct fill_cpu cycle; /* the steady state: one container ended and replaced */
    char network[64];      /* the pools' --network ("none" without one) */
};

int bench_fill_run(struct bench_env *e, long pool, long samples, struct fill_result *r,
                   wr_error *err);
void bench_fill_print(const struct fill_result *r);
json_t *bench_fill_json(const struct fill_result *r);

#endif
