/* See daemon_netns.h. */
#include "daemon_netns.h"

#include "daemon_pool.h"

#include <stdlib.h>
#include <unistd.h>

bool daemon_netns_recyclable(const struct wr_security_profile *p)
{
    return !p->privileged && p->userns_size == 0 &&
           p->seccomp_mode != WR_SECCOMP_UNCONFINED &&
           (p->caps & ~wr_default_capabilities()) == 0;
}

int daemon_netns_take(struct pool *p)
{
    if (!p->netns_recycle || p->netns.n == 0)
        return -1;
    return p->netns.fds[--p->netns.n];
}

void daemon_netns_put(struct pool *p, int fd)
{
    size_t bound = p && p->size > 0 ? (size_t)p->size : 1;
    if (!p || !p->netns_recycle || p->netns.n >= bound) {
        close(fd);
        return;
    }
    if (p->netns.n == p->netns.cap) {
        size_t cap = p->netns.cap ? 2 * p->netns.cap : 8;
        int *fds = realloc(p->netns.fds, cap * sizeof *fds);
        if (!fds) {
            close(fd);
            return;
        }
        p->netns.fds = fds;
        p->netns.cap = cap;
    }
    p->netns.fds[p->netns.n++] = fd;
}

void daemon_netns_drop_all(struct pool *p)
{
    while (p->netns.n)
        close(p->netns.fds[--p->netns.n]);
    free(p->netns.fds);
    p->netns.fds = NULL;
    p->netns.cap = 0;
}
