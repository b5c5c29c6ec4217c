/* After an import: the daemon whose pools may use the tag is told, so that
 * its pool of that tag rolls over to the new image before the import
 * returns (docs/architecture.md, "Pools that persist"). */
#ifndef WARMRUN_DAEMON_NOTIFY_H
#define WARMRUN_DAEMON_NOTIFY_H

#include "lib/error.h"

#include <stdbool.h>
#include <stddef.h>

/* Sends `image_updated` for ref to the daemon at socket_path and waits for
 * its reply. *no_daemon: nothing listens there (ENOENT, ECONNREFUSED: not
 * an error, its pools are restored from the store with the new image).
 * rolled: the pools that rolled over, ", "-separated ("" for none), at most
 * cap bytes. Errors: EOPNOTSUPP, a daemon that does not know the op (its
 * pools keep the old image until restarted); the daemon's (its pool could not take the new image:
 * it then still serves the old one), or the socket's. */
int wr_image_notify_daemon(const char *socket_path, const char *ref, bool *no_daemon, char *rolled,
                           size_t cap, wr_error *err);

#endif
