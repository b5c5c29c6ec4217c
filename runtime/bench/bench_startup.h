/* `warmrun bench startup`: the same image and command through each runtime,
 * interleaved round by round after a warm-up. Also used by the scorecard. */
#ifndef WARMRUN_BENCH_STARTUP_H
#define WARMRUN_BENCH_STARTUP_H

#include "bench.h"
#include "lib/stats.h"

enum bench_rt_status { BENCH_RT_OK, BENCH_RT_PARTIAL, BENCH_RT_SKIPPED };

#define BENCH_RUNTIME_NAMES "warm,cold,crun,runc,docker,exec"
#define BENCH_MAX_RUNTIMES  6

struct bench_runtime {
    char name[16];
    enum bench_rt_status status;
    char reason[512]; /* why skipped, or why it stopped (partial) */
    struct bench_cmd cmd;
    char id[64]; /* the container name of the next crun/runc run */
    double *samples;
    size_t n, failures, warmup_failures, in_a_row;
    bool active;
    struct wr_stats_summary sum;        /* over the samples (sorted by then) */
    double ratio_fastest, ratio_docker; /* of medians; NAN when none */
};

struct bench_startup_opts {
    long iterations, warmup;
    char *names[BENCH_MAX_RUNTIMES];
    size_t n_names;
    const char *image;
    char **command; /* NULL-terminated */
    const char *json_path, *svg_path;
    const char *docker_host; /* --docker-host: the dockerd to use; NULL: a private one */
    bool setup;
};

struct bench_startup_result {
    struct bench_runtime rt[BENCH_MAX_RUNTIMES];
    size_t n;
    const char *fastest; /* name, NULL when nothing ran */
    const struct bench_startup_opts *opts;
    char started[32]; /* RFC 3339 */
    bool have_daemon_stats;
    struct wr_stats_info daemon_stats; /* `warmrun stats` of the private daemon after the run */
};

/* Parses "warm,cold,..." into o->names; -1 with a message on bad input. */
int bench_parse_runtimes(const char *list, struct bench_startup_opts *o, wr_error *err);
/* Runs the bench in env (its daemon running); fills r. Returns the exit
 * status (0, BENCH_EXIT_PARTIAL, BENCH_EXIT_FAILED, BENCH_EXIT_SIGNAL). */
int bench_startup_run(struct bench_env *e, const struct bench_startup_opts *o,
                      struct bench_startup_result *r);
void bench_startup_free(struct bench_startup_result *r);
const struct bench_runtime *bench_startup_find(const struct bench_startup_result *r,
                                               const char *name);

/* bench_report.c */
void bench_startup_print(const struct bench_startup_result *r);
int bench_startup_json(const struct bench_startup_result *r, const char *path, wr_error *err);
int bench_startup_svg(const struct bench_startup_result *r, const char *path, wr_error *err);
const char *bench_rt_status_name(enum bench_rt_status s);

/* The subcommand. */
int bench_cmd_startup(const char *bindir, int argc, char **argv);

#endif
