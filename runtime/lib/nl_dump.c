/* See nl_dump.h. */
#include "nl_dump.h"

#include <errno.h>
#include <sys/socket.h>
#include <sys/types.h>

#define NL_BUF 8192

int wr_nl_dump(int fd, const void *req, size_t len, int (*each)(const struct nlmsghdr *, void *),
               void *ctx)
{
    ssize_t sent = send(fd, req, len, 0);
    if (sent != (ssize_t)len)
        return sent < 0 ? -errno : -EIO;
    char buf[NL_BUF] __attribute__((aligned(NLMSG_ALIGNTO)));
    int count = 0;
    for (;;) {
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n <= 0)
            return n < 0 ? -errno : -EIO;
        for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)n);
             h = NLMSG_NEXT(h, n)) {
            if (h->nlmsg_type == NLMSG_DONE)
                return count;
            if (h->nlmsg_type == NLMSG_ERROR) {
                const struct nlmsgerr *e = NLMSG_DATA(h);
                return e->error < 0 ? e->error : -EIO;
            }
            int rc = each ? each(h, ctx) : 0;
            if (rc < 0)
                return rc;
            count++;
        }
    }
}
