/* The container records on a tmpfs: see state_tmpfs.h. */
#include "state_tmpfs.h"

#include "cleanup.h"
#include "state_file.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <linux/mount.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

/* One record is a few hundred bytes: one page and one inode each. 32768
 * containers is far beyond what a host's memory holds warm; the bounds keep
 * a runaway writer from filling the host's memory. */
#define RECORDS_INODES "32768"
#define RECORDS_SIZE   "128m"
/* A record is one "key=value" text far below a page (state_file.c). */
#define RECORD_MAX 4096
/* renameat2(2)'s flag: glibc's <stdio.h> has it, musl's (the static CLI
 * links this file) has neither the flag nor a renameat2 wrapper. */
#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE (1 << 0)
#endif
/* umount2(2)'s flags, from <sys/mount.h>, which clashes with
 * <linux/mount.h> (the new mount API above) in glibc 2.36. */
#ifndef MNT_DETACH
#define MNT_DETACH 2
#endif
#ifndef UMOUNT_NOFOLLOW
#define UMOUNT_NOFOLLOW 8
#endif

static bool on_tmpfs(int fd)
{
    struct statfs sf;
    return fstatfs(fd, &sf) == 0 && sf.f_type == TMPFS_MAGIC;
}

static int open_dir(const char *path)
{
    return open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

/* The host's mount namespace is pid 1's; when pid 1 cannot be inspected
 * (an init that made itself undumpable: EACCES even for root), that of
 * kthreadd, pid 2 with parent 0, which exists only in the host's pid
 * namespace and whose namespaces are the initial ones. */
static int host_mount_ns(struct stat *st)
{
    pid_t parent;
    wr_error ignored;
    if (stat("/proc/1/ns/mnt", st) == 0)
        return 0;
    if (wr_proc_parent(2, &parent, &ignored) == 0 && parent == 0 && stat("/proc/2/ns/mnt", st) == 0)
        return 0;
    return -1;
}

static int in_host_mount_ns(wr_error *why)
{
    struct stat self, host;
    if (stat("/proc/self/ns/mnt", &self) < 0 || host_mount_ns(&host) < 0)
        return wr_error_set(why, errno, "cannot compare its mount namespace with pid 1's");
    if (self.st_ino != host.st_ino || self.st_dev != host.st_dev)
        return wr_error_code(why, EPERM,
                             "it runs in a mount namespace other than pid 1's, where a mount "
                             "would be seen by no other process");
    return 0;
}

/* A detached tmpfs (fsopen/fsmount): filled before anyone can see it. */
static int new_tmpfs(wr_error *why)
{
    static const char *const opts[][2] = {
        {"source", WR_RECORDS_TMPFS_SOURCE},
        {"mode", "0700"},
        {"size", RECORDS_SIZE},
        {"nr_inodes", RECORDS_INODES},
    };
    cleanup_close int ctx = (int)syscall(SYS_fsopen, "tmpfs", FSOPEN_CLOEXEC);
    if (ctx < 0)
        return wr_error_set(why, errno, "fsopen tmpfs");
    for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++)
        if (syscall(SYS_fsconfig, ctx, FSCONFIG_SET_STRING, opts[i][0], opts[i][1], 0) < 0)
            return wr_error_set(why, errno, "tmpfs %s=%s", opts[i][0], opts[i][1]);
    if (syscall(SYS_fsconfig, ctx, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
        return wr_error_set(why, errno, "tmpfs");
    int mnt = (int)syscall(SYS_fsmount, ctx, FSMOUNT_CLOEXEC,
                           MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
    if (mnt < 0)
        return wr_error_set(why, errno, "fsmount tmpfs");
    return mnt;
}

/* Copies regular file name of from into to, whole or not at all (written
 * under a temporary name ending in .tmp, which wr_state_scan sweeps if this
 * process dies before the rename). A file of that name already in to is
 * newer (its writer saw the tmpfs) and is kept. Returns 1 when name is in
 * to, 0 when it is no regular file (left alone), -1 on errors. */
static int copy_record(int from, int to, const char *name, wr_error *err)
{
    char buf[RECORD_MAX], tmp[NAME_MAX + 8];
    struct stat st;
    int n = snprintf(tmp, sizeof tmp, ".%s.tmp", name);
    if (n < 0 || (size_t)n >= sizeof tmp)
        return wr_error_set(err, ENAMETOOLONG, "record %s", name);
    /* Anything but a regular file is no record: it is left where it is. */
    cleanup_close int in = openat(from, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (in < 0)
        return errno == ENOENT || errno == ELOOP || errno == ENXIO || errno == EISDIR
                   ? 0
                   : wr_error_set(err, errno, "open record %s", name);
    if (fstat(in, &st) < 0 || !S_ISREG(st.st_mode))
        return 0;
    ssize_t len = read(in, buf, sizeof buf);
    if (len < 0)
        return wr_error_set(err, errno, "read record %s", name);
    cleanup_close int out =
        openat(to, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (out < 0)
        return wr_error_set(err, errno, "create %s", tmp);
    if (write(out, buf, (size_t)len) != len ||
        (syscall(SYS_renameat2, to, tmp, to, name, RENAME_NOREPLACE) < 0 && errno != EEXIST)) {
        int saved = errno;
        unlinkat(to, tmp, 0);
        return wr_error_set(err, saved, "copy record %s", name);
    }
    unlinkat(to, tmp, 0); /* when the rename found a newer record */
    return 1;
}

/* A stream over the entries of directory fd, from the first, on a
 * duplicate (fd stays open and usable); NULL with errno set. */
static DIR *dir_stream(int fd)
{
    int dup_fd = dup(fd);
    if (dup_fd < 0)
        return NULL;
    DIR *dp = fdopendir(dup_fd);
    if (!dp) {
        int e = errno;
        close(dup_fd);
        errno = e;
        return NULL;
    }
    rewinddir(dp); /* the duplicate shares the position of fd */
    return dp;
}

/* Copies every regular file of directory from into to; with remove,
 * removes each from from once copied. */
static int copy_records(int from, int to, bool remove, wr_error *err)
{
    cleanup_closedir DIR *dp = dir_stream(from);
    if (!dp)
        return wr_error_set(err, errno, "read directory");
    struct dirent *de;
    while ((de = readdir(dp))) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        int copied = copy_record(from, to, de->d_name, err);
        if (copied < 0)
            return -1;
        if (copied && remove)
            unlinkat(from, de->d_name, 0);
    }
    return 0;
}

int wr_state_records_tmpfs(const char *dir, wr_error *why)
{
    cleanup_close int below = open_dir(dir);
    if (below < 0)
        return wr_error_set(why, errno, "open %s", dir);
    if (on_tmpfs(below))
        return 0;
    if (in_host_mount_ns(why) < 0)
        return -1;
    /* Every process that prepares opens dir by its path: until the mount
     * covers it, they all lock this same directory. */
    if (flock(below, LOCK_EX) < 0)
        return wr_error_set(why, errno, "flock %s", dir);
    cleanup_close int now = open_dir(dir);
    if (now < 0)
        return wr_error_set(why, errno, "open %s", dir);
    if (on_tmpfs(now))
        return 0; /* mounted by the process that held the lock before us */
    struct stat a, b;
    if (fstat(below, &a) < 0 || fstat(now, &b) < 0 || a.st_dev != b.st_dev || a.st_ino != b.st_ino)
        return wr_error_code(why, EAGAIN, "%s was replaced while this process waited for its lock",
                             dir);
    cleanup_close int mnt = new_tmpfs(why);
    if (mnt < 0)
        return -1;
    /* Copied before the mount is attached, so that a reader never finds a
     * record missing; copied again after, for any written in between by a
     * process that did not prepare (an older version). */
    if (copy_records(below, mnt, false, why) < 0)
        return -1;
    if (syscall(SYS_move_mount, mnt, "", below, "",
                MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
        return wr_error_set(why, errno, "mount a tmpfs on %s", dir);
    if (copy_records(below, mnt, true, why) < 0)
        return wr_error_prefix(why, "%s is a tmpfs, but", dir);
    return 0;
}

/* How many times a writer follows a directory replaced under it (a tmpfs
 * mounted or detached while it waited for its lock): each replacement
 * needs the lock exclusively, so more than a few in a row is no race. */
#define RECORDS_OPEN_TRIES 8

int wr_state_records_open(const char *dir, wr_error *err)
{
    for (int i = 0; i < RECORDS_OPEN_TRIES; i++) {
        cleanup_close int fd = open_dir(dir);
        struct stat held, now;
        if (fd < 0)
            return wr_error_set(err, errno, "open %s", dir);
        if (flock(fd, LOCK_SH) < 0)
            return wr_error_set(err, errno, "flock %s", dir);
        if (fstat(fd, &held) < 0 || stat(dir, &now) < 0)
            return wr_error_set(err, errno, "stat %s", dir);
        if (held.st_dev == now.st_dev && held.st_ino == now.st_ino)
            return steal_fd(&fd);
    }
    return wr_error_code(err, EAGAIN, "%s keeps being replaced", dir);
}

/* The mount fd is on, from /proc/self/fdinfo and /proc/self/mountinfo:
 * true when it is a records tmpfs (WR_RECORDS_TMPFS_SOURCE). */
static bool records_mount(int fd)
{
    char path[64], line[4096];
    long mnt_id = -1;
    snprintf(path, sizeof path, "/proc/self/fdinfo/%d", fd);
    cleanup_fclose FILE *info = fopen(path, "re");
    while (info && fgets(line, sizeof line, info))
        if (sscanf(line, "mnt_id: %ld", &mnt_id) == 1)
            break;
    if (mnt_id < 0)
        return false;
    cleanup_fclose FILE *mi = fopen("/proc/self/mountinfo", "re");
    while (mi && fgets(line, sizeof line, mi)) {
        char *end;
        if (strtol(line, &end, 10) != mnt_id || *end != ' ')
            continue;
        const char *fs = strstr(line, " - ");
        return fs && strncmp(fs, " - tmpfs " WR_RECORDS_TMPFS_SOURCE " ",
                             strlen(" - tmpfs " WR_RECORDS_TMPFS_SOURCE " ")) == 0;
    }
    return false;
}

static bool dir_empty(int fd)
{
    cleanup_closedir DIR *dp = dir_stream(fd);
    if (!dp)
        return false;
    struct dirent *de;
    while ((de = readdir(dp)))
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
            return false;
    return true;
}

int wr_state_records_release(const char *dir, wr_error *err)
{
    cleanup_close int fd = open_dir(dir);
    if (fd < 0)
        return errno == ENOENT ? 0 : wr_error_set(err, errno, "open %s", dir);
    if (!on_tmpfs(fd) || !records_mount(fd))
        return 0;
    if (flock(fd, LOCK_EX) < 0)
        return wr_error_set(err, errno, "flock %s", dir);
    /* Under the lock no record can appear: every writer holds it shared
     * (wr_state_records_open) from before it checks which directory it
     * writes in to after its record is in place. */
    struct stat held, now;
    if (fstat(fd, &held) < 0 || stat(dir, &now) < 0 || held.st_dev != now.st_dev ||
        held.st_ino != now.st_ino)
        return 0; /* detached or replaced meanwhile: not ours to judge */
    if (!dir_empty(fd))
        return 0;
    if (syscall(SYS_umount2, dir, MNT_DETACH | UMOUNT_NOFOLLOW) < 0)
        return wr_error_set(err, errno, "unmount %s", dir);
    return 1;
}

int wr_state_records_release_idle(const char *state_dir, wr_error *err)
{
    char dir[PATH_MAX];
    int n = snprintf(dir, sizeof dir, "%s/containers", state_dir);
    if (n < 0 || (size_t)n >= sizeof dir)
        return wr_error_set(err, ENAMETOOLONG, "state dir %s", state_dir);
    /* A daemon holds the state directory's lock exclusively for its life
     * (daemon_main.c): its fills write records at any moment, and would
     * write them to the disk if the tmpfs went now. */
    cleanup_close int lock = open_dir(state_dir);
    if (lock < 0)
        return errno == ENOENT ? 0 : wr_error_set(err, errno, "open %s", state_dir);
    if (flock(lock, LOCK_SH | LOCK_NB) < 0)
        return errno == EWOULDBLOCK ? 0 : wr_error_set(err, errno, "flock %s", state_dir);
    return wr_state_records_release(dir, err);
}
