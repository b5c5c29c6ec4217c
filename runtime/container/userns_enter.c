/* The container's side of --userns (see lib/userns.h): the image layers
 * idmapped into the namespace, and the namespace entered at the end of the
 * fill path. */
#include "userns_enter.h"

#include "parent_death.h"
#include "lib/cleanup.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define WR_LAYER_HEX_LEN 64 /* hex digits of a layer id */

static int idmap_one(const char *layer, const char *target, int userns_fd, wr_error *err)
{
    if (mkdir(target, 0755) < 0 && errno != EEXIST)
        return wr_error_set(err, errno, "mkdir %s", target);
    cleanup_close int tree =
        (int)syscall(SYS_open_tree, AT_FDCWD, layer, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
    if (tree < 0)
        return wr_error_set(err, errno, "open_tree %s", layer);
    struct mount_attr attr = {.attr_set = MOUNT_ATTR_IDMAP, .userns_fd = (uint64_t)userns_fd};
    if (syscall(SYS_mount_setattr, tree, "", AT_EMPTY_PATH, &attr, sizeof attr) < 0)
        return wr_error_set(err, errno, "idmap %s", layer);
    if (syscall(SYS_move_mount, tree, "", AT_FDCWD, target, MOVE_MOUNT_F_EMPTY_PATH) < 0)
        return wr_error_set(err, errno, "move_mount %s", target);
    return 0;
}

/* The <hex> of a store layer path ".../layers/sha256/<hex>/root", or NULL. */
static const char *layer_name(const char *layer)
{
    size_t len = strlen(layer);
    static const char tail[] = "/root";
    if (len < WR_LAYER_HEX_LEN + sizeof tail || strcmp(layer + len - (sizeof tail - 1), tail) != 0)
        return NULL;
    const char *hex = layer + len - (sizeof tail - 1) - WR_LAYER_HEX_LEN;
    if (hex[-1] != '/' || strspn(hex, "0123456789abcdef") != WR_LAYER_HEX_LEN)
        return NULL;
    return hex;
}

int wr_userns_idmap_layers(const char *lowerdir, const char *dir, int userns_fd, char *out,
                           size_t cap, wr_error *err)
{
    char layer[4096], target[4096];
    size_t used = 0;
    const char *p = lowerdir;
    for (int i = 0; *p; i++) {
        size_t len = strcspn(p, ":");
        if (len >= sizeof layer)
            return wr_error_set(err, ENAMETOOLONG, "layer path");
        memcpy(layer, p, len);
        layer[len] = '\0';
        p += len + (p[len] == ':');
        /* Named after the layer (".../sha256/<hex>/root" -> "<hex>"), so
         * that the store, which keeps every layer an overlay still lists,
         * recognizes this one too: its own path is gone from the mount
         * table once the idmapped copy is detached. */
        const char *name = layer_name(layer);
        int n = name ? snprintf(target, sizeof target, "%s/%.64s", dir, name)
                     : snprintf(target, sizeof target, "%s/l%d", dir, i);
        if (n < 0 || (size_t)n >= sizeof target)
            return wr_error_set(err, ENAMETOOLONG, "layer mount path");
        if (idmap_one(layer, target, userns_fd, err) < 0)
            return -1;
        n = snprintf(out + used, cap - used, "%s%s", used ? ":" : "", target);
        if (n < 0 || (size_t)n >= cap - used)
            return wr_error_set(err, E2BIG, "lowerdir");
        used += (size_t)n;
    }
    return 0;
}

int wr_userns_enter(int userns_fd, const char *hostname, int shim_sock, wr_error *err)
{
    if (setns(userns_fd, CLONE_NEWUSER) < 0)
        return wr_error_set(err, errno, "join the user namespace");
    close(userns_fd);
    /* The setns cleared PR_SET_PDEATHSIG (and so would the setres* below:
     * armed once after both). */
    if (unshare(CLONE_NEWUTS) < 0)
        return wr_error_set(err, errno, "unshare the uts namespace");
    if (sethostname(hostname, strlen(hostname)) < 0)
        return wr_error_set(err, errno, "sethostname");
    if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
        return wr_error_set(err, errno, "become root of the user namespace");
    return wr_parent_death_arm(shim_sock, err);
}
