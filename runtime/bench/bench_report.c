/* The startup bench's results: a text table, JSON (schema in
 * docs/benchmarks.md) and an SVG chart of the latency distributions. */
#include "bench_json.h"

#include "lib/cleanup.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#define STARTUP_SCHEMA "warmrun-bench-startup/1"

const char *bench_rt_status_name(enum bench_rt_status s)
{
    switch (s) {
    case BENCH_RT_OK:
        return "ok";
    case BENCH_RT_PARTIAL:
        return "partial";
    case BENCH_RT_SKIPPED:
        return "skipped";
    }
    return "?";
}

static void print_ratio(double v)
{
    if (isnan(v))
        printf(" %8s", "-");
    else
        printf(" %8.3g", v);
}

void bench_startup_print(const struct bench_startup_result *r)
{
    const struct bench_startup_opts *o = r->opts;
    printf("\nwarmrun bench startup: image %s, command", o->image);
    for (char **w = o->command; *w; w++)
        printf(" %s", *w);
    printf("; %ld rounds after %ld warm-up rounds; times in ms\n", o->iterations, o->warmup);
    printf("%-7s %5s %5s %9s %9s %8s %9s %9s %9s %9s %8s %8s\n", "runtime", "n", "fail", "mean",
           "median", "std", "min", "max", "p95", "p99", "x fast", "x docker");
    for (size_t k = 0; k < r->n; k++) {
        const struct bench_runtime *rt = &r->rt[k];
        if (rt->status == BENCH_RT_SKIPPED) {
            printf("%-7s skipped: %s\n", rt->name, rt->reason);
            continue;
        }
        const struct wr_stats_summary *s = &rt->sum;
        printf("%-7s %5zu %5zu %9.2f %9.2f %8.2f %9.2f %9.2f %9.2f %9.2f", rt->name, s->n,
               rt->failures, s->mean, s->median, s->stddev, s->min, s->max, s->p95, s->p99);
        print_ratio(rt->ratio_fastest);
        print_ratio(rt->ratio_docker);
        putchar('\n');
        if (rt->status == BENCH_RT_PARTIAL)
            printf("        partial: %s\n", rt->reason);
    }
    if (r->fastest)
        printf("x fast = median / median of the fastest (%s); x docker = median / median of "
               "docker\n",
               r->fastest);
    if (r->have_daemon_stats) {
        const struct wr_stats_info *d = &r->daemon_stats;
        printf("daemon side, request received to workload execve (%ld warm activations, warm-up "
               "included): p50 "
               "%.1f us, p99 %.1f us; stage medians: daemon %.1f us, container wake-up %.1f us, "
               "container to execve %.1f us\n",
               d->samples, d->p50_us, d->p99_us, d->daemon_p50_us, d->wake_p50_us,
               d->container_p50_us);
    }
    fflush(stdout);
}

static json_t *num_or_null(double v)
{
    return isnan(v) ? json_null() : json_real(round(v * 1000.0) / 1000.0);
}

static json_t *host_json(void)
{
    struct utsname u;
    json_t *h = json_object();
    if (uname(&u) == 0) {
        json_object_set_new(h, "kernel", json_string(u.release));
        json_object_set_new(h, "machine", json_string(u.machine));
    }
    json_object_set_new(h, "cpus", json_integer(sysconf(_SC_NPROCESSORS_ONLN)));
    return h;
}

static json_t *string_array(char *const *v)
{
    json_t *a = json_array();
    for (; v && *v; v++)
        json_array_append_new(a, json_string(*v));
    return a;
}

