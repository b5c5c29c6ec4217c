/* `warmrun bench startup`: whole-process start-up time of one image and
 * command through warmrun (warm and cold), crun, runc, docker and a bare
 * exec, interleaved round by round so that drift hits all alike. */
#include "bench_startup.h"

#include "bench_peers.h"
#include "lib/cleanup.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define FAILURES_IN_A_ROW_MAX 3 /* a runtime failing this often in a row is dropped */
#define WARM_POOL_SIZE        4
#define POOL_TIMEOUT_S        120

static const char *const known_runtimes[] = {"warm", "cold", "crun", "runc", "docker", "exec"};

int bench_parse_runtimes(const char *list, struct bench_startup_opts *o, wr_error *err)
{
    o->n_names = 0;
    cleanup_free char *copy = strdup(list);
    if (!copy)
        return wr_error_set(err, ENOMEM, "--runtimes");
    char *save = NULL;
    for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        const char *known = NULL;
        for (size_t i = 0; i < sizeof known_runtimes / sizeof known_runtimes[0]; i++)
            if (strcmp(tok, known_runtimes[i]) == 0)
                known = known_runtimes[i];
        if (!known)
            return wr_error_set(err, 0, "--runtimes: unknown runtime \"%s\" (known: %s)", tok,
                                BENCH_RUNTIME_NAMES);
        for (size_t i = 0; i < o->n_names; i++)
            if (strcmp(o->names[i], known) == 0)
                return wr_error_set(err, 0, "--runtimes: \"%s\" given twice", tok);
        o->names[o->n_names++] = (char *)known;
    }
    if (o->n_names == 0)
        return wr_error_set(err, 0, "--runtimes: empty list (known: %s)", BENCH_RUNTIME_NAMES);
    return 0;
}

const struct bench_runtime *bench_startup_find(const struct bench_startup_result *r,
                                               const char *name)
{
    for (size_t i = 0; i < r->n; i++)
        if (strcmp(r->rt[i].name, name) == 0)
            return &r->rt[i];
    return NULL;
}

static void skip(struct bench_runtime *rt, const char *why)
{
    rt->status = BENCH_RT_SKIPPED;
    rt->active = false;
    bench_path(rt->reason, sizeof rt->reason, "%s", why);
    bench_progress("%s: skipped: %s", rt->name, why);
}

/* argv = prefix words + the command + NULL; the strings are not copied. */
static char **build_argv(const char *const *prefix, size_t np, char **command)
{
    size_t nc = 0;
    while (command[nc])
        nc++;
    char **argv = calloc(np + nc + 1, sizeof *argv);
    if (!argv)
        return NULL;
    for (size_t i = 0; i < np; i++)
        argv[i] = (char *)prefix[i];
    for (size_t i = 0; i < nc; i++)
        argv[np + i] = command[i];
    return argv;
}

static void set_cmd(struct bench_runtime *rt, const char *const *prefix, size_t np, char **command)
{
    rt->cmd.argv = build_argv(prefix, np, command);
    rt->cmd.path = rt->cmd.argv ? bench_which(rt->cmd.argv[0]) : NULL;
    if (!rt->cmd.path)
        skip(rt, "its program was not found");
}

/* The exec runtime runs the image's own binary for the command on the
 * host: <layer root><argv[0]> (symlinks resolved in the layer). */
static void set_exec(struct bench_runtime *rt, const struct bench_env *e, char **command)
{
    char path[PATH_MAX * 2];
    snprintf(path, sizeof path, "%s%s%s", e->busybox_layer, command[0][0] == '/' ? "" : "/bin/",
             command[0]);
    rt->cmd.argv = build_argv(NULL, 0, command);
    rt->cmd.path = rt->cmd.argv ? bench_which(path) : NULL;
    if (!rt->cmd.path) {
        char why[PATH_MAX * 2 + 64];
        snprintf(why, sizeof why, "%s is not an executable file", path);
        skip(rt, why);
    }
}

