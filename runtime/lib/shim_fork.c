/* See shim_fork.h. */
#include "shim_fork.h"

#include "fdpass.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>

int wr_shim_fork_request(int sock, char *const argv[], const int *fds, size_t nfds, uint32_t flags,
                         pid_t *pid, bool *server_lost, wr_error *err)
{
    static struct wr_shim_fork_request r;
    size_t len = 0, argc = 0;
    *server_lost = false;
    for (; argv[argc]; argc++) {
        size_t n = strlen(argv[argc]) + 1;
        if (argc >= WR_SHIM_FORK_ARGC_MAX || len + n > sizeof r.args)
            return wr_error_set(err, E2BIG, "shim arguments too long for the shim server");
        memcpy(r.args + len, argv[argc], n);
        len += n;
    }
    r.h = (struct wr_shim_fork_header){
        .magic = WR_SHIM_FORK_MAGIC, .flags = flags, .argc = (uint32_t)argc, .len = (uint32_t)len};
    *server_lost = true;
    if (wr_send_fds(sock, &r, sizeof r.h + len, fds, nfds, err) < 0)
        return wr_error_prefix(err, "shim server");
    struct pollfd p = {.fd = sock, .events = POLLIN};
    int ready;
    while ((ready = poll(&p, 1, WR_SHIM_FORK_REPLY_MS)) < 0 && errno == EINTR)
        ;
    if (ready <= 0)
        return wr_error_set(err, ready < 0 ? errno : ETIMEDOUT, "shim server: no reply");
    struct wr_shim_fork_reply reply;
    size_t none = 0;
    ssize_t n = wr_recv_fds(sock, &reply, sizeof reply, NULL, &none, err);
    if (n < 0)
        return wr_error_prefix(err, "shim server");
    if (n == 0)
        return wr_error_set(err, ECONNRESET, "shim server: gone");
    if ((size_t)n != sizeof reply || (reply.err == 0 && reply.pid <= 0))
        return wr_error_set(err, EPROTO, "shim server: bad reply");
    if (reply.err != 0)
        return wr_error_set(err, reply.err, "shim server: fork");
    *server_lost = false;
    *pid = reply.pid;
    return 0;
}

int wr_shim_fork_check(const struct wr_shim_fork_request *r, size_t n, size_t nfds, wr_error *err)
{
    if (n < sizeof r->h || r->h.magic != WR_SHIM_FORK_MAGIC ||
        (r->h.flags & ~(WR_SHIM_FORK_IDLE | WR_SHIM_FORK_NETNS | WR_SHIM_FORK_SYSFS)) != 0 ||
        n != sizeof r->h + r->h.len || r->h.argc == 0 || r->h.argc > WR_SHIM_FORK_ARGC_MAX)
        return wr_error_set(err, EPROTO, "bad request");
    bool netns = r->h.flags & WR_SHIM_FORK_NETNS, sysfs = r->h.flags & WR_SHIM_FORK_SYSFS;
    if ((sysfs && !netns) || nfds != 3u + netns + sysfs)
        return wr_error_set(err, EPROTO, "request with %zu descriptors", nfds);
    /* argc strings, the last ending exactly at len. */
    size_t strings = 0;
    for (size_t i = 0; i < r->h.len; i++)
        strings += r->args[i] == '\0';
    if (r->h.len == 0 || r->args[r->h.len - 1] != '\0' || strings != r->h.argc)
        return wr_error_set(err, EPROTO, "bad request arguments");
    return 0;
}
