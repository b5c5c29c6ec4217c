#include "state_file.h"

#include "cleanup.h"
#include "protocol.h"
#include "container_id.h"
#include "state_tmpfs.h"

#include <errno.h>
#include <sys/syscall.h>
#include <signal.h>
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* This boot's id, read once ("" if it cannot be read: then no record is
 * judged by it). */
static const char *boot_id(void)
{
    static char id[40];
    static bool read_once;
    if (!read_once) {
        read_once = true;
        cleanup_close int fd = open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC);
        ssize_t n = fd >= 0 ? read(fd, id, sizeof id - 1) : -1;
        id[n > 0 ? n : 0] = '\0';
        id[strcspn(id, "\n")] = '\0';
    }
    return id;
}

void wr_state_pin_boot_id(void)
{
    (void)boot_id();
}

/* False for a record of another boot: its pids must not be trusted, nor
 * signalled (records of older versions carry no boot id: judged by pid
 * and start time alone, as before). */
static bool this_boot(const struct wr_state_record *rec)
{
    const char *now = boot_id();
    return !rec->boot_id[0] || !now[0] || strcmp(rec->boot_id, now) == 0;
}

static int record_path(char *out, size_t cap, const char *state_dir, const char *id,
                       const char *suffix)
{
    int n = snprintf(out, cap, "%s/containers/%s%s", state_dir, id, suffix);
    return n < 0 || (size_t)n >= cap ? -1 : 0;
}

int wr_state_write(const char *state_dir, const struct wr_state_record *rec, wr_error *err)
{
    /* The longest record: 256 bytes of image, 40 of boot id, ~160 of the
     * rest. */
    char dir[PATH_MAX], name[NAME_MAX + 1], tmp[NAME_MAX + 1], text[768];
    int n = snprintf(dir, sizeof dir, "%s/containers", state_dir);
    if (n < 0 || (size_t)n >= sizeof dir ||
        snprintf(name, sizeof name, "%s", rec->id) >= (int)sizeof name ||
        snprintf(tmp, sizeof tmp, "%s.tmp", rec->id) >= (int)sizeof tmp)
        return wr_error_set(err, ENAMETOOLONG, "state path");
    int len =
        snprintf(text, sizeof text,
                 "id=%s\nshim_pid=%d\nshim_start=%" PRIu64 "\nchild_pid=%d\nchild_start=%" PRIu64
                 "\ncreated=%" PRId64 "\nimage=%s\nboot_id=%s\n",
                 rec->id, (int)rec->shim_pid, rec->shim_start, (int)rec->child_pid,
                 rec->child_start, rec->created, rec->image, boot_id());
    if (len < 0 || (size_t)len >= sizeof text)
        return wr_error_set(err, ENAMETOOLONG, "state record of %s", rec->id);
    /* Held (shared) until the record is in place: the records tmpfs is
     * neither detached nor mounted over meanwhile (state_tmpfs.h). */
    cleanup_close int dirfd = wr_state_records_open(dir, err);
    if (dirfd < 0)
        return -1;
    cleanup_close int fd =
        openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return wr_error_set(err, errno, "create %s/%s", dir, tmp);
    if (write(fd, text, (size_t)len) != len) {
        unlinkat(dirfd, tmp, 0);
        return wr_error_set(err, errno, "write %s/%s", dir, tmp);
    }
    /* rename makes the record appear whole or not at all. */
    if (renameat(dirfd, tmp, dirfd, name) < 0) {
        unlinkat(dirfd, tmp, 0);
        return wr_error_set(err, errno, "rename %s/%s", dir, tmp);
    }
    return 0;
}

FILE *wr_fopen_regular(const char *path)
{
    struct stat st;
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        errno = EINVAL;
        return NULL;
    }
    FILE *f = fdopen(fd, "re");
    if (!f) {
        int saved = errno;
        close(fd);
        errno = saved;
    }
    return f;
}

