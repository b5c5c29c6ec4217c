/* The CLI's management commands: thin clients of the daemon's API. */
#include "cli.h"

#include "lib/cleanup.h"
#include "cli_options.h"
#include "lib/image_store.h"
#include "lib/shim_client.h"
#include "lib/api_client.h"
#include "lib/autoscale.h"
#include "lib/container_id.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define POOL_WAIT_POLL_MS 20

int cli_parse_long(const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

/* Polls pool_ls until the pool is full, or it keeps failing, or time is up. */
static int wait_pool_full(const struct wr_paths *g, const char *image, long timeout_s)
{
    struct wr_request ls = {.op = WR_OP_POOL_LS};
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (;;) {
        struct wr_reply r;
        if (cli_call(g, &ls, &r) < 0)
            return WR_EXIT_FAILED;
        int i = cli_find_pool(&r, image);
        if (i < 0) {
            wr_reply_free(&r);
            cli_error("pool %s disappeared", image);
            return WR_EXIT_FAILED;
        }
        struct wr_pool_info p = r.pools[i];
        wr_reply_free(&r);
        if (p.warm >= p.size)
            return 0;
        if (p.failures > 0 && p.warm == 0 && p.filling == 0 && p.last_error[0]) {
            cli_error("pool %s cannot fill: %s", image, p.last_error);
            return WR_EXIT_FAILED;
        }
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (now.tv_sec - start.tv_sec >= timeout_s) {
            cli_error("pool %s: %ld of %ld warm after %ld s", image, p.warm, p.size, timeout_s);
            return WR_EXIT_FAILED;
        }
        usleep(POOL_WAIT_POLL_MS * 1000);
    }
}

static int pool_create(const struct wr_paths *g, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"size", required_argument, NULL, 's'},
        {"wait", no_argument, NULL, 'w'},
        {"timeout", required_argument, NULL, 't'},
        {"tmpfs-size", required_argument, NULL, 'm'},
        {"min", required_argument, NULL, 'N'},
        {"max", required_argument, NULL, 'M'},
        {"idle-ttl", required_argument, NULL, 'I'},
        {"publish", required_argument, NULL, 'p'},
        {NULL, 0, NULL, 0},
    };
    struct option all_opts[sizeof longopts / sizeof *longopts + CLI_CONTAINER_OPTS_MAX];
    cli_container_longopts(longopts, all_opts);
    struct wr_request req = {.op = WR_OP_POOL_CREATE, .size = -1};
    wr_error perr;
    /* --min/--max/--idle-ttl: as given (LONG_MIN: not given), checked below. */
    long as_min = LONG_MIN, as_max = LONG_MIN, as_ttl = LONG_MIN;
    struct cli_container_options opts;
    long timeout_s = 120;
    int wait = 0, c;
    cli_container_options_init(&opts);
    optind = 0; /* 0: getopt reinitializes, after main's own parse */
    opterr = 0; /* one line of our own: cli_getopt_error */
    while ((c = getopt_long(argc, argv, ":u:v:p:", all_opts, NULL)) != -1) {
        /* -p: published while a container of the pool runs (docs/network.md) */
        if (c == 'p' && wr_publish_set_add(&req.publish, optarg, &perr) < 0) {
            cli_error("pool create: %s", perr.msg);
            cli_container_options_free(&opts);
            return WR_EXIT_USAGE;
        }
        if (c == 'p')
            continue;
        if (c == '?' || c == ':') {
            cli_getopt_error("pool create", "see docs/cli.md#pool-create", c, argv);
            cli_container_options_free(&opts);
            return WR_EXIT_USAGE;
        }
        /* -v: Docker's --volume (on activate, -v is --verbose) */
        int known = c == 'v' ? (cli_volume_option(&opts.volumes, "volume", optarg) < 0 ? -1 : 1)
                             : cli_container_option(&opts, c, optarg);
        if (known < 0) {
            cli_container_options_free(&opts);
            return WR_EXIT_USAGE;
        }
        if (known > 0)
            continue;
        if (c == 's' && cli_parse_long(optarg, 0, WR_POOL_SIZE_MAX, &req.size) == 0)
            continue;
        if (c == 'w') {
            wait = 1;
            continue;
        }
        if (c == 't' && cli_parse_long(optarg, 1, 3600, &timeout_s) == 0)
            continue;
        /* Any integer here: the ranges are checked together below, with
         * one message naming the one that is wrong. */
        if ((c == 'N' && cli_parse_long(optarg, LONG_MIN + 1, LONG_MAX, &as_min) == 0) ||
            (c == 'M' && cli_parse_long(optarg, LONG_MIN + 1, LONG_MAX, &as_max) == 0) ||
            (c == 'I' && cli_parse_long(optarg, LONG_MIN + 1, LONG_MAX, &as_ttl) == 0))
            continue;
        if (c == 'm' &&
            wr_parse_bytes(optarg, WR_MIN_TMPFS_BYTES, WR_MAX_TMPFS_BYTES, &req.tmpfs_size) == 0)
            continue;
        cli_error("pool create: bad option (--size takes 0..%d, --timeout 1..3600 seconds, "
                  "--tmpfs-size 1m..64g, --min, --max and --idle-ttl integers)",
                  WR_POOL_SIZE_MAX);
        cli_container_options_free(&opts);
        return WR_EXIT_USAGE;
    }
    if (as_min != LONG_MIN || as_max != LONG_MIN || as_ttl != LONG_MIN) {
        wr_error err;
        if (req.size >= 0) {
            cli_error("pool create: --size N is a fixed size; --max M (with --min N, default 0, "
                      "and --idle-ttl S) sizes the pool by demand: give one or the other");
            return WR_EXIT_USAGE;
        }
        if (as_max == LONG_MIN) {
            cli_error("pool create: --min and --idle-ttl need --max M (the most the pool grows "
                      "to by demand)");
            return WR_EXIT_USAGE;
        }
        req.autoscale = (struct wr_autoscale){
            .on = true,
            .min = as_min == LONG_MIN ? 0 : as_min,
            .max = as_max,
            .idle_ttl_s = as_ttl == LONG_MIN ? WR_IDLE_TTL_DEFAULT_S : as_ttl,
        };
        if (wr_autoscale_validate(&req.autoscale, &err) < 0) {
            cli_error("pool create: %s", err.msg);
            return WR_EXIT_USAGE;
        }
        req.size = req.autoscale.min;
    }
    if (optind != argc - 1 || req.size < 0) {
        fprintf(
            stderr,
            "usage: warmrun pool create IMAGE (--size N | --max M [--min N] "
            "[--idle-ttl S]) [--tmpfs-size SIZE] [--wait] [--timeout S] "
            "[-v SRC:DST[:ro]] [-p [HOSTIP:]HOSTPORT:CONTAINERPORT[/tcp|udp]] " CLI_CONTAINER_USAGE
            "\n");
        cli_container_options_free(&opts);
        return WR_EXIT_USAGE;
    }
    /* Docker publishes on its bridge networks only. */
    if (req.publish.n && strncmp(opts.network, "bridge=", 7) != 0) {
        cli_error("pool create: -p needs --network bridge or bridge=NAME");
        cli_container_options_free(&opts);
        return WR_EXIT_USAGE;
    }
    req.image = argv[optind];
    req.security = opts.security_set ? &opts.security : NULL;
    req.resources = opts.res;
    req.network = opts.network[0] ? opts.network : NULL;
    req.volumes = opts.volumes;
    struct wr_reply r;
    wr_error err;
    /* A missing bind source: said before anything is created. */
    if (wr_volumes_check_sources(&req.volumes, &err) < 0) {
        cli_error("%s", err.msg);
        cli_container_options_free(&opts);
        return WR_EXIT_FAILED;
    }
    int rc = cli_call(g, &req, &r);
    cli_container_options_free(&opts);
    if (rc < 0)
        return WR_EXIT_FAILED;
    wr_reply_free(&r);
    return wait ? wait_pool_full(g, req.image, timeout_s) : 0;
}

