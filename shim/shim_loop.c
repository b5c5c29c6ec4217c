/* The shim's life after the container is warm: an event loop over its
 * control socket, the client connection and a signalfd. Once the workload
 * runs, a recoverable error is only logged: the shim must outlive it. */
#include "shim.h"
#include "shim_log.h"

#include "container/signal_reset.h"
#include "lib/fdpass.h"
#include "lib/protocol.h"
#include "lib/shim_msg.h"
#include "lib/signal_fd.h"
#include "lib/clock.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* How long an exited container waits for its client to be attached before
 * the shim gives up on reporting (the activator sends it right after SIGCONT). */
#define ATTACH_GRACE_MS 5000
/* How long the shim waits, after the exit event, for the client to hang up. */
#define CLIENT_GONE_WAIT_MS 1000

static void warn(const struct shim *sh, const char *what, const wr_error *err)
{
    shim_log(sh->opt.id, "%s: %s", what, err ? err->msg : strerror(errno));
}

static void signal_container(struct shim *sh, int sig)
{
    if (sh->exited)
        return;
    /* A warm container has no workload to signal: any signal ends it (it
     * must not be resumed into the pool's hands half-used). */
    if (!sh->activated)
        sig = SIGKILL;
    if (syscall(SYS_pidfd_send_signal, sh->pidfd, sig, NULL, 0) < 0 && errno != ESRCH)
        warn(sh, "signal container", NULL);
}

/* Reads the exec failure the child may have left on the init socket. */
static void collect_exec_error(struct shim *sh)
{
    struct wr_msg m;
    while (recv(sh->init, &m, sizeof m, MSG_DONTWAIT) == (ssize_t)sizeof m) {
        m.text[sizeof m.text - 1] = '\0';
        if (m.type == WR_MSG_EXEC_FAILED) {
            snprintf(sh->exec_error, sizeof sh->exec_error, "%s", m.text);
            sh->exit_code = m.num;
        } else if (m.type == WR_MSG_INIT) {
            sh->pid1_init = true;
        }
    }
    /* pid 1 under --init dies of no signal of its own (it exits with the
     * workload's status, 128 + N for a signal): SIGSYS is the seccomp
     * profile killing it for one of its system calls. Without this the
     * activation read as a workload killed by SIGSYS (159), with no word. */
    if (sh->pid1_init && sh->exit_signal == SIGSYS && !sh->exec_error[0]) {
        snprintf(sh->exec_error, sizeof sh->exec_error,
                 "--init: the seccomp profile killed pid 1, the init (SIGSYS): it must allow "
                 "the system calls pid 1 makes (clone without namespace flags, "
                 "rt_sigtimedwait, kill, wait4, capset, prctl, close_range)");
        sh->exit_signal = 0;
        sh->exit_code = 125;
    }
}

static void reap(struct shim *sh)
{
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG | __WALL)) > 0) {
        if (pid != sh->child)
            continue; /* an orphan handed to us as subreaper */
        sh->exited = true;
        if (WIFEXITED(status)) {
            sh->exit_code = WEXITSTATUS(status);
        } else if (WIFSIGNALED(status)) {
            sh->exit_signal = WTERMSIG(status);
            sh->exit_code = 128 + sh->exit_signal;
        }
        collect_exec_error(sh);
    }
}

