/* TAP test of runtime/lib/stats.h against hand-computed values. */
#include <stdarg.h>
#include <stdbool.h>
#include <math.h>
#include <stdio.h>

#include "lib/stats.h"

#define PLAN 34

static int test_num;
static int failed;

static void __attribute__((format(printf, 2, 3))) ok(bool cond, const char *fmt, ...)
{
    va_list ap;
    printf("%sok %d - ", cond ? "" : "not ", ++test_num);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
    if (!cond)
        failed++;
}

static bool near(double got, double want)
{
    double d = got - want;
    double scale = want < 0 ? -want : want;
    return (d < 0 ? -d : d) <= 1e-9 * (scale > 1 ? scale : 1);
}

/* ok() with the values in the description, so a failure says what it got. */
static void is_near(double got, double want, const char *what)
{
    ok(near(got, want), "%s: got %.12g, want %.12g", what, got, want);
}

int main(void)
{
    printf("1..%d\n", PLAN);

    /* 1..100, given in descending order so that summarize must sort. */
    double hundred[100];
    for (int i = 0; i < 100; i++)
        hundred[i] = 100 - i;
    struct wr_stats_summary s;
    ok(wr_stats_summarize(hundred, 100, &s) == 0 && s.n == 100, "summarize 1..100 succeeds, n=100");
    ok(hundred[0] == 1 && hundred[99] == 100, "summarize sorts the samples in place");
    is_near(s.median, 50.5, "1..100 median");
    is_near(s.p90, 90.1, "1..100 p90");
    is_near(s.p95, 95.05, "1..100 p95");
    is_near(s.p99, 99.01, "1..100 p99");
    is_near(s.mean, 50.5, "1..100 mean");
    is_near(s.min, 1, "1..100 min");
    is_near(s.max, 100, "1..100 max");
    /* Population variance of 1..n is (n^2 - 1) / 12: sqrt(9999 / 12). */
    is_near(s.stddev, 28.866070047722118, "1..100 population stddev");
    is_near(wr_percentile_sorted(hundred, 100, 0), 1, "1..100 p0 is the minimum");
    is_near(wr_percentile_sorted(hundred, 100, 1), 100, "1..100 p100 is the maximum");
    is_near(wr_percentile_sorted(hundred, 100, 0.25), 25.75, "1..100 p25");

    double odd[] = {9, 1, 5, 3, 7};
    wr_stats_summarize(odd, 5, &s);
    is_near(s.median, 5, "median of an odd count is the middle sample");

    double even[] = {4, 1, 3, 2};
    wr_stats_summarize(even, 4, &s);
    is_near(s.median, 2.5, "median of an even count is the mean of the middle two");

    double one[] = {3.25};
    ok(wr_stats_summarize(one, 1, &s) == 0 && s.n == 1, "summarize a single sample succeeds");
    ok(near(s.median, 3.25) && near(s.p90, 3.25) && near(s.p99, 3.25) && near(s.min, 3.25) &&
           near(s.max, 3.25) && near(s.mean, 3.25),
       "single sample: every statistic is the sample");
    is_near(s.stddev, 0, "single sample stddev");

    double classic[] = {2, 4, 4, 4, 5, 5, 7, 9};
    is_near(wr_stats_mean(classic, 8), 5, "mean of {2,4,4,4,5,5,7,9}");
    is_near(wr_stats_stddev(classic, 8), 2, "population stddev of {2,4,4,4,5,5,7,9}");

    /* Two-pass: a large common offset must not cancel the deviations. */
    double offset[] = {1e9 + 4, 1e9 + 7, 1e9 + 13, 1e9 + 16};
    is_near(wr_stats_stddev(offset, 4), 4.7434164902525691, "stddev with a 1e9 offset (sqrt 22.5)");

    double classic_sorted[] = {9, 2, 5, 4, 7, 4, 5, 4};
    wr_stats_summarize(classic_sorted, 8, &s);
    is_near(s.median, 4.5, "median of {2,4,4,4,5,5,7,9}");
    /* rank 7 * 0.95 = 6.65: 7 + (9 - 7) * 0.65 */
    is_near(s.p95, 8.3, "p95 of {2,4,4,4,5,5,7,9}");
    /* rank 7 * 0.99 = 6.93: 7 + (9 - 7) * 0.93 */
    is_near(s.p99, 8.86, "p99 of {2,4,4,4,5,5,7,9}");

    /* Ratios of medians, as the startup bench reports them. */
    is_near(wr_stats_ratio(8.73, 2.91), 3, "ratio 8.73 / 2.91");
    is_near(wr_stats_ratio(940, 8.5), 110.58823529411765, "ratio 940 / 8.5");
    ok(isnan(wr_stats_ratio(5, 0)), "ratio to a missing (zero) median is NaN");
    ok(isnan(wr_stats_ratio(0, 5)), "ratio of a missing (zero) median is NaN");
    ok(isnan(wr_stats_ratio(NAN, 5)) && isnan(wr_stats_ratio(5, NAN)), "ratio with NaN is NaN");
    ok(isnan(wr_stats_ratio(-1, 5)), "ratio of a negative value is NaN");

    double same[] = {7, 7, 7};
    is_near(wr_stats_stddev(same, 3), 0, "stddev of equal samples");

    ok(wr_stats_summarize(NULL, 0, &s) == -1 && s.n == 0, "summarize of no samples fails, n=0");
    is_near(wr_stats_mean(NULL, 0), 0, "mean of no samples");
    is_near(wr_percentile_sorted(NULL, 0, 0.5), 0, "percentile of no samples");

    if (test_num != PLAN) {
        printf("# planned %d tests but ran %d\n", PLAN, test_num);
        return 1;
    }
    return failed ? 1 : 0;
}