/* --json: the daemon's reply as docs/api.md describes it, one line. */
static int print_json(const struct wr_reply *r)
{
    size_t len;
    cleanup_free char *text = wr_reply_encode(r, &len);
    if (!text) {
        cli_error("cannot encode the reply as JSON");
        return WR_EXIT_FAILED;
    }
    printf("%s\n", text);
    return 0;
}

/* `COMMAND` or `COMMAND --json`: 1 for --json, 0 without, -1 (usage printed)
 * otherwise. */
static int json_flag(int argc, char **argv, const char *usage)
{
    if (argc == 1)
        return 0;
    if (argc == 2 && strcmp(argv[1], "--json") == 0)
        return 1;
    fprintf(stderr, "usage: %s\n", usage);
    return -1;
}

static int pool_ls(const struct wr_paths *g, bool json)
{
    struct wr_request req = {.op = WR_OP_POOL_LS};
    struct wr_reply r;
    if (cli_call(g, &req, &r) < 0)
        return WR_EXIT_FAILED;
    if (json) {
        int rc = print_json(&r);
        wr_reply_free(&r);
        return rc;
    }
    printf("%-24s %5s %5s %7s %7s %11s %8s %6s  %s\n", "IMAGE", "SIZE", "WARM", "FILLING",
           "RUNNING", "ACTIVATIONS", "FAILURES", "TMPFS", "LAST ERROR");
    for (size_t i = 0; i < r.n_pools; i++) {
        const struct wr_pool_info *p = &r.pools[i];
        printf("%-24s %5ld %5ld %7ld %7ld %11ld %8ld %5lluM  %s\n", p->image, p->size, p->warm,
               p->filling, p->running, p->activations, p->failures,
               (unsigned long long)(p->tmpfs_size >> 20), p->last_error);
        if (p->resources[0])
            printf("  resources: %s\n", p->resources);
        if (p->autoscale.on)
            printf("  autoscale: min %ld, max %ld, idle TTL %ld s; %s\n", p->autoscale.min,
                   p->autoscale.max, p->autoscale.idle_ttl_s, p->autoscale_why);
        if (p->profile[0])
            printf("  profile: %s\n", p->profile);
        if (p->settings)
            printf("  settings: %s\n", p->settings);
    }
    wr_reply_free(&r);
    return 0;
}