static void report_exit(struct shim *sh)
{
    struct wr_msg m = {.type = WR_MSG_EXITED, .num = sh->exit_code};
    if (sh->ctl < 0 && sh->client < 0)
        return; /* nobody to tell, nothing to offer (shim_teardown.c) */
    shim_resources_on_exit(sh);
    if (sh->res.oom) /* for the daemon's events and metrics */
        snprintf(m.text, sizeof m.text, "oom");
    if (sh->activated) {
        m.value = sh->stamp->exec_ns;
        m.value2 = sh->stamp->woke_ns;
    }
    if (sh->client >= 0) {
        struct wr_reply r = {.ok = true, .kind = WR_REPLY_EXIT};
        size_t len;
        snprintf(r.exit.id, sizeof r.exit.id, "%s", sh->opt.id);
        r.exit.exit_code = sh->exit_code;
        r.exit.signal = sh->exit_signal;
        r.exit.exec_ns = m.value;
        r.exit.oom = sh->res.oom;
        r.exit.cold = sh->cold;
        snprintf(r.exit.reason, sizeof r.exit.reason, "%s", sh->cold_reason);
        snprintf(r.exit.error, sizeof r.exit.error, "%s", sh->exec_error);
        char *text = wr_reply_encode(&r, &len);
        if (text && send(sh->client, text, len, MSG_NOSIGNAL) < 0)
            warn(sh, "report exit to client", NULL);
        free(text);
    }
    /* After the client's event (off its path), before EXITED (after which
     * the spawner lets go of the control socket). */
    shim_netns_offer(sh);
    if (sh->ctl >= 0)
        (void)send(sh->ctl, &m, sizeof m, MSG_NOSIGNAL);
}

/* Whoever spawned us went away. A container still stopped was never handed
 * out: nobody can use it any more. One already running lives on. */
static void spawner_gone(struct shim *sh, int epfd)
{
    epoll_ctl(epfd, EPOLL_CTL_DEL, sh->ctl, NULL);
    close(sh->ctl);
    sh->ctl = -1;
    if (!sh->activated) {
        siginfo_t info = {0};
        /* A continued child counts as activated even if the attach never came. */
        if (waitid(P_PIDFD, (id_t)sh->pidfd, &info, WCONTINUED | WNOHANG | WNOWAIT) == 0 &&
            info.si_pid != 0 && info.si_code == CLD_CONTINUED) {
            sh->activated = true;
        } else {
            shim_drop_held(sh);
            signal_container(sh, SIGKILL);
        }
    }
}

static void on_control(struct shim *sh, int epfd)
{
    struct wr_msg m;
    wr_error err;
    int fd = -1;
    size_t nfds = 1;
    ssize_t n = wr_recv_fds(sh->ctl, &m, sizeof m, &fd, &nfds, &err);
    if (n == 0 || (n < 0 && err.errnum != EAGAIN)) {
        spawner_gone(sh, epfd);
        return;
    }
    if (n != (ssize_t)sizeof m) {
        wr_close_fds(&fd, nfds);
        return;
    }
    if (m.type == WR_MSG_CLIENT && nfds == 1 && sh->client < 0) {
        struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP, .data.fd = fd};
        sh->client = fd;
        sh->activated = true;
        m.text[sizeof m.text - 1] = '\0';
        sh->cold = m.num == 1;
        snprintf(sh->cold_reason, sizeof sh->cold_reason, "%s", sh->cold ? m.text : "");
        if (!sh->exited && epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
            warn(sh, "watch client", NULL);
        return;
    }
    wr_close_fds(&fd, nfds);
    if (m.type == WR_MSG_KILL && m.num > 0 && m.num < NSIG)
        signal_container(sh, m.num);
}

/* The client may only ask for signals; its disconnect ends the container,
 * so an abandoned activation leaves nothing running. */
static void on_client(struct shim *sh, int epfd, uint32_t events)
{
    char buf[1024];
    struct wr_request req;
    wr_error err;
    ssize_t n = recv(sh->client, buf, sizeof buf, MSG_DONTWAIT);
    if (n > 0) {
        if (wr_request_parse(buf, (size_t)n, &req, &err) == 0 && req.op == WR_OP_SIGNAL)
            signal_container(sh, req.signal);
        wr_request_free(&req);
        return;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR) && !(events & (EPOLLRDHUP | EPOLLHUP)))
        return;
    epoll_ctl(epfd, EPOLL_CTL_DEL, sh->client, NULL);
    /* A function environment left frozen by a daemon that died could not
     * die of the SIGKILL on cgroup v1. */
    shim_freezer_thaw(sh);
    signal_container(sh, SIGKILL);
}

