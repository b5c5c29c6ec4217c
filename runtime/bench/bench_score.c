/* `warmrun bench score`: one screen that sums up start-up (warm, cold,
 * bare exec and docker run), memory per warm container, throughput, and a
 * grade; --json for machines. It runs short versions of the startup, scale
 * and load benches against one private daemon.
 *
 * The grade measures a warm activation against the floor it aims at, a
 * bare fork+exec of the same binary (DESIGN.md): the ratio of medians
 * warm / exec gives A+ up to 1.5, A up to 2, B up to 3, C up to 5, D up to
 * 10, F above. */
#include "bench_json.h"
#include "bench_load.h"
#include "bench_scale.h"
#include "bench_startup.h"
#include "bench_subcommands.h"

#include "lib/cleanup.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *grade_of(double ratio)
{
    static const struct {
        double max;
        const char *grade;
    } scale[] = {{1.5, "A+"}, {2, "A"}, {3, "B"}, {5, "C"}, {10, "D"}};
    if (isnan(ratio))
        return "?";
    for (size_t i = 0; i < sizeof scale / sizeof scale[0]; i++)
        if (ratio <= scale[i].max)
            return scale[i].grade;
    return "F";
}

static void startup_line(const struct bench_startup_result *r, const char *name, const char *label)
{
    const struct bench_runtime *rt = bench_startup_find(r, name);
    if (!rt || rt->status == BENCH_RT_SKIPPED) {
        printf("  %-18s skipped%s%s\n", label, rt ? ": " : "", rt ? rt->reason : "");
        return;
    }
    printf("  %-18s %9.2f %9.2f%s\n", label, rt->sum.median, rt->sum.p99,
           rt->status == BENCH_RT_PARTIAL ? "  (partial)" : "");
}

static double median_of(const struct bench_startup_result *r, const char *name)
{
    const struct bench_runtime *rt = bench_startup_find(r, name);
    return rt && rt->status != BENCH_RT_SKIPPED ? rt->sum.median : NAN;
}

static json_t *num(double v)
{
    return isnan(v) ? json_null() : json_real(round(v * 1000.0) / 1000.0);
}

