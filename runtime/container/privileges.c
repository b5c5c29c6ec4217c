/* The capabilities a workload keeps (its security profile's set, Docker's
 * 14 by default). Applied on the fill path to the bounding set, so that
 * they take effect at the workload's execve: until then pid 1 keeps what
 * it needs for activation (sethostname, setuid). CAP_MKNOD is harmless
 * without a device cgroup because every writable mount of the container is
 * nodev: a node can be made but not opened (see devfs.c). */

#include "privileges.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <unistd.h>

int wr_last_capability(void)
{
    static int last = -1;
    if (last >= 0)
        return last;
    char buf[16];
    int fd = open("/proc/sys/kernel/cap_last_cap", O_RDONLY | O_CLOEXEC);
    ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;
    if (fd >= 0)
        close(fd);
    char *end = buf;
    long v = -1;
    if (n > 0) {
        buf[n] = '\0';
        v = strtol(buf, &end, 10);
    }
    last = end > buf && v >= 0 && v < 64 ? (int)v : CAP_LAST_CAP;
    return last;
}

int wr_limit_workload_privileges(uint64_t caps, bool no_new_privs, wr_error *err)
{
    int last = wr_last_capability();
    for (int cap = 0; cap <= last; cap++)
        if (!(cap < 64 && (caps >> cap) & 1) && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 &&
            errno != EINVAL)
            return wr_error_set(err, errno, "drop capability %d from the bounding set", cap);
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0)
        return wr_error_set(err, errno, "clear ambient capabilities");
    /* Root's execve grants bounding | inheritable: the inheritable set must
     * be empty too. */
    cap_t current = cap_get_proc();
    if (!current)
        return wr_error_set(err, errno, "cap_get_proc");
    int rc = 0;
    if (cap_clear_flag(current, CAP_INHERITABLE) < 0 || cap_set_proc(current) < 0)
        rc = wr_error_set(err, errno, "clear inheritable capabilities");
    cap_free(current);
    if (rc < 0)
        return -1;
    /* No setuid binary or file capability may give any of it back. */
    if (no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        return wr_error_set(err, errno, "set no_new_privs");
    return 0;
}

int wr_drop_all_capabilities(wr_error *err)
{
    cap_t none = cap_init();
    if (!none)
        return wr_error_set(err, errno, "cap_init");
    int rc = cap_set_proc(none) < 0 ? wr_error_set(err, errno, "drop capabilities") : 0;
    cap_free(none);
    return rc;
}
