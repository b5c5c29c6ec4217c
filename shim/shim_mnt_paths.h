/* The host paths the mount template binds (shim_mnt_template.h), in their
 * canonical form: the daemon's --root and <--state-dir>/mnt may be given
 * through "..", ".", a symbolic link or a trailing slash, which the
 * template's tmpfs cannot hold (its directories are made one component
 * at a time, never through a link). Resolved once, at the shim server's
 * start; its forked shims inherit them and rewrite each fill's paths to
 * them (docs/security.md, "The mount template"). */
#ifndef WARMRUN_SHIM_MNT_PATHS_H
#define WARMRUN_SHIM_MNT_PATHS_H

#include <stddef.h>

/* Resolves store (the daemon's --root, absolute) and state_dir/mnt (the
 * staging directory, built as shim_create.c builds it) with realpath(3):
 * a few lstat/readlink calls per component, once per server. A path that
 * does not resolve (no store yet), or whose canonical form holds a
 * character the overlay's mount options cannot carry (',' ':' '\\',
 * whitespace, control characters), keeps its given form. */
void shim_mnt_paths_resolve(const char *store, const char *state_dir);

/* The canonical store and staging directory (the given ones before
 * shim_mnt_paths_resolve, or when they did not resolve): where the
 * template binds them. */
const char *shim_mnt_paths_store(void);
const char *shim_mnt_paths_staging(void);

/* The len bytes at path (an absolute path, not NUL-terminated), with the
 * given store or staging directory it starts with (the whole path, or a
 * prefix followed by '/') replaced by its canonical form, written to out
 * (cap bytes, NUL-terminated); any other path is copied as it is. Only
 * strings: what the result names is for the caller to check (the
 * template's per-fill check compares it, resolved in the template, with
 * path resolved on the host). Returns the length written, or -1 when it
 * does not fit in cap. */
int shim_mnt_paths_map(const char *path, size_t len, char *out, size_t cap);

#endif
