/* Image-controlled paths resolved inside the root (container_paths.c). */
#ifndef WARMRUN_CONTAINER_PATHS_H
#define WARMRUN_CONTAINER_PATHS_H

#include "lib/error.h"

#include <stdbool.h>
#include <sys/types.h>

/* Makes cwd (absolute) the
 * working directory, resolved inside the root (pid 1's working directory
 * until then, see there) with no magic link followed (openat2
 * RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS); missing directories are made
 * (0755) as docker does, each in its parent resolved the same way. */
int wr_enter_cwd(const char *cwd, wr_error *err);
/* The directory path (absolute) opened O_PATH, resolved as wr_enter_cwd
 * resolves the working directory (inside the root, no magic link) and
 * made the same way when missing. Returns the descriptor or -1. */
int wr_dir_in_root(const char *path, wr_error *err);
/* Opens (O_PATH) the directory name right under root_fd, making it (mode)
 * if missing; a symlink or a non-directory there is refused (openat2
 * RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS, as runc does for /proc). Returns
 * the descriptor or -1. */
int wr_mount_target_open(int root_fd, const char *name, mode_t mode, wr_error *err);
/* Makes the directory dir_fd holds the working directory; returns a
 * descriptor of the one before, for wr_cwd_leave, or -1. name is for
 * messages. */
int wr_cwd_enter(int dir_fd, const char *name, wr_error *err);
/* Back to the working directory saved (and closes it). rc is the caller's
 * result so far, returned; a failure to go back is reported only when rc
 * is 0 (then -1). */
int wr_cwd_leave(int saved, int rc, const char *name, wr_error *err);
/* mount(2) onto the directory target_fd holds (as the working directory
 * for the call, then back: no path through /proc); name is for messages.
 * target_fd must be a directory (ENOTDIR otherwise). */
int wr_mount_on_fd(const char *src, int target_fd, const char *name, const char *type,
                   unsigned long flags, const char *data, wr_error *err);
/* A bind of the file src onto the file target_fd holds (open_tree(2) and
 * move_mount(2), Linux 5.2; no path through /proc), read-only, nosuid,
 * nodev and noexec when read_only (mount_setattr(2), 5.12) before it is
 * attached; name is for messages. */
int wr_bind_file_on_fd(const char *src, int target_fd, const char *name, bool read_only,
                       wr_error *err);

#endif
