/* Links of the container's network namespace (netlink_link.c). */
#ifndef WARMRUN_NETLINK_LINK_H
#define WARMRUN_NETLINK_LINK_H

#include "lib/error.h"

int wr_link_up(const char *ifname, wr_error *err);

#endif
