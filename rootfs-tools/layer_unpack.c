/* Safe tar unpacking into a layer directory; see layer_unpack.h.
 *
 * Two libarchive readers are chained: the outer one only decompresses
 * (format "raw", every filter), the inner one reads tar from the outer's
 * output through a callback. The callback sees every decompressed byte, so
 * it hashes the stream (diff_id) and enforces the size bound before any of
 * it reaches the tar parser. */
#include "layer_unpack.h"

#include "name_set.h"

#include "lib/cleanup.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#define CHUNK          (128 * 1024)
#define MAX_ENTRIES    (4 * 1024 * 1024)
#define PROGRESS_EVERY (4 * 1024 * 1024)
#define WH_PREFIX      ".wh."
#define WH_OPAQUE      ".wh..wh..opq"
#define WH_META        ".wh..wh."

/* ---- the set of names seen (name_set.h) ---------------------------------- */

/* The types of the names: 'd' directory, 'f' file-like (a hardlink may name
 * it), 'w' whiteout, for the archive's entries, and a directory this layer
 * made on the way to an entry, without an entry of its own: */
#define SEEN_IMPLICIT_DIR 'i'

/* ---- the unpack state ------------------------------------------------- */

struct dir_time {
    char *path;
    struct timespec mtime;
};

struct unpack {
    const struct wr_unpack_opts *o;
    struct wr_unpack_stats *st;
    int rootfd;
    struct archive *outer;
    struct archive *inner;
    EVP_MD_CTX *md;
    uint64_t max_bytes, next_progress;
    bool too_big;
    char *buf;
    struct wr_name_set seen;
    struct dir_time *dirs;
    size_t n_dirs, cap_dirs;
    /* The last parent directory opened, reused by its siblings. */
    char *cache_path;
    int cache_fd;
};

static void cache_drop(struct unpack *u)
{
    free(u->cache_path);
    u->cache_path = NULL;
    if (u->cache_fd >= 0)
        close(u->cache_fd);
    u->cache_fd = -1;
}

static la_ssize_t inner_read(struct archive *a, void *arg, const void **out)
{
    struct unpack *u = arg;
    la_ssize_t n = archive_read_data(u->outer, u->buf, CHUNK);
    if (n < 0) {
        archive_set_error(a, EIO, "%s", archive_error_string(u->outer));
        return -1;
    }
    u->st->stream_bytes += (uint64_t)n;
    if (u->st->stream_bytes > u->max_bytes) {
        u->too_big = true;
        /* libarchive's own formatter: %ju, not %llu */
        archive_set_error(a, EFBIG, "decompresses to more than %ju bytes (--max-size)",
                          (uintmax_t)u->max_bytes);
        return -1;
    }
    if (n > 0 && !EVP_DigestUpdate(u->md, u->buf, (size_t)n)) {
        archive_set_error(a, EIO, "sha256 failed");
        return -1;
    }
    if (u->o->progress && u->st->stream_bytes >= u->next_progress) {
        u->o->progress(u->o->progress_arg, u->st->stream_bytes);
        u->next_progress = u->st->stream_bytes + PROGRESS_EVERY;
    }
    *out = u->buf;
    return n;
}

/* ---- names ------------------------------------------------------------ */

/* Normalizes an archive name into out: strips "./" and '/' runs, refuses
 * absolute names and ".." anywhere. "" is the root itself. */
