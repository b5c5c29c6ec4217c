/* See mnt_template.h. */
#include "mnt_template.h"

#include <errno.h>
#include <sched.h>
#include <unistd.h>

int wr_mnt_template_enter(int ns_fd, wr_error *err)
{
    int entered = setns(ns_fd, CLONE_NEWNS);
    close(ns_fd);
    if (unshare(CLONE_NEWNS) < 0)
        return wr_error_set(err, errno, "%s",
                            entered == 0 ? "copy the mount template"
                                         : "unshare the mount namespace");
    return 0;
}
