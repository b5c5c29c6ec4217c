#include "shim_client.h"

#include "cleanup.h"
#include "fdpass.h"
#include "clock.h"
#include "container_id.h"
#include "cpumask.h"
#include "activation.h"
#include "sealed_fd.h"
#include "shim_fork.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <linux/magic.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

extern char **environ;

void wr_shim_init(struct wr_shim *s)
{
    memset(s, 0, sizeof *s);
    s->ctl_fd = s->act_fd = s->pidfd = -1;
    s->stdio_uid = s->stdio_gid = -1;
}

int wr_shim_default_path(char *out, size_t cap, wr_error *err)
{
    const char *env = getenv("WARMRUN_SHIM");
    if (env && env[0]) {
        int n = snprintf(out, cap, "%s", env);
        if (n < 0 || (size_t)n >= cap)
            return wr_error_set(err, ENAMETOOLONG, "WARMRUN_SHIM");
        return 0;
    }
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n < 0)
        return wr_error_set(err, errno, "readlink /proc/self/exe");
    self[n] = '\0';
    char *slash = strrchr(self, '/');
    if (slash)
        *slash = '\0';
    int len = snprintf(out, cap, "%s/warmrun-shim", self);
    if (len < 0 || (size_t)len >= cap)
        return wr_error_set(err, ENAMETOOLONG, "shim path");
    return 0;
}

/* Moves fd above the shim's fixed numbers so that the spawn's dup2s cannot
 * clobber one another. */
static int lift_fd(int *fd, wr_error *err)
{
    int lifted = fcntl(*fd, F_DUPFD_CLOEXEC, 10);
    if (lifted < 0)
        return wr_error_set(err, errno, "fcntl F_DUPFD");
    close(*fd);
    *fd = lifted;
    return 0;
}

/* The resource settings as "--resource key=value" pairs appended to argv. */
#define RESOURCE_ARGS_MAX (48 + WR_VOLUMES_MAX)
#define RESOURCE_ARG_LEN  (WR_CPU_SETSIZE * 4 + 32)
struct resource_args {
    char *argv[2 * RESOURCE_ARGS_MAX + 1];
    char text[RESOURCE_ARGS_MAX][RESOURCE_ARG_LEN];
    size_t n;
};

/* Appends "option value" (value copied into ra). */
static int add_arg_pair(struct resource_args *ra, const char *option, const char *value)
{
    if (ra->n >= RESOURCE_ARGS_MAX)
        return -1;
    snprintf(ra->text[ra->n], sizeof ra->text[ra->n], "%s", value);
    ra->argv[2 * ra->n] = (char *)option;
    ra->argv[2 * ra->n + 1] = ra->text[ra->n];
    ra->n++;
    return 0;
}

static int add_resource_arg(const char *key, const char *value, void *ctx)
{
    char pair[RESOURCE_ARG_LEN];
    snprintf(pair, sizeof pair, "%s=%s", key, value);
    return add_arg_pair(ctx, "--resource", pair);
}

/* The same shim, forked by the shim server: the descriptors a spawn would
 * dup2 (stderr, ctl, act[, netns]) travel with the request. */
static int fork_process(const struct wr_shim_spec *spec, char *const argv[], int ctl, int act,
                        int netns, int sysfs, pid_t *pid, bool *server_lost, wr_error *err)
{
    cleanup_close int devnull = -1;
    int stderr_fd = STDERR_FILENO;
    if (spec->quiet) {
        devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
        if (devnull < 0)
            return wr_error_set(err, errno, "open /dev/null");
        stderr_fd = devnull;
    }
    int fds[5] = {stderr_fd, ctl, act, netns, sysfs};
    bool with_sysfs = spec->has_netns && spec->has_sysfs;
    uint32_t flags = (spec->fill_idle ? WR_SHIM_FORK_IDLE : 0) |
                     (spec->has_netns ? WR_SHIM_FORK_NETNS : 0) |
                     (with_sysfs ? WR_SHIM_FORK_SYSFS : 0);
    return wr_shim_fork_request(spec->fork_server_fd, argv, fds, 3u + spec->has_netns + with_sysfs,
                                flags, pid, server_lost, err);
}

