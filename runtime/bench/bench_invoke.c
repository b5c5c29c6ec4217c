/* `warmrun bench invoke`: the cost of invoking a warm function, for a Node
 * handler that returns a constant (scripts/lambda/index.mjs behind AWS's
 * aws-lambda-ric, the lambda-node image of scripts/make-lambda-images):
 *
 *  - whole-process latency, interleaved round by round: `warmrun invoke`,
 *    `warmrun activate --no-cold --entrypoint node IMAGE -- -e ...` (the
 *    same handler run once by a node started for it, in a warm container)
 *    and `docker run --rm` of the same image doing the same (a private
 *    dockerd with --setup, or --docker-host; skipped with its reason);
 *  - the Lambda Invoke API on the daemon's --http with a keep-alive client
 *    (libcurl: one easy handle keeps its connection);
 *  - invocations/s at concurrency 1, 2, 4, 8 (one thread and connection
 *    each), with reuse and with --fresh;
 *  - the proportional set size of an initialised environment (every
 *    process of its freezer cgroup, smaps_rollup).
 *
 * Private store, state, daemon and Docker image, removed at the end. */
#include "bench.h"
#include "bench_json.h"
#include "bench_peers.h"
#include "bench_subcommands.h"

#include "lib/cgroup.h"
#include "lib/cleanup.h"
#include "lib/stats.h"

#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define IMAGE          "lambda-node"
#define REUSE_FN       "bench-reuse"
#define FRESH_FN       "bench-fresh"
#define REUSE_ENVS     8
#define FRESH_MIN      4
#define MAX_CONC       8
#define IDLE_TIMEOUT_S 120
/* The handler once, by a node started for it (the "warm activate … node"
 * of the issue): what a function costs without a kept runtime. */
#define NODE_ONCE                                                                                  \
    "import('/var/task/index.mjs').then(m => m.handler({})).then(r => "                            \
    "console.log(JSON.stringify(r)))"

struct opts {
    long rounds, warmup, seconds;
    const char *images, *json, *docker_host;
    bool setup, no_docker;
};

/* The CLI's argv: warmrun --root S --state-dir D --socket K then words. */
static void cli_argv(const struct bench_env *e, char **argv, size_t max, char *const words[])
{
    size_t i = 0;
    argv[i++] = (char *)e->warmrun;
    argv[i++] = (char *)"--root";
    argv[i++] = (char *)e->store;
    argv[i++] = (char *)"--state-dir";
    argv[i++] = (char *)e->state;
    argv[i++] = (char *)"--socket";
    argv[i++] = (char *)e->g.socket;
    for (size_t k = 0; words[k] && i + 1 < max; k++)
        argv[i++] = words[k];
    argv[i] = NULL;
}

static int run_cli(const struct bench_env *e, char *const words[], wr_error *err)
{
    char *argv[32];
    cli_argv(e, argv, 32, words);
    char log[PATH_MAX + 16];
    bench_path(log, sizeof log, "%s/cli.log", e->dir);
    cleanup_close int fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    int st = bench_run_quiet(argv, fd);
    if (st != 0) {
        char line[256] = "";
        cleanup_close int rd = open(log, O_RDONLY | O_CLOEXEC);
        if (rd >= 0)
            bench_last_line(rd, line, sizeof line);
        return wr_error_set(err, 0, "warmrun %s %s: %s", words[0], words[1] ? words[1] : "", line);
    }
    return 0;
}

/* The image: --images DIR (docker-save directories), else made by the
 * repository's scripts/make-lambda-images next to bindir (cached under
 * /var/cache/warmrun after its first run). */
