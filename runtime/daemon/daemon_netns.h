/* Recycled network namespaces (docs/security.md, "Recycled network
 * namespaces"): each pool that may recycle keeps a bounded free list of
 * network namespaces (nsfs descriptors) that its shims offered back after
 * their container died and the namespace passed the shim's pristine check
 * (shim/shim_netns.c), each with the detached sysfs mount made in it, if
 * any (container/sysfs_mount.h): the pair travels and is closed together,
 * as the mount holds a reference on its namespace. A fill takes one
 * instead of creating one. Nothing here blocks: a namespace arrives as one
 * message with one or two descriptors. A
 * descriptor dies with the daemon (SIGKILL included), and so does the
 * namespace, unless a container uses it. */
#ifndef WARMRUN_DAEMON_NETNS_H
#define WARMRUN_DAEMON_NETNS_H

#include "lib/security_profile.h"

#include <stdbool.h>
#include <stddef.h>

struct pool;

struct netns_list {
    struct netns_free {
        int fd;
        int sysfs;    /* its detached sysfs mount, or -1 */
        long sockets; /* its pristine socket count (WR_MSG_NETNS) */
    } * ns;
    size_t n, cap;
};

/* The profile's half of the predicate, computed when a pool's profile
 * changes (pool.netns_recycle): the workload cannot change the
 * namespace's configuration (no capability beyond Docker's default set:
 * no NET_ADMIN, no SYS_ADMIN; not --privileged, so /proc/sys stays
 * read-only; a seccomp filter) and has no user namespace (the network
 * namespace would be owned by it). */
bool daemon_netns_recyclable(const struct wr_security_profile *p);

/* THE recycling predicate: may p's containers give their network
 * namespace to later containers of p? Its profile allows it
 * (daemon_netns_recyclable) and its network mode is none: host shares the
 * host's namespace, bridge puts a veth with a leased address in it (and
 * any mode added later must answer false here until it is shown safe). */
bool daemon_netns_recycles(const struct pool *p);

/* A pool's next recycled namespace (the caller's to close, with *sysfs:
 * its sysfs mount or -1) and its pristine socket count, or -1. */
int daemon_netns_take(struct pool *p, long *sockets, int *sysfs);
/* A namespace offered back by a container of p (p NULL: its pool is
 * gone) with its sysfs mount (-1: none): kept while p recycles, its list
 * is below the pool's size (at least 1) and fd is a network namespace
 * (NS_GET_NSTYPE), else both closed; a sysfs that is no sysfs mount
 * (fstatfs) is closed alone. Takes both in every case. */
void daemon_netns_put(struct pool *p, int fd, int sysfs, long sockets);
/* Closes every namespace p holds and their sysfs mounts (pool rm, new
 * settings, shutdown). */
void daemon_netns_drop_all(struct pool *p);

#endif
