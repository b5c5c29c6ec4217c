/* TAP test of runtime/lib/latency_ring.c: percentiles of known data, the empty
 * and single-sample rings, and wrap-around after WR_LATENCY_SAMPLES. */
#include "lib/latency_ring.h"
#include "tap.h"

#include <string.h>

static struct wr_latency_ring ring;

/* No libm: the tests link without -lm. */
static double absd(double x)
{
    return x < 0 ? -x : x;
}

static bool near(double got, double want)
{
    return absd(got - want) <= 1e-9 * (absd(want) > 1 ? absd(want) : 1);
}

#define is_near(got, want, ...)                                                                    \
    do {                                                                                           \
        double got_ = (got), want_ = (want);                                                       \
        if (!ok(near(got_, want_), __VA_ARGS__))                                                   \
            diag("         got: %.12g\n#     expected: %.12g", got_, want_);                       \
    } while (0)

static void test_percentile_sorted(void)
{
    static const double one[] = {7.5};
    static const double four[] = {1, 2, 3, 4};

    is_near(wr_percentile_sorted(NULL, 0, 0.5), 0, "no values: 0");
    is_near(wr_percentile_sorted(one, 1, 0), 7.5, "one value: p0");
    is_near(wr_percentile_sorted(one, 1, 0.5), 7.5, "one value: p50");
    is_near(wr_percentile_sorted(one, 1, 1), 7.5, "one value: p100");
    is_near(wr_percentile_sorted(four, 4, 0), 1, "p0 is the minimum");
    is_near(wr_percentile_sorted(four, 4, 1), 4, "p100 is the maximum");
    is_near(wr_percentile_sorted(four, 4, 0.5), 2.5, "p50 of 1..4 interpolates to 2.5");
    is_near(wr_percentile_sorted(four, 4, 0.25), 1.75, "p25 of 1..4 is 1.75");
    is_near(wr_percentile_sorted(four, 4, 1.0 / 3.0), 2, "p33.3 of 1..4 hits rank 1 exactly");
}

static void test_empty(void)
{
    struct wr_latency_summary s;
    memset(&s, 0xff, sizeof s);
    memset(&ring, 0, sizeof ring);
    wr_latency_summarize(&ring, &s);
    ok(s.samples == 0 && s.p50_us == 0 && s.p99_us == 0 && s.mean_us == 0 && s.max_us == 0,
       "an empty ring summarizes to all zeros (no NaN from 0/0)");
}

static void test_single(void)
{
    struct wr_latency_summary s;
    memset(&ring, 0, sizeof ring);
    wr_latency_add(&ring, 1500); /* ns */
    wr_latency_summarize(&ring, &s);
    is_int(s.samples, 1, "one sample");
    ok(near(s.p50_us, 1.5) && near(s.p99_us, 1.5) && near(s.mean_us, 1.5) && near(s.max_us, 1.5),
       "one sample of 1500 ns: p50 = p99 = mean = max = 1.5 us");
}

static void test_known(void)
{
    struct wr_latency_summary s;
    memset(&ring, 0, sizeof ring);
    /* 1..100 us in a scrambled order (37 is coprime with 100). */
    for (int i = 0; i < 100; i++)
        wr_latency_add(&ring, (int64_t)((i * 37) % 100 + 1) * 1000);
    wr_latency_summarize(&ring, &s);
    is_int(s.samples, 100, "100 samples");
    is_near(s.p50_us, 50.5, "p50 of 1..100 us");
    is_near(s.p99_us, 99.01, "p99 of 1..100 us");
    is_near(s.mean_us, 50.5, "mean of 1..100 us");
    is_near(s.max_us, 100, "max of 1..100 us");
    is_int(ring.count, 100, "ring count");
    is_int(ring.next, 100, "ring next");

    /* Sub-microsecond resolution is kept. */
    memset(&ring, 0, sizeof ring);
    wr_latency_add(&ring, 1);
    wr_latency_add(&ring, 999);
    wr_latency_summarize(&ring, &s);
    is_near(s.mean_us, 0.5, "1 ns and 999 ns average to 0.5 us");
    is_near(s.max_us, 0.999, "max keeps nanoseconds");

    /* Summarizing does not reorder the ring. */
    ok(ring.ns[0] == 1 && ring.ns[1] == 999, "summarize leaves the ring untouched");
}

static void test_wrap(void)
{
    struct wr_latency_summary s;
    const int total = WR_LATENCY_SAMPLES + 10;
    memset(&ring, 0, sizeof ring);
    for (int i = 1; i <= total; i++)
        wr_latency_add(&ring, (int64_t)i * 1000);
    is_int(ring.count, WR_LATENCY_SAMPLES, "count stops at WR_LATENCY_SAMPLES");
    is_int(ring.next, 10, "next wrapped to 10");
    ok(ring.ns[0] == (int64_t)(WR_LATENCY_SAMPLES + 1) * 1000 &&
           ring.ns[9] == (int64_t)total * 1000 && ring.ns[10] == 11 * 1000,
       "the 10 oldest samples were overwritten in place");

    bool all_recent = true;
    for (int i = 0; i < WR_LATENCY_SAMPLES; i++)
        if (ring.ns[i] <= 10 * 1000)
            all_recent = false;
    ok(all_recent, "samples 1..10 are gone");

    wr_latency_summarize(&ring, &s);
    /* The ring holds 11..total us. */
    is_int(s.samples, WR_LATENCY_SAMPLES, "summary counts WR_LATENCY_SAMPLES samples");
    is_near(s.max_us, total, "max is the newest sample");
    is_near(s.mean_us, (11.0 + total) / 2, "mean of the last WR_LATENCY_SAMPLES samples");
    is_near(s.p50_us, (11.0 + total) / 2, "p50 of the last WR_LATENCY_SAMPLES samples");
    is_near(s.p99_us, 11 + 0.99 * (WR_LATENCY_SAMPLES - 1), "p99 of the last samples");

    /* Many more laps keep the count pinned. */
    for (int i = 0; i < 3 * WR_LATENCY_SAMPLES; i++)
        wr_latency_add(&ring, 5000);
    wr_latency_summarize(&ring, &s);
    ok(s.samples == WR_LATENCY_SAMPLES && near(s.p50_us, 5) && near(s.max_us, 5),
       "after 3 more laps only the newest values remain");
}

int main(void)
{
    test_percentile_sorted();
    test_empty();
    test_single();
    test_known();
    test_wrap();
    return done_testing();
}
