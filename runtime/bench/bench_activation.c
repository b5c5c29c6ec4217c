/* `warmrun bench activation`: the latency inside the system, from the
 * moment the client starts its request to the first instruction of the
 * workload's main, measured by a static probe (bin/warmrun-probe) that
 * prints CLOCK_MONOTONIC at entry; against a plain fork+exec of the same
 * probe from the same process. The bench is the client itself (the LIBWR
 * client calls the CLI uses), so no CLI start-up is included. */
#include "bench.h"
#include "bench_subcommands.h"

#include "lib/cleanup.h"
#include "lib/stats.h"
#include "store_admin.h"
#include "store_write.h"
#include "lib/api_client.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <openssl/evp.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define PROBE_IMAGE "warmrun-probe"
#define PROBE_PATH  "/probe"

extern char **environ;

/* Copies the probe into a new layer on top of busybox: PROBE_IMAGE:latest. */
static int build_probe_image(const struct bench_env *e, const char *probe, wr_error *err)
{
    cleanup_close int in = open(probe, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (in < 0 || fstat(in, &st) < 0)
        return wr_error_set(err, errno, "%s (run make)", probe);
    cleanup_free unsigned char *buf = malloc((size_t)st.st_size + 1);
    if (!buf)
        return wr_error_set(err, ENOMEM, "%s", probe);
    if (read(in, buf, (size_t)st.st_size) != st.st_size)
        return wr_error_set(err, errno, "read %s", probe);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    if (!EVP_Digest(buf, (size_t)st.st_size, md, &mdlen, EVP_sha256(), NULL))
        return wr_error_set(err, 0, "sha256 of %s", probe);
    char hex[2 * EVP_MAX_MD_SIZE + 1], layer_id[WR_DIGEST_SIZE];
    for (unsigned int i = 0; i < mdlen; i++)
        sprintf(hex + 2 * i, "%02x", md[i]);
    bench_path(layer_id, sizeof layer_id, "sha256:%s", hex);

    /* A writer of the store, as warmrun-image is: under its lock, whose
     * next holder removes what it finds in tmp/ as a dead writer's. */
    cleanup_close int lock = wr_store_lock(e->store, err);
    if (lock < 0)
        return -1;
    cleanup_free char *stage = NULL;
    if (wr_store_stage(e->store, &stage, err) < 0)
        return -1;
    char dst[PATH_MAX + 32];
    bench_path(dst, sizeof dst, "%s/root%s", stage, PROBE_PATH);
    int out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0755);
    if (out < 0 || write(out, buf, (size_t)st.st_size) != st.st_size || fchmod(out, 0755) < 0 ||
        close(out) < 0) {
        wr_error_set(err, errno, "write %s", dst);
        wr_store_unstage(stage);
        return -1;
    }
    bool existed;
    if (wr_store_layer_install(e->store, stage, hex, &existed, err) < 0) {
        wr_store_unstage(stage);
        return -1;
    }
    const char *layers[] = {e->busybox_layer_id, layer_id};
    const char *cmd[] = {PROBE_PATH, NULL};
    const char *env[] = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL};
    struct wr_manifest m = {.name = PROBE_IMAGE,
                            .tag = "latest",
                            .layers = layers,
                            .n_layers = 2,
                            .cmd = cmd,
                            .env = env,
                            .workdir = "/"};
    char id[WR_DIGEST_SIZE];
    return wr_store_manifest_write(e->store, &m, id, err);
}

