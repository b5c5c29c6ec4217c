/* The container side of a security profile, on the fill path (see
 * security_profile.h): everything but the seccomp filter, which goes in
 * last, and the user, which is taken on at activation. */
#include "container.h"

#include "lib/userns.h"
#include "lib/workload_user.h"

#include <errno.h>
#include <sys/resource.h>
#include <sys/stat.h>

/* Resolved on the fill path, entered at activation (no allocation). */
static struct wr_workload_user workload_user;

int wr_security_setup(const struct wr_container_config *cfg, int shim_sock, wr_error *err)
{
    const struct wr_security_profile *p = cfg->security;
    /* Limits above the daemon's need the host's CAP_SYS_RESOURCE: before
     * the user namespace. */
    for (size_t i = 0; i < p->n_ulimits; i++) {
        const struct wr_ulimit *u = &p->ulimits[i];
        struct rlimit rl = {
            .rlim_cur = u->soft == WR_RLIM_INFINITY ? RLIM_INFINITY : u->soft,
            .rlim_max = u->hard == WR_RLIM_INFINITY ? RLIM_INFINITY : u->hard,
        };
        if (setrlimit(u->resource, &rl) < 0)
            return wr_error_set(err, errno, "ulimit %s", wr_rlimit_name(u->resource));
    }
    umask((mode_t)p->umask);
    /* Joining a user namespace fills the bounding set again: drop after.
     * It also closes the namespace's descriptor, the last one pid 1 holds
     * of the host's, so that the image's /etc/passwd below is read with
     * nothing of the host open. */
    if (cfg->userns_fd >= 0 && wr_userns_enter(cfg->userns_fd, cfg->hostname, shim_sock, err) < 0)
        return -1;
    if (wr_workload_user_resolve(p->user, &workload_user, err) < 0)
        return -1;
    /* --privileged: every capability, and no_new_privs off as in Docker. */
    return wr_limit_workload_privileges(p->caps, !p->privileged, err);
}

int wr_security_enter_user(int shim_sock, wr_error *err)
{
    return wr_workload_user_enter(&workload_user, shim_sock, err);
}
