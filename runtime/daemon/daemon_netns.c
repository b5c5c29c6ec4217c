/* See daemon_netns.h. */
#include "daemon_netns.h"

#include "daemon_pool.h"

#include "lib/net_config.h"

#include <linux/nsfs.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <unistd.h>

bool daemon_netns_recyclable(const struct wr_security_profile *p)
{
    return !p->privileged && p->userns_size == 0 && p->seccomp_mode != WR_SECCOMP_UNCONFINED &&
           (p->caps & ~wr_default_capabilities()) == 0;
}

bool daemon_netns_recycles(const struct pool *p)
{
    struct wr_net_mode mode;
    wr_error err;
    return p->netns_recycle && wr_net_mode_parse(p->network, &mode, &err) == 0 &&
           mode.kind == WR_NET_NONE;
}

int daemon_netns_take(struct pool *p, long *sockets)
{
    if (!daemon_netns_recycles(p)) {
        daemon_netns_drop_all(p); /* its settings changed: none will be used */
        return -1;
    }
    if (p->netns.n == 0)
        return -1;
    p->netns.n--;
    *sockets = p->netns.ns[p->netns.n].sockets;
    return p->netns.ns[p->netns.n].fd;
}

void daemon_netns_put(struct pool *p, int fd, long sockets)
{
    size_t bound = p && p->size > 0 ? (size_t)p->size : 1;
    /* Only ever a network namespace goes to a container's setns (the
     * kernel would refuse another kind there, but later than here). */
    if (!p || !daemon_netns_recycles(p) || p->netns.n >= bound || sockets < 0 ||
        ioctl(fd, NS_GET_NSTYPE) != CLONE_NEWNET) {
        close(fd);
        return;
    }
    if (p->netns.n == p->netns.cap) {
        size_t cap = p->netns.cap ? 2 * p->netns.cap : 8;
        struct netns_free *ns = realloc(p->netns.ns, cap * sizeof *ns);
        if (!ns) {
            close(fd);
            return;
        }
        p->netns.ns = ns;
        p->netns.cap = cap;
    }
    p->netns.ns[p->netns.n++] = (struct netns_free){.fd = fd, .sockets = sockets};
}

void daemon_netns_drop_all(struct pool *p)
{
    while (p->netns.n)
        close(p->netns.ns[--p->netns.n].fd);
    free(p->netns.ns);
    p->netns.ns = NULL;
    p->netns.cap = 0;
}
