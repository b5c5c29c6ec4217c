/* TAP test of runtime/lib/state_tmpfs.c: a directory that is not a tmpfs
 * gets one tmpfs (once, however often it is prepared), the regular files
 * already in it are moved into the tmpfs and off the directory underneath,
 * anything else (a symlink, a directory) is left there, and a directory on
 * a tmpfs already gets nothing. Needs root in the host's mount namespace;
 * skipped otherwise. */
#include "lib/state_tmpfs.h"
#include "tap.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>

static char tmp[256];

static bool is_tmpfs(const char *path)
{
    struct statfs sf;
    return statfs(path, &sf) == 0 && sf.f_type == TMPFS_MAGIC;
}

/* How many mounts of /proc/self/mountinfo have mount point path. */
static int mounts_at(const char *path)
{
    char line[4096], needle[600];
    int n = 0;
    snprintf(needle, sizeof needle, " %s ", path);
    FILE *f = fopen("/proc/self/mountinfo", "re");
    while (f && fgets(line, sizeof line, f))
        n += strstr(line, needle) != NULL;
    if (f)
        fclose(f);
    return n;
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f || fputs(text, f) < 0 || fclose(f) != 0)
        bail_out("write %s: %s", path, strerror(errno));
}

static char *read_text(const char *path, char *buf, size_t cap)
{
    buf[0] = '\0';
    FILE *f = fopen(path, "re");
    if (f) {
        size_t n = fread(buf, 1, cap - 1, f);
        buf[n] = '\0';
        fclose(f);
    }
    return buf;
}

/* Whether name is on the directory underneath dir's mount: looked up in a
 * child with a private mount namespace, where that mount is undone. */
static bool below_has(const char *dir, const char *name)
{
    pid_t pid = fork();
    if (pid == 0) {
        char path[600];
        snprintf(path, sizeof path, "%s/%s", dir, name);
        if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
            umount2(dir, MNT_DETACH) < 0)
            _exit(2);
        struct stat st;
        _exit(lstat(path, &st) == 0 ? 0 : 1);
    }
    int status;
    return pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
           WEXITSTATUS(status) == 0;
}

int main(void)
{
    char dir[400], path[600], buf[256];
    wr_error why = {0};
    const char *t = getenv("TMPDIR");
    snprintf(tmp, sizeof tmp, "%s/wr-state-tmpfs-XXXXXX", t && *t ? t : "/tmp");
    if (!mkdtemp(tmp))
        bail_out("mkdtemp %s: %s", tmp, strerror(errno));
    snprintf(dir, sizeof dir, "%s/containers", tmp);
    if (mkdir(dir, 0700) < 0)
        bail_out("mkdir %s: %s", dir, strerror(errno));
    if (is_tmpfs(dir)) {
        is_int(wr_state_records_tmpfs(dir, &why), 0, "a directory on a tmpfs is left as it is");
        is_int(mounts_at(dir), 0, "  no mount on it");
        tap_rm_tree(tmp);
        return done_testing();
    }

    /* What an earlier version or a cold start without the mount left. */
    snprintf(path, sizeof path, "%s/0123456789ab", dir);
    write_text(path, "id=0123456789ab\nshim_pid=1\n");
    snprintf(path, sizeof path, "%s/0123456789ab.tmp", dir);
    write_text(path, "partial");
    snprintf(path, sizeof path, "%s/link", dir);
    if (symlink("/etc/passwd", path) < 0)
        bail_out("symlink: %s", strerror(errno));
    snprintf(path, sizeof path, "%s/subdir", dir);
    if (mkdir(path, 0700) < 0)
        bail_out("mkdir: %s", strerror(errno));

    if (wr_state_records_tmpfs(dir, &why) < 0) {
        skip(1, why.msg); /* not root, or not the host's mount namespace */
        tap_rm_tree(tmp);
        return done_testing();
    }
    ok(is_tmpfs(dir), "%s is a tmpfs", dir);
    is_int(mounts_at(dir), 1, "  one mount on it");
    struct stat st;
    bool stated = stat(dir, &st) == 0;
    ok(stated && (st.st_mode & 07777) == 0700 && st.st_uid == 0,
       "  its root is root's, mode 0700 (%o)", (unsigned)(st.st_mode & 07777));
    is_int(wr_state_records_tmpfs(dir, &why), 0, "preparing again succeeds (%s)", why.msg);
    is_int(mounts_at(dir), 1, "  and mounts nothing more");

    snprintf(path, sizeof path, "%s/0123456789ab", dir);
    is_str(read_text(path, buf, sizeof buf), "id=0123456789ab\nshim_pid=1\n",
           "a record made before is in the tmpfs, whole");
    ok(!below_has(dir, "0123456789ab"), "  and no longer underneath");
    snprintf(path, sizeof path, "%s/0123456789ab.tmp", dir);
    is_str(read_text(path, buf, sizeof buf), "partial", "a temporary file too (swept later)");
    snprintf(path, sizeof path, "%s/link", dir);
    ok(lstat(path, &st) < 0 && errno == ENOENT, "a symlink is not followed nor moved");
    ok(below_has(dir, "link") && below_has(dir, "subdir"),
       "  it and a subdirectory stay underneath");
    snprintf(path, sizeof path, "%s/.0123456789ab.tmp", dir);
    ok(lstat(path, &st) < 0, "no temporary file of the copy is left");

    /* Released only when empty, and only ours. */
    is_int(wr_state_records_release(dir, &why), 0, "release with records in it: left (%s)",
           why.msg);
    is_int(mounts_at(dir), 1, "  still mounted");
    int fd = wr_state_records_open(dir, &why);
    struct stat held;
    ok(fd >= 0 && fstat(fd, &held) == 0 && stat(dir, &st) == 0 && held.st_dev == st.st_dev &&
           held.st_ino == st.st_ino,
       "the records directory opened for a write is the tmpfs at its path (%s)", why.msg);
    ok(fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) == 0, "  locked shared by this process alone");
    if (fd >= 0)
        close(fd);
    snprintf(path, sizeof path, "%s/0123456789ab", dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/0123456789ab.tmp", dir);
    unlink(path);
    is_int(wr_state_records_release(dir, &why), 1, "release once empty: unmounted (%s)", why.msg);
    is_int(mounts_at(dir), 0, "  no mount left");
    is_int(wr_state_records_release(dir, &why), 0, "release of the plain directory: nothing");
    if (mount("other-tmpfs", dir, "tmpfs", 0, "mode=0700") == 0) {
        is_int(wr_state_records_release(dir, &why), 0, "release of someone else's tmpfs: left");
        is_int(mounts_at(dir), 1, "  still mounted");
    } else {
        skip(2, strerror(errno));
    }

    umount2(dir, MNT_DETACH);
    tap_rm_tree(tmp);
    return done_testing();
}
