/* Following every shim: what its control socket says (WARM, FAILED,
 * EXITED, a hang-up) and its reaping, turned into the pool's transitions
 * (daemon_pool.h). */
#ifndef WARMRUN_DAEMON_SHIM_H
#define WARMRUN_DAEMON_SHIM_H

#include "daemon.h"

/* e's control socket is readable (one message, or the hang-up). */
void daemon_on_shim(struct daemon *d, struct entry *e);
/* SIGCHLD (pid: the child its siginfo names), or pid 0: reaps every exited
 * child. One waitpid per pid (the shim server, pid); waitpid(-1), which
 * walks every child, only for pid 0 or while a GONE entry has no exit
 * pidfd. Shims are otherwise reaped through their exit pidfd. */
void daemon_reap(struct daemon *d, pid_t pid);
/* e has just become GONE with its shim not reaped: a pidfd of the shim in
 * the epoll set (on e's watch), which wakes daemon_on_shim when it has
 * exited. Without one (no descriptor left) SIGCHLD walks every child. */
void daemon_shim_watch_exit(struct daemon *d, struct entry *e);
/* Its shim is reaped: the pidfd goes. */
void daemon_shim_unwatch_exit(struct daemon *d, struct entry *e);
/* Reaps e's shim if it is GONE and has exited. */
void daemon_reap_gone(struct daemon *d, struct entry *e);

#endif