static void setup_runtime(struct bench_runtime *rt, struct bench_env *e, struct bench_peers *p,
                          const struct bench_startup_opts *o)
{
    wr_error err = {0};
    rt->cmd.mntns_fd = -1;
    rt->cmd.stderr_fd = -1;
    rt->active = true;
    const char *name = rt->name;
    if (strcmp(name, "warm") == 0) {
        const char *pre[] = {e->warmrun,  "--socket", e->g.socket, "activate",
                             "--no-cold", o->image,   "--"};
        set_cmd(rt, pre, 7, o->command);
    } else if (strcmp(name, "cold") == 0) {
        const char *pre[] = {e->warmrun,  "--root",   e->store, "--state-dir", e->state, "--socket",
                             e->g.socket, "activate", "--cold", o->image,      "--"};
        set_cmd(rt, pre, 11, o->command);
    } else if (strcmp(name, "exec") == 0) {
        set_exec(rt, e, o->command);
    } else if (strcmp(name, "crun") == 0 || strcmp(name, "runc") == 0) {
        bool crun = name[0] == 'c';
        if (!p->bundle[0] && bench_bundle_prepare(e, p, o->command, &err) < 0)
            return skip(rt, err.msg);
        if ((crun ? bench_crun_prepare(e, p, o->setup, &err)
                  : bench_runc_prepare(e, p, o->setup, &err)) < 0)
            return skip(rt, err.msg);
        const char *pre[8];
        size_t np = 0;
        pre[np++] = name;
        if (crun && p->crun_no_cgroups)
            pre[np++] = "--cgroup-manager=disabled";
        pre[np++] = "--root";
        pre[np++] = crun ? p->crun_state : p->runc_state;
        pre[np++] = "run";
        pre[np++] = "--bundle";
        pre[np++] = p->bundle;
        pre[np++] = rt->id;
        rt->cmd.argv = build_argv(pre, np, (char *[]){NULL});
        rt->cmd.path = rt->cmd.argv ? bench_which(name) : NULL;
        if (!rt->cmd.path)
            return skip(rt, "its program was not found");
        if (crun)
            rt->cmd.mntns_fd = p->crun_mntns;
    } else if (strcmp(name, "docker") == 0) {
        if (bench_docker_prepare(e, p, o->setup, o->docker_host, &err) < 0)
            return skip(rt, err.msg);
        const char *pre[] = {"docker", "-H",        p->docker_host, "run",
                             "--rm",   "--network", "none",         p->docker_image};
        set_cmd(rt, pre, 8, o->command);
    }
    if (!rt->active)
        return;
    /* Each runtime's stderr goes to its own log, for a failure's reason. */
    char log[PATH_MAX + 32];
    snprintf(log, sizeof log, "%s/%s.stderr", e->dir, name);
    rt->cmd.stderr_fd = open(log, O_RDWR | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);
    rt->samples = calloc((size_t)o->iterations, sizeof *rt->samples);
    if (!rt->samples)
        skip(rt, "out of memory");
}

static void run_failed(struct bench_runtime *rt, int status, bool counted)
{
    if (counted)
        rt->failures++;
    else
        rt->warmup_failures++;
    if (++rt->in_a_row < FAILURES_IN_A_ROW_MAX)
        return;
    char st[128], line[256];
    bench_describe_status(status, st, sizeof st);
    bench_last_line(rt->cmd.stderr_fd, line, sizeof line);
    rt->active = false;
    rt->status = rt->n > 0 ? BENCH_RT_PARTIAL : BENCH_RT_SKIPPED;
    snprintf(rt->reason, sizeof rt->reason, "failed %d times in a row (%s%s%s)%s",
             FAILURES_IN_A_ROW_MAX, st, line[0] ? ": " : "", line,
             rt->n > 0 ? "; the samples so far are kept" : "");
    bench_msg("%s: %s", rt->name, rt->reason);
}

