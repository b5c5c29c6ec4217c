/* User namespaces: see userns.h. */
#include "userns.h"

#include "cleanup.h"
#include "container/container.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define WR_LAYER_HEX_LEN 64 /* hex digits of a layer id */

static int write_map(pid_t pid, const char *which, uint32_t base, uint32_t size, wr_error *err)
{
    char path[64], map[64];
    snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, which);
    int n = snprintf(map, sizeof map, "0 %u %u\n", base, size);
    cleanup_close int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0 || write(fd, map, (size_t)n) != n)
        return wr_error_set(err, errno, "write %s", path);
    return 0;
}

/* The helper: becomes owner (uid and gid, no supplementary groups) and
 * unshares the namespace, which the kernel then owns to that uid; reports
 * 0 or an errno on ready, then holds the namespace until hold closes. Raw
 * system calls: a raw clone3 child must not run glibc's set*id broadcast. */
static _Noreturn void helper_main(uint32_t owner, int ready, int hold)
{
    int e = 0;
    char c;
    if (syscall(SYS_setgroups, 0, NULL) < 0 || syscall(SYS_setresgid, owner, owner, owner) < 0 ||
        syscall(SYS_setresuid, owner, owner, owner) < 0 || unshare(CLONE_NEWUSER) < 0)
        e = errno;
    (void)write(ready, &e, sizeof e);
    if (e == 0)
        (void)read(hold, &c, 1);
    _exit(e ? 1 : 0);
}

int wr_userns_create(uint32_t base, uint32_t size, uint32_t owner, int *fd, wr_error *err)
{
    int ready[2], hold[2];
    *fd = -1;
    if (pipe2(ready, O_CLOEXEC) < 0)
        return wr_error_set(err, errno, "pipe");
    if (pipe2(hold, O_CLOEXEC) < 0) {
        close(ready[0]);
        close(ready[1]);
        return wr_error_set(err, errno, "pipe");
    }
    struct clone_args args = {.exit_signal = SIGCHLD};
    pid_t pid = (pid_t)syscall(SYS_clone3, &args, sizeof args);
    if (pid == 0) {
        close(ready[0]);
        close(hold[1]);
        helper_main(owner, ready[1], hold[0]);
    }
    close(ready[1]);
    close(hold[0]);
    int rc = 0, e = 0;
    if (pid < 0) {
        rc = wr_error_set(err, errno, "clone the user namespace helper");
    } else if (read(ready[0], &e, sizeof e) != (ssize_t)sizeof e || e != 0) {
        rc = wr_error_set(err, e, "create a user namespace as host uid %u", owner);
    } else {
        char path[64];
        snprintf(path, sizeof path, "/proc/%d/ns/user", (int)pid);
        if (write_map(pid, "uid_map", base, size, err) < 0 ||
            write_map(pid, "gid_map", base, size, err) < 0)
            rc = -1;
        else if ((*fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
            rc = wr_error_set(err, errno, "open %s", path);
    }
    close(ready[0]);
    close(hold[1]);
    if (pid > 0)
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
            ;
    return rc;
}

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
