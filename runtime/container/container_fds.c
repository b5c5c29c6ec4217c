/* What a container's pid 1 holds open. Every host descriptor open in pid 1
 * while it uses container-controlled input (a working directory, the
 * image's /etc/passwd, a PATH entry) is a way out: "/proc/self/fd/N/.."
 * climbs the host's tree from wherever N points (CVE-2024-21626, runc's
 * leaked cgroup directory). So pid 1 closes everything it inherited from
 * the shim but the few descriptors it needs, right after the clone, and
 * swaps the shim's stdio for its own /dev/null once inside its root. */

#include "container_fds.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <sys/stat.h>
#include <unistd.h>

void wr_close_fds_except(const int *keep, size_t n)
{
    /* At most a handful: a selection sort of the valid ones. */
    int sorted[8];
    size_t m = 0;
    for (size_t i = 0; i < n && m < sizeof sorted / sizeof *sorted; i++)
        if (keep[i] >= 0)
            sorted[m++] = keep[i];
    for (size_t i = 0; i < m; i++)
        for (size_t j = i + 1; j < m; j++)
            if (sorted[j] < sorted[i]) {
                int t = sorted[i];
                sorted[i] = sorted[j];
                sorted[j] = t;
            }
    unsigned lo = 0;
    for (size_t i = 0; i < m; i++) {
        unsigned fd = (unsigned)sorted[i];
        if (fd > lo)
            close_range(lo, fd - 1, 0);
        if (fd + 1 > lo)
            lo = fd + 1;
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

int wr_stdio_check(const int fds[3], wr_error *err)
{
    static const char *const names[] = {"stdin", "stdout", "stderr"};
    for (int i = 0; i < 3; i++) {
        int fl = fcntl(fds[i], F_GETFL);
        if (fl < 0)
            return wr_error_set(err, errno, "%s", names[i]);
        if (fl & O_PATH)
            return wr_error_set(err, 0, "%s is an O_PATH descriptor: refused", names[i]);
        /* A directory can only be open read-only: a descriptor open for
         * writing needs no fstat. */
        struct stat st;
        if ((fl & O_ACCMODE) == O_RDONLY && fstat(fds[i], &st) == 0 && S_ISDIR(st.st_mode))
            return wr_error_set(err, 0,
                                "%s is a directory: refused (it would give the "
                                "container a way into the caller's file system)",
                                names[i]);
    }
    return 0;
}
