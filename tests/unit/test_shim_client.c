/* TAP test of the spawner's side of a shim (runtime/lib/shim_client.c):
 * wr_shim_read, wr_shim_wait_warm, wr_shim_activate, wr_shim_kill,
 * wr_shim_kill_orphan and wr_shim_release over the same socketpairs
 * wr_shim_spawn makes, with the shim's and the container's ends held by
 * this test, which plays both. The "container" is a child of the test that
 * pauses: its pidfd is what WARM carries. Needs no privileges. */
#include "tap.h"
#include "paused_child.h"
#include "lib/activation.h"
#include "lib/fdpass.h"
#include "lib/shim_client.h"
#include "lib/shim_msg.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* The spawner's wr_shim and the test's ends of its two sockets. */
struct pair {
    struct wr_shim s;
    int shim_end;      /* the shim's end of the control socket */
    int container_end; /* the container's end of the activation socket */
};

static void make_pair(struct pair *p)
{
    int ctl[2], act[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, ctl) < 0 ||
        socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, act) < 0)
        bail_out("socketpair: %s", strerror(errno));
    wr_shim_init(&p->s);
    snprintf(p->s.id, sizeof p->s.id, "0123456789ab");
    p->s.ctl_fd = ctl[0];
    p->s.act_fd = act[0];
    p->shim_end = ctl[1];
    p->container_end = act[1];
}

static void close_pair(struct pair *p)
{
    wr_shim_release(&p->s);
    if (p->shim_end >= 0)
        close(p->shim_end);
    if (p->container_end >= 0)
        close(p->container_end);
}

static void shim_says(struct pair *p, uint32_t type, int num, const char *text, int fd)
{
    struct wr_msg m = {.type = type, .num = num};
    wr_error err;
    snprintf(m.text, sizeof m.text, "%s", text);
    if (wr_send_fds(p->shim_end, &m, sizeof m, &fd, fd >= 0 ? 1 : 0, &err) < 0)
        bail_out("send: %s", err.msg);
}

/* The shim's end gets WARM for a new container; returns its pid. */
static pid_t warm(struct pair *p)
{
    pid_t pid = paused_child();
    int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    if (pidfd < 0)
        bail_out("pidfd_open: %s", strerror(errno));
    shim_says(p, WR_MSG_WARM, pid, "", pidfd);
    close(pidfd);
    return pid;
}

static bool killed(pid_t pid)
{
    int st;
    return waitpid(pid, &st, 0) == pid && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL;
}

static bool readable(int fd)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    return poll(&p, 1, 0) == 1;
}

static void test_read(void)
{
    struct pair p;
    struct wr_msg m;
    wr_error err;
    make_pair(&p);
    pid_t pid = warm(&p);
    ok(wr_shim_read(&p.s, &m, &err) == 1 && m.type == WR_MSG_WARM && p.s.child_pid == pid &&
           p.s.pidfd >= 0,
       "read: WARM fills child_pid and the pidfd");
    shim_says(&p, WR_MSG_WARM, pid, "", -1);
    ok(wr_shim_read(&p.s, &m, &err) == -1 && err.errnum == EPROTO,
       "  a WARM without a pidfd: EPROTO");
    int extra = open("/dev/null", O_RDONLY | O_CLOEXEC);
    shim_says(&p, WR_MSG_EXITED, 3, "", extra);
    close(extra);
    ok(wr_shim_read(&p.s, &m, &err) == 1 && m.type == WR_MSG_EXITED && m.num == 3,
       "  another message: 1, and a descriptor it carried is closed");
    char shorty[8] = "short";
    if (send(p.shim_end, shorty, sizeof shorty, 0) < 0)
        bail_out("send: %s", strerror(errno));
    ok(wr_shim_read(&p.s, &m, &err) == -1 && err.errnum == EPROTO, "  a short message: EPROTO");
    close(p.shim_end);
    p.shim_end = -1;
    ok(wr_shim_read(&p.s, &m, &err) == 0, "  the shim hung up: 0");
    close_pair(&p);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
}

static void test_wait_warm(void)
{
    struct pair p;
    wr_error err;
    make_pair(&p);
    pid_t pid = warm(&p);
    ok(wr_shim_wait_warm(&p.s, 1000, &err) == 0 && p.s.child_pid == pid, "wait_warm: WARM -> 0");
    close_pair(&p);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);

    make_pair(&p);
    shim_says(&p, WR_MSG_FAILED, ENOSPC, "mount tmpfs: no space", -1);
    ok(wr_shim_wait_warm(&p.s, 1000, &err) == -1 && err.errnum == ENOSPC &&
           strcmp(err.msg, "mount tmpfs: no space") == 0,
       "  FAILED -> -1 with the shim's errno and text");
    close_pair(&p);

    make_pair(&p);
    close(p.shim_end);
    p.shim_end = -1;
    ok(wr_shim_wait_warm(&p.s, 1000, &err) == -1 && strstr(err.msg, "exited during setup"),
       "  the shim gone: -1, exited during setup");
    close_pair(&p);

    make_pair(&p);
    ok(wr_shim_wait_warm(&p.s, 20, &err) == -1 && err.errnum == ETIMEDOUT,
       "  nothing within the timeout: ETIMEDOUT");
    close_pair(&p);
}

