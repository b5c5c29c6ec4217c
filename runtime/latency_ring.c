#include "latency_ring.h"

#include <stdlib.h>
#include <string.h>

void wr_latency_add(struct wr_latency_ring *r, int64_t ns)
{
    r->ns[r->next] = ns;
    r->next = (r->next + 1) % WR_LATENCY_SAMPLES;
    if (r->count < WR_LATENCY_SAMPLES)
        r->count++;
}

double wr_percentile_sorted(const double *sorted, size_t n, double p)
{
    if (n == 0)
        return 0;
    double rank = p * (double)(n - 1);
    size_t lo = (size_t)rank;
    if (lo + 1 >= n)
        return sorted[n - 1];
    double frac = rank - (double)lo;
    return sorted[lo] + (sorted[lo + 1] - sorted[lo]) * frac;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
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
    qsort(us, r->count, sizeof us[0], cmp_double);
    out->p50_us = wr_percentile_sorted(us, r->count, 0.50);
    out->p99_us = wr_percentile_sorted(us, r->count, 0.99);
    out->mean_us = sum / (double)r->count;
    out->max_us = us[r->count - 1];
}