/* Reads the probe's line from fd: its CLOCK_MONOTONIC in ns; -1 if none. */
static int64_t read_stamp(int fd)
{
    char buf[64];
    size_t len = 0;
    while (len < sizeof buf - 1) {
        ssize_t n = read(fd, buf + len, sizeof buf - 1 - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        len += (size_t)n;
        if (memchr(buf, '\n', len))
            break;
    }
    buf[len] = '\0';
    char *end;
    errno = 0;
    long long v = strtoll(buf, &end, 10);
    return errno || end == buf || *end != '\n' ? -1 : (int64_t)v;
}

struct warm_sample {
    double to_main_ms, to_exec_ms, to_report_ms;
};

/* One warm activation of the probe, as a client. */
static int warm_once(const struct bench_env *e, struct warm_sample *s, wr_error *err)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0)
        return wr_error_set(err, errno, "pipe");
    cleanup_close int rd = p[0];
    cleanup_close int wr = p[1];
    /* A container takes only pipes and sockets as its stdio: an empty
     * pipe for stdin, the stamp's pipe for stdout and stderr. */
    int q[2];
    if (pipe2(q, O_CLOEXEC) < 0)
        return wr_error_set(err, errno, "pipe");
    close(q[1]);
    cleanup_close int empty = q[0];
    char *argv[] = {(char *)PROBE_PATH, NULL};
    struct wr_request req = {
        .op = WR_OP_ACTIVATE, .image = (char *)PROBE_IMAGE, .argv = argv, .argc = 1};
    int fds[3] = {empty, wr, wr};

    int64_t t0 = bench_now_ns();
    cleanup_close int sock = wr_api_connect(e->g.socket, err);
    if (sock < 0)
        return -1;
    if (wr_api_send_request(sock, &req, fds, 3, err) < 0)
        return -1;
    close(steal_fd(&wr));
    int64_t main_ns = read_stamp(rd);
    struct wr_reply r;
    if (wr_api_read_reply(sock, &r, err) < 0)
        return -1;
    int64_t t_report = bench_now_ns();
    int rc = 0;
    if (!r.ok)
        rc = wr_error_set(err, 0, "daemon: %s", r.error);
    else if (r.kind != WR_REPLY_EXIT || r.exit.exit_code != 0 || main_ns < 0)
        rc = wr_error_set(err, 0, "the probe did not run (exit %d%s%s)", r.exit.exit_code,
                          r.exit.error[0] ? ": " : "", r.exit.error);
    if (rc == 0) {
        s->to_main_ms = (double)(main_ns - t0) / 1e6;
        s->to_exec_ms = r.exit.exec_ns > 0 ? (double)(r.exit.exec_ns - t0) / 1e6 : NAN;
        s->to_report_ms = (double)(t_report - t0) / 1e6;
    }
    wr_reply_free(&r);
    return rc;
}

/* fork+exec of the probe on the host, from this process. */
static int exec_once(const char *probe, double *to_main_ms, double *total_ms, wr_error *err)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0)
        return wr_error_set(err, errno, "pipe");
    cleanup_close int rd = p[0];
    cleanup_close int wr = p[1];
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, wr, 1);
    char *argv[] = {(char *)probe, NULL};
    pid_t pid;
    int64_t t0 = bench_now_ns();
    int rc = posix_spawn(&pid, probe, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0)
        return wr_error_set(err, rc, "spawn %s", probe);
    close(steal_fd(&wr));
    int64_t main_ns = read_stamp(rd);
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    int64_t t1 = bench_now_ns();
    if (main_ns < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return wr_error_set(err, 0, "the probe failed on the host");
    *to_main_ms = (double)(main_ns - t0) / 1e6;
    *total_ms = (double)(t1 - t0) / 1e6;
    return 0;
}

static void print_row(const char *name, double *v, size_t n)
{
    struct wr_stats_summary s;
    if (wr_stats_summarize(v, n, &s) < 0) {
        printf("%-34s %6s\n", name, "-");
        return;
    }
    printf("%-34s %6zu %9.3f %9.3f %9.3f %9.3f %9.3f %9.3f\n", name, s.n, s.median, s.mean, s.p95,
           s.p99, s.min, s.max);
}

