/* The container side of a security profile, on the fill path (see
 * security_profile.h): everything but the seccomp filter, which goes in
 * last, and the user, which is taken on at activation. */
#include "security_setup.h"

#include "container.h"

#include "lib/workload_user.h"
#include "parent_death.h"
#include "privileges.h"
#include "userns_enter.h"

#include <errno.h>
#include <grp.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

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

/* runc hands the stdio descriptors to the container user, so that a
 * workload can reopen them (/dev/stdout, /proc/self/fd/1: the caller's
 * pipes are host root's, mode 0600). They are anonymous pipes or sockets
 * (wr_stdio_check), so no host file changes owner. Best effort: EPERM
 * (the pipe's owner is not mapped in a user namespace) and EINVAL (the
 * user is not mapped) are left as runc leaves them, and so is any error a
 * seccomp profile denying fchown returns (the filter is in already): the
 * workload then keeps the descriptors, only not the reopening. Root pays
 * nothing. */
static void give_stdio(const struct wr_workload_user *w)
{
    if (w->uid == 0 && w->gid == 0)
        return;
    for (int fd = 0; fd < 3; fd++)
        (void)fchown(fd, w->uid, w->gid);
}

/* setgroups, setresgid, setresuid; then, as the credential change
 * cleared it, the parent-death signal again (wr_parent_death_arm). */
static int enter_user(const struct wr_workload_user *w, int shim_sock, wr_error *err)
{
    if (!w->set)
        return 0;
    give_stdio(w);
    if (setgroups(w->n_groups, w->groups) < 0)
        return wr_error_set(err, errno, "setgroups");
    if (setresgid(w->gid, w->gid, w->gid) < 0)
        return wr_error_set(err, errno, "setgid %u", (unsigned)w->gid);
    if (setresuid(w->uid, w->uid, w->uid) < 0)
        return wr_error_set(err, errno, "setuid %u", (unsigned)w->uid);
    /* A new uid or gid cleared PR_SET_PDEATHSIG (root staying root, in
     * its namespace, keeps it: nothing to pay on that hot path). */
    if ((w->uid != 0 || w->gid != 0) && wr_parent_death_arm(shim_sock, err) < 0)
        return -1;
    return 0;
}

void wr_security_stdio_owner(uint32_t *uid, uint32_t *gid)
{
    *uid = workload_user.set ? workload_user.uid : 0;
    *gid = workload_user.set ? workload_user.gid : 0;
}

int wr_security_enter_user(int shim_sock, wr_error *err)
{
    return enter_user(&workload_user, shim_sock, err);
}

void wr_security_default_home(char **envp)
{
    size_t i = 0;
    for (; envp[i]; i++)
        if (strncmp(envp[i], "HOME=", 5) == 0) {
            if (envp[i][5] == '\0') /* "-e HOME=": unset, as runc has it */
                envp[i] = workload_user.home_env;
            return;
        }
    if (workload_user.set) {
        envp[i] = workload_user.home_env;
        envp[i + 1] = NULL;
    }
}