/* Tearing the namespaces down (which the caller does next) unmounts, and
 * unmounting waits for an RCU grace period by interrupting every CPU: done
 * while the client is still reading the exit event and exiting, it lands
 * on its critical path. The client closes the connection as soon as it has
 * the event, so waiting for that costs the shim little. */
static void wait_client_gone(struct shim *sh)
{
    if (sh->client < 0)
        return;
    struct pollfd p = {.fd = sh->client, .events = POLLRDHUP};
    int r;
    do
        r = poll(&p, 1, CLIENT_GONE_WAIT_MS);
    while (r < 0 && errno == EINTR);
}

static int setup_loop(struct shim *sh, int *epfd)
{
    static const int handled[] = {SIGCHLD, SIGTERM, SIGINT, SIGHUP};
    /* SA_NOCLDSTOP: the SIGCONT of an activation must not wake us. */
    struct sigaction sa = {.sa_handler = SIG_DFL, .sa_flags = SA_NOCLDSTOP};
    sigaction(SIGCHLD, &sa, NULL);
    wr_signal_noted(SIGCHLD);
    sh->sigfd = wr_signalfd_open(handled, sizeof handled / sizeof handled[0]);
    *epfd = epoll_create1(EPOLL_CLOEXEC);
    if (sh->sigfd < 0 || *epfd < 0)
        return -1;
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = sh->sigfd};
    if (epoll_ctl(*epfd, EPOLL_CTL_ADD, sh->sigfd, &ev) < 0)
        return -1;
    ev.data.fd = sh->ctl;
    return epoll_ctl(*epfd, EPOLL_CTL_ADD, sh->ctl, &ev);
}

static void on_signal(struct shim *sh)
{
    struct signalfd_siginfo si;
    while (read(sh->sigfd, &si, sizeof si) == (ssize_t)sizeof si) {
        if (si.ssi_signo == SIGCHLD)
            reap(sh);
        else
            signal_container(sh, SIGKILL);
    }
}

int shim_run(struct shim *sh)
{
    int epfd;
    if (setup_loop(sh, &epfd) < 0) {
        /* Without an event loop the container cannot be served: end it,
         * wait for it plainly, and report. */
        warn(sh, "event loop setup", NULL);
        signal_container(sh, SIGKILL);
        while (!sh->exited) {
            reap(sh);
            if (!sh->exited)
                usleep(1000);
        }
        report_exit(sh);
        return 1;
    }
    reap(sh); /* a SIGCHLD may have come before the signalfd existed */
    int64_t give_up_ns = 0;
    for (;;) {
        /* Done once the exit can be reported: to the client if there is
         * one, or when none can come (nobody left to attach one, the grace
         * time is over, or the container died warm, before any activation
         * reached it). */
        if (sh->exited && !give_up_ns)
            give_up_ns = wr_monotonic_ns() + (int64_t)ATTACH_GRACE_MS * 1000000;
        if (sh->exited && (sh->client >= 0 || sh->ctl < 0 || wr_monotonic_ns() >= give_up_ns ||
                           (!sh->activated && !sh->stamp->woke_ns)))
            break;
        struct epoll_event events[4];
        int n = epoll_wait(epfd, events, 4, sh->exited ? 100 : -1);
        if (n < 0 && errno != EINTR) {
            warn(sh, "epoll_wait", NULL);
            signal_container(sh, SIGKILL);
            sleep(1);
        }
        for (int i = 0; i < n; i++) {
            int fd = events[i].data.fd;
            if (fd == sh->sigfd)
                on_signal(sh);
            else if (fd == sh->ctl)
                on_control(sh, epfd);
            else if (fd == sh->client)
                on_client(sh, epfd, events[i].events);
        }
    }
    report_exit(sh);
    wait_client_gone(sh);
    shim_freezer_remove(sh); /* if it thawed it: no daemon is left to */
    return 0;
}
