/* The read side of the image store, as the runtime needs it: resolve an
 * image reference to its layer directories and its config defaults.
 *
 * Store layout under the store root (default /var/lib/warmrun):
 *   images/<name>/<tag>.json    the image manifest (see docs/architecture.md)
 *   layers/sha256/<hex>/root/   one unpacked layer, shared by every image using it
 *   tmp/                        staging area for imports (same filesystem)
 * <name> may contain '/' (e.g. "library/busybox"); each component matches
 * [a-z0-9][a-z0-9._-]*, the tag matches [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}.
 *
 * Manifest (JSON):
 *   {"schema": 1, "name": "busybox", "tag": "latest", "id": "sha256:<hex>",
 *    "created": "<RFC 3339>", "layers": ["sha256:<hex>", ...],   (bottom first)
 *    "config": {"Entrypoint": [..]|null, "Cmd": [..]|null, "Env": ["K=V", ..],
 *               "WorkingDir": "/", "User": "", "Labels": {"k": "v", ..}},
 *    "size": <bytes of the layers' regular files>}
 * "Labels" and "size" are optional (manifests written before them lack
 * them); the runtime ignores both. Imported layers are named by their
 * diff_id (sha256 of the uncompressed layer tar); see docs/architecture.md. */
#ifndef WARMRUN_IMAGE_STORE_H
#define WARMRUN_IMAGE_STORE_H

#include "error.h"

#include <stddef.h>

struct wr_image {
    char *name;     /* "busybox" */
    char *tag;      /* "latest" */
    char *id;       /* "sha256:<hex>" */
    char *lowerdir; /* overlayfs lowerdir= value: layer root dirs, topmost first, ':'-joined */
    size_t n_layers;
    char **entrypoint; /* NULL-terminated, NULL when unset */
    char **cmd;        /* NULL-terminated, NULL when unset */
    char **env;        /* NULL-terminated, never NULL */
    char *workdir;     /* never NULL; "/" when unset */
    char *user;        /* never NULL; "" when unset */
};

/* Splits "name[:tag]" (tag defaults to "latest") and validates both parts.
 * name and tag are malloc'd on success. */
int wr_image_ref_parse(const char *ref, char **name, char **tag, wr_error *err);

/* Loads the manifest of ref from the store at root and checks that every
 * layer directory exists. Unknown image: errnum ENOENT, message
 * "image \"<ref>\" not found in <root>". */
int wr_image_load(const char *root, const char *ref, struct wr_image **out, wr_error *err);

void wr_image_free(struct wr_image *img);
static inline void wr_image_freep(struct wr_image **img)
{
    wr_image_free(*img);
}
/* cleanup.h's idiom for a loaded image (NULL: nothing). */
#define cleanup_image __attribute__((cleanup(wr_image_freep)))

/* Checks a store root: absolute, and no character that overlayfs mount
 * options cannot carry (',', ':', '\\', whitespace). */
int wr_store_root_valid(const char *root, wr_error *err);

/* Makes <root>/layers root's alone (0700) when it is more open. Images are
 * the tenants': a layer may hold setuid-root or file-capability programs,
 * which any host user could otherwise run as root by their path
 * (CVE-2021-41091's class; Docker's data root is 0710 for it). The store
 * root stays 0711 so that users can still read images/ (`image ls`). A
 * missing store or layers directory is left alone (0); a layers path that
 * is not a directory of root's is an error (-1, err filled). */
int wr_store_layers_private(const char *root, wr_error *err);

/* Length of root without trailing slashes, so that "/srv/wr/" and "/srv/wr"
 * give the same paths (and "/" gives "/images/..."): both sides of the
 * store build their paths as "%.*s/...". */
int wr_store_root_len(const char *root);

#endif
