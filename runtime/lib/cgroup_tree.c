/* Depth-first removal of a cgroup's child cgroups (see cgroup_tree.h).
 * A cgroup directory holds the kernel's files, which rmdir(2) ignores, and
 * its child cgroups: directories, nothing else. */
#include "cgroup_tree.h"

#include "cleanup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int open_dir_at(int dir, const char *name)
{
    return openat(dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

/* The name of one child directory of dir in name (NAME_MAX + 1 bytes);
 * false if it has none (or it cannot be read). */
static bool first_child(int dir, char *name)
{
    int fd = open_dir_at(dir, ".");
    if (fd < 0)
        return false;
    DIR *d = fdopendir(fd);
    if (!d) {
        close(fd);
        return false;
    }
    bool found = false;
    for (struct dirent *de; !found && (de = readdir(d));) {
        if (de->d_type != DT_DIR || strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        memcpy(name, de->d_name, strlen(de->d_name) + 1);
        found = true;
    }
    closedir(d);
    return found;
}

/* Removes the child cgroups of directory top, deepest first: from a
 * directory with no child left, back up to its parent by "..", and rmdir
 * it there by name. By file descriptor, not by path: a tenant's tree may
 * be deeper than any path buffer (each name up to NAME_MAX, no depth
 * limit on v1). ".." cannot lead above top: a cgroup directory is renamed
 * only within its parent (cgroup1_rename), and the walk goes up no more
 * often than it went down. The names of the directories between top and
 * the current one are kept on the heap, at most WR_CG_TREE_MAX deep. */
static void remove_children(int top)
{
    char name[NAME_MAX + 1];
    cleanup_free char(*stack)[NAME_MAX + 1] = NULL;
    size_t depth = 0, cap = 0;
    int fd = open_dir_at(top, ".");
    for (int budget = WR_CG_TREE_MAX; fd >= 0 && budget > 0;) {
        if (first_child(fd, name)) {
            if (depth == WR_CG_TREE_MAX)
                break;
            if (depth == cap) {
                size_t more = cap ? 2 * cap : 16;
                void *grown = realloc(stack, more * sizeof *stack);
                if (!grown)
                    break;
                stack = grown;
                cap = more;
            }
            int child = open_dir_at(fd, name);
            if (child < 0)
                break;
            memcpy(stack[depth++], name, sizeof name);
            close(fd);
            fd = child;
            continue; /* descend */
        }
        if (depth == 0)
            break; /* back at the top: no child left */
        int parent = open_dir_at(fd, "..");
        close(fd);
        fd = parent;
        if (fd < 0)
            break;
        budget--;
        if (unlinkat(fd, stack[--depth], AT_REMOVEDIR) < 0 && errno != ENOENT)
            break; /* a task still inside: the caller retries */
    }
    if (fd >= 0)
        close(fd);
}

int wr_cgroup_rmdir_tree(const char *path)
{
    if (rmdir(path) == 0)
        return 0;
    if (errno != EBUSY)
        return -1;
    {
        cleanup_close int top = open_dir_at(AT_FDCWD, path);
        if (top >= 0)
            remove_children(top);
    }
    return rmdir(path);
}
