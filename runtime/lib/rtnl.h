/* The rtnetlink requests of warmrun's bridge networks (raw netlink): bridges,
 * veth pairs, addresses, routes (rtnetlink(7), linux/if_link.h, veth(4)).
 * Each request waits for the kernel's ack; errors carry its errno. */
#ifndef WARMRUN_RTNL_H
#define WARMRUN_RTNL_H

#include "error.h"

#include <stdint.h>

struct wr_rtnl {
    int fd; /* the NETLINK_ROUTE socket; -1 when closed */
    unsigned seq;
};

/* A socket in the caller's network namespace (it stays bound to that
 * namespace whatever the caller enters later). */
int wr_rtnl_open(struct wr_rtnl *r, wr_error *err);
void wr_rtnl_close(struct wr_rtnl *r);

/* Creates bridge name (EEXIST when it exists: the caller decides). */
int wr_rtnl_bridge_add(struct wr_rtnl *r, const char *name, wr_error *err);
/* Creates the veth pair host_name (here, enslaved to master_ifindex and
 * up) and peer_name (in the network namespace of peer_netns_fd, down). */
int wr_rtnl_veth_add(struct wr_rtnl *r, const char *host_name, unsigned master_ifindex,
                     const char *peer_name, int peer_netns_fd, wr_error *err);
/* Deletes a link by name (ENODEV: it was not there). */
int wr_rtnl_link_del(struct wr_rtnl *r, const char *name, wr_error *err);
int wr_rtnl_link_up(struct wr_rtnl *r, unsigned ifindex, wr_error *err);
/* Adds addr/prefix (host byte order) to ifindex (EEXIST: it has it). */
int wr_rtnl_addr_add(struct wr_rtnl *r, unsigned ifindex, uint32_t addr, unsigned prefix,
                     wr_error *err);
/* Adds the default route via gateway (host byte order) on ifindex. */
int wr_rtnl_route_default(struct wr_rtnl *r, unsigned ifindex, uint32_t gateway, wr_error *err);

#endif
