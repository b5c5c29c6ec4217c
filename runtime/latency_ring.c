#include "latency_ring.h"

#include <string.h>

void wr_latency_add(struct wr_latency_ring *r, int64_t ns)
{
    r->ns[r->next] = ns;
    r->next = (r->next + 1) % WR_LATENCY_SAMPLES;
    if (r->count < WR_LATENCY_SAMPLES)
        r->count++;
}

void wr_latency_summarize(const struct wr_latency_ring *r, struct wr_latency_summary *out)
{
    static double us[WR_LATENCY_SAMPLES];
    double sum = 0;
    memset(out, 0, sizeof *out);
    out->samples = r->count;
    if (r->count == 0)
        return;
    for (size_t i = 0; i < r->count; i++) {
        us[i] = (double)r->ns[i] / 1000.0;
        sum += us[i];
    }
    wr_stats_sort(us, r->count);
    out->p50_us = wr_percentile_sorted(us, r->count, 0.50);
    out->p99_us = wr_percentile_sorted(us, r->count, 0.99);
    out->mean_us = sum / (double)r->count;
    out->max_us = us[r->count - 1];
}