int wr_state_read(const char *state_dir, const char *id, struct wr_state_record *rec, wr_error *err)
{
    char path[PATH_MAX], line[512];
    memset(rec, 0, sizeof *rec);
    if (record_path(path, sizeof path, state_dir, id, "") < 0)
        return wr_error_set(err, ENAMETOOLONG, "state path");
    cleanup_fclose FILE *f = wr_fopen_regular(path);
    if (!f)
        return wr_error_set(err, errno, "open %s", path);
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        char *eq = strchr(line, '=');
        if (!eq)
            continue;
        *eq = '\0';
        const char *v = eq + 1;
        if (strcmp(line, "id") == 0)
            snprintf(rec->id, sizeof rec->id, "%s", v);
        else if (strcmp(line, "shim_pid") == 0)
            rec->shim_pid = (pid_t)strtol(v, NULL, 10);
        else if (strcmp(line, "shim_start") == 0)
            rec->shim_start = strtoull(v, NULL, 10);
        else if (strcmp(line, "child_pid") == 0)
            rec->child_pid = (pid_t)strtol(v, NULL, 10);
        else if (strcmp(line, "child_start") == 0)
            rec->child_start = strtoull(v, NULL, 10);
        else if (strcmp(line, "created") == 0)
            rec->created = strtoll(v, NULL, 10);
        else if (strcmp(line, "image") == 0)
            snprintf(rec->image, sizeof rec->image, "%s", v);
        else if (strcmp(line, "boot_id") == 0)
            snprintf(rec->boot_id, sizeof rec->boot_id, "%s", v);
    }
    if (rec->shim_pid <= 0 || strcmp(rec->id, id) != 0)
        return wr_error_set(err, 0, "state record %s is malformed", path);
    return 0;
}

void wr_state_remove(const char *state_dir, const char *id)
{
    char path[PATH_MAX];
    if (record_path(path, sizeof path, state_dir, id, "") == 0)
        unlink(path);
}

/* Reads numeric field `field` (1-based, as in proc(5)) of /proc/PID/stat. */
static int read_stat_field(pid_t pid, int field, uint64_t *value, wr_error *err)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return wr_error_set(err, errno, "open %s", path);
    ssize_t n = read(fd, buf, sizeof buf - 1);
    if (n <= 0)
        return wr_error_set(err, n < 0 ? errno : EIO, "read %s", path);
    buf[n] = '\0';
    /* The command name may hold spaces and parentheses: fields are counted
     * from the last ')', which ends field 2. Each space found moves to the
     * next field. */
    char *p = strrchr(buf, ')');
    for (int f = 2; f < field && p; f++)
        p = strchr(p + 1, ' ');
    if (!p)
        return wr_error_set(err, EINVAL, "parse %s", path);
    *value = strtoull(p + 1, NULL, 10);
    return 0;
}

int wr_proc_start_time(pid_t pid, uint64_t *start, wr_error *err)
{
    return read_stat_field(pid, 22, start, err);
}

bool wr_proc_alive_since(pid_t pid, uint64_t start)
{
    char path[32], buf[512];
    uint64_t now;
    wr_error ignored;
    if (pid <= 0 || wr_proc_start_time(pid, &now, &ignored) < 0 || now != start)
        return false;
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof buf - 1);
    if (n <= 0)
        return false;
    buf[n] = '\0';
    const char *paren = strrchr(buf, ')'); /* comm may hold anything */
    return paren && paren[1] == ' ' && paren[2] != 'Z' && paren[2] != 'X';
}

int wr_proc_parent(pid_t pid, pid_t *parent, wr_error *err)
{
    uint64_t v;
    if (read_stat_field(pid, 4, &v, err) < 0)
        return -1;
    *parent = (pid_t)v;
    return 0;
}

bool wr_state_shim_alive(const struct wr_state_record *rec)
{
    wr_error err;
    uint64_t start;
    if (!this_boot(rec) || wr_proc_start_time(rec->shim_pid, &start, &err) < 0)
        return false;
    return start == rec->shim_start;
}

/* A pidfd of pid if it is still the process that started at start (checked
 * after the open: from then on the pidfd holds this very process), else -1
 * (gone, reused, or start 0: cannot be told apart). */
static int checked_pidfd(pid_t pid, uint64_t start)
{
    wr_error err;
    uint64_t now;
    if (pid <= 0 || start == 0)
        return -1;
    int fd = (int)syscall(SYS_pidfd_open, pid, 0);
    if (fd < 0)
        return -1;
    if (wr_proc_start_time(pid, &now, &err) < 0 || now != start) {
        close(fd);
        return -1;
    }
    return fd;
}