int cli_pool(const struct wr_paths *g, int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "create") == 0)
        return pool_create(g, argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "ls") == 0) {
        int json = json_flag(argc - 1, argv + 1, "warmrun pool ls [--json]");
        return json < 0 ? WR_EXIT_USAGE : pool_ls(g, json);
    }
    if (argc == 3 && strcmp(argv[1], "rm") == 0) {
        struct wr_request req = {.op = WR_OP_POOL_RM, .image = argv[2]};
        struct wr_reply r;
        if (cli_call(g, &req, &r) < 0)
            return WR_EXIT_FAILED;
        wr_reply_free(&r);
        return 0;
    }
    fprintf(stderr,
            "usage: warmrun pool create IMAGE (--size N | --max M [--min N] [--idle-ttl S]) "
            "[--wait] | pool ls [--json] | pool rm IMAGE\n");
    return WR_EXIT_USAGE;
}

int cli_ps(const struct wr_paths *g, int argc, char **argv)
{
    int json = json_flag(argc, argv, "warmrun ps [--json]");
    if (json < 0)
        return WR_EXIT_USAGE;
    struct wr_request req = {.op = WR_OP_PS};
    struct wr_reply r;
    if (cli_call(g, &req, &r) < 0)
        return WR_EXIT_FAILED;
    if (json) {
        int rc = print_json(&r);
        wr_reply_free(&r);
        return rc;
    }
    time_t now = time(NULL);
    printf("%-12s %-20s %-8s %8s %8s %6s %-8s %-3s  %s\n", "ID", "IMAGE", "STATE", "PID", "SHIM",
           "AGE", "CPUS", "OOM", "COMMAND");
    for (size_t i = 0; i < r.n_containers; i++) {
        const struct wr_container_info *c = &r.containers[i];
        printf("%-12s %-20s %-8s %8ld %8ld %5llds %-8s %-3s  ", c->id, c->image, c->state, c->pid,
               c->shim_pid, (long long)(now - c->created), c->cpus[0] ? c->cpus : "-",
               c->oom ? "yes" : "-");
        /* The command is the activation's argv: a tenant's bytes. */
        char command[sizeof c->command];
        snprintf(command, sizeof command, "%s", c->command);
        cli_blank_controls(command);
        printf("%s\n", command);
    }
    if (r.containers_omitted > 0)
        cli_error("%ld more container(s) not listed: the daemon's reply is limited to one "
                  "message (64 KiB); running ones are listed first",
                  r.containers_omitted);
    wr_reply_free(&r);
    return 0;
}

/* The signals' names as kill -l gives them on x86-64 Linux (glibc's
 * sigabbrev_np; musl, which the CLI is linked with, has no such table). */
