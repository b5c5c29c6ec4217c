/* Unpacks one tar stream (plain, gzip, zstd, xz, bzip2: libarchive detects
 * the compression) into a directory, safely:
 *
 * - every name is checked lexically (no absolute names, no "..") and
 *   resolved beneath the directory by an O_NOFOLLOW walk, one component at
 *   a time: a symlink met on the way (one the archive made, pointing
 *   anywhere) is an error, never followed;
 * - a hardlink must name an entry made earlier by the same archive;
 * - character and block devices are dropped under dev/ (the container
 *   mounts a /dev of its own over it) and refused anywhere else; sockets
 *   are refused; FIFOs are kept;
 * - the same name twice is an error;
 * - the decompressed stream is bounded (max_bytes);
 * - owners are numeric, modes, mtimes kept; of the xattrs only user.* and
 *   security.capability are kept (never trusted.*: overlayfs reads those).
 *
 * Whiteouts (WR_UNPACK_LAYER): the OCI ".wh.NAME" entry becomes overlayfs'
 * own whiteout (a 0/0 character device NAME) and ".wh..wh..opq" sets
 * trusted.overlay.opaque="y" on its directory, so the layer can be stacked
 * as an overlayfs lowerdir and the kernel does the merge.
 * WR_UNPACK_MERGE applies the changeset onto the tree instead (deleting what
 * whiteouts name): used to flatten many layers into one.
 * WR_UNPACK_PLAIN is for image archives (docker save, OCI layout) unpacked
 * to a scratch directory: only directories, files and symlinks, no owners,
 * no xattrs, no whiteout meaning.
 *
 * The sha256 of the decompressed stream (docker's and OCI's "diff_id") is
 * computed on the way. Errors name the entry. */
#ifndef WARMRUN_LAYER_UNPACK_H
#define WARMRUN_LAYER_UNPACK_H

#include "lib/error.h"
#include "store_write.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum wr_unpack_mode { WR_UNPACK_LAYER, WR_UNPACK_MERGE, WR_UNPACK_PLAIN };

#define WR_UNPACK_DEFAULT_MAX_BYTES (8ULL << 30)

struct wr_unpack_opts {
    enum wr_unpack_mode mode;
    uint64_t max_bytes; /* bound on decompressed bytes; 0: the default */
    /* Called now and then with the decompressed bytes read so far. */
    void (*progress)(void *arg, uint64_t bytes);
    void *progress_arg;
};

struct wr_unpack_stats {
    char diff_id[WR_DIGEST_SIZE]; /* "sha256:<hex>" of the decompressed stream */
    uint64_t stream_bytes;        /* decompressed bytes */
    uint64_t file_bytes;          /* sum of the regular files' sizes */
    size_t entries;
};

/* Reads the archive from fd (at its current offset) into the directory
 * rootfd. On error the directory holds a partial tree: callers unpack into
 * a staging directory and throw it away. */
int wr_unpack_fd(int fd, int rootfd, const struct wr_unpack_opts *o, struct wr_unpack_stats *st,
                 wr_error *err);

#endif