int bench_cmd_activation(const char *bindir, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"iterations", required_argument, NULL, 'n'},
        {"warmup", required_argument, NULL, 'w'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    long iterations = 200, warmup = 10;
    bool bad = false;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
        if (c == 'n')
            iterations = bench_parse_count("--iterations", optarg, 1, BENCH_MAX_ITERATIONS, &bad);
        else if (c == 'w')
            warmup = bench_parse_count("--warmup", optarg, 0, BENCH_MAX_WARMUP, &bad);
        else if (c == 'q')
            bench_quiet = true;
        else if (c == 'h') {
            printf("usage: warmrun bench activation [--iterations N] [--warmup N] [--quiet]\n");
            return BENCH_EXIT_OK;
        } else
            bad = true;
    }
    if (bad || optind < argc) {
        bench_msg("usage: warmrun bench activation [--iterations N] [--warmup N] [--quiet]");
        return BENCH_EXIT_USAGE;
    }

    struct bench_env e;
    wr_error err = {0};
    char probe[PATH_MAX + 32];
    int rc = BENCH_EXIT_FAILED;
    cleanup_free double *to_main = calloc((size_t)iterations, sizeof(double));
    cleanup_free double *to_exec = calloc((size_t)iterations, sizeof(double));
    cleanup_free double *to_report = calloc((size_t)iterations, sizeof(double));
    cleanup_free double *exec_main = calloc((size_t)iterations, sizeof(double));
    cleanup_free double *exec_total = calloc((size_t)iterations, sizeof(double));
    if (!to_main || !to_exec || !to_report || !exec_main || !exec_total) {
        bench_msg("out of memory");
        return BENCH_EXIT_FAILED;
    }
    bench_progress("preparing a private store, the probe image and a daemon");
    if (bench_env_init(&e, bindir, &err) < 0 ||
        bench_path(probe, sizeof probe, "%s/warmrun-probe", e.bindir) < 0 ||
        build_probe_image(&e, probe, &err) < 0 || bench_daemon_start(&e, &err) < 0 ||
        bench_pool_fill(&e, PROBE_IMAGE, 2, 120, &err) < 0) {
        bench_msg("%s", err.msg);
        bench_env_cleanup(&e);
        return BENCH_EXIT_FAILED;
    }
    bench_progress("%ld warm-up rounds, then %ld rounds of warm activation and fork+exec", warmup,
                   iterations);
    size_t n = 0, n_exec = 0;
    for (long round = 0; round < warmup + iterations && !bench_stop; round++) {
        bool counted = round >= warmup;
        struct warm_sample s = {0};
        double m, t;
        /* untimed: the pool has refilled */
        for (int i = 0; i < 1000 && bench_pool_warm(&e, PROBE_IMAGE) == 0; i++)
            usleep(2000);
        if (round % 2 == 0 && exec_once(probe, &m, &t, &err) == 0 && counted) {
            exec_main[n_exec] = m;
            exec_total[n_exec++] = t;
        }
        if (warm_once(&e, &s, &err) < 0) {
            bench_msg("warm activation failed: %s", err.msg);
            break;
        }
        if (counted) {
            to_main[n] = s.to_main_ms;
            to_exec[n] = s.to_exec_ms;
            to_report[n++] = s.to_report_ms;
        }
        if (round % 2 == 1 && exec_once(probe, &m, &t, &err) == 0 && counted) {
            exec_main[n_exec] = m;
            exec_total[n_exec++] = t;
        }
        long done = round - warmup + 1;
        if (counted && done * 10 / iterations != (done - 1) * 10 / iterations)
            bench_progress("round %ld/%ld: warm to main %.3f ms, fork+exec to main %.3f ms", done,
                           iterations, s.to_main_ms, n_exec ? exec_main[n_exec - 1] : NAN);
    }
    bench_env_cleanup(&e);
    if (bench_stop) {
        bench_msg("interrupted; nothing left behind");
        return BENCH_EXIT_SIGNAL;
    }
    rc = n == (size_t)iterations ? BENCH_EXIT_OK : BENCH_EXIT_PARTIAL;
    printf("\nwarmrun bench activation: %zu warm activations of a static probe, %zu fork+exec; "
           "ms\n",
           n, n_exec);
    printf("%-34s %6s %9s %9s %9s %9s %9s %9s\n", "", "n", "median", "mean", "p95", "p99", "min",
           "max");
    print_row("warm: client send -> probe main", to_main, n);
    print_row("warm: client send -> execve", to_exec, n);
    print_row("warm: client send -> exit report", to_report, n);
    print_row("host fork+exec -> probe main", exec_main, n_exec);
    print_row("host fork+exec -> exit reaped", exec_total, n_exec);
    /* print_row sorted the samples */
    double ratio = wr_stats_ratio(wr_percentile_sorted(to_main, n, 0.5),
                                  wr_percentile_sorted(exec_main, n_exec, 0.5));
    if (!isnan(ratio))
        printf("warm activation to main / fork+exec to main (medians): %.2f\n", ratio);
    return rc;
}
