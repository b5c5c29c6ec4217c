/* TAP test of runtime/lib/fdpass.c over socketpair(AF_UNIX, SOCK_SEQPACKET):
 * messages with 0..WR_MAX_PASSED_FDS descriptors, EOF, oversized messages and
 * surplus descriptors (which must be closed, not leaked). Needs no
 * privileges. */
#include "lib/fdpass.h"
#include "tap.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Descriptors open in this process right now. */
static int count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        bail_out("opendir /proc/self/fd: %s", strerror(errno));
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)))
        if (de->d_name[0] != '.')
            n++;
    closedir(d);
    return n - 1; /* the directory's own descriptor */
}

static void make_pair(int sv[2])
{
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
        bail_out("socketpair: %s", strerror(errno));
}

static void make_pipe(int p[2])
{
    if (pipe2(p, O_CLOEXEC) < 0)
        bail_out("pipe2: %s", strerror(errno));
}

static void close_pair(int sv[2])
{
    close(sv[0]);
    close(sv[1]);
}

/* A received descriptor is a new number for the same pipe: what is written
 * to it comes out of the original read end. */
static bool same_pipe(int received_wr, int original_rd, char tag)
{
    char c = 0;
    return write(received_wr, &tag, 1) == 1 && read(original_rd, &c, 1) == 1 && c == tag;
}

static bool is_cloexec(int fd)
{
    int flags = fcntl(fd, F_GETFD);
    return flags >= 0 && (flags & FD_CLOEXEC);
}

/* Sends n pipe write ends and checks what arrives. */
static void test_n_fds(size_t n)
{
    int sv[2], pipes[WR_MAX_PASSED_FDS][2], send_fds[WR_MAX_PASSED_FDS];
    int got[WR_MAX_PASSED_FDS] = {-1, -1, -1, -1, -1};
    char text[64], in[64] = {0};
    wr_error err = {0};

    make_pair(sv);
    for (size_t i = 0; i < n; i++) {
        make_pipe(pipes[i]);
        send_fds[i] = pipes[i][1];
    }
    snprintf(text, sizeof text, "message with %zu fds", n);
    int r = wr_send_fds(sv[0], text, strlen(text), send_fds, n, &err);
    is_int(r, 0, "send with %zu fds (%s)", n, err.msg);

    /* The sender may close its copies at once: the message holds its own. */
    for (size_t i = 0; i < n; i++)
        close(pipes[i][1]);

    size_t nfds = WR_MAX_PASSED_FDS;
    ssize_t len = wr_recv_fds(sv[1], in, sizeof in, got, &nfds, &err);
    is_int(len, (long long)strlen(text), "  receive returns the length (%s)", err.msg);
    ok(len > 0 && memcmp(in, text, (size_t)len) == 0, "  the bytes arrive");
    is_int(nfds, n, "  %zu descriptors arrive", n);
    bool usable = nfds == n, cloexec = nfds == n;
    for (size_t i = 0; i < nfds && i < n; i++) {
        usable = usable && same_pipe(got[i], pipes[i][0], (char)('a' + i));
        cloexec = cloexec && is_cloexec(got[i]);
    }
    if (n > 0) {
        ok(usable, "  the descriptors are usable, in order");
        ok(cloexec, "  the descriptors are close-on-exec");
    }
    wr_close_fds(got, nfds);
    ok(nfds == 0 || got[0] == -1, "  wr_close_fds resets the slots to -1");
    for (size_t i = 0; i < n; i++)
        close(pipes[i][0]);
    close_pair(sv);
}

