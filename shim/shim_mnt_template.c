/* See shim_mnt_template.h. Why: a container's pid 1 was cloned with
 * CLONE_NEWNS from the shim, so the kernel copied the host's whole mount
 * tree for it (copy_tree, a clone_mnt per mount), which pid 1 then walked
 * again (MS_REC|MS_PRIVATE) and detached after its pivot_root (umount_tree
 * of every copy): three walks of every host mount per fill, and hosts run
 * hundreds to thousands (docs/benchmarks.md, "A small mount tree to copy").
 * Copying this template instead costs the same few mounts on any host. */
#include "shim_mnt_template.h"
#include "shim_mnt_paths.h"

#include "lib/cleanup.h"
#include "lib/fdpass.h"
#include "lib/openat2.h"
#include "lib/shim_msg.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/limits.h>
#include <linux/mount.h>
#include <linux/openat2.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

struct shim_mnt_template shim_mnt_template = {.ns_fd = -1, .root_fd = -1};

#ifndef NS_GET_NSTYPE
#define NS_GET_NSTYPE _IO(0xb7, 0x3)
#endif

/* The template's "/": only directories leading to the binds; read-only
 * once they are made. */
#define ROOT_TMPFS_OPTS "size=64k,nr_inodes=256,mode=0755"

/* The directories of path (absolute) made on the tmpfs below root_fd, one
 * component at a time, never following a symlink nor leaving that tmpfs
 * (a path below another bind, e.g. the staging directory inside the
 * store, is not made: the host's directory would be). Returns an O_PATH
 * descriptor of the last one, or -1 with errno. */
static int make_path(int root_fd, const char *path)
{
    char buf[PATH_MAX];
    if (path[0] != '/' || snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf) {
        errno = EINVAL;
        return -1;
    }
    int dir = fcntl(root_fd, F_DUPFD_CLOEXEC, 0);
    char *save = NULL;
    for (char *c = strtok_r(buf, "/", &save); dir >= 0 && c; c = strtok_r(NULL, "/", &save)) {
        if (strcmp(c, ".") == 0 || strcmp(c, "..") == 0) {
            close(dir);
            errno = EINVAL;
            return -1;
        }
        if (mkdirat(dir, c, 0755) < 0 && errno != EEXIST) {
            close(dir);
            return -1;
        }
        struct open_how how = {.flags = O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC,
                               .resolve = RESOLVE_BENEATH | RESOLVE_NO_XDEV | RESOLVE_NO_SYMLINKS |
                                          RESOLVE_NO_MAGICLINKS};
        int next = wr_openat2(dir, c, &how);
        close(dir);
        dir = next;
    }
    return dir;
}

static _Noreturn void child_report(int sock, int errnum)
{
    (void)send(sock, &errnum, sizeof errnum, MSG_NOSIGNAL);
    _exit(1);
}

/* The builder, in its own mount namespace (a full copy, once per
 * template): the trees cloned from the host's, a tmpfs root holding them,
 * pivot_root, the copy detached. Sends {0, namespace, root} or {errno}. */
static _Noreturn void build_child(int sock, const char *store, const char *staging)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
        child_report(sock, errno);
    int ns = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);
    if (ns < 0)
        child_report(sock, errno);
    /* /proc alone: pid 1 reaches it by /proc/self/fd (mount targets,
     * /dev), not what is mounted below it (binfmt_misc, ...). The store
     * with its submounts (a layer may be a mount of its own). */
    const struct {
        const char *path;
        unsigned flags;
    } binds[] = {{"/proc", 0}, {store, AT_RECURSIVE}, {staging, 0}};
    int trees[3];
    /* A source missing (a daemon started before its first image made the
     * store) is no template: one without the store would send every fill
     * to the full copy, and be handed to the next servers; without one the
     * next server tries again. */
    for (size_t i = 0; i < 3; i++)
        if ((trees[i] = (int)syscall(SYS_open_tree, AT_FDCWD, binds[i].path,
                                     OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | binds[i].flags)) < 0)
            child_report(sock, errno);
    /* The new root over the staging directory, in this copy only (its
     * clone above is the one that counts). */
    if (mount("tmpfs", staging, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, ROOT_TMPFS_OPTS) < 0)
        child_report(sock, errno);
    int root = open(staging, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (root < 0)
        child_report(sock, errno);
    for (size_t i = 0; i < 3; i++) {
        /* A path below another bind is not made (make_path): left out, the
         * fills reach it through that bind or are not sent here. */
        int at = make_path(root, binds[i].path);
        if (at >= 0)
            (void)syscall(SYS_move_mount, trees[i], "", at, "",
                          MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH);
        if (at >= 0)
            close(at);
        close(trees[i]);
    }
    if (fchdir(root) < 0 || syscall(SYS_pivot_root, ".", ".") < 0 || umount2(".", MNT_DETACH) < 0 ||
        chdir("/") < 0 ||
        mount(NULL, "/", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
              NULL) < 0)
        child_report(sock, errno);
    int fds[2] = {ns, open("/", O_PATH | O_DIRECTORY | O_CLOEXEC)};
    if (fds[1] < 0)
        child_report(sock, errno);
    int ok = 0;
    wr_error ignored;
    _exit(wr_send_fds(sock, &ok, sizeof ok, fds, 2, &ignored) < 0 ? 1 : 0);
}

