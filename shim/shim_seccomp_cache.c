/* The cold starts' cached default seccomp filter (shim_seccomp.c names it):
 * a file a crash, a power loss or another user must never turn into a
 * failed start or a weaker filter. Written to a temporary file of the same
 * directory, fsync'ed, renamed over the old one, the directory fsync'ed
 * (the rename survives a power loss too); read back only from a root-owned
 * directory nobody else can write, as a regular root-owned file of its own
 * (no symlink, no hard link, no FIFO), whose header's length and checksum
 * match its instructions. Anything else is a cache miss: the caller
 * compiles the filter again and replaces the file. */
#include "shim_seccomp_cache.h"

#include "lib/cleanup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/filter.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

/* The file: this header, then hdr.insns struct sock_filter, nothing
 * after. The checksum catches what a length cannot: ext4 can leave a file
 * of the right size with blocks of zeros after a crash (delayed
 * allocation). */
#define CACHE_MAGIC "wrbpf01\n"
struct cache_header {
    char magic[8];
    uint32_t insns;    /* 1..BPF_MAXINSNS */
    uint32_t reserved; /* 0 */
    uint64_t fnv1a;    /* FNV-1a 64 of the instructions' bytes */
};

static uint64_t fnv1a64(const void *data, size_t len)
{
    const unsigned char *p = data;
    uint64_t h = 14695981039346656037ull;
    for (size_t i = 0; i < len; i++)
        h = (h ^ p[i]) * 1099511628211ull;
    return h;
}

/* Whoever may replace what st describes: only this process's user (root),
 * and nobody through the group or other bits. */
static bool ours_alone(const struct stat *st)
{
    return st->st_uid == geteuid() && !(st->st_mode & (S_IWGRP | S_IWOTH));
}

int shim_seccomp_cache_dir(const char *dir)
{
    if (mkdir(dir, 0700) < 0 && errno != EEXIST)
        return -1;
    cleanup_close int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0 || !ours_alone(&st))
        return -1;
    return steal_fd(&fd);
}

bool shim_seccomp_cache_load(int dirfd, const char *name, struct wr_seccomp_filter *f)
{
    memset(f, 0, sizeof *f);
    /* O_NONBLOCK: a FIFO put in its place must not hang the start. */
    cleanup_close int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    struct stat st;
    struct cache_header h;
    if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_nlink != 1 ||
        !ours_alone(&st) || st.st_size <= (off_t)sizeof h ||
        st.st_size > (off_t)(sizeof h + BPF_MAXINSNS * sizeof(struct sock_filter)))
        return false;
    size_t bytes = (size_t)st.st_size - sizeof h;
    if (pread(fd, &h, sizeof h, 0) != (ssize_t)sizeof h ||
        memcmp(h.magic, CACHE_MAGIC, sizeof h.magic) != 0 || h.reserved != 0 || h.insns == 0 ||
        (size_t)h.insns * sizeof(struct sock_filter) != bytes)
        return false;
    cleanup_free void *insns = malloc(bytes);
    if (!insns || pread(fd, insns, bytes, sizeof h) != (ssize_t)bytes ||
        fnv1a64(insns, bytes) != h.fnv1a)
        return false;
    f->insns = steal_pointer(&insns);
    f->len = h.insns;
    return true;
}

/* A temporary file older than this is a dead writer's: a live one renames
 * its own within milliseconds (an fsync of a few KiB). */
#define STALE_TMP_S 60

/* Whether entry is a temporary file of shim_seccomp_cache_store's:
 * ".<name>.bpf.<pid>". */
static bool cache_tmp_name(const char *entry)
{
    const char *dot = strrchr(entry, '.');
    size_t digits = dot ? strspn(dot + 1, "0123456789") : 0;
    return entry[0] == '.' && dot && dot - entry >= 5 && strncmp(dot - 4, ".bpf", 4) == 0 &&
           digits > 0 && dot[1 + digits] == '\0';
}

/* Removes the temporary files a writer killed between their creation and
 * their rename left (a SIGKILLed shim): nothing else would, and each
 * death would leave one more. On a miss only (a compile follows anyway),
 * never a live writer's (STALE_TMP_S). */
static void sweep_stale_tmp(int dirfd)
{
    int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return;
    cleanup_closedir DIR *dp = fdopendir(fd);
    if (!dp) {
        close(fd);
        return;
    }
    time_t now = time(NULL);
    struct dirent *de;
    struct stat st;
    while ((de = readdir(dp)))
        if (cache_tmp_name(de->d_name) &&
            fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
            now - st.st_mtime > STALE_TMP_S)
            (void)unlinkat(dirfd, de->d_name, 0);
}

void shim_seccomp_cache_store(int dirfd, const char *name, const struct wr_seccomp_filter *f)
{
    sweep_stale_tmp(dirfd);
    if (f->len == 0 || f->len > BPF_MAXINSNS)
        return;
    char tmp[NAME_MAX + 1];
    int n = snprintf(tmp, sizeof tmp, ".%s.%d", name, (int)getpid());
    if (n < 0 || (size_t)n >= sizeof tmp)
        return;
    size_t bytes = f->len * sizeof(struct sock_filter);
    struct cache_header h = {.insns = (uint32_t)f->len, .fnv1a = fnv1a64(f->insns, bytes)};
    memcpy(h.magic, CACHE_MAGIC, sizeof h.magic);
    /* A file of this name is a crashed process's of the same pid: stale. */
    (void)unlinkat(dirfd, tmp, 0);
    cleanup_close int fd =
        openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return;
    struct iovec iov[2] = {{&h, sizeof h}, {f->insns, bytes}};
    bool written = writev(fd, iov, 2) == (ssize_t)(sizeof h + bytes) && fsync(fd) == 0;
    if (!written || renameat(dirfd, tmp, dirfd, name) < 0) {
        (void)unlinkat(dirfd, tmp, 0);
        return;
    }
    (void)fsync(dirfd);
}