json_t *bench_startup_to_json(const struct bench_startup_result *r)
{
    const struct bench_startup_opts *o = r->opts;
    json_t *root = json_object();
    json_object_set_new(root, "schema", json_string(STARTUP_SCHEMA));
    json_object_set_new(root, "started", json_string(r->started));
    json_object_set_new(root, "host", host_json());
    json_object_set_new(root, "image", json_string(o->image));
    json_object_set_new(root, "command", string_array(o->command));
    json_object_set_new(root, "iterations", json_integer(o->iterations));
    json_object_set_new(root, "warmup", json_integer(o->warmup));
    json_object_set_new(root, "fastest", r->fastest ? json_string(r->fastest) : json_null());
    json_t *rts = json_array();
    for (size_t k = 0; k < r->n; k++) {
        const struct bench_runtime *rt = &r->rt[k];
        json_t *j = json_object();
        json_object_set_new(j, "name", json_string(rt->name));
        json_object_set_new(j, "status", json_string(bench_rt_status_name(rt->status)));
        json_object_set_new(j, "reason", rt->reason[0] ? json_string(rt->reason) : json_null());
        json_object_set_new(j, "command", rt->cmd.argv ? string_array(rt->cmd.argv) : json_null());
        json_object_set_new(j, "n", json_integer((json_int_t)rt->n));
        json_object_set_new(j, "failures", json_integer((json_int_t)rt->failures));
        if (rt->status == BENCH_RT_SKIPPED) {
            json_object_set_new(j, "stats", json_null());
        } else {
            const struct wr_stats_summary *s = &rt->sum;
            json_t *st = json_object();
            json_object_set_new(st, "mean_ms", num_or_null(s->mean));
            json_object_set_new(st, "median_ms", num_or_null(s->median));
            json_object_set_new(st, "std_ms", num_or_null(s->stddev));
            json_object_set_new(st, "min_ms", num_or_null(s->min));
            json_object_set_new(st, "max_ms", num_or_null(s->max));
            json_object_set_new(st, "p95_ms", num_or_null(s->p95));
            json_object_set_new(st, "p99_ms", num_or_null(s->p99));
            json_object_set_new(j, "stats", st);
        }
        json_object_set_new(j, "ratio_to_fastest", num_or_null(rt->ratio_fastest));
        json_object_set_new(j, "ratio_to_docker", num_or_null(rt->ratio_docker));
        json_t *samples = json_array();
        for (size_t i = 0; i < rt->n; i++)
            json_array_append_new(samples, num_or_null(rt->samples[i]));
        json_object_set_new(j, "samples_ms", samples);
        json_array_append_new(rts, j);
    }
    json_object_set_new(root, "runtimes", rts);
    const struct wr_stats_info *d = &r->daemon_stats;
    json_object_set_new(root, "daemon_side",
                        r->have_daemon_stats
                            ? json_pack("{s:i, s:f, s:f, s:f, s:f, s:f}", "samples",
                                        (json_int_t)d->samples, "p50_us", d->p50_us, "p99_us",
                                        d->p99_us, "daemon_p50_us", d->daemon_p50_us, "wake_p50_us",
                                        d->wake_p50_us, "container_p50_us", d->container_p50_us)
                            : json_null());
    return root;
}

int bench_write_json(json_t *root, const char *path, wr_error *err)
{
    cleanup_free char *tmp = NULL;
    if (asprintf(&tmp, "%s.tmp", path) < 0) {
        tmp = NULL;
        return wr_error_set(err, ENOMEM, "%s", path);
    }
    if (json_dump_file(root, tmp, JSON_INDENT(1) | JSON_REAL_PRECISION(10)) < 0) {
        unlink(tmp);
        return wr_error_set(err, errno, "--json: cannot write %s", tmp);
    }
    if (rename(tmp, path) < 0) {
        int saved = errno;
        unlink(tmp);
        return wr_error_set(err, saved, "--json: rename %s to %s", tmp, path);
    }
    return 0;
}

int bench_startup_json(const struct bench_startup_result *r, const char *path, wr_error *err)
{
    json_t *root = bench_startup_to_json(r);
    int rc = bench_write_json(root, path, err);
    json_decref(root);
    return rc;
}

/* --- SVG: one row per runtime on a log-scale time axis --- */

