/* `warmrun bench load` (k6-style): C client threads, each running `warmrun
 * activate -v busybox -- /bin/true` back to back for S seconds, with the
 * pool refilling behind; the activations per second, latency percentiles
 * per second, the share of cold starts (from -v), the pool depth sampled
 * every 100 ms, and the CPU of the daemon and of its shims and containers
 * (/proc/<daemon>/stat: its own time, and that of its reaped children). */
#include "bench_load.h"

#include "bench_json.h"
#include "bench_subcommands.h"
#include "lib/cleanup.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <pthread.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#define LOAD_IMAGE        "busybox"
#define POOL_SAMPLE_MS    100
#define MAX_CONCURRENCY   256
#define MAX_DURATION_S    3600
#define DEFAULT_POOL_SIZE 8

extern char **environ;

struct load_sample {
    int64_t end_ns;
    double ms;
    bool ok, cold;
};

struct worker {
    pthread_t thread;
    const struct bench_env *e;
    int64_t deadline;
    struct load_sample *v;
    size_t n, cap;
};

/* How `bench load` runs (its options; bench score uses the defaults). */
static struct {
    bool no_cold;  /* --no-cold: activations never cold (they may wait for a fill) */
    bool bare;     /* --bare: /bin/true on the host, the same harness: the reference */
    long warmup_s; /* --warmup: untimed load before each level */
    long max;      /* --max: the pool sized by demand, from --pool up to this */
} load_mode;

/* The first failure's last stderr line (or its wait status), for the
 * report: a count alone does not say what failed. */
static pthread_mutex_t first_error_lock = PTHREAD_MUTEX_INITIALIZER;
static char first_error[256];

static void keep_first_error(char *buf, int status)
{
    size_t len = strlen(buf);
    while (len > 0 && buf[len - 1] == '\n')
        buf[--len] = '\0';
    const char *line = strrchr(buf, '\n');
    line = line ? line + 1 : buf;
    pthread_mutex_lock(&first_error_lock);
    if (!first_error[0]) {
        size_t n = strlen(line);
        if (n >= sizeof first_error)
            n = sizeof first_error - 1; /* cut: the start says what failed */
        memcpy(first_error, line, n);
        first_error[n] = '\0';
        if (!n)
            bench_describe_status(status, first_error, sizeof first_error);
    }
    pthread_mutex_unlock(&first_error_lock);
}

