/* Pools stored in the image store and restored at start-up; a pool rolls
 * over when its tag is imported again (see daemon_persist.h). */
#include "daemon_persist.h"

#include "daemon_log.h"
#include "daemon_network.h"
#include "daemon_pool.h"
#include "lib/cleanup.h"
#include "lib/image_store.h"
#include "lib/shim_client.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define RECORD_SUFFIX ".json"

static int count_setting(const char *key, const char *value, void *ctx)
{
    (void)key;
    (void)value;
    ++*(int *)ctx;
    return 0;
}

/* Did a pool create give any setting (else, on an existing pool, it is a
 * resize)? */
static bool pool_settings_given(const struct wr_request *req)
{
    int n = 0;
    (void)wr_resources_each(&req->resources, count_setting, &n);
    return req->security || req->tmpfs_size || n > 0 || req->volumes.n > 0 || req->network ||
           req->publish.n > 0;
}

/* <root>/pools/<owner>: FNV-1a (64 bits) of the state directory's
 * canonical path, which `owner` receives too. */
static int owner_dir(struct daemon *d, char *out, size_t cap, char *owner, size_t owner_cap,
                     wr_error *err)
{
    char canon[PATH_MAX];
    if (!realpath(d->g->state_dir, canon))
        return wr_error_set(err, errno, "realpath %s", d->g->state_dir);
    uint64_t h = 0xcbf29ce484222325ULL;
    for (const char *c = canon; *c; c++)
        h = (h ^ (unsigned char)*c) * 0x100000001b3ULL;
    int n =
        snprintf(out, cap, "%.*s/pools/%016" PRIx64, wr_store_root_len(d->g->root), d->g->root, h);
    if (n < 0 || (size_t)n >= cap)
        return wr_error_set(err, ENAMETOOLONG, "store root %s", d->g->root);
    snprintf(owner, owner_cap, "%s", canon);
    return 0;
}

/* "library/busybox:1" <-> "library%busybox:1.json": '%' is in neither a
 * name nor a tag (image_store.h), so the mapping is one to one. */
static int record_name(const char *image, char *out, size_t cap)
{
    int n = snprintf(out, cap, "%s" RECORD_SUFFIX, image);
    if (n < 0 || (size_t)n >= cap)
        return -1;
    for (char *c = out; *c; c++)
        if (*c == '/')
            *c = '%';
    return 0;
}

static int write_file(int dirfd, const char *name, const char *text, size_t len, wr_error *err)
{
    char tmp[NAME_MAX + 1];
    snprintf(tmp, sizeof tmp, ".%.200s.tmp", name);
    cleanup_close int fd =
        openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return wr_error_set(err, errno, "create %s", tmp);
    if (write(fd, text, len) != (ssize_t)len || fsync(fd) < 0) {
        int saved = errno;
        unlinkat(dirfd, tmp, 0);
        return wr_error_set(err, saved, "write %s", tmp);
    }
    if (renameat(dirfd, tmp, dirfd, name) < 0) {
        int saved = errno;
        unlinkat(dirfd, tmp, 0);
        return wr_error_set(err, saved, "rename %s", tmp);
    }
    return fsync(dirfd) < 0 ? wr_error_set(err, errno, "fsync pools directory") : 0;
}

static int make_private_dir(const char *path, wr_error *err)
{
    if (mkdir(path, 0700) < 0 && errno != EEXIST)
        return wr_error_set(err, errno, "mkdir %s", path);
    return 0;
}

/* Opens the owner directory (made if missing, with its state_dir file). */
static int open_owner_dir(struct daemon *d, bool create, wr_error *err)
{
    char dir[PATH_MAX], owner[PATH_MAX], parent[PATH_MAX];
    if (owner_dir(d, dir, sizeof dir, owner, sizeof owner, err) < 0)
        return -1;
    if (create) {
        snprintf(parent, sizeof parent, "%s", dir);
        *strrchr(parent, '/') = '\0';
        if (make_private_dir(parent, err) < 0 || make_private_dir(dir, err) < 0)
            return -1;
    }
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return wr_error_set(err, errno, "open %s", dir);
    if (create) {
        size_t len = strlen(owner);
        owner[len] = '\n';
        if (write_file(fd, "state_dir", owner, len + 1, err) < 0) {
            close(fd);
            return -1;
        }
    }
    return fd;
}

static int store_record(struct daemon *d, const struct pool *p, wr_error *err)
{
    char name[NAME_MAX + 1];
    if (record_name(p->image, name, sizeof name) < 0)
        return wr_error_set(err, ENAMETOOLONG, "pool %s: record name", p->image);
    cleanup_close int dirfd = open_owner_dir(d, true, err);
    if (dirfd < 0)
        return -1;
    return write_file(dirfd, name, p->request, strlen(p->request), err);
}

