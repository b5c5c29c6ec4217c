/* See cgroup_file.h. */
#include "cgroup_file.h"

#include "cleanup.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const ctrl_names[WR_CG_N] = {"cpu",  "cpuacct", "cpuset", "memory",
                                                "pids", "hugetlb", "blkio"};

const char *wr_cgroup_ctrl_name(enum wr_cg_ctrl c)
{
    return ctrl_names[c];
}

int wr_cgroup_ctrl_by_name(const char *name, size_t len)
{
    for (int c = 0; c < WR_CG_N; c++)
        if (strlen(ctrl_names[c]) == len && strncmp(ctrl_names[c], name, len) == 0)
            return c;
    if (len == 2 && strncmp(name, "io", 2) == 0)
        return WR_CG_BLKIO; /* v2's name of blkio */
    return -1;
}

int wr_cgroup_write(const char *dir, const char *file, const char *value, wr_error *err)
{
    char path[WR_CG_PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    return wr_cgroup_write_at(AT_FDCWD, path, value, err);
}

int wr_cgroup_write_at(int dirfd, const char *path, const char *value, wr_error *err)
{
    cleanup_close int fd = openat(dirfd, path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return wr_error_set(err, errno, "open %s", path);
    size_t len = strlen(value);
    if (write(fd, value, len) != (ssize_t)len)
        return wr_error_set(err, errno, "write \"%s\" to %s", value, path);
    return 0;
}

int wr_cgroup_write_i64(const char *dir, const char *file, int64_t value, wr_error *err)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%" PRId64, value);
    return wr_cgroup_write(dir, file, buf, err);
}

int wr_cgroup_write_max(const char *dir, const char *file, int64_t value, wr_error *err)
{
    return value < 0 ? wr_cgroup_write(dir, file, "max", err)
                     : wr_cgroup_write_i64(dir, file, value, err);
}

void wr_cgroup_read(const char *dir, const char *file, char *buf, size_t cap)
{
    char path[WR_CG_PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    wr_cgroup_read_at(AT_FDCWD, path, buf, cap);
}

void wr_cgroup_read_at(int dirfd, const char *path, char *buf, size_t cap)
{
    buf[0] = '\0';
    cleanup_close int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC);
    ssize_t n = fd >= 0 ? read(fd, buf, cap - 1) : -1;
    if (n < 0)
        n = 0;
    buf[n] = '\0';
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
        buf[--n] = '\0';
}

long wr_cgroup_read_key(const char *dir, const char *file, const char *key)
{
    char path[WR_CG_PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    return wr_cgroup_read_key_at(AT_FDCWD, path, key);
}

long wr_cgroup_read_key_at(int dirfd, const char *path, const char *key)
{
    char buf[1024];
    wr_cgroup_read_at(dirfd, path, buf, sizeof buf);
    /* "key N" at the start of a line: strtol, not sscanf (the teardown
     * reads memory.oom_control for every container). */
    size_t klen = strlen(key);
    for (const char *p = buf; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
        if (strncmp(p, key, klen) == 0 && p[klen] == ' ')
            return strtol(p + klen + 1, NULL, 10);
    return 0;
}
