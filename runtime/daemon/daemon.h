/* The pool daemon: one single-threaded event loop (epoll) over the control
 * socket, its clients, every shim's control socket and a signalfd. This
 * header holds the daemon's state and its clients; pools and their
 * containers are daemon_pool.h's.
 *
 * Modules, each calling only those listed after it:
 *   daemon_main   setup, the event loop, shutdown
 *   daemon_http   the HTTP listener (--http): routes -> handlers
 *   daemon_api    requests -> replies; the activation hot path
 *   daemon_shim   a shim's messages and its reaping -> pool transitions
 *   daemon_start  an activation waiting for a container started for it, or
 *                 (--no-cold) for the pool's fill it took
 *   daemon_client client connections: error replies, closing
 *   daemon_function_api  function requests -> replies
 *   daemon_function      functions: environments, invocations
 *   daemon_runtime_api   the environments' Lambda Runtime API server
 *   daemon_persist pools stored in the image store, restored at start;
 *                 a pool rolling over to its re-imported tag
 *   daemon_pool   pools and the state machine of their containers
 *   daemon_adopt  live containers of an earlier daemon or a cold start
 *   daemon_autoscale, daemon_resources, daemon_security, daemon_shim_exe,
 *   daemon_peer, daemon_log, prefault, function_log: one concern each, called
 *   by the above. */
#ifndef WARMRUN_DAEMON_H
#define WARMRUN_DAEMON_H

#include "lib/error.h"
#include "lib/latency_ring.h"
#include "lib/paths.h"
#include "lib/protocol.h"
#include "lib/shim_client.h"
#include "lib/shim_exe.h"

#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* What an epoll event points at. */
enum watch_kind {
    WATCH_LISTEN,
    WATCH_SIGNAL,
    WATCH_CLIENT,
    WATCH_SHIM,
    WATCH_ADOPTED,
    WATCH_FUNCTION,  /* daemon_function.h */
    WATCH_HTTP,      /* libmicrohttpd's epoll descriptor (daemon_http.c) */
    WATCH_HTTP_PEER, /* a suspended HTTP request's peer hanging up */
};
struct watch {
    enum watch_kind kind;
};

struct entry;
struct pool;
struct daemon_functions;
struct daemon_http;
struct daemon_events;
struct daemon_metrics;

#define WR_START_SIGNALS_MAX 8

struct client {
    struct watch watch;
    int fd;
    int64_t last_active_ns; /* accept or last request: idle connections are dropped */
    struct client *prev, *next;
    bool closed; /* in the graveyard: freed after the current batch */
    /* An activation waiting for the container `starting` (daemon_start.c):
     * its request, the caller's stdio, when it arrived, and the signals
     * asked for meanwhile (sent to the workload once it runs). */
    struct entry *starting;
    struct wr_request req;
    int fds[3];
    int64_t received_ns;
    int signals[WR_START_SIGNALS_MAX];
    size_t n_signals;
    bool claimed; /* it waits for a pool fill it took (--no-cold), not a start */
    /* Its container start ended before the hand-over (daemon_pool.c): the
     * error it gets (daemon_start_answer), queued on daemon.unanswered. */
    char lost_code[16];
    char lost_msg[WR_ERROR_MSG_MAX + 64];
    struct client *unanswered_next;
    bool unanswered;
    bool subscriber; /* `events`: stays connected, never idle (daemon_events.c) */
};

struct daemon {
    const struct wr_paths *g;
    int epfd, listen_fd, sigfd;
    int state_lock_fd; /* flock of the state directory: one daemon per directory */
    struct watch listen_watch, signal_watch;
    /* The shim, executed from a read-only overlay or a sealed memfd copy,
     * never from its host path (shim_exe.h). */
    struct wr_shim_exe shim_exe;
    /* How a container's shim is started: wr_shim_spawn. Only the unit
     * test of the pool (tests/unit/test_daemon_pool.c) puts a fake here,
     * so that the state machine runs without real containers. */
    int (*spawn)(const struct wr_shim_spec *spec, struct wr_shim *s, wr_error *err);
    /* The shim server that forks the fills' shims (daemon_shim_server.c):
     * its pid (0: none; a killed one keeps it, with fd -1, until it is
     * reaped) and socket, when it was last started, a restart due, and
     * whether $WARMRUN_SHIM_SERVER turned it off. */
    struct {
        pid_t pid;
        int fd;
        int64_t started_ns;
        bool restart; /* one died: start the next when due */
        bool off;
        unsigned forks; /* requests sent to this one */
        bool retiring;  /* let go after WR_SHIM_SERVER_FORKS_MAX: quiet */
        pid_t retired;  /* that let-go one, exiting, until reaped (0: none) */
    } shim_server;
    /* The servers' mount template, taken from the server that made it and
     * given to the next ones (daemon_mnt_template.h); fds only when held. */
    struct {
        bool held;
        int ns_fd, root_fd;
        unsigned given; /* servers it was given to */
    } mnt_template;
    /* --pin-cpu: the daemon runs, and its containers are filled and wait
     * warm, on this CPU, so that an activation's wake-up needs no other
     * (possibly idle, possibly virtual) CPU. Shims return to workload_cpus
     * once warm, workloads as soon as they are activated. */
    int pin_cpu;
    char workload_cpus[CPU_SETSIZE / 4 + 1];
    struct pool *pools;
    struct entry *entries;
    struct entry *graveyard; /* done entries, freed after the current batch */
    struct client *clients;
    struct client *client_graveyard; /* closed clients, freed after the batch */
    struct client *unanswered;       /* waiting clients whose start was lost */
    size_t n_clients;
    long filling_total, max_parallel_fills;
    /* Containers being started for waiting activations, and the bound
     * (--max-cold-starts): beyond it an activation gets `busy`. */
    long starting_total, max_starting;
    /* --userns-default: every pool without an explicit --userns gets this
     * range (size 0: none); published for the CLI's cold starts. */
    uint32_t userns_base, userns_size;
    long activations, warm_hits, misses;
    /* request received -> workload execve, and its three stages: in the
     * daemon (-> SIGCONT sent), waking up (-> activation received in the
     * container), in the container (-> execve). */
    struct wr_latency_ring latency, in_daemon, wake_up, in_container;
    int64_t accept_paused_until_ns; /* out of descriptors: stop accepting for a moment */
    gid_t socket_gid;               /* --socket-group: its members may connect too */
    bool socket_group;
    bool stopping;
    struct daemon_functions *functions; /* daemon_function.c */
    /* The HTTP listener and its routes (daemon_http.c); NULL until a route
     * is added or --http starts it. */
    struct daemon_http *http;
    /* Lifecycle events and their subscribers (daemon_events.c), and the
     * Prometheus metrics (daemon_metrics.c); NULL until first used. */
    struct daemon_events *events;
    struct daemon_metrics *metrics;
};

#endif
