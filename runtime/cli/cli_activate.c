/* warmrun activate: run a command in a container, warm from the daemon's
 * pool when it has one, else cold-started here with the very same setup. */
#include "cli.h"

#include "cli_options.h"
#include "cli_stdio.h"
#include "lib/activation.h"
#include "lib/activation_compose.h"
#include "lib/api_client.h"
#include "lib/cgroup.h"
#include "lib/cleanup.h"
#include "lib/clock.h"
#include "lib/container_id.h"
#include "lib/image_store.h"
#include "lib/net_publish.h"
#include "lib/shim_client.h"
#include "lib/shim_exe.h"
#include "lib/signal_fd.h"
#include "lib/state_defaults.h"
#include "lib/state_file.h"
#include "lib/state_tmpfs.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define COLD_SETUP_TIMEOUT_MS 30000

/* Signals the CLI passes on to the workload instead of dying of them. */
static const int forwarded_signals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};

struct activate_options {
    struct wr_request req;
    size_t env_cap;
    bool cold, no_cold, verbose;
    /* Security and resource options: a warm container has its pool's
     * settings, so these make the activation a cold start. */
    struct cli_container_options c;
    /* -p: published ports (cold starts on a bridge network) */
    char publish_text[WR_PUBLISH_MAX][WR_PUBLISH_TEXT];
    const char *publish[WR_PUBLISH_MAX];
    size_t n_publish;
};

static void usage(void)
{
    fprintf(stderr, "usage: warmrun activate [-e KEY=VALUE]... [-w DIR] [--hostname NAME] "
                    "[--entrypoint CMD] [--init] [--cold|--no-cold] [-v] "
                    "[-p [HOSTIP:]HOSTPORT:CONTAINERPORT[/tcp|udp]]... " CLI_CONTAINER_USAGE
                    " IMAGE [--] [COMMAND [ARG...]]\n");
}

static int add_env(struct activate_options *o, const char *kv)
{
    if (!wr_env_entry_valid(kv)) {
        cli_error("-e %s: expected KEY=VALUE", kv);
        return -1;
    }
    if (o->req.envc + 2 > o->env_cap) {
        o->env_cap = o->env_cap ? o->env_cap * 2 : 8;
        char **grown = realloc(o->req.env, o->env_cap * sizeof(char *));
        if (!grown)
            return -1;
        o->req.env = grown;
    }
    o->req.env[o->req.envc++] = strdup(kv);
    o->req.env[o->req.envc] = NULL;
    return 0;
}

