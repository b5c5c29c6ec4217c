/* The daemon's shim server (shim/shim_server.c, lib/shim_fork.h): one
 * long-lived `warmrun-shim --server`, executed like every shim (through
 * the read-only overlay or the sealed memfd: daemon_shim_exe.h), that forks
 * the shims of pool fills. Started with the daemon; when it dies or fails
 * a request, that fill is spawned as before, and a new server is started
 * once the old one is reaped (at most once a second: a server that cannot
 * live costs a fill no more than one spawn).
 * $WARMRUN_SHIM_SERVER=off: never used. */
#ifndef WARMRUN_DAEMON_SHIM_SERVER_H
#define WARMRUN_DAEMON_SHIM_SERVER_H

#include "daemon.h"

#include <stdbool.h>

/* The server's socket for a fill's wr_shim_spec.fork_server_fd: > 0, or 0
 * when there is none (off, stopping, failed to start, killed and not yet
 * reaped, or waiting to be restarted). Starts the server when it is due. */
int daemon_shim_server_fd(struct daemon *d);

/* A request failed (why: the error): the server is killed; it is replaced
 * once reaped. */
void daemon_shim_server_lost(struct daemon *d, const char *why);

/* From the reaper: true when pid was the server (it is then forgotten, and
 * a new one started when due). */
bool daemon_shim_server_reaped(struct daemon *d, pid_t pid, int status);

/* The restart of a server that died less than a second after it started:
 * when it is due (ms, for the loop's epoll timeout; -1: none pending), and
 * the loop's call that does it. */
int daemon_shim_server_timeout_ms(const struct daemon *d);
void daemon_shim_server_tick(struct daemon *d);

/* The last pool went (daemon_mnt_template_release): the server is let go
 * (it exits at its socket's end of file, and its mount template with it,
 * which holds the store's and the state directory's file systems busy),
 * and none is started again until the next fill needs one (which then
 * waits for its start: an exec and a template, once). */
void daemon_shim_server_idle(struct daemon *d);

/* Ends the server (shutdown; or its executable was replaced: the next fill
 * starts a new one at once). */
void daemon_shim_server_stop(struct daemon *d);

#endif
