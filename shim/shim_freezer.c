/* A function environment waits frozen in a cgroup v1 freezer cgroup that
 * the daemon made (runtime/daemon/daemon_freezer.h:
 * /sys/fs/cgroup/freezer/warmrun-functions/<scope>/<id>, scope derived from
 * the state directory, id the container's). On cgroup v1 a frozen task
 * cannot die: a SIGKILL stays pending until the cgroup is thawed
 * (Documentation/admin-guide/cgroup-v1/freezer-subsystem.rst). The daemon
 * thaws before it kills; when the daemon itself is gone (SIGKILLed: its
 * connection to this shim closes and the shim ends the container), the
 * shim must, or the environment would stay frozen, with its shim waiting
 * for it, until a new daemon starts. On cgroup v2 (cgroup.freeze) a fatal
 * signal reaches frozen tasks, and none of this is needed.
 *
 * The path is made from the shim's own options, never read from the
 * container (whose /proc entries its tenant influences). */
#include "shim.h"

#include "lib/cgroup.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define V1_FREEZER "/sys/fs/cgroup/freezer/warmrun-functions"

/* This shim thawed its container's freezer: the daemon is gone, so the
 * cgroup is the shim's to remove (one shim per process). */
static bool thawed;

static int freezer_dir(const struct shim *sh, char *out, size_t cap, bool scope_only)
{
    char scope[16];
    if (!sh->opt.state_dir || !sh->opt.id)
        return -1;
    wr_cgroup_scope(sh->opt.state_dir, scope);
    int n = scope_only ? snprintf(out, cap, V1_FREEZER "/%s", scope)
                       : snprintf(out, cap, V1_FREEZER "/%s/%s", scope, sh->opt.id);
    return n > 0 && (size_t)n < cap ? 0 : -1;
}

void shim_freezer_thaw(const struct shim *sh)
{
    char path[512];
    if (freezer_dir(sh, path, sizeof path - 16, false) < 0)
        return;
    strcat(path, "/freezer.state");
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return; /* not a function environment, or not cgroup v1 */
    thawed = write(fd, "THAWED", 6) == 6;
    close(fd);
}

void shim_freezer_remove(const struct shim *sh)
{
    char path[512];
    if (!thawed || freezer_dir(sh, path, sizeof path, false) < 0)
        return;
    /* Empty once the container's last task is gone; a task exiting may
     * still hold it for a moment. */
    for (int i = 0; i < 50 && rmdir(path) < 0 && errno == EBUSY; i++)
        usleep(10000);
    if (freezer_dir(sh, path, sizeof path, true) == 0)
        (void)rmdir(path); /* the daemon's scope, once its last environment went */
}
