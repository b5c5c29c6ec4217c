/* The shim server's wire protocol: a daemon asks its long-lived shim server
 * (`warmrun-shim --server`, shim/shim_server.c) to fork a shim instead of
 * posix_spawn + execve of a fresh one per container.
 *
 * One request is one SOCK_SEQPACKET message: a fixed header, then the
 * shim's argv as argc NUL-terminated strings, and by SCM_RIGHTS the shim's
 * stderr, its control socket, the container's activation socket and, with
 * WR_SHIM_FORK_NETNS, a recycled network namespace, and with
 * WR_SHIM_FORK_SYSFS too, that namespace's detached sysfs mount (3, 4 or 5
 * descriptors).
 * The server forks (clone3 with CLONE_PARENT: the shim is the requester's
 * child, as a spawned one is) and replies with one struct wr_shim_fork_reply.
 * The server never reads anything else; the requester trusts nothing more
 * than the pid, which is its own child's. */
#ifndef WARMRUN_SHIM_FORK_H
#define WARMRUN_SHIM_FORK_H

#include "error.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* The descriptor of a server's end of its socket, and the size of the
 * argument area it is started with (its last argument: WR_SHIM_FORK_ARGS_MAX
 * - 1 bytes of WR_SHIM_FORK_PAD, which the server clears to NUL): the forked
 * shim copies its argv there, so that /proc/PID/cmdline shows it as an
 * exec'd shim's would (and the container can overwrite it:
 * container_main.c). A longer argv is refused (E2BIG) and the requester
 * spawns instead. */
#define WR_SHIM_SERVER_FD     3
#define WR_SHIM_FORK_ARGS_MAX 8192
#define WR_SHIM_FORK_ARGC_MAX 512
#define WR_SHIM_FORK_PAD      '.'         /* the padding's byte, before the server clears it */
#define WR_SHIM_FORK_MAGIC    0x77726b66u /* "wrkf" */
#define WR_SHIM_FORK_IDLE     1u          /* the shim runs under SCHED_IDLE (a pool's fill) */
#define WR_SHIM_FORK_NETNS    2u          /* a fourth descriptor: the namespace */
#define WR_SHIM_FORK_SYSFS    4u          /* with NETNS, a fifth: its sysfs mount */
#define WR_SHIM_FORK_REPLY_MS 2000        /* how long a requester waits for a reply */

struct wr_shim_fork_header {
    uint32_t magic;
    uint32_t flags; /* WR_SHIM_FORK_* */
    uint32_t argc;
    uint32_t len; /* bytes of argv text after the header */
};

struct wr_shim_fork_request {
    struct wr_shim_fork_header h;
    char args[WR_SHIM_FORK_ARGS_MAX];
};

struct wr_shim_fork_reply {
    int32_t err; /* 0, or the errno of the failed fork */
    int32_t pid; /* the shim, the requester's child */
};

/* Requester: sends argv (NULL-terminated) and the descriptors (stderr,
 * ctl, act[, netns[, sysfs]]: nfds 3, 4 or 5, matching WR_SHIM_FORK_NETNS
 * and WR_SHIM_FORK_SYSFS in flags) to
 * the server on sock, waits up to WR_SHIM_FORK_REPLY_MS for the reply and
 * returns the shim's pid in *pid. Errors: E2BIG (argv longer than the
 * server's area: nothing was sent), the server's fork errno, EPIPE or
 * ECONNRESET (server gone), ETIMEDOUT, EPROTO. After any error but E2BIG,
 * *server_lost is set: the server is to be replaced (a shim it may have
 * forked after all finds its control socket closed and goes). */
int wr_shim_fork_request(int sock, char *const argv[], const int *fds, size_t nfds, uint32_t flags,
                         pid_t *pid, bool *server_lost, wr_error *err);

/* Server: checks a received request of n bytes with nfds descriptors:
 * magic, flags, argc strings exactly filling len, the descriptor count.
 * Returns 0, or -1 (EPROTO) with err set. */
int wr_shim_fork_check(const struct wr_shim_fork_request *r, size_t n, size_t nfds, wr_error *err);

#endif
