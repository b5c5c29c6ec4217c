/* A container's pid 1 dies with its shim: PR_SET_PDEATHSIG = SIGKILL
 * (delivered even to a pid-namespace init, since it comes from outside).
 * The kernel clears that setting on every credential change (setresuid,
 * setresgid, setns into a user namespace, exec of a set-id binary), so pid
 * 1 arms it again after each of its own, and then checks that the shim
 * has not died in between: getppid() is 0 for pid 1 of a new pid
 * namespace, so the check is the hang-up of the init socket, whose other
 * end only the shim holds. The shim's descriptors close before its
 * children get their death signal, so one of the two always catches it. */

#include "parent_death.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>

int wr_parent_death_arm(int shim_sock, wr_error *err)
{
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
        return wr_error_set(err, errno, "PR_SET_PDEATHSIG");
    struct pollfd p = {.fd = shim_sock, .events = POLLRDHUP};
    if (poll(&p, 1, 0) < 0)
        return wr_error_set(err, errno, "poll the shim's socket");
    if (p.revents & (POLLHUP | POLLRDHUP | POLLERR | POLLNVAL))
        return wr_error_set(err, 0, "the shim is gone");
    return 0;
}
