/* Unit tests of the profile's analysis (runtime/cli/profile_*.c) on
 * synthetic series: a linear leak is detected and noise without a trend is
 * not; one step is not a leak; throttled vs not, and every threshold at its
 * edge (docs/profile.md). */
#include "cli/profile.h"
#include "tap.h"

#include <math.h>
#include <string.h>

#define N 40

static struct profile_sample s[N];
static double t[N], v[N];

/* Deterministic noise in [-1, 1]. */
static double noise(unsigned i)
{
    unsigned x = i * 2654435761u;
    x ^= x >> 13;
    return (double)(x % 2001) / 1000.0 - 1.0;
}

static void series(double base, double slope, double amp)
{
    for (unsigned i = 0; i < N; i++) {
        t[i] = 0.1 * i;
        v[i] = base + slope * t[i] + amp * noise(i);
    }
}

static void test_leak(void)
{
    struct profile_leak l;
    const double mib = 1024.0 * 1024.0;
    series(50 * mib, 2 * mib, 0);
    profile_detect_leak(t, v, N, &l);
    ok(l.detected, "a linear leak (2 MiB/s over 3.9 s) is detected");
    ok(fabs(l.slope_bps - 2 * mib) < 1, "... with its slope (%.0f B/s)", l.slope_bps);
    is_int(l.windows_rising, PROFILE_LEAK_WINDOWS, "... rising in every window");

    series(50 * mib, 2 * mib, 0.2 * mib);
    profile_detect_leak(t, v, N, &l);
    ok(l.detected, "a linear leak with noise is detected (signal %.1f)", l.signal);

    series(50 * mib, 0, 4 * mib);
    profile_detect_leak(t, v, N, &l);
    ok(!l.detected, "noise without a trend (+-4 MiB) is not a leak (growth %.0f B)",
       l.growth_bytes);

    series(50 * mib, 0.1 * mib, 0);
    profile_detect_leak(t, v, N, &l);
    ok(!l.detected, "steady growth below the minimum (0.39 MiB) is not a leak");

    /* At the edge: growth over the run exactly PROFILE_LEAK_MIN_GROWTH. */
    series(50 * mib, PROFILE_LEAK_MIN_GROWTH / (0.1 * (N - 1)), 0);
    profile_detect_leak(t, v, N, &l);
    ok(l.detected, "growth of exactly the minimum is a leak (%.0f B)", l.growth_bytes);
    series(50 * mib, 0.99 * PROFILE_LEAK_MIN_GROWTH / (0.1 * (N - 1)), 0);
    profile_detect_leak(t, v, N, &l);
    ok(!l.detected, "1%% below the minimum is not");

    /* One step (a cache filled once): the fit rises, the late windows do not. */
    for (unsigned i = 0; i < N; i++) {
        t[i] = 0.1 * i;
        v[i] = i < N / 4 ? 50 * mib : 60 * mib;
    }
    profile_detect_leak(t, v, N, &l);
    ok(!l.detected, "one step up is not a leak (%u of %u windows rising)", l.windows_rising,
       l.windows);

    series(50 * mib, 2 * mib, 0);
    profile_detect_leak(t, v, PROFILE_LEAK_MIN_SAMPLES - 1, &l);
    ok(!l.detected && !l.enough_samples, "too few samples: no verdict");
    profile_detect_leak(t, v, PROFILE_LEAK_MIN_SAMPLES, &l);
    ok(l.enough_samples, "PROFILE_LEAK_MIN_SAMPLES samples are enough");
}

static void fill_cpu(double periods, double throttled, double pct)
{
    memset(s, 0, sizeof s);
    for (unsigned i = 0; i < N; i++) {
        s[i].t_s = 0.1 * i;
        s[i].periods = periods;
        s[i].throttled = throttled;
        s[i].throttled_ms = throttled * 80;
        s[i].cpu_pct = pct;
    }
}

static void test_throttle(void)
{
    struct profile_throttle th;
    struct profile_bound b;
    fill_cpu(1, 1, 20);
    profile_detect_throttle(s, N, &th);
    ok(th.detected, "throttled in every period: detected");
    is_int((long)th.periods, N, "... %d periods counted", N);
    profile_classify(s, N, &th, &b);
    ok(b.cpu && !b.memory, "... CPU-bound (%s)", b.label);

    fill_cpu(1, 0, 20);
    profile_detect_throttle(s, N, &th);
    ok(!th.detected, "never throttled: not detected");
    profile_classify(s, N, &th, &b);
    is_str(b.label, "neither", "... 20%% of a CPU, no limit: neither");

    /* The edge: exactly PROFILE_THROTTLE_RATIO of the periods. */
    fill_cpu(10, 1, 20);
    profile_detect_throttle(s, N, &th);
    ok(th.detected, "throttled in exactly %.0f%% of the periods: detected",
       100 * PROFILE_THROTTLE_RATIO);
    fill_cpu(10, 0, 20);
    for (unsigned i = 0; i < 39; i++)
        s[i].throttled = 1; /* 39 of 400: just below */
    profile_detect_throttle(s, N, &th);
    ok(!th.detected, "just below the ratio (%.4f): not detected", th.ratio);

    memset(s, 0, sizeof s);
    for (unsigned i = 0; i < PROFILE_THROTTLE_MIN_PERIODS - 1; i++)
        s[i].periods = s[i].throttled = 1;
    profile_detect_throttle(s, N, &th);
    ok(!th.detected, "too few periods (%.0f): no verdict", th.periods);

    fill_cpu(0, 0, PROFILE_CPU_BOUND_PCT);
    profile_detect_throttle(s, N, &th);
    profile_classify(s, N, &th, &b);
    ok(b.cpu, "unthrottled at %.0f%% of a CPU: CPU-bound", PROFILE_CPU_BOUND_PCT);
    fill_cpu(0, 0, PROFILE_CPU_BOUND_PCT - 0.5);
    profile_classify(s, N, &th, &b);
    ok(!b.cpu, "just below: not");
}

