/* See api_client.h. */
#include "api_client.h"

#include "cleanup.h"
#include "fdpass.h"
#include "sealed_fd.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

int wr_api_connect(const char *socket_path, wr_error *err)
{
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    snprintf(addr.sun_path, sizeof addr.sun_path, "%s", socket_path);
    cleanup_close int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return wr_error_set(err, errno, "socket");
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0)
        return wr_error_set(err, errno, "connect to the daemon at %s", socket_path);
    return steal_fd(&fd);
}

/* One message when it fits (the common case), else out of band: a header
 * and the text in a sealed memfd, after the caller's descriptors. */
static int send_request_text(int sock, const char *text, size_t len, const int *fds, size_t nfds,
                             wr_error *err)
{
    if (len <= WR_API_MSG_MAX)
        return wr_send_fds(sock, text, len, fds, nfds, err);
    if (nfds >= WR_MAX_PASSED_FDS)
        return wr_error_set(err, EINVAL, "too many descriptors for a large request");
    cleanup_close int memfd = wr_sealed_fd_create("warmrun-request", text, len, err);
    if (memfd < 0)
        return -1;
    int all[WR_MAX_PASSED_FDS];
    memcpy(all, fds, nfds * sizeof *fds);
    all[nfds] = memfd;
    struct wr_oob_header h = {.magic = WR_OOB_MAGIC, .len = len};
    return wr_send_fds(sock, &h, sizeof h, all, nfds + 1, err);
}

int wr_api_send_request(int sock, const struct wr_request *req, const int *fds, size_t nfds,
                        wr_error *err)
{
    size_t len;
    cleanup_free char *text = wr_request_encode(req, &len, err);
    if (!text)
        return -1;
    if (send_request_text(sock, text, len, fds, nfds, err) == 0)
        return 0;
    /* A daemon that refuses a peer replies and hangs up at once, maybe
     * before we sent: its reason is then waiting to be read. */
    if (err->errnum == EPIPE || err->errnum == ECONNRESET) {
        char buf[1024];
        struct wr_reply r;
        wr_error ignored;
        ssize_t n = recv(sock, buf, sizeof buf, MSG_DONTWAIT);
        if (n > 0 && wr_reply_parse(buf, (size_t)n, &r, &ignored) == 0 && !r.ok) {
            wr_error_set(err, 0, "%s", r.error);
            err->errnum = EACCES; /* a refusal, not a request to fall back on */
        }
        if (n > 0)
            wr_reply_free(&r);
    }
    return -1;
}

int wr_api_read_reply(int sock, struct wr_reply *reply, wr_error *err)
{
    cleanup_free char *buf = malloc(WR_API_MSG_MAX);
    if (!buf)
        return wr_error_set(err, ENOMEM, "reply buffer");
    ssize_t n = wr_recv_fds(sock, buf, WR_API_MSG_MAX, NULL, NULL, err);
    /* A peer that hung up with our request unread makes the first read
     * report ECONNRESET, which clears it; a reply sent before the hang-up
     * (a refusal) is still queued behind it. */
    if (n < 0 && err->errnum == ECONNRESET)
        n = wr_recv_fds(sock, buf, WR_API_MSG_MAX, NULL, NULL, err);
    if (n < 0)
        return -1;
    if (n == 0)
        return wr_error_set(err, ECONNRESET, "the connection closed before a reply came");
    return wr_reply_parse(buf, (size_t)n, reply, err);
}
