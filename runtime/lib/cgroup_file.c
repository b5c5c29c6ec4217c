/* See cgroup_file.h. */
#include "cgroup_file.h"

#include "cleanup.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
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
    cleanup_close int fd = open(path, O_WRONLY | O_CLOEXEC);
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
    buf[0] = '\0';
    cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n = fd >= 0 ? read(fd, buf, cap - 1) : -1;
    if (n < 0)
        n = 0;
    buf[n] = '\0';
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
        buf[--n] = '\0';
}

long wr_cgroup_read_key(const char *dir, const char *file, const char *key)
{
    char buf[1024], want[64];
    snprintf(want, sizeof want, "%s ", key);
    wr_cgroup_read(dir, file, buf, sizeof buf);
    const char *p = strstr(buf, want);
    long n = 0;
    if (p && sscanf(p + strlen(want), "%ld", &n) != 1)
        n = 0;
    return n;
}
