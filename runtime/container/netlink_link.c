/* Brings a network interface up. A new network namespace holds only "lo",
 * and it starts DOWN: without this, even 127.0.0.1 is unreachable inside
 * the container.
 *
 * SIOCGIFFLAGS/SIOCSIFFLAGS on a datagram socket of the container's own
 * namespace (netdevice(7)): the kernel's ioctl path to the same
 * dev_change_flags() that RTM_NEWLINK reaches, without a netlink socket,
 * a message and its ack, and without libmnl, so that the shim links
 * statically (docs/benchmarks.md: the shim's exec and PSS). */

#include "netlink_link.h"

#include "lib/cleanup.h"

#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

int wr_link_up(const char *ifname, wr_error *err)
{
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    if (strlen(ifname) >= sizeof ifr.ifr_name)
        return wr_error_set(err, ENAMETOOLONG, "interface name %s", ifname);
    snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", ifname);
    cleanup_close int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return wr_error_set(err, errno, "socket for %s", ifname);
    if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
        return wr_error_set(err, errno, "flags of %s", ifname);
    if (ifr.ifr_flags & IFF_UP)
        return 0;
    ifr.ifr_flags |= IFF_UP;
    if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
        return wr_error_set(err, errno, "bring %s up", ifname);
    return 0;
}
