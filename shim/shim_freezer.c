/* A function environment waits frozen in a freezer cgroup that the daemon
 * made (runtime/daemon/daemon_freezer.h): cgroup v1's
 * /sys/fs/cgroup/freezer/warmrun-functions/<scope>/<id> where the host
 * mounts that hierarchy, else cgroup v2's <mount>/warmrun-functions/
 * <scope>/<id> (scope derived from the state directory, id the
 * container's). On cgroup v1 a frozen task cannot die: a SIGKILL stays
 * pending until the cgroup is thawed
 * (Documentation/admin-guide/cgroup-v1/freezer-subsystem.rst); on v2 a
 * fatal signal reaches frozen tasks. The daemon thaws before it kills and
 * removes the cgroup after the exit; when the daemon itself is gone
 * (SIGKILLed: its connection to this shim closes and the shim ends the
 * container), the shim must do both, or the environment would stay frozen,
 * with its shim waiting for it, until a new daemon starts.
 *
 * The paths are made from the shim's own options, never read from the
 * container (whose /proc entries its tenant influences). */
#include "shim.h"

#include "lib/cgroup.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char *const roots[] = {
    "/sys/fs/cgroup/freezer/warmrun-functions", /* v1 */
    "/sys/fs/cgroup/unified/warmrun-functions", /* v2 on a hybrid host */
    "/sys/fs/cgroup/warmrun-functions",         /* v2 alone */
};

/* The client went before the exit: no daemon is left to remove the
 * cgroup (one shim per process). */
static bool orphaned;

static int cgroup_dir(const struct shim *sh, const char *root, char *out, size_t cap)
{
    char scope[16];
    if (!sh->opt.state_dir || !sh->opt.id)
        return -1;
    wr_cgroup_scope(sh->opt.state_dir, scope);
    int n = snprintf(out, cap, "%s/%s/%s", root, scope, sh->opt.id);
    return n > 0 && (size_t)n < cap ? 0 : -1;
}

void shim_freezer_thaw(const struct shim *sh)
{
    char path[512];
    orphaned = !sh->exited;
    if (cgroup_dir(sh, roots[0], path, sizeof path - 16) < 0)
        return;
    strcat(path, "/freezer.state");
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return; /* not a function environment, or not cgroup v1 */
    (void)!write(fd, "THAWED", 6);
    close(fd);
}

/* Only the container's own directory: the scope's belongs to the daemon
 * (a live one may be making an environment in it), and an empty one is
 * removed by the next daemon of that state directory. */
void shim_freezer_remove(const struct shim *sh)
{
    char path[512];
    for (size_t i = 0; orphaned && i < sizeof roots / sizeof roots[0]; i++) {
        if (cgroup_dir(sh, roots[i], path, sizeof path) < 0 || access(path, F_OK) != 0)
            continue;
        /* Empty once the container's last task is gone; a task exiting
         * may still hold it for a moment. */
        for (int k = 0; k < 50 && rmdir(path) < 0 && errno == EBUSY; k++)
            usleep(10000);
    }
}
