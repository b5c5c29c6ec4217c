/* Sample statistics, for the daemon's latency figures and the benchmarks:
 * mean, population standard deviation and percentiles of doubles.
 *
 * Percentiles use the rank (n-1)*p on the sorted samples with linear
 * interpolation between the two neighbouring samples (the "R-7"/Excel
 * method): for 1..100 the median is 50.5 and p99 is 99.01. */
#ifndef WARMRUN_STATS_H
#define WARMRUN_STATS_H

#include <stddef.h>

struct wr_stats_summary {
    size_t n;
    double mean;
    double median;
    double p90;
    double p95;
    double p99;
    double min;
    double max;
    double stddev; /* population standard deviation */
};

void wr_stats_sort(double *v, size_t n);
/* Arithmetic mean; 0 for n == 0. */
double wr_stats_mean(const double *v, size_t n);
/* Population standard deviation (divides by n); 0 for n < 2. */
double wr_stats_stddev(const double *v, size_t n);
/* The p-th quantile (p in [0,1], clamped) of n samples sorted ascending;
 * 0 for n == 0. */
double wr_percentile_sorted(const double *sorted, size_t n, double p);
/* a / b, or NAN when either is missing (not positive): a ratio of medians. */
double wr_stats_ratio(double a, double b);
/* Sorts v in place and fills *s. Returns -1 (and zeroes *s) when n == 0. */
int wr_stats_summarize(double *v, size_t n, struct wr_stats_summary *s);

#endif
