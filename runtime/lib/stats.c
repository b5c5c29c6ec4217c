#include "stats.h"

#include <math.h>
#include <stdlib.h>

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

void wr_stats_sort(double *v, size_t n)
{
    if (n > 1)
        qsort(v, n, sizeof *v, cmp_double);
}

double wr_stats_mean(const double *v, size_t n)
{
    if (n == 0)
        return 0;
    double sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += v[i];
    return sum / (double)n;
}

/* Two passes, so that a large common offset does not cancel the digits. */
double wr_stats_stddev(const double *v, size_t n)
{
    if (n < 2)
        return 0;
    double mean = wr_stats_mean(v, n);
    double ss = 0;
    for (size_t i = 0; i < n; i++) {
        double d = v[i] - mean;
        ss += d * d;
    }
    return sqrt(ss / (double)n);
}

double wr_percentile_sorted(const double *sorted, size_t n, double p)
{
    if (n == 0)
        return 0;
    if (!(p > 0))
        return sorted[0];
    if (p >= 1)
        return sorted[n - 1];
    double rank = (double)(n - 1) * p;
    size_t lo = (size_t)rank; /* rank >= 0, so truncation is floor */
    if (lo >= n - 1)
        return sorted[n - 1];
    double frac = rank - (double)lo;
    return sorted[lo] + (sorted[lo + 1] - sorted[lo]) * frac;
}

double wr_stats_ratio(double a, double b)
{
    if (!(a > 0) || !(b > 0))
        return NAN;
    return a / b;
}

int wr_stats_summarize(double *v, size_t n, struct wr_stats_summary *s)
{
    *s = (struct wr_stats_summary){0};
    if (n == 0)
        return -1;
    wr_stats_sort(v, n);
    s->n = n;
    s->mean = wr_stats_mean(v, n);
    s->median = wr_percentile_sorted(v, n, 0.5);
    s->p90 = wr_percentile_sorted(v, n, 0.90);
    s->p95 = wr_percentile_sorted(v, n, 0.95);
    s->p99 = wr_percentile_sorted(v, n, 0.99);
    s->min = v[0];
    s->max = v[n - 1];
    s->stddev = wr_stats_stddev(v, n);
    return 0;
}
