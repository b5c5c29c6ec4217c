/* The container's own /dev (devfs.c). */
#ifndef WARMRUN_DEVFS_H
#define WARMRUN_DEVFS_H

#include "lib/error.h"
#include "lib/security_profile.h"

#include <stdint.h>

/* Mounts the container's /dev on the directory dev_fd (an O_PATH descriptor
 * from wr_mount_target_open; root_fd is the root it lies under, to reach the
 * new mount) and fills it: a nodev
 * tmpfs holding the container's own null, zero, full, random, urandom and
 * tty nodes (mode 0666), a devpts instance of at most WR_DEVPTS_MAX ptys,
 * /dev/shm, /dev/mqueue and the fd/stdin/stdout/stderr/ptmx links.
 * root_id: the host uid and gid of the container's root (0, or the
 * userns base), which owns /dev, /dev/shm and the nodes. Runs as host
 * root in the container's mount namespace (mknod needs CAP_MKNOD of the
 * host's user namespace). sec (may be NULL: the defaults) decides where the
 * nodes' filesystem lies (devfs.c, needs_private_nodes). */
int wr_devfs_setup(int root_fd, int dev_fd, uint32_t root_id, const struct wr_security_profile *sec,
                   wr_error *err);
/* Ptys one container may hold at a time: an interactive workload (a shell,
 * tmux with a few dozen windows, an sshd with some sessions) stays below
 * it; the kernel's pool shared by all containers is 3072 by default. */
#define WR_DEVPTS_MAX 64U

#endif