static int normalize(const char *name, char *out, size_t size, wr_error *err)
{
    if (!name)
        return wr_error_set(err, EINVAL, "an entry has no name (or one not valid here)");
    if (name[0] == '/')
        return wr_error_set(err, EINVAL, "entry \"%.200s\": absolute name", name);
    size_t len = 0;
    int depth = 0;
    const char *p = name;
    while (*p) {
        while (*p == '/')
            p++;
        size_t n = strcspn(p, "/");
        if (n == 0)
            break;
        if (n == 1 && p[0] == '.') {
            p += n;
            continue;
        }
        if (n == 2 && p[0] == '.' && p[1] == '.')
            return wr_error_set(err, EINVAL, "entry \"%.200s\": \"..\" in the name", name);
        /* Bounded depth: every tree the store holds can then be walked
         * (and removed) with one descriptor per level. */
        if (++depth > WR_LAYER_MAX_DEPTH)
            return wr_error_set(err, ELOOP, "entry \"%.200s\": more than %d directory levels", name,
                                WR_LAYER_MAX_DEPTH);
        if (len + n + 2 > size)
            return wr_error_set(err, ENAMETOOLONG, "entry \"%.200s\": name too long", name);
        if (len > 0)
            out[len++] = '/';
        memcpy(out + len, p, n);
        len += n;
        p += n;
    }
    out[len] = '\0';
    return 0;
}

/* Opens the directory rel ("" = the root) beneath rootfd, one component at
 * a time with O_NOFOLLOW; with create, missing components are made (0755).
 * entry names the archive entry, for the error. */
static int open_dir(struct unpack *u, const char *rel, bool create, const char *entry,
                    wr_error *err)
{
    if (u->cache_path && strcmp(u->cache_path, rel) == 0)
        return fcntl(u->cache_fd, F_DUPFD_CLOEXEC, 0);
    int fd = fcntl(u->rootfd, F_DUPFD_CLOEXEC, 0);
    if (fd < 0)
        return wr_error_set(err, errno, "dup");
    char comp[NAME_MAX + 1];
    for (const char *p = rel; *p;) {
        size_t n = strcspn(p, "/");
        if (n > NAME_MAX) {
            close(fd);
            return wr_error_set(err, ENAMETOOLONG, "entry \"%.200s\"", entry);
        }
        memcpy(comp, p, n);
        comp[n] = '\0';
        p += n;
        while (*p == '/')
            p++;
        int next = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (next < 0 && errno == ENOENT && create) {
            if (mkdirat(fd, comp, 0755) < 0 && errno != EEXIST) {
                int e = errno;
                close(fd);
                return wr_error_set(err, e, "entry \"%.200s\": mkdir %s", entry, comp);
            }
            /* Made by this layer, though the archive never named it: an
             * opaque marker or whiteout of this layer must not take it. */
            char made[PATH_MAX];
            snprintf(made, sizeof made, "%.*s", (int)(p - rel), rel);
            while (made[0] && made[strlen(made) - 1] == '/')
                made[strlen(made) - 1] = '\0';
            if (wr_name_set_put(&u->seen, made, SEEN_IMPLICIT_DIR, err) < 0) {
                close(fd);
                return -1;
            }
            next = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        }
        if (next < 0) {
            int e = errno;
            close(fd);
            if (e == ELOOP || e == ENOTDIR)
                return wr_error_set(err, e,
                                    "entry \"%.200s\": \"%s\" on its path is a symlink or not a "
                                    "directory",
                                    entry, comp);
            return wr_error_set(err, e, "entry \"%.200s\": open %s", entry, comp);
        }
        close(fd);
        fd = next;
    }
    cache_drop(u);
    u->cache_path = strdup(rel);
    u->cache_fd = u->cache_path ? fcntl(fd, F_DUPFD_CLOEXEC, 0) : -1;
    return fd;
}

/* Splits rel into its parent directory (in parent) and last component. */
static const char *split(const char *rel, char *parent, size_t size)
{
    const char *slash = strrchr(rel, '/');
    if (!slash) {
        parent[0] = '\0';
        return rel;
    }
    snprintf(parent, size, "%.*s", (int)(slash - rel), rel);
    return slash + 1;
}

/* ---- removal (merge mode) --------------------------------------------- */

/* Merge mode: removes what an opaque directory hides, i.e. every child not
 * made by the current layer. */
