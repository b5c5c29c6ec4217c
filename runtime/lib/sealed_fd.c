/* See sealed_fd.h. */
#include "sealed_fd.h"

#include "cleanup.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define SEALS_REQUIRED (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)

int wr_sealed_fd_create(const char *name, const void *data, size_t len, wr_error *err)
{
    cleanup_close int fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (fd < 0)
        return wr_error_set(err, errno, "memfd_create");
    const char *p = data;
    for (size_t done = 0; done < len;) {
        ssize_t n = write(fd, p + done, len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return wr_error_set(err, n < 0 ? errno : EIO, "write to memfd");
        done += (size_t)n;
    }
    if (fcntl(fd, F_ADD_SEALS, SEALS_REQUIRED) < 0)
        return wr_error_set(err, errno, "seal memfd");
    return steal_fd(&fd);
}

bool wr_oob_header_is(const void *buf, size_t n)
{
    struct wr_oob_header h;
    if (n != sizeof h)
        return false;
    memcpy(&h, buf, sizeof h);
    return h.magic == WR_OOB_MAGIC && h.zero == 0;
}

int wr_sealed_fd_map(int fd, size_t want, size_t max, struct wr_sealed_map *m, wr_error *err)
{
    m->data = NULL;
    m->len = 0;
    /* First: only a memfd (shmem or hugetlbfs) answers, and it answers
     * without calling into any file system. fstat of a FUSE file could
     * block on its server. */
    int seals = fcntl(fd, F_GET_SEALS);
    if (seals < 0)
        return wr_error_set(err, EBADF, "the out-of-band descriptor is not a memfd");
    if ((seals & SEALS_REQUIRED) != SEALS_REQUIRED)
        return wr_error_set(err, EPERM,
                            "the out-of-band memfd is not sealed (write, grow, shrink and seal)");
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || (fl & O_PATH) || (fl & O_ACCMODE) == O_WRONLY)
        return wr_error_set(err, EBADF, "the out-of-band memfd is not open for reading");
    struct stat st;
    if (fstat(fd, &st) < 0)
        return wr_error_set(err, errno, "fstat of the out-of-band memfd");
    if (!S_ISREG(st.st_mode) || st.st_size <= 0 || (uint64_t)st.st_size > max ||
        (want && (uint64_t)st.st_size != want))
        return wr_error_set(err, EMSGSIZE,
                            "the out-of-band memfd holds %lld bytes (expected %zu, at most %zu)",
                            (long long)st.st_size, want, max);
    void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED)
        return wr_error_set(err, errno, "mmap of the out-of-band memfd");
    m->data = p;
    m->len = (size_t)st.st_size;
    return 0;
}

void wr_sealed_unmap(struct wr_sealed_map *m)
{
    if (m->data)
        munmap(m->data, m->len);
    m->data = NULL;
    m->len = 0;
}