static int parse_options(int argc, char **argv, struct activate_options *o)
{
    static const struct option longopts[] = {
        {"env", required_argument, NULL, 'e'},
        {"workdir", required_argument, NULL, 'w'},
        {"hostname", required_argument, NULL, 'h'},
        {"cold", no_argument, NULL, 'c'},
        {"no-cold", no_argument, NULL, 'n'},
        {"init", no_argument, NULL, 'i'},
        {"entrypoint", required_argument, NULL, 'E'},
        {"verbose", no_argument, NULL, 'v'},
        {"publish", required_argument, NULL, 'p'},
        {"help", no_argument, NULL, 'H'},
        {NULL, 0, NULL, 0},
    };
    struct option all_opts[sizeof longopts / sizeof *longopts + CLI_CONTAINER_OPTS_MAX];
    cli_container_longopts(longopts, all_opts);
    int c;
    optind = 0; /* 0: getopt reinitializes, after main's own parse */
    o->req.op = WR_OP_ACTIVATE;
    cli_container_options_init(&o->c);
    opterr = 0; /* one line of our own: cli_getopt_error */
    while ((c = getopt_long(argc, argv, "+:e:w:vu:p:", all_opts, NULL)) != -1) {
        int known = cli_container_option(&o->c, c, optarg);
        if (known < 0)
            return -1;
        if (known > 0)
            continue;
        switch (c) {
        case 'e':
            if (add_env(o, optarg) < 0)
                return -1;
            break;
        case 'w':
            if (optarg[0] != '/') {
                cli_error("-w %s: the working directory must be absolute", optarg);
                return -1;
            }
            o->req.cwd = strdup(optarg);
            break;
        case 'h':
            if (!wr_hostname_valid(optarg)) {
                cli_error("--hostname %s: not a valid host name", optarg);
                return -1;
            }
            o->req.hostname = strdup(optarg);
            break;
        case 'c':
            o->cold = true;
            break;
        case 'p': {
            struct wr_publish p;
            wr_error perr;
            if (o->n_publish >= WR_PUBLISH_MAX) {
                cli_error("at most %d -p options", WR_PUBLISH_MAX);
                return -1;
            }
            if (wr_publish_parse(optarg, &p, &perr) < 0) {
                cli_error("%s", perr.msg);
                return -1;
            }
            wr_publish_format(&p, o->publish_text[o->n_publish]);
            o->publish[o->n_publish] = o->publish_text[o->n_publish];
            o->n_publish++;
            break;
        }
        case 'n':
            o->no_cold = true;
            break;
        case 'v':
            o->verbose = true;
            break;
        case 'i':
            o->req.init = true;
            break;
        case 'E':
            free(o->req.entrypoint);
            o->req.entrypoint = strdup(optarg);
            break;
        case '?':
        case ':':
            cli_getopt_error("activate", "see warmrun activate --help", c, argv);
            return -1;
        default:
            usage();
            return -1;
        }
    }
    if (o->cold && o->no_cold) {
        cli_error("--cold and --no-cold exclude each other");
        return -1;
    }
    /* A pool's containers carry the pool's settings: security, resource,
     * volume and network options apply to a cold start of this one. */
    /* Docker publishes on its bridge network only. */
    if (o->n_publish && strncmp(o->c.network, "bridge=", 7) != 0 &&
        strncmp(o->c.network, "cni:", 4) != 0) {
        cli_error("-p needs --network bridge[=NAME] or cni:NAME");
        return -1;
    }
    bool settings = o->c.security_set || o->c.res_set || o->c.volumes.n > 0 || o->c.network[0];
    if (settings && o->no_cold) {
        cli_error("security, resource, volume and network options apply to cold starts; they "
                  "exclude --no-cold (a warm container has its pool's settings: give them to "
                  "pool create)");
        return -1;
    }
    o->cold |= settings;
    o->req.no_cold = o->no_cold;
    if (optind >= argc) {
        usage();
        return -1;
    }
    /* Docker's `run -v SRC:DST IMAGE`: here -v is --verbose, so SRC:DST
     * was taken for the image, refused as an invalid reference that said
     * nothing of why. No image reference starts with '/'. */
    if (o->verbose && argv[optind][0] == '/' && strchr(argv[optind], ':')) {
        cli_error("\"%.200s\" is not an image: -v is --verbose for activate; a volume is "
                  "--volume SRC:DST (-v on pool create)",
                  argv[optind]);
        return -1;
    }
    o->req.image = strdup(argv[optind++]);
    if (optind < argc && strcmp(argv[optind], "--") == 0)
        optind++;
    o->req.argc = (size_t)(argc - optind);
    o->req.argv = calloc(o->req.argc + 1, sizeof(char *));
    for (size_t i = 0; i < o->req.argc; i++)
        o->req.argv[i] = strdup(argv[optind + (int)i]);
    return 0;
}

/* How long the CLI copies the workload's output after its exit report:
 * every holder of the pipes dies with the container's pid namespace, so
 * EOF comes at once, unless a process is stuck in the kernel. */
#define OUTPUT_DRAIN_TIMEOUT_MS 2000

/* Waits for the next message on sock (the exit event, or the daemon's
 * error), passing forwarded signals on and relaying stdio meanwhile. */