/* The request that gives the pool's settings, now: the given one (image
 * normalized), or for a resize the kept one with the new size. */
static char *settings_request(const struct wr_request *req, const struct pool *p, bool resize,
                              wr_error *err)
{
    size_t len;
    if (resize && p->request) {
        struct wr_request kept;
        if (wr_request_parse(p->request, strlen(p->request), &kept, err) < 0)
            return NULL;
        kept.size = req->size;
        kept.autoscale = req->autoscale; /* a resize sets how it is sized too */
        char *text = wr_request_encode(&kept, &len, err);
        wr_request_free(&kept);
        return text;
    }
    struct wr_request q = *req;
    q.image = (char *)p->image;
    return wr_request_encode(&q, &len, err);
}

int daemon_pool_apply(struct daemon *d, const struct wr_request *req, bool store, wr_error *err)
{
    bool settings = pool_settings_given(req);
    bool resize = !settings && daemon_find_pool(d, req->image);
    /* The ports and the network first (the network made where missing:
     * after a reboot, a restored pool's too): a bad one leaves the pool as
     * it was. */
    struct pool *p = daemon_find_pool(d, req->image);
    if (settings && daemon_ports_check(d, p ? p->image : req->image, req->network, &req->publish,
                                       store, err) < 0)
        return -1;
    if (daemon_network_ensure(d->g->state_dir, req->network, err) < 0 ||
        daemon_pool_create(d, req->image, req->size, settings,
                           req->tmpfs_size ? req->tmpfs_size : WR_DEFAULT_TMPFS_BYTES,
                           req->security, &req->resources, &req->volumes, req->network, err) < 0)
        return -1;
    p = daemon_find_pool(d, req->image);
    if (settings && daemon_ports_pool_set(d, p, &req->publish))
        daemon_pool_settings_changed(d, p);
    daemon_pool_set_autoscale(p, &req->autoscale);
    wr_error werr;
    char *text = settings_request(req, p, resize, &werr);
    if (!text) {
        daemon_log("pool %s: its settings cannot be kept: %s", p->image, werr.msg);
        return 0;
    }
    free(p->request);
    p->request = text;
    if (store && store_record(d, p, &werr) < 0)
        daemon_log("pool %s: not stored (it will not be restored): %s", p->image, werr.msg);
    return 0;
}

/* "name:tag" of ref, or -1. */
static int normalize(const char *ref, char *out, size_t cap, wr_error *err)
{
    cleanup_free char *name = NULL, *tag = NULL;
    if (wr_image_ref_parse(ref, &name, &tag, err) < 0)
        return -1;
    int n = snprintf(out, cap, "%s:%s", name, tag);
    if (n < 0 || (size_t)n >= cap)
        return wr_error_set(err, ENAMETOOLONG, "image reference %.60s", ref);
    return 0;
}

int daemon_pool_forget(struct daemon *d, const char *ref, wr_error *err)
{
    char image[WR_IMAGE_REF_MAX + 1], name[NAME_MAX + 1];
    bool unlinked = false;
    wr_error ignored;
    /* The record goes even without a pool: one that could not be restored
     * (its image is gone) is removed the same way. */
    if (normalize(ref, image, sizeof image, &ignored) == 0 &&
        record_name(image, name, sizeof name) == 0) {
        cleanup_close int dirfd = open_owner_dir(d, false, &ignored);
        if (dirfd >= 0 && unlinkat(dirfd, name, 0) == 0)
            unlinked = true;
        else if (dirfd >= 0 && errno != ENOENT)
            daemon_log("pool %s: its record stays: %s", image, strerror(errno));
    }
    if (daemon_pool_remove(d, ref, err) < 0)
        return unlinked && err->errnum == ENOENT ? 0 : -1;
    daemon_ports_save(d); /* its ports are free for cold starts */
    return 0;
}

char *daemon_record_read(int dirfd, const char *name, size_t *len, wr_error *err)
{
    struct stat st;
    cleanup_close int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return wr_error_set(err, errno, "open"), NULL;
    if (fstat(fd, &st) < 0)
        return wr_error_set(err, errno, "fstat"), NULL;
    if (!S_ISREG(st.st_mode) || st.st_uid != 0 || (st.st_mode & 022))
        return wr_error_set(err, EPERM, "not a regular file owned and written by root only"), NULL;
    if (st.st_size > WR_API_MSG_MAX)
        return wr_error_set(err, EFBIG, "larger than %d bytes", WR_API_MSG_MAX), NULL;
    char *text = malloc((size_t)st.st_size + 1);
    if (!text)
        return wr_error_set(err, ENOMEM, "read"), NULL;
    ssize_t n = read(fd, text, (size_t)st.st_size + 1);
    if (n < 0 || n > st.st_size) {
        free(text);
        return wr_error_set(err, n < 0 ? errno : EFBIG, "read"), NULL;
    }
    text[n] = '\0';
    *len = (size_t)n;
    return text;
}