/* A warm run needs a warm container: wait (untimed) for the pool. */
static void wait_warm(const struct bench_env *e, const char *image)
{
    for (int i = 0; i < 500 && !bench_stop; i++) {
        long warm = bench_pool_warm(e, image);
        if (warm != 0)
            return;
        usleep(2000);
    }
}

static void run_one(struct bench_env *e, struct bench_runtime *rt, const char *image, bool counted)
{
    static unsigned long seq;
    if (strcmp(rt->name, "crun") == 0 || strcmp(rt->name, "runc") == 0)
        snprintf(rt->id, sizeof rt->id, "wrbench-%d-%lu", (int)getpid(), seq++);
    else if (strcmp(rt->name, "warm") == 0)
        wait_warm(e, image);
    double ms = 0;
    int status = 0;
    if (bench_run_timed(&rt->cmd, &ms, &status) == 0) {
        rt->in_a_row = 0;
        if (counted)
            rt->samples[rt->n++] = ms;
    } else if (!bench_stop) {
        run_failed(rt, status, counted);
    }
}

static void now_rfc3339(char *buf, size_t size)
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int bench_startup_run(struct bench_env *e, const struct bench_startup_opts *o,
                      struct bench_startup_result *r)
{
    static struct bench_peers peers;
    peers = (struct bench_peers){.crun_mntns = -1, .dockerd_pid = -1};
    *r = (struct bench_startup_result){.opts = o};
    now_rfc3339(r->started, sizeof r->started);
    bool want_warm = false;
    for (size_t i = 0; i < o->n_names; i++) {
        struct bench_runtime *rt = &r->rt[r->n++];
        snprintf(rt->name, sizeof rt->name, "%s", o->names[i]);
        rt->ratio_fastest = rt->ratio_docker = NAN;
        rt->cmd = (struct bench_cmd){.mntns_fd = -1, .stderr_fd = -1};
        want_warm |= strcmp(rt->name, "warm") == 0;
    }
    int rc = BENCH_EXIT_OK;
    wr_error pool_err = {0};
    bool pool_failed =
        want_warm && bench_pool_fill(e, o->image, WARM_POOL_SIZE, POOL_TIMEOUT_S, &pool_err) < 0;
    for (size_t i = 0; i < r->n && !bench_stop; i++) {
        struct bench_runtime *rt = &r->rt[i];
        if (strcmp(rt->name, "warm") == 0 && pool_failed) {
            skip(rt, pool_err.msg);
            continue;
        }
        bench_progress("%s: setting up", rt->name);
        setup_runtime(rt, e, &peers, o);
    }

    long total = o->warmup + o->iterations;
    size_t n_active = 0;
    for (size_t k = 0; k < r->n; k++)
        n_active += r->rt[k].active;
    if (n_active > 0)
        bench_progress("%ld warm-up rounds, then %ld rounds of %zu runtimes", o->warmup,
                       o->iterations, n_active);
    int64_t t_start = bench_now_ns();
    for (long round = 0; round < total && !bench_stop; round++) {
        bool counted = round >= o->warmup;
        for (size_t pos = 0; pos < r->n && !bench_stop; pos++) {
            struct bench_runtime *rt = &r->rt[((size_t)round + pos) % r->n];
            if (rt->active)
                run_one(e, rt, o->image, counted);
        }
        if (round + 1 == o->warmup)
            bench_progress("warm-up done (%.0f s)", (double)(bench_now_ns() - t_start) / 1e9);
        long done = round - o->warmup + 1;
        if (counted && done * 10 / o->iterations != (done - 1) * 10 / o->iterations) {
            char line[512];
            int len = snprintf(line, sizeof line, "round %ld/%ld (%.0f s)", done, o->iterations,
                               (double)(bench_now_ns() - t_start) / 1e9);
            for (size_t k = 0; k < r->n && len < (int)sizeof line - 40; k++)
                if (r->rt[k].n > 0)
                    len += snprintf(line + len, sizeof line - (size_t)len, "  %s %.2f ms",
                                    r->rt[k].name, r->rt[k].samples[r->rt[k].n - 1]);
            bench_progress("%s", line);
        }
    }
    if (bench_stop)
        rc = BENCH_EXIT_SIGNAL;
    bench_peers_cleanup(e, &peers);
    if (want_warm && !bench_stop) {
        struct wr_request req = {.op = WR_OP_STATS};
        struct wr_reply reply;
        wr_error ignored;
        if (bench_call(e, &req, &reply, &ignored) == 0) {
            r->daemon_stats = reply.stats;
            r->have_daemon_stats = reply.stats.samples > 0;
            wr_reply_free(&reply);
        }
    }