static int wait_for_exit(int sock, int sigfd, struct cli_stdio *stdio, struct wr_reply *reply,
                         wr_error *err)
{
    struct pollfd p[5];
    for (;;) {
        p[0] = (struct pollfd){.fd = sock, .events = POLLIN};
        p[1] = (struct pollfd){.fd = sigfd, .events = POLLIN};
        size_t n = 2 + cli_stdio_pollfds(stdio, p + 2);
        if (poll(p, n, -1) < 0) {
            if (errno == EINTR)
                continue;
            return wr_error_set(err, errno, "poll");
        }
        cli_stdio_events(stdio, p + 2);
        if (p[1].revents & POLLIN) {
            struct signalfd_siginfo si;
            while (read(sigfd, &si, sizeof si) == (ssize_t)sizeof si) {
                struct wr_request sig = {.op = WR_OP_SIGNAL, .signal = (int)si.ssi_signo};
                wr_error ignored;
                (void)wr_api_send_request(sock, &sig, NULL, 0, &ignored);
            }
        }
        if (p[0].revents)
            return wr_api_read_reply(sock, reply, err);
    }
}

static int exit_status(const struct activate_options *o, const struct wr_reply *r, int64_t sent_ns)
{
    if (!r->ok) {
        cli_error("%s", r->error);
        return WR_EXIT_WARMRUN;
    }
    if (r->kind != WR_REPLY_EXIT) {
        cli_error("unexpected reply from the container's shim");
        return WR_EXIT_WARMRUN;
    }
    if (r->exit.error[0])
        cli_error("%s", r->exit.error);
    if (r->exit.oom && o->verbose)
        fprintf(stderr, "warmrun: container %s: out of memory (OOM kill in its memory cgroup)\n",
                r->exit.id);
    /* Which container ran, and why it was not a warm one (the shim echoes
     * the reason whoever started it gave: the daemon or this CLI). */
    if (o->verbose && r->exit.cold)
        fprintf(stderr, "warmrun: cold: %s\n", r->exit.reason[0] ? r->exit.reason : "unknown");
    if (o->verbose && r->exit.exec_ns > 0)
        fprintf(stderr,
                "warmrun: %s container %s: request to exec %.1f us, to exit report %.1f us, "
                "exit %d\n",
                r->exit.cold ? "cold" : "warm", r->exit.id,
                (double)(r->exit.exec_ns - sent_ns) / 1000.0,
                (double)(wr_monotonic_ns() - sent_ns) / 1000.0, r->exit.exit_code);
    return r->exit.exit_code;
}

/* The profile of a cold start: the activation's, with the running daemon's
 * --userns-default where the activation did not choose (state_defaults.h). */
static int cold_profile(const struct wr_paths *g, const struct activate_options *o,
                        struct wr_security_profile *out, wr_error *err)
{
    struct wr_daemon_defaults defaults;
    *out = o->c.security;
    if (out->userns_explicit)
        return 0;
    if (wr_defaults_read(g->state_dir, &defaults, err) < 0)
        return wr_error_prefix(err, "the daemon's defaults");
    out->userns_base = defaults.userns_base;
    out->userns_size = defaults.userns_size;
    return 0;
}

/* What a cold start leaves the CLI holding: its shim (our child, to
 * reap) and, once activated, the container's pidfd. */
struct cold_child {
    pid_t shim_pid;
    int pidfd;
    char id[WR_ID_LEN + 1];
};

/* Cold start: the daemon's fill path run here, then the same activation.
 * reason: why it is cold, for the exit event (`activate -v`). */
