/* What pid 1 keeps open after the clone (container_fds.c). */
#ifndef WARMRUN_CONTAINER_FDS_H
#define WARMRUN_CONTAINER_FDS_H

#include "lib/error.h"

#include <stddef.h>

/* Closes every descriptor but those of
 * keep (n entries; -1 entries are ignored, at most 8 used). */
void wr_close_fds_except(const int *keep, size_t n);
/* Puts the current root's /dev/null on 0, 1 and 2: the shim's stdio are
 * host files. */
int wr_stdio_to_dev_null(wr_error *err);
/* Refuses (-1, err says which and why) a directory or an O_PATH
 * descriptor among an activation's three stdio: a workload could
 * fchdir or openat out of its root through either. Three fcntl calls and
 * an fstat for each one open read-only: well under a microsecond. */
int wr_stdio_check(const int fds[3], wr_error *err);

#endif
