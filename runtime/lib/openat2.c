/* See openat2.h. */
#include "openat2.h"

#include <errno.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>

/* openat2 fails with EAGAIN when a ".." met under RESOLVE_IN_ROOT or
 * RESOLVE_BENEATH raced with a rename or a mount anywhere on the host
 * (other containers mount all the time), and asks to be called again. */
#define OPENAT2_RETRIES 64

int wr_openat2(int dirfd, const char *path, const struct open_how *how)
{
    for (int tries = 0;; tries++) {
        int fd = (int)syscall(SYS_openat2, dirfd, path, how, sizeof *how);
        if (fd >= 0 || errno != EAGAIN || tries >= OPENAT2_RETRIES)
            return fd;
    }
}
