#include "fdpass.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int wr_send_fds(int sock, const void *buf, size_t len, const int *fds, size_t nfds, wr_error *err)
{
    union {
        char buf[CMSG_SPACE(sizeof(int) * WR_MAX_PASSED_FDS)];
        struct cmsghdr align;
    } control;
    struct iovec iov = {.iov_base = (void *)buf, .iov_len = len};
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};

    if (nfds > WR_MAX_PASSED_FDS)
        return wr_error_set(err, EINVAL, "too many descriptors to pass (%zu)", nfds);
    if (nfds > 0) {
        memset(&control, 0, sizeof control);
        msg.msg_control = control.buf;
        msg.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
        struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
        cmsg->cmsg_level = SOL_SOCKET;
        cmsg->cmsg_type = SCM_RIGHTS;
        cmsg->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
        memcpy(CMSG_DATA(cmsg), fds, sizeof(int) * nfds);
    }
    for (;;) {
        ssize_t n = sendmsg(sock, &msg, MSG_NOSIGNAL);
        if (n >= 0)
            return 0;
        if (errno != EINTR)
            return wr_error_set(err, errno, "sendmsg");
    }
}

void wr_close_fds(int *fds, size_t nfds)
{
    for (size_t i = 0; i < nfds; i++) {
        if (fds[i] >= 0)
            close(fds[i]);
        fds[i] = -1;
    }
}

/* Takes every SCM_RIGHTS descriptor out of msg: up to cap into fds, the rest
 * closed so that a hostile peer cannot make us leak descriptors. */
static size_t collect_fds(struct msghdr *msg, int *fds, size_t cap)
{
    size_t got = 0;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(msg); c; c = CMSG_NXTHDR(msg, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
            continue;
        size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < n; i++) {
            int fd;
            memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
            if (got < cap)
                fds[got++] = fd;
            else
                close(fd);
        }
    }
    return got;
}

ssize_t wr_recv_fds(int sock, void *buf, size_t cap, int *fds, size_t *nfds, wr_error *err)
{
    union {
        char buf[CMSG_SPACE(sizeof(int) * WR_MAX_PASSED_FDS)];
        struct cmsghdr align;
    } control;
    struct iovec iov = {.iov_base = buf, .iov_len = cap};
    struct msghdr msg = {
        .msg_iov = &iov,
        .msg_iovlen = 1,
        .msg_control = control.buf,
        .msg_controllen = sizeof control.buf,
    };
    size_t fd_cap = nfds ? *nfds : 0;
    ssize_t n;

    if (nfds)
        *nfds = 0;
    do
        n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return wr_error_set(err, errno, "recvmsg");

    int tmp[WR_MAX_PASSED_FDS];
    size_t got = collect_fds(&msg, fd_cap ? fds : tmp, fd_cap);
    if (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) {
        wr_close_fds(fd_cap ? fds : tmp, got);
        return wr_error_set(err, EMSGSIZE, "message too large or too many descriptors");
    }
    if (nfds)
        *nfds = got;
    return n;
}
