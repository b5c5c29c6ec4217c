/* warmrun-daemon (`warmrun daemon` executes it): setup, the event loop, and
 * shutdown. Its own program, so that the static CLI holds none of it. */
#include "daemon.h"

#include "daemon_adopt.h"
#include "daemon_function.h"
#include "daemon_api.h"
#include "daemon_client.h"
#include "daemon_events.h"
#include "daemon_http.h"
#include "daemon_log.h"
#include "daemon_metrics.h"
#include "daemon_network.h"
#include "daemon_peer.h"
#include "daemon_persist.h"
#include "daemon_pool.h"
#include "daemon_resources.h"
#include "daemon_security.h"
#include "daemon_shim.h"
#include "daemon_shim_exe.h"
#include "daemon_shim_server.h"
#include "daemon_start.h"
#include "lib/api_client.h"
#include "lib/cgroup.h"
#include "lib/cleanup.h"
#include "lib/clock.h"
#include "lib/cpumask.h"
#include "lib/image_store.h"
#include "lib/protocol.h"
#include "lib/signal_fd.h"
#include "lib/state_defaults.h"
#include "lib/state_file.h"
#include "lib/state_tmpfs.h"
#include "lib/workload_user.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_CLIENTS                  1024
#define CLIENT_IDLE_NS               (30LL * 1000000000) /* a connection that sends nothing is dropped */
#define SHUTDOWN_REAP_MS             3000
#define SHUTDOWN_HANDED_OUT_GRACE_MS 300
#define ACCEPT_PAUSE_NS              (100LL * 1000000)
#define DAEMON_OOM_SCORE_ADJ         "-500" /* as dockerd's */
/* Containers started at once for activations that found no warm one: each
 * costs a fill (~7 ms CPU, a few MB until it runs) at normal priority. */
#define DEFAULT_MAX_STARTING 16
#define MAX_STARTING_LIMIT   1024

/* How long a starting daemon waits for the state directory's lock: 1 s. */
#define STATE_LOCK_TRIES    100
#define STATE_LOCK_PAUSE_US 10000

/* One daemon per state directory, whatever its socket: a second one would
 * sweep the first's compiled filters and withdraw its published defaults
 * (a cold start would then run without its --userns-default). The lock
 * (flock on the directory, held on *lock_fd for the daemon's life) goes
 * with the process, however it ends. */
