/* The shim binary as containers can see it, and as it is executed.
 *
 * A container's pid 1 is a clone of its shim until the workload's execve,
 * so the shim's executable is what /proc/self/exe (and /proc/1/exe) names
 * in the container; an image whose command is /proc/self/exe, or a script
 * starting with #!/proc/self/exe, runs that executable again with the
 * image's own dynamic loader and LD_PRELOAD (CVE-2019-5736). Had the shim
 * been executed from its host path, container root could then chmod, chown
 * and set file capabilities on the host's binary. So the shim is never
 * executed from its host path, only from one of these:
 *
 *  - overlay (preferred): the binary opened through a private, detached,
 *    read-only overlayfs whose top lower layer is the binary's directory
 *    (runc's exeseal does the same). An overlayfs without an upper layer
 *    is read-only in its superblock: chmod, chown, setxattr and open for
 *    writing fail with EROFS whatever capabilities the caller holds and
 *    however the mount is cloned or remounted. No copy, nothing to check.
 *  - memfd (fallback, e.g. when the binary's file system cannot be an
 *    overlayfs lower layer): one copy in a sealed memfd (no write, shrink,
 *    grow; exec bits sealed where the kernel has F_SEAL_EXEC). Seals do not
 *    cover the inode's owner, set-id bits or xattrs, which container root
 *    can still change: wr_shim_exe_check() finds that (mode, owner, ctime)
 *    before each spawn and puts a fresh copy in its place.
 *
 * $WARMRUN_SHIM_SEAL picks one: "overlay" or "memfd"; unset or empty: the
 * overlay, else the memfd. */
#ifndef WARMRUN_SHIM_EXE_H
#define WARMRUN_SHIM_EXE_H

#include "error.h"

#include <linux/limits.h>
#include <stddef.h>
#include <sys/stat.h>

enum wr_shim_seal { WR_SHIM_SEAL_OVERLAY, WR_SHIM_SEAL_MEMFD };

struct wr_shim_exe {
    int fd; /* O_PATH fd of the binary in the overlay, or the memfd; -1 */
    enum wr_shim_seal kind;
    char host_path[PATH_MAX];             /* the binary (a memfd is copied again from it) */
    struct stat sealed;                   /* memfd: as it was right after sealing */
    char exec_path[32];                   /* "/proc/self/fd/N": what posix_spawn executes */
    char overlay_error[WR_ERROR_MSG_MAX]; /* why the overlay was not used, if it was not */
};

void wr_shim_exe_init(struct wr_shim_exe *x);

/* Makes the executable for host_path (resolved with realpath). The overlay's
 * second lower layer is <state_dir>/empty (wr_state_dir_prepare makes it).
 * The fd is close-on-exec and numbered 10 or above, so that a spawn's dup2s
 * onto the shim's fixed descriptors cannot replace it before the exec
 * resolves exec_path. Errors: those of realpath, fsopen/fsconfig/fsmount
 * (with the kernel's message), memfd_create, sendfile, F_ADD_SEALS;
 * EINVAL for a bad $WARMRUN_SHIM_SEAL. */
int wr_shim_exe_open(struct wr_shim_exe *x, const char *host_path, const char *state_dir,
                     wr_error *err);

/* Before a spawn: a memfd whose mode, owner or ctime changed since it was
 * sealed (a container's root changed it through /proc/self/exe) is replaced
 * by a fresh sealed copy under the same fd number. Returns 0 when it was
 * pristine (always for the overlay), 1 when it was replaced (what: the
 * change, for the log), -1 on error. Cost: one fstat. */
int wr_shim_exe_check(struct wr_shim_exe *x, char *what, size_t cap, wr_error *err);

void wr_shim_exe_close(struct wr_shim_exe *x);
/* cleanup.h's idiom: closed when it leaves scope (after wr_shim_exe_init
 * or wr_shim_exe_open, failed or not). */
#define cleanup_shim_exe __attribute__((cleanup(wr_shim_exe_close)))

/* "overlay" or "memfd". */
const char *wr_shim_exe_kind(const struct wr_shim_exe *x);

#endif