static int cold_start(const struct wr_paths *g, const struct activate_options *o,
                      const char *reason, const int stdio[3], int *client, struct cold_child *child,
                      wr_error *err)
{
    cleanup_image struct wr_image *img = NULL;
    /* Released on return: closing the control socket of a shim whose
     * container was never activated makes it kill the container and exit. */
    cleanup_shim struct wr_shim shim;
    cleanup_shim_exe struct wr_shim_exe exe;
    char shim_path[PATH_MAX];
    static char msg[WR_ACTIVATION_MAX];
    int pair[2];

    wr_shim_init(&shim);
    wr_shim_exe_init(&exe);
    struct wr_resources_env env;
    wr_resources_env(&o->c.res, &env);
    /* Never executed from its host path: this container's /proc/self/exe
     * must not be a host file (shim_exe.h). */
    if ((o->c.res_set && wr_resources_validate(&o->c.res, err) < 0) ||
        wr_volumes_check_sources(&o->req.volumes, err) < 0 ||
        wr_state_dir_prepare(g->state_dir, NULL, err) < 0 ||
        wr_shim_default_path(shim_path, sizeof shim_path, err) < 0 ||
        wr_image_load(g->root, o->req.image, &img, err) < 0 ||
        wr_shim_exe_open(&exe, shim_path, g->state_dir, err) < 0)
        return -1;
    /* A command the kernel could not execve is refused before a container
     * is made for it (the id is a stand-in of the real one's length). */
    cleanup_free char *big = NULL;
    const char *msg_at;
    if (wr_activation_compose_any(img, &o->req, env.vec, "000000000000", msg, sizeof msg, &big,
                                  &msg_at, err) < 0)
        return -1;
    free(steal_pointer(&big));
    char image_ref[WR_IMAGE_REF_MAX + 1];
    snprintf(image_ref, sizeof image_ref, "%s:%s", img->name, img->tag);
    char security[WR_PROFILE_TEXT], net_helper[PATH_MAX] = "";
    struct wr_security_profile profile;
    struct wr_shim_spec spec = {
        .shim_path = exe.exec_path,
        .state_dir = g->state_dir,
        .image = image_ref,
        .lowerdir = img->lowerdir,
        .tmpfs_bytes = WR_DEFAULT_TMPFS_BYTES,
        .fill_idle = false,
        .quiet = true,
        .security = security,
        .resources = o->c.res_set ? &o->c.res : NULL,
        .network = o->c.network[0] ? o->c.network : NULL,
        .publish = o->publish,
        .n_publish = o->n_publish,
        .net_helper = net_helper,
        .volumes = &o->req.volumes,
    };
    /* The shim runs the network manager for -p, cni:, and to make the
     * default bridge network on its first use (docs/network.md). */
    if ((strncmp(o->c.network, "bridge", 6) == 0 || strncmp(o->c.network, "cni:", 4) == 0) &&
        cli_sibling_path("warmrun-daemon", net_helper, sizeof net_helper) < 0)
        return wr_error_set(err, errno, "find warmrun-daemon");
    if (cold_profile(g, o, &profile, err) < 0 ||
        wr_security_encode_for(&profile, img->user, security, sizeof security, err) < 0 ||
        wr_shim_spawn(&spec, &shim, err) < 0)
        return -1;
    child->shim_pid = shim.shim_pid;
    snprintf(child->id, sizeof child->id, "%s", shim.id);
    if (wr_shim_wait_warm(&shim, COLD_SETUP_TIMEOUT_MS, err) < 0)
        return -1;
    ssize_t len = wr_activation_compose_any(img, &o->req, env.vec, shim.id, msg, sizeof msg, &big,
                                            &msg_at, err);
    if (len < 0)
        return -1;
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) < 0)
        return wr_error_set(err, errno, "socketpair");
    cleanup_close int ours = pair[0], theirs = pair[1];
    int64_t resumed_ns;
    if (wr_shim_activate(&shim, msg_at, (size_t)len, stdio, theirs, reason, &resumed_ns, err) < 0)
        return -1;
    *client = steal_fd(&ours);
    /* Kept past the release: if the shim dies, we end its container. */
    child->pidfd = steal_fd(&shim.pidfd);
    return 0;
}

/* After a cold start: the shim is our child: reap it, so that it does not
 * linger as a zombie where init does not reap orphans. It exits once we
 * hang up after its report (or, on failure, once its control socket
 * closed). Without an exit report the shim died (or we are giving up): its
 * container goes too, and what the shim could not remove (its record,
 * the container's cgroups) is removed here, as the daemon does for its
 * shims. */
