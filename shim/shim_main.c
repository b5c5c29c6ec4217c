/* warmrun-shim: started by the daemon (or by the CLI for a cold start) with
 * its control socket on fd 3 and the container's activation socket on fd 4.
 * Not meant to be run by hand. */
#include "shim.h"
#include "shim_mnt_template.h"
#include "shim_log.h"

#include "container/signal_reset.h"
#include "lib/fdpass.h"
#include "lib/signal_fd.h"
#include "lib/shim_msg.h"
#include "lib/state_file.h"
#include "lib/state_tmpfs.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static void report_failure(struct shim *sh, const wr_error *err)
{
    struct wr_msg m;
    wr_msg_from_error(&m, WR_MSG_FAILED, err);
    (void)write(sh->ctl, &m, sizeof m);
    shim_log(sh->opt.id, "%s", err->msg);
}

/* After a failed setup the child may still be alive: kill it and reap it
 * before we go, so nothing outlives the shim. */
static void discard_child(struct shim *sh)
{
    if (sh->child <= 0 || sh->exited)
        return;
    if (sh->pidfd >= 0)
        syscall(SYS_pidfd_send_signal, sh->pidfd, SIGKILL, NULL, 0);
    while (waitpid(sh->child, NULL, __WALL) < 0 && errno == EINTR)
        ;
}

/* A descriptor the spawner gives with an option only (a recycled
 * namespace, its sysfs mount): kept, close-on-exec, when wanted (and then
 * it must be there), else closed. */
static int optional_fd(int fd, bool wanted, const char *option, wr_error *err)
{
    if (!wanted) {
        close(fd);
        return 0;
    }
    if (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
        return wr_error_set(err, errno, "%s without its descriptor %d", option, fd);
    return 0;
}

/* The container's record goes with it. One that outlived its daemon (handed
 * out before a stop, warm or filling at a SIGKILL) was left the records'
 * tmpfs by that daemon: the last one to end takes it along, unless a
 * daemon serves the state directory again (state_tmpfs.h). */
static void remove_record(const struct shim *sh)
{
    wr_error ignored;
    wr_state_remove(sh->opt.state_dir, sh->opt.id);
    (void)wr_state_records_release_idle(sh->opt.state_dir, &ignored);
}

int shim_main(int argc, char **argv)
{
    struct shim sh = {.ctl = SHIM_CTL_FD,
                      .init = -1,
                      .client = -1,
                      .pidfd = -1,
                      .sigfd = -1,
                      .ns_fds = {-1, -1, -1},
                      .userns_fd = -1,
                      .netns_sockets = -1,
                      .sysfs_fd = -1,
                      .container_proc_fd = -1,
                      .res = {.mlock_fd = -1, .cgroup = {.v2_fd = -1}}};
    wr_error err = {0};

    /* Executed as /proc/self/fd/N (shim_exe.h), its name would be "N";
     * forked by the shim server, it would be the server's. */
    prctl(PR_SET_NAME, "warmrun-shim");
    if (fcntl(SHIM_CTL_FD, F_GETFD) < 0 || fcntl(SHIM_ACT_FD, F_GETFD) < 0) {
        fprintf(stderr, "warmrun-shim: internal program of warmrun, not to be run by hand\n");
        return 2;
    }
    fcntl(SHIM_CTL_FD, F_SETFD, FD_CLOEXEC);
    fcntl(SHIM_ACT_FD, F_SETFD, FD_CLOEXEC);
    /* Nothing else we may have inherited belongs to us or the container. */
    if (shim_mnt_template.ns_fd >= 0) {
        close_range(SHIM_SYSFS_FD + 1, SHIM_MNT_TEMPLATE_FD - 1, 0);
        close_range(SHIM_MNT_TEMPLATE_ROOT_FD + 1, ~0U, 0);
    } else {
        close_range(SHIM_SYSFS_FD + 1, ~0U, 0);
    }
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    /* An executed shim has its spawner's dispositions (the CLI's parent's,
     * through a cold start): a SIGCHLD left ignored there would have its
     * helpers and pid 1 reaped unasked (lib/signal_fd.h). A forked one
     * has the server's start state, which the daemon's spawn made the
     * default: no system call for it per fill. */
    if (wr_signals_not_default >> (SIGCHLD - 1) & 1)
        wr_sigchld_default();
    signal(SIGPIPE, SIG_IGN);
    wr_signal_noted(SIGPIPE); /* pid 1 resets it for the workload */

    if (shim_parse_options(argc, argv, &sh.opt, &err) < 0) {
        report_failure(&sh, &err);
        return 2;
    }
    if (optional_fd(SHIM_NETNS_FD, sh.opt.netns_reuse, "--netns-reuse", &err) < 0 ||
        optional_fd(SHIM_SYSFS_FD, sh.opt.sysfs_kept, "--sysfs-kept", &err) < 0) {
        report_failure(&sh, &err);
        return 2;
    }
    if (sh.opt.sysfs_kept)
        sh.sysfs_fd = SHIM_SYSFS_FD;
    if (shim_create_container(&sh, &err) < 0) {
        free(sh.seccomp.insns);
        report_failure(&sh, &err);
        discard_child(&sh);
        wr_close_fds(&sh.sysfs_fd, 1);
        shim_network_release(&sh);
        shim_resources_release(&sh);
        remove_record(&sh);
        return 1;
    }
    int rc = shim_run(&sh);
    /* The exit is reported: now let the kernel tear the namespaces down. */
    shim_network_release(&sh);
    wr_close_fds(sh.ns_fds, 3);
    wr_close_fds(&sh.sysfs_fd, 1);
    wr_close_fds(&sh.container_proc_fd, 1);
    shim_resources_release(&sh);
    remove_record(&sh);
    wr_volumes_free(&sh.opt.volumes); /* LeakSanitizer: a pool's or function's volumes */
    return rc;
}

int main(int argc, char **argv)
{
    prctl(PR_SET_NAME, "warmrun-shim");
    if (argc >= 2 && strcmp(argv[1], "--compile-seccomp") == 0)
        return shim_compile_seccomp(argc, argv);
    if (argc >= 2 && strcmp(argv[1], "--server") == 0)
        return shim_server_main(argc, argv);
    return shim_main(argc, argv);
}