static int image_prepare(const struct bench_env *e, const struct opts *o, char *dir, size_t size,
                         wr_error *err)
{
    if (o->images) {
        bench_path(dir, size, "%s/" IMAGE, o->images);
    } else {
        char script[PATH_MAX + 64], out[PATH_MAX + 16];
        bench_path(script, sizeof script, "%s/../scripts/make-lambda-images", e->bindir);
        bench_path(out, sizeof out, "%s/images", e->dir);
        if (access(script, X_OK) != 0)
            return wr_error_set(err, 0, "%s not found: give --images DIR", script);
        bench_progress("making the function image (scripts/make-lambda-images)");
        char *argv[] = {script, out, NULL};
        char log[PATH_MAX + 16];
        bench_path(log, sizeof log, "%s/images.log", e->dir);
        cleanup_close int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (bench_run_quiet(argv, fd) != 0)
            return wr_error_set(err, 0, "make-lambda-images failed (see %s)", log);
        bench_path(dir, size, "%s/" IMAGE, out);
    }
    char tool[PATH_MAX + 16];
    bench_path(tool, sizeof tool, "%s/warmrun-image", e->bindir);
    char *argv[] = {tool, (char *)"--root", (char *)e->store, (char *)"import", dir, NULL};
    if (bench_run_quiet(argv, -1) != 0)
        return wr_error_set(err, 0, "warmrun-image import %s failed", dir);
    return 0;
}

/* The port the daemon's --http took ("http: listening on ... (port N)"). */
static long http_port(const struct bench_env *e)
{
    char path[PATH_MAX + 16], buf[65536];
    bench_path(path, sizeof path, "%s/daemon.log", e->dir);
    for (int i = 0; i < 250 && !bench_stop; i++) {
        cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
        ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;
        if (n > 0) {
            buf[n] = '\0';
            const char *p = strstr(buf, "http: listening on ");
            if (p && (p = strstr(p, "(port ")))
                return strtol(p + 6, NULL, 10);
        }
        usleep(20000);
    }
    return -1;
}

static long idle_of(const struct bench_env *e, const char *name)
{
    struct wr_request req = {.op = WR_OP_FUNCTION_LS};
    struct wr_reply r;
    wr_error err;
    if (bench_call(e, &req, &r, &err) < 0)
        return -1;
    long idle = -1;
    for (size_t i = 0; i < r.n_functions; i++)
        if (strcmp(r.functions[i].name, name) == 0)
            idle = r.functions[i].idle;
    wr_reply_free(&r);
    return idle;
}

static int wait_idle(const struct bench_env *e, const char *name, long n, wr_error *err)
{
    for (int i = 0; i < IDLE_TIMEOUT_S * 10 && !bench_stop; i++) {
        if (idle_of(e, name) >= n)
            return 0;
        usleep(100000);
    }
    return wr_error_set(err, ETIMEDOUT, "function %s: %ld idle environments not reached", name, n);
}

/* PSS of every process of each freezer cgroup of this daemon's scope
 * (one per environment), kB; *envs the environments counted. */
static long environments_pss(const struct bench_env *e, long *envs)
{
    static const char *const roots[] = {"/sys/fs/cgroup/freezer/warmrun-functions",
                                        "/sys/fs/cgroup/unified/warmrun-functions",
                                        "/sys/fs/cgroup/warmrun-functions"};
    char scope[16];
    wr_cgroup_scope(e->state, scope);
    long kb = 0;
    *envs = 0;
    for (size_t r = 0; r < sizeof roots / sizeof roots[0]; r++) {
        char dir[PATH_MAX];
        bench_path(dir, sizeof dir, "%s/%s", roots[r], scope);
        cleanup_closedir DIR *d = opendir(dir);
        struct dirent *de;
        while (d && (de = readdir(d))) {
            if (de->d_name[0] == '.' || de->d_type != DT_DIR)
                continue;
            char procs[PATH_MAX + 300];
            bench_path(procs, sizeof procs, "%s/%s/cgroup.procs", dir, de->d_name);
            FILE *f = fopen(procs, "re");
            if (!f)
                continue;
            long pid, n = 0;
            while (fscanf(f, "%ld", &pid) == 1) {
                long p = bench_proc_pss_kb((pid_t)pid);
                if (p > 0) {
                    kb += p;
                    n++;
                }
            }
            fclose(f);
            *envs += n > 0;
        }
    }
    return kb;
}

