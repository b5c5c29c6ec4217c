/* TAP test of the network namespace recycling predicate and of a pool's
 * free list (runtime/daemon/daemon_netns.c). The namespaces are this
 * process's own, opened again and again: what is tested is who keeps and
 * who closes them, a namespace with its sysfs mount (/sys opened, for
 * one) included. Needs no privileges. */
#include "tap.h"
#include "daemon/daemon_netns.h"
#include "daemon/daemon_pool.h"
#include "lib/security_profile.h"

#include <fcntl.h>
#include <linux/capability.h>
#include <string.h>
#include <unistd.h>

static bool fd_open(int fd)
{
    return fcntl(fd, F_GETFD) >= 0;
}

static int new_fd(void)
{
    int fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        bail_out("open /proc/self/ns/net");
    return fd;
}

/* Stands for a detached sysfs mount: a descriptor on sysfs (fstatfs). */
static int sysfs_fd(void)
{
    int fd = open("/sys", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        bail_out("open /sys");
    return fd;
}

int main(void)
{
    struct wr_security_profile sec;
    wr_error err;

    wr_security_profile_default(&sec);
    ok(daemon_netns_recyclable(&sec), "Docker's default profile recycles");
    ok((sec.caps >> CAP_NET_RAW) & 1, "  (it has CAP_NET_RAW)");
    sec.caps &= ~(1ULL << CAP_NET_RAW);
    ok(daemon_netns_recyclable(&sec), "fewer capabilities recycle");
    wr_security_profile_default(&sec);
    if (wr_security_option(&sec, "cap-add", "NET_ADMIN", &err) < 0)
        bail_out("cap-add: %s", err.msg);
    ok(!daemon_netns_recyclable(&sec), "--cap-add NET_ADMIN does not");
    wr_security_profile_default(&sec);
    wr_security_option(&sec, "cap-add", "SYS_ADMIN", &err);
    ok(!daemon_netns_recyclable(&sec), "--cap-add SYS_ADMIN does not");
    wr_security_profile_default(&sec);
    wr_security_option(&sec, "privileged", NULL, &err);
    ok(!daemon_netns_recyclable(&sec), "--privileged does not");
    wr_security_profile_default(&sec);
    wr_security_option(&sec, "userns", "auto", &err);
    ok(!daemon_netns_recyclable(&sec), "--userns does not");
    wr_security_profile_default(&sec);
    wr_security_option(&sec, "security-opt", "seccomp=unconfined", &err);
    ok(!daemon_netns_recyclable(&sec), "seccomp=unconfined does not");

    struct pool p;
    memset(&p, 0, sizeof p);
    p.size = 2;
    long sockets = -1;
    int sysfs = -1;
    int a = new_fd(), b = new_fd(), c = new_fd();
    daemon_netns_put(&p, a, -1, 3);
    ok(!fd_open(a), "a pool that does not recycle closes what it is offered");
    p.netns_recycle = true;
    a = new_fd();
    daemon_netns_put(&p, a, -1, 3);
    daemon_netns_put(&p, b, -1, 4);
    daemon_netns_put(&p, c, -1, 5);
    ok(fd_open(a) && fd_open(b) && !fd_open(c), "the list is bounded by the pool's size");
    c = new_fd();
    daemon_netns_put(&p, c, -1, -1);
    ok(!fd_open(c), "a namespace without its fresh socket count is closed");
    int pipe_fds[2];
    if (pipe(pipe_fds) < 0)
        bail_out("pipe");
    close(pipe_fds[1]);
    struct pool q;
    memset(&q, 0, sizeof q);
    q.size = 2;
    q.netns_recycle = true;
    daemon_netns_put(&q, pipe_fds[0], -1, 3);
    ok(!fd_open(pipe_fds[0]) && q.netns.n == 0,
       "a descriptor that is not a network namespace is closed");
    c = open("/proc/self/ns/uts", O_RDONLY | O_CLOEXEC);
    daemon_netns_put(&q, c, -1, 3);
    ok(!fd_open(c) && q.netns.n == 0, "  nor one of another namespace kind");
    daemon_netns_drop_all(&q);
    is_int(daemon_netns_take(&p, &sockets, &sysfs), b, "take: the last one offered");
    is_int(sockets, 4, "  with its socket count");
    close(b);
    c = new_fd();
    daemon_netns_put(NULL, c, -1, 3);
    ok(!fd_open(c), "a namespace of a removed pool is closed");
    daemon_netns_drop_all(&p);
    ok(!fd_open(a) && p.netns.n == 0, "drop_all closes every one");
    is_int(daemon_netns_take(&p, &sockets, &sysfs), -1, "then take finds none");
    p.netns_recycle = false;
    a = new_fd();
    p.netns_recycle = true;
    daemon_netns_put(&p, a, -1, 3);
    p.netns_recycle = false;
    is_int(daemon_netns_take(&p, &sockets, &sysfs), -1, "a pool that stopped recycling gives none");
    ok(!fd_open(a), "  and drops what it held");
    p.netns_recycle = true;

    /* A namespace and its sysfs mount travel and close together. */
    a = new_fd();
    int s1 = sysfs_fd();
    daemon_netns_put(&p, a, s1, 3);
    is_int(daemon_netns_take(&p, &sockets, &sysfs), a, "a namespace offered with its sysfs mount");
    is_int(sysfs, s1, "  is taken with it");
    close(a);
    close(s1);
    a = new_fd();
    b = new_fd();
    s1 = sysfs_fd();
    int s2 = sysfs_fd();
    daemon_netns_put(&p, a, s1, 3);
    daemon_netns_put(&p, b, s2, 3);
    c = new_fd();
    int s3 = sysfs_fd();
    daemon_netns_put(&p, c, s3, 3);
    ok(!fd_open(c) && !fd_open(s3),
       "  a namespace refused (the list is full) closes its mount too");
    daemon_netns_drop_all(&p);
    ok(!fd_open(a) && !fd_open(b) && !fd_open(s1) && !fd_open(s2),
       "  drop_all closes the namespaces and their mounts");
    a = new_fd();
    if (pipe(pipe_fds) < 0)
        bail_out("pipe");
    close(pipe_fds[1]);
    daemon_netns_put(&p, a, pipe_fds[0], 3);
    ok(!fd_open(pipe_fds[0]) && fd_open(a), "  a mount that is no sysfs is closed, alone");
    is_int(daemon_netns_take(&p, &sockets, &sysfs), a, "  and its namespace is kept");
    is_int(sysfs, -1, "  without a mount");
    close(a);
    a = new_fd();
    s1 = sysfs_fd();
    daemon_netns_put(NULL, a, s1, 3);
    ok(!fd_open(a) && !fd_open(s1), "  a removed pool's namespace is closed with its mount");
    daemon_netns_drop_all(&p);

    ok(daemon_netns_recycles(&p), "network none (\"\") recycles");
    snprintf(p.network, sizeof p.network, "none");
    ok(daemon_netns_recycles(&p), "  and \"none\"");
    snprintf(p.network, sizeof p.network, "host");
    ok(!daemon_netns_recycles(&p), "--network host does not");
    snprintf(p.network, sizeof p.network, "bridge");
    ok(!daemon_netns_recycles(&p), "--network bridge does not");
    snprintf(p.network, sizeof p.network, "bridge=web");
    ok(!daemon_netns_recycles(&p), "--network bridge=web does not");
    a = new_fd();
    daemon_netns_put(&p, a, -1, 3);
    ok(!fd_open(a), "  and closes what its containers offer");
    return done_testing();
}
