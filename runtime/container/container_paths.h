/* Image-controlled paths resolved inside the root (container_paths.c). */
#ifndef WARMRUN_CONTAINER_PATHS_H
#define WARMRUN_CONTAINER_PATHS_H

#include "lib/error.h"

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
/* mount(2) onto the directory target_fd holds (through /proc/self/fd, so
 * before pivot_root: the host's /proc); name is for messages. */
int wr_mount_on_fd(const char *src, int target_fd, const char *name, const char *type,
                   unsigned long flags, const char *data, wr_error *err);

#endif
