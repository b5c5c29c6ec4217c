/* See daemon_netns.h. */
#include "daemon_netns.h"

#include "daemon_pool.h"

#include "lib/net_config.h"

#include <linux/magic.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/statfs.h>
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

int daemon_netns_take(struct pool *p, long *sockets, int *sysfs)
{
    *sysfs = -1;
    if (!daemon_netns_recycles(p)) {
        daemon_netns_drop_all(p); /* its settings changed: none will be used */
        return -1;
    }
    if (p->netns.n == 0)
        return -1;
    p->netns.n--;
    *sockets = p->netns.ns[p->netns.n].sockets;
    *sysfs = p->netns.ns[p->netns.n].sysfs;
    return p->netns.ns[p->netns.n].fd;
}

/* Only a sysfs mount goes to a container's /sys with the namespace (the
 * container checks again, on its clone). */
static int sysfs_or_close(int fd)
{
    struct statfs sfs;
    if (fd >= 0 && (fstatfs(fd, &sfs) < 0 || sfs.f_type != SYSFS_MAGIC)) {
        close(fd);
        return -1;
    }
    return fd;
}

void daemon_netns_put(struct pool *p, int fd, int sysfs, long sockets)
{
    size_t bound = p && p->size > 0 ? (size_t)p->size : 1;
    sysfs = sysfs_or_close(sysfs);
    /* Only ever a network namespace goes to a container's setns (the
     * kernel would refuse another kind there, but later than here). */
    if (!p || !daemon_netns_recycles(p) || p->netns.n >= bound || sockets < 0 ||
        ioctl(fd, NS_GET_NSTYPE) != CLONE_NEWNET) {
        close(fd);
        if (sysfs >= 0)
            close(sysfs);
        return;
    }
    if (p->netns.n == p->netns.cap) {
        size_t cap = p->netns.cap ? 2 * p->netns.cap : 8;
        struct netns_free *ns = realloc(p->netns.ns, cap * sizeof *ns);
        if (!ns) {
            close(fd);
            if (sysfs >= 0)
                close(sysfs);
            return;
        }
        p->netns.ns = ns;
        p->netns.cap = cap;
    }
    p->netns.ns[p->netns.n++] = (struct netns_free){.fd = fd, .sysfs = sysfs, .sockets = sockets};
}

void daemon_netns_drop_all(struct pool *p)
{
    while (p->netns.n) {
        struct netns_free *ns = &p->netns.ns[--p->netns.n];
        close(ns->fd);
        if (ns->sysfs >= 0)
            close(ns->sysfs);
    }
    free(p->netns.ns);
    p->netns.ns = NULL;
    p->netns.cap = 0;
}