static int clear_opaque(struct unpack *u, int dfd, const char *dir_rel, wr_error *err)
{
    int fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return wr_error_set(err, errno, "open %s", dir_rel);
    cleanup_closedir DIR *d = fdopendir(fd);
    if (!d) {
        close(fd);
        return wr_error_set(err, errno, "open %s", dir_rel);
    }
    struct dirent *de;
    char path[PATH_MAX];
    while ((errno = 0, de = readdir(d))) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        int n = snprintf(path, sizeof path, "%s%s%s", dir_rel, dir_rel[0] ? "/" : "", de->d_name);
        if (n < 0 || (size_t)n >= sizeof path)
            return wr_error_set(err, ENAMETOOLONG, "%s/%s", dir_rel, de->d_name);
        int seen = wr_name_set_get(&u->seen, path, err);
        if (seen < 0)
            return -1;
        if (seen)
            continue;
        cache_drop(u);
        if (wr_remove_at(dfd, de->d_name, err) < 0)
            return -1;
    }
    return 0;
}

/* ---- metadata --------------------------------------------------------- */

static bool xattr_allowed(const char *name)
{
    return strncmp(name, "user.", 5) == 0 || strcmp(name, "security.capability") == 0;
}

/* Owner, then mode (chown clears set-id bits), then xattrs (chown clears
 * security.capability), then times. fd is open on the entry itself. */
static int apply_meta(struct unpack *u, struct archive_entry *e, int fd, const char *rel,
                      wr_error *err)
{
    if (u->o->mode != WR_UNPACK_PLAIN) {
        la_int64_t uid = archive_entry_uid(e), gid = archive_entry_gid(e);
        if (uid < 0 || uid >= UINT32_MAX || gid < 0 || gid >= UINT32_MAX)
            return wr_error_set(err, EINVAL, "entry \"%.200s\": owner %lld:%lld out of range", rel,
                                (long long)uid, (long long)gid);
        if (fchown(fd, (uid_t)uid, (gid_t)gid) < 0)
            return wr_error_set(err, errno, "entry \"%.200s\": chown", rel);
    }
    mode_t mode = archive_entry_perm(e) & 07777;
    if (u->o->mode == WR_UNPACK_PLAIN)
        mode &= 0755;
    if (fchmod(fd, mode) < 0)
        return wr_error_set(err, errno, "entry \"%.200s\": chmod", rel);
    if (u->o->mode != WR_UNPACK_PLAIN) {
        const char *name;
        const void *value;
        size_t size;
        archive_entry_xattr_reset(e);
        while (archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK)
            if (name && xattr_allowed(name) && fsetxattr(fd, name, value, size, 0) < 0 &&
                errno != ENOTSUP)
                return wr_error_set(err, errno, "entry \"%.200s\": set xattr %s", rel, name);
    }
    return 0;
}

static struct timespec entry_mtime(struct archive_entry *e)
{
    struct timespec t = {.tv_sec = archive_entry_mtime(e), .tv_nsec = archive_entry_mtime_nsec(e)};
    if (!archive_entry_mtime_is_set(e)) {
        t.tv_sec = 0;
        t.tv_nsec = 0;
    }
    return t;
}

static int remember_dir_time(struct unpack *u, const char *rel, struct timespec t, wr_error *err)
{
    if (u->n_dirs == u->cap_dirs) {
        size_t cap = u->cap_dirs ? 2 * u->cap_dirs : 64;
        struct dir_time *v = realloc(u->dirs, cap * sizeof *v);
        if (!v)
            return wr_error_set(err, ENOMEM, "unpack");
        u->dirs = v;
        u->cap_dirs = cap;
    }
    if (!(u->dirs[u->n_dirs].path = strdup(rel)))
        return wr_error_set(err, ENOMEM, "unpack");
    u->dirs[u->n_dirs++].mtime = t;
    return 0;
}

/* Directory mtimes last: making their children changed them. */
static int apply_dir_times(struct unpack *u, wr_error *err)
{
    for (size_t i = u->n_dirs; i-- > 0;) {
        struct timespec ts[2] = {u->dirs[i].mtime, u->dirs[i].mtime};
        cleanup_close int fd = open_dir(u, u->dirs[i].path, false, u->dirs[i].path, err);
        if (fd < 0)
            return -1;
        if (futimens(fd, ts) < 0)
            return wr_error_set(err, errno, "entry \"%.200s\": set times", u->dirs[i].path);
    }
    return 0;
}

