/* `warmrun bench scale`: pool fill time, memory per warm container and
 * activation latency at growing pool sizes. */
#ifndef WARMRUN_BENCH_SCALE_H
#define WARMRUN_BENCH_SCALE_H

#include "bench.h"
#include "lib/stats.h"

#include <jansson.h>

struct bench_scale_step {
    long size;
    double fill_s;               /* time to grow the pool from the previous size */
    size_t containers;           /* warm containers found (shim records) */
    long pss_kb;                 /* sum over shims and pid 1s */
    long mem_kb;                 /* MemAvailable drop since before the daemon started */
    struct wr_stats_summary act; /* whole-process warm activation, ms */
};

int bench_scale_run(struct bench_env *e, const long *sizes, size_t n_sizes, long samples,
                    long mem_base_kb, struct bench_scale_step *out, wr_error *err);
void bench_scale_print(const struct bench_scale_step *s, size_t n);
json_t *bench_scale_json(const struct bench_scale_step *s, size_t n);

#endif
