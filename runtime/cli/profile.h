/* warmrun profile: the samples of one container over time and their
 * analysis. The analysis is pure (no I/O): functions of the samples, so
 * that the unit test can feed synthetic series (tests/unit/test_profile.c).
 * The rules and thresholds below are documented in docs/profile.md. */
#ifndef WARMRUN_CLI_PROFILE_H
#define WARMRUN_CLI_PROFILE_H

#include "lib/stats.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#define PROFILE_MAX_CPUS 64

/* Leak: memory usage (Docker's) over the run. */
#define PROFILE_LEAK_MIN_SAMPLES 8                 /* fewer: no verdict */
#define PROFILE_LEAK_WINDOWS     4                 /* sliding windows of half the run */
#define PROFILE_LEAK_MIN_GROWTH  (1024.0 * 1024.0) /* bytes over the run, by the fit */
#define PROFILE_LEAK_MIN_SIGNAL  4.0               /* growth / residual std, at least */
/* Throttling: throttled CFS periods / periods, over the run. */
#define PROFILE_THROTTLE_RATIO       0.10
#define PROFILE_THROTTLE_MIN_PERIODS 10
/* CPU-bound: throttled, or mean usage at least this % of one CPU. */
#define PROFILE_CPU_BOUND_PCT 80.0
/* Memory-bound: p95 usage at least this share of the limit, or an OOM kill. */
#define PROFILE_MEM_BOUND_RATIO 0.80
/* I/O pattern: idle below this mean rate (read + write, bytes/s); else by
 * the write share: write-heavy at or above, read-heavy at or below 1 - it. */
#define PROFILE_IO_IDLE_BPS    4096.0
#define PROFILE_IO_HEAVY_SHARE 0.70

/* One sample: values at t_s, rates over the interval since the previous
 * sample. Sources: "cgroup" files (cgroup_stats.h) or "proc" (the sum of
 * /proc/PID/io over the container's processes). */
struct profile_sample {
    double t_s;                              /* seconds since the first sample */
    double mem_usage, mem_limit;             /* bytes; limit 0: none (cgroup) */
    double mem_cache, mem_rss;               /* bytes: page cache (file), anonymous (cgroup) */
    double cpu_pct;                          /* % of one CPU (cgroup) */
    unsigned n_cpus;                         /* 0: the cgroup gives no per-CPU figures */
    double percpu_pct[PROFILE_MAX_CPUS];     /* % of each CPU (cgroup, v1 cpuacct) */
    double periods, throttled, throttled_ms; /* CFS periods in the interval (cgroup) */
    double blk_read_bps, blk_write_bps;      /* block I/O bytes/s (cgroup) */
    double blk_read_iops, blk_write_iops;    /* block I/O operations/s (cgroup) */
    double proc_rchar_bps, proc_wchar_bps;   /* read(2)/write(2) bytes/s, any file (proc) */
    double proc_read_bps, proc_write_bps;    /* bytes/s to or from storage (proc) */
    double pids;                             /* tasks (cgroup) */
    double oom_kills;                        /* since the container started (cgroup) */
};

/* The series a report shows: name, unit, where the figure comes from. */
struct profile_series {
    const char *name, *unit, *source;
    size_t offset; /* of the double in struct profile_sample */
};
extern const struct profile_series profile_series[];
extern const size_t profile_n_series;

/* The double at offset in a sample (memcpy: no cast between pointer types). */
static inline double profile_at(const struct profile_sample *s, size_t offset)
{
    double v;
    memcpy(&v, (const char *)s + offset, sizeof v);
    return v;
}
static inline double profile_value(const struct profile_sample *s, const struct profile_series *d)
{
    return profile_at(s, d->offset);
}
/* Statistics (lib/stats.h) of one series over n samples. -1 if n == 0 or
 * out of memory. */
int profile_series_stats(const struct profile_sample *s, size_t n, const struct profile_series *d,
                         struct wr_stats_summary *out);

/* Least-squares line v = intercept + slope * t, and the standard deviation
 * of the residuals (the noise around the line). */
struct profile_fit {
    double slope, intercept, resid_sd;
};
void profile_fit_line(const double *t, const double *v, size_t n, struct profile_fit *f);

struct profile_leak {
    bool detected, enough_samples;
    double slope_bps;    /* bytes/s over the run */
    double growth_bytes; /* slope * duration */
    double noise_bytes;  /* residual std */
    double signal;       /* growth / noise (infinite without noise: capped at 1e9) */
    unsigned windows, windows_rising;
};
void profile_detect_leak(const double *t, const double *v, size_t n, struct profile_leak *out);

struct profile_throttle {
    bool detected;
    double periods, throttled, ratio, throttled_s;
};
void profile_detect_throttle(const struct profile_sample *s, size_t n, struct profile_throttle *o);

struct profile_io {
    const char *pattern; /* "idle", "read-heavy", "write-heavy", "balanced" */
    const char *source;  /* "cgroup block I/O", "proc read_bytes/write_bytes", "proc rchar/wchar" */
    double read_bps, write_bps; /* means, of that source */
};
void profile_io_pattern(const struct profile_sample *s, size_t n, struct profile_io *o);

struct profile_bound {
    bool cpu, memory;
    double cpu_mean_pct, mem_p95_ratio; /* ratio 0 without a limit */
    double oom_kills;                   /* during the run */
    const char *label; /* "CPU-bound", "memory-bound", "CPU- and memory-bound", "neither" */
};
void profile_classify(const struct profile_sample *s, size_t n, const struct profile_throttle *t,
                      struct profile_bound *o);

#define PROFILE_MAX_ADVICE 8
struct profile_analysis {
    struct profile_leak leak;
    struct profile_throttle throttle;
    struct profile_io io;
    struct profile_bound bound;
    char advice[PROFILE_MAX_ADVICE][400];
    size_t n_advice;
};
/* Every rule over the n samples, and the recommendations they lead to. */
void profile_analyze(const struct profile_sample *s, size_t n, struct profile_analysis *a);

/* What was profiled, for the reports. */
struct profile_run {
    const char *id, *image, *command;
    double duration_s; /* asked for; 0: until the container exits */
    double interval_ms;
    double elapsed_s; /* measured */
    bool partial;     /* the container went away before the duration ended */
    char partial_reason[256];
};
/* The JSON report (jansson); NULL when out of memory. Free with free(). */
char *profile_report_json(const struct profile_run *run, const struct profile_sample *s, size_t n,
                          const struct profile_analysis *a);
/* The plain-text report. */
void profile_report_text(FILE *out, const struct profile_run *run, const struct profile_sample *s,
                         size_t n, const struct profile_analysis *a);
/* An SVG chart of memory, CPU and I/O over time. Returns -1 on a write
 * error (errno set). */
int profile_svg(FILE *out, const struct profile_run *run, const struct profile_sample *s, size_t n);

#endif
