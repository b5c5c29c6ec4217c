/* What a container's pid 1 holds open. Every host descriptor open in pid 1
 * while it uses container-controlled input (a working directory, the
 * image's /etc/passwd, a PATH entry) is a way out: "/proc/self/fd/N/.."
 * climbs the host's tree from wherever N points (CVE-2024-21626, runc's
 * leaked cgroup directory). So pid 1 closes everything it inherited from
 * the shim but the few descriptors it needs, right after the clone, and
 * swaps the shim's stdio for its own /dev/null once inside its root. At
 * activation it takes the caller's stdio only if they are pipes or
 * sockets: a host inode handed in would be pid 1's to chmod or chown. */
#include "container_fds.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <linux/magic.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

void wr_close_fds_except(const int *keep, size_t n)
{
    /* In ascending order, the smallest kept descriptor at or above lo each
     * time: no copy of keep to sort, so no bound on how many it holds (a
     * bounded copy once dropped, that is closed, the entries past its end:
     * the fill's list grew to nine). n is a handful: n * n steps. */
    unsigned lo = 0;
    for (;;) {
        long next = -1;
        for (size_t i = 0; i < n; i++)
            if (keep[i] >= 0 && (unsigned)keep[i] >= lo && (next < 0 || keep[i] < next))
                next = keep[i];
        if (next < 0)
            break;
        if ((unsigned)next > lo)
            close_range(lo, (unsigned)next - 1, 0);
        lo = (unsigned)next + 1;
    }
    close_range(lo, ~0U, 0);
}

int wr_stdio_to_dev_null(wr_error *err)
{
    int fd = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return wr_error_set(err, errno, "open the container's /dev/null");
    for (int i = 0; i < 3; i++)
        if (fd != i && dup2(fd, i) < 0) {
            int e = errno;
            close(fd);
            return wr_error_set(err, e, "dup2 /dev/null onto %d", i);
        }
    if (fd > 2)
        close(fd);
    return 0;
}

/* What a refused stdio descriptor is, for the error message: off the fast
 * path, so it may take a few more system calls. */
static void stdio_kind(int fd, long f_type, char *out, size_t cap)
{
    int fl = fcntl(fd, F_GETFL);
    struct stat st;
    const char *kind = "an inode of no file type";
    if (fl >= 0 && (fl & O_PATH)) {
        kind = "an O_PATH descriptor";
    } else if (f_type == ANON_INODE_FS_MAGIC) {
        kind = "an anonymous inode (eventfd, epoll, timerfd...)";
    } else if (fstat(fd, &st) < 0) {
        kind = "a file of unknown kind";
    } else if (S_ISCHR(st.st_mode)) {
        unsigned ma = major(st.st_rdev), mi = minor(st.st_rdev);
        /* ttys and consoles (4, 5) and Unix 98 pty slaves (136-143) */
        bool tty = ma == 4 || ma == 5 || (ma >= 136 && ma <= 143);
        snprintf(out, cap, "%s (character device %u:%u)",
                 ma == 1 && mi == 3 ? "/dev/null"
                 : tty              ? "a terminal"
                                    : "a device node",
                 ma, mi);
        return;
    } else if (S_ISBLK(st.st_mode)) {
        snprintf(out, cap, "a block device %u:%u", major(st.st_rdev), minor(st.st_rdev));
        return;
    } else if (S_ISREG(st.st_mode)) {
        kind = "a regular file";
    } else if (S_ISDIR(st.st_mode)) {
        kind = "a directory";
    } else if (S_ISFIFO(st.st_mode)) {
        kind = "a named pipe of a file system";
    } else if (S_ISSOCK(st.st_mode)) {
        kind = "a socket file";
    } else if (S_ISLNK(st.st_mode)) {
        kind = "a symbolic link";
    }
    snprintf(out, cap, "%s", kind);
}

int wr_stdio_check(const int fds[3], wr_error *err)
{
    static const char *const names[] = {"stdin", "stdout", "stderr"};
    for (int i = 0; i < 3; i++) {
        /* The file system of the inode says it all: pipefs and sockfs
         * inodes are anonymous (a socket bound to a path is still a sockfs
         * inode; the path's inode is another one). Everything else (a
         * regular file, a device node, a named pipe, a directory, an
         * anonymous inode of another kind) is an inode that pid 1, root on
         * the host without a user namespace, could chmod, chown or setxattr
         * through /proc/self/fd/N. An O_PATH descriptor of a pipe or a
         * socket gives nothing the pipe or socket itself would not. */
        struct statfs sfs;
        if (fstatfs(fds[i], &sfs) < 0)
            return wr_error_set(err, errno, "%s (fd %d)", names[i], i);
        if (sfs.f_type == PIPEFS_MAGIC || sfs.f_type == SOCKFS_MAGIC)
            continue;
        char kind[80];
        stdio_kind(fds[i], (long)sfs.f_type, kind, sizeof kind);
        return wr_error_set(err, 0,
                            "%s (fd %d) is %s: refused: a container's stdio must be pipes or "
                            "sockets, never an inode of the caller's (warmrun activate relays "
                            "files and terminals through pipes)",
                            names[i], i, kind);
    }
    return 0;
}
