/* `warmrun bench load`: C clients activating as fast as they can. */
#ifndef WARMRUN_BENCH_LOAD_H
#define WARMRUN_BENCH_LOAD_H

#include "bench.h"
#include "lib/stats.h"

#include <jansson.h>

struct bench_load_result {
    long concurrency;
    double duration_s;
    size_t ok, failed, cold;
    double rate;                                           /* successful activations per second */
    struct wr_stats_summary latency;                       /* ms, whole CLI process */
    double daemon_cpu_pct, shims_cpu_pct, clients_cpu_pct; /* % of one CPU */
    long pool_min, pool_max;
    json_t *json;          /* the run's details, per second included */
    char first_error[256]; /* the first failed activation's last stderr line */
};

/* Runs one load level against e's daemon (pool of image resized to pool). */
/* print_seconds: the per-second table on stdout. */
int bench_load_run(struct bench_env *e, long concurrency, long duration_s, long pool,
                   bool print_seconds, struct bench_load_result *r, wr_error *err);
void bench_load_print(const struct bench_load_result *r);

#endif
