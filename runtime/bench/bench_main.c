/* warmrun-bench: `warmrun bench SUBCOMMAND ...` execs this program with
 * "--bindir DIR" (where warmrun and its helpers live) first. */
#include "bench.h"
#include "bench_startup.h"
#include "bench_subcommands.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const struct {
    const char *name;
    int (*run)(const char *bindir, int argc, char **argv);
} subcommands[] = {
    {"startup", bench_cmd_startup}, {"activation", bench_cmd_activation}, {"load", bench_cmd_load},
    {"scale", bench_cmd_scale},     {"score", bench_cmd_score},           {"fill", bench_cmd_fill},
    {"invoke", bench_cmd_invoke},
};

static void usage(FILE *out)
{
    fprintf(
        out,
        "usage: warmrun bench SUBCOMMAND [OPTIONS]   (SUBCOMMAND --help for its options)\n"
        "  startup     start-up time of warm, cold, crun, runc, docker and a bare exec\n"
        "  activation  client send to the workload's main, against fork+exec\n"
        "  load        C clients activating as fast as they can for S seconds\n"
        "  scale       fill time, memory per warm container and activation latency by pool size\n"
        "  score       a one-screen scorecard of the above\n"
        "  fill        CPU per fill and per teardown, fill latency, PSS per warm container\n"
        "  invoke      warm function invocation: CLI, HTTP keep-alive, throughput, PSS\n"
        "Each runs a private daemon and store in a temporary directory and removes them.\n"
        "Exit status: 0 done, 1 the bench failed, 2 usage, 3 partial results (a runtime\n"
        "failed mid-run), 130 interrupted. See docs/benchmarks.md.\n");
}

int main(int argc, char **argv)
{
    const char *bindir = NULL;
    char self[PATH_MAX];
    int i = 1;
    if (argc > 2 && strcmp(argv[1], "--bindir") == 0) {
        bindir = argv[2];
        i = 3;
    } else {
        ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
        if (n > 0) {
            self[n] = '\0';
            char *slash = strrchr(self, '/');
            if (slash)
                *slash = '\0';
            bindir = self;
        }
    }
    if (i >= argc) {
        usage(stderr);
        return BENCH_EXIT_USAGE;
    }
    if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
        usage(stdout);
        return BENCH_EXIT_OK;
    }
    if (!bindir) {
        bench_msg("cannot find the directory of the warmrun binaries");
        return BENCH_EXIT_FAILED;
    }
    for (size_t k = 0; k < sizeof subcommands / sizeof subcommands[0]; k++) {
        if (strcmp(argv[i], subcommands[k].name) != 0)
            continue;
        if (geteuid() != 0) {
            bench_msg("must run as root (it starts a daemon, containers and peers)");
            return BENCH_EXIT_FAILED;
        }
        setvbuf(stdout, NULL, _IOLBF, 0);
        bench_catch_signals();
        return subcommands[k].run(bindir, argc - i, argv + i);
    }
    bench_msg("unknown subcommand \"%s\" (see warmrun bench --help)", argv[i]);
    return BENCH_EXIT_USAGE;
}