void wr_shim_spawn_attr_init(posix_spawn_file_actions_t *fa, posix_spawnattr_t *attr, bool quiet,
                             bool idle)
{
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawn_file_actions_init(fa);
    posix_spawnattr_init(attr);
    posix_spawn_file_actions_addopen(fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(fa, 1, "/dev/null", O_WRONLY, 0);
    if (quiet)
        posix_spawn_file_actions_addopen(fa, 2, "/dev/null", O_WRONLY, 0);
    /* Its own session: a terminal's ^C to the daemon or CLI must not reach
     * the shim; signals and defaults reset so the shim starts clean. */
    short flags = POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
    /* A pool's fill runs under SCHED_IDLE from the shim's very exec on: it
     * uses spare CPU only, and never delays a workload that was just
     * activated. The container returns to SCHED_OTHER at the end of its
     * set-up, the shim once the container is warm. */
    if (idle) {
        struct sched_param param = {.sched_priority = 0};
        flags |= POSIX_SPAWN_SETSCHEDULER;
        posix_spawnattr_setschedpolicy(attr, SCHED_IDLE);
        posix_spawnattr_setschedparam(attr, &param);
    }
    posix_spawnattr_setflags(attr, flags);
    posix_spawnattr_setsigmask(attr, &none);
    posix_spawnattr_setsigdefault(attr, &all);
}

/* Starts the shim: forked by the server when server is set, else spawned.
 * *server_lost: see wr_shim_fork_request. */
static int spawn_process(const struct wr_shim_spec *spec, const char *id, int ctl, int act,
                         int netns, int sysfs, bool server, pid_t *pid, bool *server_lost,
                         wr_error *err)
{
    char tmpfs[32];
    static struct resource_args ra;
    snprintf(tmpfs, sizeof tmpfs, "%" PRIu64, spec->tmpfs_bytes);
    ra.n = 0;
    if (spec->resources && wr_resources_each(spec->resources, add_resource_arg, &ra) < 0)
        return wr_error_set(err, E2BIG, "too many resource settings");
    /* Then one --volume per volume (volumes.h). */
    static char volume_text[WR_VOLUMES_MAX][WR_VOLUME_TEXT_MAX];
    for (size_t i = 0; spec->volumes && i < spec->volumes->n; i++) {
        if (ra.n >= RESOURCE_ARGS_MAX)
            return wr_error_set(err, E2BIG, "too many resource settings and volumes");
        if (wr_volume_encode(&spec->volumes->v[i], volume_text[i], sizeof volume_text[i], err) < 0)
            return -1;
        ra.argv[2 * ra.n] = (char *)"--volume";
        ra.argv[2 * ra.n + 1] = volume_text[i];
        ra.n++;
    }
    if (spec->network && add_arg_pair(&ra, "--network", spec->network) < 0)
        return wr_error_set(err, E2BIG, "too many resource settings");
    for (size_t i = 0; i < spec->n_publish; i++)
        if (add_arg_pair(&ra, "--publish", spec->publish[i]) < 0)
            return wr_error_set(err, E2BIG, "too many settings");
    if (spec->net_helper && spec->net_helper[0] &&
        add_arg_pair(&ra, "--net-helper", spec->net_helper) < 0)
        return wr_error_set(err, E2BIG, "too many settings");
    if (spec->publish_at_activation && add_arg_pair(&ra, "--publish-at", "activation") < 0)
        return wr_error_set(err, E2BIG, "too many settings");
    ra.argv[2 * ra.n] = NULL;
    char *const base[] = {
        (char *)"warmrun-shim",
        (char *)"--id",
        (char *)id,
        (char *)"--image",
        (char *)spec->image,
        (char *)"--lowerdir",
        (char *)spec->lowerdir,
        (char *)"--state-dir",
        (char *)spec->state_dir,
        (char *)"--tmpfs-size",
        tmpfs,
        (char *)"--security",
        (char *)(spec->security ? spec->security : ""),
        /* optional last pair: NULL ends argv early when unset */
        (char *)(spec->workload_cpus ? "--workload-cpus" : NULL),
        (char *)spec->workload_cpus,
        NULL,
    };
    char netns_reuse[48];
    snprintf(netns_reuse, sizeof netns_reuse, "--netns-reuse=%ld", spec->netns_sockets);
    char *const netns_args[] = {
        (char *)(spec->netns_recycle ? "--netns-recycle" : NULL),
        (char *)(spec->has_netns ? netns_reuse : NULL),
        (char *)(spec->has_netns && spec->has_sysfs ? "--sysfs-kept" : NULL),
    };
    /* argv: the base options, the recycling flags, then the resource and
     * volume pairs. */
    size_t n_base = 0;
    while (base[n_base])
        n_base++;
    char *argv[sizeof base / sizeof *base + 3 + 2 * RESOURCE_ARGS_MAX];
    memcpy(argv, base, n_base * sizeof *argv);
    for (size_t i = 0; i < 3; i++)
        if (netns_args[i])
            argv[n_base++] = netns_args[i];
    memcpy(argv + n_base, ra.argv, (2 * ra.n + 1) * sizeof *argv);
    if (server)
        return fork_process(spec, argv, ctl, act, netns, sysfs, pid, server_lost, err);
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    wr_shim_spawn_attr_init(&fa, &attr, spec->quiet, spec->fill_idle);
    posix_spawn_file_actions_adddup2(&fa, ctl, SHIM_CTL_FD);
    posix_spawn_file_actions_adddup2(&fa, act, SHIM_ACT_FD);
    if (spec->has_netns)
        posix_spawn_file_actions_adddup2(&fa, netns, SHIM_NETNS_FD);
    if (spec->has_netns && spec->has_sysfs)
        posix_spawn_file_actions_adddup2(&fa, sysfs, SHIM_SYSFS_FD);
    int rc = posix_spawn(pid, spec->shim_path, &fa, &attr, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    if (rc != 0)
        return wr_error_set(err, rc, "spawn the shim (%s)", spec->shim_path);
    return 0;
}

/* One try: a new id, new sockets, a new shim (forked when server). */
static int spawn_once(const struct wr_shim_spec *spec, struct wr_shim *s, bool server,
                      bool *server_lost, wr_error *err)
{
    int ctl[2], act[2];
    if (wr_container_id_new(s->id, err) < 0)
        return -1;
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, ctl) < 0)
        return wr_error_set(err, errno, "socketpair");
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, act) < 0) {
        close(ctl[0]);
        close(ctl[1]);
        return wr_error_set(err, errno, "socketpair");
    }
    cleanup_close int ctl_ours = ctl[0], ctl_theirs = ctl[1];
    cleanup_close int act_ours = act[0], act_theirs = act[1];
    if (lift_fd(&ctl_theirs, err) < 0 || lift_fd(&act_theirs, err) < 0)
        return -1;
    /* The spawner keeps its own descriptor of a recycled namespace. */
    cleanup_close int netns = -1, sysfs = -1;
    if (spec->has_netns) {
        netns = fcntl(spec->netns_fd, F_DUPFD_CLOEXEC, 10);
        if (netns < 0)
            return wr_error_set(err, errno, "fcntl F_DUPFD");
    }
    if (spec->has_netns && spec->has_sysfs) {
        sysfs = fcntl(spec->sysfs_fd, F_DUPFD_CLOEXEC, 10);
        if (sysfs < 0)
            return wr_error_set(err, errno, "fcntl F_DUPFD");
    }
    if (spawn_process(spec, s->id, ctl_theirs, act_theirs, netns, sysfs, server, &s->shim_pid,
                      server_lost, err) < 0)
        return -1;
    s->ctl_fd = steal_fd(&ctl_ours);
    s->act_fd = steal_fd(&act_ours);
    return 0;
}