static bool activate_once(const struct bench_env *e, struct load_sample *s)
{
    char *argv[] = {(char *)e->warmrun,  (char *)"--root",
                    (char *)e->store,    (char *)"--state-dir",
                    (char *)e->state,    (char *)"--socket",
                    (char *)e->g.socket, (char *)"activate",
                    (char *)"-v",        (char *)(load_mode.no_cold ? "--no-cold" : "-v"),
                    (char *)LOAD_IMAGE,  (char *)"--",
                    (char *)"/bin/true", NULL};
    char *bare_argv[] = {(char *)"/bin/true", NULL};
    const char *path = load_mode.bare ? "/bin/true" : e->warmrun;
    char **args = load_mode.bare ? bare_argv : argv;
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0)
        return false;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, p[1], 2);
    pid_t pid;
    int64_t t0 = bench_now_ns();
    int rc = posix_spawn(&pid, path, &fa, NULL, args, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(p[1]);
    if (rc != 0) {
        close(p[0]);
        return false;
    }
    char buf[2048];
    size_t len = 0;
    for (;;) {
        ssize_t n = read(p[0], buf + len, sizeof buf - 1 - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        len += (size_t)n;
        if (len == sizeof buf - 1)
            len = 0; /* keep reading; only the last part matters */
    }
    buf[len] = '\0';
    close(p[0]);
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    s->end_ns = bench_now_ns();
    s->ms = (double)(s->end_ns - t0) / 1e6;
    s->ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    s->cold = strstr(buf, "warmrun: cold") != NULL;
    if (!s->ok)
        keep_first_error(buf, status);
    return true;
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    while (!bench_stop && bench_now_ns() < w->deadline) {
        if (w->n == w->cap) {
            size_t cap = w->cap ? w->cap * 2 : 1024;
            struct load_sample *v = realloc(w->v, cap * sizeof *v);
            if (!v)
                break;
            w->v = v;
            w->cap = cap;
        }
        if (activate_once(w->e, &w->v[w->n]))
            w->n++;
    }
    return NULL;
}

struct pool_point {
    int64_t t_ns;
    long warm;
};

static void sleep_until(int64_t t_ns)
{
    int64_t now = bench_now_ns();
    if (t_ns > now) {
        struct timespec ts = {.tv_sec = (t_ns - now) / 1000000000,
                              .tv_nsec = (t_ns - now) % 1000000000};
        nanosleep(&ts, NULL);
    }
}

static double children_cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_CHILDREN, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static json_t *summary_json(const struct wr_stats_summary *s)
{
    if (s->n == 0)
        return json_null();
    return json_pack("{s:f, s:f, s:f, s:f, s:f}", "median_ms", s->median, "p95_ms", s->p95,
                     "p99_ms", s->p99, "mean_ms", s->mean, "max_ms", s->max);
}

/* Starts up to n client threads running until deadline; how many started. */
static long start_workers(struct worker *w, long n, const struct bench_env *e, int64_t deadline)
{
    long started = 0;
    for (; started < n; started++) {
        w[started].e = e;
        w[started].deadline = deadline;
        if (pthread_create(&w[started].thread, NULL, worker_main, &w[started]) != 0)
            break;
    }
    return started;
}

/* The pool, fixed at pool, or (--max) by demand from pool to the max; full
 * at its size before the load starts. */
static int prepare_pool(const struct bench_env *e, long pool, wr_error *err)
{
    if (load_mode.max <= 0)
        return bench_pool_fill(e, LOAD_IMAGE, pool, 300, err);
    struct wr_request req = {
        .op = WR_OP_POOL_CREATE,
        .image = (char *)LOAD_IMAGE,
        .size = pool,
        .autoscale = {.on = true, .min = pool, .max = load_mode.max, .idle_ttl_s = 60},
    };
    struct wr_reply r;
    if (bench_call(e, &req, &r, err) < 0)
        return wr_error_prefix(err, "pool create --min %ld --max %ld", pool, load_mode.max);
    wr_reply_free(&r);
    for (int i = 0; i < 30000 && bench_pool_warm(e, LOAD_IMAGE) < pool; i++) {
        if (bench_stop)
            return wr_error_set(err, EINTR, "interrupted");
        usleep(10000);
    }
    return 0;
}

/* --warmup: the same clients, untimed, for warmup_s (the pool's autoscale
 * learns the rate). */
static int warm_up(const struct bench_env *e, long concurrency, wr_error *err)
{
    cleanup_free struct worker *w = calloc((size_t)concurrency, sizeof *w);
    if (!w)
        return wr_error_set(err, ENOMEM, "warm-up");
    int64_t deadline = bench_now_ns() + (int64_t)load_mode.warmup_s * 1000000000;
    long started = start_workers(w, concurrency, e, deadline);
    for (long i = 0; i < started; i++) {
        pthread_join(w[i].thread, NULL);
        free(w[i].v);
    }
    return 0;
}

/* ms of CPU per successful activation of the processes the level measured
 * (daemon, shims with their containers and workloads, clients; with --bare
 * the clients are the /bin/true processes): what the other processes of a
 * shared machine use does not enter it, kworkers and softirqs neither. */
static double cpu_ms_per_activation(const struct bench_load_result *r)
{
    double cpus = (r->daemon_cpu_pct + r->shims_cpu_pct + r->clients_cpu_pct) / 100.0;
    return r->rate > 0 ? 1000.0 * cpus / r->rate : 0.0;
}

int bench_load_run(struct bench_env *e, long concurrency, long duration_s, long pool,
                   bool print_seconds, struct bench_load_result *r, wr_error *err)
{
    *r = (struct bench_load_result){.concurrency = concurrency, .duration_s = (double)duration_s};
    if (!load_mode.bare && prepare_pool(e, pool, err) < 0)
        return -1;
    if (load_mode.warmup_s > 0 && warm_up(e, concurrency, err) < 0)
        return -1;
    first_error[0] = '\0'; /* the warm-up's failures are not counted either */
    size_t n_points = (size_t)(duration_s * 1000 / POOL_SAMPLE_MS) + 2;
    cleanup_free struct pool_point *points = calloc(n_points, sizeof *points);
    cleanup_free struct worker *w = calloc((size_t)concurrency, sizeof *w);
    if (!points || !w)
        return wr_error_set(err, ENOMEM, "load");
    double d_self0 = 0, d_child0 = 0, d_self1 = 0, d_child1 = 0;
    bench_proc_cpu(e->daemon_pid, &d_self0, &d_child0);
    /* The shim server is never reaped during a run: its time (its forks,
     * the shims' start) is read on its own. */
    pid_t server = bench_shim_server_pid(e->daemon_pid);
    double s_self0 = 0, s_self1 = 0, unused = 0;
    if (server > 0 && bench_proc_cpu(server, &s_self0, &unused) < 0)
        server = 0;
    double c0 = children_cpu_s();
    int64_t t_start = bench_now_ns();
    int64_t deadline = t_start + (int64_t)duration_s * 1000000000;
    long started = start_workers(w, concurrency, e, deadline);
    size_t np = 0;
    for (int64_t t = t_start; t < deadline && !bench_stop && np < n_points;
         t += POOL_SAMPLE_MS * 1000000) {
        sleep_until(t);
        points[np].t_ns = bench_now_ns() - t_start;
        points[np++].warm = bench_pool_warm(e, LOAD_IMAGE);
    }
    for (long i = 0; i < started; i++)
        pthread_join(w[i].thread, NULL);
    double elapsed = (double)(bench_now_ns() - t_start) / 1e9;
    bench_proc_cpu(e->daemon_pid, &d_self1, &d_child1);
    if (server > 0 && bench_proc_cpu(server, &s_self1, &unused) < 0)
        s_self1 = s_self0; /* it died meanwhile: its time went to the daemon's children */
    double c1 = children_cpu_s();
    r->duration_s = elapsed;
    r->daemon_cpu_pct = 100.0 * (d_self1 - d_self0) / elapsed;
    r->shims_cpu_pct = 100.0 * (d_child1 - d_child0 + s_self1 - s_self0) / elapsed;
    r->clients_cpu_pct = 100.0 * (c1 - c0) / elapsed;

    /* merge */
    size_t total = 0;
    for (long i = 0; i < started; i++)
        total += w[i].n;
    cleanup_free double *lat = malloc((total ? total : 1) * sizeof *lat);
    cleanup_free struct load_sample *all = malloc((total ? total : 1) * sizeof *all);
    if (!lat || !all)
        return wr_error_set(err, ENOMEM, "load");
    size_t k = 0;
    for (long i = 0; i < started; i++) {
        memcpy(all + k, w[i].v, w[i].n * sizeof *all);
        k += w[i].n;
        free(w[i].v);
    }
    size_t n_ok = 0;
    for (size_t i = 0; i < total; i++) {
        if (all[i].ok)
            lat[n_ok++] = all[i].ms;
        else
            r->failed++;
        r->cold += all[i].ok && all[i].cold;
    }
    r->ok = n_ok;
    r->rate = (double)n_ok / elapsed;
    wr_stats_summarize(lat, n_ok, &r->latency);
    r->pool_min = LONG_MAX;
    for (size_t i = 0; i < np; i++) {
        r->pool_min = points[i].warm < r->pool_min ? points[i].warm : r->pool_min;
        r->pool_max = points[i].warm > r->pool_max ? points[i].warm : r->pool_max;
    }
    if (np == 0)
        r->pool_min = 0;

    /* per second */
    json_t *secs = json_array();
    long n_secs =
        duration_s; /* a last activation ending after the deadline is counted in the rate only */
    if (print_seconds) {
        printf("\nconcurrency %ld, %.1f s, pool %ld:\n", concurrency, elapsed, pool);
        printf("%6s %6s %9s %9s %6s %9s\n", "second", "n", "p50 ms", "p99 ms", "cold", "pool min");
    }
    for (long s = 0; s < n_secs; s++) {
        size_t m = 0, cold = 0;
        for (size_t i = 0; i < total; i++) {
            long sec = (long)((all[i].end_ns - t_start) / 1000000000);
            if (sec == s && all[i].ok) {
                lat[m++] = all[i].ms;
                cold += all[i].cold;
            }
        }
        struct wr_stats_summary ss;
        wr_stats_summarize(lat, m, &ss);
        long pmin = -1;
        json_t *depth = json_array();
        for (size_t i = 0; i < np; i++)
            if (points[i].t_ns / 1000000000 == s) {
                json_array_append_new(depth, json_integer(points[i].warm));
                if (pmin < 0 || points[i].warm < pmin)
                    pmin = points[i].warm;
            }
        if (print_seconds)
            printf("%6ld %6zu %9.2f %9.2f %6zu %9ld\n", s, m, ss.median, ss.p99, cold, pmin);
        json_t *js = json_pack("{s:i, s:i, s:i, s:o, s:o}", "second", (json_int_t)s, "activations",
                               (json_int_t)m, "cold", (json_int_t)cold, "latency",
                               summary_json(&ss), "pool_depth", depth);
        json_array_append_new(secs, js);
    }
    r->json = json_pack(
        "{s:i, s:f, s:i, s:i, s:i, s:f, s:f, s:o, s:{s:f, s:f, s:f}, s:{s:i, s:i}, s:o}",
        "concurrency", (json_int_t)concurrency, "duration_s", elapsed, "activations",
        (json_int_t)r->ok, "failed", (json_int_t)r->failed, "cold", (json_int_t)r->cold,
        "activations_per_s", r->rate, "cold_share", r->ok ? (double)r->cold / (double)r->ok : 0.0,
        "latency", summary_json(&r->latency), "cpu_pct", "daemon", r->daemon_cpu_pct,
        "shims_and_containers", r->shims_cpu_pct, "clients", r->clients_cpu_pct, "pool_depth",
        "min", (json_int_t)r->pool_min, "max", (json_int_t)r->pool_max, "seconds", secs);
    if (r->json)
        json_object_set_new(r->json, "cpu_ms_per_activation", json_real(cpu_ms_per_activation(r)));
    snprintf(r->first_error, sizeof r->first_error, "%s", first_error);
    if (r->json && first_error[0])
        json_object_set_new(r->json, "first_error", json_string(first_error));
    first_error[0] = '\0';
    return 0;
}

void bench_load_print(const struct bench_load_result *r)
{
    printf("%11ld %8zu %8.1f %6zu %6.1f%% %8.2f %8.2f %8.2f %7.1f%% %7.1f%% %7.1f%% %4ld-%-4ld "
           "%8.3f\n",
           r->concurrency, r->ok, r->rate, r->failed,
           r->ok ? 100.0 * (double)r->cold / (double)r->ok : 0.0, r->latency.median, r->latency.p95,
           r->latency.p99, r->daemon_cpu_pct, r->shims_cpu_pct, r->clients_cpu_pct, r->pool_min,
           r->pool_max, cpu_ms_per_activation(r));
    if (r->first_error[0])
        printf("%11s first failure: %s\n", "", r->first_error);
}

/* "1,2,4,8" */
static int parse_levels(const char *s, long *v, size_t max, size_t *n)
{
    *n = 0;
    const char *p = s;
    while (*p) {
        char *end;
        errno = 0;
        long x = strtol(p, &end, 10);
        if (errno || end == p || x < 1 || x > MAX_CONCURRENCY || *n == max || (*end && *end != ','))
            return -1;
        v[(*n)++] = x;
        p = *end ? end + 1 : end;
        if (*end == ',' && !*p)
            return -1;
    }
    return *n ? 0 : -1;
}

int bench_cmd_load(const char *bindir, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"concurrency", required_argument, NULL, 'c'},
        {"duration", required_argument, NULL, 'd'},
        {"pool", required_argument, NULL, 'p'},
        {"json", required_argument, NULL, 'j'},
        {"quiet", no_argument, NULL, 'q'},
        {"no-cold", no_argument, NULL, 'n'},
        {"bare", no_argument, NULL, 'b'},
        {"warmup", required_argument, NULL, 'w'},
        {"max", required_argument, NULL, 'm'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    static const char usage[] = "usage: warmrun bench load [--concurrency C[,C...]] [--duration S] "
                                "[--pool N] [--max M] [--warmup S] [--no-cold] [--bare] "
                                "[--json FILE] [--quiet]";
    long levels[16] = {1, 2, 4, 8};
    size_t n_levels = 4;
    long duration = 10, pool = DEFAULT_POOL_SIZE;
    const char *json_path = NULL;
    bool bad = false;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
        switch (c) {
        case 'c':
            if (parse_levels(optarg, levels, 16, &n_levels) < 0) {
                bench_msg("--concurrency: expected up to 16 integers in 1..%d, comma-separated, "
                          "got \"%s\"",
                          MAX_CONCURRENCY, optarg);
                bad = true;
            }
            break;
        case 'd':
            duration = bench_parse_count("--duration", optarg, 1, MAX_DURATION_S, &bad);
            break;
        case 'p':
            pool = bench_parse_count("--pool", optarg, 1, WR_POOL_SIZE_MAX, &bad);
            break;
        case 'j':
            json_path = optarg;
            break;
        case 'q':
            bench_quiet = true;
            break;
        case 'n':
            load_mode.no_cold = true;
            break;
        case 'b':
            load_mode.bare = true;
            break;
        case 'w':
            load_mode.warmup_s = bench_parse_count("--warmup", optarg, 0, MAX_DURATION_S, &bad);
            break;
        case 'm':
            load_mode.max = bench_parse_count("--max", optarg, 1, WR_POOL_SIZE_MAX, &bad);
            break;
        case 'h':
            printf("%s\n", usage);
            return BENCH_EXIT_OK;
        default:
            bad = true;
        }
    }
    if (!bad && load_mode.max > 0 && load_mode.max < pool) {
        bench_msg("--max %ld is below --pool %ld (the pool's min)", load_mode.max, pool);
        bad = true;
    }
    if (bad || optind < argc) {
        bench_msg("%s", usage);
        return BENCH_EXIT_USAGE;
    }
    struct bench_env e;
    wr_error err = {0};
    if (bench_env_start(&e, bindir) < 0)
        return BENCH_EXIT_FAILED;
    struct bench_load_result res[16];
    size_t done = 0;
    int rc = BENCH_EXIT_OK;
    for (size_t i = 0; i < n_levels && !bench_stop; i++) {
        bench_progress("concurrency %ld for %ld s (pool %ld)", levels[i], duration, pool);
        if (bench_load_run(&e, levels[i], duration, pool, true, &res[done], &err) < 0) {
            bench_msg("concurrency %ld: %s", levels[i], err.msg);
            rc = BENCH_EXIT_FAILED;
            break;
        }
        done++;
    }
    bench_env_cleanup(&e);
    if (bench_stop) {
        bench_msg("interrupted; nothing left behind");
        rc = BENCH_EXIT_SIGNAL;
    }
    char sizing[64] = "";
    if (load_mode.max > 0)
        snprintf(sizing, sizeof sizing, ", by demand up to %ld", load_mode.max);
    printf("\nwarmrun bench load: %s, back to back; pool %ld%s; CPU in %% of one CPU\n",
           load_mode.bare      ? "/bin/true on the host (--bare)"
           : load_mode.no_cold ? "warmrun activate -v --no-cold busybox -- /bin/true"
                               : "warmrun activate -v busybox -- /bin/true",
           pool, sizing);
    printf("%11s %8s %8s %6s %7s %8s %8s %8s %8s %8s %8s %-9s %s\n", "concurrency", "ok", "per s",
           "failed", "cold", "p50 ms", "p95 ms", "p99 ms", "daemon", "shims", "clients", "pool",
           "CPU ms/act");
    json_t *levels_json = json_array();
    for (size_t i = 0; i < done; i++) {
        bench_load_print(&res[i]);
        json_array_append_new(levels_json, res[i].json);
    }
    if (json_path && done > 0) {
        json_t *root =
            json_pack("{s:s, s:i, s:i, s:b, s:b, s:i, s:o}", "schema", "warmrun-bench-load/1",
                      "pool", (json_int_t)pool, "max", (json_int_t)load_mode.max, "no_cold",
                      load_mode.no_cold, "bare", load_mode.bare, "warmup_s",
                      (json_int_t)load_mode.warmup_s, "levels", levels_json);
        if (bench_write_json(root, json_path, &err) < 0) {
            bench_msg("%s", err.msg);
            rc = BENCH_EXIT_FAILED;
        }
        json_decref(root);
    } else {
        json_decref(levels_json);
    }
    return rc;
}
