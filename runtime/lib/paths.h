/* Where every warmrun program finds the image store, the runtime state and
 * the daemon's control socket: the global options --root, --state-dir and
 * --socket, else WARMRUN_ROOT, WARMRUN_STATE_DIR and WARMRUN_SOCKET, else
 * the defaults (docs/cli.md). The CLI passes its paths on to the daemon
 * program it executes, so both always agree. */
#ifndef WARMRUN_PATHS_H
#define WARMRUN_PATHS_H

#include "error.h"

#define WR_DEFAULT_STORE_ROOT "/var/lib/warmrun"
#define WR_DEFAULT_STATE_DIR  "/run/warmrun"
#define WR_SOCKET_PATH_MAX    108 /* sizeof sockaddr_un.sun_path */

struct wr_paths {
    const char *root;                /* image store */
    const char *state_dir;           /* runtime state: container records, staging mounts */
    char socket[WR_SOCKET_PATH_MAX]; /* the daemon's control socket */
};

/* root and state_dir from the environment, else the defaults; no socket. */
void wr_paths_from_env(struct wr_paths *p);
/* The socket: socket_opt (--socket) if set, else $WARMRUN_SOCKET, else
 * <state_dir>/warmrun.sock. Error (ENAMETOOLONG) when longer than
 * WR_SOCKET_PATH_MAX - 1 bytes. */
int wr_paths_set_socket(struct wr_paths *p, const char *socket_opt, wr_error *err);

#endif