static void cold_child_finish(const struct wr_paths *g, struct cold_child *child, bool reported,
                              int *sock)
{
    struct wr_shim held;
    wr_shim_init(&held);
    held.pidfd = child->pidfd;
    if (!reported)
        wr_shim_kill_orphan(&held, WR_ORPHAN_WAIT_MS);
    if (child->pidfd >= 0)
        close(child->pidfd);
    child->pidfd = -1;
    if (*sock >= 0)
        close(steal_fd(sock));
    if (child->shim_pid > 0) {
        int status = 0;
        while (waitpid(child->shim_pid, &status, 0) < 0 && errno == EINTR)
            ;
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            wr_state_remove(g->state_dir, child->id);
            wr_cgroup_remove_by_id(g->state_dir, child->id);
        }
    }
    /* Its record gone, the records' tmpfs may be too (state_tmpfs.h); also
     * after a start that failed before any shim (a missing image), which
     * mounted it (wr_state_dir_prepare). */
    wr_error ignored;
    (void)wr_state_records_release_idle(g->state_dir, &ignored);
}

/* Asks the daemon for a warm container. Returns 1 when the request was
 * sent (sock then carries the reply), 0 when no daemon is running. The
 * daemon answers itself only when it cannot activate; otherwise the next
 * message is the container's exit event, sent by its shim. */
static int try_warm(const struct wr_paths *g, const struct activate_options *o, const int stdio[3],
                    int *sock, wr_error *err)
{
    cleanup_close int fd = wr_api_connect(g->socket, err);
    if (fd < 0)
        return err->errnum == ENOENT || err->errnum == ECONNREFUSED ? 0 : -1;
    /* A request JSON cannot carry (bytes that are not UTF-8, or so many
     * escapes that its text passes WR_API_REQUEST_MAX) can still run cold:
     * the cold path passes the arguments as they are. */
    if (wr_api_send_request(fd, &o->req, stdio, 3, err) < 0) {
        if (err->errnum != 0 && err->errnum != E2BIG)
            return -1;
        /* But never around a pool of the image: its containers have the
         * pool's settings (limits, capabilities, read-only root, network,
         * user namespace), a cold start here only this activation's. A
         * byte that is not UTF-8 in an argument a platform passes on would
         * otherwise take its caller out of the pool's limits. */
        wr_error why = *err;
        int pooled = cli_daemon_has_pool(g, o->req.image, err);
        if (pooled < 0)
            return -1;
        if (pooled > 0) {
            wr_error_set(err, 0,
                         "%.300s: the daemon cannot take this activation, and a cold start "
                         "would not have the settings of the pool of %.200s: refused (--cold "
                         "starts it with this activation's own options)",
                         why.msg, o->req.image);
            return -1;
        }
        *err = why;
        return 0;
    }
    *sock = steal_fd(&fd);
    return 1;
}