static int refuse_second_daemon(const struct wr_paths *g, int *lock_fd, wr_error *err)
{
    wr_error ignored;
    int fd = wr_api_connect(g->socket, &ignored);
    if (fd >= 0) {
        close(fd);
        return wr_error_set(err, EADDRINUSE, "a daemon is already serving %s", g->socket);
    }
    *lock_fd = open(g->state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (*lock_fd < 0)
        return wr_error_set(err, errno, "open %s", g->state_dir);
    /* A cold start whose container ended holds it shared for a moment
     * (wr_state_records_release_idle): waited for, briefly. */
    int tries = 0;
    while (flock(*lock_fd, LOCK_EX | LOCK_NB) < 0) {
        if (errno != EWOULDBLOCK || ++tries >= STATE_LOCK_TRIES)
            return wr_error_set(err, errno == EWOULDBLOCK ? EADDRINUSE : errno,
                                "another daemon uses the state directory %s", g->state_dir);
        usleep(STATE_LOCK_PAUSE_US);
    }
    if (unlink(g->socket) < 0 && errno != ENOENT)
        return wr_error_set(err, errno, "remove stale socket %s", g->socket);
    return 0;
}

/* Only root may drive the daemon: the socket is 0600 in a 0700 directory,
 * and every connection's peer credentials are checked again on accept. */
static int open_socket(struct daemon *d, wr_error *err)
{
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    snprintf(addr.sun_path, sizeof addr.sun_path, "%s", d->g->socket);
    d->listen_fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (d->listen_fd < 0)
        return wr_error_set(err, errno, "socket");
    mode_t old = umask(0177);
    int rc = bind(d->listen_fd, (struct sockaddr *)&addr, sizeof addr);
    umask(old);
    if (rc < 0)
        return wr_error_set(err, errno, "bind %s", d->g->socket);
    if (chmod(d->g->socket, d->socket_group ? 0660 : 0600) < 0 ||
        (d->socket_group && chown(d->g->socket, 0, d->socket_gid) < 0) ||
        listen(d->listen_fd, 128) < 0)
        return wr_error_set(err, errno, "listen on %s", d->g->socket);
    return 0;
}

static int pin_to_cpu(struct daemon *d, wr_error *err)
{
    cpu_set_t allowed, one;
    if (sched_getaffinity(0, sizeof allowed, &allowed) < 0)
        return wr_error_set(err, errno, "sched_getaffinity");
    if (d->pin_cpu >= CPU_SETSIZE || !CPU_ISSET(d->pin_cpu, &allowed))
        return wr_error_set(err, EINVAL, "--pin-cpu %d: not a CPU this daemon may use", d->pin_cpu);
    if (wr_cpumask_format(&allowed, d->workload_cpus, sizeof d->workload_cpus, err) < 0)
        return -1;
    CPU_ZERO(&one);
    CPU_SET(d->pin_cpu, &one);
    if (sched_setaffinity(0, sizeof one, &one) < 0)
        return wr_error_set(err, errno, "pin to CPU %d", d->pin_cpu);
    return 0;
}

/* A workload that eats the host's memory must be the OOM killer's choice,
 * not the daemon (or a shim, which inherits this; containers reset it).
 * Lowering the score needs CAP_SYS_RESOURCE: without it, say so and go on. */
static void protect_from_oom(void)
{
    int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
    if (fd < 0 || write(fd, DAEMON_OOM_SCORE_ADJ, strlen(DAEMON_OOM_SCORE_ADJ)) < 0) {
        int saved = errno;
        /* Once, at start (shims and containers never try): the reason,
         * and what it means. */
        daemon_log("oom_score_adj: not lowered to %s (%s%s); the daemon and its shims keep the "
                   "OOM killer's default score",
                   DAEMON_OOM_SCORE_ADJ, strerror(saved),
                   saved == EACCES || saved == EPERM ? ": lowering it needs CAP_SYS_RESOURCE" : "");
    }
    if (fd >= 0)
        close(fd);
}

static int add_watch(struct daemon *d, int fd, struct watch *w)
{
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = w};
    return epoll_ctl(d->epfd, EPOLL_CTL_ADD, fd, &ev);
}

/* --http and --http-token-file (daemon_http.h). */
static const char *http_addr, *http_token_file;

static int setup(struct daemon *d, wr_error *err)
{
    struct rlimit rl;
    char shim_path[PATH_MAX];
    wr_error records;
    if (geteuid() != 0)
        return wr_error_set(err, EPERM, "the daemon must run as root");
    if (wr_store_root_valid(d->g->root, err) < 0 || wr_store_layers_private(d->g->root, err) < 0 ||
        wr_state_dir_prepare(d->g->state_dir, &records, err) < 0 ||
        wr_shim_default_path(shim_path, sizeof shim_path, err) < 0)
        return -1;
    if (records.msg[0])
        daemon_log("state: container records stay on the state directory's own file system: %s",
                   records.msg);
    if (access(shim_path, X_OK) < 0)
        return wr_error_set(err, errno, "shim %s", shim_path);
    if (daemon_shim_exe_open(d, shim_path, err) < 0)
        return -1;
    protect_from_oom();
    /* Every warm container costs the daemon two or three descriptors. */
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    if (d->pin_cpu >= 0 && pin_to_cpu(d, err) < 0)
        return -1;
    if (refuse_second_daemon(d->g, &d->state_lock_fd, err) < 0 || open_socket(d, err) < 0)
        return -1;

    static const int handled[] = {SIGCHLD, SIGTERM, SIGINT, SIGHUP};
    signal(SIGPIPE, SIG_IGN);
    d->sigfd = wr_signalfd_open(handled, sizeof handled / sizeof handled[0]);
    d->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (d->sigfd < 0 || d->epfd < 0)
        return wr_error_set(err, errno, "signalfd/epoll");
    d->listen_watch.kind = WATCH_LISTEN;
    d->signal_watch.kind = WATCH_SIGNAL;
    if (add_watch(d, d->listen_fd, &d->listen_watch) < 0 ||
        add_watch(d, d->sigfd, &d->signal_watch) < 0)
        return wr_error_set(err, errno, "epoll_ctl");
    if (daemon_metrics_init(d, err) < 0)
        return -1;
    if (http_addr) {
        if (daemon_http_start(d, http_addr, http_token_file, err) < 0)
            return -1;
        daemon_log("http: listening on %s (port %u)%s", http_addr, daemon_http_port(d),
                   http_token_file ? ", bearer token required" : "");
    }
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    /* Pinned, every fill runs on the one CPU: more in parallel gain nothing. */
    d->max_parallel_fills = d->pin_cpu >= 0 || cpus < 1 ? 1 : cpus;
    /* Last, once the socket is ours: the CLI's own cold starts follow these
     * defaults while this daemon runs (state_defaults.h). */
    struct wr_daemon_defaults defaults = {.userns_base = d->userns_base,
                                          .userns_size = d->userns_size};
    if (wr_defaults_publish(d->g->state_dir, &defaults, err) < 0)
        return -1;
    /* Last: it inherits what the daemon set up for its shims (OOM score,
     * descriptor limit, CPU). */
    daemon_shim_server_fd(d);
    return 0;
}