static const char *const signal_names[] = {
    [SIGHUP] = "HUP",   [SIGINT] = "INT",       [SIGQUIT] = "QUIT", [SIGILL] = "ILL",
    [SIGTRAP] = "TRAP", [SIGABRT] = "ABRT",     [SIGBUS] = "BUS",   [SIGFPE] = "FPE",
    [SIGKILL] = "KILL", [SIGUSR1] = "USR1",     [SIGSEGV] = "SEGV", [SIGUSR2] = "USR2",
    [SIGPIPE] = "PIPE", [SIGALRM] = "ALRM",     [SIGTERM] = "TERM", [SIGSTKFLT] = "STKFLT",
    [SIGCHLD] = "CHLD", [SIGCONT] = "CONT",     [SIGSTOP] = "STOP", [SIGTSTP] = "TSTP",
    [SIGTTIN] = "TTIN", [SIGTTOU] = "TTOU",     [SIGURG] = "URG",   [SIGXCPU] = "XCPU",
    [SIGXFSZ] = "XFSZ", [SIGVTALRM] = "VTALRM", [SIGPROF] = "PROF", [SIGWINCH] = "WINCH",
    [SIGPOLL] = "POLL", [SIGPWR] = "PWR",       [SIGSYS] = "SYS",
};

static int parse_signal(const char *s)
{
    long n;
    if (cli_parse_long(s, 1, 64, &n) == 0)
        return (int)n;
    if (strncasecmp(s, "SIG", 3) == 0)
        s += 3;
    for (int sig = 1; sig < (int)(sizeof signal_names / sizeof *signal_names); sig++)
        if (signal_names[sig] && strcasecmp(signal_names[sig], s) == 0)
            return sig;
    return -1;
}

int cli_kill(const struct wr_paths *g, int argc, char **argv)
{
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: warmrun kill ID [SIGNAL]\n");
        return WR_EXIT_USAGE;
    }
    /* Checked here so that the line names what was given (the daemon's
     * reply can only name the request's field). */
    if (!wr_container_id_valid(argv[1])) {
        cli_error("kill: \"%s\" is not a container id (lower-case hex digits, 12 as `warmrun "
                  "ps` shows)",
                  argv[1]);
        return WR_EXIT_USAGE;
    }
    struct wr_request req = {.op = WR_OP_KILL, .id = argv[1], .signal = SIGKILL};
    if (argc == 3 && (req.signal = parse_signal(argv[2])) < 0) {
        cli_error("unknown signal \"%s\"", argv[2]);
        return WR_EXIT_USAGE;
    }
    struct wr_reply r;
    if (cli_call(g, &req, &r) < 0)
        return WR_EXIT_FAILED;
    wr_reply_free(&r);
    return 0;
}

/* `warmrun stats --daemon [--json]`: the daemon's activation latency view
 * (cli_stats.c passes its options on). */
int cli_stats_daemon(const struct wr_paths *g, int argc, char **argv)
{
    int json = json_flag(argc, argv, "warmrun stats --daemon [--json]");
    if (json < 0)
        return WR_EXIT_USAGE;
    struct wr_request req = {.op = WR_OP_STATS};
    struct wr_reply r;
    if (cli_call(g, &req, &r) < 0)
        return WR_EXIT_FAILED;
    if (json) {
        int rc = print_json(&r);
        wr_reply_free(&r);
        return rc;
    }
    const struct wr_stats_info *s = &r.stats;
    printf("activations %ld (warm %ld, pool empty %ld)\n", s->activations, s->warm_hits, s->misses);
    printf("daemon-side activation latency, request received to workload execve, last %ld:\n",
           s->samples);
    printf("  p50 %.1f us  p99 %.1f us  mean %.1f us  max %.1f us\n", s->p50_us, s->p99_us,
           s->mean_us, s->max_us);
    printf("  stage medians: daemon %.1f us, container wake-up %.1f us, container to execve "
           "%.1f us\n",
           s->daemon_p50_us, s->wake_p50_us, s->container_p50_us);
    wr_reply_free(&r);
    return 0;
}

