/* An exclusive flock(2) on a lock file, for state shared between
 * processes (the image store, a network's leases). */
#ifndef WARMRUN_FILE_LOCK_H
#define WARMRUN_FILE_LOCK_H

#include "error.h"

/* Opens path (made 0600 if missing, never through a symlink) and blocks
 * until it holds LOCK_EX on it. Returns the descriptor (close-on-exec),
 * which holds the lock until closed; -1 with err set. */
int wr_lock_file(const char *path, wr_error *err);

#endif