int wr_state_child_pidfd(const struct wr_state_record *rec)
{
    return this_boot(rec) ? checked_pidfd(rec->child_pid, rec->child_start) : -1;
}

int wr_state_shim_pidfd(const struct wr_state_record *rec)
{
    return this_boot(rec) ? checked_pidfd(rec->shim_pid, rec->shim_start) : -1;
}

/* A record whose shim is gone: its container must not outlive it (its
 * workload may have cleared its parent-death signal, and whoever held its
 * pidfd may have died with the shim). */
static void kill_orphan(const struct wr_state_record *rec)
{
    int fd = wr_state_child_pidfd(rec);
    if (fd < 0)
        return;
    syscall(SYS_pidfd_send_signal, fd, SIGKILL, NULL, 0);
    close(fd);
}

#define STALE_TMP_SECONDS 60

static void remove_stale_tmp(int dirfd, const char *name)
{
    struct stat st;
    const char *dot = strrchr(name, '.');
    if (!dot || strcmp(dot, ".tmp") != 0)
        return;
    if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
        time(NULL) - st.st_mtime > STALE_TMP_SECONDS)
        unlinkat(dirfd, name, 0);
}

size_t wr_state_scan(const char *state_dir, wr_state_visit_fn visit, void *ctx)
{
    char dir[PATH_MAX];
    size_t removed = 0;
    snprintf(dir, sizeof dir, "%s/containers", state_dir);
    cleanup_closedir DIR *dp = opendir(dir);
    struct dirent *de;
    while (dp && (de = readdir(dp))) {
        struct wr_state_record rec;
        wr_error err;
        if (!wr_container_id_valid(de->d_name)) {
            remove_stale_tmp(dirfd(dp), de->d_name);
            continue;
        }
        bool read = wr_state_read(state_dir, de->d_name, &rec, &err) == 0;
        if (read && wr_state_shim_alive(&rec)) {
            visit(&rec, ctx);
            continue;
        }
        if (read)
            kill_orphan(&rec);
        wr_state_remove(state_dir, de->d_name);
        removed++;
    }
    return removed;
}

/* Root's shims write records here and mount over mnt/: a directory that
 * someone else owns or may write to could be used to plant records or
 * redirect those writes. Ours is made 0700 if it was not; another owner's,
 * a symlink or a non-directory is refused. */
static int make_dir(const char *path, wr_error *err)
{
    struct stat st;
    if (mkdir(path, 0700) < 0 && errno != EEXIST)
        return wr_error_set(err, errno, "mkdir %s", path);
    cleanup_close int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &st) < 0)
        return wr_error_set(err, errno, "state directory %s", path);
    if (st.st_uid != geteuid())
        return wr_error_set(err, EPERM, "state directory %s belongs to uid %u, not to us", path,
                            (unsigned)st.st_uid);
    if ((st.st_mode & 07777) != 0700 && fchmod(fd, 0700) < 0)
        return wr_error_set(err, errno, "chmod 0700 %s", path);
    return 0;
}

int wr_state_dir_prepare(const char *state_dir, wr_error *note, wr_error *err)
{
    char path[PATH_MAX];
    wr_error ignored;
    if (state_dir[0] != '/')
        return wr_error_set(err, 0, "state dir %s is not an absolute path", state_dir);
    if (make_dir(state_dir, err) < 0)
        return -1;
    int n = snprintf(path, sizeof path, "%s/containers", state_dir);
    if (n < 0 || (size_t)n >= sizeof path)
        return wr_error_set(err, ENAMETOOLONG, "state dir %s", state_dir);
    if (make_dir(path, err) < 0)
        return -1;
    /* No failure either way: the records work on any file system. */
    if (note)
        wr_error_clear(note);
    (void)wr_state_records_tmpfs(path, note ? note : &ignored);
    snprintf(path, sizeof path, "%s/mnt", state_dir);
    if (make_dir(path, err) < 0)
        return -1;
    /* The empty lower layer of the overlay the shim is executed from
     * (shim_exe.h). */
    snprintf(path, sizeof path, "%s/empty", state_dir);
    return make_dir(path, err);
}