int cli_shutdown(const struct wr_paths *g, int argc, char **argv)
{
    (void)argv;
    if (argc != 1) {
        fprintf(stderr, "usage: warmrun shutdown\n");
        return WR_EXIT_USAGE;
    }
    struct wr_request req = {.op = WR_OP_SHUTDOWN};
    struct wr_reply r;
    if (cli_call(g, &req, &r) < 0)
        return WR_EXIT_FAILED;
    wr_reply_free(&r);
    return 0;
}

/* Executes prog from the directory of the running warmrun, with pre (a
 * NULL-terminated list of arguments, or NULL) and then argv[1..]. */
int cli_sibling_path(const char *prog, char *out, size_t cap)
{
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n < 0)
        return -1;
    self[n] = '\0';
    char *slash = strrchr(self, '/');
    if (slash)
        *slash = '\0';
    int len = snprintf(out, cap, "%s/%s", self, prog);
    if (len < 0 || (size_t)len >= cap) {
        errno = ENAMETOOLONG;
        return -1;
    }
    return 0;
}

/* Executes the program prog of warmrun's directory, as argv0, with pre
 * and then argv after its first. */
static int exec_sibling(const char *prog, const char *argv0, const char *const *pre, int argc,
                        char **argv)
{
    char path[PATH_MAX + 32];
    if (cli_sibling_path(prog, path, sizeof path) < 0) {
        cli_error("find %s: %s", prog, strerror(errno));
        return WR_EXIT_FAILED;
    }
    size_t n_pre = 0;
    while (pre && pre[n_pre])
        n_pre++;
    cleanup_free char **args = calloc((size_t)argc + n_pre + 2, sizeof(char *));
    if (!args)
        return WR_EXIT_FAILED;
    int k = 0;
    args[k++] = (char *)argv0;
    for (size_t i = 0; i < n_pre; i++)
        args[k++] = (char *)pre[i];
    for (int i = 1; i < argc; i++)
        args[k++] = argv[i];
    execv(path, args);
    cli_error("exec %s: %s", path, strerror(errno));
    return WR_EXIT_FAILED;
}

/* `image rm IMAGE` is refused while a pool of the running daemon uses the
 * image (its containers mount the layers). No daemon: nothing uses it. */
static int image_in_use(const struct wr_paths *g, int argc, char **argv)
{
    if (argc != 3 || strcmp(argv[1], "rm") != 0 || argv[2][0] == '-')
        return 0;
    wr_error err;
    int used = cli_daemon_has_pool(g, argv[2], &err);
    if (used < 0)
        cli_error("image rm: cannot ask the daemon which images its pools use: %s", err.msg);
    else if (used)
        cli_error("image rm: a pool uses %s (warmrun pool rm %s first)", argv[2], argv[2]);
    return used != 0;
}

/* The image store lives in its own program so that the CLI, whose start-up
 * is on the activation path, does not load libarchive and libcrypto. */
int cli_image(const struct wr_paths *g, int argc, char **argv)
{
    if (image_in_use(g, argc, argv))
        return WR_EXIT_FAILED;
    /* The socket: an import tells the daemon, whose pools of that tag roll
     * over to the new image before the import returns. */
    const char *const pre[] = {"--root", g->root, "--socket", g->socket, NULL};
    /* Named "warmrun image": its messages then read as the command the
     * user typed (`warmrun image: ...`), as every subcommand's do. */
    return exec_sibling("warmrun-image", "warmrun image", pre, argc, argv);
}

/* The benchmarks too (docs/benchmarks.md); they use a private daemon and
 * store, so the global options do not apply. */
int cli_bench(const struct wr_paths *g, int argc, char **argv)
{
    (void)g;
    return exec_sibling("warmrun-bench", "warmrun-bench", NULL, argc, argv);
}

/* The daemon is its own program too: nothing of it is in this static
 * binary. It gets the CLI's paths as its own options. */
int cli_daemon(const struct wr_paths *g, int argc, char **argv)
{
    const char *const pre[] = {"--root",   g->root,   "--state-dir", g->state_dir,
                               "--socket", g->socket, NULL};
    return exec_sibling("warmrun-daemon", "warmrun-daemon", pre, argc, argv);
}

/* The network manager is in the daemon's program (it links libnftables,
 * which this static binary does not); it needs no running daemon. */
int cli_network(const struct wr_paths *g, int argc, char **argv)
{
    const char *const pre[] = {"network", "--state-dir", g->state_dir, NULL};
    return exec_sibling("warmrun-daemon", "warmrun-daemon", pre, argc, argv);
}