int bench_cmd_score(const char *bindir, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"iterations", required_argument, NULL, 'n'},
        {"pool", required_argument, NULL, 'p'},
        {"duration", required_argument, NULL, 'd'},
        {"json", required_argument, NULL, 'j'},
        {"setup", no_argument, NULL, 'S'},
        {"docker-host", required_argument, NULL, 'D'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    static const char usage[] = "usage: warmrun bench score [--iterations N] [--pool N] "
                                "[--duration S] [--json FILE] [--setup] [--docker-host HOST] "
                                "[--quiet]";
    static char *command[] = {(char *)"/bin/true", NULL};
    struct bench_startup_opts so = {
        .iterations = 30, .warmup = 5, .image = "busybox", .command = command};
    long pool = 100, duration = 5;
    const char *json_path = NULL;
    bool bad = false;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
        if (c == 'n')
            so.iterations =
                bench_parse_count("--iterations", optarg, 1, BENCH_MAX_ITERATIONS, &bad);
        else if (c == 'p')
            pool = bench_parse_count("--pool", optarg, 1, WR_POOL_SIZE_MAX, &bad);
        else if (c == 'd')
            duration = bench_parse_count("--duration", optarg, 1, 3600, &bad);
        else if (c == 'j')
            json_path = optarg;
        else if (c == 'S')
            so.setup = true;
        else if (c == 'D')
            so.docker_host = optarg;
        else if (c == 'q')
            bench_quiet = true;
        else if (c == 'h') {
            printf("%s\n", usage);
            return BENCH_EXIT_OK;
        } else
            bad = true;
    }
    if (bad || optind < argc) {
        bench_msg("%s", usage);
        return BENCH_EXIT_USAGE;
    }
    wr_error err = {0};
    if (bench_parse_runtimes("warm,cold,exec,docker", &so, &err) < 0)
        return BENCH_EXIT_FAILED;
    long concurrency = sysconf(_SC_NPROCESSORS_ONLN);
    if (concurrency < 1)
        concurrency = 1;

    struct bench_env e;
    long base = bench_mem_available_kb();
    if (bench_env_start(&e, bindir) < 0)
        return BENCH_EXIT_FAILED;
    struct bench_startup_result sr = {0};
    struct bench_load_result lr = {0};
    struct bench_scale_step step = {0};
    int rc = bench_startup_run(&e, &so, &sr);
    bool load_ok = false, scale_ok = false;
    if (!bench_stop) {
        bench_progress("load: %ld clients for %ld s", concurrency, duration);
        load_ok = bench_load_run(&e, concurrency, duration, 8, false, &lr, &err) == 0;
        if (!load_ok)
            bench_msg("load: %s", err.msg);
    }
    if (!bench_stop) {
        scale_ok = bench_scale_run(&e, &pool, 1, 5, base, &step, &err) == 0;
        if (!scale_ok)
            bench_msg("scale: %s", err.msg);
    }
    bench_env_cleanup(&e);
    if (bench_stop) {
        bench_startup_free(&sr);
        if (lr.json)
            json_decref(lr.json);
        bench_msg("interrupted; nothing left behind");
        return BENCH_EXIT_SIGNAL;
    }
    if ((!load_ok || !scale_ok) && rc == BENCH_EXIT_OK)
        rc = BENCH_EXIT_PARTIAL;

    double warm = median_of(&sr, "warm"), cold = median_of(&sr, "cold");
    double exec = median_of(&sr, "exec"), docker = median_of(&sr, "docker");
    double ratio = wr_stats_ratio(warm, exec);
    const char *grade = grade_of(ratio);
    long pss = scale_ok && step.containers ? step.pss_kb / (long)step.containers : -1;

    printf("\nwarmrun scorecard: busybox, /bin/true, %ld CPUs, %s\n", sysconf(_SC_NPROCESSORS_ONLN),
           sr.started);
    printf("  start-up, whole process   median ms   p99 ms   (%ld interleaved rounds)\n",
           so.iterations);
    startup_line(&sr, "warm", "warm activate");
    startup_line(&sr, "cold", "cold activate");
    startup_line(&sr, "exec", "bare fork+exec");
    startup_line(&sr, "docker", "docker run");
    if (!isnan(docker) && !isnan(warm))
        printf("  warm is %.0fx faster than docker run, cold %.0fx\n", docker / warm,
               docker / cold);
    if (pss >= 0)
        printf("  memory: %ld kB PSS per warm container (pool of %ld filled in %.2f s)\n", pss,
               pool, step.fill_s);
    if (load_ok)
        printf("  throughput: %.1f activations/s with %ld clients, p99 %.1f ms, %.1f%% cold\n",
               lr.rate, concurrency, lr.latency.p99,
               lr.ok ? 100.0 * (double)lr.cold / (double)lr.ok : 0.0);
    printf("  grade: %s  (warm / bare exec = %.2f; A+ <= 1.5, A <= 2, B <= 3, C <= 5, D <= 10)\n",
           grade, ratio);

    if (json_path) {
        json_t *root = json_object();
        json_object_set_new(root, "schema", json_string("warmrun-bench-score/1"));
        json_object_set_new(root, "grade", json_string(grade));
        json_object_set_new(root, "warm_over_exec", num(ratio));
        json_object_set_new(root, "docker_over_warm", num(wr_stats_ratio(docker, warm)));
        json_object_set_new(root, "startup", bench_startup_to_json(&sr));
        json_object_set_new(root, "memory",
                            pss >= 0 ? json_pack("{s:i, s:i, s:f}", "pool", (json_int_t)pool,
                                                 "pss_kb_per_container", (json_int_t)pss, "fill_s",
                                                 step.fill_s)
                                     : json_null());
        json_object_set_new(root, "throughput", load_ok ? json_incref(lr.json) : json_null());
        if (bench_write_json(root, json_path, &err) < 0) {
            bench_msg("%s", err.msg);
            rc = BENCH_EXIT_FAILED;
        }
        json_decref(root);
    }
    if (lr.json)
        json_decref(lr.json);
    bench_startup_free(&sr);
    return rc;
}