int wr_shim_spawn(const struct wr_shim_spec *spec, struct wr_shim *s, wr_error *err)
{
    bool lost = false;
    wr_shim_init(s);
    if (spec->fork_server_fd > 0) {
        wr_error ferr = {0};
        if (spawn_once(spec, s, true, &lost, &ferr) == 0)
            return 0;
        /* The server failed (or the argv did not fit its area): this shim
         * is spawned, with a new id and new sockets, so that a shim the
         * server may have forked after all can never share them. */
        wr_shim_init(s);
        s->fork_server_lost = lost;
        if (spawn_once(spec, s, false, &lost, err) < 0)
            return -1;
        *err = ferr; /* what the server did: for the caller's log */
        return 0;
    }
    return spawn_once(spec, s, false, &lost, err);
}

int wr_shim_read(struct wr_shim *s, struct wr_msg *m, wr_error *err)
{
    int fds[2] = {-1, -1};
    size_t nfds = 2;
    ssize_t n = wr_recv_fds(s->ctl_fd, m, sizeof *m, fds, &nfds, err);
    if (n < 0)
        return -1;
    if (n == 0)
        return 0;
    if ((size_t)n != sizeof *m) {
        wr_close_fds(fds, nfds);
        return wr_error_set(err, EPROTO, "short message from shim %s", s->id);
    }
    m->text[sizeof m->text - 1] = '\0';
    if (m->type == WR_MSG_WARM) {
        if (nfds != 1) {
            wr_close_fds(fds, nfds);
            return wr_error_set(err, EPROTO, "shim %s sent WARM without a pidfd", s->id);
        }
        if (s->pidfd >= 0)
            close(s->pidfd);
        s->pidfd = fds[0];
        s->child_pid = m->num;
        bool hand =
            m->value > 0 && m->value2 > 0 && m->value <= UINT32_MAX && m->value2 <= UINT32_MAX;
        s->stdio_uid = hand ? m->value - 1 : -1;
        s->stdio_gid = hand ? m->value2 - 1 : -1;
        return 1;
    }
    if (m->type == WR_MSG_NETNS) {
        m->num = fds[0]; /* -1: none; a sysfs mount comes only with it */
        m->value2 = nfds == 2 ? fds[1] : -1;
        return 1;
    }
    wr_close_fds(fds, nfds);
    return 1;
}