/* ---- whole-process runs ----------------------------------------------------- */

enum { RUN_INVOKE, RUN_ACTIVATE, RUN_DOCKER, RUN_N };
static const char *const run_names[RUN_N] = {"invoke", "activate_node", "docker_run"};

static int docker_prepare(struct bench_env *e, const struct opts *o, struct bench_peers *p,
                          const char *image_dir, char *tag, size_t tag_size, wr_error *err)
{
    if (bench_docker_prepare(e, p, o->setup, o->docker_host, err) < 0)
        return -1;
    char tar[PATH_MAX + 16];
    bench_path(tar, sizeof tar, "%s/lambda-node.tar", e->dir);
    char *tar_argv[] = {(char *)"tar", (char *)"-C", (char *)image_dir, (char *)"-cf", tar,
                        (char *)".",   NULL};
    if (bench_run_quiet(tar_argv, -1) != 0)
        return wr_error_set(err, 0, "tar of %s failed", image_dir);
    char *load[] = {
        (char *)"docker", (char *)"-H", p->docker_host, (char *)"load", (char *)"-i", tar, NULL};
    if (bench_run_quiet(load, -1) != 0)
        return wr_error_set(err, 0, "docker load of %s failed", tar);
    unlink(tar);
    /* A tag of this run's own, so that the host's images are not touched. */
    bench_path(tag, tag_size, "warmrun-bench-lambda:%d", (int)getpid());
    char *t[] = {(char *)"docker",
                 (char *)"-H",
                 p->docker_host,
                 (char *)"tag",
                 (char *)IMAGE ":latest",
                 tag,
                 NULL};
    if (bench_run_quiet(t, -1) != 0)
        return wr_error_set(err, 0, "docker tag failed");
    char *rmi[] = {(char *)"docker",        (char *)"-H", p->docker_host, (char *)"rmi",
                   (char *)IMAGE ":latest", NULL};
    (void)bench_run_quiet(rmi, -1);
    return 0;
}

/* Interleaved: round k runs each command once, so that the machine's
 * drifts hit them alike. */
static int whole_process(const struct bench_env *e, const struct opts *o, char **argvs[RUN_N],
                         struct wr_stats_summary out[RUN_N], char failed[RUN_N][200])
{
    cleanup_free double *v = calloc((size_t)(RUN_N * o->rounds), sizeof *v);
    if (!v)
        return -1;
    size_t n[RUN_N] = {0};
    for (long r = -o->warmup; r < o->rounds && !bench_stop; r++) {
        if (r == 0 || (r > 0 && r % 50 == 0))
            bench_progress("whole-process round %ld of %ld", r, o->rounds);
        for (int k = 0; k < RUN_N; k++) {
            if (!argvs[k] || failed[k][0])
                continue;
            struct bench_cmd c = {.argv = argvs[k], .mntns_fd = -1, .stderr_fd = -1};
            c.path = bench_which(argvs[k][0]);
            double ms;
            int st;
            int rc = c.path ? bench_run_timed(&c, &ms, &st) : -1;
            free(c.path);
            if (rc < 0) {
                char what[64] = "not found";
                if (c.path)
                    bench_describe_status(st, what, sizeof what);
                snprintf(failed[k], 200, "%s failed: %s", run_names[k], what);
                bench_msg("%s", failed[k]);
            } else if (r >= 0) {
                v[k * o->rounds + (long)n[k]++] = ms;
            }
        }
    }
    (void)e;
    for (int k = 0; k < RUN_N; k++)
        wr_stats_summarize(v + k * o->rounds, n[k], &out[k]);
    return 0;
}

/* ---- HTTP ------------------------------------------------------------------- */

