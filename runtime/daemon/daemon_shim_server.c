/* See daemon_shim_server.h. */
#include "daemon_shim_server.h"

#include "daemon_log.h"
#include "daemon_mnt_template.h"
#include "daemon_shim_exe.h"
#include "lib/cleanup.h"
#include "lib/clock.h"
#include "lib/shim_fork.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#define RESTART_AFTER_NS 1000000000LL

/* Forked shims share their server's address layout (docs/security.md): a
 * server serves this many fills, then is let go and a new one, with a
 * layout of its own, takes over. One exec per this many fills costs a
 * fill ~15 us; a layout learnt from one container (say, through a ptrace
 * of its pid 1 with --cap-add SYS_PTRACE) then tells nothing about the
 * shims of more than this many others. */
#define WR_SHIM_SERVER_FORKS_MAX 32u

static bool server_off(void)
{
    const char *v = getenv("WARMRUN_SHIM_SERVER");
    return v && strcmp(v, "off") == 0;
}

/* Its socket closed: no request goes to it any more. */
static void disconnect(struct daemon *d)
{
    if (d->shim_server.fd >= 0)
        close(d->shim_server.fd);
    d->shim_server.fd = -1;
}

static int start(struct daemon *d, wr_error *err)
{
    const char *exe = daemon_shim_exec_path(d, err);
    if (!exe)
        return -1;
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
        return wr_error_set(err, errno, "socketpair");
    cleanup_close int ours = sv[0], theirs = sv[1];
    /* Above the server's fixed number, so that the dup2 clears its
     * close-on-exec. */
    int lifted = fcntl(theirs, F_DUPFD_CLOEXEC, 10);
    if (lifted < 0)
        return wr_error_set(err, errno, "fcntl F_DUPFD");
    close(theirs);
    theirs = lifted;
    /* The padding is the argument area forked shims copy their argv into
     * (shim_fork.h): one argument of WR_SHIM_FORK_PAD bytes, which the
     * server clears once (shim_server.c), so that a shim writes only the
     * bytes it needs. One string, not thousands of empty ones: execve
     * copies each argument on its own (~0.3 ms of CPU and of the daemon's
     * wait in posix_spawn for 8,192 of them, once per server). */
    static char padding[WR_SHIM_FORK_ARGS_MAX];
    if (!padding[0])
        memset(padding, WR_SHIM_FORK_PAD, sizeof padding - 1);
    char parent[24];
    snprintf(parent, sizeof parent, "%ld", (long)getpid());
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    /* What a spawned shim gets (its own session, default signals, normal
     * priority: each forked shim sets its own); the forked shims are reset
     * to the same. stderr stays the daemon's log. */
    wr_shim_spawn_attr_init(&fa, &attr, false, false);
    /* First: a template's dup2 may land on theirs' number (never the other
     * way: the template's are above 65). */
    posix_spawn_file_actions_adddup2(&fa, theirs, WR_SHIM_SERVER_FD);
    /* --root: the store, for the server's mount template
     * (shim/shim_mnt_template.h); --mnt-template: the one a server before
     * made, on its fds. */
    const char *const head[] = {"warmrun-shim",  "--server", "--state-dir",
                                d->g->state_dir, "--parent", parent,
                                "--root",        d->g->root, "--mnt-template"};
    size_t n_head = sizeof head / sizeof *head - !daemon_mnt_template_give(d, &fa);
    char *argv[sizeof head / sizeof *head + 2];
    for (size_t i = 0; i < n_head; i++)
        argv[i] = (char *)head[i];
    argv[n_head] = padding;
    argv[n_head + 1] = NULL;
    pid_t pid;
    int rc = posix_spawn(&pid, exe, &fa, &attr, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    if (rc != 0)
        return wr_error_set(err, rc, "spawn the shim server (%s)", exe);
    d->shim_server.pid = pid;
    d->shim_server.fd = steal_fd(&ours);
    d->shim_server.forks = 0;
    if (!d->shim_server.retiring)
        daemon_log("shim server: pid %ld forks the fills' shims", (long)pid);
    d->shim_server.retiring = false;
    return 0;
}

/* Its end of file: it exits by itself. Only if the one let go before is
 * still not reaped does the next fill wait for that (it is spawned), so at
 * most two servers ever exist. */
static void let_go(struct daemon *d)
{
    disconnect(d);
    d->shim_server.retiring = true;
    d->shim_server.started_ns = 0;
    if (d->shim_server.retired > 0) {
        /* The one let go a whole generation ago is still there
         * (stopped, traced, stuck): it has nothing left to do, and
         * would otherwise be kept until the daemon stops. Our child
         * until reaped: the pid cannot be someone else's. */
        daemon_log("shim server %ld (let go) has not exited since: killed",
                   (long)d->shim_server.retired);
        kill(d->shim_server.retired, SIGKILL);
    }
    if (d->shim_server.retired <= 0) {
        d->shim_server.retired = d->shim_server.pid;
        d->shim_server.pid = 0;
    }
}

int daemon_shim_server_fd(struct daemon *d)
{
    /* Only the real spawner asks the server (the pool's unit test has a
     * fake one and no shim binary). */
    if (d->spawn != wr_shim_spawn || d->shim_server.off || d->stopping)
        return 0;
    if (d->shim_server.pid > 0 && d->shim_server.fd >= 0 &&
        d->shim_server.forks >= WR_SHIM_SERVER_FORKS_MAX) {
        /* Its successor starts now, beside it, and takes this fill:
         * waiting for the reap first left a gap in which every fill was
         * spawned (an exec and a dynamic link each, ~2 of every 32 fills
         * under load). */
        let_go(d);
    }
    if (d->shim_server.pid > 0) { /* running, or let go and not yet reaped (fd -1) */
        if (d->shim_server.fd < 0)
            return 0;
        d->shim_server.forks++;
        daemon_mnt_template_take(d);
        return d->shim_server.fd;
    }
    if (server_off()) {
        d->shim_server.off = true;
        daemon_log("shim server: off ($WARMRUN_SHIM_SERVER): every shim is spawned");
        return 0;
    }
    int64_t now = wr_monotonic_ns();
    if (d->shim_server.started_ns && now - d->shim_server.started_ns < RESTART_AFTER_NS)
        return 0;
    d->shim_server.started_ns = now;
    d->shim_server.restart = false;
    wr_error err = {0};
    if (start(d, &err) < 0) {
        daemon_log("shim server: %s; shims are spawned", err.msg);
        return 0;
    }
    return d->shim_server.fd;
}

void daemon_shim_server_lost(struct daemon *d, const char *why)
{
    if (d->shim_server.pid <= 0 || d->shim_server.fd < 0)
        return;
    /* why says "shim server: ..." (wr_shim_fork_request) */
    daemon_log("%s (pid %ld): killed, to be replaced; this fill's shim spawned", why,
               (long)d->shim_server.pid);
    /* Our child until reaped: the pid cannot be someone else's. The reaper
     * then starts the next one. */
    kill(d->shim_server.pid, SIGKILL);
    disconnect(d);
}

bool daemon_shim_server_reaped(struct daemon *d, pid_t pid, int status)
{
    if (pid > 0 && pid == d->shim_server.retired) {
        /* A let-go one: its end is quiet unless it went wrong. */
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
            daemon_log("shim server %ld (let go) ended with status %d", (long)pid,
                       WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status));
        d->shim_server.retired = 0;
        /* The current one may have been held back for it (none while no
         * pool exists: daemon_shim_server_idle). */
        if (d->shim_server.pid <= 0 && !d->stopping && d->pools)
            daemon_shim_server_fd(d);
        return true;
    }
    if (d->shim_server.pid <= 0 || pid != d->shim_server.pid)
        return false;
    if (WIFSIGNALED(status))
        daemon_log("shim server %ld killed by signal %d", (long)pid, WTERMSIG(status));
    else if (!d->shim_server.retiring || WEXITSTATUS(status) != 0)
        daemon_log("shim server %ld exited with status %d", (long)pid, WEXITSTATUS(status));
    disconnect(d);
    d->shim_server.pid = 0;
    /* Its replacement at once, unless the last one started less than a
     * second ago (then from the loop: daemon_shim_server_tick); while no
     * pool exists, at the next fill. */
    d->shim_server.restart = d->pools != NULL;
    if (d->shim_server.restart)
        daemon_shim_server_fd(d);
    return true;
}

