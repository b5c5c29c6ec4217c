/* TAP test of the container's /sys (runtime/container/sysfs_mount.c), in a
 * mount and network namespace of its own: a given detached sysfs mount is
 * cloned (same superblock) and closed, and its clone is read-only, nosuid,
 * nodev and noexec even when the mount it came from was not (never a
 * weaker /sys); with sysfs_keep a new detached mount is made and kept for
 * the shim; a descriptor that is no sysfs mount, or none, falls back to
 * mount(2) with the same flags. Needs root. */
#include "container/sysfs_mount.h"
#include "tap.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <unistd.h>

#define SAFE (ST_RDONLY | ST_NOSUID | ST_NODEV | ST_NOEXEC)

static char dir[] = "/tmp/wr-test-sysfs-XXXXXX";

/* A new directory under dir, opened O_PATH: a mount target. */
static int target(const char *name)
{
    char path[128];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (mkdir(path, 0755) < 0)
        bail_out("mkdir %s: %s", path, strerror(errno));
    int fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        bail_out("open %s: %s", path, strerror(errno));
    return fd;
}

/* What is mounted on name now: a sysfs with the four flags; its st_dev. */
static bool safe_sysfs(const char *name, dev_t *dev)
{
    char path[128];
    struct statfs sfs;
    struct statvfs svfs;
    struct stat st;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (statfs(path, &sfs) < 0 || statvfs(path, &svfs) < 0 || stat(path, &st) < 0)
        return false;
    *dev = st.st_dev;
    return sfs.f_type == SYSFS_MAGIC && (svfs.f_flag & SAFE) == SAFE;
}

/* A detached sysfs mount with no flag at all (read-write, suid, dev, exec). */
static int weak_detached(void)
{
    int ctx = fsopen("sysfs", FSOPEN_CLOEXEC);
    if (ctx < 0 || fsconfig(ctx, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
        bail_out("fsopen sysfs: %s", strerror(errno));
    int m = fsmount(ctx, FSMOUNT_CLOEXEC, 0);
    if (m < 0)
        bail_out("fsmount: %s", strerror(errno));
    close(ctx);
    return m;
}

int main(void)
{
    if (geteuid() != 0) {
        printf("1..0 # SKIP needs root\n");
        return 0;
    }
    if (unshare(CLONE_NEWNS | CLONE_NEWNET) < 0 ||
        mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
        bail_out("unshare: %s", strerror(errno));
    if (!mkdtemp(dir))
        bail_out("mkdtemp: %s", strerror(errno));
    wr_error err = {0};
    struct wr_container_config cfg = {.sysfs_fd = -1};
    dev_t dev, mdev;

    /* A given mount, weaker than a /sys may be: cloned, made safe. */
    int m = weak_detached();
    struct stat st;
    fstat(m, &st);
    mdev = st.st_dev;
    cfg.sysfs_fd = dup(m);
    int given = cfg.sysfs_fd, t = target("given");
    ok(wr_sysfs_mount(&cfg, t, &err) == 0, "a given detached sysfs mount (%s)", err.msg);
    ok(safe_sysfs("given", &dev), "  its clone is read-only, nosuid, nodev, noexec");
    is_int(dev, mdev, "  on the same superblock (st_dev)");
    ok(fcntl(given, F_GETFD) < 0, "  the given descriptor is closed");
    struct statvfs svfs;
    ok(fstatvfs(m, &svfs) == 0 && !(svfs.f_flag & ST_RDONLY),
       "  the mount it came from is as it was");
    is_int(wr_sysfs_kept_take(), -1, "  nothing is kept");
    close(t);
    close(m);

    /* sysfs_keep: a new detached mount, kept; /sys is a clone of it. */
    cfg = (struct wr_container_config){.sysfs_fd = -1, .sysfs_keep = true};
    t = target("kept");
    ok(wr_sysfs_mount(&cfg, t, &err) == 0, "sysfs_keep: mounted (%s)", err.msg);
    ok(safe_sysfs("kept", &dev), "  read-only, nosuid, nodev, noexec");
    int kept = wr_sysfs_kept_take();
    struct statfs sfs;
    ok(kept >= 0 && fstatfs(kept, &sfs) == 0 && sfs.f_type == SYSFS_MAGIC &&
           fstat(kept, &st) == 0 && st.st_dev == dev,
       "  the kept mount is the sysfs of /sys's superblock");
    ok(kept >= 0 && (fcntl(kept, F_GETFD) & FD_CLOEXEC), "  close-on-exec");
    ok(fstatvfs(kept, &svfs) == 0 && (svfs.f_flag & SAFE) == SAFE, "  with the four flags");
    is_int(wr_sysfs_kept_take(), -1, "  taken once");
    char net[128];
    snprintf(net, sizeof net, "%s/kept/class/net/lo", dir);
    ok(access(net, F_OK) == 0, "  it shows our namespace's lo");
    close(t);

    /* A descriptor that is no sysfs mount: mount(2), as without one. */
    cfg = (struct wr_container_config){.sysfs_fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC),
                                       .sysfs_keep = true};
    given = cfg.sysfs_fd;
    t = target("fallback");
    ok(wr_sysfs_mount(&cfg, t, &err) == 0, "a descriptor that is no sysfs: mounted (%s)", err.msg);
    ok(safe_sysfs("fallback", &dev), "  by mount(2), read-only, nosuid, nodev, noexec");
    ok(fcntl(given, F_GETFD) < 0, "  the descriptor is closed");
    is_int(wr_sysfs_kept_take(), -1, "  nothing is kept");
    close(t);

    cfg = (struct wr_container_config){.sysfs_fd = -1};
    t = target("plain");
    ok(wr_sysfs_mount(&cfg, t, &err) == 0, "no recycling: mounted (%s)", err.msg);
    ok(safe_sysfs("plain", &dev), "  read-only, nosuid, nodev, noexec");
    is_int(wr_sysfs_kept_take(), -1, "  nothing is kept");
    close(t);

    static const char *const names[] = {"given", "kept", "fallback", "plain"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        char path[128];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        umount2(path, MNT_DETACH);
        rmdir(path);
    }
    close(kept);
    rmdir(dir);
    return done_testing();
}
