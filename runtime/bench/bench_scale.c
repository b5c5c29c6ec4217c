/* `warmrun bench scale --pool N`: grows one pool step by step up to N warm
 * containers; at each size the time the fill took, the proportional set
 * size of every warm container's two processes (its shim and its stopped
 * pid 1, from /proc/PID/smaps_rollup; the processes are found through the
 * shims' state records), the drop of MemAvailable (kernel memory
 * included), and the whole-process latency of warm activations at that
 * size (the pool is full before each: it must stay flat). */
#include "bench_scale.h"

#include "bench_json.h"
#include "bench_subcommands.h"
#include "lib/cleanup.h"
#include "lib/state_file.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SCALE_IMAGE    "busybox"
#define FILL_TIMEOUT_S 1800
#define MAX_STEPS      16

struct pss_sum {
    size_t containers;
    long kb;
};

static void add_pss(const struct wr_state_record *rec, void *ctx)
{
    struct pss_sum *s = ctx;
    long a = bench_proc_pss_kb(rec->shim_pid);
    long b = rec->child_pid > 0 ? bench_proc_pss_kb(rec->child_pid) : 0;
    if (a < 0)
        return;
    s->containers++;
    s->kb += a + (b > 0 ? b : 0);
}

static int activation_samples(const struct bench_env *e, long size, long samples,
                              struct wr_stats_summary *out, wr_error *err)
{
    char *argv[] = {(char *)e->warmrun, (char *)"--socket",  (char *)e->g.socket,
                    (char *)"activate", (char *)"--no-cold", (char *)SCALE_IMAGE,
                    (char *)"--",       (char *)"/bin/true", NULL};
    struct bench_cmd c = {
        .argv = argv, .path = (char *)e->warmrun, .mntns_fd = -1, .stderr_fd = -1};
    cleanup_free double *v = calloc((size_t)samples, sizeof *v);
    if (!v)
        return wr_error_set(err, ENOMEM, "samples");
    size_t n = 0;
    for (long i = 0; i < samples && !bench_stop; i++) {
        /* untimed: the pool is full again */
        for (int k = 0; k < 3000 && bench_pool_warm(e, SCALE_IMAGE) < size && !bench_stop; k++)
            usleep(2000);
        double ms;
        int status;
        if (bench_run_timed(&c, &ms, &status) == 0)
            v[n++] = ms;
    }
    wr_stats_summarize(v, n, out);
    return n > 0 ? 0 : wr_error_set(err, 0, "no warm activation succeeded at pool size %ld", size);
}

int bench_scale_run(struct bench_env *e, const long *sizes, size_t n_sizes, long samples,
                    long mem_base_kb, struct bench_scale_step *out, wr_error *err)
{
    for (size_t i = 0; i < n_sizes && !bench_stop; i++) {
        struct bench_scale_step *s = &out[i];
        *s = (struct bench_scale_step){.size = sizes[i]};
        bench_progress("filling the pool to %ld", sizes[i]);
        int64_t t0 = bench_now_ns();
        if (bench_pool_fill(e, SCALE_IMAGE, sizes[i], FILL_TIMEOUT_S, err) < 0)
            return -1;
        s->fill_s = (double)(bench_now_ns() - t0) / 1e9;
        usleep(500000); /* let the last fills' page cache and slab settle */
        struct pss_sum sum = {0};
        wr_state_scan(e->state, add_pss, &sum);
        s->containers = sum.containers;
        s->pss_kb = sum.kb;
        long avail = bench_mem_available_kb();
        s->mem_kb =
            mem_base_kb > 0 && avail > 0 ? mem_base_kb - avail : 0; /* noisy: the whole host */
        bench_progress("pool %ld: full in %.2f s; %zu containers, PSS %ld kB each", sizes[i],
                       s->fill_s, s->containers,
                       s->containers ? s->pss_kb / (long)s->containers : 0);
        if (activation_samples(e, sizes[i], samples, &s->act, err) < 0)
            return -1;
    }
    return 0;
}

void bench_scale_print(const struct bench_scale_step *s, size_t n)
{
    printf("\nwarmrun bench scale: pool of busybox; PSS = shim + stopped pid 1 "
           "(smaps_rollup); mem = MemAvailable drop\n");
    printf("%7s %9s %11s %10s %11s %12s %9s %9s\n", "pool", "fill s", "ms/contnr", "containers",
           "PSS kB/c", "mem kB/c", "act p50", "act p99");
    long prev = 0;
    for (size_t i = 0; i < n; i++) {
        long grown = s[i].size - prev;
        prev = s[i].size;
        long c = s[i].containers ? (long)s[i].containers : 1;
        printf("%7ld %9.2f %11.2f %10zu %11ld %12ld %9.2f %9.2f\n", s[i].size, s[i].fill_s,
               grown > 0 ? s[i].fill_s * 1000.0 / (double)grown : 0.0, s[i].containers,
               s[i].pss_kb / c, s[i].mem_kb / c, s[i].act.median, s[i].act.p99);
    }
}