static void test_eof(void)
{
    int sv[2], fds[2];
    char in[16];
    wr_error err = {0};
    size_t nfds = 2;

    make_pair(sv);
    close(sv[0]);
    ssize_t len = wr_recv_fds(sv[1], in, sizeof in, fds, &nfds, &err);
    is_int(len, 0, "a closed peer gives 0 (%s)", err.msg);
    is_int(nfds, 0, "  and no descriptors");
    close(sv[1]);

    /* A message already queued is still delivered before EOF. */
    make_pair(sv);
    wr_send_fds(sv[0], "last", 4, NULL, 0, &err);
    close(sv[0]);
    nfds = 2;
    ok(wr_recv_fds(sv[1], in, sizeof in, fds, &nfds, &err) == 4 &&
           wr_recv_fds(sv[1], in, sizeof in, fds, &nfds, &err) == 0,
       "a queued message comes before EOF");
    close(sv[1]);

    /* A non-blocking socket with nothing queued gives EAGAIN. */
    make_pair(sv);
    fcntl(sv[1], F_SETFL, O_NONBLOCK);
    nfds = 2;
    memset(&err, 0, sizeof err);
    ok(wr_recv_fds(sv[1], in, sizeof in, fds, &nfds, &err) == -1 && err.errnum == EAGAIN,
       "nothing to read on a non-blocking socket gives -1/EAGAIN (%s)", err.msg);
    close_pair(sv);
}

static void test_too_large(void)
{
    int sv[2], p[2], q[2], got[WR_MAX_PASSED_FDS] = {-1, -1, -1, -1, -1};
    char big[100], in[10];
    wr_error err = {0};

    memset(big, 'x', sizeof big);
    make_pair(sv);
    make_pipe(p);
    make_pipe(q);
    int send_fds[2] = {p[1], q[1]};
    ok(wr_send_fds(sv[0], big, sizeof big, send_fds, 2, &err) == 0,
       "send 100 bytes with 2 fds (%s)", err.msg);
    close(p[1]);
    close(q[1]);
    int before = count_fds();
    size_t nfds = WR_MAX_PASSED_FDS;
    memset(&err, 0, sizeof err);
    ssize_t len = wr_recv_fds(sv[1], in, sizeof in, got, &nfds, &err);
    ok(len == -1 && err.errnum == EMSGSIZE,
       "a message larger than the buffer gives -1/EMSGSIZE (%s)", err.msg);
    is_int(nfds, 0, "  and reports no descriptors");
    is_int(count_fds(), before, "  its descriptors are closed (no leak)");
    /* With every copy of the write ends closed, the pipes see EOF. */
    char c;
    ok(read(p[0], &c, 1) == 0 && read(q[0], &c, 1) == 0, "  the passed pipe ends are really gone");
    close(p[0]);
    close(q[0]);

    /* The socket stays usable: the next message arrives normally. */
    wr_send_fds(sv[0], "ok", 2, NULL, 0, &err);
    nfds = WR_MAX_PASSED_FDS;
    ok(wr_recv_fds(sv[1], in, sizeof in, got, &nfds, &err) == 2 && nfds == 0,
       "the next message is received normally");
    close_pair(sv);
}

static void test_surplus(void)
{
    int sv[2], p[WR_MAX_PASSED_FDS][2], send_fds[WR_MAX_PASSED_FDS];
    int got[WR_MAX_PASSED_FDS] = {-1, -1, -1, -1, -1};
    char in[16];
    wr_error err = {0};

    make_pair(sv);
    for (int i = 0; i < WR_MAX_PASSED_FDS; i++) {
        make_pipe(p[i]);
        send_fds[i] = p[i][1];
    }
    ok(wr_send_fds(sv[0], "four", 4, send_fds, WR_MAX_PASSED_FDS, &err) == 0,
       "send WR_MAX_PASSED_FDS (%d) fds (%s)", WR_MAX_PASSED_FDS, err.msg);
    for (int i = 0; i < WR_MAX_PASSED_FDS; i++)
        close(p[i][1]);
    int before = count_fds();
    size_t nfds = 1;
    ssize_t len = wr_recv_fds(sv[1], in, sizeof in, got, &nfds, &err);
    ok(len == 4 && nfds == 1, "a receiver with room for 1 gets the message and 1 fd (%s)", err.msg);
    is_int(count_fds(), before + 1, "  the 3 surplus descriptors are closed");
    ok(nfds == 1 && same_pipe(got[0], p[0][0], 'z'), "  the kept one is the first sent");
    ok(got[1] == -1, "  nothing is written past the capacity");
    wr_close_fds(got, nfds);

    /* A receiver that wants no descriptors at all (nfds NULL). */
    for (int i = 0; i < WR_MAX_PASSED_FDS; i++)
        close(p[i][0]);
    int q[2];
    make_pipe(q);
    wr_send_fds(sv[0], "one", 3, &q[1], 1, &err);
    close(q[1]);
    before = count_fds();
    len = wr_recv_fds(sv[1], in, sizeof in, NULL, NULL, &err);
    ok(len == 3 && count_fds() == before, "nfds NULL: the message arrives, its fd is closed");
    char c;
    ok(read(q[0], &c, 1) == 0, "  the pipe sees EOF");
    close(q[0]);
    close_pair(sv);
}