/* One record: parsed as a client's request would be, and only for the
 * pool its file name says. */
static int restore_one(struct daemon *d, int dirfd, const char *name, wr_error *err)
{
    size_t len;
    cleanup_free char *text = daemon_record_read(dirfd, name, &len, err);
    if (!text)
        return -1;
    struct wr_request req;
    if (wr_request_parse(text, len, &req, err) < 0)
        return -1;
    char expected[NAME_MAX + 1], image[WR_IMAGE_REF_MAX + 1];
    int rc = -1;
    if (req.op != WR_OP_POOL_CREATE)
        wr_error_set(err, 0, "not a pool_create request");
    else if (normalize(req.image, image, sizeof image, err) < 0)
        ;
    else if (record_name(image, expected, sizeof expected) < 0 || strcmp(expected, name) != 0)
        wr_error_set(err, 0, "its request is for image %.100s", req.image);
    else
        rc = daemon_pool_apply(d, &req, false, err);
    wr_request_free(&req);
    return rc;
}

/* The directory is this daemon's (not another's whose state directory
 * hashes the same) and nobody but root could have written in it. */
static int check_owner(int dirfd, struct daemon *d, wr_error *err)
{
    char dir[PATH_MAX], owner[PATH_MAX];
    struct stat st;
    if (owner_dir(d, dir, sizeof dir, owner, sizeof owner, err) < 0)
        return -1;
    if (fstat(dirfd, &st) < 0 || st.st_uid != 0 || (st.st_mode & 022))
        return wr_error_set(err, EPERM, "%s: not a directory written by root only", dir);
    size_t len;
    cleanup_free char *text = daemon_record_read(dirfd, "state_dir", &len, err);
    if (!text)
        return wr_error_prefix(err, "%s/state_dir", dir);
    if (len == 0 || text[len - 1] != '\n' || strncmp(text, owner, len - 1) != 0 ||
        owner[len - 1] != '\0')
        return wr_error_set(err, EPERM, "%s belongs to another state directory", dir);
    return 0;
}

void daemon_pools_restore(struct daemon *d)
{
    wr_error err;
    int fd = open_owner_dir(d, false, &err);
    if (fd < 0) {
        if (err.errnum != ENOENT)
            daemon_log("stored pools not restored: %s", err.msg);
        return;
    }
    cleanup_closedir DIR *dp = fdopendir(fd);
    if (!dp) {
        close(fd);
        daemon_log("stored pools not restored: fdopendir: %s", strerror(errno));
        return;
    }
    if (check_owner(dirfd(dp), d, &err) < 0) {
        daemon_log("stored pools not restored: %s", err.msg);
        return;
    }
    struct dirent *de;
    size_t restored = 0, skipped = 0;
    while ((de = readdir(dp))) {
        size_t n = strlen(de->d_name);
        if (de->d_name[0] == '.' || n <= strlen(RECORD_SUFFIX) ||
            strcmp(de->d_name + n - strlen(RECORD_SUFFIX), RECORD_SUFFIX) != 0)
            continue;
        if (restore_one(d, dirfd(dp), de->d_name, &err) < 0) {
            daemon_log("stored pool %.200s: skipped: %s", de->d_name, err.msg);
            skipped++;
        } else {
            restored++;
        }
    }
    if (restored || skipped)
        daemon_log("stored pools: %zu restored, %zu skipped", restored, skipped);
}

int daemon_pool_image_updated(struct daemon *d, const char *ref, struct pool **rolled,
                              wr_error *err)
{
    struct pool *p = daemon_find_pool(d, ref);
    *rolled = NULL;
    if (!p)
        return 0;
    cleanup_image struct wr_image *img = NULL;
    if (wr_image_load(d->g->root, p->image, &img, err) < 0)
        return -1;
    if (strcmp(img->id, p->img->id) == 0 && strcmp(img->lowerdir, p->img->lowerdir) == 0)
        return 0;
    struct wr_request kept = {0};
    if (p->request && wr_request_parse(p->request, strlen(p->request), &kept, err) < 0)
        return -1;
    int rc = daemon_pool_set_image(d, p, img, kept.security, err);
    wr_request_free(&kept);
    if (rc < 0)
        return -1;
    img = NULL; /* the pool's now */
    *rolled = p;
    return 0;
}
