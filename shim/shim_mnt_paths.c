/* See shim_mnt_paths.h. Why: the template used to bind the store at its
 * given path, and a given path with ".." or "." was left out of it (its
 * tmpfs refuses such components), so every fill of such a daemon fell
 * back to the full copy of the host's mount tree, silently. */
#include "shim_mnt_paths.h"

#include "lib/image_store.h"

#include <linux/limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The store (0) and the staging directory (1): as the daemon gives them,
 * without trailing slashes (the store's lowerdir entries have none:
 * wr_store_root_len), and canonical. */
static struct {
    char given[PATH_MAX];
    size_t given_len;
    char canonical[PATH_MAX];
} paths[2];

static void resolve(size_t i, const char *given)
{
    size_t n = strlen(given);
    while (n > 1 && given[n - 1] == '/')
        n--;
    if (n >= sizeof paths[i].given)
        n = 0;
    memcpy(paths[i].given, given, n);
    paths[i].given[n] = '\0';
    paths[i].given_len = n;
    /* Kept only if an overlayfs lowerdir/upperdir/workdir option can carry
     * it: the store root's own check (lib/image_store.c), for both paths. */
    char canonical[PATH_MAX];
    wr_error ignored;
    const char *use =
        realpath(paths[i].given, canonical) && wr_store_root_valid(canonical, &ignored) == 0
            ? canonical
            : paths[i].given;
    snprintf(paths[i].canonical, sizeof paths[i].canonical, "%s", use);
}

void shim_mnt_paths_resolve(const char *store, const char *state_dir)
{
    char staging[PATH_MAX];
    /* As shim_create.c builds it, so that the strings compare. */
    if (snprintf(staging, sizeof staging, "%s/mnt", state_dir) >= (int)sizeof staging)
        staging[0] = '\0';
    resolve(0, store);
    resolve(1, staging);
}

const char *shim_mnt_paths_store(void)
{
    return paths[0].canonical;
}

const char *shim_mnt_paths_staging(void)
{
    return paths[1].canonical;
}

int shim_mnt_paths_map(const char *path, size_t len, char *out, size_t cap)
{
    const char *head = "";
    size_t skip = 0;
    /* The longer match first: the staging directory may be inside the
     * store. */
    size_t order[2] = {paths[0].given_len >= paths[1].given_len ? 0u : 1u,
                       paths[0].given_len >= paths[1].given_len ? 1u : 0u};
    for (size_t k = 0; k < 2; k++) {
        size_t i = order[k], g = paths[i].given_len;
        if (g > 0 && len >= g && memcmp(path, paths[i].given, g) == 0 &&
            (len == g || path[g] == '/')) {
            head = paths[i].canonical;
            skip = g;
            break;
        }
    }
    int n = snprintf(out, cap, "%s%.*s", head, (int)(len - skip), path + skip);
    return n < 0 || (size_t)n >= cap ? -1 : n;
}
