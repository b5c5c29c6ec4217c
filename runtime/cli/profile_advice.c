/* Every rule of the profile, and recommendations in plain words with the
 * figures behind them (see docs/profile.md). */
#include "profile.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static void advise(struct profile_analysis *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void advise(struct profile_analysis *a, const char *fmt, ...)
{
    if (a->n_advice >= PROFILE_MAX_ADVICE)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(a->advice[a->n_advice++], sizeof a->advice[0], fmt, ap);
    va_end(ap);
}

void profile_analyze(const struct profile_sample *s, size_t n, struct profile_analysis *a)
{
    *a = (struct profile_analysis){0};
    double *t = malloc((n + 1) * sizeof *t), *mem = malloc((n + 1) * sizeof *mem);
    for (size_t i = 0; t && mem && i < n; i++) {
        t[i] = s[i].t_s;
        mem[i] = s[i].mem_usage;
    }
    if (t && mem)
        profile_detect_leak(t, mem, n, &a->leak);
    free(t);
    free(mem);
    profile_detect_throttle(s, n, &a->throttle);
    profile_classify(s, n, &a->throttle, &a->bound);
    profile_io_pattern(s, n, &a->io);

    const double mib = 1024.0 * 1024.0;
    char noise[64];
    if (a->leak.signal >= 1e9)
        snprintf(noise, sizeof noise, "no noise around the trend");
    else
        snprintf(noise, sizeof noise, "%.0fx the noise around it", a->leak.signal);
    if (a->leak.detected)
        advise(a,
               "Memory grows steadily: %.2f MiB/s (%.1f MiB over the run, %s, rising in %u of "
               "%u windows). Look for a leak (buffers, caches or files in tmpfs that are never "
               "freed) before it reaches the limit.",
               a->leak.slope_bps / mib, a->leak.growth_bytes / mib, noise, a->leak.windows_rising,
               a->leak.windows);
    if (a->throttle.detected)
        advise(a,
               "CPU is throttled in %.0f%% of the CFS periods (%.0f of %.0f, %.2f s throttled): "
               "raise --cpus or make the work cheaper.",
               100 * a->throttle.ratio, a->throttle.throttled, a->throttle.periods,
               a->throttle.throttled_s);
    else if (a->bound.cpu)
        advise(a, "CPU usage averages %.0f%% of one CPU: the workload is CPU-bound.",
               a->bound.cpu_mean_pct);
    if (a->bound.oom_kills > 0)
        advise(a, "The kernel killed %.0f process(es) for memory (OOM): raise --memory.",
               a->bound.oom_kills);
    else if (a->bound.memory)
        advise(a, "Memory usage reaches %.0f%% of the limit (p95): raise --memory or use less.",
               100 * a->bound.mem_p95_ratio);
    if (!a->leak.enough_samples)
        advise(a,
               "Only %zu sample(s): too few to judge a memory trend (%d needed); profile "
               "longer or sample more often.",
               n, PROFILE_LEAK_MIN_SAMPLES);
    if (strcmp(a->io.pattern, "idle") != 0)
        advise(a, "I/O is %s: %.1f KiB/s read, %.1f KiB/s written (%s).", a->io.pattern,
               a->io.read_bps / 1024, a->io.write_bps / 1024, a->io.source);
    if (!a->n_advice)
        advise(a, "Nothing to change: no leak, no throttling, CPU %.1f%% of one CPU, I/O idle.",
               a->bound.cpu_mean_pct);
}