/* Live records belong to containers started before this daemon (they
 * carry on, show in ps as detached, and are adopted). */
struct live_count {
    struct daemon *d;
    size_t n;
};

static void adopt_live(const struct wr_state_record *rec, void *ctx)
{
    struct live_count *c = ctx;
    daemon_adopt(c->d, rec);
    c->n++;
}

/* After the epoll set exists: live containers are adopted (daemon_adopt.c);
 * stale records go, and with them any pid 1 that outlived its shim. */
static void sweep_state(struct daemon *d)
{
    struct live_count c = {.d = d};
    size_t stale = wr_state_scan(d->g->state_dir, adopt_live, &c);
    size_t live = c.n;
    if (live || stale)
        daemon_log("state: %zu live container(s) from before, %zu stale record(s) removed", live,
                   stale);
    daemon_resources_sweep(d);
    daemon_security_sweep(d);
    /* Leases of containers whose shims died while no daemon ran. */
    daemon_network_reconcile(d->g->state_dir);
}

static void on_listen(struct daemon *d)
{
    for (;;) {
        int fd = accept4(d->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE) {
                /* The listening socket stays readable: without a pause the
                 * loop would spin until a descriptor is freed. */
                daemon_log("accept: %s; pausing new connections", strerror(errno));
                epoll_ctl(d->epfd, EPOLL_CTL_DEL, d->listen_fd, NULL);
                d->accept_paused_until_ns = wr_monotonic_ns() + ACCEPT_PAUSE_NS;
            } else if (errno != EAGAIN && errno != EINTR) {
                daemon_log("accept: %s", strerror(errno));
            }
            return;
        }
        /* A refused peer gets one reply, and nothing it sent is read. */
        const char *code = NULL, *refusal = NULL;
        if (!daemon_peer_allowed(d, fd)) {
            code = "denied";
            refusal = d->socket_group ? "only root and the socket group may use this socket"
                                      : "only root may use this socket";
        } else if (d->n_clients >= MAX_CLIENTS) {
            code = "busy";
            refusal = "too many connections";
        }
        if (refusal) {
            size_t len;
            char *text = wr_reply_error(code, refusal, &len);
            if (text)
                (void)send(fd, text, len, MSG_NOSIGNAL | MSG_DONTWAIT);
            free(text);
            close(fd);
            continue;
        }
        struct client *c = daemon_client_new(d, fd);
        if (!c)
            continue;
        /* The request usually arrives with the connection: serve it now
         * rather than after another trip through epoll. */
        daemon_on_client(d, c);
    }
}

static void on_signal(struct daemon *d)
{
    struct signalfd_siginfo si;
    while (read(d->sigfd, &si, sizeof si) == (ssize_t)sizeof si) {
        if (si.ssi_signo == SIGCHLD) {
            daemon_reap(d);
        } else if (!d->stopping) {
            daemon_log("signal %u: shutting down", si.ssi_signo);
            d->stopping = true;
        }
    }
}