json_t *bench_scale_json(const struct bench_scale_step *s, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++) {
        long c = s[i].containers ? (long)s[i].containers : 1;
        json_array_append_new(
            a, json_pack("{s:i, s:f, s:i, s:i, s:i, s:i, s:{s:i, s:f, s:f, s:f}}", "pool",
                         (json_int_t)s[i].size, "fill_s", s[i].fill_s, "containers",
                         (json_int_t)s[i].containers, "pss_kb_total", (json_int_t)s[i].pss_kb,
                         "pss_kb_per_container", (json_int_t)(s[i].pss_kb / c),
                         "mem_available_drop_kb", (json_int_t)s[i].mem_kb, "activation", "n",
                         (json_int_t)s[i].act.n, "median_ms", s[i].act.median, "p95_ms",
                         s[i].act.p95, "p99_ms", s[i].act.p99));
    }
    return a;
}

int bench_cmd_scale(const char *bindir, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"pool", required_argument, NULL, 'p'},
        {"steps", required_argument, NULL, 's'},
        {"samples", required_argument, NULL, 'n'},
        {"json", required_argument, NULL, 'j'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    static const char usage[] = "usage: warmrun bench scale --pool N [--steps A,B,...] "
                                "[--samples K] [--json FILE] [--quiet]";
    long pool = 100, samples = 20;
    const char *steps_arg = NULL, *json_path = NULL;
    bool bad = false;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
        if (c == 'p') {
            pool = bench_parse_count("--pool", optarg, 1, WR_POOL_SIZE_MAX, &bad);
        } else if (c == 'n') {
            samples = bench_parse_count("--samples", optarg, 1, 10000, &bad);
        } else if (c == 's') {
            steps_arg = optarg;
        } else if (c == 'j') {
            json_path = optarg;
        } else if (c == 'q') {
            bench_quiet = true;
        } else if (c == 'h') {
            printf("%s\n", usage);
            return BENCH_EXIT_OK;
        } else {
            bad = true;
        }
    }
    long sizes[MAX_STEPS];
    size_t n = 0;
    if (!bad && steps_arg) {
        const char *p = steps_arg;
        while (*p && !bad) {
            char *end;
            errno = 0;
            long v = strtol(p, &end, 10);
            if (errno || end == p || v < 1 || v > pool || n == MAX_STEPS ||
                (n > 0 && v <= sizes[n - 1]) || (*end && *end != ',')) {
                bench_msg("--steps: expected up to %d increasing sizes in 1..%ld (the --pool), "
                          "got \"%s\"",
                          MAX_STEPS, pool, steps_arg);
                bad = true;
                break;
            }
            sizes[n++] = v;
            p = *end ? end + 1 : end;
        }
    } else if (!bad) {
        for (long v = 1; v < pool && n < MAX_STEPS - 1; v *= 10)
            sizes[n++] = v;
    }
    if (!bad && (n == 0 || sizes[n - 1] != pool)) {
        if (n == MAX_STEPS)
            n--;
        sizes[n++] = pool;
    }
    if (bad || optind < argc) {
        bench_msg("%s", usage);
        return BENCH_EXIT_USAGE;
    }
    struct bench_env e;
    wr_error err = {0};
    long base = bench_mem_available_kb();
    if (bench_env_start(&e, bindir) < 0)
        return BENCH_EXIT_FAILED;
    struct bench_scale_step steps[MAX_STEPS];
    int rc = BENCH_EXIT_OK;
    if (bench_scale_run(&e, sizes, n, samples, base, steps, &err) < 0) {
        bench_msg("%s", err.msg);
        rc = BENCH_EXIT_FAILED;
    }
    size_t done = 0;
    while (done < n && steps[done].act.n > 0)
        done++;
    bench_progress("stopping the daemon and its %ld warm containers", sizes[n - 1]);
    bench_env_cleanup(&e);
    if (bench_stop) {
        bench_msg("interrupted; nothing left behind");
        return BENCH_EXIT_SIGNAL;
    }
    bench_scale_print(steps, done);
    if (json_path && done > 0) {
        json_t *root = json_pack("{s:s, s:i, s:o}", "schema", "warmrun-bench-scale/1", "pool",
                                 (json_int_t)pool, "steps", bench_scale_json(steps, done));
        if (bench_write_json(root, json_path, &err) < 0) {
            bench_msg("%s", err.msg);
            rc = BENCH_EXIT_FAILED;
        }
        json_decref(root);
    }
    return rc;
}