static void test_memory_bound(void)
{
    struct profile_throttle th = {0};
    struct profile_bound b;
    memset(s, 0, sizeof s);
    for (unsigned i = 0; i < N; i++) {
        s[i].mem_limit = 1000;
        s[i].mem_usage = 1000 * PROFILE_MEM_BOUND_RATIO;
    }
    profile_classify(s, N, &th, &b);
    ok(b.memory && !b.cpu, "usage at %.0f%% of the limit: memory-bound (%s)",
       100 * PROFILE_MEM_BOUND_RATIO, b.label);
    for (unsigned i = 0; i < N; i++)
        s[i].mem_usage = 1000 * PROFILE_MEM_BOUND_RATIO - 1;
    profile_classify(s, N, &th, &b);
    ok(!b.memory, "just below: not");
    s[N - 1].oom_kills = 1;
    profile_classify(s, N, &th, &b);
    ok(b.memory, "an OOM kill during the run: memory-bound");
}

static void test_io(void)
{
    struct profile_io io;
    memset(s, 0, sizeof s);
    profile_io_pattern(s, N, &io);
    is_str(io.pattern, "idle", "no I/O: idle");
    for (unsigned i = 0; i < N; i++)
        s[i].proc_wchar_bps = 1e6;
    profile_io_pattern(s, N, &io);
    is_str(io.pattern, "write-heavy", "tmpfs writes: write-heavy");
    is_str(io.source, "proc rchar/wchar", "... from the per-process counters");
    for (unsigned i = 0; i < N; i++)
        s[i].blk_read_bps = 1e6;
    profile_io_pattern(s, N, &io);
    is_str(io.pattern, "read-heavy", "block reads take precedence: read-heavy");
    is_str(io.source, "cgroup block I/O", "... from the cgroup");
    for (unsigned i = 0; i < N; i++) {
        s[i].blk_read_bps = 3000;
        s[i].blk_write_bps = 7000;
    }
    profile_io_pattern(s, N, &io);
    is_str(io.pattern, "write-heavy", "a write share of exactly %.0f%%: write-heavy",
           100 * PROFILE_IO_HEAVY_SHARE);
    for (unsigned i = 0; i < N; i++)
        s[i].blk_write_bps = 6900;
    profile_io_pattern(s, N, &io);
    is_str(io.pattern, "balanced", "just below: balanced");
    memset(s, 0, sizeof s);
    for (unsigned i = 0; i < N; i++)
        s[i].proc_rchar_bps = PROFILE_IO_IDLE_BPS - 1;
    profile_io_pattern(s, N, &io);
    is_str(io.pattern, "idle", "just below %.0f B/s: idle", PROFILE_IO_IDLE_BPS);
    for (unsigned i = 0; i < N; i++)
        s[i].proc_rchar_bps = PROFILE_IO_IDLE_BPS;
    profile_io_pattern(s, N, &io);
    is_str(io.pattern, "read-heavy", "at it: read-heavy");
}

static void test_stats_and_advice(void)
{
    struct wr_stats_summary st;
    struct profile_analysis a;
    memset(s, 0, sizeof s);
    for (unsigned i = 0; i < N; i++) {
        s[i].t_s = 0.1 * i;
        s[i].cpu_pct = i + 1;
    }
    bool listed = false;
    for (size_t k = 0; k < profile_n_series; k++)
        listed |= !strcmp(profile_series[k].name, "cpu_pct") &&
                  profile_series[k].offset == offsetof(struct profile_sample, cpu_pct);
    ok(listed, "cpu_pct is a series of the reports");
    const struct profile_series cpu_d = {.offset = offsetof(struct profile_sample, cpu_pct)};
    const struct profile_series *cpu = &cpu_d;
    ok(profile_series_stats(s, N, cpu, &st) == 0, "statistics of a series");
    ok(st.min == 1 && st.max == N && st.median == 20.5 && st.mean == 20.5,
       "... min, max, median, mean");
    ok(fabs(st.p99 - 39.61) < 1e-9, "... p99 (%.2f)", st.p99);
    ok(profile_series_stats(s, 0, cpu, &st) < 0, "... none of no samples");
    profile_analyze(s, 0, &a);
    ok(a.n_advice > 0 && strstr(a.advice[0], "too few"), "no samples: says so (%s)", a.advice[0]);
    for (unsigned i = 0; i < N; i++)
        s[i].mem_usage = 1048576.0 * (10 + 2 * s[i].t_s);
    profile_analyze(s, N, &a);
    ok(a.leak.detected && strstr(a.advice[0], "2.00 MiB/s"), "a leak's advice has its numbers: %s",
       a.advice[0]);
    char *json =
        profile_report_json(&(struct profile_run){.id = "0123456789ab",
                                                  .interval_ms = 100,
                                                  .partial = true,
                                                  .partial_reason = "the container exited"},
                            s, N, &a);
    ok(json && strstr(json, "\"partial\": true") && strstr(json, "\"partial_reason\""),
       "the JSON report marks a partial run");
    free(json);
}

int main(void)
{
    test_leak();
    test_throttle();
    test_memory_bound();
    test_io();
    test_stats_and_advice();
    return done_testing();
}
