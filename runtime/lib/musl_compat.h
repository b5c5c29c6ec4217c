/* What glibc 2.36 (Debian 12) declares and musl 1.2.3 does not, for the
 * programs linked with musl (the CLI and the shim; Makefile, MUSL_STATIC).
 * Forced into every musl object with `-include` (MUSL_CFLAGS), never
 * included by a source file: the glibc build does not see it, and the
 * sources are the same for both C libraries.
 *
 * The wrappers are the raw system calls, with glibc's prototypes
 * (sys/mount.h, unistd.h, sys/pidfd.h of glibc 2.36): glibc's own are the
 * same one-line syscall(2)s (sysdeps/unix/sysv/linux/syscalls.list), so
 * both builds issue the same calls with the same arguments. The
 * constants are the kernel's, from its UAPI headers (linux/mount.h,
 * linux/close_range.h) or, where musl's header would clash with them,
 * copied with the UAPI header named.
 *
 * And what musl declares but does not do: its sched_setscheduler and
 * sched_getscheduler fail with ENOSYS by design (the system calls act on
 * one thread, POSIX's functions on a process). The shim calls them on
 * single-threaded processes, as glibc's wrappers, the raw calls, do: the
 * raw calls under other names, which the names the sources use stand for
 * (declared after musl's <sched.h>, whose declarations keep theirs). */
#pragma once

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

/* linux/mount.h defines the MS_* flags as musl's sys/mount.h does: the
 * same values, so the repeated definitions are identical. */
#include <linux/close_range.h>
#include <linux/mount.h>

/* linux/mman.h (asm-generic/mman-common.h): since Linux 5.14. */
#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22
#endif
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

/* unistd.h: close_range(2), Linux 5.9. */
static inline int close_range(unsigned int first, unsigned int last, int flags)
{
    return (int)syscall(SYS_close_range, first, last, flags);
}

/* sys/mount.h: the new mount API, Linux 5.2; mount_setattr, Linux 5.12. */
static inline int open_tree(int dfd, const char *path, unsigned int flags)
{
    return (int)syscall(SYS_open_tree, dfd, path, flags);
}

static inline int move_mount(int from_dfd, const char *from_path, int to_dfd, const char *to_path,
                             unsigned int flags)
{
    return (int)syscall(SYS_move_mount, from_dfd, from_path, to_dfd, to_path, flags);
}

static inline int fsopen(const char *fs_name, unsigned int flags)
{
    return (int)syscall(SYS_fsopen, fs_name, flags);
}

static inline int fsconfig(int fd, unsigned int cmd, const char *key, const void *value, int aux)
{
    return (int)syscall(SYS_fsconfig, fd, cmd, key, value, aux);
}

static inline int fsmount(int fd, unsigned int flags, unsigned int ms_flags)
{
    return (int)syscall(SYS_fsmount, fd, flags, ms_flags);
}

static inline int fspick(int dfd, const char *path, unsigned int flags)
{
    return (int)syscall(SYS_fspick, dfd, path, flags);
}

static inline int mount_setattr(int dfd, const char *path, unsigned int flags,
                                struct mount_attr *uattr, size_t usize)
{
    return (int)syscall(SYS_mount_setattr, dfd, path, flags, uattr, usize);
}

/* sys/pidfd.h: Linux 5.3 (pidfd_open), 5.1 (pidfd_send_signal), 5.6
 * (pidfd_getfd). */
static inline int pidfd_open(pid_t pid, unsigned int flags)
{
    return (int)syscall(SYS_pidfd_open, pid, flags);
}

static inline int pidfd_send_signal(int pidfd, int sig, siginfo_t *info, unsigned int flags)
{
    return (int)syscall(SYS_pidfd_send_signal, pidfd, sig, info, flags);
}

static inline int pidfd_getfd(int pidfd, int targetfd, unsigned int flags)
{
    return (int)syscall(SYS_pidfd_getfd, pidfd, targetfd, flags);
}

/* sched.h: glibc's wrappers are the system calls (see above). */
static inline int wr_musl_sched_setscheduler(pid_t pid, int policy, const struct sched_param *param)
{
    return (int)syscall(SYS_sched_setscheduler, pid, policy, param);
}
#define sched_setscheduler wr_musl_sched_setscheduler

static inline int wr_musl_sched_getscheduler(pid_t pid)
{
    return (int)syscall(SYS_sched_getscheduler, pid);
}
#define sched_getscheduler wr_musl_sched_getscheduler
