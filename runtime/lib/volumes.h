/* A container's volumes (Docker's bind mounts and tmpfs mounts), a pool
 * setting: given on `pool create` or a cold `activate` (the CLI's
 * --mount, -v/--volume and --tmpfs: cli/cli_volumes.c), carried in the
 * pool create request ("volumes": protocol_volumes.c, docs/api.md), handed
 * to the shim as one --volume argument each (wr_volume_encode), mounted by
 * the container (container/volumes_mount.c).
 *
 * A bind source is an absolute host path with no symbolic link in it (the
 * CLI resolves it once, on the host, when the pool is created: realpath).
 * A target is an absolute path inside the container, resolved there,
 * inside its root. */
#ifndef WARMRUN_VOLUMES_H
#define WARMRUN_VOLUMES_H

#include "error.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WR_VOLUMES_MAX     16
#define WR_VOLUME_PATH_MAX 4095
/* tmpfs mode unless one is given: Docker's (1777). */
#define WR_VOLUME_TMPFS_MODE 01777

enum wr_volume_type {
    WR_VOLUME_BIND = 1,
    WR_VOLUME_TMPFS,
};

struct wr_volume {
    enum wr_volume_type type;
    bool readonly;
    uint64_t size; /* tmpfs: bytes; 0: the kernel's default (half the RAM) */
    uint32_t mode; /* tmpfs: permission bits of its root */
    char *source;  /* bind: malloc'd; tmpfs: NULL */
    char *target;  /* malloc'd */
};

struct wr_volumes {
    size_t n;
    struct wr_volume v[WR_VOLUMES_MAX];
};

/* Appends a volume (source and target copied). Checks: absolute clean
 * paths (no "." or ".." component, no empty one) of at most
 * WR_VOLUME_PATH_MAX bytes, a target that is not "/" and not taken by an
 * earlier volume, a mode of at most 07777, at most WR_VOLUMES_MAX. */
int wr_volumes_add(struct wr_volumes *vs, enum wr_volume_type type, const char *source,
                   const char *target, bool readonly, uint64_t size, uint32_t mode, wr_error *err);
void wr_volumes_free(struct wr_volumes *vs);
bool wr_volumes_equal(const struct wr_volumes *a, const struct wr_volumes *b);
/* A deep copy into out (freed first). */
int wr_volumes_copy(struct wr_volumes *out, const struct wr_volumes *in, wr_error *err);

/* A bind source that exists (stat), for the checks before anything is
 * created. ENOENT and the like, with a one-line reason. */
int wr_volumes_check_sources(const struct wr_volumes *vs, wr_error *err);

/* One volume as one string and back (the shim's --volume):
 * "TYPE:RO:SIZE:MODE:TARGETLEN:TARGET" then the source, TYPE "bind" or
 * "tmpfs", RO 0 or 1, MODE octal. Length-prefixed: any byte but NUL may be
 * in a path. Encode returns the length or -1 (ENAMETOOLONG). */
#define WR_VOLUME_TEXT_MAX (2 * WR_VOLUME_PATH_MAX + 96)
int wr_volume_encode(const struct wr_volume *v, char *out, size_t cap, wr_error *err);
int wr_volume_decode_add(struct wr_volumes *vs, const char *text, wr_error *err);

/* "bind /src:/dst ro" and "tmpfs /dst size=N,mode=M": for `pool ls`. */
void wr_volumes_summary(const struct wr_volumes *vs, char *out, size_t cap);

#endif