static void test_activate(void)
{
    struct pair p;
    wr_error err;
    int64_t resumed = 0;
    const char msg[] = "activation";
    int stdio[3], client[2];
    for (int i = 0; i < 3; i++)
        stdio[i] = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, client) < 0)
        bail_out("socketpair: %s", strerror(errno));

    make_pair(&p);
    ok(wr_shim_activate(&p.s, msg, sizeof msg, stdio, client[1], NULL, &resumed, &err) == -1 &&
           err.errnum == EINVAL,
       "activate: not warm (no pidfd): EINVAL");
    close_pair(&p);

    make_pair(&p);
    pid_t pid = warm(&p);
    struct wr_msg m;
    wr_shim_read(&p.s, &m, &err);
    char buf[64];
    int fds[4];
    size_t nfds = 4;
    int rc = wr_shim_activate(&p.s, msg, sizeof msg, stdio, client[1], "no pool", &resumed, &err);
    ok(rc == 0 && resumed > 0, "  a warm one: 0, and when it was resumed");
    ssize_t n = wr_recv_fds(p.container_end, buf, sizeof buf, fds, &nfds, &err);
    ok(n == (ssize_t)sizeof msg && memcmp(buf, msg, sizeof msg) == 0 && nfds == 3,
       "  the container got the message and the 3 stdio, in one message");
    for (size_t i = 0; i < nfds; i++)
        close(fds[i]);
    nfds = 4;
    n = wr_recv_fds(p.shim_end, &m, sizeof m, fds, &nfds, &err);
    ok(n == (ssize_t)sizeof m && m.type == WR_MSG_CLIENT && m.num == 1 &&
           strcmp(m.text, "no pool") == 0 && nfds == 1,
       "  then the shim: CLIENT with the connection, cold, and why");
    if (nfds == 1)
        close(fds[0]);
    close_pair(&p);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);

    make_pair(&p);
    pid = warm(&p);
    wr_shim_read(&p.s, &m, &err);
    close(p.container_end); /* the container died while warm */
    p.container_end = -1;
    rc = wr_shim_activate(&p.s, msg, sizeof msg, stdio, client[1], NULL, &resumed, &err);
    ok(rc == -1 && !readable(p.shim_end),
       "  a dead container: -1 (another may be tried), the shim told nothing");
    close_pair(&p);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);

    make_pair(&p);
    pid = warm(&p);
    wr_shim_read(&p.s, &m, &err);
    close(p.shim_end); /* the shim died */
    p.shim_end = -1;
    rc = wr_shim_activate(&p.s, msg, sizeof msg, stdio, client[1], NULL, &resumed, &err);
    ok(rc == WR_ACTIVATE_STARTED_FAILED && killed(pid),
       "  resumed but the shim is gone: STARTED_FAILED, and the container is killed");
    close_pair(&p);

    for (int i = 0; i < 3; i++)
        close(stdio[i]);
    close(client[0]);
    close(client[1]);
}

static void test_kill_release(void)
{
    struct pair p;
    wr_error err;
    struct wr_msg m;
    make_pair(&p);
    ok(wr_shim_kill(&p.s, SIGTERM, &err) == 0 && recv(p.shim_end, &m, sizeof m, 0) == sizeof m &&
           m.type == WR_MSG_KILL && m.num == SIGTERM,
       "kill: KILL with the signal, to the shim");
    ok(!wr_shim_kill_orphan(&p.s, 100), "kill_orphan: never warm (no pidfd): nothing to kill");
    pid_t pid = warm(&p);
    wr_shim_read(&p.s, &m, &err);
    ok(wr_shim_kill_orphan(&p.s, 1000) && killed(pid),
       "  a live container: killed through its pidfd");
    ok(!wr_shim_kill_orphan(&p.s, 100), "  already dead: false");
    wr_shim_release(&p.s);
    ok(p.s.ctl_fd == -1 && p.s.act_fd == -1 && p.s.pidfd == -1 &&
           recv(p.shim_end, &m, sizeof m, MSG_DONTWAIT) == 0,
       "release: every descriptor closed (the shim sees the hang-up)");
    close_pair(&p);
}

int main(void)
{
    test_read();
    test_wait_warm();
    test_activate();
    test_kill_release();
    return done_testing();
}