#define SVG_W      960
#define SVG_LEFT   90
#define SVG_RIGHT  170
#define SVG_TOP    60
#define SVG_ROW    64
#define SVG_BOTTOM 60

static const char *const palette[] = {"#d62728", "#ff7f0e", "#2ca02c",
                                      "#9467bd", "#1f77b4", "#7f7f7f"};

struct axis {
    double lo, hi; /* log10 of the range */
};

static double xpos(const struct axis *a, double ms)
{
    double l = log10(ms > 1e-6 ? ms : 1e-6);
    return SVG_LEFT + (l - a->lo) / (a->hi - a->lo) * (SVG_W - SVG_LEFT - SVG_RIGHT);
}

static void svg_text(FILE *f, const char *s)
{
    for (; *s; s++) {
        if (*s == '<')
            fputs("&lt;", f);
        else if (*s == '>')
            fputs("&gt;", f);
        else if (*s == '&')
            fputs("&amp;", f);
        else
            fputc(*s, f);
    }
}

static void svg_row(FILE *f, const struct axis *a, const struct bench_runtime *rt, size_t row,
                    const char *color)
{
    double yc = SVG_TOP + SVG_ROW * (double)row + SVG_ROW / 2.0;
    fprintf(f, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\" font-weight=\"bold\">", SVG_LEFT - 10,
            yc + 4);
    svg_text(f, rt->name);
    fputs("</text>\n", f);
    if (rt->status == BENCH_RT_SKIPPED) {
        fprintf(f, "<text x=\"%d\" y=\"%.1f\" fill=\"#777\">skipped: ", SVG_LEFT + 4, yc + 4);
        char reason[120];
        snprintf(reason, sizeof reason, "%s", rt->reason);
        svg_text(f, reason);
        fputs("</text>\n", f);
        return;
    }
    cleanup_free double *sorted = malloc(rt->n * sizeof *sorted);
    if (!sorted)
        return;
    memcpy(sorted, rt->samples, rt->n * sizeof *sorted);
    wr_stats_sort(sorted, rt->n);
    double p25 = wr_percentile_sorted(sorted, rt->n, 0.25);
    double p75 = wr_percentile_sorted(sorted, rt->n, 0.75);
    /* every sample as a dot, spread vertically by a fixed pattern */
    for (size_t i = 0; i < rt->n; i++) {
        double jitter = (double)((i * 37) % 29) / 28.0 - 0.5;
        fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2\" fill=\"%s\" fill-opacity=\"0.35\"/>\n",
                xpos(a, rt->samples[i]), yc + jitter * (SVG_ROW * 0.6), color);
    }
    /* min-max whisker, p25-p75 box, median bar, p99 tick */
    fprintf(f,
            "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
            "stroke-width=\"1\"/>\n",
            xpos(a, rt->sum.min), yc, xpos(a, rt->sum.max), yc, color);
    fprintf(f,
            "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" "
            "stroke=\"%s\" stroke-width=\"1.5\"/>\n",
            xpos(a, p25), yc - SVG_ROW * 0.32, xpos(a, p75) - xpos(a, p25) + 0.5, SVG_ROW * 0.64,
            color);
    fprintf(f,
            "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#000\" "
            "stroke-width=\"3\"/>\n",
            xpos(a, rt->sum.median), yc - SVG_ROW * 0.38, xpos(a, rt->sum.median),
            yc + SVG_ROW * 0.38);
    fprintf(f,
            "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#000\" "
            "stroke-width=\"1\" stroke-dasharray=\"2,2\"/>\n",
            xpos(a, rt->sum.p99), yc - SVG_ROW * 0.3, xpos(a, rt->sum.p99), yc + SVG_ROW * 0.3);
    fprintf(f, "<text x=\"%d\" y=\"%.1f\">median %.2f ms</text>\n", SVG_W - SVG_RIGHT + 10, yc - 2,
            rt->sum.median);
    fprintf(f, "<text x=\"%d\" y=\"%.1f\" fill=\"#555\">p99 %.2f ms%s</text>\n",
            SVG_W - SVG_RIGHT + 10, yc + 14, rt->sum.p99,
            rt->status == BENCH_RT_PARTIAL ? " (partial)" : "");
}

