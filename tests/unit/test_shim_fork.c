/* TAP test of runtime/lib/shim_fork.c, the shim server's wire protocol, over
 * socketpair(AF_UNIX, SOCK_SEQPACKET) with this process as the server: a
 * request arrives whole (argv, flags, 3 or 4 descriptors) and passes the
 * server's check; malformed ones (bad magic, unknown flags, argc and text
 * that disagree, a missing NUL, the wrong descriptor count) are refused;
 * an argv longer than the server's area is refused before anything is sent;
 * a reply's error, a closed server and a bad reply say the server is lost.
 * Needs no privileges. */
#include "lib/shim_fork.h"
#include "lib/fdpass.h"
#include "tap.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void make_pair(int sv[2])
{
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
        bail_out("socketpair: %s", strerror(errno));
}

/* Queues the server's reply first: the request then finds it at once. */
static void queue_reply(int sock, int32_t errnum, int32_t pid)
{
    struct wr_shim_fork_reply r = {.err = errnum, .pid = pid};
    if (send(sock, &r, sizeof r, 0) != sizeof r)
        bail_out("send: %s", strerror(errno));
}

static struct wr_shim_fork_request req;

int main(void)
{
    int sv[2], fds[5];
    char *argv[] = {"warmrun-shim", "--id", "0123456789ab", "--image", "busybox:latest", NULL};
    wr_error err = {0};
    pid_t pid = 0;
    bool lost = true;

    make_pair(sv);
    for (int i = 0; i < 5; i++)
        fds[i] = sv[0];
    queue_reply(sv[1], 0, 4242);
    int rc = wr_shim_fork_request(sv[0], argv, fds, 4, WR_SHIM_FORK_IDLE | WR_SHIM_FORK_NETNS, &pid,
                                  &lost, &err);
    ok(rc == 0 && pid == 4242 && !lost, "a request gets the shim's pid (%s)", err.msg);
    int got[WR_MAX_PASSED_FDS];
    size_t nfds = WR_MAX_PASSED_FDS;
    ssize_t n = wr_recv_fds(sv[1], &req, sizeof req, got, &nfds, &err);
    ok(n > 0 && wr_shim_fork_check(&req, (size_t)n, nfds, &err) == 0,
       "the server receives it whole and it passes the check (%s)", err.msg);
    is_int(nfds, 4, "  with its 4 descriptors");
    is_int(req.h.argc, 5, "  argc");
    is_int(req.h.flags, WR_SHIM_FORK_IDLE | WR_SHIM_FORK_NETNS, "  flags");
    is_str(req.args + strlen(req.args) + 1, "--id", "  argv[1]");
    wr_close_fds(got, nfds);

    /* The check refuses what the requester never sends. */
    struct wr_shim_fork_request bad = req;
    size_t len = sizeof req.h + req.h.len;
    ok(wr_shim_fork_check(&bad, len, 3, &err) < 0, "3 descriptors with the NETNS flag: refused");
    bad.h.magic ^= 1;
    ok(wr_shim_fork_check(&bad, len, 4, &err) < 0, "a bad magic: refused");
    bad = req;
    bad.h.flags |= 8;
    ok(wr_shim_fork_check(&bad, len, 4, &err) < 0, "an unknown flag: refused");
    bad = req;
    bad.h.argc = 6;
    ok(wr_shim_fork_check(&bad, len, 4, &err) < 0, "argc above the strings sent: refused");
    bad = req;
    bad.args[bad.h.len - 1] = 'x';
    ok(wr_shim_fork_check(&bad, len, 4, &err) < 0, "a last string without its NUL: refused");
    bad = req;
    ok(wr_shim_fork_check(&bad, len - 1, 4, &err) < 0, "a length that disagrees: refused");

    /* A namespace with its sysfs mount: five descriptors. */
    bad = req;
    bad.h.flags |= WR_SHIM_FORK_SYSFS;
    ok(wr_shim_fork_check(&bad, len, 5, &err) == 0, "NETNS and SYSFS with 5 descriptors (%s)",
       err.msg);
    ok(wr_shim_fork_check(&bad, len, 4, &err) < 0, "  with 4: refused");
    bad.h.flags &= ~WR_SHIM_FORK_NETNS;
    ok(wr_shim_fork_check(&bad, len, 4, &err) < 0, "SYSFS without NETNS: refused");
    queue_reply(sv[1], 0, 4243);
    rc = wr_shim_fork_request(sv[0], argv, fds, 5, WR_SHIM_FORK_NETNS | WR_SHIM_FORK_SYSFS, &pid,
                              &lost, &err);
    nfds = WR_MAX_PASSED_FDS;
    n = wr_recv_fds(sv[1], &req, sizeof req, got, &nfds, &err);
    ok(rc == 0 && pid == 4243 && n > 0 && nfds == 5 &&
           wr_shim_fork_check(&req, (size_t)n, nfds, &err) == 0,
       "  such a request travels whole (%s)", err.msg);
    wr_close_fds(got, nfds);

    /* Too long for the server's area: refused before sending, not lost. */
    static char huge[WR_SHIM_FORK_ARGS_MAX];
    memset(huge, 'a', sizeof huge - 1);
    char *long_argv[] = {"warmrun-shim", huge, NULL};
    rc = wr_shim_fork_request(sv[0], long_argv, fds, 3, 0, &pid, &lost, &err);
    ok(rc < 0 && err.errnum == E2BIG && !lost, "an argv beyond the area: E2BIG, server kept");
    char buf[8];
    ok(recv(sv[1], buf, sizeof buf, MSG_DONTWAIT) < 0 && errno == EAGAIN, "  nothing was sent");

    /* The server's fork failed: its errno, and the server is replaced. */
    queue_reply(sv[1], EAGAIN, 0);
    rc = wr_shim_fork_request(sv[0], argv, fds, 3, 0, &pid, &lost, &err);
    ok(rc < 0 && err.errnum == EAGAIN && lost, "a failed fork: its errno, server lost");
    nfds = WR_MAX_PASSED_FDS;
    wr_recv_fds(sv[1], &req, sizeof req, got, &nfds, &err);
    wr_close_fds(got, nfds);

    /* A reply without a pid. */
    queue_reply(sv[1], 0, 0);
    rc = wr_shim_fork_request(sv[0], argv, fds, 3, 0, &pid, &lost, &err);
    ok(rc < 0 && err.errnum == EPROTO && lost, "a reply without a pid: EPROTO, server lost");
    nfds = WR_MAX_PASSED_FDS;
    wr_recv_fds(sv[1], &req, sizeof req, got, &nfds, &err);
    wr_close_fds(got, nfds);

    /* The server gone. */
    close(sv[1]);
    rc = wr_shim_fork_request(sv[0], argv, fds, 3, 0, &pid, &lost, &err);
    ok(rc < 0 && lost, "a closed server: an error, server lost (%s)", err.msg);
    close(sv[0]);
    return done_testing();
}
