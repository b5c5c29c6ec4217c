/* The profile's reports: JSON (jansson) and plain text. */
#include "profile.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>

static json_t *stats_json(const struct wr_stats_summary *st)
{
    return json_pack("{s:f,s:f,s:f,s:f,s:f,s:f,s:f}", "mean", st->mean, "median", st->median, "std",
                     st->stddev, "min", st->min, "max", st->max, "p95", st->p95, "p99", st->p99);
}

static json_t *analysis_json(const struct profile_analysis *a)
{
    json_t *advice = json_array();
    for (size_t i = 0; i < a->n_advice; i++)
        json_array_append_new(advice, json_string(a->advice[i]));
    return json_pack(
        "{s:{s:b,s:b,s:f,s:f,s:f,s:f,s:i,s:i},s:{s:b,s:f,s:f,s:f,s:f},"
        "s:{s:s,s:s,s:f,s:f},s:{s:s,s:b,s:b,s:f,s:f,s:f},s:o}",
        "leak", "detected", a->leak.detected, "enough_samples", a->leak.enough_samples,
        "slope_bytes_per_second", a->leak.slope_bps, "growth_bytes", a->leak.growth_bytes,
        "noise_bytes", a->leak.noise_bytes, "signal_to_noise", a->leak.signal, "windows",
        (json_int_t)a->leak.windows, "windows_rising", (json_int_t)a->leak.windows_rising,
        "throttling", "detected", a->throttle.detected, "periods", a->throttle.periods,
        "throttled_periods", a->throttle.throttled, "ratio", a->throttle.ratio, "throttled_seconds",
        a->throttle.throttled_s, "io", "pattern", a->io.pattern, "source", a->io.source,
        "read_bytes_per_second", a->io.read_bps, "write_bytes_per_second", a->io.write_bps,
        "classification", "label", a->bound.label, "cpu_bound", a->bound.cpu, "memory_bound",
        a->bound.memory, "cpu_mean_percent", a->bound.cpu_mean_pct, "memory_p95_of_limit",
        a->bound.mem_p95_ratio, "oom_kills", a->bound.oom_kills, "recommendations", advice);
}

char *profile_report_json(const struct profile_run *run, const struct profile_sample *s, size_t n,
                          const struct profile_analysis *a)
{
    json_t *series = json_object(), *stats = json_object(), *times = json_array();
    json_t *percpu = json_array();
    for (size_t i = 0; i < n; i++) {
        json_array_append_new(times, json_real(s[i].t_s));
        json_t *row = json_array();
        for (unsigned c = 0; c < s[i].n_cpus; c++)
            json_array_append_new(row, json_real(s[i].percpu_pct[c]));
        json_array_append_new(percpu, row);
    }
    for (size_t k = 0; k < profile_n_series; k++) {
        const struct profile_series *d = &profile_series[k];
        json_t *values = json_array();
        for (size_t i = 0; i < n; i++)
            json_array_append_new(values, json_real(profile_value(&s[i], d)));
        json_object_set_new(
            series, d->name,
            json_pack("{s:s,s:s,s:o}", "unit", d->unit, "source", d->source, "values", values));
        struct wr_stats_summary st;
        if (profile_series_stats(s, n, d, &st) == 0)
            json_object_set_new(stats, d->name, stats_json(&st));
    }
    json_object_set_new(series, "percpu_pct",
                        json_pack("{s:s,s:s,s:o}", "unit", "percent of each CPU", "source",
                                  "cgroup cpuacct.usage_percpu (v1; empty rows: not given)",
                                  "values", percpu));
    json_t *root =
        json_pack("{s:s,s:s,s:s,s:f,s:f,s:f,s:I,s:b,s:s?,s:o,s:o,s:o,s:o}", "id", run->id, "image",
                  run->image ? run->image : "", "command", run->command ? run->command : "",
                  "duration_s", run->duration_s, "interval_ms", run->interval_ms, "elapsed_s",
                  run->elapsed_s, "samples", (json_int_t)n, "partial", run->partial,
                  "partial_reason", run->partial ? run->partial_reason : NULL, "time_s", times,
                  "series", series, "statistics", stats, "analysis", analysis_json(a));
    if (!root)
        return NULL;
    char *text = json_dumps(root, JSON_INDENT(2) | JSON_REAL_PRECISION(10));
    json_decref(root);
    return text;
}

