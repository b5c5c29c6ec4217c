/* The container's own side: everything pid 1 of a new container does between
 * clone and the workload's execve. Runs in the shim's freshly cloned child,
 * inside new pid, mount, uts, ipc, net and cgroup namespaces. */
#ifndef WARMRUN_CONTAINER_H
#define WARMRUN_CONTAINER_H

#include "error.h"
#include "seccomp_profile.h"
#include "security_profile.h"
#include "resources.h"

struct wr_cgroup;

#include <sched.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define WR_ID_LEN 12 /* hex characters of a container id */

struct wr_container_config {
    const char *id;          /* WR_ID_LEN hex characters */
    const char *lowerdir;    /* overlayfs lowerdir= value, topmost first */
    const char *staging_dir; /* an empty host directory to mount the container's tmpfs on */
    const char *hostname;
    uint64_t tmpfs_bytes; /* size limit of the writable layer */
    /* When warm containers wait pinned to the daemon's CPU: the CPUs the
     * workload may use, restored on activation. NULL: not pinned. */
    const cpu_set_t *workload_cpus;
    /* The process's argument area (argv[0] to the end of the last argument),
     * overwritten in the container; NULL to leave it. */
    char *cmdline_area;
    size_t cmdline_len;
    /* What the workload may do, and its compiled seccomp filter (NULL: none). */
    const struct wr_security_profile *security;
    const struct wr_seccomp_filter *seccomp;
    int userns_fd; /* with --userns: the namespace to enter (userns.h); else -1 */
    /* Resource settings (NULL: none), and the container's cgroups (NULL:
     * none; with v1 ones the shim moves us there after the clone and says
     * go over init_sock). */
    const struct wr_resources *resources;
    const struct wr_cgroup *cgroup;
};

/* Shared between shim and child (a MAP_SHARED page created before clone):
 * the child stamps the time of its execve here, so that the shim can report
 * activation latency without the child waking it up on the hot path. */
struct wr_exec_stamp {
    volatile int64_t woke_ns; /* CLOCK_MONOTONIC when the activation arrived; 0 before */
    volatile int64_t exec_ns; /* CLOCK_MONOTONIC just before execve */
};

/* Sets up the container, tells the shim READY over init_sock, waits for the
 * activation on act_sock, then becomes the workload. Never returns: on any
 * failure it reports over init_sock and exits. */
_Noreturn void wr_container_main(const struct wr_container_config *cfg, int init_sock, int act_sock,
                                 struct wr_exec_stamp *stamp);

/* The setup steps, exposed for testing. */
int wr_rootfs_setup(const struct wr_container_config *cfg, wr_error *err);
/* Mounts the container's /dev on the directory dev_fd (an O_PATH descriptor
 * from wr_mount_target_open; root_fd is the root it lies under, to reach the
 * new mount) and fills it: a nodev
 * tmpfs holding the container's own null, zero, full, random, urandom and
 * tty nodes (mode 0666), a devpts instance of at most WR_DEVPTS_MAX ptys,
 * /dev/shm, /dev/mqueue and the fd/stdin/stdout/stderr/ptmx links.
 * root_id: the host uid and gid of the container's root (0, or the
 * userns base), which owns /dev, /dev/shm and the nodes. Runs as host
 * root in the container's mount namespace (mknod needs CAP_MKNOD of the
 * host's user namespace). */
int wr_devfs_setup(int root_fd, int dev_fd, uint32_t root_id, wr_error *err);
/* Ptys one container may hold at a time: an interactive workload (a shell,
 * tmux with a few dozen windows, an sshd with some sessions) stays below
 * it; the kernel's pool shared by all containers is 3072 by default. */
#define WR_DEVPTS_MAX 64U

/* Descriptors (container_fds.c). Closes every descriptor but those of
 * keep (n entries; -1 entries are ignored, at most 8 used). */
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

struct open_how;
/* openat2(2) (how's size passed for the caller), called again while it
 * fails with EAGAIN (a ".." that raced with a rename or mount on the host),
 * at most 64 times. Returns the descriptor, or -1 with errno. */
int wr_openat2(int dirfd, const char *path, const struct open_how *how);

/* Image-controlled paths (container_paths.c). Makes cwd (absolute) the
 * working directory, resolved inside the root (pid 1's working directory
 * until then, see there) with no magic link followed (openat2
 * RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS); missing directories are made
 * (0755) as docker does, each in its parent resolved the same way. */
int wr_enter_cwd(const char *cwd, wr_error *err);
/* Opens (O_PATH) the directory name right under root_fd, making it (mode)
 * if missing; a symlink or a non-directory there is refused (openat2
 * RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS, as runc does for /proc). Returns
 * the descriptor or -1. */
int wr_mount_target_open(int root_fd, const char *name, mode_t mode, wr_error *err);
/* mount(2) onto the directory target_fd holds (through /proc/self/fd, so
 * before pivot_root: the host's /proc); name is for messages. */
int wr_mount_on_fd(const char *src, int target_fd, const char *name, const char *type,
                   unsigned long flags, const char *data, wr_error *err);

/* After a credential change: arms PR_SET_PDEATHSIG (SIGKILL) again, then
 * fails if the shim already hung up shim_sock (parent_death.c). */
int wr_parent_death_arm(int shim_sock, wr_error *err);
int wr_link_up(const char *ifname, wr_error *err);
/* Makes /proc/sys and kin read-only and masks /proc/kcore and kin; run
 * inside the new root. */
int wr_mask_kernel_paths(wr_error *err);

/* Runs argv[0] searched in the PATH of envp, as execvpe would but with the
 * container's PATH. Returns only on failure, with the exit code docker uses
 * (127 not found, 126 not executable) and err set. */
int wr_exec_command(char *const argv[], char *const envp[], wr_error *err);

/* Leaves the workload the capabilities caps from its execve on (bounding
 * set; inheritable and ambient cleared), and sets no_new_privs if asked. */
int wr_limit_workload_privileges(uint64_t caps, bool no_new_privs, wr_error *err);
/* The fill-path part of the security profile inside the new root: the
 * workload's user (resolved now, entered by wr_security_enter_user at
 * activation), ulimits, umask, capabilities, no_new_privs. The seccomp
 * filter goes in last, by wr_seccomp_filter_install. */
int wr_security_setup(const struct wr_container_config *cfg, int shim_sock, wr_error *err);
/* shim_sock: see wr_parent_death_arm, done after the change of user. */
int wr_security_enter_user(int shim_sock, wr_error *err);
/* Empties this process's own capability sets (an --init pid 1 needs none). */
int wr_drop_all_capabilities(wr_error *err);

/* Forks the workload as pid 2 and serves as its init (see container_init.c). */
_Noreturn void wr_exec_with_init(char *const argv[], char *const envp[], int init_sock,
                                 struct wr_exec_stamp *stamp);

int64_t wr_monotonic_ns(void);

#endif
