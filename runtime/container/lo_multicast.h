/* lo's multicast versions in a network namespace a pool will recycle
 * (lo_multicast.c). */
#ifndef WARMRUN_LO_MULTICAST_H
#define WARMRUN_LO_MULTICAST_H

#include <stdbool.h>

/* Sets lo of the caller's network namespace to IGMPv2 and MLDv1
 * (net.ipv4.conf.lo.force_igmp_version = 2, net.ipv6.conf.lo.
 * force_mld_version = 1; ip-sysctl.rst) through /proc/sys, which must be
 * the container's own proc instance, still writable: after pivot_root,
 * before wr_mask_kernel_paths. Needs CAP_NET_ADMIN over the namespace.
 * A host without IPv6 has no MLD sysctl: skipped. False if a write
 * failed (a read-only /proc/sys: warmrun itself in a container): the
 * caller goes on, as the shim's pristine check reads both values back and
 * never offers a namespace without them, so only the recycling is lost.
 * Why: shim/shim_netns.c, "Multicast on lo". */
bool wr_lo_multicast_legacy(void);

#endif