static void drop_idle_clients(struct daemon *d, int64_t now)
{
    for (struct client *c = d->clients, *next; c; c = next) {
        next = c->next;
        /* One waiting for its container is not idle: the start has its own
         * bound (the shim's setup timeout). */
        if (!c->starting && !c->subscriber && now - c->last_active_ns > CLIENT_IDLE_NS)
            daemon_close_client(d, c);
    }
}

static int loop_timeout_ms(const struct daemon *d, int64_t now)
{
    int64_t next = daemon_next_fill_ns(d);
    int timeout = -1;
    if (next >= 0)
        timeout = next <= now ? 0 : (int)((next - now) / 1000000) + 1;
    if (d->clients && (timeout < 0 || timeout > 1000))
        timeout = 1000;
    if (d->accept_paused_until_ns > 0 && (timeout < 0 || timeout > 100))
        timeout = 100;
    int functions = daemon_functions_timeout_ms(d);
    if (functions >= 0 && (timeout < 0 || timeout > functions))
        timeout = functions;
    int http = daemon_http_timeout_ms(d);
    if (http >= 0 && (timeout < 0 || timeout > http))
        timeout = http;
    int server = daemon_shim_server_timeout_ms(d);
    if (server >= 0 && (timeout < 0 || timeout > server))
        timeout = server;
    return timeout;
}

static void run_loop(struct daemon *d)
{
    struct epoll_event events[64];
    while (!d->stopping) {
        daemon_shim_server_tick(d);
        daemon_fill_pools(d);
        daemon_functions_tick(d);
        int n = epoll_wait(d->epfd, events, 64, loop_timeout_ms(d, wr_monotonic_ns()));
        if (n < 0 && errno != EINTR) {
            daemon_log("epoll_wait: %s", strerror(errno));
            continue;
        }
        for (int i = 0; i < n; i++) {
            struct watch *w = events[i].data.ptr;
            switch (w->kind) {
            case WATCH_LISTEN:
                on_listen(d);
                break;
            case WATCH_SIGNAL:
                on_signal(d);
                break;
            case WATCH_CLIENT:
                daemon_on_client(d, (struct client *)w);
                break;
            case WATCH_SHIM:
                daemon_on_shim(d, (struct entry *)w);
                break;
            case WATCH_ADOPTED:
                daemon_on_adopted(d, w);
                break;
            case WATCH_FUNCTION:
                daemon_functions_event(d, w, events[i].events);
                break;
            case WATCH_HTTP:
            case WATCH_HTTP_PEER:
                daemon_http_on_event(d, w);
                break;
            }
            /* Waiting activations whose container start that event ended
             * get their answer now, before any other event. */
            if (d->unanswered)
                daemon_start_answer(d);
        }
        daemon_http_run_due(d);
        daemon_pool_bury(d);
        daemon_client_bury(d);
        daemon_functions_bury(d);
        daemon_http_bury(d);
        int64_t now = wr_monotonic_ns();
        if (d->clients)
            drop_idle_clients(d, now);
        if (d->accept_paused_until_ns > 0 && now >= d->accept_paused_until_ns) {
            d->accept_paused_until_ns = 0;
            add_watch(d, d->listen_fd, &d->listen_watch);
        }
    }
}

/* The records' tmpfs goes with the daemon unless a container it handed
 * out still runs (its record is there, for the next daemon to adopt).
 * The state directory's lock is let go first: a shim whose container ends
 * from then on finds no daemon and releases the tmpfs itself (shim_main.c),
 * and one that ended before removed its record before our look. Held to
 * the exit, a shim ending between our look and the exit found the lock
 * taken and left the tmpfs, as we had for its record. A daemon starting
 * meanwhile takes the lock, and the tmpfs is its own.
 * served: false for a start that failed, whose preparation of the state
 * directory (if it came that far) mounted the tmpfs, which a daemon that
 * never served (a --socket in a missing directory, a bad --pin-cpu) left
 * mounted, empty, for good; then quietly: the state directory may not
 * exist. */
static void release_records(struct daemon *d, bool served)
{
    wr_error err;
    if (d->state_lock_fd >= 0)
        close(d->state_lock_fd);
    d->state_lock_fd = -1;
    if (wr_state_records_release_idle(d->g->state_dir, &err) < 0 && served)
        daemon_log("state: %s", err.msg);
}

/* Warm and filling containers go with the daemon; running ones live on and
 * still report to their clients through their shims. */
