/* The cgroup freezer for a function environment (daemon_function.c): an
 * initialised environment waits frozen, every process of it, until an
 * invocation thaws it. cgroup v1's freezer hierarchy where the host mounts
 * one (<v1 freezer>/warmrun-functions/<scope>/<id>), else cgroup v2's
 * cgroup.freeze: the container's own v2 cgroup when it has one (resource
 * limits on v2), else <v2>/warmrun-functions/<scope>/<id>. The container's
 * pid 1 is moved in while it is still stopped and alone (before its
 * activation), so everything it starts is born inside. */
#ifndef WARMRUN_DAEMON_FREEZER_H
#define WARMRUN_DAEMON_FREEZER_H

#include "lib/error.h"

#include <stdbool.h>
#include <sys/types.h>

struct daemon_freezer {
    char dir[512]; /* the cgroup directory; "" when none */
    bool v2, own;  /* cgroup.freeze; we made the directory (so we remove it) */
};

/* Puts pid (container id, state directory's scope) into a freezer cgroup. */
int daemon_freezer_attach(struct daemon_freezer *fz, const char *scope, const char *id, pid_t pid,
                          wr_error *err);
/* Freezes (true) or thaws (false): one write; the kernel completes it
 * asynchronously. */
int daemon_freezer_set(struct daemon_freezer *fz, bool frozen, wr_error *err);
/* Thaws and removes the cgroup if we made it (retrying briefly while its
 * last tasks exit). */
void daemon_freezer_remove(struct daemon_freezer *fz);
/* Daemon start: thaws every freezer cgroup of this scope left by an
 * earlier daemon (its containers were killed with it but a frozen task on
 * cgroup v1 cannot die until thawed) and removes the empty ones. */
void daemon_freezer_sweep(const char *scope);
/* Daemon shutdown: removes the scope's directories if they are empty. */
void daemon_freezer_release_scope(const char *scope);

#endif
