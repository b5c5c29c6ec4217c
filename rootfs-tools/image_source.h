/* Reads what an image archive says, once it is a directory: a `docker save`
 * (legacy manifest.json + <id>/layer.tar + <hex>.json, or Docker 25+'s
 * OCI-in-docker-save) or an OCI image layout (oci-layout, index.json,
 * blobs/sha256/, nested indexes). The result is a plan: which blob files
 * to unpack in which order, the digests to check them against, and the
 * image config (docker run's defaults).
 *
 * Every file is opened beneath the directory with openat2(RESOLVE_IN_ROOT):
 * symlinks inside the archive (docker save links shared layer.tar files)
 * resolve inside it, never outside. Every JSON file named by digest is
 * checked against that digest (libcrypto) before it is parsed. */
#ifndef WARMRUN_IMAGE_SOURCE_H
#define WARMRUN_IMAGE_SOURCE_H

#include "lib/error.h"
#include "store_write.h"

#include <stdbool.h>
#include <stddef.h>

struct wr_plan_layer {
    char *path;                   /* blob file, relative to the image directory */
    char digest[WR_DIGEST_SIZE];  /* the blob's own sha256, "" when the format gives none */
    char diff_id[WR_DIGEST_SIZE]; /* sha256 of its decompressed tar (from the config) */
};

struct wr_image_plan {
    const char *format; /* "docker-save" or "oci-layout" */
    char *ref;          /* the archive's own name:tag (normalized), NULL when none */
    struct wr_plan_layer *layers;
    size_t n_layers;
    /* the config: NULL-terminated vectors, NULL when unset */
    char **entrypoint, **cmd, **env;
    char *workdir, *user;
    char **labels; /* key, value, key, value, ..., NULL */
};

/* What tells an image archive from a rootfs that happens to hold an
 * index.json or manifest.json at its top: the files beside it. */
enum {
    WR_MARK_OCI_LAYOUT = 1, /* oci-layout */
    WR_MARK_INDEX = 2,      /* index.json */
    WR_MARK_MANIFEST = 4,   /* manifest.json */
    WR_MARK_REPOS = 8,      /* repositories */
    WR_MARK_BLOBS = 16,     /* blobs/sha256/... */
    WR_MARK_LAYER_TAR = 32, /* <dir>/layer.tar */
};

/* The marks of one archive entry name (regular files only). */
unsigned wr_image_marks(const char *name);

/* True when the marks make an image archive: oci-layout; or index.json with
 * blobs; or manifest.json with repositories, blobs or <id>/layer.tar. */
bool wr_image_marks_archive(unsigned marks);

/* The same test on a directory. */
bool wr_image_dir_is_archive(int dirfd);

/* Reads the plan of the image in dirfd. ref picks the image when the
 * archive holds several (NULL: the only or first one); for OCI indexes the
 * linux manifest of the host's architecture is chosen (a manifest without
 * a platform is taken as is). */
int wr_image_plan_read(int dirfd, const char *ref, struct wr_image_plan *p, wr_error *err);
void wr_image_plan_free(struct wr_image_plan *p);

/* Opens path beneath dirfd (RESOLVE_IN_ROOT, no magic links, no other
 * mounts) for reading. */
int wr_open_beneath(int dirfd, const char *path, wr_error *err);

/* Checks that the file's sha256 is digest ("sha256:<hex>"); the file
 * offset is back at 0 afterwards. what names it in the error. */
int wr_verify_digest(int fd, const char *digest, const char *what, wr_error *err);

/* "docker.io/library/busybox:1" -> "busybox:1"; NULL when it does not make
 * a valid warmrun reference. Malloc'd. */
char *wr_normalize_ref(const char *ref);

#endif