static void shutdown_daemon(struct daemon *d)
{
    close(d->listen_fd);
    unlink(d->g->socket);
    daemon_http_stop(d); /* unanswered requests are cancelled first */
    wr_defaults_withdraw(d->g->state_dir);
    while (d->clients) {
        struct client *c = d->clients;
        if (c->starting)
            daemon_start_fail(d, c->starting, "internal",
                              "the daemon stopped before the container was ready");
        else
            daemon_close_client(d, c);
    }
    daemon_functions_shutdown(d);
    daemon_release_idle(d);
    daemon_start_answer(d);
    for (int waited = 0; waited < SHUTDOWN_REAP_MS; waited += 10) {
        bool pending = false, running = false;
        daemon_reap(d);
        for (struct entry *e = d->entries; e; e = e->next) {
            pending |= !e->reaped && !e->handed_out;
            running |= !e->reaped && e->handed_out;
        }
        /* A handed-out container keeps running without us; but one that
         * has just exited has a shim still removing its cgroups, which
         * the scope's removal below must come after: a moment's grace. */
        if (!pending && (!running || waited >= SHUTDOWN_HANDED_OUT_GRACE_MS))
            break;
        usleep(10000);
    }
    while (d->pools) {
        struct pool *p = d->pools;
        d->pools = p->next;
        daemon_pool_security_release(p);
        wr_image_free(p->img);
        wr_volumes_free(&p->volumes);
        free(p->request);
        free(p);
    }
    while (d->entries) {
        struct entry *e = d->entries;
        d->entries = e->next;
        free(e);
    }
    daemon_pool_bury(d);
    daemon_client_bury(d);
    daemon_resources_shutdown(d);
    daemon_events_free(d);
    daemon_metrics_free(d);
    close(d->epfd);
    close(d->sigfd);
    daemon_shim_server_stop(d);
    wr_shim_exe_close(&d->shim_exe);
    release_records(d, true);
    daemon_log("stopped");
}

/* Exit statuses as the CLI's (docs/cli.md). */
#define EXIT_FAILED 1
#define EXIT_USAGE  2