static size_t discard(char *p, size_t size, size_t n, void *ctx)
{
    (void)p;
    (void)ctx;
    return size * n;
}

static CURL *http_client(const char *url)
{
    CURL *c = curl_easy_init();
    if (!c)
        return NULL;
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, "{}");
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(c, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    return c;
}

/* One invocation on c's kept connection: 0 on 200. */
static int http_invoke(CURL *c)
{
    long code = 0;
    if (curl_easy_perform(c) != CURLE_OK)
        return -1;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    return code == 200 ? 0 : -1;
}

/* Sequential invocations on one handle; *conns the connections it opened
 * (1: every request went over the kept connection). */
static int http_latency(const char *url, const struct opts *o, struct wr_stats_summary *out,
                        long *conns)
{
    CURL *c = http_client(url);
    cleanup_free double *v = calloc((size_t)o->rounds, sizeof *v);
    size_t n = 0;
    *conns = 0;
    for (long r = -o->warmup; c && v && r < o->rounds && !bench_stop; r++) {
        int64_t t0 = bench_now_ns();
        long opened = 0;
        if (http_invoke(c) == 0 && r >= 0)
            v[n++] = (double)(bench_now_ns() - t0) / 1e6;
        curl_easy_getinfo(c, CURLINFO_NUM_CONNECTS, &opened); /* by this transfer */
        *conns += opened;
    }
    if (c)
        curl_easy_cleanup(c);
    wr_stats_summarize(v, n, out);
    return n > 0 ? 0 : -1;
}

struct tp_worker {
    pthread_t t;
    const char *url;
    int64_t end_ns;
    long done, errors;
};

static void *tp_run(void *arg)
{
    struct tp_worker *w = arg;
    CURL *c = http_client(w->url);
    while (c && bench_now_ns() < w->end_ns && !bench_stop) {
        if (http_invoke(c) == 0)
            w->done++;
        else
            w->errors++;
    }
    if (c)
        curl_easy_cleanup(c);
    return NULL;
}

struct tp_point {
    const char *mode;
    long concurrency, done, errors;
    double per_s;
};

static void throughput(const char *url, const char *mode, long conc, long seconds,
                       struct tp_point *pt)
{
    struct tp_worker w[MAX_CONC] = {0};
    int64_t end = bench_now_ns() + seconds * 1000000000LL;
    long started = 0;
    for (long i = 0; i < conc; i++) {
        w[i].url = url;
        w[i].end_ns = end;
        if (pthread_create(&w[i].t, NULL, tp_run, &w[i]) != 0)
            break;
        started++;
    }
    *pt = (struct tp_point){.mode = mode, .concurrency = conc};
    for (long i = 0; i < started; i++) {
        pthread_join(w[i].t, NULL);
        pt->done += w[i].done;
        pt->errors += w[i].errors;
    }
    pt->per_s = (double)pt->done / (double)seconds;
    bench_progress("%s, concurrency %ld: %.0f invocations/s (%ld errors)", mode, conc, pt->per_s,
                   pt->errors);
}

/* ---- report ------------------------------------------------------------------ */

static json_t *summary_json(const struct wr_stats_summary *s)
{
    return json_pack("{s:i, s:f, s:f, s:f, s:f}", "n", (json_int_t)s->n, "median_ms", s->median,
                     "p95_ms", s->p95, "p99_ms", s->p99, "mean_ms", s->mean);
}

static double ratio(double a, double b)
{
    return b > 0 && a > 0 ? a / b : NAN;
}

/* A ratio of medians, null when a side was not measured. */
static json_t *ratio_json(double a, double b)
{
    double v = ratio(a, b);
    return isnan(v) ? json_null() : json_real(v);
}

struct result {
    struct wr_stats_summary cli[RUN_N], http;
    char skipped[RUN_N][200];
    struct tp_point tp[8];
    size_t n_tp;
    long envs, pss_kb, http_conns;
    char docker_tag[64]; /* the image loaded into Docker, "" if none */
};