int daemon_shim_server_timeout_ms(const struct daemon *d)
{
    if (!d->shim_server.restart || d->shim_server.pid > 0 || !d->pools)
        return -1;
    int64_t left = d->shim_server.started_ns + RESTART_AFTER_NS - wr_monotonic_ns();
    return left <= 0 ? 0 : (int)(left / 1000000) + 1;
}

void daemon_shim_server_tick(struct daemon *d)
{
    if (d->shim_server.restart && d->shim_server.pid <= 0 && d->pools)
        daemon_shim_server_fd(d);
}

void daemon_shim_server_idle(struct daemon *d)
{
    if (d->shim_server.pid > 0 && d->shim_server.fd >= 0)
        let_go(d);
    d->shim_server.restart = false;
}

void daemon_shim_server_stop(struct daemon *d)
{
    pid_t old = d->shim_server.retired;
    if (old > 0) {
        /* Let go, exiting by itself: waited for, so that none outlives a
         * stop. */
        d->shim_server.retired = 0;
        int status;
        kill(old, SIGKILL);
        while (waitpid(old, &status, 0) < 0 && errno == EINTR)
            ;
    }
    pid_t pid = d->shim_server.pid;
    if (pid <= 0)
        return;
    disconnect(d); /* its end of file: it exits */
    d->shim_server.pid = 0;
    d->shim_server.started_ns = 0;
    int status;
    kill(pid, SIGKILL);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
}