int shim_mnt_template_build(const char *store, const char *staging, struct shim_mnt_template *t,
                            wr_error *err)
{
    t->ns_fd = t->root_fd = -1;
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
        return wr_error_set(err, errno, "socketpair");
    cleanup_close int ours = sv[0];
    pid_t pid = fork();
    if (pid == 0) {
        close(ours);
        build_child(sv[1], store, staging);
    }
    close(sv[1]);
    if (pid < 0)
        return wr_error_set(err, errno, "fork");
    int fds[2] = {-1, -1}, errnum = 0;
    size_t nfds = 2;
    ssize_t n = wr_recv_fds(ours, &errnum, sizeof errnum, fds, &nfds, err);
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (n == (ssize_t)sizeof errnum && errnum == 0 && nfds == 2) {
        t->ns_fd = fds[0];
        t->root_fd = fds[1];
        return 0;
    }
    for (size_t i = 0; i < nfds && i < 2; i++)
        close(fds[i]);
    if (n < 0)
        return -1;
    return wr_error_set(err, n == (ssize_t)sizeof errnum ? errnum : EPROTO,
                        "build the mount template (/proc, store %s, staging %s)", store, staging);
}

int shim_mnt_template_server_init(bool given, const char *store, const char *state_dir,
                                  struct shim_mnt_template *t, wr_error *err)
{
    /* Also for a given template: the fills' paths are rewritten to the
     * canonical ones its maker bound (a path changed since resolves
     * differently, and the per-fill check then sends the fill to the full
     * copy). */
    shim_mnt_paths_resolve(store, state_dir);
    if (given && ioctl(SHIM_MNT_TEMPLATE_FD, NS_GET_NSTYPE) == CLONE_NEWNS &&
        fcntl(SHIM_MNT_TEMPLATE_ROOT_FD, F_SETFD, FD_CLOEXEC) == 0 &&
        fcntl(SHIM_MNT_TEMPLATE_FD, F_SETFD, FD_CLOEXEC) == 0) {
        t->ns_fd = SHIM_MNT_TEMPLATE_FD;
        t->root_fd = SHIM_MNT_TEMPLATE_ROOT_FD;
        return 0;
    }
    close(SHIM_MNT_TEMPLATE_FD);
    close(SHIM_MNT_TEMPLATE_ROOT_FD);
    struct shim_mnt_template made;
    if (shim_mnt_template_build(shim_mnt_paths_store(), shim_mnt_paths_staging(), &made, err) < 0) {
        t->ns_fd = t->root_fd = -1;
        return -1;
    }
    int ns = dup3(made.ns_fd, SHIM_MNT_TEMPLATE_FD, O_CLOEXEC);
    int root = ns < 0 ? -1 : dup3(made.root_fd, SHIM_MNT_TEMPLATE_ROOT_FD, O_CLOEXEC);
    int e = errno;
    shim_mnt_template_close(&made);
    if (root < 0) {
        if (ns >= 0)
            close(ns);
        t->ns_fd = t->root_fd = -1;
        return wr_error_set(err, e, "place the mount template");
    }
    t->ns_fd = ns;
    t->root_fd = root;
    return 0;
}

/* there (absolute), resolved in the template (inside its root, as pid 1
 * will), names the same inode on the same device, on a mount of the same
 * flags, as path (absolute) in our own namespace (as a full copy would
 * have it). */
static bool same_place(int root_fd, const char *path, const char *there_path)
{
    if (path[0] != '/' || there_path[0] != '/')
        return false;
    struct open_how how = {.flags = O_PATH | O_CLOEXEC,
                           .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
    cleanup_close int host = open(path, O_PATH | O_CLOEXEC);
    cleanup_close int there = wr_openat2(root_fd, there_path, &how);
    struct stat a, b;
    struct statfs fa, fb;
    return host >= 0 && there >= 0 && fstat(host, &a) == 0 && fstat(there, &b) == 0 &&
           a.st_dev == b.st_dev && a.st_ino == b.st_ino && fstatfs(host, &fa) == 0 &&
           fstatfs(there, &fb) == 0 && fa.f_flags == fb.f_flags;
}

bool shim_mnt_template_fits(const struct shim_mnt_template *t, const char *lowerdir,
                            const char *staging, struct shim_mnt_template_paths *out)
{
    if (t->ns_fd < 0 || t->root_fd < 0 || strchr(lowerdir, '\\'))
        return false;
    if (!same_place(t->root_fd, "/proc", "/proc") ||
        shim_mnt_paths_map(staging, strlen(staging), out->staging, sizeof out->staging) < 0 ||
        !same_place(t->root_fd, staging, out->staging))
        return false;
    char path[PATH_MAX];
    size_t pos = 0;
    for (const char *p = lowerdir;;) {
        const char *end = strchrnul(p, ':');
        size_t len = (size_t)(end - p);
        if (len == 0 || len >= sizeof path)
            return false;
        memcpy(path, p, len);
        path[len] = '\0';
        char *mapped = out->lowerdir + pos;
        int n = shim_mnt_paths_map(path, len, mapped, sizeof out->lowerdir - pos);
        if (n < 0 || !same_place(t->root_fd, path, mapped))
            return false;
        pos += (size_t)n;
        if (!*end)
            return true;
        if (pos + 1 >= sizeof out->lowerdir)
            return false;
        out->lowerdir[pos++] = ':';
        p = end + 1;
    }
}

void shim_mnt_template_close(struct shim_mnt_template *t)
{
    if (t->ns_fd >= 0)
        close(t->ns_fd);
    if (t->root_fd >= 0)
        close(t->root_fd);
    t->ns_fd = t->root_fd = -1;
}
