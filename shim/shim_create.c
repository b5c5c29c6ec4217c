/* The fill path, shim side: clone the container into its namespaces, wait
 * for it to set itself up, stop it and announce it warm. */
#include "shim.h"

#include "lib/cleanup.h"
#include "lib/fdpass.h"
#include "lib/shim_msg.h"
#include "lib/state_file.h"
#include "lib/userns.h"
#include "container/container_fds.h"
#include "container/container.h"
#include "shim_mnt_template.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/limits.h>
#include <linux/sched.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define NAMESPACE_FLAGS                                                                            \
    (CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET | CLONE_NEWCGROUP)

/* Setup of a container takes milliseconds; a child that has not reported in
 * this long is stuck (e.g. on a hung filesystem) and is killed. */
#define SETUP_TIMEOUT_MS 30000

/* A child that failed early may be gone before the shim looks at it: its
 * reason, if it sent one, says more than our failure to follow it. */
static int child_error(struct shim *sh, wr_error *err)
{
    struct wr_msg m;
    if (recv(sh->init, &m, sizeof m, MSG_DONTWAIT) == (ssize_t)sizeof m && m.type == WR_MSG_ERROR) {
        m.text[sizeof m.text - 1] = '\0';
        err->errnum = m.num;
        snprintf(err->msg, sizeof err->msg, "%s", m.text);
    }
    return -1;
}

/* PIDFD_GET_*_NAMESPACE (<linux/pidfd.h>, Linux 6.11): a namespace of
 * the process a pidfd names, as a new O_CLOEXEC descriptor, under the
 * same access check as /proc/PID/ns/NAME (ptrace read), but without the
 * walk of that path and the proc inode made and evicted for each. */
#ifndef PIDFD_GET_IPC_NAMESPACE
#define PIDFD_GET_IPC_NAMESPACE _IO(0xFF, 2)
#define PIDFD_GET_MNT_NAMESPACE _IO(0xFF, 3)
#define PIDFD_GET_NET_NAMESPACE _IO(0xFF, 4)
#endif

/* The namespaces the shim holds (struct shim's ns_fds, in that order). */
static const struct {
    const char *name;
    unsigned long ioctl;
} held_ns[3] = {
    {"mnt", PIDFD_GET_MNT_NAMESPACE},
    {"net", PIDFD_GET_NET_NAMESPACE},
    {"ipc", PIDFD_GET_IPC_NAMESPACE},
};

/* held_ns[i] of the child: from its pidfd, or by /proc/PID/ns on a kernel
 * without the ioctl (ENOTTY; EINVAL before pidfs). -1 and errno. */
static int open_held_ns(int pidfd, pid_t pid, size_t i)
{
    int fd = ioctl(pidfd, held_ns[i].ioctl, 0);
    if (fd >= 0 || (errno != ENOTTY && errno != EINVAL))
        return fd;
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/ns/%s", (int)pid, held_ns[i].name);
    return open(path, O_RDONLY | O_CLOEXEC);
}

