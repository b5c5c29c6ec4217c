/* A pool's security profile, daemon side (daemon_security.c). */
#ifndef WARMRUN_DAEMON_SECURITY_H
#define WARMRUN_DAEMON_SECURITY_H

#include "daemon_pool.h"

#include <stdbool.h>

/* Sets the pool's profile (NULL: the defaults), compiling its seccomp
 * filter once; *changed when it differs from before. */
int daemon_pool_security(struct daemon *d, struct pool *p, const struct wr_security_profile *req,
                         bool *changed, wr_error *err);
void daemon_pool_security_release(struct pool *p);
/* Removes the compiled filters an earlier daemon's pools left (start-up). */
void daemon_security_sweep(struct daemon *d);

#endif