int bench_startup_svg(const struct bench_startup_result *r, const char *path, wr_error *err)
{
    const struct bench_startup_opts *o = r->opts;
    double lo = INFINITY, hi = -INFINITY;
    for (size_t k = 0; k < r->n; k++)
        for (size_t i = 0; i < r->rt[k].n && r->rt[k].status != BENCH_RT_SKIPPED; i++) {
            lo = fmin(lo, r->rt[k].samples[i]);
            hi = fmax(hi, r->rt[k].samples[i]);
        }
    if (!(lo <= hi))
        lo = 1, hi = 10;
    struct axis a = {floor(log10(lo > 0.01 ? lo : 0.01) * 2) / 2, ceil(log10(hi) * 2) / 2};
    if (a.hi - a.lo < 1)
        a.hi = a.lo + 1;
    int height = SVG_TOP + SVG_ROW * (int)r->n + SVG_BOTTOM;

    cleanup_free char *tmp = NULL;
    if (asprintf(&tmp, "%s.tmp", path) < 0) {
        tmp = NULL;
        return wr_error_set(err, ENOMEM, "%s", path);
    }
    FILE *f = fopen(tmp, "we");
    if (!f)
        return wr_error_set(err, errno, "--svg: cannot create %s", tmp);
    fprintf(f,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
            "viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"13\">\n"
            "<rect width=\"100%%\" height=\"100%%\" fill=\"#fff\"/>\n",
            SVG_W, height, SVG_W, height);
    fprintf(f,
            "<text x=\"%d\" y=\"24\" font-size=\"16\" font-weight=\"bold\">Container start-up, "
            "image ",
            SVG_LEFT);
    svg_text(f, o->image);
    fputs(", command", f);
    for (char **w = o->command; *w; w++) {
        fputc(' ', f);
        svg_text(f, *w);
    }
    fprintf(f,
            "</text>\n<text x=\"%d\" y=\"44\" fill=\"#555\">%ld interleaved rounds, %s; "
            "whole process, ms, log scale; box p25-p75, bar median, dashed p99</text>\n",
            SVG_LEFT, o->iterations, r->started);
    /* grid: 1, 2, 5 per decade */
    int axis_y = SVG_TOP + SVG_ROW * (int)r->n;
    for (int d = (int)floor(a.lo); d <= (int)ceil(a.hi); d++) {
        static const double steps[] = {1, 2, 5};
        for (size_t s = 0; s < 3; s++) {
            double v = steps[s] * pow(10, d);
            double l = log10(v);
            if (l < a.lo - 1e-9 || l > a.hi + 1e-9)
                continue;
            double x = xpos(&a, v);
            fprintf(f,
                    "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"%s\"/>\n"
                    "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\" fill=\"#333\">%g</text>\n",
                    x, SVG_TOP, x, axis_y, s == 0 ? "#bbb" : "#eee", x, axis_y + 18, v);
        }
    }
    fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">milliseconds (log scale)</text>\n",
            (SVG_LEFT + SVG_W - SVG_RIGHT) / 2, axis_y + 40);
    for (size_t k = 0; k < r->n; k++)
        svg_row(f, &a, &r->rt[k], k, palette[k % (sizeof palette / sizeof palette[0])]);
    fputs("</svg>\n", f);
    bool bad = ferror(f) != 0;
    if (fclose(f) != 0 || bad) {
        unlink(tmp);
        return wr_error_set(err, EIO, "--svg: write error on %s", tmp);
    }
    if (rename(tmp, path) < 0) {
        int saved = errno;
        unlink(tmp);
        return wr_error_set(err, saved, "--svg: rename %s to %s", tmp, path);
    }
    return 0;
}
