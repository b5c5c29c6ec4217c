/* Depth-first removal of a cgroup's child cgroups (see cgroup_tree.h).
 * A cgroup directory holds the kernel's files, which rmdir(2) ignores, and
 * its child cgroups: directories, nothing else. */
#include "cgroup_tree.h"

#include "cgroup_file.h"
#include "cleanup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Appends the name of one child directory of path to it ("path/name");
 * false if it has none (or it cannot be read, or the result would not fit). */
static bool first_child(char *path, size_t cap)
{
    cleanup_close int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return false;
    DIR *d = fdopendir(fd);
    if (!d)
        return false;
    fd = -1; /* the DIR owns it now */
    bool found = false;
    size_t len = strlen(path);
    for (struct dirent *de; !found && (de = readdir(d));) {
        if (de->d_type != DT_DIR || strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        int n = snprintf(path + len, cap - len, "/%s", de->d_name);
        found = n > 0 && (size_t)n < cap - len;
        if (!found)
            path[len] = '\0';
    }
    closedir(d);
    return found;
}

/* Removes the child cgroups of top, deepest first: from a directory with
 * no child left, rmdir and back up to its parent. */
static void remove_children(const char *top)
{
    char path[WR_CG_PATH_MAX];
    size_t top_len = strlen(top);
    if (top_len >= sizeof path)
        return;
    memcpy(path, top, top_len + 1);
    for (int budget = WR_CG_TREE_MAX; budget > 0;) {
        if (first_child(path, sizeof path))
            continue; /* descend */
        if (strlen(path) == top_len)
            return; /* back at the top: no child left */
        budget--;
        if (rmdir(path) < 0 && errno != ENOENT)
            return; /* a task still inside: the caller retries */
        *strrchr(path, '/') = '\0';
    }
}

int wr_cgroup_rmdir_tree(const char *path)
{
    if (rmdir(path) == 0)
        return 0;
    if (errno != EBUSY)
        return -1;
    remove_children(path);
    return rmdir(path);
}