    /* Statistics, the fastest by median, the ratios. */
    const struct bench_runtime *fastest = NULL, *docker = NULL;
    for (size_t k = 0; k < r->n; k++) {
        struct bench_runtime *rt = &r->rt[k];
        if (rt->status == BENCH_RT_SKIPPED)
            continue;
        /* summarize sorts; keep the run order for the JSON samples */
        cleanup_free double *copy = malloc((rt->n ? rt->n : 1) * sizeof *copy);
        if (!copy)
            continue;
        memcpy(copy, rt->samples, rt->n * sizeof *copy);
        wr_stats_summarize(copy, rt->n, &rt->sum);
        if (rt->n == 0) {
            rt->status = BENCH_RT_SKIPPED;
            if (!rt->reason[0])
                snprintf(rt->reason, sizeof rt->reason, "no successful run");
            continue;
        }
        if (rt->status == BENCH_RT_OK && rt->n < (size_t)o->iterations && !bench_stop)
            rt->status = BENCH_RT_PARTIAL;
        if (rt->status == BENCH_RT_PARTIAL) {
            if (!rt->reason[0])
                snprintf(rt->reason, sizeof rt->reason, "%zu of %ld runs failed", rt->failures,
                         o->iterations);
            rc = rc == BENCH_EXIT_OK ? BENCH_EXIT_PARTIAL : rc;
        }
        if (!fastest || rt->sum.median < fastest->sum.median)
            fastest = rt;
        if (strcmp(rt->name, "docker") == 0)
            docker = rt;
    }
    r->fastest = fastest ? fastest->name : NULL;
    for (size_t k = 0; k < r->n; k++) {
        struct bench_runtime *rt = &r->rt[k];
        if (rt->status == BENCH_RT_SKIPPED)
            continue;
        rt->ratio_fastest = wr_stats_ratio(rt->sum.median, fastest ? fastest->sum.median : 0);
        rt->ratio_docker = wr_stats_ratio(rt->sum.median, docker ? docker->sum.median : 0);
    }
    return rc;
}

void bench_startup_free(struct bench_startup_result *r)
{
    for (size_t k = 0; k < r->n; k++) {
        struct bench_runtime *rt = &r->rt[k];
        free(rt->cmd.argv);
        free(rt->cmd.path);
        free(rt->samples);
        if (rt->cmd.stderr_fd >= 0)
            close(rt->cmd.stderr_fd);
        rt->cmd = (struct bench_cmd){.mntns_fd = -1, .stderr_fd = -1};
        rt->samples = NULL;
    }
}

long bench_parse_count(const char *opt, const char *s, long min, long max, bool *bad)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < min || v > max) {
        bench_msg("%s: expected an integer in %ld..%ld, got \"%s\"", opt, min, max, s);
        *bad = true;
    }
    return v;
}

static void startup_usage(FILE *out)
{
    fprintf(out,
            "usage: warmrun bench startup [--iterations N] [--warmup N] [--runtimes LIST]\n"
            "                             [--image busybox] [--json FILE] [--svg FILE] [--setup]\n"
            "                             [--docker-host HOST] [--quiet] [-- COMMAND [ARG...]]\n"
            "  --iterations N  counted rounds, 1..%ld (default 100)\n"
            "  --warmup N      uncounted rounds first, 0..%ld (default 10)\n"
            "  --runtimes LIST comma-separated, of " BENCH_RUNTIME_NAMES " (default all)\n"
            "  --setup         install missing peers (apt-get), start a private dockerd\n"
            "  --docker-host HOST  run docker on that daemon's (never on one unasked)\n"
            "  COMMAND         run in every runtime (default /bin/true)\n",
            BENCH_MAX_ITERATIONS, BENCH_MAX_WARMUP);
}

