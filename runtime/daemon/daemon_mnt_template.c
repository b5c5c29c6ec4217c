/* See daemon_mnt_template.h. */
#include "daemon_mnt_template.h"

#include "daemon_shim_server.h"

#include "lib/fdpass.h"
#include "lib/shim_msg.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef NS_GET_NSTYPE
#define NS_GET_NSTYPE _IO(0xb7, 0x3)
#endif

void daemon_mnt_template_drop(struct daemon *d)
{
    if (!d->mnt_template.held)
        return;
    close(d->mnt_template.ns_fd);
    close(d->mnt_template.root_fd);
    d->mnt_template.held = false;
}

void daemon_mnt_template_release(struct daemon *d)
{
    daemon_mnt_template_drop(d);
    daemon_shim_server_idle(d);
}

bool daemon_mnt_template_give(struct daemon *d, posix_spawn_file_actions_t *fa)
{
    if (d->mnt_template.held && d->mnt_template.given < WR_MNT_TEMPLATE_SERVERS - 1 &&
        posix_spawn_file_actions_adddup2(fa, d->mnt_template.ns_fd, SHIM_MNT_TEMPLATE_FD) == 0 &&
        posix_spawn_file_actions_adddup2(fa, d->mnt_template.root_fd, SHIM_MNT_TEMPLATE_ROOT_FD) ==
            0) {
        d->mnt_template.given++;
        return true;
    }
    daemon_mnt_template_drop(d);
    return false;
}

void daemon_mnt_template_take(struct daemon *d)
{
    if (d->mnt_template.held || d->shim_server.pid <= 0)
        return;
    int pidfd = (int)syscall(SYS_pidfd_open, d->shim_server.pid, 0);
    if (pidfd < 0)
        return;
    /* Both close-on-exec (pidfd_getfd sets it): no spawned process of the
     * daemon's inherits them. Not there yet (or never): the server places
     * the root last. */
    int got[2] = {(int)syscall(SYS_pidfd_getfd, pidfd, SHIM_MNT_TEMPLATE_FD, 0), -1};
    if (got[0] >= 0)
        got[1] = (int)syscall(SYS_pidfd_getfd, pidfd, SHIM_MNT_TEMPLATE_ROOT_FD, 0);
    close(pidfd);
    /* Above the numbers they are given at, so that daemon_mnt_template_give's
     * dup2s never overwrite one with the other. */
    int high[2] = {-1, -1};
    if (got[1] >= 0 && ioctl(got[0], NS_GET_NSTYPE) == CLONE_NEWNS)
        for (size_t i = 0; i < 2; i++)
            high[i] = fcntl(got[i], F_DUPFD_CLOEXEC, SHIM_MNT_TEMPLATE_ROOT_FD + 1);
    wr_close_fds(got, 2);
    if (high[0] < 0 || high[1] < 0) {
        wr_close_fds(high, 2);
        return;
    }
    d->mnt_template.ns_fd = high[0];
    d->mnt_template.root_fd = high[1];
    d->mnt_template.held = true;
    d->mnt_template.given = 0;
}
