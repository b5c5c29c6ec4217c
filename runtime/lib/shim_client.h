/* The spawner's side of a shim: start one (fill path), learn that its
 * container is warm, and activate it (hot path). Used by the daemon for
 * pools and by the CLI for cold starts, so both give the same container. */
#ifndef WARMRUN_SHIM_CLIENT_H
#define WARMRUN_SHIM_CLIENT_H

#include "container_id.h"
#include "error.h"
#include "resources.h"
#include "volumes.h"
#include "shim_msg.h"

#include <spawn.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* Size limit of a container's writable layer (a tmpfs) unless its pool
 * says otherwise. */
#define WR_DEFAULT_TMPFS_BYTES (256ULL << 20)
#define WR_MIN_TMPFS_BYTES     (1ULL << 20)
#define WR_MAX_TMPFS_BYTES     (64ULL << 30)

struct wr_shim_spec {
    const char *shim_path; /* what to execute: a wr_shim_exe's exec_path, never the host path */
    const char *state_dir;
    const char *image;    /* image reference, recorded for ps */
    const char *lowerdir; /* overlayfs lowerdir= value */
    uint64_t tmpfs_bytes;
    bool fill_idle;            /* fill under SCHED_IDLE (pools); a cold start fills at full speed */
    const char *workload_cpus; /* hex CPU mask, with daemon --pin-cpu; else NULL */
    const char *security;      /* encoded security profile (security_profile.h); NULL: default */
    const struct wr_resources *resources; /* NULL: none */
    const char *network;                  /* --network text (net_config.h); NULL: none */
    const char *const *publish;           /* n_publish canonical -p texts (net_publish.h) */
    size_t n_publish;
    const char *net_helper;           /* warmrun-daemon, which the shim runs to publish them */
    bool publish_at_activation;       /* the daemon maps them at activation, not the shim */
    const struct wr_volumes *volumes; /* NULL: none */
    /* The shim's stderr to /dev/null: a cold start reports the shim's
     * errors itself (FAILED message), once; else it inherits ours (the
     * daemon's log). */
    bool quiet;
    /* Recycled network namespaces (docs/security.md): netns_recycle, the
     * shim offers its container's namespace back (a WR_MSG_NETNS message)
     * once the container is dead and the namespace pristine; has_netns, the
     * container enters netns_fd (the spawner keeps its descriptor) instead
     * of creating one. */
    bool netns_recycle;
    bool has_netns;
    int netns_fd;
    /* With has_netns: has_sysfs, sysfs_fd is that namespace's detached
     * sysfs mount (container/sysfs_mount.h), which the container clones
     * for its /sys (the spawner keeps its descriptor). */
    bool has_sysfs;
    int sysfs_fd;
    long netns_sockets; /* its pristine socket count, as its NETNS message said */
    /* > 0: the socket of a shim server (shim_fork.h) that forks the shim
     * instead of a posix_spawn; 0 (unset): posix_spawn. */
    int fork_server_fd;
};

struct wr_shim {
    char id[WR_ID_LEN + 1];
    pid_t shim_pid;
    pid_t child_pid; /* known once warm */
    int ctl_fd;      /* control socket to the shim */
    int act_fd;      /* activation socket to the container */
    int pidfd;       /* the container's pid 1, once warm */
    /* Host ids the stdio is handed to at activation (a non-root workload in
     * a user namespace: WR_MSG_WARM); -1: none. */
    int64_t stdio_uid, stdio_gid;
    /* The shim server failed on the way (it is to be replaced; this shim
     * was spawned instead). */
    bool fork_server_lost;
};

void wr_shim_init(struct wr_shim *s);

/* Generates a container id and starts a shim for it: forked by the shim
 * server when spec->fork_server_fd says so, else posix_spawn (cheap even
 * from a daemon with a large heap). When the server fails, the shim is
 * spawned, s->fork_server_lost is set and err says what the server did,
 * even on success. Returns before the container is ready; its WARM or
 * FAILED message arrives on ctl_fd. */
int wr_shim_spawn(const struct wr_shim_spec *spec, struct wr_shim *s, wr_error *err);

/* Reads one message from the shim's control socket. Returns 1 with *m set,
 * 0 when the shim closed, -1 on error. A WARM message fills child_pid and
 * pidfd in s; a NETNS message puts the namespace's descriptor (the
 * caller's to close) in m->num, or -1 if it carried none, its pristine
 * socket count in m->value, and the descriptor of its detached sysfs mount
 * (also the caller's) in m->value2, or -1. */
int wr_shim_read(struct wr_shim *s, struct wr_msg *m, wr_error *err);

/* Blocks until the shim reports WARM (0) or fails (-1, with its reason). */
int wr_shim_wait_warm(struct wr_shim *s, int timeout_ms, wr_error *err);

/* The hot path: hand the encoded activation and the caller's stdio to the
 * stopped container, SIGCONT it (*resumed_ns: when), and attach client_fd (where the exit event
 * goes, and signals come from) to the shim. cold_reason is NULL for a warm
 * container taken from a pool, else why this one was created for the
 * activation (at most WR_ERROR_MSG_MAX - 1 bytes kept; the exit event
 * carries it). */
#define WR_ACTIVATE_STARTED_FAILED (-2)
/* Returns 0; -1 when the container could not be started (it was dead: the
 * caller may try another one); WR_ACTIVATE_STARTED_FAILED when it was
 * resumed but could not be attached (it has been killed: trying another
 * one could run the command twice). */
int wr_shim_activate(struct wr_shim *s, const char *activation, size_t len, const int stdio[3],
                     int client_fd, const char *cold_reason, int64_t *resumed_ns, wr_error *err);

int wr_shim_kill(struct wr_shim *s, int sig, wr_error *err);

/* For a shim that hung up its control socket without reporting an exit
 * (it died: SIGKILL, a crash). Its container's pid 1 dies with it by
 * PR_SET_PDEATHSIG, except where the kernel cleared that (an exec of a
 * set-id binary): kills pid 1 through the pidfd (the rest of its pid
 * namespace dies with it) and waits up to timeout_ms for it to exit.
 * Returns false when there was nothing to kill (no pidfd: never warm; or
 * pid 1 has already exited). */
#define WR_ORPHAN_WAIT_MS 200
bool wr_shim_kill_orphan(struct wr_shim *s, int timeout_ms);

/* Closes every descriptor held for the shim (a warm shim then kills its
 * container and exits by itself). */
void wr_shim_release(struct wr_shim *s);
/* cleanup.h's idiom: released when it leaves scope (after wr_shim_init or
 * wr_shim_spawn, failed or not). */
#define cleanup_shim __attribute__((cleanup(wr_shim_release)))

/* Path of the shim binary: $WARMRUN_SHIM, or warmrun-shim beside this
 * executable. */
int wr_shim_default_path(char *out, size_t cap, wr_error *err);

/* The start posix_spawn gives every shim executable (a shim, the shim
 * server): stdin and stdout on /dev/null (stderr too when quiet), its own
 * session (a terminal's ^C to the daemon or CLI does not reach it), an
 * empty signal mask and default dispositions, and SCHED_IDLE when idle (a
 * pool's fill). Initialises both; the caller adds its dup2s, spawns, and
 * destroys them. Cannot fail short of ENOMEM in the file actions, which
 * posix_spawn then reports. */
void wr_shim_spawn_attr_init(posix_spawn_file_actions_t *fa, posix_spawnattr_t *attr, bool quiet,
                             bool idle);

#endif