static int clone_container(struct shim *sh, int child_init, wr_error *err)
{
    int pidfd = -1, cgroup_fd;
    struct clone_args args = {
        .flags = NAMESPACE_FLAGS | CLONE_PIDFD,
        .pidfd = (uint64_t)(uintptr_t)&pidfd,
        .exit_signal = SIGCHLD,
    };
    if (shim_resources_prepare(sh, &cgroup_fd, err) < 0)
        return -1;
    if (cgroup_fd >= 0) {
        /* Born in its cgroup: no later move, no RCU wait. */
        args.flags |= CLONE_INTO_CGROUP;
        args.cgroup = (uint64_t)cgroup_fd;
    }
    if (sh->res.cgroup_wait)
        args.flags &= ~(uint64_t)CLONE_NEWCGROUP; /* entered once in its v1 cgroups */
    if (sh->opt.net.kind == WR_NET_HOST)
        args.flags &= ~(uint64_t)CLONE_NEWNET; /* --network host: documented as weaker */
    if (sh->opt.netns_reuse)
        args.flags &= ~(uint64_t)CLONE_NEWNET; /* the child enters the recycled one */
    char staging[PATH_MAX];
    int len = snprintf(staging, sizeof staging, "%s/mnt", sh->opt.state_dir);
    if (len < 0 || (size_t)len >= sizeof staging)
        return wr_error_set(err, ENAMETOOLONG, "state dir %s", sh->opt.state_dir);

    /* A copy of the server's small mount template rather than of our
     * whole namespace, when its mounts are still the host's on every path
     * pid 1 reaches before its pivot_root. Volumes keep the full copy:
     * their sources may be anywhere on the host, mounted at any time. */
    struct shim_mnt_template_paths in_template;
    sh->mnt_template =
        sh->opt.volumes.n == 0 &&
        shim_mnt_template_fits(&shim_mnt_template, sh->opt.lowerdir, staging, &in_template);
    if (sh->mnt_template)
        args.flags &= ~(uint64_t)CLONE_NEWNS; /* pid 1 copies the template itself */

    pid_t pid = (pid_t)syscall(SYS_clone3, &args, sizeof args);
    if (pid < 0)
        return wr_error_set(err, errno, "clone3");
    if (pid == 0) {
        struct wr_container_config cfg = {
            .id = sh->opt.id,
            /* In the template: its canonical paths (shim_mnt_paths.h). */
            .lowerdir = sh->mnt_template ? in_template.lowerdir : sh->opt.lowerdir,
            .staging_dir = sh->mnt_template ? in_template.staging : staging,
            .hostname = sh->opt.id,
            .tmpfs_bytes = sh->opt.tmpfs_bytes,
            .workload_cpus = sh->opt.pinned ? &sh->opt.workload_cpus : NULL,
            .cmdline_area = sh->opt.cmdline_area,
            .cmdline_len = sh->opt.cmdline_len,
            .security = &sh->opt.security,
            .seccomp = sh->seccomp.insns ? &sh->seccomp : NULL,
            .userns_fd = sh->userns_fd,
            /* Always: without limits, the container still joins its
             * accounting cgroups (shim_resources.c). */
            .resources = &sh->opt.resources,
            .volumes = &sh->opt.volumes,
            .cgroup = sh->res.cgroup.created ? &sh->res.cgroup : NULL,
            .host_network = sh->opt.net.kind == WR_NET_HOST,
            .cni_network = sh->opt.net.kind == WR_NET_CNI,
            .net_address = sh->net.leased ? sh->net.addr : 0,
            .netns_fd = sh->opt.netns_reuse ? SHIM_NETNS_FD : -1,
            .sysfs_fd = sh->sysfs_fd,
            .sysfs_keep = sh->opt.netns_recycle,
            .mnt_template_fd = sh->mnt_template ? shim_mnt_template.ns_fd : -1,
            .lo_legacy_multicast = sh->opt.netns_recycle && !sh->opt.netns_reuse,
        };
        /* The container keeps only what it needs: its activation socket,
         * its end of the init socket, the user namespace until it enters
         * it, the locked memfd. Not the control socket to the daemon, not
         * the cgroup directory it was cloned into, nothing of the host's
         * (container_fds.c). 0, 1 and 2 stay until the container has its
         * own /dev/null to put there (rootfs.c). */
        const int keep[] = {0,
                            1,
                            2,
                            child_init,
                            SHIM_ACT_FD,
                            sh->userns_fd,
                            sh->res.mlock_fd,
                            cfg.netns_fd,
                            cfg.sysfs_fd,
                            cfg.mnt_template_fd};
        wr_close_fds_except(keep, sizeof keep / sizeof *keep);
        wr_container_main(&cfg, child_init, SHIM_ACT_FD, sh->stamp);
    }
    sh->child = pid;
    sh->pidfd = pidfd;
    /* The template stays the server's: none of it in the shim from here. */
    shim_mnt_template_close(&shim_mnt_template);
    /* A client that claims this fill (daemon_start.c) raises the shim,
     * then the children it finds: one cloned meanwhile got the shim's
     * policy of before. Raised here then, after the clone, so that one of
     * the two always sees the other's step. */
    struct sched_param normal = {.sched_priority = 0};
    if (sched_getscheduler(0) != SCHED_IDLE && sched_getscheduler(pid) == SCHED_IDLE)
        sched_setscheduler(pid, SCHED_OTHER, &normal);
    if (shim_resources_attach(sh, err) < 0)
        return -1;
    for (size_t i = 0; i < 3; i++) {
        /* A recycled network namespace is held as the descriptor it came
         * as: the child enters it only after its clone, so its
         * /proc/PID/ns/net could still name the host's namespace, and the
         * pristine check at the end would then look at the host's (and
         * fail, losing the namespace). */
        if (i == 1 && sh->opt.netns_reuse) {
            sh->ns_fds[1] = SHIM_NETNS_FD;
            continue;
        }
        /* Its mount namespace is ours until it has copied the template:
         * held after its READY (hold_mnt_ns), at the number a placeholder
         * keeps now (as a spawned shim's descriptors are numbered). */
        if (i == 0 && sh->mnt_template) {
            if ((sh->ns_fds[0] = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0)
                return wr_error_set(err, errno, "open /dev/null");
            continue;
        }
        if ((sh->ns_fds[i] = open_held_ns(pidfd, pid, i)) < 0) {
            wr_error_set(err, errno, "open /proc/%d/ns/%s", (int)pid, held_ns[i].name);
            return child_error(sh, err);
        }
    }
    return 0;
}

/* A container that copied the mount template held by its namespace now
 * that it has one of its own (its READY says so). */
static int hold_mnt_ns(struct shim *sh, wr_error *err)
{
    if (!sh->mnt_template)
        return 0;
    int fd = open_held_ns(sh->pidfd, sh->child, 0);
    if (fd < 0)
        return wr_error_set(err, errno, "open /proc/%d/ns/mnt", (int)sh->child);
    int placed = dup3(fd, sh->ns_fds[0], O_CLOEXEC);
    close(fd);
    if (placed < 0)
        return wr_error_set(err, errno, "dup3");
    return 0;
}

static int wait_ready(struct shim *sh, wr_error *err)
{
    struct pollfd p = {.fd = sh->init, .events = POLLIN};
    struct wr_msg m;
    ssize_t n;
    /* Before the first READY may come the sysfs mount made to travel with
     * the namespace (container/sysfs_mount.h, WR_MSG_SYSFS): kept for the
     * offer. One, at most: any other descriptor is closed. */
    for (bool sysfs_seen = false;;) {
        int r;
        do
            r = poll(&p, 1, SETUP_TIMEOUT_MS);
        while (r < 0 && errno == EINTR);
        if (r <= 0)
            return wr_error_set(err, r == 0 ? ETIMEDOUT : errno, "container setup");
        int fd = -1;
        size_t nfds = 1;
        n = wr_recv_fds(sh->init, &m, sizeof m, &fd, &nfds, err);
        bool keep = n == (ssize_t)sizeof m && nfds == 1 && m.type == WR_MSG_SYSFS && !sysfs_seen &&
                    sh->opt.netns_recycle && sh->sysfs_fd < 0;
        if (keep)
            sh->sysfs_fd = fd;
        else if (nfds == 1)
            close(fd);
        if (n != (ssize_t)sizeof m || m.type != WR_MSG_SYSFS || sysfs_seen)
            break;
        sysfs_seen = true;
    }
    if (n != (ssize_t)sizeof m)
        return wr_error_set(err, n < 0 ? err->errnum : 0, "container exited during setup");
    if (m.type == WR_MSG_SYSFS)
        return wr_error_set(err, EPROTO, "container setup: a second sysfs mount");
    m.text[sizeof m.text - 1] = '\0';
    if (m.type == WR_MSG_READY) {
        sh->user_uid1 = m.value;
        sh->user_gid1 = m.value2;
        return 0;
    }
    err->errnum = m.num;
    snprintf(err->msg, sizeof err->msg, "%s", m.text);
    return -1;
}

/* pid 1 of a pid namespace ignores SIGSTOP from inside, itself included, so
 * the stop comes from here, and waitpid confirms it took. */
static int stop_child(struct shim *sh, wr_error *err)
{
    int status;
    if (syscall(SYS_pidfd_send_signal, sh->pidfd, SIGSTOP, NULL, 0) < 0)
        return wr_error_set(err, errno, "stop container");
    for (;;) {
        pid_t r = waitpid(sh->child, &status, WUNTRACED | __WALL);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return wr_error_set(err, errno, "waitpid");
        if (WIFSTOPPED(status))
            return 0;
        sh->exited = true;
        return wr_error_set(err, 0, "container exited before it could be stopped");
    }
}

static int write_state(struct shim *sh, wr_error *err)
{
    struct wr_state_record rec = {
        .shim_pid = getpid(),
        .child_pid = sh->child,
        .created = (int64_t)time(NULL),
    };
    snprintf(rec.id, sizeof rec.id, "%s", sh->opt.id);
    snprintf(rec.image, sizeof rec.image, "%s", sh->opt.image);
    if (wr_proc_start_time(rec.shim_pid, &rec.shim_start, err) < 0)
        return -1;
    /* So that a container whose shim is gone can be found and killed
     * without ever mistaking a reused pid for it (wr_state_scan). */
    if (wr_proc_start_time(rec.child_pid, &rec.child_start, err) < 0)
        return -1;
    return wr_state_write(sh->opt.state_dir, &rec, err);
}

/* The container's user namespace, owned by a uid of its own: see
 * WR_USERNS_OWNER_BASE. A pid is unique while its shim lives, and the
 * namespace does not outlive the shim's container. */
static int create_userns(struct shim *sh, wr_error *err)
{
    pid_t pid = getpid();
    if ((uint32_t)pid >= WR_USERNS_OWNER_COUNT)
        return wr_error_set(err, ERANGE, "pid %d above the namespace owners' range", (int)pid);
    const struct wr_security_profile *p = &sh->opt.security;
    return wr_userns_create(p->userns_base, p->userns_size, WR_USERNS_OWNER_BASE + (uint32_t)pid,
                            &sh->userns_fd, err);
}

/* In a user namespace the container cannot take the caller's stdio itself
 * (the pipes belong to a host uid it does not map: fchown is EPERM there,
 * and even its root cannot reopen them), so WARM tells the spawner the
 * host ids of the workload, root included, as runc hands the stdio to the
 * container's mapped root or user, through the namespace's one mapping
 * ("0 base size": userns.c), for it to hand the pipes over before the
 * activation (wr_shim_activate). Without a user namespace the container
 * does it (security_setup.c), for a non-root workload only. */
static void stdio_owner(const struct shim *sh, struct wr_msg *warm)
{
    const struct wr_security_profile *p = &sh->opt.security;
    if (!p->userns_size || sh->user_uid1 <= 0 || sh->user_gid1 <= 0 ||
        sh->user_uid1 > p->userns_size || sh->user_gid1 > p->userns_size)
        return;
    warm->value = (int64_t)p->userns_base + sh->user_uid1;
    warm->value2 = (int64_t)p->userns_base + sh->user_gid1;
}

int shim_create_container(struct shim *sh, wr_error *err)
{
    int pair[2];
    struct wr_msg warm = {.type = WR_MSG_WARM};

    if (shim_seccomp_prepare(sh, err) < 0)
        return -1;
    if (sh->opt.security.userns_size && create_userns(sh, err) < 0)
        return -1;
    if (shim_network_prepare(sh, err) < 0)
        return -1;
    sh->stamp =
        mmap(NULL, sizeof *sh->stamp, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (sh->stamp == MAP_FAILED)
        return wr_error_set(err, errno, "mmap");
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) < 0)
        return wr_error_set(err, errno, "socketpair");
    sh->init = pair[0];
    cleanup_close int child_init = pair[1];

    int cloned = clone_container(sh, child_init, err);
    /* The child has its copy of the filter; the shim needs none. */
    free(sh->seccomp.insns);
    sh->seccomp.insns = NULL;
    if (cloned < 0)
        return -1;
    close(SHIM_ACT_FD); /* the container's end now lives in the container only */
    if (sh->userns_fd >= 0) {
        close(sh->userns_fd);
        sh->userns_fd = -1;
    }
    if (write_state(sh, err) < 0 || shim_network_attach(sh, sh->ns_fds[1], err) < 0)
        return -1;
    if (wait_ready(sh, err) < 0 || hold_mnt_ns(sh, err) < 0)
        return -1;
    /* cni: the address the plugins gave eth0, for the container's
     * /etc/hosts; its second READY says it is written. */
    if (sh->opt.net.kind == WR_NET_CNI &&
        (shim_cni_send_address(sh, err) < 0 || wait_ready(sh, err) < 0))
        return -1;
    if (stop_child(sh, err) < 0)
        return -1;
    shim_netns_baseline(sh);
    /* Filled under SCHED_IDLE (see shim_client.c), pid 1 too, to its
     * stop. The workload must not inherit that: set from here, as pid 1
     * could not leave SCHED_IDLE by itself once in a user namespace or
     * without CAP_SYS_NICE. And from now on the shim is on the path of the
     * workload's exit report. */
    struct sched_param normal = {.sched_priority = 0};
    if (sched_setscheduler(sh->child, SCHED_OTHER, &normal) < 0)
        return wr_error_set(err, errno, "reset the container's scheduling policy");
    sched_setscheduler(0, SCHED_OTHER, &normal);
    if (sh->opt.pinned)
        sched_setaffinity(0, sizeof sh->opt.workload_cpus, &sh->opt.workload_cpus);
    warm.num = sh->child;
    stdio_owner(sh, &warm);
    return wr_send_fds(sh->ctl, &warm, sizeof warm, &sh->pidfd, 1, err);
}
