/* The last WR_LATENCY_SAMPLES activation latencies, for `warmrun stats`. */
#ifndef WARMRUN_LATENCY_RING_H
#define WARMRUN_LATENCY_RING_H

#include "stats.h"

#include <stddef.h>
#include <stdint.h>

#define WR_LATENCY_SAMPLES 4096

struct wr_latency_ring {
    int64_t ns[WR_LATENCY_SAMPLES];
    size_t next, count;
};

struct wr_latency_summary {
    size_t samples;
    double p50_us, p99_us, mean_us, max_us;
};

void wr_latency_add(struct wr_latency_ring *r, int64_t ns);
void wr_latency_summarize(const struct wr_latency_ring *r, struct wr_latency_summary *out);

#endif