static void stat_line(FILE *out, const char *label, const struct profile_sample *s, size_t n,
                      size_t offset, double scale, const char *unit)
{
    for (size_t k = 0; k < profile_n_series; k++) {
        struct wr_stats_summary st;
        if (profile_series[k].offset != offset ||
            profile_series_stats(s, n, &profile_series[k], &st) < 0)
            continue;
        fprintf(out, "  %-26s %10.2f %10.2f %10.2f %10.2f %10.2f %10.2f %10.2f  %s\n", label,
                st.mean / scale, st.median / scale, st.stddev / scale, st.min / scale,
                st.max / scale, st.p95 / scale, st.p99 / scale, unit);
    }
}

void profile_report_text(FILE *out, const struct profile_run *run, const struct profile_sample *s,
                         size_t n, const struct profile_analysis *a)
{
    const double mib = 1024.0 * 1024.0, kib = 1024.0;
    if (run->partial)
        fprintf(out, "PARTIAL REPORT: %s\n", run->partial_reason);
    bool img = run->image && run->image[0];
    fprintf(out, "profile of container %s%s%s%s: %zu samples over %.1f s, every %.0f ms\n", run->id,
            img ? " (" : "", img ? run->image : "", img ? ")" : "", n, run->elapsed_s,
            run->interval_ms);
    fprintf(out, "\n  %-26s %10s %10s %10s %10s %10s %10s %10s\n", "series", "mean", "median",
            "std", "min", "max", "p95", "p99");
#define LINE(label, field, scale, unit)                                                            \
    stat_line(out, label, s, n, offsetof(struct profile_sample, field), scale, unit)
    LINE("memory usage (cgroup)", mem_usage, mib, "MiB");
    LINE("memory cache (cgroup)", mem_cache, mib, "MiB");
    LINE("memory rss (cgroup)", mem_rss, mib, "MiB");
    LINE("cpu (cgroup)", cpu_pct, 1, "% of one CPU");
    LINE("throttled (cgroup)", throttled, 1, "periods/interval");
    LINE("block read (cgroup)", blk_read_bps, kib, "KiB/s");
    LINE("block write (cgroup)", blk_write_bps, kib, "KiB/s");
    LINE("block read ops (cgroup)", blk_read_iops, 1, "ops/s");
    LINE("block write ops (cgroup)", blk_write_iops, 1, "ops/s");
    LINE("rchar (proc)", proc_rchar_bps, kib, "KiB/s");
    LINE("wchar (proc)", proc_wchar_bps, kib, "KiB/s");
    LINE("write_bytes (proc)", proc_write_bps, kib, "KiB/s");
    LINE("pids (cgroup)", pids, 1, "tasks");
#undef LINE
    fprintf(out,
            "\nleak: %s (%.3f MiB/s, %.2f MiB over the run, %.1fx noise, %u/%u windows rising)\n",
            a->leak.detected         ? "DETECTED"
            : a->leak.enough_samples ? "no"
                                     : "too few samples",
            a->leak.slope_bps / mib, a->leak.growth_bytes / mib, a->leak.signal,
            a->leak.windows_rising, a->leak.windows);
    fprintf(out, "throttling: %s (%.0f of %.0f periods, %.1f%%, %.2f s)\n",
            a->throttle.detected ? "DETECTED" : "no", a->throttle.throttled, a->throttle.periods,
            100 * a->throttle.ratio, a->throttle.throttled_s);
    fprintf(out, "classification: %s (CPU %.1f%% of one CPU; memory p95 %.0f%% of the limit)\n",
            a->bound.label, a->bound.cpu_mean_pct, 100 * a->bound.mem_p95_ratio);
    fprintf(out, "io: %s (%.1f KiB/s read, %.1f KiB/s written; source: %s)\n", a->io.pattern,
            a->io.read_bps / kib, a->io.write_bps / kib, a->io.source);
    fputs("recommendations:\n", out);
    for (size_t i = 0; i < a->n_advice; i++)
        fprintf(out, "  - %s\n", a->advice[i]);
    if (run->partial)
        fprintf(out, "PARTIAL REPORT: %s\n", run->partial_reason);
}
