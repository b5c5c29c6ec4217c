/* The pool daemon: one single-threaded event loop (epoll) over the control
 * socket, its clients, every shim's control socket and a signalfd. */
#ifndef WARMRUN_DAEMON_H
#define WARMRUN_DAEMON_H

#include "cli.h"
#include "image_store.h"
#include "latency_ring.h"
#include "security_profile.h"
#include "resources.h"
#include "shim_client.h"
#include "shim_exe.h"

#include <limits.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>

/* What an epoll event points at. */
enum watch_kind { WATCH_LISTEN, WATCH_SIGNAL, WATCH_CLIENT, WATCH_SHIM, WATCH_ADOPTED };
struct watch {
    enum watch_kind kind;
};

enum entry_state { ENTRY_FILLING, ENTRY_WARM, ENTRY_RUNNING };

struct pool;

/* One shim and its container, from spawn until the shim is reaped. */
struct entry {
    struct watch watch;
    struct wr_shim shim;
    enum entry_state state;
    struct pool *pool; /* NULL once its pool is removed */
    char image[WR_IMAGE_REF_MAX + 1];
    int64_t created;     /* unix seconds */
    int64_t received_ns; /* when its activation request arrived */
    int64_t resumed_ns;  /* when the daemon had sent it the activation and SIGCONT */
    char command[256];
    int cpu; /* the CPU --cpu-spread gave it, or -1 */
    /* Started for one waiting activation (daemon_start.c): it is handed to
     * that client when warm instead of joining the pool. NULL otherwise,
     * and again once the client is served or gone. */
    struct client *waiter;
    bool cold; /* created for its activation: not a warm hit (stats) */
    bool ctl_closed, reaped;
    struct entry *prev, *next; /* every entry */
    struct entry *warm_next;   /* the pool's FIFO of warm entries */
};

struct pool {
    char image[WR_IMAGE_REF_MAX + 1]; /* normalized "name:tag" */
    struct wr_image *img;
    long size;
    uint64_t tmpfs_bytes;        /* writable layer size of the containers it fills */
    struct wr_resources res;     /* resource settings of the containers it fills */
    struct wr_resources_env env; /* environment they add (huge pages, --tune-env) */
    unsigned spread_next;        /* --cpu-spread round-robin position */
    long warm, filling, running, activations, failures;
    long starting; /* containers being started for waiting activations */
    int consecutive_failures;
    int64_t retry_at_ns;
    char last_error[256];
    struct entry *warm_head, *warm_tail;
    struct pool *next;
    /* Security profile (daemon_security.c): as asked, as the shims get it
     * (with the compiled filter's path), and that file. */
    char security_source[WR_PROFILE_TEXT];
    char security[WR_PROFILE_TEXT];
    char seccomp_bpf[WR_SECCOMP_MAX + 1];
};

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
};

struct daemon {
    const struct cli_globals *g;
    int epfd, listen_fd, sigfd;
    int state_lock_fd; /* flock of the state directory: one daemon per directory */
    struct watch listen_watch, signal_watch;
    /* The shim, executed from a read-only overlay or a sealed memfd copy,
     * never from its host path (shim_exe.h). */
    struct wr_shim_exe shim_exe;
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
};

void daemon_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* daemon_main.c: the path to execute the shim by (for fills and seccomp
 * compiles), after checking that no container changed its memfd copy
 * (replacing it, and logging that, if one did). NULL on error. */
const char *daemon_shim_exec_path(struct daemon *d, wr_error *err);

/* daemon_pool.c */
struct pool *daemon_find_pool(struct daemon *d, const char *image);
/* Creates the pool of image ref, or changes an existing one: with settings
 * false (the request gave no security, resource or tmpfs option) only its
 * size; else its size and every setting (security NULL: Docker's defaults,
 * with the daemon's --userns-default), its containers made with the old
 * ones discarded. Errors: the image's load, a profile that does not
 * compile, invalid resources. */
int daemon_pool_create(struct daemon *d, const char *ref, long size, bool settings,
                       uint64_t tmpfs_bytes, const struct wr_security_profile *security,
                       const struct wr_resources *res, wr_error *err);
