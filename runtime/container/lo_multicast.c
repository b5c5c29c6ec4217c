/* A namespace that a pool recycles has lo set to IGMPv2 and MLDv1 before
 * any workload runs in it, so that a tenant's multicast groups leave
 * nothing behind for the next one (shim/shim_netns.c, "Multicast on lo",
 * says why; its pristine check reads both values back over netlink).
 *
 * Written here, by pid 1 through its own proc instance, rather than by the
 * shim through the host's /proc/sys: sysctl dentries of every network
 * namespace hang under one parent per proc instance, so on the host's each
 * lookup of .../conf/lo compares against every namespace's "lo"
 * (proc_sys_compare: ~12 % of a fill's CPU with 1,000 containers, growing
 * with the pool), while a fresh pid namespace's proc has looked up nothing
 * yet. IPv6 has no netlink setter for force_mld_version, so /proc/sys it
 * is. */
#include "lo_multicast.h"

#include "lib/cleanup.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

static const struct {
    const char *path, *value;
    bool optional; /* absent on a host without IPv6 */
} versions[] = {
    {"/proc/sys/net/ipv4/conf/lo/force_igmp_version", "2\n", false},
    {"/proc/sys/net/ipv6/conf/lo/force_mld_version", "1\n", true},
};

bool wr_lo_multicast_legacy(void)
{
    for (size_t i = 0; i < sizeof versions / sizeof *versions; i++) {
        cleanup_close int fd = open(versions[i].path, O_WRONLY | O_CLOEXEC);
        if (fd < 0 && errno == ENOENT && versions[i].optional)
            continue;
        size_t len = strlen(versions[i].value);
        if (fd < 0 || write(fd, versions[i].value, len) != (ssize_t)len)
            return false;
    }
    return true;
}