int cli_activate(const struct wr_paths *g, int argc, char **argv)
{
    struct activate_options o = {0};
    wr_error err = {0};
    struct cli_stdio stdio;
    struct wr_reply reply = {0};
    cleanup_close int sock = -1;

    int parsed = parse_options(argc, argv, &o);
    /* Held by the request from here on (freed with it); only a cold
     * start uses them. */
    o.req.volumes = o.c.volumes;
    memset(&o.c.volumes, 0, sizeof o.c.volumes);
    if (parsed < 0) {
        wr_request_free(&o.req);
        return WR_EXIT_USAGE;
    }
    int rc = WR_EXIT_WARMRUN;
    /* What no execve could take is refused before anything is started
     * (the image's part is checked where the activation is composed). */
    if (wr_exec_args_check(o.req.argv, o.req.env, &err) < 0) {
        cli_error("%s", err.msg);
        wr_request_free(&o.req);
        return rc;
    }
    /* Before any descriptor of our own is opened: a closed 0, 1 or 2 must
     * be filled, not taken by our signalfd. */
    if (cli_stdio_prepare(&stdio, &err) < 0) {
        cli_error("%s", err.msg);
        wr_request_free(&o.req);
        return rc;
    }
    /* A relayed output whose reader goes away (a named pipe) must fail
     * with EPIPE, not kill the CLI. The shim starts with every signal at
     * its default (shim_client.c), so nothing else inherits this. */
    signal(SIGPIPE, SIG_IGN);
    /* Reading a terminal from a background job then fails (EIO: the
     * workload sees EOF) instead of stopping the CLI. */
    signal(SIGTTIN, SIG_IGN);
    cleanup_close int sigfd =
        wr_signalfd_open(forwarded_signals, sizeof forwarded_signals / sizeof forwarded_signals[0]);
    int64_t sent_ns = wr_monotonic_ns();
    char reason[WR_ERROR_MSG_MAX];
    /* A pool's containers have the pool's settings, fixed when they were
     * made: an activation with options of its own cannot use one. */
    snprintf(reason, sizeof reason, "%s%s",
             o.c.network[0]                    ? "per-activation network options"
             : o.c.security_set && o.c.res_set ? "per-activation security and resource options"
             : o.c.security_set                ? "per-activation security options"
             : o.c.res_set                     ? "per-activation resource options"
             : o.req.volumes.n                 ? "per-activation volume options"
                                               : "--cold",
             o.c.security_set || o.c.res_set || o.req.volumes.n || o.c.network[0]
                 ? " (a pool's containers have the pool's settings)"
                 : "");
    if (!o.cold) {
        int got = try_warm(g, &o, stdio.pass, &sock, &err);
        if (got < 0)
            goto fail;
        if (got == 1) {
            if (wait_for_exit(sock, sigfd, &stdio, &reply, &err) < 0)
                goto fail;
            if (reply.ok || strcmp(reply.code, "no_warm") != 0) {
                /* The workload's last output before our own messages. */
                cli_stdio_finish(&stdio, OUTPUT_DRAIN_TIMEOUT_MS);
                rc = exit_status(&o, &reply, sent_ns);
                goto out;
            }
            close(steal_fd(&sock));
        }
        /* Why there is no warm container: the daemon's answer, or why the
         * request could not reach it. */
        if (got == 1) {
            wr_error_set(&err, 0, "%s", reply.error);
            snprintf(reason, sizeof reason, "%s", reply.error);
        } else if (err.errnum == ENOENT || err.errnum == ECONNREFUSED) {
            wr_error_set(&err, 0, "no daemon is running at %s", g->socket);
            snprintf(reason, sizeof reason, "no daemon");
        } else {
            snprintf(reason, sizeof reason, "the request cannot go to the daemon: %.400s", err.msg);
        }
        if (o.no_cold)
            goto fail;
        wr_reply_free(&reply);
    }
    if (geteuid() != 0) {
        /* Only root makes containers (namespaces, mounts, cgroups): a user's
         * cold start failed at its clone, with "clone3: Operation not
         * permitted", which said nothing of why there was no daemon's. */
        wr_error_set(&err, 0, "a cold start (%s) needs root", reason);
        goto fail;
    }
    sent_ns = wr_monotonic_ns();
    struct cold_child child = {.shim_pid = -1, .pidfd = -1};
    int done = cold_start(g, &o, reason, stdio.pass, &sock, &child, &err);
    if (done == 0)
        done = wait_for_exit(sock, sigfd, &stdio, &reply, &err);
    if (done == 0) {
        cli_stdio_finish(&stdio, OUTPUT_DRAIN_TIMEOUT_MS);
        rc = exit_status(&o, &reply, sent_ns);
    }
    cold_child_finish(g, &child, done == 0, &sock);
    if (done == 0)
        goto out;
fail:
    /* A workload may have run (a connection lost mid-way): what it wrote
     * still goes out first. */
    cli_stdio_finish(&stdio, OUTPUT_DRAIN_TIMEOUT_MS);
    cli_error("%s", err.msg);
out:
    if (stdio.warning.msg[0])
        cli_error("%s", stdio.warning.msg);
    wr_reply_free(&reply);
    wr_request_free(&o.req);
    return rc;
}
