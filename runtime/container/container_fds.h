/* What pid 1 keeps open after the clone (container_fds.c). */
#ifndef WARMRUN_CONTAINER_FDS_H
#define WARMRUN_CONTAINER_FDS_H

#include "lib/error.h"

#include <stddef.h>

/* Closes every descriptor but those of
 * keep (n entries, any number; -1 entries are ignored). */
void wr_close_fds_except(const int *keep, size_t n);
/* Puts the current root's /dev/null on 0, 1 and 2: the shim's stdio are
 * host files. */
int wr_stdio_to_dev_null(wr_error *err);
/* Accepts an activation's three stdio only if each is an anonymous pipe
 * or a socket (fstatfs: pipefs or sockfs); anything else, a host file,
 * device node (a terminal, /dev/null), named pipe, directory or anonymous
 * inode, is refused (-1, err names the stream, the fd and the kind): pid 1
 * is root and could chmod, chown or setxattr the host's inode through
 * /proc/self/fd/N, or fchdir out of its root through a directory. Three
 * fstatfs calls (about 0.1 us each, tests/unit/test_stdio_check.c). */
int wr_stdio_check(const int fds[3], wr_error *err);

#endif