int wr_shim_wait_warm(struct wr_shim *s, int timeout_ms, wr_error *err)
{
    struct pollfd p = {.fd = s->ctl_fd, .events = POLLIN};
    struct wr_msg m;
    for (;;) {
        int r = poll(&p, 1, timeout_ms);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return wr_error_set(err, errno, "poll");
        if (r == 0)
            return wr_error_set(err, ETIMEDOUT, "container %s did not become ready", s->id);
        int got = wr_shim_read(s, &m, err);
        if (got < 0)
            return -1;
        if (got == 0)
            return wr_error_set(err, 0, "shim of container %s exited during setup", s->id);
        if (m.type == WR_MSG_WARM)
            return 0;
        if (m.type == WR_MSG_FAILED) {
            snprintf(err->msg, sizeof err->msg, "%s", m.text);
            err->errnum = m.num;
            return -1;
        }
    }
}

/* Hands the stdio to a user namespace's workload (its host ids),
 * as runc does, so that it can reopen them (/dev/stdout). Only anonymous
 * pipes and sockets (pipefs, sockfs: the kinds a container accepts,
 * container_fds.c): never a file, device or named pipe of the caller's,
 * whose owner is the host's. Best effort, as in the container: the
 * workload keeps the descriptors either way. */
static void give_stdio(const int stdio[3], uid_t uid, gid_t gid)
{
    for (int i = 0; i < 3; i++) {
        struct statfs sfs;
        if (fstatfs(stdio[i], &sfs) == 0 &&
            (sfs.f_type == PIPEFS_MAGIC || sfs.f_type == SOCKFS_MAGIC))
            (void)fchown(stdio[i], uid, gid);
    }
}

