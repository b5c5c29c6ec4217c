/* A small mount tree for the containers' pid 1 to copy: the template mount
 * namespace the shim server makes once (per server, so every
 * WR_SHIM_SERVER_FORKS_MAX fills), which its forked shims give their
 * containers (docs/security.md, "The mount template"). */
#ifndef WARMRUN_SHIM_MNT_TEMPLATE_H
#define WARMRUN_SHIM_MNT_TEMPLATE_H

#include "lib/error.h"

#include <linux/limits.h>
#include <stdbool.h>

/* A template: its namespace (an nsfs descriptor) and an O_PATH descriptor
 * of its root directory, both close-on-exec; -1 and -1 when there is none. */
struct shim_mnt_template {
    int ns_fd;
    int root_fd;
};

/* The forked shim's template: at SHIM_MNT_TEMPLATE_FD and
 * SHIM_MNT_TEMPLATE_ROOT_FD when its server had one (shim_server.c sets
 * it before shim_main); -1 in a spawned shim (a cold start by the CLI, a
 * daemon without a server), which keeps the full copy. */
extern struct shim_mnt_template shim_mnt_template;

/* Makes a template mount namespace holding only what a container's pid 1
 * reaches before its pivot_root: a read-only tmpfs as "/" (64 KiB), and on
 * it, at their host paths, a bind of /proc (not its submounts), a
 * recursive bind of the image store (store) and a bind of the staging
 * directory (staging, <state>/mnt), both canonical paths
 * (shim_mnt_paths.h); every mount private. Built in a forked
 * child (unshare(CLONE_NEWNS), the binds, pivot_root, the old root
 * detached) that sends back the namespace and its root, so the caller
 * enters no namespace. A source that is missing (no store yet) fails it
 * (ENOENT): the server then has none, the daemon hands none on, and the
 * next server tries again. A path that cannot be made (below another
 * bind) is left out: the per-fill check (shim_mnt_template_fits) then
 * sends the fills that need it to the full copy. Returns 0 with *t
 * filled, or -1 (err) with *t at -1. */
int shim_mnt_template_build(const char *store, const char *staging, struct shim_mnt_template *t,
                            wr_error *err);

/* The shim server's template, on SHIM_MNT_TEMPLATE_FD and
 * SHIM_MNT_TEMPLATE_ROOT_FD (close-on-exec), where the daemon takes it
 * from for the next servers (daemon/daemon_mnt_template.h): with given,
 * the one the daemon put there (a mount namespace on the first, checked);
 * else, or when that is not one, a new one (shim_mnt_template_build),
 * the root placed last. Returns 0 with *t filled, or -1 (err) with *t at
 * -1 and neither number open. */
int shim_mnt_template_server_init(bool given, const char *store, const char *state_dir,
                                  struct shim_mnt_template *t, wr_error *err);

/* The paths a fill's pid 1 uses in its copy of the template: the fill's
 * lowerdir and staging directory with the store and the staging
 * directory rewritten to the canonical paths the template binds them at
 * (shim_mnt_paths_map). 4096: the overlay's options fit in a page
 * (container/rootfs.c). */
struct shim_mnt_template_paths {
    char lowerdir[4096];
    char staging[PATH_MAX];
};

/* Whether a container of this fill may copy the template instead of the
 * shim's whole mount namespace: /proc, staging and every lowerdir entry,
 * each resolved in the shim's namespace as given, and rewritten to its
 * canonical path (out) and resolved there in the template (inside its
 * root), are the same inode of the same device with the same mount flags
 * (statfs f_flags). A host mount made or changed since the template was
 * built on one of those paths (the store or a layer mounted, remounted,
 * moved; a symbolic link on the way to the store swapped) makes it false,
 * never a container on other files. false too for a lowerdir with an
 * escaped character or a relative path, paths longer than out holds, and
 * without a template. When true, pid 1 must use out's paths (the given
 * ones may not exist in the template). A few system calls per path:
 * microseconds. */
bool shim_mnt_template_fits(const struct shim_mnt_template *t, const char *lowerdir,
                            const char *staging, struct shim_mnt_template_paths *out);

/* Closes the template's descriptors (the shim, once its container is
 * cloned). */
void shim_mnt_template_close(struct shim_mnt_template *t);

#endif
