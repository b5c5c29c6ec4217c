/* The cgroup filesystem's files, as both backends and the cgroup module
 * use them: the controllers' names, one value written to or read from a
 * file of a cgroup directory. */
#ifndef WARMRUN_CGROUP_FILE_H
#define WARMRUN_CGROUP_FILE_H

#include "error.h"

#include <stddef.h>
#include <stdint.h>

enum wr_cg_ctrl {
    WR_CG_CPU,
    WR_CG_CPUACCT,
    WR_CG_CPUSET,
    WR_CG_MEMORY,
    WR_CG_PIDS,
    WR_CG_HUGETLB,
    WR_CG_BLKIO, /* "blkio" on v1, "io" on v2 */
    WR_CG_N
};

#define WR_CG_PATH_MAX 512

/* The controller's name as the kernel spells it ("cpuset"). */
const char *wr_cgroup_ctrl_name(enum wr_cg_ctrl c);
/* The controller named by name[0..len) (v1 or v2 spelling), or -1. */
int wr_cgroup_ctrl_by_name(const char *name, size_t len);

/* Writes a short string, a number, or a number where negative means
 * "max", to dir/file (one write(2), as the kernel wants). Errors: open's
 * and write's (the kernel refuses a bad value with EINVAL). */
int wr_cgroup_write(const char *dir, const char *file, const char *value, wr_error *err);
/* The same, path relative to the directory descriptor dirfd (openat(2)):
 * no walk from the root of the host's tree for a cgroup held open. */
int wr_cgroup_write_at(int dirfd, const char *path, const char *value, wr_error *err);
int wr_cgroup_write_i64(const char *dir, const char *file, int64_t value, wr_error *err);
int wr_cgroup_write_max(const char *dir, const char *file, int64_t value, wr_error *err);

/* Reads dir/file (at most cap - 1 bytes, trailing blanks cut) into buf;
 * "" when it cannot. */
void wr_cgroup_read(const char *dir, const char *file, char *buf, size_t cap);
/* N of the "key N" line of a flat keyed file (memory.events), 0 if none. */
long wr_cgroup_read_key(const char *dir, const char *file, const char *key);
/* wr_cgroup_read and wr_cgroup_read_key of path relative to dirfd. */
void wr_cgroup_read_at(int dirfd, const char *path, char *buf, size_t cap);
long wr_cgroup_read_key_at(int dirfd, const char *path, const char *key);

#endif
