/* Messages too large for one SOCK_SEQPACKET datagram travel out of band: in
 * a memfd, sealed (F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL)
 * by its sender, passed with SCM_RIGHTS as the last descriptor of a small
 * message that is only a struct wr_oob_header. Used for large requests (CLI
 * -> daemon) and large activations (daemon or CLI -> container).
 *
 * The receiver trusts nothing of it: the descriptor must be a memfd (one
 * with seals: F_GET_SEALS fails at once for a pipe, a socket, a FUSE or any
 * other file, before anything could block on it), carry all four seals (so
 * its content and size cannot change once checked: no SIGBUS, no reading
 * while its sender rewrites it), and hold no more than the receiver's cap.
 * It is then mapped read-only, never read into a buffer of its size. */
#ifndef WARMRUN_SEALED_FD_H
#define WARMRUN_SEALED_FD_H

#include "error.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WR_OOB_MAGIC 0x626f7277u /* "wrob" */

/* The whole in-band message of an out-of-band one. len: the memfd's size. */
struct wr_oob_header {
    uint32_t magic;
    uint32_t zero;
    uint64_t len;
};

/* A sealed memfd (close-on-exec) holding len bytes of data (len > 0).
 * Returns the descriptor or -1. */
int wr_sealed_fd_create(const char *name, const void *data, size_t len, wr_error *err);

/* Is buf (n bytes) an out-of-band header? */
bool wr_oob_header_is(const void *buf, size_t n);

struct wr_sealed_map {
    void *data; /* read-only, MAP_PRIVATE; NULL when unmapped */
    size_t len;
};

/* Checks fd (a memfd with all four seals, of 1 to max bytes, and want bytes
 * when want is not 0) and maps it read-only. Errors: EBADF (not a memfd, or
 * not open for reading), EPERM (a seal missing), EMSGSIZE (size), or
 * mmap's. */
int wr_sealed_fd_map(int fd, size_t want, size_t max, struct wr_sealed_map *m, wr_error *err);
void wr_sealed_unmap(struct wr_sealed_map *m);
#define cleanup_sealed_map __attribute__((cleanup(wr_sealed_unmap)))

#endif