static json_t *result_json(const struct result *r, const struct opts *o)
{
    json_t *cli = json_object(), *tp = json_array();
    for (int k = 0; k < RUN_N; k++)
        json_object_set_new(cli, run_names[k],
                            r->cli[k].n ? summary_json(&r->cli[k])
                                        : json_pack("{s:s}", "skipped", r->skipped[k]));
    for (size_t i = 0; i < r->n_tp; i++)
        json_array_append_new(
            tp, json_pack("{s:s, s:i, s:f, s:i, s:i}", "mode", r->tp[i].mode, "concurrency",
                          (json_int_t)r->tp[i].concurrency, "per_s", r->tp[i].per_s, "invocations",
                          (json_int_t)r->tp[i].done, "errors", (json_int_t)r->tp[i].errors));
    json_t *http = r->http.n ? summary_json(&r->http) : json_null();
    if (r->http.n)
        json_object_set_new(http, "connections", json_integer(r->http_conns));
    json_t *ratios = json_object();
    double h = r->http.median;
    json_object_set_new(ratios, "activate_node_over_http",
                        ratio_json(r->cli[RUN_ACTIVATE].median, h));
    json_object_set_new(ratios, "activate_node_over_invoke",
                        ratio_json(r->cli[RUN_ACTIVATE].median, r->cli[RUN_INVOKE].median));
    json_object_set_new(ratios, "docker_run_over_http", ratio_json(r->cli[RUN_DOCKER].median, h));
    json_object_set_new(ratios, "docker_run_over_invoke",
                        ratio_json(r->cli[RUN_DOCKER].median, r->cli[RUN_INVOKE].median));
    return json_pack("{s:s, s:s, s:i, s:i, s:i, s:o, s:o, s:o, s:o, s:i, s:i}", "schema",
                     "warmrun-bench-invoke/1", "handler",
                     "index.handler of " IMAGE " (returns \"ok\")", "rounds", (json_int_t)o->rounds,
                     "seconds_per_point", (json_int_t)o->seconds, "cpus",
                     (json_int_t)sysconf(_SC_NPROCESSORS_ONLN), "cli", cli, "http_keepalive", http,
                     "ratios", ratios, "throughput", tp, "environments", (json_int_t)r->envs,
                     "pss_kb_per_environment", (json_int_t)(r->envs ? r->pss_kb / r->envs : 0));
}

static void result_print(const struct result *r)
{
    printf("\nwarmrun bench invoke: Node handler returning a constant (%s)\n", IMAGE);
    printf("%-28s %8s %10s %10s\n", "", "n", "p50 ms", "p99 ms");
    for (int k = 0; k < RUN_N; k++) {
        if (r->cli[k].n)
            printf("%-28s %8zu %10.2f %10.2f\n", run_names[k], r->cli[k].n, r->cli[k].median,
                   r->cli[k].p99);
        else
            printf("%-28s skipped: %s\n", run_names[k], r->skipped[k]);
    }
    printf("%-28s %8zu %10.3f %10.3f\n", "http keep-alive", r->http.n, r->http.median, r->http.p99);
    printf("activate … node / http: %.0fx\n", ratio(r->cli[RUN_ACTIVATE].median, r->http.median));
    for (size_t i = 0; i < r->n_tp; i++)
        printf("%-6s concurrency %ld: %8.0f invocations/s (%ld errors)\n", r->tp[i].mode,
               r->tp[i].concurrency, r->tp[i].per_s, r->tp[i].errors);
    printf("PSS per initialised environment: %ld kB (%ld environments)\n",
           r->envs ? r->pss_kb / r->envs : 0, r->envs);
}

