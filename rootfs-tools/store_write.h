/* The tools' side of the image store (layout in runtime/lib/image_store.h):
 * creating the layout, installing layers, writing manifests, and the
 * listing behind `warmrun-image ls`. Nothing here is on the activation path.
 *
 * Writers never leave partial state where the runtime looks: a layer is
 * built in a staging directory under <root>/tmp/ (same filesystem) and
 * rename()d into layers/sha256/<hex>; a manifest is written to a temporary
 * file there and rename()d over images/<name>/<tag>.json. */
#ifndef WARMRUN_STORE_WRITE_H
#define WARMRUN_STORE_WRITE_H

#include "lib/error.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define WR_DIGEST_HEX_LEN 64
/* "sha256:" + 64 hex + NUL */
#define WR_DIGEST_SIZE (7 + WR_DIGEST_HEX_LEN + 1)

/* Creates path and any missing parent: parents get parent_mode, path itself
 * mode (both exactly, whatever the umask). Existing directories are left as
 * they are. */
int wr_mkdirs(const char *path, mode_t parent_mode, mode_t mode, wr_error *err);

/* Validates root and creates the store layout if missing (root 0711, tmp/
 * 0700, the rest 0755). */
int wr_store_init(const char *root, wr_error *err);

/* Creates a fresh staging directory <root>/tmp/layer-XXXXXX containing an
 * empty root/ (0755) to build a layer in; *dir is malloc'd. */
int wr_store_stage(const char *root, char **dir, wr_error *err);

/* Removes name (a file, or a directory and all below it) in dirfd without
 * following symlinks; ENOENT is not an error. */
int wr_remove_at(int dirfd, const char *name, wr_error *err);

/* Deepest directory nesting a layer may have (see layer_unpack.c). */
#define WR_LAYER_MAX_DEPTH 256

/* Removes a staging directory and everything below it; best effort, for
 * failure paths. Does not cross mount points or follow symlinks. */
void wr_store_unstage(const char *dir);

/* Moves the staging directory dir into layers/sha256/<hex>. When that layer
 * already exists (same content, or a concurrent import won the race) the
 * staging directory is removed instead and *existed is set. On success dir
 * is gone either way; on failure the caller still owns it. */
int wr_store_layer_install(const char *root, const char *dir, const char *hex, bool *existed,
                           wr_error *err);

/* What a manifest says, as plain data. The string vectors are
 * NULL-terminated; NULL ones (and a NULL workdir/user) are left out of the
 * config. */
struct wr_manifest {
    const char *name;
    const char *tag;
    const char *const *layers; /* "sha256:<hex>" ids, bottom first */
    size_t n_layers;
    const char *const *entrypoint;
    const char *const *cmd;
    const char *const *env;
    const char *workdir;
    const char *user;
    const char *const *labels; /* key, value, key, value, ..., NULL; NULL: none */
    uint64_t size;             /* bytes of the layers' regular files; 0: not recorded */
};

/* Writes images/<name>/<tag>.json. The image id is the sha256 of the
 * canonical JSON of {layers, config} and is returned in id. When the stored
 * manifest already has that id it is kept as is (its "created" included),
 * so rebuilding an unchanged image changes nothing. */
int wr_store_manifest_write(const char *root, const struct wr_manifest *m, char id[WR_DIGEST_SIZE],
                            wr_error *err);

/* One row of `warmrun-image ls`. id and created are NULL when the manifest
 * cannot be read or parsed. */
struct wr_store_entry {
    char *name;
    char *tag;
    char *id;
    char *created;
    size_t n_layers;
    uint64_t size; /* 0 when the manifest does not record it */
};

/* Lists every images/<name>/<tag>.json whose path is a valid reference,
 * sorted by name then tag. A store without images/ lists nothing. */
int wr_store_list(const char *root, struct wr_store_entry **out, size_t *n, wr_error *err);
void wr_store_list_free(struct wr_store_entry *entries, size_t n);

/* Parses a JSON file of at most 1 MiB (a manifest); NULL on error. */
struct json_t;
struct json_t *wr_store_read_json(const char *path, wr_error *err);

#endif
