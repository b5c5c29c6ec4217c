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
    struct wr_stats_summary s;
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < r->count; i++)
        us[i] = (double)r->ns[i] / 1000.0;
    if (wr_stats_summarize(us, r->count, &s) < 0)
        return;
    out->samples = s.n;
    out->p50_us = s.median;
    out->p99_us = s.p99;
    out->mean_us = s.mean;
    out->max_us = s.max;
}
