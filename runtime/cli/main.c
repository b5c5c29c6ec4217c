/* warmrun: the command line. `warmrun daemon`, `image` and `bench` execute
 * their own programs (warmrun-daemon, warmrun-image, warmrun-bench), so that
 * this static binary, on every activation's path, holds only the client. */
#include "cli.h"

#include "lib/signal_fd.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
    const char *name;
    int (*run)(const struct wr_paths *, int, char **);
} commands[] = {
    {"activate", cli_activate}, {"pool", cli_pool},         {"ps", cli_ps},
    {"kill", cli_kill},         {"stats", cli_stats},       {"events", cli_events},
    {"metrics", cli_metrics},   {"shutdown", cli_shutdown}, {"image", cli_image},
    {"daemon", cli_daemon},     {"bench", cli_bench},       {"network", cli_network},
    {"function", cli_function}, {"invoke", cli_invoke},     {"profile", cli_profile},
    {"version", cli_version},
};

static void usage(FILE *out)
{
    fprintf(out,
            "usage: warmrun [--root DIR] [--state-dir DIR] [--socket PATH] COMMAND [ARGS]\n"
            "       warmrun --help | --version\n"
            "\n"
            "commands:\n"
            "  activate IMAGE [--] [CMD...]   run CMD in a container (warm from a pool if any)\n"
            "  daemon [--pin-cpu N]           run the pool daemon\n"
            "  pool create IMAGE --size N     keep N warm containers of IMAGE\n"
            "  pool ls [--json] | pool rm IMAGE  list pools / remove a pool (pools persist)\n"
            "  ps [--json]                    list filling, warm, running and detached containers\n"
            "  kill ID [SIGNAL]               signal a container (default KILL)\n"
            "  stats [--no-stream] [--json] [ID...]  CPU, memory, I/O, pids per container\n"
            "  stats --daemon [--json]        daemon-side activation latency\n"
            "  profile ID | IMAGE -- CMD      sample memory, CPU, I/O; leaks, throttling, advice\n"
            "  events [--json] [--since T]    lifecycle events of the daemon, as they happen\n"
            "  metrics                        the daemon's Prometheus metrics\n"
            "  shutdown                       stop the daemon\n"
            "  function create NAME IMAGE | ls | rm NAME\n"
            "                                 Lambda functions: warm initialised runtimes\n"
            "  invoke NAME [--payload FILE|-] invoke a function; its response on stdout\n"
            "  image build-busybox | import PATH | ls [--json] | inspect IMAGE | rm IMAGE\n"
            "                                 the image store (docker save, OCI, tarballs)\n"
            "  bench SUBCOMMAND [OPTIONS]     benchmarks: startup, activation, load, scale, score, "
            "fill, invoke\n"
            "  network create NAME --subnet CIDR [--bridge IF] | ls [--json] | rm NAME\n"
            "                                 bridge networks for --network bridge=NAME\n"
            "  version                        the version of warmrun (also --version)\n"
            "\n"
            "environment: WARMRUN_ROOT, WARMRUN_STATE_DIR, WARMRUN_SOCKET, WARMRUN_SHIM,\n"
            "  WARMRUN_SHIM_SERVER, WARMRUN_SHIM_SEAL\n"
            "see docs/cli.md\n");
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"root", required_argument, NULL, 'r'},   {"state-dir", required_argument, NULL, 's'},
        {"socket", required_argument, NULL, 'S'}, {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},      {NULL, 0, NULL, 0},
    };
    struct wr_paths g;
    const char *socket_path = NULL;
    wr_error err;
    wr_paths_from_env(&g);
    /* A cold start waits for the shim it executes (its exit status says
     * whether its record and cgroup are left to remove). */
    wr_sigchld_default();
    int c;
    opterr = 0; /* one line of our own: cli_getopt_error */
    while ((c = getopt_long(argc, argv, "+:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'r':
            g.root = optarg;
            break;
        case 's':
            g.state_dir = optarg;
            break;
        case 'S':
            socket_path = optarg;
            break;
        case 'h':
            usage(stdout);
            return 0;
        case 'V':
            return cli_print_version();
        default:
            cli_getopt_error(NULL, "see warmrun --help", c, argv);
            return WR_EXIT_USAGE;
        }
    }
    if (wr_paths_set_socket(&g, socket_path, &err) < 0) {
        cli_error("%s", err.msg);
        return WR_EXIT_USAGE;
    }
    if (optind >= argc) {
        usage(stderr);
        return WR_EXIT_USAGE;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(argv[optind], commands[i].name) == 0)
            return commands[i].run(&g, argc - optind, argv + optind);
    cli_error("unknown command \"%s\" (see warmrun --help)", argv[optind]);
    return WR_EXIT_USAGE;
}
