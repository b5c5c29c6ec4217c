/* Following every shim: what its control socket says (WARM, FAILED,
 * EXITED, a hang-up) and its reaping, turned into the pool's transitions
 * (daemon_pool.h). */
#ifndef WARMRUN_DAEMON_SHIM_H
#define WARMRUN_DAEMON_SHIM_H

#include "daemon.h"

/* e's control socket is readable (one message, or the hang-up). */
void daemon_on_shim(struct daemon *d, struct entry *e);
/* SIGCHLD: reaps every exited shim. */
void daemon_reap(struct daemon *d);

#endif