/* The activation and the stdio, in one message: in band up to
 * WR_ACTIVATION_MAX and WR_ACTIVATION_VEC_MAX strings (the common case: one
 * sendmsg, and what the container keeps ready), else a header and a sealed
 * memfd as a fourth descriptor (sealed_fd.h). */
static int hand_over(int act_fd, const char *activation, size_t len, const int stdio[3],
                     wr_error *err)
{
    if (len <= WR_ACTIVATION_MAX &&
        wr_activation_vec_needed(activation, len) <= WR_ACTIVATION_VEC_MAX)
        return wr_send_fds(act_fd, activation, len, stdio, 3, err);
    cleanup_close int memfd = wr_sealed_fd_create("warmrun-activation", activation, len, err);
    if (memfd < 0)
        return -1;
    struct wr_oob_header h = {.magic = WR_OOB_MAGIC, .len = len};
    int fds[4] = {stdio[0], stdio[1], stdio[2], memfd};
    return wr_send_fds(act_fd, &h, sizeof h, fds, 4, err);
}

int wr_shim_activate(struct wr_shim *s, const char *activation, size_t len, const int stdio[3],
                     int client_fd, const char *cold_reason, int64_t *resumed_ns, wr_error *err)
{
    struct wr_msg attach = {.type = WR_MSG_CLIENT};
    if (cold_reason) {
        attach.num = 1;
        snprintf(attach.text, sizeof attach.text, "%s", cold_reason);
    }
    if (s->pidfd < 0)
        return wr_error_set(err, EINVAL, "container %s is not warm", s->id);
    if (s->stdio_uid >= 0)
        give_stdio(stdio, (uid_t)s->stdio_uid, (gid_t)s->stdio_gid);
    if (hand_over(s->act_fd, activation, len, stdio, err) < 0)
        return wr_error_prefix(err, "hand over to container %s", s->id);
    if (syscall(SYS_pidfd_send_signal, s->pidfd, SIGCONT, NULL, 0) < 0)
        return wr_error_set(err, errno, "resume container %s", s->id);
    *resumed_ns = wr_monotonic_ns();
    if (wr_send_fds(s->ctl_fd, &attach, sizeof attach, &client_fd, 1, err) < 0) {
        /* The workload may already run, with nobody to report its exit:
         * stop it rather than leave it unaccounted for. */
        syscall(SYS_pidfd_send_signal, s->pidfd, SIGKILL, NULL, 0);
        wr_error_prefix(err, "attach client to shim %s", s->id);
        return WR_ACTIVATE_STARTED_FAILED;
    }
    return 0;
}

int wr_shim_kill(struct wr_shim *s, int sig, wr_error *err)
{
    struct wr_msg m = {.type = WR_MSG_KILL, .num = sig};
    return wr_send_fds(s->ctl_fd, &m, sizeof m, NULL, 0, err);
}

bool wr_shim_kill_orphan(struct wr_shim *s, int timeout_ms)
{
    /* A pidfd polls readable once its process has exited (a zombie
     * included): then its cgroups can go. */
    struct pollfd p = {.fd = s->pidfd, .events = POLLIN};
    if (s->pidfd < 0 || poll(&p, 1, 0) != 0)
        return false; /* never warm, or already dead (PR_SET_PDEATHSIG) */
    if (syscall(SYS_pidfd_send_signal, s->pidfd, SIGKILL, NULL, 0) < 0)
        return false;
    while (poll(&p, 1, timeout_ms) < 0 && errno == EINTR)
        ;
    return true;
}

void wr_shim_release(struct wr_shim *s)
{
    int fds[3] = {s->ctl_fd, s->act_fd, s->pidfd};
    wr_close_fds(fds, 3);
    s->ctl_fd = s->act_fd = s->pidfd = -1;
}