/* A peer not using wr_send_fds can attach more descriptors than the
 * receiver's control buffer holds: the kernel truncates (MSG_CTRUNC) and
 * whatever did arrive must be closed. */
static void test_hostile_peer(void)
{
    enum { N = 3 * WR_MAX_PASSED_FDS };
    int sv[2], p[2], fds[N], got[WR_MAX_PASSED_FDS];
    union {
        char buf[CMSG_SPACE(sizeof(int) * N)];
        struct cmsghdr align;
    } control;
    char in[16];
    wr_error err = {0};

    make_pair(sv);
    make_pipe(p);
    for (int i = 0; i < N; i++)
        fds[i] = p[1];
    struct iovec iov = {.iov_base = "many", .iov_len = 4};
    struct msghdr msg = {.msg_iov = &iov,
                         .msg_iovlen = 1,
                         .msg_control = control.buf,
                         .msg_controllen = sizeof control.buf};
    memset(&control, 0, sizeof control);
    struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(sizeof fds);
    memcpy(CMSG_DATA(cmsg), fds, sizeof fds);
    if (sendmsg(sv[0], &msg, 0) != 4)
        bail_out("sendmsg: %s", strerror(errno));
    close(p[1]);

    int before = count_fds();
    size_t nfds = WR_MAX_PASSED_FDS;
    memset(&err, 0, sizeof err);
    ssize_t len = wr_recv_fds(sv[1], in, sizeof in, got, &nfds, &err);
    ok(len == -1 && err.errnum == EMSGSIZE && nfds == 0,
       "%d descriptors from a raw sendmsg give -1/EMSGSIZE (%s)", N, err.msg);
    is_int(count_fds(), before, "  none of them leaks");
    char c;
    ok(read(p[0], &c, 1) == 0, "  the pipe sees EOF");
    close(p[0]);
    close_pair(sv);
}

static void test_send_errors(void)
{
    int sv[2], fds[WR_MAX_PASSED_FDS + 1];
    wr_error err = {0};

    make_pair(sv);
    for (int i = 0; i <= WR_MAX_PASSED_FDS; i++)
        fds[i] = sv[0];
    ok(wr_send_fds(sv[0], "x", 1, fds, WR_MAX_PASSED_FDS + 1, &err) == -1 && err.errnum == EINVAL,
       "WR_MAX_PASSED_FDS + 1 descriptors are refused (%s)", err.msg);
    fcntl(sv[1], F_SETFL, O_NONBLOCK);
    char in[4];
    size_t nfds = 0;
    ok(wr_recv_fds(sv[1], in, sizeof in, NULL, &nfds, &err) == -1 && err.errnum == EAGAIN,
       "  and nothing was sent");

    memset(&err, 0, sizeof err);
    int bad[1] = {-1};
    ok(wr_send_fds(sv[0], "x", 1, bad, 1, &err) == -1 && err.errnum == EBADF,
       "an invalid descriptor is a send error (%s)", err.msg);

    close(sv[1]);
    memset(&err, 0, sizeof err);
    ok(wr_send_fds(sv[0], "x", 1, NULL, 0, &err) == -1 && err.errnum == EPIPE,
       "sending to a closed peer gives EPIPE, not SIGPIPE (%s)", err.msg);
    close(sv[0]);
}

int main(void)
{
    int start = count_fds();
    for (size_t n = 0; n <= 3; n++)
        test_n_fds(n);
    test_n_fds(WR_MAX_PASSED_FDS);
    test_eof();
    test_too_large();
    test_surplus();
    test_hostile_peer();
    test_send_errors();
    is_int(count_fds(), start, "no descriptor leaked over the whole run");
    return done_testing();
}