static int run(struct bench_env *e, const struct opts *o, struct bench_peers *peers,
               struct result *r, wr_error *err)
{
    char image_dir[PATH_MAX + 32], url[128], fresh_url[128], *tag = r->docker_tag;
    if (image_prepare(e, o, image_dir, sizeof image_dir, err) < 0)
        return -1;
    long port = http_port(e);
    if (port <= 0)
        return wr_error_set(err, 0, "the daemon's --http listener did not come up");
    snprintf(url, sizeof url, "http://127.0.0.1:%ld/2015-03-31/functions/" REUSE_FN "/invocations",
             port);
    snprintf(fresh_url, sizeof fresh_url,
             "http://127.0.0.1:%ld/2015-03-31/functions/" FRESH_FN "/invocations", port);
    char n_reuse[16], n_fresh[16];
    snprintf(n_reuse, sizeof n_reuse, "%d", REUSE_ENVS);
    snprintf(n_fresh, sizeof n_fresh, "%d", FRESH_MIN);
    char *reuse[] = {(char *)"function", (char *)"create", (char *)REUSE_FN,
                     (char *)IMAGE,      (char *)"--min",  n_reuse,
                     (char *)"--max",    n_reuse,          NULL};
    char *fresh[] = {
        (char *)"function", (char *)"create", (char *)FRESH_FN, (char *)IMAGE, (char *)"--fresh",
        (char *)"--min",    n_fresh,          (char *)"--max",  n_reuse,       NULL};
    char *pool[] = {(char *)"pool", (char *)"create", (char *)IMAGE, (char *)"--size",
                    (char *)"2",    (char *)"--wait", NULL};
    bench_progress("creating the functions and the pool of " IMAGE);
    if (run_cli(e, reuse, err) < 0 || run_cli(e, fresh, err) < 0 || run_cli(e, pool, err) < 0 ||
        wait_idle(e, REUSE_FN, REUSE_ENVS, err) < 0 || wait_idle(e, FRESH_FN, FRESH_MIN, err) < 0)
        return -1;
    usleep(500000);
    r->pss_kb = environments_pss(e, &r->envs);

    if (o->no_docker)
        snprintf(r->skipped[RUN_DOCKER], 200, "--no-docker");
    else if (docker_prepare(e, o, peers, image_dir, tag, sizeof r->docker_tag, err) < 0)
        snprintf(r->skipped[RUN_DOCKER], 200, "%.190s", err->msg);
    char *inv[40], *act[40];
    char *inv_words[] = {(char *)"invoke", (char *)REUSE_FN, NULL};
    char *act_words[] = {(char *)"activate", (char *)"--no-cold", (char *)"--entrypoint",
                         (char *)"node",     (char *)IMAGE,       (char *)"--",
                         (char *)"-e",       (char *)NODE_ONCE,   NULL};
    cli_argv(e, inv, 40, inv_words);
    cli_argv(e, act, 40, act_words);
    char *dock[] = {(char *)"docker",
                    (char *)"-H",
                    peers->docker_host,
                    (char *)"run",
                    (char *)"--rm",
                    (char *)"--network",
                    (char *)"none",
                    (char *)"--entrypoint",
                    (char *)"node",
                    tag,
                    (char *)"-e",
                    (char *)NODE_ONCE,
                    NULL};
    char **argvs[RUN_N] = {inv, act, tag[0] ? dock : NULL};
    if (!argvs[RUN_DOCKER] && !r->skipped[RUN_DOCKER][0])
        snprintf(r->skipped[RUN_DOCKER], 200, "no Docker image");
    if (whole_process(e, o, argvs, r->cli, r->skipped) < 0)
        return wr_error_set(err, ENOMEM, "samples");

    bench_progress("HTTP keep-alive latency");
    if (http_latency(url, o, &r->http, &r->http_conns) < 0 && !bench_stop)
        return wr_error_set(err, 0, "no HTTP invocation succeeded (%s)", url);
    static const long concs[] = {1, 2, 4, 8};
    for (int fresh_mode = 0; fresh_mode < 2 && !bench_stop; fresh_mode++)
        for (size_t i = 0; i < 4 && !bench_stop; i++) {
            if (fresh_mode && wait_idle(e, FRESH_FN, FRESH_MIN, err) < 0)
                return -1;
            throughput(fresh_mode ? fresh_url : url, fresh_mode ? "fresh" : "reuse", concs[i],
                       o->seconds, &r->tp[r->n_tp++]);
        }
    return 0;
}