int bench_cmd_startup(const char *bindir, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"iterations", required_argument, NULL, 'n'},
        {"warmup", required_argument, NULL, 'w'},
        {"runtimes", required_argument, NULL, 'r'},
        {"image", required_argument, NULL, 'i'},
        {"json", required_argument, NULL, 'j'},
        {"svg", required_argument, NULL, 's'},
        {"setup", no_argument, NULL, 'S'},
        {"docker-host", required_argument, NULL, 'D'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    static char *default_command[] = {(char *)"/bin/true", NULL};
    struct bench_startup_opts o = {
        .iterations = 100, .warmup = 10, .image = "busybox", .command = default_command};
    wr_error err = {0};
    bool bad = false;
    if (bench_parse_runtimes(BENCH_RUNTIME_NAMES, &o, &err) < 0)
        return BENCH_EXIT_FAILED;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
        switch (c) {
        case 'n':
            o.iterations = bench_parse_count("--iterations", optarg, 1, BENCH_MAX_ITERATIONS, &bad);
            break;
        case 'w':
            o.warmup = bench_parse_count("--warmup", optarg, 0, BENCH_MAX_WARMUP, &bad);
            break;
        case 'r':
            if (bench_parse_runtimes(optarg, &o, &err) < 0) {
                bench_msg("%s", err.msg);
                bad = true;
            }
            break;
        case 'i':
            o.image = optarg;
            break;
        case 'j':
            o.json_path = optarg;
            break;
        case 's':
            o.svg_path = optarg;
            break;
        case 'S':
            o.setup = true;
            break;
        case 'D':
            o.docker_host = optarg;
            break;
        case 'q':
            bench_quiet = true;
            break;
        case 'h':
            startup_usage(stdout);
            return BENCH_EXIT_OK;
        default:
            bad = true;
        }
    }
    if (strcmp(o.image, "busybox") != 0 && strcmp(o.image, "busybox:latest") != 0) {
        bench_msg("--image %s: only busybox is supported (the bench builds it from the host's "
                  "static busybox, the same rootfs for every runtime)",
                  o.image);
        bad = true;
    }
    if ((o.json_path && !o.json_path[0]) || (o.svg_path && !o.svg_path[0])) {
        bench_msg("--json and --svg need a file name");
        bad = true;
    }
    if (optind < argc) {
        o.command = argv + optind;
        if (strcmp(o.command[0], "--") == 0)
            o.command++;
        if (!o.command[0]) {
            bench_msg("empty command after --");
            bad = true;
        }
    }
    if (bad) {
        bench_msg("usage: warmrun bench startup [OPTIONS] [-- COMMAND...] (see --help)");
        return BENCH_EXIT_USAGE;
    }

    struct bench_env e;
    struct bench_startup_result r = {0};
    int rc = BENCH_EXIT_FAILED;
    if (bench_env_start(&e, bindir) < 0)
        return BENCH_EXIT_FAILED;
    rc = bench_startup_run(&e, &o, &r);
    bench_env_cleanup(&e);
    if (rc != BENCH_EXIT_SIGNAL) {
        bench_startup_print(&r);
        if (o.json_path && bench_startup_json(&r, o.json_path, &err) < 0) {
            bench_msg("%s", err.msg);
            rc = BENCH_EXIT_FAILED;
        }
        if (o.svg_path && bench_startup_svg(&r, o.svg_path, &err) < 0) {
            bench_msg("%s", err.msg);
            rc = BENCH_EXIT_FAILED;
        }
    } else {
        bench_msg("interrupted; nothing left behind");
    }
    bench_startup_free(&r);
    return rc;
}
