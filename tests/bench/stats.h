/* Sample statistics for the benchmark tools: mean, population standard
 * deviation and percentiles of an array of doubles.
 *
 * Header-only (static inline) because each .c file in tests/bench is built as its
 * own standalone binary, and the unit test includes it directly.
 *
 * Percentiles use the rank (n-1)*p on the sorted samples with linear
 * interpolation between the two neighbouring samples (the "R-7"/Excel
 * method): for 1..100 the median is 50.5 and p99 is 99.01.
 *
 * Nothing here needs libm: the unit tests are linked without -lm, so the
 * square root is computed by stats_sqrt() below. */
#ifndef WARMRUN_BENCH_STATS_H
#define WARMRUN_BENCH_STATS_H

#include <float.h>
#include <stddef.h>
#include <stdlib.h>

struct stats_summary {
    size_t n;
    double mean;
    double median;
    double p90;
    double p99;
    double min;
    double max;
    double stddev; /* population standard deviation */
};

static inline int stats_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static inline void stats_sort(double *v, size_t n)
{
    if (n > 1)
        qsort(v, n, sizeof *v, stats_cmp_double);
}

/* Square root by Newton's method, for x >= 0 (returns 0 otherwise). Starting
 * above the root, the iterates decrease monotonically; stop as soon as they
 * stop decreasing, which leaves the result within an ulp of sqrt(x). */
static inline double stats_sqrt(double x)
{
    if (!(x > 0)) /* zero, negative or NaN */
        return 0;
    if (x > DBL_MAX) /* +inf */
        return x;
    double y = x > 1 ? x : 1;
    for (int i = 0; i < 2100; i++) {
        double next = 0.5 * (y + x / y);
        if (next >= y)
            break;
        y = next;
    }
    return y;
}

/* Arithmetic mean; 0 for n == 0. */
static inline double stats_mean(const double *v, size_t n)
{
    if (n == 0)
        return 0;
    double sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += v[i];
    return sum / (double)n;
}

/* Population standard deviation (divides by n), two-pass so that large
 * offsets do not cancel; 0 for n < 2. */
static inline double stats_stddev(const double *v, size_t n)
{
    if (n < 2)
        return 0;
    double mean = stats_mean(v, n);
    double ss = 0;
    for (size_t i = 0; i < n; i++) {
        double d = v[i] - mean;
        ss += d * d;
    }
    return stats_sqrt(ss / (double)n);
}

/* The p-th quantile (p in [0,1], clamped) of n samples sorted ascending;
 * 0 for n == 0. */
static inline double stats_percentile_sorted(const double *sorted, size_t n, double p)
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

/* Sorts v in place and fills *s. Returns -1 (and zeroes *s) when n == 0. */
static inline int stats_summarize(double *v, size_t n, struct stats_summary *s)
{
    *s = (struct stats_summary){0};
    if (n == 0)
        return -1;
    stats_sort(v, n);
    s->n = n;
    s->mean = stats_mean(v, n);
    s->median = stats_percentile_sorted(v, n, 0.5);
    s->p90 = stats_percentile_sorted(v, n, 0.90);
    s->p99 = stats_percentile_sorted(v, n, 0.99);
    s->min = v[0];
    s->max = v[n - 1];
    s->stddev = stats_stddev(v, n);
    return 0;
}

#endif