int daemon_pool_remove(struct daemon *d, const char *ref, wr_error *err);
void daemon_fill_pools(struct daemon *d);
int64_t daemon_next_fill_ns(const struct daemon *d);
struct entry *daemon_pop_warm(struct pool *p);
void daemon_on_shim(struct daemon *d, struct entry *e);
void daemon_reap(struct daemon *d);
void daemon_bury(struct daemon *d);
void daemon_entry_running(struct daemon *d, struct entry *e);
void daemon_entry_discard(struct daemon *d, struct entry *e);
void daemon_release_idle(struct daemon *d);
struct entry *daemon_find_entry(struct daemon *d, const char *id);

/* daemon_security.c: sets the pool's profile (NULL: the defaults),
 * compiling its seccomp filter once; *changed when it differs from before. */
int daemon_pool_security(struct daemon *d, struct pool *p, const struct wr_security_profile *req,
                         bool *changed, wr_error *err);
void daemon_pool_security_release(struct pool *p);
/* Removes the compiled filters an earlier daemon's pools left (start-up). */
void daemon_security_sweep(struct daemon *d);

/* daemon_peer.c: may this connection's peer use the daemon? (root, or a
 * member of --socket-group) */
bool daemon_peer_allowed(const struct daemon *d, int fd);
/* daemon_resources.c */
/* Gives a pool its resource settings, already validated
 * (wr_resources_validate) and, unless --no-prefault, warms the page cache
 * for its image's hot files. Returns whether the settings changed. */
bool daemon_resources_pool_apply(struct daemon *d, struct pool *p, const struct wr_resources *res);
/* The per-container settings of the next fill (with --cpu-spread: its CPU). */
void daemon_resources_for_entry(struct daemon *d, struct pool *p, struct entry *e,
                                struct wr_resources *out);
/* Removes the cgroups of a container whose shim died without doing so. */
void daemon_resources_forget(struct daemon *d, const char *id);
/* Removes cgroups whose container is gone (daemon start). */
void daemon_resources_sweep(struct daemon *d);
/* ps: allowed CPUs and OOM flag of a container. */
void daemon_resources_container_info(struct daemon *d, const char *id, pid_t pid, char *cpus,
                                     size_t cap, bool *oom);

/* daemon_adopt.c: a live container of an earlier daemon or of a cold start
 * (a state record whose shim runs) is watched, and killed when its shim
 * exits; its record and cgroups then removed. Only with a record that names
 * its pid 1's start time. */
struct wr_state_record;
void daemon_adopt(struct daemon *d, const struct wr_state_record *rec);
void daemon_on_adopted(struct daemon *d, struct watch *w);

/* daemon_api.c */
void daemon_on_client(struct daemon *d, struct client *c);
/* Unwatches and closes c (a waiting activation gives up its container
 * start); c itself is freed after the current batch (daemon_bury). */
void daemon_close_client(struct daemon *d, struct client *c);
void daemon_send_error(struct client *c, const char *code, const char *msg);
void daemon_summarize_command(char *out, size_t cap, const struct wr_request *req,
                              const struct wr_image *img);

/* daemon_start.c: a container started for an activation that found its
 * pool without a warm one, with the pool's current settings. */
/* Starts one for c, taking over *req and fds (set to empty/-1) when it
 * returns true; false: an error reply was sent (busy, or the start failed). */
bool daemon_start_for_client(struct daemon *d, struct client *c, struct pool *p,
                             struct wr_request *req, int fds[3], int64_t received_ns);
/* A message from a waiting client: a signal is kept for the workload,
 * anything else ignored (as an activated connection's shim does). */
void daemon_start_client_message(struct client *c, const struct wr_request *req);
/* Its shim reported WARM: hand it to its client. */
void daemon_start_on_warm(struct daemon *d, struct entry *e);
/* It cannot be handed over (failed, killed, pool gone): the client gets
 * code and msg and is closed; e is not discarded here. */
void daemon_start_fail(struct daemon *d, struct entry *e, const char *code, const char *msg);
/* The client went away first: its container joins the pool (or goes). */
void daemon_start_abandon(struct daemon *d, struct client *c);
/* The pool's settings changed: start a new one with them for the same
 * client, and let the old one go. */
void daemon_start_restart(struct daemon *d, struct entry *e);
/* daemon_pool.c: spawns a container with the pool's current settings (the
 * fill's code). waiter NULL: a background fill (SCHED_IDLE); else started
 * for that client, at normal priority, and bound to it. Returns the entry,
 * or NULL with err. */
struct entry *daemon_spawn_entry(struct daemon *d, struct pool *p, struct client *waiter,
                                 wr_error *err);

#endif