int bench_cmd_invoke(const char *bindir, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"rounds", required_argument, NULL, 'n'},
        {"warmup", required_argument, NULL, 'w'},
        {"seconds", required_argument, NULL, 's'},
        {"images", required_argument, NULL, 'i'},
        {"setup", no_argument, NULL, 'S'},
        {"docker-host", required_argument, NULL, 'D'},
        {"no-docker", no_argument, NULL, 'N'},
        {"json", required_argument, NULL, 'j'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    static const char usage[] =
        "usage: warmrun bench invoke [--rounds N] [--warmup N] [--seconds S] [--images DIR]\n"
        "       [--setup | --docker-host URL | --no-docker] [--json FILE] [--quiet]";
    struct opts o = {.rounds = 200, .warmup = 10, .seconds = 3};
    bool bad = false;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
        if (c == 'n')
            o.rounds = bench_parse_count("--rounds", optarg, 1, BENCH_MAX_ITERATIONS, &bad);
        else if (c == 'w')
            o.warmup = bench_parse_count("--warmup", optarg, 0, BENCH_MAX_WARMUP, &bad);
        else if (c == 's')
            o.seconds = bench_parse_count("--seconds", optarg, 1, 3600, &bad);
        else if (c == 'i')
            o.images = optarg;
        else if (c == 'S')
            o.setup = true;
        else if (c == 'D')
            o.docker_host = optarg;
        else if (c == 'N')
            o.no_docker = true;
        else if (c == 'j')
            o.json = optarg;
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
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
        bench_msg("libcurl did not initialise");
        return BENCH_EXIT_FAILED;
    }
    struct bench_env e;
    wr_error err = {0};
    if (bench_env_init(&e, bindir, &err) < 0) {
        bench_msg("%s", err.msg);
        bench_env_cleanup(&e);
        return BENCH_EXIT_FAILED;
    }
    e.http = "127.0.0.1:0";
    if (bench_daemon_start(&e, &err) < 0) {
        bench_msg("%s", err.msg);
        bench_env_cleanup(&e);
        return BENCH_EXIT_FAILED;
    }
    struct bench_peers peers = {.crun_mntns = -1};
    struct result *r = calloc(1, sizeof *r);
    int rc = BENCH_EXIT_OK;
    if (!r || run(&e, &o, &peers, r, &err) < 0) {
        bench_msg("%s", r ? err.msg : "out of memory");
        rc = BENCH_EXIT_FAILED;
    }
    bench_progress("stopping the daemon and its functions");
    /* Stopping the daemon kills the environments (thawed first). */
    if (r && r->docker_tag[0]) {
        char *rmi[] = {
            (char *)"docker", (char *)"-H", peers.docker_host, (char *)"rmi", (char *)"-f",
            r->docker_tag,    NULL};
        (void)bench_run_quiet(rmi, -1);
    }
    bench_peers_cleanup(&e, &peers); /* a private dockerd's data is under e's directory */
    bench_env_cleanup(&e);
    curl_global_cleanup();
    if (bench_stop) {
        free(r);
        bench_msg("interrupted; nothing left behind");
        return BENCH_EXIT_SIGNAL;
    }
    if (rc == BENCH_EXIT_OK) {
        result_print(r);
        if (o.json) {
            json_t *root = result_json(r, &o);
            if (bench_write_json(root, o.json, &err) < 0) {
                bench_msg("%s", err.msg);
                rc = BENCH_EXIT_FAILED;
            }
            json_decref(root);
        }
    }
    free(r);
    return rc;
}