/* ---- entries ---------------------------------------------------------- */

static int write_data(struct unpack *u, int fd, const char *rel, wr_error *err)
{
    const void *block;
    size_t size;
    la_int64_t offset, end = 0;
    int r;
    while ((r = archive_read_data_block(u->inner, &block, &size, &offset)) == ARCHIVE_OK) {
        const char *p = block;
        off_t at = offset;
        while (size > 0) {
            ssize_t n = pwrite(fd, p, size, at);
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0)
                return wr_error_set(err, errno, "entry \"%.200s\": write", rel);
            p += n;
            at += n;
            size -= (size_t)n;
        }
        if (at > end)
            end = at;
    }
    if (r != ARCHIVE_EOF)
        return wr_error_set(err, 0, "entry \"%.200s\": %s", rel,
                            archive_error_string(u->inner) ?: "read error");
    return 0;
}

/* Makes room for a new entry at base: only merge mode replaces what a
 * lower layer left there. A directory over a directory stays (merged). */
static int make_room(struct unpack *u, int pfd, const char *base, bool is_dir, wr_error *err)
{
    struct stat st;
    if (u->o->mode != WR_UNPACK_MERGE || fstatat(pfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return 0;
    if (is_dir && S_ISDIR(st.st_mode))
        return 0;
    cache_drop(u);
    return wr_remove_at(pfd, base, err);
}

static int do_whiteout(struct unpack *u, int pfd, const char *parent, const char *base,
                       const char *rel, wr_error *err)
{
    char path[PATH_MAX];
    if (strcmp(base, WH_OPAQUE) == 0) {
        if (u->o->mode == WR_UNPACK_MERGE)
            return clear_opaque(u, pfd, parent, err);
        if (fsetxattr(pfd, "trusted.overlay.opaque", "y", 1, 0) < 0)
            return wr_error_set(err, errno, "entry \"%.200s\": mark the directory opaque", rel);
        return 0;
    }
    if (strncmp(base, WH_META, strlen(WH_META)) == 0)
        return 0; /* aufs bookkeeping (.wh..wh.plnk, ...): no meaning here */
    const char *name = base + strlen(WH_PREFIX);
    if (name[0] == '\0' || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
        return wr_error_set(err, EINVAL, "entry \"%.200s\": whiteout for \"%s\"", rel, name);
    int n = snprintf(path, sizeof path, "%s%s%s", parent, parent[0] ? "/" : "", name);
    if (n < 0 || (size_t)n >= sizeof path)
        return wr_error_set(err, ENAMETOOLONG, "entry \"%.200s\"", rel);
    int seen = wr_name_set_get(&u->seen, path, err);
    if (seen < 0)
        return -1;
    if (seen)
        return wr_error_set(err, EEXIST,
                            "entry \"%.200s\": whiteout for \"%.200s\", which the "
                            "same layer has",
                            rel, path);
    if (u->o->mode == WR_UNPACK_MERGE) {
        cache_drop(u);
        return wr_remove_at(pfd, name, err);
    }
    if (mknodat(pfd, name, S_IFCHR | 0, makedev(0, 0)) < 0)
        return wr_error_set(err, errno, "entry \"%.200s\": make the whiteout", rel);
    return wr_name_set_put(&u->seen, path, 'w', err);
}

static int do_hardlink(struct unpack *u, int pfd, const char *base, const char *rel,
                       const char *target_name, wr_error *err)
{
    char target[PATH_MAX], tparent[PATH_MAX];
    if (normalize(target_name, target, sizeof target, err) < 0)
        return wr_error_prefix(err, "entry \"%.200s\": hardlink", rel);
    int seen = wr_name_set_get(&u->seen, target, err);
    if (seen < 0)
        return -1;
    if (seen != 'f')
        return wr_error_set(err, EINVAL,
                            "entry \"%.200s\": hardlink to \"%.200s\", which is not a file of "
                            "this archive",
                            rel, target_name);
    const char *tbase = split(target, tparent, sizeof tparent);
    cleanup_close int tfd = open_dir(u, tparent, false, rel, err);
    if (tfd < 0)
        return -1;
    if (make_room(u, pfd, base, false, err) < 0)
        return -1;
    if (linkat(tfd, tbase, pfd, base, 0) < 0)
        return wr_error_set(err, errno, "entry \"%.200s\": hardlink to \"%.200s\"", rel,
                            target_name);
    return 0;
}

static int do_entry(struct unpack *u, struct archive_entry *e, wr_error *err)
{
    char rel[PATH_MAX], parent[PATH_MAX];
    const char *name = archive_entry_pathname(e);
    if (normalize(name, rel, sizeof rel, err) < 0)
        return -1;
    mode_t type = archive_entry_filetype(e);
    const char *hardlink = archive_entry_hardlink(e);

    if (rel[0] == '\0') { /* the root itself */
        if (type != AE_IFDIR || hardlink)
            return wr_error_set(err, EINVAL, "entry \"%.200s\": the root is not a directory", name);
        if (apply_meta(u, e, u->rootfd, ".", err) < 0)
            return -1;
        return remember_dir_time(u, "", entry_mtime(e), err);
    }
    int earlier = wr_name_set_get(&u->seen, rel, err);
    if (earlier < 0)
        return -1;
    if (earlier && !(earlier == SEEN_IMPLICIT_DIR && type == AE_IFDIR && !hardlink))
        return wr_error_set(err, EEXIST, "entry \"%.200s\": duplicate entry", name);

    const char *base = split(rel, parent, sizeof parent);
    cleanup_close int pfd = open_dir(u, parent, true, name, err);
    if (pfd < 0)
        return -1;

    if (u->o->mode != WR_UNPACK_PLAIN && strncmp(base, WH_PREFIX, strlen(WH_PREFIX)) == 0) {
        if (hardlink || type != AE_IFREG)
            return wr_error_set(err, EINVAL, "entry \"%.200s\": a whiteout must be a plain file",
                                name);
        if (wr_name_set_put(&u->seen, rel, 'w', err) < 0)
            return -1;
        return do_whiteout(u, pfd, parent, base, name, err);
    }

    if (hardlink) {
        if (do_hardlink(u, pfd, base, name, hardlink, err) < 0)
            return -1;
        return wr_name_set_put(&u->seen, rel, 'f', err);
    }

    struct timespec t = entry_mtime(e);
    struct timespec ts[2] = {t, t};
    switch (type) {
    case AE_IFDIR: {
        if (make_room(u, pfd, base, true, err) < 0)
            return -1;
        if (mkdirat(pfd, base, 0700) < 0 && errno != EEXIST)
            return wr_error_set(err, errno, "entry \"%.200s\": mkdir", name);
        cleanup_close int fd = openat(pfd, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
            return wr_error_set(err, errno, "entry \"%.200s\": not a directory", name);
        if (apply_meta(u, e, fd, name, err) < 0)
            return -1;
        if (wr_name_set_put(&u->seen, rel, 'd', err) < 0)
            return -1;
        return remember_dir_time(u, rel, t, err);
    }
    case AE_IFREG: {
        if (make_room(u, pfd, base, false, err) < 0)
            return -1;
        cleanup_close int fd =
            openat(pfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0)
            return wr_error_set(err, errno, "entry \"%.200s\": create", name);
        if (write_data(u, fd, name, err) < 0)
            return -1;
        la_int64_t size = archive_entry_size(e);
        if (size > 0 && ftruncate(fd, size) < 0)
            return wr_error_set(err, errno, "entry \"%.200s\": truncate", name);
        u->st->file_bytes += size > 0 ? (uint64_t)size : 0;
        if (apply_meta(u, e, fd, name, err) < 0)
            return -1;
        if (u->o->mode != WR_UNPACK_PLAIN && futimens(fd, ts) < 0)
            return wr_error_set(err, errno, "entry \"%.200s\": set times", name);
        return wr_name_set_put(&u->seen, rel, 'f', err);
    }
    case AE_IFLNK: {
        const char *target = archive_entry_symlink(e);
        if (!target || !target[0])
            return wr_error_set(err, EINVAL, "entry \"%.200s\": symlink without a target", name);
        if (make_room(u, pfd, base, false, err) < 0)
            return -1;
        if (symlinkat(target, pfd, base) < 0)
            return wr_error_set(err, errno, "entry \"%.200s\": symlink", name);
        if (u->o->mode != WR_UNPACK_PLAIN) {
            la_int64_t uid = archive_entry_uid(e), gid = archive_entry_gid(e);
            if (uid < 0 || uid >= UINT32_MAX || gid < 0 || gid >= UINT32_MAX ||
                fchownat(pfd, base, (uid_t)uid, (gid_t)gid, AT_SYMLINK_NOFOLLOW) < 0 ||
                utimensat(pfd, base, ts, AT_SYMLINK_NOFOLLOW) < 0)
                return wr_error_set(err, errno ? errno : EINVAL,
                                    "entry \"%.200s\": symlink owner or times", name);
        }
        return wr_name_set_put(&u->seen, rel, 'f', err);
    }
    case AE_IFIFO: {
        if (u->o->mode == WR_UNPACK_PLAIN)
            break;
        if (make_room(u, pfd, base, false, err) < 0)
            return -1;
        if (mknodat(pfd, base, S_IFIFO | 0600, 0) < 0)
            return wr_error_set(err, errno, "entry \"%.200s\": mkfifo", name);
        cleanup_close int fd = openat(pfd, base, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        char proc[64];
        if (fd < 0)
            return wr_error_set(err, errno, "entry \"%.200s\": open", name);
        /* fchown/fchmod do not take O_PATH descriptors; their /proc link does. */
        snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
        la_int64_t uid = archive_entry_uid(e), gid = archive_entry_gid(e);
        if (uid < 0 || uid >= UINT32_MAX || gid < 0 || gid >= UINT32_MAX ||
            chown(proc, (uid_t)uid, (gid_t)gid) < 0 ||
            chmod(proc, archive_entry_perm(e) & 07777) < 0 || utimensat(AT_FDCWD, proc, ts, 0) < 0)
            return wr_error_set(err, errno ? errno : EINVAL,
                                "entry \"%.200s\": fifo owner, mode or times", name);
        return wr_name_set_put(&u->seen, rel, 'f', err);
    }
    case AE_IFCHR:
    case AE_IFBLK:
        /* Under /dev they are dropped: the container mounts its own /dev
         * over it (debootstrap trees have them). Anywhere else they would
         * be a way to the host's devices. */
        if (strncmp(rel, "dev/", 4) == 0 && u->o->mode != WR_UNPACK_PLAIN)
            return 0;
        return wr_error_set(err, EPERM,
                            "entry \"%.200s\": device nodes are not allowed in images (outside "
                            "/dev, where they are dropped)",
                            name);
    default:
        break;
    }
    return wr_error_set(err, EINVAL, "entry \"%.200s\": unsupported file type 0%o", name,
                        (unsigned)type);
}

/* ---- the stream ------------------------------------------------------- */

/* where: "after entry \"x\"", "before the first entry", ... */
static int inner_error(struct unpack *u, const char *entry, const char *where, wr_error *err)
{
    const char *msg = archive_error_string(u->inner);
    if (!msg)
        msg = "read error";
    if (entry)
        return wr_error_set(err, u->too_big ? EFBIG : 0, "after entry \"%.200s\": %s", entry, msg);
    return wr_error_set(err, u->too_big ? EFBIG : 0, "%s: %s", where, msg);
}

static int unpack_stream(struct unpack *u, wr_error *err)
{
    struct archive_entry *e;
    cleanup_free char *last = NULL;
    int r;
    for (;;) {
        r = archive_read_next_header(u->inner, &e);
        if (r == ARCHIVE_EOF)
            break;
        if (r == ARCHIVE_WARN && archive_entry_pathname(e) == NULL)
            r = ARCHIVE_FATAL;
        if (r < ARCHIVE_WARN)
            return inner_error(u, last, "before the first entry", err);
        if (++u->st->entries > MAX_ENTRIES)
            return wr_error_set(err, EFBIG, "more than %d entries", MAX_ENTRIES);
        free(last);
        last = archive_entry_pathname(e) ? strdup(archive_entry_pathname(e)) : NULL;
        if (do_entry(u, e, err) < 0)
            return -1;
        /* A data error past the entry's header shows here or at the next
         * header; libarchive skips unread data itself. */
    }
    /* A tar of only its end-of-archive blocks is a valid, empty layer:
     * `docker build` writes one for each metadata-only step, and Docker
     * loads it. Only a stream with no bytes at all is not a tar. */
    if (u->st->entries == 0 && u->st->stream_bytes == 0)
        return wr_error_set(err, EINVAL, "the archive is empty (not a tar archive?)");
    /* Hash what follows the tar end marker too: the digest is over the
     * whole decompressed stream. */
    const void *p;
    for (;;) {
        la_ssize_t n = inner_read(u->inner, u, &p);
        if (n < 0)
            return inner_error(u, NULL, "after the end of the tar", err);
        if (n == 0)
            break;
    }
    return apply_dir_times(u, err);
}

int wr_unpack_fd(int fd, int rootfd, const struct wr_unpack_opts *o, struct wr_unpack_stats *st,
                 wr_error *err)
{
    struct unpack u = {.o = o, .st = st, .rootfd = rootfd, .cache_fd = -1};
    memset(st, 0, sizeof *st);
    u.max_bytes = o->max_bytes ? o->max_bytes : WR_UNPACK_DEFAULT_MAX_BYTES;
    u.next_progress = PROGRESS_EVERY;
    int ret = -1;
    u.buf = malloc(CHUNK);
    u.md = EVP_MD_CTX_new();
    u.outer = archive_read_new();
    u.inner = archive_read_new();
    if (wr_name_set_init(&u.seen, NULL, err) < 0)
        goto out;
    if (!u.buf || !u.md || !u.outer || !u.inner || !EVP_DigestInit_ex(u.md, EVP_sha256(), NULL)) {
        wr_error_set(err, ENOMEM, "unpack");
        goto out;
    }
    struct archive_entry *raw;
    if (archive_read_support_filter_all(u.outer) < ARCHIVE_WARN ||
        archive_read_support_format_raw(u.outer) != ARCHIVE_OK ||
        archive_read_support_format_tar(u.inner) != ARCHIVE_OK ||
        archive_read_open_fd(u.outer, fd, CHUNK) != ARCHIVE_OK ||
        archive_read_next_header(u.outer, &raw) != ARCHIVE_OK) {
        wr_error_set(err, 0, "%s", archive_error_string(u.outer) ?: "cannot read the archive");
        goto out;
    }
    if (archive_read_open(u.inner, &u, NULL, inner_read, NULL) != ARCHIVE_OK) {
        inner_error(&u, NULL, "at the start", err);
        goto out;
    }
    ret = unpack_stream(&u, err);
    if (ret == 0) {
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned int len = 0;
        if (!EVP_DigestFinal_ex(u.md, md, &len) || len != 32) {
            ret = wr_error_set(err, EIO, "sha256 failed");
            goto out;
        }
        memcpy(st->diff_id, "sha256:", 7);
        for (unsigned int i = 0; i < len; i++)
            snprintf(st->diff_id + 7 + 2 * i, 3, "%02x", md[i]);
        if (o->progress)
            o->progress(o->progress_arg, st->stream_bytes);
    }
out:
    if (u.inner)
        archive_read_free(u.inner);
    if (u.outer)
        archive_read_free(u.outer);
    EVP_MD_CTX_free(u.md);
    free(u.buf);
    wr_name_set_free(&u.seen);
    for (size_t i = 0; i < u.n_dirs; i++)
        free(u.dirs[i].path);
    free(u.dirs);
    cache_drop(&u);
    return ret;
}