/* Errors before the log starts, worded as the CLI's. */
static void startup_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void startup_error(const char *fmt, ...)
{
    va_list ap;
    fputs("warmrun: daemon: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

/* --cni-conf-dir, --cni-path: absolute paths, ':'-separated, none empty. */
static bool cni_paths_valid(const char *s)
{
    for (const char *p = s;; p++) {
        if (*p != '/')
            return false;
        p = strchr(p, ':');
        if (!p)
            return true;
    }
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"root", required_argument, NULL, 'r'},
        {"state-dir", required_argument, NULL, 's'},
        {"socket", required_argument, NULL, 'S'},
        {"pin-cpu", required_argument, NULL, 'p'},
        {"socket-group", required_argument, NULL, 'G'},
        {"max-cold-starts", required_argument, NULL, 'M'},
        {"userns-default", required_argument, NULL, 'U'},
        {"http", required_argument, NULL, 'H'},
        {"http-token-file", required_argument, NULL, 'T'},
        {"cni-conf-dir", required_argument, NULL, 'C'},
        {"cni-path", required_argument, NULL, 'P'},
        {NULL, 0, NULL, 0},
    };
    static struct daemon d; /* large (latency ring): not on the stack */
    static struct wr_paths paths;
    const char *socket_opt = NULL;
    wr_error err;
    char *end;
    int c;
    /* Before any child: the shim server, the seccomp compiler, the shims
     * whose exits the loop reaps; the network manager's CNI plugins. */
    wr_sigchld_default();
    /* `warmrun network ...`: the network manager, no daemon loop. */
    if (argc >= 2 && strcmp(argv[1], "network") == 0)
        return daemon_network_main(argc - 1, argv + 1);
    d.pin_cpu = -1;
    d.max_starting = DEFAULT_MAX_STARTING;
    wr_paths_from_env(&paths);
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        if (c == 'r' || c == 's' || c == 'S') {
            *(c == 'r' ? &paths.root : c == 's' ? &paths.state_dir : &socket_opt) = optarg;
            continue;
        }
        if (c == 'H' || c == 'T') {
            *(c == 'H' ? &http_addr : &http_token_file) = optarg;
            continue;
        }
        if (c == 'C' || c == 'P') {
            /* The CNI settings of the pools' shims and of the network
             * manager they run (docs/network.md): the environment they
             * inherit, which the option overrides. Absolute paths only:
             * the daemon's working directory is no one's choice. */
            const char *var = c == 'C' ? "WARMRUN_CNI_CONF_DIR" : "WARMRUN_CNI_PATH";
            if (!cni_paths_valid(optarg) || (c == 'C' && strchr(optarg, ':')) ||
                setenv(var, optarg, 1) < 0) {
                startup_error("--%s %s: expected absolute paths%s",
                              c == 'C' ? "cni-conf-dir" : "cni-path", optarg,
                              c == 'P' ? " (':'-separated)" : "");
                return EXIT_USAGE;
            }
            continue;
        }
        if (c == 'U') {
            struct wr_security_profile p;
            wr_security_profile_default(&p);
            if (wr_security_option(&p, "userns", optarg, &err) < 0) {
                startup_error("--userns-default: %s", err.msg);
                return EXIT_USAGE;
            }
            d.userns_base = p.userns_base;
            d.userns_size = p.userns_size;
            continue;
        }
        if (c == 'M') {
            errno = 0;
            long n = strtol(optarg, &end, 10);
            if (errno == 0 && *end == '\0' && end != optarg && n >= 0 && n <= MAX_STARTING_LIMIT) {
                d.max_starting = n;
                continue;
            }
            startup_error("--max-cold-starts %s: expected an integer from 0 to %d", optarg,
                          MAX_STARTING_LIMIT);
            return EXIT_USAGE;
        }
        if (c == 'G') {
            if (wr_group_id(optarg, &d.socket_gid, &err) < 0) {
                startup_error("--socket-group: %s", err.msg);
                return EXIT_USAGE;
            }
            d.socket_group = true;
            continue;
        }
        if (c == 'p') {
            errno = 0;
            long cpu = strtol(optarg, &end, 10);
            if (errno == 0 && *end == '\0' && end != optarg && cpu >= 0 && cpu < CPU_SETSIZE) {
                d.pin_cpu = (int)cpu;
                continue;
            }
        }
        c = '?';
        break;
    }
    if (c == '?' || optind != argc) {
        fprintf(stderr,
                "usage: warmrun [--root DIR] [--state-dir DIR] [--socket PATH] daemon "
                "[--pin-cpu N] [--socket-group GROUP] [--max-cold-starts N] "
                "[--userns-default auto|host|BASE[:SIZE]] [--http ADDR:PORT "
                "[--http-token-file FILE]] [--cni-conf-dir DIR] [--cni-path DIR[:DIR...]]\n");
        return EXIT_USAGE;
    }
    if (http_token_file && !http_addr) {
        startup_error("--http-token-file needs --http ADDR:PORT");
        return EXIT_USAGE;
    }
    if (wr_paths_set_socket(&paths, socket_opt, &err) < 0) {
        startup_error("%s", err.msg);
        return EXIT_USAGE;
    }
    d.g = &paths;
    const struct wr_paths *g = d.g;
    d.listen_fd = d.epfd = d.sigfd = d.state_lock_fd = -1;
    d.spawn = wr_shim_spawn;
    d.shim_server.fd = -1;
    wr_shim_exe_init(&d.shim_exe);
    if (setup(&d, &err) < 0) {
        if (d.listen_fd >= 0) /* the socket is ours: no daemon serves it */
            unlink(g->socket);
        release_records(&d, false);
        startup_error("%s", err.msg);
        return EXIT_FAILED;
    }
    sweep_state(&d);
    if (daemon_functions_init(&d, &err) < 0) {
        release_records(&d, false);
        startup_error("%s", err.msg);
        return EXIT_FAILED;
    }
    daemon_pools_restore(&d);
    daemon_log("serving %s (store %s, state %s)", g->socket, g->root, g->state_dir);
    if (d.userns_size)
        daemon_log("containers run in a user namespace by default: host uids %u-%u", d.userns_base,
                   d.userns_base + d.userns_size - 1);
    run_loop(&d);
    shutdown_daemon(&d);
    return 0;
}
